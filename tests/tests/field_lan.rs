//! The field-like LANs of tests/src/lan/, proved without softpxe's firmware by QEMU's own iPXE
//! NIC ROM (e1000, `-cpu pentium2 -nographic -boot n`):
//!
//! - routed: the guest on 10.61.0.0/24, ISC dhcpd and a dnsmasq proxyDHCP/TFTP server on
//!   10.62.0.0/24 behind a router running ISC dhcrelay; every DHCP packet is relayed (giaddr
//!   10.61.0.1), the PXE request on port 4011 and TFTP are routed unicast;
//! - lossy: the user-space link drops 10 % of the frames each way (seeded) and iPXE still gets
//!   its address and a 150 kB file; the link's counters show the configured rate.
//!
//! Needs root; see docs/testing-lan.md.
use anyhow::{ensure, Context, Result};
use softpxe_tests::lan::{
    self, Faults, Host, Lan, LossConfig, GUEST_MAC, LINK_QEMU_PORT, LINK_RELAY_PORT, ROUTED_BOOT,
    ROUTER_CLIENT,
};
use softpxe_tests::{tools, Run, Wait};
use std::fs;
use std::net::{Ipv4Addr, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

/// Not a test of its own: [`Lan::tftp_get`] re-executes this binary with this test selected to
/// run a TFTP client inside a namespace.
#[test]
fn lan_tftp_helper() {
    lan::tftp_helper_entry();
}

/// Runs `body` with `lan`, then checks that dropping it removed its namespaces.
fn with_lan(lan: Lan, body: impl FnOnce(&Lan) -> Result<()>) -> Result<()> {
    let namespaces = lan.namespaces();
    let result = body(&lan);
    drop(lan);
    let left: Vec<_> = lan::netns_list()
        .into_iter()
        .filter(|n| namespaces.contains(n))
        .collect();
    result?;
    ensure!(left.is_empty(), "namespaces left after drop: {left:?}");
    Ok(())
}

/// QEMU with its default iPXE ROM on an e1000 on the LAN's link, booting from the network.
fn ipxe_guest(lan: &Lan, markers: &[&str], timeout: Duration) -> Result<Run> {
    tools::require("qemu-system-i386", "qemu-system-x86")?;
    let serial = lan.dir().join("serial.raw");
    let mut qemu = Command::new("qemu-system-i386");
    qemu.args(["-accel", "tcg", "-cpu", "pentium2", "-m", "64"])
        .args(["-nographic", "-no-reboot", "-monitor", "none"])
        .arg("-serial")
        .arg(format!("file:{}", serial.display()))
        .args(lan.qemu_netdev())
        .args(["-device", &format!("e1000,netdev=n0,mac={GUEST_MAC}")])
        .args(["-boot", "n"]);
    lan.run_emulator(&qemu, &serial, &Wait::for_markers(markers, timeout))
}

/// The address in iPXE's `net0: A.B.C.D/255.255.255.0` line.
fn ipxe_address(serial: &str) -> Option<Ipv4Addr> {
    serial.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("net0: ")?;
        let (addr, mask) = rest.split_once('/')?;
        mask.starts_with("255.255.255.0")
            .then(|| addr.parse().ok())?
    })
}

#[test]
fn routed_ipxe_boots_through_dhcrelay_from_isc_dhcpd_and_a_dnsmasq_proxy() -> Result<()> {
    let nbp = "/usr/lib/ipxe/undionly.kpxe";
    tools::require(nbp, "ipxe")?;
    let t0 = Instant::now();
    with_lan(Lan::routed("field-routed-ipxe")?, |lan| {
        let tftp = lan.dir().join("tftp");
        fs::create_dir_all(&tftp)?;
        fs::copy(nbp, tftp.join("undionly.0")).context("copying undionly.kpxe")?;
        // addresses only: the proxy on the boot host names the boot file
        let dhcpd = lan.isc_dhcpd("")?;
        let proxy = lan.dnsmasq(
            Host::Boot,
            &[
                // relayed subnet: dnsmasq needs its netmask (it is not on a local interface)
                "--dhcp-range=10.61.0.0,proxy,255.255.255.0",
                "--pxe-service=x86PC,softpxe field test,undionly",
                "--enable-tftp",
                &format!("--tftp-root={}", tftp.display()),
            ],
        )?;
        eprintln!("routed LAN and servers ready after {:?}", t0.elapsed());
        let run = ipxe_guest(
            lan,
            &[
                "Configuring (net0",
                // PXE boot-server discovery: a unicast request to the proxy's port 4011
                "PXEBS (net0 type 128)... ok",
                &format!("tftp://{ROUTED_BOOT}/undionly.0... ok"),
                "using undionly on",
            ],
            Duration::from_secs(40),
        )?;
        for (m, t) in ["DHCP start", "PXEBS done", "NBP loaded", "NBP running"]
            .iter()
            .zip(&run.marker_times)
        {
            eprintln!("  {m}: {t:?}");
        }
        let addr = ipxe_address(&run.serial)
            .with_context(|| format!("no `net0: 10.61.0.x/255.255.255.0` line:\n{}", run.serial))?;
        let (first, last) = lan.guest_range();
        ensure!(
            addr >= first && addr <= last,
            "iPXE got {addr}, outside {first}-{last}"
        );
        run.expect(&format!("gw {ROUTER_CLIENT}"))?
            .expect(&format!("Next server: {ROUTED_BOOT}"))?
            .expect("Filename: undionly.0")?;

        let wait = Duration::from_secs(3);
        // every DHCP packet came through the relay: giaddr is the router's client side
        dhcpd.wait_log(
            &format!("DHCPDISCOVER from {GUEST_MAC} via {ROUTER_CLIENT}"),
            wait,
        )?;
        dhcpd.wait_log(
            &format!("DHCPACK on {addr} to {GUEST_MAC} via {ROUTER_CLIENT}"),
            wait,
        )?;
        ensure!(
            !dhcpd.log().contains("via eth0"),
            "dhcpd saw a request that was not relayed:\n{}",
            dhcpd.log()
        );
        let relay = lan.dhcrelay().context("no dhcrelay")?;
        for server in [Host::Dhcp, Host::Boot] {
            relay.expect_log(&format!(
                "Forwarded BOOTREQUEST for {GUEST_MAC} to {}",
                lan.addr(server)
            ))?;
        }
        relay.wait_log(&format!("Forwarded BOOTREPLY for {GUEST_MAC}"), wait)?;
        // the proxy answered the relayed DISCOVER, then the unicast request on port 4011 and
        // TFTP crossed the router
        let log = proxy.wait_log(&format!("PXE(eth0) {addr} {GUEST_MAC} undionly.0"), wait)?;
        ensure!(
            log.contains(&format!("PXE(eth0) {GUEST_MAC} proxy")),
            "the proxy did not answer the relayed DISCOVER:\n{log}"
        );
        proxy.wait_log(
            &format!("sent {}/undionly.0 to {addr}", tftp.display()),
            wait,
        )?;
        ensure!(
            !proxy.log().contains("DHCPACK"),
            "the proxyDHCP server sent a DHCPACK"
        );
        // the harness's TFTP client works in the routed LAN too (router's server side)
        let r = lan.tftp_get(
            Host::Router,
            Host::Boot,
            "undionly.0",
            &[("blksize", "1428")],
        )?;
        ensure!(
            r.data == fs::read(nbp)?,
            "TFTP from the router: data differs"
        );
        eprintln!("booted in {:.1} s", run.elapsed.as_secs_f64());
        Ok(())
    })?;
    eprintln!("total {:?}", t0.elapsed());
    Ok(())
}

/// Deterministic, incompressible-looking content.
fn blob(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// 10 % loss each way, nothing else: seed fixed so a run can be repeated frame for frame.
const LOSS: LossConfig = LossConfig {
    to_guest: Faults {
        loss: 0.10,
        duplicate: 0.0,
        reorder: 0.0,
    },
    from_guest: Faults {
        loss: 0.10,
        duplicate: 0.0,
        reorder: 0.0,
    },
    seed: 0x5eed_0010,
};

/// The file iPXE fetches after its script: 100 kB, 70 TFTP blocks of 1432 bytes (each lost
/// DATA or ACK costs iPXE's or dnsmasq's retransmission timeout, ~0.8 s).
const BLOB_LEN: usize = 100_000;

/// Serves `fetch.ipxe` (an iPXE script fetching `blob.bin` from `server`) and `blob.bin`.
fn write_boot_files(lan: &Lan, server: Ipv4Addr) -> Result<std::path::PathBuf> {
    let tftp = lan.dir().join("tftp");
    fs::create_dir_all(&tftp)?;
    fs::write(tftp.join("blob.bin"), blob(BLOB_LEN))?;
    fs::write(
        tftp.join("fetch.ipxe"),
        format!(
            "#!ipxe\nimgfetch tftp://{server}/blob.bin || goto failed\necho FIELD-FETCH-OK\n\
             exit\n:failed\necho FIELD-FETCH-FAILED\n"
        ),
    )?;
    Ok(tftp)
}

/// Boots iPXE's ROM over the lossy link into the script, checks that it fetched the blob and
/// that the link dropped about 10 % each way.
fn lossy_boot(lan: &Lan, server: Ipv4Addr) -> Result<()> {
    let run = ipxe_guest(
        lan,
        &[
            "Configuring (net0",
            // iPXE prints a dot per retry and percentages, so "... ok" is not a fixed string
            "bytes [script]",
            &format!("tftp://{server}/blob.bin..."),
            // only if imgfetch succeeded (`|| goto failed`)
            "FIELD-FETCH-OK",
        ],
        Duration::from_secs(40),
    )?;
    for (m, t) in ["DHCP start", "script loaded", "blob fetched", "script done"]
        .iter()
        .zip(&run.marker_times)
    {
        eprintln!("  {m}: {t:?}");
    }
    let stats = lan.stop_link()?;
    eprintln!("link: {stats:?}");
    let report = fs::read_to_string(lan.dir().join("link-stats.txt"))?;
    ensure!(report.contains("to_guest"), "link-stats.txt: {report}");
    for (name, d) in [
        ("to guest", stats.to_guest),
        ("from guest", stats.from_guest),
    ] {
        // the blob alone is 70 DATA frames to the guest and as many ACKs from it
        ensure!(d.frames >= 70, "{name}: only {} frames: {d:?}", d.frames);
        ensure!(d.passed + d.dropped == d.frames, "{name}: {d:?}");
        ensure!(d.duplicated == 0 && d.reordered == 0, "{name}: {d:?}");
        // binomial: 10 % of n frames, within 4 standard deviations
        let n = d.frames as f64;
        let sigma = (0.1 * 0.9 / n).sqrt();
        ensure!(
            (d.loss_rate() - 0.10).abs() <= 4.0 * sigma,
            "{name}: loss rate {:.3} over {} frames, configured 0.10: {d:?}",
            d.loss_rate(),
            d.frames
        );
        ensure!(d.dropped > 0, "{name}: nothing dropped: {d:?}");
    }
    eprintln!(
        "fetched over the lossy link in {:.1} s",
        run.elapsed.as_secs_f64()
    );
    Ok(())
}

#[test]
fn lossy_link_drops_ten_percent_each_way_and_ipxe_still_fetches_a_file() -> Result<()> {
    let t0 = Instant::now();
    let lan = Lan::builder("field-lossy-flat").lossy(LOSS).build()?;
    ensure!(
        lan.qemu_netdev()[1].starts_with("dgram,"),
        "{:?}",
        lan.qemu_netdev()
    );
    with_lan(lan, |lan| {
        let server = lan.addr(Host::Dhcp);
        let tftp = write_boot_files(lan, server)?;
        let (first, last) = lan.guest_range();
        let dhcp = lan.dnsmasq(
            Host::Dhcp,
            &[
                &format!("--dhcp-range={first},{last},255.255.255.0,1h"),
                "--dhcp-boot=fetch.ipxe",
                "--enable-tftp",
                &format!("--tftp-root={}", tftp.display()),
                "--enable-ra",
                "--dhcp-range=::,constructor:eth0,ra-only",
            ],
        )?;
        lossy_boot(lan, server)?;
        // not "sent .../blob.bin": if the guest's last ACK is lost, dnsmasq never logs it
        dhcp.wait_log("DHCPACK(eth0) 10.99.0.", Duration::from_secs(3))?;
        Ok(())
    })?;
    eprintln!("total {:?}", t0.elapsed());
    Ok(())
}

#[test]
fn routed_and_lossy_ipxe_gets_options_from_isc_dhcpd_and_fetches_a_file() -> Result<()> {
    let t0 = Instant::now();
    let lan = Lan::builder("field-lossy-routed")
        .routed()
        .lossy(LOSS)
        .build()?;
    with_lan(lan, |lan| {
        let server = lan.addr(Host::Boot);
        let tftp = write_boot_files(lan, server)?;
        let dhcpd = lan.isc_dhcpd(&format!("next-server {server};\nfilename \"fetch.ipxe\";"))?;
        // TFTP only: no --dhcp-range
        let tftpd = lan.dnsmasq(
            Host::Boot,
            &["--enable-tftp", &format!("--tftp-root={}", tftp.display())],
        )?;
        lossy_boot(lan, server)?;
        // the options came from dhcpd, through the relay
        dhcpd.expect_log(&format!("to {GUEST_MAC} via {ROUTER_CLIENT}"))?;
        ensure!(
            dhcpd.log().contains("DHCPACK on 10.61.0."),
            "{}",
            dhcpd.log()
        );
        // the server's TFTP log: see the flat test
        ensure!(tftpd.is_running(), "{}", tftpd.log());
        Ok(())
    })?;
    eprintln!("total {:?}", t0.elapsed());
    Ok(())
}

/// An Ethernet II / IPv4 / UDP broadcast frame from the guest's MAC (UDP checksum 0).
fn udp_broadcast_frame(src: Ipv4Addr, port: u16, payload: &[u8]) -> Vec<u8> {
    let mac: Vec<u8> = GUEST_MAC
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&mac);
    f.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + 8 + payload.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&[255, 255, 255, 255]);
    let sum: u32 = ip
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    let sum = (sum & 0xffff) + (sum >> 16);
    let sum = !((sum & 0xffff) + (sum >> 16)) as u16;
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&port.to_be_bytes());
    f.extend_from_slice(&port.to_be_bytes());
    f.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

const PROBE: &[u8] = b"SPXLINK";

/// Sequence numbers of the probes in `datagram` (a UDP payload, or with `frame` a whole
/// Ethernet frame whose UDP payload is a probe).
fn probe_seq(datagram: &[u8], frame: bool) -> Option<u32> {
    let payload = if frame {
        datagram.get(14 + 20 + 8..)?
    } else {
        datagram
    };
    let seq = payload.strip_prefix(PROBE)?.get(..4)?;
    Some(u32::from_be_bytes(seq.try_into().ok()?))
}

/// Unique sequence numbers, total received, and how many arrived after a later one.
fn tally(seqs: &[u32]) -> (usize, usize, usize) {
    let mut unique = seqs.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let mut late = 0;
    let mut max = None;
    for &s in seqs {
        if max.is_some_and(|m| s < m) {
            late += 1;
        }
        max = max.max(Some(s));
    }
    (unique.len(), seqs.len(), late)
}

/// Receives until `quiet` passes without a datagram, collecting probe sequence numbers.
fn collect(sock: &UdpSocket, frame: bool, quiet: Duration) -> Result<Vec<u32>> {
    sock.set_read_timeout(Some(quiet))?;
    let mut buf = vec![0u8; 2048];
    let mut seqs = Vec::new();
    while let Ok(n) = sock.recv(&mut buf) {
        seqs.extend(probe_seq(&buf[..n], frame));
    }
    Ok(seqs)
}

/// The relay without QEMU: a socket in the LAN namespace plays QEMU's `-netdev dgram` end,
/// the DHCP host is the far end; 2000 UDP broadcasts each way give the rates to within a few
/// tenths of a percent.
#[test]
fn lossy_link_self_test_loses_duplicates_and_reorders_at_the_configured_rates() -> Result<()> {
    const N: u32 = 2000;
    let config = LossConfig {
        to_guest: Faults {
            loss: 0.10,
            duplicate: 0.05,
            reorder: 0.05,
        },
        from_guest: Faults::loss(0.10),
        seed: 42,
    };
    let t0 = Instant::now();
    with_lan(
        Lan::builder("field-link-self-test").lossy(config).build()?,
        |lan| {
            let qemu = lan.in_namespace(&lan.ns_lan(), || {
                Ok(UdpSocket::bind(("127.0.0.1", LINK_QEMU_PORT))?)
            })?;
            let peer = lan.in_namespace(&lan.ns(Host::Dhcp), || {
                let s = UdpSocket::bind("0.0.0.0:5000")?;
                s.set_broadcast(true)?;
                Ok(s)
            })?;
            let guest = Ipv4Addr::new(10, 99, 0, 50);
            let relay = ("127.0.0.1", LINK_RELAY_PORT);
            // from the guest: paced, so no socket buffer overflows and adds to the loss
            let receiver = {
                let peer = peer.try_clone()?;
                std::thread::spawn(move || collect(&peer, false, Duration::from_millis(500)))
            };
            for seq in 0..N {
                let payload = [PROBE, &seq.to_be_bytes()].concat();
                qemu.send_to(&udp_broadcast_frame(guest, 5000, &payload), relay)?;
                if seq % 10 == 9 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            let from_guest = receiver.join().expect("receiver thread")?;
            // to the guest: subnet broadcasts from the DHCP host reach tap0, the relay, "QEMU"
            let receiver = {
                let qemu = qemu.try_clone()?;
                std::thread::spawn(move || collect(&qemu, true, Duration::from_millis(500)))
            };
            for seq in 0..N {
                let payload = [PROBE, &seq.to_be_bytes()].concat();
                peer.send_to(&payload, "10.99.0.255:5001")?;
                if seq % 10 == 9 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            let to_guest = receiver.join().expect("receiver thread")?;
            let stats = lan.stop_link()?;
            eprintln!("link: {stats:?}");
            let n = f64::from(N);
            let four_sigma = 4.0 * (0.1 * 0.9 / n).sqrt();
            for (name, seqs, d, dup) in [
                ("from guest", &from_guest, stats.from_guest, 0.0),
                ("to guest", &to_guest, stats.to_guest, 0.05),
            ] {
                let (unique, received, late) = tally(seqs);
                let lost = 1.0 - unique as f64 / n;
                eprintln!(
                "{name}: {unique} of {N} arrived ({lost:.3} lost), {received} with duplicates, {late} late; relay: {d:?}"
            );
                ensure!(d.frames >= u64::from(N), "{name}: relay saw {d:?}");
                ensure!(
                    (lost - 0.10).abs() <= four_sigma,
                    "{name}: {lost:.3} of the probes lost, configured 0.10"
                );
                ensure!(
                    (d.loss_rate() - 0.10).abs() <= four_sigma,
                    "{name}: relay's loss rate {:.3}",
                    d.loss_rate()
                );
                let dups = (received - unique) as f64 / unique as f64;
                ensure!(
                    (dups - dup).abs() <= 0.02,
                    "{name}: {dups:.3} duplicated, configured {dup}"
                );
                if dup == 0.0 {
                    ensure!(
                        d.reordered == 0 && late == 0,
                        "{name}: reordered: {d:?}, {late} late"
                    );
                } else {
                    let rate = late as f64 / unique as f64;
                    ensure!(
                        (0.02..=0.06).contains(&rate) && d.reordered >= late as u64,
                        "{name}: {late} probes late ({rate:.3}), relay reordered {}",
                        d.reordered
                    );
                }
            }
            let report = fs::read_to_string(lan.dir().join("link-stats.txt"))?;
            ensure!(
                report.contains("from_guest ") && report.contains("seed 42"),
                "link-stats.txt: {report}"
            );
            Ok(())
        },
    )?;
    eprintln!("total {:?}", t0.elapsed());
    Ok(())
}

#[test]
fn a_broken_dhcpd_conf_fails_loudly_and_the_routed_lan_is_torn_down() -> Result<()> {
    with_lan(Lan::routed("field-bad-dhcpd")?, |lan| {
        ensure!(
            lan.namespaces().len() == 4 && lan.dhcrelay().is_some_and(|r| r.is_running()),
            "routed LAN: {:?}",
            lan.namespaces()
        );
        let err = lan
            .isc_dhcpd("this is not a statement;")
            .expect_err("dhcpd with a broken configuration must fail");
        let msg = format!("{err:#}");
        ensure!(
            msg.contains("dhcpd exited at start") && msg.contains("dhcpd.conf"),
            "unexpected error: {msg}"
        );
        Ok(())
    })
}
