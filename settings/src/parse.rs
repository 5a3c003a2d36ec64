//! Reading `SOFTPXE.CFG`: lines are split on LF (a trailing CR is dropped), `#` at the start or
//! after a space/tab starts a comment, keys ignore case, and a bad line is reported and skipped.

use crate::value::{is_contiguous_mask, parse_ipv4, prefix_to_mask};
use crate::{
    Discovery, ErrorKind, Fault, Host, IsaSelect, Key, LineError, LogLevel, NicSelect, Settings,
    Text, Timing, UefiNic,
};

/// Parses the file. Every bad line is passed to `report` and skipped; this never fails and never
/// panics, whatever the bytes.
pub fn parse<'a>(text: &'a [u8], mut report: impl FnMut(LineError<'a>)) -> Settings {
    let mut settings = Settings::default();
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    for (index, raw) in text.split(|b| *b == b'\n').enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let content = trim(strip_comment(raw));
        if content.is_empty() {
            continue;
        }
        if let Err((key, value, kind)) = parse_line(&mut settings, content) {
            report(LineError {
                line,
                key,
                value,
                kind,
            });
        }
    }
    settings
}

type LineFailure<'a> = (&'a [u8], &'a [u8], ErrorKind);

fn parse_line<'a>(settings: &mut Settings, content: &'a [u8]) -> Result<(), LineFailure<'a>> {
    let Some(eq) = content.iter().position(|b| *b == b'=') else {
        return Err((content, &[], ErrorKind::MissingEquals));
    };
    let key = trim(&content[..eq]);
    let value = trim(&content[eq + 1..]);
    if key.is_empty() {
        return Err((key, value, ErrorKind::MissingKey));
    }
    let Some(k) = Key::from_name(key) else {
        let kind = if key.iter().all(|b| (0x21..=0x7e).contains(b)) {
            ErrorKind::UnknownKey {
                suggestion: suggest(key),
            }
        } else {
            ErrorKind::BadCharacter
        };
        return Err((key, value, kind));
    };
    apply(settings, k, value).map_err(|kind| (key, value, kind))
}

/// Sets `key` from `value` (already without comment); leaves `settings` unchanged on error.
pub(crate) fn apply(settings: &mut Settings, key: Key, value: &[u8]) -> Result<(), ErrorKind> {
    let value = trim(value);
    if value.is_empty() {
        return Err(ErrorKind::MissingValue);
    }
    if value.iter().any(|b| !(0x20..=0x7e).contains(b)) {
        return Err(ErrorKind::BadCharacter);
    }
    match key {
        Key::VendorClass => settings.vendor_class = Some(Text::new(value)?),
        Key::NextServer => settings.next_server = Some(Host::parse(value)?),
        Key::BootFile => settings.boot_file = Some(Text::new(value)?),
        Key::Ip => {
            let (ip, mask) = match value.iter().position(|b| *b == b'/') {
                Some(slash) => {
                    let ip = parse_ipv4(trim(&value[..slash]))?;
                    let prefix =
                        number(trim(&value[slash + 1..]), 32).map_err(|_| ErrorKind::BadPrefix)?;
                    (ip, Some(prefix_to_mask(prefix)))
                }
                None => (parse_ipv4(value)?, None),
            };
            settings.ip = Some(ip);
            if mask.is_some() {
                settings.netmask = mask;
            }
        }
        Key::Netmask => {
            let mask = parse_ipv4(value)?;
            if !is_contiguous_mask(mask) {
                return Err(ErrorKind::BadNetmask);
            }
            settings.netmask = Some(mask);
        }
        Key::Gateway => settings.gateway = Some(parse_ipv4(value)?),
        Key::Dns => settings.dns = Some(parse_ipv4(value)?),
        Key::Discovery => settings.discovery = Some(Discovery::parse(value)?),
        Key::Timing => settings.timing = Some(Timing::parse(value)?),
        Key::MenuTimeout => settings.menu_timeout = Some(number(value, 255)?),
        Key::Nic => settings.nic = Some(NicSelect::parse(value)?),
        Key::Isa => settings.isa = Some(IsaSelect::parse(value)?),
        Key::UefiNic => settings.uefi_nic = Some(UefiNic::parse(value)?),
        Key::Log => settings.log = Some(LogLevel::parse(value)?),
        Key::TftpWindowsize => match number(value, 64)? {
            0 => return Err(ErrorKind::BadNumber { max: 64 }),
            n => settings.tftp_windowsize = Some(n),
        },
        Key::TestFile => settings.test_file = Some(Text::new(value)?),
        Key::TestFault => settings.test_fault = Some(Fault::parse(value)?),
    }
    Ok(())
}

/// A decimal number `0..=max` (at most 255), no sign.
fn number(s: &[u8], max: u8) -> Result<u8, ErrorKind> {
    let err = ErrorKind::BadNumber {
        max: u32::from(max),
    };
    if s.is_empty() || s.len() > 3 || !s.iter().all(u8::is_ascii_digit) {
        return Err(err);
    }
    let n = s.iter().fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    u8::try_from(n).ok().filter(|n| *n <= max).ok_or(err)
}

fn is_space(b: &u8) -> bool {
    *b == b' ' || *b == b'\t'
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| !is_space(b)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// Cuts the line at a `#` that starts it or follows a space or tab.
fn strip_comment(s: &[u8]) -> &[u8] {
    for (i, b) in s.iter().enumerate() {
        if *b == b'#' && (i == 0 || is_space(&s[i - 1])) {
            return &s[..i];
        }
    }
    s
}

/// A known key within edit distance 2 of `key` (ignoring case, `-` read as `_`).
fn suggest(key: &[u8]) -> Option<&'static str> {
    const MAX: usize = 24;
    if key.len() > MAX {
        return None;
    }
    let mut norm = [0u8; MAX];
    for (d, s) in norm.iter_mut().zip(key) {
        *d = match s.to_ascii_lowercase() {
            b'-' => b'_',
            c => c,
        };
    }
    let key = &norm[..key.len()];
    Key::ALL
        .into_iter()
        .map(|k| (k.name(), distance(key, k.name().as_bytes())))
        .filter(|(_, d)| *d <= 2)
        .min_by_key(|(_, d)| *d)
        .map(|(name, _)| name)
}

/// Levenshtein distance for short strings (both at most 24 bytes).
fn distance(a: &[u8], b: &[u8]) -> usize {
    let mut prev = [0usize; 25];
    let mut cur = [0usize; 25];
    for (j, p) in prev.iter_mut().enumerate().take(b.len() + 1) {
        *p = j;
    }
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
