//! Stable fuzz smoke test: random opcodes, random parameter-block bytes and pointers, random
//! received frames, for a few thousand calls. Nothing may panic, and AX must match the status.
mod common;
use common::*;
use softpxe_pxe::abi::{SegOff16, EXIT_FAILURE, EXIT_SUCCESS};
use softpxe_pxe::{dispatch, dispatch_nested, Opcode, Status};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_calls_never_panic() {
    let (mut s, mut f) = setup();
    f.peer
        .as_mut()
        .unwrap()
        .files
        .push(("f".into(), pattern(3000)));
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let known: Vec<u16> = (0..0x80).collect();
    for i in 0..4000 {
        let op = if r.below(4) == 0 {
            r.next() as u16
        } else {
            known[r.below(known.len() as u64) as usize]
        };
        let at = match r.below(4) {
            0 => SegOff16::new(r.next() as u16, r.next() as u16),
            _ => PARAMS,
        };
        let mut block = [0u8; 200];
        for b in block.iter_mut() {
            *b = r.next() as u8;
        }
        if r.below(3) == 0 {
            // Plausible pointers inside the block: aim at BUF or the scratch area.
            for k in (4..190).step_by(12) {
                block[k..k + 4].copy_from_slice(&[0, 0, 0, 0x30]);
            }
        }
        f.put(PARAMS, &block);
        if r.below(5) == 0 {
            let n = r.below(1600) as usize;
            f.rx.push_back((0..n).map(|_| r.next() as u8).collect());
        }
        if r.below(6) == 0 {
            f.rx.push_back(udp_frame(
                OUR_MAC,
                (PEER_IP, r.next() as u16),
                (OUR_IP, r.next() as u16),
                &[1, 2, 3],
            ));
        }
        f.hooks_ok = r.below(10) != 0;
        let o = if r.below(20) == 0 {
            dispatch_nested(&mut f, Opcode(op), at)
        } else {
            dispatch(&mut s, &mut f, Opcode(op), at)
        };
        let expected = if o.status == Status::SUCCESS {
            EXIT_SUCCESS
        } else {
            EXIT_FAILURE
        };
        assert_eq!(o.exit, expected, "iteration {i}, opcode {op:#x}");
        if f.rx.len() > 64 {
            f.rx.clear();
        }
        if r.below(50) == 0 {
            let (s2, f2) = setup();
            s = s2;
            f.rx = f2.rx;
        }
    }
}
