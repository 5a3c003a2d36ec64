//! Builds the BIOS firmware (`rom/bios`) for its own target with its own target directory and
//! embeds the results in the `softpxe` binary (see `src/firmware.rs`):
//! `BOOTSECT_FAT12`, `VBR_FAT16`, `MBR` (512-byte boot records) and `SOFTPXE_SYS`.
//!
//! The ELF files are turned into flat images (`softpxe-fwbuild`); SOFTPXE.SYS is checked to
//! carry only R_386_RELATIVE relocations, the one kind its prefix knows how to apply.
use softpxe_fwbuild::{build_package, check_relocations, flat_image};
use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    for dir in [
        "rom",
        "drivers",
        "settings",
        "Cargo.toml",
        "Cargo.lock",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!("cargo:rerun-if-changed=build.rs");

    let elfs = build_package(&root, "softpxe-bios", "firmware");
    let boot = |name: &str| -> Vec<u8> {
        let img = flat_image(&elfs.join(name));
        assert!(
            img.len() <= 512,
            "{name}: boot record is {} bytes",
            img.len()
        );
        let mut sector = img;
        sector.resize(512, 0);
        sector
    };
    fs::write(out.join("bootsect_fat12.bin"), boot("bootsect-fat12")).unwrap();
    fs::write(out.join("vbr_fat16.bin"), boot("vbr-fat16")).unwrap();
    let vbr32 = flat_image(&elfs.join("vbr-fat32"));
    assert!(
        vbr32.len() == 1024,
        "vbr-fat32: {} bytes, want 1024",
        vbr32.len()
    );
    fs::write(out.join("vbr_fat32.bin"), vbr32).unwrap();
    fs::write(out.join("mbr.bin"), boot("mbr")).unwrap();
    let sys_elf = elfs.join("softpxe-sys");
    check_relocations(&sys_elf);
    fs::write(out.join("softpxe.sys"), flat_image(&sys_elf)).unwrap();
    fs::write(
        out.join("firmware.rs"),
        "pub static BOOTSECT_FAT12: &[u8; 512] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/bootsect_fat12.bin\"));\n\
         pub static VBR_FAT16: &[u8; 512] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/vbr_fat16.bin\"));\n\
         pub static VBR_FAT32: &[u8; 1024] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/vbr_fat32.bin\"));\n\
         pub static MBR: &[u8; 512] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/mbr.bin\"));\n\
         pub static SOFTPXE_SYS: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/softpxe.sys\"));\n",
    )
    .unwrap();
    build_efi(&root, &out);
}

/// The UEFI firmware (`rom/efi`, EFI/BOOT/BOOTX64.EFI): a PE32+ application for
/// x86_64-unknown-uefi, built like the BIOS firmware in its own target directory.
fn build_efi(root: &std::path::Path, out: &std::path::Path) {
    const TARGET: &str = "x86_64-unknown-uefi";
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target_dir = root.join("target").join("firmware");
    let mut cmd = std::process::Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--profile", "firmware", "--target", TARGET])
        .args(["-p", "softpxe-efi", "--bin", "softpxe-efi", "--target-dir"])
        .arg(&target_dir);
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
    let output = cmd.output().expect("running cargo for the UEFI firmware");
    assert!(
        output.status.success(),
        "building softpxe-efi (cargo build -p softpxe-efi --target {TARGET}) failed:\n{}\n\
         (install the target with: rustup target add {TARGET})",
        String::from_utf8_lossy(&output.stderr)
    );
    let efi = target_dir
        .join(TARGET)
        .join("firmware")
        .join("softpxe-efi.efi");
    fs::copy(&efi, out.join("bootx64.efi")).expect("copying softpxe-efi.efi");
    fs::write(
        out.join("firmware_efi.rs"),
        "pub static BOOTX64_EFI: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/bootx64.efi\"));\n",
    )
    .unwrap();
}
