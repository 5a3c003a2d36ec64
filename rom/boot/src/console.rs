//! Console output through the platform: `say!` / `sayln!` format straight into
//! [`Platform::print`](crate::Platform::print), no buffer.
use crate::Platform;
use core::fmt;

struct Out<'a, P: ?Sized>(&'a mut P);

impl<P: Platform + ?Sized> fmt::Write for Out<'_, P> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.print(s);
        Ok(())
    }
}

#[doc(hidden)]
pub fn write<P: Platform + ?Sized>(p: &mut P, args: fmt::Arguments<'_>) {
    let _ = fmt::Write::write_fmt(&mut Out(p), args);
}

/// Prints to the platform's console.
macro_rules! say {
    ($p:expr, $($arg:tt)*) => { $crate::console::write($p, format_args!($($arg)*)) };
}

/// Prints a line to the platform's console.
macro_rules! sayln {
    ($p:expr) => { $crate::console::write($p, format_args!("\n")) };
    ($p:expr, $($arg:tt)*) => {
        $crate::console::write($p, format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {say, sayln};
