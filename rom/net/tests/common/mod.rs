//! Packet constructors shared by the integration tests.
#![allow(dead_code)]

use softpxe_net::dhcp::packet::{self, code, msg, Builder, Packet};
use softpxe_net::{Instant, Ipv4Addr, UdpMeta};

pub const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0xab, 0xcd, 0xef];
pub const XID: u32 = 0xdead_beef;

pub fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

pub fn s(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

pub fn ms(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// A server reply as a DHCP server would build it.
pub struct Reply {
    pub msg: u8,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub server_id: Option<Ipv4Addr>,
    pub file: &'static [u8],
    pub opts: Vec<(u8, Vec<u8>)>,
}

impl Reply {
    pub fn new(msg: u8, server: Ipv4Addr) -> Self {
        Reply {
            msg,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            server_id: Some(server),
            file: b"",
            opts: vec![],
        }
    }
    pub fn dhcp(msg: u8, server: Ipv4Addr, yiaddr: Ipv4Addr) -> Self {
        let mut r = Reply::new(msg, server);
        r.yiaddr = yiaddr;
        r.opt(code::SUBNET_MASK, &[255, 255, 255, 0])
            .opt(code::ROUTER, &[10, 0, 0, 1])
            .opt(code::DNS, &[10, 0, 0, 53])
    }
    pub fn proxy(msg: u8, server: Ipv4Addr) -> Self {
        Reply::new(msg, server).opt(code::VENDOR_CLASS, b"PXEClient")
    }
    pub fn opt(mut self, c: u8, d: &[u8]) -> Self {
        self.opts.push((c, d.to_vec()));
        self
    }
    pub fn file(mut self, f: &'static [u8]) -> Self {
        self.file = f;
        self
    }
    pub fn siaddr(mut self, si: Ipv4Addr) -> Self {
        self.siaddr = si;
        self
    }
    pub fn build(&self) -> Vec<u8> {
        let mut buf = vec![0u8; 1500];
        let mut b = Builder::new(&mut buf, packet::OP_REPLY, XID, MAC).unwrap();
        b.yiaddr(self.yiaddr).siaddr(self.siaddr).file(self.file);
        b.option(code::MESSAGE_TYPE, &[self.msg]);
        if let Some(sid) = self.server_id {
            b.option(code::SERVER_ID, &sid.octets());
        }
        for (c, d) in &self.opts {
            b.option(*c, d);
        }
        let n = b.finish().unwrap();
        buf.truncate(n);
        buf
    }
}

/// Option 43 sub-options from `(code, data)` pairs.
pub fn opt43(subs: &[(u8, &[u8])]) -> Vec<u8> {
    let mut v = vec![];
    for (c, d) in subs {
        v.push(*c);
        v.push(d.len() as u8);
        v.extend_from_slice(d);
    }
    v.push(255);
    v
}

pub fn meta(src: Ipv4Addr, src_port: u16) -> UdpMeta {
    UdpMeta {
        src_ip: src,
        src_port,
        dst_ip: Ipv4Addr::BROADCAST,
        dst_port: 68,
    }
}

/// Message type of a packet the client sent.
pub fn sent_type(buf: &[u8]) -> u8 {
    Packet::new_checked(buf).unwrap().message_type().unwrap()
}

pub const OFFER: u8 = msg::OFFER;
pub const ACK: u8 = msg::ACK;
pub const NAK: u8 = msg::NAK;
