//! Weft's front end: source text to bytecode.
//!
//! - [`lexer`]: logos tokens, Go's semicolon insertion, block-brace tagging.
//! - [`parser`] (+ `grammar.lalrpop`): LR(1) parser to the [`ast`], with
//!   statement-level error recovery.
//! - `resolve`: scopes; locals, captured locals, upvalues, module globals,
//!   builtins; the static errors of the language.
//! - `compile`: the AST to register bytecode ([`bytecode`]), one `Proto` per function.
//! - `disasm`: the readable listing `weft disasm` prints.
//! - [`diag`]: diagnostics and their rendering with ariadne.
//!
//! Invariant: nothing in this crate panics on any input; every problem with
//! the input is a [`diag::Diagnostic`].
#![forbid(unsafe_code)]

pub mod ast;
pub mod diag;
pub mod lexer;
pub mod parser;
pub mod span;
