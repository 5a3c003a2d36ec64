//! Boot services softpxe calls directly through the raw table (`uefi-raw`), wrapped so the rest of
//! the crate stays safe: handle lookup, protocol open/close/install, events, TPL, pages, device
//! paths, image load/start and reset.
//!
//! Unsafe: calls through the firmware's boot services table with pointers to locals or to
//! interfaces the firmware handed out; device-path walks over firmware memory, bounded.
#![allow(unsafe_code)]

use alloc::vec::Vec;
use core::ffi::c_void;
use core::ptr::{self, NonNull};
use uefi_raw::table::boot::{
    AllocateType, BootServices, EventNotifyFn, EventType, InterfaceType, MemoryType, Tpl,
};
use uefi_raw::{Event, Guid, Handle, Status};

/// `EFI_DEVICE_PATH_PROTOCOL_GUID`.
pub(crate) const DEVICE_PATH_GUID: Guid = uefi_raw::protocol::device_path::DevicePathProtocol::GUID;
/// `EFI_LOAD_FILE_PROTOCOL_GUID`.
pub(crate) const LOAD_FILE_GUID: Guid = uefi_raw::guid!("56ec3091-954c-11d2-8e3f-00a0c969723b");

const BY_HANDLE: u32 = 0x01;
const GET_PROTOCOL: u32 = 0x02;
const BY_CHILD_CONTROLLER: u32 = 0x08;
const BY_DRIVER: u32 = 0x10;
const EXCLUSIVE: u32 = 0x20;
const _: u32 = BY_HANDLE;

/// Longest device path softpxe reads (a PCI NIC's is under 100 bytes).
const MAX_DEVICE_PATH: usize = 1024;

fn bs() -> &'static BootServices {
    let st = uefi::table::system_table_raw().expect("softpxe: no EFI system table");
    // SAFETY: the system table was set by the entry point and its boot services table stays
    // valid until ExitBootServices completes; softpxe runs only before then (its
    // ExitBootServices notification runs during the call, while the table is still valid).
    unsafe { &*(*st.as_ptr()).boot_services }
}

fn image() -> Handle {
    uefi::boot::image_handle().as_ptr()
}

fn check(st: Status) -> Result<(), Status> {
    if st.is_error() {
        Err(st)
    } else {
        Ok(())
    }
}

/// Every handle carrying `guid`.
pub(crate) fn locate(guid: &Guid) -> Vec<Handle> {
    let mut count = 0usize;
    let mut buf: *mut Handle = ptr::null_mut();
    // SAFETY: ByProtocol (2) search with out-parameters on the stack.
    let st = unsafe { (bs().locate_handle_buffer)(2, guid, ptr::null(), &mut count, &mut buf) };
    if st.is_error() || buf.is_null() {
        return Vec::new();
    }
    // SAFETY: the firmware returned `count` handles at `buf`, pool memory we now own.
    let v = unsafe { core::slice::from_raw_parts(buf, count) }.to_vec();
    // SAFETY: freeing the pool buffer locate_handle_buffer allocated for us.
    let _ = unsafe { (bs().free_pool)(buf.cast()) };
    v
}

/// The interface of `guid` on `handle`, without taking it (GET_PROTOCOL).
pub(crate) fn get_protocol(handle: Handle, guid: &Guid) -> Option<NonNull<c_void>> {
    let mut p: *mut c_void = ptr::null_mut();
    // SAFETY: out-parameter on the stack; GET_PROTOCOL needs no controller.
    let st = unsafe {
        (bs().open_protocol)(handle, guid, &mut p, image(), ptr::null_mut(), GET_PROTOCOL)
    };
    if st.is_error() {
        None
    } else {
        NonNull::new(p)
    }
}

/// Opens `guid` on `handle` BY_DRIVER (with EXCLUSIVE: disconnecting every other driver that
/// holds it), softpxe's image as agent and `handle` as controller.
pub(crate) fn open_by_driver(
    handle: Handle,
    guid: &Guid,
    exclusive: bool,
) -> Result<NonNull<c_void>, Status> {
    let mut p: *mut c_void = ptr::null_mut();
    let attrs = BY_DRIVER | if exclusive { EXCLUSIVE } else { 0 };
    // SAFETY: out-parameter on the stack; valid handles.
    let st = unsafe { (bs().open_protocol)(handle, guid, &mut p, image(), handle, attrs) };
    check(st)?;
    NonNull::new(p).ok_or(Status::NOT_FOUND)
}

/// Records `child` as a child controller of `handle` (opens `guid` BY_CHILD_CONTROLLER).
pub(crate) fn open_by_child(handle: Handle, guid: &Guid, child: Handle) -> Result<(), Status> {
    let mut p: *mut c_void = ptr::null_mut();
    // SAFETY: out-parameter on the stack; valid handles.
    check(unsafe {
        (bs().open_protocol)(handle, guid, &mut p, image(), child, BY_CHILD_CONTROLLER)
    })
}

/// Closes what softpxe opened on `handle` for `controller`.
pub(crate) fn close_protocol(
    handle: Handle,
    guid: &Guid,
    controller: Handle,
) -> Result<(), Status> {
    // SAFETY: plain handles and a GUID reference.
    check(unsafe { (bs().close_protocol)(handle, guid, image(), controller) })
}

/// Installs `iface` for `guid` on `handle` (a new handle when null); returns the handle.
///
/// The interface must stay valid until [`uninstall`] succeeds.
pub(crate) fn install(handle: Handle, guid: &Guid, iface: *const c_void) -> Result<Handle, Status> {
    let mut h = handle;
    // SAFETY: the caller keeps `iface` alive while installed (leaked boxes in `port`).
    check(unsafe {
        (bs().install_protocol_interface)(&mut h, guid, InterfaceType::NATIVE_INTERFACE, iface)
    })?;
    Ok(h)
}

/// Uninstalls `iface` of `guid` from `handle` (fails while a driver still holds it).
pub(crate) fn uninstall(handle: Handle, guid: &Guid, iface: *const c_void) -> Result<(), Status> {
    // SAFETY: plain arguments.
    check(unsafe { (bs().uninstall_protocol_interface)(handle, guid, iface) })
}

/// ConnectController(handle, NULL, NULL, recursive).
pub(crate) fn connect(handle: Handle, recursive: bool) -> Result<(), Status> {
    // SAFETY: null driver list and remaining path are allowed.
    check(unsafe { (bs().connect_controller)(handle, ptr::null(), ptr::null(), recursive.into()) })
}

/// DisconnectController(handle, NULL, NULL): every driver, every child.
pub(crate) fn disconnect(handle: Handle) -> Result<(), Status> {
    // SAFETY: plain arguments.
    check(unsafe { (bs().disconnect_controller)(handle, ptr::null_mut(), ptr::null_mut()) })
}

/// The device path on `handle` as bytes, end node included; `None` if it has none or it is
/// malformed (a node shorter than 4 bytes, or no end node within [`MAX_DEVICE_PATH`]).
pub(crate) fn device_path(handle: Handle) -> Option<Vec<u8>> {
    let p = get_protocol(handle, &DEVICE_PATH_GUID)?
        .cast::<u8>()
        .as_ptr();
    let mut at = 0usize;
    while at + 4 <= MAX_DEVICE_PATH {
        // SAFETY: a device path is a sequence of nodes, each starting with a 4-byte header
        // (type, subtype, u16 length); we read headers only up to the end node, at most
        // MAX_DEVICE_PATH bytes in.
        let (ty, sub, len) = unsafe {
            let h = p.add(at);
            (*h, *h.add(1), u16::from_le_bytes([*h.add(2), *h.add(3)]))
        };
        let len = usize::from(len);
        if len < 4 {
            return None;
        }
        if ty == 0x7F && sub == 0xFF {
            // SAFETY: every byte up to and including the end node was walked above.
            return Some(unsafe { core::slice::from_raw_parts(p, at + 4) }.to_vec());
        }
        at += len;
    }
    None
}

/// Creates an event; `ctx` is handed to `notify`.
pub(crate) fn create_event(
    ty: EventType,
    tpl: Tpl,
    notify: EventNotifyFn,
    ctx: *mut c_void,
) -> Result<Event, Status> {
    let mut ev: Event = ptr::null_mut();
    // SAFETY: out-parameter on the stack; `notify` is an efiapi function of ours and the
    // caller keeps `ctx` alive until the event is closed.
    check(unsafe { (bs().create_event)(ty, tpl, Some(notify), ctx, &mut ev) })?;
    Ok(ev)
}

/// Signals an event.
pub(crate) fn signal_event(ev: Event) {
    // SAFETY: an event we created.
    let _ = unsafe { (bs().signal_event)(ev) };
}

/// Closes an event.
pub(crate) fn close_event(ev: Event) {
    // SAFETY: an event we created, not used afterwards.
    let _ = unsafe { (bs().close_event)(ev) };
}

/// Raises the task priority level; give the result to [`restore_tpl`].
pub(crate) fn raise_tpl(tpl: Tpl) -> Tpl {
    // SAFETY: raising is always allowed at or below the current level's rules; callers
    // restore it before returning.
    unsafe { (bs().raise_tpl)(tpl) }
}

/// Restores a level [`raise_tpl`] returned.
pub(crate) fn restore_tpl(old: Tpl) {
    // SAFETY: `old` came from raise_tpl.
    unsafe { (bs().restore_tpl)(old) }
}

/// Busy-waits `us` microseconds.
pub(crate) fn stall(us: usize) {
    // SAFETY: plain argument.
    let _ = unsafe { (bs().stall)(us) };
}

/// `pages` zeroed 4 KiB pages below 4 GiB (EfiBootServicesData); their physical address.
pub(crate) fn alloc_pages_below_4g(pages: usize) -> Option<u64> {
    let mut addr: u64 = 0xFFFF_FFFF;
    // SAFETY: out-parameter on the stack.
    let st = unsafe {
        (bs().allocate_pages)(
            AllocateType::MAX_ADDRESS,
            MemoryType::BOOT_SERVICES_DATA,
            pages,
            &mut addr,
        )
    };
    if st.is_error() {
        return None;
    }
    // SAFETY: the pages were just allocated for us; identity-mapped.
    unsafe { ptr::write_bytes(addr as usize as *mut u8, 0, pages * 4096) };
    Some(addr)
}

/// LoadImage with BootPolicy TRUE from a device path (the firmware calls LoadFile on the
/// handle the path leads to).
pub(crate) fn load_image_from(path: &[u8]) -> Result<Handle, Status> {
    let mut h: Handle = ptr::null_mut();
    // SAFETY: `path` is a complete device path (ends in an end node) that outlives the call.
    check(unsafe {
        (bs().load_image)(
            true.into(),
            image(),
            path.as_ptr().cast(),
            ptr::null(),
            0,
            &mut h,
        )
    })?;
    Ok(h)
}

/// StartImage; the image's exit status.
pub(crate) fn start_image(h: Handle) -> Status {
    // SAFETY: a handle load_image returned; exit data not wanted.
    unsafe { (bs().start_image)(h, ptr::null_mut(), ptr::null_mut()) }
}

/// Who has `guid` open on `handle`: (agent, controller, attributes) of each entry.
pub(crate) fn open_info(handle: Handle, guid: &Guid) -> Vec<(Handle, Handle, u32)> {
    let mut buf: *mut uefi_raw::table::boot::OpenProtocolInformationEntry = ptr::null_mut();
    let mut n = 0usize;
    // SAFETY: out-parameters on the stack.
    let st = unsafe { (bs().open_protocol_information)(handle, guid, &mut buf, &mut n) };
    if st.is_error() || buf.is_null() {
        return Vec::new();
    }
    // SAFETY: the firmware returned `n` entries at `buf`, pool memory we now own.
    let v = unsafe { core::slice::from_raw_parts(buf, n) }
        .iter()
        .map(|e| (e.agent_handle, e.controller_handle, e.attributes))
        .collect();
    // SAFETY: freeing the pool buffer the firmware allocated for us.
    let _ = unsafe { (bs().free_pool)(buf.cast()) };
    v
}

/// Shuts down and stops the SNP on `handle` (another driver's), so that its driver can be
/// disconnected: drivers such as OVMF's VirtioNetDxe refuse to stop a started SNP.
pub(crate) fn stop_foreign_snp(handle: Handle) {
    use uefi_raw::protocol::network::snp::SimpleNetworkProtocol;
    let Some(p) = get_protocol(handle, &SimpleNetworkProtocol::GUID) else {
        return;
    };
    let snp = p.cast::<SimpleNetworkProtocol>().as_ptr();
    // SAFETY: the firmware's SNP instance on `handle`, called with itself as `this`; errors
    // (already stopped) are harmless.
    unsafe {
        let _ = ((*snp).shutdown)(snp);
        let _ = ((*snp).stop)(snp);
    }
}

/// SetWatchdogTimer(seconds) with softpxe's code (0 turns the watchdog off).
pub(crate) fn set_watchdog(seconds: usize) {
    // SAFETY: plain arguments; no watchdog data.
    let _ = unsafe { (bs().set_watchdog_timer)(seconds, 0x10000, 0, ptr::null()) };
}
