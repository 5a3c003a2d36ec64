//! Helpers shared by the builder's integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Runs an external checker (fsck.fat, mdir). A missing tool fails the test: CI installs
/// dosfstools and mtools, so a silent skip would hide a broken image.
pub fn run_tool(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {tool} ({e}): install it with `apt-get install -y dosfstools mtools`")
    });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{tool} {args:?} failed with {}:\n{text}",
        out.status
    );
    text
}

/// `fsck.fat -n` on a file holding one FAT volume.
pub fn fsck(volume: &Path) -> String {
    let text = run_tool("fsck.fat", &["-n", volume.to_str().unwrap()]);
    assert!(
        !text.contains("differ") && !text.to_lowercase().contains("dirty"),
        "fsck.fat complained:\n{text}"
    );
    text
}
