//! Stable-Rust run of every `softpxe-net` fuzz target body over the committed corpus (seeds and
//! captures from the LAN tests) plus generated inputs, full-size records included (see
//! `smoke/mod.rs`). No panic allowed.
#[path = "smoke/mod.rs"]
mod smoke;
use softpxe_net::fuzz_targets::{dhcp_client_boot_file, records, ALL, MAX_RECORD};

#[test]
fn every_target_survives_corpus_and_generated_inputs() {
    for (name, body) in ALL {
        smoke::run(name, body, 3000);
    }
}

/// The record format carries a whole Ethernet frame, and a full-size DHCP reply (options past
/// byte 1200, the boot file overloaded into `file`, option 52) reaches the client and binds.
#[test]
fn full_size_records_reach_the_parsers() {
    let frame: Vec<u8> = (0..MAX_RECORD).map(|i| i as u8).collect();
    let mut input = vec![7u8];
    input.extend_from_slice(&(MAX_RECORD as u16).to_le_bytes());
    input.extend_from_slice(&frame);
    let got: Vec<_> = records(&input).collect();
    assert_eq!(got, [(7u8, frame.as_slice())]);

    let seed = smoke::corpus("dhcp_client")
        .into_iter()
        .find(|s| s.len() > 2000)
        .expect("the full-size DHCP seed (gen_corpus.py)");
    let mut file = [0u8; 128];
    let n = dhcp_client_boot_file(&seed, &mut file).expect("the full-size offer/ACK binds");
    assert_eq!(&file[..n], b"boot/full-size-overloaded.0");
}
