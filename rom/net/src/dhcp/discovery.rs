//! PXE boot-server discovery (PXE 2.1 §2.2.5; option 43 sub-options 6-10, 71): the menu and
//! prompt, then DHCPREQUEST with 43.71 to the boot servers by multicast, broadcast or the listed
//! addresses, following the server's discovery control with `DhcpConfig`'s local overrides.
use super::client::{boot_file_of, DhcpClient, PxeSrc, MAX_TARGETS};
use super::packet::Packet;
use super::pxe::{self, control};
use super::result::{Boot, DhcpError, Event, State};
use crate::{Instant, Ipv4Addr};

impl DhcpClient {
    pub(super) fn proceed_pxe(&mut self, now: Instant, src: PxeSrc) {
        self.pxe_src = Some(src);
        let has_file = Packet::new_checked(self.pxe_bytes()).is_ok_and(|p| boot_file_of(&p));
        let o = self.pxe_options();
        let ctrl = self.control(o.discovery_control);
        let first_item = o.menu().next().map(|i| i.item_type);
        let prompt = self.cfg.menu_timeout.or(o.prompt.map(|(t, _)| t));
        let first_server = o.boot_servers().next().map(|s| s.server_type);
        if ctrl & control::USE_FILENAME != 0 && has_file {
            self.finish(Boot::Network);
        } else if let Some(first) = first_item {
            self.state = State::Menu;
            self.tx_due = false;
            self.menu_default = first;
            self.push_event(Event::MenuReady);
            match prompt {
                Some(0) => self.select_item(now, first),
                Some(255) | None => self.timer = None,
                Some(t) => self.timer = Some(now.plus_ms(u64::from(t) * 1000)),
            }
        } else if has_file {
            self.finish(Boot::Network);
        } else if let Some(t) = first_server {
            self.start_discovery(now, t);
        } else {
            self.fail(DhcpError::NoBootFile);
        }
    }

    pub(super) fn select_item(&mut self, now: Instant, item_type: u16) {
        if item_type == pxe::TYPE_LOCAL_BOOT {
            self.finish(Boot::Local);
        } else {
            self.start_discovery(now, item_type);
        }
    }

    /// The server's discovery control with the local overrides applied.
    fn control(&self, server: u8) -> u8 {
        (server | self.cfg.discovery_set) & !self.cfg.discovery_clear
    }

    fn start_discovery(&mut self, now: Instant, item_type: u16) {
        let o = self.pxe_options();
        let ctrl = self.control(o.discovery_control);
        let mut targets = [Ipv4Addr::UNSPECIFIED; MAX_TARGETS];
        let mut n = 0;
        let mut listed = [Ipv4Addr::UNSPECIFIED; MAX_TARGETS];
        let mut nl = 0;
        for s in o.boot_servers().filter(|s| s.server_type == item_type) {
            for ip in s.ips() {
                if nl < MAX_TARGETS {
                    listed[nl] = ip;
                    nl += 1;
                }
            }
        }
        if let (0, Some(m)) = (ctrl & control::NO_MULTICAST, o.mcast_addr) {
            targets[n] = m;
            n += 1;
        }
        if ctrl & control::NO_BROADCAST == 0 {
            targets[n] = Ipv4Addr::BROADCAST;
            n += 1;
        }
        for &ip in &listed[..nl] {
            if n < MAX_TARGETS {
                targets[n] = ip;
                n += 1;
            }
        }
        self.only_listed = ctrl & control::ONLY_LISTED != 0;
        if n == 0 || (self.only_listed && nl == 0) {
            self.fail(DhcpError::NoBootServers);
            return;
        }
        self.targets = targets;
        self.n_targets = n;
        self.listed = listed;
        self.n_listed = nl;
        self.bs_type = item_type;
        self.enter(State::BootServerDiscovery, now);
    }
}
