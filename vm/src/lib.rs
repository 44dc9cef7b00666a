//! The Weft virtual machine: values, objects, the interpreter loop and the
//! goroutine scheduler. Not built yet: the interpreter and scheduler issues
//! fill this crate in (see docs/ARCHITECTURE.md for the plan).
#![deny(unsafe_op_in_unsafe_fn)]
