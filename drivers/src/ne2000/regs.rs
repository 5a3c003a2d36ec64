//! DP8390 / NE2000 register map (National Semiconductor DP8390D datasheet §10 "Internal
//! Registers": Table 10-1 page 0–2 address assignments, §10.1–10.3 bit layouts) and the NE2000
//! board's ports around the chip (data port at +10h, reset port at +1Fh).

use bitflags::bitflags;

/// Command register (every page, offset 00h).
pub const CR: u16 = 0x00;

// Page 0, write.
/// Page start: first page of the receive ring.
pub const PSTART: u16 = 0x01;
/// Page stop: the page after the receive ring.
pub const PSTOP: u16 = 0x02;
/// Boundary: the last ring page the host has not yet freed (the chip stops short of it).
pub const BNRY: u16 = 0x03;
/// Transmit page start (write) / transmit status (read).
pub const TPSR: u16 = 0x04;
/// Transmit status (page 0 read).
pub const TSR: u16 = 0x04;
/// Transmit byte count, low byte.
pub const TBCR0: u16 = 0x05;
/// Transmit byte count, high byte.
pub const TBCR1: u16 = 0x06;
/// Interrupt status (write 1 to clear).
pub const ISR: u16 = 0x07;
/// Remote start address, low byte.
pub const RSAR0: u16 = 0x08;
/// Remote start address, high byte.
pub const RSAR1: u16 = 0x09;
/// Remote byte count, low byte.
pub const RBCR0: u16 = 0x0A;
/// Remote byte count, high byte.
pub const RBCR1: u16 = 0x0B;
/// Receive configuration (write) / receive status (read).
pub const RCR: u16 = 0x0C;
/// Transmit configuration.
pub const TCR: u16 = 0x0D;
/// Data configuration.
pub const DCR: u16 = 0x0E;
/// Interrupt mask.
pub const IMR: u16 = 0x0F;
/// RTL8029AS page 0 read at 0Ah: ID byte 'P' (50h).
pub const RTL8029_ID0: u16 = 0x0A;
/// RTL8029AS page 0 read at 0Bh: ID byte 'C' (43h).
pub const RTL8029_ID1: u16 = 0x0B;

// Page 1.
/// Physical address registers PAR0–5 (01h–06h): the station address.
pub const PAR0: u16 = 0x01;
/// Current page: where the chip writes the next received frame.
pub const CURR: u16 = 0x07;
/// Multicast address registers MAR0–7 (08h–0Fh).
pub const MAR0: u16 = 0x08;

/// NE2000 board: the remote-DMA data port (8 or 16 bits wide, per DCR.WTS).
pub const DATA: u16 = 0x10;
/// NE2000 board: reading (then writing) this port resets the board.
pub const RESET: u16 = 0x1F;
/// I/O ports an NE2000 decodes.
pub const IO_SIZE: u16 = 0x20;

bitflags! {
    /// CR bits (§10.3.1). Page select in PS1:PS0 (bits 7:6), remote DMA command in RD2:RD0.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Cr: u8 {
        /// Stop: take the chip off line (reset state).
        const STP = 1 << 0;
        /// Start: activate the chip after a reset/stop.
        const STA = 1 << 1;
        /// Transmit packet (cleared by the chip when the transmission ends).
        const TXP = 1 << 2;
        /// RD = 001b: remote read.
        const RD_READ = 1 << 3;
        /// RD = 010b: remote write.
        const RD_WRITE = 1 << 4;
        /// RD = 1xxb: abort / complete remote DMA.
        const RD_ABORT = 1 << 5;
        /// PS = 01b: register page 1.
        const PAGE1 = 1 << 6;
        /// PS = 10b: register page 2.
        const PAGE2 = 1 << 7;
    }
}

bitflags! {
    /// ISR and IMR bits (§10.3.2, §10.3.3).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Isr: u8 {
        /// Packet received with no errors.
        const PRX = 1 << 0;
        /// Packet transmitted with no errors.
        const PTX = 1 << 1;
        /// Receive error.
        const RXE = 1 << 2;
        /// Transmit error (aborted on excessive collisions or FIFO underrun).
        const TXE = 1 << 3;
        /// Overwrite warning: the receive ring is exhausted.
        const OVW = 1 << 4;
        /// A tally counter's MSB is set.
        const CNT = 1 << 5;
        /// Remote DMA complete.
        const RDC = 1 << 6;
        /// Reset status: the chip is in its reset state (not cleared by writing ISR).
        const RST = 1 << 7;
    }
}

bitflags! {
    /// DCR bits (§10.3.4); FT1:FT0 in bits 6:5.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Dcr: u8 {
        /// Word transfer select: 16-bit remote DMA.
        const WTS = 1 << 0;
        /// Byte order (0: x86 little-endian).
        const BOS = 1 << 1;
        /// Long address (32-bit local DMA).
        const LAS = 1 << 2;
        /// Loopback select: 1 = normal operation (0 = loopback).
        const LS = 1 << 3;
        /// Auto-initialise remote (send-packet command).
        const AR = 1 << 4;
        /// FIFO threshold FT = 10b: 8 bytes (4 words).
        const FT_8 = 1 << 6;
    }
}

bitflags! {
    /// RCR bits (§10.3.6).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Rcr: u8 {
        /// Save error packets.
        const SEP = 1 << 0;
        /// Accept runt packets.
        const AR = 1 << 1;
        /// Accept broadcast.
        const AB = 1 << 2;
        /// Accept multicast whose hash bit is set in MAR0–7.
        const AM = 1 << 3;
        /// Promiscuous physical: every physical (unicast) address.
        const PRO = 1 << 4;
        /// Monitor mode: check addresses but buffer nothing.
        const MON = 1 << 5;
    }
}

/// TCR = 00h: normal transmit, CRC appended.
pub const TCR_NORMAL: u8 = 0x00;
/// TCR LB = 01b (bits 2:1): internal loopback (used while setting up, §11 step 5).
pub const TCR_LOOPBACK: u8 = 0x02;

bitflags! {
    /// Receive status byte (RSR §10.3.8), also the first byte of each ring header.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Rsr: u8 {
        /// Packet received intact.
        const PRX = 1 << 0;
        /// CRC error.
        const CRC = 1 << 1;
        /// Frame alignment error.
        const FAE = 1 << 2;
        /// FIFO overrun.
        const FO = 1 << 3;
        /// Missed packet.
        const MPA = 1 << 4;
        /// Physical (0) or multicast/broadcast (1) destination.
        const PHY = 1 << 5;
        /// Receiver disabled (monitor mode).
        const DIS = 1 << 6;
        /// Deferring.
        const DFR = 1 << 7;
    }
}
