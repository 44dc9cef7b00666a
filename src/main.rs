//! The `weft` binary: the command line of crate `weft-repl`, with mimalloc as
//! the allocator for everything that is not a script object.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // The front end's passes are recursive over trees whose depth the parser
    // bounds; a roomy stack keeps that bound far from the limit.
    let child = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(weft_repl::main_with_args);
    match child.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => std::process::ExitCode::from(2),
    }
}
