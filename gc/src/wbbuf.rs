//! The per-P write-barrier buffer (Go's wbBuf): barriered stores append the
//! old and new pointers here; a full buffer is flushed by shading every entry
//! into grey work, which is published to the global work list.
//!
//! Owned by one P and touched only by its holder (or, with the world stopped,
//! by the coordinator or a helper that holds the P). Never shared, no atomics.

/// Default entries per buffer; `WEFTDEBUG=wbbuf=2` makes it 2.
pub const WBBUF_DEFAULT: usize = 512;

pub(crate) struct WbBuf {
    entries: Vec<usize>,
    cap: usize,
}

impl WbBuf {
    pub(crate) fn new(cap: usize) -> WbBuf {
        WbBuf {
            entries: Vec::with_capacity(cap),
            cap: cap.max(1),
        }
    }

    /// Appends a pointer; true if the buffer is now full and must be flushed.
    #[inline]
    pub(crate) fn push(&mut self, addr: usize) -> bool {
        self.entries.push(addr);
        self.entries.len() >= self.cap
    }

    pub(crate) fn take(&mut self) -> std::vec::Drain<'_, usize> {
        self.entries.drain(..)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}
