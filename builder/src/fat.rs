//! FAT volume writing shared by the floppy and USB images: format with `fatfs`, add the root
//! files with fixed timestamps, tidy the root directory, and lay the firmware's boot code over
//! the boot sector while keeping the BPB (Microsoft FAT specification, "BPB" and "Directory
//! Structure" sections).

use anyhow::{bail, ensure, Context, Result};
use fatfs::{
    Date, DateTime, FatType, FileSystem, FormatVolumeOptions, FsOptions, Time, TimeProvider,
};
use std::io::{Cursor, Write};

/// Bytes per sector on every medium we write.
pub const SECTOR: usize = 512;
/// Volume serial number written to the BPB: fixed so images are reproducible ("SPXE").
pub const VOLUME_ID: u32 = 0x4558_5053;
/// Volume label, in the BPB and as a root directory entry.
pub const VOLUME_LABEL: [u8; 11] = *b"SOFTPXE    ";
/// Name of the firmware file in the root directory.
pub const SYS_NAME: &str = "SOFTPXE.SYS";
/// Name of the settings file in the root directory.
pub const CFG_NAME: &str = "SOFTPXE.CFG";

/// The timestamp of every directory entry: 2000-01-01 00:00:00.
pub const FIXED_DATE: Date = Date {
    year: 2000,
    month: 1,
    day: 1,
};
/// DOS encoding of [`FIXED_DATE`] (for entries written by hand).
const FIXED_DOS_DATE: u16 = ((2000 - 1980) << 9) | (1 << 5) | 1;

/// Hands `fatfs` the fixed time so directory entries do not depend on the clock.
#[derive(Debug)]
struct FixedTime;

impl TimeProvider for FixedTime {
    fn get_current_date(&self) -> Date {
        FIXED_DATE
    }
    fn get_current_date_time(&self) -> DateTime {
        DateTime {
            date: FIXED_DATE,
            time: Time {
                hour: 0,
                min: 0,
                sec: 0,
                millis: 0,
            },
        }
    }
}

static FIXED_TIME: FixedTime = FixedTime;

/// BPB offsets (FAT12/16 layout) the builder reads or patches.
pub mod bpb {
    pub const BYTES_PER_SECTOR: usize = 0x0B;
    pub const SECTORS_PER_CLUSTER: usize = 0x0D;
    pub const RESERVED_SECTORS: usize = 0x0E;
    pub const FATS: usize = 0x10;
    pub const ROOT_ENTRIES: usize = 0x11;
    pub const TOTAL_SECTORS_16: usize = 0x13;
    pub const MEDIA: usize = 0x15;
    pub const SECTORS_PER_FAT: usize = 0x16;
    pub const SECTORS_PER_TRACK: usize = 0x18;
    pub const HEADS: usize = 0x1A;
    pub const HIDDEN_SECTORS: usize = 0x1C;
    pub const TOTAL_SECTORS_32: usize = 0x20;
    pub const DRIVE_NUMBER: usize = 0x24;
    pub const VOLUME_ID: usize = 0x27;
    pub const VOLUME_LABEL: usize = 0x2B;
    /// First byte after the FAT12/16 extended BPB: the boot code starts here.
    pub const END: usize = 0x3E;
    /// FAT32: drive number, volume label, and the first byte of boot code.
    pub const DRIVE_NUMBER_32: usize = 0x40;
    pub const VOLUME_LABEL_32: usize = 0x47;
    pub const END_32: usize = 0x5A;
}

/// Reserved sector of a FAT32 volume that holds the second half of softpxe's boot record
/// (sector 1 is FSInfo, 6 the backup boot sector; 2 is free).
pub const FAT32_STAGE2_SECTOR: usize = 2;

/// Geometry and identity of a FAT12/16 volume to create.
#[derive(Clone, Debug)]
pub struct VolumeSpec {
    pub fat_type: FatType,
    /// `None`: let fatfs pick from the volume size.
    pub bytes_per_cluster: Option<u32>,
    pub root_entries: u16,
    pub media: u8,
    pub sectors_per_track: u16,
    pub heads: u16,
    /// BIOS drive number stored in the BPB (0x00 floppy, 0x80 hard disk / USB).
    pub drive_number: u8,
    /// Sectors before the volume on the disk (its partition's start LBA; 0 on a floppy).
    pub hidden_sectors: u32,
}

/// Formats `volume` (its whole length) as FAT per `spec`, writes `files` into the root
/// directory in order, and overlays `boot_template`'s jump and boot code on sector 0.
pub fn make_volume(
    volume: &mut [u8],
    spec: &VolumeSpec,
    boot_template: &[u8],
    files: &[(&str, &[u8])],
) -> Result<()> {
    ensure!(
        volume.len() % SECTOR == 0,
        "volume size {} is not a whole number of sectors",
        volume.len()
    );
    let total_sectors = u32::try_from(volume.len() / SECTOR).context("volume too large")?;
    let mut options = FormatVolumeOptions::new()
        .fat_type(spec.fat_type)
        .bytes_per_sector(SECTOR as u16)
        .total_sectors(total_sectors)
        .max_root_dir_entries(spec.root_entries)
        .fats(2)
        .media(spec.media)
        .sectors_per_track(spec.sectors_per_track)
        .heads(spec.heads)
        .drive_num(spec.drive_number)
        .volume_id(VOLUME_ID);
    if let Some(b) = spec.bytes_per_cluster {
        options = options.bytes_per_cluster(b);
    }
    // The label goes into the BPB by hand (below): fatfs would also make it the first root entry,
    // and SOFTPXE.SYS must come first.
    fatfs::format_volume(Cursor::new(&mut *volume), options).context("formatting FAT volume")?;
    let fat_type = write_files(volume, files)?;
    ensure!(
        fat_type == spec.fat_type,
        "fatfs made a {fat_type:?} volume, expected {:?}",
        spec.fat_type
    );
    if fat_type == FatType::Fat32 {
        // The FAT32 root directory is a cluster chain: fatfs (without `alloc`) writes plain
        // 8.3 entries in order there; the label lives in the BPB only.
        ensure!(
            boot_template.len() == 2 * SECTOR,
            "the FAT32 boot record has two sectors"
        );
        patch_boot_sector_32(volume, spec, boot_template);
        fix_dotdot_32(volume);
    } else {
        tidy_root_dir(volume).context("writing FAT root directory")?;
        let template: &[u8; SECTOR] = boot_template
            .try_into()
            .context("a one-sector boot record")?;
        patch_boot_sector(&mut volume[..SECTOR], spec, template);
    }
    Ok(())
}

/// FAT32: the template's jump and code (0x5A..0x200) over sector 0, its second sector into
/// reserved sector 2; drive number, hidden sectors and label in the FAT32 BPB.
fn patch_boot_sector_32(volume: &mut [u8], spec: &VolumeSpec, template: &[u8]) {
    let boot = &mut volume[..SECTOR];
    boot[..3].copy_from_slice(&template[..3]);
    boot[bpb::END_32..SECTOR].copy_from_slice(&template[bpb::END_32..SECTOR]);
    boot[bpb::DRIVE_NUMBER_32] = spec.drive_number;
    boot[bpb::HIDDEN_SECTORS..bpb::HIDDEN_SECTORS + 4]
        .copy_from_slice(&spec.hidden_sectors.to_le_bytes());
    boot[bpb::VOLUME_LABEL_32..bpb::VOLUME_LABEL_32 + 11].copy_from_slice(&VOLUME_LABEL);
    // the label entry after the two files, in the root directory's first cluster
    let spc = usize::from(volume[bpb::SECTORS_PER_CLUSTER]);
    let data = usize::from(le16(volume, bpb::RESERVED_SECTORS))
        + usize::from(volume[bpb::FATS]) * le32(volume, 0x24) as usize;
    let root = (data + (le32(volume, 0x2C) as usize).saturating_sub(2) * spc) * SECTOR;
    if let Some(dir) = volume.get_mut(root..root + SECTOR) {
        if let Some(free) = dir.chunks_exact_mut(32).find(|e| e[0] == 0) {
            free.fill(0);
            free[..11].copy_from_slice(&VOLUME_LABEL);
            free[11] = 0x08; // ATTR_VOLUME_ID
            free[24..26].copy_from_slice(&FIXED_DOS_DATE.to_le_bytes());
        }
    }
    let at = FAT32_STAGE2_SECTOR * SECTOR;
    volume[at..at + SECTOR].copy_from_slice(&template[SECTOR..]);
    // the backup boot sector (BPB offset 0x32, normally 6) must match sector 0
    let backup = usize::from(le16(volume, 0x32));
    if backup != 0 && backup != FAT32_STAGE2_SECTOR && (backup + 1) * SECTOR <= volume.len() {
        let (head, rest) = volume.split_at_mut(backup * SECTOR);
        rest[..SECTOR].copy_from_slice(&head[..SECTOR]);
    }
}

/// FAT32: a `..` entry whose parent is the root directory must hold cluster 0 (Microsoft FAT
/// specification, "FAT Directory Structure"); fatfs 0.3 writes the root's cluster number, which
/// fsck.fat reports. Fixes the subdirectories of the root (the first root cluster).
fn fix_dotdot_32(volume: &mut [u8]) {
    let spc = usize::from(volume[bpb::SECTORS_PER_CLUSTER]);
    let data = usize::from(le16(volume, bpb::RESERVED_SECTORS))
        + usize::from(volume[bpb::FATS]) * le32(volume, 0x24) as usize;
    let cluster_at = |c: usize| (data + c.saturating_sub(2) * spc) * SECTOR;
    let root = cluster_at(le32(volume, 0x2C) as usize);
    let mut dirs = Vec::new();
    if let Some(dir) = volume.get(root..root + spc * SECTOR) {
        for e in dir.chunks_exact(32).take_while(|e| e[0] != 0) {
            if e[0] != 0xE5 && e[11] & 0x10 != 0 && e[11] != 0x0F && e[0] != b'.' {
                dirs.push((usize::from(le16(e, 20)) << 16) | usize::from(le16(e, 26)));
            }
        }
    }
    for c in dirs {
        let at = cluster_at(c) + 32;
        if let Some(e) = volume.get_mut(at..at + 32) {
            if &e[..2] == b".." {
                e[20..22].fill(0);
                e[26..28].fill(0);
            }
        }
    }
}

fn write_files(volume: &mut [u8], files: &[(&str, &[u8])]) -> Result<FatType> {
    let fs = FileSystem::new(
        Cursor::new(&mut *volume),
        FsOptions::new().time_provider(&FIXED_TIME),
    )
    .context("mounting the new FAT volume")?;
    let fat_type = fs.fat_type();
    {
        let root = fs.root_dir();
        for (path, data) in files {
            // `EFI/BOOT/BOOTX64.EFI`: directories first (create_dir opens an existing one)
            let mut dir = root.clone();
            let mut parts: Vec<&str> = path.split('/').collect();
            let name = parts.pop().unwrap_or(path);
            for d in parts {
                dir = dir
                    .create_dir(d)
                    .with_context(|| format!("creating directory {d} for {path}"))?;
            }
            let mut file = dir
                .create_file(name)
                .with_context(|| format!("creating {name} in the FAT root directory"))?;
            file.write_all(data)
                .with_context(|| format!("writing {name} ({} bytes)", data.len()))?;
            file.flush().with_context(|| format!("writing {name}"))?;
        }
    }
    fs.unmount().context("closing the FAT volume")?;
    Ok(fat_type)
}

/// Where the FAT12/16 root directory lies in the volume: (byte offset, byte length).
pub fn root_dir_range(boot: &[u8]) -> Result<(usize, usize)> {
    let bps = usize::from(le16(boot, bpb::BYTES_PER_SECTOR));
    let reserved = usize::from(le16(boot, bpb::RESERVED_SECTORS));
    let fats = usize::from(boot[bpb::FATS]);
    let spf = usize::from(le16(boot, bpb::SECTORS_PER_FAT));
    let entries = usize::from(le16(boot, bpb::ROOT_ENTRIES));
    if bps == 0 || spf == 0 || entries == 0 {
        bail!("not a FAT12/FAT16 boot sector");
    }
    Ok(((reserved + fats * spf) * bps, entries * 32))
}

/// Drops long-file-name entries (our names are all valid 8.3 names) and appends the volume
/// label entry after the files, so the root directory reads: SOFTPXE.SYS, SOFTPXE.CFG, label.
fn tidy_root_dir(volume: &mut [u8]) -> Result<()> {
    let (start, len) = root_dir_range(&volume[..SECTOR])?;
    let root = volume
        .get_mut(start..start + len)
        .context("root directory lies outside the volume")?;
    let mut kept: Vec<[u8; 32]> = root
        .chunks_exact(32)
        .take_while(|e| e[0] != 0)
        .filter(|e| e[0] != 0xE5 && e[11] != 0x0F)
        .map(|e| e.try_into().expect("32-byte chunk"))
        .collect();
    let mut label = [0u8; 32];
    label[..11].copy_from_slice(&VOLUME_LABEL);
    label[11] = 0x08; // ATTR_VOLUME_ID
    label[24..26].copy_from_slice(&FIXED_DOS_DATE.to_le_bytes()); // write date
    kept.push(label);
    ensure!(kept.len() * 32 <= len, "root directory is full");
    root.fill(0);
    for (dst, e) in root.chunks_exact_mut(32).zip(&kept) {
        dst.copy_from_slice(e);
    }
    Ok(())
}

/// Copies the template's jump (0..3) and boot code + signature (0x3E..0x200) over `boot`,
/// keeping the BPB fatfs wrote; sets label, drive number and hidden sectors.
fn patch_boot_sector(boot: &mut [u8], spec: &VolumeSpec, template: &[u8; SECTOR]) {
    boot[..3].copy_from_slice(&template[..3]);
    boot[bpb::END..SECTOR].copy_from_slice(&template[bpb::END..]);
    boot[bpb::DRIVE_NUMBER] = spec.drive_number;
    boot[bpb::HIDDEN_SECTORS..bpb::HIDDEN_SECTORS + 4]
        .copy_from_slice(&spec.hidden_sectors.to_le_bytes());
    boot[bpb::VOLUME_LABEL..bpb::VOLUME_LABEL + 11].copy_from_slice(&VOLUME_LABEL);
}

/// Little-endian u16 at `at` (caller guarantees the bounds).
pub fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// Little-endian u32 at `at` (caller guarantees the bounds).
pub fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
