//! What the 16-bit prefix (`asm/prefix.s`) hands the core: its layout is shared with the
//! assembly through `layout.rs` (the `BI_*` offsets), asserted below against the Rust type.
use crate::layout as l;
use core::mem::{offset_of, size_of};

/// Entries the prefix collects at most.
pub const E820_MAX: usize = l::E820_MAX as usize;

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

const fn at(offset: u32) -> usize {
    offset as usize
}

const _: () = {
    assert!(offset_of!(BootInfo, boot_drive) == at(l::BI_DRIVE));
    assert!(offset_of!(BootInfo, a20_method) == at(l::BI_A20));
    assert!(offset_of!(BootInfo, memory_source) == at(l::BI_MEMSRC));
    assert!(offset_of!(BootInfo, e820_count) == at(l::BI_E820N));
    assert!(offset_of!(BootInfo, base_kib_before) == at(l::BI_BASE_BEFORE));
    assert!(offset_of!(BootInfo, base_kib_after) == at(l::BI_BASE_AFTER));
    assert!(offset_of!(BootInfo, resident_segment) == at(l::BI_RES_SEG));
    assert!(offset_of!(BootInfo, resident_size) == at(l::BI_RES_SIZE));
    assert!(offset_of!(BootInfo, rm_call) == at(l::BI_RM_CALL));
    assert!(offset_of!(BootInfo, image_phys) == at(l::BI_IMAGE_PHYS));
    assert!(offset_of!(BootInfo, core_phys) == at(l::BI_CORE_PHYS));
    assert!(offset_of!(BootInfo, core_size) == at(l::BI_CORE_SIZE));
    assert!(offset_of!(BootInfo, bpb) == at(l::BI_BPB));
    assert!(offset_of!(BootInfo, scratch_offset) == at(l::BI_SCRATCH_OFF));
    assert!(offset_of!(BootInfo, scratch_size) == at(l::BI_SCRATCH_SIZE));
    assert!(offset_of!(BootInfo, e820) == at(l::BI_E820));
    assert!(offset_of!(BootInfo, pxenv_entry) == at(l::BI_PXENV_ENTRY));
    assert!(offset_of!(BootInfo, bang_entry) == at(l::BI_BANG_ENTRY));
    assert!(offset_of!(BootInfo, int1a_hook) == at(l::BI_INT1A));
    assert!(offset_of!(BootInfo, int15_hook) == at(l::BI_INT15));
    assert!(offset_of!(BootInfo, res_data) == at(l::BI_RES_DATA));
    assert!(offset_of!(BootInfo, pxenv_struct) == at(l::BI_PXENV_STRUCT));
    assert!(offset_of!(BootInfo, bang_struct) == at(l::BI_BANG_STRUCT));
    assert!(size_of::<BootInfo>() == at(l::BI_SIZE));
    assert!(size_of::<E820Entry>() == at(l::E820_ENTRY_SIZE));
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
