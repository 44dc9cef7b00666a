//! Barrier fast path with the collector off (one load, one predictable
//! branch) against a plain Relaxed store.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use criterion::{criterion_group, criterion_main, Criterion};
use weft_gc::{Heap, HeapConfig, TypeTable};

fn bench_barrier(c: &mut Criterion) {
    let mut config = HeapConfig {
        nprocs: 1,
        background: false,
        ..HeapConfig::default()
    };
    config.debug = Default::default();
    let heap = Heap::new(config, TypeTable::new());
    let mut p = heap.acquire_p();
    let slot = AtomicU64::new(0);
    let mut group = c.benchmark_group("store");
    group.bench_function("write_slot_barrier_off", |b| {
        let mut v = 0u64;
        b.iter(|| {
            v = v.wrapping_add(8);
            p.write_slot(black_box(&slot), v)
        })
    });
    group.bench_function("plain_relaxed_store", |b| {
        let mut v = 0u64;
        b.iter(|| {
            v = v.wrapping_add(8);
            black_box(&slot).store(v, Relaxed)
        })
    });
    group.finish();
    drop(p);
}

criterion_group!(benches, bench_barrier);
criterion_main!(benches);
