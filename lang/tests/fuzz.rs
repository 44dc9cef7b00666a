//! Property test of the front end's first invariant: any byte sequence ends in
//! diagnostics or success, never a panic, a stack overflow or a hang.
//!
//! A small deterministic generator (xorshift; set `WEFT_FUZZ_SEED` to vary it
//! and `WEFT_FUZZ_CASES` to run more) mutates every conformance program and
//! builds random token streams. Each case runs the whole front end (lex, parse,
//! resolve, compile) under `catch_unwind` on the default test-thread stack.

use std::path::Path;
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    ":",
    ":=",
    "=",
    "\n",
    "\"",
    "`",
    "'",
    "/*",
    "*/",
    "//",
    ".",
    "...",
    "-",
    "+",
    "0x",
    "0b1",
    "1e",
    "_",
    "é",
    "世",
    "\\",
    "\\u",
    "<-",
    "&^=",
    "func",
    "go",
    "defer",
    "select",
    "case",
    "default",
    "switch",
    "for",
    "range",
    "if",
    "else",
    "break",
    "continue",
    "return",
    "struct",
    "type",
    "const",
    "iota",
    "var",
    "import",
    "chan",
    "nil",
    "x",
    "y",
    "main",
    "fmt",
    "\t",
    " ",
    "@",
    "#",
    "$",
    "\u{0}",
    "\u{feff}",
    "9999999999999999999999",
];

fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut out = src.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.next() as u8;
            }
            1 => {
                let i = rng.below(len + 1);
                let s = INTERESTING[rng.below(INTERESTING.len())].as_bytes();
                out.splice(i..i, s.iter().copied());
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let j = (i + rng.below(40)).min(len);
                out.drain(i..j);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let j = (i + rng.below(80)).min(len);
                let chunk: Vec<u8> = out[i..j].to_vec();
                let at = rng.below(len + 1);
                out.splice(at..at, chunk);
            }
            4 => out.truncate(rng.below(len + 1)),
            5 if len > 1 => {
                let (i, j) = (rng.below(len), rng.below(len));
                out.swap(i, j);
            }
            _ => {}
        }
    }
    out
}

fn token_soup(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(120) {
        out.extend_from_slice(INTERESTING[rng.below(INTERESTING.len())].as_bytes());
        out.push(if rng.below(4) == 0 { b'\n' } else { b' ' });
    }
    out
}

fn front_end_survives(bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let start = Instant::now();
    let outcome = std::panic::catch_unwind(|| {
        // Invalid UTF-8 goes through the file loader, which must report it.
        let result = if std::str::from_utf8(bytes).is_err() {
            let path = std::env::temp_dir().join(format!("weft-fuzz-{}.weft", std::process::id()));
            std::fs::write(&path, bytes).expect("temp file");
            let loaded = weft_lang::load_program(&path.to_string_lossy());
            let _ = std::fs::remove_file(&path);
            loaded
        } else {
            weft_lang::compile_program_source("fuzz.weft", &text)
        };
        match &result {
            Err(errors) => {
                // Rendering must not panic either; a verifier failure is a compiler bug.
                for f in errors {
                    let _ = f.render(false);
                }
                errors
                    .iter()
                    .flat_map(|f| f.diagnostics.iter())
                    .all(|d| !d.message.starts_with("internal compiler error"))
            }
            Ok(_) => true,
        }
    });
    match outcome {
        Err(_) => return Err(format!("panic on input {text:?}")),
        Ok(false) => {
            return Err(format!(
                "the compiler emitted unverifiable bytecode for {text:?}"
            ))
        }
        Ok(true) => {}
    }
    if start.elapsed() > Duration::from_secs(5) {
        return Err(format!("took {:?} on input {text:?}", start.elapsed()));
    }
    Ok(())
}

#[test]
fn mutated_programs_and_token_soup_never_crash_the_front_end() {
    let seed: u64 = std::env::var("WEFT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_cafe_f00d_1234);
    let per_program: usize = std::env::var("WEFT_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("the conformance suite sits beside the project")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "weft"))
        .map(|p| std::fs::read(p).expect("readable"))
        .collect();
    corpus.sort();
    assert!(corpus.len() >= 100);
    let mut rng = Rng(seed | 1);
    let mut cases = 0;
    for program in &corpus {
        for _ in 0..per_program {
            let input = mutate(&mut rng, program);
            front_end_survives(&input).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            cases += 1;
        }
    }
    for _ in 0..per_program * 40 {
        let input = token_soup(&mut rng);
        front_end_survives(&input).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        cases += 1;
    }
    assert!(cases > 20000, "ran {cases} cases");
}

#[test]
fn pathological_nesting_is_a_diagnostic() {
    let deep = 100_000;
    let inputs = [
        format!("x := {}1{}", "(".repeat(deep), ")".repeat(deep)),
        format!("x := {}1", "-".repeat(deep)),
        format!("x := {}", vec!["1"; deep].join("+")),
        format!("x := {}", vec!["y"; deep].join(" && ")),
        format!("x := {}", "[".repeat(deep)),
        format!("func main() {}", "{".repeat(deep)),
        format!("x := {}", "f(".repeat(deep)),
        format!("x := a{}", ".b".repeat(deep)),
        format!("x := a{}", "[0]".repeat(deep)),
        format!("x := {}1", "!".repeat(deep)),
        format!("x := {}", "func() {".repeat(deep)),
        format!("a: {}for {{}}", "b: ".repeat(deep)),
        format!("if true {{}}{}", " else if true {}".repeat(deep)),
    ];
    let only: Option<usize> = std::env::var("WEFT_NESTING_CASE")
        .ok()
        .and_then(|s| s.parse().ok());
    for (i, input) in inputs.iter().enumerate() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let head: String = input.chars().take(40).collect();
        front_end_survives(input.as_bytes())
            .unwrap_or_else(|e| panic!("{head}...: {}", &e[..e.len().min(200)]));
    }
    // Just under the limits compiles.
    let ok = format!("x := {}\nprintln(x)", vec!["1"; 900].join("+"));
    assert!(weft_lang::compile_program_source("ok.weft", &ok).is_ok());
}
