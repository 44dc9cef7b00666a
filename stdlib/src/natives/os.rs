//! `os`: Args, Exit, Getenv, ReadFile, WriteFile, Stdin, Interrupt, Kill.
//!
//! Files are read and written whole, as strings (Weft has no byte slices);
//! failures are Go-style `err` values with Go's messages ("open PATH: no such
//! file or directory").

use super::{int_arg, str_arg};
use weft_vm::interp::EXIT_PREFIX;
use weft_vm::native::Results;
use weft_vm::native::{ModuleDef, NativeConst, NativeCtx};
use weft_vm::results;
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Exit", exit)
        .function("Getenv", getenv)
        .function("ReadFile", read_file)
        .function("WriteFile", write_file)
        .getter("Args", args)
        .constant("Stdin", NativeConst::Str(super::bufio::STDIN))
        // Signals as `os/signal` names them: Go's text of each (see there).
        .constant("Interrupt", NativeConst::Str("interrupt"))
        .constant("Kill", NativeConst::Str("killed"))
}

/// Ends the program at once with the status: deferred calls do not run (Go's rule).
fn exit(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let code = int_arg(a, 0, "os.Exit")?;
    ctx.flush();
    Err(format!("{EXIT_PREFIX}{code}"))
}

fn getenv(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let name = str_arg(ctx, a, 0, "os.Getenv")?;
    let value = std::env::var_os(String::from_utf8_lossy(&name).as_ref()).unwrap_or_default();
    Ok(results![ctx.new_string(value.to_string_lossy().as_bytes())?])
}

fn args(ctx: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
    let parts: Vec<Vec<u8>> = ctx
        .program_args()
        .into_iter()
        .map(String::into_bytes)
        .collect();
    Ok(results![ctx.strings_list(&parts)?])
}

/// Go's text for an OS error (`syscall.Errno` strings are lower case).
fn os_error(op: &str, path: &str, e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    let reason = match e.kind() {
        NotFound => "no such file or directory".to_string(),
        PermissionDenied => "permission denied".to_string(),
        AlreadyExists => "file exists".to_string(),
        IsADirectory => "is a directory".to_string(),
        NotADirectory => "not a directory".to_string(),
        _ => {
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_string();
            text.to_lowercase()
        }
    };
    format!("{op} {path}: {reason}")
}

fn read_file(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let path = String::from_utf8_lossy(&str_arg(ctx, a, 0, "os.ReadFile")?).into_owned();
    match ctx.blocking(|| std::fs::read(&path)) {
        Ok(bytes) => Ok(results![ctx.new_string(&bytes)?, Value::NIL]),
        Err(e) => {
            let empty = ctx.new_string(b"")?;
            let err = ctx.new_error(os_error("open", &path, &e).as_bytes(), Value::NIL)?;
            Ok(results![empty, err])
        }
    }
}

/// `os.WriteFile(path, data, perm)`: creates or truncates the file (perm as
/// Go applies it, on creation).
fn write_file(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let path = String::from_utf8_lossy(&str_arg(ctx, a, 0, "os.WriteFile")?).into_owned();
    let data = str_arg(ctx, a, 1, "os.WriteFile")?;
    let perm = int_arg(a, 2, "os.WriteFile").unwrap_or(0o644);
    let result = ctx.blocking(|| {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(perm as u32)
            .open(&path)
            .and_then(|mut f| f.write_all(&data))
    });
    match result {
        Ok(()) => Ok(results![Value::NIL]),
        Err(e) => {
            Ok(results![ctx.new_error(
                os_error("open", &path, &e).as_bytes(),
                Value::NIL,
            )?])
        }
    }
}
