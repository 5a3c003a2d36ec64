//! Stable-Rust run of the `settings_cfg` fuzz target body (SOFTPXE.CFG) over the committed
//! corpus plus generated inputs (see `rom/net/tests/smoke/mod.rs`). No panic allowed.
#[path = "../../rom/net/tests/smoke/mod.rs"]
mod smoke;

#[test]
fn settings_cfg_survives_corpus_and_generated_inputs() {
    smoke::run(
        "settings_cfg",
        softpxe_settings::fuzz_target::settings_cfg,
        5000,
    );
}
