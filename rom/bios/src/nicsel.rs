//! Choosing the NIC: list every PCI function, then take the first one a driver supports (or the
//! one `nic =` in SOFTPXE.CFG names) and bring it up.
use crate::hal::BiosHal;
use crate::println;
use softpxe_drivers::nic::Nic;
use softpxe_drivers::pci::{self, PciAddress};
use softpxe_drivers::{find_driver, probe, AnyNic};
use softpxe_settings::{NicSelect, Settings};

/// The NIC softpxe drives.
pub struct Chosen {
    pub nic: AnyNic,
    pub pci: PciAddress,
    pub vendor: u16,
    pub device: u16,
    pub name: &'static str,
}

fn wanted(sel: &NicSelect, addr: PciAddress, vendor: u16, device: u16) -> bool {
    match *sel {
        NicSelect::Auto => true,
        NicSelect::Id {
            vendor: v,
            device: d,
        } => v == vendor && d == device,
        NicSelect::Address {
            bus,
            device: dev,
            function,
        } => addr == PciAddress::new(bus, dev, function),
    }
}

/// Prints the PCI list and returns the NIC to use, or None after saying why.
pub fn choose(hal: &mut BiosHal, settings: &Settings) -> Option<Chosen> {
    let sel = settings.nic();
    let mut total = 0;
    let mut nics = 0;
    let mut candidates: [Option<(PciAddress, u16, u16)>; 16] = [None; 16];
    pci::scan(hal, |hal, addr| {
        total += 1;
        let (vendor, device) = pci::vendor_device(hal, addr);
        let (class, sub, _) = pci::class(hal, addr);
        let mark = if class == 0x02 {
            nics += 1;
            match find_driver(vendor, device) {
                Some((d, id)) => {
                    if let Some(slot) = candidates.iter_mut().find(|c| c.is_none()) {
                        *slot = Some((addr, vendor, device));
                    }
                    let _ = d;
                    id.name
                }
                None => "network controller (no softpxe driver)",
            }
        } else {
            ""
        };
        let sep = if mark.is_empty() { "" } else { "  " };
        println!("PCI {addr} {vendor:04x}:{device:04x} class {class:02x}{sub:02x}{sep}{mark}");
    });
    println!("softpxe: PCI scan found {total} functions, {nics} network controller(s)");
    if nics == 0 {
        println!(
            "PXE-E61: no network controller found on the PCI bus. Check that the network card is \
             seated and enabled in the BIOS setup."
        );
        return None;
    }
    let mut any = false;
    for &(addr, vendor, device) in candidates.iter().flatten() {
        any = true;
        if !wanted(&sel, addr, vendor, device) {
            continue;
        }
        match probe(hal, addr) {
            Ok(Some(nic)) => {
                let name = nic.driver_name();
                return Some(Chosen {
                    nic,
                    pci: addr,
                    vendor,
                    device,
                    name,
                });
            }
            Ok(None) => {}
            Err(e) => {
                println!("softpxe: {addr} {vendor:04x}:{device:04x}: {e}; trying the next card")
            }
        }
    }
    if !any {
        println!(
            "PXE-EC5: none of the network controllers has a softpxe driver (see `softpxe nics` \
             for the supported cards)."
        );
    } else if sel != NicSelect::Auto {
        println!(
            "PXE-EC5: no supported network card matches `nic` in SOFTPXE.CFG; check that setting."
        );
    } else {
        println!("PXE-EC5: no supported network card could be started.");
    }
    None
}

/// Opens the card; false after printing why.
pub fn open(hal: &mut BiosHal, c: &mut Chosen) -> bool {
    match c.nic.open(hal) {
        Ok(()) => true,
        Err(e) => {
            println!(
                "PXE-E61: the {} at {} could not be started: {e}",
                c.name, c.pci
            );
            false
        }
    }
}
