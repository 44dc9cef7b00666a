//! Weft's front end: source text to bytecode.
//!
//! - [`lexer`]: logos tokens, Go's semicolon insertion, block-brace tagging.
//! - [`parser`] (+ `grammar.lalrpop`): LR(1) parser to the [`ast`], with
//!   statement-level error recovery and a bound on nesting depth.
//! - [`resolve`]: scopes; locals, captured locals, upvalues, module globals,
//!   builtins; the static errors of the language.
//! - [`compile`]: the AST to register bytecode ([`bytecode`]), one `Proto` per
//!   function, every heap store a barriered instruction.
//! - [`program`]: loads an entry file and its file-module imports.
//! - [`liveness`]: the registers a function may read before writing them
//!   (how much of a new frame the interpreter clears).
//! - [`verify`]: proves compiled code stays inside its tables (the
//!   interpreter relies on it to skip bounds checks).
//! - [`disasm`]: the listing `weft disasm` prints.
//! - [`diag`]: diagnostics and their rendering with ariadne.
//!
//! Invariant: nothing in this crate panics on any input; every problem with
//! the input is a [`diag::Diagnostic`]. Recursive passes are safe because the
//! lexer bounds bracket nesting and the parser bounds expression depth.
#![forbid(unsafe_code)]

pub mod ast;
pub mod bytecode;
pub mod compile;
pub mod diag;
pub mod disasm;
pub mod gen;
pub mod lexer;
pub mod liveness;
pub mod parser;
pub mod program;
pub mod resolve;
pub mod span;
pub mod verify;

pub use diag::FileDiagnostics;
pub use program::{
    compile_program_source, compile_program_source_with_modules, load_program,
    load_program_with_modules, Program,
};

/// The language version, printed by `weft --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
