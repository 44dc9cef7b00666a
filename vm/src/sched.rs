//! Goroutines and the scheduler: the G records, the run queue, parking and
//! waking, timers, semaphores (what `sync` is built on), sysmon's preemption
//! and the deadlock check.
//!
//! How it fits: [`crate::interp::Vm::run_program`] builds one [`Runtime`],
//! creates goroutine 1 (module inits, then `main`) and runs the scheduler loop
//! ([`crate::interp::run_m`]) on an M (an OS thread) holding a P (a `gc::P`).
//! The loop takes a runnable G, runs it in the interpreter until it returns,
//! parks (a channel operation, a semaphore, a sleep) or is preempted, and
//! takes the next. Goroutines never recurse on the Rust stack: a G is its
//! register array and frame list ([`GState`]), resumable at any instruction
//! boundary.
//!
//! There are `WEFTMAXPROCS` Ps and one M (OS thread) per P, started with
//! the program; an M with nothing to run sleeps in `find_runnable` as a
//! blocking region of its P (so the collector can stop the world without
//! it). State of this module: one global run queue under the scheduler's
//! lock (Go's per-P lock-free queues with stealing are not built yet).
//!
//! Invariants:
//! - A G is in exactly one place: running on an M (owned by that M's `Exec`),
//!   in `Sched::runq`, or in `Sched::parked`. A waker that finds a G not yet
//!   parked (its M is between registering the wait and handing the G over)
//!   records the wake in `Sched::ready_early`; `park` checks it.
//! - A parked G never grows its register array, so a waiter's `regs` (a
//!   clone of the G's array taken when it registered) is the array the G will
//!   read when it runs again. Values handed to a parked G are written there
//!   with the write barrier (another goroutine's stack may already be black).
//! - Lock order: `chans` or `semas` before `sched`; `timers` alone. No lock is
//!   held across an allocation or any other safepoint (a stop-the-world would
//!   wait for a thread blocked on the lock forever).
//! - Every G's registers are roots through [`AllGs`] (scanned with the world
//!   stopped); a channel with waiters is reachable from the waiters' registers
//!   (it is an operand of the instruction they are parked in), so the wait
//!   queues key channels by address without keeping them alive.

use crate::interp::{Frame, Panicking, RegFile};
use crate::signal::{self, NSIG};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use weft_gc::{Mutator, RootProvider, Tracer, P};

/// What a G does when it runs with an empty frame list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// Run module `i`'s top-level code.
    Init(usize),
    /// Call the entry module's `main`.
    Main,
    /// Call the function in `R[FIRST_FRAME_REG]` with the `nargs` values
    /// after it (a `go` statement); with `receiver`, the first is the receiver.
    Call { nargs: usize, receiver: bool },
}

/// A goroutine: everything needed to resume it at an instruction boundary.
pub(crate) struct GState {
    pub id: u64,
    /// The register file as the collector sees it (through [`AllGs`]).
    pub regs: Arc<RegFile>,
    pub frames: Vec<Frame>,
    /// One past the last value of the latest `MULTI` call or return (absolute).
    pub top: usize,
    /// The register array, as `regs` holds it (only `Exec::ensure_regs` replaces it).
    pub cached_regs: Arc<[AtomicU64]>,
    /// Register arrays replaced by growth, kept so that borrowed references stay valid.
    pub retired_regs: Vec<Arc<[AtomicU64]>>,
    pub panicking: Option<Panicking>,
    /// Records in the defer list (see `Exec::defer_len`).
    pub defer_count: usize,
    /// The collector's record of this goroutine (assist credit or debt).
    pub mutator: Mutator,
    /// Calls still to make when the frame list empties.
    pub entry: VecDeque<Entry>,
    /// The G parked inside the instruction at its top frame's `pc`; that
    /// instruction completes from `wake` when the G runs again.
    pub resuming: bool,
    /// A deferred native call parked this G while a panic unwound: go on
    /// unwinding when it runs again.
    pub resume_unwind: bool,
    /// Written by whoever wakes the G: see [`WAKE_DELIVERED`].
    pub wake: Arc<AtomicU64>,
    /// Why the G is parked (Go's wait reasons), for deadlock tracebacks.
    pub wait_reason: &'static str,
}

/// Wake codes (low two bits; a select also stores the chosen case above them).
pub(crate) const WAKE_DELIVERED: u64 = 1;
pub(crate) const WAKE_CLOSED: u64 = 2;

/// Every live G's register file: the goroutine stacks as roots.
#[derive(Default)]
pub(crate) struct AllGs(Mutex<HashMap<u64, Arc<RegFile>>>);

impl RootProvider for AllGs {
    fn scan_roots(&self, tracer: &mut Tracer<'_>) {
        // A snapshot, so goroutines come and go while the stacks are scanned
        // (one created meanwhile counts as scanned: see `Runtime::new_g`).
        let all: Vec<Arc<RegFile>> = self.0.lock().expect("allgs").values().cloned().collect();
        for regs in all {
            regs.scan_roots(tracer);
        }
    }
}

/// A goroutine parked on a channel.
pub(crate) struct Waiter {
    pub gid: u64,
    /// The parked G's register array.
    pub regs: Arc<[AtomicU64]>,
    /// Receive: the register the value goes to. Send: the register holding it.
    pub val: usize,
    /// Receive: the register of the `ok` flag, or `usize::MAX`.
    pub ok: usize,
    /// The select case this entry stands for (0 for plain operations).
    pub case: u64,
    pub wake: Arc<AtomicU64>,
    /// A select's channels (addresses): on wake its other entries are unlinked.
    pub select: Option<Arc<[u64]>>,
}

/// The goroutines parked on one channel, FIFO.
#[derive(Default)]
pub(crate) struct ChanQueues {
    pub recvq: VecDeque<Waiter>,
    pub sendq: VecDeque<Waiter>,
}

/// The channel wait queues of every channel that has waiters.
#[derive(Default)]
pub(crate) struct Chans {
    pub queues: HashMap<u64, ChanQueues>,
}

impl Chans {
    /// Removes a select's other entries after one of them fired.
    pub fn unlink_select(&mut self, gid: u64, chans: &[u64]) {
        for addr in chans {
            if let Some(q) = self.queues.get_mut(addr) {
                q.recvq.retain(|w| w.gid != gid);
                q.sendq.retain(|w| w.gid != gid);
                if q.recvq.is_empty() && q.sendq.is_empty() {
                    self.queues.remove(addr);
                }
            }
        }
    }

    /// The first receiver waiting on `addr`, unlinked (with its select's other entries).
    pub fn pop_receiver(&mut self, addr: u64) -> Option<Waiter> {
        let w = self.queues.get_mut(&addr)?.recvq.pop_front();
        self.after_pop(addr, w)
    }

    /// The first sender waiting on `addr`, unlinked likewise.
    pub fn pop_sender(&mut self, addr: u64) -> Option<Waiter> {
        let w = self.queues.get_mut(&addr)?.sendq.pop_front();
        self.after_pop(addr, w)
    }

    fn after_pop(&mut self, addr: u64, w: Option<Waiter>) -> Option<Waiter> {
        if let Some(w) = &w {
            if let Some(chans) = &w.select {
                self.unlink_select(w.gid, &chans.clone());
            }
        }
        if self
            .queues
            .get(&addr)
            .is_some_and(|q| q.recvq.is_empty() && q.sendq.is_empty())
        {
            self.queues.remove(&addr);
        }
        w
    }
}

/// What a timer does when it fires.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TimerWhat {
    /// Make a sleeping goroutine runnable.
    Wake(u64),
    /// Send the time on a channel without blocking (the value bits), again
    /// every `period` nanoseconds if it is not zero.
    Send { chan: u64, period: u64 },
}

/// The pending timers: a heap of deadlines over a table of live timers.
/// Stopped or reset timers leave stale heap entries, skipped when popped
/// (their deadline no longer matches the table).
#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    live: HashMap<u64, (Instant, TimerWhat)>,
    next_id: u64,
}

impl Timers {
    fn add(&mut self, when: Instant, what: TimerWhat) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.live.insert(id, (when, what));
        self.heap.push(Reverse((when, id)));
        id
    }

    /// The earliest live deadline.
    fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((when, id))) = self.heap.peek().copied() {
            match self.live.get(&id) {
                Some((w, _)) if *w == when => return Some(when),
                _ => {
                    self.heap.pop();
                }
            }
        }
        None
    }

    /// Takes one timer due at `now`, re-arming a periodic one.
    fn pop_due(&mut self, now: Instant) -> Option<TimerWhat> {
        let when = self.next_deadline()?;
        if when > now {
            return None;
        }
        let Reverse((_, id)) = self.heap.pop().expect("a live deadline");
        let (_, what) = self.live.remove(&id).expect("a live timer");
        if let TimerWhat::Send { period, .. } = what {
            if period > 0 {
                // A ticker: the next tick a period after this one (or after
                // now, if it fell behind: ticks are dropped, as Go's).
                let mut next = when + Duration::from_nanos(period);
                if next <= now {
                    next = now + Duration::from_nanos(period);
                }
                self.live.insert(id, (next, what));
                self.heap.push(Reverse((next, id)));
            }
        }
        Some(what)
    }
}

/// The timer table as roots: channels of pending timers.
pub(crate) struct TimerRoots(pub Arc<Mutex<Timers>>);

impl RootProvider for TimerRoots {
    fn scan_roots(&self, tracer: &mut Tracer<'_>) {
        for (_, what) in self.0.lock().expect("timers").live.values() {
            if let TimerWhat::Send { chan, .. } = what {
                tracer.mark_word(*chan);
            }
        }
    }
}

/// What `signal.Notify` asked this runtime to relay.
pub(crate) struct SigTable {
    /// (channel, mask of signal numbers), in registration order.
    pub subs: Vec<(u64, u64)>,
    /// Signals this runtime asked the process to catch (`signal::want`),
    /// as a mask; each bit holds one interest until released.
    pub caught: u64,
    /// Per signal: the delivery count already turned into sends.
    pub seen: [u64; NSIG],
}

impl Default for SigTable {
    fn default() -> SigTable {
        SigTable {
            subs: Vec::new(),
            caught: 0,
            seen: [0; NSIG],
        }
    }
}

/// The signal table as roots: the channels registered with `signal.Notify`.
pub(crate) struct SignalRoots(pub Arc<Mutex<SigTable>>);

impl RootProvider for SignalRoots {
    fn scan_roots(&self, tracer: &mut Tracer<'_>) {
        for (chan, _) in &self.0.lock().expect("signals").subs {
            tracer.mark_word(*chan);
        }
    }
}

/// `WEFTDEBUG` switches of the scheduler (the collector's are in `gc`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedDebug {
    /// `schedtrace=MS`: a `SCHED` line on stderr every MS milliseconds.
    pub schedtrace_ms: u64,
    /// `sigtrace=1`: a line on stderr for each signal delivered, naming the M
    /// its handler ran on.
    pub sigtrace: bool,
}

impl SchedDebug {
    /// Parses a `WEFTDEBUG` string (unknown keys ignored, as GODEBUG does).
    pub fn parse(s: &str) -> SchedDebug {
        let mut d = SchedDebug::default();
        for kv in s.split(',') {
            let (k, v) = kv.split_once('=').unwrap_or((kv, "1"));
            let n: u64 = v.trim().parse().unwrap_or(0);
            match k.trim() {
                "schedtrace" => d.schedtrace_ms = n,
                "sigtrace" => d.sigtrace = n != 0,
                _ => {}
            }
        }
        d
    }

    pub fn from_env() -> SchedDebug {
        std::env::var("WEFTDEBUG")
            .map(|s| SchedDebug::parse(&s))
            .unwrap_or_default()
    }
}

/// A goroutine parked on a semaphore.
pub(crate) struct SemaWaiter {
    gid: u64,
}

/// The semaphore table (Go's `semaRoot`s): goroutines parked on an address,
/// FIFO. `sync`'s primitives keep their counts in their objects and park here.
#[derive(Default)]
pub struct Semas {
    queues: HashMap<u64, VecDeque<SemaWaiter>>,
    /// Gs to make runnable once the table's lock is released.
    woken: Vec<u64>,
}

impl Semas {
    /// How many goroutines are parked on `key`.
    pub fn waiting(&self, key: u64) -> usize {
        self.queues.get(&key).map_or(0, VecDeque::len)
    }

    /// Wakes up to `n` goroutines parked on `key`, oldest first; returns how many.
    pub fn wake(&mut self, key: u64, n: usize) -> usize {
        let Some(q) = self.queues.get_mut(&key) else {
            return 0;
        };
        let mut woken = 0;
        while woken < n {
            let Some(w) = q.pop_front() else { break };
            self.woken.push(w.gid);
            woken += 1;
        }
        if q.is_empty() {
            self.queues.remove(&key);
        }
        woken
    }
}

/// The run queue and the parked Gs.
///
/// Invariant: `running` counts the Ms between taking work from here
/// (a G, or a timer to deliver) and `end_slice`; the deadlock check needs
/// it to be 0 with an empty queue and no timers.
#[derive(Default)]
struct Sched {
    runq: VecDeque<Box<GState>>,
    parked: HashMap<u64, Box<GState>>,
    ready_early: HashSet<u64>,
    /// Per P: the G to run next (see `Runtime::push_runnable`).
    runnext: Vec<Option<Box<GState>>>,
    /// Ms running a G right now.
    running: usize,
}

/// Per-P scheduler state read by sysmon.
#[derive(Default)]
pub(crate) struct PRt {
    /// Set by sysmon: the running G should yield at its next safepoint.
    pub preempt: AtomicBool,
    /// Counts G switches on this P; sysmon preempts a P whose count stands still.
    pub schedtick: AtomicU64,
}

/// The scheduler and everything goroutines wait on.
pub(crate) struct Runtime {
    sched: Mutex<Sched>,
    sched_cv: Condvar,
    pub chans: Mutex<Chans>,
    pub semas: Mutex<Semas>,
    pub timers: Arc<Mutex<Timers>>,
    pub allgs: Arc<AllGs>,
    next_gid: AtomicU64,
    /// Dead Gs kept for reuse (boxed: they move in and out as pointers).
    #[allow(clippy::vec_box)]
    free_gs: Mutex<Vec<Box<GState>>>,
    /// Live goroutines (`runtime.NumGoroutine`).
    pub ngoroutines: AtomicUsize,
    /// `WEFTMAXPROCS`.
    pub maxprocs: usize,
    pub ps: Box<[PRt]>,
    /// The program is ending: Ms and sysmon stop.
    pub done: AtomicBool,
    /// How it ended (the first outcome recorded).
    exit: Mutex<Option<Result<(), crate::interp::Stop>>>,
    /// Set while any `signal.Notify` registration stands: a program waiting
    /// for signals is not deadlocked.
    pub signals_wanted: AtomicBool,
    /// `signal.Notify` registrations (rooted by [`SignalRoots`]).
    pub signals: Arc<Mutex<SigTable>>,
    /// Mirror of `SigTable::caught`, for sysmon's lock-free look.
    sig_watch: AtomicU64,
    /// Signals sysmon saw delivered and no M has relayed yet.
    sig_pending: AtomicU64,
    /// A `SIGQUIT` no channel asked for dumps every goroutine and ends the
    /// program (Go's default); off for embedders unless they ask.
    pub quit_dump: bool,
    pub debug: SchedDebug,
}

/// Initial register array of a new goroutine (it grows by doubling).
const INITIAL_REGS: usize = 32;

/// Dead Gs kept for reuse, and the largest register array worth keeping.
const MAX_FREE_GS: usize = 1 << 16;
const MAX_REUSED_REGS: usize = 1024;

/// Sysmon's tick and the time slice after which a running G is preempted.
const SYSMON_TICK: Duration = Duration::from_millis(2);
pub(crate) const TIME_SLICE: Duration = Duration::from_millis(10);
/// How long output may wait in the buffer of a program that keeps running.
const OUTPUT_FLUSH: Duration = Duration::from_millis(50);

/// What `find_runnable` found.
pub(crate) enum Found {
    G(Box<GState>),
    /// A due timer that sends on a channel: the caller delivers it (it needs
    /// the P and an allocation, which `find_runnable` may not do under a lock).
    TimerSend(u64),
    /// No G can ever run again: the parked ones, for the report.
    Deadlock(Vec<GState>),
    /// Signals to relay (a mask of signal numbers): the caller sends on
    /// the channels registered for them, or dumps the goroutines for SIGQUIT.
    Signals(u64),
    /// The program is over: the M stops.
    Exit,
}

/// The signal numbers in `mask`.
fn mask_signals(mask: u64) -> impl Iterator<Item = usize> {
    (0..64).filter(move |i| mask & 1 << i != 0)
}

impl Runtime {
    pub fn new(maxprocs: usize, nps: usize) -> Runtime {
        Runtime {
            sched: Mutex::new(Sched {
                runnext: (0..nps).map(|_| None).collect(),
                ..Sched::default()
            }),
            sched_cv: Condvar::new(),
            chans: Mutex::default(),
            semas: Mutex::default(),
            timers: Arc::default(),
            allgs: Arc::default(),
            next_gid: AtomicU64::new(1),
            free_gs: Mutex::default(),
            ngoroutines: AtomicUsize::new(0),
            maxprocs,
            ps: (0..nps).map(|_| PRt::default()).collect(),
            done: AtomicBool::new(false),
            exit: Mutex::default(),
            signals_wanted: AtomicBool::new(false),
            signals: Arc::default(),
            sig_watch: AtomicU64::new(0),
            sig_pending: AtomicU64::new(0),
            quit_dump: false,
            debug: SchedDebug::from_env(),
        }
    }

    /// Catches signal `sig` for this runtime (once), relaying only
    /// deliveries from now on.
    fn catch(&self, t: &mut SigTable, sig: usize) -> Result<(), String> {
        if t.caught & 1 << sig == 0 {
            signal::want(sig)?;
            t.caught |= 1 << sig;
            t.seen[sig] = signal::received(sig);
            self.sig_watch.store(t.caught, Relaxed);
        }
        Ok(())
    }

    /// Starts catching `SIGQUIT` to dump the goroutines (see `quit_dump`).
    pub fn catch_quit(&self) -> Result<(), String> {
        let mut t = self.signals.lock().expect("signals");
        self.catch(&mut t, libc::SIGQUIT as usize)
    }

    /// `signal.Notify(chan, sigs)`: relays the signals in `mask` to `chan`
    /// (added to those it already has).
    pub fn notify(&self, chan: u64, mask: u64) -> Result<(), String> {
        let mut t = self.signals.lock().expect("signals");
        for sig in mask_signals(mask) {
            self.catch(&mut t, sig)?;
        }
        match t.subs.iter_mut().find(|(c, _)| *c == chan) {
            Some((_, m)) => *m |= mask,
            None => t.subs.push((chan, mask)),
        }
        self.signals_wanted.store(true, Relaxed);
        Ok(())
    }

    /// `signal.Stop(chan)` (`chan` = None: `signal.Reset(sigs)`, which stops
    /// relaying the signals in `mask` to every channel). Signals no channel
    /// wants any more get their default disposition back.
    pub fn stop_notify(&self, chan: Option<u64>, mask: u64) {
        let mut t = self.signals.lock().expect("signals");
        match chan {
            Some(c) => t.subs.retain(|(ch, _)| *ch != c),
            None => {
                for (_, m) in t.subs.iter_mut() {
                    *m &= !mask;
                }
                t.subs.retain(|(_, m)| *m != 0);
            }
        }
        let wanted = t.subs.iter().fold(0, |acc, (_, m)| acc | m);
        let keep = if self.quit_dump {
            1 << libc::SIGQUIT
        } else {
            0
        };
        for sig in mask_signals(t.caught & !wanted & !keep) {
            signal::unwant(sig);
            t.caught &= !(1 << sig);
        }
        self.sig_watch.store(t.caught, Relaxed);
        self.signals_wanted.store(!t.subs.is_empty(), Relaxed);
    }

    /// The program is over: every signal this runtime caught is released.
    pub fn release_signals(&self) {
        let mut t = self.signals.lock().expect("signals");
        for sig in mask_signals(t.caught) {
            signal::unwant(sig);
        }
        t.caught = 0;
        t.subs.clear();
        self.sig_watch.store(0, Relaxed);
    }

    /// sysmon's look at the handler's counts: signals delivered since the
    /// last look become pending, and an M is woken to relay them.
    fn poll_signals(&self) {
        if self.sig_watch.load(Relaxed) == 0 {
            return;
        }
        let mut t = self.signals.lock().expect("signals");
        let mut fresh = 0;
        for sig in mask_signals(t.caught) {
            let n = signal::received(sig);
            if n != t.seen[sig] {
                t.seen[sig] = n;
                fresh |= 1 << sig;
            }
        }
        drop(t);
        if fresh != 0 {
            self.sig_pending.fetch_or(fresh, Relaxed);
            let _s = self.sched.lock().expect("sched");
            self.sched_cv.notify_one();
        }
    }

    /// The channels registered for `sig`.
    pub fn signal_chans(&self, sig: usize) -> Vec<u64> {
        let t = self.signals.lock().expect("signals");
        t.subs
            .iter()
            .filter(|(_, m)| m & 1 << sig != 0)
            .map(|(c, _)| *c)
            .collect()
    }

    /// Every goroutine left once the Ms stopped, with its state, for a
    /// `SIGQUIT` dump: the runnable ones (a G preempted by the end of the
    /// program among them), then the parked ones with their wait reasons.
    pub fn drain_all(&self) -> Vec<(Box<GState>, &'static str)> {
        let mut s = self.sched.lock().expect("sched");
        let mut all: Vec<(Box<GState>, &'static str)> = Vec::new();
        let runnext: Vec<Box<GState>> = s.runnext.iter_mut().filter_map(Option::take).collect();
        for g in runnext.into_iter().chain(s.runq.drain(..)) {
            all.push((g, "runnable"));
        }
        for (_, g) in s.parked.drain() {
            let reason = g.wait_reason;
            all.push((g, reason));
        }
        all.sort_by_key(|(g, _)| g.id);
        all
    }

    /// A new goroutine with an empty stack (registers nil), registered in
    /// allgs: a dead one reused when there is one, as Go's gFree lists.
    ///
    /// `scanned`: the mark cycle under way, if any (the new G's first values
    /// are copied in with the barrier, so its stack counts as scanned).
    pub fn new_g(
        &self,
        min_regs: usize,
        entry: VecDeque<Entry>,
        scanned: Option<u64>,
    ) -> Box<GState> {
        let id = self.next_gid.fetch_add(1, Relaxed);
        let reused = self.free_gs.lock().expect("free gs").pop();
        if let Some(mut g) = reused.filter(|g| g.cached_regs.len() >= min_regs) {
            g.id = id;
            g.entry = entry;
            g.regs.set_scan_limit(min_regs);
            g.regs.mark_scanned(scanned.unwrap_or(0));
            self.allgs
                .0
                .lock()
                .expect("allgs")
                .insert(id, g.regs.clone());
            self.ngoroutines.fetch_add(1, Relaxed);
            return g;
        }
        let array = crate::interp::new_regs(min_regs.max(INITIAL_REGS).next_power_of_two());
        let regs = Arc::new(RegFile::new(array.clone()));
        regs.set_scan_limit(min_regs);
        regs.mark_scanned(scanned.unwrap_or(0));
        self.allgs.0.lock().expect("allgs").insert(id, regs.clone());
        self.ngoroutines.fetch_add(1, Relaxed);
        Box::new(GState {
            id,
            regs,
            frames: Vec::new(),
            top: 0,
            cached_regs: array,
            retired_regs: Vec::new(),
            panicking: None,
            defer_count: 0,
            mutator: Mutator::new(),
            entry,
            resuming: false,
            resume_unwind: false,
            wake: Arc::new(AtomicU64::new(0)),
            wait_reason: "",
        })
    }

    /// Bytes held by live goroutines outside the heap (Go's StackInuse): their
    /// register arrays and fixed records (frame lists not counted).
    pub fn stack_bytes(&self) -> usize {
        let fixed = std::mem::size_of::<GState>() + std::mem::size_of::<RegFile>() + 64;
        self.allgs
            .0
            .lock()
            .expect("allgs")
            .values()
            .map(|r| r.len() * 8 + fixed)
            .sum()
    }

    /// A goroutine finished: its stack is no longer a root, and the G is
    /// kept for reuse, cleared (its registers point at nothing the collector
    /// keeps alive any more).
    pub fn retire(&self, mut g: Box<GState>) {
        self.allgs.0.lock().expect("allgs").remove(&g.id);
        self.ngoroutines.fetch_sub(1, Relaxed);
        if !g.retired_regs.is_empty() || g.cached_regs.len() > MAX_REUSED_REGS {
            return;
        }
        for r in g.cached_regs.iter() {
            r.store(crate::value::Value::NIL.bits(), Relaxed);
        }
        g.frames.clear();
        g.top = 0;
        g.panicking = None;
        g.defer_count = 0;
        g.mutator = Mutator::new();
        g.resuming = false;
        g.resume_unwind = false;
        g.wake.store(0, Relaxed);
        g.wait_reason = "";
        let mut free = self.free_gs.lock().expect("free gs");
        if free.len() < MAX_FREE_GS {
            free.push(g);
        }
    }

    /// Ends the slice of the G an M was running: it yielded (runnable
    /// again), parked, or finished (`None`: finished or the M stops). One
    /// step under the scheduler's lock with the M's `running` count, so the
    /// deadlock check never sees a G in flight between the two.
    pub fn end_slice(&self, g: Option<Box<GState>>, park: bool) {
        let mut s = self.sched.lock().expect("sched");
        s.running -= 1;
        let Some(g) = g else { return };
        if park && !s.ready_early.remove(&g.id) {
            s.parked.insert(g.id, g);
        } else {
            // Yielded (or woken before it parked): behind the others.
            s.runq.push_back(g);
            drop(s);
            self.sched_cv.notify_one();
        }
    }

    /// The program is over (main returned, a goroutine failed, os.Exit):
    /// records the first outcome and stops every M at its next chance.
    pub fn finish(&self, outcome: Result<(), crate::interp::Stop>) {
        let mut exit = self.exit.lock().expect("exit");
        if exit.is_none() {
            *exit = Some(outcome);
        }
        drop(exit);
        self.done.store(true, Relaxed);
        for p in self.ps.iter() {
            p.preempt.store(true, Relaxed);
        }
        let _s = self.sched.lock().expect("sched");
        self.sched_cv.notify_all();
    }

    /// The outcome recorded by `finish`.
    pub fn take_outcome(&self) -> Result<(), crate::interp::Stop> {
        self.exit.lock().expect("exit").take().unwrap_or(Ok(()))
    }

    /// Makes `g` runnable: next on P `pid` when given (Go's `runnext`: a
    /// goroutine just created or woken by the running one runs as soon as
    /// it stops, on the same M, with no other M woken), else queued.
    pub fn push_runnable(&self, g: Box<GState>, pid: Option<usize>) {
        let mut s = self.sched.lock().expect("sched");
        if Self::enqueue(&mut s, g, pid) {
            drop(s);
            self.sched_cv.notify_one();
        }
    }

    /// Puts a runnable G in `pid`'s runnext slot (the G there moves to the
    /// queue) or the queue; whether an idle M should be woken.
    fn enqueue(s: &mut Sched, g: Box<GState>, pid: Option<usize>) -> bool {
        match pid.and_then(|p| s.runnext.get_mut(p)) {
            Some(slot) => match slot.replace(g) {
                Some(old) => {
                    s.runq.push_back(old);
                    true
                }
                None => false,
            },
            None => {
                s.runq.push_back(g);
                true
            }
        }
    }

    /// Makes the parked G `gid` runnable (or, if its M has not parked it
    /// yet, records the wake for `end_slice`); `pid`: the P of the waker,
    /// whose runnext it takes (see `push_runnable`).
    pub fn ready(&self, gid: u64, pid: Option<usize>) {
        let mut s = self.sched.lock().expect("sched");
        if Self::make_ready(&mut s, gid, pid) {
            drop(s);
            self.sched_cv.notify_one();
        }
    }

    fn make_ready(s: &mut Sched, gid: u64, pid: Option<usize>) -> bool {
        if let Some(g) = s.parked.remove(&gid) {
            Self::enqueue(s, g, pid)
        } else {
            s.ready_early.insert(gid);
            false
        }
    }

    /// The next thing for the M holding `p` to do: a runnable G, a due timer
    /// to deliver, or the deadlock. Sleeps (as a blocking region of the P,
    /// so the collector can stop the world meanwhile) while the only hope is
    /// a timer, another M or a signal.
    ///
    /// `idle` runs once (without the lock) before the M first goes to sleep:
    /// the M flushes the program's buffered output there, so what a program
    /// printed shows once it waits.
    pub fn find_runnable(&self, p: &mut P, pid: usize, idle: &mut dyn FnMut(&mut P)) -> Found {
        let mut idled = false;
        loop {
            let mut s = self.sched.lock().expect("sched");
            if self.done.load(Relaxed) {
                return Found::Exit;
            }
            // Due timers first: a sleeper woken now competes fairly with the
            // queue. (Lock order: sched, then timers.)
            let (due, next_deadline) = {
                let mut t = self.timers.lock().expect("timers");
                (t.pop_due(Instant::now()), t.next_deadline())
            };
            match due {
                Some(TimerWhat::Wake(gid)) => {
                    Self::make_ready(&mut s, gid, None);
                    continue;
                }
                Some(TimerWhat::Send { chan, .. }) => {
                    // Delivering counts as running: the tick may wake a G.
                    s.running += 1;
                    return Found::TimerSend(chan);
                }
                None => {}
            }
            if self.sig_pending.load(Relaxed) != 0 {
                s.running += 1;
                return Found::Signals(self.sig_pending.swap(0, Relaxed));
            }
            // Own runnext, the queue, then another P's runnext (its M is
            // busy with a G, or about to come back for it: either way this
            // idle M may as well run it).
            let next = s.runnext.get_mut(pid).and_then(Option::take);
            let next = next
                .or_else(|| s.runq.pop_front())
                .or_else(|| s.runnext.iter_mut().find_map(Option::take));
            if let Some(g) = next {
                s.running += 1;
                self.ps[pid].schedtick.fetch_add(1, Relaxed);
                self.ps[pid].preempt.store(false, Relaxed);
                return Found::G(g);
            }
            if next_deadline.is_none() && s.running == 0 && !self.signals_wanted.load(Relaxed) {
                let parked = s.parked.drain().map(|(_, g)| *g).collect();
                return Found::Deadlock(parked);
            }
            if !idled {
                idled = true;
                drop(s);
                idle(p);
                continue;
            }
            let wait = next_deadline.map(|when| when.saturating_duration_since(Instant::now()));
            p.blocking(|| match wait {
                Some(d) => drop(self.sched_cv.wait_timeout(s, d).expect("sched")),
                None => drop(self.sched_cv.wait(s).expect("sched")),
            });
        }
    }

    /// Arms a timer; returns its id.
    pub fn add_timer(&self, when: Instant, what: TimerWhat) -> u64 {
        let id = self.timers.lock().expect("timers").add(when, what);
        // An M sleeping until a later deadline must look again.
        self.sched_cv.notify_all();
        id
    }

    /// Stops a timer; whether it was pending.
    pub fn stop_timer(&self, id: u64) -> bool {
        self.timers
            .lock()
            .expect("timers")
            .live
            .remove(&id)
            .is_some()
    }

    /// Re-arms timer `id` (or arms it again after it fired or stopped);
    /// whether it was pending.
    pub fn reset_timer(&self, id: u64, when: Instant, what: TimerWhat) -> bool {
        let mut t = self.timers.lock().expect("timers");
        let was = t.live.insert(id, (when, what)).is_some();
        t.heap.push(Reverse((when, id)));
        drop(t);
        self.sched_cv.notify_all();
        was
    }

    /// Parks goroutine `gid` on semaphore `key` (called under the table's lock).
    pub fn sema_enqueue(semas: &mut Semas, key: u64, gid: u64) {
        semas
            .queues
            .entry(key)
            .or_default()
            .push_back(SemaWaiter { gid });
    }

    /// Makes runnable the Gs a semaphore operation on P `pid` woke.
    pub fn sema_flush(&self, semas: &mut Semas, pid: usize) {
        for gid in std::mem::take(&mut semas.woken) {
            self.ready(gid, Some(pid));
        }
    }

    /// sysmon: a thread with no P that preempts Gs running past their time
    /// slice and asks for a collection when none ran for two minutes. Returns
    /// when the program ends.
    ///
    /// `flush` runs every [`OUTPUT_FLUSH`]: output a busy program printed
    /// shows within that time (an idle M flushes at once).
    pub fn sysmon(&self, heap: &weft_gc::Heap, flush: &dyn Fn()) {
        let mut last_flush = Instant::now();
        let mut last_tick: Vec<(u64, Instant)> = self
            .ps
            .iter()
            .map(|p| (p.schedtick.load(Relaxed), Instant::now()))
            .collect();
        let mut last_gc = (heap.stats().cycles, Instant::now());
        while !self.done.load(Relaxed) {
            std::thread::sleep(SYSMON_TICK);
            self.poll_signals();
            let now = Instant::now();
            if now - last_flush >= OUTPUT_FLUSH {
                flush();
                last_flush = now;
            }
            for (p, last) in self.ps.iter().zip(last_tick.iter_mut()) {
                let tick = p.schedtick.load(Relaxed);
                if tick != last.0 {
                    *last = (tick, now);
                } else if now - last.1 >= TIME_SLICE {
                    p.preempt.store(true, Relaxed);
                    last.1 = now;
                }
            }
            let cycles = heap.stats().cycles;
            if cycles != last_gc.0 {
                last_gc = (cycles, now);
            } else if now - last_gc.1 >= Duration::from_secs(120) {
                heap.request_cycle();
                last_gc = (cycles, now);
            }
        }
    }
}

/// The value of `WEFTMAXPROCS`, or the number of CPUs.
pub fn maxprocs_setting() -> usize {
    std::env::var("WEFTMAXPROCS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .min(256)
}
