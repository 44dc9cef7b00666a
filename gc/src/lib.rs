//! Weft's managed heap and concurrent collector (see docs/ARCHITECTURE.md).
//!
//! This crate knows nothing of the language: it sees objects with a header, a
//! size class and a trace function supplied by its embedder (`weft-vm`).
#![deny(unsafe_op_in_unsafe_fn)]
