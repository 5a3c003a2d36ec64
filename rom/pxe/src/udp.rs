//! PXE UDP API (layer `rom/pxe`, PXE 2.1 §3.4): UDP_OPEN/CLOSE/READ/WRITE over our interface.
//! UDP_READ is non-blocking (FAILURE when nothing waits; NBPs poll it), filters on `d_port`
//! (and `dest_ip` when set) and fills in the source and destination addresses and ports, which
//! NTLDR relies on. UDP_WRITE resolves the next hop (ARP, via `gw` or our gateway) before it
//! returns, so an unreachable peer gives ARP_TIMEOUT.

use crate::abi::{port_from_wire, port_to_wire, SegOff16, Status, UdpOpen, UdpRead, UdpWrite};
use crate::dispatch::{with_block, Reply};
use crate::mem::{read_at, write_at};
use crate::platform::Platform;
use crate::stack::{PxeStack, Unsent, MAX_UDP};
use softpxe_net::{Ipv4Addr, Transmit};

/// The local UDP ports the NBP has shown it uses since UDP_OPEN: the source ports of its
/// UDP_WRITEs and the ports it asked UDP_READ for. Datagrams for other ports are not queued
/// (broadcast chatter such as NetBIOS on 137/138 would otherwise fill the queue that the NBP,
/// reading only its own port, never drains). Until the NBP names a port, or once it reads with
/// `d_port` 0 (any), every datagram is queued.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ports {
    list: [u16; 8],
    n: usize,
    any: bool,
}

impl Ports {
    /// The NBP uses `port` (0: any port). The oldest is forgotten when the list is full.
    pub(crate) fn note(&mut self, port: u16) {
        if port == 0 {
            self.any = true;
        } else if !self.list[..self.n].contains(&port) {
            if self.n == self.list.len() {
                self.list.rotate_left(1);
                self.n -= 1;
            }
            self.list[self.n] = port;
            self.n += 1;
        }
    }

    /// Whether a datagram for local port `port` should wait for UDP_READ.
    pub(crate) fn wanted(&self, port: u16) -> bool {
        self.any || self.n == 0 || self.list[..self.n].contains(&port)
    }
}

/// Source port UDP_WRITE uses when the NBP passes 0.
pub const DEFAULT_SRC_PORT: u16 = 2069;
/// How long UDP_WRITE waits for ARP, in ms (3 requests 1 s apart).
const ARP_WAIT_MS: u64 = 3500;

/// UDP_OPEN: `src_ip` 0 keeps our address, anything else becomes it.
pub(crate) fn open(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut UdpOpen, p| {
        let ip = Ipv4Addr::from(b.src_ip);
        if !ip.is_unspecified() && ip != s.iface.ip() {
            s.iface.configure(ip, s.mask, s.gateway);
        }
        if !s.ensure_open(p) {
            return Status::UNDI_CANNOT_INITIALIZE_NIC.into();
        }
        s.udp_open = true;
        s.udpq.clear();
        s.udp_ports = Ports::default();
        Status::SUCCESS.into()
    })
}

/// UDP_CLOSE.
pub(crate) fn close(s: &mut PxeStack, _: &mut dyn Platform, _: SegOff16) -> Reply {
    s.udp_open = false;
    s.udpq.clear();
    s.udp_ports = Ports::default();
    Status::SUCCESS.into()
}

/// UDP_READ: one waiting datagram for `d_port` (0: any).
pub(crate) fn read(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut UdpRead, p| {
        if !s.udp_open {
            return Status::UDP_CLOSED.into();
        }
        let want_port = port_from_wire(b.d_port);
        s.udp_ports.note(want_port);
        s.poll(p);
        let want_ip = Ipv4Addr::from(b.dest_ip);
        let mut buf = [0u8; MAX_UDP];
        let limit = usize::from(b.buffer_size);
        let Some((meta, _, copied)) = s.udpq.take(
            |m| {
                (want_port == 0 || m.dst_port == want_port)
                    && (want_ip.is_unspecified() || m.dst_ip == want_ip)
            },
            &mut buf[..limit.min(MAX_UDP)],
        ) else {
            return Status::FAILURE.into();
        };
        if !write_at(p, b.buffer, &buf[..copied]) {
            return Status::FAILURE.into();
        }
        b.src_ip = meta.src_ip.octets();
        b.dest_ip = meta.dst_ip.octets();
        b.s_port = port_to_wire(meta.src_port);
        b.d_port = port_to_wire(meta.dst_port);
        b.buffer_size = copied as u16;
        Status::SUCCESS.into()
    })
}

/// UDP_WRITE.
pub(crate) fn write(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut UdpWrite, p| {
        if !s.udp_open {
            return Status::UDP_CLOSED.into();
        }
        let len = usize::from(b.buffer_size);
        if len > MAX_UDP {
            return Status::OUT_OF_RESOURCES.into();
        }
        let dst = Ipv4Addr::from(b.ip);
        if dst.is_unspecified() {
            return Status::FAILURE.into();
        }
        if !read_at(&*p, b.buffer, &mut s.payload[..len]) {
            return Status::FAILURE.into();
        }
        let src_port = match port_from_wire(b.src_port) {
            0 => DEFAULT_SRC_PORT,
            n => n,
        };
        s.udp_ports.note(src_port);
        let t = Transmit {
            src_port,
            dst_ip: dst,
            dst_port: port_from_wire(b.dst_port),
            len,
        };
        let gw = Some(Ipv4Addr::from(b.gw)).filter(|g| !g.is_unspecified());
        let ip = s.iface.ip();
        if gw.is_some() {
            s.iface.configure(ip, s.mask, gw);
        }
        let r = s.send_payload(p, &t);
        if gw.is_some() {
            s.iface.configure(ip, s.mask, s.gateway);
        }
        match r {
            None => Status::SUCCESS.into(),
            Some(Unsent::Arp) => {
                let sent = s.wait(p, ARP_WAIT_MS, |st, _| st.iface.next_deadline().is_none());
                let hop_known = sent && {
                    let now = p.now();
                    s.iface.lookup(now, dst).is_some()
                        || gw
                            .or(s.gateway)
                            .is_some_and(|g| s.iface.lookup(now, g).is_some())
                };
                if hop_known {
                    Status::SUCCESS.into()
                } else {
                    Status::ARP_TIMEOUT.into()
                }
            }
            Some(Unsent::NoRoute) => Status::FAILURE.into(),
            Some(Unsent::TooBig) => Status::OUT_OF_RESOURCES.into(),
        }
    })
}
