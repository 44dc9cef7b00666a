//! The engine against what real Go printed for the conformance programs
//! (`fmt_verbs`, `fmt_widths`, `fmt_print_spacing`, `expr_float_print`),
//! plus Go's error directives and flag rules.

use super::printf::{
    compare_keys, errorf, parse_format, sprint, sprintf, sprintln, FmtArg, Piece, Value,
};

fn i(n: i64) -> Value {
    Value::Int(n)
}
fn f(x: f64) -> Value {
    Value::Float(x)
}
fn s(t: &str) -> Value {
    Value::Str(t.as_bytes().to_vec())
}
fn b(x: bool) -> Value {
    Value::Bool(x)
}
fn list(v: Vec<Value>) -> Value {
    Value::List(v)
}
fn st(name: &str, fields: &[(&str, Value)]) -> Value {
    Value::Struct(
        name.into(),
        fields
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
    )
}

fn refs(args: &[Value]) -> Vec<&dyn FmtArg> {
    args.iter().map(|a| a as &dyn FmtArg).collect()
}

fn pf(format: &str, args: &[Value]) -> String {
    String::from_utf8(sprintf(format.as_bytes(), &refs(args))).unwrap()
}

fn sp(args: &[Value]) -> String {
    String::from_utf8(sprint(&refs(args))).unwrap()
}

fn spln(args: &[Value]) -> String {
    String::from_utf8(sprintln(&refs(args))).unwrap()
}

const PI: f64 = std::f64::consts::PI;
/// The conformance program's `3.14159` literal.
const PI5: f64 = 314159.0 / 100000.0;

#[test]
fn fmt_verbs() {
    assert_eq!(
        pf(
            "%d|%5d|%-5d|%05d|%x|%X|%o|%b\n",
            &[i(42), i(42), i(42), i(42), i(255), i(255), i(8), i(5)]
        ),
        "42|   42|42   |00042|ff|FF|10|101\n"
    );
    assert_eq!(
        pf(
            "%s|%q|%10s|%-10s|%v\n",
            &[s("hi"), s("hi"), s("right"), s("left"), s("v")]
        ),
        "hi|\"hi\"|     right|left      |v\n"
    );
    assert_eq!(
        pf(
            "%f|%.2f|%8.3f|%e|%g|%v\n",
            &[f(PI), f(PI), f(PI), f(123456.789), f(0.000012), f(2.0)]
        ),
        "3.141593|3.14|   3.142|1.234568e+05|1.2e-05|2\n"
    );
    assert_eq!(
        pf(
            "%t|%v|%v|%%\n",
            &[
                b(true),
                Value::Nil,
                list(vec![i(1), s("a"), Value::Nil, f(2.5)])
            ]
        ),
        "true|<nil>|[1 a <nil> 2.5]|%\n"
    );
    let t = st("T", &[("name", s("x")), ("n", i(1))]);
    assert_eq!(pf("%v|%+v\n", &[t.clone(), t]), "{x 1}|{name:x n:1}\n");
    assert_eq!(
        pf("%T %T %T %T\n", &[i(1), f(2.5), s("s"), b(true)]),
        "int float string bool\n"
    );
    let z = pf("%d-%s", &[i(7), s("z")]);
    assert_eq!(z, "7-z");
    assert_eq!(
        spln(&[
            s(&z),
            i(3),
            s(&sp(&[s("a"), i(1), i(2), s("b")])),
            s(&sp(&[i(1), i(2)]))
        ]),
        "7-z 3 a1 2b 1 2\n"
    );
    assert_eq!(
        spln(&[
            f(2f64.sqrt()),
            f(-3.0),
            f(3.25),
            f(1024.0),
            i(i64::MAX),
            f(f64::INFINITY),
            f(f64::NEG_INFINITY)
        ]),
        "1.4142135623730951 -3 3.25 1024 9223372036854775807 +Inf -Inf\n"
    );
    assert_eq!(spln(&[b(false), f(2.0), f(-1.0), f(1.0)]), "false 2 -1 1\n");
}

#[test]
fn fmt_widths() {
    assert_eq!(
        pf(
            "|%d|%5d|%-5d|%05d|%+d|%+d|\n",
            &[i(42), i(42), i(42), i(42), i(42), i(-42)]
        ),
        "|42|   42|42   |00042|+42|-42|\n"
    );
    assert_eq!(
        pf(
            "|%x|%X|%x|%08b|%o|\n",
            &[i(255), i(255), i(-255), i(5), i(64)]
        ),
        "|ff|FF|-ff|00000101|100|\n"
    );
    assert_eq!(
        pf(
            "|%s|%8s|%-8s|%.2s|%q|%q|\n",
            &[
                s("go"),
                s("go"),
                s("go"),
                s("golang"),
                s("tab\there"),
                s("é")
            ]
        ),
        "|go|      go|go      |go|\"tab\\there\"|\"é\"|\n"
    );
    assert_eq!(pf("|%x|%X|\n", &[s("hi"), s("hi")]), "|6869|6869|\n");
    assert_eq!(
        pf(
            "|%f|%.0f|%.1f|%8.3f|%-8.2f|%08.3f|%+.2f|\n",
            &[f(PI5), f(2.5), f(0.05), f(PI5), f(2.5), f(-PI5), f(1.0)]
        ),
        "|3.141590|2|0.1|   3.142|2.50    |-003.142|+1.00|\n"
    );
    assert_eq!(
        pf(
            "|%e|%.2e|%g|%g|%g|%g|\n",
            &[
                f(1234.5678),
                f(1234.5678),
                f(100000.0),
                f(1e6),
                f(0.0001),
                f(1e-7)
            ]
        ),
        "|1.234568e+03|1.23e+03|100000|1e+06|0.0001|1e-07|\n"
    );
    assert_eq!(
        pf(
            "|%.3f|%.3f|%.2f|%.2f|\n",
            &[f(2.0 / 3.0), f(1.0005), f(2.675), f(-0.001)]
        ),
        "|0.667|1.000|2.67|-0.00|\n"
    );
    assert_eq!(
        pf(
            "|%t|%6t|%-6t|%v|\n",
            &[b(true), b(false), b(true), b(false)]
        ),
        "|true| false|true  |false|\n"
    );
    assert_eq!(
        pf(
            "|%v|%6v|%-6v|%v|%v|\n",
            &[i(12), i(12), s("ab"), Value::Nil, f(1.0)]
        ),
        "|12|    12|ab    |<nil>|1|\n"
    );
    let p = st("P", &[("Name", s("ann")), ("Age", i(30))]);
    assert_eq!(
        pf("|%v|%+v|\n", &[p.clone(), p]),
        "|{ann 30}|{Name:ann Age:30}|\n"
    );
    let l = list(vec![i(1), i(2), i(3)]);
    let ls = list(vec![s("a"), s("b c")]);
    assert_eq!(
        pf("|%v|%d|%q|%v|\n", &[l.clone(), l, ls.clone(), ls]),
        "|[1 2 3]|[1 2 3]|[\"a\" \"b c\"]|[a b c]|\n"
    );
    let m1 = Value::Map(vec![(s("a"), i(1)), (s("b"), i(2))]);
    let m2 = Value::Map(vec![(i(1), list(vec![])), (i(2), list(vec![s("x")]))]);
    assert_eq!(
        pf("|%v|%v|\n", &[m1, m2]),
        "|map[a:1 b:2]|map[1:[] 2:[x]]|\n"
    );
    assert_eq!(
        pf("|%%|%d%%|%c|%c|\n", &[i(50), i('A' as i64), i(0x4E16)]),
        "|%|50%|A|世|\n"
    );
    assert_eq!(
        pf("|%5.1f|%-7d|%3s|\n", &[f(99.99), i(-3), s("toolong")]),
        "|100.0|-3     |toolong|\n"
    );
    assert_eq!(
        pf("%d items at %.2f each = %.2f\n", &[i(3), f(1.5), f(4.5)]),
        "3 items at 1.50 each = 4.50\n"
    );
    assert_eq!(pf("%03d-%s", &[i(7), s("x")]), "007-x");
    assert_eq!(pf("%v %v\n", &[i('x' as i64), i(b'x' as i64)]), "120 120\n");
    assert_eq!(pf("no verbs\n", &[]), "no verbs\n");
    assert_eq!(
        pf(
            "%s and %v\n",
            &[
                Value::Error(b"an error 1".to_vec()),
                Value::Error(b"wrapped: inner".to_vec())
            ]
        ),
        "an error 1 and wrapped: inner\n"
    );
}

#[test]
fn fmt_print_spacing() {
    assert_eq!(
        sp(&[s("a"), s("b"), i(1), i(2), s("c"), f(3.5), b(true), s("\n")]),
        "ab1 2c3.5 true\n"
    );
    assert_eq!(sp(&[i(1), i(2), i(3), s("\n")]), "1 2 3\n");
    assert_eq!(sp(&[s("x"), i(1), s("\n")]), "x1\n");
    assert_eq!(sp(&[Value::Nil, Value::Nil, s("\n")]), "<nil> <nil>\n");
    assert_eq!(spln(&[s("a"), s("b"), i(1), i(2), s("c")]), "a b 1 2 c\n");
    assert_eq!(spln(&[]), "\n");
    assert_eq!(spln(&[s("")]), "\n");
    assert_eq!(sp(&[s("a"), i(1), i(2), s("b"), i(3)]), "a1 2b3");
    assert_eq!(spln(&[s("x"), i(1), i(2)]), "x 1 2\n");
    assert_eq!(sp(&[]), "");
    assert_eq!(sp(&[f(1.5), f(2.5)]), "1.5 2.5");
    assert_eq!(sp(&[list(vec![i(1)]), list(vec![i(2)])]), "[1] [2]");
    assert_eq!(sp(&[b(true), b(false)]), "true false");
    assert_eq!(
        spln(&[list(vec![
            s("a"),
            list(vec![s("b"), s("c")]),
            Value::Map(vec![(s("k"), list(vec![i(1)]))])
        ])]),
        "[a [b c] map[k:[1]]]\n"
    );
    let t = |a: i64, bb: &str| st("T", &[("A", i(a)), ("B", s(bb))]);
    assert_eq!(
        spln(&[
            t(1, "x"),
            list(vec![t(2, "y")]),
            Value::Map(vec![(s("t"), t(3, "z"))])
        ]),
        "{1 x} [{2 y}] map[t:{3 z}]\n"
    );
    assert_eq!(spln(&[list(vec![s(""), s(""), s("")]), i(3)]), "[  ] 3\n");
    assert_eq!(
        spln(&[i(-5), f(-2.5), list(vec![f(-1.0), f(0.5)])]),
        "-5 -2.5 [-1 0.5]\n"
    );
}

#[test]
fn expr_float_print() {
    let line = |xs: &[f64]| spln(&xs.iter().map(|&x| f(x)).collect::<Vec<_>>());
    assert_eq!(
        line(&[3.0, 2.5, -0.5, 1e6, 1e20, 1e21, 1e22, 1e100]),
        "3 2.5 -0.5 1e+06 1e+20 1e+21 1e+22 1e+100\n"
    );
    assert_eq!(
        line(&[
            100000.0,
            999999.0,
            1234567.0,
            12345678.0,
            123456789.0,
            4.0e5
        ]),
        "100000 999999 1.234567e+06 1.2345678e+07 1.23456789e+08 400000\n"
    );
    assert_eq!(
        line(&[0.0001, 0.00001, 0.000123, 1e-7, 2.5e-3]),
        "0.0001 1e-05 0.000123 1e-07 0.0025\n"
    );
    let (a, c) = (0.1f64, 0.2f64);
    assert_eq!(
        line(&[a + c, a * 3.0, 1.0 / 3.0, 2.0 / 3.0, 10.0 / 4.0]),
        "0.30000000000000004 0.30000000000000004 0.3333333333333333 0.6666666666666666 2.5\n"
    );
    let zero = 0.0f64;
    assert_eq!(
        line(&[zero, -zero, 1.0 / zero, -1.0 / zero, zero / zero]),
        "0 -0 +Inf -Inf NaN\n"
    );
    assert_eq!(
        line(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX * 10.0]),
        "NaN +Inf -Inf +Inf\n"
    );
    assert_eq!(
        spln(&[
            list(vec![f(1.5), f(2.0), f(3e6), f(0.1)]),
            f((1u64 << 62) as f64),
            f(((1u64 << 53) + 1) as f64)
        ]),
        "[1.5 2 3e+06 0.1] 4.611686018427388e+18 9.007199254740992e+15\n"
    );
    let mut x = 1.0f64;
    for _ in 0..10 {
        x *= 10.5;
    }
    assert_eq!(
        line(&[x, x / 1e9, 1e15 + 0.3, 1e16 + 1.0]),
        "1.6288946267774414e+10 16.288946267774413 1.0000000000000002e+15 1e+16\n"
    );
    assert_eq!(
        pf("%v %v %v\n", &[f(0.5), f(1e21), f(123456.7)]),
        "0.5 1e+21 123456.7\n"
    );
}

#[test]
fn error_directives() {
    assert_eq!(pf("%d", &[s("hi")]), "%!d(string=hi)");
    assert_eq!(pf("%d %v", &[i(1)]), "1 %!v(MISSING)");
    assert_eq!(
        pf("%d", &[i(1), i(1), s("a")]),
        "1%!(EXTRA int=1, string=a)"
    );
    assert_eq!(pf("x", &[Value::Nil]), "x%!(EXTRA <nil>)");
    assert_eq!(pf("%", &[]), "%!(NOVERB)");
    assert_eq!(pf("abc%-", &[]), "abc%!(NOVERB)");
    assert_eq!(pf("%*d", &[s("x"), i(5)]), "%!(BADWIDTH)5");
    assert_eq!(pf("%.*d", &[s("x"), i(5)]), "%!(BADPREC)5");
    assert_eq!(pf("%.*d", &[i(-1), i(5)]), "%!(BADPREC)5");
    assert_eq!(pf("%*d", &[i(10_000_000), i(5)]), "%!(BADWIDTH)5");
    assert_eq!(pf("%z", &[i(3)]), "%!z(int=3)");
    assert_eq!(pf("%d", &[Value::Nil]), "%!d(<nil>)");
    assert_eq!(pf("%s", &[b(true)]), "%!s(bool=true)");
    assert_eq!(pf("%d", &[f(1.5)]), "%!d(float=1.5)");
    assert_eq!(pf("%5z", &[i(3)]), "%!z(int=    3)");
    assert_eq!(pf("%!", &[]), "%!!(MISSING)");
    assert_eq!(pf("%[3]d", &[i(1)]), "%!d(BADINDEX)");
    assert_eq!(pf("%[2]d %[1]d", &[i(1), i(2)]), "2 1");
    assert_eq!(pf("%[1]d %[1]x %d", &[i(10), i(11)]), "10 a 11");
    assert_eq!(pf("%[0]d", &[i(1)]), "%!d(BADINDEX)");
    assert_eq!(
        pf("%d %d", &[i(1), s("x"), i(3)]),
        "1 %!d(string=x)%!(EXTRA int=3)"
    );
    assert_eq!(pf("%T", &[Value::Nil]), "<nil>");
    assert_eq!(pf("%5%", &[]), "%");
    assert_eq!(pf("%é", &[i(1)]), "%!é(int=1)");
    assert_eq!(pf("%d", &[list(vec![s("a"), i(1)])]), "[%!d(string=a) 1]");
    assert_eq!(pf("%d", &[list(vec![Value::Nil])]), "[<nil>]");
}

#[test]
fn flags_and_widths() {
    assert_eq!(pf("%*d|%-*d|", &[i(4), i(1), i(4), i(2)]), "   1|2   |");
    assert_eq!(pf("%*d|", &[i(-4), i(1)]), "1   |");
    assert_eq!(pf("%.*f", &[i(2), f(PI)]), "3.14");
    assert_eq!(pf("% d|% d|%+ d", &[i(5), i(-5), i(5)]), " 5|-5|+5");
    assert_eq!(
        pf("%#x|%#X|%#o|%#b|%O", &[i(255), i(255), i(8), i(5), i(8)]),
        "0xff|0XFF|010|0b101|0o10"
    );
    assert_eq!(
        pf("%#08x|%08.3d|%.0d|%5.0d|", &[i(255), i(7), i(0), i(0)]),
        "0x000000ff|     007||     |"
    );
    assert_eq!(pf("%-05d|%0-5d|", &[i(3), i(3)]), "3    |3    |");
    assert_eq!(
        pf("%+05d|% 05d|%05d", &[i(3), i(3), i(-3)]),
        "+0003| 0003|-0003"
    );
    assert_eq!(pf("%x|%X", &[i(i64::MIN), i(-1)]), "-8000000000000000|-1");
    assert_eq!(
        pf(
            "%U|%#U|%#U|%.6U",
            &[i(0x1F600), i('x' as i64), i(0x7), i(0x41)]
        ),
        "U+1F600|U+0078 'x'|U+0007|U+000041"
    );
    assert_eq!(
        pf(
            "%q|%+q|%c|%c",
            &[i('世' as i64), i('世' as i64), i(-1), i(0xD800)]
        ),
        "'世'|'\\u4e16'|\u{fffd}|\u{fffd}"
    );
    assert_eq!(
        pf("%6.2f|%-8.3e|%+g|% g", &[f(PI), f(PI), f(1.5), f(1.5)]),
        "  3.14|3.142e+00|+1.5| 1.5"
    );
    assert_eq!(
        pf("%06.2f|%06.2f|%+06.1f", &[f(PI), f(-PI), f(PI)]),
        "003.14|-03.14|+003.1"
    );
    assert_eq!(
        pf(
            "%05v|%05v|%5v|%+v|% v|%+v",
            &[
                f(f64::INFINITY),
                f(f64::NAN),
                f(f64::NAN),
                f(f64::NAN),
                f(f64::NAN),
                f(f64::NEG_INFINITY)
            ]
        ),
        " +Inf|  NaN|  NaN|NaN| NaN|-Inf"
    );
    assert_eq!(pf("%+f|% f", &[f(f64::NAN), f(f64::NAN)]), "+NaN| NaN");
    assert_eq!(
        pf(
            "%#g|%#.3g|%#e|%#.0f|%#v",
            &[f(1.0), f(1.0), f(1.0), f(2.0), f(1e6)]
        ),
        "1.00000|1.00|1.000000e+00|2.|1e+06"
    );
    assert_eq!(
        pf("%G|%E|%F|%.3G", &[f(1e-10), f(1e10), f(1.0), f(1234.0)]),
        "1E-10|1.000000E+10|1.000000|1.23E+03"
    );
    assert_eq!(
        pf("%x|%.2x|%b", &[f(1.0), f(3.0), f(1.0)]),
        "0x1p+00|0x1.80p+01|4503599627370496p-52"
    );
    assert_eq!(
        pf(
            "%.3s|%.1s|%5.1s|%-5.2s|",
            &[s("héllo"), s("世界"), s("abc"), s("abc")]
        ),
        "hél|世|    a|ab   |"
    );
    assert_eq!(
        pf("%05s|%-05s|%05t", &[s("ab"), s("ab"), b(true)]),
        "000ab|ab   |0true"
    );
    assert_eq!(
        pf("%6s|%-6s|", &[s("世界"), s("世界")]),
        "    世界|世界    |"
    );
    assert_eq!(
        pf(
            "% x|%#x|% #X|%.1x|%6x|%-6x|",
            &[s("abc"), s("abc"), s("abc"), s("abc"), s("a"), s("a")]
        ),
        "61 62 63|0x616263|0X61 0X62 0X63|61|    61|61    |"
    );
    assert_eq!(pf("%x|%5x|", &[s(""), s("")]), "|     |");
    assert_eq!(
        pf("%#q|%#q|%+q|%q", &[s("a\"b"), s("a`b"), s("é"), s("\x00")]),
        "`a\"b`|\"a`b\"|\"\\u00e9\"|\"\\x00\""
    );
    assert_eq!(pf("%.2q", &[s("abc")]), "\"ab\"");
    assert_eq!(
        pf("%#v|%#v|%#v|%#v", &[s("a"), i(3), f(1.0), Value::Nil]),
        "\"a\"|3|1|<nil>"
    );
    assert_eq!(
        pf("%6v|%-4v|", &[list(vec![i(1), i(2)]), list(vec![s("a")])]),
        "[     1      2]|[a   ]|"
    );
    assert_eq!(pf("%8T|%-6T|", &[i(1), b(true)]), "     int|bool  |");
    assert_eq!(
        pf(
            "%s|%q|%x|%d",
            &[
                Value::Error(b"e!".to_vec()),
                Value::Error(b"e".to_vec()),
                Value::Error(b"e".to_vec()),
                Value::Error(b"e".to_vec())
            ]
        ),
        "e!|\"e\"|65|%!d(error=e)"
    );
}

#[test]
fn other_values() {
    struct F;
    impl FmtArg for F {
        fn kind(&self) -> super::ArgKind<'_> {
            super::ArgKind::Other {
                v: "0xc000010000".into(),
                plus_v: "0xc000010000".into(),
            }
        }
        fn type_name(&self) -> String {
            "func()".into()
        }
    }
    let args: [&dyn FmtArg; 3] = [&F, &F, &F];
    assert_eq!(
        String::from_utf8(sprintf(b"%v|%14v|%d", &args)).unwrap(),
        "0xc000010000|  0xc000010000|%!d(func()=0xc000010000)"
    );
}

#[test]
fn parsing_pieces() {
    let p = parse_format(b"a%-5.2fb%%%*d%[2]v%");
    assert_eq!(p.len(), 7);
    assert_eq!(p[0], Piece::Literal(b"a".to_vec()));
    match &p[1] {
        Piece::Directive { flags, verb, .. } => {
            assert!(flags.minus);
            assert_eq!(flags.wid, Some(5));
            assert_eq!(flags.prec, Some(2));
            assert_eq!(*verb, Some('f'));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        &p[3],
        Piece::Directive {
            verb: Some('%'),
            ..
        }
    ));
    assert!(matches!(
        &p[4],
        Piece::Directive {
            width_arg: Some(None),
            verb: Some('d'),
            ..
        }
    ));
    assert!(matches!(
        &p[5],
        Piece::Directive {
            arg_index: Some(1),
            verb: Some('v'),
            ..
        }
    ));
    assert!(matches!(&p[6], Piece::Directive { verb: None, .. }));
}

#[test]
fn map_key_order() {
    let mut keys = vec![
        s("b"),
        i(2),
        s("a"),
        i(-1),
        f(f64::NAN),
        f(0.5),
        b(true),
        b(false),
        Value::Nil,
    ];
    keys.sort_by(|x, y| compare_keys(x, y));
    assert_eq!(sp(&[list(keys)]), "[<nil> false true -1 2 NaN 0.5 a b]");
}

/// Cases from Go's own `fmt_test.go` table that apply to Weft's values
/// (int, float, string, bool, nil, lists).
#[test]
fn go_fmt_test_table() {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    // Go's `zeroFill`: `width` digits in all, ending in `suffix`.
    let zf = |prefix: &str, width: usize, suffix: &str| {
        format!("{prefix}{}{suffix}", "0".repeat(width - suffix.len()))
    };
    let cases: Vec<(&str, Value, String)> = vec![
        ("%d", i(12345), "12345".into()),
        ("%v", i(12345), "12345".into()),
        ("%t", b(true), "true".into()),
        ("%s", s("abc"), "abc".into()),
        ("%q", s("abc"), r#""abc""#.into()),
        ("%x", s("abc"), "616263".into()),
        (
            "%x",
            Value::Str(b"\xff\xf0\x0f\xff".to_vec()),
            "fff00fff".into(),
        ),
        (
            "%X",
            Value::Str(b"\xff\xf0\x0f\xff".to_vec()),
            "FFF00FFF".into(),
        ),
        ("% x", s(""), "".into()),
        ("%# x", s(""), "".into()),
        ("% X", s("xyz"), "78 79 7A".into()),
        ("%#X", s("xyz"), "0X78797A".into()),
        ("%# x", s("xyz"), "0x78 0x79 0x7a".into()),
        ("%q", s(""), r#""""#.into()),
        ("%#q", s(""), "``".into()),
        ("%#q", s("\""), "`\"`".into()),
        ("%#q", s("`"), "\"`\"".into()),
        ("%#q", s("\n"), r#""\n""#.into()),
        ("%q", s(r"\n"), r#""\\n""#.into()),
        ("%#q", s(r"\n"), r"`\n`".into()),
        ("%+q", s("日本語"), r#""\u65e5\u672c\u8a9e""#.into()),
        ("%#+q", s("日本語"), "`日本語`".into()),
        (
            "%q",
            s("\x07\x08\x0c\n\r\t\x0b\"\\"),
            r#""\a\b\f\n\r\t\v\"\\""#.into(),
        ),
        ("% q", s("☺"), "\"☺\"".into()),
        ("%10q", s("⌘"), "       \"⌘\"".into()),
        ("%+10q", s("⌘"), r#"  "\u2318""#.into()),
        ("%-10q", s("⌘"), "\"⌘\"       ".into()),
        ("%010q", s("⌘"), "0000000\"⌘\"".into()),
        ("%+010q", s("⌘"), r#"00"\u2318""#.into()),
        ("%-010q", s("⌘"), "\"⌘\"       ".into()),
        ("%#8q", s("\n"), r#"    "\n""#.into()),
        ("%#-8q", s("\t"), "`\t`     ".into()),
        (
            "%q",
            Value::Str(b"abc\xffdef".to_vec()),
            r#""abc\xffdef""#.into(),
        ),
        (
            "%#q",
            Value::Str(b"abc\xffdef".to_vec()),
            r#""abc\xffdef""#.into(),
        ),
        ("%q", s("\u{10ffff}"), r#""\U0010ffff""#.into()),
        ("%#q", s("\u{10ffff}"), "`\u{10ffff}`".into()),
        ("%c", i('x' as i64), "x".into()),
        ("%c", i(0xe4), "ä".into()),
        ("%.0c", i('⌘' as i64), "⌘".into()),
        ("%3c", i('⌘' as i64), "  ⌘".into()),
        ("%-3c", i('⌘' as i64), "⌘  ".into()),
        ("%c", i(-1), "\u{fffd}".into()),
        ("%c", i(0xDC80), "\u{fffd}".into()),
        ("%c", i(0xFFFFFFFFF), "\u{fffd}".into()),
        ("%q", i(0), r"'\x00'".into()),
        ("%q", i('`' as i64), "'`'".into()),
        ("%+q", i('ÿ' as i64), r"'\u00ff'".into()),
        ("%.0q", i('☺' as i64), "'☺'".into()),
        ("%010q", i('⌘' as i64), "0000000'⌘'".into()),
        ("%+-010q", i('⌘' as i64), r"'\u2318'  ".into()),
        ("%q", i(0x0e00), r"'\u0e00'".into()),
        ("%q", i(-1), "%!q(int=-1)".into()),
        ("%q", i(0xDC80), "'\u{fffd}'".into()),
        ("%q", i(0x110000), "%!q(int=1114112)".into()),
        ("%5s", s("abc"), "  abc".into()),
        ("%2s", s("\u{263a}"), " ☺".into()),
        ("%05s", s("abc"), "00abc".into()),
        (
            "%5s",
            s("abcdefghijklmnopqrstuvwxyz"),
            "abcdefghijklmnopqrstuvwxyz".into(),
        ),
        ("%.0s", s("日本語日本語"), "".into()),
        ("%.5s", s("日本語日本語"), "日本語日本".into()),
        ("%.10s", s("日本語日本語"), "日本語日本語".into()),
        ("%08q", s("abc"), "000\"abc\"".into()),
        ("%.5x", s("abcdefghijklmnopqrstuvwxyz"), "6162636465".into()),
        ("%.3q", s("日本語日本語"), "\"日本語\"".into()),
        ("%.1x", s("日本語"), "e6".into()),
        ("%10.1q", s("日本語日本語"), "       \"日\"".into()),
        ("%10v", Value::Nil, "     <nil>".into()),
        ("%-10v", Value::Nil, "<nil>     ".into()),
        ("%d", i(i64::MIN), "-9223372036854775808".into()),
        ("%.d", i(0), "".into()),
        ("%6.0d", i(0), "      ".into()),
        ("%06.0d", i(0), "      ".into()),
        ("% d", i(12345), " 12345".into()),
        ("%b", i(-6), "-110".into()),
        ("%#b", i(-6), "-0b110".into()),
        ("%b", i(i64::MIN), zf("-1", 63, "")),
        ("%#o", i(-0o1234), "-01234".into()),
        ("%O", i(-0o1234), "-0o1234".into()),
        ("%#X", i(0), "0X0".into()),
        ("%.20b", i(7), "00000000000000000111".into()),
        ("%010d", i(-12345), "-000012345".into()),
        ("%020.8d", i(-1234), "           -00001234".into()),
        ("%-20.8d", i(-1234), "-00001234           ".into()),
        ("%-#20.8x", i(0x1234abc), "0x01234abc          ".into()),
        ("%-#20.8o", i(0o1234), "00001234            ".into()),
        ("%068d", i(-1), zf("-", 67, "1")),
        ("%#.68x", i(42), zf("0x", 68, "2a")),
        ("% +.68d", i(42), zf("+", 68, "42")),
        ("%U", i(0), "U+0000".into()),
        ("%U", i(-1), "U+FFFFFFFFFFFFFFFF".into()),
        ("%#U", i('\n' as i64), "U+000A".into()),
        ("%+U", i('x' as i64), "U+0078".into()),
        ("%# U", i('x' as i64), "U+0078 'x'".into()),
        ("%#.2U", i('x' as i64), "U+0078 'x'".into()),
        ("%#U", i(0x1D6C2), "U+1D6C2 '𝛂'".into()),
        ("%#14.6U", i('⌘' as i64), "  U+002318 '⌘'".into()),
        ("%#-014.6U", i('⌘' as i64), "U+002318 '⌘'  ".into()),
        ("%#.68U", i('日' as i64), zf("U+", 68, "65E5") + " '日'"),
        ("%+.3e", f(0.0), "+0.000e+00".into()),
        ("%+.3x", f(0.0), "+0x0.000p+00".into()),
        ("%+.3F", f(-1.0), "-1.000".into()),
        ("%-07.2f", f(-1.0), "-1.00  ".into()),
        ("%-+07.2f", f(1.0), "+1.00  ".into()),
        ("%+10.2f", f(-1.0), "     -1.00".into()),
        ("% .3X", f(-1.0), "-0X1.000P+00".into()),
        ("% .3x", f(1.0), " 0x1.000p+00".into()),
        ("%+.3g", f(0.0), "+0".into()),
        ("% .3g", f(1.0), " 1".into()),
        ("%#g", f(1e-323), "1.00000e-323".into()),
        ("%#g", f(-1.0), "-1.00000".into()),
        ("%#g", f(1.1), "1.10000".into()),
        ("%#g", f(123456.0), "123456.".into()),
        ("%#g", f(1234567.0), "1.234567e+06".into()),
        ("%#g", f(1230000.0), "1.23000e+06".into()),
        ("%#.0e", f(1.0), "1.e+00".into()),
        ("%#.0x", f(1.0), "0x1.p+00".into()),
        ("%#.0g", f(1.0), "1.".into()),
        ("%#.0g", f(1100000.0), "1.e+06".into()),
        ("%#.4x", f(1.0), "0x1.0000p+00".into()),
        ("%#.4g", f(100000.0), "1.000e+05".into()),
        ("%#.0x", f(123.0), "0x1.p+07".into()),
        ("%#.0g", f(123.0), "1.e+02".into()),
        ("%#.4x", f(123.0), "0x1.ec00p+06".into()),
        ("%#.4g", f(123.0), "123.0".into()),
        ("%#.4g", f(123000.0), "1.230e+05".into()),
        ("%#9.4g", f(1.0), "    1.000".into()),
        ("%#b", f(1.0), "4503599627370496p-52".into()),
        ("%.4b", f(-1.0), "-4503599627370496p-52".into()),
        ("%.68f", f(-1.0), zf("-1.", 68, "")),
        ("%f", f(inf), "+Inf".into()),
        ("%.1f", f(-inf), "-Inf".into()),
        ("% f", f(nan), " NaN".into()),
        ("% 20F", f(inf), "                 Inf".into()),
        ("% 20x", f(-inf), "                -Inf".into()),
        ("%20x", f(nan), "                 NaN".into()),
        ("% +20E", f(nan), "                +NaN".into()),
        ("% -20g", f(nan), " NaN                ".into()),
        ("%+-20G", f(inf), "+Inf                ".into()),
        ("%+020x", f(inf), "                +Inf".into()),
        ("%-020E", f(nan), "NaN                 ".into()),
        ("%e", f(1234.5678e3), "1.234568e+06".into()),
        ("%e", f(1234.5678e-8), "1.234568e-05".into()),
        ("%f", f(1234.5678e-8), "0.000012".into()),
        ("%f", f(-1e-9), "-0.000000".into()),
        ("%g", f(1234.5678e3), "1.2345678e+06".into()),
        ("%g", f(-1e-9), "-1e-09".into()),
        ("%G", f(1234.5678e-8), "1.2345678E-05".into()),
        ("%20.5s", s("qwertyuiop"), "               qwert".into()),
        ("%-20.5s", s("qwertyuiop"), "qwert               ".into()),
        ("%20c", i('x' as i64), "                   x".into()),
        ("%20.8e", f(1.2345e3), "      1.23450000e+03".into()),
        (
            "%20f",
            f(12_345_678_901.234_568),
            "  12345678901.234568".into(),
        ),
        ("%20.8f", f(1.23456789e-3), "          0.00123457".into()),
        ("%g", f(1.23456789e-3), "0.00123456789".into()),
        ("%g", f(1.23456789e20), "1.23456789e+20".into()),
        (
            "%v",
            list(vec![i(1), s("hello"), f(2.5), Value::Nil]),
            "[1 hello 2.5 <nil>]".into(),
        ),
        (
            "%6v",
            list(vec![i(1), i(11), i(111)]),
            "[     1     11    111]".into(),
        ),
        (
            "%06v",
            list(vec![i(1), i(11), i(111)]),
            "[000001 000011 000111]".into(),
        ),
        (
            "%-06v",
            list(vec![i(1), i(11), i(111)]),
            "[1      11     111   ]".into(),
        ),
        (
            "% v",
            list(vec![i(1), i(11), i(111)]),
            "[ 1  11  111]".into(),
        ),
        ("%+v", list(vec![i(1), i(11), i(111)]), "[1 11 111]".into()),
        (
            "%+d",
            list(vec![i(1), i(11), i(111)]),
            "[+1 +11 +111]".into(),
        ),
        (
            "%# -6d",
            list(vec![i(1), i(11), i(111)]),
            "[ 1      11     111  ]".into(),
        ),
        ("%#x", list(vec![i(1), i(2), i(15)]), "[0x1 0x2 0xf]".into()),
        ("%v", f(1.2345678), "1.2345678".into()),
        ("%#v", f(1.2345678), "1.2345678".into()),
        ("%#v", i(1000000000), "1000000000".into()),
        ("%#v", s("foo"), r#""foo""#.into()),
        ("%#v", f(1.0), "1".into()),
        ("%#v", f(1000000.0), "1e+06".into()),
        ("%2x", s(""), "  ".into()),
        ("% 02x", s(""), "00".into()),
        ("%-02x", s(""), "  ".into()),
        ("%#8x", Value::Str(b"\xab".to_vec()), "    0xab".into()),
        ("%#08x", Value::Str(b"\xab".to_vec()), "00000xab".into()),
        (
            "% 10x",
            Value::Str(b"\xab\xcd".to_vec()),
            "     ab cd".into(),
        ),
        (
            "%# 10x",
            Value::Str(b"\xab\xcd".to_vec()),
            " 0xab 0xcd".into(),
        ),
        (
            "% 010x",
            Value::Str(b"\xab\xcd".to_vec()),
            "00000ab cd".into(),
        ),
        (
            "%# 010x",
            Value::Str(b"\xab\xcd".to_vec()),
            "00xab 0xcd".into(),
        ),
        (
            "%# -010X",
            Value::Str(b"\xab\xcd".to_vec()),
            "0XAB 0XCD ".into(),
        ),
        ("%10T", Value::Nil, "     <nil>".into()),
        ("%-10T", Value::Nil, "<nil>     ".into()),
        ("%p", i(27), "%!p(int=27)".into()),
        ("%p", Value::Nil, "%!p(<nil>)".into()),
        ("%#v", Value::Nil, "<nil>".into()),
        ("%.2f", f(1.0), "1.00".into()),
        ("% .2f", f(1.0), " 1.00".into()),
        ("% 7.2f", f(-1.0), "  -1.00".into()),
        ("% +7.2f", f(1.0), "  +1.00".into()),
        ("%07.2f", f(1.0), "0001.00".into()),
        ("% 07.2f", f(1.0), " 001.00".into()),
        ("% +07.2f", f(-1.0), "-001.00".into()),
        ("%0-5s", s("abc"), "abc  ".into()),
        ("%-05.1f", f(1.0), "1.0  ".into()),
        ("%06v", list(vec![f(10.0), i(10)]), "[000010 000010]".into()),
        (
            "%06v",
            list(vec![f(-10.0), i(10)]),
            "[-00010 000010]".into(),
        ),
        (
            "%03.6v",
            list(vec![i(1), f(2.0), s("x")]),
            "[000001 002 00x]".into(),
        ),
        (
            "%03.0v",
            list(vec![i(0), f(2.0), s("x")]),
            "[    002 000]".into(),
        ),
    ];
    for (format, arg, want) in cases {
        assert_eq!(
            pf(format, std::slice::from_ref(&arg)),
            want,
            "{format} {arg:?}"
        );
    }
    assert_eq!(pf("%s %", &[s("hello")]), "hello %!(NOVERB)");
    assert_eq!(pf("%s %.2", &[s("hello")]), "hello %!(NOVERB)");
    assert_eq!(pf("%.", &[i(3)]), "%!.(int=3)");
    assert_eq!(
        pf("%010.2", &[s("12345")]),
        "%!(NOVERB)%!(EXTRA string=12345)"
    );
    assert_eq!(
        pf("%017091901790959340919092959340919017929593813360", &[i(0)]),
        "%!(NOVERB)%!(EXTRA int=0)"
    );
}

#[test]
fn errorf_wrapping() {
    let inner = Value::Error(b"inner".to_vec());
    let run = |format: &str, args: &[Value]| {
        let (text, w) = errorf(format.as_bytes(), &refs(args));
        (String::from_utf8(text).unwrap(), w)
    };
    assert_eq!(
        run("wrapped: %w", std::slice::from_ref(&inner)),
        ("wrapped: inner".into(), Some(0))
    );
    assert_eq!(run("an error %d", &[i(1)]), ("an error 1".into(), None));
    assert_eq!(
        run("%d %w", &[i(1), inner.clone()]),
        ("1 inner".into(), Some(1))
    );
    assert_eq!(run("%w", &[s("x")]), ("%!w(string=x)".into(), None));
    assert_eq!(
        run("%w %w", &[inner.clone(), inner.clone()]),
        ("inner %!w(error=inner)".into(), None)
    );
    assert_eq!(pf("%w", &[inner]), "%!w(error=inner)");
}

/// Go's `reorderTests` and `startests` from `fmt_test.go`.
#[test]
fn go_reorder_and_star_tables() {
    let cases: Vec<(&str, Vec<Value>, &str)> = vec![
        ("%[1]d", vec![i(1)], "1"),
        ("%[2]d", vec![i(2), i(1)], "1"),
        ("%[2]d %[1]d", vec![i(1), i(2)], "2 1"),
        ("%[2]*[1]d", vec![i(2), i(5)], "    2"),
        ("%6.2f", vec![f(12.0)], " 12.00"),
        ("%[3]*.[2]*[1]f", vec![f(12.0), i(2), i(6)], " 12.00"),
        ("%[1]*.[2]*[3]f", vec![i(6), i(2), f(12.0)], " 12.00"),
        ("%10f", vec![f(12.0)], " 12.000000"),
        ("%[1]*[3]f", vec![i(10), i(99), f(12.0)], " 12.000000"),
        ("%.6f", vec![f(12.0)], "12.000000"),
        ("%.[1]*[3]f", vec![i(6), i(99), f(12.0)], "12.000000"),
        ("%6.f", vec![f(12.0)], "    12"),
        ("%[1]*.[3]f", vec![i(6), i(3), f(12.0)], "    12"),
        (
            "%d %d %d %#[1]o %#o %#o",
            vec![i(11), i(12), i(13)],
            "11 12 13 013 014 015",
        ),
        ("%[d", vec![i(2), i(1)], "%!d(BADINDEX)"),
        ("%]d", vec![i(2), i(1)], "%!](int=2)d%!(EXTRA int=1)"),
        ("%[]d", vec![i(2), i(1)], "%!d(BADINDEX)"),
        ("%[-3]d", vec![i(2), i(1)], "%!d(BADINDEX)"),
        ("%[99]d", vec![i(2), i(1)], "%!d(BADINDEX)"),
        ("%[3]", vec![i(2), i(1)], "%!(NOVERB)"),
        ("%[1].2d", vec![i(5), i(6)], "%!d(BADINDEX)"),
        ("%[1]2d", vec![i(2), i(1)], "%!d(BADINDEX)"),
        ("%3.[2]d", vec![i(7)], "%!d(BADINDEX)"),
        ("%.[2]d", vec![i(7)], "%!d(BADINDEX)"),
        (
            "%d %d %d %#[1]o %#o %#o %#o",
            vec![i(11), i(12), i(13)],
            "11 12 13 013 014 015 %!o(MISSING)",
        ),
        (
            "%[5]d %[2]d %d",
            vec![i(1), i(2), i(3)],
            "%!d(BADINDEX) 2 3",
        ),
        ("%d %[3]d %d", vec![i(1), i(2)], "1 %!d(BADINDEX) 2"),
        ("%.[]", vec![], "%!](BADINDEX)"),
        ("%.-3d", vec![i(42)], "%!-(int=42)3d"),
        ("%2147483648d", vec![i(42)], "%!(NOVERB)%!(EXTRA int=42)"),
        ("%-2147483648d", vec![i(42)], "%!(NOVERB)%!(EXTRA int=42)"),
        ("%.2147483648d", vec![i(42)], "%!(NOVERB)%!(EXTRA int=42)"),
        ("%*d", vec![i(4), i(42)], "  42"),
        ("%-*d", vec![i(4), i(42)], "42  "),
        ("%*d", vec![i(-4), i(42)], "42  "),
        ("%-*d", vec![i(-4), i(42)], "42  "),
        ("%.*d", vec![i(4), i(42)], "0042"),
        ("%*.*d", vec![i(8), i(4), i(42)], "    0042"),
        ("%0*d", vec![i(4), i(42)], "0042"),
        ("%*d", vec![Value::Nil, i(42)], "%!(BADWIDTH)42"),
        ("%*d", vec![i(10_000_000), i(42)], "%!(BADWIDTH)42"),
        ("%*d", vec![i(-10_000_000), i(42)], "%!(BADWIDTH)42"),
        ("%.*d", vec![Value::Nil, i(42)], "%!(BADPREC)42"),
        ("%.*d", vec![i(-1), i(42)], "%!(BADPREC)42"),
        ("%.*d", vec![i(10_000_000), i(42)], "%!(BADPREC)42"),
        ("%*d", vec![i(5), s("foo")], "%!d(string=  foo)"),
        ("%*% %d", vec![i(20), i(5)], "% 5"),
        ("%*", vec![i(4)], "%!(NOVERB)"),
    ];
    for (format, args, want) in cases {
        assert_eq!(pf(format, &args), want, "{format}");
    }
}
