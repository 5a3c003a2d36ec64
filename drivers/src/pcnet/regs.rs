//! AMD PCnet-PCI II (Am79C970A) registers, bits, the initialization block and the 32-bit
//! (SWSTYLE 2) descriptors (layer `drivers/`), named as in the Am79C970A data sheet (AMD
//! publication 19436): "Word I/O Mode" (I/O map), "Control and Status Registers" (CSR0, CSR1/2,
//! CSR3, CSR15), "Bus Configuration Registers" (BCR4, BCR18, BCR20), "Initialization Block",
//! "Receive Descriptors" and "Transmit Descriptors" (SWSTYLE = 2 layouts).

use bitflags::bitflags;

/// Address PROM, bytes 0–5: the permanent MAC (byte reads in word I/O mode).
pub const APROM: u16 = 0x00;
/// Register Data Port: the CSR that RAP selects (16-bit in WIO mode).
pub const RDP: u16 = 0x10;
/// Register Address Port: CSR/BCR number (16-bit in WIO mode).
pub const RAP: u16 = 0x12;
/// RESET register: a 16-bit read performs a software reset (S_RESET) in WIO mode.
pub const RESET: u16 = 0x14;
/// BCR Data Port: the BCR that RAP selects (16-bit in WIO mode).
pub const BDP: u16 = 0x16;

/// CSR0: controller status and control.
pub const CSR0: u16 = 0;
/// CSR1: initialization block address, bits 15:0.
pub const CSR1: u16 = 1;
/// CSR2: initialization block address, bits 31:16 (SSIZE32 = 1).
pub const CSR2: u16 = 2;
/// CSR3: interrupt masks and deferral control.
pub const CSR3: u16 = 3;
/// CSR15: mode (copied from the initialization block's MODE at INIT).
pub const CSR15: u16 = 15;
/// CSR88: chip ID, low half (bits 27:12 of the 32-bit ID are the part number).
pub const CSR88: u16 = 88;
/// BCR4: LED0 status; with LNKSTE (bit 6) set, LEDOUT (bit 15) reads the link status.
pub const BCR4: u16 = 4;
/// BCR18: burst and bus control (DWIO, bit 7, is read only here).
pub const BCR18: u16 = 18;
/// BCR20: software style (SWSTYLE 7:0, SSIZE32 bit 8 set by the chip for styles 1–3).
pub const BCR20: u16 = 20;

/// BCR20 SWSTYLE = 2: PCnet-PCI 32-bit structures, address word first.
pub const SWSTYLE_PCNET_PCI: u16 = 2;
/// BCR20 bit 8: 32-bit initialization block and descriptors in force.
pub const BCR20_SSIZE32: u16 = 1 << 8;
/// BCR4 bit 6: LED0 shows link status.
pub const BCR4_LNKSTE: u16 = 1 << 6;
/// BCR4 bit 15: LED0 output (link up when LNKSTE is the only enable).
pub const BCR4_LEDOUT: u16 = 1 << 15;
/// BCR18 bit 7: the chip is latched in double-word I/O mode.
pub const BCR18_DWIO: u16 = 1 << 7;

bitflags! {
    /// CSR0 bits (IDON, TINT, RINT, MERR, MISS, CERR, BABL are write-1-to-clear; INIT, STRT,
    /// STOP, TDMD are write-1-to-act, writing 0 does nothing).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Csr0: u16 {
        /// Read the initialization block.
        const INIT = 1 << 0;
        /// Start transmitting and receiving.
        const STRT = 1 << 1;
        /// Stop all DMA (set after reset).
        const STOP = 1 << 2;
        /// Transmit demand: look at the transmit ring now.
        const TDMD = 1 << 3;
        /// Transmitter on.
        const TXON = 1 << 4;
        /// Receiver on.
        const RXON = 1 << 5;
        /// Interrupt enable (never set: the driver polls).
        const IENA = 1 << 6;
        /// Interrupt flag.
        const INTR = 1 << 7;
        /// Initialization done.
        const IDON = 1 << 8;
        /// Transmit interrupt.
        const TINT = 1 << 9;
        /// Receive interrupt.
        const RINT = 1 << 10;
        /// Memory error.
        const MERR = 1 << 11;
        /// Missed frame (no receive descriptor owned by the chip).
        const MISS = 1 << 12;
        /// Collision error.
        const CERR = 1 << 13;
        /// Babble.
        const BABL = 1 << 14;
        /// Any of BABL, CERR, MISS, MERR.
        const ERR = 1 << 15;
    }
}

/// CSR3: mask every interrupt source (BABLM, MISSM, MERRM, RINTM, TINTM, IDONM).
pub const CSR3_MASK_ALL: u16 = 0x5F00;

bitflags! {
    /// CSR15 / initialization block MODE bits used here.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Mode: u16 {
        /// Disable the receiver.
        const DRX = 1 << 0;
        /// Disable the transmitter.
        const DTX = 1 << 1;
        /// Loopback.
        const LOOP = 1 << 2;
        /// Disable transmit FCS generation.
        const DXMTFCS = 1 << 3;
        /// Disable reception of the physical (station) address.
        const DRCVPA = 1 << 13;
        /// Disable reception of broadcast.
        const DRCVBC = 1 << 14;
        /// Promiscuous.
        const PROM = 1 << 15;
    }
}

/// Initialization block (SSIZE32 = 1), 28 bytes, dword aligned: MODE at 0, RLEN/TLEN
/// (log2 of the ring lengths in bits 7:4 of bytes 2 and 3), PADR at 4, LADRF at 12, RDRA at 20,
/// TDRA at 24.
pub mod init {
    /// MODE (u16), the CSR15 value.
    pub const MODE: usize = 0;
    /// RLEN byte: log2(receive ring length) << 4.
    pub const RLEN: usize = 2;
    /// TLEN byte: log2(transmit ring length) << 4.
    pub const TLEN: usize = 3;
    /// PADR, 6 bytes: the station address, first octet first.
    pub const PADR: usize = 4;
    /// LADRF, 8 bytes: the logical address (multicast hash) filter.
    pub const LADRF: usize = 12;
    /// RDRA (u32): receive ring base, 16-byte aligned.
    pub const RDRA: usize = 20;
    /// TDRA (u32): transmit ring base, 16-byte aligned.
    pub const TDRA: usize = 24;
    /// Length of the block.
    pub const LEN: usize = 28;
}

/// Descriptor size with SWSTYLE 2 (four dwords; the ring must be 16-byte aligned).
pub const DESC_SIZE: usize = 16;
/// Offset of RMD0/TMD0: buffer address.
pub const DESC_ADDR: usize = 0;
/// Offset of RMD1/TMD1: BCNT (15:0, with ONES in 15:12) and status (31:16).
pub const DESC_CTRL: usize = 4;
/// Offset of the status half of RMD1/TMD1 (polled on its own).
pub const DESC_STATUS: usize = 6;
/// Offset of RMD2 (MCNT in 11:0) / TMD2 (transmit error bits).
pub const DESC_MISC: usize = 8;

/// RMD1/TMD1 bits 15:12: must be ones.
pub const ONES: u32 = 0xF000;

/// The BCNT field for a buffer of `len` bytes (1..=4095): the two's complement of the length in
/// bits 11:0, ONES in 15:12.
pub const fn bcnt(len: usize) -> u32 {
    ONES | (0u32.wrapping_sub(len as u32) & 0x0FFF)
}

bitflags! {
    /// Receive descriptor status (RMD1 31:16, as the u16 at [`DESC_STATUS`]).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct RxStatus: u16 {
        /// Broadcast address match.
        const BAM = 1 << 4;
        /// Logical (hash) address match.
        const LAFM = 1 << 5;
        /// Physical address match.
        const PAM = 1 << 6;
        /// Bus parity error.
        const BPE = 1 << 7;
        /// End of packet.
        const ENP = 1 << 8;
        /// Start of packet.
        const STP = 1 << 9;
        /// Buffer error.
        const BUFF = 1 << 10;
        /// CRC error.
        const CRC = 1 << 11;
        /// Overflow.
        const OFLO = 1 << 12;
        /// Framing error.
        const FRAM = 1 << 13;
        /// Any error.
        const ERR = 1 << 14;
        /// Owned by the chip.
        const OWN = 1 << 15;
    }
}

bitflags! {
    /// Transmit descriptor status (TMD1 31:16, as the u16 at [`DESC_STATUS`]).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct TxStatus: u16 {
        /// End of packet.
        const ENP = 1 << 8;
        /// Start of packet.
        const STP = 1 << 9;
        /// Deferred.
        const DEF = 1 << 10;
        /// One retry.
        const ONE = 1 << 11;
        /// More than one retry.
        const MORE = 1 << 12;
        /// Add FCS (SWSTYLE 2: only meaningful with CSR15.DXMTFCS set).
        const ADD_FCS = 1 << 13;
        /// Any error (details in TMD2).
        const ERR = 1 << 14;
        /// Owned by the chip.
        const OWN = 1 << 15;
    }
}

/// RMD2 bits 11:0: message byte count, FCS included.
pub const MCNT_MASK: u32 = 0x0FFF;

/// The LADRF bit of a multicast address (data sheet "Receive Operation", logical address
/// filtering): the CRC-32 of the six address bytes (bits in transmission order, i.e. least
/// significant first, polynomial 04C11DB7h in its reflected form EDB88320h, initial value all
/// ones, no final inversion); its upper 6 bits index the 64-bit LADRF: bit `h % 8` of LADRF
/// byte `h / 8`.
pub fn ladrf_hash(mac: &[u8; 6]) -> u8 {
    let mut crc = u32::MAX;
    for &byte in mac {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                crc >> 1 ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    (crc >> 26) as u8
}
