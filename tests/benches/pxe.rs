//! `cargo xtask bench`: softpxe side by side with iPXE on the same emulator and network
//! (QEMU TCG, e1000, `-cpu pentium2` for both since Debian's iPXE needs it). Medians of 3 runs,
//! run one at a time. Results: a Markdown table on stdout and in target/bench/pxe.md.
//!
//! - boot: seconds from QEMU start to the first line the test NBP prints, over QEMU's user
//!   network (slirp) and over the namespace LAN with dnsmasq DHCP + a separate proxyDHCP;
//! - tftp: a 16 MiB file over the LAN from atftpd (RFC 7440) with windowsize 16 and 1, and from
//!   dnsmasq's TFTP; softpxe reports its own transfer time (`test_file`), iPXE is timed between
//!   the `echo` lines of a script around `imgfetch`;
//! - loss (pxe/loss.rs): the same NBP, pxelinux.0 up to meminfo.c32, and a large file, for
//!   softpxe and iPXE's NIC ROM, over the user-space lossy link at 0 % and 10 % loss each way.
//!
//! Every row also goes to target/bench/pxe.json (pxe/report.rs). `SOFTPXE_BENCH` chooses the
//! sections: a comma-separated list of `base` (boot + tftp), `loss` (all lossy rows), or
//! `loss-nbp`, `loss-pxelinux`, `loss-file`; unset runs everything. `SOFTPXE_BENCH_RUNS=N`
//! overrides the number of runs of every row (e.g. 1 for a quick look).
#[path = "pxe/loss.rs"]
mod loss;
#[path = "pxe/report.rs"]
mod report;

use anyhow::{bail, Context, Result};
use loss::{Load, Tftpd, Who, LOSS};
use report::{loss_text, median, Record};
use softpxe::BuildOptions;
use softpxe_settings::{Text, Timing};
use softpxe_tests::lan::{Host, Lan};
use softpxe_tests::{run_dir, test_nbp, Qemu, Run, Wait};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

const RUNS: usize = 3;

/// `SOFTPXE_BENCH_RUNS`, or `default`.
fn runs(default: usize) -> usize {
    std::env::var("SOFTPXE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}
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

fn boot_slirp(client: Client) -> Result<Vec<f64>> {
    let mut t = Vec::new();
    for i in 0..runs(RUNS) {
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
    Ok(t)
}

fn boot_lan(client: Client) -> Result<Vec<f64>> {
    let mut t = Vec::new();
    for i in 0..runs(RUNS) {
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
    Ok(t)
}

#[derive(Clone, Copy, Debug)]
enum Server {
    Atftpd,
    Dnsmasq,
}

/// Seconds per run for a 16 MiB file.
fn tftp(client: Client, server: Server, windowsize: u8) -> Result<Vec<f64>> {
    let mut rates = Vec::new();
    for i in 0..runs(RUNS) {
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
                ms / 1000.0
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
                secs(&run, 1)? - secs(&run, 0)?
            }
        };
        rates.push(rate);
    }
    Ok(rates)
}

/// Which sections `SOFTPXE_BENCH` asks for (all when unset or empty).
fn wanted(section: &str) -> bool {
    match std::env::var("SOFTPXE_BENCH") {
        Ok(v) if !v.trim().is_empty() => v
            .split(',')
            .map(str::trim)
            .any(|w| w == section || (w == "loss" && section.starts_with("loss-")) || w == "all"),
        _ => true,
    }
}

fn base(out: &mut String, records: &mut Vec<Record>) -> Result<()> {
    writeln!(out, "## Power-on to NBP start (s)\n\n| client | QEMU user net | LAN: dnsmasq DHCP + proxyDHCP |\n|---|---|---|")?;
    for c in [
        Client::SoftpxeSpec,
        Client::SoftpxeFast,
        Client::IpxeLkrn,
        Client::IpxeRom,
    ] {
        let (a, b) = (boot_slirp(c)?, boot_lan(c)?);
        let (ma, mb) = (median(&a), median(&b));
        eprintln!("{}: {ma:.2} s / {mb:.2} s", c.name());
        writeln!(out, "| {} | {ma:.2} | {mb:.2} |", c.name())?;
        for (server, runs) in [("QEMU user net", a), ("dnsmasq DHCP + proxyDHCP", b)] {
            records.push(Record {
                section: "boot",
                client: c.name().into(),
                server: server.into(),
                loss: 0.0,
                size: loss::timed_size(Load::TestNbp),
                metric: "power_on_to_nbp_s",
                runs,
                link: None,
                failed: Vec::new(),
            });
        }
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
        let runs = tftp(c, s, w)?;
        let r = BIG as f64 / median(&runs) / 1e6;
        eprintln!("{label}: {r:.1} MB/s");
        writeln!(out, "| {label} | {r:.1} |")?;
        let (client, server) = label.split_once(", ").unwrap_or((label, ""));
        records.push(Record {
            section: "tftp",
            client: client.into(),
            server: server.into(),
            loss: 0.0,
            size: BIG as u64,
            metric: "tftp_s",
            runs,
            link: None,
            failed: Vec::new(),
        });
    }
    Ok(())
}

fn find<'a>(
    records: &'a [Record],
    who: Who,
    server: Tftpd,
    loss: f64,
    metric: &str,
    size: u64,
) -> Option<&'a Record> {
    records.iter().find(|r| {
        r.client == who.name()
            && r.server == server.name()
            && r.loss == loss
            && r.metric == metric
            && r.size == size
            && r.section.starts_with("loss-")
    })
}

/// `a / b` as text, or `-`.
fn ratio(a: Option<&Record>, b: Option<&Record>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if !a.runs.is_empty() && !b.runs.is_empty() && b.seconds() > 0.0 => {
            format!("{:.2}", a.seconds() / b.seconds())
        }
        _ => "-".into(),
    }
}

/// Failed runs of a row, as ` (N failed)`.
fn failures(r: &Record) -> String {
    if r.failed.is_empty() {
        String::new()
    } else {
        format!(
            " ({} of {} failed)",
            r.failed.len(),
            r.failed.len() + r.runs.len()
        )
    }
}

fn cell(r: Option<&Record>) -> String {
    match r {
        Some(r) if !r.runs.is_empty() => format!("{:.2}{}", r.seconds(), failures(r)),
        Some(r) => format!("failed{}", failures(r)),
        None => "-".into(),
    }
}

fn link_cell(a: Option<&Record>, b: Option<&Record>) -> String {
    let l = |r: Option<&Record>| match r {
        Some(r) if !r.runs.is_empty() => loss_text(&r.link),
        _ => "-".into(),
    };
    format!("{}; {}", l(a), l(b))
}

/// An NBP table: power-on → NBP running and the NBP's own TFTP time, softpxe next to iPXE.
fn nbp_rows(
    out: &mut String,
    records: &mut Vec<Record>,
    load: Load,
    servers: &[Tftpd],
) -> Result<()> {
    let size = loss::timed_size(load);
    for &server in servers {
        for l in [0.0, LOSS] {
            for who in [Who::Softpxe, Who::Ipxe] {
                records.extend(loss::rows(who, server, load, l, runs(RUNS), size)?);
            }
            let get = |who, metric| find(records, who, server, l, metric, size);
            let (sb, ib) = (
                get(Who::Softpxe, "power_on_to_nbp_s"),
                get(Who::Ipxe, "power_on_to_nbp_s"),
            );
            let (st, it) = (
                get(Who::Softpxe, "nbp_tftp_s"),
                get(Who::Ipxe, "nbp_tftp_s"),
            );
            let row = format!(
                "| {}, {:.0} % | {} | {} | {} | {} | {} | {} | {} |",
                server.name(),
                l * 100.0,
                cell(sb),
                cell(ib),
                ratio(sb, ib),
                cell(st),
                cell(it),
                ratio(st, it),
                link_cell(sb, ib)
            );
            eprintln!("{row}");
            writeln!(out, "{row}")?;
        }
    }
    Ok(())
}

const NBP_HEAD: &str = "| server, loss each way | softpxe power-on → NBP (s) | iPXE (s) | ratio | softpxe NBP TFTP (s) | iPXE (s) | ratio | measured loss to / from guest, % (softpxe; iPXE runs) |\n|---|---|---|---|---|---|---|---|";

/// The large-file cases at 10 % loss: server, size, softpxe's runs, iPXE's runs (0: not
/// measured; iPXE from atftpd fails after 1-5 minutes, so once is enough). Sizes are
/// what fits the bench's ~20 minutes (docs/benchmarks.md): windowed softpxe from atftpd moves
/// 16 MiB in ~30 s, but a lock-step transfer waits for a timer per lost block (dnsmasq 2.90:
/// ~1.5 s per lost DATA, 143 s for 1 MiB; iPXE from atftpd gives up), so 16 MiB of lock-step
/// would take about an hour.
const FILES: [(Tftpd, usize, usize, usize); 3] = [
    (Tftpd::Atftpd, 16 << 20, 3, 0),
    (Tftpd::Atftpd, 1 << 20, 3, 1),
    (Tftpd::Dnsmasq, 512 << 10, 1, 1),
];

/// Runs a row made (successful and failed).
fn n_runs(r: Option<&Record>) -> usize {
    r.map(|r| r.runs.len() + r.failed.len()).unwrap_or(0)
}

fn file_rows(out: &mut String, records: &mut Vec<Record>) -> Result<()> {
    for (server, size, n_softpxe, n_ipxe) in FILES {
        let size64 = size as u64;
        records.extend(loss::rows(
            Who::Softpxe,
            server,
            Load::File(size),
            LOSS,
            runs(n_softpxe),
            size64,
        )?);
        if n_ipxe > 0 {
            records.extend(loss::rows(
                Who::Ipxe,
                server,
                Load::File(size),
                LOSS,
                runs(n_ipxe),
                size64,
            )?);
        }
        let s = find(records, Who::Softpxe, server, LOSS, "tftp_s", size64);
        let i = find(records, Who::Ipxe, server, LOSS, "tftp_s", size64);
        let rate = |r: Option<&Record>| match r {
            Some(r) if !r.runs.is_empty() => format!(
                "{:.2} ({:.0} kB/s){}",
                r.seconds(),
                size as f64 / r.seconds() / 1e3,
                failures(r)
            ),
            Some(r) => format!("failed{}", failures(r)),
            None => "not run".into(),
        };
        let mib = if size >= 1 << 20 {
            format!("{} MiB", size >> 20)
        } else {
            format!("{} KiB", size >> 10)
        };
        let row = format!(
            "| {}, {mib}, {:.0} % | {} | {} | {} | {}; {} | {} |",
            server.name(),
            LOSS * 100.0,
            rate(s),
            rate(i),
            ratio(s, i),
            n_runs(s),
            n_runs(i),
            link_cell(s, i)
        );
        eprintln!("{row}");
        writeln!(out, "{row}")?;
    }
    Ok(())
}

fn main() -> Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let mut out = String::new();
    let mut records = Vec::new();
    writeln!(
        out,
        "# softpxe vs iPXE (QEMU 7.2 TCG, e1000, -cpu pentium2, medians of {})\n",
        runs(RUNS)
    )?;
    if wanted("base") {
        base(&mut out, &mut records)?;
    }
    let faults = format!(
        "{:.0} % loss, 1 % duplicates, 5 % reordering each way (seeds 1..{n}), or a clean link; \
         flat LAN through the user-space lossy link, dnsmasq DHCP, medians of {n}",
        LOSS * 100.0,
        n = runs(RUNS)
    );
    if wanted("loss-nbp") {
        writeln!(
            out,
            "\n## Lossy link: softpxe's test NBP ({} bytes)\n\n{faults}.\n\n{NBP_HEAD}",
            loss::timed_size(Load::TestNbp)
        )?;
        nbp_rows(
            &mut out,
            &mut records,
            Load::TestNbp,
            &[Tftpd::Dnsmasq, Tftpd::Atftpd],
        )?;
    }
    if wanted("loss-pxelinux") {
        writeln!(out, "\n## Lossy link: pxelinux.0 ({} bytes) up to meminfo.c32\n\n{faults}; power-on → meminfo's first line.\n\n{NBP_HEAD}", loss::timed_size(Load::Pxelinux))?;
        nbp_rows(&mut out, &mut records, Load::Pxelinux, &[Tftpd::Dnsmasq])?;
    }
    if wanted("loss-file") {
        writeln!(out, "\n## Lossy link: a large file at {:.0} % loss each way (s)\n\n1 % duplicates, 5 % reordering; softpxe `test_file` (CRC checked), iPXE `imgfetch`.\n\n| server, size, loss | softpxe (s) | iPXE (s) | ratio | runs (softpxe; iPXE) | measured loss to / from guest, % (softpxe; iPXE) |\n|---|---|---|---|---|---|", LOSS * 100.0)?;
        file_rows(&mut out, &mut records)?;
    }
    print!("{out}");
    let dir = softpxe_tests::repo_root().join("target/bench");
    fs::create_dir_all(&dir)?;
    fs::write(dir.join("pxe.md"), &out)?;
    fs::write(dir.join("pxe.json"), report::json(&records))?;
    let mut failed: Vec<&String> = records.iter().flat_map(|r| &r.failed).collect();
    failed.sort();
    failed.dedup();
    if !failed.is_empty() {
        for f in &failed {
            eprintln!("bench: failed run: {f}");
        }
        bail!(
            "{} run(s) failed (their files are in target/bench/failed/)",
            failed.len()
        );
    }
    Ok(())
}
