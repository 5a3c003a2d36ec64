//! The USB stick image, bootable by BIOS and UEFI alike. Two layouts (`docs/builder.md`):
//!
//! - [`UsbLayout::Mbr`] (the default): an MBR disk (mbrman) with the firmware's MBR code and one
//!   active FAT16 (FAT32 from 512 MiB) partition from LBA 2048 to the end.
//! - [`UsbLayout::Gpt`]: a GPT disk (the `gpt` crate) whose protective MBR carries the same MBR
//!   code, with one EFI system partition from LBA 2048 to the last usable LBA (rounded down to
//!   1 MiB), marked legacy-BIOS-bootable (attribute bit 2): the MBR code finds it through the
//!   GPT.
//!
//! The FAT volume is the same in both: the firmware's VBR, `SOFTPXE.SYS`, `SOFTPXE.CFG` and
//! `EFI/BOOT/BOOTX64.EFI` (the UEFI firmware, which reads the same `SOFTPXE.CFG`).

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
/// GPT disk GUID: fixed, so images are reproducible.
pub const GPT_DISK_GUID: &str = "53505845-0000-4000-8000-736f66747078";
/// GPT partition GUID of the EFI system partition: fixed as well.
pub const GPT_ESP_GUID: &str = "53505845-0001-4000-8000-736f66747078";
/// Path of the UEFI firmware on the FAT volume (the removable-media boot path, UEFI 2.10 §3.5).
pub const EFI_BOOT_PATH: &str = "EFI/BOOT/BOOTX64.EFI";

/// Partitioning of the USB image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UsbLayout {
    /// MBR with one active FAT partition (the default).
    #[default]
    Mbr,
    /// GPT (protective MBR) with one EFI system partition.
    Gpt,
}
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

/// Builds the MBR USB image of `size` bytes in memory (same options, same bytes).
pub fn build_usb(options: &BuildOptions, size: u64) -> Result<Vec<u8>> {
    build_usb_layout(options, size, UsbLayout::Mbr)
}

/// Sectors a GPT keeps at the end of the disk: backup entries (32) and header (1).
const GPT_TAIL: u32 = 33;

/// Builds the USB image of `size` bytes with the given layout (same options, same bytes).
pub fn build_usb_layout(options: &BuildOptions, size: u64, layout: UsbLayout) -> Result<Vec<u8>> {
    check_size(size)?;
    let mut files = options.root_files()?;
    files.push((EFI_BOOT_PATH, firmware::BOOTX64_EFI.to_vec()));
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    let total_sectors = u32::try_from(size / SECTOR as u64).context("disk too large")?;
    let mut image = vec![0u8; usize::try_from(size).context("disk too large for memory")?];

    let part_sectors = match layout {
        UsbLayout::Mbr => {
            let n = total_sectors - PARTITION_START_LBA;
            write_mbr(&mut image, total_sectors, n).context("writing the MBR partition table")?;
            n
        }
        UsbLayout::Gpt => {
            // end on a 1 MiB boundary before the backup GPT
            let end = (total_sectors - GPT_TAIL - 1) / 2048 * 2048;
            let n = end - PARTITION_START_LBA;
            crate::gpt_disk::write_gpt(&mut image, PARTITION_START_LBA, n)
                .context("writing the GPT")?;
            n
        }
    };
    let part_end = (PARTITION_START_LBA + part_sectors) as usize * SECTOR;

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
    let volume = &mut image[start..part_end];
    if fat32 {
        fat::make_volume(volume, &spec, firmware::VBR_FAT32, &files)
            .context("building the FAT32 partition")?;
    } else {
        fat::make_volume(volume, &spec, firmware::VBR_FAT16, &files)
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
