//! The firmware clock: the CPU's time-stamp counter, calibrated at boot against PIT channel 2
//! (8254: 1.193182 MHz; gated through port 61h). The BIOS tick at 40:6C does not advance while
//! the core runs with interrupts off, so it cannot serve.
use crate::port::{inb, outb};
use core::sync::atomic::{AtomicU32, Ordering};

static TSC_PER_US: AtomicU32 = AtomicU32::new(0);

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    let lo: u32;
    let hi: u32;
    // SAFETY: rdtsc only reads the counter (every Pentium-class CPU has it).
    unsafe {
        core::arch::asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Measures TSC ticks per microsecond: the median of five 6 ms windows of PIT channel 2, so a
/// single stall of the CPU between the PIT and the TSC reads (an emulator's host thread being
/// descheduled: one 10 ms window once read 3251 MHz on a 2600 MHz host and stretched every
/// timeout by a quarter) cannot skew the clock. Returns the ticks per microsecond.
pub fn calibrate() -> u32 {
    const MS: u64 = 6;
    let mut samples = [0u64; 5];
    for s in samples.iter_mut() {
        *s = window(MS) / (MS * 1000);
    }
    samples.sort_unstable();
    let per_us = (samples[samples.len() / 2] as u32).max(1);
    TSC_PER_US.store(per_us, Ordering::Relaxed);
    per_us
}

/// TSC ticks during `ms` milliseconds counted down by PIT channel 2 (mode 0).
fn window(ms: u64) -> u64 {
    const PIT_HZ: u64 = 1_193_182;
    let count = (PIT_HZ * ms / 1000) as u16;
    // SAFETY: port 61h bit 0 gates PIT channel 2, bit 1 drives the speaker (kept off); ports
    // 42h/43h program channel 2 only, which the BIOS does not use for its tick.
    unsafe {
        let gate = inb(0x61);
        outb(0x61, (gate & !0x02) | 0x01);
        outb(0x43, 0xb0); // channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count)
        outb(0x42, count as u8);
        outb(0x42, (count >> 8) as u8);
        let start = rdtsc();
        // OUT2 (port 61h bit 5) rises at terminal count; bounded in case there is no PIT
        let mut spins = 0u32;
        while inb(0x61) & 0x20 == 0 && spins < 50_000_000 {
            spins += 1;
        }
        let end = rdtsc();
        outb(0x61, gate);
        end.wrapping_sub(start)
    }
}

/// Microseconds since the TSC started (monotonic).
pub fn now_us() -> u64 {
    rdtsc() / u64::from(TSC_PER_US.load(Ordering::Relaxed).max(1))
}

/// Busy-waits at least `us` microseconds.
pub fn delay_us(us: u32) {
    let end = now_us() + u64::from(us);
    while now_us() < end {
        core::hint::spin_loop();
    }
}
