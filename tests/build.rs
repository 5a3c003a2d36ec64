//! Builds the test NBP (`tests/nbp`, i586 bare) and tells the tests where its flat image is
//! (`SOFTPXE_TESTNBP`).
use softpxe_fwbuild::{build_package, flat_image};
use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    println!("cargo:rerun-if-changed={}", manifest.join("nbp").display());
    println!("cargo:rerun-if-changed=build.rs");
    let elfs = build_package(&root, "softpxe-testnbp", "testnbp");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("testnbp.0");
    fs::write(&out, flat_image(&elfs.join("testnbp"))).unwrap();
    println!("cargo:rustc-env=SOFTPXE_TESTNBP={}", out.display());
    // apitest.0, the PXE API exerciser (tests/nbp/src/apitest.s), from the same package build
    let apitest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("apitest.0");
    fs::write(&apitest, flat_image(&elfs.join("apitest"))).unwrap();
    println!("cargo:rustc-env=SOFTPXE_APITEST={}", apitest.display());
    // fbms.krn, the tiny kernel that reports base memory after an unload (tests/nbp/src/fbms.s)
    let fbms = PathBuf::from(env::var("OUT_DIR").unwrap()).join("fbms.krn");
    fs::write(&fbms, flat_image(&elfs.join("fbms"))).unwrap();
    println!("cargo:rustc-env=SOFTPXE_FBMS={}", fbms.display());
    build_snpcheck(&root, &manifest);
}

/// snpcheck.efi, the EFI test NBP that calls every SNP function (`tests/efinbp`), for
/// x86_64-unknown-uefi; its path goes to the tests as `SOFTPXE_SNPCHECK`.
fn build_snpcheck(root: &std::path::Path, manifest: &std::path::Path) {
    const TARGET: &str = "x86_64-unknown-uefi";
    println!(
        "cargo:rerun-if-changed={}",
        manifest.join("efinbp").display()
    );
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target_dir = root.join("target").join("testnbp");
    let mut cmd = std::process::Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--profile", "firmware", "--target", TARGET])
        .args(["-p", "softpxe-efi-testnbp", "--target-dir"])
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
    let output = cmd.output().expect("running cargo for snpcheck.efi");
    assert!(
        output.status.success(),
        "building snpcheck.efi (cargo build -p softpxe-efi-testnbp --target {TARGET}) failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let efi = target_dir
        .join(TARGET)
        .join("firmware")
        .join("snpcheck.efi");
    println!("cargo:rustc-env=SOFTPXE_SNPCHECK={}", efi.display());
}
