//! Spans: runs of pages that hold objects of one size class (or one large
//! object), with side allocation and mark bitmaps (Go's mspan, allocBits,
//! gcmarkBits).
//!
//! A span never frees its own memory; the page heap does. Span descriptors are
//! never deallocated while the heap lives (they are recycled), so a stale
//! [`SpanPtr`] always points at a valid descriptor.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering::*};

use crate::sizeclass::{MAX_OBJS_PER_SPAN, PAGE_SIZE};

/// Words of a span bitmap.
pub const BITMAP_WORDS: usize = MAX_OBJS_PER_SPAN / 64;
/// `Span::class` of a span holding one large object.
pub const LARGE_CLASS: usize = usize::MAX;

/// State: the descriptor is in the pool, its pages belong to nobody.
pub const SPAN_FREE: u8 = 0;
/// State: the span holds objects; its layout fields are fixed.
pub const SPAN_IN_USE: u8 = 1;

/// A span descriptor.
///
/// Layout fields (`base`, `npages`, `elem_size`, `nelems`, `class`) are written
/// only while the span is `SPAN_FREE` and unpublished, under the page-heap
/// lock, and published by the Release store of `state` (and of the page map);
/// readers load `state` with Acquire before trusting them.
///
/// `alloc_bits` is written only by the sweeper that owns the span (taken from
/// the sweep queue under its lock) or while the span is being initialised;
/// during allocation it is read only by the one P that has the span cached.
/// Objects allocated since the last sweep are the ones below the P's cursor,
/// not recorded in `alloc_bits` (as in Go). `mark_bits` is set with `fetch_or`
/// by any marker during mark and by allocate-black; cleared by the sweeper.
pub struct Span {
    pub(crate) base: AtomicUsize,
    pub(crate) npages: AtomicUsize,
    pub(crate) elem_size: AtomicUsize,
    pub(crate) nelems: AtomicUsize,
    pub(crate) class: AtomicUsize,
    /// `obj_index`'s reciprocal of `elem_size`: `u32::MAX / elem_size + 1`
    /// for a small-object span (exact for every offset inside it: see
    /// `div_magic`), 0 for a large object's (its one object is index 0).
    pub(crate) div_magic: AtomicU64,
    pub(crate) state: AtomicU8,
    /// Whether the span's pages may hold old data: they came from a free
    /// run that was not returned to the OS. Fresh mappings and released
    /// pages read as zero, so a large object there needs no zeroing (Go's
    /// `needzero`). Set with the rest of the descriptor, before publication.
    pub(crate) needzero: std::sync::atomic::AtomicBool,
    pub(crate) alloc_bits: [AtomicU64; BITMAP_WORDS],
    pub(crate) mark_bits: [AtomicU64; BITMAP_WORDS],
}

impl Span {
    pub(crate) fn new_free() -> Span {
        Span {
            base: AtomicUsize::new(0),
            npages: AtomicUsize::new(0),
            elem_size: AtomicUsize::new(0),
            nelems: AtomicUsize::new(0),
            class: AtomicUsize::new(0),
            div_magic: AtomicU64::new(0),
            state: AtomicU8::new(SPAN_FREE),
            needzero: std::sync::atomic::AtomicBool::new(true),
            alloc_bits: Default::default(),
            mark_bits: Default::default(),
        }
    }

    /// Sets up a free descriptor for `npages` at `base` (under the page-heap
    /// lock, before publication).
    pub(crate) fn init(&self, base: usize, npages: usize, class: usize, elem_size: usize) {
        let nelems = if class == LARGE_CLASS {
            1
        } else {
            npages * PAGE_SIZE / elem_size
        };
        self.base.store(base, Relaxed);
        self.npages.store(npages, Relaxed);
        self.elem_size.store(elem_size, Relaxed);
        self.nelems.store(nelems, Relaxed);
        self.class.store(class, Relaxed);
        let magic = if class == LARGE_CLASS {
            0
        } else {
            div_magic(elem_size)
        };
        self.div_magic.store(magic, Relaxed);
        for w in self.alloc_bits.iter().chain(self.mark_bits.iter()) {
            w.store(0, Relaxed);
        }
        self.state.store(SPAN_IN_USE, Release);
    }

    #[inline]
    pub(crate) fn base(&self) -> usize {
        self.base.load(Relaxed)
    }
    #[inline]
    pub(crate) fn npages(&self) -> usize {
        self.npages.load(Relaxed)
    }
    #[inline]
    pub(crate) fn elem_size(&self) -> usize {
        self.elem_size.load(Relaxed)
    }
    #[inline]
    pub(crate) fn nelems(&self) -> usize {
        self.nelems.load(Relaxed)
    }
    #[inline]
    pub(crate) fn class(&self) -> usize {
        self.class.load(Relaxed)
    }
    #[inline]
    pub(crate) fn is_large(&self) -> bool {
        self.class() == LARGE_CLASS
    }

    /// Index of the object containing `addr` (which must lie in the span).
    #[inline]
    pub(crate) fn obj_index(&self, addr: usize) -> usize {
        // A multiply and a shift, not a division: `div` was 12% of
        // `shade` in binarytrees' mark worker (perf annotate).
        (((addr - self.base()) as u64 * self.div_magic.load(Relaxed)) >> 32) as usize
    }

    /// Sets the mark bit of object `idx`; true if it was clear (the caller
    /// greyed it).
    #[inline]
    pub(crate) fn try_mark(&self, idx: usize) -> bool {
        let bit = 1u64 << (idx % 64);
        let word = &self.mark_bits[idx / 64];
        // A plain read first: a marked object (a struct's type, shared by
        // every instance) is met again and again, and the locked RMW was
        // 40% of `shade` in binarytrees' mark worker (perf annotate). A set
        // bit never clears during the mark, so seeing it set is final.
        if word.load(Acquire) & bit != 0 {
            return false;
        }
        word.fetch_or(bit, AcqRel) & bit == 0
    }

    #[inline]
    pub(crate) fn is_marked(&self, idx: usize) -> bool {
        self.mark_bits[idx / 64].load(Acquire) & (1u64 << (idx % 64)) != 0
    }

    /// Number of marked objects.
    pub(crate) fn count_marked(&self) -> usize {
        self.mark_bits
            .iter()
            .map(|w| w.load(Relaxed).count_ones() as usize)
            .sum()
    }
}

/// The multiplier `m` with `(offset * m) >> 32 == offset / size` for every
/// offset inside a span of `size`-byte objects (Go's `divMagic`): with
/// `m = 2^32 / size + e`, `0 < e <= 1`, the error term `offset * e / 2^32`
/// stays below `1 / size` while `offset * size < 2^32`, which holds for
/// every size class (spans of at most a few pages, objects of at most 32
/// KiB); `tests::div_magic_divides_exactly_in_every_class` checks each.
pub(crate) fn div_magic(size: usize) -> u64 {
    u32::MAX as u64 / size as u64 + 1
}

/// A pointer to a span descriptor owned by the heap.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct SpanPtr(pub(crate) NonNull<Span>);

// SAFETY: a `Span` is all atomics; descriptors live as long as the heap, which
// every holder of a `SpanPtr` keeps alive.
unsafe impl Send for SpanPtr {}
// SAFETY: as for Send.
unsafe impl Sync for SpanPtr {}

impl SpanPtr {
    #[inline]
    pub(crate) fn get(&self) -> &Span {
        // SAFETY: descriptors are allocated by the page heap and freed only when
        // the heap drops; every SpanPtr user holds the heap alive.
        unsafe { self.0.as_ref() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sizeclass::{class, num_classes};

    #[test]
    fn div_magic_divides_exactly_in_every_class() {
        for c in 0..num_classes() {
            let sc = class(c);
            let m = div_magic(sc.size);
            for offset in 0..sc.npages * PAGE_SIZE {
                assert_eq!(
                    ((offset as u64 * m) >> 32) as usize,
                    offset / sc.size,
                    "class {c} (size {}), offset {offset}",
                    sc.size
                );
            }
        }
    }
}
