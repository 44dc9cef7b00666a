//! Channel operations and `go`, as the interpreter runs them: Go's algorithm
//! (`chan.go`, `select.go`) over the buffer in the channel object
//! (`object::chan_*`) and the runtime's wait queues (`sched::Chans`).
//!
//! An operation that cannot complete registers the goroutine as a waiter and
//! parks it *inside* the instruction: the frame's `pc` stays on the
//! instruction and `GState::resuming` is set. Whoever completes the operation
//! (a sender handing a value to a parked receiver, a receiver taking a parked
//! sender's value, `close`, a timer) writes the result into the parked G's
//! registers and its wake code, and makes it runnable; when the G runs again
//! the instruction finishes from the wake code instead of starting over.
//!
//! Every operation holds its channel's lock (`sched::ChanLocks`, a stripe
//! of locks by address) from the moment it looks at the channel until it
//! has either completed or registered its waiter, so operations on a channel
//! are atomic with respect to each other. A `select` takes the locks of all
//! its channels at once, in stripe order (Go's `sellock`), to poll them and
//! to register its waiters; whoever dequeues one of them claims the G for
//! that case (`Waiter::claim`), and the G removes its other, stale entries
//! when it resumes.

use super::{hand_to_receiver, next_random, show, type_name, Exec, Res, Suspend};
use crate::heap::Kind;
use crate::native::shade;
use crate::object::{self, obj_of};
use crate::sched::{Chans, Entry, Waiter, WAKE_CLOSED, WAKE_DELIVERED};
use crate::value::Value;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use weft_gc::{Mutator, ObjRef, P};
use weft_lang::bytecode::SelectCase;

/// "No `ok` register" in a waiter.
const NO_OK: usize = usize::MAX;

/// The channel a value is, `None` for nil; other values are an error.
fn chan_of(v: Value, what: &str) -> Res<Option<ObjRef>> {
    match obj_of(v).filter(|_| object::kind_of(v) == Some(Kind::Chan)) {
        Some(c) => Ok(Some(c)),
        None if v.is_nil() => Ok(None),
        None => Err(format!(
            "invalid operation: {what} non-chan {} (type {})",
            show(v),
            type_name(v)
        )),
    }
}

impl Exec<'_> {
    /// Parks the goroutine inside the instruction at `at` (its index in the
    /// running function). Returns the message that stops `step`. (Inside a
    /// callback from native code, `execute` parks it in place:
    /// `Exec::park_in_place`.)
    fn park_in(&mut self, at: usize, reason: &'static str) -> Res<String> {
        self.may_park(reason)?;
        self.gr.frames.last_mut().expect("frame").pc = at;
        self.gr.resuming = true;
        self.gr.wake.store(0, Relaxed);
        self.suspend = Some(Suspend::Park(reason));
        Ok(String::new())
    }

    /// The wake code, when the instruction is finishing after a park.
    fn take_wake(&mut self) -> Option<u64> {
        if self.gr.resuming {
            self.gr.resuming = false;
            Some(self.gr.wake.load(Relaxed))
        } else {
            None
        }
    }

    /// A waiter record for this goroutine.
    fn waiter(&self, val: usize, ok: usize, case: u64) -> Waiter {
        Waiter {
            gid: self.gr.id,
            regs: self.gr.cached_regs.clone(),
            val,
            ok,
            case,
            wake: self.gr.wake.clone(),
        }
    }

    fn reg(&self, abs: usize) -> Value {
        Value::from_bits(self.gr.cached_regs[abs].load(Relaxed))
    }

    fn set_reg(&self, abs: usize, v: Value) {
        if let Some(slot) = self.gr.cached_regs.get(abs) {
            slot.store(v.bits(), Relaxed);
        }
    }

    /// `ch <- R[val]` (absolute register), the instruction at `at`.
    pub(super) fn op_send(&mut self, p: &mut P, ch: Value, val: usize, at: usize) -> Res<()> {
        if let Some(code) = self.take_wake() {
            return match code & 3 {
                WAKE_CLOSED => Err("send on closed channel".into()),
                _ => Ok(()),
            };
        }
        let Some(c) = chan_of(ch, "send to")? else {
            return Err(self.park_in(at, "chan send (nil chan)")?);
        };
        let addr = c.addr() as u64;
        let v = self.reg(val);
        let mut chans = self.rt.chans.lock(addr);
        if object::chan_state(c).2 {
            return Err("send on closed channel".into());
        }
        if let Some(w) = chans.pop_receiver(addr, WAKE_DELIVERED) {
            hand_to_receiver(p, self.rt, &w, v, true);
            return Ok(());
        }
        if object::chan_try_send(p, c, v) {
            return Ok(());
        }
        let w = self.waiter(val, NO_OK, 0);
        let message = self.park_in(at, "chan send")?;
        chans.queues_for(addr).sendq.push_back(w);
        Err(message)
    }

    /// `R[dst] (, R[ok]) = <-ch`, the instruction at `at` (`ok` may be
    /// `usize::MAX`). Returns false when the channel is closed and drained.
    pub(super) fn op_recv(
        &mut self,
        p: &mut P,
        ch: Value,
        dst: usize,
        ok: usize,
        at: usize,
    ) -> Res<bool> {
        if let Some(code) = self.take_wake() {
            // The waker wrote the value and the flag.
            return Ok(code & 3 == WAKE_DELIVERED);
        }
        let Some(c) = chan_of(ch, "receive from")? else {
            return Err(self.park_in(at, "chan receive (nil chan)")?);
        };
        let addr = c.addr() as u64;
        let mut chans = self.rt.chans.lock(addr);
        if let Some(received) = self.try_recv(p, &mut chans, c, dst, ok) {
            return Ok(received);
        }
        let w = self.waiter(dst, ok, 0);
        let message = self.park_in(at, "chan receive")?;
        chans.queues_for(addr).recvq.push_back(w);
        Err(message)
    }

    /// The receive without blocking, under the channel lock: from a parked
    /// sender, the buffer, or a closed channel. `None`: it would block.
    fn try_recv(
        &mut self,
        p: &mut P,
        chans: &mut Chans,
        c: ObjRef,
        dst: usize,
        ok: usize,
    ) -> Option<bool> {
        let addr = c.addr() as u64;
        let got = if let Some(w) = chans.pop_sender(addr, WAKE_DELIVERED) {
            let sent = Value::from_bits(w.regs.get(w.val).map_or(0, |s| s.load(Relaxed)));
            // A full buffer: take its oldest value and put the sender's at
            // the end (FIFO); unbuffered: take the sender's directly.
            let v = match object::chan_try_recv(p, c) {
                Some(head) => {
                    object::chan_try_send(p, c, sent);
                    head
                }
                None => {
                    // Read out of another goroutine's stack, which the
                    // collector may not have scanned yet (and that goroutine
                    // may drop the value before it is): shade it, as Go's
                    // recvDirect runs a bulk barrier.
                    shade(p, sent);
                    sent
                }
            };
            self.rt.ready(w.gid, Some(p.id()));
            Some(v)
        } else {
            object::chan_try_recv(p, c)
        };
        if let Some(v) = got {
            self.set_reg(dst, v);
            self.set_reg(ok, Value::TRUE);
            return Some(true);
        }
        if object::chan_state(c).2 {
            self.set_reg(dst, Value::NIL);
            self.set_reg(ok, Value::FALSE);
            return Some(false);
        }
        None
    }

    /// `close(ch)`: wakes every receiver (nil, false) and every sender (who
    /// then panics).
    pub(super) fn op_close(&mut self, p: &mut P, ch: Value) -> Res<()> {
        let Some(c) = chan_of(ch, "close of")? else {
            return Err("close of nil channel".into());
        };
        let addr = c.addr() as u64;
        let mut chans = self.rt.chans.lock(addr);
        if object::chan_state(c).2 {
            return Err("close of closed channel".into());
        }
        object::chan_close(c);
        while let Some(w) = chans.pop_receiver(addr, WAKE_CLOSED) {
            hand_to_receiver(p, self.rt, &w, Value::NIL, false);
        }
        while let Some(w) = chans.pop_sender(addr, WAKE_CLOSED) {
            self.rt.ready(w.gid, Some(p.id()));
        }
        Ok(())
    }

    /// `select`: `R[a]` gets the chosen case (the case count for `default`),
    /// `R[a+1]`, `R[a+2]` a received value and its flag; case `i` reads its
    /// channel from `R[a+3+2i]` and a sent value from `R[a+4+2i]`.
    pub(super) fn op_select(
        &mut self,
        p: &mut P,
        a: usize,
        cases: &[SelectCase],
        has_default: bool,
        at: usize,
    ) -> Res<()> {
        let n = cases.len();
        let mut chans_of = Vec::with_capacity(n);
        for (i, case) in cases.iter().enumerate() {
            let what = match case {
                SelectCase::Send => "send to",
                SelectCase::Recv => "receive from",
            };
            chans_of.push(chan_of(self.reg(a + 3 + 2 * i), what)?);
        }
        let addrs = || chans_of.iter().flatten().map(|c| c.addr() as u64);
        if let Some(code) = self.take_wake() {
            // One entry was claimed; the others are stale: remove them
            // before this G can park again (see `Waiter::claim`). The case
            // registers still hold the channels the select parked on.
            let mut chans = self.rt.chans.lock_all(addrs());
            for addr in addrs() {
                chans.of(addr).remove_waiter(self.gr.id, addr);
            }
            drop(chans);
            let case = (code >> 2) as usize;
            self.set_reg(a, Value::int_inline(case as i64).expect("case fits"));
            if cases.get(case) == Some(&SelectCase::Send) && code & 3 == WAKE_CLOSED {
                return Err("send on closed channel".into());
            }
            return Ok(());
        }
        // Poll in a random order (a uniformly random ready case, as Go's).
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, (next_random() % (i as u64 + 1)) as usize);
        }
        let mut chans = self.rt.chans.lock_all(addrs());
        for &i in &order {
            let Some(c) = chans_of[i] else { continue };
            let addr = c.addr() as u64;
            let chans = chans.of(addr);
            let chosen = Value::int_inline(i as i64).expect("case fits");
            match cases[i] {
                SelectCase::Send => {
                    let (cap, count, closed) = object::chan_state(c);
                    if closed {
                        return Err("send on closed channel".into());
                    }
                    let v = self.reg(a + 4 + 2 * i);
                    if let Some(w) = chans.pop_receiver(addr, WAKE_DELIVERED) {
                        hand_to_receiver(p, self.rt, &w, v, true);
                    } else if count < cap {
                        object::chan_try_send(p, c, v);
                    } else {
                        continue;
                    }
                    self.set_reg(a, chosen);
                    return Ok(());
                }
                SelectCase::Recv => {
                    if self.try_recv(p, chans, c, a + 1, a + 2).is_none() {
                        continue;
                    }
                    self.set_reg(a, chosen);
                    return Ok(());
                }
            }
        }
        if has_default {
            self.set_reg(a, Value::int_inline(n as i64).expect("case count fits"));
            return Ok(());
        }
        let reason = if addrs().next().is_none() {
            "select (no cases)"
        } else {
            "select"
        };
        let message = self.park_in(at, reason)?;
        for (i, c) in chans_of.iter().enumerate() {
            let Some(c) = c else { continue };
            let addr = c.addr() as u64;
            let q = chans.of(addr).queues_for(addr);
            match cases[i] {
                SelectCase::Send => q
                    .sendq
                    .push_back(self.waiter(a + 4 + 2 * i, NO_OK, i as u64)),
                SelectCase::Recv => q.recvq.push_back(self.waiter(a + 1, a + 2, i as u64)),
            }
        }
        Err(message)
    }

    /// `go callee(R[abs+1] ...)`: a new goroutine whose stack starts with the
    /// callee, the receiver (for a method) and the arguments, copied with the
    /// barrier (the new stack is scanned as a root, but a cycle may be under
    /// way whose root scan it missed).
    pub(super) fn op_go(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        abs: usize,
        callee: Value,
        receiver: Option<Value>,
        nargs: usize,
    ) -> Res<()> {
        if callee.is_nil() {
            return Err("go of nil func value".into());
        }
        let first = super::FIRST_FRAME_REG;
        let heap = p.heap();
        let marking = (heap.phase() == weft_gc::PHASE_MARK).then(|| heap.mark_epoch());
        // A safepoint (a fresh G is allocated): `callee` and `receiver`
        // stay reachable from this G's registers, where the instruction's
        // operands are.
        let child = self
            .rt
            .new_g(
                p,
                g,
                first + nargs + 4,
                VecDeque::from([Entry::Call {
                    nargs,
                    receiver: receiver.is_some(),
                }]),
                marking,
            )
            .map_err(super::oom)?;
        let regs = &child.cached_regs;
        p.write_slot(&regs[first], callee.bits());
        let mut next = first + 1;
        if let Some(r) = receiver {
            p.write_slot(&regs[next], r.bits());
            next += 1;
        }
        for i in 0..nargs {
            p.write_slot(&regs[next + i], self.reg(abs + 1 + i).bits());
        }
        self.rt.push_runnable(child, Some(p.id()));
        Ok(())
    }
}
