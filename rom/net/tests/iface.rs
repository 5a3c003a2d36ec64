//! Interface: ARP answer/resolve/expiry, routing, UDP in/out, checksums, fragments, ICMP echo.
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::*;
use softpxe_net::iface::*;
use softpxe_net::{Instant, Ipv4Addr, MacAddr, Transmit};

const US: MacAddr = MacAddr([0x52, 0x54, 0, 1, 2, 3]);
const PEER: MacAddr = MacAddr([0x52, 0x54, 0, 9, 9, 9]);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 50);
const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const GW: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

fn iface() -> Interface {
    let mut i = Interface::new(US);
    i.configure(OUR_IP, Some(Ipv4Addr::new(255, 255, 255, 0)), Some(GW));
    i
}

fn arp(op: ArpOperation, smac: MacAddr, sip: Ipv4Addr, tip: Ipv4Addr, dst: MacAddr) -> Vec<u8> {
    let r = ArpRepr::EthernetIpv4 {
        operation: op,
        source_hardware_addr: smac,
        source_protocol_addr: sip,
        target_hardware_addr: MacAddr([0; 6]),
        target_protocol_addr: tip,
    };
    let mut b = vec![0u8; 42];
    let mut e = EthernetFrame::new_unchecked(&mut b[..]);
    EthernetRepr {
        src_addr: smac,
        dst_addr: dst,
        ethertype: EthernetProtocol::Arp,
    }
    .emit(&mut e);
    r.emit(&mut ArpPacket::new_unchecked(e.payload_mut()));
    b
}

fn udp_frame(src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8], zero_csum: bool) -> Vec<u8> {
    let mut i = Interface::new(PEER);
    i.configure(src, None, None);
    i.learn(Instant(0), dst, US);
    let t = Transmit {
        src_port: 67,
        dst_ip: dst,
        dst_port: 68,
        len: payload.len(),
    };
    let mut f = vec![0u8; 1514];
    let n = match i.send_udp(Instant(0), &t, payload, &mut f) {
        SendResult::Sent(n) => n,
        other => panic!("{other:?}"),
    };
    f.truncate(n);
    if zero_csum {
        f[14 + 20 + 6] = 0;
        f[14 + 20 + 7] = 0;
    }
    f
}

#[test]
fn answers_arp_for_our_address_and_learns_sender() {
    let mut i = iface();
    let mut tx = [0u8; 1514];
    let req = arp(
        ArpOperation::Request,
        PEER,
        PEER_IP,
        OUR_IP,
        MacAddr::BROADCAST,
    );
    let Event::Reply(n) = i.handle_frame(Instant(0), &req, &mut tx) else {
        panic!()
    };
    assert_eq!(n, 60, "padded to the Ethernet minimum");
    let e = EthernetFrame::new_checked(&tx[..n]).unwrap();
    assert_eq!(e.dst_addr(), PEER);
    match ArpRepr::parse(&ArpPacket::new_checked(e.payload()).unwrap()).unwrap() {
        ArpRepr::EthernetIpv4 {
            operation,
            source_hardware_addr,
            source_protocol_addr,
            target_protocol_addr,
            ..
        } => {
            assert_eq!(operation, ArpOperation::Reply);
            assert_eq!(
                (
                    source_hardware_addr,
                    source_protocol_addr,
                    target_protocol_addr
                ),
                (US, OUR_IP, PEER_IP)
            );
        }
        _ => unreachable!(),
    }
    assert_eq!(i.lookup(Instant(0), PEER_IP), Some(PEER));
    let other = arp(
        ArpOperation::Request,
        PEER,
        PEER_IP,
        Ipv4Addr::new(10, 0, 0, 77),
        MacAddr::BROADCAST,
    );
    assert_eq!(
        i.handle_frame(Instant(1), &other, &mut tx),
        Event::Handled,
        "refreshes a known sender only"
    );
    assert_eq!(i.lookup(Instant(ARP_TTL_MS), PEER_IP), Some(PEER));
    assert_eq!(
        i.lookup(Instant(ARP_TTL_MS * 3), PEER_IP),
        None,
        "entries expire"
    );
}

#[test]
fn unicast_send_resolves_then_flushes_parked_datagram() {
    let mut i = iface();
    let mut f = [0u8; 1514];
    let t = Transmit {
        src_port: 68,
        dst_ip: PEER_IP,
        dst_port: 4011,
        len: 5,
    };
    let SendResult::ArpRequest(n) = i.send_udp(Instant(0), &t, b"hello", &mut f) else {
        panic!()
    };
    let e = EthernetFrame::new_checked(&f[..n]).unwrap();
    assert_eq!(
        (e.dst_addr(), e.ethertype()),
        (MacAddr::BROADCAST, EthernetProtocol::Arp)
    );
    assert_eq!(
        i.send_udp(Instant(10), &t, b"hello", &mut f),
        SendResult::ArpPending
    );
    assert_eq!(i.poll(Instant(500), &mut f), None);
    assert!(
        i.poll(Instant(1000), &mut f).is_some(),
        "ARP retry after 1 s"
    );
    let reply = arp(ArpOperation::Reply, PEER, PEER_IP, OUR_IP, US);
    assert_eq!(
        i.handle_frame(Instant(1200), &reply, &mut [0u8; 100]),
        Event::Handled
    );
    let n = i.poll(Instant(1200), &mut f).unwrap();
    let e = EthernetFrame::new_checked(&f[..n]).unwrap();
    assert_eq!(e.dst_addr(), PEER);
    let ip = Ipv4Packet::new_checked(e.payload()).unwrap();
    assert!(ip.verify_checksum());
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    assert!(udp.verify_checksum(&IpAddress::Ipv4(OUR_IP), &IpAddress::Ipv4(PEER_IP)));
    assert_eq!((udp.dst_port(), udp.payload()), (4011, &b"hello"[..]));
    assert_eq!(i.poll(Instant(1300), &mut f), None);
}

#[test]
fn arp_gives_up_after_three_tries() {
    let mut i = iface();
    let mut f = [0u8; 1514];
    let t = Transmit {
        src_port: 68,
        dst_ip: PEER_IP,
        dst_port: 69,
        len: 1,
    };
    assert!(matches!(
        i.send_udp(Instant(0), &t, b"x", &mut f),
        SendResult::ArpRequest(_)
    ));
    assert!(i.poll(Instant(1000), &mut f).is_some());
    assert!(i.poll(Instant(2000), &mut f).is_some());
    assert_eq!(i.poll(Instant(3000), &mut f), None);
    assert_eq!(i.unreachable(), Some(PEER_IP));
    assert_eq!(i.next_deadline(), None);
}

#[test]
fn routing_broadcast_multicast_gateway() {
    let mut i = iface();
    let mut f = [0u8; 1514];
    let mut dst_mac = |i: &mut Interface, ip: Ipv4Addr| {
        let t = Transmit {
            src_port: 68,
            dst_ip: ip,
            dst_port: 67,
            len: 0,
        };
        match i.send_udp(Instant(0), &t, b"", &mut f) {
            SendResult::Sent(n) => Some(EthernetFrame::new_checked(&f[..n]).unwrap().dst_addr()),
            SendResult::ArpRequest(n) => {
                let e = EthernetFrame::new_checked(&f[..n]).unwrap();
                match ArpRepr::parse(&ArpPacket::new_checked(e.payload()).unwrap()).unwrap() {
                    ArpRepr::EthernetIpv4 {
                        target_protocol_addr,
                        ..
                    } => Some(MacAddr([0, 0, 0, 0, 0, target_protocol_addr.octets()[3]])),
                    _ => None,
                }
            }
            _ => None,
        }
    };
    assert_eq!(
        dst_mac(&mut i, Ipv4Addr::BROADCAST),
        Some(MacAddr::BROADCAST)
    );
    assert_eq!(
        dst_mac(&mut i, Ipv4Addr::new(10, 0, 0, 255)),
        Some(MacAddr::BROADCAST)
    );
    assert_eq!(
        dst_mac(&mut i, Ipv4Addr::new(224, 0, 1, 2)),
        Some(MacAddr([1, 0, 0x5e, 0, 1, 2]))
    );
    assert_eq!(
        dst_mac(&mut i, Ipv4Addr::new(192, 168, 1, 1)),
        Some(MacAddr([0, 0, 0, 0, 0, 1])),
        "via gateway"
    );
    let mut j = Interface::new(US);
    let t = Transmit {
        src_port: 68,
        dst_ip: PEER_IP,
        dst_port: 67,
        len: 0,
    };
    assert_eq!(j.send_udp(Instant(0), &t, b"", &mut f), SendResult::NoRoute);
}

#[test]
fn udp_in_with_and_without_checksum() {
    let mut i = Interface::new(US);
    let mut tx = [0u8; 100];
    for zero in [false, true] {
        let f = udp_frame(PEER_IP, Ipv4Addr::BROADCAST, b"offer", zero);
        match i.handle_frame(Instant(0), &f, &mut tx) {
            Event::Udp(d) => {
                assert_eq!(
                    (d.meta.src_ip, d.meta.src_port, d.meta.dst_port),
                    (PEER_IP, 67, 68)
                );
                assert_eq!((d.payload, d.src_mac), (&b"offer"[..], PEER));
            }
            other => panic!("{other:?}"),
        }
    }
    let mut bad = udp_frame(PEER_IP, Ipv4Addr::BROADCAST, b"offer", false);
    bad[14 + 28] ^= 1;
    assert_eq!(
        i.handle_frame(Instant(0), &bad, &mut tx),
        Event::Dropped(DropReason::BadChecksum(Layer::Udp))
    );
    let mut bad = udp_frame(PEER_IP, Ipv4Addr::BROADCAST, b"offer", false);
    bad[14 + 8] ^= 1; // TTL, IP checksum now wrong
    assert_eq!(
        i.handle_frame(Instant(0), &bad, &mut tx),
        Event::Dropped(DropReason::BadChecksum(Layer::Ipv4))
    );
}

#[test]
fn fragments_and_strangers_are_dropped() {
    let mut i = iface();
    let mut tx = [0u8; 100];
    let mut f = udp_frame(PEER_IP, OUR_IP, b"frag", false);
    {
        let mut ip = Ipv4Packet::new_unchecked(&mut f[14..]);
        ip.set_more_frags(true);
        ip.fill_checksum();
    }
    assert_eq!(
        i.handle_frame(Instant(0), &f, &mut tx),
        Event::Dropped(DropReason::Fragment)
    );
    let f = udp_frame(PEER_IP, Ipv4Addr::new(10, 0, 0, 99), b"x", false);
    assert_eq!(
        i.handle_frame(Instant(0), &f, &mut tx),
        Event::Dropped(DropReason::NotForUs)
    );
    assert_eq!(
        i.handle_frame(Instant(0), &[0u8; 10], &mut tx),
        Event::Dropped(DropReason::Malformed(Layer::Ethernet))
    );
}

#[test]
fn icmp_echo_is_answered() {
    let mut i = iface();
    let req = Icmpv4Repr::EchoRequest {
        ident: 7,
        seq_no: 3,
        data: b"ping!",
    };
    let ipr = Ipv4Repr {
        src_addr: PEER_IP,
        dst_addr: OUR_IP,
        next_header: IpProtocol::Icmp,
        payload_len: req.buffer_len(),
        hop_limit: 64,
    };
    let mut f = vec![0u8; 14 + 20 + req.buffer_len()];
    let caps = ChecksumCapabilities::default();
    {
        let mut e = EthernetFrame::new_unchecked(&mut f[..]);
        EthernetRepr {
            src_addr: PEER,
            dst_addr: US,
            ethertype: EthernetProtocol::Ipv4,
        }
        .emit(&mut e);
        let mut ip = Ipv4Packet::new_unchecked(e.payload_mut());
        ipr.emit(&mut ip, &caps);
        req.emit(&mut Icmpv4Packet::new_unchecked(ip.payload_mut()), &caps);
    }
    let mut tx = [0u8; 200];
    let Event::Reply(n) = i.handle_frame(Instant(0), &f, &mut tx) else {
        panic!()
    };
    let e = EthernetFrame::new_checked(&tx[..n]).unwrap();
    assert_eq!(e.dst_addr(), PEER);
    let ip = Ipv4Packet::new_checked(e.payload()).unwrap();
    assert_eq!((ip.src_addr(), ip.dst_addr()), (OUR_IP, PEER_IP));
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    assert_eq!(
        Icmpv4Repr::parse(&icmp, &caps).unwrap(),
        Icmpv4Repr::EchoReply {
            ident: 7,
            seq_no: 3,
            data: b"ping!"
        }
    );
}
