//! `bufio`: Scanner over standard input (lines), the only reader Weft has so far.
//!
//! `os.Stdin` is the marker string `"os.Stdin"` until file values exist.

use weft_vm::native::{state, string_arg, ModuleDef, NativeCtx};
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("NewScanner", new_scanner)
        .function("Scanner.Scan", scan)
        .function("Scanner.Text", text)
        .function("Scanner.Err", err)
}

/// The value of `os.Stdin`.
pub(crate) const STDIN: &str = "os.Stdin";

fn new_scanner(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Vec<Value>, String> {
    match a.first().and_then(|v| string_arg(*v)) {
        Some(s) if s == STDIN.as_bytes() => {}
        _ => return Err("bufio.NewScanner: only os.Stdin can be scanned so far".into()),
    }
    Ok(vec![ctx.new_opaque("bufio", "Scanner", 1)?])
}

/// Reads the next line (without its newline, and without a trailing `\r`).
fn scan(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Vec<Value>, String> {
    let mut line = Vec::new();
    // A prompt printed before the read must show (stdout is buffered).
    ctx.flush();
    let n = ctx.blocking(|| {
        use std::io::BufRead;
        let stdin = std::io::stdin();
        let mut lock = stdin.lock();
        lock.read_until(b'\n', &mut line).unwrap_or(0)
    });
    if n == 0 {
        return Ok(vec![Value::FALSE]);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    let s = ctx.new_string(&line)?;
    ctx.set_state(a[0], 0, s)?;
    Ok(vec![Value::TRUE])
}

fn text(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Vec<Value>, String> {
    match state(a[0], "Scanner", 0) {
        Some(v) if !v.is_nil() => Ok(vec![v]),
        _ => Ok(vec![ctx.new_string(b"")?]),
    }
}

fn err(_: &mut NativeCtx<'_>, _: &[Value]) -> Result<Vec<Value>, String> {
    Ok(vec![Value::NIL])
}
