//! pcnet against a fake Am79C970A that behaves like QEMU's `pcnet` model: word I/O ports
//! (RAP/RDP/BDP, RESET read = S_RESET, APROM bytes), CSR writes other than CSR0 only while
//! stopped, BCR20 SWSTYLE with SSIZE32 set by the chip, INIT reading the 32-bit initialization
//! block, TDMD processing the transmit ring, RX into the descriptor the chip is at (with FCS,
//! chained over buffers for long frames) and its address filter (PADR, LADRF, CSR15).

use std::vec::Vec;

use super::{flt, frame};
use crate::fake::{Bus, Event, FakeDevice, FakeHal, FakePciFunction, Space, DMA_BASE_LOW};
use crate::filter::RxFilter;
use crate::nic::{Nic, NicError};
use crate::pci::{self, Command, PciAddress};
use crate::pcnet::regs::*;
use crate::pcnet::{ladrf_value, Pcnet, BUF_SIZE, RX_COUNT, TX_COUNT};

const PCI: PciAddress = PciAddress::new(0, 4, 0);
const IO: u16 = 0xC100;
const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

#[derive(Default)]
struct Dev {
    rap: u16,
    csr: Vec<u16>,
    bcr: [u16; 32],
    rdra: u64,
    tdra: u64,
    rlen: usize,
    tlen: usize,
    rx_idx: usize,
    tx_idx: usize,
    resets: usize,
    link_down: bool,
    tx_stalled: bool,
    sent: Vec<Vec<u8>>,
    /// The initialization block as the chip read it at the last INIT.
    init_block: Vec<u8>,
}

impl Dev {
    fn h_reset() -> Self {
        let mut d = Self {
            csr: std::vec![0; 128],
            ..Self::default()
        };
        d.bcr[4] = 0x00C0;
        d.bcr[20] = 0x0200;
        d.s_reset();
        d.resets = 0;
        d
    }

    fn s_reset(&mut self) {
        self.resets += 1;
        self.rap = 0;
        self.csr[0] = Csr0::STOP.bits();
        self.csr[3] = 0;
        for r in [8, 9, 10, 11] {
            self.csr[r] = 0;
        }
        self.csr[12] = u16::from_le_bytes([MAC[0], MAC[1]]);
        self.csr[13] = u16::from_le_bytes([MAC[2], MAC[3]]);
        self.csr[14] = u16::from_le_bytes([MAC[4], MAC[5]]);
        self.csr[15] &= 0x21C4;
        self.csr[88] = 0x1003;
        self.csr[89] = 0x0262;
        self.rdra = 0;
        self.tdra = 0;
    }

    fn stopped(&self) -> bool {
        self.csr[0] & Csr0::STOP.bits() != 0
    }

    fn ssize32(&self) -> bool {
        self.bcr[20] & BCR20_SSIZE32 != 0
    }

    fn csr_write(&mut self, bus: &mut Bus, rap: u16, v: u16) {
        match rap {
            0 => {
                let mut c = self.csr[0] & !(v & 0x7F00);
                let v = if v & 7 == 7 { v & !3 } else { v };
                if v & Csr0::STOP.bits() != 0 {
                    c = Csr0::STOP.bits();
                }
                self.csr[0] = c;
                if v & Csr0::INIT.bits() != 0 && self.csr[0] & Csr0::INIT.bits() == 0 {
                    self.init(bus);
                }
                if v & Csr0::STRT.bits() != 0 && self.csr[0] & Csr0::STRT.bits() == 0 {
                    self.csr[0] &= !Csr0::STOP.bits();
                    self.csr[0] |= (Csr0::STRT | Csr0::TXON | Csr0::RXON).bits();
                }
                if v & Csr0::TDMD.bits() != 0 {
                    self.transmit(bus);
                }
            }
            1..=15 if self.stopped() => self.csr[usize::from(rap)] = v,
            _ => {}
        }
    }

    fn init(&mut self, bus: &mut Bus) {
        assert!(self.ssize32(), "INIT with 16-bit structures");
        let iadr = u64::from(self.csr[1]) | u64::from(self.csr[2]) << 16;
        let mut b = std::vec![0u8; init::LEN];
        bus.dma_read(iadr, &mut b);
        let w = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        self.csr[15] = w(init::MODE);
        self.rlen = 1 << (b[init::RLEN] >> 4);
        self.tlen = 1 << (b[init::TLEN] >> 4);
        for i in 0..4 {
            self.csr[8 + i] = w(init::LADRF + 2 * i);
        }
        for i in 0..3 {
            self.csr[12 + i] = w(init::PADR + 2 * i);
        }
        let dw = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        self.rdra = dw(init::RDRA).into();
        self.tdra = dw(init::TDRA).into();
        self.rx_idx = 0;
        self.tx_idx = 0;
        self.init_block = b;
        self.csr[0] |= (Csr0::INIT | Csr0::IDON).bits();
        self.csr[0] &= !Csr0::STOP.bits();
    }

    fn transmit(&mut self, bus: &mut Bus) {
        if self.tx_stalled || self.csr[0] & Csr0::TXON.bits() == 0 {
            return;
        }
        for _ in 0..self.tlen {
            let d = self.tdra + (self.tx_idx * DESC_SIZE) as u64;
            let ctrl = bus.dma_le(d + 4, 4) as u32;
            let status = TxStatus::from_bits_retain((ctrl >> 16) as u16);
            if !status.contains(TxStatus::OWN) {
                return;
            }
            assert_eq!(ctrl & ONES, ONES, "TMD1 ONES");
            assert!(status.contains(TxStatus::STP | TxStatus::ENP));
            let len = 4096 - (ctrl & 0xFFF) as usize;
            let mut data = std::vec![0; len];
            bus.dma_read(bus.dma_le(d, 4), &mut data);
            self.sent.push(data);
            let done = (status - TxStatus::OWN).bits();
            bus.dma_set_le(d + 6, 2, done.into());
            self.tx_idx = (self.tx_idx + 1) % self.tlen;
        }
    }

    /// QEMU's address filter: PROM, PADR unless DRCVPA, broadcast unless DRCVBC, LADRF hash.
    fn accepts(&self, dst: &[u8]) -> bool {
        let mode = Mode::from_bits_retain(self.csr[15]);
        let padr: Vec<u8> = self.csr[12..15]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let ladrf: u64 = (0..4).fold(0, |a, i| a | u64::from(self.csr[8 + i]) << (16 * i));
        mode.contains(Mode::PROM)
            || (!mode.contains(Mode::DRCVPA) && dst == &padr[..])
            || (!mode.contains(Mode::DRCVBC) && dst == [0xFF; 6])
            || (dst[0] & 1 != 0 && ladrf >> ladrf_hash(dst.try_into().unwrap()) & 1 != 0)
    }
}

impl FakeDevice for Dev {
    fn on_write(&mut self, bus: &mut Bus, _: Space, addr: u64, width: u8, value: u64) {
        assert_eq!(
            width, 2,
            "word I/O only (a dword write to RDP would latch DWIO)"
        );
        let v = value as u16;
        match (addr - u64::from(IO)) as u16 {
            RAP => self.rap = v & 0x7F,
            RDP => self.csr_write(bus, self.rap, v),
            BDP => match self.rap {
                20 if self.stopped() => {
                    self.bcr[20] = match v & 0xFF {
                        0 => 0x0200,
                        1 => 0x0101,
                        s @ (2 | 3) => 0x0300 | s,
                        _ => 0x0200,
                    }
                }
                4 | 18 | 2 | 9 => self.bcr[usize::from(self.rap)] = v,
                _ => {}
            },
            _ => {}
        }
    }

    fn on_read(&mut self, _: &mut Bus, _: Space, addr: u64, width: u8) -> Option<u64> {
        let off = (addr - u64::from(IO)) as u16;
        if off < 0x10 {
            assert_eq!(width, 1);
            let prom = [
                MAC[0], MAC[1], MAC[2], MAC[3], MAC[4], MAC[5], 0, 0, 0, 0x11,
            ];
            return Some(prom.get(usize::from(off)).copied().unwrap_or(0x57).into());
        }
        assert_eq!(width, 2, "word I/O only");
        Some(match off {
            RAP => self.rap.into(),
            RDP => self.csr[usize::from(self.rap)].into(),
            RESET => {
                self.s_reset();
                0
            }
            BDP if self.rap == 4 => {
                let link = !self.link_down && self.bcr[4] & 0x017F & 0x40 != 0;
                (self.bcr[4] & 0x7FFF | if link { 0x8000 } else { 0 }).into()
            }
            BDP => self.bcr[usize::from(self.rap & 31)].into(),
            _ => 0xFFFF,
        })
    }
}

/// Delivers `data` (+ a 4-byte FCS) as the chip would: through its address filter, into the
/// descriptor it is at, chained over several buffers if longer than one. Returns false if the
/// filter rejected it or the chip owned no descriptor (MISS).
fn inject_with(hal: &mut FakeHal<Dev>, data: &[u8], error: bool) -> bool {
    let (dev, bus) = (&mut hal.device, &mut hal.bus);
    if dev.csr[0] & Csr0::RXON.bits() == 0 || !dev.accepts(&data[..6]) {
        return false;
    }
    let mut wire = data.to_vec();
    wire.extend_from_slice(&[0; 4]);
    let chunks: Vec<&[u8]> = wire.chunks(BUF_SIZE).collect();
    for k in 0..chunks.len() {
        let d = dev.rdra + (((dev.rx_idx + k) % dev.rlen) * DESC_SIZE) as u64;
        if bus.dma_le(d + 6, 2) as u16 & RxStatus::OWN.bits() == 0 {
            dev.csr[0] |= Csr0::MISS.bits();
            return false;
        }
    }
    for (k, chunk) in chunks.iter().enumerate() {
        let d = dev.rdra + (dev.rx_idx * DESC_SIZE) as u64;
        let ctrl = bus.dma_le(d + 4, 4) as u32;
        assert_eq!(ctrl & ONES, ONES, "RMD1 ONES");
        assert_eq!(4096 - (ctrl & 0xFFF) as usize, BUF_SIZE);
        assert_eq!(bus.dma_le(d + 8, 4) & 0xF000, 0, "RMD2 zeros");
        bus.dma_write(bus.dma_le(d, 4), chunk);
        let mut st = RxStatus::empty();
        if k == 0 {
            st |= RxStatus::STP;
        }
        if k == chunks.len() - 1 {
            st |= RxStatus::ENP;
            bus.dma_set_le(d + 8, 4, wire.len() as u64);
            if error {
                st |= RxStatus::ERR | RxStatus::CRC;
            }
        }
        bus.dma_set_le(d + 6, 2, st.bits().into());
        dev.rx_idx = (dev.rx_idx + 1) % dev.rlen;
    }
    dev.csr[0] |= Csr0::RINT.bits();
    true
}

fn inject(hal: &mut FakeHal<Dev>, data: &[u8]) -> bool {
    inject_with(hal, data, false)
}

fn setup(dma_base: u64) -> (FakeHal<Dev>, Pcnet) {
    let mut hal = FakeHal::new(Dev::h_reset(), dma_base);
    hal.add_pci(
        PCI,
        FakePciFunction::new(0x1022, 0x2000, [2, 0, 0])
            .with_io_bar(0, IO.into(), 0x20)
            .with_mem32_bar(1, 0xFEB0_0000, 0x20),
    );
    let nic = Pcnet::new(&mut hal, PCI).expect("probe");
    (hal, nic)
}

fn opened() -> (FakeHal<Dev>, Pcnet) {
    let (mut hal, mut nic) = setup(DMA_BASE_LOW);
    nic.open(&mut hal).expect("open");
    (hal, nic)
}

/// Index in the log of the first word write of `value` to the port at `off`.
fn port_write(hal: &FakeHal<Dev>, off: u16, pred: impl Fn(u64) -> bool) -> Option<usize> {
    hal.first_write(Space::Io, u64::from(IO + off), pred)
}

#[test]
fn mac_comes_from_the_aprom() {
    let (mut hal, nic) = setup(DMA_BASE_LOW);
    assert_eq!(nic.mac(), MAC);
    assert_eq!(nic.station(), MAC);
    let cmd = pci::command(&mut hal, PCI);
    assert!(cmd.contains(Command::IO_SPACE) && !cmd.contains(Command::BUS_MASTER));
    assert!(hal.log.iter().all(|e| matches!(e, Event::PciWrite { .. })));
}

#[test]
fn open_resets_sets_swstyle_2_and_reads_the_init_block() {
    let (mut hal, nic) = opened();
    let dev = &hal.device;
    assert_eq!(dev.resets, 1, "one S_RESET through the RESET register");
    assert_eq!(dev.bcr[20], 0x0302, "SWSTYLE 2, SSIZE32 set by the chip");
    assert_eq!(dev.csr[3], CSR3_MASK_ALL, "interrupt sources masked");
    let csr0 = Csr0::from_bits_retain(dev.csr[0]);
    assert!(
        csr0.contains(Csr0::STRT | Csr0::TXON | Csr0::RXON),
        "{csr0:?}"
    );
    assert!(
        !csr0.intersects(Csr0::IDON | Csr0::IENA | Csr0::STOP),
        "{csr0:?}"
    );
    let b = &dev.init_block;
    assert_eq!(
        u16::from_le_bytes([b[0], b[1]]),
        0,
        "MODE: directed + broadcast"
    );
    assert_eq!(
        (b[init::RLEN], b[init::TLEN]),
        (0x40, 0x30),
        "log2 lengths in bits 7:4"
    );
    assert_eq!(b[init::PADR..init::PADR + 6], MAC);
    assert_eq!(b[init::LADRF..init::LADRF + 8], [0; 8]);
    assert_eq!((dev.rlen, dev.tlen), (RX_COUNT, TX_COUNT));
    assert!(dev.rdra % 16 == 0 && dev.tdra % 16 == 0 && dev.rdra < 1 << 32);
    // Every RX descriptor is the chip's, with its own 1536-byte buffer.
    let (rdra, tdra) = (dev.rdra, dev.tdra);
    for i in 0..RX_COUNT as u64 {
        let ctrl = hal.bus.dma_le(rdra + 16 * i + 4, 4) as u32;
        assert_eq!(ctrl, u32::from(RxStatus::OWN.bits()) << 16 | 0xF000 | 0xA00);
    }
    let b0 = hal.bus.dma_le(rdra, 4);
    assert_eq!(hal.bus.dma_le(rdra + 16, 4) - b0, BUF_SIZE as u64);
    for i in 0..TX_COUNT as u64 {
        let ctrl = hal.bus.dma_le(tdra + 16 * i + 4, 4) as u32;
        assert_eq!(ctrl >> 16, 0, "TX descriptors start host-owned");
    }
    // Order: reset (RAP reset to 0 by it), BCR20, CSR1/2, INIT, STRT.
    let bcr20 = port_write(&hal, BDP, |v| v == 2).unwrap();
    let init = port_write(&hal, RDP, |v| v == u64::from(Csr0::INIT.bits())).unwrap();
    let strt = port_write(&hal, RDP, |v| v & u64::from(Csr0::STRT.bits()) != 0).unwrap();
    assert!(bcr20 < init && init < strt);
    assert!(pci::command(&mut hal, PCI).contains(Command::BUS_MASTER | Command::IO_SPACE));
    assert_eq!(nic.mac(), MAC);
}

#[test]
fn open_refuses_dma_memory_above_4g() {
    let (mut hal, mut nic) = setup(crate::fake::DMA_BASE_HIGH);
    assert_eq!(nic.open(&mut hal), Err(NicError::DmaUnreachable));
    assert!(!pci::command(&mut hal, PCI).contains(Command::BUS_MASTER));
}

#[test]
fn open_fails_when_the_chip_never_stops_or_inits() {
    let (mut hal, mut nic) = setup(DMA_BASE_LOW);
    // CSR0 reads something other than STOP after the reset: not a PCnet in WIO mode.
    hal.script_reads(Space::Io, u64::from(IO + RDP), 2, &[0xFFFF; 2000]);
    assert_eq!(nic.open(&mut hal), Err(NicError::ResetTimeout));
    let mut buf = [0u8; 64];
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
}

#[test]
fn transmit_fills_descriptor_then_demands() {
    let (mut hal, mut nic) = opened();
    let f = frame(42, 1);
    nic.transmit(&mut hal, &f).unwrap();
    let tdra = hal.device.tdra;
    let ctrl = hal.bus.dma_le(tdra + 4, 4) as u32;
    assert_eq!(ctrl & 0xFFFF, 0xF000 | (4096 - 60), "BCNT = -60, padded");
    assert_eq!(
        ctrl >> 16,
        u32::from((TxStatus::STP | TxStatus::ENP).bits()),
        "OWN cleared"
    );
    let mut want = f.clone();
    want.resize(60, 0);
    assert_eq!(hal.device.sent, [want]);
    // The fence comes between the descriptor write and the TDMD write.
    let tdmd = hal.last_write(Space::Io, u64::from(IO + RDP)).unwrap();
    assert_eq!(
        hal.writes_to(Space::Io, u64::from(IO + RDP)).last(),
        Some(&8)
    );
    assert_eq!(hal.log[tdmd - 2], Event::Fence, "fence, RAP = 0, TDMD");
    assert_eq!(
        nic.transmit(&mut hal, &[0; 1519]),
        Err(NicError::BadFrameLength)
    );
}

#[test]
fn transmit_wraps_the_ring_and_reuses_completed_slots() {
    let (mut hal, mut nic) = opened();
    for i in 0..20u8 {
        nic.transmit(&mut hal, &frame(60 + usize::from(i), i))
            .unwrap();
    }
    assert_eq!(hal.device.sent.len(), 20);
    assert_eq!(hal.device.sent[19], frame(79, 19));
    assert_eq!(hal.device.tx_idx, 20 % TX_COUNT);
}

#[test]
fn transmit_times_out_when_the_chip_never_completes() {
    let (mut hal, mut nic) = opened();
    hal.device.tx_stalled = true;
    for i in 0..TX_COUNT as u8 {
        nic.transmit(&mut hal, &frame(60, i)).unwrap();
    }
    assert_eq!(
        nic.transmit(&mut hal, &frame(60, 9)),
        Err(NicError::TxTimeout)
    );
}

#[test]
fn receive_returns_frames_in_order_across_the_ring_wrap() {
    let (mut hal, mut nic) = opened();
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    let mut seed = 0u8;
    for batch in [16usize, 16, 1, 1, 1, 5, 1, 1, 3, 16, 7] {
        let first = seed;
        for _ in 0..batch {
            assert!(inject(&mut hal, &frame(64 + usize::from(seed), seed)));
            seed = seed.wrapping_add(1);
        }
        for s in first..seed {
            let len = nic.receive(&mut hal, &mut buf).expect("frame");
            assert_eq!(
                &buf[..len],
                &frame(64 + usize::from(s), s)[..],
                "FCS stripped"
            );
        }
        assert_eq!(nic.receive(&mut hal, &mut buf), None);
    }
    // The ring holds all 16; the 17th finds no descriptor (MISS), nothing is overwritten.
    for s in 0..16 {
        assert!(inject(&mut hal, &frame(64, s)));
    }
    assert!(!inject(&mut hal, &frame(64, 99)));
    assert!(hal.device.csr[0] & Csr0::MISS.bits() != 0);
    assert_eq!(nic.rx_ring_len(), 16);
    for s in 0..16 {
        assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
        assert_eq!(buf[..64], frame(64, s)[..]);
    }
}

#[test]
fn receive_drops_errored_oversized_and_chained_frames() {
    let (mut hal, mut nic) = opened();
    assert!(inject_with(&mut hal, &frame(100, 1), true));
    assert!(inject(&mut hal, &frame(300, 2)));
    // 2000 bytes + FCS span two buffers (STP, then ENP): one drop, both buffers returned.
    assert!(inject(&mut hal, &frame(2000, 3)));
    assert!(inject(&mut hal, &frame(100, 4)));
    let mut small = [0u8; 200];
    assert_eq!(nic.receive(&mut hal, &mut small), Some(100));
    assert_eq!(&small[..100], &frame(100, 4)[..]);
    assert_eq!(nic.rx_dropped(), 3);
    assert_eq!(nic.receive(&mut hal, &mut small), None);
    // A hostile MCNT (larger than the buffer) is dropped, not copied.
    assert!(inject(&mut hal, &frame(64, 5)));
    let d = hal.device.rdra + (5 * DESC_SIZE) as u64;
    hal.bus.dma_set_le(d + 8, 4, 0xFFF);
    assert_eq!(nic.receive(&mut hal, &mut [0u8; 4096]), None);
    assert_eq!(nic.rx_dropped(), 4);
    // Every descriptor went back to the chip.
    for i in 0..RX_COUNT as u64 {
        let st = hal.bus.dma_le(hal.device.rdra + 16 * i + 6, 2) as u16;
        assert!(st & RxStatus::OWN.bits() != 0, "descriptor {i}");
    }
}

#[test]
fn close_stops_and_resets_and_reopen_reuses_memory() {
    let (mut hal, mut nic) = opened();
    let rdra = hal.device.rdra;
    nic.close(&mut hal);
    let close_at = hal.log.len();
    assert!(hal.device.stopped(), "STOP after close");
    assert_eq!(hal.device.resets, 2);
    assert_eq!(
        hal.device.bcr[20], 0x0200,
        "software style back to its reset value"
    );
    assert!(!pci::command(&mut hal, PCI).contains(Command::BUS_MASTER));
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(
        nic.transmit(&mut hal, &frame(60, 0)),
        Err(NicError::NotOpen)
    );
    assert_eq!(hal.log.len(), close_at, "a closed card is not touched");
    nic.open(&mut hal).unwrap();
    assert_eq!(hal.device.rdra, rdra);
    assert!(inject(&mut hal, &frame(64, 1)));
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
}

#[test]
fn link_status_comes_from_bcr4() {
    let (mut hal, mut nic) = opened();
    assert!(nic.link_up(&mut hal));
    assert_eq!(nic.link_speed_bps(&mut hal), Some(10_000_000));
    hal.device.link_down = true;
    assert!(!nic.link_up(&mut hal));
    assert_eq!(nic.link_speed_bps(&mut hal), None);
    assert_eq!(nic.tx_ring_len(), 8);
}

mod filter;
