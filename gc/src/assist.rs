//! Mutator assists (Go's gcAssistAlloc): during mark, each allocated byte
//! owes scan work. A mutator in debt first steals background credit, then
//! scans grey objects itself, and if no work can be found parks until credit
//! arrives or the cycle ends.
//!
//! The assist runs in collector code on the mutator's thread and holds no
//! reference into the mutator's own stack or registers: it touches only the
//! P's state and the `Mutator` record (and, once per cycle before it parks,
//! asks the embedder to shade the mutator's stack: `OwnRoots`). "This assist completed the mark phase"
//! is reported through `Mutator::assist_completed_mark` (seed: "lift the
//! systemstack part of gcAssistAlloc").

use std::sync::atomic::Ordering::*;
use std::time::{Duration, Instant};

use crate::heap::{Heap, PHASE_MARK};
use crate::p::{Mutator, P};

impl P {
    /// Charges `bytes` of allocation to `g` and pays any debt.
    pub(crate) fn charge_assist(&mut self, g: &mut Mutator, bytes: usize) {
        let heap = self.heap_unbound();
        let epoch = heap.mark_epoch.load(Relaxed);
        if g.epoch != epoch {
            g.epoch = epoch;
            g.assist_bytes = 0;
        }
        g.assist_bytes -= bytes as i64;
        if g.assist_bytes >= 0 {
            return;
        }
        let t = Instant::now();
        let ratio = heap.assist_ratio_fp.load(Relaxed) as f64 / 1024.0;
        while g.assist_bytes < 0 && heap.phase() == PHASE_MARK {
            // Owe at least 64 KiB of scan at a time, so assists are not tiny.
            let want = ((-g.assist_bytes) as f64 * ratio).max(65536.0) as i64;
            let stolen = steal_credit(heap, want);
            g.assist_bytes += (stolen as f64 / ratio) as i64;
            if g.assist_bytes >= 0 {
                break;
            }
            let mut gcw = std::mem::take(&mut self.st().gcw);
            let done = heap.drain(&mut gcw, (want - stolen) as u64, true) as i64;
            self.st().gcw = gcw;
            g.assist_bytes += (done as f64 / ratio) as i64 + 1;
            // Allocation is a safepoint, so an assist may stop here; the P's
            // grey work is back in its state for the collector to see.
            self.safepoint();
            if g.assist_bytes >= 0 || done > 0 {
                continue;
            }
            // Before waiting for work, make the mutator's own stack work
            // (see `OwnRoots`); then there is some to do, unless it was
            // scanned already.
            if let Some(roots) = g.own_roots.clone() {
                if roots.shade_own(self, heap.mark_epoch.load(Relaxed)) {
                    continue;
                }
            }
            if heap.mark_work_drained() {
                // Nothing left anywhere: this assist completed the mark phase.
                g.assist_completed_mark = true;
                heap.wake_markers();
            }
            self.park_assist();
        }
        if heap.phase() != PHASE_MARK && g.assist_bytes < 0 {
            g.assist_bytes = 0;
        }
        heap.assist_nanos
            .fetch_add(t.elapsed().as_nanos() as u64, Relaxed);
    }

    /// Parks on the assist queue until background credit exists or the mark
    /// phase ends. The P counts as stopped meanwhile.
    fn park_assist(&mut self) {
        let heap = std::sync::Arc::clone(&self.heap);
        self.enter_blocking();
        {
            let mut waiting = heap.assist.lock().expect("assist lock");
            *waiting += 1;
            while heap.bg_credit.load(Relaxed) <= 0
                && heap.phase() == PHASE_MARK
                && !heap.mark_work_has_items()
            {
                let (w, timeout) = heap
                    .assist_cv
                    .wait_timeout(waiting, Duration::from_millis(2))
                    .expect("assist lock");
                waiting = w;
                if timeout.timed_out() {
                    break;
                }
            }
            *waiting -= 1;
        }
        self.exit_blocking();
    }
}

fn steal_credit(heap: &Heap, want: i64) -> i64 {
    let mut cur = heap.bg_credit.load(Relaxed);
    loop {
        if cur <= 0 {
            return 0;
        }
        let take = cur.min(want);
        match heap
            .bg_credit
            .compare_exchange_weak(cur, cur - take, Relaxed, Relaxed)
        {
            Ok(_) => return take,
            Err(c) => cur = c,
        }
    }
}

impl Heap {
    /// Wakes parked assists (credit arrived or the cycle ended).
    pub(crate) fn wake_assists(&self) {
        if *self.assist.lock().expect("assist lock") > 0 {
            self.assist_cv.notify_all();
        }
    }

    pub(crate) fn mark_work_has_items(&self) -> bool {
        !self.work.is_empty()
    }
}
