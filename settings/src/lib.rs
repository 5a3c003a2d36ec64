//! `SOFTPXE.CFG`: the `key = value` settings file on the boot medium, parsed the same way by the
//! builder (which writes and validates it) and the firmware (which reads it at boot).
//!
//! No allocation and no panics on any input: [`parse`] fills a fixed-size [`Settings`] and reports
//! each bad line through a callback, skipping it (the firmware must always boot). [`write`] emits
//! the canonical file, which [`parse`] reads back to the same value. The format and every key are
//! described in `docs/settings.md`.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

mod error;
pub mod fuzz_target;
pub mod medium;
mod parse;
mod value;
mod write;

#[cfg(test)]
mod tests;

pub use error::{ErrorKind, LineError};
pub use parse::parse;
pub use value::{
    Discovery, Fault, Host, IsaDriver, IsaSelect, LogLevel, NicSelect, Text, Timing, UefiNic,
};
pub use write::{default_text, write, ValueDisplay};

use core::net::Ipv4Addr;

/// The default DHCP option 60 vendor class: PXE client, x86 BIOS (arch 0), UNDI 2.1.
pub const DEFAULT_VENDOR_CLASS: &str = "PXEClient:Arch:00000:UNDI:002001";

/// Every setting in `SOFTPXE.CFG`. `None` means "not set in the file": the default applies
/// (see the accessor methods and `docs/settings.md`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// DHCP option 60 sent by the client; default [`DEFAULT_VENDOR_CLASS`].
    pub vendor_class: Option<Text>,
    /// Fixed TFTP server (like option 66 / siaddr); default: from DHCP.
    pub next_server: Option<Host>,
    /// Fixed boot file name (like option 67 / file); default: from DHCP.
    pub boot_file: Option<Text>,
    /// Static IPv4 address; default: DHCP.
    pub ip: Option<Ipv4Addr>,
    /// Netmask for the static address (also set by `ip = a.b.c.d/nn`).
    pub netmask: Option<Ipv4Addr>,
    /// Default gateway for the static address.
    pub gateway: Option<Ipv4Addr>,
    /// DNS server (used to resolve a `next_server` host name).
    pub dns: Option<Ipv4Addr>,
    /// PXE boot-server discovery control; default [`Discovery::Auto`].
    pub discovery: Option<Discovery>,
    /// DHCP offer collection and retry timing; default [`Timing::Auto`].
    pub timing: Option<Timing>,
    /// Boot menu timeout in seconds; default: what the server says.
    pub menu_timeout: Option<u8>,
    /// Which NIC to use; default [`NicSelect::Auto`].
    pub nic: Option<NicSelect>,
    /// An ISA card to drive as well (`auto`: probe the classic ports); default: none, ISA is
    /// never probed.
    pub isa: Option<IsaSelect>,
    /// UEFI only: which PCI NICs BOOTX64.EFI drives; default [`UefiNic::Auto`] (those no
    /// firmware driver has bound).
    pub uefi_nic: Option<UefiNic>,
    /// Log verbosity; default [`LogLevel::Info`].
    pub log: Option<LogLevel>,
    /// TFTP window size (RFC 7440) asked for, 1-64; 1 turns windowing off. Default 16.
    pub tftp_windowsize: Option<u8>,
    /// A diagnostic: a file fetched over TFTP after DHCP and before the NBP, to show the
    /// transfer works and how fast it is (its bytes are checked, counted and discarded).
    pub test_file: Option<Text>,
    /// A diagnostic: raise this CPU exception in the core after reading the settings, to see
    /// the exception report on this machine (`ud` invalid opcode, `de` divide error, `gp`
    /// general protection).
    pub test_fault: Option<Fault>,
}

/// The TFTP window size asked for when `tftp_windowsize` is not set.
pub const DEFAULT_TFTP_WINDOWSIZE: u8 = 16;

/// A key of `SOFTPXE.CFG`, in the order the canonical file lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    VendorClass,
    NextServer,
    BootFile,
    Ip,
    Netmask,
    Gateway,
    Dns,
    Discovery,
    Timing,
    MenuTimeout,
    Nic,
    Isa,
    UefiNic,
    Log,
    TftpWindowsize,
    TestFile,
    TestFault,
}

impl Key {
    /// All keys, in canonical order.
    pub const ALL: [Key; 17] = [
        Key::VendorClass,
        Key::NextServer,
        Key::BootFile,
        Key::Ip,
        Key::Netmask,
        Key::Gateway,
        Key::Dns,
        Key::Discovery,
        Key::Timing,
        Key::MenuTimeout,
        Key::Nic,
        Key::Isa,
        Key::UefiNic,
        Key::Log,
        Key::TftpWindowsize,
        Key::TestFile,
        Key::TestFault,
    ];

    /// The key as written in the file (lower case).
    pub const fn name(self) -> &'static str {
        match self {
            Key::VendorClass => "vendor_class",
            Key::NextServer => "next_server",
            Key::BootFile => "boot_file",
            Key::Ip => "ip",
            Key::Netmask => "netmask",
            Key::Gateway => "gateway",
            Key::Dns => "dns",
            Key::Discovery => "discovery",
            Key::Timing => "timing",
            Key::MenuTimeout => "menu_timeout",
            Key::Nic => "nic",
            Key::Isa => "isa",
            Key::UefiNic => "uefi_nic",
            Key::Log => "log",
            Key::TftpWindowsize => "tftp_windowsize",
            Key::TestFile => "test_file",
            Key::TestFault => "test_fault",
        }
    }

    /// One line saying what the key does, used as a comment in the canonical file.
    pub const fn help(self) -> &'static str {
        match self {
            Key::VendorClass => "DHCP vendor class identifier (option 60) the client sends",
            Key::NextServer => "TFTP server, IPv4 address or host name (empty: from DHCP)",
            Key::BootFile => "boot file to fetch (empty: from DHCP)",
            Key::Ip => "static IPv4 address, a.b.c.d or a.b.c.d/nn (empty: use DHCP)",
            Key::Netmask => "netmask for the static address",
            Key::Gateway => "default gateway for the static address",
            Key::Dns => "DNS server for a next_server host name",
            Key::Discovery => "boot server discovery: auto, skip, broadcast, multicast, unicast",
            Key::Timing => "DHCP offers and retries: auto (proceed once address + boot info are in; 4/8/16/32 s), spec (PXE 2.1 windows) or fast (1/2/4/8 s)",
            Key::MenuTimeout => "boot menu timeout in seconds, 0-255 (empty: from the server)",
            Key::Nic => "NIC to use: auto, VVVV:DDDD (PCI vendor:device) or BB:DD.F (PCI address)",
            Key::Isa => {
                "ISA card: ne2000:PORT[:IRQ] (e.g. ne2000:0x300:9) or auto (empty: no ISA probing)"
            }
            Key::UefiNic => {
                "UEFI: auto (NICs no firmware driver has bound), take (also those), skip (none)"
            }
            Key::Log => "log verbosity: quiet, info, debug",
            Key::TftpWindowsize => "TFTP window size (RFC 7440) to ask for, 1-64; 1 turns it off",
            Key::TestFile => "diagnostic: fetch this file before the NBP and report its speed",
            Key::TestFault => "diagnostic: raise a CPU exception (ud, de, gp) or overrun the stack (stack) to see its report",
        }
    }

    /// Looks a key up by name, ignoring ASCII case.
    pub fn from_name(name: &[u8]) -> Option<Key> {
        Key::ALL
            .into_iter()
            .find(|k| k.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

impl Settings {
    /// Sets one key from its textual value (the part after `=`, without comment), exactly as a
    /// line of the file would. On error the settings are unchanged.
    pub fn set(&mut self, key: Key, value: &[u8]) -> Result<(), ErrorKind> {
        parse::apply(self, key, value)
    }

    /// Resets one key to "not set".
    pub fn unset(&mut self, key: Key) {
        match key {
            Key::VendorClass => self.vendor_class = None,
            Key::NextServer => self.next_server = None,
            Key::BootFile => self.boot_file = None,
            Key::Ip => self.ip = None,
            Key::Netmask => self.netmask = None,
            Key::Gateway => self.gateway = None,
            Key::Dns => self.dns = None,
            Key::Discovery => self.discovery = None,
            Key::Timing => self.timing = None,
            Key::MenuTimeout => self.menu_timeout = None,
            Key::Nic => self.nic = None,
            Key::Isa => self.isa = None,
            Key::UefiNic => self.uefi_nic = None,
            Key::Log => self.log = None,
            Key::TftpWindowsize => self.tftp_windowsize = None,
            Key::TestFile => self.test_file = None,
            Key::TestFault => self.test_fault = None,
        }
    }

    /// Whether the key has a value in this file (as opposed to its default).
    pub fn is_set(&self, key: Key) -> bool {
        match key {
            Key::VendorClass => self.vendor_class.is_some(),
            Key::NextServer => self.next_server.is_some(),
            Key::BootFile => self.boot_file.is_some(),
            Key::Ip => self.ip.is_some(),
            Key::Netmask => self.netmask.is_some(),
            Key::Gateway => self.gateway.is_some(),
            Key::Dns => self.dns.is_some(),
            Key::Discovery => self.discovery.is_some(),
            Key::Timing => self.timing.is_some(),
            Key::MenuTimeout => self.menu_timeout.is_some(),
            Key::Nic => self.nic.is_some(),
            Key::Isa => self.isa.is_some(),
            Key::UefiNic => self.uefi_nic.is_some(),
            Key::Log => self.log.is_some(),
            Key::TftpWindowsize => self.tftp_windowsize.is_some(),
            Key::TestFile => self.test_file.is_some(),
            Key::TestFault => self.test_fault.is_some(),
        }
    }

    /// The vendor class to send: the configured one or [`DEFAULT_VENDOR_CLASS`].
    pub fn vendor_class(&self) -> &str {
        match &self.vendor_class {
            Some(t) => t.as_str(),
            None => DEFAULT_VENDOR_CLASS,
        }
    }

    /// Discovery mode in effect.
    pub fn discovery(&self) -> Discovery {
        self.discovery.unwrap_or_default()
    }

    /// Timing in effect.
    pub fn timing(&self) -> Timing {
        self.timing.unwrap_or_default()
    }

    /// NIC selection in effect.
    pub fn nic(&self) -> NicSelect {
        self.nic.unwrap_or_default()
    }

    /// UEFI NIC policy in effect.
    pub fn uefi_nic(&self) -> UefiNic {
        self.uefi_nic.unwrap_or_default()
    }

    /// TFTP window size in effect.
    pub fn tftp_windowsize(&self) -> u8 {
        self.tftp_windowsize.unwrap_or(DEFAULT_TFTP_WINDOWSIZE)
    }

    /// Log level in effect.
    pub fn log(&self) -> LogLevel {
        self.log.unwrap_or_default()
    }
}
