//! The TFTP client on lossy links, in virtual time: seeded peers that behave like dnsmasq 2.90
//! (lock-step, ignores duplicate ACKs, resends on its own whole-second timer: `timeout` 2 s +
//! 1 << backoff/2) and dnsmasq 2.92 (the same, windowed), and like atftpd 0.8.0 (RFC 7440:
//! any ACK at or above the last one acknowledged, a duplicate included, resends from there; a
//! 5 s timer, or the RFC 2349 `timeout` asked). Those behaviours were read in dnsmasq's tftp.c
//! and measured against the real servers on loopback (docs/net.md, "Recovery").
//! Links drop 10 % of datagrams each way, duplicate 1 % and delay 5 % past later ones.
use softpxe_net::tftp::packet::{OptionsBuf, Repr};
use softpxe_net::tftp::*;
use softpxe_net::{Instant, Ipv4Addr, UdpMeta};
use std::collections::BinaryHeap;

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const PORT: u16 = 2070;
const TID: u16 = 40000;
const MIB: usize = 1 << 20;

/// xorshift64*: a tiny deterministic PRNG.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }
}

#[derive(Clone, Copy)]
struct Link {
    loss: u64,
    dup: u64,
    reorder: u64,
}
const LOSSY: Link = Link {
    loss: 100,
    dup: 10,
    reorder: 50,
};

/// A datagram in flight: (arrival time, sequence) ordered earliest first.
#[derive(PartialEq, Eq)]
struct Flight {
    at: u64,
    seq: u64,
    to_client: bool,
    bytes: Vec<u8>,
}
impl Ord for Flight {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}
impl PartialOrd for Flight {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

struct Net {
    rng: Rng,
    link: Link,
    q: BinaryHeap<Flight>,
    seq: u64,
}
impl Net {
    /// Sends with 1 ms latency (plus 0.05 ms per datagram queued behind, like a wire); a delayed
    /// datagram arrives 2..6 ms late, behind later ones.
    fn send(&mut self, now: u64, to_client: bool, bytes: Vec<u8>) {
        if self.rng.chance(self.link.loss) {
            return;
        }
        let copies = if self.rng.chance(self.link.dup) { 2 } else { 1 };
        for _ in 0..copies {
            let late = if self.rng.chance(self.link.reorder) {
                2 + self.rng.next() % 5
            } else {
                0
            };
            self.seq += 1;
            self.q.push(Flight {
                at: now + 1 + late,
                seq: self.seq,
                to_client,
                bytes: bytes.clone(),
            });
        }
    }
}

/// How the simulated server behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// dnsmasq's tftp.c: ACKs below the first unacknowledged block are ignored; resend on a
    /// whole-second timer, `timeout` (2 s, or the option) + 1 << (backoff / 2).
    Dnsmasq { windowsize: bool, timeout_opt: bool },
    /// atftpd 0.8.0: an ACK >= the last acknowledged (duplicates too) resends the window after
    /// it; a fixed timer (5 s, or the option), 5 tries.
    Atftpd,
}

struct Server {
    kind: Kind,
    file: Vec<u8>,
    blk: usize,
    window: u64,
    timeout_s: u64,
    oack: Option<Vec<u8>>,
    /// First block not yet acknowledged (0 = the OACK).
    lastack: u64,
    /// Next block to send.
    block: u64,
    /// dnsmasq: resend time in whole seconds; atftpd: ms of the last send.
    retransmit: u64,
    backoff: u32,
    tries: u32,
    done: bool,
    /// Stop answering (a server that goes away) after this block was sent.
    vanish_after: Option<u64>,
    gone: bool,
    /// Timer resends and the time the server waited before each.
    timer_resends: u64,
    timer_wait_ms: u64,
    last_send_ms: u64,
}

impl Server {
    fn last_block(&self) -> u64 {
        (self.file.len() / self.blk) as u64 + 1
    }

    fn on_rrq(&mut self, now: u64, payload: &[u8], out: &mut Vec<Vec<u8>>) {
        let Ok(Repr::Rrq { options, .. }) = Repr::parse(payload) else {
            panic!("not an RRQ")
        };
        let mut o = OptionsBuf::new();
        let mut any = false;
        for (k, v) in options.iter() {
            any = true;
            let v: u64 = std::str::from_utf8(v).unwrap().parse().unwrap();
            let (windowsize, timeout_opt) = match self.kind {
                Kind::Dnsmasq {
                    windowsize,
                    timeout_opt,
                } => (windowsize, timeout_opt),
                Kind::Atftpd => (true, true),
            };
            if k == b"blksize" {
                self.blk = v.min(1468) as usize;
                o.push(b"blksize", self.blk as u64);
            } else if k == b"tsize" {
                o.push(b"tsize", self.file.len() as u64);
            } else if k == b"windowsize" && windowsize {
                self.window = v.min(32);
                o.push(b"windowsize", self.window);
            } else if k == b"timeout" && timeout_opt {
                self.timeout_s = v;
                o.push(b"timeout", v);
            }
        }
        if any {
            self.oack = Some(pkt(Repr::Oack {
                options: o.options(),
            }));
            self.lastack = 0;
        }
        self.retransmit = now / 1000;
        match self.kind {
            Kind::Dnsmasq { .. } => self.timer(now, out, false),
            Kind::Atftpd => self.send_window(now, out),
        }
    }

    fn block_bytes(&self, b: u64) -> Vec<u8> {
        if b == 0 {
            return self.oack.clone().unwrap();
        }
        let i = (b - 1) as usize * self.blk;
        let end = (i + self.blk).min(self.file.len());
        pkt(Repr::Data {
            block: b as u16,
            data: &self.file[i.min(end)..end],
        })
    }

    fn send_window(&mut self, now: u64, out: &mut Vec<Vec<u8>>) {
        self.block = self.lastack;
        let win = if self.block == 0 { 1 } else { self.window };
        for _ in 0..win {
            if self.block > self.last_block() {
                break;
            }
            if self.vanish_after.is_some_and(|v| self.block > v) {
                self.gone = true;
                return;
            }
            out.push(self.block_bytes(self.block));
            self.block += 1;
        }
        self.last_send_ms = now;
    }

    /// The 32-bit block an ACK means: the one nearest the last block sent.
    fn widen(&self, b: u16) -> u64 {
        let base = self.block.saturating_sub(0x8000);
        let mut n = (base & !0xffff) | u64::from(b);
        if n < base {
            n += 0x10000;
        }
        n
    }

    fn on_ack(&mut self, now: u64, b: u16, out: &mut Vec<Vec<u8>>) {
        if self.gone {
            return;
        }
        let b = self.widen(b);
        match self.kind {
            Kind::Dnsmasq { .. } => {
                if b >= self.lastack && b <= self.block {
                    self.lastack = b + 1;
                    self.retransmit = now / 1000;
                    self.backoff = 0;
                    self.timer(now, out, false);
                }
            }
            Kind::Atftpd => {
                if b + 1 >= self.lastack && b < self.block {
                    self.lastack = b + 1;
                    self.tries = 0;
                    self.send_window(now, out);
                }
            }
        }
        if self.lastack > self.last_block() {
            self.done = true;
        }
    }

    fn timer(&mut self, now: u64, out: &mut Vec<Vec<u8>>, by_timer: bool) {
        if self.done {
            return;
        }
        let fire = match self.kind {
            Kind::Dnsmasq { .. } => now / 1000 >= self.retransmit,
            Kind::Atftpd => now >= self.last_send_ms + self.timeout_s * 1000,
        };
        if !fire || self.gone {
            return;
        }
        if by_timer {
            self.timer_resends += 1;
            self.timer_wait_ms += now - self.last_send_ms;
        }
        match self.kind {
            Kind::Dnsmasq { .. } => {
                self.retransmit += self.timeout_s + (1 << (self.backoff / 2));
                self.backoff += 1;
            }
            Kind::Atftpd => {
                self.tries += 1;
                if self.tries > 5 {
                    self.done = true;
                    return;
                }
            }
        }
        self.send_window(now, out);
    }

    fn next_timer(&self) -> u64 {
        match self.kind {
            Kind::Dnsmasq { .. } => self.retransmit * 1000,
            Kind::Atftpd => self.last_send_ms + self.timeout_s * 1000,
        }
    }
}

fn pkt(r: Repr) -> Vec<u8> {
    let mut b = vec![0u8; 1600];
    let n = r.emit(&mut b).unwrap();
    b.truncate(n);
    b
}

struct Mem(Vec<u8>);
impl Sink for Mem {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SinkFull> {
        let o = offset as usize;
        if self.0.len() < o + data.len() {
            self.0.resize(o + data.len(), 0);
        }
        self.0[o..o + data.len()].copy_from_slice(data);
        Ok(())
    }
}

struct Outcome {
    result: Result<u64, TftpError>,
    ms: u64,
    stats: TftpStats,
    neg: Negotiated,
    server_timer_resends: u64,
    server_timer_wait_ms: u64,
    data_ok: bool,
    /// When the last new block arrived.
    last_block_ms: u64,
    client: TftpClient,
}

/// Runs one transfer of `size` bytes to its end (or 3 virtual hours).
fn run(
    kind: Kind,
    cfg: TftpConfig,
    size: usize,
    link: Link,
    seed: u64,
    vanish: Option<u64>,
) -> Outcome {
    let mut rng = Rng(seed | 1);
    let file: Vec<u8> = (0..size).map(|_| rng.next() as u8).collect();
    let mut net = Net {
        rng,
        link,
        q: BinaryHeap::new(),
        seq: 0,
    };
    let mut srv = Server {
        kind,
        file: file.clone(),
        blk: 512,
        window: 1,
        timeout_s: if kind == Kind::Atftpd { 5 } else { 2 },
        oack: None,
        lastack: 1,
        block: 1,
        retransmit: 0,
        backoff: 1,
        tries: 0,
        done: false,
        vanish_after: vanish,
        gone: false,
        timer_resends: 0,
        timer_wait_ms: 0,
        last_send_ms: 0,
    };
    let mut c = TftpClient::new(Instant(0), cfg, Mode::Read, SERVER, PORT, b"f");
    let mut sink = Mem(Vec::with_capacity(size));
    let mut buf = [0u8; 1600];
    let mut now = 0u64;
    let mut started = false;
    let meta = UdpMeta {
        src_ip: SERVER,
        src_port: TID,
        dst_ip: CLIENT,
        dst_port: PORT,
    };
    let mut steps = 0u64;
    let mut last_block_ms = 0;
    while now < 3 * 3_600_000 {
        steps += 1;
        assert!(
            steps < 50_000_000,
            "simulation stuck at {now} ms: {:?}",
            c.stats()
        );
        while let Some(t) = c.poll(Instant(now), &mut buf) {
            net.send(now, false, buf[..t.len].to_vec());
        }
        if matches!(c.state(), TftpState::Done | TftpState::Failed) {
            break;
        }
        let mut out = vec![];
        if started {
            srv.timer(now, &mut out, true);
        }
        for p in out.drain(..) {
            net.send(now, true, p);
        }
        // Next event: a datagram, the client's deadline or the server's timer.
        let mut next = c.next_deadline().map_or(u64::MAX, |d| d.0);
        if started && !srv.done && !srv.gone {
            next = next.min(srv.next_timer());
        }
        if let Some(f) = net.q.peek() {
            next = next.min(f.at);
        }
        assert!(next != u64::MAX, "nothing left to happen");
        now = now.max(next);
        while net.q.peek().is_some_and(|f| f.at <= now) {
            let f = net.q.pop().unwrap();
            if f.to_client {
                let before = c.stats().blocks;
                c.handle(Instant(now), &meta, &f.bytes, &mut sink);
                if c.stats().blocks != before {
                    last_block_ms = now;
                }
            } else {
                match Repr::parse(&f.bytes).unwrap() {
                    Repr::Rrq { .. } if !started => {
                        started = true;
                        srv.on_rrq(now, &f.bytes, &mut out);
                    }
                    Repr::Ack { block } if !srv.done => srv.on_ack(now, block, &mut out),
                    _ => {}
                }
            }
            for p in out.drain(..) {
                net.send(now, true, p);
            }
        }
    }
    Outcome {
        result: c.result().unwrap_or(Err(TftpError::ReadTimeout)),
        ms: now,
        stats: c.stats(),
        neg: c.negotiated(),
        server_timer_resends: srv.timer_resends,
        server_timer_wait_ms: srv.timer_wait_ms,
        data_ok: sink.0 == file,
        last_block_ms,
        client: c,
    }
}

fn report(name: &str, o: &Outcome) {
    eprintln!(
        "{name}: {:?} in {} ms virtual, window {}, client {:?}; server timer resends {} \
         (waited {} ms)",
        o.result.map_err(|e| e.pxe_code()),
        o.ms,
        o.neg.windowsize,
        o.stats,
        o.server_timer_resends,
        o.server_timer_wait_ms
    );
}

/// 16 MiB arrives intact; the time not explained by the server's own resend timer (which the
/// client cannot shorten: dnsmasq ignores the duplicate ACKs that would) stays small.
fn lossy_16mib(kind: Kind, window: u16, seed: u64) -> Outcome {
    let cfg = TftpConfig {
        windowsize: window,
        ..TftpConfig::default()
    };
    let o = run(kind, cfg, 16 * MIB, LOSSY, seed, None);
    report(&format!("{kind:?} window {window}"), &o);
    assert_eq!(o.result, Ok(16 * MIB as u64));
    assert!(o.data_ok, "data differs");
    // Lossless, 16 MiB takes a few virtual seconds (1 ms per window round trip). What is left
    // beyond the server's timer waits is the client's doing: under a third of the server's.
    let own = o.ms.saturating_sub(o.server_timer_wait_ms);
    assert!(
        own <= 60_000 + o.server_timer_wait_ms / 3,
        "client-side time {own} ms vs server timer waits {} ms",
        o.server_timer_wait_ms
    );
    o
}

#[test]
fn dnsmasq_lockstep_16mib_at_10_percent_loss() {
    let o = lossy_16mib(
        Kind::Dnsmasq {
            windowsize: false,
            timeout_opt: false,
        },
        8,
        7,
    );
    assert_eq!(o.neg.windowsize, 1);
    // Every lost DATA costs one dnsmasq timer; a lost ACK costs one client timeout (20..250 ms),
    // never a server timer: so the server's timer resends stay near the DATA losses (~10 %).
    let blocks = o.stats.blocks;
    assert!(
        o.server_timer_resends * 100 < blocks * 14,
        "{} timer resends",
        o.server_timer_resends
    );
    // dnsmasq's own timer (2..3 s per lost DATA, ~1140 of them) is what this costs.
    assert!(o.ms < 90 * 60_000);
}

#[test]
fn dnsmasq_windowed_16mib_at_10_percent_loss() {
    let o = lossy_16mib(
        Kind::Dnsmasq {
            windowsize: true,
            timeout_opt: true,
        },
        8,
        11,
    );
    assert_eq!((o.neg.windowsize, o.neg.server_timeout_s), (8, 1));
    assert!(o.stats.gap_acks > 0 && o.stats.duplicates > 0);
}

#[test]
fn atftpd_windowed_16mib_at_10_percent_loss() {
    let o = lossy_16mib(Kind::Atftpd, 8, 13);
    assert_eq!(o.neg.windowsize, 8);
    // atftpd resends from any ACK, so the client recovers every loss itself: the server's timer
    // (1 s, asked with `timeout`) should almost never be what moves the transfer on.
    assert!(
        o.server_timer_resends * 50 < o.stats.window_acks,
        "{} timer resends for {} windows",
        o.server_timer_resends,
        o.stats.window_acks
    );
    // Duplicates are not answered one by one (no Sorcerer's Apprentice with a server that
    // resends on duplicate ACKs).
    assert!(
        o.stats.dup_acks * 4 < o.stats.duplicates.max(1),
        "{:?}",
        o.stats
    );
    assert!(o.ms < 10 * 60_000);
}

#[test]
fn atftpd_lossless_is_fast_and_clean() {
    let cfg = TftpConfig::default();
    let o = run(
        Kind::Atftpd,
        cfg,
        4 * MIB,
        Link {
            loss: 0,
            dup: 0,
            reorder: 0,
        },
        3,
        None,
    );
    report("atftpd lossless", &o);
    assert_eq!(o.result, Ok(4 * MIB as u64));
    assert!(o.data_ok);
    assert_eq!(o.stats.retries(), 0, "{:?}", o.stats);
    assert_eq!(o.server_timer_resends, 0);
}

#[test]
fn server_vanishing_mid_transfer_is_e35_within_the_budget() {
    for kind in [
        Kind::Atftpd,
        Kind::Dnsmasq {
            windowsize: false,
            timeout_opt: false,
        },
    ] {
        let cfg = TftpConfig::default();
        let o = run(kind, cfg, 4 * MIB, LOSSY, 5, Some(500));
        report(&format!("{kind:?} vanishing"), &o);
        assert_eq!(o.result, Err(TftpError::ReadTimeout), "{kind:?}");
        assert_eq!(o.client.state(), TftpState::Failed);
        // Given up when the timer fires past read_timeout_ms since the last block, at most one
        // timer (max_timeout_ms) later.
        let stall = o.ms - o.last_block_ms;
        let budget = cfg.read_timeout_ms + cfg.max_timeout_ms;
        assert!(
            stall <= budget,
            "{kind:?}: gave up {stall} ms after the last block"
        );
        assert!(
            stall >= cfg.read_timeout_ms,
            "{kind:?}: gave up too soon: {stall} ms"
        );
        assert_eq!(o.stats.blocks, 500);
        assert!(o.stats.timeouts >= 5, "{:?}", o.stats);
    }
}

#[test]
fn server_silent_from_the_start_is_e32() {
    let cfg = TftpConfig::default();
    let mut c = TftpClient::new(Instant(0), cfg, Mode::Read, SERVER, PORT, b"f");
    let mut buf = [0u8; 1600];
    let mut now = 0;
    while c.state() == TftpState::Opening {
        while c.poll(Instant(now), &mut buf).is_some() {}
        now = c.next_deadline().map_or(now + 1, |d| d.0.max(now));
        assert!(now < 120_000, "still opening at {now} ms");
    }
    assert_eq!(c.result(), Some(Err(TftpError::OpenTimeout)));
    assert_eq!(c.stats().request_resends, u64::from(cfg.retries));
}

#[test]
fn window_advisor_shrinks_after_loss_and_grows_back() {
    let mut cfg = TftpConfig {
        windowsize: 16,
        ..TftpConfig::default()
    };
    assert_eq!(cfg.request_window(), 16);
    let o = run(Kind::Atftpd, cfg, MIB, LOSSY, 21, None);
    assert!(o.data_ok);
    assert_eq!(cfg.learn(&o.client), Advice::Shrink(8));
    assert_eq!(cfg.request_window(), 8);
    // The next request asks for the smaller window, and loss keeps shrinking it.
    let o = run(Kind::Atftpd, cfg, MIB, LOSSY, 22, None);
    assert_eq!(o.neg.windowsize, 8);
    assert_eq!(cfg.learn(&o.client), Advice::Shrink(4));
    // Clean transfers double it again, up to the configured maximum.
    let clean = Link {
        loss: 0,
        dup: 0,
        reorder: 0,
    };
    for want in [8, 16, 16] {
        let o = run(Kind::Atftpd, cfg, MIB, clean, 23, None);
        let a = cfg.learn(&o.client);
        assert_eq!(cfg.request_window(), want, "{a:?}");
    }
    // A server without windowsize (dnsmasq 2.90) teaches nothing; nor does a tiny file.
    let dnsmasq = Kind::Dnsmasq {
        windowsize: false,
        timeout_opt: false,
    };
    let o = run(dnsmasq, cfg, MIB, LOSSY, 24, None);
    assert_eq!(cfg.learn(&o.client), Advice::Unchanged);
    let o = run(Kind::Atftpd, cfg, 4000, LOSSY, 25, None);
    assert_eq!(cfg.learn(&o.client), Advice::Unchanged);
    assert_eq!(cfg.request_window(), 16);
}
