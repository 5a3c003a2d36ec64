//! `softpxe nics`: the adapter list, generated from the drivers' PCI ID tables and ISA driver list
//! (the one source; like the list of cards on the Windows RIS boot floppy).
use softpxe_drivers::{DRIVERS, ISA_DRIVERS};
use std::fmt::Write;

/// The table `softpxe nics` prints: one line per supported PCI ID, then the ISA drivers (never
/// probed unless `isa` in SOFTPXE.CFG asks).
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
    out.push_str(
        "\nISA (only with `isa = <driver>:<port>[:<irq>]` or `isa = auto` in SOFTPXE.CFG)\n",
    );
    out.push_str("driver      auto ports               adapter\n");
    for driver in ISA_DRIVERS {
        let ports: Vec<String> = driver
            .auto_ports
            .iter()
            .map(|p| format!("{p:#x}"))
            .collect();
        for model in driver.models {
            let _ = writeln!(out, "{:<10}  {:<23}  {model}", driver.name, ports.join(","));
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
            "10ec:8029  ne2000",
            "QEMU ne2k_pci",
            "ne2000      0x300,0x280,0x320,0x340",
            "QEMU ne2k_isa, Bochs ne2k",
        ] {
            assert!(t.contains(needle), "{needle} missing from:\n{t}");
        }
    }
}
