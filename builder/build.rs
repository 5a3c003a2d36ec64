//! Builds the firmware for its own targets and hands the blobs to the builder (see
//! `src/firmware.rs`). PLACEHOLDER until the BIOS firmware lands: emits dummy blobs.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let mut bs = vec![0u8; 512];
    bs[0] = 0xEB;
    bs[1] = 0x3C;
    bs[2] = 0x90;
    bs[510] = 0x55;
    bs[511] = 0xAA;
    fs::write(out.join("bootsect_fat12.bin"), &bs).unwrap();
    fs::write(out.join("vbr_fat16.bin"), &bs).unwrap();
    fs::write(out.join("mbr.bin"), &bs).unwrap();
    let mut sys = vec![0u8; 4096];
    sys[8..16].copy_from_slice(b"SOFTPXE\x1a");
    sys[16..20].copy_from_slice(&1u32.to_le_bytes());
    sys[20..24].copy_from_slice(&4096u32.to_le_bytes());
    sys[64..69].copy_from_slice(b"0.1.0");
    fs::write(out.join("softpxe.sys"), &sys).unwrap();
    fs::write(
        out.join("firmware.rs"),
        "pub static BOOTSECT_FAT12: &[u8; 512] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/bootsect_fat12.bin\"));\n\
         pub static VBR_FAT16: &[u8; 512] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/vbr_fat16.bin\"));\n\
         pub static MBR: &[u8; 512] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/mbr.bin\"));\n\
         pub static SOFTPXE_SYS: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/softpxe.sys\"));\n",
    )
    .unwrap();
    println!("cargo:rerun-if-changed=build.rs");
}
