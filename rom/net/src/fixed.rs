//! Fixed-capacity byte storage (layer `rom/net`): strings and packet copies without alloc.

/// Up to `N` bytes, with a length. Writes beyond `N` are truncated, never a panic.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FixedBuf<const N: usize> {
    data: [u8; N],
    len: usize,
}

impl<const N: usize> FixedBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        FixedBuf {
            data: [0; N],
            len: 0,
        }
    }
    /// A buffer holding `bytes` (truncated to `N`).
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut b = Self::new();
        b.set(bytes);
        b
    }
    /// Replace the contents with `bytes` (truncated to `N`). Returns false if truncated.
    pub fn set(&mut self, bytes: &[u8]) -> bool {
        let n = bytes.len().min(N);
        self.data[..n].copy_from_slice(&bytes[..n]);
        self.len = n;
        n == bytes.len()
    }
    /// Append `bytes` (truncated to the remaining space). Returns false if truncated.
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        let room = N - self.len;
        let n = bytes.len().min(room);
        self.data[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
        n == bytes.len()
    }
    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }
    /// The stored bytes as text, or `"?"` if they are not UTF-8.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("?")
    }
    /// Number of stored bytes.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True if nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Forget the contents.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl<const N: usize> Default for FixedBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::fmt::Debug for FixedBuf<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match core::str::from_utf8(self.as_bytes()) {
            Ok(s) => write!(f, "{s:?}"),
            Err(_) => write!(f, "{:02x?}", self.as_bytes()),
        }
    }
}

impl<const N: usize> core::fmt::Display for FixedBuf<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for &b in self.as_bytes() {
            let c = if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            };
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Largest UDP payload we keep a copy of (1500-byte MTU minus IPv4 and UDP headers).
pub const MAX_UDP_PAYLOAD: usize = 1472;

/// A copy of one received or sent UDP payload (PXE GET_CACHED_INFO returns these).
pub type PacketCopy = FixedBuf<MAX_UDP_PAYLOAD>;

/// Bytes up to the first NUL (a C string field such as BOOTP `file`).
pub fn c_str(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

impl<const N: usize> core::fmt::Write for FixedBuf<N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // Truncation is not an error: these buffers hold display text.
        self.push(s.as_bytes());
        Ok(())
    }
}
