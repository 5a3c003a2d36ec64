//! PXE DHCP client: timing, offer choice, proxyDHCP, discovery, menu, precedence (host tests).
mod common;
use common::*;
use softpxe_net::dhcp::packet::{code, Packet};
use softpxe_net::dhcp::pxe::{control, sub};
use softpxe_net::dhcp::*;
use softpxe_net::{Instant, Ipv4Addr, Transmit};

const DHCP_SRV: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PROXY: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 50);

fn client(timing: Timing) -> DhcpClient {
    let mut cfg = DhcpConfig::new(MAC, XID);
    cfg.timing = timing;
    DhcpClient::new(cfg, Instant(0))
}

fn sends(c: &mut DhcpClient, now: Instant) -> Vec<(Transmit, Vec<u8>)> {
    let mut out = vec![];
    let mut buf = [0u8; 1500];
    while let Some(t) = c.poll(now, &mut buf) {
        out.push((t, buf[..t.len].to_vec()));
        assert!(out.len() < 20, "poll never ends");
    }
    out
}

fn feed(c: &mut DhcpClient, now: Instant, from: Ipv4Addr, port: u16, r: &Reply) {
    c.handle(now, &meta(from, port), &r.build());
}

/// Plain DHCP handshake up to ACK; returns the client in whatever state follows the ACK.
fn to_ack(c: &mut DhcpClient, offers: &[(Ipv4Addr, Reply)], ack: Reply) {
    assert_eq!(sends(c, s(0)).len(), 1);
    for (from, r) in offers {
        feed(c, ms(100), *from, 67, r);
    }
    let req = sends(c, s(4));
    assert_eq!(req.len(), 1, "REQUEST at the end of the first window");
    assert_eq!(sent_type(&req[0].1), 3);
    feed(c, ms(4100), DHCP_SRV, 67, &ack);
}

fn done(c: &DhcpClient) -> Outcome {
    *c.outcome().expect("finished").expect("success")
}

#[test]
fn discover_carries_pxe_options() {
    let mut c = client(Timing::Spec);
    let d = sends(&mut c, s(0));
    assert_eq!(d.len(), 1);
    let (t, bytes) = &d[0];
    assert_eq!(
        (t.dst_ip, t.dst_port, t.src_port),
        (Ipv4Addr::BROADCAST, 67, 68)
    );
    let p = Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(p.message_type(), Some(1));
    assert_eq!(p.xid(), XID);
    assert_eq!(p.flags(), 0x8000);
    assert_eq!(
        p.option(code::VENDOR_CLASS),
        Some(&b"PXEClient:Arch:00000:UNDI:002001"[..])
    );
    assert_eq!(p.option(code::CLIENT_ARCH), Some(&[0u8, 0][..]));
    assert_eq!(p.option(code::CLIENT_NDI), Some(&[1u8, 2, 1][..]));
    assert_eq!(
        p.option(code::MAX_MESSAGE_SIZE),
        Some(&1464u16.to_be_bytes()[..])
    );
    let uuid = p.option(code::CLIENT_UUID).unwrap();
    assert_eq!((uuid.len(), uuid[0]), (17, 0));
    assert_eq!(&uuid[11..17], &MAC);
    let params = p.option(code::PARAMETER_LIST).unwrap();
    for want in [
        1u8, 3, 6, 43, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135,
    ] {
        assert!(params.contains(&want), "option 55 lacks {want}");
    }
    assert_eq!(c.cached_discover(), &bytes[..]);
}

fn retry_times(timing: Timing, times: &[u64], fail_at: u64) {
    let mut c = client(timing);
    let mut sent_at = vec![];
    for t in 0..=fail_at * 4 {
        let now = ms(t * 250);
        for (_, b) in sends(&mut c, now) {
            assert_eq!(sent_type(&b), 1);
            sent_at.push(now.millis());
        }
        if c.state() == State::Failed {
            assert_eq!(now.millis(), fail_at * 1000);
            break;
        }
    }
    let want: Vec<u64> = times.iter().map(|s| s * 1000).collect();
    assert_eq!(sent_at, want);
    let e = c.outcome().unwrap().unwrap_err();
    assert_eq!(e, DhcpError::NoOffers);
    assert_eq!(e.pxe_code(), "PXE-E51");
}

#[test]
fn discover_retries_4_8_16_32_then_e51() {
    retry_times(Timing::Spec, &[0, 4, 12, 28], 60);
}

#[test]
fn fast_profile_retries_1_2_4_8() {
    retry_times(Timing::Fast, &[0, 1, 3, 7], 15);
}

#[test]
fn next_deadline_is_exact() {
    let mut c = client(Timing::Spec);
    sends(&mut c, s(0));
    assert_eq!(c.next_deadline(), Some(s(4)));
    assert!(sends(&mut c, ms(3999)).is_empty());
    assert_eq!(sends(&mut c, s(4)).len(), 1);
    assert_eq!(c.next_deadline(), Some(s(12)));
}

#[test]
fn proxy_only_offers_give_e52() {
    let mut c = client(Timing::Fast);
    sends(&mut c, s(0));
    feed(
        &mut c,
        ms(10),
        PROXY,
        67,
        &Reply::proxy(OFFER, PROXY).file(b"boot.0"),
    );
    for t in 1..=15 {
        sends(&mut c, s(t));
    }
    assert_eq!(c.outcome().unwrap().unwrap_err().pxe_code(), "PXE-E52");
}

#[test]
fn plain_dhcp_plus_separate_proxy() {
    let mut c = client(Timing::Spec);
    let offer = Reply::dhcp(OFFER, DHCP_SRV, OUR_IP);
    let proxy = Reply::proxy(OFFER, PROXY).siaddr(PROXY).file(b"pxelinux.0");
    sends(&mut c, s(0));
    feed(&mut c, ms(100), DHCP_SRV, 67, &offer);
    feed(&mut c, ms(200), PROXY, 67, &proxy);
    assert!(
        sends(&mut c, ms(3999)).is_empty(),
        "waits through the first timeout"
    );
    let req = sends(&mut c, s(4));
    let p = Packet::new_checked(&req[0].1[..]).unwrap();
    assert_eq!(p.message_type(), Some(3));
    assert_eq!(p.option_ip(code::REQUESTED_IP), Some(OUR_IP));
    assert_eq!(p.option_ip(code::SERVER_ID), Some(DHCP_SRV));
    assert_eq!(p.secs(), 4);
    feed(
        &mut c,
        ms(4100),
        DHCP_SRV,
        67,
        &Reply::dhcp(ACK, DHCP_SRV, OUR_IP),
    );
    let o = done(&c);
    assert_eq!(o.lease.ip, OUR_IP);
    assert_eq!(o.lease.subnet_mask, Some(ip(255, 255, 255, 0)));
    assert_eq!(o.lease.gateway, Some(ip(10, 0, 0, 1)));
    assert_eq!(o.lease.dns[0], Some(ip(10, 0, 0, 53)));
    assert_eq!(o.proxy_server, Some(PROXY));
    assert_eq!(
        (o.tftp_server, o.tftp_server_from),
        (ServerAddr::Ip(PROXY), Source::Proxy)
    );
    assert_eq!(
        (o.boot_file.as_str(), o.boot_file_from),
        ("pxelinux.0", Source::Proxy)
    );
    let mut evs = vec![];
    while let Some(e) = c.pop_event() {
        evs.push(e);
    }
    assert!(evs.contains(&Event::Chosen {
        dhcp: DHCP_SRV,
        proxy: Some(PROXY),
        reason: ChoiceReason::WithProxy
    }));
    assert_eq!(c.cached_reply(), &proxy.build()[..]);
}

#[test]
fn combined_offer_with_file_is_taken_at_once() {
    let mut c = client(Timing::Spec);
    sends(&mut c, s(0));
    let combined = Reply::dhcp(OFFER, DHCP_SRV, OUR_IP)
        .opt(code::VENDOR_CLASS, b"PXEClient")
        .siaddr(ip(10, 0, 0, 9))
        .file(b"undionly.kpxe");
    feed(
        &mut c,
        ms(300),
        ip(10, 0, 0, 2),
        67,
        &Reply::dhcp(OFFER, ip(10, 0, 0, 2), ip(10, 0, 0, 77)),
    );
    feed(&mut c, ms(400), DHCP_SRV, 67, &combined);
    let req = sends(&mut c, ms(400));
    assert_eq!(req.len(), 1);
    let p = Packet::new_checked(&req[0].1[..]).unwrap();
    assert_eq!(p.option_ip(code::SERVER_ID), Some(DHCP_SRV));
    let ack = Reply::dhcp(ACK, DHCP_SRV, OUR_IP)
        .opt(code::VENDOR_CLASS, b"PXEClient")
        .siaddr(ip(10, 0, 0, 9))
        .file(b"undionly.kpxe");
    feed(&mut c, ms(500), DHCP_SRV, 67, &ack);
    let o = done(&c);
    assert_eq!(o.tftp_server, ServerAddr::Ip(ip(10, 0, 0, 9)));
    assert_eq!(o.boot_file.as_str(), "undionly.kpxe");
    assert_eq!(o.proxy_server, None);
    assert_eq!(c.cached_ack(), &ack.build()[..]);
}

#[test]
fn proxy_without_file_asks_port_4011() {
    let mut c = client(Timing::Spec);
    to_ack(
        &mut c,
        &[
            (DHCP_SRV, Reply::dhcp(OFFER, DHCP_SRV, OUR_IP)),
            (PROXY, Reply::proxy(OFFER, PROXY)),
        ],
        Reply::dhcp(ACK, DHCP_SRV, OUR_IP),
    );
    assert_eq!(c.state(), State::ProxyRequesting);
    assert_eq!(c.lease().unwrap().ip, OUR_IP);
    let r = sends(&mut c, ms(4100));
    assert_eq!((r[0].0.dst_ip, r[0].0.dst_port), (PROXY, 4011));
    let p = Packet::new_checked(&r[0].1[..]).unwrap();
    assert_eq!((p.message_type(), p.ciaddr()), (Some(3), OUR_IP));
    let ack = Reply::proxy(ACK, PROXY)
        .siaddr(ip(10, 0, 0, 6))
        .file(b"wdsnbp.com");
    feed(&mut c, ms(4200), PROXY, 4011, &ack);
    let o = done(&c);
    assert_eq!(
        (o.tftp_server, o.tftp_server_from),
        (ServerAddr::Ip(ip(10, 0, 0, 6)), Source::Proxy)
    );
    assert_eq!(o.boot_file.as_str(), "wdsnbp.com");
    assert_eq!(c.cached_reply(), &ack.build()[..]);
}

#[test]
fn proxy_silent_on_4011_gives_e55_after_1_2_3_4() {
    let mut c = client(Timing::Spec);
    to_ack(
        &mut c,
        &[
            (DHCP_SRV, Reply::dhcp(OFFER, DHCP_SRV, OUR_IP)),
            (PROXY, Reply::proxy(OFFER, PROXY)),
        ],
        Reply::dhcp(ACK, DHCP_SRV, OUR_IP),
    );
    let mut at = vec![];
    for t in (4100..=15000).step_by(100) {
        if !sends(&mut c, ms(t)).is_empty() {
            at.push(t);
        }
    }
    assert_eq!(at, vec![4100, 5100, 7100, 10100]);
    let e = c.outcome().unwrap().unwrap_err();
    assert_eq!((e, e.pxe_code()), (DhcpError::ProxyNoReply, "PXE-E55"));
}

#[test]
fn option_66_67_beat_siaddr_and_file_with_warnings() {
    let mut c = client(Timing::Spec);
    let ack = Reply::dhcp(ACK, DHCP_SRV, OUR_IP)
        .siaddr(ip(10, 99, 0, 1))
        .file(b"old.0")
        .opt(code::TFTP_SERVER_NAME, b"10.99.0.2")
        .opt(code::BOOTFILE_NAME, b"new.0");
    to_ack(
        &mut c,
        &[(DHCP_SRV, Reply::dhcp(OFFER, DHCP_SRV, OUR_IP))],
        ack,
    );
    let o = done(&c);
    assert_eq!(
        (o.tftp_server, o.tftp_server_from),
        (ServerAddr::Ip(ip(10, 99, 0, 2)), Source::Option66)
    );
    assert_eq!(
        (o.boot_file.as_str(), o.boot_file_from),
        ("new.0", Source::Option67)
    );
    let w: Vec<String> = o.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        vec![
            "option 66 says 10.99.0.2 but siaddr is 10.99.0.1; using option 66".to_string(),
            "option 67 says new.0 but the file field is old.0; using option 67".to_string(),
        ]
    );
}

#[test]
fn siaddr_and_file_field_alone_and_dns_name_in_66() {
    let mut c = client(Timing::Spec);
    let ack = Reply::dhcp(ACK, DHCP_SRV, OUR_IP)
        .siaddr(ip(10, 0, 0, 4))
        .file(b"boot.0");
    to_ack(
        &mut c,
        &[(DHCP_SRV, Reply::dhcp(OFFER, DHCP_SRV, OUR_IP))],
        ack,
    );
    let o = done(&c);
    assert_eq!(
        (o.tftp_server, o.tftp_server_from),
        (ServerAddr::Ip(ip(10, 0, 0, 4)), Source::Siaddr)
    );
    assert_eq!(o.boot_file_from, Source::FileField);
    assert!(o.warnings.is_empty());

    let mut c = client(Timing::Spec);
    let ack = Reply::dhcp(ACK, DHCP_SRV, OUR_IP)
        .opt(code::TFTP_SERVER_NAME, b"tftp.lab")
        .file(b"boot.0");
    to_ack(
        &mut c,
        &[(DHCP_SRV, Reply::dhcp(OFFER, DHCP_SRV, OUR_IP))],
        ack,
    );
    match done(&c).tftp_server {
        ServerAddr::Name(n) => assert_eq!(n.as_str(), "tftp.lab"),
        other => panic!("{other:?}"),
    }

    // a long name (a 200-byte FQDN) arrives whole, not cut
    let long = format!(
        "{}.boot.example.org",
        "a".repeat(63) + "." + &"b".repeat(63) + "." + &"c".repeat(50)
    );
    let mut c = client(Timing::Spec);
    let ack = Reply::dhcp(ACK, DHCP_SRV, OUR_IP)
        .opt(code::TFTP_SERVER_NAME, long.as_bytes())
        .file(b"boot.0");
    to_ack(
        &mut c,
        &[(DHCP_SRV, Reply::dhcp(OFFER, DHCP_SRV, OUR_IP))],
        ack,
    );
    match done(&c).tftp_server {
        ServerAddr::Name(n) => assert_eq!(n.as_str(), long),
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_boot_file_is_e53() {
    let mut c = client(Timing::Spec);
    to_ack(
        &mut c,
        &[(DHCP_SRV, Reply::dhcp(OFFER, DHCP_SRV, OUR_IP))],
        Reply::dhcp(ACK, DHCP_SRV, OUR_IP),
    );
    assert_eq!(c.outcome().unwrap().unwrap_err().pxe_code(), "PXE-E53");
}

#[test]
fn nak_restarts_discovery() {
    let mut c = client(Timing::Spec);
    to_ack(
        &mut c,
        &[(DHCP_SRV, Reply::dhcp(OFFER, DHCP_SRV, OUR_IP))],
        Reply::new(NAK, DHCP_SRV),
    );
    assert_eq!(c.state(), State::Discovering);
    let d = sends(&mut c, ms(4100));
    assert_eq!(sent_type(&d[0].1), 1);
    assert!(std::iter::from_fn(|| c.pop_event()).any(|e| e == Event::Nak { from: DHCP_SRV }));
}

#[test]
fn request_retries_1_2_3_4() {
    let mut c = client(Timing::Spec);
    sends(&mut c, s(0));
    feed(
        &mut c,
        ms(10),
        DHCP_SRV,
        67,
        &Reply::dhcp(OFFER, DHCP_SRV, OUR_IP),
    );
    let mut at = vec![];
    for t in (4000..=14000).step_by(500) {
        for (_, b) in sends(&mut c, ms(t)) {
            at.push((t, sent_type(&b)));
        }
    }
    assert_eq!(
        at,
        vec![(4000, 3), (5000, 3), (7000, 3), (10000, 3), (14000, 1)]
    );
}

fn discovery_proxy(ctrl: u8, prompt: Option<&[u8]>) -> Reply {
    let servers = [0x80, 0x01, 2, 10, 0, 0, 7, 10, 0, 0, 8];
    let mut menu = vec![0x80, 0x01, 5];
    menu.extend_from_slice(b"Linux");
    menu.extend_from_slice(&[0, 0, 5]);
    menu.extend_from_slice(b"Local");
    let ctrl = [ctrl];
    let mut subs: Vec<(u8, &[u8])> = vec![
        (sub::DISCOVERY_CONTROL, &ctrl),
        (sub::DISCOVERY_MCAST_ADDR, &[224, 0, 1, 2]),
        (sub::BOOT_SERVERS, &servers),
        (sub::BOOT_MENU, &menu),
    ];
    if let Some(p) = prompt {
        subs.push((sub::MENU_PROMPT, p));
    }
    Reply::proxy(OFFER, PROXY).opt(code::VENDOR_SPECIFIC, &opt43(&subs))
}

fn to_menu(ctrl: u8, prompt: Option<&[u8]>) -> DhcpClient {
    let mut c = client(Timing::Spec);
    to_ack(
        &mut c,
        &[
            (DHCP_SRV, Reply::dhcp(OFFER, DHCP_SRV, OUR_IP)),
            (PROXY, discovery_proxy(ctrl, prompt)),
        ],
        Reply::dhcp(ACK, DHCP_SRV, OUR_IP),
    );
    c
}

fn bs_ack(ty: u16) -> Reply {
    let t = ty.to_be_bytes();
    Reply::new(ACK, ip(10, 0, 0, 8))
        .opt(code::VENDOR_CLASS, b"PXEClient")
        .opt(
            code::VENDOR_SPECIFIC,
            &opt43(&[(sub::BOOT_ITEM, &[t[0], t[1], 0, 0])]),
        )
        .file(b"linux.0")
}

#[test]
fn discovery_multicast_broadcast_and_list() {
    let mut c = to_menu(0, Some(&[0, b'F', b'8']));
    assert_eq!(
        c.state(),
        State::BootServerDiscovery,
        "prompt timeout 0 takes the first item"
    );
    let dsts: Vec<Ipv4Addr> = sends(&mut c, ms(4100))
        .iter()
        .map(|(t, _)| t.dst_ip)
        .collect();
    assert_eq!(
        dsts,
        vec![
            ip(224, 0, 1, 2),
            Ipv4Addr::BROADCAST,
            ip(10, 0, 0, 7),
            ip(10, 0, 0, 8)
        ]
    );
    let again = sends(&mut c, ms(5100));
    assert_eq!(again.len(), 4, "resent after 1 s");
    assert!(again.iter().all(|(t, _)| t.dst_port == 4011));
    let p = Packet::new_checked(&again[0].1[..]).unwrap();
    let o43 = p.option(code::VENDOR_SPECIFIC).unwrap();
    assert_eq!(o43, &[71, 4, 0x80, 0x01, 0, 0, 255]);
    assert_eq!(p.ciaddr(), OUR_IP);
    // A reply for another type is ignored; the right one finishes.
    feed(&mut c, ms(5200), ip(10, 0, 0, 9), 4011, &bs_ack(0x8002));
    assert_eq!(c.state(), State::BootServerDiscovery);
    feed(
        &mut c,
        ms(5300),
        ip(10, 0, 0, 9),
        4011,
        &bs_ack(0x8001).siaddr(ip(10, 0, 0, 10)),
    );
    let o = done(&c);
    assert_eq!(o.boot_server, Some(ip(10, 0, 0, 9)));
    assert_eq!(
        (o.tftp_server, o.tftp_server_from),
        (ServerAddr::Ip(ip(10, 0, 0, 10)), Source::BootServer)
    );
    assert_eq!(
        (o.boot_file.as_str(), o.boot_file_from),
        ("linux.0", Source::BootServer)
    );
}

#[test]
fn discovery_control_bits_restrict_to_listed_servers() {
    let ctrl = control::NO_BROADCAST | control::NO_MULTICAST | control::ONLY_LISTED;
    let mut c = to_menu(ctrl, Some(&[0]));
    let dsts: Vec<Ipv4Addr> = sends(&mut c, ms(4100))
        .iter()
        .map(|(t, _)| t.dst_ip)
        .collect();
    assert_eq!(dsts, vec![ip(10, 0, 0, 7), ip(10, 0, 0, 8)]);
    feed(&mut c, ms(4200), ip(10, 0, 0, 9), 4011, &bs_ack(0x8001));
    assert_eq!(
        c.state(),
        State::BootServerDiscovery,
        "unlisted server ignored"
    );
    feed(&mut c, ms(4300), ip(10, 0, 0, 8), 4011, &bs_ack(0x8001));
    let o = done(&c);
    assert_eq!(o.boot_server, Some(ip(10, 0, 0, 8)));
    assert_eq!(
        o.tftp_server,
        ServerAddr::Ip(ip(10, 0, 0, 8)),
        "siaddr 0: the boot server itself"
    );
    assert_eq!(c.cached_reply(), &bs_ack(0x8001).build()[..]);
}

#[test]
fn silent_boot_servers_give_e78() {
    let mut c = to_menu(0, Some(&[0]));
    let mut at = vec![];
    for t in (4100..=15000).step_by(100) {
        if !sends(&mut c, ms(t)).is_empty() {
            at.push(t);
        }
    }
    assert_eq!(at, vec![4100, 5100, 7100, 10100]);
    assert_eq!(c.outcome().unwrap().unwrap_err().pxe_code(), "PXE-E78");
}

#[test]
fn menu_prompt_times_out_to_first_item() {
    let mut c = to_menu(0, Some(b"\x05Press F8 for menu"));
    assert_eq!(c.state(), State::Menu);
    let m = c.menu().unwrap();
    let items: Vec<(u16, Vec<u8>)> = m.items().map(|i| (i.item_type, i.desc.to_vec())).collect();
    assert_eq!(
        items,
        vec![(0x8001, b"Linux".to_vec()), (0, b"Local".to_vec())]
    );
    assert_eq!(m.prompt().unwrap().0, 5);
    assert_eq!(c.next_deadline(), Some(ms(9100)));
    assert!(sends(&mut c, ms(9099)).is_empty());
    assert_eq!(sends(&mut c, ms(9100)).len(), 4);
    assert_eq!(c.state(), State::BootServerDiscovery);
}

#[test]
fn menu_selection_of_local_boot() {
    let mut c = to_menu(0, Some(&[255, b'?']));
    assert_eq!(c.next_deadline(), None, "255 waits for the user");
    assert!(c.select(ms(20_000), 0));
    let o = done(&c);
    assert_eq!(o.boot, Boot::Local);
    assert!(o.boot_file.is_empty());
    assert!(!c.select(ms(20_001), 0x8001), "no menu any more");
}

#[test]
fn menu_selection_starts_discovery_of_that_type() {
    let mut c = to_menu(control::NO_MULTICAST | control::NO_BROADCAST, None);
    assert_eq!(c.state(), State::Menu);
    assert!(c.select(ms(6000), 0x8001));
    assert_eq!(sends(&mut c, ms(6000)).len(), 2);
}

#[test]
fn control_bit_3_uses_filename_and_skips_the_menu() {
    let proxy = discovery_proxy(control::USE_FILENAME, Some(&[5, b'x']))
        .file(b"direct.0")
        .siaddr(PROXY);
    let mut c = client(Timing::Spec);
    to_ack(
        &mut c,
        &[
            (DHCP_SRV, Reply::dhcp(OFFER, DHCP_SRV, OUR_IP)),
            (PROXY, proxy),
        ],
        Reply::dhcp(ACK, DHCP_SRV, OUR_IP),
    );
    assert_eq!(done(&c).boot_file.as_str(), "direct.0");
}

#[test]
fn replies_for_other_clients_are_ignored() {
    let mut c = client(Timing::Spec);
    sends(&mut c, s(0));
    let mut other = Reply::dhcp(OFFER, DHCP_SRV, OUR_IP).build();
    other[4] ^= 0xff; // xid
    c.handle(ms(1), &meta(DHCP_SRV, 67), &other);
    c.handle(ms(1), &meta(DHCP_SRV, 67), &other[..100]);
    assert!(c.pop_event().is_none());
    for t in 1..=60 {
        sends(&mut c, s(t));
    }
    assert_eq!(c.outcome().unwrap().unwrap_err(), DhcpError::NoOffers);
}

#[test]
fn vendor_class_and_uuid_helpers() {
    assert_eq!(
        vendor_class(7, 3, 16).as_str(),
        "PXEClient:Arch:00007:UNDI:003016"
    );
    let u = uuid_from_mac(MAC);
    assert_eq!(&u[10..], &MAC);
    assert_ne!(uuid_from_mac([0; 6]), u);
}

#[test]
fn local_menu_timeout_replaces_the_servers_prompt() {
    let mut cfg = DhcpConfig::new(MAC, XID);
    cfg.menu_timeout = Some(1);
    cfg.timing = Timing::Spec;
    let mut c = DhcpClient::new(cfg, Instant(0));
    to_ack(
        &mut c,
        &[
            (DHCP_SRV, Reply::dhcp(OFFER, DHCP_SRV, OUR_IP)),
            (PROXY, discovery_proxy(0, Some(b"\x05Press F8 for menu"))),
        ],
        Reply::dhcp(ACK, DHCP_SRV, OUR_IP),
    );
    assert_eq!(c.state(), State::Menu);
    assert_eq!(
        c.next_deadline(),
        Some(ms(5100)),
        "1 s from the menu, not the server's 5 s"
    );
}

#[test]
fn local_discovery_override_skips_to_the_servers_file() {
    let proxy = discovery_proxy(0, Some(&[5, b'x']))
        .file(b"direct.0")
        .siaddr(PROXY);
    let mut cfg = DhcpConfig::new(MAC, XID);
    cfg.discovery_set = control::USE_FILENAME;
    cfg.timing = Timing::Spec;
    let mut c = DhcpClient::new(cfg, Instant(0));
    to_ack(
        &mut c,
        &[
            (DHCP_SRV, Reply::dhcp(OFFER, DHCP_SRV, OUR_IP)),
            (PROXY, proxy),
        ],
        Reply::dhcp(ACK, DHCP_SRV, OUR_IP),
    );
    assert_eq!(done(&c).boot_file.as_str(), "direct.0");
}
