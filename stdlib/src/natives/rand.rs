//! `math/rand` as `rand`: Intn, Int, Float64, Seed (xorshift64*, seeded from
//! the clock; not for cryptography).

use super::int_arg;
use std::cell::Cell;
use weft_vm::native::Results;
use weft_vm::native::{ModuleDef, NativeCtx};
use weft_vm::results;
use weft_vm::value::Value;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed_from_clock());
}

fn seed_from_clock() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    t | 1
}

fn next() -> u64 {
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Intn", intn)
        .function("Int", int)
        .function("Float64", float64)
        .function("Seed", seed)
}

fn intn(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let n = int_arg(a, 0, "rand.Intn")?;
    if n <= 0 {
        return Err("invalid argument to Intn".into());
    }
    Ok(results![ctx.new_int((next() % n as u64) as i64)?])
}

fn int(ctx: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
    Ok(results![ctx.new_int((next() >> 1) as i64)?])
}

fn float64(_: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
    Ok(results![Value::float(
        (next() >> 11) as f64 / (1u64 << 53) as f64,
    )])
}

fn seed(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let s = int_arg(a, 0, "rand.Seed")?;
    STATE.with(|st| st.set((s as u64) | 1));
    Ok(results![])
}
