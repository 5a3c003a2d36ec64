//! The header of `SOFTPXE.SYS`, the firmware file: magic, header version, image size and version
//! string at fixed offsets (the contract with `rom/bios`, see `docs/builder.md`).

use anyhow::{bail, ensure, Result};

/// Magic at bytes 8..16.
pub const MAGIC: &[u8; 8] = b"SOFTPXE\x1a";
/// Header version this builder understands.
pub const HEADER_VERSION: u32 = 1;
const MAGIC_AT: usize = 8;
const HEADER_VERSION_AT: usize = 16;
const IMAGE_SIZE_AT: usize = 20;
const VERSION_STRING: std::ops::Range<usize> = 64..96;

/// What the header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysHeader {
    pub header_version: u32,
    pub image_size: u32,
    pub version: String,
}

impl SysHeader {
    /// Reads and checks the header of a `SOFTPXE.SYS` file.
    pub fn parse(sys: &[u8]) -> Result<SysHeader> {
        ensure!(
            sys.len() >= VERSION_STRING.end,
            "SOFTPXE.SYS is {} bytes, too short for its {}-byte header",
            sys.len(),
            VERSION_STRING.end
        );
        if &sys[MAGIC_AT..MAGIC_AT + 8] != MAGIC {
            bail!("SOFTPXE.SYS has no SOFTPXE magic at byte 8: not a softpxe firmware file");
        }
        let word = |at: usize| u32::from_le_bytes([sys[at], sys[at + 1], sys[at + 2], sys[at + 3]]);
        let header_version = word(HEADER_VERSION_AT);
        ensure!(
            header_version == HEADER_VERSION,
            "SOFTPXE.SYS header version {header_version} is not supported (expected {HEADER_VERSION})"
        );
        let image_size = word(IMAGE_SIZE_AT);
        let raw = &sys[VERSION_STRING];
        let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
        let version = String::from_utf8_lossy(&raw[..end]).into_owned();
        Ok(SysHeader {
            header_version,
            image_size,
            version,
        })
    }
}
