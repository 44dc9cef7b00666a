//! The write barrier (Go's mbarrier.go) and typed barrier-free references.
//!
//! Hybrid barrier: while marking, a barriered store `*slot = new` first shades
//! the old value (so an object unlinked from the heap while the mutator keeps
//! it in a register is not lost: Yuasa deletion half) and the new value (so an
//! object loaded from a not-yet-scanned place and stored into a black object is
//! not lost: Dijkstra insertion half), then stores. Together with roots scanned
//! once per cycle and allocate-black, no reachable object is missed and stacks
//! need neither barriers nor rescans.
//!
//! Fast path: one Relaxed load of `Heap::barrier_flags` and a branch. The flags
//! change only with the world stopped, so a store and the check guarding it
//! cannot straddle a phase change (no safepoint inside `write_slot`).
//!
//! The barrier may be omitted only for stores that cannot hide a pointer from
//! the collector, e.g. initialising a freshly allocated object before it is
//! published (it is black during mark, its slots start as zero); checkmark
//! mode would catch a wrong omission.

use std::marker::PhantomData;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};

use crate::debug::fatal;
use crate::heap::{current_m, Heap, WB_CHECK, WB_SHADE};
use crate::object::ObjRef;
use crate::p::P;

impl P {
    /// A barriered store of a value word into a heap slot.
    ///
    /// Checked builds verify that the calling M owns this P; the fatal error
    /// names the store by its source location.
    #[inline]
    #[track_caller]
    pub fn write_slot(&mut self, slot: &AtomicU64, new: u64) {
        if self.heap.barrier_flags.load(Relaxed) != 0 {
            self.write_slot_slow(slot, new, Location::caller());
        } else {
            slot.store(new, Relaxed);
        }
    }

    #[cold]
    #[inline(never)]
    fn write_slot_slow(&mut self, slot: &AtomicU64, new: u64, at: &'static Location<'static>) {
        let flags = self.heap.barrier_flags.load(Relaxed);
        if flags & WB_CHECK != 0 {
            self.check_owner(at);
        }
        if flags & WB_SHADE != 0 {
            let decode = self.heap.config.decode_ptr;
            let old = decode(slot.load(Relaxed));
            let new_ptr = decode(new);
            let mut full = false;
            let st = self.st();
            if old != 0 {
                full |= st.wbbuf.push(old);
            }
            if new_ptr != 0 {
                full |= st.wbbuf.push(new_ptr);
            }
            if full {
                self.flush_wbbuf();
            }
        }
        slot.store(new, Relaxed);
    }

    /// Shades every pointer in `slots` while marking (nothing otherwise):
    /// how a mutator scans a stack it owns during the concurrent mark (Go:
    /// a goroutine's stack scanned at a safepoint, no world stop). The caller
    /// holds the slots still; like any barrier, this needs the P.
    #[track_caller]
    pub fn shade_slots(&mut self, slots: &[AtomicU64]) {
        let flags = self.heap.barrier_flags.load(Relaxed);
        if flags & WB_CHECK != 0 {
            self.check_owner(Location::caller());
        }
        if flags & WB_SHADE == 0 {
            return;
        }
        let decode = self.heap.config.decode_ptr;
        for slot in slots {
            let ptr = decode(slot.load(Relaxed));
            if ptr != 0 && self.st().wbbuf.push(ptr) {
                self.flush_wbbuf();
            }
        }
        // A scanned stack is grey work now, for the mark workers: left in
        // the buffer it would wait for mark termination to drain it with
        // the world stopped.
        self.flush_wbbuf();
    }

    /// Fatal unless the calling M owns this P.
    #[track_caller]
    pub(crate) fn check_owner(&self, at: &Location<'_>) {
        let owner = self.slot().owner.load(Relaxed);
        let me = current_m();
        if owner != me {
            fatal(format_args!(
                "write barrier in store at {at} executed on M{me}, which does not own P{} (owner: {})",
                self.id,
                if owner == 0 { "none".to_string() } else { format!("M{owner}") }
            ));
        }
    }

    /// Shades every buffered pointer and publishes the grey objects.
    pub(crate) fn flush_wbbuf(&mut self) {
        let heap = self.heap_unbound();
        let st = self.st();
        if st.wbbuf.len() == 0 {
            return;
        }
        let marking = heap.barrier_flags.load(Relaxed) & WB_SHADE != 0;
        let mut gcw = std::mem::take(&mut st.gcw);
        for addr in st.wbbuf.take() {
            if marking {
                heap.shade(addr, &mut gcw);
            }
        }
        heap.flush_counters(&mut gcw);
        heap.work.publish(&mut gcw, true);
        st.gcw = gcw;
        heap.wake_markers();
    }
}

/// A reference stored without a write barrier (Go's guintptr/puintptr/
/// muintptr), for scheduler internals that run without a P or with the world
/// stopped.
///
/// Why it is safe: the target must stay reachable from the runtime's own roots
/// (`RootKind::Runtime`, and allgs, which `holds` every G), so the collector
/// finds it without the barrier's help. Checked builds validate every store
/// ([`Heap::check_barrier_free`]): the target is reachable from runtime
/// roots, or the world is stopped.
pub struct BarrierFreeRef<T> {
    addr: AtomicUsize,
    _t: PhantomData<fn() -> T>,
}

impl<T> Default for BarrierFreeRef<T> {
    fn default() -> Self {
        BarrierFreeRef {
            addr: AtomicUsize::new(0),
            _t: PhantomData,
        }
    }
}

impl<T> BarrierFreeRef<T> {
    /// An empty reference.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads the reference.
    pub fn load(&self) -> Option<ObjRef> {
        ObjRef::from_addr(self.addr.load(Acquire))
    }

    /// Stores without a barrier; validated in checked builds (fatal, naming
    /// the store's location, if the target is not runtime-rooted and the world
    /// is running).
    #[track_caller]
    pub fn store(&self, heap: &Heap, target: Option<ObjRef>) {
        if let Some(t) = target {
            heap.check_barrier_free(t);
        }
        self.addr.store(target.map_or(0, |t| t.addr()), Release);
    }
}
