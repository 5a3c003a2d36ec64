//! A lossy Ethernet link in user space (the CI kernel has no netem): QEMU's `-netdev dgram`
//! sends each frame as a UDP datagram on loopback in the LAN namespace to a relay thread of the
//! test process, which passes it to `tap0` (on the bridge) and back, dropping, duplicating and
//! reordering frames with a seeded generator, each direction on its own.
//!
//! ```text
//!  QEMU  127.0.0.1:40001 <--UDP--> 127.0.0.1:40000  relay thread  <--> tap0 -- br0
//!          (-netdev dgram)                  (Faults to_guest / from_guest)
//! ```
//!
//! The thread enters the LAN namespace with `setns` (per thread), opens `/dev/net/tun`
//! (`TUNSETIFF` tap0, `IFF_TAP | IFF_NO_PI`) and the socket there, then polls both.
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// QEMU's end of the lossy link (UDP on 127.0.0.1 inside the LAN namespace).
pub const LINK_QEMU_PORT: u16 = 40001;
/// The relay's end of the lossy link.
pub const LINK_RELAY_PORT: u16 = 40000;

/// How long a frame held back for reordering waits for a later frame to overtake it; then it
/// is sent anyway (delayed, not reordered).
const HOLD_MAX: Duration = Duration::from_millis(10);

/// What happens to the frames of one direction; each is a probability in 0.0..=1.0, drawn
/// independently per frame.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    /// Frames dropped.
    pub loss: f64,
    /// Frames (not dropped) sent twice.
    pub duplicate: f64,
    /// Frames (not dropped) held back and sent after the next frame of the same direction.
    pub reorder: f64,
}

impl Faults {
    /// A perfect link.
    pub const NONE: Faults = Faults {
        loss: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
    };

    /// Loss only, e.g. `Faults::loss(0.10)`.
    pub fn loss(p: f64) -> Faults {
        Faults {
            loss: p,
            ..Faults::NONE
        }
    }
}

/// The lossy link's configuration ([`super::LanBuilder::lossy`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossConfig {
    /// Frames from the LAN to the guest (tap0 → QEMU).
    pub to_guest: Faults,
    /// Frames from the guest to the LAN (QEMU → tap0).
    pub from_guest: Faults,
    /// Seeds both directions' generators (each direction its own stream, so one direction's
    /// fate does not depend on the other's traffic).
    pub seed: u64,
}

impl LossConfig {
    /// The same faults both ways.
    pub fn symmetric(faults: Faults, seed: u64) -> LossConfig {
        LossConfig {
            to_guest: faults,
            from_guest: faults,
            seed,
        }
    }
}

/// One direction's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirStats {
    /// Frames that entered the link.
    pub frames: u64,
    /// Frames passed on (each once; duplicates are counted in `duplicated`).
    pub passed: u64,
    pub dropped: u64,
    /// Extra copies sent.
    pub duplicated: u64,
    /// Frames that were overtaken by a later one.
    pub reordered: u64,
}

impl DirStats {
    /// `dropped / frames` (0 without frames).
    pub fn loss_rate(&self) -> f64 {
        if self.frames == 0 {
            0.0
        } else {
            self.dropped as f64 / self.frames as f64
        }
    }
}

/// Both directions' counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub to_guest: DirStats,
    pub from_guest: DirStats,
}

impl LinkStats {
    /// The text of `link-stats.txt`.
    pub fn report(&self, config: &LossConfig) -> String {
        let mut text = format!("# lossy link, seed {}\n", config.seed);
        text.push_str("direction frames passed dropped duplicated reordered loss_rate config\n");
        for (name, d, f) in [
            ("to_guest", &self.to_guest, &config.to_guest),
            ("from_guest", &self.from_guest, &config.from_guest),
        ] {
            let _ = writeln!(
                text,
                "{name} {} {} {} {} {} {:.4} loss={} duplicate={} reorder={}",
                d.frames,
                d.passed,
                d.dropped,
                d.duplicated,
                d.reordered,
                d.loss_rate(),
                f.loss,
                f.duplicate,
                f.reorder
            );
        }
        text
    }
}

/// splitmix64: small, seeded, good enough for fault injection.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The fault model of one direction, independent of I/O (unit-tested below).
#[derive(Debug)]
pub(crate) struct Shaper {
    faults: Faults,
    rng: Rng,
    held: Option<(Vec<u8>, Instant)>,
    pub(crate) stats: DirStats,
}

impl Shaper {
    pub(crate) fn new(faults: Faults, seed: u64) -> Shaper {
        Shaper {
            faults,
            rng: Rng(seed),
            held: None,
            stats: DirStats::default(),
        }
    }

    /// One frame in; what to send now goes to `out`, in order.
    pub(crate) fn push(&mut self, frame: &[u8], now: Instant, out: &mut Vec<Vec<u8>>) {
        self.stats.frames += 1;
        // three draws per frame whatever happens: the loss pattern depends only on the seed
        let (lose, dup, hold) = (
            self.rng.next_f64() < self.faults.loss,
            self.rng.next_f64() < self.faults.duplicate,
            self.rng.next_f64() < self.faults.reorder,
        );
        if lose {
            self.stats.dropped += 1;
            return;
        }
        self.stats.passed += 1;
        if hold && self.held.is_none() && !dup {
            self.held = Some((frame.to_vec(), now));
            return;
        }
        out.push(frame.to_vec());
        if dup {
            self.stats.duplicated += 1;
            out.push(frame.to_vec());
        }
        if let Some((held, _)) = self.held.take() {
            self.stats.reordered += 1;
            out.push(held);
        }
    }

    /// Sends a held frame that waited [`HOLD_MAX`].
    pub(crate) fn expire(&mut self, now: Instant, out: &mut Vec<Vec<u8>>) {
        if let Some((_, since)) = &self.held {
            if now.duration_since(*since) >= HOLD_MAX {
                out.push(self.held.take().unwrap().0);
            }
        }
    }
}

/// The `-netdev` value for QEMU on the lossy link (id `n0`).
pub(super) fn qemu_backend() -> String {
    format!(
        "dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port={LINK_QEMU_PORT},\
         remote.type=inet,remote.host=127.0.0.1,remote.port={LINK_RELAY_PORT}"
    )
}

/// The running relay thread.
pub(super) struct Link {
    config: LossConfig,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<LinkStats>>,
    thread: Mutex<Option<JoinHandle<Result<()>>>>,
    result: Mutex<Option<Result<LinkStats, String>>>,
    stats_path: PathBuf,
}

impl Link {
    /// Starts the relay in namespace `ns` (tap0 must exist there); returns once tap0 and the
    /// socket are open. Writes `link-stats.txt` into `dir` when stopped.
    pub(super) fn start(ns: &str, dir: &Path, config: LossConfig) -> Result<Link> {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(LinkStats::default()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let netns = PathBuf::from("/run/netns").join(ns);
        let (stop2, stats2) = (stop.clone(), stats.clone());
        let thread = std::thread::Builder::new()
            .name(format!("lan-link-{ns}"))
            .spawn(move || {
                let io = match open_in_namespace(&netns) {
                    Ok(io) => {
                        let _ = ready_tx.send(Ok(()));
                        io
                    }
                    Err(e) => {
                        let msg = format!("{e:#}");
                        let _ = ready_tx.send(Err(e));
                        bail!("{msg}");
                    }
                };
                relay(io, config, &stop2, &stats2)
            })
            .context("spawning the link relay thread")?;
        let link = Link {
            config,
            stop,
            stats,
            thread: Mutex::new(Some(thread)),
            result: Mutex::new(None),
            stats_path: dir.join("link-stats.txt"),
        };
        match ready_rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => Ok(link),
            Ok(Err(e)) => Err(e.context("starting the lossy link")),
            Err(_) => bail!("the lossy link's relay did not start within 5 s"),
        }
    }

    pub(super) fn stats(&self) -> LinkStats {
        *self.stats.lock().unwrap()
    }

    /// Stops and joins the thread (once), writes `link-stats.txt`, returns the final counters.
    pub(super) fn stop(&self) -> Result<LinkStats> {
        let mut result = self.result.lock().unwrap();
        if result.is_none() {
            self.stop.store(true, Ordering::Relaxed);
            let outcome = match self.thread.lock().unwrap().take().map(|t| t.join()) {
                Some(Ok(Ok(()))) | None => Ok(self.stats()),
                Some(Ok(Err(e))) => Err(format!("the lossy link's relay failed: {e:#}")),
                Some(Err(_)) => Err("the lossy link's relay panicked".to_string()),
            };
            let mut text = self.stats().report(&self.config);
            if let Err(e) = &outcome {
                let _ = writeln!(text, "# {e}");
            }
            let _ = fs::write(&self.stats_path, text);
            *result = Some(outcome);
        }
        match result.as_ref().unwrap() {
            Ok(stats) => Ok(*stats),
            Err(e) => bail!("{e}"),
        }
    }
}

struct LinkIo {
    tap: File,
    sock: UdpSocket,
    qemu: SocketAddr,
}

/// Enters the namespace (this thread only) and opens tap0 and the relay's socket there.
fn open_in_namespace(netns: &Path) -> Result<LinkIo> {
    enter_namespace(netns)?;
    let tap = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .context("opening /dev/net/tun")?;
    // struct ifreq: 16-byte name, then the flags (a short) in the union
    let mut ifr = [0u8; 40];
    ifr[..4].copy_from_slice(b"tap0");
    let flags = (libc::IFF_TAP | libc::IFF_NO_PI) as i16;
    ifr[16..18].copy_from_slice(&flags.to_ne_bytes());
    // SAFETY: TUNSETIFF reads and writes a struct ifreq (40 bytes) at the pointer.
    if unsafe { libc::ioctl(tap.as_raw_fd(), libc::TUNSETIFF, ifr.as_mut_ptr()) } != 0 {
        bail!("TUNSETIFF tap0 failed: {}", std::io::Error::last_os_error());
    }
    let sock = UdpSocket::bind(("127.0.0.1", LINK_RELAY_PORT))
        .with_context(|| format!("binding 127.0.0.1:{LINK_RELAY_PORT}"))?;
    sock.set_nonblocking(true)?;
    Ok(LinkIo {
        tap,
        sock,
        qemu: SocketAddr::from(([127, 0, 0, 1], LINK_QEMU_PORT)),
    })
}

/// Moves the calling thread into the network namespace at `netns` (`/run/netns/NAME`).
fn enter_namespace(netns: &Path) -> Result<()> {
    let ns = File::open(netns).with_context(|| format!("opening {}", netns.display()))?;
    // SAFETY: setns on a valid namespace fd; it affects only the calling thread.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        bail!(
            "setns({}) failed: {}",
            netns.display(),
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

impl super::Lan {
    /// Runs `f` on a new thread inside namespace `ns` (e.g. [`super::Lan::ns_lan`] or
    /// `lan.ns(Host::Dhcp)`) and returns its result: sockets it opens live in that namespace.
    /// No process is started; the thread ends with `f`.
    pub fn in_namespace<T: Send + 'static>(
        &self,
        ns: &str,
        f: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let netns = PathBuf::from("/run/netns").join(ns);
        std::thread::spawn(move || {
            enter_namespace(&netns)?;
            f()
        })
        .join()
        .map_err(|_| anyhow::anyhow!("the thread in {ns} panicked"))?
    }
}

fn relay(
    mut io: LinkIo,
    config: LossConfig,
    stop: &AtomicBool,
    stats: &Mutex<LinkStats>,
) -> Result<()> {
    let mut to_guest = Shaper::new(config.to_guest, config.seed ^ 0x746f_2067_7565_7374);
    let mut from_guest = Shaper::new(config.from_guest, config.seed ^ 0x6672_6f6d_2067_7374);
    let mut buf = vec![0u8; 65536];
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [
            libc::pollfd {
                fd: io.tap.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: io.sock.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // short timeout: held frames expire and `stop` is seen within a few ms
        // SAFETY: two valid pollfd structs.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, 5) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e).context("poll");
        }
        let now = Instant::now();
        if fds[0].revents & libc::POLLIN != 0 {
            let len = io.tap.read(&mut buf).context("reading tap0")?;
            to_guest.push(&buf[..len], now, &mut out);
        }
        to_guest.expire(now, &mut out);
        for frame in out.drain(..) {
            // QEMU not (yet) listening: the frame is lost, as on an unplugged cable
            let _ = io.sock.send_to(&frame, io.qemu);
        }
        if fds[1].revents & libc::POLLIN != 0 {
            match io.sock.recv_from(&mut buf) {
                Ok((len, from)) if from == io.qemu => from_guest.push(&buf[..len], now, &mut out),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                // ICMP errors of earlier sends surface here; not the relay's problem
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
                Err(e) => return Err(e).context("receiving from QEMU"),
            }
        }
        from_guest.expire(now, &mut out);
        for frame in out.drain(..) {
            // tap0 refuses nothing it can carry; a failing write is counted as a loss by nobody
            let _ = io.tap.write(&frame);
        }
        let mut s = stats.lock().unwrap();
        s.to_guest = to_guest.stats;
        s.from_guest = from_guest.stats;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(faults: Faults, n: usize) -> (DirStats, Vec<Vec<u8>>) {
        let mut shaper = Shaper::new(faults, 7);
        let mut out = Vec::new();
        let t = Instant::now();
        for i in 0..n as u32 {
            shaper.push(&i.to_be_bytes(), t, &mut out);
        }
        shaper.expire(t + HOLD_MAX, &mut out);
        (shaper.stats, out)
    }

    #[test]
    fn loss_duplication_and_reordering_follow_the_configured_rates() {
        let n = 100_000;
        let (s, out) = run(
            Faults {
                loss: 0.10,
                duplicate: 0.05,
                reorder: 0.05,
            },
            n,
        );
        assert_eq!(s.frames, n as u64);
        assert_eq!(s.passed + s.dropped, s.frames);
        assert!((s.loss_rate() - 0.10).abs() < 0.005, "{s:?}");
        let dup = s.duplicated as f64 / s.passed as f64;
        assert!((dup - 0.05).abs() < 0.005, "{s:?}");
        let reo = s.reordered as f64 / s.passed as f64;
        assert!(reo > 0.03 && reo < 0.05, "{s:?}");
        assert_eq!(out.len() as u64, s.passed + s.duplicated);
        let overtaken = out
            .windows(2)
            .filter(|w| w[0].as_slice() > w[1].as_slice())
            .count();
        // a frame still held at the end is sent by `expire`: out of order, not "reordered"
        assert!(
            (overtaken as u64).abs_diff(s.reordered) <= 1,
            "{overtaken} {s:?}"
        );
    }

    #[test]
    fn a_perfect_link_passes_everything_in_order_and_seeds_repeat() {
        let (s, out) = run(Faults::NONE, 1000);
        assert_eq!(
            (s.passed, s.dropped, s.duplicated, s.reordered),
            (1000, 0, 0, 0)
        );
        assert!(out.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(run(Faults::loss(0.3), 500), run(Faults::loss(0.3), 500));
    }
}
