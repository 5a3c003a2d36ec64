//! Intel 8255x registers and memory structures (8255x Open Source Software Developer Manual,
//! §6.3 "System Control Block", §6.4 "Command Unit", §6.5 "Receive Unit" and the configure block
//! of §6.4.2.3), as offsets into the I/O BAR (BAR1) and into the driver's DMA memory.

use bitflags::bitflags;

use crate::filter::RxFilter;

/// SCB status word: low byte CU/RU status, high byte STAT/ACK (write 1 to acknowledge).
pub const SCB_STATUS: u16 = 0x00;
/// SCB STAT/ACK byte.
pub const SCB_STATACK: u16 = 0x01;
/// STAT/ACK bit 6, FR: the RU finished receiving a frame (set even with interrupts masked).
pub const STATACK_FR: u8 = 1 << 6;
/// SCB command word: low byte CU/RU command, high byte interrupt mask.
pub const SCB_COMMAND: u16 = 0x02;
/// SCB general pointer (32 bits): operand of CU and RU commands.
pub const SCB_POINTER: u16 = 0x04;
/// PORT (32 bits): address bits 31:4, function bits 3:0.
pub const PORT: u16 = 0x08;
/// Serial EEPROM control (16 bits).
pub const EEPROM_CTRL: u16 = 0x0E;
/// MDI control (32 bits).
pub const MDI_CTRL: u16 = 0x10;

/// PORT function 0000b: software reset (everything, including the configuration).
pub const PORT_SOFTWARE_RESET: u32 = 0;
/// PORT function 0010b: selective reset (CU/RU and DMA stop; configuration kept).
pub const PORT_SELECTIVE_RESET: u32 = 2;

/// SCB status bits 7:6, CU status.
pub const CUS_MASK: u8 = 0b11 << 6;
/// CU status: idle.
pub const CUS_IDLE: u8 = 0;
/// SCB status bits 5:2, RU status.
pub const RUS_MASK: u8 = 0b1111 << 2;
/// RU status: idle.
pub const RUS_IDLE: u8 = 0;
/// RU status: suspended.
pub const RUS_SUSPENDED: u8 = 0b0001 << 2;
/// RU status: no resources (it filled the RFD with EL set, or ran out of RFDs).
pub const RUS_NO_RESOURCES: u8 = 0b0010 << 2;
/// RU status: ready.
pub const RUS_READY: u8 = 0b0100 << 2;

/// CU command (SCB command bits 7:4): CU start at the general pointer.
pub const CUC_START: u8 = 0x10;
/// CU command: load CU base from the general pointer.
pub const CUC_LOAD_BASE: u8 = 0x60;
/// RU command (SCB command bits 2:0): RU start at the general pointer.
pub const RUC_START: u8 = 0x01;
/// RU command: RU abort.
pub const RUC_ABORT: u8 = 0x04;
/// RU command: load RU base from the general pointer.
pub const RUC_LOAD_BASE: u8 = 0x06;
/// SCB interrupt mask byte bit 0 (M): masks every interrupt of the device.
pub const SCB_INT_M: u8 = 0x01;

bitflags! {
    /// Serial EEPROM control register bits (§5.3 / §6.3.5).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Eeprom: u16 {
        /// EESK: serial clock.
        const SK = 1 << 0;
        /// EECS: chip select.
        const CS = 1 << 1;
        /// EEDI: data to the EEPROM.
        const DI = 1 << 2;
        /// EEDO: data from the EEPROM (read only).
        const DO = 1 << 3;
    }
}

/// EEPROM opcode for READ (after the start bit): 10b.
pub const EEPROM_OP_READ: u16 = 0b10;
/// EEPROM word 6: PHY device record (bits 4:0 the primary PHY's MDI address).
pub const EEPROM_PHY_WORD: u8 = 6;

/// MDI control bits 15:0 data, 20:16 PHY register, 25:21 PHY address, 27:26 opcode.
pub const MDI_OP_READ: u32 = 0b10 << 26;
/// MDI control bit 28: the cycle is complete.
pub const MDI_READY: u32 = 1 << 28;
/// MII basic mode control register.
pub const MII_BMCR: u8 = 0;
/// MII basic mode status register.
pub const MII_BMSR: u8 = 1;
/// MII auto-negotiation advertisement.
pub const MII_ANAR: u8 = 4;
/// MII auto-negotiation link partner ability.
pub const MII_ANLPAR: u8 = 5;
/// BMCR bit 13: speed 100 Mb/s (when auto-negotiation is off).
pub const BMCR_SPEED100: u16 = 1 << 13;
/// BMCR bit 12: auto-negotiation enabled.
pub const BMCR_ANENABLE: u16 = 1 << 12;
/// BMSR bit 2: link status (latched low).
pub const BMSR_LINK: u16 = 1 << 2;
/// ANAR/ANLPAR bits 8:7: 100BASE-TX full and half duplex.
pub const AN_100: u16 = 0b11 << 7;

/// Command block and RFD status word bit 15: complete.
pub const STATUS_C: u16 = 1 << 15;
/// Status word bit 13: OK (no error).
pub const STATUS_OK: u16 = 1 << 13;

/// Command word bit 15: EL, the last block of the list (CU/RU go idle / no resources after it).
pub const CMD_EL: u16 = 1 << 15;
/// Command word bit 14: S, suspend after this block.
pub const CMD_S: u16 = 1 << 14;
/// Command word bit 3: SF, flexible mode (transmit, RFD); clear = simplified mode.
pub const CMD_SF: u16 = 1 << 3;

/// Action command (bits 2:0): Individual Address Setup.
pub const CMD_IA_SETUP: u16 = 1;
/// Action command: Configure.
pub const CMD_CONFIGURE: u16 = 2;
/// Action command: Multicast Setup.
pub const CMD_MC_SETUP: u16 = 3;
/// Action command: Transmit.
pub const CMD_TRANSMIT: u16 = 4;

/// Offsets in a command block / RFD header.
pub const CB_STATUS: usize = 0;
/// Command word.
pub const CB_COMMAND: usize = 2;
/// Link address (32 bits, added to the CU/RU base, which the driver loads as 0).
pub const CB_LINK: usize = 4;
/// Command-specific data from here (IA, configure bytes, multicast count, TBD array address).
pub const CB_DATA: usize = 8;
/// Transmit: TBD array address; 0xFFFF_FFFF in simplified mode.
pub const TCB_TBD_ARRAY: usize = 8;
/// Transmit: byte count (bits 13:0) and EOF (bit 15).
pub const TCB_COUNT: usize = 12;
/// Transmit: threshold (in 8-byte units).
pub const TCB_THRESHOLD: usize = 14;
/// Transmit: TBD number.
pub const TCB_TBD_NUMBER: usize = 15;
/// Transmit: the frame, in simplified mode.
pub const TCB_FRAME: usize = 16;
/// TCB byte count bit 15: the whole frame is in the TCB.
pub const TCB_EOF: u16 = 1 << 15;
/// Transmit threshold: 0xE0 × 8 bytes, so a frame starts once it is all in the FIFO.
pub const TX_THRESHOLD: u8 = 0xE0;
/// No TBD array (simplified mode).
pub const NO_TBD: u32 = 0xFFFF_FFFF;

/// RFD: reserved (simplified mode: 0xFFFF_FFFF), formerly the RBD address.
pub const RFD_RBD: usize = 8;
/// RFD: actual count (bits 13:0), F (bit 14) and EOF (bit 15), written by the device.
pub const RFD_COUNT: usize = 12;
/// RFD: size of the data area.
pub const RFD_SIZE: usize = 14;
/// RFD: the frame, in simplified mode.
pub const RFD_DATA: usize = 16;
/// RFD actual count bits 13:0.
pub const RFD_COUNT_MASK: u16 = 0x3FFF;

/// Bytes of the configure block.
pub const CONFIG_LEN: usize = 22;

/// Which generation the configure block is for (§6.4.2.3: bits that are reserved on the 82557
/// and mean something on the 82558 and later).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    /// 82557 (8086:1229, revision ID 1–3).
    I82557,
    /// 82558, 82559, 82550, 82551, 82562 and the ICH parts.
    I82558Plus,
}

/// The 22-byte configure block for `filter` (§6.4.2.3, defaults except where noted):
///
/// - byte 0 = 22 (byte count), byte 1 = 08h (RX FIFO limit 8, TX FIFO limit 0), bytes 2–5 = 0
///   (no adaptive IFS, no MWI/read align, no DMA byte count limits);
/// - byte 6 = 32h: save bad frames (bit 7) off, standard TCB and standard statistics (bits 4–5);
/// - byte 7 = 03h: discard short frames, one underrun retry;
/// - byte 8 = 01h: MII mode (all QEMU models and the boards here have an MII PHY);
/// - byte 10 = 2Eh: no source address insertion (bit 3), 7-byte preamble, no loopback;
/// - byte 12 = 60h: standard inter-frame spacing; bytes 13–14 = 00h F2h (82557 values of the
///   ARP filter bytes); byte 15 = 48h + bit 0 promiscuous + bit 1 broadcast disable
///   (CRS-or-CDT bit 7 off: MII designs);
/// - bytes 16–17 = 00h 40h (flow-control delay); byte 18 = F2h: padding on, CRC not transferred
///   to memory, plus bit 3 long receive OK on the 82558+ (reserved on the 82557) so that
///   1522-byte VLAN-tagged frames are not dropped;
/// - byte 19 = 80h (FDX pin enable); byte 20 = 3Fh (multiple IA off: the hash is for multicast
///   only); byte 21 = 05h + bit 3 multicast all.
pub fn configure_block(generation: Generation, filter: &RxFilter) -> [u8; CONFIG_LEN] {
    let mut c = [
        22, 0x08, 0x00, 0x00, 0x00, 0x00, 0x32, 0x03, 0x01, 0x00, 0x2E, 0x00, 0x60, 0x00, 0xF2,
        0x48, 0x00, 0x40, 0xF2, 0x80, 0x3F, 0x05,
    ];
    if filter.promiscuous {
        c[15] |= 1 << 0;
    }
    if !filter.broadcast && !filter.promiscuous {
        c[15] |= 1 << 1;
    }
    if generation == Generation::I82558Plus {
        c[18] |= 1 << 3;
    }
    if filter.wants_all_multicast() {
        c[21] |= 1 << 3;
    }
    c
}

/// The SCB command word for `cmd` with every interrupt masked.
pub const fn scb_command(cmd: u8) -> u16 {
    (SCB_INT_M as u16) << 8 | cmd as u16
}
