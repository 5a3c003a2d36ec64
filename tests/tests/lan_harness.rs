//! The namespace LAN itself (tests/src/lan/), proved without softpxe's firmware: QEMU's own
//! iPXE NIC ROM boots over DHCP + proxyDHCP + TFTP from dnsmasq; tftpd-hpa and atftpd serve a
//! file to a small TFTP client, and only atftpd negotiates RFC 7440 windowsize. Every test
//! checks that its namespaces are gone afterwards. Needs root; see docs/testing-lan.md.
use anyhow::{ensure, Context, Result};
use softpxe_tests::lan::{self, Host, Lan, GUEST_MAC};
use softpxe_tests::{tools, Wait};
use std::fs;
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

/// Not a test of its own: [`Lan::tftp_get`] re-executes this binary with this test selected to
/// run a TFTP client inside a namespace.
#[test]
fn lan_tftp_helper() {
    lan::tftp_helper_entry();
}

/// Runs `body` with a fresh LAN, then checks that dropping it removed its namespaces.
fn with_lan(name: &str, body: impl FnOnce(&Lan) -> Result<()>) -> Result<()> {
    let lan = Lan::new(name)?;
    let namespaces = lan.namespaces();
    let result = body(&lan);
    drop(lan);
    let left: Vec<_> = lan::netns_list()
        .into_iter()
        .filter(|n| namespaces.contains(n))
        .collect();
    result?;
    ensure!(left.is_empty(), "namespaces left after drop: {left:?}");
    Ok(())
}

/// The address in iPXE's `net0: 10.99.0.N/255.255.255.0` line.
fn ipxe_address(serial: &str) -> Option<Ipv4Addr> {
    serial.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("net0: ")?;
        let (addr, mask) = rest.split_once('/')?;
        mask.starts_with("255.255.255.0")
            .then(|| addr.parse().ok())?
    })
}

#[test]
fn ipxe_nic_rom_boots_via_dhcp_and_proxydhcp() -> Result<()> {
    tools::require("qemu-system-i386", "qemu-system-x86")?;
    let nbp = "/usr/lib/ipxe/undionly.kpxe";
    tools::require(nbp, "ipxe")?;
    let t0 = Instant::now();
    with_lan("lan-ipxe-proxydhcp", |lan| {
        let tftp = lan.dir().join("tftp");
        fs::create_dir_all(&tftp)?;
        fs::copy(nbp, tftp.join("undionly.0")).context("copying undionly.kpxe")?;
        let dhcp = lan.dnsmasq(
            Host::Dhcp,
            &[
                "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
                "--enable-ra",
                "--dhcp-range=::,constructor:eth0,ra-only",
            ],
        )?;
        let proxy = lan.dnsmasq(
            Host::Boot,
            &[
                "--dhcp-range=10.99.0.0,proxy",
                "--pxe-service=x86PC,softpxe test,undionly",
                "--enable-tftp",
                &format!("--tftp-root={}", tftp.display()),
            ],
        )?;
        eprintln!("LAN and servers ready after {:?}", t0.elapsed());

        // QEMU's default NIC ROM (iPXE: no `romfile=`), which does not run on `-cpu pentium`.
        // `-nographic` makes SeaBIOS copy screen text (iPXE prints only there) to COM1.
        let serial = lan.dir().join("serial.raw");
        let mut qemu = Command::new("qemu-system-i386");
        qemu.args(["-accel", "tcg", "-cpu", "pentium2", "-m", "64"])
            .args(["-nographic", "-no-reboot", "-monitor", "none"])
            .arg("-serial")
            .arg(format!("file:{}", serial.display()))
            .args(lan.qemu_netdev())
            .args(["-device", &format!("e1000,netdev=n0,mac={GUEST_MAC}")])
            .args(["-boot", "n"]);
        let run = lan.run_emulator(
            &qemu,
            &serial,
            &Wait::for_markers(
                &[
                    "Configuring (net0",
                    "tftp://10.99.0.2/undionly.0... ok",
                    "[PXE-NBP]",
                    // the NBP (undionly.kpxe) runs and finds the NIC through the ROM's PXE API
                    "using undionly on",
                ],
                Duration::from_secs(45),
            ),
        )?;
        for (m, t) in ["DHCP start", "NBP loaded", "NBP identified", "NBP running"]
            .iter()
            .zip(&run.marker_times)
        {
            eprintln!("  {m}: {t:?}");
        }
        let addr = ipxe_address(&run.serial)
            .with_context(|| format!("no `net0: 10.99.0.x/255.255.255.0` line:\n{}", run.serial))?;
        ensure!(
            (100..200).contains(&addr.octets()[3]) && addr.octets()[..3] == [10, 99, 0],
            "iPXE got {addr}, outside the DHCP range"
        );
        run.expect("Next server: 10.99.0.2")?
            .expect("Filename: undionly.0")?;

        let wait = Duration::from_secs(3);
        dhcp.wait_log(&format!("DHCPACK(eth0) {addr} {GUEST_MAC}"), wait)?;
        // proxyDHCP: the PXE boot-server reply (port 4011) names the file, then TFTP sends it
        proxy.wait_log(&format!("PXE(eth0) {addr} {GUEST_MAC} undionly.0"), wait)?;
        proxy.wait_log(
            &format!("sent {}/undionly.0 to {addr}", tftp.display()),
            wait,
        )?;
        // the DHCP server answers only DHCP; the proxy never hands out an address
        ensure!(
            !proxy.log().contains("DHCPACK"),
            "the proxyDHCP server sent a DHCPACK"
        );
        eprintln!("booted in {:.1} s", run.elapsed.as_secs_f64());
        Ok(())
    })?;
    eprintln!("total {:?}", t0.elapsed());
    Ok(())
}

/// Deterministic, incompressible-looking content.
fn blob(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn tftpd_hpa_and_atftpd_serve_and_only_atftpd_negotiates_windowsize() -> Result<()> {
    tools::require("in.tftpd", "tftpd-hpa")?;
    lan::atftpd_binary()?;
    let t0 = Instant::now();
    with_lan("lan-tftp-servers", |lan| {
        let root = lan.dir().join("tftp");
        fs::create_dir_all(&root)?;
        // 300000 bytes = 210 blocks of 1428 + a short last one
        let content = blob(300_000);
        fs::write(root.join("blob.bin"), &content)?;
        let opts = [("blksize", "1428"), ("tsize", "0"), ("windowsize", "8")];

        let hpa = lan.tftpd_hpa(Host::Boot, &root)?;
        let r = lan.tftp_get(Host::Dhcp, Host::Boot, "blob.bin", &opts)?;
        eprintln!("tftpd-hpa: {:?} oack {:?}", r.elapsed, r.oack);
        ensure!(r.data == content, "tftpd-hpa: data differs");
        ensure!(
            r.option("blksize") == Some("1428"),
            "tftpd-hpa: {:?}",
            r.oack
        );
        ensure!(
            r.option("tsize") == Some("300000"),
            "tftpd-hpa: {:?}",
            r.oack
        );
        ensure!(
            r.option("windowsize").is_none(),
            "tftpd-hpa acknowledged windowsize: {:?}",
            r.oack
        );
        ensure!(r.acks_sent >= 211, "tftpd-hpa: only {} ACKs", r.acks_sent);
        hpa.stop();
        ensure!(!hpa.is_running(), "tftpd-hpa still running after stop");

        let atftpd = lan.atftpd(Host::Boot, &root, true)?;
        let r = lan.tftp_get(Host::Dhcp, Host::Boot, "blob.bin", &opts)?;
        eprintln!(
            "atftpd: {:?} oack {:?}, {} DATA, {} ACKs",
            r.elapsed, r.oack, r.data_packets, r.acks_sent
        );
        ensure!(r.data == content, "atftpd: data differs");
        ensure!(
            r.option("windowsize") == Some("8"),
            "atftpd did not acknowledge windowsize: {:?}",
            r.oack
        );
        ensure!(r.option("blksize") == Some("1428"), "atftpd: {:?}", r.oack);
        // one ACK for the OACK, one per window of 8 blocks (211 blocks: 27 windows)
        ensure!(
            r.acks_sent <= 1 + 27 + 2,
            "atftpd with windowsize 8: {} ACKs for {} DATA",
            r.acks_sent,
            r.data_packets
        );
        atftpd.wait_log("blob.bin", Duration::from_secs(2))?;

        atftpd.stop();

        let atftpd = lan.atftpd(Host::Boot, &root, false)?;
        let r = lan.tftp_get(Host::Dhcp, Host::Boot, "blob.bin", &opts)?;
        ensure!(r.data == content, "atftpd --no-windowsize: data differs");
        ensure!(
            r.option("windowsize").is_none(),
            "atftpd --no-windowsize acknowledged windowsize: {:?}",
            r.oack
        );
        atftpd.stop();
        Ok(())
    })?;
    eprintln!("total {:?}", t0.elapsed());
    Ok(())
}

#[test]
fn a_server_that_cannot_start_fails_loudly() -> Result<()> {
    with_lan("lan-bad-server", |lan| {
        let err = lan
            .dnsmasq(Host::Dhcp, &["--no-such-option"])
            .expect_err("dnsmasq with a bad option must fail");
        let msg = format!("{err:#}");
        ensure!(msg.contains("dnsmasq-dhcp"), "unexpected error: {msg}");
        Ok(())
    })
}
