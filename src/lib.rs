//! Weft, embedded: the facade over the workspace's crates.
//!
//! - [`lang`] compiles a program: [`load_program`] (an entry file and the
//!   file modules it imports) or [`compile_program_source`] (the entry
//!   file's text given), with diagnostics for bad input.
//! - [`vm`] runs it: `vm::interp::Vm::load(&program, natives)` and then
//!   `run_program` (an unrecovered panic, `os.Exit` or a fatal error comes
//!   back as `vm::interp::Stop`).
//! - [`stdlib`] is the standard library's natives (`stdlib::natives::natives()`);
//!   an embedder adds modules of its own with `vm::native::Natives::module`,
//!   and tells the compiler their import paths (`Natives::module_paths`,
//!   [`compile_program_source_with_modules`]).
//!
//! ```
//! use weft::vm::native::{ModuleDef, NativeCtx, Natives, Results};
//! use weft::vm::value::Value;
//!
//! fn answer(_: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
//!     Ok(Results::from_slice(&[Value::int_inline(42).unwrap()]))
//! }
//!
//! let natives: Natives = weft::stdlib::natives::natives()
//!     .module("host", ModuleDef::default().function("Answer", answer));
//! let source = "import \"host\"\n\nfunc main() {\n\tif host.Answer() != 42 {\n\t\tpanic(\"no\")\n\t}\n}\n";
//! let program =
//!     weft::compile_program_source_with_modules("embed.weft", source, &natives.module_paths())
//!         .expect("compiles");
//! let (mut vm, mut p, mut g) = weft::vm::interp::Vm::load(&program, natives).expect("loads");
//! assert!(vm.run_program(&mut p, &mut g).is_ok());
//! ```
#![forbid(unsafe_code)]

pub use weft_lang as lang;
pub use weft_lang::{
    compile_program_source, compile_program_source_with_modules, load_program,
    load_program_with_modules, FileDiagnostics, Program,
};
pub use weft_stdlib as stdlib;
pub use weft_vm as vm;
