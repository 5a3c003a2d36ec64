//! Calls into the BIOS from the 32-bit core: `rm_call32` in the resident part (`asm/prefix.s`)
//! drops to real mode (16-bit segments and the real-mode IDT reloaded), runs `INT n` with
//! interrupts enabled and comes back with the registers and flags the BIOS left.
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicU32, Ordering};

/// The register block of one BIOS call (`rmr` in `asm/prefix.s`).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct RmRegs {
    pub eax: u32,
    pub ebx: u32,
    pub ecx: u32,
    pub edx: u32,
    pub esi: u32,
    pub edi: u32,
    pub ebp: u32,
    pub ds: u16,
    pub es: u16,
    pub flags: u16,
    pub vector: u8,
    /// 0: `INT vector`; 1: far call to `target` with `push` on the stack (starting an NBP).
    pub mode: u8,
    /// Far call target: offset in the low half, segment in the high half.
    pub target: u32,
    /// A SEGOFF16 pushed before the far call, so the callee finds it at SS:SP+4.
    pub push: u32,
}

const _: () = {
    assert!(size_of::<RmRegs>() == 44);
    assert!(offset_of!(RmRegs, target) == 36);
    assert!(offset_of!(RmRegs, push) == 40);
    assert!(offset_of!(RmRegs, ds) == 28);
    assert!(offset_of!(RmRegs, flags) == 32);
    assert!(offset_of!(RmRegs, vector) == 34);
};

static RM_CALL: AtomicU32 = AtomicU32::new(0);

/// Records where `rm_call32` lives (from the boot info). Until then [`int`] does nothing.
pub fn init(rm_call: u32) {
    RM_CALL.store(rm_call, Ordering::Relaxed);
}

/// Runs `INT vector` in real mode with `regs`, which then holds what the BIOS returned.
/// Returns false (and does nothing) before [`init`].
pub fn int(vector: u8, regs: &mut RmRegs) -> bool {
    regs.vector = vector;
    regs.mode = 0;
    call(regs)
}

/// Far-calls `seg:off` in real mode with `regs` (interrupts on), after pushing `push`; returns
/// when the callee does a far return, with the registers it left.
pub fn far_call(seg: u16, off: u16, push: u32, regs: &mut RmRegs) -> bool {
    regs.mode = 1;
    regs.target = (u32::from(seg) << 16) | u32::from(off);
    regs.push = push;
    call(regs)
}

fn call(regs: &mut RmRegs) -> bool {
    let entry = RM_CALL.load(Ordering::Relaxed);
    if entry == 0 {
        return false;
    }
    // SAFETY: `entry` is rm_call32 in the resident part, placed and patched by the prefix; it
    // follows the cdecl convention, saves every register it uses and returns with interrupts off
    // as the core runs. `regs` is a valid RmRegs for the duration of the call.
    unsafe {
        let f: extern "C" fn(*mut RmRegs) = core::mem::transmute(entry as usize);
        f(regs);
    }
    true
}
