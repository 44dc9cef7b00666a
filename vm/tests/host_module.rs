//! An embedder's native module: a script imports it by its path (the
//! compiler is told the embedder's module paths), and a Rust panic inside
//! one of its functions (a bug of the native's) ends the program as a
//! Go-style fatal error with a traceback, through the normal shutdown: it
//! neither unwinds through the interpreter nor leaves the other Ms waiting
//! for the panicked one's P.

use weft_lang::program::{compile_program_source, compile_program_source_with_modules};
use weft_vm::interp::{Stop, Vm};
use weft_vm::native::{ModuleDef, NativeCtx, Natives, Results};
use weft_vm::value::Value;

fn boom(_: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
    panic!("boom from the host")
}

fn twice(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let n = a
        .first()
        .and_then(|v| v.as_inline_int())
        .ok_or("host.Twice: want an int")?;
    let v = Value::int_inline(2 * n).ok_or("host.Twice: too large")?;
    Ok(Results::from_slice(&[v]))
}

fn host_natives() -> Natives {
    Natives::default().module(
        "host",
        ModuleDef::default()
            .function("Boom", boom)
            .function("Twice", twice),
    )
}

fn run(name: &str, source: &str) -> Result<(), Stop> {
    let natives = host_natives();
    let program = compile_program_source_with_modules(name, source, &natives.module_paths())
        .expect("compiles");
    let (mut vm, mut p, mut g) = Vm::load(&program, natives).expect("loads");
    vm.run_program(&mut p, &mut g)
}

#[test]
fn a_script_imports_an_embedders_module() {
    let source = "import \"host\"\n\nfunc main() {\n\tif host.Twice(21) != 42 {\n\t\tpanic(\"wrong\")\n\t}\n}\n";
    if let Err(stop) = run("host_module.weft", source) {
        match stop {
            Stop::Panic(panic) => panic!("{}", panic.report()),
            Stop::Exit(code) => panic!("the program exited with {code}"),
            Stop::Suspended => panic!("the program was suspended"),
        }
    }
    // Without the embedder's paths the compiler knows only the standard
    // library's.
    let errors = compile_program_source("host_module.weft", source).expect_err("unknown package");
    let message = format!("{:?}", errors[0].diagnostics[0]);
    assert!(message.contains("package host is not in std"), "{message}");
}

#[test]
fn a_panicking_native_ends_the_program_as_a_fatal_error() {
    let source = "import \"host\"\n\nfunc main() {\n\thost.Boom()\n}\n";
    match run("native_panic.weft", source) {
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

#[test]
fn a_native_module_with_a_file_path_is_refused() {
    let program = compile_program_source("file_path.weft", "func main() {}\n").expect("compiles");
    let natives = Natives::default().module("./host", ModuleDef::default().function("Boom", boom));
    match Vm::load(&program, natives) {
        Err(e) => assert!(e.to_string().contains("names a file module"), "{e}"),
        Ok(_) => panic!("a native module at ./host was accepted"),
    }
}
