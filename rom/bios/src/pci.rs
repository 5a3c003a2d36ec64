//! PCI configuration mechanism #1 (ports CF8h/CFCh; PCI Local Bus Specification 3.0, §3.2.2.3.2)
//! and a bus scan that lists every function.
use crate::port::{inl, outl};

/// A function's place on the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciAddress {
    pub bus: u8,
    pub dev: u8,
    pub func: u8,
}

impl core::fmt::Display for PciAddress {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.dev, self.func)
    }
}

/// Reads the configuration dword at `offset` (rounded down to 4).
pub fn read32(a: PciAddress, offset: u8) -> u32 {
    let addr = 0x8000_0000
        | (u32::from(a.bus) << 16)
        | (u32::from(a.dev & 31) << 11)
        | (u32::from(a.func & 7) << 8)
        | u32::from(offset & 0xfc);
    // SAFETY: mechanism #1: the address register selects a config dword, the data port reads it;
    // neither touches memory.
    unsafe {
        outl(0xcf8, addr);
        inl(0xcfc)
    }
}

/// One function found by [`scan`].
#[derive(Clone, Copy, Debug)]
pub struct PciFunction {
    pub addr: PciAddress,
    pub vendor: u16,
    pub device: u16,
    /// Base class, subclass.
    pub class: u8,
    pub subclass: u8,
}

impl PciFunction {
    pub fn is_network(&self) -> bool {
        self.class == 0x02
    }
}

/// Calls `f` for every function on buses 0-255 (brute force: finds devices behind bridges the
/// BIOS configured without walking the bridge tree).
pub fn scan(mut f: impl FnMut(&PciFunction)) {
    for bus in 0..=255u8 {
        for dev in 0..32u8 {
            let header = read32(PciAddress { bus, dev, func: 0 }, 0x0c);
            let functions = if read32(PciAddress { bus, dev, func: 0 }, 0) as u16 == 0xffff {
                0
            } else if header & 0x0080_0000 != 0 {
                8
            } else {
                1
            };
            for func in 0..functions {
                let addr = PciAddress { bus, dev, func };
                let id = read32(addr, 0);
                if id as u16 == 0xffff {
                    continue;
                }
                let class = read32(addr, 8);
                f(&PciFunction {
                    addr,
                    vendor: id as u16,
                    device: (id >> 16) as u16,
                    class: (class >> 24) as u8,
                    subclass: (class >> 16) as u8,
                });
            }
        }
    }
}
