//! Floppy boot sector: FAT12, INT 13h CHS reads (see `src/asm/fatboot.s`).
#![no_std]
#![no_main]

core::arch::global_asm!(
    include_str!(concat!(env!("OUT_DIR"), "/layout.s")),
    include_str!("../asm/readsector.s"),
    ".set FAT16, 0",
    ".set LBA, 0",
    include_str!("../asm/fatboot.s"),
    options(att_syntax, raw)
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
