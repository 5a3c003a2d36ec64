//! The boot flow's frame pump between the NIC and `softpxe_net`'s interface: receive frames and
//! hand UDP datagrams to a state machine, answer ARP and ping, send what the state machines want
//! sent. The interface state it builds (addresses, ARP cache, frame counters) goes to the PXE
//! stack in a [`Handoff`] when the NBP starts.
use crate::Platform;
use softpxe_drivers::Nic;
use softpxe_net::iface::{Event, Interface, SendResult};
use softpxe_net::{Instant, Ipv4Addr, Transmit, UdpMeta, MAX_FRAME};
use softpxe_pxe::{Cached, Handoff};

/// The NIC, the interface and their buffers.
pub(crate) struct Link<'a, N> {
    nic: &'a mut N,
    /// Our addresses and ARP cache.
    pub iface: Interface,
    rx: [u8; MAX_FRAME],
    tx: [u8; MAX_FRAME],
    frames_sent: u32,
    frames_received: u32,
    /// Frames the NIC refused to send.
    pub tx_errors: u32,
}

impl<'a, N: Nic> Link<'a, N> {
    /// A link over an open NIC; the interface is unconfigured (0.0.0.0).
    pub fn new(nic: &'a mut N) -> Self {
        let iface = Interface::new(softpxe_net::MacAddr(nic.mac()));
        Link {
            nic,
            iface,
            rx: [0; MAX_FRAME],
            tx: [0; MAX_FRAME],
            frames_sent: 0,
            frames_received: 0,
            tx_errors: 0,
        }
    }

    /// Our address, mask and gateway.
    pub fn configure(&mut self, ip: Ipv4Addr, mask: Option<Ipv4Addr>, gw: Option<Ipv4Addr>) {
        self.iface.configure(ip, mask, gw);
    }

    /// The interface state for the PXE stack (the cached packets are filled in by the caller).
    pub fn into_handoff(self) -> Handoff {
        Handoff {
            iface: self.iface,
            frames_sent: self.frames_sent,
            frames_received: self.frames_received,
            cached: Cached::new(),
        }
    }

    fn transmit_tx<P: Platform>(&mut self, p: &mut P, n: usize) {
        transmit(
            self.nic,
            p,
            &self.tx[..n],
            &mut self.frames_sent,
            &mut self.tx_errors,
        );
    }

    /// Sends a datagram a state machine produced (`payload` holds at least `t.len` bytes).
    pub fn send<P: Platform>(&mut self, p: &mut P, now: Instant, t: &Transmit, payload: &[u8]) {
        match self.iface.send_udp(now, t, payload, &mut self.tx) {
            SendResult::Sent(n) | SendResult::ArpRequest(n) => self.transmit_tx(p, n),
            SendResult::ArpPending | SendResult::NoRoute | SendResult::TooBig => {}
        }
    }

    /// ARP retries and datagrams parked until their next hop resolved.
    pub fn poll<P: Platform>(&mut self, p: &mut P, now: Instant) {
        while let Some(n) = self.iface.poll(now, &mut self.tx) {
            self.transmit_tx(p, n);
        }
    }

    /// Takes one frame from the NIC, if there is one, and answers it if it asks (ARP, ping).
    pub fn receive<P: Platform>(&mut self, p: &mut P, now: Instant) -> Received<'_> {
        let Some(len) = self.nic.receive(p.hal(), &mut self.rx) else {
            return Received::Nothing;
        };
        self.frames_received = self.frames_received.wrapping_add(1);
        match self.iface.handle_frame(now, &self.rx[..len], &mut self.tx) {
            Event::Udp(d) => Received::Udp(d.meta, d.payload),
            Event::Reply(n) => {
                let (sent, errors) = (&mut self.frames_sent, &mut self.tx_errors);
                transmit(self.nic, p, &self.tx[..n], sent, errors);
                Received::Frame
            }
            Event::Handled | Event::Dropped(_) => Received::Frame,
        }
    }
}

/// What [`Link::receive`] took from the NIC.
pub(crate) enum Received<'a> {
    /// Nothing was waiting.
    Nothing,
    /// A frame that is no UDP datagram for us (handled or dropped).
    Frame,
    /// A UDP datagram: its addresses and payload.
    Udp(UdpMeta, &'a [u8]),
}

fn transmit<P: Platform, N: Nic>(
    nic: &mut N,
    p: &mut P,
    frame: &[u8],
    sent: &mut u32,
    errors: &mut u32,
) {
    if nic.transmit(p.hal(), frame).is_err() {
        *errors += 1;
    } else {
        *sent = sent.wrapping_add(1);
    }
}
