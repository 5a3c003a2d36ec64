//! Reading a user's settings file strictly: the builder refuses any bad line (naming file and
//! line), while the firmware reading `SOFTPXE.CFG` at boot skips bad lines.

use anyhow::{bail, Context, Result};
use softpxe_settings::Settings;
use std::path::Path;

/// Parses settings text; any bad line is an error listing every bad line, prefixed by `source`.
pub fn parse_settings_strict(text: &[u8], source: &str) -> Result<Settings> {
    let mut errors = Vec::new();
    let settings = softpxe_settings::parse(text, |e| errors.push(format!("{source}: {e}")));
    if !errors.is_empty() {
        bail!("invalid settings:\n  {}", errors.join("\n  "));
    }
    Ok(settings)
}

/// Reads and strictly parses a settings file (`--settings FILE`).
pub fn load_settings_file(path: &Path) -> Result<Settings> {
    let text =
        std::fs::read(path).with_context(|| format!("reading settings file {}", path.display()))?;
    parse_settings_strict(&text, &path.display().to_string())
}
