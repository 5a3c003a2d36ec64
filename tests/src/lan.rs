//! A private LAN of network namespaces for emulator tests: real DHCP, proxyDHCP and TFTP servers
//! (dnsmasq, tftpd-hpa, atftpd) on a bridge, and a tap device for a QEMU NIC.
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
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every namespace this module creates starts with this.
pub const NETNS_PREFIX: &str = "spx-";

/// The LAN's IPv4 subnet (a /24).
pub const SUBNET: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 0);

/// The MAC address tests give the guest NIC (QEMU's default).
pub const GUEST_MAC: &str = "52:54:00:12:34:56";

/// Name of the `#[test]` a test binary must define (calling [`tftp_helper_entry`]) for
/// [`Lan::tftp_get`] to work: the test binary re-executes itself inside a namespace.
pub const TFTP_HELPER_TEST: &str = "lan_tftp_helper";

const TFTP_HELPER_ENV: &str = "SOFTPXE_LAN_TFTP";
const TFTP_HELPER_OUT_ENV: &str = "SOFTPXE_LAN_TFTP_OUT";
const TFTP_HELPER_LINE: &str = "SOFTPXE_TFTP ";

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A server host on the LAN (each its own namespace with `eth0` on the bridge).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// 10.99.0.1, fd99::1: the DHCP server (and IPv6 router advertisements).
    Dhcp,
    /// 10.99.0.2, fd99::2: proxyDHCP and TFTP servers.
    Boot,
}

impl Host {
    pub fn addr(self) -> Ipv4Addr {
        match self {
            Host::Dhcp => Ipv4Addr::new(10, 99, 0, 1),
            Host::Boot => Ipv4Addr::new(10, 99, 0, 2),
        }
    }

    fn ipv6(self) -> &'static str {
        match self {
            Host::Dhcp => "fd99::1/64",
            Host::Boot => "fd99::2/64",
        }
    }

    fn role(self) -> &'static str {
        match self {
            Host::Dhcp => "dhcp",
            Host::Boot => "boot",
        }
    }
}

/// A running server (dnsmasq, tftpd-hpa, atftpd) in one of the LAN's namespaces. The [`Lan`]
/// that started it stops it when dropped; dropping the `Server` handle does not.
#[derive(Clone)]
pub struct Server {
    inner: Arc<ServerInner>,
}

struct ServerInner {
    label: String,
    host: Host,
    pid: u32,
    child: Mutex<Option<Child>>,
    log: Option<PathBuf>,
    out: PathBuf,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("label", &self.inner.label)
            .field("host", &self.inner.host)
            .field("pid", &self.inner.pid)
            .finish()
    }
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.inner.pid
    }

    pub fn host(&self) -> Host {
        self.inner.host
    }

    /// The server's own log file, if it writes one.
    pub fn log_path(&self) -> Option<&Path> {
        self.inner.log.as_deref()
    }

    /// The server's log file (if it writes one) followed by its stdout/stderr.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Some(log) = &self.inner.log {
            text.push_str(&String::from_utf8_lossy(&fs::read(log).unwrap_or_default()));
        }
        let out = fs::read(&self.inner.out).unwrap_or_default();
        if !out.is_empty() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&String::from_utf8_lossy(&out));
        }
        text
    }

    /// Fails with the server's log unless `needle` appears in it.
    pub fn expect_log(&self, needle: &str) -> Result<&Self> {
        let log = self.log();
        if !log.contains(needle) {
            bail!(
                "{}: expected {needle:?} in its log; got:\n{log}",
                self.inner.label
            );
        }
        Ok(self)
    }

    /// Polls the log until `needle` appears (servers write their logs a moment after the
    /// packet went out); fails with the log after `timeout`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> Result<String> {
        let start = Instant::now();
        loop {
            let log = self.log();
            if log.contains(needle) {
                return Ok(log);
            }
            if start.elapsed() >= timeout {
                bail!(
                    "{}: {needle:?} did not appear in its log within {timeout:?}; got:\n{log}",
                    self.inner.label
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&self) -> bool {
        let mut child = self.inner.child.lock().unwrap();
        match child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the server's process group (servers such as tftpd-hpa fork per transfer) and
    /// reaps it. Idempotent.
    pub fn stop(&self) {
        let mut child = self.inner.child.lock().unwrap();
        if let Some(mut c) = child.take() {
            if matches!(c.try_wait(), Ok(None)) {
                kill_group(self.inner.pid);
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

/// Sends SIGKILL to the process group `pgid` (a server spawned as its own group leader).
fn kill_group(pgid: u32) {
    if pgid <= 1 {
        return;
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

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
    servers: Mutex<Vec<Server>>,
    created: Vec<String>,
}

impl std::fmt::Debug for Lan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lan")
            .field("name", &self.name)
            .field("prefix", &self.prefix)
            .field("dir", &self.dir)
            .finish()
    }
}

impl Lan {
    /// Creates the namespaces, bridge, tap and veths, with `target/emu/<name>/` (emptied) for
    /// logs. Fails unless running as root with `ip netns` available.
    pub fn new(name: &str) -> Result<Lan> {
        preflight()?;
        cleanup_stale();
        let dir = run_dir(name)?;
        let short: String = name
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
            name: name.to_string(),
            dir,
            prefix,
            servers: Mutex::new(Vec::new()),
            created: Vec::new(),
        };
        // On failure, `lan` is dropped and removes whatever was created so far.
        lan.setup()?;
        Ok(lan)
    }

    fn setup(&mut self) -> Result<()> {
        let lan = self.ns_lan();
        for ns in [lan.clone(), self.ns(Host::Dhcp), self.ns(Host::Boot)] {
            self.ip(&["netns", "add", &ns])?;
            self.created.push(ns.clone());
            self.ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            // No duplicate address detection: addresses are usable at once (the bridge has no
            // other hosts); per-namespace sysctls only.
            for key in ["all", "default"] {
                self.run_in(
                    &ns,
                    &[
                        "sysctl",
                        "-qw",
                        &format!("net.ipv6.conf.{key}.accept_dad=0"),
                    ],
                )?;
            }
        }
        self.ip(&["-n", &lan, "link", "add", "br0", "type", "bridge"])?;
        self.ip(&[
            "-n",
            &lan,
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ])?;
        self.ip(&["-n", &lan, "tuntap", "add", "dev", "tap0", "mode", "tap"])?;
        self.ip(&["-n", &lan, "link", "set", "tap0", "master", "br0"])?;
        for (host, port) in [(Host::Dhcp, "vd0"), (Host::Boot, "vb0")] {
            let ns = self.ns(host);
            self.ip(&[
                "-n", &lan, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns",
                &ns,
            ])?;
            self.ip(&["-n", &lan, "link", "set", port, "master", "br0"])?;
            self.ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{}/24", host.addr()),
                "dev",
                "eth0",
            ])?;
            // An IPv6 prefix lets dnsmasq's `--enable-ra` actually advertise one; without it
            // iPXE waits ~15 s for IPv6 autoconfiguration before it reports DHCP done.
            self.ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                host.ipv6(),
                "dev",
                "eth0",
                "nodad",
            ])?;
            self.ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            self.ip(&["-n", &lan, "link", "set", port, "up"])?;
        }
        self.ip(&["-n", &lan, "link", "set", "tap0", "up"])?;
        self.ip(&["-n", &lan, "link", "set", "br0", "up"])?;
        Ok(())
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
        vec![self.ns_lan(), self.ns(Host::Dhcp), self.ns(Host::Boot)]
    }

    /// `ip netns exec <lan namespace> program`: add arguments, then spawn (QEMU goes here).
    pub fn wrap(&self, program: &str) -> Command {
        netns_command(&self.ns_lan(), program)
    }

    /// `ip netns exec <host namespace> program`.
    pub fn wrap_host(&self, host: Host, program: &str) -> Command {
        netns_command(&self.ns(host), program)
    }

    /// QEMU arguments for a backend on `tap0` with id `n0`; add
    /// `-device MODEL,netdev=n0[,romfile=]` and run QEMU inside [`Lan::ns_lan`].
    pub fn qemu_netdev(&self) -> Vec<String> {
        vec![
            "-netdev".into(),
            "tap,id=n0,ifname=tap0,script=no,downscript=no".into(),
        ]
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

    /// dnsmasq on `host`'s eth0, foreground, with the common flags (`-k --conf-file=/dev/null
    /// --port=0 --interface=eth0 --bind-interfaces --log-dhcp --no-ping --user=root`, log, pid
    /// and lease files in the run directory) plus `args`. Returns once it listens on UDP 67 (or
    /// 69 for TFTP-only). Server label: `dnsmasq-<host>`.
    pub fn dnsmasq(&self, host: Host, args: &[&str]) -> Result<Server> {
        tools::require("dnsmasq", "dnsmasq-base")?;
        let label = format!("dnsmasq-{}", host.role());
        let log = self.dir.join(format!("{label}.log"));
        let mut cmd = self.wrap_host(host, "dnsmasq");
        cmd.args([
            "-k",
            "--conf-file=/dev/null",
            "--port=0",
            "--interface=eth0",
            "--bind-interfaces",
            "--log-dhcp",
            "--no-ping",
            "--user=root",
        ])
        .arg(format!("--log-facility={}", log.display()))
        .arg(format!(
            "--pid-file={}",
            self.dir.join(format!("{label}.pid")).display()
        ))
        .arg(format!(
            "--dhcp-leasefile={}",
            self.dir.join(format!("{label}.leases")).display()
        ))
        .args(args);
        let port = if args.iter().any(|a| a.starts_with("--dhcp-range")) {
            67
        } else {
            69
        };
        self.start(&label, host, cmd, Some(log), Some("started, version"), port)
    }

    /// tftpd-hpa (`in.tftpd -L -v -v -a <host>:69 -u root -s DIR`) serving `dir`. It logs to
    /// syslog, so its log here is only what it prints. Label: `tftpd-hpa-<host>`.
    pub fn tftpd_hpa(&self, host: Host, dir: &Path) -> Result<Server> {
        tools::require("in.tftpd", "tftpd-hpa")?;
        let label = format!("tftpd-hpa-{}", host.role());
        let mut cmd = self.wrap_host(host, "in.tftpd");
        cmd.args(["-L", "-v", "-v", "-u", "root", "-a"])
            .arg(format!("{}:69", host.addr()))
            .arg("-s")
            .arg(dir);
        self.start(&label, host, cmd, None, None, 69)
    }

    /// atftpd 0.8.0 (RFC 7440 windowsize unless `windowsize` is false: `--no-windowsize`),
    /// foreground, `--trace` and `--verbose=7` into its log. Label: `atftpd-<host>`.
    pub fn atftpd(&self, host: Host, dir: &Path, windowsize: bool) -> Result<Server> {
        let bin = atftpd_binary()?;
        let label = format!("atftpd-{}", host.role());
        let log = self.dir.join(format!("{label}.log"));
        // atftpd opens its log with O_APPEND but without O_CREAT (else it logs to syslog)
        File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut cmd = self.wrap_host(host, &bin.to_string_lossy());
        cmd.args([
            "--daemon",
            "--no-fork",
            "--user",
            "root",
            "--group",
            "root",
            "--port",
            "69",
            "--verbose=7",
            "--trace",
            "--bind-address",
        ])
        .arg(host.addr().to_string())
        .arg("--logfile")
        .arg(&log)
        .arg("--pidfile")
        .arg(self.dir.join(format!("{label}.pid")));
        if !windowsize {
            cmd.arg("--no-windowsize");
        }
        cmd.arg(dir);
        self.start(&label, host, cmd, Some(log), None, 69)
    }

    /// Spawns `cmd` as its own process group with output to `<label>.out`, records it, and
    /// waits (5 s at most) for `ready` in the log and a UDP listener on `port` in its namespace.
    fn start(
        &self,
        label: &str,
        host: Host,
        mut cmd: Command,
        log: Option<PathBuf>,
        ready: Option<&str>,
        port: u16,
    ) -> Result<Server> {
        let out_path = self.dir.join(format!("{label}.out"));
        self.record(&cmd);
        let out = File::create(&out_path).with_context(|| format!("creating {label}.out"))?;
        let err = out.try_clone()?;
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd.spawn().with_context(|| format!("starting {label}"))?;
        let server = Server {
            inner: Arc::new(ServerInner {
                label: label.to_string(),
                host,
                pid: child.id(),
                child: Mutex::new(Some(child)),
                log,
                out: out_path,
            }),
        };
        self.servers.lock().unwrap().push(server.clone());
        let ns = self.ns(host);
        let start = Instant::now();
        loop {
            if !server.is_running() {
                bail!(
                    "{label} exited at start (files in {}):\n{}",
                    self.dir.display(),
                    server.log()
                );
            }
            let logged = ready.is_none_or(|r| server.log().contains(r));
            if logged && udp_listening(&ns, port) {
                return Ok(server);
            }
            if start.elapsed() > Duration::from_secs(5) {
                server.stop();
                bail!(
                    "{label} not ready after 5 s (no UDP listener on port {port} in {ns}; files in \
                     {}):\n{}",
                    self.dir.display(),
                    server.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Fetches `file` from the TFTP server at `server`:69 with a client running in `from`'s
    /// namespace (the test binary re-executes itself: it must define
    /// `#[test] fn lan_tftp_helper() { softpxe_tests::lan::tftp_helper_entry() }`).
    /// `options` go into the RRQ (e.g. `[("blksize","1428"),("windowsize","8")]`).
    pub fn tftp_get(
        &self,
        from: Host,
        server: Host,
        file: &str,
        options: &[(&str, &str)],
    ) -> Result<TftpReport> {
        let exe = std::env::current_exe().context("locating the test binary")?;
        let data_path = self.dir.join(format!(
            "tftp-{}-{}.data",
            server.role(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let opts: Vec<String> = options.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let spec = format!("{}:69|{file}|{}", server.addr(), opts.join(","));
        let mut cmd = self.wrap_host(from, &exe.to_string_lossy());
        cmd.args([
            TFTP_HELPER_TEST,
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(TFTP_HELPER_ENV, &spec)
        .env(TFTP_HELPER_OUT_ENV, &data_path);
        self.record(&cmd);
        let out = cmd.output().context("running the TFTP helper")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut report = TftpReport::default();
        let mut finished = false;
        for line in stdout.lines() {
            // the test harness may print `test lan_tftp_helper ... ` on the same line
            let Some(rest) = line
                .find(TFTP_HELPER_LINE)
                .map(|i| &line[i + TFTP_HELPER_LINE.len()..])
            else {
                continue;
            };
            let mut words = rest.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("oack"), Some(k), Some(v)) => report.oack.push((k.into(), v.into())),
                (Some("oack"), Some(k), None) => report.oack.push((k.into(), String::new())),
                (Some("packets"), Some(n), _) => report.data_packets = n.parse().unwrap_or(0),
                (Some("acks"), Some(n), _) => report.acks_sent = n.parse().unwrap_or(0),
                (Some("elapsed_us"), Some(n), _) => {
                    report.elapsed = Duration::from_micros(n.parse().unwrap_or(0))
                }
                (Some("done"), _, _) => finished = true,
                _ => {}
            }
        }
        if !out.status.success() || !finished {
            bail!(
                "TFTP get {file} from {} ({spec}) failed in {}: {}\n--- stdout ---\n{stdout}\n\
                 --- stderr ---\n{stderr}",
                server.addr(),
                self.ns(from),
                out.status
            );
        }
        report.data = fs::read(&data_path).context("reading the TFTP helper's data")?;
        Ok(report)
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

fn udp_listening(ns: &str, port: u16) -> bool {
    let Ok(out) = netns_command(ns, "ss").args(["-Hlun"]).output() else {
        return false;
    };
    let needle = format!(":{port} ");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.contains(&needle))
}

/// Where [`install_atftpd`] puts atftpd by default (repository-relative).
pub fn atftpd_dir() -> PathBuf {
    crate::repo_root()
        .join("target")
        .join("tools")
        .join("atftpd")
}

/// The atftpd binary extracted by [`install_atftpd`] (`target/tools/atftpd/usr/sbin/atftpd`).
/// The Debian package is not installed system-wide (it conflicts with tftpd-hpa).
pub fn atftpd_binary() -> Result<PathBuf> {
    let bin = atftpd_dir().join("usr/sbin/atftpd");
    if !bin.is_file() {
        bail!(
            "{} is missing: run `cargo xtask setup` (or: cd $(mktemp -d) && apt-get download \
             atftpd && dpkg-deb -x atftpd_*.deb {}); it needs the Debian packages libwrap0 and \
             libpcre2-8-0",
            bin.display(),
            atftpd_dir().display()
        );
    }
    Ok(bin)
}

/// Downloads the Debian package atftpd (`apt-get download`, no installation: it conflicts with
/// tftpd-hpa) and extracts it into `dest` (use [`atftpd_dir`]), then checks that the binary
/// runs. Its libraries come from libwrap0 and libpcre2-8-0 (install those with apt-get).
pub fn install_atftpd(dest: &Path) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("softpxe-atftpd-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir_all(&tmp)?;
    // apt-get download runs as `_apt` where it can: let it write here.
    let _ = Command::new("chmod").arg("0777").arg(&tmp).status();
    let result = (|| -> Result<()> {
        let out = Command::new("apt-get")
            .args(["download", "atftpd"])
            .current_dir(&tmp)
            .output()
            .context("running apt-get download atftpd")?;
        if !out.status.success() {
            bail!(
                "apt-get download atftpd failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let deb = fs::read_dir(&tmp)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                let n = p.file_name().unwrap_or_default().to_string_lossy();
                n.starts_with("atftpd_") && n.ends_with(".deb")
            })
            .context("apt-get download left no atftpd_*.deb")?;
        fs::create_dir_all(dest)?;
        let status = Command::new("dpkg-deb")
            .arg("-x")
            .arg(&deb)
            .arg(dest)
            .status()
            .context("running dpkg-deb")?;
        if !status.success() {
            bail!("dpkg-deb -x {} {} failed", deb.display(), dest.display());
        }
        let bin = dest.join("usr/sbin/atftpd");
        let out = Command::new(&bin)
            .arg("--version")
            .output()
            .with_context(|| format!("running {}", bin.display()))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !text.contains("atftp") {
            bail!(
                "{} --version does not run (missing libraries? apt-get install libwrap0 \
                 libpcre2-8-0): {text}",
                bin.display()
            );
        }
        Ok(())
    })();
    let _ = fs::remove_dir_all(&tmp);
    result
}

/// What a TFTP transfer saw.
#[derive(Clone, Debug, Default)]
pub struct TftpReport {
    /// Options in the server's OACK, in its order (empty: no OACK).
    pub oack: Vec<(String, String)>,
    pub data: Vec<u8>,
    /// DATA packets received, duplicates included.
    pub data_packets: u32,
    /// ACKs sent (with windowsize W, about one per W blocks).
    pub acks_sent: u32,
    pub elapsed: Duration,
}

impl TftpReport {
    pub fn option(&self, name: &str) -> Option<&str> {
        self.oack
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A small TFTP client (RFC 1350 + 2347/2348/2349 + 7440) in the current network namespace:
/// reads `file` from `server`, with `options` in the request.
pub fn tftp_get(
    server: SocketAddrV4,
    file: &str,
    options: &[(&str, &str)],
    timeout: Duration,
) -> Result<TftpReport> {
    let start = Instant::now();
    let sock = UdpSocket::bind("0.0.0.0:0").context("binding a UDP socket")?;
    sock.set_read_timeout(Some(Duration::from_millis(500)))?;
    let mut rrq = vec![0, 1];
    for part in [file, "octet"]
        .into_iter()
        .chain(options.iter().flat_map(|(k, v)| [*k, *v]))
    {
        rrq.extend_from_slice(part.as_bytes());
        rrq.push(0);
    }
    sock.send_to(&rrq, server)?;
    let mut report = TftpReport::default();
    let mut peer: Option<std::net::SocketAddr> = None;
    let mut blksize = 512usize;
    let mut window = 1u32;
    let mut expected: u16 = 1;
    let mut in_window = 0u32;
    let mut buf = vec![0u8; 65536];
    let ack = |sock: &UdpSocket,
               to: std::net::SocketAddr,
               block: u16,
               report: &mut TftpReport|
     -> Result<()> {
        let b = block.to_be_bytes();
        sock.send_to(&[0, 4, b[0], b[1]], to)?;
        report.acks_sent += 1;
        Ok(())
    };
    loop {
        if start.elapsed() > timeout {
            bail!(
                "TFTP {file} from {server}: timeout after {:?} ({} bytes, next block {expected})",
                timeout,
                report.data.len()
            );
        }
        let (n, from) = match sock.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                match peer {
                    None => {
                        sock.send_to(&rrq, server)?;
                    }
                    Some(p) => {
                        ack(&sock, p, expected.wrapping_sub(1), &mut report)?;
                        in_window = 0;
                    }
                }
                continue;
            }
            Err(e) => return Err(e).context("receiving"),
        };
        if from.ip() != std::net::IpAddr::V4(*server.ip()) || n < 4 {
            continue;
        }
        match peer {
            None => peer = Some(from),
            Some(p) if p != from => continue,
            Some(_) => {}
        }
        let pkt = &buf[..n];
        match u16::from_be_bytes([pkt[0], pkt[1]]) {
            6 => {
                if !report.oack.is_empty() || expected != 1 {
                    continue; // retransmitted OACK
                }
                let fields: Vec<String> = pkt[2..]
                    .split(|&b| b == 0)
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect();
                for pair in fields.chunks(2) {
                    if pair[0].is_empty() {
                        continue;
                    }
                    let value = pair.get(1).cloned().unwrap_or_default();
                    match pair[0].to_ascii_lowercase().as_str() {
                        "blksize" => blksize = value.parse().context("OACK blksize")?,
                        "windowsize" => window = value.parse().context("OACK windowsize")?,
                        _ => {}
                    }
                    report.oack.push((pair[0].clone(), value));
                }
                ack(&sock, from, 0, &mut report)?;
            }
            3 => {
                report.data_packets += 1;
                let block = u16::from_be_bytes([pkt[2], pkt[3]]);
                let payload = &pkt[4..];
                if block == expected {
                    report.data.extend_from_slice(payload);
                    expected = expected.wrapping_add(1);
                    in_window += 1;
                    if payload.len() < blksize {
                        ack(&sock, from, block, &mut report)?;
                        break;
                    }
                    if in_window >= window {
                        ack(&sock, from, block, &mut report)?;
                        in_window = 0;
                    }
                } else if block != expected.wrapping_sub(1) || window == 1 {
                    // out of order (RFC 7440: acknowledge the last good block)
                    ack(&sock, from, expected.wrapping_sub(1), &mut report)?;
                    in_window = 0;
                }
            }
            5 => {
                let code = u16::from_be_bytes([pkt[2], pkt[3]]);
                let msg = String::from_utf8_lossy(&pkt[4..]);
                bail!(
                    "TFTP {file} from {server}: error {code}: {}",
                    msg.trim_end_matches('\0')
                );
            }
            _ => {}
        }
    }
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Entry point of the TFTP helper test ([`TFTP_HELPER_TEST`]): does nothing unless
/// [`Lan::tftp_get`] started this process; then runs [`tftp_get`] and prints the result.
pub fn tftp_helper_entry() {
    let Ok(spec) = std::env::var(TFTP_HELPER_ENV) else {
        return;
    };
    let out_path = std::env::var(TFTP_HELPER_OUT_ENV).expect("helper output path");
    let mut parts = spec.splitn(3, '|');
    let server: SocketAddrV4 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .expect("helper server address");
    let file = parts.next().expect("helper file name").to_string();
    let opts: Vec<(String, String)> = parts
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    let opt_refs: Vec<(&str, &str)> = opts.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let report = tftp_get(server, &file, &opt_refs, Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("TFTP helper: {e:#}"));
    fs::write(&out_path, &report.data).expect("writing the helper output");
    println!();
    for (k, v) in &report.oack {
        println!("{TFTP_HELPER_LINE}oack {k} {v}");
    }
    println!("{TFTP_HELPER_LINE}packets {}", report.data_packets);
    println!("{TFTP_HELPER_LINE}acks {}", report.acks_sent);
    println!(
        "{TFTP_HELPER_LINE}elapsed_us {}",
        report.elapsed.as_micros()
    );
    println!("{TFTP_HELPER_LINE}done");
}
