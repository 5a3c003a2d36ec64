//! target/bench/pxe.md (the table) and pxe.json (the same rows with every run; hand-made JSON,
//! no serde in this crate).
use super::{Measured, Report, Row};
use softpxe_tests::lan::{DirStats, LinkStats};
use std::fmt::Write as _;

/// The median (the middle of the sorted values; the upper middle for an even count).
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
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

/// `10.3 / 9.8` (measured drop rates to / from the guest, %).
fn loss_text(l: &LinkStats) -> String {
    format!(
        "{:.1} / {:.1}",
        l.to_guest.loss_rate() * 100.0,
        l.from_guest.loss_rate() * 100.0
    )
}

/// A side's figure with its failures, e.g. `4.27`, `1.52 (1 of 3 failed)`, `failed (3 of 3)`.
fn cell(row: &Row, m: &Measured) -> String {
    let n = m.values.len() + m.failed.len();
    match m.median() {
        Some(v) if m.failed.is_empty() => row.unit.format(v),
        Some(v) => format!("{} ({} of {n} failed)", row.unit.format(v), m.failed.len()),
        None if n == 0 => "not run".into(),
        None => format!("failed ({} of {n})", m.failed.len()),
    }
}

/// The row's notes: every iPXE variant's figure, run counts, softpxe's own notes, link loss.
fn notes(row: &Row) -> String {
    let mut parts = Vec::new();
    if row.ipxe.len() > 1 {
        let each: Vec<String> = row
            .ipxe
            .iter()
            .map(|m| format!("{} {}", m.label, cell(row, m)))
            .collect();
        parts.push(each.join(", "));
    }
    let runs = |m: &Measured| m.values.len() + m.failed.len();
    let mut counts = vec![runs(&row.softpxe)];
    counts.extend(row.ipxe.iter().map(runs));
    counts.dedup();
    parts.push(match counts[..] {
        [n] => format!("{n} run{}", if n == 1 { "" } else { "s" }),
        _ => format!(
            "runs {}",
            counts
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join("/")
        ),
    });
    let mut own = row.softpxe.notes.clone();
    own.dedup();
    if let Some(n) = own.first() {
        parts.push(if own.len() > 1 {
            format!("{n} (run 1)")
        } else {
            n.clone()
        });
    }
    let links: Vec<String> = std::iter::once(&row.softpxe)
        .chain(&row.ipxe)
        .filter_map(|m| m.link.as_ref().map(loss_text))
        .collect();
    if !links.is_empty() {
        parts.push(format!(
            "measured loss to/from guest % {}",
            links.join("; ")
        ));
    }
    parts.join("; ")
}

const HEAD: &str =
    "| case | what | unit | softpxe | iPXE (best) | softpxe / iPXE | goal | met | notes |\n\
                    |---|---|---|---|---|---|---|---|---|";

/// One Markdown table row.
pub fn md_row(row: &Row) -> String {
    let ipxe = match row.ipxe_best() {
        Some(b) => format!("{} ({})", cell(row, b), b.label),
        None if row.ipxe.is_empty() => "-".into(),
        None => row.ipxe.first().map(|m| cell(row, m)).unwrap_or_default(),
    };
    let what = if row.softpxe.label == "softpxe" {
        row.what.clone()
    } else {
        format!("{} ({})", row.what, row.softpxe.label)
    };
    format!(
        "| {} | {what} | {} | {} | {ipxe} | {} | {} | {} | {} |",
        row.id,
        row.unit.name(),
        cell(row, &row.softpxe),
        row.ratio().map(|r| format!("{r:.2}")).unwrap_or("-".into()),
        row.goal.map(|g| g.text(row.unit)).unwrap_or("-".into()),
        match row.met() {
            Some(true) => "yes",
            Some(false) => "no",
            None if row.goal.is_some() => "n/a",
            None => "-",
        },
        notes(row)
    )
}

fn header(r: &Report) -> String {
    format!(
        "{}; TCG, -cpu pentium2, e1000; medians of {} run(s) per side{}",
        r.qemu,
        r.runs
            .map(|n| n.to_string())
            .unwrap_or_else(|| format!("{} (unless the notes say otherwise)", super::RUNS)),
        if r.select.is_empty() {
            String::new()
        } else {
            format!("; SOFTPXE_BENCH={}", r.select.join(","))
        }
    )
}

/// The whole pxe.md.
pub fn markdown(r: &Report) -> String {
    let mut out = format!(
        "# softpxe vs iPXE\n\n{}; bench took {:.0} s.\n\nsoftpxe / iPXE is the ratio of the \
         two figures in the row's unit (seconds or KiB: below 1 softpxe is better; MB/s: above \
         1). iPXE (best) is the better of the iPXE variants the notes list.\n\n{HEAD}\n",
        header(r),
        r.seconds
    );
    for row in &r.rows {
        let _ = writeln!(out, "{}", md_row(row));
    }
    let failed: Vec<String> = r
        .rows
        .iter()
        .flat_map(|row| std::iter::once(&row.softpxe).chain(&row.ipxe))
        .flat_map(|m| m.failed.iter().cloned())
        .collect();
    if !failed.is_empty() {
        out.push_str("\n## Failed runs\n\n");
        for f in failed {
            let _ = writeln!(out, "- {f}");
        }
    }
    out
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

fn num(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.4}"),
        _ => "null".into(),
    }
}

fn side_json(m: &Measured) -> String {
    let values: Vec<String> = m.values.iter().map(|v| format!("{v:.4}")).collect();
    let failed: Vec<String> = m.failed.iter().map(|f| quote(f)).collect();
    let notes: Vec<String> = m.notes.iter().map(|f| quote(f)).collect();
    let mut s = format!(
        "{{\"label\":{},\"median\":{},\"runs\":[{}],\"failed\":[{}],\"notes\":[{}]",
        quote(&m.label),
        num(m.median()),
        values.join(","),
        failed.join(","),
        notes.join(",")
    );
    if let Some(l) = &m.link {
        let _ = write!(
            s,
            ",\"link\":{{\"to_guest\":{},\"from_guest\":{}}}",
            dir_json(&l.to_guest),
            dir_json(&l.from_guest)
        );
    }
    s.push('}');
    s
}

fn row_json(row: &Row) -> String {
    let ipxe: Vec<String> = row.ipxe.iter().map(side_json).collect();
    format!(
        "{{\"id\":{},\"section\":{},\"what\":{},\"unit\":{},\"softpxe\":{},\"ipxe\":[{}],\
         \"ipxe_best\":{},\"ratio\":{},\"goal\":{},\"met\":{}}}",
        quote(&row.id),
        quote(row.section),
        quote(&row.what),
        quote(row.unit.name()),
        side_json(&row.softpxe),
        ipxe.join(","),
        row.ipxe_best()
            .map(|b| quote(&b.label))
            .unwrap_or("null".into()),
        num(row.ratio()),
        row.goal
            .map(|g| quote(&g.text(row.unit)))
            .unwrap_or("null".into()),
        match row.met() {
            Some(b) => b.to_string(),
            None => "null".into(),
        }
    )
}

/// The whole pxe.json: the header fields and one object per row.
pub fn json(r: &Report) -> String {
    let rows: Vec<String> = r
        .rows
        .iter()
        .map(|row| format!("    {}", row_json(row)))
        .collect();
    format!(
        "{{\n  \"qemu\":{},\n  \"machine\":\"TCG, -cpu pentium2, e1000\",\n  \"runs\":{},\n  \
         \"select\":{},\n  \"seconds\":{:.1},\n  \"rows\":[\n{}\n  ]\n}}\n",
        quote(&r.qemu),
        r.runs
            .map(|n| n.to_string())
            .unwrap_or_else(|| "null".into()),
        quote(&r.select.join(",")),
        r.seconds,
        rows.join(",\n")
    )
}
