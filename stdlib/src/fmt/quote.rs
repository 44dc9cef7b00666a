//! Go's `strconv.Quote`, `QuoteToASCII`, `QuoteRune`, `QuoteRuneToASCII`,
//! `CanBackquote` and `IsPrint`, plus UTF-8 decoding with Go's rules
//! (an invalid byte decodes as `U+FFFD` of width 1).
//!
//! `is_print` approximates Go's `unicode.IsPrint` (letters, marks, numbers,
//! punctuation and symbols, plus ASCII space) without Unicode tables:
//! not printable are controls (Cc), the format characters (Cf) of Unicode
//! 15, surrogates, private use (Co), non-characters, spaces and separators
//! other than U+0020 (Zs, Zl, Zp), and the big unassigned blocks (planes
//! 4-13, U+323B0-U+3FFFF, U+E0080-U+EFFFF, most of U+E0000-U+E00FF).
//! Scattered unassigned code points inside assigned blocks are treated as
//! printable, where Go would escape them.

/// Go's `utf8.RuneError`.
pub const RUNE_ERROR: u32 = 0xFFFD;

/// Decodes the first rune of `s` as Go's `utf8.DecodeRune`: returns the
/// rune and its width; `(RUNE_ERROR, 1)` for an invalid or short encoding
/// (overlong forms and surrogates included), `(RUNE_ERROR, 0)` for empty.
pub fn decode_rune(s: &[u8]) -> (u32, usize) {
    let Some(&b0) = s.first() else {
        return (RUNE_ERROR, 0);
    };
    if b0 < 0x80 {
        return (b0 as u32, 1);
    }
    let (n, init, lo, hi) = match b0 {
        0xC2..=0xDF => (2, (b0 & 0x1F) as u32, 0x80, 0xBF),
        0xE0 => (3, (b0 & 0x0F) as u32, 0xA0, 0xBF),
        0xE1..=0xEC | 0xEE..=0xEF => (3, (b0 & 0x0F) as u32, 0x80, 0xBF),
        0xED => (3, (b0 & 0x0F) as u32, 0x80, 0x9F),
        0xF0 => (4, (b0 & 0x07) as u32, 0x90, 0xBF),
        0xF1..=0xF3 => (4, (b0 & 0x07) as u32, 0x80, 0xBF),
        0xF4 => (4, (b0 & 0x07) as u32, 0x80, 0x8F),
        _ => return (RUNE_ERROR, 1),
    };
    if s.len() < n {
        return (RUNE_ERROR, 1);
    }
    if !(lo..=hi).contains(&s[1]) {
        return (RUNE_ERROR, 1);
    }
    let mut r = (init << 6) | (s[1] & 0x3F) as u32;
    for &b in &s[2..n] {
        if !(0x80..=0xBF).contains(&b) {
            return (RUNE_ERROR, 1);
        }
        r = (r << 6) | (b & 0x3F) as u32;
    }
    (r, n)
}

/// Number of runes in `s` as Go counts them (each invalid byte is one).
pub fn rune_count(s: &[u8]) -> usize {
    let mut i = 0;
    let mut n = 0;
    while i < s.len() {
        i += decode_rune(&s[i..]).1;
        n += 1;
    }
    n
}

/// Appends the UTF-8 encoding of `r` as Go's `utf8.AppendRune`: invalid
/// runes (surrogates, beyond U+10FFFF) become U+FFFD.
pub fn push_rune(out: &mut Vec<u8>, r: u32) {
    let c = char::from_u32(r).unwrap_or('\u{FFFD}');
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Approximation of Go's `unicode.IsPrint` (see the module docs).
pub fn is_print(r: u32) -> bool {
    if r < 0x80 {
        return (0x20..0x7F).contains(&r);
    }
    let Some(c) = char::from_u32(r) else {
        return false;
    };
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    if (r & 0xFFFE) == 0xFFFE || (0xFDD0..=0xFDEF).contains(&r) {
        return false;
    }
    const NOT_PRINT: &[(u32, u32)] = &[
        // Format characters (Cf).
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        // Private use (Co).
        (0xE000, 0xF8FF),
        (0xF0000, 0x10FFFF),
        // Unassigned blocks (Cn).
        (0x0378, 0x0379),
        (0x0380, 0x0383),
        (0x038B, 0x038B),
        (0x038D, 0x038D),
        (0x03A2, 0x03A2),
        (0x0530, 0x0530),
        (0x0557, 0x0558),
        (0x058B, 0x058C),
        (0x0590, 0x0590),
        (0x05C8, 0x05CF),
        (0x05EB, 0x05EE),
        (0x05F5, 0x05FF),
        (0x0E00, 0x0E00),
        (0x0E3B, 0x0E3E),
        (0x0E5C, 0x0E80),
        (0x2FE0, 0x2FEF),
        (0x323B0, 0x3FFFF),
        (0x40000, 0xDFFFF),
        (0xE0000, 0xE00FF),
        (0xE01F0, 0xEFFFF),
    ];
    !NOT_PRINT.iter().any(|&(lo, hi)| lo <= r && r <= hi)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut Vec<u8>, r: u32, digits: u32) {
    for i in (0..digits).rev() {
        out.push(HEX[((r >> (4 * i)) & 0xF) as usize]);
    }
}

/// Go's `appendEscapedRune`: `r` as an escape, or itself when printable.
fn push_escaped(out: &mut Vec<u8>, r: u32, quote: u8, ascii_only: bool) {
    if r == quote as u32 || r == '\\' as u32 {
        out.push(b'\\');
        out.push(r as u8);
        return;
    }
    if ascii_only {
        if r < 0x80 && is_print(r) {
            out.push(r as u8);
            return;
        }
    } else if is_print(r) {
        push_rune(out, r);
        return;
    }
    let esc = match r {
        0x07 => Some(b'a'),
        0x08 => Some(b'b'),
        0x0C => Some(b'f'),
        0x0A => Some(b'n'),
        0x0D => Some(b'r'),
        0x09 => Some(b't'),
        0x0B => Some(b'v'),
        _ => None,
    };
    if let Some(e) = esc {
        out.push(b'\\');
        out.push(e);
        return;
    }
    if r < 0x20 || r == 0x7F {
        out.extend_from_slice(b"\\x");
        push_hex(out, r, 2);
        return;
    }
    let r = if char::from_u32(r).is_none() {
        RUNE_ERROR
    } else {
        r
    };
    if r < 0x10000 {
        out.extend_from_slice(b"\\u");
        push_hex(out, r, 4);
    } else {
        out.extend_from_slice(b"\\U");
        push_hex(out, r, 8);
    }
}

fn quote_with(out: &mut Vec<u8>, s: &[u8], quote: u8, ascii_only: bool) {
    out.push(quote);
    let mut i = 0;
    while i < s.len() {
        let (r, w) = decode_rune(&s[i..]);
        if w == 1 && r == RUNE_ERROR {
            out.extend_from_slice(b"\\x");
            push_hex(out, s[i] as u32, 2);
        } else {
            push_escaped(out, r, quote, ascii_only);
        }
        i += w;
    }
    out.push(quote);
}

/// Go's `strconv.Quote`: a double-quoted Go string literal for `s`.
pub fn quote(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    quote_with(&mut out, s, b'"', false);
    out
}

/// Go's `strconv.QuoteToASCII`: like [`quote`] but escaping all non-ASCII.
pub fn quote_to_ascii(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    quote_with(&mut out, s, b'"', true);
    out
}

fn quote_rune_with(r: u32, ascii_only: bool) -> Vec<u8> {
    let r = if char::from_u32(r).is_none() {
        RUNE_ERROR
    } else {
        r
    };
    let mut out = vec![b'\''];
    push_escaped(&mut out, r, b'\'', ascii_only);
    out.push(b'\'');
    out
}

/// Go's `strconv.QuoteRune`: a single-quoted Go rune literal (invalid
/// runes become U+FFFD).
pub fn quote_rune(r: u32) -> Vec<u8> {
    quote_rune_with(r, false)
}

/// Go's `strconv.QuoteRuneToASCII`.
pub fn quote_rune_to_ascii(r: u32) -> Vec<u8> {
    quote_rune_with(r, true)
}

/// Go's `strconv.CanBackquote`: whether `s` can be a raw string literal.
pub fn can_backquote(s: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() {
        let (r, w) = decode_rune(&s[i..]);
        i += w;
        if w > 1 {
            if r == 0xFEFF {
                return false;
            }
            continue;
        }
        if r == RUNE_ERROR || (r < 0x20 && r != 0x09) || r == 0x60 || r == 0x7F {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &[u8]) -> String {
        String::from_utf8(quote(s)).unwrap()
    }

    #[test]
    fn conformance_stdlib_strconv() {
        assert_eq!(q(b"hello"), r#""hello""#);
        assert_eq!(q(b"a\"b\n"), r#""a\"b\n""#);
        assert_eq!(q(b"tab\there"), r#""tab\there""#);
        assert_eq!(q("héllo".as_bytes()), "\"héllo\"");
        assert_eq!(q(b"\x00\x7f"), r#""\x00\x7f""#);
        assert_eq!(q(b"\xff"), r#""\xff""#);
        assert_eq!(q(br"back\slash"), r#""back\\slash""#);
    }

    #[test]
    fn escapes() {
        assert_eq!(q(b"\x07\x08\x0c\r\x0b'"), r#""\a\b\f\r\v'""#);
        assert_eq!(
            q("\u{200b}\u{feff}\u{e000}".as_bytes()),
            r#""\u200b\ufeff\ue000""#
        );
        assert_eq!(q("\u{a0}".as_bytes()), r#""\u00a0""#);
        assert_eq!(q("\u{10ffff}".as_bytes()), r#""\U0010ffff""#);
        assert_eq!(q("世😀\u{fffd}".as_bytes()), "\"世😀\u{fffd}\"");
        // An overlong encoding and a surrogate are invalid bytes.
        assert_eq!(q(b"\xc0\x80\xed\xa0\x80"), r#""\xc0\x80\xed\xa0\x80""#);
        assert_eq!(q(b"\xe4\xb8"), r#""\xe4\xb8""#);
        assert_eq!(
            String::from_utf8(quote_to_ascii("é世😀\n".as_bytes())).unwrap(),
            r#""\u00e9\u4e16\U0001f600\n""#
        );
    }

    #[test]
    fn runes() {
        let qr = |r: u32| String::from_utf8(quote_rune(r)).unwrap();
        assert_eq!(qr('a' as u32), "'a'");
        assert_eq!(qr('\'' as u32), r"'\''");
        assert_eq!(qr('"' as u32), "'\"'");
        assert_eq!(qr('\n' as u32), r"'\n'");
        assert_eq!(qr(0x4E16), "'世'");
        assert_eq!(qr(0xD800), "'\u{fffd}'");
        assert_eq!(qr(0x110000), "'\u{fffd}'");
        assert_eq!(qr(0), r"'\x00'");
        assert_eq!(
            String::from_utf8(quote_rune_to_ascii(0x4E16)).unwrap(),
            r"'\u4e16'"
        );
    }

    #[test]
    fn backquote_and_decode() {
        assert!(can_backquote(b"abc\tdef"));
        assert!(!can_backquote(b"a`b"));
        assert!(!can_backquote(b"a\nb"));
        assert!(!can_backquote(b"\xff"));
        assert!(!can_backquote("\u{feff}".as_bytes()));
        assert_eq!(decode_rune("é".as_bytes()), (0xE9, 2));
        assert_eq!(decode_rune(b""), (RUNE_ERROR, 0));
        assert_eq!(rune_count(b"h\xc3\xa9llo\xff"), 6);
    }
}

/// Go's `strconv/quote_test.go` tables for Quote, QuoteToASCII, QuoteRune,
/// QuoteRuneToASCII and CanBackquote.
#[cfg(test)]
mod go_quote_table {
    use super::*;

    fn text(b: Vec<u8>) -> String {
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn quotes() {
        let cases: &[(&[u8], &str, &str)] = &[
            (
                b"\x07\x08\x0c\r\n\t\x0b",
                r#""\a\b\f\r\n\t\v""#,
                r#""\a\b\f\r\n\t\v""#,
            ),
            (b"\\", r#""\\""#, r#""\\""#),
            (b"abc\xffdef", r#""abc\xffdef""#, r#""abc\xffdef""#),
            ("\u{263a}".as_bytes(), "\"☺\"", r#""\u263a""#),
            (
                "\u{10ffff}".as_bytes(),
                r#""\U0010ffff""#,
                r#""\U0010ffff""#,
            ),
            (b"\x04", r#""\x04""#, r#""\x04""#),
            (
                "!\u{a0}!\u{2000}!\u{3000}!".as_bytes(),
                r#""!\u00a0!\u2000!\u3000!""#,
                r#""!\u00a0!\u2000!\u3000!""#,
            ),
        ];
        for &(input, out, ascii) in cases {
            assert_eq!(text(quote(input)), out);
            assert_eq!(text(quote_to_ascii(input)), ascii);
        }
    }

    #[test]
    fn quote_runes() {
        let cases: &[(u32, &str, &str)] = &[
            ('a' as u32, "'a'", "'a'"),
            (7, r"'\a'", r"'\a'"),
            ('\\' as u32, r"'\\'", r"'\\'"),
            (0xFF, "'ÿ'", r"'\u00ff'"),
            (0x263a, "'☺'", r"'\u263a'"),
            (0xfffd, "'\u{fffd}'", r"'\ufffd'"),
            (0x10ffff, r"'\U0010ffff'", r"'\U0010ffff'"),
            (0x110000, "'\u{fffd}'", r"'\ufffd'"),
            (0x04, r"'\x04'", r"'\x04'"),
            (0xa0, r"'\u00a0'", r"'\u00a0'"),
            (0x2000, r"'\u2000'", r"'\u2000'"),
            (0x3000, r"'\u3000'", r"'\u3000'"),
        ];
        for &(r, out, ascii) in cases {
            assert_eq!(text(quote_rune(r)), out);
            assert_eq!(text(quote_rune_to_ascii(r)), ascii);
        }
    }

    #[test]
    fn backquote() {
        assert!(!can_backquote(b"`"));
        for c in 0u8..32 {
            assert_eq!(can_backquote(&[c]), c == 9, "{c}");
        }
        assert!(!can_backquote(&[0x7f]));
        assert!(can_backquote(br##"' !"#$%&'()*+,-./:;<=>?@[\]^_{|}~"##));
        assert!(can_backquote(b"0123456789"));
        assert!(can_backquote("☺".as_bytes()));
        assert!(!can_backquote(b"\x80"));
        assert!(!can_backquote(b"a\xe0\xa0z"));
        assert!(!can_backquote("\u{feff}abc".as_bytes()));
        assert!(!can_backquote("a\u{feff}z".as_bytes()));
    }
}
