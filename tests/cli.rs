//! The `weft` command line as a user meets it: exit statuses, the first line
//! of each diagnostic (`file:LINE:COL: message`), `--version`, `disasm`.

mod common;

use common::ScratchDir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn weft(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("weft runs")
}

/// A directory for test `name` holding the file `name` with `contents`.
fn scratch(name: &str, contents: &[u8]) -> ScratchDir {
    let dir = ScratchDir::new(&format!("cli-{name}"));
    dir.write(name, contents);
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts that `out`'s standard output is `want` (its stderr in the message).
fn assert_stdout(out: &Output, want: &str) {
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        want,
        "{}",
        stderr(out)
    );
}

#[test]
fn check_accepts_a_valid_program_silently() {
    let dir = scratch(
        "ok.weft",
        b"import \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
    );
    let out = weft(&["check", "ok.weft"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn check_reports_every_error_sorted_with_file_line_col_first() {
    let dir = scratch(
        "bad.weft",
        b"func main() {\n\ty = 1\n\tx := 1 @ 2\n\tbreak\n}\n",
    );
    let out = weft(&["check", "bad.weft"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    let headlines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("bad.weft:"))
        .collect();
    assert_eq!(
        headlines.len(),
        1,
        "a lexical error stops before name resolution: {text}"
    );
    assert!(
        headlines[0].starts_with("bad.weft:3:9: invalid character"),
        "{text}"
    );
    // Without the lexical error, the resolver's errors come out sorted.
    let dir = scratch(
        "bad2.weft",
        b"func main() {\n\ty = 1\n\tbreak\n\tcontinue\n}\n",
    );
    let text = stderr(&weft(&["check", "bad2.weft"], &dir));
    let headlines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("bad2.weft:"))
        .collect();
    assert_eq!(headlines.len(), 3, "{text}");
    assert!(headlines[0].starts_with("bad2.weft:2:2: undefined: y"));
    assert!(headlines[1].starts_with("bad2.weft:3:2: break"));
    assert!(headlines[2].starts_with("bad2.weft:4:2: continue"));
    assert!(
        !text.contains('\u{1b}'),
        "no colour when stderr is not a terminal"
    );
}

#[test]
fn several_syntax_errors_are_reported_in_one_run() {
    let dir = scratch(
        "syn.weft",
        b"func main() {\n\tx := (1 +\n\ty := 2\n\tz := )\n}\n",
    );
    let text = stderr(&weft(&["check", "syn.weft"], &dir));
    let n = text.lines().filter(|l| l.starts_with("syn.weft:")).count();
    assert!(n >= 2, "expected several syntax errors:\n{text}");
}

#[test]
fn garbage_input_is_a_diagnostic_not_a_crash() {
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let dir = scratch("noise.weft", &bytes);
    let out = weft(&["check", "noise.weft"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn missing_file_is_reported() {
    let dir = scratch("x.weft", b"");
    let out = weft(&["check", "nope.weft"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read nope.weft"));
}

#[test]
fn disasm_lists_functions_with_barrier_counts() {
    let dir = scratch("d.weft", b"m := {}\nfunc main() {\n\tm[1] = 2\n}\n");
    let out = weft(&["disasm", "d.weft"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("function main.main"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("SetIndex") && l.contains(" wb ")),
        "{text}"
    );
    assert_eq!(
        text.matches("\nfunction ").count(),
        text.lines().filter(|l| l.starts_with("barriers: ")).count()
    );
}

#[test]
fn version_and_help() {
    let dir = std::env::temp_dir();
    let out = weft(&["--version"], &dir);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("weft "));
    let out = weft(&["--help"], &dir);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("check") && help.contains("disasm") && help.contains("run"));
}

#[test]
fn shebang_line_is_allowed() {
    let dir = scratch("sh.weft", b"#!/usr/bin/env weft\nprintln(1)\n");
    let out = weft(&["check", "sh.weft"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn import_cycles_and_unexported_names_are_errors() {
    let dir = scratch("a.weft", b"import \"./b.weft\"\nX := 1\n");
    std::fs::write(dir.join("b.weft"), b"import \"./a.weft\"\nY := 2\n").unwrap();
    let text = stderr(&weft(&["check", "a.weft"], &dir));
    assert!(text.contains("import cycle not allowed"), "{text}");
    std::fs::write(dir.join("m.weft"), b"func hidden() {}\nfunc Shown() {}\n").unwrap();
    std::fs::write(
        dir.join("use.weft"),
        b"import \"./m.weft\"\nm.Shown()\nm.hidden()\n",
    )
    .unwrap();
    let text = stderr(&weft(&["check", "use.weft"], &dir));
    assert!(
        text.starts_with("use.weft:3:3: cannot refer to unexported name m.hidden"),
        "{text}"
    );
}

#[test]
fn schedtrace_prints_go_style_sched_lines() {
    let dir = scratch(
        "sleepy.weft",
        b"import \"time\"\n\nfunc main() {\n\ttime.Sleep(300 * time.Millisecond)\n}\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("sleepy.weft")
        .current_dir(&dir)
        .env("WEFTDEBUG", "schedtrace=50")
        .env("WEFTMAXPROCS", "2")
        .output()
        .expect("weft runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() >= 3, "{err}");
    for line in lines {
        // SCHED 50ms: gomaxprocs=2 idleprocs=2 threads=3 spinningthreads=0 idlethreads=2 runqueue=0 [0 0]
        let (head, rest) = line.split_once(": ").expect(line);
        assert!(head.starts_with("SCHED ") && head.ends_with("ms"), "{line}");
        assert!(
            rest.starts_with("gomaxprocs=2 idleprocs=") && rest.contains(" runqueue=0 [0 0"),
            "{line}"
        );
    }
}

/// Starts `weft FILE` in `dir` on one P with piped stdin; its stdout lines
/// arrive on the receiver (read by a thread, so a test can wait with a
/// timeout).
fn on_one_p_with_stdin(
    dir: &Path,
    file: &str,
) -> (
    std::process::Child,
    std::process::ChildStdin,
    std::sync::mpsc::Receiver<String>,
) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg(file)
        .current_dir(dir)
        .env("WEFTMAXPROCS", "1")
        .env_remove("WEFTDEBUG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("weft runs");
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap_or_default());
        }
    });
    (child, stdin, rx)
}

/// The child's next stdout line, or None after 30 s (the child is killed,
/// so a hung program fails the test instead of hanging it).
fn next_line(
    rx: &std::sync::mpsc::Receiver<String>,
    child: &mut std::process::Child,
) -> Option<String> {
    let line = rx.recv_timeout(std::time::Duration::from_secs(30)).ok();
    if line.is_none() {
        let _ = child.kill();
    }
    line
}

/// A goroutine blocked in a native call (reading stdin) gives its run token
/// back (Go's entersyscall/handoff): with one P, main keeps computing and
/// printing while the reader waits for input that only comes after main's
/// output is seen.
#[test]
fn a_goroutine_blocked_reading_stdin_does_not_stop_the_others_on_one_p() {
    use std::io::Write;
    let dir = scratch(
        "reader.weft",
        br#"import (
	"bufio"
	"fmt"
	"os"
)

func fib(n) {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

func main() {
	lines := make(chan)
	go func() {
		s := bufio.NewScanner(os.Stdin)
		s.Scan()
		lines <- s.Text()
	}()
	fmt.Println("computed", fib(27))
	fmt.Println("read", <-lines)
}
"#,
    );
    let (mut child, mut stdin, rx) = on_one_p_with_stdin(&dir, "reader.weft");
    assert_eq!(
        next_line(&rx, &mut child).as_deref(),
        Some("computed 196418")
    );
    stdin.write_all(b"hello\n").unwrap();
    drop(stdin);
    assert_eq!(next_line(&rx, &mut child).as_deref(), Some("read hello"));
    assert!(child.wait().unwrap().success());
}

/// The other half of entersyscall: a goroutine coming back from a blocking
/// read while goroutines that never sleep hold every run token still gets
/// to run (it yields to the global queue, Go's exitsyscall0), instead of
/// waiting for a token forever.
#[test]
fn a_goroutine_back_from_a_blocking_read_runs_while_others_spin() {
    use std::io::Write;
    let dir = scratch(
        "starve.weft",
        br#"import (
	"bufio"
	"fmt"
	"os"
)

func spin(stop) {
	for {
		select {
		case <-stop:
			return
		default:
		}
	}
}

func main() {
	stop := make(chan)
	go spin(stop)
	go spin(stop)
	s := bufio.NewScanner(os.Stdin)
	fmt.Println("waiting")
	s.Scan()
	fmt.Println("read", s.Text())
	close(stop)
}
"#,
    );
    let (mut child, mut stdin, rx) = on_one_p_with_stdin(&dir, "starve.weft");
    assert_eq!(next_line(&rx, &mut child).as_deref(), Some("waiting"));
    // Let the spinners take the token first.
    std::thread::sleep(std::time::Duration::from_millis(200));
    stdin.write_all(b"hi\n").unwrap();
    drop(stdin);
    assert_eq!(next_line(&rx, &mut child).as_deref(), Some("read hi"));
    assert!(child.wait().unwrap().success());
}

/// The program's end does not wait for a goroutine blocked reading stdin
/// (Go exits the process; Weft's read gives up, see `weft_vm::blocking`):
/// with the input still open and empty, `os.Exit(3)` and a return from main
/// each end the program at once, with their own status.
#[test]
fn the_end_of_the_program_does_not_wait_for_a_blocked_reader() {
    for (ending, status) in [("os.Exit(3)", 3), ("return", 0)] {
        let source = format!(
            r#"import (
	"bufio"
	"fmt"
	"os"
	"time"
)

func main() {{
	go func() {{
		s := bufio.NewScanner(os.Stdin)
		for s.Scan() {{
			fmt.Println("read", s.Text())
		}}
		fmt.Println("end of input")
	}}()
	time.Sleep(20 * time.Millisecond)
	fmt.Println("main ends")
	{ending}
}}
"#
        );
        let dir = scratch("exit.weft", source.as_bytes());
        let (mut child, stdin, rx) = on_one_p_with_stdin(&dir, "exit.weft");
        assert_eq!(next_line(&rx, &mut child).as_deref(), Some("main ends"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let code = loop {
            if let Some(code) = child.try_wait().unwrap() {
                break code.code();
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("`{ending}` waited for the blocked reader");
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert_eq!(code, Some(status), "after `{ending}`");
        // The reader was stopped, not handed an end of input.
        assert_eq!(rx.recv().ok(), None);
        drop(stdin);
    }
}

/// A goroutine woken into `runnext` runs in the time slice of the one that
/// woke it (Go's inheritTime): a pair ping-ponging through `runnext` on one
/// P is preempted after a slice, so a goroutine waiting in the P's ring
/// runs (it waited forever when each hand-off started a new slice).
#[test]
fn a_ping_pong_pair_does_not_starve_the_run_queue_on_one_p() {
    let dir = scratch(
        "pingpong.weft",
        br#"import "fmt"

func main() {
	a := make(chan)
	b := make(chan)
	done := make(chan, 1)
	go func() {
		x := 0
		for i := 0; i < 1000; i++ {
			x += i
		}
		done <- x > 0
	}()
	go func() {
		for {
			v := <-a
			b <- v + 1
		}
	}()
	n := 0
	for {
		select {
		case ok := <-done:
			fmt.Println("ring ran", ok, n > 0)
			return
		default:
		}
		a <- n
		n = <-b
	}
}
"#,
    );
    let (mut child, stdin, rx) = on_one_p_with_stdin(&dir, "pingpong.weft");
    assert_eq!(
        next_line(&rx, &mut child).as_deref(),
        Some("ring ran true true")
    );
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// Runs, on one P, a program of `decls` whose `main` starts a goroutine that
/// sleeps a millisecond and prints, then prints `recursion` (a long
/// recursive call), and checks that the sleeper printed first: the
/// recursion was preempted.
fn assert_recursion_is_preempted(name: &str, decls: &str, recursion: &str, result: &str) {
    let src = format!(
        r#"import "fmt"
import "time"

{decls}
func main() {{
	done := make(chan)
	go func() {{
		time.Sleep(time.Millisecond)
		fmt.Println("sleeper woke while the recursion ran")
		done <- true
	}}()
	fmt.Println({recursion})
	<-done
}}
"#
    );
    let dir = scratch(name, src.as_bytes());
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["run", name])
        .current_dir(&dir)
        .env("WEFTMAXPROCS", "1")
        .output()
        .expect("weft runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("sleeper woke while the recursion ran\n{result}\n")
    );
}

/// Every call is a preemption point: a goroutine that only recurses through
/// method calls (no loop, no plain call, no allocation) is preempted on one
/// P, so a sleeper prints before the recursion ends. It printed after it
/// when method calls had no safepoint.
#[test]
fn a_goroutine_recursing_through_methods_is_preempted_on_one_p() {
    assert_recursion_is_preempted(
        "method_preempt.weft",
        r#"type Fib struct{}

func (f Fib) calc(n) {
	if n < 2 {
		return n
	}
	return f.calc(n-1) + f.calc(n-2)
}
"#,
        "Fib{}.calc(30)",
        "832040",
    );
}

/// A loop of instructions the fast loop runs (`vm/src/interp/fast.rs`)
/// yields at its back edge: the fast loop leaves a back edge where a
/// preemption is due to `step`.
#[test]
fn a_goroutine_in_a_fast_loop_is_preempted_on_one_p() {
    assert_recursion_is_preempted(
        "fast_loop_preempt.weft",
        r#"func spin(n) {
	s := 0
	for i := 0; i < n; i++ {
		s = (s + i*i) % 1000003
	}
	return s
}
"#,
        "spin(20000000)",
        "926193",
    );
}

/// The same for a recursion through plain calls, which the fast loop makes
/// itself (fib(32): long enough, ~100 ms, to outlast sysmon's 10 ms time
/// slice and its tick several times over with the fast loop's speed).
#[test]
fn a_goroutine_recursing_in_the_fast_loop_is_preempted_on_one_p() {
    assert_recursion_is_preempted(
        "fast_call_preempt.weft",
        r#"func fib(n) {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}
"#,
        "fib(32)",
        "2178309",
    );
}

/// The same through calls with a spread argument (`f(xs...)`), which were
/// safepoints but not preemption points.
#[test]
fn a_goroutine_recursing_through_spread_calls_is_preempted_on_one_p() {
    assert_recursion_is_preempted(
        "spread_preempt.weft",
        r#"func calc(args...) {
	n := args[0]
	if n < 2 {
		return n
	}
	a := [n - 1]
	b := [n - 2]
	return calc(a...) + calc(b...)
}
"#,
        "calc([27]...)",
        "196418",
    );
}

/// Output to a pipe nobody reads blocks the goroutine that writes, not the
/// collector: the write is a blocking region of its P. With the printer
/// stuck in a full pipe, main allocates through many collections (each
/// stops the world) and records that it finished in a file.
#[test]
fn a_stalled_stdout_pipe_does_not_stop_the_collector() {
    let dir = scratch(
        "stalled.weft",
        br#"import (
	"fmt"
	"os"
	"strings"
)

func main() {
	go func() {
		line := strings.Repeat("x", 999)
		for {
			fmt.Println(line)
		}
	}()
	total := 0
	for i := 0; i < 300000; i++ {
		xs := [i, i + 1, i + 2]
		total += len(xs)
	}
	os.WriteFile("finished.txt", fmt.Sprint(total), 0644)
	os.Exit(0)
}
"#,
    );
    let finished = dir.join("finished.txt");
    let _ = std::fs::remove_file(&finished);
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("stalled.weft")
        .current_dir(&dir)
        .env("WEFTMAXPROCS", "2")
        .env("WEFTDEBUG", "gcstress=5000")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("weft runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !finished.exists() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("main never finished while stdout was stalled");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Now read the pipe, so the printer and the final flush can finish.
    let mut out = child.stdout.take().unwrap();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    assert!(child.wait().unwrap().success());
    let total = std::fs::read_to_string(&finished).unwrap();
    assert_eq!(total, "900000");
}

/// A goroutine may park in place inside a callback from native code only
/// while that leaves an M for the others (Ms are capped at the collector's
/// P count: two with `WEFTMAXPROCS=1`). On one P the second of three such
/// goroutines is refused with a panic, never a hang; on two Ps all three
/// park and main ends the program.
#[test]
fn blocking_inside_callbacks_is_capped_by_a_panic_not_a_hang() {
    let dir = scratch(
        "locked.weft",
        b"import \"fmt\"\nimport \"sync\"\nimport \"time\"\n\nfunc main() {\n\tnever := make(chan)\n\tfor i := 0; i < 3; i++ {\n\t\tgo func() {\n\t\t\tonce := sync.Once()\n\t\t\tonce.Do(func() { <-never })\n\t\t}()\n\t}\n\ttime.Sleep(300 * time.Millisecond)\n\tfmt.Println(\"main done\")\n}\n",
    );
    let run = |procs: &str| {
        Command::new(env!("CARGO_BIN_EXE_weft"))
            .arg("locked.weft")
            .current_dir(&dir)
            .env("WEFTMAXPROCS", procs)
            .env_remove("WEFTDEBUG")
            .output()
            .expect("weft runs")
    };
    let one = run("1");
    assert_eq!(one.status.code(), Some(2), "{}", stderr(&one));
    assert!(
        stderr(&one).contains(
            "panic: chan receive: a goroutine cannot block inside a function called by native code while every other thread is blocked in one"
        ),
        "{}",
        stderr(&one)
    );
    let two = run("2");
    assert_eq!(two.status.code(), Some(0), "{}", stderr(&two));
    assert_eq!(String::from_utf8_lossy(&two.stdout), "main done\n");
}

/// Runs `weft FILE` in `dir` with `WEFTMAXPROCS=procs`; None if it has not
/// ended after 30 s (it is killed: a hang fails the test, not the suite).
fn run_on_ps(dir: &Path, file: &str, procs: &str) -> Option<Output> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg(file)
        .current_dir(dir)
        .env("WEFTMAXPROCS", procs)
        .env_remove("WEFTDEBUG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("weft runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Some(child.wait_with_output().expect("output"))
}

/// On one P, a goroutine parked in place inside a callback and then woken
/// needs the one run token, which a goroutine spinning in a loop holds: the
/// spinner passes it on when its time slice ends (Go hands the locked M a
/// P). And a deferred call that blocks during a panic in a callback gives
/// back its right to park in place (only one M may park in place on one
/// P, so a leaked one would make the next block in a callback a panic).
#[test]
fn on_one_p_callbacks_get_the_token_back_and_keep_their_right_to_park() {
    let dir = scratch(
        "spin.weft",
        b"import \"fmt\"\nimport \"sync\"\n\nvar flag = false\n\nfunc main() {\n\tready := make(chan)\n\tdone := make(chan)\n\tgo func() {\n\t\tready <- 1\n\t\tfor !flag {\n\t\t}\n\t\tdone <- true\n\t}()\n\tonce := sync.Once()\n\tonce.Do(func() {\n\t\t<-ready\n\t\tflag = true\n\t})\n\t<-done\n\tfmt.Println(\"ok\")\n}\n",
    );
    let out = run_on_ps(&dir, "spin.weft", "1").expect("the spinner passed the token on");
    assert_stdout(&out, "ok\n");
    let scripts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let out = run_on_ps(&scripts, "sched_callback_defer_panic.weft", "1").expect("no hang");
    let want = std::fs::read_to_string(scripts.join("sched_callback_defer_panic.out")).unwrap();
    assert_stdout(&out, &want);
    let out = run_on_ps(&scripts, "err_deadlock_stopped_timer.weft", "2").expect("no hang");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// On one P, with the one goroutine that may park in place parked, a
/// `sync` operation inside a callback is refused (a panic) before the
/// native looks at the lock: `RWMutex.Lock` once counted itself a waiting
/// writer first, and the refused count made every later lock wait forever.
#[test]
fn a_refused_park_in_a_callback_leaves_the_lock_as_it_was() {
    let dir = scratch("rw.weft", b"import \"fmt\"\nimport \"sort\"\nimport \"sync\"\nimport \"time\"\n\nvar rw = sync.RWMutex()\n\nfunc main() {\n\tnever := make(chan)\n\tgo func() {\n\t\tonce := sync.Once()\n\t\tonce.Do(func() { <-never })\n\t}()\n\ttime.Sleep(5 * time.Millisecond)\n\trw.RLock()\n\tfunc() {\n\t\tdefer func() { fmt.Println(\"recovered:\", recover() != nil) }()\n\t\txs := [2, 1]\n\t\tsort.Slice(xs, func(i, j) {\n\t\t\trw.Lock()\n\t\t\trw.Unlock()\n\t\t\treturn xs[i] < xs[j]\n\t\t})\n\t}()\n\trw.RUnlock()\n\trw.Lock()\n\trw.Unlock()\n\trw.RLock()\n\trw.RUnlock()\n\tfmt.Println(\"ok\")\n}\n");
    let out = run_on_ps(&dir, "rw.weft", "1").expect("no hang");
    assert_stdout(&out, "recovered: true\nok\n");
}
