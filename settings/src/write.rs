//! Writing the canonical `SOFTPXE.CFG`: a header, then every key with a one-line help comment;
//! set keys are written as `key = value`, unset ones commented out with their default.

use crate::{Key, Settings, DEFAULT_VENDOR_CLASS};
use core::fmt;

const HEADER: &str = "\
# SOFTPXE.CFG - softpxe boot settings, read at every boot.
# One \"key = value\" per line; \"#\" starts a comment. A commented-out key
# uses its default, shown after the \"=\". Keys: see docs/settings.md.
";

/// Writes the canonical file for `settings`. [`crate::parse`] of the output gives `settings`
/// back.
pub fn write(settings: &Settings, out: &mut impl fmt::Write) -> fmt::Result {
    out.write_str(HEADER)?;
    for key in Key::ALL {
        write!(out, "\n# {}\n", key.help())?;
        match settings.value(key) {
            Some(v) => writeln!(out, "{} = {}", key.name(), v)?,
            None => match default_text(key) {
                Some(d) => writeln!(out, "# {} = {}", key.name(), d)?,
                None => writeln!(out, "# {} =", key.name())?,
            },
        }
    }
    Ok(())
}

/// The default of a key as written in the file, or `None` when it comes from the network.
pub const fn default_text(key: Key) -> Option<&'static str> {
    match key {
        Key::VendorClass => Some(DEFAULT_VENDOR_CLASS),
        Key::Discovery => Some("auto"),
        Key::Timing => Some("auto"),
        Key::Nic => Some("auto"),
        Key::UefiNic => Some("auto"),
        Key::Log => Some("info"),
        Key::TftpWindowsize => Some("16"),
        _ => None,
    }
}

/// A set value of one key, displayed as it is written in the file.
#[derive(Clone, Copy, Debug)]
pub struct ValueDisplay<'a> {
    settings: &'a Settings,
    key: Key,
}

impl Settings {
    /// The value of `key` as the file would show it, or `None` if the key is not set.
    pub fn value(&self, key: Key) -> Option<ValueDisplay<'_>> {
        self.is_set(key).then_some(ValueDisplay {
            settings: self,
            key,
        })
    }
}

fn opt<T: fmt::Display>(v: &Option<T>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match v {
        Some(v) => fmt::Display::fmt(v, f),
        None => Ok(()),
    }
}

impl fmt::Display for ValueDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.settings;
        match self.key {
            Key::VendorClass => opt(&s.vendor_class, f),
            Key::NextServer => opt(&s.next_server, f),
            Key::BootFile => opt(&s.boot_file, f),
            Key::Ip => opt(&s.ip, f),
            Key::Netmask => opt(&s.netmask, f),
            Key::Gateway => opt(&s.gateway, f),
            Key::Dns => opt(&s.dns, f),
            Key::Discovery => opt(&s.discovery, f),
            Key::Timing => opt(&s.timing, f),
            Key::MenuTimeout => opt(&s.menu_timeout, f),
            Key::Nic => opt(&s.nic, f),
            Key::Isa => opt(&s.isa, f),
            Key::UefiNic => opt(&s.uefi_nic, f),
            Key::Log => opt(&s.log, f),
            Key::TftpWindowsize => opt(&s.tftp_windowsize, f),
            Key::TestFile => opt(&s.test_file, f),
            Key::TestFault => opt(&s.test_fault, f),
        }
    }
}
