//! The object model the embedder plugs into: object references, the one-word
//! header, the type table with trace functions, and the [`Tracer`] that trace
//! functions report pointers to.
//!
//! Layout of every object: `[header: AtomicU64][payload words: AtomicU64...]`.
//! The header holds `type id + 1` in its low 32 bits (0 = not yet initialised,
//! traced as having no pointers) and the payload length in words in the high
//! 32 bits. Payload slots are atomic words read and written Relaxed.
//!
//! Pointer discovery: trace functions either call [`Tracer::mark_ptr`] with an
//! address, or [`Tracer::mark_word`]/[`Tracer::mark_slots`] with value words,
//! which the heap decodes with the embedder's `HeapConfig::decode_ptr` (that is
//! where the VM's NaN-boxing decode plugs in). Addresses that are not inside an
//! in-use span are ignored; interior pointers mark their object.

use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering::*};

use crate::gcwork::GcWork;
use crate::heap::Heap;

/// Bytes of the object header.
pub const HEADER_BYTES: usize = 8;

/// Index of a registered type.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct TypeId(pub u32);

/// A trace function: report every pointer held by `obj` to the tracer.
pub type TraceFn = fn(obj: ObjView<'_>, tracer: &mut Tracer<'_>);

/// What the collector knows about a type of object.
#[derive(Clone, Copy, Debug)]
pub struct TypeInfo {
    /// Name, for diagnostics.
    pub name: &'static str,
    /// Enumerates pointer slots; `None` for objects without pointers.
    pub trace: Option<TraceFn>,
}

/// Types registered before the heap is built; immutable afterwards.
#[derive(Clone, Debug, Default)]
pub struct TypeTable {
    pub(crate) types: Vec<TypeInfo>,
}

impl TypeTable {
    /// An empty table.
    pub fn new() -> TypeTable {
        TypeTable::default()
    }
    /// Registers a type and returns its id.
    pub fn register(&mut self, info: TypeInfo) -> TypeId {
        self.types.push(info);
        TypeId(self.types.len() as u32 - 1)
    }
}

/// The address of a heap object (its header). Plain data: holding one keeps
/// nothing alive; the embedder must keep it in a root or a heap slot across
/// safepoints.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct ObjRef(NonNull<u8>);

// SAFETY: an ObjRef is an address; all access through it goes via atomics.
unsafe impl Send for ObjRef {}
// SAFETY: as for Send.
unsafe impl Sync for ObjRef {}

impl ObjRef {
    /// The object's address (what the embedder stores in a value word).
    #[inline]
    pub fn addr(self) -> usize {
        self.0.as_ptr() as usize
    }

    /// Rebuilds a reference from an address produced by [`ObjRef::addr`].
    pub fn from_addr(addr: usize) -> Option<ObjRef> {
        NonNull::new(addr as *mut u8).map(ObjRef)
    }

    /// An object reference from an address known not to be 0 (a value
    /// word's pointer payload: the embedder never makes one of address 0).
    ///
    /// # Safety
    /// `addr` is not 0.
    #[inline(always)]
    pub unsafe fn from_addr_unchecked(addr: usize) -> ObjRef {
        debug_assert!(addr != 0, "an object reference of address 0");
        // SAFETY: the caller promises `addr` is not 0.
        ObjRef(unsafe { NonNull::new_unchecked(addr as *mut u8) })
    }

    #[inline]
    pub(crate) fn header(self) -> &'static AtomicU64 {
        // SAFETY: callers only build ObjRefs for allocated objects, whose first
        // word is the header; heap memory stays mapped while the heap lives.
        unsafe { &*(self.0.as_ptr() as *const AtomicU64) }
    }

    /// The payload slots of the object.
    ///
    /// # Safety
    /// The object must be live (reachable from a root or allocated since the
    /// last safepoint) for all of `'a`; the heap must outlive `'a`.
    #[inline]
    pub unsafe fn slots<'a>(self) -> &'a [AtomicU64] {
        let words = (self.header().load(Relaxed) >> 32) as usize;
        // SAFETY: the payload follows the header and is `words` atomic words
        // long (written at allocation); liveness is the caller's promise.
        unsafe { std::slice::from_raw_parts((self.0.as_ptr() as *const AtomicU64).add(1), words) }
    }

    /// The address of the payload's first word (the word after the header).
    /// Computing it reads nothing; an embedder that lays out data of its own
    /// there (a type with no trace function) reaches it through this.
    #[inline]
    pub fn payload_addr(self) -> usize {
        self.addr() + HEADER_BYTES
    }

    /// The registered type of the object, if initialised.
    pub fn type_id(self) -> Option<TypeId> {
        let h = self.header().load(Relaxed) as u32;
        (h != 0).then(|| TypeId(h - 1))
    }

    /// Whether the object is of type `ty`: `type_id() == Some(ty)` as one
    /// compare of the header's low half with a constant (an interpreter's
    /// type test before a fast path).
    #[inline(always)]
    pub fn has_type(self, ty: TypeId) -> bool {
        self.header().load(Relaxed) as u32 == ty.0.wrapping_add(1)
    }
}

/// A live object handed to a trace function.
#[derive(Clone, Copy, Debug)]
pub struct ObjView<'a> {
    pub(crate) obj: ObjRef,
    pub(crate) _life: PhantomData<&'a ()>,
}

impl<'a> ObjView<'a> {
    /// The object.
    pub fn obj(&self) -> ObjRef {
        self.obj
    }
    /// Its payload slots.
    pub fn slots(&self) -> &'a [AtomicU64] {
        // SAFETY: the collector only builds views of objects it is scanning,
        // which are allocated and stay mapped for the scan.
        unsafe { self.obj.slots() }
    }
}

pub(crate) enum TracerMode<'a> {
    /// Grey every unmarked object reported.
    Mark(&'a mut GcWork),
    /// Collect reported object addresses (checkmark, reachability checks).
    Visit(&'a mut Vec<usize>),
}

/// Receives the pointers a trace function or root provider reports.
pub struct Tracer<'a> {
    pub(crate) heap: &'a Heap,
    pub(crate) mode: TracerMode<'a>,
    pub(crate) stacks: StackScan,
    /// Root slots reported since the last [`Tracer::checkpoint`].
    slots_since_checkpoint: u64,
}

/// Which goroutine stacks a [`crate::RootKind::Stacks`] provider reports in
/// this scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackScan {
    /// Every stack (checkmark, validation, walks).
    All,
    /// Concurrent mark of cycle `epoch`, world running: the stacks of
    /// goroutines that are not running and not yet scanned this cycle, each
    /// held still while it is scanned; record them as scanned.
    Concurrent { epoch: u64 },
    /// Mark termination of cycle `epoch`, world stopped: every stack not yet
    /// scanned this cycle.
    Final { epoch: u64 },
}

impl<'a> Tracer<'a> {
    pub(crate) fn new(heap: &'a Heap, mode: TracerMode<'a>, stacks: StackScan) -> Tracer<'a> {
        Tracer {
            heap,
            mode,
            stacks,
            slots_since_checkpoint: 0,
        }
    }

    /// For a long root scan (many goroutine stacks) during the concurrent
    /// mark: publishes the grey objects found so far, so mark workers and
    /// assists can work on them meanwhile, and counts the slots scanned
    /// since the last checkpoint as background credit (Go counts stack
    /// scanning as scan work too): assists in debt take it instead of
    /// parking while the stacks, not the heap, hold the cycle's work.
    pub fn checkpoint(&mut self) {
        let credit = std::mem::take(&mut self.slots_since_checkpoint) * 8;
        if let TracerMode::Mark(gcw) = &mut self.mode {
            self.heap.flush_counters(gcw);
            self.heap.work.publish(gcw, true);
            if self.heap.phase() == crate::heap::PHASE_MARK && credit > 0 {
                self.heap.bg_credit.fetch_add(credit as i64, Relaxed);
                self.heap.wake_assists();
            }
            self.heap.wake_markers();
        }
    }

    /// Root slots reported since the last checkpoint (and forgets them).
    pub(crate) fn take_slots(&mut self) -> u64 {
        std::mem::take(&mut self.slots_since_checkpoint)
    }

    /// What a stack provider should report now (see [`StackScan`]).
    pub fn stack_scan(&self) -> StackScan {
        self.stacks
    }

    /// Reports an object address (or any address; non-heap ones are ignored).
    #[inline]
    pub fn mark_ptr(&mut self, addr: usize) {
        if addr == 0 {
            return;
        }
        match &mut self.mode {
            TracerMode::Mark(gcw) => self.heap.shade(addr, gcw),
            TracerMode::Visit(out) => out.push(addr),
        }
    }

    /// Reports a value word, decoded with the embedder's `decode_ptr`.
    #[inline]
    pub fn mark_word(&mut self, word: u64) {
        let addr = (self.heap.config.decode_ptr)(word);
        self.mark_ptr(addr);
    }

    /// Reports every slot of `slots` (loaded Relaxed).
    pub fn mark_slots(&mut self, slots: &[AtomicU64]) {
        self.slots_since_checkpoint += slots.len() as u64;
        for s in slots {
            self.mark_word(s.load(Relaxed));
        }
    }
}
