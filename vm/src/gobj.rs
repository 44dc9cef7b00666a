//! Goroutine objects: every G lives in the managed heap, as Go's `g`s do,
//! and allgs ([`AllGList`]) keeps it alive. Dead Gs stay in allgs, on the
//! scheduler's free lists, to be reused, as in Go.
//!
//! How it fits: the scheduler ([`crate::sched`]) links Gs in its run
//! queues, `runnext` slots, global queue, parked table and free lists by
//! [`G`] handles. A handle is a typed reference stored without a write
//! barrier (Go's `guintptr`): those stores run without a P or with the
//! world stopped, and need no barrier because allgs keeps every G alive
//! whatever the collector's phase. Checked builds validate each such store
//! (`Runtime::link` -> `Heap::check_barrier_free`: the G must be one allgs
//! holds). The collector marks G objects through allgs, as part of the
//! goroutine roots (`sched::AllGs`, scanned concurrently).
//!
//! Payload of a `Kind::Goroutine` object, in words:
//! - [`PLACE`]: the object's place in allgs (`shard << 32 | index`),
//!   written under that shard's lock (the shard never changes);
//! - [`REGS`]: the G's register file, `Arc::into_raw` of an
//!   `Arc<RegFile>` whose strong count the object owns; fixed for the
//!   object's life;
//! - [`GOID`]: the goroutine id while the G is live, 0 while it is dead;
//! - from [`STATE_WORD`] on: the [`GState`], a Rust value.
//!
//! Invariants:
//! - A G object is in allgs from its allocation, before the allocating M
//!   reaches another safepoint (so no cycle can start in between and miss
//!   it), until [`AllGList::destroy`] drops its `GState` and register
//!   file and takes it out, under the shard's lock. Sweeping frees its
//!   memory after that. (Dropping first matters when the caller holds no
//!   P: out of allgs, the object could be swept before the drop ended.)
//! - Exactly one [`G`] handle exists for each object in allgs, and the
//!   `GState` is reached only through it: a handle owns its G as a `Box`
//!   owns its value. Others (the collector's stack scan, the store check,
//!   `SIGQUIT` dumps after the Ms stopped) read only words `PLACE`..`GOID`,
//!   which are atomics, and dereference `REGS` only under the shard's lock.
//! - The kind has no trace function: the collector marks a G object but
//!   never reads it. The G's values are in its registers, which are
//!   scanned as its stack.
//! - No handle is used after its runtime dropped allgs ([`AllGList::destroy_all`]).

use crate::heap::Kind;
use crate::interp::RegFile;
use crate::runq::Linked;
use crate::sched::GState;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use weft_gc::{AllocError, Mutator, ObjRef, P};

/// Payload words before the `GState` (see the module's layout).
pub(crate) const PLACE: usize = 0;
pub(crate) const REGS: usize = 1;
pub(crate) const GOID: usize = 2;
const STATE_WORD: usize = 3;

/// Bytes of a G object's payload.
const PAYLOAD_BYTES: usize = STATE_WORD * 8 + std::mem::size_of::<GState>();

// The GState sits at an 8-byte boundary after the raw words.
const _: () = assert!(std::mem::align_of::<GState>() <= 8);

/// Shards of allgs (a power of two): every fresh G and every destroyed one
/// takes a shard's lock.
const SHARDS: usize = 16;

/// The `PLACE` word for index `index` of shard `shard`, and back.
fn encode_place(shard: usize, index: usize) -> u64 {
    ((shard as u64) << 32) | index as u64
}

fn decode_place(word: u64) -> (usize, usize) {
    ((word >> 32) as usize, word as u32 as usize)
}

/// The raw words of G object `obj`.
fn words(obj: ObjRef) -> &'static [AtomicU64] {
    // SAFETY: `obj` is a G object (callers only pass objects allgs holds or
    // held, whose memory stays mapped while the heap lives); its payload
    // starts with STATE_WORD atomic words, which nobody reaches through a
    // reference to the GState.
    unsafe { std::slice::from_raw_parts(obj.payload_addr() as *const AtomicU64, STATE_WORD) }
}

fn state_ptr(obj: ObjRef) -> *mut GState {
    (obj.payload_addr() + STATE_WORD * 8) as *mut GState
}

/// A goroutine: the owning handle of its heap object (see the module's
/// invariants). Like the `Box<GState>` it replaced, it moves between the
/// scheduler's queues and the M running the G; dropping it does nothing
/// (the G stays in allgs; `Runtime::retire` and `AllGList::destroy` are
/// how a G ends).
pub(crate) struct G(NonNull<GState>);

// SAFETY: a handle is the G's only owner, and a GState may move between
// threads (it did, boxed): handing the handle over hands over the G.
unsafe impl Send for G {}

const _: fn() = || {
    fn send<T: Send>() {}
    send::<GState>();
};

impl G {
    /// The G's heap object.
    pub fn obj(&self) -> ObjRef {
        ObjRef::from_addr(self.0.as_ptr() as usize - STATE_WORD * 8 - weft_gc::HEADER_BYTES)
            .expect("non-null")
    }

    /// Marks the G live with id `goid`, or dead (0).
    pub fn set_goid(&self, goid: u64) {
        words(self.obj())[GOID].store(goid, Relaxed);
    }
}

impl Deref for G {
    type Target = GState;
    fn deref(&self) -> &GState {
        // SAFETY: the object is in allgs while a handle exists, so its
        // GState is initialised and not dropped; the handle is its only
        // way in (module invariants).
        unsafe { self.0.as_ref() }
    }
}

impl DerefMut for G {
    fn deref_mut(&mut self) -> &mut GState {
        // SAFETY: as for Deref; `&mut self` is the sole owner's access.
        unsafe { self.0.as_mut() }
    }
}

impl Linked for G {
    type Target = GState;
    fn into_raw(self) -> *mut GState {
        self.0.as_ptr()
    }
    unsafe fn from_raw(p: *mut GState) -> G {
        G(NonNull::new(p).expect("a G handle is never null"))
    }
}

/// allgs: every G object not destroyed, live or dead (Go's `allgs`).
pub(crate) struct AllGList {
    shards: Box<[Mutex<Vec<ObjRef>>]>,
}

impl AllGList {
    pub fn new() -> AllGList {
        AllGList {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn shard_of(obj: ObjRef) -> usize {
        (obj.addr().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) & (SHARDS - 1)
    }

    /// Allocates a G object holding `state` (live, as goroutine `goid`,
    /// with register file `regs`) and adds it to allgs.
    pub fn alloc(
        &self,
        p: &mut P,
        m: &mut Mutator,
        regs: &Arc<RegFile>,
        goid: u64,
        state: GState,
    ) -> Result<G, AllocError> {
        let obj = p.alloc(m, Kind::Goroutine.type_id(), PAYLOAD_BYTES)?;
        // No safepoint from here to the insertion (the invariant that keeps
        // a cycle from missing the object).
        let w = words(obj);
        w[REGS].store(Arc::into_raw(regs.clone()) as u64, Relaxed);
        w[GOID].store(goid, Relaxed);
        let at = state_ptr(obj);
        // SAFETY: the payload is PAYLOAD_BYTES long, so the GState fits
        // after the raw words, 8-aligned (checked above); the object is
        // fresh, so nothing else reads or owns that memory.
        unsafe { at.write(state) };
        let shard = Self::shard_of(obj);
        let mut list = self.shards[shard].lock().expect("allgs");
        w[PLACE].store(encode_place(shard, list.len()), Relaxed);
        list.push(obj);
        drop(list);
        Ok(G(NonNull::new(at).expect("heap address")))
    }

    /// Ends G `g`: drops its state and register file, then takes its
    /// object out of allgs, both under its shard's lock (so no reader sees
    /// the object half-dropped, and the collector keeps it until the drop is
    /// over even when the caller holds no P). Sweeping frees the object.
    pub fn destroy(&self, g: G) {
        let obj = g.obj();
        let w = words(obj);
        let (shard, _) = decode_place(w[PLACE].load(Relaxed));
        let mut list = self.shards[shard].lock().expect("allgs");
        // Read again under the lock: a removal may have moved it.
        let (_, index) = decode_place(w[PLACE].load(Relaxed));
        assert_eq!(
            list.get(index),
            Some(&obj),
            "a G object out of place in allgs"
        );
        // SAFETY: `g` was the only handle; readers of the register file
        // hold this lock, and the object leaves allgs before it is let go.
        unsafe { Self::drop_contents(obj) };
        list.swap_remove(index);
        if let Some(&moved) = list.get(index) {
            words(moved)[PLACE].store(encode_place(shard, index), Relaxed);
        }
    }

    /// # Safety
    /// `obj` is a G object in allgs, with its contents not dropped yet; no
    /// handle to it is used again; the caller holds its shard's lock and
    /// takes it out of allgs before letting go.
    unsafe fn drop_contents(obj: ObjRef) {
        let w = words(obj);
        w[GOID].store(0, Relaxed);
        // SAFETY: the caller's promise; REGS holds the object's strong count.
        unsafe {
            state_ptr(obj).drop_in_place();
            drop(Arc::from_raw(w[REGS].load(Relaxed) as *const RegFile));
        }
    }

    /// Whether `addr` is a G object in allgs.
    pub fn holds(&self, addr: usize) -> bool {
        let Some(obj) = ObjRef::from_addr(addr) else {
            return false;
        };
        if !obj.has_type(Kind::Goroutine.type_id()) {
            return false;
        }
        let w = words(obj);
        let Some(shard) = self.shards.get(decode_place(w[PLACE].load(Relaxed)).0) else {
            return false;
        };
        let list = shard.lock().expect("allgs");
        let (_, index) = decode_place(w[PLACE].load(Relaxed));
        list.get(index) == Some(&obj)
    }

    /// Calls `f` on every G object with, for a live G, its id and register
    /// file: a shard at a time, under its lock (so `f` must not take a
    /// lock that is held while allgs is).
    pub fn each(&self, mut f: impl FnMut(ObjRef, Option<(u64, &Arc<RegFile>)>)) {
        for shard in self.shards.iter() {
            for &obj in shard.lock().expect("allgs").iter() {
                let w = words(obj);
                let goid = w[GOID].load(Relaxed);
                if goid == 0 {
                    f(obj, None);
                    continue;
                }
                // SAFETY: REGS is an `Arc::into_raw` whose count the object
                // owns until `destroy`, which cannot run while we hold the
                // shard's lock; ManuallyDrop leaves that count alone.
                let regs = ManuallyDrop::new(unsafe {
                    Arc::from_raw(w[REGS].load(Relaxed) as *const RegFile)
                });
                f(obj, Some((goid, &regs)));
            }
        }
    }

    /// Ends every G: the runtime is being dropped. Each shard's Gs are
    /// dropped while the shard still holds them (see `destroy`).
    ///
    /// # Safety
    /// No handle to any of these Gs is used again (the Ms have stopped, and
    /// handles still in the runtime's tables are dropped without use).
    pub unsafe fn destroy_all(&self) {
        for shard in self.shards.iter() {
            let mut list = shard.lock().expect("allgs");
            for &obj in list.iter() {
                // SAFETY: in allgs, contents live, the lock held and the
                // list emptied below; the caller's promise for handles.
                unsafe { Self::drop_contents(obj) };
            }
            list.clear();
        }
    }
}
