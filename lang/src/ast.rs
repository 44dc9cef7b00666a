//! The syntax tree the parser builds and the resolver and compiler read.
//!
//! Every node that a diagnostic or a line table may name carries its [`Span`].
//! Names are [`Ident`]s; a name occurrence is identified by the start offset of
//! its span, which is unique within a file (the resolver keys its tables by it).
//! The tree's depth is bounded by the parser (see `parser::MAX_EXPR_DEPTH`), so
//! the recursive passes over it cannot overflow the Rust stack.

use crate::span::Span;
use std::rc::Rc;

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: Rc<str>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Height of this subtree (1 for a leaf); bounded by the parser.
    pub depth: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
    BitNot,
    Recv,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
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
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        use BinOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Mod => "%",
            BitAnd => "&",
            BitOr => "|",
            BitXor => "^",
            AndNot => "&^",
            Shl => "<<",
            Shr => ">>",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            AndAnd => "&&",
            OrOr => "||",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Nil,
    Bool(bool),
    /// An integer literal. `u64` so that `-9223372036854775808` can fold;
    /// the compiler rejects values above `i64::MAX` that were not negated.
    Int(u64),
    Float(f64),
    Str(Rc<[u8]>),
    Name(Ident),
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// `{k: v, ...}`
    Map(Vec<(Expr, Expr)>),
    /// `T{a, b}` or `T{x: a}` (`ty` is a name or `module.Name`).
    Composite {
        ty: Box<Expr>,
        elems: Vec<(Option<Ident>, Expr)>,
    },
    Func(Rc<FuncLit>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        spread: bool,
    },
    Index(Box<Expr>, Box<Expr>),
    Slice {
        base: Box<Expr>,
        lo: Option<Box<Expr>>,
        hi: Option<Box<Expr>>,
    },
    Field(Box<Expr>, Ident),
    /// The `chan` keyword as an operand (`make(chan)`, `make(chan, n)`).
    ChanType,
    /// Stands in for an expression that failed to parse.
    Bad,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span, depth: u32) -> Expr {
        Expr { kind, span, depth }
    }

    pub fn leaf(kind: ExprKind, span: Span) -> Expr {
        Expr {
            kind,
            span,
            depth: 1,
        }
    }

    pub fn as_name(&self) -> Option<&Ident> {
        match &self.kind {
            ExprKind::Name(id) => Some(id),
            _ => None,
        }
    }

    /// Whether this is a call (or a receive): the expressions Go allows as statements.
    pub fn is_call_or_recv(&self) -> bool {
        matches!(
            self.kind,
            ExprKind::Call { .. } | ExprKind::Unary(UnOp::Recv, _)
        )
    }
}

/// A function literal or the function part of a declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct FuncLit {
    pub params: Vec<Ident>,
    /// The last parameter collects extra arguments into a list (`xs...`).
    pub variadic: bool,
    pub body: Block,
    /// From `func` to the closing brace.
    pub span: Span,
    /// Name for tracebacks (`main.add`, `main.(*Point).Norm`, `main.main.func1`).
    pub name: Rc<str>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Plain,
    Op(BinOp),
}

/// One `const` or `var` line: names, values (a `const` line may repeat the
/// previous line's values, already copied in by the parser), and `iota`.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueSpec {
    pub names: Vec<Ident>,
    pub values: Vec<Expr>,
    pub iota: i64,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ImportSpec {
    pub alias: Option<Ident>,
    pub path: Rc<str>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FuncDecl {
    pub name: Ident,
    /// `(p Point)`: the receiver's name and its type's name.
    pub receiver: Option<(Ident, Ident)>,
    pub func: Rc<FuncLit>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeDecl {
    pub name: Ident,
    pub fields: Vec<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CaseClause {
    /// Empty for `default`.
    pub exprs: Vec<Expr>,
    pub is_default: bool,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CommKind {
    /// `case ch <- v:`
    Send {
        chan: Expr,
        value: Expr,
    },
    /// `case <-ch:`, `case v := <-ch:`, `case v, ok = <-ch:`
    Recv {
        lhs: Vec<Expr>,
        define: bool,
        chan: Expr,
    },
    Default,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CommClause {
    pub comm: CommKind,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ForKind {
    /// `for {}` / `for cond {}` / `for init; cond; post {}`
    Loop {
        init: Option<Box<Stmt>>,
        cond: Option<Expr>,
        post: Option<Box<Stmt>>,
    },
    /// `for k, v := range x {}`; `define` false for `=`, keys absent for `for range x`.
    Range {
        key: Option<Expr>,
        value: Option<Expr>,
        define: bool,
        expr: Expr,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Expr(Expr),
    /// `a, b := x, y` (`op_span` is the `:=`).
    Define {
        lhs: Vec<Expr>,
        rhs: Vec<Expr>,
        op_span: Span,
    },
    /// `a, b = x, y` or `a += x`.
    Assign {
        lhs: Vec<Expr>,
        op: AssignOp,
        rhs: Vec<Expr>,
        op_span: Span,
    },
    IncDec {
        target: Expr,
        inc: bool,
    },
    Send {
        chan: Expr,
        value: Expr,
    },
    Var(Vec<ValueSpec>),
    Const(Vec<ValueSpec>),
    Import(Vec<ImportSpec>),
    Func(FuncDecl),
    Type(Vec<TypeDecl>),
    Block(Block),
    If {
        init: Option<Box<Stmt>>,
        cond: Expr,
        then: Block,
        els: Option<Box<Stmt>>,
    },
    For {
        kind: ForKind,
        body: Block,
    },
    Switch {
        init: Option<Box<Stmt>>,
        tag: Option<Expr>,
        cases: Vec<CaseClause>,
    },
    Select {
        cases: Vec<CommClause>,
    },
    Labeled {
        label: Ident,
        stmt: Box<Stmt>,
    },
    Break(Option<Ident>),
    Continue(Option<Ident>),
    Return(Vec<Expr>),
    Go(Expr),
    Defer(Expr),
    Empty,
    /// Stands in for a statement that failed to parse.
    Bad,
}

/// A parsed file: its top-level statements in order.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub stmts: Vec<Stmt>,
}
