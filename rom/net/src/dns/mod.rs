//! A DNS A-record resolver (layer `rom/net`) as a sans-IO state machine, for boot server host
//! names (DHCP option 66, `next_server` in SOFTPXE.CFG).
//!
//! RFC 1035 §4.2.1 (UDP, port 53), §7.2 (several servers in turn, retransmission); RFC 5452
//! (random id and source port, answers checked against both); RFC 1034 §3.6.2 / RFC 2181 §10.1
//! (CNAME chains). Over UDP only: there is no TCP, so a truncated answer (TC) is an error.
//!
//! Schedule: each server gets the query and, without an answer, the same query again after
//! [`TIMEOUTS_MS`] (1 s, 2 s, 4 s: 7 s for a silent server, as iPXE does). A server that stays
//! silent is not asked again by later queries of the same lookup. A server that answers with an
//! error (NXDOMAIN, SERVFAIL, REFUSED, no A record, truncated, malformed) hands over to the next
//! server at once. A CNAME chain is followed inside an answer; an answer that ends on a CNAME
//! starts a new query for its target ([`MAX_ALIASES`] CNAMEs in all). A dotless name that no
//! server resolved, though one answered, is tried once more with the search domain (DHCP option
//! 15) appended. A name that
//! is a dotted-quad address is the result at once, without any query.
//!
//! Drive it like the DHCP and TFTP clients: [`Resolver::poll`] for what to send,
//! [`Resolver::handle`] for each UDP datagram, [`Resolver::next_deadline`] for when to call
//! `poll` again, [`Resolver::result`] once it is done.

pub mod answer;

use crate::{Instant, Ipv4Addr, Transmit, UdpMeta};
use answer::{emit_query, parse_answer, Answer, Name};
use core::fmt;

/// DNS server port.
pub const SERVER_PORT: u16 = 53;
/// DNS servers a lookup tries, at most (more are ignored).
pub const MAX_SERVERS: usize = 4;
/// Wait after each transmission of a query to one server before sending it again (or, after the
/// last, moving to the next server), in milliseconds.
pub const TIMEOUTS_MS: [u64; 3] = [1000, 2000, 4000];
/// CNAMEs followed in all, across answers and queries.
pub const MAX_ALIASES: u8 = 8;

/// How one server failed a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerError {
    /// No answer after every retransmission.
    Timeout,
    /// NXDOMAIN: the name does not exist.
    NxDomain,
    /// The name exists but has no A record.
    NoAddress,
    /// An error RCODE other than NXDOMAIN (2 SERVFAIL, 5 REFUSED, ...).
    Rcode(u8),
    /// The TC bit: the answer needs TCP, which softpxe does not have.
    Truncated,
    /// An answer that could not be read.
    Malformed,
    /// The CNAME chain is too long or loops.
    AliasLoop,
}

impl ServerError {
    /// How much the error says about the name; the most telling one is the lookup's error.
    const fn weight(self) -> u8 {
        match self {
            ServerError::Timeout => 0,
            ServerError::Malformed => 1,
            ServerError::Rcode(_) => 2,
            ServerError::Truncated => 3,
            ServerError::AliasLoop => 4,
            ServerError::NxDomain => 5,
            ServerError::NoAddress => 6,
        }
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::Timeout => f.write_str("no answer"),
            ServerError::NxDomain => f.write_str("no such name (NXDOMAIN)"),
            ServerError::NoAddress => f.write_str("no IPv4 address (A record) for the name"),
            ServerError::Rcode(2) => f.write_str("server failure (SERVFAIL)"),
            ServerError::Rcode(5) => f.write_str("refused (REFUSED)"),
            ServerError::Rcode(n) => write!(f, "error RCODE {n}"),
            ServerError::Truncated => {
                f.write_str("answer truncated (TC): it needs DNS over TCP, which softpxe lacks")
            }
            ServerError::Malformed => f.write_str("malformed answer"),
            ServerError::AliasLoop => f.write_str("CNAME chain too long or looping"),
        }
    }
}

/// Why a lookup failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsError {
    /// Not a host name (empty, a label over 63 bytes, over 253 characters, bad bytes, or digits
    /// and dots that are no IPv4 address).
    BadName,
    /// No usable DNS server was given.
    NoServers,
    /// Every server failed; this is the most telling of their errors.
    Failed(ServerError),
}

impl DnsError {
    /// The PXE message code: PXE-E3C, the code PXE ROMs show for a boot server name they
    /// could not resolve.
    pub const fn pxe_code(self) -> &'static str {
        "PXE-E3C"
    }
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsError::BadName => f.write_str("not a valid host name"),
            DnsError::NoServers => f.write_str("no DNS server known"),
            DnsError::Failed(e) => write!(f, "{e}"),
        }
    }
}

/// A progress event for the boot log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsEvent {
    /// A query went to `server`; `attempt` 0 is the first transmission, later ones are resends.
    Query { server: Ipv4Addr, attempt: u8 },
    /// `server` failed the current query.
    ServerFailed { server: Ipv4Addr, why: ServerError },
    /// The answer ended on a CNAME: a new query asks for its target ([`Resolver::qname`]).
    Alias,
    /// No server knew the dotless name: it is asked for again with the search domain.
    Qualified,
}

const MAX_EVENTS: usize = 8;

/// One lookup. See the module doc.
#[derive(Clone, Debug)]
pub struct Resolver {
    servers: [Ipv4Addr; MAX_SERVERS],
    n_servers: usize,
    /// Silent through a whole schedule: skipped by later queries.
    silent: [bool; MAX_SERVERS],
    /// The last failure of each server.
    errors: [Option<ServerError>; MAX_SERVERS],
    qname: Name,
    qualified: Option<Name>,
    aliases: u8,
    cur: usize,
    /// Servers asked by the current query, one bit each.
    asked: u8,
    attempt: usize,
    rng: u32,
    id: u16,
    port: u16,
    sent: bool,
    tx_due: bool,
    timer: Option<Instant>,
    now: Instant,
    best: Option<ServerError>,
    result: Option<Result<Ipv4Addr, DnsError>>,
    events: [Option<DnsEvent>; MAX_EVENTS],
}

impl Resolver {
    /// A lookup of `name` (text, as in option 66) through `servers` in order (unspecified,
    /// broadcast and repeated addresses are dropped; at most [`MAX_SERVERS`]). `domain` is the
    /// search domain for a dotless name (may be empty). `seed` is random: query ids and source
    /// ports are drawn from it. A dotted-quad `name` or an invalid one is finished at once.
    pub fn new(now: Instant, name: &[u8], servers: &[Ipv4Addr], domain: &[u8], seed: u32) -> Self {
        let mut r = Resolver {
            servers: [Ipv4Addr::UNSPECIFIED; MAX_SERVERS],
            n_servers: 0,
            silent: [false; MAX_SERVERS],
            errors: [None; MAX_SERVERS],
            qname: Name::ROOT,
            qualified: None,
            aliases: 0,
            cur: 0,
            asked: 0,
            attempt: 0,
            rng: seed | 1,
            id: 0,
            port: 0,
            sent: false,
            tx_due: false,
            timer: None,
            now,
            best: None,
            result: None,
            events: [None; MAX_EVENTS],
        };
        for &s in servers {
            let usable = !s.is_unspecified() && !s.is_broadcast() && !s.is_multicast();
            if usable && r.n_servers < MAX_SERVERS && !r.servers[..r.n_servers].contains(&s) {
                r.servers[r.n_servers] = s;
                r.n_servers += 1;
            }
        }
        let text = trim(name);
        if let Some(ip) = core::str::from_utf8(text)
            .ok()
            .and_then(|s| s.parse::<Ipv4Addr>().ok())
        {
            r.result = Some(Ok(ip));
            return r;
        }
        let parsed = Name::from_text(text).ok().filter(|_| {
            // digits and dots only, yet no address: a typo, not a name (RFC 1123 §2.1)
            !text.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        });
        let Some((qname, absolute)) = parsed else {
            r.result = Some(Err(DnsError::BadName));
            return r;
        };
        r.qname = qname;
        if !absolute && qname.labels() == 1 {
            r.qualified = Name::from_text(trim(domain))
                .ok()
                .and_then(|(d, _)| qname.join(&d).ok());
        }
        if r.n_servers == 0 {
            r.result = Some(Err(DnsError::NoServers));
            return r;
        }
        r.start_query(now, 0);
        r
    }

    /// `Some` once finished: the address, or why there is none.
    pub fn result(&self) -> Option<Result<Ipv4Addr, DnsError>> {
        self.result
    }

    /// The name the current (or last) query asks for.
    pub fn qname(&self) -> &Name {
        &self.qname
    }

    /// The servers in use, in order.
    pub fn servers(&self) -> &[Ipv4Addr] {
        &self.servers[..self.n_servers]
    }

    /// Each server with its last failure (`None`: it did not fail, or was not asked).
    pub fn server_errors(&self) -> impl Iterator<Item = (Ipv4Addr, Option<ServerError>)> + '_ {
        self.servers().iter().copied().zip(self.errors)
    }

    /// The server being asked now and our source port for it, while a query is open.
    pub fn current(&self) -> Option<(Ipv4Addr, u16)> {
        (self.result.is_none() && self.n_servers > 0).then(|| (self.servers[self.cur], self.port))
    }

    /// The next progress event, oldest first.
    pub fn pop_event(&mut self) -> Option<DnsEvent> {
        let first = self.events[0].take();
        self.events.rotate_left(1);
        first
    }

    /// When `poll` needs to be called next.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.tx_due {
            Some(self.now)
        } else {
            self.timer
        }
    }

    /// Run timers, then write the query to send into `buf` (at least 271 bytes), if one is due.
    pub fn poll(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.now = now;
        if self.result.is_some() {
            return None;
        }
        if self.timer.is_some_and(|t| now >= t) {
            self.timer = None;
            if self.attempt + 1 < TIMEOUTS_MS.len() {
                self.attempt += 1;
                self.tx_due = true;
            } else {
                self.silent[self.cur] = true;
                self.server_failed(now, ServerError::Timeout);
                if self.result.is_some() {
                    return None;
                }
            }
        }
        if !self.tx_due {
            return None;
        }
        let len = emit_query(buf, self.id, &self.qname)?;
        self.tx_due = false;
        self.sent = true;
        self.timer = Some(now.plus_ms(TIMEOUTS_MS[self.attempt]));
        let server = self.servers[self.cur];
        self.push_event(DnsEvent::Query {
            server,
            attempt: self.attempt as u8,
        });
        Some(Transmit {
            src_port: self.port,
            dst_ip: server,
            dst_port: SERVER_PORT,
            len,
        })
    }

    /// Feed a received UDP datagram. Returns whether it was the answer to the open query (from
    /// the server asked, port 53, to our port, with our id and question); anything else is
    /// ignored.
    pub fn handle(&mut self, now: Instant, meta: &UdpMeta, payload: &[u8]) -> bool {
        self.now = now;
        let Some((server, port)) = self.current() else {
            return false;
        };
        if !self.sent
            || meta.src_ip != server
            || meta.src_port != SERVER_PORT
            || meta.dst_port != port
        {
            return false;
        }
        let Some(answer) = parse_answer(payload, self.id, &self.qname) else {
            return false;
        };
        match answer {
            Answer::Address { ip, aliases } => {
                if self.aliases.saturating_add(aliases) > MAX_ALIASES {
                    self.server_failed(now, ServerError::AliasLoop);
                } else {
                    self.errors[self.cur] = None;
                    self.finish(Ok(ip));
                }
            }
            Answer::Alias { target, aliases } => {
                self.aliases = self.aliases.saturating_add(aliases);
                if self.aliases > MAX_ALIASES {
                    self.server_failed(now, ServerError::AliasLoop);
                } else {
                    self.qname = target;
                    // the search domain is for the name as given, not for an alias target
                    self.qualified = None;
                    self.push_event(DnsEvent::Alias);
                    self.start_query(now, self.cur);
                }
            }
            Answer::AliasLoop => self.server_failed(now, ServerError::AliasLoop),
            Answer::NoAddress => self.server_failed(now, ServerError::NoAddress),
            Answer::NxDomain => self.server_failed(now, ServerError::NxDomain),
            Answer::Rcode(n) => self.server_failed(now, ServerError::Rcode(n)),
            Answer::Truncated => self.server_failed(now, ServerError::Truncated),
            Answer::Malformed => self.server_failed(now, ServerError::Malformed),
        }
        true
    }

    fn next_random(&mut self) -> u32 {
        // xorshift32: enough to keep ids and ports unguessable from off the path
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    /// A new query (new id and port) for `self.qname`, beginning with server `first`.
    fn start_query(&mut self, now: Instant, first: usize) {
        self.asked = 0;
        self.cur = first;
        match (0..self.n_servers)
            .map(|k| (first + k) % self.n_servers)
            .find(|&i| !self.silent[i])
        {
            Some(i) => {
                self.cur = i;
                self.ask(now);
            }
            None => self.fail(),
        }
    }

    fn ask(&mut self, now: Instant) {
        let r = self.next_random();
        self.id = r as u16;
        // dynamic ports 49152-65535 (RFC 6335)
        self.port = 49152 + ((r >> 16) as u16 & 0x3fff);
        self.attempt = 0;
        self.asked |= 1 << self.cur;
        self.sent = false;
        self.tx_due = true;
        self.timer = None;
        self.now = now;
    }

    /// The next server after the current one (wrapping) that this query has not asked and that
    /// is not known to be silent.
    fn next_unasked(&self) -> Option<usize> {
        (1..self.n_servers)
            .map(|k| (self.cur + k) % self.n_servers)
            .find(|&i| !self.silent[i] && self.asked & (1 << i) == 0)
    }

    fn server_failed(&mut self, now: Instant, why: ServerError) {
        let server = self.servers[self.cur];
        self.errors[self.cur] = Some(why);
        self.push_event(DnsEvent::ServerFailed { server, why });
        if self.best.is_none_or(|b| why.weight() >= b.weight()) {
            self.best = Some(why);
        }
        self.timer = None;
        self.tx_due = false;
        if let Some(i) = self.next_unasked() {
            self.cur = i;
            self.ask(now);
            return;
        }
        // Some server answered (NXDOMAIN, no A record, SERVFAIL, REFUSED, ...): the dotless
        // name may be known under the search domain. All silent: asking again is no use.
        let answered = self.best.is_some_and(|b| b != ServerError::Timeout);
        if let (true, Some(q)) = (answered, self.qualified.take()) {
            self.qname = q;
            self.push_event(DnsEvent::Qualified);
            self.start_query(now, 0);
            return;
        }
        self.fail();
    }

    fn fail(&mut self) {
        let e = self.best.unwrap_or(ServerError::Timeout);
        self.finish(Err(DnsError::Failed(e)));
    }

    fn finish(&mut self, r: Result<Ipv4Addr, DnsError>) {
        self.result = Some(r);
        self.timer = None;
        self.tx_due = false;
    }

    fn push_event(&mut self, ev: DnsEvent) {
        if let Some(slot) = self.events.iter_mut().find(|s| s.is_none()) {
            *slot = Some(ev);
        } else {
            // full: drop the oldest
            self.events.rotate_left(1);
            self.events[MAX_EVENTS - 1] = Some(ev);
        }
    }
}

/// Leading and trailing spaces and NULs cut (option 66 is often NUL-terminated).
fn trim(s: &[u8]) -> &[u8] {
    let s = match s.iter().position(|b| *b == 0) {
        Some(n) => &s[..n],
        None => s,
    };
    let start = s.iter().position(|b| *b != b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|b| *b != b' ').map_or(start, |e| e + 1);
    &s[start..end]
}
