//! Number semantics, independent of how values are boxed.
//!
//! Weft's `int` is Go's `int64` (two's complement, wrapping), its `float` is
//! IEEE-754 binary64. An operation on two ints gives an int; if either operand
//! is a float the other is converted and the result is a float. These
//! functions are the single definition of that arithmetic: the interpreter's
//! fast paths inline the int/int and float/float cases and call here for the
//! rest, and the constant folder in `lang` computes the same results.
//!
//! Errors carry Go's runtime-error text (`integer divide by zero`,
//! `negative shift amount`), without the `runtime error: ` prefix, which the
//! panic machinery adds.

use std::cmp::Ordering;

/// A number operand: the two numeric kinds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Int(i64),
    Float(f64),
}

/// Why an arithmetic operation panicked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithError {
    DivideByZero,
    NegativeShift,
    /// The operator is not defined on floats (`%`, `&`, `<<`, ...).
    IntOnly,
}

impl ArithError {
    /// Go's message for the panic (a `runtime error` for the first two).
    pub fn message(self) -> &'static str {
        match self {
            ArithError::DivideByZero => "integer divide by zero",
            ArithError::NegativeShift => "negative shift amount",
            ArithError::IntOnly => "operator not defined on float",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    AndNot,
    Shl,
    Shr,
}

/// `a op b` on two ints, Go's semantics.
#[inline]
pub fn int_op(op: ArithOp, a: i64, b: i64) -> Result<i64, ArithError> {
    Ok(match op {
        ArithOp::Add => a.wrapping_add(b),
        ArithOp::Sub => a.wrapping_sub(b),
        ArithOp::Mul => a.wrapping_mul(b),
        // MinInt64 / -1 wraps to MinInt64 in Go; MinInt64 % -1 is 0.
        ArithOp::Div if b == 0 => return Err(ArithError::DivideByZero),
        ArithOp::Div => a.wrapping_div(b),
        ArithOp::Mod if b == 0 => return Err(ArithError::DivideByZero),
        ArithOp::Mod => a.wrapping_rem(b),
        ArithOp::BitAnd => a & b,
        ArithOp::BitOr => a | b,
        ArithOp::BitXor => a ^ b,
        ArithOp::AndNot => a & !b,
        ArithOp::Shl => shl(a, b)?,
        ArithOp::Shr => shr(a, b)?,
    })
}

/// `a << n`: shifting by 64 or more gives 0 (Go's rule for int64).
#[inline]
pub fn shl(a: i64, n: i64) -> Result<i64, ArithError> {
    match n {
        n if n < 0 => Err(ArithError::NegativeShift),
        n if n >= 64 => Ok(0),
        n => Ok(a.wrapping_shl(n as u32)),
    }
}

/// `a >> n`, arithmetic: by 64 or more gives 0 or -1.
#[inline]
pub fn shr(a: i64, n: i64) -> Result<i64, ArithError> {
    match n {
        n if n < 0 => Err(ArithError::NegativeShift),
        n if n >= 64 => Ok(if a < 0 { -1 } else { 0 }),
        n => Ok(a >> n),
    }
}

/// `a op b` on two floats. Division by zero gives ±Inf or NaN (IEEE), as in Go.
#[inline]
pub fn float_op(op: ArithOp, a: f64, b: f64) -> Result<f64, ArithError> {
    Ok(match op {
        ArithOp::Add => a + b,
        ArithOp::Sub => a - b,
        ArithOp::Mul => a * b,
        ArithOp::Div => a / b,
        _ => return Err(ArithError::IntOnly),
    })
}

/// `a op b` on any two numbers.
pub fn num_op(op: ArithOp, a: Num, b: Num) -> Result<Num, ArithError> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => int_op(op, x, y).map(Num::Int),
        (Num::Int(x), Num::Float(y)) => float_op(op, x as f64, y).map(Num::Float),
        (Num::Float(x), Num::Int(y)) => float_op(op, x, y as f64).map(Num::Float),
        (Num::Float(x), Num::Float(y)) => float_op(op, x, y).map(Num::Float),
    }
}

/// Compares an int with a float exactly (no rounding of the int): `None` when
/// the float is NaN. `2^53 + 1` compares greater than `2^53 as float`.
pub fn cmp_int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // Every i64 lies in [-2^63, 2^63); floats outside that range order trivially.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_63 {
        return Some(Ordering::Greater);
    }
    // Here f's integer part fits in i64: compare integer parts, then the fraction.
    let t = f.trunc();
    let ti = t as i64;
    match i.cmp(&ti) {
        Ordering::Equal => {
            let frac = f - t;
            Some(if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            })
        }
        other => Some(other),
    }
}

/// Compares two numbers; `None` when either is NaN.
pub fn num_cmp(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
        (Num::Int(x), Num::Float(y)) => cmp_int_float(x, y),
        (Num::Float(x), Num::Int(y)) => cmp_int_float(y, x).map(Ordering::reverse),
    }
}

/// Numbers are equal by value: `1 == 1.0`.
pub fn num_eq(a: Num, b: Num) -> bool {
    num_cmp(a, b) == Some(Ordering::Equal)
}

/// `int(f)`: truncation toward zero. NaN and out-of-range values have no int;
/// Go leaves them implementation-defined, Weft panics (the caller words it).
pub fn float_to_int(f: f64) -> Option<i64> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if !(-TWO_63..TWO_63).contains(&f) {
        None
    } else {
        Some(f.trunc() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_arithmetic_wraps_as_go() {
        assert_eq!(int_op(ArithOp::Add, i64::MAX, 1), Ok(i64::MIN));
        assert_eq!(int_op(ArithOp::Div, i64::MIN, -1), Ok(i64::MIN));
        assert_eq!(int_op(ArithOp::Mod, i64::MIN, -1), Ok(0));
        assert_eq!(int_op(ArithOp::Div, -7, 2), Ok(-3));
        assert_eq!(int_op(ArithOp::Mod, -7, 2), Ok(-1));
        assert_eq!(int_op(ArithOp::Mod, 7, -2), Ok(1));
        assert_eq!(int_op(ArithOp::Div, 1, 0), Err(ArithError::DivideByZero));
        assert_eq!(int_op(ArithOp::Mod, 1, 0), Err(ArithError::DivideByZero));
        assert_eq!(int_op(ArithOp::AndNot, 0b1111, 0b0101), Ok(0b1010));
    }

    #[test]
    fn shifts_follow_go() {
        assert_eq!(shl(1, 63), Ok(i64::MIN));
        assert_eq!(shl(1, 64), Ok(0));
        assert_eq!(shl(1, 1000), Ok(0));
        assert_eq!(shr(-8, 1), Ok(-4));
        assert_eq!(shr(-8, 64), Ok(-1));
        assert_eq!(shr(8, 99), Ok(0));
        assert_eq!(shl(1, -1), Err(ArithError::NegativeShift));
        assert_eq!(ArithError::NegativeShift.message(), "negative shift amount");
    }

    #[test]
    fn mixed_operands_become_float() {
        assert_eq!(
            num_op(ArithOp::Add, Num::Int(1), Num::Float(0.5)),
            Ok(Num::Float(1.5))
        );
        assert_eq!(
            num_op(ArithOp::Div, Num::Float(1.0), Num::Int(0)),
            Ok(Num::Float(f64::INFINITY))
        );
        assert_eq!(
            num_op(ArithOp::Mod, Num::Float(1.0), Num::Int(2)),
            Err(ArithError::IntOnly)
        );
        assert_eq!(
            num_op(ArithOp::Div, Num::Int(7), Num::Int(2)),
            Ok(Num::Int(3))
        );
    }

    #[test]
    fn int_float_comparison_is_exact() {
        let two53 = 1i64 << 53;
        assert_eq!(
            cmp_int_float(two53 + 1, two53 as f64),
            Some(Ordering::Greater)
        );
        assert_eq!(cmp_int_float(two53, two53 as f64), Some(Ordering::Equal));
        assert_eq!(cmp_int_float(1, 1.5), Some(Ordering::Less));
        assert_eq!(cmp_int_float(-1, -1.5), Some(Ordering::Greater));
        assert_eq!(cmp_int_float(i64::MAX, 9.3e18), Some(Ordering::Less));
        assert_eq!(cmp_int_float(i64::MIN, -9.3e18), Some(Ordering::Greater));
        assert_eq!(cmp_int_float(0, f64::NAN), None);
        assert!(num_eq(Num::Int(1), Num::Float(1.0)));
        assert!(!num_eq(Num::Float(f64::NAN), Num::Float(f64::NAN)));
        assert_eq!(
            num_cmp(Num::Float(2.5), Num::Int(2)),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn float_to_int_truncates_and_rejects_the_unrepresentable() {
        assert_eq!(float_to_int(2.9), Some(2));
        assert_eq!(float_to_int(-2.9), Some(-2));
        assert_eq!(float_to_int(-9_223_372_036_854_775_808.0), Some(i64::MIN));
        assert_eq!(float_to_int(9_223_372_036_854_775_808.0), None);
        assert_eq!(float_to_int(f64::NAN), None);
        assert_eq!(float_to_int(f64::INFINITY), None);
    }
}
