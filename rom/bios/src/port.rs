//! x86 port I/O for the 32-bit core.

/// Reads a byte from `port`.
///
/// # Safety
/// Port reads can have side effects on devices; the caller knows the device.
pub unsafe fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: an `in` instruction; the caller vouches for the device.
    unsafe {
        core::arch::asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// Writes a byte to `port`.
///
/// # Safety
/// Port writes drive devices; the caller knows the device.
pub unsafe fn outb(port: u16, v: u8) {
    // SAFETY: an `out` instruction; the caller vouches for the device.
    unsafe {
        core::arch::asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags))
    };
}

/// Reads a dword from `port`.
///
/// # Safety
/// As [`inb`].
pub unsafe fn inl(port: u16) -> u32 {
    let v: u32;
    // SAFETY: an `in` instruction; the caller vouches for the device.
    unsafe {
        core::arch::asm!("in eax, dx", out("eax") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// Writes a dword to `port`.
///
/// # Safety
/// As [`outb`].
pub unsafe fn outl(port: u16, v: u32) {
    // SAFETY: an `out` instruction; the caller vouches for the device.
    unsafe {
        core::arch::asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack, preserves_flags))
    };
}

/// Reads a word from `port`.
///
/// # Safety
/// As [`inb`].
pub unsafe fn inw(port: u16) -> u16 {
    let v: u16;
    // SAFETY: an `in` instruction; the caller vouches for the device.
    unsafe {
        core::arch::asm!("in ax, dx", out("ax") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// Writes a word to `port`.
///
/// # Safety
/// As [`outb`].
pub unsafe fn outw(port: u16, v: u16) {
    // SAFETY: an `out` instruction; the caller vouches for the device.
    unsafe {
        core::arch::asm!("out dx, ax", in("dx") port, in("ax") v, options(nomem, nostack, preserves_flags))
    };
}
