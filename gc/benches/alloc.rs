//! Small-object allocation fast path vs mimalloc and the system allocator's
//! malloc+free pair.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use weft_gc::{Heap, HeapConfig, Mutator, PacerConfig, TypeInfo, TypeTable};

fn bench_alloc(c: &mut Criterion) {
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
        gogc: Some(100),
        mem_limit: None,
    };
    let heap = Heap::new(config, types);
    let mut p = heap.acquire_p();
    let mut g = Mutator::new();
    let mut group = c.benchmark_group("alloc_32B");
    group.bench_function("weft_gc_alloc", |b| {
        b.iter(|| black_box(p.alloc(&mut g, ty, black_box(24)).unwrap()))
    });
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
    drop(p);
    heap.shutdown();
}

criterion_group!(benches, bench_alloc);
criterion_main!(benches);
