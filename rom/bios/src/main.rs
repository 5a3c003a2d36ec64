//! SOFTPXE.SYS, the BIOS firmware: the 16-bit prefix (`asm/prefix.s`) brings the machine into
//! 32-bit protected mode and relocates this core to the top of RAM; the core reports the machine
//! and its PCI devices, and (with the network boot work) drives the NIC and runs PXE.
#![no_std]
#![no_main]

mod bootinfo;
mod config;
mod console;
mod disk;
mod hal;
mod idt;
mod keyboard;
mod libc;
mod link;
mod netboot;
mod nicsel;
mod port;
mod realmode;
mod time;

use bootinfo::BootInfo;
use core::sync::atomic::{AtomicU32, Ordering};
use realmode::RmRegs;
use softpxe_drivers::Nic;

core::arch::global_asm!(
    include_str!(concat!(env!("OUT_DIR"), "/version.s")),
    include_str!("asm/prefix.s"),
    options(att_syntax, raw)
);
core::arch::global_asm!(include_str!("asm/exceptions.s"), options(att_syntax, raw));

/// The softpxe version (also in the SOFTPXE.SYS header).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

static CORE_BASE: AtomicU32 = AtomicU32::new(0);

/// Where the core was loaded (to turn an EIP into an offset in the ELF file).
pub fn core_base() -> u32 {
    CORE_BASE.load(Ordering::Relaxed)
}

/// Stops the CPU for good.
pub fn halt() -> ! {
    loop {
        // SAFETY: cli; hlt only stops this CPU.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

/// Called by the prefix on the core's own stack, interrupts off, flat 32-bit segments.
#[no_mangle]
extern "C" fn core_entry(info: *const BootInfo) -> ! {
    // SAFETY: the prefix passes its own `bootinfo`, filled in and laid out as BootInfo (asserted
    // in bootinfo.rs); we copy it before anything can overwrite the prefix's memory.
    let info: BootInfo = unsafe { core::ptr::read(info) };
    CORE_BASE.store(info.core_phys, Ordering::Relaxed);
    idt::init();
    realmode::init(info.rm_call);
    banner(&info);
    let tsc = time::calibrate();
    let mut disk = disk::BootDisk::new(&info);
    let settings = config::load(&mut disk);
    let mut hal = hal::BiosHal::new();
    if let Some(mut chosen) = nicsel::choose(&mut hal, &settings) {
        network_boot(&info, &settings, &mut hal, &mut chosen, tsc);
    }
    // Hand the base memory back and let the BIOS try the next boot device.
    // SAFETY: 40:13 is the BIOS data area's base memory size in KiB; the prefix lowered it by
    // the resident part, which is no longer needed once INT 18h has been called.
    unsafe { core::ptr::write_volatile(0x413 as *mut u16, info.base_kib_before) };
    println!("softpxe: trying the next boot device (INT 18h)");
    let mut r = RmRegs::default();
    realmode::int(0x18, &mut r);
    halt()
}

/// Opens the NIC, runs the PXE conversation, starts the NBP; returns when there is nothing more
/// to do here (the NBP returned, local boot was chosen, or the boot failed and no key was
/// pressed to retry). The NIC is closed on every way out.
fn network_boot(
    info: &BootInfo,
    settings: &softpxe_settings::Settings,
    hal: &mut hal::BiosHal,
    chosen: &mut nicsel::Chosen,
    tsc: u32,
) {
    let nbp_limit = u32::from(info.resident_segment) << 4;
    loop {
        if !nicsel::open(hal, chosen) {
            return;
        }
        let m = chosen.nic.mac();
        println!(
            "CLIENT MAC ADDR: {:02X} {:02X} {:02X} {:02X} {:02X} {:02X}  ({} at {}, {:04x}:{:04x}; TSC {} MHz)",
            m[0], m[1], m[2], m[3], m[4], m[5], chosen.name, chosen.pci, chosen.vendor, chosen.device, tsc
        );
        let decision = {
            let mut link = link::Link::new(hal, &mut chosen.nic);
            netboot::run(&mut link, settings, nbp_limit)
        };
        chosen.nic.close(hal);
        match decision {
            Ok(netboot::Decision::Nbp { size }) => {
                println!("softpxe: starting the NBP ({size} bytes) at 0000:7C00");
                let mut r = RmRegs::default();
                realmode::far_call(0, netboot::NBP_BASE as u16, 0, &mut r);
                println!("softpxe: the NBP returned (AX={:04x})", r.eax as u16);
                return;
            }
            Ok(netboot::Decision::Local) => return,
            Err(netboot::Failed) => {
                println!("softpxe: press a key within 5 s to try again");
                if keyboard::wait(5000).is_none() {
                    return;
                }
            }
        }
    }
}

fn banner(info: &BootInfo) {
    let mib = info.ram_bytes() / (1024 * 1024);
    let drive = info.boot_drive;
    let kind = if drive < 0x80 { "floppy" } else { "disk" };
    let part = info.partition_lba();
    println!(
        "softpxe {VERSION} BIOS: {mib} MiB RAM ({}), boot drive {drive:02x}h ({kind})",
        info.memory_source()
    );
    if part != 0 {
        println!("softpxe: booted from the partition at LBA {part}");
    }
    println!(
        "softpxe: core at {:08x} ({} KiB), resident {} bytes at {:04x}:0000, base memory {} -> {} KiB, A20 {}",
        info.core_phys,
        info.core_size / 1024,
        info.resident_size,
        info.resident_segment,
        info.base_kib_before,
        info.base_kib_after,
        info.a20_method()
    );
}

#[panic_handler]
fn panic(p: &core::panic::PanicInfo<'_>) -> ! {
    match p.location() {
        Some(l) => println!(
            "\nsoftpxe: panic at {}:{}: {}",
            l.file(),
            l.line(),
            p.message()
        ),
        None => println!("\nsoftpxe: panic: {}", p.message()),
    }
    halt()
}
