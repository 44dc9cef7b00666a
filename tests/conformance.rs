//! The conformance runner: every program of `../shared/conformance` (and the
//! project's own `tests/scripts`) run by the `weft` binary and judged as the
//! suite's README says: exit status, exact stdout (except for compile errors),
//! the first line of `NAME.err` somewhere in stderr, no Rust panic, a time limit.
//!
//! While the interpreter is being built, `tests/conformance-passing.txt` lists
//! the programs that must pass; the list only grows (a ratchet). A program that
//! passes but is not listed is reported so it can be added. Whatever the list
//! says, a Rust panic (`panicked at`) or a timeout in any program fails the test.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIME_LIMIT: Duration = Duration::from_secs(30);

struct Outcome {
    passed: bool,
    reasons: Vec<String>,
    crashed: bool,
}

fn run_one(dir: &Path, name: &str, env: &[(&str, &str)]) -> Outcome {
    let read = |ext: &str| std::fs::read(dir.join(format!("{name}.{ext}"))).ok();
    let expected_code: i32 = read("code")
        .and_then(|c| String::from_utf8_lossy(&c).trim().parse().ok())
        .unwrap_or(0);
    let expected_out = read("out").unwrap_or_default();
    let expected_err = read("err").map(|e| {
        String::from_utf8_lossy(&e)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    });
    let stdin = match read("in") {
        Some(_) => {
            Stdio::from(std::fs::File::open(dir.join(format!("{name}.in"))).expect("stdin file"))
        }
        None => Stdio::null(),
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["run", &format!("{name}.weft")])
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weft starts");
    let (mut out, mut err) = (
        child.stdout.take().expect("stdout"),
        child.stderr.take().expect("stderr"),
    );
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&err_thread.join().unwrap_or_default()).into_owned();
    let mut reasons = Vec::new();
    let mut crashed = false;
    match status {
        None => {
            reasons.push("timeout".to_string());
            crashed = true;
        }
        Some(s) => {
            let code = s.code().unwrap_or(-1);
            if code != expected_code {
                reasons.push(format!("exit {code}, expected {expected_code}"));
            }
            if s.code().is_none() {
                crashed = true;
                reasons.push("killed by a signal".into());
            }
        }
    }
    if expected_code != 1 && stdout != expected_out {
        reasons.push("stdout differs".into());
    }
    if let Some(want) = expected_err {
        if !stderr.contains(&want) {
            reasons.push(format!("stderr lacks {want:?}"));
        }
    }
    if stderr.contains("panicked at") {
        crashed = true;
        reasons.push("Rust panic".into());
    }
    Outcome {
        passed: reasons.is_empty(),
        reasons,
        crashed,
    }
}

fn programs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "weft"))
                .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn must_pass(root: &Path) -> Vec<String> {
    std::fs::read_to_string(root.join("tests/conformance-passing.txt"))
        .expect("tests/conformance-passing.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

#[test]
fn conformance_programs_pass_and_never_crash() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let suites = [
        root.join("../shared/conformance"),
        root.join("tests/scripts"),
    ];
    let must_pass = must_pass(&root);
    let (mut passed, mut failed, mut problems, mut newly) = (0, 0, Vec::new(), Vec::new());
    for dir in &suites {
        for name in programs(dir) {
            let o = run_one(dir, &name, &[]);
            if o.passed {
                passed += 1;
                if !must_pass.contains(&name) {
                    newly.push(name.clone());
                }
            } else {
                failed += 1;
                if o.crashed || must_pass.contains(&name) {
                    problems.push(format!("{name}: {}", o.reasons.join("; ")));
                }
            }
        }
    }
    assert!(
        passed + failed >= 113,
        "only {} programs found: is ../shared/conformance beside the project?",
        passed + failed
    );
    println!("conformance: {passed} passed, {failed} failed");
    if !newly.is_empty() {
        println!(
            "passing but not yet in tests/conformance-passing.txt: {}",
            newly.join(" ")
        );
    }
    assert!(
        problems.is_empty(),
        "regressions or crashes:\n{}",
        problems.join("\n")
    );
}

/// The listed programs of the suite run with `env`: the failures.
fn failures_under(env: &[(&str, &str)]) -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("../shared/conformance");
    let mut problems = Vec::new();
    for name in must_pass(&root) {
        if !dir.join(format!("{name}.weft")).exists() {
            continue;
        }
        let o = run_one(&dir, &name, env);
        if !o.passed {
            problems.push(format!("{name}: {}", o.reasons.join("; ")));
        }
    }
    problems
}

/// The same programs with the collector checking itself: a cycle every 1000
/// allocations and a stop-the-world re-mark that fails on any missed object;
/// and with the registers a new frame does not clear poisoned (`regpoison`:
/// a register the code reads before writing, which the liveness analysis
/// missed, prints the poison).
#[test]
fn passing_programs_pass_under_gc_stress_and_checkmark() {
    let problems = failures_under(&[(
        "WEFTDEBUG",
        "gccheckmark=1,gcstress=1000,wbcheck=1,regpoison=1",
    )]);
    assert!(
        problems.is_empty(),
        "failures under WEFTDEBUG=gccheckmark=1,gcstress=1000,wbcheck=1,regpoison=1:\n{}",
        problems.join("\n")
    );
}

/// The whole suite on four Ps (more Ms than this machine's cores), with the
/// collector checking itself: every program must give the same result under
/// any `WEFTMAXPROCS` (the suite's README).
#[test]
fn programs_pass_on_four_ps_under_gc_stress() {
    let problems = failures_under(&[
        ("WEFTMAXPROCS", "4"),
        (
            "WEFTDEBUG",
            "gccheckmark=1,gcstress=1000,wbcheck=1,regpoison=1",
        ),
    ]);
    assert!(
        problems.is_empty(),
        "failures with WEFTMAXPROCS=4 under gcstress:\n{}",
        problems.join("\n")
    );
}
