//! Errors of one `SOFTPXE.CFG` line: a typed kind plus the line's key and value (borrowed from
//! the input), with a `Display` that tells the user what is wrong.

use core::fmt;

/// What is wrong with a line (or with a value given to [`crate::Settings::set`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The line has no `=`.
    MissingEquals,
    /// Nothing before the `=`.
    MissingKey,
    /// The key is not one of [`crate::Key::ALL`]; `suggestion` is a close known key.
    UnknownKey { suggestion: Option<&'static str> },
    /// Nothing after the `=`.
    MissingValue,
    /// Key or value holds a byte that is not printable ASCII (control, non-ASCII, non-UTF-8),
    /// or a string value starts/ends with a space or holds ` #`.
    BadCharacter,
    /// The value is longer than `max` bytes.
    TooLong { max: usize },
    /// Not a dotted-quad IPv4 address.
    BadIpv4,
    /// The `/nn` of `ip = a.b.c.d/nn` is not 0..=32.
    BadPrefix,
    /// A netmask that is not contiguous ones then zeros.
    BadNetmask,
    /// Neither an IPv4 address nor a valid host name.
    BadHostName,
    /// Not one of the accepted words.
    BadChoice { expected: &'static str },
    /// Not a whole number in `0..=max`.
    BadNumber { max: u32 },
    /// Not `auto`, `VVVV:DDDD` or `BB:DD.F`.
    BadNic,
    /// Not `auto` or `<driver>:<port>[:<irq>]`.
    BadIsa,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::MissingEquals => f.write_str("expected \"key = value\""),
            ErrorKind::MissingKey => f.write_str("no key before \"=\""),
            ErrorKind::UnknownKey { suggestion: None } => f.write_str("unknown key"),
            ErrorKind::UnknownKey {
                suggestion: Some(s),
            } => write!(f, "unknown key (did you mean {s}?)"),
            ErrorKind::MissingValue => f.write_str("no value after \"=\""),
            ErrorKind::BadCharacter => f.write_str(
                "only printable ASCII is allowed (no control or non-ASCII bytes, no \" #\")",
            ),
            ErrorKind::TooLong { max } => write!(f, "value longer than {max} bytes"),
            ErrorKind::BadIpv4 => f.write_str("not an IPv4 address (a.b.c.d)"),
            ErrorKind::BadPrefix => f.write_str("prefix length must be /0 to /32"),
            ErrorKind::BadNetmask => {
                f.write_str("not a netmask (contiguous ones, e.g. 255.255.255.0)")
            }
            ErrorKind::BadHostName => f.write_str("not an IPv4 address or host name"),
            ErrorKind::BadChoice { expected } => write!(f, "expected {expected}"),
            ErrorKind::BadNumber { max } => write!(f, "expected a whole number from 0 to {max}"),
            ErrorKind::BadNic => {
                f.write_str("expected auto, VVVV:DDDD (PCI IDs) or BB:DD.F (PCI address)")
            }
            ErrorKind::BadIsa => f.write_str(
                "expected auto or ne2000:PORT[:IRQ] (PORT 0x200-0x3e0 in steps of 0x20, IRQ 2-15)",
            ),
        }
    }
}

/// A bad line: its 1-based number, the key and value as written, and the kind of error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineError<'a> {
    pub line: u32,
    /// The key as written (may be empty or hold any bytes).
    pub key: &'a [u8],
    /// The value as written, comment removed (may be empty or hold any bytes).
    pub value: &'a [u8],
    pub kind: ErrorKind,
}

/// Writes bytes as a quoted string, escaping anything that is not printable ASCII; long input is
/// cut at 40 bytes.
struct Quoted<'a>(&'a [u8]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const CUT: usize = 40;
        f.write_str("\"")?;
        for &b in self.0.iter().take(CUT) {
            match b {
                b'"' | b'\\' => write!(f, "\\{}", b as char)?,
                0x20..=0x7e => write!(f, "{}", b as char)?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        if self.0.len() > CUT {
            f.write_str("...")?;
        }
        f.write_str("\"")
    }
}

impl fmt::Display for LineError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        match self.kind {
            ErrorKind::MissingEquals => write!(f, "{} (got {})", self.kind, Quoted(self.key)),
            ErrorKind::MissingKey => write!(f, "{}", self.kind),
            ErrorKind::UnknownKey { suggestion } => {
                write!(f, "unknown key {}", Quoted(self.key))?;
                match suggestion {
                    Some(s) => write!(f, " (did you mean {s}?)"),
                    None => Ok(()),
                }
            }
            ErrorKind::MissingValue | ErrorKind::TooLong { .. } => {
                write!(f, "{}: {}", Quoted(self.key), self.kind)
            }
            _ => write!(
                f,
                "{} = {}: {}",
                Quoted(self.key),
                Quoted(self.value),
                self.kind
            ),
        }
    }
}
