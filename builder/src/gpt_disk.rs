//! The GPT layout of the USB image (UEFI 2.10 §5.3): a protective MBR carrying softpxe's MBR
//! code, primary and backup GPT headers and entry arrays (the `gpt` crate), and one EFI system
//! partition with the legacy-BIOS-bootable attribute, which is how the MBR code finds it.

use crate::fat::SECTOR;
use crate::firmware;
use crate::usb::{DISK_SIGNATURE, GPT_DISK_GUID, GPT_ESP_GUID};
use anyhow::{bail, Context, Result};
use gpt::disk::LogicalBlockSize;
use gpt::mbr::ProtectiveMBR;
use gpt::partition::PartitionAttributes;
use gpt::{partition_types, GptConfig};
use std::io::Cursor;

/// Name of the EFI system partition in the GPT.
pub const ESP_NAME: &str = "softpxe";

/// Writes the protective MBR and both GPTs into `image` (the whole disk), with one ESP of
/// `sectors` sectors from `start`.
pub fn write_gpt(image: &mut [u8], start: u32, sectors: u32) -> Result<()> {
    let total = u32::try_from(image.len() / SECTOR).context("disk too large")?;
    let disk_guid = uuid::Uuid::parse_str(GPT_DISK_GUID).expect("valid GUID");
    let part_guid = uuid::Uuid::parse_str(GPT_ESP_GUID).expect("valid GUID");
    let mut cursor = Cursor::new(&mut *image);
    let mut disk = GptConfig::new()
        .writable(true)
        .logical_block_size(LogicalBlockSize::Lb512)
        .create_from_device(&mut cursor, Some(disk_guid))
        .context("creating the GPT")?;
    let id = disk
        .add_partition_at(
            ESP_NAME,
            1,
            u64::from(start),
            u64::from(sectors),
            partition_types::EFI,
            PartitionAttributes::BOOTABLE.bits(),
        )
        .context("adding the EFI system partition")?;
    // the crate picks a random partition GUID: replace it so images are reproducible
    let mut parts = disk.take_partitions();
    match parts.get_mut(&id) {
        Some(p) => p.part_guid = part_guid,
        None => bail!("the GPT lost its partition"),
    }
    disk.update_partitions(parts)
        .context("updating the GPT partition entry")?;
    disk.write().context("writing the GPT")?;
    let mut pmbr = ProtectiveMBR::with_lb_size(total - 1);
    let mut code = [0u8; 440];
    code.copy_from_slice(&firmware::MBR[..440]);
    pmbr.set_bootcode(code);
    pmbr.set_disk_signature(DISK_SIGNATURE);
    image[..SECTOR].copy_from_slice(&pmbr.to_bytes());
    Ok(())
}

/// One GPT partition entry as `inspect` shows it.
#[derive(Clone, Debug)]
pub struct GptPartition {
    pub number: u32,
    pub type_name: String,
    pub esp: bool,
    pub first_lba: u64,
    pub last_lba: u64,
    pub legacy_bootable: bool,
    pub name: String,
}

/// Reads the GPT of `image`: disk GUID and used partitions.
pub fn read_gpt(image: &[u8]) -> Result<(String, Vec<GptPartition>)> {
    let mut copy = image.to_vec();
    let disk = GptConfig::new()
        .writable(false)
        .logical_block_size(LogicalBlockSize::Lb512)
        .open_from_device(Cursor::new(copy.as_mut_slice()))
        .context("reading the GPT")?;
    let parts = disk
        .partitions()
        .iter()
        .filter(|(_, p)| p.is_used())
        .map(|(n, p)| GptPartition {
            number: *n,
            type_name: if p.part_type_guid == partition_types::EFI {
                "EFI system".to_string()
            } else {
                p.part_type_guid.guid.to_string()
            },
            esp: p.part_type_guid == partition_types::EFI,
            first_lba: p.first_lba,
            last_lba: p.last_lba,
            legacy_bootable: p.flags & PartitionAttributes::BOOTABLE.bits() != 0,
            name: p.name.clone(),
        })
        .collect();
    Ok((disk.guid().to_string(), parts))
}
