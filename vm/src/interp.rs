//! The interpreter: loads a compiled [`Program`] into the heap, starts one
//! M per P ([`run_m`], scheduling through [`crate::sched`]) and runs
//! goroutine 1 (module inits, then `main`) until the program is over.
//!
//! Every instruction of the bytecode runs: values, arithmetic, calls and
//! returns (fixed, variadic, spread and `MULTI` counts), lists, maps,
//! strings, struct types and methods, range loops, defer/panic/recover, the
//! builtins, native modules through [`crate::native`], and `go`, channels and
//! `select` (in [`chan`], which parks a goroutine inside the instruction).
//!
//! Registers: a goroutine's registers are one array of atomic words
//! ([`RegFile`]), registered with the collector as a root; a frame is a window
//! `base..base + max_registers` of it (plus a spare register above it).
//! Register 0 holds the goroutine's defer list, register 1 the panic in flight.
//! The array only grows, at calls, with no safepoint between the copy and the
//! swap; replaced arrays are retired, not freed, so borrowed references stay
//! valid. The verifier (`lang::verify`) guarantees every register an
//! instruction names lies inside its frame.
//!
//! Dispatch: [`Exec::step`] runs instructions in one loop; calls to closures
//! and plain returns switch frames inside the loop; everything else (natives,
//! defers, panics) goes through the outer loop in `execute`.
//!
//! Safepoints: allocation (every allocating instruction) and the P's explicit
//! `safepoint()` at calls and backward jumps, where a goroutine past its time
//! slice also yields.

use crate::arith::{self, ArithOp, Num};
use crate::gobj::G;
use crate::heap::{heap_config, type_table, Kind};
use crate::native::{NativeConst, NativeCtx, NativeHost, Natives, Results};
use crate::results;
use crate::sched::{
    maxprocs_setting, Entry, Found, LockedWait, LockedWake, Runtime, SignalRoots, TimerRoots,
    TimerWhat, Waiter, WAKE_DELIVERED,
};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::Acquire, Ordering::Release};

mod chan;
mod fast;
use crate::object::{self, obj_of, obj_of_kind};
use crate::value::Value;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use weft_gc::{
    AllocError, Heap, Mutator, RootKind, RootProvider, StackScan, Tracer, P, PHASE_MARK,
};
use weft_lang::bytecode::{builtin_index, Constant, Count, Glob, Kst, Op, Reg, BUILTINS, MULTI};
use weft_lang::program::{ImportTarget, Program};

/// A struct type declaration: its name and field names.
pub type TypeDesc = (Arc<str>, Box<[Arc<str>]>);

/// A function ready to run: the compiled `Proto` with its constants on the heap.
#[derive(Debug)]
pub struct FnProto {
    pub name: Arc<str>,
    pub file: Arc<str>,
    pub code: Box<[Op]>,
    pub lines: Box<[u32]>,
    pub n_params: usize,
    pub variadic: bool,
    pub max_registers: usize,
    /// One past the last register the code may read before it writes it
    /// (`weft_lang::liveness`), at least `n_params`, at most
    /// `max_registers`: a new frame gets nil from its arguments up to here,
    /// and the registers above keep what a returned frame left until the
    /// code writes them (the collector keeps every word of a register
    /// array valid: see `RegFile`).
    pub nil_top: usize,
    /// What `Exec::fits_plain_call` tests, precomputed: one more than the
    /// most arguments a plain call may pass (`n_params + 1`; 0 for a
    /// variadic function, which no call enters plainly), and the words a
    /// frame takes above its base (`max_registers` and the two scratch
    /// registers above them: see `GState::cached_regs`).
    pub plain_args_limit: usize,
    pub frame_words: usize,
    /// Constants as values (strings are heap objects rooted by the VM).
    pub consts: Box<[Value]>,
    /// The bytes of each string constant (empty for other constants): field
    /// and method names, read without touching the heap.
    pub const_strs: Box<[Box<[u8]>]>,
    /// One inline cache per instruction, for field and method lookups by
    /// name: `key << 16 | payload` (0 = empty), where the key is one of
    /// three disjoint kinds: a struct type id (below 2^47; payload `method
    /// bit << 15 | index + 1`), a native module's address (a user-space
    /// address, at least 2^16 and below 2^47, never equal to a type id in
    /// practice: ids count up from 1; payload a native function index + 1),
    /// or `OPAQUE_IC_TAG | native object type id` (payload likewise). Type
    /// ids are unique and never reused, and a type's fields and methods never
    /// change after its module's init has attached them, so a hit is exact.
    pub inline_cache: Box<[AtomicU64]>,
    /// Nested functions, as indices into [`Vm::protos`].
    pub protos: Box<[u32]>,
    /// (from parent local?, index) for each upvalue.
    pub upvalues: Box<[(bool, u8)]>,
    /// Struct types declared in this function: name and field names.
    pub types: Box<[TypeDesc]>,
    /// The cases of each `select` and whether it has a default.
    pub selects: Box<[(Box<[weft_lang::bytecode::SelectCase]>, bool)]>,
    /// Index into [`Vm::modules`].
    pub module: u32,
    /// The module's global slots (made before its functions are loaded):
    /// `GetGlobal`/`SetGlobal`/`CallGlobal` index them directly. A
    /// module's globals list never grows (its slots are fixed by the
    /// compiler) and its array is a runtime root of its own. (A `OnceLock`
    /// set after loading cost every global access its state test.)
    pub globals: &'static [AtomicU64],
}

/// A loaded function by address: what a closure's first slot and a call
/// frame hold, so that a call and a return reach the function without
/// indexing `Vm::protos` (a bounds test and three loads each way: 4% of
/// fib's instructions).
///
/// Invariant: it points to an `FnProto` that `Vm::protos` holds in an
/// `Arc`. `Vm::protos` only grows and drops its `Arc`s with the `Vm`, and
/// closures and frames are used only by that `Vm`'s interpreter, while it
/// is alive; so the function is there whenever a `ProtoRef` is followed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ProtoRef(std::ptr::NonNull<FnProto>);

// SAFETY: a `ProtoRef` is a shared reference in all but lifetime, and
// `FnProto` is `Sync` (immutable data and atomic inline caches: checked
// just below), so it may be sent to and shared with any thread, as
// `&FnProto` may.
unsafe impl Send for ProtoRef {}
const _: () = {
    const fn shared_across_threads<T: Sync>() {}
    shared_across_threads::<FnProto>();
};
// SAFETY: as for `Send`.
unsafe impl Sync for ProtoRef {}

impl ProtoRef {
    fn of(proto: &Arc<FnProto>) -> ProtoRef {
        ProtoRef(std::ptr::NonNull::from(&**proto))
    }

    /// The function.
    #[inline(always)]
    fn get<'r>(self) -> &'r FnProto {
        // SAFETY: the type's invariant: the `Vm` that holds the function
        // outlives every use of its closures and frames.
        unsafe { self.0.as_ref() }
    }

    /// The word a closure's first slot holds (a user-space address: it
    /// reads as a float, were anything to take it for a value, and the
    /// collector does not trace the slot: `Kind::Closure`).
    fn to_word(self) -> u64 {
        self.0.as_ptr() as u64
    }

    /// # Safety
    /// `word` is `to_word` of a `ProtoRef`.
    #[inline(always)]
    unsafe fn from_word(word: u64) -> Option<ProtoRef> {
        std::ptr::NonNull::new(word as *mut FnProto).map(ProtoRef)
    }
}

/// A loaded module: its globals live in a heap array.
#[derive(Debug)]
pub struct ModuleRt {
    pub name: Arc<str>,
    pub globals: Value,
    /// The module's value (a `Kind::Module` object), as importers see it.
    pub value: Value,
    pub init: u32,
    pub main: Option<u16>,
    pub imports: Vec<ImportTarget>,
    pub import_paths: Vec<Arc<str>>,
    /// Global names by slot, and whether each is exported.
    pub global_names: Vec<(Arc<str>, bool)>,
}

/// Words the runtime keeps alive: constants, module globals' arrays,
/// builtins, module objects. The second field is a scratch slot for
/// multi-allocation constructors at load time.
///
/// Two providers over one value (`LoadedRoots`, `ScratchRoot`): the list
/// is written only by `Vm::load`, each word pushed right after its object
/// is allocated with no safepoint between (a mark that started before the
/// allocation allocates it black; one that starts after it finds it
/// listed), and never changed after, so it is scanned concurrently
/// (`RootKind::Barriered`: 4-15 us of the first pause in gcpause when it
/// was scanned there); the scratch slot is stored without a barrier and is
/// scanned with the world stopped (`RootKind::Runtime`).
#[derive(Default)]
struct RuntimeRoots(Mutex<Vec<u64>>, AtomicU64);

/// The list half of [`RuntimeRoots`].
struct LoadedRoots(Arc<RuntimeRoots>);

impl RootProvider for LoadedRoots {
    fn scan_roots(&self, tracer: &mut Tracer<'_>) {
        for &w in self.0 .0.lock().expect("runtime roots").iter() {
            tracer.mark_word(w);
        }
    }
}

/// The scratch half of [`RuntimeRoots`].
struct ScratchRoot(Arc<RuntimeRoots>);

impl RootProvider for ScratchRoot {
    fn scan_roots(&self, tracer: &mut Tracer<'_>) {
        tracer.mark_word(self.0 .1.load(Relaxed));
    }
}

/// `RegFile::state` values.
const G_IDLE: u8 = 0;
const G_RUNNING: u8 = 1;
const G_SCANNING: u8 = 2;

/// A goroutine's registers.
pub struct RegFile {
    regs: Mutex<Arc<[AtomicU64]>>,
    /// How many registers the collector scans: all of them while the G runs,
    /// the used part (up to its top of stack) while it is parked or queued.
    /// A scan at the limit clears what lies above it (`clear_above`), since
    /// a scan of the running G reads the whole array.
    ///
    /// Invariant: every word of the array is a non-pointer or points to a
    /// live object (each cycle scans or clears every word; later words are
    /// written by the mutator, from live values). A new frame clears only
    /// the registers its code may read before writing them
    /// (`FnProto::nil_top`); the others hold what returned frames left,
    /// valid by this invariant, until the code overwrites them.
    scan_limit: std::sync::atomic::AtomicUsize,
    /// The mark cycle whose stack scan has covered these registers (see
    /// `weft_gc::StackScan`).
    scanned_epoch: AtomicU64,
    /// `G_IDLE`, `G_RUNNING` (on an M: a concurrent scan skips it, mark
    /// termination scans it, stopped) or `G_SCANNING` (the coordinator's
    /// concurrent scan claimed it). A G starts running only by a CAS from
    /// `G_IDLE`, so never while its stack is scanned; only its own M ends
    /// `G_RUNNING`, only the scanner ends `G_SCANNING`. (One CAS per
    /// slice: the register lock taken twice per slice was a tenth of
    /// pingpong's time.)
    state: AtomicU8,
    /// The P whose M runs the G (meaningful while `running`): a concurrent
    /// scan asks that P's G to stop (see `AllGs::scan_roots`).
    on_p: std::sync::atomic::AtomicUsize,
}

impl RegFile {
    pub(crate) fn new(array: Arc<[AtomicU64]>) -> RegFile {
        RegFile {
            regs: Mutex::new(array),
            scan_limit: std::sync::atomic::AtomicUsize::new(usize::MAX),
            scanned_epoch: AtomicU64::new(0),
            state: AtomicU8::new(G_IDLE),
            on_p: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Whether a concurrent scan of mark cycle `epoch` still has to cover
    /// this stack, and if so the P running it (if it runs).
    pub(crate) fn scan_pending(&self, epoch: u64) -> Option<Option<usize>> {
        if self.scanned_epoch.load(Relaxed) == epoch {
            return None;
        }
        let running = self.state.load(Relaxed) == G_RUNNING;
        Some(running.then(|| self.on_p.load(Relaxed)))
    }

    /// The G starts running on P `pid`'s M (waits for a scan of it in progress).
    pub(crate) fn begin_running(&self, pid: usize) {
        let mut tries = 0u32;
        // Acquire: the scanner's reads of the registers happen before this
        // M's writes (its Release store of G_IDLE).
        while self
            .state
            .compare_exchange_weak(G_IDLE, G_RUNNING, Acquire, Relaxed)
            .is_err()
        {
            tries += 1;
            if tries < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        // After the claim: a scanner that sees G_RUNNING with an older P
        // asks the wrong P to stop once, and looks again next pass.
        self.on_p.store(pid, Relaxed);
        self.scan_limit.store(usize::MAX, Relaxed);
    }

    /// The G stopped running; `limit`: its top of stack.
    pub(crate) fn end_running(&self, limit: usize) {
        self.scan_limit.store(limit, Relaxed);
        // Release: a scanner that claims the stack sees its final registers.
        self.state.store(G_IDLE, Release);
    }

    /// The G's own M scans its stack during the concurrent mark (the G just
    /// stopped: yielded or parked), unless this cycle already scanned it, so
    /// that mark termination has only the Gs that never stopped left to scan.
    /// Shading the registers grey through the P is what a root scan does.
    /// Also called by the G's own assist about to park (`weft_gc::OwnRoots`).
    /// Whether it scanned now.
    pub(crate) fn scan_stopped(&self, p: &mut P, epoch: u64) -> bool {
        let regs = self.regs.lock().expect("register file");
        if self.scanned_epoch.swap(epoch, Relaxed) == epoch {
            return false;
        }
        let n = self.scan_limit.load(Relaxed).min(regs.len());
        p.shade_slots(&regs[..n]);
        // Stopped (its own M, or its own assist, which scans all of it).
        clear_above(&regs, n);
        true
    }

    /// Counts the stack as scanned for mark cycle `epoch` (a goroutine
    /// created during that mark: its first values were copied in with the
    /// barrier, so its stack starts black).
    pub(crate) fn mark_scanned(&self, epoch: u64) {
        self.scanned_epoch.store(epoch, Relaxed);
    }

    /// The length of the register array.
    pub(crate) fn len(&self) -> usize {
        self.regs.lock().expect("register file").len()
    }

    /// Sets how many registers the collector scans (see `scan_limit`), under
    /// the register lock: a scanner holds it from reading the limit through
    /// clearing above it, so a G reused for a `go` statement never has its
    /// new arguments cleared by a scan that read the dead G's lower limit.
    pub(crate) fn set_scan_limit(&self, n: usize) {
        let _regs = self.regs.lock().expect("register file");
        self.scan_limit.store(n, Relaxed);
    }
}

/// Scanned scratch slots for native functions ([`NativeCtx::keep`]), one
/// stack per M: a native's slots start at the M's current top, so a callback
/// that calls natives in turn uses the slots above. Natives never park in the
/// middle of a call, so the slots never outlive the call that took them.
///
/// Invariants: only the owning M writes `slots` and `extent`; every slot a
/// native or the runtime still needs lies below `extent` (slots at or above
/// it are NIL or dead); the collector reads both with the world stopped,
/// which orders them after the M's writes. Only `slots[..extent]` is
/// scanned: the stack has room for deep nesting, and scanning all of it
/// in every sweep-termination pause cost about 200 us with three Ms.
pub(crate) struct KeepStack {
    slots: Box<[AtomicU64]>,
    extent: AtomicUsize,
}

impl KeepStack {
    pub(crate) fn new() -> KeepStack {
        KeepStack {
            slots: (0..KEEP_STACK_SLOTS)
                .map(|_| AtomicU64::new(Value::NIL.bits()))
                .collect(),
            extent: AtomicUsize::new(0),
        }
    }

    /// The first `n` slots, for the runtime's own deliveries between
    /// goroutines (no native is running): scanned until `clear_runtime_slots`.
    fn runtime_slots(&self, n: usize) -> &[AtomicU64] {
        self.cover(n);
        &self.slots[..n]
    }

    /// Counts the first `end` slots as in use (scanned). Only the owning M
    /// calls it, so a load and a store will do.
    pub(crate) fn cover(&self, end: usize) {
        if self.extent.load(Relaxed) < end {
            self.extent.store(end, Relaxed);
        }
    }

    /// Ends a `runtime_slots` use: the slots hold nothing any more.
    fn clear_runtime_slots(&self, n: usize) {
        for slot in &self.slots[..n] {
            slot.store(Value::NIL.bits(), Relaxed);
        }
        self.extent.store(0, Relaxed);
    }
}

impl RootProvider for KeepStack {
    fn scan_roots(&self, tracer: &mut Tracer<'_>) {
        let extent = self.extent.load(Relaxed).min(self.slots.len());
        tracer.mark_slots(&self.slots[..extent]);
    }
}

/// Slots in each M's keep stack: room for callbacks nested 16 deep.
const KEEP_STACK_SLOTS: usize = 16 * NATIVE_KEEP_SLOTS;

/// A running goroutine's stack, scanned by its own assist before it parks:
/// the G is inside an allocation, at a safepoint, its registers at rest.
impl weft_gc::OwnRoots for RegFile {
    fn shade_own(&self, p: &mut P, epoch: u64) -> bool {
        self.scan_stopped(p, epoch)
    }
}

/// Clears the registers above `limit`, those a scan of a stopped G at its
/// top of stack leaves out. They hold what returned frames left (a
/// callback's locals, above the native that called it): nothing reads them
/// again but a later scan of the G while it runs, which covers the whole
/// array, and by then an object only they referred to may have been
/// freed in this cycle. Cleared here, every word a running scan reads was
/// scanned in this cycle or written since, and so refers to a live object.
fn clear_above(regs: &[AtomicU64], limit: usize) {
    for r in regs.get(limit..).unwrap_or_default() {
        if r.load(Relaxed) != Value::NIL.bits() {
            r.store(Value::NIL.bits(), Relaxed);
        }
    }
}

impl RootProvider for RegFile {
    fn scan_roots(&self, tracer: &mut Tracer<'_>) {
        // `clear`: the G is held still (claimed, or the world is stopped
        // in mark termination), so the scanner may write its registers.
        let scan_regs = |tracer: &mut Tracer<'_>, clear: bool| {
            let regs = self.regs.lock().expect("register file");
            let n = self.scan_limit.load(Relaxed).min(regs.len());
            tracer.mark_slots(&regs[..n]);
            if clear {
                clear_above(&regs, n);
            }
        };
        match tracer.stack_scan() {
            // With the world stopped (checkmark, validation): every G is at
            // a safepoint; an observer, it writes nothing.
            StackScan::All => scan_regs(tracer, false),
            StackScan::Final { epoch } => {
                if self.scanned_epoch.swap(epoch, Relaxed) != epoch {
                    scan_regs(tracer, true);
                }
            }
            // Concurrently: only a G not running, claimed for the scan so
            // it cannot start meanwhile (see `state`).
            StackScan::Concurrent { epoch } => {
                if self.scanned_epoch.load(Relaxed) == epoch
                    || self
                        .state
                        .compare_exchange(G_IDLE, G_SCANNING, Acquire, Relaxed)
                        .is_err()
                {
                    return;
                }
                if self.scanned_epoch.swap(epoch, Relaxed) != epoch {
                    scan_regs(tracer, true);
                }
                self.state.store(G_IDLE, Release);
            }
        }
    }
}

/// Frames, innermost first: function name, file, line.
pub type Traceback = Vec<(Arc<str>, Arc<str>, u32)>;

/// A Go-style runtime failure on its way to the top level.
#[derive(Debug, Clone, PartialEq)]
pub struct Panic {
    /// The text after `panic: ` (runtime errors include `runtime error: `).
    pub message: String,
    /// Innermost first: function name, file, line.
    pub traceback: Vec<(Arc<str>, Arc<str>, u32)>,
    /// A panic, a fatal error, or a signal's dump.
    pub kind: PanicKind,
    /// The goroutine that failed (1 is the main goroutine); 0 when no
    /// goroutine was running (a deadlock).
    pub goroutine: u64,
    /// Other goroutines to show (a deadlock shows every blocked one): id,
    /// wait reason, traceback.
    pub others: Vec<(u64, String, Traceback)>,
}

impl Panic {
    /// What the program prints on stderr, in Go's shape.
    pub fn report(&self) -> String {
        let mut out = match self.kind {
            PanicKind::Panic => format!("panic: {}\n", self.message),
            PanicKind::Fatal => format!("fatal error: {}\n", self.message),
            PanicKind::Signal { name, m } => {
                let m = if m == crate::signal::NO_M {
                    String::new()
                } else {
                    format!(" m={m}")
                };
                format!("{name}: {}\nPC=0x0{m} sigcode=0\n", self.message)
            }
        };
        let frames = |out: &mut String, tb: &[(Arc<str>, Arc<str>, u32)]| {
            for (func, file, line) in tb {
                out.push_str(&format!("{func}(...)\n\t{file}:{line}\n"));
            }
        };
        if self.goroutine != 0 {
            out.push_str(&format!("\ngoroutine {} [running]:\n", self.goroutine));
            frames(&mut out, &self.traceback);
        }
        for (id, reason, tb) in &self.others {
            out.push_str(&format!("\ngoroutine {id} [{reason}]:\n"));
            frames(&mut out, tb);
        }
        out
    }
}

/// What kind of failure a [`Panic`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanicKind {
    /// `panic: ...`: a Go panic nobody recovered.
    Panic,
    /// `fatal error: ...`: not recoverable (deadlock, stack overflow, unlock
    /// of an unlocked mutex).
    Fatal,
    /// `SIGQUIT: quit`: a signal that dumps every goroutine (Go's default for
    /// SIGQUIT); `m` is the M the handler ran on.
    Signal { name: &'static str, m: u64 },
}

/// Why running stopped early.
#[derive(Debug)]
pub enum Stop {
    Panic(Panic),
    /// `os.Exit(n)`.
    Exit(i32),
    /// The goroutine parked or yielded (internal to the scheduler: a host
    /// never sees it).
    Suspended,
}

type Res<T> = Result<T, String>;

fn rt_err<T>(message: impl Into<String>) -> Res<T> {
    Err(format!("runtime error: {}", message.into()))
}

/// Scanned scratch slots a native function may keep values in (each nesting
/// level of a JSON document, for instance, keeps two).
const NATIVE_KEEP_SLOTS: usize = 4096;

/// Frames deeper than this are a `fatal error: stack overflow`.
pub const MAX_FRAMES: usize = 1_000_000;

pub(crate) struct Frame {
    proto: ProtoRef,
    closure: Value,
    base: usize,
    /// The next instruction, or [`RETURN_NIL`] while the frame is returning
    /// nil results after a recovered panic.
    pc: usize,
    /// Absolute register of the caller where results go.
    ret: usize,
    nres: u8,
    /// Length of the goroutine's defer list when this frame started: records
    /// above it are this frame's.
    defer_mark: usize,
    /// This frame is a deferred call run by the defer machinery.
    deferred: bool,
}

/// `Frame::pc` of a frame that must return nil results (it recovered a panic).
const RETURN_NIL: usize = usize::MAX;

/// Register 0 of every goroutine holds its defer list (records, oldest
/// first); register 1 the value of the panic in flight. Frames start above.
const DEFER_REG: usize = 0;
const PANIC_REG: usize = 1;
const FIRST_FRAME_REG: usize = 2;

/// Prefix of the `Err` a native returns to end the program (`os.Exit`): the
/// exit status follows.
pub const EXIT_PREFIX: &str = "\u{0}exit:";

/// The fatal error of a program whose every goroutine is blocked.
const DEADLOCK: &str = "all goroutines are asleep - deadlock!";

/// Prefix of the `Err` a native returns for a fatal error (`fatal error: `,
/// not recoverable): the message follows.
pub const FATAL_PREFIX: &str = "\u{0}fatal:";

/// Message of the `Err` that means "the panic value is in `PANIC_REG`".
const PANIC_VALUE: &str = "\u{0}panic value";
/// Message of the `Err` that means "a deferred call returned while panicking:
/// go on unwinding".
const CONTINUE_UNWINDING: &str = "\u{0}continue unwinding";

/// A panic in flight.
pub(crate) struct Panicking {
    /// The report's text (`%v` of the value), fixed when the panic started.
    message: String,
    traceback: Vec<(Arc<str>, Arc<str>, u32)>,
    recovered: bool,
}

/// A loaded program and its heap.
pub struct Vm {
    /// `os.Args`: the script path and its arguments (set by the host).
    pub args: Vec<String>,
    pub natives: Natives,
    /// One module object per native module, by import path.
    std_modules: HashMap<&'static str, Value>,
    /// The reverse: import path by module value.
    std_module_paths: HashMap<u64, &'static str>,
    /// Every native function, for inline caches to index.
    native_table: Vec<crate::native::NativeFn>,
    /// (module path, function name) -> index into `native_table`.
    native_index: HashMap<(&'static str, &'static str), usize>,
    /// For each entry of `native_table`, its float fast path, if it has one
    /// (`ModuleDef::float_fns`): `fast::run` calls it for a float argument.
    pub(crate) native_float_fns: Vec<Option<crate::native::FloatFn>>,
    pub heap: Arc<Heap>,
    /// Loaded functions. Crate-private: the interpreter reads their code,
    /// registers and constants unchecked where the verifier proved them in
    /// range, so nothing outside may replace or edit them after `load`.
    pub(crate) protos: Vec<Arc<FnProto>>,
    pub(crate) modules: Vec<ModuleRt>,
    roots: Arc<RuntimeRoots>,
    builtins: Vec<Value>,
    out: Mutex<std::io::BufWriter<RawStdout>>,
    /// A `SIGQUIT` no `signal.Notify` asked for dumps every goroutine and
    /// ends the program with status 2, as Go's runtime does. Off by default:
    /// signal dispositions belong to the whole process, and an embedder may
    /// have its own; the `weft` command turns it on.
    pub sigquit_dump: bool,
    /// Frames below which a call may be entered without `push_frame`:
    /// [`MAX_FRAMES`], or 0 under `WEFTDEBUG=regpoison=1`, which sends
    /// every call through `push_frame` to poison the registers a new frame
    /// does not clear (see `FnProto::nil_top`): a program that reads one
    /// before writing it then prints the poison, and the conformance
    /// runner's checked pass shows it.
    plain_call_frames: usize,
    regpoison: bool,
}

/// The value `WEFTDEBUG=regpoison=1` leaves in the registers a new frame
/// does not clear: an int no test prints by chance.
const REG_POISON: i64 = -7_070_707;

/// Why [`Vm::load`] refused a program.
#[derive(Debug)]
pub enum LoadError {
    /// The heap could not hold the program's constants and tables.
    OutOfMemory(AllocError),
    /// A module's bytecode does not pass the verifier (a `Program` built by
    /// hand, or a compiler bug): the interpreter relies on it (see
    /// `Exec::step`).
    InvalidBytecode(weft_lang::verify::VerifyError),
    /// A native module's import path is one the compiler reads as a file
    /// module's (`./x`, `../x`, `/x`): no script could import it.
    NativeModulePath(&'static str),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::OutOfMemory(e) => write!(f, "{e}"),
            LoadError::InvalidBytecode(e) => write!(f, "{e}"),
            LoadError::NativeModulePath(path) => write!(
                f,
                "native module path {path:?} names a file module; a native module's path may not start with ./, ../ or /"
            ),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<AllocError> for LoadError {
    fn from(e: AllocError) -> LoadError {
        LoadError::OutOfMemory(e)
    }
}

impl Vm {
    /// Builds the heap and loads `program` into it, after verifying every
    /// module's bytecode: `Program`'s fields are public, and the interpreter
    /// reads registers, constants and code without bounds checks where the
    /// verifier has proved them in range.
    pub fn load(program: &Program, natives: Natives) -> Result<(Vm, P, Mutator), LoadError> {
        if let Some(&path) = natives
            .modules
            .keys()
            .find(|p| weft_lang::program::is_file_import(p))
        {
            return Err(LoadError::NativeModulePath(path));
        }
        for m in &program.modules {
            weft_lang::verify::verify_module(&m.compiled).map_err(LoadError::InvalidBytecode)?;
        }
        let heap = Heap::new(heap_config(maxprocs_setting()), type_table());
        let roots = Arc::new(RuntimeRoots::default());
        heap.add_roots(RootKind::Barriered, Arc::new(LoadedRoots(roots.clone())));
        heap.add_roots(RootKind::Runtime, Arc::new(ScratchRoot(roots.clone())));
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        let regpoison = crate::sched::SchedDebug::from_env().regpoison;
        let mut vm = Vm {
            heap,
            protos: Vec::new(),
            modules: Vec::new(),
            roots,
            builtins: Vec::new(),
            out: Mutex::new(std::io::BufWriter::new(RawStdout)),
            natives,
            std_modules: HashMap::new(),
            std_module_paths: HashMap::new(),
            native_table: Vec::new(),
            native_index: HashMap::new(),
            native_float_fns: Vec::new(),
            args: Vec::new(),
            sigquit_dump: false,
            plain_call_frames: if regpoison { 0 } else { MAX_FRAMES },
            regpoison,
        };
        let paths: Vec<&'static str> = vm.natives.modules.keys().copied().collect();
        for (path, def) in &vm.natives.modules {
            for (name, f) in &def.functions {
                vm.native_index
                    .insert((*path, *name), vm.native_table.len());
                vm.native_table.push(*f);
                vm.native_float_fns.push(def.float_fns.get(name).copied());
            }
        }
        for path in paths {
            // The name string is parked in the scratch root while the module object is made.
            let name = object::new_string(&mut p, &mut g, path.as_bytes())?;
            vm.roots.1.store(name.bits(), Relaxed);
            let obj = p.alloc(&mut g, Kind::StdModule.type_id(), 8)?;
            // SAFETY: just allocated; rooted right below.
            let slots = unsafe { obj.slots() };
            p.write_slot(&slots[0], name.bits());
            let v = Value::object(obj.addr());
            vm.root(v);
            vm.std_modules.insert(path, v);
            vm.std_module_paths.insert(v.bits(), path);
        }
        for i in 0..BUILTINS.len() {
            let obj = p.alloc(&mut g, Kind::Builtin.type_id(), 8)?;
            // SAFETY: just allocated, and kept alive by the runtime roots below.
            let slots = unsafe { obj.slots() };
            slots[0].store(i as u64, Relaxed);
            let v = Value::object(obj.addr());
            vm.root(v);
            vm.builtins.push(v);
        }
        for (mi, m) in program.modules.iter().enumerate() {
            let file: Arc<str> = Arc::from(m.display_path.as_str());
            let globals = object::new_list(
                &mut p,
                &mut g,
                &vec![Value::NIL; m.compiled.globals.len()],
                &vm.roots.1,
            )?;
            vm.root(globals);
            let (array, slots) = object::list_backing(obj_of(globals).expect("globals list"));
            vm.root(array);
            let init = vm.load_proto(&mut p, &mut g, &m.compiled.init, mi as u32, &file, slots)?;
            let value = {
                let name = object::new_string(&mut p, &mut g, m.compiled.name.as_bytes())?;
                vm.roots.1.store(name.bits(), Relaxed);
                let obj = p.alloc(&mut g, Kind::Module.type_id(), 16)?;
                // SAFETY: just allocated; rooted right below.
                let slots = unsafe { obj.slots() };
                p.write_slot(&slots[0], globals.bits());
                p.write_slot(&slots[1], name.bits());
                Value::object(obj.addr())
            };
            vm.root(value);
            vm.modules.push(ModuleRt {
                value,
                name: Arc::from(&*m.compiled.name),
                globals,
                init,
                main: m.compiled.main,
                imports: m.imports.clone(),
                import_paths: m.compiled.imports.iter().map(|p| Arc::from(&**p)).collect(),
                global_names: m
                    .compiled
                    .globals
                    .iter()
                    .map(|g| (Arc::from(&*g.name), g.exported))
                    .collect(),
            });
        }
        Ok((vm, p, g))
    }

    fn root(&self, v: Value) {
        if v.is_object() {
            self.roots.0.lock().expect("runtime roots").push(v.bits());
        }
    }

    fn load_proto(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        proto: &weft_lang::bytecode::Proto,
        module: u32,
        file: &Arc<str>,
        globals: &'static [AtomicU64],
    ) -> Result<u32, AllocError> {
        let mut consts = Vec::with_capacity(proto.constants.len());
        for k in &proto.constants {
            let v = match k {
                Constant::Int(i) => object::new_int(p, g, *i)?,
                Constant::Float(f) => Value::float(*f),
                Constant::Str(s) => object::new_string(p, g, s)?,
            };
            self.root(v);
            consts.push(v);
        }
        let mut nested = Vec::with_capacity(proto.protos.len());
        for child in &proto.protos {
            nested.push(self.load_proto(p, g, child, module, file, globals)?);
        }
        let fp = FnProto {
            name: Arc::from(&*proto.name),
            file: file.clone(),
            code: proto.code.clone().into_boxed_slice(),
            lines: proto.lines.clone().into_boxed_slice(),
            n_params: proto.n_params as usize,
            variadic: proto.variadic,
            max_registers: proto.max_registers as usize,
            nil_top: weft_lang::liveness::entry_live_top(proto),
            plain_args_limit: if proto.variadic {
                0
            } else {
                proto.n_params as usize + 1
            },
            frame_words: proto.max_registers as usize + 2,
            consts: consts.into_boxed_slice(),
            inline_cache: proto.code.iter().map(|_| AtomicU64::new(0)).collect(),
            const_strs: proto
                .constants
                .iter()
                .map(|k| match k {
                    Constant::Str(s) => Box::from(&**s),
                    _ => Box::from(&[][..]),
                })
                .collect(),
            protos: nested.into_boxed_slice(),
            types: proto
                .types
                .iter()
                .map(|t| {
                    (
                        Arc::from(&*t.name),
                        t.fields.iter().map(|f| Arc::from(&**f)).collect(),
                    )
                })
                .collect(),
            selects: proto
                .selects
                .iter()
                .map(|d| (d.cases.clone().into_boxed_slice(), d.has_default))
                .collect(),
            upvalues: proto
                .upvalues
                .iter()
                .map(|u| (u.from_parent_local, u.index))
                .collect(),
            module,
            globals,
        };
        self.protos.push(Arc::new(fp));
        Ok(self.protos.len() as u32 - 1)
    }

    /// Runs the program: goroutine 1 runs every module's top-level code in
    /// order, then the entry module's `main`; the program ends when it returns
    /// (other goroutines are abandoned, as in Go), on `os.Exit`, on an
    /// unrecovered panic in any goroutine, or on a deadlock.
    pub fn run_program(&mut self, p: &mut P, g: &mut Mutator) -> Result<(), Stop> {
        let _ = g;
        // The run tokens: half the collector Ps (see `heap_config`), not a
        // second read of WEFTMAXPROCS that could disagree with the first.
        let mut rt = Runtime::new(
            (self.heap.nprocs() / 2).max(1),
            self.heap.nprocs(),
            self.heap.clone(),
        );
        rt.quit_dump = self.sigquit_dump;
        // A stop-the-world sets every P's preemption flag too: the fast
        // loop tests that one flag at calls and back edges.
        self.heap
            .set_stop_flags(rt.ps.iter().map(|p| p.preempt.clone()).collect());
        if rt.quit_dump {
            // Best effort: a process that cannot catch SIGQUIT keeps its default.
            let _ = rt.catch_quit();
        }
        let keep = Arc::new(KeepStack::new());
        let roots: Vec<(RootKind, Arc<dyn RootProvider>)> = vec![
            (RootKind::Stacks, rt.allgs.clone()),
            (RootKind::Runtime, Arc::new(TimerRoots(rt.timers.clone()))),
            (RootKind::Runtime, Arc::new(SignalRoots(rt.signals.clone()))),
            (RootKind::Other, keep.clone()),
        ];
        for (kind, provider) in &roots {
            self.heap.add_roots(*kind, provider.clone());
        }
        let program = ProgramRuntime {
            rt,
            heap: self.heap.clone(),
            roots: roots.into_iter().map(|(_, r)| r).collect(),
        };
        let rt = &program.rt;
        let mut entry: VecDeque<Entry> = (0..self.modules.len()).map(Entry::Init).collect();
        entry.push_back(Entry::Main);
        let main = match rt.new_g(p, g, 1024, entry, None) {
            Ok(main) => main,
            Err(e) => {
                return Err(Stop::Panic(Panic {
                    message: oom(e),
                    traceback: Vec::new(),
                    kind: PanicKind::Fatal,
                    goroutine: 0,
                    others: Vec::new(),
                }));
            }
        };
        rt.push_runnable(main, None);
        let vm: &Vm = self;
        std::thread::scope(|scope| {
            let (heap, rt_ref) = (&*vm.heap, rt);
            // This thread is the M of the P the host passed in (m0 of the
            // program); sysmon is an M without a P; one more M per other P.
            // Thread names carry the M id (`weft-m3`), as signal tests rely on.
            let m0 = crate::signal::new_m_id();
            let _m0 = crate::signal::register_m(m0);
            let sysmon_id = crate::signal::new_m_id();
            let sysmon = std::thread::Builder::new()
                .name(format!("weft-sysmon{sysmon_id}"))
                .spawn_scoped(scope, move || {
                    let _m = crate::signal::register_m(sysmon_id);
                    rt_ref.sysmon(heap, &|| vm.flush_from_sysmon(), &|| {
                        spawn_m(scope, vm, rt_ref)
                    })
                })
                .expect("spawn sysmon");
            let threads = vec![sysmon];
            rt.note_m_started();
            for _ in 1..rt.maxprocs() {
                spawn_m(scope, vm, rt_ref);
            }
            run_m(vm, rt, p, &keep);
            // Waiting for the other Ms (the scope joins them) is a blocking
            // region of this P: a collection they are in the middle of must
            // be able to stop the world.
            p.blocking(|| {
                for t in threads {
                    let _ = t.join();
                }
                rt.wait_ms_stopped();
            });
        });
        let _ = self.out.lock().expect("stdout").flush();
        self.heap.set_stop_flags(Vec::new());
        rt.release_signals();
        let outcome = match rt.take_outcome() {
            Err(Stop::Panic(mut dump)) if matches!(dump.kind, PanicKind::Signal { .. }) => {
                // Every M has stopped: each goroutine is in a queue or parked.
                // (Those parked in place inside callbacks left their
                // tracebacks when they parked: their Ms have unwound.)
                dump.others = goroutine_reports(
                    rt.drain_all().iter().map(|(g, reason)| (g, *reason)),
                    rt.take_all_locked(),
                );
                Err(Stop::Panic(dump))
            }
            outcome => outcome,
        };
        drop(program);
        outcome
    }
}

/// File descriptor 1 without a buffer of its own: the program's output is
/// buffered once, in `Vm::out`, so an empty `BufWriter` means nothing is
/// pending (`std::io::Stdout` keeps a line buffer of its own, which a
/// flush skipped for an empty `BufWriter` would have left unwritten).
pub(crate) struct RawStdout;

impl Write for RawStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        loop {
            // SAFETY: writes at most `buf.len()` bytes from the live slice
            // to fd 1, which the process keeps open.
            let n = unsafe { libc::write(1, buf.as_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts one more M (an OS thread named `weft-mN` for its M id) with a
/// collector P of its own, running the scheduler loop; sysmon starts extra
/// ones while Ms are blocked in native calls (`Runtime::want_more_ms`).
fn spawn_m<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    vm: &'scope Vm,
    rt: &'scope Runtime,
) {
    let id = crate::signal::new_m_id();
    rt.note_m_started();
    let spawned = std::thread::Builder::new()
        .name(format!("weft-m{id}"))
        .spawn_scoped(scope, move || {
            let _m = crate::signal::register_m(id);
            let mut p = vm.heap.acquire_p();
            let keep = Arc::new(KeepStack::new());
            vm.heap.add_roots(RootKind::Other, keep.clone());
            run_m(vm, rt, &mut p, &keep);
            let keep: Arc<dyn RootProvider> = keep;
            vm.heap.remove_roots(&keep);
            rt.note_m_stopped();
        });
    if spawned.is_err() {
        rt.note_m_not_started();
    }
}

impl Vm {
    /// sysmon's periodic flush: skipped when an M is writing right now (it
    /// will be flushed at the next tick).
    fn flush_from_sysmon(&self) {
        if let Ok(mut out) = self.out.try_lock() {
            if !out.buffer().is_empty() {
                let _ = out.flush();
            }
        }
    }

    /// Flushes the program's buffered output (an M found nothing to run, a
    /// native is about to wait for input). See `write_output` for why the
    /// write is a blocking region.
    fn flush_output(&self, p: &mut P) {
        if let Ok(out) = self.out.try_lock() {
            if out.buffer().is_empty() {
                return;
            }
        }
        p.blocking(|| {
            let _ = self.out.lock().expect("stdout").flush();
        });
    }

    /// Appends to the program's buffered standard output from an M holding
    /// `p`. Bytes that fit the buffer's spare room are copied under an
    /// uncontended lock, which does no I/O; anything else (a full buffer
    /// that must be written out, or the lock held by another M or by
    /// sysmon, perhaps in a write to a pipe nobody reads) happens in a
    /// blocking region, so a stuck pipe stops this goroutine only, never a
    /// collection waiting for the world to stop.
    ///
    /// The lock is taken and released inside the region: an M that held it
    /// while waiting for a stopped world to restart would deadlock with an
    /// M waiting for it (with its P running) that the stop waits for.
    fn write_output(&self, p: &mut P, bytes: &[u8]) {
        if let Ok(mut out) = self.out.try_lock() {
            if out.capacity() - out.buffer().len() > bytes.len() {
                // Fits with room to spare: BufWriter only copies (with
                // exactly no room left it would write straight through).
                let _ = out.write_all(bytes);
                return;
            }
        }
        p.blocking(|| {
            let _ = self.out.lock().expect("stdout").write_all(bytes);
        });
    }
}

/// The scheduler loop of one M holding `p`: runs goroutines until the
/// program is over (see `Runtime::finish`).
fn run_m(vm: &Vm, rt: &Runtime, p: &mut P, keep: &KeepStack) {
    // The M's own collector record, for what it allocates outside any G.
    let mut m_mutator = Mutator::new();
    let pid = p.id();
    loop {
        let gs = match rt.find_runnable(p, pid, &mut |p| vm.flush_output(p)) {
            Found::G(gs) => gs,
            Found::TimerSend(chan) => {
                deliver_tick(rt, p, &mut m_mutator, keep, chan);
                continue;
            }
            Found::Signals(mask) => {
                deliver_signals(rt, p, &mut m_mutator, keep, mask);
                continue;
            }
            Found::Deadlock(parked, locked) => return rt.finish(Err(deadlock(parked, locked))),
            Found::Exit => return,
        };
        let mut gs = gs;
        gs.regs.begin_running(pid);
        let mut mutator = std::mem::take(&mut gs.mutator);
        let mut exec = Exec {
            vm,
            rt,
            gr: gs,
            preempt: &rt.ps[pid].preempt,
            pid,
            keep,
            keep_top: 0,
            nested: 0,
            suspend: None,
            native_stop: None,
            plain_call_frames: vm.plain_call_frames,
            map_hint: object::MapHint::default(),
        };
        // A Rust panic in the interpreter is a bug of ours; caught here it
        // ends the program as a fatal error through the normal shutdown,
        // where left to unwind it would kill this M and leave the others
        // waiting for its P for ever.
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| exec.run(p, &mut mutator)))
                .unwrap_or_else(|payload| {
                    Err(exec.panic(internal_error("the runtime", payload.as_ref()), true))
                });
        exec.gr.regs.end_running(exec.top_of_stack());
        if vm.heap.phase() == PHASE_MARK {
            let _ = exec.gr.regs.scan_stopped(p, vm.heap.mark_epoch());
        }
        let suspend = exec.suspend.take();
        let mut gs = exec.gr;
        gs.mutator = mutator;
        match result {
            Ok(()) if gs.id == MAIN_GOROUTINE => return rt.finish(Ok(())),
            Ok(()) => rt.retire(gs),
            Err(Stop::Suspended) => match suspend {
                Some(Suspend::Park(reason)) => {
                    gs.wait_reason = reason;
                    rt.end_slice(gs, true, pid);
                }
                Some(Suspend::Yield) | None => rt.end_slice(gs, false, pid),
            },
            Err(stop) => return rt.finish(Err(stop)),
        }
    }
}

/// A program's runtime and the root providers `run_program` registered
/// for it. Dropping it, when the program is over or while `run_program`
/// unwinds (after the Ms are joined, either way), ends every G first and
/// then unregisters the providers: a G object's state is never left
/// unrooted while it still holds anything.
struct ProgramRuntime {
    rt: Runtime,
    heap: Arc<Heap>,
    roots: Vec<Arc<dyn RootProvider>>,
}

impl Drop for ProgramRuntime {
    fn drop(&mut self) {
        // SAFETY: the Ms are joined (the thread scope ends before this
        // drops, unwinding or not), so no G handle is used again; the
        // runtime's own drop then finds allgs empty.
        unsafe { self.rt.allgs.list.destroy_all() };
        for provider in &self.roots {
            self.heap.remove_roots(provider);
        }
    }
}

/// The id of the goroutine that runs `main`.
const MAIN_GOROUTINE: u64 = 1;

/// Delivers a timer's tick: the current time, sent on `chan` without blocking
/// (to a parked receiver, into the buffer, or dropped when it is full).
fn deliver_tick(rt: &Runtime, p: &mut P, m: &mut Mutator, keep: &KeepStack, chan: u64) {
    // The channel is not reachable from any root between popping its timer
    // and the delivery: it is parked in the M's keep slots, as is the time.
    let slots = keep.runtime_slots(2);
    slots[0].store(chan, Relaxed);
    let now = crate::native::unix_nanos();
    let time = crate::native::new_time(p, m, now, &slots[1..2]).unwrap_or(Value::NIL);
    send_without_blocking(rt, p, chan, time);
    keep.clear_runtime_slots(2);
}

/// Relays the signals in `mask`: Go's text for each (`interrupt`) is sent
/// without blocking on every channel registered for it (dropped when the
/// buffer is full, as Go's `signal.Notify` does); a `SIGQUIT` no channel
/// asked for ends the program with every goroutine's traceback.
fn deliver_signals(rt: &Runtime, p: &mut P, m: &mut Mutator, keep: &KeepStack, mask: u64) {
    for sig in (0..64).filter(|i| mask & 1 << i != 0) {
        let handled_on = crate::signal::last_m(sig);
        if rt.debug.sigtrace {
            let on = match handled_on {
                crate::signal::NO_M => "a thread that is not an M".to_string(),
                id => format!("m{id}"),
            };
            eprintln!("sigtrace: {} handled on {on}", crate::signal::name(sig));
        }
        if sig == libc::SIGQUIT as usize && rt.quit_dump && rt.signal_chans(sig).is_empty() {
            return rt.finish(Err(Stop::Panic(Panic {
                message: crate::signal::description(sig).into(),
                traceback: Vec::new(),
                kind: PanicKind::Signal {
                    name: crate::signal::name(sig),
                    m: handled_on,
                },
                goroutine: 0,
                others: Vec::new(),
            })));
        }
        // The value first (an allocation is a safepoint); from reading the
        // channels to the last send there is none, so the channels, rooted
        // by the signal table, stay alive throughout.
        let text = crate::signal::description(sig).as_bytes();
        let Ok(v) = object::new_string(p, m, text) else {
            continue;
        };
        keep.runtime_slots(1)[0].store(v.bits(), Relaxed);
        for chan in rt.signal_chans(sig) {
            send_without_blocking(rt, p, chan, v);
        }
        keep.clear_runtime_slots(1);
    }
}

/// The runtime's own send (a timer's tick, a signal): to a parked receiver,
/// else into the buffer, else dropped; never blocks.
fn send_without_blocking(rt: &Runtime, p: &mut P, chan: u64, v: Value) {
    let Some(c) = obj_of(Value::from_bits(chan)) else {
        return;
    };
    let addr = c.addr() as u64;
    let mut chans = rt.chans.lock(addr);
    if let Some(w) = chans.pop_receiver(addr, WAKE_DELIVERED) {
        hand_to_receiver(p, rt, &w, v, true);
    } else {
        object::chan_try_send(p, c, v);
    }
}

/// Writes a received value (and the `ok` flag) into a parked receiver's
/// registers, with the barrier (its stack may already be black), and makes
/// it runnable. The receiver was claimed with the matching wake code
/// (`Waiter::claim`) when it was dequeued.
fn hand_to_receiver(p: &mut P, rt: &Runtime, w: &Waiter, v: Value, ok: bool) {
    if let Some(slot) = w.regs.get(w.val) {
        p.write_slot(slot, v.bits());
    }
    if let Some(slot) = w.regs.get(w.ok) {
        slot.store(Value::bool(ok).bits(), Relaxed);
    }
    rt.ready(w.gid, Some(p.id()));
}

/// The deadlock report: every blocked goroutine with its wait reason.
/// `locked`: the goroutines parked in place on their Ms (inside callbacks
/// from native code: `Runtime::park_locked`).
fn deadlock(parked: Vec<G>, locked: Vec<(u64, LockedWait)>) -> Stop {
    let others = goroutine_reports(parked.iter().map(|g| (g, g.wait_reason)), locked);
    Stop::Panic(Panic {
        message: DEADLOCK.into(),
        traceback: Vec::new(),
        kind: PanicKind::Fatal,
        goroutine: 0,
        others,
    })
}

/// The (id, state, traceback) of each goroutine `gs` (with its state) and
/// of each one parked in place (`locked`: their tracebacks were taken when
/// they parked), by id: what a deadlock report or a SIGQUIT dump lists.
fn goroutine_reports<'a>(
    gs: impl Iterator<Item = (&'a G, &'static str)>,
    locked: Vec<(u64, LockedWait)>,
) -> Vec<(u64, String, Traceback)> {
    let mut reports: Vec<_> = gs
        .map(|(g, state)| (g.id, state.to_string(), traceback(&g.frames)))
        .chain(
            locked
                .into_iter()
                .map(|(id, w)| (id, w.reason.to_string(), w.traceback)),
        )
        .collect();
    reports.sort_by_key(|(id, _, _)| *id);
    reports
}

/// Innermost first: function name, file and line of each frame.
fn traceback(frames: &[Frame]) -> Vec<(Arc<str>, Arc<str>, u32)> {
    frames
        .iter()
        .rev()
        .map(|f| {
            let proto = f.proto.get();
            let line = proto
                .lines
                .get(f.pc.min(proto.lines.len()).saturating_sub(1))
                .copied()
                .unwrap_or(0);
            (proto.name.clone(), proto.file.clone(), line)
        })
        .collect()
}

/// Why a goroutine stopped running before it returned.
/// The wait reason of a goroutine stopped by the end of the program while a
/// native waited (it is never woken).
const PROGRAM_OVER: &str = "program over";

enum Suspend {
    /// Preempted or `runtime.Gosched`: runnable again at once.
    Yield,
    /// Waiting (the reason is Go's wait reason): someone will wake it, or
    /// nobody will and the deadlock check reports it.
    Park(&'static str),
}

pub(crate) fn new_regs(n: usize) -> Arc<[AtomicU64]> {
    (0..n).map(|_| AtomicU64::new(Value::NIL.bits())).collect()
}

/// A goroutine running on an M: the shared program and runtime, the G's own
/// state, and what the M lends it (its P's preemption flag, its keep stack).
/// Built each time the scheduler runs a G; the G's state goes back into the
/// scheduler's queues when it stops.
struct Exec<'vm> {
    vm: &'vm Vm,
    rt: &'vm Runtime,
    gr: G,
    /// The P's preemption flag (`PRt::preempt`): set by sysmon when this G
    /// has run past its time slice, and by a stop-the-world (the one flag
    /// the fast loop tests).
    preempt: &'vm AtomicBool,
    /// The P this M holds.
    pid: usize,
    keep: &'vm KeepStack,
    /// The first free slot of `keep`.
    keep_top: usize,
    /// Callbacks from native code being run (`sort.Slice`'s less): the G
    /// cannot park or yield inside one, since the native's Rust frame is on
    /// the M's stack.
    nested: usize,
    /// Why the G is stopping, once an instruction decided it.
    suspend: Option<Suspend>,
    /// What a native called by `fast::run` failed with (or, empty, that it
    /// parked the goroutine): `step` returns it as its own.
    native_stop: Option<String>,
    /// `Vm::plain_call_frames`, kept here: `fits_plain_call` reads it at
    /// every call.
    plain_call_frames: usize,
    /// Where `fast::run`'s last map read found its key (see `MapHint`).
    map_hint: object::MapHint,
}

impl Exec<'_> {
    /// Runs the goroutine until its entries are done (Ok), it parks or yields
    /// (`Stop::Suspended`), or the program ends.
    fn run(&mut self, p: &mut P, g: &mut Mutator) -> Result<(), Stop> {
        if self.gr.resume_unwind {
            self.gr.resume_unwind = false;
            self.unwind(p, g, CONTINUE_UNWINDING.into(), 0)?;
        }
        loop {
            if !self.gr.frames.is_empty() {
                self.execute(p, g, 0)?;
                continue;
            }
            let Some(entry) = self.gr.entry.pop_front() else {
                return Ok(());
            };
            if self.gr.cached_regs[DEFER_REG].load(Relaxed) == Value::NIL.bits() {
                let regs = self.ensure_regs(FIRST_FRAME_REG + 1);
                object::new_list(p, g, &[], &regs[DEFER_REG])
                    .map_err(|e| self.panic(oom(e), true))?;
            }
            let (callee, receiver, nargs) = match entry {
                Entry::Init(mi) => {
                    let init = self.vm.modules[mi].init;
                    let init = self.proto_at(init);
                    self.call_proto(p, g, init, Value::NIL, FIRST_FRAME_REG, &[])?;
                    continue;
                }
                Entry::Main => {
                    let entry = self.vm.modules.len() - 1;
                    let Some(slot) = self.vm.modules[entry].main else {
                        continue;
                    };
                    let globals = obj_of(self.vm.modules[entry].globals).expect("globals list");
                    let main = object::list_get(globals, slot as usize).unwrap_or(Value::NIL);
                    let Some(proto) = closure_proto(main) else {
                        return Err(self.panic("main is not a function".into(), false));
                    };
                    self.call_proto(p, g, proto, main, FIRST_FRAME_REG, &[])?;
                    continue;
                }
                Entry::Call { nargs, receiver } => {
                    let regs = self.regs_ref();
                    let at = |i: usize| Value::from_bits(regs[FIRST_FRAME_REG + i].load(Relaxed));
                    if receiver {
                        // Callee, receiver, arguments: drop the receiver's
                        // register (call_value puts it back first).
                        let recv = at(1);
                        for i in 1..=nargs {
                            regs[FIRST_FRAME_REG + i].store(at(i + 1).bits(), Relaxed);
                        }
                        (at(0), Some(recv), nargs)
                    } else {
                        (at(0), None, nargs)
                    }
                }
            };
            let result = self.call_value(p, g, FIRST_FRAME_REG, callee, receiver, nargs, 0);
            if let Err(message) = result {
                if message.is_empty() {
                    // A native gave up because the program is over.
                    return Err(self.suspended());
                }
                if self.gr.frames.is_empty() {
                    // A native called by `go` panicked: no frame to unwind.
                    return Err(self.top_level_failure(message));
                }
                if self.unwind(p, g, message, 0)? {
                    continue;
                }
            }
            if self.suspend.is_some() {
                return Err(Stop::Suspended);
            }
        }
    }

    /// Before a goroutine registers a wait: inside a callback from native
    /// code, whether it may park in place (`Runtime::reserve_locked_m`;
    /// the reservation is `park_in_place`'s). The refusal is a panic.
    pub(crate) fn may_park(&self, reason: &str) -> Res<()> {
        if self.nested == 0 || self.rt.reserve_locked_m() {
            return Ok(());
        }
        Err(format!(
            "{reason}: a goroutine cannot block inside a function called by native code while every other thread is blocked in one"
        ))
    }

    /// Inside a callback from native code (`nested`), an instruction or a
    /// native parked the goroutine (`suspend`): the G cannot leave its M,
    /// whose Rust stack holds the native's frame, so it parks in place
    /// (`Runtime::park_locked`) and runs on from the same instruction
    /// boundary when woken, as a parked G resumes. A yield is dropped:
    /// the G keeps its M anyway.
    fn park_in_place(&mut self, p: &mut P) -> Result<(), Stop> {
        let Some(Suspend::Park(reason)) = self.suspend.take() else {
            return Ok(());
        };
        // The program ended (an inner callback's park saw it): this G stops
        // where it is. No reservation was taken for this park.
        if reason == PROGRAM_OVER || self.rt.done.load(Relaxed) {
            if reason != PROGRAM_OVER {
                self.rt.release_locked_m();
            }
            return Err(self.suspended());
        }
        let wait = LockedWait {
            reason,
            traceback: traceback(&self.gr.frames),
        };
        match self.rt.park_locked(p, self.pid, self.gr.id, wait) {
            LockedWake::Woken => Ok(()),
            LockedWake::ProgramOver => Err(self.suspended()),

            // (This G is among `locked`: it registered before it waited.)
            LockedWake::Deadlock(parked, locked) => {
                self.rt.finish(Err(deadlock(parked, locked)));
                Err(self.suspended())
            }
        }
    }

    /// The stop for an empty error message: the instruction parked or
    /// yielded the G (`suspend` says how), or, with no reason given, a
    /// native gave up because the program is over (`native::program_over`):
    /// the G must never resume past that call, so it parks for good.
    fn suspended(&mut self) -> Stop {
        self.suspend.get_or_insert(Suspend::Park(PROGRAM_OVER));
        Stop::Suspended
    }

    /// Stops the goroutine at a safepoint to let others run (sysmon asked).
    fn preempted(&mut self) -> String {
        self.suspend = Some(Suspend::Yield);
        String::new()
    }

    /// The stop of an error message that ends the program without
    /// unwinding (`os.Exit`, a fatal error), if it is one.
    fn program_ending(&self, message: &str) -> Option<Stop> {
        if message == "stack overflow" {
            return Some(self.panic(message.into(), true));
        }
        if let Some(text) = message.strip_prefix(FATAL_PREFIX) {
            return Some(self.panic(text.into(), true));
        }
        let code = message.strip_prefix(EXIT_PREFIX)?;
        Some(Stop::Exit(code.parse().unwrap_or(1)))
    }

    /// The end of the program for a failure with no frame to unwind.
    fn top_level_failure(&mut self, message: String) -> Stop {
        if let Some(stop) = self.program_ending(&message) {
            return stop;
        }
        let text = if message == PANIC_VALUE {
            show(Value::from_bits(
                self.gr.cached_regs[PANIC_REG].load(Relaxed),
            ))
        } else {
            message
        };
        self.panic(text, false)
    }

    fn panic(&self, message: String, fatal: bool) -> Stop {
        Stop::Panic(Panic {
            message,
            traceback: traceback(&self.gr.frames),
            kind: if fatal {
                PanicKind::Fatal
            } else {
                PanicKind::Panic
            },
            goroutine: self.gr.id,
            others: Vec::new(),
        })
    }

    /// Pushes the frame of a goroutine's first call (module init, main); the
    /// caller runs it.
    fn call_proto(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        proto: ProtoRef,
        closure: Value,
        base: usize,
        args: &[Value],
    ) -> Result<(), Stop> {
        let regs = self.ensure_regs(base + 1 + args.len() + proto.get().max_registers);
        regs[base].store(closure.bits(), Relaxed);
        for (i, a) in args.iter().enumerate() {
            regs[base + 1 + i].store(a.bits(), Relaxed);
        }
        self.push_frame(p, g, proto, closure, base + 1, base, 0, args.len())
            .map_err(|m| self.panic(m, false))
    }

    /// The register array, grown to at least `n` words.
    fn ensure_regs<'r>(&mut self, n: usize) -> &'r [AtomicU64] {
        if self.gr.cached_regs.len() < n {
            let gr = &mut *self.gr;
            // No safepoint between the copy and the swap: the collector cannot
            // scan the old array after the last store into it.
            let mut cur = gr.regs.regs.lock().expect("register file");
            let grown = new_regs(n.next_power_of_two());
            for (dst, src) in grown.iter().zip(cur.iter()) {
                dst.store(src.load(Relaxed), Relaxed);
            }
            *cur = grown.clone();
            // The old array is retired, not freed: `step` may still hold a
            // reference to it (and stops using it before touching registers
            // again; see `regs_ref`).
            self.rt.reg_bytes.fetch_add(grown.len() * 8, Relaxed);
            let old = std::mem::replace(&mut gr.cached_regs, grown);
            gr.retired_regs.push(old);
        }
        self.regs_ref()
    }

    /// The current register array, borrowed without counting a reference.
    /// Valid for the life of the `Exec`: replaced arrays are retired, never freed.
    fn regs_ref<'r>(&self) -> &'r [AtomicU64] {
        // SAFETY: `cached_regs` and every array it held before live in
        // `self.gr.cached_regs`/`self.gr.retired_regs` until the `Exec` is dropped,
        // and the `Exec` outlives every `step` that uses the reference.
        unsafe { &*Arc::as_ptr(&self.gr.cached_regs) }
    }

    /// The running frame.
    #[inline(always)]
    fn top_frame(&self) -> &Frame {
        let depth = self.gr.frames.len();
        debug_assert!(depth > 0);
        // SAFETY: the interpreter runs only with a frame on the stack (the
        // goroutine's entry frame stays until the goroutine returns, and
        // `step`/`fast::run` are never called after that).
        unsafe { self.gr.frames.get_unchecked(depth - 1) }
    }

    /// The running frame, to save its `pc` at a call.
    #[inline(always)]
    fn top_frame_mut(&mut self) -> &mut Frame {
        let depth = self.gr.frames.len();
        debug_assert!(depth > 0);
        // SAFETY: as for `top_frame`.
        unsafe { self.gr.frames.get_unchecked_mut(depth - 1) }
    }

    /// Loaded function number `proto` (an index into `Vm::protos`).
    fn proto_at(&self, proto: u32) -> ProtoRef {
        ProtoRef::of(&self.vm.protos[proto as usize])
    }

    /// Pushes a frame for `proto` whose `nargs` arguments are at `base..`.
    /// Missing arguments are nil; extra ones are collected into the variadic
    /// parameter's list, or dropped.
    #[allow(clippy::too_many_arguments)]
    fn push_frame(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        proto: ProtoRef,
        closure: Value,
        base: usize,
        ret: usize,
        nres: u8,
        nargs: usize,
    ) -> Res<()> {
        if self.gr.frames.len() >= MAX_FRAMES {
            return Err("stack overflow".into());
        }
        let fp = proto.get();
        // The frame plus the two scratch registers above it (`Defer` uses
        // `max_registers + 1`): see `GState::cached_regs`.
        let regs = self.ensure_regs(base + fp.max_registers.max(nargs) + 2);
        let rest = if fp.variadic {
            let fixed = fp.n_params - 1;
            let extras: Vec<Value> = (fixed..nargs.max(fixed))
                .map(|i| Value::from_bits(regs[base + i].load(Relaxed)))
                .collect();
            // The extras stay in registers (rooted) while the list is allocated.
            Some((
                fixed,
                object::new_list(p, g, &extras, &regs[base + fixed]).map_err(oom)?,
            ))
        } else {
            None
        };
        let from = nargs.min(fp.n_params);
        for r in &regs[base + from..base + fp.nil_top.max(from)] {
            r.store(Value::NIL.bits(), Relaxed);
        }
        if self.vm.regpoison {
            let poison = Value::int_inline(REG_POISON).expect("inline");
            // Arguments beyond the parameters (dropped, or gathered into
            // the variadic list) are dead too.
            let from = fp.nil_top;
            for r in &regs[base + from..base + fp.max_registers] {
                r.store(poison.bits(), Relaxed);
            }
        }
        if let Some((slot, list)) = rest {
            regs[base + slot].store(list.bits(), Relaxed);
        }
        self.push_call_frame(proto, closure, base, ret, nres);
        Ok(())
    }

    /// Pushes the frame of a call whose registers are ready (see
    /// `push_frame` and `enter_inline!`).
    #[inline(always)]
    fn push_call_frame(
        &mut self,
        proto: ProtoRef,
        closure: Value,
        base: usize,
        ret: usize,
        nres: u8,
    ) {
        let defer_mark = self.defer_len();
        self.gr.frames.push(Frame {
            proto,
            closure,
            base,
            pc: 0,
            ret,
            nres,
            defer_mark,
            deferred: false,
        });
    }

    /// Enters closure `callee` (function `child`, `callee_proto` its `get`)
    /// whose `nargs` arguments are at `abs + 1..`, results to `abs`, when
    /// that needs nothing `push_frame` does beyond pushing: no variadic
    /// parameter, no extra arguments, the register array `regs` (the live
    /// one) large enough, the depth limit not reached. Returns whether it
    /// did; the caller's `pc` must already be saved. Used by the dispatch
    /// loops (`enter_inline!`, `fast::run`) to call without leaving them.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn enter_plain(
        &mut self,
        regs: &[AtomicU64],
        child: ProtoRef,
        callee_proto: &FnProto,
        callee: Value,
        abs: usize,
        nargs: usize,
        nres: u8,
    ) -> bool {
        if !self.fits_plain_call(regs, callee_proto, abs, nargs) {
            return false;
        }
        // SAFETY: just checked.
        unsafe { self.enter_fitting(regs, child, callee_proto, callee, abs, nargs, nres) };
        true
    }

    /// `enter_plain` once `fits_plain_call` said yes (`fast::run` checks
    /// first, before it changes anything).
    ///
    /// # Safety
    /// `fits_plain_call(regs, callee_proto, abs, nargs)` holds: the callee's
    /// registers `abs + 1 .. abs + 1 + max_registers` and the spare one
    /// above them are inside `regs`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn enter_fitting(
        &mut self,
        regs: &[AtomicU64],
        child: ProtoRef,
        callee_proto: &FnProto,
        callee: Value,
        abs: usize,
        nargs: usize,
        nres: u8,
    ) {
        let callee_base = abs + 1;
        let first = regs.as_ptr().wrapping_add(callee_base);
        // Only the registers the code may read before writing them (see
        // `FnProto::nil_top`); two at a time: the pair at `nil_top - 1` also
        // clears register `nil_top`, dead at entry (or the spare register
        // above the frame, dead at a call: see `GState::cached_regs`).
        let mut i = nargs;
        while i < callee_proto.nil_top {
            // SAFETY: `callee_base + i + 1 <= callee_base + nil_top <=
            // callee_base + max_registers < regs.len()` (the contract).
            unsafe {
                (*first.add(i)).store(Value::NIL.bits(), Relaxed);
                (*first.add(i + 1)).store(Value::NIL.bits(), Relaxed);
            }
            i += 2;
        }
        self.push_call_frame(child, callee, callee_base, abs, nres);
    }

    /// Whether `enter_plain` would enter this call.
    #[inline(always)]
    fn fits_plain_call(
        &self,
        regs: &[AtomicU64],
        callee_proto: &FnProto,
        abs: usize,
        nargs: usize,
    ) -> bool {
        nargs < callee_proto.plain_args_limit
            && abs + callee_proto.frame_words < regs.len()
            && self.gr.frames.len() < self.plain_call_frames
    }

    /// Returns from the running frame the `n` results at `first..` when
    /// that is plain: no defer record of the frame's, not a deferred call,
    /// a caller below `stop_depth`'s frame. Copies the results to the
    /// caller's window (it lies below the callee's registers; a caller that
    /// takes them all also gets the top of stack set, without the register
    /// array growing: `ret + n < first + n`, inside the callee's frame) and
    /// pops the frame; returns the caller's function, `pc` and base when it
    /// did. The rest is `do_return`'s. `first` is the absolute number of a
    /// register of the running frame (from the `Return`'s verified
    /// operand), and `regs` the live array.
    ///
    /// The caller's frame is read before the results are stored: read
    /// after, the compiler must reload the frame stack through `self` (a
    /// register store is an atomic one), and the next instruction's
    /// operands waited on that chain of loads (fib(35) 0.50 -> 0.44 s,
    /// spectralnorm 1.49 -> 1.42 s, with 1.4% fewer instructions).
    #[inline(always)]
    fn return_plain(
        &mut self,
        regs: &[AtomicU64],
        first: usize,
        n: usize,
        stop_depth: usize,
    ) -> Option<(ProtoRef, usize, usize)> {
        let depth = self.gr.frames.len();
        let frame = self.top_frame();
        let plain = !frame.deferred && self.defer_len() <= frame.defer_mark;
        if !plain || depth <= stop_depth + 1 {
            return None;
        }
        let (ret, nres) = (frame.ret, frame.nres);
        // SAFETY: `depth > stop_depth + 1 >= 1`, so the frame below the
        // running one exists.
        let caller = unsafe { self.gr.frames.get_unchecked(depth - 2) };
        let resume = (caller.proto, caller.pc, caller.base);
        // SAFETY: `depth >= 1` (a frame is running) and `Frame` owns nothing
        // to drop: this is `pop` without its checks.
        unsafe { self.gr.frames.set_len(depth - 1) };
        if nres == 1 && n >= 1 {
            // The common `x := f()`.
            debug_assert!(ret < first && first < regs.len());
            // SAFETY: `first` is a register of the returning frame (the
            // caller's contract: `fast::run` and `step` compute it from a
            // verified operand, below `max_registers`, and a frame's
            // registers lie inside `regs`), and `ret` is a register of
            // its caller, below the callee's base, so below `first`.
            unsafe {
                let v = regs.get_unchecked(first).load(Relaxed);
                regs.get_unchecked(ret).store(v, Relaxed);
            }
        } else if nres != MULTI.0 {
            copy_results(regs, first, n, ret, nres as usize);
        } else {
            // `f(g())`: `ret + n <= first + n`, inside the array already.
            self.move_all_results(first, n, ret);
        }
        Some(resume)
    }

    /// A return to a caller that takes every result (`f(g())`): the `n`
    /// results at `first..` move down to `ret..` (the caller's window lies
    /// below the callee's registers, so a forward copy is safe; the one
    /// exception, a recovered panic's nil from `PANIC_REG`, is a single
    /// value), and the top of stack marks how many there are.
    fn move_all_results(&mut self, first: usize, n: usize, ret: usize) {
        debug_assert!(n <= 1 || first > ret);
        let regs = self.ensure_regs(ret + n + 1);
        for i in 0..n {
            regs[ret + i].store(regs[first + i].load(Relaxed), Relaxed);
        }
        self.gr.top = ret + n;
    }

    fn execute(&mut self, p: &mut P, g: &mut Mutator, stop_depth: usize) -> Result<(), Stop> {
        loop {
            let result = if self.gr.frames.last().is_some_and(|f| f.pc == RETURN_NIL) {
                self.do_return(p, g, None, stop_depth)
            } else {
                self.step(p, g, stop_depth)
            };
            match result {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    if self.suspend.is_some() {
                        if self.nested > 0 {
                            self.park_in_place(p)?;
                            continue;
                        }
                        return Err(Stop::Suspended);
                    }
                }
                // An instruction parked or yielded the goroutine (see
                // `suspend`), or a native gave up because the program is over.
                Err(message) if message.is_empty() => {
                    if self.nested > 0 && self.suspend.is_some() {
                        self.park_in_place(p)?;
                        continue;
                    }
                    return Err(self.suspended());
                }
                Err(message) => {
                    if let Some(stop) = self.program_ending(&message) {
                        return Err(stop);
                    }
                    if self.unwind(p, g, message, stop_depth)? {
                        return Ok(());
                    }
                }
            }
        }
    }

    fn defer_list(&self) -> Option<weft_gc::ObjRef> {
        obj_of(Value::from_bits(
            self.gr.cached_regs[DEFER_REG].load(Relaxed),
        ))
    }

    /// Length of the defer list (kept in step with it: pushes in `Defer`, pops
    /// in `pop_defer`, the only places that change the list).
    fn defer_len(&self) -> usize {
        debug_assert_eq!(
            self.gr.defer_count,
            self.defer_list().map_or(0, object::list_len)
        );
        self.gr.defer_count
    }

    /// Pops the newest defer record (a list: callee, has receiver, receiver, args...).
    fn pop_defer(&mut self, p: &mut P) -> Option<Vec<Value>> {
        let list = self.defer_list()?;
        let n = object::list_len(list);
        let record = obj_of(object::list_get(list, n.checked_sub(1)?)?)?;
        let items = (0..object::list_len(record))
            .filter_map(|i| object::list_get(record, i))
            .collect();
        // The record stays rooted by the list until it is truncated; its values
        // go to registers before any allocation.
        object::list_truncate(p, list, n - 1);
        self.gr.defer_count = n - 1;
        Some(items)
    }

    /// Runs the newest defer record of the top frame as a deferred call.
    /// Returns whether a frame was pushed (a native call runs to completion).
    fn run_defer(&mut self, p: &mut P, g: &mut Mutator, record: Vec<Value>) -> Res<bool> {
        let frame = self.gr.frames.last().expect("a frame");
        let fp = frame.proto.get();
        // Above the frame and its spare register.
        let abs = frame.base + fp.max_registers + 2;
        let (callee, receiver, args) = match record.as_slice() {
            [callee, flag, recv, args @ ..] => (
                *callee,
                (flag.as_bool() == Some(true)).then_some(*recv),
                args.to_vec(),
            ),
            _ => return Ok(false),
        };
        let regs = self.ensure_regs(abs + args.len() + 3);
        for (i, a) in args.iter().enumerate() {
            regs[abs + 1 + i].store(a.bits(), Relaxed);
        }
        let depth = self.gr.frames.len();
        self.call_value(p, g, abs, callee, receiver, args.len(), 0)?;
        if self.gr.frames.len() > depth {
            self.gr.frames.last_mut().expect("deferred frame").deferred = true;
            return Ok(true);
        }
        Ok(false)
    }

    /// Returns from the top frame: first its deferred calls, newest first (the
    /// frame's `pc` is left to retry the return), then the results (nil with
    /// `None`). Returns whether the frame at `stop_depth` has returned.
    fn do_return(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        results: Option<(usize, usize)>,
        stop_depth: usize,
    ) -> Res<bool> {
        let frame = self.gr.frames.last().expect("a frame");
        if self.defer_len() > frame.defer_mark {
            if let Some(record) = self.pop_defer(p) {
                self.run_defer(p, g, record)?;
                return Ok(false);
            }
        }
        let frame = self.gr.frames.pop().expect("a frame");
        let regs = self.regs_ref();
        // After a recovered panic the results are nil: one nil where the caller
        // takes them all (`f(g())`), as `x := g()` would see.
        let (first, n) = results.unwrap_or((PANIC_REG, 0));
        let n = if results.is_none() && frame.nres == MULTI.0 {
            1
        } else {
            n
        };
        if frame.nres != MULTI.0 {
            copy_results(regs, first, n, frame.ret, frame.nres as usize);
        } else {
            self.move_all_results(first, n, frame.ret);
        }
        if frame.deferred && self.gr.panicking.is_some() {
            return Err(CONTINUE_UNWINDING.into());
        }
        Ok(self.gr.frames.len() == stop_depth)
    }

    /// Handles a panic (or resumes one after a deferred call returned): runs
    /// deferred calls frame by frame from the top; a `recover` in one of them
    /// stops the panic and its frame returns nil results. Returns `Ok(true)`
    /// when the frame at `stop_depth` has returned.
    fn unwind(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        message: String,
        stop_depth: usize,
    ) -> Result<bool, Stop> {
        if message != CONTINUE_UNWINDING {
            let regs = self.regs_ref();
            let text = if message == PANIC_VALUE {
                show(Value::from_bits(regs[PANIC_REG].load(Relaxed)))
            } else {
                let v = object::new_string(p, g, message.as_bytes())
                    .map_err(|e| self.panic(oom(e), true))?;
                regs[PANIC_REG].store(v.bits(), Relaxed);
                message
            };
            let traceback = match self.panic(String::new(), false) {
                Stop::Panic(info) => info.traceback,
                Stop::Exit(_) | Stop::Suspended => Vec::new(),
            };
            self.gr.panicking = Some(Panicking {
                message: text,
                traceback,
                recovered: false,
            });
        }
        loop {
            if self.gr.panicking.as_ref().is_some_and(|s| s.recovered) {
                self.gr.panicking = None;
                self.gr.cached_regs[PANIC_REG].store(Value::NIL.bits(), Relaxed);
                // The frame that deferred the recovering call returns nil results.
                if let Some(f) = self.gr.frames.last_mut() {
                    f.pc = RETURN_NIL;
                }
                return Ok(false);
            }
            if self.gr.frames.len() <= stop_depth {
                let state = self.gr.panicking.take().expect("a panic in flight");
                return Err(Stop::Panic(Panic {
                    message: state.message,
                    traceback: state.traceback,
                    kind: PanicKind::Panic,
                    goroutine: self.gr.id,
                    others: Vec::new(),
                }));
            }
            let frame = self.gr.frames.last().expect("a frame");
            if self.defer_len() > frame.defer_mark {
                let record = self.pop_defer(p).expect("a defer record");
                match self.run_defer(p, g, record) {
                    Ok(true) => return Ok(false),
                    Ok(false) if self.suspend.is_some() => {
                        // A deferred native parked the goroutine: unwinding
                        // goes on when it runs again. Inside a callback
                        // from native code it parks in place and goes on
                        // here (returning would leave the native's frame).
                        if self.nested > 0 {
                            self.park_in_place(p)?;
                            continue;
                        }
                        self.gr.resume_unwind = true;
                        return Err(Stop::Suspended);
                    }
                    Ok(false) => continue,
                    Err(m) if m == CONTINUE_UNWINDING => continue,
                    Err(m) => return self.unwind(p, g, m, stop_depth),
                }
            }
            self.gr.frames.pop();
        }
    }

    /// Runs instructions until the frame at `stop_depth` returns (true) or
    /// something needs the outer loop (false). Errors are panic messages.
    fn step(&mut self, p: &mut P, g: &mut Mutator, stop_depth: usize) -> Res<bool> {
        // The running frame's state lives in locals; the two every
        // instruction uses are raw pointers: `ip` the next instruction, `fp`
        // the frame's first register (one dependent add and load fewer per
        // dispatch than `code[pc]` and `regs[base + r]`; in this function
        // the compiler still keeps them in stack slots, hence `fast::run`).
        // Both are recomputed whenever the frame (`reload!`,
        // `enter_inline!`) or the register array (`set_regs!`) changes;
        // `code`, `base` and `regs` stay for the cold paths.
        let mut regs = self.regs_ref();
        let f = self.gr.frames.last().expect("a frame is running");
        let mut proto = f.proto.get();
        let mut code: &[Op] = &proto.code;
        let mut base = f.base;
        let mut ip: *const Op = code.as_ptr().wrapping_add(f.pc);
        let mut fp: *const AtomicU64 = regs.as_ptr().wrapping_add(base);
        // The index of the next instruction (what a frame saves as `pc`).
        macro_rules! pc {
            () => {
                fast::pc_of(proto, ip)
            };
        }
        // The register array was replaced (it grew): `fp` follows it.
        macro_rules! set_regs {
            () => {{
                regs = self.regs_ref();
                // Not read on every path that follows (some leave the loop).
                #[allow(unused_assignments)]
                {
                    fp = regs.as_ptr().wrapping_add(base);
                }
            }};
        }
        // A taken jump by `off` instructions from the next one.
        macro_rules! jump {
            ($off:expr) => {
                ip = ip.wrapping_offset($off as isize)
            };
        }
        // Register access. A register named by an operand of the running
        // instruction (`r!(a.0)`: the `Reg` itself, no arithmetic) is read
        // without a bounds check; anything else (`a.0 + 1`, a loop index) is
        // checked.
        macro_rules! r {
            ($reg:ident . 0) => {{
                let reg: Reg = $reg;
                // SAFETY: every `Reg` operand is below its function's
                // `max_registers` (lang::verify, run by `Vm::load` on every
                // module), and the running frame's registers
                // `base..=base + max_registers` lie inside `regs` (see
                // `GState::cached_regs`: pushing a frame makes them exist, the
                // array never shrinks, `regs` is the array as it was at or
                // after this frame's push); `fp` is `regs`' element `base`.
                unsafe { &*fp.add(reg.0 as usize) }
            }};
            ($i:expr) => {
                &regs[base + $i as usize]
            };
        }
        // Constant `k` of the running function (a `Kst` operand of the
        // running instruction), unchecked like registers.
        macro_rules! konst {
            ($k:ident) => {{
                let k: Kst = $k;
                // SAFETY: every `Kst` operand is below the length of its
                // function's constant table (lang::verify, run by `Vm::load`),
                // and `FnProto::consts` has one value per constant.
                unsafe { *proto.consts.get_unchecked(k.0 as usize) }
            }};
        }
        macro_rules! get {
            ($($i:tt)*) => {
                Value::from_bits(r!($($i)*).load(Relaxed))
            };
        }
        // Switches to the frame now on top (after a call or a return).
        macro_rules! reload {
            () => {{
                let f = self.gr.frames.last().expect("a frame is running");
                proto = f.proto.get();
                code = &proto.code;
                base = f.base;
                ip = code.as_ptr().wrapping_add(f.pc);
                set_regs!();
            }};
        }
        macro_rules! set {
            ($reg:ident . 0, $v:expr) => {
                r!($reg.0).store(($v).bits(), Relaxed)
            };
            ($i:expr, $v:expr) => {
                regs[base + $i as usize].store(($v).bits(), Relaxed)
            };
        }
        macro_rules! save_pc {
            () => {
                self.gr.frames.last_mut().expect("frame").pc = pc!()
            };
        }
        // A loop's back edge (`pc` already at the target): a safepoint, and
        // the place a goroutine past its time slice yields.
        macro_rules! back_edge {
            () => {
                p.safepoint();
                if self.preempt.load(Relaxed) && self.nested == 0 {
                    save_pc!();
                    return Err(self.preempted());
                }
            };
        }
        // A call instruction's safepoint (a recursion has no back edge): a
        // goroutine past its time slice yields before the call, which runs
        // again when it resumes.
        macro_rules! call_poll {
            () => {
                p.safepoint();
                if self.preempt.load(Relaxed) && self.nested == 0 {
                    ip = ip.wrapping_sub(1);
                    save_pc!();
                    return Err(self.preempted());
                }
            };
        }
        // Enters closure `$callee` (prototype `$fp`, number `$child`) whose
        // `$nargs` arguments are at `$abs + 1..`, results to `$abs`, without
        // leaving this loop when `enter_plain` can; otherwise does nothing.
        macro_rules! enter_inline {
            ($child:expr, $fp:expr, $callee:expr, $abs:expr, $nargs:expr, $nres:expr) => {{
                let callee_proto: &FnProto = $fp;
                let abs: usize = $abs;
                if self.enter_plain(regs, $child, callee_proto, $callee, abs, $nargs, $nres) {
                    proto = callee_proto;
                    code = &callee_proto.code;
                    base = abs + 1;
                    ip = code.as_ptr();
                    fp = regs.as_ptr().wrapping_add(base);
                    continue;
                }
            }};
        }
        loop {
            // The common instructions first, in the fast loop (see
            // `interp::fast`); it returns at the first one it leaves to us.
            // SAFETY: `ip` points into `code`, as for the fetch below.
            if fast::handles(unsafe { &*ip }) {
                debug_assert!(
                    regs.as_ptr_range().contains(&fp) && std::ptr::eq(regs, self.regs_ref()),
                    "fp lies in the current register array"
                );
                // The one flag the fast loop tests at calls and back
                // edges: the P's preemption flag, which a stop-the-world
                // sets too (`Heap::set_stop_flags`). Inside a native
                // callback `step` does not yield: there the heap's own
                // stop flag, which only a stop-the-world sets.
                let safepoint_flag = if self.nested == 0 {
                    self.preempt
                } else {
                    // SAFETY: the flag is the heap's, and the heap outlives
                    // the P this function borrows.
                    unsafe { &*p.safepoint_flag() }
                };
                // SAFETY: `ip` is an instruction of `proto`'s code and `fp`
                // the running frame's first register with the frame's
                // registers in the live array (see `r!`); `proto` was
                // verified by `Vm::load`.
                let (stopped_at, switched) =
                    unsafe { fast::run(self, ip, fp, proto, p, g, safepoint_flag, stop_depth) };
                // A native it called failed or parked the goroutine (the
                // frame saved its `pc` before the call).
                if let Some(stop) = self.native_stop.take() {
                    return Err(stop);
                }
                if switched {
                    // It called, returned or called a native: the frame on
                    // top saved its `pc`.
                    reload!();
                } else {
                    ip = stopped_at;
                }
            }
            // SAFETY: `ip` points into `code`: the verifier (run by
            // `Vm::load`) proved every jump target inside the function and
            // the last instruction a `Return` or `Jmp` (nothing falls off the
            // end), and a frame's saved `pc` is an instruction of it
            // (`RETURN_NIL` frames never reach `step`: `execute` returns them
            // first).
            // A reference, as in `fast::run`: each arm reads its operands.
            let op: &Op = unsafe { &*ip };
            ip = ip.wrapping_add(1);
            match *op {
                Op::Nop {} => {}
                Op::Move { a, b } => set!(a.0, get!(b.0)),
                Op::LoadK { a, k } => set!(a.0, konst!(k)),
                Op::LoadInt { a, v } => {
                    set!(a.0, Value::int_inline(v.0 as i64).expect("i32 fits inline"))
                }
                Op::LoadNil { a, n } => {
                    for i in 0..=n.0 as usize {
                        regs[base + a.0 as usize + i].store(Value::NIL.bits(), Relaxed);
                    }
                }
                Op::LoadBool { a, v } => set!(a.0, Value::bool(v.0)),
                Op::GetGlobal { a, g: gi } => {
                    let v = module_globals(proto)
                        .get(gi.0 as usize)
                        .map_or(Value::NIL, |slot| Value::from_bits(slot.load(Relaxed)));
                    set!(a.0, v);
                }
                Op::SetGlobal { g: gi, b } => {
                    if let Some(slot) = module_globals(proto).get(gi.0 as usize) {
                        p.write_slot(slot, get!(b.0).bits());
                    }
                }
                Op::GetUpval { a, u } => {
                    let cell = upvalue_cell(self.gr.frames.last().expect("frame").closure, u.0);
                    set!(a.0, cell.map_or(Value::NIL, object::cell_get));
                }
                Op::SetUpval { u, b } => {
                    if let Some(cell) =
                        upvalue_cell(self.gr.frames.last().expect("frame").closure, u.0)
                    {
                        object::cell_set(p, cell, get!(b.0));
                    }
                }
                Op::NewCell { a, b } => {
                    save_pc!();
                    let v = object::new_cell(p, g, get!(b.0)).map_err(oom)?;
                    set!(a.0, v);
                }
                Op::NewCellNil { a } => {
                    save_pc!();
                    let v = object::new_cell(p, g, Value::NIL).map_err(oom)?;
                    set!(a.0, v);
                }
                Op::GetCell { a, b } => {
                    set!(a.0, obj_of(get!(b.0)).map_or(Value::NIL, object::cell_get))
                }
                Op::SetCell { a, b } => {
                    if let Some(cell) = obj_of(get!(a.0)) {
                        object::cell_set(p, cell, get!(b.0));
                    }
                }
                Op::Closure { a, p: pi } => {
                    save_pc!();
                    let child = proto.protos[pi.0 as usize];
                    let cp = self.vm.protos[child as usize].clone();
                    let parent_closure = self.gr.frames.last().expect("frame").closure;
                    let obj = p
                        .alloc(g, Kind::Closure.type_id(), (2 + cp.upvalues.len()) * 8)
                        .map_err(oom)?;
                    // SAFETY: just allocated and reachable from the register it is stored in below.
                    let s = unsafe { obj.slots() };
                    s[0].store(ProtoRef::of(&cp).to_word(), Relaxed);
                    s[1].store(proto.module as u64, Relaxed);
                    for (i, &(from_local, idx)) in cp.upvalues.iter().enumerate() {
                        let cell = if from_local {
                            get!(idx)
                        } else {
                            upvalue_cell(parent_closure, idx)
                                .map_or(Value::NIL, |c| Value::object(c.addr()))
                        };
                        p.write_slot(&s[2 + i], cell.bits());
                    }
                    set!(a.0, Value::object(obj.addr()));
                }
                Op::GetBuiltin { a, f: fi } => set!(a.0, self.vm.builtins[fi.0 as usize]),
                Op::Convert { a, f: fi } => {
                    let abs = base + a.0 as usize;
                    let callee = self.vm.builtins[fi.0 as usize];
                    let x = Value::from_bits(regs[abs + 1].load(Relaxed));
                    if let Some(v) = numeric_conversion(callee, x) {
                        set!(a.0, v);
                        continue;
                    }
                    // str of an inline int or of a string, as the builtin
                    // does them, without its call (the builtin is found
                    // by name there).
                    if fi.0 as usize == BUILTIN_STR {
                        if let Some(i) = x.as_inline_int() {
                            save_pc!();
                            let mut buf = [0u8; 20];
                            let v =
                                object::new_string(p, g, format_int(i, &mut buf)).map_err(oom)?;
                            set!(a.0, v);
                            continue;
                        }
                        if object::kind_of(x) == Some(Kind::Str) {
                            set!(a.0, x);
                            continue;
                        }
                    }
                    // Anything else (str(x), a conversion error): the
                    // builtin's own call, as `GetBuiltin` + `Call` made it.
                    save_pc!();
                    set!(a.0, callee);
                    self.call_value(p, g, abs, callee, None, 1, 1)?;
                    return Ok(false);
                }
                Op::Import { a, i } => {
                    let m = &self.vm.modules[proto.module as usize];
                    match &m.imports[i.0 as usize] {
                        ImportTarget::File(idx) => set!(a.0, self.vm.modules[*idx].value),
                        ImportTarget::Std(path) => match self.vm.std_modules.get(&**path) {
                            Some(v) => set!(a.0, *v),
                            None => {
                                return Err(format!(
                                    "package {path} is not implemented yet in this interpreter"
                                ))
                            }
                        },
                    }
                }
                Op::NewList { a, b, n } => {
                    save_pc!();
                    let items: Vec<Value> =
                        (0..n.0 as usize).map(|i| get!(b.0 + i as u8)).collect();
                    let v =
                        object::new_list(p, g, &items, &regs[base + a.0 as usize]).map_err(oom)?;
                    set!(a.0, v);
                }
                Op::GetIndex { a, b, c } => {
                    let (container, i) = (get!(b.0), get!(c.0));
                    let v = match list_slot(container, i) {
                        Some(slot) => Value::from_bits(slot.load(Relaxed)),
                        None => index(container, i)?,
                    };
                    set!(a.0, v);
                }
                Op::GetIndexOk { a, b, c } => {
                    let m = get!(b.0);
                    let (v, ok) = match object::kind_of(m) {
                        Some(Kind::Map) => {
                            match object::map_get(obj_of(m).expect("map"), get!(c.0)) {
                                Ok(found) => (found.unwrap_or(Value::NIL), found.is_some()),
                                Err(e) => {
                                    return rt_err(format!("hash of unhashable type {}", e.0))
                                }
                            }
                        }
                        _ if m.is_nil() => (Value::NIL, false),
                        _ => (index(m, get!(c.0))?, true),
                    };
                    set!(a.0, v);
                    set!(a.0 + 1, Value::bool(ok));
                }
                Op::GetIndexZero { a, b, c, d } => {
                    let m = get!(b.0);
                    let v = match object::kind_of(m) {
                        Some(Kind::Map) => {
                            match object::map_get(obj_of(m).expect("map"), get!(c.0)) {
                                Ok(Some(v)) => v,
                                // Go's counting idiom: a missing key starts from the zero value
                                // of the right operand's type.
                                Ok(None) => zero_like(p, g, get!(d.0), &regs[base + a.0 as usize])?,
                                Err(e) => {
                                    return rt_err(format!("hash of unhashable type {}", e.0))
                                }
                            }
                        }
                        _ => index(m, get!(c.0))?,
                    };
                    set!(a.0, v);
                }
                Op::NewMap { a, n } => {
                    save_pc!();
                    let v = object::new_map(p, g, n.0 as usize, &regs[base + a.0 as usize])
                        .map_err(oom)?;
                    set!(a.0, v);
                }
                Op::SetIndex { a, b, c } => {
                    let list = get!(a.0);
                    let i = get!(b.0);
                    if let Some(slot) = list_slot(list, i) {
                        p.write_slot(slot, get!(c.0).bits());
                        continue;
                    }
                    if object::kind_of(list) == Some(Kind::Map) {
                        save_pc!();
                        let m = obj_of(list).expect("map");
                        if let Err(e) = object::map_set(p, g, m, i, get!(c.0)).map_err(oom)? {
                            return rt_err(format!("hash of unhashable type {}", e.0));
                        }
                        continue;
                    }
                    if list.is_nil() {
                        return Err("assignment to entry in nil map".into());
                    }
                    match (object::kind_of(list), object::int_of(i)) {
                        (Some(Kind::List), Some(i)) => {
                            let l = obj_of(list).expect("list");
                            if i < 0 || !object::list_set(p, l, i as usize, get!(c.0)) {
                                return rt_err(index_message(i, object::list_len(l)));
                            }
                        }
                        _ => return rt_err(format!("cannot index {}", type_name(list))),
                    }
                }
                Op::Append { a, b, n } => {
                    save_pc!();
                    let items: Vec<Value> =
                        (1..=n.0 as usize).map(|i| get!(b.0 + i as u8)).collect();
                    let v = append(p, g, get!(b.0), &items, &regs[base + a.0 as usize])?;
                    set!(a.0, v);
                }
                Op::RangePrep { a } => {
                    let c = get!(a.0);
                    let iterable = c.is_nil()
                        || object::int_of(c).is_some()
                        || matches!(
                            object::kind_of(c),
                            Some(Kind::List | Kind::Str | Kind::Map | Kind::Chan)
                        );
                    if !iterable {
                        return Err(format!(
                            "cannot range over {} (type {})",
                            show(c),
                            type_name(c)
                        ));
                    }
                    set!(a.0 + 1, Value::int_inline(0).expect("zero"));
                }
                Op::RangeNext { a, off } => {
                    let c = get!(a.0);
                    if object::kind_of(c) == Some(Kind::Chan) {
                        // Receives until the channel is closed and drained.
                        save_pc!();
                        let dst = base + a.0 as usize + 2;
                        if !self.op_recv(p, c, dst, usize::MAX, pc!() - 1)? {
                            jump!(off.0);
                        }
                        continue;
                    }
                    let state = get!(a.0 + 1).as_inline_int().unwrap_or(0);
                    let next = range_next(c, state);
                    match next {
                        Some((key, value, new_state)) => {
                            set!(a.0 + 1, Value::int_inline(new_state).expect("index fits"));
                            set!(a.0 + 2, key);
                            set!(a.0 + 3, value);
                        }
                        None => jump!(off.0),
                    }
                }
                Op::MakeChan { a, b } => {
                    save_pc!();
                    let size = get!(b.0);
                    let cap = if size.is_nil() {
                        0
                    } else {
                        match object::int_of(size) {
                            Some(n) if (0..=1 << 40).contains(&n) => n as usize,
                            _ => return rt_err("makechan: size out of range"),
                        }
                    };
                    let v = object::new_chan(p, g, cap, &regs[base + a.0 as usize]).map_err(oom)?;
                    set!(a.0, v);
                }
                Op::Send { a, b } => {
                    save_pc!();
                    self.op_send(p, get!(a.0), base + b.0 as usize, pc!() - 1)?;
                }
                Op::Recv { a, b } => {
                    save_pc!();
                    let dst = base + a.0 as usize;
                    self.op_recv(p, get!(b.0), dst, usize::MAX, pc!() - 1)?;
                }
                Op::RecvOk { a, b } => {
                    save_pc!();
                    let dst = base + a.0 as usize;
                    self.op_recv(p, get!(b.0), dst, dst + 1, pc!() - 1)?;
                }
                Op::Select { a, s: sel } => {
                    save_pc!();
                    let (cases, has_default) = &proto.selects[sel.0 as usize];
                    self.op_select(p, base + a.0 as usize, cases, *has_default, pc!() - 1)?;
                }
                Op::Go { a, nargs, spread }
                | Op::GoMethod {
                    a, nargs, spread, ..
                } => {
                    save_pc!();
                    let abs = base + a.0 as usize;
                    let nargs = if spread.0 {
                        self.spread_args(abs, nargs)?
                    } else if nargs == MULTI {
                        self.gr.top.saturating_sub(abs + 1)
                    } else {
                        nargs.0 as usize
                    };
                    // The spread may have grown the register array.
                    reload!();
                    let target = get!(a.0);
                    let (callee, receiver) = match *op {
                        Op::GoMethod { k, .. } => {
                            let name: &[u8] = &proto.const_strs[k.0 as usize];
                            let scratch = &self.regs_ref()[base + proto.max_registers];
                            self.resolve_method(
                                p,
                                g,
                                target,
                                name,
                                proto.consts[k.0 as usize],
                                scratch,
                            )?
                        }
                        _ => (target, None),
                    };
                    self.op_go(p, g, abs, callee, receiver, nargs)?;
                }
                Op::Slice { a, b, c } => {
                    save_pc!();
                    let v = slice(
                        p,
                        g,
                        get!(b.0),
                        get!(c.0),
                        get!(c.0 + 1),
                        &regs[base + a.0 as usize],
                    )?;
                    set!(a.0, v);
                }
                Op::Len { a, b } => {
                    let n = length(get!(b.0))?;
                    set!(
                        a.0,
                        Value::int_inline(n as i64).expect("lengths fit inline")
                    );
                }
                Op::Add { a, b, c } => {
                    let (x, y) = (get!(b.0), get!(c.0));
                    if let (Some(i), Some(j)) = (x.as_inline_int(), y.as_inline_int()) {
                        let v = object::new_int(p, g, i.wrapping_add(j)).map_err(oom)?;
                        set!(a.0, v);
                    } else if let (Some(fx), Some(fy)) = (x.as_float(), y.as_float()) {
                        set!(a.0, Value::float(fx + fy));
                    } else {
                        save_pc!();
                        let v = add_slow(p, g, x, y)?;
                        set!(a.0, v);
                    }
                }
                Op::AddInt { a, b, v } => {
                    let x = get!(b.0);
                    match x
                        .as_inline_int()
                        .and_then(|i| Value::int_inline(i + v.0 as i64))
                    {
                        Some(r) => set!(a.0, r),
                        None => {
                            save_pc!();
                            let r = arith_values(
                                p,
                                g,
                                ArithOp::Add,
                                x,
                                Value::int_inline(v.0 as i64).expect("fits"),
                            )?;
                            set!(a.0, r);
                        }
                    }
                }
                Op::Sub { a, b, c } => binop(p, g, r!(a.0), get!(b.0), get!(c.0), ArithOp::Sub)?,
                Op::MulInt { a, b, v } => binop_imm(p, g, r!(a.0), get!(b.0), v.0, ArithOp::Mul)?,
                Op::ModInt { a, b, v } => binop_imm(p, g, r!(a.0), get!(b.0), v.0, ArithOp::Mod)?,
                Op::DivInt { a, b, v } => binop_imm(p, g, r!(a.0), get!(b.0), v.0, ArithOp::Div)?,
                Op::Mul { a, b, c } => binop(p, g, r!(a.0), get!(b.0), get!(c.0), ArithOp::Mul)?,
                Op::Div { a, b, c } => binop(p, g, r!(a.0), get!(b.0), get!(c.0), ArithOp::Div)?,
                Op::Mod { a, b, c } => binop(p, g, r!(a.0), get!(b.0), get!(c.0), ArithOp::Mod)?,
                Op::BitAnd { a, b, c } => {
                    binop(p, g, r!(a.0), get!(b.0), get!(c.0), ArithOp::BitAnd)?
                }
                Op::BitOr { a, b, c } => {
                    binop(p, g, r!(a.0), get!(b.0), get!(c.0), ArithOp::BitOr)?
                }
                Op::BitXor { a, b, c } => {
                    binop(p, g, r!(a.0), get!(b.0), get!(c.0), ArithOp::BitXor)?
                }
                Op::AndNot { a, b, c } => {
                    binop(p, g, r!(a.0), get!(b.0), get!(c.0), ArithOp::AndNot)?
                }
                Op::Shl { a, b, c } => binop(p, g, r!(a.0), get!(b.0), get!(c.0), ArithOp::Shl)?,
                Op::Shr { a, b, c } => binop(p, g, r!(a.0), get!(b.0), get!(c.0), ArithOp::Shr)?,
                Op::Neg { a, b } => {
                    let v = match num(get!(b.0)) {
                        Some(Num::Int(i)) => {
                            object::new_int(p, g, i.wrapping_neg()).map_err(oom)?
                        }
                        Some(Num::Float(f)) => Value::float(-f),
                        None => {
                            return rt_err(format!("invalid operation: -{}", type_name(get!(b.0))))
                        }
                    };
                    set!(a.0, v);
                }
                Op::BitNot { a, b } => match object::int_of(get!(b.0)) {
                    Some(i) => {
                        let v = object::new_int(p, g, !i).map_err(oom)?;
                        set!(a.0, v);
                    }
                    None => {
                        return Err(format!(
                            "invalid operation: ^{} (type {})",
                            show(get!(b.0)),
                            type_name(get!(b.0))
                        ))
                    }
                },
                Op::Plus { a, b } => match num(get!(b.0)) {
                    Some(_) => set!(a.0, get!(b.0)),
                    None => {
                        return Err(format!(
                            "invalid operation: +{} (type {})",
                            show(get!(b.0)),
                            type_name(get!(b.0))
                        ))
                    }
                },
                Op::AppendSpread { a, b } => {
                    save_pc!();
                    let extra = get!(b.0 + 1);
                    let root = &regs[base + a.0 as usize];
                    // A list's elements are read from it as they are stored
                    // (a copy taken first would hold values a racing writer
                    // could leave rooted by nothing while the destination's
                    // growth stops at safepoints); nil spreads nothing.
                    let v = match object::obj_of_kind(extra, Kind::List) {
                        Some(src) => append_list(p, g, get!(b.0), src, root)?,
                        None => {
                            let nothing = spread_items(extra, "append")?;
                            append(p, g, get!(b.0), &nothing, root)?
                        }
                    };
                    set!(a.0, v);
                }
                Op::CallSpread { a, nargs, nres } => {
                    call_poll!();
                    save_pc!();
                    let abs = base + a.0 as usize;
                    let nargs = self.spread_args(abs, nargs)?;
                    // The spread may have grown the register array.
                    set_regs!();
                    let callee = get!(a.0);
                    self.call_value(p, g, abs, callee, None, nargs, nres.0)?;
                    return Ok(false);
                }
                Op::Not { a, b } => match get!(b.0).as_bool() {
                    Some(x) => set!(a.0, Value::bool(!x)),
                    None => {
                        return rt_err(format!("invalid operation: ! of {}", type_name(get!(b.0))))
                    }
                },
                Op::Eq { a, b, c } => set!(a.0, Value::bool(values_equal(get!(b.0), get!(c.0)))),
                Op::Ne { a, b, c } => set!(a.0, Value::bool(!values_equal(get!(b.0), get!(c.0)))),
                Op::Lt { a, b, c } => set!(
                    a.0,
                    Value::bool(compare(get!(b.0), get!(c.0))? == Some(Ordering::Less))
                ),
                Op::Le { a, b, c } => {
                    let o = compare(get!(b.0), get!(c.0))?;
                    set!(
                        a.0,
                        Value::bool(matches!(o, Some(Ordering::Less | Ordering::Equal)))
                    )
                }
                Op::Jmp { off } => {
                    jump!(off.0);
                    if off.0 < 0 {
                        back_edge!();
                    }
                }
                Op::JmpIf { a, off } | Op::JmpIfNot { a, off } => {
                    let want = matches!(*op, Op::JmpIf { .. });
                    match get!(a.0).as_bool() {
                        Some(x) if x == want => {
                            jump!(off.0);
                            if off.0 < 0 {
                                back_edge!();
                            }
                        }
                        Some(_) => {}
                        None => {
                            return Err(format!(
                                "non-bool {} (type {}) used as condition",
                                show(get!(a.0)),
                                type_name(get!(a.0))
                            ))
                        }
                    }
                }
                Op::JmpLt { a, b, off }
                | Op::JmpNotLt { a, b, off }
                | Op::JmpLe { a, b, off }
                | Op::JmpNotLe { a, b, off } => {
                    let (x, y) = (get!(a.0), get!(b.0));
                    let holds = match (x.as_inline_int(), y.as_inline_int()) {
                        (Some(i), Some(j)) => match *op {
                            Op::JmpLt { .. } | Op::JmpNotLt { .. } => i < j,
                            _ => i <= j,
                        },
                        _ => {
                            let o = compare(x, y)?;
                            match *op {
                                Op::JmpLt { .. } | Op::JmpNotLt { .. } => o == Some(Ordering::Less),
                                _ => matches!(o, Some(Ordering::Less | Ordering::Equal)),
                            }
                        }
                    };
                    let jump_when = matches!(*op, Op::JmpLt { .. } | Op::JmpLe { .. });
                    if holds == jump_when {
                        jump!(off.0);
                        if off.0 < 0 {
                            back_edge!();
                        }
                    }
                }
                Op::JmpLtK { a, k, off }
                | Op::JmpNotLtK { a, k, off }
                | Op::JmpLeK { a, k, off }
                | Op::JmpNotLeK { a, k, off }
                | Op::JmpGtK { a, k, off }
                | Op::JmpNotGtK { a, k, off }
                | Op::JmpGeK { a, k, off }
                | Op::JmpNotGeK { a, k, off } => {
                    if compare_k(*op, get!(a.0), konst!(k))? {
                        jump!(off.0);
                        if off.0 < 0 {
                            back_edge!();
                        }
                    }
                }
                Op::IncJmpLtK { a, off, .. } | Op::IncJmpLt { a, off, .. } => {
                    // Reached when the fast loop left it: a value that is
                    // not an inline int, an overflow, or a safepoint due.
                    save_pc!();
                    let next = add_one(p, g, get!(a.0))?;
                    set!(a.0, next);
                    let bound = match *op {
                        Op::IncJmpLtK { k, .. } => konst!(k),
                        Op::IncJmpLt { b, .. } => get!(b.0),
                        _ => unreachable!("matched above"),
                    };
                    let order = match (next.as_inline_int(), bound.as_inline_int()) {
                        (Some(i), Some(j)) => Some(i.cmp(&j)),
                        _ => compare(next, bound)?,
                    };
                    if order == Some(Ordering::Less) {
                        jump!(off.0);
                        if off.0 < 0 {
                            back_edge!();
                        }
                    }
                }
                Op::JmpEqK { a, k, off } | Op::JmpNeK { a, k, off } => {
                    let eq = values_equal(get!(a.0), konst!(k));
                    if eq == matches!(*op, Op::JmpEqK { .. }) {
                        jump!(off.0);
                        if off.0 < 0 {
                            back_edge!();
                        }
                    }
                }
                Op::JmpEq { a, b, off } | Op::JmpNe { a, b, off } => {
                    let eq = values_equal(get!(a.0), get!(b.0));
                    if eq == matches!(*op, Op::JmpEq { .. }) {
                        jump!(off.0);
                        if off.0 < 0 {
                            back_edge!();
                        }
                    }
                }
                Op::Call { a, nargs, nres } | Op::CallGlobal { a, nargs, nres, .. } => {
                    call_poll!();
                    save_pc!();
                    if let Op::CallGlobal { g: gi, .. } = op {
                        // After the poll: a preempted call runs again whole.
                        let v = module_globals(proto)
                            .get(gi.0 as usize)
                            .map_or(Value::NIL, |slot| Value::from_bits(slot.load(Relaxed)));
                        set!(a.0, v);
                    }
                    let callee = get!(a.0);
                    let abs = base + a.0 as usize;
                    let nargs = if nargs == MULTI {
                        self.gr.top.saturating_sub(abs + 1)
                    } else {
                        nargs.0 as usize
                    };
                    if let Some(child) = closure_proto(callee) {
                        // Continue in the callee without leaving this loop.
                        enter_inline!(child, child.get(), callee, abs, nargs, nres.0);
                        self.push_frame(p, g, child, callee, abs + 1, abs, nres.0, nargs)?;
                        reload!();
                        continue;
                    }
                    // float(x) and int(x) of a number, inline (they sit in hot loops).
                    if nargs == 1 && nres.0 <= 1 {
                        if let Some(v) = numeric_conversion(
                            callee,
                            Value::from_bits(regs[abs + 1].load(Relaxed)),
                        ) {
                            regs[abs].store(v.bits(), Relaxed);
                            continue;
                        }
                    }
                    self.call_value(p, g, abs, callee, None, nargs, nres.0)?;
                    return Ok(false);
                }
                Op::CallMethod { a, k, nargs, nres }
                | Op::CallMethodSpread { a, k, nargs, nres } => {
                    call_poll!();
                    save_pc!();
                    let recv = get!(a.0);
                    let name = || -> &[u8] { &proto.const_strs[k.0 as usize] };
                    let abs = base + a.0 as usize;
                    let nargs = if matches!(*op, Op::CallMethodSpread { .. }) {
                        self.spread_args(abs, nargs)?
                    } else if nargs == MULTI {
                        self.gr.top.saturating_sub(abs + 1)
                    } else {
                        nargs.0 as usize
                    };
                    // The spread may have grown the register array (the
                    // outer binding: the macros, `enter_inline!` among
                    // them, read it).
                    set_regs!();
                    match object::kind_of(recv) {
                        Some(Kind::Instance) => {
                            let inst = obj_of(recv).expect("instance");
                            let ty = instance_type(inst);
                            let cache = &proto.inline_cache[pc!() - 1];
                            match ty.and_then(|t| cached_member(cache, t, name)) {
                                Some(Member::Field(i)) => {
                                    let f = instance_field(inst, i);
                                    self.call_value(p, g, abs, f, None, nargs, nres.0)?;
                                }
                                Some(Member::Method(m)) => {
                                    if let (Op::CallMethod { .. }, Some(child)) =
                                        (op, closure_proto(m))
                                    {
                                        // A method defined in Weft: the
                                        // receiver goes before the arguments
                                        // and the callee runs in this loop.
                                        let method_proto = child.get();
                                        if abs + nargs + 2 < regs.len() {
                                            insert_receiver(regs, abs, nargs, recv, m);
                                            enter_inline!(
                                                child,
                                                method_proto,
                                                m,
                                                abs,
                                                nargs + 1,
                                                nres.0
                                            );
                                            self.push_frame(
                                                p,
                                                g,
                                                child,
                                                m,
                                                abs + 1,
                                                abs,
                                                nres.0,
                                                nargs + 1,
                                            )?;
                                            reload!();
                                            continue;
                                        }
                                    }
                                    self.call_value(p, g, abs, m, Some(recv), nargs, nres.0)?;
                                }
                                None => return Err(no_field(recv, name())),
                            }
                        }
                        Some(Kind::Module) => {
                            let f = self.module_member(recv, name())?;
                            self.call_value(p, g, abs, f, None, nargs, nres.0)?;
                        }
                        Some(kind @ (Kind::StdModule | Kind::Opaque)) => {
                            let cache = &proto.inline_cache[pc!() - 1];
                            // A native object's method is its module's function
                            // `Type.Method`, called with the object first.
                            let (f, first) = if kind == Kind::StdModule {
                                (self.native_function(recv, name(), cache)?, abs + 1)
                            } else {
                                (self.opaque_method(recv, name(), cache)?, abs)
                            };
                            self.native_args_end(abs + 1 + nargs);
                            let mut buf = [Value::NIL; 8];
                            let spilled: Vec<Value>;
                            let count = abs + 1 + nargs - first;
                            let args: &[Value] = if count <= buf.len() {
                                for (slot, w) in buf.iter_mut().zip(&regs[first..first + count]) {
                                    *slot = Value::from_bits(w.load(Relaxed));
                                }
                                &buf[..count]
                            } else {
                                spilled = regs[first..first + count]
                                    .iter()
                                    .map(|w| Value::from_bits(w.load(Relaxed)))
                                    .collect();
                                &spilled
                            };
                            let results = self.call_native_fn(p, g, f, args)?;
                            self.store_results(abs, nres.0, &results);
                            if self.suspend.is_some() {
                                // The native parks the goroutine (a lock, a sleep).
                                return Err(String::new());
                            }
                            // Stay in the loop: the frame is unchanged (the
                            // register array may have grown).
                            reload!();
                            continue;
                        }
                        _ => {
                            self.native_args_end(abs + 1 + nargs);
                            let args: Vec<Value> = (0..nargs)
                                .map(|i| Value::from_bits(regs[abs + 1 + i].load(Relaxed)))
                                .collect();
                            let results = self.call_module_function(p, g, recv, name(), &args)?;
                            self.store_results(abs, nres.0, &results);
                        }
                    }
                    return Ok(false);
                }
                Op::NewType { a, t } => {
                    save_pc!();
                    let (name, fields) = proto.types[t.0 as usize].clone();
                    let spare = &regs[base + proto.max_registers];
                    let v =
                        new_struct_type(p, g, &name, &fields, &regs[base + a.0 as usize], spare)?;
                    set!(a.0, v);
                }
                Op::SetMethod { a, k, b } => {
                    save_pc!();
                    let Some(ty) = obj_of(get!(a.0))
                        .filter(|_| object::kind_of(get!(a.0)) == Some(Kind::StructType))
                    else {
                        return Err("method on a non-type".into());
                    };
                    // SAFETY: a live struct type (in a register).
                    let methods = unsafe { ty.slots() }[2].load(Relaxed);
                    let list = obj_of(Value::from_bits(methods)).expect("methods list");
                    object::list_append(p, g, list, &[proto.consts[k.0 as usize], get!(b.0)])
                        .map_err(oom)?;
                }
                Op::NewStruct { a, b } => {
                    save_pc!();
                    let ty = get!(b.0);
                    let Some(t) =
                        obj_of(ty).filter(|_| object::kind_of(ty) == Some(Kind::StructType))
                    else {
                        return Err(format!("{} is not a type", show(ty)));
                    };
                    let n = type_field_count(t);
                    let inst = p
                        .alloc(g, Kind::Instance.type_id(), (1 + n) * 8)
                        .map_err(oom)?;
                    set!(a.0, init_instance(p, inst, ty));
                }
                Op::InitField { a, i, b } => {
                    let inst = obj_of(get!(a.0)).expect("fresh instance");
                    // SAFETY: a live instance (in a register).
                    let slots = unsafe { inst.slots() };
                    match slots.get(1 + i.0 as usize) {
                        Some(slot) => p.write_slot(slot, get!(b.0).bits()),
                        None => return Err("too many values in struct literal".into()),
                    }
                }
                Op::SetField { a, k, b } => {
                    let target = get!(a.0);
                    let name = || -> &[u8] { &proto.const_strs[k.0 as usize] };
                    let inst =
                        obj_of(target).filter(|_| object::kind_of(target) == Some(Kind::Instance));
                    let Some(inst) = inst else {
                        return Err(field_of_non_struct(target, name()));
                    };
                    let cache = &proto.inline_cache[pc!() - 1];
                    let Some(Member::Field(i)) =
                        instance_type(inst).and_then(|t| cached_member(cache, t, name))
                    else {
                        return Err(no_field(target, name()));
                    };
                    // SAFETY: a live instance (in a register).
                    let slots = unsafe { inst.slots() };
                    p.write_slot(&slots[1 + i], get!(b.0).bits());
                }
                Op::GetField { a, b, k } => {
                    save_pc!();
                    let target = get!(b.0);
                    let name = || -> &[u8] { &proto.const_strs[k.0 as usize] };
                    let v = match object::kind_of(target) {
                        Some(Kind::Instance) => {
                            let inst = obj_of(target).expect("instance");
                            let ty = instance_type(inst);
                            let cache = &proto.inline_cache[pc!() - 1];
                            let member = ty.and_then(|t| cached_member(cache, t, name));
                            if let Some(Member::Field(i)) = member {
                                instance_field(inst, i)
                            } else if let Some(Member::Method(m)) = member {
                                let bm =
                                    p.alloc(g, Kind::BoundMethod.type_id(), 16).map_err(oom)?;
                                // SAFETY: just allocated; stored into a register right below.
                                let slots = unsafe { bm.slots() };
                                p.write_slot(&slots[0], target.bits());
                                p.write_slot(&slots[1], m.bits());
                                Value::object(bm.addr())
                            } else {
                                return Err(no_field(target, name()));
                            }
                        }
                        Some(Kind::Module) => self.module_member(target, name())?,
                        Some(Kind::StdModule) => {
                            let path = self.std_module_path(target);
                            let def = self.vm.natives.modules.get(path);
                            let key = std::str::from_utf8(name()).unwrap_or("");
                            match def.and_then(|d| d.constants.get(key)).cloned() {
                                Some(NativeConst::Int(i)) => {
                                    object::new_int(p, g, i).map_err(oom)?
                                }
                                Some(NativeConst::Float(f)) => Value::float(f),
                                Some(NativeConst::Str(text)) => {
                                    object::new_string(p, g, text.as_bytes()).map_err(oom)?
                                }
                                None if def.is_some_and(|d| d.functions.contains_key(key)) => {
                                    // A function value: the module bound to the name.
                                    let scratch = &regs[base + proto.max_registers];
                                    self.resolve_method(
                                        p,
                                        g,
                                        target,
                                        name(),
                                        proto.consts[k.0 as usize],
                                        scratch,
                                    )?
                                    .0
                                }
                                None if def.is_some_and(|d| d.getters.contains_key(key)) => {
                                    let getter = def
                                        .and_then(|d| d.getters.get(key))
                                        .copied()
                                        .expect("getter");
                                    let results = self.call_native_fn(p, g, getter, &[])?;
                                    // A getter may call back into Weft, which
                                    // can grow the register array.
                                    set_regs!();
                                    results.first().copied().unwrap_or(Value::NIL)
                                }
                                None => return Err(format!("undefined: {path}.{key}")),
                            }
                        }
                        Some(Kind::Opaque) => {
                            // A native object's field (`timer.C`) is the
                            // module's getter `Type.Field`; a method, a bound one.
                            let (path, type_name) = crate::native::opaque_type(target)
                                .map_or(("", ""), |(_, t)| (t.module, t.name));
                            let key = format!("{type_name}.{}", String::from_utf8_lossy(name()));
                            let def = self.vm.natives.modules.get(path);
                            if let Some(getter) =
                                def.and_then(|d| d.getters.get(key.as_str())).copied()
                            {
                                let results = self.call_native_fn(p, g, getter, &[target])?;
                                set_regs!();
                                results.first().copied().unwrap_or(Value::NIL)
                            } else if def.is_some_and(|d| d.functions.contains_key(key.as_str())) {
                                let scratch = &regs[base + proto.max_registers];
                                self.resolve_method(
                                    p,
                                    g,
                                    target,
                                    name(),
                                    proto.consts[k.0 as usize],
                                    scratch,
                                )?
                                .0
                            } else {
                                return Err(format!(
                                    "{}.{} undefined (type {} has no field or method {})",
                                    show(target),
                                    String::from_utf8_lossy(name()),
                                    type_name_full(target),
                                    String::from_utf8_lossy(name())
                                ));
                            }
                        }
                        _ => return Err(field_of_non_struct(target, name())),
                    };
                    set!(a.0, v);
                }
                Op::Return { a, n } => {
                    let first = base + a.0 as usize;
                    let n = if n == MULTI {
                        self.gr.top.saturating_sub(first)
                    } else {
                        n.0 as usize
                    };
                    if self.return_plain(regs, first, n, stop_depth).is_some() {
                        // The common case: continue in the caller, in this loop.
                        reload!();
                        continue;
                    }
                    // If deferred calls run first, this instruction runs again after them.
                    self.gr.frames.last_mut().expect("frame").pc = pc!() - 1;
                    return self.do_return(p, g, Some((first, n)), stop_depth);
                }
                Op::Defer { a, nargs, spread }
                | Op::DeferMethod {
                    a, nargs, spread, ..
                } => {
                    save_pc!();
                    if spread.0 {
                        return Err("defer with a spread argument is not implemented yet in this interpreter".into());
                    }
                    let abs = base + a.0 as usize;
                    let nargs = if nargs == MULTI {
                        self.gr.top.saturating_sub(abs + 1)
                    } else {
                        nargs.0 as usize
                    };
                    let target = get!(a.0);
                    let (callee, receiver) = match *op {
                        Op::DeferMethod { k, .. } => {
                            let name: &[u8] = &proto.const_strs[k.0 as usize];
                            self.resolve_method(
                                p,
                                g,
                                target,
                                name,
                                proto.consts[k.0 as usize],
                                &regs[base + proto.max_registers],
                            )?
                        }
                        _ => (target, None),
                    };
                    // Record: callee, has receiver, receiver, arguments (all rooted in registers).
                    let mut items = vec![
                        callee,
                        Value::bool(receiver.is_some()),
                        receiver.unwrap_or(Value::NIL),
                    ];
                    items.extend(
                        (0..nargs).map(|i| Value::from_bits(regs[abs + 1 + i].load(Relaxed))),
                    );
                    let scratch = &regs[base + proto.max_registers + 1];
                    let record = object::new_list(p, g, &items, scratch).map_err(oom)?;
                    let list = self.defer_list().expect("defer list");
                    object::list_append(p, g, list, &[record]).map_err(oom)?;
                    self.gr.defer_count += 1;
                    return Ok(false);
                }
                Op::Recover { a } => {
                    // Only a deferred call run by a panic recovers it (Go's rule).
                    let gr = &mut *self.gr;
                    let frame = gr.frames.last().expect("frame");
                    let value = match &mut gr.panicking {
                        Some(state) if frame.deferred && !state.recovered => {
                            state.recovered = true;
                            Value::from_bits(regs[PANIC_REG].load(Relaxed))
                        }
                        _ => Value::NIL,
                    };
                    set!(a.0, value);
                }
            }
        }
    }

    /// Calls `callee` whose arguments are at `abs + 1 ..= abs + nargs`, results
    /// to `abs..`. With a receiver (a method), the arguments move up one
    /// register and the receiver becomes the first: `R[abs]` then holds the
    /// method, so the running closure stays rooted by the register file.
    #[allow(clippy::too_many_arguments)]
    fn call_value(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        abs: usize,
        callee: Value,
        receiver: Option<Value>,
        nargs: usize,
        nres: u8,
    ) -> Res<()> {
        let (callee, receiver) = match (object::kind_of(callee), receiver) {
            (Some(Kind::BoundMethod), None) => {
                let bm = obj_of(callee).expect("bound method");
                // SAFETY: a live bound method (in a register).
                let slots = unsafe { bm.slots() };
                (
                    Value::from_bits(slots[1].load(Relaxed)),
                    Some(Value::from_bits(slots[0].load(Relaxed))),
                )
            }
            other => (callee, other.1),
        };
        let regs = self.ensure_regs(abs + nargs + 3);
        let nargs = match receiver {
            Some(r) => {
                insert_receiver(regs, abs, nargs, r, callee);
                nargs + 1
            }
            None => {
                regs[abs].store(callee.bits(), Relaxed);
                nargs
            }
        };
        if let Some(child) = closure_proto(callee) {
            return self.push_frame(p, g, child, callee, abs + 1, abs, nres, nargs);
        }
        self.native_args_end(abs + 1 + nargs);
        if let (Some(module), Some(Kind::Str)) = (receiver, object::kind_of(callee)) {
            // A standard module's function bound by `defer fmt.Println(...)`.
            let name = obj_of(callee).map(object::string_bytes).unwrap_or_default();
            let args: Vec<Value> = (1..nargs)
                .map(|i| Value::from_bits(regs[abs + 1 + i].load(Relaxed)))
                .collect();
            let results = self.call_module_function(p, g, module, &name, &args)?;
            self.store_results(abs, nres, &results);
            return Ok(());
        }
        // On the Rust stack for the usual few arguments: a native call
        // should not cost a heap allocation.
        let args: smallvec::SmallVec<[Value; 8]> = (0..nargs)
            .map(|i| Value::from_bits(regs[abs + 1 + i].load(Relaxed)))
            .collect();
        let results = self.call_native(p, g, callee, &args)?;
        self.store_results(abs, nres, &results);
        Ok(())
    }

    /// The callee and receiver `target.name` denotes, for `defer target.name(...)`:
    /// a method (with its receiver), a field holding a function, a file
    /// module's function, or a standard module's function (a bound method of
    /// the module and the name, allocated into `scratch`).
    fn resolve_method(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        target: Value,
        name: &[u8],
        name_value: Value,
        scratch: &AtomicU64,
    ) -> Res<(Value, Option<Value>)> {
        match object::kind_of(target) {
            Some(Kind::Instance) => {
                let inst = obj_of(target).expect("instance");
                let ty = instance_type(inst);
                if let Some(i) = ty.and_then(|t| field_index(t, name)) {
                    // Parked like the others: another goroutine may store
                    // over the field before the caller's next allocation.
                    let f = instance_field(inst, i);
                    scratch.store(f.bits(), Relaxed);
                    Ok((f, None))
                } else if let Some(m) = ty.and_then(|t| find_method(t, name)) {
                    Ok((m, Some(target)))
                } else {
                    Err(no_field(target, name))
                }
            }
            Some(Kind::Module) => {
                let f = self.module_member(target, name)?;
                scratch.store(f.bits(), Relaxed);
                Ok((f, None))
            }
            Some(Kind::StdModule | Kind::Opaque) => {
                let bm = p.alloc(g, Kind::BoundMethod.type_id(), 16).map_err(oom)?;
                // SAFETY: just allocated; parked in `scratch` right below.
                let slots = unsafe { bm.slots() };
                p.write_slot(&slots[0], target.bits());
                p.write_slot(&slots[1], name_value.bits());
                let v = Value::object(bm.addr());
                scratch.store(v.bits(), Relaxed);
                Ok((v, None))
            }
            _ => Err(field_of_non_struct(target, name)),
        }
    }

    /// Expands `f(a, b, xs...)`: the list in the last argument register is
    /// replaced by its elements. Returns the new argument count.
    fn spread_args(&mut self, abs: usize, nargs: weft_lang::bytecode::Count) -> Res<usize> {
        let n = if nargs == MULTI {
            self.gr.top.saturating_sub(abs + 1)
        } else {
            nargs.0 as usize
        };
        if n == 0 {
            return Ok(0);
        }
        let last = Value::from_bits(self.gr.cached_regs[abs + n].load(Relaxed));
        let items = spread_items(last, "argument spread")?;
        // Keep the list rooted above the arguments while they move into place.
        let regs = self.ensure_regs(abs + n + items.len() + 3);
        regs[abs + n + items.len() + 1].store(last.bits(), Relaxed);
        for (i, v) in items.iter().enumerate() {
            regs[abs + n + i].store(v.bits(), Relaxed);
        }
        Ok(n - 1 + items.len())
    }

    /// The module whose globals list `v` is (file modules are represented by it).
    fn module_of_globals(&self, v: Value) -> Option<usize> {
        self.vm.modules.iter().position(|m| m.value == v)
    }

    fn module_member(&self, module: Value, name: &[u8]) -> Res<Value> {
        let m = self.module_of_globals(module).ok_or("not a module")?;
        let rt = &self.vm.modules[m];
        let slot = rt
            .global_names
            .iter()
            .position(|(n, exported)| *exported && n.as_bytes() == name);
        match slot {
            Some(s) => {
                Ok(object::list_get(obj_of(rt.globals).expect("globals"), s).unwrap_or(Value::NIL))
            }
            None => Err(format!(
                "undefined: {}.{}",
                rt.name,
                String::from_utf8_lossy(name)
            )),
        }
    }

    /// Writes a call's results from absolute register `ret`: `nres` of them
    /// (nil-filled), or all of them with `MULTI`, which also sets the top.
    fn store_results(&mut self, ret: usize, nres: u8, results: &[Value]) {
        let n = if nres == MULTI.0 {
            results.len()
        } else {
            nres as usize
        };
        let regs = self.ensure_regs(ret + n + 1);
        self.put_results(regs, ret, n, results);
    }

    /// `store_results` for `n` results into registers `regs` already has
    /// (missing results are nil); sets the top of stack after them.
    #[inline(always)]
    fn put_results(&mut self, regs: &[AtomicU64], ret: usize, n: usize, results: &[Value]) {
        for (i, reg) in regs[ret..ret + n].iter().enumerate() {
            reg.store(
                results.get(i).copied().unwrap_or(Value::NIL).bits(),
                Relaxed,
            );
        }
        self.gr.top = ret + n;
    }

    /// Calls a builtin.
    fn call_native(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        callee: Value,
        args: &[Value],
    ) -> Res<Results> {
        let Some(obj) = obj_of(callee).filter(|_| object::kind_of(callee) == Some(Kind::Builtin))
        else {
            return rt_err(format!("call of non-function {}", show(callee)));
        };
        // SAFETY: a live builtin object (in a register).
        let index = unsafe { obj.slots() }[0].load(Relaxed) as usize;
        match BUILTINS.get(index).copied() {
            // print/println format as fmt.Println does (String() methods
            // included) when the fmt module is available; print drops the newline.
            Some(which @ ("println" | "print")) => {
                let sprintln = self
                    .vm
                    .natives
                    .modules
                    .get("fmt")
                    .and_then(|m| m.functions.get("Sprintln"))
                    .copied();
                let mut line = match sprintln {
                    Some(f) => {
                        let text = self.call_native_fn(p, g, f, args)?;
                        text.first()
                            .and_then(|v| crate::native::string_arg(*v))
                            .unwrap_or_default()
                    }
                    None => {
                        let mut text = args
                            .iter()
                            .map(|v| show(*v))
                            .collect::<Vec<_>>()
                            .join(" ")
                            .into_bytes();
                        text.push(b'\n');
                        text
                    }
                };
                if which == "print" {
                    line.pop();
                }
                self.vm.write_output(p, &line);
                Ok(results![])
            }
            Some("panic") => {
                self.gr.cached_regs[PANIC_REG]
                    .store(args.first().copied().unwrap_or(Value::NIL).bits(), Relaxed);
                Err(PANIC_VALUE.into())
            }
            Some("recover") => Ok(results![Value::NIL]),
            Some("close") if args.len() == 1 => {
                self.op_close(p, args[0])?;
                Ok(results![])
            }
            Some("delete") if args.len() == 2 => {
                if let Some(m) =
                    obj_of(args[0]).filter(|_| object::kind_of(args[0]) == Some(Kind::Map))
                {
                    if let Err(e) = object::map_delete(p, m, args[1]) {
                        return rt_err(format!("hash of unhashable type {}", e.0));
                    }
                }
                Ok(results![])
            }
            Some("int") if args.len() == 1 => {
                let v = args[0];
                let i = if let Some(i) = object::int_of(v) {
                    i
                } else if let Some(f) = v.as_float() {
                    arith::float_to_int(f).ok_or_else(|| {
                        format!("runtime error: cannot convert {} to int", show(v))
                    })?
                } else if object::kind_of(v) == Some(Kind::Str) {
                    let text = show(v);
                    text.trim()
                        .parse::<i64>()
                        .map_err(|_| format!("cannot convert {text:?} (type string) to int"))?
                } else {
                    return Err(format!(
                        "cannot convert {} (type {}) to int",
                        show(v),
                        type_name(v)
                    ));
                };
                Ok(results![object::new_int(p, g, i).map_err(oom)?])
            }
            Some("float") if args.len() == 1 => {
                let v = args[0];
                let f = match num(v) {
                    Some(Num::Int(i)) => i as f64,
                    Some(Num::Float(f)) => f,
                    None if object::kind_of(v) == Some(Kind::Str) => {
                        let text = show(v);
                        text.trim().parse::<f64>().map_err(|_| {
                            format!("cannot convert {text:?} (type string) to float")
                        })?
                    }
                    None => {
                        return Err(format!(
                            "cannot convert {} (type {}) to float",
                            show(v),
                            type_name(v)
                        ))
                    }
                };
                Ok(results![Value::float(f)])
            }
            Some(which @ ("min" | "max")) if !args.is_empty() => {
                let mut best = args[0];
                for &v in &args[1..] {
                    let o = compare(v, best)?;
                    let better = if which == "min" {
                        o == Some(Ordering::Less)
                    } else {
                        o == Some(Ordering::Greater)
                    };
                    // NaN wins, as in Go.
                    if better || v.as_float().is_some_and(f64::is_nan) {
                        best = v;
                    }
                }
                Ok(results![best])
            }
            Some("cap") if args.len() == 1 => {
                let n = match obj_of(args[0])
                    .filter(|_| object::kind_of(args[0]) == Some(Kind::Chan))
                {
                    Some(c) => object::chan_state(c).0,
                    None => length(args[0])?,
                };
                Ok(results![Value::int_inline(n as i64).expect("fits")])
            }
            Some("copy") if args.len() == 2 => {
                let (dst, src) = (args[0], args[1]);
                let (Some(d), Some(s)) = (obj_of(dst), obj_of(src)) else {
                    return Ok(results![Value::int_inline(0).expect("zero")]);
                };
                if object::kind_of(dst) != Some(Kind::List)
                    || object::kind_of(src) != Some(Kind::List)
                {
                    return Err("copy expects two lists".into());
                }
                let items: Vec<Value> = (0..object::list_len(s))
                    .filter_map(|i| object::list_get(s, i))
                    .collect();
                let n = items.len().min(object::list_len(d));
                for (i, v) in items.iter().take(n).enumerate() {
                    object::list_set(p, d, i, *v);
                }
                Ok(results![Value::int_inline(n as i64).expect("fits")])
            }
            Some("len") if args.len() == 1 => {
                Ok(results![
                    Value::int_inline(length(args[0])? as i64).expect("fits")
                ])
            }
            Some("str") if args.len() == 1 => {
                // Ints and strings print as themselves; anything else is
                // fmt.Sprint's %v text (String() methods included).
                if let Some(i) = object::int_of(args[0]) {
                    let mut buf = [0u8; 20];
                    let text = format_int(i, &mut buf);
                    return Ok(results![object::new_string(p, g, text).map_err(oom)?]);
                }
                if object::kind_of(args[0]) == Some(Kind::Str) {
                    return Ok(results![args[0]]);
                }
                match self
                    .vm
                    .natives
                    .modules
                    .get("fmt")
                    .and_then(|m| m.functions.get("Sprint"))
                    .copied()
                {
                    Some(f) => self.call_native_fn(p, g, f, args),
                    None => Ok(results![
                        object::new_string(p, g, show(args[0]).as_bytes()).map_err(oom)?
                    ]),
                }
            }
            Some("typeof") if args.len() == 1 => {
                let name = match obj_of(args[0])
                    .filter(|_| object::kind_of(args[0]) == Some(Kind::Instance))
                {
                    Some(inst) => instance_type(inst).map(type_name_of).unwrap_or_default(),
                    None => type_name(args[0]).to_string(),
                };
                Ok(results![
                    object::new_string(p, g, name.as_bytes()).map_err(oom)?
                ])
            }
            Some(name) => Err(format!(
                "builtin {name} is not implemented yet in this interpreter"
            )),
            None => rt_err("call of non-function"),
        }
    }

    /// `receiver.name(args)` on a value that is not a struct instance or a
    /// file module: a native module's function, or a method of a built-in kind.
    fn call_module_function(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        module: Value,
        name: &[u8],
        args: &[Value],
    ) -> Res<Results> {
        if object::kind_of(module) == Some(Kind::Opaque) {
            let f = self.opaque_method(module, name, &AtomicU64::new(0))?;
            let mut with_receiver = vec![module];
            with_receiver.extend_from_slice(args);
            return self.call_native_fn(p, g, f, &with_receiver);
        }
        match object::kind_of(module) {
            Some(Kind::StdModule) => {
                let f =
                    self.vm.native_table[self.native_slot(self.std_module_path(module), name)?];
                self.call_native_fn(p, g, f, args)
            }
            Some(Kind::Error) if name == b"Error" => {
                let (msg, _) = crate::native::error_parts(module).unwrap_or_default();
                let v = object::new_string(p, g, &msg).map_err(oom)?;
                Ok(results![v])
            }
            _ => Err(format!(
                "{}.{} undefined (type {} has no field or method {})",
                show(module),
                String::from_utf8_lossy(name),
                type_name(module),
                String::from_utf8_lossy(name)
            )),
        }
    }

    /// The native function `module.name`, through the instruction's inline
    /// cache: `module address << 16 | index into Vm::native_table + 1`. Native
    /// module objects are made once and rooted for good, so addresses are unique.
    fn native_function(
        &self,
        module: Value,
        name: &[u8],
        cache: &AtomicU64,
    ) -> Res<crate::native::NativeFn> {
        let addr = module.as_object().unwrap_or(0) as u64;
        if let Some(f) = self.cached_native(cache, addr) {
            return Ok(f);
        }
        let i = self.native_slot(self.std_module_path(module), name)?;
        Ok(self.cache_native(cache, addr, i))
    }

    /// The native function an inline-cache entry `key << 16 | index + 1`
    /// names, if `cache` holds one for `key` (see `FnProto::inline_cache`).
    fn cached_native(&self, cache: &AtomicU64, key: u64) -> Option<crate::native::NativeFn> {
        self.vm
            .native_table
            .get(cached_native_index(cache, key)?)
            .copied()
    }

    /// Native function `i`, remembered in `cache` under `key` (when the
    /// index fits the entry).
    fn cache_native(&self, cache: &AtomicU64, key: u64, i: usize) -> crate::native::NativeFn {
        if i + 1 < 0xffff {
            cache.store(key << 16 | (i as u64 + 1), Relaxed);
        }
        self.vm.native_table[i]
    }

    /// The native function implementing the method `name` of the native
    /// object `obj` (its module's `Type.name`), through the instruction's
    /// inline cache: `(OPAQUE_IC_TAG | native type id) << 16 | index into
    /// Vm::native_table + 1`. The tag keeps these keys apart from struct
    /// type ids (below it) and module addresses (user-space addresses are
    /// below 2^47 too, and never tagged): see `FnProto::inline_cache`.
    fn opaque_method(
        &self,
        obj: Value,
        name: &[u8],
        cache: &AtomicU64,
    ) -> Res<crate::native::NativeFn> {
        // The id alone keys the cache: the type record is for a miss.
        if let Some(id) = crate::native::opaque_id_of(obj) {
            if let Some(f) = self.cached_native(cache, OPAQUE_IC_TAG | id as u64) {
                return Ok(f);
            }
        }
        let Some((id, ty)) = crate::native::opaque_type(obj) else {
            return Err(field_of_non_struct(obj, name));
        };
        let key = OPAQUE_IC_TAG | id as u64;
        let method = format!("{}.{}", ty.name, String::from_utf8_lossy(name));
        let Some(&i) = self.vm.native_index.get(&(ty.module, method.as_str())) else {
            let name = String::from_utf8_lossy(name);
            let (module, ty) = (ty.module, ty.name);
            return Err(format!(
                "{module}.{ty}.{name} undefined (type {module}.{ty} has no field or method {name})"
            ));
        };
        Ok(self.cache_native(cache, key, i))
    }

    /// Index into `Vm::native_table` of the native function `path.name`.
    fn native_slot(&self, path: &str, name: &[u8]) -> Res<usize> {
        let key = std::str::from_utf8(name).unwrap_or("");
        self.vm
            .native_index
            .get(&(path, key))
            .copied()
            .ok_or_else(|| format!("{path}.{key} is not implemented yet in this interpreter"))
    }

    /// Runs a native function with scratch slots above everything in use.
    fn call_native_fn(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        f: crate::native::NativeFn,
        args: &[Value],
    ) -> Res<Results> {
        let start = self.keep_top;
        let stack: &KeepStack = self.keep;
        let Some(keep) = stack.slots.get(start..start + NATIVE_KEEP_SLOTS) else {
            return Err("native functions and callbacks nested too deeply".into());
        };
        self.keep_top += NATIVE_KEEP_SLOTS;
        let extent_before = stack.extent.load(Relaxed);
        let mut ctx = NativeCtx {
            p,
            g,
            host: self,
            keep,
            keep_base: start,
            keep_stack: stack,
            kept: 0,
            high_water: 0,
        };
        // A Rust panic in a native is a bug of ours, but it must not take
        // the process down half-way (the other Ms would wait for this
        // one's P for ever): it ends the program as a fatal error.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut ctx, args)))
            .unwrap_or_else(|payload| {
                let text = internal_error("a native function", payload.as_ref());
                Err(format!("{FATAL_PREFIX}{text}"))
            });
        // Drop what the native kept, so it does not stay reachable.
        let used = ctx.high_water;
        for slot in &keep[..used] {
            slot.store(Value::NIL.bits(), Relaxed);
        }
        // What the caller (an outer native) still keeps lies below.
        stack.extent.store(extent_before, Relaxed);
        self.keep_top = start;
        result
    }

    /// The import path of a native module object (they are made once, at
    /// load, and rooted for good, so their values identify them).
    fn std_module_path(&self, module: Value) -> &'static str {
        self.vm
            .std_module_paths
            .get(&module.bits())
            .copied()
            .unwrap_or("")
    }

    /// A native is about to run with its arguments in registers up to
    /// `end` (exclusive): counts them as in use, so that a callback it
    /// makes (`NativeHost::call`, placed above `top_of_stack`) cannot
    /// overwrite them. The native reads copies, but the registers are
    /// what roots them: a `String()` callback of `fmt.Println(xs...)`
    /// overwrote the 65th argument on, and a collection freed them while
    /// fmt still had them to print. A spread, a deferred call and a `go`
    /// statement put arguments above the frame; the top of stack is set
    /// anew by the call's results (`put_results`).
    fn native_args_end(&mut self, end: usize) {
        self.gr.top = self.gr.top.max(end);
    }

    /// One past the highest register any frame may be using.
    fn top_of_stack(&self) -> usize {
        let frame_top = self.gr.frames.last().map_or(FIRST_FRAME_REG, |f| {
            f.base + f.proto.get().max_registers + 2
        });
        frame_top.max(self.gr.top) + 64
    }
}

impl NativeHost for Exec<'_> {
    fn write_out(&mut self, p: &mut P, bytes: &[u8]) {
        self.vm.write_output(p, bytes);
    }

    fn flush_out(&mut self, p: &mut P) {
        self.vm.flush_output(p);
    }

    fn sleep(&mut self, ns: i64) -> Result<(), String> {
        if ns <= 0 {
            return Ok(());
        }
        self.may_park("sleep")?;
        let when = std::time::Instant::now() + std::time::Duration::from_nanos(ns as u64);
        // The wake may fire before the G is parked: `park` sees it.
        self.rt.add_timer(when, TimerWhat::Wake(self.gr.id));
        self.suspend = Some(Suspend::Park("sleep"));
        Ok(())
    }

    fn yield_now(&mut self) {
        if self.nested == 0 {
            self.suspend = Some(Suspend::Yield);
        }
    }

    fn with_semas(&mut self, f: crate::native::SemaOp<'_>) -> Result<(), String> {
        // Inside a callback the right to park in place is reserved before
        // `f` runs: `f` may count itself a waiter (RWMutex) before it asks
        // to park, and a refusal after that would leave the count behind.
        // Refused, the operation fails even if it would not have blocked.
        self.may_park("sync")?;
        let mut semas = self.rt.semas.lock().expect("semas");
        let park = f(&mut semas);
        match park {
            Ok(Some((key, reason))) => {
                Runtime::sema_enqueue(&mut semas, key, self.gr.id);
                self.suspend = Some(Suspend::Park(reason));
            }
            _ if self.nested > 0 => self.rt.release_locked_m(),
            _ => {}
        }
        self.rt.sema_flush(&mut semas, self.pid);
        park.map(|_| ())
    }

    fn add_timer(&mut self, ns: i64, chan: Value, period: i64) -> u64 {
        // (The channel is shaded by `NativeCtx::add_timer`: the timer table
        // is scanned only at the start of a cycle.)
        let when = std::time::Instant::now() + std::time::Duration::from_nanos(ns.max(0) as u64);
        let what = TimerWhat::Send {
            chan: chan.bits(),
            period: period.max(0) as u64,
        };
        self.rt.add_timer(when, what)
    }

    fn stop_timer(&mut self, id: u64) -> bool {
        self.rt.stop_timer(id)
    }

    fn reset_timer(&mut self, id: u64, ns: i64, chan: Value, period: i64) -> bool {
        let when = std::time::Instant::now() + std::time::Duration::from_nanos(ns.max(0) as u64);
        let what = TimerWhat::Send {
            chan: chan.bits(),
            period: period.max(0) as u64,
        };
        self.rt.reset_timer(id, when, what)
    }

    fn num_goroutine(&self) -> usize {
        self.rt.ngoroutines.load(Relaxed)
    }

    fn gomaxprocs(&self) -> usize {
        self.rt.maxprocs()
    }

    fn set_gomaxprocs(&mut self, n: usize) -> usize {
        self.rt.set_maxprocs(n)
    }

    fn stack_bytes(&self) -> usize {
        self.rt.stack_bytes()
    }

    fn exit_fd(&self) -> std::os::fd::RawFd {
        self.rt.exit_wake.raw()
    }

    fn enter_syscall(&mut self) {
        self.rt
            .syscall_ms
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.rt.enter_syscall(self.pid);
    }

    fn exit_syscall(&mut self) {
        self.rt
            .syscall_ms
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        if self.rt.exit_syscall_fast(self.pid) {
            return;
        }
        if self.nested == 0 {
            // No token free (Go's exitsyscall0): the G yields to the global
            // queue as soon as the native returns and a token holder runs it
            // on; this M sleeps. Waiting here instead could wait forever
            // while the token holders run goroutines that never sleep.
            self.suspend = Some(Suspend::Yield);
        } else {
            // Inside a callback from native code the G cannot yield.
            self.rt.wait_for_token(self.pid);
        }
    }

    fn signal_notify(&mut self, chan: Value, mask: u64) -> Result<(), String> {
        self.rt.notify(chan.bits(), mask)
    }

    fn signal_stop(&mut self, chan: Option<Value>, mask: u64) {
        self.rt.stop_notify(chan.map(Value::bits), mask)
    }

    fn program_args(&self) -> Vec<String> {
        self.vm.args.clone()
    }

    fn call(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        f: Value,
        args: &[Value],
    ) -> Result<Results, String> {
        let abs = self.top_of_stack() + 2;
        let regs = self.ensure_regs(abs + args.len() + 2);
        regs[abs].store(f.bits(), Relaxed);
        for (i, a) in args.iter().enumerate() {
            regs[abs + 1 + i].store(a.bits(), Relaxed);
        }
        // A safepoint, as a Call instruction is: a native calling back in a
        // loop (sort.Slice's less has no call or back edge of its own)
        // would otherwise hold up a stop-the-world until it returned. The
        // function and arguments are in registers by now; the native may
        // meet a safepoint in the callback anyway, so what it still needs
        // is rooted.
        p.safepoint();
        let depth = self.gr.frames.len();
        let saved_top = self.gr.top;
        self.gr.top = abs;
        // The whole callback is nested, a native called straight back too
        // (`once.Do(wg.Wait)`): one that parks must park in place here, or
        // the calling native would go on as if it had returned.
        self.nested += 1;
        let result = match self.call_value(p, g, abs, f, None, args.len(), MULTI.0) {
            Err(message) => {
                self.nested -= 1;
                return Err(message);
            }
            Ok(()) if self.gr.frames.len() > depth => self.execute(p, g, depth),
            Ok(()) => self.park_in_place(p),
        };
        self.nested -= 1;
        match result {
            Ok(()) => {}
            Err(Stop::Panic(panic)) => return Err(panic.message),
            Err(Stop::Exit(code)) => return Err(format!("{EXIT_PREFIX}{code}")),
            // Only the program's end stops a callback (it parks in place
            // otherwise): the native gives up in turn.
            Err(Stop::Suspended) => return Err(crate::native::program_over()),
        }
        let regs = self.regs_ref();
        let n = self.gr.top.saturating_sub(abs);
        let results = (0..n)
            .map(|i| Value::from_bits(regs[abs + i].load(Relaxed)))
            .collect();
        // The next callback's window starts where this one's did: left at
        // its results, `top` would climb by a window a call, and a native
        // calling back a million times (sort.Slice's less) would grow the
        // register array to gigabytes.
        self.gr.top = saved_top;
        Ok(results)
    }
}

/// The fatal error's text for a Rust panic in `whose` code (the panic hook
/// has printed where, for the bug report).
fn internal_error(whose: &str, payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("internal error: {whose} panicked: {what}")
}

/// Builds a struct type. Allocation is a safepoint, so every object is linked
/// into a rooted one before the next allocation: the type is parked in `dst`
/// (the destination register), its lists pass through `spare` (a register
/// above the frame, scanned with the register file).
fn new_struct_type(
    p: &mut P,
    g: &mut Mutator,
    name: &str,
    fields: &[Arc<str>],
    dst: &AtomicU64,
    spare: &AtomicU64,
) -> Res<Value> {
    let ty = p.alloc(g, Kind::StructType.type_id(), 32).map_err(oom)?;
    let ty_v = Value::object(ty.addr());
    dst.store(ty_v.bits(), Relaxed);
    let slots = type_slots(ty);
    // A unique id, never reused: what inline caches key on.
    static NEXT_TYPE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    slots[3].store(
        NEXT_TYPE_ID.fetch_add(1, Relaxed) & (OPAQUE_IC_TAG - 1),
        Relaxed,
    );
    let name_v = object::new_string(p, g, name.as_bytes()).map_err(oom)?;
    p.write_slot(&slots[0], name_v.bits());
    let names = object::new_list(p, g, &vec![Value::NIL; fields.len()], spare).map_err(oom)?;
    p.write_slot(&slots[1], names.bits());
    let names = obj_of(names).expect("field list");
    for (i, f) in fields.iter().enumerate() {
        let fv = object::new_string(p, g, f.as_bytes()).map_err(oom)?;
        object::list_set(p, names, i, fv);
    }
    let methods = object::new_list(p, g, &[], spare).map_err(oom)?;
    p.write_slot(&slots[2], methods.bits());
    spare.store(Value::NIL.bits(), Relaxed);
    Ok(ty_v)
}

fn type_slots(ty: weft_gc::ObjRef) -> &'static [AtomicU64] {
    // SAFETY: callers pass live struct types (reachable from an instance or a register).
    unsafe { ty.slots() }
}

fn type_name_of(ty: weft_gc::ObjRef) -> String {
    obj_of(Value::from_bits(type_slots(ty)[0].load(Relaxed)))
        .map(|s| String::from_utf8_lossy(&object::string_bytes(s)).into_owned())
        .unwrap_or_default()
}

/// The index into `Vm::native_table` an inline-cache entry `key << 16 |
/// index + 1` holds, if `cache` holds one for `key`.
#[inline(always)]
fn cached_native_index(cache: &AtomicU64, key: u64) -> Option<usize> {
    let entry = cache.load(Relaxed);
    (entry != 0 && entry >> 16 == key).then(|| (entry & 0xffff) as usize - 1)
}

/// Makes the fresh object `inst` (`1 + type_field_count` slots) an
/// instance of struct type `ty` with every field nil, and returns it as a
/// value: `NewStruct`'s work after the allocation.
#[inline(always)]
fn init_instance(p: &mut P, inst: weft_gc::ObjRef, ty: Value) -> Value {
    // SAFETY: just allocated, not yet reachable: the caller stores the
    // value into a register right after.
    let slots = unsafe { inst.slots() };
    p.write_slot(&slots[0], ty.bits());
    // Fresh memory is zero, which is the float 0.0: missing fields are nil.
    for slot in &slots[1..] {
        slot.store(Value::NIL.bits(), Relaxed);
    }
    Value::object(inst.addr())
}

/// How many fields instances of struct type `ty` have (without copying
/// their names, which `NewStruct` used to do for every instance).
fn type_field_count(ty: weft_gc::ObjRef) -> usize {
    obj_of(Value::from_bits(type_slots(ty)[1].load(Relaxed))).map_or(0, object::list_len)
}

fn type_field_names(ty: weft_gc::ObjRef) -> Vec<Vec<u8>> {
    let Some(list) = obj_of(Value::from_bits(type_slots(ty)[1].load(Relaxed))) else {
        return Vec::new();
    };
    (0..object::list_len(list))
        .filter_map(|i| object::list_get(list, i))
        .filter_map(obj_of)
        .map(object::string_bytes)
        .collect()
}

fn field_index(ty: weft_gc::ObjRef, name: &[u8]) -> Option<usize> {
    let list = obj_of(Value::from_bits(type_slots(ty)[1].load(Relaxed)))?;
    (0..object::list_len(list)).find(|&i| {
        object::list_get(list, i)
            .and_then(obj_of)
            .is_some_and(|f| object::string_is(f, name))
    })
}

/// A struct member found by name.
enum Member {
    Field(usize),
    Method(Value),
}

pub(super) const IC_METHOD: u64 = 1 << 15;

/// Marks an inline-cache key as a native object type's (see
/// `Exec::opaque_method`); struct type ids stay below it.
pub(super) const OPAQUE_IC_TAG: u64 = 1 << 47;

/// Looks `name` up among `ty`'s fields, then its methods, through the
/// instruction's inline cache (see `FnProto::inline_cache`).
/// The hit path is inlined into the instructions that use it (field access
/// is most of some programs: nbody); the rest is out of line. `name` is
/// only looked at on a miss.
#[inline(always)]
fn cached_member<'n>(
    cache: &AtomicU64,
    ty: weft_gc::ObjRef,
    name: impl FnOnce() -> &'n [u8],
) -> Option<Member> {
    cache_hit(cache, ty).or_else(|| cached_member_miss(cache, ty, name()))
}

/// The member the cache holds for `ty`, if it holds `ty`'s entry (and the
/// method it names is still there): `cached_member`'s hit path, alone for
/// the fast loop, which leaves misses to `step`.
#[inline(always)]
fn cache_hit(cache: &AtomicU64, ty: weft_gc::ObjRef) -> Option<Member> {
    let entry = cache.load(Relaxed);
    // The type's unique id (slot 3), never reused, so a hit needs no re-check.
    let addr = type_slots(ty)[3].load(Relaxed);
    if entry == 0 || entry >> 16 != addr {
        return None;
    }
    let index = (entry & (IC_METHOD - 1)) as usize - 1;
    if entry & IC_METHOD == 0 {
        return Some(Member::Field(index));
    }
    let list = obj_of(Value::from_bits(type_slots(ty)[2].load(Relaxed)))?;
    object::list_get(list, 2 * index + 1).map(Member::Method)
}

/// `cached_member` when the cache does not hold `ty`'s entry: looks the
/// name up and fills the cache.
#[cold]
#[inline(never)]
fn cached_member_miss(cache: &AtomicU64, ty: weft_gc::ObjRef, name: &[u8]) -> Option<Member> {
    let addr = type_slots(ty)[3].load(Relaxed);
    // A call site that sees several types in turn (richards' task methods)
    // misses every time; the memo remembers the entries of recent misses
    // by (type id, the instruction's name constant), so only the first of
    // each pays for the scan below.
    let memo_slot = member_memo_slot(addr, name);
    let remembered = MEMBER_MEMO.with(|m| {
        let (a, n, entry) = m.borrow()[memo_slot];
        (a == addr && n == name.as_ptr() as usize).then_some(entry)
    });
    if let Some(entry) = remembered {
        cache.store(entry, Relaxed);
        if let Some(member) = cache_hit(cache, ty) {
            return Some(member);
        }
    }
    let remember = |entry: u64| {
        cache.store(entry, Relaxed);
        MEMBER_MEMO.with(|m| m.borrow_mut()[memo_slot] = (addr, name.as_ptr() as usize, entry));
    };
    if let Some(i) = field_index(ty, name) {
        if i + 1 < IC_METHOD as usize {
            remember(addr << 16 | (i as u64 + 1));
        }
        return Some(Member::Field(i));
    }
    let list = obj_of(Value::from_bits(type_slots(ty)[2].load(Relaxed)))?;
    let n = object::list_len(list) / 2;
    let i = (0..n).find(|&i| method_at(ty, i, name).is_some())?;
    if i + 1 < IC_METHOD as usize {
        remember(addr << 16 | IC_METHOD | (i as u64 + 1));
    }
    method_at(ty, i, name).map(Member::Method)
}

thread_local! {
    /// `cached_member_miss`'s memo: (struct type id, address of the name
    /// constant, inline-cache entry), direct-mapped. Per thread, so no
    /// synchronisation. Type ids are never reused (not even by another
    /// `Vm`), and a type's members never move once found, so a matching
    /// entry is exact; a name constant's address identifies the name while
    /// its function lives, and an entry for a dead function's address can
    /// only match a type id that no longer occurs.
    static MEMBER_MEMO: std::cell::RefCell<[(u64, usize, u64); 256]> =
        const { std::cell::RefCell::new([(0, 0, 0); 256]) };
}

/// The memo slot of (type id, name constant).
fn member_memo_slot(type_id: u64, name: &[u8]) -> usize {
    let key = type_id ^ (name.as_ptr() as u64).rotate_left(17);
    (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize
}

/// Method `i` of `ty`, if it is named `name`.
fn method_at(ty: weft_gc::ObjRef, i: usize, name: &[u8]) -> Option<Value> {
    let list = obj_of(Value::from_bits(type_slots(ty)[2].load(Relaxed)))?;
    let key = object::list_get(list, 2 * i).and_then(obj_of)?;
    object::string_is(key, name)
        .then(|| object::list_get(list, 2 * i + 1))
        .flatten()
}

fn find_method(ty: weft_gc::ObjRef, name: &[u8]) -> Option<Value> {
    let list = obj_of(Value::from_bits(type_slots(ty)[2].load(Relaxed)))?;
    let n = object::list_len(list);
    (0..n / 2).find_map(|i| {
        let key = object::list_get(list, 2 * i).and_then(obj_of)?;
        object::string_is(key, name)
            .then(|| object::list_get(list, 2 * i + 1))
            .flatten()
    })
}

fn instance_type(inst: weft_gc::ObjRef) -> Option<weft_gc::ObjRef> {
    // SAFETY: callers pass live instances.
    let slots = unsafe { inst.slots() };
    obj_of(Value::from_bits(slots[0].load(Relaxed)))
}

fn instance_field(inst: weft_gc::ObjRef, i: usize) -> Value {
    // SAFETY: callers pass live instances.
    let slots = unsafe { inst.slots() };
    slots
        .get(1 + i)
        .map_or(Value::NIL, |w| Value::from_bits(w.load(Relaxed)))
}

fn no_field(v: Value, name: &[u8]) -> String {
    let ty = obj_of(v)
        .and_then(instance_type)
        .map(type_name_of)
        .unwrap_or_default();
    format!(
        "{ty}.{} undefined (type {ty} has no field or method {})",
        String::from_utf8_lossy(name),
        String::from_utf8_lossy(name)
    )
}

fn field_of_non_struct(v: Value, name: &[u8]) -> String {
    if v.is_nil() {
        return "runtime error: invalid memory address or nil pointer dereference".into();
    }
    format!(
        "{}.{} undefined (type {} has no field or method {})",
        show(v),
        String::from_utf8_lossy(name),
        type_name(v),
        String::from_utf8_lossy(name)
    )
}

fn oom(e: AllocError) -> String {
    format!("runtime: {e}")
}

#[inline(always)]
fn closure_proto(v: Value) -> Option<ProtoRef> {
    let obj = obj_of_kind(v, Kind::Closure)?;
    // SAFETY: a live closure object (in a register or a global) has its
    // function in its first payload slot (`Op::Closure` allocates at least
    // two and stores `ProtoRef::to_word` there before the closure is
    // reachable).
    unsafe { ProtoRef::from_word((*(obj.payload_addr() as *const AtomicU64)).load(Relaxed)) }
}
fn upvalue_cell(closure: Value, u: u8) -> Option<weft_gc::ObjRef> {
    let obj = obj_of(closure)?;
    // SAFETY: a live closure object (the running frame's).
    let s = unsafe { obj.slots() };
    obj_of(Value::from_bits(s.get(2 + u as usize)?.load(Relaxed)))
}

fn num(v: Value) -> Option<Num> {
    if let Some(f) = v.as_float() {
        return Some(Num::Float(f));
    }
    object::int_of(v).map(Num::Int)
}

fn num_value(p: &mut P, g: &mut Mutator, n: Num) -> Res<Value> {
    match n {
        Num::Int(i) => object::new_int(p, g, i).map_err(oom),
        Num::Float(f) => Ok(Value::float(f)),
    }
}

fn arith_values(p: &mut P, g: &mut Mutator, op: ArithOp, x: Value, y: Value) -> Res<Value> {
    match (num(x), num(y)) {
        (Some(a), Some(b)) => match arith::num_op(op, a, b) {
            Ok(n) => num_value(p, g, n),
            Err(e @ (arith::ArithError::DivideByZero | arith::ArithError::NegativeShift)) => {
                rt_err(e.message())
            }
            Err(arith::ArithError::IntOnly) => Err(format!(
                "invalid operation: operator not defined on {}",
                show(x)
            )),
        },
        _ => Err(format!(
            "invalid operation: mismatched types {} and {}",
            type_name(x),
            type_name(y)
        )),
    }
}

#[inline(always)]
fn binop(p: &mut P, g: &mut Mutator, dst: &AtomicU64, x: Value, y: Value, op: ArithOp) -> Res<()> {
    if let (Some(i), Some(j)) = (x.as_inline_int(), y.as_inline_int()) {
        if let Ok(r) = arith::int_op(op, i, j) {
            let v = match Value::int_inline(r) {
                Some(v) => v,
                // A result beyond 51 bits is boxed (allocation, a safepoint).
                None => object::new_int(p, g, r).map_err(oom)?,
            };
            dst.store(v.bits(), Relaxed);
            return Ok(());
        }
    }
    if let (Some(a), Some(b)) = (x.as_float(), y.as_float()) {
        if let Ok(r) = arith::float_op(op, a, b) {
            dst.store(Value::float(r).bits(), Relaxed);
            return Ok(());
        }
    }
    binop_slow(p, g, dst, x, y, op)
}

/// `R[b] op v` for `MulInt`/`DivInt`/`ModInt` (`v` is never 0 for `/`
/// and `%`). Division truncates toward zero, as Go's (and Rust's).
#[inline]
fn binop_imm(
    p: &mut P,
    g: &mut Mutator,
    dst: &AtomicU64,
    x: Value,
    v: i32,
    op: ArithOp,
) -> Res<()> {
    // Inline ints are 51 bits and v 32: checked anyway.
    let fast = x.as_inline_int().and_then(|i| match op {
        ArithOp::Mul => i.checked_mul(v as i64),
        ArithOp::Div => i.checked_div(v as i64),
        _ => i.checked_rem(v as i64),
    });
    if let Some(r) = fast.and_then(Value::int_inline) {
        dst.store(r.bits(), Relaxed);
        return Ok(());
    }
    binop_slow(
        p,
        g,
        dst,
        x,
        Value::int_inline(v as i64).expect("i32 fits"),
        op,
    )
}

/// `x + 1`, as `AddInt` computes it (the increment of `IncJmpLt`/`IncJmpLtK`).
fn add_one(p: &mut P, g: &mut Mutator, x: Value) -> Res<Value> {
    match x.as_inline_int().and_then(|i| Value::int_inline(i + 1)) {
        Some(r) => Ok(r),
        None => arith_values(p, g, ArithOp::Add, x, Value::int_inline(1).expect("fits")),
    }
}

/// Whether a `Jmp..K` instruction jumps, for `R[a] = x` and `K[k] = k`.
#[inline]
fn compare_k(op: Op, x: Value, k: Value) -> Res<bool> {
    let order = match (x.as_inline_int(), k.as_inline_int()) {
        (Some(i), Some(j)) => Some(i.cmp(&j)),
        _ => compare_k_slow(x, k)?,
    };
    // Unordered (NaN) makes every one of these tests false.
    let holds = order.is_some_and(|o| match op {
        Op::JmpLtK { .. } | Op::JmpNotLtK { .. } => o == Ordering::Less,
        Op::JmpLeK { .. } | Op::JmpNotLeK { .. } => o != Ordering::Greater,
        Op::JmpGtK { .. } | Op::JmpNotGtK { .. } => o == Ordering::Greater,
        _ => o != Ordering::Less,
    });
    let jump_when = matches!(
        op,
        Op::JmpLtK { .. } | Op::JmpLeK { .. } | Op::JmpGtK { .. } | Op::JmpGeK { .. }
    );
    Ok(holds == jump_when)
}

#[cold]
#[inline(never)]
fn compare_k_slow(x: Value, k: Value) -> Res<Option<Ordering>> {
    compare(x, k)
}

#[cold]
fn binop_slow(
    p: &mut P,
    g: &mut Mutator,
    dst: &AtomicU64,
    x: Value,
    y: Value,
    op: ArithOp,
) -> Res<()> {
    let v = arith_values(p, g, op, x, y)?;
    dst.store(v.bits(), Relaxed);
    Ok(())
}

fn add_slow(p: &mut P, g: &mut Mutator, x: Value, y: Value) -> Res<Value> {
    if let (Some(Kind::Str), Some(Kind::Str)) = (object::kind_of(x), object::kind_of(y)) {
        let mut bytes = obj_of(x).map(object::string_bytes).unwrap_or_default();
        bytes.extend(obj_of(y).map(object::string_bytes).unwrap_or_default());
        return object::new_string(p, g, &bytes).map_err(oom);
    }
    arith_values(p, g, ArithOp::Add, x, y)
}

fn values_equal(x: Value, y: Value) -> bool {
    if x == y {
        return x.as_float().is_none_or(|f| !f.is_nan());
    }
    if let (Some(a), Some(b)) = (num(x), num(y)) {
        return arith::num_eq(a, b);
    }
    match (object::kind_of(x), object::kind_of(y)) {
        (Some(Kind::Str), Some(Kind::Str)) => {
            object::string_eq(obj_of(x).expect("str"), obj_of(y).expect("str"))
        }
        _ => false,
    }
}

fn compare(x: Value, y: Value) -> Res<Option<Ordering>> {
    if let (Some(a), Some(b)) = (num(x), num(y)) {
        return Ok(arith::num_cmp(a, b));
    }
    if let (Some(Kind::Str), Some(Kind::Str)) = (object::kind_of(x), object::kind_of(y)) {
        let a = object::string_bytes(obj_of(x).expect("str"));
        let b = object::string_bytes(obj_of(y).expect("str"));
        return Ok(Some(a.cmp(&b)));
    }
    Err(format!(
        "invalid operation: cannot compare {} and {}",
        type_name(x),
        type_name(y)
    ))
}

fn index_message(i: i64, len: usize) -> String {
    if i < 0 {
        format!("index out of range [{i}]")
    } else {
        format!("index out of range [{i}] with length {len}")
    }
}

/// The elements a `xs...` spread passes: a list's, or none for nil.
fn spread_items(v: Value, what: &str) -> Res<Vec<Value>> {
    match object::kind_of(v) {
        Some(Kind::List) => Ok(crate::native::list_items(v).unwrap_or_default()),
        _ if v.is_nil() => Ok(Vec::new()),
        _ => Err(format!(
            "cannot use {} (type {}) as list in {what}",
            show(v),
            type_name(v)
        )),
    }
}

/// `float(x)` or `int(x)` when `callee` is that builtin and `x` a number
/// whose conversion needs no allocation; `None` sends the call the slow way.
#[inline]
fn numeric_conversion(callee: Value, x: Value) -> Option<Value> {
    let obj = obj_of(callee).filter(|_| object::kind_of(callee) == Some(Kind::Builtin))?;
    // SAFETY: a live builtin object (in a register).
    let index = unsafe { obj.slots() }[0].load(Relaxed) as usize;
    if index == BUILTIN_FLOAT {
        Some(Value::float(match num(x)? {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }))
    } else if index == BUILTIN_INT {
        match num(x)? {
            Num::Int(_) => Some(x),
            Num::Float(f) => arith::float_to_int(f).and_then(Value::int_inline),
        }
    } else {
        None
    }
}

pub(super) const BUILTIN_FLOAT: usize = builtin_index("float").expect("a builtin") as usize;
pub(super) const BUILTIN_INT: usize = builtin_index("int").expect("a builtin") as usize;
const BUILTIN_STR: usize = builtin_index("str").expect("a builtin") as usize;

/// A small, fast random source for select's choice and the scheduler's
/// victim order (xorshift, per thread).
pub(crate) fn next_random() -> u64 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = const { Cell::new(0x2545_f491_4f6c_dd1d) });
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x
    })
}

/// The zero value of `like`'s type: 0, 0.0 or "" (nil for other types).
fn zero_like(p: &mut P, g: &mut Mutator, like: Value, root: &AtomicU64) -> Res<Value> {
    if like.is_float() {
        return Ok(Value::float(0.0));
    }
    if object::int_of(like).is_some() {
        return Ok(Value::int_inline(0).expect("zero"));
    }
    if object::kind_of(like) == Some(Kind::Str) {
        let v = object::new_string(p, g, b"").map_err(oom)?;
        root.store(v.bits(), Relaxed);
        return Ok(v);
    }
    Ok(Value::NIL)
}

/// Turns the call window at `abs` (callee slot, `nargs` arguments) into a
/// method call's: the arguments move up one, `receiver` goes first and
/// `callee` in the callee slot. `regs` must reach `abs + nargs + 1`.
fn insert_receiver(regs: &[AtomicU64], abs: usize, nargs: usize, receiver: Value, callee: Value) {
    for i in (abs + 1..=abs + nargs).rev() {
        regs[i + 1].store(regs[i].load(Relaxed), Relaxed);
    }
    regs[abs + 1].store(receiver.bits(), Relaxed);
    regs[abs].store(callee.bits(), Relaxed);
}

/// Copies a returning frame's `n` results at `first..` to the `nres`
/// registers at `ret..` its caller wants, nil past `n`. In place: the
/// results window lies below the callee's registers.
#[inline(always)]
fn copy_results(regs: &[AtomicU64], first: usize, n: usize, ret: usize, nres: usize) {
    for i in 0..nres {
        let v = if i < n {
            regs[first + i].load(Relaxed)
        } else {
            Value::NIL.bits()
        };
        regs[ret + i].store(v, Relaxed);
    }
}

/// The global slots of `proto`'s module (see `FnProto::globals`).
#[inline(always)]
fn module_globals(proto: &FnProto) -> &'static [AtomicU64] {
    proto.globals
}

/// Global `g` of `proto`'s module, as a `GetGlobal`, `SetGlobal` or
/// `CallGlobal` of `proto` names it: without the bounds test.
///
/// # Safety
/// `g` is the operand of one of `proto`'s instructions: `lang::verify`
/// (run by `Vm::load`) proved it below the module's global count, and
/// `FnProto::globals` has exactly that many slots (`Vm::load` makes it
/// from the same count).
#[inline(always)]
unsafe fn global_slot(proto: &FnProto, g: Glob) -> &'static AtomicU64 {
    debug_assert!((g.0 as usize) < proto.globals.len());
    // SAFETY: the contract.
    unsafe { proto.globals.get_unchecked(g.0 as usize) }
}

/// The slot of element `i` of `container` when it is a list and `i` an
/// inline int within its length: the common case of `x[i]` and `x[i] = v`,
/// inlined into those instructions. `None` for everything else (maps,
/// strings, boxed ints, errors), which `index` and `SetIndex` handle.
#[inline(always)]
fn list_slot(container: Value, i: Value) -> Option<&'static AtomicU64> {
    let list = obj_of_kind(container, Kind::List)?;
    // A negative index wraps to above any length: one bounds test.
    let i = i.as_inline_int()? as usize;
    object::list_slot(list, i)
}

fn index(container: Value, i: Value) -> Res<Value> {
    if let Some(m) = obj_of(container).filter(|_| object::kind_of(container) == Some(Kind::Map)) {
        return match object::map_get(m, i) {
            Ok(v) => Ok(v.unwrap_or(Value::NIL)),
            Err(e) => rt_err(format!("hash of unhashable type {}", e.0)),
        };
    }
    let Some(i) = object::int_of(i) else {
        return Err(format!(
            "invalid index {} of type {}",
            show(i),
            type_name(i)
        ));
    };
    match object::kind_of(container) {
        Some(Kind::List) => {
            let l = obj_of(container).expect("list");
            if i < 0 {
                return rt_err(index_message(i, object::list_len(l)));
            }
            object::list_get(l, i as usize)
                .map_or_else(|| rt_err(index_message(i, object::list_len(l))), Ok)
        }
        Some(Kind::Str) => {
            let sobj = obj_of(container).expect("str");
            match usize::try_from(i)
                .ok()
                .and_then(|i| object::string_byte(sobj, i))
            {
                Some(b) => Ok(Value::int_inline(b as i64).expect("byte")),
                None => rt_err(index_message(i, object::string_len(sobj))),
            }
        }
        _ => Err(format!(
            "invalid operation: cannot index {}",
            type_name(container)
        )),
    }
}

/// The next (key, value, state) of a range loop, or `None` when done.
/// Lists and ints count indices; strings step by UTF-8 code point.
fn range_next(c: Value, state: i64) -> Option<(Value, Value, i64)> {
    let i = usize::try_from(state).ok()?;
    let int = |n: i64| Value::int_inline(n).expect("index fits inline");
    if let Some(n) = object::int_of(c) {
        return (state < n).then(|| (int(state), Value::NIL, state + 1));
    }
    match object::kind_of(c) {
        Some(Kind::List) => {
            let v = object::list_get(obj_of(c)?, i)?;
            Some((int(state), v, state + 1))
        }
        Some(Kind::Map) => {
            let (k, v, next) = object::map_next(obj_of(c)?, i)?;
            Some((k, v, next as i64))
        }
        Some(Kind::Str) => {
            // Four bytes at most: one rune, without copying the string.
            let rest = object::string_bytes_at(obj_of(c)?, i, 4);
            if rest.is_empty() {
                return None;
            }
            let (rune, width) = decode_rune(&rest);
            Some((int(state), int(rune as i64), state + width as i64))
        }
        _ => None,
    }
}

/// Decodes the first UTF-8 code point of `bytes`: (rune, width); an invalid
/// sequence is U+FFFD with width 1, as Go's range does.
pub fn decode_rune(bytes: &[u8]) -> (u32, usize) {
    let len = match bytes.first() {
        Some(b) if *b < 0x80 => return (*b as u32, 1),
        Some(b) if b >> 5 == 0b110 => 2,
        Some(b) if b >> 4 == 0b1110 => 3,
        Some(b) if b >> 3 == 0b11110 => 4,
        _ => return (0xFFFD, 1),
    };
    match bytes
        .get(..len)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.chars().next())
    {
        Some(c) => (c as u32, len),
        None => (0xFFFD, 1),
    }
}

/// `x[lo:hi]`: a substring, or a new list (slicing copies, Weft's rule).
fn slice(
    p: &mut P,
    g: &mut Mutator,
    x: Value,
    lo: Value,
    hi: Value,
    root: &AtomicU64,
) -> Res<Value> {
    let (len, is_str) = match object::kind_of(x) {
        Some(Kind::Str) => (object::string_len(obj_of(x).expect("str")), true),
        Some(Kind::List) => (object::list_len(obj_of(x).expect("list")), false),
        _ => return Err(format!("cannot slice {} (type {})", show(x), type_name(x))),
    };
    let bound = |v: Value, default: usize| -> Res<i64> {
        if v.is_nil() {
            return Ok(default as i64);
        }
        object::int_of(v)
            .ok_or_else(|| format!("invalid slice index {} (type {})", show(v), type_name(v)))
    };
    let (l, h) = (bound(lo, 0)?, bound(hi, len)?);
    let what = if is_str { "length" } else { "capacity" };
    if h < 0 || h as usize > len {
        return rt_err(format!(
            "slice bounds out of range [:{h}] with {what} {len}"
        ));
    }
    if l < 0 || l > h {
        return rt_err(format!("slice bounds out of range [{l}:{h}]"));
    }
    let (l, h) = (l as usize, h as usize);
    if is_str {
        let bytes = object::string_bytes(obj_of(x).expect("str"));
        // Read a second time: a byte buffer two goroutines race to write
        // (a shared `strings.Builder`) may have lost an update since.
        let h = h.min(bytes.len());
        object::new_string(p, g, &bytes[l.min(h)..h]).map_err(oom)
    } else {
        object::new_list_slice(p, g, obj_of(x).expect("list"), l, h, root).map_err(oom)
    }
}

fn length(v: Value) -> Res<usize> {
    match object::kind_of(v) {
        Some(Kind::List) => Ok(object::list_len(obj_of(v).expect("list"))),
        Some(Kind::Str) => Ok(object::string_len(obj_of(v).expect("str"))),
        Some(Kind::Map) => Ok(object::map_len(obj_of(v).expect("map"))),
        Some(Kind::Chan) => Ok(object::chan_state(obj_of(v).expect("chan")).1),
        _ if v.is_nil() => Ok(0),
        _ => Err(format!(
            "invalid argument: {} (type {}) for built-in len",
            show(v),
            type_name(v)
        )),
    }
}

/// `append(list, src...)` for a list `src`: its elements stored a chunk
/// at a time between safepoints, each read from `src` just before it is
/// stored (`object::list_append_list`; for a nil `list`, `new_list_slice`
/// does the same). Both values must be rooted (they are in registers).
fn append_list(
    p: &mut P,
    g: &mut Mutator,
    list: Value,
    src: weft_gc::ObjRef,
    root: &AtomicU64,
) -> Res<Value> {
    if list.is_nil() {
        let n = object::list_len(src);
        return object::new_list_slice(p, g, src, 0, n, root).map_err(oom);
    }
    match object::obj_of_kind(list, Kind::List) {
        Some(l) => {
            object::list_append_list(p, g, l, src).map_err(oom)?;
            Ok(list)
        }
        None => append(p, g, list, &[], root),
    }
}

fn append(
    p: &mut P,
    g: &mut Mutator,
    list: Value,
    items: &[Value],
    root: &AtomicU64,
) -> Res<Value> {
    if list.is_nil() {
        return object::new_list(p, g, items, root).map_err(oom);
    }
    match object::kind_of(list) {
        Some(Kind::List) => {
            object::list_append(p, g, obj_of(list).expect("list"), items).map_err(oom)?;
            Ok(list)
        }
        _ => Err(format!(
            "invalid argument: {} (type {}) for built-in append",
            show(list),
            type_name(list)
        )),
    }
}

/// The type name `typeof` reports.
pub fn type_name(v: Value) -> &'static str {
    if v.is_nil() {
        "nil"
    } else if v.as_bool().is_some() {
        "bool"
    } else if v.is_float() {
        "float"
    } else if v.is_inline_int() {
        "int"
    } else {
        match object::kind_of(v) {
            Some(Kind::BoxedInt) => "int",
            Some(Kind::Str) => "string",
            Some(Kind::List) => "list",
            Some(Kind::Map) => "map",
            Some(Kind::Error) => "error",
            Some(Kind::Chan) => "chan",
            Some(Kind::StdModule | Kind::Module) => "module",
            Some(Kind::Opaque) => "object",
            Some(Kind::Closure | Kind::Builtin | Kind::BoundMethod) => "func",
            _ => "object",
        }
    }
}

/// The decimal text of `i`, written at the end of `buf`.
fn format_int(i: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = i.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

/// The order in which printing sorts map keys (Go's fmt sorts keys): nil,
/// bools (false first), numbers by value, strings by bytes, then the rest by address.
pub fn key_order(a: Value, b: Value) -> Ordering {
    let rank = |v: Value| {
        if v.is_nil() {
            0
        } else if v.as_bool().is_some() {
            1
        } else if num(v).is_some() {
            2
        } else if object::kind_of(v) == Some(Kind::Str) {
            3
        } else {
            4
        }
    };
    match (rank(a), rank(b)) {
        (1, 1) => a.as_bool().cmp(&b.as_bool()),
        (2, 2) => num(a)
            .zip(num(b))
            .and_then(|(x, y)| arith::num_cmp(x, y))
            .unwrap_or(Ordering::Equal),
        (3, 3) => object::string_bytes(obj_of(a).expect("str"))
            .cmp(&object::string_bytes(obj_of(b).expect("str"))),
        (4, 4) => a.bits().cmp(&b.bits()),
        (x, y) => x.cmp(&y),
    }
}

/// The method `name` of a struct instance's type.
pub fn method_of(v: Value, name: &[u8]) -> Option<Value> {
    let inst = obj_of(v).filter(|_| object::kind_of(v) == Some(Kind::Instance))?;
    find_method(instance_type(inst)?, name)
}

/// A struct instance's fields: names and values in declaration order.
pub fn struct_fields(v: Value) -> Vec<(Vec<u8>, Value)> {
    let Some(inst) = object::obj_of_kind(v, Kind::Instance) else {
        return Vec::new();
    };
    struct_field_names(v)
        .into_iter()
        .enumerate()
        .map(|(i, n)| (n, instance_field(inst, i)))
        .collect()
}

/// A struct instance's field names in declaration order (empty for any
/// other value). A type's fields never change, so these stay true.
pub fn struct_field_names(v: Value) -> Vec<Vec<u8>> {
    object::obj_of_kind(v, Kind::Instance)
        .and_then(instance_type)
        .map(type_field_names)
        .unwrap_or_default()
}

/// Field `i` of a struct instance, read now.
pub fn struct_field(v: Value, i: usize) -> Option<Value> {
    object::obj_of_kind(v, Kind::Instance).map(|inst| instance_field(inst, i))
}

/// The type name `typeof` reports, with struct instances named by their type.
pub fn type_name_full(v: Value) -> String {
    match obj_of(v).filter(|_| object::kind_of(v) == Some(Kind::Instance)) {
        Some(inst) => instance_type(inst).map(type_name_of).unwrap_or_default(),
        None => match crate::native::opaque_type(v) {
            Some((_, t)) => t.name.to_string(),
            None => type_name(v).to_string(),
        },
    }
}

/// The `%v` text of a value.
pub fn show(v: Value) -> String {
    show_with(v, false, &mut Vec::new())
}

/// The `%+v` text of a value: struct fields with their names (`{x:1 y:2}`).
pub fn show_plus(v: Value) -> String {
    show_with(v, true, &mut Vec::new())
}

/// Nesting deeper than this shows as `...`, as `fmt` prints it, and so
/// does a list, map or struct met again inside itself (a panic's value,
/// an operand in a runtime error's message): it must not recurse without
/// end, nor walk a list that holds itself twice 2^64 times.
const SHOW_MAX_DEPTH: usize = 64;

/// `path`: the containers being shown, outermost first (its length is
/// the depth).
fn show_with(v: Value, plus: bool, path: &mut Vec<u64>) -> String {
    if path.len() > SHOW_MAX_DEPTH
        || matches!(
            object::kind_of(v),
            Some(Kind::List | Kind::Instance | Kind::Map)
        ) && path.contains(&v.bits())
    {
        return "...".into();
    }
    let mut show = |x: Value| {
        path.push(v.bits());
        let text = show_with(x, plus, path);
        path.pop();
        text
    };
    if v.is_nil() {
        return "<nil>".into();
    }
    if let Some(b) = v.as_bool() {
        return b.to_string();
    }
    if let Some(f) = v.as_float() {
        return format_float_v(f);
    }
    if let Some(i) = object::int_of(v) {
        return i.to_string();
    }
    match object::kind_of(v) {
        Some(Kind::Str) => {
            String::from_utf8_lossy(&object::string_bytes(obj_of(v).expect("str"))).into_owned()
        }
        Some(Kind::List) => {
            let l = obj_of(v).expect("list");
            let items: Vec<String> = (0..object::list_len(l))
                .filter_map(|i| object::list_get(l, i))
                .map(show)
                .collect();
            format!("[{}]", items.join(" "))
        }
        Some(Kind::Closure | Kind::Builtin | Kind::BoundMethod | Kind::Chan) => {
            format!("{:#x}", v.as_object().unwrap_or(0))
        }
        Some(Kind::Instance) => {
            let inst = obj_of(v).expect("instance");
            let n = instance_type(inst).map_or(0, type_field_count);
            // The names only for `%+v`.
            let names = match instance_type(inst) {
                Some(t) if plus => type_field_names(t),
                _ => Vec::new(),
            };
            let fields: Vec<String> = (0..n)
                .map(|i| {
                    let value = show(instance_field(inst, i));
                    match names.get(i).filter(|_| plus) {
                        Some(name) => format!("{}:{value}", String::from_utf8_lossy(name)),
                        None => value,
                    }
                })
                .collect();
            format!("{{{}}}", fields.join(" "))
        }
        Some(Kind::StructType) => obj_of(v).map(type_name_of).unwrap_or_default(),
        Some(Kind::Error) => {
            String::from_utf8_lossy(&crate::native::error_parts(v).unwrap_or_default().0)
                .into_owned()
        }
        Some(Kind::StdModule | Kind::Module) => "module".into(),
        Some(Kind::Map) => {
            let mut entries = object::map_entries(obj_of(v).expect("map"));
            entries.sort_by(|a, b| key_order(a.0, b.0));
            let items: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}:{}", show(*k), show(*v)))
                .collect();
            format!("map[{}]", items.join(" "))
        }
        _ => "?".into(),
    }
}

/// Go's `%v` for a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest
/// digits, exponent form when the decimal exponent is below -4 or at least 6
/// (the precision Go uses for this decision with shortest formatting).
pub fn format_float_v(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    // Decimal form from the shortest digits.
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let point = exp + 1;
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if point <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-point) as usize));
        out.push_str(&digits);
    } else if point as usize >= digits.len() {
        out.push_str(&digits);
        out.push_str(&"0".repeat(point as usize - digits.len()));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_v() {
        for (f, s) in [
            (3.0, "3"),
            (1e6, "1e+06"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e20, "1e+20"),
            (100000.0, "100000"),
            (1234567.0, "1.234567e+06"),
            (123456.7, "123456.7"),
            (5e-324, "5e-324"),
            (123456789.0, "1.23456789e+08"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (-0.0, "-0"),
        ] {
            assert_eq!(format_float_v(f), s, "{f}");
        }
    }

    #[test]
    fn ints_format_in_decimal_over_the_whole_range() {
        for i in [0, 7, -7, 10, 499, -1000, i64::MAX, i64::MIN, 1 << 50] {
            let mut buf = [0u8; 20];
            assert_eq!(format_int(i, &mut buf), i.to_string().as_bytes(), "{i}");
        }
    }
}

#[cfg(test)]
mod load_tests {
    use super::*;

    #[test]
    fn builtins_are_builtin_objects() {
        let program = weft_lang::compile_program_source("t.weft", "println(1)\n").unwrap();
        let (vm, _p, _g) = Vm::load(&program, Natives::default()).unwrap();
        let b = vm.builtins[9];
        assert_eq!(object::kind_of(b), Some(Kind::Builtin));
    }

    /// `Program`'s fields are public: bytecode that names a register outside
    /// its frame (which the interpreter would read unchecked) is refused by
    /// `Vm::load` with an error, not run.
    #[test]
    fn hand_built_bytecode_outside_the_frame_is_refused() {
        let mut program =
            weft_lang::compile_program_source("t.weft", "x := 1\nprintln(x)\n").unwrap();
        let module = &mut program.modules.last_mut().unwrap().compiled;
        let mut init = (*module.init).clone();
        init.code.insert(
            0,
            Op::Move {
                a: Reg(init.max_registers + 3),
                b: Reg(0),
            },
        );
        init.lines.insert(0, 1);
        module.init = std::rc::Rc::new(init);
        match Vm::load(&program, Natives::default()) {
            Err(LoadError::InvalidBytecode(e)) => assert!(e.message.contains("register")),
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("invalid bytecode was loaded"),
        }
    }
}
