//! The BIOS boot path end to end: images written by the builder boot in QEMU (`-cpu pentium`)
//! and Bochs, reach the 32-bit core, print the banner and the PCI list on COM1.
use anyhow::{Context, Result};
use softpxe::BuildOptions;
use softpxe_tests::{floppy_with, run_dir, tools, usb_with, Bochs, Qemu, Wait};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const BANNER: &str = concat!("softpxe ", env!("CARGO_PKG_VERSION"), " BIOS: ");
const PCI_DONE: &str = "softpxe: PCI scan found";

/// A default floppy (no SOFTPXE.CFG settings) in its own run directory.
fn floppy(name: &str) -> Result<PathBuf> {
    floppy_with(
        &run_dir(&format!("{name}-image"))?,
        &BuildOptions::default(),
    )
}

fn wait() -> Wait {
    Wait::for_markers(&[BANNER, PCI_DONE], Duration::from_secs(90))
}

#[test]
fn floppy_boots_in_qemu_and_lists_the_e1000() -> Result<()> {
    let img = floppy("qemu-floppy-e1000")?;
    let run = Qemu::bios("qemu-floppy-e1000")
        .floppy(&img)
        .nic("e1000")
        .run(&wait())?;
    run.expect("boot drive 00h (floppy)")?
        .expect("8086:100e class 0200  ")?
        .expect("1 network controller(s)")?
        .expect_absent("no network controller found")?;
    eprintln!("banner after {:?}", run.marker_times[0]);
    Ok(())
}

#[test]
fn floppy_boots_in_16_mib() -> Result<()> {
    let img = floppy("qemu-floppy-16m")?;
    let run = Qemu::bios("qemu-floppy-16m")
        .memory(16)
        .floppy(&img)
        .nic("rtl8139")
        .run(&wait())?;
    run.expect("15 MiB RAM (E820)")?
        .expect("10ec:8139 class 0200  ")?;
    Ok(())
}

#[test]
fn floppy_without_a_nic_says_so() -> Result<()> {
    let img = floppy("qemu-floppy-no-nic")?;
    let run = Qemu::bios("qemu-floppy-no-nic")
        .floppy(&img)
        .run(&Wait::for_markers(
            &[BANNER, "no network controller found on the PCI bus"],
            Duration::from_secs(90),
        ))?;
    run.expect("0 network controller(s)")?;
    Ok(())
}

#[test]
fn usb_image_boots_in_qemu() -> Result<()> {
    let img = usb_with(
        &run_dir("qemu-usb-image")?,
        &BuildOptions::default(),
        32 << 20,
    )?;
    let run = Qemu::bios("qemu-usb")
        .disk(&img)
        .nic("e1000")
        .run(&wait())?;
    run.expect("boot drive 80h (disk)")?
        .expect("8086:100e class 0200  ")?;
    Ok(())
}

/// `softpxe build usb --gpt`: the MBR code finds the EFI system partition through the GPT
/// (protective MBR, legacy-BIOS-bootable attribute) and chains its VBR; the same volume holds
/// EFI/BOOT/BOOTX64.EFI for UEFI.
#[test]
fn usb_gpt_image_boots_in_qemu() -> Result<()> {
    let dir = run_dir("qemu-usb-gpt-image")?;
    let path = dir.join("usb.img");
    let bytes =
        softpxe::build_usb_layout(&BuildOptions::default(), 32 << 20, softpxe::UsbLayout::Gpt)?;
    softpxe::write_image_file(&path, &bytes, false)?;
    let run = Qemu::bios("qemu-usb-gpt")
        .disk(&path)
        .nic("e1000")
        .run(&wait())?;
    run.expect("boot drive 80h (disk)")?
        .expect("booted from the partition at LBA 2048")?
        .expect("softpxe: settings from SOFTPXE.CFG: ")?
        .expect("8086:100e class 0200  ")?
        .expect_absent("MBR: ")?;
    Ok(())
}

/// 512 MiB and more: a FAT32 partition; its two-sector boot record finds SOFTPXE.SYS through the
/// root directory's cluster chain and the 32-bit FAT; the firmware's FAT reader reads
/// SOFTPXE.CFG the same way.
#[test]
fn usb_fat32_image_boots_in_qemu() -> Result<()> {
    let dir = run_dir("qemu-usb-fat32-image")?;
    let path = usb_with(&dir, &BuildOptions::default(), 512 << 20)?;
    let run = Qemu::bios("qemu-usb-fat32")
        .disk(&path)
        .nic("e1000")
        .run(&wait())?;
    run.expect("boot drive 80h (disk)")?
        .expect("booted from the partition at LBA 2048")?
        .expect("softpxe: settings from SOFTPXE.CFG: ")?
        .expect_absent("using defaults")?
        .expect("8086:100e class 0200  ")?;
    Ok(())
}

#[test]
fn floppy_boots_in_bochs() -> Result<()> {
    let img = floppy("bochs-floppy")?;
    let run = Bochs::new("bochs-floppy")
        .floppy(&img)
        .e1000()
        .run(&Wait::for_markers(
            &[BANNER, PCI_DONE],
            Duration::from_secs(240),
        ))?;
    run.expect("8086:100e class 0200  ")?;
    Ok(())
}

/// The boot sector follows the FAT, not fixed sectors: delete SOFTPXE.SYS, let another file take
/// its clusters, copy it back with mtools, and it still boots from its new place.
#[test]
fn floppy_boots_after_sys_file_was_moved() -> Result<()> {
    tools::require("mcopy", "mtools")?;
    let img = floppy("qemu-floppy-moved")?;
    let dir = img.parent().unwrap().to_path_buf();
    let before = first_cluster(&img, b"SOFTPXE SYS")?;
    let sys = dir.join("SOFTPXE.SYS");
    let filler = dir.join("FILLER.BIN");
    std::fs::write(&filler, vec![0x5a; 40 * 1024])?;
    mtools(&[
        "mcopy",
        "-n",
        "-i",
        img.to_str().unwrap(),
        "::SOFTPXE.SYS",
        sys.to_str().unwrap(),
    ])?;
    mtools(&["mdel", "-i", img.to_str().unwrap(), "::SOFTPXE.SYS"])?;
    mtools(&[
        "mcopy",
        "-i",
        img.to_str().unwrap(),
        filler.to_str().unwrap(),
        "::FILLER.BIN",
    ])?;
    mtools(&[
        "mcopy",
        "-i",
        img.to_str().unwrap(),
        sys.to_str().unwrap(),
        "::SOFTPXE.SYS",
    ])?;
    let after = first_cluster(&img, b"SOFTPXE SYS")?;
    assert_ne!(
        before, after,
        "SOFTPXE.SYS should have moved to other clusters"
    );
    let run = Qemu::bios("qemu-floppy-moved")
        .floppy(&img)
        .nic("e1000")
        .run(&wait())?;
    run.expect("8086:100e")?;
    Ok(())
}

/// A floppy without SOFTPXE.SYS: the boot sector says so and hands over to the next device.
#[test]
fn floppy_without_sys_file_reports_it() -> Result<()> {
    tools::require("mdel", "mtools")?;
    let img = floppy("qemu-floppy-nosys")?;
    mtools(&["mdel", "-i", img.to_str().unwrap(), "::SOFTPXE.SYS"])?;
    // The boot sector prints with INT 10h only; -nographic makes SeaBIOS copy the screen to COM1.
    let run = Qemu::bios("qemu-floppy-nosys")
        .floppy(&img)
        .args(&["-nographic"])
        .run(&Wait::for_markers(
            &["softpxe: no SOFTPXE.SYS"],
            Duration::from_secs(60),
        ));
    // the marker is also in the failure list, so the run ends as soon as it shows
    let run = run?;
    run.expect_absent(BANNER)?;
    Ok(())
}

fn mtools(args: &[&str]) -> Result<()> {
    let status = Command::new(args[0])
        .args(&args[1..])
        .env("MTOOLS_SKIP_CHECK", "1")
        .status()
        .with_context(|| format!("running {}", args[0]))?;
    anyhow::ensure!(status.success(), "{args:?} failed: {status}");
    Ok(())
}

/// The first cluster of a root directory entry of a FAT12 floppy image.
fn first_cluster(img: &std::path::Path, name: &[u8; 11]) -> Result<u16> {
    let b = std::fs::read(img)?;
    let le16 = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let root = (usize::from(le16(0x0e)) + usize::from(b[0x10]) * usize::from(le16(0x16))) * 512;
    let entries = usize::from(le16(0x11));
    (0..entries)
        .map(|i| root + i * 32)
        .find(|&e| &b[e..e + 11] == name)
        .map(|e| le16(e + 26))
        .context("file not in the root directory")
}

/// `test_fault` makes the core raise a CPU exception after the settings are read: the IDT
/// reports vector, EIP, error code and CR2 on COM1 instead of a triple fault.
#[test]
fn cpu_exceptions_are_reported_not_triple_faults() -> Result<()> {
    use softpxe_settings::Fault;
    for (fault, vector, name) in [
        (Fault::Ud, 6, "invalid opcode"),
        (Fault::De, 0, "divide error"),
        (Fault::Gp, 13, "general protection"),
    ] {
        let run_name = format!("qemu-fault-{fault}");
        let dir = run_dir(&format!("{run_name}-image"))?;
        let mut options = BuildOptions::default();
        options.settings.test_fault = Some(fault);
        let img = floppy_with(&dir, &options)?;
        let marker = format!("softpxe: CPU exception {vector} ({name}) at EIP ");
        let run = Qemu::bios(&run_name).floppy(&img).run(&Wait::for_markers(
            &[BANNER, &marker],
            Duration::from_secs(60),
        ))?;
        let line = run
            .serial
            .lines()
            .find(|l| l.starts_with(&marker))
            .unwrap_or_default();
        assert!(
            line.contains("error code") && line.contains("CR2"),
            "{line}"
        );
        run.expect("core offset")?;
        if fault == Fault::Gp {
            assert!(
                line.contains("error code 00001234"),
                "the #GP error code names the selector: {line}"
            );
        }
    }
    Ok(())
}
