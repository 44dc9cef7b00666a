//! Operating-system signals: the handler, the table of Ms it consults, and
//! the process-wide bookkeeping of which signals are caught.
//!
//! The handler (`on_signal`) runs on whatever thread the kernel picks: an M
//! running a goroutine, an idle M, sysmon (an M without a P), or a host
//! thread the VM does not know, during any phase of the collector. It is the
//! Rust form of Go's `sighandler` + `sigsend` (seed: "remove write barrier in
//! WaitForSigusr1"): it allocates nothing, takes no lock, touches no heap
//! object (so it cannot execute a write barrier: it has no P to pass one) and
//! records plain data in atomics: a count of deliveries per signal and the id
//! of the M it ran on. Everything else happens later in ordinary runtime
//! code: sysmon notices the counts moving (`Runtime::sysmon`), an M holding a
//! P sends on the channels registered with `signal.Notify`, or, for a
//! `SIGQUIT` nobody asked for, ends the program with every goroutine's
//! traceback (`Runtime::deliver_signals`).
//!
//! Signal dispositions belong to the process, not to a VM: several VMs (or
//! several programs run one after the other by an embedder) share the
//! tables here. A signal's handler is installed while at least one running
//! program wants it ([`want`]) and the previous disposition is restored when
//! the last one lets go ([`unwant`]).

use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::Mutex;

/// Signals are numbered below this (Linux: 1..=64).
pub const NSIG: usize = 65;

/// Deliveries seen by the handler, per signal number. Only ever incremented;
/// readers compare with the count they saw last, so several runtimes can
/// watch the same signal without consuming each other's deliveries.
static RECEIVED: [AtomicU64; NSIG] = [const { AtomicU64::new(0) }; NSIG];

/// The M the handler last ran on for each signal ([`NO_M`] when the thread
/// was not a registered M).
static LAST_M: [AtomicU64; NSIG] = [const { AtomicU64::new(NO_M) }; NSIG];

/// Recorded as the M of a signal handled on a thread that is not an M.
pub const NO_M: u64 = u64::MAX;

/// The registered Ms: kernel thread id and M id, one slot each.
///
/// Invariant: a slot's `tid` is 0 (free), -1 (being filled: its `id` is not
/// valid yet) or the thread id of a live M whose id is in `id`, written
/// before `tid` with release ordering, so a handler that reads the tid with
/// acquire ordering reads the matching id. A slot is reused only after its M
/// unregistered (see [`MRegistration`]).
struct MSlot {
    tid: AtomicI32,
    id: AtomicU64,
}

const MAX_MS: usize = 1024;
static M_TABLE: [MSlot; MAX_MS] = [const {
    MSlot {
        tid: AtomicI32::new(0),
        id: AtomicU64::new(0),
    }
}; MAX_MS];
/// Slots at and above this index were never used: the handler stops there.
static M_HIGH: AtomicUsize = AtomicUsize::new(0);
/// M ids, process-wide, as Go numbers `m0`, `m1`, ...
static NEXT_M_ID: AtomicU64 = AtomicU64::new(0);

/// A new M id (not yet registered: see [`register_m`]).
pub fn new_m_id() -> u64 {
    NEXT_M_ID.fetch_add(1, Relaxed)
}

/// The calling thread's kernel thread id.
fn gettid() -> i32 {
    // SAFETY: gettid(2) has no preconditions and cannot fail; it is a plain
    // system call, safe in a signal handler.
    unsafe { libc::gettid() }
}

/// Registers the calling thread as M `id` for as long as the guard lives, so
/// that a signal handled on it records `id`.
pub fn register_m(id: u64) -> MRegistration {
    let tid = gettid();
    for (i, slot) in M_TABLE.iter().enumerate() {
        if slot.tid.compare_exchange(0, -1, Acquire, Relaxed).is_ok() {
            slot.id.store(id, Relaxed);
            slot.tid.store(tid, Release);
            M_HIGH.fetch_max(i + 1, Release);
            return MRegistration { slot: Some(i) };
        }
    }
    // More Ms than slots: signals on this one record NO_M.
    MRegistration { slot: None }
}

/// Keeps an M registered; unregisters it when dropped.
#[derive(Debug)]
pub struct MRegistration {
    slot: Option<usize>,
}

impl Drop for MRegistration {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            M_TABLE[i].tid.store(0, Release);
        }
    }
}

/// The registered Ms as (M id, kernel thread id): for tests and diagnostics.
pub fn m_threads() -> Vec<(u64, i32)> {
    M_TABLE[..M_HIGH.load(Acquire)]
        .iter()
        .filter_map(|s| {
            let tid = s.tid.load(Acquire);
            (tid > 0).then(|| (s.id.load(Relaxed), tid))
        })
        .collect()
}

/// The handler. Async-signal-safe by construction: a system call (gettid),
/// loads and stores of atomics in statics, no allocation, no lock, no heap
/// object, no barrier. errno is untouched (gettid cannot fail).
extern "C" fn on_signal(sig: libc::c_int) {
    let Ok(n) = usize::try_from(sig) else { return };
    if n >= NSIG {
        return;
    }
    let tid = gettid();
    let mut m = NO_M;
    for slot in &M_TABLE[..M_HIGH.load(Acquire).min(MAX_MS)] {
        if slot.tid.load(Acquire) == tid {
            m = slot.id.load(Relaxed);
            break;
        }
    }
    LAST_M[n].store(m, Relaxed);
    // Release: whoever sees the new count sees LAST_M too.
    RECEIVED[n].fetch_add(1, Release);
}

/// How many times signal `sig` has been delivered to this process.
pub fn received(sig: usize) -> u64 {
    RECEIVED.get(sig).map_or(0, |c| c.load(Acquire))
}

/// The M that handled the last delivery of `sig` ([`NO_M`] if none or not an M).
pub fn last_m(sig: usize) -> u64 {
    LAST_M.get(sig).map_or(NO_M, |m| m.load(Relaxed))
}

/// The process's interest in each signal: how many running programs want
/// it caught, and the disposition to restore when none does.
struct Installed {
    wanted: [usize; NSIG],
    previous: Vec<Option<libc::sigaction>>,
}

static INSTALLED: Mutex<Option<Installed>> = Mutex::new(None);

/// Starts catching `sig` for one more interested program (installs the
/// handler if it is the first). Err for a signal that cannot be caught.
pub fn want(sig: usize) -> Result<(), String> {
    if !catchable(sig) {
        return Err(format!("signal {sig} cannot be caught"));
    }
    let mut guard = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    let inst = guard.get_or_insert_with(|| Installed {
        wanted: [0; NSIG],
        previous: (0..NSIG).map(|_| None).collect(),
    });
    if inst.wanted[sig] == 0 {
        // SAFETY: a zeroed sigaction is a valid value of the C struct (all
        // fields are integers, masks and a handler address).
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        action.sa_flags = libc::SA_RESTART | libc::SA_ONSTACK;
        // SAFETY: sa_mask is a valid sigset_t owned by `action`.
        unsafe { libc::sigemptyset(&mut action.sa_mask) };
        // SAFETY: as above, a valid out-parameter.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: `sig` is a catchable signal number; both pointers are
        // valid for the call; the handler is async-signal-safe (see
        // `on_signal`).
        if unsafe { libc::sigaction(sig as libc::c_int, &action, &mut old) } != 0 {
            return Err(format!("sigaction({sig}) failed"));
        }
        inst.previous[sig] = Some(old);
    }
    inst.wanted[sig] += 1;
    Ok(())
}

/// One program less wants `sig` caught; the last one restores the
/// disposition found when the handler was installed.
pub fn unwant(sig: usize) {
    let mut guard = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    let Some(inst) = guard.as_mut() else { return };
    if sig >= NSIG || inst.wanted[sig] == 0 {
        return;
    }
    inst.wanted[sig] -= 1;
    if inst.wanted[sig] == 0 {
        if let Some(old) = inst.previous[sig].take() {
            // SAFETY: `old` is the action sigaction returned for this signal.
            unsafe { libc::sigaction(sig as libc::c_int, &old, std::ptr::null_mut()) };
        }
    }
}

/// Signals a program can catch, by Go's name, with Go's `String()` text.
pub const SIGNALS: &[(&str, libc::c_int, &str)] = &[
    ("SIGHUP", libc::SIGHUP, "hangup"),
    ("SIGINT", libc::SIGINT, "interrupt"),
    ("SIGQUIT", libc::SIGQUIT, "quit"),
    ("SIGUSR1", libc::SIGUSR1, "user defined signal 1"),
    ("SIGUSR2", libc::SIGUSR2, "user defined signal 2"),
    ("SIGPIPE", libc::SIGPIPE, "broken pipe"),
    ("SIGALRM", libc::SIGALRM, "alarm clock"),
    ("SIGTERM", libc::SIGTERM, "terminated"),
    ("SIGCHLD", libc::SIGCHLD, "child exited"),
    ("SIGCONT", libc::SIGCONT, "continued"),
    ("SIGTSTP", libc::SIGTSTP, "stopped"),
    ("SIGTTIN", libc::SIGTTIN, "stopped (tty input)"),
    ("SIGTTOU", libc::SIGTTOU, "stopped (tty output)"),
    ("SIGURG", libc::SIGURG, "urgent I/O condition"),
    ("SIGWINCH", libc::SIGWINCH, "window changed"),
];

/// The signal named `name` (`"SIGINT"`, `"INT"`, or Go's text
/// `"interrupt"`, which is what `os.Interrupt` holds and what a program
/// receives), if a program may catch it.
pub fn by_name(name: &str) -> Option<usize> {
    let short = name.strip_prefix("SIG").unwrap_or(name);
    SIGNALS
        .iter()
        .find(|(n, _, text)| &n[3..] == short || *text == name)
        .map(|&(_, sig, _)| sig as usize)
}

/// Signals that exist but no program can catch (Go accepts them in
/// `signal.Notify` and never delivers them).
pub fn uncatchable(name: &str) -> bool {
    matches!(
        name,
        "SIGKILL" | "KILL" | "killed" | "SIGSTOP" | "STOP" | "stopped (signal)"
    )
}

/// Go's text for signal `sig` (`interrupt`), as a received value prints.
pub fn description(sig: usize) -> &'static str {
    SIGNALS
        .iter()
        .find(|&&(_, s, _)| s as usize == sig)
        .map_or("signal", |&(_, _, d)| d)
}

/// Go's name for signal `sig` (`SIGINT`).
pub fn name(sig: usize) -> &'static str {
    SIGNALS
        .iter()
        .find(|&&(_, s, _)| s as usize == sig)
        .map_or("SIG?", |&(n, ..)| n)
}

fn catchable(sig: usize) -> bool {
    SIGNALS.iter().any(|&(_, s, _)| s as usize == sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_descriptions_follow_go() {
        assert_eq!(by_name("SIGINT"), Some(libc::SIGINT as usize));
        assert_eq!(by_name("TERM"), Some(libc::SIGTERM as usize));
        assert_eq!(by_name("interrupt"), Some(libc::SIGINT as usize));
        assert_eq!(by_name("SIGKILL"), None);
        assert!(uncatchable("SIGKILL"));
        assert_eq!(description(libc::SIGINT as usize), "interrupt");
        assert_eq!(name(libc::SIGUSR2 as usize), "SIGUSR2");
    }

    #[test]
    fn handler_records_the_m_it_ran_on() {
        // SIGURG: nothing else in the test binary uses it.
        let sig = libc::SIGURG as usize;
        want(sig).unwrap();
        let id = new_m_id();
        let reg = register_m(id);
        let before = received(sig);
        // SAFETY: raise(3) sends the signal to the calling thread; the
        // handler installed above is async-signal-safe.
        unsafe { libc::raise(libc::SIGURG) };
        assert_eq!(received(sig), before + 1);
        assert_eq!(last_m(sig), id);
        drop(reg);
        // SAFETY: as above.
        unsafe { libc::raise(libc::SIGURG) };
        assert_eq!(received(sig), before + 2);
        assert_eq!(last_m(sig), NO_M);
        unwant(sig);
    }
}
