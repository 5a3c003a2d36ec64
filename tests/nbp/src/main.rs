//! softpxe's test NBP (see `nbp.s`): started by a PXE ROM at 0000:7C00, it reports on COM1 the
//! registers and structures it was handed, checks that all of its ~66 KiB arrived intact (NBPs
//! larger than the spec's 32 KiB must work) and returns to the ROM with a far return.
#![no_std]
#![no_main]

core::arch::global_asm!(include_str!("nbp.s"), options(att_syntax, raw));

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
