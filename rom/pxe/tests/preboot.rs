//! GET_CACHED_INFO, UNLOAD_STACK, START_BASE, STOP_BASE.
mod common;
use common::*;
use softpxe_pxe::abi::*;
use softpxe_pxe::{Status as S, SCRATCH_CACHED};

fn packets(s: &mut softpxe_pxe::PxeStack, f: &mut Fake) -> [Vec<u8>; 3] {
    let p = [
        pattern(300),
        (0..1400).map(|i| (i % 200) as u8).collect::<Vec<u8>>(),
        vec![0x5A; 548],
    ];
    for (i, pk) in p.iter().enumerate() {
        assert!(s.set_cached(f, i, pk));
    }
    p
}

fn gci(
    s: &mut softpxe_pxe::PxeStack,
    f: &mut Fake,
    kind: u16,
    size: u16,
    buf: SegOff16,
) -> (softpxe_pxe::Outcome, GetCachedInfo) {
    let b = GetCachedInfo {
        Status: 0,
        PacketType: kind,
        BufferSize: size,
        Buffer: buf,
        BufferLimit: 0xBEEF,
    };
    call(s, f, Opcode::GET_CACHED_INFO, &b)
}

#[test]
fn buffer_size_zero_returns_persistent_copy() {
    let (mut s, mut f) = setup();
    let p = packets(&mut s, &mut f);
    for kind in 1..=3u16 {
        let (o, b) = gci(&mut s, &mut f, kind, 0, SegOff16::default());
        assert_eq!((o.exit, o.status), (EXIT_SUCCESS, S::SUCCESS));
        assert_eq!({ b.BufferSize }, 1260);
        assert_eq!({ b.BufferLimit }, 0xBEEF, "BufferLimit untouched");
        assert_eq!(
            b.Buffer,
            SegOff16::new(SCRATCH.segment, SCRATCH_CACHED[usize::from(kind) - 1])
        );
        let copy = f.get(b.Buffer, 1260);
        let src = &p[usize::from(kind) - 1];
        let n = src.len().min(1260);
        assert!(copy[..n] == src[..n]);
        assert!(copy[n..].iter().all(|&b| b == 0));
    }
}

#[test]
fn copies_into_caller_buffer_with_limits() {
    let (mut s, mut f) = setup();
    let p = packets(&mut s, &mut f);
    let (o, b) = gci(&mut s, &mut f, 2, 100, BUF);
    assert_eq!(o.status, S::SUCCESS);
    assert_eq!({ b.BufferSize }, 100, "too small: truncated to BufferSize");
    assert_eq!(f.get(BUF, 100), p[1][..100]);
    let (_, b) = gci(&mut s, &mut f, 1, 4000, BUF);
    assert_eq!({ b.BufferSize }, 1260, "at most sizeof(BOOTPLAYER)");
    assert_eq!({ b.BufferLimit }, 0xBEEF);
    assert_eq!(gci(&mut s, &mut f, 4, 0, BUF).0.status, S::UNSUPPORTED);
    assert_eq!(gci(&mut s, &mut f, 0, 0, BUF).0.status, S::UNSUPPORTED);
    assert_eq!(
        gci(&mut s, &mut f, 2, 1260, SegOff16::new(0x1000, 0xFE00))
            .0
            .status,
        S::FAILURE
    );
}

#[test]
fn base_code_calls() {
    let (mut s, mut f) = setup();
    assert_eq!(
        call(&mut s, &mut f, Opcode::UNLOAD_STACK, &[0u8; 12])
            .0
            .status,
        S::SUCCESS
    );
    assert_eq!(
        call(&mut s, &mut f, Opcode::STOP_BASE, &[0u8; 2]).0.status,
        S::SUCCESS
    );
    let (o, _) = call(&mut s, &mut f, Opcode::START_BASE, &[0u8; 2]);
    assert_eq!((o.exit, o.status), (EXIT_FAILURE, S::UNSUPPORTED));
}

/// After UNLOAD_STACK the base code is out of service (a running transfer aborted, TFTP and UDP
/// refused) while UNDI and GET_CACHED_INFO keep working, as undionly.kpxe needs.
#[test]
fn unload_stack_stops_the_base_code_and_keeps_undi() {
    for op in [Opcode::UNLOAD_STACK, Opcode::STOP_BASE] {
        let (mut s, mut f) = setup();
        packets(&mut s, &mut f);
        f.peer
            .as_mut()
            .unwrap()
            .files
            .push(("f".into(), pattern(100_000)));
        let mut file = [0u8; 128];
        file[0] = b'f';
        let open = TftpOpen {
            Status: 0,
            ServerIPAddress: PEER_IP.octets(),
            GatewayIPAddress: [0; 4],
            FileName: file,
            TFTPPort: 69u16.to_be(),
            PacketSize: 512,
        };
        assert_eq!(
            call(&mut s, &mut f, Opcode::TFTP_OPEN, &open).0.status,
            S::SUCCESS
        );
        assert_eq!(call(&mut s, &mut f, op, &[0u8; 12]).0.status, S::SUCCESS);
        let size = TftpGetFsize {
            Status: 0,
            ServerIPAddress: PEER_IP.octets(),
            GatewayIPAddress: [0; 4],
            FileName: file,
            FileSize: 0,
        };
        let (o, _) = call(&mut s, &mut f, Opcode::TFTP_GET_FSIZE, &size);
        assert_eq!((o.exit, o.status), (EXIT_FAILURE, S::FAILURE), "{op:?}");
        let udp = [0u8; 6];
        assert_eq!(
            call(&mut s, &mut f, Opcode::UDP_OPEN, &udp).0.status,
            S::FAILURE
        );
        // UNDI and the cached packets still answer
        let (o, _) = gci(&mut s, &mut f, 2, 0, SegOff16::default());
        assert_eq!(o.status, S::SUCCESS);
        let info = [0u8; 32];
        let (o, _) = call(&mut s, &mut f, Opcode::UNDI_GET_INFORMATION, &info);
        assert_eq!(o.status, S::SUCCESS, "{op:?}");
    }
}

/// The boot flow's interface is taken over as it is: addresses, ARP cache, frame counts and the
/// cached packets (their scratch copies written), nothing rebuilt.
#[test]
fn adopt_takes_the_boot_flows_interface_and_packets() {
    use softpxe_net::iface::Interface;
    use softpxe_net::{Instant, Ipv4Addr, MacAddr};
    let mut s = Box::new(softpxe_pxe::PxeStack::new(config(), OUR_MAC).unwrap());
    let mut f = Fake::new();
    let mut iface = Interface::new(MacAddr(OUR_MAC));
    let gw = Ipv4Addr::new(10, 0, 0, 254);
    iface.configure(OUR_IP, Some(Ipv4Addr::new(255, 255, 255, 0)), Some(gw));
    let gw_mac = MacAddr([2, 0, 0, 0, 0, 0xfe]);
    iface.learn(Instant::from_millis(0), gw, gw_mac);
    let mut cached = softpxe_pxe::Cached::new();
    let ack = pattern(400);
    assert!(cached.set(1, &ack));
    let handoff = softpxe_pxe::Handoff {
        iface,
        frames_sent: 7,
        frames_received: 9,
        cached,
    };
    assert!(s.adopt(&mut f, handoff));
    assert_eq!(s.ip(), OUR_IP);
    let st = s.stats();
    assert_eq!((st.xmt_good, st.rcv_good), (7, 9));
    // GET_CACHED_INFO type 2 answers with the handed-over ACK, zero-padded
    let (out, b) = gci(&mut s, &mut f, 2, 0, SegOff16::new(0, 0));
    assert_eq!(out.status, S::SUCCESS);
    let copy = f.get(b.Buffer, BOOTPLAYER_SIZE);
    assert_eq!(&copy[..400], &ack[..]);
    assert!(copy[400..].iter().all(|&x| x == 0));
    assert_eq!(
        f.get(
            SegOff16::new(SCRATCH.segment, SCRATCH.offset + SCRATCH_CACHED[1]),
            400
        ),
        ack
    );
}
