//! The cycle (Go's mgc.go): the coordinator thread that runs
//! off → sweep termination (STW) → concurrent mark → mark termination (STW,
//! with helpers) → concurrent sweep, plus gctrace and checkmark.
//!
//! Only the coordinator changes the phase and the barrier flags, and only with
//! the world stopped. Mark completion: when no grey work is published and no
//! marker is busy, the world stops and every P's write-barrier buffer and
//! local work are flushed; if that turned up grey objects, the world restarts
//! and concurrent mark continues (Go issue 27993), up to `MAX_MARK_RESTARTS`
//! times; otherwise helpers drain what is left and the cycle ends.

use std::sync::atomic::Ordering::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::gcwork::GcWork;
use crate::heap::{
    current_m, Heap, RootKind, AF_MARK, PAUSE_HISTORY, PHASE_MARK, PHASE_MARK_TERM, PHASE_OFF,
    WB_SHADE,
};
use crate::object::{StackScan, Tracer, TracerMode};
use crate::p::P;

/// Bytes the scavenger releases under one hold of the page-heap lock (a
/// madvise of 1 MiB of touched pages: some tens of microseconds).
const SCAVENGE_STEP_BYTES: usize = 1 << 20;

/// Restarts of concurrent mark before mark termination drains regardless.
pub const MAX_MARK_RESTARTS: u32 = 8;

/// Extra concurrent passes over goroutine stacks still unscanned when the
/// mark drains (each waits a little for running goroutines to stop: see
/// the `vm` crate's `AllGs`); what is left after them is scanned in mark
/// termination.
pub const MAX_STACK_PASSES: u32 = 10;

/// With no background mark workers, how long the coordinator leaves the
/// mark to the assists before it drains the work itself.
const SELF_DRAIN_AFTER: Duration = Duration::from_millis(50);

struct CycleTimes {
    start: Instant,
    stw1: Duration,
    concurrent: Duration,
    stw2: Duration,
    /// Pauses of mark-termination probes that restarted concurrent mark:
    /// their sum, the longest, and how many took over a millisecond.
    probe_total: Duration,
    probe_max: Duration,
    probes_over_1ms: u64,
    heap_before: usize,
    restarts: u32,
    /// Time to safepoint: how long stopping the world took, per STW.
    ttsp: [Duration; 2],
}

impl Heap {
    /// The coordinator: waits for a request, runs a cycle, repeats.
    pub(crate) fn coordinator_loop(self: Arc<Heap>) {
        loop {
            {
                let mut ctl = self.ctl.lock().expect("ctl lock");
                while !ctl.requested && !ctl.shutdown {
                    ctl = self.ctl_cv.wait(ctl).expect("ctl lock");
                }
                if ctl.shutdown {
                    return;
                }
                ctl.requested = false;
            }
            self.run_cycle();
        }
    }

    /// Runs one full cycle. Called only by the coordinator thread (a caller
    /// holding a P would wait for itself in stop-the-world).
    pub(crate) fn run_cycle(self: &Arc<Heap>) {
        // Finish the previous cycle's sweep concurrently, before stopping.
        self.finish_sweep();
        // Keep what the next cycle is expected to use: at least what the
        // last one did. The peak starts again from what is in use now.
        let peak = self
            .page_stats
            .peak_in_use_bytes
            .swap(self.page_stats.in_use_bytes.load(Relaxed), Relaxed);
        let retain = self.config.pacer.retained(
            self.heap_marked.load(Relaxed),
            self.root_bytes.load(Relaxed),
            peak,
        );
        // A step at a time from the top down, the release itself with the
        // page-heap lock dropped (see `PageHeap::scavenge_take`): gctrace
        // showed stops of 0.5-2 ms held up by an M asleep on that lock
        // while all the releases ran under one hold, and later 150-200 us
        // first pauses while one 1 MiB release held it. The excess is
        // measured once; each step starts where the last one stopped.
        let mut scavenge =
            (self.pages.lock().expect("pages lock")).scavenge_begin(&self.page_stats, retain);
        loop {
            let taken = scavenge.take(
                &mut self.pages.lock().expect("pages lock"),
                SCAVENGE_STEP_BYTES,
            );
            let Some(taken) = taken else {
                break;
            };
            // The run is out of the free map: nobody else touches it.
            let ok = crate::pageheap::os::release(taken.base, taken.bytes());
            let mut pages = self.pages.lock().expect("pages lock");
            if !scavenge.put_back(&mut pages, &self.page_stats, taken, ok) {
                break;
            }
        }

        let t0 = Instant::now();
        let heap_before = self.page_stats.in_use_bytes.load(Relaxed);
        let ttsp1 = self.stop_the_world();
        self.sweep_termination();
        let stw1 = t0.elapsed();
        self.start_the_world();
        self.wake_markers();
        // The concurrent phase starts with the root scan (goroutine stacks
        // can take tens of milliseconds), and gctrace counts it.
        let tmark = Instant::now();
        self.scan_barriered_roots(true);

        let mut restarts = 0;
        let mut stw2_start;
        let mut probe_max = Duration::ZERO;
        let mut probes_over_1ms = 0;
        let mut ttsp2;
        let mut probe_total = Duration::ZERO;
        let mut stack_passes = 0;
        loop {
            self.wait_mark_drained();
            if stack_passes < MAX_STACK_PASSES && self.stacks_unscanned() {
                // Stacks whose goroutines kept running (or whose threads the
                // OS did not run) are scanned concurrently again rather than
                // marked from in the pause.
                stack_passes += 1;
                self.scan_barriered_roots(false);
                continue;
            }
            stw2_start = Instant::now();
            ttsp2 = self.stop_the_world();
            if self.flush_all_ps_found_work() && restarts < MAX_MARK_RESTARTS {
                restarts += 1;
                // The probe was a pause of its own.
                let probe = stw2_start.elapsed();
                probe_max = probe_max.max(probe);
                probe_total += probe;
                probes_over_1ms += u64::from(probe.as_micros() > 1000);
                self.start_the_world();
                self.wake_markers();
                continue;
            }
            break;
        }
        let concurrent = stw2_start - tmark;
        self.mark_termination();
        let mut checkmark_time = Duration::ZERO;
        if self.config.debug.gcverify {
            // Verification time is excluded from the pause figures.
            let tc = Instant::now();
            let bad = self.verify_no_black_to_white();
            if bad > 0 {
                crate::debug::fatal(format_args!(
                    "gcverify: {bad} pointers from marked objects to unmarked ones after mark"
                ));
            }
            checkmark_time += tc.elapsed();
        }
        if self.config.debug.checkmark {
            // Checkmark time is excluded from the pause figures (debug mode).
            let tc = Instant::now();
            let missed = self.checkmark();
            if missed > 0 {
                if self.config.checkmark_nonfatal {
                    self.stats.lock().expect("stats lock").checkmark_missed += missed;
                } else {
                    crate::debug::fatal(format_args!(
                        "gccheckmark: {missed} reachable objects were not marked"
                    ));
                }
            }
            checkmark_time += tc.elapsed();
        }
        self.sweep_setup();
        // The final pause alone: the probes are counted on their own (a
        // cycle's `PauseNs` entry is the sum of all its pauses, as Go's).
        let stw2 = stw2_start.elapsed().saturating_sub(checkmark_time);
        self.start_the_world();
        self.wake_assists();
        self.finish_cycle(CycleTimes {
            start: t0,
            stw1,
            concurrent,
            stw2,
            probe_total,
            probe_max,
            probes_over_1ms,
            ttsp: [ttsp1, ttsp2],
            heap_before,
            restarts,
        });
        // Background sweep right away (allocation also sweeps lazily).
        while self.sweep_one(None).is_some() {
            if self.ctl.lock().expect("ctl lock").requested {
                break;
            }
        }
    }

    /// Sweep termination, world stopped: finish sweeping, turn the barrier on,
    /// scan roots.
    fn sweep_termination(&self) {
        self.finish_sweep();
        {
            let mut ctl = self.ctl.lock().expect("ctl lock");
            ctl.started += 1;
            self.mark_epoch.store(ctl.started, Relaxed);
        }
        self.marked_bytes.store(0, Relaxed);
        self.bg_credit.store(0, Relaxed);
        let marked_last = self.heap_marked.load(Relaxed) as u64;
        let goal = self.config.pacer.goal(
            self.heap_marked.load(Relaxed),
            self.root_bytes.load(Relaxed),
        );
        let live = self.heap_live.load(Relaxed);
        let runway = goal.saturating_sub(live) as u64;
        let ratio = crate::pacer::PacerConfig::assist_ratio(marked_last, runway);
        self.assist_ratio_fp.store((ratio * 1024.0) as u64, Relaxed);
        self.phase.store(PHASE_MARK, Relaxed);
        self.barrier_flags.fetch_or(WB_SHADE, Relaxed);
        self.alloc_flags.fetch_or(AF_MARK, Relaxed);
        let mut gcw = GcWork::default();
        self.scan_roots(
            |k| k != RootKind::Barriered && k != RootKind::Stacks,
            &mut Tracer::new(self, TracerMode::Mark(&mut gcw), StackScan::All),
        );
        // Objects pinned traced now (a list's new array being filled across
        // safepoints) are greyed now, so the concurrent mark scans them:
        // mark termination greys pins too, and one left white until then
        // was scanned inside that pause (a 2-million-element array: 10 ms).
        // Those pinned later are new (allocated black) or were reachable
        // when the mark began, and so are usually marked by termination.
        for slot in self.ps.iter() {
            // SAFETY: the world is stopped (this runs between
            // `stop_the_world` and `start_the_world`): no P's holder runs,
            // so reading its pins races with nothing.
            let st = unsafe { &*slot.state.get() };
            for &(addr, trace) in &st.pins {
                if trace {
                    self.shade(addr, &mut gcw);
                }
            }
        }
        self.flush_counters(&mut gcw);
        self.work.publish(&mut gcw, true);
    }

    /// Scans `RootKind::Barriered` roots, and the stacks of goroutines not
    /// running (`RootKind::Stacks`), during concurrent mark.
    /// `with_barriered`: false for the extra passes over stacks still
    /// unscanned (the Barriered roots were scanned in the first).
    fn scan_barriered_roots(&self, with_barriered: bool) {
        let mut gcw = GcWork::default();
        let epoch = self.mark_epoch.load(Relaxed);
        self.root_jobs_open.store(true, Relaxed);
        self.wake_markers();
        self.scan_roots(
            |k| (with_barriered && k == RootKind::Barriered) || k == RootKind::Stacks,
            &mut Tracer::new(
                self,
                TracerMode::Mark(&mut gcw),
                StackScan::Concurrent { epoch },
            ),
        );
        self.root_jobs_open.store(false, Relaxed);
        self.flush_counters(&mut gcw);
        self.work.publish(&mut gcw, true);
        self.wake_markers();
    }

    /// Whether a root provider reports stacks not yet scanned this cycle.
    fn stacks_unscanned(&self) -> bool {
        let epoch = self.mark_epoch.load(Relaxed);
        self.roots
            .read()
            .expect("roots lock")
            .iter()
            .any(|(k, provider)| *k == RootKind::Stacks && provider.unscanned(epoch))
    }

    /// Waits until no grey work is published and no marker is busy. With
    /// no background workers (`HeapConfig::mark_workers: Some(0)`) the
    /// coordinator drains the work itself once the assists have had
    /// [`SELF_DRAIN_AFTER`] to do it (a test relies on assists finishing a
    /// mark; an idle program has no assists).
    ///
    /// There is no deadline: until session 14 the wait gave up after 50
    /// ms, so a mark longer than that (gcpause's 32 MB of live nodes: 80-160
    /// ms) stopped the world to probe while work was still queued, found it,
    /// and restarted: one wasted pause, and one more draw of a late thread,
    /// in nearly every cycle.
    fn wait_mark_drained(&self) {
        let self_drain_from =
            (self.mark_worker_count() == 0).then(|| Instant::now() + SELF_DRAIN_AFTER);
        let mut gcw = GcWork::default();
        loop {
            if self_drain_from.is_some_and(|t| Instant::now() >= t) && !self.work.is_empty() {
                self.background_drain(&mut gcw);
            }
            let g = self.mark_lock.lock().expect("mark lock");
            self.mark_waiters.fetch_add(1, SeqCst);
            if self.mark_work_drained() || self.is_shutdown() {
                self.mark_waiters.fetch_sub(1, SeqCst);
                return;
            }
            drop(self.mark_wait(g, Duration::from_micros(500)));
        }
    }

    /// World stopped: shades every P's write-barrier buffer and publishes its
    /// local work. True if any grey work exists afterwards.
    fn flush_all_ps_found_work(&self) -> bool {
        let mut gcw = GcWork::default();
        let mut pinned_marked = 0;
        for slot in self.ps.iter() {
            // SAFETY: the world is stopped: every P's holder is parked at a
            // safepoint or blocked outside the heap, so the coordinator has
            // exclusive access to every P's state.
            let st = unsafe { &mut *slot.state.get() };
            for addr in st.wbbuf.take() {
                self.shade(addr, &mut gcw);
            }
            // Marked; greyed only if pinned with `trace` (see `P::pin`):
            // an object being zeroed holds stale words, not references.
            for &(addr, trace) in &st.pins {
                if trace {
                    self.shade(addr, &mut gcw);
                } else {
                    pinned_marked += u64::from(self.mark_only(addr));
                }
            }
            gcw.local.append(&mut st.gcw.local);
            self.marked_bytes
                .fetch_add(std::mem::take(&mut st.gcw.marked_bytes) as usize, Relaxed);
        }
        if pinned_marked > 0 {
            self.stats.lock().expect("stats lock").pinned_marked += pinned_marked;
        }
        self.flush_counters(&mut gcw);
        let found = !gcw.local.is_empty();
        self.work.publish(&mut gcw, true);
        found || !self.mark_work_drained()
    }

    /// Mark termination, world stopped: helpers holding Ps drain whatever is
    /// left, then the barrier goes off.
    fn mark_termination(self: &Arc<Heap>) {
        self.phase.store(PHASE_MARK_TERM, Relaxed);
        // The stacks the concurrent scan skipped (their goroutines were
        // running): scanned now, while they are stopped. With the hybrid
        // barrier a stack is scanned once per cycle, at any point of the
        // mark, so only these few remain for the pause.
        let mut gcw = GcWork::default();
        let epoch = self.mark_epoch.load(Relaxed);
        self.scan_roots(
            |k| k == RootKind::Stacks,
            &mut Tracer::new(self, TracerMode::Mark(&mut gcw), StackScan::Final { epoch }),
        );
        self.flush_counters(&mut gcw);
        self.work.publish(&mut gcw, true);
        loop {
            self.run_helpers();
            if self.mark_work_drained() {
                break;
            }
            std::thread::yield_now();
        }
        self.barrier_flags.fetch_and(!WB_SHADE, Relaxed);
        self.alloc_flags.fetch_and(!AF_MARK, Relaxed);
    }

    /// Mark-termination helpers (the seed "allow write barriers in
    /// gchelper"): with the world stopped, the coordinator lends Ps to helper
    /// threads, which drain the remaining grey work in parallel. Each helper
    /// HOLDS the P it was lent — the P's owner is set to the helper's M — so
    /// write barriers it executes (through `helper_hook`, or any barriered
    /// store in the drain path) are legal and pass the ownership check. The
    /// P's real holder is stopped and gets it back, owner restored, before the
    /// world restarts.
    fn run_helpers(self: &Arc<Heap>) {
        if self.work.is_empty() {
            // Little left (only what the Ps' buffers hold): the coordinator's
            // own thread is the one helper M, lent each P in turn. Spawning
            // threads would cost more than the work.
            for id in 0..self.ps.len() {
                self.help_with_p(id);
            }
            return;
        }
        let nhelpers = self
            .ps
            .len()
            .min(
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1),
            )
            .max(1);
        let nps = self.ps.len();
        std::thread::scope(|s| {
            for h in 0..nhelpers {
                let heap = Arc::clone(self);
                s.spawn(move || {
                    let mut id = h;
                    while id < nps {
                        heap.help_with_p(id);
                        id += nhelpers;
                    }
                });
            }
        });
    }

    fn help_with_p(self: &Arc<Heap>, id: usize) {
        let slot = &self.ps[id];
        let saved_owner = slot.owner.swap(current_m(), Relaxed);
        let mut p = P::lend(Arc::clone(self), id);
        if let Some(hook) = self.config.helper_hook {
            hook(&mut p);
        }
        p.flush_wbbuf();
        let mut gcw = std::mem::take(&mut p.st().gcw);
        self.drain(&mut gcw, u64::MAX, false);
        p.st().gcw = gcw;
        if slot.owner.load(Relaxed) == current_m() {
            self.stats.lock().expect("stats lock").helper_runs_with_p += 1;
        }
        drop(p);
        slot.owner.store(saved_owner, Relaxed);
    }

    /// World stopped, mark done: empty the P caches, queue every span for
    /// sweeping, set the next trigger.
    fn sweep_setup(&self) {
        for slot in self.ps.iter() {
            // SAFETY: world stopped; see `flush_all_ps_found_work`.
            unsafe { &mut *slot.state.get() }.mcache.reset();
        }
        // Every central list is now stale (see `sweep_gen`).
        self.sweep_gen.fetch_add(1, Release);
        // The two span lists trade their vectors: the sweep queue (empty,
        // swept) becomes the next in-use list. Freeing or allocating a
        // vector here would be an allocator call inside the pause, and
        // freeing a large one took 3-6 ms in the torture run (the C
        // allocator returning it to the OS).
        let spans = std::mem::take(&mut *self.in_use.lock().expect("in_use lock"));
        let swept = std::mem::replace(&mut *self.sweep_queue.lock().expect("sweep lock"), spans);
        debug_assert!(swept.is_empty(), "sweep_setup before the sweep finished");
        *self.in_use.lock().expect("in_use lock") = swept;
        self.pages.lock().expect("pages lock").next_cycle();
        let marked = self.marked_bytes.load(Relaxed);
        self.heap_marked.store(marked, Relaxed);
        self.heap_live.store(marked, Relaxed);
        self.trigger.store(
            self.config
                .pacer
                .trigger(marked, self.root_bytes.load(Relaxed)),
            Relaxed,
        );
        self.trigger_requested.store(false, Relaxed);
        self.phase.store(PHASE_OFF, Relaxed);
    }

    fn finish_cycle(&self, t: CycleTimes) {
        let cycle = {
            let mut s = self.stats.lock().expect("stats lock");
            s.cycles += 1;
            s.total_pause += t.stw1 + t.stw2 + t.probe_total;
            s.max_pause = s.max_pause.max(t.stw1).max(t.stw2).max(t.probe_max);
            s.mark_restarts += t.restarts as u64;
            s.pauses += 2 + t.restarts as u64;
            s.pauses_over_1ms += [t.stw1, t.stw2]
                .iter()
                .filter(|d| d.as_micros() > 1000)
                .count() as u64
                + t.probes_over_1ms;
            s.cycles
        };
        let pause = (t.stw1 + t.stw2 + t.probe_total).as_nanos() as u64;
        self.pause_ns.lock().expect("pause lock")[(cycle as usize - 1) % PAUSE_HISTORY] = pause;
        {
            let mut ctl = self.ctl.lock().expect("ctl lock");
            ctl.completed += 1;
            self.ctl_cv.notify_all();
        }
        if self.config.debug.gctrace {
            let mb = |b: usize| b as f64 / (1 << 20) as f64;
            let marked = self.heap_marked.load(Relaxed);
            eprintln!(
                "gc {cycle} @{:.3}s: {:.3}+{:.3}+{:.3} ms clock, {:.1}->{:.1} MB marked {:.1} MB, {:.1} MB goal, {} P, {} restarts ({:.3} ms), ttsp {:.3}+{:.3} ms, assist {:.3} ms total, mark cpu {:.3} ms total{}",
                (t.start - self.start).as_secs_f64(),
                t.stw1.as_secs_f64() * 1e3,
                t.concurrent.as_secs_f64() * 1e3,
                t.stw2.as_secs_f64() * 1e3,
                mb(t.heap_before),
                mb(self.page_stats.in_use_bytes.load(Relaxed)),
                mb(marked),
                mb(self
                    .config
                    .pacer
                    .goal(marked, self.root_bytes.load(Relaxed))
                    .min(1 << 50)),
                self.ps.len(),
                t.restarts,
                t.probe_total.as_secs_f64() * 1e3,
                t.ttsp[0].as_secs_f64() * 1e3,
                t.ttsp[1].as_secs_f64() * 1e3,
                self.assist_nanos.load(Relaxed) as f64 / 1e6,
                self.mark_nanos.load(Relaxed) as f64 / 1e6,
                self.take_slow_stops(),
            );
        }
    }
}

impl P {
    /// A P lent to a mark-termination helper (world stopped).
    pub(crate) fn lend(heap: Arc<Heap>, id: usize) -> P {
        P::new(heap, id, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TypeTable;

    /// A cycle's `PauseNs` entry is the sum of its pauses, each counted
    /// once; the longest single pause, whichever it was, is `max_pause`.
    #[test]
    fn a_cycles_pauses_are_summed_once_and_the_longest_is_the_max() {
        let heap = Heap::for_unit_test(TypeTable::new());
        let us = Duration::from_micros;
        heap.finish_cycle(CycleTimes {
            start: Instant::now(),
            stw1: us(20),
            concurrent: us(5000),
            stw2: us(30),
            probe_total: us(1500),
            probe_max: us(1200),
            probes_over_1ms: 1,
            heap_before: 0,
            restarts: 2,
            ttsp: [us(1), us(2)],
        });
        assert_eq!(heap.pause_ns()[0], 1_550_000);
        let s = heap.stats();
        assert_eq!(s.max_pause, us(1200));
        assert_eq!(s.pauses, 4);
        assert_eq!(s.pauses_over_1ms, 1);
        assert_eq!(s.total_pause, us(1550));
    }
}
