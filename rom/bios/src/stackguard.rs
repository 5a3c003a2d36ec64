//! A canary at the bottom of the core's stack (`__stack_bottom` in ld/sys.ld): the core runs
//! without paging, so an overflow would silently corrupt the bss below the stack (DMA rings,
//! the PXE state). The bottom is filled with a pattern at boot and checked at the points where
//! the core waits; a damaged canary is a panic with a clear message, not a mystery.
const CANARY_BYTES: usize = 1024;
const PATTERN: u32 = 0x5350_5843; // "CXPS"

extern "C" {
    static __stack_bottom: u8;
    static __stack_top: u8;
}

fn bottom() -> *mut u32 {
    core::ptr::addr_of!(__stack_bottom) as *mut u32
}

/// Paints the stack from its bottom to just below the current frame; call first thing in the
/// core, while the stack is nearly empty.
pub fn init() {
    let sp: usize;
    // SAFETY: reads the stack pointer.
    unsafe {
        core::arch::asm!("mov {}, esp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    let words = (sp.saturating_sub(256).saturating_sub(bottom() as usize)) / 4;
    for i in 0..words {
        // SAFETY: [bottom, sp - 256) is stack memory below every live frame.
        unsafe { core::ptr::write_volatile(bottom().add(i), PATTERN) };
    }
}

/// Panics if the stack ever reached its bottom.
pub fn check() {
    for i in 0..CANARY_BYTES / 4 {
        // SAFETY: as in init.
        if unsafe { core::ptr::read_volatile(bottom().add(i)) } != PATTERN {
            panic!("core stack overflow (the canary at the stack bottom was overwritten)");
        }
    }
}

/// Bytes of stack ever used, from the top down to the deepest untouched pattern word.
pub fn high_water() -> usize {
    let lo = core::ptr::addr_of!(__stack_bottom) as usize;
    let hi = core::ptr::addr_of!(__stack_top) as usize;
    let mut untouched = 0;
    while untouched < (hi - lo) / 4 {
        // SAFETY: inside the stack.
        if unsafe { core::ptr::read_volatile(bottom().add(untouched)) } != PATTERN {
            break;
        }
        untouched += 1;
    }
    hi - lo - untouched * 4
}
