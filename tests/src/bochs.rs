//! Bochs runner (Debian's Bochs 2.7): no GUI library in that build, so the `term` display runs
//! under `script` for a terminal; the built-in debugger is told to continue (`cont.rc`); COM1
//! goes to a file. Bochs is stopped by killing its process group after the markers or timeout.
use crate::{announce, run_dir, supervise, tools, Run, Wait};
use anyhow::{Context, Result};
use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One Bochs machine.
#[derive(Clone, Debug)]
pub struct Bochs {
    name: String,
    floppy: Option<PathBuf>,
    memory_mib: u32,
    e1000: bool,
    /// Bochs's own slirp network behind the e1000: TFTP root and boot file.
    slirp: Option<(PathBuf, String)>,
}

impl Bochs {
    pub fn new(name: &str) -> Self {
        Bochs {
            name: name.to_string(),
            floppy: None,
            memory_mib: 32,
            e1000: false,
            slirp: None,
        }
    }

    pub fn floppy(mut self, image: &Path) -> Self {
        self.floppy = Some(image.to_path_buf());
        self
    }

    /// Puts Bochs's e1000 in PCI slot 1 (no network behind it yet).
    pub fn e1000(mut self) -> Self {
        self.e1000 = true;
        self
    }

    /// Puts the e1000 on Bochs's built-in slirp network (DHCP + TFTP serving `tftp_root`, DHCP
    /// naming `bootfile`).
    pub fn e1000_slirp(mut self, tftp_root: &Path, bootfile: &str) -> Self {
        self.e1000 = true;
        self.slirp = Some((tftp_root.to_path_buf(), bootfile.to_string()));
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
        if let Some((root, bootfile)) = &self.slirp {
            let conf = dir.join("slirp.conf");
            fs::write(&conf, format!("# slirp config\nbootfile = {bootfile}\n"))
                .context("writing slirp.conf")?;
            rc.push_str("pci: enabled=1, chipset=i440fx, slot1=e1000\n");
            rc.push_str(&format!(
                "e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=slirp, ethdev={}, script={}\n",
                root.display(),
                conf.display()
            ));
        } else if self.e1000 {
            rc.push_str("pci: enabled=1, chipset=i440fx, slot1=e1000\n");
            rc.push_str("e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=null\n");
        } else {
            rc.push_str("pci: enabled=1, chipset=i440fx\n");
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
