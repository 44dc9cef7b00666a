//! `encoding/json` as `json`: Marshal (Go's encoding: map keys sorted, struct
//! fields in declaration order, HTML-safe string escapes, Go's float format)
//! returning `(string, err)`, and Unmarshal returning `(value, err)` with
//! objects as maps, arrays as lists, integral numbers as ints.

use super::arg;
use weft_vm::native::Results;
use weft_vm::native::{
    container_kind, list_get, struct_field, struct_field_names, type_name, value_kind, Container,
    ModuleDef, NativeCtx, ValueKind,
};
use weft_vm::results;
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Marshal", marshal)
        .function("Unmarshal", unmarshal)
}

/// Deepest nesting either direction accepts (cycles would otherwise recurse forever).
const MAX_DEPTH: usize = 1000;

fn marshal(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let mut encoder = Encoder {
        ctx,
        out: Vec::new(),
        encoded: 0,
    };
    match encoder.value(arg(a, 0), 0) {
        Ok(()) => {
            let out = std::mem::take(&mut encoder.out);
            Ok(results![ctx.new_string(&out)?, Value::NIL])
        }
        Err(msg) => {
            let empty = ctx.new_string(b"")?;
            let err = ctx.new_error(msg.as_bytes(), Value::NIL)?;
            Ok(results![empty, err])
        }
    }
}

/// Values encoded between two safepoints.
const ENCODE_CHUNK: usize = 4096;

/// Encodes a value, stopping at a safepoint every [`ENCODE_CHUNK`] values
/// (a value of millions held a stop-the-world for its whole encoding).
/// Across those safepoints a racing goroutine may store over any slot of
/// the value, so, as fmt does, each container is kept while it is walked
/// and each element read just before it is encoded; a map is walked
/// through a kept snapshot ([`NativeCtx::map_snapshot`]).
struct Encoder<'c, 'a> {
    ctx: &'c mut NativeCtx<'a>,
    out: Vec<u8>,
    encoded: usize,
}

impl Encoder<'_, '_> {
    /// Counts a value about to be read (see fmt's `Converter::tick`).
    fn tick(&mut self) {
        self.ctx.safepoint_every(self.encoded, ENCODE_CHUNK);
        self.encoded += 1;
    }

    /// Encodes `v`, an argument or just read from a kept container.
    fn value(&mut self, v: Value, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("json: unsupported value: encountered a cycle".into());
        }
        let Some(container) = container_kind(v) else {
            return scalar(v, &mut self.out);
        };
        self.ctx.keep(v)?;
        let done = self.container(v, container, depth);
        self.ctx.release(1); // v
        done
    }

    fn container(&mut self, v: Value, container: Container, depth: usize) -> Result<(), String> {
        match container {
            Container::List => {
                self.out.push(b'[');
                let mut i = 0;
                loop {
                    self.tick();
                    let Some(item) = list_get(v, i) else { break };
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.value(item, depth + 1)?;
                    i += 1;
                }
                self.out.push(b']');
            }
            Container::Map => {
                let snapshot = self.ctx.map_snapshot(v)?;
                // Keys as text, sorted, each with its entry's number in the
                // snapshot (the value is read from there when written).
                let mut keyed = Vec::with_capacity(snapshot.len());
                for i in 0..snapshot.len() {
                    self.tick();
                    let key = match value_kind(snapshot.key(i)) {
                        ValueKind::Str(s) => s,
                        ValueKind::Int(i) => i.to_string().into_bytes(),
                        other => {
                            return Err(format!(
                                "json: unsupported type: map with {} keys",
                                kind_name(&other)
                            ))
                        }
                    };
                    keyed.push((key, i));
                }
                keyed.sort_by(|x, y| x.0.cmp(&y.0));
                self.out.push(b'{');
                for (i, (k, entry)) in keyed.into_iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    string(&k, &mut self.out);
                    self.out.push(b':');
                    self.value(snapshot.value(entry), depth + 1)?;
                }
                self.out.push(b'}');
                self.ctx.release(1); // the snapshot
            }
            Container::Struct => {
                self.out.push(b'{');
                // Only exported (upper-case) fields are encoded, as in Go.
                let mut first = true;
                for (i, name) in struct_field_names(v).into_iter().enumerate() {
                    if !name.first().is_some_and(u8::is_ascii_uppercase) {
                        continue;
                    }
                    self.tick();
                    if !first {
                        self.out.push(b',');
                    }
                    first = false;
                    string(&name, &mut self.out);
                    self.out.push(b':');
                    let field = struct_field(v, i).unwrap_or_default();
                    self.value(field, depth + 1)?;
                }
                self.out.push(b'}');
            }
        }
        Ok(())
    }
}

/// A value that holds no other values.
fn scalar(v: Value, out: &mut Vec<u8>) -> Result<(), String> {
    match value_kind(v) {
        ValueKind::Nil => out.extend_from_slice(b"null"),
        ValueKind::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        ValueKind::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        ValueKind::Float(f) => out.extend_from_slice(float(f)?.as_bytes()),
        ValueKind::Str(s) => string(&s, out),
        ValueKind::Error(msg) => string(&msg, out),
        ValueKind::List(_) | ValueKind::Map(_) | ValueKind::Struct(_) | ValueKind::Other(_) => {
            return Err(format!("json: unsupported type: {}", type_name(v)))
        }
    }
    Ok(())
}

fn kind_name(k: &ValueKind) -> &'static str {
    match k {
        ValueKind::Nil => "nil",
        ValueKind::Bool(_) => "bool",
        ValueKind::Float(_) => "float",
        _ => "non-string",
    }
}

/// Go's encoding/json float format: like %g, but 'f' between 1e-6 and 1e21,
/// and a two-digit exponent loses its leading zero (1e-07 -> 1e-7).
fn float(f: f64) -> Result<String, String> {
    if f.is_nan() {
        return Err("json: unsupported value: NaN".into());
    }
    if f.is_infinite() {
        return Err(format!(
            "json: unsupported value: {}",
            if f > 0.0 { "+Inf" } else { "-Inf" }
        ));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return Ok(format!("{mantissa}e{sign}{}", exp.abs()));
    }
    // Shortest digits in positional form.
    let s = format!("{f}");
    Ok(s)
}

/// A JSON string with Go's escapes (HTML-safe: <, >, & as \u00XX).
fn string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    let text = String::from_utf8_lossy(s);
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// A parsed JSON document, before it becomes heap values.
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
    List(Vec<Json>),
    Object(Vec<(Vec<u8>, Json)>),
}

fn unmarshal(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let text = a
        .first()
        .and_then(|v| weft_vm::native::string_arg(*v))
        .ok_or("json.Unmarshal: argument must be a string")?;
    let mut parser = Parser { s: &text, i: 0 };
    let parsed = parser.value(0).and_then(|v| {
        parser.ws();
        if parser.i == text.len() {
            Ok(v)
        } else {
            Err(format!(
                "invalid character {:?} after top-level value",
                parser.s[parser.i] as char
            ))
        }
    });
    match parsed {
        Ok(doc) => {
            let v = build(ctx, &doc)?;
            Ok(results![v, Value::NIL])
        }
        Err(msg) => {
            let err = ctx.new_error(msg.as_bytes(), Value::NIL)?;
            Ok(results![Value::NIL, err])
        }
    }
}

/// Builds heap values top-down: each container is rooted (kept) before its
/// children are made, and each child is rooted until it is inside its parent.
fn build(ctx: &mut NativeCtx<'_>, doc: &Json) -> Result<Value, String> {
    Ok(match doc {
        Json::Null => Value::NIL,
        Json::Bool(b) => Value::bool(*b),
        Json::Int(i) => ctx.new_int(*i)?,
        Json::Float(f) => Value::float(*f),
        Json::Str(s) => ctx.new_string(s)?,
        Json::List(items) => {
            let list = ctx.new_list(&[])?;
            for item in items {
                let v = build(ctx, item)?;
                ctx.keep(v)?;
                ctx.list_push(list, v)?;
                // The item (and whatever it kept) is reachable from the list now.
                release_to(ctx, list)?;
            }
            list
        }
        Json::Object(entries) => {
            let map = ctx.new_empty_map()?;
            for (k, item) in entries {
                let key = ctx.new_string(k)?;
                let v = build(ctx, item)?;
                ctx.keep(v)?;
                ctx.map_set(map, key, v)?;
                release_to(ctx, map)?;
            }
            map
        }
    })
}

/// Drops every keep slot taken after `container`'s, keeping `container` kept.
fn release_to(ctx: &mut NativeCtx<'_>, container: Value) -> Result<(), String> {
    ctx.release_after(container)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        match self.s.get(self.i) {
            Some(c) => Err(format!("invalid character {:?} {what}", *c as char)),
            None => Err("unexpected end of JSON input".into()),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > MAX_DEPTH {
            return Err("json: exceeded max depth".into());
        }
        self.ws();
        match self.s.get(self.i) {
            Some(b'n') => self.word(b"null", Json::Null),
            Some(b't') => self.word(b"true", Json::Bool(true)),
            Some(b'f') => self.word(b"false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::Str),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::List(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::List(items));
                        }
                        _ => return self.err("after array element"),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut entries = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Object(entries));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return self.err("looking for beginning of object key string");
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return self.err("after object key");
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    // A repeated key keeps the last value, as Go's map does.
                    entries.retain(|(key, _)| key != &k);
                    entries.push((k, v));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Object(entries));
                        }
                        _ => return self.err("after object key:value pair"),
                    }
                }
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => self.number(),
            _ => self.err("looking for beginning of value"),
        }
    }

    fn word(&mut self, w: &[u8], v: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(w) {
            self.i += w.len();
            Ok(v)
        } else {
            self.err("in literal")
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        while self.i < self.s.len()
            && matches!(
                self.s[self.i],
                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
            )
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Json::Int(i));
        }
        match text.parse::<f64>() {
            Ok(f) if f.fract() == 0.0 && f.abs() < 9.2e18 && !text.contains(['e', 'E', '.']) => {
                Ok(Json::Int(f as i64))
            }
            Ok(f) => Ok(Json::Float(f)),
            Err(_) => Err(format!("invalid number literal {text:?}")),
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return Err("unexpected end of JSON input".into()),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc = self.s.get(self.i + 1).copied();
                    self.i += 2;
                    match esc {
                        Some(b'"') => out.push(b'"'),
                        Some(b'\\') => out.push(b'\\'),
                        Some(b'/') => out.push(b'/'),
                        Some(b'b') => out.push(8),
                        Some(b'f') => out.push(12),
                        Some(b'n') => out.push(b'\n'),
                        Some(b'r') => out.push(b'\r'),
                        Some(b't') => out.push(b'\t'),
                        Some(b'u') => {
                            let hex = self
                                .s
                                .get(self.i..self.i + 4)
                                .and_then(|h| std::str::from_utf8(h).ok());
                            let code = hex
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .ok_or("invalid escape in JSON string")?;
                            self.i += 4;
                            let c = char::from_u32(code).unwrap_or('\u{FFFD}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err("invalid escape in JSON string".into()),
                    }
                }
                Some(&c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
}
