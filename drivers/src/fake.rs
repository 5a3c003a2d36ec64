//! A fake [`Hal`] for host tests (layer `drivers/`): it records every register and PCI
//! configuration write, plays programmed or stored register values back, and backs DMA memory
//! with a host buffer at fake physical addresses (above 4 GiB unless a test asks otherwise, so a
//! driver that truncates addresses to 32 bits is caught). A [`FakeDevice`] can react to writes
//! and reads the way the emulated NIC would.

use std::collections::{BTreeMap, VecDeque};
use std::vec;
use std::vec::Vec;

use crate::hal::{DmaRegion, Hal};
use crate::pci::PciAddress;

/// Which register space an access went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Space {
    /// x86 I/O ports.
    Io,
    /// Memory-mapped I/O.
    Mmio,
}

/// One recorded side effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A port or MMIO write of `width` bytes.
    Write {
        /// Register space.
        space: Space,
        /// Port or physical address.
        addr: u64,
        /// Access width in bytes (1, 2, 4).
        width: u8,
        /// Value written.
        value: u64,
    },
    /// A PCI configuration write.
    PciWrite {
        /// Function written.
        pci: PciAddress,
        /// Register offset.
        offset: u8,
        /// Access width in bytes.
        width: u8,
        /// Value written.
        value: u32,
    },
    /// A `dma_fence` call.
    Fence,
}

/// One emulated PCI function: 256 bytes of configuration space plus BAR size masks.
#[derive(Clone, Debug)]
pub struct FakePciFunction {
    /// Configuration space bytes.
    pub config: [u8; 256],
    /// Writable-bit mask of each BAR dword (0 = unimplemented).
    pub bar_masks: [u32; 6],
}

impl FakePciFunction {
    /// A function with the given IDs and class code (base, sub, prog-if).
    pub fn new(vendor: u16, device: u16, class: [u8; 3]) -> Self {
        let mut f = Self {
            config: [0; 256],
            bar_masks: [0; 6],
        };
        f.config[0..2].copy_from_slice(&vendor.to_le_bytes());
        f.config[2..4].copy_from_slice(&device.to_le_bytes());
        f.config[0x0B] = class[0];
        f.config[0x0A] = class[1];
        f.config[0x09] = class[2];
        f
    }

    fn set_dword(&mut self, offset: usize, value: u32) {
        self.config[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    }

    /// Adds an I/O BAR of `size` bytes (a power of two) at `port`.
    pub fn with_io_bar(mut self, index: usize, port: u32, size: u32) -> Self {
        self.bar_masks[index] = !(size - 1) & !0x3;
        self.set_dword(0x10 + 4 * index, port | 1);
        self
    }

    /// Adds a 32-bit memory BAR of `size` bytes at `addr`.
    pub fn with_mem32_bar(mut self, index: usize, addr: u32, size: u32) -> Self {
        self.bar_masks[index] = !(size - 1) & !0xF;
        self.set_dword(0x10 + 4 * index, addr);
        self
    }

    /// Adds a 64-bit prefetchable memory BAR (two slots) of `size` bytes at `addr`.
    pub fn with_mem64_bar(mut self, index: usize, addr: u64, size: u64) -> Self {
        let mask = !(size - 1);
        self.bar_masks[index] = mask as u32 & !0xF;
        self.bar_masks[index + 1] = (mask >> 32) as u32;
        self.set_dword(0x10 + 4 * index, addr as u32 | 0x4 | 0x8);
        self.set_dword(0x10 + 4 * index + 4, (addr >> 32) as u32);
        self
    }

    /// Adds a capability with the given body (bytes after ID and next pointer) at `offset`,
    /// linked at the head of the list.
    pub fn with_capability(mut self, offset: u8, id: u8, body: &[u8]) -> Self {
        let o = usize::from(offset);
        self.config[o] = id;
        self.config[o + 1] = self.config[0x34];
        self.config[o + 2..o + 2 + body.len()].copy_from_slice(body);
        self.config[0x34] = offset;
        self.config[0x06] |= 0x10;
        self
    }

    fn write(&mut self, offset: u8, width: u8, value: u32) {
        let o = usize::from(offset);
        if (0x10..0x28).contains(&o) && width == 4 {
            let index = (o - 0x10) / 4;
            let old = u32::from_le_bytes(self.config[o..o + 4].try_into().unwrap_or_default());
            let mask = self.bar_masks[index];
            let keep = if index > 0 && self.bar_masks[index - 1] != 0 && self.is_mem64(index - 1) {
                0 // upper half of a 64-bit BAR: no type bits
            } else if old & 1 == 1 {
                0x3
            } else {
                0xF
            };
            let new = if mask == 0 {
                0
            } else {
                value & mask | old & keep
            };
            self.set_dword(o, new);
            return;
        }
        for i in 0..usize::from(width) {
            self.config[o + i] = (value >> (8 * i)) as u8;
        }
    }

    fn is_mem64(&self, index: usize) -> bool {
        let low = self.config[0x10 + 4 * index];
        low & 1 == 0 && (low >> 1) & 0x3 == 0x2
    }
}

/// Device-visible state: registers, DMA memory and configuration spaces.
#[derive(Debug, Default)]
pub struct Bus {
    regs: BTreeMap<(Space, u64), u8>,
    dma: Vec<u8>,
    dma_base: u64,
    pci: BTreeMap<PciAddress, FakePciFunction>,
}

impl Bus {
    /// The stored value of a register (little-endian bytes; unset bytes read as 0).
    pub fn reg(&self, space: Space, addr: u64, width: u8) -> u64 {
        (0..u64::from(width)).fold(0, |acc, i| {
            acc | u64::from(self.regs.get(&(space, addr + i)).copied().unwrap_or(0)) << (8 * i)
        })
    }

    /// Stores a register value (what the driver will read next, unless a device overrides).
    pub fn set_reg(&mut self, space: Space, addr: u64, width: u8, value: u64) {
        for i in 0..u64::from(width) {
            self.regs
                .insert((space, addr + i), (value >> (8 * i)) as u8);
        }
    }

    fn dma_index(&self, phys: u64, len: usize) -> usize {
        let start = phys
            .checked_sub(self.dma_base)
            .unwrap_or_else(|| panic!("DMA address {phys:#x} below fake DMA base"));
        let start = usize::try_from(start).expect("DMA offset fits usize");
        assert!(
            start + len <= self.dma.len(),
            "DMA access {phys:#x}+{len} out of range"
        );
        start
    }

    /// Device-side read of DMA memory at a physical address.
    pub fn dma_read(&self, phys: u64, buf: &mut [u8]) {
        let i = self.dma_index(phys, buf.len());
        buf.copy_from_slice(&self.dma[i..i + buf.len()]);
    }

    /// Device-side write of DMA memory at a physical address.
    pub fn dma_write(&mut self, phys: u64, data: &[u8]) {
        let i = self.dma_index(phys, data.len());
        self.dma[i..i + data.len()].copy_from_slice(data);
    }

    /// Device-side little-endian read of `N` bytes at a physical address.
    pub fn dma_le(&self, phys: u64, width: usize) -> u64 {
        let mut b = [0u8; 8];
        self.dma_read(phys, &mut b[..width]);
        u64::from_le_bytes(b)
    }

    /// Device-side little-endian write of the low `width` bytes of `value`.
    pub fn dma_set_le(&mut self, phys: u64, width: usize, value: u64) {
        self.dma_write(phys, &value.to_le_bytes()[..width]);
    }

    /// A function's configuration space, if present.
    pub fn pci(&self, pci: PciAddress) -> Option<&FakePciFunction> {
        self.pci.get(&pci)
    }
}

/// The emulated device behind a [`FakeHal`]: it sees every register access.
pub trait FakeDevice {
    /// Called after a register write has been stored on the bus.
    fn on_write(&mut self, bus: &mut Bus, space: Space, addr: u64, width: u8, value: u64) {
        let _ = (bus, space, addr, width, value);
    }
    /// Called before a register read; `Some` overrides the stored value.
    fn on_read(&mut self, bus: &mut Bus, space: Space, addr: u64, width: u8) -> Option<u64> {
        let _ = (bus, space, addr, width);
        None
    }
}

/// No device behaviour: registers are plain memory.
impl FakeDevice for () {}

/// The fake `Hal`.
#[derive(Debug)]
pub struct FakeHal<D: FakeDevice = ()> {
    /// Registers, DMA memory and configuration spaces.
    pub bus: Bus,
    /// The emulated device.
    pub device: D,
    /// Every write and fence, in order.
    pub log: Vec<Event>,
    scripted: BTreeMap<(Space, u64, u8), VecDeque<u64>>,
    now: u64,
}

/// Default fake DMA base: above 4 GiB, so 32-bit truncation shows up.
pub const DMA_BASE_HIGH: u64 = 0x1_2340_0000;
/// A fake DMA base below 4 GiB, for devices with 32-bit DMA.
pub const DMA_BASE_LOW: u64 = 0x0080_0000;

impl<D: FakeDevice> FakeHal<D> {
    /// A fake with `device` and DMA memory starting at `dma_base`.
    pub fn new(device: D, dma_base: u64) -> Self {
        Self {
            bus: Bus {
                dma_base,
                ..Bus::default()
            },
            device,
            log: Vec::new(),
            scripted: BTreeMap::new(),
            now: 0,
        }
    }

    /// Adds a PCI function.
    pub fn add_pci(&mut self, pci: PciAddress, function: FakePciFunction) {
        self.bus.pci.insert(pci, function);
    }

    /// Queues values the next reads of a register return, in order, before stored values.
    pub fn script_reads(&mut self, space: Space, addr: u64, width: u8, values: &[u64]) {
        self.scripted
            .entry((space, addr, width))
            .or_default()
            .extend(values.iter().copied());
    }

    /// All values written to one register, in order.
    pub fn writes_to(&self, space: Space, addr: u64) -> Vec<u64> {
        self.log
            .iter()
            .filter_map(|e| match *e {
                Event::Write {
                    space: s,
                    addr: a,
                    value,
                    ..
                } if s == space && a == addr => Some(value),
                _ => None,
            })
            .collect()
    }

    /// Index in the log of the first write of `value` to a register, if any.
    pub fn first_write(
        &self,
        space: Space,
        addr: u64,
        pred: impl Fn(u64) -> bool,
    ) -> Option<usize> {
        self.log.iter().position(|e| {
            matches!(*e, Event::Write { space: s, addr: a, value, .. }
                if s == space && a == addr && pred(value))
        })
    }

    /// Index in the log of the last write to a register, if any.
    pub fn last_write(&self, space: Space, addr: u64) -> Option<usize> {
        self.log.iter().rposition(
            |e| matches!(*e, Event::Write { space: s, addr: a, .. } if s == space && a == addr),
        )
    }

    /// Bytes of DMA memory at a physical address (test-side view).
    pub fn dma_bytes(&self, phys: u64, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.bus.dma_read(phys, &mut v);
        v
    }

    fn reg_read(&mut self, space: Space, addr: u64, width: u8) -> u64 {
        if let Some(v) = self
            .scripted
            .get_mut(&(space, addr, width))
            .and_then(VecDeque::pop_front)
        {
            return v;
        }
        if let Some(v) = self.device.on_read(&mut self.bus, space, addr, width) {
            return v;
        }
        self.bus.reg(space, addr, width)
    }

    fn reg_write(&mut self, space: Space, addr: u64, width: u8, value: u64) {
        self.log.push(Event::Write {
            space,
            addr,
            width,
            value,
        });
        self.bus.set_reg(space, addr, width, value);
        self.device
            .on_write(&mut self.bus, space, addr, width, value);
    }

    fn cfg_read(&self, pci: PciAddress, offset: u8, width: u8) -> u32 {
        match self.bus.pci.get(&pci) {
            None => u32::MAX >> (32 - 8 * u32::from(width)),
            Some(f) => (0..usize::from(width)).fold(0, |acc, i| {
                acc | u32::from(f.config[usize::from(offset) + i]) << (8 * i)
            }),
        }
    }

    fn cfg_write(&mut self, pci: PciAddress, offset: u8, width: u8, value: u32) {
        self.log.push(Event::PciWrite {
            pci,
            offset,
            width,
            value,
        });
        if let Some(f) = self.bus.pci.get_mut(&pci) {
            f.write(offset, width, value);
        }
    }

    fn region_phys(&self, region: &DmaRegion, offset: usize, len: usize) -> u64 {
        assert!(
            offset + len <= region.len(),
            "DMA access outside its region"
        );
        region.phys_at(offset)
    }
}

impl<D: FakeDevice> Hal for FakeHal<D> {
    fn inb(&mut self, port: u16) -> u8 {
        self.reg_read(Space::Io, port.into(), 1) as u8
    }
    fn inw(&mut self, port: u16) -> u16 {
        self.reg_read(Space::Io, port.into(), 2) as u16
    }
    fn inl(&mut self, port: u16) -> u32 {
        self.reg_read(Space::Io, port.into(), 4) as u32
    }
    fn outb(&mut self, port: u16, value: u8) {
        self.reg_write(Space::Io, port.into(), 1, value.into());
    }
    fn outw(&mut self, port: u16, value: u16) {
        self.reg_write(Space::Io, port.into(), 2, value.into());
    }
    fn outl(&mut self, port: u16, value: u32) {
        self.reg_write(Space::Io, port.into(), 4, value.into());
    }
    fn mmio_read8(&mut self, addr: u64) -> u8 {
        self.reg_read(Space::Mmio, addr, 1) as u8
    }
    fn mmio_read16(&mut self, addr: u64) -> u16 {
        self.reg_read(Space::Mmio, addr, 2) as u16
    }
    fn mmio_read32(&mut self, addr: u64) -> u32 {
        self.reg_read(Space::Mmio, addr, 4) as u32
    }
    fn mmio_write8(&mut self, addr: u64, value: u8) {
        self.reg_write(Space::Mmio, addr, 1, value.into());
    }
    fn mmio_write16(&mut self, addr: u64, value: u16) {
        self.reg_write(Space::Mmio, addr, 2, value.into());
    }
    fn mmio_write32(&mut self, addr: u64, value: u32) {
        self.reg_write(Space::Mmio, addr, 4, value.into());
    }
    fn pci_read8(&mut self, pci: PciAddress, offset: u8) -> u8 {
        self.cfg_read(pci, offset, 1) as u8
    }
    fn pci_read16(&mut self, pci: PciAddress, offset: u8) -> u16 {
        self.cfg_read(pci, offset, 2) as u16
    }
    fn pci_read32(&mut self, pci: PciAddress, offset: u8) -> u32 {
        self.cfg_read(pci, offset, 4)
    }
    fn pci_write8(&mut self, pci: PciAddress, offset: u8, value: u8) {
        self.cfg_write(pci, offset, 1, value.into());
    }
    fn pci_write16(&mut self, pci: PciAddress, offset: u8, value: u16) {
        self.cfg_write(pci, offset, 2, value.into());
    }
    fn pci_write32(&mut self, pci: PciAddress, offset: u8, value: u32) {
        self.cfg_write(pci, offset, 4, value);
    }
    fn dma_alloc(&mut self, size: usize, align: usize) -> Option<DmaRegion> {
        let end = self.bus.dma_base + self.bus.dma.len() as u64;
        let phys = end.next_multiple_of(align as u64);
        let new_len = usize::try_from(phys - self.bus.dma_base).ok()? + size;
        self.bus.dma.resize(new_len, 0);
        Some(DmaRegion::new(phys, 0, size))
    }
    fn dma_read8(&mut self, region: &DmaRegion, offset: usize) -> u8 {
        self.bus.dma_le(self.region_phys(region, offset, 1), 1) as u8
    }
    fn dma_read16(&mut self, region: &DmaRegion, offset: usize) -> u16 {
        self.bus.dma_le(self.region_phys(region, offset, 2), 2) as u16
    }
    fn dma_read32(&mut self, region: &DmaRegion, offset: usize) -> u32 {
        self.bus.dma_le(self.region_phys(region, offset, 4), 4) as u32
    }
    fn dma_read64(&mut self, region: &DmaRegion, offset: usize) -> u64 {
        self.bus.dma_le(self.region_phys(region, offset, 8), 8)
    }
    fn dma_write8(&mut self, region: &DmaRegion, offset: usize, value: u8) {
        let p = self.region_phys(region, offset, 1);
        self.bus.dma_set_le(p, 1, value.into());
    }
    fn dma_write16(&mut self, region: &DmaRegion, offset: usize, value: u16) {
        let p = self.region_phys(region, offset, 2);
        self.bus.dma_set_le(p, 2, value.into());
    }
    fn dma_write32(&mut self, region: &DmaRegion, offset: usize, value: u32) {
        let p = self.region_phys(region, offset, 4);
        self.bus.dma_set_le(p, 4, value.into());
    }
    fn dma_write64(&mut self, region: &DmaRegion, offset: usize, value: u64) {
        let p = self.region_phys(region, offset, 8);
        self.bus.dma_set_le(p, 8, value);
    }
    fn dma_read_bytes(&mut self, region: &DmaRegion, offset: usize, buf: &mut [u8]) {
        let p = self.region_phys(region, offset, buf.len());
        self.bus.dma_read(p, buf);
    }
    fn dma_write_bytes(&mut self, region: &DmaRegion, offset: usize, data: &[u8]) {
        let p = self.region_phys(region, offset, data.len());
        self.bus.dma_write(p, data);
    }
    fn dma_fence(&mut self) {
        self.log.push(Event::Fence);
    }
    fn delay_us(&mut self, us: u32) {
        self.now += u64::from(us);
    }
    fn now_us(&mut self) -> u64 {
        self.now += 1;
        self.now
    }
}
