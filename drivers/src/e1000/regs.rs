//! Intel 8254x registers, bits and legacy descriptors (layer `drivers/`), named as in the
//! PCI/PCI-X Family of Gigabit Ethernet Controllers SDM (317453): §13 registers, §3.2.3 legacy
//! receive descriptor, §3.3.3 legacy transmit descriptor.

use bitflags::bitflags;
use core::mem::{offset_of, size_of};

use crate::hal::{DmaRegion, Hal};

/// Device Control.
pub const CTRL: u64 = 0x0000;
/// Device Status.
pub const STATUS: u64 = 0x0008;
/// EEPROM/Flash Control.
pub const EECD: u64 = 0x0010;
/// EEPROM Read (not on 82544GC/EI).
pub const EERD: u64 = 0x0014;
/// Extended Device Control.
pub const CTRL_EXT: u64 = 0x0018;
/// CTRL_EXT bit 28 on the 82574: a driver has loaded and owns the port.
pub const CTRL_EXT_DRV_LOAD: u32 = 1 << 28;
/// EERD DONE on the 82574 (bit 1; the word address is in bits 15:2 there).
pub const EERD_DONE_82574: u32 = 1 << 1;
/// Interrupt Cause Read (clears on read).
pub const ICR: u64 = 0x00C0;
/// Interrupt Mask Set/Read.
pub const IMS: u64 = 0x00D0;
/// Interrupt Mask Clear.
pub const IMC: u64 = 0x00D8;
/// Receive Control.
pub const RCTL: u64 = 0x0100;
/// Transmit Control.
pub const TCTL: u64 = 0x0400;
/// Transmit Inter-Packet Gap.
pub const TIPG: u64 = 0x0410;
/// Receive Descriptor Base Address Low.
pub const RDBAL: u64 = 0x2800;
/// Receive Descriptor Base Address High.
pub const RDBAH: u64 = 0x2804;
/// Receive Descriptor Length (bytes, multiple of 128).
pub const RDLEN: u64 = 0x2808;
/// Receive Descriptor Head.
pub const RDH: u64 = 0x2810;
/// Receive Descriptor Tail.
pub const RDT: u64 = 0x2818;
/// Transmit Descriptor Base Address Low.
pub const TDBAL: u64 = 0x3800;
/// Transmit Descriptor Base Address High.
pub const TDBAH: u64 = 0x3804;
/// Transmit Descriptor Length (bytes, multiple of 128).
pub const TDLEN: u64 = 0x3808;
/// Transmit Descriptor Head.
pub const TDH: u64 = 0x3810;
/// Transmit Descriptor Tail.
pub const TDT: u64 = 0x3818;
/// Multicast Table Array, 128 dwords (SDM §13.5.1): one bit per 12-bit hash of a multicast
/// destination address, see [`mta_hash`].
pub const MTA: u64 = 0x5200;
/// Number of dwords in the MTA.
pub const MTA_LEN: u64 = 128;
/// Receive Address Low, entry 0 (SDM §13.5.2); entry n is at `RAL0 + 8 * n`.
pub const RAL0: u64 = 0x5400;
/// Receive Address High, entry 0 (SDM §13.5.3); entry n is at `RAH0 + 8 * n`.
pub const RAH0: u64 = 0x5404;
/// Receive address entries (RAL/RAH pairs) on the 8254x.
pub const RA_ENTRIES: u64 = 16;

/// The MTA hash of a multicast address with RCTL.MO = 00b (SDM §13.4.22, §13.5.1): address bits
/// 47:36, i.e. the high nibble of byte 4 and all of byte 5. Bits 11:5 pick the MTA dword, bits
/// 4:0 the bit in it.
pub const fn mta_hash(mac: &[u8; 6]) -> u16 {
    ((mac[4] as u16) >> 4 | (mac[5] as u16) << 4) & 0xFFF
}

/// TIPG value for 82540/82545 copper (IPGT 10, IPGR1 8, IPGR2 6; SDM §13.4.34).
pub const TIPG_COPPER: u32 = 10 | 8 << 10 | 6 << 20;
/// TCTL.CT: collision threshold (SDM recommends 0Fh).
pub const TCTL_CT: u32 = 0x0F << 4;
/// TCTL.COLD: collision distance for full duplex (40h).
pub const TCTL_COLD_FD: u32 = 0x40 << 12;

bitflags! {
    /// CTRL bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Ctrl: u32 {
        /// Full duplex.
        const FD = 1 << 0;
        /// Link reset.
        const LRST = 1 << 3;
        /// Auto-speed detection enable.
        const ASDE = 1 << 5;
        /// Set link up.
        const SLU = 1 << 6;
        /// Invert loss-of-signal.
        const ILOS = 1 << 7;
        /// Device reset (self-clearing).
        const RST = 1 << 26;
        /// VLAN mode enable.
        const VME = 1 << 30;
        /// PHY reset.
        const PHY_RST = 1 << 31;
    }
}

bitflags! {
    /// STATUS bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Status: u32 {
        /// Full duplex.
        const FD = 1 << 0;
        /// Link up.
        const LU = 1 << 1;
        /// Transmission paused.
        const TXOFF = 1 << 4;
        /// Link speed, low bit (SPEED 7:6: 00 = 10, 01 = 100, 1x = 1000 Mb/s).
        const SPEED_LO = 1 << 6;
        /// Link speed, high bit.
        const SPEED_HI = 1 << 7;
    }
}

bitflags! {
    /// EERD bits on the 8254x (address in 15:8, data in 31:16); the 82574 differs, see
    /// [`EERD_DONE_82574`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Eerd: u32 {
        /// Start a read.
        const START = 1 << 0;
        /// Read done.
        const DONE = 1 << 4;
    }
}

bitflags! {
    /// RCTL bits. BSIZE = 00 with BSEX = 0 selects 2048-byte buffers.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Rctl: u32 {
        /// Receiver enable.
        const EN = 1 << 1;
        /// Store bad packets.
        const SBP = 1 << 2;
        /// Unicast promiscuous.
        const UPE = 1 << 3;
        /// Multicast promiscuous.
        const MPE = 1 << 4;
        /// Long packet enable.
        const LPE = 1 << 5;
        /// Broadcast accept mode.
        const BAM = 1 << 15;
        /// Buffer size extension.
        const BSEX = 1 << 25;
        /// Strip Ethernet CRC from incoming packets.
        const SECRC = 1 << 26;
    }
}

bitflags! {
    /// TCTL bits (CT and COLD are multi-bit fields, see [`TCTL_CT`], [`TCTL_COLD_FD`]).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Tctl: u32 {
        /// Transmit enable.
        const EN = 1 << 1;
        /// Pad short packets.
        const PSP = 1 << 3;
        /// Re-transmit on late collision.
        const RTLC = 1 << 24;
    }
}

bitflags! {
    /// RAH bits (address bytes 4–5 in 15:0).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Rah: u32 {
        /// Address valid.
        const AV = 1 << 31;
    }
}

bitflags! {
    /// Legacy receive descriptor status.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct RxStatus: u8 {
        /// Descriptor done.
        const DD = 1 << 0;
        /// End of packet.
        const EOP = 1 << 1;
    }
}

bitflags! {
    /// Legacy transmit descriptor command.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct TxCmd: u8 {
        /// End of packet.
        const EOP = 1 << 0;
        /// Insert FCS.
        const IFCS = 1 << 1;
        /// Insert checksum.
        const IC = 1 << 2;
        /// Report status (sets DD when done).
        const RS = 1 << 3;
        /// Extension (0 = legacy descriptor).
        const DEXT = 1 << 5;
        /// VLAN packet enable.
        const VLE = 1 << 6;
        /// Interrupt delay enable.
        const IDE = 1 << 7;
    }
}

bitflags! {
    /// Legacy transmit descriptor status.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct TxStatus: u8 {
        /// Descriptor done.
        const DD = 1 << 0;
    }
}

/// Legacy receive descriptor (SDM §3.2.3).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxDesc {
    /// Buffer physical address.
    pub addr: u64,
    /// Bytes written to the buffer.
    pub length: u16,
    /// Packet checksum.
    pub checksum: u16,
    /// [`RxStatus`] bits.
    pub status: u8,
    /// Receive error bits (CE, SE, SEQ, CXE, RXE).
    pub errors: u8,
    /// VLAN tag.
    pub special: u16,
}
const _: () = assert!(size_of::<RxDesc>() == 16);

/// Legacy transmit descriptor (SDM §3.3.3).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxDesc {
    /// Buffer physical address.
    pub addr: u64,
    /// Bytes to send from the buffer.
    pub length: u16,
    /// Checksum offset.
    pub cso: u8,
    /// [`TxCmd`] bits.
    pub cmd: u8,
    /// [`TxStatus`] bits.
    pub status: u8,
    /// Checksum start.
    pub css: u8,
    /// VLAN tag.
    pub special: u16,
}
const _: () = assert!(size_of::<TxDesc>() == 16);

/// Byte offset of the RX descriptor status field, polled on its own.
pub const RX_STATUS_OFFSET: usize = offset_of!(RxDesc, status);
/// Byte offset of the TX descriptor status field, polled on its own.
pub const TX_STATUS_OFFSET: usize = offset_of!(TxDesc, status);

impl RxDesc {
    /// Reads the descriptor at byte `offset` of `region`.
    pub fn read<H: Hal + ?Sized>(hal: &mut H, region: &DmaRegion, offset: usize) -> Self {
        Self {
            addr: hal.dma_read64(region, offset + offset_of!(Self, addr)),
            length: hal.dma_read16(region, offset + offset_of!(Self, length)),
            checksum: hal.dma_read16(region, offset + offset_of!(Self, checksum)),
            status: hal.dma_read8(region, offset + offset_of!(Self, status)),
            errors: hal.dma_read8(region, offset + offset_of!(Self, errors)),
            special: hal.dma_read16(region, offset + offset_of!(Self, special)),
        }
    }

    /// Writes the descriptor at byte `offset` of `region`.
    pub fn write<H: Hal + ?Sized>(&self, hal: &mut H, region: &DmaRegion, offset: usize) {
        hal.dma_write64(region, offset + offset_of!(Self, addr), self.addr);
        hal.dma_write16(region, offset + offset_of!(Self, length), self.length);
        hal.dma_write16(region, offset + offset_of!(Self, checksum), self.checksum);
        hal.dma_write8(region, offset + offset_of!(Self, status), self.status);
        hal.dma_write8(region, offset + offset_of!(Self, errors), self.errors);
        hal.dma_write16(region, offset + offset_of!(Self, special), self.special);
    }
}

impl TxDesc {
    /// Reads the descriptor at byte `offset` of `region`.
    pub fn read<H: Hal + ?Sized>(hal: &mut H, region: &DmaRegion, offset: usize) -> Self {
        Self {
            addr: hal.dma_read64(region, offset + offset_of!(Self, addr)),
            length: hal.dma_read16(region, offset + offset_of!(Self, length)),
            cso: hal.dma_read8(region, offset + offset_of!(Self, cso)),
            cmd: hal.dma_read8(region, offset + offset_of!(Self, cmd)),
            status: hal.dma_read8(region, offset + offset_of!(Self, status)),
            css: hal.dma_read8(region, offset + offset_of!(Self, css)),
            special: hal.dma_read16(region, offset + offset_of!(Self, special)),
        }
    }

    /// Writes the descriptor at byte `offset` of `region` (the card reads it only after the
    /// tail register moves past it).
    pub fn write<H: Hal + ?Sized>(&self, hal: &mut H, region: &DmaRegion, offset: usize) {
        hal.dma_write64(region, offset + offset_of!(Self, addr), self.addr);
        hal.dma_write16(region, offset + offset_of!(Self, length), self.length);
        hal.dma_write8(region, offset + offset_of!(Self, cso), self.cso);
        hal.dma_write8(region, offset + offset_of!(Self, cmd), self.cmd);
        hal.dma_write8(region, offset + offset_of!(Self, status), self.status);
        hal.dma_write8(region, offset + offset_of!(Self, css), self.css);
        hal.dma_write16(region, offset + offset_of!(Self, special), self.special);
    }
}
