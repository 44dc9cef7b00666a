//! The bytecode verifier: proves that a compiled module's code stays inside
//! its own tables.
//!
//! The interpreter reads registers, constants, upvalues and jump targets
//! without bounds checks; that is sound only because every `Proto` it runs has
//! passed [`verify_module`]. Checked here, statically:
//! - every register an instruction names, including the whole window of a
//!   call, a return, a list literal, an append, a select or a range loop, is
//!   below the function's `max_registers` (the frame's size);
//! - constants, globals, upvalues, nested prototypes, builtins, imports, type
//!   and select descriptors are indexed in range, and names are string constants;
//! - every jump lands on an instruction of the same function, and the last
//!   instruction cannot fall off the end;
//! - every upvalue descriptor names a register or upvalue of the parent.
//!
//! Not checkable statically, and so checked by the interpreter at run time:
//! counts of `MULTI` (they depend on what a callee returned).

use crate::bytecode::*;
use crate::compile::CompiledModule;

/// A verification failure: which function, which instruction, what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyError {
    pub function: String,
    pub pc: usize,
    pub message: String,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid bytecode in {} at {}: {}",
            self.function, self.pc, self.message
        )
    }
}

/// Verifies a module's init function and, recursively, every nested function.
pub fn verify_module(module: &CompiledModule) -> Result<(), VerifyError> {
    verify_proto(
        &module.init,
        None,
        module.globals.len(),
        module.imports.len(),
    )
}

fn verify_proto(
    proto: &Proto,
    parent: Option<&Proto>,
    n_globals: usize,
    n_imports: usize,
) -> Result<(), VerifyError> {
    let fail = |pc: usize, message: String| VerifyError {
        function: proto.name.to_string(),
        pc,
        message,
    };
    if proto.lines.len() != proto.code.len() {
        return Err(fail(0, "line table length differs from code length".into()));
    }
    if (proto.n_params as usize) > proto.max_registers as usize {
        return Err(fail(0, "more parameters than registers".into()));
    }
    match proto.code.last() {
        Some(Op::Return { .. } | Op::Jmp { .. }) => {}
        _ => return Err(fail(proto.code.len(), "code can fall off the end".into())),
    }
    for (i, up) in proto.upvalues.iter().enumerate() {
        let ok = match parent {
            Some(p) if up.from_parent_local => up.index < p.max_registers,
            Some(p) => (up.index as usize) < p.upvalues.len(),
            None => false,
        };
        if !ok {
            return Err(fail(
                0,
                format!(
                    "upvalue {i} ({}) does not name a slot of the enclosing function",
                    up.name
                ),
            ));
        }
    }
    let frame = proto.max_registers as usize;
    for (pc, op) in proto.code.iter().enumerate() {
        let ctx = CheckCtx {
            proto,
            pc,
            n_globals,
            n_imports,
        };
        op.check_operands(&ctx).map_err(|m| fail(pc, m))?;
        window(op, proto).map_err(|m| fail(pc, m))?;
        let name_const = match op {
            Op::GetField { k, .. }
            | Op::SetField { k, .. }
            | Op::SetMethod { k, .. }
            | Op::CallMethod { k, .. }
            | Op::CallMethodSpread { k, .. }
            | Op::GoMethod { k, .. }
            | Op::DeferMethod { k, .. } => Some(*k),
            _ => None,
        };
        if let Some(k) = name_const {
            if !matches!(proto.constants.get(k.0 as usize), Some(Constant::Str(_))) {
                return Err(fail(pc, "a name operand is not a string constant".into()));
            }
        }
        if let Op::Select { a, s } = op {
            let cases = proto.selects[s.0 as usize].cases.len();
            if a.0 as usize + 3 + 2 * cases > frame {
                return Err(fail(pc, "select window exceeds the frame".into()));
            }
        }
    }
    for p in &proto.protos {
        verify_proto(p, Some(proto), n_globals, n_imports)?;
    }
    Ok(())
}

/// Checks the register window an instruction reads or writes beyond its named operands.
fn window(op: &Op, proto: &Proto) -> Result<(), String> {
    let frame = proto.max_registers as usize;
    let fits = |first: Reg, len: usize| {
        if first.0 as usize + len <= frame {
            Ok(())
        } else {
            Err(format!(
                "register window r{}..+{len} exceeds the frame of {frame}",
                first.0
            ))
        }
    };
    let count = |c: Count| if c == MULTI { 0 } else { c.0 as usize };
    match *op {
        // These three take their count literally (MULTI, 255, is not "as
        // many as there are" for them).
        Op::LoadNil { a, n } => fits(a, n.0 as usize + 1),
        Op::NewList { b, n, .. } => fits(b, n.0 as usize),
        Op::Append { b, n, .. } => fits(b, n.0 as usize + 1),
        Op::AppendSpread { b, .. } | Op::Convert { a: b, .. } => fits(b, 2),
        Op::GetIndexOk { a, .. } | Op::RecvOk { a, .. } => fits(a, 2),
        Op::Slice { c, .. } => fits(c, 2),
        Op::Call { a, nargs, nres }
        | Op::CallGlobal { a, nargs, nres, .. }
        | Op::CallSpread { a, nargs, nres } => {
            fits(a, 1 + count(nargs))?;
            fits(a, count(nres).max(1))
        }
        Op::CallMethod { a, nargs, nres, .. } | Op::CallMethodSpread { a, nargs, nres, .. } => {
            fits(a, 1 + count(nargs))?;
            fits(a, count(nres).max(1))
        }
        Op::Go { a, nargs, .. } | Op::Defer { a, nargs, .. } => fits(a, 1 + count(nargs)),
        Op::GoMethod { a, nargs, .. } | Op::DeferMethod { a, nargs, .. } => {
            fits(a, 1 + count(nargs))
        }
        Op::Return { a, n } => fits(a, count(n)),
        Op::Select { a, .. } => fits(a, 3),
        Op::RangePrep { a } | Op::RangeNext { a, .. } => fits(a, 4),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    fn compiled() -> CompiledModule {
        let src = "func f(a, b) { return a + b }\nx := f(1, 2)\nfor i := range 3 { x += i }\n";
        let program = crate::compile_program_source("v.weft", src).expect("compiles");
        program.entry().compiled.clone()
    }

    fn tamper(module: &mut CompiledModule, edit: impl FnOnce(&mut Proto)) {
        let mut init = (*module.init).clone();
        edit(&mut init);
        module.init = Rc::new(init);
    }

    #[test]
    fn compiled_code_verifies() {
        assert_eq!(verify_module(&compiled()), Ok(()));
    }

    #[test]
    fn out_of_frame_register_is_rejected() {
        let mut m = compiled();
        tamper(&mut m, |p| {
            p.code.insert(
                0,
                Op::Move {
                    a: Reg(p.max_registers),
                    b: Reg(0),
                },
            )
        });
        tamper(&mut m, |p| p.lines.insert(0, 1));
        assert!(verify_module(&m).unwrap_err().message.contains("register"));
    }

    #[test]
    fn load_nil_counts_its_operand_literally() {
        let mut m = compiled();
        tamper(&mut m, |p| {
            p.code.insert(
                0,
                Op::LoadNil {
                    a: Reg(0),
                    n: MULTI,
                },
            );
            p.lines.insert(0, 1);
        });
        assert!(verify_module(&m).unwrap_err().message.contains("window"));
    }

    #[test]
    fn call_window_beyond_frame_is_rejected() {
        let mut m = compiled();
        tamper(&mut m, |p| {
            p.code.insert(
                0,
                Op::Call {
                    a: Reg(0),
                    nargs: Count(p.max_registers),
                    nres: Count(1),
                },
            );
            p.lines.insert(0, 1);
        });
        assert!(verify_module(&m).unwrap_err().message.contains("window"));
    }

    #[test]
    fn call_global_window_and_global_are_checked() {
        let mut m = compiled();
        tamper(&mut m, |p| {
            p.code.insert(
                0,
                Op::CallGlobal {
                    a: Reg(0),
                    g: Glob(0),
                    nargs: Count(p.max_registers),
                    nres: Count(1),
                },
            );
            p.lines.insert(0, 1);
        });
        assert!(verify_module(&m).unwrap_err().message.contains("window"));
        let mut m = compiled();
        let n_globals = m.globals.len() as u16;
        tamper(&mut m, |p| {
            p.code.insert(
                0,
                Op::CallGlobal {
                    a: Reg(0),
                    g: Glob(n_globals),
                    nargs: Count(0),
                    nres: Count(1),
                },
            );
            p.lines.insert(0, 1);
        });
        assert!(verify_module(&m).is_err());
    }

    #[test]
    fn wild_jump_and_falling_off_the_end_are_rejected() {
        let mut m = compiled();
        tamper(&mut m, |p| {
            p.code.insert(0, Op::Jmp { off: Jump(10_000) });
            p.lines.insert(0, 1);
        });
        assert!(verify_module(&m)
            .unwrap_err()
            .message
            .contains("jump target"));
        let mut m = compiled();
        tamper(&mut m, |p| {
            p.code.push(Op::Nop {});
            p.lines.push(1);
        });
        assert!(verify_module(&m).unwrap_err().message.contains("fall off"));
    }

    #[test]
    fn bad_constant_and_upvalue_are_rejected() {
        let mut m = compiled();
        tamper(&mut m, |p| {
            p.code.insert(
                0,
                Op::LoadK {
                    a: Reg(0),
                    k: Kst(60_000),
                },
            );
            p.lines.insert(0, 1);
        });
        assert!(verify_module(&m).unwrap_err().message.contains("constant"));
        let mut m = compiled();
        tamper(&mut m, |p| {
            p.code.insert(
                0,
                Op::GetUpval {
                    a: Reg(0),
                    u: Upv(3),
                },
            );
            p.lines.insert(0, 1);
        });
        assert!(verify_module(&m).unwrap_err().message.contains("upvalue"));
    }
}
