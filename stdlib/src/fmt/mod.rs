//! Go's formatting, byte for byte (Go 1.19 is the reference), as a pure
//! engine with no dependency on the VM:
//!
//! - [`float`]: `strconv.FormatFloat` (`b e E f g G x X`, shortest or fixed
//!   precision) and the `%v` text of a float.
//! - [`int`]: `strconv.FormatInt` / `FormatUint` / `Itoa`.
//! - [`quote`](mod@quote): `strconv.Quote` and friends, `IsPrint`, Go's UTF-8 decoding.
//! - [`strconv`]: `Atoi`, `ParseInt`, `ParseUint`, `ParseFloat` with Go's
//!   error texts.
//! - [`printf`]: the `Printf` directive engine over the [`FmtArg`] trait
//!   ([`sprintf`], [`errorf`] with `%w`), `Sprint` / `Sprintln` spacing
//!   ([`sprint`], [`sprintln`]), one value's `%v` ([`format_v`]) and Go's
//!   map-key order ([`compare_keys`]).
//!
//! The VM implements [`FmtArg`] for its values; lists, maps and structs
//! hand their parts back as further `FmtArg`s so that verbs and flags apply
//! per element as in Go.
//!
//! Known differences from Go:
//! - [`is_print`] approximates `unicode.IsPrint` without Unicode tables
//!   (see [`quote`](mod@quote)); scattered unassigned code points are
//!   taken as printable, so `%q` shows them where Go escapes them.
//! - `%#v` of lists, maps and structs is `TypeName{a, b}` /
//!   `TypeName{k:v}` / `TypeName{F:v}` from [`FmtArg::type_name`]; Go's
//!   Go-syntax text also names element types and special-cases nil.
//! - Values with an `Error()`/`String()` method ([`ArgKind::Text`]) under a
//!   non-string verb print `%!d(type=text)`; Go prints the underlying
//!   value, e.g. `%!d(*errors.errorString=&{text})`.
//! - There are no unsigned, complex, byte-slice or pointer kinds, and no
//!   `%p`; `%!p(...)` is printed for it.
//! - Map entries print in the order given; [`compare_keys`] gives Go's
//!   order for keys of one kind (Go orders mixed-kind interface keys by an
//!   address-dependent type order).
//! - Parse errors return only the error; Go also returns a value (±Inf
//!   for a float out of range, the clamped bound for an integer, else 0).
//! - `ParseInt` / `ParseUint` take an unsigned base and bit size, so
//!   Go's negative-base/bit-size errors cannot arise.

pub mod float;
pub mod int;
pub mod printf;
pub mod quote;
pub mod strconv;

pub use float::{format_float, format_v as format_float_v};
pub use int::{format_int, format_uint, itoa};
pub use printf::{
    compare_keys, errorf, format_v, parse_format, sprint, sprintf, sprintln, ArgKind, Flags,
    FmtArg, Piece, Value,
};
pub use quote::{can_backquote, is_print, quote, quote_rune, quote_rune_to_ascii, quote_to_ascii};
pub use strconv::{atoi, parse_float, parse_int, parse_uint, NumError, NumErrorKind};

#[cfg(test)]
mod tests;
