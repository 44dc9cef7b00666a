//! `RootKind::Barriered` roots (module globals) are scanned concurrently;
//! objects held only there survive while a mutator keeps moving them around.

use std::sync::atomic::{AtomicU64, Ordering::*};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_gc::{
    Heap, HeapConfig, Mutator, ObjRef, RootKind, RootProvider, Tracer, TypeInfo, TypeTable,
};

const NGLOBALS: usize = 256;

struct Globals(Vec<AtomicU64>);

impl RootProvider for Globals {
    fn scan_roots(&self, tracer: &mut Tracer<'_>) {
        tracer.mark_slots(&self.0);
    }
}

fn check(word: u64) -> bool {
    if word == 0 {
        return true;
    }
    // SAFETY: every non-zero global holds a live object (it is a root).
    let s = unsafe { ObjRef::from_addr(word as usize).unwrap().slots() };
    s[1].load(Relaxed) == s[0].load(Relaxed).wrapping_mul(31) ^ 7
}

#[test]
fn barriered_globals_are_scanned_concurrently_and_nothing_is_lost() {
    let mut types = TypeTable::new();
    let ty = types.register(TypeInfo {
        name: "leaf",
        trace: None,
    });
    let mut c = HeapConfig {
        nprocs: 1,
        checkmark_nonfatal: true,
        ..HeapConfig::default()
    };
    c.debug.checkmark = true;
    c.debug.gcstress = 400;
    c.debug.poison = true;
    let heap = Heap::new(c, types);
    let globals = Arc::new(Globals((0..NGLOBALS).map(|_| AtomicU64::new(0)).collect()));
    heap.add_roots(RootKind::Barriered, globals.clone());
    let mut p = heap.acquire_p();
    let mut g = Mutator::new();
    let mut rng = 0x1234_5678_9abc_def1u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut id = 0u64;
    let mut bad = 0;
    while Instant::now() < deadline {
        let (i, j) = (next() as usize % NGLOBALS, next() as usize % NGLOBALS);
        if next() % 2 == 0 {
            id += 1;
            let o = p.alloc(&mut g, ty, 16).unwrap();
            // SAFETY: just allocated; stored into a root before the next safepoint.
            let s = unsafe { o.slots() };
            s[0].store(id, Relaxed);
            s[1].store(id.wrapping_mul(31) ^ 7, Relaxed);
            p.write_slot(&globals.0[i], o.addr() as u64);
        } else if i != j {
            // Move a value between globals: both stores are barriered.
            let v = globals.0[i].load(Relaxed);
            p.write_slot(&globals.0[j], v);
            p.write_slot(&globals.0[i], 0);
        }
        if id % 1000 == 0 {
            bad += globals.0.iter().filter(|w| !check(w.load(Relaxed))).count();
        }
    }
    bad += globals.0.iter().filter(|w| !check(w.load(Relaxed))).count();
    p.gc();
    let s = heap.stats();
    drop(p);
    heap.shutdown();
    assert_eq!(bad, 0);
    assert!(s.cycles >= 3, "{s:?}");
    assert_eq!(s.checkmark_missed, 0, "{s:?}");
}
