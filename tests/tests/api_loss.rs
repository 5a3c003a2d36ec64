//! apitest.0 (tests/nbp/src/apitest.s) through softpxe over a lossy link (issue 7): 10 % loss,
//! 1 % duplicates and 5 % reordering each way (tests/src/lan/lossy.rs, fixed seed). The whole
//! PXE API tour must still pass, and a 512 KiB TFTP_READ_FILE into 0x200000 must arrive intact:
//! the NBP reads it back with INT 15h AH=87h and prints its byte sum and CRC-32, which must match
//! the host's. Header flag bit 3 (lossy) lets the NBP send the UDP ping and the ARP request up
//! to three times and the checks accept a missing echo or ARP reply, nothing more
//! (docs/api-test-nbp.md).
//!
//! Servers on the boot host (10.99.0.2): dnsmasq for DHCP only, atftpd for TFTP (RFC 7440
//! windowsize: a lost block costs one round trip, where dnsmasq 2.90's lock-step resend timer
//! costs 1–3 s per lost block, a minute or more for 512 KiB), and a UDP echo on port 7777 (a
//! socket of this test process opened in the boot namespace).
use anyhow::{ensure, Context, Result};
use softpxe_tests::apitest::{
    check_api_with, crc32, data, Expect, Options, DATA_FILE, DONE, FLAG_LOSSY, HDR_FLAGS,
    HDR_RF_FILE, HDR_RF_SIZE,
};
use softpxe_tests::lan::{DirStats, Faults, Host, Lan, LossConfig, GUEST_MAC};
use softpxe_tests::{api_test_nbp, floppy_fast, Qemu, Wait};
use std::fs;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Header offset of the UDP echo port (u16).
const HDR_UDP_PORT: usize = 0x12;
const ECHO_PORT: u16 = 7777;
/// The file TFTP_READ_FILE reads (header 0x40), and its size.
const BIG_FILE: &str = "apitest512k.dat";
const BIG_LEN: usize = 512 * 1024;
/// READ_FILE's BufferSize (header 0x18): 1 MiB, so the ROM must report the file's size.
const RF_BUFFER: u32 = 1024 * 1024;

/// 10 % loss, 1 % duplicates, 5 % reordering, each way; the seed fixed so that a run can be
/// repeated (the n-th frame of a direction meets the same fate; which frame is n-th depends on
/// timing).
const FAULTS: Faults = Faults {
    loss: 0.10,
    duplicate: 0.01,
    reorder: 0.05,
};
const LOSS: LossConfig = LossConfig {
    to_guest: FAULTS,
    from_guest: FAULTS,
    seed: 0x5eed_0007,
};

/// Deterministic, incompressible-looking content (xorshift32).
fn big_data() -> Vec<u8> {
    let mut x: u32 = 0x0badc0de;
    (0..BIG_LEN)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A TFTP root with apitest.0 (flags 1 | lossy: unload and halt; echo port; READ_FILE of
/// [`BIG_FILE`] with a [`RF_BUFFER`] buffer), apitest.dat and the big file.
fn tftp_root(dir: &Path, big: &[u8]) -> Result<PathBuf> {
    let root = dir.join("tftp");
    fs::create_dir_all(&root)?;
    let mut nbp = fs::read(api_test_nbp()).context("reading apitest.0")?;
    ensure!(&nbp[8..16] == b"SPXAPIT1", "apitest.0 has no header");
    nbp[HDR_FLAGS..HDR_FLAGS + 2].copy_from_slice(&(1 | FLAG_LOSSY).to_le_bytes());
    nbp[HDR_UDP_PORT..HDR_UDP_PORT + 2].copy_from_slice(&ECHO_PORT.to_le_bytes());
    nbp[HDR_RF_SIZE..HDR_RF_SIZE + 4].copy_from_slice(&RF_BUFFER.to_le_bytes());
    let name = nbp
        .get_mut(HDR_RF_FILE..HDR_RF_FILE + 32)
        .context("short image")?;
    name.fill(0);
    name[..BIG_FILE.len()].copy_from_slice(BIG_FILE.as_bytes());
    fs::write(root.join("apitest.0"), nbp)?;
    fs::write(root.join(DATA_FILE), data())?;
    fs::write(root.join(BIG_FILE), big)?;
    Ok(root)
}

/// A UDP echo on a thread of this process, its socket opened in `ns`; stops when `stop` is set
/// and returns how many datagrams it echoed.
fn echo(lan: &Lan, ns: &str, bind: &'static str, stop: Arc<AtomicBool>) -> Result<EchoThread> {
    let sock = lan.in_namespace(ns, move || {
        let s = UdpSocket::bind(bind).with_context(|| format!("binding {bind}"))?;
        s.set_read_timeout(Some(Duration::from_millis(100)))?;
        Ok(s)
    })?;
    Ok(std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let mut echoed = 0;
        let start = Instant::now();
        while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(600) {
            if let Ok((n, from)) = sock.recv_from(&mut buf) {
                eprintln!("udp echo: {n} bytes from {from}");
                if sock.send_to(&buf[..n], from).is_ok() {
                    echoed += 1;
                }
            }
        }
        echoed
    }))
}

type EchoThread = std::thread::JoinHandle<u32>;

/// `d` dropped about `p` of its frames: within 4 standard deviations of the binomial.
fn near(name: &str, d: &DirStats, p: f64) -> Result<()> {
    ensure!(d.frames > 0 && d.dropped > 0, "{name}: {d:?}");
    ensure!(d.passed + d.dropped == d.frames, "{name}: {d:?}");
    let sigma = (p * (1.0 - p) / d.frames as f64).sqrt();
    ensure!(
        (d.loss_rate() - p).abs() <= 4.0 * sigma,
        "{name}: loss rate {:.3} over {} frames, configured {p}: {d:?}",
        d.loss_rate(),
        d.frames
    );
    Ok(())
}

#[test]
fn softpxe_read_file_512k_at_10_percent_loss() -> Result<()> {
    let t0 = Instant::now();
    let lan = Lan::builder("api-loss-512k").lossy(LOSS).build()?;
    let big = big_data();
    let tftp = tftp_root(lan.dir(), &big)?;
    let _dnsmasq = lan.dnsmasq(
        Host::Boot,
        &[
            "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
            "--dhcp-boot=apitest.0",
            // the name in the BOOTP file field, as check_api expects (without TFTP, dnsmasq
            // otherwise moves it to option 67 when the client asks for that)
            "--dhcp-no-override",
        ],
    )?;
    let _atftpd = lan.atftpd(Host::Boot, &tftp, true)?;
    let stop = Arc::new(AtomicBool::new(false));
    let echo = echo(&lan, &lan.ns(Host::Boot), "10.99.0.2:7777", stop.clone())?;
    let img = floppy_fast(lan.dir(), |_| {})?;
    let netdev = lan.qemu_netdev();
    let mut args: Vec<&str> = netdev.iter().map(String::as_str).collect();
    let device = format!("e1000,netdev=n0,romfile=,mac={GUEST_MAC}");
    args.extend(["-device", &device]);
    let result = Qemu::bios("api-loss-512k")
        .lan(&lan)
        .floppy(&img)
        .args(&args)
        .run(&Wait::for_markers(
            &[
                "apitest: CALL 0021 TFTP_CLOSE",
                "apitest: CALL 0023 TFTP_READ_FILE",
                DONE,
            ],
            Duration::from_secs(240),
        ));
    stop.store(true, Ordering::Relaxed);
    let echoed = echo.join().unwrap_or(0);
    let stats = lan.stop_link()?;
    eprintln!("{}", stats.report(&LOSS));
    let run = result?;
    let times = &run.marker_times;
    if let (Some(Some(a)), Some(Some(b))) = (times.first(), times.get(1)) {
        let s = b.saturating_sub(*a).as_secs_f64();
        eprintln!(
            "TFTP_READ_FILE of {BIG_LEN} bytes: {s:.1} s ({:.0} KiB/s); run {:.1} s, \
             {echoed} datagram(s) echoed",
            BIG_LEN as f64 / 1024.0 / s.max(0.001),
            run.elapsed.as_secs_f64()
        );
    }
    let client = run
        .serial
        .lines()
        .filter_map(|l| l.find("apitest: boot server ").map(|i| &l[i..]))
        .find_map(|l| l.split(" client ").nth(1))
        .map(|s| s.trim().to_string())
        .context("no boot server line")?;
    ensure!(client.starts_with("10.99.0."), "client address {client}");
    let r = check_api_with(
        &run,
        &Expect {
            client_ip: &client,
            server_ip: "10.99.0.2",
            nic: ("8086", "100E"),
        },
        &Options {
            lossy: true,
            read_file: Some((BIG_FILE, &big)),
        },
    )?;
    let rf = r.call("TFTP_READ_FILE")?;
    eprintln!("{}", rf.line);
    rf.expect_hex("bufsize_in", RF_BUFFER)?
        .expect_hex("crc", crc32(&big))?;
    // the link did its part: ~10 % lost each way, some frames duplicated or reordered
    near("to guest", &stats.to_guest, FAULTS.loss)?;
    near("from guest", &stats.from_guest, FAULTS.loss)?;
    ensure!(
        stats.to_guest.frames as usize >= BIG_LEN / 1468,
        "fewer frames to the guest than READ_FILE blocks: {:?}",
        stats.to_guest
    );
    ensure!(
        stats.to_guest.duplicated + stats.to_guest.reordered > 0,
        "nothing duplicated or reordered: {:?}",
        stats.to_guest
    );
    eprintln!("total {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}
