//! Sweeping (Go's mgcsweep): after mark termination every in-use span is
//! queued; sweepers (the coordinator in the background, and allocation on
//! refill) take spans off the queue one at a time, turn the mark bits into the
//! allocation bits, and free spans with nothing marked.
//!
//! A span is swept by exactly one sweeper: it is popped from `sweep_queue`
//! under its lock. `active_sweepers` is raised before the pop and lowered after
//! the span is re-listed, so "queue empty and no active sweeper" means every
//! span is swept. Sweeping never runs during mark (sweep termination finishes
//! it first) and never touches a cached span (caches are emptied before the
//! queue is filled).

use std::sync::atomic::Ordering::*;

use crate::heap::Heap;
use crate::span::SpanPtr;

/// Byte pattern of freed memory under `gcpoison=1`.
pub const POISON: u8 = 0xde;

pub(crate) enum Swept {
    /// A span of the wanted class with free slots, kept for the caller.
    Kept(SpanPtr),
    /// Swept and listed (or freed).
    Other,
}

impl Heap {
    /// Sweeps one span. `want` = a class whose span with free slots the
    /// caller wants to keep (it is then not put on the central list).
    /// Returns `None` when nothing is left to sweep.
    pub(crate) fn sweep_one(&self, want: Option<usize>) -> Option<Swept> {
        self.active_sweepers.fetch_add(1, SeqCst);
        let sp = self.sweep_queue.lock().expect("sweep lock").pop();
        let Some(sp) = sp else {
            self.active_sweepers.fetch_sub(1, SeqCst);
            return None;
        };
        let r = self.sweep_span(sp, want);
        self.active_sweepers.fetch_sub(1, SeqCst);
        Some(r)
    }

    fn sweep_span(&self, sp: SpanPtr, want: Option<usize>) -> Swept {
        let span = sp.get();
        let nmarked = span.count_marked();
        if span.is_large() {
            span.mark_bits[0].store(0, Relaxed);
            if nmarked == 0 {
                self.lock_pages()
                    .free_span(&self.arenas, &self.page_stats, sp);
            } else {
                span.alloc_bits[0].store(1, Relaxed);
                self.in_use.lock().expect("in_use lock").push(sp);
            }
            return Swept::Other;
        }
        let nelems = span.nelems();
        if self.config.debug.poison {
            let elem = span.elem_size();
            for idx in 0..nelems {
                if !span.is_marked(idx) {
                    // SAFETY: an unmarked object is unreachable (mark is
                    // complete), so nobody reads or writes it any more.
                    unsafe {
                        std::ptr::write_bytes((span.base() + idx * elem) as *mut u8, POISON, elem)
                    };
                }
            }
        }
        for (a, m) in span.alloc_bits.iter().zip(span.mark_bits.iter()) {
            a.store(m.swap(0, Relaxed), Relaxed);
        }
        if nmarked == 0 && want != Some(span.class()) {
            self.lock_pages()
                .free_span(&self.arenas, &self.page_stats, sp);
            return Swept::Other;
        }
        // An empty span of the class an allocation sweeps for is kept for
        // it: freeing it to the page heap and taking a fresh span from
        // there cost two holds of the page-heap lock, the lock mutators
        // slept on most in gcpause (sched_switch trace).
        self.in_use.lock().expect("in_use lock").push(sp);
        if nmarked < nelems {
            if want == Some(span.class()) {
                return Swept::Kept(sp);
            }
            self.central_list(span.class()).spans.push(sp);
        }
        Swept::Other
    }

    /// Sweeps everything left and waits for other sweepers to finish (after
    /// it returns, every span's free slots are known and, under gcpoison,
    /// filled with the pattern). Safe to call from any thread.
    pub fn finish_sweep(&self) {
        while self.sweep_one(None).is_some() {}
        while self.active_sweepers.load(SeqCst) != 0 {
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Swept;
    use crate::{Heap, Mutator};
    use std::sync::atomic::Ordering::Relaxed;

    /// An allocation sweeping for a class keeps an empty span of that
    /// class rather than freeing it to the page heap and taking another
    /// (as Go's `sweep(preserve)`); the background sweep frees it.
    #[test]
    fn an_empty_span_of_the_wanted_class_is_kept_for_the_allocation() {
        let (heap, ty) = Heap::for_unit_test_with_leaf();
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        let obj = p.alloc(&mut g, ty, 24).unwrap();
        let sp = heap.arenas.span_of(obj.addr()).unwrap();
        let class = sp.get().class();
        let in_use_before = heap.page_stats.in_use_bytes.load(Relaxed);
        // Nothing marked: after a cycle the span is empty.
        heap.sweep_queue.lock().unwrap().push(sp);
        match heap.sweep_one(Some(class)) {
            Some(Swept::Kept(kept)) => assert_eq!(kept, sp),
            _ => panic!("the empty span of the wanted class was not kept"),
        }
        assert_eq!(heap.page_stats.in_use_bytes.load(Relaxed), in_use_before);
        heap.sweep_queue.lock().unwrap().push(sp);
        assert!(matches!(
            heap.sweep_one(Some(class + 1)),
            Some(Swept::Other)
        ));
        assert!(heap.page_stats.in_use_bytes.load(Relaxed) < in_use_before);
    }
}
