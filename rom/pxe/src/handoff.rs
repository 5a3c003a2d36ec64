//! What the boot flow hands the PXE stack when the NBP starts (layer `rom/pxe`): the interface
//! it used (addresses, mask, gateway, ARP cache), the frames it counted, and the packets
//! GET_CACHED_INFO answers with. One interface state, moved over, never rebuilt.

use crate::abi::BOOTPLAYER_SIZE;
use softpxe_net::dhcp::DhcpClient;
use softpxe_net::iface::Interface;

/// The DHCP packets GET_CACHED_INFO hands out (PXE 2.1 §3.2.4), as 1260-byte BOOTPLAYER
/// copies: index 0 the DHCPDISCOVER, 1 the DHCPACK, 2 the proxy / boot-server reply (or the ACK
/// again). Zero-padded; longer packets are cut at 1260 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cached {
    packets: [[u8; BOOTPLAYER_SIZE]; 3],
}

impl Default for Cached {
    fn default() -> Self {
        Cached::new()
    }
}

impl Cached {
    /// All three empty (zero).
    pub const fn new() -> Self {
        Cached {
            packets: [[0; BOOTPLAYER_SIZE]; 3],
        }
    }

    /// The packets of a finished DHCP conversation.
    pub fn from_dhcp(dhcp: &DhcpClient) -> Self {
        let mut c = Cached::new();
        c.set(0, dhcp.cached_discover());
        c.set(1, dhcp.cached_ack());
        c.set(2, dhcp.cached_reply());
        c
    }

    /// A made-up DHCPACK (static address) as types 2 and 3; type 1 stays empty.
    pub fn from_static_ack(ack: &[u8]) -> Self {
        let mut c = Cached::new();
        c.set(1, ack);
        c.set(2, ack);
        c
    }

    /// Replaces packet `index` (0..3); `false` for another index.
    pub fn set(&mut self, index: usize, packet: &[u8]) -> bool {
        let Some(slot) = self.packets.get_mut(index) else {
            return false;
        };
        let n = packet.len().min(BOOTPLAYER_SIZE);
        slot.fill(0);
        slot[..n].copy_from_slice(&packet[..n]);
        true
    }

    /// Packet `index` (0..3), zero-padded to 1260 bytes.
    pub fn get(&self, index: usize) -> Option<&[u8; BOOTPLAYER_SIZE]> {
        self.packets.get(index)
    }
}

/// The boot flow's network state for [`crate::PxeStack::adopt`].
#[derive(Clone, Debug)]
pub struct Handoff {
    /// The interface: our addresses, mask, gateway and the ARP cache.
    pub iface: Interface,
    /// Frames the boot flow sent (UNDI_GET_STATISTICS counts from when the NIC was opened).
    pub frames_sent: u32,
    /// Frames the boot flow received.
    pub frames_received: u32,
    /// The packets for GET_CACHED_INFO.
    pub cached: Cached,
}
