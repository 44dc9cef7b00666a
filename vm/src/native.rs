//! The native-function interface: how `stdlib` (and, later, embedders) add
//! modules of Rust functions that scripts call as `module.Name(args)`.
//!
//! A [`ModuleDef`] names its functions and constants; a [`Natives`] registry
//! of them is handed to [`crate::interp::Vm::load`]. A function receives a
//! [`NativeCtx`] (the P, the goroutine's collector record, the output stream,
//! and a few rooted scratch slots) and its arguments, and returns its results
//! or a panic message (Go-style `value, err` results are just two results).
//!
//! Rooting: arguments are rooted by the caller's registers. Allocation is a
//! safepoint, so a native that allocates more than once must keep every object
//! it still needs reachable: [`NativeCtx::keep`] parks a value in a scanned
//! slot; the builders ([`NativeCtx::new_list`], [`NativeCtx::strings_list`])
//! do that themselves.

use crate::heap::Kind;
use crate::object;
pub use crate::sched::Semas;
use crate::value::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use weft_gc::{Mutator, ObjRef, P};

/// A native function.
pub type NativeFn = fn(&mut NativeCtx<'_>, &[Value]) -> Result<Results, String>;

/// A native's fast path for a float argument: one float in, one float out,
/// nothing else done (see `ModuleDef::float_fns`).
pub type FloatFn = fn(f64) -> f64;

/// A native function's results: up to three are kept inline (no heap
/// allocation per call). Build them with [`results!`](crate::results),
/// as `vec!`.
pub type Results = smallvec::SmallVec<[Value; 3]>;

/// Builds [`Results`] as `vec!` builds a `Vec`.
#[macro_export]
macro_rules! results {
    ($($v:expr),* $(,)?) => {
        $crate::native::Results::from_slice(&[$($v),*])
    };
}

/// A constant of a native module.
#[derive(Clone, Debug, PartialEq)]
pub enum NativeConst {
    Int(i64),
    Float(f64),
    Str(&'static str),
}

/// A module of native functions and constants.
#[derive(Clone, Debug, Default)]
pub struct ModuleDef {
    pub functions: HashMap<&'static str, NativeFn>,
    /// Functions that, given one float, return one float and do nothing
    /// else (`math.Sqrt`): the interpreter's fast loop calls these
    /// directly, as it does arithmetic, when the argument is a float. The
    /// same name's entry in `functions` does the rest (ints, errors).
    pub float_fns: HashMap<&'static str, FloatFn>,
    pub constants: HashMap<&'static str, NativeConst>,
    /// Members computed when read (`os.Args`): the first result of the function.
    pub getters: HashMap<&'static str, NativeFn>,
}

impl ModuleDef {
    pub fn function(mut self, name: &'static str, f: NativeFn) -> ModuleDef {
        self.functions.insert(name, f);
        // A replaced float function loses its fast path with it.
        self.float_fns.remove(name);
        self
    }

    /// A function of one float to one float (see `float_fns`): `f` is the
    /// native for every call, `pure` its fast path for a float argument;
    /// they must agree on floats.
    pub fn float_function(mut self, name: &'static str, f: NativeFn, pure: FloatFn) -> ModuleDef {
        self.functions.insert(name, f);
        self.float_fns.insert(name, pure);
        self
    }

    pub fn getter(mut self, name: &'static str, f: NativeFn) -> ModuleDef {
        self.getters.insert(name, f);
        self
    }

    pub fn constant(mut self, name: &'static str, c: NativeConst) -> ModuleDef {
        self.constants.insert(name, c);
        self
    }
}

/// The native modules available to a program, by import path.
#[derive(Clone, Debug, Default)]
pub struct Natives {
    pub modules: HashMap<&'static str, ModuleDef>,
}

impl Natives {
    pub fn module(mut self, path: &'static str, def: ModuleDef) -> Natives {
        self.modules.insert(path, def);
        self
    }

    /// The import paths of these modules: what the compiler must accept
    /// (`weft_lang::load_program_with_modules`) for a program to import an
    /// embedder's modules beside the standard library's.
    pub fn module_paths(&self) -> Vec<&'static str> {
        let mut paths: Vec<&'static str> = self.modules.keys().copied().collect();
        paths.sort_unstable();
        paths
    }
}

/// A step run under the semaphore table's lock: it may wake goroutines and
/// returns the key (and wait reason) to park the caller on, if it must wait.
pub type SemaOp<'a> = &'a mut dyn FnMut(&mut Semas) -> Result<Option<(u64, &'static str)>, String>;

/// What the interpreter offers a native function beyond the heap.
pub trait NativeHost {
    /// Writes to the program's standard output (buffered) from the M
    /// holding `p` (a write that may block is a blocking region of `p`).
    fn write_out(&mut self, p: &mut P, bytes: &[u8]);
    /// Flushes the program's standard output (a blocking region of `p`).
    fn flush_out(&mut self, p: &mut P);
    /// The program's arguments (`os.Args`: the script path, then its arguments).
    fn program_args(&self) -> Vec<String>;
    /// Calls a Weft function value and returns its results. The arguments
    /// must be rooted by the caller; the results are not rooted.
    fn call(
        &mut self,
        p: &mut P,
        g: &mut Mutator,
        f: Value,
        args: &[Value],
    ) -> Result<Results, String>;
    /// Parks the calling goroutine for `ns` nanoseconds once the native returns.
    fn sleep(&mut self, ns: i64) -> Result<(), String>;
    /// Lets other goroutines run once the native returns.
    fn yield_now(&mut self);
    /// Runs `f` under the semaphore table's lock; if it returns a key, the
    /// goroutine parks on that key once the native returns (woken by
    /// [`Semas::wake`] in another goroutine's `f`).
    fn with_semas(&mut self, f: SemaOp<'_>) -> Result<(), String>;
    /// Arms a timer that sends the time on `chan` (rooted by the timer table
    /// from now on) in `ns` nanoseconds, then every `period` if positive.
    fn add_timer(&mut self, ns: i64, chan: Value, period: i64) -> u64;
    /// Stops a timer; whether it was pending.
    fn stop_timer(&mut self, id: u64) -> bool;
    /// Re-arms a timer; whether it was pending.
    fn reset_timer(&mut self, id: u64, ns: i64, chan: Value, period: i64) -> bool;
    /// Live goroutines.
    fn num_goroutine(&self) -> usize;
    /// `WEFTMAXPROCS`, or what `set_gomaxprocs` set since.
    fn gomaxprocs(&self) -> usize;
    /// Sets how many Ms may run goroutines at once (capped at the number
    /// of Ps); returns the previous setting.
    fn set_gomaxprocs(&mut self, n: usize) -> usize;
    /// Bytes held by goroutine stacks and records outside the heap.
    fn stack_bytes(&self) -> usize;
    /// The descriptor that becomes readable when the program is over (see
    /// [`crate::blocking`]); `-1` when there is none.
    fn exit_fd(&self) -> std::os::fd::RawFd {
        -1
    }
    /// The goroutine enters a call that may block its thread (see
    /// [`NativeCtx::blocking`]).
    fn enter_syscall(&mut self) {}
    /// ... and comes back from it: may wait (called inside the blocking
    /// region, touching no heap object) until it may run Weft code again.
    fn exit_syscall(&mut self) {}
    /// Relays the signals in `mask` (bit n: signal n) to `chan` from now on.
    fn signal_notify(&mut self, chan: Value, mask: u64) -> Result<(), String>;
    /// Stops relaying to `chan` (`None`: stops relaying the signals in
    /// `mask` to any channel).
    fn signal_stop(&mut self, chan: Option<Value>, mask: u64);
}

/// What a native function may use.
pub struct NativeCtx<'a> {
    pub p: &'a mut P,
    pub g: &'a mut Mutator,
    pub(crate) host: &'a mut dyn NativeHost,
    /// Scanned slots (registers above the call) for [`NativeCtx::keep`].
    pub(crate) keep: &'a [AtomicU64],
    /// Where `keep` starts in the M's keep stack, whose scanned extent is
    /// raised as slots are taken (see `interp::KeepStack`).
    pub(crate) keep_base: usize,
    pub(crate) keep_stack: &'a crate::interp::KeepStack,
    pub(crate) kept: usize,
    /// The most slots used at once (they are cleared after the call).
    pub(crate) high_water: usize,
}

/// The work (bytes or elements) from which [`NativeCtx::off_heap`] lets the
/// collector stop the world without waiting: about 100 µs of scanning or
/// sorting, the pause budget's order.
pub const OFF_HEAP_WORK: usize = 64 * 1024;

fn oom(e: weft_gc::AllocError) -> String {
    format!("runtime: {e}")
}

impl<'a> NativeCtx<'a> {
    /// Writes to the program's standard output.
    pub fn write(&mut self, bytes: &[u8]) {
        self.host.write_out(self.p, bytes);
    }

    /// The program's arguments (`os.Args`).
    pub fn program_args(&self) -> Vec<String> {
        self.host.program_args()
    }

    /// Flushes the program's standard output (before exiting, for instance).
    pub fn flush(&mut self) {
        self.host.flush_out(self.p);
    }

    /// Calls a Weft function value (a callback such as `sort.Slice`'s `less`).
    /// A panic in it becomes this native's panic.
    ///
    /// Each call's window starts at the same register, so the results stay
    /// rooted (in registers the collector scans while the goroutine runs)
    /// only until the next `call`: [`NativeCtx::keep`] an object result
    /// that must outlive it.
    pub fn call(&mut self, f: Value, args: &[Value]) -> Result<Results, String> {
        self.host.call(self.p, self.g, f, args)
    }

    /// Runs `f`, a call that may block the thread (reading stdin, file I/O),
    /// as Go's entersyscall/exitsyscall: the collector does not wait for this
    /// P meanwhile. `f` must not touch the heap: it gets no P, and values it
    /// needs afterwards must be rooted (arguments are).
    ///
    /// The G gives up its right to run Weft code meanwhile: another M may run
    /// goroutines in its place, and the G waits for that right back when `f`
    /// returns (still inside the blocking region).
    pub fn blocking<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.host.enter_syscall();
        let host = &mut *self.host;
        self.p.blocking(|| {
            let r = f();
            host.exit_syscall();
            r
        })
    }

    /// Runs `f`, a computation on data already copied out of the heap
    /// (sorting a `Vec`, scanning bytes), so that a long one does not hold
    /// up a stop-the-world: when `work` (the bytes or elements it goes
    /// through) is at least [`OFF_HEAP_WORK`], the P counts as stopped
    /// meanwhile, as in [`NativeCtx::blocking`], but the goroutine keeps its
    /// right to run (it is busy, not waiting). Below that, `f` just runs: a
    /// blocking region costs two lock round trips.
    ///
    /// `f` gets no P, so it cannot allocate or store into the heap. While
    /// it runs, a collection may finish, and other goroutines run on: an
    /// object is safe to use in `f` (or after it) only if the native's own
    /// roots hold it, its arguments or kept values, not if it was merely
    /// read out of a list or map another goroutine may change meanwhile.
    /// Immutable objects so held (strings) may be read.
    pub fn off_heap<R>(&mut self, work: usize, f: impl FnOnce() -> R) -> R {
        if work < OFF_HEAP_WORK {
            f()
        } else {
            self.p.blocking(f)
        }
    }

    /// The bytes of a string value, if it is one. A long string (at least
    /// [`OFF_HEAP_WORK`] bytes) is copied as [`NativeCtx::off_heap`] work:
    /// copying `strings.Split`'s 32 MB text into fresh memory held up a
    /// stop-the-world for 9 ms. `v` must be an argument or kept.
    pub fn string_arg(&mut self, v: Value) -> Option<Vec<u8>> {
        let s = object::obj_of_kind(v, Kind::Str)?;
        Some(self.off_heap(object::string_len(s), || object::string_bytes(s)))
    }

    /// The descriptor that becomes readable when the program is over: a
    /// native that may wait indefinitely inside [`NativeCtx::blocking`]
    /// waits with [`crate::blocking::read_unless_exiting`] on it, and
    /// returns [`program_over`] when that gives up.
    pub fn exit_fd(&self) -> std::os::fd::RawFd {
        self.host.exit_fd()
    }

    /// Parks the goroutine for `ns` nanoseconds once this native returns.
    pub fn sleep(&mut self, ns: i64) -> Result<(), String> {
        self.host.sleep(ns)
    }

    /// Lets other goroutines run once this native returns (`runtime.Gosched`).
    pub fn yield_now(&mut self) {
        self.host.yield_now()
    }

    /// See [`NativeHost::with_semas`]: the building block of `sync`.
    pub fn with_semas(&mut self, f: SemaOp<'_>) -> Result<(), String> {
        self.host.with_semas(f)
    }

    /// Arms a timer sending the time on `chan` after `ns`, then every `period` (if > 0).
    pub fn add_timer(&mut self, ns: i64, chan: Value, period: i64) -> u64 {
        // The timer table is scanned only at the start of a cycle: a channel
        // entering it during the mark is shaded (a barriered store).
        shade(self.p, chan);
        self.host.add_timer(ns, chan, period)
    }

    /// Stops a timer; whether it was pending.
    pub fn stop_timer(&mut self, id: u64) -> bool {
        self.host.stop_timer(id)
    }

    /// Re-arms a timer; whether it was pending.
    pub fn reset_timer(&mut self, id: u64, ns: i64, chan: Value, period: i64) -> bool {
        shade(self.p, chan);
        self.host.reset_timer(id, ns, chan, period)
    }

    /// Live goroutines.
    pub fn num_goroutine(&self) -> usize {
        self.host.num_goroutine()
    }

    /// The number of Ps running goroutines (`WEFTMAXPROCS` at the start).
    pub fn gomaxprocs(&self) -> usize {
        self.host.gomaxprocs()
    }

    /// `runtime.GOMAXPROCS(n)` for `n > 0`: the previous setting.
    pub fn set_gomaxprocs(&mut self, n: usize) -> usize {
        self.host.set_gomaxprocs(n)
    }

    /// Bytes held by goroutine stacks and records outside the heap.
    pub fn stack_bytes(&self) -> usize {
        self.host.stack_bytes()
    }

    /// `signal.Notify`: relays the signals in `mask` (bit n: signal n, see
    /// [`crate::signal::by_name`]) to channel `chan`.
    pub fn signal_notify(&mut self, chan: Value, mask: u64) -> Result<(), String> {
        if object::kind_of(chan) != Some(Kind::Chan) {
            return Err("signal.Notify: argument 1 must be a channel".into());
        }
        // The signal table is scanned at the start of a cycle: a channel
        // entering it during the mark is shaded.
        shade(self.p, chan);
        self.host.signal_notify(chan, mask)
    }

    /// `signal.Stop(chan)` / `signal.Reset(sigs)`.
    pub fn signal_stop(&mut self, chan: Option<Value>, mask: u64) {
        self.host.signal_stop(chan, mask)
    }

    /// A new channel with room for `cap` values (kept).
    pub fn new_chan(&mut self, cap: usize) -> Result<Value, String> {
        let slot = self.take_slot()?;
        object::new_chan(self.p, self.g, cap, slot).map_err(oom)
    }

    /// A `time.Time` for `unix_nanos` (kept).
    pub fn new_time(&mut self, unix_nanos: i64) -> Result<Value, String> {
        let slot = self.take_slot()?;
        new_time(self.p, self.g, unix_nanos, std::slice::from_ref(slot))
    }

    /// The next free keep slot (the caller stores into it).
    fn take_slot(&mut self) -> Result<&'a AtomicU64, String> {
        let slot = self
            .keep
            .get(self.kept)
            .ok_or("native function kept too many values")?;
        self.kept += 1;
        if self.kept > self.high_water {
            self.high_water = self.kept;
            self.keep_stack.cover(self.keep_base + self.kept);
        }
        Ok(slot)
    }

    /// Parks `v` in a scanned slot until the native returns.
    pub fn keep(&mut self, v: Value) -> Result<(), String> {
        self.take_slot()?.store(v.bits(), Relaxed);
        Ok(())
    }

    /// Releases every keep slot taken after the one holding `v` (their values
    /// are reachable from `v` now). Does nothing if `v` is not kept.
    pub fn release_after(&mut self, v: Value) -> Result<(), String> {
        if let Some(i) = self.keep[..self.kept]
            .iter()
            .rposition(|s| s.load(Relaxed) == v.bits())
        {
            self.kept = i + 1;
        }
        Ok(())
    }

    /// Releases the last `n` kept values (once they are reachable otherwise).
    pub fn release(&mut self, n: usize) {
        self.kept = self.kept.saturating_sub(n);
    }

    /// A safepoint, for a native that works for long without allocating
    /// (joining a million strings): a collection waiting to stop the world
    /// can go ahead here instead of waiting for the native to return, and
    /// during the mark the goroutine's stack is scanned here if the cycle
    /// still needs it (`P::poll`), rather than in mark termination. Every
    /// heap value the native still uses must be reachable from its
    /// arguments or kept ([`NativeCtx::keep`]) across the call.
    pub fn safepoint(&mut self) {
        self.p.poll(self.g);
    }

    /// [`NativeCtx::safepoint`] after every `every` steps of a long loop,
    /// at step `i` (as the runtime's own copies and fills poll).
    pub fn safepoint_every(&mut self, i: usize, every: usize) {
        if i % every == every - 1 {
            self.safepoint();
        }
    }

    /// A new empty map (kept).
    pub fn new_empty_map(&mut self) -> Result<Value, String> {
        let slot = self.take_slot()?;
        object::new_map(self.p, self.g, 0, slot).map_err(oom)
    }

    /// `map[key] = value`; `key` and `value` must be rooted.
    pub fn map_set(&mut self, map: Value, key: Value, value: Value) -> Result<(), String> {
        let m = object::obj_of(map)
            .filter(|_| object::kind_of(map) == Some(Kind::Map))
            .ok_or("not a map")?;
        object::map_set(self.p, self.g, m, key, value)
            .map_err(oom)?
            .map_err(|e| format!("hash of unhashable type {}", e.0))
    }

    /// Appends a rooted value to a list.
    pub fn list_push(&mut self, list: Value, value: Value) -> Result<(), String> {
        let l = object::obj_of(list)
            .filter(|_| object::kind_of(list) == Some(Kind::List))
            .ok_or("not a list")?;
        object::list_append(self.p, self.g, l, &[value]).map_err(oom)
    }

    /// A new string (kept).
    pub fn new_string(&mut self, bytes: &[u8]) -> Result<Value, String> {
        let slot = self.take_slot()?;
        object::new_string_rooted(self.p, self.g, bytes, slot).map_err(oom)
    }

    /// A new byte buffer with room for `cap` bytes (kept): a private,
    /// growable string a native appends to (see `byte_buffer_append`) and
    /// hands over whole as a string with `byte_buffer_into_string`.
    pub fn new_byte_buffer(&mut self, cap: usize) -> Result<Value, String> {
        let v = object::new_byte_buffer(self.p, self.g, cap).map_err(oom)?;
        self.keep(v)?;
        Ok(v)
    }

    /// Appends `more` (bytes, or the bytes of a string value) to byte
    /// buffer `buf` (rooted by the caller). Returns the buffer now holding
    /// the text: `buf` itself, or, when it was full, a new one twice as
    /// large (kept) that the caller stores in place of it.
    pub fn byte_buffer_append(&mut self, buf: Value, more: Bytes<'_>) -> Result<Value, String> {
        let b = object::obj_of_kind(buf, Kind::Str).ok_or("not a byte buffer")?;
        if more.push_into(b) {
            return Ok(buf);
        }
        self.byte_buffer_append_copy(buf, more)
    }

    /// [`NativeCtx::byte_buffer_append`] into a new buffer (kept), for a
    /// buffer that must not change any more (handed over as a string by
    /// `byte_buffer_into_string`): its bytes are copied into one twice as
    /// large, then `more` is appended there. Returns the new buffer.
    pub fn byte_buffer_append_copy(
        &mut self,
        buf: Value,
        more: Bytes<'_>,
    ) -> Result<Value, String> {
        let b = object::obj_of_kind(buf, Kind::Str).ok_or("not a byte buffer")?;
        let more_len = more.len();
        // Kept across the allocation below: the caller may hold it only in
        // a slot a racing goroutine can overwrite (a Builder's state).
        self.keep(buf)?;
        let len = object::string_len(b);
        let cap = (2 * object::byte_buffer_cap(b)).max(len + more_len);
        let grown = self.new_byte_buffer(cap)?;
        let g = object::obj_of(grown).expect("buffer");
        // Room for both, unless a racing writer lengthened `b` meanwhile:
        // then this write is lost, as racing writes to one builder may be.
        let _ = object::copy_string_polling(self.p, self.g, g, b, len) && more.push_into(g);
        Ok(grown)
    }

    /// Hands byte buffer `buf` over as a string value: the buffer itself,
    /// its last word masked to its length (a string's padding is zero;
    /// only a racing append could have left bytes there). Its owner must
    /// not append to it again, but to a copy (`byte_buffer_append_copy`).
    /// Go's `Builder.String` shares its bytes the same way; copying them
    /// out cost strings_maps 32 MB a round.
    pub fn byte_buffer_into_string(&mut self, buf: Value) -> Result<Value, String> {
        let b = object::obj_of_kind(buf, Kind::Str).ok_or("not a byte buffer")?;
        object::byte_buffer_seal(b);
        Ok(buf)
    }

    /// A new list of rooted values (kept).
    pub fn new_list(&mut self, items: &[Value]) -> Result<Value, String> {
        let slot = self.take_slot()?;
        object::new_list(self.p, self.g, items, slot).map_err(oom)
    }

    /// A new list of `n` nils (kept), filled with safepoints on the way: no
    /// slice of nils to pass (for two million, 16 MB of fresh memory whose
    /// page faults held a stop-the-world for 24 ms).
    pub fn new_nil_list(&mut self, n: usize) -> Result<Value, String> {
        let slot = self.take_slot()?;
        object::new_nil_list(self.p, self.g, n, slot).map_err(oom)
    }

    /// A map value's entries in insertion order, copied into a new list
    /// (kept; one keep slot, also for a value that is not a map, whose
    /// snapshot is empty). Each entry is stored into the list as it is
    /// read, with no safepoint between, so the snapshot holds every key
    /// and value it names whatever other goroutines do to the map
    /// meanwhile (Go's fmt also prints a snapshot of a map's entries).
    pub fn map_snapshot(&mut self, map: Value) -> Result<MapSnapshot, String> {
        let Some(m) = object::obj_of_kind(map, Kind::Map) else {
            self.keep(Value::NIL)?;
            return Ok(MapSnapshot { list: Value::NIL });
        };
        let n = object::map_len(m);
        let list = self.new_nil_list(2 * n)?;
        let l = object::obj_of(list).expect("a new list");
        // The map may have shrunk or grown while the list was allocated
        // (that reaches safepoints): take what it holds now, up to `n`.
        let mut taken = 0;
        let mut pos = 0;
        while taken < n {
            let Some((k, v, next)) = object::map_next(m, pos) else {
                break;
            };
            object::list_set(self.p, l, 2 * taken, k);
            object::list_set(self.p, l, 2 * taken + 1, v);
            taken += 1;
            pos = next;
        }
        object::list_truncate(self.p, l, 2 * taken);
        Ok(MapSnapshot { list })
    }

    /// A new list of new strings, each rooted as soon as it exists (kept).
    pub fn strings_list<T: AsRef<[u8]>>(&mut self, parts: &[T]) -> Result<Value, String> {
        self.strings_list_with(parts.len(), |i| parts[i].as_ref())
    }

    /// A new list of `n` new strings, string `i` made from `part(i)`, each
    /// rooted in the list as soon as it exists (kept). For natives that
    /// can say where each part is without a vector of them (`Split`).
    pub fn strings_list_with<'p>(
        &mut self,
        n: usize,
        mut part: impl FnMut(usize) -> &'p [u8],
    ) -> Result<Value, String> {
        let slot = self.take_slot()?;
        let list = object::new_nil_list(self.p, self.g, n, slot).map_err(oom)?;
        let l = object::obj_of(list).expect("list");
        for i in 0..n {
            let s = object::new_string(self.p, self.g, part(i)).map_err(oom)?;
            object::list_set(self.p, l, i, s);
        }
        Ok(list)
    }

    /// A new int value (boxed if it does not fit inline; kept).
    pub fn new_int(&mut self, i: i64) -> Result<Value, String> {
        let v = object::new_int(self.p, self.g, i).map_err(oom)?;
        self.keep(v)?;
        Ok(v)
    }

    /// A new map from string keys to ints (kept; each entry is rooted in the
    /// map before the next allocation).
    pub fn new_map(&mut self, entries: &[(&str, i64)]) -> Result<Value, String> {
        let slot = self.take_slot()?;
        let map = object::new_map(self.p, self.g, entries.len(), slot).map_err(oom)?;
        let m = object::obj_of(map).expect("map");
        for (k, v) in entries {
            let key = self.new_string(k.as_bytes())?;
            let value = self.new_int(*v)?;
            object::map_set(self.p, self.g, m, key, value)
                .map_err(oom)?
                .map_err(|e| e.0.to_string())?;
            self.kept -= 2;
        }
        Ok(map)
    }

    /// A new native object of type `ty` with `n` state slots (nil), kept.
    /// Its methods are the functions `Type.Method` of the type's module.
    pub fn new_opaque(&mut self, ty: &NativeType, n: usize) -> Result<Value, String> {
        let id = ty.register()?;
        let obj = self
            .p
            .alloc(self.g, Kind::Opaque.type_id(), (OPAQUE_STATE + n) * 8)
            .map_err(oom)?;
        // SAFETY: just allocated; kept right below.
        let slots = unsafe { obj.slots() };
        // An inline int: no pointer, so no barrier.
        slots[0].store(id.bits(), Relaxed);
        for slot in &slots[OPAQUE_STATE..] {
            slot.store(Value::NIL.bits(), Relaxed);
        }
        let v = Value::object(obj.addr());
        self.keep(v)?;
        Ok(v)
    }

    /// Sets state slot `i` of a native object (`value` must be rooted).
    pub fn set_state(&mut self, obj: Value, i: usize, value: Value) -> Result<(), String> {
        let slots = opaque_slots(obj).ok_or("not a native object")?;
        let slot = slots
            .get(OPAQUE_STATE + i)
            .ok_or("native object state index out of range")?;
        self.p.write_slot(slot, value.bits());
        Ok(())
    }

    /// A new error value with `message` (kept).
    pub fn new_error(&mut self, message: &[u8], wrapped: Value) -> Result<Value, String> {
        let msg = self.new_string(message)?;
        let err = self
            .p
            .alloc(self.g, Kind::Error.type_id(), 16)
            .map_err(oom)?;
        // SAFETY: just allocated; kept right below.
        let slots = unsafe { err.slots() };
        self.p.write_slot(&slots[0], msg.bits());
        self.p.write_slot(&slots[1], wrapped.bits());
        let v = Value::object(err.addr());
        self.keep(v)?;
        Ok(v)
    }
}

/// What a native returns when the program ended while it waited (see
/// [`NativeCtx::exit_fd`]): the goroutine stops where it is, with no panic
/// and no deferred call run, as every goroutine does at the program's end.
pub fn program_over() -> String {
    // The interpreter's "suspended" error: an empty message with no reason
    // to park makes the G yield, and the program's end drains it.
    String::new()
}

/// The `%v` text of a value (what `fmt.Println` prints for it).
pub fn show(v: Value) -> String {
    crate::interp::show(v)
}

#[inline]
fn opaque_slots(v: Value) -> Option<&'static [AtomicU64]> {
    let obj = object::obj_of_kind(v, Kind::Opaque)?;
    // SAFETY: a live native object (an argument, rooted by a register).
    Some(unsafe { obj.slots() })
}

// ---------------------------------------------------------------- native object types
//
// A native object (`Kind::Opaque`) is `[type id, state...]`: slot 0 holds its
// type's index in the process-wide table below as an inline int (no pointer,
// so it needs no barrier and the collector ignores it), the rest is the
// native's state. The table is filled on first use of each (module, type)
// pair and never shrinks, so an id stays valid for the life of the process
// and the interpreter can key its method caches on it.

/// Where a native object's state starts.
const OPAQUE_STATE: usize = 1;

/// How many distinct native object types a process may register.
const MAX_OPAQUE_TYPES: usize = 256;

/// A native object type: the module whose `Type.Method` functions are its
/// methods, and the type's name.
#[derive(Debug, PartialEq, Eq)]
pub struct OpaqueType {
    pub module: &'static str,
    pub name: &'static str,
}

/// Invariant: entries `0..OPAQUE_COUNT` are set (each is set before the
/// count that covers it is published with Release); none is ever replaced.
static OPAQUE_TYPES: [std::sync::OnceLock<OpaqueType>; MAX_OPAQUE_TYPES] =
    [const { std::sync::OnceLock::new() }; MAX_OPAQUE_TYPES];
static OPAQUE_COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// Serialises registrations (lookups take no lock).
static OPAQUE_REGISTER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn find_opaque_type(module: &str, name: &str) -> Option<usize> {
    let n = OPAQUE_COUNT.load(std::sync::atomic::Ordering::Acquire);
    (0..n).find(|&i| {
        OPAQUE_TYPES[i]
            .get()
            .is_some_and(|t| t.module == module && t.name == name)
    })
}

/// The id of the native object type `module`.`name` (registered on first
/// use), as the inline int stored in the object's slot 0.
fn opaque_type_id(module: &str, name: &str) -> Result<usize, String> {
    let id = match find_opaque_type(module, name) {
        Some(i) => i,
        None => {
            let _serial = OPAQUE_REGISTER
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match find_opaque_type(module, name) {
                Some(i) => i,
                None => {
                    let n = OPAQUE_COUNT.load(Relaxed);
                    let slot = OPAQUE_TYPES
                        .get(n)
                        .ok_or("too many native object types in one process")?;
                    // Leaked once per distinct type: the table lives as long as the process.
                    let _ = slot.set(OpaqueType {
                        module: Box::leak(module.to_owned().into_boxed_str()),
                        name: Box::leak(name.to_owned().into_boxed_str()),
                    });
                    OPAQUE_COUNT.store(n + 1, std::sync::atomic::Ordering::Release);
                    n
                }
            }
        }
    };
    Ok(id)
}

/// A native object type as the module that defines it names it: a
/// `static` beside the module's functions. The registered id is cached in
/// the handle, so that testing an object's type (every method call on a
/// `strings.Builder`, every `Mutex.Lock`) compares two ints rather than
/// two names.
pub struct NativeType {
    pub module: &'static str,
    pub name: &'static str,
    /// The type's id + 1 once registered (0: not yet). Set once to the one
    /// value the process-wide table gives `(module, name)`, so racing
    /// setters agree.
    id: AtomicUsize,
}

impl NativeType {
    pub const fn new(module: &'static str, name: &'static str) -> NativeType {
        NativeType {
            module,
            name,
            id: AtomicUsize::new(0),
        }
    }

    /// The type's id, registering the type on first use; as the inline int
    /// stored in an object's slot 0.
    fn register(&self) -> Result<Value, String> {
        let id = match self.id.load(Relaxed) {
            0 => {
                let id = opaque_type_id(self.module, self.name)?;
                self.id.store(id + 1, Relaxed);
                id
            }
            n => n - 1,
        };
        Ok(Value::int_inline(id as i64).expect("small id"))
    }

    /// The type's id, if an object of it was ever made (none can exist
    /// before that).
    #[inline]
    fn id(&self) -> Option<usize> {
        match self.id.load(Relaxed) {
            0 => self.look_up(),
            n => Some(n - 1),
        }
    }

    #[cold]
    fn look_up(&self) -> Option<usize> {
        let id = find_opaque_type(self.module, self.name)?;
        self.id.store(id + 1, Relaxed);
        Some(id)
    }

    /// Whether `v` is an object of this type.
    #[inline]
    pub fn is(&self, v: Value) -> bool {
        opaque_id_of(v).is_some_and(|id| Some(id) == self.id())
    }

    /// State slot `i` of `v`, if `v` is an object of this type.
    #[inline]
    pub fn state(&self, v: Value, i: usize) -> Option<Value> {
        self.state_slot(v, i)
            .map(|w| Value::from_bits(w.load(Relaxed)))
    }

    #[inline]
    fn state_slot(&self, v: Value, i: usize) -> Option<&'static AtomicU64> {
        let slots = opaque_slots(v)?;
        if id_in(slots)? != self.id()? {
            return None;
        }
        slots.get(OPAQUE_STATE + i)
    }

    /// State slot `i` of `v` (an object of this type), for counters kept
    /// as inline ints. Only non-pointer values (inline ints, bools, nil)
    /// may be stored into it directly: that store needs no write barrier,
    /// because the slot never holds a pointer (the barrier exists to shade
    /// pointers).
    #[inline]
    pub fn raw_state_slot(&self, v: Value, i: usize) -> Option<&'static AtomicU64> {
        self.state_slot(v, i)
    }
}

/// `time.Time`: state 0 the Unix time in nanoseconds (see [`new_time`]).
pub static TIME: NativeType = NativeType::new("time", "Time");

/// The id in slot 0 of a native object's `slots`, and its type.
fn opaque_type_in(slots: &[AtomicU64]) -> Option<(usize, &'static OpaqueType)> {
    let id = id_in(slots)?;
    Some((id, OPAQUE_TYPES.get(id)?.get()?))
}

/// The type id in slot 0 of a native object's `slots`.
#[inline]
fn id_in(slots: &[AtomicU64]) -> Option<usize> {
    let id = Value::from_bits(slots.first()?.load(Relaxed)).as_inline_int()?;
    usize::try_from(id).ok()
}

/// The type id of a native object (what inline caches key on), without
/// looking its type up.
pub(crate) fn opaque_id_of(v: Value) -> Option<usize> {
    id_in(opaque_slots(v)?)
}

/// The type of a native object, and its id (an index that never changes).
pub fn opaque_type(v: Value) -> Option<(usize, &'static OpaqueType)> {
    opaque_type_in(opaque_slots(v)?)
}

/// The method `name` of a struct instance's type, if it has one.
pub fn method_of(v: Value, name: &str) -> Option<Value> {
    crate::interp::method_of(v, name.as_bytes())
}

/// The `%+v` text of a value (struct fields named).
pub fn show_plus(v: Value) -> String {
    crate::interp::show_plus(v)
}

/// What a value is, for natives that walk values (`json.Marshal`).
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
    List(Vec<Value>),
    /// Entries in insertion order.
    Map(Vec<(Value, Value)>),
    /// Field names and values in declaration order.
    Struct(Vec<(Vec<u8>, Value)>),
    Error(Vec<u8>),
    /// Functions, modules and other kinds: their type name.
    Other(String),
}

/// A map's entries as [`NativeCtx::map_snapshot`] took them: entry `i`'s
/// key and value, read from the kept copy (rooted while it is kept).
#[derive(Debug, Clone, Copy)]
pub struct MapSnapshot {
    /// `[k0, v0, k1, v1, ...]`.
    list: Value,
}

impl MapSnapshot {
    /// The number of entries.
    pub fn len(self) -> usize {
        list_len(self.list).unwrap_or(0) / 2
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The key of entry `i` (nil past the end).
    pub fn key(self, i: usize) -> Value {
        list_get(self.list, 2 * i).unwrap_or_default()
    }

    /// The value of entry `i` (nil past the end).
    pub fn value(self, i: usize) -> Value {
        list_get(self.list, 2 * i + 1).unwrap_or_default()
    }
}

/// The containers, for natives that walk one element at a time.
///
/// A native that can reach a safepoint while it walks a value (one that
/// calls back into Weft code, as `fmt` does for `String()` methods) must not
/// hold a container's elements in a Rust copy across it: a goroutine racing
/// with it may store over the container's slot, and the copy would then be
/// the value's only holder while a collection frees it. It keeps the
/// container instead ([`NativeCtx::keep`]) and reads each element just
/// before it uses it ([`list_get`], [`struct_field`]); a map it walks
/// through a snapshot ([`NativeCtx::map_snapshot`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    List,
    Map,
    Struct,
}

/// Which container `v` is, if it is one.
pub fn container_kind(v: Value) -> Option<Container> {
    match object::kind_of(v)? {
        Kind::List => Some(Container::List),
        Kind::Map => Some(Container::Map),
        Kind::Instance => Some(Container::Struct),
        _ => None,
    }
}

/// A struct instance's field names in declaration order.
pub fn struct_field_names(v: Value) -> Vec<Vec<u8>> {
    crate::interp::struct_field_names(v)
}

/// Field `i` of a struct instance (in declaration order), read now.
pub fn struct_field(v: Value, i: usize) -> Option<Value> {
    crate::interp::struct_field(v, i)
}

/// Classifies a value.
pub fn value_kind(v: Value) -> ValueKind {
    if v.is_nil() {
        return ValueKind::Nil;
    }
    if let Some(b) = v.as_bool() {
        return ValueKind::Bool(b);
    }
    if let Some(f) = v.as_float() {
        return ValueKind::Float(f);
    }
    if let Some(i) = object::int_of(v) {
        return ValueKind::Int(i);
    }
    match object::kind_of(v) {
        Some(Kind::Str) => ValueKind::Str(string_arg(v).unwrap_or_default()),
        Some(Kind::List) => ValueKind::List(list_items(v).unwrap_or_default()),
        Some(Kind::Map) => ValueKind::Map(
            object::obj_of(v)
                .map(object::map_entries)
                .unwrap_or_default(),
        ),
        Some(Kind::Instance) => ValueKind::Struct(crate::interp::struct_fields(v)),
        Some(Kind::Error) => ValueKind::Error(error_parts(v).map(|e| e.0).unwrap_or_default()),
        _ => ValueKind::Other(type_name(v)),
    }
}

/// Bytes to append to a byte buffer (`NativeCtx::byte_buffer_append`).
#[derive(Clone, Copy)]
pub enum Bytes<'a> {
    Slice(&'a [u8]),
    /// A string's bytes, read in place (`Bytes::string`).
    Str(ObjRef),
}

impl<'a> Bytes<'a> {
    /// The bytes of a string value, if it is one.
    pub fn string(v: Value) -> Option<Bytes<'a>> {
        object::obj_of_kind(v, Kind::Str).map(Bytes::Str)
    }

    /// How many bytes.
    pub fn len(&self) -> usize {
        match *self {
            Bytes::Slice(bytes) => bytes.len(),
            Bytes::Str(s) => object::string_len(s),
        }
    }

    /// Appends these bytes to byte buffer `to` in place, if it has room
    /// (`false`, nothing written, if not).
    #[inline]
    fn push_into(self, to: ObjRef) -> bool {
        match self {
            Bytes::Slice(bytes) => object::byte_buffer_push(to, bytes.len(), |i| bytes[i]),
            Bytes::Str(s) => object::byte_buffer_push_str(to, s),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The bytes of a string value, if it is one.
pub fn string_arg(v: Value) -> Option<Vec<u8>> {
    object::obj_of_kind(v, Kind::Str).map(object::string_bytes)
}

/// The length in bytes of a string value, if it is one.
pub fn string_len(v: Value) -> Option<usize> {
    object::obj_of_kind(v, Kind::Str).map(object::string_len)
}

/// Appends the bytes of a string value to `out`; `false` if it is not one.
pub fn extend_with_string(v: Value, out: &mut Vec<u8>) -> bool {
    match object::obj_of_kind(v, Kind::Str) {
        Some(s) => {
            object::string_extend(s, out);
            true
        }
        None => false,
    }
}

/// The int a value holds, if any.
pub fn int_arg(v: Value) -> Option<i64> {
    object::int_of(v)
}

/// The number a value holds, as a float.
pub fn float_arg(v: Value) -> Option<f64> {
    v.as_float().or_else(|| object::int_of(v).map(|i| i as f64))
}

/// The length of a list value, if it is one.
pub fn list_len(v: Value) -> Option<usize> {
    object::obj_of_kind(v, Kind::List).map(object::list_len)
}

/// Element `i` of a list value, if it is one and `i` is in range.
pub fn list_get(v: Value, i: usize) -> Option<Value> {
    object::obj_of_kind(v, Kind::List).and_then(|l| object::list_get(l, i))
}

/// The elements of a list value.
pub fn list_items(v: Value) -> Option<Vec<Value>> {
    let l = object::obj_of_kind(v, Kind::List)?;
    Some(
        (0..object::list_len(l))
            .filter_map(|i| object::list_get(l, i))
            .collect(),
    )
}

/// An error value's message and wrapped error.
pub fn error_parts(v: Value) -> Option<(Vec<u8>, Value)> {
    let e = object::obj_of_kind(v, Kind::Error)?;
    // SAFETY: a live error object (an argument, rooted by a register).
    let slots = unsafe { e.slots() };
    let msg = object::obj_of(Value::from_bits(slots[0].load(Relaxed)))
        .map(object::string_bytes)
        .unwrap_or_default();
    Some((msg, Value::from_bits(slots[1].load(Relaxed))))
}

/// The type name `typeof` and `%T` report.
pub fn type_name(v: Value) -> String {
    crate::interp::type_name_full(v)
}

/// Replaces the elements of a list value in place (same length). When
/// `items_kept` (they are the native's own roots: kept, not values merely
/// read out of a list another goroutine may change), the stores stop at a
/// safepoint every [`SAFEPOINT_EVERY`]: two million barriered stores held
/// a stop-the-world for tens of milliseconds.
pub fn list_replace(ctx: &mut NativeCtx<'_>, list: Value, items: &[Value], items_kept: bool) {
    if let Some(l) = object::obj_of_kind(list, Kind::List) {
        for (i, v) in items.iter().enumerate() {
            if items_kept {
                ctx.safepoint_every(i, SAFEPOINT_EVERY);
            }
            object::list_set(ctx.p, l, i, *v);
        }
    }
}

/// Stores of a long loop of a native's between two safepoints (some tens
/// of microseconds of barriered stores), as for the runtime's own loops:
/// for [`NativeCtx::safepoint_every`].
pub const SAFEPOINT_EVERY: usize = object::SLOTS_BETWEEN_SAFEPOINTS;

/// Sets element `i` of a list value (with the barrier); `false` (nothing
/// changed) when it is not a list or `i` is out of range.
pub fn list_set(p: &mut P, list: Value, i: usize, v: Value) -> bool {
    object::obj_of_kind(list, Kind::List).is_some_and(|l| object::list_set(p, l, i, v))
}

/// Swaps elements `i` and `j` of a list value in place, each store with the
/// barrier; `false` (and nothing changed) when it is not a list or either
/// index is out of range.
pub fn list_swap(p: &mut P, list: Value, i: usize, j: usize) -> bool {
    let Some(l) = object::obj_of_kind(list, Kind::List) else {
        return false;
    };
    match (object::list_get(l, i), object::list_get(l, j)) {
        (Some(x), Some(y)) => {
            object::list_set(p, l, i, y);
            object::list_set(p, l, j, x);
            true
        }
        _ => false,
    }
}

/// Shades `v` for the collector when the barrier is on (a barriered store
/// into a scratch slot): for values that move between goroutine stacks or
/// into runtime tables scanned only at the start of a cycle.
pub(crate) fn shade(p: &mut P, v: Value) {
    let scratch = AtomicU64::new(Value::NIL.bits());
    p.write_slot(&scratch, v.bits());
}

/// Nanoseconds since the Unix epoch, now.
pub fn unix_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// A `time.Time` object (a native object of module `time`, type `Time`, state
/// 0 the Unix time in nanoseconds). `roots`: a scanned slot to park the time
/// in while the object is allocated (a boxed int: times do not fit 51 bits).
pub fn new_time(
    p: &mut P,
    g: &mut Mutator,
    unix_nanos: i64,
    roots: &[AtomicU64],
) -> Result<Value, String> {
    let id = TIME.register()?;
    let n = object::new_int(p, g, unix_nanos).map_err(oom)?;
    roots[0].store(n.bits(), Relaxed);
    let obj = p
        .alloc(g, Kind::Opaque.type_id(), (OPAQUE_STATE + 1) * 8)
        .map_err(oom)?;
    // SAFETY: just allocated; the caller roots the value before its next safepoint.
    let slots = unsafe { obj.slots() };
    slots[0].store(id.bits(), Relaxed);
    p.write_slot(&slots[OPAQUE_STATE], n.bits());
    let v = Value::object(obj.addr());
    roots[0].store(v.bits(), Relaxed);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nothing(_: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
        Ok(Results::new())
    }

    /// A type is known by its module and name together: another module's
    /// `Time` is not `time.Time` (the check once compared names only).
    #[test]
    fn native_types_are_told_apart_by_module_and_name() {
        let heap = weft_gc::Heap::new(crate::heap::heap_config(1), crate::heap::type_table());
        let mut p = heap.acquire_p();
        let mut m = Mutator::new();
        let roots = [AtomicU64::new(Value::NIL.bits())];
        let t = new_time(&mut p, &mut m, 1_700_000_000_123_456_789, &roots).expect("a time");
        static OTHER_TIME: NativeType = NativeType::new("clock", "Time");
        static NEVER_MADE: NativeType = NativeType::new("clock", "Alarm");
        assert!(TIME.is(t));
        assert!(!OTHER_TIME.is(t));
        assert!(!NEVER_MADE.is(t));
        assert_eq!(OTHER_TIME.state(t, 0), None);
        let nanos = TIME.state(t, 0).and_then(object::int_of);
        assert_eq!(nanos, Some(1_700_000_000_123_456_789));
        // Past the object's state, and not a native object at all.
        assert_eq!(TIME.state(t, 1), None);
        assert_eq!(TIME.state(Value::int_inline(3).expect("int"), 0), None);
        drop(p);
        heap.shutdown();
    }

    #[test]
    fn replacing_a_float_function_drops_its_fast_path() {
        let m = ModuleDef::default()
            .float_function("Sqrt", nothing, f64::sqrt)
            .function("Sqrt", nothing);
        assert!(!m.float_fns.contains_key("Sqrt"));
        let m = ModuleDef::default()
            .function("Sqrt", nothing)
            .float_function("Sqrt", nothing, f64::sqrt);
        assert!(m.float_fns.contains_key("Sqrt"));
    }
}
