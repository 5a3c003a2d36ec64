//! Transfer counters and the window advisor (layer `rom/net`): what a [`super::TftpClient`]
//! saw on the wire, cheap to read at any time, and the RFC 7440 window to ask for next time.
//!
//! The advisor's rule (docs/net.md, "Window advisor"): after a transfer of at least
//! [`MIN_BLOCKS`] blocks with a window of `w` in force, count the recoveries it needed (gap
//! ACKs, re-ACKs of duplicates, timer re-ACKs). More than [`SHRINK_PERCENT`] % of its windows
//! needing one halves the window (down to 1: lock-step); a transfer with none doubles it again,
//! up to the configured maximum; anything between keeps it. A server that does not negotiate
//! windowsize teaches nothing.

use super::Negotiated;

/// What a transfer has seen so far. All counters start at 0 and only grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TftpStats {
    /// File bytes delivered to the sink.
    pub bytes: u64,
    /// Blocks accepted in order.
    pub blocks: u64,
    /// ACKs sent (every kind, ACK 0 included).
    pub acks: u64,
    /// ACKs sent because a window was complete.
    pub window_acks: u64,
    /// DATA for a block already held (the server resent it, or the network duplicated it).
    pub duplicates: u64,
    /// DATA beyond a missing block (a gap: loss or reordering).
    pub out_of_order: u64,
    /// Recoveries asked at a gap: ACK of the last in-order block, once per gap (RFC 7440 §4).
    pub gap_acks: u64,
    /// Re-ACKs answering a duplicate when no ACK had gone out for a whole ACK timeout.
    pub dup_acks: u64,
    /// Our timer fired during the transfer (last in-order block ACKed again).
    pub timeouts: u64,
    /// Our timer fired while opening (request sent again).
    pub request_resends: u64,
}

impl TftpStats {
    /// Everything we sent again or sent to ask for a resend: what a user calls "retries".
    pub const fn retries(&self) -> u64 {
        self.gap_acks + self.dup_acks + self.timeouts + self.request_resends
    }

    /// Recovery events during the data phase (the window advisor's measure of loss).
    pub const fn recoveries(&self) -> u64 {
        self.gap_acks + self.dup_acks + self.timeouts
    }
}

/// Transfers shorter than this many blocks leave the advice alone (too little evidence).
pub const MIN_BLOCKS: u64 = 32;
/// More than this share (per cent) of windows needing a recovery halves the window.
pub const SHRINK_PERCENT: u64 = 10;

/// The windowsize to ask for on the next request, learned from finished transfers. Carry one
/// value across the transfers to one server (it is `Copy`; [`super::TftpConfig`] holds one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowAdvisor {
    /// Advised window; 0 = nothing learned yet (ask for the maximum).
    window: u16,
}

/// What [`WindowAdvisor::record`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advice {
    /// Too short, or the server has no windowsize: nothing learned.
    Unchanged,
    /// Clean or mildly lossy: keep this window.
    Keep(u16),
    /// Lossy: ask for this smaller window next time.
    Shrink(u16),
    /// Clean: ask for this larger window next time.
    Grow(u16),
}

impl WindowAdvisor {
    /// Nothing learned yet.
    pub const fn new() -> Self {
        WindowAdvisor { window: 0 }
    }

    /// Restore advice saved with [`WindowAdvisor::advised`] (0 = nothing learned).
    pub const fn from_window(window: u16) -> Self {
        WindowAdvisor { window }
    }

    /// The advised window as learned (0 = nothing learned yet), to keep between boot stages.
    pub const fn advised(&self) -> u16 {
        self.window
    }

    /// The window to ask for, at most `max` (the configured windowsize) and at least 1.
    pub fn window(&self, max: u16) -> u16 {
        let max = max.max(1);
        if self.window == 0 {
            max
        } else {
            self.window.min(max)
        }
    }

    /// Learn from a finished (or failed) transfer that asked for `self.window(max)`.
    pub fn record(&mut self, max: u16, neg: &Negotiated, stats: &TftpStats) -> Advice {
        let asked = self.window(max);
        if stats.blocks < MIN_BLOCKS {
            return Advice::Unchanged;
        }
        let base = if asked == 1 {
            1
        } else if neg.options_accepted && neg.windowsize > 1 {
            neg.windowsize.min(asked)
        } else {
            // The server answered without windowsize: it knows nothing of windows.
            return Advice::Unchanged;
        };
        let windows = stats.blocks.div_ceil(u64::from(base));
        let lossy = stats.recoveries() * 100 > windows * SHRINK_PERCENT;
        let (next, advice): (u16, fn(u16) -> Advice) = if lossy && base > 1 {
            (base / 2, Advice::Shrink)
        } else if stats.recoveries() == 0 && base < max.max(1) {
            (base.saturating_mul(2).min(max), Advice::Grow)
        } else {
            (base, Advice::Keep)
        };
        self.window = next.max(1);
        advice(self.window)
    }
}
