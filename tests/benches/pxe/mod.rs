//! The bench's one table: a list of [`Case`]s (cases.rs), each measured for softpxe and for
//! one or more iPXE variants, giving one row with both medians, the ratio softpxe / iPXE, the
//! goal and whether it is met. Other issues add rows by adding cases to `cases::all`.
//!
//! A case names its sides ([`Side`]): a label, a key, and a [`Measure`] that performs one run
//! and returns a [`Sample`]. Sides with the same key are the same measurement: it runs once
//! per run index and every case that names it reads its figure from the shared samples (e.g.
//! iPXE's TFTP from atftpd is the like-for-like row's and the windowsize row's iPXE side; the
//! meminfo run gives the base memory row and the core-memory row). Runs of a case are
//! interleaved: run 1 of every side, then run 2, so slow drift of a shared machine hits both.
//!
//! Used by tests/benches/pxe.rs (`cargo xtask bench`) and by tests/tests/bench_case.rs (one
//! case end to end in CI).
#[path = "cases.rs"]
pub mod cases;
#[path = "loss.rs"]
pub mod loss;
#[path = "measure.rs"]
pub mod measure;
#[path = "report.rs"]
pub mod report;

use anyhow::{bail, Result};
use softpxe_tests::lan::LinkStats;
use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::rc::Rc;
use std::time::Instant;

/// Runs of every side unless the case or `SOFTPXE_BENCH_RUNS` says otherwise.
pub const RUNS: usize = 3;

/// What a figure is and which way is better.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    /// Seconds; lower is better.
    Seconds,
    /// Milliseconds; lower is better.
    Ms,
    /// 10^6 bytes per second; higher is better.
    MBps,
    /// KiB of memory or file; lower is better.
    KiB,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Seconds => "s",
            Unit::Ms => "ms",
            Unit::MBps => "MB/s",
            Unit::KiB => "KiB",
        }
    }

    pub fn higher_is_better(self) -> bool {
        self == Unit::MBps
    }

    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Seconds => format!("{v:.2}"),
            Unit::Ms => format!("{v:.2}"),
            Unit::MBps => format!("{v:.1}"),
            Unit::KiB => format!("{v:.0}"),
        }
    }
}

/// `<=` or `>=`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cmp {
    AtMost,
    AtLeast,
}

impl Cmp {
    fn holds(self, v: f64, limit: f64) -> bool {
        match self {
            Cmp::AtMost => v <= limit,
            Cmp::AtLeast => v >= limit,
        }
    }

    fn sign(self) -> &'static str {
        match self {
            Cmp::AtMost => "<=",
            Cmp::AtLeast => ">=",
        }
    }
}

/// What a row is held against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    /// The ratio softpxe / iPXE's best (of the row's figures) against a threshold.
    Ratio(Cmp, f64),
    /// softpxe's own figure against a threshold in the row's unit.
    Value(Cmp, f64),
}

impl Goal {
    pub fn text(self, unit: Unit) -> String {
        match self {
            Goal::Ratio(Cmp::AtMost, 1.0) => "<= iPXE".into(),
            Goal::Ratio(c, r) => format!("{} {r}x iPXE", c.sign()),
            Goal::Value(c, v) => format!("{} {v} {}", c.sign(), unit.name()),
        }
    }
}

/// One run's result: `values` (a measurement may give several figures; a side picks one by
/// [`Side::metric`]), a note for the row, the lossy link's counters if there was one.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    pub values: Vec<f64>,
    pub note: String,
    pub link: Option<LinkStats>,
}

impl Sample {
    pub fn one(v: f64) -> Sample {
        Sample {
            values: vec![v],
            ..Sample::default()
        }
    }
}

/// One run: its index (0-based; the lossy rows use index + 1 as the seed).
pub type Measure = Rc<dyn Fn(usize) -> Result<Sample>>;

/// A measured client in a row.
#[derive(Clone)]
pub struct Side {
    /// What ran, e.g. `softpxe (default settings)`, `iPXE NIC ROM`.
    pub label: String,
    /// Identifies the measurement: sides with the same key share their runs.
    pub key: String,
    /// Which of [`Sample::values`] this side's figure is.
    pub metric: usize,
    pub measure: Measure,
    /// Runs unless `SOFTPXE_BENCH_RUNS` says otherwise (None: [`RUNS`]).
    pub runs: Option<usize>,
    /// A failing run is reported in the row but does not make the bench fail (a client known
    /// to give up under these conditions).
    pub may_fail: bool,
}

impl Side {
    pub fn new(
        label: &str,
        key: &str,
        measure: impl Fn(usize) -> Result<Sample> + 'static,
    ) -> Self {
        Side {
            label: label.into(),
            key: key.into(),
            metric: 0,
            measure: Rc::new(measure),
            runs: None,
            may_fail: false,
        }
    }

    pub fn metric(mut self, i: usize) -> Self {
        self.metric = i;
        self
    }

    pub fn runs(mut self, n: usize) -> Self {
        self.runs = Some(n);
        self
    }

    pub fn may_fail(mut self) -> Self {
        self.may_fail = true;
        self
    }
}

/// One row of the table.
#[derive(Clone)]
pub struct Case {
    /// Unique, e.g. `boot-user`; `SOFTPXE_BENCH` can name it.
    pub id: String,
    /// `boot`, `tftp`, `api`, `memory`, `image`, `loss-nbp`, `loss-pxelinux`, `loss-file`.
    pub section: &'static str,
    /// What is measured, for the table.
    pub what: String,
    pub unit: Unit,
    pub softpxe: Side,
    /// iPXE variants; the row compares with the best of them (none: no iPXE column).
    pub ipxe: Vec<Side>,
    pub goal: Option<Goal>,
}

/// What to run and where to write.
#[derive(Clone, Debug)]
pub struct Config {
    /// Sections, case ids, `base` (every section but the lossy ones), `loss`, `all`; empty: all.
    pub select: Vec<String>,
    /// Runs of every side (`SOFTPXE_BENCH_RUNS`), overriding each case's own count.
    pub runs: Option<usize>,
    /// Where pxe.md and pxe.json go.
    pub out: PathBuf,
}

impl Config {
    /// From `SOFTPXE_BENCH` and `SOFTPXE_BENCH_RUNS`; output in target/bench.
    pub fn from_env() -> Config {
        let select = std::env::var("SOFTPXE_BENCH")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let runs = std::env::var("SOFTPXE_BENCH_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0);
        Config {
            select,
            runs,
            out: softpxe_tests::repo_root().join("target/bench"),
        }
    }

    pub fn wanted(&self, case: &Case) -> bool {
        let loss = case.section.starts_with("loss-");
        self.select.is_empty()
            || self.select.iter().any(|w| {
                w == "all"
                    || *w == case.id
                    || w == case.section
                    || (w == "base" && !loss)
                    || (w == "loss" && loss)
            })
    }

    fn runs_of(&self, side: &Side) -> usize {
        self.runs.or(side.runs).unwrap_or(RUNS)
    }
}

/// One side's outcome in a row.
#[derive(Clone, Debug)]
pub struct Measured {
    pub label: String,
    /// Successful runs' figures, in run order.
    pub values: Vec<f64>,
    /// Failed runs: one line each.
    pub failed: Vec<String>,
    pub may_fail: bool,
    pub notes: Vec<String>,
    pub link: Option<LinkStats>,
}

impl Measured {
    pub fn median(&self) -> Option<f64> {
        (!self.values.is_empty()).then(|| report::median(&self.values))
    }
}

/// A finished row.
#[derive(Clone, Debug)]
pub struct Row {
    pub id: String,
    pub section: &'static str,
    pub what: String,
    pub unit: Unit,
    pub goal: Option<Goal>,
    pub softpxe: Measured,
    pub ipxe: Vec<Measured>,
}

impl Row {
    /// The iPXE variant with the better median.
    pub fn ipxe_best(&self) -> Option<&Measured> {
        self.ipxe
            .iter()
            .filter(|m| m.median().is_some())
            .min_by(|a, b| {
                let (a, b) = (a.median().unwrap(), b.median().unwrap());
                let o = a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal);
                if self.unit.higher_is_better() {
                    o.reverse()
                } else {
                    o
                }
            })
    }

    /// softpxe / iPXE's best.
    pub fn ratio(&self) -> Option<f64> {
        let s = self.softpxe.median()?;
        let i = self.ipxe_best()?.median()?;
        (i != 0.0).then_some(s / i)
    }

    /// Whether the goal is met (None: no goal, or a figure is missing).
    pub fn met(&self) -> Option<bool> {
        match self.goal? {
            Goal::Ratio(c, r) => Some(c.holds(self.ratio()?, r)),
            Goal::Value(c, v) => Some(c.holds(self.softpxe.median()?, v)),
        }
    }
}

/// The whole result.
#[derive(Clone, Debug)]
pub struct Report {
    pub qemu: String,
    pub runs: Option<usize>,
    pub select: Vec<String>,
    pub rows: Vec<Row>,
    pub seconds: f64,
}

impl Report {
    /// Failed runs that make the bench fail (not `may_fail`).
    pub fn failures(&self) -> Vec<String> {
        let mut f: Vec<String> = self
            .rows
            .iter()
            .flat_map(|r| std::iter::once(&r.softpxe).chain(&r.ipxe))
            .filter(|m| !m.may_fail)
            .flat_map(|m| m.failed.iter().cloned())
            .collect();
        f.sort();
        f.dedup();
        f
    }
}

/// The first line of `qemu-system-i386 --version`.
pub fn qemu_version() -> Result<String> {
    let out = Command::new("qemu-system-i386").arg("--version").output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.lines().next() {
        Some(l) if out.status.success() && !l.trim().is_empty() => Ok(l.trim().to_string()),
        _ => bail!(
            "qemu-system-i386 --version printed nothing ({})",
            out.status
        ),
    }
}

/// Runs the selected cases, writes `pxe.md` and `pxe.json` to `config.out`, returns the rows.
pub fn run(config: &Config) -> Result<Report> {
    let start = Instant::now();
    let qemu = qemu_version()?;
    let cases: Vec<Case> = cases::all()
        .into_iter()
        .filter(|c| config.wanted(c))
        .collect();
    if cases.is_empty() {
        bail!(
            "SOFTPXE_BENCH={:?} selects no case (ids: {})",
            config.select.join(","),
            cases::all()
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut memo: HashMap<String, Vec<Result<Sample, String>>> = HashMap::new();
    let mut rows = Vec::new();
    for case in &cases {
        let sides: Vec<&Side> = std::iter::once(&case.softpxe).chain(&case.ipxe).collect();
        let most = sides.iter().map(|s| config.runs_of(s)).max().unwrap_or(0);
        for i in 0..most {
            for side in sides.iter().filter(|s| i < config.runs_of(s)) {
                let done = memo.entry(side.key.clone()).or_default();
                if done.len() > i {
                    continue;
                }
                let t = Instant::now();
                let r = (side.measure)(i).map_err(|e| {
                    let first = format!("{e:#}");
                    let first = first.lines().take(3).collect::<Vec<_>>().join(" | ");
                    format!("{} run {}: {first}", side.key, i + 1)
                });
                match &r {
                    Ok(s) => eprintln!(
                        "bench: {} run {}: {:?} {}{} ({:.1} s)",
                        side.key,
                        i + 1,
                        s.values,
                        s.note,
                        if s.note.is_empty() { "" } else { " " },
                        t.elapsed().as_secs_f64()
                    ),
                    Err(e) => eprintln!("bench: FAILED {e}"),
                }
                done.push(r);
            }
        }
        let measured = |side: &Side| {
            let n = config.runs_of(side);
            let all = memo
                .get(&side.key)
                .map(|v| &v[..n.min(v.len())])
                .unwrap_or(&[]);
            let mut m = Measured {
                label: side.label.clone(),
                values: Vec::new(),
                failed: Vec::new(),
                may_fail: side.may_fail,
                notes: Vec::new(),
                link: None,
            };
            for r in all {
                match r {
                    Ok(s) => match s.values.get(side.metric) {
                        Some(v) if v.is_finite() => {
                            m.values.push(*v);
                            if !s.note.is_empty() {
                                m.notes.push(s.note.clone());
                            }
                            if let Some(l) = &s.link {
                                let sum = m.link.get_or_insert_with(LinkStats::default);
                                report::add_stats(sum, l);
                            }
                        }
                        _ => m
                            .failed
                            .push(format!("{}: no figure {}", side.key, side.metric)),
                    },
                    Err(e) => m.failed.push(e.clone()),
                }
            }
            m
        };
        let row = Row {
            id: case.id.clone(),
            section: case.section,
            what: case.what.clone(),
            unit: case.unit,
            goal: case.goal,
            softpxe: measured(&case.softpxe),
            ipxe: case.ipxe.iter().map(measured).collect(),
        };
        eprintln!("bench: row {}", report::md_row(&row));
        rows.push(row);
    }
    let report = Report {
        qemu,
        runs: config.runs,
        select: config.select.clone(),
        rows,
        seconds: start.elapsed().as_secs_f64(),
    };
    fs::create_dir_all(&config.out)?;
    fs::write(config.out.join("pxe.md"), report::markdown(&report))?;
    fs::write(config.out.join("pxe.json"), report::json(&report))?;
    Ok(report)
}
