//! A Rust panic inside a native function (a bug of the native's) ends the
//! program as a Go-style fatal error with a traceback, through the normal
//! shutdown: it neither unwinds through the interpreter nor leaves the
//! other Ms waiting for the panicked one's P.

use weft_vm::interp::{Stop, Vm};
use weft_vm::native::{ModuleDef, NativeCtx, Natives, Results};
use weft_vm::value::Value;

fn boom(_: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
    panic!("boom from the host")
}

#[test]
fn a_panicking_native_ends_the_program_as_a_fatal_error() {
    // A host function in a module the compiler knows (it accepts only
    // the standard library's import paths).
    let source = "import \"os\"\n\nfunc main() {\n\tos.Boom()\n}\n";
    let program =
        weft_lang::program::compile_program_source("native_panic.weft", source).expect("compiles");
    let natives = Natives::default().module("os", ModuleDef::default().function("Boom", boom));
    let (mut vm, mut p, mut g) = Vm::load(&program, natives).expect("loads");
    match vm.run_program(&mut p, &mut g) {
        Err(Stop::Panic(panic)) => {
            let report = panic.report();
            assert!(
                report.starts_with(
                    "fatal error: internal error: a native function panicked: boom from the host\n"
                ),
                "{report}"
            );
            assert!(report.contains("native_panic.weft:4"), "{report}");
        }
        Ok(()) => panic!("the program ended normally"),
        Err(Stop::Exit(code)) => panic!("the program exited with {code}"),
        Err(Stop::Suspended) => panic!("the program was suspended"),
    }
}
