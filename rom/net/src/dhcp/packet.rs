//! DHCP/BOOTP message view, option iterator and builder (layer `rom/net`).
//!
//! RFC 2131 §2 (fixed header, `file`/`sname`), RFC 2132 §2-§9 (option format, pad/end, option
//! 52 overload), RFC 4578 §2 (options 93, 94, 97). Hand-written in smoltcp's style: a checked
//! view with accessors that cannot panic, options read through an iterator that keeps unknown
//! codes and stops cleanly at a truncated option.

use crate::fixed::c_str;
use crate::Ipv4Addr;

/// Option codes used by the PXE client (RFC 2132, RFC 4578, PXE 2.1 §2).
pub mod code {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const DNS: u8 = 6;
    pub const HOST_NAME: u8 = 12;
    pub const DOMAIN_NAME: u8 = 15;
    pub const VENDOR_SPECIFIC: u8 = 43;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const OVERLOAD: u8 = 52;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAMETER_LIST: u8 = 55;
    pub const MAX_MESSAGE_SIZE: u8 = 57;
    pub const VENDOR_CLASS: u8 = 60;
    pub const TFTP_SERVER_NAME: u8 = 66;
    pub const BOOTFILE_NAME: u8 = 67;
    pub const CLIENT_ARCH: u8 = 93;
    pub const CLIENT_NDI: u8 = 94;
    pub const CLIENT_UUID: u8 = 97;
    pub const END: u8 = 255;
}

/// DHCP message types (RFC 2132 §9.6).
pub mod msg {
    pub const DISCOVER: u8 = 1;
    pub const OFFER: u8 = 2;
    pub const REQUEST: u8 = 3;
    pub const DECLINE: u8 = 4;
    pub const ACK: u8 = 5;
    pub const NAK: u8 = 6;
    pub const RELEASE: u8 = 7;
    pub const INFORM: u8 = 8;
}

/// BOOTP op codes.
pub const OP_REQUEST: u8 = 1;
/// BOOTP op code of a server reply.
pub const OP_REPLY: u8 = 2;
/// The DHCP magic cookie, RFC 2131 §3.
pub const MAGIC: [u8; 4] = [99, 130, 83, 99];
/// Length of the fixed header including the magic cookie.
pub const HEADER_LEN: usize = 240;
/// BOOTP minimum message size (RFC 1542 §3.1.1); we pad to it.
pub const MIN_LEN: usize = 300;

mod field {
    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const XID: usize = 4;
    pub const SECS: usize = 8;
    pub const FLAGS: usize = 10;
    pub const CIADDR: usize = 12;
    pub const YIADDR: usize = 16;
    pub const SIADDR: usize = 20;
    pub const GIADDR: usize = 24;
    pub const CHADDR: usize = 28;
    pub const SNAME: core::ops::Range<usize> = 44..108;
    pub const FILE: core::ops::Range<usize> = 108..236;
    pub const MAGIC: core::ops::Range<usize> = 236..240;
}

/// Why a buffer is not a DHCP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Shorter than the 240-byte fixed header.
    Truncated,
    /// The magic cookie is missing (plain BOOTP or garbage).
    BadMagic,
    /// The output buffer is too small.
    BufferTooSmall,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Error::Truncated => "DHCP message shorter than its fixed header",
            Error::BadMagic => "no DHCP magic cookie",
            Error::BufferTooSmall => "buffer too small for DHCP message",
        })
    }
}

/// A checked view of a DHCP message.
#[derive(Clone, Copy, Debug)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    match b.get(at..at + 4) {
        Some(s) => Ipv4Addr::new(s[0], s[1], s[2], s[3]),
        None => Ipv4Addr::UNSPECIFIED,
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap `buffer` after checking the fixed header and magic cookie.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[field::MAGIC] != MAGIC {
            return Err(Error::BadMagic);
        }
        Ok(Packet { buffer })
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    /// BOOTP op (1 request, 2 reply).
    pub fn op(&self) -> u8 {
        self.b().get(field::OP).copied().unwrap_or(0)
    }
    /// Hardware type (1 = Ethernet).
    pub fn htype(&self) -> u8 {
        self.b().get(field::HTYPE).copied().unwrap_or(0)
    }
    /// Transaction id.
    pub fn xid(&self) -> u32 {
        match self.b().get(field::XID..field::XID + 4) {
            Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
            None => 0,
        }
    }
    /// Seconds since the client began.
    pub fn secs(&self) -> u16 {
        be16(self.b(), field::SECS)
    }
    /// Flags (bit 15 = broadcast).
    pub fn flags(&self) -> u16 {
        be16(self.b(), field::FLAGS)
    }
    /// Client IP (when it already has one).
    pub fn ciaddr(&self) -> Ipv4Addr {
        ip_at(self.b(), field::CIADDR)
    }
    /// "Your" IP: the address offered to the client.
    pub fn yiaddr(&self) -> Ipv4Addr {
        ip_at(self.b(), field::YIADDR)
    }
    /// Next server (TFTP server) IP.
    pub fn siaddr(&self) -> Ipv4Addr {
        ip_at(self.b(), field::SIADDR)
    }
    /// Relay agent IP.
    pub fn giaddr(&self) -> Ipv4Addr {
        ip_at(self.b(), field::GIADDR)
    }
    /// First six bytes of `chaddr` (an Ethernet MAC).
    pub fn chaddr(&self) -> [u8; 6] {
        let mut m = [0; 6];
        if let Some(s) = self.b().get(field::CHADDR..field::CHADDR + 6) {
            m.copy_from_slice(s);
        }
        m
    }
    /// The option overload value (option 52), 0 if absent.
    pub fn overload(&self) -> u8 {
        let mut it = OptionIter::new(self.b().get(HEADER_LEN..).unwrap_or(&[]));
        it.find(|o| o.code == code::OVERLOAD)
            .and_then(|o| o.data.first().copied())
            .unwrap_or(0)
    }
    /// The `sname` field up to its NUL, or empty if it carries overloaded options.
    pub fn sname(&self) -> &[u8] {
        if self.overload() & 2 != 0 {
            return &[];
        }
        c_str(self.b().get(field::SNAME).unwrap_or(&[]))
    }
    /// The `file` field up to its NUL, or empty if it carries overloaded options.
    pub fn file(&self) -> &[u8] {
        if self.overload() & 1 != 0 {
            return &[];
        }
        c_str(self.b().get(field::FILE).unwrap_or(&[]))
    }
    /// All options, including those overloaded into `file` then `sname` (RFC 2132 §9.3).
    pub fn options(&self) -> Options<'_> {
        options_of(self.b())
    }
    /// First occurrence of option `code`.
    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options().find(|o| o.code == code).map(|o| o.data)
    }
    /// The message type (option 53), if present.
    pub fn message_type(&self) -> Option<u8> {
        self.option(code::MESSAGE_TYPE)
            .and_then(|d| d.first().copied())
    }
    /// An option holding one IPv4 address (first 4 bytes).
    pub fn option_ip(&self, code: u8) -> Option<Ipv4Addr> {
        let d = self.option(code)?;
        (d.len() >= 4).then(|| Ipv4Addr::new(d[0], d[1], d[2], d[3]))
    }
}

impl<'a> Packet<&'a [u8]> {
    /// The whole message.
    pub fn inner(&self) -> &'a [u8] {
        self.buffer
    }
    /// First occurrence of option `code`, borrowing the message rather than the view.
    pub fn option_ref(&self, code: u8) -> Option<&'a [u8]> {
        options_of(self.buffer)
            .find(|o| o.code == code)
            .map(|o| o.data)
    }
}

fn options_of(b: &[u8]) -> Options<'_> {
    let main = b.get(HEADER_LEN..).unwrap_or(&[]);
    let ov = OptionIter::new(main)
        .find(|o| o.code == code::OVERLOAD)
        .and_then(|o| o.data.first().copied())
        .unwrap_or(0);
    Options {
        regions: [
            main,
            if ov & 1 != 0 {
                b.get(field::FILE).unwrap_or(&[])
            } else {
                &[]
            },
            if ov & 2 != 0 {
                b.get(field::SNAME).unwrap_or(&[])
            } else {
                &[]
            },
        ],
        region: 0,
        cur: OptionIter::new(main),
    }
}

/// One option: its code and data (pad and end are not yielded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DhcpOption<'a> {
    /// Option code.
    pub code: u8,
    /// Option data (length byte excluded).
    pub data: &'a [u8],
}

/// Iterator over one region of `code, len, data` options; stops at END or a truncated option.
/// Also used for option 43 sub-options, which share the format.
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> OptionIter<'a> {
    /// Iterate the options in `region`.
    pub fn new(region: &'a [u8]) -> Self {
        OptionIter { rest: region }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = DhcpOption<'a>;
    fn next(&mut self) -> Option<DhcpOption<'a>> {
        loop {
            let (&c, tail) = self.rest.split_first()?;
            match c {
                code::PAD => self.rest = tail,
                code::END => {
                    self.rest = &[];
                    return None;
                }
                _ => {
                    let Some((&len, tail)) = tail.split_first() else {
                        self.rest = &[];
                        return None;
                    };
                    let len = usize::from(len);
                    if tail.len() < len {
                        self.rest = &[];
                        return None;
                    }
                    let (data, tail) = tail.split_at(len);
                    self.rest = tail;
                    return Some(DhcpOption { code: c, data });
                }
            }
        }
    }
}

/// Iterator over all options of a message, following option overload.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    regions: [&'a [u8]; 3],
    region: usize,
    cur: OptionIter<'a>,
}

impl<'a> Iterator for Options<'a> {
    type Item = DhcpOption<'a>;
    fn next(&mut self) -> Option<DhcpOption<'a>> {
        loop {
            if let Some(o) = self.cur.next() {
                return Some(o);
            }
            self.region += 1;
            let r = self.regions.get(self.region)?;
            self.cur = OptionIter::new(r);
        }
    }
}

/// Writes a DHCP message into a caller buffer. Overflow is sticky: `finish` then fails.
#[derive(Debug)]
pub struct Builder<'a> {
    buf: &'a mut [u8],
    pos: usize,
    overflow: bool,
}

impl<'a> Builder<'a> {
    /// Start a BOOTP `op` message with `xid` from `mac`, all other header fields zero.
    pub fn new(buf: &'a mut [u8], op: u8, xid: u32, mac: [u8; 6]) -> Result<Self, Error> {
        if buf.len() < MIN_LEN {
            return Err(Error::BufferTooSmall);
        }
        buf[..MIN_LEN].fill(0);
        buf[field::OP] = op;
        buf[field::HTYPE] = 1;
        buf[field::HLEN] = 6;
        buf[field::XID..field::XID + 4].copy_from_slice(&xid.to_be_bytes());
        buf[field::CHADDR..field::CHADDR + 6].copy_from_slice(&mac);
        buf[field::MAGIC].copy_from_slice(&MAGIC);
        Ok(Builder {
            buf,
            pos: HEADER_LEN,
            overflow: false,
        })
    }
    /// Set `secs`.
    pub fn secs(&mut self, secs: u16) -> &mut Self {
        self.buf[field::SECS..field::SECS + 2].copy_from_slice(&secs.to_be_bytes());
        self
    }
    /// Set `flags`.
    pub fn flags(&mut self, flags: u16) -> &mut Self {
        self.buf[field::FLAGS..field::FLAGS + 2].copy_from_slice(&flags.to_be_bytes());
        self
    }
    fn ip(&mut self, at: usize, ip: Ipv4Addr) -> &mut Self {
        self.buf[at..at + 4].copy_from_slice(&ip.octets());
        self
    }
    /// Set `ciaddr`.
    pub fn ciaddr(&mut self, ip: Ipv4Addr) -> &mut Self {
        self.ip(field::CIADDR, ip)
    }
    /// Set `yiaddr`.
    pub fn yiaddr(&mut self, ip: Ipv4Addr) -> &mut Self {
        self.ip(field::YIADDR, ip)
    }
    /// Set `siaddr`.
    pub fn siaddr(&mut self, ip: Ipv4Addr) -> &mut Self {
        self.ip(field::SIADDR, ip)
    }
    /// Set the `file` field (truncated to 127 bytes + NUL).
    pub fn file(&mut self, name: &[u8]) -> &mut Self {
        let n = name.len().min(127);
        self.buf[field::FILE.start..field::FILE.start + n].copy_from_slice(&name[..n]);
        self
    }
    /// Set the `sname` field (truncated to 63 bytes + NUL).
    pub fn sname(&mut self, name: &[u8]) -> &mut Self {
        let n = name.len().min(63);
        self.buf[field::SNAME.start..field::SNAME.start + n].copy_from_slice(&name[..n]);
        self
    }
    /// Append option `code` with `data` (at most 255 bytes).
    pub fn option(&mut self, code: u8, data: &[u8]) -> &mut Self {
        let end = self.pos + 2 + data.len();
        // Keep one byte for END.
        if data.len() > 255 || end + 1 > self.buf.len() {
            self.overflow = true;
            return self;
        }
        self.buf[self.pos] = code;
        self.buf[self.pos + 1] = data.len() as u8;
        self.buf[self.pos + 2..end].copy_from_slice(data);
        self.pos = end;
        self
    }
    /// Write END, pad to the BOOTP minimum and return the message length.
    pub fn finish(self) -> Result<usize, Error> {
        if self.overflow || self.pos >= self.buf.len() {
            return Err(Error::BufferTooSmall);
        }
        self.buf[self.pos] = code::END;
        let len = (self.pos + 1).max(MIN_LEN);
        self.buf[self.pos + 1..len].fill(0);
        Ok(len)
    }
}
