//! e1000 against a fake 82540EM that behaves like QEMU's model: self-clearing CTRL.RST that
//! reloads RAL0/RAH0, EERD reads, TX processing on a TDT write, RX into descriptor RDH.

use std::vec::Vec;

use super::frame;
use crate::e1000::regs::*;
use crate::e1000::{E1000, RX_COUNT, TX_COUNT};
use crate::fake::{Bus, Event, FakeDevice, FakeHal, FakePciFunction, Space, DMA_BASE_HIGH};
use crate::nic::{Nic, NicError};
use crate::pci::{self, Command, PciAddress};

const PCI: PciAddress = PciAddress::new(0, 3, 0);
const MMIO: u64 = 0xFEB8_0000;
const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

#[derive(Default)]
struct Dev {
    /// MAC in RAL0/RAH0 after reset; `None` leaves them empty (EEPROM path).
    ral_mac: Option<[u8; 6]>,
    eeprom: [u16; 3],
    sent: Vec<Vec<u8>>,
    /// Stops completing transmissions (a hung transmitter).
    tx_stalled: bool,
    /// Plays an 82574 (QEMU `e1000e`): EERD DONE in bit 1, address in bits 15:2.
    i82574: bool,
}

fn reg(bus: &Bus, r: u64) -> u32 {
    bus.reg(Space::Mmio, MMIO + r, 4) as u32
}

fn set(bus: &mut Bus, r: u64, v: u32) {
    bus.set_reg(Space::Mmio, MMIO + r, 4, v.into());
}

impl Dev {
    fn load_ra(&self, bus: &mut Bus) {
        if let Some(m) = self.ral_mac {
            set(bus, RAL0, u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
            set(
                bus,
                RAH0,
                u32::from_le_bytes([m[4], m[5], 0, 0]) | Rah::AV.bits(),
            );
        }
    }
}

impl FakeDevice for Dev {
    fn on_write(&mut self, bus: &mut Bus, _: Space, addr: u64, _: u8, value: u64) {
        let value = value as u32;
        match addr - MMIO {
            CTRL if value & Ctrl::RST.bits() != 0 => {
                for r in [
                    RCTL, TCTL, RDBAL, RDBAH, RDLEN, RDH, RDT, TDBAL, TDBAH, TDLEN, TDH, TDT,
                ] {
                    set(bus, r, 0);
                }
                set(bus, CTRL, value & !Ctrl::RST.bits());
                set(bus, STATUS, (Status::LU | Status::FD).bits());
                self.load_ra(bus);
            }
            EERD if value & Eerd::START.bits() != 0 && self.i82574 => {
                // QEMU's e1000e: address in 15:2, DONE bit 1, nothing for an address too big.
                let addr = value >> 2 & 0x3FFF;
                let v = match self.eeprom.get(addr as usize) {
                    Some(&w) => EERD_DONE_82574 | addr << 2 | u32::from(w) << 16,
                    None => addr << 2,
                };
                set(bus, EERD, v);
            }
            EERD if value & Eerd::START.bits() != 0 => {
                let word = self.eeprom[(value >> 8 & 0xFF) as usize];
                set(bus, EERD, value | Eerd::DONE.bits() | u32::from(word) << 16);
            }
            TDT if !self.tx_stalled => {
                let base = u64::from(reg(bus, TDBAH)) << 32 | u64::from(reg(bus, TDBAL));
                let mut head = reg(bus, TDH);
                while head != reg(bus, TDT) {
                    let desc = base + u64::from(head) * 16;
                    let addr = bus.dma_le(desc, 8);
                    let len = bus.dma_le(desc + 8, 2) as usize;
                    let mut data = std::vec![0; len];
                    bus.dma_read(addr, &mut data);
                    self.sent.push(data);
                    bus.dma_set_le(desc + 12, 1, TxStatus::DD.bits().into());
                    head = (head + 1) % TX_COUNT as u32;
                    set(bus, TDH, head);
                }
            }
            _ => {}
        }
    }
}

/// Puts `data` into the descriptor at RDH as the card would, or returns false if RDH == RDT.
fn inject(hal: &mut FakeHal<Dev>, data: &[u8], errors: u8) -> bool {
    let bus = &mut hal.bus;
    let (head, tail) = (reg(bus, RDH), reg(bus, RDT));
    if head == tail {
        return false;
    }
    let base = u64::from(reg(bus, RDBAH)) << 32 | u64::from(reg(bus, RDBAL));
    let desc = base + u64::from(head) * 16;
    let addr = bus.dma_le(desc, 8);
    bus.dma_write(addr, data);
    bus.dma_set_le(desc + 8, 2, data.len() as u64);
    bus.dma_set_le(desc + 13, 1, errors.into());
    bus.dma_set_le(desc + 12, 1, (RxStatus::DD | RxStatus::EOP).bits().into());
    set(bus, RDH, (head + 1) % RX_COUNT as u32);
    true
}

fn setup(dev: Dev) -> (FakeHal<Dev>, E1000) {
    let device = if dev.i82574 { 0x10D3 } else { 0x100E };
    let mut hal = FakeHal::new(dev, DMA_BASE_HIGH);
    hal.add_pci(
        PCI,
        FakePciFunction::new(0x8086, device, [2, 0, 0]).with_mem32_bar(0, MMIO as u32, 0x2_0000),
    );
    hal.device.load_ra(&mut hal.bus);
    let nic = E1000::new(&mut hal, PCI).expect("probe");
    (hal, nic)
}

fn opened() -> (FakeHal<Dev>, E1000) {
    let (mut hal, mut nic) = setup(Dev {
        ral_mac: Some(MAC),
        ..Dev::default()
    });
    nic.open(&mut hal).expect("open");
    (hal, nic)
}

#[test]
fn mac_comes_from_ral_rah() {
    let (mut hal, nic) = setup(Dev {
        ral_mac: Some(MAC),
        ..Dev::default()
    });
    assert_eq!(nic.mac(), MAC);
    assert!(pci::command(&mut hal, PCI).contains(Command::MEMORY_SPACE));
}

#[test]
fn mac_falls_back_to_eeprom_when_ral_is_empty() {
    let (hal, nic) = setup(Dev {
        eeprom: [0x5452, 0x1200, 0x5634],
        ..Dev::default()
    });
    assert_eq!(nic.mac(), MAC);
    assert_eq!(
        hal.writes_to(Space::Mmio, MMIO + EERD),
        [0x0001, 0x0101, 0x0201]
    );
}

#[test]
fn open_resets_masks_interrupts_and_programs_rings() {
    let (mut hal, nic) = opened();
    let imc_all = hal
        .first_write(Space::Mmio, MMIO + IMC, |v| v == 0xFFFF_FFFF)
        .unwrap();
    let rst = hal
        .first_write(Space::Mmio, MMIO + CTRL, |v| {
            v & u64::from(Ctrl::RST.bits()) != 0
        })
        .unwrap();
    let rctl = hal.last_write(Space::Mmio, MMIO + RCTL).unwrap();
    assert!(imc_all < rst && rst < rctl);
    assert_eq!(
        hal.writes_to(Space::Mmio, MMIO + IMC).last(),
        Some(&0xFFFF_FFFF)
    );
    assert!(hal.writes_to(Space::Mmio, MMIO + IMS).is_empty());
    let ctrl = hal
        .writes_to(Space::Mmio, MMIO + CTRL)
        .last()
        .copied()
        .unwrap() as u32;
    assert!(Ctrl::from_bits_retain(ctrl).contains(Ctrl::SLU));
    // Ring addresses are full 64-bit (the fake's DMA memory is above 4 GiB).
    let rdba = u64::from(reg(&hal.bus, RDBAH)) << 32 | u64::from(reg(&hal.bus, RDBAL));
    assert!(rdba >= DMA_BASE_HIGH && rdba % 16 == 0);
    assert_eq!(reg(&hal.bus, RDLEN), 128);
    assert_eq!(reg(&hal.bus, RDT), RX_COUNT as u32 - 1);
    assert_eq!(reg(&hal.bus, TDLEN), 128);
    let rctl = Rctl::from_bits_retain(reg(&hal.bus, RCTL));
    assert!(rctl.contains(Rctl::EN | Rctl::BAM | Rctl::SECRC) && !rctl.contains(Rctl::UPE));
    assert!(Tctl::from_bits_retain(reg(&hal.bus, TCTL)).contains(Tctl::EN | Tctl::PSP));
    // RAH0 re-written with Address Valid, RX descriptors point at distinct buffers.
    assert_eq!(reg(&hal.bus, RAH0), 0x5634 | Rah::AV.bits());
    let d0 = hal.bus.dma_le(rdba, 8);
    let d1 = hal.bus.dma_le(rdba + 16, 8);
    assert_eq!(d1 - d0, 2048);
    assert!(pci::command(&mut hal, PCI).contains(Command::BUS_MASTER | Command::MEMORY_SPACE));
    assert!(nic.mac() == MAC);
}

#[test]
fn transmit_fills_descriptor_then_moves_tail() {
    let (mut hal, mut nic) = opened();
    let f = frame(42, 1);
    nic.transmit(&mut hal, &f).unwrap();
    let tdba = u64::from(reg(&hal.bus, TDBAH)) << 32 | u64::from(reg(&hal.bus, TDBAL));
    let addr = hal.bus.dma_le(tdba, 8);
    assert_eq!(hal.bus.dma_le(tdba + 8, 2), 42);
    assert_eq!(
        hal.bus.dma_le(tdba + 11, 1),
        u64::from((TxCmd::EOP | TxCmd::IFCS | TxCmd::RS).bits())
    );
    assert_eq!(hal.dma_bytes(addr, 42), f);
    assert_eq!(hal.writes_to(Space::Mmio, MMIO + TDT).last(), Some(&1));
    // The fence comes between the descriptor write and the doorbell.
    let tdt = hal.last_write(Space::Mmio, MMIO + TDT).unwrap();
    assert_eq!(hal.log[tdt - 1], Event::Fence);
    assert_eq!(hal.device.sent, [f]);
}

#[test]
fn transmit_wraps_the_ring_and_reuses_completed_slots() {
    let (mut hal, mut nic) = opened();
    for i in 0..20u8 {
        nic.transmit(&mut hal, &frame(60 + usize::from(i), i))
            .unwrap();
    }
    let tails: Vec<u64> = hal
        .writes_to(Space::Mmio, MMIO + TDT)
        .into_iter()
        .skip(1)
        .collect();
    let want: Vec<u64> = (1..=20).map(|i| i % TX_COUNT as u64).collect();
    assert_eq!(tails, want);
    assert_eq!(hal.device.sent.len(), 20);
    assert_eq!(hal.device.sent[19], frame(79, 19));
}

#[test]
fn transmit_times_out_when_the_card_never_completes() {
    let (mut hal, mut nic) = opened();
    hal.device.tx_stalled = true;
    for i in 0..TX_COUNT as u8 {
        nic.transmit(&mut hal, &frame(60, i)).unwrap();
    }
    assert_eq!(
        nic.transmit(&mut hal, &frame(60, 9)),
        Err(NicError::TxTimeout)
    );
    assert_eq!(
        nic.transmit(&mut hal, &[0; 1519]),
        Err(NicError::BadFrameLength)
    );
}

#[test]
fn receive_returns_frames_in_order_across_the_ring_wrap() {
    let (mut hal, mut nic) = opened();
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    let mut seed = 0u8;
    let mut tails = Vec::new();
    // Fill the ring to capacity (N - 1) twice over, then a frame at a time, 3 rounds past wrap.
    for batch in [7usize, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 7] {
        let first = seed;
        for _ in 0..batch {
            assert!(inject(&mut hal, &frame(64 + usize::from(seed), seed), 0));
            seed = seed.wrapping_add(1);
        }
        for s in first..seed {
            let len = nic.receive(&mut hal, &mut buf).expect("frame");
            assert_eq!(&buf[..len], &frame(64 + usize::from(s), s)[..]);
            tails.push(s as u64 % RX_COUNT as u64);
        }
        assert_eq!(nic.receive(&mut hal, &mut buf), None);
    }
    let written: Vec<u64> = hal
        .writes_to(Space::Mmio, MMIO + RDT)
        .into_iter()
        .skip(1)
        .collect();
    assert_eq!(written, tails);
    // The ring is full at N - 1: the card cannot overwrite an unread frame.
    for s in 0..7 {
        assert!(inject(&mut hal, &frame(64, s), 0));
    }
    assert!(!inject(&mut hal, &frame(64, 7), 0));
}

#[test]
fn receive_drops_errored_and_oversized_frames() {
    let (mut hal, mut nic) = opened();
    inject(&mut hal, &frame(100, 1), 0x01);
    inject(&mut hal, &frame(300, 2), 0);
    inject(&mut hal, &frame(100, 3), 0);
    let mut small = [0u8; 200];
    assert_eq!(nic.receive(&mut hal, &mut small), Some(100));
    assert_eq!(&small[..100], &frame(100, 3)[..]);
    assert_eq!(nic.rx_dropped(), 2);
}

#[test]
fn close_stops_dma_and_bus_mastering_and_reopen_reuses_memory() {
    let (mut hal, mut nic) = opened();
    let rdbal = reg(&hal.bus, RDBAL);
    nic.close(&mut hal);
    let close_at = hal.log.len();
    assert_eq!(reg(&hal.bus, RCTL) & Rctl::EN.bits(), 0);
    assert_eq!(reg(&hal.bus, TCTL) & Tctl::EN.bits(), 0);
    assert!(!pci::command(&mut hal, PCI).contains(Command::BUS_MASTER));
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(
        nic.transmit(&mut hal, &frame(60, 0)),
        Err(NicError::NotOpen)
    );
    assert_eq!(hal.log.len(), close_at, "a closed card is not touched");
    nic.open(&mut hal).unwrap();
    assert_eq!(reg(&hal.bus, RDBAL), rdbal);
    assert!(nic.link_up(&mut hal));
}

// --- receive filter and station address -------------------------------------------------------

use super::flt;
use crate::filter::RxFilter;

const GROUP_A: [u8; 6] = [0x01, 0x00, 0x5E, 0x01, 0x02, 0x03];
const GROUP_B: [u8; 6] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01];
const NEW_MAC: [u8; 6] = [0x02, 0x50, 0x58, 0x45, 0x00, 0x01];

fn rctl(hal: &FakeHal<Dev>) -> Rctl {
    Rctl::from_bits_retain(reg(&hal.bus, RCTL))
}

fn mta(hal: &FakeHal<Dev>) -> Vec<u32> {
    (0..MTA_LEN).map(|i| reg(&hal.bus, MTA + 4 * i)).collect()
}

fn to(dst: [u8; 6], seed: u8) -> Vec<u8> {
    let mut f = frame(64, seed);
    f[..6].copy_from_slice(&dst);
    f
}

#[test]
fn mta_hash_uses_address_bits_47_to_36() {
    assert_eq!(mta_hash(&GROUP_A), 0x030);
    assert_eq!(mta_hash(&GROUP_B), 0x010);
    assert_eq!(mta_hash(&[0x01, 0, 0x5E, 0x7F, 0xFF, 0xFA]), 0xFAF);
}

#[test]
fn rctl_bits_for_each_filter_combination() {
    let (mut hal, mut nic) = opened();
    let cases = [
        (RxFilter::new(), Rctl::BAM),
        (RxFilter::none(), Rctl::empty()),
        (flt(true, true, true, false), Rctl::BAM | Rctl::MPE),
        (
            flt(false, false, false, true),
            Rctl::BAM | Rctl::MPE | Rctl::UPE,
        ),
        (flt(true, false, false, false), Rctl::empty()),
    ];
    for (filter, want) in cases {
        nic.set_filter(&mut hal, &filter).unwrap();
        let got = rctl(&hal);
        let filter_bits = Rctl::BAM | Rctl::MPE | Rctl::UPE;
        assert_eq!(got & filter_bits, want, "{filter:?}");
        assert!(got.contains(Rctl::EN | Rctl::SECRC), "receiver stays on");
        // Directed frames: RAH0 Address Valid follows the filter.
        let av = reg(&hal.bus, RAH0) & Rah::AV.bits() != 0;
        assert_eq!(av, filter.directed);
    }
}

#[test]
fn multicast_list_sets_mta_bits_and_collisions_are_dropped_in_software() {
    let (mut hal, mut nic) = opened();
    assert!(mta(&hal).iter().all(|&w| w == 0));
    let mut f = RxFilter::new();
    f.set_multicast(&[GROUP_A, GROUP_B]);
    nic.set_filter(&mut hal, &f).unwrap();
    let table = mta(&hal);
    assert_eq!(table[1], 1 << 16, "01:00:5e:01:02:03 -> hash 0x030");
    assert_eq!(table[0], 1 << 16, "01:00:5e:00:00:01 -> hash 0x010");
    assert_eq!(table.iter().map(|w| w.count_ones()).sum::<u32>(), 2);
    assert!(!rctl(&hal).contains(Rctl::MPE));
    // 01:00:5e:7f:02:03 has the same hash as GROUP_A: the card takes it, the driver does not.
    let collision = [0x01, 0x00, 0x5E, 0x7F, 0x02, 0x03];
    assert_eq!(mta_hash(&collision), mta_hash(&GROUP_A));
    inject(&mut hal, &to(collision, 1), 0);
    inject(&mut hal, &to(GROUP_A, 2), 0);
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], GROUP_A);
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(nic.rx_dropped(), 0, "filtered frames are not errors");
}

#[test]
fn station_address_goes_to_ral0_rah0_and_old_address_is_dropped() {
    let (mut hal, mut nic) = opened();
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    assert_eq!(nic.station(), NEW_MAC);
    assert_eq!(nic.mac(), MAC, "mac() stays the permanent address");
    assert_eq!(reg(&hal.bus, RAL0), 0x4558_5002);
    assert_eq!(reg(&hal.bus, RAH0), 0x0100 | Rah::AV.bits());
    // The other receive addresses are cleared (no stale Address Valid).
    for i in 1..RA_ENTRIES {
        assert_eq!(reg(&hal.bus, RAH0 + 8 * i), 0);
    }
    inject(&mut hal, &to(MAC, 1), 0);
    inject(&mut hal, &to(NEW_MAC, 2), 0);
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], NEW_MAC);
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(
        nic.set_station(&mut hal, GROUP_A),
        Err(NicError::BadAddress)
    );
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
    // The reset put the permanent address back in RAL0/RAH0 (as QEMU's and the real card do).
    assert_eq!(reg(&hal.bus, RAH0), 0x5634 | Rah::AV.bits());
    nic.open(&mut hal).unwrap();
    assert_eq!(reg(&hal.bus, RAL0), 0x4558_5002);
    assert!(rctl(&hal).contains(Rctl::UPE | Rctl::MPE | Rctl::BAM));
    assert_eq!(mta(&hal)[1], 1 << 16);
    assert_eq!(nic.filter(), f);
}

#[test]
fn link_speed_and_ring_lengths() {
    let (mut hal, mut nic) = opened();
    set(
        &mut hal.bus,
        STATUS,
        (Status::LU | Status::FD | Status::SPEED_HI).bits(),
    );
    assert_eq!(nic.link_speed_bps(&mut hal), Some(1_000_000_000));
    set(&mut hal.bus, STATUS, (Status::LU | Status::SPEED_LO).bits());
    assert_eq!(nic.link_speed_bps(&mut hal), Some(100_000_000));
    set(&mut hal.bus, STATUS, 0);
    assert_eq!(nic.link_speed_bps(&mut hal), None, "no link, no speed");
    assert_eq!((nic.rx_ring_len(), nic.tx_ring_len()), (7, 8));
}

// --- 82574L (QEMU e1000e) -------------------------------------------------------------------

use crate::e1000::Model;

#[test]
fn i82574_mac_from_eerd_uses_its_address_shift_and_done_bit() {
    let (hal, nic) = setup(Dev {
        eeprom: [0x5452, 0x1200, 0x5634],
        i82574: true,
        ..Dev::default()
    });
    assert_eq!(nic.model(), Model::I82574);
    assert_eq!(nic.mac(), MAC);
    // START in bit 0, word address in bits 15:2 (8254x: 15:8).
    assert_eq!(
        hal.writes_to(Space::Mmio, MMIO + EERD),
        [0x0001, 0x0005, 0x0009]
    );
}

#[test]
fn i82574_eerd_that_never_sets_done_times_out() {
    // An 8254x-style DONE (bit 4) is not the 82574's DONE (bit 1): the driver keeps waiting.
    let mut hal = FakeHal::new(Dev::default(), DMA_BASE_HIGH);
    hal.add_pci(
        PCI,
        FakePciFunction::new(0x8086, 0x10D3, [2, 0, 0]).with_mem32_bar(0, MMIO as u32, 0x2_0000),
    );
    hal.script_reads(
        Space::Mmio,
        MMIO + EERD,
        4,
        &[u64::from(Eerd::DONE.bits()); 20_000],
    );
    assert_eq!(
        E1000::new(&mut hal, PCI).err(),
        Some(NicError::EepromTimeout)
    );
}

#[test]
fn i8254x_and_i82574_are_told_apart_by_device_id() {
    assert_eq!(Model::of(0x100E), Model::I8254x);
    assert_eq!(Model::of(0x100F), Model::I8254x);
    assert_eq!(Model::of(0x10D3), Model::I82574);
    assert_eq!(Model::of(0x10F6), Model::I82574);
    let (_, nic) = opened();
    assert_eq!(nic.model(), Model::I8254x);
}

#[test]
fn i82574_open_sets_drv_load_after_reset_and_close_clears_it() {
    let (mut hal, mut nic) = setup(Dev {
        ral_mac: Some(MAC),
        i82574: true,
        ..Dev::default()
    });
    nic.open(&mut hal).unwrap();
    let rst = hal
        .first_write(Space::Mmio, MMIO + CTRL, |v| {
            v & u64::from(Ctrl::RST.bits()) != 0
        })
        .unwrap();
    let slu = hal
        .first_write(Space::Mmio, MMIO + CTRL, |v| {
            v & u64::from(Ctrl::SLU.bits()) != 0
        })
        .unwrap();
    let drv = hal
        .first_write(Space::Mmio, MMIO + CTRL_EXT, |v| {
            v & u64::from(CTRL_EXT_DRV_LOAD) != 0
        })
        .unwrap();
    let rctl = hal.last_write(Space::Mmio, MMIO + RCTL).unwrap();
    assert!(
        rst < slu && slu < drv && drv < rctl,
        "reset, link, DRV_LOAD, receiver"
    );
    // Legacy descriptors: RCTL.DTYP (bits 11:10) stays 00b.
    assert_eq!(reg(&hal.bus, RCTL) >> 10 & 3, 0);
    inject(&mut hal, &frame(64, 1), 0);
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    nic.transmit(&mut hal, &frame(60, 2)).unwrap();
    assert_eq!(hal.device.sent, [frame(60, 2)]);
    nic.close(&mut hal);
    assert_eq!(reg(&hal.bus, CTRL_EXT) & CTRL_EXT_DRV_LOAD, 0);
    assert!(!pci::command(&mut hal, PCI).contains(Command::BUS_MASTER));
    // The 8254x never touches CTRL_EXT.
    let (hal, _) = opened();
    assert!(hal.writes_to(Space::Mmio, MMIO + CTRL_EXT).is_empty());
}
