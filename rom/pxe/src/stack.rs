//! The PXE API's own state (layer `rom/pxe`): the network interface, addresses, cached DHCP
//! packets, the UNDI receive queue, the UDP and TFTP sessions, and the receive/transmit pump
//! that feeds them. The firmware owns one [`PxeStack`] and passes it to [`crate::dispatch`].

use crate::abi::{SegOff16, BOOTPLAYER_SIZE};
use crate::handoff::{Cached, Handoff};
use crate::mem::{write_at, Memory};
use crate::platform::Platform;
use crate::queue::{Queue, Ring};
use crate::tftp::Session;
use softpxe_net::dhcp::DhcpClient;
use softpxe_net::iface::{Event, Interface, SendResult};
use softpxe_net::tftp::TftpConfig;
use softpxe_net::{Instant, Ipv4Addr, MacAddr, Transmit, UdpMeta};

pub use softpxe_net::MAX_FRAME;
/// Longest UDP payload in one frame.
pub const MAX_UDP: usize = 1472;
/// Frames a single poll takes from the NIC.
const RX_PER_POLL: usize = 16;

/// Scratch layout: three BOOTPLAYER copies (types 1, 2, 3), then the UNDI_ISR frame buffer.
pub const SCRATCH_CACHED: [u16; 3] = [0, BOOTPLAYER_SIZE as u16, 2 * BOOTPLAYER_SIZE as u16];
/// Offset of the UNDI_ISR frame buffer in the scratch area.
pub const SCRATCH_FRAME: u16 = 3 * BOOTPLAYER_SIZE as u16;
/// Bytes of real-mode scratch memory the API needs.
pub const SCRATCH_SIZE: usize = 3 * BOOTPLAYER_SIZE + MAX_FRAME;

/// Firmware settings for the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PxeConfig {
    /// Real-mode scratch area of at least [`SCRATCH_SIZE`] bytes that stays valid for the NBP
    /// (GET_CACHED_INFO copies, UNDI_ISR frame buffer). Its offset + size must fit the segment.
    pub scratch: SegOff16,
    /// TFTP settings used underneath TFTP_OPEN / READ_FILE / GET_FSIZE (blksize, windowsize,
    /// timeouts).
    pub tftp: TftpConfig,
    /// Longest a blocking call (TFTP, UDP_WRITE's ARP) may wait, in ms.
    pub max_wait_ms: u64,
    /// Where RESTART_TFTP loads the new NBP (0x7C00).
    pub nbp_load: u32,
    /// Largest NBP RESTART_TFTP may load (e.g. base memory top − 0x7C00).
    pub nbp_limit: u32,
}

impl PxeConfig {
    /// Defaults for a scratch area at `scratch`.
    pub fn new(scratch: SegOff16) -> Self {
        PxeConfig {
            scratch,
            tftp: TftpConfig::default(),
            max_wait_ms: 600_000,
            nbp_load: 0x7C00,
            nbp_limit: 0xA0000 - 0x7C00,
        }
    }
}

/// Why a [`PxeStack`] could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The scratch area would wrap its segment or leave real-mode reach.
    ScratchOutOfReach,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PXE scratch area does not fit in one real-mode segment")
    }
}

/// UNDI frame counters (UNDI_GET_STATISTICS).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames sent.
    pub xmt_good: u32,
    /// Frames received.
    pub rcv_good: u32,
    /// Frames with CRC errors (the drivers drop them; always 0).
    pub rcv_crc: u32,
    /// Frames dropped because the UNDI queue was full.
    pub rcv_resource: u32,
}

/// The PXE API state. See the module doc.
#[derive(Clone, Debug)]
pub struct PxeStack {
    pub(crate) cfg: PxeConfig,
    pub(crate) iface: Interface,
    pub(crate) perm_mac: [u8; 6],
    pub(crate) station: [u8; 6],
    /// The configured mask and gateway (the interface's gateway may differ for a moment: a
    /// UDP_WRITE or TFTP_OPEN naming its own gateway).
    pub(crate) mask: Option<Ipv4Addr>,
    pub(crate) gateway: Option<Ipv4Addr>,
    pub(crate) cached: Cached,
    /// NIC opened by us (for TFTP/UDP) or by UNDI_OPEN.
    pub(crate) nic_open: bool,
    /// UNDI_OPEN mode: received frames go to UNDI_ISR, not to our IP stack.
    pub(crate) raw: bool,
    pub(crate) filter: u16,
    pub(crate) mcast: [[u8; 6]; 8],
    pub(crate) n_mcast: usize,
    pub(crate) stats: Stats,
    /// Transmits not yet reported by UNDI_ISR as OUT_TRANSMIT.
    pub(crate) tx_unreported: u16,
    pub(crate) rxq: Queue<(), 4, MAX_FRAME>,
    pub(crate) udp_open: bool,
    /// Datagrams waiting for UDP_READ; when full the oldest goes (a stale one must not block).
    pub(crate) udpq: Queue<UdpMeta, 8, MAX_UDP>,
    /// The ports the NBP reads and writes on ([`crate::udp::Ports`]).
    pub(crate) udp_ports: crate::udp::Ports,
    pub(crate) tftp: Option<Session>,
    /// TFTP_READ's re-chunking ring (used by the TFTP_OPEN session).
    pub(crate) ring: Ring,
    pub(crate) next_port: u16,
    pub(crate) frame: [u8; MAX_FRAME],
    pub(crate) tx: [u8; MAX_FRAME],
    pub(crate) payload: [u8; MAX_UDP],
    /// STOP_UNDI succeeded: every later call fails.
    pub(crate) stopped: bool,
    /// UNLOAD_STACK or STOP_BASE succeeded: the base-code calls (TFTP, UDP) fail.
    pub(crate) base_stopped: bool,
}

fn ip_opt(ip: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
    ip.filter(|a| !a.is_unspecified())
}

impl PxeStack {
    /// A stack for the NIC with permanent address `mac`. The NIC is taken to be open already
    /// (the base code used it for DHCP); call [`PxeStack::configure`] or
    /// [`PxeStack::adopt_dhcp`] before starting the NBP.
    pub fn new(cfg: PxeConfig, mac: [u8; 6]) -> Result<Self, ConfigError> {
        crate::mem::segoff_range(cfg.scratch.segment, cfg.scratch.offset, SCRATCH_SIZE)
            .ok_or(ConfigError::ScratchOutOfReach)?;
        Ok(PxeStack {
            cfg,
            iface: Interface::new(MacAddr(mac)),
            perm_mac: mac,
            station: mac,
            mask: None,
            gateway: None,
            cached: Cached::new(),
            nic_open: true,
            raw: false,
            filter: crate::abi::filter::DIRECTED | crate::abi::filter::BRDCST,
            mcast: [[0; 6]; 8],
            n_mcast: 0,
            stats: Stats::default(),
            tx_unreported: 0,
            rxq: Queue::new(),
            udp_open: false,
            udpq: Queue::new(),
            udp_ports: Default::default(),
            tftp: None,
            ring: Ring::new(),
            next_port: 0xC000,
            frame: [0; MAX_FRAME],
            tx: [0; MAX_FRAME],
            payload: [0; MAX_UDP],
            stopped: false,
            base_stopped: false,
        })
    }

    /// Our IP address, mask and gateway.
    pub fn configure(&mut self, ip: Ipv4Addr, mask: Option<Ipv4Addr>, gw: Option<Ipv4Addr>) {
        self.mask = ip_opt(mask);
        self.gateway = ip_opt(gw);
        self.iface.configure(ip, self.mask, self.gateway);
    }

    /// Our IP address (0.0.0.0 until configured).
    pub fn ip(&self) -> Ipv4Addr {
        self.iface.ip()
    }

    /// Store a cached packet (index 0 = DHCPDISCOVER, 1 = DHCPACK, 2 = cached reply) and write
    /// its persistent BOOTPLAYER copy (zero-padded, or cut at 1260 bytes) to the scratch area.
    pub fn set_cached<M: Memory + ?Sized>(
        &mut self,
        mem: &mut M,
        index: usize,
        packet: &[u8],
    ) -> bool {
        if !self.cached.set(index, packet) {
            return false;
        }
        self.write_cached(mem, index)
    }

    /// Writes the persistent BOOTPLAYER copy of cached packet `index` to the scratch area.
    fn write_cached<M: Memory + ?Sized>(&self, mem: &mut M, index: usize) -> bool {
        match (self.cached.get(index), SCRATCH_CACHED.get(index)) {
            (Some(packet), Some(&off)) => write_at(mem, self.scratch_at(off), packet),
            _ => false,
        }
    }

    /// Takes over the boot flow's network state: its interface (addresses, ARP cache) as it is,
    /// its frame counts, and its cached DHCP packets (whose BOOTPLAYER copies are written to
    /// the scratch area). `false` if the scratch area could not be written.
    pub fn adopt<M: Memory + ?Sized>(&mut self, mem: &mut M, handoff: Handoff) -> bool {
        let Handoff {
            iface,
            frames_sent,
            frames_received,
            cached,
        } = handoff;
        self.mask = ip_opt(iface.mask());
        self.gateway = ip_opt(iface.gateway());
        self.iface = iface;
        // an unspecified mask or gateway from the lease means none (the ARP cache stays)
        let ip = self.iface.ip();
        self.iface.configure(ip, self.mask, self.gateway);
        self.station = self.iface.mac().0;
        self.count_traffic(frames_sent, frames_received);
        self.cached = cached;
        (0..3).all(|i| self.write_cached(mem, i))
    }

    /// Take the cached packets and the address configuration from a finished DHCP client.
    pub fn adopt_dhcp<M: Memory + ?Sized>(&mut self, mem: &mut M, dhcp: &DhcpClient) -> bool {
        if let Some(l) = dhcp.lease() {
            self.configure(l.ip, l.subnet_mask, l.gateway);
        }
        let a = self.set_cached(mem, 0, dhcp.cached_discover());
        let b = self.set_cached(mem, 1, dhcp.cached_ack());
        let c = self.set_cached(mem, 2, dhcp.cached_reply());
        a && b && c
    }

    /// Add the frames the base code sent and received before the stack existed (DHCP, the NBP
    /// download), so UNDI_GET_STATISTICS counts from when the NIC was opened, as a ROM does.
    pub fn count_traffic(&mut self, xmit: u32, rcv: u32) {
        self.stats.xmt_good = self.stats.xmt_good.wrapping_add(xmit);
        self.stats.rcv_good = self.stats.rcv_good.wrapping_add(rcv);
    }

    /// UNDI frame counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    pub(crate) fn scratch_at(&self, off: u16) -> SegOff16 {
        SegOff16::new(
            self.cfg.scratch.segment,
            self.cfg.scratch.offset.wrapping_add(off),
        )
    }

    pub(crate) fn alloc_port(&mut self) -> u16 {
        let p = self.next_port;
        self.next_port = if p >= 0xFFF0 { 0xC000 } else { p + 1 };
        p
    }

    /// Open the NIC with the current station address, filter and multicast list.
    pub(crate) fn open_nic(&mut self, p: &mut dyn Platform) -> bool {
        let ok = p.nic_open(&self.nic_settings());
        self.nic_open = ok;
        ok
    }

    /// Make sure the NIC is open for our own IP traffic (TFTP, UDP).
    pub(crate) fn ensure_open(&mut self, p: &mut dyn Platform) -> bool {
        self.nic_open || self.open_nic(p)
    }

    pub(crate) fn transmit(&mut self, p: &mut dyn Platform, len: usize) -> bool {
        let ok = p.transmit(&self.tx[..len]);
        if ok {
            self.stats.xmt_good = self.stats.xmt_good.wrapping_add(1);
        }
        ok
    }

    /// Receive what the NIC has, feed it to UNDI_ISR's queue (UNDI_OPEN mode) or to our IP
    /// stack, and send what the interface and the TFTP session want sent.
    pub(crate) fn poll(&mut self, p: &mut dyn Platform) {
        let now = p.now();
        for _ in 0..RX_PER_POLL {
            let Some(n) = p.receive(&mut self.frame) else {
                break;
            };
            let n = n.min(MAX_FRAME);
            self.stats.rcv_good = self.stats.rcv_good.wrapping_add(1);
            if self.raw {
                if !self.rxq.push((), &self.frame[..n]) {
                    self.stats.rcv_resource = self.stats.rcv_resource.wrapping_add(1);
                }
            } else {
                self.handle_frame(p, now, n);
            }
        }
        self.flush(p, now);
        p.isr_shared().set_rx_waiting(!self.rxq.is_empty());
    }

    fn handle_frame(&mut self, p: &mut dyn Platform, now: Instant, n: usize) {
        let PxeStack {
            iface,
            frame,
            tx,
            tftp,
            ring,
            udp_open,
            udpq,
            udp_ports,
            stats,
            ..
        } = self;
        match iface.handle_frame(now, &frame[..n], tx) {
            Event::Reply(len) => {
                let sent = u32::from(p.transmit(&tx[..len]));
                stats.xmt_good = stats.xmt_good.wrapping_add(sent);
            }
            Event::Udp(d) => match tftp {
                Some(s) if s.port() == d.meta.dst_port => {
                    s.handle(p, now, &d.meta, d.payload, ring)
                }
                _ if *udp_open && udp_ports.wanted(d.meta.dst_port) => {
                    let kept_all = udpq.push_evicting(d.meta, d.payload);
                    stats.rcv_resource = stats.rcv_resource.wrapping_add(u32::from(!kept_all));
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// Send interface frames (ARP retries, parked datagrams) and TFTP packets.
    pub(crate) fn flush(&mut self, p: &mut dyn Platform, now: Instant) {
        while let Some(n) = self.iface.poll(now, &mut self.tx) {
            self.transmit(p, n);
        }
        let mut pkt = [0u8; 600];
        loop {
            let ring = &self.ring;
            let Some(t) = self.tftp.as_mut().and_then(|s| s.poll(now, &mut pkt, ring)) else {
                break;
            };
            let r = self.iface.send_udp(now, &t, &pkt, &mut self.tx);
            let unsent = self.send_result(p, r);
            if let Some(s) = self.tftp.as_mut() {
                s.note_send(unsent);
            }
        }
        if let Some(s) = self.tftp.as_mut() {
            s.check_arp(&self.iface, now);
        }
    }

    /// Transmit what `send_udp` produced; returns the problem if the datagram did not leave.
    pub(crate) fn send_result(&mut self, p: &mut dyn Platform, r: SendResult) -> Option<Unsent> {
        match r {
            SendResult::Sent(n) => {
                self.transmit(p, n);
                None
            }
            SendResult::ArpRequest(n) => {
                self.transmit(p, n);
                Some(Unsent::Arp)
            }
            SendResult::ArpPending => Some(Unsent::Arp),
            SendResult::NoRoute => Some(Unsent::NoRoute),
            SendResult::TooBig => Some(Unsent::TooBig),
        }
    }

    /// Send a UDP datagram whose payload is in `self.payload[..t.len]`.
    pub(crate) fn send_payload(&mut self, p: &mut dyn Platform, t: &Transmit) -> Option<Unsent> {
        let now = p.now();
        let r = self.iface.send_udp(now, t, &self.payload, &mut self.tx);
        self.send_result(p, r)
    }

    /// Poll and pump until `done` or the time limit; `true` if `done` became true.
    pub(crate) fn wait(
        &mut self,
        p: &mut dyn Platform,
        limit_ms: u64,
        mut done: impl FnMut(&mut Self, Instant) -> bool,
    ) -> bool {
        let start = p.now();
        loop {
            self.poll(p);
            let now = p.now();
            if done(self, now) {
                return true;
            }
            if now.since(start) >= limit_ms {
                return false;
            }
            p.pump();
        }
    }
}

/// Why a datagram did not leave at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unsent {
    /// Waiting for ARP (the interface sends it when resolved).
    Arp,
    /// No address or no route.
    NoRoute,
    /// Too long.
    TooBig,
}
