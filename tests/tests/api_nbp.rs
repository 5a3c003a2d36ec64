//! apitest.0 (tests/nbp/src/apitest.s) against a real PXE stack: QEMU's own iPXE NIC ROM (e1000,
//! no `romfile=`, `-cpu pentium2`). The NBP calls the whole PXE 2.1 API and prints one line per
//! call on COM1 (format: docs/api-test-nbp.md); these tests parse every line and check iPXE's
//! answers against what the host knows: addresses, MAC, file size and byte sums, UDP echo, ARP.
//!
//! 1. QEMU's user network (slirp DHCP + TFTP). slirp forwards the guest's datagrams for
//!    10.0.2.2 to the host's loopback, so an in-process UDP echo on 127.0.0.1 (an ephemeral
//!    port, patched into the image header) answers the NBP's UDP_WRITE.
//! 3. The header flag that makes apitest.0 skip the unload calls and return to iPXE.
//! 2. The namespace LAN (tests/src/lan.rs): dnsmasq DHCP + TFTP on the boot host, and a UDP echo
//!    responder in the same namespace (this test binary re-executed there).
use anyhow::{bail, ensure, Context, Result};
use softpxe_tests::lan::{Host, Lan};
use softpxe_tests::{api_test_nbp, run_dir, Qemu, Run, Wait};
use std::collections::BTreeMap;
use std::fs;
use std::net::UdpSocket;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DONE: &str = "apitest: done";
const DATA_FILE: &str = "apitest.dat";
const DATA_LEN: usize = 5000;
/// Offsets in apitest.0's header (see apitest.s).
const HDR_FLAGS: usize = 0x10;
const HDR_UDP_PORT: usize = 0x12;
const HDR_SRC_PORT: usize = 0x14;
const SRC_PORT: u16 = 4000;

const ECHO_HELPER_TEST: &str = "api_nbp_udp_echo_helper";
const ECHO_PORT_ENV: &str = "SOFTPXE_APITEST_ECHO_PORT";
const ECHO_READY_ENV: &str = "SOFTPXE_APITEST_ECHO_READY";

// --- the report -------------------------------------------------------------------------------

/// One `apitest: CALL <op> <NAME> ax=<hex4> status=<hex4> via=<entry> key=value...` line.
#[derive(Debug, Clone)]
struct Call {
    op: u16,
    name: String,
    kv: BTreeMap<String, String>,
    line: String,
}

impl Call {
    fn get(&self, key: &str) -> Result<&str> {
        self.kv
            .get(key)
            .map(String::as_str)
            .with_context(|| format!("no {key}= in {:?}", self.line))
    }

    fn hex(&self, key: &str) -> Result<u32> {
        let v = self.get(key)?;
        u32::from_str_radix(v, 16)
            .with_context(|| format!("{key}={v} is not hex in {:?}", self.line))
    }

    fn ax(&self) -> u32 {
        self.hex("ax").unwrap()
    }

    fn status(&self) -> u32 {
        self.hex("status").unwrap()
    }

    fn ok(&self) -> Result<&Self> {
        ensure!(
            self.ax() == 0 && self.status() == 0,
            "call failed: {:?}",
            self.line
        );
        Ok(self)
    }

    fn expect(&self, key: &str, want: &str) -> Result<&Self> {
        let got = self.get(key)?;
        ensure!(
            got == want,
            "{key}={got}, expected {want}, in {:?}",
            self.line
        );
        Ok(self)
    }

    fn expect_hex(&self, key: &str, want: u32) -> Result<&Self> {
        let got = self.hex(key)?;
        ensure!(
            got == want,
            "{key}={got:#x}, expected {want:#x}, in {:?}",
            self.line
        );
        Ok(self)
    }
}

/// Splits `key=value key="quoted value" ...`; quoted values never contain quotes.
fn key_values(rest: &str) -> Result<BTreeMap<String, String>> {
    let mut kv = BTreeMap::new();
    let mut s = rest.trim_start();
    while !s.is_empty() {
        let eq = s.find('=').with_context(|| format!("no '=' in {s:?}"))?;
        let key = &s[..eq];
        ensure!(
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)),
            "bad key {key:?}"
        );
        let after = &s[eq + 1..];
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q
                .find('"')
                .with_context(|| format!("unterminated quote in {s:?}"))?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        ensure!(
            kv.insert(key.to_string(), value.to_string()).is_none(),
            "duplicate key {key}"
        );
        s = next.trim_start();
    }
    Ok(kv)
}

fn is_hex(s: &str, digits: usize) -> bool {
    s.len() == digits && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// Every `apitest:` line of a run, and the CALL lines parsed; fails on a malformed CALL line.
#[derive(Debug)]
struct Report {
    lines: Vec<String>,
    calls: Vec<Call>,
}

impl Report {
    fn parse(serial: &str) -> Result<Report> {
        let mut lines = Vec::new();
        let mut calls = Vec::new();
        for raw in serial.lines() {
            let Some(at) = raw.find("apitest: ") else {
                continue;
            };
            let line = raw[at..].trim_end().to_string();
            if let Some(rest) = line.strip_prefix("apitest: CALL ") {
                let mut parts = rest.splitn(3, ' ');
                let op = parts.next().unwrap_or("");
                let name = parts.next().unwrap_or("");
                ensure!(is_hex(op, 4), "bad opcode in {line:?}");
                ensure!(
                    !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                    "bad name in {line:?}"
                );
                let kv = key_values(parts.next().unwrap_or(""))
                    .with_context(|| format!("parsing {line:?}"))?;
                for key in ["ax", "status"] {
                    let v = kv
                        .get(key)
                        .with_context(|| format!("no {key}= in {line:?}"))?;
                    ensure!(is_hex(v, 4), "{key}={v} is not 4 hex digits in {line:?}");
                }
                let via = kv
                    .get("via")
                    .with_context(|| format!("no via= in {line:?}"))?;
                ensure!(via == "!PXE" || via == "PXENV+", "bad via in {line:?}");
                calls.push(Call {
                    op: u16::from_str_radix(op, 16)?,
                    name: name.to_string(),
                    kv,
                    line: line.clone(),
                });
            }
            lines.push(line);
        }
        Ok(Report { lines, calls })
    }

    /// The calls named `name` through `via` (in order).
    fn all(&self, name: &str, via: &str) -> Vec<&Call> {
        self.calls
            .iter()
            .filter(|c| c.name == name && c.kv.get("via").map(String::as_str) == Some(via))
            .collect()
    }

    /// The first call named `name` through !PXE.
    fn call(&self, name: &str) -> Result<&Call> {
        self.all(name, "!PXE")
            .into_iter()
            .next()
            .with_context(|| format!("no CALL line for {name}:\n{}", self.lines.join("\n")))
    }

    /// The GET_CACHED_INFO line for `type` (first, through `via`).
    fn cached(&self, ty: u32, via: &str) -> Result<&Call> {
        self.all("GET_CACHED_INFO", via)
            .into_iter()
            .find(|c| c.hex("type").ok() == Some(ty) && !c.kv.contains_key("ownbuf"))
            .with_context(|| format!("no GET_CACHED_INFO type {ty} via {via}"))
    }

    fn line(&self, prefix: &str) -> Result<&str> {
        self.lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .map(String::as_str)
            .with_context(|| format!("no line starting with {prefix:?}"))
    }
}

// --- host side ----------------------------------------------------------------------------------

/// apitest.dat: a known pattern.
fn data() -> Vec<u8> {
    (0..DATA_LEN)
        .map(|i| ((i * 7 + (i >> 8)) & 0xff) as u8)
        .collect()
}

/// The 16-bit byte sum apitest.0 prints.
fn sum16(bytes: &[u8]) -> u32 {
    bytes.iter().map(|&b| b as u32).sum::<u32>() & 0xffff
}

/// A TFTP root with apitest.0 (header patched: UDP echo port, flags) and apitest.dat.
fn tftp_root(dir: &Path, echo_port: u16, flags: u16) -> Result<std::path::PathBuf> {
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
struct Echo {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u32>>,
}

impl Echo {
    fn start(bind: &str) -> Result<Echo> {
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
    fn finish(mut self) -> u32 {
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

fn echo_loop(sock: &UdpSocket, stop: &AtomicBool, limit: Duration) -> u32 {
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

// --- the checks -----------------------------------------------------------------------------------

/// Every CALL name apitest.0 prints, with its opcode.
const OPCODES: &[(u16, &str)] = &[
    (0x0000, "START_UNDI"),
    (0x0001, "UNDI_STARTUP"),
    (0x0002, "UNDI_CLEANUP"),
    (0x0003, "UNDI_INITIALIZE"),
    (0x0004, "UNDI_RESET_ADAPTER"),
    (0x0005, "UNDI_SHUTDOWN"),
    (0x0006, "UNDI_OPEN"),
    (0x0007, "UNDI_CLOSE"),
    (0x0008, "UNDI_TRANSMIT"),
    (0x0009, "UNDI_SET_MCAST_ADDRESS"),
    (0x000A, "UNDI_SET_STATION_ADDRESS"),
    (0x000B, "UNDI_SET_PACKET_FILTER"),
    (0x000C, "UNDI_GET_INFORMATION"),
    (0x000D, "UNDI_GET_STATISTICS"),
    (0x000E, "UNDI_CLEAR_STATISTICS"),
    (0x000F, "UNDI_INITIATE_DIAGS"),
    (0x0010, "UNDI_FORCE_INTERRUPT"),
    (0x0011, "UNDI_GET_MCAST_ADDRESS"),
    (0x0012, "UNDI_GET_NIC_TYPE"),
    (0x0013, "UNDI_GET_IFACE_INFO"),
    (0x0014, "UNDI_ISR"),
    (0x0015, "STOP_UNDI"),
    (0x0020, "TFTP_OPEN"),
    (0x0021, "TFTP_CLOSE"),
    (0x0022, "TFTP_READ"),
    (0x0023, "TFTP_READ_FILE"),
    (0x0024, "TFTP_READ_FILE_PMODE"),
    (0x0025, "TFTP_GET_FSIZE"),
    (0x0030, "UDP_OPEN"),
    (0x0031, "UDP_CLOSE"),
    (0x0032, "UDP_READ"),
    (0x0033, "UDP_WRITE"),
    (0x0070, "UNLOAD_STACK"),
    (0x0071, "GET_CACHED_INFO"),
    (0x0072, "RESTART_DHCP"),
    (0x0073, "RESTART_TFTP"),
    (0x0074, "MODE_SWITCH"),
    (0x0075, "START_BASE"),
    (0x0076, "STOP_BASE"),
    (0x00FF, "UNKNOWN_00FF"),
];

/// Index of the first CALL line named `name` through !PXE.
fn position(r: &Report, name: &str) -> Result<usize> {
    r.calls
        .iter()
        .position(|c| c.name == name && c.kv.get("via").map(String::as_str) == Some("!PXE"))
        .with_context(|| format!("no CALL line for {name}"))
}

struct Expect<'a> {
    client_ip: &'a str,
    server_ip: &'a str,
    /// PCI vendor and device of the NIC, upper-case hex.
    nic: (&'a str, &'a str),
}

/// What every iPXE run must show: discovery, cached packets, UNDI info, TFTP, unsupported calls,
/// ARP, unload. Returns the parsed report for scenario-specific checks.
fn check_api(run: &Run, want: &Expect) -> Result<Report> {
    let r = Report::parse(&run.serial)?;
    ensure!(
        r.calls.len() >= 30,
        "only {} CALL lines:\n{}",
        r.calls.len(),
        r.lines.join("\n")
    );
    for c in &r.calls {
        let op = OPCODES
            .iter()
            .find(|(_, name)| *name == c.name)
            .map(|(op, _)| *op)
            .with_context(|| format!("unknown call name in {:?}", c.line))?;
        ensure!(c.op == op, "bad opcode in {:?}", c.line);
    }
    // discovery: all three ways, checksums verified
    let bang = r.line("apitest: !PXE at ")?;
    ensure!(bang.contains(" ok "), "!PXE not valid: {bang}");
    let pxenv = r.line("apitest: PXENV+ at ")?;
    ensure!(
        pxenv.contains(" version 0201 ok"),
        "PXENV+ not valid: {pxenv}"
    );
    let i1a = r.line("apitest: INT 1Ah 5650h -> ")?;
    ensure!(
        i1a.contains("ax=564E cf=00 ES:BX ") && i1a.ends_with(" ok"),
        "INT 1Ah 5650h: {i1a}"
    );
    r.line("apitest: entry !PXE EntryPointSP ")?;
    let base = r.line("apitest: base memory ")?;
    let kib: u32 = base
        .split_whitespace()
        .nth(3)
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("bad line {base}"))?;
    ensure!(kib < 640, "the PXE ROM did not hide its memory: {base}");
    let e820_first = r.line("apitest: E820 base=")?;
    ensure!(
        e820_first.contains("base=0000000000000000")
            && e820_first.contains(&format!("length={:016X}", kib as u64 * 1024)),
        "E820 below 1 MiB disagrees with INT 12h ({kib} KiB): {e820_first}"
    );

    // GET_CACHED_INFO: DHCPDISCOVER, DHCPACK, reply; our own buffer; a bad type
    let chaddr = "525400123456";
    r.cached(1, "!PXE")?
        .ok()?
        .expect("op", "01")?
        .expect("chaddr", chaddr)?;
    for ty in [2, 3] {
        r.cached(ty, "!PXE")?
            .ok()?
            .expect("op", "02")?
            .expect("yiaddr", want.client_ip)?
            .expect("siaddr", want.server_ip)?
            .expect("chaddr", chaddr)?
            .expect("file", "apitest.0")?
            .expect("file4", "61706974")?
            .expect("cookie", "63825363")?;
    }
    let own = r
        .all("GET_CACHED_INFO", "!PXE")
        .into_iter()
        .find(|c| c.kv.contains_key("ownbuf"))
        .context("no GET_CACHED_INFO into our own buffer")?;
    own.ok()?
        .expect("yiaddr", want.client_ip)?
        .expect("siaddr", want.server_ip)?;
    ensure!(
        own.get("buffer")?.starts_with("0000:"),
        "the ROM moved our buffer: {:?}",
        own.line
    );
    ensure!(
        own.hex("bufsize")? >= 300 && own.hex("bufsize")? <= 2048,
        "own-buffer size {:?}",
        own.line
    );
    let bad = r.cached(9, "!PXE")?;
    ensure!(
        bad.ax() == 1 && bad.status() != 0,
        "type 9 accepted: {:?}",
        bad.line
    );
    // the same through PXENV+ RMEntry
    r.cached(2, "PXENV+")?
        .ok()?
        .expect("yiaddr", want.client_ip)?;
    let info2 = r.all("UNDI_GET_INFORMATION", "PXENV+");
    info2
        .first()
        .context("no GET_INFORMATION via PXENV+")?
        .ok()?
        .expect("mac", chaddr)?;
    let unk2 = r.all("UNKNOWN_00FF", "PXENV+");
    unk2.first()
        .context("no unknown opcode via PXENV+")?
        .expect_hex("ax", 1)?
        .expect_hex("status", 3)?;

    // UNDI information
    r.call("UNDI_GET_IFACE_INFO")?
        .ok()?
        .expect("iface", "DIX+802.3")?;
    r.call("UNDI_GET_INFORMATION")?
        .ok()?
        .expect("mac", chaddr)?
        .expect("permmac", chaddr)?
        .expect_hex("hwtype", 1)?
        .expect_hex("hwaddrlen", 6)?
        .expect_hex("mtu", 1500)?;
    r.call("UNDI_GET_NIC_TYPE")?
        .ok()?
        .expect("nictype", "02")?
        .expect("vendor", want.nic.0)?
        .expect("device", want.nic.1)?
        .expect("class", "02")?;
    let stats = r.all("UNDI_GET_STATISTICS", "!PXE");
    ensure!(stats.len() == 2, "GET_STATISTICS twice expected");
    stats[0].ok()?;
    ensure!(
        stats[0].hex("xmit")? > 0 && stats[0].hex("rcv")? > 0,
        "no traffic counted: {:?}",
        stats[0].line
    );
    stats[1].ok()?.expect_hex("xmit", 0)?.expect_hex("rcv", 0)?;
    r.call("UNDI_CLEAR_STATISTICS")?.ok()?;
    r.call("UNDI_GET_MCAST_ADDRESS")?
        .ok()?
        .expect("mac", "01005E000001")?;

    // UNDI state calls, after UDP and before raw UNDI (iPXE's RESET_ADAPTER reopens the NIC as
    // UNDI_OPEN does, which freezes its IP stack until UNDI_CLOSE)
    let bdf = r.call("UNDI_GET_NIC_TYPE")?.get("busdevfunc")?.to_string();
    r.call("START_UNDI")?
        .ok()?
        .expect("in_ax", &bdf)?
        .expect("in_bx", "FFFF")?;
    r.call("UNDI_STARTUP")?.ok()?;
    r.call("UNDI_INITIALIZE")?.ok()?;
    r.call("UNDI_RESET_ADAPTER")?.ok()?;
    r.call("UNDI_SET_MCAST_ADDRESS")?.ok()?;
    // iPXE refuses a new station address while the NIC is open; softpxe takes it
    let station = r.call("UNDI_SET_STATION_ADDRESS")?.expect("mac", chaddr)?;
    ensure!(
        (station.ax() == 0 && station.status() == 0)
            || (station.ax() == 1 && station.status() != 0),
        "SET_STATION_ADDRESS: AX and Status disagree: {:?}",
        station.line
    );
    r.call("UNDI_SET_PACKET_FILTER")?
        .ok()?
        .expect("filter", "03")?;
    let infos = r.all("UNDI_GET_INFORMATION", "!PXE");
    ensure!(infos.len() == 2, "GET_INFORMATION twice expected");
    infos[1]
        .ok()?
        .expect("mac", chaddr)?
        .expect("permmac", chaddr)?;
    ensure!(
        position(&r, "UDP_CLOSE")? < position(&r, "START_UNDI")?
            && position(&r, "UNDI_SET_PACKET_FILTER")? < position(&r, "UNDI_CLOSE")?,
        "state calls out of place"
    );

    // TFTP
    let data = data();
    let sum = sum16(&data);
    r.call("TFTP_GET_FSIZE")?
        .ok()?
        .expect("server", want.server_ip)?
        .expect_hex("filesize", DATA_LEN as u32)?;
    r.call("TFTP_OPEN")?.ok()?.expect_hex("packetsize", 512)?;
    r.call("TFTP_READ")?
        .ok()?
        .expect_hex("bytes", DATA_LEN as u32)?
        .expect_hex("packets", DATA_LEN.div_ceil(512) as u32)?
        .expect_hex("first", 1)?
        .expect_hex("sum", sum)?;
    r.call("TFTP_CLOSE")?.ok()?;
    r.call("TFTP_READ_FILE")?
        .ok()?
        .expect("buffer", "00200000")?
        .expect_hex("bufsize", DATA_LEN as u32)?
        .expect("bm", "00")?
        .expect_hex("sum", sum)?;

    // UDP open/write/close (the read is scenario-specific)
    r.call("UDP_OPEN")?.ok()?;
    r.call("UDP_WRITE")?.ok()?.expect("ip", want.server_ip)?;
    r.call("UDP_CLOSE")?.ok()?;

    // what iPXE refuses
    for name in [
        "UNKNOWN_00FF",
        "UNDI_INITIATE_DIAGS",
        "START_BASE",
        "UNDI_FORCE_INTERRUPT",
        "TFTP_READ_FILE_PMODE",
        "RESTART_DHCP",
        "MODE_SWITCH",
    ] {
        r.call(name)?.expect_hex("ax", 1)?.expect_hex("status", 3)?;
    }

    // raw UNDI: close/open, ARP request out, reply in through polled UNDI_ISR
    r.call("UNDI_CLOSE")?.ok()?;
    r.call("UNDI_OPEN")?.ok()?;
    r.call("UNDI_TRANSMIT")?.ok()?;
    let isr = r.all("UNDI_ISR", "!PXE");
    ensure!(
        isr.iter().any(|c| c.get("out").ok() == Some("0002")),
        "no transmit completion from UNDI_ISR"
    );
    let arp = isr
        .iter()
        .find(|c| c.kv.contains_key("arp-reply-from"))
        .context("no ARP reply through UNDI_ISR")?;
    arp.expect("out", "0003")?
        .expect("arp-reply-from", want.server_ip)?
        .expect("prot", "02")?
        .expect_hex("hdrlen", 14)?;
    let summary = r.line("apitest: ARP ")?;
    ensure!(
        summary.contains(&format!("arp-reply-from={} ", want.server_ip)),
        "ARP summary: {summary}"
    );

    // the unload sequence
    let unload = [
        "STOP_BASE",
        "UNDI_CLEANUP",
        "UNDI_SHUTDOWN",
        "UNLOAD_STACK",
        "STOP_UNDI",
    ];
    for name in unload {
        r.call(name)?.ok()?;
    }
    for pair in unload.windows(2) {
        ensure!(
            position(&r, pair[0])? < position(&r, pair[1])?,
            "{} not before {}",
            pair[0],
            pair[1]
        );
    }
    r.line(DONE)?;
    Ok(r)
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

/// softpxe's boot floppy (fast timing) in `dir`.
fn softpxe_floppy(dir: &Path) -> Result<std::path::PathBuf> {
    let mut options = softpxe::BuildOptions::default();
    options.settings.timing = Some(softpxe_settings::Timing::Fast);
    let img = dir.join("boot.img");
    softpxe::write_image_file(&img, &softpxe::build_floppy(&options)?, true)?;
    Ok(img)
}

/// apitest.0 through softpxe's floppy (NIC ROM removed, `-cpu pentium`) on QEMU's user network,
/// with the host's UDP echo: every call of the PXE API answered by softpxe.
fn softpxe_user_net(model: &str, nic: (&str, &str)) -> Result<()> {
    let name = format!("api-nbp-softpxe-{}", model.replace([',', '='], "-"));
    let dir = run_dir(&format!("{name}-files"))?;
    let echo = Echo::start("127.0.0.1:0")?;
    let tftp = tftp_root(&dir, echo.port, 1)?;
    let img = softpxe_floppy(&dir)?;
    let run = Qemu::bios(&name)
        .floppy(&img)
        .nic_user_tftp(model, &tftp, "apitest.0")
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
    // STOP_UNDI took the hooks off and gave the base memory back
    let after = r.line("apitest: base memory after unload ")?;
    ensure!(
        after.contains(" 639 KiB"),
        "base memory not given back: {after}"
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
    Ok(())
}

#[test]
fn softpxe_e1000_answers_the_pxe_api() -> Result<()> {
    softpxe_user_net("e1000", ("8086", "100E"))
}

#[test]
fn softpxe_rtl8139_answers_the_pxe_api() -> Result<()> {
    softpxe_user_net("rtl8139", ("10EC", "8139"))
}

#[test]
fn softpxe_virtio_answers_the_pxe_api() -> Result<()> {
    softpxe_user_net("virtio-net-pci", ("1AF4", "1000"))
}

/// Header flag bit 1: RESTART_TFTP downloads apitest.0 again and starts it (it does not return);
/// the second start sees the flag at 0000:04F0 and ends.
#[test]
fn softpxe_restart_tftp_starts_the_nbp_again() -> Result<()> {
    let name = "api-nbp-softpxe-restart";
    let dir = run_dir(&format!("{name}-files"))?;
    let tftp = tftp_root(&dir, 7, 3)?;
    let img = softpxe_floppy(&dir)?;
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
