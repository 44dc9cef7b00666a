//! The Weft virtual machine: values, objects, the interpreter loop and the
//! goroutine scheduler (see docs/ARCHITECTURE.md).
//!
//! - [`value`]: the 64-bit value word (NaN-boxing).
//! - [`arith`]: number semantics (Go int64 wrapping, float promotion, exact
//!   int/float comparison), the one definition the interpreter calls.
//! - [`heap`]: the object kinds registered with the `gc` heap, their trace
//!   functions and the NaN-box pointer decoder.
//! - [`object`]: operations on every object kind on that heap.
//! - [`interp`]: loading a program and the interpreter loop.
//! - [`gobj`]: goroutines as heap objects, and allgs.
//! - [`runq`]: a P's lock-free local run queue (with its loom model).
//! - [`sched`]: goroutines, the scheduler, timers and semaphores.
//! - [`signal`]: the signal handler and the process's signal dispositions.
//! - [`native`]: the native-function interface `stdlib` and embedders use.
#![deny(unsafe_op_in_unsafe_fn)]

/// The atomics `runq` is written over (its loom model swaps in loom's).
mod runq_atomics {
    pub use std::sync::atomic::*;
}

pub mod arith;
pub mod blocking;
pub mod gobj;
pub mod heap;
pub mod interp;
pub mod native;
pub mod object;
pub mod runq;
pub mod sched;
pub mod signal;
pub mod value;
