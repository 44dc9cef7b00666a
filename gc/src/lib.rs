//! Weft's managed heap and concurrent tri-colour collector.
//!
//! This crate knows nothing of the language: it sees objects with a one-word
//! header, a size class and a trace function supplied by its embedder
//! (`weft-vm`). Module map (docs/gc.md has the full picture):
//!
//! - [`sizeclass`] — size classes up to 32 KiB, spans of 8 KiB pages.
//! - `span` — span descriptors with side alloc/mark bitmaps.
//! - `pageheap` — arenas, the address → span map, free page runs, large
//!   objects, lazy return of memory to the OS.
//! - `mcache` — per-P span cache (lock-free fast path) and central lists.
//! - [`object`] — object references, header, type table, [`Tracer`].
//! - `heap` — the [`Heap`], its configuration, statistics, lock order and
//!   stop-the-world.
//! - `p` — [`P`] (the token required for allocation and barriers),
//!   [`Mutator`] records, safepoints, allocation.
//! - `barrier` — the hybrid write barrier and [`BarrierFreeRef`].
//! - `wbbuf` — per-P write-barrier buffers.
//! - `gcwork` — grey work queues.
//! - `mark` — shading, scanning, background workers, checkmark.
//! - `assist` — mutator assists.
//! - `collector` — the cycle: phases, mark termination with helpers, gctrace.
//! - `sweep` — concurrent and lazy sweeping.
//! - [`pacer`] — GOGC-style trigger, memory limit.
//! - [`debug`] — `WEFTDEBUG` and fatal errors.
#![deny(unsafe_op_in_unsafe_fn)]
#![cfg(unix)]

mod assist;
mod barrier;
mod collector;
pub mod debug;
mod gcwork;
mod heap;
mod mark;
mod mcache;
pub mod object;
mod osthread;
mod p;
pub mod pacer;
mod pageheap;
pub mod sizeclass;
mod span;
mod sweep;
mod wbbuf;

pub use barrier::BarrierFreeRef;
pub use collector::MAX_MARK_RESTARTS;
pub use debug::{weftdebug_pairs, DebugFlags};
pub use heap::{
    AllocError, GcStats, Heap, HeapConfig, RootKind, RootProvider, PAUSE_HISTORY, PHASE_MARK,
    PHASE_MARK_TERM, PHASE_OFF,
};
pub use object::{
    ObjRef, ObjView, StackScan, TraceFn, Tracer, TypeId, TypeInfo, TypeTable, HEADER_BYTES,
};
pub use p::{Mutator, OwnRoots, PHandoff, MAX_PAYLOAD_BYTES, P};
pub use pacer::PacerConfig;
pub use sweep::POISON;
pub use wbbuf::WBBUF_DEFAULT;
