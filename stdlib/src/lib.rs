//! Weft's standard modules (`fmt`, `strings`, `strconv`, ...), written against
//! the native-function interface of `weft-vm`.
//!
//! - [`fmt`]: the pure formatting engine, independent of the VM: Go-exact
//!   `Printf` directives ([`fmt::sprintf`], [`fmt::errorf`],
//!   [`fmt::sprint`], [`fmt::sprintln`] over the [`fmt::FmtArg`] trait
//!   that the VM implements for its values), float text
//!   ([`fmt::float`]), integer text ([`fmt::int`]), quoting
//!   ([`fmt::quote`](mod@fmt::quote)) and the `strconv` parsers ([`fmt::strconv`]).
//! - [`natives`]: the registry of native modules the command line hands to
//!   the VM, one file per module.
#![forbid(unsafe_code)]

pub mod fmt;
pub mod natives;
