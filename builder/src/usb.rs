//! The USB stick image: an MBR disk (mbrman) with the firmware's MBR code and one active FAT16
//! partition from LBA 2048 to the end, holding the firmware's VBR, `SOFTPXE.SYS` and
//! `SOFTPXE.CFG`. LBA 1..2047 stay free for a later GPT/ESP hybrid (layout in `docs/builder.md`).

use crate::fat::{self, VolumeSpec, SECTOR};
use crate::{firmware, BuildOptions};
use anyhow::{bail, ensure, Context, Result};
use fatfs::FatType;
use mbrman::{MBRPartitionEntry, BOOT_ACTIVE, CHS, MBR};
use std::io::Cursor;

/// First LBA of the FAT16 partition (1 MiB, the usual alignment).
pub const PARTITION_START_LBA: u32 = 2048;
/// MBR partition type of the FAT16 partition (FAT16, over 32 MiB; understood by every BIOS).
pub const PARTITION_TYPE: u8 = 0x06;
/// MBR partition type for the FAT32 partition (FAT32 with LBA).
pub const PARTITION_TYPE_FAT32: u8 = 0x0C;
/// Disk signature in the MBR: fixed, so images are reproducible ("SPXE").
pub const DISK_SIGNATURE: [u8; 4] = *b"SPXE";
/// CHS geometry reported in the BPB and used for the MBR's CHS fields.
pub const HEADS: u16 = 255;
pub const SECTORS_PER_TRACK: u16 = 63;

const MIB: u64 = 1024 * 1024;
/// Default `--size`.
pub const USB_DEFAULT_SIZE: u64 = 32 * MIB;
/// Smallest disk: the partition must hold enough clusters for FAT16.
pub const USB_MIN_SIZE: u64 = 16 * MIB;
/// Largest disk image (built in memory).
pub const USB_MAX_SIZE: u64 = 4096 * MIB;
/// From this size on the partition is FAT32 (as Windows formats sticks), below it FAT16.
pub const USB_FAT32_FROM: u64 = 512 * MIB;

/// Parses a size such as `32M`, `1G`, `65536K` or `33554432` (bytes). Suffixes are binary
/// (K = 1024) and case-insensitive; an optional trailing `B`/`iB` is accepted.
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let body = lower
        .strip_suffix("ib")
        .or_else(|| lower.strip_suffix('b'))
        .unwrap_or(&lower);
    let (digits, mult) = match body.chars().last() {
        Some('k') => (&body[..body.len() - 1], 1024u64),
        Some('m') => (&body[..body.len() - 1], MIB),
        Some('g') => (&body[..body.len() - 1], 1024 * MIB),
        _ => (body, 1),
    };
    let n: u64 = digits.trim().parse().map_err(|_| {
        anyhow::anyhow!("invalid size {s:?}: expected a number with an optional K, M or G suffix")
    })?;
    n.checked_mul(mult)
        .with_context(|| format!("invalid size {s:?}: too large"))
}

/// Checks a disk size for the USB image.
pub fn check_size(size: u64) -> Result<()> {
    if size > USB_MAX_SIZE {
        bail!(
            "USB image size {} is over 4G, the largest image softpxe builds (it is built in \
             memory; the boot medium needs only a few MiB)",
            human(size)
        );
    }
    ensure!(
        size >= USB_MIN_SIZE,
        "USB image size {} is too small: the minimum is 16M",
        human(size)
    );
    ensure!(
        size % SECTOR as u64 == 0,
        "USB image size {size} is not a multiple of 512 bytes"
    );
    Ok(())
}

fn human(size: u64) -> String {
    if size % MIB == 0 {
        format!("{}M", size / MIB)
    } else {
        format!("{size} bytes")
    }
}

/// Builds the USB image of `size` bytes in memory (same options, same bytes).
pub fn build_usb(options: &BuildOptions, size: u64) -> Result<Vec<u8>> {
    check_size(size)?;
    let files = options.root_files()?;
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    let total_sectors = u32::try_from(size / SECTOR as u64).context("disk too large")?;
    let part_sectors = total_sectors - PARTITION_START_LBA;
    let mut image = vec![0u8; usize::try_from(size).context("disk too large for memory")?];

    write_mbr(&mut image, total_sectors, part_sectors)
        .context("writing the MBR partition table")?;

    let fat32 = size >= USB_FAT32_FROM;
    let spec = VolumeSpec {
        fat_type: if fat32 {
            FatType::Fat32
        } else {
            FatType::Fat16
        },
        bytes_per_cluster: None,
        root_entries: 512,
        media: 0xF8,
        sectors_per_track: SECTORS_PER_TRACK,
        heads: HEADS,
        drive_number: 0x80,
        hidden_sectors: PARTITION_START_LBA,
    };
    let start = PARTITION_START_LBA as usize * SECTOR;
    if fat32 {
        fat::make_volume(&mut image[start..], &spec, firmware::VBR_FAT32, &files)
            .context("building the FAT32 partition")?;
    } else {
        fat::make_volume(&mut image[start..], &spec, firmware::VBR_FAT16, &files)
            .context("building the FAT16 partition")?;
    }
    Ok(image)
}

/// CHS address of `lba` in the 255/63 geometry, or the 1023/254/63 marker past cylinder 1023.
fn chs(lba: u32) -> CHS {
    CHS::from_lba_exact(lba, 1023, HEADS as u8, SECTORS_PER_TRACK as u8).unwrap_or(CHS::new(
        1023,
        (HEADS - 1) as u8,
        SECTORS_PER_TRACK as u8,
    ))
}

fn write_mbr(image: &mut [u8], total_sectors: u32, part_sectors: u32) -> Result<()> {
    let mut cursor = Cursor::new(image);
    let mut mbr = MBR::new_from(&mut cursor, SECTOR as u32, DISK_SIGNATURE)?;
    mbr.header
        .bootstrap_code
        .copy_from_slice(&firmware::MBR[..440]);
    let last = PARTITION_START_LBA + part_sectors - 1;
    debug_assert!(last < total_sectors);
    mbr[1] = MBRPartitionEntry {
        boot: BOOT_ACTIVE,
        first_chs: chs(PARTITION_START_LBA),
        sys: if u64::from(total_sectors) * SECTOR as u64 >= USB_FAT32_FROM {
            PARTITION_TYPE_FAT32
        } else {
            PARTITION_TYPE
        },
        last_chs: chs(last),
        starting_lba: PARTITION_START_LBA,
        sectors: part_sectors,
    };
    mbr.write_into(&mut cursor)?;
    Ok(())
}
