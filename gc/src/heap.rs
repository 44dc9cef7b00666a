//! The heap object: configuration, shared state of the allocator and the
//! collector, statistics, and the stop-the-world mechanism.
//!
//! Lock order (lower rank taken first; never the reverse):
//! 0. `mark_lock` — only pairs with `mark_cv` for idle waits; `ctl` may be
//!    taken under it (shutdown check), nothing else.
//! 1. `ctl` — cycle requests and completions (coordinator state).
//! 2. `world` — P statuses and the stop-the-world handshake. Nothing but
//!    `stop_flags` is taken under it, so it may also be taken under
//!    `pages` (`Heap::lock_pages_at_safepoint`, checking for a stop) and
//!    under `helper_pulls` (`Heap::help_late_stop`, checking the stop is
//!    still under way; `helper_pulls` is otherwise a leaf).
//! 3. `sweep_queue`, `in_use` — span lists (never held together).
//! 4. `central[c]` — per-class lists of swept spans with free slots.
//! 5. `pages` — the page heap.
//! 6. `work` — the global grey list (leaf).
//! 7. `assist` — the assist park queue (leaf).
//!
//! Leaves taken alone: `stats`, `threads`; `stop_flags` (a leaf, also taken
//! under `world`). `roots` (RwLock) is read while a
//! provider runs, so providers may take their own (embedder) locks but must
//! not call back into the heap. No heap lock is ever held across a safepoint
//! or a stop-the-world wait.

use std::cell::UnsafeCell;
use std::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering::*,
};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::debug::DebugFlags;
use crate::gcwork::{GcWork, WorkList};
use crate::mcache::MCache;
use crate::object::{Tracer, TypeInfo, TypeTable};
use crate::osthread::{monotonic_secs, sched_delta, sched_stat, thread_cpu_nanos, PulledThread};
use crate::pacer::PacerConfig;
use crate::pageheap::{ArenaMap, PageHeap, PageStats};
use crate::sizeclass::num_classes;
use crate::span::SpanPtr;
use crate::wbbuf::{WbBuf, WBBUF_DEFAULT};

/// Collector phase (`Heap::phase`): written only with the world stopped (or by
/// the coordinator when no mark is running), read Relaxed anywhere; the world
/// restart publishes it.
pub const PHASE_OFF: u8 = 0;
/// Concurrent mark: barrier on, allocate black, assists.
pub const PHASE_MARK: u8 = 1;
/// Mark termination (world stopped).
pub const PHASE_MARK_TERM: u8 = 2;

/// `barrier_flags` bit: the write barrier must shade.
pub(crate) const WB_SHADE: u8 = 1;
/// `barrier_flags` bit: check P ownership on every barriered store.
pub(crate) const WB_CHECK: u8 = 2;
/// `alloc_flags` bit: marking (allocate black, charge assists).
pub(crate) const AF_MARK: u8 = 1;
/// `alloc_flags` bit: gcstress or gcpoison bookkeeping.
pub(crate) const AF_DEBUG: u8 = 2;

/// How a heap is built.
#[derive(Clone, Debug)]
pub struct HeapConfig {
    /// Number of Ps (WEFTMAXPROCS in the VM).
    pub nprocs: usize,
    /// Background mark workers; `None` = 25% of the Ps, at least one.
    pub mark_workers: Option<usize>,
    /// Decodes a value word into an object address (0 = not a pointer).
    pub decode_ptr: fn(u64) -> usize,
    /// Pacer settings (default: from WEFTGC / WEFTMEMLIMIT).
    pub pacer: PacerConfig,
    /// Debug switches (default: from WEFTDEBUG).
    pub debug: DebugFlags,
    /// If true, checkmark misses are counted in stats instead of being fatal
    /// (the torture example reports them itself).
    pub checkmark_nonfatal: bool,
    /// Test hook run by each mark-termination helper while it holds a P.
    pub helper_hook: Option<fn(&mut crate::P)>,
    /// Start the coordinator thread (cycles start by themselves). Tests that
    /// step phases by hand set this to false.
    pub background: bool,
}

fn identity_decode(w: u64) -> usize {
    w as usize
}

impl Default for HeapConfig {
    fn default() -> HeapConfig {
        HeapConfig {
            nprocs: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            mark_workers: None,
            decode_ptr: identity_decode,
            pacer: PacerConfig::from_env(),
            debug: DebugFlags::from_env(),
            checkmark_nonfatal: false,
            helper_hook: None,
            background: true,
        }
    }
}

/// Cycles whose pause times [`Heap::pause_ns`] keeps (Go keeps 256).
pub const PAUSE_HISTORY: usize = 256;

/// How long free pages stay in the heap before the scavenger may return
/// them to the OS (without a memory limit): see `PageHeap::scavenge_delay`.
const SCAVENGE_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// Collector statistics (a snapshot).
#[derive(Clone, Debug, Default)]
pub struct GcStats {
    /// Completed cycles.
    pub cycles: u64,
    /// Bytes marked live by the last cycle.
    pub heap_marked: usize,
    /// Bytes allocated (counted per span refill) since the last mark.
    pub heap_live: usize,
    /// Bytes in in-use spans.
    pub heap_in_use: usize,
    /// Bytes mapped from the OS.
    pub heap_mapped: usize,
    /// Bytes returned to the OS.
    pub heap_released: usize,
    /// Sum of all stop-the-world pauses.
    pub total_pause: Duration,
    /// Longest stop-the-world pause.
    pub max_pause: Duration,
    /// Stop-the-world pauses longer than 1 ms.
    pub pauses_over_1ms: u64,
    /// Stop-the-world pauses in all.
    pub pauses: u64,
    /// Time mutators spent in assists.
    pub assist_time: Duration,
    /// CPU time spent by background mark workers.
    pub mark_cpu: Duration,
    /// Objects the checkmark found unmarked (only non-zero with
    /// `checkmark_nonfatal`).
    pub checkmark_missed: u64,
    /// Objects allocated.
    pub objects_allocated: u64,
    /// Times concurrent mark was restarted because mark termination found work.
    pub mark_restarts: u64,
    /// Mark-termination helper runs that held their P (owner = helper thread).
    pub helper_runs_with_p: u64,
    /// Pinned objects (`P::pin`: a large one being zeroed at a safepoint
    /// inside its allocation, a new array being filled) that mark
    /// termination found unmarked and marked.
    pub pinned_marked: u64,
}

/// A size class's swept spans with free slots (Go's mcentral), valid for
/// the sweep generation `gen`: a list from an older one is empty (see
/// `Heap::sweep_gen`).
#[derive(Default)]
pub(crate) struct CentralList {
    gen: u64,
    pub(crate) spans: Vec<SpanPtr>,
}

impl Heap {
    /// Class `class`'s central list, locked, emptied first if an earlier
    /// sweep generation left it.
    pub(crate) fn central_list(&self, class: usize) -> MutexGuard<'_, CentralList> {
        let mut list = self.central[class].lock().expect("central lock");
        let gen = self.sweep_gen.load(Acquire);
        if list.gen != gen {
            list.spans.clear();
            list.gen = gen;
        }
        list
    }
}

/// P status in `PSlot::status`: nobody holds the P.
pub(crate) const P_IDLE: u8 = 0;
/// Held and running mutator code.
pub(crate) const P_RUNNING: u8 = 1;
/// Held, but its holder is stopped at a safepoint or blocked outside the heap
/// (counts as stopped for stop-the-world).
pub(crate) const P_STOPPED: u8 = 2;

/// One P's shared record.
pub(crate) struct PSlot {
    /// `P_*`; written under the `world` lock, read under it (and Relaxed for
    /// diagnostics).
    pub(crate) status: AtomicU8,
    /// Thread id of the M that owns the P (0 = none). Written by acquire/
    /// release/handoff and by the coordinator lending the P to a helper (world
    /// stopped); read by the ownership check (Relaxed: the check runs on the
    /// owner thread, which wrote it).
    pub(crate) owner: AtomicU64,
    /// The OS thread id of the M that last took the P (Relaxed): a stop
    /// that runs late moves that thread onto the coordinator's CPU or a
    /// stopped M's (`Heap::pull_late_threads`, `Heap::help_late_stop`; a
    /// stale id pulls the wrong thread for the rest of the stop, or
    /// fails, which is harmless), and `gctrace`
    /// reports which thread held a slow stop up and in what state the OS
    /// had it.
    pub(crate) os_tid: std::sync::atomic::AtomicI32,
    /// The P's private state: accessed only by its owner, or with the world
    /// stopped by the coordinator or the helper it lent the P to.
    pub(crate) state: UnsafeCell<PState>,
    /// Objects allocated with this P, published from `MCache::allocs` by the
    /// owner at each refill and release (Relaxed), read by statistics.
    pub(crate) allocs: AtomicU64,
}

// SAFETY: `state` is accessed under the ownership discipline documented on the
// field; everything else is atomic.
unsafe impl Sync for PSlot {}

/// What a P owns: its allocation cache, barrier buffer and grey work.
pub(crate) struct PState {
    pub(crate) mcache: MCache,
    pub(crate) wbbuf: WbBuf,
    pub(crate) gcw: GcWork,
    /// Objects this P's holder roots for a while across safepoints
    /// (`P::pin`): an object still being zeroed (`P::zero_large`) or
    /// filled, which nothing else roots yet. Mark termination marks each
    /// (`flush_all_ps_found_work`), and greys those pinned with `trace`.
    /// Written only by the owner; read by the coordinator with the world
    /// stopped.
    pub(crate) pins: Vec<(usize, bool)>,
}

/// The stop-the-world handshake, under `Heap::world`.
#[derive(Default)]
pub(crate) struct World {
    pub(crate) stop_requested: bool,
}

/// Coordinator requests, under `Heap::ctl`.
#[derive(Default)]
pub(crate) struct Ctl {
    /// A cycle was requested (trigger reached, forced, stress).
    pub(crate) requested: bool,
    /// Cycles completed (mirrors `stats.cycles`, for waiters).
    pub(crate) completed: u64,
    /// Cycles started.
    pub(crate) started: u64,
    pub(crate) shutdown: bool,
}

/// The managed heap and its collector. Built with [`Heap::new`], shared as
/// `Arc<Heap>`; mutators work through a [`crate::P`].
pub struct Heap {
    pub(crate) config: HeapConfig,
    pub(crate) types: Vec<TypeInfo>,
    pub(crate) checked: bool,
    pub(crate) arenas: ArenaMap,
    pub(crate) pages: Mutex<PageHeap>,
    pub(crate) page_stats: PageStats,
    /// Swept spans with free slots, per class; read and written through
    /// [`Heap::central_list`], which empties a list left from an earlier
    /// sweep generation.
    pub(crate) central: Box<[Mutex<CentralList>]>,
    /// The sweep generation: mark termination (`sweep_setup`, world
    /// stopped) increments it, retiring every central list at once, where
    /// clearing the 68 lists one lock at a time was 6-9 us of the pause
    /// (cold cache lines). Incremented with Release before the sweep
    /// queue is refilled, read with Acquire under a central lock: a
    /// sweeper that took a span from the new queue sees the new
    /// generation. (Mark-termination helpers may read lists before the
    /// increment; those lists are still valid then, and the P caches they
    /// fill are reset after.)
    pub(crate) sweep_gen: AtomicU64,
    /// Spans still to sweep this cycle; filled at mark termination.
    pub(crate) sweep_queue: Mutex<Vec<SpanPtr>>,
    /// Sweepers currently sweeping a span taken off the queue.
    pub(crate) active_sweepers: AtomicUsize,
    /// Every swept in-use span (cached, central or full).
    pub(crate) in_use: Mutex<Vec<SpanPtr>>,
    pub(crate) ps: Box<[PSlot]>,
    pub(crate) world: Mutex<World>,
    /// Waited on (with `world`) by Ms stopped at a safepoint, in
    /// `exit_blocking` or in `acquire_p`: notified on restart and release.
    pub(crate) world_cv: Condvar,
    /// Waited on (with `world`) only by the coordinator in stop_the_world:
    /// notified when a P stops or goes idle (a separate condvar, so stopping
    /// Ms do not wake each other).
    pub(crate) stopped_cv: Condvar,
    /// Mirrors `World::stop_requested` for the safepoint fast path (Relaxed
    /// there; set SeqCst, see `stop_flags`).
    pub(crate) stop_pending: AtomicBool,
    /// Flags an embedder's dispatch loop tests in place of `stop_pending`
    /// ([`Heap::set_stop_flags`]: the VM's per-P preemption flags, so its
    /// loop tests one flag, not two). A stop request sets each of them
    /// after `stop_pending`; only the embedder clears them, and one that
    /// clears its flag must then read [`Heap::stop_requested`] and set it
    /// again if a stop is pending (both sides SeqCst: a stop requested
    /// meanwhile is seen by one of them).
    stop_flags: Mutex<Vec<Arc<AtomicBool>>>,
    /// gctrace's notes on slow stops of the world this cycle (see
    /// `stop_the_world`).
    pub(crate) slow_stops: Mutex<String>,
    /// True while the world is stopped (barrier-free store validation).
    pub(crate) world_stopped: AtomicBool,
    /// The coordinator's OS thread id (0 until it starts, and for a heap
    /// without background threads): `help_late_stop` may pull it.
    coordinator_tid: AtomicI32,
    /// Threads an M stopped at a safepoint pulled onto its CPU during the
    /// current stop (`help_late_stop`). Pushed to only while a stop is
    /// requested and `world_stopped` is false, both read under this lock
    /// (and `world`, taken inside it: the only place both are held);
    /// `stop_the_world` gives them back after setting `world_stopped`,
    /// under this lock, so none is left pulled past the stop.
    helper_pulls: Mutex<Vec<PulledThread>>,
    /// Set by the coordinator while it scans the `RootKind::Stacks` roots
    /// concurrently: markers and assists with no grey work take chunks of
    /// that scan (`RootProvider::scan_job`) instead of idling or parking.
    pub(crate) root_jobs_open: AtomicBool,
    /// `WB_*` bits; one Relaxed load on the barrier fast path. Changed only
    /// with the world stopped; the restart publishes it.
    pub(crate) barrier_flags: AtomicU8,
    /// `AF_*` bits for the allocation fast path; same discipline.
    pub(crate) alloc_flags: AtomicU8,
    pub(crate) phase: AtomicU8,
    pub(crate) work: WorkList,
    pub(crate) roots: RwLock<Vec<(RootKind, Arc<dyn RootProvider>)>>,
    pub(crate) ctl: Mutex<Ctl>,
    pub(crate) ctl_cv: Condvar,
    /// Wakes background mark workers and the coordinator waiting for mark
    /// completion; paired with `mark_lock`. Every wait on it has a timeout
    /// (a wake that comes between a waiter's check and its wait is lost;
    /// the timeout bounds the delay).
    pub(crate) mark_lock: Mutex<()>,
    pub(crate) mark_cv: Condvar,
    /// How many threads wait (or are about to wait) on `mark_cv`. Wakers
    /// skip the notify when it is 0: a notify is a futex syscall whether
    /// anyone waits or not, and `wake_markers` runs at every write-barrier
    /// buffer flush (strings_maps made about 3000 of them a second).
    pub(crate) mark_waiters: AtomicUsize,
    /// Parked assists; paired with `assist_cv`.
    pub(crate) assist: Mutex<usize>,
    pub(crate) assist_cv: Condvar,
    /// Background scan credit (bytes of scan work) that assists may steal.
    pub(crate) bg_credit: AtomicI64,
    /// Scan bytes owed per allocated byte during this mark, ×1024 (fixed point).
    pub(crate) assist_ratio_fp: AtomicU64,
    /// Number of the current (or last) mark; written in sweep termination
    /// (world stopped), read Relaxed by assists to reset stale debt.
    pub(crate) mark_epoch: AtomicU64,
    /// Bytes allocated since the last mark termination (Relaxed counter).
    pub(crate) heap_live: AtomicUsize,
    /// Bytes greyed in the current mark (flushed from GcWork counters).
    pub(crate) marked_bytes: AtomicUsize,
    pub(crate) heap_marked: AtomicUsize,
    pub(crate) trigger: AtomicUsize,
    /// The heap reached `trigger` and a cycle was asked for
    /// (`Heap::request_cycle_at_trigger`); cleared when the cycle sets the
    /// next trigger (`sweep_setup`, world stopped). Until then the trigger
    /// asks no more: between the coordinator taking a request and the
    /// mark's start (the previous sweep's end, the scavenger: milliseconds)
    /// every allocation slow path asked again, each taking the `ctl`
    /// lock, and the request left pending made a second cycle right after
    /// the first (gcpause: 6 of 33 cycles started ~1 ms after the last).
    pub(crate) trigger_requested: AtomicBool,
    pub(crate) stats: Mutex<GcStats>,
    /// Stop-the-world time of each of the last 256 cycles, in nanoseconds,
    /// laid out as Go's `MemStats.PauseNs`: cycle n (from 1) at `(n-1) % 256`.
    pub(crate) pause_ns: Mutex<[u64; PAUSE_HISTORY]>,
    /// Bytes of roots outside the heap the embedder scans each cycle
    /// (goroutine stacks), for the pacer's goal (`set_root_bytes`).
    pub(crate) root_bytes: AtomicUsize,
    pub(crate) assist_nanos: AtomicU64,
    pub(crate) mark_nanos: AtomicU64,
    pub(crate) start: Instant,
    pub(crate) threads: Mutex<Vec<JoinHandle<()>>>,
}

/// What a root provider's roots are, for barrier-free store validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootKind {
    /// The runtime's own tables (allgs, allms, allps, timers).
    Runtime,
    /// Goroutine stacks, host handles: anything written without barriers.
    /// Scanned with the world stopped.
    Other,
    /// Goroutine stacks, each written without barriers by its own goroutine
    /// only while it runs (others write into it with the barrier). Not
    /// scanned in the sweep-termination pause: during concurrent mark the
    /// provider reports the stacks of goroutines that are not running,
    /// holding each still while it is scanned, and in mark termination the
    /// ones it skipped (see [`crate::StackScan`]). Correct because the
    /// hybrid barrier is on before any stack is scanned and allocation is
    /// black: a stack scanned once, at any point of the mark, needs no rescan.
    Stacks,
    /// Roots whose slots are only ever written with barriered stores
    /// (`P::write_slot`), such as module globals: scanned concurrently, after
    /// the world restarts, off the pause. The hybrid barrier's deletion half
    /// keeps this correct: a value removed from such a slot before the scan
    /// reaches it is shaded by the store that removed it.
    Barriered,
}

/// A source of roots (module globals, goroutine stacks, runtime tables, host
/// handles). Scanned in the sweep-termination stop-the-world, when every
/// mutator is stopped at a safepoint (`RootKind::Barriered` ones right after
/// it, concurrently), and by the checkmark and the
/// barrier-free store validation.
pub trait RootProvider: Send + Sync {
    /// Reports every root pointer to `tracer`.
    fn scan_roots(&self, tracer: &mut Tracer<'_>);

    /// Whether roots of this provider are still unscanned in mark cycle
    /// `epoch` because they could not be scanned concurrently yet (the
    /// stacks of goroutines that kept running). The coordinator scans
    /// again, for a while, before it leaves them to mark termination: every
    /// stack left there is marked from with the world stopped (Go's
    /// gcMarkDone likewise waits for every root job, stack scans included).
    fn unscanned(&self, epoch: u64) -> bool {
        let _ = epoch;
        false
    }

    /// Scans one chunk of the roots the concurrent mark still needs (the
    /// tracer's [`crate::StackScan::Concurrent`] epoch), for a mark worker
    /// or an assist that found no grey objects: Go's markroot jobs, which
    /// spread stack scanning over every marker. Whether it did any; only
    /// called while the coordinator's own concurrent scan of the provider
    /// is under way (see `Heap::root_jobs_open`).
    fn scan_job(&self, tracer: &mut Tracer<'_>) -> bool {
        let _ = tracer;
        false
    }

    /// Whether this provider reports the object at `addr` (its base
    /// address) itself as a root: a table of the runtime's own objects
    /// (allgs) answers without a walk. The barrier-free store check asks
    /// the `Runtime` and `Stacks` providers this before it walks the graph.
    fn holds(&self, addr: usize) -> bool {
        let _ = addr;
        false
    }
}

/// Allocation failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllocError {
    /// The memory limit is exceeded even after a full collection, or the OS
    /// refused memory.
    OutOfMemory {
        /// Bytes requested.
        requested: usize,
    },
}

impl std::fmt::Display for AllocError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllocError::OutOfMemory { requested } => {
                write!(f, "out of memory allocating {requested} bytes")
            }
        }
    }
}

impl std::error::Error for AllocError {}

impl Heap {
    /// Builds a heap with the given types and starts its coordinator and
    /// background mark workers (unless `config.background` is false).
    pub fn new(config: HeapConfig, types: TypeTable) -> Arc<Heap> {
        let nprocs = config.nprocs.max(1);
        let checked = cfg!(debug_assertions) || config.debug.wbcheck;
        let wbcap = if config.debug.wbbuf > 0 {
            config.debug.wbbuf
        } else {
            WBBUF_DEFAULT
        };
        let ps = (0..nprocs)
            .map(|_| PSlot {
                status: AtomicU8::new(P_IDLE),
                owner: AtomicU64::new(0),
                os_tid: std::sync::atomic::AtomicI32::new(0),
                state: UnsafeCell::new(PState {
                    mcache: MCache::new(),
                    wbbuf: WbBuf::new(wbcap),
                    gcw: GcWork::default(),
                    pins: Vec::with_capacity(4),
                }),
                allocs: AtomicU64::new(0),
            })
            .collect();
        let trigger = config.pacer.trigger(0, 0);
        let mut alloc_flags = 0;
        if config.debug.gcstress > 0 || config.debug.poison {
            alloc_flags |= AF_DEBUG;
        }
        let heap = Arc::new(Heap {
            types: types.types,
            checked,
            arenas: ArenaMap::new(),
            pages: Mutex::new({
                let mut pages = PageHeap::new();
                if config.pacer.mem_limit.is_none() {
                    pages.scavenge_delay = SCAVENGE_DELAY;
                }
                pages
            }),
            page_stats: PageStats::default(),
            central: (0..num_classes())
                .map(|_| Mutex::new(CentralList::default()))
                .collect(),
            sweep_gen: AtomicU64::new(0),
            sweep_queue: Mutex::new(Vec::new()),
            active_sweepers: AtomicUsize::new(0),
            in_use: Mutex::new(Vec::new()),
            ps,
            world: Mutex::new(World::default()),
            world_cv: Condvar::new(),
            stopped_cv: Condvar::new(),
            stop_pending: AtomicBool::new(false),
            stop_flags: Mutex::new(Vec::new()),
            slow_stops: Mutex::new(String::new()),
            world_stopped: AtomicBool::new(false),
            coordinator_tid: AtomicI32::new(0),
            helper_pulls: Mutex::new(Vec::new()),
            root_jobs_open: AtomicBool::new(false),
            barrier_flags: AtomicU8::new(if checked { WB_CHECK } else { 0 }),
            alloc_flags: AtomicU8::new(alloc_flags),
            phase: AtomicU8::new(PHASE_OFF),
            work: WorkList::default(),
            roots: RwLock::new(Vec::new()),
            ctl: Mutex::new(Ctl::default()),
            ctl_cv: Condvar::new(),
            mark_lock: Mutex::new(()),
            mark_cv: Condvar::new(),
            mark_waiters: AtomicUsize::new(0),
            assist: Mutex::new(0),
            assist_cv: Condvar::new(),
            bg_credit: AtomicI64::new(0),
            assist_ratio_fp: AtomicU64::new(1024),
            mark_epoch: AtomicU64::new(0),
            heap_live: AtomicUsize::new(0),
            marked_bytes: AtomicUsize::new(0),
            heap_marked: AtomicUsize::new(0),
            trigger: AtomicUsize::new(trigger),
            trigger_requested: AtomicBool::new(false),
            stats: Mutex::new(GcStats::default()),
            pause_ns: Mutex::new([0; PAUSE_HISTORY]),
            root_bytes: AtomicUsize::new(0),
            assist_nanos: AtomicU64::new(0),
            mark_nanos: AtomicU64::new(0),
            start: Instant::now(),
            threads: Mutex::new(Vec::new()),
            config,
        });
        if heap.config.background {
            heap.start_threads();
        }
        heap
    }

    fn start_threads(self: &Arc<Heap>) {
        let mut threads = self.threads.lock().expect("threads lock");
        let h = Arc::clone(self);
        threads.push(
            std::thread::Builder::new()
                .name("weft-gc-coordinator".into())
                .spawn(move || {
                    h.coordinator_tid.store(crate::osthread::gettid(), Relaxed);
                    abort_on_panic(|| h.coordinator_loop())
                })
                .expect("spawn"),
        );
        for i in 0..self.mark_worker_count() {
            let h = Arc::clone(self);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("weft-gc-mark-{i}"))
                    .spawn(move || abort_on_panic(|| h.mark_worker_loop()))
                    .expect("spawn"),
            );
        }
    }

    /// How many background mark workers the heap runs
    /// (`HeapConfig::mark_workers`).
    pub(crate) fn mark_worker_count(&self) -> usize {
        self.config
            .mark_workers
            .unwrap_or((self.ps.len() / 4).max(1))
    }

    /// Stops the coordinator and workers (call before dropping the last Arc;
    /// they hold references to the heap).
    ///
    /// A P the calling thread still holds (an embedder shutting down from a
    /// mutator thread, a test that forgot its P after a fatal error) counts
    /// as blocked meanwhile, as in [`P::blocking`]: a cycle under way would
    /// otherwise wait at its next stop-the-world for that P forever, and
    /// this call for the cycle. So, as around `P::blocking`, the caller
    /// must hold no object reference it will use afterwards without a root.
    pub fn shutdown(&self) {
        let me = current_m();
        let held: Vec<usize> = (0..self.ps.len())
            .filter(|&i| {
                let slot = &self.ps[i];
                slot.owner.load(Relaxed) == me && slot.status.load(Relaxed) == P_RUNNING
            })
            .collect();
        self.enter_blocking_slots(&held);
        self.ctl.lock().expect("ctl lock").shutdown = true;
        self.ctl_cv.notify_all();
        {
            let _g = self.mark_lock.lock().expect("mark lock");
            self.mark_cv.notify_all();
        }
        let threads = std::mem::take(&mut *self.threads.lock().expect("threads lock"));
        for t in threads {
            let _ = t.join();
        }
        // The coordinator ends only between cycles, with the world running;
        // a cycle driven some other way (no background threads) may still
        // hold it stopped, which this waits out.
        self.exit_blocking_slots(&held);
    }

    /// The Ps `ids`, held by the calling thread, enter a blocking region:
    /// they count as stopped (see [`P::blocking`]).
    pub(crate) fn enter_blocking_slots(&self, ids: &[usize]) {
        let _w = self.world.lock().expect("world lock");
        for &i in ids {
            self.ps[i].status.store(P_STOPPED, Relaxed);
        }
        self.stopped_cv.notify_one();
    }

    /// The Ps `ids` leave their blocking region, once the world runs.
    pub(crate) fn exit_blocking_slots(&self, ids: &[usize]) {
        let mut w = self.world.lock().expect("world lock");
        while w.stop_requested {
            w = self.world_cv.wait(w).expect("world lock");
        }
        for &i in ids {
            self.ps[i].status.store(P_RUNNING, Relaxed);
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.ctl.lock().expect("ctl lock").shutdown
    }

    /// Registers a root provider.
    pub fn add_roots(&self, kind: RootKind, provider: Arc<dyn RootProvider>) {
        self.roots
            .write()
            .expect("roots lock")
            .push((kind, provider));
    }

    /// Unregisters a root provider registered with [`Heap::add_roots`] (the
    /// same `Arc`): a program's runtime tables stop being roots when it ends.
    pub fn remove_roots(&self, provider: &Arc<dyn RootProvider>) {
        self.roots
            .write()
            .expect("roots lock")
            .retain(|(_, p)| !Arc::ptr_eq(p, provider));
    }

    /// Checked builds' validation of a barrier-free store of `target`
    /// (Go's guintptr/puintptr/muintptr stores): fatal, naming the store's
    /// location, unless the world is stopped or the runtime's own roots
    /// keep the target alive (a table that holds it, such as allgs, or a
    /// path from a `RootKind::Runtime` root). A no-op in unchecked builds.
    #[track_caller]
    pub fn check_barrier_free(&self, target: crate::object::ObjRef) {
        if self.checked
            && !self.world_stopped.load(Acquire)
            && !self.reachable_from(RootKind::Runtime, target.addr())
        {
            crate::debug::fatal(format_args!(
                "barrier-free store at {} of {:#x}, which is not reachable from the runtime's roots, with the world running",
                std::panic::Location::caller(),
                target.addr()
            ));
        }
    }

    /// Number of Ps.
    pub fn nprocs(&self) -> usize {
        self.ps.len()
    }

    /// Current phase (`PHASE_*`).
    pub fn phase(&self) -> u8 {
        self.phase.load(Relaxed)
    }

    /// True if checked-build validation (P ownership, barrier-free stores) is on.
    pub fn is_checked(&self) -> bool {
        self.checked
    }

    /// The current (or last) mark cycle's number; a goroutine created while
    /// `phase()` is `PHASE_MARK` may count its stack as scanned for it (its
    /// first values were copied in with the barrier).
    pub fn mark_epoch(&self) -> u64 {
        self.mark_epoch.load(Relaxed)
    }

    /// Tells the pacer how many bytes of roots outside the heap (goroutine
    /// stacks) each cycle scans: the next goal grows with them, as Go's.
    pub fn set_root_bytes(&self, bytes: usize) {
        self.root_bytes.store(bytes, Relaxed);
    }

    /// Stop-the-world nanoseconds of the last [`PAUSE_HISTORY`] cycles in
    /// Go's `PauseNs` layout (cycle n at `(n-1) % 256`; unused entries 0).
    pub fn pause_ns(&self) -> [u64; PAUSE_HISTORY] {
        *self.pause_ns.lock().expect("pause lock")
    }

    /// A snapshot of the statistics.
    pub fn stats(&self) -> GcStats {
        let mut s = self.stats.lock().expect("stats lock").clone();
        s.heap_live = self.heap_live.load(Relaxed);
        s.heap_marked = self.heap_marked.load(Relaxed);
        s.heap_in_use = self.page_stats.in_use_bytes.load(Relaxed);
        s.heap_mapped = self.page_stats.mapped_bytes.load(Relaxed);
        s.heap_released = self.page_stats.released_bytes.load(Relaxed);
        s.assist_time = Duration::from_nanos(self.assist_nanos.load(Relaxed));
        s.mark_cpu = Duration::from_nanos(self.mark_nanos.load(Relaxed));
        s.objects_allocated = self.ps.iter().map(|p| p.allocs.load(Relaxed)).sum();
        s
    }

    /// Registers the flags a stop-the-world request sets besides its own
    /// (see `stop_flags`), replacing any registered before; an empty list
    /// unregisters them. The VM registers its Ps' flags for the length of
    /// a program (`Vm::run_program`); an embedder must not replace them
    /// while one runs (its stops would then wait for sysmon's time slice).
    pub fn set_stop_flags(&self, flags: Vec<Arc<AtomicBool>>) {
        *self.stop_flags.lock().expect("stop flags") = flags;
    }

    /// Whether a stop-the-world is requested and not yet over (SeqCst: the
    /// re-check after clearing a flag registered with
    /// [`Heap::set_stop_flags`]).
    pub fn stop_requested(&self) -> bool {
        self.stop_pending.load(SeqCst)
    }

    /// The page-heap lock, taken by spinning first: its holds are a few
    /// microseconds (a free-map update), and a mutator that went to sleep
    /// on it held its P running through the futex wake-up (tens of
    /// microseconds on a busy machine), which a stop-the-world then
    /// waited for.
    pub(crate) fn lock_pages(&self) -> MutexGuard<'_, PageHeap> {
        self.try_lock_pages_spinning()
            .unwrap_or_else(|| self.pages.lock().expect("pages lock"))
    }

    fn try_lock_pages_spinning(&self) -> Option<MutexGuard<'_, PageHeap>> {
        for _ in 0..PAGES_LOCK_SPINS {
            if let Ok(g) = self.pages.try_lock() {
                return Some(g);
            }
            std::hint::spin_loop();
        }
        None
    }

    /// [`Heap::lock_pages`] for the holder of P `holder` at a safepoint
    /// (an allocation taking a fresh span, with no sweep of its own in
    /// flight): while it sleeps on the lock its P counts as stopped, as in
    /// a blocking call, so a stop-the-world does not wait for a thread
    /// that is asleep and then has to be woken and given a CPU (a sleep
    /// there held up stops by 100-200 us: gctrace notes of late Ps that
    /// neither ran nor waited for a CPU). Once it has the lock it takes
    /// its P back only if no stop is under way; otherwise it lets go of
    /// the lock, waits for the world to restart and tries again, so the
    /// lock is never held by a P that counts as stopped.
    /// `holder` is `None` for a P lent to a mark termination helper, which
    /// runs while the world is stopped: that takes the lock plainly.
    pub(crate) fn lock_pages_at_safepoint(
        &self,
        holder: Option<usize>,
    ) -> MutexGuard<'_, PageHeap> {
        let Some(holder) = holder else {
            return self.lock_pages();
        };
        loop {
            if let Some(g) = self.try_lock_pages_spinning() {
                return g;
            }
            self.enter_blocking_slots(&[holder]);
            let g = self.pages.lock().expect("pages lock");
            let w = self.world.lock().expect("world lock");
            if !w.stop_requested {
                self.ps[holder].status.store(P_RUNNING, Relaxed);
                return g;
            }
            drop(w);
            drop(g);
            self.exit_blocking_slots(&[holder]);
        }
    }

    /// Asks for a cycle because the heap reached the trigger: once per
    /// cycle (see `trigger_requested`).
    pub(crate) fn request_cycle_at_trigger(&self) {
        if !self.trigger_requested.swap(true, Relaxed) {
            self.request_cycle();
        }
    }

    /// Asks the coordinator for a cycle without waiting.
    pub fn request_cycle(&self) {
        let mut ctl = self.ctl.lock().expect("ctl lock");
        if !ctl.requested {
            ctl.requested = true;
            self.ctl_cv.notify_all();
        }
    }

    // ---- stop the world ----

    /// Stops every P at a safepoint (or finds it idle or blocked). Returns
    /// when no P is running. Only the coordinator calls this.
    pub(crate) fn stop_the_world(&self) -> Duration {
        let t = Instant::now();
        let mut w = self.world.lock().expect("world lock");
        w.stop_requested = true;
        self.stop_pending.store(true, SeqCst);
        for flag in self.stop_flags.lock().expect("stop flags").iter() {
            flag.store(true, SeqCst);
        }
        let flagged = t.elapsed();
        // gctrace: this thread's CPU time over the rest of the stop, to
        // tell a late P from a coordinator that was itself waiting for a
        // CPU (a system call, so not before the flags are up: the return
        // from one is where a pending preemption takes the CPU away).
        let my_cpu = self.config.debug.gctrace.then(thread_cpu_nanos);
        // Most Ps reach a safepoint within microseconds: watch for that
        // with the lock released (they take it to stop) before sleeping, as
        // a condvar wake-up of this thread alone costs tens of microseconds
        // of pause on a loaded machine.
        drop(w);
        let spin_until = t + STW_SPIN;
        while self.any_p_running() && Instant::now() < spin_until {
            std::thread::yield_now();
        }
        // gctrace: which Ps are still running after the spin, and what
        // the OS is doing with their threads, reported if the stop turns
        // out slow (is a thread descheduled, or busy without a safepoint?).
        let spun = t.elapsed();
        let late = if self.config.debug.gctrace && self.any_p_running() {
            self.running_ps_threads()
        } else {
            Vec::new()
        };
        // A P this late is rarely busy: its thread is waiting for a CPU.
        // Pull it onto this one (see `pull_late_threads`), but only once
        // the stop is clearly slow: a pull costs some 100 us, more than a
        // stop that was going to end a little late on its own.
        let pull_at = t + STW_PULL_AFTER;
        let mut pulled = None;
        w = self.world.lock().expect("world lock");
        while self.any_p_running() {
            let now = Instant::now();
            if pulled.is_some() {
                w = self.stopped_cv.wait(w).expect("world lock");
            } else if now < pull_at {
                w = self
                    .stopped_cv
                    .wait_timeout(w, pull_at - now)
                    .expect("world lock")
                    .0;
            } else {
                drop(w);
                pulled = Some(self.pull_late_threads());
                w = self.world.lock().expect("world lock");
            }
        }
        let pulled = pulled.unwrap_or_default();
        self.world_stopped.store(true, Release);
        let took = t.elapsed();
        drop(w);
        for thread in &pulled {
            thread.give_back();
        }
        let helped = self.give_back_helper_pulls();
        if let Some(my_cpu) = my_cpu.filter(|_| took >= SLOW_STOP) {
            let mut note = self.slow_stops.lock().expect("slow stops");
            note.push_str(&format!(
                " [stop {:.3} ms ending at {:.6} s monotonic, flagged {:.3} ms, spin {:.3} ms, coordinator cpu {:.3} ms, pulled {}+{} by a stopped M, late:",
                took.as_secs_f64() * 1e3,
                monotonic_secs(),
                flagged.as_secs_f64() * 1e3,
                spun.as_secs_f64() * 1e3,
                thread_cpu_nanos().saturating_sub(my_cpu) as f64 / 1e6,
                pulled.len(),
                helped,
            ));
            for (i, tid, before) in late {
                // How the thread spent the wait: on a CPU (running code
                // with no safepoint) or runnable, waiting for one. The
                // kernel updates these at scheduling events: a thread
                // that stayed on its CPU, or asleep, shows 0 and 0.
                let (ran, waited) = sched_delta(before, tid);
                note.push_str(&format!(
                    " P{i} tid {tid} ran {:.3} waited {:.3} ms",
                    ran as f64 / 1e6,
                    waited as f64 / 1e6
                ));
            }
            note.push(']');
        }
        took
    }

    /// Moves the threads of the Ps still running late in a stop onto
    /// this thread's CPU, which goes idle as this thread sleeps, until
    /// the world is stopped ([`PulledThread::give_back`]).
    ///
    /// A P late by then is rarely busy: its thread was preempted, runnable
    /// on a CPU another thread holds. sched_switch traces of gcpause showed
    /// it stuck 1.5 ms behind a kernel thread (kdamond) while the
    /// coordinator's CPU sat idle: the kernel does not pull a thread that
    /// ran within its migration cost (0.5 ms) to an idle CPU. Changing the
    /// thread's allowed CPUs moves it at once (a running one too, through
    /// the CPU's stopper: harmless). Unprivileged, within the process's
    /// own mask (a thread whose mask excludes this CPU is left alone), and
    /// undone before the world restarts, so no user's pinning is lost.
    fn pull_late_threads(&self) -> Vec<PulledThread> {
        PulledThread::pull_onto_this_cpu(self.running_p_threads().map(|(_, tid)| tid))
    }

    /// Called by an M stopped at a safepoint [`STW_HELP_AFTER`] into a
    /// stop the world that has not ended: pulls the threads of the Ps
    /// still running, and the coordinator's, onto this M's CPU, which goes
    /// idle as it sleeps (`stop_the_world` gives them back).
    ///
    /// The coordinator's own pull (`pull_late_threads`) cannot help when
    /// the coordinator is itself off its CPU: sched_switch traces of
    /// gcpause showed it yield in its spin to another process's thread (a
    /// tokio worker, kdamond) that then kept the CPU 0.5-0.9 ms, with a
    /// late M queued behind both and the stopped M's CPU idle all along
    /// (Linux does not move a thread that ran within its migration cost to
    /// an idle CPU). One M helps per stop: once threads are pulled, a
    /// later M leaves them be.
    pub(crate) fn help_late_stop(&self) {
        let mut pulls = self.helper_pulls.lock().expect("helper pulls");
        {
            // Under `world`: between this M's wake-up and here, the stop may
            // have ended and the world restarted, and a pull then would
            // outlast it.
            let w = self.world.lock().expect("world lock");
            if !pulls.is_empty() || !w.stop_requested || self.world_stopped.load(Acquire) {
                return;
            }
        }
        let late = self.running_p_threads().map(|(_, tid)| tid);
        let coordinator = self.coordinator_tid.load(Relaxed);
        *pulls = PulledThread::pull_onto_this_cpu(late.chain([coordinator]));
    }

    /// Gives back the threads `help_late_stop` pulled, once
    /// `world_stopped` is set (no more can be pulled then); returns how
    /// many there were.
    fn give_back_helper_pulls(&self) -> usize {
        let pulled = std::mem::take(&mut *self.helper_pulls.lock().expect("helper pulls"));
        for thread in &pulled {
            thread.give_back();
        }
        pulled.len()
    }

    /// The Ps still running, each with its M's OS thread id
    /// (`PSlot::os_tid`).
    fn running_p_threads(&self) -> impl Iterator<Item = (usize, i32)> + '_ {
        self.ps
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.status.load(Relaxed) == P_RUNNING)
            .map(|(i, slot)| (i, slot.os_tid.load(Relaxed)))
    }

    /// The Ps still running, with their M's OS thread and its scheduler
    /// statistics now. Diagnostics for `gctrace`.
    fn running_ps_threads(&self) -> Vec<LateP> {
        self.running_p_threads()
            .map(|(i, tid)| (i, tid, sched_stat(tid)))
            .collect()
    }

    /// What `stop_the_world` noted about slow stops since the last call
    /// (for the cycle's gctrace line).
    pub(crate) fn take_slow_stops(&self) -> String {
        std::mem::take(&mut *self.slow_stops.lock().expect("slow stops"))
    }

    /// Whether some P has not stopped yet (see `stop_the_world`).
    pub(crate) fn any_p_running(&self) -> bool {
        self.ps.iter().any(|p| p.status.load(Relaxed) == P_RUNNING)
    }

    /// Restarts the world stopped by [`Heap::stop_the_world`].
    pub(crate) fn start_the_world(&self) {
        let mut w = self.world.lock().expect("world lock");
        self.world_stopped.store(false, Release);
        w.stop_requested = false;
        self.stop_pending.store(false, Relaxed);
        self.world_cv.notify_all();
    }
}

/// How long into a stop-the-world the threads of Ps still running are
/// pulled onto the coordinator's CPU (`Heap::pull_late_threads`).
const STW_PULL_AFTER: Duration = Duration::from_micros(200);

/// How long into a stop-the-world an M stopped at a safepoint waits before
/// it pulls the late threads onto its CPU (`Heap::help_late_stop`).
pub(crate) const STW_HELP_AFTER: Duration = Duration::from_micros(150);

/// `Heap::lock_pages`' tries before it sleeps on the lock (some 20 us).
const PAGES_LOCK_SPINS: usize = 1000;

/// How long `stop_the_world` watches the Ps stop before it sleeps.
const STW_SPIN: Duration = Duration::from_micros(50);

/// A P still running when a stop-the-world's spin ended: its index, its
/// M's OS thread, and that thread's [`sched_stat`] then.
type LateP = (usize, i32, Option<(u64, u64)>);

/// A stop-the-world this slow gets the late Ps described under gctrace.
const SLOW_STOP: Duration = Duration::from_micros(100);

impl Drop for Heap {
    fn drop(&mut self) {
        self.pages.get_mut().expect("pages lock").unmap_all();
    }
}

/// Runs a collector thread's body; a panic there (a fatal error such as a
/// checkmark failure, or a bug) cannot be recovered from — mutators would wait
/// for cycles forever — so the process aborts after printing it.
fn abort_on_panic(body: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).is_err() {
        eprintln!("weft-gc: collector thread panicked; aborting");
        std::process::abort();
    }
}

thread_local! {
    static THREAD_ID: u64 = {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Relaxed)
    };
}

#[cfg(test)]
impl Heap {
    /// A heap for unit tests: one P, no background threads (cycles run only
    /// when a test drives them).
    pub(crate) fn for_unit_test(types: TypeTable) -> Arc<Heap> {
        Heap::new(
            HeapConfig {
                nprocs: 1,
                background: false,
                ..HeapConfig::default()
            },
            types,
        )
    }

    /// [`Heap::for_unit_test`] with one type registered, an untraced
    /// "leaf": what the allocation and sweeping unit tests allocate.
    pub(crate) fn for_unit_test_with_leaf() -> (Arc<Heap>, crate::TypeId) {
        let mut types = TypeTable::new();
        let ty = types.register(crate::TypeInfo {
            name: "leaf",
            trace: None,
        });
        (Heap::for_unit_test(types), ty)
    }
}

/// A small non-zero id of the calling thread (the "M").
pub(crate) fn current_m() -> u64 {
    THREAD_ID.with(|t| *t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::TypeTable;

    /// `shutdown` from the thread holding the only P while a cycle waits for
    /// that P to stop: it used to wait for the cycle, which waited for the P.
    #[test]
    fn shutdown_while_holding_a_p_returns_during_a_cycle() {
        let heap = Heap::new(
            HeapConfig {
                nprocs: 1,
                ..HeapConfig::default()
            },
            TypeTable::new(),
        );
        let p = heap.acquire_p();
        heap.request_cycle();
        // The coordinator has asked the world to stop and waits for this P.
        while !heap.stop_pending.load(Relaxed) {
            std::thread::yield_now();
        }
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watchdog = {
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let t = Instant::now();
                while !done.load(Relaxed) {
                    if t.elapsed() > Duration::from_secs(60) {
                        eprintln!("shutdown waited for the P its caller holds");
                        std::process::abort();
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        };
        heap.shutdown();
        done.store(true, Relaxed);
        watchdog.join().unwrap();
        drop(p);
    }

    /// An M stopped at a safepoint while a P is late pulls that P's
    /// thread onto its own CPU (`help_late_stop`) until the stop ends;
    /// one M per stop, none with no stop requested or once the world is
    /// stopped.
    #[test]
    fn a_stopped_m_pulls_a_late_ps_thread_onto_its_cpu_for_the_stop() {
        use crate::osthread::allowed_cpus;
        let heap = Heap::new(
            HeapConfig {
                nprocs: 2,
                background: false,
                ..HeapConfig::default()
            },
            TypeTable::new(),
        );
        let done = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        // A P running (no safepoint) on a thread of its own: late.
        let late = {
            let (heap, done) = (Arc::clone(&heap), Arc::clone(&done));
            std::thread::spawn(move || {
                let p = heap.acquire_p();
                tx.send(crate::osthread::gettid()).unwrap();
                while !done.load(SeqCst) {
                    std::hint::spin_loop();
                }
                drop(p);
            })
        };
        let tid = rx.recv().unwrap();
        let before = allowed_cpus(tid);
        // No stop under way (or one just over): nothing is pulled.
        heap.help_late_stop();
        assert!(heap.helper_pulls.lock().unwrap().is_empty());
        // A stop requested (the late P never looks), and this thread
        // stands for the M stopped at a safepoint (on a CPU the late
        // thread may use: they share the process's mask).
        heap.world.lock().unwrap().stop_requested = true;
        heap.help_late_stop();
        let during = allowed_cpus(tid);
        if before.len() > 1 {
            assert_eq!(during.len(), 1, "pulled onto one CPU");
            assert!(before.contains(&during[0]));
        } else {
            assert_eq!(during, before, "nowhere else to run: left alone");
        }
        // One helper per stop: a second call pulls nothing more.
        let pulled = heap.helper_pulls.lock().unwrap().len();
        heap.help_late_stop();
        assert_eq!(heap.helper_pulls.lock().unwrap().len(), pulled);
        assert_eq!(heap.give_back_helper_pulls(), pulled);
        assert_eq!(allowed_cpus(tid), before);
        // Once the world is stopped, nothing is pulled.
        heap.world_stopped.store(true, Release);
        heap.help_late_stop();
        assert!(heap.helper_pulls.lock().unwrap().is_empty());
        heap.world_stopped.store(false, Release);
        heap.world.lock().unwrap().stop_requested = false;
        done.store(true, SeqCst);
        late.join().unwrap();
    }

    /// A P whose holder sleeps on the page-heap lock counts as stopped: a
    /// stop-the-world completes meanwhile, and the holder, given the lock
    /// while the world is stopped, lets go of it and goes on only once
    /// the world runs again.
    #[test]
    fn a_p_asleep_on_the_page_heap_lock_does_not_hold_up_a_stop() {
        let heap = Heap::for_unit_test(TypeTable::new());
        let held = heap.pages.lock().unwrap();
        let got_it = Arc::new(AtomicBool::new(false));
        let mutator = {
            let (heap, got_it) = (Arc::clone(&heap), Arc::clone(&got_it));
            std::thread::spawn(move || {
                let p = heap.acquire_p();
                let pages = heap.lock_pages_at_safepoint(Some(p.id()));
                // The world runs (the check is under the world lock).
                assert!(!heap.world.lock().unwrap().stop_requested);
                got_it.store(true, SeqCst);
                drop(pages);
                drop(p);
            })
        };
        // Wait for the mutator to be asleep on the lock, its P blocking
        // (with a plain lock it stays running, and the stop would hang).
        let t = Instant::now();
        while heap.ps[0].status.load(Relaxed) != P_STOPPED {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "the P of a holder asleep on the lock still counts as running"
            );
            std::thread::yield_now();
        }
        heap.stop_the_world();
        // Hand it the lock while the world is stopped: it must give it
        // back (this thread takes it again) and not go on.
        drop(held);
        std::thread::sleep(Duration::from_millis(50));
        let again = heap.pages.lock().unwrap();
        assert!(!got_it.load(SeqCst));
        drop(again);
        heap.start_the_world();
        mutator.join().unwrap();
        assert!(got_it.load(SeqCst));
    }
}
