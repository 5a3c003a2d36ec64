//! USB partition boot record for FAT32: the VBR plus a second stage in reserved sector 2
//! (see `src/asm/fat32boot.s`).
#![no_std]
#![no_main]

core::arch::global_asm!(
    include_str!(concat!(env!("OUT_DIR"), "/layout.s")),
    include_str!("../asm/readsector.s"),
    include_str!("../asm/fat32boot.s"),
    options(att_syntax, raw)
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
