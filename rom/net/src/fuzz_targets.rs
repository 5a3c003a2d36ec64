//! Fuzz target bodies (layer `rom/net`), shared by the cargo-fuzz crate in `rom/net/fuzz` and
//! the stable smoke test `tests/fuzz_smoke.rs`. Each must never panic on any input.

use crate::dhcp::packet::{Builder, Packet, OP_REPLY};
use crate::dhcp::pxe::PxeOptions;
use crate::dhcp::{DhcpClient, DhcpConfig, CLIENT_PORT};
use crate::dns::answer::{parse_answer, Name};
use crate::dns::{Resolver, SERVER_PORT as DNS_PORT};
use crate::iface::{Event, Interface};
use crate::tftp::packet::Repr;
use crate::tftp::{Mode, Sink, SinkFull, TftpClient, TftpConfig};
use crate::{Instant, Ipv4Addr, MacAddr, UdpMeta};

const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

/// DHCP message view, every option (incl. overload), option 43, then emit -> parse round trip.
pub fn dhcp_packet(data: &[u8]) {
    let Ok(p) = Packet::new_checked(data) else {
        return;
    };
    let _ = (
        p.op(),
        p.xid(),
        p.secs(),
        p.flags(),
        p.ciaddr(),
        p.yiaddr(),
        p.siaddr(),
    );
    let _ = (
        p.giaddr(),
        p.chaddr(),
        p.sname(),
        p.file(),
        p.message_type(),
    );
    let mut buf = [0u8; 1500];
    let Ok(mut b) = Builder::new(&mut buf, p.op(), p.xid(), p.chaddr()) else {
        return;
    };
    b.file(p.file())
        .sname(p.sname())
        .siaddr(p.siaddr())
        .yiaddr(p.yiaddr());
    let mut n = 0;
    for o in p.options() {
        n += 1;
        if o.code == 43 {
            let x = PxeOptions::parse(o.data);
            for s in x.boot_servers() {
                for ip in s.ips() {
                    let _ = ip;
                }
            }
            for m in x.menu() {
                let _ = m.desc.len();
            }
        }
        if o.code != 52 {
            b.option(o.code, o.data);
        }
    }
    if let Ok(len) = b.finish() {
        let q = Packet::new_checked(&buf[..len]).expect("emitted DHCP parses");
        let overloads = p.options().filter(|o| o.code == 52).count();
        assert_eq!(q.options().count(), n - overloads);
        assert_eq!(q.file(), &p.file()[..p.file().len().min(127)]);
    }
}

/// PXE option 43 parser on raw bytes.
pub fn pxe_options(data: &[u8]) {
    let x = PxeOptions::parse(data);
    let _ = x.boot_servers().map(|s| s.ips().count()).sum::<usize>();
    let _ = x.menu().count();
}

/// TFTP packet parse -> emit -> parse round trip.
pub fn tftp_packet(data: &[u8]) {
    let Ok(r) = Repr::parse(data) else { return };
    let mut buf = [0u8; 2048];
    if let Ok(n) = r.emit(&mut buf) {
        let again = Repr::parse(&buf[..n]).expect("emitted TFTP parses");
        assert_eq!(again, r);
    }
}

struct NullSink;
impl Sink for NullSink {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SinkFull> {
        if offset.saturating_add(data.len() as u64) > 1 << 20 {
            return Err(SinkFull);
        }
        Ok(())
    }
}

/// The longest record: a full Ethernet frame (1514 bytes + FCS, no VLAN tag).
pub const MAX_RECORD: usize = 1518;

/// Splits a target's input into records `[ctl, len_lo, len_hi, bytes...]`: a control byte
/// (time step, port choice, ...) and up to [`MAX_RECORD`] bytes of packet (the 16-bit
/// little-endian length is cut to that and to what is left).
pub fn records(data: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut rest = data;
    core::iter::from_fn(move || {
        let (&ctl, tail) = rest.split_first()?;
        let (len, tail) = match tail {
            [lo, hi, tail @ ..] => (usize::from(u16::from_le_bytes([*lo, *hi])), tail),
            _ => (0, &[][..]),
        };
        let n = len.min(MAX_RECORD).min(tail.len());
        let (chunk, tail) = tail.split_at(n);
        rest = tail;
        Some((ctl, chunk))
    })
}

/// A TFTP client fed arbitrary packets and time steps; bit 1 of the first byte asks for
/// full-size blocks (1468 bytes, a 1472-byte DATA packet), else 64.
pub fn tftp_client(data: &[u8]) {
    let server = Ipv4Addr::new(10, 0, 0, 1);
    let cfg = TftpConfig {
        blksize: if data.first().is_some_and(|b| b & 2 != 0) {
            1468
        } else {
            64
        },
        windowsize: 4,
        ..TftpConfig::default()
    };
    let mode = if data.first().is_some_and(|b| b & 1 == 1) {
        Mode::SizeOnly
    } else {
        Mode::Read
    };
    let mut c = TftpClient::new(Instant(0), cfg, mode, server, 2000, b"f");
    let mut now = 0u64;
    let mut buf = [0u8; 1500];
    for (ctl, chunk) in records(data.get(1..).unwrap_or(&[])) {
        now += u64::from(ctl & 0x0f) * 300;
        let port = if ctl & 0x10 != 0 { 70 } else { 69 };
        let meta = UdpMeta {
            src_ip: server,
            src_port: port,
            dst_ip: Ipv4Addr::new(10, 0, 0, 2),
            dst_port: 2000,
        };
        c.handle(Instant(now), &meta, chunk, &mut NullSink);
        while c.poll(Instant(now), &mut buf).is_some() {}
    }
}

/// A DHCP client fed arbitrary replies (xid/chaddr patched in so they reach the machine), up
/// to full-size messages whose options overflow into `file` and `sname` (option 52).
pub fn dhcp_client(data: &[u8]) {
    let _ = dhcp_client_boot_file(data, &mut [0u8; 128]);
}

/// [`dhcp_client`], returning the length of the boot file name the run settled on (copied to
/// `file`), if it bound one.
pub fn dhcp_client_boot_file(data: &[u8], file: &mut [u8; 128]) -> Option<usize> {
    let cfg = DhcpConfig::new(MAC, 0x1234_5678);
    let mut c = DhcpClient::new(cfg, Instant(0));
    let mut buf = [0u8; 1500];
    let mut pkt = [0u8; MAX_RECORD];
    let mut now = 0u64;
    for (ctl, chunk) in records(data) {
        now += u64::from(ctl & 0x0f) * 700;
        while c.poll(Instant(now), &mut buf).is_some() {}
        let n = chunk.len().min(pkt.len());
        pkt[..n].copy_from_slice(&chunk[..n]);
        if n >= 240 {
            pkt[0] = OP_REPLY;
            pkt[4..8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
            pkt[28..34].copy_from_slice(&MAC);
            pkt[236..240].copy_from_slice(&crate::dhcp::packet::MAGIC);
        }
        let src_port = if ctl & 0x10 != 0 { 4011 } else { 67 };
        let meta = UdpMeta {
            src_ip: Ipv4Addr::new(10, 0, 0, ctl >> 5),
            src_port,
            dst_ip: Ipv4Addr::BROADCAST,
            dst_port: CLIENT_PORT,
        };
        c.handle(Instant(now), &meta, &pkt[..n]);
        if ctl & 0x80 != 0 {
            if let Some(first) = c.menu().and_then(|m| m.items().next()).map(|i| i.item_type) {
                c.select(Instant(now), first);
            }
        }
        while c.pop_event().is_some() {}
    }
    while c.poll(Instant(now + 120_000), &mut buf).is_some() {}
    let name = c.outcome()?.ok()?.boot_file.as_bytes();
    let n = name.len().min(file.len());
    file[..n].copy_from_slice(&name[..n]);
    Some(n)
}

/// The interface fed arbitrary frames (ARP/IPv4/UDP/ICMP parsing), plus sends.
pub fn iface(data: &[u8]) {
    let mut i = Interface::new(MacAddr(MAC));
    if data.first().is_some_and(|b| b & 1 == 1) {
        i.configure(
            Ipv4Addr::new(10, 0, 0, 2),
            Some(Ipv4Addr::new(255, 255, 255, 0)),
            Some(Ipv4Addr::new(10, 0, 0, 1)),
        );
    }
    let mut tx = [0u8; MAX_RECORD];
    let mut now = 0u64;
    for (ctl, chunk) in records(data.get(1..).unwrap_or(&[])) {
        now += u64::from(ctl) * 10;
        match i.handle_frame(Instant(now), chunk, &mut tx) {
            Event::Udp(d) => assert!(d.payload.len() <= chunk.len()),
            Event::Reply(n) => assert!(n <= tx.len()),
            _ => {}
        }
        if ctl & 0x80 != 0 {
            let t = crate::Transmit {
                src_port: 68,
                dst_ip: Ipv4Addr::new(10, 0, ctl & 1, 9),
                dst_port: 4011,
                len: chunk.len().min(1400),
            };
            let _ = i.send_udp(Instant(now), &t, chunk, &mut tx);
        }
        while i.poll(Instant(now), &mut tx).is_some() {}
    }
}

/// A DNS answer (up to a full 1472-byte datagram) read for the query `boot.lan` with the
/// message's own id, then fed to a resolver again and again (its id patched in) while its
/// timers run: CNAME-only answers, errors and hand-overs between two servers.
pub fn dns_answer(data: &[u8]) {
    let Ok((qname, _)) = Name::from_text(b"boot.lan") else {
        return;
    };
    let id = data
        .get(..2)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let _ = parse_answer(data, id, &qname);
    let servers = [Ipv4Addr::new(10, 0, 0, 53), Ipv4Addr::new(10, 0, 0, 54)];
    let seed = data
        .iter()
        .fold(7u32, |h, b| h.rotate_left(5) ^ u32::from(*b));
    let mut r = Resolver::new(Instant(0), b"boot", &servers, b"lan", seed);
    let mut buf = [0u8; 512];
    let mut msg = [0u8; 1472];
    let n = data.len().min(msg.len());
    msg[..n].copy_from_slice(&data[..n]);
    let mut now = 0u64;
    for step in 0..40u64 {
        while let Some(t) = r.poll(Instant(now), &mut buf) {
            assert!(t.len <= buf.len() && t.dst_port == DNS_PORT);
            if n >= 2 {
                msg[..2].copy_from_slice(&buf[..2]);
            }
            if step % 3 != 2 {
                let meta = UdpMeta {
                    src_ip: t.dst_ip,
                    src_port: DNS_PORT,
                    dst_ip: Ipv4Addr::new(10, 0, 0, 2),
                    dst_port: t.src_port,
                };
                r.handle(Instant(now), &meta, &msg[..n]);
            }
        }
        while r.pop_event().is_some() {}
        if r.result().is_some() {
            break;
        }
        now += 1000;
    }
    let _ = r.server_errors().count();
}

/// A fuzz target body.
pub type Target = fn(&[u8]);

/// All targets by name, for the smoke test.
pub const ALL: [(&str, Target); 7] = [
    ("dhcp_packet", dhcp_packet),
    ("pxe_options", pxe_options),
    ("tftp_packet", tftp_packet),
    ("tftp_client", tftp_client),
    ("dhcp_client", dhcp_client),
    ("iface", iface),
    ("dns_answer", dns_answer),
];
