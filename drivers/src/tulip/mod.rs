//! DEC 21143 ("tulip") driver (layer `drivers/`), written from the DECchip 21143 Hardware
//! Reference Manual (EC-QWC3C-TE: chapter 3 CSRs, chapter 4 descriptors and setup frames,
//! chapter 7 serial ROM port; the Digital Semiconductor 21X4 Serial ROM Format 4.09 for the
//! SROM layout) and checked against QEMU's `tulip` model.
//!
//! CSRs through the I/O window in BAR0 (every 21x4x has it and it needs no mapping; the
//! memory window in BAR1 is used only when BAR0 is not an I/O BAR). Ring mode (CSR0.DSL = 0,
//! RER/TER on the last descriptor), 16 receive descriptors and 8 transmit descriptors of one
//! 1536-byte buffer each, interrupts masked (CSR7 = 0). The chip has 32-bit descriptor and
//! buffer addresses.
//!
//! Receive filter (HRM chapter 4, setup frames): the filter table is loaded by a 192-byte setup
//! frame queued on the transmit ring (TDES1.SET), sent at every `open` and on every filter or
//! station change, and waited for (TDES0.OWN clear). Up to 16 addresses go in a perfect
//! filtering frame (station, broadcast, the multicast list; unused entries repeat the first);
//! more fall back to imperfect filtering (TDES1.FT0: the 512-bit hash table indexed by the low
//! 9 bits of the CRC-32, [`regs::setup_hash`], plus the station address matched exactly).
//! CSR6.PR is promiscuous, CSR6.PM all multicast. Every frame is also checked in software
//! (hash collisions; QEMU's model always passes broadcast and ignores the hash table).

pub mod regs;
pub mod serial;

use crate::filter::{RxFilter, BROADCAST};
use crate::hal::{poll_until, DmaRegion, Hal};
use crate::nic::{check_station, check_tx_len, Nic, NicError};
use crate::pci::{self, Command, PciAddress, PciId};
use crate::MIN_FRAME_LEN;
use regs::*;

/// Adapters this driver supports (the builder's adapter list reads it).
pub const PCI_IDS: &[PciId] = &[PciId::new(
    0x1011,
    0x0019,
    "DEC 21142/21143 Fast Ethernet (QEMU tulip)",
)];

/// Receive descriptors.
pub const RX_COUNT: usize = 16;
/// Transmit descriptors (setup frames use them too).
pub const TX_COUNT: usize = 8;
/// Buffer size per descriptor: a 1518-byte frame plus FCS, a multiple of 32 bytes.
pub const BUF_SIZE: usize = 1536;
const FCS_LEN: usize = 4;
const RX_RING: usize = 0;
const TX_RING: usize = RX_RING + RX_COUNT * DESC_SIZE;
const SETUP_BUF: usize = TX_RING + TX_COUNT * DESC_SIZE;
const RX_BUFS: usize = 1024;
const TX_BUFS: usize = RX_BUFS + RX_COUNT * BUF_SIZE;
const DMA_SIZE: usize = TX_BUFS + TX_COUNT * BUF_SIZE;
const _: () = assert!(SETUP_BUF + SETUP_LEN <= RX_BUFS && BUF_SIZE <= MAX_BUF_SIZE);

const RESET_TIMEOUT_US: u64 = 10_000;
const TX_TIMEOUT_US: u64 = 50_000;
const SETUP_TIMEOUT_US: u64 = 50_000;
const STOP_TIMEOUT_US: u64 = 10_000;

/// Where the CSRs are: the I/O window (BAR0) or the memory window (BAR1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regs {
    /// I/O ports from this base.
    Io(u16),
    /// Memory-mapped from this physical address.
    Mem(u64),
}

impl Regs {
    /// Reads a CSR (32 bits; `csr` is its byte offset, CSRn at 8 × n).
    pub fn read<H: Hal + ?Sized>(self, hal: &mut H, csr: u16) -> u32 {
        match self {
            Regs::Io(base) => hal.inl(base.wrapping_add(csr)),
            Regs::Mem(base) => hal.mmio_read32(base + u64::from(csr)),
        }
    }

    /// Writes a CSR.
    pub fn write<H: Hal + ?Sized>(self, hal: &mut H, csr: u16, value: u32) {
        match self {
            Regs::Io(base) => hal.outl(base.wrapping_add(csr), value),
            Regs::Mem(base) => hal.mmio_write32(base + u64::from(csr), value),
        }
    }
}

/// A 21143 card.
#[derive(Debug)]
pub struct Tulip {
    pci: PciAddress,
    regs: Regs,
    mac: [u8; 6],
    station: [u8; 6],
    filter: RxFilter,
    dma: Option<DmaRegion>,
    open: bool,
    /// MII PHY address, once looked for (`Some(None)`: no PHY answered).
    phy: Option<Option<u8>>,
    rx_next: usize,
    tx_next: usize,
    rx_dropped: u32,
}

impl Tulip {
    /// Takes the card at `pci`: the I/O window in BAR0 (else the memory window in BAR1),
    /// decoding enabled, the MAC read from the serial ROM.
    pub fn new<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> Result<Self, NicError> {
        let io = pci::read_bar(hal, pci, 0)
            .and_then(|bar| bar.io_port())
            .filter(|&port| port != 0);
        let regs = match io {
            Some(port) => {
                pci::enable(hal, pci, Command::IO_SPACE);
                Regs::Io(port)
            }
            None => {
                let mem = pci::read_bar(hal, pci, 1)
                    .and_then(|bar| bar.mem_addr())
                    .filter(|&addr| addr != 0)
                    .ok_or(NicError::BadBar)?;
                pci::enable(hal, pci, Command::MEMORY_SPACE);
                Regs::Mem(mem)
            }
        };
        let srom = serial::read_srom(hal, regs);
        let mac = serial::srom_mac(&srom).ok_or(NicError::EepromTimeout)?;
        Ok(Self {
            pci,
            regs,
            mac,
            station: mac,
            filter: RxFilter::new(),
            dma: None,
            open: false,
            phy: None,
            rx_next: 0,
            tx_next: 0,
            rx_dropped: 0,
        })
    }

    /// Where the CSRs are.
    pub fn regs(&self) -> Regs {
        self.regs
    }

    fn read<H: Hal + ?Sized>(&self, hal: &mut H, csr: u16) -> u32 {
        self.regs.read(hal, csr)
    }

    fn write<H: Hal + ?Sized>(&self, hal: &mut H, csr: u16, value: u32) {
        self.regs.write(hal, csr, value);
    }

    /// CSR0.SWR, then a bounded wait for the chip to clear it (HRM: 50 PCI clocks).
    fn reset<H: Hal + ?Sized>(&self, hal: &mut H) -> Result<(), NicError> {
        self.write(hal, CSR0, Csr0::SWR.bits());
        hal.delay_us(10);
        let done = poll_until(hal, RESET_TIMEOUT_US, |hal| {
            self.read(hal, CSR0) & Csr0::SWR.bits() == 0
        });
        self.write(hal, CSR7, 0);
        self.write(hal, CSR5, CSR5_CLEAR_ALL);
        if done {
            Ok(())
        } else {
            Err(NicError::ResetTimeout)
        }
    }

    /// The PHY address, looked for once (addresses 1–31, then 0).
    fn phy<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Option<u8> {
        if let Some(phy) = self.phy {
            return phy;
        }
        let found = (1..32u8).chain([0]).find(|&addr| {
            let bmsr = serial::mii_read(hal, self.regs, addr, mii::BMSR);
            bmsr != 0 && bmsr != 0xFFFF
        });
        self.phy = Some(found);
        found
    }

    /// Link state from the PHY: (up, speed in Mb/s, full duplex).
    fn phy_link<H: Hal + ?Sized>(&mut self, hal: &mut H, phy: u8) -> (bool, u64, bool) {
        let r = |hal: &mut H, reg| serial::mii_read(hal, self.regs, phy, reg);
        // Link status is latched low: the second read is the current state.
        r(hal, mii::BMSR);
        let up = r(hal, mii::BMSR) & mii::BMSR_LSTATUS != 0;
        let bmcr = r(hal, mii::BMCR);
        if bmcr & mii::BMCR_ANENABLE == 0 {
            let speed = if bmcr & mii::BMCR_SPEED100 != 0 {
                100
            } else {
                10
            };
            return (up, speed, bmcr & mii::BMCR_FULLDPLX != 0);
        }
        let common = r(hal, mii::ANAR) & r(hal, mii::ANLPAR);
        if common & (mii::AN_100FULL | mii::AN_100HALF) != 0 {
            (up, 100, common & mii::AN_100FULL != 0)
        } else {
            (up, 10, common & mii::AN_10FULL != 0)
        }
    }

    /// Link state from CSR12 when there is no PHY: (up, speed in Mb/s).
    fn sia_link<H: Hal + ?Sized>(&self, hal: &mut H) -> (bool, u64) {
        let csr12 = Csr12::from_bits_retain(self.read(hal, CSR12));
        if !csr12.contains(Csr12::LS100) {
            (true, 100)
        } else if !csr12.contains(Csr12::LS10) {
            (true, 10)
        } else {
            (false, 0)
        }
    }

    fn csr6<H: Hal + ?Sized>(&mut self, hal: &mut H, run: Csr6) -> u32 {
        let mut mode = Csr6::MBO | Csr6::SF | run;
        if let Some(phy) = self.phy(hal) {
            mode |= Csr6::PS | Csr6::HBD;
            if self.phy_link(hal, phy).2 {
                mode |= Csr6::FD;
            }
        }
        if self.filter.promiscuous {
            mode |= Csr6::PR;
        }
        if self.filter.wants_all_multicast() {
            mode |= Csr6::PM;
        }
        mode.bits()
    }

    /// The setup frame for the current station and filter, and whether it is a hash frame.
    fn setup_frame(&self) -> ([u8; SETUP_LEN], bool) {
        let f = &self.filter;
        let mut list = [[0u8; 6]; PERFECT_ENTRIES];
        let mut n = 0;
        let mut push = |mac: [u8; 6]| {
            if n < PERFECT_ENTRIES {
                list[n] = mac;
            }
            n += 1;
        };
        if f.directed {
            push(self.station);
        }
        if f.broadcast {
            push(BROADCAST);
        }
        for mac in f.multicast() {
            push(*mac);
        }
        if n <= PERFECT_ENTRIES {
            let filler = if n > 0 { list[0] } else { self.station };
            return (perfect_setup_frame(&list[..n], &filler), false);
        }
        let mut groups = [[0u8; 6]; PERFECT_ENTRIES + 1];
        let mut g = 0;
        for mac in f
            .multicast()
            .iter()
            .chain(f.broadcast.then_some(&BROADCAST))
        {
            groups[g] = *mac;
            g += 1;
        }
        (hash_setup_frame(&self.station, &groups[..g]), true)
    }

    /// Waits (bounded) until the transmit descriptor at `slot` is ours.
    fn wait_tx_slot<H: Hal + ?Sized>(
        &self,
        hal: &mut H,
        dma: &DmaRegion,
        slot: usize,
        timeout_us: u64,
    ) -> bool {
        let desc = TX_RING + slot * DESC_SIZE;
        poll_until(hal, timeout_us, |hal| {
            hal.dma_read32(dma, desc + DES0) & Tdes0::OWN.bits() == 0
        })
    }

    /// Queues a descriptor in the next transmit slot and kicks the transmitter.
    fn queue_tx<H: Hal + ?Sized>(
        &mut self,
        hal: &mut H,
        dma: &DmaRegion,
        control: Tdes1,
        buf: usize,
    ) {
        let slot = self.tx_next;
        let desc = TX_RING + slot * DESC_SIZE;
        let ter = if slot == TX_COUNT - 1 {
            Tdes1::TER
        } else {
            Tdes1::empty()
        };
        hal.dma_write32(dma, desc + DES1, (control | ter).bits());
        hal.dma_write32(dma, desc + DES2, dma.phys_at(buf) as u32);
        hal.dma_write32(dma, desc + DES3, 0);
        hal.dma_fence();
        hal.dma_write32(dma, desc + DES0, Tdes0::OWN.bits());
        hal.dma_fence();
        self.tx_next = (slot + 1) % TX_COUNT;
        self.write(hal, CSR1, 1);
    }

    /// Sends the setup frame for the current filter and station and waits until the chip
    /// has taken it (TDES0.OWN clear); the transmitter must be running.
    fn send_setup<H: Hal + ?Sized>(
        &mut self,
        hal: &mut H,
        dma: &DmaRegion,
    ) -> Result<(), NicError> {
        let slot = self.tx_next;
        if !self.wait_tx_slot(hal, dma, slot, TX_TIMEOUT_US) {
            return Err(NicError::FilterRefused);
        }
        let (frame, hash) = self.setup_frame();
        hal.dma_write_bytes(dma, SETUP_BUF, &frame);
        let mut control = Tdes1::SET | Tdes1::from_bits_retain(SETUP_LEN as u32);
        if hash {
            control |= Tdes1::FT0;
        }
        self.queue_tx(hal, dma, control, SETUP_BUF);
        if self.wait_tx_slot(hal, dma, slot, SETUP_TIMEOUT_US) {
            Ok(())
        } else {
            Err(NicError::FilterRefused)
        }
    }

    /// Programs a changed filter or station on an open card: CSR6 filter bits, setup frame.
    fn reprogram<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        let Some(dma) = self.dma.filter(|_| self.open) else {
            return Ok(());
        };
        let mode = self.csr6(hal, Csr6::SR | Csr6::ST);
        self.write(hal, CSR6, mode);
        self.send_setup(hal, &dma)
    }

    fn init_rings<H: Hal + ?Sized>(&mut self, hal: &mut H, dma: &DmaRegion) {
        for i in 0..RX_COUNT {
            self.give_rx(hal, dma, i);
        }
        for i in 0..TX_COUNT {
            let desc = TX_RING + i * DESC_SIZE;
            let ter = if i == TX_COUNT - 1 {
                Tdes1::TER.bits()
            } else {
                0
            };
            hal.dma_write32(dma, desc + DES0, 0);
            hal.dma_write32(dma, desc + DES1, ter);
            hal.dma_write32(dma, desc + DES2, 0);
            hal.dma_write32(dma, desc + DES3, 0);
        }
        self.rx_next = 0;
        self.tx_next = 0;
        hal.dma_fence();
        self.write(hal, CSR3, dma.phys_at(RX_RING) as u32);
        self.write(hal, CSR4, dma.phys_at(TX_RING) as u32);
    }

    /// Hands receive descriptor `slot` (re-written whole: the chip's copy is not trusted) back.
    fn give_rx<H: Hal + ?Sized>(&self, hal: &mut H, dma: &DmaRegion, slot: usize) {
        let desc = RX_RING + slot * DESC_SIZE;
        let rer = if slot == RX_COUNT - 1 {
            Rdes1::RER.bits()
        } else {
            0
        };
        hal.dma_write32(dma, desc + DES1, rer | BUF_SIZE as u32);
        hal.dma_write32(
            dma,
            desc + DES2,
            dma.phys_at(RX_BUFS + slot * BUF_SIZE) as u32,
        );
        hal.dma_write32(dma, desc + DES3, 0);
        hal.dma_fence();
        hal.dma_write32(dma, desc + DES0, Rdes0::OWN.bits());
    }

    /// Stops both DMA engines (bounded wait for the process states in CSR5 to reach stopped).
    fn stop<H: Hal + ?Sized>(&self, hal: &mut H) {
        let mode = self.read(hal, CSR6) & !(Csr6::SR | Csr6::ST).bits();
        self.write(hal, CSR6, mode);
        poll_until(hal, STOP_TIMEOUT_US, |hal| {
            let csr5 = self.read(hal, CSR5);
            (csr5 >> CSR5_RS_SHIFT) & 7 == 0 && (csr5 >> CSR5_TS_SHIFT) & 7 == 0
        });
    }
}

impl Nic for Tulip {
    fn open<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        let dma = match self.dma {
            Some(dma) => dma,
            None => {
                let dma = hal.dma_alloc(DMA_SIZE, 4096).ok_or(NicError::NoDmaMemory)?;
                if !dma.below_4g() {
                    return Err(NicError::DmaUnreachable);
                }
                self.dma = Some(dma);
                dma
            }
        };
        self.open = false;
        let decode = match self.regs {
            Regs::Io(_) => Command::IO_SPACE,
            Regs::Mem(_) => Command::MEMORY_SPACE,
        };
        pci::enable(hal, self.pci, decode | Command::BUS_MASTER);
        self.reset(hal)?;
        self.write(hal, CSR0, CSR0_BUS_MODE);
        self.init_rings(hal, &dma);
        // Transmitter first, so the setup frame is in the filter before frames arrive.
        let mode = self.csr6(hal, Csr6::ST);
        self.write(hal, CSR6, mode);
        self.send_setup(hal, &dma)?;
        self.write(hal, CSR6, mode | Csr6::SR.bits());
        self.write(hal, CSR2, 1);
        self.open = true;
        Ok(())
    }

    fn close<H: Hal + ?Sized>(&mut self, hal: &mut H) {
        if let (true, Some(dma)) = (self.open, self.dma) {
            if self.station != self.mac {
                // The chip keeps no address outside its filter table: leave the permanent
                // one there for the next driver (QEMU's model keeps the table over a reset).
                let (station, filter) = (self.station, self.filter);
                (self.station, self.filter) = (self.mac, RxFilter::new());
                let _ = self.send_setup(hal, &dma);
                (self.station, self.filter) = (station, filter);
            }
        }
        self.stop(hal);
        // A reset that times out still leaves SR/ST cleared and bus mastering off below.
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
        self.reprogram(hal)
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
        self.reprogram(hal)
    }

    fn link_speed_bps<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Option<u64> {
        let (up, mbps) = match self.phy(hal) {
            Some(phy) => {
                let (up, mbps, _) = self.phy_link(hal, phy);
                (up, mbps)
            }
            None => self.sia_link(hal),
        };
        up.then_some(mbps * 1_000_000)
    }

    fn rx_ring_len(&self) -> u16 {
        RX_COUNT as u16
    }

    fn tx_ring_len(&self) -> u16 {
        TX_COUNT as u16
    }

    fn link_up<H: Hal + ?Sized>(&mut self, hal: &mut H) -> bool {
        self.link_speed_bps(hal).is_some()
    }

    fn transmit<H: Hal + ?Sized>(&mut self, hal: &mut H, frame: &[u8]) -> Result<(), NicError> {
        check_tx_len(frame)?;
        let dma = match (self.open, self.dma) {
            (true, Some(dma)) => dma,
            _ => return Err(NicError::NotOpen),
        };
        let slot = self.tx_next;
        if !self.wait_tx_slot(hal, &dma, slot, TX_TIMEOUT_US) {
            return Err(NicError::TxTimeout);
        }
        let buf = TX_BUFS + slot * BUF_SIZE;
        hal.dma_write_bytes(&dma, buf, frame);
        let len = frame.len().max(MIN_FRAME_LEN);
        if frame.len() < len {
            hal.dma_write_bytes(&dma, buf + frame.len(), &[0; MIN_FRAME_LEN][frame.len()..]);
        }
        let control = Tdes1::FS | Tdes1::LS | Tdes1::from_bits_retain(len as u32);
        self.queue_tx(hal, &dma, control, buf);
        Ok(())
    }

    fn receive<H: Hal + ?Sized>(&mut self, hal: &mut H, buf: &mut [u8]) -> Option<usize> {
        let dma = match (self.open, self.dma) {
            (true, Some(dma)) => dma,
            _ => return None,
        };
        for _ in 0..RX_COUNT {
            let slot = self.rx_next;
            let rdes0 = Rdes0::from_bits_retain(hal.dma_read32(&dma, RX_RING + slot * DESC_SIZE));
            if rdes0.contains(Rdes0::OWN) {
                return None;
            }
            hal.dma_fence();
            let fl = rdes0_frame_len(rdes0.bits());
            let whole = rdes0.contains(Rdes0::FS | Rdes0::LS) && !rdes0.contains(Rdes0::ES);
            let len = fl.wrapping_sub(FCS_LEN);
            let mut good = whole && fl > FCS_LEN && fl <= BUF_SIZE && len <= buf.len();
            if good {
                hal.dma_read_bytes(&dma, RX_BUFS + slot * BUF_SIZE, &mut buf[..len]);
                // A hash collision, QEMU's unconditional broadcast, or a change in flight.
                good = self.filter.accepts(&self.station, &buf[..len]);
            } else if rdes0.contains(Rdes0::FS) {
                // One count per dropped frame, at its first descriptor (errored, too long,
                // or spanning several); continuation descriptors go back silently.
                self.rx_dropped = self.rx_dropped.wrapping_add(1);
            }
            self.give_rx(hal, &dma, slot);
            hal.dma_fence();
            self.rx_next = (slot + 1) % RX_COUNT;
            self.write(hal, CSR2, 1);
            if good {
                return Some(len);
            }
        }
        None
    }

    fn rx_dropped(&self) -> u32 {
        self.rx_dropped
    }
}
