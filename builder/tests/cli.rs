//! The `softpxe` binary as a user runs it: exit codes (0 ok, 1 failure, 2 usage), messages that
//! name the file and the step, and no output file or temp file left behind on failure.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn softpxe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_softpxe"))
        .args(args)
        .output()
        .expect("running softpxe")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn build_floppy_then_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("boot.img");
    let o = softpxe(&[
        "build",
        "floppy",
        "-o",
        p(&img),
        "--boot-file",
        "pxelinux.0",
        "--ip",
        "10.0.0.9/24",
        "--menu-timeout",
        "5",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(fs::metadata(&img).unwrap().len(), 1_474_560);
    assert_eq!(entries(dir.path()), ["boot.img"], "no temp file left");

    let o = softpxe(&["inspect", p(&img)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "1.44 MB floppy image",
        "FAT12",
        "SOFTPXE.SYS",
        "SOFTPXE.CFG",
        "boot_file = pxelinux.0",
        "ip = 10.0.0.9",
        "netmask = 255.255.255.0",
        "menu_timeout = 5",
        "firmware:   version",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
}

#[test]
fn build_usb_then_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("usb.img");
    let o = softpxe(&[
        "build",
        "usb",
        "-o",
        p(&img),
        "--size",
        "16M",
        "--nic",
        "8086:100e",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(fs::metadata(&img).unwrap().len(), 16 << 20);
    let o = softpxe(&["inspect", p(&img)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("MBR disk image") && out.contains("FAT16"),
        "{out}"
    );
    assert!(out.contains("nic = 8086:100e"), "{out}");
}

#[test]
fn existing_output_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("boot.img");
    fs::write(&img, b"precious").unwrap();
    let o = softpxe(&["build", "floppy", "-o", p(&img)]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.starts_with("softpxe: error: "), "{err}");
    assert!(err.contains(p(&img)) && err.contains("--force"), "{err}");
    assert_eq!(fs::read(&img).unwrap(), b"precious", "file untouched");
    assert_eq!(entries(dir.path()), ["boot.img"]);

    let o = softpxe(&["build", "floppy", "-o", p(&img), "--force"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(fs::metadata(&img).unwrap().len(), 1_474_560);
    assert_eq!(entries(dir.path()), ["boot.img"]);
}

#[test]
fn device_nodes_are_refused_even_with_force() {
    let o = softpxe(&["build", "floppy", "-o", "/dev/null", "--force"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("/dev/null exists and is not a regular file"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unwritable_output_directory() {
    // Tests run as root, so permissions cannot stop a write: use a parent that is a file.
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    fs::write(&blocker, b"x").unwrap();
    let img = blocker.join("boot.img");
    let o = softpxe(&["build", "floppy", "-o", p(&img)]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains(p(&img)) && err.contains(&format!("output directory {}", p(&blocker))),
        "{err}"
    );
    assert_eq!(entries(dir.path()), ["not-a-dir"], "nothing left behind");

    // /proc refuses new files, for root too.
    let o = softpxe(&["build", "floppy", "-o", "/proc/softpxe-test.img"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("/proc/softpxe-test.img"),
        "{}",
        stderr(&o)
    );
    assert!(!Path::new("/proc/.softpxe-test.img.tmp").exists());
}

#[test]
fn settings_file_is_strict_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("my.cfg");
    let img = dir.path().join("boot.img");
    fs::write(
        &cfg,
        "# mine\nboot_file = a.0\nbootfile = b.0\ntiming = slow\n",
    )
    .unwrap();
    let o = softpxe(&["build", "floppy", "-o", p(&img), "--settings", p(&cfg)]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "{}: line 3: unknown key \"bootfile\" (did you mean boot_file?)",
            p(&cfg)
        )),
        "{err}"
    );
    assert!(err.contains(&format!("{}: line 4:", p(&cfg))), "{err}");
    assert!(!img.exists());
    assert_eq!(entries(dir.path()), ["my.cfg"]);

    fs::write(&cfg, "boot_file = a.0\r\nlog = quiet\r\n").unwrap();
    let o = softpxe(&[
        "build",
        "floppy",
        "-o",
        p(&img),
        "--settings",
        p(&cfg),
        "--boot-file",
        "override.0",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&softpxe(&["inspect", p(&img)]));
    assert!(
        out.contains("boot_file = override.0") && out.contains("log = quiet"),
        "{out}"
    );

    let o = softpxe(&[
        "build",
        "floppy",
        "-o",
        p(&dir.path().join("x.img")),
        "--settings",
        p(&dir.path().join("missing.cfg")),
    ]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("reading settings file"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_flag_values_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("boot.img");
    for args in [
        ["--ip", "10.0.0/24"],
        ["--timing", "slow"],
        ["--menu-timeout", "300"],
        ["--nic", "eth0"],
    ] {
        let o = softpxe(&["build", "floppy", "-o", p(&img), args[0], args[1]]);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(args[0]), "{}", stderr(&o));
    }
    assert!(!img.exists());
}

#[test]
fn bad_usb_size() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("usb.img");
    let o = softpxe(&["build", "usb", "-o", p(&img), "--size", "12x"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("invalid size"), "{}", stderr(&o));
    let o = softpxe(&["build", "usb", "-o", p(&img), "--size", "5G"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("over 4G"), "{}", stderr(&o));
    assert!(!img.exists(), "nothing written");
    let o = softpxe(&["build", "usb", "-o", p(&img), "--size", "8M"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("minimum is 16M"), "{}", stderr(&o));
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn inspect_errors() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("random.bin");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let bytes: Vec<u8> = (0..65536)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    fs::write(&junk, bytes).unwrap();
    let o = softpxe(&["inspect", p(&junk)]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).starts_with(&format!("softpxe: error: inspecting {}: ", p(&junk))),
        "{}",
        stderr(&o)
    );

    let o = softpxe(&["inspect", p(&dir.path().join("missing.img"))]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("reading image"), "{}", stderr(&o));
}

#[test]
fn version_help_and_usage() {
    let o = softpxe(&["--version"]);
    assert_eq!(code(&o), 0);
    assert_eq!(
        stdout(&o).trim(),
        format!("softpxe {}", env!("CARGO_PKG_VERSION"))
    );
    let o = softpxe(&["--help"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("build") && stdout(&o).contains("inspect"));
    let o = softpxe(&["build", "floppy", "--help"]);
    assert!(stdout(&o).contains("--next-server") && stdout(&o).contains("--force"));
    assert_eq!(code(&softpxe(&[])), 2);
    assert_eq!(code(&softpxe(&["build", "floppy"])), 2, "missing -o");
    assert_eq!(code(&softpxe(&["frobnicate"])), 2);
}
