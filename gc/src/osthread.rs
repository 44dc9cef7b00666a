//! What the collector asks of the OS about its threads: moving the threads
//! a stop-the-world waits for onto a CPU going idle ([`PulledThread`]:
//! the coordinator's in `Heap::pull_late_threads`, a stopped M's in
//! `Heap::help_late_stop`), and the per-thread clocks and scheduler
//! statistics `gctrace` reports slow stops with. Linux only, as the rest
//! of the runtime; every call is unprivileged and a failure leaves the
//! thread as it was.

/// A thread restricted to one CPU for the rest of a stop-the-world, with
/// the CPUs it was allowed before.
pub(crate) struct PulledThread {
    tid: i32,
    allowed: libc::cpu_set_t,
}

impl PulledThread {
    /// Restricts thread `tid` to `cpu`, if it may run there and elsewhere.
    pub(crate) fn pull(tid: i32, cpu: usize) -> Option<PulledThread> {
        // SAFETY: cpu_set_t is plain bits; all zeros is the empty set.
        let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `allowed` is a cpu_set_t of the size passed. A stale
        // `tid` (its thread gone) fails with ESRCH, checked.
        let got = unsafe {
            libc::sched_getaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed)
        };
        if got != 0 {
            return None;
        }
        // SAFETY: `allowed` is a valid cpu_set_t and `cpu` a CPU number
        // sched_getcpu returned, below CPU_SETSIZE.
        let may_run_here = unsafe { libc::CPU_ISSET(cpu, &allowed) };
        // SAFETY: `allowed` is a valid cpu_set_t.
        let may_run_elsewhere = unsafe { libc::CPU_COUNT(&allowed) } > 1;
        if !may_run_here || !may_run_elsewhere {
            return None;
        }
        // SAFETY: as above.
        let mut only: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `only` is a valid cpu_set_t; `cpu` < CPU_SETSIZE.
        unsafe { libc::CPU_SET(cpu, &mut only) };
        // SAFETY: `only` is a cpu_set_t of the size passed.
        let set =
            unsafe { libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &only) };
        (set == 0).then_some(PulledThread { tid, allowed })
    }

    /// Restricts the threads `tids` (ids of 0 or less, unknown, skipped)
    /// to the calling thread's CPU, each as [`PulledThread::pull`].
    pub(crate) fn pull_onto_this_cpu(tids: impl IntoIterator<Item = i32>) -> Vec<PulledThread> {
        // SAFETY: sched_getcpu has no preconditions.
        let cpu = unsafe { libc::sched_getcpu() };
        if cpu < 0 {
            return Vec::new();
        }
        tids.into_iter()
            .filter(|&tid| tid > 0)
            .filter_map(|tid| PulledThread::pull(tid, cpu as usize))
            .collect()
    }

    /// Gives the thread back the CPUs it was allowed.
    pub(crate) fn give_back(&self) {
        // SAFETY: `allowed` is the cpu_set_t read from this thread; a
        // thread gone meanwhile fails with ESRCH, which leaves nothing to
        // undo.
        unsafe {
            libc::sched_setaffinity(
                self.tid,
                std::mem::size_of::<libc::cpu_set_t>(),
                &self.allowed,
            )
        };
    }
}

/// The calling thread's OS id.
pub(crate) fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// Nanoseconds thread `tid` of this process has spent on a CPU and
/// runnable but waiting for one (`/proc/self/task/TID/schedstat`).
pub(crate) fn sched_stat(tid: i32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
    Some((fields.next()??, fields.next()??))
}

/// How long thread `tid` ran and waited for a CPU since `before` (its
/// [`sched_stat`] then); zeros when either reading is missing.
pub(crate) fn sched_delta(before: Option<(u64, u64)>, tid: i32) -> (u64, u64) {
    match (before, sched_stat(tid)) {
        (Some(b), Some(a)) => (a.0.saturating_sub(b.0), a.1.saturating_sub(b.1)),
        _ => (0, 0),
    }
}

/// Clock `clock`'s time in nanoseconds.
fn clock_nanos(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The calling thread's CPU time in nanoseconds.
pub(crate) fn thread_cpu_nanos() -> u64 {
    clock_nanos(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CLOCK_MONOTONIC in seconds, to match a slow stop with `perf record -k
/// CLOCK_MONOTONIC` samples.
pub(crate) fn monotonic_secs() -> f64 {
    clock_nanos(libc::CLOCK_MONOTONIC) as f64 / 1e9
}

/// The CPUs thread `tid` may run on (tests of pulls).
#[cfg(test)]
pub(crate) fn allowed_cpus(tid: i32) -> Vec<usize> {
    // SAFETY: an all-zero cpu_set_t is the empty set; the call writes one
    // of the size passed; CPU_ISSET reads it below CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        assert_eq!(libc::sched_getaffinity(tid, size, &mut set), 0);
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pulled thread may run only on the chosen CPU until it is given
    /// back the CPUs it had.
    #[test]
    fn a_pulled_thread_gets_its_cpus_back() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            // SAFETY: gettid has no preconditions.
            tx.send(unsafe { libc::gettid() }).unwrap();
            stop_rx.recv().unwrap();
        });
        let tid = rx.recv().unwrap();
        let before = allowed_cpus(tid);
        let cpu = before[0];
        let pulled = PulledThread::pull(tid, cpu);
        if before.len() < 2 {
            // Nowhere else to run: left alone.
            assert!(pulled.is_none());
        } else {
            let pulled = pulled.expect("pulled");
            assert_eq!(allowed_cpus(tid), [cpu]);
            pulled.give_back();
            assert_eq!(allowed_cpus(tid).len(), before.len());
        }
        stop_tx.send(()).unwrap();
        thread.join().unwrap();
    }
}
