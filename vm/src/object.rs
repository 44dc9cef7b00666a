//! Object operations on the `gc` heap: strings, boxed ints, cells and lists.
//!
//! Every function that allocates or stores takes the current P (`&mut P`) and
//! the running goroutine's collector record (`&mut Mutator`): allocation and
//! barriered stores are impossible without them (the P-ownership rule, by
//! type). Every store of a value into an object goes through
//! [`P::write_slot`], the write barrier, including the initialisation of fresh
//! objects (the compiler marks those instructions `wb`; see `lang::bytecode`).
//!
//! Racing goroutines may interleave these operations arbitrarily; each one
//! reads every word once, atomically, and checks indices against what it read,
//! so a race can lose an update but never read outside an object. A list read
//! checks the index against both the list's length and its array's capacity,
//! because a racing append may publish a new length before a new array.
//!
//! Objects are addressed by [`ObjRef`]; a function taking one requires that
//! the object is live (reachable from a root or allocated since the caller's
//! last safepoint) and of the kind named by the function.

use crate::heap::Kind;
use crate::value::Value;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use weft_gc::{AllocError, Mutator, ObjRef, P};

/// The payload words of a live object.
fn slots(obj: ObjRef) -> &'static [AtomicU64] {
    // SAFETY: callers pass live objects (module doc); heap memory stays mapped
    // for the heap's lifetime and the VM never drops the heap while running.
    unsafe { obj.slots() }
}

/// The object a value points to, if any.
#[inline(always)]
pub fn obj_of(v: Value) -> Option<ObjRef> {
    // SAFETY: a pointer-tagged value is made only by `Value::object`, from
    // an allocated object's address (never 0), or is a copy of one
    // (`Value::from_bits` of a word that `Value::bits` gave).
    v.as_object()
        .map(|addr| unsafe { ObjRef::from_addr_unchecked(addr) })
}

/// The object a value points to, if it is one of kind `kind` (one compare
/// of its header: the interpreter's type test before a fast path).
#[inline(always)]
pub fn obj_of_kind(v: Value, kind: Kind) -> Option<ObjRef> {
    obj_of(v).filter(|o| o.has_type(kind.type_id()))
}

/// The kind of the object a value points to.
pub fn kind_of(v: Value) -> Option<Kind> {
    obj_of(v)
        .and_then(|o| o.type_id())
        .and_then(Kind::from_type_id)
}

fn alloc(
    p: &mut P,
    g: &mut Mutator,
    kind: Kind,
    payload_words: usize,
) -> Result<ObjRef, AllocError> {
    p.alloc(g, kind.type_id(), payload_words * 8)
}

// ---------------------------------------------------------------- strings

const STR_LEN: usize = 0;
const STR_HASH: usize = 1;
const STR_BYTES: usize = 2;

/// A new string holding `bytes`.
pub fn new_string(p: &mut P, g: &mut Mutator, bytes: &[u8]) -> Result<Value, AllocError> {
    let words = bytes.len().div_ceil(8);
    let obj = alloc(p, g, Kind::Str, STR_BYTES + words)?;
    Ok(fill_string(obj, bytes))
}

/// [`new_string`] when the P's cached span has a slot for it
/// (`P::try_alloc_without_safepoint`: no safepoint, no assist); `None`,
/// having done nothing, otherwise. For the interpreter's fast loop.
#[inline]
pub fn try_new_string_without_safepoint(p: &mut P, g: &mut Mutator, bytes: &[u8]) -> Option<Value> {
    let words = bytes.len().div_ceil(8);
    let obj = p.try_alloc_without_safepoint(g, Kind::Str.type_id(), (STR_BYTES + words) * 8)?;
    Some(fill_string(obj, bytes))
}

/// Writes `bytes` into the fresh string object `obj` (`STR_BYTES` +
/// enough words, zeroed) and returns it as a value.
#[inline(always)]
fn fill_string(obj: ObjRef, bytes: &[u8]) -> Value {
    let s = slots(obj);
    // Raw data, not values: no barrier is needed (no pointer is stored).
    s[STR_LEN].store(bytes.len() as u64, Relaxed);
    copy_into_words(&s[STR_BYTES..], bytes);
    Value::object(obj.addr())
}

/// Bytes a long string copy moves between two safepoints (some 50 µs).
const STRING_COPY_CHUNK: usize = 256 * 1024;

/// Slots a long fill of a new array stores between two safepoints.
pub(crate) const SLOTS_BETWEEN_SAFEPOINTS: usize = STRING_COPY_CHUNK / 8;

/// A safepoint after every `every` steps of a long loop at step `i` (the
/// copies and fills of big strings, lists and maps: what they hold must be
/// rooted or pinned across it), where the goroutine's stack is scanned if
/// the mark needs it ([`P::poll`]).
#[inline(always)]
fn poll_every(p: &mut P, g: &Mutator, i: usize, every: usize) {
    if i % every == every - 1 {
        p.poll(g);
    }
}

/// [`new_string`] for a native, whose strings may be megabytes: the string
/// is parked in `root` (a scanned slot) as soon as it exists, and the
/// bytes go in a chunk at a time with a safepoint between chunks, so a
/// stop-the-world waits for one chunk, not the whole copy. (A string's
/// bytes are not values: the collector never reads them, so a string
/// still being filled is safe to stop at.)
pub fn new_string_rooted(
    p: &mut P,
    g: &mut Mutator,
    bytes: &[u8],
    root: &AtomicU64,
) -> Result<Value, AllocError> {
    if bytes.len() <= STRING_COPY_CHUNK {
        let v = new_string(p, g, bytes)?;
        root.store(v.bits(), Relaxed);
        return Ok(v);
    }
    let obj = alloc(p, g, Kind::Str, STR_BYTES + bytes.len().div_ceil(8))?;
    let v = Value::object(obj.addr());
    root.store(v.bits(), Relaxed);
    let s = slots(obj);
    s[STR_LEN].store(bytes.len() as u64, Relaxed);
    for (i, chunk) in bytes.chunks(STRING_COPY_CHUNK).enumerate() {
        p.poll(g);
        copy_into_words(&s[STR_BYTES + i * STRING_COPY_CHUNK / 8..], chunk);
    }
    Ok(v)
}

/// Copies the first `n` bytes of string (or byte buffer) `src` to the
/// start of string object `dst` and sets `dst`'s length to `n`, a word at
/// a time with a safepoint every [`STRING_COPY_CHUNK`] bytes, as
/// `new_string_rooted` does: a builder's growth copies megabytes, and a
/// stop-the-world would otherwise wait for the whole copy (2 ms for 8 MB
/// of fresh pages in strings_maps). Both must be rooted
/// across the safepoints. The last word is masked to `n` (a buffer may
/// hold stale bytes past its end; a string's padding must be zero).
/// `false`, with nothing copied, if `src` holds fewer than `n` bytes or
/// `dst` has no room for them.
pub fn copy_string_polling(p: &mut P, g: &Mutator, dst: ObjRef, src: ObjRef, n: usize) -> bool {
    let (d, s) = (slots(dst), slots(src));
    if n > string_len(src) || n > (d.len() - STR_BYTES) * 8 {
        return false;
    }
    let words = n.div_ceil(8);
    let (from, to) = (&s[STR_BYTES..STR_BYTES + words], &d[STR_BYTES..]);
    for (i, (f, t)) in from.iter().zip(to).enumerate() {
        poll_every(p, g, i, SLOTS_BETWEEN_SAFEPOINTS);
        let w = f.load(Relaxed);
        t.store(
            if i + 1 == words {
                first_bytes(w, n - 8 * i)
            } else {
                w
            },
            Relaxed,
        );
    }
    d[STR_LEN].store(n as u64, Relaxed);
    true
}

/// `w` with only its first `n` bytes kept (little-endian; `n` at most 8):
/// the last word of a string of `8 * k + n` bytes, its padding cleared.
#[inline(always)]
fn first_bytes(w: u64, n: usize) -> u64 {
    if n >= 8 {
        w
    } else {
        w & ((1u64 << (8 * n)) - 1)
    }
}

/// Stores `bytes` into the words of `dst`, little-endian, the last word
/// padded with zeros.
fn copy_into_words(dst: &[AtomicU64], bytes: &[u8]) {
    for (d, chunk) in dst.iter().zip(bytes.chunks(8)) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        d.store(u64::from_le_bytes(word), Relaxed);
    }
}

/// Length in bytes of a string object.
pub fn string_len(obj: ObjRef) -> usize {
    let s = slots(obj);
    // Bounded by the payload, whatever a corrupted length word says.
    (s[STR_LEN].load(Relaxed) as usize).min((s.len() - STR_BYTES) * 8)
}

/// The bytes of a string object (copied out with word-sized atomic loads).
pub fn string_bytes(obj: ObjRef) -> Vec<u8> {
    let mut out = Vec::new();
    string_extend(obj, &mut out);
    out
}

/// Appends the bytes of a string object to `out` (no other allocation).
pub fn string_extend(obj: ObjRef, out: &mut Vec<u8>) {
    let s = slots(obj);
    let len = string_len(obj);
    let start = out.len();
    out.reserve(len.next_multiple_of(8));
    for w in &s[STR_BYTES..STR_BYTES + len.div_ceil(8)] {
        out.extend_from_slice(&w.load(Relaxed).to_le_bytes());
    }
    out.truncate(start + len);
}

/// A string object used as a growable byte buffer by its owner (a native
/// such as `strings.Builder`): the length word counts the bytes written,
/// the payload, `cap` bytes rounded up to words, is the room. The buffer
/// is never handed to a script (its owner copies the bytes into a new
/// string), so it never has its hash computed or its content seen while it
/// changes. Fresh memory is zero, which `byte_buffer_push` relies on.
pub fn new_byte_buffer(p: &mut P, g: &mut Mutator, cap: usize) -> Result<Value, AllocError> {
    let obj = alloc(p, g, Kind::Str, STR_BYTES + cap.div_ceil(8).max(1))?;
    Ok(Value::object(obj.addr()))
}

/// Makes byte buffer `buf` a well-formed string of its length: the bytes
/// past the length in its last word are cleared (a racing append may have
/// written some before losing its length update). The words past that are
/// room a string never reads.
pub fn byte_buffer_seal(buf: ObjRef) {
    let len = string_len(buf);
    if len % 8 != 0 {
        let w = &slots(buf)[STR_BYTES + len / 8];
        w.store(first_bytes(w.load(Relaxed), len % 8), Relaxed);
    }
}

/// Appends `n` bytes, produced by `byte(i)` for `i` in `0..n`, to byte
/// buffer `buf` in place, if it has room; `false` (nothing written) if not.
/// Racing appenders can lose or mix bytes but only ever write inside the
/// buffer's payload.
pub fn byte_buffer_push(buf: ObjRef, n: usize, byte: impl Fn(usize) -> u8) -> bool {
    let s = slots(buf);
    let len = string_len(buf);
    let room = (s.len() - STR_BYTES) * 8 - len;
    if n > room {
        return false;
    }
    let mut at = len;
    for i in 0..n {
        let word = &s[STR_BYTES + at / 8];
        let shift = (at % 8) * 8;
        let old = word.load(Relaxed) & !(0xFF << shift);
        word.store(old | (byte(i) as u64) << shift, Relaxed);
        at += 1;
    }
    s[STR_LEN].store(at as u64, Relaxed);
    true
}

/// Appends the bytes of string `src` to byte buffer `buf` in place, a word
/// at a time, if it has room; `false` (nothing written) if not.
pub fn byte_buffer_push_str(buf: ObjRef, src: ObjRef) -> bool {
    let n = string_len(src);
    let s = slots(buf);
    let len = string_len(buf);
    if n > (s.len() - STR_BYTES) * 8 - len {
        return false;
    }
    if (1..=8).contains(&n) {
        // One source word (most appends: a word, a separator, a number).
        let w = first_bytes(slots(src)[STR_BYTES].load(Relaxed), n);
        let (at, r) = (STR_BYTES + len / 8, 8 * (len % 8));
        let d = &s[at];
        let kept = if r == 0 {
            0
        } else {
            d.load(Relaxed) & ((1u64 << r) - 1)
        };
        d.store(kept | (w << r), Relaxed);
        // The bytes spill into the next word: inside the room checked above.
        if r + 8 * n > 64 {
            s[at + 1].store(w >> (64 - r), Relaxed);
        }
    } else if n > 0 {
        let source = &slots(src)[STR_BYTES..STR_BYTES + n.div_ceil(8)];
        let dst = &s[STR_BYTES + len / 8..];
        // Source words land at bit `r` of a destination word, their high
        // bytes carried into the next; the destination keeps its own
        // bytes below `r`. The source's last word is masked to its length
        // (whatever lies past a string's end is not part of it).
        let r = 8 * (len % 8);
        let last = source.len() - 1;
        let tail_bits = 8 * (n - 8 * last);
        let mut carry = if r == 0 {
            0
        } else {
            dst[0].load(Relaxed) & ((1u64 << r) - 1)
        };
        for (i, w) in source.iter().enumerate() {
            let mut w = w.load(Relaxed);
            if i == last && tail_bits < 64 {
                w &= (1u64 << tail_bits) - 1;
            }
            dst[i].store(carry | (w << r), Relaxed);
            carry = if r == 0 { 0 } else { w >> (64 - r) };
        }
        // The bytes spill into one more word: inside the room checked above.
        if r + tail_bits > 64 {
            dst[last + 1].store(carry, Relaxed);
        }
    }
    s[STR_LEN].store((len + n) as u64, Relaxed);
    true
}

/// The byte room of a byte buffer (its capacity).
pub fn byte_buffer_cap(buf: ObjRef) -> usize {
    (slots(buf).len() - STR_BYTES) * 8
}

/// Byte `i` of a string object, read from its word (no copy of the string).
pub fn string_byte(obj: ObjRef, i: usize) -> Option<u8> {
    if i >= string_len(obj) {
        return None;
    }
    let word = slots(obj)[STR_BYTES + i / 8].load(Relaxed);
    Some(word.to_le_bytes()[i % 8])
}

/// Up to `n` bytes of a string object from byte `from` (for decoding one rune).
pub fn string_bytes_at(obj: ObjRef, from: usize, n: usize) -> Vec<u8> {
    let end = string_len(obj).min(from.saturating_add(n));
    (from..end).filter_map(|i| string_byte(obj, i)).collect()
}

/// The string's hash ([`hash_words`]), computed once and cached in the object.
pub fn string_hash(obj: ObjRef) -> u64 {
    let s = slots(obj);
    let cached = s[STR_HASH].load(Relaxed);
    if cached != 0 {
        return cached;
    }
    let len = string_len(obj);
    let h = hash_words(len, &s[STR_BYTES..STR_BYTES + len.div_ceil(8)]).max(1);
    // Idempotent: racing writers store the same value.
    s[STR_HASH].store(h, Relaxed);
    h
}

/// The hash of a string of `len` bytes stored in `words` (little-endian,
/// the last word padded with zeros, as strings are kept), a word at a
/// time: a multiply and a rotate per word, then a full avalanche, so both
/// the low bits (the index slot) and the high bits (the tag kept in the
/// index) depend on every byte. Nothing observable depends on the values:
/// maps iterate in insertion order.
fn hash_words(len: usize, words: &[AtomicU64]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (len as u64).wrapping_mul(K) ^ 0x243f_6a88_85a3_08d3;
    for w in words {
        h = (h ^ w.load(Relaxed)).wrapping_mul(K).rotate_left(29);
    }
    // Murmur3's finaliser.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Whether two string objects hold the same bytes (compared word by word).
pub fn string_eq(a: ObjRef, b: ObjRef) -> bool {
    if a == b {
        return true;
    }
    let (sa, sb) = (slots(a), slots(b));
    let len = sa[STR_LEN].load(Relaxed);
    if len != sb[STR_LEN].load(Relaxed) {
        return false;
    }
    // Hashes settle it only when both are known: computing one costs more
    // than comparing a short string (a map key's is always known).
    let (ha, hb) = (sa[STR_HASH].load(Relaxed), sb[STR_HASH].load(Relaxed));
    if ha != hb && ha != 0 && hb != 0 {
        return false;
    }
    let (wa, wb) = (&sa[STR_BYTES..], &sb[STR_BYTES..]);
    // Bounded by both payloads, whatever a corrupted length word says (a
    // string made from a builder's buffer may have spare words after it).
    let n = (len as usize).div_ceil(8).min(wa.len()).min(wb.len());
    wa[..n]
        .iter()
        .zip(&wb[..n])
        .all(|(x, y)| x.load(Relaxed) == y.load(Relaxed))
}

/// Whether a string object holds exactly `bytes` (no allocation).
pub fn string_is(s: ObjRef, bytes: &[u8]) -> bool {
    if string_len(s) != bytes.len() {
        return false;
    }
    let w = slots(s);
    bytes.chunks(8).enumerate().all(|(i, chunk)| {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        w[STR_BYTES + i].load(Relaxed) == u64::from_le_bytes(word)
    })
}

// ---------------------------------------------------------------- ints

/// An int value: inline when it fits 51 bits, boxed otherwise.
pub fn new_int(p: &mut P, g: &mut Mutator, i: i64) -> Result<Value, AllocError> {
    if let Some(v) = Value::int_inline(i) {
        return Ok(v);
    }
    let obj = alloc(p, g, Kind::BoxedInt, 1)?;
    slots(obj)[0].store(i as u64, Relaxed);
    Ok(Value::object(obj.addr()))
}

/// The int a value holds, inline or boxed.
pub fn int_of(v: Value) -> Option<i64> {
    if let Some(i) = v.as_inline_int() {
        return Some(i);
    }
    let obj = obj_of(v)?;
    (Kind::from_type_id(obj.type_id()?)? == Kind::BoxedInt)
        .then(|| slots(obj)[0].load(Relaxed) as i64)
}

// ---------------------------------------------------------------- cells

/// A new upvalue cell holding `v`.
pub fn new_cell(p: &mut P, g: &mut Mutator, v: Value) -> Result<Value, AllocError> {
    let obj = alloc(p, g, Kind::Cell, 1)?;
    p.write_slot(&slots(obj)[0], v.bits());
    Ok(Value::object(obj.addr()))
}

pub fn cell_get(cell: ObjRef) -> Value {
    Value::from_bits(slots(cell)[0].load(Relaxed))
}

pub fn cell_set(p: &mut P, cell: ObjRef, v: Value) {
    p.write_slot(&slots(cell)[0], v.bits());
}

// ---------------------------------------------------------------- lists

const LIST_LEN: usize = 0;
const LIST_ARRAY: usize = 1;

/// A new list holding `items`, with room to grow. `root` must be a slot the
/// collector scans (the destination register): the backing array is parked
/// there across the second allocation, and the list ends up there. `items`
/// must be rooted by the caller.
pub fn new_list(
    p: &mut P,
    g: &mut Mutator,
    items: &[Value],
    root: &AtomicU64,
) -> Result<Value, AllocError> {
    new_list_of(p, g, items.len(), items, root)
}

/// A new list of `len` nils (a native fills it in place; no slice of
/// nils to pass: a million-element one was 8 MB of temporary memory).
pub fn new_nil_list(
    p: &mut P,
    g: &mut Mutator,
    len: usize,
    root: &AtomicU64,
) -> Result<Value, AllocError> {
    new_list_of(p, g, len, &[], root)
}

/// A new list of the elements `from..to` of `list` (a slice expression),
/// parked in `root` (a scanned slot). The copy stops at safepoints (a
/// slice of 2 million held up a stop-the-world for 7 ms): the new array is
/// rooted before it is filled, and the source array, read in one load
/// after the allocation, is pinned traced for a racing writer that
/// installs another meanwhile. Elements a racing writer removed meanwhile
/// read as nil.
pub fn new_list_slice(
    p: &mut P,
    g: &mut Mutator,
    list: ObjRef,
    from: usize,
    to: usize,
    root: &AtomicU64,
) -> Result<Value, AllocError> {
    let n = to.saturating_sub(from);
    let array = alloc(p, g, Kind::Array, n.max(4))?;
    root.store(Value::object(array.addr()).bits(), Relaxed);
    let a = slots(array);
    let source = obj_of(Value::from_bits(slots(list)[LIST_ARRAY].load(Relaxed)));
    let src = source.map_or(&[][..], slots);
    if let Some(source) = source {
        p.pin(source, true);
    }
    for (i, slot) in a.iter().enumerate() {
        poll_every(p, g, i, SLOTS_BETWEEN_SAFEPOINTS);
        match src.get(from + i).filter(|_| i < n) {
            Some(v) => p.write_slot(slot, v.load(Relaxed)),
            None => slot.store(Value::NIL.bits(), Relaxed),
        }
    }
    if let Some(source) = source {
        p.unpin(source);
    }
    list_around(p, g, array, n, root)
}

/// A list of length `len` whose first elements are `items`, the rest nil.
fn new_list_of(
    p: &mut P,
    g: &mut Mutator,
    len: usize,
    items: &[Value],
    root: &AtomicU64,
) -> Result<Value, AllocError> {
    debug_assert!(items.len() <= len);
    let array = alloc(p, g, Kind::Array, len.max(4))?;
    let a = slots(array);
    // Rooted first, so the stores below may stop at safepoints: a list of
    // millions (strings.Split's) is tens of milliseconds of stores. Every
    // word of it is a valid value meanwhile (zero is the float 0.0).
    root.store(Value::object(array.addr()).bits(), Relaxed);
    // No safepoint while the items go in: they are copies the caller may
    // root only through their sources (a spread argument's list), which a
    // racing writer could change while a whole cycle passed.
    for (slot, v) in a.iter().zip(items) {
        p.write_slot(slot, v.bits());
    }
    // The elements not given and the unused capacity hold nil.
    for (i, slot) in a.iter().enumerate().skip(items.len()) {
        poll_every(p, g, i, SLOTS_BETWEEN_SAFEPOINTS);
        slot.store(Value::NIL.bits(), Relaxed);
    }
    list_around(p, g, array, len, root)
}

/// A new list of length `len` around `array` (filled, and parked in
/// `root`, which then holds the list).
fn list_around(
    p: &mut P,
    g: &mut Mutator,
    array: ObjRef,
    len: usize,
    root: &AtomicU64,
) -> Result<Value, AllocError> {
    let list = alloc(p, g, Kind::List, 2)?;
    let l = slots(list);
    l[LIST_LEN].store(len as u64, Relaxed);
    p.write_slot(&l[LIST_ARRAY], Value::object(array.addr()).bits());
    let v = Value::object(list.addr());
    root.store(v.bits(), Relaxed);
    Ok(v)
}

fn list_array(list: ObjRef) -> &'static [AtomicU64] {
    match obj_of(Value::from_bits(slots(list)[LIST_ARRAY].load(Relaxed))) {
        Some(array) => slots(array),
        None => &[],
    }
}

/// The list's backing array (as a value) and its elements in use. The
/// slice stays valid while the array is alive; a list that grows moves to a
/// new array, so a caller keeping the slice keeps the array rooted itself
/// and knows the list does not grow (module globals).
pub fn list_backing(list: ObjRef) -> (Value, &'static [AtomicU64]) {
    let array = Value::from_bits(slots(list)[LIST_ARRAY].load(Relaxed));
    let elems = list_array(list);
    (array, &elems[..list_len(list)])
}

/// The list's length (never more than its array's capacity).
pub fn list_len(list: ObjRef) -> usize {
    (slots(list)[LIST_LEN].load(Relaxed) as usize).min(list_array(list).len())
}

/// Element `i`, or `None` when out of range.
pub fn list_get(list: ObjRef, i: usize) -> Option<Value> {
    list_slot(list, i).map(|w| Value::from_bits(w.load(Relaxed)))
}

/// The slot of element `i`, if `i` is below the length.
#[inline(always)]
pub fn list_slot(list: ObjRef, i: usize) -> Option<&'static AtomicU64> {
    let len = slots(list)[LIST_LEN].load(Relaxed) as usize;
    list_array(list).get(i).filter(|_| i < len)
}

/// Sets element `i`; `false` when out of range.
pub fn list_set(p: &mut P, list: ObjRef, i: usize, v: Value) -> bool {
    match list_slot(list, i) {
        Some(slot) => {
            p.write_slot(slot, v.bits());
            true
        }
        None => false,
    }
}

/// Shortens the list to `len` (if longer), clearing the dropped slots with the
/// barrier (its deletion half shades the dropped values, which the caller may
/// still hold in registers already scanned this cycle).
pub fn list_truncate(p: &mut P, list: ObjRef, len: usize) {
    let old = list_len(list);
    if len >= old {
        return;
    }
    slots(list)[LIST_LEN].store(len as u64, Relaxed);
    for slot in list_array(list).iter().take(old).skip(len) {
        p.write_slot(slot, Value::NIL.bits());
    }
}

/// Appends `items` in place, growing the backing array (doubling) when full.
/// `list` and `items` must be rooted by the caller (growth allocates).
pub fn list_append(
    p: &mut P,
    g: &mut Mutator,
    list: ObjRef,
    items: &[Value],
) -> Result<(), AllocError> {
    let len = list_len(list);
    let needed = len + items.len();
    let (array, _) = list_reserve(p, g, list, len, needed)?;
    for (slot, v) in array[len..].iter().zip(items) {
        p.write_slot(slot, v.bits());
    }
    slots(list)[LIST_LEN].store(needed as u64, Relaxed);
    Ok(())
}

/// `append(list, src...)` where `src` is a list: its elements are read
/// from its array as they are stored, with a safepoint every
/// [`SLOTS_BETWEEN_SAFEPOINTS`], so a stop-the-world waits for one chunk,
/// not for millions of barriered stores (`append(xs, big...)` of 2 million
/// held a stop for 70 ms). Reading each element just before storing it,
/// with no safepoint between, is what keeps it rooted: a copy taken first
/// would hold values that a racing writer to `src` could leave reachable
/// from nowhere else while a whole cycle passed. Both lists must be rooted
/// by the caller; their arrays are pinned across the loop, for a racing
/// append that installs another array meanwhile.
pub fn list_append_list(
    p: &mut P,
    g: &mut Mutator,
    list: ObjRef,
    src: ObjRef,
) -> Result<(), AllocError> {
    let len = list_len(list);
    let n = list_len(src);
    let (array, into) = list_reserve(p, g, list, len, len + n)?;
    // Read after the growth: for `append(xs, xs...)` that is the new
    // array, whose first `n` elements are the old ones.
    let from = obj_of(Value::from_bits(slots(src)[LIST_ARRAY].load(Relaxed)));
    // Pinned traced: `into` may stop being the list's array (a racing
    // append), and then only the pin keeps what is stored in it alive.
    if let Some(from) = from {
        p.pin(from, true);
    }
    if let Some(into) = into {
        p.pin(into, true);
    }
    let items = from.map_or(&[][..], slots);
    for (i, slot) in array[len..len + n].iter().enumerate() {
        poll_every(p, g, i, SLOTS_BETWEEN_SAFEPOINTS);
        let v = items.get(i).map_or(Value::NIL.bits(), |w| w.load(Relaxed));
        p.write_slot(slot, v);
    }
    if let Some(into) = into {
        p.unpin(into);
    }
    if let Some(from) = from {
        p.unpin(from);
    }
    slots(list)[LIST_LEN].store((len + n) as u64, Relaxed);
    Ok(())
}

/// What [`list_reserve`] returns: an array's slots and the array.
type Reserved = (&'static [AtomicU64], Option<ObjRef>);

/// The array of `list` (holding `len` elements), grown (doubling) first
/// if it has no room for `needed`: its slots and the object (`None` for a
/// list with no array, which then had room for nothing, so `needed` was
/// 0). `list` must be rooted by the caller (growth allocates, and copies
/// with safepoints).
fn list_reserve(
    p: &mut P,
    g: &mut Mutator,
    list: ObjRef,
    len: usize,
    needed: usize,
) -> Result<Reserved, AllocError> {
    let l = slots(list);
    // One load: the slots and the object are the same array's.
    let mut current = obj_of(Value::from_bits(l[LIST_ARRAY].load(Relaxed)));
    let mut array = current.map_or(&[][..], slots);
    if needed > array.len() {
        // Allocation is a safepoint: `list` must be rooted by the caller, and
        // the old array stays reachable through it until the swap below.
        let fresh = alloc(p, g, Kind::Array, needed.max(array.len() * 2).max(4))?;
        // One load: the array copied from is the one pinned.
        let old = obj_of(Value::from_bits(l[LIST_ARRAY].load(Relaxed)));
        array = old.map_or(&[], slots);
        let f = slots(fresh);
        // A long copy stops at safepoints (4 million elements held up a
        // stop-the-world for 20 ms). Nothing roots the new array until it
        // is installed, so it is pinned, traced (every word of it is a
        // value at all times): a racing writer may overwrite an element of
        // the old array after it was copied, leaving the new one its only
        // holder. The old one is pinned traced too, for a racing append
        // that installs another array meanwhile.
        p.pin(fresh, true);
        if let Some(old) = old {
            p.pin(old, true);
        }
        for (i, (dst, src)) in f.iter().zip(array.iter().take(len)).enumerate() {
            poll_every(p, g, i, SLOTS_BETWEEN_SAFEPOINTS);
            p.write_slot(dst, src.load(Relaxed));
        }
        for (i, slot) in f.iter().enumerate().skip(len) {
            poll_every(p, g, i, SLOTS_BETWEEN_SAFEPOINTS);
            slot.store(Value::NIL.bits(), Relaxed);
        }
        p.write_slot(&l[LIST_ARRAY], Value::object(fresh.addr()).bits());
        if let Some(old) = old {
            p.unpin(old);
        }
        p.unpin(fresh);
        array = f;
        current = Some(fresh);
    }
    Ok((array, current))
}

// ---------------------------------------------------------------- maps
//
// A map keeps its entries in insertion order in an array of key, value pairs;
// a deleted entry's key becomes `Value::TOMBSTONE` and stays in place until the
// array is compacted on growth, so iteration by position skips deleted entries
// and updating a key keeps its place (the brief's rules). The index is an
// open-addressing table of entry positions + 1 (0 = empty) tagged with the
// key hash's high bits (`index_word`), at most half full.
//
// Maps have no lock: a race on a map from several Ps (a data race in the
// script, which Go reports as "concurrent map writes") can lose or misplace
// entries but, as everywhere, every word is read atomically and every index
// is checked against the array it was read from, so it cannot touch memory
// outside the map's objects.

const MAP_LEN: usize = 0;
const MAP_USED: usize = 1;
const MAP_ENTRIES: usize = 2;
const MAP_INDEX: usize = 3;

/// Why a value cannot be a map key.
#[derive(Debug, Clone, PartialEq)]
pub struct Unhashable(pub &'static str);

/// The hash of a key: numbers that are `==` hash alike (`1` and `1.0`).
pub fn key_hash(k: Value) -> Result<u64, Unhashable> {
    let mix = |x: u64| {
        let x = (x ^ (x >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        (x ^ (x >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53) ^ (x >> 29)
    };
    // Objects first, strings first among them: the usual keys (the old
    // order tested nil, bool, float and a boxed int before a string).
    // Equal keys hash alike: an int, boxed or not, and a float of the
    // same integral value all mix that int.
    if let Some(obj) = obj_of(k) {
        return match obj.type_id().and_then(Kind::from_type_id) {
            Some(Kind::Str) => Ok(string_hash(obj)),
            Some(Kind::BoxedInt) => Ok(mix(slots(obj)[0].load(Relaxed))),
            Some(Kind::List) => Err(Unhashable("list")),
            Some(Kind::Map) => Err(Unhashable("map")),
            _ => Ok(mix(k.bits())),
        };
    }
    if let Some(i) = k.as_inline_int() {
        return Ok(mix(i as u64));
    }
    if let Some(f) = k.as_float() {
        if let Some(i) = crate::arith::float_to_int(f).filter(|i| *i as f64 == f) {
            return Ok(mix(i as u64));
        }
        return Ok(mix(f.to_bits()));
    }
    // nil and the bools.
    Ok(mix(k.bits()))
}

/// Key equality: numbers by value, strings by content, the rest by identity.
pub fn keys_equal(a: Value, b: Value) -> bool {
    if a == b {
        return a.as_float().is_none_or(|f| !f.is_nan());
    }
    // Strings first: the usual keys, and no number is a string.
    if let (Some(x), Some(y)) = (obj_of_kind(a, Kind::Str), obj_of_kind(b, Kind::Str)) {
        return string_eq(x, y);
    }
    let num = |v: Value| {
        v.as_float()
            .map(crate::arith::Num::Float)
            .or_else(|| int_of(v).map(crate::arith::Num::Int))
    };
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return crate::arith::num_eq(x, y);
    }
    match (kind_of(a), kind_of(b)) {
        (Some(Kind::Str), Some(Kind::Str)) => {
            string_eq(obj_of(a).expect("string"), obj_of(b).expect("string"))
        }
        _ => false,
    }
}

fn words(v: Value) -> &'static [AtomicU64] {
    obj_of(v).map_or(&[], slots)
}

/// A new empty map with room for `hint` entries. `root` must be a slot the
/// collector scans (the destination register): the map is parked there while
/// its arrays are allocated.
pub fn new_map(
    p: &mut P,
    g: &mut Mutator,
    hint: usize,
    root: &AtomicU64,
) -> Result<Value, AllocError> {
    let map = alloc(p, g, Kind::Map, 4)?;
    let v = Value::object(map.addr());
    root.store(v.bits(), Relaxed);
    let cap = hint.max(4).next_power_of_two();
    map_install(p, g, map, cap)?;
    Ok(v)
}

/// Replaces the map's arrays with fresh ones of `cap` entries holding its
/// live entries (none for a new map), in insertion order.
fn map_install(p: &mut P, g: &mut Mutator, map: ObjRef, cap: usize) -> Result<(), AllocError> {
    let m = slots(map);
    let entries = alloc(p, g, Kind::Array, 2 * cap)?;
    let e = slots(entries);
    // The fills below stop at safepoints (a map of 300,000 entries held up
    // a stop-the-world for milliseconds). The new arrays are pinned until
    // installed: the entries traced (every word of them is a value at all
    // times, and a racing writer may overwrite an old entry after it was
    // copied), the old entries traced too (read after the allocation, in
    // one load: a racing writer may install others meanwhile), the index
    // marked only (it holds no references).
    p.pin(entries, true);
    let old = obj_of(Value::from_bits(m[MAP_ENTRIES].load(Relaxed)));
    if let Some(old) = old {
        p.pin(old, true);
    }
    for (i, slot) in e.iter().enumerate() {
        poll_every(p, g, i, SLOTS_BETWEEN_SAFEPOINTS);
        slot.store(Value::NIL.bits(), Relaxed);
    }
    // The live entries, read from the old array itself as they are copied
    // (a copy in a Rust vector would be rooted by nothing).
    let from = old.map_or(&[][..], slots);
    let used = (m[MAP_USED].load(Relaxed) as usize).min(from.len() / 2);
    let mut n = 0;
    for pos in 0..used {
        poll_every(p, g, pos, SLOTS_BETWEEN_SAFEPOINTS / 2);
        let k = from[2 * pos].load(Relaxed);
        if k == Value::TOMBSTONE.bits() {
            continue;
        }
        if 2 * n + 1 >= e.len() {
            break;
        }
        p.write_slot(&e[2 * n], k);
        p.write_slot(&e[2 * n + 1], from[2 * pos + 1].load(Relaxed));
        n += 1;
    }
    p.write_slot(&m[MAP_ENTRIES], Value::object(entries.addr()).bits());
    m[MAP_LEN].store(n as u64, Relaxed);
    m[MAP_USED].store(n as u64, Relaxed);
    if let Some(old) = old {
        p.unpin(old);
    }
    // The new entries stay pinned while their keys are hashed into the
    // index, in case a racing writer installs others meanwhile.
    let index = match alloc(p, g, Kind::Words, 2 * cap) {
        Ok(index) => index,
        Err(e) => {
            p.unpin(entries);
            return Err(e);
        }
    };
    let idx = slots(index);
    p.pin(index, false);
    for pos in 0..n {
        poll_every(p, g, pos, SLOTS_BETWEEN_SAFEPOINTS / 4);
        if let Ok(h) = key_hash(Value::from_bits(e[2 * pos].load(Relaxed))) {
            let mask = idx.len() - 1;
            let mut at = h as usize & mask;
            while idx[at].load(Relaxed) != 0 {
                at = (at + 1) & mask;
            }
            idx[at].store(index_word(pos, h), Relaxed);
        }
    }
    p.write_slot(&m[MAP_INDEX], Value::object(index.addr()).bits());
    p.unpin(index);
    p.unpin(entries);
    Ok(())
}

/// An index word: the entry's position + 1 in the low 32 bits (0: an empty
/// slot), the key hash's high 32 bits above, so that a probe compares keys
/// (a string compare, a cache miss on the entry and on the key) only when
/// the hashes agree.
fn index_word(pos: usize, hash: u64) -> u64 {
    (hash & !0xFFFF_FFFF) | (pos as u64 + 1)
}

/// Finds `key`: (index slot, entry position) of the entry, or the empty index slot.
/// A string key (the usual kind) is probed with a string-only comparison:
/// `keys_equal`'s number cases, set up for every probe, cost about 40
/// instructions a lookup in strings_maps.
#[inline]
fn map_find(map: ObjRef, key: Value, hash: u64) -> (Option<usize>, Option<usize>) {
    match obj_of_kind(key, Kind::Str) {
        Some(s) => map_probe(map, hash, |k| {
            k == key || obj_of_kind(k, Kind::Str).is_some_and(|t| string_eq(t, s))
        }),
        None => map_probe(map, hash, |k| keys_equal(k, key)),
    }
}

/// `map_find`'s probe, with `matches` deciding key equality.
#[inline(never)]
fn map_probe(
    map: ObjRef,
    hash: u64,
    matches: impl Fn(Value) -> bool,
) -> (Option<usize>, Option<usize>) {
    let m = slots(map);
    let entries = words(Value::from_bits(m[MAP_ENTRIES].load(Relaxed)));
    let idx = words(Value::from_bits(m[MAP_INDEX].load(Relaxed)));
    if idx.is_empty() || !idx.len().is_power_of_two() {
        return (None, None);
    }
    let mask = idx.len() - 1;
    let mut at = hash as usize & mask;
    for _ in 0..idx.len() {
        let w = idx[at].load(Relaxed);
        if w == 0 {
            return (Some(at), None);
        }
        let pos = ((w & 0xFFFF_FFFF) as usize).wrapping_sub(1);
        if (w ^ hash) >> 32 != 0 {
            at = (at + 1) & mask;
            continue;
        }
        if let Some(k) = entries.get(pos.wrapping_mul(2)) {
            if matches(Value::from_bits(k.load(Relaxed))) {
                return (Some(at), Some(pos));
            }
        }
        at = (at + 1) & mask;
    }
    (None, None)
}

/// Where a map lookup last found a key: the interpreter loop keeps one
/// (`Exec::map_hint`) so that the next lookup of the same key in the same
/// map goes straight to the entry. `m[k]++` reads the key and then writes
/// it, and `if _, ok := m[k]; !ok {...}; m[k]++` reads it twice before:
/// one probe instead of three (strings_maps' counting loop).
///
/// Only a hint, for the same map object and the same key value: it is used
/// when the entry at `pos` still holds a key equal to the one looked up
/// (`keys_equal`, as a probe decides), which makes it that key's entry
/// whatever happened since (a map holds no two equal keys; a deletion
/// leaves a tombstone, a growth moves entries to a new array; an object
/// freed and another allocated at its address fail the comparison or are
/// equal). The stored key is usually another object than the one looked
/// up (the word first seen, against this split's copy), so the comparison
/// reads it; it is in the cache from the lookup before.
#[derive(Clone, Copy, Default)]
pub struct MapHint {
    map: usize,
    key: u64,
    pos: usize,
}

/// The value slot of `key`'s entry in `map` if `hint` names it (see [`MapHint`]).
#[inline]
fn hinted_value_slot(map: ObjRef, key: Value, hint: &MapHint) -> Option<&'static AtomicU64> {
    if hint.map != map.addr() || hint.key != key.bits() {
        return None;
    }
    let m = slots(map);
    if hint.pos >= m[MAP_USED].load(Relaxed) as usize {
        return None;
    }
    let entries = words(Value::from_bits(m[MAP_ENTRIES].load(Relaxed)));
    let k = Value::from_bits(entries.get(2 * hint.pos)?.load(Relaxed));
    if !keys_equal(k, key) {
        return None;
    }
    entries.get(2 * hint.pos + 1)
}

/// [`map_get`], going through `hint` and leaving it at the key found.
#[inline]
pub fn map_get_hinted(
    map: ObjRef,
    key: Value,
    hint: &mut MapHint,
) -> Result<Option<Value>, Unhashable> {
    if let Some(slot) = hinted_value_slot(map, key, hint) {
        return Ok(Some(Value::from_bits(slot.load(Relaxed))));
    }
    let found = map_lookup(map, key)?;
    if let Some((pos, _)) = found {
        *hint = MapHint {
            map: map.addr(),
            key: key.bits(),
            pos,
        };
    }
    Ok(found.map(|(_, v)| v))
}

/// [`map_set_existing`], going through `hint` first.
#[inline]
pub fn map_set_existing_hinted(
    p: &mut P,
    map: ObjRef,
    key: Value,
    value: Value,
    hint: &MapHint,
) -> bool {
    match hinted_value_slot(map, key, hint) {
        Some(slot) => {
            p.write_slot(slot, value.bits());
            true
        }
        None => map_set_existing(p, map, key, value),
    }
}

/// The value for `key`, if present.
pub fn map_get(map: ObjRef, key: Value) -> Result<Option<Value>, Unhashable> {
    Ok(map_lookup(map, key)?.map(|(_, v)| v))
}

/// The entry position and value of `key`, if present.
#[inline]
fn map_lookup(map: ObjRef, key: Value) -> Result<Option<(usize, Value)>, Unhashable> {
    let h = key_hash(key)?;
    let entries = words(Value::from_bits(slots(map)[MAP_ENTRIES].load(Relaxed)));
    Ok(map_find(map, key, h).1.and_then(|pos| {
        let w = entries.get(2 * pos + 1)?;
        Some((pos, Value::from_bits(w.load(Relaxed))))
    }))
}

/// Sets the value of `key` if the map has it (a barriered store, no
/// allocation); `false` (nothing done) if it does not or `key` is
/// unhashable: adding a key may grow the map, which `map_set` does.
pub fn map_set_existing(p: &mut P, map: ObjRef, key: Value, value: Value) -> bool {
    key_hash(key).is_ok_and(|h| set_if_present(p, map, key, h, value))
}

/// Stores `value` for `key` (hash `h`) if the map has the key; whether it
/// had it. (A racing writer may have shrunk the entries meanwhile: then
/// nothing is stored, as racing writes to one map may be lost.)
fn set_if_present(p: &mut P, map: ObjRef, key: Value, h: u64, value: Value) -> bool {
    let Some(pos) = map_find(map, key, h).1 else {
        return false;
    };
    let entries = words(Value::from_bits(slots(map)[MAP_ENTRIES].load(Relaxed)));
    if let Some(slot) = entries.get(2 * pos + 1) {
        p.write_slot(slot, value.bits());
    }
    true
}

/// Number of live entries.
pub fn map_len(map: ObjRef) -> usize {
    slots(map)[MAP_LEN].load(Relaxed) as usize
}

/// Sets `key` to `value` (a new key goes last; an existing one keeps its place).
/// `map`, `key` and `value` must be rooted by the caller (growth allocates).
pub fn map_set(
    p: &mut P,
    g: &mut Mutator,
    map: ObjRef,
    key: Value,
    value: Value,
) -> Result<Result<(), Unhashable>, AllocError> {
    let h = match key_hash(key) {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    let m = slots(map);
    if set_if_present(p, map, key, h, value) {
        return Ok(Ok(()));
    }
    let used = m[MAP_USED].load(Relaxed) as usize;
    let cap = words(Value::from_bits(m[MAP_ENTRIES].load(Relaxed))).len() / 2;
    if used >= cap {
        let new_cap = (map_len(map) * 2).max(4).next_power_of_two();
        map_install(p, g, map, new_cap)?;
    }
    let used = m[MAP_USED].load(Relaxed) as usize;
    let entries = words(Value::from_bits(m[MAP_ENTRIES].load(Relaxed)));
    let (Some(at), None) = map_find(map, key, h) else {
        return Ok(Ok(()));
    };
    if 2 * used + 1 >= entries.len() {
        return Ok(Ok(()));
    }
    p.write_slot(&entries[2 * used], key.bits());
    p.write_slot(&entries[2 * used + 1], value.bits());
    // A racing writer may have installed a smaller index meanwhile: checked.
    if let Some(w) = words(Value::from_bits(m[MAP_INDEX].load(Relaxed))).get(at) {
        w.store(index_word(used, h), Relaxed);
    }
    m[MAP_USED].store(used as u64 + 1, Relaxed);
    m[MAP_LEN].store(m[MAP_LEN].load(Relaxed) + 1, Relaxed);
    Ok(Ok(()))
}

/// Deletes `key` if present.
pub fn map_delete(p: &mut P, map: ObjRef, key: Value) -> Result<(), Unhashable> {
    let h = key_hash(key)?;
    let m = slots(map);
    if let (_, Some(pos)) = map_find(map, key, h) {
        let entries = words(Value::from_bits(m[MAP_ENTRIES].load(Relaxed)));
        if let (Some(k), Some(v)) = (entries.get(2 * pos), entries.get(2 * pos + 1)) {
            p.write_slot(k, Value::TOMBSTONE.bits());
            p.write_slot(v, Value::NIL.bits());
            m[MAP_LEN].store(m[MAP_LEN].load(Relaxed).saturating_sub(1), Relaxed);
        }
    }
    Ok(())
}

/// The live entry at position `pos` or after: (key, value, next position).
pub fn map_next(map: ObjRef, mut pos: usize) -> Option<(Value, Value, usize)> {
    let m = slots(map);
    let used = m[MAP_USED].load(Relaxed) as usize;
    let entries = words(Value::from_bits(m[MAP_ENTRIES].load(Relaxed)));
    while pos < used {
        let k = Value::from_bits(entries.get(2 * pos)?.load(Relaxed));
        if k != Value::TOMBSTONE {
            let v = Value::from_bits(entries.get(2 * pos + 1)?.load(Relaxed));
            return Some((k, v, pos + 1));
        }
        pos += 1;
    }
    None
}

/// The live entries in insertion order.
pub fn map_entries(map: ObjRef) -> Vec<(Value, Value)> {
    let mut out = Vec::with_capacity(map_len(map));
    let mut pos = 0;
    while let Some((k, v, next)) = map_next(map, pos) {
        out.push((k, v));
        pos = next;
    }
    out
}

// ---------------------------------------------------------------- channels
//
// A channel's buffer, count and closed flag. The wait queues of parked
// goroutines and the direct hand-off live in the runtime (`sched::Chans`,
// `interp::chan`), which calls these under its channel lock.

const CHAN_CAP: usize = 0;
const CHAN_COUNT: usize = 1;
const CHAN_HEAD: usize = 2;
const CHAN_CLOSED: usize = 3;
const CHAN_BUFFER: usize = 4;

/// A new channel with room for `cap` values (0: unbuffered). `root` as for `new_list`.
pub fn new_chan(
    p: &mut P,
    g: &mut Mutator,
    cap: usize,
    root: &AtomicU64,
) -> Result<Value, AllocError> {
    let buffer = alloc(p, g, Kind::Array, cap.max(1))?;
    for slot in slots(buffer) {
        slot.store(Value::NIL.bits(), Relaxed);
    }
    root.store(Value::object(buffer.addr()).bits(), Relaxed);
    let ch = alloc(p, g, Kind::Chan, 5)?;
    let c = slots(ch);
    c[CHAN_CAP].store(cap as u64, Relaxed);
    p.write_slot(&c[CHAN_BUFFER], Value::object(buffer.addr()).bits());
    let v = Value::object(ch.addr());
    root.store(v.bits(), Relaxed);
    Ok(v)
}

fn chan_buffer(ch: ObjRef) -> &'static [AtomicU64] {
    obj_of(Value::from_bits(slots(ch)[CHAN_BUFFER].load(Relaxed))).map_or(&[], slots)
}

/// (capacity, buffered count, closed).
pub fn chan_state(ch: ObjRef) -> (usize, usize, bool) {
    let c = slots(ch);
    let cap = c[CHAN_CAP].load(Relaxed) as usize;
    let count = (c[CHAN_COUNT].load(Relaxed) as usize).min(cap);
    (cap, count, c[CHAN_CLOSED].load(Relaxed) != 0)
}

/// Puts `v` in the buffer if there is room; `false` if the send would block.
pub fn chan_try_send(p: &mut P, ch: ObjRef, v: Value) -> bool {
    let (cap, count, _) = chan_state(ch);
    let buffer = chan_buffer(ch);
    if count >= cap || buffer.len() < cap {
        return false;
    }
    let c = slots(ch);
    let head = c[CHAN_HEAD].load(Relaxed) as usize % cap;
    p.write_slot(&buffer[(head + count) % cap], v.bits());
    c[CHAN_COUNT].store(count as u64 + 1, Relaxed);
    true
}

/// Takes the oldest buffered value, if any.
pub fn chan_try_recv(p: &mut P, ch: ObjRef) -> Option<Value> {
    let (cap, count, _) = chan_state(ch);
    let buffer = chan_buffer(ch);
    if count == 0 || buffer.len() < cap {
        return None;
    }
    let c = slots(ch);
    let head = c[CHAN_HEAD].load(Relaxed) as usize % cap;
    let v = Value::from_bits(buffer[head].load(Relaxed));
    // Clearing with the barrier: its deletion half shades `v`, which the
    // caller is about to hold in a register.
    p.write_slot(&buffer[head], Value::NIL.bits());
    c[CHAN_HEAD].store(((head + 1) % cap) as u64, Relaxed);
    c[CHAN_COUNT].store(count as u64 - 1, Relaxed);
    Some(v)
}

/// Marks the channel closed.
pub fn chan_close(ch: ObjRef) {
    slots(ch)[CHAN_CLOSED].store(1, Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::{heap_config, type_table};
    use std::sync::{Arc, Mutex};
    use weft_gc::{Heap, RootKind, RootProvider, Tracer};

    /// A list of root words, and a scratch slot for constructors.
    #[derive(Default)]
    struct Roots(Mutex<Vec<u64>>, AtomicU64);

    impl RootProvider for Roots {
        fn scan_roots(&self, tracer: &mut Tracer<'_>) {
            for &w in self.0.lock().unwrap().iter() {
                tracer.mark_word(w);
            }
            tracer.mark_word(self.1.load(Relaxed));
        }
    }

    fn heap() -> (Arc<Heap>, Arc<Roots>) {
        let heap = Heap::new(heap_config(1), type_table());
        let roots = Arc::new(Roots::default());
        heap.add_roots(RootKind::Other, roots.clone());
        (heap, roots)
    }

    #[test]
    fn strings_hold_bytes_and_compare_by_content() {
        let (heap, _roots) = heap();
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        let a = new_string(&mut p, &mut g, b"hello, \xffworld").unwrap();
        let b = new_string(&mut p, &mut g, b"hello, \xffworld").unwrap();
        let c = new_string(&mut p, &mut g, b"").unwrap();
        let (a, b, c) = (obj_of(a).unwrap(), obj_of(b).unwrap(), obj_of(c).unwrap());
        assert_eq!(string_bytes(a), b"hello, \xffworld");
        assert_eq!(string_len(c), 0);
        assert!(string_eq(a, b));
        assert!(!string_eq(a, c));
        assert_eq!(string_hash(a), string_hash(b));
        assert_eq!(kind_of(Value::object(a.addr())), Some(Kind::Str));
    }

    #[test]
    fn map_hints_find_only_the_entry_of_an_equal_key() {
        let (heap, roots) = heap();
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        let root = |v: Value| roots.0.lock().unwrap().push(v.bits());
        let int = |i: i64| Value::int_inline(i).unwrap();
        let m = new_map(&mut p, &mut g, 0, &roots.1).unwrap();
        root(m);
        let other = new_map(&mut p, &mut g, 0, &roots.1).unwrap();
        root(other);
        let (m, other) = (obj_of(m).unwrap(), obj_of(other).unwrap());
        let word = |p: &mut P, g: &mut Mutator, s: &str| new_string(p, g, s.as_bytes()).unwrap();
        let (a1, b1) = (word(&mut p, &mut g, "a"), word(&mut p, &mut g, "b"));
        root(a1);
        root(b1);
        map_set(&mut p, &mut g, m, a1, int(1)).unwrap().unwrap();
        map_set(&mut p, &mut g, m, b1, int(2)).unwrap().unwrap();
        // Another object with the same bytes finds the entry, through the
        // hint the second time.
        let a2 = word(&mut p, &mut g, "a");
        root(a2);
        let mut hint = MapHint::default();
        assert_eq!(map_get_hinted(m, a2, &mut hint).unwrap(), Some(int(1)));
        assert!(hinted_value_slot(m, a2, &hint).is_some());
        assert!(map_set_existing_hinted(&mut p, m, a2, int(10), &hint));
        assert_eq!(map_get(m, a1).unwrap(), Some(int(10)));
        // The same hint for another key or another map names nothing.
        assert!(hinted_value_slot(m, b1, &hint).is_none());
        assert!(hinted_value_slot(other, a2, &hint).is_none());
        assert_eq!(map_get_hinted(other, a2, &mut hint).unwrap(), None);
        assert!(!map_set_existing_hinted(&mut p, other, a2, int(3), &hint));
        assert_eq!(map_len(other), 0);
        // A deleted key is not found through a hint taken before.
        assert_eq!(map_get_hinted(m, a2, &mut hint).unwrap(), Some(int(10)));
        map_delete(&mut p, m, a1).unwrap();
        assert!(hinted_value_slot(m, a2, &hint).is_none());
        assert_eq!(map_get_hinted(m, a2, &mut hint).unwrap(), None);
        assert!(!map_set_existing_hinted(&mut p, m, a2, int(4), &hint));
        // Back in, then moved by growth: still its own entry.
        map_set(&mut p, &mut g, m, a2, int(5)).unwrap().unwrap();
        assert_eq!(map_get_hinted(m, a1, &mut hint).unwrap(), Some(int(5)));
        for i in 0..100 {
            map_set(&mut p, &mut g, m, int(i), int(-i))
                .unwrap()
                .unwrap();
        }
        assert!(map_set_existing_hinted(&mut p, m, a1, int(6), &hint));
        assert_eq!(map_get(m, a2).unwrap(), Some(int(6)));
        assert_eq!(map_get(m, b1).unwrap(), Some(int(2)));
        assert_eq!(map_get_hinted(m, int(7), &mut hint).unwrap(), Some(int(-7)));
        // A NaN key equals nothing, itself included.
        let nan = Value::float(f64::NAN);
        map_set(&mut p, &mut g, m, nan, int(8)).unwrap().unwrap();
        assert_eq!(map_get_hinted(m, nan, &mut hint).unwrap(), None);
        assert!(!map_set_existing_hinted(&mut p, m, nan, int(9), &hint));
    }

    #[test]
    fn byte_buffers_append_at_every_alignment_and_refuse_when_full() {
        let (heap, roots) = heap();
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        let mut want = Vec::new();
        let buf = new_byte_buffer(&mut p, &mut g, 400).unwrap();
        roots.0.lock().unwrap().push(buf.bits());
        let b = obj_of(buf).unwrap();
        assert_eq!(byte_buffer_cap(b), 400);
        for n in 0..20usize {
            let piece: Vec<u8> = (0..n).map(|i| (n * 16 + i) as u8 | 0x80).collect();
            let s = obj_of(new_string(&mut p, &mut g, &piece).unwrap()).unwrap();
            assert!(byte_buffer_push_str(b, s));
            want.extend_from_slice(&piece);
            assert!(byte_buffer_push(b, 1, |_| b'.'));
            want.push(b'.');
            assert_eq!(string_bytes(b), want, "after a piece of {n}");
        }
        let room = byte_buffer_cap(b) - string_len(b);
        let big = obj_of(new_string(&mut p, &mut g, &vec![b'x'; room + 1]).unwrap()).unwrap();
        assert!(!byte_buffer_push_str(b, big));
        assert!(!byte_buffer_push(b, room + 1, |_| b'y'));
        assert_eq!(string_bytes(b), want, "a refused append writes nothing");
    }

    #[test]
    fn byte_buffers_fill_to_the_last_byte_from_every_alignment() {
        let (heap, roots) = heap();
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        for start in 0..8usize {
            for n in 1..=24usize {
                let cap = (start + n).div_ceil(8) * 8;
                let buf = new_byte_buffer(&mut p, &mut g, cap).unwrap();
                roots.0.lock().unwrap().push(buf.bits());
                let b = obj_of(buf).unwrap();
                assert!(byte_buffer_push(b, start, |i| b'a' + i as u8));
                let piece: Vec<u8> = (0..n).map(|i| 0xf0 ^ i as u8).collect();
                let src = obj_of(new_string(&mut p, &mut g, &piece).unwrap()).unwrap();
                let fits = start + n <= cap;
                assert_eq!(byte_buffer_push_str(b, src), fits);
                let mut want: Vec<u8> = (0..start).map(|i| b'a' + i as u8).collect();
                want.extend_from_slice(&piece);
                assert_eq!(string_bytes(b), want, "start {start}, {n} bytes");
                // A string made from the buffer hashes and compares as one
                // made from the same bytes.
                let same = obj_of(new_string(&mut p, &mut g, &want).unwrap()).unwrap();
                assert!(string_eq(b, same));
                assert_eq!(string_hash(b), string_hash(same));
                roots.0.lock().unwrap().clear();
            }
        }
    }

    #[test]
    fn string_hashes_depend_on_length_and_every_byte() {
        let (heap, _roots) = heap();
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        let mut seen = std::collections::HashSet::new();
        let mut texts: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"a".to_vec(),
            b"a\0".to_vec(),
            b"a\0\0".to_vec(),
        ];
        for i in 0..2000u32 {
            texts.push(format!("word{i}").into_bytes());
        }
        for t in &texts {
            let s = obj_of(new_string(&mut p, &mut g, t).unwrap()).unwrap();
            assert!(seen.insert(string_hash(s)), "hash collision for {t:?}");
        }
        // Both halves vary: the low bits pick the index slot, the high
        // bits are the tag kept in the index.
        let low: std::collections::HashSet<u64> = seen.iter().map(|h| h & 0xff).collect();
        let high: std::collections::HashSet<u64> = seen.iter().map(|h| h >> 56).collect();
        assert!(
            low.len() > 200 && high.len() > 200,
            "{} {}",
            low.len(),
            high.len()
        );
    }

    #[test]
    fn ints_box_outside_the_inline_range() {
        let (heap, _roots) = heap();
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        for i in [
            0,
            -5,
            1 << 47,
            1 << 49,
            (1 << 50) - 1,
            1 << 50,
            -(1 << 50),
            -(1 << 50) - 1,
            i64::MIN,
            i64::MAX,
        ] {
            let v = new_int(&mut p, &mut g, i).unwrap();
            assert_eq!(int_of(v), Some(i));
        }
        assert!(new_int(&mut p, &mut g, i64::MAX).unwrap().is_object());
        assert_eq!(int_of(Value::float(1.0)), None);
    }

    #[test]
    fn lists_grow_and_survive_collections() {
        let (heap, roots) = heap();
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        let list = new_list(&mut p, &mut g, &[Value::int_inline(1).unwrap()], &roots.1).unwrap();
        roots.0.lock().unwrap().push(list.bits());
        let l = obj_of(list).unwrap();
        for i in 2..=1000 {
            let s = new_string(&mut p, &mut g, format!("item {i}").as_bytes()).unwrap();
            // Values must be rooted across the allocation in list_append (a safepoint).
            roots.0.lock().unwrap().push(s.bits());
            list_append(&mut p, &mut g, l, &[s]).unwrap();
            roots.0.lock().unwrap().pop();
            if i % 250 == 0 {
                p.gc();
            }
        }
        assert_eq!(list_len(l), 1000);
        assert_eq!(int_of(list_get(l, 0).unwrap()), Some(1));
        let last = obj_of(list_get(l, 999).unwrap()).unwrap();
        assert_eq!(string_bytes(last), b"item 1000");
        assert!(list_get(l, 1000).is_none());
        assert!(list_set(&mut p, l, 0, Value::NIL));
        assert!(!list_set(&mut p, l, 5000, Value::NIL));
        assert!(heap.stats().cycles >= 4);
    }

    #[test]
    fn cells_hold_values() {
        let (heap, _roots) = heap();
        let mut p = heap.acquire_p();
        let mut g = Mutator::new();
        let c = obj_of(new_cell(&mut p, &mut g, Value::TRUE).unwrap()).unwrap();
        assert_eq!(cell_get(c), Value::TRUE);
        cell_set(&mut p, c, Value::NIL);
        assert!(cell_get(c).is_nil());
    }
}
