//! ISC dhcpd (on the DHCP host) and ISC dhcrelay (on the routed LAN's router), in the
//! foreground with their logs in the run directory.
use super::{Host, Lan, Server, Topology, ROUTER_CLIENT};
use crate::tools;
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::fs;
use std::net::Ipv4Addr;

impl Lan {
    /// ISC dhcpd on the DHCP host's eth0: `dhcpd -f -d -4 -cf dhcpd.conf -lf dhcpd.leases -pf
    /// dhcpd.pid eth0`, its log (stderr) in `dhcpd.out`. The generated `dhcpd.conf` declares the
    /// server's own subnet (so dhcpd listens on eth0) and the guest's subnet with the range
    /// `.100`–`.199`, a 1 h lease, no ping check and, routed, `option routers 10.61.0.1`; then
    /// `extra` at global scope, e.g. `next-server 10.62.0.20; filename "undionly.0";` (or
    /// nothing: addresses only, for a proxyDHCP server to do the rest). Returns once dhcpd
    /// listens on UDP 67. Label: `dhcpd`. Its log has `DHCPDISCOVER from MAC via 10.61.0.1`
    /// for relayed requests (`via eth0` for local ones).
    pub fn isc_dhcpd(&self, extra: &str) -> Result<Server> {
        tools::require("dhcpd", "isc-dhcp-server")?;
        let conf = self.dir.join("dhcpd.conf");
        let leases = self.dir.join("dhcpd.leases");
        fs::write(&conf, self.dhcpd_conf(extra)).context("writing dhcpd.conf")?;
        fs::write(&leases, "").context("creating dhcpd.leases")?;
        let mut cmd = self.wrap_host(Host::Dhcp, "dhcpd");
        cmd.args(["-f", "-d", "-4", "-cf"])
            .arg(&conf)
            .arg("-lf")
            .arg(&leases)
            .arg("-pf")
            .arg(self.dir.join("dhcpd.pid"))
            .arg("eth0");
        self.start(
            "dhcpd",
            Host::Dhcp,
            cmd,
            None,
            Some("Server starting service."),
            Some(67),
        )
    }

    /// The `dhcpd.conf` [`Lan::isc_dhcpd`] writes (before `extra`).
    pub fn dhcpd_conf(&self, extra: &str) -> String {
        let own = self.addr(Host::Dhcp).octets();
        let own_subnet = Ipv4Addr::new(own[0], own[1], own[2], 0);
        let client = self.client_subnet();
        let (first, last) = self.guest_range();
        let mut conf = String::from(
            "# written by softpxe_tests::lan (Lan::isc_dhcpd)\n\
             authoritative;\n\
             ddns-update-style none;\n\
             ping-check false;\n\
             default-lease-time 3600;\n\
             max-lease-time 3600;\n",
        );
        let range = format!("  range {first} {last};\n  option subnet-mask 255.255.255.0;\n");
        if self.topology == Topology::Routed {
            let _ = write!(
                conf,
                "\n# the server segment: dhcpd listens on eth0 only with a subnet for it\n\
                 subnet {own_subnet} netmask 255.255.255.0 {{\n}}\n\
                 \n# the guest's segment, reached through dhcrelay (giaddr {ROUTER_CLIENT})\n\
                 subnet {client} netmask 255.255.255.0 {{\n{range}  option routers \
                 {ROUTER_CLIENT};\n}}\n"
            );
        } else {
            let _ = write!(
                conf,
                "\nsubnet {client} netmask 255.255.255.0 {{\n{range}}}\n"
            );
        }
        if !extra.is_empty() {
            let _ = write!(conf, "\n# the test's own statements\n{extra}\n");
        }
        conf
    }

    /// ISC dhcrelay on the router: `dhcrelay -d -4 -id eth0 -iu eth1 -pf dhcrelay.pid SERVERS`
    /// (requests from the client segment, eth0, relayed with giaddr 10.61.0.1 to every server;
    /// replies from the server segment, eth1, back to the client). Log: `dhcrelay.out`.
    pub(super) fn start_dhcrelay(&self, servers: &[Ipv4Addr]) -> Result<Server> {
        tools::require("dhcrelay", "isc-dhcp-relay")?;
        let mut cmd = self.wrap_host(Host::Router, "dhcrelay");
        cmd.args(["-d", "-4", "-id", "eth0", "-iu", "eth1", "-pf"])
            .arg(self.dir.join("dhcrelay.pid"));
        for server in servers {
            cmd.arg(server.to_string());
        }
        self.start(
            "dhcrelay",
            Host::Router,
            cmd,
            None,
            Some("Sending on"),
            Some(67),
        )
    }
}
