//! fbms.krn (see `fbms.s`): a tiny Linux kernel (boot protocol 2.02 setup sector) that reports
//! the free base memory (40:13) and whether a PXE stack still answers INT 1Ah, for the tests of
//! how NBPs unload softpxe's PXE stack.
#![no_std]
#![no_main]

core::arch::global_asm!(include_str!("fbms.s"), options(att_syntax, raw));

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
