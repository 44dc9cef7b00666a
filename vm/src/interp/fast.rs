//! The interpreter's fast loop: the instructions that raise no error and
//! reach no safepoint, on their common operands (inline ints, floats, lists
//! indexed in range, map reads and writes to existing keys, range steps
//! over lists and counts, `math.Sqrt` and the other float functions of a
//! float, struct fields and methods found by the inline cache, calls and
//! plain returns of Weft functions, a struct instance allocated from the
//! P's cached span), in a function small enough for the compiler to keep
//! the instruction pointer and the frame pointer in machine registers.
//! Allocation is here only where it cannot stop
//! (`P::try_alloc_without_safepoint`: `NewStruct`, and `str` of an int
//! through `object::try_new_string_without_safepoint`). One exception to "no
//! error": a native found by a call's inline cache is called from here
//! ([`native_method`]), as `step` would call it, since leaving the loop
//! for it cost more than the call; its failure goes back through
//! `Exec::native_stop`.
//!
//! `Exec::step` is one large function: there the compiler kept its `pc` in
//! a stack slot, and every dispatch waited for the store and the reload of
//! it (perf annotate: a 5-instruction loop ran at ~5 cycles an instruction,
//! the store-forwarding latency). `step` now calls [`run`] before each
//! instruction it dispatches itself that [`handles`] names; `run` executes instructions until one
//! it does not handle, or handles only in part (an int result that must be
//! boxed, mixed int/float operands, a list index out of range, a back edge
//! where a safepoint is due), and returns that instruction's address,
//! unexecuted. `step` then runs it with the full semantics. So every arm
//! here either completes its instruction exactly as `step` would, or
//! returns before it has changed anything.
//!
//! The safety argument for the unchecked register and instruction access is
//! `step`'s: `lang::verify` (run by `Vm::load`) proves every register
//! operand below the function's `max_registers` and every jump target
//! inside its code, and the frame's registers exist (`GState::cached_regs`).

use super::*;

/// Runs instructions from `ip` in the frame whose first register is `fp`
/// and whose function is `proto`; returns the address of the first
/// instruction it did not execute, and whether it called, returned or
/// called a native on the way (then that address is also saved as the top
/// frame's `pc`, and the caller reloads its frame state: a native may have
/// grown the register array). A native's failure (a panic, the end of the
/// program, or, empty, the goroutine parking) is left in
/// `Exec::native_stop`, which `step` passes on as if it had called the
/// native itself. (A `Result` return made every bail write three words
/// to memory and the loop's code 5% slower on fib.) `safepoint_flag` is
/// the one flag tested at calls and back edges: the P's preemption flag,
/// which a stop-the-world also sets, when the goroutine may yield; inside
/// a native callback, where `step` does not yield, the heap's stop flag.
/// (Testing the heap's flag and the P's, each through a pointer in a stack
/// slot, was 8 instructions a call or back edge; one is 3.)
///
/// # Safety
/// `ip` points to an instruction of `proto.code`; `fp` to the frame's first
/// register, with `fp..=fp + proto.max_registers` inside the goroutine's
/// current register array (`Exec::regs_ref`: call and return arms compute
/// absolute register numbers from `fp` and that array); `proto` was
/// verified by `lang::verify`.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn run(
    ex: &mut Exec<'_>,
    mut ip: *const Op,
    mut fp: *const AtomicU64,
    mut proto: &FnProto,
    p: &mut P,
    g: &mut Mutator,
    safepoint_flag: &AtomicBool,
    stop_depth: usize,
) -> (*const Op, bool) {
    // Whether a call or a return changed the running frame.
    let mut switched = false;
    macro_rules! r {
        ($reg:expr) => {{
            let reg: Reg = $reg;
            // SAFETY: a `Reg` operand is below `max_registers` (verified;
            // for `LoadNil`'s `a + i`, the verifier's window check proves
            // `a + n` below it), and the frame's registers exist (this
            // function's contract).
            unsafe { &*fp.add(reg.0 as usize) }
        }};
    }
    macro_rules! get {
        ($reg:expr) => {
            Value::from_bits(r!($reg).load(Relaxed))
        };
    }
    macro_rules! set {
        ($reg:expr, $v:expr) => {
            r!($reg).store(($v).bits(), Relaxed)
        };
    }
    loop {
        // SAFETY: `ip` points into `proto.code`: the contract for the first
        // instruction, then the verifier (jump targets inside the code,
        // nothing falls off the end), and after a call the callee's first
        // instruction, after a return the caller's saved `pc` (an
        // instruction of it: the one after its call). A function's code is
        // never written after it is verified and lives as long as the Vm
        // (`Vm::protos`), so the reference outlives any use of it here.
        //
        // A reference, not a copy: each arm then reads just the operands it
        // uses. Copying the instruction had the compiler decode every
        // operand (a, b, c, d) before the jump, 6 of the dispatch's 13
        // instructions: fannkuch(8) 192.7M -> 159.8M instructions, loop
        // 451M -> 391M, fib(27) 154.9M -> 143.4M.
        let op: &Op = unsafe { &*ip };
        ip = ip.wrapping_add(1);
        // Leaves the instruction to `step`, untouched.
        macro_rules! bail {
            () => {{
                let at = ip.wrapping_sub(1);
                if switched {
                    ex.gr.frames.last_mut().expect("frame").pc = pc_of(proto, at);
                }
                return (at, switched);
            }};
        }
        // A safepoint (a back edge, a call) where `step` must stop or yield.
        macro_rules! safepoint_due {
            () => {
                safepoint_flag.load(Relaxed)
            };
        }
        // The struct instance `$v` and its member named by constant `$k`,
        // through this instruction's inline cache; `step` handles anything
        // else. A miss is looked up here (`cached_member`'s miss path: no
        // allocation, no error): a call site that sees several types in
        // turn (richards' `t.task.run(packet)`) misses on most calls.
        macro_rules! instance_member {
            ($v:expr, $k:expr) => {{
                let v: Value = $v;
                let Some(inst) = obj_of_kind(v, Kind::Instance) else {
                    bail!()
                };
                let cache = &proto.inline_cache[pc_of(proto, ip) - 1];
                let name = || -> &[u8] { &proto.const_strs[$k.0 as usize] };
                match instance_type(inst).and_then(|t| cached_member(cache, t, name)) {
                    Some(member) => (inst, member),
                    None => bail!(),
                }
            }};
        }
        // The absolute number of the frame's register `$reg`.
        macro_rules! absolute {
            ($regs:expr, $reg:expr) => {
                (fp as usize - $regs.as_ptr() as usize) / std::mem::size_of::<AtomicU64>()
                    + $reg.0 as usize
            };
        }
        // The rest of `Call` and `CallGlobal` (written once, expanded in
        // each arm: one arm for both cost the test of which it was).
        macro_rules! call {
            ($a:expr, $callee:expr, $nargs:expr, $nres:expr) => {{
                let (a, callee, nargs, nres): (Reg, Value, Count, Count) =
                    ($a, $callee, $nargs, $nres);
                let nargs = nargs.0 as usize;
                let regs = ex.regs_ref();
                let abs = absolute!(regs, a);
                if let Some(child) = closure_proto(callee) {
                    let callee_proto = child.get();
                    if !ex.fits_plain_call(regs, callee_proto, abs, nargs) {
                        bail!()
                    }
                    ex.top_frame_mut().pc = pc_of(proto, ip);
                    // SAFETY: `fits_plain_call` said yes just above.
                    unsafe {
                        ex.enter_fitting(regs, child, callee_proto, callee, abs, nargs, nres.0)
                    };
                    proto = callee_proto;
                    ip = proto.code.as_ptr();
                    fp = regs.as_ptr().wrapping_add(abs + 1);
                    switched = true;
                } else if nargs == 1 && nres.0 <= 1 {
                    // float(x) and int(x) of a number, as `step` does them.
                    match numeric_conversion(callee, Value::from_bits(regs[abs + 1].load(Relaxed)))
                    {
                        Some(v) => set!(a, v),
                        None => bail!(),
                    }
                } else {
                    bail!()
                }
            }};
        }
        // A taken jump. A back edge is a safepoint: when one is due (a
        // stop-the-world, a preemption), `step` takes the jump instead.
        macro_rules! jump {
            ($off:expr) => {{
                let off = $off;
                if off < 0 && safepoint_due!() {
                    bail!()
                }
                ip = ip.wrapping_offset(off as isize);
            }};
        }
        // `R[a] += 1; if R[a] < bound jump` (IncJmpLtK, IncJmpLt) when the
        // counter and the bound are inline ints and the sum is one too.
        // The safepoint check comes before the store: a bail leaves the
        // whole instruction to step.
        macro_rules! inc_jmp_lt {
            ($a:expr, $bound:expr, $off:expr) => {{
                let (Some(i), Some(j)) = (get!($a).as_inline_int(), $bound.as_inline_int()) else {
                    bail!()
                };
                let Some(next) = Value::int_inline(i + 1) else {
                    bail!()
                };
                let taken = i + 1 < j;
                if taken && $off.0 < 0 && safepoint_due!() {
                    bail!()
                }
                set!($a, next);
                if taken {
                    ip = ip.wrapping_offset($off.0 as isize);
                }
            }};
        }
        // `if R[a] cmp K[k] (or not) jump` when both are inline ints (floats
        // and NaN are `step`'s).
        macro_rules! jump_cmp_k {
            ($a:expr, $k:expr, $off:expr, $cmp:tt, $when:expr) => {{
                // SAFETY: a `Kst` operand is in range (verified).
                let kv = unsafe { *proto.consts.get_unchecked($k.0 as usize) };
                jump_ints!(get!($a), kv, $off, $cmp, $when)
            }};
        }
        // `if x cmp y (or not) jump` for two values that are inline ints;
        // `step` handles anything else.
        macro_rules! jump_ints {
            ($x:expr, $y:expr, $off:expr, $cmp:tt, $when:expr) => {{
                let (Some(i), Some(j)) = ($x.as_inline_int(), $y.as_inline_int()) else {
                    bail!()
                };
                if (i $cmp j) == $when {
                    jump!($off.0);
                }
            }};
        }
        // `if c == $when jump` for a test `c` the fast loop could decide
        // (`Some`); `step` handles `None`.
        macro_rules! jump_when {
            ($c:expr, $off:expr, $when:expr) => {{
                match $c {
                    Some(c) => {
                        if c == $when {
                            jump!($off.0);
                        }
                    }
                    None => bail!(),
                }
            }};
        }
        // `R[a] = R[b] == R[c]` (`$eq` true) or `!=`, where `fast_equal`
        // decides.
        macro_rules! equal_to {
            ($a:expr, $b:expr, $c:expr, $eq:expr) => {{
                match fast_equal(get!($b), get!($c)) {
                    Some(eq) => set!($a, Value::bool(eq == $eq)),
                    None => bail!(),
                }
            }};
        }
        // `R[a] = R[b] cmp R[c]` for two inline ints or two floats (NaN
        // compares false, as `compare` orders it `None`).
        macro_rules! compare_to {
            ($a:expr, $b:expr, $c:expr, $cmp:tt) => {{
                let (x, y) = (get!($b), get!($c));
                let holds = if let (Some(i), Some(j)) = (x.as_inline_int(), y.as_inline_int()) {
                    i $cmp j
                } else if let (Some(fx), Some(fy)) = (x.as_float(), y.as_float()) {
                    fx $cmp fy
                } else {
                    bail!()
                };
                set!($a, Value::bool(holds));
            }};
        }
        // `if R[a] == K[k] (or !=) jump`, K an int constant: the same word
        // is equal, two different inline ints are not; anything else
        // (a float, a boxed int) is `step`'s.
        macro_rules! jump_eq_k {
            ($a:expr, $k:expr, $off:expr, $when:expr) => {{
                let x = get!($a);
                // SAFETY: a `Kst` operand is in range (verified).
                let kv = unsafe { *proto.consts.get_unchecked($k.0 as usize) };
                let eq = if x.bits() == kv.bits() {
                    true
                } else if x.is_inline_int() && kv.is_inline_int() {
                    false
                } else {
                    bail!()
                };
                if eq == $when {
                    jump!($off.0);
                }
            }};
        }
        // `R[a] = x op y` when both are inline ints with an inline result,
        // or both floats: `binop`'s fast path, without the boxing.
        macro_rules! arith {
            ($a:expr, $x:expr, $y:expr, $op:expr) => {{
                let (x, y) = ($x, $y);
                if let (Some(i), Some(j)) = (x.as_inline_int(), y.as_inline_int()) {
                    match arith::int_op($op, i, j).ok().and_then(Value::int_inline) {
                        Some(v) => set!($a, v),
                        None => bail!(),
                    }
                } else if let (Some(fx), Some(fy)) = (x.as_float(), y.as_float()) {
                    match arith::float_op($op, fx, fy) {
                        Ok(v) => set!($a, Value::float(v)),
                        Err(_) => bail!(),
                    }
                } else {
                    bail!()
                }
            }};
        }
        // `R[a] = R[b] op v` (`v` a non-zero i32 for / and %): `binop_imm`'s
        // fast path.
        macro_rules! arith_imm {
            ($a:expr, $b:expr, $v:expr, $f:ident) => {{
                match get!($b)
                    .as_inline_int()
                    .and_then(|i| i.$f($v as i64))
                    .and_then(Value::int_inline)
                {
                    Some(v) => set!($a, v),
                    None => bail!(),
                }
            }};
        }
        match *op {
            Op::Nop {} => {}
            Op::Move { a, b } => set!(a, get!(b)),
            Op::LoadK { a, k } => {
                // SAFETY: a `Kst` operand is below the constant table's
                // length (verified).
                set!(a, unsafe { *proto.consts.get_unchecked(k.0 as usize) })
            }
            Op::LoadInt { a, v } => set!(a, Value::int_inline(v.0 as i64).expect("i32 fits")),
            Op::LoadBool { a, v } => set!(a, Value::bool(v.0)),
            Op::LoadNil { a, n } => {
                for i in 0..=n.0 {
                    set!(Reg(a.0 + i), Value::NIL);
                }
            }
            Op::GetBuiltin { a, f } => set!(a, ex.vm.builtins[f.0 as usize]),
            Op::Convert { a, f } => {
                // SAFETY: the verifier's window check proves `a + 1` below
                // `max_registers`.
                let x = Value::from_bits(unsafe { &*fp.add(a.0 as usize + 1) }.load(Relaxed));
                // `f` names the builtin (the compiler emits Convert only
                // where `float`/`int`/`str` resolve to the builtins), so
                // the common cases need no look at the builtin object.
                match (f.0 as usize, x.as_inline_int()) {
                    (BUILTIN_FLOAT, Some(i)) => set!(a, Value::float(i as f64)),
                    (BUILTIN_INT, Some(_)) => set!(a, x),
                    (BUILTIN_STR, Some(i)) => {
                        let mut buf = [0u8; 20];
                        let text = format_int(i, &mut buf);
                        match object::try_new_string_without_safepoint(p, g, text) {
                            Some(s) => set!(a, s),
                            None => bail!(),
                        }
                    }
                    _ => match numeric_conversion(ex.vm.builtins[f.0 as usize], x) {
                        Some(v) => set!(a, v),
                        None => bail!(),
                    },
                }
            }
            Op::GetUpval { a, u } => {
                let closure = ex.gr.frames.last().expect("frame").closure;
                match upvalue_cell(closure, u.0) {
                    Some(cell) => set!(a, object::cell_get(cell)),
                    None => bail!(),
                }
            }
            Op::GetCell { a, b } => match obj_of(get!(b)) {
                Some(cell) => set!(a, object::cell_get(cell)),
                None => bail!(),
            },
            Op::GetGlobal { a, g } => {
                // SAFETY: `g` is this instruction's operand, of `proto`.
                let slot = unsafe { global_slot(proto, g) };
                set!(a, Value::from_bits(slot.load(Relaxed)))
            }
            Op::SetGlobal { g, b } => {
                // SAFETY: `g` is this instruction's operand, of `proto`.
                let slot = unsafe { global_slot(proto, g) };
                p.write_slot(slot, get!(b).bits())
            }
            Op::Add { a, b, c } => arith!(a, get!(b), get!(c), ArithOp::Add),
            Op::Sub { a, b, c } => arith!(a, get!(b), get!(c), ArithOp::Sub),
            Op::Mul { a, b, c } => arith!(a, get!(b), get!(c), ArithOp::Mul),
            Op::Div { a, b, c } => arith!(a, get!(b), get!(c), ArithOp::Div),
            Op::Mod { a, b, c } => arith!(a, get!(b), get!(c), ArithOp::Mod),
            Op::BitAnd { a, b, c } => arith!(a, get!(b), get!(c), ArithOp::BitAnd),
            Op::BitOr { a, b, c } => arith!(a, get!(b), get!(c), ArithOp::BitOr),
            Op::BitXor { a, b, c } => arith!(a, get!(b), get!(c), ArithOp::BitXor),
            Op::AndNot { a, b, c } => arith!(a, get!(b), get!(c), ArithOp::AndNot),
            Op::Shl { a, b, c } => arith!(a, get!(b), get!(c), ArithOp::Shl),
            Op::Shr { a, b, c } => arith!(a, get!(b), get!(c), ArithOp::Shr),
            Op::AddInt { a, b, v } => arith_imm!(a, b, v.0, checked_add),
            Op::MulInt { a, b, v } => arith_imm!(a, b, v.0, checked_mul),
            Op::DivInt { a, b, v } => arith_imm!(a, b, v.0, div_imm),
            Op::ModInt { a, b, v } => arith_imm!(a, b, v.0, checked_rem),
            Op::Not { a, b } => match get!(b).as_bool() {
                Some(x) => set!(a, Value::bool(!x)),
                None => bail!(),
            },
            // One arm per opcode here and in the jumps below: an arm shared
            // by two opcodes decodes which it was again (setcc and cmov on
            // the opcode byte).
            Op::Eq { a, b, c } => equal_to!(a, b, c, true),
            Op::Ne { a, b, c } => equal_to!(a, b, c, false),
            Op::Lt { a, b, c } => compare_to!(a, b, c, <),
            Op::Le { a, b, c } => compare_to!(a, b, c, <=),
            Op::Len { a, b } => {
                let v = get!(b);
                let n = match object::kind_of(v) {
                    Some(Kind::List) => object::list_len(obj_of(v).expect("list")),
                    Some(Kind::Str) => object::string_len(obj_of(v).expect("str")),
                    _ => bail!(),
                };
                set!(a, Value::int_inline(n as i64).expect("lengths fit inline"));
            }
            Op::Jmp { off } => jump!(off.0),
            Op::JmpIf { a, off } => jump_when!(get!(a).as_bool(), off, true),
            Op::JmpIfNot { a, off } => jump_when!(get!(a).as_bool(), off, false),
            // The shared arm these four had cost 8 instructions a test.
            Op::JmpLt { a, b, off } => jump_ints!(get!(a), get!(b), off, <, true),
            Op::JmpNotLt { a, b, off } => jump_ints!(get!(a), get!(b), off, <, false),
            Op::JmpLe { a, b, off } => jump_ints!(get!(a), get!(b), off, <=, true),
            Op::JmpNotLe { a, b, off } => jump_ints!(get!(a), get!(b), off, <=, false),
            Op::IncJmpLtK { a, k, off } => {
                // SAFETY: a `Kst` operand is in range (verified).
                let bound = unsafe { *proto.consts.get_unchecked(k.0 as usize) };
                inc_jmp_lt!(a, bound, off)
            }
            Op::IncJmpLt { a, b, off } => inc_jmp_lt!(a, get!(b), off),
            // One arm each: a shared arm decoded the comparison from the
            // opcode again (fib: 24 instructions for a test and a jump).
            Op::JmpLtK { a, k, off } => jump_cmp_k!(a, k, off, <, true),
            Op::JmpNotLtK { a, k, off } => jump_cmp_k!(a, k, off, <, false),
            Op::JmpLeK { a, k, off } => jump_cmp_k!(a, k, off, <=, true),
            Op::JmpNotLeK { a, k, off } => jump_cmp_k!(a, k, off, <=, false),
            Op::JmpGtK { a, k, off } => jump_cmp_k!(a, k, off, >, true),
            Op::JmpNotGtK { a, k, off } => jump_cmp_k!(a, k, off, >, false),
            Op::JmpGeK { a, k, off } => jump_cmp_k!(a, k, off, >=, true),
            Op::JmpNotGeK { a, k, off } => jump_cmp_k!(a, k, off, >=, false),
            Op::JmpEqK { a, k, off } => jump_eq_k!(a, k, off, true),
            Op::JmpNeK { a, k, off } => jump_eq_k!(a, k, off, false),
            Op::JmpEq { a, b, off } => jump_when!(fast_equal(get!(a), get!(b)), off, true),
            Op::JmpNe { a, b, off } => jump_when!(fast_equal(get!(a), get!(b)), off, false),
            Op::GetIndex { a, b, c } => {
                let (container, i) = (get!(b), get!(c));
                if let Some(slot) = list_elem(container, i) {
                    set!(a, Value::from_bits(slot.load(Relaxed)))
                } else {
                    match map_read(&mut ex.map_hint, container, i) {
                        // A missing key reads nil.
                        Some(v) => set!(a, v.unwrap_or(Value::NIL)),
                        None => match string_index(container, i) {
                            Some(byte) => set!(a, byte),
                            None => bail!(),
                        },
                    }
                }
            }
            Op::GetIndexOk { a, b, c } => match map_read(&mut ex.map_hint, get!(b), get!(c)) {
                Some(found) => {
                    set!(a, found.unwrap_or(Value::NIL));
                    set!(Reg(a.0 + 1), Value::bool(found.is_some()));
                }
                None => bail!(),
            },
            // A hit only: a missing key's zero value may be allocated.
            Op::GetIndexZero { a, b, c, .. } => {
                match map_read(&mut ex.map_hint, get!(b), get!(c)) {
                    Some(Some(v)) => set!(a, v),
                    _ => bail!(),
                }
            }
            Op::SetIndex { a, b, c } => {
                let (container, i) = (get!(a), get!(b));
                if let Some(slot) = list_elem(container, i) {
                    p.write_slot(slot, get!(c).bits())
                } else if !map_write_existing(&ex.map_hint, p, container, i, get!(c)) {
                    bail!()
                }
            }
            Op::RangeNext { a, off } => match range_next_fast(get!(a), get!(Reg(a.0 + 1))) {
                Some(Some((next, key, v))) => {
                    set!(Reg(a.0 + 1), next);
                    set!(Reg(a.0 + 2), key);
                    set!(Reg(a.0 + 3), v);
                }
                Some(None) => jump!(off.0),
                None => bail!(),
            },
            Op::GetField { a, b, .. } => {
                // SAFETY: one cache entry per instruction (`Vm::load`), and
                // `ip` is past this one.
                let cache = unsafe { proto.inline_cache.get_unchecked(pc_of(proto, ip) - 1) };
                let Some(slot) = cached_field(get!(b), cache) else {
                    bail!()
                };
                set!(a, Value::from_bits(slot.load(Relaxed)));
            }
            Op::SetField { a, b, .. } => {
                // SAFETY: as for `GetField`.
                let cache = unsafe { proto.inline_cache.get_unchecked(pc_of(proto, ip) - 1) };
                let Some(slot) = cached_field(get!(a), cache) else {
                    bail!()
                };
                p.write_slot(slot, get!(b).bits());
            }
            Op::NewStruct { a, b } => {
                // `step`'s, when the P's cached span has a slot for it: no
                // safepoint, so nothing to save first.
                let ty = get!(b);
                let Some(t) = obj_of_kind(ty, Kind::StructType) else {
                    bail!()
                };
                let n = type_field_count(t);
                let Some(inst) =
                    p.try_alloc_without_safepoint(g, Kind::Instance.type_id(), (1 + n) * 8)
                else {
                    bail!()
                };
                set!(a, init_instance(p, inst, ty));
            }
            Op::InitField { a, i, b } => {
                let Some(inst) = obj_of(get!(a)) else { bail!() };
                // SAFETY: a live instance (in a register; NewStruct made it).
                let slots = unsafe { inst.slots() };
                match slots.get(1 + i.0 as usize) {
                    Some(slot) => p.write_slot(slot, get!(b).bits()),
                    None => bail!(),
                }
            }
            Op::CallMethod { a, k, nargs, nres } => {
                // A method defined in Weft, found by the inline cache, with
                // the receiver inserted before the arguments as `step` does.
                if nargs == MULTI || safepoint_due!() {
                    bail!()
                }
                let recv = get!(a);
                if nargs.0 == 1 && nres.0 <= 1 && object::kind_of(recv) == Some(Kind::StdModule) {
                    // A module's float function of a float (math.Sqrt(x)),
                    // once `step` has filled the inline cache: computed here
                    // as arithmetic is, not called as a native.
                    // Anything else (`fmt.Println(x)`) is called below.
                    if let Some(v) = float_function(ex, proto, ip, recv, get!(Reg(a.0 + 1))) {
                        if nres.0 == 1 {
                            set!(a, v)
                        }
                        continue;
                    }
                }
                if matches!(object::kind_of(recv), Some(Kind::StdModule | Kind::Opaque)) {
                    let regs = ex.regs_ref();
                    let abs = absolute!(regs, a);
                    match native_method(ex, p, g, proto, ip, abs, recv, nargs.0 as usize, nres.0) {
                        None => bail!(),
                        Some(Err(stop)) => {
                            // `step` passes it on (see `Exec::native_stop`).
                            ex.native_stop = Some(stop);
                            return (ip, true);
                        }
                        Some(Ok(())) => {
                            // The register array may have grown (a
                            // callback): `step` reloads, and so does this.
                            fp = ex.regs_ref().as_ptr().wrapping_add(ex.top_frame().base);
                            switched = true;
                            continue;
                        }
                    }
                }
                let (_, Member::Method(m)) = instance_member!(recv, k) else {
                    bail!()
                };
                let Some(child) = closure_proto(m) else {
                    bail!()
                };
                let callee_proto = child.get();
                let nargs = nargs.0 as usize;
                let regs = ex.regs_ref();
                let abs = absolute!(regs, a);
                // Checked first: once the receiver is in, there is no way back.
                if abs + nargs + 2 >= regs.len()
                    || !ex.fits_plain_call(regs, callee_proto, abs, nargs + 1)
                {
                    bail!()
                }
                ex.top_frame_mut().pc = pc_of(proto, ip);
                insert_receiver(regs, abs, nargs, recv, m);
                // SAFETY: `fits_plain_call` said yes above.
                unsafe { ex.enter_fitting(regs, child, callee_proto, m, abs, nargs + 1, nres.0) };
                proto = callee_proto;
                ip = proto.code.as_ptr();
                fp = regs.as_ptr().wrapping_add(abs + 1);
                switched = true;
            }
            Op::Call { a, nargs, nres } => {
                if nargs == MULTI || safepoint_due!() {
                    bail!()
                }
                call!(a, get!(a), nargs, nres)
            }
            Op::CallGlobal { a, g, nargs, nres } => {
                if nargs == MULTI || safepoint_due!() {
                    bail!()
                }
                // SAFETY: `g` is this instruction's operand, of `proto`.
                let slot = unsafe { global_slot(proto, g) };
                // The callee goes on from the loaded word, not from the
                // register: reading it back waited for the store.
                let callee = Value::from_bits(slot.load(Relaxed));
                set!(a, callee);
                call!(a, callee, nargs, nres)
            }
            Op::Return { a, n } => {
                let regs = ex.regs_ref();
                let first = absolute!(regs, a);
                // `return f(x)`: every result of the call below `top`.
                let n = if n == MULTI {
                    ex.gr.top.saturating_sub(first)
                } else {
                    n.0 as usize
                };
                let Some((caller, pc, base)) = ex.return_plain(regs, first, n, stop_depth) else {
                    bail!()
                };
                proto = caller.get();
                ip = proto.code.as_ptr().wrapping_add(pc);
                fp = regs.as_ptr().wrapping_add(base);
                switched = true;
            }
            // By name, with no `_` arm: the dispatch then jumps through its
            // table without a range test.
            step_only_ops!() => bail!(),
        }
    }
}

/// The slot of element `i` of `container` when it is a list and `i` an
/// inline int within its length: `list_slot` without the checks the heap
/// layout makes needless. A list is `[len][array]` and its array slot
/// always holds an array object (`Kind::List`: `new_list` stores one
/// before the list is reachable, growth swaps in another); the array's
/// own length is still checked, since a racing append may pair a new
/// length with the old array.
#[inline(always)]
fn list_elem(container: Value, i: Value) -> Option<&'static AtomicU64> {
    let list = obj_of_kind(container, Kind::List)?;
    // A negative index wraps to above any length: one bounds test.
    let i = i.as_inline_int()? as usize;
    let words = list.payload_addr() as *const AtomicU64;
    // SAFETY: a live list (its value is in a register) has its two slots.
    let (len, array) = unsafe { ((*words).load(Relaxed), (*words.add(1)).load(Relaxed)) };
    if i >= len as usize {
        return None;
    }
    let array = weft_gc::ObjRef::from_addr(Value::from_bits(array).payload_addr())?;
    // SAFETY: the array the list held is alive while the list is (the
    // slot is traced; a replaced array is alive until the next cycle's
    // sweep, after this instruction).
    unsafe { array.slots() }.get(i)
}

/// The slot of the field of struct instance `v` that the inline cache
/// `cache` names, when `v` is an instance and the cache holds a field of
/// its type; `None` for anything else (a method entry, another type, an
/// empty cache, not an instance), which `step` handles. `cache_hit`
/// without its checks of what the heap layout guarantees.
#[inline(always)]
fn cached_field(v: Value, cache: &AtomicU64) -> Option<&'static AtomicU64> {
    let inst = obj_of_kind(v, Kind::Instance)?;
    let entry = cache.load(Relaxed);
    if entry & IC_METHOD != 0 {
        return None;
    }
    // SAFETY: `inst` is a live instance (its value is in a register).
    let slots = unsafe { inst.slots() };
    // Slot 0 of an instance is its struct type (`Kind::Instance`:
    // `NewStruct`, the only place instances are made, stores it before
    // the instance is reachable), and a struct type's fourth slot is its
    // unique id (`Kind::StructType`, `new_struct_type`): no tag or length
    // tests on the way to the id.
    // SAFETY: an instance has at least its type slot.
    let ty = Value::from_bits(unsafe { slots.get_unchecked(0) }.load(Relaxed)).payload_addr();
    // The one other word slot 0 can hold is the zero of fresh memory: a
    // racing goroutine's new instance seen before its type store (not on
    // x86's ordered stores, but on a weaker memory model).
    let ty = weft_gc::ObjRef::from_addr(ty)?;
    // SAFETY: `ty` is that struct type, alive while the instance is (the
    // instance's slot 0 is traced), and it has four slots.
    let id = unsafe { &*((ty.payload_addr() + 3 * 8) as *const AtomicU64) }.load(Relaxed);
    if entry >> 16 != id {
        return None;
    }
    // The entry's payload is the field index + 1, the instance slot (after
    // the type). It is inside the instance for the type the entry was
    // made for; the test keeps an empty entry (0) and, were ids ever to
    // repeat, another type's index from reading outside.
    slots
        .get(entry as usize & (IC_METHOD as usize - 1))
        .filter(|_| entry & 0xffff != 0)
}

// The map and range arms' work is out of line: inlined, it made the
// register allocation of the whole loop worse (fannkuch, all list
// indexing, ran 4% slower).

/// `m[k]` when `m` is a map and `k` hashable: `Some(None)` for a missing
/// key. `None` leaves the instruction to `step`.
#[inline(never)]
fn map_read(hint: &mut object::MapHint, m: Value, k: Value) -> Option<Option<Value>> {
    object::map_get_hinted(object::obj_of_kind(m, Kind::Map)?, k, hint).ok()
}

/// `s[i]` when `s` is a string and `i` an inline int within its length:
/// the byte, as an int (strings_maps' hash loop).
#[inline(never)]
fn string_index(s: Value, i: Value) -> Option<Value> {
    let byte = object::string_byte(
        obj_of_kind(s, Kind::Str)?,
        usize::try_from(i.as_inline_int()?).ok()?,
    )?;
    Value::int_inline(byte as i64)
}

/// `m[k] = v` when `m` is a map that has key `k` (adding a key may grow
/// the map, which `step` does); whether it stored.
#[inline(never)]
fn map_write_existing(hint: &object::MapHint, p: &mut P, m: Value, k: Value, v: Value) -> bool {
    object::obj_of_kind(m, Kind::Map)
        .is_some_and(|m| object::map_set_existing_hinted(p, m, k, v, hint))
}

/// A range loop's next step over a list or an inline-int count, from
/// its state (the next index): `Some(Some((next state, key, value)))`,
/// `Some(None)` when done, `None` for what `step` iterates (strings, maps,
/// channels, boxed ints, nil). The two cases of `range_next` written out
/// rather than a call to it: that one tests for boxed ints and every kind
/// first (strings_maps +0.7% instructions).
#[inline(never)]
fn range_next_fast(c: Value, state: Value) -> Option<Option<(Value, Value, Value)>> {
    let state = state.as_inline_int()?;
    let item = if let Some(n) = c.as_inline_int() {
        (state < n).then_some(Value::NIL)
    } else {
        let l = object::obj_of_kind(c, Kind::List)?;
        object::list_get(l, usize::try_from(state).ok()?)
    };
    Some(match item {
        Some(v) => Some((Value::int_inline(state + 1)?, Value::int_inline(state)?, v)),
        None => None,
    })
}

/// `module.f(x)` when the instruction's inline cache (filled by `step`)
/// names a native of `module` with a float fast path
/// (`ModuleDef::float_fns`) and `x` is a float. `ip` is past the
/// instruction.
#[inline(never)]
fn float_function(
    ex: &Exec<'_>,
    proto: &FnProto,
    ip: *const Op,
    module: Value,
    x: Value,
) -> Option<Value> {
    let x = x.as_float()?;
    let cache = proto.inline_cache.get(pc_of(proto, ip) - 1)?;
    let index = cached_native_index(cache, module.as_object()? as u64)?;
    let f = (*ex.vm.native_float_fns.get(index)?)?;
    Some(Value::float(f(x)))
}

/// `recv.name(args...)` where `recv` is a standard module or a native
/// object and the instruction's inline cache (filled by `step`) names the
/// native: called as `step` calls it (the caller's `pc` saved first, the
/// results stored, a parking native's goroutine suspended). `None`, with
/// nothing done, when the cache does not hold it or there are more
/// arguments than the buffer takes. Out of line: a call of a native costs
/// far more than the call of this, and inlined it would crowd the loop's
/// registers. Coming here instead of leaving the loop for `step` saved
/// about 300 instructions a call (`b.WriteString(s)` in strings_maps).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn native_method(
    ex: &mut Exec<'_>,
    p: &mut P,
    g: &mut Mutator,
    proto: &FnProto,
    ip: *const Op,
    abs: usize,
    recv: Value,
    nargs: usize,
    nres: u8,
) -> Option<Res<()>> {
    let cache = proto.inline_cache.get(pc_of(proto, ip) - 1)?;
    // A module's function takes the arguments; a native object's method
    // the object first (see `step`'s `CallMethod`).
    let (key, first) = match object::kind_of(recv)? {
        Kind::StdModule => (recv.as_object()? as u64, abs + 1),
        Kind::Opaque => (
            OPAQUE_IC_TAG | crate::native::opaque_id_of(recv)? as u64,
            abs,
        ),
        _ => return None,
    };
    let f = ex.cached_native(cache, key)?;
    let count = abs + 1 + nargs - first;
    let mut args = [Value::NIL; 8];
    let regs = ex.regs_ref();
    for (arg, reg) in args.iter_mut().zip(regs.get(first..first + count)?) {
        *arg = Value::from_bits(reg.load(Relaxed));
    }
    let args = args.get(..count)?;
    ex.top_frame_mut().pc = pc_of(proto, ip);
    let results = match ex.call_native_fn(p, g, f, args) {
        Ok(results) => results,
        Err(stop) => return Some(Err(stop)),
    };
    if nres == MULTI.0 {
        ex.store_results(abs, nres, &results);
    } else {
        // `store_results` without its `ensure_regs`: the verifier proved
        // `abs + nres` inside the frame, which the array holds.
        let regs = ex.regs_ref();
        ex.put_results(regs, abs, nres as usize, &results);
    }
    // The native parks the goroutine (a lock, a sleep): `step` suspends it.
    Some(match ex.suspend {
        Some(_) => Err(String::new()),
        None => Ok(()),
    })
}

/// Division of an int by a `DivInt` immediate (never 0), truncated toward
/// zero as Go's. A power of two is shifted instead of divided:
/// `(i+j)*(i+j+1)/2` in spectralnorm's inner function waited on a 64-bit
/// `idiv` at every call (spectralnorm 0.958 of the time with it). `None`
/// only where `checked_div` gives it. (The same test in `ModInt` cost
/// `x % 7` in the loop benchmark 11 instructions and 5% for nothing.)
trait ImmDiv: Sized {
    fn div_imm(self, d: i64) -> Option<i64>;
}

impl ImmDiv for i64 {
    #[inline(always)]
    fn div_imm(self, d: i64) -> Option<i64> {
        if d > 0 && d & (d - 1) == 0 {
            let k = d.trailing_zeros();
            // A negative dividend is biased by d - 1 so the shift truncates
            // toward zero rather than down.
            Some((self + ((self >> 63) & (d - 1))) >> k)
        } else {
            self.checked_div(d)
        }
    }
}

/// The index of the instruction `ip` points to in `proto`'s code.
#[inline(always)]
pub(super) fn pc_of(proto: &FnProto, ip: *const Op) -> usize {
    (ip as usize - proto.code.as_ptr() as usize) / std::mem::size_of::<Op>()
}

/// `values_equal` where it needs no call: identical words (a NaN is not
/// equal to itself), two inline ints, two floats, nil or a bool. `None` for the rest
/// (strings, mixed numbers, boxed ints), which `step` compares.
#[inline(always)]
fn fast_equal(x: Value, y: Value) -> Option<bool> {
    if x == y {
        return Some(x.as_float().is_none_or(|f| !f.is_nan()));
    }
    // Different ints, or nil or a bool against anything else.
    if (x.is_inline_int() && y.is_inline_int()) || x.is_immediate() || y.is_immediate() {
        return Some(false);
    }
    match (x.as_float(), y.as_float()) {
        (Some(fx), Some(fy)) => Some(fx == fy),
        _ => None,
    }
}

/// The instructions [`run`] leaves to `step` whatever their operands (a
/// pattern: `run`'s last arm, and the complement of [`handles`]).
macro_rules! step_only_ops {
    () => {
        Op::SetUpval { .. }
            | Op::NewCell { .. }
            | Op::NewCellNil { .. }
            | Op::SetCell { .. }
            | Op::Closure { .. }
            | Op::Import { .. }
            | Op::NewList { .. }
            | Op::NewMap { .. }
            | Op::NewType { .. }
            | Op::SetMethod { .. }
            | Op::Slice { .. }
            | Op::Append { .. }
            | Op::AppendSpread { .. }
            | Op::Neg { .. }
            | Op::Plus { .. }
            | Op::BitNot { .. }
            | Op::CallSpread { .. }
            | Op::CallMethodSpread { .. }
            | Op::Go { .. }
            | Op::GoMethod { .. }
            | Op::Defer { .. }
            | Op::DeferMethod { .. }
            | Op::Recover { .. }
            | Op::Send { .. }
            | Op::Recv { .. }
            | Op::RecvOk { .. }
            | Op::Select { .. }
            | Op::MakeChan { .. }
            | Op::RangePrep { .. }
    };
}
use step_only_ops;

/// Whether [`run`] handles `op`'s instruction at all (on some operands).
/// `step` skips the call for the others, so that a run of instructions only
/// it executes (native calls, map updates, allocations) does not go in and
/// out of `run` once each.
#[inline(always)]
pub(super) fn handles(op: &Op) -> bool {
    !matches!(op, step_only_ops!())
}

#[cfg(test)]
mod tests {
    use super::ImmDiv;

    #[test]
    fn division_by_an_immediate_truncates_as_go_does() {
        let xs = [
            0,
            1,
            -1,
            2,
            -2,
            3,
            -3,
            7,
            -7,
            8,
            -8,
            1023,
            -1023,
            1 << 50,
            -(1 << 50),
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ];
        let ds = [
            1,
            2,
            3,
            4,
            7,
            8,
            16,
            1 << 20,
            1 << 30,
            -1,
            -2,
            -4,
            -8,
            5,
            1000,
        ];
        for &x in &xs {
            for &d in &ds {
                assert_eq!(x.div_imm(d), x.checked_div(d), "{x} / {d}");
            }
        }
    }
}
