//! Receive filters (layer `drivers/`): which destination addresses a [`crate::Nic`] hands to
//! [`crate::Nic::receive`]. One small value type, [`RxFilter`], that every driver programs into
//! its hardware (exact registers, hash tables or a control queue) and also checks in software,
//! so that what a driver returns is exactly what the filter asks for even where the hardware
//! over-accepts (a multicast hash collision, a virtio device without `VIRTIO_NET_F_CTRL_RX`).
//!
//! The classes follow the PXE UNDI filter (PXE 2.1 §4.4, `FLTR_*`) and UEFI's Simple Network
//! Protocol receive filters: directed (our station address), broadcast, a list of multicast
//! addresses, all multicast, promiscuous.

/// Multicast addresses an [`RxFilter`] holds; a longer list turns on all-multicast instead.
pub const MAX_MULTICAST: usize = 16;

/// The broadcast address.
pub const BROADCAST: [u8; 6] = [0xFF; 6];

/// Whether `mac` is a group (multicast or broadcast) address: the I/G bit, bit 0 of byte 0.
pub const fn is_group(mac: &[u8; 6]) -> bool {
    mac[0] & 1 != 0
}

/// What a card receives. No allocation: the multicast list has a fixed capacity
/// ([`MAX_MULTICAST`]). [`RxFilter::default`] is directed + broadcast, what `open` always used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxFilter {
    /// Frames to the station address ([`crate::Nic::station`]).
    pub directed: bool,
    /// Frames to ff:ff:ff:ff:ff:ff.
    pub broadcast: bool,
    /// Every multicast frame, whatever the list.
    pub all_multicast: bool,
    /// Every frame.
    pub promiscuous: bool,
    multicast: [[u8; 6]; MAX_MULTICAST],
    n_multicast: u8,
    overflow: bool,
}

impl Default for RxFilter {
    fn default() -> Self {
        Self::new()
    }
}

impl RxFilter {
    /// Directed + broadcast, no multicast.
    pub const fn new() -> Self {
        Self {
            directed: true,
            broadcast: true,
            all_multicast: false,
            promiscuous: false,
            multicast: [[0; 6]; MAX_MULTICAST],
            n_multicast: 0,
            overflow: false,
        }
    }

    /// Nothing at all (a starting point for building a filter by hand).
    pub const fn none() -> Self {
        let mut f = Self::new();
        f.directed = false;
        f.broadcast = false;
        f
    }

    /// Replaces the multicast list. Addresses without the group bit, broadcast and duplicates
    /// are skipped. More than [`MAX_MULTICAST`] distinct addresses: the list is emptied and
    /// [`RxFilter::wants_all_multicast`] becomes true. Returns `false` in that case.
    pub fn set_multicast(&mut self, list: &[[u8; 6]]) -> bool {
        self.n_multicast = 0;
        self.overflow = false;
        for mac in list {
            if !is_group(mac) || *mac == BROADCAST || self.multicast().contains(mac) {
                continue;
            }
            let n = usize::from(self.n_multicast);
            if n == MAX_MULTICAST {
                self.n_multicast = 0;
                self.overflow = true;
                return false;
            }
            self.multicast[n] = *mac;
            self.n_multicast += 1;
        }
        true
    }

    /// The multicast addresses accepted (empty when the list overflowed).
    pub fn multicast(&self) -> &[[u8; 6]] {
        &self.multicast[..usize::from(self.n_multicast)]
    }

    /// Whether every multicast frame is wanted: all-multicast, promiscuous, or a list that did
    /// not fit.
    pub fn wants_all_multicast(&self) -> bool {
        self.all_multicast || self.promiscuous || self.overflow
    }

    /// Whether any multicast frame at all is wanted (hardware "accept multicast" bits).
    pub fn wants_multicast(&self) -> bool {
        self.wants_all_multicast() || self.n_multicast > 0
    }

    /// Whether a frame whose destination address is `dst` passes, for a card whose current
    /// station address is `station`. Frames shorter than an address never pass.
    pub fn accepts(&self, station: &[u8; 6], frame: &[u8]) -> bool {
        let Some(dst) = frame.first_chunk::<6>() else {
            return false;
        };
        if self.promiscuous {
            return true;
        }
        if *dst == BROADCAST {
            return self.broadcast;
        }
        if is_group(dst) {
            return self.wants_all_multicast() || self.multicast().contains(dst);
        }
        self.directed && dst == station
    }
}
