//! The instruction set and the compiled form of a function ([`Proto`]).
//!
//! Register-based, after Lua 5.4's `lopcodes.h`: each function has up to 250
//! registers; `R[x]` is a register, `K[x]` a constant of the function, `U[x]` an
//! upvalue cell of the running closure, `G[x]` a global slot of the module.
//!
//! **One table defines the instruction set**: [`for_each_op!`] lists every
//! opcode once, with its operands, whether it carries a write barrier, and its
//! effect; the enum, the names, the barrier flags and the disassembler are all
//! generated from it.
//!
//! **Barriers.** An instruction marked `wb` stores a value into a heap object
//! (a struct field, a list or map slot, an upvalue cell, a module global, a
//! channel buffer, a fresh object being initialised, or another goroutine's
//! stack). The interpreter must run the collector's write barrier for it.
//! Instructions not marked store only into the running goroutine's own
//! registers or frames (its stack), which the hybrid barrier exempts: stacks are
//! scanned once per cycle and never rescanned. Instructions that allocate but
//! store no value into the new object (`NewMap`, `NewStruct`, `NewCellNil`) are
//! exempt too: the object is allocated black during mark and holds only nil.
//! The defer list lives in the goroutine's frame records (off-heap, scanned as
//! part of its stack), so `Defer` is exempt as well.

use std::fmt;
use std::rc::Rc;

/// A register of the current frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reg(pub u8);
/// An index into the function's constant table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Kst(pub u16);
/// A global slot of the function's module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Glob(pub u16);
/// An upvalue of the running closure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Upv(pub u8);
/// A relative jump: the target is `pc + 1 + offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Jump(pub i32);
/// A count of values; [`MULTI`] means "up to the top set by the previous call".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Count(pub u8);
/// A small signed immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Imm(pub i32);
/// An index into the function's nested prototypes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProtoIdx(pub u16);
/// A builtin function, an index into [`BUILTINS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BuiltinIdx(pub u8);
/// An import of the module, an index into `Module::imports`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImportIdx(pub u16);
/// A struct type descriptor of the function, an index into `Proto::types`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TypeIdx(pub u16);
/// A select descriptor of the function, an index into `Proto::selects`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SelectIdx(pub u16);
/// A boolean flag operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flag(pub bool);

/// "As many values as there are": for call arguments and results.
pub const MULTI: Count = Count(u8::MAX);

/// The builtins, in the order of [`BuiltinIdx`]. `len` and `append` also have
/// their own instructions, and `float`, `int` and `str` of one argument
/// `Convert`; the rest are called through `GetBuiltin` + `Call`.
pub const BUILTINS: &[&str] = &[
    "len", "cap", "append", "delete", "make", "close", "panic", "recover", "print", "println",
    "copy", "min", "max", "str", "int", "float", "typeof",
];

/// The index of builtin `name` (a `const fn`: the interpreter names the
/// builtins it recognises by index at compile time).
pub const fn builtin_index(name: &str) -> Option<u8> {
    let name = name.as_bytes();
    let mut i = 0;
    while i < BUILTINS.len() {
        let b = BUILTINS[i].as_bytes();
        if b.len() == name.len() {
            let mut j = 0;
            while j < b.len() && b[j] == name[j] {
                j += 1;
            }
            if j == b.len() {
                return Some(i as u8);
            }
        }
        i += 1;
    }
    None
}

/// Context an operand needs to print itself.
pub struct ShowCtx<'a> {
    pub proto: &'a Proto,
    pub pc: usize,
}

/// How an operand prints in `weft disasm`.
pub trait Operand {
    fn show(&self, ctx: &ShowCtx) -> String;

    /// Whether the operand is in range for its function (see [`crate::verify`]).
    fn check(&self, ctx: &CheckCtx) -> Result<(), String>;

    /// The operand as a jump offset, if it is one (`Op::jump_offset_mut`).
    fn as_jump_mut(&mut self) -> Option<&mut Jump> {
        None
    }
}

/// What the verifier knows when it checks one instruction's operands.
pub struct CheckCtx<'a> {
    pub proto: &'a Proto,
    pub pc: usize,
    pub n_globals: usize,
    pub n_imports: usize,
}

fn in_range(what: &str, index: usize, limit: usize) -> Result<(), String> {
    if index < limit {
        Ok(())
    } else {
        Err(format!("{what} {index} out of range (limit {limit})"))
    }
}

impl Operand for Reg {
    fn show(&self, _: &ShowCtx) -> String {
        format!("r{}", self.0)
    }
    fn check(&self, ctx: &CheckCtx) -> Result<(), String> {
        in_range(
            "register",
            self.0 as usize,
            ctx.proto.max_registers as usize,
        )
    }
}
impl Operand for Kst {
    fn show(&self, ctx: &ShowCtx) -> String {
        match ctx.proto.constants.get(self.0 as usize) {
            Some(k) => format!("k{}({})", self.0, k),
            None => format!("k{}(?)", self.0),
        }
    }
    fn check(&self, ctx: &CheckCtx) -> Result<(), String> {
        in_range("constant", self.0 as usize, ctx.proto.constants.len())
    }
}
impl Operand for Glob {
    fn show(&self, ctx: &ShowCtx) -> String {
        match ctx.proto.global_names.get(self.0 as usize) {
            Some(name) => format!("g{}({})", self.0, name),
            None => format!("g{}", self.0),
        }
    }
    fn check(&self, ctx: &CheckCtx) -> Result<(), String> {
        in_range("global", self.0 as usize, ctx.n_globals)
    }
}
impl Operand for Upv {
    fn show(&self, ctx: &ShowCtx) -> String {
        match ctx.proto.upvalues.get(self.0 as usize) {
            Some(u) => format!("u{}({})", self.0, u.name),
            None => format!("u{}", self.0),
        }
    }
    fn check(&self, ctx: &CheckCtx) -> Result<(), String> {
        in_range("upvalue", self.0 as usize, ctx.proto.upvalues.len())
    }
}
impl Operand for Jump {
    fn show(&self, ctx: &ShowCtx) -> String {
        format!("->{}", ctx.pc as i64 + 1 + self.0 as i64)
    }
    fn check(&self, ctx: &CheckCtx) -> Result<(), String> {
        in_range(
            "jump target",
            (ctx.pc as i64 + 1 + self.0 as i64).max(-1) as usize,
            ctx.proto.code.len(),
        )
    }
    fn as_jump_mut(&mut self) -> Option<&mut Jump> {
        Some(self)
    }
}
impl Operand for Count {
    fn show(&self, _: &ShowCtx) -> String {
        if *self == MULTI {
            "multi".into()
        } else {
            self.0.to_string()
        }
    }
    fn check(&self, _: &CheckCtx) -> Result<(), String> {
        Ok(())
    }
}
impl Operand for Imm {
    fn show(&self, _: &ShowCtx) -> String {
        self.0.to_string()
    }
    fn check(&self, _: &CheckCtx) -> Result<(), String> {
        Ok(())
    }
}
impl Operand for ProtoIdx {
    fn show(&self, ctx: &ShowCtx) -> String {
        match ctx.proto.protos.get(self.0 as usize) {
            Some(p) => format!("p{}({})", self.0, p.name),
            None => format!("p{}", self.0),
        }
    }
    fn check(&self, ctx: &CheckCtx) -> Result<(), String> {
        in_range("prototype", self.0 as usize, ctx.proto.protos.len())
    }
}
impl Operand for BuiltinIdx {
    fn show(&self, _: &ShowCtx) -> String {
        BUILTINS
            .get(self.0 as usize)
            .copied()
            .unwrap_or("?")
            .to_string()
    }
    fn check(&self, _: &CheckCtx) -> Result<(), String> {
        in_range("builtin", self.0 as usize, BUILTINS.len())
    }
}
impl Operand for ImportIdx {
    fn show(&self, _: &ShowCtx) -> String {
        format!("i{}", self.0)
    }
    fn check(&self, ctx: &CheckCtx) -> Result<(), String> {
        in_range("import", self.0 as usize, ctx.n_imports)
    }
}
impl Operand for TypeIdx {
    fn show(&self, ctx: &ShowCtx) -> String {
        match ctx.proto.types.get(self.0 as usize) {
            Some(t) => format!("t{}({})", self.0, t.name),
            None => format!("t{}", self.0),
        }
    }
    fn check(&self, ctx: &CheckCtx) -> Result<(), String> {
        in_range("type descriptor", self.0 as usize, ctx.proto.types.len())
    }
}
impl Operand for SelectIdx {
    fn show(&self, _: &ShowCtx) -> String {
        format!("s{}", self.0)
    }
    fn check(&self, ctx: &CheckCtx) -> Result<(), String> {
        in_range(
            "select descriptor",
            self.0 as usize,
            ctx.proto.selects.len(),
        )
    }
}
impl Operand for Flag {
    fn show(&self, _: &ShowCtx) -> String {
        (self.0 as u8).to_string()
    }
    fn check(&self, _: &CheckCtx) -> Result<(), String> {
        Ok(())
    }
}

/// The instruction table: `Name { operands } barrier "effect";`.
/// `wb` marks a barriered store (see the module doc), `plain` a plain instruction.
#[macro_export]
macro_rules! for_each_op {
    ($m:ident) => {
        $m! {
            Nop {} plain "no operation";
            Move { a: Reg, b: Reg } plain "R[a] := R[b]";
            LoadK { a: Reg, k: Kst } plain "R[a] := K[k]";
            LoadInt { a: Reg, v: Imm } plain "R[a] := v";
            LoadNil { a: Reg, n: Count } plain "R[a..=a+n] := nil";
            LoadBool { a: Reg, v: Flag } plain "R[a] := v";
            GetGlobal { a: Reg, g: Glob } plain "R[a] := G[g]";
            SetGlobal { g: Glob, b: Reg } wb "G[g] := R[b]  (a module's globals are a heap object)";
            GetUpval { a: Reg, u: Upv } plain "R[a] := U[u].value";
            SetUpval { u: Upv, b: Reg } wb "U[u].value := R[b]  (upvalue cells are heap objects)";
            NewCell { a: Reg, b: Reg } wb "R[a] := new cell holding R[b]  (initialising store into the fresh cell)";
            NewCellNil { a: Reg } plain "R[a] := new cell holding nil  (allocation only)";
            GetCell { a: Reg, b: Reg } plain "R[a] := R[b].value  (a captured local)";
            SetCell { a: Reg, b: Reg } wb "R[a].value := R[b]";
            Closure { a: Reg, p: ProtoIdx } wb "R[a] := closure(P[p]) capturing cells  (stores the cells into the fresh closure)";
            GetBuiltin { a: Reg, f: BuiltinIdx } plain "R[a] := builtin f";
            Convert { a: Reg, f: BuiltinIdx } plain "R[a] := f(R[a+1])  (float, int or str of one argument; R[a] is free for the builtin's own call)";
            Import { a: Reg, i: ImportIdx } plain "R[a] := module of import i, initialised on first use";
            NewList { a: Reg, b: Reg, n: Count } wb "R[a] := [R[b], ..., R[b+n-1]]  (initialising stores into the fresh backing array)";
            NewMap { a: Reg, n: Count } plain "R[a] := new map sized for n entries  (allocation only)";
            NewType { a: Reg, t: TypeIdx } wb "R[a] := new struct type T[t]  (stores field names into the fresh type)";
            SetMethod { a: Reg, k: Kst, b: Reg } wb "R[a].methods[K[k]] := R[b]";
            NewStruct { a: Reg, b: Reg } plain "R[a] := new instance of struct type R[b], fields nil  (allocation only)";
            InitField { a: Reg, i: Count, b: Reg } wb "R[a].fields[i] := R[b]  (positional struct literal)";
            GetField { a: Reg, b: Reg, k: Kst } plain "R[a] := R[b].K[k]";
            SetField { a: Reg, k: Kst, b: Reg } wb "R[a].K[k] := R[b]";
            GetIndex { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b][R[c]]";
            GetIndexOk { a: Reg, b: Reg, c: Reg } plain "R[a], R[a+1] := R[b][R[c]], key present";
            GetIndexZero { a: Reg, b: Reg, c: Reg, d: Reg } plain "R[a] := R[b][R[c]], or the zero value of typeof(R[d]) if the key is missing";
            SetIndex { a: Reg, b: Reg, c: Reg } wb "R[a][R[b]] := R[c]  (list slot or map insert)";
            Slice { a: Reg, b: Reg, c: Reg } wb "R[a] := R[b][R[c]:R[c+1]]  (nil bounds are open; copies into a fresh list)";
            Append { a: Reg, b: Reg, n: Count } wb "R[a] := append(R[b], R[b+1], ..., R[b+n])";
            AppendSpread { a: Reg, b: Reg } wb "R[a] := append(R[b], R[b+1]...)";
            Len { a: Reg, b: Reg } plain "R[a] := len(R[b])";
            Add { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] + R[c]";
            AddInt { a: Reg, b: Reg, v: Imm } plain "R[a] := R[b] + v";
            Sub { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] - R[c]";
            MulInt { a: Reg, b: Reg, v: Imm } plain "R[a] := R[b] * v";
            ModInt { a: Reg, b: Reg, v: Imm } plain "R[a] := R[b] % v  (v is never 0)";
            DivInt { a: Reg, b: Reg, v: Imm } plain "R[a] := R[b] / v  (v is never 0)";
            Mul { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] * R[c]";
            Div { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] / R[c]";
            Mod { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] % R[c]";
            BitAnd { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] & R[c]";
            BitOr { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] | R[c]";
            BitXor { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] ^ R[c]";
            AndNot { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] &^ R[c]";
            Shl { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] << R[c]";
            Shr { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] >> R[c]";
            Neg { a: Reg, b: Reg } plain "R[a] := -R[b]";
            Plus { a: Reg, b: Reg } plain "R[a] := +R[b]  (checks R[b] is a number)";
            Not { a: Reg, b: Reg } plain "R[a] := !R[b]";
            BitNot { a: Reg, b: Reg } plain "R[a] := ^R[b]";
            Eq { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] == R[c]";
            Ne { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] != R[c]";
            Lt { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] < R[c]";
            Le { a: Reg, b: Reg, c: Reg } plain "R[a] := R[b] <= R[c]";
            Jmp { off: Jump } plain "pc += off";
            JmpIf { a: Reg, off: Jump } plain "if R[a] then pc += off  (R[a] must be a bool)";
            JmpIfNot { a: Reg, off: Jump } plain "if !R[a] then pc += off  (R[a] must be a bool)";
            JmpLt { a: Reg, b: Reg, off: Jump } plain "if R[a] < R[b] then pc += off";
            JmpNotLt { a: Reg, b: Reg, off: Jump } plain "if !(R[a] < R[b]) then pc += off";
            JmpLe { a: Reg, b: Reg, off: Jump } plain "if R[a] <= R[b] then pc += off";
            JmpNotLe { a: Reg, b: Reg, off: Jump } plain "if !(R[a] <= R[b]) then pc += off";
            JmpLtK { a: Reg, k: Kst, off: Jump } plain "if R[a] < K[k] then pc += off  (K[k] an int)";
            IncJmpLtK { a: Reg, k: Kst, off: Jump } plain "R[a] += 1; if R[a] < K[k] then pc += off  (a for loop's `i++` and `i < k` as one back edge)";
            IncJmpLt { a: Reg, b: Reg, off: Jump } plain "R[a] += 1; if R[a] < R[b] then pc += off  (a for loop's `i++` and `i < n` as one back edge)";
            JmpNotLtK { a: Reg, k: Kst, off: Jump } plain "if !(R[a] < K[k]) then pc += off";
            JmpLeK { a: Reg, k: Kst, off: Jump } plain "if R[a] <= K[k] then pc += off";
            JmpNotLeK { a: Reg, k: Kst, off: Jump } plain "if !(R[a] <= K[k]) then pc += off";
            JmpGtK { a: Reg, k: Kst, off: Jump } plain "if R[a] > K[k] then pc += off";
            JmpNotGtK { a: Reg, k: Kst, off: Jump } plain "if !(R[a] > K[k]) then pc += off";
            JmpGeK { a: Reg, k: Kst, off: Jump } plain "if R[a] >= K[k] then pc += off";
            JmpNotGeK { a: Reg, k: Kst, off: Jump } plain "if !(R[a] >= K[k]) then pc += off";
            JmpEq { a: Reg, b: Reg, off: Jump } plain "if R[a] == R[b] then pc += off";
            JmpEqK { a: Reg, k: Kst, off: Jump } plain "if R[a] == K[k] then pc += off";
            JmpNeK { a: Reg, k: Kst, off: Jump } plain "if R[a] != K[k] then pc += off";
            JmpNe { a: Reg, b: Reg, off: Jump } plain "if R[a] != R[b] then pc += off";
            Call { a: Reg, nargs: Count, nres: Count } plain "R[a], ... := R[a](R[a+1], ..., R[a+nargs])";
            CallGlobal { a: Reg, g: Glob, nargs: Count, nres: Count } plain "R[a] := G[g]; then as Call  (a call of a module-level func, read after its arguments: nothing assigns to a func)";
            CallSpread { a: Reg, nargs: Count, nres: Count } plain "as Call, the last argument a list spread into the call";
            CallMethod { a: Reg, k: Kst, nargs: Count, nres: Count } plain "R[a], ... := R[a].K[k](R[a+1], ..., R[a+nargs])";
            CallMethodSpread { a: Reg, k: Kst, nargs: Count, nres: Count } plain "as CallMethod, the last argument spread";
            Return { a: Reg, n: Count } plain "return R[a], ..., R[a+n-1]";
            Go { a: Reg, nargs: Count, spread: Flag } wb "go R[a](R[a+1], ..., R[a+nargs])  (copies the arguments into the new goroutine's stack)";
            GoMethod { a: Reg, k: Kst, nargs: Count, spread: Flag } wb "go R[a].K[k](R[a+1], ...)  (as Go)";
            Defer { a: Reg, nargs: Count, spread: Flag } plain "defer R[a](R[a+1], ..., R[a+nargs])  (the defer record is part of the stack)";
            DeferMethod { a: Reg, k: Kst, nargs: Count, spread: Flag } plain "defer R[a].K[k](R[a+1], ...)  (receiver and arguments evaluated now)";
            Recover { a: Reg } plain "R[a] := recover()";
            Send { a: Reg, b: Reg } wb "R[a] <- R[b]  (into a channel buffer or a parked receiver's stack)";
            Recv { a: Reg, b: Reg } plain "R[a] := <-R[b]";
            RecvOk { a: Reg, b: Reg } plain "R[a], R[a+1] := <-R[b]";
            Select { a: Reg, s: SelectIdx } wb "R[a], R[a+1], R[a+2] := chosen case, received value, ok; cases read from R[a+3]...  (a send case stores as Send)";
            RangePrep { a: Reg } plain "prepare to range over R[a]: R[a+1] := iteration state";
            RangeNext { a: Reg, off: Jump } plain "R[a+2], R[a+3] := next key, value of R[a]; when done pc += off";
            MakeChan { a: Reg, b: Reg } plain "R[a] := make(chan, R[b])  (allocation only)";
        }
    };
}

macro_rules! define_ops {
    ($( $name:ident { $($field:ident : $ty:ident),* } $wb:tt $effect:literal; )*) => {
        /// One instruction. See [`for_each_op!`] for the table.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub enum Op {
            $( #[doc = $effect] $name { $($field: $ty),* }, )*
        }

        impl Op {
            /// The opcode's name, as `weft disasm` prints it.
            pub fn name(&self) -> &'static str {
                match self { $( Op::$name { .. } => stringify!($name), )* }
            }

            /// Whether this instruction is a barriered store.
            pub fn has_barrier(&self) -> bool {
                match self { $( Op::$name { .. } => define_ops!(@wb $wb), )* }
            }

            /// The effect, as written in the table.
            pub fn effect(&self) -> &'static str {
                match self { $( Op::$name { .. } => $effect, )* }
            }

            /// The operands, rendered for the disassembler.
            pub fn show_operands(&self, ctx: &ShowCtx) -> Vec<String> {
                match self {
                    $( #[allow(unused_variables)] Op::$name { $($field),* } => vec![$( $field.show(ctx) ),*], )*
                }
            }

            /// Checks each operand against its function's tables.
            pub fn check_operands(&self, ctx: &CheckCtx) -> Result<(), String> {
                match self {
                    $( #[allow(unused_variables)] Op::$name { $($field),* } => { $( $field.check(ctx)?; )* Ok(()) } )*
                }
            }

            /// The offset of a jump instruction (`pc += off` when it
            /// jumps): its `Jump` operand, found from the table, so no
            /// list of the jumps can miss a new one.
            pub fn jump_offset_mut(&mut self) -> Option<&mut Jump> {
                match self {
                    $( #[allow(unused_variables)] Op::$name { $($field),* } => {
                        $( if let Some(j) = $field.as_jump_mut() { return Some(j); } )*
                        None
                    } )*
                }
            }

            /// The jump offset, read (see `jump_offset_mut`).
            pub fn jump_offset(&self) -> Option<Jump> {
                let mut op = *self;
                op.jump_offset_mut().copied()
            }

            /// Every opcode's name, barrier flag and effect (for documentation).
            pub fn table() -> &'static [(&'static str, bool, &'static str)] {
                &[ $( (stringify!($name), define_ops!(@wb $wb), $effect), )* ]
            }
        }
    };
    (@wb wb) => { true };
    (@wb plain) => { false };
}

for_each_op!(define_ops);

/// A constant of a function.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    Int(i64),
    Float(f64),
    /// A string's bytes (not necessarily UTF-8).
    Str(Rc<[u8]>),
}

impl fmt::Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constant::Int(i) => write!(f, "{i}"),
            Constant::Float(x) => write!(f, "{x:?}"),
            Constant::Str(s) => write!(f, "{:?}", String::from_utf8_lossy(s)),
        }
    }
}

/// Where a closure's upvalue comes from when the closure is created.
#[derive(Clone, Debug, PartialEq)]
pub struct UpvalDesc {
    /// `true`: the cell is in register `index` of the enclosing frame;
    /// `false`: it is upvalue `index` of the enclosing closure.
    pub from_parent_local: bool,
    pub index: u8,
    /// The captured variable's name (for the disassembler and debuggers).
    pub name: Rc<str>,
}

/// A struct type declaration, instantiated by `NewType`.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDesc {
    pub name: Rc<str>,
    pub fields: Vec<Rc<str>>,
}

/// One case of a `select`, in source order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectCase {
    /// Channel in R[base + 2i], value to send in R[base + 2i + 1].
    Send,
    /// Channel in R[base + 2i].
    Recv,
}

/// The cases of one `select` (the registers they use start at `a + 3`).
#[derive(Clone, Debug, PartialEq)]
pub struct SelectDesc {
    pub cases: Vec<SelectCase>,
    pub has_default: bool,
}

/// A compiled function.
#[derive(Clone, Debug, PartialEq)]
pub struct Proto {
    /// The name used in tracebacks: `main`, `Point.Norm`, `main.func1`.
    pub name: Rc<str>,
    pub n_params: u8,
    pub variadic: bool,
    /// Registers the frame needs.
    pub max_registers: u8,
    pub code: Vec<Op>,
    /// Source line of each instruction (parallel to `code`).
    pub lines: Vec<u32>,
    pub constants: Vec<Constant>,
    pub protos: Vec<Rc<Proto>>,
    pub upvalues: Vec<UpvalDesc>,
    pub types: Vec<TypeDesc>,
    pub selects: Vec<SelectDesc>,
    /// Names of the module's globals, by slot (shared by the module's protos; for disasm).
    pub global_names: Rc<[Rc<str>]>,
    /// The line of the function's declaration.
    pub line: u32,
}

impl Proto {
    /// Number of barriered stores in this function's code (not nested ones).
    pub fn barrier_count(&self) -> usize {
        self.code.iter().filter(|op| op.has_barrier()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_fit_in_eight_bytes() {
        assert!(
            std::mem::size_of::<Op>() <= 8,
            "Op is {} bytes",
            std::mem::size_of::<Op>()
        );
    }

    #[test]
    fn every_heap_store_is_barriered() {
        let barriered: Vec<&str> = Op::table()
            .iter()
            .filter(|(_, wb, _)| *wb)
            .map(|(n, _, _)| *n)
            .collect();
        for name in [
            "SetGlobal",
            "SetUpval",
            "SetCell",
            "SetField",
            "SetIndex",
            "Append",
            "NewList",
            "Send",
            "Go",
            "Closure",
        ] {
            assert!(barriered.contains(&name), "{name} must carry a barrier");
        }
        for name in ["Move", "GetIndex", "Add", "Call", "Return"] {
            assert!(
                !barriered.contains(&name),
                "{name} must not carry a barrier"
            );
        }
    }
}
