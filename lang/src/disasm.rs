//! `weft disasm`: a readable listing of compiled functions.
//!
//! For each function: a header, then one line per instruction with its index,
//! source line, opcode and operands, and `wb` on every barriered store; the
//! function ends with `barriers: N`. Nested functions follow their parent.

use crate::bytecode::{Proto, ShowCtx};
use crate::program::Program;
use std::fmt::Write as _;

/// The listing of every module of a program, entry module last (init order).
pub fn disassemble_program(program: &Program) -> String {
    let mut out = String::new();
    for module in &program.modules {
        let _ = writeln!(
            out,
            "module {} ({})",
            module.compiled.name, module.display_path
        );
        disassemble(&module.compiled.init, &mut out);
    }
    out
}

/// Appends the listing of `proto` and its nested functions to `out`.
pub fn disassemble(proto: &Proto, out: &mut String) {
    let _ = writeln!(
        out,
        "\nfunction {} (line {}, {} params{}, {} registers, {} constants, {} upvalues)",
        proto.name,
        proto.line,
        proto.n_params,
        if proto.variadic { ", variadic" } else { "" },
        proto.max_registers,
        proto.constants.len(),
        proto.upvalues.len()
    );
    for (pc, op) in proto.code.iter().enumerate() {
        let ctx = ShowCtx { proto, pc };
        let operands = op.show_operands(&ctx).join(" ");
        let line = proto.lines.get(pc).copied().unwrap_or(0);
        let wb = if op.has_barrier() { "wb" } else { "" };
        let _ = writeln!(
            out,
            "  {pc:4}  [{line:4}]  {:<16} {:<2}  {operands}",
            op.name(),
            wb
        );
    }
    let _ = writeln!(out, "barriers: {}", proto.barrier_count());
    for p in &proto.protos {
        disassemble(p, out);
    }
}
