//! Weft's command line: `weft check`, `weft disasm`, `weft run` and the REPL.
//!
//! The root package's `weft` binary calls [`main_with_args`]; everything a
//! user types reaches the front end through here, and every outcome is an exit
//! status (0 ok, 1 compile error, 2 runtime failure), never a Rust panic.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "weft", version = weft_lang::VERSION, about = "Weft: Go's syntax and Go's concurrency, as a scripting language")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A script to run (same as `weft run FILE`); with no file, the REPL starts.
    file: Option<String>,
    /// Arguments passed to the script as os.Args[1:].
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compile files and report diagnostics, without running them.
    Check {
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Print the bytecode of a file (and of the file modules it imports).
    Disasm { file: String },
    /// Run a script.
    Run {
        file: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Runs the command line with the process's arguments.
pub fn main_with_args() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Some(Command::Check { files }) => check(&files),
        Some(Command::Disasm { file }) => disasm(&file),
        Some(Command::Run { file, args }) => run(&file, &args),
        None => match cli.file {
            Some(file) => run(&file, &cli.args),
            None => repl(),
        },
    }
}

fn report(errors: &[weft_lang::FileDiagnostics]) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut stderr = std::io::stderr().lock();
    for file in errors {
        let _ = stderr.write_all(file.render(color).as_bytes());
    }
}

/// `weft check FILE...`: exit 1 if any file has a diagnostic.
pub fn check(files: &[String]) -> ExitCode {
    let mut failed = false;
    for f in files {
        if let Err(errors) = weft_lang::load_program(f) {
            report(&errors);
            failed = true;
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `weft disasm FILE`.
pub fn disasm(file: &str) -> ExitCode {
    match weft_lang::load_program(file) {
        Ok(program) => {
            print!("{}", weft_lang::disasm::disassemble_program(&program));
            ExitCode::SUCCESS
        }
        Err(errors) => {
            report(&errors);
            ExitCode::from(1)
        }
    }
}

/// `weft run FILE`: compiles and runs the program. Exit status: 0, 1 for a
/// compile error, 2 for an unrecovered panic or fatal error, or the status
/// the program passed to `os.Exit`.
pub fn run(file: &str, args: &[String]) -> ExitCode {
    let program = match weft_lang::load_program(file) {
        Ok(p) => p,
        Err(errors) => {
            report(&errors);
            return ExitCode::from(1);
        }
    };
    let (mut vm, mut p, mut g) =
        match weft_vm::interp::Vm::load(&program, weft_stdlib::natives::natives()) {
            Ok(loaded) => loaded,
            Err(e) => {
                eprintln!("fatal error: {e}");
                return ExitCode::from(2);
            }
        };
    vm.sigquit_dump = true;
    vm.args = std::iter::once(file.to_string())
        .chain(args.iter().cloned())
        .collect();
    match vm.run_program(&mut p, &mut g) {
        Ok(()) => ExitCode::SUCCESS,
        Err(weft_vm::interp::Stop::Exit(code)) => ExitCode::from(code as u8),
        Err(weft_vm::interp::Stop::Panic(panic)) => {
            let _ = std::io::stdout().flush();
            eprint!("{}", panic.report());
            ExitCode::from(2)
        }
        Err(weft_vm::interp::Stop::Suspended) => ExitCode::from(2),
    }
}

fn repl() -> ExitCode {
    eprintln!(
        "weft {}: the interactive REPL is not built yet; run a script with `weft FILE` (see `weft --help`)",
        weft_lang::VERSION
    );
    ExitCode::from(2)
}
