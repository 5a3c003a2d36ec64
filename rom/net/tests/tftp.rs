//! TFTP client: options, fallbacks, windows, loss, TIDs, errors, timeouts, rollover (host tests).
use softpxe_net::tftp::packet::{OptionsBuf, Repr};
use softpxe_net::tftp::*;
use softpxe_net::{Instant, Ipv4Addr, Transmit, UdpMeta};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PORT: u16 = 2070;
const TID: u16 = 40000;

#[derive(Default)]
struct Mem {
    data: Vec<u8>,
    size: Option<u64>,
    limit: Option<u64>,
}

impl Sink for Mem {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SinkFull> {
        let end = offset as usize + data.len();
        if self.limit.is_some_and(|l| end as u64 > l) {
            return Err(SinkFull);
        }
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        self.data[offset as usize..end].copy_from_slice(data);
        Ok(())
    }
    fn announce_size(&mut self, size: u64) -> Result<(), SinkFull> {
        self.size = Some(size);
        Ok(())
    }
}

fn file(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn sends(c: &mut TftpClient, now: u64) -> Vec<(Transmit, Vec<u8>)> {
    let mut out = vec![];
    let mut buf = [0u8; 1500];
    while let Some(t) = c.poll(Instant(now), &mut buf) {
        out.push((t, buf[..t.len].to_vec()));
        assert!(out.len() < 10);
    }
    out
}

fn from(port: u16) -> UdpMeta {
    UdpMeta {
        src_ip: SERVER,
        src_port: port,
        dst_ip: Ipv4Addr::new(10, 0, 0, 2),
        dst_port: PORT,
    }
}

fn pkt(r: Repr) -> Vec<u8> {
    let mut b = vec![0u8; 2000];
    let n = r.emit(&mut b).unwrap();
    b.truncate(n);
    b
}

fn data(block: u16, d: &[u8]) -> Vec<u8> {
    pkt(Repr::Data { block, data: d })
}

fn oack(opts: &[(&[u8], u64)]) -> Vec<u8> {
    let mut o = OptionsBuf::new();
    for (k, v) in opts {
        o.push(k, *v);
    }
    pkt(Repr::Oack {
        options: o.options(),
    })
}

fn acks(out: &[(Transmit, Vec<u8>)]) -> Vec<u16> {
    out.iter()
        .map(|(t, b)| {
            assert_eq!((t.dst_ip, t.dst_port, t.src_port), (SERVER, TID, PORT));
            match Repr::parse(b).unwrap() {
                Repr::Ack { block } => block,
                other => panic!("expected ACK, got {other:?}"),
            }
        })
        .collect()
}

fn cfg(blksize: u16, windowsize: u16) -> TftpConfig {
    TftpConfig {
        blksize,
        windowsize,
        ..TftpConfig::default()
    }
}

/// Serve `f` in windows after an OACK, optionally dropping some block numbers once.
fn serve(c: &mut TftpClient, sink: &mut Mem, f: &[u8], blk: usize, win: usize, mut drop: Vec<u64>) {
    let mut now = 10;
    let total_blocks = f.len() / blk + 1;
    let mut next = 1u64; // next block index the server sends
    let mut rounds = 0;
    while c.state() == TftpState::Transferring && rounds < 1_000_000 {
        rounds += 1;
        let mut last_ack = None;
        for _ in 0..win {
            if next as usize > total_blocks {
                break;
            }
            let i = next as usize - 1;
            let chunk = &f[(i * blk).min(f.len())..((i + 1) * blk).min(f.len())];
            if let Some(pos) = drop.iter().position(|&d| d == next) {
                drop.remove(pos);
            } else {
                c.handle(Instant(now), &from(TID), &data(next as u16, chunk), sink);
                for a in acks(&sends(c, now)) {
                    last_ack = Some(a);
                }
            }
            next += 1;
        }
        if last_ack.is_none() {
            now += 1000;
            last_ack = acks(&sends(c, now)).last().copied();
        }
        if let Some(a) = last_ack {
            // Server restarts after the acknowledged block (mod 65536, nearest below `next`).
            let mut n = next - 1;
            while n as u16 != a {
                n -= 1;
            }
            next = n + 1;
        }
        now += 1;
    }
}

fn open_with_oack(c: &mut TftpClient, sink: &mut Mem, opts: &[(&[u8], u64)]) {
    let rrq = sends(c, 0);
    assert_eq!(rrq[0].0.dst_port, 69);
    c.handle(Instant(5), &from(TID), &oack(opts), sink);
    assert_eq!(acks(&sends(c, 5)), vec![0]);
}

#[test]
fn rrq_carries_options() {
    let mut c = TftpClient::new(
        Instant(0),
        cfg(1468, 8),
        Mode::Read,
        SERVER,
        PORT,
        b"pxelinux.0",
    );
    let out = sends(&mut c, 0);
    let (t, b) = &out[0];
    assert_eq!((t.dst_ip, t.dst_port, t.src_port), (SERVER, 69, PORT));
    match Repr::parse(b).unwrap() {
        Repr::Rrq {
            filename,
            mode,
            options,
        } => {
            assert_eq!((filename, mode), (&b"pxelinux.0"[..], &b"octet"[..]));
            let o: Vec<(Vec<u8>, Vec<u8>)> = options
                .iter()
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect();
            assert_eq!(
                o,
                vec![
                    (b"blksize".to_vec(), b"1468".to_vec()),
                    (b"tsize".to_vec(), b"0".to_vec()),
                    (b"windowsize".to_vec(), b"8".to_vec()),
                    (b"timeout".to_vec(), b"1".to_vec())
                ]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn oack_window_transfer_reassembles_exactly() {
    let f = file(10_000);
    let mut c = TftpClient::new(Instant(0), cfg(1468, 4), Mode::Read, SERVER, PORT, b"f");
    let mut sink = Mem::default();
    open_with_oack(
        &mut c,
        &mut sink,
        &[(b"blksize", 1024), (b"tsize", 10_000), (b"windowsize", 4)],
    );
    let n = c.negotiated();
    assert_eq!(
        (n.blksize, n.windowsize, n.tsize, n.options_accepted),
        (1024, 4, Some(10_000), true)
    );
    assert_eq!(sink.size, Some(10_000));
    // Window of 4: ACK only after blocks 4 and 8, then the short block 10.
    let mut got = vec![];
    for b in 1..=10u16 {
        let i = usize::from(b - 1) * 1024;
        c.handle(
            Instant(10),
            &from(TID),
            &data(b, &f[i..(i + 1024).min(f.len())]),
            &mut sink,
        );
        got.extend(acks(&sends(&mut c, 10)));
    }
    assert_eq!(got, vec![4, 8, 10]);
    assert_eq!(c.result(), Some(Ok(10_000)));
    assert_eq!(sink.data, f);
}

#[test]
fn lost_block_in_window_reacks_and_recovers() {
    let f = file(8 * 100 + 17);
    let mut c = TftpClient::new(Instant(0), cfg(100, 4), Mode::Read, SERVER, PORT, b"f");
    let mut sink = Mem::default();
    open_with_oack(&mut c, &mut sink, &[(b"blksize", 100), (b"windowsize", 4)]);
    // Block 2 lost: blocks 3 and 4 trigger one re-ACK of 1.
    c.handle(Instant(10), &from(TID), &data(1, &f[..100]), &mut sink);
    assert!(sends(&mut c, 10).is_empty());
    c.handle(Instant(11), &from(TID), &data(3, &f[200..300]), &mut sink);
    assert_eq!(acks(&sends(&mut c, 11)), vec![1]);
    c.handle(Instant(12), &from(TID), &data(4, &f[300..400]), &mut sink);
    assert!(sends(&mut c, 12).is_empty(), "one re-ACK per gap");
    serve_from(&mut c, &mut sink, &f, 2);
    assert_eq!(sink.data, f);
}

fn serve_from(c: &mut TftpClient, sink: &mut Mem, f: &[u8], first: u16) {
    let blocks = f.len() / 100 + 1;
    for b in first..=blocks as u16 {
        let i = usize::from(b - 1) * 100;
        c.handle(
            Instant(20),
            &from(TID),
            &data(b, &f[i..(i + 100).min(f.len())]),
            sink,
        );
        sends(c, 20);
    }
    assert_eq!(c.result(), Some(Ok(f.len() as u64)));
}

#[test]
fn whole_file_with_drops_via_simulated_server() {
    let f = file(5000);
    let mut c = TftpClient::new(Instant(0), cfg(256, 8), Mode::Read, SERVER, PORT, b"f");
    let mut sink = Mem::default();
    open_with_oack(&mut c, &mut sink, &[(b"blksize", 256), (b"windowsize", 8)]);
    serve(&mut c, &mut sink, &f, 256, 8, vec![3, 8, 9, 17, 20]);
    assert_eq!(c.result(), Some(Ok(5000)));
    assert_eq!(sink.data, f);
}

#[test]
fn server_ignoring_options_falls_back_to_512() {
    let f = file(1300);
    let mut c = TftpClient::new(Instant(0), cfg(1468, 8), Mode::Read, SERVER, PORT, b"f");
    let mut sink = Mem::default();
    sends(&mut c, 0);
    c.handle(Instant(5), &from(TID), &data(1, &f[..512]), &mut sink);
    assert_eq!(acks(&sends(&mut c, 5)), vec![1]);
    let n = c.negotiated();
    assert_eq!(
        (n.blksize, n.windowsize, n.options_accepted),
        (512, 1, false)
    );
    // Duplicate block 1 right after our ACK (a network duplicate): no second ACK, so a server
    // that resends on duplicate ACKs is not set off (Sorcerer's Apprentice).
    c.handle(Instant(6), &from(TID), &data(1, &f[..512]), &mut sink);
    assert_eq!(acks(&sends(&mut c, 6)), Vec::<u16>::new());
    // Duplicate block 1 an ACK timeout later (the server's timer: our ACK was lost): re-ACK 1.
    c.handle(Instant(255), &from(TID), &data(1, &f[..512]), &mut sink);
    assert_eq!(acks(&sends(&mut c, 255)), vec![1]);
    c.handle(Instant(7), &from(TID), &data(2, &f[512..1024]), &mut sink);
    c.handle(Instant(8), &from(TID), &data(3, &f[1024..]), &mut sink);
    assert_eq!(acks(&sends(&mut c, 8)), vec![3]);
    assert_eq!(sink.data, f);
    assert_eq!(c.state(), TftpState::Done);
    // Final ACK lost: the server resends the last block, we ACK again.
    c.handle(Instant(9), &from(TID), &data(3, &f[1024..]), &mut sink);
    assert_eq!(acks(&sends(&mut c, 9)), vec![3]);
}

#[test]
fn error_8_retries_without_options() {
    let mut c = TftpClient::new(Instant(0), cfg(1468, 8), Mode::Read, SERVER, PORT, b"f");
    let mut sink = Mem::default();
    sends(&mut c, 0);
    c.handle(
        Instant(5),
        &from(TID),
        &pkt(Repr::Error {
            code: 8,
            msg: b"no options",
        }),
        &mut sink,
    );
    let out = sends(&mut c, 5);
    match Repr::parse(&out[0].1).unwrap() {
        Repr::Rrq { options, .. } => assert_eq!(options.iter().count(), 0),
        other => panic!("{other:?}"),
    }
    assert_eq!(out[0].0.dst_port, 69);
    c.handle(Instant(6), &from(TID + 1), &data(1, b"tiny"), &mut sink);
    assert_eq!(c.result(), Some(Ok(4)));
}

#[test]
fn wrong_tid_gets_error_5_and_is_ignored() {
    let mut c = TftpClient::new(Instant(0), cfg(512, 1), Mode::Read, SERVER, PORT, b"f");
    let mut sink = Mem::default();
    sends(&mut c, 0);
    c.handle(Instant(5), &from(TID), &data(1, &[1; 512]), &mut sink);
    sends(&mut c, 5);
    c.handle(Instant(6), &from(TID + 7), &data(2, &[9; 10]), &mut sink);
    let out = sends(&mut c, 6);
    assert_eq!(out[0].0.dst_port, TID + 7);
    assert!(matches!(
        Repr::parse(&out[0].1).unwrap(),
        Repr::Error { code: 5, .. }
    ));
    assert_eq!(c.state(), TftpState::Transferring);
    c.handle(Instant(7), &from(TID), &data(2, &[2; 3]), &mut sink);
    assert_eq!(sink.data.len(), 515);
    assert_eq!(&sink.data[512..], &[2, 2, 2]);
}

#[test]
fn server_error_is_surfaced_as_e3b() {
    let mut c = TftpClient::new(Instant(0), cfg(1468, 8), Mode::Read, SERVER, PORT, b"nope");
    sends(&mut c, 0);
    c.handle(
        Instant(5),
        &from(TID),
        &pkt(Repr::Error {
            code: 1,
            msg: b"File not found",
        }),
        &mut Mem::default(),
    );
    let e = c.result().unwrap().unwrap_err();
    assert_eq!(e.pxe_code(), "PXE-E3B");
    assert_eq!(e.to_string(), "PXE-E3B: TFTP error 1: File not found");
}

#[test]
fn open_timeout_is_e32_with_backoff() {
    let mut c = TftpClient::new(
        Instant(0),
        TftpConfig {
            retries: 3,
            ..cfg(1468, 8)
        },
        Mode::Read,
        SERVER,
        PORT,
        b"f",
    );
    let mut at = vec![];
    for t in (0..30_000).step_by(100) {
        if !sends(&mut c, t).is_empty() {
            at.push(t);
        }
    }
    assert_eq!(at, vec![0, 1000, 3000, 7000]);
    assert_eq!(c.result(), Some(Err(TftpError::OpenTimeout)));
    assert_eq!(TftpError::OpenTimeout.pxe_code(), "PXE-E32");
}

#[test]
fn read_timeout_reacks_then_fails() {
    let mut c = TftpClient::new(
        Instant(0),
        TftpConfig {
            read_timeout_ms: 1000,
            ..cfg(512, 1)
        },
        Mode::Read,
        SERVER,
        PORT,
        b"f",
    );
    let mut sink = Mem::default();
    sends(&mut c, 0);
    c.handle(Instant(100), &from(TID), &data(1, &[0; 512]), &mut sink);
    assert_eq!(acks(&sends(&mut c, 100)), vec![1]);
    // ack_timeout_ms (250, no round trip measured) doubling: re-ACKs at +250 and +750; the
    // timer at +1750 is past read_timeout_ms (1000) since block 1: failure.
    assert_eq!(acks(&sends(&mut c, 349)), Vec::<u16>::new());
    assert_eq!(acks(&sends(&mut c, 350)), vec![1]);
    assert_eq!(acks(&sends(&mut c, 850)), vec![1]);
    assert_eq!(c.stats().timeouts, 2);
    assert_eq!(sends(&mut c, 1849).len(), 0);
    let last = sends(&mut c, 1850);
    assert!(matches!(
        Repr::parse(&last[0].1).unwrap(),
        Repr::Error { code: 0, .. }
    ));
    assert_eq!(c.result().unwrap().unwrap_err().pxe_code(), "PXE-E35");
}

#[test]
fn rollover_past_65535_blocks() {
    let blk = 8usize;
    let f = file(70_000 * blk + 3);
    let mut c = TftpClient::new(Instant(0), cfg(8, 16), Mode::Read, SERVER, PORT, b"big");
    let mut sink = Mem::default();
    open_with_oack(&mut c, &mut sink, &[(b"blksize", 8), (b"windowsize", 16)]);
    serve(&mut c, &mut sink, &f, blk, 16, vec![65535, 65536, 65540]);
    assert_eq!(c.result(), Some(Ok(f.len() as u64)));
    assert!(
        sink.data == f,
        "file reassembled across the block number wrap"
    );
}

#[test]
fn get_size_reads_tsize_then_aborts() {
    let mut c = TftpClient::new(Instant(0), cfg(1468, 8), Mode::SizeOnly, SERVER, PORT, b"f");
    let out = sends(&mut c, 0);
    match Repr::parse(&out[0].1).unwrap() {
        Repr::Rrq { options, .. } => {
            let o: Vec<&[u8]> = options.iter().map(|(k, _)| k).collect();
            assert_eq!(o, vec![&b"tsize"[..]]);
        }
        other => panic!("{other:?}"),
    }
    c.handle(
        Instant(5),
        &from(TID),
        &oack(&[(b"tsize", 123_456)]),
        &mut Mem::default(),
    );
    assert_eq!(c.result(), Some(Ok(123_456)));
    let out = sends(&mut c, 5);
    assert_eq!(out[0].0.dst_port, TID);
    assert!(matches!(
        Repr::parse(&out[0].1).unwrap(),
        Repr::Error { code: 0, .. }
    ));
}

#[test]
fn bad_oack_value_is_refused_with_error_8() {
    let mut c = TftpClient::new(Instant(0), cfg(1024, 4), Mode::Read, SERVER, PORT, b"f");
    sends(&mut c, 0);
    c.handle(
        Instant(5),
        &from(TID),
        &oack(&[(b"blksize", 9000)]),
        &mut Mem::default(),
    );
    assert_eq!(c.result(), Some(Err(TftpError::BadOack)));
    assert!(matches!(
        Repr::parse(&sends(&mut c, 5)[0].1).unwrap(),
        Repr::Error { code: 8, .. }
    ));
}

#[test]
fn sink_full_aborts_with_error_3() {
    let mut c = TftpClient::new(Instant(0), cfg(512, 1), Mode::Read, SERVER, PORT, b"f");
    let mut sink = Mem {
        limit: Some(600),
        ..Mem::default()
    };
    sends(&mut c, 0);
    c.handle(Instant(5), &from(TID), &data(1, &[0; 512]), &mut sink);
    sends(&mut c, 5);
    c.handle(Instant(6), &from(TID), &data(2, &[0; 512]), &mut sink);
    assert_eq!(c.result(), Some(Err(TftpError::SinkFull)));
    assert!(matches!(
        Repr::parse(&sends(&mut c, 6)[0].1).unwrap(),
        Repr::Error { code: 3, .. }
    ));
}

#[test]
fn packet_round_trips() {
    let mut o = OptionsBuf::new();
    o.push(b"blksize", 1468);
    for r in [
        Repr::Rrq {
            filename: b"a/b",
            mode: b"octet",
            options: o.options(),
        },
        Repr::Data {
            block: 65535,
            data: b"xyz",
        },
        Repr::Ack { block: 7 },
        Repr::Error {
            code: 2,
            msg: b"denied",
        },
        Repr::Oack {
            options: o.options(),
        },
    ] {
        assert_eq!(Repr::parse(&pkt(r)).unwrap(), r);
    }
    assert!(Repr::parse(&[0, 3, 0]).is_err());
    assert!(Repr::parse(&[0, 9, 0, 0]).is_err());
    assert!(Repr::parse(&[0, 6, b'a', 0, b'1']).is_err());
}
