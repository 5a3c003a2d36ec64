//! The host side of an apitest.0 run: its TFTP root (header patched) and a UDP echo.
use super::{check_api, data, Expect, Report, DATA_FILE, HDR_FLAGS};
use crate::api_test_nbp;
use crate::Run;
use anyhow::{ensure, Context, Result};
use std::fs;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Header offset of the UDP echo port (u16).
pub const HDR_UDP_PORT: usize = 0x12;
/// Header offset of the UDP source port apitest.0 sends from (u16).
pub const HDR_SRC_PORT: usize = 0x14;
/// The source port the tests patch in.
pub const SRC_PORT: u16 = 4000;

/// A TFTP root with apitest.0 (header patched: UDP echo port, flags) and apitest.dat.
pub fn tftp_root(dir: &Path, echo_port: u16, flags: u16) -> Result<PathBuf> {
    let root = dir.join("tftp");
    fs::create_dir_all(&root)?;
    let mut nbp = fs::read(api_test_nbp()).context("reading apitest.0")?;
    ensure!(&nbp[8..16] == b"SPXAPIT1", "apitest.0 has no header");
    nbp[HDR_FLAGS..HDR_FLAGS + 2].copy_from_slice(&flags.to_le_bytes());
    nbp[HDR_UDP_PORT..HDR_UDP_PORT + 2].copy_from_slice(&echo_port.to_le_bytes());
    nbp[HDR_SRC_PORT..HDR_SRC_PORT + 2].copy_from_slice(&SRC_PORT.to_le_bytes());
    fs::write(root.join("apitest.0"), nbp)?;
    fs::write(root.join(DATA_FILE), data())?;
    Ok(root)
}

/// A UDP echo on a thread of this process until dropped.
pub struct Echo {
    /// The UDP port it answers on.
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u32>>,
}

impl Echo {
    /// Binds `bind` (e.g. `127.0.0.1:0`) and echoes on a thread.
    pub fn start(bind: &str) -> Result<Echo> {
        let sock = UdpSocket::bind(bind).with_context(|| format!("binding {bind}"))?;
        sock.set_read_timeout(Some(Duration::from_millis(100)))?;
        let port = sock.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || echo_loop(&sock, &flag, Duration::from_secs(600)));
        Ok(Echo {
            port,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread; returns how many datagrams it echoed.
    pub fn finish(mut self) -> u32 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map(|t| t.join().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Echoes datagrams on `sock` until `stop` or `limit`; returns how many.
pub fn echo_loop(sock: &UdpSocket, stop: &AtomicBool, limit: Duration) -> u32 {
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    let mut echoed = 0;
    while !stop.load(Ordering::Relaxed) && start.elapsed() < limit {
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            eprintln!("udp echo: {n} bytes from {from}");
            if sock.send_to(&buf[..n], from).is_ok() {
                echoed += 1;
            }
        }
    }
    echoed
}

/// What every apitest.0 run through softpxe on QEMU's user network must show, beyond
/// [`check_api`]: the UDP echo answered, no IRQ (polled UNDI), SET_STATION_ADDRESS taken,
/// 40:13 left alone by STOP_UNDI, the core hidden from E820. `nic`: PCI vendor and device.
pub fn check_softpxe_user_net(run: &Run, nic: (&str, &str)) -> Result<Report> {
    let r = check_api(
        run,
        &Expect {
            client_ip: "10.0.2.15",
            server_ip: "10.0.2.2",
            nic,
        },
    )?;
    r.call("UDP_READ")?
        .ok()?
        .expect("payload", "apitest ping")?
        .expect("src_ip", "10.0.2.2")?
        .expect("dest_ip", "10.0.2.15")?
        .expect_hex("d_port", SRC_PORT as u32)?;
    // softpxe hides its core from the memory map and reports no IRQ (polled UNDI)
    r.call("UNDI_GET_INFORMATION")?.expect_hex("irq", 0)?;
    // softpxe takes the station address while open (iPXE answers INVALID_STATE)
    r.call("UNDI_SET_STATION_ADDRESS")?.ok()?;
    // STOP_UNDI took the hooks off and left 40:13 for the NBP to raise (PXE 2.1 §4.4.6;
    // tests/tests/unload.rs shows pxelinux and ipxe.pxe doing it)
    let kept = run
        .serial
        .lines()
        .find_map(|l| l.split(" -> ").nth(1)?.split(" KiB").next())
        .context("no base memory line in the banner")?;
    let after = r.line("apitest: base memory after unload ")?;
    ensure!(
        after.contains(&format!(" {kept} KiB")),
        "40:13 changed by STOP_UNDI (softpxe left {kept} KiB): {after}"
    );
    let core = run
        .serial
        .lines()
        .find_map(|l| l.strip_prefix("softpxe: core at "))
        .and_then(|r| u64::from_str_radix(&r[..8], 16).ok())
        .context("no core address")?;
    for line in run
        .serial
        .lines()
        .filter(|l| l.starts_with("apitest: E820 base=") && l.ends_with("type=00000001"))
    {
        let field = |k: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .and_then(|v| u64::from_str_radix(v, 16).ok())
        };
        let (base, len) = (
            field("base=").context("base")?,
            field("length=").context("length")?,
        );
        ensure!(
            base + len <= core || base >= core,
            "E820 RAM {line} covers the core at {core:x}"
        );
    }
    Ok(r)
}
