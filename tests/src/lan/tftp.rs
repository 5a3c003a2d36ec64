//! A small TFTP client, and running it inside one of the LAN's namespaces (the test binary
//! re-executes itself there).
use super::{Host, Lan, SEQ, TFTP_HELPER_TEST};
use anyhow::{bail, Context, Result};
use std::fs;
use std::net::{SocketAddrV4, UdpSocket};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const TFTP_HELPER_ENV: &str = "SOFTPXE_LAN_TFTP";
const TFTP_HELPER_OUT_ENV: &str = "SOFTPXE_LAN_TFTP_OUT";
const TFTP_HELPER_LINE: &str = "SOFTPXE_TFTP ";

impl Lan {
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
        let spec = format!("{}:69|{file}|{}", self.addr(server), opts.join(","));
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
                self.addr(server),
                self.ns(from),
                out.status
            );
        }
        report.data = fs::read(&data_path).context("reading the TFTP helper's data")?;
        Ok(report)
    }
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
