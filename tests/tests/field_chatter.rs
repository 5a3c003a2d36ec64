//! A segment that is not quiet: while pxelinux.0 loads ldlinux.c32, a kernel and an initrd
//! through softpxe's PXE UDP API, another host on the LAN broadcasts UDP datagrams the way
//! Windows machines and printers do (NetBIOS name service 137, datagram service 138, and a
//! discovery port), ten per second. pxelinux reads only its own TFTP port; datagrams for ports
//! nobody reads must not crowd out the ones it waits for (they did: with four stray datagrams
//! queued, every TFTP DATA was dropped and pxelinux gave up).
use anyhow::{Context, Result};
use softpxe_tests::lan::{Host, Lan};
use softpxe_tests::{floppy_fast, nbps, Qemu, Wait};
use std::process::{Child, Stdio};
use std::time::Duration;

const INITRD: usize = 2 << 20;

/// Broadcasts to 10.99.0.255 ports 137, 138 and 1900 from the boot host, every 100 ms, until
/// killed.
fn chatter(lan: &Lan) -> Result<Child> {
    let script = "import socket,time\n\
        s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
        s.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1)\n\
        n=0\n\
        while True:\n\
        \x20   for p in (137,138,1900):\n\
        \x20       s.sendto(b'softpxe-chatter %d' % n,('10.99.0.255',p))\n\
        \x20   n+=1\n\
        \x20   time.sleep(0.1)\n";
    lan.wrap_host(Host::Boot, "python3")
        .args(["-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .context("starting the broadcast chatter (python3)")
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn pxelinux_loads_kernel_and_initrd_through_broadcast_chatter() -> Result<()> {
    let lan = Lan::new("chatter-pxelinux")?;
    let root = nbps::syslinux_root(lan.dir(), "pxelinux.0", "linux", INITRD)?;
    let d = lan.dnsmasq(
        Host::Dhcp,
        &[
            "--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h",
            "--dhcp-boot=pxelinux.0",
            "--enable-tftp",
            &format!("--tftp-root={}", root.display()),
        ],
    )?;
    let _chatter = KillOnDrop(chatter(&lan)?);
    let log = d.log_path().context("dnsmasq has a log")?.to_path_buf();
    let img = floppy_fast(lan.dir(), |_| {})?;
    let sent = |f: &str| format!("sent {}/{f}", root.display());
    let run = Qemu::bios("chatter-pxelinux")
        .lan(&lan)
        .memory(64)
        .floppy(&img)
        .nic_tap("e1000", false)
        .run(
            &Wait::for_markers(&["PXELINUX 6.04"], Duration::from_secs(120))
                .and_file(&log, &sent("ldlinux.c32"))
                .and_file(&log, &sent("vmlinuz"))
                .and_file(&log, &sent("initrd.img")),
        )?;
    eprintln!(
        "pxelinux through broadcast chatter: initrd sent at {:?}",
        run.marker_times[3]
    );
    Ok(())
}
