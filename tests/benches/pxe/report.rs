//! One record per bench row, written as target/bench/pxe.json (an array of objects; hand-made
//! JSON, no serde in this crate): what was measured, the median and every run.
use softpxe_tests::lan::{DirStats, LinkStats};
use std::fmt::Write as _;

/// A row: `metric` of `client` fetching `size` bytes from `server` on a link with `loss`.
#[derive(Clone, Debug)]
pub struct Record {
    /// `boot`, `tftp` (the clean LAN), `loss-nbp`, `loss-pxelinux`, `loss-file`.
    pub section: &'static str,
    pub client: String,
    pub server: String,
    /// Configured loss each way (0.0..1.0).
    pub loss: f64,
    /// Bytes of the file the row times (the NBP, the large file; 0 when it does not apply).
    pub size: u64,
    /// `power_on_to_nbp_s`, `nbp_tftp_s`, `tftp_s`.
    pub metric: &'static str,
    /// Seconds, one per run, in run order.
    pub runs: Vec<f64>,
    /// The lossy link's counters summed over the runs (none on a plain tap).
    pub link: Option<LinkStats>,
    /// Runs that failed (what, and the first lines of the error); not in `runs`.
    pub failed: Vec<String>,
}

/// The median (the middle of the sorted values; the upper middle for an even count).
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

impl Record {
    pub fn seconds(&self) -> f64 {
        median(&self.runs)
    }

    fn json(&self) -> String {
        let runs: Vec<String> = self.runs.iter().map(|r| format!("{r:.3}")).collect();
        let mut s = format!(
            "{{\"section\":{},\"client\":{},\"server\":{},\"loss\":{},\"size\":{},\"metric\":{},\
             \"seconds\":{:.3},\"runs\":[{}]",
            quote(self.section),
            quote(&self.client),
            quote(&self.server),
            self.loss,
            self.size,
            quote(self.metric),
            self.seconds(),
            runs.join(",")
        );
        if let Some(l) = &self.link {
            let _ = write!(
                s,
                ",\"link\":{{\"to_guest\":{},\"from_guest\":{}}}",
                dir_json(&l.to_guest),
                dir_json(&l.from_guest)
            );
        }
        let failed: Vec<String> = self.failed.iter().map(|f| quote(f)).collect();
        let _ = write!(s, ",\"failed\":[{}]}}", failed.join(","));
        s
    }
}

fn dir_json(d: &DirStats) -> String {
    format!(
        "{{\"frames\":{},\"dropped\":{},\"duplicated\":{},\"reordered\":{},\"loss_rate\":{:.4}}}",
        d.frames,
        d.dropped,
        d.duplicated,
        d.reordered,
        d.loss_rate()
    )
}

fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(q, "\\u{:04x}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// The whole file: one record per line inside a JSON array.
pub fn json(records: &[Record]) -> String {
    let lines: Vec<String> = records.iter().map(|r| format!("  {}", r.json())).collect();
    format!("[\n{}\n]\n", lines.join(",\n"))
}

/// Adds `b`'s counters to `a`.
pub fn add_stats(a: &mut LinkStats, b: &LinkStats) {
    for (x, y) in [
        (&mut a.to_guest, &b.to_guest),
        (&mut a.from_guest, &b.from_guest),
    ] {
        x.frames += y.frames;
        x.passed += y.passed;
        x.dropped += y.dropped;
        x.duplicated += y.duplicated;
        x.reordered += y.reordered;
    }
}

/// `to guest 10.3 %, from guest 9.8 %` (measured drop rates), or `-` without a lossy link.
pub fn loss_text(link: &Option<LinkStats>) -> String {
    match link {
        Some(l) => format!(
            "{:.1} / {:.1}",
            l.to_guest.loss_rate() * 100.0,
            l.from_guest.loss_rate() * 100.0
        ),
        None => "-".into(),
    }
}
