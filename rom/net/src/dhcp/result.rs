//! Results, errors and progress events of the PXE DHCP client (layer `rom/net`).
//!
//! Error codes follow the PXE 2.1 client messages (PXE-E51 no offers, PXE-E53 no boot file,
//! PXE-E55 proxyDHCP did not answer on port 4011, …).

use crate::fixed::FixedBuf;
use crate::Ipv4Addr;
use core::fmt;

/// Where the client is in the conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Broadcasting DHCPDISCOVER and collecting offers.
    Discovering,
    /// DHCPREQUEST sent to the chosen DHCP server, waiting for ACK.
    Requesting,
    /// ProxyDHCPREQUEST sent to the proxy on port 4011.
    ProxyRequesting,
    /// A boot menu (43.9) is on offer; waiting for [`super::DhcpClient::select`] or the prompt
    /// timeout.
    Menu,
    /// Boot server discovery (43.71 requests to port 4011).
    BootServerDiscovery,
    /// Finished; see [`super::DhcpClient::outcome`].
    Done,
    /// Gave up; see [`super::DhcpClient::outcome`].
    Failed,
}

/// What kind of offer arrived (PXE 2.1 §2.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferKind {
    /// Address only (no `PXEClient` option 60).
    Dhcp,
    /// `PXEClient` without an address: proxyDHCP.
    Proxy,
    /// Address and `PXEClient`: DHCP and PXE from one server.
    Combined,
}

/// Why an offer was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChoiceReason {
    /// It is a combined DHCP + PXE offer that names a boot file, so no need to wait.
    CombinedWithBootFile,
    /// It is the first DHCP offer carrying boot information.
    HasBootInfo,
    /// A plain DHCP offer, with boot information from a proxyDHCP offer.
    WithProxy,
    /// The only kind offered: plain DHCP, boot information from its ACK alone.
    PlainDhcp,
}

/// A progress event for the boot log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// An offer arrived.
    OfferReceived {
        /// Server identifier (or source IP).
        from: Ipv4Addr,
        /// Its kind.
        kind: OfferKind,
        /// Offered address (0.0.0.0 for a proxy).
        yiaddr: Ipv4Addr,
        /// Whether it names a boot file.
        boot_file: bool,
    },
    /// The offers to use were chosen.
    Chosen {
        /// DHCP server we request the address from.
        dhcp: Ipv4Addr,
        /// proxyDHCP server whose boot information we use, if any.
        proxy: Option<Ipv4Addr>,
        /// Why.
        reason: ChoiceReason,
    },
    /// A packet was sent again after a timeout (`attempt` counts from 1 for the first resend).
    Retransmit {
        /// State whose packet was resent.
        state: State,
        /// Resend number.
        attempt: u8,
    },
    /// DHCPACK from the DHCP server: the address is ours.
    Acked {
        /// DHCP server.
        from: Ipv4Addr,
        /// Our address.
        ip: Ipv4Addr,
    },
    /// DHCPNAK: discovery starts over.
    Nak {
        /// Server that refused.
        from: Ipv4Addr,
    },
    /// ProxyDHCP ACK from port 4011.
    ProxyAck {
        /// Proxy server.
        from: Ipv4Addr,
    },
    /// Boot server ACK.
    BootServerAck {
        /// Boot server.
        from: Ipv4Addr,
        /// Boot server type answered.
        server_type: u16,
    },
    /// A boot menu is waiting for a selection.
    MenuReady,
}

/// Where a value in the [`Outcome`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The boot server's ACK (discovery).
    BootServer,
    /// The proxyDHCP offer or ACK.
    Proxy,
    /// Option 43/60 data of a combined DHCP ACK, or its `siaddr`/`file` in PXE mode.
    DhcpPxe,
    /// DHCP option 66 (TFTP server name).
    Option66,
    /// DHCP option 67 (boot file name).
    Option67,
    /// BOOTP `siaddr` of the DHCP ACK.
    Siaddr,
    /// BOOTP `file` of the DHCP ACK.
    FileField,
    /// The DHCP server's own address (no other TFTP server named).
    DhcpServer,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::BootServer => "the boot server ACK",
            Source::Proxy => "proxyDHCP",
            Source::DhcpPxe => "the DHCP server's PXE reply",
            Source::Option66 => "option 66",
            Source::Option67 => "option 67",
            Source::Siaddr => "siaddr",
            Source::FileField => "the file field",
            Source::DhcpServer => "the DHCP server address",
        })
    }
}

/// A TFTP server as named by DHCP: an address, or a DNS name (option 66) for the caller to
/// resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// A name may be as long as option 66 allows (255 bytes; DNS names up to 253): one value per
// DHCP outcome, never in an array, so the size difference to `Ip` costs nothing worth boxing
// (there is no allocator).
#[allow(clippy::large_enum_variant)]
pub enum ServerAddr {
    /// An IPv4 address.
    Ip(Ipv4Addr),
    /// A host name from option 66.
    Name(FixedBuf<255>),
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerAddr::Ip(ip) => write!(f, "{ip}"),
            ServerAddr::Name(n) => write!(f, "{n}"),
        }
    }
}

/// Two sources disagreed; the first one won.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Warning {
    /// Source used.
    pub used_from: Source,
    /// Value used, as text.
    pub used: FixedBuf<64>,
    /// Source overruled.
    pub other_from: Source,
    /// Its value, as text.
    pub other: FixedBuf<64>,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} says {} but {} is {}; using {}",
            self.used_from, self.used, self.other_from, self.other, self.used_from
        )
    }
}

/// Up to four warnings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Warnings {
    items: [Option<Warning>; 4],
}

impl Warnings {
    pub(crate) fn push(&mut self, w: Warning) {
        if let Some(slot) = self.items.iter_mut().find(|s| s.is_none()) {
            *slot = Some(w);
        }
    }
    /// The warnings, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Warning> {
        self.items.iter().flatten()
    }
    /// Number of warnings.
    pub fn len(&self) -> usize {
        self.iter().count()
    }
    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The address configuration from the DHCP ACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// Our address.
    pub ip: Ipv4Addr,
    /// Subnet mask (option 1).
    pub subnet_mask: Option<Ipv4Addr>,
    /// Default gateway (first of option 3).
    pub gateway: Option<Ipv4Addr>,
    /// DNS servers (option 6), in the server's order; the first [`MAX_DNS_SERVERS`].
    pub dns: [Option<Ipv4Addr>; MAX_DNS_SERVERS],
    /// Domain name (option 15), the search domain for a dotless host name; empty if none.
    pub domain: FixedBuf<255>,
    /// The DHCP server (option 54 or source address).
    pub server: Ipv4Addr,
}

/// DNS servers kept from option 6.
pub const MAX_DNS_SERVERS: usize = 4;

impl Lease {
    /// The DNS servers of option 6, in order.
    pub fn dns_servers(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.dns.iter().flatten().copied()
    }
}

/// What to boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boot {
    /// Fetch `boot_file` from `tftp_server`.
    Network,
    /// The user (or the menu's default) chose a type-0 item: boot from the local disk.
    Local,
}

/// The result of a successful conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Our address configuration.
    pub lease: Lease,
    /// proxyDHCP server, if one was used.
    pub proxy_server: Option<Ipv4Addr>,
    /// Boot server that answered discovery, if any.
    pub boot_server: Option<Ipv4Addr>,
    /// Network or local boot.
    pub boot: Boot,
    /// TFTP server.
    pub tftp_server: ServerAddr,
    /// Where `tftp_server` came from.
    pub tftp_server_from: Source,
    /// Boot file name (empty for a local boot).
    pub boot_file: FixedBuf<128>,
    /// Where `boot_file` came from.
    pub boot_file_from: Source,
    /// Disagreements between sources.
    pub warnings: Warnings,
}

/// Why the conversation failed, with its PXE client error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DhcpError {
    /// PXE-E51: no DHCP or proxyDHCP offers were received.
    NoOffers,
    /// PXE-E52: proxyDHCP offers were received, but no DHCP offer.
    ProxyOnly,
    /// PXE-E51: offers came but no ACK, after all restarts.
    NoAck,
    /// PXE-E53: no boot file name was received.
    NoBootFile,
    /// PXE-E55: the proxyDHCP service did not reply to a request on port 4011.
    ProxyNoReply,
    /// PXE-E77: discovery asked for, but no way to reach a boot server.
    NoBootServers,
    /// PXE-E78: no boot server answered discovery.
    BootServerNoReply,
}

impl DhcpError {
    /// The PXE message code, e.g. `"PXE-E51"`.
    pub const fn pxe_code(self) -> &'static str {
        match self {
            DhcpError::NoOffers | DhcpError::NoAck => "PXE-E51",
            DhcpError::ProxyOnly => "PXE-E52",
            DhcpError::NoBootFile => "PXE-E53",
            DhcpError::ProxyNoReply => "PXE-E55",
            DhcpError::NoBootServers => "PXE-E77",
            DhcpError::BootServerNoReply => "PXE-E78",
        }
    }
}

impl fmt::Display for DhcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            DhcpError::NoOffers => "No DHCP or proxyDHCP offers were received",
            DhcpError::ProxyOnly => "proxyDHCP offers were received. No DHCP offers were received",
            DhcpError::NoAck => "DHCP offers were received but no DHCPACK",
            DhcpError::NoBootFile => "No boot filename received",
            DhcpError::ProxyNoReply => "ProxyDHCP service did not reply to request on port 4011",
            DhcpError::NoBootServers => "Bad or missing discovery server list",
            DhcpError::BootServerNoReply => "Could not locate boot server",
        };
        write!(f, "{}: {text}", self.pxe_code())
    }
}
