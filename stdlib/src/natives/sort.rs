//! `sort`: Ints and Strings sort a list in place.

use weft_vm::native::{int_arg, list_items, list_replace, string_arg, ModuleDef, NativeCtx};
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Ints", ints)
        .function("Strings", strings)
}

fn ints(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Vec<Value>, String> {
    let list = a.first().copied().unwrap_or_default();
    let mut items = list_items(list).ok_or("sort.Ints: argument must be a list")?;
    if items.iter().any(|v| int_arg(*v).is_none()) {
        return Err("sort.Ints: elements must be ints".into());
    }
    items.sort_by_key(|v| int_arg(*v).unwrap_or(0));
    list_replace(ctx.p, list, &items);
    Ok(vec![])
}

fn strings(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Vec<Value>, String> {
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
    Ok(vec![])
}
