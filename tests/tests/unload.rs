//! How real NBPs unload softpxe's PXE stack, measured the way they see it (QEMU user network,
//! e1000, QEMU's own TFTP server), and GRUB i386-pc through the PXE API on every NIC.
//!
//! PXE 2.1 leaves freeing the memory to the NBP: after UNDI_SHUTDOWN / UNLOAD_STACK / STOP_UNDI
//! succeed, it raises 40:13 to the end of the UNDI segments. softpxe's segments therefore end
//! exactly at the 40:13 value it found, and STOP_UNDI does not touch 40:13 (pxelinux refuses
//! to free memory when 40:13 is already at or above that end: "Failed to free base memory").
//!
//! What each NBP is expected to leave (iPXE's prefix prints "N kB free base memory after PXE
//! unload"; fbms.krn, a tiny kernel from tests/nbp, prints 40:13 after pxelinux or GRUB started
//! it): pxelinux and ipxe.pxe give everything back; undionly.kpxe keeps UNDI (by design);
//! undionly.kkpxe and GRUB keep everything (they never unload).
use anyhow::{ensure, Context, Result};
use softpxe_tests::{fbms_kernel, floppy_fast, nbps, run_dir, tools, Qemu, Run, Wait};
use std::fs;
use std::path::Path;
use std::time::Duration;

const SYSLINUX: &str = "/usr/lib/syslinux/modules/bios";

/// SeaBIOS's serial console (fw_cfg `etc/sercon-port` = 0x3F8) copies what iPXE writes to the
/// screen onto COM1, where the harness reads it.
fn sercon(dir: &Path) -> Result<String> {
    let path = dir.join("sercon-port.bin");
    fs::write(&path, 0x3f8u16.to_le_bytes())?;
    Ok(format!("name=etc/sercon-port,file={}", path.display()))
}

/// 40:13 before and after softpxe took its resident part, from the banner.
fn base_memory(run: &Run) -> Result<(u32, u32)> {
    let line = run
        .serial
        .lines()
        .find_map(|l| l.split("base memory ").nth(1))
        .context("no base memory line in the banner")?;
    let mut it = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty());
    let before = it.next().context("before")?.parse()?;
    let after = it.next().context("after")?.parse()?;
    Ok((before, after))
}

/// SeaBIOS's 40:13 on QEMU's PC (a 1 KiB EBDA below 640 KiB). With the serial console on,
/// softpxe's own lines reach COM1 mixed with their screen copies and cannot be parsed, so the
/// iPXE tests compare with this (the pxelinux and GRUB tests read softpxe's banner instead).
const SEABIOS_BASE_KIB: u32 = 639;

fn boot(
    name: &str,
    nbp_dir: &Path,
    bootfile: &str,
    (cpu, model): (&str, &str),
    screen_to_serial: bool,
    wait: &Wait,
) -> Result<Run> {
    let img = floppy_fast(nbp_dir, |_| {})?;
    let mut q = Qemu::bios(name)
        .cpu(cpu)
        .memory(64)
        .floppy(&img)
        .nic_user_tftp(model, nbp_dir, bootfile);
    if screen_to_serial {
        let fw = sercon(nbp_dir)?;
        q = q.args(&["-fw_cfg", &fw]);
    }
    q.run(wait)
}

/// pxelinux unloads the stack before it starts a kernel and raises 40:13 to the end of the
/// UNDI segments: all of softpxe's base memory comes back, INT 1Ah no longer finds PXE.
#[test]
fn pxelinux_gives_all_base_memory_back_before_a_kernel() -> Result<()> {
    tools::require("/usr/lib/PXELINUX/pxelinux.0", "pxelinux")?;
    let dir = run_dir("unload-pxelinux-files")?;
    fs::create_dir_all(dir.join("pxelinux.cfg"))?;
    fs::copy("/usr/lib/PXELINUX/pxelinux.0", dir.join("pxelinux.0"))?;
    fs::copy(format!("{SYSLINUX}/ldlinux.c32"), dir.join("ldlinux.c32"))?;
    fs::copy(fbms_kernel(), dir.join("fbms.krn"))?;
    fs::write(
        dir.join("pxelinux.cfg/default"),
        "SERIAL 0 115200\nPROMPT 0\nDEFAULT k\nLABEL k\n  LINUX fbms.krn\n",
    )?;
    let run = boot(
        "unload-pxelinux",
        &dir,
        "pxelinux.0",
        ("pentium", "e1000"),
        false,
        &Wait::for_markers(&["fbms: base memory"], Duration::from_secs(90)),
    )?;
    let (before, _) = base_memory(&run)?;
    run.expect(&format!("fbms: base memory {before} KiB, PXE gone"))?
        .expect_absent("Failed to free base memory")?;
    Ok(())
}

/// iPXE's PXE prefixes: ipxe.pxe unloads UNDI too and frees everything; undionly.kpxe keeps
/// UNDI (its driver); undionly.kkpxe keeps the whole stack.
fn ipxe_prefix(nbp: &str, expect_free: fn(u32, u32) -> u32) -> Result<()> {
    let src = format!("/usr/lib/ipxe/{nbp}");
    tools::require(&src, "ipxe")?;
    let name = format!("unload-{}", nbp.replace('.', "-"));
    let dir = run_dir(&format!("{name}-files"))?;
    fs::create_dir_all(&dir)?;
    fs::copy(&src, dir.join(nbp))?;
    let run = boot(
        &name,
        &dir,
        nbp,
        ("pentium2", "e1000"),
        true,
        &Wait::for_markers(
            &["kB free base memory after PXE unload"],
            Duration::from_secs(90),
        ),
    )?;
    let find = |needle: &str| {
        run.serial
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_default()
            .to_string()
    };
    let line = find("kB free base memory after PXE unload");
    let free: u32 = line
        .trim()
        .trim_end_matches("kB free base memory after PXE unload")
        .trim()
        .parse()
        .with_context(|| format!("free base memory in {line:?}"))?;
    // "UNDI code segment 9CC0:3000, data segment 9CC0:3000 (627-639kB)": the block iPXE
    // found; it must end where 40:13 was before softpxe
    let seg = find("UNDI code segment");
    let range = seg
        .rsplit('(')
        .next()
        .and_then(|r| r.strip_suffix("kB)"))
        .with_context(|| format!("no UNDI range in {seg:?}"))?;
    let (start, end) = range.split_once('-').context("range")?;
    let (after, before): (u32, u32) = (start.parse()?, end.parse()?);
    ensure!(
        before == SEABIOS_BASE_KIB,
        "{nbp}: the UNDI segments end at {before} KiB, not at the BIOS's {SEABIOS_BASE_KIB}"
    );
    ensure!(
        free == expect_free(before, after),
        "{nbp}: {free} KiB free after unload; softpxe's block is {after}-{before} KiB"
    );
    Ok(())
}

#[test]
fn ipxe_pxe_gives_all_base_memory_back() -> Result<()> {
    ipxe_prefix("ipxe.pxe", |before, _| before)
}

#[test]
fn undionly_kpxe_keeps_the_undi_part() -> Result<()> {
    ipxe_prefix("undionly.kpxe", |_, after| after)
}

#[test]
fn undionly_kkpxe_keeps_everything() -> Result<()> {
    ipxe_prefix("undionly.kkpxe", |_, after| after)
}

/// GRUB i386-pc (`grub-mknetdir`'s core.0) on softpxe's PXE API: it reads grub.cfg over TFTP,
/// loads its serial module (COM1 output), lists its address (`net_ls_addr`), and starts a kernel with `linux16` without unloading the
/// stack (base memory stays taken, PXE still answers).
fn grub(model: &str) -> Result<()> {
    let name = format!("grub-{model}");
    let dir = run_dir(&format!("{name}-files"))?;
    let core = nbps::grub_root(&dir, "linux16 /fbms.krn\nboot")?;
    fs::copy(fbms_kernel(), dir.join("fbms.krn"))?;
    let run = boot(
        &name,
        &dir,
        core,
        ("pentium", model),
        false,
        &Wait::for_markers(
            &[nbps::GRUB_CFG_READ, "fbms: base memory"],
            Duration::from_secs(120),
        ),
    )?;
    let (_, after) = base_memory(&run)?;
    run.expect("pxe 52:54:00:12:34:56 10.0.2.15")?
        .expect(&format!("fbms: base memory {after} KiB, PXE still there"))?;
    Ok(())
}

#[test]
fn grub_i386_pc_on_e1000() -> Result<()> {
    grub("e1000")
}

#[test]
fn grub_i386_pc_on_rtl8139() -> Result<()> {
    grub("rtl8139")
}

#[test]
fn grub_i386_pc_on_virtio_net() -> Result<()> {
    grub("virtio-net-pci")
}
