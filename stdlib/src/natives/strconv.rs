//! `strconv`: Itoa, Atoi (with Go's error texts), FormatInt.

use super::{int_arg, str_arg};
use weft_vm::native::{ModuleDef, NativeCtx};
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Itoa", itoa)
        .function("Atoi", atoi)
        .function("FormatInt", format_int)
}

fn itoa(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Vec<Value>, String> {
    let i = int_arg(a, 0, "strconv.Itoa")?;
    Ok(vec![ctx.new_string(i.to_string().as_bytes())?])
}

/// `strconv.Atoi(s)`: `(int, nil)` or `(0, error)` with Go's message.
fn atoi(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Vec<Value>, String> {
    let s = str_arg(a, 0, "strconv.Atoi")?;
    let text = String::from_utf8_lossy(&s).into_owned();
    let digits = text.strip_prefix(['+', '-']).unwrap_or(&text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        let err = ctx.new_error(
            format!("strconv.Atoi: parsing {text:?}: invalid syntax").as_bytes(),
            Value::NIL,
        )?;
        return Ok(vec![Value::int_inline(0).expect("zero"), err]);
    }
    match text.parse::<i64>() {
        Ok(i) => Ok(vec![ctx.new_int(i)?, Value::NIL]),
        Err(_) => {
            let err = ctx.new_error(
                format!("strconv.Atoi: parsing {text:?}: value out of range").as_bytes(),
                Value::NIL,
            )?;
            let clamped = if text.starts_with('-') {
                i64::MIN
            } else {
                i64::MAX
            };
            Ok(vec![ctx.new_int(clamped)?, err])
        }
    }
}

fn format_int(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Vec<Value>, String> {
    let i = int_arg(a, 0, "strconv.FormatInt")?;
    let base = int_arg(a, 1, "strconv.FormatInt")?;
    if !(2..=36).contains(&base) {
        return Err("strconv: illegal AppendInt/FormatInt base".into());
    }
    let mut n = i.unsigned_abs();
    let mut digits = Vec::new();
    loop {
        digits.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % base as u64) as usize]);
        n /= base as u64;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        digits.push(b'-');
    }
    digits.reverse();
    Ok(vec![ctx.new_string(&digits)?])
}
