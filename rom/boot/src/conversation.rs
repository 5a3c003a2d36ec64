//! The PXE client conversation: DHCP / proxyDHCP / boot-server discovery (`softpxe_net::dhcp`)
//! with the offer choice, menu and prompt, or a static address from the settings; then the
//! diagnostic file and the NBP over TFTP ([`crate::tftp`]), with the progress lines a PXE ROM
//! shows and the PXE-style error codes when something fails.
use crate::console::{say, sayln};
use crate::link::{Link, Received};
use crate::tftp::{self, TftpAdvice};
use crate::{now, Failed, Key, Platform};
use core::net::Ipv4Addr;
use softpxe_drivers::Nic;
use softpxe_net::dhcp::{self, Boot, DhcpClient, DhcpConfig, Event, OfferKind, State};
use softpxe_net::fixed::FixedBuf;
use softpxe_pxe::Cached;
use softpxe_settings::{Discovery, Host, Settings, Timing};

/// What the conversation decided.
pub(crate) enum Decision {
    /// Boot the NBP of this many bytes, now where the platform put it.
    Nbp { size: u32 },
    /// The boot menu's local-boot item: hand back to the firmware.
    Local,
}

/// Runs the whole conversation on an open NIC; the packets for GET_CACHED_INFO go to `cached`.
pub(crate) fn run<P: Platform, N: Nic>(
    p: &mut P,
    link: &mut Link<'_, N>,
    settings: &Settings,
    advice: &mut TftpAdvice,
    cached: &mut Cached,
) -> Result<Decision, Failed> {
    let (server, file, packets) = match settings.ip {
        Some(ip) => static_config(p, link, settings, ip)?,
        None => match dhcp_conversation(p, link, settings)? {
            Some(found) => found,
            None => return Ok(Decision::Local),
        },
    };
    if let Some(test) = &settings.test_file {
        tftp::test_fetch(p, link, settings, advice, server, test.as_str().as_bytes());
    }
    *cached = packets;
    let size = tftp::fetch_nbp(p, link, settings, advice, server, file.as_bytes())?;
    Ok(Decision::Nbp { size })
}

/// The TFTP server, the boot file and the cached packets.
type Found = (Ipv4Addr, FixedBuf<128>, Cached);

fn static_config<P: Platform, N: Nic>(
    p: &mut P,
    link: &mut Link<'_, N>,
    settings: &Settings,
    ip: Ipv4Addr,
) -> Result<Found, Failed> {
    link.configure(ip, settings.netmask, settings.gateway);
    sayln!(
        p,
        "CLIENT IP: {ip}  MASK: {}  GATEWAY IP: {}  (static, from SOFTPXE.CFG)",
        settings.netmask.unwrap_or(Ipv4Addr::UNSPECIFIED),
        settings.gateway.unwrap_or(Ipv4Addr::UNSPECIFIED)
    );
    let server = match &settings.next_server {
        Some(Host::Ip(a)) => *a,
        Some(Host::Name(n)) => crate::resolve::static_server(p, link, settings, n.as_str())?,
        None => {
            sayln!(
                p,
                "PXE-E53: a static ip needs next_server and boot_file in SOFTPXE.CFG."
            );
            return Err(Failed);
        }
    };
    let Some(file) = &settings.boot_file else {
        sayln!(
            p,
            "PXE-E53: No boot filename received: a static ip needs boot_file in SOFTPXE.CFG."
        );
        return Err(Failed);
    };
    let lease = dhcp::StaticLease {
        mac: link.iface.mac().0,
        ip,
        mask: settings.netmask,
        gateway: settings.gateway,
        dns: settings.dns,
        server,
        file: file.as_str().as_bytes(),
    };
    let mut ack = [0u8; softpxe_pxe::abi::BOOTPLAYER_SIZE];
    let len = dhcp::static_ack(&mut ack, &lease).unwrap_or(0);
    Ok((
        server,
        FixedBuf::from_slice(file.as_str().as_bytes()),
        Cached::from_static_ack(&ack[..len]),
    ))
}

/// DHCP, proxyDHCP and discovery; None for a local boot.
fn dhcp_conversation<P: Platform, N: Nic>(
    p: &mut P,
    link: &mut Link<'_, N>,
    settings: &Settings,
) -> Result<Option<Found>, Failed> {
    let mac = link.iface.mac().0;
    let mut cfg = DhcpConfig::new(
        mac,
        p.entropy() ^ u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]),
    );
    // options 93 and 94 from the platform; option 60 names the same architecture unless the
    // settings give their own text
    cfg.arch = p.client_arch();
    cfg.vendor_class = match &settings.vendor_class {
        Some(t) => FixedBuf::from_slice(t.as_str().as_bytes()),
        None => dhcp::vendor_class(cfg.arch, cfg.undi.0, cfg.undi.1),
    };
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
    sayln!(
 p,
        "GUID: {:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]
    );
    say!(p, "DHCP.");
    let timing = cfg.timing;
    let started = now(p);
    let mut client = DhcpClient::new(cfg, started);
    let mut buf = [0u8; 1500];
    let mut configured = false;
    let mut menu_shown = false;
    let mut last_key_check = 0u64;
    loop {
        let t = now(p);
        while let Some(tx) = client.poll(t, &mut buf) {
            link.send(p, t, &tx, &buf);
        }
        link.poll(p, t);
        loop {
            match link.receive(p, t) {
                Received::Nothing => break,
                Received::Udp(meta, payload) => client.handle(t, &meta, payload),
                Received::Frame => {}
            }
        }
        while let Some(ev) = client.pop_event() {
            report(p, &ev);
            if matches!(ev, Event::Chosen { .. }) {
                say!(p, " after {} ms (timing {timing:?})", t.since(started));
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
            show_menu(p, &client);
            // No prompt (43.10): nobody is asked; take the first item, as iPXE does.
            let first = client
                .menu()
                .filter(|m| m.prompt().is_none())
                .and_then(|m| m.items().next());
            if let Some(item) = first {
                sayln!(p, "softpxe: no menu prompt from the server: booting item 1");
                client.select(now(p), item.item_type);
            }
        }
        if let Some(result) = client.outcome() {
            sayln!(p);
            let cached = Cached::from_dhcp(&client);
            return match result {
                Ok(o) => {
                    let l = o.lease;
                    sayln!(
                        p,
                        "CLIENT IP: {}  MASK: {}  DHCP IP: {}  GATEWAY IP: {}",
                        l.ip,
                        l.subnet_mask.unwrap_or(Ipv4Addr::UNSPECIFIED),
                        l.server,
                        l.gateway.unwrap_or(Ipv4Addr::UNSPECIFIED)
                    );
                    if let Some(proxy) = o.proxy_server {
                        sayln!(p, "PROXY IP: {proxy}");
                    }
                    if let Some(b) = o.boot_server {
                        sayln!(p, "BOOT SERVER IP: {b}");
                    }
                    for w in o.warnings.iter() {
                        sayln!(p, "softpxe: warning: {w}");
                    }
                    if o.boot == Boot::Local {
                        sayln!(p, "softpxe: local boot selected");
                        return Ok(None);
                    }
                    let (server, from) =
                        crate::resolve::tftp_server(p, link, settings, o, client.cached_ack())?;
                    let file = match &settings.boot_file {
                        Some(f) => FixedBuf::from_slice(f.as_str().as_bytes()),
                        None => o.boot_file,
                    };
                    sayln!(
                        p,
                        "TFTP IP: {server} (from {from})  FILE: {} (from {})",
                        file.as_str(),
                        if settings.boot_file.is_some() {
                            "SOFTPXE.CFG"
                        } else {
                            source_name(o.boot_file_from)
                        },
                    );
                    Ok(Some((server, file, cached)))
                }
                Err(e) => {
                    // the error's text starts with its PXE-E code
                    sayln!(p, "{e}.");
                    sayln!(p, "{}", advice_dhcp(e));
                    Err(Failed)
                }
            };
        }
        // let the BIOS breathe, read the keyboard (Esc cancels, digits pick a menu item)
        let ms = t.millis();
        if ms >= last_key_check + 50 {
            last_key_check = ms;
            match p.poll_key() {
                Some(Key::Esc) => {
                    sayln!(p, "\nPXE-E??: cancelled by the user (Esc).");
                    return Err(Failed);
                }
                Some(Key::Char(ascii)) if client.state() == State::Menu => {
                    if let Some(item_type) = menu_pick(&client, ascii) {
                        client.select(now(p), item_type);
                    }
                }
                _ => {}
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

fn report<P: Platform>(p: &mut P, ev: &Event) {
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
            say!(
                p,
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
            Some(proxy) => say!(
                p,
                "\nsoftpxe: chose DHCP server {dhcp} and proxyDHCP {proxy} ({reason:?})"
            ),
            None => say!(p, "\nsoftpxe: chose DHCP server {dhcp} ({reason:?})"),
        },
        Event::Retransmit { .. } => say!(p, "."),
        Event::Acked { from, ip } => say!(p, "\nsoftpxe: DHCPACK from {from}: {ip}"),
        Event::Nak { from } => say!(p, "\nsoftpxe: DHCPNAK from {from}; starting over"),
        Event::ProxyAck { from } => say!(p, "\nsoftpxe: proxyDHCP ACK from {from}:4011"),
        Event::BootServerAck { from, server_type } => {
            say!(
                p,
                "\nsoftpxe: boot server {from} answered for type {server_type}"
            )
        }
        Event::MenuReady => {}
    }
}

fn show_menu<P: Platform>(p: &mut P, client: &DhcpClient) {
    let Some(menu) = client.menu() else { return };
    sayln!(p);
    for (i, item) in menu.items().enumerate() {
        sayln!(
            p,
            "  {}. {}",
            i + 1,
            core::str::from_utf8(item.desc).unwrap_or("?")
        );
    }
    if let Some((timeout, text)) = menu.prompt() {
        sayln!(
            p,
            "{} ({} s)",
            core::str::from_utf8(text).unwrap_or(""),
            timeout
        );
    }
    sayln!(p, "softpxe: press 1-9 to choose");
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
