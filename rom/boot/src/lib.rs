//! The PXE boot flow (layer `rom/boot`), the same for every firmware: the settings file, the NIC
//! choice (PXE-E61 / EC5), the DHCP / proxyDHCP / boot-server conversation with its offer
//! choice, menu and prompt, boot server names resolved through DNS, the NBP over TFTP, the PXE-E
//! codes with a sentence of advice each, and the DHCP packets GET_CACHED_INFO hands out.
//!
//! The firmware implements one small trait, [`Platform`]: console output, a key poll, a
//! millisecond clock, the settings file's bytes, where the NBP goes, the client architecture
//! (DHCP options 60/93/94), the drivers' [`Hal`] and PCI enumeration. The flow runs over any
//! [`Nic`]: on the firmware the driver [`choose_nic`] found, in host tests a loopback NIC with
//! scripted servers. See `docs/netboot.md` and `docs/architecture.md`.
//!
//! ```text
//! load_settings ─> choose_nic ─> network_boot ─┬─> Booted (NBP loaded, NIC open, interface
//!                                              │    state and cached packets for the PXE API)
//!                                              └─> None (local boot, or failed and no retry)
//! ```
#![no_std]
#![forbid(unsafe_code)]

mod console;
mod conversation;
mod link;
mod nicsel;
mod resolve;
mod settings;
mod tftp;

use console::{say, sayln};
use softpxe_drivers::pci::{self, PciAddress};
use softpxe_drivers::{Hal, Nic};
use softpxe_net::Instant;
use softpxe_settings::medium::MediumError;
use softpxe_settings::Settings;

use link::Link;
pub use nicsel::{choose_nic, Chosen, Location};
pub use settings::load_settings;
pub use softpxe_pxe::{Cached, Handoff};
pub use tftp::TftpAdvice;

/// Client system architecture (RFC 4578 §2.1, DHCP option 93): x86 BIOS.
pub const ARCH_BIOS: u16 = 0;
/// Client system architecture: x86-64 UEFI.
pub const ARCH_X64_UEFI: u16 = 7;

/// A key press as the flow needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// Escape: cancels the boot.
    Esc,
    /// Any other key, with its ASCII code (0 if none).
    Char(u8),
}

/// What the firmware gives the boot flow. See the crate doc.
pub trait Platform {
    /// The drivers' hardware access.
    type Hal: Hal;
    /// The drivers' hardware access.
    fn hal(&mut self) -> &mut Self::Hal;
    /// Console output (screen and serial line; `\n` ends a line, `\r` redraws it).
    fn print(&mut self, s: &str);
    /// The next key press, if one waits (never blocks). Also the firmware's chance to let its
    /// own services breathe: the flow calls it every 50–200 ms while it waits on the network.
    fn poll_key(&mut self) -> Option<Key>;
    /// A monotonic clock in milliseconds.
    fn now_ms(&mut self) -> u64;
    /// Some bits that differ between boots (DHCP xid, DNS ids, TFTP ports).
    fn entropy(&mut self) -> u32;
    /// The settings file (`SOFTPXE.CFG`) of the boot medium, read into `buf`; its full length
    /// (may exceed `buf.len()`; only `buf.len()` bytes are then read).
    fn settings_file(&mut self, buf: &mut [u8]) -> Result<usize, MediumError>;
    /// DHCP option 93's client architecture ([`ARCH_BIOS`], [`ARCH_X64_UEFI`]).
    fn client_arch(&self) -> u16;
    /// Bytes the NBP may have at most.
    fn nbp_capacity(&self) -> u64;
    /// Stores NBP bytes at `offset` (below [`Platform::nbp_capacity`]); `false` if refused.
    fn nbp_write(&mut self, offset: u64, data: &[u8]) -> bool;
    /// The clock rate shown on the `CLIENT MAC ADDR` line (`TSC n MHz`), if any.
    fn clock_mhz(&self) -> Option<u32> {
        None
    }
    /// Every PCI function, in bus order, into `out`; returns how many there are (may exceed
    /// `out.len()`). Default: configuration mechanism #1 through the [`Hal`].
    fn pci_functions(&mut self, out: &mut [PciAddress]) -> usize {
        let mut n = 0;
        pci::scan(self.hal(), |_, a| {
            if let Some(slot) = out.get_mut(n) {
                *slot = a;
            }
            n += 1;
        });
        n
    }
}

pub(crate) fn now<P: Platform + ?Sized>(p: &mut P) -> Instant {
    Instant::from_millis(p.now_ms())
}

/// A failed boot attempt, already reported on the console.
#[derive(Debug)]
pub struct Failed;

/// A loaded NBP, ready to start: the NIC stays open for the PXE API.
#[derive(Debug)]
pub struct Booted {
    /// The NBP's size in bytes.
    pub size: u32,
    /// The interface state and cached DHCP packets, for `PxeStack::adopt`.
    pub handoff: Handoff,
    /// The TFTP settings the PXE API's TFTP calls should use (window advice included).
    pub tftp: softpxe_net::tftp::TftpConfig,
}

/// Opens the NIC, runs the PXE conversation and loads the NBP. Returns it when it is loaded (the
/// NIC still open); `None` when there is nothing more to do here (local boot chosen, or the boot
/// failed and no key was pressed within 5 s to try again): the NIC is closed then.
pub fn network_boot<P: Platform, N: Nic>(
    p: &mut P,
    settings: &Settings,
    chosen: &mut Chosen<N>,
) -> Option<Booted> {
    let mut advice = TftpAdvice::for_nic(chosen.nic.rx_ring_len());
    loop {
        if !nicsel::open(p, chosen) {
            return None;
        }
        let m = chosen.nic.mac();
        say!(
            p,
            "CLIENT MAC ADDR: {:02X} {:02X} {:02X} {:02X} {:02X} {:02X}  ({} at {}",
            m[0],
            m[1],
            m[2],
            m[3],
            m[4],
            m[5],
            chosen.name,
            chosen.at
        );
        if let Location::Pci(_) = chosen.at {
            say!(p, ", {:04x}:{:04x}", chosen.vendor, chosen.device);
        }
        match p.clock_mhz() {
            Some(mhz) => sayln!(p, "; TSC {mhz} MHz)"),
            None => sayln!(p, ")"),
        }
        let mut cached = Cached::new();
        let decision = {
            let mut link = Link::new(&mut chosen.nic);
            conversation::run(p, &mut link, settings, &mut advice, &mut cached)
                .map(|d| (d, link.into_handoff()))
        };
        match decision {
            Ok((conversation::Decision::Nbp { size }, mut handoff)) => {
                handoff.cached = cached;
                return Some(Booted {
                    size,
                    handoff,
                    tftp: advice.config(settings),
                });
            }
            Ok((conversation::Decision::Local, _)) => {
                chosen.nic.close(p.hal());
                return None;
            }
            Err(Failed) => {
                chosen.nic.close(p.hal());
                sayln!(p, "softpxe: press a key within 5 s to try again");
                wait_key(p, 5000)?;
            }
        }
    }
}

/// Waits up to `ms` for a key press (polling every 10 ms).
pub fn wait_key<P: Platform + ?Sized>(p: &mut P, ms: u64) -> Option<Key> {
    let end = p.now_ms() + ms;
    let mut next = 0;
    loop {
        let t = p.now_ms();
        if t >= end {
            return None;
        }
        if t >= next {
            next = t + 10;
            if let Some(k) = p.poll_key() {
                return Some(k);
            }
        }
    }
}
