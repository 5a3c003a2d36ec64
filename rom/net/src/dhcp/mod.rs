//! PXE DHCP client (layer `rom/net`): DHCPDISCOVER/OFFER/REQUEST/ACK, proxyDHCP and boot server
//! discovery as a sans-IO state machine.
//!
//! PXE 2.1 §2.2 (client conversation), §2.4 (options), RFC 2131 §3.1/§4.4 (client states),
//! RFC 2132 (options), RFC 4578 §2 (client system architecture, NDI, UUID).
//! The machine is driven with [`DhcpClient::poll`], [`DhcpClient::handle`] and
//! [`DhcpClient::next_deadline`]; see `docs/net.md` for the conversation and its timing.

mod client;
mod discovery;
mod outcome;
pub mod packet;
pub mod pxe;
mod request;
mod result;

pub use client::{DhcpClient, MenuView};
pub use request::{static_ack, StaticLease};
pub use result::{
    Boot, ChoiceReason, DhcpError, Event, Lease, OfferKind, Outcome, ServerAddr, Source, State,
    Warning, Warnings, MAX_DNS_SERVERS,
};

use crate::fixed::FixedBuf;

/// DHCP server port.
pub const SERVER_PORT: u16 = 67;
/// DHCP client port.
pub const CLIENT_PORT: u16 = 68;
/// proxyDHCP / boot server port (PXE 2.1 §2.2.3).
pub const PXE_PORT: u16 = 4011;

/// How offers are collected and DISCOVER is retried (`docs/net.md`, "Offer collection").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// DISCOVER timeouts 4, 8, 16, 32 s like `Spec`, but the collection ends as soon as it
    /// cannot get better in practice: an address offer plus PXE boot information (a proxy
    /// offer, or a combined offer carrying PXE options) ends it at once; an address offer
    /// alone waits for a proxy until [`PROXY_WAIT_MS`] after DISCOVER was first sent (iPXE's
    /// rule, `DHCP_DISC_PROXY_TIMEOUT_SEC` in its config/dhcp.h).
    Auto,
    /// PXE 2.1 §2.2.1: DISCOVER timeouts 4, 8, 16, 32 s; every window is waited out unless a
    /// combined offer names a boot file (a later combined offer would still win).
    Spec,
    /// Impatient: DISCOVER timeouts 1, 2, 4, 8 s (for labs and emulators); windows waited out.
    Fast,
}

/// With [`Timing::Auto`], how long an address offer without PXE boot information waits for a
/// proxy offer, counted from the first DISCOVER of the collection: 2 s, as iPXE
/// (`DHCP_DISC_PROXY_TIMEOUT_SEC`, measured from entering discovery).
pub const PROXY_WAIT_MS: u64 = 2000;

impl Timing {
    /// DISCOVER timeouts in milliseconds.
    pub const fn discover_ms(self) -> [u64; 4] {
        match self {
            Timing::Auto | Timing::Spec => [4000, 8000, 16000, 32000],
            Timing::Fast => [1000, 2000, 4000, 8000],
        }
    }
}

/// REQUEST, ProxyDHCPREQUEST and boot server REQUEST timeouts (PXE 2.1 §2.2: 1, 2, 3, 4 s).
pub const REQUEST_MS: [u64; 4] = [1000, 2000, 3000, 4000];

/// What the client says about itself. Build with [`DhcpConfig::new`] and adjust fields.
#[derive(Clone, Copy, Debug)]
pub struct DhcpConfig {
    /// Our MAC address (chaddr).
    pub mac: [u8; 6],
    /// Transaction id; the caller supplies a random one.
    pub xid: u32,
    /// Client machine identifier for option 97 (SMBIOS UUID, or [`uuid_from_mac`]).
    pub uuid: [u8; 16],
    /// Vendor class identifier, option 60.
    pub vendor_class: FixedBuf<64>,
    /// Client system architecture, option 93 (0 = x86 BIOS, 7 = x86-64 UEFI).
    pub arch: u16,
    /// UNDI version for option 94 (major, minor); 2.1.
    pub undi: (u8, u8),
    /// Retry profile.
    pub timing: Timing,
    /// Maximum DHCP message size we accept, option 57.
    pub max_message_size: u16,
    /// How many times a NAK or an unanswered REQUEST may restart discovery.
    pub max_restarts: u8,
    /// Local overrides of the server's discovery control (43.6): bits forced on, then off
    /// (`discovery =` in SOFTPXE.CFG; `pxe::control`).
    pub discovery_set: u8,
    pub discovery_clear: u8,
    /// Local menu prompt timeout in seconds, replacing the server's (43.10); also applies to
    /// a menu the server sent without a prompt. 255 waits for a key, 0 takes the first item.
    pub menu_timeout: Option<u8>,
}

impl DhcpConfig {
    /// Defaults for an x86 BIOS PXE 2.1 client: arch 0, UNDI 2.1, auto timing, 1464-byte limit,
    /// UUID derived from the MAC.
    pub fn new(mac: [u8; 6], xid: u32) -> Self {
        DhcpConfig {
            mac,
            xid,
            uuid: uuid_from_mac(mac),
            vendor_class: vendor_class(0, 2, 1),
            arch: 0,
            undi: (2, 1),
            timing: Timing::Auto,
            max_message_size: 1464,
            max_restarts: 3,
            discovery_set: 0,
            discovery_clear: 0,
            menu_timeout: None,
        }
    }
}

/// `PXEClient:Arch:xxxxx:UNDI:yyyzzz` (PXE 2.1 §2.4.2 table 2-1, option 60).
pub fn vendor_class(arch: u16, major: u8, minor: u8) -> FixedBuf<64> {
    use core::fmt::Write;
    let mut b = FixedBuf::new();
    let _ = write!(b, "PXEClient:Arch:{arch:05}:UNDI:{major:03}{minor:03}");
    b
}

/// A stable client UUID for option 97 when the machine has no SMBIOS UUID: an RFC 4122
/// version-5-like layout built from the MAC (not random, so the same machine keeps it).
pub fn uuid_from_mac(mac: [u8; 6]) -> [u8; 16] {
    let mut u = [0u8; 16];
    u[..4].copy_from_slice(b"sPXE");
    u[6] = 0x50; // version 5 nibble
    u[8] = 0x80; // RFC 4122 variant
    u[10..16].copy_from_slice(&mac);
    u
}
