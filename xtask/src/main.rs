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
  bench              softpxe vs iPXE in QEMU: boot time and TFTP throughput (target/bench/pxe.md)
  fuzz [TARGET] [S]  run cargo-fuzz (nightly) on the rom/net targets, S seconds each (default 60)
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

/// cargo-fuzz needs nightly (as in smoltcp); the stable test `rom/net/tests/fuzz_smoke.rs` runs
/// the same targets over the corpus in every `cargo xtask test`.
fn fuzz(sh: &Shell, args: &[String]) -> Result<()> {
    let secs = args
        .iter()
        .find_map(|a| a.parse::<u32>().ok())
        .unwrap_or(60)
        .to_string();
    let only = args.iter().find(|a| a.parse::<u32>().is_err());
    if cmd!(sh, "cargo +nightly fuzz --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_err()
    {
        bail!("cargo-fuzz on nightly is needed: rustup toolchain install nightly && cargo install cargo-fuzz");
    }
    sh.change_dir(root().join("rom/net/fuzz"));
    let list = cmd!(sh, "cargo +nightly fuzz list").read()?;
    for target in list.lines().filter(|t| only.is_none_or(|o| o == t)) {
        step(&format!("fuzz {target} for {secs} s"));
        let corpus = format!("corpus/{target}");
        let time = format!("-max_total_time={secs}");
        cmd!(sh, "cargo +nightly fuzz run {target} {corpus} -- {time}").run()?;
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
