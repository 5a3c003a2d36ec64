//! PXE preboot API (layer `rom/pxe`, PXE 2.1 §3.2): GET_CACHED_INFO, UNLOAD_STACK and
//! STOP_BASE. (START_BASE is UNSUPPORTED, in the dispatch table; RESTART_TFTP lives with TFTP.)
//!
//! UNLOAD_STACK and STOP_BASE answer success, as every PXE ROM does (pxelinux abandons its
//! unload otherwise), and take the base code out of service: a running TFTP transfer is
//! aborted (its ERROR packet sent), the UDP session closed, and from then on the base-code
//! calls (TFTP_*, UDP_*, RESTART_TFTP) fail with PXENV_STATUS_FAILURE. UNDI keeps working:
//! undionly.kpxe calls UNLOAD_STACK and then drives the NIC through UNDI. The memory stays
//! where it is until STOP_UNDI, because softpxe's base code and UNDI share one block (the NBP
//! frees it by raising 40:13 once STOP_UNDI has succeeded).
//!
//! GET_CACHED_INFO hands out 1260-byte BOOTPLAYER copies (see `abi::structs`): with BufferSize 0
//! the SEG:OFF of our persistent copy in the scratch area, else a copy of min(BufferSize, 1260)
//! bytes into the caller's buffer. BufferSize says how much; BufferLimit is left alone.

use crate::abi::{GetCachedInfo, SegOff16, Status, BOOTPLAYER_SIZE};
use crate::dispatch::{with_block, Reply};
use crate::mem::write_at;
use crate::platform::Platform;
use crate::stack::{PxeStack, SCRATCH_CACHED};

/// GET_CACHED_INFO.
pub(crate) fn get_cached_info(s: &mut PxeStack, p: &mut dyn Platform, at: SegOff16) -> Reply {
    with_block(p, at, |b: &mut GetCachedInfo, p| {
        let index = match b.PacketType {
            1..=3 => usize::from(b.PacketType - 1),
            _ => return Status::UNSUPPORTED.into(),
        };
        if b.BufferSize == 0 {
            b.Buffer = s.scratch_at(SCRATCH_CACHED[index]);
            b.BufferSize = BOOTPLAYER_SIZE as u16;
            return Status::SUCCESS.into();
        }
        let n = usize::from(b.BufferSize).min(BOOTPLAYER_SIZE);
        let Some(packet) = s.cached.get(index) else {
            return Status::FAILURE.into();
        };
        if !write_at(p, b.Buffer, &packet[..n]) {
            return Status::FAILURE.into();
        }
        b.BufferSize = n as u16;
        Status::SUCCESS.into()
    })
}

/// UNLOAD_STACK and STOP_BASE: the base code stops (see the module doc); UNDI stays.
pub(crate) fn stop_base_code(s: &mut PxeStack, p: &mut dyn Platform, _at: SegOff16) -> Reply {
    s.close_tftp(p);
    s.udp_open = false;
    s.udpq.clear();
    s.base_stopped = true;
    Status::SUCCESS.into()
}
