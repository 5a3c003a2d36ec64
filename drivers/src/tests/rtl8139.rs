//! rtl8139 against a fake chip that behaves like QEMU's model: CR.RST self-clears and sets
//! BUFE, the chip transmits only its own current slot (round robin), receive appends
//! header + frame + CRC at its write pointer with WRAP semantics, CAPR + 16 is the read pointer.

use std::vec::Vec;

use super::frame;
use crate::fake::{Bus, FakeDevice, FakeHal, FakePciFunction, Space, DMA_BASE_HIGH, DMA_BASE_LOW};
use crate::nic::{Nic, NicError};
use crate::pci::{self, Command, PciAddress};
use crate::rtl8139::*;

const PCI: PciAddress = PciAddress::new(0, 4, 0);
const IO: u16 = 0xC000;
const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF];

#[derive(Default)]
struct Dev {
    write_ptr: usize,
    read_ptr: usize,
    cur_tx: usize,
    sent: Vec<Vec<u8>>,
    tx_stalled: bool,
}

fn r(bus: &Bus, reg: u16, width: u8) -> u64 {
    bus.reg(Space::Io, u64::from(IO + reg), width)
}

fn set(bus: &mut Bus, reg: u16, width: u8, v: u64) {
    bus.set_reg(Space::Io, u64::from(IO + reg), width, v);
}

impl Dev {
    fn update_bufe(&self, bus: &mut Bus) {
        let cr = r(bus, CR, 1) & !u64::from(Cr::BUFE.bits());
        let empty = if self.read_ptr == self.write_ptr {
            Cr::BUFE.bits()
        } else {
            0
        };
        set(bus, CR, 1, cr | u64::from(empty));
    }
}

impl FakeDevice for Dev {
    fn on_write(&mut self, bus: &mut Bus, _: Space, addr: u64, _: u8, value: u64) {
        let reg = (addr - u64::from(IO)) as u16;
        match reg {
            CR if value & u64::from(Cr::RST.bits()) != 0 => {
                *self = Dev {
                    sent: std::mem::take(&mut self.sent),
                    tx_stalled: self.tx_stalled,
                    ..Dev::default()
                };
                for slot in 0..4 {
                    set(bus, TSD0 + 4 * slot, 4, u64::from(Tsd::OWN.bits()));
                }
                set(bus, CR, 1, 0);
                self.update_bufe(bus);
            }
            CR => self.update_bufe(bus),
            CAPR => {
                self.read_ptr = (value as usize + 16) % RX_RING_LEN;
                self.update_bufe(bus);
            }
            _ if (TSD0..TSD0 + 16).contains(&reg) => {
                let slot = usize::from(reg - TSD0) / 4;
                // QEMU transmits only its current descriptor, and only while TE is set.
                let te = r(bus, CR, 1) & u64::from(Cr::TE.bits()) != 0;
                if self.tx_stalled || slot != self.cur_tx || !te {
                    return;
                }
                let addr = r(bus, TSAD0 + 4 * slot as u16, 4);
                let mut data = std::vec![0; (value & 0x1FFF) as usize];
                bus.dma_read(addr, &mut data);
                self.sent.push(data);
                set(bus, reg, 4, value | u64::from((Tsd::OWN | Tsd::TOK).bits()));
                self.cur_tx = (self.cur_tx + 1) % 4;
            }
            _ => {}
        }
    }
}

/// Appends a received frame at the chip's write pointer, as the chip does with RCR.WRAP set.
fn inject(hal: &mut FakeHal<Dev>, data: &[u8]) {
    let base = r(&hal.bus, RBSTART, 4);
    let len = data.len() + 4;
    let at = base + hal.device.write_ptr as u64;
    let header = u32::from((RxHeader::ROK | RxHeader::PAM).bits()) | (len as u32) << 16;
    hal.bus.dma_write(at, &header.to_le_bytes());
    hal.bus.dma_write(at + 4, data);
    hal.bus
        .dma_write(at + 4 + data.len() as u64, &[0xDE, 0xAD, 0xBE, 0xEF]);
    hal.device.write_ptr = ((hal.device.write_ptr + 4 + len + 3) & !3) % RX_RING_LEN;
    let dev = &hal.device;
    dev.update_bufe(&mut hal.bus);
}

fn setup(dma_base: u64) -> (FakeHal<Dev>, Rtl8139) {
    let mut hal = FakeHal::new(Dev::default(), dma_base);
    hal.add_pci(
        PCI,
        FakePciFunction::new(0x10EC, 0x8139, [2, 0, 0]).with_io_bar(0, IO.into(), 0x100),
    );
    for (i, b) in MAC.iter().enumerate() {
        set(&mut hal.bus, IDR0 + i as u16, 1, u64::from(*b));
    }
    let nic = Rtl8139::new(&mut hal, PCI).expect("probe");
    (hal, nic)
}

fn opened() -> (FakeHal<Dev>, Rtl8139) {
    let (mut hal, mut nic) = setup(DMA_BASE_LOW);
    nic.open(&mut hal).expect("open");
    (hal, nic)
}

#[test]
fn mac_comes_from_idr() {
    let (mut hal, nic) = setup(DMA_BASE_LOW);
    assert_eq!(nic.mac(), MAC);
    assert!(pci::command(&mut hal, PCI).contains(Command::IO_SPACE));
}

#[test]
fn open_resets_then_configures_ring_and_masks_interrupts() {
    let (mut hal, _nic) = opened();
    let io = |reg: u16| u64::from(IO + reg);
    let rst = hal
        .first_write(Space::Io, io(CR), |v| v == u64::from(Cr::RST.bits()))
        .unwrap();
    let rbstart = hal.first_write(Space::Io, io(RBSTART), |_| true).unwrap();
    let enable = hal
        .first_write(Space::Io, io(CR), |v| {
            v == u64::from((Cr::TE | Cr::RE).bits())
        })
        .unwrap();
    let rcr = hal.first_write(Space::Io, io(RCR), |_| true).unwrap();
    assert!(rst < rbstart && rbstart < enable && enable < rcr);
    assert!(hal.writes_to(Space::Io, io(IMR)).iter().all(|&v| v == 0));
    assert_eq!(r(&hal.bus, RBSTART, 4), DMA_BASE_LOW);
    let rcr = Rcr::from_bits_retain(r(&hal.bus, RCR, 4) as u32);
    assert!(rcr.contains(Rcr::APM | Rcr::AB | Rcr::WRAP) && !rcr.contains(Rcr::AAP));
    assert_eq!(
        r(&hal.bus, RCR, 4) as u32 >> 11 & 0b11,
        0,
        "RBLEN = 8K + 16"
    );
    assert!(pci::command(&mut hal, PCI).contains(Command::IO_SPACE | Command::BUS_MASTER));
}

#[test]
fn open_refuses_dma_memory_above_4g() {
    let (mut hal, mut nic) = setup(DMA_BASE_HIGH);
    assert_eq!(nic.open(&mut hal), Err(NicError::DmaUnreachable));
    assert!(!pci::command(&mut hal, PCI).contains(Command::BUS_MASTER));
}

#[test]
fn transmit_uses_the_four_slots_round_robin_and_pads() {
    let (mut hal, mut nic) = opened();
    for i in 0..9u8 {
        nic.transmit(&mut hal, &frame(20 + usize::from(i) * 100, i))
            .unwrap();
    }
    assert_eq!(hal.device.sent.len(), 9);
    let mut first = frame(20, 0);
    first.resize(60, 0);
    assert_eq!(hal.device.sent[0], first, "short frame padded to 60 bytes");
    assert_eq!(hal.device.sent[8], frame(820, 8));
    for slot in 0..4u16 {
        let sizes = hal.writes_to(Space::Io, u64::from(IO + TSD0 + 4 * slot));
        let want: Vec<u64> = (0..9u64)
            .filter(|i| i % 4 == u64::from(slot))
            .map(|i| (20 + i * 100).max(60))
            .collect();
        assert_eq!(sizes, want);
        let addrs = hal.writes_to(Space::Io, u64::from(IO + TSAD0 + 4 * slot));
        assert!(addrs.iter().all(|&a| a == addrs[0] && a >= DMA_BASE_LOW));
    }
}

#[test]
fn transmit_times_out_when_no_slot_is_released() {
    let (mut hal, mut nic) = opened();
    hal.device.tx_stalled = true;
    for i in 0..4 {
        nic.transmit(&mut hal, &frame(60, i)).unwrap();
    }
    assert_eq!(
        nic.transmit(&mut hal, &frame(60, 4)),
        Err(NicError::TxTimeout)
    );
}

#[test]
fn receive_follows_the_ring_across_its_end() {
    let (mut hal, mut nic) = opened();
    let mut buf = [0u8; 1600];
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    let mut expect_capr = Vec::new();
    let mut offset = 0usize;
    let mut seed = 0u8;
    let mut wrapped = false;
    // 1004-byte frames make 1012-byte records, so records straddle the 8 KiB end.
    for batch in [1usize, 2, 1, 3, 1, 1, 2, 3, 1, 2, 3, 1, 1, 2] {
        let mut frames = Vec::new();
        for _ in 0..batch {
            let len = match seed % 3 {
                0 => 1004,
                _ => 61 + usize::from(seed),
            };
            frames.push(frame(len, seed));
            seed += 1;
        }
        for f in &frames {
            inject(&mut hal, f);
        }
        for f in &frames {
            assert_eq!(nic.receive(&mut hal, &mut buf), Some(f.len()));
            assert_eq!(&buf[..f.len()], &f[..]);
            let next = (offset + 4 + f.len() + 4 + 3) & !3;
            wrapped |= next > RX_RING_LEN;
            offset = next % RX_RING_LEN;
            expect_capr.push(u64::from((offset as u16).wrapping_sub(16)));
        }
        assert_eq!(nic.receive(&mut hal, &mut buf), None);
    }
    assert!(wrapped, "a record ran past the ring end");
    let caprs = hal.writes_to(Space::Io, u64::from(IO + CAPR));
    assert_eq!(caprs, expect_capr);
    assert_eq!(caprs[0], 1012 - 16);
}

#[test]
fn receive_resets_the_chip_on_a_corrupt_header() {
    let (mut hal, mut nic) = opened();
    inject(&mut hal, &frame(100, 1));
    // Clobber the status word: no ROK.
    let base = r(&hal.bus, RBSTART, 4);
    hal.bus.dma_write(base, &[0, 0]);
    let mut buf = [0u8; 1600];
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(nic.rx_dropped(), 1);
    let resets = hal
        .writes_to(Space::Io, u64::from(IO + CR))
        .iter()
        .filter(|&&v| v == 0x10)
        .count();
    assert_eq!(resets, 2);
    inject(&mut hal, &frame(100, 2));
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(100));
    assert_eq!(&buf[..100], &frame(100, 2)[..]);
}

#[test]
fn close_stops_dma_and_clears_bus_mastering() {
    let (mut hal, mut nic) = opened();
    nic.close(&mut hal);
    let crs = hal.writes_to(Space::Io, u64::from(IO + CR));
    assert_eq!(crs[crs.len() - 2..], [0, u64::from(Cr::RST.bits())]);
    assert!(!pci::command(&mut hal, PCI).contains(Command::BUS_MASTER));
    assert_eq!(
        nic.transmit(&mut hal, &frame(60, 0)),
        Err(NicError::NotOpen)
    );
}

// --- receive filter and station address -------------------------------------------------------

use super::flt;
use crate::filter::RxFilter;

const GROUP_A: [u8; 6] = [0x01, 0x00, 0x5E, 0x01, 0x02, 0x03];
const ALL_HOSTS: [u8; 6] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01];
const NEW_MAC: [u8; 6] = [0x02, 0x50, 0x58, 0x45, 0x00, 0x01];

fn rcr(hal: &FakeHal<Dev>) -> Rcr {
    Rcr::from_bits_retain(r(&hal.bus, RCR, 4) as u32)
}

fn mar(hal: &FakeHal<Dev>) -> u64 {
    r(&hal.bus, MAR0, 4) | r(&hal.bus, MAR0 + 4, 4) << 32
}

fn idr(hal: &FakeHal<Dev>) -> [u8; 6] {
    let v = r(&hal.bus, IDR0, 4) | r(&hal.bus, IDR0 + 4, 2) << 32;
    let b = v.to_le_bytes();
    [b[0], b[1], b[2], b[3], b[4], b[5]]
}

fn to(dst: [u8; 6], seed: u8) -> Vec<u8> {
    let mut f = frame(64, seed);
    f[..6].copy_from_slice(&dst);
    f
}

#[test]
fn mar_hash_is_the_top_six_bits_of_the_ethernet_crc() {
    // Checked against zlib's CRC-32 (bit-reversed, not inverted).
    assert_eq!(mar_hash(&ALL_HOSTS), 31);
    assert_eq!(mar_hash(&GROUP_A), 57);
    assert_eq!(mar_hash(&[0x01, 0x00, 0x5E, 0x01, 0x02, 0x04]), 8);
    assert_eq!(mar_hash(&[0x33, 0x33, 0, 0, 0, 1]), 62);
}

#[test]
fn rcr_and_mar_for_each_filter_combination() {
    let (mut hal, mut nic) = opened();
    assert_eq!(
        rcr(&hal) & (Rcr::AAP | Rcr::APM | Rcr::AM | Rcr::AB),
        Rcr::APM | Rcr::AB
    );
    assert_eq!(mar(&hal), 0);
    let mut list = RxFilter::new();
    list.set_multicast(&[GROUP_A, ALL_HOSTS]);
    let cases = [
        (flt(true, false, false, false), Rcr::APM, 0),
        (flt(false, true, false, false), Rcr::AB, 0),
        (
            flt(true, true, true, false),
            Rcr::APM | Rcr::AB | Rcr::AM,
            u64::MAX,
        ),
        (
            flt(false, false, false, true),
            Rcr::AAP | Rcr::APM | Rcr::AB | Rcr::AM,
            u64::MAX,
        ),
        (list, Rcr::APM | Rcr::AB | Rcr::AM, 1 << 57 | 1 << 31),
    ];
    for (f, bits, want_mar) in cases {
        nic.set_filter(&mut hal, &f).unwrap();
        let got = rcr(&hal);
        assert_eq!(
            got & (Rcr::AAP | Rcr::APM | Rcr::AM | Rcr::AB),
            bits,
            "{f:?}"
        );
        assert!(got.contains(Rcr::WRAP), "ring settings kept");
        assert_eq!(mar(&hal), want_mar, "{f:?}");
    }
}

#[test]
fn hash_collisions_are_dropped_in_software() {
    let (mut hal, mut nic) = opened();
    let mut f = RxFilter::new();
    f.set_multicast(&[GROUP_A]);
    nic.set_filter(&mut hal, &f).unwrap();
    // Find another group address in GROUP_A's MAR bucket.
    let twin = (0..=255u8)
        .map(|b| [0x01, 0x00, 0x5E, 0x22, 0x33, b])
        .find(|m| mar_hash(m) == mar_hash(&GROUP_A))
        .expect("a colliding address");
    inject(&mut hal, &to(twin, 1));
    inject(&mut hal, &to(GROUP_A, 2));
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], GROUP_A);
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(nic.rx_dropped(), 0);
}

#[test]
fn station_address_is_written_to_idr_behind_the_9346cr_unlock() {
    let (mut hal, mut nic) = opened();
    let before = hal.log.len();
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    assert_eq!(idr(&hal), NEW_MAC);
    assert_eq!((nic.station(), nic.mac()), (NEW_MAC, MAC));
    let io = |reg: u16| u64::from(IO + reg);
    let unlock = hal
        .first_write(Space::Io, io(CR9346), |v| {
            v == u64::from(CR9346_CONFIG_WRITE)
        })
        .unwrap();
    let idr_writes: Vec<usize> = (before..hal.log.len())
        .filter(|&i| {
            matches!(hal.log[i], crate::fake::Event::Write { addr, width: 4, .. }
                if addr == io(IDR0) || addr == io(IDR0 + 4))
        })
        .collect();
    let lock = hal.last_write(Space::Io, io(CR9346)).unwrap();
    assert!(!idr_writes.is_empty());
    assert!(idr_writes.iter().all(|&i| unlock < i && i < lock));
    assert_eq!(hal.writes_to(Space::Io, io(CR9346)).last(), Some(&0));
    // Frames to the old address are not returned any more.
    inject(&mut hal, &to(MAC, 1));
    inject(&mut hal, &to(NEW_MAC, 2));
    let mut buf = [0u8; 2048];
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(64));
    assert_eq!(buf[..6], NEW_MAC);
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
}

#[test]
fn filter_and_station_survive_reopen_and_close_restores_the_permanent_address() {
    let (mut hal, mut nic) = opened();
    let mut f = RxFilter::new();
    f.set_multicast(&[GROUP_A]);
    nic.set_filter(&mut hal, &f).unwrap();
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    nic.close(&mut hal);
    assert_eq!(
        idr(&hal),
        MAC,
        "the next driver finds the permanent address"
    );
    nic.open(&mut hal).unwrap();
    assert_eq!(idr(&hal), NEW_MAC);
    assert_eq!(mar(&hal), 1 << 57);
    assert!(rcr(&hal).contains(Rcr::AM | Rcr::APM | Rcr::AB));
}

#[test]
fn link_speed_comes_from_msr() {
    let (mut hal, mut nic) = opened();
    // QEMU's model reads 0xD0 with the link up: 100 Mb/s.
    set(&mut hal.bus, MSR, 1, 0xD0);
    assert_eq!(nic.link_speed_bps(&mut hal), Some(100_000_000));
    set(&mut hal.bus, MSR, 1, u64::from(MSR_SPEED_10));
    assert_eq!(nic.link_speed_bps(&mut hal), Some(10_000_000));
    set(&mut hal.bus, MSR, 1, u64::from(MSR_LINKB));
    assert_eq!(nic.link_speed_bps(&mut hal), None);
    assert_eq!((nic.rx_ring_len(), nic.tx_ring_len()), (5, 4));
}
