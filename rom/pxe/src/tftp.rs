//! PXE TFTP API (layer `rom/pxe`, PXE 2.1 §3.3): TFTP_OPEN/READ/CLOSE over a re-chunking ring,
//! TFTP_READ_FILE to a 32-bit physical buffer, TFTP_GET_FSIZE via `tsize`, and RESTART_TFTP.
//!
//! Underneath, `softpxe_net::tftp::TftpClient` negotiates the configured blksize and windowsize;
//! TFTP_READ still hands out exactly PacketSize bytes per call (the last piece shorter, or empty
//! when the file is a multiple of PacketSize). Flow control: the client's window ACK is held back
//! until the ring has room for a whole window. The server port is always 69 (TFTPPort ignored),
//! MTFTP is not offered (READ_FILE is unicast, like iPXE).

use crate::abi::{SegOff16, Status, TftpGetFsize, TftpOpen, TftpRead, TftpReadFile};
use crate::dispatch::{with_block, Action, Reply};
use crate::mem::{phys_range, write_at};
use crate::platform::Platform;
use crate::queue::{Ring, TFTP_RING};
use crate::stack::{PxeStack, Unsent};
use softpxe_net::fixed::c_str;
use softpxe_net::iface::Interface;
use softpxe_net::tftp::{Mode, Sink, SinkFull, TftpClient, TftpError, TftpState};
use softpxe_net::{Instant, Ipv4Addr, Transmit, UdpMeta};

/// Largest PacketSize TFTP_OPEN grants (one Ethernet frame of TFTP data).
pub const MAX_PACKET_SIZE: u16 = 1468;
/// Smallest PacketSize (RFC 1350 blocks).
pub const MIN_PACKET_SIZE: u16 = 512;

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Packets {
        packet_size: u16,
        packet_no: u16,
        eof_sent: bool,
    },
    File {
        phys: u64,
        size: u32,
    },
    Size,
}

/// One TFTP transfer.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    client: TftpClient,
    kind: Kind,
    port: u16,
    server: Ipv4Addr,
    gateway: Option<Ipv4Addr>,
    arp_wait: bool,
    failure: Option<Status>,
}

struct MemSink<'a> {
    p: &'a mut dyn Platform,
    phys: u64,
    size: u64,
}

impl Sink for MemSink<'_> {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SinkFull> {
        let end = offset.checked_add(data.len() as u64).ok_or(SinkFull)?;
        if end > self.size || !self.p.write(self.phys + offset, data) {
            return Err(SinkFull);
        }
        Ok(())
    }
    fn announce_size(&mut self, size: u64) -> Result<(), SinkFull> {
        if size > self.size {
            Err(SinkFull)
        } else {
            Ok(())
        }
    }
}

struct NullSink;
impl Sink for NullSink {
    fn write(&mut self, _: u64, _: &[u8]) -> Result<(), SinkFull> {
        Err(SinkFull)
    }
}

/// The PXE status for a failed transfer.
pub fn tftp_status(e: &TftpError) -> Status {
    match e {
        TftpError::OpenTimeout => Status::TFTP_OPEN_TIMEOUT,
        TftpError::ReadTimeout => Status::TFTP_READ_TIMEOUT,
        TftpError::Server { code: 1, .. } => Status::TFTP_FILE_NOT_FOUND,
        TftpError::Server { code: 2, .. } => Status::TFTP_ACCESS_VIOLATION,
        TftpError::Server { .. } | TftpError::BadOack => Status::TFTP_ERROR_OPCODE,
        TftpError::NoSize => Status::TFTP_NO_FILESIZE,
        TftpError::SinkFull => Status::OUT_OF_RESOURCES,
    }
}

impl Session {
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn handle(
        &mut self,
        p: &mut dyn Platform,
        now: Instant,
        meta: &UdpMeta,
        payload: &[u8],
        ring: &mut Ring,
    ) {
        match &mut self.kind {
            Kind::Packets { .. } => self.client.handle(now, meta, payload, ring),
            Kind::File { phys, size } => {
                let mut sink = MemSink {
                    p,
                    phys: *phys,
                    size: u64::from(*size),
                };
                self.client.handle(now, meta, payload, &mut sink)
            }
            Kind::Size => self.client.handle(now, meta, payload, &mut NullSink),
        }
    }

    /// The client's next packet, held back while the ring lacks room for a whole window.
    pub(crate) fn poll(&mut self, now: Instant, buf: &mut [u8], ring: &Ring) -> Option<Transmit> {
        if let Kind::Packets { .. } = &self.kind {
            let n = self.client.negotiated();
            let window = usize::from(n.blksize) * usize::from(n.windowsize);
            if self.client.state() == TftpState::Transferring && ring.free() < window {
                return None;
            }
        }
        self.client.poll(now, buf)
    }

    pub(crate) fn note_send(&mut self, unsent: Option<Unsent>) {
        match unsent {
            None => {}
            Some(Unsent::Arp) => self.arp_wait = true,
            Some(Unsent::NoRoute | Unsent::TooBig) => {
                self.failure = Some(Status::TFTP_CANNOT_OPEN_CONNECTION)
            }
        }
    }

    /// After ARP for the server (or gateway) gave up, fail with CANNOT_ARP_ADDRESS.
    pub(crate) fn check_arp(&mut self, iface: &Interface, now: Instant) {
        if !self.arp_wait || iface.next_deadline().is_some() {
            return;
        }
        self.arp_wait = false;
        let known = iface.lookup(now, self.server).is_some()
            || self.gateway.is_some_and(|g| iface.lookup(now, g).is_some());
        if !known && self.failure.is_none() {
            self.failure = Some(Status::TFTP_CANNOT_ARP_ADDRESS);
        }
    }

    fn finished(&self) -> bool {
        self.failure.is_some() || matches!(self.client.state(), TftpState::Done | TftpState::Failed)
    }

    fn result(&self) -> Option<Result<u64, Status>> {
        if let Some(f) = self.failure {
            return Some(Err(f));
        }
        if self.arp_wait && self.client.result() == Some(Err(TftpError::OpenTimeout)) {
            return Some(Err(Status::TFTP_CANNOT_ARP_ADDRESS));
        }
        self.client.result().map(|r| r.map_err(|e| tftp_status(&e)))
    }

    fn abort(&mut self) {
        if matches!(
            self.client.state(),
            TftpState::Opening | TftpState::Transferring
        ) {
            self.client.abort();
        }
    }
}

fn ip(b: [u8; 4]) -> Ipv4Addr {
    Ipv4Addr::from(b)
}

impl PxeStack {
    /// Start a transfer (replacing any running one).
    fn start(
        &mut self,
        p: &mut dyn Platform,
        server: [u8; 4],
        gateway: [u8; 4],
        name: &[u8],
        mode: Mode,
        kind: Kind,
    ) -> Result<(), Status> {
        self.close_tftp(p);
        let server = ip(server);
        if server.is_unspecified() || name.is_empty() {
            return Err(Status::TFTP_CANNOT_OPEN_CONNECTION);
        }
        if !self.ensure_open(p) {
            return Err(Status::UNDI_CANNOT_INITIALIZE_NIC);
        }
        let gw = Some(ip(gateway)).filter(|g| !g.is_unspecified());
        if self.gateway.is_none() && gw.is_some() {
            self.iface.configure(self.iface.ip(), self.mask, gw);
        }
        let mut cfg = self.cfg.tftp;
        let blk = usize::from(cfg.blksize.max(MIN_PACKET_SIZE));
        // A whole window must fit beside less than one PacketSize of unread data: TFTP_READ
        // holds the ACK back while the ring lacks room for a window, and an NBP waiting in
        // TFTP_READ for its next packet cannot free any. Without this headroom a lost block
        // with fewer than PacketSize bytes in the ring held back every ACK (gap and timer
        // alike) and the transfer deadlocked.
        let room = TFTP_RING - usize::from(MAX_PACKET_SIZE);
        cfg.windowsize = cfg.windowsize.clamp(1, (room / blk).max(1) as u16);
        if matches!(kind, Kind::Packets { .. }) {
            // TFTP_READ holds the ACK back while the ring is full: leave the server its own
            // (longer) resend timer rather than asking for 1 s (RFC 2349) and being dropped.
            cfg.server_timeout_s = 0;
        }
        let port = self.alloc_port();
        let now = p.now();
        self.tftp = Some(Session {
            client: TftpClient::new(now, cfg, mode, server, port, name),
            kind,
            port,
            server,
            gateway: gw.or(self.gateway),
            arp_wait: false,
            failure: None,
        });
        Ok(())
    }

    /// Abort and drop the running transfer (sending its ERROR packet).
    pub(crate) fn close_tftp(&mut self, p: &mut dyn Platform) {
        if let Some(s) = self.tftp.as_mut() {
            s.abort();
            let now = p.now();
            self.flush(p, now);
        }
        self.end_tftp();
    }

    /// Drop the transfer, keeping what it taught about the window (`cfg.tftp.advisor`).
    fn end_tftp(&mut self) {
        if let Some(s) = self.tftp.take() {
            self.cfg.tftp.learn(&s.client);
        }
    }

    /// Wait until the transfer leaves `Opening` (or, with `to_end`, finishes).
    fn run(&mut self, p: &mut dyn Platform, to_end: bool) -> Result<u64, Status> {
        let limit = self.cfg.max_wait_ms;
        self.wait(p, limit, |s, _| {
            s.tftp
                .as_ref()
                .is_none_or(|t| t.finished() || (!to_end && t.client.state() != TftpState::Opening))
        });
        let Some(s) = self.tftp.as_ref() else {
            return Err(Status::TFTP_CLOSED);
        };
        match s.result() {
            Some(r) => r,
            None if to_end => Err(Status::TFTP_READ_TIMEOUT),
            None if s.client.state() == TftpState::Opening => Err(Status::TFTP_OPEN_TIMEOUT),
            None => Ok(0),
        }
    }

    /// Fetch a whole file to `[phys, phys + size)`; returns its length.
    pub(crate) fn read_file(
        &mut self,
        p: &mut dyn Platform,
        b: &TftpReadFile,
        phys: u32,
        size: u32,
    ) -> Result<u32, Status> {
        if matches!(
            self.tftp.as_ref().map(|s| &s.kind),
            Some(Kind::Packets { .. })
        ) {
            return Err(Status::TFTP_OPEN);
        }
        let (phys, _) = phys_range(phys, size as usize).ok_or(Status::FAILURE)?;
        let kind = Kind::File { phys, size };
        self.start(
            p,
            b.ServerIPAddress,
            b.GatewayIPAddress,
            c_str(&b.FileName),
            Mode::Read,
            kind,
        )?;
        let r = self.run(p, true);
        self.end_tftp();
        r.map(|n| n as u32)
    }
}

/// TFTP_OPEN.
pub(crate) fn open(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut TftpOpen, p| {
        let packet_size = b.PacketSize.clamp(MIN_PACKET_SIZE, MAX_PACKET_SIZE);
        s.ring = Ring::new();
        let kind = Kind::Packets {
            packet_size,
            packet_no: 0,
            eof_sent: false,
        };
        let name = c_str(&b.FileName);
        if let Err(e) = s.start(
            p,
            b.ServerIPAddress,
            b.GatewayIPAddress,
            name,
            Mode::Read,
            kind,
        ) {
            return e.into();
        }
        match s.run(p, false) {
            Ok(_) => {
                b.PacketSize = packet_size;
                Status::SUCCESS.into()
            }
            Err(e) => {
                s.tftp = None;
                e.into()
            }
        }
    })
}

/// TFTP_CLOSE.
pub(crate) fn close(s: &mut PxeStack, p: &mut dyn Platform, _at: SegOff16) -> Reply {
    s.close_tftp(p);
    Status::SUCCESS.into()
}

/// TFTP_READ: the next PacketSize bytes.
pub(crate) fn read(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut TftpRead, p| {
        let Some(Kind::Packets { packet_size, .. }) = s.tftp.as_ref().map(|t| &t.kind) else {
            return Status::TFTP_CLOSED.into();
        };
        let want = usize::from(*packet_size);
        let limit = s.cfg.max_wait_ms;
        s.wait(p, limit, |st, _| {
            let ready = st.ring.len() >= want;
            st.tftp.as_ref().is_none_or(|t| match &t.kind {
                Kind::Packets { .. } => ready || t.finished(),
                _ => true,
            })
        });
        let Some(t) = s.tftp.as_mut() else {
            return Status::TFTP_CLOSED.into();
        };
        let result = t.result();
        let ring = &mut s.ring;
        let Kind::Packets {
            packet_no,
            eof_sent,
            ..
        } = &mut t.kind
        else {
            return Status::TFTP_CLOSED.into();
        };
        let n = want.min(ring.len());
        if n < want {
            match result {
                Some(Ok(_)) if n > 0 || !*eof_sent => {}
                Some(Ok(_)) => return Status::TFTP_CANNOT_READ_FROM_CONNECTION.into(),
                Some(Err(e)) if n == 0 => return e.into(),
                Some(Err(_)) => {}
                None => return Status::TFTP_READ_TIMEOUT.into(),
            }
        }
        let mut piece = [0u8; MAX_PACKET_SIZE as usize];
        let got = ring.peek(&mut piece[..n]);
        if !write_at(p, b.Buffer, &piece[..got]) {
            return Status::FAILURE.into();
        }
        ring.consume(got);
        if got < want {
            *eof_sent = true;
        }
        *packet_no = packet_no.wrapping_add(1);
        b.PacketNumber = *packet_no;
        b.BufferSize = got as u16;
        let now = p.now();
        s.flush(p, now);
        Status::SUCCESS.into()
    })
}

/// TFTP_READ_FILE: the whole file to a 32-bit physical buffer.
pub(crate) fn read_file(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut TftpReadFile, p| {
        if b.BufferSize == 0 {
            return Status::FAILURE.into();
        }
        match s.read_file(p, b, b.Buffer, b.BufferSize) {
            Ok(n) => {
                b.BufferSize = n;
                Status::SUCCESS.into()
            }
            Err(e) => e.into(),
        }
    })
}

/// TFTP_GET_FSIZE.
pub(crate) fn get_fsize(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut TftpGetFsize, p| {
        if matches!(s.tftp.as_ref().map(|t| &t.kind), Some(Kind::Packets { .. })) {
            return Status::TFTP_OPEN.into();
        }
        let name = c_str(&b.FileName);
        let (srv, gw) = (b.ServerIPAddress, b.GatewayIPAddress);
        if let Err(e) = s.start(p, srv, gw, name, Mode::SizeOnly, Kind::Size) {
            return e.into();
        }
        let r = s.run(p, true);
        s.end_tftp();
        match r {
            Ok(n) => {
                b.FileSize = u32::try_from(n).unwrap_or(u32::MAX);
                Status::SUCCESS.into()
            }
            Err(e) => e.into(),
        }
    })
}

/// RESTART_TFTP: load the named file to 0:7C00 (READ_FILE layout; Buffer and BufferSize are
/// forced to the load address and limit) and ask the firmware to start it.
pub(crate) fn restart(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut TftpReadFile, p| {
        let (load, limit) = (s.cfg.nbp_load, s.cfg.nbp_limit);
        b.Buffer = load;
        match s.read_file(p, b, load, limit) {
            Ok(n) => {
                b.BufferSize = n;
                Reply {
                    status: Status::SUCCESS,
                    action: Some(Action::StartNbp { size: n }),
                }
            }
            Err(e) => e.into(),
        }
    })
}
