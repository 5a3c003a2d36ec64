//! The hardware abstraction every driver uses (layer `drivers/`): port I/O, MMIO, PCI
//! configuration space, DMA-able memory, barriers and time.
//!
//! The firmware implements [`Hal`] once per platform (bare i586 BIOS, x86_64 UEFI); host tests
//! use the fake in `fake.rs`. Drivers never hold raw pointers: DMA memory is a [`DmaRegion`]
//! handle and its bytes are read and written through the `dma_*` methods, which the real
//! implementation performs as volatile accesses so that descriptors the NIC writes are always
//! re-read from memory.

use crate::pci::PciAddress;

/// A block of physically contiguous memory that a bus-master device can reach.
///
/// It is a handle, not a pointer: drivers use [`DmaRegion::phys`] to program the device and the
/// `Hal::dma_*` methods to touch the bytes. Offsets are in bytes from the start of the region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaRegion {
    phys: u64,
    cpu: usize,
    len: usize,
}

impl DmaRegion {
    /// Describes a region; only a `Hal` implementation calls this, from `dma_alloc`.
    ///
    /// `cpu` is whatever the implementation needs to find the bytes again (the virtual address
    /// on real firmware, an index in the fake); drivers never look at it.
    pub const fn new(phys: u64, cpu: usize, len: usize) -> Self {
        Self { phys, cpu, len }
    }

    /// Physical (bus) address of the first byte.
    pub const fn phys(&self) -> u64 {
        self.phys
    }

    /// Physical (bus) address of the byte at `offset`.
    pub const fn phys_at(&self, offset: usize) -> u64 {
        self.phys + offset as u64
    }

    /// The implementation's own locator for the bytes (see [`DmaRegion::new`]).
    pub const fn cpu(&self) -> usize {
        self.cpu
    }

    /// Length in bytes.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether the region has no bytes.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the whole region lies below 4 GiB (for devices with 32-bit DMA addresses).
    pub const fn below_4g(&self) -> bool {
        self.phys + self.len as u64 <= 1 << 32
    }
}

/// Hardware access for drivers. Object safe, so `&mut dyn Hal` works as well as generics.
///
/// Multi-byte values are little-endian in device registers and in DMA memory, as on x86.
/// Every `dma_*` access must lie inside the region; implementations panic otherwise.
/// Register and DMA accesses are volatile and happen in program order relative to each other
/// on x86 for uncached MMIO and port I/O; [`Hal::dma_fence`] additionally orders plain DMA
/// memory accesses against the register access that hands descriptors to a device.
pub trait Hal {
    /// Reads an 8-bit I/O port.
    fn inb(&mut self, port: u16) -> u8;
    /// Reads a 16-bit I/O port.
    fn inw(&mut self, port: u16) -> u16;
    /// Reads a 32-bit I/O port.
    fn inl(&mut self, port: u16) -> u32;
    /// Writes an 8-bit I/O port.
    fn outb(&mut self, port: u16, value: u8);
    /// Writes a 16-bit I/O port.
    fn outw(&mut self, port: u16, value: u16);
    /// Writes a 32-bit I/O port.
    fn outl(&mut self, port: u16, value: u32);

    /// Reads 8 bits of memory-mapped I/O at a physical address.
    fn mmio_read8(&mut self, addr: u64) -> u8;
    /// Reads 16 bits of memory-mapped I/O at a physical address.
    fn mmio_read16(&mut self, addr: u64) -> u16;
    /// Reads 32 bits of memory-mapped I/O at a physical address.
    fn mmio_read32(&mut self, addr: u64) -> u32;
    /// Writes 8 bits of memory-mapped I/O at a physical address.
    fn mmio_write8(&mut self, addr: u64, value: u8);
    /// Writes 16 bits of memory-mapped I/O at a physical address.
    fn mmio_write16(&mut self, addr: u64, value: u16);
    /// Writes 32 bits of memory-mapped I/O at a physical address.
    fn mmio_write32(&mut self, addr: u64, value: u32);

    /// Reads a byte of a function's PCI configuration space.
    fn pci_read8(&mut self, pci: PciAddress, offset: u8) -> u8;
    /// Reads a 16-bit word of configuration space (`offset` 2-aligned).
    fn pci_read16(&mut self, pci: PciAddress, offset: u8) -> u16;
    /// Reads a 32-bit dword of configuration space (`offset` 4-aligned).
    fn pci_read32(&mut self, pci: PciAddress, offset: u8) -> u32;
    /// Writes a byte of configuration space.
    fn pci_write8(&mut self, pci: PciAddress, offset: u8, value: u8);
    /// Writes a 16-bit word of configuration space (`offset` 2-aligned).
    fn pci_write16(&mut self, pci: PciAddress, offset: u8, value: u16);
    /// Writes a 32-bit dword of configuration space (`offset` 4-aligned).
    fn pci_write32(&mut self, pci: PciAddress, offset: u8, value: u32);

    /// Allocates zeroed, physically contiguous DMA memory of `size` bytes whose physical
    /// address is a multiple of `align` (a power of two). There is no free: drivers allocate
    /// once and reuse the memory across `close`/`open`.
    fn dma_alloc(&mut self, size: usize, align: usize) -> Option<DmaRegion>;
    /// Reads a byte of DMA memory (volatile).
    fn dma_read8(&mut self, region: &DmaRegion, offset: usize) -> u8;
    /// Reads a little-endian u16 of DMA memory (volatile).
    fn dma_read16(&mut self, region: &DmaRegion, offset: usize) -> u16;
    /// Reads a little-endian u32 of DMA memory (volatile).
    fn dma_read32(&mut self, region: &DmaRegion, offset: usize) -> u32;
    /// Reads a little-endian u64 of DMA memory (volatile; may be two 32-bit reads, low first).
    fn dma_read64(&mut self, region: &DmaRegion, offset: usize) -> u64;
    /// Writes a byte of DMA memory (volatile).
    fn dma_write8(&mut self, region: &DmaRegion, offset: usize, value: u8);
    /// Writes a little-endian u16 of DMA memory (volatile).
    fn dma_write16(&mut self, region: &DmaRegion, offset: usize, value: u16);
    /// Writes a little-endian u32 of DMA memory (volatile).
    fn dma_write32(&mut self, region: &DmaRegion, offset: usize, value: u32);
    /// Writes a little-endian u64 of DMA memory (volatile; may be two 32-bit writes, low first).
    fn dma_write64(&mut self, region: &DmaRegion, offset: usize, value: u64);
    /// Copies `buf.len()` bytes out of DMA memory starting at `offset`.
    fn dma_read_bytes(&mut self, region: &DmaRegion, offset: usize, buf: &mut [u8]);
    /// Copies `data` into DMA memory starting at `offset`.
    fn dma_write_bytes(&mut self, region: &DmaRegion, offset: usize, data: &[u8]);
    /// Full barrier between DMA memory accesses and device register accesses (both ways).
    /// On x86 a compiler fence plus a serialising locked instruction is enough; i586 has no
    /// `mfence`.
    fn dma_fence(&mut self);

    /// Busy-waits at least `us` microseconds.
    fn delay_us(&mut self, us: u32);
    /// Monotonic microseconds since an arbitrary start; drivers use it for timeouts.
    fn now_us(&mut self) -> u64;
}

/// Polls `done` until it returns true or `timeout_us` has passed; returns whether it finished.
/// Checks once more after the deadline so a slow `Hal` cannot cause a false timeout.
pub fn poll_until<H: Hal + ?Sized>(
    hal: &mut H,
    timeout_us: u64,
    mut done: impl FnMut(&mut H) -> bool,
) -> bool {
    let start = hal.now_us();
    loop {
        if done(hal) {
            return true;
        }
        if hal.now_us().saturating_sub(start) > timeout_us {
            return done(hal);
        }
        hal.delay_us(10);
    }
}
