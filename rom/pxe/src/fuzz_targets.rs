//! Fuzz target bodies (layer `rom/pxe`): the PXE API as the firmware sees it, NBP-supplied data
//! all the way: hostile SEG:OFF pointers and parameter blocks through [`crate::dispatch`] on a
//! platform whose memory is policed by the firmware's own [`Guard`], the pointer arithmetic of
//! [`crate::mem`], and the NBP download window. Shared by the cargo-fuzz crate in
//! `rom/net/fuzz` and the stable smoke test `tests/fuzz_smoke.rs`. Inputs are records as in
//! `softpxe_net::fuzz_targets::records` (`[ctl, len_lo, len_hi, bytes...]`, up to a full
//! Ethernet frame). None may panic on any input.

use crate::abi::{SegOff16, EXIT_FAILURE, EXIT_SUCCESS};
use crate::mem::{phys_range, segoff_range, Guard, Memory, NbpWindow, REAL_MODE_LIMIT};
use crate::platform::{IsrShared, NicInfo, NicOpen, PciIds, Platform};
use crate::stack::{PxeConfig, PxeStack};
use crate::{dispatch, dispatch_nested, Opcode, Status};
use softpxe_net::fuzz_targets::{records, MAX_RECORD};
use softpxe_net::tftp::{Sink, SinkFull, TftpClient, TftpConfig};
use softpxe_net::{Instant, Ipv4Addr, UdpMeta};

const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
/// Base memory the fake backs with bytes: 0x10000-0x2FFFF (segments 1000h-2FFFh).
const WINDOW_BASE: u64 = 0x1_0000;
const WINDOW: usize = 0x2_0000;
/// The resident part (read-only to NBP pointers) and the "core" (out of reach), both inside
/// real-mode reach so that hostile pointers can aim at them.
const RESIDENT: (u64, u64) = (0x3_0000, 0x3_1000);
const CORE: (u64, u64) = (0x3_8000, 0x4_0000);
const GUARD: Guard = Guard::new(CORE, RESIDENT);
/// Where a call's block goes when the record asks for the usual place.
const PARAMS: SegOff16 = SegOff16::new(0x1000, 0x0010);
const SCRATCH: SegOff16 = SegOff16::new(0x2000, 0x0000);
const RX_SLOTS: usize = 4;

struct Fake {
    mem: [u8; WINDOW],
    rx: [[u8; MAX_RECORD]; RX_SLOTS],
    rx_len: [usize; RX_SLOTS],
    rx_head: usize,
    rx_count: usize,
    now_ms: u64,
    hooks_ok: bool,
    transmit_ok: bool,
    shared: IsrShared,
}

impl Fake {
    /// The part of `[phys, phys + len)` inside the window, as window offsets.
    fn backed(phys: u64, len: usize) -> Option<(usize, usize, usize)> {
        let start = phys.max(WINDOW_BASE);
        let end = (phys + len as u64).min(WINDOW_BASE + WINDOW as u64);
        (start < end).then(|| {
            (
                (start - WINDOW_BASE) as usize,
                (end - WINDOW_BASE) as usize,
                (start - phys) as usize,
            )
        })
    }
}

impl Memory for Fake {
    fn read(&self, phys: u64, buf: &mut [u8]) -> bool {
        if !GUARD.allows(phys, buf.len(), false) {
            return false;
        }
        buf.fill(0);
        if let Some((s, e, at)) = Fake::backed(phys, buf.len()) {
            buf[at..at + (e - s)].copy_from_slice(&self.mem[s..e]);
        }
        true
    }
    fn write(&mut self, phys: u64, data: &[u8]) -> bool {
        if !GUARD.allows(phys, data.len(), true) {
            return false;
        }
        let end = phys + data.len() as u64;
        let hits = |(s, e): (u64, u64)| phys < e && end > s;
        assert!(
            !hits(CORE) && !hits(RESIDENT) && phys >= 0x500,
            "a write the guard let through hits softpxe: {phys:#x}+{}",
            data.len()
        );
        if let Some((s, e, at)) = Fake::backed(phys, data.len()) {
            self.mem[s..e].copy_from_slice(&data[at..at + (e - s)]);
        }
        true
    }
}

impl Platform for Fake {
    fn nic_info(&self) -> NicInfo {
        NicInfo {
            mac: MAC,
            io_base: 0xC000,
            irq: 11,
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
            isa: None,
        }
    }
    fn nic_open(&mut self, _how: &NicOpen<'_>) -> bool {
        true
    }
    fn nic_close(&mut self) {}
    fn transmit(&mut self, frame: &[u8]) -> bool {
        assert!(frame.len() <= MAX_RECORD, "a {}-byte frame", frame.len());
        self.transmit_ok
    }
    fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        if self.rx_count == 0 {
            return None;
        }
        let slot = self.rx_head;
        self.rx_head = (slot + 1) % RX_SLOTS;
        self.rx_count -= 1;
        let n = self.rx_len[slot].min(buf.len());
        buf[..n].copy_from_slice(&self.rx[slot][..n]);
        Some(n)
    }
    fn now(&mut self) -> Instant {
        Instant(self.now_ms)
    }
    fn pump(&mut self) {
        self.now_ms += 10;
    }
    fn hooks_removable(&self) -> bool {
        self.hooks_ok
    }
    fn isr_shared(&self) -> &IsrShared {
        &self.shared
    }
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([
        b.get(at).copied().unwrap_or(0),
        b.get(at + 1).copied().unwrap_or(0),
    ])
}

/// The PXE API driven by an NBP: each record is a call (`ctl & 3 == 0`: opcode, SEG:OFF and the
/// bytes put there; `ctl & 4` picks a known opcode, `ctl & 8` the usual block address, `ctl &
/// 0x10` a nested call), a received frame (1), a time step (2) or platform trouble (3: hooks
/// that cannot come off, failing transmits). AX must agree with the status, and no write the
/// guard lets through may land on softpxe.
pub fn pxe_api(data: &[u8]) {
    let mut cfg = PxeConfig::new(SCRATCH);
    cfg.max_wait_ms = 300;
    cfg.tftp = TftpConfig {
        timeout_ms: 100,
        max_timeout_ms: 200,
        retries: 1,
        ..TftpConfig::default()
    };
    cfg.nbp_limit = 0x1_0000;
    let Ok(mut stack) = PxeStack::new(cfg, MAC) else {
        return;
    };
    stack.configure(
        Ipv4Addr::new(10, 0, 2, 15),
        Some(Ipv4Addr::new(255, 255, 255, 0)),
        None,
    );
    let mut f = Fake {
        mem: [0; WINDOW],
        rx: [[0; MAX_RECORD]; RX_SLOTS],
        rx_len: [0; RX_SLOTS],
        rx_head: 0,
        rx_count: 0,
        now_ms: 1000,
        hooks_ok: true,
        transmit_ok: true,
        shared: IsrShared::new(),
    };
    for (n, (ctl, chunk)) in records(data).enumerate() {
        if n >= 64 {
            break;
        }
        match ctl & 3 {
            0 => {
                let op = if ctl & 4 != 0 {
                    u16::from(chunk.first().copied().unwrap_or(0) & 0x7f)
                } else {
                    le16(chunk, 0)
                };
                let at = if ctl & 8 != 0 {
                    PARAMS
                } else {
                    SegOff16::new(le16(chunk, 2), le16(chunk, 4))
                };
                let block = chunk.get(6..).unwrap_or(&[]);
                let _ = f.write(u64::from(at.linear()), block);
                let o = if ctl & 0x10 != 0 {
                    dispatch_nested(&mut f, Opcode(op), at)
                } else {
                    dispatch(&mut stack, &mut f, Opcode(op), at)
                };
                let want = if o.status == Status::SUCCESS {
                    EXIT_SUCCESS
                } else {
                    EXIT_FAILURE
                };
                assert_eq!(o.exit, want, "opcode {op:#x}: AX and status disagree");
            }
            1 => {
                let slot = (f.rx_head + f.rx_count) % RX_SLOTS;
                f.rx[slot][..chunk.len()].copy_from_slice(chunk);
                f.rx_len[slot] = chunk.len();
                if f.rx_count < RX_SLOTS {
                    f.rx_count += 1;
                } else {
                    f.rx_head = (f.rx_head + 1) % RX_SLOTS;
                }
            }
            2 => f.now_ms += chunk.len() as u64 * 10,
            _ => {
                f.hooks_ok = ctl & 0x10 == 0;
                f.transmit_ok = ctl & 0x20 == 0;
            }
        }
    }
}

/// The pointer arithmetic the API relies on, checked against a plain model: `Guard::allows`
/// for any core and resident range, `segoff_range` and `phys_range` for any pointer and size.
pub fn pxe_memory(data: &[u8]) {
    let word = |i: usize| -> u64 {
        let mut b = [0u8; 8];
        for (k, v) in b.iter_mut().enumerate() {
            *v = data.get(i * 8 + k).copied().unwrap_or(0);
        }
        u64::from_le_bytes(b)
    };
    let (w0, w1, w2, w3) = (word(0), word(1), word(2), word(3));
    let (c0, c1) = (w0 & 0xffff_ffff, (w0 & 0xffff_ffff) + (w0 >> 44));
    let (r0, r1) = (w1 & 0x0f_ffff, (w1 & 0x0f_ffff) + ((w1 >> 32) & 0xffff));
    let guard = Guard::new((c0, c1), (r0, r1));
    let phys = if w2 >> 63 != 0 {
        w2
    } else {
        w2 & 0x1_ffff_ffff
    };
    let len = (w3 & 0xff_ffff) as usize;
    for writing in [false, true] {
        if guard.allows(phys, len, writing) {
            let end = phys + len as u64;
            assert!(end <= 1 << 32, "past 4 GiB: {phys:#x}+{len:#x}");
            assert!(!(phys < c1 && end > c0), "touches the core");
            if writing {
                assert!(phys >= 0x500 && !(phys < r1 && end > r0), "writes softpxe");
            }
        }
    }
    let (seg, off) = ((w3 >> 32) as u16, (w3 >> 48) as u16);
    if let Some((p, n)) = segoff_range(seg, off, len) {
        assert_eq!(p, u64::from(seg) * 16 + u64::from(off));
        assert!(u64::from(off) + n as u64 <= 0x1_0000 && p + n as u64 <= REAL_MODE_LIMIT);
    }
    if let Some((p, n)) = phys_range(w2 as u32, len) {
        assert!(p + n as u64 <= 1 << 32);
    }
}

/// The NBP download as the firmware's sink sees it: a TFTP client (full-size 1468-byte blocks
/// when bit 0 of the first byte is set, 512 otherwise) fed arbitrary packets writes through
/// [`NbpWindow`] into a window of base memory; nothing may land outside it.
pub fn nbp_sink(data: &[u8]) {
    struct Window<'a> {
        win: NbpWindow,
        mem: &'a mut [u8],
    }
    impl Sink for Window<'_> {
        fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SinkFull> {
            let at = self.win.place(offset, data.len()).ok_or(SinkFull)?;
            let from = (at - self.win.base) as usize;
            assert!(from + data.len() <= self.mem.len(), "past the window");
            self.mem[from..from + data.len()].copy_from_slice(data);
            Ok(())
        }
        fn announce_size(&mut self, size: u64) -> Result<(), SinkFull> {
            if self.win.fits(size) {
                Ok(())
            } else {
                Err(SinkFull)
            }
        }
    }
    let mut mem = [0u8; 0x8000];
    let win = NbpWindow {
        base: 0x7C00,
        limit: 0x7C00 + mem.len() as u32,
    };
    let mut sink = Window { win, mem: &mut mem };
    let server = Ipv4Addr::new(10, 0, 0, 1);
    let cfg = TftpConfig {
        blksize: if data.first().is_some_and(|b| b & 1 != 0) {
            1468
        } else {
            512
        },
        windowsize: 8,
        ..TftpConfig::default()
    };
    let mut c = TftpClient::new(
        Instant(0),
        cfg,
        softpxe_net::tftp::Mode::Read,
        server,
        2000,
        b"nbp",
    );
    let mut buf = [0u8; 1500];
    let mut now = 0u64;
    for (ctl, chunk) in records(data.get(1..).unwrap_or(&[])) {
        now += u64::from(ctl & 0x0f) * 300;
        let meta = UdpMeta {
            src_ip: server,
            src_port: if ctl & 0x10 != 0 { 70 } else { 69 },
            dst_ip: Ipv4Addr::new(10, 0, 0, 2),
            dst_port: 2000,
        };
        c.handle(Instant(now), &meta, chunk, &mut sink);
        while c.poll(Instant(now), &mut buf).is_some() {}
    }
    // the edges of the window itself
    let (a, b) = (le16(data, 1), le16(data, 3));
    if let Some(at) = win.place(u64::from(a) << 4, usize::from(b)) {
        assert!(at >= win.base && u64::from(at) + u64::from(b) <= u64::from(win.limit));
    }
}

/// A fuzz target body.
pub type Target = fn(&[u8]);

/// All targets by name, for the smoke test.
pub const ALL: [(&str, Target); 3] = [
    ("pxe_api", pxe_api),
    ("pxe_memory", pxe_memory),
    ("nbp_sink", nbp_sink),
];
