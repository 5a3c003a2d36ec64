//! The core stack's guard region (rom/bios/src/stackguard.rs): `test_fault = stack` digs into
//! it on purpose, and the next hand-over point to the platform (the keyboard poll in the DHCP
//! wait) reports `PXE-EC8` and halts, before anything below the stack is touched.
use anyhow::Result;
use softpxe::BuildOptions;
use softpxe_settings::Fault;
use softpxe_tests::{run_dir, Qemu, Wait};
use std::time::Duration;

const BANNER: &str = concat!("softpxe ", env!("CARGO_PKG_VERSION"), " BIOS: ");
const DIG: &str = "softpxe: test_fault = stack: using the stack down to ";
const TRIP: &str =
    "PXE-EC8: core stack overflow, seen at the keyboard poll: the stack reached its guard region (";

#[test]
fn stack_overrun_is_reported_at_the_next_hand_over() -> Result<()> {
    let name = "qemu-fault-stack";
    let dir = run_dir(&format!("{name}-image"))?;
    let mut options = BuildOptions::default();
    options.settings.test_fault = Some(Fault::Stack);
    let img = dir.join("boot.img");
    softpxe::write_image_file(&img, &softpxe::build_floppy(&options)?, false)?;
    let run = Qemu::bios(name)
        .floppy(&img)
        .nic("e1000")
        .run(&Wait::for_markers(
            &[BANNER, DIG, TRIP, "This is a softpxe bug"],
            Duration::from_secs(60),
        ))?;
    let line = run
        .serial
        .lines()
        .find(|l| l.starts_with(TRIP))
        .unwrap_or_default();
    // The dig stops halfway into the 16 KiB region: at least 8 KiB of it written, not all.
    let written: usize = line[TRIP.len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        (8 * 1024..16 * 1024).contains(&written),
        "bytes of the guard used: {line}"
    );
    assert!(line.contains("of its 16384 bytes used, down to "), "{line}");
    // Halted: the boot goes no further.
    run.expect_absent("softpxe: starting the NBP")?
        .expect_absent("INT 18h")?
        .expect_absent("softpxe: panic")?;
    Ok(())
}
