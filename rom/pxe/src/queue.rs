//! Small fixed queues (layer `rom/pxe`): received frames waiting for UNDI_ISR, UDP datagrams
//! waiting for UDP_READ, and the byte ring that re-chunks TFTP data into PacketSize pieces.

use softpxe_net::tftp::{Sink, SinkFull};

/// Up to `N` byte strings of at most `M` bytes, each with a tag `T`, oldest first.
#[derive(Clone, Debug)]
pub(crate) struct Queue<T: Copy, const N: usize, const M: usize> {
    tags: [Option<(T, usize)>; N],
    data: [[u8; M]; N],
}

impl<T: Copy, const N: usize, const M: usize> Queue<T, N, M> {
    pub(crate) fn new() -> Self {
        Queue {
            tags: [None; N],
            data: [[0; M]; N],
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.tags.iter().take_while(|t| t.is_some()).count()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tags[0].is_none()
    }

    pub(crate) fn clear(&mut self) {
        self.tags = [None; N];
    }

    /// Append (truncated to `M` bytes); `false` if full.
    pub(crate) fn push(&mut self, tag: T, bytes: &[u8]) -> bool {
        let i = self.len();
        if i >= N {
            return false;
        }
        let n = bytes.len().min(M);
        self.data[i][..n].copy_from_slice(&bytes[..n]);
        self.tags[i] = Some((tag, n));
        true
    }

    /// Append like [`Queue::push`]; when full, the oldest entry makes room. Returns `false`
    /// when an entry was dropped for it.
    pub(crate) fn push_evicting(&mut self, tag: T, bytes: &[u8]) -> bool {
        if self.len() < N {
            return self.push(tag, bytes);
        }
        self.tags.rotate_left(1);
        self.data.rotate_left(1);
        self.tags[N - 1] = None;
        self.push(tag, bytes);
        false
    }

    /// The oldest entry whose tag satisfies `pred`: copy it to `out` (truncating), remove it,
    /// and return its tag, its full length and the bytes copied.
    pub(crate) fn take(
        &mut self,
        mut pred: impl FnMut(&T) -> bool,
        out: &mut [u8],
    ) -> Option<(T, usize, usize)> {
        let n = self.len();
        let i = (0..n).find(|&i| self.tags[i].is_some_and(|(t, _)| pred(&t)))?;
        let (tag, len) = self.tags[i]?;
        let copied = len.min(out.len());
        out[..copied].copy_from_slice(&self.data[i][..copied]);
        self.tags[i..n].rotate_left(1);
        self.data[i..n].rotate_left(1);
        self.tags[n - 1] = None;
        Some((tag, len, copied))
    }
}

/// Capacity of the TFTP re-chunking ring.
pub const TFTP_RING: usize = 16 * 1024;

/// A byte ring fed in file order by the TFTP client and drained in PacketSize pieces.
#[derive(Clone, Debug)]
pub(crate) struct Ring {
    buf: [u8; TFTP_RING],
    head: usize,
    len: usize,
    /// File offset of the next byte expected from the client.
    next_offset: u64,
}

impl Ring {
    pub(crate) fn new() -> Self {
        Ring {
            buf: [0; TFTP_RING],
            head: 0,
            len: 0,
            next_offset: 0,
        }
    }
    pub(crate) fn len(&self) -> usize {
        self.len
    }
    pub(crate) fn free(&self) -> usize {
        TFTP_RING - self.len
    }
    /// Copy up to `out.len()` bytes out without consuming them; returns how many.
    pub(crate) fn peek(&self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len);
        for (i, b) in out[..n].iter_mut().enumerate() {
            *b = self.buf[(self.head + i) % TFTP_RING];
        }
        n
    }
    /// Drop `n` bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = (self.head + n) % TFTP_RING;
        self.len -= n;
    }
}

impl Sink for Ring {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), SinkFull> {
        if offset != self.next_offset || data.len() > self.free() {
            return Err(SinkFull);
        }
        let tail = (self.head + self.len) % TFTP_RING;
        for (i, b) in data.iter().enumerate() {
            self.buf[(tail + i) % TFTP_RING] = *b;
        }
        self.len += data.len();
        self.next_offset += data.len() as u64;
        Ok(())
    }
}
