//! NE2000 / DP8390 driver (layer `drivers/`), PCI (RTL8029AS and clones) and ISA, written from
//! the National Semiconductor DP8390D "Network Interface Controller" datasheet — §7 "Buffer
//! Memory Access Control" (the receive ring between PSTART and PSTOP, BNRY and CURR, 256-byte
//! pages, the 4-byte receive header), §10 "Internal Registers" (pages 0–2, CR, ISR, DCR, RCR,
//! TCR, PAR0–5, MAR0–7), §11 "Initialization Procedures" (the order used by [`Ne2000`]'s
//! start-up), §12 "Loopback Diagnostics" (not used), §13 "Bus Arbitration and Timing" (remote DMA
//! through the data port) — plus the Realtek RTL8029AS datasheet §5 (the PCI variant: I/O BAR0,
//! 20h ports, ID bytes 'P' 'C' at page 0 0Ah/0Bh) and checked against QEMU's `ne2k_pci` /
//! `ne2k_isa` model (hw/net/ne2000.c).
//!
//! The card has no bus-master DMA: everything moves by *remote DMA*, programmed I/O through the
//! board's data port at +10h (16-bit words with DCR.WTS, bytes otherwise). The 16 KiB of board
//! memory at 4000h–7FFFh (NE2000; pages 40h–80h) holds two transmit buffers of six pages (40h,
//! 46h) and the receive ring 4Ch–80h (52 pages, 13 KiB). 8-bit boards (NE1000) have 8 KiB at
//! 2000h–3FFFh: transmit 20h, 26h, ring 2Ch–40h. The MAC comes from the station-address PROM
//! at board address 0: 32 bytes read in word mode, where each PROM byte shows up in both halves
//! of a word, so every other byte is used.
//!
//! Receive filter (§10.3.6 RCR, §10.1 MAR): PAR0–5 hold the station address (the chip always
//! accepts it), RCR.AB broadcast, RCR.AM multicast whose hash bit is set in MAR0–7 (the top six
//! bits of the Ethernet CRC-32 of the address, the same hash as the RTL8139's,
//! [`crate::rtl8139::mar_hash`]), RCR.PRO every physical address. All of these are written live.
//! QEMU's model compares unicast frames with the PROM instead of PAR0–5, so a changed station
//! address also sets RCR.PRO (the software filter keeps only the station's frames).
//! [`Nic::receive`] also applies the filter in software (hash collisions, directed frames when
//! `directed` is off).

pub mod isa;
pub mod regs;
mod remote;

use regs::*;

use crate::filter::RxFilter;
use crate::hal::{poll_until, Hal};
use crate::nic::{check_station, check_tx_len, Nic, NicError};
use crate::pci::{self, Command, PciAddress, PciId};
use crate::rtl8139::mar_value;
use crate::{MAX_FRAME_LEN, MIN_FRAME_LEN};

pub use isa::IsaCard;

/// Adapters this driver supports on PCI (the builder's adapter list reads it).
pub const PCI_IDS: &[PciId] = &[
    PciId::new(
        0x10EC,
        0x8029,
        "Realtek RTL8029AS NE2000 (QEMU ne2k_pci, Bochs ne2k in a PCI slot)",
    ),
    PciId::new(0x1050, 0x0940, "Winbond W89C940 NE2000"),
    PciId::new(0x1050, 0x5A5A, "Winbond W89C940F NE2000"),
    PciId::new(0x11F6, 0x1401, "Compex ReadyLink 2000 (NE2000)"),
    PciId::new(0x8E2E, 0x3000, "KTI ET32P2 (NE2000)"),
    PciId::new(0x1106, 0x0926, "VIA VT86C926 Amazon (NE2000)"),
    PciId::new(0x10BD, 0x0E34, "SureCom NE34 (NE2000)"),
    PciId::new(0x12C3, 0x0058, "Holtek HT80232 (NE2000)"),
    PciId::new(0x12C3, 0x5598, "Holtek HT80229 (NE2000)"),
    PciId::new(0x4A14, 0x5000, "NetVin NV5000SC (NE2000)"),
];

/// Width of the remote-DMA data port (DCR.WTS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusWidth {
    /// 16-bit words (NE2000, every PCI card, QEMU and Bochs).
    Word,
    /// Bytes (NE1000 and other 8-bit boards; no emulator has one).
    Byte,
}

/// How the card is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attach {
    /// A PCI function (I/O BAR0).
    Pci(PciAddress),
    /// An ISA board at a fixed port, with the IRQ its jumpers select (0: unknown).
    Isa(IsaCard),
}

/// Board-memory layout: transmit buffers and receive ring, in 256-byte pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    tx: [u8; TX_BUFS],
    rx_start: u8,
    rx_stop: u8,
}

/// Transmit buffers (ping-pong: one is filled while the other is sent).
pub const TX_BUFS: usize = 2;
/// Pages per transmit buffer: 6 × 256 = 1536 bytes ≥ 1518.
const TX_PAGES: u8 = 6;
const WORD_LAYOUT: Layout = Layout {
    tx: [0x40, 0x40 + TX_PAGES],
    rx_start: 0x40 + 2 * TX_PAGES,
    rx_stop: 0x80,
};
const BYTE_LAYOUT: Layout = Layout {
    tx: [0x20, 0x20 + TX_PAGES],
    rx_start: 0x20 + 2 * TX_PAGES,
    rx_stop: 0x40,
};

/// Receive ring header: status, next page, byte count (low, high).
const RX_HEADER_LEN: usize = 4;
/// Shortest frame returned: an Ethernet header.
const MIN_RX_LEN: usize = 14;
/// Bytes of the PROM read at attach.
const PROM_LEN: usize = 32;

const RESET_TIMEOUT_US: u64 = 20_000;
/// The datasheet asks for 1.6 ms after CR.STP before the chip is surely idle.
const STOP_TIMEOUT_US: u64 = 2_000;
const RDC_TIMEOUT_US: u64 = 20_000;
const TX_TIMEOUT_US: u64 = 50_000;
/// The chip's interrupt sources used when interrupts are on.
const IMR_ON: Isr = Isr::PRX
    .union(Isr::PTX)
    .union(Isr::RXE)
    .union(Isr::TXE)
    .union(Isr::OVW);

/// An NE2000-compatible card.
#[derive(Debug)]
pub struct Ne2000 {
    attach: Attach,
    io: u16,
    width: BusWidth,
    mac: [u8; 6],
    station: [u8; 6],
    filter: RxFilter,
    open: bool,
    interrupts: bool,
    /// Ring page of the next frame to read (BNRY is one page behind it).
    next_pkt: u8,
    tx_next: usize,
    tx_pending: bool,
    /// An overwrite warning seen by [`Nic::ack_interrupt`], for [`Nic::receive`] to handle.
    overflow: bool,
    rx_dropped: u32,
}

impl Ne2000 {
    /// Takes the PCI card at `pci`: decodes I/O BAR0, enables I/O decoding, resets the board
    /// and reads the MAC from its PROM (16-bit mode).
    pub fn new<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> Result<Self, NicError> {
        let io = pci::read_bar(hal, pci, 0)
            .and_then(|bar| bar.io_port())
            .filter(|&port| port != 0)
            .ok_or(NicError::BadBar)?;
        pci::enable(hal, pci, Command::IO_SPACE);
        Self::attach(hal, io, Attach::Pci(pci), Some(BusWidth::Word))
    }

    /// Takes the ISA board `card` (named in the settings or found by [`isa::find`]): resets it
    /// and reads its PROM, choosing 16- or 8-bit transfers by the PROM's layout.
    pub fn new_isa<H: Hal + ?Sized>(hal: &mut H, card: IsaCard) -> Result<Self, NicError> {
        Self::attach(hal, card.port, Attach::Isa(card), None)
    }

    /// Like [`Ne2000::new_isa`] with the data-port width forced.
    pub fn new_isa_with_width<H: Hal + ?Sized>(
        hal: &mut H,
        card: IsaCard,
        width: BusWidth,
    ) -> Result<Self, NicError> {
        Self::attach(hal, card.port, Attach::Isa(card), Some(width))
    }

    fn attach<H: Hal + ?Sized>(
        hal: &mut H,
        io: u16,
        attach: Attach,
        width: Option<BusWidth>,
    ) -> Result<Self, NicError> {
        let mut nic = Self {
            attach,
            io,
            width: width.unwrap_or(BusWidth::Word),
            mac: [0; 6],
            station: [0; 6],
            filter: RxFilter::new(),
            open: false,
            interrupts: false,
            next_pkt: 0,
            tx_next: 0,
            tx_pending: false,
            overflow: false,
            rx_dropped: 0,
        };
        nic.board_reset(hal)?;
        let mut prom = [0u8; PROM_LEN];
        nic.read_prom(hal, &mut prom)?;
        let doubled = (0..6).all(|i| prom[2 * i] == prom[2 * i + 1]);
        if width.is_none() && !doubled {
            // An 8-bit board answers a word read with two different PROM bytes.
            nic.width = BusWidth::Byte;
            nic.read_prom(hal, &mut prom)?;
        }
        let doubled = (0..6).all(|i| prom[2 * i] == prom[2 * i + 1]);
        for (i, byte) in nic.mac.iter_mut().enumerate() {
            *byte = if doubled { prom[2 * i] } else { prom[i] };
        }
        nic.station = nic.mac;
        nic.stop(hal);
        Ok(nic)
    }

    /// How the card is attached.
    pub fn attachment(&self) -> Attach {
        self.attach
    }

    /// The I/O base.
    pub fn io_base(&self) -> u16 {
        self.io
    }

    /// The data-port width in use.
    pub fn width(&self) -> BusWidth {
        self.width
    }

    fn layout(&self) -> Layout {
        match self.width {
            BusWidth::Word => WORD_LAYOUT,
            BusWidth::Byte => BYTE_LAYOUT,
        }
    }

    fn dcr(&self) -> u8 {
        let base = Dcr::LS | Dcr::FT_8;
        match self.width {
            BusWidth::Word => (base | Dcr::WTS).bits(),
            BusWidth::Byte => base.bits(),
        }
    }

    /// §11: reset state, ring, addresses and filter, then started. Also the recovery path for
    /// an overwrite warning or a corrupt ring header.
    fn start<H: Hal + ?Sized>(&mut self, hal: &mut H) {
        let l = self.layout();
        let io = self.io;
        self.open = false;
        hal.outb(io + CR, (Cr::STP | Cr::RD_ABORT).bits());
        hal.outb(io + DCR, self.dcr());
        hal.outb(io + RBCR0, 0);
        hal.outb(io + RBCR1, 0);
        hal.outb(io + RCR, Rcr::MON.bits());
        hal.outb(io + TCR, TCR_LOOPBACK);
        hal.outb(io + PSTART, l.rx_start);
        hal.outb(io + PSTOP, l.rx_stop);
        hal.outb(io + BNRY, l.rx_start);
        hal.outb(io + ISR, 0xFF);
        hal.outb(io + IMR, 0);
        self.page(hal, Cr::PAGE1);
        self.write_par(hal);
        self.write_mar(hal);
        hal.outb(io + CURR, l.rx_start + 1);
        self.next_pkt = l.rx_start + 1;
        self.tx_next = 0;
        self.tx_pending = false;
        self.overflow = false;
        hal.outb(io + CR, (Cr::STA | Cr::RD_ABORT).bits());
        self.open = true;
        hal.outb(io + TCR, TCR_NORMAL);
        hal.outb(io + RCR, self.rcr());
        if self.interrupts {
            hal.outb(io + IMR, IMR_ON.bits());
        }
    }

    /// RCR for the current filter (the station address is always accepted by the chip).
    /// QEMU's model matches unicast frames against the PROM, not PAR0–5: with a station
    /// address other than the permanent one, RCR.PRO takes every unicast frame and
    /// [`Nic::receive`]'s software filter keeps those to the station.
    fn rcr(&self) -> u8 {
        let f = &self.filter;
        let mut rcr = Rcr::empty();
        if f.directed && self.station != self.mac {
            rcr |= Rcr::PRO;
        }
        if f.broadcast {
            rcr |= Rcr::AB;
        }
        if f.wants_multicast() {
            rcr |= Rcr::AM;
        }
        if f.promiscuous {
            rcr |= Rcr::PRO | Rcr::AB | Rcr::AM;
        }
        rcr.bits()
    }

    /// PAR0–5 from the station address (register page 1 selected).
    fn write_par(&self, hal: &mut (impl Hal + ?Sized)) {
        for (i, &b) in (0u16..).zip(self.station.iter()) {
            hal.outb(self.io + PAR0 + i, b);
        }
    }

    /// MAR0–7 from the filter (register page 1 selected).
    fn write_mar(&self, hal: &mut (impl Hal + ?Sized)) {
        let mar = mar_value(&self.filter).to_le_bytes();
        for (i, &b) in (0u16..).zip(mar.iter()) {
            hal.outb(self.io + MAR0 + i, b);
        }
    }

    fn read_curr<H: Hal + ?Sized>(&self, hal: &mut H) -> u8 {
        self.page(hal, Cr::PAGE1);
        let curr = hal.inb(self.io + CURR);
        self.page(hal, Cr::empty());
        curr
    }

    /// Frees ring pages up to `next` (BNRY one page behind it).
    fn advance(&mut self, hal: &mut (impl Hal + ?Sized), next: u8) {
        let l = self.layout();
        self.next_pkt = next;
        let bnry = if next == l.rx_start {
            l.rx_stop - 1
        } else {
            next - 1
        };
        hal.outb(self.io + BNRY, bnry);
    }

    /// Pages from `from` to `to` going forward round the ring.
    fn ring_distance(&self, from: u8, to: u8) -> usize {
        let l = self.layout();
        let pages = usize::from(l.rx_stop - l.rx_start);
        (usize::from(to) + pages - usize::from(from)) % pages
    }

    /// Checks a ring header against the ring and CURR; returns the frame length (count minus the
    /// header) if the header is sane. QEMU's model rounds a record up as if it had a 4-byte FCS,
    /// the real chip stores the FCS and counts it: either page count is accepted.
    fn check_header(&self, hdr: &[u8; RX_HEADER_LEN], curr: u8) -> Option<usize> {
        let l = self.layout();
        let next = hdr[1];
        let count = usize::from(u16::from_le_bytes([hdr[2], hdr[3]]));
        if !(l.rx_start..l.rx_stop).contains(&next)
            || !(RX_HEADER_LEN + MIN_RX_LEN..=RX_HEADER_LEN + MAX_FRAME_LEN + 4).contains(&count)
        {
            return None;
        }
        let used = self.ring_distance(self.next_pkt, next);
        let fits = used == count.div_ceil(256) || used == (count + 4).div_ceil(256);
        let filled = self.ring_distance(self.next_pkt, curr);
        (fits && used <= filled).then_some(count - RX_HEADER_LEN)
    }

    /// Copies `len` bytes of the record at `next_pkt` (after its header), splitting the remote
    /// read where the ring wraps from PSTOP to PSTART.
    fn read_frame<H: Hal + ?Sized>(
        &self,
        hal: &mut H,
        buf: &mut [u8],
        len: usize,
    ) -> Result<(), NicError> {
        let l = self.layout();
        let start = usize::from(self.next_pkt) * 256 + RX_HEADER_LEN;
        let end = usize::from(l.rx_stop) * 256;
        let first = len.min(end - start);
        let (a, b) = buf[..len].split_at_mut(first);
        self.remote_read(hal, start as u16, a)?;
        self.remote_read(hal, u16::from(l.rx_start) * 256, b)
    }
}

impl Nic for Ne2000 {
    fn open<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        if let Attach::Pci(pci) = self.attach {
            pci::enable(hal, pci, Command::IO_SPACE);
        }
        self.start(hal);
        Ok(())
    }

    fn close<H: Hal + ?Sized>(&mut self, hal: &mut H) {
        self.open = false;
        self.stop(hal);
        // PAR keeps what was written; give the next driver the permanent address.
        self.page(hal, Cr::PAGE1);
        for (i, &b) in (0u16..).zip(self.mac.iter()) {
            hal.outb(self.io + PAR0 + i, b);
        }
        self.page(hal, Cr::empty());
        hal.outb(self.io + ISR, 0xFF);
        self.tx_pending = false;
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
            self.page(hal, Cr::PAGE1);
            self.write_par(hal);
            self.page(hal, Cr::empty());
            hal.outb(self.io + RCR, self.rcr());
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
            self.page(hal, Cr::PAGE1);
            self.write_mar(hal);
            self.page(hal, Cr::empty());
            hal.outb(self.io + RCR, self.rcr());
        }
        Ok(())
    }

    fn link_speed_bps<H: Hal + ?Sized>(&mut self, _: &mut H) -> Option<u64> {
        // 10BASE-T / 10BASE2 only; the DP8390 has no link status.
        Some(10_000_000)
    }

    fn rx_ring_len(&self) -> u16 {
        let l = self.layout();
        // Full-size records (header + 1518 + FCS) take six pages.
        u16::from((l.rx_stop - l.rx_start) / 6)
    }

    fn tx_ring_len(&self) -> u16 {
        TX_BUFS as u16
    }

    fn link_up<H: Hal + ?Sized>(&mut self, _: &mut H) -> bool {
        true
    }

    fn transmit<H: Hal + ?Sized>(&mut self, hal: &mut H, frame: &[u8]) -> Result<(), NicError> {
        check_tx_len(frame)?;
        if !self.open {
            return Err(NicError::NotOpen);
        }
        // The chip does not pad: short frames are padded to 60 bytes here.
        let len = frame.len().max(MIN_FRAME_LEN);
        let page = self.layout().tx[self.tx_next];
        if !self.remote_write(hal, u16::from(page) * 256, frame, len) {
            return Err(NicError::TxTimeout);
        }
        if self.tx_pending {
            let io = self.io;
            let done = poll_until(hal, TX_TIMEOUT_US, |hal| {
                let isr = Isr::from_bits_retain(hal.inb(io + ISR));
                isr.intersects(Isr::PTX | Isr::TXE)
                    || !Cr::from_bits_retain(hal.inb(io + CR)).contains(Cr::TXP)
            });
            if !done {
                return Err(NicError::TxTimeout);
            }
        }
        hal.outb(self.io + ISR, (Isr::PTX | Isr::TXE).bits());
        hal.outb(self.io + TPSR, page);
        hal.outb(self.io + TBCR0, len as u8);
        hal.outb(self.io + TBCR1, (len >> 8) as u8);
        hal.outb(self.io + CR, (Cr::STA | Cr::TXP | Cr::RD_ABORT).bits());
        self.tx_pending = true;
        self.tx_next = (self.tx_next + 1) % TX_BUFS;
        Ok(())
    }

    fn receive<H: Hal + ?Sized>(&mut self, hal: &mut H, buf: &mut [u8]) -> Option<usize> {
        if !self.open {
            return None;
        }
        if self.overflow || self.isr(hal).contains(Isr::OVW) {
            // Ring exhausted (§7 "Buffer overflow"): start over with an empty ring.
            self.rx_dropped = self.rx_dropped.saturating_add(1);
            self.start(hal);
            return None;
        }
        // At most one ring's worth of records per call, whatever the card claims.
        let l = self.layout();
        for _ in l.rx_start..l.rx_stop {
            let curr = self.read_curr(hal);
            if curr == self.next_pkt {
                hal.outb(self.io + ISR, (Isr::PRX | Isr::RXE).bits());
                return None;
            }
            let mut hdr = [0u8; RX_HEADER_LEN];
            let header = self
                .remote_read(hal, u16::from(self.next_pkt) * 256, &mut hdr)
                .ok()
                .and_then(|()| self.check_header(&hdr, curr));
            // A real DP8390 stores and counts the FCS (QEMU and Bochs store none): a maximum
            // tagged frame plus FCS is cut back to the frame.
            let Some(len) = header.map(|len| len.min(MAX_FRAME_LEN)) else {
                self.rx_dropped = self.rx_dropped.saturating_add(1);
                self.start(hal);
                return None;
            };
            let status = Rsr::from_bits_retain(hdr[0]);
            if !status.contains(Rsr::PRX) || len > buf.len() {
                self.rx_dropped = self.rx_dropped.saturating_add(1);
                self.advance(hal, hdr[1]);
                continue;
            }
            if self.read_frame(hal, buf, len).is_err() {
                self.rx_dropped = self.rx_dropped.saturating_add(1);
                self.start(hal);
                return None;
            }
            self.advance(hal, hdr[1]);
            if self.filter.accepts(&self.station, &buf[..len]) {
                return Some(len);
            }
        }
        None
    }

    fn rx_dropped(&self) -> u32 {
        self.rx_dropped
    }

    fn set_interrupts<H: Hal + ?Sized>(
        &mut self,
        hal: &mut H,
        enable: bool,
    ) -> Result<(), NicError> {
        self.interrupts = enable;
        if self.open {
            let imr = if enable { IMR_ON.bits() } else { 0 };
            hal.outb(self.io + IMR, imr);
        }
        Ok(())
    }

    fn ack_interrupt<H: Hal + ?Sized>(&mut self, hal: &mut H) -> bool {
        if !self.open {
            return false;
        }
        let isr = self.isr(hal) & IMR_ON;
        if isr.is_empty() {
            return false;
        }
        // Everything is acknowledged (a PCI line is level triggered); receive polls CURR and
        // transmit CR.TXP, so only the overwrite warning has to be remembered.
        self.overflow |= isr.contains(Isr::OVW);
        hal.outb(self.io + ISR, isr.bits());
        true
    }
}
