//! The core's interrupt descriptor table: vectors 0-31 report the CPU exception (vector, EIP,
//! error code, CR2) on screen and COM1 and halt, instead of a triple fault (Intel SDM vol. 3,
//! §6.10-6.14). Hardware interrupts stay off while the core runs.
use core::cell::UnsafeCell;

/// What `exc_common` (asm/exceptions.s) leaves on the stack.
#[repr(C)]
pub struct ExceptionFrame {
    pub cr2: u32,
    pub edi: u32,
    pub esi: u32,
    pub ebp: u32,
    pub esp: u32,
    pub ebx: u32,
    pub edx: u32,
    pub ecx: u32,
    pub eax: u32,
    pub vector: u32,
    pub error: u32,
    pub eip: u32,
    pub cs: u32,
    pub eflags: u32,
}

const NAMES: [&str; 32] = [
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "BOUND range",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor overrun",
    "invalid TSS",
    "segment not present",
    "stack fault",
    "general protection",
    "page fault",
    "reserved",
    "x87 FPU error",
    "alignment check",
    "machine check",
    "SIMD error",
    "virtualization",
    "control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "hypervisor injection",
    "VMM communication",
    "security",
    "reserved",
];

struct Idt(UnsafeCell<[u64; 32]>);
// SAFETY: the firmware runs on one CPU with interrupts off; the table is written once in `init`
// before `lidt` and only read by the CPU afterwards.
unsafe impl Sync for Idt {}
static IDT: Idt = Idt(UnsafeCell::new([0; 32]));

extern "C" {
    static exc_stubs: [u32; 32];
}

/// Fills the IDT with 32-bit interrupt gates to the exception stubs and loads it.
pub fn init() {
    // SAFETY: exc_stubs is the table of stub addresses in asm/exceptions.s (relocated by the
    // prefix like every other address in the core).
    let stubs = unsafe { &exc_stubs };
    // SAFETY: single-threaded, interrupts off, nothing else holds a reference to the table.
    let idt = unsafe { &mut *IDT.0.get() };
    for (gate, &handler) in idt.iter_mut().zip(stubs.iter()) {
        let h = u64::from(handler);
        // selector 08h (flat code), present, DPL 0, 32-bit interrupt gate (8Eh)
        *gate = (h & 0xffff) | (0x08 << 16) | (0x8e00u64 << 32) | ((h >> 16) << 48);
    }
    let base = idt.as_ptr() as u32;
    let idtr: [u16; 3] = [(32 * 8 - 1) as u16, base as u16, (base >> 16) as u16];
    // SAFETY: idtr describes the static table above, which lives for the whole run.
    unsafe {
        core::arch::asm!("lidt [{}]", in(reg) &idtr, options(readonly, nostack, preserves_flags))
    };
}

#[no_mangle]
extern "C" fn exception_handler(frame: &ExceptionFrame) -> ! {
    let v = frame.vector as usize;
    crate::println!(
        "\nsoftpxe: CPU exception {} ({}) at EIP {:08x}, error code {:08x}, CR2 {:08x}",
        v,
        NAMES.get(v).copied().unwrap_or("?"),
        frame.eip,
        frame.error,
        frame.cr2
    );
    crate::println!(
        "  eax {:08x} ebx {:08x} ecx {:08x} edx {:08x} esi {:08x} edi {:08x} ebp {:08x} eflags {:08x}",
        frame.eax, frame.ebx, frame.ecx, frame.edx, frame.esi, frame.edi, frame.ebp, frame.eflags
    );
    crate::println!(
        "  core loaded at {:08x}: EIP is core offset {:08x}",
        crate::core_base(),
        frame.eip.wrapping_sub(crate::core_base())
    );
    crate::halt()
}

/// `test_fault` in SOFTPXE.CFG: raise the exception on purpose, to show the report works.
pub fn raise(fault: softpxe_settings::Fault) {
    crate::println!("softpxe: test_fault = {fault}: raising it now");
    match fault {
        // SAFETY: deliberately faulting; the handler reports and halts, nothing returns here.
        softpxe_settings::Fault::Ud => unsafe { core::arch::asm!("ud2", options(nomem, nostack)) },
        // SAFETY: as above: a 32-bit division by zero.
        softpxe_settings::Fault::De => unsafe {
            core::arch::asm!("xor ecx, ecx", "div ecx", out("eax") _, out("edx") _, out("ecx") _, options(nomem, nostack))
        },
        // SAFETY: as above: selector 0x1234 is past the GDT's limit.
        softpxe_settings::Fault::Gp => unsafe {
            core::arch::asm!("mov ax, 0x1234", "mov fs, ax", out("eax") _, options(nomem, nostack))
        },
        // Not an exception: the stack digs into its guard region and the boot goes on; the
        // next hand-over point (the keyboard poll in the DHCP wait) reports it.
        softpxe_settings::Fault::Stack => {
            crate::stackguard::overrun();
        }
    }
}
