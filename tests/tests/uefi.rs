//! UEFI end to end in QEMU q35 + OVMF (TCG): the USB image's EFI/BOOT/BOOTX64.EFI drives a NIC
//! that has no UEFI driver (QEMU's ROM removed), publishes SNP on a child of its PCI handle, the
//! firmware's own stack (MNP ... PXE Base Code) binds to it, and OVMF's PXE boots iPXE's
//! snponly.efi over it from QEMU's user-net TFTP; snponly.efi finds softpxe's SNP, brings the
//! link up and gets a DHCP lease through it. The run ends as soon as that is on serial.
//! virtio-net, which OVMF drives itself, is left alone unless `uefi_nic = take`.
use anyhow::Result;
use softpxe::{BuildOptions, UsbLayout};
use softpxe_tests::ovmf::SNPONLY_EFI;
use softpxe_tests::{run_dir, tools, Ovmf, Run, Wait};
use std::path::PathBuf;
use std::time::Duration;

const BANNER: &str = concat!("softpxe ", env!("CARGO_PKG_VERSION"), " UEFI: x86_64");
/// QEMU's user-net MAC for the first NIC.
const MAC: &str = "52:54:00:12:34:56";

/// The USB image with `uefi_nic` set as given, and a TFTP directory holding snponly.efi.
fn setup(name: &str, layout: UsbLayout, uefi_nic: Option<&str>) -> Result<(PathBuf, PathBuf)> {
    tools::require(SNPONLY_EFI, "ipxe")?;
    let dir = run_dir(&format!("{name}-files"))?;
    let mut options = BuildOptions::default();
    if let Some(v) = uefi_nic {
        options
            .settings
            .set(softpxe_settings::Key::UefiNic, v.as_bytes())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let img = dir.join("usb.img");
    softpxe::write_image_file(
        &img,
        &softpxe::build_usb_layout(&options, 32 << 20, layout)?,
        false,
    )?;
    let tftp = dir.join("tftp");
    std::fs::create_dir_all(&tftp)?;
    std::fs::copy(SNPONLY_EFI, tftp.join("snponly.efi"))?;
    Ok((img, tftp))
}

/// What every successful PXE boot of snponly.efi over softpxe's SNP shows, in order.
fn snponly_markers(pci_id: &str) -> Vec<String> {
    vec![
        BANNER.to_string(),
        "softpxe: settings from SOFTPXE.CFG: ".to_string(),
        pci_id.to_string(),
        format!("softpxe:   SNP on MAC {MAC}"),
        "the firmware's network stack is connected to softpxe's SNP".to_string(),
        ">>Start PXE over IPv4.".to_string(),
        "NBP file downloaded successfully.".to_string(),
        "iPXE initialising devices...ok".to_string(),
        format!("net0: {MAC} using SNP on SNP-"),
        format!("Configuring (net0 {MAC})...... ok"),
    ]
}

/// Boots snponly.efi through softpxe's SNP on a NIC of QEMU model `model` (`model` may carry
/// extra device properties, e.g. `virtio-net-pci,bootindex=1`).
fn boot_snponly(
    name: &str,
    model: &str,
    pci_id: &str,
    layout: UsbLayout,
    uefi_nic: Option<&str>,
) -> Result<Run> {
    let (img, tftp) = setup(name, layout, uefi_nic)?;
    let markers = snponly_markers(pci_id);
    let markers: Vec<&str> = markers.iter().map(String::as_str).collect();
    let run = Ovmf::new(name)
        .usb(&img)
        .nic_user_tftp(model, &tftp, "snponly.efi")
        .run(&Wait::for_markers(&markers, Duration::from_secs(180)))?;
    report(&run, &markers);
    Ok(run)
}

/// Prints when each marker appeared (the numbers docs/uefi.md quotes).
fn report(run: &Run, markers: &[&str]) {
    for (m, t) in markers.iter().zip(&run.marker_times) {
        if let Some(t) = t {
            eprintln!("{}: {:6.1} s  {m}", run.name, t.as_secs_f64());
        }
    }
    eprintln!("{}: whole run {:.1} s", run.name, run.elapsed.as_secs_f64());
}

#[test]
fn e1000_snponly_boots_over_softpxe_snp() -> Result<()> {
    let run = boot_snponly("uefi-e1000", "e1000", "8086:100e", UsbLayout::Mbr, None)?;
    run.expect("(e1000)")?
        .expect("PXE boot with the firmware's PXE Base Code over softpxe's SNP")?
        .expect_absent("a firmware driver owns it")?;
    Ok(())
}

/// rtl8139 from the GPT image (the EFI system partition layout).
#[test]
fn rtl8139_snponly_boots_from_the_gpt_image() -> Result<()> {
    let run = boot_snponly(
        "uefi-rtl8139-gpt",
        "rtl8139",
        "10ec:8139",
        UsbLayout::Gpt,
        None,
    )?;
    run.expect("(rtl8139)")?;
    Ok(())
}

/// OVMF's own VirtioNetDxe owns a virtio-net NIC (SNP under its PCI handle): softpxe leaves it
/// and returns to the boot manager with nothing installed.
#[test]
fn virtio_net_owned_by_ovmf_is_skipped() -> Result<()> {
    let (img, tftp) = setup("uefi-virtio-skip", UsbLayout::Mbr, None)?;
    let markers = [
        BANNER,
        "1af4:1000",
        "a firmware driver owns it (SNP present): skipped; uefi_nic = take drives it",
        "softpxe: no NIC for softpxe to drive; back to the boot manager",
    ];
    let run = Ovmf::new("uefi-virtio-skip")
        .usb(&img)
        .nic_user_tftp("virtio-net-pci", &tftp, "snponly.efi")
        .run(&Wait::for_markers(&markers, Duration::from_secs(120)))?;
    report(&run, &markers);
    run.expect_absent("SNP on MAC")?;
    Ok(())
}

/// `uefi_nic = take`: softpxe stops and disconnects OVMF's virtio driver and the network stack on
/// it (the NIC has a boot index, so OVMF connected all of it at boot), opens PCI I/O
/// exclusively, drives the NIC with its own virtio driver, and snponly.efi boots over softpxe's
/// SNP.
#[test]
fn virtio_net_taken_with_uefi_nic_take() -> Result<()> {
    let run = boot_snponly(
        "uefi-virtio-take",
        "virtio-net-pci,bootindex=1",
        "1af4:1000",
        UsbLayout::Mbr,
        Some("take"),
    )?;
    run.expect("a firmware driver owns it: uefi_nic = take, taking it over")?
        .expect("(virtio_net)")?;
    Ok(())
}

/// The PXE boot fails (the boot file is not on the TFTP server): softpxe takes down everything
/// it installed (the firmware's stack disconnected, SNP and the device path uninstalled, the
/// NIC stopped, PCI I/O closed) before BOOTX64.EFI returns, and the boot manager goes on to its
/// next option without a fault.
#[test]
fn failed_pxe_boot_uninstalls_and_returns_to_the_boot_manager() -> Result<()> {
    let (img, tftp) = setup("uefi-e1000-nofile", UsbLayout::Mbr, None)?;
    let markers = [
        BANNER,
        "softpxe:   SNP on MAC 52:54:00:12:34:56",
        ">>Start PXE over IPv4.",
        "softpxe: 00:02.0: PXE boot failed",
        "softpxe: every protocol softpxe installed is gone; back to the boot manager",
        "BdsDxe: loading Boot0002",
    ];
    let run = Ovmf::new("uefi-e1000-nofile")
        .usb(&img)
        .nic_user_tftp("e1000", &tftp, "missing.efi")
        .run(&Wait::for_markers(&markers, Duration::from_secs(180)))?;
    report(&run, &markers);
    run.expect_absent("iPXE")?;
    Ok(())
}

/// `uefi_nic = skip`: BOOTX64.EFI drives nothing and hands back to the boot manager at once.
#[test]
fn uefi_nic_skip_drives_nothing() -> Result<()> {
    let (img, tftp) = setup("uefi-skip", UsbLayout::Mbr, Some("skip"))?;
    let markers = [
        BANNER,
        "softpxe: settings from SOFTPXE.CFG: 1 set, 0 bad line(s)",
        "softpxe: uefi_nic = skip: no NIC driven; back to the boot manager",
        "BdsDxe: loading Boot0002",
    ];
    let run = Ovmf::new("uefi-skip")
        .usb(&img)
        .nic_user_tftp("e1000", &tftp, "snponly.efi")
        .run(&Wait::for_markers(&markers, Duration::from_secs(120)))?;
    report(&run, &markers);
    run.expect_absent("8086:100e")?
        .expect_absent("SNP on MAC")?
        .expect_absent(">>Start PXE")?;
    Ok(())
}

/// snpcheck.efi (`tests/efinbp`), booted by OVMF's PXE over softpxe's SNP, opens the SNP
/// exclusively and calls every function in and out of order (state machine, filters, station
/// address, statistics, MCastIpToMac, NvData, Transmit with header fill-in and buffer
/// recycling, WaitForPacket, Receive with BUFFER_TOO_SMALL, an ARP exchange with QEMU's
/// gateway); every answer must be the expected one.
fn snpcheck(name: &str, model: &str, uefi_nic: Option<&str>) -> Result<()> {
    let (img, tftp) = setup(name, UsbLayout::Mbr, uefi_nic)?;
    std::fs::copy(env!("SOFTPXE_SNPCHECK"), tftp.join("snpcheck.efi"))?;
    let markers = [
        BANNER,
        ">>Start PXE over IPv4.",
        "snpcheck: SNP opened exclusively",
        "snpcheck: done, ",
    ];
    let run = Ovmf::new(name)
        .usb(&img)
        .nic_user_tftp(model, &tftp, "snpcheck.efi")
        .run(&Wait::for_markers(&markers, Duration::from_secs(180)))?;
    report(&run, &markers);
    run.expect(" 0 failures")?.expect_absent("snpcheck: FAIL")?;
    let checks = run.serial.matches("snpcheck: ok ").count();
    anyhow::ensure!(checks >= 50, "only {checks} checks passed");
    Ok(())
}

#[test]
fn snpcheck_e1000() -> Result<()> {
    snpcheck("uefi-snpcheck-e1000", "e1000", None)
}

#[test]
fn snpcheck_rtl8139() -> Result<()> {
    snpcheck("uefi-snpcheck-rtl8139", "rtl8139", None)
}

/// virtio-net taken from OVMF (`uefi_nic = take`): softpxe's virtio driver behind SNP.
#[test]
fn snpcheck_virtio_net_taken() -> Result<()> {
    snpcheck("uefi-snpcheck-virtio", "virtio-net-pci", Some("take"))
}
