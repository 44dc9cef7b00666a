//! `errors`: New, Is, Unwrap.

use weft_vm::native::Results;
use weft_vm::native::{error_parts, ModuleDef, NativeCtx};
use weft_vm::results;
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("New", new)
        .function("Is", is)
        .function("Unwrap", unwrap)
}

fn new(ctx: &mut NativeCtx<'_>, args: &[Value]) -> Result<Results, String> {
    let msg = super::str_arg(ctx, args, 0, "errors.New")?;
    Ok(results![ctx.new_error(&msg, Value::NIL)?])
}

/// Whether `target` is `err` or in its chain of wrapped errors (by identity).
fn is(_: &mut NativeCtx<'_>, args: &[Value]) -> Result<Results, String> {
    let (mut err, target) = (
        args.first().copied().unwrap_or_default(),
        args.get(1).copied().unwrap_or_default(),
    );
    for _ in 0..10_000 {
        if err == target {
            return Ok(results![Value::TRUE]);
        }
        match error_parts(err) {
            Some((_, wrapped)) if !wrapped.is_nil() => err = wrapped,
            _ => break,
        }
    }
    Ok(results![Value::FALSE])
}

fn unwrap(_: &mut NativeCtx<'_>, args: &[Value]) -> Result<Results, String> {
    let err = args.first().copied().unwrap_or_default();
    Ok(results![error_parts(err).map_or(Value::NIL, |(_, w)| w)])
}
