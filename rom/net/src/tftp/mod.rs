//! TFTP read client (layer `rom/net`) as a sans-IO state machine.
//!
//! RFC 1350 (read requests, TID locking §4, final short block §6), RFC 2347 (option
//! negotiation, OACK, ERROR 8), RFC 2348 (`blksize`), RFC 2349 (`tsize`), RFC 7440
//! (`windowsize`: one ACK per window, re-ACK of the last in-order block after a gap).
//! Fallbacks: a server that ignores options answers with DATA 1 (512-byte blocks, window 1);
//! one that refuses them with ERROR 8 gets the request again without options. Blocks past 65535
//! wrap to 0. Data goes to a [`Sink`] with its file offset.

pub mod packet;

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

/// Transfer settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TftpConfig {
    /// Largest block size to ask for (RFC 2348; 1468 for a 1500-byte MTU). 512 = don't ask.
    pub blksize: u16,
    /// Window size to ask for (RFC 7440). 1 = don't ask.
    pub windowsize: u16,
    /// Ask for `tsize`.
    pub tsize: bool,
    /// First retransmission timeout, doubled on each retry up to `max_timeout_ms`.
    pub timeout_ms: u64,
    /// Retransmission timeout cap.
    pub max_timeout_ms: u64,
    /// Retransmissions before giving up (open: PXE-E32, transfer: PXE-E35).
    pub retries: u8,
    /// Give up when the whole transfer takes longer than this (0 = no limit).
    pub total_timeout_ms: u64,
}

impl Default for TftpConfig {
    fn default() -> Self {
        TftpConfig {
            blksize: 1468,
            windowsize: 8,
            tsize: true,
            timeout_ms: 1000,
            max_timeout_ms: 8000,
            retries: 6,
            total_timeout_ms: 0,
        }
    }
}

/// Read the file, or only learn its size (PXE TFTP_GET_FSIZE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Fetch the whole file into the sink.
    Read,
    /// Request with `tsize` only, then abort with ERROR 0 after the OACK.
    SizeOnly,
}

/// Where the transfer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TftpState {
    /// Request sent, waiting for OACK, DATA 1 or ERROR.
    Opening,
    /// Receiving data.
    Transferring,
    /// Finished; see [`TftpClient::result`].
    Done,
    /// Failed; see [`TftpClient::result`].
    Failed,
}

/// Why a transfer failed, with its PXE code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TftpError {
    /// PXE-E32: no answer to the request.
    OpenTimeout,
    /// PXE-E35: the server stopped sending (or the total time limit passed).
    ReadTimeout,
    /// PXE-E3B: the server sent an ERROR packet.
    Server {
        /// TFTP error code.
        code: u16,
        /// Its message.
        text: FixedBuf<160>,
    },
    /// PXE-E3B: the OACK could not be accepted (bad value or unrequested option).
    BadOack,
    /// PXE-E3B: size requested but the server did not report `tsize`.
    NoSize,
    /// PXE-E79: the sink refused the data (file too big).
    SinkFull,
}

impl TftpError {
    /// The PXE message code.
    pub const fn pxe_code(&self) -> &'static str {
        match self {
            TftpError::OpenTimeout => "PXE-E32",
            TftpError::ReadTimeout => "PXE-E35",
            TftpError::Server { .. } | TftpError::BadOack | TftpError::NoSize => "PXE-E3B",
            TftpError::SinkFull => "PXE-E79",
        }
    }
}

impl core::fmt::Display for TftpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: ", self.pxe_code())?;
        match self {
            TftpError::OpenTimeout => f.write_str("TFTP open timeout"),
            TftpError::ReadTimeout => f.write_str("TFTP read timeout"),
            TftpError::Server { code, text } => write!(f, "TFTP error {code}: {text}"),
            TftpError::BadOack => f.write_str("TFTP option acknowledgement not acceptable"),
            TftpError::NoSize => f.write_str("TFTP server did not report the file size"),
            TftpError::SinkFull => f.write_str("file too big for the space given"),
        }
    }
}

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
    bytes: u64,
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
        let with_options = mode == Mode::SizeOnly
            || cfg.blksize > DEFAULT_BLKSIZE
            || cfg.windowsize > 1
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
            },
            expected: 1,
            in_window: 0,
            gap_acked: false,
            bytes: 0,
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
        self.bytes
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
                if self.mode == Mode::Read && self.cfg.windowsize > 1 {
                    opts.push(b"windowsize", u64::from(self.cfg.windowsize));
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
        if self.retries >= self.cfg.retries {
            let e = if self.state == TftpState::Opening {
                TftpError::OpenTimeout
            } else {
                TftpError::ReadTimeout
            };
            self.fail_with_error(e, error_code::NOT_DEFINED, b"Timeout");
            return;
        }
        self.retries += 1;
        self.timeout = (self.timeout * 2).min(self.cfg.max_timeout_ms);
        self.arm(now);
        self.in_window = 0;
        if self.state == TftpState::Opening {
            self.send_rrq = true;
        } else {
            self.send_ack = Some(self.last_in_order());
        }
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
                    Some(n) if (1..=u64::from(self.cfg.windowsize)).contains(&n) => {
                        neg.windowsize = n as u16;
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
        self.timeout = self.cfg.timeout_ms;
        self.arm(now);
    }

    fn on_data(&mut self, now: Instant, block: u16, data: &[u8], sink: &mut dyn Sink) {
        let blksize = usize::from(self.neg.blksize);
        if data.len() > blksize {
            return;
        }
        if block != self.expected as u16 {
            // Duplicate or out of order: re-ACK the last in-order block, once per gap (RFC 7440
            // §4), or every time with a window of one (RFC 1350: our ACK was lost).
            if !self.gap_acked || self.neg.windowsize == 1 {
                self.send_ack = Some(self.last_in_order());
                self.gap_acked = true;
                self.in_window = 0;
            }
            return;
        }
        let offset = (self.expected - 1).saturating_mul(blksize as u64);
        if sink.write(offset, data).is_err() {
            self.fail_with_error(TftpError::SinkFull, error_code::DISK_FULL, b"File too big");
            return;
        }
        self.bytes += data.len() as u64;
        self.expected += 1;
        self.in_window += 1;
        self.gap_acked = false;
        self.retries = 0;
        self.timeout = self.cfg.timeout_ms;
        self.arm(now);
        if data.len() < blksize {
            self.send_ack = Some(block);
            let total = self.bytes;
            self.finish(Ok(total));
        } else if self.in_window >= self.neg.windowsize {
            self.send_ack = Some(block);
            self.in_window = 0;
        }
    }
}
