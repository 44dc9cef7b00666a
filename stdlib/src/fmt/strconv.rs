//! Go's `strconv` parsers with Go's exact error texts: `Atoi`, `ParseInt`,
//! `ParseUint`, `ParseFloat` (64-bit). Errors are [`NumError`]s whose
//! `Display` is Go's `Error()` string, e.g.
//! `strconv.Atoi: parsing "12a": invalid syntax`.

use std::fmt;

use super::quote::quote;

/// Why a parse failed (Go's `ErrSyntax`, `ErrRange`, or a base/bit-size
/// complaint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumErrorKind {
    /// `invalid syntax`
    Syntax,
    /// `value out of range`
    Range,
    /// `invalid base N`
    Base(u32),
    /// `invalid bit size N`
    BitSize(u32),
}

/// Go's `*strconv.NumError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumError {
    /// The failing function: `Atoi`, `ParseInt`, `ParseUint`, `ParseFloat`.
    pub func: &'static str,
    /// The input.
    pub num: Vec<u8>,
    /// The reason.
    pub kind: NumErrorKind,
}

impl fmt::Display for NumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = String::from_utf8_lossy(&quote(&self.num)).into_owned();
        write!(f, "strconv.{}: parsing {}: ", self.func, q)?;
        match &self.kind {
            NumErrorKind::Syntax => f.write_str("invalid syntax"),
            NumErrorKind::Range => f.write_str("value out of range"),
            NumErrorKind::Base(b) => write!(f, "invalid base {b}"),
            NumErrorKind::BitSize(b) => write!(f, "invalid bit size {b}"),
        }
    }
}

impl std::error::Error for NumError {}

fn err(func: &'static str, s: &[u8], kind: NumErrorKind) -> NumError {
    NumError {
        func,
        num: s.to_vec(),
        kind,
    }
}

/// Go's `underscoreOK`: underscores only between digits, or between a
/// base prefix and a digit.
fn underscore_ok(s: &[u8]) -> bool {
    let mut saw = b'^';
    let mut s = s;
    if let Some(b'+' | b'-') = s.first() {
        s = &s[1..];
    }
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1] | 0x20 == b'x';
    }
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c.is_ascii_digit() || (hex && (b'a'..=b'f').contains(&(c | 0x20))) {
            saw = b'0';
            continue;
        }
        if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
            continue;
        }
        if saw == b'_' {
            return false;
        }
        saw = b'!';
    }
    saw != b'_'
}

fn parse_uint_as(func: &'static str, s: &[u8], base: u32, bit_size: u32) -> Result<u64, NumError> {
    if s.is_empty() {
        return Err(err(func, s, NumErrorKind::Syntax));
    }
    let base0 = base == 0;
    let s0 = s;
    let mut s = s;
    let mut base = base;
    if (2..=36).contains(&base) {
    } else if base == 0 {
        base = 10;
        if s[0] == b'0' {
            if s.len() >= 3 && matches!(s[1] | 0x20, b'b' | b'o' | b'x') {
                base = match s[1] | 0x20 {
                    b'b' => 2,
                    b'o' => 8,
                    _ => 16,
                };
                s = &s[2..];
            } else {
                base = 8;
                s = &s[1..];
            }
        }
    } else {
        return Err(err(func, s0, NumErrorKind::Base(base)));
    }
    let bit_size = if bit_size == 0 { 64 } else { bit_size };
    if bit_size > 64 {
        return Err(err(func, s0, NumErrorKind::BitSize(bit_size)));
    }
    let cutoff = u64::MAX / base as u64 + 1;
    let max_val = if bit_size == 64 {
        u64::MAX
    } else {
        (1u64 << bit_size) - 1
    };
    let mut underscores = false;
    let mut n: u64 = 0;
    for &c in s {
        let d = match c {
            b'_' if base0 => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => c - b'0',
            b'a'..=b'z' | b'A'..=b'Z' => (c | 0x20) - b'a' + 10,
            _ => return Err(err(func, s0, NumErrorKind::Syntax)),
        };
        if d as u32 >= base {
            return Err(err(func, s0, NumErrorKind::Syntax));
        }
        if n >= cutoff {
            return Err(err(func, s0, NumErrorKind::Range));
        }
        n *= base as u64;
        let n1 = n.wrapping_add(d as u64);
        if n1 < n || n1 > max_val {
            return Err(err(func, s0, NumErrorKind::Range));
        }
        n = n1;
    }
    if underscores && !underscore_ok(s0) {
        return Err(err(func, s0, NumErrorKind::Syntax));
    }
    Ok(n)
}

/// Go's `strconv.ParseUint(s, base, bitSize)` (base 0 reads a prefix and
/// allows underscores; bit size 0 means 64). On a range error Go also
/// returns the clamped value; here only the error is returned.
pub fn parse_uint(s: &[u8], base: u32, bit_size: u32) -> Result<u64, NumError> {
    parse_uint_as("ParseUint", s, base, bit_size)
}

fn parse_int_as(func: &'static str, s: &[u8], base: u32, bit_size: u32) -> Result<i64, NumError> {
    if s.is_empty() {
        return Err(err(func, s, NumErrorKind::Syntax));
    }
    let s0 = s;
    let (neg, digits) = match s[0] {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let un = parse_uint_as(func, digits, base, bit_size).map_err(|mut e| {
        e.num = s0.to_vec();
        e
    })?;
    let bit_size = if bit_size == 0 { 64 } else { bit_size };
    let cutoff = 1u64 << (bit_size - 1);
    if !neg && un >= cutoff {
        return Err(err(func, s0, NumErrorKind::Range));
    }
    if neg && un > cutoff {
        return Err(err(func, s0, NumErrorKind::Range));
    }
    Ok(if neg {
        (un as i64).wrapping_neg()
    } else {
        un as i64
    })
}

/// Go's `strconv.ParseInt(s, base, bitSize)`.
pub fn parse_int(s: &[u8], base: u32, bit_size: u32) -> Result<i64, NumError> {
    parse_int_as("ParseInt", s, base, bit_size)
}

/// Go's `strconv.Atoi(s)`: base 10, optional sign, no underscores.
pub fn atoi(s: &[u8]) -> Result<i64, NumError> {
    parse_int_as("Atoi", s, 10, 64)
}

/// Go's `special`: `inf`, `infinity` (either with a sign) and `nan`,
/// case-insensitively, as a prefix of `s`.
fn special(s: &[u8]) -> Option<(f64, usize)> {
    let prefix = |s: &[u8], word: &[u8]| {
        s.iter()
            .zip(word)
            .take_while(|(a, b)| a.to_ascii_lowercase() == **b)
            .count()
    };
    let (sign, rest, nsign) = match s.first()? {
        b'+' => (1.0, &s[1..], 1),
        b'-' => (-1.0, &s[1..], 1),
        _ => (1.0, s, 0),
    };
    match rest.first()? | 0x20 {
        b'i' => {
            let mut n = prefix(rest, b"infinity");
            if 3 < n && n < 8 {
                n = 3;
            }
            (n == 3 || n == 8).then_some((sign * f64::INFINITY, nsign + n))
        }
        b'n' if nsign == 0 => (prefix(rest, b"nan") == 3).then_some((f64::NAN, 3)),
        _ => None,
    }
}

/// `2^k` for `k` in the normal range.
fn pow2(k: i32) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// Correctly rounded `m * 2^e` where `sticky` says nonzero bits were
/// dropped below `m`.
fn scale_binary(m: u64, e: i64, sticky: bool) -> f64 {
    if m == 0 {
        return 0.0;
    }
    let lz = m.leading_zeros() as i64;
    let m = m << lz;
    let e = e - lz; // value = m * 2^e, top bit of m set
    let top = e + 63; // unbiased exponent of the leading bit
    if top > 1023 {
        return f64::INFINITY;
    }
    let keep: i64 = if top >= -1022 { 53 } else { 53 - (-1022 - top) };
    if keep < 0 {
        return 0.0;
    }
    let drop = (64 - keep) as u32;
    let (mut q, rem_gt, rem_eq) = if drop >= 64 {
        // keep == 0: only the rounding decision remains.
        let half = 1u64 << 63;
        (
            0u64,
            m > half || (m == half && sticky),
            m == half && !sticky,
        )
    } else {
        let q = m >> drop;
        let rem = m & ((1u64 << drop) - 1);
        let half = 1u64 << (drop - 1);
        (
            q,
            rem > half || (rem == half && sticky),
            rem == half && !sticky,
        )
    };
    if rem_gt || (rem_eq && q & 1 == 1) {
        q += 1;
    }
    let k = e + drop as i64; // value = q * 2^k exactly
    if k >= -1022 {
        if k > 1023 {
            return f64::INFINITY;
        }
        q as f64 * pow2(k as i32)
    } else {
        q as f64 * pow2((k + 100) as i32) * pow2(-100)
    }
}

/// A hexadecimal float body (after `0x`): mantissa with optional point and
/// a mandatory `p` exponent. Underscores were removed by the caller.
fn parse_hex_float(s: &[u8]) -> Option<f64> {
    let mut i = 0;
    let mut m: u64 = 0;
    let mut e: i64 = 0;
    let mut sticky = false;
    let mut saw_digit = false;
    let mut saw_dot = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' {
            if saw_dot {
                return None;
            }
            saw_dot = true;
            i += 1;
            continue;
        }
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' | b'A'..=b'F' => (c | 0x20) - b'a' + 10,
            _ => break,
        };
        saw_digit = true;
        if m >> 60 == 0 {
            m = m << 4 | d as u64;
            if saw_dot {
                e -= 4;
            }
        } else {
            sticky |= d != 0;
            if !saw_dot {
                e += 4;
            }
        }
        i += 1;
    }
    if !saw_digit || i >= s.len() || s[i] | 0x20 != b'p' {
        return None;
    }
    i += 1;
    let mut neg = false;
    if let Some(&c @ (b'+' | b'-')) = s.get(i) {
        neg = c == b'-';
        i += 1;
    }
    if i >= s.len() {
        return None;
    }
    let mut x: i64 = 0;
    for &c in &s[i..] {
        if !c.is_ascii_digit() {
            return None;
        }
        if x < 100_000 {
            x = x * 10 + (c - b'0') as i64;
        }
    }
    Some(scale_binary(m, e + if neg { -x } else { x }, sticky))
}

/// Whether `s` is Go decimal float syntax: digits with an optional point
/// (at least one digit) and an optional exponent.
fn is_decimal_float(s: &[u8]) -> bool {
    let mut i = 0;
    let mut digits = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return false;
    }
    if i < s.len() && s[i] | 0x20 == b'e' {
        i += 1;
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == s.len()
}

/// Go's `strconv.ParseFloat(s, 64)`: decimal and hexadecimal float syntax,
/// underscores as in Go literals, `inf`/`infinity`/`nan` in any case.
/// Overflow is a range error (Go also returns ±Inf with it); underflow
/// gives zero without error, as in Go.
pub fn parse_float(s: &[u8]) -> Result<f64, NumError> {
    let syntax = || err("ParseFloat", s, NumErrorKind::Syntax);
    if let Some((v, n)) = special(s) {
        return if n == s.len() { Ok(v) } else { Err(syntax()) };
    }
    let (neg, body) = match s.first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if body.contains(&b'_') && !underscore_ok(s) {
        return Err(syntax());
    }
    let clean: Vec<u8> = body.iter().copied().filter(|&c| c != b'_').collect();
    let v = if clean.len() >= 2 && clean[0] == b'0' && clean[1] | 0x20 == b'x' {
        parse_hex_float(&clean[2..]).ok_or_else(syntax)?
    } else {
        if !is_decimal_float(&clean) {
            return Err(syntax());
        }
        let text = std::str::from_utf8(&clean).map_err(|_| syntax())?;
        text.parse::<f64>().map_err(|_| syntax())?
    };
    let v = if neg { -v } else { v };
    if v.is_infinite() {
        return Err(err("ParseFloat", s, NumErrorKind::Range));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atoi_text(s: &str) -> String {
        match atoi(s.as_bytes()) {
            Ok(n) => format!("{n} <nil>"),
            Err(e) => format!("error: {e}"),
        }
    }

    fn pf(s: &str) -> String {
        match parse_float(s.as_bytes()) {
            Ok(f) => crate::fmt::float::format_v(f),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn conformance_atoi() {
        let cases = [
            ("123", "123 <nil>"),
            ("-7", "-7 <nil>"),
            ("+5", "5 <nil>"),
            ("0", "0 <nil>"),
            ("007", "7 <nil>"),
            (
                "12x",
                r#"error: strconv.Atoi: parsing "12x": invalid syntax"#,
            ),
            ("", r#"error: strconv.Atoi: parsing "": invalid syntax"#),
            (" 5", r#"error: strconv.Atoi: parsing " 5": invalid syntax"#),
            (
                "99999999999999999999",
                r#"error: strconv.Atoi: parsing "99999999999999999999": value out of range"#,
            ),
            (
                "1.5",
                r#"error: strconv.Atoi: parsing "1.5": invalid syntax"#,
            ),
            (
                "0x10",
                r#"error: strconv.Atoi: parsing "0x10": invalid syntax"#,
            ),
        ];
        for (s, want) in cases {
            assert_eq!(atoi_text(s), want, "{s}");
        }
        assert_eq!(atoi(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(
            atoi(b"9223372036854775808").unwrap_err().kind,
            NumErrorKind::Range
        );
        assert_eq!(atoi(b"1_000").unwrap_err().kind, NumErrorKind::Syntax);
        assert_eq!(atoi(b"-").unwrap_err().kind, NumErrorKind::Syntax);
    }

    #[test]
    fn conformance_parse_float() {
        let cases = [
            ("2.5", "2.5"),
            ("1e3", "1000"),
            ("-0.125", "-0.125"),
            ("inf", "+Inf"),
            ("-Inf", "-Inf"),
            ("NaN", "NaN"),
            (".5", "0.5"),
            ("1E-2", "0.01"),
            (
                "abc",
                r#"error: strconv.ParseFloat: parsing "abc": invalid syntax"#,
            ),
            (
                "1e400",
                r#"error: strconv.ParseFloat: parsing "1e400": value out of range"#,
            ),
        ];
        for (s, want) in cases {
            assert_eq!(pf(s), want, "{s}");
        }
    }

    #[test]
    fn parse_float_syntax() {
        assert_eq!(pf("+Infinity"), "+Inf");
        assert_eq!(
            pf("infin"),
            r#"error: strconv.ParseFloat: parsing "infin": invalid syntax"#
        );
        assert_eq!(
            pf("+nan"),
            r#"error: strconv.ParseFloat: parsing "+nan": invalid syntax"#
        );
        assert_eq!(pf("1_000.5"), "1000.5");
        assert!(pf("1__0").starts_with("error"));
        assert!(pf("_1").starts_with("error"));
        assert_eq!(pf("1."), "1");
        assert_eq!(
            pf("."),
            r#"error: strconv.ParseFloat: parsing ".": invalid syntax"#
        );
        assert_eq!(
            pf("1e"),
            r#"error: strconv.ParseFloat: parsing "1e": invalid syntax"#
        );
        assert_eq!(pf("1e-400"), "0");
        assert_eq!(pf("-1e-400"), "-0");
        assert_eq!(pf("0x1p-2"), "0.25");
        assert_eq!(pf("0x1.8p1"), "3");
        assert_eq!(pf("0X_1FFFP-16"), "0.1249847412109375");
        assert_eq!(
            pf("0x1"),
            r#"error: strconv.ParseFloat: parsing "0x1": invalid syntax"#
        );
        assert_eq!(pf("0x1p-1074"), "5e-324");
        assert_eq!(pf("0x1p-1075"), "0");
        assert_eq!(pf("0x1.8p-1075"), "5e-324");
        assert_eq!(
            pf("0x1p1024"),
            r#"error: strconv.ParseFloat: parsing "0x1p1024": value out of range"#
        );
        assert!(pf("0x1.fffffffffffff8p1023").starts_with("error"));
        assert_eq!(pf("0x1.fffffffffffff7p1023"), "1.7976931348623157e+308");
        assert_eq!(pf("0.1"), "0.1");
        assert_eq!(pf("2.2250738585072014e-308"), "2.2250738585072014e-308");
    }

    #[test]
    fn parse_int_bases() {
        assert_eq!(parse_int(b"0x_ff", 0, 64), Ok(255));
        assert_eq!(parse_int(b"-0b101", 0, 64), Ok(-5));
        assert_eq!(parse_int(b"0o17", 0, 64), Ok(15));
        assert_eq!(parse_int(b"017", 0, 64), Ok(15));
        assert_eq!(parse_int(b"1_000", 0, 64), Ok(1000));
        assert_eq!(parse_int(b"zz", 36, 64), Ok(1295));
        assert_eq!(
            parse_int(b"128", 10, 8).unwrap_err().kind,
            NumErrorKind::Range
        );
        assert_eq!(parse_int(b"-128", 10, 8), Ok(-128));
        assert_eq!(
            parse_int(b"1", 1, 64).unwrap_err().to_string(),
            r#"strconv.ParseInt: parsing "1": invalid base 1"#
        );
        assert_eq!(
            parse_uint(b"-1", 10, 64).unwrap_err().to_string(),
            r#"strconv.ParseUint: parsing "-1": invalid syntax"#
        );
        assert_eq!(parse_uint(b"18446744073709551615", 10, 64), Ok(u64::MAX));
    }
}

/// Go's `strconv/atof_test.go` float64 table.
#[cfg(test)]
mod go_atof_table {
    use super::*;

    fn check(input: &str, out: &str, err: Option<NumErrorKind>) {
        match (parse_float(input.as_bytes()), err) {
            (Ok(v), None) => assert_eq!(crate::fmt::float::format_v(v), out, "{input}"),
            (Err(e), Some(k)) => assert_eq!(e.kind, k, "{input}"),
            (got, want) => panic!("{input}: got {got:?}, want {out} {want:?}"),
        }
    }

    #[test]
    fn table() {
        let syn = Some(NumErrorKind::Syntax);
        let rng = Some(NumErrorKind::Range);
        let cases: &[(&str, &str, Option<NumErrorKind>)] = &[
            ("", "0", syn.clone()),
            ("1", "1", None),
            ("+1", "1", None),
            ("1x", "0", syn.clone()),
            ("1.1.", "0", syn.clone()),
            ("1e23", "1e+23", None),
            ("1E23", "1e+23", None),
            ("100000000000000000000000", "1e+23", None),
            ("1e-100", "1e-100", None),
            ("123456700", "1.234567e+08", None),
            ("99999999999999974834176", "9.999999999999997e+22", None),
            ("100000000000000000000001", "1.0000000000000001e+23", None),
            ("100000000000000008388608", "1.0000000000000001e+23", None),
            ("100000000000000016777215", "1.0000000000000001e+23", None),
            ("100000000000000016777216", "1.0000000000000003e+23", None),
            ("-1", "-1", None),
            ("-0.1", "-0.1", None),
            ("-0", "-0", None),
            ("1e-20", "1e-20", None),
            ("625e-3", "0.625", None),
            ("0x1p0", "1", None),
            ("0x1p1", "2", None),
            ("0x1p-1", "0.5", None),
            ("0x1ep-1", "15", None),
            ("-0x1ep-1", "-15", None),
            ("-0x1_ep-1", "-15", None),
            ("0x1p-200", "6.223015277861142e-61", None),
            ("0x1p200", "1.6069380442589903e+60", None),
            ("0x1fFe2.p0", "131042", None),
            ("0x1fFe2.P0", "131042", None),
            ("-0x2p3", "-16", None),
            ("0x0.fp4", "15", None),
            ("0x0.fp0", "0.9375", None),
            ("0x1e2", "0", syn.clone()),
            ("1p2", "0", syn.clone()),
            ("0", "0", None),
            ("0e0", "0", None),
            ("-0e0", "-0", None),
            ("+0e0", "0", None),
            ("0e-0", "0", None),
            ("-0e+0", "-0", None),
            ("0e+01234567890123456789", "0", None),
            ("0.00e-01234567890123456789", "0", None),
            ("-0e+01234567890123456789", "-0", None),
            ("0x0p+01234567890123456789", "0", None),
            ("-0x0.00p-01234567890123456789", "-0", None),
            ("0e348", "0", None),
            ("-0e348", "-0", None),
            ("0x0p1026", "0", None),
            ("-0x0p1026", "-0", None),
            ("nan", "NaN", None),
            ("NAN", "NaN", None),
            ("inf", "+Inf", None),
            ("+INF", "+Inf", None),
            ("-Infinity", "-Inf", None),
            ("+INFINITY", "+Inf", None),
            ("Infinity", "+Inf", None),
            ("1.7976931348623157e308", "1.7976931348623157e+308", None),
            ("-1.7976931348623157e308", "-1.7976931348623157e+308", None),
            ("0x1.fffffffffffffp1023", "1.7976931348623157e+308", None),
            ("0x1fffffffffffffp+971", "1.7976931348623157e+308", None),
            ("0x.1fffffffffffffp1027", "1.7976931348623157e+308", None),
            ("1.7976931348623159e308", "+Inf", rng.clone()),
            ("-1.7976931348623159e308", "-Inf", rng.clone()),
            ("0x1p1024", "+Inf", rng.clone()),
            ("0x2p1023", "+Inf", rng.clone()),
            ("0x.1p1028", "+Inf", rng.clone()),
            ("0x.2p1027", "+Inf", rng.clone()),
            ("1.7976931348623158e308", "1.7976931348623157e+308", None),
            (
                "0x1.fffffffffffff7fffp1023",
                "1.7976931348623157e+308",
                None,
            ),
            ("1.797693134862315808e308", "+Inf", rng.clone()),
            ("0x1.fffffffffffff8p1023", "+Inf", rng.clone()),
            ("0x1fffffffffffff.8p+971", "+Inf", rng.clone()),
            ("-0x1fffffffffffff8p+967", "-Inf", rng.clone()),
            ("0x.1fffffffffffff8p1027", "+Inf", rng.clone()),
            ("-0x.1fffffffffffff9p1027", "-Inf", rng.clone()),
            ("1e308", "1e+308", None),
            ("2e308", "+Inf", rng.clone()),
            ("1e400000", "+Inf", rng.clone()),
            ("0x1p2000000000", "+Inf", rng.clone()),
            ("1e-305", "1e-305", None),
            ("1e-310", "1e-310", None),
            ("1e-322", "1e-322", None),
            ("5e-324", "5e-324", None),
            ("4e-324", "5e-324", None),
            ("3e-324", "5e-324", None),
            ("2e-324", "0", None),
            ("1e-350", "0", None),
            ("1e-400000", "0", None),
            ("0x2.00000000000000p-1010", "1.8227805048890994e-304", None),
            ("0x1.fffffffffffff0p-1010", "1.8227805048890992e-304", None),
            ("0x1.fffffffffffff7p-1010", "1.8227805048890992e-304", None),
            ("0x1.fffffffffffff8p-1010", "1.8227805048890994e-304", None),
            ("0x1.fffffffffffff9p-1010", "1.8227805048890994e-304", None),
            ("0x2.00000000000000p-1022", "4.450147717014403e-308", None),
            ("0x1.fffffffffffff0p-1022", "4.4501477170144023e-308", None),
            ("0x1.fffffffffffff7p-1022", "4.4501477170144023e-308", None),
            ("0x1.fffffffffffff8p-1022", "4.450147717014403e-308", None),
            ("0x1.00000000000000p-1022", "2.2250738585072014e-308", None),
            ("0x0.fffffffffffff0p-1022", "2.225073858507201e-308", None),
            ("0x0.ffffffffffffe0p-1022", "2.2250738585072004e-308", None),
            ("0x0.ffffffffffffe7p-1022", "2.2250738585072004e-308", None),
            ("0x1.ffffffffffffe8p-1023", "2.225073858507201e-308", None),
            ("0x1.ffffffffffffe9p-1023", "2.225073858507201e-308", None),
            ("0x0.00000003fffff0p-1022", "2.072261e-317", None),
            ("0x0.00000003456780p-1022", "1.694649e-317", None),
            ("0x0.00000003456787p-1022", "1.694649e-317", None),
            ("0x0.00000003456788p-1022", "1.694649e-317", None),
            ("0x0.00000003456790p-1022", "1.6946496e-317", None),
            ("0x0.00000003456789p-1022", "1.6946496e-317", None),
            (
                "0x0.0000000345678800000000000000000000000001p-1022",
                "1.6946496e-317",
                None,
            ),
            ("0x0.000000000000f0p-1022", "7.4e-323", None),
            ("0x0.00000000000060p-1022", "3e-323", None),
            ("0x0.00000000000058p-1022", "3e-323", None),
            ("0x0.00000000000057p-1022", "2.5e-323", None),
            ("0x0.00000000000050p-1022", "2.5e-323", None),
            ("0x0.00000000000010p-1022", "5e-324", None),
            ("0x0.000000000000081p-1022", "5e-324", None),
            ("0x0.00000000000008p-1022", "0", None),
            ("0x0.00000000000007fp-1022", "0", None),
            ("1e-4294967296", "0", None),
            ("1e+4294967296", "+Inf", rng.clone()),
            ("1e-18446744073709551616", "0", None),
            ("1e+18446744073709551616", "+Inf", rng.clone()),
            ("0x1p-4294967296", "0", None),
            ("0x1p+18446744073709551616", "+Inf", rng.clone()),
            ("1e", "0", syn.clone()),
            ("1e-", "0", syn.clone()),
            (".e-1", "0", syn.clone()),
            ("1\x00.2", "0", syn.clone()),
            ("0x", "0", syn.clone()),
            ("0x.", "0", syn.clone()),
            ("0x1", "0", syn.clone()),
            ("0x.1", "0", syn.clone()),
            ("0x1p", "0", syn.clone()),
            ("0x.1p+", "0", syn.clone()),
            ("0x1p-", "0", syn.clone()),
            ("0x1p+2", "4", None),
            ("0x.1p+2", "0.25", None),
            ("0x.1p-2", "0.015625", None),
            ("2.2250738585072012e-308", "2.2250738585072014e-308", None),
            ("2.2250738585072011e-308", "2.225073858507201e-308", None),
            ("4.630813248087435e+307", "4.630813248087435e+307", None),
            ("22.222222222222222", "22.22222222222222", None),
            ("0x1.1111111111111p222", "7.18931911124017e+66", None),
            ("0x2.2222222222222p221", "7.18931911124017e+66", None),
            (
                "1.00000000000000011102230246251565404236316680908203125",
                "1",
                None,
            ),
            ("0x1.00000000000008p0", "1", None),
            (
                "1.00000000000000011102230246251565404236316680908203124",
                "1",
                None,
            ),
            ("0x1.00000000000007Fp0", "1", None),
            (
                "1.00000000000000011102230246251565404236316680908203126",
                "1.0000000000000002",
                None,
            ),
            ("0x1.000000000000081p0", "1.0000000000000002", None),
            ("0x1.00000000000009p0", "1.0000000000000002", None),
            (
                "1.00000000000000033306690738754696212708950042724609375",
                "1.0000000000000004",
                None,
            ),
            ("0x1.00000000000018p0", "1.0000000000000004", None),
            ("1_23.50_0_0e+1_2", "1.235e+14", None),
            ("-_123.5e+12", "0", syn.clone()),
            ("+_123.5e+12", "0", syn.clone()),
            ("_123.5e+12", "0", syn.clone()),
            ("1__23.5e+12", "0", syn.clone()),
            ("123_.5e+12", "0", syn.clone()),
            ("123._5e+12", "0", syn.clone()),
            ("123.5_e+12", "0", syn.clone()),
            ("123.5__0e+12", "0", syn.clone()),
            ("123.5e_+12", "0", syn.clone()),
            ("123.5e+_12", "0", syn.clone()),
            ("123.5e_-12", "0", syn.clone()),
            ("123.5e-_12", "0", syn.clone()),
            ("123.5e+1__2", "0", syn.clone()),
            ("123.5e+12_", "0", syn.clone()),
            ("0x_1_2.3_4_5p+1_2", "74565", None),
            ("-_0x12.345p+12", "0", syn.clone()),
            ("_0x12.345p+12", "0", syn.clone()),
            ("0x__12.345p+12", "0", syn.clone()),
            ("0x1__2.345p+12", "0", syn.clone()),
            ("0x12_.345p+12", "0", syn.clone()),
            ("0x12._345p+12", "0", syn.clone()),
            ("0x12.3__45p+12", "0", syn.clone()),
            ("0x12.345_p+12", "0", syn.clone()),
            ("0x12.345p_+12", "0", syn.clone()),
            ("0x12.345p+_12", "0", syn.clone()),
            ("0x12.345p-_12", "0", syn.clone()),
            ("0x12.345p+1__2", "0", syn.clone()),
            ("0x12.345p+12_", "0", syn.clone()),
        ];
        for (input, out, err) in cases {
            check(input, out, err.clone());
        }
        let long = format!("2.{}e+1", "2".repeat(4000));
        check(&long, "22.22222222222222", None);
        let long = format!("0x2.{}p221", "2".repeat(4000));
        check(&long, "7.18931911124017e+66", None);
        let long = format!(
            "1.00000000000000011102230246251565404236316680908203125{}1",
            "0".repeat(10000)
        );
        check(&long, "1.0000000000000002", None);
        let long = format!("0x1.00000000000008{}1p0", "0".repeat(10000));
        check(&long, "1.0000000000000002", None);
    }
}

/// Go's `strconv/atoi_test.go` tables.
#[cfg(test)]
mod go_atoi_table {
    use super::*;

    const MAX: i64 = i64::MAX;
    const MIN: i64 = i64::MIN;

    fn kind<T>(r: Result<T, NumError>) -> Result<T, NumErrorKind> {
        r.map_err(|e| e.kind)
    }

    #[test]
    fn parse_uint64() {
        use NumErrorKind::*;
        let cases: &[(&str, u32, Result<u64, NumErrorKind>)] = &[
            ("", 10, Err(Syntax)),
            ("0", 10, Ok(0)),
            ("012345", 10, Ok(12345)),
            ("12345x", 10, Err(Syntax)),
            ("18446744073709551615", 10, Ok(u64::MAX)),
            ("18446744073709551616", 10, Err(Range)),
            ("18446744073709551620", 10, Err(Range)),
            ("", 0, Err(Syntax)),
            ("0", 0, Ok(0)),
            ("0x", 0, Err(Syntax)),
            ("0X", 0, Err(Syntax)),
            ("012345", 0, Ok(0o12345)),
            ("0x12345", 0, Ok(0x12345)),
            ("0X12345", 0, Ok(0x12345)),
            ("0xabcdefg123", 0, Err(Syntax)),
            ("123456789abc", 0, Err(Syntax)),
            ("0xFFFFFFFFFFFFFFFF", 0, Ok(u64::MAX)),
            ("0x10000000000000000", 0, Err(Range)),
            ("01777777777777777777777", 0, Ok(u64::MAX)),
            ("01777777777777777777778", 0, Err(Syntax)),
            ("02000000000000000000000", 0, Err(Range)),
            ("0200000000000000000000", 0, Ok(1 << 61)),
        ];
        for (s, base, want) in cases {
            assert_eq!(
                kind(parse_uint(s.as_bytes(), *base, 64)),
                *want,
                "{s} {base}"
            );
        }
        assert_eq!(kind(parse_uint(b"4294967295", 10, 32)), Ok(u32::MAX as u64));
        assert_eq!(kind(parse_uint(b"4294967296", 10, 32)), Err(Range));
    }

    #[test]
    fn parse_int64() {
        use NumErrorKind::*;
        let cases: &[(&str, u32, Result<i64, NumErrorKind>)] = &[
            ("", 10, Err(Syntax)),
            ("-0", 10, Ok(0)),
            ("-012345", 10, Ok(-12345)),
            ("9223372036854775807", 10, Ok(MAX)),
            ("-9223372036854775807", 10, Ok(-MAX)),
            ("9223372036854775808", 10, Err(Range)),
            ("-9223372036854775808", 10, Ok(MIN)),
            ("9223372036854775809", 10, Err(Range)),
            ("-9223372036854775809", 10, Err(Range)),
            ("-012345", 0, Ok(-0o12345)),
            ("-0X12345", 0, Ok(-0x12345)),
            ("-12345x", 0, Err(Syntax)),
            ("-9223372036854775809", 0, Err(Range)),
            ("g", 17, Ok(16)),
            ("10", 25, Ok(25)),
            (
                "holycow",
                35,
                Ok((((((17 * 35 + 24) * 35 + 21) * 35 + 34) * 35 + 12) * 35 + 24) * 35 + 32),
            ),
            (
                "holycow",
                36,
                Ok((((((17 * 36 + 24) * 36 + 21) * 36 + 34) * 36 + 12) * 36 + 24) * 36 + 32),
            ),
            ("-1", 2, Ok(-1)),
            ("1010", 2, Ok(10)),
            (
                "111111111111111111111111111111111111111111111111111111111111111",
                2,
                Ok(MAX),
            ),
            (
                "1000000000000000000000000000000000000000000000000000000000000000",
                2,
                Err(Range),
            ),
            (
                "-1000000000000000000000000000000000000000000000000000000000000000",
                2,
                Ok(MIN),
            ),
            (
                "-1000000000000000000000000000000000000000000000000000000000000001",
                2,
                Err(Range),
            ),
            ("-10", 8, Ok(-8)),
            ("57635436545", 8, Ok(0o57635436545)),
            ("-123456789abcdef", 16, Ok(-0x123456789abcdef)),
            ("7fffffffffffffff", 16, Ok(MAX)),
        ];
        for (s, base, want) in cases {
            assert_eq!(
                kind(parse_int(s.as_bytes(), *base, 64)),
                *want,
                "{s} {base}"
            );
        }
        assert_eq!(kind(parse_int(b"2147483647", 10, 32)), Ok(2147483647));
        assert_eq!(kind(parse_int(b"-2147483648", 10, 32)), Ok(-2147483648));
        assert_eq!(kind(parse_int(b"2147483648", 10, 32)), Err(Range));
        assert_eq!(kind(parse_int(b"-2147483649", 10, 32)), Err(Range));
    }

    #[test]
    fn base_and_bit_size_errors() {
        for (base, ok) in [(0, true), (1, false), (2, true), (36, true), (37, false)] {
            let r = parse_int(b"0", base, 0);
            assert_eq!(r.is_ok(), ok, "{base}");
            if let Err(e) = r {
                assert_eq!(
                    e.to_string(),
                    format!("strconv.ParseInt: parsing \"0\": invalid base {base}")
                );
            }
        }
        assert_eq!(parse_uint(b"0", 0, 64), Ok(0));
        assert_eq!(
            parse_uint(b"0", 0, 65).unwrap_err().to_string(),
            "strconv.ParseUint: parsing \"0\": invalid bit size 65"
        );
        assert_eq!(
            parse_int(b"0", 0, 65).unwrap_err().to_string(),
            "strconv.ParseInt: parsing \"0\": invalid bit size 65"
        );
        let e = NumError {
            func: "ParseFloat",
            num: b"1\x00.2".to_vec(),
            kind: NumErrorKind::Syntax,
        };
        assert_eq!(
            e.to_string(),
            r#"strconv.ParseFloat: parsing "1\x00.2": invalid syntax"#
        );
    }
}
