//! Test fixtures: a fake `Platform` (1.125 MiB of memory with a refused "core" range, a NIC with
//! TX/RX queues, a clock advanced by `pump`) and a scripted peer on the wire (ARP replies, a TFTP
//! server with blksize/tsize/windowsize, a UDP echo service on port 7).
#![allow(dead_code)]

use softpxe_net::{Instant, Ipv4Addr};
use softpxe_pxe::abi::SegOff16;
use softpxe_pxe::{
    dispatch, IsaIds, IsrShared, Memory, NicInfo, NicOpen, Opcode, Outcome, PciIds, Platform,
    PxeConfig, PxeStack,
};
use std::collections::VecDeque;
use zerocopy::{FromBytes, Immutable, IntoBytes};

pub const MEM_SIZE: usize = 0x12_0000;
/// Memory the fake refuses to write (stands for softpxe's core).
pub const CORE: std::ops::Range<u64> = 0x11_8000..0x12_0000;
pub const OUR_MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
pub const PEER_MAC: [u8; 6] = [0x52, 0x54, 0, 0xAA, 0xBB, 0xCC];
pub const OUR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
pub const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
pub const PARAMS: SegOff16 = SegOff16::new(0x2000, 0x0010);
pub const BUF: SegOff16 = SegOff16::new(0x3000, 0);
pub const SCRATCH: SegOff16 = SegOff16::new(0x9000, 0);
pub const STEP_MS: u64 = 10;

pub struct Fake {
    pub mem: Vec<u8>,
    pub now: u64,
    pub rx: VecDeque<Vec<u8>>,
    pub tx: Vec<Vec<u8>>,
    pub open: bool,
    pub opens: Vec<([u8; 6], u16, Vec<[u8; 6]>)>,
    /// `nic_configure` calls (station, filter, multicast), and whether they succeed.
    pub configures: Vec<([u8; 6], u16, Vec<[u8; 6]>)>,
    pub configure_ok: bool,
    pub irq: u8,
    pub irq_pending: bool,
    pub irq_enabled: bool,
    pub hooks_ok: bool,
    pub peer: Option<Peer>,
    pub shared: IsrShared,
    pub transmit_ok: bool,
    /// Set: the NIC is an ISA card (UNDI_GET_NIC_TYPE reports PnP).
    pub isa: Option<IsaIds>,
}

impl Fake {
    pub fn new() -> Self {
        Fake {
            mem: vec![0; MEM_SIZE],
            now: 1000,
            rx: VecDeque::new(),
            tx: Vec::new(),
            open: true,
            opens: Vec::new(),
            configures: Vec::new(),
            configure_ok: true,
            irq: 0,
            irq_pending: false,
            irq_enabled: false,
            hooks_ok: true,
            isa: None,
            peer: Some(Peer::new()),
            shared: IsrShared::new(),
            transmit_ok: true,
        }
    }
    pub fn put(&mut self, at: SegOff16, data: &[u8]) {
        let a = at.linear() as usize;
        self.mem[a..a + data.len()].copy_from_slice(data);
    }
    pub fn get(&self, at: SegOff16, len: usize) -> Vec<u8> {
        let a = at.linear() as usize;
        self.mem[a..a + len].to_vec()
    }
}

impl Memory for Fake {
    fn read(&self, phys: u64, buf: &mut [u8]) -> bool {
        let end = phys + buf.len() as u64;
        if end > MEM_SIZE as u64 {
            return false;
        }
        buf.copy_from_slice(&self.mem[phys as usize..end as usize]);
        true
    }
    fn write(&mut self, phys: u64, data: &[u8]) -> bool {
        let end = phys + data.len() as u64;
        if end > MEM_SIZE as u64 || (phys < CORE.end && end > CORE.start) {
            return false;
        }
        self.mem[phys as usize..end as usize].copy_from_slice(data);
        true
    }
}

impl Platform for Fake {
    fn nic_info(&self) -> NicInfo {
        NicInfo {
            mac: OUR_MAC,
            io_base: 0xC000,
            irq: self.irq,
            rx_buffers: 8,
            tx_buffers: 4,
            link_speed: 1_000_000_000,
            pci: PciIds {
                bus_dev_fn: 0x0018,
                vendor: 0x8086,
                device: 0x100E,
                base_class: 2,
                sub_class: 0,
                prog_if: 0,
                revision: 3,
                subsys_vendor: 0x1AF4,
                subsys_device: 0x1100,
            },
            isa: self.isa,
        }
    }
    fn nic_open(&mut self, how: &NicOpen<'_>) -> bool {
        self.open = true;
        self.opens
            .push((how.mac, how.filter, how.multicast.to_vec()));
        true
    }
    fn nic_configure(&mut self, how: &NicOpen<'_>) -> bool {
        self.configures
            .push((how.mac, how.filter, how.multicast.to_vec()));
        self.configure_ok
    }
    fn nic_close(&mut self) {
        self.open = false;
    }
    fn transmit(&mut self, frame: &[u8]) -> bool {
        if !self.transmit_ok {
            return false;
        }
        self.tx.push(frame.to_vec());
        if let Some(peer) = self.peer.as_mut() {
            for reply in peer.on_frame(frame) {
                self.rx.push_back(reply);
            }
        }
        true
    }
    fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        let f = self.rx.pop_front()?;
        let n = f.len().min(buf.len());
        buf[..n].copy_from_slice(&f[..n]);
        Some(n)
    }
    fn set_interrupts(&mut self, enable: bool) {
        self.irq_enabled = enable;
    }
    fn ack_interrupt(&mut self) -> bool {
        std::mem::take(&mut self.irq_pending)
    }
    fn now(&mut self) -> Instant {
        Instant(self.now)
    }
    fn pump(&mut self) {
        self.now += STEP_MS;
    }
    fn hooks_removable(&self) -> bool {
        self.hooks_ok
    }
    fn isr_shared(&self) -> &IsrShared {
        &self.shared
    }
}

pub fn config() -> PxeConfig {
    let mut c = PxeConfig::new(SCRATCH);
    c.tftp.timeout_ms = 200;
    c.tftp.max_timeout_ms = 400;
    c.tftp.retries = 2;
    c.max_wait_ms = 20_000;
    c
}

pub fn setup() -> (Box<PxeStack>, Fake) {
    let mut stack = Box::new(PxeStack::new(config(), OUR_MAC).unwrap());
    stack.configure(OUR_IP, Some(Ipv4Addr::new(255, 255, 255, 0)), None);
    (stack, Fake::new())
}

/// Write `block` at PARAMS, dispatch `op`, read the block back.
pub fn call<T: FromBytes + IntoBytes + Immutable>(
    stack: &mut PxeStack,
    f: &mut Fake,
    op: Opcode,
    block: &T,
) -> (Outcome, T) {
    f.put(PARAMS, block.as_bytes());
    let out = dispatch(stack, f, op, PARAMS);
    let back = T::read_from_bytes(&f.get(PARAMS, std::mem::size_of::<T>())).unwrap();
    (out, back)
}

// ---- frames ----

pub fn ip_checksum(h: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in h.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// An Ethernet + IPv4 + UDP frame (UDP checksum 0).
pub fn udp_frame(
    dst_mac: [u8; 6],
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    payload: &[u8],
) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&PEER_MAC);
    f.extend_from_slice(&[0x08, 0x00]);
    let total = 20 + 8 + payload.len();
    let mut ip = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0,
        0,
        64,
        17,
        0,
        0,
    ];
    ip.extend_from_slice(&src.0.octets());
    ip.extend_from_slice(&dst.0.octets());
    let c = ip_checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    let ulen = (8 + payload.len()) as u16;
    f.extend_from_slice(&src.1.to_be_bytes());
    f.extend_from_slice(&dst.1.to_be_bytes());
    f.extend_from_slice(&ulen.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

/// (src ip, src port, dst ip, dst port, payload) of a UDP frame.
pub fn parse_udp(f: &[u8]) -> Option<(Ipv4Addr, u16, Ipv4Addr, u16, Vec<u8>)> {
    if f.len() < 42 || f[12..14] != [0x08, 0x00] || f[23] != 17 {
        return None;
    }
    let ihl = usize::from(f[14] & 0xF) * 4;
    let u = 14 + ihl;
    let src = Ipv4Addr::new(f[26], f[27], f[28], f[29]);
    let dst = Ipv4Addr::new(f[30], f[31], f[32], f[33]);
    let sp = u16::from_be_bytes([f[u], f[u + 1]]);
    let dp = u16::from_be_bytes([f[u + 2], f[u + 3]]);
    let len = usize::from(u16::from_be_bytes([f[u + 4], f[u + 5]]));
    Some((src, sp, dst, dp, f[u + 8..u + len].to_vec()))
}

// ---- the scripted peer ----

pub struct Transfer {
    client: (Ipv4Addr, u16),
    tid: u16,
    data: Vec<u8>,
    blksize: usize,
    window: u16,
}

pub struct Peer {
    pub files: Vec<(String, Vec<u8>)>,
    /// Answer options with an OACK (else ignore them, RFC 1350 style).
    pub options: bool,
    /// Largest windowsize granted.
    pub max_window: u16,
    pub transfer: Option<Transfer>,
    pub rrqs: Vec<Vec<(String, String)>>,
    pub answer_arp: bool,
    /// DATA blocks lost on the wire the first time they are sent.
    pub lose_once: Vec<u16>,
    next_tid: u16,
}

impl Peer {
    pub fn new() -> Self {
        Peer {
            files: Vec::new(),
            options: true,
            max_window: 4,
            transfer: None,
            rrqs: Vec::new(),
            answer_arp: true,
            lose_once: Vec::new(),
            next_tid: 0x9000,
        }
    }

    pub fn on_frame(&mut self, f: &[u8]) -> Vec<Vec<u8>> {
        if f.len() >= 42 && f[12..14] == [0x08, 0x06] && f[21] == 1 {
            let target = Ipv4Addr::new(f[38], f[39], f[40], f[41]);
            if target == PEER_IP && self.answer_arp {
                let mut r = Vec::new();
                r.extend_from_slice(&f[6..12]);
                r.extend_from_slice(&PEER_MAC);
                r.extend_from_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2]);
                r.extend_from_slice(&PEER_MAC);
                r.extend_from_slice(&PEER_IP.octets());
                r.extend_from_slice(&f[22..32]);
                r.resize(60, 0);
                return vec![r];
            }
            return vec![];
        }
        let Some((sip, sp, dip, dp, payload)) = parse_udp(f) else {
            return vec![];
        };
        if dip != PEER_IP && !dip.is_broadcast() {
            return vec![];
        }
        let reply = |p: u16, data: &[u8]| udp_frame(OUR_MAC, (PEER_IP, p), (sip, sp), data);
        match dp {
            7 => vec![reply(7, &payload)],
            69 => self.rrq(sip, sp, &payload),
            _ => match self.transfer.as_ref() {
                Some(t) if t.tid == dp && payload.len() >= 4 && payload[1] == 4 => {
                    let block = u16::from_be_bytes([payload[2], payload[3]]);
                    self.window_after(block)
                }
                _ => vec![],
            },
        }
    }

    fn rrq(&mut self, ip: Ipv4Addr, port: u16, p: &[u8]) -> Vec<Vec<u8>> {
        let parts: Vec<String> = p[2..]
            .split(|b| *b == 0)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        let name = parts[0].clone();
        let mut opts = Vec::new();
        let mut i = 2;
        while i + 1 < parts.len() {
            opts.push((parts[i].to_lowercase(), parts[i + 1].clone()));
            i += 2;
        }
        self.rrqs.push(opts.clone());
        self.next_tid += 1;
        let tid = self.next_tid;
        let Some(data) = self.files.iter().find(|f| f.0 == name).map(|f| f.1.clone()) else {
            let mut e = vec![0, 5, 0, 1];
            e.extend_from_slice(b"File not found\0");
            return vec![udp_frame(OUR_MAC, (PEER_IP, tid), (ip, port), &e)];
        };
        let mut t = Transfer {
            client: (ip, port),
            tid,
            data,
            blksize: 512,
            window: 1,
        };
        if self.options && !opts.is_empty() {
            let mut oack = vec![0, 6];
            for (k, v) in &opts {
                let val = match k.as_str() {
                    "blksize" => {
                        t.blksize = v.parse::<usize>().unwrap().min(1468);
                        t.blksize.to_string()
                    }
                    "windowsize" => {
                        t.window = v.parse::<u16>().unwrap().min(self.max_window);
                        t.window.to_string()
                    }
                    "tsize" => t.data.len().to_string(),
                    _ => continue,
                };
                oack.extend_from_slice(k.as_bytes());
                oack.push(0);
                oack.extend_from_slice(val.as_bytes());
                oack.push(0);
            }
            self.transfer = Some(t);
            return vec![udp_frame(OUR_MAC, (PEER_IP, tid), (ip, port), &oack)];
        }
        self.transfer = Some(t);
        self.window_after(0)
    }

    fn window_after(&mut self, acked: u16) -> Vec<Vec<u8>> {
        let Some(t) = self.transfer.as_ref() else {
            return vec![];
        };
        let lose = &mut self.lose_once;
        let mut out = Vec::new();
        for b in 1..=t.window {
            let block = usize::from(acked) + usize::from(b);
            let start = (block - 1) * t.blksize;
            if start > t.data.len() {
                break;
            }
            let end = (start + t.blksize).min(t.data.len());
            let mut d = vec![0, 3];
            d.extend_from_slice(&(block as u16).to_be_bytes());
            d.extend_from_slice(&t.data[start..end]);
            if let Some(i) = lose.iter().position(|&l| usize::from(l) == block) {
                lose.remove(i);
            } else {
                out.push(udp_frame(OUR_MAC, (PEER_IP, t.tid), t.client, &d));
            }
            if end - start < t.blksize {
                break;
            }
        }
        out
    }
}

/// A file of `n` bytes with a recognisable pattern.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}
