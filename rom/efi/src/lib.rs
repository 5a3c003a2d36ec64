//! UEFI firmware (layer `rom/efi`, target `x86_64-unknown-uefi`): `EFI/BOOT/BOOTX64.EFI` on the
//! USB image. It finds PCI NICs that softpxe drives and no firmware driver has bound, drives them
//! with the shared drivers over a UEFI [`hal::EfiHal`], publishes EFI_SIMPLE_NETWORK_PROTOCOL on
//! a child handle of each PCI handle ([`port`], [`snp`]), connects the firmware's own network
//! stack to it and boots through the firmware's PXE Base Code LoadFile ([`boot`]). The design
//! and what is not done yet: `docs/uefi.md`.
//!
//! Unsafe code lives only where UEFI's ABI or the hardware needs it: [`ffi`] (boot services),
//! [`pci_io`] (the PCI I/O protocol table), [`snp_abi`] (the SNP table softpxe installs) and
//! [`hw`] (port I/O, MMIO, DMA memory, TSC); everything else is safe.
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

pub mod boot;
pub mod ffi;
pub mod hal;
pub mod hw;
pub mod pci_io;
pub mod port;
pub mod snp;
pub mod snp_abi;

pub use softpxe_drivers as drivers;
pub use softpxe_net as net;
pub use softpxe_pxe as pxe;

/// Prints one line on the firmware console (ConOut, which OVMF mirrors to the serial port).
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => { uefi::println!($($arg)*) };
}
