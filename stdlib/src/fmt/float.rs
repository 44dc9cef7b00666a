//! Float formatting exactly as Go's `strconv.FormatFloat(f, fmt, prec, 64)`.
//!
//! Digits come from Rust's formatter, which is exact: `{:e}` yields the
//! shortest digit string that round-trips (the same digits Go's shortest
//! mode picks), and `{:.*e}` / `{:.*}` are correctly rounded with ties to
//! even on the exact binary value, which is what Go's decimal rounding does.
//! The layout (`e`/`f`/`g` choice, exponent width, padding with zeros) then
//! follows `strconv/ftoa.go`: in shortest `'g'` mode the exponent form is
//! used when the decimal exponent is `< -4` or `>= 6` (the fixed precision 6,
//! not the digit count, and not 21).

/// A decimal digit string `0.d1d2d3... * 10^dp` with no leading or trailing
/// zeros (`d` empty means zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Digits {
    pub(crate) d: Vec<u8>,
    pub(crate) dp: i32,
}

impl Digits {
    /// Parses Rust's `{:e}` output of a non-negative finite number,
    /// e.g. `1.2345e-5`.
    fn from_sci(s: &str) -> Digits {
        let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let mut d: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
        // `mant` is `d.ddd`: the point sits after the first digit.
        let dp = exp + 1;
        Self::normalize(&mut d, dp)
    }

    /// Parses Rust's `{:.*}` output of a non-negative finite number,
    /// e.g. `123.4500`.
    fn from_fixed(s: &str) -> Digits {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let mut d: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
        let dp = int.len() as i32;
        Self::normalize(&mut d, dp)
    }

    fn normalize(d: &mut Vec<u8>, mut dp: i32) -> Digits {
        let lead = d.iter().take_while(|&&c| c == b'0').count();
        if lead == d.len() {
            return Digits {
                d: Vec::new(),
                dp: 0,
            };
        }
        d.drain(..lead);
        dp -= lead as i32;
        while d.last() == Some(&b'0') {
            d.pop();
        }
        Digits {
            d: std::mem::take(d),
            dp,
        }
    }

    fn nd(&self) -> i32 {
        self.d.len() as i32
    }
}

/// Shortest digits that round-trip `x` (`x` finite, sign ignored).
///
/// Rust may break a tie between two equally near shortest strings
/// differently from Go (for `1000000000000000.25` Rust says `...3`, Go
/// `...2`): Go takes the exact value rounded half-to-even to that many
/// digits whenever it round-trips, so that candidate is preferred.
pub(crate) fn shortest_digits(x: f64) -> Digits {
    let x = x.abs();
    let d = Digits::from_sci(&format!("{:e}", x));
    if d.d.len() < 2 {
        return d;
    }
    let rounded = format!("{:.*e}", d.d.len() - 1, x);
    if rounded.parse::<f64>() == Ok(x) {
        let r = Digits::from_sci(&rounded);
        if r.d.len() <= d.d.len() {
            return r;
        }
    }
    d
}

/// `x` rounded to `n >= 1` significant digits.
fn significant_digits(x: f64, n: usize) -> Digits {
    Digits::from_sci(&format!("{:.*e}", n - 1, x.abs()))
}

/// `x` rounded to `p` digits after the decimal point.
fn fraction_digits(x: f64, p: usize) -> Digits {
    Digits::from_fixed(&format!("{:.*}", p, x.abs()))
}

/// Go's `strconv.FormatFloat(f, fmt, prec, 64)` for `fmt` in
/// `b e E f g G x X`; `prec < 0` means the shortest representation.
/// An unknown `fmt` gives `%` followed by it, as Go does.
pub fn format_float(f: f64, fmt: u8, prec: i32) -> String {
    let mut out = String::new();
    append_float(&mut out, f, fmt, prec);
    out
}

/// [`format_float`] appending to `out`.
pub fn append_float(out: &mut String, f: f64, fmt: u8, prec: i32) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    let neg = f.is_sign_negative();
    match fmt {
        b'b' => return fmt_b(out, f),
        b'x' | b'X' => return fmt_x(out, f, fmt, prec),
        b'e' | b'E' | b'f' | b'g' | b'G' => {}
        _ => {
            out.push('%');
            out.push(fmt as char);
            return;
        }
    }
    let shortest = prec < 0;
    let mut prec = prec;
    let digs = if shortest {
        let d = shortest_digits(f);
        prec = match fmt {
            b'e' | b'E' => d.nd() - 1,
            b'f' => (d.nd() - d.dp).max(0),
            _ => d.nd(),
        };
        d
    } else {
        match fmt {
            b'e' | b'E' => significant_digits(f, prec as usize + 1),
            b'f' => fraction_digits(f, prec as usize),
            _ => {
                if prec == 0 {
                    prec = 1;
                }
                significant_digits(f, prec as usize)
            }
        }
    };
    match fmt {
        b'e' | b'E' => fmt_e(out, neg, &digs, prec, fmt),
        b'f' => fmt_f(out, neg, &digs, prec),
        _ => {
            let mut eprec = prec;
            if eprec > digs.nd() && digs.nd() >= digs.dp {
                eprec = digs.nd();
            }
            if shortest {
                eprec = 6;
            }
            let exp = digs.dp - 1;
            if exp < -4 || exp >= eprec {
                if prec > digs.nd() {
                    prec = digs.nd();
                }
                fmt_e(out, neg, &digs, prec - 1, fmt + b'e' - b'g');
            } else {
                if prec > digs.dp {
                    prec = digs.nd();
                }
                fmt_f(out, neg, &digs, (prec - digs.dp).max(0));
            }
        }
    }
}

/// `-d.ddddde±dd`
fn fmt_e(out: &mut String, neg: bool, d: &Digits, prec: i32, fmt: u8) {
    if neg {
        out.push('-');
    }
    out.push(d.d.first().map_or('0', |&c| c as char));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(d.d.get(i as usize).map_or('0', |&c| c as char));
        }
    }
    out.push(fmt as char);
    let mut exp = if d.d.is_empty() { 0 } else { d.dp - 1 };
    if exp < 0 {
        out.push('-');
        exp = -exp;
    } else {
        out.push('+');
    }
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

/// `-ddddd.dddd`
fn fmt_f(out: &mut String, neg: bool, d: &Digits, prec: i32) {
    if neg {
        out.push('-');
    }
    if d.dp > 0 {
        for i in 0..d.dp {
            out.push(d.d.get(i as usize).map_or('0', |&c| c as char));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = d.dp + i - 1;
            let c = if j >= 0 {
                d.d.get(j as usize).copied()
            } else {
                None
            };
            out.push(c.map_or('0', |c| c as char));
        }
    }
}

/// Mantissa and binary exponent as Go's `FormatFloat` sees them:
/// the value is `mant * 2^(exp - 52)`.
fn decompose(f: f64) -> (u64, i32) {
    let bits = f.to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i32;
    let mut mant = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        exp += 1;
    } else {
        mant |= 1u64 << 52;
    }
    (mant, exp - 1023)
}

/// `-ddddp±ddd`: decimal mantissa and binary exponent.
fn fmt_b(out: &mut String, f: f64) {
    let (mant, exp) = decompose(f);
    if f.is_sign_negative() {
        out.push('-');
    }
    out.push_str(&mant.to_string());
    out.push('p');
    let e = exp - 52;
    if e >= 0 {
        out.push('+');
    }
    out.push_str(&e.to_string());
}

/// `-0x1.yyyyp±dd`: hexadecimal mantissa, decimal binary exponent.
fn fmt_x(out: &mut String, f: f64, fmt: u8, prec: i32) {
    let (mut mant, mut exp) = decompose(f);
    if mant == 0 {
        exp = 0;
    }
    mant <<= 60 - 52;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = (prec * 4) as u32;
        let extra = (mant << shift) & ((1u64 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let hex: &[u8; 16] = if fmt == b'X' {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    if f.is_sign_negative() {
        out.push('-');
    }
    out.push('0');
    out.push(fmt as char);
    out.push((b'0' + ((mant >> 60) & 1) as u8) as char);
    mant <<= 4;
    if prec < 0 && mant != 0 {
        out.push('.');
        while mant != 0 {
            out.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    } else if prec > 0 {
        out.push('.');
        for _ in 0..prec {
            out.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    }
    out.push(if fmt == b'X' { 'P' } else { 'p' });
    if exp < 0 {
        out.push('-');
        exp = -exp;
    } else {
        out.push('+');
    }
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

/// Go's `%v` of a float64 (what `fmt.Println` prints): `'g'` with the
/// shortest digits.
pub fn format_v(f: f64) -> String {
    format_float(f, b'g', -1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(f: f64) -> String {
        format_v(f)
    }

    #[test]
    fn shortest_g() {
        let cases: &[(f64, &str)] = &[
            (3.0, "3"),
            (2.5, "2.5"),
            (-0.5, "-0.5"),
            (1e6, "1e+06"),
            (1e20, "1e+20"),
            (1e21, "1e+21"),
            (1e22, "1e+22"),
            (1e100, "1e+100"),
            (100000.0, "100000"),
            (999999.0, "999999"),
            (1234567.0, "1.234567e+06"),
            (12345678.0, "1.2345678e+07"),
            (123456789.0, "1.23456789e+08"),
            (4.0e5, "400000"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.000123, "0.000123"),
            (1e-7, "1e-07"),
            (2.5e-3, "0.0025"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1.0 / 3.0, "0.3333333333333333"),
            (2.0 / 3.0, "0.6666666666666666"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            ((1u64 << 62) as f64, "4.611686018427388e+18"),
            (((1u64 << 53) + 1) as f64, "9.007199254740992e+15"),
            (16.288946267774413, "16.288946267774413"),
            (1.6288946267774414e10, "1.6288946267774414e+10"),
            (1e15 + 0.3, "1.0000000000000002e+15"),
            (1e16 + 1.0, "1e+16"),
            (123456.7, "123456.7"),
            (std::f64::consts::SQRT_2, "1.4142135623730951"),
            (i64::MAX as f64, "9.223372036854776e+18"),
        ];
        for &(f, want) in cases {
            assert_eq!(v(f), want, "{f:?}");
        }
    }

    #[test]
    fn explicit_precision() {
        let pi = std::f64::consts::PI;
        assert_eq!(format_float(pi, b'f', 6), "3.141593");
        assert_eq!(format_float(pi, b'f', 2), "3.14");
        assert_eq!(format_float(123456.789, b'e', 6), "1.234568e+05");
        assert_eq!(format_float(0.000012, b'g', -1), "1.2e-05");
        assert_eq!(format_float(2.5, b'f', 0), "2");
        assert_eq!(format_float(3.5, b'f', 0), "4");
        assert_eq!(format_float(0.125, b'f', 2), "0.12");
        assert_eq!(format_float(0.05, b'f', 1), "0.1");
        assert_eq!(format_float(2.675, b'f', 2), "2.67");
        assert_eq!(format_float(1.0005, b'f', 3), "1.000");
        assert_eq!(format_float(-0.001, b'f', 2), "-0.00");
        assert_eq!(format_float(1234.5678, b'e', 2), "1.23e+03");
        assert_eq!(format_float(1234.5678, b'E', 2), "1.23E+03");
        assert_eq!(format_float(1e-7, b'g', -1), "1e-07");
        assert_eq!(format_float(1e100, b'e', 3), "1.000e+100");
        assert_eq!(format_float(0.0, b'e', 2), "0.00e+00");
        assert_eq!(format_float(0.0, b'g', 3), "0");
        assert_eq!(format_float(100.0, b'g', 3), "100");
        assert_eq!(format_float(1000.0, b'g', 3), "1e+03");
        assert_eq!(format_float(123456.0, b'g', 3), "1.23e+05");
        assert_eq!(format_float(0.5, b'g', 0), "0.5");
        assert_eq!(format_float(1.5, b'g', 10), "1.5");
        assert_eq!(format_float(3.0, b'e', -1), "3e+00");
        assert_eq!(format_float(1e21, b'f', -1), "1000000000000000000000");
        assert_eq!(format_float(0.1, b'f', 20), "0.10000000000000000555");
        assert_eq!(format_float(1.0, b'q', 2), "%q");
        // Exact ties round half to even, as Go's decimal rounding does.
        assert_eq!(format_float(0.125, b'e', 1), "1.2e-01");
        assert_eq!(format_float(0.375, b'e', 1), "3.8e-01");
        assert_eq!(format_float(2.5, b'e', 0), "2e+00");
        assert_eq!(format_float(0.375, b'f', 2), "0.38");
        assert_eq!(format_float(0.0001234, b'g', 3), "0.000123");
        assert_eq!(format_float(0.00001234, b'g', 2), "1.2e-05");
        assert_eq!(format_float(123456789.0, b'g', 10), "123456789");
        assert_eq!(format_float(100000.0, b'g', 5), "1e+05");
        assert_eq!(format_float(99999.5, b'g', 5), "1e+05");
        assert_eq!(format_float(-1.5, b'G', -1), "-1.5");
        assert_eq!(format_float(1e-10, b'G', -1), "1E-10");
        assert_eq!(format_float(5e-324, b'e', 3), "4.941e-324");
        assert_eq!(format_float(f64::MAX, b'f', 0).len(), 309);
    }

    /// Shortest output round-trips and is never longer than Rust's own
    /// shortest, over pseudo-random bit patterns.
    #[test]
    fn shortest_round_trips() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            if !f.is_finite() {
                continue;
            }
            let e = format_float(f, b'e', -1);
            assert_eq!(e.parse::<f64>().ok(), Some(f), "{e}");
            let d = shortest_digits(f);
            let rust = format!("{:e}", f.abs());
            let rust_digits = rust.split('e').next().unwrap().replace('.', "");
            assert_eq!(d.d.len(), rust_digits.len(), "{f:e}");
            let g = format_v(f);
            assert_eq!(g.parse::<f64>().ok(), Some(f), "{g}");
        }
    }

    #[test]
    fn binary_and_hex() {
        assert_eq!(format_float(1.0, b'b', -1), "4503599627370496p-52");
        assert_eq!(format_float(1.0, b'x', -1), "0x1p+00");
        assert_eq!(format_float(3.0, b'x', -1), "0x1.8p+01");
        assert_eq!(format_float(1.0, b'X', 3), "0X1.000P+00");
        assert_eq!(format_float(0.0, b'x', -1), "0x0p+00");
        assert_eq!(format_float(-1.9999, b'x', 0), "-0x1p+01");
        assert_eq!(format_float(1e300, b'x', -1), "0x1.7e43c8800759cp+996");
    }
}

/// Go's `strconv/ftoa_test.go` table (values written as Go literals and
/// parsed, so each is the same float64 as in Go).
#[cfg(test)]
mod go_ftoa_table {
    use super::format_float;

    #[test]
    fn table() {
        let cases: &[(&str, u8, i32, &str)] = &[
            ("1", b'e', 5, "1.00000e+00"),
            ("1", b'f', 5, "1.00000"),
            ("1", b'g', 5, "1"),
            ("1", b'g', -1, "1"),
            ("1", b'x', -1, "0x1p+00"),
            ("1", b'x', 5, "0x1.00000p+00"),
            ("20", b'g', -1, "20"),
            ("20", b'x', -1, "0x1.4p+04"),
            ("1234567.8", b'g', -1, "1.2345678e+06"),
            ("1234567.8", b'x', -1, "0x1.2d687cccccccdp+20"),
            ("200000", b'g', -1, "200000"),
            ("200000", b'x', -1, "0x1.86ap+17"),
            ("200000", b'X', -1, "0X1.86AP+17"),
            ("2000000", b'g', -1, "2e+06"),
            ("400", b'g', 2, "4e+02"),
            ("40", b'g', 2, "40"),
            ("4", b'g', 2, "4"),
            (".4", b'g', 2, "0.4"),
            (".04", b'g', 2, "0.04"),
            (".004", b'g', 2, "0.004"),
            (".0004", b'g', 2, "0.0004"),
            (".00004", b'g', 2, "4e-05"),
            (".000004", b'g', 2, "4e-06"),
            ("0", b'e', 5, "0.00000e+00"),
            ("0", b'f', 5, "0.00000"),
            ("0", b'g', 5, "0"),
            ("0", b'g', -1, "0"),
            ("0", b'x', 5, "0x0.00000p+00"),
            ("-1", b'e', 5, "-1.00000e+00"),
            ("-1", b'f', 5, "-1.00000"),
            ("-1", b'g', 5, "-1"),
            ("-1", b'g', -1, "-1"),
            ("12", b'e', 5, "1.20000e+01"),
            ("12", b'f', 5, "12.00000"),
            ("12", b'g', 5, "12"),
            ("12", b'g', -1, "12"),
            ("123456700", b'e', 5, "1.23457e+08"),
            ("123456700", b'f', 5, "123456700.00000"),
            ("123456700", b'g', 5, "1.2346e+08"),
            ("123456700", b'g', -1, "1.234567e+08"),
            ("1.2345e6", b'e', 5, "1.23450e+06"),
            ("1.2345e6", b'f', 5, "1234500.00000"),
            ("1.2345e6", b'g', 5, "1.2345e+06"),
            ("1e23", b'e', 17, "9.99999999999999916e+22"),
            (
                "1e23",
                b'f',
                17,
                "99999999999999991611392.00000000000000000",
            ),
            ("1e23", b'g', 17, "9.9999999999999992e+22"),
            ("1e23", b'e', -1, "1e+23"),
            ("1e23", b'f', -1, "100000000000000000000000"),
            ("1e23", b'g', -1, "1e+23"),
            (
                "99999999999999974834176",
                b'e',
                17,
                "9.99999999999999748e+22",
            ),
            (
                "99999999999999974834176",
                b'f',
                17,
                "99999999999999974834176.00000000000000000",
            ),
            (
                "99999999999999974834176",
                b'g',
                17,
                "9.9999999999999975e+22",
            ),
            ("99999999999999974834176", b'e', -1, "9.999999999999997e+22"),
            (
                "99999999999999974834176",
                b'f',
                -1,
                "99999999999999970000000",
            ),
            ("99999999999999974834176", b'g', -1, "9.999999999999997e+22"),
            (
                "100000000000000008388608",
                b'e',
                17,
                "1.00000000000000008e+23",
            ),
            (
                "100000000000000008388608",
                b'f',
                17,
                "100000000000000008388608.00000000000000000",
            ),
            (
                "100000000000000008388608",
                b'g',
                17,
                "1.0000000000000001e+23",
            ),
            (
                "100000000000000008388608",
                b'e',
                -1,
                "1.0000000000000001e+23",
            ),
            (
                "100000000000000008388608",
                b'f',
                -1,
                "100000000000000010000000",
            ),
            (
                "100000000000000008388608",
                b'g',
                -1,
                "1.0000000000000001e+23",
            ),
            ("5e-324", b'g', -1, "5e-324"),
            ("-5e-324", b'g', -1, "-5e-324"),
            ("32", b'g', -1, "32"),
            ("32", b'g', 0, "3e+01"),
            ("100", b'x', -1, "0x1.9p+06"),
            ("100", b'y', -1, "%y"),
            ("NaN", b'g', -1, "NaN"),
            ("-NaN", b'g', -1, "NaN"),
            ("+Inf", b'g', -1, "+Inf"),
            ("-Inf", b'g', -1, "-Inf"),
            ("-1", b'b', -1, "-4503599627370496p-52"),
            ("0.9", b'f', 1, "0.9"),
            ("0.09", b'f', 1, "0.1"),
            ("0.0999", b'f', 1, "0.1"),
            ("0.05", b'f', 1, "0.1"),
            ("0.05", b'f', 0, "0"),
            ("0.5", b'f', 1, "0.5"),
            ("0.5", b'f', 0, "0"),
            ("1.5", b'f', 0, "2"),
            (
                "2.2250738585072012e-308",
                b'g',
                -1,
                "2.2250738585072014e-308",
            ),
            (
                "2.2250738585072011e-308",
                b'g',
                -1,
                "2.225073858507201e-308",
            ),
            ("383260575764816448", b'f', 0, "383260575764816448"),
            ("383260575764816448", b'g', -1, "3.8326057576481645e+17"),
            ("498484681984085570", b'f', -1, "498484681984085570"),
            (
                "-5.8339553793802237e+23",
                b'g',
                -1,
                "-5.8339553793802237e+23",
            ),
            ("2.275555555555555", b'x', -1, "0x1.23456789abcdep+01"),
            ("2.275555555555555", b'x', 0, "0x1p+01"),
            ("2.275555555555555", b'x', 2, "0x1.23p+01"),
            ("2.275555555555555", b'x', 16, "0x1.23456789abcde000p+01"),
            (
                "2.275555555555555",
                b'x',
                21,
                "0x1.23456789abcde00000000p+01",
            ),
            ("2.2755555510520935", b'x', -1, "0x1.2345678p+01"),
            ("2.2755555510520935", b'x', 6, "0x1.234568p+01"),
            ("2.275555431842804", b'x', -1, "0x1.2345668p+01"),
            ("2.275555431842804", b'x', 6, "0x1.234566p+01"),
            ("3.999969482421875", b'x', -1, "0x1.ffffp+01"),
            ("3.999969482421875", b'x', 4, "0x1.ffffp+01"),
            ("3.999969482421875", b'x', 3, "0x1.000p+02"),
            ("3.999969482421875", b'x', 2, "0x1.00p+02"),
            ("3.999969482421875", b'x', 1, "0x1.0p+02"),
            ("3.999969482421875", b'x', 0, "0x1p+02"),
        ];
        for &(lit, fmt, prec, want) in cases {
            let f = crate::fmt::strconv::parse_float(lit.as_bytes()).unwrap_or_else(|_| {
                if lit == "-NaN" {
                    -f64::NAN
                } else {
                    f64::NAN
                }
            });
            assert_eq!(
                format_float(f, fmt, prec),
                want,
                "{lit} {} {prec}",
                fmt as char
            );
        }
    }
}
