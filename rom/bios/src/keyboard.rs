//! The keyboard through INT 16h (each check also lets the BIOS service pending interrupts:
//! timer, keyboard, USB legacy emulation).
use crate::realmode::{self, RmRegs};

/// A key press: scan code and ASCII.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    pub scan: u8,
    pub ascii: u8,
}

pub const SCAN_ESC: u8 = 0x01;

/// The next key press, if one is waiting (does not block).
pub fn poll() -> Option<Key> {
    crate::stackguard::check("keyboard poll");
    let mut r = RmRegs {
        eax: 0x0100,
        ..RmRegs::default()
    };
    realmode::int(0x16, &mut r);
    if r.flags & 0x40 != 0 {
        return None; // ZF: no key
    }
    let mut r = RmRegs {
        eax: 0x0000,
        ..RmRegs::default()
    };
    realmode::int(0x16, &mut r);
    Some(Key {
        scan: (r.eax >> 8) as u8,
        ascii: r.eax as u8,
    })
}
