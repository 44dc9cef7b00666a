//! A P's local run queue: a bounded lock-free ring with a `runnext` slot,
//! Go's `runq`/`runqput`/`runqget`/`runqsteal` (proc.go) in Rust.
//!
//! One owner (the M holding the P) pushes; anyone pops or steals. The ring
//! holds owning handles ([`Linked`]: a `Box`, or the VM's goroutine handle
//! `gobj::G`) as raw pointers; a pointer is owned by exactly one place at
//! a time: the ring (between `tail` publishing it and a successful `head`
//! CAS taking it), the `runnext` slot, or whoever took it out.
//!
//! Invariants (the loom model in `vm/tests/loom_runq.rs` checks them under
//! every interleaving it explores):
//! - `tail` is written only by the owner; `head` only by a successful CAS
//!   (owner or consumer). `tail - head` (wrapping) is in `0..=N`.
//! - Slots `head..tail` (mod N) hold live pointers, published by the
//!   release store of `tail`; a consumer reads a slot after an acquire load
//!   of `tail`, and keeps what it read only if its CAS of `head` past the
//!   slot succeeds.
//! - The owner writes slot `t` only when `t - head < N` with `head` loaded
//!   with acquire ordering, so every consumer that read that slot's previous
//!   value has already moved `head` past it (its CAS released the read).
//! - A thief writes into its own ring beyond its `tail` (no one reads there)
//!   before it takes the victim's `head`, and publishes its `tail` after.
//!
//! The file is compiled twice: by the VM, over std's atomics, and by the
//! loom model, over loom's; `super::runq_atomics` picks them.

use super::runq_atomics::{AtomicPtr, AtomicU32, Ordering::*};
use std::marker::PhantomData;
use std::ptr;

/// An owning handle the ring can hold as a raw pointer, as `Box` is: one
/// owner at a time, given up by `into_raw` and taken back by `from_raw`.
pub trait Linked: Sized {
    type Target;
    fn into_raw(self) -> *mut Self::Target;
    /// # Safety
    /// `p` came from `into_raw` and nobody else took it back since.
    unsafe fn from_raw(p: *mut Self::Target) -> Self;
}

impl<T> Linked for Box<T> {
    type Target = T;
    fn into_raw(self) -> *mut T {
        Box::into_raw(self)
    }
    unsafe fn from_raw(p: *mut T) -> Box<T> {
        // SAFETY: the caller's promise: a pointer from Box::into_raw that
        // nobody else owns.
        unsafe { Box::from_raw(p) }
    }
}

/// Ring capacity (Go's is 256 too).
pub const CAP: u32 = 256;

/// A P's runnable Gs: `runnext`, then the ring in FIFO order. `N`: the ring's
/// capacity (the model checks a small one).
pub struct LocalQueue<H: Linked, const N: u32 = CAP> {
    head: AtomicU32,
    tail: AtomicU32,
    ring: Box<[AtomicPtr<H::Target>]>,
    /// The G to run next (Go's runnext): a G just made ready by the owner
    /// runs before the ring, inheriting the rest of the time slice.
    next: AtomicPtr<H::Target>,
    _owns: PhantomData<H>,
}

// SAFETY: the queue hands each handle to exactly one taker (see the
// module's invariants), so sharing it moves handles between threads:
// `H: Send`.
unsafe impl<H: Linked + Send, const N: u32> Sync for LocalQueue<H, N> {}
// SAFETY: as above.
unsafe impl<H: Linked + Send, const N: u32> Send for LocalQueue<H, N> {}

impl<H: Linked, const N: u32> Default for LocalQueue<H, N> {
    fn default() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::POWER_OF_TWO;
        LocalQueue {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            ring: (0..N).map(|_| AtomicPtr::new(ptr::null_mut())).collect(),
            next: AtomicPtr::new(ptr::null_mut()),
            _owns: PhantomData,
        }
    }
}

impl<H: Linked, const N: u32> LocalQueue<H, N> {
    /// Indices wrap at 2^32: the capacity must divide it.
    const POWER_OF_TWO: () = assert!(N.is_power_of_two() && N >= 2);

    fn slot(&self, i: u32) -> &AtomicPtr<H::Target> {
        &self.ring[(i % N) as usize]
    }

    /// Owner only: puts `g` in `runnext`; the G it displaces goes to the
    /// ring (returned if the ring is full: see [`LocalQueue::push`]).
    pub fn push_next(&self, g: H) -> Result<(), H> {
        let old = self.next.swap(g.into_raw(), AcqRel);
        if old.is_null() {
            return Ok(());
        }
        // SAFETY: a non-null `next` is a pointer from `into_raw` that the
        // swap just took sole ownership of.
        self.push(unsafe { H::from_raw(old) })
    }

    /// Owner only: appends `g` to the ring; `Err(g)` when the ring is full
    /// (the caller moves half of it to the global queue: `take_half`).
    pub fn push(&self, g: H) -> Result<(), H> {
        let h = self.head.load(Acquire);
        let t = self.tail.load(Relaxed);
        if t.wrapping_sub(h) >= N {
            return Err(g);
        }
        self.slot(t).store(g.into_raw(), Relaxed);
        self.tail.store(t.wrapping_add(1), Release);
        Ok(())
    }

    /// Owner only, when `push` failed: takes the older half of the ring
    /// (Go's runqputslow), for the global queue. Empty if consumers raced
    /// it down meanwhile (then `push` will succeed).
    pub fn take_half(&self) -> Vec<H> {
        loop {
            let h = self.head.load(Acquire);
            let t = self.tail.load(Relaxed);
            let n = t.wrapping_sub(h) / 2;
            if n == 0 {
                return Vec::new();
            }
            let taken: Vec<*mut H::Target> = (0..n)
                .map(|i| self.slot(h.wrapping_add(i)).load(Relaxed))
                .collect();
            if self
                .head
                .compare_exchange(h, h.wrapping_add(n), AcqRel, Relaxed)
                .is_ok()
            {
                // SAFETY: the CAS moved `head` past these slots: their
                // pointers (published by `tail`) are now ours alone.
                return taken
                    .into_iter()
                    .map(|p| unsafe { H::from_raw(p) })
                    .collect();
            }
        }
    }

    /// Any thread: takes `runnext`, else the oldest G of the ring.
    pub fn pop(&self) -> Option<H> {
        self.pop_inheriting().map(|(g, _)| g)
    }

    /// As [`LocalQueue::pop`], and whether the G came from `runnext`: such
    /// a G inherits the time slice of the one that readied it (Go's
    /// runqget `inheritTime`), so a pair handing work back and forth
    /// through `runnext` cannot keep the ring from running forever.
    pub fn pop_inheriting(&self) -> Option<(H, bool)> {
        let next = self.next.swap(ptr::null_mut(), AcqRel);
        if !next.is_null() {
            // SAFETY: taken from `next` by the swap: sole owner.
            return Some((unsafe { H::from_raw(next) }, true));
        }
        self.pop_ring().map(|g| (g, false))
    }

    fn pop_ring(&self) -> Option<H> {
        loop {
            let h = self.head.load(Acquire);
            let t = self.tail.load(Acquire);
            if t == h {
                return None;
            }
            let g = self.slot(h).load(Relaxed);
            if self
                .head
                .compare_exchange(h, h.wrapping_add(1), AcqRel, Relaxed)
                .is_ok()
            {
                // SAFETY: slot `h` was published by `tail` (acquired above)
                // and the CAS took it: sole owner.
                return Some(unsafe { H::from_raw(g) });
            }
        }
    }

    /// Called by the owner of `self`: steals half of `victim`'s ring into
    /// `self` (Go's runqsteal) and returns one G to run; with `take_next`,
    /// the victim's `runnext` too when its ring is empty.
    pub fn steal_from(&self, victim: &LocalQueue<H, N>, take_next: bool) -> Option<H> {
        let t = self.tail.load(Relaxed);
        loop {
            let h = victim.head.load(Acquire);
            let vt = victim.tail.load(Acquire);
            let n = vt.wrapping_sub(h);
            let n = n - n / 2;
            if n == 0 {
                if take_next {
                    let next = victim.next.swap(ptr::null_mut(), AcqRel);
                    if !next.is_null() {
                        // SAFETY: taken from `next` by the swap: sole owner.
                        return Some(unsafe { H::from_raw(next) });
                    }
                }
                return None;
            }
            if n > N / 2 {
                // Read `head` and `tail` at different times: look again.
                continue;
            }
            // Copy into our ring beyond our tail: nobody reads there, and our
            // ring has room (we steal only when it is empty, as Go does).
            for i in 0..n {
                let g = victim.slot(h.wrapping_add(i)).load(Relaxed);
                self.slot(t.wrapping_add(i)).store(g, Relaxed);
            }
            if victim
                .head
                .compare_exchange(h, h.wrapping_add(n), AcqRel, Relaxed)
                .is_ok()
            {
                // The last one stolen runs now; the others are published.
                let last = self.slot(t.wrapping_add(n - 1)).load(Relaxed);
                if n > 1 {
                    self.tail.store(t.wrapping_add(n - 1), Release);
                }
                // SAFETY: the CAS took slots h..h+n of the victim; this one
                // is not published in our ring (tail stops before it).
                return Some(unsafe { H::from_raw(last) });
            }
        }
    }

    /// Gs in the ring plus runnext (a snapshot: it may be stale at once).
    pub fn len(&self) -> usize {
        let h = self.head.load(Acquire);
        let t = self.tail.load(Acquire);
        let ring = t.wrapping_sub(h).min(N) as usize;
        ring + usize::from(!self.next.load(Acquire).is_null())
    }

    /// Whether the `runnext` slot looked full (a snapshot).
    pub fn has_next(&self) -> bool {
        !self.next.load(Acquire).is_null()
    }

    /// Whether the queue looked empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<H: Linked, const N: u32> Drop for LocalQueue<H, N> {
    fn drop(&mut self) {
        while self.pop().is_some() {}
    }
}
