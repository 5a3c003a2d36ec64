//! Intel 8255x (EtherExpress PRO/100) driver (layer `drivers/`), written from Intel's "8255x
//! 10/100 Mbps Ethernet Controller Family Open Source Software Developer Manual" — §6.3 (SCB:
//! status, command, general pointer, PORT, EEPROM and MDI control), §6.3.3 (PORT selective and
//! software reset), §5.3 (serial EEPROM), §6.4 (command unit: command block list, Individual
//! Address Setup, Configure with the 22-byte block of §6.4.2.3, Multicast Setup, Transmit in
//! simplified mode), §6.5 (receive unit: receive frame area of simplified RFDs, EL bit, RU
//! start) — and checked against QEMU 7.2's `hw/net/eepro100.c` behaviour.
//!
//! Registers through the I/O BAR (BAR1). BAR0 maps the same registers as memory, but QEMU
//! declares it prefetchable, and a firmware that maps prefetchable BARs write-combining would
//! merge and reorder the SCB accesses; port I/O is strongly ordered in both firmwares.
//!
//! Command unit: a ring of [`CB_SLOTS`] command blocks linked in a circle, each new block
//! written with EL set before the EL bit of the previous one is cleared, so the CU never runs
//! into a stale block. The CU is (re)started with CU Start at the oldest unfinished block only
//! while the SCB says it is idle (read before looking at the blocks), so a block is never
//! executed twice and a block the CU missed because it saw the old EL is picked up by the next
//! `transmit` or `receive`. Receive unit: [`RX_SLOTS`] RFDs in a circle with EL on the one
//! behind the driver's read position; each consumed RFD gets EL and its predecessor loses it.
//! When the RU reports no resources (the ring filled up), the driver restarts it at its read
//! position once the ring is drained.
//!
//! Receive filter: the station address by Individual Address Setup, broadcast disable (byte 15
//! bit 1), promiscuous (byte 15 bit 0) and multicast all (byte 21 bit 3) in the configure block,
//! the multicast list by Multicast Setup (the chip hashes it into 64 bits, so collisions are
//! dropped in software). The chip always receives its individual address, so "directed off" is
//! software only; QEMU ignores broadcast disable, so that is software too.

mod ids;
mod regs;
mod serial;

pub use ids::PCI_IDS;
pub use regs::*;
pub use serial::{eeprom_detect, eeprom_read, mdi_read};

use crate::filter::RxFilter;
use crate::hal::{poll_until, DmaRegion, Hal};
use crate::nic::{check_station, check_tx_len, Nic, NicError};
use crate::pci::{self, Command, PciAddress};
use crate::{MAX_FRAME_LEN, MIN_FRAME_LEN};

/// Receive frame descriptors in the receive frame area.
pub const RX_SLOTS: usize = 16;
/// Command blocks in the command block list (transmit and setup commands share it).
pub const CB_SLOTS: usize = 8;
/// Bytes per RFD and per command block: 16-byte header + data, a multiple of 16.
pub const SLOT_STRIDE: usize = 1536;
/// Data bytes of an RFD (its size field; even, as §6.5 asks).
pub const RX_BUF_LEN: usize = SLOT_STRIDE - RFD_DATA;
/// Offset of the receive frame area in the DMA region.
pub const RFA_OFFSET: usize = 0;
/// Offset of the command block list in the DMA region.
pub const CBL_OFFSET: usize = RX_SLOTS * SLOT_STRIDE;
const DMA_SIZE: usize = CBL_OFFSET + CB_SLOTS * SLOT_STRIDE;

/// After each PORT reset (§6.3.3: wait 10 µs before the next SCB access).
const PORT_RESET_DELAY_US: u32 = 20;
const RESET_TIMEOUT_US: u64 = 100_000;
/// The SCB command byte is cleared when the command is accepted (a few µs on hardware).
const SCB_TIMEOUT_US: u64 = 10_000;
const TX_TIMEOUT_US: u64 = 50_000;
/// Setup commands (IA, Configure, Multicast) take microseconds; allow a queue of frames first.
const SETUP_TIMEOUT_US: u64 = 100_000;
/// How long an RFD with C set but no FR since the last acknowledgement may still be in flight
/// (QEMU writes the status before the count and the data, from another thread).
const RX_GRACE_US: u64 = 1_000;

/// A setup command for the command unit.
#[derive(Clone, Copy, Debug)]
enum Setup {
    Ia([u8; 6]),
    Configure,
    Multicast,
}

/// An Intel 8255x card.
#[derive(Debug)]
pub struct I8255x {
    pci: PciAddress,
    io: u16,
    mac: [u8; 6],
    station: [u8; 6],
    filter: RxFilter,
    generation: Generation,
    phy: u8,
    dma: Option<DmaRegion>,
    open: bool,
    /// Next RFD the driver reads.
    rx_next: usize,
    /// Next command block slot to write.
    cb_next: usize,
    /// Oldest command block not yet seen complete.
    cb_oldest: usize,
    /// Command blocks handed to the CU and not yet seen complete.
    cb_pending: usize,
    rx_dropped: u32,
    /// When the driver first saw C on `rx_next` without FR to confirm it (see `receive`).
    rx_wait_since: Option<u64>,
}

impl I8255x {
    /// Takes the card at `pci`: decodes I/O BAR1, enables I/O decoding, reads the MAC (EEPROM
    /// words 0–2) and the PHY address (word 6).
    pub fn new<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> Result<Self, NicError> {
        let io = pci::read_bar(hal, pci, 1)
            .and_then(|bar| bar.io_port())
            .filter(|&port| port != 0)
            .ok_or(NicError::BadBar)?;
        pci::enable(hal, pci, Command::IO_SPACE);
        let (bits, w0) = eeprom_detect(hal, io).ok_or(NicError::EepromTimeout)?;
        let mut read = |addr| eeprom_read(hal, io, bits, addr).ok_or(NicError::EepromTimeout);
        let (w1, w2, phy) = (read(1)?, read(2)?, read(EEPROM_PHY_WORD)?);
        let [a, b] = w0.to_le_bytes();
        let [c, d] = w1.to_le_bytes();
        let [e, f] = w2.to_le_bytes();
        let mac = [a, b, c, d, e, f];
        if crate::filter::is_group(&mac) || mac == [0; 6] {
            return Err(NicError::EepromTimeout);
        }
        let (_, device) = pci::vendor_device(hal, pci);
        let revision = hal.pci_read8(pci, 0x08);
        let generation = if device == 0x1229 && revision < 4 {
            Generation::I82557
        } else {
            Generation::I82558Plus
        };
        Ok(Self {
            pci,
            io,
            mac,
            station: mac,
            filter: RxFilter::new(),
            generation,
            phy: (phy & 0x1F) as u8,
            dma: None,
            open: false,
            rx_next: 0,
            cb_next: 0,
            cb_oldest: 0,
            cb_pending: 0,
            rx_dropped: 0,
            rx_wait_since: None,
        })
    }

    /// The configure-block generation chosen from the PCI device and revision IDs.
    pub fn generation(&self) -> Generation {
        self.generation
    }

    fn scb_status<H: Hal + ?Sized>(&self, hal: &mut H) -> u8 {
        hal.inb(self.io + SCB_STATUS)
    }

    /// Waits for the previous SCB command to be accepted (command byte back to 0).
    fn scb_idle<H: Hal + ?Sized>(&self, hal: &mut H, timeout_us: u64) -> bool {
        poll_until(hal, timeout_us, |hal| hal.inb(self.io + SCB_COMMAND) == 0)
    }

    /// Issues an SCB command with `pointer` in the general pointer, interrupts masked.
    fn scb_command<H: Hal + ?Sized>(&self, hal: &mut H, cmd: u8, pointer: u32) -> bool {
        if !self.scb_idle(hal, SCB_TIMEOUT_US) {
            return false;
        }
        hal.outl(self.io + SCB_POINTER, pointer);
        hal.outw(self.io + SCB_COMMAND, scb_command(cmd));
        true
    }

    /// PORT selective reset (stops the CU/RU and DMA cleanly), then PORT software reset.
    fn reset<H: Hal + ?Sized>(&self, hal: &mut H) -> Result<(), NicError> {
        hal.outl(self.io + PORT, PORT_SELECTIVE_RESET);
        hal.delay_us(PORT_RESET_DELAY_US);
        hal.outl(self.io + PORT, PORT_SOFTWARE_RESET);
        hal.delay_us(PORT_RESET_DELAY_US);
        if !self.scb_idle(hal, RESET_TIMEOUT_US) {
            return Err(NicError::ResetTimeout);
        }
        // A software reset unmasks the interrupt line: mask it, acknowledge anything pending.
        hal.outb(self.io + SCB_COMMAND + 1, SCB_INT_M);
        hal.outb(self.io + SCB_STATACK, 0xFF);
        Ok(())
    }

    fn rfd(slot: usize) -> usize {
        RFA_OFFSET + slot * SLOT_STRIDE
    }

    fn cb(slot: usize) -> usize {
        CBL_OFFSET + slot * SLOT_STRIDE
    }

    /// Makes RFD `slot` empty, with EL as given.
    fn write_rfd<H: Hal + ?Sized>(hal: &mut H, dma: &DmaRegion, slot: usize, el: bool) {
        let o = Self::rfd(slot);
        hal.dma_write16(dma, o + CB_STATUS, 0);
        hal.dma_write16(dma, o + CB_COMMAND, if el { CMD_EL } else { 0 });
        let next = dma.phys_at(Self::rfd((slot + 1) % RX_SLOTS));
        hal.dma_write32(dma, o + CB_LINK, next as u32);
        hal.dma_write32(dma, o + RFD_RBD, NO_TBD);
        hal.dma_write16(dma, o + RFD_COUNT, 0);
        hal.dma_write16(dma, o + RFD_SIZE, RX_BUF_LEN as u16);
    }

    /// Reset, CU/RU bases, receive frame area, RU start, then the setup commands.
    fn start<H: Hal + ?Sized>(&mut self, hal: &mut H, dma: &DmaRegion) -> Result<(), NicError> {
        self.reset(hal)?;
        // Links are absolute bus addresses: both bases are 0.
        let ok = self.scb_command(hal, CUC_LOAD_BASE, 0) && self.scb_command(hal, RUC_LOAD_BASE, 0);
        if !ok {
            return Err(NicError::DeviceRefused);
        }
        for slot in 0..RX_SLOTS {
            Self::write_rfd(hal, dma, slot, slot == RX_SLOTS - 1);
        }
        for slot in 0..CB_SLOTS {
            let o = Self::cb(slot);
            hal.dma_write16(dma, o + CB_STATUS, STATUS_C | STATUS_OK);
            hal.dma_write16(dma, o + CB_COMMAND, CMD_EL);
            let next = dma.phys_at(Self::cb((slot + 1) % CB_SLOTS));
            hal.dma_write32(dma, o + CB_LINK, next as u32);
        }
        self.rx_next = 0;
        self.rx_wait_since = None;
        self.cb_next = 0;
        self.cb_oldest = 0;
        self.cb_pending = 0;
        hal.dma_fence();
        if !self.scb_command(hal, RUC_START, dma.phys_at(Self::rfd(0)) as u32) {
            return Err(NicError::DeviceRefused);
        }
        self.setup(
            hal,
            dma,
            &[Setup::Ia(self.station), Setup::Configure, Setup::Multicast],
        )
    }

    /// Links the next command block (contents written, `cmd` its command) into the list: EL on
    /// it, then EL off its predecessor. The CU sees it once [`Self::kick`] runs.
    fn enqueue<H: Hal + ?Sized>(&mut self, hal: &mut H, dma: &DmaRegion, cmd: u16) {
        let slot = self.cb_next;
        let o = Self::cb(slot);
        hal.dma_write16(dma, o + CB_STATUS, 0);
        hal.dma_write16(dma, o + CB_COMMAND, cmd | CMD_EL);
        hal.dma_fence();
        if self.cb_pending > 0 {
            let prev = Self::cb((slot + CB_SLOTS - 1) % CB_SLOTS) + CB_COMMAND;
            let c = hal.dma_read16(dma, prev);
            hal.dma_write16(dma, prev, c & !CMD_EL);
            hal.dma_fence();
        }
        self.cb_pending += 1;
        self.cb_next = (slot + 1) % CB_SLOTS;
    }

    /// Retires finished command blocks and, if the CU is idle with blocks left, starts it at the
    /// oldest one. The CU state is read first: once idle, it touches no block until started.
    fn kick<H: Hal + ?Sized>(&mut self, hal: &mut H, dma: &DmaRegion) -> bool {
        let idle = self.scb_status(hal) & CUS_MASK == CUS_IDLE;
        hal.dma_fence();
        while self.cb_pending > 0
            && hal.dma_read16(dma, Self::cb(self.cb_oldest) + CB_STATUS) & STATUS_C != 0
        {
            self.cb_oldest = (self.cb_oldest + 1) % CB_SLOTS;
            self.cb_pending -= 1;
        }
        if !idle || self.cb_pending == 0 {
            return true;
        }
        let at = dma.phys_at(Self::cb(self.cb_oldest)) as u32;
        self.scb_command(hal, CUC_START, at)
    }

    /// Runs setup commands through the command block list and waits for them.
    fn setup<H: Hal + ?Sized>(
        &mut self,
        hal: &mut H,
        dma: &DmaRegion,
        cmds: &[Setup],
    ) -> Result<(), NicError> {
        let drained = poll_until(hal, SETUP_TIMEOUT_US, |hal| {
            self.kick(hal, dma) && self.cb_pending == 0
        });
        if !drained {
            return Err(NicError::DeviceRefused);
        }
        let first = self.cb_next;
        for cmd in cmds.iter().take(CB_SLOTS) {
            let o = Self::cb(self.cb_next) + CB_DATA;
            let code = match *cmd {
                Setup::Ia(mac) => {
                    hal.dma_write_bytes(dma, o, &mac);
                    CMD_IA_SETUP
                }
                Setup::Configure => {
                    hal.dma_write_bytes(dma, o, &configure_block(self.generation, &self.filter));
                    CMD_CONFIGURE
                }
                Setup::Multicast => {
                    let list = self.filter.multicast();
                    hal.dma_write16(dma, o, (list.len() * 6) as u16);
                    for (i, mac) in list.iter().enumerate() {
                        hal.dma_write_bytes(dma, o + 2 + 6 * i, mac);
                    }
                    CMD_MC_SETUP
                }
            };
            self.enqueue(hal, dma, code);
        }
        // One CU start for the whole list.
        if !self.kick(hal, dma) {
            return Err(NicError::DeviceRefused);
        }
        let done = poll_until(hal, SETUP_TIMEOUT_US, |hal| {
            self.kick(hal, dma) && self.cb_pending == 0
        });
        if !done {
            return Err(NicError::FilterRefused);
        }
        for i in 0..cmds.len().min(CB_SLOTS) {
            let status = hal.dma_read16(dma, Self::cb((first + i) % CB_SLOTS) + CB_STATUS);
            if status & STATUS_OK == 0 {
                return Err(NicError::FilterRefused);
            }
        }
        Ok(())
    }

    /// Runs setup commands now if the card is open.
    fn reapply<H: Hal + ?Sized>(&mut self, hal: &mut H, cmds: &[Setup]) -> Result<(), NicError> {
        match (self.open, self.dma) {
            (true, Some(dma)) => self.setup(hal, &dma, cmds),
            _ => Ok(()),
        }
    }

    fn phy_read<H: Hal + ?Sized>(&self, hal: &mut H, reg: u8) -> Option<u16> {
        mdi_read(hal, self.io, self.phy, reg)
    }

    /// Restarts the RU at the driver's read position if it has stopped (no resources, idle).
    fn restart_rx<H: Hal + ?Sized>(&mut self, hal: &mut H, dma: &DmaRegion) {
        let rus = self.scb_status(hal) & RUS_MASK;
        if rus == RUS_NO_RESOURCES || rus == RUS_IDLE {
            // Everything from rx_next on is empty: the RU stopped after the EL RFD, which is
            // the one just behind rx_next.
            let _ = self.scb_command(hal, RUC_START, dma.phys_at(Self::rfd(self.rx_next)) as u32);
        }
    }
}

impl Nic for I8255x {
    fn open<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        let dma = match self.dma {
            Some(dma) => dma,
            None => {
                let dma = hal.dma_alloc(DMA_SIZE, 16).ok_or(NicError::NoDmaMemory)?;
                self.dma = Some(dma);
                dma
            }
        };
        // Links, the general pointer and RFD/CB addresses are 32-bit.
        if !dma.below_4g() {
            return Err(NicError::DmaUnreachable);
        }
        self.open = false;
        pci::enable(hal, self.pci, Command::IO_SPACE | Command::BUS_MASTER);
        self.start(hal, &dma)?;
        self.open = true;
        Ok(())
    }

    fn close<H: Hal + ?Sized>(&mut self, hal: &mut H) {
        if let (true, Some(dma)) = (self.open, self.dma) {
            // QEMU copies the individual address into its EEPROM image on reset, and a real
            // chip forgets it: either way the next driver should find the permanent one.
            if self.station != self.mac {
                let _ = self.setup(hal, &dma, &[Setup::Ia(self.mac)]);
            }
        }
        // A reset that times out has still stopped both units: PORT resets act at once.
        let _ = self.reset(hal);
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
        self.reapply(hal, &[Setup::Ia(mac)])
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
        self.reapply(hal, &[Setup::Configure, Setup::Multicast])
    }

    fn link_speed_bps<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Option<u64> {
        if !self.link_up(hal) {
            return None;
        }
        let bmcr = self.phy_read(hal, MII_BMCR)?;
        if bmcr & BMCR_ANENABLE != 0 {
            let common = self.phy_read(hal, MII_ANAR)? & self.phy_read(hal, MII_ANLPAR)?;
            if common & AN_100 != 0 {
                return Some(100_000_000);
            }
            if common != 0 {
                return Some(10_000_000);
            }
        }
        Some(if bmcr & BMCR_SPEED100 != 0 {
            100_000_000
        } else {
            10_000_000
        })
    }

    fn rx_ring_len(&self) -> u16 {
        RX_SLOTS as u16
    }

    fn tx_ring_len(&self) -> u16 {
        CB_SLOTS as u16
    }

    fn link_up<H: Hal + ?Sized>(&mut self, hal: &mut H) -> bool {
        // BMSR.link is latched low: the second read is the current state.
        let _ = self.phy_read(hal, MII_BMSR);
        self.phy_read(hal, MII_BMSR)
            .is_some_and(|bmsr| bmsr & BMSR_LINK != 0)
    }

    fn transmit<H: Hal + ?Sized>(&mut self, hal: &mut H, frame: &[u8]) -> Result<(), NicError> {
        check_tx_len(frame)?;
        let dma = match (self.open, self.dma) {
            (true, Some(dma)) => dma,
            _ => return Err(NicError::NotOpen),
        };
        let free = poll_until(hal, TX_TIMEOUT_US, |hal| {
            self.kick(hal, &dma) && self.cb_pending < CB_SLOTS
        });
        if !free {
            return Err(NicError::TxTimeout);
        }
        let o = Self::cb(self.cb_next);
        hal.dma_write_bytes(&dma, o + TCB_FRAME, frame);
        let len = frame.len().max(MIN_FRAME_LEN);
        if frame.len() < MIN_FRAME_LEN {
            let pad = &[0; MIN_FRAME_LEN][frame.len()..];
            hal.dma_write_bytes(&dma, o + TCB_FRAME + frame.len(), pad);
        }
        hal.dma_write32(&dma, o + TCB_TBD_ARRAY, NO_TBD);
        hal.dma_write16(&dma, o + TCB_COUNT, len as u16 | TCB_EOF);
        hal.dma_write8(&dma, o + TCB_THRESHOLD, TX_THRESHOLD);
        hal.dma_write8(&dma, o + TCB_TBD_NUMBER, 0);
        self.enqueue(hal, &dma, CMD_TRANSMIT);
        if self.kick(hal, &dma) {
            Ok(())
        } else {
            Err(NicError::TxTimeout)
        }
    }

    fn receive<H: Hal + ?Sized>(&mut self, hal: &mut H, buf: &mut [u8]) -> Option<usize> {
        let dma = match (self.open, self.dma) {
            (true, Some(dma)) => dma,
            _ => return None,
        };
        if self.cb_pending > 0 {
            // A transmit the CU missed (it saw the old EL): start it now.
            let _ = self.kick(hal, &dma);
        }
        for _ in 0..RX_SLOTS {
            let slot = self.rx_next;
            let o = Self::rfd(slot);
            hal.dma_fence();
            let status = hal.dma_read16(&dma, o + CB_STATUS);
            if status & STATUS_C == 0 {
                self.restart_rx(hal, &dma);
                return None;
            }
            // QEMU writes C|OK first, then the count, then the frame, then sets STAT/ACK FR,
            // while the CPU runs on; a real chip writes the status last. This RFD is complete
            // if FR was set since the last acknowledgement (a frame at or after this one
            // completed) or the next RFD has C (frames are written in order). Otherwise FR was
            // acknowledged together with an earlier frame, and the RFD is taken after a short
            // grace period (once per burst: the last frame of one).
            let next = Self::rfd((slot + 1) % RX_SLOTS) + CB_STATUS;
            let confirmed = hal.inb(self.io + SCB_STATACK) & STATACK_FR != 0
                || hal.dma_read16(&dma, next) & STATUS_C != 0;
            if !confirmed {
                let now = hal.now_us();
                let since = *self.rx_wait_since.get_or_insert(now);
                if now.saturating_sub(since) < RX_GRACE_US {
                    return None;
                }
            }
            self.rx_wait_since = None;
            hal.outb(self.io + SCB_STATACK, STATACK_FR);
            hal.dma_fence();
            // QEMU writes the bare count; a real chip adds EOF and F in bits 15:14.
            let len = usize::from(hal.dma_read16(&dma, o + RFD_COUNT) & RFD_COUNT_MASK);
            let good = status & STATUS_OK != 0 && (14..=MAX_FRAME_LEN).contains(&len);
            let mut accepted = false;
            if good && len <= buf.len() {
                hal.dma_read_bytes(&dma, o + RFD_DATA, &mut buf[..len]);
                // A multicast hash collision, directed off, or broadcast off (QEMU ignores it).
                accepted = self.filter.accepts(&self.station, &buf[..len]);
            } else {
                self.rx_dropped = self.rx_dropped.wrapping_add(1);
            }
            // EL moves: this RFD becomes the end of the list, its predecessor stops being it.
            Self::write_rfd(hal, &dma, slot, true);
            hal.dma_fence();
            let prev = Self::rfd((slot + RX_SLOTS - 1) % RX_SLOTS) + CB_COMMAND;
            hal.dma_write16(&dma, prev, 0);
            hal.dma_fence();
            self.rx_next = (slot + 1) % RX_SLOTS;
            if accepted {
                return Some(len);
            }
        }
        None
    }

    fn rx_dropped(&self) -> u32 {
        self.rx_dropped
    }
}

const _: () = assert!(RX_BUF_LEN >= MAX_FRAME_LEN && RX_BUF_LEN.is_multiple_of(2));
const _: () = assert!(16 + 6 * crate::filter::MAX_MULTICAST <= SLOT_STRIDE);
