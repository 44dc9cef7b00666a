//! Weft, embedded: the facade over the workspace's crates.
//!
//! Today it re-exports the front end (`weft_lang`): compile a program and
//! inspect its bytecode. Running it from Rust arrives with the interpreter.
#![forbid(unsafe_code)]

pub use weft_lang as lang;
pub use weft_lang::{compile_program_source, load_program, FileDiagnostics, Program};
