//! Per-P span cache (Go's mcache) and the per-class central lists (mcentral):
//! the lock-free allocation fast path and the refill that feeds it.
//!
//! An `MCache` belongs to one P and is touched only by its owner (or by the
//! coordinator with the world stopped, when mark termination empties every
//! cache before sweeping). A span is cached by at most one P; only swept spans
//! are ever cached. Refill order: the class's central list, then sweeping a
//! few spans (lazy sweep paid by allocation), then fresh pages.

use std::sync::atomic::Ordering::*;

use crate::heap::{AllocError, Heap};
use crate::sizeclass::{class, num_classes, PAGE_SIZE};
use crate::span::{SpanPtr, LARGE_CLASS};
use crate::sweep::{Swept, POISON};

/// One class's cached span and allocation cursor.
#[derive(Clone, Copy)]
struct CacheEntry {
    span: Option<SpanPtr>,
    base: usize,
    elem: usize,
    nelems: usize,
    /// Index of the bitmap word `bits` came from.
    word: usize,
    /// Free slots of word `word` not yet handed out (1 = free).
    bits: u64,
}

const EMPTY: CacheEntry = CacheEntry {
    span: None,
    base: 0,
    elem: 0,
    nelems: 0,
    word: 0,
    bits: 0,
};

pub(crate) struct MCache {
    entries: Vec<CacheEntry>,
    /// The size → class table for sizes up to 1024 (no lazy-init check).
    small: &'static [u8],
    /// Objects allocated through this cache (published to `PSlot::allocs`).
    pub(crate) allocs: u64,
}

impl MCache {
    pub(crate) fn new() -> MCache {
        MCache {
            entries: vec![EMPTY; num_classes()],
            small: crate::sizeclass::small_table(),
            allocs: 0,
        }
    }

    /// `sizeclass::class_of`, with the small-size table at hand.
    #[inline]
    pub(crate) fn class_of(&self, size: usize) -> Option<usize> {
        match self.small.get(size.div_ceil(16)) {
            Some(&c) => Some(c as usize),
            None => crate::sizeclass::class_of(size),
        }
    }

    /// The fast path: the next free slot of the cached span of `class`.
    #[inline]
    pub(crate) fn next_free(&mut self, class: usize) -> Option<usize> {
        self.next_free_indexed(class).map(|(addr, _, _)| addr)
    }

    /// [`MCache::next_free`], also naming the slot's span and its index
    /// there: what allocating black during mark needs to set the object's
    /// mark bit without looking the span up or dividing by the size.
    #[inline]
    pub(crate) fn next_free_indexed(&mut self, class: usize) -> Option<(usize, SpanPtr, usize)> {
        let e = &mut self.entries[class];
        let span = e.span?;
        loop {
            if e.bits != 0 {
                let tz = e.bits.trailing_zeros() as usize;
                e.bits &= e.bits - 1;
                let idx = e.word * 64 + tz;
                if idx < e.nelems {
                    return Some((e.base + idx * e.elem, span, idx));
                }
                e.bits = 0;
                return None;
            }
            e.word += 1;
            if e.word * 64 >= e.nelems {
                return None;
            }
            e.bits = !span.get().alloc_bits[e.word].load(Relaxed);
        }
    }

    /// Caches `sp` (swept, owned by nobody else) for its class.
    pub(crate) fn install(&mut self, sp: SpanPtr) {
        let span = sp.get();
        self.entries[span.class()] = CacheEntry {
            span: Some(sp),
            base: span.base(),
            elem: span.elem_size(),
            nelems: span.nelems(),
            word: 0,
            bits: !span.alloc_bits[0].load(Relaxed),
        };
    }

    /// Drops every cached span (they stay in `Heap::in_use`). World stopped.
    pub(crate) fn reset(&mut self) {
        self.entries.fill(EMPTY);
    }
}

impl Heap {
    /// Gets a swept span with free slots for `class`, for the cache of P
    /// `holder`, whose holder is at a safepoint.
    pub(crate) fn cache_span(
        &self,
        class_idx: usize,
        holder: Option<usize>,
    ) -> Result<SpanPtr, AllocError> {
        // Pop in its own statement: the central lock must be released before
        // sweeping or taking the page-heap lock (a match scrutinee's guard
        // would live through the whole match).
        let popped = self.central_list(class_idx).spans.pop();
        let sp = match popped {
            Some(sp) => sp,
            None => match self.sweep_for_class(class_idx) {
                Some(sp) => sp,
                None => {
                    let c = class(class_idx);
                    let sp = self.alloc_span_checked(c.npages, class_idx, c.size, holder)?;
                    if self.config.debug.poison {
                        let base = sp.get().base();
                        // SAFETY: the span is fresh and not yet visible to anyone.
                        unsafe {
                            std::ptr::write_bytes(base as *mut u8, POISON, c.npages * PAGE_SIZE)
                        };
                    }
                    self.in_use.lock().expect("in_use lock").push(sp);
                    sp
                }
            },
        };
        let span = sp.get();
        let nfree = span.nelems()
            - span
                .alloc_bits
                .iter()
                .map(|w| w.load(Relaxed).count_ones() as usize)
                .sum::<usize>();
        self.note_alloc_bytes(nfree * span.elem_size());
        Ok(sp)
    }

    /// Lazy sweep paid by allocation: sweeps up to 16 spans, keeping the first
    /// of `class_idx` that has free slots.
    fn sweep_for_class(&self, class_idx: usize) -> Option<SpanPtr> {
        for _ in 0..16 {
            match self.sweep_one(Some(class_idx))? {
                Swept::Kept(sp) => return Some(sp),
                Swept::Other => {}
            }
        }
        None
    }

    /// Allocates one large object's span, for the holder of P `holder` at
    /// a safepoint.
    pub(crate) fn alloc_large(
        &self,
        size: usize,
        holder: Option<usize>,
    ) -> Result<SpanPtr, AllocError> {
        let npages = size.div_ceil(PAGE_SIZE);
        // Sweeping first may return pages to the page heap.
        for _ in 0..4 {
            if self.sweep_one(None).is_none() {
                break;
            }
        }
        let sp = self.alloc_span_checked(npages, LARGE_CLASS, npages * PAGE_SIZE, holder)?;
        self.in_use.lock().expect("in_use lock").push(sp);
        self.note_alloc_bytes(npages * PAGE_SIZE);
        Ok(sp)
    }

    /// Takes a fresh span from the page heap (its lock taken as at P
    /// `holder`'s safepoint: see `Heap::lock_pages_at_safepoint`).
    fn alloc_span_checked(
        &self,
        npages: usize,
        class_idx: usize,
        elem: usize,
        holder: Option<usize>,
    ) -> Result<SpanPtr, AllocError> {
        let bytes = npages * PAGE_SIZE;
        if let Some(limit) = self.config.pacer.mem_limit {
            if self.page_stats.in_use_bytes.load(Relaxed) + bytes > limit {
                return Err(AllocError::OutOfMemory { requested: bytes });
            }
        }
        self.lock_pages_at_safepoint(holder)
            .alloc_span(&self.arenas, &self.page_stats, npages, class_idx, elem)
            .map_err(|_| AllocError::OutOfMemory { requested: bytes })
    }

    /// Counts newly cached bytes and asks for a cycle at the trigger.
    fn note_alloc_bytes(&self, bytes: usize) {
        let live = self.heap_live.fetch_add(bytes, Relaxed) + bytes;
        if live >= self.trigger.load(Relaxed) && self.phase() == crate::heap::PHASE_OFF {
            self.request_cycle_at_trigger();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Heap, Mutator};
    use std::collections::HashSet;
    use std::sync::atomic::Ordering::Relaxed;

    #[test]
    fn fast_path_hands_out_distinct_aligned_slots_across_spans() {
        let (heap, ty) = Heap::for_unit_test_with_leaf();
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        let mut seen = HashSet::new();
        for i in 0..5000 {
            let o = p.alloc(&mut g, ty, 8 + (i % 5) * 16).unwrap();
            assert_eq!(o.addr() % 16, 0);
            assert!(seen.insert(o.addr()), "slot handed out twice");
            assert_eq!(o.type_id(), Some(ty));
        }
    }

    /// Past the trigger, the heap asks for one cycle, not one per span it
    /// caches: a request left pending after the coordinator took the first
    /// one made a second cycle right after the first.
    #[test]
    fn the_trigger_asks_for_one_cycle_until_the_next_trigger_is_set() {
        let (heap, ty) = Heap::for_unit_test_with_leaf();
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        heap.trigger.store(0, Relaxed);
        let requested = || heap.ctl.lock().unwrap().requested;
        let alloc_spans = |p: &mut crate::P, g: &mut Mutator| {
            // 100 objects of 1 KiB: several spans cached.
            for _ in 0..100 {
                p.alloc(g, ty, 1000).unwrap();
            }
        };
        alloc_spans(&mut p, &mut g);
        assert!(requested());
        // The coordinator takes the request; the mark has not begun.
        heap.ctl.lock().unwrap().requested = false;
        alloc_spans(&mut p, &mut g);
        assert!(!requested(), "asked again before the cycle set a trigger");
        // The cycle sets the next trigger (here: reached already).
        heap.trigger_requested.store(false, Relaxed);
        alloc_spans(&mut p, &mut g);
        assert!(requested());
    }
}
