//! What the 16-bit prefix (`asm/prefix.s`) hands the core: its layout is shared with the
//! assembly through the offsets asserted below.
use core::mem::{offset_of, size_of};

/// Entries the prefix collects at most (`E820_MAX` in `asm/prefix.s`).
pub const E820_MAX: usize = 32;

/// One memory map entry as INT 15h E820 returns it (ACPI 3 form, 24 bytes).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct E820Entry {
    pub base: u64,
    pub length: u64,
    pub kind: u32,
    pub attributes: u32,
}

/// Usable RAM in an [`E820Entry`].
pub const E820_RAM: u32 = 1;

/// Where the memory map came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemorySource {
    E820,
    E801,
    Int88,
    Unknown(u8),
}

/// `bootinfo` in `asm/prefix.s`.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct BootInfo {
    pub magic: [u8; 4],
    pub version: u16,
    pub boot_drive: u8,
    /// 0 already on, 1 BIOS INT 15h, 2 keyboard controller, 3 port 92h.
    pub a20_method: u8,
    pub memory_source: u8,
    pub e820_count: u8,
    pub base_kib_before: u16,
    pub base_kib_after: u16,
    pub resident_segment: u16,
    pub resident_size: u32,
    /// Physical address of `rm_call32`: `extern "C" fn(*mut RmRegs)`.
    pub rm_call: u32,
    pub image_phys: u32,
    pub core_phys: u32,
    pub core_size: u32,
    /// The first 64 bytes of the boot sector (BPB), as the boot record left them.
    pub bpb: [u8; 64],
    /// Offset in the resident segment and size of the PXE API's scratch area.
    pub scratch_offset: u16,
    pub scratch_size: u16,
    pub e820: [E820Entry; E820_MAX],
    /// Offsets in the resident segment of: PXENV+ RMEntry, !PXE EntryPointSP, the INT 1Ah and
    /// INT 15h hooks, and the data block shared with the core (`pxeapi::ResData`).
    pub pxenv_entry: u16,
    pub bang_entry: u16,
    pub int1a_hook: u16,
    pub int15_hook: u16,
    pub res_data: u16,
    /// Offsets of the PXENV+ and !PXE structures in the resident part.
    pub pxenv_struct: u16,
    pub bang_struct: u16,
    pub _pad: [u8; 2],
}

const _: () = {
    assert!(offset_of!(BootInfo, boot_drive) == 6);
    assert!(offset_of!(BootInfo, a20_method) == 7);
    assert!(offset_of!(BootInfo, memory_source) == 8);
    assert!(offset_of!(BootInfo, e820_count) == 9);
    assert!(offset_of!(BootInfo, base_kib_before) == 10);
    assert!(offset_of!(BootInfo, base_kib_after) == 12);
    assert!(offset_of!(BootInfo, resident_segment) == 14);
    assert!(offset_of!(BootInfo, resident_size) == 16);
    assert!(offset_of!(BootInfo, rm_call) == 20);
    assert!(offset_of!(BootInfo, image_phys) == 24);
    assert!(offset_of!(BootInfo, core_phys) == 28);
    assert!(offset_of!(BootInfo, core_size) == 32);
    assert!(offset_of!(BootInfo, bpb) == 36);
    assert!(offset_of!(BootInfo, scratch_offset) == 100);
    assert!(offset_of!(BootInfo, e820) == 104);
    assert!(offset_of!(BootInfo, pxenv_entry) == 104 + E820_MAX * 24);
    assert!(offset_of!(BootInfo, res_data) == 104 + E820_MAX * 24 + 8);
    assert!(size_of::<BootInfo>() == 104 + E820_MAX * 24 + 16);
    assert!(size_of::<E820Entry>() == 24);
};

impl BootInfo {
    /// The memory map entries the prefix found.
    pub fn memory_map(&self) -> &[E820Entry] {
        &self.e820[..usize::from(self.e820_count).min(E820_MAX)]
    }

    /// Total usable RAM in bytes.
    pub fn ram_bytes(&self) -> u64 {
        self.memory_map()
            .iter()
            .filter(|e| e.kind == E820_RAM)
            .map(|e| e.length)
            .sum()
    }

    pub fn memory_source(&self) -> MemorySource {
        match self.memory_source {
            1 => MemorySource::E820,
            2 => MemorySource::E801,
            3 => MemorySource::Int88,
            n => MemorySource::Unknown(n),
        }
    }

    /// The partition's first sector (BPB "hidden sectors"); 0 on a floppy.
    pub fn partition_lba(&self) -> u32 {
        u32::from_le_bytes([
            self.bpb[0x1c],
            self.bpb[0x1d],
            self.bpb[0x1e],
            self.bpb[0x1f],
        ])
    }

    pub fn a20_method(&self) -> &'static str {
        match self.a20_method {
            0 => "already on",
            1 => "BIOS",
            2 => "keyboard controller",
            3 => "port 92h",
            _ => "?",
        }
    }
}

impl core::fmt::Display for MemorySource {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MemorySource::E820 => f.write_str("E820"),
            MemorySource::E801 => f.write_str("E801"),
            MemorySource::Int88 => f.write_str("INT 15h 88h"),
            MemorySource::Unknown(n) => write!(f, "source {n}"),
        }
    }
}
