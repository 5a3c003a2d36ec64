//! DEC 21143 registers, descriptor bits and setup frames (layer `drivers/`), named as in the
//! DECchip 21143 PCI/CardBus 10/100-Mb/s Ethernet LAN Controller Hardware Reference Manual
//! (EC-QWC3C-TE): chapter 3 (CSR0–CSR15, which sit 8 bytes apart in both the I/O and the memory
//! window), chapter 4 "Host Communication" (receive and transmit descriptors RDES0–3/TDES0–3,
//! setup frames for perfect and imperfect filtering).

use bitflags::bitflags;
use core::mem::{offset_of, size_of};

/// CSR0: bus mode.
pub const CSR0: u16 = 0x00;
/// CSR1: transmit poll demand (any value written restarts a suspended transmitter).
pub const CSR1: u16 = 0x08;
/// CSR2: receive poll demand.
pub const CSR2: u16 = 0x10;
/// CSR3: receive list base address (32-bit physical).
pub const CSR3: u16 = 0x18;
/// CSR4: transmit list base address (32-bit physical).
pub const CSR4: u16 = 0x20;
/// CSR5: status (interrupt causes write-1-to-clear; process states read only).
pub const CSR5: u16 = 0x28;
/// CSR6: operation mode.
pub const CSR6: u16 = 0x30;
/// CSR7: interrupt enable.
pub const CSR7: u16 = 0x38;
/// CSR9: boot ROM, serial ROM and MII management.
pub const CSR9: u16 = 0x48;
/// CSR12: SIA status (link status and autonegotiation state on the 21143).
pub const CSR12: u16 = 0x60;
/// Size of the CSR window (16 CSRs, 8 bytes apart).
pub const CSR_WINDOW: u32 = 0x80;

bitflags! {
    /// CSR0 bits (DSL in 6:2, PBL in 13:8, CAL in 15:14, TAP in 19:17).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Csr0: u32 {
        /// Software reset (cleared by the chip when the reset is done).
        const SWR = 1 << 0;
        /// Bus arbitration: 1 = round robin, 0 = receive has priority.
        const BAR = 1 << 1;
        /// Big-endian data buffers.
        const BLE = 1 << 7;
        /// Big-endian descriptors.
        const DBO = 1 << 20;
        /// Memory read multiple.
        const RME = 1 << 21;
        /// Memory read line.
        const RLE = 1 << 23;
        /// Memory write and invalidate.
        const WIE = 1 << 24;
    }
}

/// CSR0.PBL: programmable burst length, 16 longwords.
pub const CSR0_PBL_16: u32 = 16 << 8;
/// CSR0.CAL = 01b: cache alignment to 8-longword (32-byte) boundaries, the i586 line size.
pub const CSR0_CAL_8: u32 = 1 << 14;
/// The bus mode the driver programs: descriptor skip length 0 (descriptors are contiguous,
/// ring mode), burst 16 longwords, 32-byte cache alignment, no transmit auto-polling, plain
/// memory read/write commands, little-endian.
pub const CSR0_BUS_MODE: u32 = CSR0_PBL_16 | CSR0_CAL_8;

bitflags! {
    /// CSR5 interrupt-cause bits (write 1 to clear).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Csr5: u32 {
        /// Transmit interrupt.
        const TI = 1 << 0;
        /// Transmit process stopped.
        const TPS = 1 << 1;
        /// Transmit buffer unavailable.
        const TU = 1 << 2;
        /// Receive interrupt.
        const RI = 1 << 6;
        /// Receive buffer unavailable.
        const RU = 1 << 7;
        /// Receive process stopped.
        const RPS = 1 << 8;
        /// Fatal bus error.
        const FBE = 1 << 13;
        /// Abnormal interrupt summary.
        const AIS = 1 << 15;
        /// Normal interrupt summary.
        const NIS = 1 << 16;
    }
}

/// CSR5 bits 19:17: receive process state (0 = stopped).
pub const CSR5_RS_SHIFT: u32 = 17;
/// CSR5 bits 22:20: transmit process state (0 = stopped).
pub const CSR5_TS_SHIFT: u32 = 20;
/// Every write-1-to-clear cause in CSR5 (bits 16:0 and 27:26).
pub const CSR5_CLEAR_ALL: u32 = 0x0C01_FFFF;

bitflags! {
    /// CSR6 operation-mode bits (OM in 11:10, TR in 15:14).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Csr6: u32 {
        /// Hash/perfect filtering mode (read only on the 21143: set by the setup frame).
        const HP = 1 << 0;
        /// Start/stop receive.
        const SR = 1 << 1;
        /// Hash only (read only on the 21143).
        const HO = 1 << 2;
        /// Pass bad frames.
        const PB = 1 << 3;
        /// Inverse filtering (read only on the 21143).
        const IF = 1 << 4;
        /// Promiscuous.
        const PR = 1 << 6;
        /// Pass all multicast.
        const PM = 1 << 7;
        /// Full duplex.
        const FD = 1 << 9;
        /// Start/stop transmission.
        const ST = 1 << 13;
        /// Port select: 1 = MII/SYM port, 0 = SIA (10 Mb/s serial).
        const PS = 1 << 18;
        /// Heartbeat disable (set for MII operation).
        const HBD = 1 << 19;
        /// Store and forward: transmit only whole frames (no FIFO underruns).
        const SF = 1 << 21;
        /// Must be one (21143).
        const MBO = 1 << 25;
        /// Receive all.
        const RA = 1 << 30;
    }
}

bitflags! {
    /// CSR9 serial ROM and MII management bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Csr9: u32 {
        /// Serial ROM chip select.
        const SR_CS = 1 << 0;
        /// Serial ROM clock.
        const SR_SK = 1 << 1;
        /// Serial ROM data in (to the ROM).
        const SR_DI = 1 << 2;
        /// Serial ROM data out (from the ROM, read only).
        const SR_DO = 1 << 3;
        /// Serial ROM select.
        const SR = 1 << 11;
        /// Boot ROM select.
        const BR = 1 << 12;
        /// Write operation.
        const WR = 1 << 13;
        /// Read operation.
        const RD = 1 << 14;
        /// MII management clock.
        const MDC = 1 << 16;
        /// MII management data out (to the PHY).
        const MDO = 1 << 17;
        /// MII management operation mode: 1 = read (the PHY drives MDIO).
        const MII = 1 << 18;
        /// MII management data in (from the PHY).
        const MDI = 1 << 19;
    }
}

bitflags! {
    /// CSR12 bits on the 21143 (ANS in 14:12).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Csr12: u32 {
        /// 100 Mb/s link status: 1 = link fail.
        const LS100 = 1 << 1;
        /// 10 Mb/s link status: 1 = link fail.
        const LS10 = 1 << 2;
    }
}

bitflags! {
    /// RDES0 status bits (FL in 29:16).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Rdes0: u32 {
        /// CRC error.
        const CE = 1 << 1;
        /// Frame too long.
        const TL = 1 << 7;
        /// Last descriptor of a frame.
        const LS = 1 << 8;
        /// First descriptor of a frame.
        const FS = 1 << 9;
        /// Multicast frame.
        const MF = 1 << 10;
        /// Runt frame.
        const RF = 1 << 11;
        /// Descriptor error (frame truncated).
        const DE = 1 << 14;
        /// Error summary.
        const ES = 1 << 15;
        /// Filtering fail (frame passed only because of PR/RA).
        const FF = 1 << 30;
        /// Owned by the chip.
        const OWN = 1 << 31;
    }
}

/// RDES0.FL: frame length including the 4-byte FCS, bits 29:16.
pub const fn rdes0_frame_len(rdes0: u32) -> usize {
    ((rdes0 >> 16) & 0x3FFF) as usize
}

bitflags! {
    /// RDES1 control bits (RBS1 in 10:0, RBS2 in 21:11).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Rdes1: u32 {
        /// Second address chained (not used: ring mode).
        const RCH = 1 << 24;
        /// Receive end of ring: the next descriptor is at CSR3.
        const RER = 1 << 25;
    }
}

bitflags! {
    /// TDES0 status bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Tdes0: u32 {
        /// Underflow error.
        const UF = 1 << 1;
        /// Error summary.
        const ES = 1 << 15;
        /// Owned by the chip.
        const OWN = 1 << 31;
    }
}

bitflags! {
    /// TDES1 control bits (TBS1 in 10:0, TBS2 in 21:11).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Tdes1: u32 {
        /// Filtering type, bit 0 (with FT1: 00 perfect, 01 hash, 10 inverse, 11 hash only).
        const FT0 = 1 << 22;
        /// Disable padding of short frames.
        const DPD = 1 << 23;
        /// Second address chained (not used: ring mode).
        const TCH = 1 << 24;
        /// Transmit end of ring: the next descriptor is at CSR4.
        const TER = 1 << 25;
        /// Add-CRC disable.
        const AC = 1 << 26;
        /// Setup frame.
        const SET = 1 << 27;
        /// Filtering type, bit 1.
        const FT1 = 1 << 28;
        /// First segment of a frame.
        const FS = 1 << 29;
        /// Last segment of a frame.
        const LS = 1 << 30;
        /// Interrupt on completion.
        const IC = 1 << 31;
    }
}

/// A receive or transmit descriptor in ring mode (RDES0–3 / TDES0–3, HRM chapter 4).
/// The driver writes the fields one by one, DES0 (with OWN) last.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Desc {
    /// Status, with OWN in bit 31.
    pub des0: u32,
    /// Control and buffer sizes.
    pub des1: u32,
    /// Buffer 1 address (32-bit physical).
    pub des2: u32,
    /// Buffer 2 address (unused: one buffer per descriptor).
    pub des3: u32,
}
/// Descriptor size with CSR0.DSL = 0 (descriptors back to back).
pub const DESC_SIZE: usize = size_of::<Desc>();
const _: () = assert!(DESC_SIZE == 16);
/// Byte offset of DES0 in a descriptor.
pub const DES0: usize = offset_of!(Desc, des0);
/// Byte offset of DES1.
pub const DES1: usize = offset_of!(Desc, des1);
/// Byte offset of DES2.
pub const DES2: usize = offset_of!(Desc, des2);
/// Byte offset of DES3.
pub const DES3: usize = offset_of!(Desc, des3);
/// Largest buffer size a descriptor field holds (11 bits).
pub const MAX_BUF_SIZE: usize = 0x7FF;

/// Setup frame length (the chip and QEMU's model take exactly 192 bytes).
pub const SETUP_LEN: usize = 192;
/// Addresses a perfect-filtering setup frame holds.
pub const PERFECT_ENTRIES: usize = 16;
/// Byte offset of the station address in an imperfect (hash) setup frame: longwords 39–41.
pub const HASH_STATION_OFFSET: usize = 156;

/// Stores `mac` as three longwords whose low 16 bits carry two address bytes each (the setup
/// frame format, little-endian: the upper 16 bits of every longword are ignored).
fn put_address(frame: &mut [u8; SETUP_LEN], offset: usize, mac: &[u8; 6]) {
    for (i, pair) in mac.chunks_exact(2).enumerate() {
        frame[offset + 4 * i] = pair[0];
        frame[offset + 4 * i + 1] = pair[1];
    }
}

/// A perfect-filtering setup frame: up to 16 addresses, every unused entry a copy of `filler`
/// (the table has no "empty" marker, so unused slots repeat an address that is wanted anyway).
pub fn perfect_setup_frame(addresses: &[[u8; 6]], filler: &[u8; 6]) -> [u8; SETUP_LEN] {
    let mut frame = [0; SETUP_LEN];
    for i in 0..PERFECT_ENTRIES {
        let mac = addresses.get(i).unwrap_or(filler);
        put_address(&mut frame, 12 * i, mac);
    }
    frame
}

/// The 512-bit hash table index of a destination address: the low 9 bits of the Ethernet
/// CRC-32 of its six bytes, computed least significant bit first from an all-ones register
/// (as the MAC does while the address goes by), without the final complement.
pub fn setup_hash(mac: &[u8; 6]) -> u16 {
    let mut crc = u32::MAX;
    for &byte in mac {
        let mut b = byte;
        for _ in 0..8 {
            let carry = (crc ^ u32::from(b)) & 1;
            crc >>= 1;
            b >>= 1;
            if carry != 0 {
                crc ^= 0xEDB8_8320;
            }
        }
    }
    (crc & 0x1FF) as u16
}

/// An imperfect-filtering setup frame: the 512-bit hash table for `groups` (bit n in the low
/// 16 bits of longword n / 16) and the station address, matched exactly, in longwords 39–41.
pub fn hash_setup_frame(station: &[u8; 6], groups: &[[u8; 6]]) -> [u8; SETUP_LEN] {
    let mut frame = [0; SETUP_LEN];
    for mac in groups {
        let h = usize::from(setup_hash(mac));
        frame[(h / 16) * 4 + (h % 16) / 8] |= 1 << (h % 8);
    }
    put_address(&mut frame, HASH_STATION_OFFSET, station);
    frame
}

/// MII management registers (IEEE 802.3 clause 22) the driver reads.
pub mod mii {
    /// Basic mode control.
    pub const BMCR: u8 = 0;
    /// Basic mode status.
    pub const BMSR: u8 = 1;
    /// Autonegotiation advertisement.
    pub const ANAR: u8 = 4;
    /// Autonegotiation link partner ability.
    pub const ANLPAR: u8 = 5;
    /// BMCR: speed 100 Mb/s (when autonegotiation is off).
    pub const BMCR_SPEED100: u16 = 1 << 13;
    /// BMCR: autonegotiation enabled.
    pub const BMCR_ANENABLE: u16 = 1 << 12;
    /// BMCR: full duplex (when autonegotiation is off).
    pub const BMCR_FULLDPLX: u16 = 1 << 8;
    /// BMSR: link status (latched low).
    pub const BMSR_LSTATUS: u16 = 1 << 2;
    /// ANAR/ANLPAR: 100BASE-TX full duplex.
    pub const AN_100FULL: u16 = 1 << 8;
    /// ANAR/ANLPAR: 100BASE-TX half duplex.
    pub const AN_100HALF: u16 = 1 << 7;
    /// ANAR/ANLPAR: 10BASE-T full duplex.
    pub const AN_10FULL: u16 = 1 << 6;
    /// ANAR/ANLPAR: 10BASE-T half duplex.
    pub const AN_10HALF: u16 = 1 << 5;
}
