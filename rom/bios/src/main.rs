//! SOFTPXE.SYS, the BIOS firmware: the 16-bit prefix (`asm/prefix.s`) brings the machine into
//! 32-bit protected mode and relocates this core to the top of RAM; the core reports the machine
//! and its PCI devices, and (with the network boot work) drives the NIC and runs PXE.
#![no_std]
#![no_main]

mod bootinfo;
mod console;
mod disk;
mod hal;
mod idt;
mod keyboard;
mod layout;
mod libc;
mod platform;
mod port;
mod pxeapi;
mod realmode;
mod stackguard;
mod time;

use bootinfo::BootInfo;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use platform::{Bios, NBP_BASE};
use realmode::RmRegs;
use softpxe_drivers::Nic;

core::arch::global_asm!(
    include_str!(concat!(env!("OUT_DIR"), "/layout.s")),
    include_str!(concat!(env!("OUT_DIR"), "/version.s")),
    include_str!("asm/prefix.s"),
    options(att_syntax, raw)
);
core::arch::global_asm!(include_str!("asm/exceptions.s"), options(att_syntax, raw));

/// The softpxe version (also in the SOFTPXE.SYS header).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

static CORE_BASE: AtomicU32 = AtomicU32::new(0);
static DEBUG: AtomicBool = AtomicBool::new(false);

/// Whether `log = debug` is in effect (every PXE API call is then logged).
pub fn debug_log() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

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
    stackguard::init();
    CORE_BASE.store(info.core_phys, Ordering::Relaxed);
    idt::init();
    realmode::init(info.rm_call);
    banner(&info);
    let tsc = time::calibrate();
    let mut bios = Bios::new(&info, tsc);
    let settings = softpxe_boot::load_settings(&mut bios);
    DEBUG.store(
        settings.log() == softpxe_settings::LogLevel::Debug,
        Ordering::Relaxed,
    );
    if let Some(fault) = settings.test_fault {
        idt::raise(fault);
    }
    if let Some(mut chosen) = softpxe_boot::choose_nic(&mut bios, &settings) {
        if let Some(booted) = softpxe_boot::network_boot(&mut bios, &settings, &mut chosen) {
            start_nbp(&info, &mut bios, &mut chosen, booted);
        }
    }
    // Hand the base memory back and let the BIOS try the next boot device.
    // SAFETY: 40:13 is the BIOS data area's base memory size in KiB; the prefix lowered it by
    // the resident part, which is no longer needed once INT 18h has been called.
    unsafe { core::ptr::write_volatile(0x413 as *mut u16, info.base_kib_before) };
    next_boot_device()
}

fn next_boot_device() -> ! {
    println!("softpxe: trying the next boot device (INT 18h)");
    let mut r = RmRegs::default();
    realmode::int(0x18, &mut r);
    halt()
}

/// The end after an NBP that RESTART_TFTP started has returned.
pub fn finish(info: &BootInfo, ctx: &mut pxeapi::ApiContext<'_>, ax: u16) -> ! {
    nbp_returned(info, ctx, ax);
    // SAFETY: as in core_entry: 40:13 back to the size before softpxe.
    unsafe { core::ptr::write_volatile(0x413 as *mut u16, info.base_kib_before) };
    next_boot_device()
}

/// Starts the NBP with the PXE API open to it: ES:BX = PXENV+, !PXE at SS:SP+4 (PXE 2.1
/// §4.4.5). The NIC stays open for the NBP's UNDI/TFTP/UDP calls; the PXE stack takes over the
/// boot flow's interface and cached packets. Returns when the NBP returns.
#[inline(never)]
fn start_nbp(
    info: &BootInfo,
    bios: &mut Bios,
    chosen: &mut softpxe_boot::Chosen,
    booted: softpxe_boot::Booted,
) {
    let mac = chosen.nic.mac();
    let mut cfg = softpxe_pxe::PxeConfig::new(pxeapi::scratch(info));
    cfg.tftp = booted.tftp;
    cfg.nbp_load = NBP_BASE;
    cfg.nbp_limit = bios.nbp_limit - NBP_BASE;
    let Some(stack) = pxeapi::new_stack(cfg, mac) else {
        println!(
            "softpxe: the PXE API's scratch area is out of reach; starting the NBP without it"
        );
        chosen.nic.close(&mut bios.hal);
        return;
    };
    let mut platform = pxeapi::BiosPlatform::new(&mut bios.hal, chosen, pxeapi::Guard::new(info));
    stack.adopt(&mut platform, booted.handoff);
    let size = booted.size;
    let mut ctx = pxeapi::ApiContext {
        stack,
        platform,
        info,
        restart: None,
        unloaded: false,
    };
    let (pxenv, bang) = pxeapi::install(&mut ctx);
    println!(
        "softpxe: starting the NBP ({size} bytes) at 0000:7C00, PXENV+ at {:04X}:{:04X}, !PXE at {:04X}:{:04X}",
        { pxenv.segment },
        { pxenv.offset },
        { bang.segment },
        { bang.offset }
    );
    stackguard::check("NBP start");
    if debug_log() {
        println!(
            "softpxe: core stack used so far: {} bytes",
            stackguard::high_water()
        );
    }
    let (es, bx) = (pxenv.segment, pxenv.offset);
    let (bs, bo) = (bang.segment, bang.offset);
    let mut r = RmRegs {
        es,
        ebx: u32::from(bx),
        ..RmRegs::default()
    };
    let bang_far = (u32::from(bs) << 16) | u32::from(bo);
    realmode::far_call(0, NBP_BASE as u16, bang_far, &mut r);
    nbp_returned(info, &mut ctx, r.eax as u16);
}

/// The NBP came back (or a RESTART_TFTP NBP did): close the API and the NIC.
fn nbp_returned(info: &BootInfo, ctx: &mut pxeapi::ApiContext<'_>, ax: u16) {
    let (calls, nested) = pxeapi::call_counts(info);
    // after STOP_UNDI the hooks are already off (or deliberately kept: KEEP_UNDI)
    let clean = ctx.unloaded || pxeapi::uninstall(info);
    ctx.platform.nic.nic.close(ctx.platform.hal);
    println!(
        "softpxe: the NBP returned (AX={ax:04x}) after {calls} PXE API calls ({nested} nested){}",
        if clean {
            ""
        } else {
            "; INT 1Ah/15h were hooked by someone else and stay as they are"
        }
    );
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
