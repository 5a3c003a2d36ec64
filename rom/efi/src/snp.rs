//! EFI_SIMPLE_NETWORK_PROTOCOL semantics (UEFI 2.10 §24.1) over one [`AnyNic`], in safe Rust:
//! the state machine (Stopped / Started / Initialized, robust to any order of Start, Stop,
//! Initialize, Shutdown and Reset, as GRUB and iPXE reopen SNP), receive filters mapped onto the
//! drivers' [`RxFilter`], station address, software statistics, multicast mapping, transmit
//! with media-header fill-in and buffer recycling through GetStatus, and receive with a
//! one-frame stash (so that BUFFER_TOO_SMALL keeps the frame and WaitForPacket can look ahead).
//!
//! `snp_abi` turns the firmware's raw calls into calls of [`SnpCore`]; the `Mode` structure the
//! firmware reads directly lives here and is kept current after every call.
//!
//! While softpxe itself uses the NIC ([`SnpCore::claim`]), Mode.State reads Stopped and every
//! call answers NOT_STARTED, so the firmware's MNP stops polling and cannot take softpxe's
//! frames (what iPXE's SNP producer does).

use crate::hal::EfiHal;
use softpxe_drivers::filter::{self, MAX_MULTICAST};
use softpxe_drivers::{AnyNic, Nic, NicError, RxFilter, MAX_FRAME_LEN};
use uefi_raw::protocol::network::snp::{InterruptStatus, NetworkMode, NetworkState, ReceiveFlags};
use uefi_raw::{MacAddress, Status};

/// Ethernet header length (Mode.MediaHeaderSize).
pub const HEADER: usize = 14;
/// Largest payload (Mode.MaxPacketSize).
pub const MTU: usize = 1500;
/// Transmitted buffers waiting to be handed back by GetStatus.
const RECYCLE: usize = 64;
/// Number of u64 counters in EFI_NETWORK_STATISTICS.
pub const N_STATS: usize = 26;

/// What a Receive returns besides the frame bytes.
#[derive(Clone, Copy, Debug)]
pub struct RxInfo {
    pub len: usize,
    pub src: [u8; 6],
    pub dst: [u8; 6],
    pub protocol: u16,
}

/// Counters kept in software (the drivers expose no hardware counters), indices into
/// EFI_NETWORK_STATISTICS.
mod stat {
    pub const RX_TOTAL: usize = 0;
    pub const RX_GOOD: usize = 1;
    pub const RX_UNDERSIZE: usize = 2;
    pub const RX_DROPPED: usize = 4;
    pub const RX_UNICAST: usize = 5;
    pub const RX_BROADCAST: usize = 6;
    pub const RX_MULTICAST: usize = 7;
    pub const RX_BYTES: usize = 9;
    pub const TX_TOTAL: usize = 10;
    pub const TX_GOOD: usize = 11;
    pub const TX_DROPPED: usize = 14;
    pub const TX_UNICAST: usize = 15;
    pub const TX_BROADCAST: usize = 16;
    pub const TX_MULTICAST: usize = 17;
    pub const TX_BYTES: usize = 19;
    /// The counters softpxe keeps; the others read as all ones ("not supported").
    pub const KEPT: [usize; 15] = [
        RX_TOTAL,
        RX_GOOD,
        RX_UNDERSIZE,
        RX_DROPPED,
        RX_UNICAST,
        RX_BROADCAST,
        RX_MULTICAST,
        RX_BYTES,
        TX_TOTAL,
        TX_GOOD,
        TX_DROPPED,
        TX_UNICAST,
        TX_BROADCAST,
        TX_MULTICAST,
        TX_BYTES,
    ];
}

/// One NIC behind SNP.
pub struct SnpCore {
    pub nic: AnyNic,
    pub hal: EfiHal,
    /// What the firmware reads through `SimpleNetworkProtocol.mode`.
    pub mode: NetworkMode,
    state: NetworkState,
    claimed: bool,
    stats: [u64; N_STATS],
    rx_dropped_base: u32,
    recycled: [usize; RECYCLE],
    n_recycled: usize,
    stash: [u8; MAX_FRAME_LEN],
    stash_len: Option<usize>,
}

impl core::fmt::Debug for SnpCore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SnpCore({}, {:?})", self.nic.driver_name(), self.state)
    }
}

fn mac32(m: [u8; 6]) -> MacAddress {
    MacAddress::from(m)
}

fn nic_status(e: NicError) -> Status {
    match e {
        NicError::TxTimeout => Status::NOT_READY,
        NicError::BadFrameLength | NicError::BadAddress => Status::INVALID_PARAMETER,
        NicError::Unsupported => Status::UNSUPPORTED,
        _ => Status::DEVICE_ERROR,
    }
}

impl SnpCore {
    /// A stopped SNP over `nic` (constructed, not open).
    pub fn new(nic: AnyNic, hal: EfiHal) -> Self {
        let mac = nic.mac();
        let mode = NetworkMode {
            state: NetworkState::STOPPED,
            hw_address_size: 6,
            media_header_size: HEADER as u32,
            max_packet_size: MTU as u32,
            nv_ram_size: 0,
            nv_ram_access_size: 0,
            receive_filter_mask: (ReceiveFlags::UNICAST
                | ReceiveFlags::MULTICAST
                | ReceiveFlags::BROADCAST
                | ReceiveFlags::PROMISCUOUS
                | ReceiveFlags::PROMISCUOUS_MULTICAST)
                .bits(),
            receive_filter_setting: 0,
            max_mcast_filter_count: MAX_MULTICAST as u32,
            mcast_filter_count: 0,
            mcast_filter: [MacAddress([0; 32]); 16],
            current_address: mac32(nic.station()),
            broadcast_address: mac32(filter::BROADCAST),
            permanent_address: mac32(mac),
            if_type: 1,
            mac_address_changeable: true.into(),
            multiple_tx_supported: true.into(),
            media_present_supported: true.into(),
            media_present: false.into(),
        };
        let rx_dropped_base = nic.rx_dropped();
        let mut core = Self {
            nic,
            hal,
            mode,
            state: NetworkState::STOPPED,
            claimed: false,
            stats: [0; N_STATS],
            rx_dropped_base,
            recycled: [0; RECYCLE],
            n_recycled: 0,
            stash: [0; MAX_FRAME_LEN],
            stash_len: None,
        };
        core.sync_filter_mode();
        core
    }

    /// The real state (Mode.State may read Stopped while claimed).
    pub fn state(&self) -> NetworkState {
        self.state
    }

    /// softpxe takes the NIC for itself: Mode.State reads Stopped, calls answer NOT_STARTED.
    pub fn claim(&mut self) {
        self.claimed = true;
        self.publish_state();
    }

    /// Gives the NIC back to SNP's users.
    pub fn release(&mut self) {
        self.claimed = false;
        self.publish_state();
    }

    fn publish_state(&mut self) {
        self.mode.state = if self.claimed {
            NetworkState::STOPPED
        } else {
            self.state
        };
    }

    fn set_state(&mut self, s: NetworkState) {
        self.state = s;
        self.publish_state();
    }

    /// NOT_STARTED when stopped (or claimed), DEVICE_ERROR when started but not initialized.
    fn need_initialized(&self) -> Result<(), Status> {
        if self.claimed || self.state == NetworkState::STOPPED {
            Err(Status::NOT_STARTED)
        } else if self.state != NetworkState::INITIALIZED {
            Err(Status::DEVICE_ERROR)
        } else {
            Ok(())
        }
    }

    fn need_started(&self) -> Result<(), Status> {
        if self.claimed || self.state == NetworkState::STOPPED {
            Err(Status::NOT_STARTED)
        } else {
            Ok(())
        }
    }

    /// Start: Stopped -> Started.
    pub fn start(&mut self) -> Result<(), Status> {
        if self.claimed {
            return Err(Status::NOT_STARTED);
        }
        if self.state != NetworkState::STOPPED {
            return Err(Status::ALREADY_STARTED);
        }
        self.set_state(NetworkState::STARTED);
        Ok(())
    }

    /// Stop: -> Stopped (an initialized NIC is shut down first).
    pub fn stop(&mut self) -> Result<(), Status> {
        self.need_started()?;
        if self.state == NetworkState::INITIALIZED {
            self.quiesce();
        }
        self.set_state(NetworkState::STOPPED);
        Ok(())
    }

    /// Initialize: opens (or re-opens) the NIC; filters and station address survive.
    pub fn initialize(&mut self) -> Result<(), Status> {
        self.need_started()?;
        self.stash_len = None;
        self.n_recycled = 0;
        self.nic.open(&mut self.hal).map_err(nic_status)?;
        self.mode.media_present = self.nic.link_up(&mut self.hal).into();
        self.set_state(NetworkState::INITIALIZED);
        Ok(())
    }

    /// Reset: re-initializes an initialized NIC.
    pub fn reset(&mut self) -> Result<(), Status> {
        self.need_initialized()?;
        self.initialize()
    }

    /// Shutdown: Initialized -> Started, DMA stopped.
    pub fn shutdown(&mut self) -> Result<(), Status> {
        self.need_initialized()?;
        self.quiesce();
        self.set_state(NetworkState::STARTED);
        Ok(())
    }

    /// Stops DMA whatever the state (ExitBootServices, uninstall).
    pub fn quiesce(&mut self) {
        self.nic.close(&mut self.hal);
        self.stash_len = None;
        self.n_recycled = 0;
    }

    /// ReceiveFilters.
    pub fn receive_filters(
        &mut self,
        enable: u32,
        disable: u32,
        reset_mcast: bool,
        mcast: Option<&[[u8; 6]]>,
    ) -> Result<(), Status> {
        self.need_initialized()?;
        let mask = self.mode.receive_filter_mask;
        if (enable | disable) & !mask != 0 {
            return Err(Status::INVALID_PARAMETER);
        }
        let list = if reset_mcast { None } else { mcast };
        if let Some(l) = list {
            if l.len() > MAX_MULTICAST || l.iter().any(|m| !filter::is_group(m)) {
                return Err(Status::INVALID_PARAMETER);
            }
        }
        let mut setting = (self.mode.receive_filter_setting | enable) & !disable;
        let mut f = self.nic.filter();
        if reset_mcast {
            f.set_multicast(&[]);
            setting &= !ReceiveFlags::MULTICAST.bits();
        } else if let Some(l) = list.filter(|l| !l.is_empty()) {
            f.set_multicast(l);
        }
        let flags = ReceiveFlags::from_bits_truncate(setting);
        f.directed = flags.contains(ReceiveFlags::UNICAST);
        f.broadcast = flags.contains(ReceiveFlags::BROADCAST);
        f.promiscuous = flags.contains(ReceiveFlags::PROMISCUOUS);
        f.all_multicast = flags.contains(ReceiveFlags::PROMISCUOUS_MULTICAST);
        if !flags.contains(ReceiveFlags::MULTICAST) {
            f.set_multicast(&[]);
        }
        self.nic.set_filter(&mut self.hal, &f).map_err(nic_status)?;
        self.mode.receive_filter_setting = setting;
        self.sync_filter_mode();
        Ok(())
    }

    /// Mode's multicast list from the driver's filter.
    fn sync_filter_mode(&mut self) {
        let f: RxFilter = self.nic.filter();
        let list = f.multicast();
        self.mode.mcast_filter = [MacAddress([0; 32]); 16];
        for (slot, m) in self.mode.mcast_filter.iter_mut().zip(list) {
            *slot = mac32(*m);
        }
        self.mode.mcast_filter_count = list.len() as u32;
        if self.mode.receive_filter_setting == 0 && self.state == NetworkState::STOPPED {
            // before anyone set filters: what the driver does by default
            let mut s = 0;
            if f.directed {
                s |= ReceiveFlags::UNICAST.bits();
            }
            if f.broadcast {
                s |= ReceiveFlags::BROADCAST.bits();
            }
            self.mode.receive_filter_setting = s;
        }
    }

    /// StationAddress: `None` with `reset` puts the permanent address back.
    pub fn station_address(&mut self, reset: bool, new: Option<[u8; 6]>) -> Result<(), Status> {
        self.need_initialized()?;
        let mac = if reset {
            self.nic.mac()
        } else {
            new.ok_or(Status::INVALID_PARAMETER)?
        };
        self.nic
            .set_station(&mut self.hal, mac)
            .map_err(nic_status)?;
        self.mode.current_address = mac32(self.nic.station());
        Ok(())
    }

    /// Statistics: the counters (unsupported ones all ones); `reset` zeroes them afterwards.
    pub fn statistics(&mut self, reset: bool) -> Result<[u64; N_STATS], Status> {
        self.need_initialized()?;
        self.stats[stat::RX_DROPPED] =
            u64::from(self.nic.rx_dropped().wrapping_sub(self.rx_dropped_base));
        let mut out = [u64::MAX; N_STATS];
        for i in stat::KEPT {
            out[i] = self.stats[i];
        }
        if reset {
            self.stats = [0; N_STATS];
            self.rx_dropped_base = self.nic.rx_dropped();
        }
        Ok(out)
    }

    /// MCastIPtoMAC (RFC 1112 §6.4, RFC 2464 §7).
    pub fn mcast_ip_to_mac(&self, ipv6: bool, ip: &[u8; 16]) -> Result<[u8; 6], Status> {
        self.need_started()?;
        if ipv6 {
            if ip[0] != 0xFF {
                return Err(Status::INVALID_PARAMETER);
            }
            Ok([0x33, 0x33, ip[12], ip[13], ip[14], ip[15]])
        } else {
            if ip[0] & 0xF0 != 0xE0 {
                return Err(Status::INVALID_PARAMETER);
            }
            Ok([0x01, 0x00, 0x5E, ip[1] & 0x7F, ip[2], ip[3]])
        }
    }

    /// NvData: no NVRAM is exposed.
    pub fn nv_data(&self) -> Result<(), Status> {
        self.need_started()?;
        Err(Status::UNSUPPORTED)
    }

    /// Fills the stash from the NIC if it is empty; whether a frame is waiting.
    fn peek(&mut self) -> bool {
        if self.stash_len.is_none() {
            if let Some(n) = self.nic.receive(&mut self.hal, &mut self.stash) {
                self.stash_len = Some(n);
            }
        }
        self.stash_len.is_some()
    }

    /// Whether a frame is waiting (for WaitForPacket); false unless initialized.
    pub fn frame_waiting(&mut self) -> bool {
        self.need_initialized().is_ok() && self.peek()
    }

    /// GetStatus: interrupt bits (RECEIVE when a frame waits, TRANSMIT when a buffer is
    /// recycled) and the next recycled transmit buffer (0: none).
    pub fn get_status(&mut self, want_irq: bool, want_tx: bool) -> Result<(u32, usize), Status> {
        self.need_initialized()?;
        self.mode.media_present = self.nic.link_up(&mut self.hal).into();
        let mut irq = InterruptStatus::empty();
        if want_irq && self.peek() {
            irq |= InterruptStatus::RECEIVE;
        }
        if want_irq && self.n_recycled > 0 {
            irq |= InterruptStatus::TRANSMIT;
        }
        let mut buf = 0;
        if want_tx && self.n_recycled > 0 {
            buf = self.recycled[0];
            self.recycled.copy_within(1..self.n_recycled, 0);
            self.n_recycled -= 1;
        }
        Ok((irq.bits(), buf))
    }

    /// Transmit. `frame` is the caller's buffer (`addr` its address, handed back by
    /// GetStatus); with `header` (dst, src, protocol) the first 14 bytes are filled in.
    pub fn transmit(
        &mut self,
        frame: &[u8],
        addr: usize,
        header: Option<([u8; 6], Option<[u8; 6]>, u16)>,
    ) -> Result<(), Status> {
        self.need_initialized()?;
        if frame.len() > MAX_FRAME_LEN || frame.len() < HEADER {
            return Err(if frame.len() < HEADER {
                Status::BUFFER_TOO_SMALL
            } else {
                Status::INVALID_PARAMETER
            });
        }
        if self.n_recycled == RECYCLE {
            return Err(Status::NOT_READY);
        }
        let mut buf = [0u8; MAX_FRAME_LEN];
        let buf = &mut buf[..frame.len()];
        buf.copy_from_slice(frame);
        if let Some((dst, src, proto)) = header {
            buf[..6].copy_from_slice(&dst);
            buf[6..12].copy_from_slice(&src.unwrap_or_else(|| self.nic.station()));
            buf[12..14].copy_from_slice(&proto.to_be_bytes());
        }
        self.stats[stat::TX_TOTAL] += 1;
        if let Err(e) = self.nic.transmit(&mut self.hal, buf) {
            self.stats[stat::TX_DROPPED] += 1;
            return Err(nic_status(e));
        }
        self.stats[stat::TX_GOOD] += 1;
        self.stats[stat::TX_BYTES] += buf.len() as u64;
        let dst: [u8; 6] = buf[..6].try_into().unwrap_or([0; 6]);
        self.stats[if dst == filter::BROADCAST {
            stat::TX_BROADCAST
        } else if filter::is_group(&dst) {
            stat::TX_MULTICAST
        } else {
            stat::TX_UNICAST
        }] += 1;
        self.recycled[self.n_recycled] = addr;
        self.n_recycled += 1;
        Ok(())
    }

    /// Receive into `out`. BUFFER_TOO_SMALL (with the length needed) keeps the frame.
    pub fn receive(&mut self, out: &mut [u8]) -> Result<RxInfo, (Status, usize)> {
        self.need_initialized().map_err(|s| (s, 0))?;
        loop {
            if !self.peek() {
                return Err((Status::NOT_READY, 0));
            }
            let len = self.stash_len.unwrap_or(0);
            if len >= HEADER {
                break;
            }
            // a runt: count it and look at the next frame
            self.stats[stat::RX_TOTAL] += 1;
            self.stats[stat::RX_UNDERSIZE] += 1;
            self.stash_len = None;
        }
        let len = self.stash_len.unwrap_or(0);
        if out.len() < len {
            return Err((Status::BUFFER_TOO_SMALL, len));
        }
        self.stash_len = None;
        let f = &self.stash[..len];
        out[..len].copy_from_slice(f);
        let dst: [u8; 6] = f[..6].try_into().unwrap_or([0; 6]);
        let src: [u8; 6] = f[6..12].try_into().unwrap_or([0; 6]);
        self.stats[stat::RX_TOTAL] += 1;
        self.stats[stat::RX_GOOD] += 1;
        self.stats[stat::RX_BYTES] += len as u64;
        self.stats[if dst == filter::BROADCAST {
            stat::RX_BROADCAST
        } else if filter::is_group(&dst) {
            stat::RX_MULTICAST
        } else {
            stat::RX_UNICAST
        }] += 1;
        Ok(RxInfo {
            len,
            src,
            dst,
            protocol: u16::from_be_bytes([f[12], f[13]]),
        })
    }
}
