//! Every program of the shared conformance suite (and the project's own
//! `tests/scripts`) goes through the whole front end: the compile-error
//! programs must fail with their expected `file:line:col` first, every other
//! program must compile without a diagnostic.

use std::path::{Path, PathBuf};

fn suite_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    vec![
        root.join("../shared/conformance"),
        root.join("tests/scripts"),
    ]
}

fn weft_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "weft"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_conformance_program_compiles_or_fails_where_expected() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in suite_dirs() {
        if !dir.exists() {
            continue;
        }
        for path in weft_files(&dir) {
            checked += 1;
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let expected_code = std::fs::read_to_string(path.with_extension("code"))
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            // Compile as the runner runs: from the suite's directory, with the bare name.
            let source = std::fs::read_to_string(&path).expect("readable test program");
            let cwd = std::env::current_dir().unwrap();
            std::env::set_current_dir(&dir).unwrap();
            let result = weft_lang::compile_program_source(&name, &source);
            std::env::set_current_dir(cwd).unwrap();
            match (expected_code == "1", result) {
                (false, Ok(_)) => {}
                (false, Err(errors)) => {
                    let first = errors[0].headlines().first().cloned().unwrap_or_default();
                    failures.push(format!("{name}: unexpected diagnostic {first}"));
                }
                (true, Ok(_)) => failures.push(format!(
                    "{name}: compiled, but a compile error was expected"
                )),
                (true, Err(errors)) => {
                    let want =
                        std::fs::read_to_string(path.with_extension("err")).unwrap_or_default();
                    let want = want.lines().next().unwrap_or("").trim().to_string();
                    let first = errors[0].headlines().first().cloned().unwrap_or_default();
                    if !first.starts_with(&format!("{want}:")) {
                        failures.push(format!(
                            "{name}: first diagnostic {first:?}, expected at {want}"
                        ));
                    }
                }
            }
        }
    }
    assert!(
        checked >= 113,
        "only {checked} programs found; is ../shared/conformance beside the project?"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} programs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn generated_large_program_compiles() {
    let src = weft_lang::gen::large_program(10_000);
    assert!(
        src.lines().count() >= 9_000,
        "{} lines",
        src.lines().count()
    );
    if let Err(errors) = weft_lang::compile_program_source("big.weft", &src) {
        panic!("{:?}", errors[0].headlines());
    }
}
