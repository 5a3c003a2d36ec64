//! The registry: ID tables and probe.

use crate::fake::{FakeHal, FakePciFunction, DMA_BASE_LOW};
use crate::nic::{Nic, NicError};
use crate::pci::PciAddress;
use crate::{find_driver, probe, AnyNic, DRIVERS};

#[test]
fn qemu_models_are_in_the_tables_and_ids_are_unique() {
    for (vendor, device, driver) in [
        (0x8086, 0x100E, "e1000"),
        (0x8086, 0x100C, "e1000"),
        (0x8086, 0x100F, "e1000"),
        (0x8086, 0x10D3, "e1000"),
        (0x1022, 0x2000, "pcnet"),
        (0x10EC, 0x8139, "rtl8139"),
        (0x1AF4, 0x1000, "virtio_net"),
        (0x1AF4, 0x1041, "virtio_net"),
    ] {
        assert_eq!(
            find_driver(vendor, device).map(|(d, _)| d.name),
            Some(driver)
        );
    }
    let all: std::vec::Vec<_> = DRIVERS
        .iter()
        .flat_map(|d| d.ids)
        .map(|id| (id.vendor, id.device))
        .collect();
    for (i, id) in all.iter().enumerate() {
        assert!(!all[..i].contains(id), "{id:04x?} listed twice");
    }
    assert_eq!(find_driver(0x8086, 0x1237).map(|(d, _)| d.name), None);
}

#[test]
fn probe_picks_the_driver_and_reports_a_missing_bar() {
    let mut hal = FakeHal::new((), DMA_BASE_LOW);
    let nic_at = PciAddress::new(0, 3, 0);
    let bridge_at = PciAddress::new(0, 0, 0);
    let broken_at = PciAddress::new(0, 4, 0);
    hal.add_pci(
        nic_at,
        FakePciFunction::new(0x10EC, 0x8139, [2, 0, 0]).with_io_bar(0, 0xC000, 0x100),
    );
    hal.add_pci(bridge_at, FakePciFunction::new(0x8086, 0x1237, [6, 0, 0]));
    hal.add_pci(broken_at, FakePciFunction::new(0x8086, 0x100E, [2, 0, 0]));
    let nic = probe(&mut hal, nic_at).unwrap().unwrap();
    assert!(matches!(nic, AnyNic::Rtl8139(_)));
    assert_eq!(nic.driver_name(), "rtl8139");
    assert_eq!(nic.mac(), [0; 6]);
    assert!(probe(&mut hal, bridge_at).unwrap().is_none());
    assert_eq!(probe(&mut hal, broken_at).err(), Some(NicError::BadBar));
}
