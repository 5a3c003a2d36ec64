//! The firmware blobs embedded in the `softpxe` binary, produced by `build.rs`: the BIOS boot
//! records and `SOFTPXE.SYS`, and the UEFI application `BOOTX64_EFI` (`EFI/BOOT/BOOTX64.EFI`).
include!(concat!(env!("OUT_DIR"), "/firmware.rs"));
include!(concat!(env!("OUT_DIR"), "/firmware_efi.rs"));
