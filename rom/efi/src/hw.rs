//! The machine accesses behind the UEFI `Hal`: x86 port I/O, memory-mapped registers, DMA memory
//! and the time-stamp counter. UEFI runs x86_64 identity-mapped (UEFI 2.10 §2.3.4), so a BAR's
//! physical address and a page from AllocatePages are also their virtual addresses.
//!
//! Unsafe: inline `in`/`out`/`rdtsc` and volatile accesses at addresses the drivers computed from
//! BARs (their own device's registers) or inside DMA pages softpxe allocated.
#![allow(unsafe_code)]

use core::arch::asm;

/// Reads an 8-bit port.
pub fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: port I/O has no memory effects; drivers only touch their own device's ports.
    unsafe {
        asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// Reads a 16-bit port.
pub fn inw(port: u16) -> u16 {
    let v: u16;
    // SAFETY: as `inb`.
    unsafe {
        asm!("in ax, dx", out("ax") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// Reads a 32-bit port.
pub fn inl(port: u16) -> u32 {
    let v: u32;
    // SAFETY: as `inb`.
    unsafe {
        asm!("in eax, dx", out("eax") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// Writes an 8-bit port.
pub fn outb(port: u16, v: u8) {
    // SAFETY: as `inb`.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags))
    };
}

/// Writes a 16-bit port.
pub fn outw(port: u16, v: u16) {
    // SAFETY: as `inb`.
    unsafe {
        asm!("out dx, ax", in("dx") port, in("ax") v, options(nomem, nostack, preserves_flags))
    };
}

/// Writes a 32-bit port.
pub fn outl(port: u16, v: u32) {
    // SAFETY: as `inb`.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack, preserves_flags))
    };
}

/// Volatile read of a `T` at physical address `addr` (MMIO or DMA memory).
///
/// # Safety
/// `addr` must be a device register of the caller's device, or lie in DMA memory it allocated,
/// suitably aligned for `T`.
pub unsafe fn read<T: Copy>(addr: u64) -> T {
    // SAFETY: the caller's contract; identity mapping makes the physical address usable.
    unsafe { core::ptr::read_volatile(addr as usize as *const T) }
}

/// Volatile write of a `T` at physical address `addr`.
///
/// # Safety
/// As [`read`].
pub unsafe fn write<T: Copy>(addr: u64, v: T) {
    // SAFETY: the caller's contract.
    unsafe { core::ptr::write_volatile(addr as usize as *mut T, v) }
}

/// A full barrier: compiler fence plus `mfence` (every x86_64 CPU has it).
pub fn fence() {
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
    // SAFETY: mfence only orders memory accesses.
    unsafe { asm!("mfence", options(nostack, preserves_flags)) };
}

/// The time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: rdtsc reads a counter; every x86_64 CPU has it.
    unsafe { core::arch::x86_64::_rdtsc() }
}
