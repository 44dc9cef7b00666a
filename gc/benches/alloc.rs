//! Small-object allocation vs mimalloc and the system allocator's malloc+free
//! pair (32-byte blocks: a 24-byte payload plus the 8-byte header).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use weft_gc::{Heap, HeapConfig, Mutator, PacerConfig, TypeInfo, TypeTable};

fn heap(gogc: Option<u32>) -> (std::sync::Arc<Heap>, weft_gc::TypeId) {
    let mut types = TypeTable::new();
    let ty = types.register(TypeInfo {
        name: "leaf",
        trace: None,
    });
    let mut config = HeapConfig {
        nprocs: 1,
        ..HeapConfig::default()
    };
    config.debug = Default::default();
    config.pacer = PacerConfig {
        gogc,
        mem_limit: None,
    };
    (Heap::new(config, types), ty)
}

fn bench_alloc(c: &mut Criterion) {
    let mut group = c.benchmark_group("alloc_32B");

    // The allocation path alone: GOGC off, a forced collection between timed
    // batches of 1M allocations (refills and lazy sweeping stay timed).
    let (h, ty) = heap(None);
    let mut p = h.acquire_p();
    let mut g = Mutator::new();
    group.bench_function("weft_gc_alloc_path", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(1 << 20);
                let t = Instant::now();
                for _ in 0..n {
                    black_box(p.alloc(&mut g, ty, black_box(24)).unwrap());
                }
                total += t.elapsed();
                left -= n;
                p.gc();
            }
            total
        })
    });
    drop(p);
    h.shutdown();

    // Everything included: the pacer runs cycles as configured (GOGC=100);
    // every object is garbage.
    let (h, ty) = heap(Some(100));
    let mut p = h.acquire_p();
    group.bench_function("weft_gc_alloc_with_gc", |b| {
        b.iter(|| black_box(p.alloc(&mut g, ty, black_box(24)).unwrap()))
    });
    drop(p);
    h.shutdown();

    let layout = Layout::from_size_align(32, 8).unwrap();
    group.bench_function("mimalloc_malloc_free", |b| {
        b.iter(|| {
            // SAFETY: a non-zero-size layout; the block is freed at once.
            unsafe {
                let q = mimalloc::MiMalloc.alloc(black_box(layout));
                black_box(q);
                mimalloc::MiMalloc.dealloc(q, layout);
            }
        })
    });
    group.bench_function("system_malloc_free", |b| {
        b.iter(|| {
            // SAFETY: as above.
            unsafe {
                let q = System.alloc(black_box(layout));
                black_box(q);
                System.dealloc(q, layout);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_alloc);
criterion_main!(benches);
