//! One run of each clean-network measurement. The same machine for every client: QEMU TCG,
//! `-cpu pentium2` (Debian's and QEMU's iPXE need it), e1000 (softpxe: option ROM removed;
//! iPXE NIC ROM: QEMU's default e1000 option ROM from ipxe-qemu, `-boot n`; ipxe.lkrn: `-kernel`). Every time
//! is the host's clock between markers ([`Run::marker_times`]): serial lines, or a line in a
//! server's log, read every [`POLL`] (10 ms).
use super::Sample;
use anyhow::{bail, ensure, Context, Result};
use softpxe::BuildOptions;
use softpxe_settings::{Settings, Text, Timing};
use softpxe_tests::lan::{Host, Lan};
use softpxe_tests::{crc32, fbms_kernel, nbps, run_dir, test_nbp, Qemu, Run, Wait};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const NBP_STARTED: &str = "testnbp: started";
pub const IPXE_LKRN: &str = "/usr/lib/ipxe/ipxe.lkrn";
/// The TFTP rows' file.
pub const BIG: usize = 16 << 20;
/// The pxelinux row's initrd.
pub const INITRD: usize = 64 << 20;

/// The emulated NIC of a run: a QEMU model, and the `isa =` line an ISA card needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BenchNic {
    /// `-device` model (with properties).
    pub model: &'static str,
    /// SOFTPXE.CFG `isa =` value for an ISA card.
    pub isa: Option<&'static str>,
}

/// The NIC every row uses unless it says otherwise.
pub const E1000: BenchNic = BenchNic {
    model: "e1000",
    isa: None,
};

/// Who boots.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Client {
    /// The floppy from `BuildOptions::default()`, with `timing` set if `Some`.
    Softpxe(Option<Timing>),
    /// QEMU's iPXE ROM on the e1000 (`-boot n`).
    IpxeRom,
    /// Debian's ipxe.lkrn (`-kernel`), NIC without option ROM.
    IpxeLkrn,
}

impl Client {
    pub fn label(self) -> &'static str {
        // `Some(_)`: modes added to `Timing` later
        #[allow(unreachable_patterns)]
        match self {
            Client::Softpxe(None) => "default settings",
            Client::Softpxe(Some(Timing::Spec)) => "timing = spec",
            Client::Softpxe(Some(Timing::Fast)) => "timing = fast",
            Client::Softpxe(Some(_)) => "timing set",
            Client::IpxeRom => "iPXE NIC ROM",
            Client::IpxeLkrn => "ipxe.lkrn",
        }
    }

    fn softpxe(self) -> bool {
        matches!(self, Client::Softpxe(_))
    }
}

/// The networks of the boot rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Net {
    /// QEMU's user network (slirp: DHCP with a boot file, TFTP, IPv6 RAs).
    User,
    /// The flat namespace LAN: dnsmasq DHCP (+ RAs) on one host, a dnsmasq proxyDHCP + TFTP
    /// on another.
    LanProxy,
    /// The routed LAN: ISC dhcpd and the dnsmasq proxyDHCP + TFTP behind ISC dhcrelay, RAs
    /// from the router.
    Routed,
}

/// A floppy in `dir` from the default options, then `f`.
pub fn floppy(dir: &Path, f: impl FnOnce(&mut Settings)) -> Result<PathBuf> {
    let mut o = BuildOptions::default();
    f(&mut o.settings);
    let path = dir.join("boot.img");
    softpxe::write_image_file(&path, &softpxe::build_floppy(&o)?, true)?;
    Ok(path)
}

/// `q` with `client` on the LAN tap (`lan`) or on user net serving `user` = (dir, boot file).
/// `screen`: `-nographic` (SeaBIOS copies the screen to COM1: iPXE's own lines, e.g. a
/// script's `echo`); off while the test NBP prints its own COM1 lines.
fn machine(
    client: Client,
    dir: &Path,
    q: Qemu,
    user: Option<(&Path, &str)>,
    screen: bool,
    f: impl FnOnce(&mut Settings),
) -> Result<Qemu> {
    machine_on(E1000, client, dir, q, user, screen, f)
}

/// [`machine`] with another NIC (the TFTP rows per NIC).
fn machine_on(
    nic: BenchNic,
    client: Client,
    dir: &Path,
    q: Qemu,
    user: Option<(&Path, &str)>,
    screen: bool,
    f: impl FnOnce(&mut Settings),
) -> Result<Qemu> {
    let rom = client == Client::IpxeRom;
    let q = match user {
        // an ISA model has no option ROM (and no `romfile` property)
        None if nic.isa.is_some() => q.args(&[
            "-netdev",
            "tap,id=n0,ifname=tap0,script=no,downscript=no",
            "-device",
            &format!("{},netdev=n0", nic.model),
        ]),
        None => q.nic_tap(nic.model, rom),
        Some((tftp, file)) if rom => q.args(&[
            "-netdev",
            &format!("user,id=n0,tftp={},bootfile={file}", tftp.display()),
            "-device",
            "e1000,netdev=n0",
        ]),
        Some((tftp, file)) => q.nic_user_tftp("e1000", tftp, file),
    };
    let q = match client {
        Client::Softpxe(timing) => q.floppy(&floppy(dir, |s| {
            if timing.is_some() {
                s.timing = timing;
            }
            if let Some(isa) = nic.isa {
                s.set(softpxe_settings::Key::Isa, isa.as_bytes())
                    .expect("a valid isa setting");
            }
            f(s)
        })?),
        Client::IpxeLkrn => q.args(&["-kernel", IPXE_LKRN]),
        Client::IpxeRom => q.args(&["-boot", "n"]),
    };
    Ok(q.args(if screen { &["-nographic"][..] } else { &[][..] }))
}

/// How often the bench reads the serial file and server logs: the resolution of its times.
pub const POLL: Duration = Duration::from_millis(10);

/// [`Wait::for_markers`] read every [`POLL`].
pub fn bench_wait(markers: &[&str], timeout: Duration) -> Wait {
    Wait::for_markers(markers, timeout).poll(POLL)
}

fn secs(run: &Run, i: usize) -> Result<f64> {
    run.marker_times[i]
        .map(|d| d.as_secs_f64())
        .context("marker missing")
}

fn tftp_root(dir: &Path) -> Result<PathBuf> {
    let root = dir.join("tftp");
    fs::create_dir_all(&root)?;
    fs::copy(test_nbp(), root.join("testnbp.0"))?;
    Ok(root)
}

const DHCP_RANGE: &str = "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h";
const RA: [&str; 2] = ["--enable-ra", "--dhcp-range=::,constructor:eth0,ra-only"];

/// Seconds from QEMU start to the test NBP's first line.
pub fn boot(net: Net, client: Client) -> Result<Sample> {
    let wait = bench_wait(&[NBP_STARTED], Duration::from_secs(120));
    let run = match net {
        Net::User => {
            let name = format!("bench-boot-user-{}", client.label().replace(' ', "-"));
            let dir = run_dir(&format!("{name}-files"))?;
            let tftp = tftp_root(&dir)?;
            let q = Qemu::bios(&name).cpu("pentium2").memory(128);
            machine(client, &dir, q, Some((&tftp, "testnbp.0")), false, |_| {})?.run(&wait)?
        }
        Net::LanProxy | Net::Routed => {
            let lan = if net == Net::Routed {
                Lan::routed("bench-boot-routed")?
            } else {
                Lan::new("bench-boot-lan")?
            };
            let tftp = tftp_root(lan.dir())?;
            let root = format!("--tftp-root={}", tftp.display());
            let pxe = "--pxe-service=x86PC,bench,testnbp";
            if net == Net::Routed {
                lan.isc_dhcpd("")?;
                // relayed subnet: dnsmasq needs its netmask (it is not on a local interface)
                let range = "--dhcp-range=10.61.0.0,proxy,255.255.255.0";
                lan.dnsmasq(Host::Boot, &[range, pxe, "--enable-tftp", &root])?;
            } else {
                lan.dnsmasq(Host::Dhcp, &[DHCP_RANGE, RA[0], RA[1]])?;
                let range = "--dhcp-range=10.99.0.0,proxy";
                lan.dnsmasq(Host::Boot, &[range, pxe, "--enable-tftp", &root])?;
            }
            let q = Qemu::bios("bench-boot")
                .lan(&lan)
                .cpu("pentium2")
                .memory(128);
            machine(client, lan.dir(), q, None, false, |_| {})?.run(&wait)?
        }
    };
    Ok(Sample::one(secs(&run, 0)?))
}

/// The TFTP servers of the TFTP rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tftpd {
    Dnsmasq,
    Atftpd,
}

/// The pattern of the large file.
pub fn big_file(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 + i / 4093) as u8).collect()
}

/// MB/s of 16 MiB over the flat LAN from `server` (boot host; DHCP from dnsmasq on the DHCP
/// host, with RAs). softpxe: `test_file` (windowsize `windowsize`, or the default if None),
/// timed from `TFTP IP:` (the line before the request) to its `softpxe: test_file` summary
/// (size and CRC-32 checked). iPXE: a script, timed from `echo bench-start` to `echo
/// bench-done` around `imgfetch` (iPXE stops a script at a failing command).
pub fn tftp(server: Tftpd, client: Client, windowsize: Option<u8>) -> Result<Sample> {
    tftp_on(E1000, server, client, windowsize)
}

/// [`tftp`] on another NIC.
pub fn tftp_on(
    nic: BenchNic,
    server: Tftpd,
    client: Client,
    windowsize: Option<u8>,
) -> Result<Sample> {
    let lan = Lan::new("bench-tftp")?;
    let root = tftp_root(lan.dir())?;
    let data = big_file(BIG);
    fs::write(root.join("big.bin"), &data)?;
    fs::write(
        root.join("bench.ipxe"),
        "#!ipxe\necho bench-start\nimgfetch tftp://10.99.0.2/big.bin\necho bench-done\n",
    )?;
    let boot = if client.softpxe() {
        "testnbp.0"
    } else {
        "bench.ipxe"
    };
    let dhcp_boot = format!("--dhcp-boot={boot},,10.99.0.2");
    lan.dnsmasq(Host::Dhcp, &[DHCP_RANGE, RA[0], RA[1], &dhcp_boot])?;
    match server {
        Tftpd::Atftpd => drop(lan.atftpd(Host::Boot, &root, true)?),
        Tftpd::Dnsmasq => drop(lan.dnsmasq(
            Host::Boot,
            &["--enable-tftp", &format!("--tftp-root={}", root.display())],
        )?),
    }
    let q = Qemu::bios("bench-tftp")
        .lan(&lan)
        .cpu("pentium2")
        .memory(128);
    let markers: [&str; 2] = if client.softpxe() {
        ["TFTP IP:", "softpxe: test_file"]
    } else {
        ["bench-start", "bench-done"]
    };
    let mut wait = bench_wait(&markers, Duration::from_secs(300));
    wait.failures
        .extend(["Connection timed out", "Could not boot"].map(String::from));
    let q = machine_on(nic, client, lan.dir(), q, None, !client.softpxe(), |s| {
        s.test_file = Some(Text::new(b"big.bin").unwrap());
        if windowsize.is_some() {
            s.tftp_windowsize = windowsize;
        }
    })?;
    let run = q.run(&wait)?;
    let secs = secs(&run, 1)? - secs(&run, 0)?;
    let mut note = String::new();
    if client.softpxe() {
        // kept for a look afterwards: the next client's run empties the directory
        let model = nic.model.split(',').next().unwrap_or("nic");
        let keep = run_dir(&format!("bench-tftp-softpxe-{model}"))?;
        let _ = fs::write(keep.join("serial.txt"), &run.serial);
        let line = run
            .serial
            .split(['\n', '\r'])
            .find(|l| l.starts_with("softpxe: test_file"))
            .context("no test_file line")?;
        ensure!(
            line.contains(&format!("{BIG} bytes in ")),
            "short transfer: {line}"
        );
        let crc = format!("crc32 {:08x}", crc32(&data));
        ensure!(line.contains(&crc), "bad CRC (want {crc}): {line}");
        if let Some(ms) = line
            .split(" bytes in ")
            .nth(1)
            .and_then(|r| r.split(" ms").next())
        {
            note = format!("softpxe's own clock {ms} ms");
        }
    }
    Ok(Sample {
        values: vec![BIG as f64 / secs / 1e6],
        note,
        link: None,
    })
}

/// The flat LAN with dnsmasq DHCP (+ RAs) naming pxelinux.0 and dnsmasq TFTP on the boot host
/// serving `root`; returns the TFTP server's log.
fn pxelinux_lan(lan: &Lan, root: &Path) -> Result<PathBuf> {
    lan.dnsmasq(
        Host::Dhcp,
        &[
            DHCP_RANGE,
            RA[0],
            RA[1],
            "--dhcp-boot=pxelinux.0,,10.99.0.2",
        ],
    )?;
    let tftp = lan.dnsmasq(
        Host::Boot,
        &["--enable-tftp", &format!("--tftp-root={}", root.display())],
    )?;
    Ok(tftp.log_path().context("dnsmasq log")?.to_path_buf())
}

fn pxelinux_machine(lan: &Lan, client: Client, memory: u32) -> Result<Qemu> {
    let q = Qemu::bios("bench-pxelinux")
        .lan(lan)
        .cpu("pentium2")
        .memory(memory);
    machine(client, lan.dir(), q, None, false, |_| {})
}

/// MB/s of pxelinux.0 loading a kernel and a 64 MiB initrd through the ROM's PXE API (its UDP
/// calls: pxelinux's own TFTP client), from dnsmasq's `sent .../pxelinux.0` (the ROM's
/// transfer of the NBP ended; pxelinux starts) to the kernel's first line. The kernel is
/// fbms.krn (tests/nbp: a boot-protocol 2.02 kernel whose setup code prints `fbms: base
/// memory ...` on COM1 at once), so the end marker is the kernel starting, on serial, for
/// both clients. Bytes counted: ldlinux.c32, the config, the kernel and the initrd.
pub fn pxelinux_api(client: Client) -> Result<Sample> {
    let lan = Lan::new("bench-pxelinux")?;
    let root = nbps::syslinux_root(lan.dir(), "pxelinux.0", "linux", INITRD)?;
    fs::copy(fbms_kernel(), root.join("vmlinuz"))?;
    let log = pxelinux_lan(&lan, &root)?;
    let sent = format!("sent {}/pxelinux.0 to", root.display());
    let wait = bench_wait(&["fbms: base memory"], Duration::from_secs(400)).and_file(&log, &sent);
    let run = pxelinux_machine(&lan, client, 160)?.run(&wait)?;
    let secs = secs(&run, 0)? - secs(&run, 1)?;
    let size = |f: &str| fs::metadata(root.join(f)).map(|m| m.len()).unwrap_or(0);
    let bytes =
        size("ldlinux.c32") + size("pxelinux.cfg/default") + size("vmlinuz") + INITRD as u64;
    let fetched = fs::read_to_string(&log).unwrap_or_default();
    ensure!(
        fetched.contains(&format!("sent {}/initrd.img", root.display())),
        "the initrd was not sent"
    );
    Ok(Sample {
        values: vec![bytes as f64 / secs / 1e6],
        note: format!("{:.2} s for {:.1} MB", secs, bytes as f64 / 1e6),
        link: None,
    })
}

/// pxelinux.0 on the flat LAN up to meminfo.c32: [base memory taken = 640 K - meminfo's `DOS
/// RAM`, KiB; core memory hidden from the E820 map, KiB (softpxe's banner `core at ADDR (N
/// KiB)`; NaN for iPXE)].
pub fn meminfo(client: Client) -> Result<Sample> {
    let lan = Lan::new("bench-meminfo")?;
    let root = nbps::syslinux_root(lan.dir(), "pxelinux.0", "meminfo", 0)?;
    pxelinux_lan(&lan, &root)?;
    let wait = bench_wait(&["DOS RAM:", "INT 15 88"], Duration::from_secs(120));
    let run = pxelinux_machine(&lan, client, 64)?.run(&wait)?;
    let dos = run
        .serial
        .lines()
        .find_map(|l| l.split("DOS RAM: ").nth(1))
        .and_then(|r| r.split('K').next())
        .and_then(|n| n.trim().parse::<f64>().ok())
        .with_context(|| format!("no `DOS RAM: NK` line:\n{}", run.serial))?;
    let core = run
        .serial
        .lines()
        .find_map(|l| l.strip_prefix("softpxe: core at "))
        .and_then(|r| r.split('(').nth(1))
        .and_then(|r| r.split(" KiB").next())
        .and_then(|n| n.trim().parse::<f64>().ok());
    if client.softpxe() && core.is_none() {
        bail!("no `softpxe: core at ... (N KiB)` banner:\n{}", run.serial);
    }
    Ok(Sample {
        values: vec![640.0 - dos, core.unwrap_or(f64::NAN)],
        note: format!("DOS RAM {dos} K"),
        link: None,
    })
}

/// SOFTPXE.SYS as embedded in the builder, KiB.
pub fn sys_size() -> Result<Sample> {
    let n = softpxe::firmware::SOFTPXE_SYS.len();
    Ok(Sample {
        values: vec![n as f64 / 1024.0],
        note: format!("{n} bytes"),
        link: None,
    })
}

/// Builds of a floppy per run ([`image_build`]).
pub const BUILDS: usize = 25;

/// The median over [`BUILDS`] calls of `softpxe::build_floppy(&BuildOptions::default())`, ms
/// (the image in memory; writing the file is not timed).
pub fn image_build() -> Result<Sample> {
    let o = BuildOptions::default();
    let mut ms = Vec::new();
    for _ in 0..BUILDS {
        let t = Instant::now();
        let img = softpxe::build_floppy(&o)?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        ensure!(!img.is_empty(), "empty image");
    }
    let (lo, hi) = ms
        .iter()
        .fold((f64::MAX, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    Ok(Sample {
        values: vec![super::report::median(&ms)],
        note: format!("median of {BUILDS} builds, {lo:.1}-{hi:.1} ms"),
        link: None,
    })
}
