//! i8255x against a fake chip that behaves like QEMU's `eepro100` model (see `i8255x/dev.rs`).

mod dev;

use std::vec::Vec;

use dev::{qemu_hash, Dev, IO};

use super::{flt, frame};
use crate::fake::{FakeHal, FakePciFunction, Space, DMA_BASE_HIGH, DMA_BASE_LOW};
use crate::filter::RxFilter;
use crate::hal::Hal;
use crate::i8255x::*;
use crate::nic::{Nic, NicError};
use crate::pci::{self, Command, PciAddress};

const PCI: PciAddress = PciAddress::new(0, 5, 0);
const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

fn setup_with(device: u16, revision: u8, addr_bits: u32, dma: u64) -> (FakeHal<Dev>, I8255x) {
    let mut hal = FakeHal::new(Dev::new(MAC, addr_bits), dma);
    let mut f = FakePciFunction::new(0x8086, device, [2, 0, 0])
        .with_mem32_bar(0, 0xFEB0_0000, 0x1000)
        .with_io_bar(1, IO.into(), 0x40);
    f.config[8] = revision;
    hal.add_pci(PCI, f);
    let nic = I8255x::new(&mut hal, PCI).expect("probe");
    (hal, nic)
}

fn opened() -> (FakeHal<Dev>, I8255x) {
    let (mut hal, mut nic) = setup_with(0x1229, 8, 6, DMA_BASE_LOW);
    nic.open(&mut hal).expect("open");
    (hal, nic)
}

fn rfa(hal: &FakeHal<Dev>) -> u64 {
    let (cmd, ptr) = *hal
        .device
        .scb
        .iter()
        .rfind(|(c, _)| c & 0x0F == RUC_START)
        .expect("RU started");
    assert_eq!(cmd, RUC_START);
    ptr as u64 - (RFA_OFFSET + hal.device.ru_base as usize) as u64
}

fn rfd_el(hal: &FakeHal<Dev>, base: u64) -> Vec<usize> {
    (0..RX_SLOTS)
        .filter(|i| hal.bus.dma_le(base + (i * SLOT_STRIDE) as u64 + 2, 2) as u16 & CMD_EL != 0)
        .collect()
}

fn deliver(hal: &mut FakeHal<Dev>, data: &[u8]) -> bool {
    let FakeHal { bus, device, .. } = hal;
    device.receive(bus, data, true, true)
}

/// Polls like the firmware does: an RFD may wait out the FR grace period (1 ms) per frame.
fn recv(nic: &mut I8255x, hal: &mut FakeHal<Dev>, buf: &mut [u8]) -> Option<usize> {
    for _ in 0..100 {
        if let Some(n) = nic.receive(hal, buf) {
            return Some(n);
        }
        hal.delay_us(100);
    }
    None
}

fn to(dst: [u8; 6], seed: u8) -> Vec<u8> {
    let mut f = frame(64, seed);
    f[..6].copy_from_slice(&dst);
    f
}

#[test]
fn mac_from_the_eeprom_with_either_address_width() {
    for bits in [6, 8] {
        let (mut hal, nic) = setup_with(0x1209, 9, bits, DMA_BASE_LOW);
        assert_eq!(nic.mac(), MAC, "{bits}-bit EEPROM");
        assert_eq!(nic.station(), MAC);
        assert!(pci::command(&mut hal, PCI).contains(Command::IO_SPACE));
        // Each word read clocks start bit + opcode + address + 16 data bits, 3 writes per bit.
        let clocks = hal
            .writes_to(Space::Io, u64::from(IO + EEPROM_CTRL))
            .iter()
            .filter(|&&v| v & u64::from(Eeprom::SK.bits()) != 0)
            .count();
        assert_eq!(clocks, 4 * (3 + bits as usize + 16), "{bits}-bit EEPROM");
    }
}

#[test]
fn a_missing_eeprom_is_an_error() {
    let mut hal = FakeHal::new(Dev::new(MAC, 6), DMA_BASE_LOW);
    hal.device.no_eeprom = true;
    hal.add_pci(
        PCI,
        FakePciFunction::new(0x8086, 0x1229, [2, 0, 0]).with_io_bar(1, IO.into(), 0x40),
    );
    assert_eq!(
        I8255x::new(&mut hal, PCI).err(),
        Some(NicError::EepromTimeout)
    );
    let mut hal = FakeHal::new(Dev::new(MAC, 6), DMA_BASE_LOW);
    hal.add_pci(PCI, FakePciFunction::new(0x8086, 0x1229, [2, 0, 0]));
    assert_eq!(I8255x::new(&mut hal, PCI).err(), Some(NicError::BadBar));
}

#[test]
fn generation_follows_device_and_revision() {
    let cases = [
        (0x1229, 1, Generation::I82557),
        (0x1229, 3, Generation::I82557),
        (0x1229, 4, Generation::I82558Plus),
        (0x1229, 0x0C, Generation::I82558Plus),
        (0x1209, 0x0E, Generation::I82558Plus),
        (0x2449, 3, Generation::I82558Plus),
    ];
    for (device, rev, want) in cases {
        let (_, nic) = setup_with(device, rev, 6, DMA_BASE_LOW);
        assert_eq!(nic.generation(), want, "{device:04x} rev {rev}");
    }
}

#[test]
fn open_resets_loads_bases_builds_the_rfa_and_chains_the_setup_commands() {
    let (mut hal, _nic) = opened();
    let d = &hal.device;
    assert_eq!(d.resets, [PORT_SELECTIVE_RESET, PORT_SOFTWARE_RESET]);
    let cmds: Vec<u8> = d.scb.iter().map(|s| s.0).collect();
    assert_eq!(
        cmds,
        [CUC_LOAD_BASE, RUC_LOAD_BASE, RUC_START, CUC_START],
        "one CU start for the whole setup list"
    );
    assert_eq!((d.cu_base, d.ru_base), (0, 0));
    // IA Setup, Configure, Multicast Setup in consecutive blocks, EL on the last only.
    let exec: Vec<u16> = d.executed.iter().map(|e| e.0).collect();
    assert_eq!(exec, [CMD_IA_SETUP, CMD_CONFIGURE, CMD_MC_SETUP | CMD_EL]);
    let cbl = d.executed[0].1;
    assert_eq!(d.executed[1].1, cbl + SLOT_STRIDE as u32);
    assert_eq!(d.executed[2].1, cbl + 2 * SLOT_STRIDE as u32);
    assert_eq!(d.ia, MAC);
    assert_eq!(
        d.config,
        configure_block(Generation::I82558Plus, &RxFilter::new())
    );
    assert!(d.mc_list.is_empty());
    // Receive frame area: cyclic links, simplified mode, EL on the last RFD, RU ready.
    let base = rfa(&hal);
    assert_eq!(base, DMA_BASE_LOW);
    for i in 0..RX_SLOTS {
        let o = base + (i * SLOT_STRIDE) as u64;
        let next = base + (((i + 1) % RX_SLOTS) * SLOT_STRIDE) as u64;
        assert_eq!(hal.bus.dma_le(o + 4, 4), next);
        assert_eq!(hal.bus.dma_le(o + 8, 4), 0xFFFF_FFFF);
        assert_eq!(hal.bus.dma_le(o + 14, 2), RX_BUF_LEN as u64);
        assert_eq!(hal.bus.dma_le(o + 2, 2) as u16 & CMD_SF, 0);
    }
    assert_eq!(rfd_el(&hal, base), [RX_SLOTS - 1]);
    assert_eq!(hal.device.ru_state, RUS_READY);
    // Interrupts masked in every SCB command, bus mastering on.
    let words = hal.writes_to(Space::Io, u64::from(IO + SCB_COMMAND));
    assert!(words.iter().all(|w| w >> 8 == u64::from(SCB_INT_M)));
    assert!(pci::command(&mut hal, PCI).contains(Command::BUS_MASTER | Command::IO_SPACE));
}

#[test]
fn open_refuses_dma_memory_above_4g() {
    let (mut hal, mut nic) = setup_with(0x1229, 8, 6, DMA_BASE_HIGH);
    assert_eq!(nic.open(&mut hal), Err(NicError::DmaUnreachable));
    assert!(!pci::command(&mut hal, PCI).contains(Command::BUS_MASTER));
}

#[test]
fn transmit_chains_simplified_tcbs_around_the_ring() {
    let (mut hal, mut nic) = opened();
    let before = hal.device.executed.len();
    for i in 0..20u8 {
        nic.transmit(&mut hal, &frame(20 + usize::from(i) * 70, i))
            .unwrap();
    }
    let d = &hal.device;
    assert_eq!(d.sent.len(), 20);
    let mut first = frame(20, 0);
    first.resize(60, 0);
    assert_eq!(d.sent[0], first, "short frame padded to 60 bytes");
    for i in 1..20u8 {
        assert_eq!(d.sent[usize::from(i)], frame(20 + usize::from(i) * 70, i));
    }
    // Blocks 3.. of the ring, wrapping after 8; every TCB has EL (the CU was idle each time).
    let cbl = d.executed[0].1;
    for (n, &(cmd, at)) in d.executed[before..].iter().enumerate() {
        assert_eq!(cmd, CMD_TRANSMIT | CMD_EL);
        assert_eq!(at, cbl + (((3 + n) % CB_SLOTS) * SLOT_STRIDE) as u32);
    }
    let at = u64::from(d.executed.last().unwrap().1);
    assert_eq!(
        hal.bus.dma_le(at + 12, 2),
        (20 + 19 * 70) | 0x8000,
        "count | EOF"
    );
    assert_eq!(hal.bus.dma_le(at + 14, 1), u64::from(TX_THRESHOLD));
    assert_eq!(hal.bus.dma_le(at + 15, 1), 0, "no TBDs");
}

#[test]
fn a_busy_cu_picks_up_chained_blocks_and_nothing_runs_twice() {
    let (mut hal, mut nic) = opened();
    hal.device.defer_cu = true;
    // The CU is still working on frame 0 when frame 1 is linked: EL moves to frame 1.
    nic.transmit(&mut hal, &frame(100, 0)).unwrap();
    nic.transmit(&mut hal, &frame(100, 1)).unwrap();
    let starts = |hal: &FakeHal<Dev>| hal.device.scb.iter().filter(|s| s.0 == CUC_START).count();
    assert_eq!(starts(&hal), 2, "setup list + frame 0");
    {
        let FakeHal { bus, device, .. } = &mut hal;
        device.run_cu(bus);
    }
    assert_eq!(
        hal.device.sent.len(),
        2,
        "frame 1 followed frame 0 without a restart"
    );
    // The CU finishes frame 2 (EL) before frame 3 is linked: the driver restarts it at 3.
    nic.transmit(&mut hal, &frame(100, 2)).unwrap();
    {
        let FakeHal { bus, device, .. } = &mut hal;
        device.run_cu(bus);
    }
    nic.transmit(&mut hal, &frame(100, 3)).unwrap();
    assert_eq!(starts(&hal), 4);
    // A receive poll kicks nothing twice either.
    let mut buf = [0u8; 1600];
    {
        let FakeHal { bus, device, .. } = &mut hal;
        device.run_cu(bus);
    }
    assert_eq!(recv(&mut nic, &mut hal, &mut buf), None);
    assert_eq!(starts(&hal), 4);
    let sent: Vec<u8> = hal.device.sent.iter().map(|f| f[6]).collect();
    let want: Vec<u8> = (0..4).map(|i| frame(100, i)[6]).collect();
    assert_eq!(sent, want);
}

#[test]
fn transmit_times_out_when_the_cu_never_finishes() {
    let (mut hal, mut nic) = opened();
    hal.device.cu_stalled = true;
    for i in 0..CB_SLOTS as u8 {
        nic.transmit(&mut hal, &frame(60, i)).unwrap();
    }
    assert_eq!(
        nic.transmit(&mut hal, &frame(60, 9)),
        Err(NicError::TxTimeout)
    );
    assert_eq!(nic.transmit(&mut hal, &[]), Err(NicError::BadFrameLength));
}

#[test]
fn receive_wraps_the_rfa_and_moves_el_behind_the_reader() {
    let (mut hal, mut nic) = opened();
    let base = rfa(&hal);
    let mut buf = [0u8; 1600];
    let mut seed = 0u8;
    for batch in [5usize, 9, 12, 7] {
        let mut want = Vec::new();
        for _ in 0..batch {
            let f = frame(60 + usize::from(seed) * 13, seed);
            assert!(deliver(&mut hal, &f));
            want.push(f);
            seed += 1;
        }
        for f in want {
            let n = recv(&mut nic, &mut hal, &mut buf).expect("a frame");
            assert_eq!(&buf[..n], &f[..]);
            // EL sits on exactly one RFD: the one just consumed.
            assert_eq!(rfd_el(&hal, base).len(), 1);
        }
        assert_eq!(recv(&mut nic, &mut hal, &mut buf), None);
    }
    let consumed = 5 + 9 + 12 + 7;
    assert_eq!(rfd_el(&hal, base), [(consumed + RX_SLOTS - 1) % RX_SLOTS]);
    assert_eq!(nic.rx_dropped(), 0);
    assert_eq!(
        hal.device.scb.iter().filter(|s| s.0 == RUC_START).count(),
        1,
        "the RU never ran out"
    );
}

#[test]
fn the_ru_is_restarted_after_running_out_of_rfds() {
    let (mut hal, mut nic) = opened();
    let base = rfa(&hal);
    for i in 0..RX_SLOTS as u8 {
        assert!(deliver(&mut hal, &frame(100, i)));
    }
    assert_eq!(hal.device.ru_state, RUS_NO_RESOURCES);
    assert!(
        !deliver(&mut hal, &frame(100, 0xEE)),
        "no resources: dropped"
    );
    let mut buf = [0u8; 1600];
    for i in 0..RX_SLOTS as u8 {
        let n = recv(&mut nic, &mut hal, &mut buf).unwrap();
        assert_eq!(&buf[..n], &frame(100, i)[..]);
    }
    assert_eq!(recv(&mut nic, &mut hal, &mut buf), None);
    assert_eq!(hal.device.ru_state, RUS_READY);
    let (_, ptr) = *hal.device.scb.last().unwrap();
    assert_eq!(
        u64::from(ptr),
        base,
        "restarted at the reader's RFD (16 % 16 = 0)"
    );
    for i in 0..3u8 {
        assert!(deliver(&mut hal, &frame(70, 0x40 + i)));
    }
    for i in 0..3u8 {
        let n = recv(&mut nic, &mut hal, &mut buf).unwrap();
        assert_eq!(&buf[..n], &frame(70, 0x40 + i)[..]);
    }
}

#[test]
fn an_rfd_is_taken_only_once_fr_confirms_it_or_after_a_grace_period() {
    let (mut hal, mut nic) = opened();
    let mut buf = [0u8; 1600];
    // QEMU has written C|OK but not yet the count and the frame.
    {
        let FakeHal { bus, device, .. } = &mut hal;
        device.begin_receive(bus);
    }
    for _ in 0..5 {
        assert_eq!(nic.receive(&mut hal, &mut buf), None);
    }
    assert!(deliver(&mut hal, &frame(80, 1)));
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(80));
    assert_eq!(&buf[..80], &frame(80, 1)[..]);
    assert_eq!(hal.device.statack & STATACK_FR, 0, "FR acknowledged");
    // Three frames before the driver looks: FR covers the first, the next RFD's C the second;
    // the last waits out the grace period.
    assert!(deliver(&mut hal, &frame(70, 2)));
    assert!(deliver(&mut hal, &frame(75, 3)));
    assert!(deliver(&mut hal, &frame(77, 4)));
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(70));
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(75));
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    hal.delay_us(2_000);
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(77));
    assert_eq!(nic.rx_dropped(), 0);
}

#[test]
fn bad_hostile_and_oversized_frames_are_dropped_and_counted() {
    let (mut hal, mut nic) = opened();
    let base = rfa(&hal);
    let FakeHal { bus, device, .. } = &mut hal;
    device.receive(bus, &frame(80, 1), false, true); // CRC error status
    device.receive(bus, &frame(80, 2), true, true); // count made hostile below
    device.receive(bus, &frame(1400, 3), true, true); // longer than the caller's buffer
    device.receive(bus, &frame(90, 4), true, true);
    bus.dma_set_le(base + SLOT_STRIDE as u64 + 12, 2, 0x3FFF);
    let mut buf = [0u8; 1000];
    let n = recv(&mut nic, &mut hal, &mut buf).unwrap();
    assert_eq!(&buf[..n], &frame(90, 4)[..]);
    assert_eq!(nic.rx_dropped(), 3);
}

#[test]
fn close_stops_dma_and_reopen_reuses_memory() {
    let (mut hal, mut nic) = opened();
    let first_rfa = rfa(&hal);
    nic.close(&mut hal);
    assert_eq!(
        hal.device.resets,
        [
            PORT_SELECTIVE_RESET,
            PORT_SOFTWARE_RESET,
            PORT_SELECTIVE_RESET,
            PORT_SOFTWARE_RESET
        ]
    );
    assert!(!pci::command(&mut hal, PCI).contains(Command::BUS_MASTER));
    assert_eq!(
        nic.transmit(&mut hal, &frame(60, 0)),
        Err(NicError::NotOpen)
    );
    let mut buf = [0u8; 1600];
    assert_eq!(recv(&mut nic, &mut hal, &mut buf), None);
    nic.open(&mut hal).unwrap();
    assert_eq!(rfa(&hal), first_rfa);
    nic.transmit(&mut hal, &frame(60, 5)).unwrap();
    assert_eq!(hal.device.sent.len(), 1);
}

#[test]
fn configure_block_per_filter() {
    let g = Generation::I82558Plus;
    let base = configure_block(g, &flt(true, true, false, false));
    assert_eq!(
        base,
        [
            22, 0x08, 0, 0, 0, 0, 0x32, 0x03, 0x01, 0, 0x2E, 0, 0x60, 0, 0xF2, 0x48, 0, 0x40, 0xFA,
            0x80, 0x3F, 0x05
        ]
    );
    assert_eq!(base[6] & 0x80, 0, "save bad frames off");
    let only = |c: [u8; 22], byte: usize, bits: u8| {
        for i in 0..22 {
            let want = if i == byte { base[i] | bits } else { base[i] };
            assert_eq!(c[i], want, "byte {i}");
        }
    };
    only(
        configure_block(g, &flt(true, false, false, false)),
        15,
        0x02,
    );
    // Promiscuous also asks for every multicast frame (byte 21 bit 3).
    for c in [
        configure_block(g, &flt(true, true, false, true)),
        configure_block(g, &flt(false, false, false, true)),
    ] {
        assert!((0..22)
            .all(|i| c[i]
                == base[i] | [0, 0x01, 0x08][usize::from(i == 15) + 2 * usize::from(i == 21)]));
    }
    only(configure_block(g, &flt(true, true, true, false)), 21, 0x08);
    let mut over = RxFilter::new();
    let many: Vec<[u8; 6]> = (0..17).map(|i| [0x01, 0, 0x5E, 0, 0, i]).collect();
    assert!(!over.set_multicast(&many));
    only(configure_block(g, &over), 21, 0x08);
    // The 82557 has no long-receive-OK bit (byte 18 bit 3 is reserved there).
    let old = configure_block(Generation::I82557, &RxFilter::new());
    assert_eq!(old[18], 0xF2);
    assert!((0..22).all(|i| i == 18 || old[i] == base[i]));
}

#[test]
fn set_filter_on_an_open_card_sends_configure_and_multicast_setup() {
    let (mut hal, mut nic) = setup_with(0x1229, 2, 6, DMA_BASE_LOW);
    nic.open(&mut hal).unwrap();
    assert_eq!(hal.device.config[18], 0xF2, "82557B configure block");
    let groups = [
        [0x01, 0x00, 0x5E, 0, 0, 1],
        [0x33, 0x33, 0, 0, 0, 1],
        [0x01, 0x80, 0xC2, 0, 0, 0],
    ];
    let mut f = RxFilter::new();
    f.set_multicast(&groups);
    let before = hal.device.executed.len();
    nic.set_filter(&mut hal, &f).unwrap();
    let exec: Vec<u16> = hal.device.executed[before..].iter().map(|e| e.0).collect();
    assert_eq!(exec, [CMD_CONFIGURE, CMD_MC_SETUP | CMD_EL]);
    assert_eq!(hal.device.mc_list, groups);
    assert_eq!(hal.device.config[21] & 0x08, 0);
    let at = u64::from(hal.device.executed.last().unwrap().1);
    assert_eq!(hal.bus.dma_le(at + 8, 2), 18, "multicast count in bytes");
    for m in groups {
        let h = qemu_hash(&m);
        assert_ne!(hal.device.mult[usize::from(h >> 3)] & 1 << (h & 7), 0);
    }
    // Too many: an empty list and multicast all.
    let many: Vec<[u8; 6]> = (0..20).map(|i| [0x01, 0, 0x5E, 0, 1, i]).collect();
    f.set_multicast(&many);
    nic.set_filter(&mut hal, &f).unwrap();
    assert!(hal.device.mc_list.is_empty());
    assert_eq!(hal.device.config[21] & 0x08, 0x08);
    // The filter survives close + open.
    nic.close(&mut hal);
    nic.open(&mut hal).unwrap();
    assert_eq!(hal.device.config[21] & 0x08, 0x08);
    assert_eq!(nic.filter(), f);
}

#[test]
fn hash_collisions_and_disabled_classes_are_dropped_in_software() {
    let (mut hal, mut nic) = opened();
    let wanted = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01];
    let h = qemu_hash(&wanted);
    let collision = (0..=255u8)
        .map(|i| [0x01, 0x00, 0x5E, 0x7F, i, 0x33])
        .find(|m| qemu_hash(m) == h && *m != wanted)
        .expect("a colliding group address");
    let mut f = flt(true, false, false, false);
    f.set_multicast(&[wanted]);
    nic.set_filter(&mut hal, &f).unwrap();
    for (dst, seed) in [(collision, 1), ([0xFF; 6], 2), (wanted, 3), (MAC, 4)] {
        assert!(
            deliver(&mut hal, &to(dst, seed)),
            "the fake lets {dst:02x?} in"
        );
    }
    let mut buf = [0u8; 1600];
    let mut got = Vec::new();
    while let Some(n) = recv(&mut nic, &mut hal, &mut buf) {
        got.push(buf[..n].to_vec());
    }
    assert_eq!(got, [to(wanted, 3), to(MAC, 4)]);
    assert_eq!(nic.rx_dropped(), 0, "filtered frames are not drops");
    // Promiscuous: the fake passes unknown unicast too, and so does the driver.
    nic.set_filter(&mut hal, &flt(false, false, false, true))
        .unwrap();
    assert_eq!(hal.device.config[15] & 1, 1);
    assert!(deliver(&mut hal, &to([0x02, 9, 9, 9, 9, 9], 5)));
    assert_eq!(recv(&mut nic, &mut hal, &mut buf), Some(64));
}

#[test]
fn station_address_by_ia_setup_survives_reopen_and_close_restores_it() {
    let (mut hal, mut nic) = opened();
    let new = [0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE];
    assert_eq!(
        nic.set_station(&mut hal, [0x01, 0, 0, 0, 0, 0]),
        Err(NicError::BadAddress)
    );
    let before = hal.device.executed.len();
    nic.set_station(&mut hal, new).unwrap();
    assert_eq!(
        hal.device.executed[before..]
            .iter()
            .map(|e| e.0)
            .collect::<Vec<_>>(),
        [CMD_IA_SETUP | CMD_EL]
    );
    assert_eq!(hal.device.ia, new);
    assert!(
        !deliver(&mut hal, &to(MAC, 1)),
        "the old address is not received"
    );
    assert!(deliver(&mut hal, &to(new, 2)));
    let mut buf = [0u8; 1600];
    assert_eq!(recv(&mut nic, &mut hal, &mut buf), Some(64));
    nic.close(&mut hal);
    // QEMU writes the individual address into its EEPROM on reset: it must be the permanent one.
    assert_eq!(hal.device.ia, MAC);
    assert_eq!(&hal.device.eeprom[..3], &Dev::new(MAC, 6).eeprom[..3]);
    nic.open(&mut hal).unwrap();
    assert_eq!(hal.device.ia, new, "station programmed again on open");
    assert_eq!((nic.mac(), nic.station()), (MAC, new));
    // Closed: stored, programmed at the next open.
    nic.close(&mut hal);
    nic.set_station(&mut hal, MAC).unwrap();
    nic.open(&mut hal).unwrap();
    assert_eq!(hal.device.ia, MAC);
}

#[test]
fn link_and_speed_come_from_the_phy_over_mdi() {
    let (mut hal, mut nic) = opened();
    assert!(nic.link_up(&mut hal));
    assert_eq!(nic.link_speed_bps(&mut hal), Some(100_000_000));
    let mdi = hal.writes_to(Space::Io, u64::from(IO + MDI_CTRL));
    assert!(
        mdi.iter().all(|v| (v >> 21) & 0x1F == 1),
        "PHY address from EEPROM word 6"
    );
    assert!(mdi.iter().all(|v| (v >> 26) & 3 == 2), "reads only");
    hal.device.phy[5] = 0x0061; // partner: 10BASE-T only
    assert_eq!(nic.link_speed_bps(&mut hal), Some(10_000_000));
    hal.device.phy[0] = 0x0000; // no auto-negotiation, 10 Mb/s forced
    assert_eq!(nic.link_speed_bps(&mut hal), Some(10_000_000));
    hal.device.phy[1] &= !BMSR_LINK;
    assert!(!nic.link_up(&mut hal));
    assert_eq!(nic.link_speed_bps(&mut hal), None);
    assert_eq!((nic.rx_ring_len(), nic.tx_ring_len()), (16, 8));
}

#[test]
fn every_qemu_model_id_is_claimed() {
    for (device, name) in [
        (0x1229, "i82557a..i82559c"),
        (0x1209, "i82550/1, i82559er, i82562"),
        (0x2449, "i82801"),
    ] {
        assert_eq!(
            crate::find_driver(0x8086, device).map(|(d, _)| d.name),
            Some("i8255x"),
            "{name}"
        );
    }
    for device in (0x1030..=0x103E)
        .chain(0x1050..=0x1057)
        .chain([0x1059, 0x27DC])
        .chain(0x1064..=0x106B)
    {
        assert!(crate::find_driver(0x8086, device).is_some(), "{device:04x}");
    }
}
