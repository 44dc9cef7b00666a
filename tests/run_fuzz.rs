//! No script can crash the interpreter: mutated conformance programs (the
//! sequential ones) are run by the `weft` binary; whatever they do, the
//! process must end by itself, with a Go-style panic at worst, never a Rust
//! panic or a signal. Deterministic (set `WEFT_RUN_FUZZ_SEED`, `..._CASES`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SNIPPETS: &[&str] = &[
    "0",
    "-1",
    "\"\"",
    "nil",
    "[]",
    "{}",
    "1.5",
    "x",
    "(",
    ")",
    "[0]",
    ".f",
    "+ \"a\"",
    "* 0",
    "/ 0",
    "% 0",
    "<< 70",
    "[1:0]",
    "append(",
    "len(",
    "panic(1)",
    "recover()",
    "defer f()",
    "...",
    "9223372036854775807",
    "[-1]",
];

fn mutate(rng: &mut Rng, src: &str) -> String {
    let mut s = src.as_bytes().to_vec();
    for _ in 0..=rng.below(3) {
        let i = rng.below(s.len() + 1);
        match rng.below(3) {
            0 => {
                let snip = SNIPPETS[rng.below(SNIPPETS.len())].as_bytes();
                s.splice(i..i, snip.iter().copied());
            }
            1 => {
                let j = (i + 1 + rng.below(20)).min(s.len());
                if i < j {
                    s.drain(i..j);
                }
            }
            _ => {
                let j = (i + 1 + rng.below(40)).min(s.len());
                let chunk = s[i.min(j)..j].to_vec();
                s.splice(i..i, chunk);
            }
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

fn run(dir: &Path, path: &Path) -> Result<(), String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("run")
        .arg(path)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut err = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(10) {
            // An infinite loop is the script's business, not a crash.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    if stderr.contains("panicked at") {
        return Err(format!(
            "Rust panic: {}",
            stderr
                .lines()
                .find(|l| l.contains("panicked"))
                .unwrap_or("")
        ));
    }
    if let Some(s) = status {
        if s.code().is_none() {
            return Err(format!("killed by a signal ({s:?})"));
        }
    }
    Ok(())
}

#[test]
fn mutated_programs_never_crash_the_interpreter() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("../shared/conformance");
    let mut programs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("conformance suite")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "weft"))
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            ![
                "chan_",
                "go_",
                "select_",
                "sync_",
                "time_",
                "cerr_",
                "stdlib_stdin",
            ]
            .iter()
            .any(|pre| name.starts_with(pre))
        })
        .collect();
    programs.sort();
    let seed = std::env::var("WEFT_RUN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15u64);
    let cases: usize = std::env::var("WEFT_RUN_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let mut rng = Rng(seed | 1);
    let scratch = std::env::temp_dir().join(format!("weft-run-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    let mut failures = Vec::new();
    for n in 0..cases {
        let src = std::fs::read_to_string(&programs[rng.below(programs.len())]).expect("program");
        let mutated = mutate(&mut rng, &src);
        let path = scratch.join(format!("case{n}.weft"));
        std::fs::write(&path, &mutated).expect("write case");
        if let Err(e) = run(&dir, &path) {
            failures.push(format!("{}: {e}", path.display()));
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
    // Failing cases stay for the report to point at; otherwise leave nothing.
    let _ = std::fs::remove_dir(&scratch);
    assert!(failures.is_empty(), "seed {seed}:\n{}", failures.join("\n"));
}
