//! Grey work queues (Go's gcWork and work.full): each marker has a private
//! local stack of grey objects; batches overflow to one global list of full
//! batches, from which idle markers steal.
//!
//! The global list is behind `Heap::work` (rank 6, a leaf: no lock is taken
//! while holding it). `global_batches` mirrors its length for lock-free
//! emptiness checks (written under the lock, Release; read Acquire).

use std::sync::atomic::{AtomicUsize, Ordering::*};
use std::sync::Mutex;

/// Objects per batch moved to or from the global list.
pub(crate) const BATCH: usize = 128;

/// A local stack this long sends a batch to the global list as soon as
/// another object is greyed (`Heap::shade`), so no marker's stack grows
/// past it however many children one object has.
pub(crate) const LOCAL_LIMIT: usize = 4 * BATCH;

/// A marker's private grey stack plus its counters.
#[derive(Default)]
pub(crate) struct GcWork {
    pub(crate) local: Vec<usize>,
    /// Bytes scanned since the counter was last flushed.
    pub(crate) scan_work: u64,
    /// Bytes greyed (marked) since last flushed.
    pub(crate) marked_bytes: u64,
}

/// The global list of grey batches.
#[derive(Default)]
pub(crate) struct WorkList {
    full: Mutex<Vec<Vec<usize>>>,
    global_batches: AtomicUsize,
    /// Markers currently holding work taken from the list (bg workers, assists,
    /// helpers). Incremented before taking, decremented after draining.
    pub(crate) busy: AtomicUsize,
}

impl WorkList {
    pub(crate) fn push_batch(&self, batch: Vec<usize>) {
        if batch.is_empty() {
            return;
        }
        let mut full = self.full.lock().expect("work list lock");
        full.push(batch);
        self.global_batches.store(full.len(), Release);
    }

    pub(crate) fn pop_batch(&self) -> Option<Vec<usize>> {
        if self.global_batches.load(Acquire) == 0 {
            return None;
        }
        let mut full = self.full.lock().expect("work list lock");
        let b = full.pop();
        self.global_batches.store(full.len(), Release);
        b
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.global_batches.load(Acquire) == 0
    }

    /// Moves the local stack's overflow (or all of it) to the global list.
    pub(crate) fn publish(&self, gcw: &mut GcWork, all: bool) {
        if all {
            let batch = std::mem::take(&mut gcw.local);
            self.push_batch(batch);
        } else if gcw.local.len() >= 2 * BATCH {
            let batch = gcw.local.split_off(gcw.local.len() - BATCH);
            self.push_batch(batch);
        }
    }
}
