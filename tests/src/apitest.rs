//! Parsing and checking the COM1 report of apitest.0 (tests/nbp/src/apitest.s), the NBP that
//! calls the whole PXE 2.1 API and prints one line per call (format: docs/api-test-nbp.md).
//! [`Report::parse`] reads the lines; [`check_api`] checks what every run against a working PXE
//! stack must show, whatever the network.
use crate::Run;
use anyhow::{ensure, Context, Result};
use std::collections::BTreeMap;

/// The last line apitest.0 prints.
pub const DONE: &str = "apitest: done";
/// The file apitest.0 reads over TFTP ([`data`]).
pub const DATA_FILE: &str = "apitest.dat";
/// The size of [`DATA_FILE`].
pub const DATA_LEN: usize = 5000;

/// apitest.dat: a known pattern.
pub fn data() -> Vec<u8> {
    (0..DATA_LEN)
        .map(|i| ((i * 7 + (i >> 8)) & 0xff) as u8)
        .collect()
}

/// The 16-bit byte sum apitest.0 prints.
pub fn sum16(bytes: &[u8]) -> u32 {
    bytes.iter().map(|&b| b as u32).sum::<u32>() & 0xffff
}

pub use crate::crc32;

mod host;
mod rxfilter;
pub use host::{
    check_softpxe_user_net, echo_loop, tftp_root, Echo, HDR_SRC_PORT, HDR_UDP_PORT, SRC_PORT,
};
pub use rxfilter::{check_rx_filter, rx_phase, RX_GROUPS, RX_NEW_MAC};

/// Header offset of the flags (u16; docs/api-test-nbp.md, "Image header").
pub const HDR_FLAGS: usize = 0x10;
/// Header offset of TFTP_READ_FILE's BufferSize (u32; 0 = 64 KiB, at most [`RF_MAX`]).
pub const HDR_RF_SIZE: usize = 0x18;
/// Header offset of TFTP_READ_FILE's own file name (char[32], NUL-terminated; empty = the
/// name at 0x20).
pub const HDR_RF_FILE: usize = 0x40;
/// Largest READ_FILE BufferSize apitest.0 takes from the header (8 MiB above 0x200000).
pub const RF_MAX: u32 = 0x80_0000;
/// Header flag bit 3: the link loses frames; the UDP ping and the ARP request are sent up to
/// three times, and [`Options::lossy`] lets the checks accept that they still got no answer.
pub const FLAG_LOSSY: u16 = 8;

/// One `apitest: CALL <op> <NAME> ax=<hex4> status=<hex4> via=<entry> key=value...` line.
#[derive(Debug, Clone)]
pub struct Call {
    pub op: u16,
    pub name: String,
    pub kv: BTreeMap<String, String>,
    pub line: String,
}

impl Call {
    pub fn get(&self, key: &str) -> Result<&str> {
        self.kv
            .get(key)
            .map(String::as_str)
            .with_context(|| format!("no {key}= in {:?}", self.line))
    }

    pub fn hex(&self, key: &str) -> Result<u32> {
        let v = self.get(key)?;
        u32::from_str_radix(v, 16)
            .with_context(|| format!("{key}={v} is not hex in {:?}", self.line))
    }

    pub fn ax(&self) -> u32 {
        self.hex("ax").unwrap()
    }

    pub fn status(&self) -> u32 {
        self.hex("status").unwrap()
    }

    pub fn ok(&self) -> Result<&Self> {
        ensure!(
            self.ax() == 0 && self.status() == 0,
            "call failed: {:?}",
            self.line
        );
        Ok(self)
    }

    pub fn expect(&self, key: &str, want: &str) -> Result<&Self> {
        let got = self.get(key)?;
        ensure!(
            got == want,
            "{key}={got}, expected {want}, in {:?}",
            self.line
        );
        Ok(self)
    }

    pub fn expect_hex(&self, key: &str, want: u32) -> Result<&Self> {
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
pub struct Report {
    pub lines: Vec<String>,
    pub calls: Vec<Call>,
}

impl Report {
    pub fn parse(serial: &str) -> Result<Report> {
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
    pub fn all(&self, name: &str, via: &str) -> Vec<&Call> {
        self.calls
            .iter()
            .filter(|c| c.name == name && c.kv.get("via").map(String::as_str) == Some(via))
            .collect()
    }

    /// The first call named `name` through !PXE.
    pub fn call(&self, name: &str) -> Result<&Call> {
        self.all(name, "!PXE")
            .into_iter()
            .next()
            .with_context(|| format!("no CALL line for {name}:\n{}", self.lines.join("\n")))
    }

    /// The GET_CACHED_INFO line for `type` (first, through `via`).
    pub fn cached(&self, ty: u32, via: &str) -> Result<&Call> {
        self.all("GET_CACHED_INFO", via)
            .into_iter()
            .find(|c| c.hex("type").ok() == Some(ty) && !c.kv.contains_key("ownbuf"))
            .with_context(|| format!("no GET_CACHED_INFO type {ty} via {via}"))
    }

    pub fn line(&self, prefix: &str) -> Result<&str> {
        self.lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .map(String::as_str)
            .with_context(|| format!("no line starting with {prefix:?}"))
    }
}

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

/// What the host knows about a run: the guest's and the server's addresses and the NIC.
pub struct Expect<'a> {
    pub client_ip: &'a str,
    pub server_ip: &'a str,
    /// PCI vendor and device of the NIC, upper-case hex; for an ISA card ([`PNP`], its EISA ID
    /// as GET_NIC_TYPE stores it, upper-case hex32): UNDI_GET_NIC_TYPE must say PnP_NIC.
    pub nic: (&'a str, &'a str),
}

/// `Expect::nic.0` for a non-PCI NIC (`PnP_NIC` in UNDI_GET_NIC_TYPE, see docs/pxe-api.md).
pub const PNP: &str = "PNP";

/// What a run differs in from the default (see [`check_api_with`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'a> {
    /// Header flag [`FLAG_LOSSY`] was set: the UDP echo (UDP_READ `timeout=1`) and the ARP
    /// reply through UNDI_ISR (`arp-reply=none`) may be missing after up to three sends; every
    /// call must still succeed.
    pub lossy: bool,
    /// TFTP_READ_FILE read this file (header 0x40) instead of [`DATA_FILE`]: its name and
    /// content.
    pub read_file: Option<(&'a str, &'a [u8])>,
}

/// What every iPXE run must show: discovery, cached packets, UNDI info, TFTP, unsupported calls,
/// ARP, unload. Returns the parsed report for scenario-specific checks.
pub fn check_api(run: &Run, want: &Expect) -> Result<Report> {
    check_api_with(run, want, &Options::default())
}

/// [`check_api`] for a run with header options: a lossy link, another READ_FILE file.
pub fn check_api_with(run: &Run, want: &Expect, opts: &Options) -> Result<Report> {
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
    let nic_type = r.call("UNDI_GET_NIC_TYPE")?.ok()?;
    if want.nic.0 == PNP {
        nic_type
            .expect("nictype", "03")?
            .expect("eisaid", want.nic.1)?
            .expect("class", "02")?
            .expect("subclass", "00")?
            .expect("csn", "FFFF")?;
    } else {
        nic_type
            .expect("nictype", "02")?
            .expect("vendor", want.nic.0)?
            .expect("device", want.nic.1)?
            .expect("class", "02")?;
    }
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
    // An ISA card has no bus:dev.fn; apitest.0 then passes AX = 0000.
    let bdf = if want.nic.0 == PNP {
        "0000".to_string()
    } else {
        r.call("UNDI_GET_NIC_TYPE")?.get("busdevfunc")?.to_string()
    };
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
    let (rf_name, rf_data) = opts.read_file.unwrap_or((DATA_FILE, &data));
    check_read_file(&r, rf_name, rf_data)?;

    // UDP open/write/close (the read is scenario-specific, except on a lossy link)
    r.call("UDP_OPEN")?.ok()?;
    let writes = r.all("UDP_WRITE", "!PXE");
    let most = if opts.lossy { 3 } else { 1 };
    ensure!(
        (1..=most).contains(&writes.len()),
        "{} UDP_WRITE lines, expected 1..={most}",
        writes.len()
    );
    for w in &writes {
        w.ok()?.expect("ip", want.server_ip)?;
    }
    let read = r.call("UDP_READ")?;
    read.expect_hex("writes", writes.len() as u32)?;
    if opts.lossy {
        if read.kv.contains_key("timeout") {
            read.expect("timeout", "1")?.expect_hex("ax", 1)?;
            eprintln!("lossy link: no UDP echo after {} ping(s)", writes.len());
        } else {
            read.ok()?
                .expect("payload", "apitest ping")?
                .expect("src_ip", want.server_ip)?
                .expect("dest_ip", want.client_ip)?;
        }
    }
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
    let xmits = r.all("UNDI_TRANSMIT", "!PXE");
    ensure!(
        (1..=most).contains(&xmits.len()),
        "{} UNDI_TRANSMIT lines, expected 1..={most}",
        xmits.len()
    );
    for x in &xmits {
        x.ok()?;
    }
    let isr = r.all("UNDI_ISR", "!PXE");
    ensure!(
        isr.iter().any(|c| c.get("out").ok() == Some("0002")),
        "no transmit completion from UNDI_ISR"
    );
    let summary = r.line("apitest: ARP ")?;
    ensure!(
        summary.ends_with(&format!(" requests={:04X}", xmits.len())),
        "ARP summary: {summary}"
    );
    if opts.lossy && summary.starts_with("apitest: ARP arp-reply=none ") {
        eprintln!("lossy link: no ARP reply after {} request(s)", xmits.len());
    } else {
        check_arp_reply(&isr, summary, want)?;
    }

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

/// The TFTP_READ_FILE line: `name` read into 0x200000 in full, every block move done, byte sum
/// and CRC-32 of what the INT 15h AH=87h read-back found equal to `data`'s.
pub fn check_read_file<'r>(r: &'r Report, name: &str, data: &[u8]) -> Result<&'r Call> {
    let c = r.call("TFTP_READ_FILE")?;
    c.ok()?
        .expect("file", name)?
        .expect("buffer", "00200000")?
        .expect_hex("bufsize", data.len() as u32)?
        .expect("readback", "int15-87")?
        .expect("bm", "00")?
        .expect_hex("sum", sum16(data))?
        .expect_hex("crc", crc32(data))?;
    Ok(c)
}

/// The ARP reply to apitest.0's request, through UNDI_ISR and in the summary line.
fn check_arp_reply(isr: &[&Call], summary: &str, want: &Expect) -> Result<()> {
    let arp = isr
        .iter()
        .find(|c| c.kv.contains_key("arp-reply-from"))
        .context("no ARP reply through UNDI_ISR")?;
    arp.expect("out", "0003")?
        .expect("arp-reply-from", want.server_ip)?
        .expect("prot", "02")?
        .expect_hex("hdrlen", 14)?;
    ensure!(
        summary.contains(&format!("arp-reply-from={} ", want.server_ip)),
        "ARP summary: {summary}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_ieee_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }
}
