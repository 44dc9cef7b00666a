//! The standard modules as native functions over `weft_vm::native`: the
//! registry [`natives`] that the command line hands to the VM.
//!
//! One file per module. Today: `fmt` (printing with `%v`; the verb engine
//! plugs in next), `errors`, `strings`, `strconv`, `math`, `sort`, `os`,
//! `math/rand`, `runtime`, `encoding/json`, `bufio`, `sync`, `time`,
//! `os/signal`.

use weft_vm::native::{NativeCtx, Natives};

mod bufio;
mod errors;
mod fmt;
mod json;
mod math;
mod os;
mod rand;
mod runtime;
mod signal;
mod sort;
mod strconv;
mod strings;
mod sync;
mod time;

pub(crate) use weft_vm::interp::FATAL_PREFIX;

/// Every standard module implemented so far, by import path.
pub fn natives() -> Natives {
    Natives::default()
        .module("fmt", fmt::module())
        .module("errors", errors::module())
        .module("strings", strings::module())
        .module("strconv", strconv::module())
        .module("math", math::module())
        .module("sort", sort::module())
        .module("os", os::module())
        .module("math/rand", rand::module())
        .module("runtime", runtime::module())
        .module("encoding/json", json::module())
        .module("bufio", bufio::module())
        .module("sync", sync::module())
        .module("time", time::module())
        .module("os/signal", signal::module())
}

/// The argument at `i`, nil when there is none (a native called with too
/// few arguments complains about the nil, never indexes out of range).
pub(crate) fn arg(args: &[weft_vm::value::Value], i: usize) -> weft_vm::value::Value {
    args.get(i).copied().unwrap_or_default()
}

/// The argument at `i` as a string, or Go's style of complaint.
pub(crate) fn str_arg(
    ctx: &mut NativeCtx<'_>,
    args: &[weft_vm::value::Value],
    i: usize,
    func: &str,
) -> Result<Vec<u8>, String> {
    args.get(i)
        .and_then(|v| ctx.string_arg(*v))
        .ok_or_else(|| format!("{func}: argument {} must be a string", i + 1))
}

/// The argument at `i` as an int.
pub(crate) fn int_arg(args: &[weft_vm::value::Value], i: usize, func: &str) -> Result<i64, String> {
    args.get(i)
        .and_then(|v| weft_vm::native::int_arg(*v))
        .ok_or_else(|| format!("{func}: argument {} must be an int", i + 1))
}

/// The argument at `i` as a number (ints convert).
pub(crate) fn float_arg(
    args: &[weft_vm::value::Value],
    i: usize,
    func: &str,
) -> Result<f64, String> {
    args.get(i)
        .and_then(|v| weft_vm::native::float_arg(*v))
        .ok_or_else(|| format!("{func}: argument {} must be a number", i + 1))
}
