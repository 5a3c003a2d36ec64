//! Value types of `SOFTPXE.CFG`: a fixed-capacity string and the enumerated settings, each with
//! a parser for its textual form and a `Display` that writes that form back.

use crate::ErrorKind;
use core::fmt;
use core::net::Ipv4Addr;

/// A printable-ASCII string of at most [`Text::MAX`] bytes stored inline (no allocation).
///
/// Invariants (enforced by [`Text::new`]): bytes are `0x20..=0x7E`, no leading or trailing
/// space, and no `#` right after a space (it would read back as a comment).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text {
    bytes: [u8; Text::MAX + 1],
    len: u8,
}

impl Text {
    /// Longest string a `Text` holds (one byte is left for a NUL terminator in the firmware).
    pub const MAX: usize = 127;

    /// Checks and copies `s`.
    pub fn new(s: &[u8]) -> Result<Text, ErrorKind> {
        if s.is_empty() {
            return Err(ErrorKind::MissingValue);
        }
        if s.len() > Text::MAX {
            return Err(ErrorKind::TooLong { max: Text::MAX });
        }
        if s.iter().any(|&b| !(0x20..=0x7e).contains(&b)) {
            return Err(ErrorKind::BadCharacter);
        }
        // What `write` puts after "key = " must read back the same: no outer spaces, and no
        // '#' where it would start a comment (after a space, or first: "key =#x" reads "#x",
        // but the canonical "key = #x" is a comment).
        if s[0] == b' '
            || s[0] == b'#'
            || s[s.len() - 1] == b' '
            || s.windows(2).any(|w| w == b" #")
        {
            return Err(ErrorKind::BadCharacter);
        }
        let mut bytes = [0u8; Text::MAX + 1];
        bytes[..s.len()].copy_from_slice(s);
        Ok(Text {
            bytes,
            len: s.len() as u8,
        })
    }

    /// The bytes of the string.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The string (always valid: the bytes are printable ASCII).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// `next_server`: an IPv4 address or a DNS host name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    Ip(Ipv4Addr),
    Name(Text),
}

impl Host {
    /// Parses an address (anything made of digits and dots) or an RFC 1123 host name.
    pub fn parse(s: &[u8]) -> Result<Host, ErrorKind> {
        if s.is_empty() {
            return Err(ErrorKind::MissingValue);
        }
        if s.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
            return parse_ipv4(s).map(Host::Ip);
        }
        if s.len() > 253 || s.len() > Text::MAX {
            return Err(ErrorKind::TooLong { max: Text::MAX });
        }
        let name = s.strip_suffix(b".").unwrap_or(s);
        let label_ok = |l: &[u8]| {
            !l.is_empty()
                && l.len() <= 63
                && l.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && l[0] != b'-'
                && l[l.len() - 1] != b'-'
        };
        if name.is_empty() || !name.split(|b| *b == b'.').all(label_ok) {
            return Err(ErrorKind::BadHostName);
        }
        Text::new(s).map(Host::Name)
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => fmt::Display::fmt(ip, f),
            Host::Name(n) => fmt::Display::fmt(n, f),
        }
    }
}

/// Parses a dotted-quad IPv4 address.
pub(crate) fn parse_ipv4(s: &[u8]) -> Result<Ipv4Addr, ErrorKind> {
    let s = core::str::from_utf8(s).map_err(|_| ErrorKind::BadIpv4)?;
    s.parse().map_err(|_| ErrorKind::BadIpv4)
}

/// The netmask of a prefix length `0..=32`.
pub(crate) fn prefix_to_mask(prefix: u8) -> Ipv4Addr {
    let bits = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    };
    Ipv4Addr::from(bits)
}

/// Whether `mask` is a contiguous run of ones followed by zeros.
pub(crate) fn is_contiguous_mask(mask: Ipv4Addr) -> bool {
    let m = u32::from(mask);
    m.leading_ones() + m.trailing_zeros() == 32
}

/// Defines a keyword enum with its textual names, a parser and `Display`.
macro_rules! keyword_enum {
    ($(#[$doc:meta])* $name:ident, $expected:literal,
     { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every accepted word, for error messages.
            pub const EXPECTED: &'static str = $expected;

            /// Parses the keyword, ignoring ASCII case.
            pub fn parse(s: &[u8]) -> Result<$name, ErrorKind> {
                $(if s.eq_ignore_ascii_case($text.as_bytes()) {
                    return Ok($name::$variant);
                })+
                Err(ErrorKind::BadChoice { expected: $expected })
            }

            /// The keyword as written in the file.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keyword_enum!(
    /// `discovery`: PXE 2.1 boot-server discovery control (what DHCP option 43 tag 6 does).
    Discovery, "auto, skip, broadcast, multicast or unicast", {
    /// Follow the server's option 43 (the default).
    #[default]
    Auto = "auto",
    /// Boot the file from DHCP/proxyDHCP; no discovery.
    Skip = "skip",
    /// Discover boot servers by broadcast only.
    Broadcast = "broadcast",
    /// Discover boot servers by multicast only.
    Multicast = "multicast",
    /// Ask only the boot servers listed by the server.
    Unicast = "unicast",
});

keyword_enum!(
    /// `timing`: DHCP retransmission schedule.
    Timing, "auto, spec or fast", {
    /// Retries at 4, 8, 16, 32 seconds; the offer collection ends as soon as an address and
    /// PXE boot information are both in hand, or 2 s after DISCOVER with an address only
    /// (iPXE's rule). The default.
    #[default]
    Auto = "auto",
    /// PXE 2.1 exactly: retries at 4, 8, 16, 32 seconds, and the whole first window is
    /// waited out unless a combined offer names a boot file.
    Spec = "spec",
    /// Retries at 1, 2, 4, 8 seconds.
    Fast = "fast",
});

keyword_enum!(
    /// `uefi_nic`: which PCI NICs the UEFI firmware (BOOTX64.EFI) drives.
    UefiNic, "auto, take or skip", {
    /// Those softpxe has a driver for and no firmware driver has bound (no SNP on or under the
    /// PCI handle). The default.
    #[default]
    Auto = "auto",
    /// Also those another driver has bound (e.g. OVMF's virtio-net): softpxe disconnects it.
    Take = "take",
    /// None: BOOTX64.EFI installs nothing and returns to the boot manager.
    Skip = "skip",
});

keyword_enum!(
    /// `log`: verbosity on screen and serial.
    LogLevel, "quiet, info or debug", {
    /// Errors only.
    Quiet = "quiet",
    /// Progress and errors (the default).
    #[default]
    Info = "info",
    /// Everything, including every packet and PXE API call.
    Debug = "debug",
});

keyword_enum!(
    /// `test_fault`: a CPU exception the firmware raises on purpose (a diagnostic).
    Fault, "ud, de, gp or stack", {
    /// Invalid opcode (#UD, vector 6; the default of the type, never used unset).
    #[default]
    Ud = "ud",
    /// Divide error (#DE, vector 0).
    De = "de",
    /// General protection (#GP, vector 13): a segment register loaded with a bad selector.
    Gp = "gp",
    /// A controlled stack overrun into the core stack's guard region (not a CPU exception):
    /// the next check of the guard reports `PXE-EC8` and halts.
    Stack = "stack",
});

impl Timing {
    /// DHCP retry timeouts in seconds.
    pub const fn retries_secs(self) -> [u8; 4] {
        match self {
            Timing::Auto | Timing::Spec => [4, 8, 16, 32],
            Timing::Fast => [1, 2, 4, 8],
        }
    }
}

/// `nic`: which network card to drive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NicSelect {
    /// The first supported NIC found (the default).
    #[default]
    Auto,
    /// The first NIC with this PCI vendor and device ID (`VVVV:DDDD`, hex).
    Id { vendor: u16, device: u16 },
    /// The NIC at this PCI address (`BB:DD.F`, hex).
    Address { bus: u8, device: u8, function: u8 },
}

impl NicSelect {
    /// Parses `auto`, `VVVV:DDDD` or `BB:DD.F`.
    pub fn parse(s: &[u8]) -> Result<NicSelect, ErrorKind> {
        if s.eq_ignore_ascii_case(b"auto") {
            return Ok(NicSelect::Auto);
        }
        let colon = s.iter().position(|b| *b == b':').ok_or(ErrorKind::BadNic)?;
        let (a, rest) = (&s[..colon], &s[colon + 1..]);
        if let Some(dot) = rest.iter().position(|b| *b == b'.') {
            let (d, f) = (&rest[..dot], &rest[dot + 1..]);
            let bus = hex(a, 2).ok_or(ErrorKind::BadNic)?;
            let device = hex(d, 2).ok_or(ErrorKind::BadNic)?;
            let function = hex(f, 1).ok_or(ErrorKind::BadNic)?;
            if device > 0x1f || function > 7 {
                return Err(ErrorKind::BadNic);
            }
            Ok(NicSelect::Address {
                bus: bus as u8,
                device: device as u8,
                function: function as u8,
            })
        } else {
            let vendor = hex(a, 4).ok_or(ErrorKind::BadNic)?;
            let device = hex(rest, 4).ok_or(ErrorKind::BadNic)?;
            Ok(NicSelect::Id {
                vendor: vendor as u16,
                device: device as u16,
            })
        }
    }
}

/// `isa`: an ISA network card to drive. ISA cards cannot be found safely, so the default (the key
/// not set) probes none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsaSelect {
    /// Probe the classic ports of each ISA driver with its least intrusive check (`auto`).
    Auto,
    /// This card: `<driver>:<port>[:<irq>]`, e.g. `ne2000:0x300:9` (IRQ 0 or left out: polled).
    Card {
        /// The ISA driver.
        driver: IsaDriver,
        /// I/O base, 0x200-0x3E0 in steps of 0x20.
        port: u16,
        /// IRQ line, 2-15, or 0 (unknown; the card is polled).
        irq: u8,
    },
}

keyword_enum!(
    /// The ISA drivers `isa = <driver>:...` can name.
    IsaDriver, "ne2000", {
    /// NE2000 / NE1000 and compatibles (DP8390).
    #[default]
    Ne2000 = "ne2000",
});

impl IsaSelect {
    /// Parses `auto` or `<driver>:<port>[:<irq>]` (port hex, with or without `0x`; IRQ decimal).
    pub fn parse(s: &[u8]) -> Result<IsaSelect, ErrorKind> {
        if s.eq_ignore_ascii_case(b"auto") {
            return Ok(IsaSelect::Auto);
        }
        let mut parts = s.split(|b| *b == b':');
        let driver = parts.next().ok_or(ErrorKind::BadIsa)?;
        let driver = IsaDriver::parse(driver).map_err(|_| ErrorKind::BadIsa)?;
        let port = parts.next().ok_or(ErrorKind::BadIsa)?;
        let port = port
            .strip_prefix(b"0x")
            .or_else(|| port.strip_prefix(b"0X"))
            .unwrap_or(port);
        let port = hex(port, 3).ok_or(ErrorKind::BadIsa)?;
        if !(0x200..=0x3E0).contains(&port) || port % 0x20 != 0 {
            return Err(ErrorKind::BadIsa);
        }
        let irq = match parts.next() {
            None => 0,
            Some(irq) => {
                if irq.is_empty() || irq.len() > 2 || !irq.iter().all(u8::is_ascii_digit) {
                    return Err(ErrorKind::BadIsa);
                }
                let n = irq.iter().fold(0u8, |a, &b| a * 10 + (b - b'0'));
                if n == 1 || n > 15 || (n == 0 && irq.len() > 1) {
                    return Err(ErrorKind::BadIsa);
                }
                n
            }
        };
        if parts.next().is_some() {
            return Err(ErrorKind::BadIsa);
        }
        Ok(IsaSelect::Card {
            driver,
            port: port as u16,
            irq,
        })
    }
}

impl fmt::Display for IsaSelect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IsaSelect::Auto => f.write_str("auto"),
            IsaSelect::Card {
                driver,
                port,
                irq: 0,
            } => write!(f, "{driver}:{port:#x}"),
            IsaSelect::Card { driver, port, irq } => write!(f, "{driver}:{port:#x}:{irq}"),
        }
    }
}

/// Parses 1..=`max_digits` hex digits.
fn hex(s: &[u8], max_digits: usize) -> Option<u32> {
    if s.is_empty() || s.len() > max_digits {
        return None;
    }
    s.iter().try_fold(0u32, |acc, &b| {
        let d = (b as char).to_digit(16)?;
        Some(acc * 16 + d)
    })
}

impl fmt::Display for NicSelect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            NicSelect::Auto => f.write_str("auto"),
            NicSelect::Id { vendor, device } => write!(f, "{vendor:04x}:{device:04x}"),
            NicSelect::Address {
                bus,
                device,
                function,
            } => write!(f, "{bus:02x}:{device:02x}.{function:x}"),
        }
    }
}
