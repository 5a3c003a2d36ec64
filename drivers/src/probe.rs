//! Driver registry (layer `drivers/`): the table of drivers and their PCI IDs (the single
//! source of the builder's adapter list) and [`probe`], which turns a PCI function into an
//! [`AnyNic`] the firmware owns by value (no allocation).

use crate::e1000::{self, E1000};
use crate::filter::RxFilter;
use crate::hal::Hal;
use crate::i8255x::{self, I8255x};
use crate::ne2000::{self, IsaCard, Ne2000};
use crate::nic::{Nic, NicError};
use crate::pci::{self, PciAddress, PciId};
use crate::pcnet::{self, Pcnet};
use crate::rtl8139::{self, Rtl8139};
use crate::tulip::{self, Tulip};
use crate::virtio_net::{self, VirtioNet};

/// One driver and the adapters it supports.
#[derive(Clone, Copy, Debug)]
pub struct DriverInfo {
    /// Driver name (its module name).
    pub name: &'static str,
    /// Supported adapters.
    pub ids: &'static [PciId],
}

/// Every driver, in probe order.
pub const DRIVERS: &[DriverInfo] = &[
    DriverInfo {
        name: "e1000",
        ids: e1000::PCI_IDS,
    },
    DriverInfo {
        name: "ne2000",
        ids: ne2000::PCI_IDS,
    },
    DriverInfo {
        name: "rtl8139",
        ids: rtl8139::PCI_IDS,
    },
    DriverInfo {
        name: "virtio_net",
        ids: virtio_net::PCI_IDS,
    },
    DriverInfo {
        name: "pcnet",
        ids: pcnet::PCI_IDS,
    },
    DriverInfo {
        name: "tulip",
        ids: tulip::PCI_IDS,
    },
    DriverInfo {
        name: "i8255x",
        ids: i8255x::PCI_IDS,
    },
];

/// The driver and table entry for a vendor/device pair, if any driver supports it.
pub fn find_driver(vendor: u16, device: u16) -> Option<(&'static DriverInfo, &'static PciId)> {
    DRIVERS.iter().find_map(|driver| {
        driver
            .ids
            .iter()
            .find(|id| id.vendor == vendor && id.device == device)
            .map(|id| (driver, id))
    })
}

/// A card driven by one of this crate's drivers.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "no allocator: the firmware keeps one AnyNic per card by value"
)]
pub enum AnyNic {
    /// Intel 8254x.
    E1000(E1000),
    /// NE2000 / DP8390 (PCI or ISA).
    Ne2000(Ne2000),
    /// Realtek RTL8139.
    Rtl8139(Rtl8139),
    /// virtio-net (legacy or 1.0).
    VirtioNet(VirtioNet),
    /// AMD PCnet-PCI.
    Pcnet(Pcnet),
    /// DEC 21143.
    Tulip(Tulip),
    /// Intel 8255x (EtherExpress PRO/100).
    I8255x(I8255x),
}

/// Looks at the function at `pci` and, if a driver supports it, takes it (decodes BARs, enables
/// register decoding, reads the MAC). `Ok(None)`: no driver for this function.
pub fn probe<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> Result<Option<AnyNic>, NicError> {
    let (vendor, device) = pci::vendor_device(hal, pci);
    let Some((driver, _)) = find_driver(vendor, device) else {
        return Ok(None);
    };
    let nic = match driver.name {
        "e1000" => AnyNic::E1000(E1000::new(hal, pci)?),
        "ne2000" => AnyNic::Ne2000(Ne2000::new(hal, pci)?),
        "rtl8139" => AnyNic::Rtl8139(Rtl8139::new(hal, pci)?),
        "pcnet" => AnyNic::Pcnet(Pcnet::new(hal, pci)?),
        "tulip" => AnyNic::Tulip(Tulip::new(hal, pci)?),
        "i8255x" => AnyNic::I8255x(I8255x::new(hal, pci)?),
        _ => AnyNic::VirtioNet(VirtioNet::new(hal, pci)?),
    };
    Ok(Some(nic))
}

/// A driver for ISA boards and the models it handles (`softpxe nics` lists them).
#[derive(Clone, Copy, Debug)]
pub struct IsaDriverInfo {
    /// Driver name (its module name, and the card type in `isa = <type>:<port>:<irq>`).
    pub name: &'static str,
    /// Boards, as "Vendor Model (QEMU xyz, Bochs xyz)".
    pub models: &'static [&'static str],
    /// The ports `isa = auto` probes, in order.
    pub auto_ports: &'static [u16],
}

/// Every ISA driver (ISA boards are never probed unless the settings ask).
pub const ISA_DRIVERS: &[IsaDriverInfo] = &[IsaDriverInfo {
    name: "ne2000",
    models: &["Novell NE2000 and compatibles, 16-bit (QEMU ne2k_isa, Bochs ne2k); NE1000, 8-bit"],
    auto_ports: &ne2000::isa::CLASSIC_PORTS,
}];

/// Takes the ISA board `card` with the driver named `driver` (resets it, reads its MAC).
/// `Ok(None)`: no such ISA driver.
pub fn probe_isa<H: Hal + ?Sized>(
    hal: &mut H,
    driver: &str,
    card: IsaCard,
) -> Result<Option<AnyNic>, NicError> {
    match driver {
        "ne2000" => Ok(Some(AnyNic::Ne2000(Ne2000::new_isa(hal, card)?))),
        _ => Ok(None),
    }
}

/// `isa = auto`: the first board a driver's least intrusive check finds at its classic ports
/// (driver name and card; the IRQ is unknown).
pub fn find_isa<H: Hal + ?Sized>(hal: &mut H) -> Option<(&'static str, IsaCard)> {
    ne2000::isa::find(hal).map(|card| ("ne2000", card))
}

impl AnyNic {
    /// The ISA board this is, if it is one.
    pub fn isa_card(&self) -> Option<IsaCard> {
        match self {
            AnyNic::Ne2000(n) => match n.attachment() {
                ne2000::Attach::Isa(card) => Some(card),
                ne2000::Attach::Pci(_) => None,
            },
            _ => None,
        }
    }

    /// The driver's name.
    pub fn driver_name(&self) -> &'static str {
        match self {
            AnyNic::E1000(_) => "e1000",
            AnyNic::Ne2000(_) => "ne2000",
            AnyNic::Rtl8139(_) => "rtl8139",
            AnyNic::VirtioNet(_) => "virtio_net",
            AnyNic::Pcnet(_) => "pcnet",
            AnyNic::Tulip(_) => "tulip",
            AnyNic::I8255x(_) => "i8255x",
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $nic:ident => $e:expr) => {
        match $self {
            AnyNic::E1000($nic) => $e,
            AnyNic::Ne2000($nic) => $e,
            AnyNic::Rtl8139($nic) => $e,
            AnyNic::VirtioNet($nic) => $e,
            AnyNic::Pcnet($nic) => $e,
            AnyNic::Tulip($nic) => $e,
            AnyNic::I8255x($nic) => $e,
        }
    };
}

impl Nic for AnyNic {
    fn open<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        dispatch!(self, n => n.open(hal))
    }
    fn close<H: Hal + ?Sized>(&mut self, hal: &mut H) {
        dispatch!(self, n => n.close(hal))
    }
    fn mac(&self) -> [u8; 6] {
        dispatch!(self, n => n.mac())
    }
    fn station(&self) -> [u8; 6] {
        dispatch!(self, n => n.station())
    }
    fn set_station<H: Hal + ?Sized>(&mut self, hal: &mut H, mac: [u8; 6]) -> Result<(), NicError> {
        dispatch!(self, n => n.set_station(hal, mac))
    }
    fn filter(&self) -> RxFilter {
        dispatch!(self, n => n.filter())
    }
    fn set_filter<H: Hal + ?Sized>(
        &mut self,
        hal: &mut H,
        filter: &RxFilter,
    ) -> Result<(), NicError> {
        dispatch!(self, n => n.set_filter(hal, filter))
    }
    fn link_speed_bps<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Option<u64> {
        dispatch!(self, n => n.link_speed_bps(hal))
    }
    fn rx_ring_len(&self) -> u16 {
        dispatch!(self, n => n.rx_ring_len())
    }
    fn tx_ring_len(&self) -> u16 {
        dispatch!(self, n => n.tx_ring_len())
    }
    fn link_up<H: Hal + ?Sized>(&mut self, hal: &mut H) -> bool {
        dispatch!(self, n => n.link_up(hal))
    }
    fn transmit<H: Hal + ?Sized>(&mut self, hal: &mut H, frame: &[u8]) -> Result<(), NicError> {
        dispatch!(self, n => n.transmit(hal, frame))
    }
    fn receive<H: Hal + ?Sized>(&mut self, hal: &mut H, buf: &mut [u8]) -> Option<usize> {
        dispatch!(self, n => n.receive(hal, buf))
    }
    fn rx_dropped(&self) -> u32 {
        dispatch!(self, n => n.rx_dropped())
    }
    fn set_interrupts<H: Hal + ?Sized>(
        &mut self,
        hal: &mut H,
        enable: bool,
    ) -> Result<(), NicError> {
        dispatch!(self, n => n.set_interrupts(hal, enable))
    }
    fn ack_interrupt<H: Hal + ?Sized>(&mut self, hal: &mut H) -> bool {
        dispatch!(self, n => n.ack_interrupt(hal))
    }
}
