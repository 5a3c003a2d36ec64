//! Network protocols (layer `rom/net`): sans-IO state machines fed the time; no unsafe.
//!
//! The firmware loop is: receive a frame -> [`iface::Interface::handle_frame`] -> a UDP datagram
//! for [`dhcp::DhcpClient::handle`] / [`tftp::TftpClient::handle`] -> their `poll(now)` says what
//! to send -> [`iface::Interface::send_udp`] builds the Ethernet frame. Nothing here owns a clock
//! or a device: every call takes an [`Instant`], and `next_deadline()` says when to call again.
//!
//! [`dns::Resolver`] resolves boot server host names (option 66, `next_server`) the same way.
//!
//! Wire formats for Ethernet II, ARP, IPv4, UDP, ICMPv4 and the DNS header, question and
//! records come from `smoltcp::wire` (checked views + `Repr`, checksums). DHCP and TFTP views are hand-written in the same style because
//! smoltcp's `DhcpRepr` drops unknown options and has no option overload / option 43 support, and
//! smoltcp has no TFTP.
#![no_std]
#![forbid(unsafe_code)]

pub mod dhcp;
pub mod dns;
pub mod fixed;
pub mod fuzz_targets;
pub mod iface;
pub mod tftp;

pub use core::net::Ipv4Addr;
pub use smoltcp::wire::EthernetAddress as MacAddr;

/// Longest Ethernet frame without FCS (no 802.1Q tag): 14 + 1500. The one frame-size constant of
/// the interface, the boot flow's frame buffers and the PXE stack's.
pub const MAX_FRAME: usize = 1514;

/// A point in time, in milliseconds since an arbitrary epoch chosen by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub u64);

impl Instant {
    /// `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }
    /// `s` seconds after the epoch.
    pub const fn from_secs(s: u64) -> Self {
        Instant(s.saturating_mul(1000))
    }
    /// Milliseconds since the epoch.
    pub const fn millis(self) -> u64 {
        self.0
    }
    /// This instant plus `ms` milliseconds (saturating).
    pub const fn plus_ms(self, ms: u64) -> Self {
        Instant(self.0.saturating_add(ms))
    }
    /// Milliseconds from `earlier` to `self` (0 if `earlier` is later).
    pub const fn since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// A UDP datagram a state machine wants sent. Its payload was written to the start of the
/// buffer passed to `poll`; `len` bytes of it are valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Our UDP source port.
    pub src_port: u16,
    /// Destination address: 255.255.255.255 for a broadcast, a multicast group, or a unicast IP.
    pub dst_ip: Ipv4Addr,
    /// Destination UDP port.
    pub dst_port: u16,
    /// Payload length in the caller's buffer.
    pub len: usize,
}

/// Addresses of a received UDP datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpMeta {
    /// Sender's IP.
    pub src_ip: Ipv4Addr,
    /// Sender's UDP port.
    pub src_port: u16,
    /// IP the datagram was sent to (ours, a broadcast or a multicast group).
    pub dst_ip: Ipv4Addr,
    /// UDP port the datagram was sent to.
    pub dst_port: u16,
}

/// Earlier of two optional deadlines.
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
