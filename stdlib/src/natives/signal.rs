//! `os/signal`: `Notify(ch, sigs...)`, `Stop(ch)`, `Reset(sigs...)`.
//!
//! Signals are named by strings: `"SIGINT"` (or `"INT"`), or Go's text of
//! the signal, `"interrupt"`, which is what `os.Interrupt` holds. The value a
//! channel receives is that text (`interrupt`, `terminated`), so printing it
//! shows what Go shows and `sig == os.Interrupt` holds. As in Go, delivery
//! never blocks: a signal arriving while the channel's buffer is full is
//! dropped (give the channel a buffer), `Notify` with no signals relays
//! every catchable one, and `SIGKILL`/`SIGSTOP` are accepted and never
//! delivered. The handler itself lives in `weft_vm::signal`.

use super::arg;
use weft_vm::native::Results;
use weft_vm::native::{ModuleDef, NativeCtx};
use weft_vm::results;
use weft_vm::signal;
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Notify", notify)
        .function("Stop", stop)
        .function("Reset", reset)
}

type Res = Result<Results, String>;

/// The mask of the signals named by `a[from..]` (every catchable one when
/// there are none).
fn signal_mask(a: &[Value], from: usize, func: &str) -> Result<u64, String> {
    if a.len() <= from {
        return Ok(signal::SIGNALS
            .iter()
            .fold(0, |m, &(_, sig, _)| m | 1 << sig));
    }
    let mut mask = 0u64;
    for (i, v) in a.iter().enumerate().skip(from) {
        // Signal names are short: no need for `str_arg`'s off-heap copy.
        let name = weft_vm::native::string_arg(*v)
            .ok_or_else(|| format!("{func}: argument {} must be a string", i + 1))?;
        let name = String::from_utf8_lossy(&name);
        match signal::by_name(&name) {
            Some(sig) => mask |= 1 << sig,
            None if signal::uncatchable(&name) => {}
            None => return Err(format!("{func}: unknown signal {name:?}")),
        }
    }
    Ok(mask)
}

fn notify(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let chan = arg(a, 0);
    if chan == Value::NIL {
        return Err("os/signal: Notify using nil channel".into());
    }
    let mask = signal_mask(a, 1, "signal.Notify")?;
    if mask != 0 {
        ctx.signal_notify(chan, mask)?;
    }
    Ok(results![])
}

fn stop(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    if let Some(&chan) = a.first() {
        ctx.signal_stop(Some(chan), 0);
    }
    Ok(results![])
}

fn reset(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let mask = signal_mask(a, 0, "signal.Reset")?;
    ctx.signal_stop(None, mask);
    Ok(results![])
}
