//! Real NBPs from Debian packages through softpxe's PXE API, on the namespace LAN with dnsmasq
//! (DHCP + TFTP, its log proving which files the NBP fetched through the API):
//! pxelinux.0 (PXE UDP API) and lpxelinux.0 (UNDI + its own lwIP stack) with meminfo.c32, a
//! kernel and a 16 MiB initrd, LOCALBOOT back to softpxe; iPXE's undionly.kpxe on UNDI fetching
//! a script chosen by dnsmasq for user class iPXE.
use anyhow::{ensure, Context, Result};
use softpxe_tests::lan::{Host, Lan};
use softpxe_tests::{floppy_fast, tools, Qemu, Run, Wait};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use softpxe_tests::nbps;
const INITRD: usize = 16 << 20;

fn syslinux_root(dir: &Path, nbp: &str, label: &str) -> Result<PathBuf> {
    nbps::syslinux_root(dir, nbp, label, INITRD)
}

/// dnsmasq on 10.99.0.1 serving DHCP + TFTP with `bootfile`.
fn dnsmasq(lan: &Lan, root: &Path, extra: &[&str]) -> Result<softpxe_tests::lan::Server> {
    let tftp = format!("--tftp-root={}", root.display());
    let mut args = vec![
        "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
        "--enable-tftp",
        tftp.as_str(),
    ];
    args.extend_from_slice(extra);
    lan.dnsmasq(Host::Dhcp, &args)
}

fn qemu(lan: &Lan, img: &Path, model: &str, cpu: &str) -> Qemu {
    Qemu::bios("nbp")
        .lan(lan)
        .cpu(cpu)
        .memory(64)
        .floppy(img)
        .nic_tap(model, false)
}

fn core_address(run: &Run) -> Result<u64> {
    run.serial
        .lines()
        .find_map(|l| l.strip_prefix("softpxe: core at "))
        .and_then(|r| u64::from_str_radix(&r[..8], 16).ok())
        .context("no core address on serial")
}

/// pxelinux's meminfo.c32: the E820 map it prints must not offer softpxe's core as RAM, and DOS
/// RAM must be below 640 KiB (the resident part is hidden).
fn meminfo(nbp: &str, model: &str) -> Result<()> {
    let lan = Lan::new(&format!("{}-meminfo-{model}", nbp.trim_end_matches(".0")))?;
    let root = syslinux_root(lan.dir(), nbp, "meminfo")?;
    let _d = dnsmasq(&lan, &root, &[&format!("--dhcp-boot={nbp}")])?;
    let img = floppy_fast(lan.dir(), |_| {})?;
    let run = qemu(&lan, &img, model, "pentium").run(&Wait::for_markers(
        &["PXELINUX 6.04", "DOS RAM:", "boot:"],
        Duration::from_secs(120),
    ))?;
    let core = core_address(&run)?;
    let dos = run
        .serial
        .lines()
        .find(|l| l.contains("DOS RAM:"))
        .unwrap_or_default();
    ensure!(
        !dos.contains("DOS RAM: 639K"),
        "base memory not hidden: {dos}"
    );
    let mut usable = 0;
    for line in run.serial.lines().filter(|l| l.ends_with("[-] usable")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let parse = |s: &str| u64::from_str_radix(s.trim_end_matches('x'), 16).ok();
        let (start, end) = (parse(f[1]).context("start")?, parse(f[3]).context("end")?);
        ensure!(
            end <= core || start >= core,
            "E820 usable {line} covers the core at {core:x}"
        );
        usable += 1;
    }
    ensure!(usable >= 2, "no E820 map from meminfo:\n{}", run.serial);
    Ok(())
}

/// The NBP loads a kernel and a 16 MiB initrd through the PXE API: dnsmasq's log shows both
/// sent. Returns the seconds between the two "sent" lines (the initrd's transfer).
fn kernel_and_initrd(nbp: &str, model: &str) -> Result<f64> {
    let lan = Lan::new(&format!("{}-linux-{model}", nbp.trim_end_matches(".0")))?;
    let root = syslinux_root(lan.dir(), nbp, "linux")?;
    let d = dnsmasq(&lan, &root, &[&format!("--dhcp-boot={nbp}")])?;
    let log = d.log_path().context("dnsmasq has a log")?.to_path_buf();
    let img = floppy_fast(lan.dir(), |_| {})?;
    let run = qemu(&lan, &img, model, "pentium").run(
        &Wait::for_markers(&["PXELINUX 6.04"], Duration::from_secs(180))
            .and_file(&log, &format!("sent {}/ldlinux.c32", root.display()))
            .and_file(&log, &format!("sent {}/vmlinuz", root.display()))
            .and_file(&log, &format!("sent {}/initrd.img", root.display())),
    )?;
    let t = |i: usize| run.marker_times[i].map(|d| d.as_secs_f64()).unwrap_or(0.0);
    eprintln!(
        "{nbp} on {model}: kernel sent at {:.2} s, initrd at {:.2} s",
        t(2),
        t(3)
    );
    Ok(t(3) - t(2))
}

/// LOCALBOOT 0: pxelinux returns to softpxe, which cleans up and tries the next boot device.
fn localboot(model: &str) -> Result<()> {
    let lan = Lan::new(&format!("pxelinux-local-{model}"))?;
    let root = syslinux_root(lan.dir(), "pxelinux.0", "local")?;
    let _d = dnsmasq(&lan, &root, &["--dhcp-boot=pxelinux.0"])?;
    let img = floppy_fast(lan.dir(), |_| {})?;
    qemu(&lan, &img, model, "pentium").run(&Wait::for_markers(
        &[
            "PXELINUX 6.04",
            "softpxe: the NBP returned",
            "trying the next boot device (INT 18h)",
        ],
        Duration::from_secs(120),
    ))?;
    Ok(())
}

macro_rules! per_nic {
    ($($name:ident: $model:literal),*) => {
        mod pxelinux_meminfo { use super::*; $( #[test] fn $name() -> Result<()> { meminfo("pxelinux.0", $model) } )* }
        mod pxelinux_kernel_initrd { use super::*; $( #[test] fn $name() -> Result<()> {
            let s = kernel_and_initrd("pxelinux.0", $model)?;
            eprintln!("16 MiB initrd through the PXE API in {s:.2} s ({:.1} MB/s)", INITRD as f64 / s / 1e6);
            Ok(())
        } )* }
        mod pxelinux_localboot { use super::*; $( #[test] fn $name() -> Result<()> { localboot($model) } )* }
        mod lpxelinux_kernel_initrd { use super::*; $( #[test] fn $name() -> Result<()> {
            kernel_and_initrd("lpxelinux.0", $model).map(|_| ())
        } )* }
        mod undionly { use super::*; $( #[test] fn $name() -> Result<()> { undionly($model) } )* }
    };
}

per_nic!(e1000: "e1000", rtl8139: "rtl8139", virtio: "virtio-net-pci");

/// iPXE's undionly.kpxe runs on softpxe's UNDI (`-cpu pentium2`: Debian's iPXE needs it), does
/// its own DHCP with user class "iPXE", gets a script from dnsmasq and fetches the file it names.
fn undionly(model: &str) -> Result<()> {
    tools::require("/usr/lib/ipxe/undionly.kpxe", "ipxe")?;
    let lan = Lan::new(&format!("undionly-{model}"))?;
    let root = lan.dir().join("tftp");
    fs::create_dir_all(&root)?;
    fs::copy("/usr/lib/ipxe/undionly.kpxe", root.join("undionly.kpxe"))?;
    fs::write(root.join("script.ipxe"), "#!ipxe\necho softpxe-undi-script\nimgfetch tftp://10.99.0.1/payload.bin\necho softpxe-undi-fetched\n")?;
    fs::write(root.join("payload.bin"), vec![0x42u8; 200_000])?;
    let d = dnsmasq(
        &lan,
        &root,
        &[
            "--dhcp-userclass=set:ipxe,iPXE",
            "--dhcp-boot=tag:ipxe,script.ipxe",
            "--dhcp-boot=tag:!ipxe,undionly.kpxe",
            "--enable-ra",
            "--dhcp-range=::,constructor:eth0,ra-only",
        ],
    )?;
    let log = d.log_path().context("dnsmasq has a log")?.to_path_buf();
    let img = floppy_fast(lan.dir(), |_| {})?;
    qemu(&lan, &img, model, "pentium2").run(
        &Wait::for_markers(&["softpxe: starting the NBP"], Duration::from_secs(150))
            .and_file(&log, &format!("sent {}/undionly.kpxe", root.display()))
            .and_file(&log, &format!("sent {}/script.ipxe", root.display()))
            .and_file(&log, &format!("sent {}/payload.bin", root.display())),
    )?;
    // the script came from the second DHCP conversation, iPXE's own (user class iPXE)
    ensure!(
        d.log().contains("user class: iPXE"),
        "no DHCP request with user class iPXE"
    );
    Ok(())
}
