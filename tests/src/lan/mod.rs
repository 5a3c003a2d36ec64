//! A private LAN of network namespaces for emulator tests: real DHCP, proxyDHCP and TFTP servers
//! (dnsmasq, ISC dhcpd, tftpd-hpa, atftpd) on a bridge, and a tap device for a QEMU NIC.
//!
//! Three choices ([`Lan::builder`]): the flat LAN below ([`Lan::new`]); the routed LAN
//! ([`LanBuilder::routed`]: guest on 10.61.0.0/24, servers on 10.62.0.0/24, a router with ISC
//! dhcrelay); and, with either, a lossy link between QEMU and `tap0`
//! ([`LanBuilder::lossy`]: seeded loss, duplication, reordering per direction).
//!
//! ```text
//!  <p>-lan: QEMU --tap0--+                       <p>-dhcp: eth0 10.99.0.1/24, fd99::1/64
//!                        br0 --vd0 ==veth== eth0   (DHCP server, IPv6 RA)
//!                         +----vb0 ==veth== eth0 <p>-boot: 10.99.0.2/24, fd99::2/64
//!                                                  (proxyDHCP, TFTP servers)
//! ```
//!
//! `<p>` is `spx-<pid>-<seq>-<name>`, unique per process and per `Lan`, so tests run in parallel.
//! Nothing is routed out of the namespaces: the host's interfaces and routes are never touched.
//! [`Lan`]'s `Drop` kills every server it started and every process left inside its namespaces,
//! then deletes the namespaces. [`Lan::new`] also removes namespaces left by earlier runs whose
//! process is gone. Server logs and the setup commands stay in `target/emu/<name>/`.
//! See docs/testing-lan.md.
use crate::{announce, run_dir, supervise, tools, Run, Wait};
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

mod isc;
#[allow(unsafe_code)] // setns, TUNSETIFF and poll for the lossy link
mod lossy;
mod server;
mod tftp;
mod topology;

use lossy::Link;
pub use lossy::{DirStats, Faults, LinkStats, LossConfig, LINK_QEMU_PORT, LINK_RELAY_PORT};
pub use server::{atftpd_binary, atftpd_dir, install_atftpd, Host, Server};
pub use tftp::{tftp_get, tftp_helper_entry, TftpReport};
pub use topology::{
    CLIENT_SUBNET, ROUTED_BOOT, ROUTED_DHCP, ROUTER_CLIENT, ROUTER_SERVER, SERVER_SUBNET,
};

/// Every namespace this module creates starts with this.
pub const NETNS_PREFIX: &str = "spx-";

/// The flat LAN's IPv4 subnet (a /24).
pub const SUBNET: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 0);

/// The MAC address tests give the guest NIC (QEMU's default).
pub const GUEST_MAC: &str = "52:54:00:12:34:56";

/// Name of the `#[test]` a test binary must define (calling [`tftp_helper_entry`]) for
/// [`Lan::tftp_get`] to work: the test binary re-executes itself inside a namespace.
pub const TFTP_HELPER_TEST: &str = "lan_tftp_helper";

static SEQ: AtomicU32 = AtomicU32::new(0);

fn kill_pid(pid: u32) {
    if pid <= 1 || pid == std::process::id() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// One private LAN: namespaces `<p>-lan` (bridge `br0`, tap `tap0`), `<p>-dhcp` and `<p>-boot`.
pub struct Lan {
    name: String,
    dir: PathBuf,
    prefix: String,
    topology: Topology,
    servers: Mutex<Vec<Server>>,
    created: Vec<String>,
    link: Option<Link>,
    relay: Option<Server>,
}

impl std::fmt::Debug for Lan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lan")
            .field("name", &self.name)
            .field("prefix", &self.prefix)
            .field("topology", &self.topology)
            .field("dir", &self.dir)
            .finish()
    }
}

/// How the LAN is laid out: one segment, or a client and a server segment joined by a router
/// running ISC dhcrelay (see docs/testing-lan.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    /// 10.99.0.0/24: guest, DHCP host 10.99.0.1 and boot host 10.99.0.2 on one bridge.
    Flat,
    /// Guest on 10.61.0.0/24 ([`CLIENT_SUBNET`]), servers on 10.62.0.0/24 ([`SERVER_SUBNET`]),
    /// a router namespace between them forwarding IPv4 and relaying DHCP.
    Routed,
}

/// Options for a [`Lan`]: `Lan::builder(name).routed().lossy(cfg).build()`.
#[derive(Clone, Debug)]
pub struct LanBuilder {
    name: String,
    topology: Topology,
    loss: Option<LossConfig>,
    relay_to: Vec<Host>,
}

impl LanBuilder {
    /// Two segments and a router ([`Topology::Routed`]).
    pub fn routed(mut self) -> Self {
        self.topology = Topology::Routed;
        self
    }

    /// Puts the user-space lossy link ([`LossConfig`]) between QEMU and `tap0`;
    /// [`Lan::qemu_netdev`] then gives a `-netdev dgram` instead of `-netdev tap`.
    pub fn lossy(mut self, config: LossConfig) -> Self {
        self.loss = Some(config);
        self
    }

    /// Routed only: the servers dhcrelay forwards to (default: [`Host::Dhcp`] and
    /// [`Host::Boot`], as an IP-helper table listing the DHCP and the PXE server). Empty: no
    /// relay is started.
    pub fn relay_to(mut self, servers: &[Host]) -> Self {
        self.relay_to = servers.to_vec();
        self
    }

    /// Creates the namespaces, bridges, tap and veths (and for [`Topology::Routed`] starts
    /// dhcrelay and the router's IPv6 advertisements; with [`LanBuilder::lossy`] the link
    /// relay), with `target/emu/<name>/` (emptied) for logs. Fails unless running as root with
    /// `ip netns` available.
    pub fn build(self) -> Result<Lan> {
        preflight()?;
        cleanup_stale();
        let dir = run_dir(&self.name)?;
        let short: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(24)
            .collect();
        let prefix = format!(
            "{NETNS_PREFIX}{}-{}-{short}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let mut lan = Lan {
            name: self.name,
            dir,
            prefix,
            topology: self.topology,
            servers: Mutex::new(Vec::new()),
            created: Vec::new(),
            link: None,
            relay: None,
        };
        // On failure, `lan` is dropped and removes whatever was created so far.
        match lan.topology {
            Topology::Flat => lan.setup_flat()?,
            Topology::Routed => {
                lan.setup_routed()?;
                lan.start_router(&self.relay_to)?;
            }
        }
        if let Some(config) = self.loss {
            lan.link = Some(Link::start(&lan.ns_lan(), &lan.dir, config)?);
        }
        Ok(lan)
    }
}

impl Lan {
    /// The flat LAN (10.99.0.0/24, no loss): `Lan::builder(name).build()`.
    pub fn new(name: &str) -> Result<Lan> {
        Lan::builder(name).build()
    }

    /// The routed LAN without loss: `Lan::builder(name).routed().build()`.
    pub fn routed(name: &str) -> Result<Lan> {
        Lan::builder(name).routed().build()
    }

    /// Options for a LAN whose logs go to `target/emu/<name>/`.
    pub fn builder(name: &str) -> LanBuilder {
        LanBuilder {
            name: name.to_string(),
            topology: Topology::Flat,
            loss: None,
            relay_to: vec![Host::Dhcp, Host::Boot],
        }
    }

    pub fn topology(&self) -> Topology {
        self.topology
    }

    /// `host`'s IPv4 address in this LAN's topology (flat: 10.99.0.1/.2; routed: 10.62.0.10/.20,
    /// the router 10.61.0.1 on the client side).
    pub fn addr(&self, host: Host) -> Ipv4Addr {
        host.addr_in(self.topology)
    }

    /// The guest's subnet (a /24): 10.99.0.0 (flat) or 10.61.0.0 (routed).
    pub fn client_subnet(&self) -> Ipv4Addr {
        match self.topology {
            Topology::Flat => SUBNET,
            Topology::Routed => CLIENT_SUBNET,
        }
    }

    /// The guest's default gateway: the router's client-side address (routed), none (flat).
    pub fn gateway(&self) -> Option<Ipv4Addr> {
        (self.topology == Topology::Routed).then_some(ROUTER_CLIENT)
    }

    /// The DHCP range the helpers and docs use for the guest: `.100`–`.199` of
    /// [`Lan::client_subnet`].
    pub fn guest_range(&self) -> (Ipv4Addr, Ipv4Addr) {
        let [a, b, c, _] = self.client_subnet().octets();
        (Ipv4Addr::new(a, b, c, 100), Ipv4Addr::new(a, b, c, 199))
    }

    /// The run directory `target/emu/<name>/` (logs, setup commands).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The namespace holding the bridge and `tap0`, where QEMU must run.
    pub fn ns_lan(&self) -> String {
        format!("{}-lan", self.prefix)
    }

    /// The namespace of a server host.
    pub fn ns(&self, host: Host) -> String {
        format!("{}-{}", self.prefix, host.role())
    }

    /// All namespaces of this LAN.
    pub fn namespaces(&self) -> Vec<String> {
        let mut all = vec![self.ns_lan(), self.ns(Host::Dhcp), self.ns(Host::Boot)];
        if self.topology == Topology::Routed {
            all.push(self.ns(Host::Router));
        }
        all
    }

    /// `ip netns exec <lan namespace> program`: add arguments, then spawn (QEMU goes here).
    pub fn wrap(&self, program: &str) -> Command {
        netns_command(&self.ns_lan(), program)
    }

    /// `ip netns exec <host namespace> program`.
    pub fn wrap_host(&self, host: Host, program: &str) -> Command {
        netns_command(&self.ns(host), program)
    }

    /// QEMU arguments for the guest's link with id `n0`: `-netdev tap` on `tap0`, or with a
    /// lossy link `-netdev dgram` to the relay on loopback. Add
    /// `-device MODEL,netdev=n0[,romfile=]` and run QEMU inside [`Lan::ns_lan`].
    pub fn qemu_netdev(&self) -> Vec<String> {
        let backend = match &self.link {
            None => "tap,id=n0,ifname=tap0,script=no,downscript=no".to_string(),
            Some(_) => lossy::qemu_backend(),
        };
        vec!["-netdev".into(), backend]
    }

    /// The lossy link's counters so far (`None` without [`LanBuilder::lossy`]).
    pub fn link_stats(&self) -> Option<LinkStats> {
        self.link.as_ref().map(Link::stats)
    }

    /// Stops the lossy link and writes its counters to `link-stats.txt` in the run directory
    /// (dropping the `Lan` does the same). Fails without a lossy link or if the relay failed.
    pub fn stop_link(&self) -> Result<LinkStats> {
        self.link
            .as_ref()
            .context("this LAN has no lossy link (LanBuilder::lossy)")?
            .stop()
    }

    /// The routed LAN's dhcrelay (`None` in the flat LAN or with an empty
    /// [`LanBuilder::relay_to`]). Its log (`dhcrelay.out`) has `Forwarded BOOTREQUEST ...`.
    pub fn dhcrelay(&self) -> Option<&Server> {
        self.relay.as_ref()
    }

    /// Runs an emulator command (program and arguments as built for the host) inside the LAN
    /// namespace, waiting as `wait` says for markers in the serial file `serial`, with the
    /// command line in `command.txt` and its output in `emulator.log` of [`Lan::dir`].
    pub fn run_emulator(&self, cmd: &Command, serial: &Path, wait: &Wait) -> Result<Run> {
        let mut wrapped = self.wrap(&cmd.get_program().to_string_lossy());
        wrapped.args(cmd.get_args());
        announce(&self.dir, &wrapped);
        let out = File::create(self.dir.join("emulator.log")).context("creating emulator.log")?;
        let err = out.try_clone()?;
        wrapped.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = wrapped
            .spawn()
            .with_context(|| format!("starting {:?}", cmd.get_program()))?;
        supervise(&self.name, &self.dir, serial, child, wait, |c| {
            let _ = c.kill();
        })
    }

    /// `tc qdisc replace dev tap0 root netem ARGS` in the LAN namespace, e.g. `"loss 10%"`,
    /// `"delay 5ms 2ms"`, `"duplicate 5%"`, `"reorder 25% 50% delay 2ms"`. It shapes frames
    /// *to* the guest (egress of tap0); use [`Lan::netem_dev`] with `vd0`/`vb0` for frames from
    /// the guest to a server.
    pub fn netem(&self, args: &str) -> Result<()> {
        self.netem_dev("tap0", args)
    }

    /// netem on one port of the bridge in the LAN namespace: `tap0` (to the guest), `vd0` (to
    /// the DHCP host), `vb0` (to the boot host).
    pub fn netem_dev(&self, dev: &str, args: &str) -> Result<()> {
        let mut argv = vec!["tc", "qdisc", "replace", "dev", dev, "root", "netem"];
        argv.extend(args.split_whitespace());
        self.run_in(&self.ns_lan(), &argv).map_err(|e| {
            if format!("{e:#}").contains("qdisc kind is unknown") {
                e.context(
                    "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM; the Firecracker \
                     kernels of the CI machines lack it): tc fault injection is unavailable here",
                )
            } else {
                e
            }
        })
    }

    /// `tc -s qdisc show dev DEV` in the LAN namespace (netem's sent/dropped counters).
    pub fn qdisc_stats(&self, dev: &str) -> Result<String> {
        let mut cmd = netns_command(&self.ns_lan(), "tc");
        cmd.args(["-s", "qdisc", "show", "dev", dev]);
        self.output(cmd)
    }

    /// Removes netem from `dev`.
    pub fn netem_clear(&self, dev: &str) -> Result<()> {
        self.run_in(&self.ns_lan(), &["tc", "qdisc", "del", "dev", dev, "root"])
    }

    /// Every server started so far.
    pub fn servers(&self) -> Vec<Server> {
        self.servers.lock().unwrap().clone()
    }

    fn ip(&self, args: &[&str]) -> Result<()> {
        let mut cmd = Command::new("ip");
        cmd.args(args);
        self.check(cmd)
    }

    fn run_in(&self, ns: &str, argv: &[&str]) -> Result<()> {
        let mut cmd = netns_command(ns, argv[0]);
        cmd.args(&argv[1..]);
        self.check(cmd)
    }

    fn check(&self, cmd: Command) -> Result<()> {
        self.output(cmd).map(drop)
    }

    fn output(&self, mut cmd: Command) -> Result<String> {
        self.record(&cmd);
        let out = cmd
            .output()
            .with_context(|| format!("running {}", command_line(&cmd)))?;
        if !out.status.success() {
            bail!(
                "{} failed ({}): {}{}",
                command_line(&cmd),
                out.status,
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Appends a command line to `lan-commands.txt` in the run directory.
    fn record(&self, cmd: &Command) {
        use std::io::Write as _;
        if let Ok(mut f) = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("lan-commands.txt"))
        {
            let _ = writeln!(f, "{}", command_line(cmd));
        }
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for server in self.servers.lock().unwrap().iter() {
            server.stop();
        }
        if let Some(link) = &self.link {
            let _ = link.stop();
        }
        for ns in self.created.iter().rev() {
            remove_namespace(ns);
        }
    }
}

/// Kills every process inside `ns` (each by pid), then deletes it.
fn remove_namespace(ns: &str) {
    for _ in 0..50 {
        let pids = netns_pids(ns);
        if pids.is_empty() {
            break;
        }
        for pid in pids {
            kill_pid(pid);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("ip")
        .args(["netns", "delete", ns])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn netns_pids(ns: &str) -> Vec<u32> {
    Command::new("ip")
        .args(["netns", "pids", ns])
        .stderr(Stdio::null())
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The names in `ip netns list`.
pub fn netns_list() -> Vec<String> {
    Command::new("ip")
        .args(["netns", "list"])
        .stderr(Stdio::null())
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().next().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Removes namespaces `spx-<pid>-...` whose creating process no longer exists (an earlier run
/// that crashed or was killed), killing the servers still inside them.
pub fn cleanup_stale() {
    for ns in netns_list() {
        let Some(rest) = ns.strip_prefix(NETNS_PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            eprintln!("lan: removing stale namespace {ns}");
            remove_namespace(&ns);
        }
    }
}

/// Root and `ip netns` are required: fails loudly otherwise.
fn preflight() -> Result<()> {
    tools::require("ip", "iproute2")?;
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|u| u.parse::<u32>().ok());
    if euid != Some(0) {
        bail!(
            "the LAN tests need root (network namespaces, bridges, tap devices); effective uid is \
             {euid:?}. Run them as root (e.g. in the CI container or with sudo)."
        );
    }
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .context("running `ip netns list`")?;
    if !out.status.success() {
        bail!(
            "`ip netns` is not available ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn netns_command(ns: &str, program: &str) -> Command {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns, program]);
    cmd
}

fn command_line(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
            let _ = write!(line, " '{}'", a.replace('\'', "'\\''"));
        } else {
            let _ = write!(line, " {a}");
        }
    }
    line
}
