//! The command line: `softpxe build floppy|usb`, `softpxe inspect` (clap derive). Errors come
//! back as `anyhow` chains; `main.rs` prints them and picks the exit code.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use softpxe::{BuildOptions, Settings};
use softpxe_settings::Key;
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "softpxe",
    version,
    about = "Writes softpxe boot images: a software PXE boot ROM on a floppy or USB stick"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing would only obscure the clap derive
pub enum Command {
    /// Write a boot image
    #[command(subcommand)]
    Build(BuildTarget),
    /// Show what is on a softpxe image: layout, files, firmware version, settings
    Inspect {
        /// The image file (floppy or USB)
        image: PathBuf,
    },
    /// List the network cards softpxe drives (from the drivers' own PCI ID tables)
    Nics,
}

#[derive(Subcommand, Debug)]
pub enum BuildTarget {
    /// A 1.44 MB FAT12 floppy image
    Floppy {
        #[command(flatten)]
        common: Common,
    },
    /// A USB stick image for BIOS and UEFI: MBR with one active FAT partition (or GPT with an
    /// EFI system partition, --gpt) holding SOFTPXE.SYS, SOFTPXE.CFG and EFI/BOOT/BOOTX64.EFI
    Usb {
        #[command(flatten)]
        common: Common,
        /// Partition with GPT (protective MBR, one EFI system partition) instead of MBR;
        /// BIOS boot still works
        #[arg(long)]
        gpt: bool,
        /// Disk size, with K/M/G suffix (16M to 2G)
        #[arg(long, default_value = "32M", value_name = "SIZE", value_parser = size_arg)]
        size: u64,
    },
}

#[derive(Args, Debug)]
pub struct Common {
    /// Output image file
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Overwrite the output file if it exists
    #[arg(long)]
    pub force: bool,
    /// Settings file (SOFTPXE.CFG format) to start from; flags below override it
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    #[command(flatten)]
    pub flags: SettingFlags,
}

/// `--size`: syntax is checked here (a usage error); the range later (a failure).
fn size_arg(s: &str) -> Result<u64, String> {
    softpxe::parse_size(s).map_err(|e| e.to_string())
}

/// Makes a clap value parser that checks the value as `SOFTPXE.CFG` would.
fn checked(key: Key) -> impl Fn(&str) -> Result<String, String> + Clone + Send + Sync + 'static {
    move |v: &str| {
        Settings::default()
            .set(key, v.as_bytes())
            .map(|()| v.to_string())
            .map_err(|e| e.to_string())
    }
}

/// One flag per setting (see docs/settings.md); each overrides the --settings file.
#[derive(Args, Debug, Default)]
pub struct SettingFlags {
    /// TFTP server: IPv4 address or host name
    #[arg(long, value_name = "HOST", value_parser = checked(Key::NextServer))]
    pub next_server: Option<String>,
    /// Boot file name to fetch
    #[arg(long, value_name = "FILE", value_parser = checked(Key::BootFile))]
    pub boot_file: Option<String>,
    /// DHCP vendor class identifier (option 60)
    #[arg(long, value_name = "STRING", value_parser = checked(Key::VendorClass))]
    pub vendor_class: Option<String>,
    /// Static IPv4 address, a.b.c.d/nn
    #[arg(long, value_name = "ADDR/NN", value_parser = checked(Key::Ip))]
    pub ip: Option<String>,
    /// Default gateway for the static address
    #[arg(long, value_name = "ADDR", value_parser = checked(Key::Gateway))]
    pub gateway: Option<String>,
    /// DNS server
    #[arg(long, value_name = "ADDR", value_parser = checked(Key::Dns))]
    pub dns: Option<String>,
    /// Boot server discovery: auto, skip, broadcast, multicast, unicast
    #[arg(long, value_name = "MODE", value_parser = checked(Key::Discovery))]
    pub discovery: Option<String>,
    /// DHCP offer collection and retries: auto (default), spec (PXE 2.1 windows) or fast
    #[arg(long, value_name = "auto|spec|fast", value_parser = checked(Key::Timing))]
    pub timing: Option<String>,
    /// NIC to use: auto, VVVV:DDDD or BB:DD.F
    #[arg(long, value_name = "NIC", value_parser = checked(Key::Nic))]
    pub nic: Option<String>,
    /// ISA card to drive: ne2000:PORT[:IRQ] (e.g. ne2000:0x300:9) or auto (probe the classic ports)
    #[arg(long, value_name = "CARD", value_parser = checked(Key::Isa))]
    pub isa: Option<String>,
    /// UEFI: which NICs BOOTX64.EFI drives: auto (those no firmware driver has bound), take
    /// (those too), skip (none)
    #[arg(long, value_name = "auto|take|skip", value_parser = checked(Key::UefiNic))]
    pub uefi_nic: Option<String>,
    /// Log verbosity: quiet, info, debug
    #[arg(long, value_name = "LEVEL", value_parser = checked(Key::Log))]
    pub log: Option<String>,
    /// Boot menu timeout in seconds (0-255)
    #[arg(long, value_name = "SECONDS", value_parser = checked(Key::MenuTimeout))]
    pub menu_timeout: Option<String>,
    /// TFTP window size to ask for (RFC 7440), 1-64; 1 turns windowing off
    #[arg(long, value_name = "BLOCKS", value_parser = checked(Key::TftpWindowsize))]
    pub tftp_windowsize: Option<String>,
    /// Diagnostic: a file to fetch over TFTP before the NBP, reporting its speed
    #[arg(long, value_name = "FILE", value_parser = checked(Key::TestFile))]
    pub test_file: Option<String>,
    /// Diagnostic: raise a CPU exception in the firmware (ud, de, gp), or overrun its stack
    /// (stack), to see the report
    #[arg(long, value_name = "FAULT", value_parser = checked(Key::TestFault))]
    pub test_fault: Option<String>,
}

impl SettingFlags {
    fn apply(&self, settings: &mut Settings) -> Result<()> {
        let flags = [
            (Key::NextServer, &self.next_server),
            (Key::BootFile, &self.boot_file),
            (Key::VendorClass, &self.vendor_class),
            (Key::Ip, &self.ip),
            (Key::Gateway, &self.gateway),
            (Key::Dns, &self.dns),
            (Key::Discovery, &self.discovery),
            (Key::Timing, &self.timing),
            (Key::Nic, &self.nic),
            (Key::Isa, &self.isa),
            (Key::UefiNic, &self.uefi_nic),
            (Key::Log, &self.log),
            (Key::MenuTimeout, &self.menu_timeout),
            (Key::TftpWindowsize, &self.tftp_windowsize),
            (Key::TestFile, &self.test_file),
            (Key::TestFault, &self.test_fault),
        ];
        for (key, value) in flags {
            if let Some(v) = value {
                settings
                    .set(key, v.as_bytes())
                    .map_err(|e| anyhow::anyhow!("--{}: {e}", key.name().replace('_', "-")))?;
            }
        }
        Ok(())
    }
}

impl Common {
    fn options(&self) -> Result<BuildOptions> {
        let mut settings = match &self.settings {
            Some(path) => softpxe::load_settings_file(path)?,
            None => Settings::default(),
        };
        self.flags.apply(&mut settings)?;
        Ok(BuildOptions { settings })
    }
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Build(BuildTarget::Floppy { common }) => {
            let options = common.options()?;
            let image = softpxe::build_floppy(&options)
                .with_context(|| format!("building floppy image {}", common.output.display()))?;
            write_out(&common.output, &image, common.force)
        }
        Command::Build(BuildTarget::Usb { common, size, gpt }) => {
            softpxe::usb::check_size(size)?;
            let options = common.options()?;
            let layout = if gpt {
                softpxe::UsbLayout::Gpt
            } else {
                softpxe::UsbLayout::Mbr
            };
            let image = softpxe::build_usb_layout(&options, size, layout)
                .with_context(|| format!("building USB image {}", common.output.display()))?;
            write_out(&common.output, &image, common.force)
        }
        Command::Nics => {
            print!("{}", softpxe::nics::table());
            Ok(())
        }
        Command::Inspect { image } => {
            let bytes = std::fs::read(&image)
                .with_context(|| format!("reading image {}", image.display()))?;
            let report = softpxe::inspect(&bytes)
                .with_context(|| format!("inspecting {}", image.display()))?;
            print!("{report}");
            Ok(())
        }
    }
}

fn write_out(path: &Path, image: &[u8], force: bool) -> Result<()> {
    softpxe::write_image_file(path, image, force)?;
    eprintln!("softpxe: wrote {} ({} bytes)", path.display(), image.len());
    Ok(())
}
