//! Realtek RTL8139 driver (layer `drivers/`), written from the RTL8139C(L) datasheet 1.4 §5
//! (registers), §6 (receive ring, transmit slots) and checked against QEMU's `rtl8139` model:
//! I/O BAR0, an 8 KiB receive ring with WRAP set, four transmit slots used round robin,
//! interrupts masked (IMR = 0). C+ mode is not used.
//!
//! Receive filter (datasheet §5 RCR, MAR0–7, IDR0–5, 9346CR): RCR.APM accepts the station
//! address in IDR0–5 (written, as 32-bit accesses, only between 9346CR = config-write and
//! 9346CR = normal), RCR.AB broadcast, RCR.AM multicast whose hash bit is set in the 64-bit MAR
//! (hash = the top 6 bits of the Ethernet CRC-32 of the address, [`mar_hash`]; all ones for
//! all-multicast), RCR.AAP everything. QEMU's model resets the receive ring on every RCR write,
//! so a filter or station change on an open card re-runs the whole set-up (frames not yet read
//! are lost). Hash collisions are filtered out in [`Nic::receive`].

use bitflags::bitflags;

use crate::filter::RxFilter;
use crate::hal::{poll_until, DmaRegion, Hal};
use crate::nic::{check_station, check_tx_len, Nic, NicError};
use crate::pci::{self, Command, PciAddress, PciId};
use crate::{MAX_FRAME_LEN, MIN_FRAME_LEN};

/// Adapters this driver supports (the builder's adapter list reads it).
pub const PCI_IDS: &[PciId] = &[
    PciId::new(
        0x10EC,
        0x8139,
        "Realtek RTL8139 Fast Ethernet (QEMU rtl8139)",
    ),
    PciId::new(0x1113, 0x1211, "Accton EN1207D (RTL8139)"),
    PciId::new(0x1186, 0x1300, "D-Link DFE-538TX (RTL8139)"),
];

/// ID registers 0–5: the station MAC address.
pub const IDR0: u16 = 0x00;
/// Multicast registers 0–7.
pub const MAR0: u16 = 0x08;
/// Transmit status of descriptor 0 (`TSD0 + 4 * n` for slot n).
pub const TSD0: u16 = 0x10;
/// Transmit start address of descriptor 0 (`TSAD0 + 4 * n` for slot n).
pub const TSAD0: u16 = 0x20;
/// Receive buffer start address (32-bit physical).
pub const RBSTART: u16 = 0x30;
/// Command register (8 bits).
pub const CR: u16 = 0x37;
/// Current address of packet read (16 bits; the chip adds 16 to what is written).
pub const CAPR: u16 = 0x38;
/// Current buffer address: where the chip writes next (16 bits).
pub const CBR: u16 = 0x3A;
/// Interrupt mask register (16 bits).
pub const IMR: u16 = 0x3C;
/// Interrupt status register (16 bits, write 1 to clear).
pub const ISR: u16 = 0x3E;
/// Transmit configuration register (32 bits).
pub const TCR: u16 = 0x40;
/// Receive configuration register (32 bits).
pub const RCR: u16 = 0x44;
/// 93C46 command register (8 bits): EEPROM access and the configuration-write lock.
pub const CR9346: u16 = 0x50;
/// Media status register (8 bits).
pub const MSR: u16 = 0x58;
/// Basic mode status register (MII BMSR, 16 bits).
pub const BMSR: u16 = 0x64;

/// 9346CR.EEM = 00b: normal operation (configuration registers locked).
pub const CR9346_NORMAL: u8 = 0x00;
/// 9346CR.EEM = 11b: configuration registers (IDR0–5, CONFIG0–4) writable.
pub const CR9346_CONFIG_WRITE: u8 = 0xC0;
/// MSR bit 3: the link runs at 10 Mb/s (clear: 100 Mb/s).
pub const MSR_SPEED_10: u8 = 1 << 3;
/// MSR bit 2: inverse of the link status (set: no link).
pub const MSR_LINKB: u8 = 1 << 2;

/// The MAR bit of a multicast address: the top 6 bits of the IEEE 802.3 CRC-32 of its six
/// bytes (bits taken least significant first, no final inversion), as the chip computes it.
/// Bit n of the 64-bit MAR is bit `n % 8` of the MAR byte `n / 8`.
pub fn mar_hash(mac: &[u8; 6]) -> u8 {
    let mut crc = u32::MAX;
    for &byte in mac {
        let mut b = byte;
        for _ in 0..8 {
            let carry = (crc >> 31) ^ u32::from(b & 1);
            crc <<= 1;
            b >>= 1;
            if carry != 0 {
                crc ^= 0x04C1_1DB7;
            }
        }
    }
    (crc >> 26) as u8
}

/// The 64-bit MAR value for `filter`: all ones for all-multicast, else one bit per address.
pub fn mar_value(filter: &RxFilter) -> u64 {
    if filter.wants_all_multicast() {
        return u64::MAX;
    }
    filter
        .multicast()
        .iter()
        .fold(0, |m, mac| m | 1 << mar_hash(mac))
}

/// Receive ring length selected by RCR.RBLEN = 00.
pub const RX_RING_LEN: usize = 8192;
/// Bytes allocated for the ring: 8K + 16 + room for a frame that WRAP lets run past the end.
const RX_ALLOC: usize = RX_RING_LEN + 16 + 2048;
/// Transmit slots.
pub const TX_SLOTS: usize = 4;
const TX_BUF_SIZE: usize = 2048;
const TX_BUFS: usize = 12288;
const DMA_SIZE: usize = TX_BUFS + TX_SLOTS * TX_BUF_SIZE;
/// Length the chip reports while an early-receive copy is still in progress.
const RX_LEN_IN_PROGRESS: u16 = 0xFFF0;
const RX_HEADER_LEN: usize = 4;
const FCS_LEN: usize = 4;

const RESET_TIMEOUT_US: u64 = 100_000;
const TX_TIMEOUT_US: u64 = 50_000;

bitflags! {
    /// CR bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Cr: u8 {
        /// Receive buffer empty (read only).
        const BUFE = 1 << 0;
        /// Transmitter enable.
        const TE = 1 << 2;
        /// Receiver enable.
        const RE = 1 << 3;
        /// Software reset (self-clearing).
        const RST = 1 << 4;
    }
}

bitflags! {
    /// TSD bits (SIZE in 12:0, ERTXTH in 21:16).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Tsd: u32 {
        /// Set by the chip when the frame has been copied to its FIFO: the buffer is free.
        const OWN = 1 << 13;
        /// Transmit FIFO underrun.
        const TUN = 1 << 14;
        /// Transmit OK.
        const TOK = 1 << 15;
        /// Out of window collision.
        const OWC = 1 << 29;
        /// Transmit abort.
        const TABT = 1 << 30;
        /// Carrier sense lost.
        const CRS = 1 << 31;
    }
}

bitflags! {
    /// ISR and IMR bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Isr: u16 {
        /// Receive OK.
        const ROK = 1 << 0;
        /// Receive error.
        const RER = 1 << 1;
        /// Transmit OK.
        const TOK = 1 << 2;
        /// Transmit error.
        const TER = 1 << 3;
        /// Receive buffer overflow.
        const RXOVW = 1 << 4;
        /// Packet underrun / link change.
        const PUN_LINKCHG = 1 << 5;
        /// Receive FIFO overflow.
        const FOVW = 1 << 6;
        /// Cable length change.
        const LENCHG = 1 << 13;
        /// Timeout.
        const TIMEOUT = 1 << 14;
        /// System error.
        const SERR = 1 << 15;
    }
}

bitflags! {
    /// RCR bits (MXDMA in 10:8, RBLEN in 12:11, RXFTH in 15:13).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Rcr: u32 {
        /// Accept all packets (promiscuous).
        const AAP = 1 << 0;
        /// Accept physical match (own MAC).
        const APM = 1 << 1;
        /// Accept multicast.
        const AM = 1 << 2;
        /// Accept broadcast.
        const AB = 1 << 3;
        /// Accept runt.
        const AR = 1 << 4;
        /// Accept error packets.
        const AER = 1 << 5;
        /// Let a packet run past the ring end instead of wrapping (needs 1.5K spare).
        const WRAP = 1 << 7;
    }
}

/// RCR.MXDMA = 111b: unlimited receive DMA burst.
pub const RCR_MXDMA_UNLIMITED: u32 = 0b111 << 8;
/// RCR.RXFTH = 111b: no receive FIFO threshold (whole packet).
pub const RCR_RXFTH_NONE: u32 = 0b111 << 13;
/// TCR.MXDMA = 111b: 2048-byte transmit DMA burst.
pub const TCR_MXDMA_2048: u32 = 0b111 << 8;
/// TCR.IFG = 11b: standard 9.6 µs / 960 ns inter-frame gap.
pub const TCR_IFG_STANDARD: u32 = 0b11 << 24;
/// BMSR bit 2: link status.
pub const BMSR_LINK: u16 = 1 << 2;

bitflags! {
    /// Receive packet header status word (datasheet §6.1).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct RxHeader: u16 {
        /// Receive OK.
        const ROK = 1 << 0;
        /// Frame alignment error.
        const FAE = 1 << 1;
        /// CRC error.
        const CRC = 1 << 2;
        /// Long packet (> 4K).
        const LONG = 1 << 3;
        /// Runt packet (< 64 bytes).
        const RUNT = 1 << 4;
        /// Invalid symbol error.
        const ISE = 1 << 5;
        /// Broadcast address received.
        const BAR = 1 << 13;
        /// Physical address matched.
        const PAM = 1 << 14;
        /// Multicast address received.
        const MAR = 1 << 15;
    }
}

/// An RTL8139 card.
#[derive(Debug)]
pub struct Rtl8139 {
    pci: PciAddress,
    io: u16,
    mac: [u8; 6],
    station: [u8; 6],
    filter: RxFilter,
    dma: Option<DmaRegion>,
    open: bool,
    /// Offset in the ring of the next packet header.
    rx_offset: usize,
    tx_next: usize,
    tx_busy: [bool; TX_SLOTS],
    rx_dropped: u32,
}

impl Rtl8139 {
    /// Takes the card at `pci`: decodes I/O BAR0, enables I/O decoding, reads IDR0–5.
    pub fn new<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> Result<Self, NicError> {
        let io = pci::read_bar(hal, pci, 0)
            .and_then(|bar| bar.io_port())
            .filter(|&port| port != 0)
            .ok_or(NicError::BadBar)?;
        pci::enable(hal, pci, Command::IO_SPACE);
        let mut mac = [0; 6];
        for (i, byte) in (0u16..).zip(mac.iter_mut()) {
            *byte = hal.inb(io + IDR0 + i);
        }
        Ok(Self {
            pci,
            io,
            mac,
            station: mac,
            filter: RxFilter::new(),
            dma: None,
            open: false,
            rx_offset: 0,
            tx_next: 0,
            tx_busy: [false; TX_SLOTS],
            rx_dropped: 0,
        })
    }

    fn reset<H: Hal + ?Sized>(&self, hal: &mut H) -> Result<(), NicError> {
        hal.outw(self.io + IMR, 0);
        hal.outb(self.io + CR, Cr::RST.bits());
        let done = poll_until(hal, RESET_TIMEOUT_US, |hal| {
            !Cr::from_bits_retain(hal.inb(self.io + CR)).contains(Cr::RST)
        });
        if done {
            Ok(())
        } else {
            Err(NicError::ResetTimeout)
        }
    }

    /// Reset and full receive/transmit set-up; also the recovery path for a corrupt ring.
    fn start<H: Hal + ?Sized>(&mut self, hal: &mut H, dma: &DmaRegion) -> Result<(), NicError> {
        self.reset(hal)?;
        self.rx_offset = 0;
        self.tx_next = 0;
        self.tx_busy = [false; TX_SLOTS];
        hal.outl(self.io + RBSTART, dma.phys() as u32);
        hal.outw(self.io + IMR, 0);
        hal.outw(self.io + ISR, 0xFFFF);
        self.write_idr(hal, self.station);
        let mar = mar_value(&self.filter);
        hal.outl(self.io + MAR0, mar as u32);
        hal.outl(self.io + MAR0 + 4, (mar >> 32) as u32);
        // The transmit/receive configuration takes effect only once TE/RE are set.
        hal.outb(self.io + CR, (Cr::TE | Cr::RE).bits());
        hal.outl(self.io + RCR, self.rcr());
        hal.outl(self.io + TCR, TCR_MXDMA_2048 | TCR_IFG_STANDARD);
        Ok(())
    }

    /// RCR for the current filter.
    fn rcr(&self) -> u32 {
        let f = &self.filter;
        let mut rcr = Rcr::WRAP;
        if f.directed {
            rcr |= Rcr::APM;
        }
        if f.broadcast {
            rcr |= Rcr::AB;
        }
        if f.wants_multicast() {
            rcr |= Rcr::AM;
        }
        if f.promiscuous {
            rcr |= Rcr::AAP | Rcr::APM | Rcr::AB | Rcr::AM;
        }
        rcr.bits() | RCR_MXDMA_UNLIMITED | RCR_RXFTH_NONE
    }

    /// Writes IDR0–5: 32-bit accesses with the configuration registers unlocked.
    fn write_idr<H: Hal + ?Sized>(&self, hal: &mut H, m: [u8; 6]) {
        hal.outb(self.io + CR9346, CR9346_CONFIG_WRITE);
        hal.outl(self.io + IDR0, u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
        hal.outl(self.io + IDR0 + 4, u32::from_le_bytes([m[4], m[5], 0, 0]));
        hal.outb(self.io + CR9346, CR9346_NORMAL);
    }

    /// Applies a changed filter or station: a full restart on an open card (see module doc).
    fn reapply<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        match (self.open, self.dma) {
            (true, Some(dma)) => self.start(hal, &dma).inspect_err(|_| self.open = false),
            _ => Ok(()),
        }
    }

    fn tx_slot_free<H: Hal + ?Sized>(&self, hal: &mut H, slot: usize) -> bool {
        let tsd = Tsd::from_bits_retain(hal.inl(self.io + TSD0 + 4 * slot as u16));
        tsd.contains(Tsd::OWN)
    }
}

impl Nic for Rtl8139 {
    fn open<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        let dma = match self.dma {
            Some(dma) => dma,
            None => {
                let dma = hal.dma_alloc(DMA_SIZE, 4096).ok_or(NicError::NoDmaMemory)?;
                self.dma = Some(dma);
                dma
            }
        };
        // RBSTART and TSADn hold 32-bit physical addresses.
        if !dma.below_4g() {
            return Err(NicError::DmaUnreachable);
        }
        pci::enable(hal, self.pci, Command::IO_SPACE | Command::BUS_MASTER);
        self.start(hal, &dma)?;
        self.open = true;
        Ok(())
    }

    fn close<H: Hal + ?Sized>(&mut self, hal: &mut H) {
        hal.outb(self.io + CR, 0);
        // A reset that times out still leaves TE/RE cleared and bus mastering off below.
        let _ = self.reset(hal);
        // IDR keeps what was written; give the next driver the permanent address.
        if self.station != self.mac {
            self.write_idr(hal, self.mac);
        }
        pci::disable_bus_master(hal, self.pci);
        self.open = false;
    }

    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn station(&self) -> [u8; 6] {
        self.station
    }

    fn set_station<H: Hal + ?Sized>(&mut self, hal: &mut H, mac: [u8; 6]) -> Result<(), NicError> {
        check_station(&mac)?;
        self.station = mac;
        self.reapply(hal)
    }

    fn filter(&self) -> RxFilter {
        self.filter
    }

    fn set_filter<H: Hal + ?Sized>(
        &mut self,
        hal: &mut H,
        filter: &RxFilter,
    ) -> Result<(), NicError> {
        self.filter = *filter;
        self.reapply(hal)
    }

    fn link_speed_bps<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Option<u64> {
        let msr = hal.inb(self.io + MSR);
        if msr & MSR_LINKB != 0 {
            return None;
        }
        Some(if msr & MSR_SPEED_10 != 0 {
            10_000_000
        } else {
            100_000_000
        })
    }

    fn rx_ring_len(&self) -> u16 {
        // Full-size frames (header + 1514 + CRC, dword aligned) the 8 KiB ring holds.
        (RX_RING_LEN / (RX_HEADER_LEN + 1514 + FCS_LEN).next_multiple_of(4)) as u16
    }

    fn tx_ring_len(&self) -> u16 {
        TX_SLOTS as u16
    }

    fn link_up<H: Hal + ?Sized>(&mut self, hal: &mut H) -> bool {
        hal.inw(self.io + BMSR) & BMSR_LINK != 0
    }

    fn transmit<H: Hal + ?Sized>(&mut self, hal: &mut H, frame: &[u8]) -> Result<(), NicError> {
        check_tx_len(frame)?;
        let dma = match (self.open, self.dma) {
            (true, Some(dma)) => dma,
            _ => return Err(NicError::NotOpen),
        };
        let slot = self.tx_next;
        if self.tx_busy[slot] && !poll_until(hal, TX_TIMEOUT_US, |hal| self.tx_slot_free(hal, slot))
        {
            return Err(NicError::TxTimeout);
        }
        let buf = TX_BUFS + slot * TX_BUF_SIZE;
        hal.dma_write_bytes(&dma, buf, frame);
        let len = frame.len().max(MIN_FRAME_LEN);
        if frame.len() < MIN_FRAME_LEN {
            hal.dma_write_bytes(&dma, buf + frame.len(), &[0; MIN_FRAME_LEN][frame.len()..]);
        }
        hal.dma_fence();
        let reg = 4 * slot as u16;
        hal.outl(self.io + TSAD0 + reg, dma.phys_at(buf) as u32);
        // Writing SIZE with OWN clear starts the DMA; ERTXTH = 0 means an 8-byte threshold.
        hal.outl(self.io + TSD0 + reg, len as u32);
        self.tx_busy[slot] = true;
        // The chip walks the four slots in order itself, so the driver must too.
        self.tx_next = (slot + 1) % TX_SLOTS;
        Ok(())
    }

    fn receive<H: Hal + ?Sized>(&mut self, hal: &mut H, buf: &mut [u8]) -> Option<usize> {
        let dma = match (self.open, self.dma) {
            (true, Some(dma)) => dma,
            _ => return None,
        };
        // Bounded: the ring holds at most this many (minimum-size) frames.
        for _ in 0..RX_RING_LEN / 64 {
            if Cr::from_bits_retain(hal.inb(self.io + CR)).contains(Cr::BUFE) {
                return None;
            }
            hal.dma_fence();
            let off = self.rx_offset;
            let status = RxHeader::from_bits_retain(hal.dma_read16(&dma, off));
            let len = hal.dma_read16(&dma, off + 2);
            if len == RX_LEN_IN_PROGRESS {
                return None;
            }
            let len = usize::from(len);
            if !status.contains(RxHeader::ROK)
                || !(FCS_LEN + 14..=MAX_FRAME_LEN + FCS_LEN).contains(&len)
            {
                // The ring is out of step with the chip: start again from a reset.
                self.rx_dropped = self.rx_dropped.wrapping_add(1);
                if self.start(hal, &dma).is_err() {
                    self.open = false;
                }
                return None;
            }
            let frame_len = len - FCS_LEN;
            let mut fits = frame_len <= buf.len();
            if fits {
                // WRAP is set, so a packet that crosses the ring end continues linearly.
                hal.dma_read_bytes(&dma, off + RX_HEADER_LEN, &mut buf[..frame_len]);
                // A MAR hash collision: not for us after all.
                fits = self.filter.accepts(&self.station, &buf[..frame_len]);
            } else {
                self.rx_dropped = self.rx_dropped.wrapping_add(1);
            }
            self.rx_offset = (off + RX_HEADER_LEN + len + 3) & !3;
            self.rx_offset %= RX_RING_LEN;
            // CAPR is kept 16 bytes behind the real read pointer (the chip adds 16 back).
            hal.outw(self.io + CAPR, (self.rx_offset as u16).wrapping_sub(16));
            hal.outw(
                self.io + ISR,
                (Isr::ROK | Isr::RER | Isr::RXOVW | Isr::FOVW).bits(),
            );
            if fits {
                return Some(frame_len);
            }
        }
        None
    }

    fn rx_dropped(&self) -> u32 {
        self.rx_dropped
    }
}

/// Byte offset of the receive ring inside the driver's DMA region (for tests and debugging).
pub const RX_RING_OFFSET: usize = 0;
const _: () = assert!(RX_RING_OFFSET + RX_ALLOC <= TX_BUFS);
