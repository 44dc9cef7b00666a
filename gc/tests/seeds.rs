//! Tests named after the seed behaviours and the misuse cases of issue 3.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft_gc::{
    AllocError, BarrierFreeRef, Heap, HeapConfig, Mutator, ObjRef, ObjView, PacerConfig, RootKind,
    RootProvider, Tracer, TypeId, TypeInfo, TypeTable, P,
};

fn trace_all(obj: ObjView<'_>, t: &mut Tracer<'_>) {
    t.mark_slots(obj.slots());
}

/// Roots: a vector of value words.
#[derive(Default)]
struct Roots(Mutex<Vec<u64>>);

impl RootProvider for Roots {
    fn scan_roots(&self, tracer: &mut Tracer<'_>) {
        for &w in self.0.lock().unwrap().iter() {
            tracer.mark_word(w);
        }
    }
}

fn heap_with(config: HeapConfig) -> (Arc<Heap>, TypeId) {
    let mut types = TypeTable::new();
    let ty = types.register(TypeInfo {
        name: "obj",
        trace: Some(trace_all),
    });
    (Heap::new(config, types), ty)
}

fn checked_config() -> HeapConfig {
    let mut c = HeapConfig {
        nprocs: 2,
        ..HeapConfig::default()
    };
    c.debug.wbcheck = true;
    c
}

fn slots(o: ObjRef) -> &'static [AtomicU64] {
    // SAFETY: the tests only touch objects they keep rooted.
    unsafe { o.slots() }
}

/// Allocates `n` objects of `payload` bytes, each pointing (slot 0) at the
/// one before, with `roots` holding just the newest at every allocation.
fn build_rooted_chain(
    p: &mut P,
    g: &mut Mutator,
    ty: TypeId,
    roots: &Roots,
    n: usize,
    payload: usize,
) {
    let mut head = 0u64;
    for _ in 0..n {
        let o = p.alloc(g, ty, payload).unwrap();
        p.write_slot(&slots(o)[0], head);
        head = o.addr() as u64;
        *roots.0.lock().unwrap() = vec![head];
    }
}

fn panic_message(e: Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn barrier_without_p_is_fatal_in_checked_builds() {
    let (heap, ty) = heap_with(checked_config());
    let mut p = heap.acquire_p();
    let mut g = Mutator::new();
    let obj = p.alloc(&mut g, ty, 16).unwrap();
    let addr = obj.addr();
    // Legal: the owning M stores through its own P.
    p.write_slot(&slots(obj)[0], 0);
    // Move the P to another M without a handoff: that M does not own it.
    let err = std::thread::spawn(move || {
        let r = catch_unwind(AssertUnwindSafe(|| {
            let o = ObjRef::from_addr(addr).unwrap();
            p.write_slot(&slots(o)[0], 0);
        }));
        std::mem::forget(p);
        r
    })
    .join()
    .unwrap()
    .expect_err("a barrier on an M that does not own the P must be fatal");
    let msg = panic_message(err);
    assert!(msg.contains("weft-gc fatal error"), "{msg}");
    assert!(msg.contains("does not own P"), "{msg}");
    assert!(
        msg.contains("seeds.rs"),
        "the message names the store: {msg}"
    );
    heap.shutdown();
}

#[test]
fn barrier_after_proper_handoff_is_legal() {
    let (heap, ty) = heap_with(checked_config());
    let mut p = heap.acquire_p();
    let mut g = Mutator::new();
    let obj = p.alloc(&mut g, ty, 16).unwrap();
    let addr = obj.addr();
    let h = p.handoff();
    let p = std::thread::spawn(move || {
        let mut p = h.resume();
        p.write_slot(&slots(ObjRef::from_addr(addr).unwrap())[0], 0);
        p
    })
    .join()
    .unwrap();
    std::mem::forget(p);
    heap.shutdown();
}

#[test]
fn assist_completion_reported_through_mutator_record() {
    // No background workers: only assists can drain the mark work.
    let (heap, ty) = heap_with(HeapConfig {
        nprocs: 1,
        mark_workers: Some(0),
        ..HeapConfig::default()
    });
    let roots = Arc::new(Roots::default());
    heap.add_roots(RootKind::Other, roots.clone());
    let mut p = heap.acquire_p();
    let mut g = Mutator::new();
    // A rooted chain of 20k objects gives the mark phase real work.
    build_rooted_chain(&mut p, &mut g, ty, &roots, 20_000, 16);
    heap.request_cycle();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut completed = false;
    while Instant::now() < deadline && !completed {
        let _garbage = p.alloc(&mut g, ty, 64).unwrap();
        completed = g.take_assist_completed_mark();
    }
    assert!(
        completed,
        "an assist should have drained the mark and reported it through the Mutator record"
    );
    assert!(heap.stats().assist_time > Duration::ZERO);
    drop(p);
    heap.shutdown();
}

static HOOK_CALLS: AtomicUsize = AtomicUsize::new(0);
static HOOK_SLOT: AtomicU64 = AtomicU64::new(0);

fn helper_hook(p: &mut P) {
    // A barriered store from the helper: legal only because it holds the P.
    p.write_slot(&HOOK_SLOT, 0);
    HOOK_CALLS.fetch_add(1, SeqCst);
}

#[test]
fn helpers_hold_ps_during_mark_termination() {
    let mut c = checked_config();
    c.nprocs = 3;
    c.helper_hook = Some(helper_hook);
    let (heap, ty) = heap_with(c);
    let roots = Arc::new(Roots::default());
    heap.add_roots(RootKind::Other, roots.clone());
    let mut p = heap.acquire_p();
    let mut g = Mutator::new();
    let o = p.alloc(&mut g, ty, 32).unwrap();
    roots.0.lock().unwrap().push(o.addr() as u64);
    let before = heap.stats().helper_runs_with_p;
    p.gc();
    let s = heap.stats();
    // Every P (including the one this thread holds, stopped meanwhile) was
    // lent to a helper that owned it.
    assert!(s.helper_runs_with_p >= before + 3, "{s:?}");
    assert!(HOOK_CALLS.load(SeqCst) >= 3);
    // The P came back to this M: barriers here are still legal.
    p.write_slot(&slots(o)[0], 0);
    drop(p);
    heap.shutdown();
}

#[test]
fn barrier_free_stores_validated() {
    let (heap, ty) = heap_with(checked_config());
    let runtime_roots = Arc::new(Roots::default());
    heap.add_roots(RootKind::Runtime, runtime_roots.clone());
    let mut p = heap.acquire_p();
    let mut g = Mutator::new();
    let rooted = p.alloc(&mut g, ty, 16).unwrap();
    let table = p.alloc(&mut g, ty, 16).unwrap();
    // `rooted` is reachable through a runtime table object.
    p.write_slot(&slots(table)[0], rooted.addr() as u64);
    runtime_roots.0.lock().unwrap().push(table.addr() as u64);
    let gref: BarrierFreeRef<()> = BarrierFreeRef::new();
    gref.store(&heap, Some(rooted));
    assert_eq!(gref.load(), Some(rooted));
    let stray = p.alloc(&mut g, ty, 16).unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| gref.store(&heap, Some(stray))))
        .expect_err("unrooted target");
    let msg = panic_message(err);
    assert!(
        msg.contains("not reachable from the runtime's roots"),
        "{msg}"
    );
    assert_eq!(
        gref.load(),
        Some(rooted),
        "the invalid store did not happen"
    );
    gref.store(&heap, None);
    drop(p);
    heap.shutdown();
}

#[test]
fn unreachable_objects_are_freed_and_reachable_ones_kept() {
    let (heap, ty) = heap_with(HeapConfig {
        nprocs: 1,
        ..HeapConfig::default()
    });
    let roots = Arc::new(Roots::default());
    heap.add_roots(RootKind::Other, roots.clone());
    let mut p = heap.acquire_p();
    let mut g = Mutator::new();
    let keep = p.alloc(&mut g, ty, 24).unwrap();
    slots(keep)[1].store(0xabc0, Relaxed);
    roots.0.lock().unwrap().push(keep.addr() as u64);
    for _ in 0..100_000 {
        p.alloc(&mut g, ty, 24).unwrap();
    }
    let big = p.alloc(&mut g, ty, 1 << 20).unwrap();
    let in_use_before = heap.stats().heap_in_use;
    p.gc();
    p.gc();
    let s = heap.stats();
    assert!(
        s.heap_in_use < in_use_before / 2,
        "garbage was not freed: {} -> {}",
        in_use_before,
        s.heap_in_use
    );
    assert_eq!(
        slots(keep)[1].load(Relaxed),
        0xabc0,
        "the rooted object survived intact"
    );
    assert!(heap.stats().cycles >= 2);
    let _ = big;
    drop(p);
    heap.shutdown();
}

#[test]
fn out_of_memory_is_an_error_not_an_abort() {
    let pacer = PacerConfig {
        gogc: Some(100),
        mem_limit: Some(16 << 20),
    };
    let (heap, ty) = heap_with(HeapConfig {
        nprocs: 1,
        pacer,
        ..HeapConfig::default()
    });
    let roots = Arc::new(Roots::default());
    heap.add_roots(RootKind::Other, roots.clone());
    let mut p = heap.acquire_p();
    let mut g = Mutator::new();
    let mut err = None;
    for _ in 0..10_000 {
        match p.alloc(&mut g, ty, 64 << 10) {
            Ok(o) => roots.0.lock().unwrap().push(o.addr() as u64),
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    assert!(
        matches!(err, Some(AllocError::OutOfMemory { .. })),
        "{err:?}"
    );
    // Dropping the roots makes memory available again.
    roots.0.lock().unwrap().clear();
    p.alloc(&mut g, ty, 64 << 10)
        .expect("memory is reclaimed after the roots are dropped");
    drop(p);
    heap.shutdown();
}

#[test]
fn gcpoison_detects_a_write_to_freed_memory_on_reuse() {
    let mut c = HeapConfig {
        nprocs: 1,
        ..HeapConfig::default()
    };
    c.debug.poison = true;
    let (heap, ty) = heap_with(c);
    let roots = Arc::new(Roots::default());
    heap.add_roots(RootKind::Other, roots.clone());
    let mut p = heap.acquire_p();
    let mut g = Mutator::new();
    // A live neighbour keeps the span in use, so the freed slot stays a slot.
    let keep = p.alloc(&mut g, ty, 24).unwrap();
    roots.0.lock().unwrap().push(keep.addr() as u64);
    let dangling = p.alloc(&mut g, ty, 24).unwrap();
    p.gc();
    heap.finish_sweep();
    // A use-after-free write (the memory stays mapped; it holds the pattern).
    assert_eq!(
        slots(dangling)[0].load(Relaxed),
        u64::from_ne_bytes([weft_gc::POISON; 8])
    );
    slots(dangling)[0].store(42, Relaxed);
    let err = catch_unwind(AssertUnwindSafe(|| {
        for _ in 0..100_000 {
            let _ = p.alloc(&mut g, ty, 24).unwrap();
        }
    }))
    .expect_err("reusing the corrupted slot must be fatal");
    let msg = panic_message(err);
    assert!(
        msg.contains("gcpoison") && msg.contains(&format!("{:#x}", dangling.addr())),
        "{msg}"
    );
    std::mem::forget(p);
    heap.shutdown();
}

#[test]
fn a_long_mark_ends_without_probing_the_world() {
    // A rooted chain of 3 million objects: its mark is one object after
    // another (no parallelism), tens to hundreds of milliseconds. The
    // mutator waits in `gc()`, so nothing but the chain is grey: a stop
    // that found work would have come while the worker was still on it.
    let (heap, ty) = heap_with(HeapConfig {
        nprocs: 1,
        mark_workers: Some(1),
        ..HeapConfig::default()
    });
    let roots = Arc::new(Roots::default());
    heap.add_roots(RootKind::Other, roots.clone());
    let mut p = heap.acquire_p();
    let mut g = Mutator::new();
    build_rooted_chain(&mut p, &mut g, ty, &roots, 3_000_000, 8);
    let before = heap.stats();
    p.gc();
    let s = heap.stats();
    assert!(s.cycles > before.cycles);
    assert_eq!(
        s.mark_restarts,
        before.mark_restarts,
        "the mark was probed with a stop-the-world before it drained (mark cpu {:?})",
        s.mark_cpu - before.mark_cpu
    );
    drop(p);
    heap.shutdown();
}
