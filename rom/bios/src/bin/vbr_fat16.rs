//! USB partition boot record: FAT16, INT 13h extensions with CHS fallback
//! (see `src/asm/fatboot.s`).
#![no_std]
#![no_main]

core::arch::global_asm!(
    include_str!(concat!(env!("OUT_DIR"), "/layout.s")),
    include_str!("../asm/readsector.s"),
    ".set FAT16, 1",
    ".set LBA, 1",
    include_str!("../asm/fatboot.s"),
    options(att_syntax, raw)
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
