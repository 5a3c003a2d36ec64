//! Reading the boot medium from the core through INT 13h (CHS for floppies; AH=42h extensions
//! with CHS fallback for disks), one sector at a time through a bounce buffer in low memory: the
//! place the prefix was loaded at (1000:0000), free once the core runs.
use crate::bootinfo::BootInfo;
use crate::realmode::{self, RmRegs};
use softpxe_settings::medium::{SectorReader, SECTOR};

/// The boot volume as the BIOS presents it.
pub struct BootDisk {
    drive: u8,
    /// Volume sector 0 on the drive (the partition start; 0 on a floppy).
    first_lba: u32,
    sectors_per_track: u32,
    heads: u32,
    /// Physical address of a free, 512-byte aligned 1 KiB area below 1 MiB.
    bounce: u32,
    extensions: bool,
}

const FLAG_CF: u16 = 1;

impl BootDisk {
    /// The volume the boot record loaded us from.
    pub fn new(info: &BootInfo) -> Self {
        let b = &info.bpb;
        let mut disk = BootDisk {
            drive: info.boot_drive,
            first_lba: info.partition_lba(),
            sectors_per_track: u32::from(u16::from_le_bytes([b[0x18], b[0x19]])).max(1),
            heads: u32::from(u16::from_le_bytes([b[0x1a], b[0x1b]])).max(1),
            bounce: info.image_phys,
            extensions: false,
        };
        if disk.drive >= 0x80 {
            // INT 13h AH=41h: are the extensions there? AH=08h: the BIOS's own geometry.
            let mut r = RmRegs {
                eax: 0x4100,
                ebx: 0x55aa,
                edx: u32::from(disk.drive),
                ..RmRegs::default()
            };
            realmode::int(0x13, &mut r);
            disk.extensions = r.flags & FLAG_CF == 0 && r.ebx as u16 == 0xaa55 && r.ecx & 1 != 0;
            let mut r = RmRegs {
                eax: 0x0800,
                edx: u32::from(disk.drive),
                ..RmRegs::default()
            };
            realmode::int(0x13, &mut r);
            if r.flags & FLAG_CF == 0 {
                disk.sectors_per_track = (r.ecx & 0x3f).max(1);
                disk.heads = ((r.edx >> 8) & 0xff) + 1;
            }
        }
        disk
    }

    fn read_lba(&mut self, lba: u32) -> bool {
        let seg = (self.bounce >> 4) as u16;
        if self.extensions {
            // disk address packet after the buffer: size, count, buffer seg:off, LBA
            let mut dap = [0u8; 16];
            dap[0] = 16;
            dap[2] = 1;
            dap[6..8].copy_from_slice(&seg.to_le_bytes());
            dap[8..12].copy_from_slice(&lba.to_le_bytes());
            // SAFETY: the bounce area (1 KiB at image_phys) is low memory the firmware owns.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    dap.as_ptr(),
                    (self.bounce as usize + SECTOR) as *mut u8,
                    16,
                )
            };
            let mut r = RmRegs {
                eax: 0x4200,
                edx: u32::from(self.drive),
                esi: SECTOR as u32,
                ds: seg,
                ..RmRegs::default()
            };
            realmode::int(0x13, &mut r);
            if r.flags & FLAG_CF == 0 {
                return true;
            }
        }
        let sector = lba % self.sectors_per_track + 1;
        let track = lba / self.sectors_per_track;
        let (cyl, head) = (track / self.heads, track % self.heads);
        if cyl > 1023 {
            return false;
        }
        for _ in 0..3 {
            let mut r = RmRegs {
                eax: 0x0201,
                ecx: ((cyl & 0xff) << 8) | ((cyl >> 8) << 6) | sector,
                edx: (head << 8) | u32::from(self.drive),
                ebx: 0,
                es: seg,
                ..RmRegs::default()
            };
            realmode::int(0x13, &mut r);
            if r.flags & FLAG_CF == 0 {
                return true;
            }
            let mut reset = RmRegs {
                edx: u32::from(self.drive),
                ..RmRegs::default()
            };
            realmode::int(0x13, &mut reset);
        }
        false
    }
}

impl SectorReader for BootDisk {
    fn read(&mut self, lba: u32, buf: &mut [u8; SECTOR]) -> bool {
        let Some(abs) = self.first_lba.checked_add(lba) else {
            return false;
        };
        if !self.read_lba(abs) {
            return false;
        }
        // SAFETY: the BIOS just filled the 512 bytes at the bounce address, which we own.
        unsafe {
            core::ptr::copy_nonoverlapping(
                self.bounce as usize as *const u8,
                buf.as_mut_ptr(),
                SECTOR,
            )
        };
        true
    }
}
