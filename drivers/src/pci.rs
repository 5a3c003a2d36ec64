//! PCI configuration-space helpers (layer `drivers/`): IDs, class, BAR decoding and sizing,
//! command-register control, capability list walk and bus scan. PCI Local Bus Spec 3.0 §6.1–§6.7.

use bitflags::bitflags;
use core::fmt;

use crate::hal::Hal;

/// Vendor ID register (16 bits).
pub const VENDOR_ID: u8 = 0x00;
/// Device ID register (16 bits).
pub const DEVICE_ID: u8 = 0x02;
/// Command register (16 bits), see [`Command`].
pub const COMMAND: u8 = 0x04;
/// Status register (16 bits).
pub const STATUS: u8 = 0x06;
/// Programming interface byte of the class code.
pub const PROG_IF: u8 = 0x09;
/// Sub-class byte of the class code.
pub const SUBCLASS: u8 = 0x0A;
/// Base class byte of the class code.
pub const CLASS: u8 = 0x0B;
/// Header type (bit 7: multi-function device).
pub const HEADER_TYPE: u8 = 0x0E;
/// First base address register; BAR n is at `BAR0 + 4 * n`.
pub const BAR0: u8 = 0x10;
/// Pointer to the first capability (valid when `STATUS` has [`STATUS_CAP_LIST`]).
pub const CAP_PTR: u8 = 0x34;
/// Status register bit: the function has a capability list.
pub const STATUS_CAP_LIST: u16 = 1 << 4;
/// Capability ID of vendor-specific capabilities (used by virtio 1.0).
pub const CAP_ID_VENDOR: u8 = 0x09;

/// Bus/device/function of a PCI function (segment 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PciAddress {
    /// Bus number, 0–255.
    pub bus: u8,
    /// Device number, 0–31.
    pub dev: u8,
    /// Function number, 0–7.
    pub func: u8,
}

impl PciAddress {
    /// A bus/device/function triple.
    pub const fn new(bus: u8, dev: u8, func: u8) -> Self {
        Self { bus, dev, func }
    }
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.dev, self.func)
    }
}

/// One entry of a driver's table of supported adapters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciId {
    /// PCI vendor ID.
    pub vendor: u16,
    /// PCI device ID.
    pub device: u16,
    /// Adapter name as shown in the builder's adapter list.
    pub name: &'static str,
}

impl PciId {
    /// A table entry.
    pub const fn new(vendor: u16, device: u16, name: &'static str) -> Self {
        Self {
            vendor,
            device,
            name,
        }
    }
}

bitflags! {
    /// Bits of the PCI command register (PCI 3.0 §6.2.2).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Command: u16 {
        /// Respond to I/O space accesses.
        const IO_SPACE = 1 << 0;
        /// Respond to memory space accesses.
        const MEMORY_SPACE = 1 << 1;
        /// Allow the device to master the bus (DMA).
        const BUS_MASTER = 1 << 2;
        /// Monitor special cycles.
        const SPECIAL_CYCLES = 1 << 3;
        /// Memory write and invalidate enable.
        const MWI = 1 << 4;
        /// VGA palette snooping.
        const VGA_SNOOP = 1 << 5;
        /// Respond to parity errors.
        const PARITY_ERROR_RESPONSE = 1 << 6;
        /// SERR# driver enable.
        const SERR = 1 << 8;
        /// Fast back-to-back enable.
        const FAST_BACK_TO_BACK = 1 << 9;
        /// Disable INTx# assertion.
        const INTERRUPT_DISABLE = 1 << 10;
    }
}

/// A decoded, sized base address register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bar {
    /// I/O space window.
    Io {
        /// First port.
        port: u32,
        /// Window size in bytes.
        size: u32,
    },
    /// Memory space window.
    Memory {
        /// Physical base address.
        addr: u64,
        /// Window size in bytes.
        size: u64,
        /// Whether this is a 64-bit BAR (it then also occupies the next BAR slot).
        is_64: bool,
        /// Whether the window is prefetchable.
        prefetchable: bool,
    },
}

impl Bar {
    /// The I/O port base if this is an I/O BAR that fits the 16-bit x86 port space.
    pub fn io_port(&self) -> Option<u16> {
        match *self {
            Bar::Io { port, .. } => u16::try_from(port).ok(),
            Bar::Memory { .. } => None,
        }
    }

    /// The physical base if this is a memory BAR.
    pub fn mem_addr(&self) -> Option<u64> {
        match *self {
            Bar::Memory { addr, .. } => Some(addr),
            Bar::Io { .. } => None,
        }
    }
}

/// Reads (vendor ID, device ID); vendor 0xFFFF means no function at that address.
pub fn vendor_device<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> (u16, u16) {
    let id = hal.pci_read32(pci, VENDOR_ID);
    (id as u16, (id >> 16) as u16)
}

/// Reads (class, subclass, programming interface); network controllers are class 0x02.
pub fn class<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> (u8, u8, u8) {
    (
        hal.pci_read8(pci, CLASS),
        hal.pci_read8(pci, SUBCLASS),
        hal.pci_read8(pci, PROG_IF),
    )
}

/// Reads the command register.
pub fn command<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> Command {
    Command::from_bits_retain(hal.pci_read16(pci, COMMAND))
}

/// Sets `bits` in the command register, leaving the others alone.
pub fn enable<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress, bits: Command) {
    let cmd = command(hal, pci);
    hal.pci_write16(pci, COMMAND, (cmd | bits).bits());
}

/// Clears `bits` in the command register, leaving the others alone.
pub fn disable<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress, bits: Command) {
    let cmd = command(hal, pci);
    hal.pci_write16(pci, COMMAND, (cmd - bits).bits());
}

/// Stops the function from mastering the bus: after this it can no longer DMA.
pub fn disable_bus_master<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) {
    disable(hal, pci, Command::BUS_MASTER);
}

/// Writes all ones to a BAR dword, reads the size mask back and restores the old value.
fn probe_mask<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress, offset: u8) -> (u32, u32) {
    let old = hal.pci_read32(pci, offset);
    hal.pci_write32(pci, offset, 0xFFFF_FFFF);
    let mask = hal.pci_read32(pci, offset);
    hal.pci_write32(pci, offset, old);
    (old, mask)
}

/// Decodes and sizes BAR `index` (0–5). Returns `None` for an unimplemented BAR, an index out
/// of range, or a 64-bit BAR that would run past BAR5. Decoding is switched off while sizing,
/// as PCI 3.0 §6.2.5.1 advises, and the command register restored afterwards.
pub fn read_bar<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress, index: u8) -> Option<Bar> {
    if index > 5 {
        return None;
    }
    let offset = BAR0 + 4 * index;
    let cmd = command(hal, pci);
    hal.pci_write16(
        pci,
        COMMAND,
        (cmd - (Command::IO_SPACE | Command::MEMORY_SPACE)).bits(),
    );
    let (old, mask) = probe_mask(hal, pci, offset);
    let bar = if old & 1 == 1 {
        let mut mask = mask & !0x3;
        if mask & 0xFFFF_0000 == 0 && mask != 0 {
            // A 16-bit I/O decoder: the upper half reads back as zero.
            mask |= 0xFFFF_0000;
        }
        let size = (!mask).wrapping_add(1);
        (mask != 0).then_some(Bar::Io {
            port: old & !0x3,
            size,
        })
    } else {
        let is_64 = (old >> 1) & 0x3 == 0x2;
        let prefetchable = old & 0x8 != 0;
        let (addr, mask) = if is_64 {
            if index == 5 {
                None
            } else {
                let (old_hi, mask_hi) = probe_mask(hal, pci, offset + 4);
                Some((
                    u64::from(old_hi) << 32 | u64::from(old & !0xF),
                    u64::from(mask_hi) << 32 | u64::from(mask & !0xF),
                ))
            }
        } else {
            Some((
                u64::from(old & !0xF),
                0xFFFF_FFFF_0000_0000 | u64::from(mask & !0xF),
            ))
        }?;
        (mask & 0xFFFF_FFFF != 0 || is_64 && mask != 0).then(|| Bar::Memory {
            addr,
            size: (!mask).wrapping_add(1),
            is_64,
            prefetchable,
        })
    };
    hal.pci_write16(pci, COMMAND, cmd.bits());
    bar
}

/// A capability found in the capability list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    /// Offset of the capability in configuration space.
    pub offset: u8,
    /// Capability ID (PCI 3.0 Appendix H).
    pub id: u8,
}

/// Walks a function's capability list without borrowing the `Hal` between steps.
#[derive(Clone, Debug)]
pub struct Capabilities {
    pci: PciAddress,
    next: u8,
    budget: u8,
}

impl Capabilities {
    /// Starts at the capability pointer, or yields nothing if the function has no list.
    pub fn new<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> Self {
        let next = if hal.pci_read16(pci, STATUS) & STATUS_CAP_LIST != 0 {
            hal.pci_read8(pci, CAP_PTR) & !0x3
        } else {
            0
        };
        // 48 capabilities of 4 bytes fill the 192 bytes after the header: more means a loop.
        Self {
            pci,
            next,
            budget: 48,
        }
    }

    /// The next capability, or `None` at the end of the list (or on a looping list).
    pub fn next<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Option<Capability> {
        if self.next < 0x40 || self.budget == 0 {
            return None;
        }
        self.budget -= 1;
        let offset = self.next;
        let id = hal.pci_read8(self.pci, offset);
        self.next = hal.pci_read8(self.pci, offset + 1) & !0x3;
        Some(Capability { offset, id })
    }
}

/// Calls `found` for every present function on every bus (brute force, mechanism-agnostic).
pub fn scan<H: Hal + ?Sized>(hal: &mut H, mut found: impl FnMut(&mut H, PciAddress)) {
    for bus in 0..=255u8 {
        for dev in 0..32u8 {
            let first = PciAddress::new(bus, dev, 0);
            if vendor_device(hal, first).0 == 0xFFFF {
                continue;
            }
            let funcs = if hal.pci_read8(first, HEADER_TYPE) & 0x80 != 0 {
                8
            } else {
                1
            };
            for func in 0..funcs {
                let pci = PciAddress::new(bus, dev, func);
                if vendor_device(hal, pci).0 != 0xFFFF {
                    found(hal, pci);
                }
            }
        }
    }
}
