//! ISA NE2000 boards: no configuration space, so nothing says a card is there. The settings
//! name one (`isa = ne2000:0x300:9`) or opt in to probing the classic jumper settings
//! (`isa = auto`, [`find`]); by default nothing is probed.
//!
//! Probing an ISA port is not harmless: reading an NE2000's reset port (+1Fh) resets it, other
//! cards decode the same ranges (0x360 overlaps LPT1 at 0x378, 0x330 is the usual MPU-401).
//! [`looks_like_8390`] touches only the port at the base, the DP8390's command register, and
//! decides from values a DP8390 must show (datasheet §10.3.1):
//!
//! 1. Read CR. An empty ISA bus reads FFh, which an 8390 never does (PS = 11b is page 3, which a
//!    DP8390 does not have), and a chip that is transmitting (TXP) is in use by someone: both
//!    stop the check without a write. (QEMU's model reads 00h until CR is first written, so
//!    RD = 000b, "not allowed" on the real chip, is not used as a test.)
//! 2. Write CR = 61h (page 1, remote DMA aborted, stopped) and read it back; then CR = 21h
//!    (page 0) and read it back. A DP8390 echoes page bits, RD and STP exactly. Only the base
//!    port is written, with values that on an 8390 stop the chip — which the driver is about to
//!    reset anyway. A device that is not an 8390 would have to echo two different command
//!    bytes at its base port to pass.
//!
//! Only then does [`crate::ne2000::Ne2000::new_isa`] touch the reset port and read the PROM,
//! which must hold a unicast, non-zero MAC.

use crate::hal::Hal;
use crate::ne2000::regs::{Cr, CR};

/// The ports `isa = auto` tries, in order (the NE2000's usual jumper settings; 0x360 is
/// left out because the board's 20h ports would reach LPT1 at 0x378).
pub const CLASSIC_PORTS: [u16; 4] = [0x300, 0x280, 0x320, 0x340];

/// An ISA board: I/O base and IRQ (0: unknown, polled only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsaCard {
    /// First of the board's 20h ports.
    pub port: u16,
    /// IRQ line (2–15), 0 if unknown.
    pub irq: u8,
}

impl IsaCard {
    /// A board at `port` using `irq`.
    pub const fn new(port: u16, irq: u8) -> Self {
        Self { port, irq }
    }
}

/// The least intrusive DP8390 check at `port` (see the module documentation).
pub fn looks_like_8390<H: Hal + ?Sized>(hal: &mut H, port: u16) -> bool {
    let cr = hal.inb(port + CR);
    let page = cr >> 6;
    if cr == 0xFF || page == 0b11 || cr & Cr::TXP.bits() != 0 {
        return false;
    }
    let page1 = (Cr::PAGE1 | Cr::RD_ABORT | Cr::STP).bits();
    hal.outb(port + CR, page1);
    if hal.inb(port + CR) != page1 {
        hal.outb(port + CR, cr);
        return false;
    }
    let page0 = (Cr::RD_ABORT | Cr::STP).bits();
    hal.outb(port + CR, page0);
    hal.inb(port + CR) == page0
}

/// Tries [`CLASSIC_PORTS`] with [`looks_like_8390`]; the first that passes (IRQ unknown).
pub fn find<H: Hal + ?Sized>(hal: &mut H) -> Option<IsaCard> {
    CLASSIC_PORTS
        .iter()
        .copied()
        .find(|&port| looks_like_8390(hal, port))
        .map(|port| IsaCard::new(port, 0))
}
