//! `fmt`: Println, Print, Printf, Sprint, Sprintln, Sprintf, Errorf — VM values
//! converted to the engine's [`FmtArg`] and formatted by `crate::fmt`.
//!
//! Conversion happens up front into an owned tree ([`Arg`]), calling a struct's
//! `String()` method where it has one (Go's Stringer rule) through the
//! interpreter, so the engine itself never touches the heap.

use crate::fmt::{compare_keys, errorf, sprint, sprintf, sprintln, ArgKind, FmtArg};
use weft_vm::native::Results;
use weft_vm::native::{
    list_get, list_len, show, show_plus, type_name, value_kind, ModuleDef, NativeCtx, ValueKind,
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

/// Nesting deeper than this prints as `...` (a list that contains itself).
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

    pub(crate) fn from_value(
        ctx: &mut NativeCtx<'_>,
        v: Value,
        depth: usize,
    ) -> Result<Arg, String> {
        if depth > MAX_DEPTH {
            return Ok(Arg::Other {
                v: "...".into(),
                plus_v: "...".into(),
                type_name: type_name(v),
            });
        }
        Ok(match value_kind(v) {
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
            ValueKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(Arg::from_value(ctx, item, depth + 1)?);
                }
                Arg::List(out)
            }
            ValueKind::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((
                        Arg::from_value(ctx, k, depth + 1)?,
                        Arg::from_value(ctx, v, depth + 1)?,
                    ));
                }
                out.sort_by(|a, b| compare_keys(&a.0, &b.0));
                Arg::Map(out)
            }
            ValueKind::Struct(fields) => {
                let tn = type_name(v);
                if let Some(text) = stringer(ctx, v)? {
                    return Ok(Arg::Text {
                        text,
                        type_name: tn,
                        is_error: false,
                    });
                }
                let mut out = Vec::with_capacity(fields.len());
                for (name, fv) in fields {
                    out.push((
                        String::from_utf8_lossy(&name).into_owned(),
                        Arg::from_value(ctx, fv, depth + 1)?,
                    ));
                }
                Arg::Struct {
                    type_name: tn,
                    fields: out,
                }
            }
            ValueKind::Other(tn) => Arg::Other {
                v: show(v),
                plus_v: show_plus(v),
                type_name: tn,
            },
        })
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

fn convert(ctx: &mut NativeCtx<'_>, args: &[Value]) -> Result<Vec<Arg>, String> {
    args.iter().map(|v| convert_arg(ctx, *v)).collect()
}

/// Elements of a list argument converted between two safepoints.
const CONVERT_CHUNK: usize = 4096;

/// One argument. A long list is read an element at a time, each converted
/// whole, with a safepoint between chunks (converting 200,000 elements
/// into fresh memory held a stop-the-world for 60 ms). The list is an
/// argument, so rooted; an element is read just before it is converted,
/// with no safepoint between (a racing writer changes only what prints).
fn convert_arg(ctx: &mut NativeCtx<'_>, v: Value) -> Result<Arg, String> {
    let n = list_len(v).unwrap_or(0);
    if n < CONVERT_CHUNK {
        return Arg::from_value(ctx, v, 0);
    }
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while let Some(item) = list_get(v, i) {
        out.push(Arg::from_value(ctx, item, 1)?);
        ctx.safepoint_every(i, CONVERT_CHUNK);
        i += 1;
    }
    Ok(Arg::List(out))
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
