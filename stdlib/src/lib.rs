//! Weft's standard modules (`fmt`, `strings`, `strconv`, ...), written against
//! the native-function interface of `weft-vm`. Filled in by the interpreter issue.
#![forbid(unsafe_code)]
