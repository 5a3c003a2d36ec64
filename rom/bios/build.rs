//! Link settings for the firmware binaries: each gets its own linker script; none links libc or
//! start files. Only meaningful for the bare i586 target (builder/build.rs builds us that way).
use std::{env, fs, path::PathBuf};

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let ld = dir.join("ld");
    let common = [
        "-nostartfiles",
        "-nostdlib",
        "-Wl,--build-id=none",
        "-Wl,--no-eh-frame-hdr",
    ];
    for (bin, script, pie) in [
        ("softpxe-sys", "sys.ld", true),
        ("bootsect-fat12", "bootsect.ld", false),
        ("vbr-fat16", "bootsect.ld", false),
        ("vbr-fat32", "bootsect2.ld", false),
        ("mbr", "mbr.ld", false),
    ] {
        for arg in common {
            println!("cargo:rustc-link-arg-bin={bin}={arg}");
        }
        let mode = if pie {
            ["-static-pie", "-Wl,--no-dynamic-linker"]
        } else {
            ["-no-pie", "-static"]
        };
        for arg in mode {
            println!("cargo:rustc-link-arg-bin={bin}={arg}");
        }
        println!(
            "cargo:rustc-link-arg-bin={bin}=-Wl,-T{}",
            ld.join(script).display()
        );
    }
    // The version string the prefix carries in the SOFTPXE.SYS header (bytes 64..96).
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let version = env::var("CARGO_PKG_VERSION").unwrap();
    fs::write(
        out.join("version.s"),
        format!(".macro softpxe_version\n.ascii \"{version}\"\n.endm\n"),
    )
    .unwrap();
    println!("cargo:rerun-if-changed=ld");
    println!("cargo:rerun-if-changed=build.rs");
}
