//! The installation-check structures PXENV+ and !PXE (PXE 2.1 §4.1–§4.3) with builders that fill
//! in lengths and checksums, and BOOTPLAYER, the cached DHCP packet layout of GET_CACHED_INFO.
//!
//! BOOTPLAYER size: the PXE 2.1 header defines the vendor area as `BOOTP_DHCPVEND` = 1024 bytes
//! (Intel's older `bootp.h` used 312, the RFC 2131 minimum). iPXE (`pxe_api.h`), SYSLINUX,
//! GRUB's and Microsoft's PXE headers all use 1024, so NBPs expect a 236 + 1024 = 1260-byte
//! buffer; that is the size of our persistent copies and what `BufferSize` reports.

use super::{byte_sum, SegOff16};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// A segment descriptor in !PXE: selector (real-mode segment here), physical base, size.
#[doc(alias = "SEGDESC")]
#[doc(alias = "SEGDESC_t")]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C, packed)]
pub struct SegDesc {
    /// Segment selector (for a real-mode-only stack: the real-mode segment).
    pub selector: u16,
    /// Physical base address.
    pub phys: u32,
    /// Size in bytes.
    pub size: u16,
}
const _: () = assert!(core::mem::size_of::<SegDesc>() == 8);

/// The PXENV+ structure (44 bytes).
#[doc(alias = "PXENV+")]
#[doc(alias = "s_PXENV")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C, packed)]
#[allow(non_snake_case)]
pub struct PxenvPlus {
    pub Signature: [u8; 6],
    pub Version: u16,
    pub Length: u8,
    pub Checksum: u8,
    pub RMEntry: SegOff16,
    pub PMOffset: u32,
    pub PMSelector: u16,
    pub StackSeg: u16,
    pub StackSize: u16,
    pub BC_CodeSeg: u16,
    pub BC_CodeSize: u16,
    pub BC_DataSeg: u16,
    pub BC_DataSize: u16,
    pub UNDIDataSeg: u16,
    pub UNDIDataSize: u16,
    pub UNDICodeSeg: u16,
    pub UNDICodeSize: u16,
    pub PXEPtr: SegOff16,
}
const _: () = assert!(core::mem::size_of::<PxenvPlus>() == 44);

/// The !PXE structure (88 bytes, 7 segment descriptors).
#[doc(alias = "!PXE")]
#[doc(alias = "s_PXE")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C, packed)]
#[allow(non_snake_case)]
pub struct BangPxe {
    pub Signature: [u8; 4],
    pub StructLength: u8,
    pub StructCksum: u8,
    pub StructRev: u8,
    pub reserved_1: u8,
    pub UNDIROMID: SegOff16,
    pub BaseROMID: SegOff16,
    pub EntryPointSP: SegOff16,
    pub EntryPointESP: SegOff16,
    pub StatusCallout: SegOff16,
    pub reserved_2: u8,
    pub SegDescCnt: u8,
    pub FirstSelector: u16,
    pub Stack: SegDesc,
    pub UNDIData: SegDesc,
    pub UNDICode: SegDesc,
    pub UNDICodeWrite: SegDesc,
    pub BC_Data: SegDesc,
    pub BC_Code: SegDesc,
    pub BC_CodeWrite: SegDesc,
}
const _: () = assert!(core::mem::size_of::<BangPxe>() == 88);

/// Length of BOOTPLAYER's vendor area (`BOOTP_DHCPVEND`).
pub const BOOTP_DHCPVEND: usize = 1024;

/// The cached DHCP packet as GET_CACHED_INFO hands it out: the BOOTP header + 1024 vendor bytes.
#[doc(alias = "BOOTPLAYER")]
#[doc(alias = "bootph")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C, packed)]
#[allow(non_snake_case)]
pub struct BootPlayer {
    pub opcode: u8,
    pub Hardware: u8,
    pub Hardlen: u8,
    pub Gatehops: u8,
    pub ident: u32,
    pub seconds: u16,
    pub Flags: u16,
    pub cip: [u8; 4],
    pub yip: [u8; 4],
    pub sip: [u8; 4],
    pub gip: [u8; 4],
    pub CAddr: [u8; 16],
    pub Sname: [u8; 64],
    pub bootfile: [u8; 128],
    /// Magic cookie + DHCP options.
    pub vendor: [u8; BOOTP_DHCPVEND],
}

/// `sizeof(BOOTPLAYER)`: 1260.
pub const BOOTPLAYER_SIZE: usize = core::mem::size_of::<BootPlayer>();
const _: () = assert!(BOOTPLAYER_SIZE == 1260);

/// A real-mode segment and its size, for PXENV+ and !PXE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// Real-mode segment (physical base = segment * 16).
    pub segment: u16,
    /// Size in bytes.
    pub size: u16,
}

impl Segment {
    fn desc(self) -> SegDesc {
        SegDesc {
            selector: self.segment,
            phys: u32::from(self.segment) * 16,
            size: self.size,
        }
    }
}

/// Where the firmware put its entry points and segments; input to [`pxenv_plus`] / [`bang_pxe`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StructConfig {
    /// PXENV+ real-mode entry (`RMEntry`; BX = opcode, ES:DI = parameters).
    pub rm_entry: SegOff16,
    /// !PXE 16-bit entry (`EntryPointSP`; stack: opcode, param offset, param segment).
    pub entry_sp: SegOff16,
    /// !PXE 32-bit-stack entry (`EntryPointESP`); 0:0 if not offered.
    pub entry_esp: SegOff16,
    /// Where the !PXE structure lives (PXENV+ `PXEPtr`).
    pub pxe_ptr: SegOff16,
    /// `UNDIROMID` (0:0: no ROM ID structure).
    pub undi_rom_id: SegOff16,
    /// `BaseROMID` (0:0: no ROM ID structure).
    pub base_rom_id: SegOff16,
    /// Stack segment for protected-mode callers.
    pub stack: Segment,
    /// UNDI data segment.
    pub undi_data: Segment,
    /// UNDI code segment (PXENV+ `RMEntry` should be reachable at UNDI_CS:0 too).
    pub undi_code: Segment,
    /// Base-code data segment.
    pub bc_data: Segment,
    /// Base-code code segment.
    pub bc_code: Segment,
}

/// Checksum byte that makes `bytes` (with the checksum byte itself 0) sum to 0.
fn fix_checksum(bytes: &[u8]) -> u8 {
    0u8.wrapping_sub(byte_sum(bytes))
}

/// The PXENV+ structure for `cfg`: version 2.1, length 44, checksum set.
pub fn pxenv_plus(cfg: &StructConfig) -> PxenvPlus {
    let mut s = PxenvPlus {
        Signature: *b"PXENV+",
        Version: 0x0201,
        Length: 44,
        Checksum: 0,
        RMEntry: cfg.rm_entry,
        PMOffset: 0,
        PMSelector: 0,
        StackSeg: cfg.stack.segment,
        StackSize: cfg.stack.size,
        BC_CodeSeg: cfg.bc_code.segment,
        BC_CodeSize: cfg.bc_code.size,
        BC_DataSeg: cfg.bc_data.segment,
        BC_DataSize: cfg.bc_data.size,
        UNDIDataSeg: cfg.undi_data.segment,
        UNDIDataSize: cfg.undi_data.size,
        UNDICodeSeg: cfg.undi_code.segment,
        UNDICodeSize: cfg.undi_code.size,
        PXEPtr: cfg.pxe_ptr,
    };
    s.Checksum = fix_checksum(s.as_bytes());
    s
}

/// The !PXE structure for `cfg`: revision 0, length 88, 7 descriptors, no status callout
/// (`StatusCallout` = FFFF:FFFF), `FirstSelector` 0 (real-mode entry only), checksum set.
pub fn bang_pxe(cfg: &StructConfig) -> BangPxe {
    let mut s = BangPxe {
        Signature: *b"!PXE",
        StructLength: 88,
        StructCksum: 0,
        StructRev: 0,
        reserved_1: 0,
        UNDIROMID: cfg.undi_rom_id,
        BaseROMID: cfg.base_rom_id,
        EntryPointSP: cfg.entry_sp,
        EntryPointESP: cfg.entry_esp,
        StatusCallout: SegOff16::new(0xFFFF, 0xFFFF),
        reserved_2: 0,
        SegDescCnt: 7,
        FirstSelector: 0,
        Stack: cfg.stack.desc(),
        UNDIData: cfg.undi_data.desc(),
        UNDICode: cfg.undi_code.desc(),
        UNDICodeWrite: cfg.undi_code.desc(),
        BC_Data: cfg.bc_data.desc(),
        BC_Code: cfg.bc_code.desc(),
        BC_CodeWrite: cfg.bc_code.desc(),
    };
    s.StructCksum = fix_checksum(s.as_bytes());
    s
}
