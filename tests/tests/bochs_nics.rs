//! Bochs's NICs: pxelinux.0 on its e1000 (the e1000's test-NBP boot is in netboot.rs), and its
//! NE2000 in a PCI slot (RTL8029, 10ec:8029) and on the ISA bus (`isa = ne2000:0x300:5`; IRQ 9 makes Bochs stop on its PIIX3
//! IRQ routing), each booting the test NBP and pxelinux.0 (kernel + initrd through the PXE API)
//! from Bochs's own slirp network (DHCP + TFTP). Option ROMs: Bochs's ne2k has none by default.
use anyhow::{Context, Result};
use softpxe_tests::{floppy_fast, nbps, run_dir, test_nbp, Bochs, Run, Wait};
use std::fs;
use std::path::Path;
use std::time::Duration;

/// Initrd for pxelinux.0: smaller than the QEMU matrix's, Bochs emulates every instruction.
const INITRD: usize = 1 << 20;

/// Which NE2000 Bochs gets.
#[derive(Clone, Copy)]
enum Card {
    E1000,
    Pci,
    Isa,
}

const ISA_PORT: u16 = 0x300;
const ISA_IRQ: u8 = 5;

fn bochs(name: &str, card: Card, img: &Path, tftp: &Path, bootfile: &str) -> Bochs {
    let b = Bochs::new(name).floppy(img);
    match card {
        Card::E1000 => b.e1000_slirp(tftp, bootfile),
        Card::Pci => b.ne2k_pci_slirp(tftp, bootfile),
        Card::Isa => b.ne2k_isa_slirp(ISA_PORT, ISA_IRQ, tftp, bootfile),
    }
}

fn floppy(dir: &Path, card: Card) -> Result<std::path::PathBuf> {
    floppy_fast(dir, |s| {
        if let Card::Isa = card {
            s.set(
                softpxe_settings::Key::Isa,
                format!("ne2000:{ISA_PORT:#x}:{ISA_IRQ}").as_bytes(),
            )
            .expect("a valid isa setting");
        }
    })
}

fn where_(card: Card) -> &'static str {
    match card {
        Card::E1000 => "(e1000 at 00:",
        Card::Pci => "(ne2000 at 00:",
        Card::Isa => "(ne2000 at ISA 0x300 IRQ 5;",
    }
}

fn test_nbp_on(card: Card, name: &str) -> Result<()> {
    let dir = run_dir(&format!("{name}-files"))?;
    let img = floppy(&dir, card)?;
    let tftp = dir.join("tftp");
    fs::create_dir_all(&tftp)?;
    fs::copy(test_nbp(), tftp.join("testnbp.0")).context("copying the test NBP")?;
    let run = bochs(name, card, &img, &tftp, "testnbp.0").run(&Wait::for_markers(
        &[
            "testnbp: image intact",
            "softpxe: the NBP returned (AX=0000)",
        ],
        Duration::from_secs(300),
    ))?;
    run.expect(where_(card))?
        .expect("TFTP: \"testnbp.0\"")?
        .expect("testnbp: PXENV+ at ES:BX")?;
    eprintln!("{name}: {:.2} s", run.elapsed.as_secs_f64());
    Ok(())
}

fn pxelinux_on(card: Card, name: &str) -> Result<()> {
    let dir = run_dir(&format!("{name}-files"))?;
    let root = nbps::syslinux_root(&dir, "pxelinux.0", "linux", INITRD)?;
    let img = floppy(&dir, card)?;
    let run: Run = bochs(name, card, &img, &root, "pxelinux.0").run(&Wait::for_markers(
        &[
            "PXELINUX 6.04",
            "Loading vmlinuz... ok",
            "Loading initrd.img...ok",
        ],
        Duration::from_secs(480),
    ))?;
    run.expect(where_(card))?;
    let t = |i: usize| run.marker_times[i].map(|d| d.as_secs_f64());
    if let (Some(kernel), Some(initrd)) = (t(1), t(2)) {
        let secs = (initrd - kernel).max(0.01);
        eprintln!(
            "{name}: initrd ({} KiB) through the PXE API in {secs:.2} s ({:.0} KiB/s)",
            INITRD >> 10,
            (INITRD >> 10) as f64 / secs
        );
    }
    Ok(())
}

#[test]
fn bochs_ne2k_pci_boots_the_test_nbp() -> Result<()> {
    test_nbp_on(Card::Pci, "bochs-ne2k-pci-testnbp")
}

#[test]
fn bochs_ne2k_pci_boots_pxelinux() -> Result<()> {
    pxelinux_on(Card::Pci, "bochs-ne2k-pci-pxelinux")
}

#[test]
fn bochs_ne2k_isa_boots_the_test_nbp() -> Result<()> {
    test_nbp_on(Card::Isa, "bochs-ne2k-isa-testnbp")
}

#[test]
fn bochs_ne2k_isa_boots_pxelinux() -> Result<()> {
    pxelinux_on(Card::Isa, "bochs-ne2k-isa-pxelinux")
}

#[test]
fn bochs_e1000_boots_pxelinux() -> Result<()> {
    pxelinux_on(Card::E1000, "bochs-e1000-pxelinux")
}
