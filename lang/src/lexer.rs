//! The lexer: source bytes to the token stream the parser reads.
//!
//! Three passes, each simple on its own:
//! 1. [`RawTok`] (logos) recognises tokens; literals with structure (numbers,
//!    strings, runes, block comments) are scanned by hand-written callbacks that
//!    follow Go's scanner, so that an error points at the exact offending byte.
//! 2. Go's automatic semicolon insertion turns some newlines into `;`.
//! 3. Brace classification: Go's parser decides whether `{` opens a block or a
//!    composite literal from its context (`exprLev`). An LALR grammar cannot, so
//!    this pass tags every `{` that opens a block as [`Tok::LBlock`] and leaves
//!    `{` only for map, struct and struct-type literals. The rules are Go's: in the
//!    header of `if`/`for`/`switch`/`select`/`else` the first `{` outside
//!    parentheses opens the body; the `{` after a `func` signature opens its
//!    body; a `{` where a statement starts opens a block.
//!
//! The lexer never panics and never stops early: errors become diagnostics and
//! lexing resumes, so one run reports every lexical error.

use crate::diag::Diagnostic;
use crate::span::Span;
use logos::Logos;

/// Deepest nesting of `( [ {` accepted. Deeper input is reported, not parsed,
/// which bounds the recursion of every later pass.
pub const MAX_BRACKET_NESTING: usize = 200;

/// A token as the parser sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    /// An integer literal; kept unsigned so that `-9223372036854775808` folds.
    Int(u64),
    Float(f64),
    /// A rune literal: its code point.
    Rune(i64),
    /// A string literal's decoded bytes (not necessarily UTF-8).
    Str(Vec<u8>),
    // Keywords.
    Break,
    Case,
    Chan,
    Const,
    Continue,
    Default,
    Defer,
    Else,
    For,
    Func,
    Go,
    If,
    Import,
    Range,
    Return,
    Select,
    Struct,
    Switch,
    Type,
    Var,
    Nil,
    True,
    False,
    // Operators and punctuation.
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Amp,
    Pipe,
    Caret,
    Shl,
    Shr,
    AndNot,
    PlusAssign,
    MinusAssign,
    StarAssign,
    SlashAssign,
    PercentAssign,
    AmpAssign,
    PipeAssign,
    CaretAssign,
    ShlAssign,
    ShrAssign,
    AndNotAssign,
    AndAnd,
    OrOr,
    Arrow,
    Inc,
    Dec,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Assign,
    Define,
    Not,
    Ellipsis,
    LParen,
    RParen,
    LBrack,
    RBrack,
    /// `{` opening a composite literal (map, struct value, struct type).
    LBrace,
    /// `{` opening a block (see the module doc).
    LBlock,
    RBrace,
    Comma,
    Dot,
    Semi,
    Colon,
}

impl Tok {
    /// How the token is written, for diagnostics ("unexpected `)`").
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("name {s}"),
            Tok::Int(_) | Tok::Float(_) | Tok::Rune(_) => "number literal".into(),
            Tok::Str(_) => "string literal".into(),
            Tok::Semi => "newline or `;`".into(),
            other => format!("`{}`", other.text()),
        }
    }

    fn text(&self) -> &'static str {
        use Tok::*;
        match self {
            Ident(_) | Int(_) | Float(_) | Rune(_) | Str(_) => "literal",
            Break => "break",
            Case => "case",
            Chan => "chan",
            Const => "const",
            Continue => "continue",
            Default => "default",
            Defer => "defer",
            Else => "else",
            For => "for",
            Func => "func",
            Go => "go",
            If => "if",
            Import => "import",
            Range => "range",
            Return => "return",
            Select => "select",
            Struct => "struct",
            Switch => "switch",
            Type => "type",
            Var => "var",
            Nil => "nil",
            True => "true",
            False => "false",
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash => "/",
            Percent => "%",
            Amp => "&",
            Pipe => "|",
            Caret => "^",
            Shl => "<<",
            Shr => ">>",
            AndNot => "&^",
            PlusAssign => "+=",
            MinusAssign => "-=",
            StarAssign => "*=",
            SlashAssign => "/=",
            PercentAssign => "%=",
            AmpAssign => "&=",
            PipeAssign => "|=",
            CaretAssign => "^=",
            ShlAssign => "<<=",
            ShrAssign => ">>=",
            AndNotAssign => "&^=",
            AndAnd => "&&",
            OrOr => "||",
            Arrow => "<-",
            Inc => "++",
            Dec => "--",
            EqEq => "==",
            NotEq => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            Assign => "=",
            Define => ":=",
            Not => "!",
            Ellipsis => "...",
            LParen => "(",
            RParen => ")",
            LBrack => "[",
            RBrack => "]",
            LBrace | LBlock => "{",
            RBrace => "}",
            Comma => ",",
            Dot => ".",
            Semi => ";",
            Colon => ":",
        }
    }
}

/// What went wrong inside a literal, with the byte where it went wrong.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LexError {
    /// Offset relative to the start of the token (0 for the token itself).
    pub offset: usize,
    pub message: String,
}

impl LexError {
    fn at(offset: usize, message: impl Into<String>) -> LexError {
        LexError {
            offset,
            message: message.into(),
        }
    }
}

/// The tokens logos recognises directly. Newlines are kept: semicolon
/// insertion needs them.
#[derive(Logos, Debug, Clone, PartialEq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\f]+")]
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
#[logos(utf8 = false)]
enum RawTok {
    #[token("\n")]
    Newline,
    /// A block comment; `true` when it spans a newline (then it acts as one).
    #[token("/*", block_comment)]
    BlockComment(bool),
    #[regex(r"[_\p{L}][_\p{L}\p{Nd}]*", |lex| std::str::from_utf8(lex.slice()).map(str::to_owned).unwrap_or_default())]
    Ident(String),
    #[regex(r"[0-9]", number)]
    #[regex(r"\.[0-9]", number)]
    Number(Tok),
    #[token("\"", interpreted_string)]
    Str(Vec<u8>),
    #[token("`", raw_string)]
    RawStr(Vec<u8>),
    #[token("'", rune_literal)]
    Rune(i64),
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("&")]
    Amp,
    #[token("|")]
    Pipe,
    #[token("^")]
    Caret,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token("&^")]
    AndNot,
    #[token("+=")]
    PlusAssign,
    #[token("-=")]
    MinusAssign,
    #[token("*=")]
    StarAssign,
    #[token("/=")]
    SlashAssign,
    #[token("%=")]
    PercentAssign,
    #[token("&=")]
    AmpAssign,
    #[token("|=")]
    PipeAssign,
    #[token("^=")]
    CaretAssign,
    #[token("<<=")]
    ShlAssign,
    #[token(">>=")]
    ShrAssign,
    #[token("&^=")]
    AndNotAssign,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
    #[token("<-")]
    Arrow,
    #[token("++")]
    Inc,
    #[token("--")]
    Dec,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("=")]
    Assign,
    #[token(":=")]
    Define,
    #[token("!")]
    Not,
    #[token("...")]
    Ellipsis,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBrack,
    #[token("]")]
    RBrack,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(".")]
    Dot,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
}

fn keyword(ident: &str) -> Option<Tok> {
    Some(match ident {
        "break" => Tok::Break,
        "case" => Tok::Case,
        "chan" => Tok::Chan,
        "const" => Tok::Const,
        "continue" => Tok::Continue,
        "default" => Tok::Default,
        "defer" => Tok::Defer,
        "else" => Tok::Else,
        "for" => Tok::For,
        "func" => Tok::Func,
        "go" => Tok::Go,
        "if" => Tok::If,
        "import" => Tok::Import,
        "range" => Tok::Range,
        "return" => Tok::Return,
        "select" => Tok::Select,
        "struct" => Tok::Struct,
        "switch" => Tok::Switch,
        "type" => Tok::Type,
        "var" => Tok::Var,
        "nil" => Tok::Nil,
        "true" => Tok::True,
        "false" => Tok::False,
        _ => return None,
    })
}

fn block_comment(lex: &mut logos::Lexer<RawTok>) -> Result<bool, LexError> {
    let rest = lex.remainder();
    match rest.windows(2).position(|w| w == b"*/") {
        Some(end) => {
            lex.bump(end + 2);
            Ok(rest[..end].contains(&b'\n'))
        }
        None => {
            lex.bump(rest.len());
            Err(LexError::at(0, "comment not terminated"))
        }
    }
}

/// Scans a number the way Go's scanner does: greedily over digits, letters,
/// `_` and `.`, then validates, so `0b102` is one token with an error at `2`.
fn number(lex: &mut logos::Lexer<RawTok>) -> Result<Tok, LexError> {
    let start = lex.span().start;
    let src = lex.source();
    let mut end = lex.span().end;
    // Greedy extent: digits, letters, '_', '.', and a sign right after an exponent letter.
    while end < src.len() {
        let c = src[end];
        let prev = src[end - 1].to_ascii_lowercase();
        let is_hex =
            src[start..].len() > 1 && src[start] == b'0' && matches!(src[start + 1], b'x' | b'X');
        let exponent_sign =
            matches!(c, b'+' | b'-') && ((prev == b'e' && !is_hex) || (prev == b'p' && is_hex));
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || exponent_sign {
            // `1..2` never happens in Weft, but `x[1:]`-like contexts need no special case;
            // stop before a second '.' so that `1.` followed by `.` is not swallowed.
            if c == b'.' && src[start..end].contains(&b'.') {
                break;
            }
            end += 1;
        } else {
            break;
        }
    }
    lex.bump(end - lex.span().end);
    parse_number(&src[start..end])
}

/// Parses one number literal's text per the Go spec.
pub fn parse_number(text: &[u8]) -> Result<Tok, LexError> {
    let lower: Vec<u8> = text.iter().map(|c| c.to_ascii_lowercase()).collect();
    let (base, prefix_len) = if lower.len() >= 2 && lower[0] == b'0' {
        match lower[1] {
            b'x' => (16, 2),
            b'o' => (8, 2),
            b'b' => (2, 2),
            _ => (10, 0),
        }
    } else {
        (10, 0)
    };
    let body = &lower[prefix_len..];
    let is_float = if base == 16 {
        body.contains(&b'.') || body.contains(&b'p')
    } else if base == 10 {
        body.contains(&b'.') || body.contains(&b'e')
    } else {
        false
    };
    // Underscores: only between digits or after a base prefix (Go's rule).
    for (i, &c) in lower.iter().enumerate() {
        if c == b'_' {
            let prev_ok =
                i > 0 && (lower[i - 1].is_ascii_hexdigit() || (i == prefix_len && prefix_len == 2));
            let next_ok = i + 1 < lower.len() && lower[i + 1].is_ascii_hexdigit();
            if !prev_ok || !next_ok {
                return Err(LexError::at(i, "'_' must separate successive digits"));
            }
        }
    }
    if is_float {
        return parse_float(&lower, base, prefix_len);
    }
    if body.is_empty() {
        return Err(LexError::at(
            text.len().saturating_sub(1),
            format!("{} literal has no digits", base_name(base)),
        ));
    }
    // Go reads a leading-0 decimal literal as octal ("0777"); a digit 8 or 9 is then invalid.
    let (base, digits_from) = if base == 10 && lower.len() > 1 && lower[0] == b'0' {
        (8, 1)
    } else {
        (base, prefix_len)
    };
    let mut value: u64 = 0;
    let mut overflow = false;
    for (i, &c) in lower.iter().enumerate().skip(digits_from) {
        if c == b'_' {
            continue;
        }
        let digit = match c {
            b'0'..=b'9' => (c - b'0') as u32,
            b'a'..=b'f' => (c - b'a' + 10) as u32,
            _ => 99,
        };
        if digit >= base {
            return Err(LexError::at(
                i,
                format!(
                    "invalid digit '{}' in {} literal",
                    c as char,
                    base_name(base)
                ),
            ));
        }
        match value
            .checked_mul(base as u64)
            .and_then(|v| v.checked_add(digit as u64))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if overflow {
        return Err(LexError::at(0, "integer literal overflows 64 bits"));
    }
    Ok(Tok::Int(value))
}

fn base_name(base: u32) -> &'static str {
    match base {
        2 => "binary",
        8 => "octal",
        16 => "hexadecimal",
        _ => "decimal",
    }
}

fn parse_float(lower: &[u8], base: u32, prefix_len: usize) -> Result<Tok, LexError> {
    let cleaned: String = lower
        .iter()
        .filter(|&&c| c != b'_')
        .map(|&c| c as char)
        .collect();
    if base == 10 {
        // Validate: digits [. digits] [e [+-] digits]
        let bytes = lower;
        let mut i = 0;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                i += 1;
            }
        }
        if i < bytes.len() && bytes[i] == b'e' {
            i += 1;
            if i < bytes.len() && matches!(bytes[i], b'+' | b'-') {
                i += 1;
            }
            let digits_start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                i += 1;
            }
            if i == digits_start {
                return Err(LexError::at(
                    i.min(bytes.len().saturating_sub(1)),
                    "exponent has no digits",
                ));
            }
        }
        if i < bytes.len() {
            return Err(LexError::at(
                i,
                format!(
                    "invalid character '{}' in decimal literal",
                    bytes[i] as char
                ),
            ));
        }
        return cleaned
            .parse::<f64>()
            .map(Tok::Float)
            .map_err(|_| LexError::at(0, "malformed float literal"));
    }
    if base != 16 {
        return Err(LexError::at(0, "invalid radix point in literal"));
    }
    // Hexadecimal float: 0x mantissa [. mantissa] p [+-] exponent.
    let body = &cleaned.as_bytes()[prefix_len..];
    let Some(p) = body.iter().position(|&c| c == b'p') else {
        return Err(LexError::at(
            lower.len() - 1,
            "hexadecimal mantissa requires a 'p' exponent",
        ));
    };
    let (mant, exp) = (&body[..p], &body[p + 1..]);
    let mut value = 0f64;
    let mut scale = 0i32;
    let mut seen_dot = false;
    let mut any_digit = false;
    for &c in mant {
        if c == b'.' {
            seen_dot = true;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else {
            return Err(LexError::at(
                0,
                format!("invalid digit '{}' in hexadecimal literal", c as char),
            ));
        };
        any_digit = true;
        value = value * 16.0 + d as f64;
        if seen_dot {
            scale -= 4;
        }
    }
    let exp_text = std::str::from_utf8(exp).unwrap_or("");
    let exp_value: i32 = match exp_text.parse() {
        Ok(v) if any_digit => v,
        _ => {
            return Err(LexError::at(
                lower.len() - 1,
                "malformed hexadecimal float literal",
            ))
        }
    };
    Ok(Tok::Float(
        value * 2f64.powi(exp_value.saturating_add(scale)),
    ))
}

/// Reads one escape after a backslash at `rest[0]`; returns the bytes it
/// stands for (UTF-8 for `\u`/`\U`, one raw byte for `\x`/octal) and its length.
fn escape(rest: &[u8], quote: u8) -> Result<(Vec<u8>, usize), LexError> {
    let Some(&c) = rest.get(1) else {
        return Err(LexError::at(0, "escape sequence not terminated"));
    };
    let simple = |b: u8| Ok((vec![b], 2));
    match c {
        b'a' => simple(7),
        b'b' => simple(8),
        b'f' => simple(12),
        b'n' => simple(b'\n'),
        b'r' => simple(b'\r'),
        b't' => simple(b'\t'),
        b'v' => simple(11),
        b'\\' => simple(b'\\'),
        b'\'' | b'"' if c == quote => simple(c),
        b'x' | b'u' | b'U' => {
            let n = match c {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let digits = rest
                .get(2..2 + n)
                .filter(|d| d.iter().all(u8::is_ascii_hexdigit));
            let Some(digits) = digits else {
                return Err(LexError::at(
                    0,
                    "invalid escape sequence: expected hexadecimal digits",
                ));
            };
            let value =
                u32::from_str_radix(std::str::from_utf8(digits).unwrap_or("0"), 16).unwrap_or(0);
            if c == b'x' {
                return Ok((vec![value as u8], 2 + n));
            }
            match char::from_u32(value) {
                Some(ch) => Ok((ch.to_string().into_bytes(), 2 + n)),
                None => Err(LexError::at(
                    0,
                    "escape sequence is invalid Unicode code point",
                )),
            }
        }
        b'0'..=b'7' => {
            let digits = rest
                .get(1..4)
                .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
            match digits {
                Some(d) => {
                    let v =
                        (d[0] - b'0') as u32 * 64 + (d[1] - b'0') as u32 * 8 + (d[2] - b'0') as u32;
                    if v > 255 {
                        Err(LexError::at(0, "octal escape value > 255"))
                    } else {
                        Ok((vec![v as u8], 4))
                    }
                }
                None => Err(LexError::at(0, "invalid octal escape sequence")),
            }
        }
        _ => Err(LexError::at(0, "unknown escape sequence")),
    }
}

fn interpreted_string(lex: &mut logos::Lexer<RawTok>) -> Result<Vec<u8>, LexError> {
    let rest = lex.remainder();
    let mut out = Vec::new();
    let mut i = 0;
    let mut first_error: Option<LexError> = None;
    loop {
        match rest.get(i) {
            None | Some(b'\n') => {
                lex.bump(i);
                return Err(LexError::at(0, "string literal not terminated"));
            }
            Some(b'"') => {
                lex.bump(i + 1);
                return match first_error {
                    Some(e) => Err(e),
                    None => Ok(out),
                };
            }
            Some(b'\\') => match escape(&rest[i..], b'"') {
                Ok((bytes, len)) => {
                    out.extend_from_slice(&bytes);
                    i += len;
                }
                Err(mut e) => {
                    e.offset = 1 + i;
                    first_error.get_or_insert(e);
                    i += 2.min(rest.len() - i);
                }
            },
            Some(&b) => {
                out.push(b);
                i += 1;
            }
        }
    }
}

fn raw_string(lex: &mut logos::Lexer<RawTok>) -> Result<Vec<u8>, LexError> {
    let rest = lex.remainder();
    match rest.iter().position(|&c| c == b'`') {
        Some(end) => {
            lex.bump(end + 1);
            // Go drops carriage returns from raw strings.
            Ok(rest[..end]
                .iter()
                .copied()
                .filter(|&c| c != b'\r')
                .collect())
        }
        None => {
            lex.bump(rest.len());
            Err(LexError::at(0, "raw string literal not terminated"))
        }
    }
}

fn rune_literal(lex: &mut logos::Lexer<RawTok>) -> Result<i64, LexError> {
    let rest = lex.remainder();
    let end = rest
        .iter()
        .take_while(|&&c| c != b'\n')
        .position(|&c| c == b'\'');
    // A `'` right after a backslash is escaped; find the real closing quote.
    let close = if rest.first() == Some(&b'\\') && rest.get(1) == Some(&b'\'') {
        rest.iter()
            .skip(2)
            .take_while(|&&c| c != b'\n')
            .position(|&c| c == b'\'')
            .map(|p| p + 2)
    } else {
        end
    };
    let Some(close) = close else {
        let line_len = rest.iter().take_while(|&&c| c != b'\n').count();
        lex.bump(line_len);
        return Err(LexError::at(0, "rune literal not terminated"));
    };
    lex.bump(close + 1);
    let body = &rest[..close];
    if body.is_empty() {
        return Err(LexError::at(
            0,
            "empty rune literal or unescaped ' in rune literal",
        ));
    }
    let value = if body[0] == b'\\' {
        let (bytes, len) = escape(body, b'\'').map_err(|mut e| {
            e.offset += 1;
            e
        })?;
        if len != body.len() {
            return Err(LexError::at(0, "more than one character in rune literal"));
        }
        match body[1] {
            b'x' | b'0'..=b'7' => bytes[0] as i64,
            _ => std::str::from_utf8(&bytes)
                .ok()
                .and_then(|s| s.chars().next())
                .map_or(0, |c| c as i64),
        }
    } else {
        let text = std::str::from_utf8(body)
            .map_err(|_| LexError::at(1, "invalid UTF-8 in rune literal"))?;
        let mut chars = text.chars();
        let c = chars.next().unwrap_or('\0');
        if chars.next().is_some() {
            return Err(LexError::at(0, "more than one character in rune literal"));
        }
        c as i64
    };
    Ok(value)
}

/// A token with its byte span.
pub type Spanned = (usize, Tok, usize);

/// Lexes `src` completely: tokens (with semicolons inserted and braces
/// classified) and the lexical diagnostics.
pub fn lex(src: &str) -> (Vec<Spanned>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut toks: Vec<Spanned> = Vec::new();
    let mut lexer = RawTok::lexer(src.as_bytes());
    // Go inserts a semicolon at a newline after these tokens.
    let ends_statement = |t: &Tok| {
        matches!(
            t,
            Tok::Ident(_)
                | Tok::Int(_)
                | Tok::Float(_)
                | Tok::Rune(_)
                | Tok::Str(_)
                | Tok::Break
                | Tok::Continue
                | Tok::Return
                | Tok::Inc
                | Tok::Dec
                | Tok::RParen
                | Tok::RBrack
                | Tok::RBrace
                | Tok::Nil
                | Tok::True
                | Tok::False
        )
    };
    let newline = |toks: &mut Vec<Spanned>, at: usize| {
        if let Some((_, last, _)) = toks.last() {
            if ends_statement(last) {
                toks.push((at, Tok::Semi, at + 1));
            }
        }
    };
    while let Some(result) = lexer.next() {
        let span = lexer.span();
        let tok = match result {
            Ok(raw) => raw,
            Err(e) => {
                // Recover a usable token for the literal kinds, so parsing goes on.
                let slice = &src.as_bytes()[span.clone()];
                let message = if e.message.is_empty() {
                    invalid_char_message(src, span.start)
                } else {
                    e.message.clone()
                };
                let at = span.start + e.offset;
                let at_end = next_char_boundary(src, at);
                diags.push(Diagnostic::error(Span::new(at, at_end.max(at)), message));
                match slice.first() {
                    Some(b'"') | Some(b'`') => RawTok::Str(Vec::new()),
                    Some(b'\'') => RawTok::Rune(0),
                    Some(b'/') => RawTok::BlockComment(slice.contains(&b'\n')),
                    Some(c) if c.is_ascii_digit() || *c == b'.' => RawTok::Number(Tok::Int(0)),
                    _ => {
                        // An invalid character: skip it (only its UTF-8 sequence).
                        let skip = next_char_boundary(src, span.start)
                            - span.end.min(next_char_boundary(src, span.start));
                        lexer.bump(skip.min(src.len() - span.end));
                        continue;
                    }
                }
            }
        };
        let tok = match tok {
            RawTok::Newline => {
                newline(&mut toks, span.start);
                continue;
            }
            RawTok::BlockComment(spans_newline) => {
                if spans_newline {
                    newline(&mut toks, span.start);
                }
                continue;
            }
            RawTok::Ident(name) => keyword(&name).unwrap_or(Tok::Ident(name)),
            RawTok::Number(t) => t,
            RawTok::Str(s) | RawTok::RawStr(s) => Tok::Str(s),
            RawTok::Rune(r) => Tok::Rune(r),
            RawTok::Plus => Tok::Plus,
            RawTok::Minus => Tok::Minus,
            RawTok::Star => Tok::Star,
            RawTok::Slash => Tok::Slash,
            RawTok::Percent => Tok::Percent,
            RawTok::Amp => Tok::Amp,
            RawTok::Pipe => Tok::Pipe,
            RawTok::Caret => Tok::Caret,
            RawTok::Shl => Tok::Shl,
            RawTok::Shr => Tok::Shr,
            RawTok::AndNot => Tok::AndNot,
            RawTok::PlusAssign => Tok::PlusAssign,
            RawTok::MinusAssign => Tok::MinusAssign,
            RawTok::StarAssign => Tok::StarAssign,
            RawTok::SlashAssign => Tok::SlashAssign,
            RawTok::PercentAssign => Tok::PercentAssign,
            RawTok::AmpAssign => Tok::AmpAssign,
            RawTok::PipeAssign => Tok::PipeAssign,
            RawTok::CaretAssign => Tok::CaretAssign,
            RawTok::ShlAssign => Tok::ShlAssign,
            RawTok::ShrAssign => Tok::ShrAssign,
            RawTok::AndNotAssign => Tok::AndNotAssign,
            RawTok::AndAnd => Tok::AndAnd,
            RawTok::OrOr => Tok::OrOr,
            RawTok::Arrow => Tok::Arrow,
            RawTok::Inc => Tok::Inc,
            RawTok::Dec => Tok::Dec,
            RawTok::EqEq => Tok::EqEq,
            RawTok::NotEq => Tok::NotEq,
            RawTok::Lt => Tok::Lt,
            RawTok::Le => Tok::Le,
            RawTok::Gt => Tok::Gt,
            RawTok::Ge => Tok::Ge,
            RawTok::Assign => Tok::Assign,
            RawTok::Define => Tok::Define,
            RawTok::Not => Tok::Not,
            RawTok::Ellipsis => Tok::Ellipsis,
            RawTok::LParen => Tok::LParen,
            RawTok::RParen => Tok::RParen,
            RawTok::LBrack => Tok::LBrack,
            RawTok::RBrack => Tok::RBrack,
            RawTok::LBrace => Tok::LBrace,
            RawTok::RBrace => Tok::RBrace,
            RawTok::Comma => Tok::Comma,
            RawTok::Dot => Tok::Dot,
            RawTok::Semi => Tok::Semi,
            RawTok::Colon => Tok::Colon,
        };
        toks.push((span.start, tok, span.end));
    }
    // Go inserts a semicolon at the end of the file too.
    newline(&mut toks, src.len());
    if let Some(last) = toks.last_mut() {
        if last.1 == Tok::Semi && last.0 == src.len() {
            last.2 = src.len();
        }
    }
    if let Err(d) = classify_braces(&mut toks) {
        diags.push(d);
        toks.clear();
    }
    (toks, diags)
}

fn next_char_boundary(src: &str, at: usize) -> usize {
    let mut end = (at + 1).min(src.len());
    while end < src.len() && !src.is_char_boundary(end) {
        end += 1;
    }
    end
}

fn invalid_char_message(src: &str, at: usize) -> String {
    match src.get(at..).and_then(|s| s.chars().next()) {
        Some(c) if !src.is_char_boundary(at) || c == '\u{FFFD}' => "invalid UTF-8 encoding".into(),
        Some(c) => format!("invalid character U+{:04X} '{}'", c as u32, c),
        None => "invalid UTF-8 encoding".into(),
    }
}

#[derive(Debug)]
enum FrameKind {
    /// Inside a block (or the file's top level).
    Block { header: bool, at_stmt_start: bool },
    /// Inside a composite literal's braces.
    Composite,
    /// Inside `( )` or `[ ]`.
    Paren,
}

#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    /// `func` keywords seen at this level whose body `{` has not come yet.
    pending_func_bodies: u32,
}

/// Tags block-opening braces as [`Tok::LBlock`] (see the module doc) and bounds
/// the nesting depth.
fn classify_braces(toks: &mut [Spanned]) -> Result<(), Diagnostic> {
    let mut stack = vec![Frame {
        kind: FrameKind::Block {
            header: false,
            at_stmt_start: true,
        },
        pending_func_bodies: 0,
    }];
    for (start, tok, end) in toks.iter_mut() {
        let span = Span::new(*start, *end);
        let top = stack.len() - 1;
        match tok {
            Tok::LParen | Tok::LBrack => {
                stack.push(Frame {
                    kind: FrameKind::Paren,
                    pending_func_bodies: 0,
                });
            }
            Tok::RParen | Tok::RBrack => {
                if matches!(stack[top].kind, FrameKind::Paren) && top > 0 {
                    stack.pop();
                }
                mark_not_stmt_start(&mut stack);
            }
            Tok::LBrace => {
                let frame = &mut stack[top];
                let opens_block = if frame.pending_func_bodies > 0 {
                    frame.pending_func_bodies -= 1;
                    true
                } else {
                    match &mut frame.kind {
                        FrameKind::Block {
                            header,
                            at_stmt_start,
                        } => {
                            let block = *header || *at_stmt_start;
                            *header = false;
                            block
                        }
                        _ => false,
                    }
                };
                if opens_block {
                    *tok = Tok::LBlock;
                    stack.push(Frame {
                        kind: FrameKind::Block {
                            header: false,
                            at_stmt_start: true,
                        },
                        pending_func_bodies: 0,
                    });
                } else {
                    stack.push(Frame {
                        kind: FrameKind::Composite,
                        pending_func_bodies: 0,
                    });
                }
            }
            Tok::RBrace => {
                // Close the innermost brace frame (unbalanced parentheses inside are dropped).
                while stack.len() > 1 && matches!(stack[stack.len() - 1].kind, FrameKind::Paren) {
                    stack.pop();
                }
                if stack.len() > 1 {
                    stack.pop();
                }
                mark_not_stmt_start(&mut stack);
            }
            Tok::If | Tok::For | Tok::Switch | Tok::Select | Tok::Else => {
                if let FrameKind::Block {
                    header,
                    at_stmt_start,
                } = &mut stack[top].kind
                {
                    *header = true;
                    *at_stmt_start = false;
                }
            }
            Tok::Func => {
                stack[top].pending_func_bodies += 1;
                mark_not_stmt_start(&mut stack);
            }
            Tok::Semi | Tok::Colon => {
                if let FrameKind::Block { at_stmt_start, .. } = &mut stack[top].kind {
                    *at_stmt_start = true;
                }
            }
            _ => mark_not_stmt_start(&mut stack),
        }
        if stack.len() > MAX_BRACKET_NESTING {
            return Err(Diagnostic::error(
                span,
                format!("nesting too deep (more than {MAX_BRACKET_NESTING} levels of brackets)"),
            ));
        }
    }
    Ok(())
}

fn mark_not_stmt_start(stack: &mut [Frame]) {
    if let Some(Frame {
        kind: FrameKind::Block { at_stmt_start, .. },
        ..
    }) = stack.last_mut()
    {
        *at_stmt_start = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        let (toks, diags) = lex(src);
        assert!(diags.is_empty(), "{diags:?}");
        toks.into_iter().map(|t| t.1).collect()
    }

    #[test]
    fn semicolons_are_inserted_after_statement_enders() {
        let toks = kinds("x := 1\ny++\nf(\n1,\n)\n");
        let semis = toks.iter().filter(|t| **t == Tok::Semi).count();
        assert_eq!(semis, 3, "{toks:?}");
    }

    #[test]
    fn numbers_follow_go() {
        assert_eq!(parse_number(b"0x_dead_BEEF"), Ok(Tok::Int(0xdeadbeef)));
        assert_eq!(parse_number(b"0o17"), Ok(Tok::Int(15)));
        assert_eq!(parse_number(b"0777"), Ok(Tok::Int(511)));
        assert_eq!(parse_number(b"1_000"), Ok(Tok::Int(1000)));
        assert_eq!(parse_number(b"0x1p4"), Ok(Tok::Float(16.0)));
        assert_eq!(parse_number(b"1."), Ok(Tok::Float(1.0)));
        assert_eq!(parse_number(b".25"), Ok(Tok::Float(0.25)));
        assert_eq!(parse_number(b"2.5e-3"), Ok(Tok::Float(0.0025)));
        assert_eq!(parse_number(b"0b102").unwrap_err().offset, 4);
        assert!(parse_number(b"1__0").is_err());
        assert!(parse_number(b"18446744073709551616").is_err());
    }

    #[test]
    fn string_escapes_decode_to_bytes() {
        let toks = kinds(r#""a\x41\u00e9\n\xff""#);
        assert_eq!(toks[0], Tok::Str(b"aA\xc3\xa9\n\xff".to_vec()));
        assert_eq!(kinds(r"'\''")[0], Tok::Rune(39));
        assert_eq!(kinds("'世'")[0], Tok::Rune('世' as i64));
    }

    #[test]
    fn braces_are_classified_by_context() {
        let toks = kinds("if x { m := {1: T{2}} }");
        assert_eq!(toks[2], Tok::LBlock);
        assert_eq!(toks[5], Tok::LBrace);
        assert_eq!(toks[9], Tok::LBrace);
        let toks = kinds("f := func() { }");
        assert_eq!(toks[5], Tok::LBlock);
        let toks = kinds("if f := func() { }; f() { }");
        assert_eq!(toks[6], Tok::LBlock);
        assert_eq!(toks[12], Tok::LBlock);
    }

    #[test]
    fn errors_point_at_the_offending_byte() {
        let (_, d) = lex("x := 0b102");
        assert_eq!(d[0].span.start, 9);
        let (_, d) = lex("s := \"abc\n");
        assert_eq!(d[0].span.start, 5);
        let (_, d) = lex("x := 1 @ 2");
        assert_eq!(d[0].span.start, 7);
    }
}
