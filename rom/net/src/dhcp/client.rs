//! The PXE DHCP client state machine (layer `rom/net`): PXE 2.1 §2.2, RFC 2131 §4.4.
//!
//! DISCOVER (timeouts from [`Timing`]) -> choose offers at the end of a window (or at once for a
//! combined offer naming a boot file) -> REQUEST/ACK (1, 2, 3, 4 s; NAK restarts) ->
//! ProxyDHCPREQUEST to port 4011 if the proxy offer has neither a file nor discovery data ->
//! menu/prompt (43.9/43.10) -> boot server discovery (43.71 to port 4011, 1, 2, 3, 4 s).
//! Outcome assembly (precedence, warnings) lives in `outcome.rs`, packet building in
//! `request.rs`.

use super::packet::{self, code, msg, Packet};
use super::pxe::{MenuItems, PxeOptions};
use super::result::{
    Boot, ChoiceReason, DhcpError, Event, Lease, OfferKind, Outcome, State, MAX_DNS_SERVERS,
};
use super::{DhcpConfig, Timing, CLIENT_PORT, PROXY_WAIT_MS, PXE_PORT, REQUEST_MS, SERVER_PORT};
use crate::fixed::{c_str, FixedBuf, PacketCopy};
use crate::{Instant, Ipv4Addr, Transmit, UdpMeta};

pub(super) const MAX_TARGETS: usize = 8;
const MAX_EVENTS: usize = 8;

/// A received offer, kept whole.
#[derive(Clone, Copy, Debug)]
pub(super) struct Offer {
    pub(super) from: Ipv4Addr,
    pub(super) kind: OfferKind,
    pub(super) boot_info: bool,
    pub(super) boot_file: bool,
    pub(super) raw: PacketCopy,
}

/// Which stored packet carries the PXE boot information.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PxeSrc {
    Ack,
    ProxyOffer,
    ProxyAck,
}

/// The PXE DHCP client. See the module doc and `docs/net.md`.
#[derive(Clone, Debug)]
pub struct DhcpClient {
    pub(super) cfg: DhcpConfig,
    pub(super) state: State,
    pub(super) start: Instant,
    /// When the current collection's first DISCOVER went out (entering `Discovering`).
    discover_start: Instant,
    pub(super) now: Instant,
    pub(super) attempt: u8,
    pub(super) timer: Option<Instant>,
    pub(super) tx_due: bool,
    tx_next: usize,
    restarts: u8,
    pub(super) dhcp_offer: Option<Offer>,
    pub(super) proxy_offer: Option<Offer>,
    pub(super) use_proxy: bool,
    pub(super) discover: PacketCopy,
    pub(super) ack: PacketCopy,
    pub(super) proxy_ack: PacketCopy,
    pub(super) bs_ack: PacketCopy,
    pub(super) bs_ip: Option<Ipv4Addr>,
    pub(super) pxe_src: Option<PxeSrc>,
    pub(super) lease: Option<Lease>,
    pub(super) bs_type: u16,
    pub(super) menu_default: u16,
    pub(super) targets: [Ipv4Addr; MAX_TARGETS],
    pub(super) n_targets: usize,
    pub(super) listed: [Ipv4Addr; MAX_TARGETS],
    pub(super) n_listed: usize,
    pub(super) only_listed: bool,
    pub(super) result: Option<Result<Outcome, DhcpError>>,
    events: [Option<Event>; MAX_EVENTS],
}

/// The boot menu on offer while the client is in [`State::Menu`].
#[derive(Clone, Debug)]
pub struct MenuView<'a> {
    opts: PxeOptions<'a>,
}

impl<'a> MenuView<'a> {
    /// Menu items (43.9), in server order; the first is the default.
    pub fn items(&self) -> MenuItems<'a> {
        self.opts.menu()
    }
    /// Prompt (43.10): timeout in seconds and text.
    pub fn prompt(&self) -> Option<(u8, &'a [u8])> {
        self.opts.prompt
    }
}

pub(super) fn boot_file_of(p: &Packet<&[u8]>) -> bool {
    !p.file().is_empty()
        || p.option(code::BOOTFILE_NAME)
            .is_some_and(|f| !c_str(f).is_empty())
}

impl DhcpClient {
    /// A client that sends its first DHCPDISCOVER at the first `poll`.
    pub fn new(cfg: DhcpConfig, now: Instant) -> Self {
        let mut c = DhcpClient {
            cfg,
            state: State::Discovering,
            start: now,
            discover_start: now,
            now,
            attempt: 0,
            timer: None,
            tx_due: false,
            tx_next: 0,
            restarts: 0,
            dhcp_offer: None,
            proxy_offer: None,
            use_proxy: false,
            discover: PacketCopy::new(),
            ack: PacketCopy::new(),
            proxy_ack: PacketCopy::new(),
            bs_ack: PacketCopy::new(),
            bs_ip: None,
            pxe_src: None,
            lease: None,
            bs_type: 0,
            menu_default: 0,
            targets: [Ipv4Addr::UNSPECIFIED; MAX_TARGETS],
            n_targets: 0,
            listed: [Ipv4Addr::UNSPECIFIED; MAX_TARGETS],
            n_listed: 0,
            only_listed: false,
            result: None,
            events: [None; MAX_EVENTS],
        };
        c.enter(State::Discovering, now);
        c
    }

    /// Where the conversation is.
    pub fn state(&self) -> State {
        self.state
    }

    /// `Some` once finished: the outcome or the error.
    pub fn outcome(&self) -> Option<Result<&Outcome, DhcpError>> {
        self.result.as_ref().map(|r| r.as_ref().map_err(|e| *e))
    }

    /// The address configuration, as soon as the DHCPACK arrived (configure the interface then:
    /// later steps unicast to port 4011).
    pub fn lease(&self) -> Option<Lease> {
        self.lease
    }

    /// The next progress event, oldest first.
    pub fn pop_event(&mut self) -> Option<Event> {
        let first = self.events[0].take();
        self.events.rotate_left(1);
        first
    }

    /// When `poll` needs to be called next (`None`: only a received packet or `select` can
    /// move the machine on).
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.tx_due {
            Some(self.now)
        } else {
            self.timer
        }
    }

    /// The menu, while in [`State::Menu`].
    pub fn menu(&self) -> Option<MenuView<'_>> {
        if self.state != State::Menu {
            return None;
        }
        Some(MenuView {
            opts: self.pxe_options(),
        })
    }

    /// Choose a menu item by its type; type 0 means "boot locally". Returns false if no menu
    /// is on offer.
    pub fn select(&mut self, now: Instant, item_type: u16) -> bool {
        if self.state != State::Menu {
            return false;
        }
        self.now = now;
        self.select_item(now, item_type);
        true
    }

    /// The DHCPDISCOVER we sent (PXE GET_CACHED_INFO type 1).
    pub fn cached_discover(&self) -> &[u8] {
        self.discover.as_bytes()
    }

    /// The DHCPACK (GET_CACHED_INFO type 2); empty before it arrives.
    pub fn cached_ack(&self) -> &[u8] {
        self.ack.as_bytes()
    }

    /// The PXE reply (GET_CACHED_INFO type 3): the boot server ACK, else the proxyDHCP ACK or
    /// offer that was used, else the DHCPACK.
    pub fn cached_reply(&self) -> &[u8] {
        if !self.bs_ack.is_empty() {
            self.bs_ack.as_bytes()
        } else if !self.proxy_ack.is_empty() {
            self.proxy_ack.as_bytes()
        } else if let (true, Some(p)) = (self.use_proxy, &self.proxy_offer) {
            p.raw.as_bytes()
        } else {
            self.ack.as_bytes()
        }
    }

    /// Run timers, then write the next packet to send into `buf`, if any. Call until `None`.
    pub fn poll(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.now = now;
        while let Some(t) = self.timer {
            if now < t || self.tx_due {
                break;
            }
            self.timer = None;
            self.on_timer(t);
        }
        if !self.tx_due {
            return None;
        }
        let (dst_ip, dst_port) = match self.state {
            State::Discovering | State::Requesting => (Ipv4Addr::BROADCAST, SERVER_PORT),
            State::ProxyRequesting => (self.proxy_ip()?, PXE_PORT),
            State::BootServerDiscovery => (*self.targets.get(self.tx_next)?, PXE_PORT),
            _ => {
                self.tx_due = false;
                return None;
            }
        };
        let len = match self.build(now, buf) {
            Ok(len) => len,
            Err(_) => {
                self.tx_due = false;
                return None;
            }
        };
        if self.state == State::BootServerDiscovery && self.tx_next + 1 < self.n_targets {
            self.tx_next += 1;
        } else {
            self.tx_next = 0;
            self.tx_due = false;
        }
        if self.state == State::Discovering {
            self.discover.set(&buf[..len]);
        }
        Some(Transmit {
            src_port: CLIENT_PORT,
            dst_ip,
            dst_port,
            len,
        })
    }

    /// Feed a received UDP datagram. Anything not for us is ignored.
    pub fn handle(&mut self, now: Instant, meta: &UdpMeta, payload: &[u8]) {
        self.now = now;
        if meta.dst_port != CLIENT_PORT {
            return;
        }
        let Ok(p) = Packet::new_checked(payload) else {
            return;
        };
        if p.op() != packet::OP_REPLY || p.xid() != self.cfg.xid || p.chaddr() != self.cfg.mac {
            return;
        }
        let from = p.option_ip(code::SERVER_ID).unwrap_or(meta.src_ip);
        let mt = p.message_type();
        match self.state {
            State::Discovering if mt == Some(msg::OFFER) => self.on_offer(now, from, &p),
            State::Requesting => {
                let Some(chosen) = self.dhcp_offer.as_ref().map(|o| o.from) else {
                    return;
                };
                if from != chosen {
                    return;
                }
                if mt == Some(msg::ACK) {
                    self.on_ack(now, from, &p);
                } else if mt == Some(msg::NAK) {
                    self.push_event(Event::Nak { from });
                    self.restart(now);
                }
            }
            State::ProxyRequesting if mt == Some(msg::ACK) => {
                if Some(meta.src_ip) != self.proxy_ip() && Some(from) != self.proxy_ip() {
                    return;
                }
                self.proxy_ack.set(payload);
                self.push_event(Event::ProxyAck { from: meta.src_ip });
                self.proceed_pxe(now, PxeSrc::ProxyAck);
            }
            State::BootServerDiscovery if mt == Some(msg::ACK) => {
                let item = p.option(code::VENDOR_SPECIFIC).map(PxeOptions::parse);
                if item.and_then(|o| o.boot_item).map(|(t, _)| t) != Some(self.bs_type) {
                    return;
                }
                let listed = self.listed[..self.n_listed].contains(&meta.src_ip);
                if self.only_listed && !listed {
                    return;
                }
                self.bs_ack.set(payload);
                self.bs_ip = Some(meta.src_ip);
                let server_type = self.bs_type;
                self.push_event(Event::BootServerAck {
                    from: meta.src_ip,
                    server_type,
                });
                self.finish(Boot::Network);
            }
            _ => {}
        }
    }

    pub(super) fn push_event(&mut self, e: Event) {
        if let Some(slot) = self.events.iter_mut().find(|s| s.is_none()) {
            *slot = Some(e);
        }
    }

    pub(super) fn fail(&mut self, e: DhcpError) {
        self.state = State::Failed;
        self.finish_timers();
        self.result = Some(Err(e));
    }

    pub(super) fn finish_timers(&mut self) {
        self.timer = None;
        self.tx_due = false;
    }

    pub(super) fn proxy_ip(&self) -> Option<Ipv4Addr> {
        self.proxy_offer
            .as_ref()
            .filter(|_| self.use_proxy)
            .map(|o| o.from)
    }

    /// Bytes of the packet holding the PXE information.
    pub(super) fn pxe_bytes(&self) -> &[u8] {
        match self.pxe_src {
            Some(PxeSrc::Ack) => self.ack.as_bytes(),
            Some(PxeSrc::ProxyOffer) => self.proxy_offer.as_ref().map_or(&[], |o| o.raw.as_bytes()),
            Some(PxeSrc::ProxyAck) => self.proxy_ack.as_bytes(),
            None => &[],
        }
    }

    pub(super) fn pxe_options(&self) -> PxeOptions<'_> {
        Packet::new_checked(self.pxe_bytes())
            .ok()
            .and_then(|p| p.option_ref(code::VENDOR_SPECIFIC))
            .map(PxeOptions::parse)
            .unwrap_or_default()
    }

    pub(super) fn enter(&mut self, state: State, now: Instant) {
        self.state = state;
        if state == State::Discovering {
            self.discover_start = now;
        }
        self.attempt = 0;
        self.tx_due = true;
        self.tx_next = 0;
        let first = match state {
            State::Discovering => self.cfg.timing.discover_ms()[0],
            _ => REQUEST_MS[0],
        };
        self.timer = Some(now.plus_ms(first));
    }

    fn restart(&mut self, now: Instant) {
        self.restarts = self.restarts.saturating_add(1);
        if self.restarts > self.cfg.max_restarts {
            self.fail(DhcpError::NoAck);
            return;
        }
        self.dhcp_offer = None;
        self.proxy_offer = None;
        self.use_proxy = false;
        self.enter(State::Discovering, now);
    }

    fn on_timer(&mut self, t: Instant) {
        let schedule = match self.state {
            State::Discovering => {
                if self.dhcp_offer.is_some() {
                    self.choose(t);
                    return;
                }
                self.cfg.timing.discover_ms()
            }
            State::Requesting | State::ProxyRequesting | State::BootServerDiscovery => REQUEST_MS,
            State::Menu => {
                let item = self.menu_default;
                self.select_item(t, item);
                return;
            }
            State::Done | State::Failed => return,
        };
        self.attempt += 1;
        let Some(&delay) = schedule.get(usize::from(self.attempt)) else {
            let e = match self.state {
                State::Discovering if self.proxy_offer.is_some() => DhcpError::ProxyOnly,
                State::Discovering => DhcpError::NoOffers,
                State::ProxyRequesting => DhcpError::ProxyNoReply,
                State::BootServerDiscovery => DhcpError::BootServerNoReply,
                _ => {
                    self.restart(t);
                    return;
                }
            };
            self.fail(e);
            return;
        };
        self.timer = Some(t.plus_ms(delay));
        self.tx_due = true;
        self.tx_next = 0;
        let state = self.state;
        self.push_event(Event::Retransmit {
            state,
            attempt: self.attempt,
        });
    }

    fn on_offer(&mut self, now: Instant, from: Ipv4Addr, p: &Packet<&[u8]>) {
        let is_pxe = p
            .option(code::VENDOR_CLASS)
            .is_some_and(|v| v.starts_with(b"PXEClient"));
        let yiaddr = p.yiaddr();
        let kind = match (yiaddr.is_unspecified(), is_pxe) {
            (false, false) => OfferKind::Dhcp,
            (false, true) => OfferKind::Combined,
            (true, true) => OfferKind::Proxy,
            (true, false) => return,
        };
        let boot_file = boot_file_of(p);
        let boot_info = boot_file || (is_pxe && p.option(code::VENDOR_SPECIFIC).is_some());
        self.push_event(Event::OfferReceived {
            from,
            kind,
            yiaddr,
            boot_file,
        });
        let offer = Offer {
            from,
            kind,
            boot_info,
            boot_file,
            raw: PacketCopy::from_slice(p_bytes(p)),
        };
        let slot = if kind == OfferKind::Proxy {
            &mut self.proxy_offer
        } else {
            &mut self.dhcp_offer
        };
        let better = match slot {
            None => true,
            Some(old) => !old.boot_info && boot_info,
        };
        if better {
            *slot = Some(offer);
        }
        if kind == OfferKind::Combined && boot_file {
            self.choose(now);
        } else if self.cfg.timing == Timing::Auto {
            self.auto_collect(now);
        }
    }

    /// [`Timing::Auto`]: end the collection once an address offer and PXE boot information
    /// are in hand; with an address offer alone, once [`PROXY_WAIT_MS`] have passed since the
    /// first DISCOVER (the timer is brought forward to that moment).
    fn auto_collect(&mut self, now: Instant) {
        let Some(d) = self.dhcp_offer.as_ref() else {
            return;
        };
        let complete = self.proxy_offer.is_some() || (d.kind == OfferKind::Combined && d.boot_info);
        let wait_end = self.discover_start.plus_ms(PROXY_WAIT_MS);
        if complete || now >= wait_end {
            self.choose(now);
        } else if self.timer.is_none_or(|t| wait_end < t) {
            self.timer = Some(wait_end);
        }
    }

    fn choose(&mut self, now: Instant) {
        let Some(d) = self.dhcp_offer.as_ref() else {
            return;
        };
        let combined = d.kind == OfferKind::Combined;
        self.use_proxy = !combined && self.proxy_offer.is_some();
        let reason = if combined && d.boot_file {
            ChoiceReason::CombinedWithBootFile
        } else if combined {
            ChoiceReason::HasBootInfo
        } else if self.use_proxy {
            ChoiceReason::WithProxy
        } else {
            ChoiceReason::PlainDhcp
        };
        let dhcp = d.from;
        let proxy = self.proxy_ip();
        self.push_event(Event::Chosen {
            dhcp,
            proxy,
            reason,
        });
        self.enter(State::Requesting, now);
    }

    fn on_ack(&mut self, now: Instant, from: Ipv4Addr, p: &Packet<&[u8]>) {
        let ip = p.yiaddr();
        let mut dns = [None; MAX_DNS_SERVERS];
        if let Some(d) = p.option(code::DNS) {
            for (slot, c) in dns.iter_mut().zip(d.chunks_exact(4)) {
                *slot = Some(Ipv4Addr::new(c[0], c[1], c[2], c[3]));
            }
        }
        self.lease = Some(Lease {
            ip,
            subnet_mask: p.option_ip(code::SUBNET_MASK),
            gateway: p.option_ip(code::ROUTER),
            dns,
            domain: FixedBuf::from_slice(p.option(code::DOMAIN_NAME).map(c_str).unwrap_or(&[])),
            server: from,
        });
        self.ack.set(p_bytes(p));
        self.push_event(Event::Acked { from, ip });
        let combined = self
            .dhcp_offer
            .as_ref()
            .is_some_and(|o| o.kind == OfferKind::Combined);
        if combined {
            self.proceed_pxe(now, PxeSrc::Ack);
        } else if let (true, Some(po)) = (self.use_proxy, self.proxy_offer.as_ref()) {
            let discovery = Packet::new_checked(po.raw.as_bytes())
                .ok()
                .and_then(|p| {
                    p.option(code::VENDOR_SPECIFIC)
                        .map(|o| PxeOptions::parse(o).has_discovery_info())
                })
                .unwrap_or(false);
            if po.boot_file || discovery {
                self.proceed_pxe(now, PxeSrc::ProxyOffer);
            } else {
                self.enter(State::ProxyRequesting, now);
            }
        } else {
            self.finish(Boot::Network);
        }
    }
}

fn p_bytes<'a>(p: &Packet<&'a [u8]>) -> &'a [u8] {
    p.inner()
}
