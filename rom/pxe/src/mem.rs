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
