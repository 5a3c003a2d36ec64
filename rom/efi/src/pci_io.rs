//! EFI_PCI_IO_PROTOCOL (UEFI 2.10 §14.4), which `uefi-raw` does not define: the table layout and
//! a small safe wrapper for what softpxe needs (configuration space, location, attributes).
//!
//! Unsafe: the table comes from the firmware; its function pointers are called with the table
//! itself as `This`, as the ABI requires.
#![allow(unsafe_code)]

use core::ffi::c_void;
use core::ptr::NonNull;
use uefi_raw::{guid, Guid, Status};

/// `EFI_PCI_IO_PROTOCOL_GUID`.
pub const GUID: Guid = guid!("4cf5b200-68b8-4ca5-9eec-b23e3f50029a");

/// `EFI_PCI_IO_ATTRIBUTE_IO`: I/O space decoding.
pub const ATTR_IO: u64 = 0x0100;
/// `EFI_PCI_IO_ATTRIBUTE_MEMORY`: memory space decoding.
pub const ATTR_MEMORY: u64 = 0x0200;
/// `EFI_PCI_IO_ATTRIBUTE_BUS_MASTER`.
pub const ATTR_BUS_MASTER: u64 = 0x0400;

/// `EFI_PCI_IO_PROTOCOL_ATTRIBUTE_OPERATION`.
const OP_GET: u32 = 0;
const OP_ENABLE: u32 = 2;
const OP_SUPPORTED: u32 = 4;

type ConfigFn = unsafe extern "efiapi" fn(
    this: *mut PciIoProtocol,
    width: u32,
    offset: u32,
    count: usize,
    buffer: *mut c_void,
) -> Status;

/// The protocol table. Members softpxe never calls are kept as opaque pointers so the layout
/// matches.
#[repr(C)]
pub struct PciIoProtocol {
    poll_mem: *const c_void,
    poll_io: *const c_void,
    mem_read: *const c_void,
    mem_write: *const c_void,
    io_read: *const c_void,
    io_write: *const c_void,
    pci_read: ConfigFn,
    pci_write: ConfigFn,
    copy_mem: *const c_void,
    map: *const c_void,
    unmap: *const c_void,
    allocate_buffer: *const c_void,
    free_buffer: *const c_void,
    flush: *const c_void,
    get_location: unsafe extern "efiapi" fn(
        this: *mut PciIoProtocol,
        segment: *mut usize,
        bus: *mut usize,
        device: *mut usize,
        function: *mut usize,
    ) -> Status,
    attributes: unsafe extern "efiapi" fn(
        this: *mut PciIoProtocol,
        operation: u32,
        attributes: u64,
        result: *mut u64,
    ) -> Status,
    get_bar_attributes: *const c_void,
    set_bar_attributes: *const c_void,
    rom_size: u64,
    rom_image: *const c_void,
}

/// A PCI function's PCI I/O protocol instance, as found on its handle.
#[derive(Clone, Copy, Debug)]
pub struct PciIo {
    proto: NonNull<PciIoProtocol>,
}

/// The PCI I/O instance on `handle`, if it has one.
pub fn on_handle(handle: uefi_raw::Handle) -> Option<PciIo> {
    let p = crate::ffi::get_protocol(handle, &GUID)?;
    // SAFETY: the firmware returned it for PCI I/O's GUID; PCI I/O instances stay installed
    // for as long as their PCI function exists (boot services time).
    Some(unsafe { PciIo::from_raw(p) })
}

impl PciIo {
    /// Wraps the interface pointer the firmware returned for [`GUID`].
    ///
    /// # Safety
    /// `ptr` must be a PCI I/O protocol interface that stays installed while this value is used.
    pub unsafe fn from_raw(ptr: NonNull<c_void>) -> Self {
        Self { proto: ptr.cast() }
    }

    fn config(&self, write: bool, width: u32, offset: u8, value: &mut u32) -> Status {
        let this = self.proto.as_ptr();
        // SAFETY: `this` is a live PCI I/O instance (from_raw's contract); the buffer is a
        // local u32, large enough for one access of any of the widths 0..=2 (little-endian, so
        // narrower accesses use its low bytes).
        unsafe {
            let f = if write {
                (*this).pci_write
            } else {
                (*this).pci_read
            };
            f(
                this,
                width,
                u32::from(offset),
                1,
                (value as *mut u32).cast(),
            )
        }
    }

    /// Reads configuration space: `width` 0 = 8, 1 = 16, 2 = 32 bits. All ones on error.
    pub fn cfg_read(&self, width: u32, offset: u8) -> u32 {
        let mut v = 0u32;
        if self.config(false, width, offset, &mut v).is_error() {
            return u32::MAX;
        }
        match width {
            0 => v & 0xFF,
            1 => v & 0xFFFF,
            _ => v,
        }
    }

    /// Writes configuration space (`width` as in [`PciIo::cfg_read`]).
    pub fn cfg_write(&self, width: u32, offset: u8, value: u32) {
        let mut v = value;
        let _ = self.config(true, width, offset, &mut v);
    }

    /// Segment, bus, device, function.
    pub fn location(&self) -> Option<(usize, usize, usize, usize)> {
        let (mut s, mut b, mut d, mut f) = (0, 0, 0, 0);
        let this = self.proto.as_ptr();
        // SAFETY: live instance; four local out-parameters.
        let st = unsafe { ((*this).get_location)(this, &mut s, &mut b, &mut d, &mut f) };
        (!st.is_error()).then_some((s, b, d, f))
    }

    fn attributes(&self, op: u32, attrs: u64) -> Result<u64, Status> {
        let mut result = 0u64;
        let this = self.proto.as_ptr();
        // SAFETY: live instance; a local out-parameter (the firmware ignores it for Enable).
        let st = unsafe { ((*this).attributes)(this, op, attrs, &mut result) };
        if st.is_error() {
            Err(st)
        } else {
            Ok(result)
        }
    }

    /// Turns on I/O and memory decoding and bus mastering, as far as the function supports
    /// them. Returns the attributes in force before.
    pub fn enable_device(&self) -> Result<u64, Status> {
        let before = self.attributes(OP_GET, 0)?;
        let supported = self.attributes(OP_SUPPORTED, 0)?;
        let want = supported & (ATTR_IO | ATTR_MEMORY | ATTR_BUS_MASTER);
        self.attributes(OP_ENABLE, want)?;
        Ok(before)
    }
}
