//! The `Printf` directive engine (Go's `fmt/print.go` and `fmt/format.go`):
//! parses a format string into literal text and directives, and renders
//! arguments supplied through the [`FmtArg`] trait with Go's flags,
//! width, precision and padding rules, and Go's error texts
//! (`%!d(string=hi)`, `%!v(MISSING)`, `%!(EXTRA int=1)`, `%!(NOVERB)`,
//! `%!(BADWIDTH)`, `%!(BADPREC)`, `%!v(BADINDEX)`).
//!
//! Also `Sprint` / `Sprintln` spacing ([`sprint`], [`sprintln`]).
//!
//! As in Go 1.19, the `0` flag pads strings and booleans with zeros too
//! (later Go versions pad them with spaces); infinities and NaN are never
//! zero-padded.

use super::float::append_float;
use super::quote::{
    can_backquote, decode_rune, is_print, push_rune, quote, quote_rune, quote_rune_to_ascii,
    quote_to_ascii, rune_count, RUNE_ERROR,
};

/// What a formatted argument is, as far as the engine needs to know.
///
/// Composite values hand their parts back as further [`FmtArg`]s so that
/// verbs and flags apply to each element as in Go (`%q` of a list quotes
/// every string in it; `%6v` pads every element).
pub enum ArgKind<'a> {
    /// Go's untyped `nil` (an empty interface).
    Nil,
    /// A boolean.
    Bool(bool),
    /// A signed integer (Weft's `int`); also used for runes and bytes.
    Int(i64),
    /// A float64.
    Float(f64),
    /// A string, as bytes (need not be valid UTF-8).
    Str(&'a [u8]),
    /// A value with an `Error()` or `String()` method: for `%v %s %q %x %X`
    /// it formats as this text, as Go's `handleMethods` does.
    Text(Vec<u8>),
    /// A list (slice or array): `[e1 e2 ...]`.
    List(Vec<Box<dyn FmtArg + 'a>>),
    /// A map: `map[k1:v1 k2:v2]`, entries in print order (Go sorts keys;
    /// the caller supplies them sorted).
    Map(Vec<(Box<dyn FmtArg + 'a>, Box<dyn FmtArg + 'a>)>),
    /// A struct: `{v1 v2}`, or `{name1:v1 name2:v2}` for `%+v`.
    Struct(Vec<(String, Box<dyn FmtArg + 'a>)>),
    /// Anything else, pre-rendered by the caller for `%v` and `%+v`
    /// (functions, channels, ...); other verbs are bad verbs.
    Other {
        /// Text for `%v` (and `%s`).
        v: String,
        /// Text for `%+v`.
        plus_v: String,
    },
}

/// An argument to [`sprintf`], [`sprint`] or [`sprintln`]. The VM
/// implements this for its values.
pub trait FmtArg {
    /// The shape of the value.
    fn kind(&self) -> ArgKind<'_>;
    /// The type's name, printed by `%T` and inside error directives
    /// such as `%!d(string=hi)`. Unused for [`ArgKind::Nil`].
    fn type_name(&self) -> String;
    /// Whether the value is a string (for `Sprint`'s spacing rule). The
    /// default asks [`FmtArg::kind`]; override it when that is costly.
    fn is_str(&self) -> bool {
        matches!(self.kind(), ArgKind::Str(_))
    }
    /// Whether the value is an `error` (for `%w` in [`errorf`]).
    fn is_error(&self) -> bool {
        false
    }
}

/// A simple owned argument, handy for callers and tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `nil`
    Nil,
    /// `bool`
    Bool(bool),
    /// `int`
    Int(i64),
    /// `float`
    Float(f64),
    /// `string`
    Str(Vec<u8>),
    /// A list of values.
    List(Vec<Value>),
    /// A map, entries in print order.
    Map(Vec<(Value, Value)>),
    /// A struct with its type name and fields.
    Struct(String, Vec<(String, Value)>),
    /// An error with its message.
    Error(Vec<u8>),
}

impl FmtArg for Value {
    fn kind(&self) -> ArgKind<'_> {
        match self {
            Value::Nil => ArgKind::Nil,
            Value::Bool(b) => ArgKind::Bool(*b),
            Value::Int(i) => ArgKind::Int(*i),
            Value::Float(f) => ArgKind::Float(*f),
            Value::Str(s) => ArgKind::Str(s),
            Value::List(l) => ArgKind::List(
                l.iter()
                    .map(|v| Box::new(v) as Box<dyn FmtArg + '_>)
                    .collect(),
            ),
            Value::Map(m) => ArgKind::Map(
                m.iter()
                    .map(|(k, v)| {
                        (
                            Box::new(k) as Box<dyn FmtArg + '_>,
                            Box::new(v) as Box<dyn FmtArg + '_>,
                        )
                    })
                    .collect(),
            ),
            Value::Struct(_, fs) => ArgKind::Struct(
                fs.iter()
                    .map(|(n, v)| (n.clone(), Box::new(v) as Box<dyn FmtArg + '_>))
                    .collect(),
            ),
            Value::Error(m) => ArgKind::Text(m.clone()),
        }
    }

    fn type_name(&self) -> String {
        match self {
            Value::Nil => "nil".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float".into(),
            Value::Str(_) => "string".into(),
            Value::List(_) => "list".into(),
            Value::Map(_) => "map".into(),
            Value::Struct(n, _) => n.clone(),
            Value::Error(_) => "error".into(),
        }
    }

    fn is_error(&self) -> bool {
        matches!(self, Value::Error(_))
    }
}

impl<T: FmtArg + ?Sized> FmtArg for &T {
    fn kind(&self) -> ArgKind<'_> {
        (**self).kind()
    }
    fn type_name(&self) -> String {
        (**self).type_name()
    }
    fn is_str(&self) -> bool {
        (**self).is_str()
    }
    fn is_error(&self) -> bool {
        (**self).is_error()
    }
}

/// Flags, width and precision of one directive (Go's `fmtFlags` plus
/// `wid`/`prec`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `#`
    pub sharp: bool,
    /// `0` (cleared by `-`)
    pub zero: bool,
    /// `+`
    pub plus: bool,
    /// `-`
    pub minus: bool,
    /// ` `
    pub space: bool,
    /// `%+v`
    pub plus_v: bool,
    /// `%#v`
    pub sharp_v: bool,
    /// Width, when present.
    pub wid: Option<usize>,
    /// Precision, when present.
    pub prec: Option<usize>,
}

/// One piece of a parsed format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text copied as is.
    Literal(Vec<u8>),
    /// A `%` directive. `width_arg`/`prec_arg` mean `*`; `arg_index` is an
    /// explicit `[n]` (1-based in the text, 0-based here) before the verb.
    Directive {
        /// Flags, with literal width and precision filled in.
        flags: Flags,
        /// Width taken from an argument (`*`), with its optional `[n]`.
        width_arg: Option<Option<usize>>,
        /// Precision taken from an argument (`.*`), with its optional `[n]`.
        prec_arg: Option<Option<usize>>,
        /// `[n]` immediately before the verb.
        arg_index: Option<usize>,
        /// The verb; `None` when the format ended first (`%!(NOVERB)`).
        verb: Option<char>,
    },
}

/// Splits a format string into literals and directives (for tools and
/// tests; [`sprintf`] interprets the format directly, exactly as Go).
pub fn parse_format(format: &[u8]) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut i = 0;
    let end = format.len();
    while i < end {
        let start = i;
        while i < end && format[i] != b'%' {
            i += 1;
        }
        if i > start {
            out.push(Piece::Literal(format[start..i].to_vec()));
        }
        if i >= end {
            break;
        }
        i += 1;
        let mut flags = Flags::default();
        while i < end {
            match format[i] {
                b'#' => flags.sharp = true,
                b'0' => flags.zero = !flags.minus,
                b'+' => flags.plus = true,
                b'-' => {
                    flags.minus = true;
                    flags.zero = false;
                }
                b' ' => flags.space = true,
                _ => break,
            }
            i += 1;
        }
        let index = |i: &mut usize| -> Option<usize> {
            if *i < end && format[*i] == b'[' {
                let (idx, w, ok) = parse_arg_number(&format[*i..]);
                *i += w;
                ok.then_some(idx)
            } else {
                None
            }
        };
        let mut width_arg = None;
        let mut prec_arg = None;
        let mut arg_index = index(&mut i);
        if i < end && format[i] == b'*' {
            i += 1;
            width_arg = Some(arg_index.take());
            arg_index = index(&mut i);
        } else {
            let (n, ok, ni) = parse_num(format, i, end);
            if ok {
                flags.wid = Some(n);
            }
            i = ni;
        }
        if i + 1 < end && format[i] == b'.' {
            i += 1;
            let idx = index(&mut i).or(arg_index.take());
            if i < end && format[i] == b'*' {
                i += 1;
                prec_arg = Some(idx);
                arg_index = index(&mut i);
            } else {
                let (n, _, ni) = parse_num(format, i, end);
                flags.prec = Some(n);
                i = ni;
                arg_index = idx.or(index(&mut i));
            }
        } else if arg_index.is_none() {
            arg_index = index(&mut i);
        }
        if i >= end {
            out.push(Piece::Directive {
                flags,
                width_arg,
                prec_arg,
                arg_index,
                verb: None,
            });
            break;
        }
        let (r, w) = decode_rune(&format[i..]);
        i += w;
        out.push(Piece::Directive {
            flags,
            width_arg,
            prec_arg,
            arg_index,
            verb: Some(char::from_u32(r).unwrap_or('\u{FFFD}')),
        });
    }
    out
}

/// Go's `tooLarge`: widths and precisions are limited to ±1e6.
fn too_large(n: i64) -> bool {
    !(-1_000_000..=1_000_000).contains(&n)
}

/// Go's `parsenum`: a decimal number at `s[start..end]`.
fn parse_num(s: &[u8], start: usize, end: usize) -> (usize, bool, usize) {
    if start >= end {
        return (0, false, end);
    }
    let mut num: i64 = 0;
    let mut isnum = false;
    let mut i = start;
    while i < end && s[i].is_ascii_digit() {
        if too_large(num) {
            return (0, false, end);
        }
        num = num * 10 + (s[i] - b'0') as i64;
        isnum = true;
        i += 1;
    }
    (num as usize, isnum, i)
}

/// Go's `parseArgNumber`: `[n]` at the start of `s`; returns the 0-based
/// index, the bytes consumed, and whether it parsed.
fn parse_arg_number(s: &[u8]) -> (usize, usize, bool) {
    if s.len() < 3 {
        return (0, 1, false);
    }
    for i in 1..s.len() {
        if s[i] == b']' {
            let (width, ok, newi) = parse_num(s, 1, i);
            if !ok || newi != i || width == 0 {
                // Go computes width-1 = -1 for "[0]", an invalid index.
                return (usize::MAX, i + 1, ok && newi == i);
            }
            return (width - 1, i + 1, true);
        }
    }
    (0, 1, false)
}

const LDIGITS: &[u8; 17] = b"0123456789abcdefx";
const UDIGITS: &[u8; 17] = b"0123456789ABCDEFX";

/// The printer state (Go's `pp` and `fmt`).
struct Printer {
    buf: Vec<u8>,
    f: Flags,
    /// `Errorf`: `%w` is allowed (Go's `wrapErrs`).
    wrap_errs: bool,
    /// `Errorf`: the index of the argument `%w` named.
    wrapped: Option<usize>,
}

impl Printer {
    fn new() -> Self {
        Printer {
            buf: Vec::new(),
            f: Flags::default(),
            wrap_errs: false,
            wrapped: None,
        }
    }

    fn write_padding(&mut self, n: usize) {
        let c = if self.f.zero { b'0' } else { b' ' };
        self.buf.extend(std::iter::repeat_n(c, n));
    }

    /// Go's `pad`: `b` padded to the width (counted in runes).
    fn pad(&mut self, b: &[u8]) {
        let Some(wid) = self.f.wid.filter(|&w| w != 0) else {
            self.buf.extend_from_slice(b);
            return;
        };
        let width = wid.saturating_sub(rune_count(b));
        if !self.f.minus {
            self.write_padding(width);
            self.buf.extend_from_slice(b);
        } else {
            self.buf.extend_from_slice(b);
            self.write_padding(width);
        }
    }

    /// Go's `pad` with zero padding turned off.
    fn pad_spaces(&mut self, b: &[u8]) {
        let old = self.f.zero;
        self.f.zero = false;
        self.pad(b);
        self.f.zero = old;
    }

    /// Go's `truncate`: at most `prec` runes.
    fn truncate<'s>(&self, s: &'s [u8]) -> &'s [u8] {
        if let Some(p) = self.f.prec {
            let mut i = 0;
            let mut n = 0;
            while i < s.len() {
                if n == p {
                    return &s[..i];
                }
                i += decode_rune(&s[i..]).1;
                n += 1;
            }
        }
        s
    }

    fn fmt_s(&mut self, s: &[u8]) {
        let s = self.truncate(s);
        self.pad(s);
    }

    fn fmt_q(&mut self, s: &[u8]) {
        let s = self.truncate(s);
        if self.f.sharp && can_backquote(s) {
            let mut b = vec![b'`'];
            b.extend_from_slice(s);
            b.push(b'`');
            self.pad(&b);
            return;
        }
        let q = if self.f.plus {
            quote_to_ascii(s)
        } else {
            quote(s)
        };
        self.pad(&q);
    }

    /// Go's `fmtSbx` for a string: hex of its bytes.
    fn fmt_sx(&mut self, s: &[u8], digits: &[u8; 17]) {
        let mut length = s.len();
        if let Some(p) = self.f.prec {
            length = length.min(p);
        }
        let mut width = 2 * length;
        if width > 0 {
            if self.f.space {
                if self.f.sharp {
                    width *= 2;
                }
                width += length - 1;
            } else if self.f.sharp {
                width += 2;
            }
        } else {
            if let Some(w) = self.f.wid {
                self.write_padding(w);
            }
            return;
        }
        let wid = self.f.wid.unwrap_or(0);
        if wid > width && !self.f.minus {
            self.write_padding(wid - width);
        }
        if self.f.sharp {
            self.buf.push(b'0');
            self.buf.push(digits[16]);
        }
        for (i, &c) in s[..length].iter().enumerate() {
            if self.f.space && i > 0 {
                self.buf.push(b' ');
                if self.f.sharp {
                    self.buf.push(b'0');
                    self.buf.push(digits[16]);
                }
            }
            self.buf.push(digits[(c >> 4) as usize]);
            self.buf.push(digits[(c & 0xF) as usize]);
        }
        if wid > width && self.f.minus {
            self.write_padding(wid - width);
        }
    }

    fn fmt_bool(&mut self, b: bool, verb: char, arg: &dyn FmtArg) {
        match verb {
            't' | 'v' => self.pad(if b { b"true" } else { b"false" }),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    /// Go's `fmtInteger`.
    fn fmt_integer(&mut self, u: u64, base: u64, signed: bool, verb: char, digits: &[u8; 17]) {
        let negative = signed && (u as i64) < 0;
        let mut u = if negative {
            (u as i64).unsigned_abs()
        } else {
            u
        };
        let mut prec = 0usize;
        if let Some(p) = self.f.prec {
            prec = p;
            if p == 0 && u == 0 {
                let old = self.f.zero;
                self.f.zero = false;
                self.write_padding(self.f.wid.unwrap_or(0));
                self.f.zero = old;
                return;
            }
        } else if self.f.zero && self.f.wid.is_some() {
            prec = self.f.wid.unwrap_or(0);
            if negative || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        let mut rev: Vec<u8> = Vec::with_capacity(68);
        loop {
            rev.push(digits[(u % base) as usize]);
            u /= base;
            if u == 0 {
                break;
            }
        }
        while rev.len() < prec {
            rev.push(b'0');
        }
        if self.f.sharp {
            match base {
                2 => rev.extend_from_slice(b"b0"),
                8 if rev.last() != Some(&b'0') => rev.push(b'0'),
                16 => {
                    rev.push(digits[16]);
                    rev.push(b'0');
                }
                _ => {}
            }
        }
        if verb == 'O' {
            rev.extend_from_slice(b"o0");
        }
        if negative {
            rev.push(b'-');
        } else if self.f.plus {
            rev.push(b'+');
        } else if self.f.space {
            rev.push(b' ');
        }
        rev.reverse();
        self.pad_spaces(&rev);
    }

    /// Go's `fmtUnicode`: `U+0041`, or `U+0041 'A'` with `#`.
    fn fmt_unicode(&mut self, u: u64) {
        let prec = self.f.prec.filter(|&p| p > 4).unwrap_or(4);
        let mut hex = Vec::new();
        let mut v = u;
        loop {
            hex.push(UDIGITS[(v & 0xF) as usize]);
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        while hex.len() < prec {
            hex.push(b'0');
        }
        hex.extend_from_slice(b"+U");
        hex.reverse();
        if self.f.sharp && u <= 0x10FFFF && is_print(u as u32) {
            hex.extend_from_slice(b" '");
            push_rune(&mut hex, u as u32);
            hex.push(b'\'');
        }
        self.pad_spaces(&hex);
    }

    fn fmt_int(&mut self, i: i64, verb: char, arg: &dyn FmtArg) {
        let u = i as u64;
        match verb {
            'v' | 'd' => self.fmt_integer(u, 10, true, verb, LDIGITS),
            'b' => self.fmt_integer(u, 2, true, verb, LDIGITS),
            'o' | 'O' => self.fmt_integer(u, 8, true, verb, LDIGITS),
            'x' => self.fmt_integer(u, 16, true, verb, LDIGITS),
            'X' => self.fmt_integer(u, 16, true, verb, UDIGITS),
            'c' => {
                let r = if u > 0x10FFFF { RUNE_ERROR } else { u as u32 };
                let mut b = Vec::new();
                push_rune(&mut b, r);
                self.pad(&b);
            }
            'q' if u > 0x10FFFF => self.bad_verb(verb, Some(arg)),
            'q' => {
                let r = u as u32;
                let q = if self.f.plus {
                    quote_rune_to_ascii(r)
                } else {
                    quote_rune(r)
                };
                self.pad(&q);
            }
            'U' => self.fmt_unicode(u),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    /// Go's `fmt.fmtFloat`.
    fn fmt_float_with(&mut self, v: f64, verb: u8, prec: i32) {
        let prec = self.f.prec.map_or(prec, |p| p as i32);
        let mut s = String::with_capacity(24);
        append_float(&mut s, v, verb, prec);
        let mut num: Vec<u8> = s.into_bytes();
        if num[0] != b'-' && num[0] != b'+' {
            num.insert(0, b'+');
        }
        if self.f.space && num[0] == b'+' && !self.f.plus {
            num[0] = b' ';
        }
        if num[1] == b'I' || num[1] == b'N' {
            if num[1] == b'N' && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            self.pad_spaces(&num);
            return;
        }
        if self.f.sharp && verb != b'b' {
            let mut digits: i64 = match verb {
                b'v' | b'g' | b'G' | b'x' => {
                    if prec == -1 {
                        6
                    } else {
                        prec as i64
                    }
                }
                _ => 0,
            };
            let mut tail = Vec::new();
            let mut has_point = false;
            let mut saw_nonzero = false;
            let mut i = 1;
            while i < num.len() {
                match num[i] {
                    b'.' => has_point = true,
                    b'p' | b'P' => {
                        tail = num.split_off(i);
                        break;
                    }
                    b'e' | b'E' if verb != b'x' && verb != b'X' => {
                        tail = num.split_off(i);
                        break;
                    }
                    c => {
                        if c != b'0' {
                            saw_nonzero = true;
                        }
                        if saw_nonzero {
                            digits -= 1;
                        }
                    }
                }
                i += 1;
            }
            if !has_point {
                if num.len() == 2 && num[1] == b'0' {
                    digits -= 1;
                }
                num.push(b'.');
            }
            while digits > 0 {
                num.push(b'0');
                digits -= 1;
            }
            num.extend_from_slice(&tail);
        }
        if self.f.plus || num[0] != b'+' {
            if let Some(w) = self.f.wid {
                if self.f.zero && w > num.len() {
                    self.buf.push(num[0]);
                    self.write_padding(w - num.len());
                    self.buf.extend_from_slice(&num[1..]);
                    return;
                }
            }
            self.pad(&num);
            return;
        }
        self.pad(&num[1..]);
    }

    fn fmt_float(&mut self, v: f64, verb: char, arg: &dyn FmtArg) {
        match verb {
            'v' => self.fmt_float_with(v, b'g', -1),
            'b' | 'g' | 'G' | 'x' | 'X' => self.fmt_float_with(v, verb as u8, -1),
            'f' | 'e' | 'E' => self.fmt_float_with(v, verb as u8, 6),
            'F' => self.fmt_float_with(v, b'f', 6),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    fn fmt_string(&mut self, s: &[u8], verb: char, arg: &dyn FmtArg) {
        match verb {
            'v' => {
                if self.f.sharp_v {
                    self.fmt_q(s)
                } else {
                    self.fmt_s(s)
                }
            }
            's' => self.fmt_s(s),
            'x' => self.fmt_sx(s, LDIGITS),
            'X' => self.fmt_sx(s, UDIGITS),
            'q' => self.fmt_q(s),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    /// Go's `badVerb`: `%!verb(type=value)` or `%!verb(<nil>)`.
    fn bad_verb(&mut self, verb: char, arg: Option<&dyn FmtArg>) {
        self.buf.extend_from_slice(b"%!");
        push_rune(&mut self.buf, verb as u32);
        self.buf.push(b'(');
        match arg {
            Some(a) if !matches!(a.kind(), ArgKind::Nil) => {
                self.buf.extend_from_slice(a.type_name().as_bytes());
                self.buf.push(b'=');
                self.print_arg(a, 'v', 0);
            }
            _ => self.buf.extend_from_slice(b"<nil>"),
        }
        self.buf.push(b')');
    }

    /// Go's `printArg` (depth 0) and `printValue` (depth > 0).
    fn print_arg(&mut self, arg: &dyn FmtArg, verb: char, depth: usize) {
        let kind = arg.kind();
        if let ArgKind::Nil = kind {
            match verb {
                'T' | 'v' => self.pad(b"<nil>"),
                _ if depth > 0 => self.pad(b"<nil>"),
                _ => self.bad_verb(verb, None),
            }
            return;
        }
        if verb == 'T' && depth == 0 {
            let name = arg.type_name();
            self.fmt_s(name.as_bytes());
            return;
        }
        match kind {
            ArgKind::Nil => {}
            ArgKind::Bool(b) => self.fmt_bool(b, verb, arg),
            ArgKind::Int(i) => {
                if self.f.sharp_v && verb == 'v' {
                    self.fmt_integer(i as u64, 10, true, 'd', LDIGITS);
                } else {
                    self.fmt_int(i, verb, arg)
                }
            }
            ArgKind::Float(f) => self.fmt_float(f, verb, arg),
            ArgKind::Str(s) => self.fmt_string(s, verb, arg),
            ArgKind::Text(t) => match verb {
                'v' | 's' | 'x' | 'X' | 'q' => {
                    let sharp_v = std::mem::take(&mut self.f.sharp_v);
                    self.fmt_string(&t, verb, arg);
                    self.f.sharp_v = sharp_v;
                }
                _ => self.bad_verb(verb, Some(arg)),
            },
            ArgKind::List(items) => {
                if self.f.sharp_v {
                    self.buf.extend_from_slice(arg.type_name().as_bytes());
                    self.buf.push(b'{');
                    for (i, e) in items.iter().enumerate() {
                        if i > 0 {
                            self.buf.extend_from_slice(b", ");
                        }
                        self.print_arg(e.as_ref(), verb, depth + 1);
                    }
                    self.buf.push(b'}');
                    return;
                }
                self.buf.push(b'[');
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b' ');
                    }
                    self.print_arg(e.as_ref(), verb, depth + 1);
                }
                self.buf.push(b']');
            }
            ArgKind::Map(entries) => {
                if self.f.sharp_v {
                    self.buf.extend_from_slice(arg.type_name().as_bytes());
                    self.buf.push(b'{');
                } else {
                    self.buf.extend_from_slice(b"map[");
                }
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        if self.f.sharp_v {
                            self.buf.extend_from_slice(b", ");
                        } else {
                            self.buf.push(b' ');
                        }
                    }
                    self.print_arg(k.as_ref(), verb, depth + 1);
                    self.buf.push(b':');
                    self.print_arg(v.as_ref(), verb, depth + 1);
                }
                self.buf.push(if self.f.sharp_v { b'}' } else { b']' });
            }
            ArgKind::Struct(fields) => {
                if self.f.sharp_v {
                    self.buf.extend_from_slice(arg.type_name().as_bytes());
                }
                self.buf.push(b'{');
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        if self.f.sharp_v {
                            self.buf.extend_from_slice(b", ");
                        } else {
                            self.buf.push(b' ');
                        }
                    }
                    if self.f.plus_v || self.f.sharp_v {
                        self.buf.extend_from_slice(name.as_bytes());
                        self.buf.push(b':');
                    }
                    self.print_arg(v.as_ref(), verb, depth + 1);
                }
                self.buf.push(b'}');
            }
            ArgKind::Other { v, plus_v } => match verb {
                'v' | 's' => {
                    let text = if self.f.plus_v || self.f.sharp_v {
                        plus_v
                    } else {
                        v
                    };
                    self.fmt_s(text.as_bytes());
                }
                _ => {
                    self.buf.extend_from_slice(b"%!");
                    push_rune(&mut self.buf, verb as u32);
                    self.buf.push(b'(');
                    self.buf.extend_from_slice(arg.type_name().as_bytes());
                    self.buf.push(b'=');
                    self.buf.extend_from_slice(v.as_bytes());
                    self.buf.push(b')');
                }
            },
        }
    }

    /// Go's `intFromArg`: a `*` width or precision.
    fn int_from_arg(args: &[&dyn FmtArg], arg_num: usize) -> (i64, bool, usize) {
        if arg_num < args.len() {
            let (mut n, mut ok) = match args[arg_num].kind() {
                ArgKind::Int(i) => (i, true),
                _ => (0, false),
            };
            if too_large(n) {
                n = 0;
                ok = false;
            }
            (n, ok, arg_num + 1)
        } else {
            (0, false, arg_num)
        }
    }
}

/// Go's `pp.argNumber`.
fn arg_number(
    arg_num: usize,
    format: &[u8],
    i: usize,
    num_args: usize,
    reordered: &mut bool,
    good_arg_num: &mut bool,
) -> (usize, usize, bool) {
    if format.len() <= i || format[i] != b'[' {
        return (arg_num, i, false);
    }
    *reordered = true;
    let (index, wid, ok) = parse_arg_number(&format[i..]);
    if ok && index < num_args {
        return (index, i + wid, true);
    }
    *good_arg_num = false;
    (arg_num, i + wid, ok)
}

impl Printer {
    /// Go's `printArg` for a directive's operand, with `Errorf`'s `%w`
    /// (Go 1.19: one `%w` with an error operand; anything else is a bad
    /// verb and cancels the wrapping).
    fn print_top(&mut self, args: &[&dyn FmtArg], arg_num: usize, verb: char) {
        let arg = args[arg_num];
        if verb == 'w' {
            if !arg.is_error() || !self.wrap_errs || self.wrapped.is_some() {
                self.wrapped = None;
                self.wrap_errs = false;
                self.bad_verb('w', Some(arg));
                return;
            }
            self.wrapped = Some(arg_num);
            self.print_arg(arg, 'v', 0);
            return;
        }
        self.print_arg(arg, verb, 0);
    }
}

/// Go's `fmt.Sprintf`.
pub fn sprintf(format: &[u8], args: &[&dyn FmtArg]) -> Vec<u8> {
    do_printf(Printer::new(), format, args).0
}

/// The text of Go's `fmt.Errorf(format, args...)` and the index of the
/// operand its `%w` wraps (Go 1.19: exactly one `%w` naming an error
/// operand; otherwise `%!w(...)` and nothing is wrapped).
pub fn errorf(format: &[u8], args: &[&dyn FmtArg]) -> (Vec<u8>, Option<usize>) {
    let mut p = Printer::new();
    p.wrap_errs = true;
    do_printf(p, format, args)
}

/// Go's `doPrintf`.
fn do_printf(mut p: Printer, format: &[u8], args: &[&dyn FmtArg]) -> (Vec<u8>, Option<usize>) {
    let end = format.len();
    let mut arg_num = 0usize;
    let mut after_index;
    let mut reordered = false;
    let mut i = 0;
    'format: while i < end {
        let mut good_arg_num = true;
        let last = i;
        while i < end && format[i] != b'%' {
            i += 1;
        }
        if i > last {
            p.buf.extend_from_slice(&format[last..i]);
        }
        if i >= end {
            break;
        }
        i += 1;
        p.f = Flags::default();
        while i < end {
            let c = format[i];
            match c {
                b'#' => p.f.sharp = true,
                b'0' => p.f.zero = !p.f.minus,
                b'+' => p.f.plus = true,
                b'-' => {
                    p.f.minus = true;
                    p.f.zero = false;
                }
                b' ' => p.f.space = true,
                _ => {
                    if c.is_ascii_lowercase() && arg_num < args.len() {
                        if c == b'v' {
                            p.f.sharp_v = p.f.sharp;
                            p.f.sharp = false;
                            p.f.plus_v = p.f.plus;
                            p.f.plus = false;
                        }
                        p.print_top(args, arg_num, c as char);
                        arg_num += 1;
                        i += 1;
                        continue 'format;
                    }
                    break;
                }
            }
            i += 1;
        }

        (arg_num, i, after_index) = arg_number(
            arg_num,
            format,
            i,
            args.len(),
            &mut reordered,
            &mut good_arg_num,
        );

        if i < end && format[i] == b'*' {
            i += 1;
            let (w, ok, n) = Printer::int_from_arg(args, arg_num);
            arg_num = n;
            p.f.wid = ok.then_some(w.unsigned_abs() as usize);
            if !ok {
                p.buf.extend_from_slice(b"%!(BADWIDTH)");
            }
            if w < 0 {
                p.f.minus = true;
                p.f.zero = false;
            }
            after_index = false;
        } else {
            let (n, ok, ni) = parse_num(format, i, end);
            i = ni;
            p.f.wid = ok.then_some(n);
            if after_index && ok {
                good_arg_num = false;
            }
        }

        if i + 1 < end && format[i] == b'.' {
            i += 1;
            if after_index {
                good_arg_num = false;
            }
            (arg_num, i, after_index) = arg_number(
                arg_num,
                format,
                i,
                args.len(),
                &mut reordered,
                &mut good_arg_num,
            );
            if i < end && format[i] == b'*' {
                i += 1;
                let (pr, ok, n) = Printer::int_from_arg(args, arg_num);
                arg_num = n;
                p.f.prec = (ok && pr >= 0).then_some(pr as usize);
                if !(ok && pr >= 0) {
                    p.buf.extend_from_slice(b"%!(BADPREC)");
                }
                after_index = false;
            } else {
                let (n, ok, ni) = parse_num(format, i, end);
                i = ni;
                p.f.prec = Some(if ok { n } else { 0 });
            }
        }

        if !after_index {
            (arg_num, i, _) = arg_number(
                arg_num,
                format,
                i,
                args.len(),
                &mut reordered,
                &mut good_arg_num,
            );
        }

        if i >= end {
            p.buf.extend_from_slice(b"%!(NOVERB)");
            break;
        }
        let (r, w) = decode_rune(&format[i..]);
        let verb = char::from_u32(r).unwrap_or('\u{FFFD}');
        i += w;

        if verb == '%' {
            p.buf.push(b'%');
        } else if !good_arg_num {
            p.buf.extend_from_slice(b"%!");
            push_rune(&mut p.buf, r);
            p.buf.extend_from_slice(b"(BADINDEX)");
        } else if arg_num >= args.len() {
            p.buf.extend_from_slice(b"%!");
            push_rune(&mut p.buf, r);
            p.buf.extend_from_slice(b"(MISSING)");
        } else {
            if verb == 'v' {
                p.f.sharp_v = p.f.sharp;
                p.f.sharp = false;
                p.f.plus_v = p.f.plus;
                p.f.plus = false;
            }
            p.print_top(args, arg_num, verb);
            arg_num += 1;
        }
    }

    if !reordered && arg_num < args.len() {
        p.f = Flags::default();
        p.buf.extend_from_slice(b"%!(EXTRA ");
        for (k, a) in args[arg_num..].iter().enumerate() {
            if k > 0 {
                p.buf.extend_from_slice(b", ");
            }
            if matches!(a.kind(), ArgKind::Nil) {
                p.buf.extend_from_slice(b"<nil>");
            } else {
                p.buf.extend_from_slice(a.type_name().as_bytes());
                p.buf.push(b'=');
                p.print_arg(*a, 'v', 0);
            }
        }
        p.buf.push(b')');
    }
    let wrapped = if p.wrap_errs { p.wrapped } else { None };
    (p.buf, wrapped)
}

/// The order Go's `fmt` prints map keys in (`internal/fmtsort`): numbers
/// numerically (NaN first, ints before floats when mixed), strings
/// bytewise, `false` before `true`, `nil` first. Keys of different kinds
/// are grouped by kind (nil, bool, numbers, strings, others); Go orders
/// such mixed interface keys by an address-dependent type order instead.
/// Composite keys compare as equal (their order is left as given).
pub fn compare_keys(a: &dyn FmtArg, b: &dyn FmtArg) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn rank(k: &ArgKind<'_>) -> u8 {
        match k {
            ArgKind::Nil => 0,
            ArgKind::Bool(_) => 1,
            ArgKind::Int(_) | ArgKind::Float(_) => 2,
            ArgKind::Str(_) => 3,
            _ => 4,
        }
    }
    fn float_cmp(x: f64, y: f64) -> Ordering {
        match (x.is_nan(), y.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        }
    }
    let (ka, kb) = (a.kind(), b.kind());
    match (&ka, &kb) {
        (ArgKind::Bool(x), ArgKind::Bool(y)) => x.cmp(y),
        (ArgKind::Int(x), ArgKind::Int(y)) => x.cmp(y),
        (ArgKind::Float(x), ArgKind::Float(y)) => float_cmp(*x, *y),
        (ArgKind::Int(_), ArgKind::Float(_)) => Ordering::Less,
        (ArgKind::Float(_), ArgKind::Int(_)) => Ordering::Greater,
        (ArgKind::Str(x), ArgKind::Str(y)) => x.cmp(y),
        _ => rank(&ka).cmp(&rank(&kb)),
    }
}

/// Go's `%v` of one value (what `fmt.Print` shows for it).
pub fn format_v(arg: &dyn FmtArg) -> Vec<u8> {
    let mut p = Printer::new();
    p.print_arg(arg, 'v', 0);
    p.buf
}

/// Go's `fmt.Sprint`: operands in `%v`, with a space between two operands
/// when neither is a string.
pub fn sprint(args: &[&dyn FmtArg]) -> Vec<u8> {
    let mut p = Printer::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = a.is_str();
        if i > 0 && !is_string && !prev_string {
            p.buf.push(b' ');
        }
        p.f = Flags::default();
        p.print_arg(*a, 'v', 0);
        prev_string = is_string;
    }
    p.buf
}

/// Go's `fmt.Sprintln`: operands in `%v` separated by spaces, then a
/// newline.
pub fn sprintln(args: &[&dyn FmtArg]) -> Vec<u8> {
    let mut p = Printer::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(b' ');
        }
        p.f = Flags::default();
        p.print_arg(*a, 'v', 0);
    }
    p.buf.push(b'\n');
    p.buf
}
