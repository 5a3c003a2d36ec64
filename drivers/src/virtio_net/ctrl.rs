//! virtio-net receive filtering through the control virtqueue (layer `drivers/`), virtio 1.0
//! §5.1.6.5: `VIRTIO_NET_CTRL_RX` (promiscuous, all-multicast and, with
//! `VIRTIO_NET_F_CTRL_RX_EXTRA`, no-unicast / no-broadcast), `VIRTIO_NET_CTRL_MAC_TABLE_SET`
//! (the multicast list) and `VIRTIO_NET_CTRL_MAC_ADDR_SET` (the station address, with
//! `VIRTIO_NET_F_CTRL_MAC_ADDR`).
//!
//! Fallbacks: without `VIRTIO_NET_F_CTRL_RX` the device cannot be told anything (QEMU's model
//! then receives everything, its "compatibility mode"), and [`crate::Nic::receive`] filters in
//! software. With `CTRL_RX` but without `CTRL_MAC_ADDR`, a changed station address goes into
//! the unicast half of the MAC table, so the device receives it besides its own address, and
//! software drops frames to the old one. Without `CTRL_RX_EXTRA`, turning off directed or
//! broadcast frames is done in software only.
//!
//! A command is three descriptors (virtio 1.0 §5.1.6.5: header, data, ack), as legacy devices
//! without `VIRTIO_F_ANY_LAYOUT` need; the driver waits for the device to return it.

use super::queue::{Desc, DescFlags};
use super::{VirtioNet, CTRL_QUEUE, F_CTRL_MAC_ADDR, F_CTRL_RX, F_CTRL_RX_EXTRA};
use crate::filter::MAX_MULTICAST;
use crate::hal::{poll_until, Hal};
use crate::nic::NicError;

/// Command class: receive modes.
pub const CLASS_RX: u8 = 0;
/// `VIRTIO_NET_CTRL_RX_PROMISC`.
pub const RX_PROMISC: u8 = 0;
/// `VIRTIO_NET_CTRL_RX_ALLMULTI`.
pub const RX_ALLMULTI: u8 = 1;
/// `VIRTIO_NET_CTRL_RX_NOUNI` (`CTRL_RX_EXTRA`).
pub const RX_NOUNI: u8 = 4;
/// `VIRTIO_NET_CTRL_RX_NOBCAST` (`CTRL_RX_EXTRA`).
pub const RX_NOBCAST: u8 = 5;
/// Command class: MAC filtering.
pub const CLASS_MAC: u8 = 1;
/// `VIRTIO_NET_CTRL_MAC_TABLE_SET`: unicast then multicast entries.
pub const MAC_TABLE_SET: u8 = 0;
/// `VIRTIO_NET_CTRL_MAC_ADDR_SET`: the station address.
pub const MAC_ADDR_SET: u8 = 1;
/// `VIRTIO_NET_OK`.
pub const ACK_OK: u8 = 0;

/// Offsets of the command buffer inside the driver's buffer region.
pub(super) const CMD_HDR: usize = 0;
pub(super) const CMD_DATA: usize = 16;
pub(super) const CMD_ACK: usize = 240;
/// Bytes of command buffer.
pub(super) const CMD_AREA: usize = 256;
/// The longest command data: a MAC table with one unicast and a full multicast list.
const CMD_DATA_MAX: usize = 4 + 6 + 4 + 6 * MAX_MULTICAST;
const _: () = assert!(CMD_DATA + CMD_DATA_MAX <= CMD_ACK);

/// How long the device may take to answer a command.
const CTRL_TIMEOUT_US: u64 = 100_000;

impl VirtioNet {
    /// Sends one control command and waits for its ack.
    fn ctrl_command<H: Hal + ?Sized>(
        &mut self,
        hal: &mut H,
        class: u8,
        cmd: u8,
        data: &[u8],
    ) -> Result<(), NicError> {
        let (Some(mem), Some(mut q)) = (self.mem, self.ctrlq) else {
            return Err(NicError::FilterRefused);
        };
        if data.is_empty() || data.len() > CMD_DATA_MAX {
            return Err(NicError::FilterRefused);
        }
        let bufs = mem.bufs;
        let base = super::CTRL_BUF_BASE;
        hal.dma_write_bytes(&bufs, base + CMD_HDR, &[class, cmd]);
        hal.dma_write_bytes(&bufs, base + CMD_DATA, data);
        hal.dma_write8(&bufs, base + CMD_ACK, 0xFF);
        let chain = [
            (CMD_HDR, 2, DescFlags::NEXT),
            (CMD_DATA, data.len(), DescFlags::NEXT),
            (CMD_ACK, 1, DescFlags::WRITE),
        ];
        for (i, (off, len, flags)) in (0u16..).zip(chain) {
            let desc = Desc {
                addr: bufs.phys_at(base + off),
                len: len as u32,
                flags: flags.bits(),
                next: i + 1,
            };
            q.set_desc(hal, i, desc);
        }
        q.push_avail(hal, 0);
        self.transport.notify(hal, CTRL_QUEUE);
        let done = poll_until(hal, CTRL_TIMEOUT_US, |hal| q.pop_used(hal).is_some());
        self.ctrlq = Some(q);
        hal.dma_fence();
        if done && hal.dma_read8(&bufs, base + CMD_ACK) == ACK_OK {
            Ok(())
        } else {
            Err(NicError::FilterRefused)
        }
    }

    fn ctrl_rx<H: Hal + ?Sized>(&mut self, hal: &mut H, cmd: u8, on: bool) -> Result<(), NicError> {
        self.ctrl_command(hal, CLASS_RX, cmd, &[u8::from(on)])
    }

    /// Programs the device with the current filter and station (after DRIVER_OK), as far as
    /// its features allow; the rest is left to the software filter in `receive`.
    pub(super) fn program_filter<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError> {
        let f = self.filter;
        if self.features & F_CTRL_MAC_ADDR != 0 {
            let station = self.station;
            self.ctrl_command(hal, CLASS_MAC, MAC_ADDR_SET, &station)?;
        }
        if self.features & F_CTRL_RX == 0 {
            return Ok(());
        }
        self.ctrl_rx(hal, RX_PROMISC, f.promiscuous)?;
        self.ctrl_rx(hal, RX_ALLMULTI, f.wants_all_multicast())?;
        if self.features & F_CTRL_RX_EXTRA != 0 {
            self.ctrl_rx(hal, RX_NOUNI, !f.directed && !f.promiscuous)?;
            self.ctrl_rx(hal, RX_NOBCAST, !f.broadcast && !f.promiscuous)?;
        }
        let mut table = [0u8; CMD_DATA_MAX];
        let mut n = 0;
        let mut put = |bytes: &[u8]| {
            table[n..n + bytes.len()].copy_from_slice(bytes);
            n += bytes.len();
        };
        let extra_unicast = self.features & F_CTRL_MAC_ADDR == 0 && self.station != self.mac;
        if extra_unicast {
            put(&1u32.to_le_bytes());
            put(&self.station);
        } else {
            put(&0u32.to_le_bytes());
        }
        let multicast = f.multicast();
        put(&(multicast.len() as u32).to_le_bytes());
        for mac in multicast {
            put(mac);
        }
        self.ctrl_command(hal, CLASS_MAC, MAC_TABLE_SET, &table[..n])
    }
}
