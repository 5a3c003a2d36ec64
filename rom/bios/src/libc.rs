//! The memory functions the compiler calls: the bare i586 target has no libc. Written with string
//! instructions so the compiler cannot turn them back into calls to themselves.

/// # Safety
/// `dst` and `src` are valid for `n` bytes and do not overlap.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees both ranges; `rep movsb` copies exactly n bytes forward.
    unsafe {
        // esi is reserved by LLVM on x86-32: swap it in and out by hand.
        core::arch::asm!("xchg esi, {src}", "rep movsb", "mov esi, {src}", src = inout(reg) src => _,
            inout("ecx") n => _, inout("edi") dst => _, options(nostack, preserves_flags));
    }
    dst
}

/// # Safety
/// `dst` and `src` are valid for `n` bytes; they may overlap.
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) <= (src as usize) || (dst as usize) >= (src as usize).wrapping_add(n) {
        // SAFETY: forward copy is correct when dst is below src or the ranges do not overlap.
        return unsafe { memcpy(dst, src, n) };
    }
    // SAFETY: copy backwards from the last byte (direction flag set, then cleared again).
    unsafe {
        core::arch::asm!("xchg esi, {src}", "std", "rep movsb", "cld", "mov esi, {src}",
            src = inout(reg) src.add(n - 1) => _, inout("ecx") n => _, inout("edi") dst.add(n - 1) => _,
            options(nostack));
    }
    dst
}

/// # Safety
/// `dst` is valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees the range; `rep stosb` writes exactly n bytes.
    unsafe {
        core::arch::asm!("rep stosb", inout("ecx") n => _, inout("edi") dst => _, in("al") c as u8,
            options(nostack, preserves_flags));
    }
    dst
}

/// # Safety
/// `a` and `b` are valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n, within both ranges the caller guarantees.
        let (x, y) = unsafe {
            (
                core::ptr::read_volatile(a.add(i)),
                core::ptr::read_volatile(b.add(i)),
            )
        };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// # Safety
/// As [`memcmp`].
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}
