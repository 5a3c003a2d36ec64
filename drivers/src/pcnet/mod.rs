//! AMD PCnet-PCI II (Am79C970A) driver (layer `drivers/`), written from the Am79C970A data sheet
//! (AMD publication 19436): "Software Access" (word I/O map: APROM, RDP, RAP, RESET, BDP),
//! "Initialization Block", "Receive/Transmit Descriptors" (SWSTYLE 2), "Control and Status
//! Registers" (CSR0, CSR1–3, CSR15) and "Bus Configuration Registers" (BCR4, BCR18, BCR20),
//! and checked against QEMU's `pcnet` model (hw/net/pcnet.c): I/O BAR0, 16 RX and 8 TX
//! descriptors of 1536-byte buffers, interrupts masked in CSR3 and IENA never set.
//!
//! Software style 2 (BCR20 = 2, SSIZE32 set by the chip): 32-bit addresses, 16-byte descriptors
//! with the buffer address first. Style 3 only reorders the descriptor words (status before
//! address, for the chip's burst reads) and style 0 has 24-bit addresses; 2 is the plain 32-bit
//! PCnet-PCI layout. Registers are reached in word I/O mode (WIO, the mode after a hardware
//! reset): every access is 16 bits, so the chip is never latched into DWIO mode (which a 32-bit
//! write to RDP would do, in QEMU as on the chip).
//!
//! Receive filter (data sheet "Receive Operation", CSR15, Initialization Block): the station
//! address is PADR, multicast addresses set their bit in the 64-bit LADRF ([`regs::ladrf_hash`];
//! all ones for all-multicast), MODE.DRCVPA turns directed frames off, MODE.DRCVBC broadcast,
//! MODE.PROM accepts everything. All of them are read from the initialization block at INIT
//! (CSR8–15 can only be written while stopped), so a filter or station change on an open card
//! re-runs the whole start-up; frames not yet read are lost. Hash collisions are filtered out in
//! [`Nic::receive`].

pub mod regs;

use crate::filter::RxFilter;
use crate::hal::{poll_until, DmaRegion, Hal};
use crate::nic::{check_station, check_tx_len, Nic, NicError};
use crate::pci::{self, Command, PciAddress, PciId};
use crate::{MAX_FRAME_LEN, MIN_FRAME_LEN};
use regs::*;

/// Adapters this driver supports (the builder's adapter list reads it). 1022:2000 is the ID of
/// the whole PCnet-PCI family (Am79C970/970A/971/972/973/975, told apart by CSR88/89); the
/// Am79C978 (PCnet-Home) has the same CSR/BCR/descriptor model.
pub const PCI_IDS: &[PciId] = &[
    PciId::new(
        0x1022,
        0x2000,
        "AMD PCnet-PCI II Am79C970A / PCnet-FAST family (QEMU pcnet)",
    ),
    PciId::new(0x1022, 0x2001, "AMD PCnet-Home Am79C978 HomePNA"),
];

/// Receive descriptors (RLEN = 4).
pub const RX_COUNT: usize = 16;
/// Transmit descriptors (TLEN = 3).
pub const TX_COUNT: usize = 8;
const RX_LOG2: u8 = 4;
const TX_LOG2: u8 = 3;
const _: () = assert!(1 << RX_LOG2 == RX_COUNT && 1 << TX_LOG2 == TX_COUNT);
const _: () = assert!(MAX_FRAME_LEN + FCS_LEN <= BUF_SIZE);
/// Buffer size per descriptor: a 1518-byte frame and its FCS.
pub const BUF_SIZE: usize = 1536;
const FCS_LEN: usize = 4;
const INIT_BLOCK: usize = 0;
const RX_RING: usize = 0x40;
const TX_RING: usize = RX_RING + RX_COUNT * DESC_SIZE;
const RX_BUFS: usize = TX_RING + TX_COUNT * DESC_SIZE;
const TX_BUFS: usize = RX_BUFS + RX_COUNT * BUF_SIZE;
const DMA_SIZE: usize = TX_BUFS + TX_COUNT * BUF_SIZE;
const _: () = assert!(RX_RING >= INIT_BLOCK + init::LEN && RX_BUFS.is_multiple_of(16));

const RESET_TIMEOUT_US: u64 = 10_000;
const INIT_TIMEOUT_US: u64 = 100_000;
const TX_TIMEOUT_US: u64 = 50_000;

/// A PCnet-PCI card.
#[derive(Debug)]
pub struct Pcnet {
    pci: PciAddress,
    io: u16,
    mac: [u8; 6],
    station: [u8; 6],
    filter: RxFilter,
    dma: Option<DmaRegion>,
    open: bool,
    rx_next: usize,
    tx_next: usize,
    tx_busy: [bool; TX_COUNT],
    rx_dropped: u32,
}

/// The 64-bit LADRF for `filter` (byte n of the block is bits 8n+7..8n).
pub fn ladrf_value(filter: &RxFilter) -> u64 {
    if filter.wants_all_multicast() {
        return u64::MAX;
    }
    filter
        .multicast()
        .iter()
        .fold(0, |m, mac| m | 1 << ladrf_hash(mac))
}

/// The MODE (CSR15) value for `filter`.
pub fn mode_value(filter: &RxFilter) -> Mode {
    if filter.promiscuous {
        return Mode::PROM;
    }
    let mut mode = Mode::empty();
    if !filter.directed {
        mode |= Mode::DRCVPA;
    }
    if !filter.broadcast {
        mode |= Mode::DRCVBC;
    }
    mode
}

impl Pcnet {
    /// Takes the card at `pci`: decodes BAR0 (I/O), enables I/O decoding and reads the MAC from
    /// the address PROM (I/O offsets 0–5).
    pub fn new<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> Result<Self, NicError> {
        let io = pci::read_bar(hal, pci, 0)
            .and_then(|bar| bar.io_port())
            .filter(|&port| port != 0)
            .ok_or(NicError::BadBar)?;
        pci::enable(hal, pci, Command::IO_SPACE);
        let mut mac = [0; 6];
        for (i, b) in mac.iter_mut().enumerate() {
            *b = hal.inb(io + APROM + i as u16);
        }
        Ok(Self {
            pci,
            io,
            mac,
            station: mac,
            filter: RxFilter::new(),
            dma: None,
            open: false,
            rx_next: 0,
            tx_next: 0,
            tx_busy: [false; TX_COUNT],
            rx_dropped: 0,
        })
    }

    fn csr_read<H: Hal + ?Sized>(&self, hal: &mut H, csr: u16) -> u16 {
        hal.outw(self.io + RAP, csr);
        hal.inw(self.io + RDP)
    }

    fn csr_write<H: Hal + ?Sized>(&self, hal: &mut H, csr: u16, value: u16) {
        hal.outw(self.io + RAP, csr);
        hal.outw(self.io + RDP, value);
    }

    fn bcr_read<H: Hal + ?Sized>(&self, hal: &mut H, bcr: u16) -> u16 {
        hal.outw(self.io + RAP, bcr);
        hal.inw(self.io + BDP)
    }

    fn bcr_write<H: Hal + ?Sized>(&self, hal: &mut H, bcr: u16, value: u16) {
        hal.outw(self.io + RAP, bcr);
        hal.outw(self.io + BDP, value);
    }

    /// S_RESET by reading the RESET register, then waits for CSR0 to read STOP alone (the
    /// state after a reset; also the check that a PCnet answers in word I/O mode).
    fn reset<H: Hal + ?Sized>(&self, hal: &mut H) -> Result<(), NicError> {
        let _ = hal.inw(self.io + RESET);
        hal.delay_us(10);
        let stopped = poll_until(hal, RESET_TIMEOUT_US, |hal| {
            self.csr_read(hal, CSR0) == Csr0::STOP.bits()
        });
        if stopped {
            Ok(())
        } else {
            Err(NicError::ResetTimeout)
        }
    }

    /// Writes the initialization block for the current station and filter and the rings.
    fn init_memory<H: Hal + ?Sized>(&mut self, hal: &mut H, dma: &DmaRegion) {
        let f = &self.filter;
        hal.dma_write16(dma, INIT_BLOCK + init::MODE, mode_value(f).bits());
        hal.dma_write8(dma, INIT_BLOCK + init::RLEN, RX_LOG2 << 4);
        hal.dma_write8(dma, INIT_BLOCK + init::TLEN, TX_LOG2 << 4);
        hal.dma_write_bytes(dma, INIT_BLOCK + init::PADR, &self.station);
        hal.dma_write16(dma, INIT_BLOCK + init::PADR + 6, 0);
        let ladrf = ladrf_value(f).to_le_bytes();
        hal.dma_write_bytes(dma, INIT_BLOCK + init::LADRF, &ladrf);
        hal.dma_write32(dma, INIT_BLOCK + init::RDRA, dma.phys_at(RX_RING) as u32);
        hal.dma_write32(dma, INIT_BLOCK + init::TDRA, dma.phys_at(TX_RING) as u32);
        for i in 0..RX_COUNT {
            self.give_rx(hal, dma, i);
        }
        for i in 0..TX_COUNT {
            let d = TX_RING + i * DESC_SIZE;
            hal.dma_write32(
                dma,
                d + DESC_ADDR,
                dma.phys_at(TX_BUFS + i * BUF_SIZE) as u32,
            );
            // Not owned, but BCNT's ONES must be there: QEMU checks them on every ring poll.
            hal.dma_write32(dma, d + DESC_CTRL, bcnt(MIN_FRAME_LEN));
            hal.dma_write32(dma, d + DESC_MISC, 0);
            hal.dma_write32(dma, d + DESC_MISC + 4, 0);
        }
        self.rx_next = 0;
        self.tx_next = 0;
        self.tx_busy = [false; TX_COUNT];
        hal.dma_fence();
    }

    /// Hands receive descriptor `i` (back) to the chip: address, RMD2 cleared, then OWN.
    fn give_rx<H: Hal + ?Sized>(&self, hal: &mut H, dma: &DmaRegion, i: usize) {
        let d = RX_RING + i * DESC_SIZE;
        hal.dma_write32(
            dma,
            d + DESC_ADDR,
            dma.phys_at(RX_BUFS + i * BUF_SIZE) as u32,
        );
        hal.dma_write32(dma, d + DESC_MISC, 0);
        hal.dma_write32(dma, d + DESC_MISC + 4, 0);
        hal.dma_fence();
        let own = u32::from(RxStatus::OWN.bits()) << 16;
        hal.dma_write32(dma, d + DESC_CTRL, own | bcnt(BUF_SIZE));
    }

    /// Reset, software style, masks, initialization block, INIT, wait for IDON, STRT.
    fn start<H: Hal + ?Sized>(&mut self, hal: &mut H, dma: &DmaRegion) -> Result<(), NicError> {
        self.open = false;
        self.reset(hal)?;
        self.bcr_write(hal, BCR20, SWSTYLE_PCNET_PCI);
        if self.bcr_read(hal, BCR20) & (BCR20_SSIZE32 | 0xFF) != BCR20_SSIZE32 | SWSTYLE_PCNET_PCI {
            return Err(NicError::DeviceRefused);
        }
        self.csr_write(hal, CSR3, CSR3_MASK_ALL);
        self.init_memory(hal, dma);
        let iadr = dma.phys_at(INIT_BLOCK);
        self.csr_write(hal, CSR1, iadr as u16);
        self.csr_write(hal, CSR2, (iadr >> 16) as u16);
        self.csr_write(hal, CSR0, Csr0::INIT.bits());
        let done = poll_until(hal, INIT_TIMEOUT_US, |hal| {
            Csr0::from_bits_retain(self.csr_read(hal, CSR0)).contains(Csr0::IDON)
        });
        if !done {
            let _ = self.reset(hal);
            return Err(NicError::ResetTimeout);
        }
        // IDON is write-1-to-clear; STRT turns the receiver and transmitter on.
        self.csr_write(hal, CSR0, (Csr0::IDON | Csr0::STRT).bits());
        let csr0 = Csr0::from_bits_retain(self.csr_read(hal, CSR0));
        if !csr0.contains(Csr0::TXON | Csr0::RXON) {
            let _ = self.reset(hal);
            return Err(NicError::DeviceRefused);
        }
        self.open = true;
        Ok(())
    }

    /// Re-runs the start-up on an open card so a new filter or station takes effect.
    fn restart<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        match (self.open, self.dma) {
            (true, Some(dma)) => self.start(hal, &dma),
            _ => Ok(()),
        }
    }
}

impl Nic for Pcnet {
    fn open<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        let dma = match self.dma {
            Some(dma) => dma,
            None => {
                let dma = hal.dma_alloc(DMA_SIZE, 64).ok_or(NicError::NoDmaMemory)?;
                self.dma = Some(dma);
                dma
            }
        };
        // SSIZE32 addresses are 32 bits wide.
        if !dma.below_4g() {
            return Err(NicError::DmaUnreachable);
        }
        pci::enable(hal, self.pci, Command::IO_SPACE | Command::BUS_MASTER);
        self.start(hal, &dma)
    }

    fn close<H: Hal + ?Sized>(&mut self, hal: &mut H) {
        self.csr_write(hal, CSR0, Csr0::STOP.bits());
        // A reset that times out still leaves STOP written and bus mastering off below.
        let _ = self.reset(hal);
        // Software style back to the hardware-reset value for the next driver.
        self.bcr_write(hal, BCR20, 0);
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
        self.restart(hal)
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
        self.restart(hal)
    }

    fn link_speed_bps<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Option<u64> {
        // The Am79C970A is a 10BASE-T / AUI controller.
        self.link_up(hal).then_some(10_000_000)
    }

    fn rx_ring_len(&self) -> u16 {
        RX_COUNT as u16
    }

    fn tx_ring_len(&self) -> u16 {
        TX_COUNT as u16
    }

    fn link_up<H: Hal + ?Sized>(&mut self, hal: &mut H) -> bool {
        let bcr4 = self.bcr_read(hal, BCR4);
        bcr4 & BCR4_LNKSTE != 0 && bcr4 & BCR4_LEDOUT != 0
    }

    fn transmit<H: Hal + ?Sized>(&mut self, hal: &mut H, frame: &[u8]) -> Result<(), NicError> {
        check_tx_len(frame)?;
        let dma = match (self.open, self.dma) {
            (true, Some(dma)) => dma,
            _ => return Err(NicError::NotOpen),
        };
        let slot = self.tx_next;
        let desc = TX_RING + slot * DESC_SIZE;
        if self.tx_busy[slot] {
            let free = poll_until(hal, TX_TIMEOUT_US, |hal| {
                let status = TxStatus::from_bits_retain(hal.dma_read16(&dma, desc + DESC_STATUS));
                !status.contains(TxStatus::OWN)
            });
            if !free {
                return Err(NicError::TxTimeout);
            }
            hal.dma_fence();
        }
        let buf = TX_BUFS + slot * BUF_SIZE;
        hal.dma_write_bytes(&dma, buf, frame);
        let len = frame.len().max(MIN_FRAME_LEN);
        if frame.len() < MIN_FRAME_LEN {
            let zeros = [0u8; MIN_FRAME_LEN];
            hal.dma_write_bytes(&dma, buf + frame.len(), &zeros[frame.len()..]);
        }
        hal.dma_write32(&dma, desc + DESC_ADDR, dma.phys_at(buf) as u32);
        hal.dma_write32(&dma, desc + DESC_MISC, 0);
        hal.dma_fence();
        let status = TxStatus::OWN | TxStatus::STP | TxStatus::ENP;
        hal.dma_write32(
            &dma,
            desc + DESC_CTRL,
            u32::from(status.bits()) << 16 | bcnt(len),
        );
        hal.dma_fence();
        self.tx_busy[slot] = true;
        self.tx_next = (slot + 1) % TX_COUNT;
        self.csr_write(hal, CSR0, Csr0::TDMD.bits());
        Ok(())
    }

    fn receive<H: Hal + ?Sized>(&mut self, hal: &mut H, buf: &mut [u8]) -> Option<usize> {
        let dma = match (self.open, self.dma) {
            (true, Some(dma)) => dma,
            _ => return None,
        };
        for _ in 0..RX_COUNT {
            let slot = self.rx_next;
            let desc = RX_RING + slot * DESC_SIZE;
            let status = RxStatus::from_bits_retain(hal.dma_read16(&dma, desc + DESC_STATUS));
            if status.contains(RxStatus::OWN) {
                return None;
            }
            hal.dma_fence();
            let mcnt = (hal.dma_read32(&dma, desc + DESC_MISC) & MCNT_MASK) as usize;
            let mut len = None;
            if status.contains(RxStatus::STP) {
                // A frame chained over several buffers (STP without ENP) is longer than any
                // frame this driver returns: dropped here, its other buffers below.
                let whole = status.contains(RxStatus::ENP) && !status.contains(RxStatus::ERR);
                let fits = (FCS_LEN + 1..=BUF_SIZE).contains(&mcnt) && mcnt - FCS_LEN <= buf.len();
                if whole && fits {
                    len = Some(mcnt - FCS_LEN);
                } else {
                    self.rx_dropped = self.rx_dropped.wrapping_add(1);
                }
            }
            let mut good = None;
            if let Some(len) = len {
                hal.dma_read_bytes(&dma, RX_BUFS + slot * BUF_SIZE, &mut buf[..len]);
                // A LADRF hash collision, or a frame accepted just before a filter change.
                if self.filter.accepts(&self.station, &buf[..len]) {
                    good = Some(len);
                }
            }
            self.give_rx(hal, &dma, slot);
            hal.dma_fence();
            self.rx_next = (slot + 1) % RX_COUNT;
            if good.is_some() {
                return good;
            }
        }
        None
    }

    fn rx_dropped(&self) -> u32 {
        self.rx_dropped
    }
}
