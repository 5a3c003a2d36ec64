//! `Timing::Auto` (the default): when the offer collection ends, against `Timing::Spec`, with
//! explicit timestamps (host tests of the sans-IO client). Rules (docs/net.md, "Offer
//! collection"): a combined offer naming a boot file ends it at once (every mode); an address
//! offer plus PXE boot information (a proxy offer, or a combined offer with PXE options) ends it
//! at once; an address offer alone waits for a proxy until 2 s after the first DISCOVER (iPXE's
//! `DHCP_DISC_PROXY_TIMEOUT_SEC`); retries stay 4/8/16/32 s.
mod common;
use common::*;
use softpxe_net::dhcp::packet::{code, Packet};
use softpxe_net::dhcp::pxe::{control, sub};
use softpxe_net::dhcp::*;
use softpxe_net::{Instant, Ipv4Addr};

const DHCP_SRV: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PROXY: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const WDS: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 6);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 50);

fn client(timing: Timing) -> DhcpClient {
    let mut cfg = DhcpConfig::new(MAC, XID);
    cfg.timing = timing;
    DhcpClient::new(cfg, Instant(0))
}

/// Sends due at `now`: their DHCP message types.
fn sent(c: &mut DhcpClient, now: Instant) -> Vec<(u8, Ipv4Addr)> {
    let mut out = vec![];
    let mut buf = [0u8; 1500];
    while let Some(t) = c.poll(now, &mut buf) {
        out.push((sent_type(&buf[..t.len]), t.dst_ip));
        assert!(out.len() < 20, "poll never ends");
    }
    out
}

fn feed(c: &mut DhcpClient, now: Instant, from: Ipv4Addr, r: &Reply) {
    c.handle(now, &meta(from, 67), &r.build());
}

fn address() -> Reply {
    Reply::dhcp(OFFER, DHCP_SRV, OUR_IP)
}

fn proxy() -> Reply {
    Reply::proxy(OFFER, PROXY).siaddr(PROXY).file(b"pxelinux.0")
}

/// A WDS-style proxy offer (BINL answers on port 67 with a boot file and server name).
fn binl() -> Reply {
    Reply::proxy(OFFER, WDS)
        .siaddr(WDS)
        .file(b"boot\\x86\\wdsnbp.com")
        .opt(
            code::VENDOR_SPECIFIC,
            &opt43(&[(sub::DISCOVERY_CONTROL, &[control::USE_FILENAME])]),
        )
}

/// The first moment in `from..=to` (ms, step 50) at which the client sends a REQUEST, with the
/// server id it names.
fn request_at(c: &mut DhcpClient, from: u64, to: u64) -> Option<(u64, Ipv4Addr)> {
    let mut buf = [0u8; 1500];
    for t in (from..=to).step_by(50) {
        while let Some(tx) = c.poll(ms(t), &mut buf) {
            if sent_type(&buf[..tx.len]) == 3 {
                let p = Packet::new_checked(&buf[..tx.len]).unwrap();
                return Some((t, p.option_ip(code::SERVER_ID).unwrap()));
            }
        }
    }
    None
}

/// The reason of the `Chosen` event.
fn chosen(c: &mut DhcpClient) -> Option<(Option<Ipv4Addr>, ChoiceReason)> {
    let mut found = None;
    while let Some(e) = c.pop_event() {
        if let Event::Chosen { proxy, reason, .. } = e {
            found = Some((proxy, reason));
        }
    }
    found
}

#[test]
fn default_config_is_auto_with_spec_retries() {
    let cfg = DhcpConfig::new(MAC, XID);
    assert_eq!(cfg.timing, Timing::Auto);
    assert_eq!(Timing::Auto.discover_ms(), Timing::Spec.discover_ms());
    assert_eq!(PROXY_WAIT_MS, 2000);
}

#[test]
fn address_then_proxy_proceeds_at_the_proxy() {
    let mut c = client(Timing::Auto);
    assert_eq!(sent(&mut c, s(0)), vec![(1, Ipv4Addr::BROADCAST)]);
    feed(&mut c, ms(100), DHCP_SRV, &address());
    assert!(sent(&mut c, ms(100)).is_empty(), "waits for a proxy");
    feed(&mut c, ms(350), PROXY, &proxy());
    assert_eq!(request_at(&mut c, 350, 4000), Some((350, DHCP_SRV)));
    assert_eq!(chosen(&mut c), Some((Some(PROXY), ChoiceReason::WithProxy)));
}

#[test]
fn proxy_then_address_proceeds_at_the_address() {
    let mut c = client(Timing::Auto);
    sent(&mut c, s(0));
    feed(&mut c, ms(80), PROXY, &proxy());
    assert!(
        sent(&mut c, ms(80)).is_empty(),
        "a proxy alone has no address"
    );
    feed(&mut c, ms(120), DHCP_SRV, &address());
    assert_eq!(request_at(&mut c, 120, 4000), Some((120, DHCP_SRV)));
}

#[test]
fn the_same_offers_wait_the_whole_window_under_spec() {
    let mut c = client(Timing::Spec);
    sent(&mut c, s(0));
    feed(&mut c, ms(100), DHCP_SRV, &address());
    feed(&mut c, ms(350), PROXY, &proxy());
    assert_eq!(request_at(&mut c, 350, 5000), Some((4000, DHCP_SRV)));
}

#[test]
fn address_alone_waits_2_s_from_discover_then_goes_without_proxy() {
    let mut c = client(Timing::Auto);
    sent(&mut c, s(0));
    feed(&mut c, ms(100), DHCP_SRV, &address());
    assert_eq!(c.next_deadline(), Some(ms(2000)));
    assert_eq!(request_at(&mut c, 100, 4000), Some((2000, DHCP_SRV)));
    assert_eq!(chosen(&mut c), Some((None, ChoiceReason::PlainDhcp)));
}

#[test]
fn late_proxy_after_the_wait_is_not_waited_for_but_spec_uses_it() {
    // the proxy answers at 2.5 s (e.g. a WDS server with a response delay)
    for (timing, want_at, want_proxy) in
        [(Timing::Auto, 2000, None), (Timing::Spec, 4000, Some(WDS))]
    {
        let mut c = client(timing);
        sent(&mut c, s(0));
        feed(&mut c, ms(100), DHCP_SRV, &address());
        let before = request_at(&mut c, 100, 2450);
        if before.is_none() {
            feed(&mut c, ms(2500), WDS, &binl());
        }
        let at = before.or_else(|| request_at(&mut c, 2500, 5000));
        assert_eq!(at, Some((want_at, DHCP_SRV)), "{timing:?}");
        assert_eq!(
            chosen(&mut c).map(|(p, _)| p),
            Some(want_proxy),
            "{timing:?}"
        );
    }
}

#[test]
fn binl_proxy_inside_the_wait_is_used() {
    let mut c = client(Timing::Auto);
    sent(&mut c, s(0));
    feed(&mut c, ms(100), DHCP_SRV, &address());
    feed(&mut c, ms(1500), WDS, &binl());
    assert_eq!(request_at(&mut c, 1500, 4000), Some((1500, DHCP_SRV)));
    assert_eq!(chosen(&mut c), Some((Some(WDS), ChoiceReason::WithProxy)));
    feed(
        &mut c,
        ms(1600),
        DHCP_SRV,
        &Reply::dhcp(ACK, DHCP_SRV, OUR_IP),
    );
    let o = *c.outcome().expect("finished").expect("success");
    assert_eq!(o.boot_file.as_str(), "boot\\x86\\wdsnbp.com");
    assert_eq!(o.proxy_server, Some(WDS));
}

#[test]
fn address_after_the_wait_is_taken_at_once() {
    // DHCP server slow to answer: first offer after the first retry
    let mut c = client(Timing::Auto);
    sent(&mut c, s(0));
    assert_eq!(
        sent(&mut c, s(4)),
        vec![(1, Ipv4Addr::BROADCAST)],
        "retry at 4 s"
    );
    feed(&mut c, ms(4300), DHCP_SRV, &address());
    assert_eq!(request_at(&mut c, 4300, 7000), Some((4300, DHCP_SRV)));
}

#[test]
fn retries_keep_the_pxe_schedule() {
    let mut c = client(Timing::Auto);
    let mut at = vec![];
    for t in (0..=60_000).step_by(250) {
        if !sent(&mut c, ms(t)).is_empty() {
            at.push(t);
        }
    }
    assert_eq!(at, vec![0, 4000, 12_000, 28_000]);
    assert_eq!(c.outcome().unwrap().unwrap_err(), DhcpError::NoOffers);
}

#[test]
fn combined_offer_with_pxe_options_ends_the_collection() {
    let mut c = client(Timing::Auto);
    sent(&mut c, s(0));
    let combined = Reply::dhcp(OFFER, DHCP_SRV, OUR_IP)
        .opt(code::VENDOR_CLASS, b"PXEClient")
        .opt(
            code::VENDOR_SPECIFIC,
            &opt43(&[(sub::DISCOVERY_CONTROL, &[control::NO_BROADCAST])]),
        );
    feed(&mut c, ms(200), DHCP_SRV, &combined);
    assert_eq!(request_at(&mut c, 200, 4000), Some((200, DHCP_SRV)));
    assert_eq!(chosen(&mut c), Some((None, ChoiceReason::HasBootInfo)));
}

#[test]
fn combined_offer_with_a_file_is_taken_at_once_in_every_mode() {
    for timing in [Timing::Auto, Timing::Spec, Timing::Fast] {
        let mut c = client(timing);
        sent(&mut c, s(0));
        let combined = Reply::dhcp(OFFER, DHCP_SRV, OUR_IP)
            .opt(code::VENDOR_CLASS, b"PXEClient")
            .file(b"undionly.kpxe");
        feed(&mut c, ms(300), DHCP_SRV, &combined);
        assert_eq!(
            request_at(&mut c, 300, 5000),
            Some((300, DHCP_SRV)),
            "{timing:?}"
        );
    }
}

#[test]
fn a_delayed_combined_offer_loses_under_auto_and_wins_under_spec() {
    // address + proxy at 0.1/0.2 s, then a combined offer with a file from another server at 1 s
    let other = ip(10, 0, 0, 7);
    let combined = Reply::dhcp(OFFER, other, ip(10, 0, 0, 88))
        .opt(code::VENDOR_CLASS, b"PXEClient")
        .siaddr(other)
        .file(b"combined.0");
    for (timing, at, server) in [(Timing::Auto, 200, DHCP_SRV), (Timing::Spec, 1000, other)] {
        let mut c = client(timing);
        sent(&mut c, s(0));
        feed(&mut c, ms(100), DHCP_SRV, &address());
        feed(&mut c, ms(200), PROXY, &proxy());
        let early = request_at(&mut c, 200, 950);
        feed(&mut c, ms(1000), other, &combined);
        let got = early.or_else(|| request_at(&mut c, 1000, 5000));
        assert_eq!(got, Some((at, server)), "{timing:?}");
    }
}

#[test]
fn duplicate_offers_change_nothing() {
    let mut c = client(Timing::Auto);
    sent(&mut c, s(0));
    for t in [100, 150, 400, 900] {
        feed(&mut c, ms(t), DHCP_SRV, &address());
        assert!(sent(&mut c, ms(t)).is_empty(), "duplicate at {t} ms");
    }
    assert_eq!(c.next_deadline(), Some(ms(2000)));
    feed(&mut c, ms(1200), PROXY, &proxy());
    feed(&mut c, ms(1200), PROXY, &proxy());
    assert_eq!(request_at(&mut c, 1200, 4000), Some((1200, DHCP_SRV)));
    assert!(request_at(&mut c, 1250, 1900).is_none(), "one REQUEST only");
}

#[test]
fn a_restart_after_nak_measures_the_wait_from_the_new_discover() {
    let mut c = client(Timing::Auto);
    sent(&mut c, s(0));
    feed(&mut c, ms(100), DHCP_SRV, &address());
    assert_eq!(request_at(&mut c, 100, 2000), Some((2000, DHCP_SRV)));
    c.handle(
        ms(2100),
        &meta(DHCP_SRV, 67),
        &Reply::dhcp(NAK, DHCP_SRV, Ipv4Addr::UNSPECIFIED).build(),
    );
    assert_eq!(sent(&mut c, ms(2100)), vec![(1, Ipv4Addr::BROADCAST)]);
    feed(&mut c, ms(2200), DHCP_SRV, &address());
    assert_eq!(c.next_deadline(), Some(ms(4100)));
}
