//! Bochs runner (Debian's Bochs 2.7): no GUI library in that build, so the `term` display runs
//! under `script` for a terminal; the built-in debugger is told to continue (`cont.rc`); COM1
//! goes to a file. Bochs is stopped by killing its process group after the markers or timeout.
use crate::{announce, run_dir, supervise, tools, Run, Wait};
use anyhow::{Context, Result};
use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A network card Bochs emulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BochsNic {
    /// Intel 82540EM in PCI slot 1.
    E1000,
    /// The NE2000 (RTL8029, 10ec:8029) in PCI slot 1.
    Ne2kPci,
    /// The NE2000 on the ISA bus (IRQ 9 makes Bochs stop on its PIIX3 IRQ routing: use 5).
    Ne2kIsa { ioaddr: u16, irq: u8 },
}

/// One Bochs machine.
#[derive(Clone, Debug)]
pub struct Bochs {
    name: String,
    floppy: Option<PathBuf>,
    memory_mib: u32,
    nic: Option<BochsNic>,
    /// Bochs's own slirp network behind the NIC: TFTP root and boot file.
    slirp: Option<(PathBuf, String)>,
}

impl Bochs {
    pub fn new(name: &str) -> Self {
        Bochs {
            name: name.to_string(),
            floppy: None,
            memory_mib: 32,
            nic: None,
            slirp: None,
        }
    }

    pub fn floppy(mut self, image: &Path) -> Self {
        self.floppy = Some(image.to_path_buf());
        self
    }

    /// Puts Bochs's e1000 in PCI slot 1 (no network behind it yet).
    pub fn e1000(mut self) -> Self {
        self.nic = Some(BochsNic::E1000);
        self
    }

    /// Puts the e1000 on Bochs's built-in slirp network (DHCP + TFTP serving `tftp_root`, DHCP
    /// naming `bootfile`).
    pub fn e1000_slirp(self, tftp_root: &Path, bootfile: &str) -> Self {
        self.nic_slirp(BochsNic::E1000, tftp_root, bootfile)
    }

    /// Puts Bochs's NE2000 (RTL8029) in PCI slot 1 on the slirp network, like
    /// [`Bochs::e1000_slirp`].
    pub fn ne2k_pci_slirp(self, tftp_root: &Path, bootfile: &str) -> Self {
        self.nic_slirp(BochsNic::Ne2kPci, tftp_root, bootfile)
    }

    /// Puts Bochs's NE2000 on the ISA bus at `ioaddr`/`irq` on the slirp network. IRQ 9 makes
    /// Bochs stop ("IRQ 9 conflict ... PIIX3 IRQ routing"): use 5 (or 3, 10, 11).
    pub fn ne2k_isa_slirp(self, ioaddr: u16, irq: u8, tftp_root: &Path, bootfile: &str) -> Self {
        self.nic_slirp(BochsNic::Ne2kIsa { ioaddr, irq }, tftp_root, bootfile)
    }

    /// Puts `nic` on Bochs's built-in slirp network (DHCP + TFTP serving `tftp_root`, DHCP
    /// naming `bootfile`).
    fn nic_slirp(mut self, nic: BochsNic, tftp_root: &Path, bootfile: &str) -> Self {
        self.nic = Some(nic);
        self.slirp = Some((tftp_root.to_path_buf(), bootfile.to_string()));
        self
    }

    /// Guest memory in MiB (default 32).
    pub fn memory(mut self, mib: u32) -> Self {
        self.memory_mib = mib;
        self
    }

    pub fn run(&self, wait: &Wait) -> Result<Run> {
        tools::require("bochs", "bochs")?;
        tools::require("script", "util-linux")?;
        let dir = run_dir(&self.name)?;
        let serial = dir.join("serial.raw");
        let floppy = self.floppy.as_ref().context("Bochs needs a floppy image")?;
        let mut rc = format!(
            "megs: {}\n\
             romimage: file=/usr/share/bochs/BIOS-bochs-latest\n\
             vgaromimage: file=/usr/share/vgabios/vgabios.bin\n\
             floppya: 1_44={}, status=inserted\n\
             boot: floppy\n\
             com1: enabled=1, mode=file, dev={}\n\
             cpu: count=1, ips=50000000\n\
             display_library: term\n\
             log: {}\n\
             panic: action=fatal\n\
             error: action=report\n\
             info: action=ignore\n",
            self.memory_mib,
            floppy.display(),
            serial.display(),
            dir.join("bochs.log").display()
        );
        let (slot, card) = match self.nic {
            None => (None, None),
            Some(BochsNic::E1000) => (Some("e1000"), Some("e1000: enabled=1".to_string())),
            Some(BochsNic::Ne2kPci) => (Some("ne2k"), Some("ne2k: enabled=1".to_string())),
            Some(BochsNic::Ne2kIsa { ioaddr, irq }) => (
                None,
                Some(format!("ne2k: enabled=1, ioaddr={ioaddr:#x}, irq={irq}")),
            ),
        };
        match slot {
            Some(slot) => rc.push_str(&format!("pci: enabled=1, chipset=i440fx, slot1={slot}\n")),
            None => rc.push_str("pci: enabled=1, chipset=i440fx\n"),
        }
        if let Some(card) = card {
            let net = match &self.slirp {
                Some((root, bootfile)) => {
                    let conf = dir.join("slirp.conf");
                    fs::write(&conf, format!("# slirp config\nbootfile = {bootfile}\n"))
                        .context("writing slirp.conf")?;
                    format!(
                        "ethmod=slirp, ethdev={}, script={}",
                        root.display(),
                        conf.display()
                    )
                }
                None => "ethmod=null".to_string(),
            };
            rc.push_str(&format!("{card}, mac=52:54:00:12:34:56, {net}\n"));
        }
        fs::write(dir.join("bochsrc"), rc).context("writing bochsrc")?;
        fs::write(dir.join("cont.rc"), "c\n").context("writing cont.rc")?;
        let mut cmd = Command::new("script");
        cmd.current_dir(&dir)
            .args(["-qfec", "bochs -q -f bochsrc -rc cont.rc", "/dev/null"])
            .process_group(0);
        announce(&dir, &cmd);
        let out = File::create(dir.join("emulator.log")).context("creating emulator.log")?;
        let err = out.try_clone()?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd.spawn().context("starting bochs under script")?;
        supervise(&self.name, &dir, &serial, child, wait, |c| {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", c.id())])
                .status();
        })
    }
}
