//! TFTP roots for the real NBPs the tests boot (from Debian's packages): pxelinux / lpxelinux
//! with their modules, a kernel and an initrd; iPXE's undionly.kpxe with a script; GRUB
//! i386-pc's net directory (`grub-mknetdir`). The files are written into a directory the test
//! owns; nothing outside it is touched.
use crate::tools;
use anyhow::{ensure, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where syslinux-common keeps the BIOS modules.
pub const SYSLINUX: &str = "/usr/lib/syslinux/modules/bios";
/// A Linux-boot-protocol image with initrd support (iPXE as a bzImage, from the ipxe package).
pub const KERNEL: &str = "/usr/lib/ipxe/ipxe.lkrn";
/// iPXE's UNDI-only PXE image.
pub const UNDIONLY: &str = "/usr/lib/ipxe/undionly.kpxe";

/// A TFTP root `dir/tftp` with `nbp` (pxelinux.0 or lpxelinux.0), ldlinux.c32, meminfo.c32 and
/// its libraries, a kernel, an initrd of `initrd` bytes (a pattern) and a
/// pxelinux.cfg/default on serial whose DEFAULT is `label` (`meminfo`, `linux` or `local`).
pub fn syslinux_root(dir: &Path, nbp: &str, label: &str, initrd: usize) -> Result<PathBuf> {
    tools::require(&format!("/usr/lib/PXELINUX/{nbp}"), "pxelinux")?;
    tools::require(&format!("{SYSLINUX}/ldlinux.c32"), "syslinux-common")?;
    tools::require(KERNEL, "ipxe")?;
    let root = dir.join("tftp");
    fs::create_dir_all(root.join("pxelinux.cfg"))?;
    fs::copy(format!("/usr/lib/PXELINUX/{nbp}"), root.join(nbp))?;
    for m in ["ldlinux.c32", "meminfo.c32", "libcom32.c32", "libutil.c32"] {
        fs::copy(format!("{SYSLINUX}/{m}"), root.join(m))?;
    }
    fs::copy(KERNEL, root.join("vmlinuz"))?;
    fs::write(
        root.join("initrd.img"),
        (0..initrd).map(|i| (i % 251) as u8).collect::<Vec<_>>(),
    )?;
    fs::write(
        root.join("pxelinux.cfg/default"),
        format!(
            "SERIAL 0 115200\nPROMPT 0\nDEFAULT {label}\n\
             LABEL meminfo\n  COM32 meminfo.c32\n\
             LABEL linux\n  LINUX vmlinuz\n  INITRD initrd.img\n\
             LABEL local\n  LOCALBOOT 0\n"
        ),
    )?;
    Ok(root)
}

/// GRUB i386-pc's net directory in `root` (`grub-mknetdir --subdir=boot/grub`), with a
/// grub.cfg that switches GRUB's output to COM1 (its serial module comes over TFTP), prints
/// `grubtest: grub.cfg read`, lists its addresses (`net_ls_addr`), then runs `then`.
/// Returns the boot file's path inside `root`: `boot/grub/i386-pc/core.0`.
pub fn grub_root(root: &Path, then: &str) -> Result<&'static str> {
    tools::require("/usr/lib/grub/i386-pc", "grub-pc-bin")?;
    tools::require("grub-mknetdir", "grub-common")?;
    fs::create_dir_all(root)?;
    let out = Command::new("grub-mknetdir")
        .arg(format!("--net-directory={}", root.display()))
        .args(["--subdir=boot/grub", "-d", "/usr/lib/grub/i386-pc"])
        .output()
        .context("running grub-mknetdir")?;
    ensure!(
        out.status.success(),
        "grub-mknetdir failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::write(
        root.join("boot/grub/grub.cfg"),
        format!(
            "insmod serial\nserial --unit=0 --speed=115200\nterminal_output serial\n\
             set timeout=0\necho \"grubtest: grub.cfg read\"\nnet_ls_addr\n{then}\n"
        ),
    )?;
    Ok("boot/grub/i386-pc/core.0")
}

/// The marker GRUB's grub.cfg from [`grub_root`] prints.
pub const GRUB_CFG_READ: &str = "grubtest: grub.cfg read";
