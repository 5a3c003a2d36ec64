//! The lossy-link rows (issue 7): softpxe and iPXE on the same flat LAN, the same servers, the
//! same files, the same seeded user-space link (tests/src/lan/lossy.rs), at 0 % and 10 % loss
//! each way (with 1 % duplicates and 5 % reordering each way at 10 %).
//!
//! - softpxe: the floppy from `BuildOptions::default()`, e1000 without its option ROM; an NBP's
//!   TFTP time runs from `TFTP IP:` (the line before the request) to the NBP's own first line,
//!   a file's to softpxe's `softpxe: test_file ...` summary (size and CRC-32 checked; its own
//!   clock's figure goes into the row's notes).
//! - iPXE: QEMU's iPXE NIC ROM on the same e1000 (`-boot n -nographic`, which copies the
//!   screen to COM1); an NBP's TFTP time runs from `tftp://.../NBP...` on serial to the NBP's
//!   own first line, a file's from the `echo` before `imgfetch` to the one after it.
//!
//! Both on the host's clock ([`Run::marker_times`]).
//!
//! DHCP comes from dnsmasq on the DHCP host (`--dhcp-boot=FILE,,10.99.0.2`), TFTP from dnsmasq
//! 2.90 or atftpd 0.8.0 (RFC 7440 windowsize on) on the boot host; DHCP crosses the same lossy
//! link, so power-on → NBP includes the DHCP retries each client's timers make.
use super::Sample;
use anyhow::{bail, ensure, Context, Result};
use softpxe::BuildOptions;
use softpxe_settings::Text;
use softpxe_tests::lan::{Faults, Host, Lan, LossConfig, GUEST_MAC};
use softpxe_tests::{crc32, nbps, repo_root, test_nbp, Qemu, Run};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The loss each way of the lossy rows.
pub const LOSS: f64 = 0.10;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Who {
    Softpxe,
    Ipxe,
}

impl Who {
    pub fn name(self) -> &'static str {
        match self {
            Who::Softpxe => "softpxe, default settings",
            Who::Ipxe => "iPXE NIC ROM",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tftpd {
    Dnsmasq,
    Atftpd,
}

impl Tftpd {
    pub fn name(self) -> &'static str {
        match self {
            Tftpd::Dnsmasq => "dnsmasq 2.90",
            Tftpd::Atftpd => "atftpd 0.8.0",
        }
    }
}

/// What the guest loads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Load {
    /// softpxe's test NBP (~66 KiB), until it prints `testnbp: started`.
    TestNbp,
    /// pxelinux.0, then ldlinux.c32, the config and meminfo.c32 with its libraries, until
    /// meminfo prints `DOS RAM:`.
    Pxelinux,
    /// A file of this many bytes (softpxe `test_file`, iPXE `imgfetch`).
    File(usize),
}

fn faults(loss: f64) -> Faults {
    if loss == 0.0 {
        Faults::NONE
    } else {
        Faults {
            loss,
            duplicate: 0.01,
            reorder: 0.05,
        }
    }
}

const NBP_STARTED: &str = "testnbp: started";
const MEMINFO: &str = "DOS RAM:";
const SERVER: &str = "10.99.0.2";

/// The pattern of the large file, and its CRC-32 (IEEE, as softpxe prints it).
fn big_file(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 + i / 4093) as u8).collect()
}

/// Writes the TFTP root for `load`; returns it, the DHCP boot file and the file to time.
fn tftp_root(lan: &Lan, who: Who, load: Load) -> Result<(PathBuf, &'static str, &'static str)> {
    Ok(match load {
        Load::TestNbp => {
            let root = lan.dir().join("tftp");
            fs::create_dir_all(&root)?;
            fs::copy(test_nbp(), root.join("testnbp.0"))?;
            (root, "testnbp.0", "testnbp.0")
        }
        Load::Pxelinux => {
            let root = nbps::syslinux_root(lan.dir(), "pxelinux.0", "meminfo", 0)?;
            (root, "pxelinux.0", "pxelinux.0")
        }
        Load::File(size) => {
            let root = lan.dir().join("tftp");
            fs::create_dir_all(&root)?;
            fs::copy(test_nbp(), root.join("testnbp.0"))?;
            fs::write(root.join("big.bin"), big_file(size))?;
            fs::write(
                root.join("bench.ipxe"),
                format!(
                    "#!ipxe\necho bench-start\nimgfetch tftp://{SERVER}/big.bin\necho bench-done\n"
                ),
            )?;
            let boot = if who == Who::Ipxe {
                "bench.ipxe"
            } else {
                "testnbp.0"
            };
            (root, boot, "big.bin")
        }
    })
}

/// The number in `key N unit` after the first `prefix` in `line`.
fn number_after(line: &str, key: &str, unit: &str) -> Option<f64> {
    line.split(key)
        .nth(1)?
        .split(unit)
        .next()?
        .trim()
        .parse()
        .ok()
}

/// softpxe's summary line starting with `prefix` (progress lines are redrawn after `\r`).
fn summary<'a>(run: &'a Run, prefix: &str) -> Result<&'a str> {
    run.serial
        .split(['\n', '\r'])
        .find(|l| l.trim_start().starts_with(prefix))
        .with_context(|| format!("no {prefix:?} line on serial:\n{}", run.serial))
}

fn t(run: &Run, i: usize) -> Result<f64> {
    run.marker_times[i]
        .map(|d| d.as_secs_f64())
        .context("marker missing")
}

fn one(who: Who, server: Tftpd, load: Load, loss: f64, seed: u64) -> Result<Sample> {
    let config = LossConfig::symmetric(faults(loss), seed);
    let lan = Lan::builder("bench-loss").lossy(config).build()?;
    let (root, boot, timed) = tftp_root(&lan, who, load)?;
    let dhcp_boot = format!("--dhcp-boot={boot},,{SERVER}");
    lan.dnsmasq(
        Host::Dhcp,
        &[
            "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
            "--enable-ra",
            "--dhcp-range=::,constructor:eth0,ra-only",
            &dhcp_boot,
        ],
    )?;
    match server {
        Tftpd::Dnsmasq => {
            lan.dnsmasq(
                Host::Boot,
                &["--enable-tftp", &format!("--tftp-root={}", root.display())],
            )?;
        }
        Tftpd::Atftpd => {
            lan.atftpd(Host::Boot, &root, true)?;
        }
    }
    let timeout = Duration::from_secs(match load {
        // lock-step from dnsmasq: ~230 s per MiB for iPXE at 10 % loss
        Load::File(size) => 120 + ((size as u64 * 400) >> 20),
        _ => 240,
    });
    let netdev = lan.qemu_netdev();
    let netdev: Vec<&str> = netdev.iter().map(String::as_str).collect();
    let q = Qemu::bios("bench-loss")
        .lan(&lan)
        .cpu("pentium2")
        .memory(128)
        .args(&netdev);
    let sample = match who {
        Who::Softpxe => {
            let mut o = BuildOptions::default();
            if let Load::File(_) = load {
                o.settings.test_file = Some(Text::new(b"big.bin").unwrap());
            }
            let img = lan.dir().join("boot.img");
            softpxe::write_image_file(&img, &softpxe::build_floppy(&o)?, true)?;
            let q = q.floppy(&img).args(&[
                "-device",
                &format!("e1000,netdev=n0,romfile=,mac={GUEST_MAC}"),
            ]);
            // the host's clock, as for iPXE: from the line before the request to the NBP's
            // first line (or the file's summary)
            let markers: Vec<&str> = match load {
                Load::TestNbp => vec!["TFTP IP:", NBP_STARTED],
                // pxelinux's banner reaches COM1 only once its config set SERIAL (iPXE's
                // `-nographic` copies it from the screen at once): softpxe's own line after
                // the transfer ends it instead
                Load::Pxelinux => vec!["TFTP IP:", "softpxe: starting the NBP", MEMINFO],
                Load::File(_) => vec!["TFTP IP:", "softpxe: test_file"],
            };
            let run = q.run(&super::measure::bench_wait(&markers, timeout))?;
            let prefix = match load {
                Load::File(_) => "softpxe: test_file".to_string(),
                _ => format!("TFTP: \"{timed}\""),
            };
            let line = summary(&run, &prefix)?;
            let ms = number_after(line, " bytes in ", " ms").context("no time")?;
            if let Load::File(size) = load {
                let want = format!("{size} bytes in ");
                ensure!(line.contains(&want), "short transfer: {line}");
                let crc = format!("crc32 {:08x}", crc32(&big_file(size)));
                ensure!(line.contains(&crc), "bad CRC (want {crc}): {line}");
            }
            let retries = line
                .split_once(" retr")
                .and_then(|(head, _)| head.rsplit(", ").next())
                .unwrap_or("0");
            let tftp = t(&run, 1)? - t(&run, 0)?;
            let boot = match load {
                Load::File(_) => tftp,
                _ => t(&run, markers.len() - 1)?,
            };
            Sample {
                values: vec![boot, tftp],
                note: format!("{retries} retries, softpxe's own clock {ms} ms"),
                link: None,
            }
        }
        Who::Ipxe => {
            let q = q.args(&[
                "-device",
                &format!("e1000,netdev=n0,mac={GUEST_MAC}"),
                "-boot",
                "n",
                "-nographic",
            ]);
            let fetching = format!("tftp://{SERVER}/{timed}...");
            let markers: Vec<&str> = match load {
                Load::TestNbp => vec![&fetching, NBP_STARTED],
                Load::Pxelinux => vec![&fetching, "PXELINUX 6.04", MEMINFO],
                Load::File(_) => vec!["bench-start", "bench-done"],
            };
            let mut wait = super::measure::bench_wait(&markers, timeout);
            // iPXE gives up: the script stops, iPXE tries the next boot device
            wait.failures.extend(
                [
                    "Connection timed out",
                    "Could not boot",
                    "No more network devices",
                ]
                .map(String::from),
            );
            let run = q.run(&wait)?;
            // the NBP's first line (or the echo after imgfetch) ends the timed transfer
            let tftp = t(&run, 1)? - t(&run, 0)?;
            let boot = match load {
                Load::File(_) => tftp,
                _ => t(&run, markers.len() - 1)?,
            };
            Sample {
                values: vec![boot, tftp],
                note: String::new(),
                link: None,
            }
        }
    };
    let stats = lan.stop_link()?;
    if loss > 0.0 && stats.to_guest.dropped + stats.from_guest.dropped == 0 {
        bail!("the lossy link dropped nothing: {stats:?}");
    }
    Ok(Sample {
        link: Some(stats),
        ..sample
    })
}

/// One run (seed `index + 1`): [power-on to the marker, s; the timed TFTP transfer, s] (a
/// file: the same transfer time twice). A failed run's files (serial, server logs, link
/// counters) are moved to `target/bench/failed/<row>-<seed>/`.
pub fn measure(who: Who, server: Tftpd, load: Load, loss: f64, index: usize) -> Result<Sample> {
    let seed = index as u64 + 1;
    match one(who, server, load, loss, seed) {
        Ok(s) => Ok(s),
        Err(e) => {
            let keep = repo_root().join(format!(
                "target/bench/failed/{who:?}-{server:?}-{load:?}-{loss}-{seed}"
            ));
            let _ = fs::remove_dir_all(&keep);
            let _ = fs::create_dir_all(keep.parent().unwrap_or(Path::new(".")));
            let _ = fs::rename(repo_root().join("target/emu/bench-loss"), &keep);
            Err(e.context(format!(
                "{} from {}, {load:?}, loss {loss}, seed {seed} (files in {})",
                who.name(),
                server.name(),
                keep.display()
            )))
        }
    }
}

/// The size of the file `load` times, for the records.
pub fn timed_size(load: Load) -> u64 {
    match load {
        Load::TestNbp => fs::metadata(test_nbp()).map(|m| m.len()).unwrap_or(0),
        Load::Pxelinux => fs::metadata(Path::new("/usr/lib/PXELINUX/pxelinux.0"))
            .map(|m| m.len())
            .unwrap_or(0),
        Load::File(size) => size as u64,
    }
}
