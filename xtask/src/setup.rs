//! `cargo xtask setup`: everything the build and the tests need on a fresh Debian 12 machine.
//! Idempotent: it installs only what is missing.
use crate::{step, which};
use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

/// Rust targets of the firmware (rust-toolchain.toml lists them, but rustup does not always
/// install listed targets by itself).
const TARGETS: [&str; 2] = ["i586-unknown-linux-gnu", "x86_64-unknown-uefi"];

/// Debian packages, and one program or file per package that shows it is installed.
/// qemu-utils is pinned to bookworm's version: the machine image may carry a newer one from
/// backports that conflicts with bookworm's qemu-system-x86 ("held broken packages").
/// atftpd is left out on purpose: it conflicts with tftpd-hpa; the tests that need it unpack
/// it separately.
const PACKAGES: [(&str, &str); 26] = [
    ("qemu-system-x86", "/usr/bin/qemu-system-i386"),
    ("qemu-utils/bookworm", "/usr/bin/qemu-img"),
    ("ipxe-qemu", "/usr/lib/ipxe/qemu/efi-e1000.rom"),
    ("ovmf", "/usr/share/OVMF/OVMF_CODE_4M.fd"),
    ("seabios", "/usr/share/seabios/bios.bin"),
    ("bochs", "/usr/bin/bochs"),
    ("bochsbios", "/usr/share/bochs/BIOS-bochs-latest"),
    ("vgabios", "/usr/share/vgabios/vgabios.bin"),
    (
        "bochs-term",
        "/usr/lib/x86_64-linux-gnu/bochs/plugins/libbx_term_gui.so.0.0.0",
    ),
    ("ipxe", "/usr/lib/ipxe/undionly.kpxe"),
    ("pxelinux", "/usr/lib/PXELINUX/pxelinux.0"),
    (
        "syslinux-common",
        "/usr/lib/syslinux/modules/bios/ldlinux.c32",
    ),
    ("grub-efi-amd64-bin", "/usr/lib/grub/x86_64-efi"),
    ("grub-pc-bin", "/usr/lib/grub/i386-pc"),
    ("grub-common", "/usr/bin/grub-mknetdir"),
    ("memtest86+", "/boot/memtest86+x64.bin"),
    ("dnsmasq-base", "/usr/sbin/dnsmasq"),
    ("tftpd-hpa", "/usr/sbin/in.tftpd"),
    // the routed field LAN: ISC dhcpd as a second DHCP server, dhcrelay as the router's IP helper
    ("isc-dhcp-server", "/usr/sbin/dhcpd"),
    ("isc-dhcp-relay", "/usr/sbin/dhcrelay"),
    ("iproute2", "/usr/sbin/ip"),
    ("mtools", "/usr/bin/mcopy"),
    ("dosfstools", "/usr/sbin/fsck.fat"),
    ("util-linux", "/usr/bin/script"),
    // libraries of the unpacked atftpd
    ("libwrap0", "/usr/lib/x86_64-linux-gnu/libwrap.so.0"),
    ("libpcre2-8-0", "/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0"),
];

pub fn run(sh: &Shell) -> Result<()> {
    rust_targets(sh)?;
    packages(sh)?;
    atftpd(sh)
}

/// atftpd (RFC 7440 windowsize) conflicts with tftpd-hpa as a package, so its files are
/// unpacked under target/tools/atftpd instead of installed (tests/src/lan/ runs it there).
fn atftpd(sh: &Shell) -> Result<()> {
    let dest = crate::root().join("target/tools/atftpd");
    if dest.join("usr/sbin/atftpd").exists() {
        return Ok(());
    }
    step("unpacking atftpd into target/tools/atftpd");
    let tmp = sh.create_temp_dir()?;
    let dir = tmp.path().to_string_lossy().to_string();
    // apt-get download runs as the _apt user: it must be able to write there
    cmd!(sh, "chmod 777 {dir}").run()?;
    sh.change_dir(&dir);
    let result = cmd!(sh, "apt-get download -q atftpd")
        .run()
        .context("apt-get download atftpd");
    sh.change_dir(crate::root());
    result?;
    let deb = std::fs::read_dir(tmp.path())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .context("apt-get download left no .deb")?;
    std::fs::create_dir_all(&dest).with_context(|| format!("creating {}", dest.display()))?;
    let dest_s = dest.to_string_lossy().to_string();
    cmd!(sh, "dpkg-deb -x {deb} {dest_s}")
        .run()
        .context("unpacking atftpd")?;
    Ok(())
}

fn rust_targets(sh: &Shell) -> Result<()> {
    let installed = cmd!(sh, "rustup target list --installed")
        .quiet()
        .read()
        .unwrap_or_default();
    let missing: Vec<&str> = TARGETS
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    step(&format!("rustup target add {}", missing.join(" ")));
    cmd!(sh, "rustup target add {missing...}")
        .run()
        .context("adding Rust targets")?;
    Ok(())
}

fn packages(sh: &Shell) -> Result<()> {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(_, probe)| !std::path::Path::new(probe).exists())
        .map(|(pkg, _)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if which("apt-get").is_none() {
        bail!(
            "missing packages {missing:?} and no apt-get here: install them by hand (Debian names)"
        );
    }
    let uid = cmd!(sh, "id -u").quiet().read().unwrap_or_default();
    if uid.trim() != "0" {
        bail!("missing packages {missing:?}: run `cargo xtask setup` as root, or apt-get install them");
    }
    step(&format!("apt-get install {}", missing.join(" ")));
    cmd!(sh, "apt-get update -q")
        .run()
        .context("apt-get update")?;
    // Always name the whole set: apt resolves the qemu-utils pin only when both come together.
    let all: Vec<&str> = PACKAGES.iter().map(|(p, _)| *p).collect();
    cmd!(
        sh,
        "apt-get install -y -q --allow-downgrades --no-install-recommends {all...}"
    )
    .env("DEBIAN_FRONTEND", "noninteractive")
    .run()
    .context("apt-get install")?;
    Ok(())
}
