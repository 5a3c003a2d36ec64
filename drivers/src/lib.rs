//! NIC drivers (layer `drivers/`): one small polled [`Nic`] trait, hardware reached through [`Hal`].
//!
//! Every driver here is plain, allocation-free Rust that touches the machine only through the
//! [`Hal`] trait the firmware implements (port I/O, MMIO, PCI configuration space, DMA memory,
//! time). That is why this crate forbids `unsafe` and why every driver also runs on the host
//! against the fake `Hal` in `fake.rs`. The firmware owns driver state as a plain value, usually
//! an [`AnyNic`] returned by [`probe`].
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(any(test, feature = "fake"))]
extern crate std;

pub mod e1000;
#[cfg(any(test, feature = "fake"))]
pub mod fake;
pub mod filter;
pub mod hal;
pub mod i8255x;
pub mod ne2000;
pub mod nic;
pub mod pci;
pub mod pcnet;
mod probe;
pub mod rtl8139;
pub mod tulip;
pub mod virtio_net;

#[cfg(test)]
mod tests;

pub use filter::RxFilter;
pub use hal::{DmaRegion, Hal};
pub use nic::{Nic, NicError};
pub use pci::{PciAddress, PciId};
pub use probe::{
    find_driver, find_isa, probe, probe_isa, AnyNic, DriverInfo, IsaDriverInfo, DRIVERS,
    ISA_DRIVERS,
};

/// Largest Ethernet frame a driver transmits or returns, without FCS: 1514 + a 802.1Q tag.
pub const MAX_FRAME_LEN: usize = 1518;

/// Shortest Ethernet frame on the wire without FCS (IEEE 802.3 §3.2.7); shorter ones are padded.
pub const MIN_FRAME_LEN: usize = 60;
