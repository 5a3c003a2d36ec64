//! apitest.0 (see `apitest.s` and docs/api-test-nbp.md): an NBP that calls the whole PXE 2.1 API
//! of the ROM that started it — GET_CACHED_INFO, the UNDI information calls, TFTP (size, open /
//! read / close, READ_FILE above 1 MiB), UDP (echo), raw UNDI transmit + polled UNDI_ISR,
//! unsupported opcodes and the unload sequence — and prints one parseable line per call on COM1.
#![no_std]
#![no_main]

// rxfilter.s (header flag bit 2) uses apitest.s's helpers and data: one assembly unit.
core::arch::global_asm!(
    concat!(include_str!("apitest.s"), include_str!("rxfilter.s")),
    options(att_syntax, raw)
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
