//! The page heap (Go's mheap): arenas of OS memory, the address → span map,
//! free page runs, large-object spans and lazy return of memory to the OS.
//!
//! Everything mutable here sits behind one lock, `Heap::pages` (rank 3: taken
//! after the sweep-queue lock and a central-list lock, never before them; no
//! other lock is taken while it is held). The address → span map is read
//! without the lock by markers (`span_of`).

use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::*};
use std::time::{Duration, Instant};

use crate::sizeclass::PAGE_SIZE;
use crate::span::{Span, SpanPtr, SPAN_FREE, SPAN_IN_USE};

/// Bytes per arena unit (64 MiB); arenas are mapped aligned to this.
pub const ARENA_BYTES: usize = 64 << 20;
const ARENA_PAGES: usize = ARENA_BYTES / PAGE_SIZE;
const ADDR_BITS: usize = 48;
const ARENA_SHIFT: usize = 26;
const L2_BITS: usize = 11;
const L1_BITS: usize = ADDR_BITS - ARENA_SHIFT - L2_BITS;

/// Per arena unit: which span owns each page (null for free pages).
/// Entries are written under the page-heap lock with Release and read by
/// anyone with Acquire.
struct ArenaInfo {
    spans: Box<[AtomicPtr<Span>]>,
}

type L2 = [AtomicPtr<ArenaInfo>; 1 << L2_BITS];

/// Two-level radix map from address to arena info. Entries are only ever set
/// (never cleared) while the heap lives, so a loaded pointer stays valid.
pub(crate) struct ArenaMap {
    l1: Box<[AtomicPtr<L2>]>,
}

impl ArenaMap {
    pub(crate) fn new() -> ArenaMap {
        ArenaMap {
            l1: (0..1 << L1_BITS)
                .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                .collect(),
        }
    }

    fn arena(&self, addr: usize) -> Option<&ArenaInfo> {
        if addr >> ADDR_BITS != 0 {
            return None;
        }
        let idx = addr >> ARENA_SHIFT;
        let l2 = self.l1[idx >> L2_BITS].load(Acquire);
        if l2.is_null() {
            return None;
        }
        // SAFETY: non-null L2 tables are leaked boxes freed only in Drop.
        let l2 = unsafe { &*l2 };
        let info = l2[idx & ((1 << L2_BITS) - 1)].load(Acquire);
        // SAFETY: non-null arena infos are leaked boxes freed only in Drop.
        (!info.is_null()).then(|| unsafe { &*info })
    }

    /// The in-use span containing `addr`, if any.
    #[inline]
    pub(crate) fn span_of(&self, addr: usize) -> Option<SpanPtr> {
        let arena = self.arena(addr)?;
        let page = (addr % ARENA_BYTES) / PAGE_SIZE;
        let s = NonNull::new(arena.spans[page].load(Acquire))?;
        let sp = SpanPtr(s);
        let span = sp.get();
        if span.state.load(Acquire) != SPAN_IN_USE {
            return None;
        }
        let base = span.base();
        (addr >= base && addr < base + span.npages() * PAGE_SIZE).then_some(sp)
    }

    fn register(&self, unit_base: usize) {
        let idx = unit_base >> ARENA_SHIFT;
        let slot = &self.l1[idx >> L2_BITS];
        let mut l2 = slot.load(Acquire);
        if l2.is_null() {
            let fresh: Box<L2> =
                Box::new(std::array::from_fn(
                    |_| AtomicPtr::new(std::ptr::null_mut()),
                ));
            l2 = Box::into_raw(fresh);
            slot.store(l2, Release);
        }
        let info = Box::new(ArenaInfo {
            spans: (0..ARENA_PAGES)
                .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                .collect(),
        });
        // SAFETY: l2 was just loaded or created and is never freed before Drop.
        let l2 = unsafe { &*l2 };
        l2[idx & ((1 << L2_BITS) - 1)].store(Box::into_raw(info), Release);
    }

    fn set_pages(&self, base: usize, npages: usize, span: *mut Span) {
        for i in 0..npages {
            let addr = base + i * PAGE_SIZE;
            let arena = self.arena(addr).expect("page of a mapped arena");
            arena.spans[(addr % ARENA_BYTES) / PAGE_SIZE].store(span, Release);
        }
    }
}

impl Drop for ArenaMap {
    fn drop(&mut self) {
        for slot in self.l1.iter() {
            let l2 = slot.load(Relaxed);
            if l2.is_null() {
                continue;
            }
            // SAFETY: created by Box::into_raw in `register`; dropped once here.
            let l2 = unsafe { Box::from_raw(l2) };
            for a in l2.iter() {
                let info = a.load(Relaxed);
                if !info.is_null() {
                    // SAFETY: created by Box::into_raw in `register`.
                    drop(unsafe { Box::from_raw(info) });
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct FreeRun {
    npages: usize,
    /// Pages already returned to the OS (they read as zero when reused).
    scavenged: bool,
    /// Collector cycle when the run was freed; scavenged only a cycle later.
    freed_cycle: u64,
    /// When it was freed (to the start of that cycle's sweep; for merged
    /// runs, the larger one's time): it is scavenged only after
    /// `PageHeap::scavenge_delay`.
    freed_at: Instant,
}

/// Two adjacent free runs as one. It counts as freed when the larger of
/// the two that hold pages in memory was: a big run retired long ago
/// stays eligible for release when a small span next to it is freed (the
/// latest of the two times kept it young for as long as its neighbours
/// churned), a small old run joining a big fresh one does not make the
/// fresh pages look old, and a released run (its age says nothing about
/// pages in memory) never lends its age to fresh pages.
fn merged(a: FreeRun, b: FreeRun) -> FreeRun {
    let dates = match (a.scavenged, b.scavenged) {
        (true, false) => b,
        (false, true) => a,
        _ if a.npages >= b.npages => a,
        _ => b,
    };
    FreeRun {
        npages: a.npages + b.npages,
        scavenged: a.scavenged && b.scavenged,
        freed_cycle: dates.freed_cycle,
        freed_at: dates.freed_at,
    }
}

/// Free runs, mappings and span descriptors; guarded by `Heap::pages`.
pub(crate) struct PageHeap {
    free: BTreeMap<usize, FreeRun>,
    mappings: Vec<(usize, usize)>,
    span_pool: Vec<SpanPtr>,
    all_descriptors: Vec<SpanPtr>,
    pub(crate) cycle: u64,
    /// When the current cycle's sweep began: the time runs freed now
    /// record (one clock read a cycle, not one per span freed).
    cycle_start: Instant,
    /// How long a run stays free before the scavenger may release it.
    /// Go's background scavenger is paced to about 1% of the CPU, so
    /// memory a program frees comes back to the OS gradually; releasing
    /// all of it at the next cycle made strings_maps, whose heap swings
    /// by tens of megabytes every few hundred milliseconds, fault half
    /// its pages back in (66k page faults, 0.3 s of system time). A
    /// second of free time keeps swings like that in the heap, and a heap
    /// that shrinks for good is returned a second later. Zero when a
    /// memory limit is set: then the limit decides.
    pub(crate) scavenge_delay: Duration,
}

/// Why memory could not be obtained.
#[derive(Debug)]
pub(crate) struct OsOutOfMemory;

impl PageHeap {
    pub(crate) fn new() -> PageHeap {
        PageHeap {
            free: BTreeMap::new(),
            mappings: Vec::new(),
            span_pool: Vec::new(),
            all_descriptors: Vec::new(),
            cycle: 0,
            cycle_start: Instant::now(),
            scavenge_delay: Duration::ZERO,
        }
    }

    /// A collector cycle begins its sweep: runs freed from now on count
    /// as freed in it.
    pub(crate) fn next_cycle(&mut self) {
        self.cycle += 1;
        self.cycle_start = Instant::now();
    }

    /// Allocates a span of `npages` for `class`, mapping more memory if needed.
    pub(crate) fn alloc_span(
        &mut self,
        map: &ArenaMap,
        stats: &PageStats,
        npages: usize,
        class: usize,
        elem_size: usize,
    ) -> Result<SpanPtr, OsOutOfMemory> {
        let (base, zeroed) = match self.take_run(npages) {
            Some(b) => b,
            None => {
                self.grow(map, stats, npages)?;
                self.take_run(npages).ok_or(OsOutOfMemory)?
            }
        };
        let sp = self.span_pool.pop().unwrap_or_else(|| {
            let p = SpanPtr(NonNull::from(Box::leak(Box::new(Span::new_free()))));
            self.all_descriptors.push(p);
            p
        });
        sp.get().init(base, npages, class, elem_size);
        sp.get().needzero.store(!zeroed, Relaxed);
        map.set_pages(base, npages, sp.0.as_ptr());
        let in_use = stats.in_use_bytes.fetch_add(npages * PAGE_SIZE, Relaxed) + npages * PAGE_SIZE;
        stats.peak_in_use_bytes.fetch_max(in_use, Relaxed);
        Ok(sp)
    }

    /// Returns the pages of `sp` to the free runs and recycles the descriptor.
    pub(crate) fn free_span(&mut self, map: &ArenaMap, stats: &PageStats, sp: SpanPtr) {
        let span = sp.get();
        let (base, npages) = (span.base(), span.npages());
        span.state.store(SPAN_FREE, Release);
        map.set_pages(base, npages, std::ptr::null_mut());
        stats.in_use_bytes.fetch_sub(npages * PAGE_SIZE, Relaxed);
        self.span_pool.push(sp);
        self.insert_run(
            base,
            FreeRun {
                npages,
                scavenged: false,
                freed_cycle: self.cycle,
                freed_at: self.cycle_start,
            },
        );
    }

    /// Takes `npages` from the first free run that has them: their base,
    /// and whether they read as zero (the run was released to the OS, or
    /// never used).
    fn take_run(&mut self, npages: usize) -> Option<(usize, bool)> {
        let found = self.free.iter().find(|(_, r)| r.npages >= npages);
        let (base, run) = match found {
            Some((&base, &run)) => (base, run),
            None => self.join_runs(npages)?,
        };
        self.free.remove(&base);
        if run.npages > npages {
            self.free.insert(
                base + npages * PAGE_SIZE,
                FreeRun {
                    npages: run.npages - npages,
                    ..run
                },
            );
        }
        Some((base, run.scavenged))
    }

    /// The first stretch of adjacent free runs (released and not, which
    /// `insert_run` keeps apart) with `npages` in all, made one run that
    /// counts as holding data unless all of it was released.
    fn join_runs(&mut self, npages: usize) -> Option<(usize, FreeRun)> {
        let mut stretch: Option<(usize, FreeRun)> = None;
        let mut found = None;
        for (&base, &run) in self.free.iter() {
            let (sb, sr) = match stretch {
                Some((sb, sr)) if sb + sr.npages * PAGE_SIZE == base => (sb, merged(sr, run)),
                _ => (base, run),
            };
            if sr.npages >= npages {
                found = Some((sb, sr));
                break;
            }
            stretch = Some((sb, sr));
        }
        let (sb, sr) = found?;
        // Its parts go (no allocation under the lock), the whole comes in.
        let end = sb + sr.npages * PAGE_SIZE;
        while let Some((&b, _)) = self.free.range(sb..end).next() {
            self.free.remove(&b);
        }
        self.free.insert(sb, sr);
        Some((sb, sr))
    }

    /// Adds a free run, merged with free neighbours in the same state:
    /// a run of released pages is not merged with one of pages that hold
    /// data, or the whole would count as holding data (the never-used rest
    /// of an arena became 60 MB "kept" in gcpause, which the scavenger then
    /// "released" every cycle while the pages it should release stayed).
    fn insert_run(&mut self, mut base: usize, mut run: FreeRun) {
        if let Some((&pb, &prev)) = self.free.range(..base).next_back() {
            if pb + prev.npages * PAGE_SIZE == base && prev.scavenged == run.scavenged {
                self.free.remove(&pb);
                base = pb;
                run = merged(prev, run);
            }
        }
        let end = base + run.npages * PAGE_SIZE;
        if let Some(next) = self.free.get(&end).copied() {
            if next.scavenged == run.scavenged {
                self.free.remove(&end);
                run = merged(run, next);
            }
        }
        self.free.insert(base, run);
    }

    fn grow(
        &mut self,
        map: &ArenaMap,
        stats: &PageStats,
        npages: usize,
    ) -> Result<(), OsOutOfMemory> {
        let units = (npages * PAGE_SIZE).div_ceil(ARENA_BYTES);
        let bytes = units * ARENA_BYTES;
        let base = os::map_aligned(bytes, ARENA_BYTES).ok_or(OsOutOfMemory)?;
        for u in 0..units {
            map.register(base + u * ARENA_BYTES);
        }
        self.mappings.push((base, bytes));
        stats.mapped_bytes.fetch_add(bytes, Relaxed);
        self.insert_run(
            base,
            FreeRun {
                npages: bytes / PAGE_SIZE,
                scavenged: true,
                freed_cycle: 0,
                freed_at: self.cycle_start,
            },
        );
        Ok(())
    }

    /// Releases free pages until none is left to release, as the
    /// collector does (`Heap::run_cycle`) but under one hold of the lock.
    /// Returns bytes released.
    #[cfg(test)]
    pub(crate) fn scavenge(&mut self, stats: &PageStats, retain: usize) -> usize {
        let mut scavenge = self.scavenge_begin(stats, retain);
        while let Some(taken) = scavenge.take(self, usize::MAX) {
            let ok = os::release(taken.base, taken.bytes());
            if !scavenge.put_back(self, stats, taken, ok) {
                break;
            }
        }
        scavenge.released
    }

    /// Starts a scavenge: measures how many bytes to return to the OS,
    /// what the heap keeps (pages in use plus free pages not yet
    /// released) beyond `retain`. Go's scavenger keeps the heap goal plus
    /// 10% the same way: a program whose heap swings between cycles
    /// (strings_maps builds and drops a million strings a round) would
    /// otherwise give its pages back after each swing and fault them in
    /// again, zeroed by the kernel, on the next.
    pub(crate) fn scavenge_begin(&self, stats: &PageStats, retain: usize) -> Scavenge {
        let free_kept: usize = self
            .free
            .values()
            .filter(|run| !run.scavenged)
            .map(|run| run.npages * PAGE_SIZE)
            .sum();
        Scavenge {
            excess: (stats.in_use_bytes.load(Relaxed) + free_kept).saturating_sub(retain),
            from: usize::MAX,
            released: 0,
        }
    }

    /// The scavenger's next run to release: up to `max_bytes` (at least 8
    /// pages) of the highest free run below address `from` that is at
    /// least 64 KiB and has stayed free for a whole cycle (lazy: memory
    /// freed now is reused first); of a longer run, the tail. `None` when
    /// there is nothing left to release.
    ///
    /// From the top down, as Go's scavenger: spans are allocated from the
    /// lowest free address up (`take_run`), so the released pages are the
    /// last ones allocation comes back to. Bottom up, gcpause released
    /// some 1.6 MB a cycle that the next cycle's allocation faulted
    /// straight back in (page-fault samples in `init_object`, a thousand a
    /// run).
    ///
    /// The run is taken out of the free map so that nobody allocates it
    /// while the OS releases it without the page-heap lock held: madvise
    /// of a megabyte took 60-100 us (TLB shootdowns), and an M that needed
    /// a span meanwhile slept on the lock with its P running, holding up
    /// the stop-the-world that follows the scavenge (gcpause's slow first
    /// pauses, perf: the late M in `lock_contended` while the coordinator
    /// was in `unmap_page_range`). An allocation in that window does not
    /// find these pages and may use others, or map more, as Go's
    /// scavenger allows.
    pub(crate) fn scavenge_take(&mut self, from: usize, max_bytes: usize) -> Option<ScavengeRun> {
        let cycle = self.cycle;
        let now = Instant::now();
        let (&base, &run) = self.free.range(..from).rev().find(|(_, run)| {
            !run.scavenged
                && run.npages >= 8
                && run.freed_cycle + 1 < cycle
                && now.duration_since(run.freed_at) >= self.scavenge_delay
        })?;
        let npages = run.npages.min((max_bytes / PAGE_SIZE).max(8));
        self.free.remove(&base);
        // The tail is released; the rest stays a free run of its own.
        let kept = run.npages - npages;
        if kept > 0 {
            self.free.insert(
                base,
                FreeRun {
                    npages: kept,
                    ..run
                },
            );
        }
        Some(ScavengeRun {
            base: base + kept * PAGE_SIZE,
            run: FreeRun { npages, ..run },
        })
    }

    /// Puts back a run [`PageHeap::scavenge_take`] took, released (`ok`:
    /// the OS took it, so it reads as zero) or not. Returns where the next
    /// step should look (below the released pages) and the bytes
    /// released, or `None` if the release failed (the same run would fail
    /// again).
    pub(crate) fn scavenge_put_back(
        &mut self,
        stats: &PageStats,
        taken: ScavengeRun,
        ok: bool,
    ) -> Option<(usize, usize)> {
        let bytes = taken.bytes();
        // Not merged with its neighbours: a merged run would forget which
        // pages read as zero.
        self.free.insert(
            taken.base,
            FreeRun {
                scavenged: ok,
                ..taken.run
            },
        );
        if !ok {
            return None;
        }
        stats.released_bytes.fetch_add(bytes, Relaxed);
        Some((taken.base, bytes))
    }

    /// Unmaps everything (heap drop).
    pub(crate) fn unmap_all(&mut self) {
        for &(base, bytes) in &self.mappings {
            os::unmap(base, bytes);
        }
        self.mappings.clear();
        for sp in self.all_descriptors.drain(..) {
            // SAFETY: descriptors were leaked boxes; the heap is being dropped,
            // so no SpanPtr is used after this.
            drop(unsafe { Box::from_raw(sp.0.as_ptr()) });
        }
    }
}

/// A scavenge under way ([`PageHeap::scavenge_begin`]): what is left to
/// release and where the next step looks, so that each step, under its
/// own hold of the page-heap lock, goes on below the last one.
pub(crate) struct Scavenge {
    /// Bytes still to release (measured once, at the start).
    excess: usize,
    /// The next step's run lies below this address.
    from: usize,
    /// Bytes released so far.
    pub(crate) released: usize,
}

impl Scavenge {
    /// The next run to release, of at most `max_step` bytes (and no more
    /// than is left): see [`PageHeap::scavenge_take`]. `None` when done.
    pub(crate) fn take(&mut self, ph: &mut PageHeap, max_step: usize) -> Option<ScavengeRun> {
        if self.excess == 0 {
            return None;
        }
        ph.scavenge_take(self.from, self.excess.min(max_step))
    }

    /// Puts back a run [`Scavenge::take`] gave, released (`ok`) or not;
    /// false when the scavenge should stop (the release failed).
    pub(crate) fn put_back(
        &mut self,
        ph: &mut PageHeap,
        stats: &PageStats,
        taken: ScavengeRun,
        ok: bool,
    ) -> bool {
        let Some((next, bytes)) = ph.scavenge_put_back(stats, taken, ok) else {
            return false;
        };
        self.from = next;
        self.released += bytes;
        self.excess = self.excess.saturating_sub(bytes);
        true
    }
}

/// A free run the scavenger has taken out of the free map to release
/// (`PageHeap::scavenge_take`); owned by the scavenger until it is put
/// back.
pub(crate) struct ScavengeRun {
    pub(crate) base: usize,
    run: FreeRun,
}

impl ScavengeRun {
    pub(crate) fn bytes(&self) -> usize {
        self.run.npages * PAGE_SIZE
    }
}

/// Page-level byte counters, written under the page-heap lock, read anywhere
/// (Relaxed: statistics and pacing only).
#[derive(Default)]
pub(crate) struct PageStats {
    pub(crate) in_use_bytes: AtomicUsize,
    /// The most `in_use_bytes` reached since the collector last reset it
    /// (at the start of each cycle): what the scavenger keeps at least.
    pub(crate) peak_in_use_bytes: AtomicUsize,
    pub(crate) mapped_bytes: AtomicUsize,
    pub(crate) released_bytes: AtomicUsize,
}

/// Thin wrapper over mmap/munmap/madvise.
pub(crate) mod os {
    /// Maps `bytes` of zeroed memory aligned to `align` (a power of two).
    pub(super) fn map_aligned(bytes: usize, align: usize) -> Option<usize> {
        let len = bytes + align;
        // SAFETY: an anonymous private mapping with no address hint has no
        // preconditions; the result is checked against MAP_FAILED.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        let start = p as usize;
        let aligned = (start + align - 1) & !(align - 1);
        if aligned > start {
            unmap(start, aligned - start);
        }
        let end = start + len;
        if end > aligned + bytes {
            unmap(aligned + bytes, end - (aligned + bytes));
        }
        // No transparent huge pages for the heap: the first touch of a page
        // faults on the allocating thread, which holds a P, and a huge page
        // is 2 MB zeroed in one fault. On this VM (memory the host backs on
        // first use) one took 2-5 ms (clear_page_erms), a stop-the-world
        // held up for all of it; 4 KiB faults take microseconds each, with
        // safepoints between them. gcpause, 20 runs each: max pause 4.1 ms
        // -> 352 us, the same garbage-tree throughput; binarytrees and
        // strings_maps unchanged. Advice only: a kernel without THP
        // refuses it, which changes nothing.
        // SAFETY: the range is the mapping just made, used by nobody yet.
        unsafe { libc::madvise(aligned as *mut libc::c_void, bytes, libc::MADV_NOHUGEPAGE) };
        Some(aligned)
    }

    pub(super) fn unmap(base: usize, bytes: usize) {
        // SAFETY: callers pass ranges this module mapped and nobody uses again.
        unsafe { libc::munmap(base as *mut libc::c_void, bytes) };
    }

    /// Returns pages to the OS; they stay mapped and read as zero afterwards,
    /// if this says so (`false`: madvise failed, the pages keep their data).
    pub(crate) fn release(base: usize, bytes: usize) -> bool {
        // SAFETY: the range is a free page run of a live mapping: no object
        // lives there, so discarding its contents is unobservable.
        unsafe { libc::madvise(base as *mut libc::c_void, bytes, libc::MADV_DONTNEED) == 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_runs_coalesce_and_are_reused_and_scavenged_lazily() {
        let map = ArenaMap::new();
        let stats = PageStats::default();
        let mut ph = PageHeap::new();
        let a = ph.alloc_span(&map, &stats, 4, 0, 16).unwrap();
        let b = ph.alloc_span(&map, &stats, 4, 0, 16).unwrap();
        let (abase, bbase) = (a.get().base(), b.get().base());
        assert_eq!(bbase, abase + 4 * PAGE_SIZE);
        assert_eq!(map.span_of(bbase + 100), Some(b));
        assert_eq!(stats.in_use_bytes.load(Relaxed), 8 * PAGE_SIZE);
        ph.free_span(&map, &stats, a);
        ph.free_span(&map, &stats, b);
        assert_eq!(map.span_of(bbase), None);
        // The two runs merged (and not with the never-used rest of the
        // arena): an 8-page request reuses the same address.
        // Fresh pages read as zero; reused ones may not (they are zeroed
        // when an object is put there), until they are released.
        assert!(!a.get().needzero.load(Relaxed));
        let c = ph.alloc_span(&map, &stats, 8, 0, 16).unwrap();
        assert_eq!(c.get().base(), abase);
        assert!(c.get().needzero.load(Relaxed));
        ph.free_span(&map, &stats, c);
        // Not yet a cycle old: kept. Two cycles later: released, unless the
        // heap keeps no more than it may retain.
        assert_eq!(ph.scavenge(&stats, 0), 0);
        ph.cycle += 2;
        assert_eq!(ph.scavenge(&stats, usize::MAX), 0);
        assert_eq!(ph.scavenge(&stats, 0), 8 * PAGE_SIZE);
        let d = ph.alloc_span(&map, &stats, 8, 0, 16).unwrap();
        assert_eq!(d.get().base(), abase);
        assert!(!d.get().needzero.load(Relaxed));
        ph.unmap_all();
    }

    #[test]
    fn runs_are_released_only_after_the_scavenge_delay() {
        let map = ArenaMap::new();
        let stats = PageStats::default();
        let mut ph = PageHeap::new();
        ph.scavenge_delay = Duration::from_secs(3600);
        let a = ph.alloc_span(&map, &stats, 16, 0, 16).unwrap();
        ph.free_span(&map, &stats, a);
        ph.cycle += 2;
        // A cycle old but freed just now: kept however much is in excess.
        assert_eq!(ph.scavenge(&stats, 0), 0);
        ph.scavenge_delay = Duration::ZERO;
        assert!(ph.scavenge(&stats, 0) >= 16 * PAGE_SIZE);
        ph.unmap_all();
    }

    #[test]
    fn a_merged_run_is_as_old_as_its_larger_part_in_memory() {
        let map = ArenaMap::new();
        let stats = PageStats::default();
        let mut ph = PageHeap::new();
        ph.scavenge_delay = Duration::from_millis(200);
        let big = ph.alloc_span(&map, &stats, 64, 0, 16).unwrap();
        let small = ph.alloc_span(&map, &stats, 2, 0, 16).unwrap();
        ph.free_span(&map, &stats, big);
        // Older than the delay (a slow machine can only make it older).
        std::thread::sleep(Duration::from_millis(250));
        ph.next_cycle();
        // A small span freed next to it now leaves it old: released. (With
        // the latest time of the two, nothing was.)
        ph.free_span(&map, &stats, small);
        ph.next_cycle();
        ph.next_cycle();
        assert!(ph.scavenge(&stats, 0) >= 64 * PAGE_SIZE);
        ph.unmap_all();
    }

    /// The scavenger releases a run with the page-heap lock dropped: the
    /// run is out of the free map meanwhile, so no span is made of it.
    #[test]
    fn a_run_being_released_is_not_handed_out() {
        let map = ArenaMap::new();
        let stats = PageStats::default();
        let mut ph = PageHeap::new();
        ph.scavenge_delay = Duration::ZERO;
        let a = ph.alloc_span(&map, &stats, 16, 0, 16).unwrap();
        let abase = a.get().base();
        ph.free_span(&map, &stats, a);
        ph.cycle += 2;
        let taken = ph
            .scavenge_take(usize::MAX, 8 * PAGE_SIZE)
            .expect("an old free run");
        let tail = abase + 8 * PAGE_SIZE;
        assert_eq!((taken.base, taken.bytes()), (tail, 8 * PAGE_SIZE));
        // The rest of the run is still free; the taken tail is not.
        let b = ph.alloc_span(&map, &stats, 8, 0, 16).unwrap();
        assert_eq!(b.get().base(), abase);
        let c = ph.alloc_span(&map, &stats, 8, 0, 16).unwrap();
        assert_ne!(c.get().base(), tail);
        let ok = os::release(taken.base, taken.bytes());
        assert_eq!(
            ph.scavenge_put_back(&stats, taken, ok),
            Some((tail, 8 * PAGE_SIZE))
        );
        // Back, reading as zero.
        let d = ph.alloc_span(&map, &stats, 8, 0, 16).unwrap();
        assert_eq!(d.get().base(), tail);
        assert!(!d.get().needzero.load(Relaxed));
        ph.unmap_all();
    }

    /// Allocation takes the lowest free pages; the scavenger gives back
    /// the highest first, so what it releases is what allocation reaches
    /// last.
    #[test]
    fn the_scavenger_releases_the_highest_free_pages_first() {
        let map = ArenaMap::new();
        let stats = PageStats::default();
        let mut ph = PageHeap::new();
        ph.scavenge_delay = Duration::ZERO;
        let low = ph.alloc_span(&map, &stats, 16, 0, 16).unwrap();
        // A span between the two keeps them from merging.
        let _between = ph.alloc_span(&map, &stats, 1, 0, 16).unwrap();
        let high = ph.alloc_span(&map, &stats, 16, 0, 16).unwrap();
        let (lowbase, highbase) = (low.get().base(), high.get().base());
        assert!(lowbase < highbase);
        ph.free_span(&map, &stats, low);
        ph.free_span(&map, &stats, high);
        ph.cycle += 2;
        // Keep all but 16 pages: the high run goes (with the top of the
        // arena above it, which was never used and counts as released).
        let retain = stats.in_use_bytes.load(Relaxed) + 16 * PAGE_SIZE;
        assert_eq!(ph.scavenge(&stats, retain), 16 * PAGE_SIZE);
        let again = ph.alloc_span(&map, &stats, 16, 0, 16).unwrap();
        assert_eq!(again.get().base(), lowbase);
        assert!(again.get().needzero.load(Relaxed), "the low run was kept");
        ph.unmap_all();
    }

    /// Released and unreleased free runs stay apart, but a span too big
    /// for either alone is made of both.
    #[test]
    fn a_span_spans_adjacent_released_and_unreleased_runs() {
        let map = ArenaMap::new();
        let stats = PageStats::default();
        let mut ph = PageHeap::new();
        ph.scavenge_delay = Duration::ZERO;
        let a = ph.alloc_span(&map, &stats, 16, 0, 16).unwrap();
        let b = ph.alloc_span(&map, &stats, 16, 0, 16).unwrap();
        let abase = a.get().base();
        ph.free_span(&map, &stats, a);
        ph.cycle += 2;
        // Release `a` alone (the retain covers everything else).
        let retain = stats.in_use_bytes.load(Relaxed);
        assert_eq!(ph.scavenge(&stats, retain), 16 * PAGE_SIZE);
        ph.free_span(&map, &stats, b);
        // The whole arena: `a`, `b` and the never-used rest above them,
        // as one run that needs zeroing (`b` held data).
        let whole = ARENA_BYTES / PAGE_SIZE;
        let big = ph
            .alloc_span(&map, &stats, whole, crate::span::LARGE_CLASS, ARENA_BYTES)
            .unwrap();
        assert_eq!(big.get().base(), abase);
        assert!(big.get().needzero.load(Relaxed));
        ph.unmap_all();
    }

    #[test]
    fn large_spans_beyond_one_arena_are_mapped_contiguously() {
        let map = ArenaMap::new();
        let stats = PageStats::default();
        let mut ph = PageHeap::new();
        let npages = ARENA_BYTES / PAGE_SIZE + 10;
        let s = ph
            .alloc_span(
                &map,
                &stats,
                npages,
                crate::span::LARGE_CLASS,
                npages * PAGE_SIZE,
            )
            .unwrap();
        let base = s.get().base();
        assert_eq!(map.span_of(base + (npages - 1) * PAGE_SIZE), Some(s));
        ph.unmap_all();
    }
}
