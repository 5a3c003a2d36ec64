//! QEMU runner for BIOS images: `qemu-system-i386 -cpu pentium`, TCG, no display, COM1 to a
//! file, `-no-reboot`, NICs without option ROMs (`romfile=`), a hard timeout.
use crate::{announce, run_dir, supervise, tools, Run, Wait};
use anyhow::{Context, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One QEMU machine, configured step by step.
#[derive(Clone, Debug)]
pub struct Qemu {
    name: String,
    cpu: String,
    memory_mib: u32,
    boot: Vec<String>,
    nics: Vec<String>,
    extra: Vec<String>,
    /// Run inside this LAN's namespace, with files in its run directory.
    lan: Option<(String, PathBuf)>,
}

impl Qemu {
    /// A Pentium with 32 MiB and no NIC; `name` names the run directory `target/emu/<name>`.
    pub fn bios(name: &str) -> Self {
        Qemu {
            name: name.to_string(),
            cpu: "pentium".into(),
            memory_mib: 32,
            boot: Vec::new(),
            nics: Vec::new(),
            extra: Vec::new(),
            lan: None,
        }
    }

    pub fn cpu(mut self, cpu: &str) -> Self {
        self.cpu = cpu.into();
        self
    }

    pub fn memory(mut self, mib: u32) -> Self {
        self.memory_mib = mib;
        self
    }

    /// Boot from `image` as floppy A:.
    pub fn floppy(mut self, image: &Path) -> Self {
        self.boot = vec![
            "-drive".into(),
            format!("file={},if=floppy,format=raw", image.display()),
            "-boot".into(),
            "a".into(),
        ];
        self
    }

    /// Boot from `image` as the first IDE disk (a USB stick as the BIOS presents it).
    pub fn disk(mut self, image: &Path) -> Self {
        self.boot = vec![
            "-drive".into(),
            format!("file={},if=ide,format=raw", image.display()),
            "-boot".into(),
            "c".into(),
        ];
        self
    }

    /// Adds a NIC of QEMU model `model` with its option ROM removed, on QEMU's user network.
    pub fn nic(mut self, model: &str) -> Self {
        let n = self.nics.len() / 4;
        self.nics.extend([
            "-netdev".into(),
            format!("user,id=n{n}"),
            "-device".into(),
            format!("{model},netdev=n{n},romfile="),
        ]);
        self
    }

    /// Runs QEMU inside `lan`'s namespace; the run's files go to the LAN's run directory.
    pub fn lan(mut self, lan: &crate::lan::Lan) -> Self {
        self.lan = Some((lan.ns_lan(), lan.dir().to_path_buf()));
        self
    }

    /// Adds a NIC of model `model` on the LAN's tap0; `rom: false` removes its option ROM.
    pub fn nic_tap(mut self, model: &str, rom: bool) -> Self {
        let n = self.nics.len() / 4;
        self.nics.extend([
            "-netdev".into(),
            format!("tap,id=n{n},ifname=tap0,script=no,downscript=no"),
            "-device".into(),
            format!("{model},netdev=n{n}{}", if rom { "" } else { ",romfile=" }),
        ]);
        self
    }

    /// Adds a NIC on QEMU's user network with its built-in TFTP server serving `dir` and
    /// DHCP naming `bootfile`; option ROM removed.
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

    /// Boots and waits as `wait` says; the run's files stay in `target/emu/<name>/`.
    pub fn run(&self, wait: &Wait) -> Result<Run> {
        tools::require("qemu-system-i386", "qemu-system-x86")?;
        let dir = match &self.lan {
            Some((_, d)) => d.clone(),
            None => run_dir(&self.name)?,
        };
        let serial = dir.join("serial.raw");
        let mut cmd = match &self.lan {
            Some((ns, _)) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "qemu-system-i386"]);
                c
            }
            None => Command::new("qemu-system-i386"),
        };
        cmd.args([
            "-accel",
            "tcg",
            "-cpu",
            &self.cpu,
            "-m",
            &self.memory_mib.to_string(),
        ])
        .args([
            "-display",
            "none",
            "-no-reboot",
            "-nic",
            "none",
            "-monitor",
            "none",
        ])
        .arg("-serial")
        .arg(format!("file:{}", serial.display()))
        .args(&self.boot)
        .args(&self.nics)
        .args(&self.extra);
        // for looking into a failing run by hand, e.g. SOFTPXE_QEMU_ARGS='-d int -D {dir}/int.log'
        if let Ok(more) = std::env::var("SOFTPXE_QEMU_ARGS") {
            let d = dir.display().to_string();
            cmd.args(more.split_whitespace().map(|a| a.replace("{dir}", &d)));
        }
        spawn_and_supervise(&self.name, &dir, &serial, cmd, wait)
    }
}

fn spawn_and_supervise(
    name: &str,
    dir: &Path,
    serial: &Path,
    mut cmd: Command,
    wait: &Wait,
) -> Result<Run> {
    announce(dir, &cmd);
    let out = File::create(dir.join("emulator.log")).context("creating emulator.log")?;
    let err = out.try_clone()?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let child = cmd.spawn().context("starting qemu-system-i386")?;
    supervise(name, dir, serial, child, wait, |c| {
        let _ = c.kill();
    })
}
