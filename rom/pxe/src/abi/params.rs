//! Parameter blocks of every PXE 2.1 API call (PXE 2.1 §3.2–§3.4 preboot/TFTP/UDP, §4.4 UNDI),
//! byte-exact, with the spec's field names as `#[doc(alias)]`. `MAC_ADDR` is 16 bytes (the first
//! `HwAddrLen` used); `IP4` is 4 bytes in network order; `UDP_PORT` is big-endian.

use super::SegOff16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// A `MAC_ADDR` field: 16 bytes, the first 6 used for Ethernet.
pub type MacField = [u8; 16];
/// Longest parameter block (TFTP_READ_FILE).
pub const MAX_PARAMS: usize = 158;

/// A MAC as a 16-byte `MAC_ADDR` field.
pub const fn mac_field(mac: [u8; 6]) -> MacField {
    let mut f = [0u8; 16];
    let mut i = 0;
    while i < 6 {
        f[i] = mac[i];
        i += 1;
    }
    f
}

/// The first 6 bytes of a `MAC_ADDR` field.
pub fn mac_of(field: &MacField) -> [u8; 6] {
    [field[0], field[1], field[2], field[3], field[4], field[5]]
}

macro_rules! block {
    ($(#[$m:meta])* $alias:literal $name:ident, $size:literal { $( $(#[$fm:meta])* $field:ident : $ty:ty, )* }) => {
        $(#[$m])*
        #[doc(alias = $alias)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
        #[repr(C, packed)]
        #[allow(non_snake_case)]
        pub struct $name { $( $(#[$fm])* pub $field: $ty, )* }
        const _: () = assert!(core::mem::size_of::<$name>() == $size);
        const _: () = assert!(core::mem::size_of::<$name>() <= MAX_PARAMS);
    };
}

block!(/// A block holding only `Status` (STARTUP, CLEANUP, SHUTDOWN, CLOSE, CLEAR_STATISTICS,
    /// INITIATE_DIAGS, FORCE_INTERRUPT, STOP_UNDI, TFTP_CLOSE, UDP_CLOSE, START_BASE, STOP_BASE).
    "PXENV_UNDI_STARTUP" StatusOnly, 2 { Status: u16, });

block!(/// START_UNDI: the registers the option ROM init got (PCI bus:dev.fn in AX).
    "s_PXENV_START_UNDI" StartUndi, 12 {
    Status: u16, AX: u16, BX: u16, DX: u16, DI: u16, ES: u16,
});

block!(/// UNDI_INITIALIZE: NDIS ProtocolIni pointer (ignored) and reserved bytes.
    "s_PXENV_UNDI_INITIALIZE" UndiInitialize, 14 {
    Status: u16, ProtocolIni: u32, reserved: [u8; 8],
});

block!(/// A multicast address list (up to 8).
    "s_PXENV_UNDI_MCAST_ADDRESS" McastList, 130 {
    MCastAddrCount: u16, McastAddr: [MacField; 8],
});

block!(/// UNDI_RESET_ADAPTER and UNDI_SET_MCAST_ADDRESS: status + multicast list.
    "s_PXENV_UNDI_RESET" UndiMcast, 132 { Status: u16, R_Mcast_Buf: McastList, });

block!(/// UNDI_OPEN.
    "s_PXENV_UNDI_OPEN" UndiOpen, 136 {
    Status: u16,
    /// NDIS open options (ignored; 0 is always valid).
    OpenFlag: u16,
    /// `FLTR_*` bits.
    PktFilter: u16,
    R_Mcast_Buf: McastList,
});

block!(/// UNDI_TRANSMIT.
    "s_PXENV_UNDI_TRANSMIT" UndiTransmit, 20 {
    Status: u16,
    /// `P_UNKNOWN` (media header in the buffer), `P_IP`, `P_ARP`, `P_RARP`.
    Protocol: u8,
    /// `XMT_DESTADDR` or `XMT_BROADCAST`.
    XmitFlag: u8,
    /// Far pointer to the 6-byte destination MAC.
    DestAddr: SegOff16,
    /// Far pointer to the [`UndiTbd`].
    TBD: SegOff16,
    Reserved: [u32; 2],
});

block!(/// One data block of a transmit buffer descriptor.
    "DataBlk" TbdBlock, 8 {
    /// 1 = `TDDataPtr` is a SEGOFF16, 0 = a 32-bit physical address.
    TDPtrType: u8, TDRsvdByte: u8, TDDataLen: u16, TDDataPtr: SegOff16,
});

block!(/// Transmit buffer descriptor: immediate buffer + up to 8 more blocks.
    "s_PXENV_UNDI_TBD" UndiTbd, 72 {
    ImmedLength: u16, Xmit: SegOff16, DataBlkCount: u16, DataBlock: [TbdBlock; 8],
});

block!(/// UNDI_SET_STATION_ADDRESS.
    "s_PXENV_UNDI_SET_STATION_ADDRESS" UndiStationAddress, 18 {
    Status: u16, StationAddress: MacField,
});

block!(/// UNDI_SET_PACKET_FILTER (one byte, unlike UNDI_OPEN's word).
    "s_PXENV_UNDI_SET_PACKET_FILTER" UndiPacketFilter, 3 { Status: u16, filter: u8, });

block!(/// UNDI_GET_INFORMATION.
    "s_PXENV_UNDI_GET_INFORMATION" UndiInformation, 50 {
    Status: u16, BaseIo: u16, IntNumber: u16, MaxTranUnit: u16, HwType: u16, HwAddrLen: u16,
    CurrentNodeAddress: MacField, PermNodeAddress: MacField, ROMAddress: u16, RxBufCt: u16,
    TxBufCt: u16,
});

block!(/// UNDI_GET_STATISTICS.
    "s_PXENV_UNDI_GET_STATISTICS" UndiStatistics, 18 {
    Status: u16, XmtGoodFrames: u32, RcvGoodFrames: u32, RcvCRCErrors: u32,
    RcvResourceErrors: u32,
});

block!(/// UNDI_GET_MCAST_ADDRESS.
    "s_PXENV_UNDI_GET_MCAST_ADDRESS" UndiMcastAddress, 22 {
    Status: u16, InetAddr: [u8; 4], MediaAddr: MacField,
});

block!(/// PCI part of UNDI_GET_NIC_TYPE (also CardBus).
    "pci_nic_info" PciNicInfo, 14 {
    Vendor_ID: u16, Dev_ID: u16, Base_Class: u8, Sub_Class: u8, Prog_Intf: u8, Rev: u8,
    BusDevFunc: u16, SubVendor_ID: u16, SubDevice_ID: u16,
});

block!(/// UNDI_GET_NIC_TYPE (the info union is as large as its PCI member).
    "s_PXENV_UNDI_GET_NIC_TYPE" UndiNicType, 17 {
    Status: u16,
    /// 2 PCI, 3 PnP, 4 CardBus.
    NicType: u8,
    info: PciNicInfo,
});

block!(/// UNDI_GET_IFACE_INFO.
    "s_PXENV_UNDI_GET_IFACE_INFO" UndiIfaceInfo, 42 {
    Status: u16, IfaceType: [u8; 16], LinkSpeed: u32, ServiceFlags: u32, Reserved: [u32; 4],
});

block!(/// UNDI_ISR.
    "s_PXENV_UNDI_ISR" UndiIsr, 16 {
    Status: u16,
    /// In: `ISR_IN_*`; out: `ISR_OUT_*`.
    FuncFlag: u16,
    /// Bytes of the frame in the buffer.
    BufferLength: u16,
    /// Whole frame length.
    FrameLength: u16,
    /// Media header length (14).
    FrameHeaderLength: u16,
    /// The frame, in a buffer the API owns.
    Frame: SegOff16,
    /// `P_IP`, `P_ARP`, `P_RARP`, `P_OTHER`.
    ProtType: u8,
    /// `P_DIRECTED`, `P_BROADCAST`, `P_MULTICAST`.
    PktType: u8,
});

block!(/// TFTP_OPEN.
    "s_PXENV_TFTP_OPEN" TftpOpen, 142 {
    Status: u16, ServerIPAddress: [u8; 4], GatewayIPAddress: [u8; 4], FileName: [u8; 128],
    /// Big-endian; 0 = 69.
    TFTPPort: u16,
    /// In: wanted packet size (>= 512); out: the size TFTP_READ hands out.
    PacketSize: u16,
});

block!(/// TFTP_READ.
    "s_PXENV_TFTP_READ" TftpRead, 10 {
    Status: u16, PacketNumber: u16, BufferSize: u16, Buffer: SegOff16,
});

block!(/// TFTP_READ_FILE (and RESTART_TFTP).
    "s_PXENV_TFTP_READ_FILE" TftpReadFile, 158 {
    Status: u16, FileName: [u8; 128],
    /// In: buffer size; out: file size.
    BufferSize: u32,
    /// 32-bit physical address.
    Buffer: u32,
    ServerIPAddress: [u8; 4], GatewayIPAddress: [u8; 4], McastIPAddress: [u8; 4],
    TFTPClntPort: u16, TFTPSrvPort: u16, TFTPOpenTimeOut: u16, TFTPReopenDelay: u16,
});

block!(/// TFTP_GET_FSIZE.
    "s_PXENV_TFTP_GET_FSIZE" TftpGetFsize, 142 {
    Status: u16, ServerIPAddress: [u8; 4], GatewayIPAddress: [u8; 4], FileName: [u8; 128],
    FileSize: u32,
});

block!(/// UDP_OPEN.
    "s_PXENV_UDP_OPEN" UdpOpen, 6 { Status: u16, src_ip: [u8; 4], });

block!(/// UDP_READ.
    "s_PXENV_UDP_READ" UdpRead, 20 {
    Status: u16, src_ip: [u8; 4], dest_ip: [u8; 4], s_port: u16, d_port: u16,
    buffer_size: u16, buffer: SegOff16,
});

block!(/// UDP_WRITE.
    "s_PXENV_UDP_WRITE" UdpWrite, 20 {
    Status: u16, ip: [u8; 4], gw: [u8; 4], src_port: u16, dst_port: u16, buffer_size: u16,
    buffer: SegOff16,
});

block!(/// UNLOAD_STACK.
    "s_PXENV_UNLOAD_STACK" UnloadStack, 12 { Status: u16, reserved: [u8; 10], });

block!(/// GET_CACHED_INFO.
    "s_PXENV_GET_CACHED_INFO" GetCachedInfo, 12 {
    Status: u16,
    /// 1 DHCPDISCOVER, 2 DHCPACK, 3 cached (proxy / boot server) reply.
    PacketType: u16,
    /// In: 0 = "give me your copy", else the caller's buffer size; out: bytes.
    BufferSize: u16,
    Buffer: SegOff16,
    /// Left untouched (NBPs fill or ignore it).
    BufferLimit: u16,
});

/// `FLTR_*` receive filter bits (UNDI_OPEN, UNDI_SET_PACKET_FILTER).
pub mod filter {
    /// Frames to our MAC and to enabled multicast addresses.
    pub const DIRECTED: u16 = 0x0001;
    /// Broadcast frames.
    pub const BRDCST: u16 = 0x0002;
    /// Everything.
    pub const PRMSCS: u16 = 0x0004;
    /// Source-routed frames.
    pub const SRC_RTG: u16 = 0x0008;
}

/// UNDI_TRANSMIT `Protocol` and UNDI_ISR `ProtType` values.
pub mod proto {
    /// Media header already in the buffer.
    pub const P_UNKNOWN: u8 = 0;
    /// IPv4 (0x0800).
    pub const P_IP: u8 = 1;
    /// ARP (0x0806).
    pub const P_ARP: u8 = 2;
    /// RARP (0x8035).
    pub const P_RARP: u8 = 3;
    /// Anything else.
    pub const P_OTHER: u8 = 4;
    /// XmitFlag: send to DestAddr.
    pub const XMT_DESTADDR: u8 = 0;
    /// XmitFlag: broadcast.
    pub const XMT_BROADCAST: u8 = 1;
    /// PktType: unicast.
    pub const P_DIRECTED: u8 = 0;
    /// PktType: broadcast.
    pub const P_BROADCAST: u8 = 1;
    /// PktType: multicast.
    pub const P_MULTICAST: u8 = 2;
}

/// UNDI_ISR `FuncFlag` values.
pub mod isr {
    /// In: is this interrupt ours?
    pub const IN_START: u16 = 1;
    /// In: start processing.
    pub const IN_PROCESS: u16 = 2;
    /// In: next event.
    pub const IN_GET_NEXT: u16 = 3;
    /// Out (IN_START): ours.
    pub const OUT_OURS: u16 = 0;
    /// Out (IN_START): not ours.
    pub const OUT_NOT_OURS: u16 = 1;
    /// Out: nothing more.
    pub const OUT_DONE: u16 = 0;
    /// Out: a transmit completed.
    pub const OUT_TRANSMIT: u16 = 2;
    /// Out: a frame was received (see the other fields).
    pub const OUT_RECEIVE: u16 = 3;
    /// Out: busy (already processing).
    pub const OUT_BUSY: u16 = 4;
}

/// UNDI_GET_IFACE_INFO `ServiceFlags` bits (NDIS 2.0).
pub mod service {
    /// Broadcast supported.
    pub const BROADCAST: u32 = 0x0001;
    /// Multicast supported.
    pub const MULTICAST: u32 = 0x0002;
    /// Promiscuous supported.
    pub const PROMISCUOUS: u32 = 0x0008;
    /// Station address can be set.
    pub const SET_STATION_ADDRESS: u32 = 0x0010;
    /// Reset supported.
    pub const RESET: u32 = 0x0400;
    /// Open/close supported.
    pub const OPEN_CLOSE: u32 = 0x0800;
    /// Interrupt request supported.
    pub const IRQ: u32 = 0x1000;
}

/// GET_CACHED_INFO `PacketType` values.
pub mod packet_type {
    /// Our DHCPDISCOVER.
    pub const DHCP_DISCOVER: u16 = 1;
    /// The DHCPACK.
    pub const DHCP_ACK: u16 = 2;
    /// The proxyDHCP / boot server reply (or the ACK).
    pub const CACHED_REPLY: u16 = 3;
}
