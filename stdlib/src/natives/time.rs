//! `time`: durations (plain ints of nanoseconds, as the brief settles),
//! `Now`/`Since`, `Sleep` (parks the goroutine on a timer; a sleeping program
//! uses no CPU), `After`/`Tick` and `NewTimer`/`NewTicker` (channels fed by
//! the runtime's timers; `.C`, `Stop`, `Reset`).
//!
//! A `time.Time` is a native object holding Unix nanoseconds
//! (`native::new_time`); timers send one on their channel when they fire.

use super::{arg, int_arg};
use weft_vm::native::Results;
use weft_vm::native::{unix_nanos, ModuleDef, NativeConst, NativeCtx, NativeType, TIME};

/// `time.Timer` and `time.Ticker`: see `timer_object`.
static TIMER: NativeType = NativeType::new("time", "Timer");
static TICKER: NativeType = NativeType::new("time", "Ticker");
use weft_vm::results;
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .constant("Nanosecond", NativeConst::Int(1))
        .constant("Microsecond", NativeConst::Int(1_000))
        .constant("Millisecond", NativeConst::Int(1_000_000))
        .constant("Second", NativeConst::Int(1_000_000_000))
        .constant("Minute", NativeConst::Int(60_000_000_000))
        .constant("Hour", NativeConst::Int(3_600_000_000_000))
        .function("Duration", duration)
        .function("Now", now)
        .function("Since", since)
        .function("Sleep", sleep)
        .function("After", after)
        .function("Tick", tick)
        .function("NewTimer", new_timer)
        .function("NewTicker", new_ticker)
        .getter("Timer.C", timer_c)
        .function("Timer.Stop", timer_stop)
        .function("Timer.Reset", timer_reset)
        .getter("Ticker.C", timer_c)
        .function("Ticker.Stop", timer_stop)
        .function("Ticker.Reset", ticker_reset)
        .function("Time.Sub", time_sub)
        .function("Time.Unix", time_unix)
        .function("Time.UnixNano", time_unix_nano)
        .function("Time.UnixMilli", time_unix_milli)
        .function("Time.Before", time_before)
        .function("Time.After", time_after)
        .function("Time.Equal", time_equal)
}

type Res = Result<Results, String>;

/// `time.Duration(n)`: durations are ints already.
fn duration(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let n = int_arg(a, 0, "time.Duration")?;
    Ok(results![ctx.new_int(n)?])
}

fn now(ctx: &mut NativeCtx<'_>, _: &[Value]) -> Res {
    Ok(results![ctx.new_time(unix_nanos())?])
}

/// The Unix nanoseconds of the `time.Time` in `a[i]`.
fn time_arg(a: &[Value], i: usize, func: &str) -> Result<i64, String> {
    a.get(i)
        .and_then(|v| TIME.state(*v, 0))
        .and_then(weft_vm::native::int_arg)
        .ok_or_else(|| format!("{func}: argument {} must be a time.Time", i + 1))
}

fn since(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let t = time_arg(a, 0, "time.Since")?;
    Ok(results![ctx.new_int(unix_nanos() - t)?])
}

fn sleep(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let d = int_arg(a, 0, "time.Sleep")?;
    ctx.sleep(d)?;
    Ok(results![])
}

/// A channel of capacity 1 fed by a new timer; returns (channel, timer id).
fn timer_chan(ctx: &mut NativeCtx<'_>, d: i64, period: i64) -> Result<(Value, i64), String> {
    let ch = ctx.new_chan(1)?;
    let id = ctx.add_timer(d, ch, period);
    Ok((ch, id as i64))
}

fn after(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let d = int_arg(a, 0, "time.After")?;
    Ok(results![timer_chan(ctx, d, 0)?.0])
}

fn tick(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let d = int_arg(a, 0, "time.Tick")?;
    if d <= 0 {
        return Ok(results![Value::NIL]);
    }
    Ok(results![timer_chan(ctx, d, d)?.0])
}

/// A Timer or Ticker object: state 0 the channel, 1 the timer id, 2 the period.
fn timer_object(ctx: &mut NativeCtx<'_>, ty: &NativeType, d: i64, period: i64) -> Res {
    let (ch, id) = timer_chan(ctx, d, period)?;
    let t = ctx.new_opaque(ty, 3)?;
    ctx.set_state(t, 0, ch)?;
    let id = ctx.new_int(id)?;
    ctx.set_state(t, 1, id)?;
    let period = ctx.new_int(period)?;
    ctx.set_state(t, 2, period)?;
    Ok(results![t])
}

fn new_timer(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let d = int_arg(a, 0, "time.NewTimer")?;
    timer_object(ctx, &TIMER, d, 0)
}

fn new_ticker(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let d = int_arg(a, 0, "time.NewTicker")?;
    if d <= 0 {
        return Err("non-positive interval for NewTicker".into());
    }
    timer_object(ctx, &TICKER, d, d)
}

/// The (channel, id) of a Timer or Ticker receiver.
fn timer_parts(a: &[Value]) -> Result<(Value, u64), String> {
    let recv = arg(a, 0);
    let get = |i| TIMER.state(recv, i).or_else(|| TICKER.state(recv, i));
    let ch = get(0).ok_or("not a time.Timer or time.Ticker")?;
    let id = get(1).and_then(weft_vm::native::int_arg).unwrap_or(0);
    Ok((ch, id as u64))
}

fn timer_c(_: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    Ok(results![timer_parts(a)?.0])
}

fn timer_stop(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let (_, id) = timer_parts(a)?;
    Ok(results![Value::bool(ctx.stop_timer(id))])
}

fn timer_reset(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let (ch, id) = timer_parts(a)?;
    let d = int_arg(a, 1, "time.Timer.Reset")?;
    Ok(results![Value::bool(ctx.reset_timer(id, d, ch, 0))])
}

fn ticker_reset(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let (ch, id) = timer_parts(a)?;
    let d = int_arg(a, 1, "time.Ticker.Reset")?;
    if d <= 0 {
        return Err("non-positive interval for Ticker.Reset".into());
    }
    ctx.reset_timer(id, d, ch, d);
    Ok(results![])
}

fn time_sub(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let d = time_arg(a, 0, "time.Time.Sub")? - time_arg(a, 1, "time.Time.Sub")?;
    Ok(results![ctx.new_int(d)?])
}

fn time_unix(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let t = time_arg(a, 0, "time.Time.Unix")?;
    Ok(results![ctx.new_int(t.div_euclid(1_000_000_000))?])
}

fn time_unix_nano(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let t = time_arg(a, 0, "time.Time.UnixNano")?;
    Ok(results![ctx.new_int(t)?])
}

fn time_unix_milli(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let t = time_arg(a, 0, "time.Time.UnixMilli")?;
    Ok(results![ctx.new_int(t.div_euclid(1_000_000))?])
}

fn time_before(_: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    Ok(results![Value::bool(
        time_arg(a, 0, "time.Time.Before")? < time_arg(a, 1, "time.Time.Before")?,
    )])
}

fn time_after(_: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    Ok(results![Value::bool(
        time_arg(a, 0, "time.Time.After")? > time_arg(a, 1, "time.Time.After")?,
    )])
}

fn time_equal(_: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    Ok(results![Value::bool(
        time_arg(a, 0, "time.Time.Equal")? == time_arg(a, 1, "time.Time.Equal")?,
    )])
}
