//! The constants the 16-bit assembly and the 32-bit core share, defined once: load segments,
//! `BootInfo`'s field offsets, the E820 table's size, the PXENV+ / !PXE sizes and the PXE API's
//! scratch size. `build.rs` includes this file and writes every entry of [`ASM`] as
//! `.set NAME, value` into `layout.s`, which the prefix and the boot records assemble with; the
//! core checks the same constants against its Rust types (`size_of`, `offset_of`) at compile
//! time (`bootinfo.rs`, `pxeapi.rs`), so the build fails when the two sides disagree.
//!
//! Plain `u32` constants, no dependencies: this file is also compiled into the build script.
// Some constants only the assembly uses (through `ASM`).
#![allow(dead_code)]

/// Where the boot records load SOFTPXE.SYS (segment; physical 0x10000).
pub const SYS_LOAD_SEG: u32 = 0x1000;
/// E820 entries the prefix collects at most.
pub const E820_MAX: u32 = 32;
/// Bytes of one E820 entry (ACPI 3 form).
pub const E820_ENTRY_SIZE: u32 = 24;
/// Bytes of PXENV+ (PXE 2.1 §4.4.1) and !PXE (§4.4.2) in the resident part.
pub const PXENV_SIZE: u32 = 44;
pub const BANG_SIZE: u32 = 88;
/// The PXE API's real-mode scratch area in the resident part (at least
/// `softpxe_pxe::SCRATCH_SIZE`, rounded up to whole 256-byte pages).
pub const SCRATCH_SIZE: u32 = 5376;
/// The NBP's stack in the resident part.
pub const NBP_STACK_SIZE: u32 = 3072;

/// `BootInfo` field offsets (`bootinfo.rs`).
pub const BI_DRIVE: u32 = 6;
pub const BI_A20: u32 = 7;
pub const BI_MEMSRC: u32 = 8;
pub const BI_E820N: u32 = 9;
pub const BI_BASE_BEFORE: u32 = 10;
pub const BI_BASE_AFTER: u32 = 12;
pub const BI_RES_SEG: u32 = 14;
pub const BI_RES_SIZE: u32 = 16;
pub const BI_RM_CALL: u32 = 20;
pub const BI_IMAGE_PHYS: u32 = 24;
pub const BI_CORE_PHYS: u32 = 28;
pub const BI_CORE_SIZE: u32 = 32;
pub const BI_BPB: u32 = 36;
pub const BI_SCRATCH_OFF: u32 = 100;
pub const BI_SCRATCH_SIZE: u32 = 102;
pub const BI_E820: u32 = 104;
pub const BI_PXENV_ENTRY: u32 = BI_E820 + E820_MAX * E820_ENTRY_SIZE;
pub const BI_BANG_ENTRY: u32 = BI_PXENV_ENTRY + 2;
pub const BI_INT1A: u32 = BI_PXENV_ENTRY + 4;
pub const BI_INT15: u32 = BI_PXENV_ENTRY + 6;
pub const BI_RES_DATA: u32 = BI_PXENV_ENTRY + 8;
pub const BI_PXENV_STRUCT: u32 = BI_PXENV_ENTRY + 10;
pub const BI_BANG_STRUCT: u32 = BI_PXENV_ENTRY + 12;
pub const BI_SIZE: u32 = BI_PXENV_ENTRY + 16;

/// Every constant the assembly sees, by its assembly name.
pub const ASM: &[(&str, u32)] = &[
    ("SYS_LOAD_SEG", SYS_LOAD_SEG),
    ("E820_MAX", E820_MAX),
    ("E820_ENTRY_SIZE", E820_ENTRY_SIZE),
    ("PXENV_SIZE", PXENV_SIZE),
    ("BANG_SIZE", BANG_SIZE),
    ("SCRATCH_SIZE", SCRATCH_SIZE),
    ("NBP_STACK_SIZE", NBP_STACK_SIZE),
    ("BI_DRIVE", BI_DRIVE),
    ("BI_A20", BI_A20),
    ("BI_MEMSRC", BI_MEMSRC),
    ("BI_E820N", BI_E820N),
    ("BI_BASE_BEFORE", BI_BASE_BEFORE),
    ("BI_BASE_AFTER", BI_BASE_AFTER),
    ("BI_RES_SEG", BI_RES_SEG),
    ("BI_RES_SIZE", BI_RES_SIZE),
    ("BI_RM_CALL", BI_RM_CALL),
    ("BI_IMAGE_PHYS", BI_IMAGE_PHYS),
    ("BI_CORE_PHYS", BI_CORE_PHYS),
    ("BI_CORE_SIZE", BI_CORE_SIZE),
    ("BI_BPB", BI_BPB),
    ("BI_SCRATCH_OFF", BI_SCRATCH_OFF),
    ("BI_SCRATCH_SIZE", BI_SCRATCH_SIZE),
    ("BI_E820", BI_E820),
    ("BI_PXENV_ENTRY", BI_PXENV_ENTRY),
    ("BI_BANG_ENTRY", BI_BANG_ENTRY),
    ("BI_INT1A", BI_INT1A),
    ("BI_INT15", BI_INT15),
    ("BI_RES_DATA", BI_RES_DATA),
    ("BI_PXENV_STRUCT", BI_PXENV_STRUCT),
    ("BI_BANG_STRUCT", BI_BANG_STRUCT),
    ("BI_SIZE", BI_SIZE),
];
