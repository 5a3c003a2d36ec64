//! Virtio PCI transports (layer `drivers/`): the legacy I/O-port register block of virtio 0.9.5
//! (virtio 1.0 §4.1.4.8) and the virtio 1.0 capability-described MMIO structures (§4.1.4).

use crate::hal::{poll_until, Hal};
use crate::nic::NicError;
use crate::pci::{self, Capabilities, PciAddress, CAP_ID_VENDOR};

/// Legacy: device (host) features, 32 bits.
pub const LEGACY_HOST_FEATURES: u16 = 0x00;
/// Legacy: driver (guest) features, 32 bits.
pub const LEGACY_GUEST_FEATURES: u16 = 0x04;
/// Legacy: queue page frame number (physical address >> 12), 32 bits.
pub const LEGACY_QUEUE_PFN: u16 = 0x08;
/// Legacy: queue size (read only), 16 bits.
pub const LEGACY_QUEUE_NUM: u16 = 0x0C;
/// Legacy: queue select, 16 bits.
pub const LEGACY_QUEUE_SEL: u16 = 0x0E;
/// Legacy: queue notify, 16 bits.
pub const LEGACY_QUEUE_NOTIFY: u16 = 0x10;
/// Legacy: device status, 8 bits.
pub const LEGACY_STATUS: u16 = 0x12;
/// Legacy: ISR status, 8 bits (read clears).
pub const LEGACY_ISR: u16 = 0x13;
/// Legacy: device-specific configuration (without MSI-X).
pub const LEGACY_DEVICE_CFG: u16 = 0x14;
/// Legacy: the PFN shift.
pub const LEGACY_PFN_SHIFT: u32 = 12;

/// `virtio_pci_cap.cfg_type`: common configuration.
pub const CAP_COMMON_CFG: u8 = 1;
/// `virtio_pci_cap.cfg_type`: notifications.
pub const CAP_NOTIFY_CFG: u8 = 2;
/// `virtio_pci_cap.cfg_type`: ISR status.
pub const CAP_ISR_CFG: u8 = 3;
/// `virtio_pci_cap.cfg_type`: device-specific configuration.
pub const CAP_DEVICE_CFG: u8 = 4;

/// Offsets in `struct virtio_pci_common_cfg` (virtio 1.0 §4.1.4.3).
pub mod common {
    /// Selects which 32 bits `DEVICE_FEATURE` shows.
    pub const DEVICE_FEATURE_SELECT: u64 = 0x00;
    /// 32 bits of the device's features.
    pub const DEVICE_FEATURE: u64 = 0x04;
    /// Selects which 32 bits `DRIVER_FEATURE` sets.
    pub const DRIVER_FEATURE_SELECT: u64 = 0x08;
    /// 32 bits of the driver's accepted features.
    pub const DRIVER_FEATURE: u64 = 0x0C;
    /// Device status, 8 bits.
    pub const DEVICE_STATUS: u64 = 0x14;
    /// Queue select, 16 bits.
    pub const QUEUE_SELECT: u64 = 0x16;
    /// Queue size, 16 bits (max on read; the driver may write a smaller one).
    pub const QUEUE_SIZE: u64 = 0x18;
    /// Queue enable, 16 bits.
    pub const QUEUE_ENABLE: u64 = 0x1C;
    /// Queue notify offset (in multiplier units), 16 bits.
    pub const QUEUE_NOTIFY_OFF: u64 = 0x1E;
    /// Descriptor table address, 64 bits.
    pub const QUEUE_DESC: u64 = 0x20;
    /// Available ring address, 64 bits.
    pub const QUEUE_DRIVER: u64 = 0x28;
    /// Used ring address, 64 bits.
    pub const QUEUE_DEVICE: u64 = 0x30;
}

const RESET_TIMEOUT_US: u64 = 100_000;

/// Where the modern structures live (physical addresses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModernRegs {
    /// Common configuration structure.
    pub common: u64,
    /// Notification area base.
    pub notify: u64,
    /// `notify_off_multiplier`.
    pub notify_mult: u32,
    /// ISR status byte.
    pub isr: u64,
    /// Device-specific configuration.
    pub device: u64,
}

impl ModernRegs {
    /// Finds the common, notify, ISR and device structures through the vendor capabilities.
    pub fn find<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> Result<Self, NicError> {
        let (mut common, mut notify, mut isr, mut device) = (None, None, None, None);
        let mut notify_mult = 0;
        let mut caps = Capabilities::new(hal, pci);
        while let Some(cap) = caps.next(hal) {
            if cap.id != CAP_ID_VENDOR {
                continue;
            }
            let cfg_type = hal.pci_read8(pci, cap.offset + 3);
            let bar = hal.pci_read8(pci, cap.offset + 4);
            let offset = u64::from(hal.pci_read32(pci, cap.offset + 8));
            let slot = match cfg_type {
                CAP_COMMON_CFG => &mut common,
                CAP_NOTIFY_CFG => {
                    notify_mult = hal.pci_read32(pci, cap.offset + 16);
                    &mut notify
                }
                CAP_ISR_CFG => &mut isr,
                CAP_DEVICE_CFG => &mut device,
                _ => continue,
            };
            // The first capability of each type is the preferred one (§4.1.4).
            if slot.is_none() {
                let base = pci::read_bar(hal, pci, bar)
                    .and_then(|b| b.mem_addr())
                    .ok_or(NicError::BadBar)?;
                *slot = Some(base + offset);
            }
        }
        match (common, notify, isr, device) {
            (Some(common), Some(notify), Some(isr), Some(device)) => Ok(Self {
                common,
                notify,
                notify_mult,
                isr,
                device,
            }),
            _ => Err(NicError::BadBar),
        }
    }
}

/// A virtio PCI transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Legacy (0.9.5) registers at an I/O port base.
    Legacy {
        /// I/O BAR0 base.
        io: u16,
    },
    /// Virtio 1.0 structures in memory BARs.
    Modern {
        /// Structure addresses.
        regs: ModernRegs,
        /// `queue_notify_off` of queues 0–2 (receive, transmit, control), read at set-up.
        notify_off: [u16; 3],
    },
}

impl Transport {
    /// Whether this is the 1.0 transport (which needs `VIRTIO_F_VERSION_1` and FEATURES_OK).
    pub fn is_modern(&self) -> bool {
        matches!(self, Transport::Modern { .. })
    }

    /// Reads the device status byte.
    pub fn status<H: Hal + ?Sized>(&self, hal: &mut H) -> u8 {
        match self {
            Transport::Legacy { io } => hal.inb(io + LEGACY_STATUS),
            Transport::Modern { regs, .. } => hal.mmio_read8(regs.common + common::DEVICE_STATUS),
        }
    }

    /// Writes the device status byte.
    pub fn set_status<H: Hal + ?Sized>(&self, hal: &mut H, status: u8) {
        match self {
            Transport::Legacy { io } => hal.outb(io + LEGACY_STATUS, status),
            Transport::Modern { regs, .. } => {
                hal.mmio_write8(regs.common + common::DEVICE_STATUS, status);
            }
        }
    }

    /// Resets the device (status 0), which also stops all its DMA; waits for it on 1.0.
    pub fn reset<H: Hal + ?Sized>(&self, hal: &mut H) -> Result<(), NicError> {
        self.set_status(hal, 0);
        if poll_until(hal, RESET_TIMEOUT_US, |hal| self.status(hal) == 0) {
            Ok(())
        } else {
            Err(NicError::ResetTimeout)
        }
    }

    /// The device's feature bits (legacy has only 32).
    pub fn device_features<H: Hal + ?Sized>(&self, hal: &mut H) -> u64 {
        match self {
            Transport::Legacy { io } => u64::from(hal.inl(io + LEGACY_HOST_FEATURES)),
            Transport::Modern { regs, .. } => {
                let mut features = 0;
                for half in 0..2u32 {
                    hal.mmio_write32(regs.common + common::DEVICE_FEATURE_SELECT, half);
                    let bits = hal.mmio_read32(regs.common + common::DEVICE_FEATURE);
                    features |= u64::from(bits) << (32 * half);
                }
                features
            }
        }
    }

    /// Writes the accepted feature bits.
    pub fn set_driver_features<H: Hal + ?Sized>(&self, hal: &mut H, features: u64) {
        match self {
            Transport::Legacy { io } => hal.outl(io + LEGACY_GUEST_FEATURES, features as u32),
            Transport::Modern { regs, .. } => {
                for half in 0..2u32 {
                    hal.mmio_write32(regs.common + common::DRIVER_FEATURE_SELECT, half);
                    let bits = (features >> (32 * half)) as u32;
                    hal.mmio_write32(regs.common + common::DRIVER_FEATURE, bits);
                }
            }
        }
    }

    /// Selects queue `q` and returns its maximum (legacy: fixed) size; 0 means absent.
    pub fn queue_max<H: Hal + ?Sized>(&self, hal: &mut H, q: u16) -> u16 {
        match self {
            Transport::Legacy { io } => {
                hal.outw(io + LEGACY_QUEUE_SEL, q);
                hal.inw(io + LEGACY_QUEUE_NUM)
            }
            Transport::Modern { regs, .. } => {
                hal.mmio_write16(regs.common + common::QUEUE_SELECT, q);
                hal.mmio_read16(regs.common + common::QUEUE_SIZE)
            }
        }
    }

    /// Tells the device where queue `q` (already selected by `queue_max`) lives and enables
    /// it. Legacy takes one page frame number for the whole queue; 1.0 takes three addresses
    /// and a size.
    pub fn queue_setup<H: Hal + ?Sized>(
        &mut self,
        hal: &mut H,
        q: u16,
        size: u16,
        desc: u64,
        avail: u64,
        used: u64,
    ) -> Result<(), NicError> {
        match self {
            Transport::Legacy { io } => {
                let pfn = u32::try_from(desc >> LEGACY_PFN_SHIFT)
                    .map_err(|_| NicError::DmaUnreachable)?;
                hal.outw(*io + LEGACY_QUEUE_SEL, q);
                hal.outl(*io + LEGACY_QUEUE_PFN, pfn);
            }
            Transport::Modern { regs, notify_off } => {
                let c = regs.common;
                hal.mmio_write16(c + common::QUEUE_SELECT, q);
                hal.mmio_write16(c + common::QUEUE_SIZE, size);
                for (reg, addr) in [
                    (common::QUEUE_DESC, desc),
                    (common::QUEUE_DRIVER, avail),
                    (common::QUEUE_DEVICE, used),
                ] {
                    hal.mmio_write32(c + reg, addr as u32);
                    hal.mmio_write32(c + reg + 4, (addr >> 32) as u32);
                }
                let off = hal.mmio_read16(c + common::QUEUE_NOTIFY_OFF);
                if let Some(slot) = notify_off.get_mut(usize::from(q)) {
                    *slot = off;
                }
                hal.mmio_write16(c + common::QUEUE_ENABLE, 1);
            }
        }
        Ok(())
    }

    /// Notifies the device that queue `q` has new available buffers.
    pub fn notify<H: Hal + ?Sized>(&self, hal: &mut H, q: u16) {
        match self {
            Transport::Legacy { io } => hal.outw(io + LEGACY_QUEUE_NOTIFY, q),
            Transport::Modern { regs, notify_off } => {
                let slot = notify_off.get(usize::from(q)).copied().unwrap_or(0);
                let off = u64::from(slot) * u64::from(regs.notify_mult);
                hal.mmio_write16(regs.notify + off, q);
            }
        }
    }

    /// Reads a byte of the device-specific configuration.
    pub fn config8<H: Hal + ?Sized>(&self, hal: &mut H, offset: u16) -> u8 {
        match self {
            Transport::Legacy { io } => hal.inb(io + LEGACY_DEVICE_CFG + offset),
            Transport::Modern { regs, .. } => hal.mmio_read8(regs.device + u64::from(offset)),
        }
    }

    /// Reads a little-endian u32 of the device-specific configuration.
    pub fn config32<H: Hal + ?Sized>(&self, hal: &mut H, offset: u16) -> u32 {
        match self {
            Transport::Legacy { io } => hal.inl(io + LEGACY_DEVICE_CFG + offset),
            Transport::Modern { regs, .. } => hal.mmio_read32(regs.device + u64::from(offset)),
        }
    }

    /// Reads a little-endian u16 of the device-specific configuration.
    pub fn config16<H: Hal + ?Sized>(&self, hal: &mut H, offset: u16) -> u16 {
        match self {
            Transport::Legacy { io } => hal.inw(io + LEGACY_DEVICE_CFG + offset),
            Transport::Modern { regs, .. } => hal.mmio_read16(regs.device + u64::from(offset)),
        }
    }
}
