//! Whole boots on the host: the boot flow against scripted DHCP, proxyDHCP, boot and TFTP
//! servers on a loopback NIC, in simulated time (see `common/`).
mod common;

use common::net::{pxe_options, BootServer, DhcpServer, ProxyServer, TftpServer};
use common::{ip, payload, Boot};
use softpxe_boot::Key;
use softpxe_net::dhcp::packet::{code, Packet};
use std::cell::Cell;
use std::rc::Rc;

const DHCP: u8 = 1;
const PROXY: u8 = 2;
const BOOT: u8 = 3;
const TFTP: u8 = 4;

fn dhcp_with(extra: impl Fn(&mut softpxe_net::dhcp::packet::Builder<'_>) + 'static) -> DhcpServer {
    DhcpServer {
        yiaddr: ip(10, 0, 0, 50),
        extra: Box::new(extra),
        seen: Rc::default(),
    }
}

fn contains_in_order(hay: &str, needles: &[&str]) {
    let mut at = 0;
    for n in needles {
        match hay[at..].find(n) {
            Some(i) => at += i + n.len(),
            None => panic!("{n:?} missing (in order) from the console:\n{hay}"),
        }
    }
}

#[test]
fn plain_dhcp_boot_file_and_siaddr() {
    let mut b = Boot::new();
    let nbp = payload(3000);
    let seen = {
        let mut net = b.net.borrow_mut();
        let d = dhcp_with(|b| {
            b.siaddr(ip(10, 0, 0, 4)).file(b"boot.0");
        });
        let seen = d.seen.clone();
        net.add(DHCP, ip(10, 0, 0, 1), d);
        net.add(
            TFTP,
            ip(10, 0, 0, 4),
            TftpServer::new(&[("boot.0", nbp.clone())]),
        );
        seen
    };
    let booted = b.run().expect("the NBP loads");
    contains_in_order(
        b.console(),
        &[
            "no SOFTPXE.CFG on the boot medium; using defaults",
            "CLIENT MAC ADDR: 52 54 00 12 34 56  (loopback at 00:03.0, 8086:100e)",
            "DHCP.",
            "softpxe: DHCP offer from 10.0.0.1: address 10.0.0.50, with boot file",
            "softpxe: chose DHCP server 10.0.0.1 (PlainDhcp) after ",
            " ms (timing Auto)",
            "softpxe: DHCPACK from 10.0.0.1: 10.0.0.50",
            "CLIENT IP: 10.0.0.50  MASK: 255.255.255.0  DHCP IP: 10.0.0.1  GATEWAY IP: 10.0.0.254",
            "TFTP IP: 10.0.0.4 (from siaddr)  FILE: boot.0 (from file field)",
            "TFTP: \"boot.0\" 3000 bytes in ",
            "(server ignored the options)",
        ],
    );
    assert_eq!(b.platform.nbp, nbp);
    assert_eq!(booted.size, 3000);
    // the interface the PXE stack takes over: the lease, and the TFTP server's ARP entry
    let iface = &booted.handoff.iface;
    assert_eq!(iface.ip(), ip(10, 0, 0, 50));
    assert_eq!(iface.mask(), Some(ip(255, 255, 255, 0)));
    assert_eq!(iface.gateway(), Some(ip(10, 0, 0, 254)));
    let now = softpxe_net::Instant::from_millis(b.ms());
    assert!(iface.lookup(now, ip(10, 0, 0, 4)).is_some());
    assert!(booted.handoff.frames_sent >= 4 && booted.handoff.frames_received >= 4);
    // GET_CACHED_INFO: DISCOVER, ACK, ACK again (no proxy)
    let c = &booted.handoff.cached;
    let discover = Packet::new_checked(&c.get(0).unwrap()[..]).unwrap();
    assert_eq!(discover.message_type(), Some(1));
    let ack = Packet::new_checked(&c.get(1).unwrap()[..]).unwrap();
    assert_eq!(
        (ack.message_type(), ack.yiaddr()),
        (Some(5), ip(10, 0, 0, 50))
    );
    assert_eq!(c.get(2), c.get(1));
    // options 60 and 93 for a BIOS client
    let seen = seen.borrow();
    assert_eq!(seen[0].1, vec![0, 0]);
    assert_eq!(seen[0].2, b"PXEClient:Arch:00000:UNDI:002001");
    assert!(b.nic.nic.open, "the NIC stays open for the NBP");
}

#[test]
fn uefi_client_architecture_reaches_options_60_and_93() {
    let mut b = Boot::new();
    b.platform.arch = softpxe_boot::ARCH_X64_UEFI;
    let d = dhcp_with(|b| {
        b.siaddr(ip(10, 0, 0, 4)).file(b"boot.efi");
    });
    let seen = d.seen.clone();
    b.net.borrow_mut().add(DHCP, ip(10, 0, 0, 1), d);
    b.net.borrow_mut().add(
        TFTP,
        ip(10, 0, 0, 4),
        TftpServer::new(&[("boot.efi", payload(100))]),
    );
    assert!(b.run().is_some());
    let seen = seen.borrow();
    assert_eq!(seen[0].1, vec![0, 7]);
    assert_eq!(seen[0].2, b"PXEClient:Arch:00007:UNDI:002001");
}

#[test]
fn dhcp_and_proxy_dhcp() {
    let mut b = Boot::new();
    let nbp = payload(1024);
    {
        let mut net = b.net.borrow_mut();
        net.add(DHCP, ip(10, 0, 0, 1), dhcp_with(|_| {}));
        // discovery control 8: use the file name, skip discovery
        let proxy = ProxyServer {
            options: pxe_options(&[(6, &[8])]),
            file: Some("pxe/proxy.0"),
            requests_4011: Rc::default(),
        };
        net.add(PROXY, ip(10, 0, 0, 2), proxy);
        net.add(
            TFTP,
            ip(10, 0, 0, 2),
            TftpServer::new(&[("pxe/proxy.0", nbp.clone())]),
        );
    }
    let booted = b.run().expect("the NBP loads");
    contains_in_order(
        b.console(),
        &[
            "softpxe: chose DHCP server 10.0.0.1 and proxyDHCP 10.0.0.2 (WithProxy) after ",
            "PROXY IP: 10.0.0.2",
            "TFTP IP: 10.0.0.2 (from proxyDHCP)  FILE: pxe/proxy.0 (from proxyDHCP)",
            "TFTP: \"pxe/proxy.0\" 1024 bytes",
        ],
    );
    assert_eq!(b.platform.nbp, nbp);
    // type 3: the proxy offer
    let reply = booted.handoff.cached.get(2).unwrap();
    let reply = Packet::new_checked(&reply[..]).unwrap();
    assert_eq!(reply.option(code::VENDOR_CLASS), Some(&b"PXEClient"[..]));
}

#[test]
fn menu_prompt_key_and_boot_server_discovery() {
    let mut b = Boot::new();
    let nbp = payload(700);
    let asked = Rc::new(Cell::new(0));
    {
        let mut net = b.net.borrow_mut();
        net.add(DHCP, ip(10, 0, 0, 1), dhcp_with(|_| {}));
        let mut menu = Vec::new();
        for (t, d) in [
            (0u16, &b"Local disk"[..]),
            (0x8001, b"Install"),
            (0x8002, b"Rescue"),
        ] {
            menu.extend_from_slice(&t.to_be_bytes());
            menu.push(d.len() as u8);
            menu.extend_from_slice(d);
        }
        let mut prompt = vec![10u8];
        prompt.extend_from_slice(b"Press a key");
        // discovery control 3: neither broadcast nor multicast; the server list (43.8) only
        let servers = [0x80, 0x02, 1, 10, 0, 0, 3];
        let proxy = ProxyServer {
            options: pxe_options(&[(6, &[3]), (8, &servers), (9, &menu), (10, &prompt)]),
            file: None,
            requests_4011: asked.clone(),
        };
        net.add(PROXY, ip(10, 0, 0, 2), proxy);
        net.add(
            BOOT,
            ip(10, 0, 0, 3),
            BootServer {
                item_type: 0x8002,
                file: "rescue.0",
            },
        );
        net.add(
            TFTP,
            ip(10, 0, 0, 3),
            TftpServer::new(&[("rescue.0", nbp.clone())]),
        );
    }
    b.platform.keys.push((5000, Key::Char(b'3')));
    let booted = b.run();
    let booted = booted.unwrap_or_else(|| panic!("no NBP:\n{}", b.console()));
    contains_in_order(
        b.console(),
        &[
            "  1. Local disk",
            "  2. Install",
            "  3. Rescue",
            "Press a key (10 s)",
            "softpxe: press 1-9 to choose",
            "softpxe: boot server 10.0.0.3 answered for type 32770",
            "BOOT SERVER IP: 10.0.0.3",
            "TFTP IP: 10.0.0.3 (from boot server)  FILE: rescue.0 (from boot server)",
            "TFTP: \"rescue.0\" 700 bytes",
        ],
    );
    assert_eq!(b.platform.nbp, nbp);
    assert_eq!(booted.size, 700);
    // the key, not the prompt's 10 s, chose
    assert!(b.ms() < 10_000, "took {} ms", b.ms());
    // type 3 is the boot server's ACK
    let r = booted.handoff.cached.get(2).unwrap();
    assert_eq!(
        Packet::new_checked(&r[..]).unwrap().siaddr(),
        ip(10, 0, 0, 3)
    );
}

#[test]
fn menu_local_boot_item_hands_back() {
    let mut b = Boot::new();
    {
        let mut net = b.net.borrow_mut();
        net.add(DHCP, ip(10, 0, 0, 1), dhcp_with(|_| {}));
        let menu = [0, 0, 5, b'L', b'o', b'c', b'a', b'l'];
        let proxy = ProxyServer {
            options: pxe_options(&[(9, &menu), (10, &[2, b'?'])]),
            file: None,
            requests_4011: Rc::default(),
        };
        net.add(PROXY, ip(10, 0, 0, 2), proxy);
    }
    assert!(b.run().is_none());
    contains_in_order(
        b.console(),
        &["  1. Local", "? (2 s)", "softpxe: local boot selected"],
    );
    assert!(!b.nic.nic.open, "closed on the way out");
}

#[test]
fn option_66_and_67_referral() {
    let mut b = Boot::new();
    let nbp = payload(2000);
    let requests = {
        let mut net = b.net.borrow_mut();
        net.add(
            DHCP,
            ip(10, 0, 0, 1),
            dhcp_with(|b| {
                b.siaddr(ip(10, 0, 0, 9))
                    .option(code::TFTP_SERVER_NAME, b"10.0.0.4")
                    .option(code::BOOTFILE_NAME, b"pxe/boot.0");
            }),
        );
        let t = TftpServer::new(&[("pxe/boot.0", nbp.clone())]);
        let requests = t.requests.clone();
        net.add(TFTP, ip(10, 0, 0, 4), t);
        requests
    };
    assert!(b.run().is_some());
    contains_in_order(
        b.console(),
        &[
            "softpxe: warning: option 66 says 10.0.0.4 but siaddr is 10.0.0.9; using option 66",
            "TFTP IP: 10.0.0.4 (from option 66)  FILE: pxe/boot.0 (from option 67)",
            "TFTP: \"pxe/boot.0\" 2000 bytes",
        ],
    );
    assert_eq!(*requests.borrow(), vec!["pxe/boot.0".to_string()]);
    assert_eq!(b.platform.nbp, nbp);
}

#[test]
fn no_offer_is_pxe_e51_then_no_retry() {
    let mut b = Boot::new().settings("timing = fast\n");
    assert!(b.run().is_none());
    contains_in_order(
        b.console(),
        &[
            "softpxe: settings from SOFTPXE.CFG: 1 set, 0 bad line(s)",
            "DHCP....",
            "PXE-E51: ",
            "Check the cable and that a DHCP server serves this network",
            "softpxe: press a key within 5 s to try again",
        ],
    );
    // fast: 1 + 2 + 4 + 8 s of DISCOVER, then the 5 s for the key
    assert!((20_000..21_000).contains(&b.ms()), "took {} ms", b.ms());
    assert!(!b.nic.nic.open);
    assert_eq!(b.nic.nic.opens, 1);
}

#[test]
fn a_key_after_a_failure_tries_again() {
    let mut b = Boot::new().settings("timing = fast\n");
    b.platform.keys.push((16_000, Key::Char(b' ')));
    assert!(b.run().is_none());
    assert_eq!(b.console().matches("PXE-E51").count(), 2);
    assert_eq!(b.nic.nic.opens, 2);
}

#[test]
fn missing_file_is_pxe_e3b_with_advice() {
    let mut b = Boot::new();
    {
        let mut net = b.net.borrow_mut();
        net.add(
            DHCP,
            ip(10, 0, 0, 1),
            dhcp_with(|b| {
                b.siaddr(ip(10, 0, 0, 4)).file(b"nope.0");
            }),
        );
        net.add(TFTP, ip(10, 0, 0, 4), TftpServer::new(&[]));
    }
    assert!(b.run().is_none());
    contains_in_order(
        b.console(),
        &[
            "PXE-E3B: TFTP error 1 from 10.0.0.4 for \"nope.0\": File not found",
            "Check that the file exists on the TFTP server and is readable.",
            "softpxe: press a key within 5 s to try again",
        ],
    );
}

#[test]
fn loss_is_survived_with_retries() {
    let mut b = Boot::new();
    let nbp = payload(40 * 512 + 17);
    {
        let mut net = b.net.borrow_mut();
        net.loss_percent = 20;
        // and the first DISCOVER for sure: the 4 s retransmission has to bring the offer
        net.drop_sent = vec![0];
        net.add(
            DHCP,
            ip(10, 0, 0, 1),
            dhcp_with(|b| {
                b.siaddr(ip(10, 0, 0, 4)).file(b"big.0");
            }),
        );
        net.add(
            TFTP,
            ip(10, 0, 0, 4),
            TftpServer::new(&[("big.0", nbp.clone())]),
        );
    }
    let booted = b.run();
    let (lost, sent) = (b.net.borrow().lost, b.net.borrow().sent.len());
    let booted = booted.unwrap_or_else(|| {
        panic!(
            "no NBP despite retries ({lost} of {sent}+ lost):\n{}",
            b.console()
        )
    });
    assert_eq!(b.platform.nbp, nbp);
    assert_eq!(booted.size as usize, nbp.len());
    let lost = b.net.borrow().lost;
    assert!(lost >= 5, "only {lost} frames lost");
    let c = b.console();
    eprintln!("{lost} frames lost, {} ms:\n{c}", b.ms());
    contains_in_order(
        c,
        &[
            "DHCP..",
            "softpxe: chose DHCP server 10.0.0.1",
            " retries (",
        ],
    );
    assert!(b.ms() > 4000, "the DISCOVER retransmission took 4 s");
}

#[test]
fn static_address_from_the_settings() {
    let mut b = Boot::new().settings(
        "ip = 10.0.0.77/24\ngateway = 10.0.0.254\nnext_server = 10.0.0.4\nboot_file = s.0\n",
    );
    b.net.borrow_mut().add(
        TFTP,
        ip(10, 0, 0, 4),
        TftpServer::new(&[("s.0", payload(600))]),
    );
    let booted = b.run().expect("the NBP loads");
    contains_in_order(
        b.console(),
        &[
            "CLIENT IP: 10.0.0.77  MASK: 255.255.255.0  GATEWAY IP: 10.0.0.254  (static, from SOFTPXE.CFG)",
            "TFTP: \"s.0\" 600 bytes",
        ],
    );
    assert!(!b.console().contains("DHCP."));
    // the made-up DHCPACK (rom/net's static_ack) as types 2 and 3
    let c = &booted.handoff.cached;
    assert!(c.get(0).unwrap().iter().all(|&x| x == 0));
    let ack = Packet::new_checked(&c.get(1).unwrap()[..]).unwrap();
    assert_eq!(ack.message_type(), Some(5));
    assert_eq!(ack.yiaddr(), ip(10, 0, 0, 77));
    assert_eq!(ack.siaddr(), ip(10, 0, 0, 4));
    assert_eq!(ack.option_ip(code::ROUTER), Some(ip(10, 0, 0, 254)));
    assert_eq!(ack.option_ip(code::SUBNET_MASK), Some(ip(255, 255, 255, 0)));
}

/// The TFTP window asked for never exceeds the frames the NIC's receive ring holds.
#[test]
fn the_tftp_window_never_exceeds_the_nic_ring() {
    use softpxe_boot::TftpAdvice;
    let s = softpxe_settings::Settings::default();
    assert_eq!(s.tftp_windowsize(), 16);
    assert_eq!(TftpAdvice::for_nic(8).config(&s).windowsize, 8);
    assert_eq!(TftpAdvice::for_nic(32).config(&s).windowsize, 16);
    assert_eq!(TftpAdvice::for_nic(0).config(&s).windowsize, 16);
    assert_eq!(TftpAdvice::default().config(&s).windowsize, 16);
}
