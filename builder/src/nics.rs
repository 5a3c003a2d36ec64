//! `softpxe nics`: the adapter list, generated from the drivers' PCI ID tables (the one source;
//! like the list of cards on the Windows RIS boot floppy).
use softpxe_drivers::DRIVERS;
use std::fmt::Write;

/// The table `softpxe nics` prints: one line per supported PCI ID.
pub fn table() -> String {
    let mut out = String::from("PCI ID     driver      adapter\n");
    for driver in DRIVERS {
        for id in driver.ids {
            let _ = writeln!(
                out,
                "{:04x}:{:04x}  {:<10}  {}",
                id.vendor, id.device, driver.name, id.name
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_every_driver_and_the_qemu_models() {
        let t = super::table();
        for needle in [
            "8086:100e  e1000",
            "10ec:8139  rtl8139",
            "1af4:1000  virtio_net",
            "1af4:1041  virtio_net",
        ] {
            assert!(t.contains(needle), "{needle} missing from:\n{t}");
        }
    }
}
