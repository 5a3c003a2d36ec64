//! TFTP read client (layer `rom/net`) as a sans-IO state machine.
//!
//! RFC 1350 (read requests, TID locking §4, final short block §6), RFC 2347 (option
//! negotiation, OACK, ERROR 8), RFC 2348 (`blksize`), RFC 2349 (`tsize`), RFC 7440
//! (`windowsize`: one ACK per window, re-ACK of the last in-order block after a gap), RFC 2349
//! (`timeout`: ask the server for a short resend timer). Fallbacks: a server that ignores
//! options answers with DATA 1 (512-byte blocks, window 1); one that refuses them with ERROR 8
//! gets the request again without options. Blocks past 65535 wrap to 0. Data goes to a [`Sink`]
//! with its file offset.
//!
//! Loss recovery (docs/net.md, "Recovery"): a gap is answered at once with one ACK of the last
//! in-order block; a duplicate is answered only when no ACK went out for a whole ACK timeout
//! (so a server that resends on duplicate ACKs cannot start a Sorcerer's Apprentice cascade);
//! our own timer re-ACKs the last in-order block after a timeout that follows the measured
//! round trip (20..250 ms, below every server's resend timer), doubling, until `read_timeout_ms`
//! passed without a new block.

mod config;
pub mod packet;
pub mod progress;
pub mod window;

pub use config::{Mode, TftpConfig, TftpError, TftpState};
pub use window::{Advice, TftpStats, WindowAdvisor};

use crate::fixed::FixedBuf;
use crate::{Instant, Ipv4Addr, Transmit, UdpMeta};
use packet::{error_code, parse_decimal, OptionsBuf, Repr};

/// TFTP server port.
pub const SERVER_PORT: u16 = 69;
/// Default block size (RFC 1350).
pub const DEFAULT_BLKSIZE: u16 = 512;

/// Receives file data. Offsets are from the start of the file.
pub trait Sink {
    /// Store `data` at `offset`. An error aborts the transfer (ERROR 3 to the server).
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SinkFull>;
    /// The server announced the file size (`tsize`); refuse it to abort early.
    fn announce_size(&mut self, _size: u64) -> Result<(), SinkFull> {
        Ok(())
    }
}

/// The sink has no room for the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SinkFull;

/// What the transfer settled on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// Block size in use.
    pub blksize: u16,
    /// Window size in use.
    pub windowsize: u16,
    /// File size the server announced.
    pub tsize: Option<u64>,
    /// Whether the server accepted options (OACK).
    pub options_accepted: bool,
    /// Server resend timer it agreed to (RFC 2349), in seconds; 0 if not acknowledged.
    pub server_timeout_s: u8,
}

/// An ERROR packet waiting to be sent: to `port` on the server.
#[derive(Clone, Copy, Debug)]
struct PendingError {
    port: u16,
    code: u16,
    msg: &'static [u8],
}

/// A TFTP read transfer.
#[derive(Clone, Debug)]
pub struct TftpClient {
    cfg: TftpConfig,
    mode: Mode,
    server: Ipv4Addr,
    local_port: u16,
    filename: FixedBuf<128>,
    state: TftpState,
    with_options: bool,
    tid: Option<u16>,
    neg: Negotiated,
    /// Index (from 1) of the next block expected.
    expected: u64,
    in_window: u16,
    gap_acked: bool,
    /// The window asked for in the request.
    window: u16,
    stats: TftpStats,
    last_ack_at: Option<Instant>,
    window_ack_due: bool,
    /// When the ACK that asked for the next data went out (cleared on a re-ACK: Karn).
    rtt_probe: Option<Instant>,
    /// Smoothed round trip and its variation, ms (0 = no sample yet).
    srtt: u64,
    rttvar: u64,
    last_progress: Instant,
    send_rrq: bool,
    send_ack: Option<u16>,
    send_error: Option<PendingError>,
    timer: Option<Instant>,
    timeout: u64,
    retries: u8,
    start: Instant,
    now: Instant,
    result: Option<Result<u64, TftpError>>,
}

impl TftpClient {
    /// Start reading `filename` from `server` port 69, from our `local_port`.
    pub fn new(
        now: Instant,
        cfg: TftpConfig,
        mode: Mode,
        server: Ipv4Addr,
        local_port: u16,
        filename: &[u8],
    ) -> Self {
        let window = cfg.request_window();
        let with_options = mode == Mode::SizeOnly
            || cfg.blksize > DEFAULT_BLKSIZE
            || window > 1
            || cfg.server_timeout_s > 0
            || cfg.tsize;
        TftpClient {
            cfg,
            mode,
            server,
            local_port,
            filename: FixedBuf::from_slice(filename),
            state: TftpState::Opening,
            with_options,
            tid: None,
            neg: Negotiated {
                blksize: DEFAULT_BLKSIZE,
                windowsize: 1,
                tsize: None,
                options_accepted: false,
                server_timeout_s: 0,
            },
            expected: 1,
            in_window: 0,
            gap_acked: false,
            window,
            stats: TftpStats::default(),
            last_ack_at: None,
            window_ack_due: false,
            rtt_probe: None,
            srtt: 0,
            rttvar: 0,
            last_progress: now,
            send_rrq: true,
            send_ack: None,
            send_error: None,
            timer: Some(now.plus_ms(cfg.timeout_ms)),
            timeout: cfg.timeout_ms,
            retries: 0,
            start: now,
            now,
            result: None,
        }
    }

    /// Where the transfer is.
    pub fn state(&self) -> TftpState {
        self.state
    }

    /// `Some` when finished: bytes received (for [`Mode::SizeOnly`], the file size) or the error.
    pub fn result(&self) -> Option<Result<u64, TftpError>> {
        self.result
    }

    /// Negotiated parameters so far.
    pub fn negotiated(&self) -> Negotiated {
        self.neg
    }

    /// Bytes delivered to the sink so far.
    pub fn bytes_received(&self) -> u64 {
        self.stats.bytes
    }

    /// Counters so far (bytes, retries, duplicates, gaps, timeouts).
    pub fn stats(&self) -> TftpStats {
        self.stats
    }

    /// When the transfer started (the request was first sent).
    pub fn started(&self) -> Instant {
        self.start
    }

    /// When to call `poll` next.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.send_rrq || self.send_ack.is_some() || self.send_error.is_some() {
            Some(self.now)
        } else {
            self.timer
        }
    }

    /// Stop the transfer: ERROR 0 to the server (if it has answered) and a failed state.
    pub fn abort(&mut self) {
        if let Some(port) = self.tid {
            self.send_error = Some(PendingError {
                port,
                code: error_code::NOT_DEFINED,
                msg: b"Aborted",
            });
        }
        self.finish(Err(TftpError::ReadTimeout));
    }

    fn finish(&mut self, r: Result<u64, TftpError>) {
        self.state = if r.is_ok() {
            TftpState::Done
        } else {
            TftpState::Failed
        };
        self.result = Some(r);
        self.timer = None;
        self.send_rrq = false;
    }

    fn arm(&mut self, now: Instant) {
        self.timer = Some(now.plus_ms(self.timeout));
    }

    /// Run timers, then write the next packet to send into `buf`, if any. Call until `None`.
    pub fn poll(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.now = now;
        self.on_timer(now);
        let dst_port;
        let len = if let Some(e) = self.send_error.take() {
            dst_port = e.port;
            Repr::Error {
                code: e.code,
                msg: e.msg,
            }
            .emit(buf)
            .ok()?
        } else if self.send_rrq {
            self.send_rrq = false;
            dst_port = SERVER_PORT;
            let mut opts = OptionsBuf::new();
            if self.with_options {
                if self.mode == Mode::Read && self.cfg.blksize > DEFAULT_BLKSIZE {
                    opts.push(b"blksize", u64::from(self.cfg.blksize));
                }
                if self.mode == Mode::SizeOnly || self.cfg.tsize {
                    opts.push(b"tsize", 0);
                }
                if self.mode == Mode::Read && self.window > 1 {
                    opts.push(b"windowsize", u64::from(self.window));
                }
                if self.mode == Mode::Read && self.cfg.server_timeout_s > 0 {
                    opts.push(b"timeout", u64::from(self.cfg.server_timeout_s));
                }
            }
            let r = Repr::Rrq {
                filename: self.filename.as_bytes(),
                mode: b"octet",
                options: opts.options(),
            };
            r.emit(buf).ok()?
        } else if let Some(block) = self.send_ack.take() {
            dst_port = self.tid?;
            self.stats.acks += 1;
            if core::mem::take(&mut self.window_ack_due) || block == 0 {
                self.stats.window_acks += u64::from(block != 0);
                self.rtt_probe = Some(now);
            }
            self.last_ack_at = Some(now);
            Repr::Ack { block }.emit(buf).ok()?
        } else {
            return None;
        };
        Some(Transmit {
            src_port: self.local_port,
            dst_ip: self.server,
            dst_port,
            len,
        })
    }

    fn on_timer(&mut self, now: Instant) {
        if matches!(self.state, TftpState::Done | TftpState::Failed) {
            return;
        }
        if self.cfg.total_timeout_ms != 0 && now.since(self.start) >= self.cfg.total_timeout_ms {
            self.fail_with_error(TftpError::ReadTimeout, error_code::NOT_DEFINED, b"Timeout");
            return;
        }
        let Some(t) = self.timer else { return };
        if now < t {
            return;
        }
        let opening = self.state == TftpState::Opening;
        let give_up = if opening {
            self.retries >= self.cfg.retries
        } else {
            now.since(self.last_progress) >= self.cfg.read_timeout_ms
        };
        if give_up {
            let e = if opening {
                TftpError::OpenTimeout
            } else {
                TftpError::ReadTimeout
            };
            self.fail_with_error(e, error_code::NOT_DEFINED, b"Timeout");
            return;
        }
        self.retries += 1;
        self.timeout = (self.timeout * 2).min(self.cfg.max_timeout_ms.max(1));
        self.arm(now);
        self.in_window = 0;
        if opening {
            self.stats.request_resends += 1;
            self.send_rrq = true;
        } else {
            self.stats.timeouts += 1;
            self.rtt_probe = None;
            self.send_ack = Some(self.last_in_order());
        }
    }

    /// RFC 6298 §2 with integer milliseconds: srtt += (r - srtt) / 8, rttvar += (|..| - rttvar) / 4.
    fn rtt_sample(&mut self, r: u64) {
        if self.srtt == 0 {
            self.srtt = r.max(1);
            self.rttvar = r / 2;
        } else {
            let d = self.srtt.abs_diff(r);
            self.rttvar = (3 * self.rttvar + d) / 4;
            self.srtt = (7 * self.srtt + r).div_ceil(8).max(1);
        }
    }

    /// The re-ACK timeout now: `ack_timeout_ms` until a round trip was measured, then
    /// srtt + 4 rttvar within `min_ack_timeout_ms..=ack_timeout_ms`.
    pub fn ack_timeout(&self) -> u64 {
        let hi = self.cfg.ack_timeout_ms.max(1);
        if self.srtt == 0 {
            return hi;
        }
        (self.srtt + 4 * self.rttvar.max(1)).clamp(self.cfg.min_ack_timeout_ms.min(hi), hi)
    }

    fn last_in_order(&self) -> u16 {
        (self.expected.wrapping_sub(1)) as u16
    }

    fn fail_with_error(&mut self, e: TftpError, code: u16, msg: &'static [u8]) {
        if let Some(port) = self.tid {
            self.send_error = Some(PendingError { port, code, msg });
        }
        self.finish(Err(e));
    }

    /// Feed a received UDP datagram; data blocks go to `sink`.
    pub fn handle(&mut self, now: Instant, meta: &UdpMeta, payload: &[u8], sink: &mut dyn Sink) {
        self.now = now;
        if meta.src_ip != self.server || meta.dst_port != self.local_port {
            return;
        }
        if let Some(tid) = self.tid {
            if meta.src_port != tid {
                // RFC 1350 §4: answer a stranger with ERROR 5, keep the transfer going.
                self.send_error = Some(PendingError {
                    port: meta.src_port,
                    code: error_code::UNKNOWN_TID,
                    msg: b"Unknown transfer ID",
                });
                return;
            }
        }
        let Ok(repr) = Repr::parse(payload) else {
            return;
        };
        match (self.state, repr) {
            (TftpState::Opening | TftpState::Transferring, Repr::Error { code, msg }) => {
                if self.state == TftpState::Opening
                    && code == error_code::OPTION_REFUSED
                    && self.with_options
                    && self.mode == Mode::Read
                {
                    // RFC 2347 §2: the server refused our options; ask again without them.
                    self.with_options = false;
                    self.send_rrq = true;
                    self.retries = 0;
                    self.timeout = self.cfg.timeout_ms;
                    self.arm(now);
                    return;
                }
                self.finish(Err(TftpError::Server {
                    code,
                    text: FixedBuf::from_slice(msg),
                }));
            }
            (TftpState::Opening, Repr::Oack { options }) if self.with_options => {
                self.tid = Some(meta.src_port);
                self.on_oack(now, options.iter(), sink);
            }
            (TftpState::Transferring, Repr::Oack { .. }) if self.expected == 1 => {
                // Our ACK 0 was lost.
                self.send_ack = Some(0);
            }
            (TftpState::Opening, Repr::Data { block: 1, data }) => {
                if self.mode == Mode::SizeOnly {
                    self.tid = Some(meta.src_port);
                    self.fail_with_error(TftpError::NoSize, error_code::NOT_DEFINED, b"Size only");
                    return;
                }
                // The server ignored our options (or we sent none): RFC 1350 defaults.
                self.tid = Some(meta.src_port);
                self.neg.blksize = DEFAULT_BLKSIZE;
                self.neg.windowsize = 1;
                self.state = TftpState::Transferring;
                self.on_data(now, 1, data, sink);
            }
            (TftpState::Transferring, Repr::Data { block, data }) => {
                self.on_data(now, block, data, sink)
            }
            (TftpState::Done, Repr::Data { block, .. })
                if self.mode == Mode::Read && block == self.last_in_order() =>
            {
                // Our final ACK was lost; say it again.
                self.send_ack = Some(block);
            }
            _ => {}
        }
    }

    fn on_oack<'a>(
        &mut self,
        now: Instant,
        options: impl Iterator<Item = (&'a [u8], &'a [u8])>,
        sink: &mut dyn Sink,
    ) {
        let mut neg = Negotiated {
            blksize: DEFAULT_BLKSIZE,
            windowsize: 1,
            tsize: None,
            options_accepted: true,
            server_timeout_s: 0,
        };
        for (name, value) in options {
            let v = parse_decimal(value);
            let ok = if name.eq_ignore_ascii_case(b"blksize") && self.mode == Mode::Read {
                match v {
                    Some(n) if (8..=u64::from(self.cfg.blksize)).contains(&n) => {
                        neg.blksize = n as u16;
                        true
                    }
                    _ => false,
                }
            } else if name.eq_ignore_ascii_case(b"windowsize") && self.mode == Mode::Read {
                match v {
                    Some(n) if (1..=u64::from(self.window)).contains(&n) => {
                        neg.windowsize = n as u16;
                        true
                    }
                    _ => false,
                }
            } else if name.eq_ignore_ascii_case(b"timeout")
                && self.mode == Mode::Read
                && self.cfg.server_timeout_s > 0
            {
                match v {
                    Some(n) if (1..=255).contains(&n) => {
                        neg.server_timeout_s = n as u8;
                        true
                    }
                    _ => false,
                }
            } else if name.eq_ignore_ascii_case(b"tsize") {
                neg.tsize = v;
                v.is_some()
            } else {
                false
            };
            if !ok {
                self.fail_with_error(
                    TftpError::BadOack,
                    error_code::OPTION_REFUSED,
                    b"Bad option acknowledgement",
                );
                return;
            }
        }
        self.neg = neg;
        if self.mode == Mode::SizeOnly {
            match neg.tsize {
                Some(size) => {
                    self.fail_with_error(TftpError::NoSize, error_code::NOT_DEFINED, b"Size only");
                    self.result = Some(Ok(size));
                    self.state = TftpState::Done;
                }
                None => {
                    self.fail_with_error(TftpError::NoSize, error_code::NOT_DEFINED, b"Size only")
                }
            }
            return;
        }
        if let Some(size) = neg.tsize {
            if sink.announce_size(size).is_err() {
                self.fail_with_error(TftpError::SinkFull, error_code::DISK_FULL, b"File too big");
                return;
            }
        }
        self.state = TftpState::Transferring;
        self.send_ack = Some(0);
        self.retries = 0;
        self.last_progress = now;
        self.timeout = self.ack_timeout();
        self.arm(now);
    }

    fn on_data(&mut self, now: Instant, block: u16, data: &[u8], sink: &mut dyn Sink) {
        let blksize = usize::from(self.neg.blksize);
        if data.len() > blksize {
            return;
        }
        if block != self.expected as u16 {
            self.out_of_order(now, block);
            return;
        }
        let offset = (self.expected - 1).saturating_mul(blksize as u64);
        if sink.write(offset, data).is_err() {
            self.fail_with_error(TftpError::SinkFull, error_code::DISK_FULL, b"File too big");
            return;
        }
        self.stats.bytes += data.len() as u64;
        self.stats.blocks += 1;
        self.expected += 1;
        self.in_window += 1;
        self.gap_acked = false;
        self.retries = 0;
        self.last_progress = now;
        if let Some(sent) = self.rtt_probe.take() {
            self.rtt_sample(now.since(sent));
        }
        self.timeout = self.ack_timeout();
        self.arm(now);
        if data.len() < blksize {
            self.send_ack = Some(block);
            let total = self.stats.bytes;
            self.finish(Ok(total));
        } else if self.in_window >= self.neg.windowsize {
            self.send_ack = Some(block);
            self.window_ack_due = true;
            self.in_window = 0;
        }
    }

    /// A block other than the next one: a gap (a later block) or a duplicate (an earlier one).
    fn out_of_order(&mut self, now: Instant, block: u16) {
        let ahead = block.wrapping_sub(self.expected as u16);
        if ahead < 0x8000 {
            // RFC 7440 §4: ask for a resend from the gap at once, but once per gap: the rest of
            // the window is still on its way and must not each trigger a resend.
            self.stats.out_of_order += 1;
            if !self.gap_acked {
                self.gap_acked = true;
                self.stats.gap_acks += 1;
                self.send_ack = Some(self.last_in_order());
                self.in_window = 0;
            }
            return;
        }
        // A block we hold: the server resent it (our ACK was lost, its timer fired) or the
        // network duplicated it. Answer at most once per ACK timeout (RFC 1123 §4.2.3.1, the
        // Sorcerer's Apprentice: servers that resend on a duplicate ACK would otherwise send
        // every window twice from here on). Our own timer covers the rest.
        self.stats.duplicates += 1;
        let quiet = self
            .last_ack_at
            .is_none_or(|t| now.since(t) >= self.ack_timeout());
        if quiet && self.send_ack.is_none() {
            self.stats.dup_acks += 1;
            self.send_ack = Some(self.last_in_order());
            self.in_window = 0;
        }
    }
}
