//! TFTP transfer settings, modes, states and errors (layer `rom/net`; PXE 2.1 error codes).

use super::{Advice, TftpClient, WindowAdvisor};
use crate::fixed::FixedBuf;

/// Transfer settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TftpConfig {
    /// Largest block size to ask for (RFC 2348; 1468 for a 1500-byte MTU). 512 = don't ask.
    pub blksize: u16,
    /// Largest window size to ask for (RFC 7440); `advisor` may ask for less. 1 = don't ask.
    pub windowsize: u16,
    /// What earlier transfers taught about the window (update it with [`TftpConfig::learn`]).
    pub advisor: WindowAdvisor,
    /// Ask for `tsize`.
    pub tsize: bool,
    /// Server resend timer to ask for, in seconds (RFC 2349 `timeout`, 1..=255). 0 = don't ask.
    pub server_timeout_s: u8,
    /// First request (RRQ) retransmission timeout, doubled on each retry up to `max_timeout_ms`.
    pub timeout_ms: u64,
    /// Re-ACK timeout during the transfer before any round trip was measured; afterwards the
    /// timeout follows the measured round trip (RFC 6298 style, srtt + 4 rttvar), between
    /// `min_ack_timeout_ms` and this. Doubled on each retry up to `max_timeout_ms`.
    pub ack_timeout_ms: u64,
    /// Shortest re-ACK timeout.
    pub min_ack_timeout_ms: u64,
    /// Retransmission timeout cap.
    pub max_timeout_ms: u64,
    /// Requests sent again before giving up with PXE-E32.
    pub retries: u8,
    /// Give up with PXE-E35 when the timer fires this long after the last new block.
    pub read_timeout_ms: u64,
    /// Give up when the whole transfer takes longer than this (0 = no limit).
    pub total_timeout_ms: u64,
}

impl Default for TftpConfig {
    fn default() -> Self {
        TftpConfig {
            blksize: 1468,
            windowsize: 8,
            advisor: WindowAdvisor::new(),
            tsize: true,
            server_timeout_s: 1,
            timeout_ms: 1000,
            ack_timeout_ms: 250,
            min_ack_timeout_ms: 20,
            max_timeout_ms: 8000,
            retries: 6,
            read_timeout_ms: 30_000,
            total_timeout_ms: 0,
        }
    }
}

impl TftpConfig {
    /// The window the next request asks for: the advisor's, at most `windowsize`.
    pub fn request_window(&self) -> u16 {
        self.advisor.window(self.windowsize)
    }

    /// Update the window advice from a finished (or failed) transfer made with this config.
    pub fn learn(&mut self, client: &TftpClient) -> Advice {
        self.advisor
            .record(self.windowsize, &client.negotiated(), &client.stats())
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
