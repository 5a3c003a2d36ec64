//! Building the client's requests (layer `rom/net`): DHCPDISCOVER, DHCPREQUEST, the
//! ProxyDHCPREQUEST and the boot server REQUEST with their PXE options (PXE 2.1 §2.2, §2.4;
//! RFC 2132 §9.8 (55), §9.10 (57), §9.13 (60); RFC 4578 §2.1-§2.3 (93, 94, 97)).

use super::client::DhcpClient;
use super::packet::{self, code, msg, Builder, Packet};
use super::pxe;
use super::result::State;
use crate::{Instant, Ipv4Addr};

/// Parameter request list (option 55): RFC 2132 basics, 43/60/66/67, 97, 128-135 (PXE 2.1).
const PARAMETER_LIST: [u8; 23] = [
    1, 2, 3, 4, 6, 12, 13, 15, 17, 28, 40, 43, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134,
];
const PARAMETER_LIST_TAIL: u8 = 135;

impl DhcpClient {
    pub(super) fn build(&self, now: Instant, buf: &mut [u8]) -> Result<usize, packet::Error> {
        let c = &self.cfg;
        let mut b = Builder::new(buf, packet::OP_REQUEST, c.xid, c.mac)?;
        let secs = u16::try_from(now.since(self.start) / 1000).unwrap_or(u16::MAX);
        b.secs(secs);
        let our_ip = self.lease.map_or(Ipv4Addr::UNSPECIFIED, |l| l.ip);
        match self.state {
            State::Discovering => {
                b.flags(0x8000).option(code::MESSAGE_TYPE, &[msg::DISCOVER]);
            }
            State::Requesting => {
                let (yi, sid) = match &self.dhcp_offer {
                    Some(o) => {
                        let p = Packet::new_checked(o.raw.as_bytes())?;
                        (p.yiaddr(), o.from)
                    }
                    None => (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
                };
                b.flags(0x8000)
                    .option(code::MESSAGE_TYPE, &[msg::REQUEST])
                    .option(code::REQUESTED_IP, &yi.octets())
                    .option(code::SERVER_ID, &sid.octets());
            }
            _ => {
                b.ciaddr(our_ip).option(code::MESSAGE_TYPE, &[msg::REQUEST]);
            }
        }
        let mut params = [0u8; PARAMETER_LIST.len() + 1];
        params[..PARAMETER_LIST.len()].copy_from_slice(&PARAMETER_LIST);
        params[PARAMETER_LIST.len()] = PARAMETER_LIST_TAIL;
        b.option(code::PARAMETER_LIST, &params)
            .option(code::MAX_MESSAGE_SIZE, &c.max_message_size.to_be_bytes())
            .option(code::VENDOR_CLASS, c.vendor_class.as_bytes())
            .option(code::CLIENT_ARCH, &c.arch.to_be_bytes())
            .option(code::CLIENT_NDI, &[1, c.undi.0, c.undi.1]);
        let mut uuid = [0u8; 17];
        uuid[1..].copy_from_slice(&c.uuid);
        b.option(code::CLIENT_UUID, &uuid);
        if self.state == State::BootServerDiscovery {
            b.option(
                code::VENDOR_SPECIFIC,
                &pxe::boot_item_option(self.bs_type, 0),
            );
        }
        b.finish()
    }
}

/// What a made-up DHCPACK for a static address says ([`static_ack`]).
#[derive(Clone, Copy, Debug)]
pub struct StaticLease<'a> {
    /// Our MAC (chaddr).
    pub mac: [u8; 6],
    /// Our address (yiaddr).
    pub ip: Ipv4Addr,
    /// Subnet mask (option 1).
    pub mask: Option<Ipv4Addr>,
    /// Gateway (option 3).
    pub gateway: Option<Ipv4Addr>,
    /// DNS server (option 6).
    pub dns: Option<Ipv4Addr>,
    /// The TFTP server (siaddr and option 54).
    pub server: Ipv4Addr,
    /// The boot file (the `file` field).
    pub file: &'a [u8],
}

/// A DHCPACK made up from a static configuration, as iPXE does: with a static address there is
/// no DHCP conversation, but NBPs still ask GET_CACHED_INFO for their address, server and file.
/// Options 53 (ACK), 54, 1, 3, 6 (those set) and 60 `PXEClient`. Returns its length in `buf`.
pub fn static_ack(buf: &mut [u8], l: &StaticLease<'_>) -> Result<usize, packet::Error> {
    let mut b = Builder::new(buf, packet::OP_REPLY, 0, l.mac)?;
    b.yiaddr(l.ip)
        .siaddr(l.server)
        .file(l.file)
        .option(code::MESSAGE_TYPE, &[msg::ACK])
        .option(code::SERVER_ID, &l.server.octets());
    for (c, v) in [
        (code::SUBNET_MASK, l.mask),
        (code::ROUTER, l.gateway),
        (code::DNS, l.dns),
    ] {
        if let Some(a) = v {
            b.option(c, &a.octets());
        }
    }
    b.option(code::VENDOR_CLASS, b"PXEClient");
    b.finish()
}
