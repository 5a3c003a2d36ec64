//! PXE UNDI API (layer `rom/pxe`, PXE 2.1 §4.4): raw frames in and out of the NIC for NBPs that
//! bring their own stack (iPXE undionly, lpxelinux, FreeBSD, GRUB).
//!
//! Like iPXE, UNDI_OPEN hands every received frame to UNDI_ISR instead of our IP stack until
//! UNDI_CLOSE. UNDI_ISR works purely polled: IN_PROCESS / IN_GET_NEXT poll the NIC and report one
//! event per call (a completed transmit, then one received frame copied into the API's own frame
//! buffer in the scratch area, then DONE). The state calls (START_UNDI, STARTUP, INITIALIZE) are
//! accepted in any order: the NIC is already running when the NBP starts.

use crate::abi::filter;
use crate::abi::{
    isr as isr_flag, mac_field, mac_of, proto, service, McastList, PciNicInfo, SegOff16, StartUndi,
    Status, TbdBlock, UndiIfaceInfo, UndiInformation, UndiIsr, UndiMcast, UndiMcastAddress,
    UndiNicType, UndiOpen, UndiPacketFilter, UndiStationAddress, UndiStatistics, UndiTbd,
    UndiTransmit,
};
use crate::dispatch::{with_block, Action, Reply};
use crate::mem::{phys_range, read_at, read_block, segoff_range, write_at};
use crate::platform::{NicOpen, Platform};
use crate::stack::{PxeStack, Stats, MAX_FRAME, SCRATCH_FRAME};
use softpxe_net::MacAddr;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

impl PxeStack {
    fn take_mcast(&mut self, list: &McastList) {
        let n = usize::from(list.MCastAddrCount).min(8);
        let addrs = list.McastAddr;
        for (dst, src) in self.mcast.iter_mut().zip(addrs.iter()).take(n) {
            *dst = mac_of(src);
        }
        self.n_mcast = n;
    }

    /// What the NIC must receive: the NBP's filter in UNDI_OPEN's raw mode; outside it, also
    /// our own IP path's directed and broadcast frames, whatever the NBP set.
    pub(crate) fn nic_settings(&self) -> NicOpen<'_> {
        let own = if self.raw {
            0
        } else {
            filter::DIRECTED | filter::BRDCST
        };
        NicOpen {
            mac: self.station,
            filter: self.filter | own,
            multicast: &self.mcast[..self.n_mcast],
        }
    }

    /// Program the open NIC with the current settings (a closed one gets them when opened).
    fn reapply(&mut self, p: &mut dyn Platform, failed: Status) -> Status {
        if self.nic_open && !p.nic_configure(&self.nic_settings()) {
            return failed;
        }
        Status::SUCCESS
    }

    fn close_nic(&mut self, p: &mut dyn Platform) {
        if self.raw && p.nic_info().irq != 0 {
            p.set_interrupts(false);
        }
        p.nic_close();
        self.nic_open = false;
        self.raw = false;
        self.rxq.clear();
        p.isr_shared().set_rx_waiting(false);
    }
}

/// START_UNDI: the NIC is already started by the firmware. PXE 2.1 has the caller pass the
/// PCI bus/device/function in AX and, for ISAPnP, the card select number in BX and the read
/// port in DX (FFFFh where they do not apply). There is only one NIC and it is running, so any
/// values are accepted: a loader that found our ISA card passes AX = FFFFh (no PCI function) and
/// BX = DX = FFFFh (not ISAPnP), one that looked at PCI passes what GET_NIC_TYPE said.
pub(crate) fn start_undi(_: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |_: &mut StartUndi, _| Status::SUCCESS.into())
}

/// UNDI_CLEANUP and UNDI_SHUTDOWN: stop the NIC.
pub(crate) fn cleanup(s: &mut PxeStack, p: &mut dyn Platform, _at: SegOff16) -> Reply {
    s.close_tftp(p);
    s.close_nic(p);
    Status::SUCCESS.into()
}

/// UNDI_INITIALIZE (PXE 2.1 §5.4.3): reset the adapter to the default parameters — receive
/// filter directed + broadcast, no multicast list, no UNDI_OPEN raw mode — with its receive and
/// transmit units stopped until UNDI_OPEN (or the base code's next TFTP/UDP call) opens it
/// again. Frames waiting for UNDI_ISR are dropped. The station address stays as set.
pub(crate) fn initialize(s: &mut PxeStack, p: &mut dyn Platform, _at: SegOff16) -> Reply {
    s.close_nic(p);
    s.filter = crate::abi::filter::DIRECTED | crate::abi::filter::BRDCST;
    s.n_mcast = 0;
    Status::SUCCESS.into()
}

/// UNDI_RESET_ADAPTER: new multicast list, close and reopen.
pub(crate) fn reset_adapter(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut UndiMcast, p| {
        s.take_mcast(&b.R_Mcast_Buf);
        p.nic_close();
        s.rxq.clear();
        if s.open_nic(p) {
            Status::SUCCESS.into()
        } else {
            Status::UNDI_CANNOT_INITIALIZE_NIC.into()
        }
    })
}

/// UNDI_OPEN: filter + multicast list; frames go to UNDI_ISR from now on.
pub(crate) fn open(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut UndiOpen, p| {
        s.filter = b.PktFilter;
        s.take_mcast(&b.R_Mcast_Buf);
        p.nic_close();
        // Raw mode first, so that the NIC gets exactly the NBP's filter.
        s.raw = true;
        s.rxq.clear();
        if !s.open_nic(p) {
            s.raw = false;
            return Status::UNDI_CANNOT_INITIALIZE_NIC.into();
        }
        if p.nic_info().irq != 0 {
            p.set_interrupts(true);
        }
        Status::SUCCESS.into()
    })
}

/// UNDI_CLOSE.
pub(crate) fn close(s: &mut PxeStack, p: &mut dyn Platform, _at: SegOff16) -> Reply {
    s.close_nic(p);
    Status::SUCCESS.into()
}

fn ethertype(protocol: u8) -> Option<u16> {
    match protocol {
        proto::P_IP => Some(0x0800),
        proto::P_ARP => Some(0x0806),
        proto::P_RARP => Some(0x8035),
        _ => None,
    }
}

/// Append one buffer to the frame being built; `false` if unreachable or too long.
fn gather(
    p: &dyn Platform,
    frame: &mut [u8; MAX_FRAME],
    len: &mut usize,
    range: Option<(u64, usize)>,
) -> bool {
    let Some((phys, n)) = range else {
        return false;
    };
    let Some(dst) = frame.get_mut(*len..*len + n) else {
        return false;
    };
    if !p.read(phys, dst) {
        return false;
    }
    *len += n;
    true
}

fn block_range(b: &TbdBlock) -> Option<(u64, usize)> {
    let ptr = b.TDDataPtr;
    let n = usize::from(b.TDDataLen);
    match b.TDPtrType {
        1 => segoff_range(ptr.segment, ptr.offset, n),
        0 => phys_range(u32::from(ptr.segment) << 16 | u32::from(ptr.offset), n),
        _ => None,
    }
}

/// UNDI_TRANSMIT: P_UNKNOWN frames carry their media header; otherwise we build it.
pub(crate) fn transmit(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut UndiTransmit, p| {
        let Some(tbd) = read_block::<UndiTbd, _>(&*p, b.TBD) else {
            return Status::UNDI_INVALID_PARAMETER.into();
        };
        let mut len = 0;
        if b.Protocol != proto::P_UNKNOWN {
            let Some(et) = ethertype(b.Protocol) else {
                return Status::UNDI_INVALID_PARAMETER.into();
            };
            let mut dst = [0xFF; 6];
            if b.XmitFlag != proto::XMT_BROADCAST && !read_at(&*p, b.DestAddr, &mut dst) {
                return Status::UNDI_INVALID_PARAMETER.into();
            }
            s.tx[..6].copy_from_slice(&dst);
            s.tx[6..12].copy_from_slice(&s.station);
            s.tx[12..14].copy_from_slice(&et.to_be_bytes());
            len = 14;
        }
        let xmit = tbd.Xmit;
        let immed = segoff_range(xmit.segment, xmit.offset, usize::from(tbd.ImmedLength));
        if !gather(&*p, &mut s.tx, &mut len, immed) {
            return Status::UNDI_INVALID_PARAMETER.into();
        }
        let blocks = tbd.DataBlock;
        let count = usize::from(tbd.DataBlkCount);
        if count > blocks.len() {
            return Status::UNDI_INVALID_PARAMETER.into();
        }
        for blk in &blocks[..count] {
            if !gather(&*p, &mut s.tx, &mut len, block_range(blk)) {
                return Status::UNDI_INVALID_PARAMETER.into();
            }
        }
        if len < 14 {
            return Status::UNDI_INVALID_PARAMETER.into();
        }
        if !s.transmit(p, len) {
            return Status::UNDI_TRANSMIT_ERROR.into();
        }
        s.tx_unreported = s.tx_unreported.saturating_add(1);
        Status::SUCCESS.into()
    })
}

/// UNDI_SET_MCAST_ADDRESS: the NIC's multicast list is reprogrammed at once.
pub(crate) fn set_mcast(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut UndiMcast, p| {
        s.take_mcast(&b.R_Mcast_Buf);
        s.reapply(p, Status::UNDI_CANNOT_INIT_NIC_FOR_MCAST).into()
    })
}

/// UNDI_SET_STATION_ADDRESS: the NIC receives on it (not on the old one), and it is the source
/// of the frames we build and of our IP stack's.
pub(crate) fn set_station(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut UndiStationAddress, p| {
        let mac = mac_of(&b.StationAddress);
        if mac[0] & 1 != 0 || mac == [0; 6] {
            return Status::UNDI_INVALID_PARAMETER.into();
        }
        s.station = mac;
        let ip = s.iface.ip();
        s.iface = softpxe_net::iface::Interface::new(MacAddr(mac));
        s.iface.configure(ip, s.mask, s.gateway);
        s.reapply(p, Status::UNDI_CANNOT_INITIALIZE_NIC).into()
    })
}

/// UNDI_SET_PACKET_FILTER: the NIC is reprogrammed at once (see [`PxeStack::nic_settings`]).
pub(crate) fn set_filter(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut UndiPacketFilter, p| {
        s.filter = u16::from(b.filter);
        s.reapply(p, Status::UNDI_CANNOT_INITIALIZE_NIC).into()
    })
}

/// UNDI_GET_INFORMATION.
pub(crate) fn get_information(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    let info = p.nic_info();
    with_block(p, at, |b: &mut UndiInformation, _| {
        b.BaseIo = info.io_base;
        b.IntNumber = u16::from(info.irq);
        b.MaxTranUnit = 1500;
        b.HwType = 1;
        b.HwAddrLen = 6;
        b.CurrentNodeAddress = mac_field(s.station);
        b.PermNodeAddress = mac_field(s.perm_mac);
        b.ROMAddress = 0;
        b.RxBufCt = info.rx_buffers.max(1);
        b.TxBufCt = info.tx_buffers.max(1);
        Status::SUCCESS.into()
    })
}

/// UNDI_GET_STATISTICS.
pub(crate) fn get_statistics(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut UndiStatistics, _| {
        b.XmtGoodFrames = s.stats.xmt_good;
        b.RcvGoodFrames = s.stats.rcv_good;
        b.RcvCRCErrors = s.stats.rcv_crc;
        b.RcvResourceErrors = s.stats.rcv_resource;
        Status::SUCCESS.into()
    })
}

/// UNDI_CLEAR_STATISTICS.
pub(crate) fn clear_statistics(s: &mut PxeStack, _: &mut dyn Platform, _: SegOff16) -> Reply {
    s.stats = Stats::default();
    Status::SUCCESS.into()
}

/// UNDI_GET_MCAST_ADDRESS: RFC 1112 §6.4 mapping of a class D address.
pub(crate) fn get_mcast(_: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut UndiMcastAddress, _| {
        let ip = b.InetAddr;
        if ip[0] & 0xF0 != 0xE0 {
            return Status::UNDI_INVALID_PARAMETER.into();
        }
        b.MediaAddr = mac_field([0x01, 0x00, 0x5E, ip[1] & 0x7F, ip[2], ip[3]]);
        Status::SUCCESS.into()
    })
}

/// `s_PXENV_UNDI_GET_NIC_TYPE` with its `pnp_nic_info` member (PXE 2.1 §4.4.13): 17 bytes like
/// [`UndiNicType`], whose union is as large as the PCI member.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C, packed)]
#[allow(non_snake_case)]
struct PnpNicType {
    Status: u16,
    NicType: u8,
    EISA_Dev_ID: u32,
    Base_Class: u8,
    Sub_Class: u8,
    Prog_Intf: u8,
    CardSelNum: u16,
    rest: [u8; 5],
}
const _: () = assert!(core::mem::size_of::<PnpNicType>() == 17);

/// `NicType` values (PXE 2.1 §4.4.13).
const PCI_NIC: u8 = 2;
const PNP_NIC: u8 = 3;

/// UNDI_GET_NIC_TYPE: `PCI_NIC` with the PCI identity, or for an ISA card `PnP_NIC` with its
/// EISA ID and class 02h/00h (PXE 2.1 has no type for a legacy ISA board; PnP is the ISA one).
pub(crate) fn get_nic_type(_: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    let info = p.nic_info();
    if let Some(isa) = info.isa {
        return with_block(p, at, |b: &mut PnpNicType, _| {
            b.NicType = PNP_NIC;
            b.EISA_Dev_ID = isa.eisa_id;
            b.Base_Class = 2;
            b.Sub_Class = 0;
            b.Prog_Intf = 0;
            b.CardSelNum = isa.csn;
            b.rest = [0; 5];
            Status::SUCCESS.into()
        });
    }
    let pci = info.pci;
    with_block(p, at, |b: &mut UndiNicType, _| {
        b.NicType = PCI_NIC;
        b.info = PciNicInfo {
            Vendor_ID: pci.vendor,
            Dev_ID: pci.device,
            Base_Class: pci.base_class,
            Sub_Class: pci.sub_class,
            Prog_Intf: pci.prog_if,
            Rev: pci.revision,
            BusDevFunc: pci.bus_dev_fn,
            SubVendor_ID: pci.subsys_vendor,
            SubDevice_ID: pci.subsys_device,
        };
        Status::SUCCESS.into()
    })
}

/// UNDI_GET_IFACE_INFO.
pub(crate) fn get_iface_info(_: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    let info = p.nic_info();
    with_block(p, at, |b: &mut UndiIfaceInfo, _| {
        let mut name = [0u8; 16];
        name[..9].copy_from_slice(b"DIX+802.3");
        b.IfaceType = name;
        b.LinkSpeed = info.link_speed;
        b.ServiceFlags = service::BROADCAST
            | service::MULTICAST
            | service::PROMISCUOUS
            | service::SET_STATION_ADDRESS
            | service::RESET
            | service::OPEN_CLOSE
            | if info.irq != 0 { service::IRQ } else { 0 };
        b.Reserved = [0; 4];
        Status::SUCCESS.into()
    })
}

fn classify(frame: &[u8], station: [u8; 6]) -> (u8, u8) {
    let et = match frame.get(12..14) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    };
    let prot = match et {
        0x0800 => proto::P_IP,
        0x0806 => proto::P_ARP,
        0x8035 => proto::P_RARP,
        _ => proto::P_OTHER,
    };
    let pkt = match frame.get(..6) {
        Some(d) if d == [0xFF; 6] => proto::P_BROADCAST,
        Some(d) if d[0] & 1 != 0 && d != station => proto::P_MULTICAST,
        _ => proto::P_DIRECTED,
    };
    (prot, pkt)
}

/// UNDI_ISR.
pub(crate) fn isr(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut UndiIsr, p| match b.FuncFlag {
        isr_flag::IN_START => {
            // Polled callers (lpxelinux, FreeBSD, iPXE's undinet without an IRQ) ask IN_START
            // first: look at the NIC now, and say OURS while anything waits to be reported.
            let irq = p.ack_interrupt();
            s.poll(p);
            let ours = irq || !s.rxq.is_empty() || s.tx_unreported > 0;
            b.FuncFlag = if ours {
                isr_flag::OUT_OURS
            } else {
                isr_flag::OUT_NOT_OURS
            };
            Status::SUCCESS.into()
        }
        isr_flag::IN_PROCESS | isr_flag::IN_GET_NEXT => {
            s.poll(p);
            if s.tx_unreported > 0 {
                s.tx_unreported -= 1;
                b.FuncFlag = isr_flag::OUT_TRANSMIT;
                return Status::SUCCESS.into();
            }
            let station = s.station;
            let mut frame = [0u8; MAX_FRAME];
            match s.rxq.take(|_| true, &mut frame) {
                Some(((), len, copied)) => {
                    let at = s.scratch_at(SCRATCH_FRAME);
                    if !write_at(p, at, &frame[..copied]) {
                        return Status::FAILURE.into();
                    }
                    let (prot, pkt) = classify(&frame[..copied], station);
                    b.FuncFlag = isr_flag::OUT_RECEIVE;
                    b.BufferLength = copied as u16;
                    b.FrameLength = len as u16;
                    b.FrameHeaderLength = 14;
                    b.Frame = at;
                    b.ProtType = prot;
                    b.PktType = pkt;
                }
                None => {
                    b.FuncFlag = isr_flag::OUT_DONE;
                    if s.raw && p.nic_info().irq != 0 {
                        p.set_interrupts(true);
                    }
                }
            }
            p.isr_shared().set_rx_waiting(!s.rxq.is_empty());
            Status::SUCCESS.into()
        }
        _ => Status::UNDI_INVALID_PARAMETER.into(),
    })
}

/// STOP_UNDI: close the NIC; if the hooks can go, ask the firmware to unload, else KEEP_UNDI.
pub(crate) fn stop_undi(s: &mut PxeStack, p: &mut dyn Platform, _at: SegOff16) -> Reply {
    s.close_tftp(p);
    s.close_nic(p);
    s.udp_open = false;
    if !p.hooks_removable() {
        return Status::KEEP_UNDI.into();
    }
    s.stopped = true;
    Reply {
        status: Status::SUCCESS,
        action: Some(Action::Unload),
    }
}
