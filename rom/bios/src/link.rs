//! The frame pump between the NIC and `softpxe_net`'s interface: receive frames and hand UDP
//! datagrams to a state machine, answer ARP and ping, send what the state machines want sent.
use crate::hal::BiosHal;
use core::sync::atomic::{AtomicU32, Ordering};
use softpxe_drivers::{AnyNic, Nic};
use softpxe_net::iface::{Event, Interface, SendResult};
use softpxe_net::{Instant, Transmit, UdpMeta};

const FRAME: usize = 1536;

/// Frames sent and received by the base code, for UNDI_GET_STATISTICS.
pub static TX_FRAMES: AtomicU32 = AtomicU32::new(0);
pub static RX_FRAMES: AtomicU32 = AtomicU32::new(0);

/// The NIC, the interface and their buffers.
pub struct Link<'a> {
    pub hal: &'a mut BiosHal,
    pub nic: &'a mut AnyNic,
    pub iface: Interface,
    rx: [u8; FRAME],
    tx: [u8; FRAME],
    /// Frames the NIC refused to send (counted, reported in debug logs).
    pub tx_errors: u32,
    pub mask: Option<core::net::Ipv4Addr>,
    pub gateway: Option<core::net::Ipv4Addr>,
}

impl<'a> Link<'a> {
    pub fn new(hal: &'a mut BiosHal, nic: &'a mut AnyNic) -> Self {
        let iface = Interface::new(softpxe_net::MacAddr(nic.mac()));
        Link {
            hal,
            nic,
            iface,
            rx: [0; FRAME],
            tx: [0; FRAME],
            tx_errors: 0,
            mask: None,
            gateway: None,
        }
    }

    /// Our address, mask and gateway.
    pub fn configure(
        &mut self,
        ip: core::net::Ipv4Addr,
        mask: Option<core::net::Ipv4Addr>,
        gw: Option<core::net::Ipv4Addr>,
    ) {
        self.iface.configure(ip, mask, gw);
        self.mask = mask;
        self.gateway = gw;
    }

    fn transmit_tx(&mut self, n: usize) {
        if self.nic.transmit(self.hal, &self.tx[..n]).is_err() {
            self.tx_errors += 1;
        } else {
            TX_FRAMES.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sends a datagram a state machine produced (`payload` holds at least `t.len` bytes).
    pub fn send(&mut self, now: Instant, t: &Transmit, payload: &[u8]) {
        match self.iface.send_udp(now, t, payload, &mut self.tx) {
            SendResult::Sent(n) | SendResult::ArpRequest(n) => self.transmit_tx(n),
            SendResult::ArpPending | SendResult::NoRoute | SendResult::TooBig => {}
        }
    }

    /// ARP retries and datagrams parked until their next hop resolved.
    pub fn poll(&mut self, now: Instant) {
        while let Some(n) = self.iface.poll(now, &mut self.tx) {
            self.transmit_tx(n);
        }
    }

    /// Takes one frame from the NIC, if there is one; a UDP datagram in it goes to `deliver`.
    /// Returns whether a frame was taken.
    pub fn receive(&mut self, now: Instant, deliver: &mut dyn FnMut(&UdpMeta, &[u8])) -> bool {
        let Some(len) = self.nic.receive(self.hal, &mut self.rx) else {
            return false;
        };
        RX_FRAMES.fetch_add(1, Ordering::Relaxed);
        match self.iface.handle_frame(now, &self.rx[..len], &mut self.tx) {
            Event::Udp(d) => deliver(&d.meta, d.payload),
            Event::Reply(n) => self.transmit_tx(n),
            Event::Handled | Event::Dropped(_) => {}
        }
        true
    }
}
