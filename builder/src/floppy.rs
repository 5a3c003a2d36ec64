//! The 1.44 MB floppy image: one FAT12 volume with the standard 3.5" HD BPB, the firmware's
//! boot sector, and `SOFTPXE.SYS` + `SOFTPXE.CFG` in the root (layout in `docs/builder.md`).

use crate::fat::{self, VolumeSpec, SECTOR};
use crate::{firmware, BuildOptions};
use anyhow::{Context, Result};
use fatfs::FatType;

/// 80 cylinders x 2 heads x 18 sectors x 512 bytes.
pub const FLOPPY_SIZE: usize = 2880 * SECTOR;

/// The standard 1.44 MB geometry (media 0xF0, 224 root entries, one sector per cluster).
pub const FLOPPY_SPEC: VolumeSpec = VolumeSpec {
    fat_type: FatType::Fat12,
    bytes_per_cluster: Some(SECTOR as u32),
    root_entries: 224,
    media: 0xF0,
    sectors_per_track: 18,
    heads: 2,
    drive_number: 0x00,
    hidden_sectors: 0,
};

/// Builds the floppy image in memory. The result is the same for the same options, byte for
/// byte.
pub fn build_floppy(options: &BuildOptions) -> Result<Vec<u8>> {
    let files = options.root_files()?;
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    let mut image = vec![0u8; FLOPPY_SIZE];
    fat::make_volume(&mut image, &FLOPPY_SPEC, firmware::BOOTSECT_FAT12, &files)
        .context("building the FAT12 floppy volume")?;
    Ok(image)
}
