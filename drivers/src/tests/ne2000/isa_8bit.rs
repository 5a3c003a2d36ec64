//! ne2000 on ISA: the least intrusive probe and the 8-bit (NE1000) mode, which neither QEMU nor
//! Bochs emulates.

use super::*;
use crate::ne2000::isa;

#[test]
fn eight_bit_board_is_detected_and_uses_byte_transfers() {
    let mut hal = FakeHal::new(Dev::new(0x300, true), DMA_BASE_HIGH);
    let mut nic = Ne2000::new_isa(&mut hal, IsaCard::new(0x300, 5)).expect("attach");
    assert_eq!(nic.mac(), MAC);
    assert_eq!(nic.width(), BusWidth::Byte);
    nic.open(&mut hal).unwrap();
    let d = &hal.device;
    assert_eq!(d.dcr & Dcr::WTS.bits(), 0);
    assert_eq!((d.start, d.stop), (0x2C, 0x40), "NE1000 memory at 2000h");
    let mut buf = [0u8; 1600];
    let mut wrapped = false;
    for i in 0..20u8 {
        let len = [1514, 333, 60, 999][usize::from(i) % 4];
        let at = usize::from(hal.device.curr) << 8;
        wrapped |= at + 4 + len > 0x4000;
        assert!(hal.device.receive(&frame(len, i)));
        assert_eq!(nic.receive(&mut hal, &mut buf), Some(len));
        assert_eq!(&buf[..len], &frame(len, i)[..]);
        nic.transmit(&mut hal, &frame(len, i)).unwrap();
    }
    assert!(wrapped);
    assert_eq!(hal.device.sent.len(), 20);
    assert_eq!(hal.device.sent[5], frame(333, 5));
    assert_eq!(
        hal.writes_to(Space::Io, 0x300 + u64::from(TPSR))[1..3],
        [0x20, 0x26]
    );
    let data = 0x300 + u64::from(DATA);
    assert!(hal
        .log
        .iter()
        .all(|e| !matches!(*e, crate::fake::Event::Write { addr, width: 2, .. } if addr == data)));
    assert_eq!(nic.rx_ring_len(), 3);
}

#[test]
fn forced_byte_mode_on_a_16_bit_board_reads_the_doubled_prom() {
    let mut hal = FakeHal::new(Dev::new(0x300, false), DMA_BASE_HIGH);
    let card = IsaCard::new(0x300, 9);
    let mut nic = Ne2000::new_isa_with_width(&mut hal, card, BusWidth::Byte).unwrap();
    assert_eq!(nic.mac(), MAC);
    nic.open(&mut hal).unwrap();
    nic.transmit(&mut hal, &frame(61, 1)).unwrap();
    assert_eq!(hal.device.sent[0], frame(61, 1));
    let mut isa16 = FakeHal::new(Dev::new(0x300, false), DMA_BASE_HIGH);
    let nic16 = Ne2000::new_isa(&mut isa16, card).unwrap();
    assert_eq!((nic16.width(), nic16.mac()), (BusWidth::Word, MAC));
    assert_eq!(crate::probe::AnyNic::Ne2000(nic16).isa_card(), Some(card));
}

#[test]
fn isa_probe_writes_nothing_where_the_bus_is_empty() {
    let mut hal = FakeHal::new(Dev::new(0x320, false), DMA_BASE_HIGH);
    assert_eq!(isa::find(&mut hal), Some(IsaCard::new(0x320, 0)));
    // 0x300 and 0x280 read FFh: never written. Only CR of the board at 0x320 was written,
    // and no reset port was touched.
    for e in &hal.log {
        if let crate::fake::Event::Write { addr, .. } = *e {
            assert_eq!(addr, 0x320, "unexpected write to {addr:#x}");
        }
    }
    assert_eq!(hal.device.resets, 0);
    let mut empty = FakeHal::new(Dev::new(0x200, false), DMA_BASE_HIGH);
    assert_eq!(isa::find(&mut empty), None);
    assert!(empty.log.is_empty());
    assert_eq!(
        crate::probe::probe_isa(&mut hal, "ne2000", IsaCard::new(0x320, 0))
            .unwrap()
            .map(|n| n.mac()),
        Some(MAC)
    );
}

#[test]
fn isa_probe_rejects_a_port_that_does_not_echo_cr() {
    // Plain memory-like registers at 0x300 that read back 0x00 whatever is written.
    let mut hal: FakeHal<()> = FakeHal::new((), DMA_BASE_HIGH);
    hal.script_reads(Space::Io, 0x300, 1, &[0x00, 0x00]);
    assert!(!isa::looks_like_8390(&mut hal, 0x300));
    assert_eq!(
        hal.writes_to(Space::Io, 0x300),
        [0x61, 0x00],
        "one probe write, then the old value back"
    );
}

#[test]
fn registry_takes_the_rtl8029() {
    let (mut hal, _) = setup();
    let nic = crate::probe(&mut hal, PCI).unwrap().expect("a driver");
    assert_eq!(nic.driver_name(), "ne2000");
    assert_eq!(nic.mac(), MAC);
    assert_eq!(nic.isa_card(), None);
}
