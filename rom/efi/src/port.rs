//! Finding the NICs to drive and publishing each as a child handle of its PCI handle with a MAC
//! device path and SNP; taking them down again.
//!
//! A NIC is taken when softpxe has a driver for it (`find_driver`), the `nic` setting selects
//! it, and either no SNP sits on or under its PCI handle (no firmware driver bound it) or
//! `uefi_nic = take`. softpxe opens the function's PCI I/O BY_DRIVER | EXCLUSIVE (which
//! disconnects a driver that held it) and the child BY_CHILD_CONTROLLER, as a bus driver would,
//! so the handle tree is what the firmware's own drivers expect.

use crate::hal::EfiHal;
use crate::pci_io::{self, PciIo};
use crate::snp::SnpCore;
use crate::snp_abi::SnpDevice;
use crate::{ffi, log};
use alloc::vec::Vec;
use core::ffi::c_void;
use softpxe_drivers::{find_driver, probe, Nic, PciAddress};
use softpxe_settings::{NicSelect, Settings, UefiNic};
use uefi_raw::protocol::network::snp::SimpleNetworkProtocol;
use uefi_raw::{Handle, Status};

const SNP_GUID: uefi_raw::Guid = SimpleNetworkProtocol::GUID;
const END_NODE: [u8; 4] = [0x7F, 0xFF, 4, 0];

/// One NIC softpxe publishes.
#[derive(Debug)]
pub struct Port {
    pub pci_handle: Handle,
    pub child: Handle,
    pub dev: *mut SnpDevice,
    /// The child's device path (installed on it: must outlive the installation).
    pub path: Vec<u8>,
    pub addr: PciAddress,
    pub mac: [u8; 6],
    pub driver: &'static str,
}

/// The device path bytes without the end node.
fn strip_end(p: &[u8]) -> &[u8] {
    p.strip_suffix(&END_NODE).unwrap_or(p)
}

/// `PciRoot/.../Pci(d,f)/MAC(mac,1)/End`.
fn mac_path(pci_path: &[u8], mac: [u8; 6]) -> Vec<u8> {
    let mut p = strip_end(pci_path).to_vec();
    p.extend_from_slice(&[0x03, 0x0B, 37, 0]);
    p.extend_from_slice(&mac);
    p.extend_from_slice(&[0; 26]);
    p.push(1); // IfType: Ethernet
    p.extend_from_slice(&END_NODE);
    p
}

fn selected(sel: NicSelect, addr: PciAddress, vendor: u16, device: u16) -> bool {
    match sel {
        NicSelect::Auto => true,
        NicSelect::Id {
            vendor: v,
            device: d,
        } => v == vendor && d == device,
        NicSelect::Address {
            bus,
            device: dev,
            function,
        } => PciAddress::new(bus, dev, function) == addr,
    }
}

/// Scans every PCI function and publishes SNP on each NIC softpxe takes.
pub fn scan(settings: &Settings) -> Vec<Port> {
    let policy = settings.uefi_nic();
    let handles = ffi::locate(&pci_io::GUID);
    // A boot manager that connects only the boot devices (OVMF with a QEMU boot order, fast boot
    // on real machines) leaves a NIC's own driver unbound: connect each NIC softpxe could drive
    // first, so that one with a firmware driver shows its SNP (and the log says so).
    if policy != UefiNic::Skip {
        for &h in &handles {
            let Some(pci) = pci_io::on_handle(h) else {
                continue;
            };
            let (vendor, device) = (pci.cfg_read(1, 0) as u16, pci.cfg_read(1, 2) as u16);
            if find_driver(vendor, device).is_some() {
                // not recursive: the NIC's driver, not the network stack on top of it
                let _ = ffi::connect(h, false);
            }
        }
    }
    let snps: Vec<(Handle, Vec<u8>)> = ffi::locate(&SNP_GUID)
        .into_iter()
        .filter_map(|h| ffi::device_path(h).map(|p| (h, p)))
        .collect();
    let mut ports = Vec::new();
    let mut nics = 0;
    for h in handles {
        let Some(pci) = pci_io::on_handle(h) else {
            continue;
        };
        let Some((seg, bus, dev, func)) = pci.location() else {
            continue;
        };
        let (vendor, device) = (pci.cfg_read(1, 0) as u16, pci.cfg_read(1, 2) as u16);
        let class = pci.cfg_read(0, 0x0B) as u8;
        let addr = PciAddress::new(bus as u8, dev as u8, func as u8);
        let driver = find_driver(vendor, device);
        if class != 0x02 && driver.is_none() {
            continue;
        }
        nics += 1;
        let what = match driver {
            Some((d, id)) => alloc::format!("{} ({})", id.name, d.name),
            None => alloc::string::String::from("no softpxe driver"),
        };
        log!("softpxe: {seg:04x}:{addr} {vendor:04x}:{device:04x} {what}");
        let Some((info, _)) = driver else { continue };
        if seg != 0 || bus > 0xFF || dev > 0x1F || func > 7 {
            log!("softpxe:   not on PCI segment 0: skipped");
            continue;
        }
        if !selected(settings.nic(), addr, vendor, device) {
            log!("softpxe:   not the NIC the nic setting names: skipped");
            continue;
        }
        let pci_path = ffi::device_path(h).unwrap_or_default();
        let prefix = strip_end(&pci_path);
        let owned: Vec<Handle> = snps
            .iter()
            .filter(|(_, p)| !pci_path.is_empty() && p.starts_with(prefix))
            .map(|(h, _)| *h)
            .collect();
        let bound = !owned.is_empty();
        match (bound, policy) {
            (_, UefiNic::Skip) => continue,
            (true, UefiNic::Auto) => {
                log!("softpxe:   a firmware driver owns it (SNP present): skipped; uefi_nic = take drives it");
                continue;
            }
            (true, _) => {
                log!("softpxe:   a firmware driver owns it: uefi_nic = take, taking it over");
                for &snp in &owned {
                    let _ = ffi::disconnect(snp);
                    ffi::stop_foreign_snp(snp);
                }
            }
            (false, _) => {}
        }
        match take(h, pci, addr, &pci_path, info.name) {
            Ok(port) => {
                let m = port.mac;
                log!(
                    "softpxe:   SNP on MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                    m[0],
                    m[1],
                    m[2],
                    m[3],
                    m[4],
                    m[5]
                );
                ports.push(port);
            }
            Err((s, why)) => log!("softpxe:   not driven: {why} ({s:?})"),
        }
    }
    if nics == 0 {
        log!("softpxe: no network controller found on the PCI bus");
    }
    ports
}

fn take(
    h: Handle,
    pci: PciIo,
    addr: PciAddress,
    pci_path: &[u8],
    driver: &'static str,
) -> Result<Port, (Status, &'static str)> {
    if pci_path.is_empty() {
        return Err((Status::NOT_FOUND, "the PCI handle has no device path"));
    }
    // EXCLUSIVE disconnects the drivers that hold PCI I/O; disconnecting the whole tree first
    // (children, then the function's own driver) is what lets them stop in order.
    if let Err(s) = ffi::disconnect(h) {
        if s != Status::NOT_FOUND {
            log!("softpxe:   DisconnectController: {s:?}");
        }
    }
    if let Err(s) = ffi::open_by_driver(h, &pci_io::GUID, true) {
        for (agent, controller, attrs) in ffi::open_info(h, &pci_io::GUID) {
            log!("softpxe:   PCI I/O held by {agent:?} for {controller:?} (attributes {attrs:#x})");
        }
        return Err((s, "could not open its PCI I/O exclusively"));
    }
    let undo_open = |s: Status, why: &'static str| {
        let _ = ffi::close_protocol(h, &pci_io::GUID, h);
        let _ = ffi::connect(h, true);
        (s, why)
    };
    if let Err(s) = pci.enable_device() {
        return Err(undo_open(s, "could not enable decoding and bus mastering"));
    }
    let mut hal = EfiHal::new(pci, addr);
    let nic = match probe(&mut hal, addr) {
        Ok(Some(nic)) => nic,
        Ok(None) => return Err(undo_open(Status::UNSUPPORTED, "no driver")),
        Err(_) => {
            return Err(undo_open(
                Status::DEVICE_ERROR,
                "the driver could not take it",
            ))
        }
    };
    let mac = nic.mac();
    let dev = match SnpDevice::create(SnpCore::new(nic, hal)) {
        Ok(d) => d,
        Err(s) => return Err(undo_open(s, "no memory for its SNP")),
    };
    let path = mac_path(pci_path, mac);
    let child = match ffi::install(
        core::ptr::null_mut(),
        &ffi::DEVICE_PATH_GUID,
        path.as_ptr().cast(),
    ) {
        Ok(c) => c,
        Err(s) => {
            free_dev(dev);
            return Err(undo_open(s, "installing its device path failed"));
        }
    };
    if let Err(s) = ffi::install(child, &SNP_GUID, dev.cast_const().cast::<c_void>()) {
        let _ = ffi::uninstall(child, &ffi::DEVICE_PATH_GUID, path.as_ptr().cast());
        free_dev(dev);
        return Err(undo_open(s, "installing SNP failed"));
    }
    let _ = ffi::open_by_child(h, &pci_io::GUID, child);
    Ok(Port {
        pci_handle: h,
        child,
        dev,
        path,
        addr,
        mac,
        driver,
    })
}

/// Frees a device that was never installed (or no longer is) and stops its NIC.
fn free_dev(dev: *mut SnpDevice) {
    crate::snp_abi::free_uninstalled(dev);
}

/// ConnectController on the child: the firmware's MNP, ARP, IP4, UDP4, DHCP4, MTFTP4 and PXE
/// Base Code drivers bind to softpxe's SNP.
pub fn connect(port: &Port) -> Result<(), Status> {
    ffi::connect(port.child, true)
}

/// Takes a port down: disconnects the firmware's stack, uninstalls SNP and the device path,
/// stops the NIC, gives the PCI function back (and reconnects its firmware drivers).
pub fn teardown(port: Port) -> Result<(), (Port, Status)> {
    let _ = ffi::disconnect(port.child);
    if let Err(s) = ffi::uninstall(port.child, &SNP_GUID, port.dev.cast_const().cast()) {
        let _ = ffi::connect(port.child, true);
        return Err((port, s));
    }
    let _ = ffi::close_protocol(port.pci_handle, &pci_io::GUID, port.child);
    let _ = ffi::uninstall(
        port.child,
        &ffi::DEVICE_PATH_GUID,
        port.path.as_ptr().cast(),
    );
    free_dev(port.dev);
    let _ = ffi::close_protocol(port.pci_handle, &pci_io::GUID, port.pci_handle);
    let _ = ffi::connect(port.pci_handle, true);
    Ok(())
}

/// The firmware's PXE Base Code LoadFile for IPv4 on `port`: the handle under the child whose
/// device path is the child's plus one IPv4 node. Its device path.
pub fn pxe_load_file_path(port: &Port) -> Option<Vec<u8>> {
    let prefix = strip_end(&port.path);
    ffi::locate(&ffi::LOAD_FILE_GUID)
        .into_iter()
        .filter_map(ffi::device_path)
        .find(|p| {
            p.len() > prefix.len() + 4
                && p.starts_with(prefix)
                && p[prefix.len()] == 0x03
                && p[prefix.len() + 1] == 0x0C
                && usize::from(u16::from_le_bytes([
                    p[prefix.len() + 2],
                    p[prefix.len() + 3],
                ])) + prefix.len()
                    + 4
                    == p.len()
        })
}
