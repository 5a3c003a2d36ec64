//! `drivers::Hal` for the BIOS core: port I/O, MMIO and DMA memory are physical = virtual (the
//! core runs flat, see docs/architecture.md); PCI configuration through mechanism #1; DMA memory
//! comes from a pool in the core's bss, which sits at the top of RAM in memory softpxe keeps.
use crate::port;
use crate::time;
use core::cell::UnsafeCell;
use softpxe_drivers::hal::{DmaRegion, Hal};
use softpxe_drivers::pci::PciAddress;

/// Bytes of DMA memory for NIC rings and buffers (one NIC needs 40 KiB at most today).
const POOL_SIZE: usize = 192 * 1024;

#[repr(C, align(4096))]
struct Pool(UnsafeCell<[u8; POOL_SIZE]>);
// SAFETY: one CPU, interrupts off; the pool is only reached through BiosHal's bounds-checked
// accessors and by bus-master devices.
unsafe impl Sync for Pool {}
static POOL: Pool = Pool(UnsafeCell::new([0; POOL_SIZE]));

/// The BIOS platform's hardware access.
pub struct BiosHal {
    next: usize,
}

impl BiosHal {
    /// There is one pool: create one `BiosHal` for the whole run.
    pub fn new() -> Self {
        BiosHal { next: 0 }
    }

    fn pool_base() -> usize {
        POOL.0.get() as usize
    }

    /// The address of `offset` in `region`, checked against its length.
    fn at(region: &DmaRegion, offset: usize, width: usize) -> usize {
        assert!(
            offset
                .checked_add(width)
                .is_some_and(|end| end <= region.len()),
            "DMA access outside its region"
        );
        region.cpu() + offset
    }
}

fn config_address(pci: PciAddress, offset: u8) -> u32 {
    0x8000_0000
        | (u32::from(pci.bus) << 16)
        | (u32::from(pci.dev & 31) << 11)
        | (u32::from(pci.func & 7) << 8)
        | u32::from(offset & 0xfc)
}

/// MMIO above 4 GiB cannot be reached without paging: reads float high, writes are dropped.
fn mmio_ptr(addr: u64) -> Option<usize> {
    usize::try_from(addr).ok()
}

impl Hal for BiosHal {
    fn inb(&mut self, p: u16) -> u8 {
        // SAFETY: drivers only touch the I/O BARs of the device they drive.
        unsafe { port::inb(p) }
    }
    fn inw(&mut self, p: u16) -> u16 {
        // SAFETY: as inb.
        unsafe { port::inw(p) }
    }
    fn inl(&mut self, p: u16) -> u32 {
        // SAFETY: as inb.
        unsafe { port::inl(p) }
    }
    fn outb(&mut self, p: u16, v: u8) {
        // SAFETY: as inb.
        unsafe { port::outb(p, v) }
    }
    fn outw(&mut self, p: u16, v: u16) {
        // SAFETY: as inb.
        unsafe { port::outw(p, v) }
    }
    fn outl(&mut self, p: u16, v: u32) {
        // SAFETY: as inb.
        unsafe { port::outl(p, v) }
    }

    fn mmio_read8(&mut self, addr: u64) -> u8 {
        // SAFETY: drivers read only their own memory BARs, which the BIOS mapped uncached.
        mmio_ptr(addr).map_or(0xff, |a| unsafe {
            core::ptr::read_volatile(a as *const u8)
        })
    }
    fn mmio_read16(&mut self, addr: u64) -> u16 {
        // SAFETY: as mmio_read8.
        mmio_ptr(addr).map_or(0xffff, |a| unsafe {
            core::ptr::read_volatile(a as *const u16)
        })
    }
    fn mmio_read32(&mut self, addr: u64) -> u32 {
        // SAFETY: as mmio_read8.
        mmio_ptr(addr).map_or(!0, |a| unsafe { core::ptr::read_volatile(a as *const u32) })
    }
    fn mmio_write8(&mut self, addr: u64, v: u8) {
        if let Some(a) = mmio_ptr(addr) {
            // SAFETY: drivers write only their own memory BARs.
            unsafe { core::ptr::write_volatile(a as *mut u8, v) }
        }
    }
    fn mmio_write16(&mut self, addr: u64, v: u16) {
        if let Some(a) = mmio_ptr(addr) {
            // SAFETY: as mmio_write8.
            unsafe { core::ptr::write_volatile(a as *mut u16, v) }
        }
    }
    fn mmio_write32(&mut self, addr: u64, v: u32) {
        if let Some(a) = mmio_ptr(addr) {
            // SAFETY: as mmio_write8.
            unsafe { core::ptr::write_volatile(a as *mut u32, v) }
        }
    }

    fn pci_read8(&mut self, pci: PciAddress, offset: u8) -> u8 {
        (self.pci_read32(pci, offset & !3) >> ((offset & 3) * 8)) as u8
    }
    fn pci_read16(&mut self, pci: PciAddress, offset: u8) -> u16 {
        (self.pci_read32(pci, offset & !3) >> ((offset & 2) * 8)) as u16
    }
    fn pci_read32(&mut self, pci: PciAddress, offset: u8) -> u32 {
        // SAFETY: configuration mechanism #1: select a dword, read it.
        unsafe {
            port::outl(0xcf8, config_address(pci, offset));
            port::inl(0xcfc)
        }
    }
    fn pci_write8(&mut self, pci: PciAddress, offset: u8, v: u8) {
        // SAFETY: mechanism #1; byte lanes of the data port address single bytes.
        unsafe {
            port::outl(0xcf8, config_address(pci, offset));
            port::outb(0xcfc + u16::from(offset & 3), v);
        }
    }
    fn pci_write16(&mut self, pci: PciAddress, offset: u8, v: u16) {
        // SAFETY: as pci_write8.
        unsafe {
            port::outl(0xcf8, config_address(pci, offset));
            port::outw(0xcfc + u16::from(offset & 2), v);
        }
    }
    fn pci_write32(&mut self, pci: PciAddress, offset: u8, v: u32) {
        // SAFETY: as pci_write8.
        unsafe {
            port::outl(0xcf8, config_address(pci, offset));
            port::outl(0xcfc, v);
        }
    }

    fn dma_alloc(&mut self, size: usize, align: usize) -> Option<DmaRegion> {
        let base = Self::pool_base();
        let align = align.max(16);
        let start = (base + self.next).checked_next_multiple_of(align)?;
        let end = start.checked_add(size)?;
        if end > base + POOL_SIZE {
            return None;
        }
        self.next = end - base;
        // SAFETY: [start, end) lies inside the pool and was never handed out before.
        unsafe { core::ptr::write_bytes(start as *mut u8, 0, size) };
        Some(DmaRegion::new(start as u64, start, size))
    }
    fn dma_read8(&mut self, r: &DmaRegion, o: usize) -> u8 {
        // SAFETY: `at` checked the access against the region, which lies in the pool.
        unsafe { core::ptr::read_volatile(Self::at(r, o, 1) as *const u8) }
    }
    fn dma_read16(&mut self, r: &DmaRegion, o: usize) -> u16 {
        // SAFETY: as dma_read8 (x86 allows unaligned accesses).
        unsafe { core::ptr::read_volatile(Self::at(r, o, 2) as *const u16) }
    }
    fn dma_read32(&mut self, r: &DmaRegion, o: usize) -> u32 {
        // SAFETY: as dma_read16.
        unsafe { core::ptr::read_volatile(Self::at(r, o, 4) as *const u32) }
    }
    fn dma_read64(&mut self, r: &DmaRegion, o: usize) -> u64 {
        let lo = self.dma_read32(r, o);
        let hi = self.dma_read32(r, o + 4);
        (u64::from(hi) << 32) | u64::from(lo)
    }
    fn dma_write8(&mut self, r: &DmaRegion, o: usize, v: u8) {
        // SAFETY: as dma_read8.
        unsafe { core::ptr::write_volatile(Self::at(r, o, 1) as *mut u8, v) }
    }
    fn dma_write16(&mut self, r: &DmaRegion, o: usize, v: u16) {
        // SAFETY: as dma_read8.
        unsafe { core::ptr::write_volatile(Self::at(r, o, 2) as *mut u16, v) }
    }
    fn dma_write32(&mut self, r: &DmaRegion, o: usize, v: u32) {
        // SAFETY: as dma_read8.
        unsafe { core::ptr::write_volatile(Self::at(r, o, 4) as *mut u32, v) }
    }
    fn dma_write64(&mut self, r: &DmaRegion, o: usize, v: u64) {
        self.dma_write32(r, o, v as u32);
        self.dma_write32(r, o + 4, (v >> 32) as u32);
    }
    fn dma_read_bytes(&mut self, r: &DmaRegion, o: usize, buf: &mut [u8]) {
        let a = Self::at(r, o, buf.len());
        // SAFETY: the source range was checked against the region; buf is ours.
        unsafe { core::ptr::copy_nonoverlapping(a as *const u8, buf.as_mut_ptr(), buf.len()) }
    }
    fn dma_write_bytes(&mut self, r: &DmaRegion, o: usize, data: &[u8]) {
        let a = Self::at(r, o, data.len());
        // SAFETY: the destination range was checked against the region.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), a as *mut u8, data.len()) }
    }
    fn dma_fence(&mut self) {
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        // SAFETY: a locked add of 0 to the top of the stack is a full barrier on every x86
        // (i586 has no mfence) and changes nothing.
        unsafe { core::arch::asm!("lock add dword ptr [esp], 0", options(nostack)) };
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    }

    fn delay_us(&mut self, us: u32) {
        time::delay_us(us);
    }
    fn now_us(&mut self) -> u64 {
        time::now_us()
    }
}
