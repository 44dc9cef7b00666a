//! `bufio`: Scanner over standard input (lines), the only reader Weft has so far.
//!
//! `os.Stdin` is the marker string `"os.Stdin"` until file values exist.

use super::arg;
use std::sync::{Mutex, MutexGuard, TryLockError};
use weft_vm::native::Results;
use weft_vm::results;

use weft_vm::blocking::read_unless_exiting;
use weft_vm::native::{program_over, string_arg, ModuleDef, NativeCtx, NativeType};
use weft_vm::value::Value;

/// `bufio.Scanner`: state 0 the last token read (nil before the first).
static SCANNER: NativeType = NativeType::new("bufio", "Scanner");

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("NewScanner", new_scanner)
        .function("Scanner.Scan", scan)
        .function("Scanner.Text", text)
        .function("Scanner.Err", err)
}

/// The value of `os.Stdin`.
pub(crate) const STDIN: &str = "os.Stdin";

fn new_scanner(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    match a.first().and_then(|v| string_arg(*v)) {
        Some(s) if s == STDIN.as_bytes() => {}
        _ => return Err("bufio.NewScanner: only os.Stdin can be scanned so far".into()),
    }
    Ok(results![ctx.new_opaque(&SCANNER, 1)?])
}

/// Input read from fd 0 and not yet scanned (`buf[start..]`): shared by
/// every Scanner, so a line read ahead by one is not lost to the next (Go's
/// Scanners each keep their own buffer; Weft's can all be on stdin only).
static STDIN_AHEAD: Mutex<Ahead> = Mutex::new(Ahead {
    buf: Vec::new(),
    start: 0,
});

struct Ahead {
    buf: Vec<u8>,
    start: usize,
}

/// How much one read from stdin asks for.
const STDIN_CHUNK: usize = 64 * 1024;

/// Reads the next line (without its newline, and without a trailing `\r`).
fn scan(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    // A prompt printed before the read must show (stdout is buffered).
    ctx.flush();
    let exit_fd = ctx.exit_fd();
    // The lock is taken inside the blocking region: another goroutine's
    // Scan (perhaps of another program in this process) may hold it while
    // it waits for input, and the end of this program must still end the
    // wait.
    let line = ctx.blocking(|| {
        let mut ahead = lock_unless_exiting(exit_fd)?;
        next_line(&mut ahead, exit_fd)
    });
    let Some(mut line) = line else {
        return Err(program_over());
    };
    if line.is_empty() {
        return Ok(results![Value::FALSE]);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    let s = ctx.new_string(&line)?;
    ctx.set_state(arg(a, 0), 0, s)?;
    Ok(results![Value::TRUE])
}

/// Takes the read-ahead buffer's lock, or `None` if the program ends first.
fn lock_unless_exiting(exit_fd: std::os::fd::RawFd) -> Option<MutexGuard<'static, Ahead>> {
    loop {
        match STDIN_AHEAD.try_lock() {
            Ok(guard) => return Some(guard),
            Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => {
                if weft_vm::blocking::wait_for_exit(exit_fd, STDIN_LOCK_POLL) {
                    return None;
                }
            }
        }
    }
}

/// How often a Scan waiting for another one's read looks at the lock.
const STDIN_LOCK_POLL: std::time::Duration = std::time::Duration::from_millis(1);

/// The next line of stdin with its newline (the rest of the input when it
/// ends without one; empty at the end of input or on a read error), or
/// `None` when the program ended while it waited.
fn next_line(ahead: &mut Ahead, exit_fd: std::os::fd::RawFd) -> Option<Vec<u8>> {
    let mut searched = ahead.start;
    loop {
        if let Some(i) = ahead.buf[searched..].iter().position(|&b| b == b'\n') {
            let line = ahead.buf[ahead.start..searched + i + 1].to_vec();
            ahead.start = searched + i + 1;
            return Some(line);
        }
        // Drop what was scanned before reading more (one copy per read).
        ahead.buf.drain(..ahead.start);
        ahead.start = 0;
        searched = ahead.buf.len();
        let old = ahead.buf.len();
        ahead.buf.resize(old + STDIN_CHUNK, 0);
        let n = match read_unless_exiting(0, exit_fd, &mut ahead.buf[old..]) {
            None => {
                ahead.buf.truncate(old);
                return None;
            }
            Some(Ok(n)) => n,
            Some(Err(_)) => 0,
        };
        ahead.buf.truncate(old + n);
        if n == 0 {
            return Some(std::mem::take(&mut ahead.buf));
        }
    }
}

fn text(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    match SCANNER.state(arg(a, 0), 0) {
        Some(v) if !v.is_nil() => Ok(results![v]),
        _ => Ok(results![ctx.new_string(b"")?]),
    }
}

fn err(_: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
    Ok(results![Value::NIL])
}
