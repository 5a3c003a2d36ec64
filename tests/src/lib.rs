//! Emulator harness: boots softpxe images headless in QEMU and Bochs, captures COM1 to a file,
//! waits for markers in it with a hard timeout, and keeps everything a failed run left behind
//! under `target/emu/<run name>/` (command line, serial log, emulator output).
//!
//! Every run prints the command it ran. Markers are matched on serial text with ANSI escape
//! sequences removed.
// Unsafe only in `lan::lossy` (setns, TUNSETIFF, poll: the user-space lossy link).
#![deny(unsafe_code)]

pub mod apitest;
mod bochs;
pub mod lan;
pub mod nbps;
pub mod ovmf;
mod qemu;
pub mod tools;

pub use bochs::Bochs;
pub use ovmf::Ovmf;
pub use qemu::Qemu;

use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A fresh, empty directory `target/emu/<name>` for one run's files.
pub fn run_dir(name: &str) -> Result<PathBuf> {
    let dir = repo_root().join("target").join("emu").join(name);
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// What an emulator run produced.
#[derive(Debug)]
pub struct Run {
    pub name: String,
    /// COM1 output, ANSI escapes removed.
    pub serial: String,
    pub elapsed: Duration,
    /// Exit code if the emulator ended by itself.
    pub exit_code: Option<i32>,
    /// Seconds from start until each marker first appeared, in marker order.
    pub marker_times: Vec<Option<Duration>>,
    pub dir: PathBuf,
}

impl Run {
    /// Fails with the serial log unless `needle` appeared.
    pub fn expect(&self, needle: &str) -> Result<&Self> {
        if !self.serial.contains(needle) {
            bail!(
                "{}: expected {needle:?} on serial; got (log kept in {}):\n{}",
                self.name,
                self.dir.display(),
                self.serial
            );
        }
        Ok(self)
    }

    /// Fails with the serial log if `needle` appeared.
    pub fn expect_absent(&self, needle: &str) -> Result<&Self> {
        if self.serial.contains(needle) {
            bail!(
                "{}: did not expect {needle:?} on serial; got:\n{}",
                self.name,
                self.serial
            );
        }
        Ok(self)
    }
}

/// When a run stops: all markers seen, or one of the failure texts seen, or the timeout.
#[derive(Clone, Debug)]
pub struct Wait {
    pub markers: Vec<String>,
    pub failures: Vec<String>,
    pub timeout: Duration,
    /// Markers awaited in other files (a server's log), as (file, text); their times follow
    /// the serial markers' in [`Run::marker_times`].
    pub file_markers: Vec<(PathBuf, String)>,
    /// How often the serial file and the file markers are read (50 ms unless
    /// [`Wait::poll`]): the resolution of [`Run::marker_times`].
    pub poll: Duration,
}

impl Wait {
    /// Wait for every marker (in any order) within `timeout`. Panics, CPU exceptions and
    /// boot-record errors end the run at once.
    pub fn for_markers(markers: &[&str], timeout: Duration) -> Self {
        Wait {
            markers: markers.iter().map(|s| s.to_string()).collect(),
            failures: vec![
                "softpxe: panic".into(),
                "softpxe: CPU exception".into(),
                "softpxe: halted".into(),
                "softpxe: no SOFTPXE.SYS".into(),
                "softpxe: disk error".into(),
            ],
            timeout,
            file_markers: Vec::new(),
            poll: Duration::from_millis(50),
        }
    }

    /// Reads the serial file and the file markers every `every` (the bench: 10 ms, for
    /// marker times to 10 ms).
    pub fn poll(mut self, every: Duration) -> Self {
        self.poll = every;
        self
    }

    /// Also wait for `text` to appear in `file` (e.g. dnsmasq's log).
    pub fn and_file(mut self, file: &Path, text: &str) -> Self {
        self.file_markers
            .push((file.to_path_buf(), text.to_string()));
        self
    }
}

/// Removes ANSI escape sequences (CSI and two-byte escapes) and NULs.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                if chars.next() == Some('[') {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
            }
            '\0' => {}
            c => out.push(c),
        }
    }
    out
}

/// Spawned emulator + where its serial goes; shared by the QEMU and Bochs runners.
pub(crate) fn supervise(
    name: &str,
    dir: &Path,
    serial_path: &Path,
    mut child: Child,
    wait: &Wait,
    kill: impl Fn(&mut Child),
) -> Result<Run> {
    let start = Instant::now();
    let mut marker_times = vec![None; wait.markers.len() + wait.file_markers.len()];
    let mut exit_code = None;
    let serial = loop {
        let raw = fs::read(serial_path).unwrap_or_default();
        let text = strip_ansi(&String::from_utf8_lossy(&raw));
        for (i, m) in wait.markers.iter().enumerate() {
            if marker_times[i].is_none() && text.contains(m.as_str()) {
                marker_times[i] = Some(start.elapsed());
            }
        }
        for (j, (file, m)) in wait.file_markers.iter().enumerate() {
            let i = wait.markers.len() + j;
            if marker_times[i].is_none()
                && fs::read_to_string(file)
                    .unwrap_or_default()
                    .contains(m.as_str())
            {
                marker_times[i] = Some(start.elapsed());
            }
        }
        let done = marker_times.iter().all(Option::is_some);
        let failed = wait.failures.iter().any(|f| text.contains(f.as_str()));
        if let Some(status) = child.try_wait().context("waiting for the emulator")? {
            exit_code = status.code();
            let raw = fs::read(serial_path).unwrap_or_default();
            break strip_ansi(&String::from_utf8_lossy(&raw));
        }
        if done || failed || start.elapsed() >= wait.timeout {
            // a moment for the last line to reach the file
            std::thread::sleep(Duration::from_millis(100));
            kill(&mut child);
            let _ = child.wait();
            let raw = fs::read(serial_path).unwrap_or_default();
            break strip_ansi(&String::from_utf8_lossy(&raw));
        }
        std::thread::sleep(wait.poll);
    };
    // The last read may hold what an earlier one cut mid-line (a failure text can match before
    // the whole marker line is in the file): look for the markers once more in it.
    for (i, m) in wait.markers.iter().enumerate() {
        if marker_times[i].is_none() && serial.contains(m.as_str()) {
            marker_times[i] = Some(start.elapsed());
        }
    }
    let run = Run {
        name: name.to_string(),
        serial,
        elapsed: start.elapsed(),
        exit_code,
        marker_times,
        dir: dir.to_path_buf(),
    };
    fs::write(dir.join("serial.txt"), &run.serial).ok();
    let missing: Vec<_> = wait
        .markers
        .iter()
        .chain(wait.file_markers.iter().map(|(_, m)| m))
        .zip(&run.marker_times)
        .filter(|(_, t)| t.is_none())
        .map(|(m, _)| m.as_str())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{name}: after {:.1} s (timeout {:.0} s, exit {:?}) these never appeared on serial: {missing:?}\n\
             files kept in {}\n--- serial ---\n{}",
            run.elapsed.as_secs_f64(),
            wait.timeout.as_secs_f64(),
            run.exit_code,
            dir.display(),
            run.serial
        );
    }
    Ok(run)
}

/// Writes the command line to `dir/command.txt` and prints it.
pub(crate) fn announce(dir: &Path, cmd: &Command) {
    let line = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| shell_quote(&a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    eprintln!("running: {line}");
    fs::write(dir.join("command.txt"), format!("{line}\n")).ok();
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_=.,/:+@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// CRC-32 (IEEE 802.3 polynomial, reflected, init and final XOR FFFFFFFFh), as softpxe's
/// `test_file` summary and apitest.0's `crc=` compute it.
pub fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    !data.iter().fold(!0u32, |c, &b| {
        TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// Writes `len` bytes of a pattern without short repeats (xorshift) to `path` for the TFTP
/// tests; returns their CRC-32.
pub fn pattern_file(path: &Path, len: usize) -> Result<u32> {
    let mut x: u32 = 0x1234_5678;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    fs::write(path, &data).with_context(|| format!("writing {}", path.display()))?;
    Ok(crc32(&data))
}

/// Writes `dir/boot.img`: a floppy with `timing = fast` and whatever `f` sets, built by the
/// builder's library (overwriting a previous one). The image most network tests boot.
pub fn floppy_fast(dir: &Path, f: impl FnOnce(&mut softpxe_settings::Settings)) -> Result<PathBuf> {
    let mut o = softpxe::BuildOptions::default();
    o.settings.timing = Some(softpxe_settings::Timing::Fast);
    f(&mut o.settings);
    floppy_with(dir, &o)
}

/// Writes `dir/boot.img`: a floppy built from `options` (default settings: `BuildOptions::
/// default()`), overwriting a previous one. Every test image is made here or in [`usb_with`].
pub fn floppy_with(dir: &Path, options: &softpxe::BuildOptions) -> Result<PathBuf> {
    let path = dir.join("boot.img");
    softpxe::write_image_file(&path, &softpxe::build_floppy(options)?, true)?;
    Ok(path)
}

/// Writes `dir/usb.img`: a USB stick image of `size` bytes built from `options`.
pub fn usb_with(dir: &Path, options: &softpxe::BuildOptions, size: u64) -> Result<PathBuf> {
    let path = dir.join("usb.img");
    softpxe::write_image_file(&path, &softpxe::build_usb(options, size)?, true)?;
    Ok(path)
}

/// softpxe's own test NBP (`tests/nbp`), built by this crate's build script.
pub fn test_nbp() -> &'static Path {
    Path::new(env!("SOFTPXE_TESTNBP"))
}

/// apitest.0 (`tests/nbp/src/apitest.s`), the NBP that exercises the whole PXE API and reports
/// every answer on COM1 (docs/api-test-nbp.md); built by this crate's build script.
pub fn api_test_nbp() -> &'static Path {
    Path::new(env!("SOFTPXE_APITEST"))
}

/// fbms.krn (`tests/nbp/src/fbms.s`): a tiny Linux kernel (real-mode setup only) that prints
/// `fbms: base memory N KiB, PXE gone|still there` on COM1 and halts; built by this crate's
/// build script.
pub fn fbms_kernel() -> &'static Path {
    Path::new(env!("SOFTPXE_FBMS"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_sequences_are_removed() {
        assert_eq!(
            strip_ansi("\u{1b}[2J\u{1b}[1;1Hsoftpxe\u{1b}[0m ok\0"),
            "softpxe ok"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("-drive"), "-drive");
        assert_eq!(shell_quote("romfile="), "romfile=");
        assert_eq!(shell_quote("a b"), "'a b'");
    }
}
