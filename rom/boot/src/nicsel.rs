//! Choosing the NIC: list every PCI function, then take the first one a driver supports (or the
//! one `nic =` in SOFTPXE.CFG names) and bring it up. ISA cards are used only when `isa =` asks:
//! a named card (`isa = ne2000:0x300:9`) is tried before PCI, `isa = auto` probes the classic
//! ports only when no PCI card could be taken. Without `isa` no ISA port is touched. The PCI
//! list comes from [`Platform::pci_functions`].
use crate::console::sayln;
use crate::Platform;
use core::fmt;
use softpxe_drivers::ne2000::isa::looks_like_8390;
use softpxe_drivers::ne2000::IsaCard;
use softpxe_drivers::nic::Nic;
use softpxe_drivers::pci::{self, PciAddress};
use softpxe_drivers::{find_driver, find_isa, probe, probe_isa, AnyNic};
use softpxe_settings::{IsaSelect, NicSelect, Settings};

/// Where the chosen NIC sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// A PCI function.
    Pci(PciAddress),
    /// An ISA board.
    Isa(IsaCard),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Location::Pci(a) => write!(f, "{a}"),
            Location::Isa(IsaCard { port, irq: 0 }) => write!(f, "ISA {port:#x}"),
            Location::Isa(IsaCard { port, irq }) => write!(f, "ISA {port:#x} IRQ {irq}"),
        }
    }
}

/// The NIC softpxe drives (an [`AnyNic`] on the firmware; tests use their own [`Nic`]).
pub struct Chosen<N = AnyNic> {
    /// The driver.
    pub nic: N,
    /// Where the card sits.
    pub at: Location,
    /// PCI vendor (0 for an ISA card).
    pub vendor: u16,
    /// PCI device (0 for an ISA card).
    pub device: u16,
    /// The driver's name.
    pub name: &'static str,
}

/// PCI functions listed at most (a PC has a few dozen).
const MAX_FUNCTIONS: usize = 256;

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

/// Takes the ISA board `card` after the least intrusive check; None after saying why.
fn try_isa<P: Platform>(p: &mut P, driver: &str, card: IsaCard) -> Option<Chosen> {
    let at = Location::Isa(card);
    if !looks_like_8390(p.hal(), card.port) {
        sayln!(
            p,
            "PXE-E61: no {driver} answers at {at}. Check `isa` in SOFTPXE.CFG against the card's \
             jumpers or setup program."
        );
        return None;
    }
    match probe_isa(p.hal(), driver, card) {
        Ok(Some(nic)) => Some(Chosen {
            name: nic.driver_name(),
            nic,
            at,
            vendor: 0,
            device: 0,
        }),
        Ok(None) => None,
        Err(e) => {
            sayln!(p, "PXE-E61: the {driver} at {at} could not be taken: {e}");
            None
        }
    }
}

/// Prints the PCI list and returns the NIC to use, or None after saying why (PXE-E61: no
/// network controller or it could not be taken; PXE-EC5: none with a driver, or none matches
/// `nic`).
pub fn choose_nic<P: Platform>(p: &mut P, settings: &Settings) -> Option<Chosen> {
    let sel = settings.nic();
    let mut nics = 0;
    let mut candidates: [Option<(PciAddress, u16, u16)>; 16] = [None; 16];
    let mut list = [PciAddress::new(0, 0, 0); MAX_FUNCTIONS];
    let total = p.pci_functions(&mut list);
    for &addr in &list[..total.min(MAX_FUNCTIONS)] {
        let (vendor, device) = pci::vendor_device(p.hal(), addr);
        let (class, sub, _) = pci::class(p.hal(), addr);
        let mark = if class == 0x02 {
            nics += 1;
            match find_driver(vendor, device) {
                Some((_, id)) => {
                    if let Some(slot) = candidates.iter_mut().find(|c| c.is_none()) {
                        *slot = Some((addr, vendor, device));
                    }
                    id.name
                }
                None => "network controller (no softpxe driver)",
            }
        } else {
            ""
        };
        let sep = if mark.is_empty() { "" } else { "  " };
        sayln!(
            p,
            "PCI {addr} {vendor:04x}:{device:04x} class {class:02x}{sub:02x}{sep}{mark}"
        );
    }
    sayln!(
        p,
        "softpxe: PCI scan found {total} functions, {nics} network controller(s)"
    );
    if let Some(IsaSelect::Card { driver, port, irq }) = settings.isa {
        return try_isa(p, driver.as_str(), IsaCard::new(port, irq));
    }
    let mut any = false;
    for &(addr, vendor, device) in candidates.iter().flatten() {
        any = true;
        if !wanted(&sel, addr, vendor, device) {
            continue;
        }
        match probe(p.hal(), addr) {
            Ok(Some(nic)) => {
                let name = nic.driver_name();
                return Some(Chosen {
                    nic,
                    at: Location::Pci(addr),
                    vendor,
                    device,
                    name,
                });
            }
            Ok(None) => {}
            Err(e) => {
                sayln!(
                    p,
                    "softpxe: {addr} {vendor:04x}:{device:04x}: {e}; trying the next card"
                )
            }
        }
    }
    if settings.isa == Some(IsaSelect::Auto) {
        match find_isa(p.hal()) {
            Some((driver, card)) => {
                sayln!(
                    p,
                    "softpxe: isa = auto: an {driver} answers at ISA {:#x}",
                    card.port
                );
                return try_isa(p, driver, card);
            }
            None => sayln!(
                p,
                "softpxe: isa = auto: no ISA network card at the classic ports (0x300, 0x280, \
                 0x320, 0x340)"
            ),
        }
    }
    if nics == 0 {
        sayln!(
            p,
            "PXE-E61: no network controller found on the PCI bus. Check that the network card is \
             seated and enabled in the BIOS setup{}",
            if settings.isa.is_none() {
                "; an ISA card is only used with `isa` in SOFTPXE.CFG."
            } else {
                "."
            }
        );
    } else if !any {
        sayln!(
            p,
            "PXE-EC5: none of the network controllers has a softpxe driver (see `softpxe nics` \
             for the supported cards)."
        );
    } else if sel != NicSelect::Auto {
        sayln!(
            p,
            "PXE-EC5: no supported network card matches `nic` in SOFTPXE.CFG; check that setting."
        );
    } else {
        sayln!(p, "PXE-EC5: no supported network card could be started.");
    }
    None
}

/// Opens the card; false after printing why.
pub(crate) fn open<P: Platform, N: Nic>(p: &mut P, c: &mut Chosen<N>) -> bool {
    match c.nic.open(p.hal()) {
        Ok(()) => true,
        Err(e) => {
            sayln!(
                p,
                "PXE-E61: the {} at {} could not be started: {e}",
                c.name,
                c.at
            );
            false
        }
    }
}
