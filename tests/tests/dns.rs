//! Boot server host names end to end: softpxe's floppy in QEMU on the namespace LAN resolves the
//! name of its TFTP server with dnsmasq's DNS (`--port=53 --host-record=bootsrv.lan,10.99.0.2`
//! on the DHCP host, never forwarding: `--no-resolv --no-hosts --local=/lan/`) and boots the
//! test NBP from tftpd-hpa on 10.99.0.2. Option 66 as a name, an unknown name with a usable
//! siaddr (warning, fallback), and `next_server` as a name with a static address and `dns =`.
use anyhow::{ensure, Context, Result};
use softpxe_settings::Key;
use softpxe_tests::lan::{Host, Lan, Server};
use softpxe_tests::{floppy_fast, test_nbp, Qemu, Run, Wait};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

const NBP_STARTED: &str = "testnbp: started at 0000:7C00";
const NBP_INTACT: &str = "testnbp: image intact";
const NEXT_DEVICE: &str = "trying the next boot device (INT 18h)";

/// DNS on the DHCP host: `bootsrv.lan` is the boot host; other `.lan` names are NXDOMAIN.
const DNS_ARGS: [&str; 6] = [
    "--port=53",
    "--no-resolv",
    "--no-hosts",
    "--local=/lan/",
    "--log-queries",
    "--host-record=bootsrv.lan,10.99.0.2",
];
const RANGE: &str = "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h";

fn tftp_root(dir: &Path) -> Result<PathBuf> {
    let root = dir.join("tftp");
    fs::create_dir_all(&root)?;
    fs::copy(test_nbp(), root.join("testnbp.0")).context("copying the test NBP")?;
    Ok(root)
}

fn boot(lan: &Lan, img: &Path) -> Result<Run> {
    boot_until(lan, img, &[NBP_STARTED, NBP_INTACT, NEXT_DEVICE])
}

fn boot_until(lan: &Lan, img: &Path, markers: &[&str]) -> Result<Run> {
    let run = Qemu::bios("lan")
        .lan(lan)
        .floppy(img)
        .nic_tap("e1000", false)
        .run(&Wait::for_markers(markers, Duration::from_secs(120)))?;
    eprintln!(
        "{}: {:?} (total {:.2} s)",
        run.name,
        run.marker_times,
        run.elapsed.as_secs_f64()
    );
    Ok(run)
}

fn dhcp_with_dns(lan: &Lan, extra: &[&str]) -> Result<Server> {
    let mut args = vec![RANGE];
    args.extend_from_slice(&DNS_ARGS);
    args.extend_from_slice(extra);
    lan.dnsmasq(Host::Dhcp, &args)
}

/// Option 66 = `bootsrv.lan` (siaddr is the DHCP host, which has no TFTP server): softpxe asks
/// the option 6 server (dnsmasq itself) and boots from the address it answers.
#[test]
fn lan_option_66_host_name_is_resolved() -> Result<()> {
    let lan = Lan::new("lan-dns-opt66")?;
    let tftp = tftp_root(lan.dir())?;
    let dhcp = dhcp_with_dns(
        &lan,
        &["--dhcp-option=66,bootsrv.lan", "--dhcp-option=67,testnbp.0"],
    )?;
    let _tftpd = lan.tftpd_hpa(Host::Boot, &tftp)?;
    let img = floppy_fast(lan.dir(), |_| {})?;
    let run = boot(&lan, &img)?;
    run.expect("DNS: bootsrv.lan via 10.99.0.1")?
        .expect("DNS: bootsrv.lan is 10.99.0.2")?
        .expect("TFTP IP: 10.99.0.2 (from option 66)")?
        .expect(NBP_STARTED)?
        .expect_absent("PXE-E3C")?;
    dhcp.wait_log("query[A] bootsrv.lan from 10.99.0.", Duration::from_secs(3))?;
    Ok(())
}

/// Option 66 = `bootsrv`, a dotless name, with option 15 = `lan` (`--domain=lan`): the first
/// lookup fails, the second asks for `bootsrv.lan`.
#[test]
fn lan_option_66_short_name_is_qualified_with_option_15() -> Result<()> {
    let lan = Lan::new("lan-dns-domain")?;
    let tftp = tftp_root(lan.dir())?;
    let dhcp = dhcp_with_dns(
        &lan,
        &[
            "--domain=lan",
            "--dhcp-option=66,bootsrv",
            "--dhcp-option=67,testnbp.0",
        ],
    )?;
    let _tftpd = lan.tftpd_hpa(Host::Boot, &tftp)?;
    let img = floppy_fast(lan.dir(), |_| {})?;
    let run = boot(&lan, &img)?;
    run.expect("DNS: bootsrv via 10.99.0.1")?
        .expect("DNS: asking for bootsrv.lan")?
        .expect("DNS: bootsrv.lan is 10.99.0.2")?
        .expect(NBP_STARTED)?;
    dhcp.wait_log("query[A] bootsrv.lan from 10.99.0.", Duration::from_secs(3))?;
    Ok(())
}

/// Option 66 names a host the DNS server does not know (NXDOMAIN) while siaddr is the boot host
/// (`--dhcp-boot=FILE,NAME,ADDR`: dnsmasq sends NAME as option 66 and ADDR as siaddr): a
/// warning naming the name and the server, then the boot from siaddr.
#[test]
fn lan_option_66_unknown_name_falls_back_to_siaddr() -> Result<()> {
    let lan = Lan::new("lan-dns-fallback")?;
    let tftp = tftp_root(lan.dir())?;
    let dhcp = dhcp_with_dns(&lan, &["--dhcp-boot=testnbp.0,nosuch.lan,10.99.0.2"])?;
    let _tftpd = lan.tftpd_hpa(Host::Boot, &tftp)?;
    let img = floppy_fast(lan.dir(), |_| {})?;
    let run = boot(&lan, &img)?;
    run.expect("DNS: 10.99.0.1: no such name (NXDOMAIN)")?;
    let warning = run
        .serial
        .lines()
        .find(|l| l.contains("softpxe: warning: option 66 names \"nosuch.lan\""))
        .context("no fallback warning")?;
    ensure!(
        warning.contains("10.99.0.1") && warning.contains("using siaddr 10.99.0.2"),
        "warning: {warning}"
    );
    run.expect("TFTP IP: 10.99.0.2 (from siaddr")?
        .expect(NBP_STARTED)?;
    dhcp.wait_log("query[A] nosuch.lan from 10.99.0.", Duration::from_secs(3))?;
    Ok(())
}

/// A static address from SOFTPXE.CFG with `next_server = bootsrv.lan` and `dns = 10.99.0.1`:
/// no DHCP at all, the name resolved through the `dns` setting.
#[test]
fn lan_static_next_server_name_with_dns_setting() -> Result<()> {
    let lan = Lan::new("lan-dns-static")?;
    let tftp = tftp_root(lan.dir())?;
    let dns = lan.dnsmasq(Host::Dhcp, &DNS_ARGS)?;
    let _tftpd = lan.tftpd_hpa(Host::Boot, &tftp)?;
    let img = floppy_fast(lan.dir(), |s| {
        s.set(Key::Ip, b"10.99.0.50/24").unwrap();
        s.set(Key::NextServer, b"bootsrv.lan").unwrap();
        s.set(Key::Dns, b"10.99.0.1").unwrap();
        s.set(Key::BootFile, b"testnbp.0").unwrap();
    })?;
    let run = boot(&lan, &img)?;
    run.expect("CLIENT IP: 10.99.0.50")?
        .expect("DNS: bootsrv.lan is 10.99.0.2")?
        .expect(NBP_STARTED)?
        .expect_absent("DHCP.")?;
    dns.wait_log(
        "query[A] bootsrv.lan from 10.99.0.50",
        Duration::from_secs(3),
    )?;
    Ok(())
}

/// The same with a name nobody knows: PXE-E3C names the name and the server, and the boot
/// goes on to the next device.
#[test]
fn lan_static_unknown_next_server_is_pxe_e3c() -> Result<()> {
    let lan = Lan::new("lan-dns-static-e3c")?;
    let _dns = lan.dnsmasq(Host::Dhcp, &DNS_ARGS)?;
    let img = floppy_fast(lan.dir(), |s| {
        s.set(Key::Ip, b"10.99.0.50/24").unwrap();
        s.set(Key::NextServer, b"nosuch.lan").unwrap();
        s.set(Key::Dns, b"10.99.0.1").unwrap();
        s.set(Key::BootFile, b"testnbp.0").unwrap();
    })?;
    let run = boot_until(&lan, &img, &["PXE-E3C", NEXT_DEVICE])?;
    let line = run
        .serial
        .lines()
        .find(|l| l.starts_with("PXE-E3C"))
        .context("no PXE-E3C line")?;
    ensure!(
        line.contains("\"nosuch.lan\"") && line.contains("NXDOMAIN") && line.contains("10.99.0.1"),
        "{line}"
    );
    run.expect(NEXT_DEVICE)?.expect_absent(NBP_STARTED)?;
    Ok(())
}
