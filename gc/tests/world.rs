//! Stop-the-world under churn: more threads than Ps, Ps acquired, released,
//! handed off and held across blocking regions while gcstress runs cycles.

use std::sync::atomic::Ordering::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft_gc::{
    Heap, HeapConfig, Mutator, ObjView, RootKind, RootProvider, Tracer, TypeInfo, TypeTable,
};

fn trace_all(obj: ObjView<'_>, t: &mut Tracer<'_>) {
    t.mark_slots(obj.slots());
}

struct Roots(Mutex<Vec<u64>>);

impl RootProvider for Roots {
    fn scan_roots(&self, tracer: &mut Tracer<'_>) {
        for &w in self.0.lock().unwrap().iter() {
            tracer.mark_word(w);
        }
    }
}

#[test]
fn stop_the_world_with_p_churn_handoffs_and_blocking() {
    let mut types = TypeTable::new();
    let ty = types.register(TypeInfo {
        name: "pair",
        trace: Some(trace_all),
    });
    let mut c = HeapConfig {
        nprocs: 2,
        ..HeapConfig::default()
    };
    c.debug.gcstress = 300;
    c.debug.checkmark = true;
    c.checkmark_nonfatal = true;
    let heap = Heap::new(c, types);
    let roots = Arc::new(Roots(Mutex::new(vec![0; 3])));
    heap.add_roots(RootKind::Other, roots.clone());
    let deadline = Instant::now() + Duration::from_millis(1500);
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let heap = Arc::clone(&heap);
            let roots = Arc::clone(&roots);
            std::thread::spawn(move || {
                let mut g = Mutator::new();
                let mut rounds = 0u64;
                while Instant::now() < deadline {
                    let mut p = heap.acquire_p();
                    for i in 0..200u64 {
                        let o = p.alloc(&mut g, ty, 16).unwrap();
                        // SAFETY: just allocated, rooted below before the next safepoint.
                        let s = unsafe { o.slots() };
                        let prev = roots.0.lock().unwrap()[t];
                        p.write_slot(&s[0], prev);
                        s[1].store(i << 8 | 1, Relaxed);
                        roots.0.lock().unwrap()[t] = o.addr() as u64;
                        if i % 50 == 0 {
                            // Drop the list now and then so garbage exists.
                            roots.0.lock().unwrap()[t] = 0;
                        }
                    }
                    p.blocking(std::thread::yield_now);
                    let h = p.handoff();
                    let p = std::thread::scope(|s| s.spawn(|| h.resume()).join().unwrap());
                    // The P moved to the scoped thread's M; take it back properly.
                    let h = p.handoff();
                    let p = h.resume();
                    drop(p);
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    let rounds: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let s = heap.stats();
    heap.shutdown();
    assert!(rounds >= 3, "{rounds}");
    assert!(s.cycles >= 3, "{s:?}");
    assert_eq!(s.checkmark_missed, 0, "{s:?}");
}

/// A large allocation on reused pages is zeroed a chunk at a time with
/// safepoints between (so a stop-the-world waits for one chunk, not
/// megabytes). The object is not yet rooted then: mark termination must
/// find it pinned in the P and mark it, or the sweep would free it under
/// the allocator. Each object, pointer-free or not in turn, is checked to
/// come back zeroed, then filled with a pattern (words that are not heap
/// addresses) that must survive the cycles that follow.
#[test]
fn large_objects_zeroed_at_safepoints_stay_alive() {
    let mut types = TypeTable::new();
    let bytes = types.register(TypeInfo {
        name: "bytes",
        trace: None,
    });
    let slots = types.register(TypeInfo {
        name: "slots",
        trace: Some(trace_all),
    });
    let mut c = HeapConfig {
        nprocs: 2,
        ..HeapConfig::default()
    };
    c.debug.checkmark = true;
    c.checkmark_nonfatal = true;
    // A pinned object still being zeroed is marked over stale words: the
    // black-to-white verifier must skip it rather than take them for
    // pointers.
    c.debug.gcverify = true;
    let heap = Heap::new(c, types);
    let roots = Arc::new(Roots(Mutex::new(vec![0; 2])));
    heap.add_roots(RootKind::Other, roots.clone());
    let deadline = Instant::now() + Duration::from_secs(5);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cycler = {
        let (heap, done) = (Arc::clone(&heap), Arc::clone(&done));
        std::thread::spawn(move || {
            while !done.load(Relaxed) {
                heap.request_cycle();
                std::thread::sleep(Duration::from_micros(300));
            }
        })
    };
    const WORDS: usize = 1 << 20; // 8 MiB
    let mut g = Mutator::new();
    let mut p = heap.acquire_p();
    let mut rounds = 0u64;
    while Instant::now() < deadline && (rounds < 20 || heap.stats().pinned_marked < 3) {
        let ty = if rounds % 2 == 0 { bytes } else { slots };
        let o = p.alloc(&mut g, ty, WORDS * 8).unwrap();
        // SAFETY: just allocated; rooted below before the next safepoint
        // (the checks in between do not allocate).
        let s = unsafe { o.slots() };
        assert!(
            s.iter().all(|w| w.load(Relaxed) == 0),
            "round {rounds}: not zeroed"
        );
        let tag = 1 << 63 | rounds << 32;
        for (i, w) in s.iter().enumerate() {
            w.store(tag | i as u64, Relaxed);
        }
        let older = {
            let mut r = roots.0.lock().unwrap();
            let older = r[(rounds as usize + 1) % 2];
            r[rounds as usize % 2] = o.addr() as u64;
            older
        };
        if let Some(prev) = weft_gc::ObjRef::from_addr(older as usize) {
            // SAFETY: rooted in `roots` since the previous round.
            let s = unsafe { prev.slots() };
            let tag = 1 << 63 | (rounds - 1) << 32;
            assert!(
                s.iter()
                    .enumerate()
                    .all(|(i, w)| w.load(Relaxed) == tag | i as u64),
                "round {rounds}: the previous object was overwritten"
            );
        }
        p.safepoint();
        rounds += 1;
    }
    drop(p);
    done.store(true, Relaxed);
    cycler.join().unwrap();
    let s = heap.stats();
    heap.shutdown();
    assert!(
        s.pinned_marked > 0,
        "no cycle ended during a zeroing: {s:?}"
    );
    assert_eq!(s.checkmark_missed, 0, "{s:?}");
}
