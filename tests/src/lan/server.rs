//! The LAN's server hosts and the servers started on them (dnsmasq, tftpd-hpa, atftpd): spawning,
//! readiness checks, stopping, and fetching atftpd.
use super::{netns_command, Lan};
use crate::tools;
use anyhow::{bail, Context, Result};
use std::fs::{self, File};
use std::net::Ipv4Addr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A host on the LAN with its own namespace. Addresses depend on the topology: use
/// [`Lan::addr`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// The DHCP server (flat: 10.99.0.1, fd99::1, also sending IPv6 RAs; routed: 10.62.0.10).
    Dhcp,
    /// proxyDHCP and TFTP servers (flat: 10.99.0.2, fd99::2; routed: 10.62.0.20).
    Boot,
    /// Routed LAN only: the router (eth0 10.61.0.1 + fd61::1 on the client segment, eth1
    /// 10.62.0.1 on the server segment) running dhcrelay and IPv6 RAs.
    Router,
}

impl Host {
    /// The address in the flat LAN (the router: its client-side address, routed LAN only).
    /// [`Lan::addr`] gives the address in the LAN's own topology.
    pub fn addr(self) -> Ipv4Addr {
        match self {
            Host::Dhcp => Ipv4Addr::new(10, 99, 0, 1),
            Host::Boot => Ipv4Addr::new(10, 99, 0, 2),
            Host::Router => super::ROUTER_CLIENT,
        }
    }

    pub(super) fn role(self) -> &'static str {
        match self {
            Host::Dhcp => "dhcp",
            Host::Boot => "boot",
            Host::Router => "router",
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

impl Lan {
    /// dnsmasq on `host`'s eth0, foreground, with the common flags (`-k --conf-file=/dev/null
    /// --port=0 --interface=eth0 --bind-interfaces --log-dhcp --no-ping --user=root`, log, pid
    /// and lease files in the run directory) plus `args`. Returns once it listens on UDP 67 (or
    /// 69 for TFTP-only, or the DNS port for DNS-only). A `--port=N` in `args` replaces
    /// `--port=0` (DNS off): `--port=53` serves DNS, e.g. `--host-record=NAME,ADDR` (add
    /// `--no-resolv` so that dnsmasq never forwards a query). Server label: `dnsmasq-<host>`.
    pub fn dnsmasq(&self, host: Host, args: &[&str]) -> Result<Server> {
        tools::require("dnsmasq", "dnsmasq-base")?;
        let label = format!("dnsmasq-{}", host.role());
        let log = self.dir.join(format!("{label}.log"));
        let mut cmd = self.wrap_host(host, "dnsmasq");
        let dns_port = args
            .iter()
            .find_map(|a| a.strip_prefix("--port="))
            .and_then(|p| p.parse::<u16>().ok());
        cmd.args(["-k", "--conf-file=/dev/null"]);
        if dns_port.is_none() {
            cmd.arg("--port=0");
        }
        cmd.args([
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
        // An IPv4 range (DHCP or proxy) listens on 67, TFTP on 69, DNS-only on its port;
        // RA-only on none.
        let v4_range = args.iter().any(|a| {
            a.strip_prefix("--dhcp-range=")
                .and_then(|r| r.split(',').next())
                .is_some_and(|first| first.parse::<Ipv4Addr>().is_ok())
        });
        let port = if v4_range {
            Some(67)
        } else if args.iter().any(|a| a.starts_with("--enable-tftp")) {
            Some(69)
        } else {
            dns_port.filter(|p| *p != 0)
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
            .arg(format!("{}:69", self.addr(host)))
            .arg("-s")
            .arg(dir);
        self.start(&label, host, cmd, None, None, Some(69))
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
        .arg(self.addr(host).to_string())
        .arg("--logfile")
        .arg(&log)
        .arg("--pidfile")
        .arg(self.dir.join(format!("{label}.pid")));
        if !windowsize {
            cmd.arg("--no-windowsize");
        }
        cmd.arg(dir);
        self.start(&label, host, cmd, Some(log), None, Some(69))
    }

    /// Spawns `cmd` as its own process group with output to `<label>.out`, records it, and
    /// waits (5 s at most) for `ready` in the log and a UDP listener on `port` in its namespace.
    pub(super) fn start(
        &self,
        label: &str,
        host: Host,
        mut cmd: Command,
        log: Option<PathBuf>,
        ready: Option<&str>,
        port: Option<u16>,
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
            if logged && port.is_none_or(|p| udp_listening(&ns, p)) {
                return Ok(server);
            }
            if start.elapsed() > Duration::from_secs(5) {
                server.stop();
                bail!(
                    "{label} not ready after 5 s (no {ready:?} in its log or no UDP listener on \
                     port {port:?} in {ns}; files in {}):\n{}",
                    self.dir.display(),
                    server.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
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
