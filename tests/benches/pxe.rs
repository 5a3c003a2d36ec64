//! `cargo xtask bench`: softpxe side by side with iPXE on the same emulator, NIC and network,
//! as one table of cases (pxe/cases.rs): power-on to NBP start on three networks, TFTP of
//! 16 MiB, pxelinux through the PXE API, memory, image size and build time, and the lossy-link
//! rows. Each row: softpxe's median, iPXE's best median, the ratio, the goal and whether it is
//! met. Written to target/bench/pxe.md and pxe.json; see docs/benchmarks.md.
//!
//! `SOFTPXE_BENCH` selects rows: a comma-separated list of sections (`boot`, `tftp`, `api`,
//! `memory`, `image`, `loss-nbp`, `loss-pxelinux`, `loss-file`), case ids (`boot-user`, ...),
//! `base` (everything but the lossy rows), `loss` (all lossy rows) or `all`; unset: all.
//! `SOFTPXE_BENCH_RUNS=N` sets the runs of every side (default 3; 1 for a quick look).
#[path = "pxe/mod.rs"]
mod pxe;

use anyhow::{bail, Result};

fn main() -> Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let config = pxe::Config::from_env();
    let report = pxe::run(&config)?;
    print!("{}", pxe::report::markdown(&report));
    eprintln!(
        "bench: wrote {} and pxe.json in {:.0} s",
        config.out.join("pxe.md").display(),
        report.seconds
    );
    let failed = report.failures();
    if !failed.is_empty() {
        for f in &failed {
            eprintln!("bench: failed run: {f}");
        }
        bail!(
            "{} run(s) failed (see the rows' notes and target/bench/failed/)",
            failed.len()
        );
    }
    Ok(())
}
