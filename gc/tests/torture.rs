//! Short variant of the torture example (a few seconds).

#[path = "../examples/torture/model.rs"]
mod model;

/// Three seconds of the torture model on two threads with checkmark,
/// gcverify and a write-barrier buffer of 2, which must mark everything
/// it should and run a few cycles.
fn run_short(gcstress: u64, poison: bool) {
    let s = model::run(&model::Config {
        threads: 2,
        duration: std::time::Duration::from_secs(3),
        checkmark: true,
        live_per_thread: 20_000,
        gctrace: false,
        gcstress,
        wbbuf: 2,
        poison,
        gcverify: true,
    });
    eprintln!("{s:?}");
    assert!(s.cycles >= 3, "too few cycles: {s:?}");
    assert_eq!((s.missed, s.corrupted), (0, 0), "{s:?}");
}

#[test]
fn torture_short_with_checkmark_and_tiny_wbbuf() {
    run_short(2_000, true);
}

/// The same without gcstress and poisoning, which route every allocation
/// through `alloc_slow`: here cycles come from the pacer, and allocations
/// during mark take the fast path that marks them black (`alloc_black_fast`).
/// Checkmark and gcverify catch an object it failed to mark.
#[test]
fn torture_short_with_checkmark_on_the_fast_allocation_path() {
    run_short(0, false);
}
