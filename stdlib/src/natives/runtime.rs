//! `runtime`: GC, GOMAXPROCS, NumGoroutine, Gosched, ReadMemStats.
//!
//! NumGoroutine counts live goroutines; Gosched yields the P to the others.

use weft_vm::native::Results;
use weft_vm::native::{ModuleDef, NativeCtx};
use weft_vm::results;
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("GC", gc)
        .function("GOMAXPROCS", gomaxprocs)
        .function("NumGoroutine", num_goroutine)
        .function("Gosched", gosched)
        .function("ReadMemStats", read_mem_stats)
}

/// Runs a full collection and waits for it, as Go's runtime.GC does.
fn gc(ctx: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
    ctx.p.gc();
    Ok(results![])
}

/// `GOMAXPROCS(n)`: the previous setting; with `n > 0`, at most `n`
/// goroutines run at once from now on (capped at the number of Ps, twice
/// `WEFTMAXPROCS`), as Go's. `GOMAXPROCS()` or `GOMAXPROCS(0)` only reports.
fn gomaxprocs(ctx: &mut NativeCtx<'_>, args: &[Value]) -> Result<Results, String> {
    let n = if args.is_empty() {
        0
    } else {
        super::int_arg(args, 0, "runtime.GOMAXPROCS")?
    };
    let old = if n > 0 {
        ctx.set_gomaxprocs(n as usize)
    } else {
        ctx.gomaxprocs()
    };
    Ok(results![ctx.new_int(old as i64)?])
}

fn num_goroutine(ctx: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
    let n = ctx.num_goroutine() as i64;
    Ok(results![ctx.new_int(n)?])
}

/// Lets the other runnable goroutines run first.
fn gosched(ctx: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
    ctx.yield_now();
    Ok(results![])
}

/// Collector statistics as a map with Go's field names (`PauseNs` a list).
fn read_mem_stats(ctx: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
    let s = ctx.p.heap().stats();
    let stacks = ctx.stack_bytes() as i64;
    let entries: [(&str, i64); 9] = [
        ("StackInuse", stacks),
        ("HeapAlloc", s.heap_live as i64),
        ("HeapInuse", s.heap_in_use as i64),
        ("HeapSys", s.heap_mapped as i64),
        // Go's Sys counts its stacks (StackSys) beside the heap; ours
        // are off the heap.
        ("StackSys", stacks),
        ("Sys", s.heap_mapped as i64 + stacks),
        ("NumGC", s.cycles as i64),
        ("PauseTotalNs", s.total_pause.as_nanos() as i64),
        ("Mallocs", s.objects_allocated as i64),
    ];
    let map = ctx.new_map(&entries)?;
    // PauseNs: Go's circular buffer of the last 256 cycles' pause times
    // (the latest at (NumGC+255)%256).
    let pauses = ctx.p.heap().pause_ns();
    let mut items = Vec::with_capacity(pauses.len());
    for ns in pauses {
        items.push(ctx.new_int(ns as i64)?);
    }
    let list = ctx.new_list(&items)?;
    let key = ctx.new_string(b"PauseNs")?;
    ctx.map_set(map, key, list)?;
    Ok(results![map])
}
