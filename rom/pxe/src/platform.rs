//! What the firmware provides to the PXE API (layer `rom/pxe`): memory, the NIC, time, a pump,
//! and the small interrupt-safe state that answers a nested `UNDI_ISR IN_START`.

use crate::mem::Memory;
use core::sync::atomic::{AtomicBool, Ordering};
use softpxe_net::Instant;

/// PCI identity of the NIC (UNDI_GET_NIC_TYPE).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PciIds {
    /// Bus (bits 15..8), device (7..3), function (2..0).
    pub bus_dev_fn: u16,
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// Base class (2 = network).
    pub base_class: u8,
    /// Sub class (0 = Ethernet).
    pub sub_class: u8,
    /// Programming interface.
    pub prog_if: u8,
    /// Revision.
    pub revision: u8,
    /// Subsystem vendor ID.
    pub subsys_vendor: u16,
    /// Subsystem device ID.
    pub subsys_device: u16,
}

/// Identity of a NIC that is not on PCI: an ISA board (UNDI_GET_NIC_TYPE answers `PnP_NIC`
/// with these, see docs/pxe-api.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IsaIds {
    /// Compressed EISA ID as stored in memory (e.g. `PNP80D6`, "NE2000 compatible", is the
    /// bytes 41 D0 80 D6, so 0xD680_D041).
    pub eisa_id: u32,
    /// ISAPnP card select number; 0xFFFF for a legacy (jumpered, not PnP) board.
    pub csn: u16,
}

impl IsaIds {
    /// Compresses a 7-character EISA/PnP ID such as `b"PNP80D6"` (three letters A–Z, four hex
    /// digits) into its stored form; `None` if it is not one.
    pub fn eisa(id: &[u8; 7]) -> Option<u32> {
        let letter = |c: u8| c.is_ascii_uppercase().then(|| u16::from(c - b'A' + 1));
        let (a, b, c) = (letter(id[0])?, letter(id[1])?, letter(id[2])?);
        let vendor = (a << 10 | b << 5 | c).to_be_bytes();
        let mut product = [0u8; 2];
        for (i, pair) in id[3..].chunks(2).enumerate() {
            let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
            product[i] = hex(pair[0])? << 4 | hex(pair[1])?;
        }
        Some(u32::from_le_bytes([
            vendor[0], vendor[1], product[0], product[1],
        ]))
    }
}

/// Static facts about the NIC (UNDI_GET_INFORMATION, GET_NIC_TYPE, GET_IFACE_INFO).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NicInfo {
    /// The card's permanent MAC.
    pub mac: [u8; 6],
    /// I/O base (0 for memory-mapped cards).
    pub io_base: u16,
    /// IRQ the NBP may hook, or 0: UNDI is polled-only (FreeBSD, lpxelinux cope).
    pub irq: u8,
    /// Receive queue length to report.
    pub rx_buffers: u16,
    /// Transmit queue length to report.
    pub tx_buffers: u16,
    /// Link speed in bit/s (0 unknown).
    pub link_speed: u32,
    /// PCI identity (all zero for an ISA card).
    pub pci: PciIds,
    /// Set for an ISA card: UNDI_GET_NIC_TYPE then reports `PnP_NIC` instead of PCI.
    pub isa: Option<IsaIds>,
}

/// The receive settings of the NIC: what [`Platform::nic_open`] opens it with and
/// [`Platform::nic_configure`] applies to the open card.
///
/// `filter` is what the card must deliver, already combined with what the PXE stack's own IP
/// path needs: outside UNDI_OPEN's raw mode it always has `FLTR_DIRECTED | FLTR_BRDCST`.
/// `FLTR_DIRECTED` covers the station address *and* the multicast list (PXE 2.1 §4.4
/// "Directed/Multicast"): without it `multicast` is not received. `FLTR_PRMSCS` is everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NicOpen<'a> {
    /// Station address: the card receives on it (and the stack sends from it).
    pub mac: [u8; 6],
    /// `FLTR_*` bits (`abi::filter`).
    pub filter: u16,
    /// Multicast addresses to accept (at most 8, UNDI's `s_PXENV_UNDI_MCAST_ADDRESS`).
    pub multicast: &'a [[u8; 6]],
}

/// The firmware side of the PXE API. Tests implement it with a fake.
pub trait Platform: Memory {
    /// Static NIC facts.
    fn nic_info(&self) -> NicInfo;
    /// (Re)open the NIC with this station address and filter. `false`: it failed.
    fn nic_open(&mut self, how: &NicOpen<'_>) -> bool;
    /// Apply a new station address, filter and multicast list to the open NIC
    /// (SET_STATION_ADDRESS, SET_PACKET_FILTER, SET_MCAST_ADDRESS). `false`: the card refused.
    /// Default: close and reopen with the new settings.
    fn nic_configure(&mut self, how: &NicOpen<'_>) -> bool {
        self.nic_close();
        self.nic_open(how)
    }
    /// Stop the NIC (no DMA afterwards). Harmless when closed.
    fn nic_close(&mut self);
    /// Send one Ethernet frame (destination MAC onwards, no FCS). `false`: not sent.
    fn transmit(&mut self, frame: &[u8]) -> bool;
    /// Copy the next received frame into `buf` and return its length.
    fn receive(&mut self, buf: &mut [u8]) -> Option<usize>;
    /// Enable or disable the NIC interrupt line (only used when `nic_info().irq != 0`).
    fn set_interrupts(&mut self, enable: bool) {
        let _ = enable;
    }
    /// Whether the NIC raised the pending interrupt; acknowledges it. Must work when called
    /// nested, from an NBP interrupt handler that runs while a PXE call is waiting in `pump`.
    fn ack_interrupt(&mut self) -> bool {
        false
    }
    /// The current time.
    fn now(&mut self) -> Instant;
    /// Let time pass while a call waits (the BIOS firmware briefly returns to real mode with
    /// interrupts on). A test fake advances its clock and runs its scripted peer.
    fn pump(&mut self);
    /// Whether INT 1Ah (and INT 15h) still point at softpxe, so STOP_UNDI can unhook them.
    fn hooks_removable(&self) -> bool {
        true
    }
    /// The interrupt-safe state shared with [`crate::dispatch_nested`].
    fn isr_shared(&self) -> &IsrShared;
}

/// State a nested call (an NBP interrupt handler calling UNDI_ISR while another PXE call waits
/// in [`Platform::pump`]) may read without touching the `PxeStack`: whether a call is running
/// and whether received frames wait for the NBP. Const-constructible, so it can be a `static`.
#[derive(Debug, Default)]
pub struct IsrShared {
    in_call: AtomicBool,
    rx_waiting: AtomicBool,
}

impl IsrShared {
    /// Idle, nothing waiting.
    pub const fn new() -> Self {
        IsrShared {
            in_call: AtomicBool::new(false),
            rx_waiting: AtomicBool::new(false),
        }
    }
    /// Mark a call as running. `false`: one already is, use [`crate::dispatch_nested`].
    pub fn try_enter(&self) -> bool {
        !self.in_call.swap(true, Ordering::AcqRel)
    }
    /// The call that [`IsrShared::try_enter`] admitted has returned.
    pub fn leave(&self) {
        self.in_call.store(false, Ordering::Release);
    }
    /// Whether a call is running.
    pub fn in_call(&self) -> bool {
        self.in_call.load(Ordering::Acquire)
    }
    /// Whether received frames wait for UNDI_ISR.
    pub fn rx_waiting(&self) -> bool {
        self.rx_waiting.load(Ordering::Acquire)
    }
    pub(crate) fn set_rx_waiting(&self, v: bool) {
        self.rx_waiting.store(v, Ordering::Release);
    }
}
