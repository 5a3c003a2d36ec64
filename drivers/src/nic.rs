//! The polled NIC contract every driver implements (layer `drivers/`), modelled on what the
//! PXE UNDI API (PXE 2.1 §5) and UEFI's Simple Network Protocol need from a card.

use core::fmt;

use crate::filter::RxFilter;
use crate::hal::Hal;

/// What can go wrong in a driver operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NicError {
    /// A BAR the driver needs is missing or of the wrong kind (I/O vs memory).
    BadBar,
    /// `Hal::dma_alloc` could not provide the rings and buffers.
    NoDmaMemory,
    /// The DMA memory lies where the device cannot address it (e.g. above 4 GiB).
    DmaUnreachable,
    /// The device did not finish its reset in time.
    ResetTimeout,
    /// The EEPROM did not answer, so there is no MAC address.
    EepromTimeout,
    /// The device refused the driver's configuration (e.g. virtio FEATURES_OK not accepted).
    DeviceRefused,
    /// The frame is longer than [`crate::MAX_FRAME_LEN`] or empty.
    BadFrameLength,
    /// No transmit slot became free in time.
    TxTimeout,
    /// The operation needs `open` first.
    NotOpen,
    /// The driver does not support this operation (e.g. interrupts).
    Unsupported,
    /// A station address with the group (multicast) bit set.
    BadAddress,
    /// The device rejected, or did not answer, a receive-filter command (virtio control queue).
    FilterRefused,
}

impl fmt::Display for NicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NicError::BadBar => "NIC base address register missing or of the wrong type",
            NicError::NoDmaMemory => "no DMA memory for NIC rings and buffers",
            NicError::DmaUnreachable => "DMA memory is out of the NIC's address range",
            NicError::ResetTimeout => "NIC did not come out of reset",
            NicError::EepromTimeout => "NIC EEPROM did not answer (no MAC address)",
            NicError::DeviceRefused => "NIC refused the driver's configuration",
            NicError::BadFrameLength => "frame length out of range",
            NicError::TxTimeout => "NIC transmit ring stayed full",
            NicError::NotOpen => "NIC is not open",
            NicError::Unsupported => "operation not supported by this NIC driver",
            NicError::BadAddress => "station address is a multicast address",
            NicError::FilterRefused => "NIC refused the receive filter",
        })
    }
}

/// A polled network card. The firmware owns the value; every call gets the `Hal`.
///
/// Construction (per driver, from a [`crate::PciAddress`]) only decodes BARs, turns on register
/// decoding and reads the MAC address; nothing is allocated and no DMA happens until
/// [`Nic::open`].
///
/// # Receive filter and station address
///
/// A card has a permanent address ([`Nic::mac`], from its EEPROM or device configuration) and a
/// station address ([`Nic::station`]) that it receives on; it starts as the permanent one.
/// [`Nic::set_station`] and [`Nic::set_filter`] may be called open or closed: the driver keeps
/// both and [`Nic::open`] programs them again after its reset, so they survive re-opening. On an
/// open card they take effect at once. Whatever the hardware can do, [`Nic::receive`] returns
/// only frames the filter accepts ([`RxFilter::accepts`]): drivers check each frame in software
/// as well, which covers hash collisions and devices without filtering. `close` puts the
/// permanent address back where the hardware keeps it, for whoever drives the card next.
/// Frames the card sends carry whatever source address the caller put in them.
pub trait Nic {
    /// Resets the card, sets up rings (allocated on the first open, reused afterwards),
    /// enables bus mastering, the receiver (with the current [`RxFilter`] and station
    /// address; directed + broadcast unless changed) and the transmitter.
    /// Interrupts stay masked. Calling it on an open card re-initialises it.
    fn open<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError>;

    /// Stops receive and transmit DMA, resets the card and clears bus mastering, so that no
    /// DMA can hit memory after the firmware gives it away. Harmless when not open.
    fn close<H: Hal + ?Sized>(&mut self, hal: &mut H);

    /// The permanent MAC address (what the card had when the driver took it).
    fn mac(&self) -> [u8; 6];

    /// The station address the card receives on now ([`Nic::mac`] until changed).
    fn station(&self) -> [u8; 6];

    /// Makes `mac` the station address: directed frames to it are received, frames to the old
    /// one are not (unless promiscuous). Programmed now if open, at every `open` otherwise.
    /// [`NicError::BadAddress`] for a group address.
    fn set_station<H: Hal + ?Sized>(&mut self, hal: &mut H, mac: [u8; 6]) -> Result<(), NicError>;

    /// The receive filter in force.
    fn filter(&self) -> RxFilter;

    /// Replaces the receive filter: programmed now if open, at every `open` otherwise.
    fn set_filter<H: Hal + ?Sized>(
        &mut self,
        hal: &mut H,
        filter: &RxFilter,
    ) -> Result<(), NicError>;

    /// Link speed in bit/s, if the card knows it (read from the hardware when asked).
    fn link_speed_bps<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Option<u64>;

    /// How many received frames the driver's receive ring holds at most.
    fn rx_ring_len(&self) -> u16;

    /// How many frames can wait in the driver's transmit ring.
    fn tx_ring_len(&self) -> u16;

    /// Whether the link is up (virtio without `VIRTIO_NET_F_STATUS` always reports up).
    fn link_up<H: Hal + ?Sized>(&mut self, hal: &mut H) -> bool;

    /// Copies `frame` (destination MAC onwards, no FCS; short frames are padded) into a transmit
    /// buffer and hands it to the card. Returns once the card owns it, not once it is sent;
    /// waits a bounded time for a free slot.
    fn transmit<H: Hal + ?Sized>(&mut self, hal: &mut H, frame: &[u8]) -> Result<(), NicError>;

    /// Copies the next received frame (no FCS) into `buf` and returns its length, or `None` if
    /// nothing is waiting. Frames with receive errors, and frames longer than `buf`, are
    /// dropped (and counted in [`Nic::rx_dropped`]).
    fn receive<H: Hal + ?Sized>(&mut self, hal: &mut H, buf: &mut [u8]) -> Option<usize>;

    /// Frames dropped by [`Nic::receive`] since construction.
    fn rx_dropped(&self) -> u32;

    /// Enables or disables the card's interrupt line. Default: unsupported (polled only).
    fn set_interrupts<H: Hal + ?Sized>(
        &mut self,
        hal: &mut H,
        enable: bool,
    ) -> Result<(), NicError> {
        let _ = (hal, enable);
        Err(NicError::Unsupported)
    }

    /// Acknowledges a pending interrupt; returns whether this card raised it. Default: `false`.
    fn ack_interrupt<H: Hal + ?Sized>(&mut self, hal: &mut H) -> bool {
        let _ = hal;
        false
    }
}

/// Checks a station address handed to [`Nic::set_station`].
pub(crate) fn check_station(mac: &[u8; 6]) -> Result<(), NicError> {
    if crate::filter::is_group(mac) {
        Err(NicError::BadAddress)
    } else {
        Ok(())
    }
}

/// Checks a frame handed to [`Nic::transmit`].
pub(crate) fn check_tx_len(frame: &[u8]) -> Result<(), NicError> {
    if frame.is_empty() || frame.len() > crate::MAX_FRAME_LEN {
        Err(NicError::BadFrameLength)
    } else {
        Ok(())
    }
}
