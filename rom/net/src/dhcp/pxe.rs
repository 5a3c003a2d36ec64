//! PXE vendor options: the option 43 sub-option space of a `PXEClient` reply (layer `rom/net`).
//!
//! PXE 2.1 §2.4.7 (tables 2-1 and 2-2): 1-5 MTFTP, 6 discovery control, 7 discovery multicast
//! address, 8 boot servers, 9 boot menu, 10 menu prompt, 71 boot item. Sub-options use the DHCP
//! option format, so they are read with the same [`OptionIter`]; unknown ones are ignored.

use super::packet::OptionIter;
use crate::Ipv4Addr;

/// Sub-option codes inside option 43.
pub mod sub {
    pub const MTFTP_IP: u8 = 1;
    pub const MTFTP_CPORT: u8 = 2;
    pub const MTFTP_SPORT: u8 = 3;
    pub const MTFTP_TMOUT: u8 = 4;
    pub const MTFTP_DELAY: u8 = 5;
    pub const DISCOVERY_CONTROL: u8 = 6;
    pub const DISCOVERY_MCAST_ADDR: u8 = 7;
    pub const BOOT_SERVERS: u8 = 8;
    pub const BOOT_MENU: u8 = 9;
    pub const MENU_PROMPT: u8 = 10;
    pub const BOOT_ITEM: u8 = 71;
}

/// Discovery control bits (sub-option 6).
pub mod control {
    /// Bit 0: do not broadcast discovery requests.
    pub const NO_BROADCAST: u8 = 1 << 0;
    /// Bit 1: do not multicast discovery requests.
    pub const NO_MULTICAST: u8 = 1 << 1;
    /// Bit 2: accept replies only from servers in the boot server list (43.8).
    pub const ONLY_LISTED: u8 = 1 << 2;
    /// Bit 3: use the boot file name in this packet and skip discovery.
    pub const USE_FILENAME: u8 = 1 << 3;
}

/// Boot server / menu item type 0: the PXE bootstrap server; as a menu item, "boot locally".
pub const TYPE_LOCAL_BOOT: u16 = 0;

/// Parsed option 43 of a `PXEClient` reply; borrows the packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PxeOptions<'a> {
    /// MTFTP multicast IP (43.1).
    pub mtftp_ip: Option<Ipv4Addr>,
    /// Discovery control bits (43.6), 0 if absent.
    pub discovery_control: u8,
    /// Discovery multicast address (43.7).
    pub mcast_addr: Option<Ipv4Addr>,
    /// Raw boot server list (43.8); read it with [`PxeOptions::boot_servers`].
    pub boot_servers_raw: Option<&'a [u8]>,
    /// Raw boot menu (43.9); read it with [`PxeOptions::menu`].
    pub menu_raw: Option<&'a [u8]>,
    /// Menu prompt (43.10): timeout in seconds (0 = pick the first item now, 255 = wait for
    /// a key) and text.
    pub prompt: Option<(u8, &'a [u8])>,
    /// Boot item (43.71): type and layer.
    pub boot_item: Option<(u16, u16)>,
}

fn ip4(d: &[u8]) -> Option<Ipv4Addr> {
    (d.len() >= 4).then(|| Ipv4Addr::new(d[0], d[1], d[2], d[3]))
}

impl<'a> PxeOptions<'a> {
    /// Parse the data of option 43. Never fails: malformed sub-options are skipped.
    pub fn parse(data: &'a [u8]) -> Self {
        let mut p = PxeOptions::default();
        for o in OptionIter::new(data) {
            match o.code {
                sub::MTFTP_IP => p.mtftp_ip = ip4(o.data),
                sub::DISCOVERY_CONTROL => {
                    p.discovery_control = o.data.first().copied().unwrap_or(0)
                }
                sub::DISCOVERY_MCAST_ADDR => p.mcast_addr = ip4(o.data),
                sub::BOOT_SERVERS => p.boot_servers_raw = Some(o.data),
                sub::BOOT_MENU => p.menu_raw = Some(o.data),
                sub::MENU_PROMPT => {
                    if let Some((&t, text)) = o.data.split_first() {
                        p.prompt = Some((t, text));
                    }
                }
                sub::BOOT_ITEM if o.data.len() >= 4 => {
                    let ty = u16::from_be_bytes([o.data[0], o.data[1]]);
                    let layer = u16::from_be_bytes([o.data[2], o.data[3]]);
                    p.boot_item = Some((ty, layer));
                }
                _ => {}
            }
        }
        p
    }
    /// Entries of the boot server list (43.8).
    pub fn boot_servers(&self) -> BootServers<'a> {
        BootServers {
            rest: self.boot_servers_raw.unwrap_or(&[]),
        }
    }
    /// Items of the boot menu (43.9).
    pub fn menu(&self) -> MenuItems<'a> {
        MenuItems {
            rest: self.menu_raw.unwrap_or(&[]),
        }
    }
    /// True if anything here asks for boot server discovery or a menu.
    pub fn has_discovery_info(&self) -> bool {
        self.menu_raw.is_some() || self.boot_servers_raw.is_some() || self.mcast_addr.is_some()
    }
}

/// One boot server list entry: a server type and its IPs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootServer<'a> {
    /// Boot server type.
    pub server_type: u16,
    ips: &'a [u8],
}

impl<'a> BootServer<'a> {
    /// The server IPs of this entry.
    pub fn ips(&self) -> impl Iterator<Item = Ipv4Addr> + 'a {
        self.ips
            .chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
    }
}

/// Iterator over 43.8 entries `{type u16, count u8, count x IPv4}`; stops at a truncated entry.
#[derive(Clone, Debug)]
pub struct BootServers<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for BootServers<'a> {
    type Item = BootServer<'a>;
    fn next(&mut self) -> Option<BootServer<'a>> {
        let r = self.rest;
        if r.len() < 3 {
            self.rest = &[];
            return None;
        }
        let server_type = u16::from_be_bytes([r[0], r[1]]);
        let n = usize::from(r[2]) * 4;
        let Some(ips) = r.get(3..3 + n) else {
            self.rest = &[];
            return None;
        };
        self.rest = &r[3 + n..];
        Some(BootServer { server_type, ips })
    }
}

/// One boot menu item: type and description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MenuItem<'a> {
    /// Boot server type this item selects (0 = boot locally).
    pub item_type: u16,
    /// Description shown to the user.
    pub desc: &'a [u8],
}

/// Iterator over 43.9 items `{type u16, len u8, desc}`; stops at a truncated item.
#[derive(Clone, Debug)]
pub struct MenuItems<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for MenuItems<'a> {
    type Item = MenuItem<'a>;
    fn next(&mut self) -> Option<MenuItem<'a>> {
        let r = self.rest;
        if r.len() < 3 {
            self.rest = &[];
            return None;
        }
        let item_type = u16::from_be_bytes([r[0], r[1]]);
        let n = usize::from(r[2]);
        let Some(desc) = r.get(3..3 + n) else {
            self.rest = &[];
            return None;
        };
        self.rest = &r[3 + n..];
        Some(MenuItem { item_type, desc })
    }
}

/// Encode 43.71 `{type, layer}` followed by END, the option 43 a discovery request carries.
pub fn boot_item_option(item_type: u16, layer: u16) -> [u8; 7] {
    let t = item_type.to_be_bytes();
    let l = layer.to_be_bytes();
    [sub::BOOT_ITEM, 4, t[0], t[1], l[0], l[1], 0xff]
}
