//! The two serial interfaces behind the 21143's CSR9 (layer `drivers/`): the serial ROM
//! (a Microwire 93C46 or 93C66, HRM chapter 7 "External Ports", serial ROM port) and MII
//! management (IEEE 802.3 clause 22 frames, HRM CSR9 bits 19:16), both bit-banged.
//!
//! SROM read: chip select, start bit 1, opcode 10b, the address MSB first, then 16 data bits
//! MSB first, each bit placed on SR_DI and clocked with a rising SR_SK; SR_DO is sampled while
//! SK is high. The address width (6 bits for a 93C46, 8 for a 93C66) is found by clocking
//! address zeros until the ROM answers with its dummy 0 bit on SR_DO.
//!
//! MII read: 32 ones of preamble, start 01b, opcode 10b, PHY and register address (5 bits
//! each), all with MII = 0 (the 21143 drives MDO); then MII = 1 (the PHY drives MDI) for the
//! two turnaround bits and 16 data bits, each sampled while MDC is low, just before the rising
//! edge that the PHY's next bit follows.

use super::regs::{Csr9, CSR9};
use super::Regs;
use crate::hal::Hal;

/// Serial ROM bytes the driver reads (the ID block, the MAC at 20 and the first leaf offset).
pub const SROM_BYTES: usize = 32;
/// Byte offset of the IEEE address in SROM formats 1, 3 and 4.
pub const SROM_MAC_OFFSET: usize = 20;
/// Byte offset of the SROM format version.
pub const SROM_VERSION_OFFSET: usize = 18;
/// Address width of a 93C46 (64 words), used when detection finds nothing sensible.
pub const DEFAULT_ADDR_BITS: u8 = 6;
/// Longest address the detection clocks before giving up (a 93C66 has 8 bits).
const MAX_ADDR_BITS: u8 = 12;

const SROM_READ: u32 = Csr9::SR.bits() | Csr9::RD.bits();

/// Writes CSR9 and lets the serial ROM see it (its clock is at most 1 MHz on a 93C46).
fn srom_write<H: Hal + ?Sized>(hal: &mut H, regs: Regs, value: u32) {
    regs.write(hal, CSR9, value);
    hal.delay_us(1);
}

/// Clocks one bit into the ROM and returns SR_DO as seen with the clock high.
fn srom_bit<H: Hal + ?Sized>(hal: &mut H, regs: Regs, bit: bool) -> bool {
    let base = SROM_READ | Csr9::SR_CS.bits() | if bit { Csr9::SR_DI.bits() } else { 0 };
    srom_write(hal, regs, base);
    srom_write(hal, regs, base | Csr9::SR_SK.bits());
    let out = regs.read(hal, CSR9) & Csr9::SR_DO.bits() != 0;
    srom_write(hal, regs, base);
    out
}

fn srom_select<H: Hal + ?Sized>(hal: &mut H, regs: Regs) {
    srom_write(hal, regs, SROM_READ);
    srom_write(hal, regs, SROM_READ | Csr9::SR_CS.bits());
    // Start bit and READ opcode (10b).
    for bit in [true, true, false] {
        srom_bit(hal, regs, bit);
    }
}

fn srom_deselect<H: Hal + ?Sized>(hal: &mut H, regs: Regs) {
    srom_write(hal, regs, SROM_READ);
    srom_write(hal, regs, 0);
}

fn srom_data<H: Hal + ?Sized>(hal: &mut H, regs: Regs) -> u16 {
    (0..16).fold(0u16, |w, _| w << 1 | u16::from(srom_bit(hal, regs, false)))
}

/// Finds the ROM's address width: the number of address bits after which it drives its dummy
/// 0. Anything other than 6 (93C46) or 8 (93C66) falls back to 6.
pub fn srom_addr_bits<H: Hal + ?Sized>(hal: &mut H, regs: Regs) -> u8 {
    srom_select(hal, regs);
    let mut found = None;
    for n in 1..=MAX_ADDR_BITS {
        if !srom_bit(hal, regs, false) {
            found = Some(n);
            break;
        }
    }
    if found.is_some() {
        srom_data(hal, regs);
    }
    srom_deselect(hal, regs);
    match found {
        Some(n @ (6 | 8)) => n,
        _ => DEFAULT_ADDR_BITS,
    }
}

/// Reads one 16-bit SROM word (the low byte is the lower address).
pub fn srom_word<H: Hal + ?Sized>(hal: &mut H, regs: Regs, addr_bits: u8, word: u16) -> u16 {
    srom_select(hal, regs);
    for i in (0..addr_bits).rev() {
        srom_bit(hal, regs, word >> i & 1 != 0);
    }
    let value = srom_data(hal, regs);
    srom_deselect(hal, regs);
    value
}

/// Reads the first [`SROM_BYTES`] bytes of the serial ROM.
pub fn read_srom<H: Hal + ?Sized>(hal: &mut H, regs: Regs) -> [u8; SROM_BYTES] {
    let bits = srom_addr_bits(hal, regs);
    let mut srom = [0; SROM_BYTES];
    for (i, pair) in srom.chunks_exact_mut(2).enumerate() {
        pair.copy_from_slice(&srom_word(hal, regs, bits, i as u16).to_le_bytes());
    }
    srom
}

/// Whether six bytes can be a card's address: not a group address, not all zeros or ones.
fn usable(mac: &[u8; 6]) -> bool {
    !crate::filter::is_group(mac) && *mac != [0; 6]
}

/// The MAC address in an SROM image: at byte 20 (formats 1, 3 and 4; QEMU's model writes
/// format 4), else at byte 0 (boards with the old DEC "Ethernet address ROM" layout, which
/// starts with the address). `None` if neither holds a usable unicast address.
pub fn srom_mac(srom: &[u8; SROM_BYTES]) -> Option<[u8; 6]> {
    [SROM_MAC_OFFSET, 0].into_iter().find_map(|offset| {
        let mac: [u8; 6] = srom[offset..offset + 6].try_into().ok()?;
        usable(&mac).then_some(mac)
    })
}

/// Writes CSR9 for MII management (serial ROM deselected) and holds it for half a clock
/// (MDC runs at most at 2.5 MHz).
fn mii_write<H: Hal + ?Sized>(hal: &mut H, regs: Regs, value: u32) {
    regs.write(hal, CSR9, value);
    hal.delay_us(1);
}

fn mii_out<H: Hal + ?Sized>(hal: &mut H, regs: Regs, bit: bool) {
    let data = if bit { Csr9::MDO.bits() } else { 0 };
    mii_write(hal, regs, data);
    mii_write(hal, regs, data | Csr9::MDC.bits());
}

fn mii_in<H: Hal + ?Sized>(hal: &mut H, regs: Regs) -> bool {
    mii_write(hal, regs, Csr9::MII.bits());
    let bit = regs.read(hal, CSR9) & Csr9::MDI.bits() != 0;
    mii_write(hal, regs, Csr9::MII.bits() | Csr9::MDC.bits());
    bit
}

/// Reads MII register `reg` of the PHY at `phy` (an absent PHY reads as all ones on real
/// hardware, where MDIO is pulled up, and as zero on QEMU's model).
pub fn mii_read<H: Hal + ?Sized>(hal: &mut H, regs: Regs, phy: u8, reg: u8) -> u16 {
    for _ in 0..32 {
        mii_out(hal, regs, true);
    }
    // Start 01b, read 10b, then PHY and register addresses MSB first: 14 bits.
    let frame = 0b0110u16 << 10 | u16::from(phy & 0x1F) << 5 | u16::from(reg & 0x1F);
    for i in (0..14).rev() {
        mii_out(hal, regs, frame >> i & 1 != 0);
    }
    // Turnaround: the PHY takes over MDIO.
    mii_in(hal, regs);
    mii_in(hal, regs);
    let value = (0..16).fold(0u16, |v, _| v << 1 | u16::from(mii_in(hal, regs)));
    mii_write(hal, regs, 0);
    value
}
