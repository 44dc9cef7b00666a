//! `sort`: Ints and Strings sort a list in place.

use weft_vm::native::Results;
use weft_vm::native::{int_arg, list_items, list_replace, string_arg, ModuleDef, NativeCtx};
use weft_vm::results;
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Ints", ints)
        .function("Strings", strings)
        .function("Slice", slice)
}

fn ints(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let list = a.first().copied().unwrap_or_default();
    let mut items = list_items(list).ok_or("sort.Ints: argument must be a list")?;
    if items.iter().any(|v| int_arg(*v).is_none()) {
        return Err("sort.Ints: elements must be ints".into());
    }
    items.sort_by_key(|v| int_arg(*v).unwrap_or(0));
    list_replace(ctx.p, list, &items);
    Ok(results![])
}

fn strings(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let list = a.first().copied().unwrap_or_default();
    let items = list_items(list).ok_or("sort.Strings: argument must be a list")?;
    let mut keyed: Vec<(Vec<u8>, Value)> = Vec::with_capacity(items.len());
    for v in items {
        keyed.push((
            string_arg(v).ok_or("sort.Strings: elements must be strings")?,
            v,
        ));
    }
    keyed.sort_by(|x, y| x.0.cmp(&y.0));
    let sorted: Vec<Value> = keyed.into_iter().map(|(_, v)| v).collect();
    list_replace(ctx.p, list, &sorted);
    Ok(results![])
}

/// `sort.Slice(list, less)`: sorts in place with `less(i, j)` (indices into the
/// list as it is being sorted, Go's contract).
fn slice(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let list = a.first().copied().unwrap_or_default();
    let less = a.get(1).copied().unwrap_or_default();
    let n = list_items(list)
        .ok_or("sort.Slice: argument 1 must be a list")?
        .len();
    // Binary insertion sort on the live list: each comparison asks `less` about
    // two current positions, so the callback sees exactly what Go's would.
    for i in 1..n {
        let (mut lo, mut hi) = (0, i);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let before = ctx.call(less, &[int(i), int(mid)])?;
            if before
                .first()
                .and_then(|v| v.as_bool())
                .ok_or("sort.Slice: less must return a bool")?
            {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        if lo < i {
            let mut items = list_items(list).ok_or("sort.Slice: the list changed type")?;
            if i < items.len() {
                let moved = items.remove(i);
                items.insert(lo, moved);
                list_replace(ctx.p, list, &items);
            }
        }
    }
    Ok(results![])
}

fn int(i: usize) -> Value {
    Value::int_inline(i as i64).expect("index fits inline")
}
