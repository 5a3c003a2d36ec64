//! Real NBPs through softpxe on the routed field LAN (tests/src/lan, docs/testing-lan.md): the
//! guest on 10.61.0.0/24, ISC dhcpd (addresses only) and a dnsmasq proxyDHCP + TFTP server on
//! 10.62.0.0/24, ISC dhcrelay on the router forwarding DHCP to both, as an IP helper table
//! does. Everything an NBP sends through the PXE API to the boot server crosses the router, so
//! these fail if the PXE stack has no gateway (the first field-networks defect: pxelinux.0
//! loaded, then never fetched ldlinux.c32).
//!
//! On e1000, rtl8139 and virtio-net: pxelinux.0 loads a kernel and a 16 MiB initrd through the
//! PXE API; lpxelinux.0 (its own lwIP stack on UNDI) runs meminfo.c32; iPXE's undionly.kpxe
//! does its own DHCP through the relay and runs a script from dhcpd's iPXE branch; GRUB i386-pc
//! (next-server / filename from dhcpd) reads grub.cfg and lists its address.
use anyhow::{ensure, Context, Result};
use softpxe_tests::lan::{Host, Lan, Server, GUEST_MAC, ROUTED_BOOT, ROUTER_CLIENT};
use softpxe_tests::nbps::{self, GRUB_CFG_READ, UNDIONLY};
use softpxe_tests::{floppy_fast, tools, Qemu, Run, Wait};
use std::fs;
use std::path::Path;
use std::time::Duration;

const INITRD: usize = 16 << 20;

/// softpxe on `model` (option ROM removed) on the LAN's link.
fn guest(lan: &Lan, model: &str, cpu: &str, wait: &Wait) -> Result<Run> {
    let img = floppy_fast(lan.dir(), |_| {})?;
    let netdev = lan.qemu_netdev();
    let netdev: Vec<&str> = netdev.iter().map(String::as_str).collect();
    Qemu::bios("nbp")
        .lan(lan)
        .cpu(cpu)
        .memory(64)
        .floppy(&img)
        .args(&netdev)
        .args(&[
            "-device",
            &format!("{model},netdev=n0,romfile=,mac={GUEST_MAC}"),
        ])
        .run(wait)
}

/// The dnsmasq proxyDHCP + TFTP server on the boot host, for the relayed client subnet,
/// offering `basename` (dnsmasq adds `.0`). iPXE's own DHCP (user class iPXE) is left to dhcpd.
fn proxy(lan: &Lan, root: &Path, basename: &str) -> Result<Server> {
    lan.dnsmasq(
        Host::Boot,
        &[
            // relayed subnet: dnsmasq needs its netmask (it is not on a local interface)
            "--dhcp-range=10.61.0.0,proxy,255.255.255.0",
            &format!("--pxe-service=x86PC,softpxe field test,{basename}"),
            "--dhcp-userclass=set:ipxe,iPXE",
            "--dhcp-ignore=tag:ipxe",
            "--enable-tftp",
            &format!("--tftp-root={}", root.display()),
        ],
    )
}

/// Every DHCP packet of the guest reached dhcpd through the relay.
fn relayed(dhcpd: &Server) -> Result<()> {
    dhcpd.expect_log("DHCPACK on 10.61.0.")?;
    dhcpd.expect_log(&format!("to {GUEST_MAC} via {ROUTER_CLIENT}"))?;
    ensure!(
        !dhcpd.log().contains("via eth0"),
        "dhcpd saw a request that was not relayed"
    );
    Ok(())
}

fn sent(root: &Path, file: &str) -> String {
    format!("sent {}/{file} to 10.61.0.", root.display())
}

fn pxelinux_kernel_initrd(model: &str) -> Result<()> {
    let lan = Lan::routed(&format!("field-pxelinux-{model}"))?;
    let root = nbps::syslinux_root(lan.dir(), "pxelinux.0", "linux", INITRD)?;
    fs::copy(root.join("pxelinux.0"), root.join("pxelinux.0.0"))?;
    let dhcpd = lan.isc_dhcpd("")?;
    let p = proxy(&lan, &root, "pxelinux.0")?;
    let log = p.log_path().context("dnsmasq log")?.to_path_buf();
    let run = guest(
        &lan,
        model,
        "pentium",
        &Wait::for_markers(&["PXELINUX 6.04"], Duration::from_secs(180))
            .and_file(&log, &sent(&root, "ldlinux.c32"))
            .and_file(&log, &sent(&root, "vmlinuz"))
            .and_file(&log, &sent(&root, "initrd.img")),
    )?;
    run.expect(&format!("GATEWAY IP: {ROUTER_CLIENT}"))?;
    let t = |i: usize| run.marker_times[i].map(|d| d.as_secs_f64()).unwrap_or(0.0);
    eprintln!(
        "routed pxelinux on {model}: ldlinux.c32 at {:.2} s, 16 MiB initrd in {:.2} s",
        t(1),
        t(3) - t(2)
    );
    relayed(&dhcpd)
}

fn lpxelinux_meminfo(model: &str) -> Result<()> {
    let lan = Lan::routed(&format!("field-lpxelinux-{model}"))?;
    let root = nbps::syslinux_root(lan.dir(), "lpxelinux.0", "meminfo", 0)?;
    fs::copy(root.join("lpxelinux.0"), root.join("lpxelinux.0.0"))?;
    let dhcpd = lan.isc_dhcpd("")?;
    let _p = proxy(&lan, &root, "lpxelinux.0")?;
    guest(
        &lan,
        model,
        "pentium",
        &Wait::for_markers(
            &["PXELINUX 6.04", "DOS RAM:", "boot:"],
            Duration::from_secs(150),
        ),
    )?;
    relayed(&dhcpd)
}

fn undionly(model: &str) -> Result<()> {
    tools::require(UNDIONLY, "ipxe")?;
    let lan = Lan::routed(&format!("field-undionly-{model}"))?;
    let root = lan.dir().join("tftp");
    fs::create_dir_all(&root)?;
    fs::copy(UNDIONLY, root.join("undionly.0"))?;
    fs::write(
        root.join("script.ipxe"),
        format!(
            "#!ipxe\necho softpxe-undi-script\nimgfetch tftp://{ROUTED_BOOT}/payload.bin\n\
             echo softpxe-undi-fetched\n"
        ),
    )?;
    fs::write(root.join("payload.bin"), vec![0x42u8; 200_000])?;
    // iPXE's own DHCP request (user class iPXE) gets the script from dhcpd, as sites do it
    let dhcpd = lan.isc_dhcpd(&format!(
        "if exists user-class and option user-class = \"iPXE\" {{\n  \
         next-server {ROUTED_BOOT};\n  filename \"script.ipxe\";\n}}\n"
    ))?;
    let p = proxy(&lan, &root, "undionly")?;
    let log = p.log_path().context("dnsmasq log")?.to_path_buf();
    guest(
        &lan,
        model,
        "pentium2",
        &Wait::for_markers(&["softpxe: starting the NBP"], Duration::from_secs(150))
            .and_file(&log, &sent(&root, "undionly.0"))
            .and_file(&log, &sent(&root, "script.ipxe"))
            .and_file(&log, &sent(&root, "payload.bin")),
    )?;
    // two DHCP conversations through the relay: softpxe's, then iPXE's own
    ensure!(
        dhcpd.log().matches("DHCPACK on 10.61.0.").count() >= 2,
        "iPXE's own DHCP did not reach dhcpd:\n{}",
        dhcpd.log()
    );
    relayed(&dhcpd)
}

fn grub(model: &str) -> Result<()> {
    let lan = Lan::routed(&format!("field-grub-{model}"))?;
    let root = lan.dir().join("tftp");
    let core = nbps::grub_root(&root, "echo \"grubtest: done\"")?;
    // GRUB reads the DHCPACK (GET_CACHED_INFO type 2): the boot server comes from dhcpd
    let dhcpd = lan.isc_dhcpd(&format!(
        "next-server {ROUTED_BOOT};\nfilename \"{core}\";\n"
    ))?;
    let _tftp = lan.dnsmasq(
        Host::Boot,
        &["--enable-tftp", &format!("--tftp-root={}", root.display())],
    )?;
    let run = guest(
        &lan,
        model,
        "pentium",
        &Wait::for_markers(&[GRUB_CFG_READ, "grubtest: done"], Duration::from_secs(150)),
    )?;
    run.expect(&format!("pxe {GUEST_MAC} 10.61.0."))?;
    relayed(&dhcpd)
}

macro_rules! per_nic {
    ($($name:ident: $model:literal),*) => {
        mod routed_pxelinux_kernel_initrd { use super::*; $( #[test] fn $name() -> Result<()> { pxelinux_kernel_initrd($model) } )* }
        mod routed_lpxelinux_meminfo { use super::*; $( #[test] fn $name() -> Result<()> { lpxelinux_meminfo($model) } )* }
        mod routed_undionly { use super::*; $( #[test] fn $name() -> Result<()> { undionly($model) } )* }
        mod routed_grub { use super::*; $( #[test] fn $name() -> Result<()> { grub($model) } )* }
    };
}

per_nic!(e1000: "e1000", rtl8139: "rtl8139", virtio: "virtio-net-pci");
