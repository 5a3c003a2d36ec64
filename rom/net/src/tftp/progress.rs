//! Progress and summary text for TFTP transfers (layer `rom/net`, host-testable): sizes and
//! rates in sensible units, the in-place progress line and when to redraw it. No allocation:
//! everything is a `Display` value the firmware prints with `print!`.

use super::TftpStats;
use core::fmt::{self, Display, Formatter, Write};

/// Width the progress line is padded to: one line of an 80-column screen without wrapping.
pub const LINE_WIDTH: usize = 78;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

/// `value / unit` with one decimal, rounded down: "12.3".
fn one_decimal(f: &mut Formatter<'_>, value: u64, unit: u64) -> fmt::Result {
    let tenths = value.saturating_mul(10) / unit;
    write!(f, "{}.{}", tenths / 10, tenths % 10)
}

/// A byte count: "512 B", "12.3 KiB", "4.0 MiB".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl Display for Bytes {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n < KIB {
            write!(f, "{n} B")
        } else if n < MIB {
            one_decimal(f, n, KIB)?;
            f.write_str(" KiB")
        } else {
            one_decimal(f, n, MIB)?;
            f.write_str(" MiB")
        }
    }
}

/// A transfer rate, `bytes` in `ms` milliseconds: "830 B/s", "23.0 KiB/s", "11.8 MiB/s".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Bytes moved.
    pub bytes: u64,
    /// Milliseconds it took (0 counts as 1).
    pub ms: u64,
}

impl Rate {
    /// Bytes per second, rounded down.
    pub const fn per_second(&self) -> u64 {
        let ms = if self.ms == 0 { 1 } else { self.ms };
        self.bytes.saturating_mul(1000) / ms
    }
}

impl Display for Rate {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", Bytes(self.per_second()))
    }
}

/// The retry part of a summary: "" for a clean transfer, else
/// ", 12 retries (3 timeouts, 5 gaps, 4 duplicates re-ACKed)".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retries(pub TftpStats);

impl Display for Retries {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        let n = s.retries();
        if n == 0 {
            return Ok(());
        }
        write!(
            f,
            ", {n} {} ({} timeouts, {} gaps, {} duplicates re-ACKed",
            if n == 1 { "retry" } else { "retries" },
            s.timeouts + s.request_resends,
            s.gap_acks,
            s.dup_acks
        )?;
        f.write_str(")")
    }
}

/// The in-place progress line (print it after a `\r`), padded with spaces to [`LINE_WIDTH`] so
/// a shorter line overwrites a longer one: `TFTP: 1.2 MiB of 4.0 MiB (30%) 310.5 KiB/s, 7 retries`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    /// Bytes so far.
    pub bytes: u64,
    /// File size, if the server announced it (`tsize`).
    pub tsize: Option<u64>,
    /// Milliseconds since the transfer started.
    pub ms: u64,
    /// Retries so far ([`TftpStats::retries`]).
    pub retries: u64,
}

impl Line {
    /// The line for a client's counters after `ms` milliseconds.
    pub fn new(stats: &TftpStats, tsize: Option<u64>, ms: u64) -> Self {
        Line {
            bytes: stats.bytes,
            tsize,
            ms,
            retries: stats.retries(),
        }
    }
}

/// Counts what goes through, up to a limit (the rest is dropped).
struct Clipped<'a, 'b> {
    out: &'a mut Formatter<'b>,
    used: usize,
}

impl Write for Clipped<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.used >= LINE_WIDTH {
                break;
            }
            self.out.write_char(c)?;
            self.used += 1;
        }
        Ok(())
    }
}

impl Display for Line {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut w = Clipped { out: f, used: 0 };
        write!(w, "TFTP: {}", Bytes(self.bytes))?;
        if let Some(size) = self.tsize.filter(|&s| s > 0) {
            let pct = (self.bytes.min(size).saturating_mul(100) / size).min(100);
            write!(w, " of {} ({pct}%)", Bytes(size))?;
        }
        write!(
            w,
            ", {}",
            Rate {
                bytes: self.bytes,
                ms: self.ms
            }
        )?;
        match self.retries {
            0 => {}
            1 => w.write_str(", 1 retry")?,
            n => write!(w, ", {n} retries")?,
        }
        while w.used < LINE_WIDTH {
            w.out.write_char(' ')?;
            w.used += 1;
        }
        Ok(())
    }
}

/// When to draw the progress line: not for transfers that end within `first_ms`, then every
/// `every_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticker {
    next_ms: u64,
    every_ms: u64,
    shown: bool,
}

/// No progress line for transfers shorter than this.
pub const FIRST_MS: u64 = 1500;
/// Redraw interval (about twice a second).
pub const EVERY_MS: u64 = 500;

impl Ticker {
    /// A transfer that started at `start_ms`.
    pub const fn new(start_ms: u64, first_ms: u64, every_ms: u64) -> Self {
        Ticker {
            next_ms: start_ms.saturating_add(first_ms),
            every_ms,
            shown: false,
        }
    }

    /// Whether the line is due at `now_ms`; if so, the next one is `every_ms` later.
    pub fn due(&mut self, now_ms: u64) -> bool {
        if now_ms < self.next_ms {
            return false;
        }
        self.next_ms = now_ms.saturating_add(self.every_ms.max(1));
        self.shown = true;
        true
    }

    /// Whether the line has been drawn at least once (end it with a newline then).
    pub const fn shown(&self) -> bool {
        self.shown
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn units() {
        assert_eq!(format!("{}", Bytes(0)), "0 B");
        assert_eq!(format!("{}", Bytes(1023)), "1023 B");
        assert_eq!(format!("{}", Bytes(1024)), "1.0 KiB");
        assert_eq!(format!("{}", Bytes(1536)), "1.5 KiB");
        assert_eq!(format!("{}", Bytes(4 << 20)), "4.0 MiB");
        assert_eq!(format!("{}", Bytes(16 << 30)), "16384.0 MiB");
        assert!(!format!("{}", Bytes(u64::MAX)).is_empty());
    }

    #[test]
    fn rates_that_are_slow_are_not_zero() {
        // The measured lossy case: 4 MiB in 182 s was printed "0.0 MiB/s".
        assert_eq!(
            format!(
                "{}",
                Rate {
                    bytes: 4 << 20,
                    ms: 182_000
                }
            ),
            "22.5 KiB/s"
        );
        assert_eq!(
            format!(
                "{}",
                Rate {
                    bytes: 500,
                    ms: 1000
                }
            ),
            "500 B/s"
        );
        assert_eq!(
            format!(
                "{}",
                Rate {
                    bytes: 16 << 20,
                    ms: 1365
                }
            ),
            "11.7 MiB/s"
        );
        assert_eq!(format!("{}", Rate { bytes: 10, ms: 0 }), "9.7 KiB/s");
        assert_eq!(
            Rate {
                bytes: u64::MAX,
                ms: 1
            }
            .per_second(),
            u64::MAX
        );
    }

    #[test]
    fn line_is_padded_and_clipped() {
        let l = Line {
            bytes: 3 << 20,
            tsize: Some(4 << 20),
            ms: 10_000,
            retries: 7,
        };
        let s = format!("{l}");
        assert!(
            s.starts_with("TFTP: 3.0 MiB of 4.0 MiB (75%), 307.1 KiB/s, 7 retries"),
            "{s}"
        );
        assert_eq!(s.len(), LINE_WIDTH);
        let one = format!(
            "{}",
            Line {
                bytes: 10,
                tsize: None,
                ms: 1000,
                retries: 1
            }
        );
        assert!(one.starts_with("TFTP: 10 B, 10 B/s, 1 retry "), "{one}");
        let huge = Line {
            bytes: u64::MAX,
            tsize: Some(u64::MAX),
            ms: 1,
            retries: u64::MAX,
        };
        assert_eq!(format!("{huge}").chars().count(), LINE_WIDTH);
    }

    #[test]
    fn retries_summary() {
        assert_eq!(format!("{}", Retries(TftpStats::default())), "");
        let s = TftpStats {
            timeouts: 2,
            gap_acks: 3,
            dup_acks: 1,
            ..TftpStats::default()
        };
        assert_eq!(
            format!("{}", Retries(s)),
            ", 6 retries (2 timeouts, 3 gaps, 1 duplicates re-ACKed)"
        );
    }

    #[test]
    fn ticker_waits_then_repeats() {
        let mut t = Ticker::new(1000, FIRST_MS, EVERY_MS);
        assert!(!t.due(2000));
        assert!(!t.shown());
        assert!(t.due(2500));
        assert!(!t.due(2999));
        assert!(t.due(3000));
        assert!(t.shown());
    }
}
