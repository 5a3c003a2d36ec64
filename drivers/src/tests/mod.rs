//! Host tests of the drivers against the fake `Hal` (tier 2 of DESIGN.md "Testing tiers").

mod e1000;
mod filter;
mod i8255x;
mod ne2000;
mod pci;
mod pcnet;
mod probe;
mod rtl8139;
mod tulip;
mod virtio_net;

use std::vec::Vec;

/// A test frame of `len` bytes whose content depends on `seed`.
pub(crate) fn frame(len: usize, seed: u8) -> Vec<u8> {
    let mut f: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(7) ^ seed).collect();
    f[..6].copy_from_slice(&[0xFF; 6]);
    f
}

/// A filter with these classes and no multicast list.
pub(crate) fn flt(
    directed: bool,
    broadcast: bool,
    all_multicast: bool,
    promiscuous: bool,
) -> crate::filter::RxFilter {
    let mut f = crate::filter::RxFilter::none();
    f.directed = directed;
    f.broadcast = broadcast;
    f.all_multicast = all_multicast;
    f.promiscuous = promiscuous;
    f
}
