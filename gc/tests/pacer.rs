//! The pacer starts cycles by itself; WEFTGC=off does not; absurd sizes are
//! errors.

use std::time::{Duration, Instant};

use weft_gc::{AllocError, Heap, HeapConfig, Mutator, PacerConfig, TypeInfo, TypeTable};

fn run(gogc: Option<u32>) -> u64 {
    let mut types = TypeTable::new();
    let ty = types.register(TypeInfo {
        name: "leaf",
        trace: None,
    });
    let mut c = HeapConfig {
        nprocs: 1,
        ..HeapConfig::default()
    };
    c.pacer = PacerConfig {
        gogc,
        mem_limit: None,
    };
    c.debug = Default::default();
    let heap = Heap::new(c, types);
    let mut p = heap.acquire_p();
    let mut g = Mutator::new();
    // 32 MiB of garbage: several times the minimum heap goal.
    for _ in 0..(32 << 20) / 128 {
        p.alloc(&mut g, ty, 120).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while gogc.is_some() && heap.stats().cycles == 0 && Instant::now() < deadline {
        p.blocking(|| std::thread::sleep(Duration::from_millis(5)));
    }
    let cycles = heap.stats().cycles;
    if gogc.is_some() {
        // Garbage was reclaimed: the heap did not grow to 32 MiB.
        assert!(heap.stats().heap_in_use < 24 << 20, "{:?}", heap.stats());
    }
    drop(p);
    heap.shutdown();
    cycles
}

#[test]
fn cycles_start_at_the_trigger() {
    assert!(run(Some(100)) >= 1);
}

#[test]
fn weftgc_off_starts_no_cycle() {
    assert_eq!(run(None), 0);
}

#[test]
fn absurd_allocation_sizes_are_errors() {
    let heap = Heap::new(
        HeapConfig {
            nprocs: 1,
            ..HeapConfig::default()
        },
        TypeTable::new(),
    );
    let mut types_p = heap.acquire_p();
    let mut g = Mutator::new();
    let r = types_p.alloc(&mut g, weft_gc::TypeId(0), usize::MAX);
    assert!(matches!(r, Err(AllocError::OutOfMemory { .. })));
    drop(types_p);
    heap.shutdown();
}
