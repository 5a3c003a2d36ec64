//! DNS resolver: answers, CNAME chains, several servers, timeouts, spoof checks, hostile
//! answers (host tests, explicit timestamps). Also the lease's option 6 and 15.
mod common;
use common::*;
use softpxe_net::dhcp::packet::code;
use softpxe_net::dhcp::{DhcpClient, DhcpConfig};
use softpxe_net::dns::answer::{Name, MAX_CHAIN};
use softpxe_net::dns::{
    DnsError, DnsEvent, Resolver, ServerError, MAX_ALIASES, SERVER_PORT, TIMEOUTS_MS,
};
use softpxe_net::{Instant, Ipv4Addr, Transmit, UdpMeta};

const S1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 53);
const S2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 54);
const S3: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 55);
const BOOT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 9);

/// `a.b.c` in uncompressed wire form.
fn wire(name: &str) -> Vec<u8> {
    let mut v = vec![];
    for l in name.split('.').filter(|l| !l.is_empty()) {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v.push(0);
    v
}

/// A query the resolver sent, as a server sees it.
#[derive(Debug)]
struct Query {
    to: Ipv4Addr,
    port: u16,
    id: u16,
    name: Vec<u8>,
    raw: Vec<u8>,
}

fn send(r: &mut Resolver, now: u64) -> Option<Query> {
    let mut buf = [0u8; 512];
    let t: Transmit = r.poll(Instant(now), &mut buf)?;
    assert!(
        r.poll(Instant(now), &mut buf).is_none(),
        "one query at a time"
    );
    assert_eq!(t.dst_port, SERVER_PORT);
    let raw = buf[..t.len].to_vec();
    assert_eq!(raw[2] & 0x81, 0x01, "a query (QR 0) with RD set");
    assert_eq!(&raw[4..12], &[0, 1, 0, 0, 0, 0, 0, 0], "one question");
    assert_eq!(&raw[t.len - 4..], &[0, 1, 0, 1], "type A, class IN");
    Some(Query {
        to: t.dst_ip,
        port: t.src_port,
        id: u16::from_be_bytes([raw[0], raw[1]]),
        name: raw[12..t.len - 4].to_vec(),
        raw,
    })
}

/// An answer record: owner name (wire bytes, pointers allowed), type, data.
struct Rr(Vec<u8>, u16, Vec<u8>);

fn a(owner: Vec<u8>, ip: Ipv4Addr) -> Rr {
    Rr(owner, 1, ip.octets().to_vec())
}
fn cname(owner: Vec<u8>, target: Vec<u8>) -> Rr {
    Rr(owner, 5, target)
}
/// Pointer to the question name (offset 12).
fn q() -> Vec<u8> {
    vec![0xc0, 12]
}

/// An answer to `query` with flags (QR, RD, RA, `extra`) and `rcode`.
fn answer(query: &Query, extra: u16, rcode: u16, rrs: &[Rr]) -> Vec<u8> {
    let mut m = query.raw[..2].to_vec();
    m.extend_from_slice(&(0x8180 | extra | rcode).to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m.extend_from_slice(&(rrs.len() as u16).to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(&query.name);
    m.extend_from_slice(&[0, 1, 0, 1]);
    for Rr(owner, ty, data) in rrs {
        m.extend_from_slice(owner);
        m.extend_from_slice(&ty.to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 0, 0x0e, 0x10]);
        m.extend_from_slice(&(data.len() as u16).to_be_bytes());
        m.extend_from_slice(data);
    }
    m
}

fn from(query: &Query) -> UdpMeta {
    UdpMeta {
        src_ip: query.to,
        src_port: SERVER_PORT,
        dst_ip: Ipv4Addr::new(10, 0, 0, 50),
        dst_port: query.port,
    }
}

fn reply(r: &mut Resolver, now: u64, query: &Query, msg: &[u8]) -> bool {
    r.handle(Instant(now), &from(query), msg)
}

fn resolver(name: &str, servers: &[Ipv4Addr]) -> Resolver {
    Resolver::new(Instant(0), name.as_bytes(), servers, b"", 0x1234_5678)
}

fn events(r: &mut Resolver) -> Vec<DnsEvent> {
    std::iter::from_fn(|| r.pop_event()).collect()
}

#[test]
fn a_record_answer() {
    let mut r = resolver("boot.example.org", &[S1]);
    let qy = send(&mut r, 0).expect("a query");
    assert_eq!(qy.to, S1);
    assert!(qy.port >= 49152);
    assert_eq!(qy.name, wire("boot.example.org"));
    assert!(reply(&mut r, 20, &qy, &answer(&qy, 0, 0, &[a(q(), BOOT)])));
    assert_eq!(r.result(), Some(Ok(BOOT)));
    assert!(send(&mut r, 30).is_none());
}

#[test]
fn dotted_quad_and_bad_names_finish_at_once() {
    let r = resolver("10.0.0.9", &[]);
    assert_eq!(r.result(), Some(Ok(BOOT)));
    for bad in [
        "",
        ".",
        "a..b",
        "10.0.0.256",
        "with space.lan",
        &"x".repeat(64),
        &["y".repeat(63).as_str(); 4].join("."),
    ] {
        let r = resolver(bad, &[S1]);
        assert_eq!(r.result(), Some(Err(DnsError::BadName)), "{bad:?}");
    }
    // 253 characters is the longest name; a final dot is allowed
    let longest = format!(
        "{}.{}",
        ["z".repeat(63).as_str(); 3].join("."),
        "w".repeat(61)
    );
    assert_eq!(longest.len(), 253);
    let mut r = resolver(&format!("{longest}."), &[S1]);
    assert_eq!(send(&mut r, 0).unwrap().name, wire(&longest));
    let r = resolver("boot.lan", &[]);
    assert_eq!(r.result(), Some(Err(DnsError::NoServers)));
    let r = resolver("boot.lan", &[Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST]);
    assert_eq!(r.result(), Some(Err(DnsError::NoServers)));
}

#[test]
fn cname_chain_inside_the_answer() {
    let mut r = resolver("boot.lan", &[S1]);
    let qy = send(&mut r, 0).unwrap();
    // out of order, with compression, and the case changed
    let msg = answer(
        &qy,
        0,
        0,
        &[
            a(wire("Alias2.Example"), BOOT),
            cname(q(), wire("alias1.example")),
            cname(wire("ALIAS1.example"), wire("alias2.example")),
            a(wire("other.example"), S3),
        ],
    );
    assert!(reply(&mut r, 5, &qy, &msg));
    assert_eq!(r.result(), Some(Ok(BOOT)));
}

#[test]
fn cname_only_answer_needs_a_second_query() {
    let mut r = resolver("boot.lan", &[S1, S2]);
    let q1 = send(&mut r, 0).unwrap();
    assert!(reply(
        &mut r,
        5,
        &q1,
        &answer(&q1, 0, 0, &[cname(q(), wire("real.example.net"))])
    ));
    assert_eq!(r.result(), None);
    let q2 = send(&mut r, 5).expect("a query for the alias target");
    assert_eq!(q2.to, S1, "the server that answered is asked again");
    assert_eq!(q2.name, wire("real.example.net"));
    assert_eq!(r.qname().to_string(), "real.example.net");
    assert!(q2.id != q1.id || q2.port != q1.port, "a new id and port");
    // a late answer to the first query is ignored now
    assert!(!reply(&mut r, 6, &q1, &answer(&q1, 0, 0, &[a(q(), S3)])));
    assert!(reply(&mut r, 9, &q2, &answer(&q2, 0, 0, &[a(q(), BOOT)])));
    assert_eq!(r.result(), Some(Ok(BOOT)));
    assert!(events(&mut r).contains(&DnsEvent::Alias));
}

#[test]
fn nxdomain_from_the_first_server_then_success_from_the_second() {
    let mut r = resolver("boot.lan", &[S1, S2]);
    let q1 = send(&mut r, 0).unwrap();
    assert!(reply(&mut r, 10, &q1, &answer(&q1, 0, 3, &[])));
    assert_eq!(r.result(), None);
    let q2 = send(&mut r, 10).expect("the second server is asked at once");
    assert_eq!(q2.to, S2);
    assert!(reply(&mut r, 20, &q2, &answer(&q2, 0, 0, &[a(q(), BOOT)])));
    assert_eq!(r.result(), Some(Ok(BOOT)));
    let errs: Vec<_> = r.server_errors().collect();
    assert_eq!(errs, vec![(S1, Some(ServerError::NxDomain)), (S2, None)]);
}

#[test]
fn silent_server_then_a_working_one() {
    assert_eq!(TIMEOUTS_MS, [1000, 2000, 4000]);
    let mut r = resolver("boot.lan", &[S1, S2]);
    let q1 = send(&mut r, 0).unwrap();
    assert_eq!(r.next_deadline(), Some(Instant(1000)));
    assert!(send(&mut r, 999).is_none());
    let again = send(&mut r, 1000).expect("resend after 1 s");
    assert_eq!((again.to, again.id, again.port), (S1, q1.id, q1.port));
    assert_eq!(r.next_deadline(), Some(Instant(3000)));
    assert!(send(&mut r, 2999).is_none());
    assert_eq!(send(&mut r, 3000).unwrap().to, S1);
    assert_eq!(r.next_deadline(), Some(Instant(7000)));
    assert!(send(&mut r, 6999).is_none());
    let q2 = send(&mut r, 7000).expect("the second server after 1 + 2 + 4 s");
    assert_eq!(q2.to, S2);
    assert!(reply(
        &mut r,
        7050,
        &q2,
        &answer(&q2, 0, 0, &[a(q(), BOOT)])
    ));
    assert_eq!(r.result(), Some(Ok(BOOT)));
    let ev = events(&mut r);
    assert!(ev.contains(&DnsEvent::ServerFailed {
        server: S1,
        why: ServerError::Timeout
    }));
    assert!(ev.contains(&DnsEvent::Query {
        server: S1,
        attempt: 2
    }));
}

#[test]
fn all_silent_is_a_timeout_after_7_s_each() {
    let mut r = resolver("boot.lan", &[S1, S2]);
    let mut sent = vec![];
    for t in (0..=20_000).step_by(250) {
        if let Some(qy) = send(&mut r, t) {
            sent.push((t, qy.to));
        }
    }
    let expect = [
        (0, S1),
        (1000, S1),
        (3000, S1),
        (7000, S2),
        (8000, S2),
        (10000, S2),
    ];
    assert_eq!(sent, expect);
    assert_eq!(
        r.result(),
        Some(Err(DnsError::Failed(ServerError::Timeout)))
    );
    assert_eq!(r.next_deadline(), None);
}

#[test]
fn silent_server_is_skipped_by_the_alias_query() {
    let mut r = resolver("boot.lan", &[S1, S2]);
    for t in [0, 1000, 3000] {
        assert_eq!(send(&mut r, t).unwrap().to, S1);
    }
    let q2 = send(&mut r, 7000).unwrap();
    assert!(reply(
        &mut r,
        7010,
        &q2,
        &answer(&q2, 0, 0, &[cname(q(), wire("x.lan"))])
    ));
    let q3 = send(&mut r, 7010).unwrap();
    assert_eq!((q3.to, q3.name.clone()), (S2, wire("x.lan")));
    assert!(reply(&mut r, 7020, &q3, &answer(&q3, 0, 3, &[])));
    assert_eq!(
        r.result(),
        Some(Err(DnsError::Failed(ServerError::NxDomain)))
    );
}

#[test]
fn wrong_id_port_server_or_question_is_ignored() {
    let mut r = resolver("boot.lan", &[S1]);
    let qy = send(&mut r, 0).unwrap();
    let good = answer(&qy, 0, 0, &[a(q(), BOOT)]);
    let mut bad_id = good.clone();
    bad_id[1] ^= 1;
    assert!(!reply(&mut r, 1, &qy, &bad_id));
    let mut m = from(&qy);
    m.dst_port ^= 1;
    assert!(!r.handle(Instant(1), &m, &good));
    let mut m = from(&qy);
    m.src_port = 5353;
    assert!(!r.handle(Instant(1), &m, &good));
    let mut m = from(&qy);
    m.src_ip = S2;
    assert!(!r.handle(Instant(1), &m, &good));
    let other = Query {
        name: wire("evil.lan"),
        ..send_like(&qy)
    };
    assert!(!reply(&mut r, 1, &qy, &answer(&other, 0, 0, &[a(q(), S3)])));
    let mut not_response = good.clone();
    not_response[2] &= 0x7f;
    assert!(!reply(&mut r, 1, &qy, &not_response));
    assert!(!reply(&mut r, 1, &qy, &good[..11]));
    assert_eq!(r.result(), None);
    assert!(reply(&mut r, 2, &qy, &good));
    assert_eq!(r.result(), Some(Ok(BOOT)));
}

fn send_like(qy: &Query) -> Query {
    Query {
        to: qy.to,
        port: qy.port,
        id: qy.id,
        name: qy.name.clone(),
        raw: qy.raw.clone(),
    }
}

#[test]
fn truncated_answer_is_reported() {
    let mut r = resolver("boot.lan", &[S1]);
    let qy = send(&mut r, 0).unwrap();
    assert!(reply(&mut r, 1, &qy, &answer(&qy, 0x0200, 0, &[])));
    let e = r.result().unwrap().unwrap_err();
    assert_eq!(e, DnsError::Failed(ServerError::Truncated));
    assert!(e.to_string().contains("TCP"), "{e}");
}

#[test]
fn servfail_refused_and_no_address_are_distinct() {
    for (rcode, rrs, want) in [
        (2, vec![], ServerError::Rcode(2)),
        (5, vec![], ServerError::Rcode(5)),
        (0, vec![], ServerError::NoAddress),
        (0, vec![Rr(q(), 28, vec![0; 16])], ServerError::NoAddress),
        (3, vec![], ServerError::NxDomain),
    ] {
        let mut r = resolver("boot.lan", &[S1]);
        let qy = send(&mut r, 0).unwrap();
        assert!(reply(&mut r, 1, &qy, &answer(&qy, 0, rcode, &rrs)));
        assert_eq!(r.result(), Some(Err(DnsError::Failed(want))));
    }
    assert!(ServerError::Rcode(2).to_string().contains("SERVFAIL"));
}

#[test]
fn the_most_telling_error_wins() {
    // S1 silent, S2 SERVFAIL, S3 NXDOMAIN: the name does not exist
    let mut r = resolver("boot.lan", &[S1, S2, S3]);
    for t in [0, 1000, 3000] {
        send(&mut r, t).unwrap();
    }
    let q2 = send(&mut r, 7000).unwrap();
    assert!(reply(&mut r, 7001, &q2, &answer(&q2, 0, 2, &[])));
    let q3 = send(&mut r, 7001).unwrap();
    assert!(reply(&mut r, 7002, &q3, &answer(&q3, 0, 3, &[])));
    assert_eq!(
        r.result(),
        Some(Err(DnsError::Failed(ServerError::NxDomain)))
    );
}

#[test]
fn dotless_name_is_qualified_with_the_search_domain() {
    // NXDOMAIN, or REFUSED (dnsmasq without upstream servers, for a dotless name)
    for rcode in [3, 5] {
        let mut r = Resolver::new(Instant(0), b"bootsrv", &[S1], b"lan\0", 99);
        let q1 = send(&mut r, 0).unwrap();
        assert_eq!(q1.name, wire("bootsrv"));
        assert!(reply(&mut r, 1, &q1, &answer(&q1, 0, rcode, &[])));
        let q2 = send(&mut r, 1).expect("asked again with the domain");
        assert_eq!(q2.name, wire("bootsrv.lan"));
        assert!(reply(&mut r, 2, &q2, &answer(&q2, 0, 0, &[a(q(), BOOT)])));
        assert_eq!(r.result(), Some(Ok(BOOT)));
        assert!(events(&mut r).contains(&DnsEvent::Qualified));
    }
    // not for a dotted or absolute name, nor after a timeout
    for name in ["boot.srv", "bootsrv."] {
        let mut r = Resolver::new(Instant(0), name.as_bytes(), &[S1], b"lan", 99);
        let qy = send(&mut r, 0).unwrap();
        assert!(reply(&mut r, 1, &qy, &answer(&qy, 0, 3, &[])));
        assert!(r.result().is_some(), "{name}");
    }
    let mut r = Resolver::new(Instant(0), b"bootsrv", &[S1], b"lan", 99);
    for t in [0, 1000, 3000] {
        send(&mut r, t).unwrap();
    }
    assert!(send(&mut r, 7000).is_none());
    assert_eq!(
        r.result(),
        Some(Err(DnsError::Failed(ServerError::Timeout)))
    );
}

#[test]
fn cname_loops_are_bounded() {
    // inside one answer: a -> b -> a
    let mut r = resolver("a.lan", &[S1]);
    let qy = send(&mut r, 0).unwrap();
    let msg = answer(
        &qy,
        0,
        0,
        &[
            cname(q(), wire("b.lan")),
            cname(wire("b.lan"), wire("a.lan")),
        ],
    );
    assert!(reply(&mut r, 1, &qy, &msg));
    assert_eq!(
        r.result(),
        Some(Err(DnsError::Failed(ServerError::AliasLoop)))
    );
    // across queries: each answer is a fresh CNAME
    let mut r = resolver("n0.lan", &[S1]);
    let mut queries = 0;
    for i in 1..100 {
        let Some(qy) = send(&mut r, i) else { break };
        queries += 1;
        let msg = answer(&qy, 0, 0, &[cname(q(), wire(&format!("n{i}.lan")))]);
        assert!(reply(&mut r, i, &qy, &msg));
    }
    assert_eq!(queries, usize::from(MAX_ALIASES) + 1);
    assert_eq!(
        r.result(),
        Some(Err(DnsError::Failed(ServerError::AliasLoop)))
    );
    const { assert!(MAX_CHAIN <= MAX_ALIASES) };
}

#[test]
fn compression_pointer_loops_are_malformed() {
    for owner in [
        vec![0xc0, 38],             // points at itself
        vec![0x01, b'x', 0xc0, 38], // a label, then back onto itself
        vec![0xc0, 40],             // points forward
        vec![0xc0, 0xff],           // past the end
        vec![0x40, 0],              // reserved label type
        vec![0x05, b'a'],           // label runs off the record
    ] {
        let mut r = resolver("boot.lan", &[S1]);
        let qy = send(&mut r, 0).unwrap();
        // header 12 + question 14 = 26; the CNAME's data (`owner`) starts at 26 + 2 + 10 = 38
        let mut rrs = vec![cname(q(), owner.clone())];
        rrs.push(Rr(owner.clone(), 1, vec![10, 0, 0, 9]));
        let msg = answer(&qy, 0, 0, &rrs);
        assert!(reply(&mut r, 1, &qy, &msg), "{owner:02x?}");
        assert_eq!(
            r.result(),
            Some(Err(DnsError::Failed(ServerError::Malformed))),
            "{owner:02x?}"
        );
    }
    // a question whose name loops: not an answer to our query at all
    let mut r = resolver("boot.lan", &[S1]);
    let qy = send(&mut r, 0).unwrap();
    let mut msg = answer(&qy, 0, 0, &[]);
    msg[12..14].copy_from_slice(&[0xc0, 12]);
    assert!(!reply(&mut r, 1, &qy, &msg));
}

#[test]
fn oversize_names_in_answers_are_malformed() {
    // a CNAME target of 5 x 63-byte labels, built with pointers: over 255 bytes
    let mut r = resolver("boot.lan", &[S1]);
    let qy = send(&mut r, 0).unwrap();
    let label = |next: Option<u16>| {
        let mut v = vec![63];
        v.extend_from_slice(&[b'q'; 63]);
        match next {
            Some(p) => v.extend_from_slice(&(0xc000 | p).to_be_bytes()),
            None => v.push(0),
        }
        v
    };
    // records of type 16 (TXT-like, ignored) carry the labels; offsets start after the question
    let mut rrs = vec![];
    let mut offset = 12 + wire("boot.lan").len() as u16 + 4;
    let mut prev = None;
    for _ in 0..5 {
        let data = label(prev);
        // owner (2, pointer) + type/class/ttl/len (10)
        prev = Some(offset + 12);
        offset += 12 + data.len() as u16;
        rrs.push(Rr(q(), 16, data));
    }
    let target = (0xc000 | prev.unwrap()).to_be_bytes().to_vec();
    rrs.push(cname(q(), target));
    assert!(reply(&mut r, 1, &qy, &answer(&qy, 0, 0, &rrs)));
    assert_eq!(
        r.result(),
        Some(Err(DnsError::Failed(ServerError::Malformed)))
    );
    // a 255-byte owner name is fine (4 labels: 63, 63, 63, 61 + lengths + 0)
    let n = Name::from_text(
        format!(
            "{}.{}",
            ["z".repeat(63).as_str(); 3].join("."),
            "w".repeat(61)
        )
        .as_bytes(),
    )
    .unwrap()
    .0;
    assert_eq!(n.wire().len(), 255);
}

#[test]
fn lease_keeps_several_dns_servers_and_the_domain() {
    let srv = ip(10, 0, 0, 1);
    let mut c = DhcpClient::new(DhcpConfig::new(MAC, XID), Instant(0));
    let mut buf = [0u8; 1500];
    assert!(c.poll(s(0), &mut buf).is_some());
    let mut dns = vec![];
    for s in [S1, S2, S3, BOOT, ip(10, 0, 0, 99)] {
        dns.extend_from_slice(&s.octets());
    }
    let reply = |m| {
        let mut r = Reply::new(m, srv);
        r.yiaddr = ip(10, 0, 0, 50);
        r.opt(code::DNS, &dns)
            .opt(code::DOMAIN_NAME, b"lan\0")
            .opt(code::BOOTFILE_NAME, b"x.0")
            .build()
    };
    c.handle(ms(100), &meta(srv, 67), &reply(OFFER));
    assert!(c.poll(s(4), &mut buf).is_some());
    c.handle(ms(4100), &meta(srv, 67), &reply(ACK));
    let lease = c.lease().expect("acked");
    assert_eq!(
        lease.dns_servers().collect::<Vec<_>>(),
        vec![S1, S2, S3, BOOT]
    );
    assert_eq!(lease.domain.as_bytes(), b"lan");
}

#[test]
fn fuzz_seeds_are_real_answers() {
    use softpxe_net::dns::answer::{parse_answer, Answer};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/dns_answer");
    let qname = Name::from_text(b"boot.lan").unwrap().0;
    let read = |n: &str| std::fs::read(dir.join(n)).unwrap();
    for (seed, aliases) in [("seed-00", 0), ("seed-01", 2), ("seed-07", 0)] {
        let msg = read(seed);
        assert!(msg.len() <= 1472);
        assert_eq!(
            parse_answer(&msg, 0x1234, &qname),
            Some(Answer::Address { ip: BOOT, aliases }),
            "{seed}"
        );
    }
    assert_eq!(read("seed-07").len(), 1468, "a full-size seed");
    assert_eq!(
        parse_answer(&read("seed-03"), 0x1234, &qname),
        Some(Answer::NxDomain)
    );
    assert_eq!(
        parse_answer(&read("seed-05"), 0x1234, &qname),
        Some(Answer::Truncated)
    );
    assert_eq!(
        parse_answer(&read("seed-06"), 0x1234, &qname),
        Some(Answer::Malformed)
    );
}
