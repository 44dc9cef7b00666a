//! `os`: Exit, Getenv.

use super::{int_arg, str_arg};
use weft_vm::interp::EXIT_PREFIX;
use weft_vm::native::{ModuleDef, NativeConst, NativeCtx};
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Exit", exit)
        .function("Getenv", getenv)
        .constant("Stdin", NativeConst::Str(super::bufio::STDIN))
}

/// Ends the program at once with the status: deferred calls do not run (Go's rule).
fn exit(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Vec<Value>, String> {
    let code = int_arg(a, 0, "os.Exit")?;
    ctx.flush();
    Err(format!("{EXIT_PREFIX}{code}"))
}

fn getenv(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Vec<Value>, String> {
    let name = str_arg(a, 0, "os.Getenv")?;
    let value = std::env::var_os(String::from_utf8_lossy(&name).as_ref()).unwrap_or_default();
    Ok(vec![ctx.new_string(value.to_string_lossy().as_bytes())?])
}
