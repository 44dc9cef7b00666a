//! The resolver: what every name means, and the static errors of the language.
//!
//! One walk over a file's AST decides, for every name occurrence, whether it is
//! a local of the running function, an upvalue (a local of an enclosing function,
//! which is then marked *captured* so the compiler keeps it in a heap cell), a
//! module global, a builtin or `iota`. It reports undefined names, `:=` without
//! a new name, assignments to constants, duplicate declarations, misplaced
//! `break`/`continue`, unknown labels, assignment-count mismatches and use of
//! names a file module does not export.
//!
//! Scoping follows Go: top-level functions, types and imports are visible in the
//! whole module; top-level variables and constants from their declaration on
//! (top-level statements run in order); function bodies see every global.
//! Results are keyed by the start offset of each name's span (unique in a file).

use crate::ast::*;
use crate::bytecode::builtin_index;
use crate::diag::Diagnostic;
use crate::span::Span;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// Index into [`Resolution::bindings`].
pub type BindingId = u32;

/// What a name occurrence refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Res {
    /// A local variable of the function being compiled.
    Local(BindingId),
    /// Upvalue `n` of the function being compiled.
    Upvalue(u8),
    /// A global slot of the module.
    Global(u16),
    Builtin(u8),
    Iota,
    /// The blank identifier `_` (only as an assignment target).
    Blank,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingKind {
    Var,
    Const,
    Param,
}

#[derive(Clone, Debug)]
pub struct Binding {
    pub name: Rc<str>,
    pub span: Span,
    pub kind: BindingKind,
    /// Referenced from a nested function: the compiler keeps it in a cell.
    pub captured: bool,
}

/// Where an upvalue of a function comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Capture {
    /// A local of the directly enclosing function.
    ParentLocal(BindingId),
    /// Upvalue `n` of the directly enclosing function.
    ParentUpvalue(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalKind {
    Var,
    Const,
    Func,
    Type,
    /// An imported module; the index into [`Resolution::imports`].
    Import(u16),
}

#[derive(Clone, Debug)]
pub struct Global {
    pub name: Rc<str>,
    pub span: Span,
    pub kind: GlobalKind,
}

impl Global {
    /// Go's rule: visible to importers when the name starts with an upper-case letter.
    pub fn is_exported(&self) -> bool {
        self.name.chars().next().is_some_and(char::is_uppercase)
    }
}

/// What the resolver knows of an imported module.
#[derive(Clone, Debug)]
pub enum ModuleInterface {
    /// A standard module: members are checked at run time.
    Std,
    /// A file module and the names it exports.
    File { exports: HashSet<Rc<str>> },
}

#[derive(Default, Debug)]
pub struct Resolution {
    pub uses: HashMap<u32, Res>,
    /// The binding each declaring name introduces (locals and params).
    pub decls: HashMap<u32, BindingId>,
    pub bindings: Vec<Binding>,
    /// Upvalues of each function, keyed by the function's span start.
    pub upvalues: HashMap<u32, Vec<(Capture, Rc<str>)>>,
    pub globals: Vec<Global>,
    /// Import paths, by import index, in order of appearance.
    pub imports: Vec<Rc<str>>,
    /// The global slot of `func main`, if declared.
    pub main: Option<u16>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Breakable {
    Loop,
    Switch,
    Select,
}

struct FnCtx {
    key: u32,
    scopes: Vec<HashMap<Rc<str>, BindingId>>,
    upvalues: Vec<(Capture, Rc<str>)>,
    /// Breakable statements around the current point, innermost last, with labels.
    breakables: Vec<(Breakable, Option<Rc<str>>)>,
    /// Whether this is the module's top-level code (its outermost scope declares globals).
    is_module_init: bool,
    /// Iota of the const spec being resolved.
    iota: Option<i64>,
    /// Labels declared in this function (Go: unique per function).
    labels: HashMap<Rc<str>, Span>,
}

pub struct Resolver<'a> {
    res: Resolution,
    diags: Vec<Diagnostic>,
    fns: Vec<FnCtx>,
    globals_by_name: HashMap<Rc<str>, u16>,
    /// Globals visible to top-level code so far (functions see all).
    visible_globals: HashSet<u16>,
    interfaces: &'a HashMap<Rc<str>, ModuleInterface>,
    /// Receiver type name -> method names, to catch duplicates.
    methods: HashMap<Rc<str>, HashMap<Rc<str>, Span>>,
    type_fields: HashMap<Rc<str>, Vec<Rc<str>>>,
    /// Set by a lookup that needed a 256th upvalue; reported at the name.
    capture_overflow: bool,
}

/// Resolves a whole file. `interfaces` maps each import path to what is known of it.
pub fn resolve_file(
    file: &File,
    interfaces: &HashMap<Rc<str>, ModuleInterface>,
) -> (Resolution, Vec<Diagnostic>) {
    let mut r = Resolver {
        res: Resolution::default(),
        diags: Vec::new(),
        fns: Vec::new(),
        globals_by_name: HashMap::new(),
        visible_globals: HashSet::new(),
        interfaces,
        methods: HashMap::new(),
        type_fields: HashMap::new(),
        capture_overflow: false,
    };
    r.file(file);
    r.diags.sort_by_key(|d| d.span.start);
    (r.res, r.diags)
}

impl<'a> Resolver<'a> {
    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diags.push(Diagnostic::error(span, message));
    }

    fn declare_global(&mut self, id: &Ident, kind: GlobalKind) -> Option<u16> {
        if &*id.name == "_" {
            return None;
        }
        if let Some(&slot) = self.globals_by_name.get(&id.name) {
            let prev = self.res.globals[slot as usize].span;
            self.diags.push(
                Diagnostic::error(id.span, format!("{} redeclared in this block", id.name))
                    .with_note(prev, "other declaration here"),
            );
            return Some(slot);
        }
        if self.res.globals.len() >= u16::MAX as usize {
            self.error(id.span, "too many global names in one module");
            return None;
        }
        let slot = self.res.globals.len() as u16;
        self.res.globals.push(Global {
            name: id.name.clone(),
            span: id.span,
            kind,
        });
        self.globals_by_name.insert(id.name.clone(), slot);
        self.res.uses.insert(id.span.start, Res::Global(slot));
        Some(slot)
    }

    fn file(&mut self, file: &File) {
        // Pass 1: names visible in the whole module (imports, types, functions).
        for stmt in &file.stmts {
            match &stmt.kind {
                StmtKind::Import(specs) => {
                    for spec in specs {
                        let name = match &spec.alias {
                            Some(a) => a.clone(),
                            None => Ident {
                                name: Rc::from(import_binding_name(&spec.path)),
                                span: spec.span,
                            },
                        };
                        let idx = self.res.imports.len() as u16;
                        self.res.imports.push(spec.path.clone());
                        if let Some(slot) = self.declare_global(&name, GlobalKind::Import(idx)) {
                            self.visible_globals.insert(slot);
                            self.res.uses.insert(spec.span.start, Res::Global(slot));
                        }
                    }
                }
                StmtKind::Type(decls) => {
                    for d in decls {
                        if let Some(slot) = self.declare_global(&d.name, GlobalKind::Type) {
                            self.visible_globals.insert(slot);
                        }
                        let mut seen: HashMap<Rc<str>, Span> = HashMap::new();
                        for f in &d.fields {
                            if let Some(prev) = seen.insert(f.name.clone(), f.span) {
                                self.diags.push(
                                    Diagnostic::error(
                                        f.span,
                                        format!("duplicate field {}", f.name),
                                    )
                                    .with_note(prev, "other declaration of the field"),
                                );
                            }
                        }
                        self.type_fields.insert(
                            d.name.name.clone(),
                            d.fields.iter().map(|f| f.name.clone()).collect(),
                        );
                    }
                }
                StmtKind::Func(decl) if decl.receiver.is_none() => {
                    if let Some(slot) = self.declare_global(&decl.name, GlobalKind::Func) {
                        self.visible_globals.insert(slot);
                        if &*decl.name.name == "main" {
                            self.res.main = Some(slot);
                        }
                    }
                }
                _ => {}
            }
        }
        // Pass 2: top-level code in order, in the module-init function.
        self.push_fn(u32::MAX, true);
        for stmt in &file.stmts {
            self.top_level_stmt(stmt);
        }
        let init = self.fns.pop();
        debug_assert!(init.is_some_and(|f| f.upvalues.is_empty()));
        // Pass 3: function bodies, which see every global.
        let all: Vec<u16> = (0..self.res.globals.len() as u16).collect();
        self.visible_globals.extend(all);
        for stmt in &file.stmts {
            if let StmtKind::Func(decl) = &stmt.kind {
                self.func_decl_body(decl);
            }
        }
    }

    fn top_level_stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Import(_) | StmtKind::Type(_) => {}
            StmtKind::Func(decl) => {
                if let Some((_, ty)) = &decl.receiver {
                    if !self.type_fields.contains_key(&ty.name) {
                        self.error(ty.span, format!("undefined: {}", ty.name));
                        return;
                    }
                    let fields_clash = self
                        .type_fields
                        .get(&ty.name)
                        .is_some_and(|f| f.contains(&decl.name.name));
                    if fields_clash {
                        self.error(
                            decl.name.span,
                            format!("field and method with the same name {}", decl.name.name),
                        );
                    }
                    let table = self.methods.entry(ty.name.clone()).or_default();
                    if let Some(prev) = table.insert(decl.name.name.clone(), decl.name.span) {
                        self.diags.push(
                            Diagnostic::error(
                                decl.name.span,
                                format!("method {}.{} already declared", ty.name, decl.name.name),
                            )
                            .with_note(prev, "other declaration here"),
                        );
                    }
                }
            }
            _ => self.stmt(stmt),
        }
    }

    fn push_fn(&mut self, key: u32, is_module_init: bool) {
        self.fns.push(FnCtx {
            key,
            scopes: vec![HashMap::new()],
            upvalues: Vec::new(),
            breakables: Vec::new(),
            is_module_init,
            iota: None,
            labels: HashMap::new(),
        });
    }

    fn pop_fn(&mut self) {
        if let Some(f) = self.fns.pop() {
            self.res.upvalues.insert(f.key, f.upvalues);
        }
    }

    fn func_decl_body(&mut self, decl: &FuncDecl) {
        self.push_fn(decl.func.span.start, false);
        if let Some((recv, _)) = &decl.receiver {
            self.declare_local(recv, BindingKind::Param);
            if let Some(p) = decl
                .func
                .params
                .iter()
                .find(|p| p.name == recv.name && &*p.name != "_")
            {
                self.error(p.span, format!("duplicate argument {}", p.name));
            }
        }
        self.params_and_body(&decl.func);
        self.pop_fn();
    }

    fn func_lit(&mut self, lit: &FuncLit) {
        self.push_fn(lit.span.start, false);
        self.params_and_body(lit);
        self.pop_fn();
    }

    fn params_and_body(&mut self, lit: &FuncLit) {
        let mut seen: HashMap<Rc<str>, Span> = HashMap::new();
        for p in &lit.params {
            if &*p.name != "_" && seen.insert(p.name.clone(), p.span).is_some() {
                self.error(p.span, format!("duplicate argument {}", p.name));
                continue;
            }
            self.declare_local(p, BindingKind::Param);
        }
        // The body shares the parameters' scope, as in Go.
        for s in &lit.body.stmts {
            self.stmt(s);
        }
    }

    fn at_module_top(&self) -> bool {
        self.fns
            .last()
            .is_some_and(|f| f.is_module_init && f.scopes.len() == 1)
    }

    /// Declares a variable or constant in the current scope (a global at the module's top level).
    fn declare(&mut self, id: &Ident, kind: BindingKind) {
        if self.at_module_top() {
            let gkind = if kind == BindingKind::Const {
                GlobalKind::Const
            } else {
                GlobalKind::Var
            };
            if let Some(slot) = self.declare_global(id, gkind) {
                self.visible_globals.insert(slot);
            }
        } else {
            self.declare_local(id, kind);
        }
    }

    fn declare_local(&mut self, id: &Ident, kind: BindingKind) {
        let b = self.res.bindings.len() as BindingId;
        self.res.bindings.push(Binding {
            name: id.name.clone(),
            span: id.span,
            kind,
            captured: false,
        });
        self.res.decls.insert(id.span.start, b);
        if &*id.name == "_" {
            return;
        }
        let Some(f) = self.fns.last_mut() else { return };
        let scope = f.scopes.last_mut().expect("a function always has a scope");
        if let Some(prev) = scope.insert(id.name.clone(), b) {
            if kind != BindingKind::Param {
                let prev_span = self.res.bindings[prev as usize].span;
                self.diags.push(
                    Diagnostic::error(id.span, format!("{} redeclared in this block", id.name))
                        .with_note(prev_span, "other declaration here"),
                );
            }
        }
    }

    fn in_current_scope(&self, name: &str) -> bool {
        if self.at_module_top() {
            return self
                .globals_by_name
                .get(name)
                .is_some_and(|s| self.visible_globals.contains(s));
        }
        self.fns
            .last()
            .and_then(|f| f.scopes.last())
            .is_some_and(|s| s.contains_key(name))
    }

    fn push_scope(&mut self) {
        if let Some(f) = self.fns.last_mut() {
            f.scopes.push(HashMap::new());
        }
    }

    fn pop_scope(&mut self) {
        if let Some(f) = self.fns.last_mut() {
            f.scopes.pop();
        }
    }

    /// Looks a name up from the innermost function outwards.
    fn lookup(&mut self, name: &Rc<str>) -> Option<Res> {
        if &**name == "_" {
            return Some(Res::Blank);
        }
        let depth = self.fns.len();
        if let Some(res) = self.lookup_in_fn(depth - 1, name) {
            return Some(res);
        }
        if let Some(&slot) = self.globals_by_name.get(name) {
            if self.visible_globals.contains(&slot) {
                return Some(Res::Global(slot));
            }
        }
        if &**name == "iota" && self.fns.last().is_some_and(|f| f.iota.is_some()) {
            return Some(Res::Iota);
        }
        builtin_index(name).map(Res::Builtin)
    }

    /// Resolves `name` as seen from function `level`, threading upvalues through.
    fn lookup_in_fn(&mut self, level: usize, name: &Rc<str>) -> Option<Res> {
        let f = &self.fns[level];
        for scope in f.scopes.iter().rev() {
            if let Some(&b) = scope.get(name) {
                return Some(Res::Local(b));
            }
        }
        if let Some(i) = f.upvalues.iter().position(|(_, n)| n == name) {
            return Some(Res::Upvalue(i as u8));
        }
        // Top-level functions and the module-init function have no enclosing locals.
        if level == 0 {
            return None;
        }
        let capture = match self.lookup_in_fn(level - 1, name)? {
            Res::Local(b) => {
                self.res.bindings[b as usize].captured = true;
                Capture::ParentLocal(b)
            }
            Res::Upvalue(i) => Capture::ParentUpvalue(i),
            other => return Some(other),
        };
        let f = &mut self.fns[level];
        if f.upvalues.len() >= 255 {
            self.capture_overflow = true;
            return Some(Res::Upvalue(0));
        }
        f.upvalues.push((capture, name.clone()));
        Some(Res::Upvalue((f.upvalues.len() - 1) as u8))
    }

    /// Looks a name up and reports a capture beyond the upvalue limit at it.
    fn lookup_at(&mut self, id: &Ident) -> Option<Res> {
        let res = self.lookup(&id.name);
        if std::mem::take(&mut self.capture_overflow) {
            self.error(
                id.span,
                format!(
                    "function captures too many variables (more than 255): {}",
                    id.name
                ),
            );
        }
        res
    }

    fn use_name(&mut self, id: &Ident) -> Option<Res> {
        match self.lookup_at(id) {
            Some(Res::Blank) => {
                self.error(id.span, "cannot use _ as value");
                None
            }
            Some(res) => {
                self.res.uses.insert(id.span.start, res);
                Some(res)
            }
            None => {
                self.error(id.span, format!("undefined: {}", id.name));
                None
            }
        }
    }

    // ------------------------------------------------------------ statements

    fn block(&mut self, b: &Block) {
        self.push_scope();
        for s in &b.stmts {
            self.stmt(s);
        }
        self.pop_scope();
    }

    fn stmts_in_scope(&mut self, stmts: &[Stmt]) {
        self.push_scope();
        for s in stmts {
            self.stmt(s);
        }
        self.pop_scope();
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Expr(e) => {
                self.expr(e);
                if !e.is_call_or_recv() && !matches!(e.kind, ExprKind::Bad) {
                    self.error(e.span, "expression is evaluated but not used");
                }
            }
            StmtKind::Define { lhs, rhs, op_span } => self.define(lhs, rhs, *op_span),
            StmtKind::Assign { lhs, op, rhs, .. } => {
                if *op == AssignOp::Plain {
                    self.check_counts(lhs.len(), rhs);
                }
                for e in rhs {
                    self.expr(e);
                }
                for e in lhs {
                    self.assign_target(e);
                }
            }
            StmtKind::IncDec { target, .. } => self.assign_target(target),
            StmtKind::Send { chan, value } => {
                self.expr(chan);
                self.expr(value);
            }
            StmtKind::Var(specs) => {
                for spec in specs {
                    if !spec.values.is_empty() {
                        self.check_counts(spec.names.len(), &spec.values);
                    }
                    for v in &spec.values {
                        self.expr(v);
                    }
                    for n in &spec.names {
                        self.declare(n, BindingKind::Var);
                    }
                }
            }
            StmtKind::Const(specs) => {
                for spec in specs {
                    if spec.values.len() != spec.names.len() {
                        let at = spec.values.first().map_or(spec.span, |v| v.span);
                        self.error(
                            at,
                            format!(
                                "assignment mismatch: {} constants but {} values",
                                spec.names.len(),
                                spec.values.len()
                            ),
                        );
                    }
                    if let Some(f) = self.fns.last_mut() {
                        f.iota = Some(spec.iota);
                    }
                    for v in &spec.values {
                        self.expr(v);
                    }
                    if let Some(f) = self.fns.last_mut() {
                        f.iota = None;
                    }
                    for n in &spec.names {
                        self.declare(n, BindingKind::Const);
                    }
                }
            }
            StmtKind::Import(specs) => {
                if let Some(s) = specs.first() {
                    self.error(s.span, "imports must appear at the top level of a file");
                }
            }
            StmtKind::Func(decl) => self.error(
                decl.name.span,
                "function declarations must appear at the top level; use a function literal",
            ),
            StmtKind::Type(decls) => {
                if let Some(d) = decls.first() {
                    self.error(
                        d.name.span,
                        "type declarations must appear at the top level of a file",
                    );
                }
            }
            StmtKind::Block(b) => self.block(b),
            StmtKind::If { .. } => self.if_stmt(stmt),
            StmtKind::For { kind, body } => self.for_stmt(kind, body, None),
            StmtKind::Switch { init, tag, cases } => self.switch_stmt(init, tag, cases, None),
            StmtKind::Select { cases } => self.select_stmt(cases, None),
            StmtKind::Labeled { label, stmt: inner } => {
                let name = Some(label.name.clone());
                let previous = self
                    .fns
                    .last_mut()
                    .and_then(|f| f.labels.insert(label.name.clone(), label.span));
                if let Some(prev) = previous {
                    self.diags.push(
                        Diagnostic::error(
                            label.span,
                            format!("label {} already defined", label.name),
                        )
                        .with_note(prev, "previous definition"),
                    );
                }
                match &inner.kind {
                    StmtKind::For { kind, body } => self.for_stmt(kind, body, name),
                    StmtKind::Switch { init, tag, cases } => {
                        self.switch_stmt(init, tag, cases, name)
                    }
                    StmtKind::Select { cases } => self.select_stmt(cases, name),
                    _ => self.stmt(inner),
                }
            }
            StmtKind::Break(label) => self.branch(stmt.span, label.as_ref(), false),
            StmtKind::Continue(label) => self.branch(stmt.span, label.as_ref(), true),
            StmtKind::Return(values) => {
                if self.fns.last().is_some_and(|f| f.is_module_init) {
                    self.error(stmt.span, "return outside a function");
                }
                for v in values {
                    self.expr(v);
                }
            }
            StmtKind::Go(e) | StmtKind::Defer(e) => {
                let what = if matches!(stmt.kind, StmtKind::Go(_)) {
                    "go"
                } else {
                    "defer"
                };
                if !matches!(e.kind, ExprKind::Call { .. }) {
                    self.error(
                        e.span,
                        format!("expression in {what} must be function call"),
                    );
                }
                self.expr(e);
            }
            StmtKind::Empty | StmtKind::Bad => {}
        }
    }

    fn branch(&mut self, span: Span, label: Option<&Ident>, is_continue: bool) {
        let word = if is_continue { "continue" } else { "break" };
        let Some(f) = self.fns.last() else { return };
        match label {
            None => {
                let ok = if is_continue {
                    f.breakables.iter().any(|(k, _)| *k == Breakable::Loop)
                } else {
                    !f.breakables.is_empty()
                };
                if !ok {
                    let msg = if is_continue {
                        "continue is not in a loop"
                    } else {
                        "break is not in a loop, switch, or select"
                    };
                    self.error(span, msg);
                }
            }
            Some(l) => match f
                .breakables
                .iter()
                .rev()
                .find(|(_, name)| name.as_ref() == Some(&l.name))
            {
                None => self.error(l.span, format!("{word} label not defined: {}", l.name)),
                Some((kind, _)) if is_continue && *kind != Breakable::Loop => {
                    self.error(l.span, format!("invalid continue label {}", l.name));
                }
                Some(_) => {}
            },
        }
    }

    fn with_breakable(
        &mut self,
        kind: Breakable,
        label: Option<Rc<str>>,
        body: impl FnOnce(&mut Self),
    ) {
        if let Some(f) = self.fns.last_mut() {
            f.breakables.push((kind, label));
        }
        body(self);
        if let Some(f) = self.fns.last_mut() {
            f.breakables.pop();
        }
    }

    fn if_stmt(&mut self, stmt: &Stmt) {
        // Else-if chains are walked iteratively: their length is not bounded by nesting.
        let mut current = stmt;
        let mut scopes = 0;
        loop {
            let StmtKind::If {
                init,
                cond,
                then,
                els,
            } = &current.kind
            else {
                self.stmt(current);
                break;
            };
            self.push_scope();
            scopes += 1;
            if let Some(init) = init {
                self.stmt(init);
            }
            self.expr(cond);
            self.block(then);
            match els {
                Some(e) => current = e,
                None => break,
            }
        }
        for _ in 0..scopes {
            self.pop_scope();
        }
    }

    fn for_stmt(&mut self, kind: &ForKind, body: &Block, label: Option<Rc<str>>) {
        self.push_scope();
        match kind {
            ForKind::Loop { init, cond, post } => {
                if let Some(init) = init {
                    self.stmt(init);
                }
                if let Some(c) = cond {
                    self.expr(c);
                }
                if let Some(post) = post {
                    if matches!(post.kind, StmtKind::Define { .. }) {
                        self.error(post.span, "cannot declare in post statement of for loop");
                    }
                    self.stmt(post);
                }
            }
            ForKind::Range {
                key,
                value,
                define,
                expr,
            } => {
                self.expr(expr);
                for e in [key, value].into_iter().flatten() {
                    if *define {
                        match e.as_name() {
                            Some(id) => self.declare_local(id, BindingKind::Var),
                            None => self.error(e.span, "non-name on left side of :="),
                        }
                    } else {
                        self.assign_target(e);
                    }
                }
            }
        }
        self.with_breakable(Breakable::Loop, label, |r| r.block(body));
        self.pop_scope();
    }

    fn switch_stmt(
        &mut self,
        init: &Option<Box<Stmt>>,
        tag: &Option<Expr>,
        cases: &[CaseClause],
        label: Option<Rc<str>>,
    ) {
        self.push_scope();
        if let Some(init) = init {
            self.stmt(init);
        }
        if let Some(t) = tag {
            self.expr(t);
        }
        let defaults: Vec<&CaseClause> = cases.iter().filter(|c| c.is_default).collect();
        if defaults.len() > 1 {
            self.error(defaults[1].span, "multiple defaults in switch");
        }
        self.with_breakable(Breakable::Switch, label, |r| {
            for c in cases {
                for e in &c.exprs {
                    r.expr(e);
                }
                r.stmts_in_scope(&c.body);
            }
        });
        self.pop_scope();
    }

    fn select_stmt(&mut self, cases: &[CommClause], label: Option<Rc<str>>) {
        let defaults: Vec<&CommClause> = cases
            .iter()
            .filter(|c| c.comm == CommKind::Default)
            .collect();
        if defaults.len() > 1 {
            self.error(defaults[1].span, "multiple defaults in select");
        }
        self.with_breakable(Breakable::Select, label, |r| {
            for c in cases {
                r.push_scope();
                match &c.comm {
                    CommKind::Send { chan, value } => {
                        r.expr(chan);
                        r.expr(value);
                    }
                    CommKind::Recv { lhs, define, chan } => {
                        r.expr(chan);
                        for e in lhs {
                            if *define {
                                match e.as_name() {
                                    Some(id) => r.declare_local(id, BindingKind::Var),
                                    None => r.error(e.span, "non-name on left side of :="),
                                }
                            } else {
                                r.assign_target(e);
                            }
                        }
                    }
                    CommKind::Default => {}
                }
                for s in &c.body {
                    r.stmt(s);
                }
                r.pop_scope();
            }
        });
    }

    /// `a, b := ...`: names only, at least one new.
    fn define(&mut self, lhs: &[Expr], rhs: &[Expr], op_span: Span) {
        self.check_counts(lhs.len(), rhs);
        for e in rhs {
            self.expr(e);
        }
        let mut any_new = false;
        let mut names = Vec::new();
        for e in lhs {
            match e.as_name() {
                Some(id) => names.push(id),
                None => {
                    self.error(e.span, "non-name on left side of :=");
                    return;
                }
            }
        }
        let mut seen = HashSet::new();
        for id in &names {
            if &*id.name != "_" && !seen.insert(id.name.clone()) {
                self.error(id.span, format!("{} repeated on left side of :=", id.name));
                return;
            }
        }
        for id in &names {
            if &*id.name == "_" {
                continue;
            }
            if !self.in_current_scope(&id.name) {
                any_new = true;
            }
        }
        if !any_new {
            self.error(op_span, "no new variables on left side of :=");
            return;
        }
        for id in names {
            if &*id.name == "_" {
                self.res.uses.insert(id.span.start, Res::Blank);
            } else if self.in_current_scope(&id.name) {
                self.assign_name(id);
            } else {
                self.declare(id, BindingKind::Var);
            }
        }
    }

    /// Go's count rule: n = m, or one multi-valued expression on the right.
    fn check_counts(&mut self, n_lhs: usize, rhs: &[Expr]) {
        if rhs.len() == n_lhs || rhs.is_empty() {
            return;
        }
        if rhs.len() == 1 {
            let e = &rhs[0];
            let ok = match &e.kind {
                ExprKind::Call { .. } => true,
                ExprKind::Index(..) | ExprKind::Unary(UnOp::Recv, _) => n_lhs == 2,
                _ => false,
            };
            if ok {
                return;
            }
        }
        self.error(
            rhs[0].span,
            format!(
                "assignment mismatch: {n_lhs} variable{} but {} value{}",
                plural(n_lhs),
                rhs.len(),
                plural(rhs.len())
            ),
        );
    }

    fn assign_target(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Name(id) => self.assign_name(id),
            ExprKind::Index(base, index) => {
                self.expr(base);
                self.expr(index);
            }
            ExprKind::Field(base, name) => {
                self.expr(base);
                self.check_module_member(base, name);
            }
            ExprKind::Bad => {}
            _ => self.error(e.span, "cannot assign to this expression"),
        }
    }

    fn assign_name(&mut self, id: &Ident) {
        match self.lookup_at(id) {
            None => self.error(id.span, format!("undefined: {}", id.name)),
            Some(Res::Blank) => {
                self.res.uses.insert(id.span.start, Res::Blank);
            }
            Some(res) => {
                let is_const = match res {
                    Res::Local(b) => self.res.bindings[b as usize].kind == BindingKind::Const,
                    Res::Global(g) => !matches!(self.res.globals[g as usize].kind, GlobalKind::Var),
                    Res::Upvalue(_) => self.upvalue_is_const(&id.name),
                    Res::Builtin(_) | Res::Iota => true,
                    Res::Blank => false,
                };
                if is_const {
                    self.error(
                        id.span,
                        format!(
                            "cannot assign to {} (neither addressable nor a map index expression)",
                            id.name
                        ),
                    );
                }
                self.res.uses.insert(id.span.start, res);
            }
        }
    }

    fn upvalue_is_const(&self, name: &Rc<str>) -> bool {
        for f in self.fns.iter().rev().skip(1) {
            for scope in f.scopes.iter().rev() {
                if let Some(&b) = scope.get(name) {
                    return self.res.bindings[b as usize].kind == BindingKind::Const;
                }
            }
        }
        false
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Nil
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::ChanType
            | ExprKind::Bad => {}
            ExprKind::Name(id) => {
                self.use_name(id);
            }
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i)),
            ExprKind::Map(items) => {
                for (k, v) in items {
                    self.expr(k);
                    self.expr(v);
                }
            }
            ExprKind::Composite { ty, elems } => {
                self.expr(ty);
                if let ExprKind::Field(base, name) = &ty.kind {
                    self.check_module_member(base, name);
                }
                if let ExprKind::Name(tn) = &ty.kind {
                    let fields = self.type_fields.get(&tn.name).cloned();
                    let is_type = matches!(self.res.uses.get(&tn.span.start), Some(Res::Global(g)) if self.res.globals[*g as usize].kind == GlobalKind::Type);
                    if let (Some(fields), true) = (fields, is_type) {
                        for (key, _) in elems {
                            if let Some(k) = key {
                                if !fields.contains(&k.name) {
                                    self.error(
                                        k.span,
                                        format!(
                                            "unknown field {} in struct literal of type {}",
                                            k.name, tn.name
                                        ),
                                    );
                                }
                            }
                        }
                        let positional = elems.iter().filter(|(k, _)| k.is_none()).count();
                        if positional > 0 && positional != fields.len() {
                            let msg = if positional < fields.len() {
                                "too few values in struct literal"
                            } else {
                                "too many values in struct literal"
                            };
                            self.error(e.span, format!("{msg} of type {}", tn.name));
                        }
                    }
                }
                for (_, v) in elems {
                    self.expr(v);
                }
            }
            ExprKind::Func(lit) => self.func_lit(lit),
            ExprKind::Unary(_, x) => self.expr(x),
            ExprKind::Binary(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Call { func, args, .. } => {
                self.expr(func);
                for a in args {
                    self.expr(a);
                }
            }
            ExprKind::Index(a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Slice { base, lo, hi } => {
                self.expr(base);
                if let Some(lo) = lo {
                    self.expr(lo);
                }
                if let Some(hi) = hi {
                    self.expr(hi);
                }
            }
            ExprKind::Field(base, name) => {
                self.expr(base);
                self.check_module_member(base, name);
            }
        }
    }

    /// `mod.name` where `mod` is a file module: `name` must exist and be exported.
    fn check_module_member(&mut self, base: &Expr, name: &Ident) {
        let Some(id) = base.as_name() else { return };
        let Some(Res::Global(g)) = self.res.uses.get(&id.span.start).copied() else {
            return;
        };
        let GlobalKind::Import(idx) = self.res.globals[g as usize].kind else {
            return;
        };
        let path = self.res.imports[idx as usize].clone();
        let Some(ModuleInterface::File { exports }) = self.interfaces.get(&path) else {
            return;
        };
        if !exports.contains(&name.name) {
            let exported = name.name.chars().next().is_some_and(char::is_uppercase);
            let msg = if exported {
                format!("undefined: {}.{}", id.name, name.name)
            } else {
                format!("cannot refer to unexported name {}.{}", id.name, name.name)
            };
            self.error(name.span, msg);
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The name an import binds by default: `fmt` for "fmt", `rand` for
/// "math/rand", `util` for "./lib/util.weft".
pub fn import_binding_name(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or(path);
    last.strip_suffix(".weft").unwrap_or(last).to_string()
}
