//! Boot server host names: which TFTP server to use when DHCP option 66 or
//! `next_server` in SOFTPXE.CFG is a name, resolved with `softpxe_net::dns` through the `dns`
//! setting and the DHCP option 6 servers, with option 15 as the search domain. See
//! `docs/netboot.md` ("Which server and file").
use crate::console::{say, sayln};
use crate::conversation::source_name;
use crate::link::{Link, Received};
use crate::{now, Failed, Key, Platform};
use core::net::Ipv4Addr;
use softpxe_drivers::Nic;
use softpxe_net::dhcp::packet::Packet;
use softpxe_net::dhcp::{Outcome, ServerAddr};
use softpxe_net::dns::{DnsError, DnsEvent, Resolver, MAX_SERVERS};
use softpxe_settings::{Host, Settings};

/// The DNS servers to ask: the `dns` setting first, then option 6 of the lease.
fn dns_servers(settings: &Settings, lease: impl Iterator<Item = Ipv4Addr>) -> DnsServers {
    let mut s = DnsServers {
        list: [Ipv4Addr::UNSPECIFIED; MAX_SERVERS],
        n: 0,
    };
    for ip in settings.dns.into_iter().chain(lease) {
        if s.n < MAX_SERVERS && !s.list[..s.n].contains(&ip) && !ip.is_unspecified() {
            s.list[s.n] = ip;
            s.n += 1;
        }
    }
    s
}

struct DnsServers {
    list: [Ipv4Addr; MAX_SERVERS],
    n: usize,
}

impl DnsServers {
    fn as_slice(&self) -> &[Ipv4Addr] {
        &self.list[..self.n]
    }
}

/// Prints `a, b, c` (or `none`).
struct List<'a>(&'a [Ipv4Addr]);

impl core::fmt::Display for List<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, ip) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{ip}")?;
        }
        Ok(())
    }
}

/// Resolves `name` through `servers` (search domain `domain`), with progress lines. On
/// failure, the servers' answers have been printed; `Err(Failed)`: cancelled with Esc.
fn resolve<P: Platform, N: Nic>(
    p: &mut P,
    link: &mut Link<'_, N>,
    name: &[u8],
    servers: &[Ipv4Addr],
    domain: &[u8],
) -> Result<Result<Ipv4Addr, DnsError>, Failed> {
    let mac = link.iface.mac().0;
    let seed = p.entropy() ^ u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]);
    let mut r = Resolver::new(now(p), name, servers, domain, seed);
    if let Some(done) = r.result() {
        return Ok(done);
    }
    say!(p, "DNS: {} via {}", r.qname(), List(r.servers()));
    let mut buf = [0u8; 512];
    let mut last_key_check = 0u64;
    loop {
        let t = now(p);
        while let Some(tx) = r.poll(t, &mut buf) {
            link.send(p, t, &tx, &buf);
        }
        link.poll(p, t);
        loop {
            match link.receive(p, t) {
                Received::Nothing => break,
                Received::Udp(meta, payload) => {
                    r.handle(t, &meta, payload);
                }
                Received::Frame => {}
            }
        }
        while let Some(ev) = r.pop_event() {
            match ev {
                DnsEvent::Query { attempt: 0, .. } => {}
                DnsEvent::Query { .. } => say!(p, "."),
                DnsEvent::ServerFailed { server, why } => say!(p, "\nDNS: {server}: {why}"),
                DnsEvent::Alias | DnsEvent::Qualified => say!(p, "\nDNS: asking for {}", r.qname()),
            }
        }
        if let Some(done) = r.result() {
            sayln!(p);
            if let Ok(ip) = done {
                sayln!(p, "DNS: {} is {ip}", r.qname());
            }
            return Ok(done);
        }
        let ms = t.millis();
        if ms >= last_key_check + 100 {
            last_key_check = ms;
            if p.poll_key() == Some(Key::Esc) {
                sayln!(p, "\nPXE-E3C: DNS lookup cancelled by the user (Esc).");
                return Err(Failed);
            }
        }
    }
}

fn name_text(n: &[u8]) -> &str {
    core::str::from_utf8(n).unwrap_or("?")
}

fn advice<P: Platform>(p: &mut P, name: &str, e: DnsError, servers: &[Ipv4Addr]) {
    sayln!(
        p,
        "PXE-E3C: cannot resolve the boot server name \"{name}\": {e} (DNS servers tried: {}).",
        List(servers)
    );
    match e {
        DnsError::NoServers => sayln!(
 p,
            "Give a DNS server (DHCP option 6, or dns = in SOFTPXE.CFG), or an IPv4 address for the server."
        ),
        DnsError::BadName => sayln!(p, "Give an IPv4 address or a valid host name for the server."),
        DnsError::Failed(_) => sayln!(
 p,
            "Check the name and the DNS server, or give the boot server as an IPv4 address."
        ),
    }
}

/// The TFTP server after DHCP, and where it came from: `next_server` (address or name)
/// first, else the outcome's server; a name from option 66 that does not resolve falls back
/// to a non-zero siaddr of the DHCPACK `ack`, with a warning.
pub(crate) fn tftp_server<P: Platform, N: Nic>(
    p: &mut P,
    link: &mut Link<'_, N>,
    settings: &Settings,
    o: &Outcome,
    ack: &[u8],
) -> Result<(Ipv4Addr, &'static str), Failed> {
    let servers = dns_servers(settings, o.lease.dns_servers());
    let domain = o.lease.domain.as_bytes();
    match (&settings.next_server, o.tftp_server) {
        (Some(Host::Ip(a)), _) => {
            sayln!(
                p,
                "softpxe: TFTP server {a} from next_server in SOFTPXE.CFG"
            );
            Ok((*a, "SOFTPXE.CFG"))
        }
        (Some(Host::Name(n)), _) => {
            let name = n.as_str();
            match resolve(p, link, name.as_bytes(), servers.as_slice(), domain)? {
                Ok(ip) => Ok((ip, "SOFTPXE.CFG")),
                Err(e) => {
                    advice(p, name, e, servers.as_slice());
                    Err(Failed)
                }
            }
        }
        (None, ServerAddr::Ip(a)) => Ok((a, source_name(o.tftp_server_from))),
        (None, ServerAddr::Name(n)) => {
            let name = name_text(n.as_bytes());
            match resolve(p, link, n.as_bytes(), servers.as_slice(), domain)? {
                Ok(ip) => Ok((ip, source_name(o.tftp_server_from))),
                Err(e) => {
                    let siaddr = Packet::new_checked(ack)
                        .map(|p| p.siaddr())
                        .unwrap_or(Ipv4Addr::UNSPECIFIED);
                    if siaddr.is_unspecified() || siaddr.is_broadcast() {
                        advice(p, name, e, servers.as_slice());
                        return Err(Failed);
                    }
                    sayln!(
 p,
                        "softpxe: warning: option 66 names \"{name}\", which does not resolve ({e}; DNS servers tried: {}); using siaddr {siaddr}",
                        List(servers.as_slice())
                    );
                    Ok((siaddr, "siaddr, option 66 did not resolve"))
                }
            }
        }
    }
}

/// The TFTP server for a static address: `next_server`, a name resolved through `dns`.
pub(crate) fn static_server<P: Platform, N: Nic>(
    p: &mut P,
    link: &mut Link<'_, N>,
    settings: &Settings,
    name: &str,
) -> Result<Ipv4Addr, Failed> {
    let servers = dns_servers(settings, core::iter::empty());
    resolve(p, link, name.as_bytes(), servers.as_slice(), &[])?.map_err(|e| {
        advice(p, name, e, servers.as_slice());
        if settings.dns.is_none() {
            sayln!(
                p,
                "With a static ip, set dns = in SOFTPXE.CFG to resolve next_server."
            );
        }
        Failed
    })
}
