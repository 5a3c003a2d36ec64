//! What BOOTX64.EFI does, start to end: banner, SOFTPXE.CFG from its own volume, NIC scan and
//! SNP publication ([`crate::port`]), ConnectController, then the boot through the firmware's
//! PXE Base Code LoadFile on softpxe's NIC (LoadImage with BootPolicy TRUE + StartImage).
//!
//! An application must not return while protocols it installed are in place (its image is
//! unloaded): when the NBP returns or nothing booted, every port is taken down first, and only
//! then does BOOTX64.EFI return to the boot manager (which goes on to its next boot option).
//! softpxe's own boot flow on UEFI (DHCP/TFTP in softpxe, PXE Base Code published by softpxe)
//! comes with the shared boot-flow crate; see docs/uefi.md.

use crate::{ffi, hal, log, port};
use alloc::vec;
use softpxe_settings::{Key, Settings, UefiNic};
use uefi::proto::media::file::{File, FileAttribute, FileMode};
use uefi::{cstr16, Status};

/// Largest settings file read (the canonical one is about 1 KiB).
const MAX_CFG: usize = 8192;

/// Runs BOOTX64.EFI; the status goes back to the boot manager.
pub fn run() -> Status {
    if uefi::helpers::init().is_err() {
        return Status::LOAD_ERROR;
    }
    let per_us = hal::calibrate();
    log!(
        "softpxe {} UEFI: x86_64, TSC {} MHz",
        env!("CARGO_PKG_VERSION"),
        per_us
    );
    let settings = load_settings();
    if settings.uefi_nic() == UefiNic::Skip {
        log!("softpxe: uefi_nic = skip: no NIC driven; back to the boot manager");
        return Status::NOT_FOUND;
    }
    let ports = port::scan(&settings);
    if ports.is_empty() {
        log!("softpxe: no NIC for softpxe to drive; back to the boot manager");
        return Status::NOT_FOUND;
    }
    for p in &ports {
        match port::connect(p) {
            Ok(()) => log!(
                "softpxe: {}: the firmware's network stack is connected to softpxe's SNP",
                p.addr
            ),
            Err(s) => log!("softpxe: {}: ConnectController failed ({s:?})", p.addr),
        }
    }
    for p in &ports {
        let Some(path) = port::pxe_load_file_path(p) else {
            log!(
                "softpxe: {}: the firmware's PXE Base Code did not bind to the NIC (no IPv4 \
                 LoadFile); is the firmware's network stack enabled in its setup?",
                p.addr
            );
            continue;
        };
        log!(
            "softpxe: {} ({}): PXE boot with the firmware's PXE Base Code over softpxe's SNP",
            p.addr,
            p.driver
        );
        match ffi::load_image_from(&path) {
            Ok(image) => {
                // as the boot manager does before it starts a boot option: 5 minutes for the
                // NBP to take over (OS loaders turn it off)
                ffi::set_watchdog(300);
                let st = ffi::start_image(image);
                ffi::set_watchdog(0);
                log!("softpxe: the NBP returned ({st:?})");
            }
            Err(s) => log!("softpxe: {}: PXE boot failed ({s:?})", p.addr),
        }
    }
    for p in ports {
        if let Err((p, s)) = port::teardown(p) {
            log!(
                "softpxe: {}: SNP cannot be uninstalled ({s:?}): a driver still holds it; \
                 softpxe cannot return safely, resetting in 5 s",
                p.addr
            );
            ffi::stall(5_000_000);
            uefi::runtime::reset(uefi::runtime::ResetType::COLD, Status::ABORTED, None);
        }
    }
    log!("softpxe: every protocol softpxe installed is gone; back to the boot manager");
    Status::NOT_FOUND
}

/// SOFTPXE.CFG from the volume BOOTX64.EFI was loaded from; defaults when absent.
fn load_settings() -> Settings {
    let mut text = vec![0u8; MAX_CFG];
    match read_cfg(&mut text) {
        Ok(len) => {
            let mut bad = 0;
            let settings = softpxe_settings::parse(&text[..len], |e| {
                bad += 1;
                log!("softpxe: SOFTPXE.CFG {e} (line ignored)");
            });
            let set = Key::ALL.iter().filter(|k| settings.is_set(**k)).count();
            log!("softpxe: settings from SOFTPXE.CFG: {set} set, {bad} bad line(s)");
            settings
        }
        Err(s) if s == Status::NOT_FOUND => {
            log!("softpxe: no SOFTPXE.CFG on the boot medium; using defaults");
            Settings::default()
        }
        Err(s) => {
            log!("softpxe: reading SOFTPXE.CFG failed ({s:?}); using defaults");
            Settings::default()
        }
    }
}

fn read_cfg(buf: &mut [u8]) -> Result<usize, Status> {
    let mut fs =
        uefi::boot::get_image_file_system(uefi::boot::image_handle()).map_err(|e| e.status())?;
    let mut root = fs.open_volume().map_err(|e| e.status())?;
    let file = root
        .open(
            cstr16!("SOFTPXE.CFG"),
            FileMode::Read,
            FileAttribute::empty(),
        )
        .map_err(|e| e.status())?;
    let mut file = file.into_regular_file().ok_or(Status::NOT_FOUND)?;
    file.read(buf).map_err(|e| e.status())
}
