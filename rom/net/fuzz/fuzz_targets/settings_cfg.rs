#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| softpxe_settings::fuzz_target::settings_cfg(data));
