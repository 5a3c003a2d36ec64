//! Console output: COM1 (115200 8N1, programmed by the prefix) and the BIOS screen (INT 10h
//! teletype), both for every line the firmware prints.
use crate::port::{inb, outb};
use crate::realmode::{self, RmRegs};
use core::fmt;

const COM1: u16 = 0x3f8;

fn serial_byte(b: u8) {
    // Bounded wait for the transmit holding register: a missing UART must not hang boot.
    for _ in 0..100_000 {
        // SAFETY: reading the 16550 line status register has no side effects.
        if unsafe { inb(COM1 + 5) } & 0x20 != 0 {
            break;
        }
    }
    // SAFETY: writing the 16550 transmit register only sends the byte.
    unsafe { outb(COM1, b) };
}

fn screen_byte(b: u8) {
    let mut r = RmRegs {
        eax: 0x0e00 | u32::from(b),
        ebx: 0x0007,
        ..RmRegs::default()
    };
    realmode::int(0x10, &mut r);
}

fn put(b: u8) {
    if b == b'\n' {
        put(b'\r');
    }
    serial_byte(b);
    screen_byte(b);
}

/// Serial and screen as one `fmt::Write`.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(put);
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>) {
    let _ = fmt::Write::write_fmt(&mut Console, args);
}

/// Prints to the screen and COM1.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::_print(format_args!($($arg)*)) };
}

/// Prints a line to the screen and COM1.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::_print(format_args!("{}\n", format_args!($($arg)*))) };
}
