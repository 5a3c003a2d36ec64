//! A minimal IPv4-over-Ethernet interface (layer `rom/net`): frame in -> UDP datagram out,
//! UDP datagram in -> frame out; ARP (RFC 826) cache, resolution and replies; ICMP echo
//! (RFC 792) replies; on-link vs gateway routing.
//!
//! Wire formats are `smoltcp::wire` checked views and `Repr`s (Ethernet II, ARP, IPv4 with
//! header checksum, UDP with pseudo-header checksum — a zero UDP checksum is accepted, RFC 768 —
//! ICMPv4). IPv4 fragments (MF set or offset != 0) are dropped with [`DropReason::Fragment`]:
//! PXE traffic fits one frame. No clock, no device: the caller passes `now` and frame buffers.

use crate::fixed::PacketCopy;
use crate::{Instant, Ipv4Addr, MacAddr, Transmit, UdpMeta};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetFrame, EthernetProtocol, EthernetRepr, Icmpv4Packet,
    Icmpv4Repr, IpAddress, IpProtocol, Ipv4Packet, Ipv4Repr, UdpPacket, UdpRepr,
};

/// ARP cache entries.
pub const ARP_CACHE_SIZE: usize = 4;
/// How long a learned ARP entry stays valid.
pub const ARP_TTL_MS: u64 = 120_000;
/// Time between ARP requests while resolving.
pub const ARP_RETRY_MS: u64 = 1000;
/// ARP requests sent before a next hop is declared unreachable.
pub const ARP_TRIES: u8 = 3;
/// Ethernet + IPv4 + UDP header bytes in front of a UDP payload.
pub const UDP_HEADERS: usize = 14 + 20 + 8;
/// Minimum Ethernet frame length without FCS; shorter frames are zero-padded.
pub const MIN_FRAME: usize = 60;
const TTL: u8 = 64;

/// Protocol layer named in a [`DropReason`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Ethernet,
    Arp,
    Ipv4,
    Udp,
    Icmp,
}

/// Why a received frame was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Too short or inconsistent at this layer.
    Malformed(Layer),
    /// Checksum mismatch at this layer.
    BadChecksum(Layer),
    /// An IPv4 fragment; reassembly is not supported.
    Fragment,
    /// Addressed to another host.
    NotForUs,
    /// An EtherType, IP protocol or ICMP message we do not handle.
    Unsupported,
}

/// A received UDP datagram, borrowing the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    /// Sender's MAC.
    pub src_mac: MacAddr,
    /// Addresses and ports.
    pub meta: UdpMeta,
    /// UDP payload.
    pub payload: &'a [u8],
}

/// What a received frame led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A UDP datagram for the state machines.
    Udp(UdpDatagram<'a>),
    /// A reply (ARP reply, ICMP echo reply) was written to the tx buffer: send `tx[..n]`.
    Reply(usize),
    /// Used internally (an ARP reply learned, for instance); nothing to do.
    Handled,
    /// Not used, and why.
    Dropped(DropReason),
}

/// Result of [`Interface::send_udp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendResult {
    /// `frame[..n]` is the datagram: send it.
    Sent(usize),
    /// The next hop is not in the ARP cache: `frame[..n]` is an ARP request to send. The
    /// datagram is parked and comes out of [`Interface::poll`] once the reply arrives.
    ArpRequest(usize),
    /// Resolution for this next hop is already running; the datagram is parked.
    ArpPending,
    /// No route: no address configured, or off-link with no gateway.
    NoRoute,
    /// Payload or frame buffer too big/small.
    TooBig,
}

#[derive(Clone, Copy, Debug)]
struct ArpEntry {
    ip: Ipv4Addr,
    mac: MacAddr,
    expires: Instant,
}

#[derive(Clone, Debug)]
struct Parked {
    hop: Ipv4Addr,
    tries: u8,
    next: Instant,
    tx: Transmit,
    payload: PacketCopy,
}

/// The interface. See the module doc.
#[derive(Clone, Debug)]
pub struct Interface {
    mac: MacAddr,
    ip: Ipv4Addr,
    mask: Option<Ipv4Addr>,
    gateway: Option<Ipv4Addr>,
    cache: [Option<ArpEntry>; ARP_CACHE_SIZE],
    parked: Option<Parked>,
    unreachable: Option<Ipv4Addr>,
    caps: ChecksumCapabilities,
}

fn ip_u32(ip: Ipv4Addr) -> u32 {
    u32::from_be_bytes(ip.octets())
}

fn pad(frame: &mut [u8], len: usize) -> usize {
    if len < MIN_FRAME && frame.len() >= MIN_FRAME {
        frame[len..MIN_FRAME].fill(0);
        MIN_FRAME
    } else {
        len
    }
}

enum Hop {
    Mac(MacAddr),
    Ip(Ipv4Addr),
}

impl Interface {
    /// An unconfigured interface (IP 0.0.0.0: accepts any UDP to our MAC or broadcast, sends
    /// only broadcasts).
    pub fn new(mac: MacAddr) -> Self {
        Interface {
            mac,
            ip: Ipv4Addr::UNSPECIFIED,
            mask: None,
            gateway: None,
            cache: [None; ARP_CACHE_SIZE],
            parked: None,
            unreachable: None,
            caps: ChecksumCapabilities::default(),
        }
    }

    /// Set our address, mask and gateway (from the DHCP lease).
    pub fn configure(&mut self, ip: Ipv4Addr, mask: Option<Ipv4Addr>, gateway: Option<Ipv4Addr>) {
        self.ip = ip;
        self.mask = mask;
        self.gateway = gateway;
    }

    /// Our MAC.
    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    /// Our IP (0.0.0.0 until configured).
    pub fn ip(&self) -> Ipv4Addr {
        self.ip
    }

    /// Our subnet mask, if known.
    pub fn mask(&self) -> Option<Ipv4Addr> {
        self.mask
    }

    /// Our gateway, if known.
    pub fn gateway(&self) -> Option<Ipv4Addr> {
        self.gateway
    }

    /// The last next hop that did not answer ARP, if any.
    pub fn unreachable(&self) -> Option<Ipv4Addr> {
        self.unreachable
    }

    /// The cached MAC for `ip`, if fresh.
    pub fn lookup(&self, now: Instant, ip: Ipv4Addr) -> Option<MacAddr> {
        self.cache
            .iter()
            .flatten()
            .find(|e| e.ip == ip && now < e.expires)
            .map(|e| e.mac)
    }

    /// Remember `ip` -> `mac` (replacing the stalest entry if full).
    pub fn learn(&mut self, now: Instant, ip: Ipv4Addr, mac: MacAddr) {
        let entry = Some(ArpEntry {
            ip,
            mac,
            expires: now.plus_ms(ARP_TTL_MS),
        });
        let slot = match self
            .cache
            .iter()
            .position(|e| e.is_some_and(|e| e.ip == ip))
        {
            Some(i) => i,
            None => match self
                .cache
                .iter()
                .position(|e| e.is_none_or(|e| now >= e.expires))
            {
                Some(i) => i,
                None => {
                    let mut oldest = 0;
                    for (i, e) in self.cache.iter().enumerate() {
                        if let (Some(e), Some(o)) = (e, &self.cache[oldest]) {
                            if e.expires < o.expires {
                                oldest = i;
                            }
                        }
                    }
                    oldest
                }
            },
        };
        self.cache[slot] = entry;
    }

    /// When `poll` needs to run next.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.parked.as_ref().map(|p| p.next)
    }

    fn is_broadcast(&self, ip: Ipv4Addr) -> bool {
        if ip.is_broadcast() {
            return true;
        }
        match self.mask {
            Some(m) if !self.ip.is_unspecified() => {
                ip_u32(ip) == (ip_u32(self.ip) & ip_u32(m)) | !ip_u32(m)
            }
            _ => false,
        }
    }

    fn accepts(&self, dst: Ipv4Addr) -> bool {
        self.ip.is_unspecified() || dst == self.ip || self.is_broadcast(dst) || dst.is_multicast()
    }

    fn next_hop(&self, dst: Ipv4Addr) -> Option<Hop> {
        if self.is_broadcast(dst) {
            return Some(Hop::Mac(MacAddr::BROADCAST));
        }
        if dst.is_multicast() {
            let o = dst.octets();
            return Some(Hop::Mac(MacAddr([
                0x01,
                0x00,
                0x5e,
                o[1] & 0x7f,
                o[2],
                o[3],
            ])));
        }
        if self.ip.is_unspecified() {
            return None;
        }
        let on_link = match self.mask {
            Some(m) => ip_u32(dst) & ip_u32(m) == ip_u32(self.ip) & ip_u32(m),
            None => true,
        };
        if on_link {
            Some(Hop::Ip(dst))
        } else {
            self.gateway.map(Hop::Ip)
        }
    }

    /// Process one received frame. Replies are written to `tx`.
    pub fn handle_frame<'a>(&mut self, now: Instant, frame: &'a [u8], tx: &mut [u8]) -> Event<'a> {
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            return Event::Dropped(DropReason::Malformed(Layer::Ethernet));
        };
        let Ok(er) = EthernetRepr::parse(&eth) else {
            return Event::Dropped(DropReason::Malformed(Layer::Ethernet));
        };
        if er.dst_addr != self.mac && !er.dst_addr.is_broadcast() && !er.dst_addr.is_multicast() {
            return Event::Dropped(DropReason::NotForUs);
        }
        let payload = &frame[EthernetFrame::<&[u8]>::header_len()..];
        match er.ethertype {
            EthernetProtocol::Arp => self.handle_arp(now, payload, tx),
            EthernetProtocol::Ipv4 => self.handle_ipv4(er.src_addr, payload, tx),
            _ => Event::Dropped(DropReason::Unsupported),
        }
    }

    fn handle_arp(&mut self, now: Instant, payload: &[u8], tx: &mut [u8]) -> Event<'static> {
        let parsed = ArpPacket::new_checked(payload).and_then(|p| ArpRepr::parse(&p));
        let Ok(ArpRepr::EthernetIpv4 {
            operation,
            source_hardware_addr: smac,
            source_protocol_addr: sip,
            target_protocol_addr: tip,
            ..
        }) = parsed
        else {
            return Event::Dropped(DropReason::Malformed(Layer::Arp));
        };
        let known = self.lookup(now, sip).is_some();
        let for_us = !self.ip.is_unspecified() && tip == self.ip;
        if !for_us && !known {
            return Event::Dropped(DropReason::NotForUs);
        }
        if smac.is_unicast() && !sip.is_unspecified() {
            self.learn(now, sip, smac);
        }
        if for_us && operation == ArpOperation::Request {
            let reply = ArpRepr::EthernetIpv4 {
                operation: ArpOperation::Reply,
                source_hardware_addr: self.mac,
                source_protocol_addr: self.ip,
                target_hardware_addr: smac,
                target_protocol_addr: sip,
            };
            return match self.emit_arp(&reply, smac, tx) {
                Some(n) => Event::Reply(n),
                None => Event::Handled,
            };
        }
        Event::Handled
    }

    fn emit_arp(&self, repr: &ArpRepr, dst: MacAddr, tx: &mut [u8]) -> Option<usize> {
        let len = 14 + repr.buffer_len();
        let buf = tx.get_mut(..len)?;
        let mut eth = EthernetFrame::new_unchecked(buf);
        EthernetRepr {
            src_addr: self.mac,
            dst_addr: dst,
            ethertype: EthernetProtocol::Arp,
        }
        .emit(&mut eth);
        repr.emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
        Some(pad(tx, len))
    }

    fn handle_ipv4<'a>(&mut self, src_mac: MacAddr, payload: &'a [u8], tx: &mut [u8]) -> Event<'a> {
        let Ok(ip) = Ipv4Packet::new_checked(payload) else {
            return Event::Dropped(DropReason::Malformed(Layer::Ipv4));
        };
        if ip.version() != 4 {
            return Event::Dropped(DropReason::Malformed(Layer::Ipv4));
        }
        if !ip.verify_checksum() {
            return Event::Dropped(DropReason::BadChecksum(Layer::Ipv4));
        }
        if ip.more_frags() || ip.frag_offset() != 0 {
            return Event::Dropped(DropReason::Fragment);
        }
        let Ok(repr) = Ipv4Repr::parse(&ip, &self.caps) else {
            return Event::Dropped(DropReason::Malformed(Layer::Ipv4));
        };
        if !self.accepts(repr.dst_addr) {
            return Event::Dropped(DropReason::NotForUs);
        }
        let body = &payload[usize::from(ip.header_len())..usize::from(ip.total_len())];
        match repr.next_header {
            IpProtocol::Udp => {
                let Ok(udp) = UdpPacket::new_checked(body) else {
                    return Event::Dropped(DropReason::Malformed(Layer::Udp));
                };
                let (s, d) = (
                    IpAddress::Ipv4(repr.src_addr),
                    IpAddress::Ipv4(repr.dst_addr),
                );
                if udp.checksum() != 0 && !udp.verify_checksum(&s, &d) {
                    return Event::Dropped(DropReason::BadChecksum(Layer::Udp));
                }
                let Ok(ur) = UdpRepr::parse(&udp, &s, &d, &self.caps) else {
                    return Event::Dropped(DropReason::Malformed(Layer::Udp));
                };
                let len = usize::from(udp.len());
                Event::Udp(UdpDatagram {
                    src_mac,
                    meta: UdpMeta {
                        src_ip: repr.src_addr,
                        src_port: ur.src_port,
                        dst_ip: repr.dst_addr,
                        dst_port: ur.dst_port,
                    },
                    payload: &body[8..len],
                })
            }
            IpProtocol::Icmp if repr.dst_addr == self.ip && !self.ip.is_unspecified() => {
                let Ok(icmp) = Icmpv4Packet::new_checked(body) else {
                    return Event::Dropped(DropReason::Malformed(Layer::Icmp));
                };
                if !icmp.verify_checksum() {
                    return Event::Dropped(DropReason::BadChecksum(Layer::Icmp));
                }
                match Icmpv4Repr::parse(&icmp, &self.caps) {
                    Ok(Icmpv4Repr::EchoRequest {
                        ident,
                        seq_no,
                        data,
                    }) => {
                        let reply = Icmpv4Repr::EchoReply {
                            ident,
                            seq_no,
                            data,
                        };
                        match self.emit_icmp(&reply, repr.src_addr, src_mac, tx) {
                            Some(n) => Event::Reply(n),
                            None => Event::Dropped(DropReason::Malformed(Layer::Icmp)),
                        }
                    }
                    Ok(_) => Event::Dropped(DropReason::Unsupported),
                    Err(_) => Event::Dropped(DropReason::Malformed(Layer::Icmp)),
                }
            }
            _ => Event::Dropped(DropReason::Unsupported),
        }
    }

    fn emit_icmp(
        &self,
        icmp: &Icmpv4Repr,
        dst: Ipv4Addr,
        dst_mac: MacAddr,
        tx: &mut [u8],
    ) -> Option<usize> {
        let ipr = Ipv4Repr {
            src_addr: self.ip,
            dst_addr: dst,
            next_header: IpProtocol::Icmp,
            payload_len: icmp.buffer_len(),
            hop_limit: TTL,
        };
        let len = 14 + ipr.buffer_len() + icmp.buffer_len();
        let buf = tx.get_mut(..len)?;
        let mut eth = EthernetFrame::new_unchecked(buf);
        EthernetRepr {
            src_addr: self.mac,
            dst_addr: dst_mac,
            ethertype: EthernetProtocol::Ipv4,
        }
        .emit(&mut eth);
        let mut ip = Ipv4Packet::new_unchecked(eth.payload_mut());
        ipr.emit(&mut ip, &self.caps);
        icmp.emit(
            &mut Icmpv4Packet::new_unchecked(ip.payload_mut()),
            &self.caps,
        );
        Some(pad(tx, len))
    }

    fn emit_udp(
        &self,
        dst_mac: MacAddr,
        tx: &Transmit,
        payload: &[u8],
        frame: &mut [u8],
    ) -> Option<usize> {
        let ipr = Ipv4Repr {
            src_addr: self.ip,
            dst_addr: tx.dst_ip,
            next_header: IpProtocol::Udp,
            payload_len: 8 + payload.len(),
            hop_limit: TTL,
        };
        let len = UDP_HEADERS + payload.len();
        if len > crate::MAX_FRAME {
            return None;
        }
        let buf = frame.get_mut(..len)?;
        let mut eth = EthernetFrame::new_unchecked(buf);
        EthernetRepr {
            src_addr: self.mac,
            dst_addr: dst_mac,
            ethertype: EthernetProtocol::Ipv4,
        }
        .emit(&mut eth);
        let mut ip = Ipv4Packet::new_unchecked(eth.payload_mut());
        ipr.emit(&mut ip, &self.caps);
        let (s, d) = (IpAddress::Ipv4(self.ip), IpAddress::Ipv4(tx.dst_ip));
        UdpRepr {
            src_port: tx.src_port,
            dst_port: tx.dst_port,
        }
        .emit(
            &mut UdpPacket::new_unchecked(ip.payload_mut()),
            &s,
            &d,
            payload.len(),
            |b| b.copy_from_slice(payload),
            &self.caps,
        );
        Some(pad(frame, len))
    }

    /// Build the Ethernet frame for a datagram (`payload` = the first `tx.len` bytes the state
    /// machine wrote) into `frame`, resolving the next hop first if needed.
    pub fn send_udp(
        &mut self,
        now: Instant,
        tx: &Transmit,
        payload: &[u8],
        frame: &mut [u8],
    ) -> SendResult {
        let Some(payload) = payload.get(..tx.len) else {
            return SendResult::TooBig;
        };
        let hop_ip = match self.next_hop(tx.dst_ip) {
            None => return SendResult::NoRoute,
            Some(Hop::Mac(mac)) => {
                return self
                    .emit_udp(mac, tx, payload, frame)
                    .map_or(SendResult::TooBig, SendResult::Sent)
            }
            Some(Hop::Ip(ip)) => ip,
        };
        if let Some(mac) = self.lookup(now, hop_ip) {
            return self
                .emit_udp(mac, tx, payload, frame)
                .map_or(SendResult::TooBig, SendResult::Sent);
        }
        if payload.len() > crate::fixed::MAX_UDP_PAYLOAD {
            return SendResult::TooBig;
        }
        let same_hop = self.parked.as_ref().is_some_and(|p| p.hop == hop_ip);
        let (tries, next) = match &self.parked {
            Some(p) if same_hop => (p.tries, p.next),
            _ => (0, now),
        };
        self.parked = Some(Parked {
            hop: hop_ip,
            tries,
            next,
            tx: *tx,
            payload: PacketCopy::from_slice(payload),
        });
        if same_hop {
            return SendResult::ArpPending;
        }
        match self.arp_request(now, frame) {
            Some(n) => SendResult::ArpRequest(n),
            None => SendResult::TooBig,
        }
    }

    fn arp_request(&mut self, now: Instant, frame: &mut [u8]) -> Option<usize> {
        let p = self.parked.as_mut()?;
        p.tries += 1;
        p.next = now.plus_ms(ARP_RETRY_MS);
        let req = ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Request,
            source_hardware_addr: self.mac,
            source_protocol_addr: self.ip,
            target_hardware_addr: MacAddr([0; 6]),
            target_protocol_addr: p.hop,
        };
        self.emit_arp(&req, MacAddr::BROADCAST, frame)
    }

    /// Frames the interface itself wants sent: ARP retries, and a parked datagram once its next
    /// hop resolved. Call after each received frame and at `next_deadline`.
    pub fn poll(&mut self, now: Instant, frame: &mut [u8]) -> Option<usize> {
        let p = self.parked.as_ref()?;
        if let Some(mac) = self.lookup(now, p.hop) {
            let p = self.parked.take()?;
            return self.emit_udp(mac, &p.tx, p.payload.as_bytes(), frame);
        }
        if now < p.next {
            return None;
        }
        if p.tries >= ARP_TRIES {
            self.unreachable = Some(p.hop);
            self.parked = None;
            return None;
        }
        self.arp_request(now, frame)
    }
}
