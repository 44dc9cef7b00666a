//! `fmt`: Println, Print, Printf, Sprint, Sprintln, Sprintf, Errorf — VM values
//! converted to the engine's [`FmtArg`] and formatted by `crate::fmt`.
//!
//! Conversion happens up front into an owned tree ([`Arg`]), calling a struct's
//! `String()` method where it has one (Go's Stringer rule) through the
//! interpreter, so the engine itself never touches the heap.

use crate::fmt::{compare_keys, errorf, sprint, sprintf, sprintln, ArgKind, FmtArg};
use weft_vm::native::Results;
use weft_vm::native::{
    container_kind, list_get, list_len, show, show_plus, struct_field, struct_field_names,
    type_name, value_kind, Container, ModuleDef, NativeCtx, ValueKind,
};
use weft_vm::results;
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Println", println)
        .function("Print", print)
        .function("Printf", printf)
        .function("Sprint", sprint_fn)
        .function("Sprintln", sprintln_fn)
        .function("Sprintf", sprintf_fn)
        .function("Errorf", errorf_fn)
}

/// A value, converted for the formatting engine.
pub(crate) enum Arg {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
    /// An error's message or a Stringer's text.
    Text {
        text: Vec<u8>,
        type_name: String,
        is_error: bool,
    },
    List(Vec<Arg>),
    /// Entries sorted in Go's key order.
    Map(Vec<(Arg, Arg)>),
    Struct {
        type_name: String,
        fields: Vec<(String, Arg)>,
    },
    Other {
        v: String,
        plus_v: String,
        type_name: String,
    },
}

/// Nesting deeper than this prints as `...` (as does a container met again
/// inside itself).
const MAX_DEPTH: usize = 64;

impl Arg {
    /// How many values the argument holds, itself included: a measure of
    /// the work of formatting it.
    fn size(&self) -> usize {
        1 + match self {
            Arg::List(items) => items.iter().map(Arg::size).sum(),
            Arg::Map(entries) => entries.iter().map(|(k, v)| k.size() + v.size()).sum(),
            Arg::Struct { fields, .. } => fields.iter().map(|(_, v)| v.size()).sum(),
            _ => 0,
        }
    }

    /// A value that holds no other values.
    fn from_scalar(v: Value) -> Arg {
        match value_kind(v) {
            ValueKind::Nil => Arg::Nil,
            ValueKind::Bool(b) => Arg::Bool(b),
            ValueKind::Int(i) => Arg::Int(i),
            ValueKind::Float(f) => Arg::Float(f),
            ValueKind::Str(s) => Arg::Str(s),
            ValueKind::Error(msg) => Arg::Text {
                text: msg,
                type_name: "error".into(),
                is_error: true,
            },
            // Containers are walked by `Converter::value`; this arm is only
            // here to be total.
            ValueKind::List(_) | ValueKind::Map(_) | ValueKind::Struct(_) => Arg::Other {
                v: show(v),
                plus_v: show_plus(v),
                type_name: type_name(v),
            },
            ValueKind::Other(tn) => Arg::Other {
                v: show(v),
                plus_v: show_plus(v),
                type_name: tn,
            },
        }
    }
}

/// The result of `v.String()` if `v`'s type has a `String` method.
fn stringer(ctx: &mut NativeCtx<'_>, v: Value) -> Result<Option<Vec<u8>>, String> {
    let Some(method) = weft_vm::native::method_of(v, "String") else {
        return Ok(None);
    };
    let results = ctx.call(method, &[v])?;
    Ok(results.first().map(|r| show(*r).into_bytes()))
}

impl FmtArg for Arg {
    fn kind(&self) -> ArgKind<'_> {
        match self {
            Arg::Nil => ArgKind::Nil,
            Arg::Bool(b) => ArgKind::Bool(*b),
            Arg::Int(i) => ArgKind::Int(*i),
            Arg::Float(f) => ArgKind::Float(*f),
            Arg::Str(s) => ArgKind::Str(s),
            Arg::Text { text, .. } => ArgKind::Text(text.clone()),
            Arg::List(items) => ArgKind::List(
                items
                    .iter()
                    .map(|a| Box::new(a) as Box<dyn FmtArg + '_>)
                    .collect(),
            ),
            Arg::Map(entries) => ArgKind::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            Box::new(k) as Box<dyn FmtArg + '_>,
                            Box::new(v) as Box<dyn FmtArg + '_>,
                        )
                    })
                    .collect(),
            ),
            Arg::Struct { fields, .. } => ArgKind::Struct(
                fields
                    .iter()
                    .map(|(n, a)| (n.clone(), Box::new(a) as Box<dyn FmtArg + '_>))
                    .collect(),
            ),
            Arg::Other { v, plus_v, .. } => ArgKind::Other {
                v: v.clone(),
                plus_v: plus_v.clone(),
            },
        }
    }

    fn type_name(&self) -> String {
        match self {
            Arg::Nil => "nil".into(),
            Arg::Bool(_) => "bool".into(),
            Arg::Int(_) => "int".into(),
            Arg::Float(_) => "float".into(),
            Arg::Str(_) => "string".into(),
            Arg::List(_) => "list".into(),
            Arg::Map(_) => "map".into(),
            Arg::Text { type_name, .. }
            | Arg::Struct { type_name, .. }
            | Arg::Other { type_name, .. } => type_name.clone(),
        }
    }

    fn is_str(&self) -> bool {
        matches!(self, Arg::Str(_))
    }

    fn is_error(&self) -> bool {
        matches!(self, Arg::Text { is_error: true, .. })
    }
}

/// Values converted between two safepoints.
const CONVERT_CHUNK: usize = 4096;

/// Converts a native call's arguments into [`Arg`] trees.
///
/// A `String()` method runs Weft code, with safepoints, and the conversion
/// itself stops at one every [`CONVERT_CHUNK`] values (converting 200,000
/// elements into fresh memory held a stop-the-world for 60 ms); meanwhile
/// a goroutine racing with this one may store over any slot of a value
/// being converted. So each container is kept while it is walked and each
/// element is read just before it is converted, never held in a Rust copy
/// across a conversion (see [`Container`]); a map is walked through a
/// kept snapshot.
struct Converter<'c, 'a> {
    ctx: &'c mut NativeCtx<'a>,
    /// Values converted so far.
    converted: usize,
    /// The containers being walked, outermost first: one met again inside
    /// itself prints as `...`, so a list holding itself twice is not
    /// walked 2^64 times down to `MAX_DEPTH`.
    path: Vec<u64>,
}

impl Converter<'_, '_> {
    /// Counts a value about to be read, with a safepoint every
    /// [`CONVERT_CHUNK`]: called before an element is read (what the
    /// safepoint lets happen cannot touch a value not yet read).
    fn tick(&mut self) {
        self.ctx.safepoint_every(self.converted, CONVERT_CHUNK);
        self.converted += 1;
    }

    /// Converts `v`, which is an argument (rooted) or was just read from a
    /// kept container, with no safepoint since.
    fn value(&mut self, v: Value, depth: usize) -> Result<Arg, String> {
        let container = container_kind(v);
        if depth > MAX_DEPTH || container.is_some() && self.path.contains(&v.bits()) {
            return Ok(Arg::Other {
                v: "...".into(),
                plus_v: "...".into(),
                type_name: type_name(v),
            });
        }
        let Some(container) = container else {
            return Ok(Arg::from_scalar(v));
        };
        // Kept before anything can reach a safepoint: its `String()`
        // method may drop every other holder of `v`.
        self.ctx.keep(v)?;
        self.path.push(v.bits());
        let arg = self.container(v, container, depth);
        self.path.pop();
        self.ctx.release(1); // v
        arg
    }

    /// [`Converter::value`] of a kept container.
    fn container(&mut self, v: Value, container: Container, depth: usize) -> Result<Arg, String> {
        Ok(match container {
            Container::Struct => {
                if let Some(text) = stringer(self.ctx, v)? {
                    return Ok(Arg::Text {
                        text,
                        type_name: type_name(v),
                        is_error: false,
                    });
                }
                let names = struct_field_names(v);
                let mut out = Vec::with_capacity(names.len());
                for (i, name) in names.into_iter().enumerate() {
                    self.tick();
                    let field = struct_field(v, i).unwrap_or_default();
                    out.push((
                        String::from_utf8_lossy(&name).into_owned(),
                        self.value(field, depth + 1)?,
                    ));
                }
                Arg::Struct {
                    type_name: type_name(v),
                    fields: out,
                }
            }
            Container::List => {
                let mut out = Vec::with_capacity(list_len(v).unwrap_or(0));
                let mut i = 0;
                loop {
                    self.tick();
                    let Some(item) = list_get(v, i) else { break };
                    out.push(self.value(item, depth + 1)?);
                    i += 1;
                }
                Arg::List(out)
            }
            Container::Map => {
                let snapshot = self.ctx.map_snapshot(v)?;
                let mut out = Vec::with_capacity(snapshot.len());
                for i in 0..snapshot.len() {
                    self.tick();
                    let key = self.value(snapshot.key(i), depth + 1)?;
                    let item = self.value(snapshot.value(i), depth + 1)?;
                    out.push((key, item));
                }
                self.ctx.release(1); // the snapshot
                out.sort_by(|a, b| compare_keys(&a.0, &b.0));
                Arg::Map(out)
            }
        })
    }
}

fn convert(ctx: &mut NativeCtx<'_>, args: &[Value]) -> Result<Vec<Arg>, String> {
    let mut converter = Converter {
        ctx,
        converted: 0,
        path: Vec::new(),
    };
    args.iter()
        .map(|v| {
            converter.tick();
            converter.value(*v, 0)
        })
        .collect()
}

fn refs(args: &[Arg]) -> Vec<&dyn FmtArg> {
    args.iter().map(|a| a as &dyn FmtArg).collect()
}

/// Formats the converted `args` with `f`. The arguments are Rust copies
/// by now, so a long formatting (a list of hundreds of thousands) runs as
/// off-heap work, with the collector free to stop the world meanwhile
/// (`NativeCtx::off_heap`): `fmt.Sprint` of 200,000 ints held a stop for
/// tens of milliseconds.
fn render<R>(ctx: &mut NativeCtx<'_>, args: &[Arg], f: impl FnOnce(&[&dyn FmtArg]) -> R) -> R {
    // A value takes some tens of nanoseconds to format, a byte of a copy
    // (what `off_heap`'s threshold counts) a fraction of one.
    let work = 16 * args.iter().map(Arg::size).sum::<usize>();
    ctx.off_heap(work, || f(&refs(args)))
}

fn format_arg(a: &[Value], func: &str) -> Result<Vec<u8>, String> {
    a.first()
        .and_then(|v| weft_vm::native::string_arg(*v))
        .ok_or_else(|| format!("{func}: the format must be a string"))
}

fn println(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let args = convert(ctx, a)?;
    let out = render(ctx, &args, sprintln);
    ctx.write(&out);
    Ok(results![])
}

fn print(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let args = convert(ctx, a)?;
    let out = render(ctx, &args, sprint);
    ctx.write(&out);
    Ok(results![])
}

fn printf(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let format = format_arg(a, "fmt.Printf")?;
    let args = convert(ctx, &a[1..])?;
    let out = render(ctx, &args, |r| sprintf(&format, r));
    ctx.write(&out);
    Ok(results![])
}

fn sprint_fn(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let args = convert(ctx, a)?;
    let out = render(ctx, &args, sprint);
    Ok(results![ctx.new_string(&out)?])
}

fn sprintln_fn(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let args = convert(ctx, a)?;
    let out = render(ctx, &args, sprintln);
    Ok(results![ctx.new_string(&out)?])
}

fn sprintf_fn(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let format = format_arg(a, "fmt.Sprintf")?;
    let args = convert(ctx, &a[1..])?;
    let out = render(ctx, &args, |r| sprintf(&format, r));
    Ok(results![ctx.new_string(&out)?])
}

/// `fmt.Errorf`: an error value; with one `%w` naming an error, it wraps it.
fn errorf_fn(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let format = format_arg(a, "fmt.Errorf")?;
    let args = convert(ctx, &a[1..])?;
    let (text, wrapped) = render(ctx, &args, |r| errorf(&format, r));
    let wrapped = wrapped
        .and_then(|i| a.get(1 + i).copied())
        .unwrap_or(Value::NIL);
    Ok(results![ctx.new_error(&text, wrapped)?])
}
