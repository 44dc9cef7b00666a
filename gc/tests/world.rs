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
