//! `sync`: WaitGroup, Mutex, RWMutex and Once, parking goroutines (never OS
//! threads) on the runtime's semaphore table, as Go's `sync` parks on
//! `runtime_Semacquire`.
//!
//! Each primitive is a native object whose state slots are counters (inline
//! ints, stored without a barrier: see `NativeType::raw_state_slot`). Every
//! read-modify-write of them happens under the semaphore table's lock
//! (`NativeCtx::with_semas`), which is what makes check-then-park atomic:
//! a goroutine that decides to wait is in the queue before anyone else can
//! look at the counters. Semaphore keys are the object's address (plus a
//! small offset for a second queue), unique while the object lives, and an
//! object with waiters is alive (its waiters' registers hold it).

use super::{arg, int_arg};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use weft_vm::native::Results;
use weft_vm::native::{ModuleDef, NativeCtx, NativeType};
use weft_vm::results;
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("WaitGroup", wait_group)
        .function("WaitGroup.Add", wg_add)
        .function("WaitGroup.Done", wg_done)
        .function("WaitGroup.Wait", wg_wait)
        .function("Mutex", mutex)
        .function("Mutex.Lock", mutex_lock)
        .function("Mutex.Unlock", mutex_unlock)
        .function("Mutex.TryLock", mutex_try_lock)
        .function("RWMutex", rwmutex)
        .function("RWMutex.Lock", rw_lock)
        .function("RWMutex.Unlock", rw_unlock)
        .function("RWMutex.RLock", rw_rlock)
        .function("RWMutex.RUnlock", rw_runlock)
        .function("Once", once)
        .function("Once.Do", once_do)
}

type Res = Result<Results, String>;

static WAIT_GROUP: NativeType = NativeType::new("sync", "WaitGroup");
static MUTEX: NativeType = NativeType::new("sync", "Mutex");
static RW_MUTEX: NativeType = NativeType::new("sync", "RWMutex");
static ONCE: NativeType = NativeType::new("sync", "Once");

/// A new native object of type `ty` with `n` counters at zero.
fn new_object(ctx: &mut NativeCtx<'_>, ty: &NativeType, n: usize) -> Res {
    let obj = ctx.new_opaque(ty, n)?;
    for i in 0..n {
        let slot = ty.raw_state_slot(obj, i).ok_or("sync object")?;
        set(slot, 0);
    }
    Ok(results![obj])
}

fn get(slot: &AtomicU64) -> i64 {
    Value::from_bits(slot.load(Relaxed))
        .as_inline_int()
        .unwrap_or(0)
}

fn set(slot: &AtomicU64, n: i64) {
    let v = Value::int_inline(n).unwrap_or(Value::NIL);
    slot.store(v.bits(), Relaxed);
}

/// The `N` counters of the receiver (the first argument), which must be of type `ty`.
fn counters<const N: usize>(
    a: &[Value],
    ty: &NativeType,
) -> Result<[&'static AtomicU64; N], String> {
    let recv = arg(a, 0);
    let slots: [Option<&'static AtomicU64>; N] =
        std::array::from_fn(|i| ty.raw_state_slot(recv, i));
    if slots.iter().any(Option::is_none) {
        return Err(format!("not a sync.{}", ty.name));
    }
    Ok(slots.map(|c| c.expect("checked above")))
}

/// The semaphore key of the receiver (plus `offset` for a second queue).
fn key(a: &[Value], offset: u64) -> u64 {
    arg(a, 0).as_object().unwrap_or(0) as u64 + offset
}

// WaitGroup: counter 0 is the count.

fn wait_group(ctx: &mut NativeCtx<'_>, _: &[Value]) -> Res {
    new_object(ctx, &WAIT_GROUP, 1)
}

fn wg_add_n(ctx: &mut NativeCtx<'_>, a: &[Value], delta: i64) -> Res {
    let c = counters::<1>(a, &WAIT_GROUP)?;
    let key = key(a, 0);
    ctx.with_semas(&mut |semas| {
        let n = get(c[0]) + delta;
        if n < 0 {
            return Err("sync: negative WaitGroup counter".into());
        }
        set(c[0], n);
        if n == 0 {
            semas.wake(key, usize::MAX);
        }
        Ok(None)
    })?;
    Ok(results![])
}

fn wg_add(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let delta = int_arg(a, 1, "sync.WaitGroup.Add")?;
    wg_add_n(ctx, a, delta)
}

fn wg_done(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    wg_add_n(ctx, a, -1)
}

fn wg_wait(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let c = counters::<1>(a, &WAIT_GROUP)?;
    let key = key(a, 0);
    ctx.with_semas(&mut |_| Ok((get(c[0]) > 0).then_some((key, "sync.WaitGroup.Wait"))))?;
    Ok(results![])
}

// Mutex: counter 0 is 1 while locked. Unlock hands the lock straight to the
// oldest waiter (it stays locked), so waiters are served FIFO and a waker
// never races a newcomer.

fn mutex(ctx: &mut NativeCtx<'_>, _: &[Value]) -> Res {
    new_object(ctx, &MUTEX, 1)
}

fn mutex_lock(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let c = counters::<1>(a, &MUTEX)?;
    let key = key(a, 0);
    ctx.with_semas(&mut |_| {
        if get(c[0]) == 0 {
            set(c[0], 1);
            Ok(None)
        } else {
            Ok(Some((key, "sync.Mutex.Lock")))
        }
    })?;
    Ok(results![])
}

fn mutex_try_lock(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let c = counters::<1>(a, &MUTEX)?;
    let mut got = false;
    ctx.with_semas(&mut |_| {
        got = get(c[0]) == 0;
        if got {
            set(c[0], 1);
        }
        Ok(None)
    })?;
    Ok(results![Value::bool(got)])
}

fn mutex_unlock(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let c = counters::<1>(a, &MUTEX)?;
    let key = key(a, 0);
    ctx.with_semas(&mut |semas| {
        if get(c[0]) == 0 {
            return Err(super::FATAL_PREFIX.to_string() + "sync: unlock of unlocked mutex");
        }
        if semas.wake(key, 1) == 0 {
            set(c[0], 0);
        }
        Ok(None)
    })?;
    Ok(results![])
}

// RWMutex: counters are [writer holds it (0/1), active readers, waiting
// writers, waiting readers]. Writers queue on key+0, readers on key+8. A
// waiting writer keeps new readers out (no writer starvation, as Go's).

const RW_WRITER: usize = 0;
const RW_READERS: usize = 1;
const RW_WAITING_WRITERS: usize = 2;
const RW_WAITING_READERS: usize = 3;

fn rwmutex(ctx: &mut NativeCtx<'_>, _: &[Value]) -> Res {
    new_object(ctx, &RW_MUTEX, 4)
}

fn rw_lock(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let c = counters::<4>(a, &RW_MUTEX)?;
    let key = key(a, 0);
    ctx.with_semas(&mut |_| {
        if get(c[RW_WRITER]) == 0 && get(c[RW_READERS]) == 0 {
            set(c[RW_WRITER], 1);
            Ok(None)
        } else {
            set(c[RW_WAITING_WRITERS], get(c[RW_WAITING_WRITERS]) + 1);
            Ok(Some((key, "sync.RWMutex.Lock")))
        }
    })?;
    Ok(results![])
}

fn rw_unlock(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let c = counters::<4>(a, &RW_MUTEX)?;
    let key = key(a, 0);
    ctx.with_semas(&mut |semas| {
        if get(c[RW_WRITER]) == 0 {
            return Err(super::FATAL_PREFIX.to_string() + "sync: Unlock of unlocked RWMutex");
        }
        let readers = get(c[RW_WAITING_READERS]);
        if readers > 0 {
            // Readers that queued behind this writer go first.
            set(c[RW_WRITER], 0);
            set(c[RW_WAITING_READERS], 0);
            set(c[RW_READERS], readers);
            semas.wake(key + 8, usize::MAX);
        } else if get(c[RW_WAITING_WRITERS]) > 0 {
            set(c[RW_WAITING_WRITERS], get(c[RW_WAITING_WRITERS]) - 1);
            semas.wake(key, 1);
        } else {
            set(c[RW_WRITER], 0);
        }
        Ok(None)
    })?;
    Ok(results![])
}

fn rw_rlock(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let c = counters::<4>(a, &RW_MUTEX)?;
    let key = key(a, 0);
    ctx.with_semas(&mut |_| {
        if get(c[RW_WRITER]) == 0 && get(c[RW_WAITING_WRITERS]) == 0 {
            set(c[RW_READERS], get(c[RW_READERS]) + 1);
            Ok(None)
        } else {
            set(c[RW_WAITING_READERS], get(c[RW_WAITING_READERS]) + 1);
            Ok(Some((key + 8, "sync.RWMutex.RLock")))
        }
    })?;
    Ok(results![])
}

fn rw_runlock(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let c = counters::<4>(a, &RW_MUTEX)?;
    let key = key(a, 0);
    ctx.with_semas(&mut |semas| {
        let readers = get(c[RW_READERS]);
        if readers <= 0 {
            return Err(super::FATAL_PREFIX.to_string() + "sync: RUnlock of unlocked RWMutex");
        }
        set(c[RW_READERS], readers - 1);
        if readers == 1 && get(c[RW_WAITING_WRITERS]) > 0 {
            set(c[RW_WAITING_WRITERS], get(c[RW_WAITING_WRITERS]) - 1);
            set(c[RW_WRITER], 1);
            semas.wake(key, 1);
        }
        Ok(None)
    })?;
    Ok(results![])
}

// Once: counter 0 is 0 (not run), 1 (running), 2 (done). Callers that arrive
// while f runs park until it is done, as Go's Once.Do does.

fn once(ctx: &mut NativeCtx<'_>, _: &[Value]) -> Res {
    new_object(ctx, &ONCE, 1)
}

fn once_do(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Res {
    let c = counters::<1>(a, &ONCE)?;
    let f = a.get(1).copied().unwrap_or(Value::NIL);
    let key = key(a, 0);
    let mut run = false;
    ctx.with_semas(&mut |_| match get(c[0]) {
        0 => {
            set(c[0], 1);
            run = true;
            Ok(None)
        }
        1 => Ok(Some((key, "sync.Once.Do"))),
        _ => Ok(None),
    })?;
    if !run {
        return Ok(results![]);
    }
    // Done even if f panics (Go's rule): the waiters are released either way.
    let result = ctx.call(f, &[]);
    ctx.with_semas(&mut |semas| {
        set(c[0], 2);
        semas.wake(key, usize::MAX);
        Ok(None)
    })?;
    result.map(|_| Results::new())
}
