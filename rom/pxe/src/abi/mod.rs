//! The PXE 2.1 ABI (layer `rom/pxe`): opcodes, status codes, SEGOFF16 and every raw structure
//! an NBP sees, byte for byte (PXE 2.1 §3 "PXE API service descriptions", §4.4 "UNDI API").
//!
//! Opcodes and status codes are integer newtypes, never Rust enums: an NBP may pass any value.
//! Structs are `#[repr(C, packed)]` with `zerocopy` derives so they are read from and written to
//! NBP memory without unsafe code; every size is asserted at compile time. All PXE targets are
//! little-endian x86; multi-byte fields are native integers (little-endian) except where PXE says
//! network byte order (`IP4` addresses are kept as `[u8; 4]`, `UDP_PORT` fields are raw `u16`
//! whose bytes are big-endian: use [`port_from_wire`] / [`port_to_wire`]).

pub mod params;
pub mod structs;

pub use params::*;
pub use structs::*;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

const _: () = assert!(
    cfg!(target_endian = "little"),
    "PXE structures are little-endian"
);

/// A real-mode far pointer as stored in PXE structures: offset first, then segment.
#[doc(alias = "SEGOFF16")]
#[doc(alias = "SEGOFF16_t")]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C, packed)]
pub struct SegOff16 {
    /// Offset within the segment.
    pub offset: u16,
    /// Real-mode segment (paragraph number).
    pub segment: u16,
}
const _: () = assert!(core::mem::size_of::<SegOff16>() == 4);

impl SegOff16 {
    /// `segment:offset`.
    pub const fn new(segment: u16, offset: u16) -> Self {
        SegOff16 { offset, segment }
    }
    /// The 20-bit (plus HMA) linear address `segment * 16 + offset`.
    pub const fn linear(self) -> u32 {
        (self.segment as u32) * 16 + self.offset as u32
    }
    /// This pointer moved forward by `n` bytes within its segment (`None` past 64 KiB).
    pub const fn add(self, n: u16) -> Option<Self> {
        match self.offset.checked_add(n) {
            Some(offset) => Some(SegOff16 {
                offset,
                segment: self.segment,
            }),
            None => None,
        }
    }
    /// Whether both halves are zero (a NULL far pointer).
    pub const fn is_null(self) -> bool {
        self.offset == 0 && self.segment == 0
    }
}

/// A PXE API function number (`BX` for PXENV+, the pushed word for !PXE).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Opcode(pub u16);

macro_rules! consts {
    ($ty:ident { $( $(#[$m:meta])* $name:ident = $val:expr, $alias:literal; )* }) => {
        impl $ty {
            $( $(#[$m])* #[doc(alias = $alias)] pub const $name: $ty = $ty($val); )*
            /// The spec name of a known value (`PXENV_...`), for logs.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $val => Some($alias), )*
                    _ => None,
                }
            }
        }
    };
}

consts!(Opcode {
    /// Start the UNDI driver (PXE 2.1 §4.4.1).
    START_UNDI = 0x0000, "PXENV_START_UNDI";
    /// UNDI startup.
    UNDI_STARTUP = 0x0001, "PXENV_UNDI_STARTUP";
    /// UNDI cleanup.
    UNDI_CLEANUP = 0x0002, "PXENV_UNDI_CLEANUP";
    /// UNDI initialize.
    UNDI_INITIALIZE = 0x0003, "PXENV_UNDI_INITIALIZE";
    /// Reset the adapter.
    UNDI_RESET_ADAPTER = 0x0004, "PXENV_UNDI_RESET_ADAPTER";
    /// Shut the adapter down.
    UNDI_SHUTDOWN = 0x0005, "PXENV_UNDI_SHUTDOWN";
    /// Open the adapter for raw frames.
    UNDI_OPEN = 0x0006, "PXENV_UNDI_OPEN";
    /// Close the adapter.
    UNDI_CLOSE = 0x0007, "PXENV_UNDI_CLOSE";
    /// Transmit a frame.
    UNDI_TRANSMIT = 0x0008, "PXENV_UNDI_TRANSMIT";
    /// Set the multicast address list.
    UNDI_SET_MCAST_ADDRESS = 0x0009, "PXENV_UNDI_SET_MCAST_ADDRESS";
    /// Set the station MAC address.
    UNDI_SET_STATION_ADDRESS = 0x000A, "PXENV_UNDI_SET_STATION_ADDRESS";
    /// Set the receive filter.
    UNDI_SET_PACKET_FILTER = 0x000B, "PXENV_UNDI_SET_PACKET_FILTER";
    /// Adapter information.
    UNDI_GET_INFORMATION = 0x000C, "PXENV_UNDI_GET_INFORMATION";
    /// Frame counters.
    UNDI_GET_STATISTICS = 0x000D, "PXENV_UNDI_GET_STATISTICS";
    /// Reset the frame counters.
    UNDI_CLEAR_STATISTICS = 0x000E, "PXENV_UNDI_CLEAR_STATISTICS";
    /// Run adapter diagnostics.
    UNDI_INITIATE_DIAGS = 0x000F, "PXENV_UNDI_INITIATE_DIAGS";
    /// Make the adapter raise an interrupt.
    UNDI_FORCE_INTERRUPT = 0x0010, "PXENV_UNDI_FORCE_INTERRUPT";
    /// Multicast IP -> MAC.
    UNDI_GET_MCAST_ADDRESS = 0x0011, "PXENV_UNDI_GET_MCAST_ADDRESS";
    /// Bus type and IDs of the adapter.
    UNDI_GET_NIC_TYPE = 0x0012, "PXENV_UNDI_GET_NIC_TYPE";
    /// Interface type, link speed, service flags.
    UNDI_GET_IFACE_INFO = 0x0013, "PXENV_UNDI_GET_IFACE_INFO";
    /// Interrupt service: "ours?", then hand out received frames.
    UNDI_ISR = 0x0014, "PXENV_UNDI_ISR";
    /// Stop UNDI and unhook (also `PXENV_UNDI_GET_STATE`, which collides with it).
    STOP_UNDI = 0x0015, "PXENV_STOP_UNDI";
    /// Open a TFTP transfer.
    TFTP_OPEN = 0x0020, "PXENV_TFTP_OPEN";
    /// Close the TFTP transfer.
    TFTP_CLOSE = 0x0021, "PXENV_TFTP_CLOSE";
    /// Read the next TFTP packet.
    TFTP_READ = 0x0022, "PXENV_TFTP_READ";
    /// Read a whole file to a 32-bit physical address.
    TFTP_READ_FILE = 0x0023, "PXENV_TFTP_READ_FILE";
    /// Pre-2.1 (WfM 1.1a) protected-mode READ_FILE; not part of PXE 2.1.
    TFTP_READ_FILE_PMODE = 0x0024, "PXENV_TFTP_READ_FILE_PMODE";
    /// File size via the `tsize` option.
    TFTP_GET_FSIZE = 0x0025, "PXENV_TFTP_GET_FSIZE";
    /// Open UDP.
    UDP_OPEN = 0x0030, "PXENV_UDP_OPEN";
    /// Close UDP.
    UDP_CLOSE = 0x0031, "PXENV_UDP_CLOSE";
    /// Receive one UDP datagram (non-blocking).
    UDP_READ = 0x0032, "PXENV_UDP_READ";
    /// Send one UDP datagram.
    UDP_WRITE = 0x0033, "PXENV_UDP_WRITE";
    /// Unload the base code.
    UNLOAD_STACK = 0x0070, "PXENV_UNLOAD_STACK";
    /// The cached DHCP packets.
    GET_CACHED_INFO = 0x0071, "PXENV_GET_CACHED_INFO";
    /// Pre-2.1: restart DHCP.
    RESTART_DHCP = 0x0072, "PXENV_RESTART_DHCP";
    /// Download a new NBP to 0:7C00 and start it.
    RESTART_TFTP = 0x0073, "PXENV_RESTART_TFTP";
    /// Pre-2.1: mode switch.
    MODE_SWITCH = 0x0074, "PXENV_MODE_SWITCH";
    /// Restart the base code.
    START_BASE = 0x0075, "PXENV_START_BASE";
    /// Stop the base code.
    STOP_BASE = 0x0076, "PXENV_STOP_BASE";
});

/// A PXE status code, stored in the first word of every parameter block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Status(pub u16);

consts!(Status {
    /// Success.
    SUCCESS = 0x00, "PXENV_STATUS_SUCCESS";
    /// General failure (also: a parameter block or buffer the API cannot reach).
    FAILURE = 0x01, "PXENV_STATUS_FAILURE";
    /// Invalid function number.
    BAD_FUNC = 0x02, "PXENV_STATUS_BAD_FUNC";
    /// Function not supported.
    UNSUPPORTED = 0x03, "PXENV_STATUS_UNSUPPORTED";
    /// UNDI must stay in memory (INT 1Ah could not be unhooked).
    KEEP_UNDI = 0x04, "PXENV_STATUS_KEEP_UNDI";
    /// Everything must stay in memory.
    KEEP_ALL = 0x05, "PXENV_STATUS_KEEP_ALL";
    /// Out of resources (buffer too small).
    OUT_OF_RESOURCES = 0x06, "PXENV_STATUS_OUT_OF_RESOURCES";
    /// ARP got no answer.
    ARP_TIMEOUT = 0x11, "PXENV_STATUS_ARP_TIMEOUT";
    /// UDP is not open.
    UDP_CLOSED = 0x18, "PXENV_STATUS_UDP_CLOSED";
    /// UDP is already open.
    UDP_OPEN = 0x19, "PXENV_STATUS_UDP_OPEN";
    /// TFTP is not open.
    TFTP_CLOSED = 0x1A, "PXENV_STATUS_TFTP_CLOSED";
    /// A TFTP transfer is already open.
    TFTP_OPEN = 0x1B, "PXENV_STATUS_TFTP_OPEN";
    /// Memory copy problem.
    MCOPY_PROBLEM = 0x20, "PXENV_STATUS_MCOPY_PROBLEM";
    /// TFTP server (or gateway) did not answer ARP.
    TFTP_CANNOT_ARP_ADDRESS = 0x30, "PXENV_STATUS_TFTP_CANNOT_ARP_ADDRESS";
    /// No answer to the read request.
    TFTP_OPEN_TIMEOUT = 0x32, "PXENV_STATUS_TFTP_OPEN_TIMEOUT";
    /// Unknown TFTP opcode.
    TFTP_UNKNOWN_OPCODE = 0x33, "PXENV_STATUS_TFTP_UNKNOWN_OPCODE";
    /// The server stopped sending.
    TFTP_READ_TIMEOUT = 0x35, "PXENV_STATUS_TFTP_READ_TIMEOUT";
    /// The server sent an ERROR packet.
    TFTP_ERROR_OPCODE = 0x36, "PXENV_STATUS_TFTP_ERROR_OPCODE";
    /// No route to the server.
    TFTP_CANNOT_OPEN_CONNECTION = 0x38, "PXENV_STATUS_TFTP_CANNOT_OPEN_CONNECTION";
    /// Reading failed.
    TFTP_CANNOT_READ_FROM_CONNECTION = 0x39, "PXENV_STATUS_TFTP_CANNOT_READ_FROM_CONNECTION";
    /// Too many packets.
    TFTP_TOO_MANY_PACKAGES = 0x3A, "PXENV_STATUS_TFTP_TOO_MANY_PACKAGES";
    /// TFTP error 1.
    TFTP_FILE_NOT_FOUND = 0x3B, "PXENV_STATUS_TFTP_FILE_NOT_FOUND";
    /// TFTP error 2.
    TFTP_ACCESS_VIOLATION = 0x3C, "PXENV_STATUS_TFTP_ACCESS_VIOLATION";
    /// No multicast address for MTFTP.
    TFTP_NO_MCAST_ADDRESS = 0x3D, "PXENV_STATUS_TFTP_NO_MCAST_ADDRESS";
    /// The server did not report `tsize`.
    TFTP_NO_FILESIZE = 0x3E, "PXENV_STATUS_TFTP_NO_FILESIZE";
    /// Bad PacketSize.
    TFTP_INVALID_PACKET_SIZE = 0x3F, "PXENV_STATUS_TFTP_INVALID_PACKET_SIZE";
    /// DHCP timeout.
    DHCP_TIMEOUT = 0x51, "PXENV_STATUS_DHCP_TIMEOUT";
    /// No IP address.
    DHCP_NO_IP_ADDRESS = 0x52, "PXENV_STATUS_DHCP_NO_IP_ADDRESS";
    /// No boot file name.
    DHCP_NO_BOOTFILE_NAME = 0x53, "PXENV_STATUS_DHCP_NO_BOOTFILE_NAME";
    /// Bad IP address.
    DHCP_BAD_IP_ADDRESS = 0x54, "PXENV_STATUS_DHCP_BAD_IP_ADDRESS";
    /// UNDI: invalid function.
    UNDI_INVALID_FUNCTION = 0x60, "PXENV_STATUS_UNDI_INVALID_FUNCTION";
    /// UNDI: media test failed.
    UNDI_MEDIATEST_FAILED = 0x61, "PXENV_STATUS_UNDI_MEDIATEST_FAILED";
    /// UNDI: cannot set up multicast.
    UNDI_CANNOT_INIT_NIC_FOR_MCAST = 0x62, "PXENV_STATUS_UNDI_CANNOT_INIT_NIC_FOR_MCAST";
    /// UNDI: the adapter could not be opened.
    UNDI_CANNOT_INITIALIZE_NIC = 0x63, "PXENV_STATUS_UNDI_CANNOT_INITIALIZE_NIC";
    /// UNDI: PHY problem.
    UNDI_CANNOT_INITIALIZE_PHY = 0x64, "PXENV_STATUS_UNDI_CANNOT_INITIALIZE_PHY";
    /// UNDI: invalid state.
    UNDI_INVALID_STATE = 0x6A, "PXENV_STATUS_UNDI_INVALID_STATE";
    /// UNDI: the frame could not be sent.
    UNDI_TRANSMIT_ERROR = 0x6B, "PXENV_STATUS_UNDI_TRANSMIT_ERROR";
    /// UNDI: invalid parameter (length, protocol, pointer type).
    UNDI_INVALID_PARAMETER = 0x6C, "PXENV_STATUS_UNDI_INVALID_PARAMETER";
    /// Boot file too big.
    BSTRAP_FILE_TOO_BIG = 0x79, "PXENV_STATUS_BSTRAP_FILE_TOO_BIG";
});

/// `AX` after a successful call.
#[doc(alias = "PXENV_EXIT_SUCCESS")]
pub const EXIT_SUCCESS: u16 = 0x0000;
/// `AX` after a failed call (the status says why).
#[doc(alias = "PXENV_EXIT_FAILURE")]
pub const EXIT_FAILURE: u16 = 0x0001;

/// A `UDP_PORT` field (network byte order in memory) as a host port number.
pub const fn port_from_wire(raw: u16) -> u16 {
    u16::from_be(raw)
}

/// A host port number as a `UDP_PORT` field value.
pub const fn port_to_wire(port: u16) -> u16 {
    port.to_be()
}

/// Byte sum of `bytes` (checksums make the sum of a whole structure 0).
pub fn byte_sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b))
}
