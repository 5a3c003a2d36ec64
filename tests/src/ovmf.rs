//! QEMU runner for UEFI: `qemu-system-x86_64 -machine q35 -nodefaults` with Debian's OVMF (code
//! read-only and a fresh copy of the variable store per run, both as pflash), the USB image on
//! `qemu-xhci` + `usb-storage` as the only boot device (bootindex 0), COM1 to a file (OVMF
//! mirrors its console there), NICs without option ROMs (`romfile=`) on QEMU's user network,
//! TCG, a hard timeout.
use crate::{announce, run_dir, supervise, tools, Run, Wait};
use anyhow::{Context, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// OVMF's code (4 MiB flash layout, no Secure Boot keys: softpxe's binary is unsigned).
pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
/// The variable store template, copied fresh for every run.
pub const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";
/// iPXE's SNP-only EFI binary (Debian package ipxe).
pub const SNPONLY_EFI: &str = "/usr/lib/ipxe/snponly.efi";

/// Failure texts of a UEFI run: a Rust panic in BOOTX64.EFI (the `uefi` crate's handler), a CPU
/// exception (OVMF's dump), or the boot manager giving up.
pub const UEFI_FAILURES: &[&str] = &[
    "[PANIC]",
    "!!!! X64 Exception",
    "softpxe: SNP cannot be uninstalled",
    "No bootable option or device was found",
];

/// One OVMF machine, configured step by step.
#[derive(Clone, Debug)]
pub struct Ovmf {
    name: String,
    memory_mib: u32,
    usb: Option<PathBuf>,
    nics: Vec<String>,
    extra: Vec<String>,
}

impl Ovmf {
    /// A q35 machine with 256 MiB and no NIC; files go to `target/emu/<name>`.
    pub fn new(name: &str) -> Self {
        Ovmf {
            name: name.to_string(),
            memory_mib: 256,
            usb: None,
            nics: Vec::new(),
            extra: Vec::new(),
        }
    }

    pub fn memory(mut self, mib: u32) -> Self {
        self.memory_mib = mib;
        self
    }

    /// Boots `image` as a USB stick (xHCI + usb-storage, bootindex 0).
    pub fn usb(mut self, image: &Path) -> Self {
        self.usb = Some(image.to_path_buf());
        self
    }

    /// Adds a NIC of QEMU model `model` without option ROM on QEMU's user network, whose TFTP
    /// server serves `dir` and whose DHCP names `bootfile`.
    pub fn nic_user_tftp(mut self, model: &str, dir: &Path, bootfile: &str) -> Self {
        let n = self.nics.len() / 4;
        self.nics.extend([
            "-netdev".into(),
            format!("user,id=n{n},tftp={},bootfile={bootfile}", dir.display()),
            "-device".into(),
            format!("{model},netdev=n{n},romfile="),
        ]);
        self
    }

    /// Extra QEMU arguments, verbatim.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.extra.extend(args.iter().map(|s| s.to_string()));
        self
    }

    /// Boots and waits as `wait` says (its failure texts plus [`UEFI_FAILURES`]).
    pub fn run(&self, wait: &Wait) -> Result<Run> {
        tools::require("qemu-system-x86_64", "qemu-system-x86")?;
        tools::require(OVMF_CODE, "ovmf")?;
        tools::require(OVMF_VARS, "ovmf")?;
        let dir = run_dir(&self.name)?;
        let vars = dir.join("OVMF_VARS.fd");
        std::fs::copy(OVMF_VARS, &vars).context("copying OVMF's variable store")?;
        let serial = dir.join("serial.raw");
        let mut cmd = Command::new("qemu-system-x86_64");
        cmd.args(["-machine", "q35", "-nodefaults", "-accel", "tcg"])
            .args(["-m", &self.memory_mib.to_string()])
            .args(["-display", "none", "-no-reboot", "-monitor", "none"])
            .arg("-drive")
            .arg(format!(
                "if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}"
            ))
            .arg("-drive")
            .arg(format!(
                "if=pflash,format=raw,unit=1,file={}",
                vars.display()
            ))
            .arg("-serial")
            .arg(format!("file:{}", serial.display()));
        if let Some(usb) = &self.usb {
            cmd.args(["-device", "qemu-xhci,id=xhci"])
                .arg("-drive")
                .arg(format!(
                    "if=none,id=stick,format=raw,file={}",
                    usb.display()
                ))
                .args(["-device", "usb-storage,bus=xhci.0,drive=stick,bootindex=0"]);
        }
        cmd.args(&self.nics).args(&self.extra);
        if let Ok(more) = std::env::var("SOFTPXE_QEMU_ARGS") {
            let d = dir.display().to_string();
            cmd.args(more.split_whitespace().map(|a| a.replace("{dir}", &d)));
        }
        let mut wait = wait.clone();
        wait.failures
            .extend(UEFI_FAILURES.iter().map(|s| s.to_string()));
        announce(&dir, &cmd);
        let out = File::create(dir.join("emulator.log")).context("creating emulator.log")?;
        let err = out.try_clone()?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd.spawn().context("starting qemu-system-x86_64")?;
        supervise(&self.name, &dir, &serial, child, &wait, |c| {
            let _ = c.kill();
        })
    }
}
