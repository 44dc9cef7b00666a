//! `strconv` over the engine in `crate::fmt`: Itoa, Atoi, ParseInt,
//! ParseFloat, FormatInt, FormatFloat, Quote, QuoteRune, with Go's results on
//! error (`0, err`; for a float out of range, `±Inf, err`).

use super::{float_arg, int_arg, str_arg};
use crate::fmt::{self as engine, NumErrorKind};
use weft_vm::native::Results;
use weft_vm::native::{ModuleDef, NativeCtx};
use weft_vm::results;
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Itoa", itoa)
        .function("Atoi", atoi)
        .function("ParseInt", parse_int)
        .function("ParseFloat", parse_float)
        .function("FormatInt", format_int)
        .function("FormatFloat", format_float)
        .function("Quote", quote)
        .function("QuoteRune", quote_rune)
}

fn itoa(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let i = int_arg(a, 0, "strconv.Itoa")?;
    Ok(results![ctx.new_string(engine::itoa(i).as_bytes())?])
}

/// `(value, nil)` or `(fallback, error)`.
fn int_result(
    ctx: &mut NativeCtx<'_>,
    r: Result<i64, engine::NumError>,
) -> Result<Results, String> {
    match r {
        Ok(i) => Ok(results![ctx.new_int(i)?, Value::NIL]),
        Err(e) => {
            // Go returns the clamped bound for a range error, 0 otherwise.
            let fallback = match e.kind {
                NumErrorKind::Range if e.num.first() == Some(&b'-') => i64::MIN,
                NumErrorKind::Range => i64::MAX,
                _ => 0,
            };
            let v = ctx.new_int(fallback)?;
            let err = ctx.new_error(e.to_string().as_bytes(), Value::NIL)?;
            Ok(results![v, err])
        }
    }
}

fn atoi(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let s = str_arg(ctx, a, 0, "strconv.Atoi")?;
    let r = engine::atoi(&s);
    int_result(ctx, r)
}

fn parse_int(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let s = str_arg(ctx, a, 0, "strconv.ParseInt")?;
    let base = int_arg(a, 1, "strconv.ParseInt")?.clamp(0, 1000) as u32;
    let bits = int_arg(a, 2, "strconv.ParseInt")?.clamp(0, 1000) as u32;
    let r = engine::parse_int(&s, base, bits);
    int_result(ctx, r)
}

fn parse_float(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let s = str_arg(ctx, a, 0, "strconv.ParseFloat")?;
    match engine::parse_float(&s) {
        Ok(f) => Ok(results![Value::float(f), Value::NIL]),
        Err(e) => {
            let fallback = match e.kind {
                NumErrorKind::Range if e.num.first() == Some(&b'-') => f64::NEG_INFINITY,
                NumErrorKind::Range => f64::INFINITY,
                _ => 0.0,
            };
            let err = ctx.new_error(e.to_string().as_bytes(), Value::NIL)?;
            Ok(results![Value::float(fallback), err])
        }
    }
}

fn format_int(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let i = int_arg(a, 0, "strconv.FormatInt")?;
    let base = int_arg(a, 1, "strconv.FormatInt")?;
    if !(2..=36).contains(&base) {
        return Err("strconv: illegal AppendInt/FormatInt base".into());
    }
    Ok(results![ctx.new_string(
        engine::format_int(i, base as u32).as_bytes(),
    )?])
}

fn format_float(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let f = float_arg(a, 0, "strconv.FormatFloat")?;
    let fmt = int_arg(a, 1, "strconv.FormatFloat")?;
    let prec = int_arg(a, 2, "strconv.FormatFloat")?.clamp(-1, 1000) as i32;
    let text = engine::format_float(f, fmt as u8, prec);
    Ok(results![ctx.new_string(text.as_bytes())?])
}

fn quote(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let s = str_arg(ctx, a, 0, "strconv.Quote")?;
    Ok(results![ctx.new_string(&engine::quote(&s))?])
}

fn quote_rune(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let r = int_arg(a, 0, "strconv.QuoteRune")?;
    Ok(results![ctx.new_string(&engine::quote_rune(
        r.clamp(0, u32::MAX as i64) as u32,
    ))?])
}
