//! apitest.0 (tests/nbp/src/apitest.s) against a real PXE stack: QEMU's own iPXE NIC ROM (e1000,
//! no `romfile=`, `-cpu pentium2`). The NBP calls the whole PXE 2.1 API and prints one line per
//! call on COM1 (format: docs/api-test-nbp.md); these tests parse every line and check iPXE's
//! answers against what the host knows: addresses, MAC, file size and byte sums, UDP echo, ARP.
//!
//! 1. QEMU's user network (slirp DHCP + TFTP). slirp forwards the guest's datagrams for
//!    10.0.2.2 to the host's loopback, so an in-process UDP echo on 127.0.0.1 (an ephemeral
//!    port, patched into the image header) answers the NBP's UDP_WRITE.
//! 3. The header flag that makes apitest.0 skip the unload calls and return to iPXE.
//! 2. The namespace LAN (tests/src/lan/): dnsmasq DHCP + TFTP on the boot host, and a UDP echo
//!    responder in the same namespace (this test binary re-executed there).
use anyhow::{bail, ensure, Context, Result};
use softpxe_tests::apitest::{
    check_api, check_rx_filter, echo_loop, tftp_root, Echo, Expect, Report, DONE, RX_GROUPS,
    RX_NEW_MAC, SRC_PORT,
};
use softpxe_tests::lan::{Host, Lan};
use softpxe_tests::{floppy_fast, run_dir, Qemu, Wait};
use std::fs;
use std::net::UdpSocket;
use std::process::Stdio;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

const ECHO_HELPER_TEST: &str = "api_nbp_udp_echo_helper";
const ECHO_PORT_ENV: &str = "SOFTPXE_APITEST_ECHO_PORT";
const ECHO_READY_ENV: &str = "SOFTPXE_APITEST_ECHO_READY";
const SENDER_TEST: &str = "api_nbp_rx_filter_sender";
const SENDER_ENV: &str = "SOFTPXE_APITEST_SENDER_READY";
/// Addresses on the LAN that no host has: static neighbour entries in the boot namespace map
/// them to the NBP's new station address and to the guest's own MAC.
const TO_NEW_MAC: &str = "10.99.0.251";
const TO_OLD_MAC: &str = "10.99.0.252";

// --- host side ----------------------------------------------------------------------------------

/// Not a test of its own: the LAN test re-executes this binary with this test selected inside
/// the boot host's namespace to run a UDP echo responder there.
#[test]
fn api_nbp_udp_echo_helper() {
    let Ok(port) = std::env::var(ECHO_PORT_ENV) else {
        return;
    };
    let sock = UdpSocket::bind(("0.0.0.0", port.parse::<u16>().unwrap())).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    if let Ok(ready) = std::env::var(ECHO_READY_ENV) {
        fs::write(ready, "ready\n").unwrap();
    }
    let stop = AtomicBool::new(false);
    echo_loop(&sock, &stop, Duration::from_secs(300));
}

fn qemu_wait() -> Wait {
    Wait::for_markers(&[DONE], Duration::from_secs(150))
}

/// QEMU's user network: slirp DHCP/TFTP; UDP echo on the host's loopback (slirp maps 10.0.2.2).
#[test]
fn ipxe_user_net_answers_the_pxe_api() -> Result<()> {
    let dir = run_dir("api-nbp-ipxe-user-files")?;
    let echo = Echo::start("127.0.0.1:0")?;
    let tftp = tftp_root(&dir, echo.port, 1)?;
    let netdev = format!("user,id=n0,tftp={},bootfile=apitest.0", tftp.display());
    let run = Qemu::bios("api-nbp-ipxe-user")
        .cpu("pentium2")
        .args(&[
            "-nographic",
            "-netdev",
            &netdev,
            "-device",
            "e1000,netdev=n0",
            "-boot",
            "n",
        ])
        .run(&qemu_wait())?;
    let echoed = echo.finish();
    eprintln!(
        "{}: {:.1} s, {echoed} datagram(s) echoed",
        run.name,
        run.elapsed.as_secs_f64()
    );
    let r = check_api(
        &run,
        &Expect {
            client_ip: "10.0.2.15",
            server_ip: "10.0.2.2",
            nic: ("8086", "100E"),
        },
    )?;
    r.call("UDP_READ")?
        .ok()?
        .expect("payload", "apitest ping")?
        .expect("src_ip", "10.0.2.2")?
        .expect("dest_ip", "10.0.2.15")?
        .expect_hex("s_port", echo_port_of(&r)?)?
        .expect_hex("d_port", SRC_PORT as u32)?
        .expect_hex("buffer_size", 12)?;
    ensure!(echoed >= 1, "the host echo saw nothing");
    Ok(())
}

fn echo_port_of(r: &Report) -> Result<u32> {
    r.call("UDP_WRITE")?.hex("dst_port")
}

/// The namespace LAN: dnsmasq DHCP + TFTP on 10.99.0.2 and a UDP echo on 10.99.0.2:7777.
#[test]
fn ipxe_lan_answers_the_pxe_api_with_udp_echo() -> Result<()> {
    let lan = Lan::new("api-nbp-ipxe-lan")?;
    let tftp = tftp_root(lan.dir(), 7777, 1)?;
    let _dnsmasq = lan.dnsmasq(
        Host::Boot,
        &[
            "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
            "--dhcp-boot=apitest.0",
            "--enable-tftp",
            &format!("--tftp-root={}", tftp.display()),
            "--enable-ra",
            "--dhcp-range=::,constructor:eth0,ra-only",
        ],
    )?;
    let exe = std::env::current_exe().context("locating the test binary")?;
    let ready = lan.dir().join("echo.ready");
    let echo_log = fs::File::create(lan.dir().join("echo.log"))?;
    let mut helper = lan.wrap_host(Host::Boot, &exe.to_string_lossy());
    helper
        .args([
            ECHO_HELPER_TEST,
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ECHO_PORT_ENV, "7777")
        .env(ECHO_READY_ENV, &ready)
        .stdin(Stdio::null())
        .stdout(echo_log.try_clone()?)
        .stderr(echo_log);
    let mut child = helper.spawn().context("starting the UDP echo helper")?;
    let start = Instant::now();
    while !ready.exists() {
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the UDP echo helper did not start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let result = Qemu::bios("api-nbp-ipxe-lan")
        .cpu("pentium2")
        .lan(&lan)
        .nic_tap("e1000", true)
        .args(&["-nographic", "-boot", "n"])
        .run(&qemu_wait());
    let _ = child.kill();
    let _ = child.wait();
    let run = result?;
    eprintln!("{}: {:.1} s", run.name, run.elapsed.as_secs_f64());
    let client = run
        .serial
        .lines()
        .filter_map(|l| l.find("apitest: boot server ").map(|i| &l[i..]))
        .find_map(|l| l.split(" client ").nth(1))
        .map(|s| s.trim().to_string())
        .context("no boot server line")?;
    ensure!(client.starts_with("10.99.0."), "client address {client}");
    let r = check_api(
        &run,
        &Expect {
            client_ip: &client,
            server_ip: "10.99.0.2",
            nic: ("8086", "100E"),
        },
    )?;
    r.call("UDP_READ")?
        .ok()?
        .expect("payload", "apitest ping")?
        .expect("src_ip", "10.99.0.2")?
        .expect("dest_ip", &client)?
        .expect_hex("s_port", 7777)?
        .expect_hex("d_port", SRC_PORT as u32)?
        .expect_hex("buffer_size", 12)?;
    let log = fs::read_to_string(lan.dir().join("echo.log")).unwrap_or_default();
    ensure!(
        log.contains("udp echo: 12 bytes from 10.99.0."),
        "echo log:\n{log}"
    );
    Ok(())
}

/// The header flag: bit 0 clear skips the unload calls and returns to iPXE with AX = 0.
#[test]
fn ipxe_user_net_apitest_returns_when_told() -> Result<()> {
    let dir = run_dir("api-nbp-ipxe-return-files")?;
    let tftp = tftp_root(&dir, 7, 0)?;
    let netdev = format!("user,id=n0,tftp={},bootfile=apitest.0", tftp.display());
    let run = Qemu::bios("api-nbp-ipxe-return")
        .cpu("pentium2")
        .args(&[
            "-nographic",
            "-netdev",
            &netdev,
            "-device",
            "e1000,netdev=n0",
            "-boot",
            "n",
        ])
        // iPXE, after the NBP returned, tries the next device: SeaBIOS then reports no bootable
        // device or boots the next entry; either way text after "done"
        .run(&Wait::for_markers(
            &[DONE, "No bootable device"],
            Duration::from_secs(150),
        ))?;
    let r = Report::parse(&run.serial)?;
    ensure!(
        r.all("UNDI_SHUTDOWN", "!PXE").is_empty(),
        "unload calls made"
    );
    let after = &run.serial[run.serial.find(DONE).unwrap()..];
    ensure!(
        after.contains("No bootable device"),
        "nothing after the return:\n{after}"
    );
    Ok(())
}

// --- softpxe's own PXE API, on each NIC ------------------------------------------------------

/// Header flag bit 1: RESTART_TFTP downloads apitest.0 again and starts it (it does not return);
/// the second start sees the flag at 0000:04F0 and ends.
#[test]
fn softpxe_restart_tftp_starts_the_nbp_again() -> Result<()> {
    let name = "api-nbp-softpxe-restart";
    let dir = run_dir(&format!("{name}-files"))?;
    let tftp = tftp_root(&dir, 7, 3)?;
    let img = floppy_fast(&dir, |_| {})?;
    let run = Qemu::bios(name)
        .floppy(&img)
        .nic_user_tftp("e1000", &tftp, "apitest.0")
        .run(&qemu_wait())?;
    eprintln!("{}: {:.1} s", run.name, run.elapsed.as_secs_f64());
    let r = Report::parse(&run.serial)?;
    let starts = r
        .lines
        .iter()
        .filter(|l| l.starts_with("apitest: start "))
        .count();
    ensure!(starts == 2, "{starts} starts:\n{}", r.lines.join("\n"));
    // the first run got as far as the calls a ROM may refuse, then RESTART_TFTP did not return
    r.call("MODE_SWITCH")?;
    ensure!(
        r.all("RESTART_TFTP", "!PXE").is_empty(),
        "RESTART_TFTP returned:\n{}",
        r.lines.join("\n")
    );
    ensure!(
        r.all("START_UNDI", "!PXE").is_empty() && r.all("UNDI_SHUTDOWN", "!PXE").is_empty(),
        "calls after RESTART_TFTP"
    );
    let restarted = r
        .lines
        .iter()
        .position(|l| l == "apitest: restarted by RESTART_TFTP")
        .context("no restart line")?;
    ensure!(
        r.lines[restarted - 1].starts_with("apitest: start ")
            && r.lines[restarted + 1] == DONE
            && r.lines.len() == restarted + 2,
        "second start: {:?}",
        &r.lines[restarted - 1..]
    );
    Ok(())
}

// --- receive filters and station address on the namespace LAN ---------------------------------

/// Not a test of its own: the receive-filter tests re-execute this binary in the boot
/// namespace, where it sends a UDP datagram every 40 ms to each of 239.1.2.3 (subscribed by
/// the NBP), 239.1.2.4 (not subscribed), and the two neighbour entries for the new station
/// address and the guest's own MAC.
#[test]
fn api_nbp_rx_filter_sender() {
    let Ok(ready) = std::env::var(SENDER_ENV) else {
        return;
    };
    let sock = UdpSocket::bind("10.99.0.2:0").unwrap();
    sock.set_multicast_ttl_v4(1).unwrap();
    sock.set_multicast_loop_v4(false).unwrap();
    let group = |g: [u8; 4]| format!("{}.{}.{}.{}:9", g[0], g[1], g[2], g[3]);
    let targets = [
        (group(RX_GROUPS[0]), "sub"),
        (group(RX_GROUPS[1]), "unsub"),
        (format!("{TO_NEW_MAC}:9"), "new"),
        (format!("{TO_OLD_MAC}:9"), "old"),
    ];
    fs::write(ready, "ready\n").unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(300) {
        for (to, kind) in &targets {
            let _ = sock.send_to(format!("rxfilter {kind}").as_bytes(), to.as_str());
        }
        std::thread::sleep(Duration::from_millis(40));
    }
}

fn ip_in(ns: &str, args: &[&str]) -> Result<()> {
    let out = std::process::Command::new("ip")
        .args(["-n", ns])
        .args(args)
        .output()
        .context("running ip")?;
    ensure!(
        out.status.success(),
        "ip -n {ns} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn mac_text(m: [u8; 6]) -> String {
    m.map(|b| format!("{b:02x}")).join(":")
}

/// apitest.0 with header flags 5 (receive-filter step, then unload and halt) through softpxe
/// on `model`, on the namespace LAN with the sender running; `info` = expected
/// (rxbufct, txbufct, linkspeed) of GET_INFORMATION / GET_IFACE_INFO.
fn softpxe_rx_filter(model: &str, info: (u32, u32, u32)) -> Result<()> {
    let name = format!("api-nbp-rxfilter-{}", model.replace([',', '='], "-"));
    let lan = Lan::new(&name)?;
    let tftp = tftp_root(lan.dir(), 7, 5)?;
    let _dnsmasq = lan.dnsmasq(
        Host::Boot,
        &[
            "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
            "--dhcp-boot=apitest.0",
            "--enable-tftp",
            &format!("--tftp-root={}", tftp.display()),
        ],
    )?;
    let boot = lan.ns(Host::Boot);
    ip_in(&boot, &["route", "add", "224.0.0.0/4", "dev", "eth0"])?;
    for (ip, mac) in [
        (TO_NEW_MAC, mac_text(RX_NEW_MAC)),
        (TO_OLD_MAC, softpxe_tests::lan::GUEST_MAC.to_string()),
    ] {
        let args = [
            "neigh",
            "add",
            ip,
            "lladdr",
            &mac,
            "nud",
            "permanent",
            "dev",
            "eth0",
        ];
        ip_in(&boot, &args)?;
    }
    let exe = std::env::current_exe().context("locating the test binary")?;
    let ready = lan.dir().join("sender.ready");
    let log = fs::File::create(lan.dir().join("sender.log"))?;
    let mut helper = lan.wrap_host(Host::Boot, &exe.to_string_lossy());
    helper
        .args([SENDER_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(SENDER_ENV, &ready)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let mut child = helper.spawn().context("starting the frame sender")?;
    let start = Instant::now();
    while !ready.exists() {
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the frame sender did not start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let img = floppy_fast(lan.dir(), |_| {})?;
    let result = Qemu::bios(&name)
        .lan(&lan)
        .floppy(&img)
        .nic_tap(model, false)
        .run(&qemu_wait());
    let _ = child.kill();
    let _ = child.wait();
    let run = result?;
    eprintln!("{}: {:.1} s", run.name, run.elapsed.as_secs_f64());
    let r = Report::parse(&run.serial)?;
    for l in r.lines.iter().filter(|l| l.contains("RXFILTER")) {
        eprintln!("{l}");
    }
    check_rx_filter(&r)?;
    let (rx, tx, speed) = info;
    r.call("UNDI_GET_INFORMATION")?
        .ok()?
        .expect_hex("rxbufct", rx)?
        .expect_hex("txbufct", tx)?;
    r.call("UNDI_GET_IFACE_INFO")?
        .ok()?
        .expect_hex("linkspeed", speed)?;
    Ok(())
}

#[test]
fn softpxe_e1000_receive_filters_and_station_address() -> Result<()> {
    softpxe_rx_filter("e1000", (7, 8, 1_000_000_000))
}

#[test]
fn softpxe_rtl8139_receive_filters_and_station_address() -> Result<()> {
    softpxe_rx_filter("rtl8139", (5, 4, 100_000_000))
}

/// The NE2000 (RTL8029): RCR/MAR/PAR written live; 10 Mb/s, 8 RX frames, 2 TX buffers.
#[test]
fn softpxe_ne2k_pci_receive_filters_and_station_address() -> Result<()> {
    softpxe_rx_filter("ne2k_pci", (8, 2, 10_000_000))
}

/// QEMU's virtio-net offers the control queue with CTRL_RX, CTRL_RX_EXTRA and CTRL_MAC_ADDR,
/// but no VIRTIO_NET_F_SPEED_DUPLEX unless told a speed: link speed 0 (unknown).
#[test]
fn softpxe_virtio_receive_filters_and_station_address() -> Result<()> {
    softpxe_rx_filter("virtio-net-pci", (16, 8, 0))
}

#[test]
fn softpxe_virtio_modern_receive_filters_and_station_address() -> Result<()> {
    softpxe_rx_filter("virtio-net-pci,disable-legacy=on", (16, 8, 0))
}

/// The same device without the control queue: the driver filters in software.
#[test]
fn softpxe_virtio_without_ctrl_queue_filters_in_software() -> Result<()> {
    softpxe_rx_filter("virtio-net-pci,ctrl_vq=off", (16, 8, 0))
}
