//! tulip against a fake 21143 that behaves like QEMU's `tulip` model where it matters: CSRs 8
//! bytes apart in both windows, CSR0.SWR resets the CSRs, a 93C46/93C66 serial ROM and an MII
//! PHY at address 1 (QEMU's register values) behind CSR9, transmit on CSR1/CSR6 writes walking
//! the ring until a descriptor it does not own, setup frames loaded into a filter table, RX into
//! the current descriptor (spanning descriptors when the buffer is short). Unlike QEMU the fake
//! filters like the real chip (perfect table, 512-bit hash, no unconditional broadcast), so the
//! programmed filter is tested, and its PHY is IEEE-exact (QEMU's drops data bit 15).

use std::vec::Vec;

use super::{flt, frame};
use crate::fake::{
    Bus, Event, FakeDevice, FakeHal, FakePciFunction, Space, DMA_BASE_HIGH, DMA_BASE_LOW,
};
use crate::filter::{RxFilter, BROADCAST};
use crate::nic::{Nic, NicError};
use crate::pci::{self, Command, PciAddress};
use crate::tulip::regs::*;
use crate::tulip::{serial, Regs, Tulip, BUF_SIZE, RX_COUNT, TX_COUNT};

const PCI: PciAddress = PciAddress::new(0, 3, 0);
const IO: u64 = 0xC000;
const MEM: u64 = 0xFEBF_1000;
const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
/// QEMU's PHY registers 0–5 (BMCR, BMSR, ID1, ID2, ANAR, ANLPAR): 100 Mb/s full duplex, link up.
const QEMU_PHY: [u16; 6] = [0x3100, 0xF02C, 0x7810, 0x0000, 0x0501, 0x4181];

#[derive(Default)]
enum Mii {
    #[default]
    Idle,
    Cmd(u16, u8),
    Read(u16, u8),
}

#[derive(Default)]
struct Dev {
    space: Option<Space>,
    srom: Vec<u16>,
    srom_bits: u8,
    phy: Option<[u16; 32]>,
    csr12: u32,
    swr_stuck: bool,
    tx_stalled: bool,
    // serial ROM state: (collecting bits, count) or data shifting out
    sr_prev: u32,
    sr_started: bool,
    sr_bits: u32,
    sr_n: u8,
    sr_data: Option<u16>,
    sr_do: bool,
    // MII state
    mii: Mii,
    ones: u32,
    mdi: bool,
    rx_cur: u64,
    tx_cur: u64,
    sent: Vec<Vec<u8>>,
    setups: Vec<(u32, Vec<u8>)>,
    perfect: Vec<[u8; 6]>,
    hash: Option<([u8; 64], [u8; 6])>,
}

fn base(space: Space) -> u64 {
    if space == Space::Io {
        IO
    } else {
        MEM
    }
}

impl Dev {
    fn new(srom_bits: u8, srom: &[(usize, &[u8])]) -> Self {
        let mut bytes = std::vec![0u8; 2 << srom_bits];
        for (offset, data) in srom {
            bytes[*offset..offset + data.len()].copy_from_slice(data);
        }
        Self {
            srom: bytes
                .chunks(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]]))
                .collect(),
            srom_bits,
            phy: Some(core::array::from_fn(|i| {
                QEMU_PHY.get(i).copied().unwrap_or(0)
            })),
            csr12: 5 << 12,
            sr_do: true,
            mdi: true,
            ..Self::default()
        }
    }

    fn csr(&self, bus: &Bus, csr: u16) -> u32 {
        bus.reg(
            self.space.unwrap(),
            base(self.space.unwrap()) + u64::from(csr),
            4,
        ) as u32
    }

    fn set(&self, bus: &mut Bus, csr: u16, v: u32) {
        bus.set_reg(
            self.space.unwrap(),
            base(self.space.unwrap()) + u64::from(csr),
            4,
            v.into(),
        );
    }

    fn srom_edge(&mut self, v: u32) {
        let bit = v & Csr9::SR_DI.bits() != 0;
        if let Some(data) = self.sr_data.as_mut() {
            self.sr_do = *data & 0x8000 != 0;
            *data <<= 1;
        } else if !self.sr_started {
            self.sr_started = bit;
        } else {
            self.sr_bits = self.sr_bits << 1 | u32::from(bit);
            self.sr_n += 1;
            if self.sr_n == 2 + self.srom_bits {
                let op = self.sr_bits >> self.srom_bits;
                let addr = (self.sr_bits & ((1 << self.srom_bits) - 1)) as usize;
                if op == 0b10 {
                    self.sr_data = Some(self.srom[addr]);
                    self.sr_do = false;
                }
            }
        }
    }

    fn srom(&mut self, v: u32) {
        let (cs, sk) = (Csr9::SR_CS.bits(), Csr9::SR_SK.bits());
        if v & cs == 0 {
            (
                self.sr_started,
                self.sr_bits,
                self.sr_n,
                self.sr_data,
                self.sr_do,
            ) = (false, 0, 0, None, true);
        } else if v & sk != 0 && self.sr_prev & sk == 0 {
            self.srom_edge(v);
        }
        self.sr_prev = v;
    }

    fn mii_edge(&mut self, v: u32) {
        let mdo = v & Csr9::MDO.bits() != 0;
        self.mii = match core::mem::take(&mut self.mii) {
            Mii::Idle if mdo => {
                self.ones += 1;
                Mii::Idle
            }
            Mii::Idle if self.ones >= 32 => Mii::Cmd(0, 1),
            Mii::Idle => {
                self.ones = 0;
                Mii::Idle
            }
            Mii::Cmd(bits, n) => {
                let bits = bits << 1 | u16::from(mdo);
                if n + 1 < 14 {
                    Mii::Cmd(bits, n + 1)
                } else {
                    self.ones = 0;
                    let (op, phy, reg) = (bits >> 10 & 0xF, bits >> 5 & 0x1F, bits & 0x1F);
                    let value = match self.phy {
                        Some(regs) if op == 0b0110 && phy == 1 => regs[usize::from(reg)],
                        _ => 0xFFFF,
                    };
                    Mii::Read(value, 0)
                }
            }
            Mii::Read(value, k) => {
                // Turnaround 0, then D15..D0 driven after successive rising edges.
                self.mdi = if k == 0 {
                    false
                } else {
                    value >> (16 - k) & 1 != 0
                };
                if k < 16 {
                    Mii::Read(value, k + 1)
                } else {
                    Mii::Idle
                }
            }
        };
    }

    fn process_tx(&mut self, bus: &mut Bus) {
        if self.tx_stalled || self.csr(bus, CSR6) & Csr6::ST.bits() == 0 {
            return;
        }
        for _ in 0..64 {
            let d = self.tx_cur;
            if bus.dma_le(d, 4) as u32 & Tdes0::OWN.bits() == 0 {
                return;
            }
            let control = bus.dma_le(d + 4, 4) as u32;
            let mut data = std::vec![0; (control & 0x7FF) as usize];
            bus.dma_read(bus.dma_le(d + 8, 4), &mut data);
            if control & Tdes1::SET.bits() != 0 {
                let lo16 = |i: usize| [data[4 * i], data[4 * i + 1]];
                let mac = |e: usize| {
                    let [a, b, c] = [lo16(3 * e), lo16(3 * e + 1), lo16(3 * e + 2)];
                    [a[0], a[1], b[0], b[1], c[0], c[1]]
                };
                if control & Tdes1::FT0.bits() != 0 {
                    let table = core::array::from_fn(|i| lo16(i / 2)[i % 2]);
                    self.hash = Some((table, mac(13)));
                } else {
                    self.hash = None;
                    self.perfect = (0..16).map(mac).collect();
                }
                self.setups.push((control, data));
            } else {
                assert!(control & (Tdes1::FS | Tdes1::LS).bits() == (Tdes1::FS | Tdes1::LS).bits());
                self.sent.push(data);
            }
            bus.dma_set_le(d, 4, 0);
            self.tx_cur = if control & Tdes1::TER.bits() != 0 {
                self.csr(bus, CSR4).into()
            } else {
                d + 16
            };
        }
    }

    fn hw_accepts(&self, bus: &Bus, dst: &[u8; 6]) -> bool {
        let csr6 = self.csr(bus, CSR6);
        let group = dst[0] & 1 != 0;
        if csr6 & Csr6::PR.bits() != 0 || group && csr6 & Csr6::PM.bits() != 0 {
            return true;
        }
        match &self.hash {
            Some((table, _)) if group => {
                let h = usize::from(setup_hash(dst));
                table[h / 8] & 1 << (h % 8) != 0
            }
            Some((_, station)) => dst == station,
            None => self.perfect.contains(dst),
        }
    }
}

impl FakeDevice for Dev {
    fn on_write(&mut self, bus: &mut Bus, space: Space, addr: u64, _: u8, value: u64) {
        let value = value as u32;
        match (addr - base(space)) as u16 {
            CSR0 if value & Csr0::SWR.bits() != 0 && !self.swr_stuck => {
                for (csr, v) in [
                    (CSR0, 0xFE00_0000),
                    (CSR5, 0xF000_0000),
                    (CSR6, 0x3200_0040),
                ] {
                    self.set(bus, csr, v);
                }
            }
            CSR1 => self.process_tx(bus),
            CSR3 => self.rx_cur = value.into(),
            CSR4 => self.tx_cur = value.into(),
            CSR6 => self.process_tx(bus),
            CSR9 => {
                if value & Csr9::SR.bits() != 0 {
                    self.srom(value);
                } else if value & Csr9::MDC.bits() != 0 && self.sr_prev & Csr9::MDC.bits() == 0 {
                    self.mii_edge(value);
                }
                if value & Csr9::SR.bits() == 0 {
                    self.sr_prev = value;
                }
            }
            _ => {}
        }
    }

    fn on_read(&mut self, bus: &mut Bus, space: Space, addr: u64, _: u8) -> Option<u64> {
        match (addr - base(space)) as u16 {
            CSR5 => {
                let csr6 = self.csr(bus, CSR6);
                let rs = if csr6 & Csr6::SR.bits() != 0 { 3 } else { 0 };
                let ts = if csr6 & Csr6::ST.bits() != 0 { 6 } else { 0 };
                Some(u64::from(
                    0xF000_0000u32 | rs << CSR5_RS_SHIFT | ts << CSR5_TS_SHIFT,
                ))
            }
            CSR9 => {
                let v = self.csr(bus, CSR9) & !(Csr9::SR_DO | Csr9::MDI).bits();
                let d = if self.sr_do { Csr9::SR_DO.bits() } else { 0 };
                let m = if self.mdi { Csr9::MDI.bits() } else { 0 };
                Some(u64::from(v | d | m))
            }
            CSR12 => Some(self.csr12.into()),
            _ => None,
        }
    }
}

/// Hands `data` (plus a 4-byte FCS) to the ring as the chip would: `None` if the filter
/// drops it, `Some(false)` if the current descriptor is not the chip's.
fn inject(hal: &mut FakeHal<Dev>, data: &[u8], status: u32) -> Option<bool> {
    let (dev, bus) = (&mut hal.device, &mut hal.bus);
    if !dev.hw_accepts(bus, data[..6].try_into().unwrap()) {
        return None;
    }
    let mut rest: Vec<u8> = data.iter().copied().chain([0xAA; 4]).collect();
    let fl = rest.len() as u32;
    let mut first = true;
    while !rest.is_empty() {
        let d = dev.rx_cur;
        if bus.dma_le(d, 4) as u32 & Rdes0::OWN.bits() == 0 {
            return Some(false);
        }
        let control = bus.dma_le(d + 4, 4) as u32;
        let n = rest.len().min((control & 0x7FF) as usize);
        bus.dma_write(bus.dma_le(d + 8, 4), &rest[..n]);
        rest.drain(..n);
        let mut s = if first { Rdes0::FS.bits() } else { 0 };
        if rest.is_empty() {
            s |= Rdes0::LS.bits() | fl << 16 | status;
        }
        bus.dma_set_le(d, 4, s.into());
        first = false;
        dev.rx_cur = if control & Rdes1::RER.bits() != 0 {
            dev.csr(bus, CSR3).into()
        } else {
            d + 16
        };
    }
    Some(true)
}

fn setup_with(dev: Dev, dma_base: u64) -> (FakeHal<Dev>, Tulip) {
    let mut hal = FakeHal::new(dev, dma_base);
    hal.device.space = Some(Space::Io);
    hal.add_pci(
        PCI,
        FakePciFunction::new(0x1011, 0x0019, [2, 0, 0])
            .with_io_bar(0, IO as u32, 0x80)
            .with_mem32_bar(1, MEM as u32, 0x80),
    );
    let nic = Tulip::new(&mut hal, PCI).expect("probe");
    (hal, nic)
}

fn qemu_srom() -> Dev {
    Dev::new(
        6,
        &[(0, &[0x3C, 0x10, 0x4F, 0x10]), (18, &[4, 1]), (20, &MAC)],
    )
}

fn opened() -> (FakeHal<Dev>, Tulip) {
    let (mut hal, mut nic) = setup_with(qemu_srom(), DMA_BASE_LOW);
    nic.open(&mut hal).expect("open");
    (hal, nic)
}

fn csr(hal: &FakeHal<Dev>, c: u16) -> u32 {
    hal.bus.reg(Space::Io, IO + u64::from(c), 4) as u32
}

fn to(dst: [u8; 6], seed: u8) -> Vec<u8> {
    let mut f = frame(64, seed);
    f[..6].copy_from_slice(&dst);
    f
}

fn last_setup(hal: &FakeHal<Dev>) -> (u32, Vec<u8>) {
    hal.device.setups.last().cloned().expect("a setup frame")
}

const GROUP_A: [u8; 6] = [0x01, 0x00, 0x5E, 0x01, 0x02, 0x03];
const GROUP_B: [u8; 6] = [0x33, 0x33, 0x00, 0x00, 0x00, 0x01];
const NEW_MAC: [u8; 6] = [0x02, 0x50, 0x58, 0x45, 0x00, 0x01];

#[test]
fn mac_from_93c46_and_93c66_with_detected_address_width() {
    for bits in [6, 8] {
        let (mut hal, nic) = setup_with(
            Dev::new(bits, &[(18, &[4, 1]), (20, &MAC), (126, &[0x12, 0x34])]),
            DMA_BASE_LOW,
        );
        assert_eq!(nic.mac(), MAC);
        assert_eq!(serial::srom_addr_bits(&mut hal, Regs::Io(IO as u16)), bits);
        assert_eq!(
            serial::srom_word(&mut hal, Regs::Io(IO as u16), bits, 63),
            0x3412
        );
        assert!(pci::command(&mut hal, PCI).contains(Command::IO_SPACE));
        assert_eq!(nic.regs(), Regs::Io(IO as u16), "I/O window in BAR0 first");
    }
}

#[test]
fn mac_falls_back_to_byte_0_and_a_blank_srom_is_an_error() {
    let (_, nic) = setup_with(Dev::new(6, &[(0, &MAC)]), DMA_BASE_LOW);
    assert_eq!(nic.mac(), MAC);
    let mut hal = FakeHal::new(Dev::new(6, &[(20, &[0xFF; 6])]), DMA_BASE_LOW);
    hal.device.space = Some(Space::Io);
    hal.add_pci(
        PCI,
        FakePciFunction::new(0x1011, 0x19, [2, 0, 0]).with_io_bar(0, 0xC000, 0x80),
    );
    assert_eq!(
        Tulip::new(&mut hal, PCI).err(),
        Some(NicError::EepromTimeout)
    );
}

#[test]
fn memory_window_in_bar1_when_bar0_is_not_io() {
    let mut hal = FakeHal::new(qemu_srom(), DMA_BASE_LOW);
    hal.device.space = Some(Space::Mmio);
    hal.add_pci(
        PCI,
        FakePciFunction::new(0x1011, 0x19, [2, 0, 0]).with_mem32_bar(1, MEM as u32, 0x80),
    );
    let mut nic = Tulip::new(&mut hal, PCI).unwrap();
    assert_eq!((nic.regs(), nic.mac()), (Regs::Mem(MEM), MAC));
    nic.open(&mut hal).unwrap();
    nic.transmit(&mut hal, &frame(100, 1)).unwrap();
    assert_eq!(hal.device.sent, [frame(100, 1)]);
    assert!(pci::command(&mut hal, PCI).contains(Command::MEMORY_SPACE | Command::BUS_MASTER));
}

#[test]
fn open_resets_sets_bus_mode_rings_and_sends_the_setup_frame_before_rx_starts() {
    let (mut hal, nic) = opened();
    let csr0 = hal.writes_to(Space::Io, IO + u64::from(CSR0));
    assert_eq!(
        csr0,
        [u64::from(Csr0::SWR.bits()), u64::from(CSR0_BUS_MODE)]
    );
    assert_eq!(CSR0_BUS_MODE, 0x5000, "DSL 0, PBL 16, CAL 8 longwords");
    assert_eq!(csr(&hal, CSR7), 0, "interrupts masked");
    let (rx, tx) = (u64::from(csr(&hal, CSR3)), u64::from(csr(&hal, CSR4)));
    assert!(rx >= DMA_BASE_LOW && tx == rx + 16 * RX_COUNT as u64);
    for i in 0..RX_COUNT as u64 {
        let (s, c) = (
            hal.bus.dma_le(rx + 16 * i, 4) as u32,
            hal.bus.dma_le(rx + 16 * i + 4, 4) as u32,
        );
        assert_eq!(s, Rdes0::OWN.bits(), "every RX descriptor is the chip's");
        let rer = if i == RX_COUNT as u64 - 1 {
            Rdes1::RER.bits()
        } else {
            0
        };
        assert_eq!(c, rer | BUF_SIZE as u32);
        assert_eq!(
            hal.bus.dma_le(rx + 16 * i + 8, 4),
            rx + 1024 + i * BUF_SIZE as u64
        );
    }
    // CSR6: ST alone, then (after the setup frame) SR | ST; MII port, full duplex from the PHY.
    let csr6 = hal.writes_to(Space::Io, IO + u64::from(CSR6));
    let want = (Csr6::MBO | Csr6::SF | Csr6::PS | Csr6::HBD | Csr6::FD | Csr6::ST).bits();
    assert_eq!(csr6, [u64::from(want), u64::from(want | Csr6::SR.bits())]);
    assert_eq!(hal.device.setups.len(), 1);
    assert!(pci::command(&mut hal, PCI).contains(Command::BUS_MASTER | Command::IO_SPACE));
    assert_eq!(nic.station(), MAC);
}

#[test]
fn reset_timeout_and_unreachable_dma_fail_the_open() {
    let (mut hal, mut nic) = setup_with(qemu_srom(), DMA_BASE_LOW);
    hal.device.swr_stuck = true;
    hal.bus.set_reg(Space::Io, IO, 4, 1);
    assert_eq!(nic.open(&mut hal), Err(NicError::ResetTimeout));
    let (mut hal, mut nic) = setup_with(qemu_srom(), DMA_BASE_HIGH);
    assert_eq!(nic.open(&mut hal), Err(NicError::DmaUnreachable));
    let (mut hal, mut nic) = setup_with(qemu_srom(), DMA_BASE_LOW);
    hal.device.tx_stalled = true;
    assert_eq!(
        nic.open(&mut hal),
        Err(NicError::FilterRefused),
        "setup frame never taken"
    );
}

#[test]
fn perfect_setup_frame_holds_station_broadcast_multicast_and_fillers() {
    let (mut hal, mut nic) = opened();
    let (control, data) = last_setup(&hal);
    assert_eq!(
        control,
        Tdes1::SET.bits() | 192,
        "perfect filtering, 192 bytes"
    );
    assert_eq!(
        &data[..12],
        &[0x52, 0x54, 0, 0, 0x00, 0x12, 0, 0, 0x34, 0x56, 0, 0]
    );
    assert_eq!(hal.device.perfect[1], BROADCAST);
    assert!(
        hal.device.perfect[2..].iter().all(|m| *m == MAC),
        "unused entries repeat the first"
    );
    let mut f = RxFilter::new();
    f.set_multicast(&[GROUP_A, GROUP_B]);
    nic.set_filter(&mut hal, &f).unwrap();
    assert_eq!(
        &hal.device.perfect[..4],
        &[MAC, BROADCAST, GROUP_A, GROUP_B]
    );
    assert_eq!(hal.device.setups.len(), 2);
    assert_eq!(csr(&hal, CSR6) & (Csr6::PR | Csr6::PM).bits(), 0);
    // Without directed and broadcast the table repeats the first multicast address.
    let mut f = RxFilter::none();
    f.set_multicast(&[GROUP_B]);
    nic.set_filter(&mut hal, &f).unwrap();
    assert!(hal.device.perfect.iter().all(|m| *m == GROUP_B));
    assert_eq!(
        inject(&mut hal, &to(MAC, 1), 0),
        None,
        "the chip drops the station now"
    );
}

#[test]
fn hash_setup_frame_when_more_than_16_addresses() {
    let (mut hal, mut nic) = opened();
    let groups: Vec<[u8; 6]> = (0..15u8)
        .map(|i| [0x01, 0x00, 0x5E, 0x00, 0x00, i])
        .collect();
    let mut f = RxFilter::new();
    f.set_multicast(&groups);
    nic.set_filter(&mut hal, &f).unwrap();
    let (control, data) = last_setup(&hal);
    assert_eq!(control, (Tdes1::SET | Tdes1::FT0).bits() | 192);
    assert_eq!(
        &data[156..168],
        &[0x52, 0x54, 0, 0, 0x00, 0x12, 0, 0, 0x34, 0x56, 0, 0]
    );
    let bit = |h: u16| data[usize::from(h / 16) * 4 + usize::from(h % 16) / 8] >> (h % 8) & 1;
    assert_eq!(bit(255), 1, "broadcast hashes to 255");
    let mut want: Vec<u16> = groups.iter().map(setup_hash).chain([255]).collect();
    want.sort();
    want.dedup();
    for h in &want {
        assert_eq!(bit(*h), 1);
    }
    let ones: u32 = (0..32)
        .map(|i| u32::from(data[4 * i]).count_ones() + u32::from(data[4 * i + 1]).count_ones())
        .sum();
    assert_eq!(ones as usize, want.len());
    assert!(
        data[..128].chunks(4).all(|l| l[2] == 0 && l[3] == 0),
        "upper halves unused"
    );
    // A group with a colliding hash passes the chip and is dropped by the driver.
    let target = setup_hash(&groups[3]);
    let collision = (0..=u16::MAX)
        .map(|i| [0x01, 0x00, 0x5E, 0x40, (i >> 8) as u8, i as u8])
        .find(|m| setup_hash(m) == target)
        .unwrap();
    assert_eq!(inject(&mut hal, &to(collision, 1), 0), Some(true));
    assert_eq!(inject(&mut hal, &to(groups[3], 2), 0), Some(true));
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], groups[3]);
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(nic.rx_dropped(), 0, "filtered frames are not errors");
}

/// zlib's CRC-32, bytewise with a table, as an independent reference.
fn crc32(data: &[u8]) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 != 0 {
                    0xEDB8_8320 ^ c >> 1
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xFF) as usize] ^ c >> 8
    })
}

#[test]
fn setup_hash_is_the_low_9_bits_of_the_uncomplemented_crc() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    for mac in [BROADCAST, GROUP_A, GROUP_B, [0x01, 0x80, 0xC2, 0, 0, 0]] {
        assert_eq!(
            u32::from(setup_hash(&mac)),
            !crc32(&mac) & 0x1FF,
            "{mac:02x?}"
        );
    }
    assert_eq!(setup_hash(&BROADCAST), 255);
}

#[test]
fn csr6_filter_bits_for_each_class() {
    let (mut hal, mut nic) = opened();
    let mut overflow = RxFilter::new();
    let many: Vec<[u8; 6]> = (0..17u8).map(|i| [0x01, 0, 0x5E, 0, 1, i]).collect();
    overflow.set_multicast(&many);
    for (f, want) in [
        (RxFilter::new(), Csr6::empty()),
        (flt(true, true, true, false), Csr6::PM),
        (flt(false, false, false, true), Csr6::PR | Csr6::PM),
        (overflow, Csr6::PM),
    ] {
        nic.set_filter(&mut hal, &f).unwrap();
        let got = Csr6::from_bits_retain(csr(&hal, CSR6));
        assert_eq!(got & (Csr6::PR | Csr6::PM), want, "{f:?}");
        assert!(got.contains(Csr6::SR | Csr6::ST), "still running");
    }
}

#[test]
fn transmit_pads_fills_the_descriptor_and_polls() {
    let (mut hal, mut nic) = opened();
    let f = frame(42, 1);
    nic.transmit(&mut hal, &f).unwrap();
    let tx = u64::from(csr(&hal, CSR4));
    // Slot 0 held the setup frame; the frame went into slot 1.
    let d = tx + 16;
    assert_eq!(hal.bus.dma_le(d, 4), 0, "the chip gave it back");
    assert_eq!(
        hal.bus.dma_le(d + 4, 4) as u32,
        (Tdes1::FS | Tdes1::LS).bits() | 60
    );
    let mut want = f.clone();
    want.resize(60, 0);
    assert_eq!(hal.device.sent, [want]);
    let poll = hal.last_write(Space::Io, IO + u64::from(CSR1)).unwrap();
    assert_eq!(
        hal.log[poll - 1],
        Event::Fence,
        "fence before the poll demand"
    );
    assert_eq!(
        nic.transmit(&mut hal, &[0; 1519]),
        Err(NicError::BadFrameLength)
    );
}

#[test]
fn transmit_wraps_with_ter_and_times_out_when_the_chip_stalls() {
    let (mut hal, mut nic) = opened();
    for i in 0..20u8 {
        nic.transmit(&mut hal, &frame(60 + usize::from(i), i))
            .unwrap();
    }
    assert_eq!(hal.device.sent.len(), 20);
    assert_eq!(hal.device.sent[19], frame(79, 19));
    let tx = u64::from(csr(&hal, CSR4));
    for i in 0..TX_COUNT as u64 {
        let ter = hal.bus.dma_le(tx + 16 * i + 4, 4) as u32 & Tdes1::TER.bits() != 0;
        assert_eq!(ter, i == TX_COUNT as u64 - 1);
    }
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
fn receive_in_order_across_the_rer_wrap_giving_descriptors_back() {
    let (mut hal, mut nic) = opened();
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    let mut seed = 0u8;
    for batch in [16usize, 16, 1, 1, 1, 5, 3, 16, 7] {
        let first = seed;
        for _ in 0..batch {
            assert_eq!(
                inject(&mut hal, &frame(64 + usize::from(seed), seed), 0),
                Some(true)
            );
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
    for s in 0..RX_COUNT as u8 {
        assert_eq!(inject(&mut hal, &frame(64, s), 0), Some(true));
    }
    assert_eq!(
        inject(&mut hal, &frame(64, 99), 0),
        Some(false),
        "ring full: chip stops"
    );
    assert_eq!(nic.rx_dropped(), 0);
}

#[test]
fn receive_drops_errored_spanning_oversized_and_hostile_frames() {
    let (mut hal, mut nic) = opened();
    inject(&mut hal, &frame(100, 1), (Rdes0::ES | Rdes0::CE).bits());
    inject(&mut hal, &frame(1700, 2), 0); // spans two descriptors: FS, then LS
    inject(&mut hal, &frame(300, 3), 0);
    // A descriptor claiming more than its buffer, and one shorter than the FCS.
    let rx = u64::from(csr(&hal, CSR3));
    let slot = |i: u64| rx + 16 * i;
    inject(&mut hal, &frame(80, 4), 0);
    hal.bus.dma_set_le(
        slot(4),
        4,
        u64::from((Rdes0::FS | Rdes0::LS).bits() | 4000 << 16),
    );
    inject(&mut hal, &frame(80, 5), 0);
    hal.bus.dma_set_le(
        slot(5),
        4,
        u64::from((Rdes0::FS | Rdes0::LS).bits() | 3 << 16),
    );
    inject(&mut hal, &frame(100, 6), 0);
    let mut small = [0u8; 200];
    assert_eq!(nic.receive(&mut hal, &mut small), Some(100));
    assert_eq!(&small[..100], &frame(100, 6)[..]);
    assert_eq!(nic.rx_dropped(), 5);
    assert_eq!(
        hal.bus.dma_le(slot(2), 4) as u32,
        Rdes0::OWN.bits(),
        "continuation given back"
    );
}

#[test]
fn close_stops_resets_and_reopen_reuses_memory_and_resends_the_filter() {
    let (mut hal, mut nic) = opened();
    let rx = csr(&hal, CSR3);
    nic.close(&mut hal);
    let stop = hal
        .first_write(Space::Io, IO + u64::from(CSR6), |v| v & 0x2002 == 0)
        .unwrap();
    let swr = hal
        .log
        .iter()
        .rposition(|e| matches!(*e, Event::Write { addr, value: 1, .. } if addr == IO))
        .unwrap();
    assert!(stop < swr, "DMA stopped, then reset");
    assert!(!pci::command(&mut hal, PCI).contains(Command::BUS_MASTER));
    let at = hal.log.len();
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(
        nic.transmit(&mut hal, &frame(60, 0)),
        Err(NicError::NotOpen)
    );
    assert_eq!(hal.log.len(), at, "a closed card is not touched");
    nic.open(&mut hal).unwrap();
    assert_eq!(csr(&hal, CSR3), rx);
    assert_eq!(hal.device.setups.len(), 2);
    assert_eq!(inject(&mut hal, &to(MAC, 7), 0), Some(true));
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
}

#[test]
fn station_change_reloads_the_table_and_close_leaves_the_permanent_address() {
    let (mut hal, mut nic) = opened();
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    assert_eq!((nic.station(), nic.mac()), (NEW_MAC, MAC));
    assert_eq!(hal.device.perfect[0], NEW_MAC);
    assert_eq!(
        inject(&mut hal, &to(MAC, 1), 0),
        None,
        "old address no longer matches"
    );
    inject(&mut hal, &to(NEW_MAC, 2), 0);
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], NEW_MAC);
    assert_eq!(
        nic.set_station(&mut hal, GROUP_A),
        Err(NicError::BadAddress)
    );
    nic.close(&mut hal);
    assert_eq!(&hal.device.perfect[..2], &[MAC, BROADCAST]);
    assert_eq!(nic.station(), NEW_MAC, "kept for the next open");
}

#[test]
fn filter_and_station_survive_close_and_reopen() {
    let (mut hal, mut nic) = opened();
    let mut f = RxFilter::new();
    f.promiscuous = true;
    f.set_multicast(&[GROUP_A]);
    nic.set_filter(&mut hal, &f).unwrap();
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    nic.close(&mut hal);
    nic.set_filter(&mut hal, &f).unwrap(); // closed: stored only
    nic.open(&mut hal).unwrap();
    assert_eq!(&hal.device.perfect[..3], &[NEW_MAC, BROADCAST, GROUP_A]);
    assert!(Csr6::from_bits_retain(csr(&hal, CSR6)).contains(Csr6::PR | Csr6::PM));
    assert_eq!(nic.filter(), f);
}

#[test]
fn link_from_the_mii_phy_or_csr12() {
    let (mut hal, mut nic) = opened();
    assert_eq!(nic.link_speed_bps(&mut hal), Some(100_000_000));
    assert!(nic.link_up(&mut hal));
    hal.device.phy.as_mut().unwrap()[1] &= !0x0004;
    assert_eq!(nic.link_speed_bps(&mut hal), None, "BMSR link down");
    hal.device.phy.as_mut().unwrap()[5] = 0x0021; // partner: 10BASE-T half duplex only
    hal.device.phy.as_mut().unwrap()[1] |= 0x0004;
    assert_eq!(nic.link_speed_bps(&mut hal), Some(10_000_000));
    // No PHY: CSR12 link-fail bits.
    let mut dev = qemu_srom();
    dev.phy = None;
    let (mut hal, mut nic) = setup_with(dev, DMA_BASE_LOW);
    assert_eq!(nic.link_speed_bps(&mut hal), Some(100_000_000));
    hal.device.csr12 = (Csr12::LS100).bits();
    assert_eq!(nic.link_speed_bps(&mut hal), Some(10_000_000));
    hal.device.csr12 = (Csr12::LS100 | Csr12::LS10).bits();
    assert!(!nic.link_up(&mut hal));
    nic.open(&mut hal).unwrap();
    let csr6 = Csr6::from_bits_retain(csr(&hal, CSR6));
    assert!(
        !csr6.intersects(Csr6::PS | Csr6::FD),
        "no PHY: SIA port, half duplex"
    );
    assert_eq!((nic.rx_ring_len(), nic.tx_ring_len()), (16, 8));
}

#[test]
fn registry_probes_the_21143() {
    assert_eq!(
        crate::find_driver(0x1011, 0x0019).map(|(d, _)| d.name),
        Some("tulip")
    );
    let mut hal = FakeHal::new(qemu_srom(), DMA_BASE_LOW);
    hal.device.space = Some(Space::Io);
    hal.add_pci(
        PCI,
        FakePciFunction::new(0x1011, 0x19, [2, 0, 0]).with_io_bar(0, IO as u32, 0x80),
    );
    let nic = crate::probe(&mut hal, PCI).unwrap().unwrap();
    assert_eq!((nic.driver_name(), nic.mac()), ("tulip", MAC));
}
