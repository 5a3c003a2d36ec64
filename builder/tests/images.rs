//! The images the library builds, read back with fatfs, mbrman and (when installed, which CI
//! guarantees) fsck.fat and mdir.

mod common;

use fatfs::{FileSystem, FsOptions};
use softpxe::fat::{bpb, le16, le32};
use softpxe::{build_floppy, build_usb, firmware, inspect, BuildOptions, Settings};
use softpxe_settings::Key;
use std::io::{Cursor, Read};

fn options_with(pairs: &[(Key, &str)]) -> BuildOptions {
    let mut settings = Settings::default();
    for (k, v) in pairs {
        settings.set(*k, v.as_bytes()).unwrap();
    }
    BuildOptions { settings }
}

/// Root directory files (8.3 name, contents) in directory order.
fn root_files(volume: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut copy = volume.to_vec();
    let fs = FileSystem::new(Cursor::new(copy.as_mut_slice()), FsOptions::new()).unwrap();
    let mut out = Vec::new();
    for e in fs.root_dir().iter() {
        let e = e.unwrap();
        let name = String::from_utf8_lossy(e.short_file_name_as_bytes()).into_owned();
        if e.is_dir() {
            out.push((format!("{name}/"), Vec::new()));
            continue;
        }
        let mut data = Vec::new();
        e.to_file().read_to_end(&mut data).unwrap();
        out.push((name, data));
    }
    out
}

/// The UEFI firmware on a USB volume.
fn efi_app(volume: &[u8]) -> Vec<u8> {
    let mut copy = volume.to_vec();
    let fs = FileSystem::new(Cursor::new(copy.as_mut_slice()), FsOptions::new()).unwrap();
    let mut data = Vec::new();
    fs.root_dir()
        .open_file("EFI/BOOT/BOOTX64.EFI")
        .unwrap()
        .read_to_end(&mut data)
        .unwrap();
    data
}

/// Raw 32-byte root directory entries up to the end marker.
fn raw_root_entries(volume: &[u8]) -> Vec<[u8; 32]> {
    let (start, len) = softpxe::fat::root_dir_range(volume).unwrap();
    volume[start..start + len]
        .chunks_exact(32)
        .take_while(|e| e[0] != 0)
        .map(|e| e.try_into().unwrap())
        .collect()
}

fn check_boot_code(sector: &[u8], template: &[u8; 512]) {
    assert_eq!(&sector[..3], &template[..3], "jump");
    assert_eq!(
        &sector[0x3E..0x200],
        &template[0x3E..],
        "boot code + signature"
    );
    assert_eq!(&sector[510..512], &[0x55, 0xAA]);
}

fn check_files(volume: &[u8], options: &BuildOptions, usb: bool) {
    let files = root_files(volume);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    if usb {
        assert_eq!(names, ["SOFTPXE.SYS", "SOFTPXE.CFG", "EFI/"]);
        assert!(
            efi_app(volume) == firmware::BOOTX64_EFI,
            "BOOTX64.EFI differs"
        );
        assert_eq!(&firmware::BOOTX64_EFI[..2], b"MZ", "a PE image");
    } else {
        assert_eq!(names, ["SOFTPXE.SYS", "SOFTPXE.CFG"]);
    }
    assert_eq!(files[0].1, firmware::SOFTPXE_SYS);
    assert_eq!(files[1].1, options.settings_text().as_bytes());
    let reread = softpxe::parse_settings_strict(&files[1].1, "SOFTPXE.CFG").unwrap();
    assert_eq!(reread, options.settings);

    // SOFTPXE.SYS is the first root entry (no LFN entries before it), the label comes last,
    // and every timestamp is 2000-01-01 00:00.
    let raw = raw_root_entries(volume);
    let n = if usb { 4 } else { 3 };
    assert_eq!(raw.len(), n, "SYS, CFG, (EFI,) volume label");
    assert_eq!(&raw[0][..11], b"SOFTPXE SYS");
    assert_eq!(&raw[1][..11], b"SOFTPXE CFG");
    if usb {
        assert_eq!((&raw[2][..11], raw[2][11]), (&b"EFI        "[..], 0x10));
    }
    assert_eq!(
        (&raw[n - 1][..11], raw[n - 1][11]),
        (&b"SOFTPXE    "[..], 0x08)
    );
    let date_2000 = ((2000 - 1980) << 9) | (1 << 5) | 1;
    for e in &raw[..n - 1] {
        assert_eq!(le16(e, 0x0E), 0, "create time");
        assert_eq!(le16(e, 0x10), date_2000, "create date");
        assert_eq!(le16(e, 0x12), date_2000, "access date");
        assert_eq!(le16(e, 0x16), 0, "write time");
        assert_eq!(le16(e, 0x18), date_2000, "write date");
    }
}

/// The boot code may read SOFTPXE.SYS as one run: its clusters must be consecutive.
fn check_sys_contiguous_fat12(volume: &[u8]) {
    let raw = raw_root_entries(volume);
    let first = le16(&raw[0], 0x1A) as usize;
    let size = le32(&raw[0], 0x1C) as usize;
    let clusters = size.div_ceil(512);
    let fat = &volume[512..512 + 9 * 512];
    let entry = |n: usize| {
        let v = le16(fat, n * 3 / 2) as usize;
        if n % 2 == 0 {
            v & 0xFFF
        } else {
            v >> 4
        }
    };
    for i in 0..clusters {
        let next = entry(first + i);
        if i + 1 == clusters {
            assert!(next >= 0xFF8, "end of chain");
        } else {
            assert_eq!(next, first + i + 1, "cluster {} of SOFTPXE.SYS", i);
        }
    }
}

#[test]
fn floppy_layout() {
    let options = options_with(&[(Key::BootFile, "pxelinux.0"), (Key::Ip, "10.0.0.5/24")]);
    let img = build_floppy(&options).unwrap();
    assert_eq!(img.len(), 1_474_560);
    let b = &img[..512];
    assert_eq!(le16(b, bpb::BYTES_PER_SECTOR), 512);
    assert_eq!(b[bpb::SECTORS_PER_CLUSTER], 1);
    assert_eq!(le16(b, bpb::RESERVED_SECTORS), 1);
    assert_eq!(b[bpb::FATS], 2);
    assert_eq!(le16(b, bpb::ROOT_ENTRIES), 224);
    assert_eq!(le16(b, bpb::TOTAL_SECTORS_16), 2880);
    assert_eq!(b[bpb::MEDIA], 0xF0);
    assert_eq!(le16(b, bpb::SECTORS_PER_FAT), 9);
    assert_eq!(le16(b, bpb::SECTORS_PER_TRACK), 18);
    assert_eq!(le16(b, bpb::HEADS), 2);
    assert_eq!(le32(b, bpb::HIDDEN_SECTORS), 0);
    assert_eq!(b[bpb::DRIVE_NUMBER], 0x00);
    assert_eq!(
        &b[bpb::VOLUME_LABEL..bpb::VOLUME_LABEL + 11],
        b"SOFTPXE    "
    );
    assert_eq!(&b[0x36..0x3E], b"FAT12   ");
    check_boot_code(b, firmware::BOOTSECT_FAT12);
    check_files(&img, &options, false);
    check_sys_contiguous_fat12(&img);
    // Both FATs start with the media byte.
    assert_eq!(&img[512..515], &[0xF0, 0xFF, 0xFF]);
    assert_eq!(&img[512 * 10..512 * 10 + 3], &[0xF0, 0xFF, 0xFF]);
}

#[test]
fn floppy_is_reproducible() {
    let options = options_with(&[(Key::NextServer, "10.1.1.1")]);
    let a = build_floppy(&options).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let b = build_floppy(&options).unwrap();
    assert!(a == b, "two floppy builds differ");
    let other = build_floppy(&options_with(&[(Key::NextServer, "10.1.1.2")])).unwrap();
    assert!(a != other, "settings must reach the image");
}

#[test]
fn floppy_passes_fsck_and_mdir() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("boot.img");
    std::fs::write(&path, build_floppy(&BuildOptions::default()).unwrap()).unwrap();
    let fsck = common::fsck(&path);
    assert!(fsck.contains("3 files"), "{fsck}");
    let listing = common::run_tool("mdir", &["-i", path.to_str().unwrap(), "::"]);
    assert!(listing.contains("SOFTPXE  SYS"), "{listing}");
    assert!(listing.contains("SOFTPXE  CFG"), "{listing}");
    assert!(
        listing.contains("Volume in drive : is SOFTPXE"),
        "{listing}"
    );
}

const MIB: u64 = 1024 * 1024;

#[test]
fn usb_layout() {
    let options = options_with(&[(Key::Discovery, "skip")]);
    let size = 32 * MIB;
    let img = build_usb(&options, size).unwrap();
    assert_eq!(img.len() as u64, size);

    // MBR: firmware code, fixed signature, one active FAT16 partition from LBA 2048 to the end.
    assert_eq!(&img[..440], &firmware::MBR[..440]);
    assert_eq!(&img[440..444], b"SPXE");
    assert_eq!(&img[510..512], &[0x55, 0xAA]);
    let mbr = mbrman::MBR::read_from(&mut Cursor::new(&img), 512).unwrap();
    let used: Vec<_> = mbr.iter().filter(|(_, p)| p.is_used()).collect();
    assert_eq!(used.len(), 1);
    let (n, p) = used[0];
    assert_eq!(n, 1);
    assert!(p.is_active());
    assert_eq!(p.boot, 0x80);
    assert!(p.sys == 0x06 || p.sys == 0x0E);
    assert_eq!(p.starting_lba, 2048);
    assert_eq!(u64::from(p.starting_lba + p.sectors), size / 512);
    assert!(
        img[512..2048 * 512].iter().all(|b| *b == 0),
        "LBA 1..2047 stay free"
    );

    let vol = &img[2048 * 512..];
    let b = &vol[..512];
    assert_eq!(&b[0x36..0x3E], b"FAT16   ");
    assert_eq!(le32(b, bpb::HIDDEN_SECTORS), 2048);
    assert_eq!(b[bpb::DRIVE_NUMBER], 0x80);
    assert_eq!(le16(b, bpb::SECTORS_PER_TRACK), 63);
    assert!(matches!(le16(b, bpb::HEADS), 16 | 255));
    assert_eq!(
        le16(b, bpb::TOTAL_SECTORS_16) as u64 + le32(b, bpb::TOTAL_SECTORS_32) as u64,
        size / 512 - 2048
    );
    check_boot_code(b, firmware::VBR_FAT16);
    check_files(vol, &options, true);
    let mut copy = vol.to_vec();
    let fs = FileSystem::new(Cursor::new(copy.as_mut_slice()), FsOptions::new()).unwrap();
    assert_eq!(fs.fat_type(), fatfs::FatType::Fat16);
    assert!(
        !fs.read_status_flags().unwrap().dirty(),
        "volume left dirty"
    );
}

#[test]
fn usb_is_reproducible_and_passes_fsck_and_mdir() {
    let options = options_with(&[(Key::Log, "debug")]);
    let a = build_usb(&options, 16 * MIB).unwrap();
    let b = build_usb(&options, 16 * MIB).unwrap();
    assert!(a == b, "two USB builds differ");

    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("usb.img");
    let part = dir.path().join("part.img");
    std::fs::write(&disk, &a).unwrap();
    std::fs::write(&part, &a[2048 * 512..]).unwrap();
    common::fsck(&part);
    let spec = format!("{}@@1M", disk.display());
    let listing = common::run_tool("mdir", &["-i", &spec, "::"]);
    assert!(
        listing.contains("SOFTPXE  SYS") && listing.contains("SOFTPXE  CFG"),
        "{listing}"
    );
}

#[test]
fn usb_sizes() {
    // FAT16 below 512 MiB, FAT32 from there: both build and pass fsck, with softpxe's boot
    // record in place (FAT32: sector 0 code after the 0x5A-byte BPB, stage 2 in sector 2);
    // outside the range is refused with a reason.
    for (size, fat) in [
        (16 * MIB, "FAT16   "),
        (300 * MIB, "FAT16   "),
        (512 * MIB, "FAT32   "),
    ] {
        let img = build_usb(&BuildOptions::default(), size).unwrap();
        let part_bytes = &img[2048 * 512..];
        if fat == "FAT32   " {
            assert_eq!(&part_bytes[0x52..0x5a], fat.as_bytes());
            assert_eq!(
                &part_bytes[0x5a..0x200],
                &softpxe::firmware::VBR_FAT32[0x5a..0x200]
            );
            assert_eq!(
                &part_bytes[1024..1536],
                &softpxe::firmware::VBR_FAT32[512..]
            );
            assert_eq!(part_bytes[0x40], 0x80, "drive number in the FAT32 BPB");
            assert_eq!(img[446 + 4], 0x0c, "partition type FAT32 LBA");
        } else {
            assert_eq!(&part_bytes[0x36..0x3e], fat.as_bytes());
        }
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("part.img");
        std::fs::write(&part, part_bytes).unwrap();
        common::fsck(&part);
    }
    let err = build_usb(&BuildOptions::default(), 4 * 1024 * MIB + 512).unwrap_err();
    assert!(format!("{err:#}").contains("over 4G"), "{err:#}");
    let err = build_usb(&BuildOptions::default(), 15 * MIB).unwrap_err();
    assert!(format!("{err:#}").contains("16M"), "{err:#}");
    assert!(build_usb(&BuildOptions::default(), 16 * MIB + 100).is_err());
}

#[test]
fn inspect_reads_back_both_images() {
    let options = options_with(&[(Key::BootFile, "undionly.kpxe"), (Key::Timing, "fast")]);
    let floppy = inspect(&build_floppy(&options).unwrap()).unwrap();
    let text = floppy.to_string();
    assert!(text.contains("1.44 MB floppy image"), "{text}");
    assert!(
        text.contains("80 cylinders, 2 heads, 18 sectors/track"),
        "{text}"
    );
    assert!(text.contains("FAT12"), "{text}");
    assert!(text.contains("label \"SOFTPXE\""), "{text}");
    assert!(text.contains("boot_file = undionly.kpxe"), "{text}");
    assert!(text.contains("timing = fast"), "{text}");
    assert_eq!(floppy.volume.files.len(), 2);
    let hdr = softpxe::sys::SysHeader::parse(firmware::SOFTPXE_SYS).unwrap();
    assert_eq!(floppy.firmware, hdr);
    assert!(text.contains(&format!("version {}", hdr.version)), "{text}");

    let usb = inspect(&build_usb(&options, 16 * MIB).unwrap()).unwrap();
    let text = usb.to_string();
    assert!(text.contains("MBR disk image"), "{text}");
    assert!(
        text.contains("start LBA     2048") && text.contains("active"),
        "{text}"
    );
    assert!(
        text.contains("FAT16") && text.contains("hidden sectors 2048"),
        "{text}"
    );
}

#[test]
fn inspect_reports_bad_settings_lines() {
    let mut img = build_floppy(&BuildOptions::default()).unwrap();
    // Overwrite the start of SOFTPXE.CFG's first cluster with a bad line (same length file).
    let raw = raw_root_entries(&img);
    let cluster = le16(&raw[1], 0x1A) as usize;
    let at = (1 + 18 + 14 + cluster - 2) * 512;
    img[at..at + 10].copy_from_slice(b"bootfle=x\n");
    let text = inspect(&img).unwrap().to_string();
    assert!(text.contains("line 1: unknown key \"bootfle\""), "{text}");
}

#[test]
fn inspect_refuses_non_images() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![0u8; 100], "too small"),
        (
            (0..100_000u32).map(|i| (i * 7919 % 251) as u8).collect(),
            "neither a FAT boot sector nor an MBR",
        ),
        (
            {
                let mut v = vec![0u8; 4096];
                v[510] = 0x55;
                v[511] = 0xAA;
                v
            },
            "no partitions",
        ),
    ];
    for (bytes, want) in cases {
        let err = format!("{:#}", inspect(&bytes).unwrap_err());
        assert!(err.contains(want), "{err}");
    }
    // A FAT floppy without SOFTPXE.SYS.
    let mut img = build_floppy(&BuildOptions::default()).unwrap();
    let (start, _) = softpxe::fat::root_dir_range(&img).unwrap();
    img[start] = 0xE5; // delete the SOFTPXE.SYS entry
    let err = format!("{:#}", inspect(&img).unwrap_err());
    assert!(err.contains("no SOFTPXE.SYS"), "{err}");
}

#[test]
fn usb_gpt_layout_boots_both_ways_and_reads_back() {
    use softpxe::{build_usb_layout, UsbLayout};
    let options = options_with(&[(Key::UefiNic, "take")]);
    let size = 32 * MIB;
    let img = build_usb_layout(&options, size, UsbLayout::Gpt).unwrap();
    let again = build_usb_layout(&options, size, UsbLayout::Gpt).unwrap();
    assert!(img == again, "two GPT builds differ");
    assert_eq!(img.len() as u64, size);

    // protective MBR: softpxe's MBR code, one 0xEE entry over the disk, not active
    assert_eq!(&img[..440], &firmware::MBR[..440]);
    assert_eq!(&img[440..444], b"SPXE");
    let e = &img[446..462];
    assert_eq!((e[0], e[4]), (0x00, 0xEE));
    assert_eq!(le32(e, 8), 1);
    assert_eq!(u64::from(le32(e, 12)), size / 512 - 1);
    assert!(img[462..510].iter().all(|b| *b == 0));
    assert_eq!(&img[510..512], &[0x55, 0xAA]);

    // GPT: "EFI PART", one ESP from 2048, legacy-BIOS-bootable, fixed GUIDs; backup at the end
    assert_eq!(&img[512..520], b"EFI PART");
    let last = size as usize - 512;
    assert_eq!(&img[last..last + 8], b"EFI PART");
    let (guid, parts) = softpxe::gpt_disk::read_gpt(&img).unwrap();
    assert_eq!(guid, softpxe::usb::GPT_DISK_GUID);
    assert_eq!(parts.len(), 1);
    let p = &parts[0];
    assert!(p.esp && p.legacy_bootable, "{p:?}");
    assert_eq!(p.first_lba, 2048);
    assert_eq!((p.last_lba + 1) % 2048, 0, "ends on a MiB boundary");
    assert!(p.last_lba < size / 512 - 33);
    // the MBR code reads these header fields: entry array LBA, count, entry size
    assert_eq!(le32(&img[512..], 0x48), 2);
    assert_eq!(le32(&img[512..], 0x54), 128);
    assert_eq!(img[1024 + 48] & 4, 4, "attribute bit 2 in entry 1");

    let vol = &img[2048 * 512..(p.last_lba as usize + 1) * 512];
    assert_eq!(le32(vol, bpb::HIDDEN_SECTORS), 2048);
    check_boot_code(&vol[..512], firmware::VBR_FAT16);
    check_files(vol, &options, true);
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("part.img");
    std::fs::write(&part, vol).unwrap();
    common::fsck(&part);

    let text = inspect(&img).unwrap().to_string();
    assert!(text.contains("GPT disk image (protective MBR)"), "{text}");
    assert!(text.contains("EFI system, legacy BIOS bootable"), "{text}");
    assert!(text.contains("<- softpxe"), "{text}");
    assert!(text.contains("EFI/BOOT/BOOTX64.EFI ("), "{text}");
    assert!(text.contains("uefi_nic = take"), "{text}");
    let mbr_text = inspect(&build_usb(&options, size).unwrap())
        .unwrap()
        .to_string();
    assert!(mbr_text.contains("MBR disk image"), "{mbr_text}");
    assert!(mbr_text.contains("EFI/BOOT/BOOTX64.EFI ("), "{mbr_text}");
}
