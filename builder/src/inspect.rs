//! `softpxe inspect`: reads an image back: floppy (a FAT boot sector at LBA 0), MBR disk
//! (partition table, then the FAT volume of the active partition) or GPT disk (protective MBR,
//! GPT, then the EFI system partition), the root directory, `EFI/BOOT/BOOTX64.EFI`, the
//! `SOFTPXE.SYS` header and the `SOFTPXE.CFG` settings, parsed as the firmware would.

use crate::fat::{self, bpb, le16, le32, SECTOR};
use crate::floppy::FLOPPY_SIZE;
use crate::sys::SysHeader;
use anyhow::{bail, ensure, Context, Result};
use fatfs::{FileSystem, FsOptions};
use softpxe_settings::Key;
use std::fmt;
use std::io::{Cursor, Read};

/// What `inspect` found on an image. `Display` prints it for people.
#[derive(Clone, Debug)]
pub struct Report {
    /// Image size in bytes.
    pub size: u64,
    pub layout: Layout,
    pub volume: Volume,
    /// Header of `SOFTPXE.SYS`, and the file's size.
    pub firmware: SysHeader,
    pub firmware_file_size: u64,
    /// `None` when there is no `SOFTPXE.CFG` (the firmware then uses defaults).
    pub settings: Option<SettingsReport>,
    /// Size of `EFI/BOOT/BOOTX64.EFI`, the UEFI firmware, if the volume has it.
    pub efi_app_size: Option<u64>,
}

/// How the image is laid out.
#[derive(Clone, Debug)]
pub enum Layout {
    /// A FAT volume starting at byte 0 (a floppy when `size` is 1,474,560).
    Floppy {
        cylinders: u32,
        heads: u16,
        sectors_per_track: u16,
    },
    /// An MBR-partitioned disk; `volume_partition` is the number (1-4) of the one inspected.
    Mbr {
        disk_signature: u32,
        partitions: Vec<Partition>,
        volume_partition: usize,
    },
    /// A GPT disk (protective MBR); `volume_partition` is the number of the entry inspected.
    Gpt {
        disk_guid: String,
        partitions: Vec<crate::gpt_disk::GptPartition>,
        volume_partition: u32,
    },
}

/// One used MBR partition entry.
#[derive(Clone, Debug)]
pub struct Partition {
    pub number: usize,
    pub active: bool,
    pub kind: u8,
    pub start_lba: u32,
    pub sectors: u32,
}

/// The FAT volume holding the softpxe files.
#[derive(Clone, Debug)]
pub struct Volume {
    pub fat_type: String,
    pub label: String,
    pub volume_id: u32,
    pub drive_number: u8,
    pub hidden_sectors: u32,
    /// Root directory entries: name (8.3) and size; directories end in `/`.
    pub files: Vec<(String, u64)>,
}

/// `SOFTPXE.CFG` as the firmware will read it.
#[derive(Clone, Debug)]
pub struct SettingsReport {
    /// Keys set in the file, with their values as written canonically.
    pub set: Vec<(&'static str, String)>,
    /// Lines the firmware will skip, with the reason.
    pub bad_lines: Vec<String>,
}

/// Inspects an image held in memory.
pub fn inspect(image: &[u8]) -> Result<Report> {
    ensure!(
        image.len() >= SECTOR,
        "the file is {} bytes, too small to be a disk image",
        image.len()
    );
    let sector0 = &image[..SECTOR];
    let (layout, volume_bytes) = if looks_like_fat_boot_sector(sector0) {
        let heads = le16(sector0, bpb::HEADS);
        let spt = le16(sector0, bpb::SECTORS_PER_TRACK);
        let per_cyl = u64::from(heads) * u64::from(spt);
        let cylinders = (image.len() as u64 / SECTOR as u64)
            .checked_div(per_cyl)
            .unwrap_or(0) as u32;
        let layout = Layout::Floppy {
            cylinders,
            heads,
            sectors_per_track: spt,
        };
        (layout, image)
    } else if sector0[510..] == [0x55, 0xAA] && is_protective_mbr(sector0) {
        gpt_volume(image)?
    } else if sector0[510..] == [0x55, 0xAA] {
        mbr_volume(image)?
    } else {
        bail!("not a softpxe image: sector 0 holds neither a FAT boot sector nor an MBR");
    };
    let (volume, firmware, firmware_file_size, settings, efi_app_size) =
        read_volume(volume_bytes).context("reading the FAT volume")?;
    Ok(Report {
        size: image.len() as u64,
        layout,
        volume,
        firmware,
        firmware_file_size,
        settings,
        efi_app_size,
    })
}

/// Whether the MBR's partition table holds a GPT protective entry (type 0xEE).
fn is_protective_mbr(sector0: &[u8]) -> bool {
    (0..4).any(|i| sector0[0x1BE + 16 * i + 4] == 0xEE)
}

fn gpt_volume(image: &[u8]) -> Result<(Layout, &[u8])> {
    let (disk_guid, partitions) = crate::gpt_disk::read_gpt(image)?;
    ensure!(!partitions.is_empty(), "the GPT has no partitions");
    let chosen = partitions
        .iter()
        .find(|p| p.esp)
        .or_else(|| partitions.first())
        .context("no partition in the GPT")?;
    let start = usize::try_from(chosen.first_lba)? * SECTOR;
    let end = (usize::try_from(chosen.last_lba)? + 1) * SECTOR;
    let bytes = image.get(start..end).with_context(|| {
        format!(
            "GPT partition {} (LBA {}..={}) runs past the end of the image",
            chosen.number, chosen.first_lba, chosen.last_lba
        )
    })?;
    ensure!(
        looks_like_fat_boot_sector(&bytes[..SECTOR.min(bytes.len())]),
        "GPT partition {} holds no FAT file system",
        chosen.number
    );
    let layout = Layout::Gpt {
        disk_guid,
        volume_partition: chosen.number,
        partitions,
    };
    Ok((layout, bytes))
}

/// Checks the BPB fields fatfs and the boot code depend on, so garbage is refused before fatfs
/// sees it.
fn looks_like_fat_boot_sector(s: &[u8]) -> bool {
    let bps = le16(s, bpb::BYTES_PER_SECTOR);
    let spc = s[bpb::SECTORS_PER_CLUSTER];
    let jump = s[0] == 0xE9 || (s[0] == 0xEB && s[2] == 0x90);
    jump && matches!(bps, 512 | 1024 | 2048 | 4096)
        && spc.is_power_of_two()
        && le16(s, bpb::RESERVED_SECTORS) >= 1
        && matches!(s[bpb::FATS], 1 | 2)
        && (le16(s, bpb::TOTAL_SECTORS_16) != 0 || le32(s, bpb::TOTAL_SECTORS_32) != 0)
}

fn mbr_volume(image: &[u8]) -> Result<(Layout, &[u8])> {
    let mut cursor = Cursor::new(image);
    let mbr = mbrman::MBR::read_from(&mut cursor, SECTOR as u32)
        .context("reading the MBR partition table")?;
    let partitions: Vec<Partition> = mbr
        .iter()
        .filter(|(_, p)| p.is_used())
        .map(|(number, p)| Partition {
            number,
            active: p.is_active(),
            kind: p.sys,
            start_lba: p.starting_lba,
            sectors: p.sectors,
        })
        .collect();
    ensure!(!partitions.is_empty(), "the MBR has no partitions");
    let is_fat = |k: u8| matches!(k, 0x01 | 0x04 | 0x06 | 0x0B | 0x0C | 0x0E);
    let chosen = partitions
        .iter()
        .find(|p| p.active && is_fat(p.kind))
        .or_else(|| partitions.iter().find(|p| is_fat(p.kind)))
        .context("no FAT partition in the MBR partition table")?;
    let start = chosen.start_lba as usize * SECTOR;
    let end = start + chosen.sectors as usize * SECTOR;
    let bytes = image.get(start..end).with_context(|| {
        format!(
            "partition {} (LBA {}..{}) runs past the end of the image ({} bytes)",
            chosen.number,
            chosen.start_lba,
            u64::from(chosen.start_lba) + u64::from(chosen.sectors),
            image.len()
        )
    })?;
    ensure!(
        looks_like_fat_boot_sector(&bytes[..SECTOR.min(bytes.len())]),
        "partition {} holds no FAT file system",
        chosen.number
    );
    let layout = Layout::Mbr {
        disk_signature: le32(image, 440),
        volume_partition: chosen.number,
        partitions,
    };
    Ok((layout, bytes))
}

type VolumeContents = (Volume, SysHeader, u64, Option<SettingsReport>, Option<u64>);

fn read_volume(bytes: &[u8]) -> Result<VolumeContents> {
    ensure!(bytes.len() >= SECTOR, "the FAT volume is empty");
    let boot = &bytes[..SECTOR];
    // fatfs needs a writable stream; it gets a copy, so inspecting never changes the image.
    let copy = bytes.to_vec();
    let (fat_type, files, sys, cfg, efi) = std::panic::catch_unwind(move || read_root(copy))
        .map_err(|_| anyhow::anyhow!("the FAT volume is corrupt (fatfs failed on it)"))??;
    // the extended BPB sits 0x1C bytes further on FAT32
    let shift = if fat_type == "FAT32" {
        bpb::END_32 - bpb::END
    } else {
        0
    };
    let volume = Volume {
        label: String::from_utf8_lossy(
            &boot[bpb::VOLUME_LABEL + shift..bpb::VOLUME_LABEL + shift + 11],
        )
        .trim_end()
        .to_string(),
        volume_id: le32(boot, bpb::VOLUME_ID + shift),
        drive_number: boot[bpb::DRIVE_NUMBER + shift],
        fat_type,
        hidden_sectors: le32(boot, bpb::HIDDEN_SECTORS),
        files,
    };
    let sys = sys.with_context(|| {
        format!(
            "no {} in the root directory: not a softpxe image",
            fat::SYS_NAME
        )
    })?;
    let header = SysHeader::parse(&sys)?;
    let settings = cfg.map(|text| {
        let mut bad_lines = Vec::new();
        let s = softpxe_settings::parse(&text, |e| bad_lines.push(e.to_string()));
        let set = Key::ALL
            .into_iter()
            .filter_map(|k| s.value(k).map(|v| (k.name(), v.to_string())))
            .collect();
        SettingsReport { set, bad_lines }
    });
    Ok((volume, header, sys.len() as u64, settings, efi))
}

type RootContents = (
    String,
    Vec<(String, u64)>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<u64>,
);

fn read_root(mut copy: Vec<u8>) -> Result<RootContents> {
    let fs = FileSystem::new(Cursor::new(copy.as_mut_slice()), FsOptions::new())
        .context("mounting the FAT volume")?;
    let fat_type = format!("{:?}", fs.fat_type()).to_uppercase();
    let mut files = Vec::new();
    let (mut sys, mut cfg) = (None, None);
    for entry in fs.root_dir().iter() {
        let entry = entry.context("reading the FAT root directory")?;
        let name = String::from_utf8_lossy(entry.short_file_name_as_bytes()).into_owned();
        if entry.is_dir() {
            files.push((format!("{name}/"), 0));
            continue;
        }
        files.push((name.clone(), entry.len()));
        let slot = if name.eq_ignore_ascii_case(fat::SYS_NAME) {
            &mut sys
        } else if name.eq_ignore_ascii_case(fat::CFG_NAME) {
            &mut cfg
        } else {
            continue;
        };
        let mut data = Vec::new();
        entry
            .to_file()
            .read_to_end(&mut data)
            .with_context(|| format!("reading {name}"))?;
        *slot = Some(data);
    }
    let efi = fs
        .root_dir()
        .open_file(crate::usb::EFI_BOOT_PATH)
        .ok()
        .and_then(|mut f| std::io::Seek::seek(&mut f, std::io::SeekFrom::End(0)).ok());
    Ok((fat_type, files, sys, cfg, efi))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.layout {
            Layout::Floppy {
                cylinders,
                heads,
                sectors_per_track,
            } => {
                let what = if self.size == FLOPPY_SIZE as u64 {
                    "1.44 MB floppy image"
                } else {
                    "FAT volume image (no partition table)"
                };
                writeln!(f, "format:     {what}, {} bytes", self.size)?;
                writeln!(
                    f,
                    "geometry:   {cylinders} cylinders, {heads} heads, {sectors_per_track} sectors/track"
                )?;
            }
            Layout::Mbr {
                disk_signature,
                partitions,
                volume_partition,
            } => {
                writeln!(f, "format:     MBR disk image, {} bytes", self.size)?;
                writeln!(f, "disk id:    {disk_signature:08x}")?;
                writeln!(f, "partitions:")?;
                for p in partitions {
                    writeln!(
                        f,
                        "  {} start LBA {:>8}  {:>8} sectors ({} KiB)  type 0x{:02x}{}{}",
                        p.number,
                        p.start_lba,
                        p.sectors,
                        u64::from(p.sectors) * SECTOR as u64 / 1024,
                        p.kind,
                        if p.active { "  active" } else { "" },
                        if p.number == *volume_partition {
                            "  <- softpxe"
                        } else {
                            ""
                        },
                    )?;
                }
            }
            Layout::Gpt {
                disk_guid,
                partitions,
                volume_partition,
            } => {
                writeln!(
                    f,
                    "format:     GPT disk image (protective MBR), {} bytes",
                    self.size
                )?;
                writeln!(f, "disk GUID:  {disk_guid}")?;
                writeln!(f, "partitions:")?;
                for p in partitions {
                    writeln!(
                        f,
                        "  {} start LBA {:>8}  {:>8} sectors ({} KiB)  {}{}  {:?}{}",
                        p.number,
                        p.first_lba,
                        p.last_lba + 1 - p.first_lba,
                        (p.last_lba + 1 - p.first_lba) * SECTOR as u64 / 1024,
                        p.type_name,
                        if p.legacy_bootable {
                            ", legacy BIOS bootable"
                        } else {
                            ""
                        },
                        p.name,
                        if p.number == *volume_partition {
                            "  <- softpxe"
                        } else {
                            ""
                        },
                    )?;
                }
            }
        }
        let v = &self.volume;
        writeln!(
            f,
            "file system: {}, label {:?}, id {:04X}-{:04X}, BIOS drive 0x{:02x}, hidden sectors {}",
            v.fat_type,
            v.label,
            v.volume_id >> 16,
            v.volume_id & 0xFFFF,
            v.drive_number,
            v.hidden_sectors
        )?;
        writeln!(f, "root directory:")?;
        for (name, size) in &v.files {
            writeln!(f, "  {name:<12} {size:>9} bytes")?;
        }
        writeln!(
            f,
            "firmware:   version {}, image size {} bytes (file {} bytes)",
            if self.firmware.version.is_empty() {
                "(none)"
            } else {
                &self.firmware.version
            },
            self.firmware.image_size,
            self.firmware_file_size
        )?;
        match self.efi_app_size {
            Some(n) => writeln!(f, "UEFI:       {} ({n} bytes)", crate::usb::EFI_BOOT_PATH)?,
            None => writeln!(
                f,
                "UEFI:       no {} (BIOS only)",
                crate::usb::EFI_BOOT_PATH
            )?,
        }
        match &self.settings {
            None => writeln!(f, "settings:   no {} (defaults apply)", fat::CFG_NAME)?,
            Some(s) => {
                if s.set.is_empty() {
                    writeln!(f, "settings:   all defaults")?;
                } else {
                    writeln!(f, "settings:")?;
                    for (k, v) in &s.set {
                        writeln!(f, "  {k} = {v}")?;
                    }
                }
                for bad in &s.bad_lines {
                    writeln!(f, "  bad line, skipped at boot: {bad}")?;
                }
            }
        }
        Ok(())
    }
}
