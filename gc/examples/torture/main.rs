//! Collector torture test:
//! `cargo run --release -p weft-gc --example torture -- --threads 4 --seconds 20 --checkmark`
//!
//! Flags: `--threads N`, `--seconds S`, `--checkmark`, `--live N` (nodes kept
//! alive per thread, default 262144 so 4 threads hold over 1M), `--gctrace`,
//! `--gcstress N`, `--wbbuf N`, `--poison`, `--gcverify`. Exits non-zero on any miss.

mod model;

fn main() {
    let mut cfg = model::Config {
        threads: 4,
        duration: std::time::Duration::from_secs(20),
        checkmark: false,
        live_per_thread: 262_144,
        gctrace: false,
        gcstress: 0,
        wbbuf: 0,
        poison: false,
        gcverify: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let num = |i: usize| -> u64 {
        args.get(i + 1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                eprintln!("torture: {} needs a number", args[i]);
                std::process::exit(2)
            })
    };
    while i < args.len() {
        match args[i].as_str() {
            "--threads" => cfg.threads = num(i) as usize,
            "--seconds" => cfg.duration = std::time::Duration::from_secs(num(i)),
            "--live" => cfg.live_per_thread = num(i) as usize,
            "--gcstress" => cfg.gcstress = num(i),
            "--wbbuf" => cfg.wbbuf = num(i) as usize,
            "--checkmark" => {
                cfg.checkmark = true;
                i += 1;
                continue;
            }
            "--gctrace" => {
                cfg.gctrace = true;
                i += 1;
                continue;
            }
            "--gcverify" => {
                cfg.gcverify = true;
                i += 1;
                continue;
            }
            "--poison" => {
                cfg.poison = true;
                i += 1;
                continue;
            }
            other => {
                eprintln!("torture: unknown flag {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let s = model::run(&cfg);
    println!(
        "live nodes: {}, max pause: {:.3} ms, total pause: {:.3} ms, pauses: {} ({} over 1 ms), mark restarts: {}",
        s.live_nodes,
        s.max_pause.as_secs_f64() * 1e3,
        s.total_pause.as_secs_f64() * 1e3,
        s.pauses,
        s.pauses_over_1ms,
        s.restarts
    );
    println!(
        "cycles: {}, objects: {}, missed: {}, corrupted: {}",
        s.cycles, s.objects, s.missed, s.corrupted
    );
    if s.missed != 0 || s.corrupted != 0 {
        std::process::exit(1);
    }
}
