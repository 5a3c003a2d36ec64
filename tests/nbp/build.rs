//! Link settings for the test NBP: linked at 0000:7C00, no libc, no start files.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-no-pie",
        "-static",
        "-Wl,--build-id=none",
    ] {
        println!("cargo:rustc-link-arg-bin=testnbp={arg}");
    }
    println!("cargo:rustc-link-arg-bin=testnbp=-Wl,-T{dir}/nbp.ld");
    // apitest.0 (src/apitest.s): the same layout, its own bin
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-no-pie",
        "-static",
        "-Wl,--build-id=none",
    ] {
        println!("cargo:rustc-link-arg-bin=apitest={arg}");
    }
    println!("cargo:rustc-link-arg-bin=apitest=-Wl,-T{dir}/nbp.ld");
    // fbms.krn (src/fbms.s): a tiny Linux kernel, the same link layout
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-no-pie",
        "-static",
        "-Wl,--build-id=none",
    ] {
        println!("cargo:rustc-link-arg-bin=fbms={arg}");
    }
    println!("cargo:rustc-link-arg-bin=fbms=-Wl,-T{dir}/nbp.ld");
    println!("cargo:rerun-if-changed=src/fbms.s");
    println!("cargo:rerun-if-changed=src/apitest.s");
    println!("cargo:rerun-if-changed=src/rxfilter.s");
    println!("cargo:rerun-if-changed=nbp.ld");
    println!("cargo:rerun-if-changed=src/nbp.s");
}
