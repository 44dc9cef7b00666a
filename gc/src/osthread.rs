//! What the collector asks of the OS about its threads: moving a late P's
//! thread onto the stopping coordinator's CPU ([`PulledThread`]), a short
//! time slice for the coordinator ([`request_short_slice`]), and the
//! per-thread clocks and scheduler statistics `gctrace` reports slow stops
//! with. Linux only, as the rest of the runtime; every call is unprivileged
//! and a failure leaves the thread as it was.

/// A thread `Heap::pull_late_threads` restricted to one CPU, with the
/// CPUs it was allowed before.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A pulled thread may run only on the chosen CPU until it is given
    /// back the CPUs it had.
    #[test]
    fn a_pulled_thread_gets_its_cpus_back() {
        fn allowed(tid: i32) -> libc::cpu_set_t {
            // SAFETY: an all-zero cpu_set_t is the empty set; the call
            // writes one of the size passed.
            unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                assert_eq!(
                    libc::sched_getaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
                    0
                );
                set
            }
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            // SAFETY: gettid has no preconditions.
            tx.send(unsafe { libc::gettid() }).unwrap();
            stop_rx.recv().unwrap();
        });
        let tid = rx.recv().unwrap();
        let before = allowed(tid);
        // SAFETY: `before` is a valid cpu_set_t.
        let ncpus = unsafe { libc::CPU_COUNT(&before) };
        let cpu = (0..libc::CPU_SETSIZE as usize)
            // SAFETY: as above; `c` < CPU_SETSIZE.
            .find(|&c| unsafe { libc::CPU_ISSET(c, &before) })
            .unwrap();
        let pulled = PulledThread::pull(tid, cpu);
        if ncpus < 2 {
            // Nowhere else to run: left alone.
            assert!(pulled.is_none());
        } else {
            let pulled = pulled.expect("pulled");
            let during = allowed(tid);
            // SAFETY: valid cpu_set_t; `cpu` < CPU_SETSIZE.
            unsafe {
                assert_eq!(libc::CPU_COUNT(&during), 1);
                assert!(libc::CPU_ISSET(cpu, &during));
            }
            pulled.give_back();
            let after = allowed(tid);
            // SAFETY: valid cpu_set_t.
            assert_eq!(unsafe { libc::CPU_COUNT(&after) }, ncpus);
        }
        stop_tx.send(()).unwrap();
        thread.join().unwrap();
    }
}
