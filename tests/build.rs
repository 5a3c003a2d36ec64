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
}
