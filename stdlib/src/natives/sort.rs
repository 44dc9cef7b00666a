//! `sort`: Ints and Strings sort a list in place; Slice and SliceStable sort
//! it with a Weft `less(i, j)`.
//!
//! Slice and SliceStable run Go's own algorithms (Go 1.19's `sort` package:
//! pattern-defeating quicksort for Slice, insertion-sorted blocks merged by
//! SymMerge for SliceStable) on the live list, calling `less` on positions
//! as they are and swapping elements in place. So `less` sees the calls Go's
//! would make, and elements that compare equal end in Go's order, which for
//! an unstable sort is the algorithm's, not the input's. Both take
//! O(n log n) calls of `less`.
//!
//! Ints and Strings copy the elements out, sort them without holding up the
//! collector when there are many ([`NativeCtx::off_heap`]), and write them
//! back: equal ints or strings cannot be told apart, so any correct sort
//! gives Go's result.

use super::arg;
use weft_vm::native::Results;
use weft_vm::native::{
    int_arg, list_items, list_len, list_replace, list_swap, string_arg, ModuleDef, NativeCtx,
    OFF_HEAP_WORK, SAFEPOINT_EVERY,
};
use weft_vm::results;
use weft_vm::value::Value;

pub(crate) fn module() -> ModuleDef {
    ModuleDef::default()
        .function("Ints", ints)
        .function("Strings", strings)
        .function("Slice", slice)
        .function("SliceStable", slice_stable)
}

fn ints(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    sort_by_key(ctx, a, "sort.Ints", "ints", int_arg)
}

fn strings(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    sort_by_key(ctx, a, "sort.Strings", "strings", string_arg)
}

/// Sorts the list argument in place by `key` of each element (`kind`
/// names what the elements must be, for the error), the sort itself
/// without holding up the collector when the list is long (the values
/// are rooted by `rooted_items` meanwhile).
fn sort_by_key<K: Ord>(
    ctx: &mut NativeCtx<'_>,
    a: &[Value],
    func: &str,
    kind: &str,
    key: fn(Value) -> Option<K>,
) -> Result<Results, String> {
    let list = arg(a, 0);
    let Items { values, kept } =
        rooted_items(ctx, list).ok_or_else(|| format!("{func}: argument must be a list"))??;
    let mut keyed: Vec<(K, Value)> = Vec::with_capacity(values.len());
    for (i, v) in values.into_iter().enumerate() {
        if kept {
            ctx.safepoint_every(i, SAFEPOINT_EVERY);
        }
        keyed.push((
            key(v).ok_or_else(|| format!("{func}: elements must be {kind}"))?,
            v,
        ));
    }
    // Values nothing keeps must not meet a safepoint: sorted inline.
    let work = if kept { keyed.len() } else { 0 };
    ctx.off_heap(work, || keyed.sort_unstable_by(|x, y| x.0.cmp(&y.0)));
    let sorted: Vec<Value> = keyed.into_iter().map(|(_, v)| v).collect();
    list_replace(ctx, list, &sorted, kept);
    Ok(results![])
}

/// A list's elements, copied out for [`sort_by_key`].
struct Items {
    values: Vec<Value>,
    /// Whether the native keeps them (rooted across safepoints). Every
    /// step that may reach a safepoint with `values` in hand asks this:
    /// one decision, so a racing append cannot make two steps disagree.
    kept: bool,
}

/// The elements of `list` (`None` if it is not one), rooted until the
/// native returns when the list is long enough for [`sort_by_key`] to let
/// the collector run: another goroutine may change the list meanwhile, and
/// a value it overwrites would then be held only here ([`NativeCtx::off_heap`]'s
/// rule). The kept copy is allocated first, empty, and filled with no
/// safepoint between reading an element and storing it (an allocation
/// between the two could let a whole cycle pass: the reviewer's race,
/// `tests/scripts/stdlib_sort_race`).
fn rooted_items(ctx: &mut NativeCtx<'_>, list: Value) -> Option<Result<Items, String>> {
    let n = list_len(list)?;
    if n < OFF_HEAP_WORK {
        return list_items(list).map(|values| {
            Ok(Items {
                values,
                kept: false,
            })
        });
    }
    let kept = match ctx.new_nil_list(n) {
        Ok(kept) => kept,
        Err(e) => return Some(Err(e)),
    };
    Some(Ok(Items {
        values: copy_list(ctx, list, kept),
        kept: true,
    }))
}

/// Copies the elements of `from` into `to` (same length or longer) with the
/// barrier, and returns them. A safepoint comes only after a store, never
/// between reading an element and storing it, so every element returned is
/// rooted by `to`.
fn copy_list(ctx: &mut NativeCtx<'_>, from: Value, to: Value) -> Vec<Value> {
    let mut items = Vec::with_capacity(list_len(from).unwrap_or(0));
    let mut i = 0;
    while let Some(v) = weft_vm::native::list_get(from, i) {
        if !weft_vm::native::list_set(ctx.p, to, i, v) {
            break;
        }
        items.push(v);
        ctx.safepoint_every(i, SAFEPOINT_EVERY);
        i += 1;
    }
    items
}

/// `sort.Slice(list, less)`: Go's pdqsort on the live list.
fn slice(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let mut data = LiveList::new(ctx, a, "sort.Slice")?;
    let n = data.len;
    pdqsort(&mut data, 0, n, bits_len(n))?;
    Ok(results![])
}

/// `sort.SliceStable(list, less)`: Go's stable sort on the live list.
fn slice_stable(ctx: &mut NativeCtx<'_>, a: &[Value]) -> Result<Results, String> {
    let mut data = LiveList::new(ctx, a, "sort.SliceStable")?;
    let n = data.len;
    stable(&mut data, n)?;
    Ok(results![])
}

/// What the sorting algorithms need of the data, as Go's `lessSwap`: both
/// can fail (a panic in `less`, a list that changed under the sort).
trait LessSwap {
    fn less(&mut self, i: usize, j: usize) -> Result<bool, String>;
    fn swap(&mut self, i: usize, j: usize) -> Result<(), String>;
}

/// A list being sorted in place with a Weft `less`.
struct LiveList<'c, 'a> {
    ctx: &'c mut NativeCtx<'a>,
    list: Value,
    less: Value,
    len: usize,
    func: &'static str,
}

impl<'c, 'a> LiveList<'c, 'a> {
    fn new(ctx: &'c mut NativeCtx<'a>, a: &[Value], func: &'static str) -> Result<Self, String> {
        let list = arg(a, 0);
        let less = a.get(1).copied().unwrap_or_default();
        let len = list_len(list).ok_or_else(|| format!("{func}: argument 1 must be a list"))?;
        Ok(LiveList {
            ctx,
            list,
            less,
            len,
            func,
        })
    }
}

impl LessSwap for LiveList<'_, '_> {
    fn less(&mut self, i: usize, j: usize) -> Result<bool, String> {
        let results = self.ctx.call(self.less, &[index(i), index(j)])?;
        results
            .first()
            .and_then(|v| v.as_bool())
            .ok_or_else(|| format!("{}: less must return a bool", self.func))
    }

    fn swap(&mut self, i: usize, j: usize) -> Result<(), String> {
        // `less` may have shortened the list: Go's swapper would index out
        // of range; so does this, as a runtime error, never out of bounds.
        if list_swap(self.ctx.p, self.list, i, j) {
            Ok(())
        } else {
            let len = list_len(self.list).unwrap_or(0);
            Err(format!(
                "runtime error: index out of range [{}] with length {len} ({}: the list changed while sorting)",
                i.max(j),
                self.func
            ))
        }
    }
}

fn index(i: usize) -> Value {
    Value::int_inline(i as i64).expect("index fits inline")
}

/// Go's `bits.Len`: the number of bits needed to represent `n`.
fn bits_len(n: usize) -> usize {
    (usize::BITS - n.leading_zeros()) as usize
}

fn insertion_sort(data: &mut impl LessSwap, a: usize, b: usize) -> Result<(), String> {
    for i in a + 1..b {
        let mut j = i;
        while j > a && data.less(j, j - 1)? {
            data.swap(j, j - 1)?;
            j -= 1;
        }
    }
    Ok(())
}

/// Restores the heap property of `data[first + lo .. first + hi]` from `lo` down.
fn sift_down(data: &mut impl LessSwap, lo: usize, hi: usize, first: usize) -> Result<(), String> {
    let mut root = lo;
    loop {
        let mut child = 2 * root + 1;
        if child >= hi {
            return Ok(());
        }
        if child + 1 < hi && data.less(first + child, first + child + 1)? {
            child += 1;
        }
        if !data.less(first + root, first + child)? {
            return Ok(());
        }
        data.swap(first + root, first + child)?;
        root = child;
    }
}

fn heap_sort(data: &mut impl LessSwap, a: usize, b: usize) -> Result<(), String> {
    let (first, hi) = (a, b - a);
    for i in (0..hi.div_ceil(2)).rev() {
        sift_down(data, i, hi, first)?;
    }
    for i in (0..hi).rev() {
        data.swap(first, first + i)?;
        sift_down(data, 0, i, first)?;
    }
    Ok(())
}

/// What `choose_pivot` learnt of the order around its samples.
#[derive(PartialEq)]
enum Hint {
    Unknown,
    Increasing,
    Decreasing,
}

/// Pattern-defeating quicksort of `data[a..b]` (Go's `pdqsort_func`):
/// insertion sort for short runs, a heapsort once `limit` bad pivots have
/// been chosen, a quick exit for runs that are already sorted, and a
/// separate partition for runs of elements equal to the pivot.
fn pdqsort(
    data: &mut impl LessSwap,
    mut a: usize,
    mut b: usize,
    mut limit: usize,
) -> Result<(), String> {
    const MAX_INSERTION: usize = 12;
    let mut was_balanced = true;
    let mut was_partitioned = true;
    loop {
        let length = b - a;
        if length <= MAX_INSERTION {
            return insertion_sort(data, a, b);
        }
        if limit == 0 {
            return heap_sort(data, a, b);
        }
        if !was_balanced {
            break_patterns(data, a, b)?;
            limit -= 1;
        }
        let (mut pivot, mut hint) = choose_pivot(data, a, b)?;
        if hint == Hint::Decreasing {
            reverse_range(data, a, b)?;
            // The pivot was `pivot - a` after the start; it is now as far
            // before the end.
            pivot = (b - 1) - (pivot - a);
            hint = Hint::Increasing;
        }
        if was_balanced
            && was_partitioned
            && hint == Hint::Increasing
            && partial_insertion_sort(data, a, b)?
        {
            return Ok(());
        }
        // Many elements equal to the pivot: put them first and go on with
        // the greater ones.
        if a > 0 && !data.less(a - 1, pivot)? {
            a = partition_equal(data, a, b, pivot)?;
            continue;
        }
        let (mid, already_partitioned) = partition(data, a, b, pivot)?;
        was_partitioned = already_partitioned;
        let (left, right) = (mid - a, b - mid);
        let balance_threshold = length / 8;
        // Recurse into the shorter side: the depth stays under log2(n).
        if left < right {
            was_balanced = left >= balance_threshold;
            pdqsort(data, a, mid, limit)?;
            a = mid + 1;
        } else {
            was_balanced = right >= balance_threshold;
            pdqsort(data, mid + 1, b, limit)?;
            b = mid;
        }
    }
}

/// Partitions `data[a..b]` around `data[pivot]`: smaller elements before
/// the returned position, which then holds the pivot, the rest after.
/// Also says whether nothing had to move.
fn partition(
    data: &mut impl LessSwap,
    a: usize,
    b: usize,
    pivot: usize,
) -> Result<(usize, bool), String> {
    data.swap(a, pivot)?;
    // `i` and `j` bound the elements still to place, both inclusive; `j`
    // may go one below `a + 1`, hence the signed arithmetic.
    let (mut i, mut j) = (a as isize + 1, b as isize - 1);
    let a_ = a as isize;
    while i <= j && data.less(i as usize, a)? {
        i += 1;
    }
    while i <= j && !data.less(j as usize, a)? {
        j -= 1;
    }
    if i > j {
        data.swap(j as usize, a)?;
        return Ok((j as usize, true));
    }
    data.swap(i as usize, j as usize)?;
    i += 1;
    j -= 1;
    loop {
        while i <= j && data.less(i as usize, a)? {
            i += 1;
        }
        while i <= j && !data.less(j as usize, a)? {
            j -= 1;
        }
        if i > j {
            break;
        }
        data.swap(i as usize, j as usize)?;
        i += 1;
        j -= 1;
    }
    debug_assert!(j >= a_);
    data.swap(j as usize, a)?;
    Ok((j as usize, false))
}

/// Partitions `data[a..b]`, which holds nothing smaller than `data[pivot]`,
/// into the elements equal to it, then the greater ones; returns where
/// the greater ones start.
fn partition_equal(
    data: &mut impl LessSwap,
    a: usize,
    b: usize,
    pivot: usize,
) -> Result<usize, String> {
    data.swap(a, pivot)?;
    let (mut i, mut j) = (a as isize + 1, b as isize - 1);
    loop {
        while i <= j && !data.less(a, i as usize)? {
            i += 1;
        }
        while i <= j && data.less(a, j as usize)? {
            j -= 1;
        }
        if i > j {
            break;
        }
        data.swap(i as usize, j as usize)?;
        i += 1;
        j -= 1;
    }
    Ok(i as usize)
}

/// Sorts `data[a..b]` if it is nearly sorted (at most 5 adjacent pairs out
/// of order, each shifted into place); returns whether it is now sorted.
fn partial_insertion_sort(data: &mut impl LessSwap, a: usize, b: usize) -> Result<bool, String> {
    const MAX_STEPS: usize = 5;
    const SHORTEST_SHIFTING: usize = 50;
    let mut i = a + 1;
    for _ in 0..MAX_STEPS {
        while i < b && !data.less(i, i - 1)? {
            i += 1;
        }
        if i == b {
            return Ok(true);
        }
        if b - a < SHORTEST_SHIFTING {
            return Ok(false);
        }
        data.swap(i, i - 1)?;
        // The smaller one to the left (Go shifts down to index 1 of the
        // whole list here, not of the run: kept, for the same calls).
        if i - a >= 2 {
            let mut j = i - 1;
            while j >= 1 {
                if !data.less(j, j - 1)? {
                    break;
                }
                data.swap(j, j - 1)?;
                j -= 1;
            }
        }
        // The greater one to the right.
        if b - i >= 2 {
            for j in i + 1..b {
                if !data.less(j, j - 1)? {
                    break;
                }
                data.swap(j, j - 1)?;
            }
        }
    }
    Ok(false)
}

/// Swaps three elements near the middle of `data[a..b]` with pseudo-random
/// others (a xorshift seeded with the length, as Go's), to break patterns
/// that made the last partition unbalanced.
fn break_patterns(data: &mut impl LessSwap, a: usize, b: usize) -> Result<(), String> {
    let length = b - a;
    if length >= 8 {
        let mut random = length as u64;
        let modulus = 1usize << bits_len(length);
        let mid = a + (length / 4) * 2;
        for idx in mid - 1..=mid + 1 {
            random ^= random << 13;
            random ^= random >> 17;
            random ^= random << 5;
            let mut other = (random as usize) & (modulus - 1);
            if other >= length {
                other -= length;
            }
            data.swap(idx, a + other)?;
        }
    }
    Ok(())
}

/// A pivot for `data[a..b]`: a fixed one under 8 elements, the median of
/// three samples under 50, else Tukey's ninther; and what the samples say
/// of the order (all in order: increasing; all reversed: decreasing).
fn choose_pivot(data: &mut impl LessSwap, a: usize, b: usize) -> Result<(usize, Hint), String> {
    const SHORTEST_NINTHER: usize = 50;
    const MAX_SWAPS: usize = 4 * 3;
    let l = b - a;
    let mut swaps = 0;
    let mut i = a + l / 4;
    let mut j = a + l / 4 * 2;
    let mut k = a + l / 4 * 3;
    if l >= 8 {
        if l >= SHORTEST_NINTHER {
            i = median(data, i - 1, i, i + 1, &mut swaps)?;
            j = median(data, j - 1, j, j + 1, &mut swaps)?;
            k = median(data, k - 1, k, k + 1, &mut swaps)?;
        }
        j = median(data, i, j, k, &mut swaps)?;
    }
    Ok(match swaps {
        0 => (j, Hint::Increasing),
        MAX_SWAPS => (j, Hint::Decreasing),
        _ => (j, Hint::Unknown),
    })
}

/// `(x, y)` or `(y, x)`, whichever has the smaller element first; counts
/// a swap when that is the reverse.
fn order2(
    data: &mut impl LessSwap,
    x: usize,
    y: usize,
    swaps: &mut usize,
) -> Result<(usize, usize), String> {
    if data.less(y, x)? {
        *swaps += 1;
        Ok((y, x))
    } else {
        Ok((x, y))
    }
}

/// Which of `x`, `y`, `z` holds the median of the three elements.
fn median(
    data: &mut impl LessSwap,
    x: usize,
    y: usize,
    z: usize,
    swaps: &mut usize,
) -> Result<usize, String> {
    let (x, y) = order2(data, x, y, swaps)?;
    let (y, _) = order2(data, y, z, swaps)?;
    let (_, y) = order2(data, x, y, swaps)?;
    Ok(y)
}

fn reverse_range(data: &mut impl LessSwap, a: usize, b: usize) -> Result<(), String> {
    let (mut i, mut j) = (a, b - 1);
    while i < j {
        data.swap(i, j)?;
        i += 1;
        j -= 1;
    }
    Ok(())
}

fn swap_range(data: &mut impl LessSwap, a: usize, b: usize, n: usize) -> Result<(), String> {
    for i in 0..n {
        data.swap(a + i, b + i)?;
    }
    Ok(())
}

/// Go's stable sort: insertion-sorted blocks of 20, merged pairwise by
/// SymMerge, with no extra memory (every move is a swap of the live list).
fn stable(data: &mut impl LessSwap, n: usize) -> Result<(), String> {
    let mut block = 20;
    let (mut a, mut b) = (0, block);
    while b <= n {
        insertion_sort(data, a, b)?;
        a = b;
        b += block;
    }
    insertion_sort(data, a, n)?;
    while block < n {
        (a, b) = (0, 2 * block);
        while b <= n {
            sym_merge(data, a, a + block, b)?;
            a = b;
            b += 2 * block;
        }
        if a + block < n {
            sym_merge(data, a, a + block, n)?;
        }
        block *= 2;
    }
    Ok(())
}

/// Merges the sorted runs `data[a..m]` and `data[m..b]` (both non-empty)
/// in place: Kim and Kutzner's SymMerge, as Go's sort.Stable does it.
fn sym_merge(data: &mut impl LessSwap, a: usize, m: usize, b: usize) -> Result<(), String> {
    if m - a == 1 {
        // One element on the left: find its place in the right run by
        // binary search (the first element not less than it), then bubble
        // it there.
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if data.less(h, a)? {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in a..i - 1 {
            data.swap(k, k + 1)?;
        }
        return Ok(());
    }
    if b - m == 1 {
        // One element on the right: its place is after every element of the
        // left run that is not greater than it.
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !data.less(m, h)? {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            data.swap(k, k - 1)?;
            k -= 1;
        }
        return Ok(());
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !data.less(p - c, c)? {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        rotate(data, start, m, end)?;
    }
    if a < start && start < mid {
        sym_merge(data, a, start, mid)?;
    }
    if mid < end && end < b {
        sym_merge(data, mid, end, b)?;
    }
    Ok(())
}

/// Exchanges the adjacent blocks `data[a..m]` and `data[m..b]` (both
/// non-empty) with at most `b - a` swaps.
fn rotate(data: &mut impl LessSwap, a: usize, m: usize, b: usize) -> Result<(), String> {
    let (mut i, mut j) = (m - a, b - m);
    while i != j {
        if i > j {
            swap_range(data, m - i, m, j)?;
            i -= j;
        } else {
            swap_range(data, m - i, m + j - i, i)?;
            j -= i;
        }
    }
    swap_range(data, m - i, m, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Vec` sorted by a key, with a log of every call, to compare the
    /// algorithms with Go's call for call.
    struct Keyed {
        items: Vec<(i64, usize)>,
        less_calls: usize,
    }

    impl LessSwap for Keyed {
        fn less(&mut self, i: usize, j: usize) -> Result<bool, String> {
            self.less_calls += 1;
            Ok(self.items[i].0 < self.items[j].0)
        }
        fn swap(&mut self, i: usize, j: usize) -> Result<(), String> {
            self.items.swap(i, j);
            Ok(())
        }
    }

    fn keyed(keys: impl IntoIterator<Item = i64>) -> Keyed {
        Keyed {
            items: keys.into_iter().enumerate().map(|(i, k)| (k, i)).collect(),
            less_calls: 0,
        }
    }

    fn shapes(n: usize) -> Vec<Vec<i64>> {
        let n64 = n as i64;
        let mut lcg = 12345u64;
        let random: Vec<i64> = (0..n)
            .map(|_| {
                lcg = lcg
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((lcg >> 33) % 1000) as i64
            })
            .collect();
        vec![
            (0..n64).collect(),
            (0..n64).rev().collect(),
            (0..n64).map(|i| i % 7).collect(),
            (0..n64)
                .map(|i| if i % 2 == 0 { i } else { n64 - i })
                .collect(),
            vec![5; n],
            random,
        ]
    }

    #[test]
    fn pdqsort_sorts_every_shape_in_n_log_n_calls() {
        for n in [0, 1, 2, 5, 12, 13, 49, 50, 51, 100, 1000, 10_000] {
            for keys in shapes(n) {
                let mut data = keyed(keys.clone());
                pdqsort(&mut data, 0, n, bits_len(n)).unwrap();
                let mut want = keys.clone();
                want.sort();
                let got: Vec<i64> = data.items.iter().map(|e| e.0).collect();
                assert_eq!(got, want, "n={n}");
                let bound = 4 * (n + 1) * (bits_len(n) + 1);
                assert!(data.less_calls <= bound, "n={n}: {} calls", data.less_calls);
            }
        }
    }

    #[test]
    fn stable_sort_keeps_equal_elements_in_order() {
        for n in [0, 1, 19, 20, 21, 40, 41, 1000, 5000] {
            for keys in shapes(n) {
                let mut data = keyed(keys.clone());
                stable(&mut data, n).unwrap();
                let mut want: Vec<(i64, usize)> = keys
                    .iter()
                    .copied()
                    .enumerate()
                    .map(|(i, k)| (k, i))
                    .collect();
                want.sort_by_key(|e| e.0);
                assert_eq!(data.items, want, "n={n}");
            }
        }
    }

    #[test]
    fn a_failing_less_stops_the_sort() {
        struct Failing(usize);
        impl LessSwap for Failing {
            fn less(&mut self, _: usize, _: usize) -> Result<bool, String> {
                self.0 += 1;
                if self.0 > 10 {
                    Err("boom".into())
                } else {
                    Ok(false)
                }
            }
            fn swap(&mut self, _: usize, _: usize) -> Result<(), String> {
                Ok(())
            }
        }
        let mut data = Failing(0);
        assert_eq!(pdqsort(&mut data, 0, 100, 7), Err("boom".to_string()));
        assert_eq!(data.0, 11);
    }
}
