#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| softpxe_pxe::fuzz_targets::nbp_sink(data));
