//! Marking (Go's mgcmark.go): shading, scanning objects with the embedder's
//! trace functions, draining grey work, background mark workers, and the
//! reachability walks used by checkmark and barrier-free store validation.
//!
//! Colours: white = mark bit clear; grey = mark bit set and the object sits in
//! some work queue; black = mark bit set and scanned. A marker never scans an
//! object it did not grey itself (the `fetch_or` in `Span::try_mark` decides).

use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::atomic::Ordering::*;
use std::time::{Duration, Instant};

use crate::gcwork::GcWork;
use crate::heap::{Heap, RootKind, PHASE_MARK};
use crate::object::{ObjRef, ObjView, StackScan, Tracer, TracerMode};

/// Scan work a background marker does between two publications of its
/// credit (see `Heap::background_drain`): some 100 us of marking.
const CREDIT_CHUNK: u64 = 256 << 10;

impl Heap {
    /// Greys the object containing `addr` if it is white.
    #[inline]
    pub(crate) fn shade(&self, addr: usize, gcw: &mut GcWork) {
        let Some(sp) = self.arenas.span_of(addr) else {
            return;
        };
        let span = sp.get();
        let idx = span.obj_index(addr);
        if span.try_mark(idx) {
            gcw.local.push(span.base() + idx * span.elem_size());
            gcw.marked_bytes += span.elem_size() as u64;
            // One large object (a list of a million strings) greys all its
            // children in one trace: without a bound the local stack grew
            // to megabytes, through reallocations into fresh pages, every
            // cycle (strings_maps: 5% of the profile zeroing huge pages on
            // the mark worker). Overflow goes to the global list instead,
            // where idle markers can take it.
            if gcw.local.len() >= crate::gcwork::LOCAL_LIMIT {
                self.work.publish(gcw, false);
            }
        }
    }

    /// Sets the mark bit of the object at `addr` without greying it (its
    /// payload is not scanned: an object allocated black, or pinned while
    /// its words are not references yet); whether the bit was clear.
    pub(crate) fn mark_only(&self, addr: usize) -> bool {
        self.arenas.span_of(addr).is_some_and(|sp| {
            let span = sp.get();
            span.try_mark(span.obj_index(addr))
        })
    }

    /// Scans one grey object, greying what it points to.
    pub(crate) fn scan_object(&self, addr: usize, gcw: &mut GcWork) {
        let obj = ObjRef::from_addr(addr).expect("grey objects are non-null");
        let header = obj.header().load(Acquire);
        gcw.scan_work += 8 + (header >> 32) * 8;
        let Some(ty) = obj.type_id() else { return };
        let Some(info) = self.types.get(ty.0 as usize) else {
            return;
        };
        if let Some(trace) = info.trace {
            let mut tracer = Tracer::new(self, TracerMode::Mark(gcw), StackScan::All);
            trace(
                ObjView {
                    obj,
                    _life: PhantomData,
                },
                &mut tracer,
            );
        }
    }

    /// Drains grey work until `budget` scan bytes are done or no work is left
    /// anywhere. Returns scan bytes done. Registers as busy while it holds work.
    /// `preemptible` drains (assists, which run on a mutator's P, and
    /// background workers) also stop when the world is stopping, so mutators
    /// reach their safepoints sooner; helpers' drains are not preemptible.
    pub(crate) fn drain(&self, gcw: &mut GcWork, budget: u64, preemptible: bool) -> u64 {
        let start = gcw.scan_work;
        self.work.busy.fetch_add(1, SeqCst);
        loop {
            // Stop early when the budget is spent or the world is stopping
            // (an assist must reach its safepoint promptly).
            if gcw.scan_work - start >= budget || (preemptible && self.stop_pending.load(Relaxed)) {
                break;
            }
            let addr = match gcw.local.pop() {
                Some(a) => a,
                None => match self.work.pop_batch() {
                    Some(b) => {
                        gcw.local = b;
                        continue;
                    }
                    None if self.run_root_job(gcw) => continue,
                    None => break,
                },
            };
            self.scan_object(addr, gcw);
            if gcw.local.len() >= 2 * crate::gcwork::BATCH
                || (self.work.is_empty() && gcw.local.len() > 16)
            {
                self.work.publish(gcw, false);
                if self.work.is_empty() && gcw.local.len() > 16 {
                    let half = gcw.local.split_off(gcw.local.len() / 2);
                    self.work.push_batch(half);
                }
            }
        }
        self.work.publish(gcw, true);
        self.flush_counters(gcw);
        self.work.busy.fetch_sub(1, SeqCst);
        gcw.scan_work - start
    }

    /// Adds a GcWork's marked-byte counter to the heap's.
    pub(crate) fn flush_counters(&self, gcw: &mut GcWork) {
        if gcw.marked_bytes > 0 {
            self.marked_bytes
                .fetch_add(gcw.marked_bytes as usize, Relaxed);
            gcw.marked_bytes = 0;
        }
    }

    /// Wakes idle background workers (new grey work was published) and the
    /// coordinator waiting for the mark to drain, if any of them waits.
    pub(crate) fn wake_markers(&self) {
        // Orders the caller's publish before the load (the waiter's side is
        // its SeqCst increment, then its check): one of the two sees the other.
        std::sync::atomic::fence(SeqCst);
        if self.mark_waiters.load(SeqCst) > 0 {
            self.mark_cv.notify_all();
        }
    }

    /// Waits on `mark_cv` for at most `timeout`, counted in `mark_waiters`
    /// (which the caller raised before checking what it waits for, so a
    /// waker that published after that check sees it).
    pub(crate) fn mark_wait<'g>(
        &self,
        g: std::sync::MutexGuard<'g, ()>,
        timeout: Duration,
    ) -> std::sync::MutexGuard<'g, ()> {
        let g = self.mark_cv.wait_timeout(g, timeout).expect("mark lock").0;
        self.mark_waiters.fetch_sub(1, SeqCst);
        g
    }

    /// True when no grey work is published and no marker holds any.
    pub(crate) fn mark_work_drained(&self) -> bool {
        self.work.is_empty() && self.work.busy.load(SeqCst) == 0 && self.work.is_empty()
    }

    /// A background mark worker (Go's gcBgMarkWorker). It holds no P: it never
    /// executes barriered stores, only scans, and it earns scan credit that
    /// parked assists can steal.
    pub(crate) fn mark_worker_loop(&self) {
        let mut gcw = GcWork::default();
        loop {
            {
                let g = self.mark_lock.lock().expect("mark lock");
                if self.is_shutdown() {
                    return;
                }
                self.mark_waiters.fetch_add(1, SeqCst);
                // While the world is stopping or stopped, stay off the CPU so
                // the mutators reach their safepoints sooner (mark-termination
                // helpers drain whatever is left).
                if self.phase() != PHASE_MARK
                    || (self.work.is_empty() && !self.root_jobs_open.load(Relaxed))
                    || self.stop_pending.load(Relaxed)
                {
                    drop(self.mark_wait(g, Duration::from_millis(5)));
                    continue;
                }
                self.mark_waiters.fetch_sub(1, SeqCst);
            }
            if self.background_drain(&mut gcw) == 0 {
                // Root jobs open but none left to take (the coordinator is
                // finishing its scan or waiting for running goroutines):
                // wait a little rather than spin on a shared core.
                let g = self.mark_lock.lock().expect("mark lock");
                self.mark_waiters.fetch_add(1, SeqCst);
                drop(self.mark_wait(g, Duration::from_micros(200)));
            }
        }
    }

    /// Drains grey work as a background marker (a worker, or the
    /// coordinator when there are none): the scan work done is credit that
    /// assists in debt may steal, published every [`CREDIT_CHUNK`] of it.
    /// Returns the scan work done.
    ///
    /// One drain to the end published its credit only when the work ran
    /// out, often the whole mark: an assist found no credit meanwhile, so
    /// it scanned or parked, and binarytrees' one mutator spent 1.17 s of
    /// its 2.07 s in assists (gctrace: assist 1168 ms total).
    pub(crate) fn background_drain(&self, gcw: &mut GcWork) -> u64 {
        let mut total = 0;
        loop {
            let t = Instant::now();
            let done = self.drain(gcw, CREDIT_CHUNK, true);
            if done == 0 {
                break;
            }
            total += done;
            self.bg_credit.fetch_add(done as i64, Relaxed);
            self.mark_nanos
                .fetch_add(t.elapsed().as_nanos() as u64, Relaxed);
            self.wake_assists();
            if self.stop_pending.load(Relaxed) {
                break;
            }
        }
        if total > 0 {
            self.wake_markers();
        }
        total
    }

    /// Takes a chunk of the coordinator's concurrent stack scan, if one is
    /// open (see `root_jobs_open`); the slots scanned count as scan work.
    /// Whether there was one.
    fn run_root_job(&self, gcw: &mut GcWork) -> bool {
        if !self.root_jobs_open.load(Relaxed)
            || self.phase() != PHASE_MARK
            || self.world_stopped.load(Acquire)
        {
            return false;
        }
        let epoch = self.mark_epoch.load(Relaxed);
        for (k, provider) in self.roots.read().expect("roots lock").iter() {
            if *k != RootKind::Stacks {
                continue;
            }
            let mut tracer =
                Tracer::new(self, TracerMode::Mark(gcw), StackScan::Concurrent { epoch });
            let did = provider.scan_job(&mut tracer);
            let slots = tracer.take_slots();
            gcw.scan_work += slots * 8;
            if did {
                return true;
            }
        }
        false
    }

    /// Scans every root provider (or only those of `kind`) into `tracer`.
    pub(crate) fn scan_roots(&self, want: impl Fn(RootKind) -> bool, tracer: &mut Tracer<'_>) {
        for (k, provider) in self.roots.read().expect("roots lock").iter() {
            if want(*k) {
                provider.scan_roots(tracer);
            }
        }
    }

    /// Walks the object graph from roots (of `kind`, or all), calling `visit`
    /// on each reachable object's base address once. Reads the heap with
    /// atomics only; without the world stopped the answer is best effort.
    pub(crate) fn walk_reachable(
        &self,
        kind: Option<RootKind>,
        mut visit: impl FnMut(usize) -> bool,
    ) {
        let mut pending = Vec::new();
        self.scan_roots(
            |k| kind.is_none_or(|want| want == k),
            &mut Tracer::new(self, TracerMode::Visit(&mut pending), StackScan::All),
        );
        let mut seen = HashSet::new();
        while let Some(addr) = pending.pop() {
            let Some(sp) = self.arenas.span_of(addr) else {
                continue;
            };
            let span = sp.get();
            let base = span.base() + span.obj_index(addr) * span.elem_size();
            if !seen.insert(base) {
                continue;
            }
            if !visit(base) {
                return;
            }
            let obj = ObjRef::from_addr(base).expect("non-null");
            let Some(info) = obj.type_id().and_then(|t| self.types.get(t.0 as usize)) else {
                continue;
            };
            if let Some(trace) = info.trace {
                let mut tracer = Tracer::new(self, TracerMode::Visit(&mut pending), StackScan::All);
                trace(
                    ObjView {
                        obj,
                        _life: PhantomData,
                    },
                    &mut tracer,
                );
            }
        }
    }

    /// Whether the object at `addr` is reachable from roots of `kind`. A
    /// provider that holds the object itself answers first, without a walk;
    /// for `Runtime`, the goroutine table (`Stacks`: allgs holds every G)
    /// counts as one of the runtime's own tables.
    pub(crate) fn reachable_from(&self, kind: RootKind, addr: usize) -> bool {
        let Some(sp) = self.arenas.span_of(addr) else {
            return false;
        };
        let span = sp.get();
        let target = span.base() + span.obj_index(addr) * span.elem_size();
        let held = self
            .roots
            .read()
            .expect("roots lock")
            .iter()
            .any(|(k, provider)| {
                (*k == kind || (kind == RootKind::Runtime && *k == RootKind::Stacks))
                    && provider.holds(target)
            });
        if held {
            return true;
        }
        let mut found = false;
        self.walk_reachable(Some(kind), |b| {
            found = b == target;
            !found
        });
        found
    }

    /// The heap verifier (`WEFTDEBUG=gcverify=1`; world stopped, after mark,
    /// before sweeping): the tri-colour invariant at the end of mark — no
    /// marked (black) object points to an unmarked (white) one. Returns the
    /// number of such pointers, printing each.
    pub(crate) fn verify_no_black_to_white(&self) -> u64 {
        let spans: Vec<_> = self.in_use.lock().expect("in_use lock").clone();
        // An object pinned mark-only (`P::pin` without trace: one being
        // zeroed) is marked over words that are not references yet.
        let untraced: HashSet<usize> = self
            .ps
            .iter()
            .flat_map(|slot| {
                // SAFETY: called with the world stopped (mark termination):
                // no P's holder runs, so reading its state races with nothing.
                let st = unsafe { &*slot.state.get() };
                st.pins
                    .iter()
                    .filter(|(_, trace)| !trace)
                    .map(|(addr, _)| *addr)
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut bad = 0u64;
        let mut children = Vec::new();
        for sp in spans {
            let span = sp.get();
            for idx in 0..span.nelems() {
                if !span.is_marked(idx) {
                    continue;
                }
                let base = span.base() + idx * span.elem_size();
                if untraced.contains(&base) {
                    continue;
                }
                let obj = ObjRef::from_addr(base).expect("non-null");
                let Some(info) = obj.type_id().and_then(|t| self.types.get(t.0 as usize)) else {
                    continue;
                };
                let Some(trace) = info.trace else { continue };
                children.clear();
                let mut tracer =
                    Tracer::new(self, TracerMode::Visit(&mut children), StackScan::All);
                trace(
                    ObjView {
                        obj,
                        _life: PhantomData,
                    },
                    &mut tracer,
                );
                for &c in &children {
                    let Some(csp) = self.arenas.span_of(c) else {
                        continue;
                    };
                    let cs = csp.get();
                    if !cs.is_marked(cs.obj_index(c)) {
                        bad += 1;
                        eprintln!(
                            "weft-gc gcverify: black object {base:#x} points to white {c:#x}"
                        );
                    }
                }
            }
        }
        bad
    }

    /// Checkmark (world stopped, after mark): every object reachable from the
    /// roots must be marked. Returns the number of missed objects.
    pub(crate) fn checkmark(&self) -> u64 {
        let mut missed = 0u64;
        self.walk_reachable(None, |base| {
            let sp = self
                .arenas
                .span_of(base)
                .expect("reachable objects are in spans");
            let span = sp.get();
            if !span.is_marked(span.obj_index(base)) {
                missed += 1;
                let ty = ObjRef::from_addr(base).and_then(|o| o.type_id());
                eprintln!(
                    "weft-gc checkmark: reachable object {base:#x} (type {ty:?}) was not marked"
                );
            }
            true
        });
        missed
    }
}

#[cfg(test)]
mod tests {
    use crate::{Heap, Mutator, ObjView, Tracer, TypeInfo, TypeTable};

    fn trace_all(obj: ObjView<'_>, t: &mut Tracer<'_>) {
        t.mark_slots(obj.slots());
    }

    #[test]
    fn verifier_reports_black_to_white_pointers() {
        let mut types = TypeTable::new();
        let ty = types.register(TypeInfo {
            name: "obj",
            trace: Some(trace_all),
        });
        let heap = Heap::for_unit_test(types);
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        let parent = p.alloc(&mut g, ty, 8).unwrap();
        let child = p.alloc(&mut g, ty, 8).unwrap();
        // SAFETY: both objects are live for the whole test (no collector runs).
        let slots = unsafe { parent.slots() };
        slots[0].store(child.addr() as u64, std::sync::atomic::Ordering::Relaxed);
        let mark = |addr: usize| {
            heap.mark_only(addr);
        };
        assert_eq!(heap.verify_no_black_to_white(), 0);
        mark(parent.addr());
        assert_eq!(
            heap.verify_no_black_to_white(),
            1,
            "black parent, white child"
        );
        mark(child.addr());
        assert_eq!(heap.verify_no_black_to_white(), 0);
    }
}
