//! `cargo xtask`: the project's own commands (see README).
//!
//! - `setup`: installs what a fresh Debian machine lacks (apt packages, rustup targets).
//! - `test`: setup, then formatting, clippy for the host and both firmware targets, and every
//!   test (host unit tests, image tests, fuzz smoke runs, emulator boots).
//! - `run`: builds a floppy with defaults and boots it in QEMU with COM1 on this terminal.
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use xshell::{cmd, Shell};

mod setup;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup              install the emulators, servers and Rust targets the tests need (as root)
  test               setup, then fmt check, clippy (host, BIOS, UEFI targets) and all tests
  bench              softpxe vs iPXE in QEMU, one table of cases with goals (target/bench/pxe.md
                     and pxe.json; SOFTPXE_BENCH=sections/ids, SOFTPXE_BENCH_RUNS=N; docs/benchmarks.md)
  fuzz [TARGET] [S]  libFuzzer on stable: the rom/net/fuzz targets, S seconds each (default 60)
  run [NIC]          build boot.img in target/ and boot it in QEMU (NIC: e1000, rtl8139,
                     virtio-net-pci, ... default e1000); serial on this terminal, Ctrl-A X quits
";

fn main() {
    if let Err(e) = real_main() {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sh = Shell::new()?;
    sh.change_dir(root());
    match args.first().map(String::as_str) {
        Some("setup") => setup::run(&sh),
        Some("test") | Some("ci") => test(&sh),
        Some("run") => run(&sh, args.get(1).map(String::as_str).unwrap_or("e1000")),
        Some("bench") => {
            setup::run(&sh)?;
            cmd!(sh, "cargo bench -p softpxe-tests --bench pxe").run()?;
            Ok(())
        }
        Some("fuzz") => fuzz(&sh, &args[1..]),
        Some("-h") | Some("--help") | Some("help") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => {
            eprint!("{USAGE}");
            std::process::exit(2);
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Library crates that must build for every firmware target.
const SHARED: [&str; 5] = [
    "softpxe-boot",
    "softpxe-drivers",
    "softpxe-net",
    "softpxe-pxe",
    "softpxe-settings",
];

fn test(sh: &Shell) -> Result<()> {
    setup::run(sh)?;
    step("cargo fmt --check");
    cmd!(sh, "cargo fmt --all --check")
        .run()
        .context("formatting differs: run `cargo fmt --all`")?;
    step("clippy, host crates");
    cmd!(sh, "cargo clippy --all-targets -- -D warnings").run()?;
    step("clippy, BIOS target (i586-unknown-linux-gnu)");
    let shared: Vec<String> = SHARED
        .iter()
        .flat_map(|c| ["-p".to_string(), c.to_string()])
        .collect();
    let bios_shared = shared.clone();
    cmd!(sh, "cargo clippy --target i586-unknown-linux-gnu -p softpxe-bios {bios_shared...} --profile firmware -- -D warnings")
        .run()?;
    step("clippy, UEFI target (x86_64-unknown-uefi)");
    cmd!(
        sh,
        "cargo clippy --target x86_64-unknown-uefi -p softpxe-efi {shared...} -- -D warnings"
    )
    .run()?;
    step("fuzz targets compile (rom/net/fuzz, outside the workspace; no libFuzzer C++ build)");
    let fuzz = root().join("rom/net/fuzz/Cargo.toml");
    cmd!(
        sh,
        "cargo check --manifest-path {fuzz} --locked --bins --no-default-features"
    )
    .run()?;
    step("tests: host, images, fuzz smoke, emulators");
    cmd!(
        sh,
        "cargo test --workspace --exclude softpxe-bios --exclude softpxe-efi"
    )
    .run()?;
    step("all checks passed");
    Ok(())
}

fn run(sh: &Shell, nic: &str) -> Result<()> {
    cmd!(sh, "cargo build --release -p softpxe").run()?;
    let img = root().join("target/boot.img");
    let img_s = img.to_string_lossy().to_string();
    cmd!(sh, "target/release/softpxe build floppy -o {img_s} --force").run()?;
    if which("qemu-system-i386").is_none() {
        bail!("qemu-system-i386 is missing: run `cargo xtask setup` (as root)");
    }
    let drive = format!("file={img_s},if=floppy,format=raw");
    let dev = format!("{nic},netdev=n0,romfile=");
    cmd!(
        sh,
        "qemu-system-i386 -cpu pentium -m 32 -nographic -no-reboot -drive {drive} -boot a -netdev user,id=n0 -device {dev}"
    )
    .run()?;
    Ok(())
}

/// The coverage instrumentation cargo-fuzz would add, spelled with stable flags (no
/// sanitizer: ASan needs nightly's `-Zsanitizer`). With `--target` given, RUSTFLAGS skip build
/// scripts, which would otherwise fail to link the coverage hooks.
const FUZZ_RUSTFLAGS: &str = "-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks";

/// libFuzzer (libfuzzer-sys, built with g++) on the stable toolchain: every target of
/// `rom/net/fuzz` (or the one named), S seconds each, one after the other. New inputs go to
/// `rom/net/fuzz/target/corpus/TARGET` (the committed corpus is read, not written); crashes to
/// `rom/net/fuzz/artifacts/TARGET/`. Prints the executions per target at the end. The stable
/// smoke tests (`tests/fuzz_smoke.rs` of net, pxe, settings) run the same bodies over the
/// corpus in every `cargo xtask test`.
fn fuzz(sh: &Shell, args: &[String]) -> Result<()> {
    let secs = args
        .iter()
        .find_map(|a| a.parse::<u32>().ok())
        .unwrap_or(60);
    let only = args.iter().find(|a| a.parse::<u32>().is_err());
    let dir = root().join("rom/net/fuzz");
    sh.change_dir(&dir);
    let host = cmd!(sh, "rustc -vV")
        .read()?
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .context("rustc -vV names no host")?;
    step("building the fuzz targets (stable, coverage instrumented)");
    cmd!(sh, "cargo build --release --locked --target {host} --bins")
        .env(
            "RUSTFLAGS",
            FUZZ_RUSTFLAGS
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        )
        .run()?;
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))?;
    let targets: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \"")?.strip_suffix('"'))
        .filter(|t| *t != "softpxe-net-fuzz" && only.is_none_or(|o| o == t))
        .collect();
    if targets.is_empty() {
        bail!("no fuzz target named {}", only.map_or("", |s| s));
    }
    let mut summary = Vec::new();
    for target in targets {
        step(&format!("fuzz {target} for {secs} s"));
        let work = dir.join("target/corpus").join(target);
        let artifacts = dir.join("artifacts").join(target);
        std::fs::create_dir_all(&work)?;
        std::fs::create_dir_all(&artifacts)?;
        let bin = dir.join("target").join(&host).join("release").join(target);
        let out = std::process::Command::new(bin)
            .arg(&work)
            .arg(dir.join("corpus").join(target))
            .arg(format!("-max_total_time={secs}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg("-max_len=4096")
            .arg("-print_final_stats=1")
            .output()?;
        let log = String::from_utf8_lossy(&out.stderr);
        std::fs::write(dir.join("target").join(format!("fuzz-{target}.log")), &*log)?;
        let runs = log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .map_or("?".into(), |n| n.trim().to_string());
        let verdict = if out.status.success() { "ok" } else { "CRASH" };
        eprintln!("{target}: {runs} executions, {verdict}");
        summary.push(format!(
            "{target:14} {runs:>12} executions in {secs} s  {verdict}"
        ));
        if !out.status.success() {
            eprintln!(
                "{}",
                log.lines()
                    .rev()
                    .take(40)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
    step("fuzz summary");
    for line in &summary {
        eprintln!("{line}");
    }
    if summary.iter().any(|l| l.ends_with("CRASH")) {
        bail!("a fuzz target crashed: see rom/net/fuzz/artifacts/");
    }
    Ok(())
}

fn step(what: &str) {
    eprintln!("\n==> {what}");
}

pub(crate) fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}
