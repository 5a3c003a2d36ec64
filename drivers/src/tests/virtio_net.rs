//! virtio-net against a fake device with both transports, behaving like QEMU's
//! virtio-net-pci: legacy queues of fixed size 256 at PFN << 12, 1.0 queues sized by the
//! driver; FEATURES_OK refused without VERSION_1; TX processed on notify; RX into the next
//! available buffer.

use std::vec::Vec;

use super::frame;
use crate::fake::{Bus, FakeDevice, FakeHal, FakePciFunction, Space, DMA_BASE_HIGH};
use crate::nic::{Nic, NicError};
use crate::pci::{self, Command, PciAddress, CAP_ID_VENDOR};
use crate::virtio_net::queue::Layout;
use crate::virtio_net::transport::*;
use crate::virtio_net::*;

const PCI: PciAddress = PciAddress::new(0, 5, 0);
const IO: u16 = 0xC040;
const BAR4: u64 = 0x8_0000_0000;
const COMMON: u64 = BAR4;
const DEVICE: u64 = BAR4 + 0x2000;
const NOTIFY: u64 = BAR4 + 0x3000;
const NOTIFY_MULT: u32 = 4;
const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x11, 0x22, 0x33];
const LEGACY_QUEUE_SIZE: u16 = 256;

#[derive(Default)]
struct Queue {
    size: u16,
    desc: u64,
    avail: u64,
    used: u64,
    last_avail: u16,
    used_idx: u16,
}

#[derive(Default)]
struct Dev {
    modern: bool,
    offered: u64,
    accepted: u64,
    status: u8,
    feature_sel: u32,
    driver_sel: u32,
    sel: u16,
    queues: [Queue; 3],
    notified: Vec<u16>,
    /// Control commands received: (class, command, data).
    ctrl: Vec<(u8, u8, Vec<u8>)>,
    /// Answer control commands with VIRTIO_NET_ERR.
    ctrl_refuse: bool,
    sent: Vec<Vec<u8>>,
    tx_stalled: bool,
}

impl Dev {
    fn hdr_len(&self) -> usize {
        if self.modern {
            HDR_LEN_V1
        } else {
            HDR_LEN_LEGACY
        }
    }

    fn reset(&mut self) {
        self.status = 0;
        self.accepted = 0;
        self.queues = Default::default();
    }

    /// Takes the next available chain of queue `q`: (head, [(addr, len)]).
    fn pop_avail(&mut self, bus: &Bus, q: usize) -> Option<(u16, Vec<(u64, u32)>)> {
        let vq = &mut self.queues[q];
        if vq.desc == 0 {
            return None;
        }
        let avail_idx = bus.dma_le(vq.avail + 2, 2) as u16;
        if avail_idx == vq.last_avail {
            return None;
        }
        let slot = u64::from(vq.last_avail % vq.size);
        let head = bus.dma_le(vq.avail + 4 + 2 * slot, 2) as u16;
        vq.last_avail = vq.last_avail.wrapping_add(1);
        let mut chain = Vec::new();
        let mut i = head;
        loop {
            let d = vq.desc + 16 * u64::from(i);
            chain.push((bus.dma_le(d, 8), bus.dma_le(d + 8, 4) as u32));
            if bus.dma_le(d + 12, 2) & 1 == 0 {
                break;
            }
            i = bus.dma_le(d + 14, 2) as u16;
        }
        Some((head, chain))
    }

    fn push_used(&mut self, bus: &mut Bus, q: usize, head: u16, len: u32) {
        let vq = &mut self.queues[q];
        let at = vq.used + 4 + 8 * u64::from(vq.used_idx % vq.size);
        bus.dma_set_le(at, 4, head.into());
        bus.dma_set_le(at + 4, 4, len.into());
        vq.used_idx = vq.used_idx.wrapping_add(1);
        bus.dma_set_le(vq.used + 2, 2, vq.used_idx.into());
    }

    fn control(&mut self, bus: &mut Bus) {
        while let Some((head, chain)) = self.pop_avail(bus, 2) {
            assert_eq!(chain.len(), 3, "header, data, ack");
            let mut hdr = [0u8; 2];
            bus.dma_read(chain[0].0, &mut hdr);
            let mut data = std::vec![0; chain[1].1 as usize];
            bus.dma_read(chain[1].0, &mut data);
            assert_eq!(chain[2].1, 1, "one ack byte");
            bus.dma_write(chain[2].0, &[u8::from(self.ctrl_refuse)]);
            self.ctrl.push((hdr[0], hdr[1], data));
            self.push_used(bus, 2, head, 1);
        }
    }

    fn notify(&mut self, bus: &mut Bus, q: u16) {
        self.notified.push(q);
        if q == CTRL_QUEUE && self.status & STATUS_DRIVER_OK != 0 {
            return self.control(bus);
        }
        if q != TX_QUEUE || self.tx_stalled || self.status & STATUS_DRIVER_OK == 0 {
            return;
        }
        while let Some((head, chain)) = self.pop_avail(bus, 1) {
            assert_eq!(chain[0].1 as usize, self.hdr_len(), "header descriptor");
            let mut hdr = std::vec![0xAA; self.hdr_len()];
            bus.dma_read(chain[0].0, &mut hdr);
            assert!(hdr.iter().all(|&b| b == 0), "no offload requested");
            let mut data = Vec::new();
            for &(addr, len) in &chain[1..] {
                let mut part = std::vec![0; len as usize];
                bus.dma_read(addr, &mut part);
                data.extend(part);
            }
            self.sent.push(data);
            self.push_used(bus, 1, head, 0);
        }
    }

    fn legacy_write(&mut self, bus: &mut Bus, reg: u16, value: u64) {
        match reg {
            LEGACY_GUEST_FEATURES => self.accepted = value,
            LEGACY_QUEUE_SEL => self.sel = value as u16,
            LEGACY_QUEUE_PFN => {
                let size = if self.sel == 2 { 64 } else { LEGACY_QUEUE_SIZE };
                let vq = &mut self.queues[usize::from(self.sel)];
                let layout = Layout::new(size);
                vq.size = size;
                vq.desc = value << 12;
                vq.avail = vq.desc + layout.avail as u64;
                vq.used = vq.desc + layout.used as u64;
            }
            LEGACY_QUEUE_NOTIFY => self.notify(bus, value as u16),
            LEGACY_STATUS if value == 0 => self.reset(),
            LEGACY_STATUS => self.status = value as u8,
            _ => {}
        }
    }

    fn modern_write(&mut self, bus: &mut Bus, addr: u64, value: u64) {
        if addr >= NOTIFY {
            let q = ((addr - NOTIFY) / u64::from(NOTIFY_MULT)) as u16;
            assert_eq!(q, value as u16, "notify address matches the queue");
            return self.notify(bus, q);
        }
        let sel = usize::from(self.sel);
        let half = |old: u64, hi: bool| {
            if hi {
                old & 0xFFFF_FFFF | value << 32
            } else {
                old & !0xFFFF_FFFF | value
            }
        };
        match addr - COMMON {
            common::DEVICE_FEATURE_SELECT => self.feature_sel = value as u32,
            common::DRIVER_FEATURE_SELECT => self.driver_sel = value as u32,
            common::DRIVER_FEATURE => self.accepted = half(self.accepted, self.driver_sel == 1),
            common::DEVICE_STATUS if value == 0 => self.reset(),
            common::DEVICE_STATUS => {
                let mut status = value as u8;
                if status & STATUS_FEATURES_OK != 0 && self.accepted & F_VERSION_1 == 0 {
                    status &= !STATUS_FEATURES_OK;
                }
                self.status = status;
            }
            common::QUEUE_SELECT => self.sel = value as u16,
            common::QUEUE_SIZE => self.queues[sel].size = value as u16,
            a @ (0x20 | 0x24) => self.queues[sel].desc = half(self.queues[sel].desc, a == 0x24),
            a @ (0x28 | 0x2C) => self.queues[sel].avail = half(self.queues[sel].avail, a == 0x2C),
            a @ (0x30 | 0x34) => self.queues[sel].used = half(self.queues[sel].used, a == 0x34),
            _ => {}
        }
    }
}

impl FakeDevice for Dev {
    fn on_write(&mut self, bus: &mut Bus, space: Space, addr: u64, _: u8, value: u64) {
        match space {
            Space::Io => self.legacy_write(bus, (addr - u64::from(IO)) as u16, value),
            Space::Mmio => self.modern_write(bus, addr, value),
        }
    }

    fn on_read(&mut self, _: &mut Bus, space: Space, addr: u64, _: u8) -> Option<u64> {
        let mac = |i: u64| u64::from(MAC[i as usize]);
        match space {
            Space::Io => match (addr - u64::from(IO)) as u16 {
                LEGACY_HOST_FEATURES => Some(self.offered & 0xFFFF_FFFF),
                LEGACY_QUEUE_NUM => Some(match self.sel {
                    0 | 1 => LEGACY_QUEUE_SIZE.into(),
                    2 if self.offered & F_CTRL_VQ != 0 => 64,
                    _ => 0,
                }),
                LEGACY_STATUS => Some(self.status.into()),
                r if (LEGACY_DEVICE_CFG..LEGACY_DEVICE_CFG + 6).contains(&r) => {
                    Some(mac(u64::from(r - LEGACY_DEVICE_CFG)))
                }
                r if r == LEGACY_DEVICE_CFG + 6 => Some(1),
                _ => None,
            },
            Space::Mmio if (DEVICE..DEVICE + 6).contains(&addr) => Some(mac(addr - DEVICE)),
            Space::Mmio if addr == DEVICE + 6 => Some(1),
            Space::Mmio => match addr - COMMON {
                common::DEVICE_FEATURE => {
                    Some(self.offered >> (32 * self.feature_sel) & 0xFFFF_FFFF)
                }
                common::DEVICE_STATUS => Some(self.status.into()),
                common::QUEUE_SIZE => Some(match self.queues[usize::from(self.sel)].size {
                    0 => 256,
                    n => n.into(),
                }),
                common::QUEUE_NOTIFY_OFF => Some(self.sel.into()),
                _ => None,
            },
        }
    }
}

/// Delivers a frame into the next available receive buffer, as the device does.
fn inject(hal: &mut FakeHal<Dev>, data: &[u8]) {
    let dev = &mut hal.device;
    let (head, chain) = dev
        .pop_avail(&hal.bus, 0)
        .expect("a receive buffer is available");
    let hdr_len = dev.hdr_len();
    assert!(chain[0].1 as usize >= hdr_len + data.len());
    let mut bytes = std::vec![0u8; hdr_len];
    if dev.modern {
        bytes[10] = 1; // num_buffers
    }
    bytes.extend_from_slice(data);
    hal.bus.dma_write(chain[0].0, &bytes);
    dev.push_used(&mut hal.bus, 0, head, bytes.len() as u32);
}

fn cap(cfg_type: u8, offset: u32, length: u32, mult: Option<u32>) -> Vec<u8> {
    let cap_len = if mult.is_some() { 20 } else { 16 };
    let mut body = std::vec![cap_len, cfg_type, 4, 0, 0, 0];
    body.extend(offset.to_le_bytes());
    body.extend(length.to_le_bytes());
    if let Some(mult) = mult {
        body.extend(mult.to_le_bytes());
    }
    body
}

fn setup(modern: bool) -> (FakeHal<Dev>, VirtioNet) {
    let csum = 1 << 0;
    let offered = F_MAC | F_STATUS | csum | if modern { F_VERSION_1 } else { 0 };
    let dev = Dev {
        modern,
        offered,
        ..Dev::default()
    };
    let mut hal = FakeHal::new(dev, DMA_BASE_HIGH);
    let f = if modern {
        let notify = cap(CAP_NOTIFY_CFG, 0x3000, 0x1000, Some(NOTIFY_MULT));
        FakePciFunction::new(0x1AF4, 0x1041, [2, 0, 0])
            .with_mem64_bar(4, BAR4, 0x4000)
            .with_capability(0x70, CAP_ID_VENDOR, &notify)
            .with_capability(
                0x60,
                CAP_ID_VENDOR,
                &cap(CAP_DEVICE_CFG, 0x2000, 0x1000, None),
            )
            .with_capability(0x50, CAP_ID_VENDOR, &cap(CAP_ISR_CFG, 0x1000, 0x1000, None))
            .with_capability(0x40, CAP_ID_VENDOR, &cap(CAP_COMMON_CFG, 0, 0x1000, None))
    } else {
        FakePciFunction::new(0x1AF4, 0x1000, [2, 0, 0]).with_io_bar(0, IO.into(), 0x20)
    };
    hal.add_pci(PCI, f);
    let nic = VirtioNet::new(&mut hal, PCI).expect("probe");
    (hal, nic)
}

fn opened(modern: bool) -> (FakeHal<Dev>, VirtioNet) {
    let (mut hal, mut nic) = setup(modern);
    nic.open(&mut hal).expect("open");
    (hal, nic)
}

#[test]
fn both_transports_read_the_mac_and_negotiate_only_what_is_needed() {
    for modern in [false, true] {
        let (mut hal, nic) = opened(modern);
        assert_eq!(nic.mac(), MAC);
        let want = F_MAC | F_STATUS | if modern { F_VERSION_1 } else { 0 };
        assert_eq!(hal.device.accepted, want, "modern: {modern}");
        let ok = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK;
        assert_eq!(hal.device.status & ok, ok);
        assert_eq!(hal.device.status & STATUS_FEATURES_OK != 0, modern);
        let decode = if modern {
            Command::MEMORY_SPACE
        } else {
            Command::IO_SPACE
        };
        assert!(pci::command(&mut hal, PCI).contains(decode | Command::BUS_MASTER));
        let size = if modern {
            QUEUE_SIZE
        } else {
            LEGACY_QUEUE_SIZE
        };
        assert_eq!(hal.device.queues[0].size, size);
        // Queues live above 4 GiB (64-bit addresses through the whole path).
        assert!(hal.device.queues[1].desc >= DMA_BASE_HIGH);
        // All receive buffers were offered, and the device told.
        let avail_idx = hal.bus.dma_le(hal.device.queues[0].avail + 2, 2);
        assert_eq!(avail_idx, u64::from(RX_BUFS));
        assert_eq!(hal.device.notified, [RX_QUEUE]);
    }
}

#[test]
fn legacy_reset_comes_first_and_the_queue_pfn_is_page_aligned() {
    let (hal, _nic) = opened(false);
    let status = hal.writes_to(Space::Io, u64::from(IO + LEGACY_STATUS));
    assert_eq!(status[..3], [0, 1, 3]);
    let pfns = hal.writes_to(Space::Io, u64::from(IO + LEGACY_QUEUE_PFN));
    assert_eq!(pfns.len(), 2);
    assert_eq!(pfns[0] << 12, hal.device.queues[0].desc);
}

#[test]
fn modern_device_without_version_1_is_refused() {
    let (mut hal, mut nic) = setup(true);
    hal.device.offered &= !F_VERSION_1;
    assert_eq!(nic.open(&mut hal), Err(NicError::DeviceRefused));
    assert_ne!(hal.device.status & STATUS_FAILED, 0);
}

#[test]
fn transmit_hands_header_and_frame_to_the_tx_queue() {
    for modern in [false, true] {
        let (mut hal, mut nic) = opened(modern);
        let f = frame(42, 5);
        nic.transmit(&mut hal, &f).unwrap();
        assert_eq!(hal.device.sent, std::slice::from_ref(&f));
        assert_eq!(hal.device.notified.last(), Some(&TX_QUEUE));
        // Many more than the slots: completed slots are reclaimed and reused.
        for i in 0..40u8 {
            nic.transmit(&mut hal, &frame(100 + usize::from(i), i))
                .unwrap();
        }
        assert_eq!(hal.device.sent.len(), 41);
        assert_eq!(hal.device.sent[40], frame(139, 39));
    }
}

#[test]
fn transmit_times_out_when_the_device_keeps_every_slot() {
    let (mut hal, mut nic) = opened(true);
    hal.device.tx_stalled = true;
    for i in 0..TX_SLOTS as u8 {
        nic.transmit(&mut hal, &frame(60, i)).unwrap();
    }
    assert_eq!(
        nic.transmit(&mut hal, &frame(60, 99)),
        Err(NicError::TxTimeout)
    );
}

#[test]
fn receive_returns_frames_in_order_and_recycles_buffers_past_the_ring_end() {
    for modern in [false, true] {
        let (mut hal, mut nic) = opened(modern);
        let mut buf = [0u8; 1600];
        assert_eq!(nic.receive(&mut hal, &mut buf), None);
        let mut seed = 0u8;
        // 16 buffers; ring of 16 (1.0) or 256 (legacy): indices run past both ring ends.
        let mut batches = std::vec![16usize, 5, 16, 1, 1, 3];
        batches.extend([16; 16]);
        for batch in batches {
            let first = seed;
            for _ in 0..batch {
                inject(&mut hal, &frame(60 + usize::from(seed) * 5, seed));
                seed = seed.wrapping_add(1);
            }
            let mut s = first;
            for _ in 0..batch {
                let len = nic.receive(&mut hal, &mut buf).expect("frame");
                let want = frame(60 + usize::from(s) * 5, s);
                assert_eq!(&buf[..len], &want[..], "modern {modern}");
                s = s.wrapping_add(1);
            }
            assert_eq!(nic.receive(&mut hal, &mut buf), None);
        }
        assert!(
            hal.device.queues[0].used_idx > 256,
            "used index wrapped the legacy ring too"
        );
        assert_eq!(nic.rx_dropped(), 0);
    }
}

#[test]
fn oversized_frames_are_dropped_and_their_buffer_recycled() {
    let (mut hal, mut nic) = opened(false);
    inject(&mut hal, &frame(1500, 1));
    inject(&mut hal, &frame(100, 2));
    let mut small = [0u8; 200];
    assert_eq!(nic.receive(&mut hal, &mut small), Some(100));
    assert_eq!(&small[..100], &frame(100, 2)[..]);
    assert_eq!(nic.rx_dropped(), 1);
    let avail_idx = hal.bus.dma_le(hal.device.queues[0].avail + 2, 2);
    assert_eq!(avail_idx, u64::from(RX_BUFS) + 2);
}

#[test]
fn link_state_comes_from_the_config_status_word() {
    let (mut hal, mut nic) = opened(true);
    assert!(nic.link_up(&mut hal));
}

#[test]
fn close_resets_the_device_and_clears_bus_mastering() {
    for modern in [false, true] {
        let (mut hal, mut nic) = opened(modern);
        let q0 = hal.device.queues[0].desc;
        nic.close(&mut hal);
        assert_eq!(hal.device.status, 0);
        assert_eq!(hal.device.queues[0].desc, 0, "reset forgot the queues");
        assert!(!pci::command(&mut hal, PCI).contains(Command::BUS_MASTER));
        assert_eq!(
            nic.transmit(&mut hal, &frame(60, 0)),
            Err(NicError::NotOpen)
        );
        let mut buf = [0u8; 64];
        assert_eq!(nic.receive(&mut hal, &mut buf), None);
        nic.open(&mut hal).unwrap();
        assert_eq!(hal.device.queues[0].desc, q0, "memory is reused on reopen");
    }
}

// --- receive filter and station address (control queue) --------------------------------------

use super::flt;
use crate::filter::RxFilter;
use crate::virtio_net::ctrl::*;
use std::vec;

const GROUP_A: [u8; 6] = [0x01, 0x00, 0x5E, 0x01, 0x02, 0x03];
const GROUP_B: [u8; 6] = [0x01, 0x00, 0x5E, 0x01, 0x02, 0x04];
const NEW_MAC: [u8; 6] = [0x02, 0x50, 0x58, 0x45, 0x00, 0x01];
const CTRL_ALL: u64 = F_CTRL_VQ | F_CTRL_RX | F_CTRL_RX_EXTRA | F_CTRL_MAC_ADDR;

fn opened_with(modern: bool, extra: u64) -> (FakeHal<Dev>, VirtioNet) {
    let (mut hal, mut nic) = setup(modern);
    hal.device.offered |= extra;
    nic.open(&mut hal).expect("open");
    (hal, nic)
}

fn to(dst: [u8; 6], seed: u8) -> Vec<u8> {
    let mut f = frame(64, seed);
    f[..6].copy_from_slice(&dst);
    f
}

/// The MAC_TABLE_SET data: (unicast entries, multicast entries).
fn table(data: &[u8]) -> (Vec<[u8; 6]>, Vec<[u8; 6]>) {
    let mut at = 0;
    let mut part = || {
        let n = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        let macs = (0..n)
            .map(|i| data[at + 4 + 6 * i..at + 10 + 6 * i].try_into().unwrap())
            .collect();
        at += 4 + 6 * n;
        macs
    };
    let uni = part();
    let multi = part();
    assert_eq!(at, data.len(), "no trailing bytes");
    (uni, multi)
}

fn last_cmd(hal: &FakeHal<Dev>, class: u8, cmd: u8) -> Vec<u8> {
    hal.device
        .ctrl
        .iter()
        .rev()
        .find(|c| c.0 == class && c.1 == cmd)
        .map(|c| c.2.clone())
        .unwrap_or_else(|| panic!("no command {class}/{cmd}"))
}

#[test]
fn control_features_are_negotiated_and_open_programs_the_filter() {
    for modern in [false, true] {
        let (hal, _nic) = opened_with(modern, CTRL_ALL);
        assert_eq!(hal.device.accepted & CTRL_ALL, CTRL_ALL, "modern {modern}");
        assert_ne!(hal.device.queues[2].desc, 0, "control queue set up");
        // Default filter: promiscuous off (QEMU starts promiscuous), station = permanent MAC.
        assert_eq!(last_cmd(&hal, CLASS_RX, RX_PROMISC), [0]);
        assert_eq!(last_cmd(&hal, CLASS_RX, RX_ALLMULTI), [0]);
        assert_eq!(last_cmd(&hal, CLASS_RX, RX_NOUNI), [0]);
        assert_eq!(last_cmd(&hal, CLASS_RX, RX_NOBCAST), [0]);
        assert_eq!(last_cmd(&hal, CLASS_MAC, MAC_ADDR_SET), MAC);
        assert_eq!(
            table(&last_cmd(&hal, CLASS_MAC, MAC_TABLE_SET)),
            (vec![], vec![])
        );
    }
}

#[test]
fn control_features_without_the_queue_are_not_accepted() {
    let (hal, _nic) = opened_with(false, F_CTRL_RX | F_CTRL_MAC_ADDR);
    assert_eq!(hal.device.accepted & CTRL_ALL, 0);
    assert!(hal.device.ctrl.is_empty());
}

#[test]
fn receive_modes_for_each_filter_combination() {
    let (mut hal, mut nic) = opened_with(true, CTRL_ALL);
    // (filter, promisc, allmulti, nouni, nobcast)
    let cases = [
        (flt(true, true, false, false), [0, 0, 0, 0]),
        (flt(false, true, false, false), [0, 0, 1, 0]),
        (flt(true, false, false, false), [0, 0, 0, 1]),
        (flt(true, true, true, false), [0, 1, 0, 0]),
        (flt(false, false, false, true), [1, 1, 0, 0]),
    ];
    for (f, want) in cases {
        nic.set_filter(&mut hal, &f).unwrap();
        let got = [RX_PROMISC, RX_ALLMULTI, RX_NOUNI, RX_NOBCAST]
            .map(|cmd| last_cmd(&hal, CLASS_RX, cmd)[0]);
        assert_eq!(got, want, "{f:?}");
    }
    let mut f = RxFilter::new();
    f.set_multicast(&[GROUP_A, GROUP_B]);
    nic.set_filter(&mut hal, &f).unwrap();
    let (uni, multi) = table(&last_cmd(&hal, CLASS_MAC, MAC_TABLE_SET));
    assert_eq!((uni, multi), (vec![], vec![GROUP_A, GROUP_B]));
}

#[test]
fn station_address_uses_mac_addr_set_or_the_unicast_table() {
    let (mut hal, mut nic) = opened_with(false, CTRL_ALL);
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    assert_eq!(last_cmd(&hal, CLASS_MAC, MAC_ADDR_SET), NEW_MAC);
    assert_eq!(
        table(&last_cmd(&hal, CLASS_MAC, MAC_TABLE_SET)).0,
        Vec::<[u8; 6]>::new()
    );
    // Without CTRL_MAC_ADDR: the new address goes into the unicast MAC table.
    let (mut hal, mut nic) = opened_with(false, F_CTRL_VQ | F_CTRL_RX);
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    assert!(hal
        .device
        .ctrl
        .iter()
        .all(|c| (c.0, c.1) != (CLASS_MAC, MAC_ADDR_SET)));
    assert_eq!(
        table(&last_cmd(&hal, CLASS_MAC, MAC_TABLE_SET)).0,
        vec![NEW_MAC]
    );
    assert_eq!((nic.station(), nic.mac()), (NEW_MAC, MAC));
}

#[test]
fn without_ctrl_rx_the_driver_filters_in_software() {
    for modern in [false, true] {
        // The fake, like QEMU without CTRL_RX, hands over every frame.
        let (mut hal, mut nic) = opened(modern);
        let mut f = RxFilter::new();
        f.set_multicast(&[GROUP_A]);
        nic.set_filter(&mut hal, &f).unwrap();
        nic.set_station(&mut hal, NEW_MAC).unwrap();
        assert!(hal.device.ctrl.is_empty());
        for (i, dst) in [MAC, GROUP_B, NEW_MAC, GROUP_A, [0xFF; 6]]
            .iter()
            .enumerate()
        {
            inject(&mut hal, &to(*dst, i as u8));
        }
        let mut buf = [0u8; 2048];
        let mut got = Vec::new();
        while let Some(n) = nic.receive(&mut hal, &mut buf) {
            assert_eq!(n, 64);
            got.push(<[u8; 6]>::try_from(&buf[..6]).unwrap());
        }
        assert_eq!(got, [NEW_MAC, GROUP_A, [0xFF; 6]], "modern {modern}");
        assert_eq!(nic.rx_dropped(), 0);
        // Every buffer went back to the device, filtered or not.
        let avail_idx = hal.bus.dma_le(hal.device.queues[0].avail + 2, 2);
        assert_eq!(avail_idx, u64::from(RX_BUFS) + 5);
    }
}

#[test]
fn filter_survives_reopen_and_a_refused_command_is_reported() {
    let (mut hal, mut nic) = opened_with(true, CTRL_ALL);
    let mut f = flt(true, true, false, true);
    f.set_multicast(&[GROUP_A]);
    nic.set_filter(&mut hal, &f).unwrap();
    nic.set_station(&mut hal, NEW_MAC).unwrap();
    nic.close(&mut hal);
    hal.device.ctrl.clear();
    nic.open(&mut hal).unwrap();
    assert_eq!(last_cmd(&hal, CLASS_RX, RX_PROMISC), [1]);
    assert_eq!(last_cmd(&hal, CLASS_MAC, MAC_ADDR_SET), NEW_MAC);
    assert_eq!(
        table(&last_cmd(&hal, CLASS_MAC, MAC_TABLE_SET)).1,
        vec![GROUP_A]
    );
    hal.device.ctrl_refuse = true;
    assert_eq!(
        nic.set_filter(&mut hal, &RxFilter::new()),
        Err(NicError::FilterRefused)
    );
    assert_eq!(
        nic.set_station(&mut hal, GROUP_A),
        Err(NicError::BadAddress)
    );
}

#[test]
fn link_speed_needs_speed_duplex_and_ring_lengths() {
    let (mut hal, mut nic) = opened(true);
    assert_eq!(nic.link_speed_bps(&mut hal), None);
    let (mut hal, mut nic) = opened_with(true, F_SPEED_DUPLEX);
    hal.bus.set_reg(Space::Mmio, DEVICE + 12, 4, 2500);
    assert_eq!(nic.link_speed_bps(&mut hal), Some(2_500_000_000));
    hal.bus
        .set_reg(Space::Mmio, DEVICE + 12, 4, u64::from(u32::MAX));
    assert_eq!(nic.link_speed_bps(&mut hal), None, "speed unknown");
    assert_eq!((nic.rx_ring_len(), nic.tx_ring_len()), (RX_BUFS, TX_SLOTS));
}
