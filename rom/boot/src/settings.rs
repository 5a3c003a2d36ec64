//! Loading `SOFTPXE.CFG` from the boot medium. A bad line is reported with its number and
//! skipped; a missing or unreadable file means defaults. Boot never stops here.
use crate::console::sayln;
use crate::Platform;
use softpxe_settings::medium::MediumError;
use softpxe_settings::Settings;

/// Largest settings file read (the canonical one is about 1 KiB).
const MAX: usize = 8192;

/// Reads and parses the medium's SOFTPXE.CFG, printing what happened.
pub fn load_settings<P: Platform + ?Sized>(p: &mut P) -> Settings {
    let mut text = [0u8; MAX];
    match p.settings_file(&mut text) {
        Ok(len) => {
            if len > MAX {
                sayln!(
                    p,
                    "softpxe: SOFTPXE.CFG is {len} bytes; only the first {MAX} are read"
                );
            }
            let mut bad = 0;
            let settings = softpxe_settings::parse(&text[..len.min(MAX)], |e| {
                bad += 1;
                sayln!(p, "softpxe: SOFTPXE.CFG {e} (line ignored)");
            });
            let set = softpxe_settings::Key::ALL
                .iter()
                .filter(|k| settings.is_set(**k))
                .count();
            sayln!(
                p,
                "softpxe: settings from SOFTPXE.CFG: {set} set, {bad} bad line(s)"
            );
            settings
        }
        Err(MediumError::NotFound) => {
            sayln!(
                p,
                "softpxe: no SOFTPXE.CFG on the boot medium; using defaults"
            );
            Settings::default()
        }
        Err(e) => {
            sayln!(
                p,
                "softpxe: reading SOFTPXE.CFG failed ({e}); using defaults"
            );
            Settings::default()
        }
    }
}
