//! `fmt`: Println, Print, Sprint, Sprintln (Go's spacing rules, `%v` text).

use weft_vm::native::{show, string_arg, ModuleDef, NativeCtx};
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Println", println)
        .function("Print", print)
        .function("Sprint", sprint)
        .function("Sprintln", sprintln)
}

/// Println's text: operands separated by spaces, then a newline.
fn line(args: &[Value]) -> String {
    let mut out = args.iter().map(|v| show(*v)).collect::<Vec<_>>().join(" ");
    out.push('\n');
    out
}

/// Print's text: a space between operands when neither is a string (Go's rule).
fn text(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in args.iter().enumerate() {
        let is_str = |v: &Value| string_arg(*v).is_some();
        if i > 0 && !is_str(v) && !is_str(&args[i - 1]) {
            out.push(' ');
        }
        out.push_str(&show(*v));
    }
    out
}

fn println(ctx: &mut NativeCtx<'_>, args: &[Value]) -> Result<Vec<Value>, String> {
    ctx.write(line(args).as_bytes());
    Ok(vec![])
}

fn print(ctx: &mut NativeCtx<'_>, args: &[Value]) -> Result<Vec<Value>, String> {
    ctx.write(text(args).as_bytes());
    Ok(vec![])
}

fn sprint(ctx: &mut NativeCtx<'_>, args: &[Value]) -> Result<Vec<Value>, String> {
    Ok(vec![ctx.new_string(text(args).as_bytes())?])
}

fn sprintln(ctx: &mut NativeCtx<'_>, args: &[Value]) -> Result<Vec<Value>, String> {
    Ok(vec![ctx.new_string(line(args).as_bytes())?])
}
