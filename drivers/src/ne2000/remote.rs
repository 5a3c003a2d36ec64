//! Remote DMA and board-level access for [`Ne2000`] (DP8390D datasheet §7 "Remote DMA",
//! §10.3.1 CR, §11 steps 1–5): the board reset, the PROM read, register-page switches and the
//! data-port transfers in 16- or 8-bit mode, each ended by a bounded wait for ISR.RDC.

use super::regs::*;
use super::{BusWidth, Ne2000, RDC_TIMEOUT_US, RESET_TIMEOUT_US, STOP_TIMEOUT_US};
use crate::hal::{poll_until, Hal};
use crate::nic::NicError;

impl Ne2000 {
    pub(super) fn isr(&self, hal: &mut (impl Hal + ?Sized)) -> Isr {
        Isr::from_bits_retain(hal.inb(self.io + ISR))
    }

    /// The board reset (read the reset port, write the value back), then ISR.RST.
    pub(super) fn board_reset<H: Hal + ?Sized>(&self, hal: &mut H) -> Result<(), NicError> {
        let v = hal.inb(self.io + RESET);
        hal.outb(self.io + RESET, v);
        let done = poll_until(hal, RESET_TIMEOUT_US, |hal| {
            self.isr(hal).contains(Isr::RST)
        });
        hal.outb(self.io + ISR, 0xFF);
        if done {
            Ok(())
        } else {
            Err(NicError::ResetTimeout)
        }
    }

    /// §11 steps 1–5 (stopped, DMA aborted, data width, counts zero, monitor + loopback), then a
    /// remote read of the PROM.
    pub(super) fn read_prom<H: Hal + ?Sized>(
        &self,
        hal: &mut H,
        prom: &mut [u8],
    ) -> Result<(), NicError> {
        hal.outb(self.io + CR, (Cr::STP | Cr::RD_ABORT).bits());
        hal.outb(self.io + DCR, self.dcr());
        hal.outb(self.io + RBCR0, 0);
        hal.outb(self.io + RBCR1, 0);
        hal.outb(self.io + IMR, 0);
        hal.outb(self.io + ISR, 0xFF);
        hal.outb(self.io + RCR, Rcr::MON.bits());
        hal.outb(self.io + TCR, TCR_LOOPBACK);
        self.remote_read(hal, 0, prom)
    }

    /// Stops the chip (its reset state) and waits briefly for ISR.RST.
    pub(super) fn stop<H: Hal + ?Sized>(&self, hal: &mut H) {
        hal.outb(self.io + CR, (Cr::STP | Cr::RD_ABORT).bits());
        hal.outb(self.io + IMR, 0);
        // The real chip sets RST once the frame in progress is done; QEMU's model never does
        // on STP, so this is a bounded courtesy wait, not a check.
        let _ = poll_until(hal, STOP_TIMEOUT_US, |hal| self.isr(hal).contains(Isr::RST));
    }

    /// CR's start/stop bit for register-page switches: keep the chip in the state it is in.
    pub(super) fn run(&self) -> Cr {
        if self.open {
            Cr::STA
        } else {
            Cr::STP
        }
    }

    pub(super) fn page(&self, hal: &mut (impl Hal + ?Sized), page: Cr) {
        hal.outb(self.io + CR, (self.run() | Cr::RD_ABORT | page).bits());
    }

    /// Sets up a remote DMA of `count` bytes at board address `addr` (§7 "Remote DMA").
    pub(super) fn remote_setup(
        &self,
        hal: &mut (impl Hal + ?Sized),
        addr: u16,
        count: u16,
        cmd: Cr,
    ) {
        hal.outb(self.io + CR, (Cr::STA | Cr::RD_ABORT).bits());
        hal.outb(self.io + ISR, Isr::RDC.bits());
        hal.outb(self.io + RBCR0, count as u8);
        hal.outb(self.io + RBCR1, (count >> 8) as u8);
        hal.outb(self.io + RSAR0, addr as u8);
        hal.outb(self.io + RSAR1, (addr >> 8) as u8);
        hal.outb(self.io + CR, (Cr::STA | cmd).bits());
    }

    /// Waits for ISR.RDC (the remote byte count reached zero) and acknowledges it.
    pub(super) fn remote_done<H: Hal + ?Sized>(&self, hal: &mut H) -> bool {
        let done = poll_until(hal, RDC_TIMEOUT_US, |hal| self.isr(hal).contains(Isr::RDC));
        hal.outb(self.io + ISR, Isr::RDC.bits());
        if !done {
            hal.outb(self.io + CR, (self.run() | Cr::RD_ABORT).bits());
        }
        done
    }

    /// Remote read of `buf.len()` bytes at board address `addr` (rounded up to a word in
    /// 16-bit mode; the extra byte is dropped).
    pub(super) fn remote_read<H: Hal + ?Sized>(
        &self,
        hal: &mut H,
        addr: u16,
        buf: &mut [u8],
    ) -> Result<(), NicError> {
        if buf.is_empty() {
            return Ok(());
        }
        let data = self.io + DATA;
        match self.width {
            BusWidth::Word => {
                let count = buf.len().next_multiple_of(2) as u16;
                self.remote_setup(hal, addr, count, Cr::RD_READ);
                for chunk in buf.chunks_mut(2) {
                    let w = hal.inw(data).to_le_bytes();
                    chunk.copy_from_slice(&w[..chunk.len()]);
                }
            }
            BusWidth::Byte => {
                self.remote_setup(hal, addr, buf.len() as u16, Cr::RD_READ);
                for b in buf.iter_mut() {
                    *b = hal.inb(data);
                }
            }
        }
        if self.remote_done(hal) {
            Ok(())
        } else {
            Err(NicError::DeviceRefused)
        }
    }

    /// Remote write of `data` at board address `addr`, zero-padded to `len` bytes (and to a
    /// word in 16-bit mode).
    pub(super) fn remote_write<H: Hal + ?Sized>(
        &self,
        hal: &mut H,
        addr: u16,
        data: &[u8],
        len: usize,
    ) -> bool {
        let byte = |i: usize| data.get(i).copied().unwrap_or(0);
        let port = self.io + DATA;
        match self.width {
            BusWidth::Word => {
                let count = len.next_multiple_of(2);
                self.remote_setup(hal, addr, count as u16, Cr::RD_WRITE);
                for i in (0..count).step_by(2) {
                    hal.outw(port, u16::from_le_bytes([byte(i), byte(i + 1)]));
                }
            }
            BusWidth::Byte => {
                self.remote_setup(hal, addr, len as u16, Cr::RD_WRITE);
                for i in 0..len {
                    hal.outb(port, byte(i));
                }
            }
        }
        self.remote_done(hal)
    }
}
