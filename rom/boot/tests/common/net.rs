//! A scripted network for whole-boot tests: a loopback [`Nic`] whose frames reach scripted
//! servers (DHCP, proxyDHCP, boot server, TFTP), each a `softpxe_net` interface of its own (so
//! ARP and UDP framing are real), on an explicit clock shared with the test platform. Loss is
//! seeded and counted.
use softpxe_drivers::{Hal, Nic, NicError, RxFilter};
use softpxe_net::dhcp::packet::{code, msg, Builder, Packet, OP_REPLY};
use softpxe_net::iface::{Event, Interface, SendResult};
use softpxe_net::{Instant, Ipv4Addr, MacAddr, Transmit, UdpMeta, MAX_FRAME};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// The shared clock, in ms.
pub type Clock = Rc<Cell<u64>>;

/// Frames from a server: where to send them.
pub struct Out<'a> {
    frames: &'a mut Vec<Vec<u8>>,
}

/// A server's own network stack: a `softpxe_net` interface.
pub struct Host {
    pub iface: Interface,
}

impl Host {
    pub fn new(mac: u8, ip: Ipv4Addr) -> Self {
        let mut iface = Interface::new(MacAddr([2, 0, 0, 0, 0, mac]));
        iface.configure(ip, Some(Ipv4Addr::new(255, 255, 255, 0)), None);
        Host { iface }
    }

    pub fn ip(&self) -> Ipv4Addr {
        self.iface.ip()
    }

    /// Sends a UDP datagram (ARP first if need be).
    pub fn send(
        &mut self,
        now: Instant,
        from: u16,
        to: (Ipv4Addr, u16),
        data: &[u8],
        out: &mut Out<'_>,
    ) {
        let t = Transmit {
            src_port: from,
            dst_ip: to.0,
            dst_port: to.1,
            len: data.len(),
        };
        let mut f = [0u8; MAX_FRAME];
        match self.iface.send_udp(now, &t, data, &mut f) {
            SendResult::Sent(n) | SendResult::ArpRequest(n) => out.frames.push(f[..n].to_vec()),
            _ => {}
        }
    }

    /// Takes a frame; a UDP datagram for us comes back.
    fn take(
        &mut self,
        now: Instant,
        frame: &[u8],
        out: &mut Out<'_>,
    ) -> Option<(UdpMeta, Vec<u8>)> {
        let mut f = [0u8; MAX_FRAME];
        let r = match self.iface.handle_frame(now, frame, &mut f) {
            Event::Udp(d) => Some((d.meta, d.payload.to_vec())),
            Event::Reply(n) => {
                out.frames.push(f[..n].to_vec());
                None
            }
            _ => None,
        };
        while let Some(n) = self.iface.poll(now, &mut f) {
            out.frames.push(f[..n].to_vec());
        }
        r
    }
}

/// A scripted server.
pub trait Peer {
    /// A UDP datagram arrived for this host.
    fn udp(
        &mut self,
        now: Instant,
        meta: &UdpMeta,
        data: &[u8],
        host: &mut Host,
        out: &mut Out<'_>,
    );
}

struct Node {
    host: Host,
    peers: Vec<Box<dyn Peer>>,
}

/// The segment: the servers, frames on their way to the client, loss.
pub struct Network {
    pub clock: Clock,
    nodes: Vec<Node>,
    to_client: VecDeque<(u64, Vec<u8>)>,
    /// Every frame the client sent.
    pub sent: Vec<Vec<u8>>,
    /// Drop this share (0..=100 %) of frames either way, from a seeded generator.
    pub loss_percent: u32,
    seed: u64,
    /// Frames lost so far.
    pub lost: u32,
    /// The client's frames (by their index in `sent`) that are lost for sure.
    pub drop_sent: Vec<usize>,
}

impl Network {
    pub fn new(clock: Clock) -> Self {
        Network {
            clock,
            nodes: Vec::new(),
            to_client: VecDeque::new(),
            sent: Vec::new(),
            loss_percent: 0,
            seed: 0x1234_5678,
            lost: 0,
            drop_sent: Vec::new(),
        }
    }

    /// Adds a server at `ip` (MAC 02:00:00:00:00:`mac`); servers at the same address share
    /// one host (the first one's MAC).
    pub fn add(&mut self, mac: u8, ip: Ipv4Addr, peer: impl Peer + 'static) {
        match self.nodes.iter_mut().find(|n| n.host.ip() == ip) {
            Some(n) => n.peers.push(Box::new(peer)),
            None => self.nodes.push(Node {
                host: Host::new(mac, ip),
                peers: vec![Box::new(peer)],
            }),
        }
    }

    fn lose(&mut self) -> bool {
        if self.loss_percent == 0 {
            return false;
        }
        // splitmix64
        self.seed = self.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let lost = (z % 100) < u64::from(self.loss_percent);
        self.lost += u32::from(lost);
        lost
    }

    /// A frame from the client: every server sees it; their answers arrive 1 ms later.
    fn client_sent(&mut self, frame: &[u8]) {
        self.sent.push(frame.to_vec());
        if self.drop_sent.contains(&(self.sent.len() - 1)) {
            self.lost += 1;
            return;
        }
        if self.lose() {
            return;
        }
        let now = Instant::from_millis(self.clock.get());
        let mut frames = Vec::new();
        for n in &mut self.nodes {
            let mut out = Out {
                frames: &mut frames,
            };
            if let Some((meta, data)) = n.host.take(now, frame, &mut out) {
                for p in &mut n.peers {
                    p.udp(now, &meta, &data, &mut n.host, &mut out);
                }
            }
        }
        for f in frames {
            if !self.lose() {
                self.to_client.push_back((now.millis() + 1, f));
            }
        }
    }

    fn next_for_client(&mut self) -> Option<Vec<u8>> {
        let now = self.clock.get();
        if self.to_client.front().is_some_and(|(at, _)| *at <= now) {
            return self.to_client.pop_front().map(|(_, f)| f);
        }
        None
    }
}

/// The loopback NIC: what it sends goes to the [`Network`], what the network answers comes back.
pub struct LoopNic {
    pub net: Rc<RefCell<Network>>,
    pub mac: [u8; 6],
    pub open: bool,
    pub opens: u32,
    filter: RxFilter,
}

impl LoopNic {
    pub fn new(net: Rc<RefCell<Network>>) -> Self {
        LoopNic {
            net,
            mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
            open: false,
            opens: 0,
            filter: RxFilter::none(),
        }
    }
}

impl Nic for LoopNic {
    fn open<H: Hal + ?Sized>(&mut self, _: &mut H) -> Result<(), NicError> {
        self.open = true;
        self.opens += 1;
        Ok(())
    }
    fn close<H: Hal + ?Sized>(&mut self, _: &mut H) {
        self.open = false;
    }
    fn mac(&self) -> [u8; 6] {
        self.mac
    }
    fn station(&self) -> [u8; 6] {
        self.mac
    }
    fn set_station<H: Hal + ?Sized>(&mut self, _: &mut H, _: [u8; 6]) -> Result<(), NicError> {
        Ok(())
    }
    fn filter(&self) -> RxFilter {
        self.filter
    }
    fn set_filter<H: Hal + ?Sized>(&mut self, _: &mut H, f: &RxFilter) -> Result<(), NicError> {
        self.filter = *f;
        Ok(())
    }
    fn link_speed_bps<H: Hal + ?Sized>(&mut self, _: &mut H) -> Option<u64> {
        None
    }
    fn rx_ring_len(&self) -> u16 {
        8
    }
    fn tx_ring_len(&self) -> u16 {
        8
    }
    fn link_up<H: Hal + ?Sized>(&mut self, _: &mut H) -> bool {
        true
    }
    fn transmit<H: Hal + ?Sized>(&mut self, _: &mut H, frame: &[u8]) -> Result<(), NicError> {
        if !self.open {
            return Err(NicError::NotOpen);
        }
        self.net.borrow_mut().client_sent(frame);
        Ok(())
    }
    fn receive<H: Hal + ?Sized>(&mut self, _: &mut H, buf: &mut [u8]) -> Option<usize> {
        if !self.open {
            return None;
        }
        let f = self.net.borrow_mut().next_for_client()?;
        let n = f.len().min(buf.len());
        buf[..n].copy_from_slice(&f[..n]);
        Some(n)
    }
    fn rx_dropped(&self) -> u32 {
        0
    }
}

/// Option 43 sub-options, in DHCP option format.
pub fn pxe_options(subs: &[(u8, &[u8])]) -> Vec<u8> {
    let mut v = Vec::new();
    for (c, d) in subs {
        v.push(*c);
        v.push(d.len() as u8);
        v.extend_from_slice(d);
    }
    v.push(255);
    v
}

/// A DHCP reply to `req` (same xid and chaddr) with `build` adding fields and options.
pub fn reply(
    req: &Packet<&[u8]>,
    mt: u8,
    server: Ipv4Addr,
    build: impl FnOnce(&mut Builder<'_>),
) -> Vec<u8> {
    let mut buf = vec![0u8; 1472];
    let mut b = Builder::new(&mut buf, OP_REPLY, req.xid(), req.chaddr()).unwrap();
    b.option(code::MESSAGE_TYPE, &[mt])
        .option(code::SERVER_ID, &server.octets());
    build(&mut b);
    let n = b.finish().unwrap();
    buf.truncate(n);
    buf
}

/// A request the DHCP server saw: message type, option 93, option 60.
pub type Seen = (u8, Vec<u8>, Vec<u8>);

/// The DHCP server: offers `yiaddr` (mask /24, router 10.0.0.254) and whatever `extra` adds to
/// its offers and ACKs.
pub struct DhcpServer {
    pub yiaddr: Ipv4Addr,
    pub extra: Box<dyn Fn(&mut Builder<'_>)>,
    /// The requests seen: message type, option 93, option 60.
    pub seen: Rc<RefCell<Vec<Seen>>>,
}

impl Peer for DhcpServer {
    fn udp(
        &mut self,
        now: Instant,
        meta: &UdpMeta,
        data: &[u8],
        host: &mut Host,
        out: &mut Out<'_>,
    ) {
        if meta.dst_port != 67 {
            return;
        }
        let Ok(req) = Packet::new_checked(data) else {
            return;
        };
        let mt = req.message_type().unwrap_or(0);
        let arch = req.option(code::CLIENT_ARCH).unwrap_or(&[]).to_vec();
        let class = req.option(code::VENDOR_CLASS).unwrap_or(&[]).to_vec();
        self.seen.borrow_mut().push((mt, arch, class));
        let answer = match mt {
            msg::DISCOVER => msg::OFFER,
            msg::REQUEST if req.option_ip(code::SERVER_ID) == Some(host.ip()) => msg::ACK,
            _ => return,
        };
        let yiaddr = self.yiaddr;
        let r = reply(&req, answer, host.ip(), |b| {
            b.yiaddr(yiaddr)
                .option(code::SUBNET_MASK, &[255, 255, 255, 0])
                .option(code::ROUTER, &[10, 0, 0, 254]);
            (self.extra)(b);
        });
        host.send(now, 67, (Ipv4Addr::BROADCAST, 68), &r, out);
    }
}

/// The proxyDHCP server: an offer on port 67 with option 60 `PXEClient` and `options` (43),
/// and an ACK with the same on port 4011; `file` in both if set.
pub struct ProxyServer {
    pub options: Vec<u8>,
    pub file: Option<&'static str>,
    pub requests_4011: Rc<Cell<u32>>,
}

impl Peer for ProxyServer {
    fn udp(
        &mut self,
        now: Instant,
        meta: &UdpMeta,
        data: &[u8],
        host: &mut Host,
        out: &mut Out<'_>,
    ) {
        let Ok(req) = Packet::new_checked(data) else {
            return;
        };
        let (mt, port) = match (meta.dst_port, req.message_type()) {
            (67, Some(msg::DISCOVER)) => (msg::OFFER, 67),
            (4011, Some(msg::REQUEST)) => {
                self.requests_4011.set(self.requests_4011.get() + 1);
                (msg::ACK, 4011)
            }
            _ => return,
        };
        let (opts, file) = (self.options.clone(), self.file);
        let r = reply(&req, mt, host.ip(), |b| {
            b.option(code::VENDOR_CLASS, b"PXEClient")
                .option(code::VENDOR_SPECIFIC, &opts);
            if let Some(f) = file {
                b.siaddr(host.ip()).file(f.as_bytes());
            }
        });
        let to = if port == 67 {
            (Ipv4Addr::BROADCAST, 68)
        } else {
            (meta.src_ip, meta.src_port)
        };
        host.send(now, port, to, &r, out);
    }
}

/// A PXE boot server on port 4011: answers a REQUEST for boot item `item_type` with `file`.
pub struct BootServer {
    pub item_type: u16,
    pub file: &'static str,
}

impl Peer for BootServer {
    fn udp(
        &mut self,
        now: Instant,
        meta: &UdpMeta,
        data: &[u8],
        host: &mut Host,
        out: &mut Out<'_>,
    ) {
        if meta.dst_port != 4011 {
            return;
        }
        let Ok(req) = Packet::new_checked(data) else {
            return;
        };
        let asked = req
            .option(code::VENDOR_SPECIFIC)
            .map(softpxe_net::dhcp::pxe::PxeOptions::parse);
        if asked.and_then(|o| o.boot_item).map(|(t, _)| t) != Some(self.item_type) {
            return;
        }
        let item = self.item_type.to_be_bytes();
        let opts = pxe_options(&[(71, &[item[0], item[1], 0, 0])]);
        let file = self.file;
        let r = reply(&req, msg::ACK, host.ip(), |b| {
            b.siaddr(host.ip())
                .file(file.as_bytes())
                .option(code::VENDOR_CLASS, b"PXEClient")
                .option(code::VENDOR_SPECIFIC, &opts);
        });
        host.send(now, 4011, (meta.src_ip, meta.src_port), &r, out);
    }
}

struct Transfer {
    data: Vec<u8>,
    acked: u16,
}

/// A lock-step TFTP server (RFC 1350; it ignores options, so the client falls back to 512-byte
/// blocks). A missing file is ERROR 1.
pub struct TftpServer {
    pub files: HashMap<String, Vec<u8>>,
    sessions: HashMap<(Ipv4Addr, u16), Transfer>,
    next_port: u16,
    ports: HashMap<(Ipv4Addr, u16), u16>,
    pub requests: Rc<RefCell<Vec<String>>>,
}

impl TftpServer {
    pub fn new(files: &[(&str, Vec<u8>)]) -> Self {
        TftpServer {
            files: files
                .iter()
                .map(|(n, d)| (n.to_string(), d.clone()))
                .collect(),
            sessions: HashMap::new(),
            next_port: 40000,
            ports: HashMap::new(),
            requests: Rc::default(),
        }
    }

    fn block(t: &Transfer, n: u16) -> Vec<u8> {
        let start = (usize::from(n) - 1) * 512;
        let end = (start + 512).min(t.data.len());
        let mut v = vec![0, 3];
        v.extend_from_slice(&n.to_be_bytes());
        v.extend_from_slice(&t.data[start.min(end)..end]);
        v
    }
}

impl Peer for TftpServer {
    fn udp(
        &mut self,
        now: Instant,
        meta: &UdpMeta,
        data: &[u8],
        host: &mut Host,
        out: &mut Out<'_>,
    ) {
        let client = (meta.src_ip, meta.src_port);
        if meta.dst_port == 69 && data.starts_with(&[0, 1]) {
            let name: Vec<u8> = data[2..].iter().take_while(|&&b| b != 0).copied().collect();
            let name = String::from_utf8_lossy(&name).to_string();
            self.requests.borrow_mut().push(name.clone());
            let port = *self.ports.entry(client).or_insert_with(|| {
                self.next_port += 1;
                self.next_port
            });
            let Some(file) = self.files.get(&name) else {
                let mut e = vec![0, 5, 0, 1];
                e.extend_from_slice(b"File not found\0");
                host.send(now, port, client, &e, out);
                return;
            };
            let t = Transfer {
                data: file.clone(),
                acked: 0,
            };
            let first = Self::block(&t, 1);
            self.sessions.insert(client, t);
            host.send(now, port, client, &first, out);
            return;
        }
        let Some(&port) = self.ports.get(&client) else {
            return;
        };
        if meta.dst_port != port || !data.starts_with(&[0, 4]) || data.len() < 4 {
            return;
        }
        let Some(t) = self.sessions.get_mut(&client) else {
            return;
        };
        let n = u16::from_be_bytes([data[2], data[3]]);
        t.acked = t.acked.max(n);
        let blocks = t.data.len() / 512 + 1;
        if usize::from(n) < blocks {
            let next = Self::block(t, n + 1);
            host.send(now, port, client, &next, out);
        }
    }
}
