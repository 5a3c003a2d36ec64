//! Network boot end to end: softpxe's floppy in QEMU (`-cpu pentium`, NIC option ROMs removed)
//! fetches and starts the test NBP over a private namespace LAN (each driver on QEMU's user
//! network: tests/tests/nic_matrix.rs) with real dnsmasq / tftpd-hpa / atftpd for the PXE scenarios (proxyDHCP, option
//! 66/67, boot menu, no DHCP, missing file, windowsize). Asserts on COM1 and the servers' logs.
use anyhow::{ensure, Context, Result};
use softpxe::BuildOptions;
use softpxe_settings::{Text, Timing};
use softpxe_tests::lan::{self, Host, Lan};
use softpxe_tests::{floppy_with, pattern_file, run_dir, test_nbp, Qemu, Run, Wait};
use std::fs;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

const NBP_STARTED: &str = "testnbp: started at 0000:7C00";
const NBP_INTACT: &str = "testnbp: image intact";
const NBP_RETURNED: &str = "softpxe: the NBP returned (AX=0000)";
const NEXT_DEVICE: &str = "trying the next boot device (INT 18h)";

fn options(f: impl FnOnce(&mut softpxe_settings::Settings)) -> BuildOptions {
    let mut o = BuildOptions::default();
    o.settings.timing = Some(Timing::Fast);
    f(&mut o.settings);
    o
}

fn tftp_root(dir: &Path) -> Result<PathBuf> {
    let root = dir.join("tftp");
    fs::create_dir_all(&root)?;
    fs::copy(test_nbp(), root.join("testnbp.0")).context("copying the test NBP")?;
    Ok(root)
}

fn nbp_wait(secs: u64) -> Wait {
    Wait::for_markers(
        &[NBP_STARTED, NBP_INTACT, NBP_RETURNED, NEXT_DEVICE],
        Duration::from_secs(secs),
    )
}

fn times(run: &Run) {
    eprintln!(
        "{}: {:?} (total {:.2} s)",
        run.name,
        run.marker_times,
        run.elapsed.as_secs_f64()
    );
}

/// A QEMU on `lan` booting softpxe from a floppy with an e1000 (ROM removed).
fn lan_qemu(lan: &Lan, img: &Path) -> Qemu {
    Qemu::bios("lan")
        .lan(lan)
        .floppy(img)
        .nic_tap("e1000", false)
}

/// (a) A plain DHCP server and a separate proxyDHCP/TFTP server (dnsmasq, `proxy` mode).
#[test]
fn lan_dhcp_plus_proxydhcp() -> Result<()> {
    dhcp_plus_proxy("lan-proxydhcp", Some(Timing::Fast)).map(|_| ())
}

/// The same LAN with the default settings (`timing = auto`): the REQUEST goes out as soon as
/// both offers are in, long before the 4 s window of `timing = spec` ends (which the next test
/// waits out). The firmware prints when it chose.
#[test]
fn lan_dhcp_plus_proxydhcp_default_timing_does_not_wait_out_the_window() -> Result<()> {
    let ms = dhcp_plus_proxy("lan-proxydhcp-auto", None)?;
    ensure!(ms < 4000, "timing auto chose after {ms} ms");
    Ok(())
}

#[test]
fn lan_dhcp_plus_proxydhcp_spec_timing_waits_out_the_window() -> Result<()> {
    let ms = dhcp_plus_proxy("lan-proxydhcp-spec", Some(Timing::Spec))?;
    ensure!(ms >= 4000, "timing spec chose after {ms} ms");
    Ok(())
}

/// DHCP from dnsmasq on the DHCP host, proxyDHCP + TFTP from dnsmasq on the boot host;
/// returns the milliseconds after which the firmware chose its offers.
fn dhcp_plus_proxy(name: &str, timing: Option<Timing>) -> Result<u64> {
    let lan = Lan::new(name)?;
    let tftp = tftp_root(lan.dir())?;
    let dhcp = lan.dnsmasq(
        Host::Dhcp,
        &["--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h"],
    )?;
    let proxy = lan.dnsmasq(
        Host::Boot,
        &[
            "--dhcp-range=10.99.0.0,proxy",
            "--pxe-service=x86PC,softpxe test NBP,testnbp",
            "--enable-tftp",
            &format!("--tftp-root={}", tftp.display()),
        ],
    )?;
    let img = floppy_with(lan.dir(), &options(|s| s.timing = timing))?;
    let run = lan_qemu(&lan, &img).run(&nbp_wait(90))?;
    times(&run);
    run.expect("proxyDHCP offer from 10.99.0.2")?
        .expect("PROXY IP: 10.99.0.2")?;
    let chose = run
        .serial
        .lines()
        .find(|l| {
            l.contains("chose DHCP server 10.99.0.1 and proxyDHCP 10.99.0.2 (WithProxy) after ")
        })
        .context("no choice of DHCP + proxy on serial")?;
    let want = format!("(timing {:?})", timing.unwrap_or_default());
    ensure!(chose.ends_with(&want), "{chose:?} does not end in {want}");
    let ms: u64 = chose
        .split(" after ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("no time in {chose:?}"))?;
    let ip = client_ip(&run)?;
    dhcp.wait_log(&format!("DHCPACK(eth0) {ip}"), Duration::from_secs(3))?;
    proxy.wait_log(
        &format!("sent {}/testnbp.0 to {ip}", tftp.display()),
        Duration::from_secs(3),
    )?;
    ensure!(
        !proxy.log().contains("DHCPACK"),
        "the proxy handed out an address"
    );
    Ok(ms)
}

fn client_ip(run: &Run) -> Result<String> {
    run.serial
        .lines()
        .find_map(|l| l.strip_prefix("CLIENT IP: "))
        .and_then(|r| r.split_whitespace().next())
        .map(str::to_string)
        .context("no CLIENT IP line")
}

/// (b) Options 66/67 name another host's TFTP server while siaddr is the DHCP server itself:
/// softpxe follows option 66, says that 66 and siaddr disagree, and boots.
#[test]
fn lan_option_66_beats_siaddr_with_a_warning() -> Result<()> {
    let lan = Lan::new("lan-opt66")?;
    let tftp = tftp_root(lan.dir())?;
    let _dhcp = lan.dnsmasq(
        Host::Dhcp,
        &[
            "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
            "--dhcp-option=66,10.99.0.2",
            "--dhcp-option=67,testnbp.0",
        ],
    )?;
    let _tftpd = lan.tftpd_hpa(Host::Boot, &tftp)?;
    let img = floppy_with(lan.dir(), &options(|_| {}))?;
    let run = lan_qemu(&lan, &img).run(&nbp_wait(90))?;
    times(&run);
    run.expect("TFTP IP: 10.99.0.2 (from option 66)")?;
    let warning = run
        .serial
        .lines()
        .find(|l| l.contains("softpxe: warning:"))
        .context("no warning")?;
    ensure!(
        warning.contains("10.99.0.2") && warning.contains("10.99.0.1"),
        "warning: {warning}"
    );
    Ok(())
}

/// Sends `keys` to QEMU's monitor once `marker` shows on serial.
fn send_keys_when(
    serial: PathBuf,
    monitor: PathBuf,
    marker: &'static str,
    keys: &'static [&'static str],
) {
    std::thread::spawn(move || {
        for _ in 0..600 {
            let text = fs::read_to_string(&serial).unwrap_or_default();
            if text.contains(marker) {
                if let Ok(mut s) = UnixStream::connect(&monitor) {
                    for k in keys {
                        let _ = writeln!(s, "sendkey {k}");
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
}

fn menu_lan(name: &str) -> Result<(Lan, PathBuf)> {
    let lan = Lan::new(name)?;
    let tftp = tftp_root(lan.dir())?;
    let _dhcp = lan.dnsmasq(
        Host::Dhcp,
        &["--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h"],
    )?;
    let _proxy = lan.dnsmasq(
        Host::Boot,
        &[
            "--dhcp-range=10.99.0.0,proxy",
            "--pxe-service=x86PC,Boot from local disk",
            "--pxe-service=x86PC,softpxe test NBP,testnbp",
            "--pxe-prompt=Choose a boot item,4",
            "--enable-tftp",
            &format!("--tftp-root={}", tftp.display()),
        ],
    )?;
    let img = floppy_with(lan.dir(), &options(|_| {}))?;
    Ok((lan, img))
}

/// (c) Boot server discovery with a menu and a prompt (option 43.9 / 43.10): the first item is
/// local boot, which the timeout picks; softpxe hands back to the BIOS.
#[test]
fn lan_menu_timeout_picks_local_boot() -> Result<()> {
    let (lan, img) = menu_lan("lan-menu-local")?;
    let run = lan_qemu(&lan, &img).run(&Wait::for_markers(
        &[
            "1. Boot from local disk",
            "2. softpxe test NBP",
            "Choose a boot item",
            "softpxe: local boot selected",
            NEXT_DEVICE,
        ],
        Duration::from_secs(90),
    ))?;
    times(&run);
    run.expect_absent(NBP_STARTED)?;
    Ok(())
}

/// (c) The same menu, item 2 chosen on the keyboard: discovery to the boot server, then the NBP.
#[test]
fn lan_menu_key_selects_network_boot() -> Result<()> {
    let (lan, img) = menu_lan("lan-menu-key")?;
    let monitor = lan.dir().join("monitor.sock");
    send_keys_when(
        lan.dir().join("serial.raw"),
        monitor.clone(),
        "press 1-9 to choose",
        &["2"],
    );
    let run = lan_qemu(&lan, &img)
        .args(&[
            "-monitor",
            &format!("unix:{},server,nowait", monitor.display()),
        ])
        .run(&nbp_wait(90))?;
    times(&run);
    run.expect("boot server 10.99.0.2 answered")?
        .expect_absent("local boot selected")?;
    Ok(())
}

/// (d) No DHCP server at all: PXE-E51 after the fast timing, then the next boot device.
#[test]
fn lan_without_dhcp_reports_pxe_e51() -> Result<()> {
    let lan = Lan::new("lan-no-dhcp")?;
    let img = floppy_with(lan.dir(), &options(|_| {}))?;
    let run = lan_qemu(&lan, &img).run(&Wait::for_markers(
        &[
            "PXE-E51: No DHCP or proxyDHCP offers were received",
            "Check the cable",
            NEXT_DEVICE,
        ],
        Duration::from_secs(90),
    ))?;
    times(&run);
    // the code is printed once, not "PXE-E51: PXE-E51: ..."
    for line in run.serial.lines() {
        ensure!(line.matches("PXE-E").count() <= 1, "code twice: {line}");
    }
    Ok(())
}

/// (e) A boot file the server does not have: the TFTP error with the server's own text.
#[test]
fn lan_missing_boot_file_shows_the_server_error() -> Result<()> {
    let lan = Lan::new("lan-missing")?;
    let tftp = tftp_root(lan.dir())?;
    let _dhcp = lan.dnsmasq(
        Host::Dhcp,
        &[
            "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
            "--dhcp-boot=missing.0",
            "--enable-tftp",
            &format!("--tftp-root={}", tftp.display()),
        ],
    )?;
    let img = floppy_with(lan.dir(), &options(|_| {}))?;
    let run = lan_qemu(&lan, &img).run(&Wait::for_markers(
        &["PXE-E3B: TFTP error", NEXT_DEVICE],
        Duration::from_secs(90),
    ))?;
    times(&run);
    let line = run
        .serial
        .lines()
        .find(|l| l.starts_with("PXE-E3B"))
        .unwrap_or_default();
    ensure!(
        line.contains("\"missing.0\"") && line.contains("not found"),
        "error line: {line}"
    );
    Ok(())
}

/// The test_file line: (bytes, ms, crc, windowsize).
fn test_file_line(run: &Run) -> Result<String> {
    run.serial
        .lines()
        .find(|l| l.starts_with("softpxe: test_file"))
        .map(str::to_string)
        .context("no test_file line")
}

/// (f) atftpd (RFC 7440): the NBP and a 16 MiB file arrive with windowsize negotiated; the same
/// from dnsmasq's TFTP, which has no windowsize, falls back cleanly to one block per ACK.
#[test]
fn lan_windowsize_with_atftpd_and_fallback_with_dnsmasq() -> Result<()> {
    for (server, windowed) in [("atftpd", true), ("dnsmasq", false)] {
        let lan = Lan::new(&format!("lan-window-{server}"))?;
        let tftp = tftp_root(lan.dir())?;
        let crc = pattern_file(&tftp.join("big.bin"), 16 << 20)?;
        if windowed {
            lan.dnsmasq(
                Host::Dhcp,
                &[
                    "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
                    "--dhcp-boot=testnbp.0,,10.99.0.2",
                ],
            )?;
            lan.atftpd(Host::Boot, &tftp, true)?;
        } else {
            lan.dnsmasq(
                Host::Dhcp,
                &[
                    "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
                    "--dhcp-boot=testnbp.0",
                    "--enable-tftp",
                    &format!("--tftp-root={}", tftp.display()),
                ],
            )?;
        }
        let img = floppy_with(
            lan.dir(),
            &options(|s| s.test_file = Some(Text::new(b"big.bin").unwrap())),
        )?;
        let run = lan_qemu(&lan, &img).run(&nbp_wait(180))?;
        times(&run);
        let line = test_file_line(&run)?;
        eprintln!("{server}: {line}");
        ensure!(line.contains(&format!("{} bytes", 16 << 20)), "{line}");
        ensure!(
            line.contains(&format!("crc32 {crc:08x}")),
            "wrong CRC (want {crc:08x}): {line}"
        );
        // the default 16, capped at the frames the e1000 driver's receive ring holds (7)
        let window = if windowed {
            "windowsize 7"
        } else {
            "windowsize 1"
        };
        ensure!(
            line.contains(window) && !line.contains("OUT OF ORDER"),
            "{line}"
        );
    }
    let _ = lan::netns_list();
    Ok(())
}

/// Settings by hand: a static address with next_server and boot_file, no DHCP server on the LAN,
/// tftpd-hpa on 10.99.0.2; and a SOFTPXE.CFG line the firmware cannot use, reported with its
/// number and skipped (the file is edited with mtools, as a user would, after the build).
#[test]
fn lan_static_address_and_a_bad_settings_line() -> Result<()> {
    softpxe_tests::tools::require("mcopy", "mtools")?;
    let lan = Lan::new("lan-static")?;
    let tftp = tftp_root(lan.dir())?;
    let _tftpd = lan.tftpd_hpa(Host::Boot, &tftp)?;
    let img = floppy_with(lan.dir(), &options(|_| {}))?;
    let cfg = lan.dir().join("SOFTPXE.CFG");
    fs::write(
        &cfg,
        "# written by hand\nip = 10.99.0.50/24\nnext_server = 10.99.0.2\nboot_file = testnbp.0\nbootfile = typo.0\n",
    )?;
    let status = std::process::Command::new("mcopy")
        .args(["-o", "-i"])
        .arg(&img)
        .arg(&cfg)
        .arg("::SOFTPXE.CFG")
        .env("MTOOLS_SKIP_CHECK", "1")
        .status()?;
    ensure!(status.success(), "mcopy failed");
    let run = lan_qemu(&lan, &img).run(&nbp_wait(90))?;
    times(&run);
    run.expect("SOFTPXE.CFG line 5:")?
        .expect("settings from SOFTPXE.CFG: 4 set, 1 bad line(s)")?
        .expect("CLIENT IP: 10.99.0.50  MASK: 255.255.255.0")?
        .expect_absent("DHCP.")?;
    Ok(())
}

/// Bochs too: its e1000 on its own slirp network (DHCP + TFTP), the floppy boots the test NBP.
#[test]
fn bochs_e1000_boots_the_test_nbp() -> Result<()> {
    let dir = run_dir("bochs-netboot-files")?;
    let img = floppy_with(&dir, &options(|_| {}))?;
    let tftp = tftp_root(&dir)?;
    let run = softpxe_tests::Bochs::new("bochs-netboot")
        .floppy(&img)
        .e1000_slirp(&tftp, "testnbp.0")
        .run(&nbp_wait(240))?;
    times(&run);
    run.expect("(e1000 at ")?.expect("TFTP: \"testnbp.0\"")?;
    Ok(())
}

/// With a static address there is no DHCP, but NBPs still learn their address, server and file
/// from GET_CACHED_INFO: softpxe makes up the DHCPACK (types 2 and 3) from SOFTPXE.CFG.
#[test]
fn lan_static_address_reaches_get_cached_info() -> Result<()> {
    let lan = Lan::new("lan-static-api")?;
    let root = lan.dir().join("tftp");
    fs::create_dir_all(&root)?;
    fs::copy(softpxe_tests::api_test_nbp(), root.join("apitest.0"))?;
    fs::write(root.join("apitest.dat"), softpxe_tests::apitest::data())?;
    let _tftpd = lan.tftpd_hpa(Host::Boot, &root)?;
    let img = floppy_with(
        lan.dir(),
        &options(|s| {
            s.set(softpxe_settings::Key::Ip, b"10.99.0.50/24").unwrap();
            s.set(softpxe_settings::Key::NextServer, b"10.99.0.2")
                .unwrap();
            s.set(softpxe_settings::Key::BootFile, b"apitest.0")
                .unwrap();
        }),
    )?;
    let run = lan_qemu(&lan, &img).run(&Wait::for_markers(
        &["apitest: done"],
        Duration::from_secs(120),
    ))?;
    times(&run);
    let r = softpxe_tests::apitest::Report::parse(&run.serial)?;
    for ty in [2, 3] {
        r.cached(ty, "!PXE")?
            .ok()?
            .expect("op", "02")?
            .expect("yiaddr", "10.99.0.50")?
            .expect("siaddr", "10.99.0.2")?
            .expect("file", "apitest.0")?;
    }
    r.call("TFTP_GET_FSIZE")?.ok()?;
    Ok(())
}
