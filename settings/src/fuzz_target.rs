//! The fuzz target body for `SOFTPXE.CFG` (the cargo-fuzz crate in `rom/net/fuzz`, target
//! `settings_cfg`, and the stable smoke test `tests/fuzz_smoke.rs`): any bytes parse without a
//! panic, every reported line exists, and the canonical file [`crate::write`] makes of the
//! result parses back, without a bad line, to the same settings.
use core::fmt;

/// A fixed buffer for the canonical file (no allocation, as in the firmware).
struct Buf {
    bytes: [u8; 8192],
    len: usize,
}

impl fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.bytes
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Parse, check the reports, write the canonical file, parse it again.
pub fn settings_cfg(data: &[u8]) {
    let lines = data.split(|b| *b == b'\n').count();
    let settings = crate::parse(data, |e| {
        assert!(
            e.line >= 1 && e.line as usize <= lines,
            "line {} of {lines}",
            e.line
        );
    });
    let mut out = Buf {
        bytes: [0; 8192],
        len: 0,
    };
    if crate::write(&settings, &mut out).is_ok() {
        let text = &out.bytes[..out.len];
        let mut bad = 0;
        let again = crate::parse(text, |_| bad += 1);
        assert_eq!(bad, 0, "the canonical file has a bad line");
        assert_eq!(again, settings, "the canonical file reads back differently");
    }
}
