//! The compiler: a resolved AST to register bytecode, one [`Proto`] per function.
//!
//! Register discipline (Lua's): in every function, registers `0..n_local_regs`
//! hold the live locals (parameters first) and registers above are temporaries,
//! allocated and released stack-wise while an expression is compiled. A local
//! that a nested function captures lives in a heap cell and its register holds
//! the cell. At statement boundaries no temporary is live.
//!
//! Every store into a heap object is emitted as one of the barriered
//! instructions of [`crate::bytecode`]; moves between registers are plain.
//! Constant folding covers literal arithmetic (ints wrap, as at run time).

use crate::ast::*;
use crate::bytecode::*;
use crate::diag::Diagnostic;
use crate::resolve::{BindingId, Capture, GlobalKind, Res, Resolution};
use crate::span::{LineIndex, Span};
use std::collections::HashMap;
use std::rc::Rc;

/// Registers a frame may use (Lua's limit is 255; a few are kept as slack).
pub const MAX_REGISTERS: usize = 250;

/// The compiled form of one module (a file).
#[derive(Clone, Debug)]
pub struct CompiledModule {
    /// The module's name for tracebacks (`main` for the program's entry file).
    pub name: Rc<str>,
    /// The module's top-level code, as a function of no parameters.
    pub init: Rc<Proto>,
    pub globals: Vec<GlobalSlot>,
    /// Import paths as written, by import index.
    pub imports: Vec<Rc<str>>,
    /// Global slot of `func main`, if declared.
    pub main: Option<u16>,
}

#[derive(Clone, Debug)]
pub struct GlobalSlot {
    pub name: Rc<str>,
    pub exported: bool,
    pub kind: GlobalKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BreakKind {
    Loop,
    Switch,
    Select,
}

struct BreakCtx {
    kind: BreakKind,
    label: Option<Rc<str>>,
    breaks: Vec<usize>,
    continues: Vec<usize>,
}

/// How a local binding is stored.
#[derive(Clone, Copy)]
struct LocalSlot {
    reg: Reg,
    in_cell: bool,
}

struct FnState {
    proto: Proto,
    consts: HashMap<ConstKey, u16>,
    free_reg: usize,
    n_local_regs: usize,
    locals: HashMap<BindingId, LocalSlot>,
    breaks: Vec<BreakCtx>,
    n_closures: u32,
    /// A function literal (its own literals are named `parent.N`, not `parent.funcN`).
    is_literal: bool,
}

#[derive(Hash, PartialEq, Eq)]
enum ConstKey {
    Int(i64),
    Float(u64),
    Str(Rc<[u8]>),
}

/// A compile-time constant value (for folding).
#[derive(Clone, Debug, PartialEq)]
enum Folded {
    Int(i64),
    Float(f64),
    Str(Rc<[u8]>),
    Bool(bool),
    Nil,
}

pub struct Compiler<'a> {
    res: &'a Resolution,
    lines: LineIndex,
    module_name: Rc<str>,
    fns: Vec<FnState>,
    diags: Vec<Diagnostic>,
    cur_line: u32,
    iota: Option<i64>,
    global_names: Rc<[Rc<str>]>,
    /// Constants whose value folded at compile time, by global slot and by
    /// local binding: their uses compile to the value itself.
    global_consts: HashMap<u16, Folded>,
    local_consts: HashMap<BindingId, Folded>,
    /// Stops cascades of "too many registers" reports.
    reported_register_overflow: bool,
}

/// Compiles a resolved file into a module.
pub fn compile_module(
    file: &File,
    res: &Resolution,
    src: &str,
    module_name: &str,
) -> Result<CompiledModule, Vec<Diagnostic>> {
    let global_names: Rc<[Rc<str>]> = res.globals.iter().map(|g| g.name.clone()).collect();
    let mut c = Compiler {
        res,
        lines: LineIndex::new(src),
        module_name: Rc::from(module_name),
        fns: Vec::new(),
        diags: Vec::new(),
        cur_line: 1,
        iota: None,
        global_names: global_names.clone(),
        reported_register_overflow: false,
        global_consts: HashMap::new(),
        local_consts: HashMap::new(),
    };
    let init_name: Rc<str> = Rc::from(format!("{module_name}.init").as_str());
    c.push_fn(init_name, 1);
    c.fold_top_level_consts(file);
    c.module_prologue(file);
    for stmt in &file.stmts {
        match &stmt.kind {
            StmtKind::Import(_) | StmtKind::Type(_) | StmtKind::Func(_) => {}
            _ => c.stmt(stmt),
        }
    }
    c.emit(Op::Return {
        a: Reg(0),
        n: Count(0),
    });
    let init = c.pop_fn();
    if !c.diags.is_empty() {
        c.diags.sort_by_key(|d| d.span.start);
        return Err(c.diags);
    }
    Ok(CompiledModule {
        name: Rc::from(module_name),
        init: Rc::new(init),
        globals: res
            .globals
            .iter()
            .map(|g| GlobalSlot {
                name: g.name.clone(),
                exported: g.is_exported(),
                kind: g.kind,
            })
            .collect(),
        imports: res.imports.clone(),
        main: res.main,
    })
}

fn fits_i32(v: i64) -> bool {
    v >= i32::MIN as i64 && v <= i32::MAX as i64
}

impl<'a> Compiler<'a> {
    // ------------------------------------------------------------ plumbing

    fn f(&mut self) -> &mut FnState {
        self.fns.last_mut().expect("compiling outside a function")
    }

    fn fr(&self) -> &FnState {
        self.fns.last().expect("compiling outside a function")
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diags.push(Diagnostic::error(span, message));
    }

    fn push_fn(&mut self, name: Rc<str>, line: u32) {
        let proto = Proto {
            name,
            n_params: 0,
            variadic: false,
            max_registers: 0,
            code: Vec::new(),
            lines: Vec::new(),
            constants: Vec::new(),
            protos: Vec::new(),
            upvalues: Vec::new(),
            types: Vec::new(),
            selects: Vec::new(),
            global_names: self.global_names.clone(),
            line,
        };
        self.fns.push(FnState {
            proto,

            consts: HashMap::new(),
            free_reg: 0,
            n_local_regs: 0,
            locals: HashMap::new(),
            breaks: Vec::new(),
            n_closures: 0,
            is_literal: false,
        });
    }

    fn pop_fn(&mut self) -> Proto {
        let mut f = self.fns.pop().expect("function stack underflow");
        // Every frame has at least one register: `Return r0 0` names it.
        f.proto.max_registers = f.proto.max_registers.max(1);
        thread_jumps(&mut f.proto.code);
        f.proto
    }

    fn line_of(&self, span: Span) -> u32 {
        self.lines.line(span.start)
    }

    fn emit(&mut self, op: Op) -> usize {
        let line = self.cur_line;
        let f = self.f();
        f.proto.code.push(op);
        f.proto.lines.push(line);
        f.proto.code.len() - 1
    }

    fn pc(&self) -> usize {
        self.fr().proto.code.len()
    }

    /// Points the jump at `at` to `target`.
    fn patch(&mut self, at: usize, target: usize) {
        let off = Jump(target as i32 - at as i32 - 1);
        let op = &mut self.f().proto.code[at];
        *op.jump_offset_mut().expect("patching a non-jump") = off;
    }

    fn patch_here(&mut self, jumps: Vec<usize>) {
        let here = self.pc();
        for j in jumps {
            self.patch(j, here);
        }
    }

    fn jump_to(&mut self, target: usize) {
        let at = self.emit(Op::Jmp { off: Jump(0) });
        self.patch(at, target);
    }

    fn alloc_reg(&mut self, span: Span) -> Reg {
        let f = self.f();
        let r = f.free_reg;
        f.free_reg += 1;
        if f.free_reg > MAX_REGISTERS {
            f.free_reg = MAX_REGISTERS;
            if !self.reported_register_overflow {
                self.reported_register_overflow = true;
                self.error(span, format!("function or expression needs too many registers (more than {MAX_REGISTERS})"));
            }
            return Reg((MAX_REGISTERS - 1) as u8);
        }
        let f = self.f();
        f.proto.max_registers = f.proto.max_registers.max(f.free_reg as u8);
        Reg(r as u8)
    }

    fn alloc_regs(&mut self, n: usize, span: Span) -> Reg {
        let base = self.fr().free_reg;
        for _ in 0..n {
            self.alloc_reg(span);
        }
        Reg(base.min(MAX_REGISTERS - 1) as u8)
    }

    fn mark(&self) -> usize {
        self.fr().free_reg
    }

    /// The first free register, where a call about to be compiled puts its
    /// callee (the call allocates it). With every register taken there is
    /// none: the overflow is reported, where clamping to the last register
    /// silently shared it with a live one (`println(f())` with 249 locals
    /// called `f`'s result).
    fn base_at_mark(&mut self, span: Span) -> Reg {
        if self.mark() >= MAX_REGISTERS {
            // Reports the overflow (once) and returns the last register.
            return self.alloc_reg(span);
        }
        Reg(self.mark() as u8)
    }

    fn release_to(&mut self, mark: usize) {
        let f = self.f();
        f.free_reg = mark.max(f.n_local_regs);
    }

    fn is_local_reg(&self, r: Reg) -> bool {
        (r.0 as usize) < self.fr().n_local_regs
    }

    fn constant(&mut self, key: ConstKey, value: Constant, span: Span) -> Kst {
        if let Some(&k) = self.fr().consts.get(&key) {
            return Kst(k);
        }
        let n = self.fr().proto.constants.len();
        if n >= u16::MAX as usize {
            self.error(span, "too many constants in one function");
            return Kst(0);
        }
        let f = self.f();
        f.proto.constants.push(value);
        f.consts.insert(key, n as u16);
        Kst(n as u16)
    }

    fn str_const(&mut self, s: &[u8], span: Span) -> Kst {
        let rc: Rc<[u8]> = Rc::from(s);
        self.constant(ConstKey::Str(rc.clone()), Constant::Str(rc), span)
    }

    fn name_const(&mut self, name: &str, span: Span) -> Kst {
        self.str_const(name.as_bytes(), span)
    }

    fn load_folded(&mut self, v: &Folded, dst: Reg, span: Span) {
        match v {
            Folded::Nil => {
                self.emit(Op::LoadNil {
                    a: dst,
                    n: Count(0),
                });
            }
            Folded::Bool(b) => {
                self.emit(Op::LoadBool {
                    a: dst,
                    v: Flag(*b),
                });
            }
            Folded::Int(i) if fits_i32(*i) => {
                self.emit(Op::LoadInt {
                    a: dst,
                    v: Imm(*i as i32),
                });
            }
            Folded::Int(i) => {
                let k = self.constant(ConstKey::Int(*i), Constant::Int(*i), span);
                self.emit(Op::LoadK { a: dst, k });
            }
            Folded::Float(x) => {
                let k = self.constant(ConstKey::Float(x.to_bits()), Constant::Float(*x), span);
                self.emit(Op::LoadK { a: dst, k });
            }
            Folded::Str(s) => {
                let k = self.str_const(s, span);
                self.emit(Op::LoadK { a: dst, k });
            }
        }
    }

    // ------------------------------------------------------------ module structure

    /// Imports, struct types, functions and methods exist before any top-level statement runs.
    fn module_prologue(&mut self, file: &File) {
        for stmt in &file.stmts {
            if let StmtKind::Import(specs) = &stmt.kind {
                self.cur_line = self.line_of(stmt.span);
                for spec in specs {
                    let Some(Res::Global(g)) = self.res.uses.get(&spec.span.start).copied() else {
                        continue;
                    };
                    let GlobalKind::Import(i) = self.res.globals[g as usize].kind else {
                        continue;
                    };
                    self.init_global(g, spec.span, |r| Op::Import {
                        a: r,
                        i: ImportIdx(i),
                    });
                }
            }
        }
        for stmt in &file.stmts {
            if let StmtKind::Type(decls) = &stmt.kind {
                for d in decls {
                    self.cur_line = self.line_of(d.span);
                    let Some(Res::Global(g)) = self.res.uses.get(&d.name.span.start).copied()
                    else {
                        continue;
                    };
                    let t = self.fr().proto.types.len() as u16;
                    self.f().proto.types.push(TypeDesc {
                        name: d.name.name.clone(),
                        fields: d.fields.iter().map(|f| f.name.clone()).collect(),
                    });
                    self.init_global(g, d.span, |r| Op::NewType {
                        a: r,
                        t: TypeIdx(t),
                    });
                }
            }
        }
        for stmt in &file.stmts {
            let StmtKind::Func(decl) = &stmt.kind else {
                continue;
            };
            self.cur_line = self.line_of(decl.name.span);
            let name = format!("{}.{}", self.module_name, decl.func.name);
            let proto = self.function(
                &decl.func,
                Rc::from(name.as_str()),
                decl.receiver.as_ref().map(|(r, _)| r),
                false,
            );
            let r = self.alloc_reg(decl.name.span);
            self.closure(proto, r);
            match &decl.receiver {
                None => {
                    if let Some(Res::Global(g)) = self.res.uses.get(&decl.name.span.start).copied()
                    {
                        self.emit(Op::SetGlobal { g: Glob(g), b: r });
                    }
                }
                Some((_, ty)) => {
                    let Some(g) = self
                        .res
                        .globals
                        .iter()
                        .position(|g| g.name == ty.name && g.kind == GlobalKind::Type)
                    else {
                        continue;
                    };
                    let t = self.alloc_reg(ty.span);
                    self.emit(Op::GetGlobal {
                        a: t,
                        g: Glob(g as u16),
                    });
                    let k = self.name_const(&decl.name.name, decl.name.span);
                    self.emit(Op::SetMethod { a: t, k, b: r });
                }
            }
            self.release_to(0);
        }
    }

    /// Module init: computes a value with `make` (into a fresh register) and
    /// stores it in global `g`.
    fn init_global(&mut self, g: u16, span: Span, make: impl FnOnce(Reg) -> Op) {
        let r = self.alloc_reg(span);
        self.emit(make(r));
        self.emit(Op::SetGlobal { g: Glob(g), b: r });
        self.release_to(0);
    }

    /// Compiles a function body into a nested proto of the current function.
    fn function(
        &mut self,
        lit: &FuncLit,
        name: Rc<str>,
        receiver: Option<&Ident>,
        is_literal: bool,
    ) -> u16 {
        let line = self.line_of(lit.span);
        let saved_line = self.cur_line;
        self.push_fn(name, line);
        self.f().is_literal = is_literal;
        self.cur_line = line;
        let upvalues = self
            .res
            .upvalues
            .get(&lit.span.start)
            .cloned()
            .unwrap_or_default();
        let mut descs = Vec::with_capacity(upvalues.len());
        for (cap, name) in &upvalues {
            let desc = match cap {
                Capture::ParentLocal(b) => {
                    // Resolved in the parent, which is still on the stack below us.
                    let parent = &self.fns[self.fns.len() - 2];
                    let reg = parent.locals.get(b).map_or(0, |s| s.reg.0);
                    UpvalDesc {
                        from_parent_local: true,
                        index: reg,
                        name: name.clone(),
                    }
                }
                Capture::ParentUpvalue(i) => UpvalDesc {
                    from_parent_local: false,
                    index: *i,
                    name: name.clone(),
                },
            };
            descs.push(desc);
        }
        self.f().proto.upvalues = descs;
        let mut params: Vec<&Ident> = Vec::new();
        params.extend(receiver);
        params.extend(lit.params.iter());
        if params.len() > 200 {
            self.error(lit.span, "too many parameters");
        }
        for p in &params {
            self.declare_local_at_next(p, lit.span);
        }
        self.f().proto.n_params = params.len().min(255) as u8;
        self.f().proto.variadic = lit.variadic;
        // Captured parameters move into cells on entry.
        for p in &params {
            if let Some(slot) = self.local_slot_of_decl(p) {
                if slot.in_cell {
                    self.emit(Op::NewCell {
                        a: slot.reg,
                        b: slot.reg,
                    });
                }
            }
        }
        for s in &lit.body.stmts {
            self.stmt(s);
        }
        self.cur_line = self.lines.line(lit.span.end.saturating_sub(1));
        self.emit(Op::Return {
            a: Reg(0),
            n: Count(0),
        });
        let proto = self.pop_fn();
        self.cur_line = saved_line;
        let f = self.f();
        f.proto.protos.push(Rc::new(proto));
        (f.proto.protos.len() - 1) as u16
    }

    fn closure(&mut self, proto: u16, dst: Reg) {
        self.emit(Op::Closure {
            a: dst,
            p: ProtoIdx(proto),
        });
    }

    fn func_literal_name(&mut self) -> Rc<str> {
        let f = self.f();
        f.n_closures += 1;
        let n = f.n_closures;
        let parent = f.proto.name.clone();
        if f.is_literal {
            Rc::from(format!("{parent}.{n}").as_str())
        } else {
            Rc::from(format!("{parent}.func{n}").as_str())
        }
    }

    // ------------------------------------------------------------ locals

    fn local_slot_of_decl(&self, id: &Ident) -> Option<LocalSlot> {
        let b = self.res.decls.get(&id.span.start)?;
        self.fr().locals.get(b).copied()
    }

    /// Makes the next register the home of the binding declared by `id`.
    fn declare_local_at_next(&mut self, id: &Ident, span: Span) -> Reg {
        let r = self.alloc_reg(span);
        self.bind_local(id, r);
        r
    }

    /// Binds the declaration `id` to register `r` (which becomes a local register).
    fn bind_local(&mut self, id: &Ident, r: Reg) {
        let f = self.f();
        f.n_local_regs = f.n_local_regs.max(r.0 as usize + 1);
        f.free_reg = f.free_reg.max(f.n_local_regs);
        if let Some(&b) = self.res.decls.get(&id.span.start) {
            let in_cell = self.res.bindings[b as usize].captured;
            self.f().locals.insert(b, LocalSlot { reg: r, in_cell });
        }
    }

    fn binding_captured(&self, id: &Ident) -> bool {
        self.res
            .decls
            .get(&id.span.start)
            .is_some_and(|&b| self.res.bindings[b as usize].captured)
    }

    /// Runs `body` in a block scope: locals declared inside are released after.
    fn scoped(&mut self, body: impl FnOnce(&mut Self)) {
        let (free, locals) = (self.fr().free_reg, self.fr().n_local_regs);
        body(self);
        let f = self.f();
        f.n_local_regs = locals;
        f.free_reg = free;
    }

    // ------------------------------------------------------------ statements

    fn stmt(&mut self, stmt: &Stmt) {
        self.cur_line = self.line_of(stmt.span);
        let mark = self.mark();
        match &stmt.kind {
            StmtKind::Expr(e) => self.expr_stmt(e),
            StmtKind::Define { lhs, rhs, .. } => self.define(lhs, rhs, stmt.span),
            StmtKind::Assign {
                lhs,
                op: AssignOp::Plain,
                rhs,
                ..
            } => self.assign(lhs, rhs, stmt.span),
            StmtKind::Assign {
                lhs,
                op: AssignOp::Op(op),
                rhs,
                ..
            } => self.op_assign(&lhs[0], *op, &rhs[0]),
            StmtKind::IncDec { target, inc } => {
                let one = Expr::leaf(ExprKind::Int(1), target.span);
                self.op_assign(target, if *inc { BinOp::Add } else { BinOp::Sub }, &one);
            }
            StmtKind::Send { chan, value } => {
                let c = self.expr_any(chan);
                let v = self.expr_any(value);
                self.cur_line = self.line_of(stmt.span);
                self.emit(Op::Send { a: c, b: v });
            }
            StmtKind::Var(specs) => {
                for spec in specs {
                    self.value_spec(spec, stmt.span);
                }
            }
            StmtKind::Const(specs) => {
                for spec in specs {
                    self.iota = Some(spec.iota);
                    self.record_local_consts(spec);
                    self.value_spec(spec, stmt.span);
                    self.iota = None;
                }
            }
            StmtKind::Import(_)
            | StmtKind::Func(_)
            | StmtKind::Type(_)
            | StmtKind::Empty
            | StmtKind::Bad => {}
            StmtKind::Block(b) => self.block(b),
            StmtKind::If { .. } => self.if_stmt(stmt),
            StmtKind::For { kind, body } => self.for_stmt(kind, body, None),
            StmtKind::Switch { init, tag, cases } => {
                self.switch_stmt(init.as_deref(), tag.as_ref(), cases, None)
            }
            StmtKind::Select { cases } => self.select_stmt(cases, None),
            StmtKind::Labeled { label, stmt: inner } => {
                let name = Some(label.name.clone());
                self.cur_line = self.line_of(inner.span);
                match &inner.kind {
                    StmtKind::For { kind, body } => self.for_stmt(kind, body, name),
                    StmtKind::Switch { init, tag, cases } => {
                        self.switch_stmt(init.as_deref(), tag.as_ref(), cases, name)
                    }
                    StmtKind::Select { cases } => self.select_stmt(cases, name),
                    _ => self.stmt(inner),
                }
            }
            StmtKind::Break(label) => self.branch(label.as_ref(), false),
            StmtKind::Continue(label) => self.branch(label.as_ref(), true),
            StmtKind::Return(values) => self.return_stmt(values, stmt.span),
            StmtKind::Go(call) => self.go_or_defer(call, true),
            StmtKind::Defer(call) => self.go_or_defer(call, false),
        }
        self.release_to(mark);
    }

    fn block(&mut self, b: &Block) {
        self.scoped(|c| {
            for s in &b.stmts {
                c.stmt(s);
            }
        });
    }

    fn expr_stmt(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Call { .. } => {
                let base = self.base_at_mark(e.span);
                self.call(e, base, Count(0));
            }
            _ => {
                self.expr_any(e);
            }
        }
    }

    /// Folds the module's top-level constants in order (before any function is
    /// compiled, since functions may use them). The slots are still assigned at
    /// run time, for other modules and for printing.
    fn fold_top_level_consts(&mut self, file: &File) {
        for stmt in &file.stmts {
            let StmtKind::Const(specs) = &stmt.kind else {
                continue;
            };
            for spec in specs {
                if spec.names.len() != spec.values.len() {
                    continue;
                }
                self.iota = Some(spec.iota);
                for (id, value) in spec.names.iter().zip(&spec.values) {
                    if let (Some(Res::Global(g)), Some(v)) =
                        (self.res.uses.get(&id.span.start).copied(), self.fold(value))
                    {
                        self.global_consts.insert(g, v);
                    }
                }
                self.iota = None;
            }
        }
    }

    fn record_local_consts(&mut self, spec: &ValueSpec) {
        if spec.names.len() != spec.values.len() {
            return;
        }
        for (id, value) in spec.names.iter().zip(&spec.values) {
            if let (Some(&b), Some(v)) = (self.res.decls.get(&id.span.start), self.fold(value)) {
                self.local_consts.insert(b, v);
            }
        }
    }

    fn value_spec(&mut self, spec: &ValueSpec, span: Span) {
        let n = spec.names.len();
        if spec.values.is_empty() {
            for id in &spec.names {
                let r = self.alloc_reg(span);
                self.emit(Op::LoadNil { a: r, n: Count(0) });
                self.finish_decl(id, r);
            }
            return;
        }
        let base = self.eval_multi(&spec.values, n, span);
        for (i, id) in spec.names.iter().enumerate() {
            self.finish_decl(id, Reg(base.0 + i as u8));
        }
    }

    /// Evaluates `values` into `n` consecutive fresh registers (a single call may fill all).
    fn eval_multi(&mut self, values: &[Expr], n: usize, span: Span) -> Reg {
        let base = self.alloc_regs(n, span);
        if values.len() == 1 && n > 1 {
            let e = &values[0];
            match &e.kind {
                ExprKind::Call { .. } => {
                    self.release_to(base.0 as usize);
                    self.call(e, base, Count(n as u8));
                    self.alloc_regs(n, span);
                }
                ExprKind::Index(container, key) if n == 2 => {
                    let c = self.expr_any(container);
                    let k = self.expr_any(key);
                    self.emit(Op::GetIndexOk {
                        a: base,
                        b: c,
                        c: k,
                    });
                }
                ExprKind::Unary(UnOp::Recv, ch) if n == 2 => {
                    let c = self.expr_any(ch);
                    self.emit(Op::RecvOk { a: base, b: c });
                }
                _ => {}
            }
            self.release_to(base.0 as usize + n);
            return base;
        }
        self.release_to(base.0 as usize);
        for v in values.iter().take(n) {
            let r = self.alloc_reg(span);
            self.expr_into(v, r);
        }
        self.release_to(base.0 as usize + n);
        base
    }

    /// The value for declaration `id` is in register `r` (a fresh register just
    /// above the locals): make it the local, or store it in its global.
    fn finish_decl(&mut self, id: &Ident, r: Reg) {
        if &*id.name == "_" {
            return;
        }
        match self.res.uses.get(&id.span.start).copied() {
            Some(Res::Global(g)) if !self.res.decls.contains_key(&id.span.start) => {
                self.emit(Op::SetGlobal { g: Glob(g), b: r });
            }
            _ => {
                if self.binding_captured(id) {
                    self.emit(Op::NewCell { a: r, b: r });
                }
                self.bind_local(id, r);
            }
        }
    }

    fn define(&mut self, lhs: &[Expr], rhs: &[Expr], span: Span) {
        let n = lhs.len();
        let base = self.eval_multi(rhs, n, span);
        // Locals must stay contiguous: new names get the value registers in order
        // only if every earlier one is new too; otherwise assign through.
        for (i, e) in lhs.iter().enumerate() {
            let Some(id) = e.as_name() else { continue };
            let r = Reg(base.0 + i as u8);
            if self.res.decls.contains_key(&id.span.start)
                || matches!(self.res.uses.get(&id.span.start), Some(Res::Global(_)) if self.is_new_global_decl(id))
            {
                self.finish_decl(id, r);
            } else {
                self.store_name(id, r);
            }
        }
    }

    /// A top-level `:=` name that declares its global here (rather than reassigning one).
    fn is_new_global_decl(&self, id: &Ident) -> bool {
        match self.res.uses.get(&id.span.start) {
            Some(Res::Global(g)) => self.res.globals[*g as usize].span == id.span,
            _ => false,
        }
    }

    fn assign(&mut self, lhs: &[Expr], rhs: &[Expr], span: Span) {
        if lhs.len() == 1 && rhs.len() == 1 {
            self.assign_one(&lhs[0], &rhs[0]);
            return;
        }
        // Go's two phases: operands of index expressions on the left and all values
        // on the right are evaluated first, then the stores happen left to right.
        // An operand that is a register local this statement does not assign
        // cannot change before its store (expressions cannot assign register
        // locals), so it is read in place (`q[i], q[j] = q[j], q[i]` copies
        // nothing); the others are copied first.
        let assigned: Vec<BindingId> = lhs
            .iter()
            .filter_map(|e| match &e.kind {
                ExprKind::Name(id) => match self.res.uses.get(&id.span.start) {
                    Some(Res::Local(b)) => Some(*b),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        let mut targets = Vec::with_capacity(lhs.len());
        for e in lhs {
            targets.push(self.prepare_target(e, Some(&assigned)));
        }
        let base = self.eval_multi(rhs, lhs.len(), span);
        for (i, t) in targets.into_iter().enumerate() {
            self.store_target(t, Reg(base.0 + i as u8));
        }
    }

    fn assign_one(&mut self, target: &Expr, value: &Expr) {
        if let ExprKind::Name(id) = &target.kind {
            match self.res.uses.get(&id.span.start).copied() {
                Some(Res::Local(b)) => {
                    if let Some(slot) = self.fr().locals.get(&b).copied() {
                        if !slot.in_cell {
                            self.expr_into(value, slot.reg);
                            return;
                        }
                    }
                }
                Some(Res::Blank) => {
                    self.expr_any(value);
                    return;
                }
                _ => {}
            }
        }
        // Expressions cannot assign to a register local, so with one target the
        // container and key can be read in place.
        let t = self.prepare_target(target, None);
        let v = self.expr_any(value);
        self.store_target(t, v);
    }

    /// Evaluates the operands of an assignment target. With one target
    /// (`assigned` None) locals are read where they are; with several, the
    /// locals in `assigned` (the statement's own targets) are copied,
    /// because an earlier store may change one before a later target is
    /// stored.
    fn prepare_target(&mut self, e: &Expr, assigned: Option<&[BindingId]>) -> Target {
        let operand = |c: &mut Self, e: &Expr| {
            let in_place = match assigned {
                None => true,
                Some(assigned) => match &e.kind {
                    ExprKind::Name(id) => match c.res.uses.get(&id.span.start) {
                        Some(Res::Local(b)) => !assigned.contains(b),
                        _ => false,
                    },
                    _ => false,
                },
            };
            if in_place {
                c.expr_any(e)
            } else {
                c.expr_to_temp(e)
            }
        };
        match &e.kind {
            ExprKind::Name(id) => Target::Name(id.clone()),
            ExprKind::Index(c, k) => {
                let c = operand(self, c);
                let k = operand(self, k);
                Target::Index(c, k)
            }
            ExprKind::Field(obj, name) => {
                let o = operand(self, obj);
                let k = self.name_const(&name.name, name.span);
                Target::Field(o, k)
            }
            _ => Target::Discard,
        }
    }

    fn store_target(&mut self, t: Target, v: Reg) {
        match t {
            Target::Name(id) => self.store_name(&id, v),
            Target::Index(c, k) => {
                self.emit(Op::SetIndex { a: c, b: k, c: v });
            }
            Target::Field(o, k) => {
                self.emit(Op::SetField { a: o, k, b: v });
            }
            Target::Discard => {}
        }
    }

    fn store_name(&mut self, id: &Ident, v: Reg) {
        match self.res.uses.get(&id.span.start).copied() {
            Some(Res::Local(b)) => match self.fr().locals.get(&b).copied() {
                Some(slot) if slot.in_cell => {
                    self.emit(Op::SetCell { a: slot.reg, b: v });
                }
                Some(slot) if slot.reg != v => {
                    self.emit(Op::Move { a: slot.reg, b: v });
                }
                _ => {}
            },
            Some(Res::Upvalue(u)) => {
                self.emit(Op::SetUpval { u: Upv(u), b: v });
            }
            Some(Res::Global(g)) => {
                self.emit(Op::SetGlobal { g: Glob(g), b: v });
            }
            _ => {}
        }
    }

    fn op_assign(&mut self, target: &Expr, op: BinOp, value: &Expr) {
        match &target.kind {
            ExprKind::Name(id) => {
                if let Some(Res::Local(b)) = self.res.uses.get(&id.span.start).copied() {
                    if let Some(slot) = self.fr().locals.get(&b).copied() {
                        if !slot.in_cell {
                            self.binary_into(op, target, value, slot.reg);
                            return;
                        }
                    }
                }
                let t = self.alloc_reg(target.span);
                self.binary_into(op, target, value, t);
                self.store_name(id, t);
            }
            ExprKind::Index(c, k) => {
                let c = self.expr_any(c);
                let k = self.expr_any(k);
                let v = self.expr_any(value);
                let t = self.alloc_reg(target.span);
                self.emit(Op::GetIndexZero {
                    a: t,
                    b: c,
                    c: k,
                    d: v,
                });
                self.arith(op, t, t, v);
                self.emit(Op::SetIndex { a: c, b: k, c: t });
            }
            ExprKind::Field(obj, name) => {
                let o = self.expr_any(obj);
                let k = self.name_const(&name.name, name.span);
                let v = self.expr_any(value);
                let t = self.alloc_reg(target.span);
                self.emit(Op::GetField { a: t, b: o, k });
                self.arith(op, t, t, v);
                self.emit(Op::SetField { a: o, k, b: t });
            }
            _ => self.error(target.span, "cannot assign to this expression"),
        }
    }

    fn if_stmt(&mut self, stmt: &Stmt) {
        // Else-if chains are compiled iteratively (their length is unbounded).
        let mut end_jumps = Vec::new();
        let mut current = stmt;
        let (free, locals) = (self.fr().free_reg, self.fr().n_local_regs);
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
            self.cur_line = self.line_of(current.span);
            if let Some(init) = init {
                self.stmt(init);
            }
            let mark = self.mark();
            let false_jumps = self.cond_jump(cond, false);
            self.release_to(mark);
            self.block(then);
            match els {
                Some(e) => {
                    end_jumps.push(self.emit(Op::Jmp { off: Jump(0) }));
                    self.patch_here(false_jumps);
                    current = e;
                }
                None => {
                    self.patch_here(false_jumps);
                    break;
                }
            }
        }
        self.patch_here(end_jumps);
        let f = self.f();
        f.n_local_regs = locals;
        f.free_reg = free;
    }

    fn push_break(&mut self, kind: BreakKind, label: Option<Rc<str>>) {
        self.f().breaks.push(BreakCtx {
            kind,
            label,
            breaks: Vec::new(),
            continues: Vec::new(),
        });
    }

    fn pop_break(&mut self) -> BreakCtx {
        self.f().breaks.pop().expect("break context underflow")
    }

    fn branch(&mut self, label: Option<&Ident>, is_continue: bool) {
        let at = self.emit(Op::Jmp { off: Jump(0) });
        let ctxs = &mut self.f().breaks;
        let target = ctxs.iter_mut().rev().find(|c| match label {
            Some(l) => c.label.as_ref() == Some(&l.name),
            None => !is_continue || c.kind == BreakKind::Loop,
        });
        if let Some(ctx) = target {
            if is_continue {
                ctx.continues.push(at);
            } else {
                ctx.breaks.push(at);
            }
        }
    }

    fn for_stmt(&mut self, kind: &ForKind, body: &Block, label: Option<Rc<str>>) {
        self.scoped(|c| match kind {
            ForKind::Loop { init, cond, post } => {
                c.loop_for(init.as_deref(), cond.as_ref(), post.as_deref(), body, label)
            }
            ForKind::Range {
                key,
                value,
                define,
                expr,
            } => c.range_for(key.as_ref(), value.as_ref(), *define, expr, body, label),
        });
    }

    fn loop_for(
        &mut self,
        init: Option<&Stmt>,
        cond: Option<&Expr>,
        post: Option<&Stmt>,
        body: &Block,
        label: Option<Rc<str>>,
    ) {
        if let Some(init) = init {
            self.stmt(init);
        }
        // Go 1.22: each iteration has its own copy of the header's variables. Only
        // captured ones (in cells) need real copies: a fresh cell per iteration.
        let per_iteration: Vec<LocalSlot> = match init.map(|s| &s.kind) {
            Some(StmtKind::Define { lhs, .. }) => lhs
                .iter()
                .filter_map(|e| e.as_name())
                .filter_map(|id| self.local_slot_of_decl(id))
                .filter(|s| s.in_cell)
                .collect(),
            _ => Vec::new(),
        };
        // Rotated loop: the condition sits at the bottom, so an iteration costs
        // one conditional jump back instead of a test and a jump.
        let mark = self.mark();
        let to_cond = cond.map(|_| self.emit(Op::Jmp { off: Jump(0) }));
        let top = self.pc();
        self.push_break(BreakKind::Loop, label);
        self.block(body);
        let ctx = self.pop_break();
        self.patch_here(ctx.continues);
        for slot in &per_iteration {
            let t = self.alloc_reg(body.span);
            self.emit(Op::GetCell { a: t, b: slot.reg });
            self.emit(Op::NewCell { a: slot.reg, b: t });
            self.release_to(mark);
        }
        let post_at = self.pc();
        if let Some(post) = post {
            self.stmt(post);
        }
        match (cond, to_cond) {
            (Some(c), Some(at)) => {
                self.patch_here(vec![at]);
                self.cur_line = self.line_of(c.span);
                let back = self.cond_jump(c, true);
                self.release_to(mark);
                for &j in &back {
                    self.patch(j, top);
                }
                if let [cond_at] = back[..] {
                    self.fuse_increment_and_test(post_at, cond_at);
                }
            }
            _ => self.jump_to(top),
        }
        self.patch_here(ctx.breaks);
    }

    /// A rotated loop whose post statement is `i++` (`AddInt i i 1`) right
    /// before its test `i < k` or `i < n` (`JmpLtK`/`JmpLt` on `i`): the
    /// increment becomes `IncJmpLtK`/`IncJmpLt`, which also tests and jumps
    /// back, so an iteration dispatches one instruction fewer (Lua's
    /// FORLOOP). The test stays after it, where the loop's first jump and
    /// only that jump enters: run after a fused test that failed, it fails
    /// again (it reads registers only) and the loop ends. `continue`s jump
    /// to the fused instruction, which is the post statement and the test.
    fn fuse_increment_and_test(&mut self, post_at: usize, cond_at: usize) {
        if cond_at != post_at + 1 {
            return;
        }
        let code = &mut self.f().proto.code;
        let fused = match (code[post_at], code[cond_at]) {
            (Op::AddInt { a, b, v: Imm(1) }, Op::JmpLtK { a: c, k, off }) if a == b && a == c => {
                Op::IncJmpLtK {
                    a,
                    k,
                    off: Jump(off.0 + 1),
                }
            }
            (Op::AddInt { a, b, v: Imm(1) }, Op::JmpLt { a: c, b: n, off })
                if a == b && a == c && n != a =>
            {
                Op::IncJmpLt {
                    a,
                    b: n,
                    off: Jump(off.0 + 1),
                }
            }
            _ => return,
        };
        code[post_at] = fused;
    }

    fn range_for(
        &mut self,
        key: Option<&Expr>,
        value: Option<&Expr>,
        define: bool,
        expr: &Expr,
        body: &Block,
        label: Option<Rc<str>>,
    ) {
        // Hidden registers: collection, iteration state, next key, next value.
        let base = self.alloc_regs(4, expr.span);
        self.expr_into(expr, base);
        {
            let f = self.f();
            f.n_local_regs = f.n_local_regs.max(base.0 as usize + 4);
            f.free_reg = f.free_reg.max(f.n_local_regs);
        }
        self.emit(Op::RangePrep { a: base });
        let top = self.emit(Op::RangeNext {
            a: base,
            off: Jump(0),
        });
        self.push_break(BreakKind::Loop, label);
        self.scoped(|c| {
            for (i, e) in [key, value].into_iter().enumerate() {
                let Some(e) = e else { continue };
                let src = Reg(base.0 + 2 + i as u8);
                if define {
                    let Some(id) = e.as_name() else { continue };
                    if &*id.name == "_" {
                        continue;
                    }
                    if c.binding_captured(id) {
                        let r = c.alloc_reg(e.span);
                        c.emit(Op::NewCell { a: r, b: src });
                        c.bind_local(id, r);
                    } else {
                        c.bind_local(id, src);
                    }
                } else {
                    let t = c.prepare_target(e, None);
                    c.store_target(t, src);
                }
            }
            for s in &body.stmts {
                c.stmt(s);
            }
        });
        let ctx = self.pop_break();
        for j in ctx.continues {
            self.patch(j, top);
        }
        self.jump_to(top);
        self.patch(top, self.pc());
        self.patch_here(ctx.breaks);
    }

    fn switch_stmt(
        &mut self,
        init: Option<&Stmt>,
        tag: Option<&Expr>,
        cases: &[CaseClause],
        label: Option<Rc<str>>,
    ) {
        self.scoped(|c| {
            if let Some(init) = init {
                c.stmt(init);
            }
            let tag_reg = tag.map(|t| {
                let r = c.expr_to_temp(t);
                let f = c.f();
                f.n_local_regs = f.n_local_regs.max(r.0 as usize + 1);
                r
            });
            let mut body_jumps: Vec<Vec<usize>> = vec![Vec::new(); cases.len()];
            for (i, case) in cases.iter().enumerate() {
                for e in &case.exprs {
                    c.cur_line = c.line_of(e.span);
                    let mark = c.mark();
                    match tag_reg {
                        Some(t) => {
                            let r = c.expr_any(e);
                            body_jumps[i].push(c.emit(Op::JmpEq {
                                a: t,
                                b: r,
                                off: Jump(0),
                            }));
                        }
                        None => body_jumps[i].extend(c.cond_jump(e, true)),
                    }
                    c.release_to(mark);
                }
            }
            let no_match = c.emit(Op::Jmp { off: Jump(0) });
            c.push_break(BreakKind::Switch, label);
            let mut end_jumps = Vec::new();
            let mut default_start = None;
            for (i, case) in cases.iter().enumerate() {
                let start = c.pc();
                if case.is_default {
                    default_start = Some(start);
                }
                let jumps = std::mem::take(&mut body_jumps[i]);
                c.patch_here(jumps);
                c.cur_line = c.line_of(case.span);
                c.scoped(|c| {
                    for s in &case.body {
                        c.stmt(s);
                    }
                });
                end_jumps.push(c.emit(Op::Jmp { off: Jump(0) }));
            }
            let ctx = c.pop_break();
            match default_start {
                Some(d) => c.patch(no_match, d),
                None => end_jumps.push(no_match),
            }
            c.patch_here(end_jumps);
            c.patch_here(ctx.breaks);
        });
    }

    fn select_stmt(&mut self, cases: &[CommClause], label: Option<Rc<str>>) {
        self.scoped(|c| {
            let comm_cases: Vec<&CommClause> = cases
                .iter()
                .filter(|k| k.comm != CommKind::Default)
                .collect();
            let has_default = comm_cases.len() != cases.len();
            let n = comm_cases.len();
            if 3 + 2 * n > MAX_REGISTERS / 2 {
                c.error(
                    cases.first().map_or(Span::default(), |k| k.span),
                    "select has too many cases",
                );
                return;
            }
            let base = c.alloc_regs(3 + 2 * n, cases.first().map_or(Span::default(), |k| k.span));
            let mut desc = SelectDesc {
                cases: Vec::with_capacity(n),
                has_default,
            };
            for (i, case) in comm_cases.iter().enumerate() {
                let chan_reg = Reg(base.0 + 3 + 2 * i as u8);
                match &case.comm {
                    CommKind::Send { chan, value } => {
                        c.expr_into(chan, chan_reg);
                        c.expr_into(value, Reg(chan_reg.0 + 1));
                        desc.cases.push(SelectCase::Send);
                    }
                    CommKind::Recv { chan, .. } => {
                        c.expr_into(chan, chan_reg);
                        desc.cases.push(SelectCase::Recv);
                    }
                    CommKind::Default => {}
                }
            }
            {
                let f = c.f();
                f.n_local_regs = f.n_local_regs.max(base.0 as usize + 3);
                f.free_reg = f.n_local_regs.max(f.free_reg);
            }
            let s = c.fr().proto.selects.len() as u16;
            c.f().proto.selects.push(desc);
            c.emit(Op::Select {
                a: base,
                s: SelectIdx(s),
            });
            c.release_to(base.0 as usize + 3);
            c.push_break(BreakKind::Select, label);
            let mut end_jumps = Vec::new();
            let mut comm_index = 0u8;
            for case in cases {
                let index = match case.comm {
                    CommKind::Default => n as i32,
                    _ => {
                        comm_index += 1;
                        (comm_index - 1) as i32
                    }
                };
                c.cur_line = c.line_of(case.span);
                let mark = c.mark();
                let t = c.alloc_reg(case.span);
                c.emit(Op::LoadInt {
                    a: t,
                    v: Imm(index),
                });
                let skip = c.emit(Op::JmpNe {
                    a: base,
                    b: t,
                    off: Jump(0),
                });
                c.release_to(mark);
                c.scoped(|c| {
                    if let CommKind::Recv { lhs, define, .. } = &case.comm {
                        for (i, e) in lhs.iter().enumerate() {
                            let src = Reg(base.0 + 1 + i as u8);
                            if *define {
                                if let Some(id) = e.as_name() {
                                    let r = c.alloc_reg(e.span);
                                    c.emit(Op::Move { a: r, b: src });
                                    c.finish_decl(id, r);
                                }
                            } else {
                                let t = c.prepare_target(e, None);
                                c.store_target(t, src);
                            }
                        }
                    }
                    for s in &case.body {
                        c.stmt(s);
                    }
                });
                end_jumps.push(c.emit(Op::Jmp { off: Jump(0) }));
                c.patch_here(vec![skip]);
            }
            let ctx = c.pop_break();
            c.patch_here(end_jumps);
            c.patch_here(ctx.breaks);
        });
    }

    fn return_stmt(&mut self, values: &[Expr], span: Span) {
        match values {
            [] => {
                self.emit(Op::Return {
                    a: Reg(0),
                    n: Count(0),
                });
            }
            [single] if self.is_multi_valued_call(single) => {
                let base = self.base_at_mark(single.span);
                self.call(single, base, MULTI);
                self.cur_line = self.line_of(span);
                self.emit(Op::Return { a: base, n: MULTI });
            }
            [single] => {
                let r = self.expr_any(single);
                self.cur_line = self.line_of(span);
                self.emit(Op::Return { a: r, n: Count(1) });
            }
            many => {
                let base = self.alloc_regs(many.len(), span);
                for (i, v) in many.iter().enumerate() {
                    self.expr_into(v, Reg(base.0 + i as u8));
                    self.release_to(base.0 as usize + many.len());
                }
                self.cur_line = self.line_of(span);
                self.emit(Op::Return {
                    a: base,
                    n: Count(many.len() as u8),
                });
            }
        }
    }

    fn go_or_defer(&mut self, call: &Expr, is_go: bool) {
        let ExprKind::Call { func, args, spread } = &call.kind else {
            return;
        };
        let base = self.alloc_reg(call.span);
        let method = match &func.kind {
            ExprKind::Field(obj, name) => {
                self.expr_into(obj, base);
                Some(self.name_const(&name.name, name.span))
            }
            _ => {
                self.expr_into(func, base);
                None
            }
        };
        let nargs = self.args_into(args, call.span);
        self.cur_line = self.line_of(call.span);
        let spread = Flag(*spread);
        match (is_go, method) {
            (true, None) => self.emit(Op::Go {
                a: base,
                nargs,
                spread,
            }),
            (true, Some(k)) => self.emit(Op::GoMethod {
                a: base,
                k,
                nargs,
                spread,
            }),
            (false, None) => self.emit(Op::Defer {
                a: base,
                nargs,
                spread,
            }),
            (false, Some(k)) => self.emit(Op::DeferMethod {
                a: base,
                k,
                nargs,
                spread,
            }),
        };
    }

    /// A call that may return several values (`f(g())`, `return g()`): any call
    /// except the builtins compiled to their own single-result instruction,
    /// which do not set the frame's top.
    fn is_multi_valued_call(&self, e: &Expr) -> bool {
        let ExprKind::Call { func, .. } = &e.kind else {
            return false;
        };
        match func
            .as_name()
            .and_then(|id| self.res.uses.get(&id.span.start))
        {
            // Builtins with exactly one result: `f(float(x))` passes one
            // argument (and compiles `float(x)` to a `Convert`).
            Some(Res::Builtin(b)) => !matches!(
                BUILTINS[*b as usize],
                "len" | "cap" | "append" | "recover" | "make" | "float" | "int" | "str" | "typeof"
            ),
            _ => true,
        }
    }

    // ------------------------------------------------------------ expressions

    /// Evaluates `e` into some register: a non-captured local's own register, or a new temporary.
    fn expr_any(&mut self, e: &Expr) -> Reg {
        if let ExprKind::Name(id) = &e.kind {
            if let Some(Res::Local(b)) = self.res.uses.get(&id.span.start).copied() {
                if let Some(slot) = self.fr().locals.get(&b).copied() {
                    if !slot.in_cell {
                        return slot.reg;
                    }
                }
            }
        }
        self.expr_to_temp(e)
    }

    /// Evaluates `e` into a new temporary.
    fn expr_to_temp(&mut self, e: &Expr) -> Reg {
        let r = self.alloc_reg(e.span);
        self.expr_into(e, r);
        self.release_to(r.0 as usize + 1);
        r
    }

    /// Evaluates `e` into `dst`.
    fn expr_into(&mut self, e: &Expr, dst: Reg) {
        if let Some(v) = self.fold(e) {
            self.load_folded(&v, dst, e.span);
            return;
        }
        let mark = self.mark();
        match &e.kind {
            ExprKind::Nil
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_) => {
                // Not foldable only when out of range (reported by `fold`).
            }
            ExprKind::Bad => {}
            ExprKind::ChanType => self.error(
                e.span,
                "chan is not a value: use make(chan) or make(chan, n)",
            ),
            ExprKind::Name(id) => self.load_name(id, dst),
            ExprKind::List(items) => self.multi_step(dst, |c, d| c.list_literal(items, d, e.span)),
            ExprKind::Map(items) => self.multi_step(dst, |c, d| {
                c.emit(Op::NewMap {
                    a: d,
                    n: Count(items.len().min(254) as u8),
                });
                for (k, v) in items {
                    let m = c.mark();
                    let kr = c.expr_any(k);
                    let vr = c.expr_any(v);
                    c.emit(Op::SetIndex { a: d, b: kr, c: vr });
                    c.release_to(m);
                }
            }),
            ExprKind::Composite { ty, elems } => self.multi_step(dst, |c, d| {
                let t = c.expr_any(ty);
                c.cur_line = c.line_of(e.span);
                c.emit(Op::NewStruct { a: d, b: t });
                for (i, (key, v)) in elems.iter().enumerate() {
                    let m = c.mark();
                    let vr = c.expr_any(v);
                    match key {
                        Some(k) => {
                            let kc = c.name_const(&k.name, k.span);
                            c.emit(Op::SetField { a: d, k: kc, b: vr });
                        }
                        None => {
                            c.emit(Op::InitField {
                                a: d,
                                i: Count(i.min(254) as u8),
                                b: vr,
                            });
                        }
                    }
                    c.release_to(m);
                }
            }),
            ExprKind::Func(lit) => {
                let name = self.func_literal_name();
                let p = self.function(lit, name, None, true);
                self.closure(p, dst);
            }
            ExprKind::Unary(op, x) => {
                let r = self.expr_any(x);
                self.cur_line = self.line_of(e.span);
                let op = match op {
                    UnOp::Neg => Op::Neg { a: dst, b: r },
                    UnOp::Plus => Op::Plus { a: dst, b: r },
                    UnOp::Not => Op::Not { a: dst, b: r },
                    UnOp::BitNot => Op::BitNot { a: dst, b: r },
                    UnOp::Recv => Op::Recv { a: dst, b: r },
                };
                self.emit(op);
            }
            ExprKind::Binary(op, a, b) => self.binary_into(*op, a, b, dst),
            ExprKind::Call { .. } => {
                // A call into the topmost temporary puts its result there directly.
                let base = if !self.is_local_reg(dst) && dst.0 as usize + 1 == self.mark() {
                    dst
                } else {
                    self.base_at_mark(e.span)
                };
                self.call(e, base, Count(1));
                if base != dst {
                    self.emit(Op::Move { a: dst, b: base });
                }
            }
            ExprKind::Index(c, k) => {
                let cr = self.expr_any(c);
                let kr = self.expr_any(k);
                self.cur_line = self.line_of(e.span);
                self.emit(Op::GetIndex {
                    a: dst,
                    b: cr,
                    c: kr,
                });
            }
            ExprKind::Slice { base, lo, hi } => {
                let b = self.expr_any(base);
                let bounds = self.alloc_regs(2, e.span);
                match lo {
                    Some(lo) => self.expr_into(lo, bounds),
                    None => {
                        self.emit(Op::LoadNil {
                            a: bounds,
                            n: Count(0),
                        });
                    }
                }
                match hi {
                    Some(hi) => self.expr_into(hi, Reg(bounds.0 + 1)),
                    None => {
                        self.emit(Op::LoadNil {
                            a: Reg(bounds.0 + 1),
                            n: Count(0),
                        });
                    }
                }
                self.cur_line = self.line_of(e.span);
                self.emit(Op::Slice {
                    a: dst,
                    b,
                    c: bounds,
                });
            }
            ExprKind::Field(obj, name) => {
                let o = self.expr_any(obj);
                let k = self.name_const(&name.name, name.span);
                self.cur_line = self.line_of(e.span);
                self.emit(Op::GetField { a: dst, b: o, k });
            }
        }
        self.release_to(mark);
    }

    /// Builds a value in several instructions; if `dst` is a live local (which the
    /// expression may still read), builds it in a temporary and moves it over.
    fn multi_step(&mut self, dst: Reg, build: impl FnOnce(&mut Self, Reg)) {
        if self.is_local_reg(dst) {
            let t = self.alloc_reg(Span::default());
            build(self, t);
            self.emit(Op::Move { a: dst, b: t });
        } else {
            build(self, dst);
        }
    }

    fn list_literal(&mut self, items: &[Expr], dst: Reg, span: Span) {
        const CHUNK: usize = 64;
        let mut first = true;
        for chunk in items.chunks(CHUNK).chain(if items.is_empty() {
            Some(&items[..0])
        } else {
            None
        }) {
            let m = self.mark();
            if first {
                let base = self.alloc_regs(chunk.len(), span);
                for (i, v) in chunk.iter().enumerate() {
                    self.expr_into(v, Reg(base.0 + i as u8));
                }
                self.cur_line = self.line_of(span);
                self.emit(Op::NewList {
                    a: dst,
                    // An empty window names no register: `base` may be one
                    // past the frame (`[]` with nothing else live).
                    b: if chunk.is_empty() { dst } else { base },
                    n: Count(chunk.len() as u8),
                });
                first = false;
            } else {
                let base = self.alloc_regs(chunk.len() + 1, span);
                self.emit(Op::Move { a: base, b: dst });
                for (i, v) in chunk.iter().enumerate() {
                    self.expr_into(v, Reg(base.0 + 1 + i as u8));
                }
                self.emit(Op::Append {
                    a: dst,
                    b: base,
                    n: Count(chunk.len() as u8),
                });
            }
            self.release_to(m);
        }
    }

    fn load_name(&mut self, id: &Ident, dst: Reg) {
        match self.res.uses.get(&id.span.start).copied() {
            Some(Res::Local(b)) => match self.fr().locals.get(&b).copied() {
                Some(slot) if slot.in_cell => {
                    self.emit(Op::GetCell {
                        a: dst,
                        b: slot.reg,
                    });
                }
                Some(slot) => {
                    if slot.reg != dst {
                        self.emit(Op::Move {
                            a: dst,
                            b: slot.reg,
                        });
                    }
                }
                None => {
                    self.emit(Op::LoadNil {
                        a: dst,
                        n: Count(0),
                    });
                }
            },
            Some(Res::Upvalue(u)) => {
                self.emit(Op::GetUpval { a: dst, u: Upv(u) });
            }
            Some(Res::Global(g)) => {
                self.emit(Op::GetGlobal { a: dst, g: Glob(g) });
            }
            Some(Res::Builtin(f)) => {
                self.emit(Op::GetBuiltin {
                    a: dst,
                    f: BuiltinIdx(f),
                });
            }
            Some(Res::Iota) => {
                let v = self.iota.unwrap_or(0);
                self.load_folded(&Folded::Int(v), dst, id.span);
            }
            Some(Res::Blank) | None => {
                self.emit(Op::LoadNil {
                    a: dst,
                    n: Count(0),
                });
            }
        }
    }

    fn binary_into(&mut self, op: BinOp, a: &Expr, b: &Expr, dst: Reg) {
        match op {
            BinOp::AndAnd | BinOp::OrOr => {
                // Through conditional jumps, so that both operands are checked to be
                // bools (Go's rule) and the result is always a bool.
                let e = Expr::new(
                    ExprKind::Binary(op, Box::new(a.clone()), Box::new(b.clone())),
                    a.span.to(b.span),
                    a.depth.max(b.depth) + 1,
                );
                let false_jumps = self.cond_jump(&e, false);
                self.emit(Op::LoadBool {
                    a: dst,
                    v: Flag(true),
                });
                let end = self.emit(Op::Jmp { off: Jump(0) });
                self.patch_here(false_jumps);
                self.emit(Op::LoadBool {
                    a: dst,
                    v: Flag(false),
                });
                self.patch_here(vec![end]);
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ra = self.expr_any(a);
                let rb = self.expr_any(b);
                self.cur_line = self.line_of(a.span.to(b.span));
                self.arith(op, dst, ra, rb);
            }
            _ => {
                let ra = self.expr_any(a);
                // `x + k` and `x - k` with a small constant use the immediate form.
                // `x * k`, `x / k` and `x % k` likewise (`/ 0` and `% 0`
                // keep their runtime panic).
                if let Some(Folded::Int(k)) = self.fold(b) {
                    let imm = match op {
                        BinOp::Add | BinOp::Mul => Some(k),
                        BinOp::Sub => k.checked_neg(),
                        BinOp::Div | BinOp::Mod if k != 0 => Some(k),
                        _ => None,
                    };
                    if let Some(v) = imm.filter(|v| fits_i32(*v)) {
                        self.cur_line = self.line_of(a.span.to(b.span));
                        let (b, v) = (ra, Imm(v as i32));
                        self.emit(match op {
                            BinOp::Mul => Op::MulInt { a: dst, b, v },
                            BinOp::Mod => Op::ModInt { a: dst, b, v },
                            BinOp::Div => Op::DivInt { a: dst, b, v },
                            _ => Op::AddInt { a: dst, b, v },
                        });
                        return;
                    }
                }
                let rb = self.expr_any(b);
                self.cur_line = self.line_of(a.span.to(b.span));
                self.arith(op, dst, ra, rb);
            }
        }
    }

    fn arith(&mut self, op: BinOp, a: Reg, b: Reg, c: Reg) {
        let ins = match op {
            BinOp::Add => Op::Add { a, b, c },
            BinOp::Sub => Op::Sub { a, b, c },
            BinOp::Mul => Op::Mul { a, b, c },
            BinOp::Div => Op::Div { a, b, c },
            BinOp::Mod => Op::Mod { a, b, c },
            BinOp::BitAnd => Op::BitAnd { a, b, c },
            BinOp::BitOr => Op::BitOr { a, b, c },
            BinOp::BitXor => Op::BitXor { a, b, c },
            BinOp::AndNot => Op::AndNot { a, b, c },
            BinOp::Shl => Op::Shl { a, b, c },
            BinOp::Shr => Op::Shr { a, b, c },
            BinOp::Eq => Op::Eq { a, b, c },
            BinOp::Ne => Op::Ne { a, b, c },
            BinOp::Lt => Op::Lt { a, b, c },
            BinOp::Le => Op::Le { a, b, c },
            BinOp::Gt => Op::Lt { a, b: c, c: b },
            BinOp::Ge => Op::Le { a, b: c, c: b },
            BinOp::AndAnd | BinOp::OrOr => return,
        };
        self.emit(ins);
    }

    /// Emits a test of `e` that jumps when `e == when`; returns the jumps to patch.
    fn cond_jump(&mut self, e: &Expr, when: bool) -> Vec<usize> {
        if let Some(Folded::Bool(b)) = self.fold(e) {
            return if b == when {
                vec![self.emit(Op::Jmp { off: Jump(0) })]
            } else {
                Vec::new()
            };
        }
        match &e.kind {
            ExprKind::Unary(UnOp::Not, x) => self.cond_jump(x, !when),
            ExprKind::Binary(BinOp::AndAnd, a, b) | ExprKind::Binary(BinOp::OrOr, a, b) => {
                let is_and = matches!(e.kind, ExprKind::Binary(BinOp::AndAnd, ..));
                if is_and != when {
                    // (a && b) false when either is false; (a || b) true when either is true.
                    let mut j = self.cond_jump(a, when);
                    j.extend(self.cond_jump(b, when));
                    j
                } else {
                    let skip = self.cond_jump(a, !when);
                    let j = self.cond_jump(b, when);
                    self.patch_here(skip);
                    j
                }
            }
            ExprKind::Binary(
                op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne),
                a,
                b,
            ) => {
                if let Some(at) = self.compare_with_int_const(*op, a, b, when, e.span) {
                    return vec![at];
                }
                let mark = self.mark();
                let ra = self.expr_any(a);
                let rb = self.expr_any(b);
                self.release_to(mark);
                self.cur_line = self.line_of(e.span);
                let off = Jump(0);
                let ins = match (op, when) {
                    (BinOp::Lt, true) => Op::JmpLt { a: ra, b: rb, off },
                    (BinOp::Lt, false) => Op::JmpNotLt { a: ra, b: rb, off },
                    (BinOp::Le, true) => Op::JmpLe { a: ra, b: rb, off },
                    (BinOp::Le, false) => Op::JmpNotLe { a: ra, b: rb, off },
                    (BinOp::Gt, true) => Op::JmpLt { a: rb, b: ra, off },
                    (BinOp::Gt, false) => Op::JmpNotLt { a: rb, b: ra, off },
                    (BinOp::Ge, true) => Op::JmpLe { a: rb, b: ra, off },
                    (BinOp::Ge, false) => Op::JmpNotLe { a: rb, b: ra, off },
                    (BinOp::Eq, true) | (BinOp::Ne, false) => Op::JmpEq { a: ra, b: rb, off },
                    _ => Op::JmpNe { a: ra, b: rb, off },
                };
                vec![self.emit(ins)]
            }
            _ => {
                let mark = self.mark();
                let r = self.expr_any(e);
                self.release_to(mark);
                self.cur_line = self.line_of(e.span);
                let off = Jump(0);
                vec![self.emit(if when {
                    Op::JmpIf { a: r, off }
                } else {
                    Op::JmpIfNot { a: r, off }
                })]
            }
        }
    }

    /// An ordering test of a value against an int constant (`i < n` with `n`
    /// constant) as one instruction with the constant operand; `None` when
    /// the right side is not an int constant or the left one is one too.
    fn compare_with_int_const(
        &mut self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        when: bool,
        span: Span,
    ) -> Option<usize> {
        if !matches!(
            op,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne
        ) {
            return None;
        }
        // Only with the constant on the right: `k < x` keeps the general
        // form, whose error for a non-number names the operands in order.
        // Folding here is quiet: an out-of-range literal is left to the
        // general form, which reports it once.
        let (Some(Folded::Int(k)), false) = self.fold_quiet(b) else {
            return None;
        };
        if let (Some(_), _) | (_, true) = self.fold_quiet(a) {
            return None;
        }
        let mark = self.mark();
        let r = self.expr_any(a);
        self.release_to(mark);
        let k = self.constant(ConstKey::Int(k), Constant::Int(k), span);
        self.cur_line = self.line_of(span);
        let off = Jump(0);
        let ins = match (op, when) {
            (BinOp::Lt, true) => Op::JmpLtK { a: r, k, off },
            (BinOp::Lt, false) => Op::JmpNotLtK { a: r, k, off },
            (BinOp::Le, true) => Op::JmpLeK { a: r, k, off },
            (BinOp::Le, false) => Op::JmpNotLeK { a: r, k, off },
            (BinOp::Gt, true) => Op::JmpGtK { a: r, k, off },
            (BinOp::Gt, false) => Op::JmpNotGtK { a: r, k, off },
            (BinOp::Ge, true) => Op::JmpGeK { a: r, k, off },
            (BinOp::Ge, false) => Op::JmpNotGeK { a: r, k, off },
            (BinOp::Eq, true) | (BinOp::Ne, false) => Op::JmpEqK { a: r, k, off },
            _ => Op::JmpNeK { a: r, k, off },
        };
        Some(self.emit(ins))
    }

    /// Evaluates call arguments into the registers after the callee; returns their count.
    fn args_into(&mut self, args: &[Expr], span: Span) -> Count {
        if let [single] = args {
            if self.is_multi_valued_call(single) {
                // f(g()): every result of g is an argument of f.
                let base = self.base_at_mark(single.span);
                self.call(single, base, MULTI);
                return MULTI;
            }
        }
        if args.len() > 200 {
            self.error(span, "too many arguments in call");
        }
        // One register at a time, so a call argument lands in its slot directly.
        for a in args {
            let r = self.alloc_reg(span);
            self.expr_into(a, r);
        }
        Count(args.len().min(200) as u8)
    }

    /// Compiles a call with the callee at `base`; results land at `base..`.
    fn call(&mut self, e: &Expr, base: Reg, nres: Count) {
        let ExprKind::Call { func, args, spread } = &e.kind else {
            return;
        };
        let mark = self.mark();
        self.release_to(base.0 as usize);
        if let Some(Res::Builtin(b)) = func
            .as_name()
            .and_then(|id| self.res.uses.get(&id.span.start))
            .copied()
        {
            if self.builtin_call(BUILTINS[b as usize], args, *spread, base, nres, e.span) {
                self.release_to(mark.max(base.0 as usize + 1));
                return;
            }
        }
        let call_line = self.line_of(e.span);
        // A module-level func is constant (nothing assigns to it, and the
        // module's init stores every func before any other code runs), so
        // reading it after the arguments, in the call, changes nothing.
        let global_func = match func
            .as_name()
            .and_then(|id| self.res.uses.get(&id.span.start))
        {
            Some(&Res::Global(g)) if self.res.globals[g as usize].kind == GlobalKind::Func => {
                Some(Glob(g))
            }
            _ => None,
        };
        let method = match &func.kind {
            ExprKind::Field(obj, name) => {
                let b = self.alloc_reg(e.span);
                self.expr_into(obj, b);
                Some(self.name_const(&name.name, name.span))
            }
            _ => {
                let b = self.alloc_reg(e.span);
                if global_func.is_none() || *spread {
                    self.expr_into(func, b);
                }
                None
            }
        };
        let nargs = self.args_into(args, e.span);
        self.cur_line = call_line;
        match (method, *spread) {
            (None, false) => match global_func {
                Some(g) => self.emit(Op::CallGlobal {
                    a: base,
                    g,
                    nargs,
                    nres,
                }),
                None => self.emit(Op::Call {
                    a: base,
                    nargs,
                    nres,
                }),
            },
            (None, true) => self.emit(Op::CallSpread {
                a: base,
                nargs,
                nres,
            }),
            (Some(k), false) => self.emit(Op::CallMethod {
                a: base,
                k,
                nargs,
                nres,
            }),
            (Some(k), true) => self.emit(Op::CallMethodSpread {
                a: base,
                k,
                nargs,
                nres,
            }),
        };
        self.release_to(mark.max(base.0 as usize + 1));
    }

    /// Builtins with their own instruction. Returns false to compile a plain call.
    fn builtin_call(
        &mut self,
        name: &str,
        args: &[Expr],
        spread: bool,
        base: Reg,
        nres: Count,
        span: Span,
    ) -> bool {
        let line = self.line_of(span);
        match (name, args, spread) {
            ("len", [x], false) => {
                let d = self.alloc_reg(span);
                let r = self.expr_any(x);
                self.cur_line = line;
                self.emit(Op::Len { a: d, b: r });
            }
            ("append", [_, ..], _) => {
                let d = self.alloc_reg(span);
                let regs = self.alloc_regs(args.len(), span);
                for (i, a) in args.iter().enumerate() {
                    self.expr_into(a, Reg(regs.0 + i as u8));
                }
                self.cur_line = line;
                if spread {
                    if args.len() != 2 {
                        self.error(span, "can only use ... with final argument in list");
                    }
                    self.emit(Op::AppendSpread { a: d, b: regs });
                } else {
                    self.emit(Op::Append {
                        a: d,
                        b: regs,
                        n: Count((args.len() - 1) as u8),
                    });
                }
            }
            // Not where every result is wanted (`return float(x)`,
            // `f(float(x))`): those read the call's result count.
            ("float" | "int" | "str", [x], false) if nres != MULTI => {
                // The argument goes where a call's would (R[d+1]): the
                // interpreter makes the builtin's own call from there when
                // the operand is not a number it converts inline.
                let d = self.alloc_reg(span);
                let arg = self.alloc_reg(span);
                debug_assert_eq!(arg.0, d.0 + 1, "consecutive registers");
                self.expr_into(x, arg);
                self.cur_line = line;
                let f = BuiltinIdx(builtin_index(name).expect("a builtin"));
                self.emit(Op::Convert { a: d, f });
            }
            ("recover", [], false) => {
                let d = self.alloc_reg(span);
                self.emit(Op::Recover { a: d });
            }
            ("make", [first, rest @ ..], false) if matches!(first.kind, ExprKind::ChanType) => {
                let d = self.alloc_reg(span);
                let size = self.alloc_reg(span);
                match rest {
                    [] => {
                        self.emit(Op::LoadNil {
                            a: size,
                            n: Count(0),
                        });
                    }
                    [n] => self.expr_into(n, size),
                    _ => self.error(span, "too many arguments to make(chan)"),
                }
                self.cur_line = line;
                self.emit(Op::MakeChan { a: d, b: size });
            }
            ("make", _, _) => {
                self.error(
                    span,
                    "make takes chan as its first argument: make(chan) or make(chan, n)",
                );
                return true;
            }
            ("min" | "max", [], false) => {
                // Go's compile error (the builtins want at least one operand).
                self.error(
                    span,
                    format!("not enough arguments for {name}() (expected 1, found 0)"),
                );
                return true;
            }
            _ => return false,
        }
        // The single result is at `base`; extra requested results are nil.
        if nres.0 > 1 && nres != MULTI {
            self.emit(Op::LoadNil {
                a: Reg(base.0 + 1),
                n: Count(nres.0 - 2),
            });
        }
        true
    }

    // ------------------------------------------------------------ constant folding

    /// [`Compiler::fold`] without reporting: the folded value and whether
    /// folding found an error (which the caller leaves to the general path).
    fn fold_quiet(&mut self, e: &Expr) -> (Option<Folded>, bool) {
        let reported = self.diags.len();
        let folded = self.fold(e);
        let failed = self.diags.len() > reported;
        self.diags.truncate(reported);
        (folded, failed)
    }

    fn fold(&mut self, e: &Expr) -> Option<Folded> {
        match &e.kind {
            ExprKind::Nil => Some(Folded::Nil),
            ExprKind::Bool(b) => Some(Folded::Bool(*b)),
            ExprKind::Int(v) => {
                if *v > i64::MAX as u64 {
                    self.error(
                        e.span,
                        format!("cannot use {v} (untyped int constant) as int value (overflows)"),
                    );
                    return Some(Folded::Int(0));
                }
                Some(Folded::Int(*v as i64))
            }
            ExprKind::Float(f) => Some(Folded::Float(*f)),
            ExprKind::Str(s) => Some(Folded::Str(s.clone())),
            ExprKind::Name(id) => match self.res.uses.get(&id.span.start) {
                Some(Res::Iota) => self.iota.map(Folded::Int),
                Some(Res::Global(g)) => self.global_consts.get(g).cloned(),
                Some(Res::Local(b)) => self.local_consts.get(b).cloned(),
                _ => None,
            },
            ExprKind::Unary(op, x) => {
                // -9223372036854775808 is a valid literal.
                if let (UnOp::Neg, ExprKind::Int(v)) = (op, &x.kind) {
                    if *v == 1 << 63 {
                        return Some(Folded::Int(i64::MIN));
                    }
                }
                let v = self.fold(x)?;
                match (op, v) {
                    (UnOp::Neg, Folded::Int(i)) => Some(Folded::Int(i.wrapping_neg())),
                    // Go's constants are exact: -0.0 is zero.
                    (UnOp::Neg, Folded::Float(f)) => {
                        Some(Folded::Float(if f == 0.0 { 0.0 } else { -f }))
                    }
                    (UnOp::Plus, v @ (Folded::Int(_) | Folded::Float(_))) => Some(v),
                    (UnOp::Not, Folded::Bool(b)) => Some(Folded::Bool(!b)),
                    (UnOp::BitNot, Folded::Int(i)) => Some(Folded::Int(!i)),
                    _ => None,
                }
            }
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.fold(a)?, self.fold(b)?);
                fold_binary(*op, a, b)
            }
            _ => None,
        }
    }
}

/// Folds a binary operation on constants, as the interpreter would compute it.
/// Returns `None` for anything that must panic or is not defined (left to run time).
fn fold_binary(op: BinOp, a: Folded, b: Folded) -> Option<Folded> {
    use Folded::*;
    Some(match (a, b) {
        (Int(x), Int(y)) => match op {
            BinOp::Add => Int(x.wrapping_add(y)),
            BinOp::Sub => Int(x.wrapping_sub(y)),
            BinOp::Mul => Int(x.wrapping_mul(y)),
            BinOp::Div if y != 0 => Int(x.wrapping_div(y)),
            BinOp::Mod if y != 0 => Int(x.wrapping_rem(y)),
            BinOp::BitAnd => Int(x & y),
            BinOp::BitOr => Int(x | y),
            BinOp::BitXor => Int(x ^ y),
            BinOp::AndNot => Int(x & !y),
            BinOp::Shl if y >= 0 => Int(if y >= 64 { 0 } else { x.wrapping_shl(y as u32) }),
            BinOp::Shr if y >= 0 => Int(if y >= 64 {
                if x < 0 {
                    -1
                } else {
                    0
                }
            } else {
                x >> y
            }),
            BinOp::Eq => Bool(x == y),
            BinOp::Ne => Bool(x != y),
            BinOp::Lt => Bool(x < y),
            BinOp::Le => Bool(x <= y),
            BinOp::Gt => Bool(x > y),
            BinOp::Ge => Bool(x >= y),
            _ => return None,
        },
        (Int(x), Float(y)) => return fold_binary(op, Float(x as f64), Float(y)),
        (Float(x), Int(y)) => return fold_binary(op, Float(x), Float(y as f64)),
        (Float(x), Float(y)) => match op {
            BinOp::Add => Float(x + y),
            BinOp::Sub => Float(x - y),
            BinOp::Mul => Float(x * y),
            BinOp::Div if y != 0.0 => Float(x / y),
            BinOp::Eq => Bool(x == y),
            BinOp::Ne => Bool(x != y),
            BinOp::Lt => Bool(x < y),
            BinOp::Le => Bool(x <= y),
            BinOp::Gt => Bool(x > y),
            BinOp::Ge => Bool(x >= y),
            _ => return None,
        },
        (Str(x), Str(y)) => match op {
            BinOp::Add => Str(x.iter().chain(y.iter()).copied().collect()),
            BinOp::Eq => Bool(x == y),
            BinOp::Ne => Bool(x != y),
            BinOp::Lt => Bool(x < y),
            BinOp::Le => Bool(x <= y),
            BinOp::Gt => Bool(x > y),
            BinOp::Ge => Bool(x >= y),
            _ => return None,
        },
        (Bool(x), Bool(y)) => match op {
            BinOp::AndAnd => Bool(x && y),
            BinOp::OrOr => Bool(x || y),
            BinOp::Eq => Bool(x == y),
            BinOp::Ne => Bool(x != y),
            _ => return None,
        },
        _ => return None,
    })
}

/// An assignment target whose operands have been evaluated.
enum Target {
    Name(Ident),
    Index(Reg, Reg),
    Field(Reg, Kst),
    Discard,
}

/// Jump threading: a jump whose target is an unconditional `Jmp` goes
/// straight to where that one leads (`break` inside a loop's last `if`
/// compiled to a jump to a jump). Instructions do not move, so lines and
/// inline caches are unchanged; every cycle of the code still contains a
/// backward jump (positions must decrease somewhere around it), so every
/// loop keeps a safepoint.
fn thread_jumps(code: &mut [Op]) {
    let target = |at: usize, off: Jump| (at as i64 + 1 + off.0 as i64) as usize;
    for at in 0..code.len() {
        let Some(off) = code[at].jump_offset() else {
            continue;
        };
        let mut dest = target(at, off);
        // Bounded: a chain of jumps could loop (`for {}`).
        for _ in 0..8 {
            match code.get(dest) {
                Some(&Op::Jmp { off: next }) if target(dest, next) != dest => {
                    dest = target(dest, next);
                }
                _ => break,
            }
        }
        let new = Jump(dest as i32 - at as i32 - 1);
        if let Some(o) = code[at].jump_offset_mut() {
            *o = new;
        }
    }
}
