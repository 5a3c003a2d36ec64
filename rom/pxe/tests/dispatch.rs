//! Dispatch rules: status preset, unknown opcodes, unreachable parameter blocks, nesting.
mod common;
use common::*;
use softpxe_pxe::abi::*;
use softpxe_pxe::{dispatch, dispatch_nested, is_known, Status as S};

#[test]
fn unknown_opcode_is_unsupported() {
    let (mut s, mut f) = setup();
    for op in [0x0016u16, 0x0024, 0x0072, 0x0074, 0x00E6, 0xFFFF] {
        f.put(PARAMS, &[0xAA, 0xAA]);
        let o = dispatch(&mut s, &mut f, Opcode(op), PARAMS);
        assert_eq!(
            (o.exit, o.status),
            (EXIT_FAILURE, S::UNSUPPORTED),
            "{op:#x}"
        );
        assert_eq!(f.get(PARAMS, 2), [3, 0]);
        assert!(!is_known(Opcode(op)));
    }
    assert!(is_known(Opcode::UNDI_ISR));
}

#[test]
fn status_is_preset_to_failure_and_success_clears_it() {
    let (mut s, mut f) = setup();
    f.put(PARAMS, &[0x55, 0x55]);
    let o = dispatch(&mut s, &mut f, Opcode::UNDI_STARTUP, PARAMS);
    assert_eq!((o.exit, o.status), (EXIT_SUCCESS, S::SUCCESS));
    assert_eq!(f.get(PARAMS, 2), [0, 0]);
}

#[test]
fn unreachable_parameter_block_fails_without_panic() {
    let (mut s, mut f) = setup();
    for at in [
        SegOff16::new(0xFFFF, 0xFFFF),
        SegOff16::new(0x1000, 0xFFF8),
        SegOff16::new(0xFFFF, 0xFFF8),
    ] {
        for op in [
            Opcode::UNDI_GET_INFORMATION,
            Opcode::TFTP_OPEN,
            Opcode::GET_CACHED_INFO,
        ] {
            let o = dispatch(&mut s, &mut f, op, at);
            assert_eq!(
                (o.exit, o.status),
                (EXIT_FAILURE, S::FAILURE),
                "{op:?} at {at:?}"
            );
        }
    }
    let o = dispatch(&mut s, &mut f, Opcode(0x99), SegOff16::new(0xFFFF, 0xFFFF));
    assert_eq!(
        o.status,
        S::FAILURE,
        "not even the status word is reachable"
    );
}

#[test]
fn nested_calls_only_answer_isr_in_start() {
    let (mut s, mut f) = setup();
    assert!(f.shared.try_enter());
    assert!(!f.shared.try_enter(), "second entry is nested");
    let b = UndiIsr {
        Status: 0,
        FuncFlag: isr::IN_START,
        BufferLength: 0,
        FrameLength: 0,
        FrameHeaderLength: 0,
        Frame: SegOff16::default(),
        ProtType: 0,
        PktType: 0,
    };
    f.put(PARAMS, zerocopy::IntoBytes::as_bytes(&b));
    f.irq_pending = true;
    let o = dispatch_nested(&mut f, Opcode::UNDI_ISR, PARAMS);
    assert_eq!((o.exit, o.status), (EXIT_SUCCESS, S::SUCCESS));
    assert_eq!(
        f.get(PARAMS, 4),
        [0, 0, 0, 0],
        "status 0, FuncFlag OUT_OURS"
    );
    f.put(PARAMS, zerocopy::IntoBytes::as_bytes(&b));
    let o = dispatch_nested(&mut f, Opcode::UNDI_ISR, PARAMS);
    assert_eq!(o.status, S::SUCCESS);
    assert_eq!(
        f.get(PARAMS, 4),
        [0, 0, 1, 0],
        "OUT_NOT_OURS once acknowledged"
    );
    let b2 = UndiIsr {
        FuncFlag: isr::IN_PROCESS,
        ..b
    };
    f.put(PARAMS, zerocopy::IntoBytes::as_bytes(&b2));
    let o = dispatch_nested(&mut f, Opcode::UNDI_ISR, PARAMS);
    assert_eq!((o.exit, o.status), (EXIT_FAILURE, S::FAILURE));
    assert_eq!(f.get(PARAMS, 4), [1, 0, 4, 0], "OUT_BUSY");
    let tx_before = f.tx.len();
    let o = dispatch_nested(&mut f, Opcode::UDP_WRITE, PARAMS);
    assert_eq!(o.status, S::FAILURE);
    assert_eq!(f.tx.len(), tx_before, "no handler ran");
    f.shared.leave();
    assert!(!f.shared.in_call());
    let o = dispatch(&mut s, &mut f, Opcode::UNDI_STARTUP, PARAMS);
    assert_eq!(o.status, S::SUCCESS);
}
