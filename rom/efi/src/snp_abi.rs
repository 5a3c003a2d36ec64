//! The SNP protocol table softpxe installs, and the `efiapi` functions behind it: each checks
//! the firmware's pointers, turns them into plain values and slices, and calls [`SnpCore`].
//!
//! Unsafe: `this` pointers from the firmware are cast back to the [`SnpDevice`] that starts with
//! the table; caller buffers are read and written within the sizes the caller gave.
//! Every call raises the TPL to NOTIFY and takes a busy flag, so [`SnpCore`] is only ever reached
//! through one `&mut` at a time (a re-entrant call answers NOT_READY).
#![allow(unsafe_code)]

use crate::ffi;
use crate::snp::{SnpCore, HEADER, N_STATS};
use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};
use softpxe_drivers::MAX_FRAME_LEN;
use uefi_raw::protocol::network::snp::{
    InterruptStatus, NetworkStatistics, ReceiveFlags, SimpleNetworkProtocol,
};
use uefi_raw::table::boot::{EventType, Tpl};
use uefi_raw::{Boolean, Event, IpAddress, MacAddress, Status};

/// EFI_SIMPLE_NETWORK_PROTOCOL_REVISION.
const REVISION: u64 = 0x0001_0000;

/// The installed interface: the protocol table first (so `this` is the device), then state.
#[repr(C)]
pub struct SnpDevice {
    pub snp: SimpleNetworkProtocol,
    busy: AtomicBool,
    core: UnsafeCell<SnpCore>,
    exit_event: Event,
}

impl SnpDevice {
    /// A device around `core`, with its WaitForPacket and ExitBootServices events; leaked (its
    /// address is what the firmware holds), freed by [`SnpDevice::free`].
    pub fn create(core: SnpCore) -> Result<*mut SnpDevice, Status> {
        let dev = Box::into_raw(Box::new(SnpDevice {
            snp: SimpleNetworkProtocol {
                revision: REVISION,
                start,
                stop,
                initialize,
                reset,
                shutdown,
                receive_filters,
                station_address,
                statistics,
                multicast_ip_to_mac,
                non_volatile_data,
                get_status,
                transmit,
                receive,
                wait_for_packet: ptr::null_mut(),
                mode: ptr::null(),
            },
            busy: AtomicBool::new(false),
            core: UnsafeCell::new(core),
            exit_event: ptr::null_mut(),
        }));
        // SAFETY: `dev` was just allocated and is not shared yet.
        let d = unsafe { &mut *dev };
        d.snp.mode = ptr::addr_of!(d.core.get_mut().mode);
        let ctx = dev.cast::<c_void>();
        let wait = ffi::create_event(EventType::NOTIFY_WAIT, Tpl::NOTIFY, wait_notify, ctx);
        let exit = ffi::create_event(
            EventType::SIGNAL_EXIT_BOOT_SERVICES,
            Tpl::NOTIFY,
            exit_notify,
            ctx,
        );
        match (wait, exit) {
            (Ok(w), Ok(e)) => {
                d.snp.wait_for_packet = w;
                d.exit_event = e;
                Ok(dev)
            }
            (w, e) => {
                for ev in [w, e].into_iter().flatten() {
                    ffi::close_event(ev);
                }
                // SAFETY: nothing else knows `dev` yet.
                drop(unsafe { Box::from_raw(dev) });
                Err(Status::OUT_OF_RESOURCES)
            }
        }
    }

    /// Closes the events and frees the device, giving its core back.
    ///
    /// # Safety
    /// `dev` came from [`SnpDevice::create`] and is no longer installed anywhere.
    pub unsafe fn free(dev: *mut SnpDevice) -> SnpCore {
        // SAFETY: the caller's contract: we own `dev` again.
        let d = unsafe { Box::from_raw(dev) };
        ffi::close_event(d.snp.wait_for_packet);
        ffi::close_event(d.exit_event);
        d.core.into_inner()
    }

    /// Runs `f` on the core of an installed device (softpxe's own use: claim, release).
    ///
    /// # Safety
    /// `dev` came from [`SnpDevice::create`] and has not been freed.
    pub unsafe fn with<R>(dev: *mut SnpDevice, f: impl FnOnce(&mut SnpCore) -> R) -> Option<R> {
        with_dev(dev.cast_const().cast(), f)
    }
}

/// Frees a device [`SnpDevice::create`] made once it is not (or no longer) installed, and stops
/// its NIC. `dev` pointers exist only in `port::Port`, which calls this after a successful
/// uninstall or a failed install.
pub(crate) fn free_uninstalled(dev: *mut SnpDevice) {
    // SAFETY: see above: the firmware no longer holds `dev`, and `Port` drops its copy.
    let mut core = unsafe { SnpDevice::free(dev) };
    core.quiesce();
}

/// Runs `f` on the device behind `this` at TPL_NOTIFY; `None` when `this` is null or the device
/// is busy (a re-entrant call).
fn with_dev<R>(this: *const SimpleNetworkProtocol, f: impl FnOnce(&mut SnpCore) -> R) -> Option<R> {
    if this.is_null() {
        return None;
    }
    // SAFETY: every SNP interface softpxe installs is the first field of a live SnpDevice
    // (repr(C)); the firmware passes it back as `this`.
    let dev = unsafe { &*this.cast::<SnpDevice>() };
    let old = ffi::raise_tpl(Tpl::NOTIFY);
    let r = if dev.busy.swap(true, Ordering::Acquire) {
        None
    } else {
        // SAFETY: the busy flag makes this the only reference to the core until it is cleared.
        let r = f(unsafe { &mut *dev.core.get() });
        dev.busy.store(false, Ordering::Release);
        Some(r)
    };
    ffi::restore_tpl(old);
    r
}

fn status(r: Option<Result<(), Status>>) -> Status {
    match r {
        None => Status::NOT_READY,
        Some(Ok(())) => Status::SUCCESS,
        Some(Err(s)) => s,
    }
}

unsafe extern "efiapi" fn start(this: *const SimpleNetworkProtocol) -> Status {
    status(with_dev(this, |c| c.start()))
}

unsafe extern "efiapi" fn stop(this: *const SimpleNetworkProtocol) -> Status {
    status(with_dev(this, |c| c.stop()))
}

unsafe extern "efiapi" fn initialize(
    this: *const SimpleNetworkProtocol,
    _extra_rx: usize,
    _extra_tx: usize,
) -> Status {
    status(with_dev(this, |c| c.initialize()))
}

unsafe extern "efiapi" fn reset(this: *const SimpleNetworkProtocol, _ext: Boolean) -> Status {
    status(with_dev(this, |c| c.reset()))
}

unsafe extern "efiapi" fn shutdown(this: *const SimpleNetworkProtocol) -> Status {
    status(with_dev(this, |c| c.shutdown()))
}

unsafe extern "efiapi" fn receive_filters(
    this: *const SimpleNetworkProtocol,
    enable: ReceiveFlags,
    disable: ReceiveFlags,
    reset_mcast: Boolean,
    count: usize,
    list: *const MacAddress,
) -> Status {
    let reset_mcast = bool::from(reset_mcast);
    let mut macs = [[0u8; 6]; 16];
    let mut n = 0;
    if !reset_mcast && count > 0 {
        if list.is_null() || count > macs.len() {
            return Status::INVALID_PARAMETER;
        }
        for (i, m) in macs.iter_mut().enumerate().take(count) {
            // SAFETY: the caller passes `count` MAC addresses at `list` (count checked <= 16).
            let a = unsafe { ptr::read_unaligned(list.add(i)) };
            m.copy_from_slice(&a.0[..6]);
        }
        n = count;
    }
    let l = (n > 0).then_some(&macs[..n]);
    status(with_dev(this, |c| {
        c.receive_filters(enable.bits(), disable.bits(), reset_mcast, l)
    }))
}

unsafe extern "efiapi" fn station_address(
    this: *const SimpleNetworkProtocol,
    reset: Boolean,
    new: *const MacAddress,
) -> Status {
    let reset = bool::from(reset);
    let mac = if reset || new.is_null() {
        None
    } else {
        // SAFETY: a non-null pointer to one MAC address from the caller.
        let a = unsafe { ptr::read_unaligned(new) };
        Some(<[u8; 6]>::from(a))
    };
    if !reset && mac.is_none() {
        return Status::INVALID_PARAMETER;
    }
    status(with_dev(this, |c| c.station_address(reset, mac)))
}

unsafe extern "efiapi" fn statistics(
    this: *const SimpleNetworkProtocol,
    reset: Boolean,
    size: *mut usize,
    table: *mut NetworkStatistics,
) -> Status {
    let reset = bool::from(reset);
    if size.is_null() && (!table.is_null() || !reset) {
        return Status::INVALID_PARAMETER;
    }
    let stats = match with_dev(this, |c| c.statistics(reset)) {
        None => return Status::NOT_READY,
        Some(Err(s)) => return s,
        Some(Ok(s)) => s,
    };
    if size.is_null() {
        return Status::SUCCESS;
    }
    let need = N_STATS * 8;
    // SAFETY: non-null in/out size from the caller.
    let have = unsafe { *size };
    if !table.is_null() {
        let n = have.min(need);
        // SAFETY: the caller's table holds `have` bytes; we copy at most that many.
        unsafe { ptr::copy_nonoverlapping(stats.as_ptr().cast::<u8>(), table.cast::<u8>(), n) };
    }
    // SAFETY: as above.
    unsafe { *size = need };
    if have < need {
        Status::BUFFER_TOO_SMALL
    } else {
        Status::SUCCESS
    }
}

unsafe extern "efiapi" fn multicast_ip_to_mac(
    this: *const SimpleNetworkProtocol,
    ipv6: Boolean,
    ip: *const IpAddress,
    mac: *mut MacAddress,
) -> Status {
    if ip.is_null() || mac.is_null() {
        return Status::INVALID_PARAMETER;
    }
    // SAFETY: EFI_IP_ADDRESS is 16 bytes; the caller passes one.
    let bytes: [u8; 16] = unsafe { ptr::read_unaligned(ip.cast::<[u8; 16]>()) };
    match with_dev(this, |c| c.mcast_ip_to_mac(ipv6.into(), &bytes)) {
        None => Status::NOT_READY,
        Some(Err(s)) => s,
        Some(Ok(m)) => {
            // SAFETY: the caller's MAC address buffer (32 bytes).
            unsafe { ptr::write_unaligned(mac, MacAddress::from(m)) };
            Status::SUCCESS
        }
    }
}

unsafe extern "efiapi" fn non_volatile_data(
    this: *const SimpleNetworkProtocol,
    _read: Boolean,
    _offset: usize,
    _size: usize,
    _buffer: *mut c_void,
) -> Status {
    status(with_dev(this, |c| c.nv_data()))
}

unsafe extern "efiapi" fn get_status(
    this: *const SimpleNetworkProtocol,
    irq: *mut InterruptStatus,
    tx_buf: *mut *mut c_void,
) -> Status {
    match with_dev(this, |c| c.get_status(!irq.is_null(), !tx_buf.is_null())) {
        None => Status::NOT_READY,
        Some(Err(s)) => s,
        Some(Ok((bits, buf))) => {
            if !irq.is_null() {
                // SAFETY: the caller's out-parameter.
                unsafe { *irq = InterruptStatus::from_bits_retain(bits) };
            }
            if !tx_buf.is_null() {
                // SAFETY: the caller's out-parameter; `buf` is an address it gave Transmit.
                unsafe { *tx_buf = buf as *mut c_void };
            }
            Status::SUCCESS
        }
    }
}

unsafe extern "efiapi" fn transmit(
    this: *const SimpleNetworkProtocol,
    header_size: usize,
    buffer_size: usize,
    buffer: *const c_void,
    src: *const MacAddress,
    dst: *const MacAddress,
    protocol: *const u16,
) -> Status {
    if buffer.is_null() || buffer_size > MAX_FRAME_LEN {
        return Status::INVALID_PARAMETER;
    }
    let header = if header_size != 0 {
        if header_size != HEADER || dst.is_null() || protocol.is_null() {
            return Status::INVALID_PARAMETER;
        }
        // SAFETY: non-null caller pointers to a MAC address and a u16.
        let (d, p) = unsafe { (ptr::read_unaligned(dst), ptr::read_unaligned(protocol)) };
        let s = (!src.is_null()).then(|| {
            // SAFETY: non-null caller pointer to a MAC address.
            <[u8; 6]>::from(unsafe { ptr::read_unaligned(src) })
        });
        Some((<[u8; 6]>::from(d), s, p))
    } else {
        None
    };
    // SAFETY: the caller's frame of `buffer_size` bytes (checked <= MAX_FRAME_LEN above).
    let frame = unsafe { core::slice::from_raw_parts(buffer.cast::<u8>(), buffer_size) };
    status(with_dev(this, |c| {
        c.transmit(frame, buffer as usize, header)
    }))
}

unsafe extern "efiapi" fn receive(
    this: *const SimpleNetworkProtocol,
    header_size: *mut usize,
    buffer_size: *mut usize,
    buffer: *mut c_void,
    src: *mut MacAddress,
    dst: *mut MacAddress,
    protocol: *mut u16,
) -> Status {
    if buffer_size.is_null() || buffer.is_null() {
        return Status::INVALID_PARAMETER;
    }
    // SAFETY: non-null in/out size; the caller's buffer holds that many bytes, of which we use
    // at most MAX_FRAME_LEN.
    let out = unsafe {
        core::slice::from_raw_parts_mut(buffer.cast::<u8>(), (*buffer_size).min(MAX_FRAME_LEN))
    };
    match with_dev(this, |c| c.receive(out)) {
        None => Status::NOT_READY,
        Some(Err((s, need))) => {
            if s == Status::BUFFER_TOO_SMALL {
                // SAFETY: the caller's in/out size.
                unsafe { *buffer_size = need };
            }
            s
        }
        Some(Ok(rx)) => {
            // SAFETY: each out-parameter is written only when the caller passed it.
            unsafe {
                *buffer_size = rx.len;
                if !header_size.is_null() {
                    *header_size = HEADER;
                }
                if !src.is_null() {
                    ptr::write_unaligned(src, MacAddress::from(rx.src));
                }
                if !dst.is_null() {
                    ptr::write_unaligned(dst, MacAddress::from(rx.dst));
                }
                if !protocol.is_null() {
                    ptr::write_unaligned(protocol, rx.protocol);
                }
            }
            Status::SUCCESS
        }
    }
}

/// WaitForPacket's notification: signals the event when a frame is waiting.
unsafe extern "efiapi" fn wait_notify(event: Event, ctx: *mut c_void) {
    if with_dev(ctx.cast_const().cast(), |c| c.frame_waiting()) == Some(true) {
        ffi::signal_event(event);
    }
}

/// ExitBootServices: no DMA may reach memory the OS now owns.
unsafe extern "efiapi" fn exit_notify(_event: Event, ctx: *mut c_void) {
    let _ = with_dev(ctx.cast_const().cast(), |c| c.quiesce());
}
