//! The PXE API entry (layer `rom/pxe`, PXE 2.1 §3.1 "API calling conventions"): one table from
//! opcode to handler, the status word preset to FAILURE before a handler runs, UNSUPPORTED for
//! unknown opcodes, AX = 0/1, and the nesting rule for calls made from an NBP interrupt handler.

use crate::abi::{isr, Opcode, SegOff16, Status, UndiIsr, EXIT_FAILURE, EXIT_SUCCESS};
use crate::mem::{read_block, write_at, write_block};
use crate::platform::Platform;
use crate::stack::PxeStack;
use crate::{preboot, tftp, udp, undi};
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// Something the firmware must do itself after a call returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// STOP_UNDI succeeded: the NIC is closed; unhook INT 1Ah/15h and give back base memory
    /// before returning to the NBP.
    Unload,
    /// RESTART_TFTP loaded a new NBP of `size` bytes at 0:7C00: start it like the first one
    /// (ES:BX = PXENV+, !PXE at SS:SP+4); the calling NBP is not returned to.
    StartNbp {
        /// Bytes loaded.
        size: u32,
    },
}

/// What a call produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `AX` for the caller: [`EXIT_SUCCESS`] or [`EXIT_FAILURE`].
    pub exit: u16,
    /// The status written to the parameter block (also when it could not be written).
    pub status: Status,
    /// Work left to the firmware.
    pub action: Option<Action>,
}

/// A handler's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) status: Status,
    pub(crate) action: Option<Action>,
}

impl From<Status> for Reply {
    fn from(status: Status) -> Self {
        Reply {
            status,
            action: None,
        }
    }
}

/// A handler: the stack, the platform, the parameter block address.
type Handler = fn(&mut PxeStack, &mut dyn Platform, SegOff16) -> Reply;

fn unsupported(_: &mut PxeStack, _: &mut dyn Platform, _: SegOff16) -> Reply {
    Status::UNSUPPORTED.into()
}

fn success(_: &mut PxeStack, _: &mut dyn Platform, _: SegOff16) -> Reply {
    Status::SUCCESS.into()
}

/// The dispatch table: every PXE 2.1 opcode and its handler.
const TABLE: &[(Opcode, Handler)] = &[
    (Opcode::START_UNDI, undi::start_undi),
    (Opcode::UNDI_STARTUP, success),
    (Opcode::UNDI_CLEANUP, undi::cleanup),
    (Opcode::UNDI_INITIALIZE, undi::initialize),
    (Opcode::UNDI_RESET_ADAPTER, undi::reset_adapter),
    (Opcode::UNDI_SHUTDOWN, undi::cleanup),
    (Opcode::UNDI_OPEN, undi::open),
    (Opcode::UNDI_CLOSE, undi::close),
    (Opcode::UNDI_TRANSMIT, undi::transmit),
    (Opcode::UNDI_SET_MCAST_ADDRESS, undi::set_mcast),
    (Opcode::UNDI_SET_STATION_ADDRESS, undi::set_station),
    (Opcode::UNDI_SET_PACKET_FILTER, undi::set_filter),
    (Opcode::UNDI_GET_INFORMATION, undi::get_information),
    (Opcode::UNDI_GET_STATISTICS, undi::get_statistics),
    (Opcode::UNDI_CLEAR_STATISTICS, undi::clear_statistics),
    (Opcode::UNDI_INITIATE_DIAGS, unsupported),
    (Opcode::UNDI_FORCE_INTERRUPT, unsupported),
    (Opcode::UNDI_GET_MCAST_ADDRESS, undi::get_mcast),
    (Opcode::UNDI_GET_NIC_TYPE, undi::get_nic_type),
    (Opcode::UNDI_GET_IFACE_INFO, undi::get_iface_info),
    (Opcode::UNDI_ISR, undi::isr),
    (Opcode::STOP_UNDI, undi::stop_undi),
    (Opcode::TFTP_OPEN, tftp::open),
    (Opcode::TFTP_CLOSE, tftp::close),
    (Opcode::TFTP_READ, tftp::read),
    (Opcode::TFTP_READ_FILE, tftp::read_file),
    (Opcode::TFTP_GET_FSIZE, tftp::get_fsize),
    (Opcode::UDP_OPEN, udp::open),
    (Opcode::UDP_CLOSE, udp::close),
    (Opcode::UDP_READ, udp::read),
    (Opcode::UDP_WRITE, udp::write),
    (Opcode::UNLOAD_STACK, preboot::stop_base_code),
    (Opcode::GET_CACHED_INFO, preboot::get_cached_info),
    (Opcode::RESTART_TFTP, tftp::restart),
    (Opcode::START_BASE, unsupported),
    (Opcode::STOP_BASE, preboot::stop_base_code),
];

/// The base-code calls UNLOAD_STACK and STOP_BASE take out of service.
fn is_base_code(op: Opcode) -> bool {
    matches!(op.0, 0x0020..=0x0025 | 0x0030..=0x0033) || op == Opcode::RESTART_TFTP
}

/// Whether `op` has an entry in the dispatch table (implemented or answered UNSUPPORTED).
pub fn is_known(op: Opcode) -> bool {
    TABLE.iter().any(|(o, _)| *o == op)
}

fn finish(p: &mut dyn Platform, params: SegOff16, r: Reply) -> Outcome {
    let written = write_at(p, params, &r.status.0.to_le_bytes());
    let status = if written { r.status } else { Status::FAILURE };
    Outcome {
        exit: if status == Status::SUCCESS {
            EXIT_SUCCESS
        } else {
            EXIT_FAILURE
        },
        status,
        action: if status == Status::SUCCESS {
            r.action
        } else {
            None
        },
    }
}

/// Run one PXE API call that is not nested in another: preset the status to FAILURE, look the
/// opcode up, run the handler, write the final status. The firmware calls this from its
/// PXENV+ / !PXE thunks (after [`crate::IsrShared::try_enter`] admitted the call).
pub fn dispatch(
    stack: &mut PxeStack,
    platform: &mut dyn Platform,
    opcode: Opcode,
    params: SegOff16,
) -> Outcome {
    if !write_at(platform, params, &Status::FAILURE.0.to_le_bytes()) {
        return finish(platform, params, Status::FAILURE.into());
    }
    let handler = TABLE.iter().find(|(o, _)| *o == opcode).map(|(_, h)| *h);
    let reply = match handler {
        None => Status::UNSUPPORTED.into(),
        Some(_) if stack.stopped => Status::FAILURE.into(),
        Some(_) if stack.base_stopped && is_base_code(opcode) => Status::FAILURE.into(),
        Some(h) => h(stack, platform, params),
    };
    finish(platform, params, reply)
}

/// Answer a call made while another is in progress (an NBP interrupt handler running while a
/// call waits in [`Platform::pump`]). No handler runs and the `PxeStack` is not touched: only
/// `UNDI_ISR` with `IN_START` is answered (OURS if the NIC raised the interrupt or frames wait,
/// else NOT_OURS); everything else gets FAILURE.
pub fn dispatch_nested(platform: &mut dyn Platform, opcode: Opcode, params: SegOff16) -> Outcome {
    if opcode == Opcode::UNDI_ISR {
        if let Some(mut b) = read_block::<UndiIsr, _>(&*platform, params) {
            if b.FuncFlag == isr::IN_START {
                let ours = platform.ack_interrupt() || platform.isr_shared().rx_waiting();
                b.FuncFlag = if ours {
                    isr::OUT_OURS
                } else {
                    isr::OUT_NOT_OURS
                };
                b.Status = Status::SUCCESS.0;
                if write_block(platform, params, &b) {
                    return finish(platform, params, Status::SUCCESS.into());
                }
            } else {
                b.FuncFlag = isr::OUT_BUSY;
                let _ = write_block(platform, params, &b);
            }
        }
    }
    finish(platform, params, Status::FAILURE.into())
}

/// Copy a parameter block in, let `f` work on it, copy it out. An unreachable block gives
/// FAILURE without running `f`.
pub(crate) fn with_block<T: FromBytes + IntoBytes + Immutable>(
    p: &mut dyn Platform,
    at: SegOff16,
    f: impl FnOnce(&mut T, &mut dyn Platform) -> Reply,
) -> Reply {
    let Some(mut b) = read_block::<T, _>(&*p, at) else {
        return Status::FAILURE.into();
    };
    let r = f(&mut b, p);
    if !write_block(p, at, &b) {
        return Status::FAILURE.into();
    }
    r
}
