//! `cargo xtask bench`: softpxe side by side with iPXE on the same emulator and network
//! (QEMU TCG, e1000, `-cpu pentium2` for both since Debian's iPXE needs it). Medians of 3 runs,
//! run one at a time. Results: a Markdown table on stdout and in target/bench/pxe.md.
//!
//! - boot: seconds from QEMU start to the first line the test NBP prints, over QEMU's user
//!   network (slirp) and over the namespace LAN with dnsmasq DHCP + a separate proxyDHCP;
//! - tftp: a 16 MiB file over the LAN from atftpd (RFC 7440) with windowsize 16 and 1, and from
//!   dnsmasq's TFTP; softpxe reports its own transfer time (`test_file`), iPXE is timed between
//!   the `echo` lines of a script around `imgfetch`.
use anyhow::{bail, Context, Result};
use softpxe::BuildOptions;
use softpxe_settings::{Text, Timing};
use softpxe_tests::lan::{Host, Lan};
use softpxe_tests::{run_dir, test_nbp, Qemu, Run, Wait};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

const RUNS: usize = 3;
const NBP_STARTED: &str = "testnbp: started";
const IPXE_LKRN: &str = "/usr/lib/ipxe/ipxe.lkrn";
const BIG: usize = 16 << 20;

#[derive(Clone, Copy, Debug)]
enum Client {
    SoftpxeSpec,
    SoftpxeFast,
    IpxeLkrn,
    IpxeRom,
}

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::SoftpxeSpec => "softpxe floppy (timing spec)",
            Client::SoftpxeFast => "softpxe floppy (timing fast)",
            Client::IpxeLkrn => "iPXE ipxe.lkrn (-kernel)",
            Client::IpxeRom => "iPXE NIC ROM (QEMU default)",
        }
    }
}

fn floppy(dir: &Path, f: impl FnOnce(&mut softpxe_settings::Settings)) -> Result<PathBuf> {
    let mut o = BuildOptions::default();
    f(&mut o.settings);
    let path = dir.join("boot.img");
    softpxe::write_image_file(&path, &softpxe::build_floppy(&o)?, true)?;
    Ok(path)
}

/// A machine for `client` on user net or the LAN tap. `screen`: copy the screen to COM1
/// (`-nographic`; iPXE prints only there) - not while timing the test NBP, whose own COM1
/// lines would interleave with the copied screen text.
fn machine(
    client: Client,
    dir: &Path,
    q: Qemu,
    tap: bool,
    user: Option<(&Path, &str)>,
    screen: bool,
) -> Result<Qemu> {
    let q = q.cpu("pentium2").memory(128);
    let rom = matches!(client, Client::IpxeRom);
    let q = match (tap, user) {
        (true, _) => q.nic_tap("e1000", rom),
        (false, Some((tftp, file))) if rom => q.args(&[
            "-netdev",
            &format!("user,id=n0,tftp={},bootfile={file}", tftp.display()),
            "-device",
            "e1000,netdev=n0",
        ]),
        (false, Some((tftp, file))) => q.nic_user_tftp("e1000", tftp, file),
        (false, None) => bail!("no network"),
    };
    Ok(match client {
        Client::SoftpxeSpec => q.floppy(&floppy(dir, |_| {})?),
        Client::SoftpxeFast => q.floppy(&floppy(dir, |s| s.timing = Some(Timing::Fast))?),
        Client::IpxeLkrn => q.args(&["-kernel", IPXE_LKRN]),
        Client::IpxeRom => q.args(&["-boot", "n"]),
    }
    .args(if screen { &["-nographic"][..] } else { &[][..] }))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn secs(run: &Run, i: usize) -> Result<f64> {
    run.marker_times[i]
        .map(|d| d.as_secs_f64())
        .context("marker missing")
}

fn tftp_dir(dir: &Path) -> Result<PathBuf> {
    let root = dir.join("tftp");
    fs::create_dir_all(&root)?;
    fs::copy(test_nbp(), root.join("testnbp.0"))?;
    Ok(root)
}

fn boot_slirp(client: Client) -> Result<f64> {
    let mut t = Vec::new();
    for i in 0..RUNS {
        let name = format!("bench-slirp-{client:?}-{i}");
        let dir = run_dir(&format!("{name}-files"))?;
        let tftp = tftp_dir(&dir)?;
        let q = machine(
            client,
            &dir,
            Qemu::bios(&name),
            false,
            Some((&tftp, "testnbp.0")),
            false,
        )?;
        let run = q.run(&Wait::for_markers(&[NBP_STARTED], Duration::from_secs(120)))?;
        t.push(secs(&run, 0)?);
    }
    Ok(median(t))
}

fn boot_lan(client: Client) -> Result<f64> {
    let mut t = Vec::new();
    for i in 0..RUNS {
        let lan = Lan::new(&format!("bench-lan-{i}"))?;
        let tftp = tftp_dir(lan.dir())?;
        lan.dnsmasq(
            Host::Dhcp,
            &[
                "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
                "--enable-ra",
                "--dhcp-range=::,constructor:eth0,ra-only",
            ],
        )?;
        lan.dnsmasq(
            Host::Boot,
            &[
                "--dhcp-range=10.99.0.0,proxy",
                "--pxe-service=x86PC,bench,testnbp",
                "--enable-tftp",
                &format!("--tftp-root={}", tftp.display()),
            ],
        )?;
        let q = machine(
            client,
            lan.dir(),
            Qemu::bios("bench-lan").lan(&lan),
            true,
            None,
            false,
        )?;
        let run = q.run(&Wait::for_markers(&[NBP_STARTED], Duration::from_secs(120)))?;
        t.push(secs(&run, 0)?);
    }
    Ok(median(t))
}

#[derive(Clone, Copy, Debug)]
enum Server {
    Atftpd,
    Dnsmasq,
}

/// MB/s (10^6 bytes) for a 16 MiB file.
fn tftp(client: Client, server: Server, windowsize: u8) -> Result<f64> {
    let mut rates = Vec::new();
    for i in 0..RUNS {
        let lan = Lan::new(&format!("bench-tftp-{i}"))?;
        let tftp = tftp_dir(lan.dir())?;
        fs::write(
            tftp.join("big.bin"),
            (0..BIG)
                .map(|i| (i * 7 + i / 4093) as u8)
                .collect::<Vec<_>>(),
        )?;
        fs::write(
            tftp.join("bench.ipxe"),
            "#!ipxe\necho bench-start\nimgfetch tftp://10.99.0.2/big.bin\necho bench-done\n",
        )?;
        let boot = if matches!(client, Client::IpxeLkrn | Client::IpxeRom) {
            "bench.ipxe"
        } else {
            "testnbp.0"
        };
        let dhcp_boot = format!("--dhcp-boot={boot},,10.99.0.2");
        let dhcp_args = [
            "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
            "--enable-ra",
            "--dhcp-range=::,constructor:eth0,ra-only",
            dhcp_boot.as_str(),
        ];
        let root_arg = format!("--tftp-root={}", tftp.display());
        match server {
            Server::Atftpd => {
                lan.dnsmasq(Host::Dhcp, &dhcp_args)?;
                lan.atftpd(Host::Boot, &tftp, true)?;
            }
            Server::Dnsmasq => {
                lan.dnsmasq(Host::Dhcp, &dhcp_args)?;
                lan.dnsmasq(Host::Boot, &["--enable-tftp", root_arg.as_str()])?;
            }
        }
        let name = "bench-tftp";
        let rate = match client {
            Client::SoftpxeSpec | Client::SoftpxeFast => {
                let img = floppy(lan.dir(), |s| {
                    s.timing = Some(Timing::Fast);
                    s.test_file = Some(Text::new(b"big.bin").unwrap());
                    s.tftp_windowsize = Some(windowsize);
                })?;
                let q = Qemu::bios(name)
                    .lan(&lan)
                    .cpu("pentium2")
                    .memory(128)
                    .floppy(&img)
                    .nic_tap("e1000", false);
                let run = q.run(&Wait::for_markers(
                    &["softpxe: test_file"],
                    Duration::from_secs(300),
                ))?;
                let line = run
                    .serial
                    .lines()
                    .find(|l| l.starts_with("softpxe: test_file"))
                    .context("no line")?;
                let ms: f64 = line
                    .split(" bytes in ")
                    .nth(1)
                    .and_then(|r| r.split(" ms").next())
                    .and_then(|n| n.parse().ok())
                    .context("no time")?;
                BIG as f64 / (ms / 1000.0) / 1e6
            }
            Client::IpxeLkrn | Client::IpxeRom => {
                let q = machine(
                    client,
                    lan.dir(),
                    Qemu::bios(name).lan(&lan),
                    true,
                    None,
                    true,
                )?;
                let run = q.run(&Wait::for_markers(
                    &["bench-start", "bench-done"],
                    Duration::from_secs(300),
                ))?;
                BIG as f64 / (secs(&run, 1)? - secs(&run, 0)?) / 1e6
            }
        };
        rates.push(rate);
    }
    Ok(median(rates))
}

fn main() -> Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let mut out = String::new();
    writeln!(
        out,
        "# softpxe vs iPXE (QEMU 7.2 TCG, e1000, -cpu pentium2, medians of {RUNS})\n"
    )?;
    writeln!(out, "## Power-on to NBP start (s)\n\n| client | QEMU user net | LAN: dnsmasq DHCP + proxyDHCP |\n|---|---|---|")?;
    let mut boot = Vec::new();
    for c in [
        Client::SoftpxeSpec,
        Client::SoftpxeFast,
        Client::IpxeLkrn,
        Client::IpxeRom,
    ] {
        let (a, b) = (boot_slirp(c)?, boot_lan(c)?);
        eprintln!("{}: {a:.2} s / {b:.2} s", c.name());
        writeln!(out, "| {} | {a:.2} | {b:.2} |", c.name())?;
        boot.push((c, a, b));
    }
    writeln!(
        out,
        "\n## TFTP, 16 MiB over the LAN (MB/s)\n\n| client, server | MB/s |\n|---|---|"
    )?;
    let cases = [
        (
            "softpxe, atftpd, windowsize 16",
            Client::SoftpxeFast,
            Server::Atftpd,
            16,
        ),
        (
            "softpxe, atftpd, windowsize 1 (off)",
            Client::SoftpxeFast,
            Server::Atftpd,
            1,
        ),
        (
            "softpxe, dnsmasq (no windowsize)",
            Client::SoftpxeFast,
            Server::Dnsmasq,
            16,
        ),
        (
            "iPXE lkrn imgfetch, atftpd",
            Client::IpxeLkrn,
            Server::Atftpd,
            1,
        ),
        (
            "iPXE lkrn imgfetch, dnsmasq",
            Client::IpxeLkrn,
            Server::Dnsmasq,
            1,
        ),
    ];
    for (label, c, s, w) in cases {
        let r = tftp(c, s, w)?;
        eprintln!("{label}: {r:.1} MB/s");
        writeln!(out, "| {label} | {r:.1} |")?;
    }
    print!("{out}");
    let dir = softpxe_tests::repo_root().join("target/bench");
    fs::create_dir_all(&dir)?;
    fs::write(dir.join("pxe.md"), &out)?;
    Ok(())
}
