//! Signals as a user meets them, through the `weft` command: `signal.Notify`
//! relays SIGINT and SIGTERM, an unrequested SIGQUIT dumps every goroutine
//! and exits 2, and (seed "remove write barrier in WaitForSigusr1") a
//! SIGUSR1 sent to one chosen M, with barrier checking on and collections
//! running all the time, is handled on that M and recorded with its id,
//! whether the M holds a P or is sysmon (an M without one).

mod common;

use common::ScratchDir;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// The script `name` with `text`, in a directory of its own (removed when
/// the returned guard drops: keep it for the whole test).
fn script(name: &str, text: &str) -> (ScratchDir, PathBuf) {
    let dir = ScratchDir::new(&format!("signals-{name}"));
    let path = dir.write(name, text);
    (dir, path)
}

fn start(path: &Path, env: &[(&str, &str)]) -> (Child, BufReader<ChildStdout>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("WEFTDEBUG")
        .env_remove("WEFTMAXPROCS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("weft starts");
    // A watchdog: a test that waits for a line that never comes fails
    // instead of hanging.
    let pid = child.id() as libc::pid_t;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(60));
        // SAFETY: kill(2); at worst the child has exited already.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let out = BufReader::new(child.stdout.take().unwrap());
    (child, out)
}

fn next_line(out: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    out.read_line(&mut line).expect("stdout");
    line.trim_end().to_string()
}

fn kill(child: &Child, sig: libc::c_int) {
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    let r = unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    assert_eq!(r, 0);
}

fn finish(mut child: Child, mut out: BufReader<ChildStdout>) -> (i32, String, String) {
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    let status = child.wait().unwrap();
    (status.code().unwrap_or(-1), rest, err)
}

#[test]
fn notify_relays_sigint_and_sigterm_as_go_prints_them() {
    let (_dir, path) = script(
        "notify.weft",
        r#"import (
	"fmt"
	"os"
	"os/signal"
)

func main() {
	c := make(chan, 1)
	signal.Notify(c, os.Interrupt, "SIGTERM")
	fmt.Println("ready")
	s := <-c
	fmt.Println("got", s, s == os.Interrupt)
	fmt.Println("got", <-c)
	signal.Stop(c)
}
"#,
    );
    let (child, mut out) = start(&path, &[]);
    assert_eq!(next_line(&mut out), "ready");
    kill(&child, libc::SIGINT);
    assert_eq!(next_line(&mut out), "got interrupt true");
    kill(&child, libc::SIGTERM);
    assert_eq!(next_line(&mut out), "got terminated");
    let (code, rest, err) = finish(child, out);
    assert_eq!((code, rest.as_str(), err.as_str()), (0, "", ""));
}

#[test]
fn sigquit_dumps_every_goroutine_and_exits_2() {
    let (_dir, path) = script(
        "quit.weft",
        r#"import (
	"fmt"
	"sync"
	"time"
)

func worker(c) {
	<-c
}

func spin() {
	for {
	}
}

func inPlace(c) {
	once := sync.Once()
	once.Do(func() { <-c })
}

func main() {
	c := make(chan)
	go worker(c)
	go spin()
	go inPlace(make(chan))
	time.Sleep(10 * time.Millisecond)
	fmt.Println("ready")
	time.Sleep(100 * time.Second)
}
"#,
    );
    let (child, mut out) = start(&path, &[("WEFTMAXPROCS", "2")]);
    assert_eq!(next_line(&mut out), "ready");
    kill(&child, libc::SIGQUIT);
    let (code, _, err) = finish(child, out);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("SIGQUIT: quit\n"), "{err}");
    let dir = format!("{}/", path.parent().unwrap().display());
    let err = err.replace(&dir, "");
    for want in [
        "goroutine 1 [sleep]:\nmain.main(...)\n\tquit.weft:28\n",
        "goroutine 2 [chan receive]:\nmain.worker(...)\n\tquit.weft:8\n",
        "goroutine 3 [runnable]:\nmain.spin(...)\n\tquit.weft:12\n",
        // Parked in place inside a callback from native code (Once.Do's f).
        "goroutine 4 [chan receive]:\nmain.inPlace.func1(...)\n\tquit.weft:18\nmain.inPlace(...)\n\tquit.weft:18\n",
    ] {
        assert!(err.contains(want), "missing {want:?} in\n{err}");
    }
}

/// The Ms of process `pid` by thread name (`weft-m3`, `weft-sysmon1`): (M
/// id, thread id, is sysmon).
fn ms_of(pid: u32) -> Vec<(u64, i32, bool)> {
    let mut ms = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = task.unwrap();
        let tid: i32 = task.file_name().to_string_lossy().parse().unwrap();
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let comm = comm.trim();
        if let Some(id) = comm.strip_prefix("weft-sysmon") {
            ms.push((id.parse().unwrap(), tid, true));
        } else if let Some(id) = comm.strip_prefix("weft-m") {
            ms.push((id.parse().unwrap(), tid, false));
        }
    }
    ms
}

fn tgkill(pid: u32, tid: i32, sig: libc::c_int) {
    // SAFETY: a raw tgkill(2) system call aimed at a thread of our own child.
    let r = unsafe { libc::syscall(libc::SYS_tgkill, pid as libc::pid_t, tid, sig) };
    assert_eq!(r, 0, "tgkill");
}

#[test]
fn sigusr1_sent_to_a_chosen_m_is_recorded_with_that_m_under_wbcheck() {
    // Two allocating goroutines keep collections running (gcstress) while
    // the signals arrive; wbcheck makes any barrier on an M without its P
    // fatal.
    let (_dir, path) = script(
        "usr1.weft",
        r#"import (
	"fmt"
	"os/signal"
)

func churn(stop) {
	keep := []
	for {
		select {
		case <-stop:
			return
		default:
		}
		keep = append(keep, [1, 2, 3])
		if len(keep) > 1000 {
			keep = []
		}
	}
}

func main() {
	c := make(chan, 1)
	signal.Notify(c, "SIGUSR1")
	stop := make(chan)
	go churn(stop)
	go churn(stop)
	fmt.Println("ready")
	for i := 1; i <= 2; i++ {
		fmt.Println("got", i, <-c)
	}
	close(stop)
}
"#,
    );
    let (child, mut out) = start(
        &path,
        &[
            ("WEFTMAXPROCS", "2"),
            (
                "WEFTDEBUG",
                "wbcheck=1,gccheckmark=1,gcstress=2000,sigtrace=1",
            ),
        ],
    );
    assert_eq!(next_line(&mut out), "ready");
    let deadline = Instant::now() + Duration::from_secs(10);
    let ms = loop {
        let ms = ms_of(child.id());
        if ms.len() >= 2 || Instant::now() > deadline {
            break ms;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let sysmon = *ms.iter().find(|m| m.2).expect("a sysmon thread");
    let m = *ms.iter().find(|m| !m.2).expect("an M holding a P");
    tgkill(child.id(), sysmon.1, libc::SIGUSR1);
    assert_eq!(next_line(&mut out), "got 1 user defined signal 1");
    tgkill(child.id(), m.1, libc::SIGUSR1);
    assert_eq!(next_line(&mut out), "got 2 user defined signal 1");
    let (code, _, err) = finish(child, out);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("sigtrace")).collect();
    assert_eq!(
        lines,
        [
            format!("sigtrace: SIGUSR1 handled on m{}", sysmon.0),
            format!("sigtrace: SIGUSR1 handled on m{}", m.0),
        ],
        "{err}"
    );
}
