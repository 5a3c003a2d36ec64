//! Building the two layouts: the flat LAN (one bridge) and the routed LAN (a client and a server
//! bridge, a router namespace forwarding between them with ISC dhcrelay and IPv6 RAs).
//!
//! ```text
//!  <p>-lan                                      <p>-router
//!   QEMU --tap0--br0--vr0 ==veth== eth0 10.61.0.1/24 fd61::1/64  (dhcrelay -id eth0,
//!                                  eth1 10.62.0.1/24              dnsmasq RA on eth0)
//!          br1--vs0 ==veth========+
//!           +---vd0 ==veth== eth0 <p>-dhcp 10.62.0.10/24
//!           +---vb0 ==veth== eth0 <p>-boot 10.62.0.20/24  (both: 10.61.0.0/24 via 10.62.0.1)
//! ```
use super::{Host, Lan, Topology};
use anyhow::Result;
use std::net::Ipv4Addr;

/// Routed LAN: the guest's segment (a /24; the guest's range is .100–.199).
pub const CLIENT_SUBNET: Ipv4Addr = Ipv4Addr::new(10, 61, 0, 0);
/// Routed LAN: the servers' segment (a /24).
pub const SERVER_SUBNET: Ipv4Addr = Ipv4Addr::new(10, 62, 0, 0);
/// The router's client-side address: the guest's gateway and dhcrelay's giaddr.
pub const ROUTER_CLIENT: Ipv4Addr = Ipv4Addr::new(10, 61, 0, 1);
/// The router's server-side address: the servers' route to [`CLIENT_SUBNET`] and the source
/// of relayed DHCP packets.
pub const ROUTER_SERVER: Ipv4Addr = Ipv4Addr::new(10, 62, 0, 1);
/// Routed LAN: the DHCP host ([`Host::Dhcp`]).
pub const ROUTED_DHCP: Ipv4Addr = Ipv4Addr::new(10, 62, 0, 10);
/// Routed LAN: the boot host ([`Host::Boot`]: proxyDHCP, TFTP).
pub const ROUTED_BOOT: Ipv4Addr = Ipv4Addr::new(10, 62, 0, 20);

impl Host {
    pub(super) fn addr_in(self, topology: Topology) -> Ipv4Addr {
        match (topology, self) {
            (Topology::Routed, Host::Dhcp) => ROUTED_DHCP,
            (Topology::Routed, Host::Boot) => ROUTED_BOOT,
            _ => self.addr(),
        }
    }

    fn ipv6_in(self, topology: Topology) -> &'static str {
        match (topology, self) {
            (Topology::Routed, Host::Dhcp) => "fd62::10/64",
            (Topology::Routed, Host::Boot) => "fd62::20/64",
            (_, Host::Dhcp) => "fd99::1/64",
            (_, Host::Boot) => "fd99::2/64",
            (_, Host::Router) => "fd61::1/64",
        }
    }
}

impl Lan {
    /// One bridge `br0` with `tap0`, `vd0` (to `<p>-dhcp`) and `vb0` (to `<p>-boot`).
    pub(super) fn setup_flat(&mut self) -> Result<()> {
        for ns in [self.ns_lan(), self.ns(Host::Dhcp), self.ns(Host::Boot)] {
            self.add_namespace(&ns)?;
        }
        self.add_bridge("br0")?;
        self.add_tap("br0")?;
        self.add_server_port("br0", Host::Dhcp, "vd0")?;
        self.add_server_port("br0", Host::Boot, "vb0")?;
        self.ip(&["-n", &self.ns_lan(), "link", "set", "tap0", "up"])?;
        self.ip(&["-n", &self.ns_lan(), "link", "set", "br0", "up"])
    }

    /// `br0` (client segment: `tap0`, `vr0` to the router's eth0) and `br1` (server segment:
    /// `vs0` to the router's eth1, `vd0`, `vb0`), IPv4 forwarding in the router.
    pub(super) fn setup_routed(&mut self) -> Result<()> {
        let router = self.ns(Host::Router);
        for ns in [
            self.ns_lan(),
            router.clone(),
            self.ns(Host::Dhcp),
            self.ns(Host::Boot),
        ] {
            self.add_namespace(&ns)?;
        }
        self.run_in(&router, &["sysctl", "-qw", "net.ipv4.ip_forward=1"])?;
        self.add_bridge("br0")?;
        self.add_bridge("br1")?;
        self.add_tap("br0")?;
        let lan = self.ns_lan();
        for (port, bridge, iface, addr) in [
            ("vr0", "br0", "eth0", ROUTER_CLIENT),
            ("vs0", "br1", "eth1", ROUTER_SERVER),
        ] {
            self.add_veth(bridge, port, &router, iface)?;
            self.ip(&[
                "-n",
                &router,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                iface,
            ])?;
        }
        self.ip(&[
            "-n",
            &router,
            "addr",
            "add",
            Host::Router.ipv6_in(Topology::Routed),
            "dev",
            "eth0",
            "nodad",
        ])?;
        for iface in ["eth0", "eth1"] {
            self.ip(&["-n", &router, "link", "set", iface, "up"])?;
        }
        for (host, port) in [(Host::Dhcp, "vd0"), (Host::Boot, "vb0")] {
            self.add_server_port("br1", host, port)?;
            self.ip(&[
                "-n",
                &self.ns(host),
                "route",
                "add",
                &format!("{CLIENT_SUBNET}/24"),
                "via",
                &ROUTER_SERVER.to_string(),
            ])?;
        }
        for dev in ["tap0", "br0", "br1"] {
            self.ip(&["-n", &lan, "link", "set", dev, "up"])?;
        }
        Ok(())
    }

    /// Starts dhcrelay (to `servers`, unless empty) and a dnsmasq sending IPv6 router
    /// advertisements on the router's client side (iPXE waits ~15 s for IPv6 without them).
    pub(super) fn start_router(&mut self, servers: &[Host]) -> Result<()> {
        self.dnsmasq(
            Host::Router,
            &["--enable-ra", "--dhcp-range=::,constructor:eth0,ra-only"],
        )?;
        if !servers.is_empty() {
            let addrs: Vec<Ipv4Addr> = servers.iter().map(|&h| self.addr(h)).collect();
            self.relay = Some(self.start_dhcrelay(&addrs)?);
        }
        Ok(())
    }

    /// A namespace with `lo` up and no duplicate address detection (addresses usable at once).
    fn add_namespace(&mut self, ns: &str) -> Result<()> {
        self.ip(&["netns", "add", ns])?;
        self.created.push(ns.to_string());
        self.ip(&["-n", ns, "link", "set", "lo", "up"])?;
        for key in ["all", "default"] {
            self.run_in(
                ns,
                &[
                    "sysctl",
                    "-qw",
                    &format!("net.ipv6.conf.{key}.accept_dad=0"),
                ],
            )?;
        }
        Ok(())
    }

    /// A bridge in the LAN namespace that forwards at once (no STP, no multicast snooping).
    fn add_bridge(&self, bridge: &str) -> Result<()> {
        let lan = self.ns_lan();
        self.ip(&["-n", &lan, "link", "add", bridge, "type", "bridge"])?;
        self.ip(&[
            "-n",
            &lan,
            "link",
            "set",
            bridge,
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ])
    }

    /// The guest's persistent `tap0` (QEMU or the lossy link opens it) on `bridge`.
    fn add_tap(&self, bridge: &str) -> Result<()> {
        let lan = self.ns_lan();
        self.ip(&["-n", &lan, "tuntap", "add", "dev", "tap0", "mode", "tap"])?;
        self.ip(&["-n", &lan, "link", "set", "tap0", "master", bridge])
    }

    /// A veth: `port` on `bridge` in the LAN namespace, `iface` in `ns`; the bridge end is up.
    fn add_veth(&self, bridge: &str, port: &str, ns: &str, iface: &str) -> Result<()> {
        let lan = self.ns_lan();
        self.ip(&[
            "-n", &lan, "link", "add", port, "type", "veth", "peer", "name", iface, "netns", ns,
        ])?;
        self.ip(&["-n", &lan, "link", "set", port, "master", bridge])?;
        self.ip(&["-n", &lan, "link", "set", port, "up"])
    }

    /// A server host's `eth0` on `bridge` with its IPv4 and IPv6 (ULA) addresses. The IPv6
    /// prefix lets dnsmasq's `--enable-ra` (flat LAN) actually advertise one.
    fn add_server_port(&self, bridge: &str, host: Host, port: &str) -> Result<()> {
        let ns = self.ns(host);
        self.add_veth(bridge, port, &ns, "eth0")?;
        let v4 = format!("{}/24", self.addr(host));
        self.ip(&["-n", &ns, "addr", "add", &v4, "dev", "eth0"])?;
        let v6 = host.ipv6_in(self.topology);
        self.ip(&["-n", &ns, "addr", "add", v6, "dev", "eth0", "nodad"])?;
        self.ip(&["-n", &ns, "link", "set", "eth0", "up"])
    }
}
