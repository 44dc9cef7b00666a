//! The `weft` binary: the command line of crate `weft-repl`, with mimalloc as
//! the allocator for everything that is not a script object.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // No transparent huge pages in this process. A page's first touch
    // faults on the thread that touches it, often a mutator holding a P,
    // and a huge page is 2 MB zeroed in one fault: on a VM whose host backs
    // memory on first use, 2-5 ms, which a stop-the-world waits out (the
    // collector's arenas opt out themselves; this covers the allocator's
    // memory too). gcpause, 20 runs: max pause 4.9 ms -> 340 us, pauses
    // over 100 us 3 -> 1 of some 700, the same throughput. An embedder
    // decides this for its own process.
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments and changes only
    // how the kernel backs this process's future page faults.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
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
