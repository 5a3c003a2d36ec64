//! Intel 8254x ("e1000") driver (layer `drivers/`), written from the PCI/PCI-X Family of Gigabit
//! Ethernet Controllers SDM (317453) §14 (initialisation) and checked against QEMU's `e1000`
//! models: MMIO BAR0, legacy descriptors, 8 RX and 8 TX descriptors of 2048-byte buffers,
//! interrupts masked.
//!
//! Receive filter (SDM §13.4.22 RCTL, §13.5.1 MTA, §13.5.2–3 RAL/RAH): the station address is
//! receive address entry 0 (RAL0/RAH0, Address Valid only while directed frames are wanted;
//! entries 1–15 are cleared), multicast addresses set their bit in the 4096-bit Multicast Table
//! Array (hash = address bits 47:36, RCTL.MO = 00b), RCTL.BAM accepts broadcast, RCTL.MPE all
//! multicast and RCTL.UPE all unicast (promiscuous sets UPE, MPE and BAM: QEMU's model applies
//! UPE to unicast only). Hash collisions are filtered out in [`Nic::receive`].
//!
//! The 82574L (PCIe, QEMU `e1000e`) is driven by the same code with [`Model::I82574`]: it keeps
//! the 8254x register file, the legacy descriptors (RCTL.DTYP = 00b and RFCTL.EXTEN clear, the
//! reset values) and RAL/RAH/MTA/RCTL/TCTL as they are. What differs (82574 GbE Controller
//! Family datasheet 317694, §10.2.2.3 EERD, §10.2.2.5 CTRL_EXT): EERD has DONE in bit 1 and
//! the word address in bits 15:2 (8254x: DONE bit 4, address 15:8), and CTRL_EXT.DRV_LOAD tells
//! the manageability firmware a driver owns the port (set in `open`, cleared in `close`).
//! MSI-X, IVAR and the interrupt moderation timers stay unused (polled, IMC all ones).

pub mod regs;

use crate::filter::RxFilter;
use crate::hal::{poll_until, DmaRegion, Hal};
use crate::nic::{check_station, check_tx_len, Nic, NicError};
use crate::pci::{self, Command, PciAddress, PciId};
use regs::*;

/// Adapters this driver supports (the builder's adapter list reads it).
pub const PCI_IDS: &[PciId] = &[
    PciId::new(
        0x8086,
        0x100E,
        "Intel 82540EM Gigabit (QEMU e1000, Bochs e1000)",
    ),
    PciId::new(0x8086, 0x100C, "Intel 82544GC Gigabit (QEMU e1000-82544gc)"),
    PciId::new(
        0x8086,
        0x100F,
        "Intel 82545EM Gigabit copper (QEMU e1000-82545em)",
    ),
    PciId::new(0x8086, 0x1004, "Intel 82543GC Gigabit copper"),
    PciId::new(0x8086, 0x1015, "Intel 82540EM Gigabit LOM"),
    PciId::new(0x8086, 0x1026, "Intel 82545GM Gigabit copper"),
    PciId::new(0x8086, 0x1076, "Intel 82541GI Gigabit"),
    PciId::new(0x8086, 0x10D3, "Intel 82574L Gigabit (QEMU e1000e)"),
    PciId::new(0x8086, 0x10F6, "Intel 82574LA Gigabit"),
];

/// Which register-model variant a device ID selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// 8254x (PCI/PCI-X): EERD DONE bit 4, address bits 15:8.
    I8254x,
    /// 82574 (PCIe): EERD DONE bit 1, address bits 15:2; CTRL_EXT.DRV_LOAD.
    I82574,
}

impl Model {
    /// The variant of PCI device `device` (vendor 8086h).
    pub const fn of(device: u16) -> Self {
        match device {
            0x10D3 | 0x10F6 => Model::I82574,
            _ => Model::I8254x,
        }
    }

    /// (EERD START with the word address, DONE bit) for EEPROM word `word`.
    const fn eerd(self, word: u8) -> (u32, u32) {
        match self {
            Model::I8254x => (Eerd::START.bits() | (word as u32) << 8, Eerd::DONE.bits()),
            Model::I82574 => (Eerd::START.bits() | (word as u32) << 2, EERD_DONE_82574),
        }
    }
}

/// Receive descriptors (RDLEN = 128 bytes, the minimum multiple of 128).
pub const RX_COUNT: usize = 8;
/// Transmit descriptors (TDLEN = 128 bytes).
pub const TX_COUNT: usize = 8;
/// Buffer size per descriptor (RCTL.BSIZE = 00b).
pub const BUF_SIZE: usize = 2048;
const DESC_SIZE: usize = 16;
const RX_RING: usize = 0;
const TX_RING: usize = RX_RING + RX_COUNT * DESC_SIZE;
const RX_BUFS: usize = 4096;
const TX_BUFS: usize = RX_BUFS + RX_COUNT * BUF_SIZE;
const DMA_SIZE: usize = TX_BUFS + TX_COUNT * BUF_SIZE;

const RESET_TIMEOUT_US: u64 = 100_000;
const EERD_TIMEOUT_US: u64 = 10_000;
const TX_TIMEOUT_US: u64 = 50_000;

/// An 8254x card.
#[derive(Debug)]
pub struct E1000 {
    pci: PciAddress,
    model: Model,
    mmio: u64,
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

impl E1000 {
    /// Takes the card at `pci`: decodes BAR0 (memory), enables memory decoding, reads the MAC
    /// from RAL0/RAH0 (loaded from the EEPROM at power-up) or, if that is empty, from EEPROM
    /// words 0–2 through EERD.
    pub fn new<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> Result<Self, NicError> {
        let mmio = pci::read_bar(hal, pci, 0)
            .and_then(|bar| bar.mem_addr())
            .filter(|&addr| addr != 0)
            .ok_or(NicError::BadBar)?;
        pci::enable(hal, pci, Command::MEMORY_SPACE);
        let (_, device) = pci::vendor_device(hal, pci);
        let mut nic = Self {
            pci,
            model: Model::of(device),
            mmio,
            mac: [0; 6],
            station: [0; 6],
            filter: RxFilter::new(),
            dma: None,
            open: false,
            rx_next: 0,
            tx_next: 0,
            tx_busy: [false; TX_COUNT],
            rx_dropped: 0,
        };
        nic.mac = nic.read_mac(hal)?;
        nic.station = nic.mac;
        Ok(nic)
    }

    fn read<H: Hal + ?Sized>(&self, hal: &mut H, reg: u64) -> u32 {
        hal.mmio_read32(self.mmio + reg)
    }

    fn write<H: Hal + ?Sized>(&self, hal: &mut H, reg: u64, value: u32) {
        hal.mmio_write32(self.mmio + reg, value);
    }

    fn read_mac<H: Hal + ?Sized>(&self, hal: &mut H) -> Result<[u8; 6], NicError> {
        let ral = self.read(hal, RAL0);
        let rah = self.read(hal, RAH0);
        if Rah::from_bits_retain(rah).contains(Rah::AV) && (ral != 0 || rah & 0xFFFF != 0) {
            let [a, b, c, d] = ral.to_le_bytes();
            let [e, f, _, _] = rah.to_le_bytes();
            return Ok([a, b, c, d, e, f]);
        }
        let mut mac = [0; 6];
        for word in 0..3u8 {
            let [lo, hi] = self.eeprom_read(hal, word)?.to_le_bytes();
            mac[usize::from(word) * 2] = lo;
            mac[usize::from(word) * 2 + 1] = hi;
        }
        Ok(mac)
    }

    /// The register-model variant in use.
    pub fn model(&self) -> Model {
        self.model
    }

    /// Reads one EEPROM word through EERD (SDM §13.4.4; 82574 datasheet §10.2.2.3).
    fn eeprom_read<H: Hal + ?Sized>(&self, hal: &mut H, word: u8) -> Result<u16, NicError> {
        let (start, done_bit) = self.model.eerd(word);
        self.write(hal, EERD, start);
        let mut value = 0;
        let done = poll_until(hal, EERD_TIMEOUT_US, |hal| {
            value = self.read(hal, EERD);
            value & done_bit != 0
        });
        if done {
            Ok((value >> 16) as u16)
        } else {
            Err(NicError::EepromTimeout)
        }
    }

    /// Masks interrupts, stops both DMA engines and issues a global reset (SDM §14.9).
    fn reset<H: Hal + ?Sized>(&self, hal: &mut H) -> Result<(), NicError> {
        self.write(hal, IMC, u32::MAX);
        self.write(hal, RCTL, 0);
        self.write(hal, TCTL, 0);
        let ctrl = self.read(hal, CTRL);
        self.write(hal, CTRL, ctrl | Ctrl::RST.bits());
        // The SDM asks for a wait of at least 1 µs before the next register access.
        hal.delay_us(10);
        let done = poll_until(hal, RESET_TIMEOUT_US, |hal| {
            !Ctrl::from_bits_retain(self.read(hal, CTRL)).contains(Ctrl::RST)
        });
        // Interrupts are masked again after reset; ICR is read to clear stale causes.
        self.write(hal, IMC, u32::MAX);
        let _ = self.read(hal, ICR);
        if done {
            Ok(())
        } else {
            Err(NicError::ResetTimeout)
        }
    }

    /// Writes the receive addresses and the multicast table for the current station and
    /// filter; returns the RCTL filter bits to enable with them.
    fn program_filter<H: Hal + ?Sized>(&self, hal: &mut H) -> Rctl {
        let f = &self.filter;
        let m = self.station;
        // Clearing RAH first drops Address Valid before the low half changes.
        self.write(hal, RAH0, 0);
        self.write(hal, RAL0, u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
        let av = if f.directed { Rah::AV.bits() } else { 0 };
        self.write(hal, RAH0, u32::from_le_bytes([m[4], m[5], 0, 0]) | av);
        for i in 1..RA_ENTRIES {
            self.write(hal, RAH0 + 8 * i, 0);
            self.write(hal, RAL0 + 8 * i, 0);
        }
        for i in 0..MTA_LEN {
            let word = f
                .multicast()
                .iter()
                .map(mta_hash)
                .filter(|h| u64::from(h >> 5) == i)
                .fold(0u32, |w, h| w | 1 << (h & 0x1F));
            self.write(hal, MTA + 4 * i, word);
        }
        let mut rctl = Rctl::empty();
        if f.broadcast || f.promiscuous {
            rctl |= Rctl::BAM;
        }
        if f.wants_all_multicast() {
            rctl |= Rctl::MPE;
        }
        if f.promiscuous {
            rctl |= Rctl::UPE;
        }
        rctl
    }

    fn rctl(filter_bits: Rctl) -> u32 {
        (Rctl::EN | Rctl::SECRC | filter_bits).bits()
    }

    fn init_rings<H: Hal + ?Sized>(&mut self, hal: &mut H, dma: &DmaRegion) {
        for i in 0..RX_COUNT {
            let desc = RxDesc {
                addr: dma.phys_at(RX_BUFS + i * BUF_SIZE),
                ..RxDesc::default()
            };
            desc.write(hal, dma, RX_RING + i * DESC_SIZE);
        }
        for i in 0..TX_COUNT {
            TxDesc::default().write(hal, dma, TX_RING + i * DESC_SIZE);
        }
        self.rx_next = 0;
        self.tx_next = 0;
        self.tx_busy = [false; TX_COUNT];
        hal.dma_fence();

        let rx = dma.phys_at(RX_RING);
        self.write(hal, RDBAL, rx as u32);
        self.write(hal, RDBAH, (rx >> 32) as u32);
        self.write(hal, RDLEN, (RX_COUNT * DESC_SIZE) as u32);
        self.write(hal, RDH, 0);
        // Head == tail means "no buffers": keep one descriptor back so the ring is never full.
        self.write(hal, RDT, (RX_COUNT - 1) as u32);

        let tx = dma.phys_at(TX_RING);
        self.write(hal, TDBAL, tx as u32);
        self.write(hal, TDBAH, (tx >> 32) as u32);
        self.write(hal, TDLEN, (TX_COUNT * DESC_SIZE) as u32);
        self.write(hal, TDH, 0);
        self.write(hal, TDT, 0);
    }
}

impl Nic for E1000 {
    fn open<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        let dma = match self.dma {
            Some(dma) => dma,
            None => {
                let dma = hal.dma_alloc(DMA_SIZE, 4096).ok_or(NicError::NoDmaMemory)?;
                self.dma = Some(dma);
                dma
            }
        };
        pci::enable(hal, self.pci, Command::MEMORY_SPACE | Command::BUS_MASTER);
        self.reset(hal)?;

        let ctrl = Ctrl::from_bits_retain(self.read(hal, CTRL));
        let ctrl =
            (ctrl | Ctrl::SLU | Ctrl::ASDE) - (Ctrl::LRST | Ctrl::PHY_RST | Ctrl::VME | Ctrl::ILOS);
        self.write(hal, CTRL, ctrl.bits());
        if self.model == Model::I82574 {
            let ext = self.read(hal, CTRL_EXT);
            self.write(hal, CTRL_EXT, ext | CTRL_EXT_DRV_LOAD);
        }

        let filter_bits = self.program_filter(hal);
        self.init_rings(hal, &dma);
        self.write(hal, RCTL, Self::rctl(filter_bits));
        self.write(hal, TIPG, TIPG_COPPER);
        self.write(
            hal,
            TCTL,
            (Tctl::EN | Tctl::PSP).bits() | TCTL_CT | TCTL_COLD_FD,
        );
        self.open = true;
        Ok(())
    }

    fn close<H: Hal + ?Sized>(&mut self, hal: &mut H) {
        // A reset that times out still leaves RCTL/TCTL cleared and bus mastering off below.
        let _ = self.reset(hal);
        if self.model == Model::I82574 {
            let ext = self.read(hal, CTRL_EXT);
            self.write(hal, CTRL_EXT, ext & !CTRL_EXT_DRV_LOAD);
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
        if self.open {
            let bits = self.program_filter(hal);
            self.write(hal, RCTL, Self::rctl(bits));
        }
        Ok(())
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
        if self.open {
            let bits = self.program_filter(hal);
            self.write(hal, RCTL, Self::rctl(bits));
        }
        Ok(())
    }

    fn link_speed_bps<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Option<u64> {
        let status = Status::from_bits_retain(self.read(hal, STATUS));
        if !status.contains(Status::LU) {
            return None;
        }
        Some(if status.contains(Status::SPEED_HI) {
            1_000_000_000
        } else if status.contains(Status::SPEED_LO) {
            100_000_000
        } else {
            10_000_000
        })
    }

    fn rx_ring_len(&self) -> u16 {
        // One descriptor always stays back (head == tail means empty).
        RX_COUNT as u16 - 1
    }

    fn tx_ring_len(&self) -> u16 {
        TX_COUNT as u16
    }

    fn link_up<H: Hal + ?Sized>(&mut self, hal: &mut H) -> bool {
        Status::from_bits_retain(self.read(hal, STATUS)).contains(Status::LU)
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
                let status = hal.dma_read8(&dma, desc + TX_STATUS_OFFSET);
                TxStatus::from_bits_retain(status).contains(TxStatus::DD)
            });
            if !free {
                return Err(NicError::TxTimeout);
            }
        }
        let buf = TX_BUFS + slot * BUF_SIZE;
        hal.dma_write_bytes(&dma, buf, frame);
        TxDesc {
            addr: dma.phys_at(buf),
            length: frame.len() as u16,
            cmd: (TxCmd::EOP | TxCmd::IFCS | TxCmd::RS).bits(),
            ..TxDesc::default()
        }
        .write(hal, &dma, desc);
        hal.dma_fence();
        self.tx_busy[slot] = true;
        self.tx_next = (slot + 1) % TX_COUNT;
        self.write(hal, TDT, self.tx_next as u32);
        Ok(())
    }

    fn receive<H: Hal + ?Sized>(&mut self, hal: &mut H, buf: &mut [u8]) -> Option<usize> {
        let dma = match (self.open, self.dma) {
            (true, Some(dma)) => dma,
            _ => return None,
        };
        for _ in 0..RX_COUNT {
            let slot = self.rx_next;
            let offset = RX_RING + slot * DESC_SIZE;
            let status = RxStatus::from_bits_retain(hal.dma_read8(&dma, offset + RX_STATUS_OFFSET));
            if !status.contains(RxStatus::DD) {
                return None;
            }
            hal.dma_fence();
            let desc = RxDesc::read(hal, &dma, offset);
            let len = usize::from(desc.length);
            let mut good = status.contains(RxStatus::EOP) && desc.errors == 0 && len <= buf.len();
            if good {
                hal.dma_read_bytes(&dma, RX_BUFS + slot * BUF_SIZE, &mut buf[..len]);
                // An MTA hash collision, or a frame accepted just before a filter change.
                good = self.filter.accepts(&self.station, &buf[..len]);
            } else {
                self.rx_dropped = self.rx_dropped.wrapping_add(1);
            }
            RxDesc {
                addr: dma.phys_at(RX_BUFS + slot * BUF_SIZE),
                ..RxDesc::default()
            }
            .write(hal, &dma, offset);
            hal.dma_fence();
            // Giving this descriptor back: the tail now points at it.
            self.write(hal, RDT, slot as u32);
            self.rx_next = (slot + 1) % RX_COUNT;
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
