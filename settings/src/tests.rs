//! Unit tests of the settings format: every key, every error kind, comments, CRLF, long and
//! non-UTF-8 values, round trips and a pseudo-random no-panic sweep.

use crate::*;
use core::net::Ipv4Addr;
use std::string::{String, ToString};
use std::vec::Vec;

/// Parses and collects `(line, kind)` of every error.
fn run(text: &str) -> (Settings, Vec<(u32, ErrorKind)>) {
    run_bytes(text.as_bytes())
}

fn run_bytes(text: &[u8]) -> (Settings, Vec<(u32, ErrorKind)>) {
    let mut errs = Vec::new();
    let s = parse(text, |e| errs.push((e.line, e.kind)));
    (s, errs)
}

/// Parses text that must be error-free.
fn ok(text: &str) -> Settings {
    let (s, errs) = run(text);
    assert!(errs.is_empty(), "unexpected errors {errs:?} in {text:?}");
    s
}

/// The single error of a one-line file.
fn err(text: &str) -> ErrorKind {
    let (s, errs) = run(text);
    assert_eq!(errs.len(), 1, "{text:?} gave {errs:?}");
    assert_eq!(
        s,
        Settings::default(),
        "a bad line must not change settings"
    );
    errs[0].1
}

fn written(s: &Settings) -> String {
    let mut out = String::new();
    write(s, &mut out).unwrap();
    out
}

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

#[test]
fn empty_file_gives_defaults() {
    let s = ok("");
    assert_eq!(s, Settings::default());
    assert_eq!(s.vendor_class(), "PXEClient:Arch:00000:UNDI:002001");
    assert_eq!(s.discovery(), Discovery::Auto);
    assert_eq!(s.timing(), Timing::Auto);
    assert_eq!(s.timing().retries_secs(), [4, 8, 16, 32]);
    assert_eq!(s.nic(), NicSelect::Auto);
    assert_eq!(s.log(), LogLevel::Info);
    assert_eq!(s.menu_timeout, None);
    assert_eq!(s.uefi_nic(), crate::UefiNic::Auto);
}

#[test]
fn uefi_nic_keywords_parse_and_round_trip() {
    for (text, want) in [
        ("auto", crate::UefiNic::Auto),
        ("TAKE", crate::UefiNic::Take),
        ("skip", crate::UefiNic::Skip),
    ] {
        let s = ok(&std::format!("uefi_nic = {text}"));
        assert_eq!(s.uefi_nic(), want);
        assert_eq!(ok(&written(&s)), s);
    }
    let mut s = Settings::default();
    assert!(s.set(Key::UefiNic, b"always").is_err());
    assert_eq!(s.uefi_nic, None);
}

#[test]
fn vendor_class() {
    let s = ok("vendor_class = PXEClient:Arch:00007:UNDI:003016");
    assert_eq!(s.vendor_class(), "PXEClient:Arch:00007:UNDI:003016");
}

#[test]
fn next_server_ip_and_name() {
    assert_eq!(
        ok("next_server = 10.1.2.3").next_server,
        Some(Host::Ip(ip(10, 1, 2, 3)))
    );
    let s = ok("next_server = tftp.example.org");
    assert_eq!(s.next_server.unwrap().to_string(), "tftp.example.org");
    assert_eq!(err("next_server = 10.1.2.300"), ErrorKind::BadIpv4);
    assert_eq!(err("next_server = 10.1.2"), ErrorKind::BadIpv4);
    assert_eq!(err("next_server = -bad.example"), ErrorKind::BadHostName);
    assert_eq!(err("next_server = a..b"), ErrorKind::BadHostName);
    assert_eq!(err("next_server = under_score"), ErrorKind::BadHostName);
}

#[test]
fn boot_file() {
    let s = ok("boot_file = boot\\x64\\wdsnbp.com");
    assert_eq!(s.boot_file.unwrap().as_str(), "boot\\x64\\wdsnbp.com");
    // A '#' not after whitespace is part of the value.
    assert_eq!(ok("boot_file = a#b").boot_file.unwrap().as_str(), "a#b");
    // Interior spaces are kept.
    assert_eq!(
        ok("boot_file = my file.0").boot_file.unwrap().as_str(),
        "my file.0"
    );
}

#[test]
fn long_values() {
    let max = "x".repeat(Text::MAX);
    assert_eq!(
        ok(&std::format!("boot_file = {max}"))
            .boot_file
            .unwrap()
            .as_str(),
        max
    );
    let over = "x".repeat(Text::MAX + 1);
    assert_eq!(
        err(&std::format!("boot_file = {over}")),
        ErrorKind::TooLong { max: Text::MAX }
    );
    let huge = "y".repeat(100_000);
    assert_eq!(
        err(&std::format!("vendor_class = {huge}")),
        ErrorKind::TooLong { max: Text::MAX }
    );
    assert_eq!(
        err(&std::format!("next_server = {}", "a".repeat(200))),
        ErrorKind::TooLong { max: Text::MAX }
    );
}

#[test]
fn static_ip_keys() {
    let s = ok("ip = 192.168.1.20\nnetmask = 255.255.254.0\ngateway = 192.168.1.1\ndns = 9.9.9.9");
    assert_eq!(s.ip, Some(ip(192, 168, 1, 20)));
    assert_eq!(s.netmask, Some(ip(255, 255, 254, 0)));
    assert_eq!(s.gateway, Some(ip(192, 168, 1, 1)));
    assert_eq!(s.dns, Some(ip(9, 9, 9, 9)));
}

#[test]
fn ip_with_prefix_sets_netmask() {
    let s = ok("ip = 10.0.0.5/24");
    assert_eq!(
        (s.ip, s.netmask),
        (Some(ip(10, 0, 0, 5)), Some(ip(255, 255, 255, 0)))
    );
    assert_eq!(ok("ip = 10.0.0.5/32").netmask, Some(ip(255, 255, 255, 255)));
    assert_eq!(ok("ip = 10.0.0.5/0").netmask, Some(ip(0, 0, 0, 0)));
    assert_eq!(ok("ip = 10.0.0.5 / 9").netmask, Some(ip(255, 128, 0, 0)));
    assert_eq!(ok("ip = 10.0.0.5").netmask, None);
    assert_eq!(err("ip = 10.0.0.5/33"), ErrorKind::BadPrefix);
    assert_eq!(err("ip = 10.0.0.5/"), ErrorKind::BadPrefix);
    assert_eq!(err("ip = 10.0.0.5/x"), ErrorKind::BadPrefix);
    assert_eq!(err("ip = 10.0.0/8"), ErrorKind::BadIpv4);
    assert_eq!(err("ip = dhcp"), ErrorKind::BadIpv4);
    // A later line wins.
    let s = ok("ip = 10.0.0.5/8\nnetmask = 255.255.0.0");
    assert_eq!(s.netmask, Some(ip(255, 255, 0, 0)));
}

#[test]
fn netmask_must_be_contiguous() {
    assert_eq!(err("netmask = 255.0.255.0"), ErrorKind::BadNetmask);
    assert_eq!(err("netmask = 255.255.255"), ErrorKind::BadIpv4);
    assert_eq!(err("gateway = 1.2.3.4.5"), ErrorKind::BadIpv4);
    assert_eq!(err("dns = ::1"), ErrorKind::BadIpv4);
}

#[test]
fn discovery_values() {
    for (text, want) in [
        ("auto", Discovery::Auto),
        ("skip", Discovery::Skip),
        ("broadcast", Discovery::Broadcast),
        ("multicast", Discovery::Multicast),
        ("UNICAST", Discovery::Unicast),
    ] {
        assert_eq!(
            ok(&std::format!("discovery = {text}")).discovery,
            Some(want)
        );
    }
    assert!(matches!(
        err("discovery = sometimes"),
        ErrorKind::BadChoice { .. }
    ));
}

#[test]
fn timing_values() {
    assert_eq!(ok("timing = fast").timing(), Timing::Fast);
    assert_eq!(Timing::Fast.retries_secs(), [1, 2, 4, 8]);
    assert_eq!(ok("timing = spec").timing, Some(Timing::Spec));
    assert_eq!(ok("timing = AUTO").timing, Some(Timing::Auto));
    assert_eq!(Timing::Spec.retries_secs(), [4, 8, 16, 32]);
    assert_eq!(
        err("timing = slow"),
        ErrorKind::BadChoice {
            expected: "auto, spec or fast"
        }
    );
}

#[test]
fn menu_timeout_values() {
    assert_eq!(ok("menu_timeout = 0").menu_timeout, Some(0));
    assert_eq!(ok("menu_timeout = 255").menu_timeout, Some(255));
    assert_eq!(ok("menu_timeout = 007").menu_timeout, Some(7));
    for bad in ["256", "-1", "1.5", "ten", "1000", "99999999999999999999"] {
        assert_eq!(
            err(&std::format!("menu_timeout = {bad}")),
            ErrorKind::BadNumber { max: 255 },
            "{bad}"
        );
    }
}

#[test]
fn isa_values() {
    assert_eq!(ok("").isa, None, "unset: no ISA probing");
    assert_eq!(ok("isa = AUTO").isa, Some(IsaSelect::Auto));
    let card = |port, irq| {
        Some(IsaSelect::Card {
            driver: IsaDriver::Ne2000,
            port,
            irq,
        })
    };
    assert_eq!(ok("isa = ne2000:0x300:9").isa, card(0x300, 9));
    assert_eq!(ok("isa = ne2000:280:15").isa, card(0x280, 15));
    assert_eq!(ok("isa = Ne2000:0X3E0:2").isa, card(0x3E0, 2));
    assert_eq!(ok("isa = ne2000:0x340").isa, card(0x340, 0));
    assert_eq!(ok("isa = ne2000:0x340:0").isa, card(0x340, 0));
    for bad in [
        "ne2000",
        "ne2000:",
        "ne2000:0x310:9",
        "ne2000:0x1e0:9",
        "ne2000:0x400:9",
        "ne2000:0x300:1",
        "ne2000:0x300:16",
        "ne2000:0x300:00",
        "ne2000:0x300:9:1",
        "ne2000:0x300:+9",
        "ne2000:0x300:",
        "3c509:0x300:9",
        "0x300",
    ] {
        assert_eq!(
            err(&std::format!("isa = {bad}")),
            ErrorKind::BadIsa,
            "{bad}"
        );
    }
    let mut s = Settings {
        isa: card(0x300, 9),
        ..Settings::default()
    };
    assert!(written(&s).contains("\nisa = ne2000:0x300:9\n"));
    s.isa = card(0x320, 0);
    assert_eq!(ok(&written(&s)), s);
}

#[test]
fn nic_values() {
    assert_eq!(ok("nic = auto").nic, Some(NicSelect::Auto));
    assert_eq!(
        ok("nic = 8086:100E").nic,
        Some(NicSelect::Id {
            vendor: 0x8086,
            device: 0x100e
        })
    );
    assert_eq!(
        ok("nic = 00:03.0").nic,
        Some(NicSelect::Address {
            bus: 0,
            device: 3,
            function: 0
        })
    );
    assert_eq!(
        ok("nic = ff:1f.7").nic,
        Some(NicSelect::Address {
            bus: 0xff,
            device: 0x1f,
            function: 7
        })
    );
    for bad in [
        "8086",
        "8086:",
        "808600:100e",
        "00:20.0",
        "00:03.8",
        "g0:03.0",
        "00:03.",
        "eth0",
    ] {
        assert_eq!(
            err(&std::format!("nic = {bad}")),
            ErrorKind::BadNic,
            "{bad}"
        );
    }
}

#[test]
fn log_values() {
    assert_eq!(ok("log = quiet").log(), LogLevel::Quiet);
    assert_eq!(ok("log = Debug").log(), LogLevel::Debug);
    assert_eq!(ok("log = info").log, Some(LogLevel::Info));
    assert!(matches!(err("log = verbose"), ErrorKind::BadChoice { .. }));
}

#[test]
fn keys_ignore_case_and_spacing() {
    let s = ok("BOOT_FILE=a.0\n\tNext_Server\t=\t1.2.3.4  \n   log =debug");
    assert_eq!(s.boot_file.unwrap().as_str(), "a.0");
    assert_eq!(s.next_server, Some(Host::Ip(ip(1, 2, 3, 4))));
    assert_eq!(s.log, Some(LogLevel::Debug));
}

#[test]
fn comments_and_blank_lines() {
    let s = ok("# a comment\n\n   \n\t# indented comment\nboot_file = x.0 # trailing\nlog = quiet\t# tab comment\n#log = debug\n");
    assert_eq!(s.boot_file.unwrap().as_str(), "x.0");
    assert_eq!(s.log, Some(LogLevel::Quiet));
}

#[test]
fn crlf_and_bom() {
    let s = ok("\u{feff}boot_file = x.0\r\nlog = debug\r\n\r\n# c\r\n");
    assert_eq!(s.boot_file.unwrap().as_str(), "x.0");
    assert_eq!(s.log, Some(LogLevel::Debug));
}

#[test]
fn error_kinds_and_line_numbers() {
    let text =
        "log = debug\nthis line has no equals\n= 5\nbootfile = x\nboot_file =\nboot_file = \x01x\n";
    let (s, errs) = run(text);
    assert_eq!(s.log, Some(LogLevel::Debug), "good lines still apply");
    assert_eq!(
        errs,
        [
            (2, ErrorKind::MissingEquals),
            (3, ErrorKind::MissingKey),
            (
                4,
                ErrorKind::UnknownKey {
                    suggestion: Some("boot_file")
                }
            ),
            (5, ErrorKind::MissingValue),
            (6, ErrorKind::BadCharacter),
        ]
    );
}

#[test]
fn unknown_key_message_suggests() {
    let mut msgs = Vec::new();
    parse(
        b"\n\n\n\n\n\nbootfile = pxelinux.0\nnext-server = 1.2.3.4\nfrobnicate = 1",
        |e| msgs.push(e.to_string()),
    );
    assert_eq!(
        msgs,
        [
            "line 7: unknown key \"bootfile\" (did you mean boot_file?)",
            "line 8: unknown key \"next-server\" (did you mean next_server?)",
            "line 9: unknown key \"frobnicate\"",
        ]
    );
}

#[test]
fn error_messages_name_key_and_value() {
    let mut msgs = Vec::new();
    parse(b"ip = 1.2.3\ntiming = slow\nboot_file = \xff\xfe", |e| {
        msgs.push(e.to_string())
    });
    assert_eq!(
        msgs[0],
        "line 1: \"ip\" = \"1.2.3\": not an IPv4 address (a.b.c.d)"
    );
    assert_eq!(
        msgs[1],
        "line 2: \"timing\" = \"slow\": expected auto, spec or fast"
    );
    assert!(msgs[2].starts_with("line 3: \"boot_file\" = \"\\xff\\xfe\": only printable ASCII"));
}

#[test]
fn non_utf8_is_an_error_not_a_panic() {
    assert_eq!(err_bytes(b"boot_file = caf\xe9.0"), ErrorKind::BadCharacter);
    assert_eq!(err_bytes(b"log\xc3\x28 = info"), ErrorKind::BadCharacter);
    assert_eq!(err_bytes(b"\xff\xff\xff"), ErrorKind::MissingEquals);
    // Bytes in comments are ignored: users write their names there.
    let (s, errs) = run_bytes(b"# Jos\xe9 was here\nlog = quiet # \xff\n");
    assert!(errs.is_empty());
    assert_eq!(s.log, Some(LogLevel::Quiet));
}

fn err_bytes(text: &[u8]) -> ErrorKind {
    let (_, errs) = run_bytes(text);
    assert_eq!(errs.len(), 1, "{errs:?}");
    errs[0].1
}

#[test]
fn set_validates_like_a_line() {
    let mut s = Settings::default();
    assert_eq!(s.set(Key::Ip, b"10.0.0.1/16"), Ok(()));
    assert_eq!(s.netmask, Some(ip(255, 255, 0, 0)));
    assert_eq!(s.set(Key::BootFile, b"a #b"), Err(ErrorKind::BadCharacter));
    assert_eq!(s.set(Key::Log, b""), Err(ErrorKind::MissingValue));
    assert_eq!(s.boot_file, None);
    s.unset(Key::Ip);
    assert!(!s.is_set(Key::Ip));
}

#[test]
fn write_default_file_lists_every_key_commented() {
    let text = written(&Settings::default());
    assert!(text.starts_with("# SOFTPXE.CFG"));
    for key in Key::ALL {
        let line = match default_text(key) {
            Some(d) => std::format!("# {} = {}\n", key.name(), d),
            None => std::format!("# {} =\n", key.name()),
        };
        assert!(text.contains(&line), "missing {line:?} in\n{text}");
    }
    assert_eq!(ok(&text), Settings::default());
}

fn full_settings() -> Settings {
    let mut s = Settings::default();
    for (k, v) in [
        (Key::VendorClass, "PXEClient:Arch:00000:UNDI:002001"),
        (Key::NextServer, "boot.example.net"),
        (Key::BootFile, "pxelinux.0"),
        (Key::Ip, "172.16.5.9/20"),
        (Key::Gateway, "172.16.0.1"),
        (Key::Dns, "172.16.0.2"),
        (Key::Discovery, "multicast"),
        (Key::Timing, "fast"),
        (Key::MenuTimeout, "0"),
        (Key::Nic, "10ec:8139"),
        (Key::Isa, "NE2000:300:5"),
        (Key::Log, "debug"),
    ] {
        s.set(k, v.as_bytes()).unwrap();
    }
    s
}

#[test]
fn write_then_parse_round_trips() {
    let s = full_settings();
    let text = written(&s);
    assert!(text.contains("\nboot_file = pxelinux.0\n"));
    assert!(text.contains("\nnetmask = 255.255.240.0\n"));
    assert!(text.contains("\nnic = 10ec:8139\n"));
    assert!(text.contains("\nisa = ne2000:0x300:5\n"));
    // A set key equal to its default is still written uncommented.
    assert!(text.contains("\nvendor_class = PXEClient:Arch:00000:UNDI:002001\n"));
    assert_eq!(ok(&text), s);

    let mut t = s.clone();
    t.nic = Some(NicSelect::Address {
        bus: 2,
        device: 0,
        function: 1,
    });
    t.next_server = Some(Host::Ip(ip(1, 2, 3, 4)));
    assert_eq!(ok(&written(&t)), t);
}

/// xorshift64: a tiny deterministic generator for the sweeps below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_bytes_never_panic_and_round_trip() {
    const PIECES: &[&[u8]] = &[
        b"=",
        b" ",
        b"\t",
        b"#",
        b"\r",
        b"\n",
        b"/",
        b".",
        b":",
        b"0",
        b"255",
        b"1.2.3.4",
        b"vendor_class",
        b"next_server",
        b"boot_file",
        b"ip",
        b"netmask",
        b"gateway",
        b"dns",
        b"discovery",
        b"timing",
        b"menu_timeout",
        b"nic",
        b"isa",
        b"ne2000:0x300:9",
        b"log",
        b"auto",
        b"fast",
        b"debug",
        b"8086:100e",
        b"00:03.0",
        b"\xff",
        b"\xc3\xa9",
        b"\x00",
        b"a-b.example",
    ];
    const VALUES: &[&[u8]] = &[
        b"auto",
        b"skip",
        b"fast",
        b"spec",
        b"quiet",
        b"debug",
        b"10.0.0.1",
        b"10.0.0.1/24",
        b"255.255.0.0",
        b"host.example",
        b"pxelinux.0",
        b"8086:100e",
        b"00:03.0",
        b"30",
        b"256",
        b"x # c",
        b"",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut with_values, mut with_errors) = (0, 0);
    for _ in 0..4000 {
        let mut input = Vec::new();
        if rng.below(2) == 0 {
            // Free-form: pieces and random bytes.
            for _ in 0..rng.below(64) {
                if rng.below(3) == 0 {
                    input.push(rng.next() as u8);
                } else {
                    input.extend_from_slice(PIECES[rng.below(PIECES.len())]);
                }
            }
        } else {
            // Line-shaped: "key = value" with a value drawn from good and bad examples.
            for _ in 0..rng.below(8) {
                let key = Key::ALL[rng.below(Key::ALL.len())];
                input.extend_from_slice(key.name().as_bytes());
                input.extend_from_slice(b" = ");
                input.extend_from_slice(VALUES[rng.below(VALUES.len())]);
                if rng.below(4) == 0 {
                    input.push(rng.next() as u8);
                }
                input.extend_from_slice(if rng.below(2) == 0 { b"\n" } else { b"\r\n" });
            }
        }
        let mut n = 0;
        let s = parse(&input, |e| {
            let _ = e.to_string();
            n += 1;
        });
        with_errors += usize::from(n > 0);
        with_values += usize::from(s != Settings::default());
        // Whatever was accepted writes out and reads back the same, without errors.
        assert_eq!(ok(&written(&s)), s, "input {input:?}");
    }
    // The sweep reaches both the accepting and the rejecting paths.
    assert!(
        with_values > 100 && with_errors > 1000,
        "{with_values} {with_errors}"
    );
}
