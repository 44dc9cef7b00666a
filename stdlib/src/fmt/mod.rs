//! Go's formatting, byte for byte (Go 1.19 is the reference), as a pure
//! engine with no dependency on the VM:
//!
//! - [`float`]: `strconv.FormatFloat` (`b e E f g G x X`, shortest or fixed
//!   precision) and the `%v` text of a float.
//! - [`int`]: `strconv.FormatInt` / `FormatUint` / `Itoa`.
//! - [`quote`](mod@quote): `strconv.Quote` and friends, `IsPrint`, Go's UTF-8 decoding.
//! - [`strconv`]: `Atoi`, `ParseInt`, `ParseUint`, `ParseFloat` with Go's
//!   error texts.
//! - [`printf`]: the `Printf` directive engine over the [`FmtArg`] trait,
//!   and `Sprint` / `Sprintln` spacing.

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
