//! TFTP_OPEN/READ/CLOSE, READ_FILE (above 1 MiB), GET_FSIZE and RESTART_TFTP against the
//! scripted TFTP server of the fake peer.
mod common;
use common::*;
use softpxe_pxe::abi::*;
use softpxe_pxe::{Action, PxeStack, Status as S};

fn name(n: &str) -> [u8; 128] {
    let mut f = [0u8; 128];
    f[..n.len()].copy_from_slice(n.as_bytes());
    f
}

fn open(
    s: &mut PxeStack,
    f: &mut Fake,
    file: &str,
    packet_size: u16,
) -> (softpxe_pxe::Outcome, TftpOpen) {
    let b = TftpOpen {
        Status: 0,
        ServerIPAddress: PEER_IP.octets(),
        GatewayIPAddress: [0; 4],
        FileName: name(file),
        TFTPPort: port_to_wire(69),
        PacketSize: packet_size,
    };
    call(s, f, Opcode::TFTP_OPEN, &b)
}

fn read_all(s: &mut PxeStack, f: &mut Fake, packet_size: usize) -> (Vec<u8>, Vec<usize>) {
    let mut data = Vec::new();
    let mut sizes = Vec::new();
    for n in 1.. {
        let b = TftpRead {
            Status: 0,
            PacketNumber: 0,
            BufferSize: 0,
            Buffer: BUF,
        };
        let (o, back) = call(s, f, Opcode::TFTP_READ, &b);
        assert_eq!(o.status, S::SUCCESS, "read {n}");
        assert_eq!({ back.PacketNumber }, n as u16);
        let len = usize::from(back.BufferSize);
        data.extend_from_slice(&f.get(BUF, len));
        sizes.push(len);
        if len < packet_size {
            break;
        }
    }
    (data, sizes)
}

#[test]
fn open_read_close_rechunks_to_packet_size() {
    let (mut s, mut f) = setup();
    let file = pattern(10_000);
    f.peer
        .as_mut()
        .unwrap()
        .files
        .push(("boot/kernel".into(), file.clone()));
    let (o, b) = open(&mut s, &mut f, "boot/kernel", 1024);
    assert_eq!((o.exit, o.status), (EXIT_SUCCESS, S::SUCCESS));
    assert_eq!({ b.PacketSize }, 1024);
    let opts = &f.peer.as_ref().unwrap().rrqs[0];
    assert!(
        opts.iter().any(|(k, v)| k == "blksize" && v == "1468"),
        "{opts:?}"
    );
    assert!(opts.iter().any(|(k, _)| k == "windowsize"));
    let (data, sizes) = read_all(&mut s, &mut f, 1024);
    assert!(data == file, "file content differs");
    assert!(sizes[..sizes.len() - 1].iter().all(|&n| n == 1024));
    assert_eq!(*sizes.last().unwrap(), 10_000 % 1024);
    assert_eq!(
        call(&mut s, &mut f, Opcode::TFTP_CLOSE, &[0u8; 2]).0.status,
        S::SUCCESS
    );
    let b = TftpRead {
        Status: 0,
        PacketNumber: 0,
        BufferSize: 0,
        Buffer: BUF,
    };
    assert_eq!(
        call(&mut s, &mut f, Opcode::TFTP_READ, &b).0.status,
        S::TFTP_CLOSED
    );
}

#[test]
fn exact_multiple_ends_with_empty_packet() {
    let (mut s, mut f) = setup();
    let file = pattern(4096);
    f.peer
        .as_mut()
        .unwrap()
        .files
        .push(("f".into(), file.clone()));
    assert_eq!(open(&mut s, &mut f, "f", 512).0.status, S::SUCCESS);
    let (data, sizes) = read_all(&mut s, &mut f, 512);
    assert!(data == file, "file content differs");
    assert_eq!(sizes.len(), 9);
    assert_eq!(*sizes.last().unwrap(), 0);
}

#[test]
fn large_file_through_small_ring_with_windowsize() {
    let (mut s, mut f) = setup();
    let file = pattern(100_000);
    f.peer
        .as_mut()
        .unwrap()
        .files
        .push(("big".into(), file.clone()));
    f.peer.as_mut().unwrap().max_window = 8;
    assert_eq!(open(&mut s, &mut f, "big", 1456).0.status, S::SUCCESS);
    let (data, _) = read_all(&mut s, &mut f, 1456);
    assert!(data == file, "file content differs");
}

/// A block lost in a window while less than one PacketSize of data waits in the ring: the
/// client's gap ACK must still go out (the window leaves room for it), or the NBP, blocked in
/// TFTP_READ, and the transfer wait for each other (seen under 10 % loss in the emulator).
#[test]
fn a_lost_block_with_a_partly_read_ring_does_not_deadlock() {
    let mut cfg = config();
    cfg.tftp.windowsize = 16; // the BIOS default: as much window as the ring takes
    let mut s = Box::new(softpxe_pxe::PxeStack::new(cfg, OUR_MAC).unwrap());
    s.configure(
        OUR_IP,
        Some(softpxe_net::Ipv4Addr::new(255, 255, 255, 0)),
        None,
    );
    let mut f = Fake::new();
    let file = pattern(60_000);
    let peer = f.peer.as_mut().unwrap();
    peer.files.push(("lossy".into(), file.clone()));
    peer.max_window = 16;
    // block 1 arrives (1468 bytes; two 512-byte reads leave 444), block 2 is lost
    peer.lose_once = vec![2];
    assert_eq!(open(&mut s, &mut f, "lossy", 512).0.status, S::SUCCESS);
    let (data, _) = read_all(&mut s, &mut f, 512);
    assert!(data == file, "file content differs");
}

#[test]
fn server_without_options_and_small_packet_size() {
    let (mut s, mut f) = setup();
    let file = pattern(3000);
    f.peer
        .as_mut()
        .unwrap()
        .files
        .push(("x".into(), file.clone()));
    f.peer.as_mut().unwrap().options = false;
    let (o, b) = open(&mut s, &mut f, "x", 100);
    assert_eq!(o.status, S::SUCCESS);
    assert_eq!(
        { b.PacketSize },
        512,
        "PacketSize below 512 is raised to 512"
    );
    let (data, _) = read_all(&mut s, &mut f, 512);
    assert!(data == file, "file content differs");
}

#[test]
fn open_errors() {
    let (mut s, mut f) = setup();
    assert_eq!(
        open(&mut s, &mut f, "missing", 512).0.status,
        S::TFTP_FILE_NOT_FOUND
    );
    let (mut s, mut f) = setup();
    f.peer.as_mut().unwrap().answer_arp = false;
    let (o, _) = open(&mut s, &mut f, "missing", 512);
    assert_eq!(
        (o.exit, o.status),
        (EXIT_FAILURE, S::TFTP_CANNOT_ARP_ADDRESS)
    );
    let b = TftpOpen {
        Status: 0,
        ServerIPAddress: [0; 4],
        GatewayIPAddress: [0; 4],
        FileName: name("a"),
        TFTPPort: 0,
        PacketSize: 512,
    };
    assert_eq!(
        call(&mut s, &mut f, Opcode::TFTP_OPEN, &b).0.status,
        S::TFTP_CANNOT_OPEN_CONNECTION
    );
    let b = TftpOpen {
        ServerIPAddress: [192, 168, 9, 9],
        ..b
    };
    assert_eq!(
        call(&mut s, &mut f, Opcode::TFTP_OPEN, &b).0.status,
        S::TFTP_CANNOT_OPEN_CONNECTION,
        "off-link, no gateway"
    );
    f.peer = None;
    let b = TftpOpen {
        ServerIPAddress: [10, 0, 2, 255],
        ..b
    };
    assert_eq!(
        call(&mut s, &mut f, Opcode::TFTP_OPEN, &b).0.status,
        S::TFTP_OPEN_TIMEOUT
    );
}

#[test]
fn read_with_bad_buffer_fails_without_losing_data() {
    let (mut s, mut f) = setup();
    let file = pattern(2000);
    f.peer
        .as_mut()
        .unwrap()
        .files
        .push(("f".into(), file.clone()));
    assert_eq!(open(&mut s, &mut f, "f", 512).0.status, S::SUCCESS);
    let b = TftpRead {
        Status: 0,
        PacketNumber: 0,
        BufferSize: 0,
        Buffer: SegOff16::new(0x1000, 0xFF00),
    };
    assert_eq!(
        call(&mut s, &mut f, Opcode::TFTP_READ, &b).0.status,
        S::FAILURE
    );
    let (data, _) = read_all(&mut s, &mut f, 512);
    assert!(data == file, "file content differs");
}

fn read_file(
    s: &mut PxeStack,
    f: &mut Fake,
    file: &str,
    buffer: u32,
    size: u32,
) -> (softpxe_pxe::Outcome, TftpReadFile) {
    let b = TftpReadFile {
        Status: 0,
        FileName: name(file),
        BufferSize: size,
        Buffer: buffer,
        ServerIPAddress: PEER_IP.octets(),
        GatewayIPAddress: [0; 4],
        McastIPAddress: [0; 4],
        TFTPClntPort: 0,
        TFTPSrvPort: 0,
        TFTPOpenTimeOut: 0,
        TFTPReopenDelay: 0,
    };
    call(s, f, Opcode::TFTP_READ_FILE, &b)
}

#[test]
fn read_file_above_1mib() {
    let (mut s, mut f) = setup();
    let file = pattern(50_000);
    f.peer
        .as_mut()
        .unwrap()
        .files
        .push(("ntldr".into(), file.clone()));
    let (o, b) = read_file(&mut s, &mut f, "ntldr", 0x10_0000, 0x1_0000);
    assert_eq!((o.exit, o.status), (EXIT_SUCCESS, S::SUCCESS));
    assert_eq!({ b.BufferSize }, 50_000);
    assert!(f.mem[0x10_0000..0x10_0000 + 50_000] == file[..]);
}

#[test]
fn read_file_refuses_small_buffer_core_overlap_and_bad_address() {
    let (mut s, mut f) = setup();
    f.peer
        .as_mut()
        .unwrap()
        .files
        .push(("f".into(), pattern(5000)));
    assert_eq!(
        read_file(&mut s, &mut f, "f", 0x10_0000, 4000).0.status,
        S::OUT_OF_RESOURCES
    );
    assert_eq!(
        read_file(&mut s, &mut f, "f", CORE.start as u32 - 100, 0x8000)
            .0
            .status,
        S::OUT_OF_RESOURCES
    );
    assert_eq!(
        read_file(&mut s, &mut f, "f", 0xFFFF_F000, 0x2000).0.status,
        S::FAILURE
    );
    assert_eq!(
        read_file(&mut s, &mut f, "f", 0x10_0000, 0).0.status,
        S::FAILURE
    );
    assert_eq!(
        read_file(&mut s, &mut f, "nope", 0x10_0000, 0x2000)
            .0
            .status,
        S::TFTP_FILE_NOT_FOUND
    );
}

#[test]
fn get_fsize_uses_tsize() {
    let (mut s, mut f) = setup();
    f.peer
        .as_mut()
        .unwrap()
        .files
        .push(("pxelinux.cfg/default".into(), pattern(1234)));
    let b = TftpGetFsize {
        Status: 0,
        ServerIPAddress: PEER_IP.octets(),
        GatewayIPAddress: [0; 4],
        FileName: name("pxelinux.cfg/default"),
        FileSize: 0,
    };
    let (o, back) = call(&mut s, &mut f, Opcode::TFTP_GET_FSIZE, &b);
    assert_eq!(o.status, S::SUCCESS);
    assert_eq!({ back.FileSize }, 1234);
    assert_eq!(
        f.peer.as_ref().unwrap().rrqs[0],
        vec![("tsize".to_string(), "0".to_string())]
    );
    f.peer.as_mut().unwrap().options = false;
    assert_eq!(
        call(&mut s, &mut f, Opcode::TFTP_GET_FSIZE, &b).0.status,
        S::TFTP_NO_FILESIZE
    );
}

#[test]
fn restart_tftp_loads_to_7c00_and_asks_for_start() {
    let (mut s, mut f) = setup();
    let nbp = pattern(70_000);
    f.peer
        .as_mut()
        .unwrap()
        .files
        .push(("undionly.kpxe".into(), nbp.clone()));
    let (o, b) = read_file(&mut s, &mut f, "undionly.kpxe", 0, 0);
    assert_eq!(o.status, S::FAILURE, "READ_FILE with size 0");
    let (o, _) = call(&mut s, &mut f, Opcode::RESTART_TFTP, &b);
    assert_eq!(o.status, S::SUCCESS);
    assert_eq!(o.action, Some(Action::StartNbp { size: 70_000 }));
    assert!(f.mem[0x7C00..0x7C00 + 70_000] == nbp[..]);
}
