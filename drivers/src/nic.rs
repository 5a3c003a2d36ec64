//! The polled NIC contract every driver implements (layer `drivers/`), modelled on what the
//! PXE UNDI API (PXE 2.1 §5) and UEFI's Simple Network Protocol need from a card.

use core::fmt;

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
        })
    }
}

/// A polled network card. The firmware owns the value; every call gets the `Hal`.
///
/// Construction (per driver, from a [`crate::PciAddress`]) only decodes BARs, turns on register
/// decoding and reads the MAC address; nothing is allocated and no DMA happens until
/// [`Nic::open`].
pub trait Nic {
    /// Resets the card, sets up rings (allocated on the first open, reused afterwards),
    /// enables bus mastering, the receiver (own MAC + broadcast) and the transmitter.
    /// Interrupts stay masked. Calling it on an open card re-initialises it.
    fn open<H: Hal + ?Sized>(&mut self, hal: &mut H) -> Result<(), NicError>;

    /// Stops receive and transmit DMA, resets the card and clears bus mastering, so that no
    /// DMA can hit memory after the firmware gives it away. Harmless when not open.
    fn close<H: Hal + ?Sized>(&mut self, hal: &mut H);

    /// The station (permanent) MAC address.
    fn mac(&self) -> [u8; 6];

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

/// Checks a frame handed to [`Nic::transmit`].
pub(crate) fn check_tx_len(frame: &[u8]) -> Result<(), NicError> {
    if frame.is_empty() || frame.len() > crate::MAX_FRAME_LEN {
        Err(NicError::BadFrameLength)
    } else {
        Ok(())
    }
}
