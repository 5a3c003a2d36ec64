//! virtio-net driver (layer `drivers/`), written from the virtio 1.0 specification §5.1
//! (network device), §4.1 (PCI transport) and §2.4 (split virtqueues), and checked against
//! QEMU's `virtio-net-pci`: legacy (0.9.5, I/O BAR0) for 1af4:1000, virtio 1.0 (capabilities,
//! MMIO) for 1af4:1041. One receive and one transmit queue, 16 receive buffers and 8 transmit
//! slots, no offloads; negotiated are `VIRTIO_NET_F_MAC`, `VIRTIO_NET_F_STATUS`,
//! `VIRTIO_F_VERSION_1`, and for receive filtering (see [`ctrl`]) the control queue
//! (`VIRTIO_NET_F_CTRL_VQ`, `CTRL_RX`, `CTRL_RX_EXTRA`, `CTRL_MAC_ADDR`) and
//! `VIRTIO_NET_F_SPEED_DUPLEX` (link speed, 1.0 only) when the device offers them.
//!
//! Hand-written rather than the `virtio-drivers` crate: that crate's HAL hands out raw virtual
//! pointers to DMA memory (its `Hal::dma_alloc` returns `NonNull<u8>`), its network device keeps
//! buffers in `alloc` types, and it owns the PCI/MMIO access itself; this driver needs none of
//! that and stays inside our `Hal`, without alloc and without unsafe, in about 500 lines.

pub mod ctrl;
pub mod queue;
pub mod transport;

use crate::filter::RxFilter;
use crate::hal::{poll_until, DmaRegion, Hal};
use crate::nic::{check_station, check_tx_len, Nic, NicError};
use crate::pci::{self, Command, PciAddress, PciId};
use queue::{Desc, DescFlags, Layout, Virtqueue};
use transport::{ModernRegs, Transport};

/// Adapters this driver supports (the builder's adapter list reads it).
pub const PCI_IDS: &[PciId] = &[
    PciId::new(
        0x1AF4,
        0x1000,
        "virtio-net legacy/transitional (QEMU virtio-net-pci)",
    ),
    PciId::new(
        0x1AF4,
        0x1041,
        "virtio-net 1.0 (QEMU virtio-net-pci,disable-legacy=on)",
    ),
];

/// Device status: the guest noticed the device.
pub const STATUS_ACKNOWLEDGE: u8 = 1;
/// Device status: the guest has a driver.
pub const STATUS_DRIVER: u8 = 2;
/// Device status: the driver is ready.
pub const STATUS_DRIVER_OK: u8 = 4;
/// Device status: feature negotiation is complete (1.0 only).
pub const STATUS_FEATURES_OK: u8 = 8;
/// Device status: the driver gave up.
pub const STATUS_FAILED: u8 = 128;

/// Feature bit: the device config has a MAC address.
pub const F_MAC: u64 = 1 << 5;
/// Feature bit: the device config has a link status word.
pub const F_STATUS: u64 = 1 << 16;
/// Feature bit: there is a control virtqueue.
pub const F_CTRL_VQ: u64 = 1 << 17;
/// Feature bit: receive modes (promiscuous, all-multicast) and the MAC table.
pub const F_CTRL_RX: u64 = 1 << 18;
/// Feature bit: extra receive modes (no unicast, no broadcast, ...).
pub const F_CTRL_RX_EXTRA: u64 = 1 << 20;
/// Feature bit: the station address can be set through the control queue.
pub const F_CTRL_MAC_ADDR: u64 = 1 << 23;
/// Feature bit: virtio 1.0 (mandatory on the modern transport).
pub const F_VERSION_1: u64 = 1 << 32;
/// Feature bit: the device config has link speed and duplex.
pub const F_SPEED_DUPLEX: u64 = 1 << 63;
/// Offset of `virtio_net_config.speed` (Mb/s, 0xFFFFFFFF unknown).
const CONFIG_SPEED: u16 = 12;
/// `virtio_net_config.status` bit: link is up.
pub const NET_S_LINK_UP: u16 = 1;
/// Offset of `virtio_net_config.status` (after the 6-byte MAC).
const CONFIG_STATUS: u16 = 6;

/// `virtio_net_hdr` length without `num_buffers` (legacy, no MRG_RXBUF).
pub const HDR_LEN_LEGACY: usize = 10;
/// `virtio_net_hdr` length with VERSION_1 (`num_buffers` always present).
pub const HDR_LEN_V1: usize = 12;

/// Receive queue index.
pub const RX_QUEUE: u16 = 0;
/// Transmit queue index.
pub const TX_QUEUE: u16 = 1;
/// Control queue index (2: no `VIRTIO_NET_F_MQ`).
pub const CTRL_QUEUE: u16 = 2;
/// Receive buffers posted (and the 1.0 queue size we ask for).
pub const RX_BUFS: u16 = 16;
/// Transmit slots; each uses two descriptors (header, frame).
pub const TX_SLOTS: u16 = 8;
/// Queue size asked for on 1.0 (legacy queues have the device's fixed size).
pub const QUEUE_SIZE: u16 = 16;
const BUF_SIZE: usize = 2048;
const TX_BUF_BASE: usize = RX_BUFS as usize * BUF_SIZE;
const TX_HDR_BASE: usize = TX_BUF_BASE + TX_SLOTS as usize * BUF_SIZE;
const HDR_STRIDE: usize = 16;
const CTRL_BUF_BASE: usize = TX_HDR_BASE + TX_SLOTS as usize * HDR_STRIDE;
const BUF_REGION: usize = CTRL_BUF_BASE + ctrl::CMD_AREA;
const TX_TIMEOUT_US: u64 = 50_000;

/// DMA memory, allocated on the first open and kept.
#[derive(Clone, Copy, Debug)]
struct Memory {
    rx: DmaRegion,
    tx: DmaRegion,
    bufs: DmaRegion,
    rx_size: u16,
    tx_size: u16,
    /// The control queue, when `VIRTIO_NET_F_CTRL_VQ` was negotiated.
    ctrl: Option<(DmaRegion, u16)>,
}

/// A virtio-net device.
#[derive(Debug)]
pub struct VirtioNet {
    pci: PciAddress,
    transport: Transport,
    mac: [u8; 6],
    station: [u8; 6],
    filter: RxFilter,
    features: u64,
    mem: Option<Memory>,
    rxq: Option<Virtqueue>,
    txq: Option<Virtqueue>,
    ctrlq: Option<Virtqueue>,
    tx_next: u16,
    tx_busy: [bool; TX_SLOTS as usize],
    rx_dropped: u32,
}

impl VirtioNet {
    /// Takes the device at `pci`: legacy I/O BAR0 for device ID 0x1000, the 1.0 capabilities
    /// otherwise; enables decoding and reads the MAC from the device configuration.
    pub fn new<H: Hal + ?Sized>(hal: &mut H, pci: PciAddress) -> Result<Self, NicError> {
        let (_, device) = pci::vendor_device(hal, pci);
        let transport = if device == 0x1000 {
            let io = pci::read_bar(hal, pci, 0)
                .and_then(|bar| bar.io_port())
                .filter(|&port| port != 0)
                .ok_or(NicError::BadBar)?;
            pci::enable(hal, pci, Command::IO_SPACE);
            Transport::Legacy { io }
        } else {
            let regs = ModernRegs::find(hal, pci)?;
            pci::enable(hal, pci, Command::MEMORY_SPACE);
            Transport::Modern {
                regs,
                notify_off: [0; 3],
            }
        };
        let mut mac = [0; 6];
        for (i, byte) in (0u16..).zip(mac.iter_mut()) {
            *byte = transport.config8(hal, i);
        }
        Ok(Self {
            pci,
            transport,
            mac,
            station: mac,
            filter: RxFilter::new(),
            features: 0,
            mem: None,
            rxq: None,
            txq: None,
            ctrlq: None,
            tx_next: 0,
            tx_busy: [false; TX_SLOTS as usize],
            rx_dropped: 0,
        })
    }

    fn hdr_len(&self) -> usize {
        if self.features & F_VERSION_1 != 0 {
            HDR_LEN_V1
        } else {
            HDR_LEN_LEGACY
        }
    }

    /// Queue sizes: legacy queues have the device's size, 1.0 ones are cut to [`QUEUE_SIZE`].
    fn queue_size<H: Hal + ?Sized>(&self, hal: &mut H, q: u16, need: u16) -> Result<u16, NicError> {
        let max = self.transport.queue_max(hal, q);
        let size = if self.transport.is_modern() {
            max.min(QUEUE_SIZE)
        } else {
            max
        };
        if size < need {
            return Err(NicError::DeviceRefused);
        }
        Ok(size)
    }

    fn memory<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<Memory, NicError> {
        let rx_size = self.queue_size(hal, RX_QUEUE, RX_BUFS)?;
        let tx_size = self.queue_size(hal, TX_QUEUE, 2 * TX_SLOTS)?;
        let ctrl_size = if self.features & F_CTRL_VQ != 0 {
            Some(self.queue_size(hal, CTRL_QUEUE, 3)?)
        } else {
            None
        };
        let mut alloc = |size: usize| {
            hal.dma_alloc(size, queue::QUEUE_ALIGN)
                .ok_or(NicError::NoDmaMemory)
        };
        let mut mem = match self.mem {
            Some(mem) if mem.rx_size == rx_size && mem.tx_size == tx_size => mem,
            Some(_) => return Err(NicError::DeviceRefused),
            None => Memory {
                rx: alloc(Layout::new(rx_size).total)?,
                tx: alloc(Layout::new(tx_size).total)?,
                bufs: alloc(BUF_REGION)?,
                rx_size,
                tx_size,
                ctrl: None,
            },
        };
        match (mem.ctrl, ctrl_size) {
            (None, Some(size)) => {
                mem.ctrl = Some((alloc(Layout::new(size).total)?, size));
            }
            (Some((_, had)), Some(size)) if had != size => return Err(NicError::DeviceRefused),
            _ => {}
        }
        self.mem = Some(mem);
        Ok(mem)
    }

    fn negotiate<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        let t = self.transport;
        t.reset(hal)?;
        t.set_status(hal, STATUS_ACKNOWLEDGE);
        t.set_status(hal, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        let offered = t.device_features(hal);
        let mut wanted = F_MAC | F_STATUS | F_CTRL_VQ | F_CTRL_RX | F_CTRL_RX_EXTRA;
        wanted |= F_CTRL_MAC_ADDR;
        if t.is_modern() {
            if offered & F_VERSION_1 == 0 {
                return Err(NicError::DeviceRefused);
            }
            wanted |= F_VERSION_1 | F_SPEED_DUPLEX;
        }
        let mut features = offered & wanted;
        // Feature dependencies (virtio 1.0 §5.1.3.1): the control features need the queue,
        // the extra receive modes need the basic ones.
        if features & F_CTRL_VQ == 0 {
            features &= !(F_CTRL_RX | F_CTRL_RX_EXTRA | F_CTRL_MAC_ADDR);
        }
        if features & F_CTRL_RX == 0 {
            features &= !F_CTRL_RX_EXTRA;
        }
        self.features = features;
        t.set_driver_features(hal, self.features);
        if t.is_modern() {
            t.set_status(hal, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
            if t.status(hal) & STATUS_FEATURES_OK == 0 {
                return Err(NicError::DeviceRefused);
            }
        }
        Ok(())
    }

    fn setup_queues<H: Hal + ?Sized>(&mut self, hal: &mut H, mem: Memory) -> Result<(), NicError> {
        let bufs = mem.bufs;
        let mut rxq = Virtqueue::new(hal, mem.rx, mem.rx_size);
        for i in 0..RX_BUFS {
            let desc = Desc {
                addr: bufs.phys_at(usize::from(i) * BUF_SIZE),
                len: BUF_SIZE as u32,
                flags: DescFlags::WRITE.bits(),
                next: 0,
            };
            rxq.set_desc(hal, i, desc);
            rxq.push_avail(hal, i);
        }
        let txq = Virtqueue::new(hal, mem.tx, mem.tx_size);
        hal.dma_write_bytes(&bufs, TX_HDR_BASE, &[0; TX_SLOTS as usize * HDR_STRIDE]);
        let ctrlq = mem
            .ctrl
            .map(|(region, size)| Virtqueue::new(hal, region, size));
        for (q, vq) in [
            (RX_QUEUE, Some(&rxq)),
            (TX_QUEUE, Some(&txq)),
            (CTRL_QUEUE, ctrlq.as_ref()),
        ] {
            let Some(vq) = vq else { continue };
            let (desc, avail, used) = (vq.desc_phys(), vq.avail_phys(), vq.used_phys());
            self.transport
                .queue_setup(hal, q, vq.size(), desc, avail, used)?;
        }
        self.rxq = Some(rxq);
        self.txq = Some(txq);
        self.ctrlq = ctrlq;
        self.tx_next = 0;
        self.tx_busy = [false; TX_SLOTS as usize];
        Ok(())
    }

    /// Marks finished transmit slots free again.
    fn reclaim_tx<H: Hal + ?Sized>(&mut self, hal: &mut H) {
        if let Some(txq) = self.txq.as_mut() {
            while let Some(used) = txq.pop_used(hal) {
                if let Some(busy) = self.tx_busy.get_mut(used.id as usize / 2) {
                    *busy = false;
                }
            }
        }
    }

    fn fail<H: Hal + ?Sized>(&mut self, hal: &mut H, err: NicError) -> NicError {
        let status = self.transport.status(hal);
        self.transport.set_status(hal, status | STATUS_FAILED);
        err
    }
}

impl Nic for VirtioNet {
    fn open<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        let decode = if self.transport.is_modern() {
            Command::MEMORY_SPACE
        } else {
            Command::IO_SPACE
        };
        pci::enable(hal, self.pci, decode | Command::BUS_MASTER);
        self.rxq = None;
        self.txq = None;
        let result = self.negotiate(hal).and_then(|()| {
            let mem = self.memory(hal)?;
            self.setup_queues(hal, mem)
        });
        if let Err(err) = result {
            return Err(self.fail(hal, err));
        }
        let t = self.transport;
        let status = t.status(hal);
        t.set_status(hal, status | STATUS_DRIVER_OK);
        t.notify(hal, RX_QUEUE);
        // The control queue works only after DRIVER_OK. A device that refuses a filter command
        // still works: the software filter in `receive` keeps the semantics.
        let _ = self.program_filter(hal);
        Ok(())
    }

    fn close<H: Hal + ?Sized>(&mut self, hal: &mut H) {
        // Reset stops the device's use of the queues; a timeout still clears bus mastering.
        let _ = self.transport.reset(hal);
        pci::disable_bus_master(hal, self.pci);
        self.rxq = None;
        self.txq = None;
        self.ctrlq = None;
    }

    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn station(&self) -> [u8; 6] {
        self.station
    }

    fn set_station<H: Hal + ?Sized>(&mut self, hal: &mut H, mac: [u8; 6]) -> Result<(), NicError> {
        check_station(&mac)?;
        self.station = mac;
        if self.rxq.is_some() {
            self.program_filter(hal)?;
        }
        Ok(())
    }

    fn filter(&self) -> RxFilter {
        self.filter
    }

    fn set_filter<H: Hal + ?Sized>(
        &mut self,
        hal: &mut H,
        filter: &RxFilter,
    ) -> Result<(), NicError> {
        self.filter = *filter;
        if self.rxq.is_some() {
            self.program_filter(hal)?;
        }
        Ok(())
    }

    fn link_speed_bps<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Option<u64> {
        if self.features & F_SPEED_DUPLEX == 0 || !self.link_up(hal) {
            return None;
        }
        match self.transport.config32(hal, CONFIG_SPEED) {
            0 | u32::MAX => None,
            mbps => Some(u64::from(mbps) * 1_000_000),
        }
    }

    fn rx_ring_len(&self) -> u16 {
        RX_BUFS
    }

    fn tx_ring_len(&self) -> u16 {
        TX_SLOTS
    }

    fn link_up<H: Hal + ?Sized>(&mut self, hal: &mut H) -> bool {
        if self.features & F_STATUS == 0 {
            return true;
        }
        self.transport.config16(hal, CONFIG_STATUS) & NET_S_LINK_UP != 0
    }

    fn transmit<H: Hal + ?Sized>(&mut self, hal: &mut H, frame: &[u8]) -> Result<(), NicError> {
        check_tx_len(frame)?;
        let bufs = match (self.txq.is_some(), self.mem) {
            (true, Some(mem)) => mem.bufs,
            _ => return Err(NicError::NotOpen),
        };
        let slot = self.tx_next;
        let free = poll_until(hal, TX_TIMEOUT_US, |hal| {
            self.reclaim_tx(hal);
            !self.tx_busy[usize::from(slot)]
        });
        if !free {
            return Err(NicError::TxTimeout);
        }
        let hdr = TX_HDR_BASE + usize::from(slot) * HDR_STRIDE;
        let buf = TX_BUF_BASE + usize::from(slot) * BUF_SIZE;
        hal.dma_write_bytes(&bufs, buf, frame);
        let head = 2 * slot;
        let hdr_len = self.hdr_len() as u32;
        let Some(txq) = self.txq.as_mut() else {
            return Err(NicError::NotOpen);
        };
        // The header (all zero: no offloads) goes in its own descriptor, as legacy devices
        // without VIRTIO_F_ANY_LAYOUT require.
        txq.set_desc(
            hal,
            head,
            Desc {
                addr: bufs.phys_at(hdr),
                len: hdr_len,
                flags: DescFlags::NEXT.bits(),
                next: head + 1,
            },
        );
        txq.set_desc(
            hal,
            head + 1,
            Desc {
                addr: bufs.phys_at(buf),
                len: frame.len() as u32,
                flags: 0,
                next: 0,
            },
        );
        txq.push_avail(hal, head);
        self.tx_busy[usize::from(slot)] = true;
        self.tx_next = (slot + 1) % TX_SLOTS;
        self.transport.notify(hal, TX_QUEUE);
        Ok(())
    }

    fn receive<H: Hal + ?Sized>(&mut self, hal: &mut H, buf: &mut [u8]) -> Option<usize> {
        let bufs = self.mem?.bufs;
        let hdr_len = self.hdr_len();
        let rxq = self.rxq.as_mut()?;
        // Bounded: each pass takes one used buffer; the device refills only what we give back.
        for _ in 0..2 * RX_BUFS {
            let used = rxq.pop_used(hal)?;
            let id = u16::try_from(used.id).ok().filter(|&id| id < RX_BUFS);
            let Some(id) = id else {
                // Not one of ours: the device is confused; nothing can be given back.
                self.rx_dropped = self.rx_dropped.wrapping_add(1);
                continue;
            };
            let len = (used.len as usize).saturating_sub(hdr_len);
            let mut good =
                used.len as usize > hdr_len && len <= buf.len() && len <= BUF_SIZE - hdr_len;
            if good {
                hal.dma_read_bytes(&bufs, usize::from(id) * BUF_SIZE + hdr_len, &mut buf[..len]);
                // What the device could not be told to drop (see the `ctrl` module).
                good = self.filter.accepts(&self.station, &buf[..len]);
            } else {
                self.rx_dropped = self.rx_dropped.wrapping_add(1);
            }
            rxq.push_avail(hal, id);
            self.transport.notify(hal, RX_QUEUE);
            if good {
                return Some(len);
            }
        }
        None
    }

    fn rx_dropped(&self) -> u32 {
        self.rx_dropped
    }
}
