//! The drivers' [`Hal`] on UEFI, one per NIC: configuration space through the function's PCI I/O
//! protocol, registers by port I/O and identity-mapped MMIO, DMA memory from AllocatePages below
//! 4 GiB (every driver can reach it; OVMF has no IOMMU by default, see docs/uefi.md), Stall for
//! delays and the TSC, calibrated against Stall once, for the clock.

use crate::{ffi, hw, pci_io::PciIo};
use softpxe_drivers::{DmaRegion, Hal, PciAddress};

/// DMA allocations a Hal remembers, so that an access through a forged region is refused.
const MAX_REGIONS: usize = 32;

/// TSC ticks per microsecond, measured by [`calibrate`] (0 until then).
static TSC_PER_US: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Measures the TSC against Stall: the median of five 4 ms windows, so one stall of the vCPU
/// (an emulator's host thread descheduled; one 10 ms window read anywhere from 2.6 to 4.4 GHz
/// under TCG) cannot skew the clock. Call once at start.
pub fn calibrate() -> u64 {
    const US: u64 = 4_000;
    let mut samples = [0u64; 5];
    for s in samples.iter_mut() {
        let t0 = hw::rdtsc();
        ffi::stall(US as usize);
        *s = (hw::rdtsc() - t0) / US;
    }
    samples.sort_unstable();
    let per_us = samples[samples.len() / 2].max(1);
    TSC_PER_US.store(per_us, core::sync::atomic::Ordering::Relaxed);
    per_us
}

/// Microseconds since an arbitrary start (TSC based).
pub fn now_us() -> u64 {
    hw::rdtsc()
        / TSC_PER_US
            .load(core::sync::atomic::Ordering::Relaxed)
            .max(1)
}

/// Hardware access for one PCI function.
pub struct EfiHal {
    pci: PciIo,
    addr: PciAddress,
    regions: [(u64, usize); MAX_REGIONS],
    n_regions: usize,
}

impl core::fmt::Debug for EfiHal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "EfiHal({})", self.addr)
    }
}

impl EfiHal {
    /// The Hal for the function at `addr` whose PCI I/O instance is `pci`.
    pub fn new(pci: PciIo, addr: PciAddress) -> Self {
        Self {
            pci,
            addr,
            regions: [(0, 0); MAX_REGIONS],
            n_regions: 0,
        }
    }

    /// The physical address of byte `offset..offset + size` of `region`; panics outside it or
    /// for a region this Hal did not allocate (the `Hal` contract).
    fn at(&self, region: &DmaRegion, offset: usize, size: usize) -> u64 {
        let ours = self.regions[..self.n_regions].iter().any(|&(start, len)| {
            region.phys() >= start && region.phys() + region.len() as u64 <= start + len as u64
        });
        assert!(
            ours,
            "softpxe: DMA access through a region this Hal did not allocate"
        );
        assert!(
            offset
                .checked_add(size)
                .is_some_and(|end| end <= region.len()),
            "softpxe: DMA access at {offset}+{size} outside a {}-byte region",
            region.len()
        );
        region.phys_at(offset)
    }

    fn cfg_ok(&self, pci: PciAddress) -> bool {
        pci == self.addr
    }
}

impl Hal for EfiHal {
    fn inb(&mut self, port: u16) -> u8 {
        hw::inb(port)
    }
    fn inw(&mut self, port: u16) -> u16 {
        hw::inw(port)
    }
    fn inl(&mut self, port: u16) -> u32 {
        hw::inl(port)
    }
    fn outb(&mut self, port: u16, value: u8) {
        hw::outb(port, value)
    }
    fn outw(&mut self, port: u16, value: u16) {
        hw::outw(port, value)
    }
    fn outl(&mut self, port: u16, value: u32) {
        hw::outl(port, value)
    }

    fn mmio_read8(&mut self, addr: u64) -> u8 {
        mmio::read(addr)
    }
    fn mmio_read16(&mut self, addr: u64) -> u16 {
        mmio::read(addr)
    }
    fn mmio_read32(&mut self, addr: u64) -> u32 {
        mmio::read(addr)
    }
    fn mmio_write8(&mut self, addr: u64, value: u8) {
        mmio::write(addr, value)
    }
    fn mmio_write16(&mut self, addr: u64, value: u16) {
        mmio::write(addr, value)
    }
    fn mmio_write32(&mut self, addr: u64, value: u32) {
        mmio::write(addr, value)
    }

    fn pci_read8(&mut self, pci: PciAddress, offset: u8) -> u8 {
        if !self.cfg_ok(pci) {
            return 0xFF;
        }
        self.pci.cfg_read(0, offset) as u8
    }
    fn pci_read16(&mut self, pci: PciAddress, offset: u8) -> u16 {
        if !self.cfg_ok(pci) {
            return 0xFFFF;
        }
        self.pci.cfg_read(1, offset) as u16
    }
    fn pci_read32(&mut self, pci: PciAddress, offset: u8) -> u32 {
        if !self.cfg_ok(pci) {
            return u32::MAX;
        }
        self.pci.cfg_read(2, offset)
    }
    fn pci_write8(&mut self, pci: PciAddress, offset: u8, value: u8) {
        if self.cfg_ok(pci) {
            self.pci.cfg_write(0, offset, value.into())
        }
    }
    fn pci_write16(&mut self, pci: PciAddress, offset: u8, value: u16) {
        if self.cfg_ok(pci) {
            self.pci.cfg_write(1, offset, value.into())
        }
    }
    fn pci_write32(&mut self, pci: PciAddress, offset: u8, value: u32) {
        if self.cfg_ok(pci) {
            self.pci.cfg_write(2, offset, value)
        }
    }

    fn dma_alloc(&mut self, size: usize, align: usize) -> Option<DmaRegion> {
        if self.n_regions == MAX_REGIONS || size == 0 || !align.is_power_of_two() {
            return None;
        }
        let extra = align.saturating_sub(4096);
        let bytes = size.checked_add(extra)?;
        let pages = bytes.div_ceil(4096);
        let base = ffi::alloc_pages_below_4g(pages)?;
        let phys = (base + extra as u64) & !(align as u64 - 1);
        let phys = if phys < base {
            phys + align as u64
        } else {
            phys
        };
        self.regions[self.n_regions] = (base, pages * 4096);
        self.n_regions += 1;
        Some(DmaRegion::new(phys, phys as usize, size))
    }
    fn dma_read8(&mut self, region: &DmaRegion, offset: usize) -> u8 {
        dma::read(self.at(region, offset, 1))
    }
    fn dma_read16(&mut self, region: &DmaRegion, offset: usize) -> u16 {
        let a = self.at(region, offset, 2);
        if a.is_multiple_of(2) {
            dma::read(a)
        } else {
            let mut b = [0u8; 2];
            self.dma_read_bytes(region, offset, &mut b);
            u16::from_le_bytes(b)
        }
    }
    fn dma_read32(&mut self, region: &DmaRegion, offset: usize) -> u32 {
        let a = self.at(region, offset, 4);
        if a.is_multiple_of(4) {
            dma::read(a)
        } else {
            let mut b = [0u8; 4];
            self.dma_read_bytes(region, offset, &mut b);
            u32::from_le_bytes(b)
        }
    }
    fn dma_read64(&mut self, region: &DmaRegion, offset: usize) -> u64 {
        let lo = self.dma_read32(region, offset);
        let hi = self.dma_read32(region, offset + 4);
        u64::from(lo) | u64::from(hi) << 32
    }
    fn dma_write8(&mut self, region: &DmaRegion, offset: usize, value: u8) {
        dma::write(self.at(region, offset, 1), value)
    }
    fn dma_write16(&mut self, region: &DmaRegion, offset: usize, value: u16) {
        let a = self.at(region, offset, 2);
        if a.is_multiple_of(2) {
            dma::write(a, value)
        } else {
            self.dma_write_bytes(region, offset, &value.to_le_bytes())
        }
    }
    fn dma_write32(&mut self, region: &DmaRegion, offset: usize, value: u32) {
        let a = self.at(region, offset, 4);
        if a.is_multiple_of(4) {
            dma::write(a, value)
        } else {
            self.dma_write_bytes(region, offset, &value.to_le_bytes())
        }
    }
    fn dma_write64(&mut self, region: &DmaRegion, offset: usize, value: u64) {
        self.dma_write32(region, offset, value as u32);
        self.dma_write32(region, offset + 4, (value >> 32) as u32);
    }
    fn dma_read_bytes(&mut self, region: &DmaRegion, offset: usize, buf: &mut [u8]) {
        let a = self.at(region, offset, buf.len());
        for (i, b) in buf.iter_mut().enumerate() {
            *b = dma::read(a + i as u64);
        }
    }
    fn dma_write_bytes(&mut self, region: &DmaRegion, offset: usize, data: &[u8]) {
        let a = self.at(region, offset, data.len());
        for (i, b) in data.iter().enumerate() {
            dma::write(a + i as u64, *b);
        }
    }
    fn dma_fence(&mut self) {
        hw::fence()
    }

    fn delay_us(&mut self, us: u32) {
        ffi::stall(us as usize)
    }
    fn now_us(&mut self) -> u64 {
        now_us()
    }
}

/// Device registers: the addresses come from the driver's own BARs.
mod mmio {
    #[allow(unsafe_code)]
    pub fn read<T: Copy>(addr: u64) -> T {
        // SAFETY: drivers pass addresses inside their device's memory BARs, which the
        // firmware assigned and identity-maps uncached.
        unsafe { crate::hw::read(addr) }
    }
    #[allow(unsafe_code)]
    pub fn write<T: Copy>(addr: u64, v: T) {
        // SAFETY: as `read`.
        unsafe { crate::hw::write(addr, v) }
    }
}

/// DMA memory: addresses checked by `EfiHal::at` to lie in pages this Hal allocated.
mod dma {
    #[allow(unsafe_code)]
    pub fn read<T: Copy>(addr: u64) -> T {
        // SAFETY: `EfiHal::at` checked the access lies in our own pages; callers pass naturally
        // aligned addresses for multi-byte T.
        unsafe { crate::hw::read(addr) }
    }
    #[allow(unsafe_code)]
    pub fn write<T: Copy>(addr: u64, v: T) {
        // SAFETY: as `read`.
        unsafe { crate::hw::write(addr, v) }
    }
}
