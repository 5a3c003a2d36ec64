//! The bench stays out of CI (it needs a quiet machine and ~30 minutes), but its code must not
//! rot: this runs two of its cases end to end through the same code `cargo xtask bench` runs
//! (tests/benches/pxe/), one run each, into a directory of its own, and checks that pxe.md
//! and pxe.json hold the rows with measured figures:
//!
//! - `image-build`: the floppy build time (no emulator);
//! - `boot-user`: power-on to NBP start on QEMU's user network, softpxe with default settings
//!   against QEMU's iPXE NIC ROM and ipxe.lkrn (three QEMU boots, ~20 s; no root needed).
//!
//! Goals are not checked here (a loaded CI machine says nothing about them); the figures are.
use anyhow::{ensure, Context, Result};
use softpxe_tests::run_dir;
use std::fs;

#[allow(dead_code)]
#[path = "../benches/pxe/mod.rs"]
mod pxe;

#[test]
fn bench_cases_image_build_and_boot_user_write_their_rows() -> Result<()> {
    let out = run_dir("bench-case")?;
    let config = pxe::Config {
        select: vec!["image-build".into(), "boot-user".into()],
        runs: Some(1),
        out: out.clone(),
    };
    let report = pxe::run(&config)?;
    let failed = report.failures();
    ensure!(failed.is_empty(), "failed runs: {failed:#?}");
    let ids: Vec<&str> = report.rows.iter().map(|r| r.id.as_str()).collect();
    ensure!(ids == ["boot-user", "image-build"], "rows: {ids:?}");
    for row in &report.rows {
        let s = row.softpxe.median().context("no softpxe figure")?;
        ensure!(s > 0.0 && s.is_finite(), "{}: softpxe {s}", row.id);
        ensure!(row.met().is_some(), "{}: goal not evaluated", row.id);
    }
    let boot = &report.rows[0];
    ensure!(
        boot.ipxe.len() == 2 && boot.ipxe.iter().all(|m| m.median().is_some()),
        "boot-user: iPXE figures missing: {:?}",
        boot.ipxe
    );
    let ratio = boot.ratio().context("boot-user: no ratio")?;
    ensure!(ratio > 0.05 && ratio < 20.0, "boot-user: ratio {ratio}");

    let md = fs::read_to_string(out.join("pxe.md")).context("pxe.md")?;
    let qemu = pxe::qemu_version()?;
    ensure!(
        md.contains(&qemu),
        "pxe.md lacks the QEMU version {qemu:?}:\n{md}"
    );
    for id in ["boot-user", "image-build"] {
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {id} |")))
            .with_context(|| format!("pxe.md has no {id} row:\n{md}"))?;
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | id | what | unit | softpxe | iPXE | ratio | goal | met | notes |
        ensure!(cells.len() >= 10, "{id}: short row {line}");
        ensure!(cells[4].parse::<f64>().is_ok(), "{id}: softpxe cell {line}");
        ensure!(matches!(cells[8], "yes" | "no"), "{id}: met cell {line}");
    }
    let json = fs::read_to_string(out.join("pxe.json")).context("pxe.json")?;
    ensure!(
        json.contains(&format!("\"qemu\":\"{qemu}\"")),
        "pxe.json: {json}"
    );
    for id in ["boot-user", "image-build"] {
        let at = json
            .find(&format!("\"id\":\"{id}\""))
            .with_context(|| format!("pxe.json has no {id} row:\n{json}"))?;
        let rest = &json[at..];
        let median = rest
            .split("\"median\":")
            .nth(1)
            .and_then(|r| r.split([',', '}']).next())
            .context("no median")?;
        ensure!(median.parse::<f64>().is_ok(), "{id}: median {median}");
    }
    Ok(())
}
