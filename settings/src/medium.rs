//! Finding a file in the root directory of the boot medium: a small read-only FAT12/16/32 reader
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
    /// The boot sector is not a FAT12/16/32 BPB with 512-byte sectors.
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
            MediumError::BadBpb => {
                f.write_str("the boot sector is not a FAT volume with 512-byte sectors")
            }
            MediumError::NotFound => f.write_str("file not found in the root directory"),
            MediumError::BadChain => f.write_str("the file's FAT cluster chain is damaged"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fat {
    Fat12,
    Fat16,
    Fat32,
}

struct Layout {
    sec_per_clus: u32,
    reserved: u32,
    fat: Fat,
    /// FAT12/16: the fixed root directory area (FAT32: 0, 0).
    root_start: u32,
    root_sectors: u32,
    /// FAT32: the root directory's first cluster.
    root_cluster: u32,
    data_start: u32,
    clusters: u32,
}

fn le16(b: &[u8], at: usize) -> u32 {
    u32::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn layout(bpb: &[u8; SECTOR]) -> Result<Layout, MediumError> {
    let bytes_per_sec = le16(bpb, 0x0b);
    let sec_per_clus = u32::from(bpb[0x0d]);
    let reserved = le16(bpb, 0x0e);
    let fats = u32::from(bpb[0x10]);
    let root_entries = le16(bpb, 0x11);
    let total16 = le16(bpb, 0x13);
    let spf16 = le16(bpb, 0x16);
    let total32 = le32(bpb, 0x20);
    let total = if total16 != 0 { total16 } else { total32 };
    // FAT32 (spec §3.3): BPB_FATSz16 = 0 and BPB_RootEntCnt = 0; BPB_FATSz32 at 0x24 and
    // BPB_RootClus at 0x2C.
    let fat32_bpb = spf16 == 0 && root_entries == 0;
    let spf = if fat32_bpb { le32(bpb, 0x24) } else { spf16 };
    if bytes_per_sec != SECTOR as u32
        || sec_per_clus == 0
        || !sec_per_clus.is_power_of_two()
        || reserved == 0
        || fats == 0
        || spf == 0
        || (!fat32_bpb && root_entries == 0)
    {
        return Err(MediumError::BadBpb);
    }
    let root_start = fats
        .checked_mul(spf)
        .and_then(|f| f.checked_add(reserved))
        .ok_or(MediumError::BadBpb)?;
    let root_sectors = (root_entries * 32).div_ceil(SECTOR as u32);
    let data_start = root_start + root_sectors;
    if total <= data_start {
        return Err(MediumError::BadBpb);
    }
    let clusters = (total - data_start) / sec_per_clus;
    // The cluster count alone decides the FAT type (spec §3.5).
    let fat = match clusters {
        0..4085 => Fat::Fat12,
        4085..65525 => Fat::Fat16,
        _ => Fat::Fat32,
    };
    if (fat == Fat::Fat32) != fat32_bpb {
        return Err(MediumError::BadBpb);
    }
    let root_cluster = if fat32_bpb {
        le32(bpb, 0x2c) & 0x0fff_ffff
    } else {
        0
    };
    if fat32_bpb && (root_cluster < 2 || root_cluster >= clusters + 2) {
        return Err(MediumError::BadBpb);
    }
    Ok(Layout {
        sec_per_clus,
        reserved,
        fat,
        root_start: if fat32_bpb { 0 } else { root_start },
        root_sectors,
        root_cluster,
        data_start,
        clusters,
    })
}

impl Layout {
    fn cluster_lba(&self, cluster: u32) -> Result<u32, MediumError> {
        if cluster < 2 || cluster >= self.clusters + 2 {
            return Err(MediumError::BadChain);
        }
        Ok(self.data_start + (cluster - 2) * self.sec_per_clus)
    }
}

/// Reads the root-directory file `name` (8.3, space padded, upper case: `b"SOFTPXE CFG"`)
/// into `out`; returns the file's length, of which at most `out.len()` bytes were stored.
/// FAT12, FAT16 and FAT32 volumes.
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
        if steps > l.clusters {
            return Err(MediumError::BadChain);
        }
        steps += 1;
        let lba = l.cluster_lba(cluster)?;
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
            cluster =
                next_cluster(reader, &l, cluster, &mut sector)?.ok_or(MediumError::BadChain)?;
        }
    }
    Ok(size)
}

/// What one directory sector said about `name`.
enum Scan {
    Found(u32, u32),
    End,
    More,
}

fn scan_sector(sector: &[u8; SECTOR], name: &[u8; 11]) -> Scan {
    for entry in sector.chunks_exact(32) {
        match entry[0] {
            0 => return Scan::End,
            0xe5 => continue,
            _ => {}
        }
        // skip long-name entries, volume labels and directories
        if entry[11] & 0x18 != 0 || entry[11] == 0x0f {
            continue;
        }
        if &entry[..11] == name {
            // FAT32 keeps the high 16 bits of the first cluster at offset 20 (0 on FAT12/16)
            let cluster = (le16(entry, 20) << 16 | le16(entry, 26)) & 0x0fff_ffff;
            return Scan::Found(cluster, le32(entry, 28));
        }
    }
    Scan::More
}

fn find_entry(
    reader: &mut impl SectorReader,
    l: &Layout,
    name: &[u8; 11],
    sector: &mut [u8; SECTOR],
) -> Result<(u32, u32), MediumError> {
    fn check(
        reader: &mut impl SectorReader,
        lba: u32,
        sector: &mut [u8; SECTOR],
        name: &[u8; 11],
    ) -> Result<Scan, MediumError> {
        if !reader.read(lba, sector) {
            return Err(MediumError::Read(lba));
        }
        Ok(scan_sector(sector, name))
    }
    if l.fat != Fat::Fat32 {
        for s in 0..l.root_sectors {
            match check(reader, l.root_start + s, sector, name)? {
                Scan::Found(c, size) => return Ok((c, size)),
                Scan::End => return Err(MediumError::NotFound),
                Scan::More => {}
            }
        }
        return Err(MediumError::NotFound);
    }
    // FAT32: the root directory is a cluster chain
    let mut cluster = l.root_cluster;
    for _ in 0..=l.clusters {
        let lba = l.cluster_lba(cluster)?;
        for i in 0..l.sec_per_clus {
            match check(reader, lba + i, sector, name)? {
                Scan::Found(c, size) => return Ok((c, size)),
                Scan::End => return Err(MediumError::NotFound),
                Scan::More => {}
            }
        }
        match next_cluster(reader, l, cluster, sector)? {
            Some(next) => cluster = next,
            None => return Err(MediumError::NotFound),
        }
    }
    Err(MediumError::BadChain)
}

/// The FAT entry of `cluster`: `Some(next)`, or `None` at the end of the chain.
fn next_cluster(
    reader: &mut impl SectorReader,
    l: &Layout,
    cluster: u32,
    sector: &mut [u8; SECTOR],
) -> Result<Option<u32>, MediumError> {
    let offset = match l.fat {
        Fat::Fat32 => cluster * 4,
        Fat::Fat16 => cluster * 2,
        Fat::Fat12 => cluster + cluster / 2,
    };
    let lba = l.reserved + offset / SECTOR as u32;
    let at = (offset % SECTOR as u32) as usize;
    if !reader.read(lba, sector) {
        return Err(MediumError::Read(lba));
    }
    if l.fat == Fat::Fat32 {
        // entries are 4-byte aligned: never straddle sectors; the top 4 bits are reserved
        let next = le32(sector, at) & 0x0fff_ffff;
        return Ok((next < 0x0fff_fff8).then_some(next));
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
    let next = match l.fat {
        Fat::Fat12 if cluster & 1 == 1 => raw >> 4,
        Fat::Fat12 => raw & 0x0fff,
        _ => raw,
    };
    let end = if l.fat == Fat::Fat16 { 0xfff8 } else { 0x0ff8 };
    Ok((next < end).then_some(next))
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

    /// A sparse FAT32 volume: 32 reserved sectors, 2 FATs of 520 sectors, 1 sector/cluster,
    /// 66 000 clusters; the root directory spans clusters 2 -> 7 (the file's entry in the
    /// second one), the file has a cluster number above 65535.
    #[test]
    fn reads_a_fat32_root_directory_chain() {
        use std::collections::BTreeMap;
        let mut v: BTreeMap<u32, [u8; SECTOR]> = BTreeMap::new();
        let (reserved, spf, fats) = (32u32, 520u32, 2u32);
        let data_start = reserved + fats * spf;
        let total = data_start + 66_000;
        let mut b = [0u8; SECTOR];
        b[0x0b..0x0d].copy_from_slice(&512u16.to_le_bytes());
        b[0x0d] = 1;
        b[0x0e..0x10].copy_from_slice(&(reserved as u16).to_le_bytes());
        b[0x10] = fats as u8;
        b[0x20..0x24].copy_from_slice(&total.to_le_bytes());
        b[0x24..0x28].copy_from_slice(&spf.to_le_bytes());
        b[0x2c..0x30].copy_from_slice(&2u32.to_le_bytes());
        v.insert(0, b);
        let set_fat = |v: &mut BTreeMap<u32, [u8; SECTOR]>, c: u32, next: u32| {
            let lba = reserved + c * 4 / 512;
            let at = (c * 4 % 512) as usize;
            let s = v.entry(lba).or_insert([0; SECTOR]);
            s[at..at + 4].copy_from_slice(&next.to_le_bytes());
        };
        let file_cluster = 65_990u32;
        set_fat(&mut v, 2, 7);
        set_fat(&mut v, 7, 0x0fff_ffff);
        set_fat(&mut v, file_cluster, 0x1000_0000 | 3); // top bits reserved: masked
        set_fat(&mut v, 3, 0x0fff_fff8);
        // root cluster 2: full of deleted entries; cluster 7: a long-name entry, then the file
        v.insert(data_start, [0xe5; SECTOR]);
        let mut root = [0u8; SECTOR];
        root[0] = 0x41;
        root[11] = 0x0f;
        root[32..43].copy_from_slice(b"SOFTPXE CFG");
        root[32 + 20..32 + 22].copy_from_slice(&((file_cluster >> 16) as u16).to_le_bytes());
        root[32 + 26..32 + 28].copy_from_slice(&(file_cluster as u16).to_le_bytes());
        root[32 + 28..32 + 32].copy_from_slice(&600u32.to_le_bytes());
        v.insert(data_start + 5, root);
        v.insert(data_start + file_cluster - 2, [b'a'; SECTOR]);
        v.insert(data_start + 1, [b'b'; SECTOR]);
        let mut r = |lba: u32, buf: &mut [u8; SECTOR]| {
            if lba >= total {
                return false;
            }
            *buf = v.get(&lba).copied().unwrap_or([0; SECTOR]);
            true
        };
        let mut out = [0u8; 1024];
        assert_eq!(read_root_file(&mut r, b"SOFTPXE CFG", &mut out), Ok(600));
        assert!(out[..512].iter().all(|&b| b == b'a'));
        assert!(out[512..600].iter().all(|&b| b == b'b'));
        assert_eq!(
            read_root_file(&mut r, b"OTHER   CFG", &mut out),
            Err(MediumError::NotFound)
        );
    }
}
