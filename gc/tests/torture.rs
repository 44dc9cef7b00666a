//! Short variant of the torture example (a few seconds).

#[path = "../examples/torture/model.rs"]
mod model;

#[test]
fn torture_short_with_checkmark_and_tiny_wbbuf() {
    let s = model::run(&model::Config {
        threads: 2,
        duration: std::time::Duration::from_secs(3),
        checkmark: true,
        live_per_thread: 20_000,
        gctrace: false,
        gcstress: 2_000,
        wbbuf: 2,
        poison: true,
        gcverify: true,
    });
    eprintln!("{s:?}");
    assert!(s.cycles >= 3, "too few cycles: {s:?}");
    assert_eq!((s.missed, s.corrupted), (0, 0), "{s:?}");
}

/// The same without gcstress and poisoning, which route every allocation
/// through `alloc_slow`: here cycles come from the pacer, and allocations
/// during mark take the fast path that marks them black (`alloc_black_fast`).
/// Checkmark and gcverify catch an object it failed to mark.
#[test]
fn torture_short_with_checkmark_on_the_fast_allocation_path() {
    let s = model::run(&model::Config {
        threads: 2,
        duration: std::time::Duration::from_secs(3),
        checkmark: true,
        live_per_thread: 20_000,
        gctrace: false,
        gcstress: 0,
        wbbuf: 2,
        poison: false,
        gcverify: true,
    });
    eprintln!("{s:?}");
    assert!(s.cycles >= 3, "too few cycles: {s:?}");
    assert_eq!((s.missed, s.corrupted), (0, 0), "{s:?}");
}
