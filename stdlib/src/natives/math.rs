//! `math`: the float functions and constants of Go's package.

use super::float_arg;
use weft_vm::native::Results;
use weft_vm::native::{ModuleDef, NativeConst, NativeCtx};
use weft_vm::results;
use weft_vm::value::Value;

macro_rules! unary {
    ($name:ident, $go:literal, $f:expr) => {
        fn $name(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
            let x = float_arg(a, 0, $go)?;
            let f: fn(f64) -> f64 = $f;
            Ok(results![Value::float(f(x))])
        }
    };
}

unary!(sqrt, "math.Sqrt", f64::sqrt);
unary!(floor, "math.Floor", f64::floor);
unary!(ceil, "math.Ceil", f64::ceil);
unary!(abs, "math.Abs", f64::abs);
unary!(sin, "math.Sin", f64::sin);
unary!(cos, "math.Cos", f64::cos);
unary!(tan, "math.Tan", f64::tan);
unary!(exp, "math.Exp", f64::exp);
unary!(log, "math.Log", f64::ln);
unary!(log2, "math.Log2", f64::log2);
unary!(log10, "math.Log10", f64::log10);
unary!(trunc, "math.Trunc", f64::trunc);
unary!(round, "math.Round", f64::round);
unary!(cbrt, "math.Cbrt", f64::cbrt);
unary!(asin, "math.Asin", f64::asin);
unary!(acos, "math.Acos", f64::acos);
unary!(atan, "math.Atan", f64::atan);
unary!(sinh, "math.Sinh", f64::sinh);
unary!(cosh, "math.Cosh", f64::cosh);
unary!(tanh, "math.Tanh", f64::tanh);
unary!(log1p, "math.Log1p", f64::ln_1p);
unary!(expm1, "math.Expm1", f64::exp_m1);

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .float_function("Sqrt", sqrt, f64::sqrt)
        .float_function("Floor", floor, f64::floor)
        .float_function("Ceil", ceil, f64::ceil)
        .float_function("Abs", abs, f64::abs)
        .float_function("Sin", sin, f64::sin)
        .float_function("Cos", cos, f64::cos)
        .float_function("Tan", tan, f64::tan)
        .float_function("Exp", exp, f64::exp)
        .float_function("Log", log, f64::ln)
        .float_function("Log2", log2, f64::log2)
        .float_function("Log10", log10, f64::log10)
        .float_function("Trunc", trunc, f64::trunc)
        .float_function("Round", round, f64::round)
        .function("Pow", pow)
        .float_function("Cbrt", cbrt, f64::cbrt)
        .float_function("Asin", asin, f64::asin)
        .float_function("Acos", acos, f64::acos)
        .float_function("Atan", atan, f64::atan)
        .float_function("Sinh", sinh, f64::sinh)
        .float_function("Cosh", cosh, f64::cosh)
        .float_function("Tanh", tanh, f64::tanh)
        .float_function("Log1p", log1p, f64::ln_1p)
        .float_function("Expm1", expm1, f64::exp_m1)
        .function("Hypot", hypot)
        .function("Atan2", atan2)
        .function("Signbit", signbit)
        .function("Copysign", copysign)
        .function("Mod", fmod)
        .function("Max", fmax)
        .function("Min", fmin)
        .function("Inf", inf)
        .function("NaN", nan)
        .function("IsNaN", is_nan)
        .function("IsInf", is_inf)
        .constant("Pi", NativeConst::Float(std::f64::consts::PI))
        .constant("E", NativeConst::Float(std::f64::consts::E))
        .constant("Sqrt2", NativeConst::Float(std::f64::consts::SQRT_2))
        .constant("MaxInt64", NativeConst::Int(i64::MAX))
        .constant("MinInt64", NativeConst::Int(i64::MIN))
        .constant("MaxInt", NativeConst::Int(i64::MAX))
        .constant("MinInt", NativeConst::Int(i64::MIN))
        .constant("MaxInt32", NativeConst::Int(i32::MAX as i64))
        .constant("MinInt32", NativeConst::Int(i32::MIN as i64))
        .constant("MaxFloat64", NativeConst::Float(f64::MAX))
        .constant("SmallestNonzeroFloat64", NativeConst::Float(5e-324))
}

fn pow(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    Ok(results![Value::float(
        float_arg(a, 0, "math.Pow")?.powf(float_arg(a, 1, "math.Pow")?),
    )])
}

fn fmod(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    Ok(results![Value::float(
        float_arg(a, 0, "math.Mod")? % float_arg(a, 1, "math.Mod")?,
    )])
}

/// Go's math.Max: NaN if either is NaN; +0 beats -0.
fn fmax(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let (x, y) = (float_arg(a, 0, "math.Max")?, float_arg(a, 1, "math.Max")?);
    let r = if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == 0.0 && y == 0.0 {
        if x.is_sign_positive() {
            x
        } else {
            y
        }
    } else {
        x.max(y)
    };
    Ok(results![Value::float(r)])
}

fn fmin(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let (x, y) = (float_arg(a, 0, "math.Min")?, float_arg(a, 1, "math.Min")?);
    let r = if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == 0.0 && y == 0.0 {
        if x.is_sign_negative() {
            x
        } else {
            y
        }
    } else {
        x.min(y)
    };
    Ok(results![Value::float(r)])
}

fn inf(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let sign = super::int_arg(a, 0, "math.Inf")?;
    Ok(results![Value::float(if sign >= 0 {
        f64::INFINITY
    } else {
        f64::NEG_INFINITY
    })])
}

fn nan(_: &mut NativeCtx<'_>, _: &[Value]) -> Result<Results, String> {
    Ok(results![Value::float(f64::NAN)])
}

fn is_nan(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    Ok(results![Value::bool(
        float_arg(a, 0, "math.IsNaN")?.is_nan()
    )])
}

fn is_inf(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let x = float_arg(a, 0, "math.IsInf")?;
    let sign = super::int_arg(a, 1, "math.IsInf")?;
    Ok(results![Value::bool(
        x.is_infinite() && (sign == 0 || (sign > 0) == (x > 0.0)),
    )])
}

fn hypot(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    Ok(results![Value::float(
        float_arg(a, 0, "math.Hypot")?.hypot(float_arg(a, 1, "math.Hypot")?),
    )])
}

fn atan2(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    Ok(results![Value::float(
        float_arg(a, 0, "math.Atan2")?.atan2(float_arg(a, 1, "math.Atan2")?),
    )])
}

fn signbit(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    Ok(results![Value::bool(
        float_arg(a, 0, "math.Signbit")?.is_sign_negative(),
    )])
}

fn copysign(_: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    Ok(results![Value::float(
        float_arg(a, 0, "math.Copysign")?.copysign(float_arg(a, 1, "math.Copysign")?),
    )])
}
