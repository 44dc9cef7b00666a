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
//! `WEFTMAXPROCS` run tokens (Go's Ps as the scheduler sees them) limit
//! how many Ms run Weft code at once. The program starts one M per token;
//! each M owns a collector P (`gc::P`, twice as many as tokens exist) and
//! its local run queue. An M blocked in a native call gives its token back
//! (`enter_syscall`), and sysmon starts another M while work waits, a token
//! is free and no M sleeps; an M coming back takes a token or, with none
//! free, yields its G to the global queue (Go's exitsyscall0). Each P has a
//! lock-free local run queue with a `runnext` slot ([`crate::runq`]), whose
//! G inherits the time slice of the one that readied it; a global queue
//! under the scheduler's lock takes yielded Gs, timer wakes without a P and
//! ring overflow. An M looks in its P's queue, the global queue, then
//! steals half of another P's ring (spinning, at most half the busy Ms at
//! once); with nothing found it sleeps on a condvar inside `P::blocking`
//! (so the collector can stop the world without it), woken by `wakep` when
//! work lands in a ring or the global queue and no M is spinning.
//!
//! The program's end (`finish`) makes `Runtime::exit_wake` readable, so
//! natives waiting for input give up ([`crate::blocking`]) and every M can
//! be joined.
//!
//! Invariants:
//! - A G is in exactly one place: running on an M (owned by that M's `Exec`),
//!   in a P's local queue (ring or `runnext`), in the global queue, or in
//!   `Parked::table`. A waker that finds a G not yet parked (its M is
//!   between registering the wait and handing the G over) records the wake
//!   in `Parked::ready_early`; `end_slice` checks it.
//! - Only the M holding P n pushes onto P n's local queue; any M pops or
//!   steals from it.
//! - No M sleeps while work it could take is visible (the SeqCst fences of
//!   `wakep` and the sleeper's last look), and the M that takes the lock
//!   for the last sleep with no work, no timer and no signal wanted reports
//!   the deadlock (`Sched::active`).
//! - A parked G never grows its register array, so a waiter's `regs` (a
//!   clone of the G's array taken when it registered) is the array the G will
//!   read when it runs again. Values handed to a parked G are written there
//!   with the write barrier (another goroutine's stack may already be black).
//! - Lock order: a channel stripe of `chans` (several only through
//!   [`ChanLocks::lock_all`], in stripe order) or `semas`, then `sched`,
//!   then `parked` or `timers`; `ready` and `end_slice` let go of `parked` before they queue
//!   the G. No lock is held across an allocation or any other safepoint,
//!   nor while leaving a blocking region (a stop-the-world would wait for a
//!   thread blocked on the lock forever).
//! - Every G's registers are roots through [`AllGs`]: a stopped G's during
//!   the concurrent mark (by the collector, or by its own M as it stops:
//!   `RegFile::scan_stopped`, also from its assist before it parks), a G
//!   that kept running in mark termination. A channel with waiters is
//!   reachable from the waiters' registers (it is an operand of the
//!   instruction they are parked in), so the wait queues key channels by
//!   address without keeping them alive.

use crate::gobj::{AllGList, G};
use crate::interp::{Frame, Panicking, RegFile};
use crate::runq::LocalQueue;
use crate::signal::{self, NSIG};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{
    fence, AtomicBool, AtomicU64, AtomicUsize,
    Ordering::{AcqRel, Relaxed, SeqCst},
};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use weft_gc::{AllocError, Heap, Mutator, RootProvider, StackScan, Tracer, P};

/// Hashing for the runtime's tables keyed by goroutine ids, channel
/// addresses, semaphore keys and timer ids: a multiply and a rotate (the
/// keys are not attacker-chosen strings; SipHash cost pingpong 16% of its
/// time in these tables).
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHash;

impl std::hash::BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

/// The hasher of [`IdHash`].
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing; the rotate brings the well-mixed high bits down
        // to where hashbrown takes its bucket index from.
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(26);
    }
}

/// A map keyed by a runtime id.
pub(crate) type IdMap<V> = HashMap<u64, V, IdHash>;

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
    /// Fixed for the G's life: the G object's `REGS` word holds the same
    /// `Arc` for the stack scan (see `crate::gobj`).
    pub regs: Arc<RegFile>,
    pub frames: Vec<Frame>,
    /// One past the last value of the latest `MULTI` call or return (absolute).
    pub top: usize,
    /// The register array, as `regs` holds it (only `Exec::ensure_regs` replaces it).
    ///
    /// Invariant (the interpreter's unchecked register access relies on it):
    /// for every frame in `frames`, `base + max_registers + 1` of its
    /// function is below the array's length (the frame and two scratch
    /// registers above it). Pushing a frame grows the array first
    /// (`push_frame`, `enter_inline!`), a replacement is always larger, and
    /// the array never shrinks.
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

/// allgs (every G object: [`AllGList`]) and the goroutine stacks as roots;
/// and the Ps' scheduler records, to ask running Gs to stop for their scan.
///
/// A provider of `RootKind::Stacks`: the collector scans it concurrently.
/// It marks the G objects themselves once a cycle, in the concurrent scan
/// (any G object alive at the cycle's start is still in allgs then, or
/// destroyed and garbage; one allocated since is black), and the live Gs'
/// registers.
pub(crate) struct AllGs {
    pub list: AllGList,
    ps: Arc<[PRt]>,
    /// The concurrent stack scan under way (see [`StackJob`]).
    job: Mutex<Option<Arc<StackJob>>>,
    /// The mark cycle whose concurrent scan marked the G objects.
    objects_marked: AtomicU64,
}

/// One cycle's concurrent scan of the goroutine stacks, shared out in
/// chunks: the coordinator takes them in turn, and so do mark workers and
/// assists that run out of grey objects (`RootProvider::scan_job`). Two
/// scanners never scan one stack at once: each claims the G first
/// (`RegFile::state`), and a stack scanned in this cycle is skipped.
struct StackJob {
    epoch: u64,
    stacks: Vec<Arc<RegFile>>,
    /// The first stack no scanner has taken yet.
    next: AtomicUsize,
}

impl StackJob {
    /// Scans the next chunk of stacks; whether there was one.
    fn scan_chunk(&self, tracer: &mut Tracer<'_>) -> bool {
        let start = self.next.fetch_add(STACKS_PER_CHUNK, Relaxed);
        let Some(chunk) = self.stacks.get(start..).filter(|c| !c.is_empty()) else {
            return false;
        };
        for regs in chunk.iter().take(STACKS_PER_CHUNK) {
            regs.scan_roots(tracer);
        }
        true
    }
}

/// Shards of the parked table (a power of two).
const PARKED_SHARDS: usize = 16;

/// Stacks in one chunk of the concurrent stack scan (see `StackJob`).
const STACKS_PER_CHUNK: usize = 64;

/// Shards of the dead-G free lists (a power of two).
const FREE_G_SHARDS: usize = 8;

impl AllGs {
    fn new(ps: Arc<[PRt]>) -> AllGs {
        AllGs {
            list: AllGList::new(),
            ps,
            job: Mutex::new(None),
            objects_marked: AtomicU64::new(0),
        }
    }

    /// Every live G's register file, one shard at a time; with `objects`,
    /// every G object's address too.
    fn snapshot(&self, mut objects: Option<&mut Vec<usize>>) -> Vec<Arc<RegFile>> {
        let mut all = Vec::new();
        self.list.each(|obj, live| {
            if let Some(objects) = objects.as_deref_mut() {
                objects.push(obj.addr());
            }
            if let Some((_, regs)) = live {
                all.push(regs.clone());
            }
        });
        all
    }

    /// Whether `f` holds for any live G's register file.
    fn any(&self, f: impl Fn(&RegFile) -> bool) -> bool {
        let mut found = false;
        self.list.each(|_, live| {
            found = found || live.is_some_and(|(_, regs)| f(regs));
        });
        found
    }
}

/// How long a thief leaves a victim's lone `runnext` G to its own M before
/// taking it (Go's runqgrab sleeps 3 us).
const RUNNEXT_GRACE: Duration = Duration::from_micros(3);

/// How long the concurrent stack scan waits for running Gs to stop and
/// scan themselves before leaving them to mark termination (a G inside a
/// long native call never reaches a safepoint).
const STACK_SCAN_WAIT: Duration = Duration::from_millis(2);

impl RootProvider for AllGs {
    fn scan_roots(&self, tracer: &mut Tracer<'_>) {
        // A snapshot, so goroutines come and go while the stacks are scanned
        // (one created meanwhile counts as scanned: see `Runtime::new_g`).
        // The G objects are marked once a cycle, off the pauses.
        let mark_objects = match tracer.stack_scan() {
            StackScan::All => true,
            StackScan::Concurrent { epoch } => self.objects_marked.swap(epoch, Relaxed) != epoch,
            StackScan::Final { .. } => false,
        };
        let mut objects = Vec::new();
        let all = self.snapshot(mark_objects.then_some(&mut objects));
        for obj in objects {
            tracer.mark_ptr(obj);
        }
        let StackScan::Concurrent { epoch } = tracer.stack_scan() else {
            for regs in &all {
                regs.scan_roots(tracer);
            }
            return;
        };
        // Shared out: markers and assists take chunks too (`scan_job`).
        let job = Arc::new(StackJob {
            epoch,
            stacks: all,
            next: AtomicUsize::new(0),
        });
        *self.job.lock().expect("stack job") = Some(job.clone());
        while job.scan_chunk(tracer) {
            tracer.checkpoint();
        }
        *self.job.lock().expect("stack job") = None;
        let all = &job.stacks;
        // Running Gs were skipped: as Go's suspendG, ask each to stop at its
        // next safepoint (its M then scans its stack: `scan_stopped`) and
        // scan those that stopped without, for a little while; what is left
        // is mark termination's.
        let mut pending: Vec<&Arc<RegFile>> = all
            .iter()
            .filter(|r| match r.scan_pending(epoch) {
                Some(Some(pid)) => {
                    if let Some(p) = self.ps.get(pid) {
                        p.preempt.store(true, Relaxed);
                    }
                    true
                }
                Some(None) => true,
                None => false,
            })
            .collect();
        let deadline = Instant::now() + STACK_SCAN_WAIT;
        while !pending.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(50));
            pending.retain(|r| {
                r.scan_roots(tracer);
                r.scan_pending(epoch).is_some()
            });
        }
        // What the last chunk and the stopped Gs added counts as credit too.
        tracer.checkpoint();
    }

    fn unscanned(&self, epoch: u64) -> bool {
        // A G running on an M without a run token is inside a blocking
        // native (or waiting to come back from one): it will not reach a
        // safepoint soon, so another pass would only wait for it; mark
        // termination scans it.
        self.any(|r| match r.scan_pending(epoch) {
            Some(Some(pid)) => self.ps.get(pid).is_some_and(|p| p.has_token.load(Relaxed)),
            Some(None) => true,
            None => false,
        })
    }

    fn scan_job(&self, tracer: &mut Tracer<'_>) -> bool {
        let Some(job) = self.job.lock().expect("stack job").clone() else {
            return false;
        };
        tracer.stack_scan() == (StackScan::Concurrent { epoch: job.epoch })
            && job.scan_chunk(tracer)
    }

    fn holds(&self, addr: usize) -> bool {
        self.list.holds(addr)
    }
}

/// A goroutine parked on a channel (Go's sudog). A select parks one entry
/// per case, all sharing the G's `wake` word: whoever dequeues an entry
/// claims the G by moving `wake` from 0 to its wake code ([`Waiter::claim`]),
/// so of a select's entries only the first dequeued counts; the others are
/// stale from then on, skipped by whoever dequeues them, and removed by the
/// G itself when it resumes (`Exec::op_select`), as Go's `selectDone`.
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
}

impl Waiter {
    /// Claims the parked G for this entry with `status` (`WAKE_DELIVERED`
    /// or `WAKE_CLOSED`); `false` if another entry of its select already
    /// has. Invariant: a G's `wake` is 0 from the moment it registers
    /// waiters until one is claimed, and every stale entry is gone before
    /// the G can park again (it removes them when it resumes), so a claim
    /// can never succeed on an entry of an earlier park.
    pub fn claim(&self, status: u64) -> bool {
        self.wake
            .compare_exchange(0, self.case << 2 | status, AcqRel, Relaxed)
            .is_ok()
    }
}

/// The goroutines parked on one channel, FIFO.
#[derive(Default)]
pub(crate) struct ChanQueues {
    pub recvq: VecDeque<Waiter>,
    pub sendq: VecDeque<Waiter>,
}

/// The channel wait queues of the channels of one lock stripe that have
/// waiters (see [`ChanLocks`]).
#[derive(Default)]
pub(crate) struct Chans {
    pub queues: IdMap<ChanQueues>,
    /// Emptied queue pairs kept for the next channel that gets a waiter:
    /// a channel gains and loses its entry at every park, and allocating
    /// the two deques each time was a tenth of pingpong's profile.
    spare: Vec<ChanQueues>,
}

/// How many emptied queue pairs each stripe's `Chans` keeps.
const SPARE_CHAN_QUEUES: usize = 16;

impl Chans {
    /// The wait queues of channel `addr`, made (or reused) if it has none.
    pub fn queues_for(&mut self, addr: u64) -> &mut ChanQueues {
        let spare = &mut self.spare;
        self.queues
            .entry(addr)
            .or_insert_with(|| spare.pop().unwrap_or_default())
    }

    /// Drops channel `addr`'s entry if both its queues are empty.
    fn drop_if_empty(&mut self, addr: u64) {
        if self
            .queues
            .get(&addr)
            .is_some_and(|q| q.recvq.is_empty() && q.sendq.is_empty())
        {
            if let Some(q) = self.queues.remove(&addr) {
                if self.spare.len() < SPARE_CHAN_QUEUES {
                    self.spare.push(q);
                }
            }
        }
    }

    /// Removes goroutine `gid`'s entries from channel `addr`'s queues (a
    /// select's stale entries, when it resumes).
    pub fn remove_waiter(&mut self, gid: u64, addr: u64) {
        if let Some(q) = self.queues.get_mut(&addr) {
            q.recvq.retain(|w| w.gid != gid);
            q.sendq.retain(|w| w.gid != gid);
            self.drop_if_empty(addr);
        }
    }

    /// The first receiver waiting on `addr` that could be claimed with
    /// `status`, unlinked (stale select entries before it are dropped).
    pub fn pop_receiver(&mut self, addr: u64, status: u64) -> Option<Waiter> {
        self.pop_claimed(addr, status, |q| &mut q.recvq)
    }

    /// The first sender waiting on `addr` that could be claimed, likewise.
    pub fn pop_sender(&mut self, addr: u64, status: u64) -> Option<Waiter> {
        self.pop_claimed(addr, status, |q| &mut q.sendq)
    }

    fn pop_claimed(
        &mut self,
        addr: u64,
        status: u64,
        side: fn(&mut ChanQueues) -> &mut VecDeque<Waiter>,
    ) -> Option<Waiter> {
        let q = self.queues.get_mut(&addr)?;
        let mut found = None;
        while let Some(w) = side(q).pop_front() {
            if w.claim(status) {
                found = Some(w);
                break;
            }
        }
        self.drop_if_empty(addr);
        found
    }
}

/// How many lock stripes the channels are spread over.
const CHAN_STRIPES: usize = 64;

/// One stripe: its own cache line, so Ms working on channels of different
/// stripes do not share one.
#[repr(align(64))]
#[derive(Default)]
struct ChanStripe(Mutex<Chans>);

/// The channel locks: a channel's buffer, closed flag and wait queues are
/// guarded by the lock of its stripe (its address hashed), Go's per-channel
/// `hchan.lock` with channels sharing a lock only when they share a
/// stripe. Lock order: a stripe lock is taken alone, or several at once by
/// [`ChanLocks::lock_all`] in ascending stripe order (Go's `sellock`); the
/// parked-table, run-queue and timer locks may be taken while one is held,
/// never the other way round.
pub(crate) struct ChanLocks {
    stripes: Box<[ChanStripe]>,
}

impl Default for ChanLocks {
    fn default() -> ChanLocks {
        ChanLocks {
            stripes: (0..CHAN_STRIPES).map(|_| ChanStripe::default()).collect(),
        }
    }
}

impl ChanLocks {
    fn stripe_of(addr: u64) -> usize {
        // Objects are 8-byte aligned and often allocated close together:
        // multiply, then take the high bits.
        (addr.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize & (CHAN_STRIPES - 1)
    }

    /// Locks the stripe of channel `addr`.
    pub fn lock(&self, addr: u64) -> MutexGuard<'_, Chans> {
        self.stripes[Self::stripe_of(addr)]
            .0
            .lock()
            .expect("channel lock")
    }

    /// Locks the stripes of every channel in `addrs`, in ascending order,
    /// each once.
    pub fn lock_all(&self, addrs: impl IntoIterator<Item = u64>) -> ChanGuards<'_> {
        let mut stripes: Vec<usize> = addrs.into_iter().map(Self::stripe_of).collect();
        stripes.sort_unstable();
        stripes.dedup();
        ChanGuards {
            held: stripes
                .into_iter()
                .map(|i| (i, self.stripes[i].0.lock().expect("channel lock")))
                .collect(),
        }
    }
}

/// Stripe locks held together (a select).
pub(crate) struct ChanGuards<'a> {
    held: Vec<(usize, MutexGuard<'a, Chans>)>,
}

impl ChanGuards<'_> {
    /// The queues of the stripe of channel `addr`, which must be one of the
    /// channels the guards were taken for.
    pub fn of(&mut self, addr: u64) -> &mut Chans {
        let stripe = ChanLocks::stripe_of(addr);
        let at = self
            .held
            .iter()
            .position(|(i, _)| *i == stripe)
            .expect("the stripe of a locked channel");
        &mut self.held[at].1
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
    live: IdMap<(Instant, TimerWhat)>,
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
    /// `regpoison=1`: new frames poison the registers they do not clear
    /// (see `Vm::plain_call_frames`).
    pub regpoison: bool,
}

impl SchedDebug {
    /// Parses a `WEFTDEBUG` string (unknown keys ignored, as GODEBUG does).
    pub fn parse(s: &str) -> SchedDebug {
        let mut d = SchedDebug::default();
        for (k, n) in weft_gc::weftdebug_pairs(s) {
            match k {
                "schedtrace" => d.schedtrace_ms = n,
                "sigtrace" => d.sigtrace = n != 0,
                "regpoison" => d.regpoison = n != 0,
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
    queues: IdMap<VecDeque<SemaWaiter>>,
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

/// The global run queue and the Ms' sleep state, under the scheduler lock.
///
/// Invariant: `active` counts the Ms not asleep in `find_runnable` (running
/// a G, delivering a timer or a signal, or looking for work). Only an active
/// M makes a G runnable or adds work, so when the last one goes to sleep
/// with every queue empty, no timer and no signal wanted, no G can ever run
/// again: the deadlock check.
#[derive(Default)]
struct Sched {
    global: VecDeque<G>,
    active: usize,
    /// An M found the deadlock and is reporting it: no other M reports it
    /// again (it would find the parked Gs taken, and could finish the
    /// program first with an empty report).
    deadlocked: bool,
}

/// The parked Gs, under their own lock.
#[derive(Default)]
struct Parked {
    table: IdMap<G>,
    /// Wakes that came before the G's M parked it (see `end_slice`), and
    /// the wakes of Gs parked in place (`park_locked`), which their Ms
    /// collect.
    ready_early: HashSet<u64, IdHash>,
    /// Gs parked in place on their Ms (`park_locked`), with what the
    /// deadlock report says of them.
    locked: IdMap<LockedWait>,
}

/// A goroutine parked in place (`Runtime::park_locked`): why, and where
/// (innermost frame first: function, file, line), for the deadlock report.
pub(crate) struct LockedWait {
    pub reason: &'static str,
    pub traceback: crate::interp::Traceback,
}

/// The goroutines a deadlock leaves: the parked ones, and those parked in
/// place on their Ms with what the report says of them.
pub(crate) type Stuck = (Vec<G>, Vec<(u64, LockedWait)>);

/// How `Runtime::park_locked` ended.
pub(crate) enum LockedWake {
    /// `ready` was called for the G: it runs on.
    Woken,
    /// The program ended meanwhile.
    ProgramOver,

    /// No G can ever run again (this one included): the parked Gs and
    /// the others parked in place, for the report.
    Deadlock(Vec<G>, Vec<(u64, LockedWait)>),
}

/// Per-P scheduler state read by sysmon.
#[derive(Default)]
pub(crate) struct PRt {
    /// The running G should yield at its next safepoint: set by sysmon
    /// (a slice overrun), by a stack scan or the program's end, and by the
    /// collector when it stops the world (registered with
    /// `Heap::set_stop_flags`), so the fast loop tests this one flag. It is
    /// cleared only at a slice's start, followed by the re-check that
    /// registration requires.
    pub preempt: Arc<AtomicBool>,
    /// Counts G switches on this P; sysmon preempts a P whose count stands still.
    pub schedtick: AtomicU64,
    /// The M holding this P holds one of the `WEFTMAXPROCS` run tokens
    /// (written only by that M).
    has_token: AtomicBool,
}

/// The scheduler and everything goroutines wait on.
pub(crate) struct Runtime {
    sched: Mutex<Sched>,
    sched_cv: Condvar,
    /// Wakes Ms waiting in `park_locked` (paired with `sched`).
    locked_cv: Condvar,
    /// Gs parked in place that `ready` woke and whose Ms have not yet
    /// counted themselves active again: work no other M can do, but work,
    /// so the deadlock check must not fire meanwhile. (Only an active M
    /// calls `ready`, so under the `sched` lock with `active == 0` this
    /// cannot rise.)
    locked_woken: AtomicUsize,
    /// Ms parked in place now (`park_locked`).
    locked_ms: AtomicUsize,
    /// Ms inside a blocking native call now (`Exec::enter_syscall`).
    pub syscall_ms: AtomicUsize,
    /// `Sched::global.len()`, readable without the lock.
    global_len: AtomicUsize,
    /// Per P: its local run queue and `runnext`.
    locals: Box<[LocalQueue<G>]>,
    /// Split by goroutine id (`parked_shard`): every park and every wake
    /// takes one, and a single lock was shared by all Ms.
    parked: Box<[Mutex<Parked>]>,
    /// Ms asleep in `find_runnable` (waiting on `sched_cv`).
    sleepers: AtomicUsize,
    /// Ms looking through other Ps' queues (Go's nmspinning): while one is,
    /// making a G runnable wakes no sleeper.
    spinning: AtomicUsize,
    /// The earliest timer deadline, in nanoseconds since `start`
    /// (`u64::MAX`: none), so `find_runnable` locks the timers only when one
    /// may be due.
    timer_earliest: AtomicU64,
    start: Instant,
    pub chans: ChanLocks,
    pub semas: Mutex<Semas>,
    pub timers: Arc<Mutex<Timers>>,
    pub allgs: Arc<AllGs>,
    next_gid: AtomicU64,
    /// Dead Gs kept for reuse (boxed: they move in and out as pointers),
    /// one list per thread shard (`free_g_shard`), as Go keeps one per P.
    #[allow(clippy::vec_box)]
    free_gs: Box<[Mutex<Vec<G>>]>,
    /// Live goroutines (`runtime.NumGoroutine`).
    pub ngoroutines: AtomicUsize,
    /// Bytes of live goroutines' register arrays (what a cycle scans
    /// outside the heap), kept as Gs start, grow and end; sysmon hands it to
    /// the pacer (`Heap::set_root_bytes`).
    pub reg_bytes: AtomicUsize,
    /// The run-token count: `WEFTMAXPROCS` at the start, then what
    /// `runtime.GOMAXPROCS(n)` set (`set_maxprocs`).
    maxprocs: AtomicUsize,
    /// Tokens a lowered `GOMAXPROCS` still has to take back: each token an
    /// M gives back pays one off instead of becoming free (`give_token`).
    ///
    /// Invariant: free tokens + tokens held by Ms - `token_debt` =
    /// `maxprocs`, changed only under the scheduler lock by `set_maxprocs`;
    /// while the debt is positive no token is free, but for the moment
    /// between a `give_token` and its `settle_debt`.
    token_debt: AtomicUsize,
    /// Run tokens not held by any M: an M runs goroutines only while it
    /// holds one, so at most `WEFTMAXPROCS` Ms run Weft code at once however
    /// many exist. An M blocked in a native call gives its token back
    /// (`enter_syscall`) so another M can run goroutines meanwhile (Go hands
    /// the P off; here the collector Ps stay with their Ms and the token is
    /// what moves).
    tokens: AtomicUsize,
    /// Ms waiting in `exit_syscall` for a token.
    token_waiters: AtomicUsize,
    token_cv: Condvar,
    /// Ms started and not stopped (sysmon starts more, up to one per
    /// collector P, while Ms are blocked in native calls).
    ms: Mutex<usize>,
    ms_cv: Condvar,
    pub ps: Arc<[PRt]>,
    /// The program is ending: Ms and sysmon stop.
    pub done: AtomicBool,
    /// How it ended (the first outcome recorded).
    exit: Mutex<Option<Result<(), crate::interp::Stop>>>,
    /// Readable once the program is over: natives waiting for input give up
    /// (see [`crate::blocking`]), so no M blocked in a read outlives it.
    pub exit_wake: crate::blocking::ExitWake,
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
    /// The heap, for checked builds' validation of the barrier-free stores
    /// that link Gs (`link`).
    heap: Arc<Heap>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // SAFETY: the program is over and its Ms are joined (`run_program`
        // drops the runtime last): the handles left in the queues, the
        // parked table and the free lists are dropped after this, unused.
        unsafe { self.allgs.list.destroy_all() };
    }
}

/// Takes one from a count of run tokens or of token debt, unless it is 0;
/// whether it did.
fn take_one(count: &AtomicUsize) -> bool {
    count
        .fetch_update(SeqCst, SeqCst, |c| c.checked_sub(1))
        .is_ok()
}

/// A goroutine's fresh collector record: its stack is what its assist
/// shades before it parks (`weft_gc::OwnRoots`; set once here rather than
/// per time slice, which cost an atomic increment and decrement a slice).
fn g_mutator(regs: &Arc<RegFile>) -> Mutator {
    let mut m = Mutator::new();
    m.set_own_roots(Some(regs.clone()));
    m
}

/// The free-G list the calling thread uses: Ms are given shards in turn,
/// so each M mostly reuses the Gs it retired, without contention.
fn free_g_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Relaxed) & (FREE_G_SHARDS - 1);
    }
    SHARD.with(|s| *s)
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
    G(G),
    /// A due timer that sends on a channel: the caller delivers it (it needs
    /// the P and an allocation, which `find_runnable` may not do under a lock).
    TimerSend(u64),
    /// No G can ever run again: the parked ones, and those parked in
    /// place on their Ms (`park_locked`), for the report.
    Deadlock(Vec<G>, Vec<(u64, LockedWait)>),
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
    pub fn new(maxprocs: usize, nps: usize, heap: Arc<Heap>) -> Runtime {
        let ps: Arc<[PRt]> = (0..nps).map(|_| PRt::default()).collect();
        Runtime {
            sched: Mutex::new(Sched {
                global: VecDeque::new(),
                active: 0,
                deadlocked: false,
            }),
            sched_cv: Condvar::new(),
            locked_cv: Condvar::new(),
            locked_woken: AtomicUsize::new(0),
            locked_ms: AtomicUsize::new(0),
            syscall_ms: AtomicUsize::new(0),
            global_len: AtomicUsize::new(0),
            locals: (0..nps).map(|_| LocalQueue::default()).collect(),
            parked: (0..PARKED_SHARDS).map(|_| Mutex::default()).collect(),
            sleepers: AtomicUsize::new(0),
            spinning: AtomicUsize::new(0),
            timer_earliest: AtomicU64::new(u64::MAX),
            start: Instant::now(),
            chans: ChanLocks::default(),
            semas: Mutex::default(),
            timers: Arc::default(),
            allgs: Arc::new(AllGs::new(ps.clone())),
            next_gid: AtomicU64::new(1),
            free_gs: (0..FREE_G_SHARDS).map(|_| Mutex::default()).collect(),
            ngoroutines: AtomicUsize::new(0),
            reg_bytes: AtomicUsize::new(0),
            maxprocs: AtomicUsize::new(maxprocs),
            token_debt: AtomicUsize::new(0),
            tokens: AtomicUsize::new(maxprocs),
            token_waiters: AtomicUsize::new(0),
            token_cv: Condvar::new(),
            ms: Mutex::new(0),
            ms_cv: Condvar::new(),
            ps,
            done: AtomicBool::new(false),
            exit: Mutex::default(),
            exit_wake: crate::blocking::ExitWake::new(),
            signals_wanted: AtomicBool::new(false),
            signals: Arc::default(),
            sig_watch: AtomicU64::new(0),
            sig_pending: AtomicU64::new(0),
            quit_dump: false,
            debug: SchedDebug::from_env(),
            heap,
        }
    }

    /// Checked builds: validates a barrier-free store of `g` into one of the
    /// scheduler's tables (a run queue, `runnext`, the global queue, the
    /// parked table, a free list; Go's guintptr stores). Legal because
    /// allgs holds every G, so the collector finds it without a barrier;
    /// fatal, naming the store, for a G allgs does not hold (one destroyed,
    /// or never registered).
    #[track_caller]
    #[inline]
    fn link(&self, g: &G) {
        if self.heap.is_checked() {
            self.heap.check_barrier_free(g.obj());
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
    pub fn drain_all(&self) -> Vec<(G, &'static str)> {
        let mut all: Vec<(G, &'static str)> = Vec::new();
        for q in self.locals.iter() {
            while let Some(g) = q.pop() {
                all.push((g, "runnable"));
            }
        }
        let global: Vec<_> = self.sched.lock().expect("sched").global.drain(..).collect();
        for g in global {
            all.push((g, "runnable"));
        }
        for g in self.take_all_parked() {
            let reason = g.wait_reason;
            all.push((g, reason));
        }
        all.sort_by_key(|(g, _)| g.id);
        all
    }

    /// A new goroutine with an empty stack (registers nil), in allgs: a
    /// dead one reused when there is one, as Go's gFree lists, else a new G
    /// object allocated through `p` (charged to `m`, the creator's record).
    ///
    /// `scanned`: the mark cycle under way, if any (the new G's first values
    /// are copied in with the barrier, so its stack counts as scanned).
    pub fn new_g(
        &self,
        p: &mut P,
        m: &mut Mutator,
        min_regs: usize,
        entry: VecDeque<Entry>,
        scanned: Option<u64>,
    ) -> Result<G, AllocError> {
        let reused = self.free_gs[free_g_shard()].lock().expect("free gs").pop();
        let mut g = match reused {
            Some(g) if g.cached_regs.len() >= min_regs => g,
            other => {
                if let Some(small) = other {
                    // Too small for this one. Not back on the list: its top
                    // would keep offering it to every larger request.
                    self.allgs.list.destroy(small);
                }
                let array = crate::interp::new_regs(min_regs.max(INITIAL_REGS).next_power_of_two());
                let regs = Arc::new(RegFile::new(array.clone()));
                let state = GState {
                    id: 0,
                    mutator: g_mutator(&regs),
                    regs: regs.clone(),
                    frames: Vec::new(),
                    top: 0,
                    cached_regs: array,
                    retired_regs: Vec::new(),
                    panicking: None,
                    defer_count: 0,
                    entry: VecDeque::new(),
                    resuming: false,
                    resume_unwind: false,
                    wake: Arc::new(AtomicU64::new(0)),
                    wait_reason: "",
                };
                self.allgs.list.alloc(p, m, &regs, 0, state)?
            }
        };
        // `scanned` was read before the allocation (a safepoint): a cycle
        // that started since has a later epoch and scans this stack, which
        // is only conservative.
        let id = self.next_gid.fetch_add(1, Relaxed);
        g.id = id;
        g.entry = entry;
        g.regs.set_scan_limit(min_regs);
        g.regs.mark_scanned(scanned.unwrap_or(0));
        g.set_goid(id);
        self.ngoroutines.fetch_add(1, Relaxed);
        self.reg_bytes.fetch_add(g.cached_regs.len() * 8, Relaxed);
        Ok(g)
    }

    /// Bytes held by live goroutines outside the heap (Go's StackInuse): their
    /// register arrays and register-file records (frame lists not counted;
    /// the G itself is a heap object).
    pub fn stack_bytes(&self) -> usize {
        let fixed = std::mem::size_of::<RegFile>() + 64;
        self.allgs
            .snapshot(None)
            .iter()
            .map(|r| r.len() * 8 + fixed)
            .sum()
    }

    /// A goroutine finished: its stack is no longer a root, and the G is
    /// kept for reuse, cleared (its registers point at nothing the collector
    /// keeps alive any more), or destroyed when its register array is too
    /// large to keep or the free list is full.
    pub fn retire(&self, mut g: G) {
        g.set_goid(0);
        self.ngoroutines.fetch_sub(1, Relaxed);
        let words = g.cached_regs.len() + g.retired_regs.iter().map(|r| r.len()).sum::<usize>();
        self.reg_bytes.fetch_sub(words * 8, Relaxed);
        if !g.retired_regs.is_empty() || g.cached_regs.len() > MAX_REUSED_REGS {
            return self.allgs.list.destroy(g);
        }
        for r in g.cached_regs.iter() {
            r.store(crate::value::Value::NIL.bits(), Relaxed);
        }
        g.frames.clear();
        g.top = 0;
        g.panicking = None;
        g.defer_count = 0;
        g.mutator = g_mutator(&g.regs);
        g.resuming = false;
        g.resume_unwind = false;
        g.wake.store(0, Relaxed);
        g.wait_reason = "";
        self.keep_free(g);
    }

    /// Puts dead G `g` on this thread's free list, or destroys it when the
    /// list is full.
    fn keep_free(&self, g: G) {
        let mut free = self.free_gs[free_g_shard()].lock().expect("free gs");
        if free.len() < MAX_FREE_GS / FREE_G_SHARDS {
            self.link(&g);
            free.push(g);
            return;
        }
        drop(free);
        self.allgs.list.destroy(g);
    }

    /// Ends the slice of the G the M holding P `pid` was running: it
    /// yielded (runnable again, behind the others: the global queue, as Go
    /// puts a preempted G) or parked. A wake that came before this parks it
    /// (`ready_early`) makes it runnable at once, on this P.
    pub fn end_slice(&self, g: G, park: bool, pid: usize) {
        if park {
            let mut parked = self.parked_shard(g.id).lock().expect("parked");
            if !parked.ready_early.remove(&g.id) {
                self.link(&g);
                parked.table.insert(g.id, g);
                return;
            }
            drop(parked);
            return self.put_local(pid, g, false);
        }
        self.put_global(vec![g]);
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
        self.exit_wake.signal();
        for p in self.ps.iter() {
            p.preempt.store(true, Relaxed);
        }
        let _s = self.sched.lock().expect("sched");
        self.sched_cv.notify_all();
        self.locked_cv.notify_all();
    }

    /// The outcome recorded by `finish`.
    pub fn take_outcome(&self) -> Result<(), crate::interp::Stop> {
        self.exit.lock().expect("exit").take().unwrap_or(Ok(()))
    }

    /// Makes `g` runnable: next on P `pid` when given (Go's `runnext`: a
    /// goroutine just created or woken by the running one runs as soon as it
    /// stops, on the same M), else on the global queue. Only the M holding
    /// `pid` may pass it (it owns that P's queue).
    pub fn push_runnable(&self, g: G, pid: Option<usize>) {
        match pid {
            Some(pid) => self.put_local(pid, g, true),
            None => self.put_global(vec![g]),
        }
    }

    /// Owner of P `pid` only: puts `g` in its `runnext` slot (`next`) or its
    /// ring; on overflow, half the ring moves to the global queue (Go's
    /// runqputslow). Wakes a sleeping M when a G lands in the ring: a
    /// `runnext` G is for this M, which runs it as soon as it stops.
    fn put_local(&self, pid: usize, g: G, next: bool) {
        self.link(&g);
        let q = &self.locals[pid];
        let mut pending = if next { q.push_next(g) } else { q.push(g) };
        if next && pending.is_ok() {
            return;
        }
        while let Err(g) = pending {
            let mut batch = q.take_half();
            if batch.is_empty() {
                pending = q.push(g);
                continue;
            }
            batch.push(g);
            return self.put_global(batch);
        }
        self.wakep();
    }

    /// Appends `gs` to the global queue and wakes a sleeping M.
    /// (Boxed: Gs move between queues as pointers.)
    #[allow(clippy::vec_box)]
    fn put_global(&self, gs: Vec<G>) {
        for g in &gs {
            self.link(g);
        }
        let mut s = self.sched.lock().expect("sched");
        s.global.extend(gs);
        self.global_len.store(s.global.len(), Relaxed);
        drop(s);
        self.wakep();
    }

    /// Wakes a sleeping M to look for the work just made runnable, unless
    /// one is spinning already (it will find it) or none sleeps (Go's wakep).
    ///
    /// Pairs with the sleeper's check in `find_runnable`: both sides issue a
    /// SeqCst fence between their write (the work; `sleepers`/`spinning`) and
    /// their read of the other's, so either the sleeper sees the work or this
    /// sees the sleeper, and the notify is taken under the lock it waits
    /// with.
    fn wakep(&self) {
        fence(SeqCst);
        if self.sleepers.load(SeqCst) > 0 && self.spinning.load(SeqCst) == 0 {
            let _s = self.sched.lock().expect("sched");
            self.sched_cv.notify_one();
        }
    }

    /// Makes the parked G `gid` runnable (or, if its M has not parked it
    /// yet, records the wake for `end_slice`); `pid`: the P of the waker
    /// (held by the caller), whose runnext it takes; `None`: global queue.
    pub fn ready(&self, gid: u64, pid: Option<usize>) {
        let mut parked = self.parked_shard(gid).lock().expect("parked");
        match parked.table.remove(&gid) {
            Some(g) => {
                drop(parked);
                self.push_runnable(g, pid);
            }
            None => {
                let fresh = parked.ready_early.insert(gid);
                if fresh && parked.locked.contains_key(&gid) {
                    self.locked_woken.fetch_add(1, SeqCst);
                    // (`sched` comes before `parked` in the lock order.)
                    drop(parked);
                    let _s = self.sched.lock().expect("sched");
                    self.locked_cv.notify_all();
                }
            }
        }
    }

    /// Parks goroutine `gid` in place: its M, holding P `pid`, cannot let
    /// go of it, because the G is inside a function called back by native
    /// code (`sync.Once.Do`'s f, a `String` method `fmt` calls, a
    /// `sort.Slice` less), so part of its state is on the M's Rust stack.
    /// Go parks such a goroutine with its M locked to it (a cgo callback's
    /// lockedm); here the M gives its run token back, as a blocking native
    /// call does, and waits in a blocking region until `ready(gid)`.
    ///
    /// The G must already be registered where its waker will find it (a
    /// channel's or semaphore's queue, a timer). While it waits it counts
    /// as asleep for the deadlock check (`Sched::active`): if every other
    /// M sleeps too with no timer or signal to come, no G can run again,
    /// and whichever M sees that last reports the deadlock.
    ///
    /// The caller holds a reservation (`reserve_locked_m`, taken before
    /// the G registered its wait), which this gives back.
    pub fn park_locked(&self, p: &mut P, pid: usize, gid: u64, wait: LockedWait) -> LockedWake {
        {
            let mut parked = self.parked_shard(gid).lock().expect("parked");
            if parked.ready_early.remove(&gid) {
                self.release_locked_m();
                return LockedWake::Woken;
            }
            parked.locked.insert(gid, wait);
        }
        self.enter_syscall(pid);
        p.blocking(|| {
            let mut s = self.sched.lock().expect("sched");
            s.active -= 1;
            let outcome = loop {
                {
                    let mut parked = self.parked_shard(gid).lock().expect("parked");
                    if parked.ready_early.remove(&gid) {
                        // The wake stops counting as work; this M counts
                        // as active again below, under the same lock hold.
                        if parked.locked.remove(&gid).is_some() {
                            self.locked_woken.fetch_sub(1, SeqCst);
                        }
                        break LockedWake::Woken;
                    }
                }
                if self.done.load(Relaxed) {
                    break LockedWake::ProgramOver;
                }
                let next_deadline = self.timers.lock().expect("timers").next_deadline();
                if let Some((parked, locked)) = self.deadlock(&mut s, next_deadline) {
                    break LockedWake::Deadlock(parked, locked);
                }
                // Bounded: a timer due, or an M started by sysmon that
                // then sleeps, changes what the check above sees without
                // a notify on this condvar.
                s = self
                    .locked_cv
                    .wait_timeout(s, Duration::from_millis(20))
                    .expect("sched")
                    .0;
            };
            s.active += 1;
            drop(s);
            self.release_locked_m();
            if matches!(outcome, LockedWake::Woken) {
                self.wait_for_token(pid);
            }
            outcome
        })
    }

    /// Reserves the right to park a goroutine in place (`park_locked`), if
    /// that leaves an M to run the others: an M is tied to a collector P
    /// for its life, so Ms are capped at the P count, and with every M
    /// parked in place nothing could run the goroutine that would wake
    /// one. Taken before the G registers its wait, so that a refusal
    /// leaves nothing registered (the caller raises a panic instead).
    ///
    /// Ms blocked in native calls count too (`syscall_ms`), though one may
    /// block after the test: the cap is best effort.
    pub fn reserve_locked_m(&self) -> bool {
        let cap = self.locals.len();
        self.locked_ms
            .fetch_update(SeqCst, SeqCst, |n| {
                (n + self.syscall_ms.load(SeqCst) + 2 <= cap).then_some(n + 1)
            })
            .is_ok()
    }

    /// Gives back a reservation `reserve_locked_m` took, for a park that
    /// does not happen (the program ended first).
    pub fn release_locked_m(&self) {
        self.locked_ms.fetch_sub(1, SeqCst);
    }

    /// The deadlock check, made under the `sched` lock (`s`) by an M about
    /// to sleep or parked in place: no M is active, no timer is set
    /// (`next_deadline`), no signal is wanted or pending, no G is runnable
    /// (one with no M to run it is work: sysmon starts an M), and no G
    /// parked in place has a wake its M has not yet collected. Then no G
    /// can ever run again: the first M to see it (`Sched::deadlocked`) gets
    /// the parked Gs and those parked in place, for the report. (Runnable
    /// Gs are tested, not `work_waiting`: its timer test can stay true for
    /// a stopped timer until an M with a token looks.)
    fn deadlock(&self, s: &mut Sched, next_deadline: Option<Instant>) -> Option<Stuck> {
        let stuck = s.active == 0
            && next_deadline.is_none()
            && !self.signals_wanted.load(Relaxed)
            && self.sig_pending.load(Relaxed) == 0
            && !self.any_runnable()
            && self.locked_woken.load(SeqCst) == 0;
        (stuck && !std::mem::replace(&mut s.deadlocked, true))
            .then(|| (self.take_all_parked(), self.take_all_locked()))
    }

    /// Takes every G parked in place (`park_locked`) out of the table, for
    /// the deadlock report.
    pub(crate) fn take_all_locked(&self) -> Vec<(u64, LockedWait)> {
        self.parked
            .iter()
            .flat_map(|shard| std::mem::take(&mut shard.lock().expect("parked").locked))
            .collect()
    }

    /// Empties every shard of the parked table (the deadlock report, the
    /// `SIGQUIT` dump: no M can park or wake a G meanwhile). Boxed as the
    /// table holds them (the dump keeps the boxes).
    #[allow(clippy::vec_box)]
    fn take_all_parked(&self) -> Vec<G> {
        self.parked
            .iter()
            .flat_map(|shard| {
                std::mem::take(&mut shard.lock().expect("parked").table).into_values()
            })
            .collect()
    }

    /// The shard of the parked table that holds goroutine `gid`.
    fn parked_shard(&self, gid: u64) -> &Mutex<Parked> {
        &self.parked[gid as usize & (PARKED_SHARDS - 1)]
    }

    /// Whether an M with a token would find something to do: a runnable
    /// goroutine, a due timer or a signal to relay.
    fn work_waiting(&self) -> bool {
        self.any_runnable() || self.timer_maybe_due() || self.sig_pending.load(Relaxed) != 0
    }

    /// Whether any run queue looked non-empty (global, or any P's).
    fn any_runnable(&self) -> bool {
        self.global_len.load(Relaxed) > 0 || self.locals.iter().any(|q| !q.is_empty())
    }

    /// Whether a timer may be due now (see `timer_earliest`).
    fn timer_maybe_due(&self) -> bool {
        let earliest = self.timer_earliest.load(Relaxed);
        earliest != u64::MAX && self.start.elapsed().as_nanos() as u64 >= earliest
    }

    /// Records the timer table's earliest deadline in `timer_earliest`
    /// (called with the table locked).
    fn note_earliest(&self, t: &mut Timers) {
        let ns = t.next_deadline().map_or(u64::MAX, |when| {
            when.saturating_duration_since(self.start).as_nanos() as u64
        });
        self.timer_earliest.store(ns, Relaxed);
    }

    /// Takes a G from the global queue (`None` if it is empty).
    fn pop_global(&self) -> Option<G> {
        if self.global_len.load(Relaxed) == 0 {
            return None;
        }
        let mut s = self.sched.lock().expect("sched");
        let g = s.global.pop_front();
        self.global_len.store(s.global.len(), Relaxed);
        g
    }

    /// Go's findrunnable for the M holding P `pid`: due timers and pending
    /// signals, then (every 61st time the global queue first, for
    /// fairness) this P's runnext and ring, the global queue, then stealing
    /// half of another P's ring (its runnext on the last round), spinning.
    /// With nothing found the M sleeps, as a blocking region of its P (so
    /// the collector can stop the world meanwhile), until work arrives or
    /// the next timer; the last M to sleep with nothing anywhere reports the
    /// deadlock.
    ///
    /// `idle` runs once (without any lock) before the M first goes to sleep:
    /// the M flushes the program's buffered output there, so what a program
    /// printed shows once it waits.
    pub fn find_runnable(&self, p: &mut P, pid: usize, idle: &mut dyn FnMut(&mut P)) -> Found {
        let mut idled = false;
        // Set when the last look before sleeping saw work: the next round
        // steals even past the spinning limit, so it cannot loop idle.
        let mut must_steal = false;
        loop {
            // The loop may go round without sleeping: honour a stop here.
            p.safepoint();
            if self.done.load(Relaxed) {
                return Found::Exit;
            }
            // An M waits for a token it cannot do without (its G is inside
            // a callback from native code: `wait_for_token`). Go hands such
            // an M a P; here a token holder passes its token on when its
            // slice ends (sysmon bounds a slice), and sleeps.
            // While one waits, no M here takes a free token either.
            let waiter = self.token_waiters.load(SeqCst) > 0;
            if (waiter || self.token_debt.load(Relaxed) > 0) && self.ps[pid].has_token.load(Relaxed)
            {
                // Or GOMAXPROCS was lowered: this M's token pays the debt.
                self.give_token(pid);
                self.hand_off_queue(pid);
            }
            if waiter || !self.take_token(pid) {
                // (Its queue was handed off when it lost the token.)
                // No token for this M: nothing to do but sleep until one is
                // given back (the sleep path below, skipping the search).
                idled = true;
            } else if self.timer_maybe_due() {
                let mut t = self.timers.lock().expect("timers");
                let due = t.pop_due(Instant::now());
                self.note_earliest(&mut t);
                drop(t);
                match due {
                    // A sleeper woken now competes fairly with the queue.
                    Some(TimerWhat::Wake(gid)) => {
                        self.ready(gid, Some(pid));
                        continue;
                    }
                    Some(TimerWhat::Send { chan, .. }) => return Found::TimerSend(chan),
                    None => {}
                }
            }
            if self.ps[pid].has_token.load(Relaxed) {
                if self.sig_pending.load(Relaxed) != 0 {
                    return Found::Signals(self.sig_pending.swap(0, Relaxed));
                }
                let tick = self.ps[pid].schedtick.load(Relaxed);
                let fair = if tick % 61 == 0 {
                    self.pop_global()
                } else {
                    None
                };
                let mut inherit = false;
                let found = match fair {
                    Some(g) => Some(g),
                    None => match self.locals[pid].pop_inheriting() {
                        Some((g, from_next)) => {
                            inherit = from_next;
                            Some(g)
                        }
                        None => self
                            .pop_global()
                            .or_else(|| self.steal(pid, std::mem::take(&mut must_steal))),
                    },
                };
                if let Some(g) = found {
                    // A `runnext` G runs in the slice of the G that readied
                    // it: the tick sysmon times slices by stays put.
                    if !inherit {
                        self.ps[pid].schedtick.fetch_add(1, Relaxed);
                        // A request to end the last slice does not carry
                        // over to a new one; an inherited slice keeps it,
                        // and so does a lowered GOMAXPROCS's request to
                        // give tokens back.
                        if self.token_debt.load(Relaxed) == 0 {
                            let preempt = &self.ps[pid].preempt;
                            preempt.store(false, SeqCst);
                            // A stop-the-world requested before the store
                            // had set the flag that it just cleared.
                            if self.heap.stop_requested() {
                                preempt.store(true, SeqCst);
                            }
                        }
                    }
                    return Found::G(g);
                }
            }
            if !idled {
                idled = true;
                idle(p);
                continue;
            }
            let mut s = self.sched.lock().expect("sched");
            self.sleepers.fetch_add(1, SeqCst);
            // A sleeping M holds no token (an M coming back from a native
            // call may be waiting for one: `exit_syscall`).
            self.give_token(pid);
            fence(SeqCst);
            // (A free token an M waits for in `wait_for_token` is not
            // this M's to take.)
            if self.done.load(Relaxed)
                || (self.work_waiting()
                    && self.tokens.load(SeqCst) > self.token_waiters.load(SeqCst))
            {
                self.sleepers.fetch_sub(1, SeqCst);
                must_steal = true;
                continue;
            }
            let next_deadline = {
                let mut t = self.timers.lock().expect("timers");
                t.next_deadline()
            };
            s.active -= 1;
            if let Some((parked, locked)) = self.deadlock(&mut s, next_deadline) {
                self.sleepers.fetch_sub(1, SeqCst);
                return Found::Deadlock(parked, locked);
            }
            let wait = next_deadline.map(|when| when.saturating_duration_since(Instant::now()));
            // The lock is released inside the blocking region: leaving it
            // waits for a stopped world to restart, and an M waiting for
            // the lock with its P running would keep the world from stopping.
            p.blocking(|| {
                let mut s = match wait {
                    Some(d) => self.sched_cv.wait_timeout(s, d).expect("sched").0,
                    None => self.sched_cv.wait(s).expect("sched"),
                };
                s.active += 1;
                self.sleepers.fetch_sub(1, SeqCst);
            });
        }
    }

    /// Takes a run token for the M holding `pid` unless it holds one;
    /// whether it holds one now.
    fn take_token(&self, pid: usize) -> bool {
        let held = &self.ps[pid].has_token;
        if held.load(Relaxed) {
            return true;
        }
        let taken = take_one(&self.tokens);
        held.store(taken, Relaxed);
        taken
    }

    /// The M holding `pid` gives its run token back (if it holds one), and
    /// an M waiting for one in `exit_syscall` is woken.
    fn give_token(&self, pid: usize) {
        if !self.ps[pid].has_token.swap(false, Relaxed) {
            return;
        }
        // A lowered GOMAXPROCS collects its tokens as they come back.
        if take_one(&self.token_debt) {
            return;
        }
        self.tokens.fetch_add(1, SeqCst);
        self.settle_debt();
        fence(SeqCst);
        if self.token_waiters.load(SeqCst) > 0 {
            self.token_cv.notify_one();
        }
    }

    /// The M holding P `pid` is left without a run token (it entered a
    /// blocking call, or paid a lowered GOMAXPROCS's debt): the Gs in its
    /// P's queue move to the global queue. Go hands the P's run queue on
    /// with the P; here token holders look in the global queue before they
    /// steal, so Gs left behind could wait behind busy ones forever.
    fn hand_off_queue(&self, pid: usize) {
        let mut stranded = Vec::new();
        while let Some(g) = self.locals[pid].pop() {
            stranded.push(g);
        }
        if !stranded.is_empty() {
            self.put_global(stranded);
        }
    }

    /// Pays a lowered GOMAXPROCS's debt with free tokens. `give_token` reads
    /// the debt before it frees its token and `set_maxprocs` may record one
    /// in between: whichever of them ends last settles the two here.
    fn settle_debt(&self) {
        while self.token_debt.load(SeqCst) > 0 {
            if !take_one(&self.tokens) {
                return;
            }
            if !take_one(&self.token_debt) {
                // Paid meanwhile by a token given back: this one stays free.
                self.tokens.fetch_add(1, SeqCst);
                return;
            }
        }
    }

    /// The run-token count (`runtime.GOMAXPROCS(0)`).
    pub fn maxprocs(&self) -> usize {
        self.maxprocs.load(Relaxed)
    }

    /// `runtime.GOMAXPROCS(n)`: from now on at most `n` Ms run goroutines
    /// at once (Go's procresize; `n` is capped at the number of Ps, each M
    /// holding one for its life). Returns the previous setting. Raising it
    /// frees tokens at once, which sleeping Ms (or ones sysmon starts) take;
    /// lowering it takes free tokens back and records the rest as a debt
    /// that Ms pay as they give their tokens back: every P is asked to end
    /// its slice, so each M comes back through `find_runnable`, which gives
    /// its token back while a debt stands.
    pub fn set_maxprocs(&self, n: usize) -> usize {
        let n = n.clamp(1, self.locals.len());
        let _s = self.sched.lock().expect("sched");
        let old = self.maxprocs.swap(n, Relaxed);
        if n > old {
            let mut add = n - old;
            while add > 0 && take_one(&self.token_debt) {
                add -= 1;
            }
            self.tokens.fetch_add(add, SeqCst);
            self.sched_cv.notify_all();
            self.token_cv.notify_all();
        } else if n < old {
            let mut remove = old - n;
            while remove > 0 && take_one(&self.tokens) {
                remove -= 1;
            }
            if remove > 0 {
                self.token_debt.fetch_add(remove, SeqCst);
                self.settle_debt();
                for p in self.ps.iter() {
                    p.preempt.store(true, Relaxed);
                }
            }
        }
        old
    }

    /// Go's entersyscall: the G on P `pid` enters a native call that may
    /// block. Its M gives its run token back and, if goroutines are waiting,
    /// a sleeping M is woken to run them (if none sleeps, sysmon starts one:
    /// `want_more_ms`). The P's own queue is left to thieves.
    pub fn enter_syscall(&self, pid: usize) {
        self.give_token(pid);
        self.hand_off_queue(pid);
        fence(SeqCst);
        if self.any_runnable() && self.sleepers.load(SeqCst) > 0 {
            let _s = self.sched.lock().expect("sched");
            self.sched_cv.notify_one();
        }
    }

    /// Go's exitsyscall fast path: the native call returned; whether the M
    /// got a run token back at once (if not, its G yields: see
    /// `Exec::exit_syscall`).
    pub fn exit_syscall_fast(&self, pid: usize) -> bool {
        self.take_token(pid)
    }

    /// Waits (inside the caller's blocking region, so the collector need not
    /// wait for it) until the M holding `pid` holds a run token: for a G that
    /// cannot yield (inside a callback from native code).
    pub fn wait_for_token(&self, pid: usize) {
        if self.take_token(pid) {
            return;
        }
        let mut s = self.sched.lock().expect("sched");
        self.token_waiters.fetch_add(1, SeqCst);
        // The program's end releases the waiter: the Ms that hold tokens
        // stop without giving them back.
        while !self.take_token(pid) && !self.done.load(Relaxed) {
            // (A bounded wait: a token given back between the look and the
            // wait is picked up at the next round.)
            s = self
                .token_cv
                .wait_timeout(s, Duration::from_millis(1))
                .expect("sched")
                .0;
        }
        self.token_waiters.fetch_sub(1, SeqCst);
    }

    /// sysmon: whether to start an M because there is work (runnable
    /// goroutines, a due timer, a signal to relay), a run token is free and
    /// no M sleeps that could take it (the Ms that held the tokens are
    /// blocked in native calls). Go's handoffp starts an M for the same
    /// three kinds of work.
    fn want_more_ms(&self) -> bool {
        self.tokens.load(SeqCst) > 0
            && self.sleepers.load(SeqCst) == 0
            && self.work_waiting()
            && *self.ms.lock().expect("ms") < self.locals.len()
    }

    /// Counts an M started (before its thread runs): it is active (see
    /// `Sched::active`) until it first sleeps.
    pub fn note_m_started(&self) {
        *self.ms.lock().expect("ms") += 1;
        self.sched.lock().expect("sched").active += 1;
    }

    /// Takes back `note_m_started` for an M whose thread could not be
    /// created: it never ran, so it is neither an M nor active (counted
    /// active, it would hide every later deadlock).
    pub fn note_m_not_started(&self) {
        self.sched.lock().expect("sched").active -= 1;
        self.note_m_stopped();
    }

    /// Counts an M stopped (its scheduler loop returned).
    pub fn note_m_stopped(&self) {
        *self.ms.lock().expect("ms") -= 1;
        self.ms_cv.notify_all();
    }

    /// Waits until every M but the caller's has stopped.
    pub fn wait_ms_stopped(&self) {
        let mut ms = self.ms.lock().expect("ms");
        while *ms > 1 {
            ms = self.ms_cv.wait(ms).expect("ms");
        }
    }

    /// Steals from another P for the M holding `pid` (its own queue is
    /// empty), spinning: up to four rounds over the other Ps from a random
    /// start, taking a victim's `runnext` in the last round only (its M is
    /// likely to run it in a moment), as Go's stealWork. At most half the
    /// busy Ps spin at once (Go's limit; `past_limit` lifts it); the others
    /// go to sleep.
    fn steal(&self, pid: usize, past_limit: bool) -> Option<G> {
        let n = self.locals.len();
        if n < 2 {
            return None;
        }
        let busy = n - self.sleepers.load(Relaxed).min(n);
        if !past_limit && 2 * self.spinning.load(Relaxed) >= busy.max(1) {
            return None;
        }
        self.spinning.fetch_add(1, SeqCst);
        let start = crate::interp::next_random() as usize;
        let mut found = None;
        'rounds: for round in 0..4 {
            for k in 0..n {
                let victim = (start + k) % n;
                if victim == pid {
                    continue;
                }
                let take_next = round == 3;
                if take_next && self.locals[victim].has_next() && self.locals[victim].len() == 1 {
                    // Only the victim's runnext: a G its running G just
                    // readied, which that M is about to run (a channel
                    // handoff takes well under a microsecond). Give it the
                    // chance, as Go's runqgrab does (usleep(3)), rather
                    // than move a pipeline's every step across Ps.
                    let until = Instant::now() + RUNNEXT_GRACE;
                    while Instant::now() < until && self.locals[victim].has_next() {
                        std::hint::spin_loop();
                    }
                }
                found = self.locals[pid].steal_from(&self.locals[victim], take_next);
                if found.is_some() {
                    break 'rounds;
                }
            }
            std::hint::spin_loop();
        }
        self.spinning.fetch_sub(1, SeqCst);
        if found.is_some() {
            // Go: a spinning M that found work wakes another to spin, in
            // case there is more.
            self.wakep();
        }
        found
    }

    /// Arms a timer; returns its id.
    pub fn add_timer(&self, when: Instant, what: TimerWhat) -> u64 {
        let mut t = self.timers.lock().expect("timers");
        let id = t.add(when, what);
        self.note_earliest(&mut t);
        drop(t);
        // An M sleeping until a later deadline must look again (under the
        // lock it sleeps with: it read the deadline holding it).
        let _s = self.sched.lock().expect("sched");
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
        self.note_earliest(&mut t);
        drop(t);
        let _s = self.sched.lock().expect("sched");
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

    /// One `WEFTDEBUG=schedtrace=MS` line, in Go's shape: milliseconds since
    /// the start, Ps (run tokens), idle ones (tokens no M holds), threads
    /// (the Ms and sysmon), spinning and sleeping Ms, the global queue's
    /// length, then each collector P's local queue.
    fn schedtrace_line(&self) -> String {
        let locals: Vec<String> = self.locals.iter().map(|q| q.len().to_string()).collect();
        format!(
            "SCHED {}ms: gomaxprocs={} idleprocs={} threads={} spinningthreads={} idlethreads={} runqueue={} [{}]",
            self.start.elapsed().as_millis(),
            self.maxprocs(),
            self.tokens.load(Relaxed),
            *self.ms.lock().expect("ms") + 1,
            self.spinning.load(Relaxed),
            self.sleepers.load(Relaxed),
            self.global_len.load(Relaxed),
            locals.join(" ")
        )
    }

    /// sysmon: a thread with no P that preempts Gs running past their time
    /// slice and asks for a collection when none ran for two minutes. Returns
    /// when the program ends.
    ///
    /// `flush` runs every [`OUTPUT_FLUSH`]: output a busy program printed
    /// shows within that time (an idle M flushes at once).
    ///
    /// `spawn_m` starts one more M: sysmon does when goroutines wait while
    /// the Ms that held the run tokens are blocked in native calls (Go's
    /// sysmon retakes the P of a long syscall for a new M).
    pub fn sysmon(&self, heap: &weft_gc::Heap, flush: &dyn Fn(), spawn_m: &dyn Fn()) {
        let mut last_flush = Instant::now();
        let mut last_tick: Vec<(u64, Instant)> = self
            .ps
            .iter()
            .map(|p| (p.schedtick.load(Relaxed), Instant::now()))
            .collect();
        let mut last_gc = (heap.stats().cycles, Instant::now());
        let trace_every = Duration::from_millis(self.debug.schedtrace_ms);
        let mut last_trace = Instant::now();
        let mut last_epoch = heap.mark_epoch();
        while !self.done.load(Relaxed) {
            std::thread::sleep(SYSMON_TICK);
            self.poll_signals();
            heap.set_root_bytes(self.reg_bytes.load(Relaxed));
            if self.want_more_ms() {
                spawn_m();
            }
            let now = Instant::now();
            if !trace_every.is_zero() && now - last_trace >= trace_every {
                eprintln!("{}", self.schedtrace_line());
                last_trace = now;
            }
            if now - last_flush >= OUTPUT_FLUSH {
                flush();
                last_flush = now;
            }
            // A new mark phase: every running G yields at its next
            // safepoint, and its M scans its stack then (`scan_stopped`),
            // so mark termination does not scan stacks that ran throughout.
            let epoch = heap.mark_epoch();
            if heap.phase() == weft_gc::PHASE_MARK && epoch != last_epoch {
                last_epoch = epoch;
                for p in self.ps.iter() {
                    p.preempt.store(true, Relaxed);
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runq::Linked;

    #[test]
    fn sched_debug_reads_its_own_weftdebug_keys() {
        let d = SchedDebug::parse("gctrace=1,schedtrace=250,sigtrace");
        assert_eq!(
            d,
            SchedDebug {
                schedtrace_ms: 250,
                sigtrace: true,
                regpoison: false,
            }
        );
        assert_eq!(SchedDebug::parse("gcstress=10"), SchedDebug::default());
    }

    /// A runtime on a checked heap (`wbcheck`), with allgs registered as
    /// the program does.
    fn checked_runtime() -> (Arc<Heap>, Runtime, Arc<dyn RootProvider>) {
        let mut config = crate::heap::heap_config(1);
        config.debug.wbcheck = true;
        config.debug.checkmark = true;
        // A G object freed too early would be overwritten, not left intact.
        config.debug.poison = true;
        let heap = Heap::new(config, crate::heap::type_table());
        let rt = Runtime::new(1, heap.nprocs(), heap.clone());
        let allgs: Arc<dyn RootProvider> = rt.allgs.clone();
        heap.add_roots(weft_gc::RootKind::Stacks, allgs.clone());
        (heap, rt, allgs)
    }

    fn fresh_g(rt: &Runtime, p: &mut P, m: &mut Mutator) -> G {
        rt.new_g(p, m, 8, VecDeque::from([Entry::Main]), None)
            .expect("a G")
    }

    fn panic_text(e: Box<dyn std::any::Any + Send>) -> String {
        e.downcast_ref::<String>().cloned().unwrap_or_default()
    }

    /// The seed "barrier-free scheduler stores validated": a G linked into
    /// a run queue, the parked table or a free list is stored without a
    /// barrier, and checked builds verify that allgs holds it. A destroyed
    /// G (a dangling `guintptr`) is fatal at the store, naming it, and the
    /// store does not happen.
    #[test]
    fn barrier_free_scheduler_stores_validated() {
        let (heap, rt, allgs) = checked_runtime();
        let mut p = heap.acquire_p();
        let mut m = Mutator::new();
        // Legal stores: the global queue, the parked table, a free list.
        let g = fresh_g(&rt, &mut p, &mut m);
        let gid = g.id;
        assert!(rt.allgs.list.holds(g.obj().addr()));
        rt.push_runnable(g, None);
        let g = rt.pop_global().expect("queued");
        assert_eq!(g.id, gid);
        rt.end_slice(g, true, p.id());
        rt.ready(gid, None);
        let g = rt.pop_global().expect("woken");
        let first = g.obj();
        rt.retire(g);
        // The dead G is reused: the same heap object.
        let g = fresh_g(&rt, &mut p, &mut m);
        let obj = g.obj();
        assert_eq!(obj, first);
        assert!(rt.allgs.list.holds(obj.addr()));
        // A stale handle to a destroyed G.
        let raw = g.into_raw();
        // SAFETY: `raw` came from into_raw and is taken back once here...
        rt.allgs.list.destroy(unsafe { G::from_raw(raw) });
        assert!(!rt.allgs.list.holds(obj.addr()));
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: ...and once more, deliberately stale: the store's
            // check must stop it before anything reads the G.
            rt.push_runnable(unsafe { G::from_raw(raw) }, None)
        }))
        .expect_err("a destroyed G is not held by allgs");
        let text = panic_text(err);
        assert!(
            text.contains("not reachable from the runtime's roots") && text.contains("sched.rs"),
            "{text}"
        );
        assert!(
            rt.pop_global().is_none(),
            "the invalid store did not happen"
        );
        drop(p);
        drop(rt);
        heap.remove_roots(&allgs);
        heap.shutdown();
    }

    /// runtime.GOMAXPROCS(n): raising frees tokens at once; lowering takes
    /// the free ones and collects the rest as Ms give theirs back, asking
    /// every P to end its slice; the count is capped at the number of Ps.
    #[test]
    fn gomaxprocs_changes_the_run_tokens() {
        let heap = Heap::new(crate::heap::heap_config(2), crate::heap::type_table());
        let rt = Runtime::new(2, heap.nprocs(), heap.clone());
        assert!(rt.take_token(0) && rt.take_token(1) && !rt.take_token(2));
        assert_eq!(rt.set_maxprocs(1), 2);
        assert_eq!(rt.token_debt.load(SeqCst), 1);
        assert!(rt.ps.iter().all(|p| p.preempt.load(Relaxed)));
        rt.give_token(0);
        assert!(!rt.take_token(2), "the token given back paid the debt");
        rt.give_token(1);
        assert!(rt.take_token(2) && !rt.take_token(3), "one token now");
        assert_eq!(rt.set_maxprocs(3), 1);
        assert!(rt.take_token(0) && rt.take_token(1) && !rt.take_token(3));
        assert_eq!(rt.set_maxprocs(100), 3);
        assert_eq!(rt.maxprocs(), heap.nprocs());
        assert!(rt.take_token(3));
        // Lowered while every token is held: the whole difference is debt.
        assert_eq!(rt.set_maxprocs(2), 4);
        assert_eq!(rt.token_debt.load(SeqCst), 2);
        // Raised again before any came back: the debt is cancelled first.
        assert_eq!(rt.set_maxprocs(3), 2);
        assert_eq!(rt.token_debt.load(SeqCst), 1);
        for pid in 0..4 {
            rt.give_token(pid);
        }
        assert_eq!(rt.tokens.load(SeqCst), 3);
        // A debt recorded between a give_token's look at it and its freeing
        // the token: settled by whichever ends last.
        rt.token_debt.store(1, SeqCst);
        rt.settle_debt();
        assert_eq!((rt.tokens.load(SeqCst), rt.token_debt.load(SeqCst)), (2, 0));
        drop(rt);
        heap.shutdown();
    }

    /// Gs are heap objects: they survive collections while allgs holds them
    /// (live, parked or dead on a free list), with their state intact, and a
    /// destroyed one is freed.
    #[test]
    fn g_objects_live_in_the_heap_until_destroyed() {
        let (heap, rt, allgs) = checked_runtime();
        let mut p = heap.acquire_p();
        let mut m = Mutator::new();
        let mut parked = Vec::new();
        for _ in 0..200 {
            let g = fresh_g(&rt, &mut p, &mut m);
            parked.push(g.id);
            rt.end_slice(g, true, p.id());
        }
        let doomed: Vec<G> = (0..2000).map(|_| fresh_g(&rt, &mut p, &mut m)).collect();
        let dead = fresh_g(&rt, &mut p, &mut m);
        let dead_obj = dead.obj();
        rt.retire(dead);
        p.gc();
        p.gc();
        let in_use = heap.stats().heap_in_use;
        for g in doomed {
            rt.allgs.list.destroy(g);
        }
        p.gc();
        p.gc();
        let freed = in_use - heap.stats().heap_in_use;
        assert!(
            freed >= 2000 * std::mem::size_of::<GState>(),
            "destroyed G objects were not freed: {freed} bytes"
        );
        for gid in parked {
            rt.ready(gid, None);
            let g = rt.pop_global().expect("parked G");
            assert_eq!(g.id, gid);
            assert_eq!(
                g.obj().type_id(),
                Some(crate::heap::Kind::Goroutine.type_id())
            );
            assert_eq!(g.entry, VecDeque::from([Entry::Main]));
            rt.retire(g);
        }
        assert!(rt.allgs.list.holds(dead_obj.addr()));
        // A full free list: the Gs retired past it are destroyed.
        let cap = MAX_FREE_GS / FREE_G_SHARDS;
        let many: Vec<G> = (0..cap + 50)
            .map(|_| fresh_g(&rt, &mut p, &mut m))
            .collect();
        for g in many {
            rt.retire(g);
        }
        let mut dead = 0;
        rt.allgs
            .list
            .each(|_, live| dead += usize::from(live.is_none()));
        assert_eq!(dead, cap, "one thread's free list holds {cap} dead Gs");
        p.gc();
        drop(p);
        drop(rt);
        heap.remove_roots(&allgs);
        heap.shutdown();
    }
}
