//! Host tests of the drivers against the fake `Hal` (tier 2 of DESIGN.md "Testing tiers").

mod e1000;
mod pci;
mod probe;
mod rtl8139;
mod virtio_net;

use std::vec::Vec;

/// A test frame of `len` bytes whose content depends on `seed`.
pub(crate) fn frame(len: usize, seed: u8) -> Vec<u8> {
    let mut f: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(7) ^ seed).collect();
    f[..6].copy_from_slice(&[0xFF; 6]);
    f
}
