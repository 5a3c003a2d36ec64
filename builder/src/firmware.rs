//! The firmware blobs embedded in the `softpxe` binary, produced by `build.rs`.
include!(concat!(env!("OUT_DIR"), "/firmware.rs"));
