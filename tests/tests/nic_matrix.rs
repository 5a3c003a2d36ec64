//! The NIC matrix: every driver, on the QEMU model(s) that emulate its chip (`-cpu pentium`,
//! the model's option ROM removed), boots the test NBP over QEMU's user network, boots
//! pxelinux.0 with a kernel and a 4 MiB initrd through the PXE API on the namespace LAN (dnsmasq
//! DHCP + TFTP, its log proving the files went out), and runs the API test NBP (apitest.0,
//! every PXE 2.1 call checked). One line per NIC in [`matrix!`]; docs/drivers.md carries the
//! table [`matrix_table`] makes from the same list (`nic_matrix_table_in_docs` checks it;
//! `SOFTPXE_BLESS=1` rewrites it).
use anyhow::{ensure, Context, Result};
use softpxe_tests::apitest::{check_softpxe_user_net, tftp_root, Echo, DONE, PNP};
use softpxe_tests::lan::{Host, Lan};
use softpxe_tests::{floppy_fast, nbps, repo_root, run_dir, test_nbp, Qemu, Wait};
use std::fs;
use std::path::Path;
use std::time::Duration;

/// Initrd size for the pxelinux case: big enough for thousands of API reads, small enough for
/// the slowest (programmed-I/O) card in the regular suite.
const INITRD: usize = 4 << 20;

/// One row of the matrix.
struct Nic {
    /// Test-name suffix.
    name: &'static str,
    /// QEMU `-device` model (with properties).
    model: &'static str,
    /// PCI vendor and device apitest.0 must see (upper-case hex).
    ids: (&'static str, &'static str),
    /// The softpxe driver that takes it.
    driver: &'static str,
    /// An ISA card: the `isa =` line SOFTPXE.CFG needs (QEMU's ISA models have no option ROM).
    isa: Option<&'static str>,
}

/// The floppy for `nic`: fast DHCP timing, plus the `isa` line for an ISA card.
fn floppy_for(dir: &Path, nic: &Nic) -> Result<std::path::PathBuf> {
    floppy_fast(dir, |s| {
        if let Some(isa) = nic.isa {
            s.set(softpxe_settings::Key::Isa, isa.as_bytes())
                .expect("a valid isa setting");
        }
    })
}

/// `nic` on QEMU's user network with its TFTP server.
fn user_net(q: Qemu, nic: &Nic, tftp: &Path, bootfile: &str) -> Qemu {
    if nic.isa.is_none() {
        return q.nic_user_tftp(nic.model, tftp, bootfile);
    }
    q.args(&[
        "-netdev",
        &format!("user,id=n0,tftp={},bootfile={bootfile}", tftp.display()),
        "-device",
        &format!("{},netdev=n0", nic.model),
    ])
}

/// `nic` on the LAN's tap0.
fn lan_net(q: Qemu, nic: &Nic) -> Qemu {
    if nic.isa.is_none() {
        return q.nic_tap(nic.model, false);
    }
    q.args(&[
        "-netdev",
        "tap,id=n0,ifname=tap0,script=no,downscript=no",
        "-device",
        &format!("{},netdev=n0", nic.model),
    ])
}

fn file_name(nic: &Nic, case: &str) -> String {
    format!("matrix-{case}-{}", nic.name)
}

/// The test NBP over QEMU's user network (slirp DHCP + TFTP).
fn test_nbp_user_net(nic: &Nic) -> Result<()> {
    let name = file_name(nic, "testnbp");
    let dir = run_dir(&format!("{name}-files"))?;
    let img = floppy_for(&dir, nic)?;
    let tftp = dir.join("tftp");
    fs::create_dir_all(&tftp)?;
    fs::copy(test_nbp(), tftp.join("testnbp.0")).context("copying the test NBP")?;
    let run = user_net(Qemu::bios(&name).floppy(&img), nic, &tftp, "testnbp.0").run(
        &Wait::for_markers(
            &[
                "testnbp: image intact",
                "softpxe: the NBP returned (AX=0000)",
            ],
            Duration::from_secs(120),
        ),
    )?;
    run.expect(&format!("({} at ", nic.driver))?
        .expect("CLIENT IP: 10.0.2.15")?
        .expect("testnbp: PXENV+ at ES:BX")?;
    eprintln!("{name}: {:.2} s", run.elapsed.as_secs_f64());
    Ok(())
}

/// pxelinux.0 → ldlinux.c32 → kernel + initrd, all through softpxe's PXE UDP API.
fn pxelinux_kernel_initrd(nic: &Nic) -> Result<()> {
    let name = file_name(nic, "pxelinux");
    let lan = Lan::new(&name)?;
    let root = nbps::syslinux_root(lan.dir(), "pxelinux.0", "linux", INITRD)?;
    let tftp = format!("--tftp-root={}", root.display());
    let d = lan.dnsmasq(
        Host::Dhcp,
        &[
            "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
            "--enable-tftp",
            &tftp,
            "--dhcp-boot=pxelinux.0",
        ],
    )?;
    let log = d.log_path().context("dnsmasq has a log")?.to_path_buf();
    let img = floppy_for(lan.dir(), nic)?;
    let sent = |f: &str| format!("sent {}/{f}", root.display());
    let run = lan_net(Qemu::bios(&name).lan(&lan).memory(64).floppy(&img), nic).run(
        &Wait::for_markers(&["PXELINUX 6.04"], Duration::from_secs(240))
            .and_file(&log, &sent("ldlinux.c32"))
            .and_file(&log, &sent("vmlinuz"))
            .and_file(&log, &sent("initrd.img")),
    )?;
    run.expect(&format!("({} at ", nic.driver))?;
    let t = |i: usize| run.marker_times[i].map(|d| d.as_secs_f64());
    let (Some(kernel), Some(initrd)) = (t(2), t(3)) else {
        anyhow::bail!("{name}: kernel or initrd never sent");
    };
    let secs = (initrd - kernel).max(0.01);
    eprintln!(
        "{name}: initrd ({} KiB) through the PXE API in {secs:.2} s ({:.0} KiB/s)",
        INITRD >> 10,
        (INITRD >> 10) as f64 / secs
    );
    Ok(())
}

/// apitest.0 over QEMU's user network with the host's UDP echo: every call checked
/// (`check_softpxe_user_net`: UDP echo, polled UNDI, station address, STOP_UNDI, E820).
fn apitest_user_net(nic: &Nic) -> Result<()> {
    let name = file_name(nic, "apitest");
    let dir = run_dir(&format!("{name}-files"))?;
    let echo = Echo::start("127.0.0.1:0")?;
    let tftp = tftp_root(&dir, echo.port, 1)?;
    let img = floppy_for(&dir, nic)?;
    let run = user_net(Qemu::bios(&name).floppy(&img), nic, &tftp, "apitest.0")
        .run(&Wait::for_markers(&[DONE], Duration::from_secs(150)))?;
    let echoed = echo.finish();
    ensure!(echoed > 0, "{name}: the UDP echo saw nothing");
    check_softpxe_user_net(&run, nic.ids)?;
    Ok(())
}

macro_rules! matrix {
    (@isa) => { None };
    (@isa $isa:literal) => { Some($isa) };
    ($($name:ident: $model:literal, $driver:literal, ($v:literal, $d:literal) $(, isa $isa:literal)?;)*) => {
        const NICS: &[Nic] = &[$(Nic {
            name: stringify!($name), model: $model, ids: ($v, $d), driver: $driver,
            isa: matrix!(@isa $($isa)?),
        }),*];
        fn nic(name: &str) -> &'static Nic {
            NICS.iter().find(|n| n.name == name).expect("a matrix row")
        }
        mod test_nbp { use super::*; $( #[test] fn $name() -> Result<()> { test_nbp_user_net(nic(stringify!($name))) } )* }
        mod pxelinux { use super::*; $( #[test] fn $name() -> Result<()> { pxelinux_kernel_initrd(nic(stringify!($name))) } )* }
        mod apitest { use super::*; $( #[test] fn $name() -> Result<()> { apitest_user_net(nic(stringify!($name))) } )* }
    };
}

// name: QEMU model, softpxe driver, (PCI vendor, device) [, isa "<isa = value>" for an ISA card,
// whose IDs are (PNP, EISA ID as UNDI_GET_NIC_TYPE stores it)]
matrix! {
    e1000: "e1000", "e1000", ("8086", "100E");
    e1000_82544gc: "e1000-82544gc", "e1000", ("8086", "100C");
    e1000_82545em: "e1000-82545em", "e1000", ("8086", "100F");
    ne2k_pci: "ne2k_pci", "ne2000", ("10EC", "8029");
    ne2k_isa: "ne2k_isa,iobase=0x300,irq=9", "ne2000", ("PNP", "D680D041"), isa "ne2000:0x300:9";
    rtl8139: "rtl8139", "rtl8139", ("10EC", "8139");
    virtio: "virtio-net-pci", "virtio_net", ("1AF4", "1000");
    virtio_modern: "virtio-net-pci,disable-legacy=on", "virtio_net", ("1AF4", "1041");
    pcnet: "pcnet", "pcnet", ("1022", "2000");
    e1000e: "e1000e", "e1000", ("8086", "10D3");
    tulip: "tulip", "tulip", ("1011", "0019");
    i82557b: "i82557b", "i8255x", ("8086", "1229");
    i82559er: "i82559er", "i8255x", ("8086", "1209");
    i82550: "i82550", "i8255x", ("8086", "1209");
    i82801: "i82801", "i8255x", ("8086", "2449");
}

/// The matrix as docs/drivers.md shows it.
fn matrix_table() -> String {
    let mut t = String::from(
        "| QEMU model | driver | PCI ID | test NBP (user net) | pxelinux.0 + kernel + initrd (LAN) | apitest.0 (user net) |\n\
         |---|---|---|---|---|---|\n",
    );
    for n in NICS {
        let id = match n.isa {
            Some(isa) => format!("ISA, `isa = {isa}`"),
            None => format!("{}:{}", n.ids.0.to_lowercase(), n.ids.1.to_lowercase()),
        };
        t += &format!(
            "| `{}` | {} | {} | `test_nbp::{}` | `pxelinux::{}` | `apitest::{}` |\n",
            n.model, n.driver, id, n.name, n.name, n.name
        );
    }
    t
}

/// Without `isa` in SOFTPXE.CFG no ISA port is probed: QEMU with only an ISA NE2000 finds no NIC.
#[test]
fn isa_unset_probes_nothing() -> Result<()> {
    let name = "matrix-isa-unset";
    let dir = run_dir(&format!("{name}-files"))?;
    let img = floppy_fast(&dir, |_| {})?;
    let run = Qemu::bios(name)
        .floppy(&img)
        .args(&[
            "-netdev",
            "user,id=n0",
            "-device",
            "ne2k_isa,netdev=n0,iobase=0x300,irq=9",
        ])
        .run(&Wait::for_markers(&["PXE-E61"], Duration::from_secs(60)))?;
    run.expect("PXE-E61: no network controller found on the PCI bus")?
        .expect("an ISA card is only used with `isa` in SOFTPXE.CFG")?;
    ensure!(
        !run.serial.contains("ne2000 at"),
        "an ISA card was taken without `isa`"
    );
    Ok(())
}

/// `isa = auto` finds QEMU's ISA NE2000 at 0x320 by the least intrusive check and boots the
/// test NBP on it.
#[test]
fn isa_auto_finds_the_card() -> Result<()> {
    let nic = Nic {
        name: "isa_auto",
        model: "ne2k_isa,iobase=0x320,irq=10",
        ids: (PNP, "D680D041"),
        driver: "ne2000",
        isa: Some("auto"),
    };
    test_nbp_user_net(&nic)
}

/// Bochs models booted in the regular suite (tests/tests/bochs_nics.rs, netboot.rs), by driver.
const BOCHS: &[(&str, &str)] = &[
    ("e1000", "`e1000` (test NBP, pxelinux.0)"),
    ("ne2000", "`ne2k` in a PCI slot (test NBP, pxelinux.0)"),
    ("ne2000", "`ne2k` on ISA (test NBP, pxelinux.0)"),
];

/// The README's NIC table: per driver its PCI IDs (the drivers' own tables, which `softpxe
/// nics` prints) and the emulated models the regular suite boots (this file's list and
/// [`BOCHS`]), so the README names no model that is not booted.
fn readme_table() -> String {
    use softpxe_drivers::{DRIVERS, ISA_DRIVERS};
    let mut t = String::from(
        "| driver | PCI IDs (`softpxe nics` names each adapter) | booted on every CI run |\n\
         |---|---|---|\n",
    );
    for d in DRIVERS {
        let mut ids = String::new();
        let mut vendor = None;
        for id in d.ids {
            if vendor == Some(id.vendor) {
                ids += &format!(", {:04x}", id.device);
            } else {
                if vendor.is_some() {
                    ids += "; ";
                }
                ids += &format!("{:04x}:{:04x}", id.vendor, id.device);
                vendor = Some(id.vendor);
            }
        }
        if ISA_DRIVERS.iter().any(|i| i.name == d.name) {
            ids += "; ISA (`isa =`)";
        }
        let mut booted: Vec<String> = NICS
            .iter()
            .filter(|n| n.driver == d.name)
            .map(|n| format!("QEMU `{}`", n.model))
            .collect();
        booted.extend(
            BOCHS
                .iter()
                .filter(|(drv, _)| *drv == d.name)
                .map(|(_, m)| format!("Bochs {m}")),
        );
        t += &format!("| {} | {ids} | {} |\n", d.name, booted.join(", "));
    }
    t
}

/// Checks that `file` holds `table` between `<!-- NAME: begin ... -->` and `<!-- NAME: end -->`;
/// with `SOFTPXE_BLESS` set, rewrites it.
fn generated_section(file: &str, name: &str, table: &str) -> Result<()> {
    let begin = format!("<!-- {name}: begin (generated by tests/tests/nic_matrix.rs) -->\n");
    let end = format!("<!-- {name}: end -->");
    let path = repo_root().join(file);
    let doc = fs::read_to_string(&path)?;
    let want = format!("{begin}{table}{end}");
    let (Some(b), Some(e)) = (doc.find(&begin), doc.find(&end)) else {
        anyhow::bail!("{file} has no {name} markers");
    };
    if doc[b..e + end.len()] == want {
        return Ok(());
    }
    if std::env::var_os("SOFTPXE_BLESS").is_some() {
        fs::write(
            &path,
            format!("{}{want}{}", &doc[..b], &doc[e + end.len()..]),
        )?;
        return Ok(());
    }
    anyhow::bail!(
        "{file}'s {name} table differs from tests/tests/nic_matrix.rs and the drivers' ID tables; \
         run `SOFTPXE_BLESS=1 cargo test -p softpxe-tests --test nic_matrix table`"
    )
}

#[test]
fn nic_matrix_table_in_docs() -> Result<()> {
    generated_section("docs/drivers.md", "nic-matrix", &matrix_table())
}

#[test]
fn readme_nic_table_from_the_drivers_and_the_matrix() -> Result<()> {
    generated_section("README.md", "nic-table", &readme_table())
}
