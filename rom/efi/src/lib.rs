//! UEFI firmware (layer `rom/efi`, target `x86_64-unknown-uefi`). For now a library that proves
//! the shared crates build for the UEFI target; the SNP / PXE Base Code application comes with the
//! UEFI work.
#![no_std]
#![forbid(unsafe_code)]

pub use softpxe_drivers as drivers;
pub use softpxe_net as net;
pub use softpxe_pxe as pxe;
