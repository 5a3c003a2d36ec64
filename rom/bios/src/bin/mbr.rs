//! USB image MBR: chains the active partition's VBR (see `src/asm/mbr.s`).
#![no_std]
#![no_main]

core::arch::global_asm!(include_str!("../asm/mbr.s"), options(att_syntax, raw));

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
