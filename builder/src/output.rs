//! Writing an image file safely: never clobber without `--force`, never write into a device
//! node, and never leave a half-written file: the bytes go to a temporary file in the same
//! directory (`.NAME.tmp-PID`), which is synced and then renamed over the target.

use anyhow::{bail, Context, Result};
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically. Refuses an existing `path` unless `force`, and refuses
/// anything but a regular file even with `force`. On error nothing new is left behind.
pub fn write_image_file(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{} does not name a file", path.display()))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => bail!(
            "cannot write {}: output directory {} is not a directory",
            path.display(),
            dir.display()
        ),
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "cannot write {}: output directory {}",
                    path.display(),
                    dir.display()
                )
            })
        }
    }
    match fs::symlink_metadata(path) {
        Ok(meta) => {
            if !meta.file_type().is_file() {
                bail!(
                    "{} exists and is not a regular file; softpxe only writes image files \
                     (writing to devices is not supported yet)",
                    path.display()
                );
            }
            if !force {
                bail!(
                    "{} already exists; use --force to overwrite it",
                    path.display()
                );
            }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).with_context(|| format!("checking output file {}", path.display()))
        }
    }
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);

    write_via_temp(&tmp, path, bytes).with_context(|| {
        format!(
            "writing {} (output directory {})",
            path.display(),
            dir.display()
        )
    })
}

/// Writes `tmp`, then renames it to `path`; on any error `tmp` is removed.
fn write_via_temp(tmp: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let result = write_then_rename(tmp, path, bytes);
    if result.is_err() {
        // The temp file may or may not exist; either way it must not stay.
        let _ = fs::remove_file(tmp);
    }
    result
}

fn write_then_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .with_context(|| format!("creating temporary file {}", tmp.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing temporary file {}", tmp.display()))?;
    file.sync_all()
        .with_context(|| format!("syncing temporary file {}", tmp.display()))?;
    drop(file);
    fs::rename(tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_rename_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join(".x.img.tmp-1");
        let target = dir.path().join("no-such-dir").join("x.img");
        let err = write_via_temp(&tmp, &target, b"data").unwrap_err();
        assert!(format!("{err:#}").contains("renaming"), "{err:#}");
        assert!(!tmp.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn writes_then_overwrites_only_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x.img");
        write_image_file(&target, b"one", false).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"one");
        let err = write_image_file(&target, b"two", false).unwrap_err();
        assert!(format!("{err:#}").contains("--force"), "{err:#}");
        assert_eq!(fs::read(&target).unwrap(), b"one");
        write_image_file(&target, b"two", true).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"two");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
