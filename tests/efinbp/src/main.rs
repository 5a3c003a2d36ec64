//! snpcheck.efi: an EFI NBP that finds the SNP of the NIC it was booted from (LocateDevicePath
//! on its loaded image's device, as iPXE's snponly.efi does), opens it exclusively (which
//! disconnects the firmware's MNP stack, again as iPXE does), calls every SNP function in and out
//! of order, and checks each answer against UEFI 2.10 §24.1 and softpxe's documented choices
//! (docs/uefi.md). One line per check on the console (`snpcheck: ok ...` / `snpcheck: FAIL ...`),
//! then `snpcheck: done, N checks, M failures` and ResetSystem(Shutdown), which ends the QEMU
//! run. It talks to QEMU's user network (ARP for 10.0.2.2), nothing else.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::fmt::Display;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use uefi::prelude::*;
use uefi::proto::device_path::DevicePath;
use uefi::proto::loaded_image::LoadedImage;
use uefi::proto::network::snp::{NetworkState, ReceiveFlags, SimpleNetwork};
use uefi::{boot, println};
use uefi_raw::MacAddress;

const OUR_IP: [u8; 4] = [10, 0, 2, 15];
const GATEWAY_IP: [u8; 4] = [10, 0, 2, 2];

struct Check {
    ok: u32,
    bad: u32,
}

impl Check {
    fn that(&mut self, what: &str, cond: bool, detail: impl Display) {
        if cond {
            self.ok += 1;
            println!("snpcheck: ok   {what}");
        } else {
            self.bad += 1;
            println!("snpcheck: FAIL {what}: {detail}");
        }
    }

    fn status<T>(&mut self, what: &str, r: uefi::Result<T>, want: Status) {
        let got = st(&r);
        self.that(
            what,
            got == want,
            format_args!("got {got:?}, want {want:?}"),
        );
    }
}

fn st<T>(r: &uefi::Result<T>) -> Status {
    match r {
        Ok(_) => Status::SUCCESS,
        Err(e) => e.status(),
    }
}

fn mac6(m: &MacAddress) -> [u8; 6] {
    let mut a = [0u8; 6];
    a.copy_from_slice(&m.0[..6]);
    a
}

#[entry]
fn main() -> Status {
    if uefi::helpers::init().is_err() {
        return Status::LOAD_ERROR;
    }
    println!("snpcheck: started");
    let mut c = Check { ok: 0, bad: 0 };
    if let Err(why) = run(&mut c) {
        c.that("setup", false, why);
    }
    println!(
        "snpcheck: done, {} checks, {} failures",
        c.ok + c.bad,
        c.bad
    );
    boot::stall(core::time::Duration::from_millis(100));
    uefi::runtime::reset(uefi::runtime::ResetType::SHUTDOWN, Status::SUCCESS, None)
}

fn find_snp() -> Result<Handle, &'static str> {
    let device = {
        let li = boot::open_protocol_exclusive::<LoadedImage>(boot::image_handle())
            .map_err(|_| "no LoadedImage")?;
        li.device().ok_or("the loaded image has no device")?
    };
    let dp = boot::open_protocol_exclusive::<DevicePath>(device)
        .map_err(|_| "the boot device has no device path")?;
    // The firmware's PXE child (.../MAC/IPv4) carries the same SNP interface "for OS loader
    // compatibility"; the NIC's own handle is the MAC node's: drop a trailing IPv4/IPv6 node.
    let bytes = dp.as_bytes();
    let mut buf = [0u8; 512];
    let (mut at, mut last) = (0usize, 0usize);
    while at + 4 <= bytes.len() && bytes[at] != 0x7F {
        last = at;
        at += usize::from(u16::from_le_bytes([bytes[at + 2], bytes[at + 3]])).max(4);
    }
    let ip_tail =
        bytes.get(last) == Some(&0x03) && matches!(bytes.get(last + 1), Some(0x0C | 0x0D));
    let keep = if ip_tail { last } else { at };
    if keep + 4 > buf.len() {
        return Err("boot device path too long");
    }
    buf[..keep].copy_from_slice(&bytes[..keep]);
    buf[keep..keep + 4].copy_from_slice(&[0x7F, 0xFF, 4, 0]);
    let nic_path: &DevicePath =
        <&DevicePath>::try_from(&buf[..keep + 4]).map_err(|_| "bad device path")?;
    let mut path = nic_path;
    boot::locate_device_path::<SimpleNetwork>(&mut path).map_err(|_| "no SNP on the boot path")
}

fn run(c: &mut Check) -> Result<(), &'static str> {
    let handle = find_snp()?;
    // as iPXE does: disconnect the firmware's stack from the NIC, then take SNP exclusively
    let disconnected = boot::disconnect_controller(handle, None, None);
    println!("snpcheck: DisconnectController: {:?}", st(&disconnected));
    let mut snp = match boot::open_protocol_exclusive::<SimpleNetwork>(handle) {
        Ok(s) => s,
        Err(e) => {
            println!("snpcheck: OpenProtocol(EXCLUSIVE): {:?}", e.status());
            return Err("opening SNP exclusively failed");
        }
    };
    println!(
        "snpcheck: SNP opened exclusively, state {:?}",
        snp.mode().state
    );
    // whatever the firmware's stack left: back to Stopped
    if snp.mode().state == NetworkState::INITIALIZED {
        let _ = snp.shutdown();
    }
    if snp.mode().state == NetworkState::STARTED {
        let _ = snp.stop();
    }
    c.that(
        "stopped",
        snp.mode().state == NetworkState::STOPPED,
        "still not stopped",
    );
    c.status(
        "Initialize when stopped",
        snp.initialize(0, 0),
        Status::NOT_STARTED,
    );
    let mut buf = [0u8; 1536];
    c.status(
        "Receive when stopped",
        snp.receive(&mut buf, None, None, None, None),
        Status::NOT_STARTED,
    );
    c.status("Stop when stopped", snp.stop(), Status::NOT_STARTED);
    c.status("Start", snp.start(), Status::SUCCESS);
    c.status("Start again", snp.start(), Status::ALREADY_STARTED);
    c.that(
        "state Started",
        snp.mode().state == NetworkState::STARTED,
        "",
    );
    let r = snp.receive_filters(ReceiveFlags::UNICAST, ReceiveFlags::empty(), false, None);
    c.that(
        "ReceiveFilters before Initialize fails",
        r.is_err(),
        "succeeded",
    );
    c.status("Initialize", snp.initialize(0, 0), Status::SUCCESS);
    c.status("Initialize again", snp.initialize(0, 0), Status::SUCCESS);
    c.status("Reset", snp.reset(false), Status::SUCCESS);
    let m = snp.mode();
    c.that(
        "state Initialized",
        m.state == NetworkState::INITIALIZED,
        "",
    );
    c.that(
        "Mode sizes",
        m.hw_address_size == 6 && m.media_header_size == 14 && m.max_packet_size == 1500,
        format_args!(
            "{} {} {}",
            m.hw_address_size, m.media_header_size, m.max_packet_size
        ),
    );
    c.that("Mode if_type Ethernet", m.if_type == 1, m.if_type);
    let permanent = mac6(&m.permanent_address);
    c.that(
        "current address = permanent",
        mac6(&m.current_address) == permanent && permanent[0] & 1 == 0,
        "",
    );
    c.that(
        "broadcast address",
        mac6(&m.broadcast_address) == [0xFF; 6],
        "",
    );
    c.that("media present", bool::from(m.media_present), "no link");
    c.that(
        "max 16 multicast filters",
        m.max_mcast_filter_count == 16,
        m.max_mcast_filter_count,
    );

    filters(c, &mut snp);
    addresses(c, &mut snp, permanent);
    traffic(c, &mut snp, permanent);

    c.status("Shutdown", snp.shutdown(), Status::SUCCESS);
    c.that(
        "state Started after Shutdown",
        snp.mode().state == NetworkState::STARTED,
        "",
    );
    let r = snp.shutdown();
    c.that("Shutdown again fails", r.is_err(), "succeeded");
    c.status("Stop", snp.stop(), Status::SUCCESS);
    c.that(
        "state Stopped",
        snp.mode().state == NetworkState::STOPPED,
        "",
    );
    let mut cycles = true;
    for _ in 0..3 {
        cycles &= snp.start().is_ok()
            && snp.initialize(0, 0).is_ok()
            && snp.shutdown().is_ok()
            && snp.stop().is_ok();
    }
    c.that(
        "3 x Start/Initialize/Shutdown/Stop",
        cycles,
        "a call failed",
    );
    c.status(
        "Start + Initialize, then Stop directly",
        snp.start()
            .and_then(|()| snp.initialize(0, 0))
            .and_then(|()| snp.stop()),
        Status::SUCCESS,
    );
    c.that(
        "Stop from Initialized ends Stopped",
        snp.mode().state == NetworkState::STOPPED,
        "",
    );
    Ok(())
}

fn filters(c: &mut Check, snp: &mut SimpleNetwork) {
    let none = ReceiveFlags::empty();
    let bad = ReceiveFlags::from_bits_retain(0x20);
    c.status(
        "ReceiveFilters unknown bit",
        snp.receive_filters(bad, none, false, None),
        Status::INVALID_PARAMETER,
    );
    let group = MacAddress::from([0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB]);
    let unicast = MacAddress::from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
    let on = ReceiveFlags::UNICAST | ReceiveFlags::BROADCAST | ReceiveFlags::MULTICAST;
    c.status(
        "ReceiveFilters + multicast list",
        snp.receive_filters(on, none, false, Some(&[group][..])),
        Status::SUCCESS,
    );
    let m = snp.mode();
    c.that(
        "Mode multicast list",
        m.mcast_filter_count == 1 && mac6(&m.mcast_filter[0]) == mac6(&group),
        m.mcast_filter_count,
    );
    c.that(
        "Mode filter setting",
        m.receive_filter_setting & on.bits() == on.bits(),
        m.receive_filter_setting,
    );
    c.status(
        "ReceiveFilters unicast in list",
        snp.receive_filters(on, none, false, Some(&[unicast][..])),
        Status::INVALID_PARAMETER,
    );
    c.status(
        "ReceiveFilters reset list",
        snp.receive_filters(none, ReceiveFlags::MULTICAST, true, None),
        Status::SUCCESS,
    );
    let m = snp.mode();
    c.that(
        "multicast off, list empty",
        m.mcast_filter_count == 0 && m.receive_filter_setting & ReceiveFlags::MULTICAST.bits() == 0,
        m.receive_filter_setting,
    );
    c.status(
        "ReceiveFilters promiscuous on",
        snp.receive_filters(ReceiveFlags::PROMISCUOUS, none, false, None),
        Status::SUCCESS,
    );
    c.status(
        "ReceiveFilters promiscuous off",
        snp.receive_filters(none, ReceiveFlags::PROMISCUOUS, false, None),
        Status::SUCCESS,
    );
    c.that(
        "unicast + broadcast remain",
        snp.mode().receive_filter_setting
            == (ReceiveFlags::UNICAST | ReceiveFlags::BROADCAST).bits(),
        snp.mode().receive_filter_setting,
    );
}

fn addresses(c: &mut Check, snp: &mut SimpleNetwork, permanent: [u8; 6]) {
    let ip4 = snp.mcast_ip_to_mac(false, IpAddr::V4(Ipv4Addr::new(224, 1, 2, 3)));
    c.that(
        "MCastIpToMac 224.1.2.3",
        ip4.as_ref().map(mac6).ok() == Some([0x01, 0x00, 0x5E, 0x01, 0x02, 0x03]),
        format_args!("{:?}", ip4.as_ref().map(mac6)),
    );
    let v6: Ipv6Addr = "ff02::1:ff00:1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
    let ip6 = snp.mcast_ip_to_mac(true, IpAddr::V6(v6));
    c.that(
        "MCastIpToMac ff02::1:ff00:1",
        ip6.as_ref().map(mac6).ok() == Some([0x33, 0x33, 0xFF, 0x00, 0x00, 0x01]),
        format_args!("{:?}", ip6.as_ref().map(mac6)),
    );
    c.status(
        "MCastIpToMac unicast",
        snp.mcast_ip_to_mac(false, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
        Status::INVALID_PARAMETER,
    );
    let mut nv = [0u8; 4];
    c.status("NvData", snp.read_nv_data(0, &mut nv), Status::UNSUPPORTED);
    let other = MacAddress::from([0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC]);
    c.status(
        "StationAddress new",
        snp.station_address(false, Some(&other)),
        Status::SUCCESS,
    );
    c.that(
        "Mode current address new",
        mac6(&snp.mode().current_address) == mac6(&other),
        "",
    );
    let group = MacAddress::from([0x01, 0x00, 0x5E, 0x00, 0x00, 0x01]);
    c.status(
        "StationAddress multicast",
        snp.station_address(false, Some(&group)),
        Status::INVALID_PARAMETER,
    );
    c.status(
        "StationAddress reset",
        snp.station_address(true, None),
        Status::SUCCESS,
    );
    c.that(
        "Mode current address permanent",
        mac6(&snp.mode().current_address) == permanent,
        "",
    );
}

fn traffic(c: &mut Check, snp: &mut SimpleNetwork, mac: [u8; 6]) {
    c.status("Statistics reset", snp.reset_statistics(), Status::SUCCESS);
    // ARP request for the gateway; SNP fills in the Ethernet header (HeaderSize 14)
    let mut frame = [0u8; 42];
    frame[14..22].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    frame[22..28].copy_from_slice(&mac);
    frame[28..32].copy_from_slice(&OUR_IP);
    frame[38..42].copy_from_slice(&GATEWAY_IP);
    let bcast = MacAddress::from([0xFF; 6]);
    c.status(
        "Transmit header without destination",
        snp.transmit(14, &mut frame, None, None, Some(0x0806)),
        Status::INVALID_PARAMETER,
    );
    let sent_at = frame.as_ptr() as usize;
    c.status(
        "Transmit ARP with header fill-in",
        snp.transmit(14, &mut frame, None, Some(bcast), Some(0x0806)),
        Status::SUCCESS,
    );
    let mut recycled = None;
    for _ in 0..1000 {
        match snp.get_recycled_transmit_buffer_status() {
            Ok(Some(p)) => {
                recycled = Some(p.as_ptr() as usize);
                break;
            }
            Ok(None) => boot::stall(core::time::Duration::from_millis(1)),
            Err(_) => break,
        }
    }
    c.that(
        "GetStatus recycles the buffer",
        recycled == Some(sent_at),
        format_args!("{recycled:x?} vs {sent_at:x}"),
    );
    let ev = snp.wait_for_packet_event();
    let mut waiting = false;
    if let Ok(ev) = &ev {
        for _ in 0..3000 {
            if boot::check_event(ev).unwrap_or(false) {
                waiting = true;
                break;
            }
            boot::stall(core::time::Duration::from_millis(1));
        }
    }
    c.that("WaitForPacket signals", waiting, "no frame within 3 s");
    let mut small = [0u8; 10];
    c.status(
        "Receive into 10 bytes",
        snp.receive(&mut small, None, None, None, None),
        Status::BUFFER_TOO_SMALL,
    );
    let mut buf = [0u8; 1536];
    let mut reply = false;
    for _ in 0..3000 {
        let (mut hs, mut src, mut dst, mut proto) =
            (0usize, MacAddress([0; 32]), MacAddress([0; 32]), 0u16);
        match snp.receive(
            &mut buf,
            Some(&mut hs),
            Some(&mut src),
            Some(&mut dst),
            Some(&mut proto),
        ) {
            Ok(n) => {
                if proto == 0x0806 && n >= 42 && buf[20..22] == [0, 2] {
                    c.that(
                        "ARP reply: header size, addresses",
                        hs == 14 && mac6(&dst) == mac && mac6(&src)[..] == buf[6..12],
                        "",
                    );
                    reply = true;
                    break;
                }
            }
            Err(e) if e.status() == Status::NOT_READY => {
                boot::stall(core::time::Duration::from_millis(1))
            }
            Err(e) => {
                c.that("Receive", false, e.status());
                break;
            }
        }
    }
    c.that("ARP reply from 10.0.2.2 received", reply, "none within 3 s");
    c.status("GetStatus", snp.get_interrupt_status(), Status::SUCCESS);
    match snp.collect_statistics() {
        Ok(s) => c.that(
            "Statistics counted",
            s.tx_total_frames == 1
                && s.tx_broadcast_frames == 1
                && s.rx_total_frames >= 1
                && s.tx_total_bytes == 42
                && s.collisions == u64::MAX,
            format_args!(
                "tx {} rx {} collisions {:x}",
                s.tx_total_frames, s.rx_total_frames, s.collisions
            ),
        ),
        Err(e) => c.that("Statistics", false, e.status()),
    }
}
