//! Stable-Rust run of the `softpxe-pxe` fuzz target bodies (`pxe_api`, `pxe_memory`,
//! `nbp_sink`) over the committed corpus plus generated inputs (see
//! `rom/net/tests/smoke/mod.rs`). No panic allowed.
#[path = "../../net/tests/smoke/mod.rs"]
mod smoke;
use softpxe_pxe::fuzz_targets::ALL;

#[test]
fn every_target_survives_corpus_and_generated_inputs() {
    // pxe_api keeps the PXE stack and 128 KiB of fake base memory on the stack
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            for (name, body) in ALL {
                smoke::run(name, body, 2000);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}
