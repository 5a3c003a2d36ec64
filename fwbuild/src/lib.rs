//! Shared by the build scripts of `builder` (the firmware it embeds) and `tests` (the test NBP):
//! runs cargo for a bare-metal package with its own target directory, turns its ELF files into
//! flat images (no objcopy needed) and checks that a relocatable image carries only the
//! relocations its prefix can apply.
use object::elf;
use object::read::elf::{ElfFile32, FileHeader, Rel, SectionHeader};
use object::LittleEndian as LE;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// The BIOS firmware target.
pub const BIOS_TARGET: &str = "i586-unknown-linux-gnu";

/// Runs `cargo build --profile firmware --target BIOS_TARGET -p PACKAGE` with the target
/// directory `target/TARGET_DIR_NAME` and returns the directory holding its ELF files.
pub fn build_package(root: &Path, package: &str, target_dir_name: &str) -> PathBuf {
    let target_dir = root.join("target").join(target_dir_name);
    build_package_in(root, package, &target_dir, None)
}

/// [`build_package`] with any target directory and, if given, another cargo home for the
/// child cargo (`CARGO_HOME`, used offline: a copy of this machine's registry; the
/// reproducibility test builds with two).
pub fn build_package_in(
    root: &Path,
    package: &str,
    target_dir: &Path,
    cargo_home_override: Option<&Path>,
) -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let installed = || {
        Path::new(&sysroot)
            .join("lib/rustlib")
            .join(BIOS_TARGET)
            .exists()
    };
    if !installed() {
        // Set-up on a fresh machine: rustup does not always install the targets that
        // rust-toolchain.toml lists.
        println!("cargo:warning=installing the Rust target {BIOS_TARGET} with rustup");
        let _ = Command::new("rustup")
            .args(["target", "add", BIOS_TARGET])
            .status();
    }
    if !installed() {
        panic!(
            "\n\nsoftpxe needs the Rust target {BIOS_TARGET} to build its BIOS firmware.\n\
             Install it with:  rustup target add {BIOS_TARGET} x86_64-unknown-uefi\n\n"
        );
    }
    let mut cmd = Command::new(cargo);
    let home = cargo_home_override.map_or_else(cargo_home, Path::to_path_buf);
    if cargo_home_override.is_some() {
        cmd.env("CARGO_HOME", &home)
            .env("CARGO_NET_OFFLINE", "true");
    }
    // Source paths in the image (panic locations) name no directory of this machine.
    cmd.arg("--config").arg(remap_config(root, &home, &sysroot));
    cmd.current_dir(root)
        .args([
            "build",
            "--profile",
            "firmware",
            "--target",
            BIOS_TARGET,
            "-p",
            package,
            "--bins",
        ])
        .arg("--target-dir")
        .arg(target_dir);
    // The outer build's settings are not the firmware's.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_MAKEFLAGS",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
    ] {
        cmd.env_remove(var);
    }
    let output = cmd.output().expect("running cargo for the firmware");
    if !output.status.success() {
        panic!(
            "building {package} (cargo build -p {package} --target {BIOS_TARGET}) failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    target_dir.join(BIOS_TARGET).join("firmware")
}

/// Cargo's home as rustup and cargo find it: `$CARGO_HOME`, else `$HOME/.cargo`.
pub fn cargo_home() -> PathBuf {
    env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env::var_os("HOME").unwrap_or_default()).join(".cargo"))
}

/// rustc's `--remap-path-prefix` pairs that take every machine-specific directory out of the
/// paths compiled into an image (panic locations, `file!()`): cargo's home (registry sources
/// become `crates/NAME-VERSION/...`, git checkouts `cargo-home/git/...`), the toolchain's
/// sysroot, and the checkout itself (`softpxe/...`; cargo already passes the workspace's own
/// sources as relative paths). The prebuilt standard library names itself `/rustc/COMMIT/...`,
/// which depends on the toolchain version only. When several prefixes match, rustc applies
/// the last one, so the general ones come first.
pub fn remap_prefixes(root: &Path, cargo_home: &Path, sysroot: &str) -> Vec<(PathBuf, String)> {
    let mut pairs = vec![(cargo_home.to_path_buf(), "cargo-home".to_string())];
    if let Ok(dirs) = fs::read_dir(cargo_home.join("registry/src")) {
        let mut dirs: Vec<PathBuf> = dirs.flatten().map(|e| e.path()).collect();
        dirs.sort();
        for d in dirs {
            pairs.push((d, "crates".into()));
        }
    }
    if !sysroot.is_empty() {
        pairs.push((PathBuf::from(sysroot), "rust-sysroot".into()));
    }
    pairs.push((root.to_path_buf(), "softpxe".into()));
    pairs
}

/// The `--config` value that appends the remapping to the firmware target's rustflags (cargo
/// joins arrays from the command line with those in `.cargo/config.toml`).
fn remap_config(root: &Path, cargo_home: &Path, sysroot: &str) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let flags: Vec<String> = remap_prefixes(root, cargo_home, sysroot)
        .iter()
        .map(|(from, to)| quote(&format!("--remap-path-prefix={}={to}", from.display())))
        .collect();
    format!("target.{BIOS_TARGET}.rustflags=[{}]", flags.join(","))
}

/// The allocated sections of an ELF32 file (code, data, relocations; not bss) as one flat image
/// starting at the lowest section address.
pub fn flat_image(path: &Path) -> Vec<u8> {
    let data = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let file = ElfFile32::<LE>::parse(&*data)
        .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    let sections = file.elf_header().sections(LE, &*data).unwrap();
    let loaded: Vec<_> = sections
        .iter()
        .filter(|s| {
            s.sh_flags(LE) & elf::SHF_ALLOC != 0
                && s.sh_type(LE) != elf::SHT_NOBITS
                && s.sh_size(LE) > 0
        })
        .collect();
    let base = loaded
        .iter()
        .map(|s| s.sh_addr(LE))
        .min()
        .expect("no loadable section");
    let end = loaded
        .iter()
        .map(|s| s.sh_addr(LE) + s.sh_size(LE))
        .max()
        .unwrap();
    let mut image = vec![0u8; (end - base) as usize];
    for s in loaded {
        let at = (s.sh_addr(LE) - base) as usize;
        let bytes = s.data(LE, &*data).unwrap();
        image[at..at + bytes.len()].copy_from_slice(bytes);
    }
    image
}

/// Panics unless every relocation in the ELF file is R_386_RELATIVE.
pub fn check_relocations(path: &Path) {
    let data = fs::read(path).unwrap();
    let file = ElfFile32::<LE>::parse(&*data).unwrap();
    let sections = file.elf_header().sections(LE, &*data).unwrap();
    for section in sections.iter() {
        if section.sh_type(LE) == elf::SHT_RELA {
            panic!(
                "{}: RELA relocations are not supported by the prefix",
                path.display()
            );
        }
        if let Some((rels, _)) = section.rel(LE, &*data).unwrap() {
            for rel in rels {
                let kind = rel.r_type(LE);
                assert!(
                    kind == elf::R_386_RELATIVE,
                    "{}: relocation type {kind} at {:#x}: the prefix only applies R_386_RELATIVE",
                    path.display(),
                    rel.r_offset(LE)
                );
            }
        }
    }
}
