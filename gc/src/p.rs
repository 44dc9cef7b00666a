//! P: the processor token. A mutator thread (an M) may allocate and execute
//! barriered stores only while it holds a P; the type system enforces it,
//! because those operations are methods of `&mut P` and a `P` is obtained only
//! from [`Heap::acquire_p`]. Also here: safepoints, blocking regions, the
//! mutator record ([`Mutator`]) and allocation.
//!
//! A `P` is `Send` (the scheduler hands Ps between Ms), but moving one without
//! [`P::handoff`]/[`PHandoff::resume`] leaves the ownership record naming the
//! old M, which checked builds report as a fatal error at the next barrier.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::Arc;
use std::time::Instant;

use crate::heap::{
    current_m, AllocError, Heap, PSlot, PState, AF_DEBUG, AF_MARK, P_IDLE, P_RUNNING, P_STOPPED,
    STW_HELP_AFTER,
};
use crate::object::{ObjRef, TypeId, HEADER_BYTES};
use crate::osthread::gettid;
use crate::sizeclass::class_of;
use crate::sweep::POISON;

/// Largest payload one object may have (the header stores the length in
/// words in 32 bits); bigger requests fail with `OutOfMemory`.
pub const MAX_PAYLOAD_BYTES: usize = (u32::MAX as usize) * 8 - 4096;

/// Words a large allocation zeroes between two safepoints (256 KiB: some
/// 20 to 50 µs, more where the pages fault in).
const ZERO_CHUNK_WORDS: usize = 32 * 1024;

/// A held P. Only its holder can allocate or run barriered stores with it.
///
/// With a P, a barriered store compiles:
///
/// ```
/// use std::sync::atomic::AtomicU64;
/// fn store(p: &mut weft_gc::P, slot: &AtomicU64) {
///     p.write_slot(slot, 1);
/// }
/// ```
///
/// Code that has only the heap (scheduler internals, signal handlers, the
/// collector's own threads) cannot express one: the heap has no barrier, and
/// a shared `&P` is not enough either.
///
/// ```compile_fail
/// use std::sync::atomic::AtomicU64;
/// fn store(heap: &weft_gc::Heap, slot: &AtomicU64) {
///     heap.write_slot(slot, 1);
/// }
/// ```
///
/// ```compile_fail
/// use std::sync::atomic::AtomicU64;
/// fn store(p: &weft_gc::P, slot: &AtomicU64) {
///     p.write_slot(slot, 1);
/// }
/// ```
///
/// A P cannot be forged (its fields are private) nor cloned:
///
/// ```compile_fail
/// fn forge(p: &weft_gc::P) -> weft_gc::P {
///     p.clone()
/// }
/// ```
pub struct P {
    /// The heap this P belongs to. Set by `P::new` and never replaced:
    /// [`P::heap_unbound`] relies on it.
    pub(crate) heap: Arc<Heap>,
    pub(crate) id: usize,
    /// `&heap.ps[id]`, cached for the fast paths; valid while `heap` is.
    pub(crate) slot: std::ptr::NonNull<PSlot>,
    /// True for a P lent to a mark-termination helper: dropping it does not
    /// release the P (its real holder is stopped and gets it back).
    pub(crate) lent: bool,
    _not_sync: PhantomData<Cell<()>>,
}

// SAFETY: `slot` points into the heap that `heap` keeps alive, and all access
// to the P's state goes through `&mut P`; moving the token to another M is
// allowed (the scheduler hands Ps over) and checked builds verify at each
// barrier that the M using it owns it.
unsafe impl Send for P {}

/// A P in transit between Ms (see [`P::handoff`]).
pub struct PHandoff(P);

/// The collector's record of one mutator (a goroutine in the VM): its assist
/// credit or debt, and whether its last assist completed the mark phase.
/// Owned by the mutator; the collector reads and writes it only inside
/// allocation calls made by that mutator, never through its stack.
#[derive(Default)]
pub struct Mutator {
    /// Allocation bytes pre-paid (> 0) or owed (< 0) in the current cycle.
    pub(crate) assist_bytes: i64,
    /// Mark epoch `assist_bytes` belongs to.
    pub(crate) epoch: u64,
    /// Set when an assist of this mutator found no work left anywhere, i.e.
    /// it completed the mark phase (Go's seed: reported through the G).
    pub(crate) assist_completed_mark: bool,
    /// The roots the mutator holds itself (its goroutine's stack), set by the
    /// embedder while the mutator runs; see [`OwnRoots`].
    pub(crate) own_roots: Option<std::sync::Arc<dyn OwnRoots>>,
}

/// Roots a running mutator holds itself (a goroutine's stack), which the
/// collector cannot scan while it runs. An assist about to park has its
/// mutator at a safepoint inside an allocation, roots at rest: it shades
/// them first, through its own P. Otherwise the mutator could wait in the
/// assist for the cycle to end while the cycle waits for its stack (Go
/// avoids the same by scanning the stack of a G parked in an assist).
pub trait OwnRoots: Send + Sync {
    /// Shades the roots for mark cycle `epoch` unless they were scanned in
    /// it already; whether it scanned them now.
    fn shade_own(&self, p: &mut P, epoch: u64) -> bool;
}

impl std::fmt::Debug for Mutator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mutator")
            .field("assist_bytes", &self.assist_bytes)
            .field("epoch", &self.epoch)
            .field("assist_completed_mark", &self.assist_completed_mark)
            .field("own_roots", &self.own_roots.is_some())
            .finish()
    }
}

impl Mutator {
    /// A fresh record.
    pub fn new() -> Mutator {
        Mutator::default()
    }
    /// Sets (or clears) the roots the mutator holds itself while it runs
    /// (see [`OwnRoots`]).
    pub fn set_own_roots(&mut self, roots: Option<std::sync::Arc<dyn OwnRoots>>) {
        self.own_roots = roots;
    }
    /// Whether an assist by this mutator completed the mark phase; clears it.
    pub fn take_assist_completed_mark(&mut self) -> bool {
        std::mem::take(&mut self.assist_completed_mark)
    }
    /// Current credit (> 0) or debt (< 0) in bytes.
    pub fn assist_bytes(&self) -> i64 {
        self.assist_bytes
    }
}

impl Heap {
    /// Takes an idle P for the calling thread, waiting for one if all are held
    /// (and while the world is stopped).
    pub fn acquire_p(self: &Arc<Heap>) -> P {
        let mut w = self.world.lock().expect("world lock");
        loop {
            if !w.stop_requested {
                if let Some(id) = self
                    .ps
                    .iter()
                    .position(|p| p.status.load(Relaxed) == P_IDLE)
                {
                    let slot = &self.ps[id];
                    slot.status.store(P_RUNNING, Relaxed);
                    slot.owner.store(current_m(), Relaxed);
                    slot.os_tid.store(gettid(), Relaxed);
                    return P::new(Arc::clone(self), id, false);
                }
            }
            w = self.world_cv.wait(w).expect("world lock");
        }
    }
}

impl P {
    /// The P's index.
    pub fn id(&self) -> usize {
        self.id
    }

    /// The heap.
    pub fn heap(&self) -> &Arc<Heap> {
        &self.heap
    }

    pub(crate) fn new(heap: Arc<Heap>, id: usize, lent: bool) -> P {
        let slot = std::ptr::NonNull::from(&heap.ps[id]);
        P {
            heap,
            id,
            slot,
            lent,
            _not_sync: PhantomData,
        }
    }

    /// The heap, borrowed apart from `self`, for methods that use it across
    /// calls taking `&mut self`. They used to take an `Arc::clone`: two
    /// atomic increments of one shared counter per allocation during mark,
    /// 16% of `alloc_slow`'s samples in strings_maps' split loop.
    ///
    /// Use the result only within the calling method of this P; never keep it.
    #[inline]
    pub(crate) fn heap_unbound<'h>(&self) -> &'h Heap {
        // SAFETY: `self.heap` is never replaced (see the field), so the heap
        // lives at least as long as this P, and every caller drops the
        // reference before its method on the P returns.
        unsafe { &*Arc::as_ptr(&self.heap) }
    }

    #[inline]
    pub(crate) fn slot(&self) -> &PSlot {
        // SAFETY: `slot` points into `self.heap.ps`, a boxed slice that lives
        // as long as the heap, which `self.heap` keeps alive.
        unsafe { self.slot.as_ref() }
    }

    /// The P's private state.
    #[inline]
    pub(crate) fn st(&mut self) -> &mut PState {
        let state = self.slot().state.get();
        // SAFETY: a `P` value exists only for its holder (acquire) or for a
        // helper it is lent to while the holder is stopped and not touching the
        // state; `&mut self` makes this the only borrow on this thread.
        unsafe { &mut *state }
    }

    /// A safepoint: if the collector wants the world stopped, stop here until
    /// it restarts. Roots the mutator holds must be reachable from a root
    /// provider at every safepoint (allocation is one).
    #[inline]
    pub fn safepoint(&mut self) {
        if self.safepoint_pending() {
            self.safepoint_slow();
        }
    }

    /// A safepoint inside a long loop of mutator `g`'s that runs no
    /// interpreted code (a native's copy, fill or sort: some tens of
    /// microseconds apart). As [`P::safepoint`], and during the mark the
    /// mutator's own roots ([`OwnRoots`]) are shaded here if this cycle has
    /// not scanned them yet. A goroutine that spent the mark inside long
    /// natives never stopped where the concurrent stack scan could take its
    /// stack, which was then left to mark termination: a 2-million-element
    /// list it alone held was scanned inside that pause (7-10 ms). Here its
    /// roots are at rest, as at any safepoint.
    pub fn poll(&mut self, g: &Mutator) {
        self.safepoint();
        if self.heap.phase() == crate::heap::PHASE_MARK {
            if let Some(roots) = &g.own_roots {
                roots.shade_own(self, self.heap.mark_epoch.load(Relaxed));
            }
        }
    }

    /// Whether [`P::safepoint`] would stop here (a stop-the-world is
    /// pending): for a fast path that leaves safepoints to slower code.
    #[inline]
    pub fn safepoint_pending(&self) -> bool {
        self.heap.stop_pending.load(Relaxed)
    }

    /// The flag [`P::safepoint_pending`] reads, for a dispatch loop that
    /// tests it at every call and back edge without going through the P
    /// and its heap each time. It lives as long as the heap, which
    /// outlives the P.
    #[inline]
    pub fn safepoint_flag(&self) -> *const AtomicBool {
        &self.heap.stop_pending
    }

    #[cold]
    fn safepoint_slow(&mut self) {
        if self.lent {
            return;
        }
        let mut w = self.heap.world.lock().expect("world lock");
        if w.stop_requested {
            self.slot().status.store(P_STOPPED, Relaxed);
            self.heap.stopped_cv.notify_one();
            // A stop not over by then is held up by threads waiting for a
            // CPU while this one goes idle: see `Heap::help_late_stop`.
            // Not for the last P to stop: arming the timer costs some
            // microseconds (a VM exit here) on the stop's critical path,
            // often on the CPU the coordinator waits to get back.
            let mut help_at = self
                .heap
                .any_p_running()
                .then(|| Instant::now() + STW_HELP_AFTER);
            while w.stop_requested {
                let Some(at) = help_at else {
                    w = self.heap.world_cv.wait(w).expect("world lock");
                    continue;
                };
                let now = Instant::now();
                if now < at {
                    w = (self.heap.world_cv)
                        .wait_timeout(w, at - now)
                        .expect("world lock")
                        .0;
                    continue;
                }
                help_at = None;
                drop(w);
                self.heap.help_late_stop();
                w = self.heap.world.lock().expect("world lock");
            }
            self.slot().status.store(P_RUNNING, Relaxed);
        }
    }

    /// Runs `f` as a blocking region (Go's entersyscall/exitsyscall): the P
    /// counts as stopped meanwhile, so `f` must not touch the heap or hold
    /// object references it will use afterwards without a root.
    pub fn blocking<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.enter_blocking();
        let r = f();
        self.exit_blocking();
        r
    }

    pub(crate) fn enter_blocking(&mut self) {
        self.heap.enter_blocking_slots(&[self.id]);
    }

    pub(crate) fn exit_blocking(&mut self) {
        self.heap.exit_blocking_slots(&[self.id]);
    }

    /// Detaches the P from this M so another M can [`PHandoff::resume`] it.
    pub fn handoff(mut self) -> PHandoff {
        self.slot().owner.store(0, Relaxed);
        self.enter_blocking();
        PHandoff(self)
    }

    /// Runs a full collection cycle (Go's `runtime.GC()`), waiting for it.
    pub fn gc(&mut self) {
        let heap = Arc::clone(&self.heap);
        let target = {
            let mut ctl = heap.ctl.lock().expect("ctl lock");
            // A cycle already under way may have scanned roots before now: wait
            // for the next one to complete as well.
            let t = ctl.started + 1;
            ctl.requested = true;
            heap.ctl_cv.notify_all();
            t
        };
        self.blocking(|| {
            let mut ctl = heap.ctl.lock().expect("ctl lock");
            while ctl.completed < target && !ctl.shutdown {
                if !ctl.requested && ctl.started < target {
                    ctl.requested = true;
                    heap.ctl_cv.notify_all();
                }
                ctl = heap.ctl_cv.wait(ctl).expect("ctl lock");
            }
        });
    }

    /// Allocates an object of type `ty` with `payload_bytes` of zeroed payload
    /// (rounded up to words). A safepoint. During mark, charges `g`'s assist
    /// debt and may run an assist or park.
    #[inline]
    pub fn alloc(
        &mut self,
        g: &mut Mutator,
        ty: TypeId,
        payload_bytes: usize,
    ) -> Result<ObjRef, AllocError> {
        self.safepoint();
        if payload_bytes > MAX_PAYLOAD_BYTES {
            return Err(AllocError::OutOfMemory {
                requested: payload_bytes,
            });
        }
        if let Some(obj) = self.alloc_cached(g, ty, payload_bytes) {
            return Ok(obj);
        }
        let words = payload_bytes.div_ceil(8);
        self.alloc_slow(g, ty, words, HEADER_BYTES + words * 8)
    }

    /// [`P::alloc`] when it needs neither a safepoint nor anything beyond
    /// this P's cached spans: no stop-the-world pending, a small object, a
    /// free slot in the cached span of its class and, during mark, assist
    /// credit left to pay for it. `None` otherwise, having done nothing;
    /// the caller then calls [`P::alloc`]. For an interpreter's fast loop,
    /// which must not stop (its frame state is in machine registers) but
    /// may allocate where nothing can stop it.
    #[inline(always)]
    pub fn try_alloc_without_safepoint(
        &mut self,
        g: &mut Mutator,
        ty: TypeId,
        payload_bytes: usize,
    ) -> Option<ObjRef> {
        if self.safepoint_pending() || payload_bytes > MAX_PAYLOAD_BYTES {
            return None;
        }
        self.alloc_cached(g, ty, payload_bytes)
    }

    /// The part of [`P::alloc`] that takes a slot of this P's cached spans
    /// (allocating black during mark, while `g` has assist credit); `None`
    /// when that is not enough. `payload_bytes` is at most
    /// `MAX_PAYLOAD_BYTES`.
    #[inline(always)]
    fn alloc_cached(
        &mut self,
        g: &mut Mutator,
        ty: TypeId,
        payload_bytes: usize,
    ) -> Option<ObjRef> {
        let words = payload_bytes.div_ceil(8);
        let size = HEADER_BYTES + words * 8;
        let flags = self.heap.alloc_flags.load(Relaxed);
        let addr = if flags == 0 {
            let mcache = &mut self.st().mcache;
            mcache.next_free(mcache.class_of(size)?)?
        } else if flags == AF_MARK {
            self.alloc_black_fast(g, size)?
        } else {
            return None;
        };
        Some(self.init_object(addr, ty, words, true))
    }

    /// During mark, a small object from the cached span when `g` has the
    /// assist credit to pay for it: the credit is charged and the object
    /// marked (allocated black) here, as `alloc_slow` would, without its
    /// span lookup and division. In strings_maps' split phase the collector
    /// marks about half the time, and every allocation then went the slow
    /// way. `None` leaves the allocation to `alloc_slow` (no credit, no
    /// cached slot, a large object).
    #[inline]
    fn alloc_black_fast(&mut self, g: &mut Mutator, size: usize) -> Option<usize> {
        if g.epoch != self.heap.mark_epoch.load(Relaxed) || g.assist_bytes < size as i64 {
            return None;
        }
        let mcache = &mut self.st().mcache;
        let (addr, span, idx) = mcache.next_free_indexed(mcache.class_of(size)?)?;
        g.assist_bytes -= size as i64;
        span.get().try_mark(idx);
        Some(addr)
    }

    /// Writes the header of the object at `addr` and, when `zero` (its
    /// memory may hold old data), zeroes its payload.
    #[inline]
    fn init_object(&mut self, addr: usize, ty: TypeId, words: usize, zero: bool) -> ObjRef {
        self.st().mcache.allocs += 1;
        if zero {
            // SAFETY: `addr` is a free slot of at least `HEADER_BYTES +
            // words*8` bytes just handed out by this P's cache or a fresh
            // span; nobody else references it, and heap memory is 8-aligned.
            let payload =
                unsafe { std::slice::from_raw_parts((addr as *const AtomicU64).add(1), words) };
            for w in payload {
                w.store(0, Relaxed);
            }
        }
        // SAFETY: as above; the header is the slot's first word.
        let header = unsafe { &*(addr as *const AtomicU64) };
        header.store(((words as u64) << 32) | (ty.0 as u64 + 1), Release);
        ObjRef::from_addr(addr).expect("heap address is non-null")
    }

    #[cold]
    fn alloc_slow(
        &mut self,
        g: &mut Mutator,
        ty: TypeId,
        words: usize,
        size: usize,
    ) -> Result<ObjRef, AllocError> {
        let heap = self.heap_unbound();
        if heap.config.debug.gcstress > 0 {
            let n = self.st().mcache.allocs;
            if n % heap.config.debug.gcstress == 0 {
                heap.request_cycle();
            }
        }
        if heap.alloc_flags.load(Relaxed) & AF_MARK != 0 {
            self.charge_assist(g, size);
        }
        let mut retried = false;
        // `zero`: a large object on pages that read as zero is not zeroed
        // again (a megabyte string is otherwise written twice, and the
        // first pass faults every page in while the P holds up any
        // stop-the-world).
        let (addr, zero) = loop {
            let r = match class_of(size) {
                Some(c) => self.alloc_small(c).map(|a| (a, true)),
                None => heap.alloc_large(size, self.holder_id()).map(|sp| {
                    let span = sp.get();
                    (span.base(), span.needzero.load(Relaxed))
                }),
            };
            match r {
                Ok(a) => break a,
                Err(e) if retried => return Err(e),
                Err(_) => {
                    // Over the limit: collect everything we can, then retry once.
                    retried = true;
                    self.gc();
                    heap.finish_sweep();
                }
            }
        };
        let obj = (zero && words > ZERO_CHUNK_WORDS).then(|| self.zero_large(addr, ty, words));
        let flags = heap.alloc_flags.load(Relaxed);
        if flags & AF_DEBUG != 0 && heap.config.debug.poison && class_of(size).is_some() {
            self.check_poison(addr, size);
        }
        if flags & AF_MARK != 0 {
            // Allocate black: the object survives this cycle.
            heap.mark_only(addr);
        }
        Ok(match obj {
            Some(obj) => obj,
            None => self.init_object(addr, ty, words, zero),
        })
    }

    /// Initialises a large object on pages that may hold old data, zeroing
    /// it a chunk at a time with a safepoint between chunks, as Go's
    /// `memclrNoHeapPointersChunked` does for pointer-free ones: 16 MB of
    /// zeroing held up a stop-the-world for 3 ms (a growing
    /// `strings.Builder`), the 8 MB array of a million-element list 4.5 ms
    /// (most of it page faults on released pages).
    ///
    /// Meanwhile the object is pinned in the P's state, as nothing else
    /// roots it yet: mark termination marks it so that the sweep keeps it.
    /// Marked, never greyed, and reachable from nothing: the collector
    /// never reads its payload, so stale words in a half-zeroed one (old
    /// pointers, in an array) are never taken for live references. Once it
    /// is returned, values stored into it go through the barrier as into
    /// any other object allocated in that phase.
    #[cold]
    fn zero_large(&mut self, addr: usize, ty: TypeId, words: usize) -> ObjRef {
        let obj = self.init_object(addr, ty, words, false);
        self.pin(obj, false);
        // SAFETY: `addr` is a large span's base, just handed out to this P
        // and reachable by no one else; its payload is `words` words after
        // the 8-aligned header.
        let payload =
            unsafe { std::slice::from_raw_parts((addr as *const AtomicU64).add(1), words) };
        for chunk in payload.chunks(ZERO_CHUNK_WORDS) {
            self.safepoint();
            for w in chunk {
                w.store(0, Relaxed);
            }
        }
        self.unpin(obj);
        obj
    }

    /// Roots `obj` across this P's safepoints until [`P::unpin`], for an
    /// object the holder is still building that nothing else roots yet (a
    /// new array being filled before it is installed). Mark termination
    /// marks it, so the sweep keeps it; with `trace` it is greyed instead,
    /// so what it refers to is kept too. Without `trace` its payload is
    /// never read: only for an object whose words are not references yet,
    /// or whose references are all reachable some other way until
    /// `unpin` (a list's new array while the old one is still installed).
    /// At most a few at once.
    pub fn pin(&mut self, obj: ObjRef, trace: bool) {
        self.st().pins.push((obj.addr(), trace));
    }

    /// Ends the newest [`P::pin`] of `obj` (pins are a stack).
    pub fn unpin(&mut self, obj: ObjRef) {
        let pins = &mut self.st().pins;
        debug_assert_eq!(pins.last().map(|p| p.0), Some(obj.addr()));
        if let Some(i) = pins.iter().rposition(|p| p.0 == obj.addr()) {
            pins.remove(i);
        }
    }

    /// This P's index for a lock taken at its holder's safepoint
    /// (`Heap::lock_pages_at_safepoint`); `None` for a lent P.
    fn holder_id(&self) -> Option<usize> {
        (!self.lent).then_some(self.id)
    }

    fn alloc_small(&mut self, c: usize) -> Result<usize, AllocError> {
        if let Some(a) = self.st().mcache.next_free(c) {
            return Ok(a);
        }
        let sp = self.heap.cache_span(c, self.holder_id())?;
        let allocs = self.st().mcache.allocs;
        self.slot().allocs.store(allocs, Relaxed);
        let st = self.st();
        st.mcache.install(sp);
        Ok(st
            .mcache
            .next_free(c)
            .expect("a cached span has a free slot"))
    }

    fn check_poison(&self, addr: usize, size: usize) {
        // SAFETY: `addr` is a free slot of at least `size` bytes just handed to
        // this P; nobody else references it.
        let bytes = unsafe { std::slice::from_raw_parts(addr as *const u8, size) };
        if let Some(off) = bytes.iter().position(|&b| b != POISON) {
            crate::debug::fatal(format_args!(
                "gcpoison: free object at {addr:#x} was written after being freed (byte {off} is {:#x})",
                bytes[off]
            ));
        }
    }
}

impl Drop for P {
    fn drop(&mut self) {
        if self.lent {
            return;
        }
        let heap = Arc::clone(&self.heap);
        if self.slot().status.load(Relaxed) == P_STOPPED {
            // Dropped while blocking (e.g. an unresumed handoff): the world may
            // be stopped and the P lent to a helper. Wait to run again first.
            self.exit_blocking();
        }
        self.flush_wbbuf();
        // Pins left by code a Rust panic unwound through: the P's next
        // holder must not keep those objects (and, traced, all they reach)
        // alive for good.
        debug_assert!(std::thread::panicking() || self.st().pins.is_empty());
        self.st().pins.clear();
        let allocs = self.st().mcache.allocs;
        self.slot().allocs.store(allocs, Relaxed);
        let st = self.st();
        heap.work.publish(&mut st.gcw, true);
        let _w = heap.world.lock().expect("world lock");
        let slot = &heap.ps[self.id];
        slot.owner.store(0, Relaxed);
        slot.status.store(P_IDLE, Relaxed);
        // Wake a thread waiting in acquire_p, and the coordinator.
        heap.world_cv.notify_all();
        heap.stopped_cv.notify_one();
    }
}

impl PHandoff {
    /// Takes the P on the calling M.
    pub fn resume(self) -> P {
        let mut p = self.0;
        p.slot().owner.store(current_m(), Relaxed);
        p.slot().os_tid.store(gettid(), Relaxed);
        p.exit_blocking();
        p
    }
}

#[cfg(test)]
mod tests {
    use crate::heap::{AF_MARK, PHASE_MARK, PHASE_OFF};
    use crate::{Heap, Mutator, OwnRoots, TypeTable, P};
    use std::sync::atomic::Ordering::Relaxed;
    use std::sync::{Arc, Mutex};

    /// Records the epochs it was asked to shade for.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<u64>>);

    impl OwnRoots for Recorder {
        fn shade_own(&self, _p: &mut P, epoch: u64) -> bool {
            self.0.lock().unwrap().push(epoch);
            true
        }
    }

    /// A long native loop's safepoint hands the mutator's own roots to the
    /// mark (so its stack is scanned concurrently, not in mark
    /// termination), and only while the mark runs.
    #[test]
    fn poll_shades_the_mutators_own_roots_during_the_mark_only() {
        let heap = Heap::for_unit_test(TypeTable::new());
        let mut p = heap.acquire_p();
        let roots = Arc::new(Recorder::default());
        let mut g = Mutator::new();
        g.set_own_roots(Some(roots.clone()));
        p.poll(&g);
        assert!(roots.0.lock().unwrap().is_empty(), "no mark, no scan");
        heap.mark_epoch.store(7, Relaxed);
        heap.phase.store(PHASE_MARK, Relaxed);
        p.poll(&g);
        heap.phase.store(PHASE_OFF, Relaxed);
        assert_eq!(*roots.0.lock().unwrap(), vec![7]);
    }

    /// The fast loop's allocation takes only a cached slot, and never
    /// where `alloc` would stop or pay for the mark.
    #[test]
    fn alloc_without_safepoint_takes_only_what_needs_no_stop() {
        let (heap, ty) = Heap::for_unit_test_with_leaf();
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        assert!(
            p.try_alloc_without_safepoint(&mut g, ty, 16).is_none(),
            "no span cached yet"
        );
        let first = p.alloc(&mut g, ty, 16).unwrap();
        let second = p
            .try_alloc_without_safepoint(&mut g, ty, 16)
            .expect("a cached slot");
        assert_ne!(first.addr(), second.addr());
        assert_eq!(second.type_id(), Some(ty));

        heap.stop_pending.store(true, Relaxed);
        assert!(
            p.try_alloc_without_safepoint(&mut g, ty, 16).is_none(),
            "a stop is pending"
        );
        heap.stop_pending.store(false, Relaxed);

        // During the mark a mutator with no assist credit must go through
        // `alloc`, which charges it.
        heap.alloc_flags.store(AF_MARK, Relaxed);
        assert!(
            p.try_alloc_without_safepoint(&mut g, ty, 16).is_none(),
            "no credit"
        );
        heap.alloc_flags.store(0, Relaxed);
        assert!(p.try_alloc_without_safepoint(&mut g, ty, 16).is_some());
    }
}
