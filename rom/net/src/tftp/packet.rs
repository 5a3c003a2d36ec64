//! TFTP packet formats (layer `rom/net`): RFC 1350 §5 (RRQ/WRQ/DATA/ACK/ERROR), RFC 2347 §2-§3
//! (options in a request, OACK).
//!
//! Hand-written because smoltcp has no TFTP; same style: `Repr::parse` reads a checked packet,
//! `Repr::emit` writes one, neither can panic on any input.

/// TFTP opcodes.
pub mod opcode {
    pub const RRQ: u16 = 1;
    pub const WRQ: u16 = 2;
    pub const DATA: u16 = 3;
    pub const ACK: u16 = 4;
    pub const ERROR: u16 = 5;
    pub const OACK: u16 = 6;
}

/// TFTP error codes (RFC 1350 appendix, RFC 2347 §2).
pub mod error_code {
    pub const NOT_DEFINED: u16 = 0;
    pub const FILE_NOT_FOUND: u16 = 1;
    pub const ACCESS_VIOLATION: u16 = 2;
    pub const DISK_FULL: u16 = 3;
    pub const ILLEGAL_OPERATION: u16 = 4;
    pub const UNKNOWN_TID: u16 = 5;
    pub const OPTION_REFUSED: u16 = 8;
}

/// Why bytes are not a TFTP packet, or do not fit a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Too short for its opcode.
    Truncated,
    /// Unknown opcode.
    BadOpcode,
    /// A string field or option list lacks its NUL terminator.
    Unterminated,
    /// Output buffer too small.
    BufferTooSmall,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Error::Truncated => "TFTP packet truncated",
            Error::BadOpcode => "unknown TFTP opcode",
            Error::Unterminated => "TFTP string not NUL-terminated",
            Error::BufferTooSmall => "buffer too small for TFTP packet",
        })
    }
}

/// An option list: `name NUL value NUL` pairs (RFC 2347 §2), already checked to be complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TftpOptions<'a> {
    raw: &'a [u8],
}

impl<'a> TftpOptions<'a> {
    /// Check that `raw` is whole `name\0value\0` pairs.
    pub fn new_checked(raw: &'a [u8]) -> Result<Self, Error> {
        let nuls = raw.iter().filter(|&&b| b == 0).count();
        if nuls % 2 != 0 || raw.last().is_some_and(|&b| b != 0) {
            return Err(Error::Unterminated);
        }
        Ok(TftpOptions { raw })
    }
    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }
    /// `(name, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let mut parts = self.raw.split(|&b| b == 0);
        core::iter::from_fn(move || {
            let name = parts.next()?;
            let value = parts.next()?;
            if name.is_empty() && value.is_empty() {
                return None;
            }
            Some((name, value))
        })
    }
}

/// Parse a decimal option value (no sign, at most 20 digits).
pub fn parse_decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 20 {
        return None;
    }
    v.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// A TFTP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repr<'a> {
    /// Read request.
    Rrq {
        filename: &'a [u8],
        mode: &'a [u8],
        options: TftpOptions<'a>,
    },
    /// Write request.
    Wrq {
        filename: &'a [u8],
        mode: &'a [u8],
        options: TftpOptions<'a>,
    },
    /// A data block.
    Data { block: u16, data: &'a [u8] },
    /// Acknowledgement.
    Ack { block: u16 },
    /// Error with code and message.
    Error { code: u16, msg: &'a [u8] },
    /// Option acknowledgement.
    Oack { options: TftpOptions<'a> },
}

fn split_cstr(b: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let i = b.iter().position(|&c| c == 0).ok_or(Error::Unterminated)?;
    Ok((&b[..i], &b[i + 1..]))
}

impl<'a> Repr<'a> {
    /// Parse one UDP payload.
    pub fn parse(b: &'a [u8]) -> Result<Self, Error> {
        if b.len() < 2 {
            return Err(Error::Truncated);
        }
        let op = u16::from_be_bytes([b[0], b[1]]);
        let rest = &b[2..];
        let num = || {
            rest.get(..2)
                .map(|s| u16::from_be_bytes([s[0], s[1]]))
                .ok_or(Error::Truncated)
        };
        Ok(match op {
            opcode::RRQ | opcode::WRQ => {
                let (filename, rest) = split_cstr(rest)?;
                let (mode, rest) = split_cstr(rest)?;
                let options = TftpOptions::new_checked(rest)?;
                if op == opcode::RRQ {
                    Repr::Rrq {
                        filename,
                        mode,
                        options,
                    }
                } else {
                    Repr::Wrq {
                        filename,
                        mode,
                        options,
                    }
                }
            }
            opcode::DATA => Repr::Data {
                block: num()?,
                data: &rest[2..],
            },
            opcode::ACK => Repr::Ack { block: num()? },
            opcode::ERROR => {
                let code = num()?;
                let tail = &rest[2..];
                // Tolerate a missing final NUL: servers get this wrong.
                let msg = split_cstr(tail).map(|(m, _)| m).unwrap_or(tail);
                Repr::Error { code, msg }
            }
            opcode::OACK => Repr::Oack {
                options: TftpOptions::new_checked(rest)?,
            },
            _ => return Err(Error::BadOpcode),
        })
    }

    /// Length `emit` will write.
    pub fn buffer_len(&self) -> usize {
        match self {
            Repr::Rrq {
                filename,
                mode,
                options,
            }
            | Repr::Wrq {
                filename,
                mode,
                options,
            } => 2 + filename.len() + 1 + mode.len() + 1 + options.raw.len(),
            Repr::Data { data, .. } => 4 + data.len(),
            Repr::Ack { .. } => 4,
            Repr::Error { msg, .. } => 4 + msg.len() + 1,
            Repr::Oack { options } => 2 + options.raw.len(),
        }
    }

    /// Write the packet into `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = self.buffer_len();
        let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let mut w = Writer { out, pos: 0 };
        match self {
            Repr::Rrq {
                filename,
                mode,
                options,
            }
            | Repr::Wrq {
                filename,
                mode,
                options,
            } => {
                let op = if matches!(self, Repr::Rrq { .. }) {
                    opcode::RRQ
                } else {
                    opcode::WRQ
                };
                w.put(&op.to_be_bytes());
                w.put(filename);
                w.put(&[0]);
                w.put(mode);
                w.put(&[0]);
                w.put(options.raw);
            }
            Repr::Data { block, data } => {
                w.put(&opcode::DATA.to_be_bytes());
                w.put(&block.to_be_bytes());
                w.put(data);
            }
            Repr::Ack { block } => {
                w.put(&opcode::ACK.to_be_bytes());
                w.put(&block.to_be_bytes());
            }
            Repr::Error { code, msg } => {
                w.put(&opcode::ERROR.to_be_bytes());
                w.put(&code.to_be_bytes());
                w.put(msg);
                w.put(&[0]);
            }
            Repr::Oack { options } => {
                w.put(&opcode::OACK.to_be_bytes());
                w.put(options.raw);
            }
        }
        Ok(len)
    }
}

struct Writer<'b> {
    out: &'b mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, b: &[u8]) {
        if let Some(dst) = self.out.get_mut(self.pos..self.pos + b.len()) {
            dst.copy_from_slice(b);
        }
        self.pos += b.len();
    }
}

/// Builds an option list (`name\0value\0` ...) into a fixed buffer.
#[derive(Clone, Copy, Debug)]
pub struct OptionsBuf {
    buf: [u8; 96],
    len: usize,
}

impl OptionsBuf {
    /// Empty list.
    pub const fn new() -> Self {
        OptionsBuf {
            buf: [0; 96],
            len: 0,
        }
    }
    /// Add `name` = decimal `value`; returns false if it does not fit.
    pub fn push(&mut self, name: &[u8], value: u64) -> bool {
        let mut digits = [0u8; 20];
        let mut n = 0;
        let mut v = value;
        loop {
            digits[19 - n] = b'0' + (v % 10) as u8;
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let need = name.len() + 1 + n + 1;
        let Some(dst) = self.buf.get_mut(self.len..self.len + need) else {
            return false;
        };
        dst[..name.len()].copy_from_slice(name);
        dst[name.len()] = 0;
        dst[name.len() + 1..name.len() + 1 + n].copy_from_slice(&digits[20 - n..]);
        dst[need - 1] = 0;
        self.len += need;
        true
    }
    /// The list as a checked view.
    pub fn options(&self) -> TftpOptions<'_> {
        TftpOptions {
            raw: &self.buf[..self.len],
        }
    }
}

impl Default for OptionsBuf {
    fn default() -> Self {
        Self::new()
    }
}
