//! UNDI calls against the fake platform: open/close/transmit/ISR polled flow, information calls.
mod common;
use common::*;
use softpxe_pxe::abi::*;
use softpxe_pxe::{dispatch, Action, Status as S, SCRATCH_FRAME};

fn open_raw(s: &mut softpxe_pxe::PxeStack, f: &mut Fake) {
    let mut b = UndiOpen {
        Status: 0,
        OpenFlag: 0,
        PktFilter: filter::DIRECTED | filter::BRDCST,
        R_Mcast_Buf: McastList {
            MCastAddrCount: 1,
            McastAddr: [mac_field([1, 0, 0x5E, 0, 0, 1]); 8],
        },
    };
    b.R_Mcast_Buf.McastAddr[0] = mac_field([1, 0, 0x5E, 1, 2, 3]);
    let (o, _) = call(s, f, Opcode::UNDI_OPEN, &b);
    assert_eq!((o.exit, o.status), (EXIT_SUCCESS, S::SUCCESS));
}

fn isr(s: &mut softpxe_pxe::PxeStack, f: &mut Fake, flag: u16) -> UndiIsr {
    let b = UndiIsr {
        Status: 0xFFFF,
        FuncFlag: flag,
        BufferLength: 0,
        FrameLength: 0,
        FrameHeaderLength: 0,
        Frame: SegOff16::default(),
        ProtType: 0,
        PktType: 0,
    };
    let (o, back) = call(s, f, Opcode::UNDI_ISR, &b);
    assert_eq!(o.status, S::SUCCESS);
    assert_eq!({ back.Status }, 0);
    back
}

/// An ISA card: GET_NIC_TYPE says PnP_NIC with the EISA ID (PNP80D6, NE2000 compatible),
/// class 02h/00h and CSN FFFFh; START_UNDI with the "not PCI, not ISAPnP" registers succeeds.
#[test]
fn isa_card_is_reported_as_pnp() {
    let (mut s, mut f) = setup();
    let eisa = softpxe_pxe::IsaIds::eisa(b"PNP80D6").unwrap();
    assert_eq!(eisa.to_le_bytes(), [0x41, 0xD0, 0x80, 0xD6]);
    assert_eq!(softpxe_pxe::IsaIds::eisa(b"pnp80D6"), None);
    assert_eq!(softpxe_pxe::IsaIds::eisa(b"PNP80G6"), None);
    f.isa = Some(softpxe_pxe::IsaIds {
        eisa_id: eisa,
        csn: 0xFFFF,
    });
    let (o, b) = call(&mut s, &mut f, Opcode::UNDI_GET_NIC_TYPE, &[0xAAu8; 17]);
    assert_eq!(o.status, S::SUCCESS);
    // Status, NicType 3, EISA_Dev_ID, Base_Class, Sub_Class, Prog_Intf, CardSelNum, zeros.
    assert_eq!(
        b,
        [0, 0, 3, 0x41, 0xD0, 0x80, 0xD6, 2, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0]
    );
    let mut start = [0u8; 12];
    start[2..8].copy_from_slice(&[0xFF; 6]);
    let (o, _) = call(&mut s, &mut f, Opcode::START_UNDI, &start);
    assert_eq!(o.status, S::SUCCESS);
}

#[test]
fn state_calls_succeed_in_any_order() {
    let (mut s, mut f) = setup();
    for op in [
        Opcode::UNDI_STARTUP,
        Opcode::UNDI_INITIALIZE,
        Opcode::START_UNDI,
        Opcode::UNDI_CLEANUP,
        Opcode::UNDI_SHUTDOWN,
    ] {
        let (o, _) = call(&mut s, &mut f, op, &[0u8; 16]);
        assert_eq!(o.status, S::SUCCESS, "{op:?}");
        assert_eq!(o.exit, EXIT_SUCCESS);
    }
    assert!(!f.open, "SHUTDOWN closes the NIC");
}

/// UNDI_INITIALIZE resets the adapter to the defaults and stops it until UNDI_OPEN: the NBP's
/// earlier promiscuous filter and multicast list are gone, queued frames dropped.
#[test]
fn initialize_resets_to_the_defaults_and_waits_for_open() {
    let (mut s, mut f) = setup();
    open_raw(&mut s, &mut f);
    assert_eq!(set_filter(&mut s, &mut f, filter::PRMSCS), S::SUCCESS);
    assert!(f.open);
    let (o, _) = call(&mut s, &mut f, Opcode::UNDI_INITIALIZE, &[0u8; 16]);
    assert_eq!(o.status, S::SUCCESS);
    assert!(
        !f.open,
        "INITIALIZE leaves the receive and transmit units stopped"
    );
    // an UNDI_OPEN with no multicast list gets the defaults back, not the old settings
    let b = UndiOpen {
        Status: 0,
        OpenFlag: 0,
        PktFilter: filter::DIRECTED | filter::BRDCST,
        R_Mcast_Buf: McastList {
            MCastAddrCount: 0,
            McastAddr: [mac_field([0; 6]); 8],
        },
    };
    assert_eq!(
        call(&mut s, &mut f, Opcode::UNDI_OPEN, &b).0.status,
        S::SUCCESS
    );
    let (_, flt, mc) = f.opens.last().unwrap().clone();
    assert_eq!(flt, filter::DIRECTED | filter::BRDCST);
    assert!(mc.is_empty());
}

#[test]
fn open_passes_filter_and_multicast() {
    let (mut s, mut f) = setup();
    open_raw(&mut s, &mut f);
    let (mac, flt, mc) = f.opens.last().unwrap().clone();
    assert_eq!(mac, OUR_MAC);
    assert_eq!(flt, filter::DIRECTED | filter::BRDCST);
    assert_eq!(mc, vec![[1, 0, 0x5E, 1, 2, 3]]);
    let (o, _) = call(&mut s, &mut f, Opcode::UNDI_CLOSE, &[0u8; 2]);
    assert_eq!(o.status, S::SUCCESS);
    assert!(!f.open);
}

fn transmit(
    s: &mut softpxe_pxe::PxeStack,
    f: &mut Fake,
    protocol: u8,
    flag: u8,
    payload: &[u8],
) -> softpxe_pxe::Outcome {
    let tbd_at = SegOff16::new(0x3100, 0);
    let dest_at = SegOff16::new(0x3100, 0x100);
    let data_at = SegOff16::new(0x3200, 0);
    let split = payload.len() / 2;
    f.put(data_at, payload);
    f.put(dest_at, &PEER_MAC);
    let mut tbd = UndiTbd {
        ImmedLength: split as u16,
        Xmit: data_at,
        DataBlkCount: 1,
        DataBlock: [TbdBlock {
            TDPtrType: 1,
            TDRsvdByte: 0,
            TDDataLen: 0,
            TDDataPtr: SegOff16::default(),
        }; 8],
    };
    tbd.DataBlock[0] = TbdBlock {
        TDPtrType: 1,
        TDRsvdByte: 0,
        TDDataLen: (payload.len() - split) as u16,
        TDDataPtr: data_at.add(split as u16).unwrap(),
    };
    f.put(tbd_at, zerocopy::IntoBytes::as_bytes(&tbd));
    let b = UndiTransmit {
        Status: 0,
        Protocol: protocol,
        XmitFlag: flag,
        DestAddr: dest_at,
        TBD: tbd_at,
        Reserved: [0; 2],
    };
    call(s, f, Opcode::UNDI_TRANSMIT, &b).0
}

#[test]
fn transmit_builds_media_header_for_p_ip() {
    let (mut s, mut f) = setup();
    let payload: Vec<u8> = (0..100).collect();
    let o = transmit(&mut s, &mut f, proto::P_IP, proto::XMT_DESTADDR, &payload);
    assert_eq!(o.status, S::SUCCESS);
    let fr = f.tx.last().unwrap();
    assert_eq!(&fr[0..6], &PEER_MAC);
    assert_eq!(&fr[6..12], &OUR_MAC);
    assert_eq!(&fr[12..14], &[0x08, 0x00]);
    assert_eq!(&fr[14..], &payload[..]);
    let o = transmit(&mut s, &mut f, proto::P_ARP, proto::XMT_BROADCAST, &payload);
    assert_eq!(o.status, S::SUCCESS);
    let fr = f.tx.last().unwrap();
    assert_eq!(&fr[0..6], &[0xFF; 6]);
    assert_eq!(&fr[12..14], &[0x08, 0x06]);
}

#[test]
fn transmit_raw_frame_and_bad_inputs() {
    let (mut s, mut f) = setup();
    let mut frame = vec![0u8; 60];
    frame[..6].copy_from_slice(&PEER_MAC);
    frame[12] = 0x88;
    let o = transmit(&mut s, &mut f, proto::P_UNKNOWN, 0, &frame);
    assert_eq!(o.status, S::SUCCESS);
    assert_eq!(f.tx.last().unwrap(), &frame);
    // Too short for a media header, unknown protocol, too long, bad TBD pointer.
    assert_eq!(
        transmit(&mut s, &mut f, proto::P_UNKNOWN, 0, &frame[..10]).status,
        S::UNDI_INVALID_PARAMETER
    );
    assert_eq!(
        transmit(&mut s, &mut f, 9, 0, &frame).status,
        S::UNDI_INVALID_PARAMETER
    );
    assert_eq!(
        transmit(&mut s, &mut f, proto::P_IP, 0, &vec![0; 1501 * 2]).status,
        S::UNDI_INVALID_PARAMETER
    );
    let b = UndiTransmit {
        Status: 0,
        Protocol: 0,
        XmitFlag: 0,
        DestAddr: SegOff16::default(),
        TBD: SegOff16::new(0xFFFF, 0xFFF0),
        Reserved: [0; 2],
    };
    let (o, _) = call(&mut s, &mut f, Opcode::UNDI_TRANSMIT, &b);
    assert_eq!(
        (o.exit, o.status),
        (EXIT_FAILURE, S::UNDI_INVALID_PARAMETER)
    );
    f.transmit_ok = false;
    assert_eq!(
        transmit(&mut s, &mut f, proto::P_UNKNOWN, 0, &frame).status,
        S::UNDI_TRANSMIT_ERROR
    );
}

#[test]
fn isr_polled_flow_delivers_frames_one_per_call() {
    let (mut s, mut f) = setup();
    f.peer = None;
    open_raw(&mut s, &mut f);
    let mut frame = vec![0u8; 64];
    frame[..6].copy_from_slice(&[0xFF; 6]);
    frame[12..14].copy_from_slice(&[0x08, 0x06]);
    f.rx.push_back(frame.clone());
    let mut uni = udp_frame(OUR_MAC, (PEER_IP, 1), (OUR_IP, 2), b"hi");
    uni[20] = 0x40; // arbitrary bytes are fine for UNDI
    f.rx.push_back(uni.clone());
    let mut frame2 = [0u8; 14];
    frame2[..6].copy_from_slice(&PEER_MAC);
    let _ = transmit(
        &mut s,
        &mut f,
        proto::P_UNKNOWN,
        0,
        &[frame2.to_vec(), vec![0; 46]].concat(),
    );
    assert_eq!(
        { isr(&mut s, &mut f, isr::IN_START).FuncFlag },
        isr::OUT_OURS,
        "IN_START polls the NIC: a transmit and two frames wait"
    );
    let b = isr(&mut s, &mut f, isr::IN_PROCESS);
    assert_eq!({ b.FuncFlag }, isr::OUT_TRANSMIT);
    let b = isr(&mut s, &mut f, isr::IN_GET_NEXT);
    assert_eq!({ b.FuncFlag }, isr::OUT_RECEIVE);
    assert_eq!({ b.FrameLength }, 64);
    assert_eq!({ b.BufferLength }, 64);
    assert_eq!({ b.FrameHeaderLength }, 14);
    assert_eq!((b.ProtType, b.PktType), (proto::P_ARP, proto::P_BROADCAST));
    assert_eq!(b.Frame, SegOff16::new(SCRATCH.segment, SCRATCH_FRAME));
    assert_eq!(f.get(b.Frame, 64), frame);
    assert!(f.shared.rx_waiting(), "the unicast frame still waits");
    assert_eq!(
        { isr(&mut s, &mut f, isr::IN_START).FuncFlag },
        isr::OUT_OURS
    );
    let b = isr(&mut s, &mut f, isr::IN_GET_NEXT);
    assert_eq!(
        ({ b.FuncFlag }, b.ProtType, b.PktType),
        (isr::OUT_RECEIVE, proto::P_IP, proto::P_DIRECTED)
    );
    assert_eq!(f.get(b.Frame, uni.len()), uni);
    assert_eq!(
        { isr(&mut s, &mut f, isr::IN_GET_NEXT).FuncFlag },
        isr::OUT_DONE
    );
    assert!(!f.shared.rx_waiting());
    let b = UndiIsr {
        Status: 0,
        FuncFlag: 9,
        BufferLength: 0,
        FrameLength: 0,
        FrameHeaderLength: 0,
        Frame: SegOff16::default(),
        ProtType: 0,
        PktType: 0,
    };
    assert_eq!(
        call(&mut s, &mut f, Opcode::UNDI_ISR, &b).0.status,
        S::UNDI_INVALID_PARAMETER
    );
}

#[test]
fn isr_in_start_reports_nic_interrupt() {
    let (mut s, mut f) = setup();
    f.irq = 11;
    open_raw(&mut s, &mut f);
    assert!(
        f.irq_enabled,
        "UNDI_OPEN enables the IRQ when one is reported"
    );
    f.irq_pending = true;
    assert_eq!(
        { isr(&mut s, &mut f, isr::IN_START).FuncFlag },
        isr::OUT_OURS
    );
    assert_eq!(
        { isr(&mut s, &mut f, isr::IN_START).FuncFlag },
        isr::OUT_NOT_OURS
    );
}

#[test]
fn information_calls() {
    let (mut s, mut f) = setup();
    let (o, b) = call(&mut s, &mut f, Opcode::UNDI_GET_INFORMATION, &[0u8; 50]);
    assert_eq!(o.status, S::SUCCESS);
    let b = <UndiInformation as zerocopy::FromBytes>::read_from_bytes(&b).unwrap();
    assert_eq!({ b.BaseIo }, 0xC000);
    assert_eq!({ b.IntNumber }, 0);
    assert_eq!(
        ({ b.MaxTranUnit }, { b.HwType }, { b.HwAddrLen }),
        (1500, 1, 6)
    );
    assert_eq!(mac_of(&{ b.CurrentNodeAddress }), OUR_MAC);
    assert_eq!(mac_of(&{ b.PermNodeAddress }), OUR_MAC);
    assert_eq!(({ b.RxBufCt }, { b.TxBufCt }), (8, 4));

    let (_, b) = call(&mut s, &mut f, Opcode::UNDI_GET_NIC_TYPE, &[0u8; 17]);
    let b = <UndiNicType as zerocopy::FromBytes>::read_from_bytes(&b).unwrap();
    assert_eq!(b.NicType, 2);
    assert_eq!(
        ({ b.info.Vendor_ID }, { b.info.Dev_ID }, {
            b.info.BusDevFunc
        }),
        (0x8086, 0x100E, 0x18)
    );
    assert_eq!(
        (b.info.Base_Class, b.info.Rev, { b.info.SubVendor_ID }),
        (2, 3, 0x1AF4)
    );

    let (_, b) = call(&mut s, &mut f, Opcode::UNDI_GET_IFACE_INFO, &[0xAAu8; 42]);
    let b = <UndiIfaceInfo as zerocopy::FromBytes>::read_from_bytes(&b).unwrap();
    assert_eq!(&b.IfaceType[..10], b"DIX+802.3\0");
    assert_eq!({ b.LinkSpeed }, 1_000_000_000);
    assert_eq!({ b.ServiceFlags } & service::IRQ, 0);
    assert_eq!({ b.Reserved }, [0; 4]);

    let m = UndiMcastAddress {
        Status: 0,
        InetAddr: [239, 129, 2, 3],
        MediaAddr: [0; 16],
    };
    let (o, b) = call(&mut s, &mut f, Opcode::UNDI_GET_MCAST_ADDRESS, &m);
    assert_eq!(o.status, S::SUCCESS);
    assert_eq!(mac_of(&b.MediaAddr), [1, 0, 0x5E, 1, 2, 3]);
    let m = UndiMcastAddress {
        InetAddr: [10, 0, 0, 1],
        ..m
    };
    assert_eq!(
        call(&mut s, &mut f, Opcode::UNDI_GET_MCAST_ADDRESS, &m)
            .0
            .status,
        S::UNDI_INVALID_PARAMETER
    );
}

#[test]
fn statistics_count_and_clear() {
    let (mut s, mut f) = setup();
    f.peer = None;
    open_raw(&mut s, &mut f);
    let _ = transmit(&mut s, &mut f, proto::P_IP, 1, &[0u8; 50]);
    f.rx.push_back(vec![0xFF; 60]);
    isr(&mut s, &mut f, isr::IN_PROCESS);
    let (_, b) = call(&mut s, &mut f, Opcode::UNDI_GET_STATISTICS, &[0u8; 18]);
    let b = <UndiStatistics as zerocopy::FromBytes>::read_from_bytes(&b).unwrap();
    assert_eq!(({ b.XmtGoodFrames }, { b.RcvGoodFrames }), (1, 1));
    assert_eq!(
        call(&mut s, &mut f, Opcode::UNDI_CLEAR_STATISTICS, &[0u8; 2])
            .0
            .status,
        S::SUCCESS
    );
    assert_eq!(s.stats(), softpxe_pxe::Stats::default());
}

fn set_station(s: &mut softpxe_pxe::PxeStack, f: &mut Fake, mac: [u8; 6]) -> S {
    let b = UndiStationAddress {
        Status: 0,
        StationAddress: mac_field(mac),
    };
    call(s, f, Opcode::UNDI_SET_STATION_ADDRESS, &b).0.status
}

fn set_filter(s: &mut softpxe_pxe::PxeStack, f: &mut Fake, bits: u16) -> S {
    let b = UndiPacketFilter {
        Status: 0,
        filter: bits as u8,
    };
    call(s, f, Opcode::UNDI_SET_PACKET_FILTER, &b).0.status
}

fn set_mcast(s: &mut softpxe_pxe::PxeStack, f: &mut Fake, list: &[[u8; 6]], count: u16) -> S {
    let mut m = UndiMcast {
        Status: 0,
        R_Mcast_Buf: McastList {
            MCastAddrCount: count,
            McastAddr: [mac_field([1, 0, 0x5E, 0, 0, 9]); 8],
        },
    };
    for (dst, mac) in m.R_Mcast_Buf.McastAddr.iter_mut().zip(list) {
        *dst = mac_field(*mac);
    }
    call(s, f, Opcode::UNDI_SET_MCAST_ADDRESS, &m).0.status
}

#[test]
fn set_station_filter_mcast_program_the_open_nic_without_reopening() {
    let (mut s, mut f) = setup();
    open_raw(&mut s, &mut f);
    let opens = f.opens.len();
    let new_mac = [0x02, 1, 2, 3, 4, 5];
    assert_eq!(set_station(&mut s, &mut f, new_mac), S::SUCCESS);
    let group = [1, 0, 0x5E, 1, 2, 3];
    assert_eq!(
        f.configures.last().unwrap(),
        &(new_mac, filter::DIRECTED | filter::BRDCST, vec![group])
    );
    for bad in [[1; 6], [0; 6]] {
        assert_eq!(set_station(&mut s, &mut f, bad), S::UNDI_INVALID_PARAMETER);
    }
    assert_eq!(f.configures.len(), 1, "refused addresses reach no NIC");
    // Raw mode: exactly the NBP's filter, promiscuous included.
    assert_eq!(set_filter(&mut s, &mut f, filter::PRMSCS), S::SUCCESS);
    assert_eq!(f.configures.last().unwrap().1, filter::PRMSCS);
    assert_eq!(set_filter(&mut s, &mut f, filter::BRDCST), S::SUCCESS);
    assert_eq!(f.configures.last().unwrap().1, filter::BRDCST);
    let list = [[1, 0, 0x5E, 0, 0, 7], [1, 0, 0x5E, 0, 0, 8]];
    assert_eq!(set_mcast(&mut s, &mut f, &list, 2), S::SUCCESS);
    assert_eq!(f.configures.last().unwrap().2, list.to_vec());
    assert_eq!(set_mcast(&mut s, &mut f, &list, 200), S::SUCCESS);
    assert_eq!(
        f.configures.last().unwrap().2.len(),
        8,
        "count clamped to 8"
    );
    assert_eq!(
        f.opens.len(),
        opens,
        "the NIC was never reset for these calls"
    );
    assert!(f.open);
    // GET_INFORMATION reports the new station address and the permanent one.
    let zero = [0u8; std::mem::size_of::<UndiInformation>()];
    let (_, b) = call(&mut s, &mut f, Opcode::UNDI_GET_INFORMATION, &zero);
    let b = <UndiInformation as zerocopy::FromBytes>::read_from_bytes(&b).unwrap();
    assert_eq!(
        (mac_of(&b.CurrentNodeAddress), mac_of(&b.PermNodeAddress)),
        (new_mac, OUR_MAC)
    );
}

#[test]
fn a_refused_filter_reports_an_error() {
    let (mut s, mut f) = setup();
    open_raw(&mut s, &mut f);
    f.configure_ok = false;
    assert_eq!(
        set_filter(&mut s, &mut f, filter::PRMSCS),
        S::UNDI_CANNOT_INITIALIZE_NIC
    );
    assert_eq!(
        set_mcast(&mut s, &mut f, &[[1, 0, 0x5E, 0, 0, 7]], 1),
        S::UNDI_CANNOT_INIT_NIC_FOR_MCAST
    );
}

#[test]
fn our_own_ip_path_keeps_directed_and_broadcast_whatever_the_nbp_set() {
    let (mut s, mut f) = setup();
    // Not in raw mode: the NIC is the stack's (TFTP, UDP).
    assert_eq!(set_filter(&mut s, &mut f, filter::PRMSCS), S::SUCCESS);
    assert_eq!(
        f.configures.last().unwrap().1,
        filter::PRMSCS | filter::DIRECTED | filter::BRDCST
    );
    assert_eq!(set_filter(&mut s, &mut f, 0), S::SUCCESS);
    assert_eq!(
        f.configures.last().unwrap().1,
        filter::DIRECTED | filter::BRDCST
    );
    // UNDI_OPEN with broadcast only: the NBP gets exactly that ...
    let mut b = UndiOpen {
        Status: 0,
        OpenFlag: 0,
        PktFilter: filter::BRDCST,
        R_Mcast_Buf: McastList {
            MCastAddrCount: 0,
            McastAddr: [mac_field([0; 6]); 8],
        },
    };
    b.PktFilter = filter::BRDCST;
    let (o, _) = call(&mut s, &mut f, Opcode::UNDI_OPEN, &b);
    assert_eq!(o.status, S::SUCCESS);
    assert_eq!(f.opens.last().unwrap().1, filter::BRDCST);
    // ... and after UNDI_CLOSE the stack reopens with its own frames again.
    let (o, _) = call(&mut s, &mut f, Opcode::UNDI_CLOSE, &[0u8; 2]);
    assert_eq!(o.status, S::SUCCESS);
    let new_mac = [0x02, 9, 9, 9, 9, 9];
    assert_eq!(set_station(&mut s, &mut f, new_mac), S::SUCCESS);
    assert!(
        !f.open && f.configures.len() == 2,
        "a closed NIC is not configured"
    );
    let open = UdpOpen {
        Status: 0,
        src_ip: [0; 4],
    };
    let (o, _) = call(&mut s, &mut f, Opcode::UDP_OPEN, &open);
    assert_eq!(o.status, S::SUCCESS);
    let (mac, flt, _) = f.opens.last().unwrap().clone();
    assert_eq!(mac, new_mac);
    assert_eq!(flt, filter::BRDCST | filter::DIRECTED);
}

#[test]
fn reset_adapter_reopens_with_the_new_list() {
    let (mut s, mut f) = setup();
    open_raw(&mut s, &mut f);
    let m = UndiMcast {
        Status: 0,
        R_Mcast_Buf: McastList {
            MCastAddrCount: 0,
            McastAddr: [mac_field([1, 0, 0x5E, 0, 0, 9]); 8],
        },
    };
    assert_eq!(
        call(&mut s, &mut f, Opcode::UNDI_RESET_ADAPTER, &m)
            .0
            .status,
        S::SUCCESS
    );
    assert!(f.open);
    assert!(f.opens.last().unwrap().2.is_empty());
}

#[test]
fn unsupported_undi_calls() {
    let (mut s, mut f) = setup();
    for op in [Opcode::UNDI_INITIATE_DIAGS, Opcode::UNDI_FORCE_INTERRUPT] {
        let (o, b) = call(&mut s, &mut f, op, &[0u8; 2]);
        assert_eq!((o.exit, o.status), (EXIT_FAILURE, S::UNSUPPORTED));
        assert_eq!(b, S::UNSUPPORTED.0.to_le_bytes());
    }
}

#[test]
fn stop_undi_unloads_or_keeps() {
    let (mut s, mut f) = setup();
    f.hooks_ok = false;
    let (o, b) = call(&mut s, &mut f, Opcode::STOP_UNDI, &[0u8; 2]);
    assert_eq!(
        (o.exit, o.status, o.action),
        (EXIT_FAILURE, S::KEEP_UNDI, None)
    );
    assert_eq!(b, [4, 0]);
    f.hooks_ok = true;
    let (o, _) = call(&mut s, &mut f, Opcode::STOP_UNDI, &[0u8; 2]);
    assert_eq!(
        (o.exit, o.status, o.action),
        (EXIT_SUCCESS, S::SUCCESS, Some(Action::Unload))
    );
    assert!(!f.open);
    let o = dispatch(&mut s, &mut f, Opcode::UNDI_GET_INFORMATION, PARAMS);
    assert_eq!(o.status, S::FAILURE, "nothing works after STOP_UNDI");
}
