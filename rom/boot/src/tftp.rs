//! The NBP and the diagnostic file over TFTP (`softpxe_net::tftp`): the transfer loop with its
//! progress line, the NBP's sink (the platform's NBP destination), the CRC-32 sink of
//! `test_file`, the window advice carried from one transfer to the next, and the PXE-E3x
//! errors with their advice.
use crate::console::{say, sayln};
use crate::link::{Link, Received};
use crate::{now, Failed, Key, Platform};
use core::net::Ipv4Addr;
use softpxe_drivers::Nic;
use softpxe_net::tftp::progress::{self, Rate, Retries, Ticker};
use softpxe_net::tftp::{
    Mode, Sink, SinkFull, TftpClient, TftpConfig, TftpError, TftpState, WindowAdvisor,
};
use softpxe_settings::Settings;

/// Writes the NBP through the platform, refusing anything past its capacity.
struct NbpSink<'a, P> {
    p: &'a mut P,
    capacity: u64,
}

impl<P: Platform> Sink for NbpSink<'_, P> {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SinkFull> {
        let end = offset.checked_add(data.len() as u64).ok_or(SinkFull)?;
        if end > self.capacity || !self.p.nbp_write(offset, data) {
            return Err(SinkFull);
        }
        Ok(())
    }

    fn announce_size(&mut self, size: u64) -> Result<(), SinkFull> {
        if size > self.capacity {
            return Err(SinkFull);
        }
        Ok(())
    }
}

/// Counts and CRC-32s a diagnostic download (IEEE 802.3 polynomial, reflected).
struct CheckSink {
    crc: u32,
    next: u64,
    in_order: bool,
}

const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

impl Sink for CheckSink {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SinkFull> {
        if offset != self.next {
            self.in_order = false;
        }
        self.next = offset + data.len() as u64;
        for &b in data {
            self.crc = CRC_TABLE[((self.crc ^ u32::from(b)) & 0xff) as usize] ^ (self.crc >> 8);
        }
        Ok(())
    }
}

/// The window advice learned from this boot's transfers (WindowAdvisor's one field, 0 = none),
/// kept across the test_file, the NBP, retries after a failure and (through
/// [`TftpAdvice::config`]) the PXE API's TFTP calls.
#[derive(Clone, Copy, Debug, Default)]
pub struct TftpAdvice {
    window: u16,
    /// Frames the NIC's receive ring holds (0: unknown).
    nic_frames: u16,
}

impl TftpAdvice {
    /// Advice for a NIC whose receive ring holds `rx_ring_len` frames: the window asked for
    /// never exceeds it. A window's blocks arrive back to back, and a card with less buffering
    /// drops the rest: the NE2000's 8-frame ring lost frames in every 16-block window (16 MiB
    /// at 3.9 MB/s; 6.8 MB/s with window 8). On the NICs whose emulation holds frames back
    /// (e1000, RTL8139) the smaller window measured the same.
    pub fn for_nic(rx_ring_len: u16) -> Self {
        TftpAdvice {
            window: 0,
            nic_frames: rx_ring_len,
        }
    }

    /// The TFTP settings for the NBP, the diagnostic file and the PXE API's TFTP calls, with
    /// the window advice learned so far.
    pub fn config(&self, settings: &Settings) -> TftpConfig {
        let asked = u16::from(settings.tftp_windowsize());
        let windowsize = match self.nic_frames {
            0 => asked,
            n => asked.min(n).max(1),
        };
        TftpConfig {
            windowsize,
            advisor: WindowAdvisor::from_window(self.window),
            ..TftpConfig::default()
        }
    }

    /// Learn the window advice from a finished transfer made with `cfg`.
    fn learn(&mut self, mut cfg: TftpConfig, client: &TftpClient) {
        cfg.learn(client);
        self.window = cfg.advisor.advised();
    }
}

/// Runs one TFTP transfer to its end; returns the result and the seconds it took.
/// `sink`: where the data goes; `None` for the NBP, which goes to the platform.
fn transfer<P: Platform, N: Nic>(
    p: &mut P,
    link: &mut Link<'_, N>,
    advice: &mut TftpAdvice,
    cfg: TftpConfig,
    (server, file): (Ipv4Addr, &[u8]),
    mut sink: Option<&mut dyn Sink>,
) -> (Result<u64, TftpError>, u64, TftpClient) {
    let start = now(p);
    let port = 2070 + (p.entropy() % 20_000) as u16;
    let capacity = p.nbp_capacity();
    let mut client = TftpClient::new(start, cfg, Mode::Read, server, port, file);
    let mut buf = [0u8; 1500];
    let mut last_key_check = 0u64;
    // Screen and COM1 get the same stream: the line is redrawn in place after a `\r`.
    let mut ticker = Ticker::new(start.millis(), progress::FIRST_MS, progress::EVERY_MS);
    loop {
        let t = now(p);
        while let Some(tx) = client.poll(t, &mut buf) {
            link.send(p, t, &tx, &buf);
        }
        link.poll(p, t);
        loop {
            match link.receive(p, t) {
                Received::Nothing => break,
                Received::Udp(meta, payload) => match sink.as_deref_mut() {
                    Some(s) => client.handle(t, &meta, payload, s),
                    None => client.handle(t, &meta, payload, &mut NbpSink { p, capacity }),
                },
                Received::Frame => {}
            }
        }
        if matches!(client.state(), TftpState::Done | TftpState::Failed) {
            // the final ACK
            while let Some(tx) = client.poll(t, &mut buf) {
                link.send(p, t, &tx, &buf);
            }
            let result = client.result().unwrap_or(Err(TftpError::ReadTimeout));
            let ms = now(p).since(start);
            if ticker.shown() {
                say!(p, "\r{}\n", progress_line(&client, ms));
            }
            advice.learn(cfg, &client);
            return (result, ms, client);
        }
        let ms = t.millis();
        if ticker.due(ms) {
            say!(p, "\r{}", progress_line(&client, t.since(start)));
        }
        if ms >= last_key_check + 200 {
            last_key_check = ms;
            if p.poll_key() == Some(Key::Esc) {
                client.abort();
            }
        }
    }
}

fn report_tftp_error<P: Platform>(p: &mut P, e: &TftpError, server: Ipv4Addr, file: &[u8]) {
    let name = core::str::from_utf8(file).unwrap_or("?");
    match e {
        TftpError::Server { code, text } => {
            sayln!(
                p,
                "{}: TFTP error {code} from {server} for \"{name}\": {}",
                e.pxe_code(),
                text.as_str()
            );
            sayln!(
                p,
                "Check that the file exists on the TFTP server and is readable."
            );
        }
        TftpError::OpenTimeout => {
            sayln!(
                p,
                "{}: TFTP open timeout: {server} did not answer the request for \"{name}\".",
                e.pxe_code()
            );
            sayln!(
                p,
                "Check that a TFTP server runs on {server} and that UDP port 69 is open."
            );
        }
        TftpError::SinkFull => {
            sayln!(
                p,
                "{}: \"{name}\" is too big for base memory (it must end below the PXE ROM's data).",
                e.pxe_code()
            );
        }
        TftpError::ReadTimeout => {
            // the error's text starts with its PXE-E code
            sayln!(p, "{e}: \"{name}\" from {server} stopped arriving.");
            sayln!(p, "The TFTP server stopped answering: check the server and the link (lossy links: a smaller tftp_windowsize).");
        }
        _ => {
            sayln!(p, "{e}: the transfer of \"{name}\" from {server} failed.");
            sayln!(p, "The server's answer could not be used: check the TFTP server's options (blksize, tsize, windowsize).");
        }
    }
}

fn progress_line(client: &TftpClient, ms: u64) -> progress::Line {
    progress::Line::new(&client.stats(), client.negotiated().tsize, ms)
}

/// The transfer rate in B/s, KiB/s or MiB/s (one decimal).
fn rate(bytes: u64, ms: u64) -> Rate {
    Rate { bytes, ms }
}

/// Loads the NBP `file` from `server` into the platform's NBP destination; its size.
pub(crate) fn fetch_nbp<P: Platform, N: Nic>(
    p: &mut P,
    link: &mut Link<'_, N>,
    settings: &Settings,
    advice: &mut TftpAdvice,
    server: Ipv4Addr,
    file: &[u8],
) -> Result<u32, Failed> {
    let cfg = advice.config(settings);
    let (result, ms, client) = transfer(p, link, advice, cfg, (server, file), None);
    match result {
        Ok(size) => {
            let n = client.negotiated();
            sayln!(
                p,
                "TFTP: \"{}\" {size} bytes in {ms} ms ({}), blksize {}, windowsize {}{}{}",
                core::str::from_utf8(file).unwrap_or("?"),
                rate(size, ms),
                n.blksize,
                n.windowsize,
                if n.options_accepted {
                    ""
                } else {
                    " (server ignored the options)"
                },
                Retries(client.stats())
            );
            Ok(size as u32)
        }
        Err(e) => {
            report_tftp_error(p, &e, server, file);
            Err(Failed)
        }
    }
}

/// `test_file`: fetches `file`, prints its size, CRC-32, time and rate.
pub(crate) fn test_fetch<P: Platform, N: Nic>(
    p: &mut P,
    link: &mut Link<'_, N>,
    settings: &Settings,
    advice: &mut TftpAdvice,
    server: Ipv4Addr,
    file: &[u8],
) {
    let mut sink = CheckSink {
        crc: !0,
        next: 0,
        in_order: true,
    };
    let cfg = advice.config(settings);
    let sink_ref: &mut dyn Sink = &mut sink;
    let (result, ms, client) = transfer(p, link, advice, cfg, (server, file), Some(sink_ref));
    match result {
        Ok(size) => {
            let n = client.negotiated();
            sayln!(
 p,
                "softpxe: test_file \"{}\": {size} bytes in {ms} ms ({}), crc32 {:08x}, blksize {}, windowsize {}{}{}{}",
                core::str::from_utf8(file).unwrap_or("?"),
                rate(size, ms),
                !sink.crc,
                n.blksize,
                n.windowsize,
                if n.options_accepted { "" } else { " (server ignored the options)" },
                if sink.in_order { "" } else { " (OUT OF ORDER)" },
                Retries(client.stats())
            );
        }
        Err(e) => report_tftp_error(p, &e, server, file),
    }
}
