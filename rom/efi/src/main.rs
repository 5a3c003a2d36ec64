//! `EFI/BOOT/BOOTX64.EFI`: the UEFI application entry point (see the library's docs).
#![no_std]
#![no_main]

use uefi::prelude::*;

#[entry]
fn main() -> Status {
    softpxe_efi::boot::run()
}
