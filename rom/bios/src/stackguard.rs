//! A guard region at the bottom of the core's stack (`__stack_bottom` in ld/sys.ld): the core
//! runs without paging, so an overflow would silently corrupt the bss below the stack (DMA rings,
//! the PXE state). The whole stack below the first frame is filled with a pattern at boot; the
//! bottom [`GUARD_BYTES`] are the guard region, and every word of it is checked at each point
//! where the core hands control back to the platform or the NBP: the PXE API return, the
//! keyboard poll, the NBP start. A damaged guard is a `PXE-EC8` report and a halt (the memory
//! below may be damaged too), not a mystery.
//!
//! The region is larger than any one frame of the core, so a frame that reaches past the
//! stack's end without writing every word it spans still writes inside the region. The deepest
//! path measured (the DHCP conversation, `log = debug` prints it) peaks near 60 KiB of the
//! 256 KiB stack: anything reaching the region is far off the normal paths.
//!
//! `test_fault = stack` ([`overrun`]) digs into the region on purpose, to show the report.
use core::sync::atomic::{AtomicBool, Ordering};

/// Bytes at the bottom of the stack that the core must never reach.
pub const GUARD_BYTES: usize = 16 * 1024;
const PATTERN: u32 = 0x5350_5843; // "CXPS"

extern "C" {
    static __stack_bottom: u8;
    static __stack_top: u8;
}

/// Set once a trip is being reported (the report itself polls nothing, but a nested call
/// must not report twice).
static TRIPPED: AtomicBool = AtomicBool::new(false);

fn bottom() -> *mut u32 {
    core::ptr::addr_of!(__stack_bottom) as *mut u32
}

fn esp() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer.
    unsafe {
        core::arch::asm!("mov {}, esp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    sp
}

/// Paints the stack from its bottom to just below the current frame; call first thing in the
/// core, while the stack is nearly empty.
pub fn init() {
    let words = (esp().saturating_sub(256).saturating_sub(bottom() as usize)) / 4;
    for i in 0..words {
        // SAFETY: [bottom, sp - 256) is stack memory below every live frame.
        unsafe { core::ptr::write_volatile(bottom().add(i), PATTERN) };
    }
}

/// The lowest word of the guard region that is no longer the pattern (how deep the stack
/// reached), if any.
fn damaged() -> Option<usize> {
    // The common case (an intact region) first, 16 words per step without branches: this runs
    // at every PXE API return (tens of thousands a second under a polling NBP).
    core::sync::atomic::compiler_fence(Ordering::SeqCst);
    // SAFETY: the guard region is the bottom of the stack, always mapped, below every live
    // frame as long as the guard holds; nothing else writes it while the core runs.
    let region = unsafe { core::slice::from_raw_parts(bottom() as *const u32, GUARD_BYTES / 4) };
    let intact = region
        .chunks_exact(16)
        .all(|c| c.iter().fold(0, |acc, &w| acc | (w ^ PATTERN)) == 0);
    if intact {
        return None;
    }
    (0..GUARD_BYTES / 4).find(|&i| {
        // SAFETY: the guard region is the bottom of the stack, always mapped, below every live
        // frame as long as the guard holds.
        unsafe { core::ptr::read_volatile(bottom().add(i)) != PATTERN }
    })
}

/// Checks every word of the guard region; `at` names the hand-over point for the report. On a
/// trip: the report, then a halt.
pub fn check(at: &str) {
    let Some(word) = damaged() else {
        return;
    };
    if TRIPPED.swap(true, Ordering::Relaxed) {
        crate::halt();
    }
    let base = bottom() as usize;
    crate::println!(
        "\nPXE-EC8: core stack overflow, seen at the {at}: the stack reached its guard region \
         ({} of its {} bytes used, down to {:08x}; the stack is {:08x}-{:08x}).",
        GUARD_BYTES - word * 4,
        GUARD_BYTES,
        base + word * 4,
        base,
        core::ptr::addr_of!(__stack_top) as usize
    );
    crate::println!(
        "This is a softpxe bug, and memory below the stack may be damaged: halted. Please \
         report it with this screen (and a log = debug boot if it can be repeated)."
    );
    crate::halt()
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

/// `test_fault = stack`: recurses (about 1 KiB a level, every word written) until the stack
/// pointer is halfway into the guard region, then returns. Controlled: it stops 8 KiB above
/// the stack's end, so nothing below the stack is touched; the next hand-over point reports it.
/// Returns the lowest stack address reached.
pub fn overrun() -> usize {
    let stop = bottom() as usize + GUARD_BYTES / 2;
    crate::println!(
        "softpxe: test_fault = stack: using the stack down to {stop:08x}, inside its guard region"
    );
    dig(stop)
}

#[inline(never)]
fn dig(stop: usize) -> usize {
    let mut frame = [0u32; 256];
    for (i, w) in frame.iter_mut().enumerate() {
        // SAFETY: a local of this frame.
        unsafe { core::ptr::write_volatile(w, i as u32) };
    }
    let sp = esp();
    let deepest = if sp > stop { dig(stop) } else { sp };
    // use the frame after the call, so it cannot be folded away or reused by the callee
    // SAFETY: as above.
    deepest.min(unsafe { core::ptr::read_volatile(&frame[255]) } as usize + sp)
}
