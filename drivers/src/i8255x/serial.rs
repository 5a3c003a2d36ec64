//! The 8255x's two serial side channels (8255x Open Source Software Developer Manual §5.3
//! "Serial EEPROM interface" / §6.3.5 "EEPROM control register", §6.3.6 "MDI control register"):
//! the bit-banged Microwire EEPROM (93C46 with 6 address bits or 93C56/66 with 8) that holds the
//! MAC address, and the MDI port to the PHY's MII registers.

use super::regs::*;
use crate::hal::{poll_until, Hal};

/// Half a clock period on the EEPROM's serial clock (the 93Cx6 need ≥ 1 µs; the manual's
/// sequences use a few µs).
const EE_DELAY_US: u32 = 4;
/// Longest address the 8255x EEPROMs use (256 words).
const EE_MAX_ADDR_BITS: u8 = 8;
/// An MDI cycle is 64 MDC clocks at 2.5 MHz: 10 ms is plenty.
const MDI_TIMEOUT_US: u64 = 10_000;

fn ee_write<H: Hal + ?Sized>(hal: &mut H, io: u16, bits: Eeprom) {
    hal.outw(io + EEPROM_CTRL, bits.bits());
    hal.delay_us(EE_DELAY_US);
}

fn ee_do<H: Hal + ?Sized>(hal: &mut H, io: u16) -> bool {
    Eeprom::from_bits_retain(hal.inw(io + EEPROM_CTRL)).contains(Eeprom::DO)
}

/// Clocks one bit into the EEPROM (it samples EEDI on the rising edge of EESK).
fn ee_shift_out<H: Hal + ?Sized>(hal: &mut H, io: u16, bit: bool) {
    let di = if bit { Eeprom::DI } else { Eeprom::empty() };
    ee_write(hal, io, Eeprom::CS | di);
    ee_write(hal, io, Eeprom::CS | di | Eeprom::SK);
    ee_write(hal, io, Eeprom::CS | di);
}

/// Raises chip select and sends the start bit and the READ opcode.
fn ee_begin_read<H: Hal + ?Sized>(hal: &mut H, io: u16) {
    ee_write(hal, io, Eeprom::empty());
    ee_write(hal, io, Eeprom::CS);
    ee_shift_out(hal, io, true);
    ee_shift_out(hal, io, EEPROM_OP_READ & 0b10 != 0);
    ee_shift_out(hal, io, EEPROM_OP_READ & 0b01 != 0);
}

/// Clocks the 16 data bits out (the EEPROM drives EEDO after each rising edge, MSB first),
/// then drops chip select.
fn ee_finish_read<H: Hal + ?Sized>(hal: &mut H, io: u16) -> u16 {
    let mut word = 0u16;
    for _ in 0..16 {
        ee_write(hal, io, Eeprom::CS | Eeprom::SK);
        word = word << 1 | u16::from(ee_do(hal, io));
        ee_write(hal, io, Eeprom::CS);
    }
    ee_write(hal, io, Eeprom::empty());
    word
}

/// Reads word 0 and finds the EEPROM's address width: address bits (all zero) are clocked in
/// one at a time until the EEPROM answers with its dummy zero bit on EEDO (§5.3.1). `None`:
/// no dummy zero within 8 bits (no EEPROM, or not a 93Cx6).
pub fn eeprom_detect<H: Hal + ?Sized>(hal: &mut H, io: u16) -> Option<(u8, u16)> {
    ee_begin_read(hal, io);
    for bits in 1..=EE_MAX_ADDR_BITS {
        ee_shift_out(hal, io, false);
        if !ee_do(hal, io) {
            return Some((bits, ee_finish_read(hal, io)));
        }
    }
    ee_write(hal, io, Eeprom::empty());
    None
}

/// Reads one 16-bit word of an EEPROM with `addr_bits` address bits. `None`: the dummy zero bit
/// did not come after the address (the EEPROM is not answering).
pub fn eeprom_read<H: Hal + ?Sized>(hal: &mut H, io: u16, addr_bits: u8, addr: u8) -> Option<u16> {
    ee_begin_read(hal, io);
    for i in (0..addr_bits).rev() {
        ee_shift_out(hal, io, (u16::from(addr) >> i) & 1 != 0);
    }
    if ee_do(hal, io) {
        ee_write(hal, io, Eeprom::empty());
        return None;
    }
    Some(ee_finish_read(hal, io))
}

/// Reads MII register `reg` of the PHY at MDI address `phy`; `None` if the cycle never completes.
pub fn mdi_read<H: Hal + ?Sized>(hal: &mut H, io: u16, phy: u8, reg: u8) -> Option<u16> {
    let cmd = MDI_OP_READ | u32::from(phy & 0x1F) << 21 | u32::from(reg & 0x1F) << 16;
    hal.outl(io + MDI_CTRL, cmd);
    let mut value = 0;
    let done = poll_until(hal, MDI_TIMEOUT_US, |hal| {
        value = hal.inl(io + MDI_CTRL);
        value & MDI_READY != 0
    });
    done.then_some(value as u16)
}
