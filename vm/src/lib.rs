//! The Weft virtual machine: values, objects, the interpreter loop and the
//! goroutine scheduler (see docs/ARCHITECTURE.md).
//!
//! - [`value`]: the 64-bit value word (NaN-boxing).
//!
//! Being built by the interpreter issue: objects on the `gc` heap, goroutines,
//! the interpreter loop, the native-function interface.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod value;
