//! Weft's standard modules (`fmt`, `strings`, `strconv`, ...), written against
//! the native-function interface of `weft-vm`.
//!
//! - [`natives`]: the registry of native modules the command line hands to
//!   the VM, one file per module.
#![forbid(unsafe_code)]

pub mod natives;
