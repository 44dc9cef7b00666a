//! The VM's side of the `gc` heap: the object kinds it registers, how a value
//! word is decoded into an object address, and the trace function of each kind.
//!
//! Every VM object is a `gc` object: a one-word header (type id, payload
//! length) followed by payload words, each an `AtomicU64` accessed Relaxed.
//! Which payload words hold values (and so are traced) is fixed per kind and
//! documented on [`Kind`]. Words that hold raw data (lengths, hashes, string
//! bytes) are never traced; they can never be mistaken for pointers because
//! the trace functions do not look at them.
//!
//! Invariant: type ids are registered in the order of [`Kind`], so
//! `TypeId(kind as u32)` names a kind without a lookup; [`type_table`] checks it.

use crate::value::Value;
use weft_gc::{HeapConfig, ObjView, Tracer, TypeId, TypeInfo, TypeTable};

/// The object kinds, in registration order. The payload layout of each:
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Kind {
    /// `[len][hash or 0][bytes packed little-endian...]`; no pointers.
    Str = 0,
    /// `[i64]`: an int outside the inline 51-bit range; no pointers.
    BoxedInt = 1,
    /// `[value]`: a captured local (upvalue cell).
    Cell = 2,
    /// `[value...]`: a list's backing array (its capacity is the payload length).
    Array = 3,
    /// `[len][array value]`: a list; `len` is raw, the array is traced.
    List = 4,
    /// `[proto index][module index][upvalue cells...]`: a closure; the two
    /// indices are raw (into the VM's tables), the cells are traced.
    Closure = 5,
    /// `[builtin index]`: a builtin function value; no pointers.
    Builtin = 6,
    /// `[name string][field names list][methods list: name, func, name, func...]
    /// [unique id, raw]` (the id keys inline caches; see `interp`).
    StructType = 7,
    /// `[struct type][field values...]`: an instance of a struct type.
    Instance = 8,
    /// `[receiver][method]`: a method value bound to its receiver.
    BoundMethod = 9,
    /// `[len][used][entries array][index words]`: a map. `len` (live entries)
    /// and `used` (entry slots used, deleted ones included) are raw; the
    /// entries array holds key, value pairs in insertion order; the index is a
    /// `Words` object. See `object::map_*`.
    Map = 10,
    /// `[raw words...]`: no pointers (a map's hash index).
    Words = 11,
    /// `[message string][wrapped error or nil]`: an error value.
    Error = 12,
    /// `[import path string]`: a standard (native) module.
    StdModule = 13,
    /// `[type id (inline int)][state values...]`: an object of a native
    /// module (`strings.Builder`, `bufio.Scanner`); the id indexes the
    /// process-wide table of native object types (`native::opaque_type`),
    /// and its methods are the module's functions named `Type.Method`.
    Opaque = 14,
    /// `[globals list][name string]`: a file module (what `import "./x.weft"` binds).
    Module = 15,
    /// `[capacity][count][head][closed][buffer array value]`: a channel; the
    /// first four words are raw, the buffer (a ring of `capacity` values) is traced.
    Chan = 16,
    /// `[allgs place][register file][goroutine id or 0][GState...]`: a
    /// goroutine (Go's `g`), kept alive by allgs; the first three words are
    /// raw and the rest is a Rust value the collector never reads. See
    /// `crate::gobj`.
    Goroutine = 17,
}

impl Kind {
    pub const ALL: [Kind; 18] = [
        Kind::Str,
        Kind::BoxedInt,
        Kind::Cell,
        Kind::Array,
        Kind::List,
        Kind::Closure,
        Kind::Builtin,
        Kind::StructType,
        Kind::Instance,
        Kind::BoundMethod,
        Kind::Map,
        Kind::Words,
        Kind::Error,
        Kind::StdModule,
        Kind::Opaque,
        Kind::Module,
        Kind::Chan,
        Kind::Goroutine,
    ];

    pub fn type_id(self) -> TypeId {
        TypeId(self as u32)
    }

    pub fn from_type_id(id: TypeId) -> Option<Kind> {
        Kind::ALL.get(id.0 as usize).copied()
    }

    fn info(self) -> TypeInfo {
        match self {
            Kind::Str => TypeInfo {
                name: "string",
                trace: None,
            },
            Kind::BoxedInt => TypeInfo {
                name: "boxed int",
                trace: None,
            },
            Kind::Cell => TypeInfo {
                name: "cell",
                trace: Some(trace_all),
            },
            Kind::Array => TypeInfo {
                name: "array",
                trace: Some(trace_all),
            },
            Kind::List => TypeInfo {
                name: "list",
                trace: Some(trace_from_1),
            },
            Kind::Closure => TypeInfo {
                name: "closure",
                trace: Some(trace_from_2),
            },
            Kind::Builtin => TypeInfo {
                name: "builtin",
                trace: None,
            },
            Kind::StructType => TypeInfo {
                name: "struct type",
                trace: Some(trace_all),
            },
            Kind::Instance => TypeInfo {
                name: "instance",
                trace: Some(trace_all),
            },
            Kind::BoundMethod => TypeInfo {
                name: "bound method",
                trace: Some(trace_all),
            },
            Kind::Map => TypeInfo {
                name: "map",
                trace: Some(trace_from_2),
            },
            Kind::Words => TypeInfo {
                name: "words",
                trace: None,
            },
            Kind::Error => TypeInfo {
                name: "error",
                trace: Some(trace_all),
            },
            Kind::StdModule => TypeInfo {
                name: "module",
                trace: Some(trace_all),
            },
            Kind::Opaque => TypeInfo {
                name: "native object",
                trace: Some(trace_all),
            },
            Kind::Module => TypeInfo {
                name: "file module",
                trace: Some(trace_all),
            },
            Kind::Chan => TypeInfo {
                name: "chan",
                trace: Some(trace_from_4),
            },
            Kind::Goroutine => TypeInfo {
                name: "goroutine",
                trace: None,
            },
        }
    }
}

/// Every payload word is a value.
fn trace_all(obj: ObjView<'_>, t: &mut Tracer<'_>) {
    t.mark_slots(obj.slots());
}

/// Word 0 is raw data, the rest are values.
fn trace_from_1(obj: ObjView<'_>, t: &mut Tracer<'_>) {
    if let Some(rest) = obj.slots().get(1..) {
        t.mark_slots(rest);
    }
}

/// Words 0 and 1 are raw data, the rest are values.
fn trace_from_2(obj: ObjView<'_>, t: &mut Tracer<'_>) {
    if let Some(rest) = obj.slots().get(2..) {
        t.mark_slots(rest);
    }
}

/// Words 0 to 3 are raw data, the rest are values.
fn trace_from_4(obj: ObjView<'_>, t: &mut Tracer<'_>) {
    if let Some(rest) = obj.slots().get(4..) {
        t.mark_slots(rest);
    }
}

/// The value word's object address, or 0 (the collector's `decode_ptr`).
pub fn decode_value_ptr(word: u64) -> usize {
    Value::pointer_in_word(word).unwrap_or(0)
}

/// The type table with every VM kind registered, in [`Kind`] order.
pub fn type_table() -> TypeTable {
    let mut table = TypeTable::new();
    for kind in Kind::ALL {
        let id = table.register(kind.info());
        assert_eq!(id, kind.type_id(), "kinds must be registered in order");
    }
    table
}

/// A heap configuration for the VM with `maxprocs` (`WEFTMAXPROCS`) Ps that
/// run goroutines: twice as many collector Ps, so that Ms started while
/// others are blocked in a native call (see `sched::Runtime::exit_syscall`)
/// have a P of their own to allocate through; mark workers are sized from
/// `maxprocs`. Values decoded by NaN-boxing, everything else from the
/// environment (`WEFTGC`, `WEFTMEMLIMIT`, `WEFTDEBUG`).
pub fn heap_config(maxprocs: usize) -> HeapConfig {
    HeapConfig {
        nprocs: 2 * maxprocs,
        mark_workers: Some((maxprocs / 4).max(1)),
        decode_ptr: decode_value_ptr,
        ..HeapConfig::default()
    }
}
