//! Finding a file in the root directory of the boot medium: a small read-only FAT12/FAT16 reader
//! (Microsoft FAT specification 1.03, §3 BPB, §4 FAT, §6 directory entries) over a sector reader
//! the caller provides. The firmware uses it for `SOFTPXE.CFG`; the `fatfs` crate needs `std`
//! (or nightly's `core_io`), and this needs 512 bytes of buffer and no allocation.
//!
//! Every value comes from the medium and is checked: a damaged BPB, a cluster chain that loops
//! or leaves the volume, or a read error gives a [`MediumError`], never a panic or a hang.

/// Bytes in a sector (the only size the boot records support).
pub const SECTOR: usize = 512;

/// Reads sectors of the volume (LBA 0 = the boot sector of the FAT volume).
pub trait SectorReader {
    /// Reads one sector into `buf`; false on a read error.
    fn read(&mut self, lba: u32, buf: &mut [u8; SECTOR]) -> bool;
}

impl<F: FnMut(u32, &mut [u8; SECTOR]) -> bool> SectorReader for F {
    fn read(&mut self, lba: u32, buf: &mut [u8; SECTOR]) -> bool {
        self(lba, buf)
    }
}

/// Why a file could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediumError {
    /// The sector at this LBA could not be read.
    Read(u32),
    /// The boot sector is not a FAT12/FAT16 BPB with 512-byte sectors.
    BadBpb,
    /// No such file in the root directory.
    NotFound,
    /// The file's cluster chain is damaged (loops, leaves the volume, ends early).
    BadChain,
}

impl core::fmt::Display for MediumError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MediumError::Read(lba) => write!(f, "disk read error at sector {lba}"),
            MediumError::BadBpb => f.write_str("the boot sector is not a FAT12/FAT16 volume"),
            MediumError::NotFound => f.write_str("file not found in the root directory"),
            MediumError::BadChain => f.write_str("the file's FAT cluster chain is damaged"),
        }
    }
}

struct Layout {
    sec_per_clus: u32,
    reserved: u32,
    fat16: bool,
    root_start: u32,
    root_sectors: u32,
    data_start: u32,
    clusters: u32,
}

fn le16(b: &[u8], at: usize) -> u32 {
    u32::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn layout(bpb: &[u8; SECTOR]) -> Result<Layout, MediumError> {
    let bytes_per_sec = le16(bpb, 0x0b);
    let sec_per_clus = u32::from(bpb[0x0d]);
    let reserved = le16(bpb, 0x0e);
    let fats = u32::from(bpb[0x10]);
    let root_entries = le16(bpb, 0x11);
    let total16 = le16(bpb, 0x13);
    let spf = le16(bpb, 0x16);
    let total32 = u32::from_le_bytes([bpb[0x20], bpb[0x21], bpb[0x22], bpb[0x23]]);
    let total = if total16 != 0 { total16 } else { total32 };
    if bytes_per_sec != SECTOR as u32
        || sec_per_clus == 0
        || !sec_per_clus.is_power_of_two()
        || reserved == 0
        || fats == 0
        || spf == 0
        || root_entries == 0
    {
        return Err(MediumError::BadBpb);
    }
    let root_start = reserved + fats * spf;
    let root_sectors = (root_entries * 32).div_ceil(SECTOR as u32);
    let data_start = root_start + root_sectors;
    if total <= data_start {
        return Err(MediumError::BadBpb);
    }
    let clusters = (total - data_start) / sec_per_clus;
    // FAT32 (65525 clusters or more) keeps its root directory in clusters: not supported here.
    if clusters >= 65525 {
        return Err(MediumError::BadBpb);
    }
    Ok(Layout {
        sec_per_clus,
        reserved,
        fat16: clusters >= 4085,
        root_start,
        root_sectors,
        data_start,
        clusters,
    })
}

/// Reads the root-directory file `name` (8.3, space padded, upper case: `b"SOFTPXE CFG"`)
/// into `out`; returns the file's length, of which at most `out.len()` bytes were stored.
pub fn read_root_file(
    reader: &mut impl SectorReader,
    name: &[u8; 11],
    out: &mut [u8],
) -> Result<usize, MediumError> {
    let mut sector = [0u8; SECTOR];
    if !reader.read(0, &mut sector) {
        return Err(MediumError::Read(0));
    }
    let l = layout(&sector)?;
    let (first, size) = find_entry(reader, &l, name, &mut sector)?;
    let size = size as usize;
    let mut cluster = first;
    let mut stored = 0;
    let want = size.min(out.len());
    let mut steps = 0;
    while stored < want {
        if cluster < 2 || cluster >= l.clusters + 2 || steps > l.clusters {
            return Err(MediumError::BadChain);
        }
        steps += 1;
        let lba = l.data_start + (cluster - 2) * l.sec_per_clus;
        for i in 0..l.sec_per_clus {
            if stored >= want {
                break;
            }
            if !reader.read(lba + i, &mut sector) {
                return Err(MediumError::Read(lba + i));
            }
            let n = (want - stored).min(SECTOR);
            out[stored..stored + n].copy_from_slice(&sector[..n]);
            stored += n;
        }
        if stored < want {
            cluster = next_cluster(reader, &l, cluster, &mut sector)?;
        }
    }
    Ok(size)
}

fn find_entry(
    reader: &mut impl SectorReader,
    l: &Layout,
    name: &[u8; 11],
    sector: &mut [u8; SECTOR],
) -> Result<(u32, u32), MediumError> {
    for s in 0..l.root_sectors {
        let lba = l.root_start + s;
        if !reader.read(lba, sector) {
            return Err(MediumError::Read(lba));
        }
        for entry in sector.chunks_exact(32) {
            match entry[0] {
                0 => return Err(MediumError::NotFound),
                0xe5 => continue,
                _ => {}
            }
            // skip long-name entries, volume labels and directories
            if entry[11] & 0x18 != 0 || entry[11] == 0x0f {
                continue;
            }
            if &entry[..11] == name {
                let cluster = le16(entry, 26);
                let size = u32::from_le_bytes([entry[28], entry[29], entry[30], entry[31]]);
                return Ok((cluster, size));
            }
        }
    }
    Err(MediumError::NotFound)
}

fn next_cluster(
    reader: &mut impl SectorReader,
    l: &Layout,
    cluster: u32,
    sector: &mut [u8; SECTOR],
) -> Result<u32, MediumError> {
    let offset = if l.fat16 {
        cluster * 2
    } else {
        cluster + cluster / 2
    };
    let lba = l.reserved + offset / SECTOR as u32;
    let at = (offset % SECTOR as u32) as usize;
    if !reader.read(lba, sector) {
        return Err(MediumError::Read(lba));
    }
    let lo = sector[at];
    let hi = if at + 1 < SECTOR {
        sector[at + 1]
    } else {
        // a FAT12 entry straddling two sectors
        if !reader.read(lba + 1, sector) {
            return Err(MediumError::Read(lba + 1));
        }
        sector[0]
    };
    let raw = u32::from(u16::from_le_bytes([lo, hi]));
    let next = if l.fat16 {
        raw
    } else if cluster & 1 == 1 {
        raw >> 4
    } else {
        raw & 0x0fff
    };
    let end = if l.fat16 { 0xfff8 } else { 0x0ff8 };
    if next >= end {
        return Err(MediumError::BadChain); // ended before the size said
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny FAT12 volume: 1 reserved, 1 FAT of 1 sector, 16 root entries, 1 sector/cluster.
    fn volume(chain: &[(u32, u32)], entry_cluster: u16, size: u32) -> std::vec::Vec<[u8; SECTOR]> {
        let mut v = std::vec![[0u8; SECTOR]; 40];
        let b = &mut v[0];
        b[0x0b..0x0d].copy_from_slice(&512u16.to_le_bytes());
        b[0x0d] = 1;
        b[0x0e] = 1;
        b[0x10] = 1;
        b[0x11] = 16;
        b[0x13] = 40;
        b[0x16] = 1;
        for &(c, next) in chain {
            let off = (c + c / 2) as usize;
            let fat = &mut v[1];
            let mut raw = u16::from_le_bytes([fat[off], fat[off + 1]]);
            if c & 1 == 1 {
                raw = (raw & 0x000f) | ((next as u16) << 4);
            } else {
                raw = (raw & 0xf000) | (next as u16 & 0x0fff);
            }
            fat[off..off + 2].copy_from_slice(&raw.to_le_bytes());
        }
        let root = &mut v[2];
        root[..11].copy_from_slice(b"SOFTPXE CFG");
        root[26..28].copy_from_slice(&entry_cluster.to_le_bytes());
        root[28..32].copy_from_slice(&size.to_le_bytes());
        // data starts at sector 3: cluster n is sector n + 1
        for c in 2..30u32 {
            v[(c + 1) as usize] = [c as u8; SECTOR];
        }
        v
    }

    fn read(v: &[[u8; SECTOR]], name: &[u8; 11], out: &mut [u8]) -> Result<usize, MediumError> {
        let mut r = |lba: u32, buf: &mut [u8; SECTOR]| match v.get(lba as usize) {
            Some(s) => {
                *buf = *s;
                true
            }
            None => false,
        };
        read_root_file(&mut r, name, out)
    }

    #[test]
    fn follows_a_fragmented_chain() {
        let v = volume(&[(5, 9), (9, 4), (4, 0xfff)], 5, 1300);
        let mut out = [0u8; 2048];
        assert_eq!(read(&v, b"SOFTPXE CFG", &mut out), Ok(1300));
        assert!(out[..512].iter().all(|&b| b == 5));
        assert!(out[512..1024].iter().all(|&b| b == 9));
        assert!(out[1024..1300].iter().all(|&b| b == 4));
    }

    #[test]
    fn stops_at_the_buffer() {
        let v = volume(&[(5, 6), (6, 0xfff)], 5, 1000);
        let mut out = [0u8; 100];
        assert_eq!(read(&v, b"SOFTPXE CFG", &mut out), Ok(1000));
        assert!(out.iter().all(|&b| b == 5));
    }

    #[test]
    fn damaged_media_are_errors() {
        let looped = volume(&[(5, 6), (6, 5)], 5, 30_000);
        let mut out = [0u8; 32_768];
        assert_eq!(
            read(&looped, b"SOFTPXE CFG", &mut out),
            Err(MediumError::BadChain)
        );
        let short = volume(&[(5, 0xfff)], 5, 2000);
        assert_eq!(
            read(&short, b"SOFTPXE CFG", &mut out),
            Err(MediumError::BadChain)
        );
        let outside = volume(&[(5, 0xf00)], 5, 2000);
        assert_eq!(
            read(&outside, b"SOFTPXE CFG", &mut out),
            Err(MediumError::BadChain)
        );
        let v = volume(&[], 5, 10);
        assert_eq!(
            read(&v, b"OTHER   CFG", &mut out),
            Err(MediumError::NotFound)
        );
        let mut bad = volume(&[], 5, 10);
        bad[0][0x0c] = 4; // 1024-byte sectors
        assert_eq!(
            read(&bad, b"SOFTPXE CFG", &mut out),
            Err(MediumError::BadBpb)
        );
        assert_eq!(
            read(&v[..2], b"SOFTPXE CFG", &mut out),
            Err(MediumError::Read(2))
        );
    }

    #[test]
    fn random_volumes_never_panic() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..300 {
            let mut v = volume(&[(5, 6), (6, 0xfff)], 5, 700);
            for s in v.iter_mut().take(4) {
                for b in s.iter_mut() {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if x % 7 == 0 {
                        *b = x as u8;
                    }
                }
            }
            let mut out = [0u8; 4096];
            let _ = read(&v, b"SOFTPXE CFG", &mut out);
        }
    }
}
