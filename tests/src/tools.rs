//! The host programs the emulator tests need. A missing one fails the test with the command
//! that installs it (`.ci/run` and `cargo xtask test` install them all), never a silent pass.
use anyhow::{bail, Result};
use std::path::Path;

/// Fails unless `program` is on PATH (or is an existing path).
pub fn require(program: &str, package: &str) -> Result<()> {
    if Path::new(program).is_absolute() {
        if Path::new(program).exists() {
            return Ok(());
        }
    } else if let Some(paths) = std::env::var_os("PATH") {
        if std::env::split_paths(&paths).any(|p| p.join(program).is_file()) {
            return Ok(());
        }
    }
    bail!(
        "{program} is missing: install the Debian package {package} (`cargo xtask setup` or .ci/run \
         installs everything the tests need)"
    )
}
