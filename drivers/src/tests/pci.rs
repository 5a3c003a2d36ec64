//! BAR decoding and sizing, command register handling, capability walk.

use crate::fake::{Event, FakeHal, FakePciFunction, DMA_BASE_HIGH};
use crate::pci::{self, Bar, Capabilities, Command, PciAddress, COMMAND};

const PCI: PciAddress = PciAddress::new(0, 3, 0);

fn hal_with(f: FakePciFunction) -> FakeHal {
    let mut hal = FakeHal::new((), DMA_BASE_HIGH);
    hal.add_pci(PCI, f);
    hal
}

#[test]
fn io_bar_is_decoded_sized_and_restored() {
    let mut hal =
        hal_with(FakePciFunction::new(0x10EC, 0x8139, [2, 0, 0]).with_io_bar(0, 0xC100, 0x100));
    pci::enable(&mut hal, PCI, Command::IO_SPACE);
    assert_eq!(
        pci::read_bar(&mut hal, PCI, 0),
        Some(Bar::Io {
            port: 0xC100,
            size: 0x100
        })
    );
    // BAR and command register are back to what they were.
    assert_eq!(
        hal.bus.pci(PCI).unwrap().config[0x10..0x14],
        0xC101u32.to_le_bytes()
    );
    assert_eq!(pci::command(&mut hal, PCI), Command::IO_SPACE);
    // Decoding was off while all-ones sat in the BAR.
    let ones = hal
        .log
        .iter()
        .position(|e| {
            matches!(
                e,
                Event::PciWrite {
                    offset: 0x10,
                    value: 0xFFFF_FFFF,
                    ..
                }
            )
        })
        .unwrap();
    let off = hal.log[..ones]
        .iter()
        .rposition(|e| {
            matches!(
                e,
                Event::PciWrite {
                    offset: COMMAND,
                    ..
                }
            )
        })
        .unwrap();
    assert!(matches!(hal.log[off], Event::PciWrite { value: 0, .. }));
}

#[test]
fn mem32_bar() {
    let mut hal = hal_with(
        FakePciFunction::new(0x8086, 0x100E, [2, 0, 0]).with_mem32_bar(0, 0xFEB8_0000, 0x2_0000),
    );
    assert_eq!(
        pci::read_bar(&mut hal, PCI, 0),
        Some(Bar::Memory {
            addr: 0xFEB8_0000,
            size: 0x2_0000,
            is_64: false,
            prefetchable: false
        })
    );
    assert_eq!(pci::read_bar(&mut hal, PCI, 0).unwrap().io_port(), None);
}

#[test]
fn mem64_bar_above_4g() {
    let mut hal = hal_with(
        FakePciFunction::new(0x1AF4, 0x1041, [2, 0, 0]).with_mem64_bar(4, 0x8_0000_0000, 0x4000),
    );
    let bar = pci::read_bar(&mut hal, PCI, 4);
    assert_eq!(
        bar,
        Some(Bar::Memory {
            addr: 0x8_0000_0000,
            size: 0x4000,
            is_64: true,
            prefetchable: true
        })
    );
    assert_eq!(
        hal.bus.pci(PCI).unwrap().config[0x24..0x28],
        0x0000_0008u32.to_le_bytes()
    );
    // There is no BAR6.
    assert_eq!(pci::read_bar(&mut hal, PCI, 6), None);
}

#[test]
fn unimplemented_bar_is_none() {
    let mut hal = hal_with(FakePciFunction::new(0x8086, 0x100E, [2, 0, 0]));
    assert_eq!(pci::read_bar(&mut hal, PCI, 2), None);
}

#[test]
fn bus_master_is_set_and_cleared_alone() {
    let mut hal = hal_with(FakePciFunction::new(0x8086, 0x100E, [2, 0, 0]));
    pci::enable(&mut hal, PCI, Command::MEMORY_SPACE | Command::BUS_MASTER);
    pci::disable_bus_master(&mut hal, PCI);
    assert_eq!(pci::command(&mut hal, PCI), Command::MEMORY_SPACE);
}

#[test]
fn capabilities_are_walked_in_order() {
    let f = FakePciFunction::new(0x1AF4, 0x1041, [2, 0, 0])
        .with_capability(0x50, 0x09, &[16])
        .with_capability(0x40, 0x11, &[12]);
    let mut hal = hal_with(f);
    let mut caps = Capabilities::new(&mut hal, PCI);
    assert_eq!(
        caps.next(&mut hal).map(|c| (c.offset, c.id)),
        Some((0x40, 0x11))
    );
    assert_eq!(
        caps.next(&mut hal).map(|c| (c.offset, c.id)),
        Some((0x50, 0x09))
    );
    assert_eq!(caps.next(&mut hal), None);
}

#[test]
fn scan_finds_present_functions() {
    let mut hal = hal_with(FakePciFunction::new(0x8086, 0x100E, [2, 0, 0]));
    let mut found = std::vec::Vec::new();
    pci::scan(&mut hal, |_, pci| found.push(pci));
    assert_eq!(found, [PCI]);
}
