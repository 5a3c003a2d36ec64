//! The PXE client conversation on the BIOS core: DHCP / proxyDHCP / boot-server discovery
//! (`softpxe_net::dhcp`), then the NBP over TFTP into 0000:7C00, with the progress lines a PXE
//! ROM shows and the PXE-style error codes when something fails.
use crate::keyboard;
use crate::link::Link;
use crate::time;
use crate::{print, println};
use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use softpxe_net::dhcp::{self, Boot, DhcpClient, DhcpConfig, Event, OfferKind, State};
use softpxe_net::fixed::FixedBuf;
use softpxe_net::tftp::progress::{self, Rate, Retries, Ticker};
use softpxe_net::tftp::{
    Mode, Sink, SinkFull, TftpClient, TftpConfig, TftpError, TftpState, WindowAdvisor,
};
use softpxe_net::{Instant, Transmit, UdpMeta};
use softpxe_pxe::mem::NbpWindow;
use softpxe_settings::{Discovery, Host, Settings, Timing};

/// Where the NBP goes (PXE 2.1 §4.4.5) and may grow up to (the resident part).
pub const NBP_BASE: u32 = 0x7c00;

static DEBUG: AtomicBool = AtomicBool::new(false);

/// Whether `log = debug` is in effect (every PXE API call is then logged).
pub fn debug_log() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// A failed boot attempt, already reported on the console.
#[derive(Debug)]
pub struct Failed;

/// What the conversation decided.
pub enum Decision {
    /// Boot the NBP of this many bytes, now at [`NBP_BASE`]; our address configuration.
    Nbp {
        size: u32,
        ip: Ipv4Addr,
        mask: Option<Ipv4Addr>,
        gateway: Option<Ipv4Addr>,
    },
    /// The boot menu's local-boot item: hand back to the BIOS.
    Local,
}

fn now() -> Instant {
    Instant::from_millis(time::now_us() / 1000)
}

/// Runs the whole conversation. `nbp_limit` is the first byte the NBP must not reach.
pub fn run(link: &mut Link<'_>, settings: &Settings, nbp_limit: u32) -> Result<Decision, Failed> {
    DEBUG.store(
        settings.log() == softpxe_settings::LogLevel::Debug,
        Ordering::Relaxed,
    );
    let (server, file) = match settings.ip {
        Some(ip) => static_config(link, settings, ip)?,
        None => match dhcp_conversation(link, settings)? {
            Some(pair) => pair,
            None => return Ok(Decision::Local),
        },
    };
    if let Some(test) = &settings.test_file {
        test_fetch(link, settings, server, test.as_str().as_bytes());
    }
    let size = fetch_nbp(link, settings, server, file.as_bytes(), nbp_limit)?;
    let (ip, mask, gateway) = (link.iface.ip(), link.mask, link.gateway);
    Ok(Decision::Nbp {
        size,
        ip,
        mask,
        gateway,
    })
}

fn static_config(
    link: &mut Link<'_>,
    settings: &Settings,
    ip: Ipv4Addr,
) -> Result<(Ipv4Addr, FixedBuf<128>), Failed> {
    link.configure(ip, settings.netmask, settings.gateway);
    println!(
        "CLIENT IP: {ip}  MASK: {}  GATEWAY IP: {}  (static, from SOFTPXE.CFG)",
        settings.netmask.unwrap_or(Ipv4Addr::UNSPECIFIED),
        settings.gateway.unwrap_or(Ipv4Addr::UNSPECIFIED)
    );
    let server = match &settings.next_server {
        Some(Host::Ip(a)) => *a,
        Some(Host::Name(n)) => crate::resolve::static_server(link, settings, n.as_str())?,
        None => {
            println!("PXE-E53: a static ip needs next_server and boot_file in SOFTPXE.CFG.");
            return Err(Failed);
        }
    };
    let Some(file) = &settings.boot_file else {
        println!("PXE-E53: No boot filename received: a static ip needs boot_file in SOFTPXE.CFG.");
        return Err(Failed);
    };
    crate::cached::keep_static_ack(
        link.iface.mac().0,
        ip,
        settings,
        server,
        file.as_str().as_bytes(),
    );
    Ok((server, FixedBuf::from_slice(file.as_str().as_bytes())))
}

/// DHCP, proxyDHCP and discovery; None for a local boot.
fn dhcp_conversation(
    link: &mut Link<'_>,
    settings: &Settings,
) -> Result<Option<(Ipv4Addr, FixedBuf<128>)>, Failed> {
    let mac = link.iface.mac().0;
    let mut cfg = DhcpConfig::new(
        mac,
        (time::rdtsc() as u32) ^ u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]),
    );
    cfg.vendor_class = FixedBuf::from_slice(settings.vendor_class().as_bytes());
    cfg.timing = match settings.timing() {
        Timing::Auto => dhcp::Timing::Auto,
        Timing::Spec => dhcp::Timing::Spec,
        Timing::Fast => dhcp::Timing::Fast,
    };
    // `discovery =` overrides the server's discovery control (option 43.6) bit by bit
    use dhcp::pxe::control::{NO_BROADCAST, NO_MULTICAST, USE_FILENAME};
    (cfg.discovery_set, cfg.discovery_clear) = match settings.discovery() {
        Discovery::Auto => (0, 0),
        Discovery::Skip => (USE_FILENAME, 0),
        Discovery::Broadcast => (NO_MULTICAST, NO_BROADCAST | USE_FILENAME),
        Discovery::Multicast => (NO_BROADCAST, NO_MULTICAST | USE_FILENAME),
        Discovery::Unicast => (NO_BROADCAST | NO_MULTICAST, USE_FILENAME),
    };
    cfg.menu_timeout = settings.menu_timeout;
    let u = cfg.uuid;
    println!(
        "GUID: {:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]
    );
    print!("DHCP.");
    let timing = cfg.timing;
    let started = now();
    let mut client = DhcpClient::new(cfg, started);
    let mut buf = [0u8; 1500];
    let mut configured = false;
    let mut menu_shown = false;
    let mut last_key_check = 0u64;
    loop {
        let t = now();
        while let Some(tx) = client.poll(t, &mut buf) {
            link.send(t, &tx, &buf);
        }
        link.poll(t);
        while link.receive(t, &mut |meta: &UdpMeta, payload: &[u8]| {
            client.handle(t, meta, payload)
        }) {}
        while let Some(ev) = client.pop_event() {
            report(&ev);
            if matches!(ev, Event::Chosen { .. }) {
                print!(" after {} ms (timing {timing:?})", t.since(started));
            }
        }
        if !configured {
            if let Some(lease) = client.lease() {
                // through Link, so the mask and gateway also reach the PXE stack the NBP uses
                link.configure(lease.ip, lease.subnet_mask, lease.gateway);
                configured = true;
            }
        }
        if client.state() == State::Menu && !menu_shown {
            menu_shown = true;
            show_menu(&client);
            // No prompt (43.10): nobody is asked; take the first item, as iPXE does.
            let first = client
                .menu()
                .filter(|m| m.prompt().is_none())
                .and_then(|m| m.items().next());
            if let Some(item) = first {
                println!("softpxe: no menu prompt from the server: booting item 1");
                client.select(now(), item.item_type);
            }
        }
        if let Some(result) = client.outcome() {
            println!();
            crate::cached::keep_packets(&client);
            return match result {
                Ok(o) => {
                    let l = o.lease;
                    println!(
                        "CLIENT IP: {}  MASK: {}  DHCP IP: {}  GATEWAY IP: {}",
                        l.ip,
                        l.subnet_mask.unwrap_or(Ipv4Addr::UNSPECIFIED),
                        l.server,
                        l.gateway.unwrap_or(Ipv4Addr::UNSPECIFIED)
                    );
                    if let Some(p) = o.proxy_server {
                        println!("PROXY IP: {p}");
                    }
                    if let Some(b) = o.boot_server {
                        println!("BOOT SERVER IP: {b}");
                    }
                    for w in o.warnings.iter() {
                        println!("softpxe: warning: {w}");
                    }
                    if o.boot == Boot::Local {
                        println!("softpxe: local boot selected");
                        return Ok(None);
                    }
                    let (server, from) =
                        crate::resolve::tftp_server(link, settings, o, client.cached_ack())?;
                    let file = match &settings.boot_file {
                        Some(f) => FixedBuf::from_slice(f.as_str().as_bytes()),
                        None => o.boot_file,
                    };
                    println!(
                        "TFTP IP: {server} (from {from})  FILE: {} (from {})",
                        file.as_str(),
                        if settings.boot_file.is_some() {
                            "SOFTPXE.CFG"
                        } else {
                            source_name(o.boot_file_from)
                        },
                    );
                    Ok(Some((server, file)))
                }
                Err(e) => {
                    // the error's text starts with its PXE-E code
                    println!("{e}.");
                    println!("{}", advice_dhcp(e));
                    Err(Failed)
                }
            };
        }
        // let the BIOS breathe, read the keyboard (Esc cancels, digits pick a menu item)
        let ms = t.millis();
        if ms >= last_key_check + 50 {
            last_key_check = ms;
            if let Some(k) = keyboard::poll() {
                if k.scan == keyboard::SCAN_ESC {
                    println!("\nPXE-E??: cancelled by the user (Esc).");
                    return Err(Failed);
                }
                if client.state() == State::Menu {
                    if let Some(item_type) = menu_pick(&client, k.ascii) {
                        client.select(now(), item_type);
                    }
                }
            }
        }
    }
}

pub(crate) fn source_name(s: dhcp::Source) -> &'static str {
    use dhcp::Source::*;
    match s {
        BootServer => "boot server",
        Proxy => "proxyDHCP",
        DhcpPxe => "DHCP (PXE options)",
        Option66 => "option 66",
        Option67 => "option 67",
        Siaddr => "siaddr",
        FileField => "file field",
        DhcpServer => "DHCP server",
    }
}

fn report(ev: &Event) {
    match *ev {
        Event::OfferReceived {
            from,
            kind,
            yiaddr,
            boot_file,
        } => {
            let kind = match kind {
                OfferKind::Dhcp => "DHCP",
                OfferKind::Proxy => "proxyDHCP",
                OfferKind::Combined => "DHCP+PXE",
            };
            print!(
                "\nsoftpxe: {kind} offer from {from}: address {yiaddr}, {}",
                if boot_file {
                    "with boot file"
                } else {
                    "no boot file"
                }
            );
        }
        Event::Chosen {
            dhcp,
            proxy,
            reason,
        } => match proxy {
            Some(p) => print!("\nsoftpxe: chose DHCP server {dhcp} and proxyDHCP {p} ({reason:?})"),
            None => print!("\nsoftpxe: chose DHCP server {dhcp} ({reason:?})"),
        },
        Event::Retransmit { .. } => print!("."),
        Event::Acked { from, ip } => print!("\nsoftpxe: DHCPACK from {from}: {ip}"),
        Event::Nak { from } => print!("\nsoftpxe: DHCPNAK from {from}; starting over"),
        Event::ProxyAck { from } => print!("\nsoftpxe: proxyDHCP ACK from {from}:4011"),
        Event::BootServerAck { from, server_type } => {
            print!("\nsoftpxe: boot server {from} answered for type {server_type}")
        }
        Event::MenuReady => {}
    }
}

fn show_menu(client: &DhcpClient) {
    let Some(menu) = client.menu() else { return };
    println!();
    for (i, item) in menu.items().enumerate() {
        println!(
            "  {}. {}",
            i + 1,
            core::str::from_utf8(item.desc).unwrap_or("?")
        );
    }
    if let Some((timeout, text)) = menu.prompt() {
        println!(
            "{} ({} s)",
            core::str::from_utf8(text).unwrap_or(""),
            timeout
        );
    }
    println!("softpxe: press 1-9 to choose");
}

fn menu_pick(client: &DhcpClient, ascii: u8) -> Option<u16> {
    let menu = client.menu()?;
    let n = match ascii {
        b'1'..=b'9' => usize::from(ascii - b'1'),
        b'\r' => 0,
        _ => return None,
    };
    menu.items().nth(n).map(|i| i.item_type)
}

fn advice_dhcp(e: softpxe_net::dhcp::DhcpError) -> &'static str {
    use softpxe_net::dhcp::DhcpError::*;
    match e {
        NoOffers | NoAck => "Check the cable and that a DHCP server serves this network (timing = fast shortens the wait).",
        ProxyOnly => "A PXE server answered but no DHCP server gave an address: check the DHCP server.",
        NoBootFile => "The DHCP server gave an address but no boot file: set option 67 or boot_file in SOFTPXE.CFG.",
        ProxyNoReply => "The proxyDHCP server did not answer on UDP port 4011: check its firewall.",
        NoBootServers | BootServerNoReply => "No PXE boot server answered discovery: check the PXE server, or set discovery = skip.",
    }
}

/// Writes the NBP straight into base memory, refusing anything past the limit.
struct NbpSink {
    limit: u32,
    high: u32,
}

impl NbpSink {
    fn window(&self) -> NbpWindow {
        NbpWindow {
            base: NBP_BASE,
            limit: self.limit,
        }
    }
}

impl Sink for NbpSink {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SinkFull> {
        let start = self.window().place(offset, data.len()).ok_or(SinkFull)?;
        // SAFETY: NbpWindow::place put [start, start + len) between 0000:7C00 and the resident
        // part: free base memory that nothing of softpxe uses once the NBP transfer has begun.
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr(), start as usize as *mut u8, data.len())
        };
        self.high = self.high.max(start + data.len() as u32 - NBP_BASE);
        Ok(())
    }

    fn announce_size(&mut self, size: u64) -> Result<(), SinkFull> {
        if !self.window().fits(size) {
            return Err(SinkFull);
        }
        Ok(())
    }
}

/// Counts and CRC-32s a diagnostic download (IEEE 802.3 polynomial, reflected).
struct CheckSink {
    crc: u32,
    next: u64,
    in_order: bool,
}

const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

impl Sink for CheckSink {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SinkFull> {
        if offset != self.next {
            self.in_order = false;
        }
        self.next = offset + data.len() as u64;
        for &b in data {
            self.crc = CRC_TABLE[((self.crc ^ u32::from(b)) & 0xff) as usize] ^ (self.crc >> 8);
        }
        Ok(())
    }
}

/// The window advice learned from this boot's transfers (WindowAdvisor's one field, 0 = none),
/// kept across the test_file, the NBP and (through `tftp_config`) the PXE API's TFTP calls.
static WINDOW_ADVICE: AtomicU16 = AtomicU16::new(0);

/// The TFTP settings for the NBP, the diagnostic file and the PXE API's TFTP calls, with the
/// window advice learned so far.
pub fn tftp_config(settings: &Settings) -> TftpConfig {
    let windowsize = u16::from(settings.tftp_windowsize());
    let advice = WINDOW_ADVICE.load(Ordering::Relaxed);
    TftpConfig {
        windowsize,
        advisor: WindowAdvisor::from_window(advice),
        ..TftpConfig::default()
    }
}

/// Learn the window advice from a finished transfer made with `cfg`.
fn learn(mut cfg: TftpConfig, client: &TftpClient) {
    cfg.learn(client);
    WINDOW_ADVICE.store(cfg.advisor.advised(), Ordering::Relaxed);
}

/// Runs one TFTP transfer to its end; returns the result and the seconds it took.
fn transfer(
    link: &mut Link<'_>,
    cfg: TftpConfig,
    server: Ipv4Addr,
    file: &[u8],
    sink: &mut dyn Sink,
) -> (Result<u64, TftpError>, u64, TftpClient) {
    let start = now();
    let port = 2070 + (time::rdtsc() % 20_000) as u16;
    let mut client = TftpClient::new(start, cfg, Mode::Read, server, port, file);
    let mut buf = [0u8; 1500];
    let mut last_key_check = 0u64;
    // Screen and COM1 get the same stream: the line is redrawn in place after a `\r`.
    let mut ticker = Ticker::new(start.millis(), progress::FIRST_MS, progress::EVERY_MS);
    loop {
        let t = now();
        while let Some(tx) = client.poll(t, &mut buf) {
            let tx: Transmit = tx;
            link.send(t, &tx, &buf);
        }
        link.poll(t);
        while link.receive(t, &mut |meta: &UdpMeta, payload: &[u8]| {
            client.handle(t, meta, payload, sink)
        }) {}
        if matches!(client.state(), TftpState::Done | TftpState::Failed) {
            // the final ACK
            while let Some(tx) = client.poll(t, &mut buf) {
                link.send(t, &tx, &buf);
            }
            let result = client.result().unwrap_or(Err(TftpError::ReadTimeout));
            let ms = now().since(start);
            if ticker.shown() {
                print!("\r{}\n", progress_line(&client, ms));
            }
            learn(cfg, &client);
            return (result, ms, client);
        }
        let ms = t.millis();
        if ticker.due(ms) {
            print!("\r{}", progress_line(&client, t.since(start)));
        }
        if ms >= last_key_check + 200 {
            last_key_check = ms;
            if let Some(k) = keyboard::poll() {
                if k.scan == keyboard::SCAN_ESC {
                    client.abort();
                }
            }
        }
    }
}

fn report_tftp_error(e: &TftpError, server: Ipv4Addr, file: &[u8]) {
    let name = core::str::from_utf8(file).unwrap_or("?");
    match e {
        TftpError::Server { code, text } => {
            println!(
                "{}: TFTP error {code} from {server} for \"{name}\": {}",
                e.pxe_code(),
                text.as_str()
            );
            println!("Check that the file exists on the TFTP server and is readable.");
        }
        TftpError::OpenTimeout => {
            println!(
                "{}: TFTP open timeout: {server} did not answer the request for \"{name}\".",
                e.pxe_code()
            );
            println!("Check that a TFTP server runs on {server} and that UDP port 69 is open.");
        }
        TftpError::SinkFull => {
            println!(
                "{}: \"{name}\" is too big for base memory (it must end below the PXE ROM's data).",
                e.pxe_code()
            );
        }
        TftpError::ReadTimeout => {
            // the error's text starts with its PXE-E code
            println!("{e}: \"{name}\" from {server} stopped arriving.");
            println!("The TFTP server stopped answering: check the server and the link (lossy links: a smaller tftp_windowsize).");
        }
        _ => {
            println!("{e}: the transfer of \"{name}\" from {server} failed.");
            println!("The server's answer could not be used: check the TFTP server's options (blksize, tsize, windowsize).");
        }
    }
}

fn progress_line(client: &TftpClient, ms: u64) -> progress::Line {
    progress::Line::new(&client.stats(), client.negotiated().tsize, ms)
}

/// The transfer rate in B/s, KiB/s or MiB/s (one decimal).
fn rate(bytes: u64, ms: u64) -> Rate {
    Rate { bytes, ms }
}

fn fetch_nbp(
    link: &mut Link<'_>,
    settings: &Settings,
    server: Ipv4Addr,
    file: &[u8],
    limit: u32,
) -> Result<u32, Failed> {
    let mut sink = NbpSink { limit, high: 0 };
    let (result, ms, client) = transfer(link, tftp_config(settings), server, file, &mut sink);
    match result {
        Ok(size) => {
            let n = client.negotiated();
            println!(
                "TFTP: \"{}\" {size} bytes in {ms} ms ({}), blksize {}, windowsize {}{}{}",
                core::str::from_utf8(file).unwrap_or("?"),
                rate(size, ms),
                n.blksize,
                n.windowsize,
                if n.options_accepted {
                    ""
                } else {
                    " (server ignored the options)"
                },
                Retries(client.stats())
            );
            Ok(size as u32)
        }
        Err(e) => {
            report_tftp_error(&e, server, file);
            Err(Failed)
        }
    }
}

fn test_fetch(link: &mut Link<'_>, settings: &Settings, server: Ipv4Addr, file: &[u8]) {
    let mut sink = CheckSink {
        crc: !0,
        next: 0,
        in_order: true,
    };
    let (result, ms, client) = transfer(link, tftp_config(settings), server, file, &mut sink);
    match result {
        Ok(size) => {
            let n = client.negotiated();
            println!(
                "softpxe: test_file \"{}\": {size} bytes in {ms} ms ({}), crc32 {:08x}, blksize {}, windowsize {}{}{}{}",
                core::str::from_utf8(file).unwrap_or("?"),
                rate(size, ms),
                !sink.crc,
                n.blksize,
                n.windowsize,
                if n.options_accepted { "" } else { " (server ignored the options)" },
                if sink.in_order { "" } else { " (OUT OF ORDER)" },
                Retries(client.stats())
            );
        }
        Err(e) => report_tftp_error(&e, server, file),
    }
}
