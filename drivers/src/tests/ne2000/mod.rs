//! ne2000 against a fake DP8390 board that behaves like QEMU's `ne2k_pci` / `ne2k_isa` model:
//! the reset port resets (ISR.RST, PROM doubled into 32 bytes with "WW" at 14/15), remote DMA
//! moves words or bytes by DCR.WTS and wraps at PSTOP, RDC when the count runs out, TX is
//! immediate (PTX, TXP cleared), and receive writes header + frame at CURR with the model's
//! page rounding and ring wrap. Unlike QEMU (which silently drops) it raises ISR.OVW when the
//! ring is full, as the real chip does. An 8-bit board (NE1000-style PROM, not doubled) is
//! modelled for the byte-mode tests only.

use std::vec::Vec;

mod filter;
mod isa_8bit;

use super::{flt, frame};
use crate::fake::{Bus, FakeDevice, FakeHal, FakePciFunction, Space, DMA_BASE_HIGH};
use crate::filter::RxFilter;
use crate::ne2000::isa::IsaCard;
use crate::ne2000::regs::*;
use crate::ne2000::{BusWidth, Ne2000};
use crate::nic::{Nic, NicError};
use crate::pci::{self, Command, PciAddress};
use crate::rtl8139::mar_hash;

const PCI: PciAddress = PciAddress::new(0, 5, 0);
const IO: u16 = 0xC100;
const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const GROUP_A: [u8; 6] = [0x01, 0x00, 0x5E, 0x01, 0x02, 0x03];
const ALL_HOSTS: [u8; 6] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01];
const NEW_MAC: [u8; 6] = [0x02, 0x50, 0x58, 0x45, 0x00, 0x01];

struct Dev {
    io: u16,
    byte_board: bool,
    cmd: u8,
    start: u8,
    stop: u8,
    bnry: u8,
    curr: u8,
    tpsr: u8,
    tcnt: u16,
    rsar: u16,
    rcnt: u16,
    isr: u8,
    imr: u8,
    dcr: u8,
    rcr: u8,
    par: [u8; 6],
    mar: [u8; 8],
    mem: Vec<u8>,
    sent: Vec<Vec<u8>>,
    tx_stalled: bool,
    resets: usize,
    /// Match unicast against the PROM (QEMU's model) instead of PAR0–5 (the real chip).
    qemu_unicast: bool,
}

impl Dev {
    fn new(io: u16, byte_board: bool) -> Self {
        let mut d = Dev {
            io,
            byte_board,
            cmd: 0,
            start: 0,
            stop: 0,
            bnry: 0,
            curr: 0,
            tpsr: 0,
            tcnt: 0,
            rsar: 0,
            rcnt: 0,
            isr: 0,
            imr: 0,
            dcr: 0,
            rcr: 0,
            par: [0; 6],
            mar: [0; 8],
            mem: std::vec![0; 0x10000],
            sent: Vec::new(),
            tx_stalled: false,
            resets: 0,
            qemu_unicast: false,
        };
        d.reset();
        d.resets = 0;
        d
    }

    fn reset(&mut self) {
        self.isr = Isr::RST.bits();
        let mut prom = [0u8; 16];
        prom[..6].copy_from_slice(&MAC);
        prom[14] = 0x57;
        prom[15] = 0x57;
        for (i, &b) in prom.iter().enumerate() {
            if self.byte_board {
                self.mem[i] = b;
                self.mem[16 + i] = 0;
            } else {
                self.mem[2 * i] = b;
                self.mem[2 * i + 1] = b;
            }
        }
        self.resets += 1;
    }

    fn dma_update(&mut self, len: u16) {
        self.rsar = self.rsar.wrapping_add(len);
        if self.rsar == u16::from(self.stop) << 8 {
            self.rsar = u16::from(self.start) << 8;
        }
        if self.rcnt <= len {
            self.rcnt = 0;
            self.isr |= Isr::RDC.bits();
        } else {
            self.rcnt -= len;
        }
    }

    fn page(&self) -> u8 {
        self.cmd >> 6
    }

    fn command(&mut self, val: u8) {
        // Writing TXP = 0 does not cancel a transmission in progress.
        self.cmd = val | self.cmd & Cr::TXP.bits();
        if val & Cr::STP.bits() != 0 {
            return;
        }
        self.isr &= !Isr::RST.bits();
        if val & (Cr::RD_READ | Cr::RD_WRITE).bits() != 0
            && val & Cr::RD_ABORT.bits() == 0
            && self.rcnt == 0
        {
            self.isr |= Isr::RDC.bits();
        }
        if self.cmd & Cr::TXP.bits() != 0 && !self.tx_stalled {
            let at = usize::from(self.tpsr) << 8;
            self.sent
                .push(self.mem[at..at + usize::from(self.tcnt)].to_vec());
            self.isr |= Isr::PTX.bits();
            self.cmd &= !Cr::TXP.bits();
        }
    }

    fn read_reg(&mut self, off: u16) -> u8 {
        match (self.page(), off) {
            (_, 0) => self.cmd,
            (0, 3) => self.bnry,
            (0, 4) => 0x01,
            (0, 7) => self.isr,
            (0, 0x0A) => 0x50,
            (0, 0x0B) => 0x43,
            (1, 1..=6) => self.par[usize::from(off) - 1],
            (1, 7) => self.curr,
            (1, 8..=15) => self.mar[usize::from(off) - 8],
            (2, 1) => self.start,
            (2, 2) => self.stop,
            (2, 0x0C) => self.rcr,
            (2, 0x0E) => self.dcr,
            (2, 0x0F) => self.imr,
            _ => 0,
        }
    }

    fn write_reg(&mut self, off: u16, v: u8) {
        match (self.page(), off) {
            (_, 0) => self.command(v),
            (0, 1) => self.start = v,
            (0, 2) => self.stop = v,
            (0, 3) => self.bnry = v,
            (0, 4) => self.tpsr = v,
            (0, 5) => self.tcnt = self.tcnt & 0xFF00 | u16::from(v),
            (0, 6) => self.tcnt = self.tcnt & 0xFF | u16::from(v) << 8,
            (0, 7) => self.isr &= !(v & 0x7F),
            (0, 8) => self.rsar = self.rsar & 0xFF00 | u16::from(v),
            (0, 9) => self.rsar = self.rsar & 0xFF | u16::from(v) << 8,
            (0, 0x0A) => self.rcnt = self.rcnt & 0xFF00 | u16::from(v),
            (0, 0x0B) => self.rcnt = self.rcnt & 0xFF | u16::from(v) << 8,
            (0, 0x0C) => self.rcr = v,
            (0, 0x0E) => self.dcr = v,
            (0, 0x0F) => self.imr = v,
            (1, 1..=6) => self.par[usize::from(off) - 1] = v,
            (1, 7) => self.curr = v,
            (1, 8..=15) => self.mar[usize::from(off) - 8] = v,
            _ => {}
        }
    }

    fn word_mode(&self) -> bool {
        self.dcr & Dcr::WTS.bits() != 0
    }

    /// A frame arriving from the wire; `false` if the board did not store it.
    fn receive(&mut self, data: &[u8]) -> bool {
        if self.cmd & Cr::STP.bits() != 0 {
            return false;
        }
        let dst: [u8; 6] = data[..6].try_into().unwrap();
        let rcr = Rcr::from_bits_retain(self.rcr);
        let ok = rcr.contains(Rcr::PRO)
            || if dst == [0xFF; 6] {
                rcr.contains(Rcr::AB)
            } else if dst[0] & 1 != 0 {
                let h = mar_hash(&dst);
                rcr.contains(Rcr::AM) && self.mar[usize::from(h >> 3)] & 1 << (h & 7) != 0
            } else if self.qemu_unicast {
                (0..6).all(|i| dst[i] == self.mem[2 * i])
            } else {
                dst == self.par
            };
        if !ok {
            return false;
        }
        let (start, stop) = (usize::from(self.start) << 8, usize::from(self.stop) << 8);
        let index = usize::from(self.curr) << 8;
        let boundary = usize::from(self.bnry) << 8;
        let avail = if index < boundary {
            boundary - index
        } else {
            (stop - start) - (index - boundary)
        };
        if avail < 1518 + 4 {
            self.isr |= Isr::OVW.bits();
            return false;
        }
        let mut buf = data.to_vec();
        buf.resize(buf.len().max(60), 0);
        let total = buf.len() + 4;
        let mut next = index + ((total + 4 + 255) & !0xFF);
        if next >= stop {
            next -= stop - start;
        }
        let status = if dst[0] & 1 != 0 { 0x21 } else { 0x01 };
        self.mem[index..index + 4].copy_from_slice(&[
            status,
            (next >> 8) as u8,
            total as u8,
            (total >> 8) as u8,
        ]);
        let mut at = index + 4;
        for b in buf {
            if at == stop {
                at = start;
            }
            self.mem[at] = b;
            at += 1;
        }
        self.curr = (next >> 8) as u8;
        self.isr |= Isr::PRX.bits();
        true
    }
}

impl FakeDevice for Dev {
    fn on_write(&mut self, _: &mut Bus, space: Space, addr: u64, width: u8, value: u64) {
        let Some(off) = addr.checked_sub(u64::from(self.io)).filter(|&o| o < 0x20) else {
            return;
        };
        if space != Space::Io {
            return;
        }
        match off as u16 {
            DATA if width == 2 && self.word_mode() => {
                let a = usize::from(self.rsar & !1);
                self.mem[a..a + 2].copy_from_slice(&(value as u16).to_le_bytes());
                self.dma_update(2);
            }
            DATA => {
                self.mem[usize::from(self.rsar)] = value as u8;
                self.dma_update(1);
            }
            RESET => {}
            o if o < 0x10 => self.write_reg(o, value as u8),
            _ => {}
        }
    }

    fn on_read(&mut self, _: &mut Bus, space: Space, addr: u64, width: u8) -> Option<u64> {
        let Some(off) = addr.checked_sub(u64::from(self.io)).filter(|&o| o < 0x20) else {
            // An empty ISA bus.
            return Some(u64::MAX >> (64 - 8 * u32::from(width)));
        };
        if space != Space::Io {
            return None;
        }
        Some(match off as u16 {
            DATA if width == 2 => {
                let a = usize::from(self.rsar & !1);
                let v = u16::from_le_bytes([self.mem[a], self.mem[a + 1]]);
                // A word access in byte mode still moves one byte on an 8-bit board.
                self.dma_update(if self.word_mode() { 2 } else { 1 });
                u64::from(v)
            }
            DATA => {
                let v = self.mem[usize::from(self.rsar)];
                self.dma_update(1);
                u64::from(v)
            }
            RESET => {
                self.reset();
                0
            }
            o if o < 0x10 => u64::from(self.read_reg(o)),
            _ => 0xFF,
        })
    }
}

fn setup() -> (FakeHal<Dev>, Ne2000) {
    let mut hal = FakeHal::new(Dev::new(IO, false), DMA_BASE_HIGH);
    hal.add_pci(
        PCI,
        FakePciFunction::new(0x10EC, 0x8029, [2, 0, 0]).with_io_bar(0, IO.into(), 0x100),
    );
    let nic = Ne2000::new(&mut hal, PCI).expect("probe");
    (hal, nic)
}

fn opened() -> (FakeHal<Dev>, Ne2000) {
    let (mut hal, mut nic) = setup();
    nic.open(&mut hal).expect("open");
    (hal, nic)
}

fn io(off: u16) -> u64 {
    u64::from(IO + off)
}

fn to(dst: [u8; 6], len: usize, seed: u8) -> Vec<u8> {
    let mut f = frame(len, seed);
    f[..6].copy_from_slice(&dst);
    f
}

#[test]
fn mac_comes_from_the_prom_in_word_mode() {
    let (mut hal, nic) = setup();
    assert_eq!(nic.mac(), MAC);
    assert_eq!(nic.width(), BusWidth::Word);
    assert_eq!(
        hal.device.resets, 1,
        "one board reset through the reset port"
    );
    assert!(pci::command(&mut hal, PCI).contains(Command::IO_SPACE));
    assert!(!pci::command(&mut hal, PCI).contains(Command::BUS_MASTER));
    let dcr = hal.writes_to(Space::Io, io(DCR));
    assert!(dcr.iter().all(|&v| v & u64::from(Dcr::WTS.bits()) != 0));
    assert_eq!(
        hal.device.cmd & Cr::STP.bits(),
        Cr::STP.bits(),
        "left stopped"
    );
}

#[test]
fn open_follows_the_initialisation_procedure() {
    let (mut hal, mut nic) = setup();
    let before = hal.log.len();
    nic.open(&mut hal).unwrap();
    let stop = before
        + hal.log[before..]
            .iter()
            .position(|e| matches!(*e, crate::fake::Event::Write { addr, value: 0x21, .. } if addr == io(CR)))
            .expect("CR = STP");
    let _ = hal
        .first_write(Space::Io, io(CR), |v| v == 0x21)
        .expect("CR = STP");
    let log_from = |reg: u16, pred: fn(u64) -> bool| {
        hal.log
            .iter()
            .enumerate()
            .skip(stop)
            .position(|(_, e)| {
                matches!(*e, crate::fake::Event::Write { addr, value, .. } if addr == io(reg) && pred(value))
            })
            .map(|p| p + stop)
            .unwrap()
    };
    let dcr = log_from(DCR, |_| true);
    let pstart = log_from(PSTART, |v| v == 0x4C);
    let curr = log_from(CURR, |v| v == 0x4D);
    let start = log_from(CR, |v| v == 0x22);
    let rcr = log_from(RCR, |v| v == u64::from(Rcr::AB.bits()));
    assert!(stop < dcr && dcr < pstart && pstart < curr && curr < start && start < rcr);
    let d = &hal.device;
    assert_eq!((d.start, d.stop, d.bnry, d.curr), (0x4C, 0x80, 0x4C, 0x4D));
    assert_eq!(d.par, MAC);
    assert_eq!(d.imr, 0, "interrupts masked");
    assert_eq!(d.cmd & 0x03, Cr::STA.bits());
}

#[test]
fn transmit_alternates_two_page_buffers_and_pads() {
    let (mut hal, mut nic) = opened();
    for i in 0..5u8 {
        nic.transmit(&mut hal, &frame(21 + usize::from(i) * 300, i))
            .unwrap();
    }
    let sent = &hal.device.sent;
    assert_eq!(sent.len(), 5);
    let mut first = frame(21, 0);
    first.resize(60, 0);
    assert_eq!(sent[0], first, "short frame padded to 60 bytes");
    assert_eq!(sent[4], frame(1221, 4));
    // TPSR shares its port with PAR3 (page 1).
    assert_eq!(
        hal.writes_to(Space::Io, io(TPSR))[1..],
        [0x40, 0x46, 0x40, 0x46, 0x40]
    );
    // 16-bit data-port writes: an odd length is padded to a word.
    let words = hal.writes_to(Space::Io, io(DATA)).len();
    let want: usize = (0..5)
        .map(|i| (21usize + i * 300).max(60).div_ceil(2))
        .sum();
    assert_eq!(words, want);
}

#[test]
fn remote_dma_is_count_address_command_data_then_rdc() {
    let (mut hal, mut nic) = opened();
    let before = hal.log.len();
    nic.transmit(&mut hal, &frame(100, 1)).unwrap();
    let writes: Vec<(u64, u64)> = hal.log[before..]
        .iter()
        .filter_map(|e| match *e {
            crate::fake::Event::Write { addr, value, .. } if addr != io(DATA) => {
                Some((addr - u64::from(IO), value))
            }
            _ => None,
        })
        .collect();
    let regs = |r: u16, v: u64| (u64::from(r), v);
    assert_eq!(
        writes,
        [
            regs(CR, 0x22),
            regs(ISR, u64::from(Isr::RDC.bits())),
            regs(RBCR0, 100),
            regs(RBCR1, 0),
            regs(RSAR0, 0),
            regs(RSAR1, 0x40),
            regs(CR, 0x12),
            regs(ISR, u64::from(Isr::RDC.bits())),
            regs(ISR, u64::from((Isr::PTX | Isr::TXE).bits())),
            regs(TPSR, 0x40),
            regs(TBCR0, 100),
            regs(TBCR1, 0),
            regs(CR, 0x26),
        ]
    );
}

#[test]
fn transmit_times_out_when_the_previous_frame_never_leaves() {
    let (mut hal, mut nic) = opened();
    hal.device.tx_stalled = true;
    nic.transmit(&mut hal, &frame(60, 0)).unwrap();
    assert_eq!(
        nic.transmit(&mut hal, &frame(60, 1)),
        Err(NicError::TxTimeout)
    );
}

#[test]
fn receive_follows_the_page_ring_across_pstop() {
    let (mut hal, mut nic) = opened();
    let mut buf = [0u8; 1600];
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    let mut seed = 0u8;
    let mut wrapped = 0;
    for batch in [1usize, 3, 2, 1, 4, 2, 3, 1, 2, 5, 1, 3, 2, 4] {
        let mut frames = Vec::new();
        for _ in 0..batch {
            let len = [1514, 61, 700, 1001, 253, 1200, 900][usize::from(seed) % 7];
            frames.push(frame(len, seed));
            seed = seed.wrapping_add(1);
        }
        for f in &frames {
            let at = usize::from(hal.device.curr) << 8;
            wrapped += usize::from(at + 4 + f.len() > 0x8000);
            assert!(hal.device.receive(f));
        }
        for f in &frames {
            assert_eq!(nic.receive(&mut hal, &mut buf), Some(f.len().max(60)));
            assert_eq!(&buf[..f.len()], &f[..]);
        }
        assert_eq!(nic.receive(&mut hal, &mut buf), None);
        assert_eq!(
            hal.device.bnry,
            if hal.device.curr == 0x4C {
                0x7F
            } else {
                hal.device.curr - 1
            }
        );
    }
    assert!(wrapped >= 2, "records ran past PSTOP ({wrapped})");
    // The second half of a wrapped record is read from PSTART.
    assert!(hal.writes_to(Space::Io, io(RSAR1)).contains(&0x4C));
    assert_eq!(nic.rx_dropped(), 0);
}

#[test]
fn overwrite_warning_restarts_the_ring() {
    let (mut hal, mut nic) = opened();
    let mut n = 0;
    while hal.device.receive(&frame(1000, n)) {
        n += 1;
    }
    assert!(hal.device.isr & Isr::OVW.bits() != 0 && n > 5);
    let mut buf = [0u8; 1600];
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(nic.rx_dropped(), 1);
    assert_eq!(
        (hal.device.curr, hal.device.bnry),
        (0x4D, 0x4C),
        "ring emptied"
    );
    assert!(hal.device.receive(&frame(200, 9)));
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(200));
    assert_eq!(&buf[..200], &frame(200, 9)[..]);
}

#[test]
fn corrupt_headers_restart_and_long_frames_are_dropped() {
    let (mut hal, mut nic) = opened();
    let mut buf = [0u8; 1600];
    // A next-page pointer outside the ring.
    let at = usize::from(hal.device.curr) << 8;
    assert!(hal.device.receive(&frame(100, 1)));
    hal.device.mem[at + 1] = 0x90;
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(nic.rx_dropped(), 1);
    // A byte count that does not match the pages used.
    let at = usize::from(hal.device.curr) << 8;
    assert!(hal.device.receive(&frame(100, 2)));
    hal.device.mem[at + 3] = 0x05;
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert_eq!(nic.rx_dropped(), 2);
    // A frame longer than the caller's buffer is dropped, the next one comes through.
    assert!(hal.device.receive(&frame(400, 3)));
    assert!(hal.device.receive(&frame(80, 4)));
    let mut small = [0u8; 200];
    assert_eq!(nic.receive(&mut hal, &mut small), Some(80));
    assert_eq!(&small[..80], &frame(80, 4)[..]);
    assert_eq!(nic.rx_dropped(), 3);
}

#[test]
fn close_stops_and_reopen_starts_afresh() {
    let (mut hal, mut nic) = opened();
    assert!(hal.device.receive(&frame(100, 1)));
    nic.close(&mut hal);
    assert_eq!(hal.device.cmd & 0x3F, 0x21, "stopped, remote DMA aborted");
    assert_eq!(
        nic.transmit(&mut hal, &frame(60, 0)),
        Err(NicError::NotOpen)
    );
    let mut buf = [0u8; 1600];
    assert_eq!(nic.receive(&mut hal, &mut buf), None);
    assert!(
        !hal.device.receive(&frame(100, 2)),
        "a stopped chip takes nothing"
    );
    nic.open(&mut hal).unwrap();
    assert_eq!(nic.receive(&mut hal, &mut buf), None, "ring reset");
    assert!(hal.device.receive(&frame(100, 3)));
    assert_eq!(nic.receive(&mut hal, &mut buf), Some(100));
    nic.transmit(&mut hal, &frame(70, 4)).unwrap();
    assert_eq!(hal.device.sent.last(), Some(&frame(70, 4)));
}

#[test]
fn interrupts_unmask_and_ack_clears_isr() {
    let (mut hal, mut nic) = opened();
    assert!(!nic.ack_interrupt(&mut hal));
    nic.set_interrupts(&mut hal, true).unwrap();
    assert_eq!(hal.device.imr, 0x1F);
    assert!(hal.device.receive(&frame(64, 1)));
    assert!(nic.ack_interrupt(&mut hal));
    assert_eq!(hal.device.isr & 0x1F, 0);
    let mut buf = [0u8; 1600];
    assert_eq!(
        nic.receive(&mut hal, &mut buf),
        Some(64),
        "receive polls CURR"
    );
    nic.transmit(&mut hal, &frame(64, 2)).unwrap();
    assert!(nic.ack_interrupt(&mut hal), "PTX");
    nic.transmit(&mut hal, &frame(64, 3)).unwrap();
    nic.transmit(&mut hal, &frame(64, 4)).unwrap();
    assert_eq!(hal.device.sent.len(), 3);
    nic.close(&mut hal);
    nic.open(&mut hal).unwrap();
    assert_eq!(hal.device.imr, 0x1F, "kept across reopen");
}

#[test]
fn link_and_ring_lengths() {
    let (mut hal, mut nic) = opened();
    assert_eq!(nic.link_speed_bps(&mut hal), Some(10_000_000));
    assert!(nic.link_up(&mut hal));
    assert_eq!((nic.rx_ring_len(), nic.tx_ring_len()), (8, 2));
}
