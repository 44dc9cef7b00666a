//! `strings`: the byte-string functions of Go's package (on Weft's byte strings).

use super::{arg, int_arg, str_arg};
use weft_vm::native::Results;
use weft_vm::native::{
    extend_with_string, list_get, list_len, Bytes, ModuleDef, NativeCtx, NativeType,
    SAFEPOINT_EVERY,
};
use weft_vm::results;
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Contains", contains)
        .function("Index", index)
        .function("HasPrefix", has_prefix)
        .function("HasSuffix", has_suffix)
        .function("ToUpper", to_upper)
        .function("ToLower", to_lower)
        .function("TrimSpace", trim_space)
        .function("Repeat", repeat)
        .function("Replace", replace)
        .function("ReplaceAll", replace_all)
        .function("Split", split)
        .function("Fields", fields)
        .function("Join", join)
        .function("Builder", builder)
        .function("Builder.WriteString", builder_write_string)
        .function("Builder.WriteByte", builder_write_byte)
        .function("Builder.WriteRune", builder_write_rune)
        .function("Builder.String", builder_string)
        .function("Builder.Len", builder_len)
        .function("Builder.Reset", builder_reset)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [] => Some(0),
        [byte] => hay.iter().position(|b| b == byte),
        _ => hay.windows(needle.len()).position(|w| w == needle),
    }
}

fn contains(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    Ok(results![Value::bool(
        find(
            &str_arg(ctx, a, 0, "strings.Contains")?,
            &str_arg(ctx, a, 1, "strings.Contains")?,
        )
        .is_some(),
    )])
}

fn index(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let i = find(
        &str_arg(ctx, a, 0, "strings.Index")?,
        &str_arg(ctx, a, 1, "strings.Index")?,
    )
    .map_or(-1, |i| i as i64);
    Ok(results![ctx.new_int(i)?])
}

fn has_prefix(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    Ok(results![Value::bool(
        str_arg(ctx, a, 0, "strings.HasPrefix")?.starts_with(&str_arg(
            ctx,
            a,
            1,
            "strings.HasPrefix"
        )?),
    )])
}

fn has_suffix(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    Ok(results![Value::bool(
        str_arg(ctx, a, 0, "strings.HasSuffix")?.ends_with(&str_arg(
            ctx,
            a,
            1,
            "strings.HasSuffix"
        )?),
    )])
}

fn map_utf8(s: &[u8], f: impl Fn(char) -> String) -> Vec<u8> {
    match std::str::from_utf8(s) {
        Ok(text) => text.chars().map(f).collect::<String>().into_bytes(),
        Err(_) => s.to_vec(),
    }
}

fn to_upper(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let s = str_arg(ctx, a, 0, "strings.ToUpper")?;
    let s = ctx.off_heap(s.len(), || map_utf8(&s, |c| c.to_uppercase().collect()));
    Ok(results![ctx.new_string(&s)?])
}

fn to_lower(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let s = str_arg(ctx, a, 0, "strings.ToLower")?;
    let s = ctx.off_heap(s.len(), || map_utf8(&s, |c| c.to_lowercase().collect()));
    Ok(results![ctx.new_string(&s)?])
}

fn trim_space(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let s = str_arg(ctx, a, 0, "strings.TrimSpace")?;
    let text = String::from_utf8_lossy(&s);
    Ok(results![ctx.new_string(text.trim().as_bytes())?])
}

fn repeat(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let s = str_arg(ctx, a, 0, "strings.Repeat")?;
    let n = int_arg(a, 1, "strings.Repeat")?;
    if n < 0 {
        return Err("strings: negative Repeat count".into());
    }
    if (s.len() as u128) * (n as u128) > (1 << 31) {
        return Err("strings: Repeat output length overflow".into());
    }
    let out = ctx.off_heap(s.len() * n as usize, || s.repeat(n as usize));
    Ok(results![ctx.new_string(&out)?])
}

fn replace_n(s: &[u8], old: &[u8], new: &[u8], n: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let (mut i, mut done) = (0, 0i64);
    while i <= s.len() && (n < 0 || done < n) {
        if old.is_empty() {
            // Go inserts `new` before every rune and at the end.
            out.extend_from_slice(new);
            done += 1;
            if i == s.len() {
                return out;
            }
            // One rune; an invalid byte is a rune of its own, as Go's
            // range decodes it.
            let width = weft_vm::interp::decode_rune(&s[i..s.len().min(i + 4)]).1;
            out.extend_from_slice(&s[i..i + width]);
            i += width;
            continue;
        }
        match find(&s[i..], old) {
            Some(at) => {
                out.extend_from_slice(&s[i..i + at]);
                out.extend_from_slice(new);
                i += at + old.len();
                done += 1;
            }
            None => break,
        }
    }
    if i <= s.len() {
        out.extend_from_slice(&s[i..]);
    }
    out
}

fn replace(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let f = "strings.Replace";
    let (s, old, new, n) = (
        str_arg(ctx, a, 0, f)?,
        str_arg(ctx, a, 1, f)?,
        str_arg(ctx, a, 2, f)?,
        int_arg(a, 3, f)?,
    );
    let s = ctx.off_heap(s.len(), || replace_n(&s, &old, &new, n));
    Ok(results![ctx.new_string(&s)?])
}

fn replace_all(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let f = "strings.ReplaceAll";
    let (s, old, new) = (
        str_arg(ctx, a, 0, f)?,
        str_arg(ctx, a, 1, f)?,
        str_arg(ctx, a, 2, f)?,
    );
    let s = ctx.off_heap(s.len(), || replace_n(&s, &old, &new, -1));
    Ok(results![ctx.new_string(&s)?])
}

fn split(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let (s, sep) = (
        str_arg(ctx, a, 0, "strings.Split")?,
        str_arg(ctx, a, 1, "strings.Split")?,
    );
    if sep.is_empty() {
        let parts: Vec<Vec<u8>> = String::from_utf8_lossy(&s)
            .chars()
            .map(|c| c.to_string().into_bytes())
            .collect();
        return Ok(results![ctx.strings_list(&parts)?]);
    }
    let list = if u32::try_from(s.len()).is_ok() {
        split_list::<u32>(ctx, &s, &sep)?
    } else {
        split_list::<u64>(ctx, &s, &sep)?
    };
    Ok(results![list])
}

/// The list of the parts of `s` between the separators `sep` (not empty).
/// Where each part ends is found first, as offsets of type `T` (32 bits
/// for any string below 4 GiB: a slice per part took 16 bytes, 16 MB of
/// fresh memory for strings_maps' million words), off the heap when `s`
/// is long; then the strings are made from `s` one by one.
fn split_list<T: TryFrom<usize> + Copy>(
    ctx: &mut NativeCtx<'_>,
    s: &[u8],
    sep: &[u8],
) -> Result<Value, String>
where
    usize: TryFrom<T>,
{
    let offset = |i: usize| T::try_from(i).ok().expect("s.len() fits T");
    let index = |t: T| usize::try_from(t).ok().expect("an offset of s");
    let ends = ctx.off_heap(s.len(), || {
        let mut ends: Vec<T> = Vec::new();
        let mut at = 0;
        while let Some(i) = find(&s[at..], sep) {
            ends.push(offset(at + i));
            at += i + sep.len();
        }
        ends.push(offset(s.len()));
        ends
    });
    let start = |i: usize| {
        if i == 0 {
            0
        } else {
            index(ends[i - 1]) + sep.len()
        }
    };
    ctx.strings_list_with(ends.len(), |i| &s[start(i)..index(ends[i])])
}

fn fields(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let s = str_arg(ctx, a, 0, "strings.Fields")?;
    let parts: Vec<Vec<u8>> = String::from_utf8_lossy(&s)
        .split_whitespace()
        .map(|w| w.as_bytes().to_vec())
        .collect();
    Ok(results![ctx.strings_list(&parts)?])
}

/// Each element is read from the list (an argument, so rooted) just before
/// its bytes are copied, with a safepoint between chunks: never from a
/// copy of the list taken before a safepoint (the separator's copy may be
/// one), since a racing goroutine may store over the list meanwhile.
fn join(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let list = arg(a, 0);
    if list_len(list).is_none() {
        return Err("strings.Join: argument 1 must be a list".into());
    }
    let sep = str_arg(ctx, a, 1, "strings.Join")?;
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(v) = list_get(list, i) {
        if i > 0 {
            out.extend_from_slice(&sep);
        }
        if !extend_with_string(v, &mut out) {
            return Err("strings.Join: elements must be strings".into());
        }
        ctx.safepoint_every(i, SAFEPOINT_EVERY);
        i += 1;
    }
    Ok(results![ctx.new_string(&out)?])
}

// strings.Builder, as Go's: a byte buffer that grows by doubling (state 0:
// a byte buffer, see `NativeCtx::new_byte_buffer`). A write copies its bytes
// in. String() hands the buffer itself over as the string, as Go's does,
// and marks it shared (state 1): the next write copies it into a new
// buffer first, so the string never changes. (An earlier design kept the
// list of written strings: each write cost a list append, two int objects
// and a barrier, and the collector traced every piece.)

/// `strings.Builder`: state 0 its byte buffer, state 1 whether String()
/// handed that buffer out.
static BUILDER: NativeType = NativeType::new("strings", "Builder");

fn builder(ctx: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
    let b = ctx.new_opaque(&BUILDER, 2)?;
    let buf = ctx.new_byte_buffer(64)?;
    ctx.set_state(b, 0, buf)?;
    ctx.set_state(b, 1, Value::FALSE)?;
    Ok(results![b])
}

/// Whether String() handed the builder's buffer out (it must not change).
fn builder_shared(b: Value) -> bool {
    BUILDER.state(b, 1) == Some(Value::TRUE)
}

fn builder_buffer(b: Value) -> Result<Value, String> {
    BUILDER
        .state(b, 0)
        .ok_or_else(|| "not a strings.Builder".to_string())
}

/// Appends `more` to the builder `b`; returns the number of bytes written
/// (`more`'s length: the buffer's own length can move under racing writers).
fn builder_push(ctx: &mut NativeCtx<'_>, b: Value, more: Bytes<'_>) -> Result<usize, String> {
    let buf = builder_buffer(b)?;
    if builder_shared(b) {
        // The new buffer goes in before the mark comes off: a buffer
        // marked unshared is never one String() handed out.
        let copy = ctx.byte_buffer_append_copy(buf, more)?;
        ctx.set_state(b, 0, copy)?;
        ctx.set_state(b, 1, Value::FALSE)?;
        return Ok(more.len());
    }
    let now = ctx.byte_buffer_append(buf, more)?;
    if now != buf {
        ctx.set_state(b, 0, now)?;
    }
    Ok(more.len())
}

fn builder_write_string(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let Some(piece) = a.get(1).copied().and_then(Bytes::string) else {
        return Err("strings.Builder.WriteString: argument 2 must be a string".into());
    };
    let n = builder_push(ctx, arg(a, 0), piece)?;
    let n = Value::int_inline(n as i64).ok_or("strings.Builder: too long")?;
    Ok(results![n, Value::NIL])
}

fn builder_write_byte(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let b = int_arg(a, 1, "strings.Builder.WriteByte")?;
    builder_push(ctx, arg(a, 0), Bytes::Slice(&[b as u8]))?;
    Ok(results![Value::NIL])
}

fn builder_write_rune(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let r = int_arg(a, 1, "strings.Builder.WriteRune")?;
    let c = u32::try_from(r)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{FFFD}');
    let mut buf = [0u8; 4];
    let n = builder_push(
        ctx,
        arg(a, 0),
        Bytes::Slice(c.encode_utf8(&mut buf).as_bytes()),
    )?;
    let n = Value::int_inline(n as i64).ok_or("strings.Builder: too long")?;
    Ok(results![n, Value::NIL])
}

fn builder_string(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let builder = arg(a, 0);
    let buf = builder_buffer(builder)?;
    ctx.set_state(builder, 1, Value::TRUE)?;
    Ok(results![ctx.byte_buffer_into_string(buf)?])
}

fn builder_len(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let n = weft_vm::native::string_len(builder_buffer(arg(a, 0))?).unwrap_or(0);
    Ok(results![
        Value::int_inline(n as i64).ok_or("strings.Builder: too long")?
    ])
}

fn builder_reset(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let builder = arg(a, 0);
    builder_buffer(builder)?;
    let buf = ctx.new_byte_buffer(64)?;
    ctx.set_state(builder, 0, buf)?;
    ctx.set_state(builder, 1, Value::FALSE)?;
    Ok(results![])
}
