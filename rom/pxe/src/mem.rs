//! NBP memory (layer `rom/pxe`): the one place where a real-mode SEG:OFF (or a 32-bit physical
//! buffer address from TFTP_READ_FILE) becomes a bounded physical range, and where parameter
//! blocks are copied in and out. The platform implements [`Memory`] and refuses ranges it cannot
//! reach or that overlap softpxe itself; nothing here can panic on a bad pointer.

use crate::abi::SegOff16;
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// Highest real-mode linear address + 1: FFFF:FFFF = 0x10FFEF (1 MiB + 64 KiB − 16).
pub const REAL_MODE_LIMIT: u64 = 0x10_FFF0;

/// Physical memory as the platform lets the PXE API touch it.
pub trait Memory {
    /// Copy `buf.len()` bytes from physical `phys`; `false` (nothing read) if any byte of the
    /// range is out of reach.
    fn read(&self, phys: u64, buf: &mut [u8]) -> bool;
    /// Copy `data` to physical `phys`; `false` (nothing written) if any byte of the range is out
    /// of reach or belongs to softpxe's own core.
    fn write(&mut self, phys: u64, data: &[u8]) -> bool;
}

/// The physical range `[phys, phys + len)` behind `seg:off`, or `None` if it would wrap past
/// the end of the segment (offset + len > 64 KiB) or past the real-mode limit.
pub fn segoff_range(seg: u16, off: u16, len: usize) -> Option<(u64, usize)> {
    let end_off = u64::from(off).checked_add(len as u64)?;
    if end_off > 0x1_0000 {
        return None;
    }
    let phys = u64::from(seg) * 16 + u64::from(off);
    if phys + len as u64 > REAL_MODE_LIMIT {
        return None;
    }
    Some((phys, len))
}

/// The physical range `[addr, addr + len)` of a 32-bit flat buffer, or `None` past 4 GiB.
pub fn phys_range(addr: u32, len: usize) -> Option<(u64, usize)> {
    let end = u64::from(addr).checked_add(len as u64)?;
    if end > 1 << 32 {
        return None;
    }
    Some((u64::from(addr), len))
}

/// Read `buf.len()` bytes at `p`.
pub fn read_at<M: Memory + ?Sized>(mem: &M, p: SegOff16, buf: &mut [u8]) -> bool {
    match segoff_range(p.segment, p.offset, buf.len()) {
        Some((phys, _)) => mem.read(phys, buf),
        None => false,
    }
}

/// Write `data` at `p`.
pub fn write_at<M: Memory + ?Sized>(mem: &mut M, p: SegOff16, data: &[u8]) -> bool {
    match segoff_range(p.segment, p.offset, data.len()) {
        Some((phys, _)) => mem.write(phys, data),
        None => false,
    }
}

/// Copy a parameter block (or any ABI struct) in from `p`.
pub fn read_block<T: FromBytes + IntoBytes, M: Memory + ?Sized>(mem: &M, p: SegOff16) -> Option<T> {
    let mut t = T::new_zeroed();
    read_at(mem, p, t.as_mut_bytes()).then_some(t)
}

/// Copy a parameter block (or any ABI struct) out to `p`.
pub fn write_block<T: IntoBytes + Immutable, M: Memory + ?Sized>(
    mem: &mut M,
    p: SegOff16,
    t: &T,
) -> bool {
    write_at(mem, p, t.as_bytes())
}

/// softpxe's own memory, which NBP pointers may not touch: the core (anywhere in the 4 GiB
/// space) and the resident code and data in base memory (not its NBP stack and scratch area,
/// which are the NBP's to use). The IVT and BIOS data area (below 0x500) and the resident code
/// are read-only to NBP pointers; the core is out of reach either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guard {
    core: (u64, u64),
    resident_code: (u64, u64),
}

impl Guard {
    /// The core at `[core.0, core.1)`, the resident code at `[resident_code.0, .1)`.
    pub const fn new(core: (u64, u64), resident_code: (u64, u64)) -> Self {
        Guard {
            core,
            resident_code,
        }
    }

    /// May an NBP pointer read (`writing == false`) or write `[phys, phys + len)`?
    pub fn allows(&self, phys: u64, len: usize, writing: bool) -> bool {
        let Some(end) = phys.checked_add(len as u64) else {
            return false;
        };
        if end > 1 << 32 {
            return false;
        }
        let overlaps = |(s, e): (u64, u64)| phys < e && end > s;
        if overlaps(self.core) {
            return false;
        }
        !(writing && (phys < 0x500 || overlaps(self.resident_code)))
    }
}

/// Where an NBP download may land: `[base, limit)` of physical memory (0000:7C00 up to the
/// resident part). A TFTP block at `offset` of the file goes to `base + offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NbpWindow {
    /// First byte (0x7C00).
    pub base: u32,
    /// One past the last byte.
    pub limit: u32,
}

impl NbpWindow {
    /// The physical address for `len` bytes at `offset` of the file, or `None` if any of them
    /// would land at or past the limit (or the arithmetic would overflow).
    pub fn place(&self, offset: u64, len: usize) -> Option<u32> {
        let start = u64::from(self.base).checked_add(offset)?;
        let end = start.checked_add(len as u64)?;
        (end <= u64::from(self.limit)).then_some(start as u32)
    }

    /// Does a file of `size` bytes fit?
    pub fn fits(&self, size: u64) -> bool {
        self.place(size, 0).is_some()
    }
}
