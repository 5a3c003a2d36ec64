//! UDP_OPEN/WRITE/READ/CLOSE against the fake peer's echo service.
mod common;
use common::*;
use softpxe_pxe::abi::*;
use softpxe_pxe::{PxeStack, Status as S, DEFAULT_SRC_PORT};

fn open(s: &mut PxeStack, f: &mut Fake, ip: [u8; 4]) -> Status {
    call(
        s,
        f,
        Opcode::UDP_OPEN,
        &UdpOpen {
            Status: 0,
            src_ip: ip,
        },
    )
    .0
    .status
}

fn write(
    s: &mut PxeStack,
    f: &mut Fake,
    ip: [u8; 4],
    sport: u16,
    dport: u16,
    data: &[u8],
) -> Status {
    f.put(BUF, data);
    let b = UdpWrite {
        Status: 0,
        ip,
        gw: [0; 4],
        src_port: port_to_wire(sport),
        dst_port: port_to_wire(dport),
        buffer_size: data.len() as u16,
        buffer: BUF,
    };
    call(s, f, Opcode::UDP_WRITE, &b).0.status
}

fn read(s: &mut PxeStack, f: &mut Fake, dport: u16, size: u16) -> (Status, UdpRead) {
    let b = UdpRead {
        Status: 0,
        src_ip: [0; 4],
        dest_ip: [0; 4],
        s_port: 0,
        d_port: port_to_wire(dport),
        buffer_size: size,
        buffer: SegOff16::new(0x4000, 0),
    };
    let (o, back) = call(s, f, Opcode::UDP_READ, &b);
    (o.status, back)
}

#[test]
fn write_then_read_echo_fills_addresses() {
    let (mut s, mut f) = setup();
    assert_eq!(open(&mut s, &mut f, [0; 4]), S::SUCCESS);
    assert_eq!(
        write(&mut s, &mut f, PEER_IP.octets(), 0, 7, b"hello pxe"),
        S::SUCCESS
    );
    let sent = f.tx.iter().rev().find_map(|fr| parse_udp(fr)).unwrap();
    assert_eq!(
        (sent.0, sent.1, sent.2, sent.3),
        (OUR_IP, DEFAULT_SRC_PORT, PEER_IP, 7)
    );
    let (st, b) = read(&mut s, &mut f, DEFAULT_SRC_PORT, 512);
    assert_eq!(st, S::SUCCESS);
    assert_eq!(b.src_ip, PEER_IP.octets());
    assert_eq!(b.dest_ip, OUR_IP.octets());
    assert_eq!(port_from_wire(b.s_port), 7);
    assert_eq!(port_from_wire(b.d_port), DEFAULT_SRC_PORT);
    assert_eq!({ b.buffer_size }, 9);
    assert_eq!(f.get(SegOff16::new(0x4000, 0), 9), b"hello pxe");
    assert_eq!(
        read(&mut s, &mut f, 0, 512).0,
        S::FAILURE,
        "nothing more waits"
    );
}

#[test]
fn read_filters_by_port_and_truncates() {
    let (mut s, mut f) = setup();
    assert_eq!(open(&mut s, &mut f, [0; 4]), S::SUCCESS);
    // the NBP reads both ports (nothing waits yet)
    assert_eq!(read(&mut s, &mut f, 1000, 100).0, S::FAILURE);
    assert_eq!(read(&mut s, &mut f, 2000, 100).0, S::FAILURE);
    f.rx.push_back(udp_frame(
        OUR_MAC,
        (PEER_IP, 53),
        (OUR_IP, 1000),
        b"for 1000",
    ));
    f.rx.push_back(udp_frame(
        OUR_MAC,
        (PEER_IP, 53),
        (OUR_IP, 2000),
        b"for 2000",
    ));
    let (st, b) = read(&mut s, &mut f, 2000, 3);
    assert_eq!(st, S::SUCCESS);
    assert_eq!(port_from_wire(b.d_port), 2000);
    assert_eq!({ b.buffer_size }, 3);
    assert_eq!(f.get(SegOff16::new(0x4000, 0), 3), b"for");
    let (st, b) = read(&mut s, &mut f, 0, 100);
    assert_eq!((st, port_from_wire(b.d_port)), (S::SUCCESS, 1000));
}

#[test]
fn closed_and_bad_inputs() {
    let (mut s, mut f) = setup();
    assert_eq!(
        write(&mut s, &mut f, PEER_IP.octets(), 1, 7, b"x"),
        S::UDP_CLOSED
    );
    assert_eq!(read(&mut s, &mut f, 0, 10).0, S::UDP_CLOSED);
    assert_eq!(open(&mut s, &mut f, [0; 4]), S::SUCCESS);
    assert_eq!(write(&mut s, &mut f, [0; 4], 1, 7, b"x"), S::FAILURE);
    assert_eq!(
        write(&mut s, &mut f, [192, 168, 1, 1], 1, 7, b"x"),
        S::FAILURE,
        "off-link, no gateway"
    );
    let b = UdpWrite {
        Status: 0,
        ip: PEER_IP.octets(),
        gw: [0; 4],
        src_port: 0,
        dst_port: 0,
        buffer_size: 2000,
        buffer: BUF,
    };
    assert_eq!(
        call(&mut s, &mut f, Opcode::UDP_WRITE, &b).0.status,
        S::OUT_OF_RESOURCES
    );
    let b = UdpWrite {
        buffer_size: 100,
        buffer: SegOff16::new(0xFFFF, 0xFFC0),
        ..b
    };
    assert_eq!(
        call(&mut s, &mut f, Opcode::UDP_WRITE, &b).0.status,
        S::FAILURE
    );
    f.peer.as_mut().unwrap().answer_arp = false;
    assert_eq!(
        write(&mut s, &mut f, [10, 0, 2, 3], 1, 7, b"x"),
        S::ARP_TIMEOUT
    );
    assert_eq!(
        call(&mut s, &mut f, Opcode::UDP_CLOSE, &[0u8; 2]).0.status,
        S::SUCCESS
    );
    assert_eq!(read(&mut s, &mut f, 0, 10).0, S::UDP_CLOSED);
}

#[test]
fn open_with_src_ip_sets_our_address() {
    let (mut s, mut f) = setup();
    assert_eq!(open(&mut s, &mut f, [10, 0, 2, 99]), S::SUCCESS);
    assert_eq!(s.ip().octets(), [10, 0, 2, 99]);
    assert_eq!(
        write(&mut s, &mut f, PEER_IP.octets(), 5000, 7, b"a"),
        S::SUCCESS
    );
    let sent = f.tx.iter().rev().find_map(|fr| parse_udp(fr)).unwrap();
    assert_eq!((sent.0.octets(), sent.1), ([10, 0, 2, 99], 5000));
}

fn datagram(s: &mut PxeStack, f: &mut Fake, port: u16, text: &str) -> Option<String> {
    for _ in 0..10 {
        let (st, b) = read(s, f, port, 512);
        if st == S::SUCCESS {
            let n = usize::from(b.buffer_size);
            return Some(String::from_utf8(f.get(SegOff16::new(0x4000, 0), n)).unwrap());
        }
    }
    let _ = text;
    None
}

/// Broadcast chatter (NetBIOS 137/138) for ports the NBP never reads must not fill the queue:
/// with four such datagrams queued, every datagram for the NBP's own port used to be dropped.
#[test]
fn chatter_for_other_ports_does_not_crowd_out_the_nbps_port() {
    let (mut s, mut f) = setup();
    assert_eq!(open(&mut s, &mut f, [0; 4]), S::SUCCESS);
    assert_eq!(
        write(&mut s, &mut f, PEER_IP.octets(), 49152, 9999, b"hello"),
        S::SUCCESS
    );
    for i in 0..20u16 {
        f.rx.push_back(udp_frame(
            OUR_MAC,
            (PEER_IP, 137),
            (OUR_IP, 137 + i % 2),
            b"netbios",
        ));
    }
    f.rx.push_back(udp_frame(
        OUR_MAC,
        (PEER_IP, 1234),
        (OUR_IP, 49152),
        b"data 1",
    ));
    assert_eq!(
        datagram(&mut s, &mut f, 49152, "").as_deref(),
        Some("data 1")
    );
    for i in 0..20u16 {
        f.rx.push_back(udp_frame(OUR_MAC, (PEER_IP, 137), (OUR_IP, 138), b"more"));
        if i == 10 {
            f.rx.push_back(udp_frame(
                OUR_MAC,
                (PEER_IP, 1234),
                (OUR_IP, 49152),
                b"data 2",
            ));
        }
    }
    assert_eq!(
        datagram(&mut s, &mut f, 49152, "").as_deref(),
        Some("data 2")
    );
    assert_eq!(read(&mut s, &mut f, 49152, 512).0, S::FAILURE);
}

/// Until the NBP names a port every datagram waits; a full queue gives up its oldest entry
/// (a stale datagram nobody reads must not block newer ones).
#[test]
fn a_full_queue_drops_its_oldest_datagram() {
    let (mut s, mut f) = setup();
    assert_eq!(open(&mut s, &mut f, [0; 4]), S::SUCCESS);
    for i in 0..12u16 {
        f.rx.push_back(udp_frame(
            OUR_MAC,
            (PEER_IP, 7),
            (OUR_IP, 3000 + i),
            format!("n{i}").as_bytes(),
        ));
    }
    // reading with d_port 0 (any) keeps every port wanted
    let first = datagram(&mut s, &mut f, 0, "");
    let mut got = vec![first.unwrap()];
    while let Some(d) = datagram(&mut s, &mut f, 0, "") {
        got.push(d);
    }
    assert!(got.len() >= 8, "{got:?}");
    assert_eq!(got.last().map(String::as_str), Some("n11"), "{got:?}");
}
