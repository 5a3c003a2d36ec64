//! `softpxe`, the host side: writes bootable floppy and USB images that carry the softpxe
//! firmware (`SOFTPXE.SYS`) and its settings (`SOFTPXE.CFG`), and inspects them. The binary in
//! `main.rs` is a thin CLI over this library. Image layouts are described in `docs/builder.md`.
#![forbid(unsafe_code)]

pub mod fat;
pub mod firmware;
pub mod floppy;
pub mod gpt_disk;
pub mod inspect;
pub mod nics;
pub mod output;
pub mod settings_file;
pub mod sys;
pub mod usb;

pub use floppy::{build_floppy, FLOPPY_SIZE};
pub use inspect::{inspect, Report};
pub use output::write_image_file;
pub use settings_file::{load_settings_file, parse_settings_strict};
pub use softpxe_settings::Settings;
pub use usb::{
    build_usb, build_usb_layout, parse_size, UsbLayout, USB_DEFAULT_SIZE, USB_MAX_SIZE,
    USB_MIN_SIZE,
};

/// What goes on a medium besides the firmware.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Written to `SOFTPXE.CFG` (unset keys appear commented out with their defaults).
    pub settings: Settings,
}

impl BuildOptions {
    /// The `SOFTPXE.CFG` text for these options.
    pub fn settings_text(&self) -> String {
        let mut s = String::new();
        softpxe_settings::write(&self.settings, &mut s).expect("writing to a String cannot fail");
        s
    }

    /// The root directory files of every image, in order: firmware first, then settings.
    pub(crate) fn root_files(&self) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
        use anyhow::Context;
        sys::SysHeader::parse(firmware::SOFTPXE_SYS)
            .context("the firmware embedded in this softpxe binary is invalid")?;
        Ok(vec![
            (fat::SYS_NAME, firmware::SOFTPXE_SYS.to_vec()),
            (fat::CFG_NAME, self.settings_text().into_bytes()),
        ])
    }
}
