//! Assembling the DHCP client's [`Outcome`] (layer `rom/net`): which packet names the TFTP
//! server and boot file, by PXE 2.1 §2.2 precedence, with warnings when sources disagree.
//!
//! TFTP server: boot server ACK > proxyDHCP > option 66 (RFC 2132 §9.4) > `siaddr` (RFC 2131
//! §2) > the DHCP server. Boot file: boot server ACK > proxyDHCP > option 67 (RFC 2132 §9.5) >
//! `file`.

use super::client::{DhcpClient, PxeSrc};
use super::packet::{code, Packet};
use super::result::{Boot, DhcpError, Outcome, ServerAddr, Source, State, Warning, Warnings};
use crate::fixed::{c_str, FixedBuf};
use crate::Ipv4Addr;
use core::fmt::Write;

type Name = FixedBuf<128>;

fn file_of(p: &Packet<&[u8]>) -> Name {
    let opt = p.option(code::BOOTFILE_NAME).map(c_str).unwrap_or(&[]);
    FixedBuf::from_slice(if opt.is_empty() { p.file() } else { opt })
}

fn server_of(p: &Packet<&[u8]>, fallback: Ipv4Addr) -> ServerAddr {
    let si = p.siaddr();
    ServerAddr::Ip(if si.is_unspecified() { fallback } else { si })
}

/// Option 66: an IP literal, or a name for the caller to resolve.
fn option66(p: &Packet<&[u8]>) -> Option<ServerAddr> {
    let raw = c_str(p.option(code::TFTP_SERVER_NAME)?);
    if raw.is_empty() {
        return None;
    }
    let parsed = core::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.trim().parse::<Ipv4Addr>().ok());
    Some(match parsed {
        Some(ip) => ServerAddr::Ip(ip),
        None => ServerAddr::Name(FixedBuf::from_slice(raw)),
    })
}

fn text<T: core::fmt::Display>(v: &T) -> FixedBuf<64> {
    let mut b = FixedBuf::new();
    let _ = write!(b, "{v}");
    b
}

/// Pick the first candidate; warn for each later one that names something else.
fn pick<T: Copy + PartialEq + core::fmt::Display>(
    cands: &[Option<(Source, T)>],
    warnings: &mut Warnings,
) -> Option<(Source, T)> {
    let mut it = cands.iter().flatten();
    let (src, val) = *it.next()?;
    for (other_src, other) in it {
        if *other != val && *other_src != Source::DhcpServer {
            warnings.push(Warning {
                used_from: src,
                used: text(&val),
                other_from: *other_src,
                other: text(other),
            });
        }
    }
    Some((src, val))
}

impl DhcpClient {
    pub(super) fn finish(&mut self, boot: Boot) {
        let Some(lease) = self.lease else {
            self.fail(DhcpError::NoAck);
            return;
        };
        let mut servers: [Option<(Source, ServerAddr)>; 5] = [None; 5];
        let mut files: [Option<(Source, Name)>; 4] = [None; 4];
        let nonempty = |s: Source, n: Name| (!n.is_empty()).then_some((s, n));
        if let (Some(ip), Ok(p)) = (self.bs_ip, Packet::new_checked(self.bs_ack.as_bytes())) {
            servers[0] = Some((Source::BootServer, server_of(&p, ip)));
            files[0] = nonempty(Source::BootServer, file_of(&p));
        }
        let proxy = matches!(self.pxe_src, Some(PxeSrc::ProxyOffer | PxeSrc::ProxyAck));
        if let (true, Some(ip), Ok(p)) = (
            proxy,
            self.proxy_ip(),
            Packet::new_checked(self.pxe_bytes()),
        ) {
            servers[1] = Some((Source::Proxy, server_of(&p, ip)));
            files[1] = nonempty(Source::Proxy, file_of(&p));
        }
        if let Ok(p) = Packet::new_checked(self.ack.as_bytes()) {
            servers[2] = option66(&p).map(|s| (Source::Option66, s));
            let si = p.siaddr();
            servers[3] = (!si.is_unspecified()).then_some((Source::Siaddr, ServerAddr::Ip(si)));
            let opt67 = p.option(code::BOOTFILE_NAME).map(c_str).unwrap_or(&[]);
            files[2] = nonempty(Source::Option67, FixedBuf::from_slice(opt67));
            files[3] = nonempty(Source::FileField, FixedBuf::from_slice(p.file()));
        }
        servers[4] = Some((Source::DhcpServer, ServerAddr::Ip(lease.server)));
        let mut warnings = Warnings::default();
        let (tftp_server_from, tftp_server) = pick(&servers, &mut warnings)
            .unwrap_or((Source::DhcpServer, ServerAddr::Ip(lease.server)));
        let (boot_file_from, boot_file) = match boot {
            Boot::Local => (Source::DhcpServer, FixedBuf::new()),
            Boot::Network => match pick(&files, &mut warnings) {
                Some(f) => f,
                None => {
                    self.fail(DhcpError::NoBootFile);
                    return;
                }
            },
        };
        self.result = Some(Ok(Outcome {
            lease,
            proxy_server: if proxy { self.proxy_ip() } else { None },
            boot_server: self.bs_ip,
            boot,
            tftp_server,
            tftp_server_from,
            boot_file,
            boot_file_from,
            warnings,
        }));
        self.state = State::Done;
        self.finish_timers();
    }
}
