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
    let target_dir = root.join("target").join(target_dir_name);
    let mut cmd = Command::new(cargo);
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
        .arg(&target_dir);
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
