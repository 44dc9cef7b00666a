//! Which registers a function may read before it writes them: the
//! registers live at its entry.
//!
//! The interpreter fills a new frame's registers with nil only up to
//! [`entry_live_top`] (and the missing parameters), not the whole frame:
//! registers the code always writes before it reads them need no value at
//! entry, and clearing them was a tenth of the cost of a call (fib, the
//! benchmark's `A(i, j)`). What such a register holds before its first
//! write is whatever a returned frame left there; the collector keeps that
//! valid on its own (see `RegFile` in `vm`), so the analysis decides only
//! what a program sees, never memory safety.
//!
//! It is a backward liveness analysis over the function's instructions.
//! Each instruction's effect is conservative: the registers it may read
//! (over-approximated: a window whose length is only known at run time,
//! `MULTI` or a spread, reads to the end of the frame) and those it
//! writes on every path out of it (under-approximated; `MULTI` counts
//! write nothing known). A wrong read set could only make a register look
//! dead that is read, so `effects` matches every instruction by name,
//! with no catch-all arm: a new instruction does not compile until it is
//! classified.

use crate::bytecode::*;

/// A set of registers (a function has at most 256).
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
struct Regs([u64; 4]);

impl Regs {
    fn add(&mut self, r: usize) {
        if r < 256 {
            self.0[r / 64] |= 1 << (r % 64);
        }
    }

    /// Registers `from..to`.
    fn add_range(&mut self, from: usize, to: usize) {
        for r in from..to.min(256) {
            self.add(r);
        }
    }

    fn union(self, other: Regs) -> Regs {
        let mut out = self;
        for (w, o) in out.0.iter_mut().zip(other.0) {
            *w |= o;
        }
        out
    }

    fn minus(self, other: Regs) -> Regs {
        let mut out = self;
        for (w, o) in out.0.iter_mut().zip(other.0) {
            *w &= !o;
        }
        out
    }

    /// One past the highest register in the set (0 when empty).
    fn top(self) -> usize {
        for i in (0..4).rev() {
            if self.0[i] != 0 {
                return i * 64 + 64 - self.0[i].leading_zeros() as usize;
            }
        }
        0
    }
}

/// One past the highest register the function may read before writing it,
/// at least its parameter count: a new frame needs nil in the registers
/// from its arguments up to this one.
pub fn entry_live_top(proto: &Proto) -> usize {
    let code = &proto.code;
    let n = code.len();
    let frame = proto.max_registers as usize;
    let effects: Vec<(Regs, Regs)> = code.iter().map(|op| effects(op, proto, frame)).collect();
    let mut live_in = vec![Regs::default(); n];
    // Backward passes to the fixed point (loops need more than one).
    let mut changed = true;
    while changed {
        changed = false;
        for i in (0..n).rev() {
            let mut out = Regs::default();
            for s in successors(code, i).into_iter().flatten() {
                out = out.union(live_in[s]);
            }
            let (uses, defs) = effects[i];
            let new = uses.union(out.minus(defs));
            if new != live_in[i] {
                live_in[i] = new;
                changed = true;
            }
        }
    }
    let top = live_in.first().map_or(0, |r| r.top());
    top.max(proto.n_params as usize).min(frame)
}

/// Where control may go after instruction `i`: the next one (unless it is
/// an unconditional jump or a return) and a jump's target (in range: the
/// verifier rejects code whose jumps leave it; out-of-range targets are
/// dropped).
fn successors(code: &[Op], i: usize) -> [Option<usize>; 2] {
    let target = code[i].jump_offset().and_then(|off| {
        let t = i as i64 + 1 + off.0 as i64;
        usize::try_from(t).ok().filter(|&t| t < code.len())
    });
    let falls_through = !matches!(code[i], Op::Jmp { .. } | Op::Return { .. });
    let next = (falls_through && i + 1 < code.len()).then_some(i + 1);
    [next, target]
}

/// The registers `op` may read and those it surely writes.
fn effects(op: &Op, proto: &Proto, frame: usize) -> (Regs, Regs) {
    let mut uses = Regs::default();
    let mut defs = Regs::default();
    let r = |x: Reg| x.0 as usize;
    // `count` registers from `first`; `MULTI`: every register from it.
    let window = |set: &mut Regs, first: usize, count: Count| {
        if count == MULTI {
            set.add_range(first, frame);
        } else {
            set.add_range(first, first + count.0 as usize);
        }
    };
    // A call's results: `nres` registers from `a`, none known for MULTI.
    let results = |set: &mut Regs, a: usize, nres: Count| {
        if nres != MULTI {
            set.add_range(a, a + nres.0 as usize);
        }
    };
    match *op {
        Op::Nop {} | Op::Jmp { .. } => {}
        Op::Move { a, b }
        | Op::GetCell { a, b }
        | Op::NewCell { a, b }
        | Op::NewStruct { a, b }
        | Op::Len { a, b }
        | Op::Neg { a, b }
        | Op::Plus { a, b }
        | Op::Not { a, b }
        | Op::BitNot { a, b }
        | Op::Recv { a, b }
        | Op::MakeChan { a, b }
        | Op::GetField { a, b, .. }
        | Op::AddInt { a, b, .. }
        | Op::MulInt { a, b, .. }
        | Op::ModInt { a, b, .. }
        | Op::DivInt { a, b, .. } => {
            uses.add(r(b));
            defs.add(r(a));
        }
        Op::LoadK { a, .. }
        | Op::LoadInt { a, .. }
        | Op::LoadBool { a, .. }
        | Op::GetGlobal { a, .. }
        | Op::GetUpval { a, .. }
        | Op::NewCellNil { a }
        | Op::GetBuiltin { a, .. }
        | Op::Import { a, .. }
        | Op::NewMap { a, .. }
        | Op::NewType { a, .. }
        | Op::Recover { a } => defs.add(r(a)),
        Op::LoadNil { a, n } => defs.add_range(r(a), r(a) + n.0 as usize + 1),
        Op::SetGlobal { b, .. } | Op::SetUpval { b, .. } => uses.add(r(b)),
        Op::SetCell { a, b }
        | Op::SetField { a, b, .. }
        | Op::SetMethod { a, b, .. }
        | Op::InitField { a, b, .. }
        | Op::Send { a, b } => {
            uses.add(r(a));
            uses.add(r(b));
        }
        Op::Closure { a, p } => {
            if let Some(child) = proto.protos.get(p.0 as usize) {
                for up in child.upvalues.iter().filter(|u| u.from_parent_local) {
                    uses.add(up.index as usize);
                }
            } else {
                uses.add_range(0, frame);
            }
            defs.add(r(a));
        }
        Op::Convert { a, .. } => {
            uses.add(r(a) + 1);
            defs.add(r(a));
        }
        Op::NewList { a, b, n } => {
            uses.add_range(r(b), r(b) + n.0 as usize);
            defs.add(r(a));
        }
        Op::Append { a, b, n } => {
            uses.add_range(r(b), r(b) + n.0 as usize + 1);
            defs.add(r(a));
        }
        Op::AppendSpread { a, b } => {
            uses.add_range(r(b), r(b) + 2);
            defs.add(r(a));
        }
        Op::GetIndex { a, b, c }
        | Op::Add { a, b, c }
        | Op::Sub { a, b, c }
        | Op::Mul { a, b, c }
        | Op::Div { a, b, c }
        | Op::Mod { a, b, c }
        | Op::BitAnd { a, b, c }
        | Op::BitOr { a, b, c }
        | Op::BitXor { a, b, c }
        | Op::AndNot { a, b, c }
        | Op::Shl { a, b, c }
        | Op::Shr { a, b, c }
        | Op::Eq { a, b, c }
        | Op::Ne { a, b, c }
        | Op::Lt { a, b, c }
        | Op::Le { a, b, c } => {
            uses.add(r(b));
            uses.add(r(c));
            defs.add(r(a));
        }
        Op::GetIndexOk { a, b, c } => {
            uses.add(r(b));
            uses.add(r(c));
            defs.add_range(r(a), r(a) + 2);
        }
        Op::GetIndexZero { a, b, c, d } => {
            uses.add(r(b));
            uses.add(r(c));
            uses.add(r(d));
            defs.add(r(a));
        }
        Op::SetIndex { a, b, c } => {
            uses.add(r(a));
            uses.add(r(b));
            uses.add(r(c));
        }
        Op::Slice { a, b, c } => {
            uses.add(r(b));
            uses.add_range(r(c), r(c) + 2);
            defs.add(r(a));
        }
        Op::RecvOk { a, b } => {
            uses.add(r(b));
            defs.add_range(r(a), r(a) + 2);
        }
        Op::JmpIf { a, .. }
        | Op::JmpIfNot { a, .. }
        | Op::JmpLtK { a, .. }
        | Op::JmpNotLtK { a, .. }
        | Op::JmpLeK { a, .. }
        | Op::JmpNotLeK { a, .. }
        | Op::JmpGtK { a, .. }
        | Op::JmpNotGtK { a, .. }
        | Op::JmpGeK { a, .. }
        | Op::JmpNotGeK { a, .. }
        | Op::JmpEqK { a, .. }
        | Op::JmpNeK { a, .. } => uses.add(r(a)),
        Op::JmpLt { a, b, .. }
        | Op::JmpNotLt { a, b, .. }
        | Op::JmpLe { a, b, .. }
        | Op::JmpNotLe { a, b, .. }
        | Op::JmpEq { a, b, .. }
        | Op::JmpNe { a, b, .. } => {
            uses.add(r(a));
            uses.add(r(b));
        }
        Op::IncJmpLtK { a, .. } => {
            uses.add(r(a));
            defs.add(r(a));
        }
        Op::IncJmpLt { a, b, .. } => {
            uses.add(r(a));
            uses.add(r(b));
            defs.add(r(a));
        }
        Op::Call { a, nargs, nres } | Op::CallMethod { a, nargs, nres, .. } => {
            uses.add(r(a));
            window(&mut uses, r(a) + 1, nargs);
            results(&mut defs, r(a), nres);
        }
        Op::CallGlobal { a, nargs, nres, .. } => {
            // The callee is stored into R[a] by the call itself.
            window(&mut uses, r(a) + 1, nargs);
            results(&mut defs, r(a), nres);
        }
        Op::Return { a, n } => window(&mut uses, r(a), n),
        Op::RangePrep { a } => {
            uses.add(r(a));
            defs.add(r(a) + 1);
        }
        // The key and value registers are written only when there is a
        // next item: nothing is written on both ways out.
        Op::RangeNext { a, .. } => uses.add_range(r(a), r(a) + 2),
        // Spread calls, go, defer, select: every register from the first
        // of the window on (a spread's count is not the list's length).
        Op::CallSpread { a, nres, .. } | Op::CallMethodSpread { a, nres, .. } => {
            uses.add_range(r(a), frame);
            results(&mut defs, r(a), nres);
        }
        Op::Go { a, .. }
        | Op::GoMethod { a, .. }
        | Op::Defer { a, .. }
        | Op::DeferMethod { a, .. }
        | Op::Select { a, .. } => uses.add_range(r(a), frame),
    }
    (uses, defs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::compile_program_source;
    use std::rc::Rc;

    /// The entry-live top of each function of `src`, by name.
    fn tops(src: &str) -> Vec<(String, usize, usize)> {
        let program = compile_program_source("t.weft", src).expect("compiles");
        let mut out = Vec::new();
        fn walk(p: &Proto, out: &mut Vec<(String, usize, usize)>) {
            out.push((
                p.name.to_string(),
                entry_live_top(p),
                p.max_registers as usize,
            ));
            for c in &p.protos {
                walk(c, out);
            }
        }
        for m in &program.modules {
            walk(&m.compiled.init, &mut out);
        }
        out
    }

    fn top_of(src: &str, name: &str) -> usize {
        tops(src)
            .into_iter()
            .find(|(n, ..)| n == name)
            .unwrap_or_else(|| panic!("no function {name}"))
            .1
    }

    #[test]
    fn straight_line_code_needs_only_its_parameters() {
        let src = "func fib(n) {\n if n < 2 {\n return n\n }\n return fib(n-1) + fib(n-2)\n}\nfunc main() { fib(3) }\n";
        assert_eq!(top_of(src, "main.fib"), 1);
        assert_eq!(top_of(src, "main.main"), 0);
    }

    /// A hand-written function of `n_params` parameters and
    /// `max_registers` registers.
    fn proto(n_params: u8, max_registers: u8, code: Vec<Op>) -> Proto {
        Proto {
            name: "f".into(),
            n_params,
            variadic: false,
            max_registers,
            lines: vec![1; code.len()],
            code,
            constants: Vec::new(),
            protos: Vec::new(),
            upvalues: Vec::new(),
            types: Vec::new(),
            selects: Vec::new(),
            global_names: Rc::from(Vec::new()),
            line: 1,
        }
    }

    #[test]
    fn a_register_read_before_written_is_live() {
        let (r1, r3) = (Reg(1), Reg(3));
        let p = proto(
            1,
            4,
            vec![
                Op::Move { a: r1, b: Reg(2) },
                Op::Return { a: r1, n: Count(1) },
            ],
        );
        assert_eq!(entry_live_top(&p), 3);
        // Written on one path only, read after the join: live.
        let p = proto(
            1,
            4,
            vec![
                Op::JmpIf {
                    a: Reg(0),
                    off: Jump(1),
                },
                Op::LoadInt { a: r3, v: Imm(1) },
                Op::Return { a: r3, n: Count(1) },
            ],
        );
        assert_eq!(entry_live_top(&p), 4);
        // A multi-valued return reads the whole frame from its register.
        let p = proto(
            1,
            4,
            vec![
                Op::LoadInt { a: r1, v: Imm(1) },
                Op::Return { a: r1, n: MULTI },
            ],
        );
        assert_eq!(entry_live_top(&p), 4);
    }

    #[test]
    fn loops_reach_a_fixed_point() {
        // The loop reads r2 at its top and writes it at its bottom: live
        // at entry (the first iteration reads what was there).
        let p = proto(
            1,
            3,
            vec![
                Op::Move {
                    a: Reg(1),
                    b: Reg(2),
                },
                Op::LoadInt {
                    a: Reg(2),
                    v: Imm(1),
                },
                Op::JmpIf {
                    a: Reg(0),
                    off: Jump(-3),
                },
                Op::Return {
                    a: Reg(1),
                    n: Count(1),
                },
            ],
        );
        assert_eq!(entry_live_top(&p), 3);
    }
}
