//! The table: every row the bench measures, in order. To add a row (a NIC, UEFI, a network),
//! push a [`Case`] here: a section, what it measures, the softpxe side, the iPXE side(s) (the
//! row compares with their best) and the goal; reuse a side's key to share its runs.
use super::loss::{self, Load, Tftpd as LossTftpd, Who, LOSS};
use super::measure::{self, BenchNic, Client, Net, Tftpd, BIG, INITRD};
use super::{Case, Cmp, Goal, Side, Unit};
use softpxe_settings::Timing;

fn boot_side(net: Net, client: Client) -> Side {
    let key = format!("boot-{net:?}-{}", client.label());
    let label = match client {
        Client::Softpxe(_) => format!("softpxe, {}", client.label()),
        _ => client.label().to_string(),
    };
    Side::new(&label, &key, move |_| measure::boot(net, client))
}

fn tftp_side(server: Tftpd, client: Client, windowsize: Option<u8>) -> Side {
    let key = format!("tftp-{server:?}-{}-{windowsize:?}", client.label());
    let label = match (client, windowsize) {
        (Client::Softpxe(_), Some(1)) => "softpxe, windowsize off (1)".to_string(),
        (Client::Softpxe(_), _) => "softpxe, default settings (windowsize 16)".to_string(),
        _ => format!("{} imgfetch", client.label()),
    };
    Side::new(&label, &key, move |_| {
        measure::tftp(server, client, windowsize)
    })
}

fn ipxe_boot(net: Net) -> Vec<Side> {
    vec![
        boot_side(net, Client::IpxeRom),
        boot_side(net, Client::IpxeLkrn),
    ]
}

fn ipxe_tftp(server: Tftpd) -> Vec<Side> {
    vec![
        tftp_side(server, Client::IpxeRom, None),
        tftp_side(server, Client::IpxeLkrn, None),
    ]
}

fn boot_cases(cases: &mut Vec<Case>) {
    let nets = [
        (Net::User, "user", "QEMU user net (slirp DHCP + TFTP)"),
        (
            Net::LanProxy,
            "lan",
            "LAN: dnsmasq DHCP (+ IPv6 RAs) and a separate dnsmasq proxyDHCP + TFTP",
        ),
        (
            Net::Routed,
            "routed",
            "routed LAN: ISC dhcpd + dnsmasq proxyDHCP behind ISC dhcrelay (RAs from the router)",
        ),
    ];
    for (net, id, what) in nets {
        for (timing, suffix, goal) in [
            (None, "", Some(Goal::Ratio(Cmp::AtMost, 0.8))),
            (Some(Timing::Spec), "-spec", None),
            (Some(Timing::Fast), "-fast", None),
        ] {
            cases.push(Case {
                id: format!("boot-{id}{suffix}"),
                section: "boot",
                what: format!("power-on to NBP start, {what}"),
                unit: Unit::Seconds,
                softpxe: boot_side(net, Client::Softpxe(timing)),
                ipxe: ipxe_boot(net),
                goal,
            });
        }
    }
}

fn tftp_cases(cases: &mut Vec<Case>) {
    let softpxe = Client::Softpxe(None);
    let mib = BIG >> 20;
    for (server, id, name) in [
        (Tftpd::Dnsmasq, "dnsmasq", "dnsmasq 2.90"),
        (Tftpd::Atftpd, "atftpd", "atftpd 0.8.0"),
    ] {
        cases.push(Case {
            id: format!("tftp-{id}"),
            section: "tftp",
            what: format!("TFTP {mib} MiB like for like, {name}, no windowsize"),
            unit: Unit::MBps,
            softpxe: tftp_side(server, softpxe, Some(1)),
            ipxe: ipxe_tftp(server),
            goal: Some(Goal::Ratio(Cmp::AtLeast, 1.2)),
        });
    }
    cases.push(Case {
        id: "tftp-atftpd-windowsize".into(),
        section: "tftp",
        what: format!("TFTP {mib} MiB, atftpd 0.8.0, softpxe with windowsize (iPXE has none)"),
        unit: Unit::MBps,
        softpxe: tftp_side(Tftpd::Atftpd, softpxe, None),
        ipxe: ipxe_tftp(Tftpd::Atftpd),
        goal: Some(Goal::Ratio(Cmp::AtLeast, 3.0)),
    });
}

fn pxe_cases(cases: &mut Vec<Case>) {
    let api = |client: Client| {
        let label = match client {
            Client::Softpxe(_) => "softpxe, default settings",
            _ => client.label(),
        };
        Side::new(label, &format!("api-{}", client.label()), move |_| {
            measure::pxelinux_api(client)
        })
    };
    cases.push(Case {
        id: "api-pxelinux".into(),
        section: "api",
        what: format!(
            "PXE API: pxelinux.0 loads ldlinux.c32, a kernel and a {} MiB initrd (dnsmasq), \
             pxelinux start to kernel start",
            INITRD >> 20
        ),
        unit: Unit::MBps,
        softpxe: api(Client::Softpxe(None)),
        ipxe: vec![api(Client::IpxeRom)],
        goal: Some(Goal::Ratio(Cmp::AtLeast, 1.5)),
    });
    let mem = |client: Client, metric: usize| {
        let label = match client {
            Client::Softpxe(_) => "softpxe, default settings",
            _ => client.label(),
        };
        Side::new(label, &format!("meminfo-{}", client.label()), move |_| {
            measure::meminfo(client)
        })
        .metric(metric)
    };
    cases.push(Case {
        id: "memory-base".into(),
        section: "memory",
        what: "base memory taken under pxelinux (640 K - meminfo.c32's DOS RAM)".into(),
        unit: Unit::KiB,
        softpxe: mem(Client::Softpxe(None), 0),
        ipxe: vec![mem(Client::IpxeRom, 0)],
        goal: Some(Goal::Ratio(Cmp::AtMost, 1.0)),
    });
    cases.push(Case {
        id: "memory-core".into(),
        section: "memory",
        what: "core memory hidden from the E820 map (softpxe's banner)".into(),
        unit: Unit::KiB,
        softpxe: mem(Client::Softpxe(None), 1),
        ipxe: Vec::new(),
        goal: None,
    });
    cases.push(Case {
        id: "image-sys".into(),
        section: "image",
        what: "SOFTPXE.SYS size".into(),
        unit: Unit::KiB,
        softpxe: Side::new("softpxe", "sys-size", |_| measure::sys_size()).runs(1),
        ipxe: Vec::new(),
        goal: Some(Goal::Value(Cmp::AtMost, 256.0)),
    });
    cases.push(Case {
        id: "image-build".into(),
        section: "image",
        what: format!(
            "floppy image build (softpxe::build_floppy, default options, median of {})",
            measure::BUILDS
        ),
        unit: Unit::Ms,
        softpxe: Side::new("softpxe", "image-build", |_| measure::image_build()),
        ipxe: Vec::new(),
        goal: Some(Goal::Value(Cmp::AtMost, 50.0)),
    });
}

fn loss_side(who: Who, server: LossTftpd, load: Load, l: f64, metric: usize) -> Side {
    let key = format!("loss-{who:?}-{server:?}-{load:?}-{l}");
    Side::new(who.name(), &key, move |i| {
        loss::measure(who, server, load, l, i)
    })
    .metric(metric)
}

/// The lossy-link rows (pxe/loss.rs): no goals; the notes give the measured loss.
fn loss_cases(cases: &mut Vec<Case>) {
    let nbp = [
        (Load::TestNbp, "loss-nbp", "test NBP", "NBP start"),
        (Load::Pxelinux, "loss-pxelinux", "pxelinux.0", "meminfo.c32"),
    ];
    for (load, section, name, end) in nbp {
        let servers: &[LossTftpd] = match load {
            Load::TestNbp => &[LossTftpd::Dnsmasq, LossTftpd::Atftpd],
            _ => &[LossTftpd::Dnsmasq],
        };
        for &server in servers {
            for l in [0.0, LOSS] {
                let faults = format!("{}, {:.0} % loss", server.name(), l * 100.0);
                let short = format!("{server:?}-{:.0}", l * 100.0).to_lowercase();
                let size = loss::timed_size(load);
                for (metric, what, id) in [
                    (0, format!("power-on to {end}"), "boot"),
                    (1, format!("{name} ({size} bytes) TFTP"), "tftp"),
                ] {
                    cases.push(Case {
                        id: format!("{section}-{short}-{id}"),
                        section,
                        what: format!("lossy link: {what}, {faults}"),
                        unit: Unit::Seconds,
                        softpxe: loss_side(Who::Softpxe, server, load, l, metric),
                        ipxe: vec![loss_side(Who::Ipxe, server, load, l, metric)],
                        goal: None,
                    });
                }
            }
        }
    }
    // the large files at 10 %: (server, size, softpxe's runs, iPXE's runs; 0: not measured).
    // iPXE from atftpd fails after 1-5 minutes (docs/benchmarks.md), so once is enough; a
    // lock-step 16 MiB would take about an hour.
    let files: [(LossTftpd, usize, usize, usize); 3] = [
        (LossTftpd::Atftpd, 16 << 20, 3, 0),
        (LossTftpd::Atftpd, 1 << 20, 3, 1),
        (LossTftpd::Dnsmasq, 512 << 10, 1, 1),
    ];
    for (server, size, n_softpxe, n_ipxe) in files {
        let load = Load::File(size);
        let kib = size >> 10;
        let ipxe = (n_ipxe > 0)
            .then(|| {
                loss_side(Who::Ipxe, server, load, LOSS, 0)
                    .runs(n_ipxe)
                    .may_fail()
            })
            .into_iter()
            .collect();
        cases.push(Case {
            id: format!("loss-file-{server:?}-{kib}k").to_lowercase(),
            section: "loss-file",
            what: format!(
                "lossy link: {kib} KiB file (softpxe test_file, iPXE imgfetch), {}, {:.0} % loss",
                server.name(),
                LOSS * 100.0
            ),
            unit: Unit::Seconds,
            softpxe: loss_side(Who::Softpxe, server, load, LOSS, 0).runs(n_softpxe),
            ipxe,
            goal: None,
        });
    }
}

/// One 16 MiB TFTP row per NIC: softpxe with default settings against iPXE's best on the same
/// model (QEMU's iPXE ROM where ipxe-qemu has one for it, and ipxe.lkrn, whose driver set covers
/// every PCI model here), same server (atftpd), same file.
fn nic_cases(cases: &mut Vec<Case>) {
    let mib = BIG >> 20;
    // (row, model, isa line, QEMU has an iPXE ROM for it, ipxe.lkrn drives it)
    let nics: [(&str, &'static str, Option<&'static str>, bool, bool); 9] = [
        ("e1000", "e1000", None, true, true),
        ("e1000e", "e1000e", None, true, true),
        ("rtl8139", "rtl8139", None, true, true),
        ("virtio", "virtio-net-pci", None, true, true),
        ("pcnet", "pcnet", None, true, true),
        ("ne2k-pci", "ne2k_pci", None, true, true),
        (
            "ne2k-isa",
            "ne2k_isa,iobase=0x300,irq=9",
            Some("ne2000:0x300:9"),
            false,
            false,
        ),
        ("tulip", "tulip", None, false, true),
        ("i82557b", "i82557b", None, true, true),
    ];
    for (id, model, isa, rom, lkrn) in nics {
        let nic = BenchNic { model, isa };
        let side = move |client: Client| {
            let label = match client {
                Client::Softpxe(_) => "softpxe, default settings (windowsize 16)".to_string(),
                _ => format!("{} imgfetch", client.label()),
            };
            Side::new(
                &label,
                &format!("tftp-nic-{id}-{}", client.label()),
                move |_| measure::tftp_on(nic, Tftpd::Atftpd, client, None),
            )
        };
        let mut ipxe = Vec::new();
        if rom {
            ipxe.push(side(Client::IpxeRom));
        }
        if lkrn {
            ipxe.push(side(Client::IpxeLkrn));
        }
        cases.push(Case {
            id: format!("tftp-nic-{id}"),
            section: "nic",
            what: format!("TFTP {mib} MiB from atftpd 0.8.0 on QEMU `{model}`, default settings"),
            unit: Unit::MBps,
            softpxe: side(Client::Softpxe(None)),
            ipxe,
            goal: None,
        });
    }
}

/// Every case, in table order.
pub fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    boot_cases(&mut cases);
    tftp_cases(&mut cases);
    pxe_cases(&mut cases);
    nic_cases(&mut cases);
    loss_cases(&mut cases);
    cases
}
