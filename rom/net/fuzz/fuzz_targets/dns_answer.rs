#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| softpxe_net::fuzz_targets::dns_answer(data));
