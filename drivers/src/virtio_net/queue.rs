//! Split virtqueue (layer `drivers/`): descriptor table, available and used rings in one DMA
//! region, laid out as virtio 1.0 §2.4.2 "Legacy Interfaces: A Note on Virtqueue Layout" asks
//! (used ring on the next 4096-byte boundary), which also satisfies the 1.0 alignment rules.

use bitflags::bitflags;
use core::mem::{offset_of, size_of};

use crate::hal::{DmaRegion, Hal};

/// Alignment of the used ring (and of the queue) in the legacy layout.
pub const QUEUE_ALIGN: usize = 4096;

bitflags! {
    /// `virtq_desc.flags`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct DescFlags: u16 {
        /// The buffer continues in `next`.
        const NEXT = 1;
        /// The device writes this buffer (receive).
        const WRITE = 2;
        /// The buffer holds a table of indirect descriptors.
        const INDIRECT = 4;
    }
}

/// `virtq_avail.flags` bit: the driver does not want interrupts.
pub const AVAIL_F_NO_INTERRUPT: u16 = 1;

/// `struct virtq_desc` (virtio 1.0 §2.4.5).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Desc {
    /// Buffer physical address.
    pub addr: u64,
    /// Buffer length.
    pub len: u32,
    /// [`DescFlags`].
    pub flags: u16,
    /// Next descriptor index when `NEXT` is set.
    pub next: u16,
}
const _: () = assert!(size_of::<Desc>() == 16);

/// `struct virtq_used_elem` (virtio 1.0 §2.4.8).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsedElem {
    /// Head descriptor index of the used chain.
    pub id: u32,
    /// Bytes the device wrote into the chain.
    pub len: u32,
}
const _: () = assert!(size_of::<UsedElem>() == 8);

/// Byte offsets of the three parts of a queue of `size` entries, and its total size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Offset of the available ring.
    pub avail: usize,
    /// Offset of the used ring.
    pub used: usize,
    /// Total bytes.
    pub total: usize,
}

impl Layout {
    /// The legacy layout for `size` entries.
    pub const fn new(size: u16) -> Self {
        let n = size as usize;
        let avail = n * size_of::<Desc>();
        let used = (avail + 6 + 2 * n).next_multiple_of(QUEUE_ALIGN);
        let total = (used + 6 + n * size_of::<UsedElem>()).next_multiple_of(QUEUE_ALIGN);
        Self { avail, used, total }
    }
}

/// One virtqueue as the driver sees it.
#[derive(Clone, Copy, Debug)]
pub struct Virtqueue {
    region: DmaRegion,
    size: u16,
    layout: Layout,
    avail_idx: u16,
    last_used: u16,
}

impl Virtqueue {
    /// A queue of `size` entries in `region` (at least `Layout::new(size).total` bytes, zeroed
    /// here). Interrupts are suppressed.
    pub fn new<H: Hal + ?Sized>(hal: &mut H, region: DmaRegion, size: u16) -> Self {
        let layout = Layout::new(size);
        for off in (0..layout.total).step_by(4) {
            hal.dma_write32(&region, off, 0);
        }
        hal.dma_write16(&region, layout.avail, AVAIL_F_NO_INTERRUPT);
        Self {
            region,
            size,
            layout,
            avail_idx: 0,
            last_used: 0,
        }
    }

    /// Queue size (entries).
    pub fn size(&self) -> u16 {
        self.size
    }

    /// Physical address of the descriptor table.
    pub fn desc_phys(&self) -> u64 {
        self.region.phys()
    }

    /// Physical address of the available (driver) ring.
    pub fn avail_phys(&self) -> u64 {
        self.region.phys_at(self.layout.avail)
    }

    /// Physical address of the used (device) ring.
    pub fn used_phys(&self) -> u64 {
        self.region.phys_at(self.layout.used)
    }

    /// Writes descriptor `index`.
    pub fn set_desc<H: Hal + ?Sized>(&self, hal: &mut H, index: u16, desc: Desc) {
        let base = usize::from(index) * size_of::<Desc>();
        hal.dma_write64(&self.region, base + offset_of!(Desc, addr), desc.addr);
        hal.dma_write32(&self.region, base + offset_of!(Desc, len), desc.len);
        hal.dma_write16(&self.region, base + offset_of!(Desc, flags), desc.flags);
        hal.dma_write16(&self.region, base + offset_of!(Desc, next), desc.next);
    }

    /// Offers the chain starting at `head` to the device (the caller then notifies).
    pub fn push_avail<H: Hal + ?Sized>(&mut self, hal: &mut H, head: u16) {
        let slot = usize::from(self.avail_idx % self.size);
        hal.dma_write16(&self.region, self.layout.avail + 4 + 2 * slot, head);
        // The ring entry must be visible before the index that publishes it.
        hal.dma_fence();
        self.avail_idx = self.avail_idx.wrapping_add(1);
        hal.dma_write16(&self.region, self.layout.avail + 2, self.avail_idx);
        hal.dma_fence();
    }

    /// Takes the next chain the device has finished with, if any.
    pub fn pop_used<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Option<UsedElem> {
        let used_idx = hal.dma_read16(&self.region, self.layout.used + 2);
        if used_idx == self.last_used {
            return None;
        }
        // Read the element only after seeing the index that published it.
        hal.dma_fence();
        let slot = usize::from(self.last_used % self.size);
        let base = self.layout.used + 4 + slot * size_of::<UsedElem>();
        let elem = UsedElem {
            id: hal.dma_read32(&self.region, base + offset_of!(UsedElem, id)),
            len: hal.dma_read32(&self.region, base + offset_of!(UsedElem, len)),
        };
        self.last_used = self.last_used.wrapping_add(1);
        Some(elem)
    }
}
