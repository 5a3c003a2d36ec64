//! The PXE 2.1 API (layer `rom/pxe`): raw ABI structures, one dispatch table and the handlers,
//! platform-neutral and host-tested (PXE 2.1 §3 preboot/TFTP/UDP, §4 UNDI).
//!
//! The firmware owns a [`PxeStack`] and implements [`Platform`] (memory, NIC, time, pump). Its
//! real-mode entry thunks call [`dispatch`] (or [`dispatch_nested`] when a call arrives while
//! another is running, see [`IsrShared`]) with the opcode and the parameter block's SEG:OFF, and
//! return [`Outcome::exit`] in AX. [`abi::pxenv_plus`] and [`abi::bang_pxe`] build the
//! installation-check structures. See `docs/pxe-api.md`.
#![no_std]
#![forbid(unsafe_code)]

pub mod abi;
mod dispatch;
pub mod fuzz_targets;
mod handoff;
pub mod mem;
mod platform;
mod preboot;
mod queue;
mod stack;
mod tftp;
mod udp;
mod undi;

pub use abi::{Opcode, SegOff16, Status};
pub use dispatch::{dispatch, dispatch_nested, is_known, Action, Outcome};
pub use handoff::{Cached, Handoff};
pub use mem::Memory;
pub use platform::{IsaIds, IsrShared, NicInfo, NicOpen, PciIds, Platform};
pub use queue::TFTP_RING;
pub use stack::{
    ConfigError, PxeConfig, PxeStack, Stats, MAX_FRAME, SCRATCH_CACHED, SCRATCH_FRAME, SCRATCH_SIZE,
};
pub use tftp::{tftp_status, MAX_PACKET_SIZE, MIN_PACKET_SIZE};
pub use udp::DEFAULT_SRC_PORT;
