//! Size classes: the table that maps a request size (header included) to a
//! class, and each class to its object size and span length in pages.
//!
//! Built once (classes grow by about 12.5% from 128 bytes up to 32 KiB) and
//! read-only afterwards. It must never produce a span with more than
//! [`MAX_OBJS_PER_SPAN`] objects, because span bitmaps are fixed-size.

use std::sync::OnceLock;

/// Bytes in a page.
pub const PAGE_SIZE: usize = 8192;
/// Largest object served by a size class; bigger objects get their own span.
pub const MAX_SMALL_SIZE: usize = 32 * 1024;
/// Upper bound on objects per span; span bitmaps hold this many bits.
pub const MAX_OBJS_PER_SPAN: usize = 512;

/// One size class.
#[derive(Clone, Copy, Debug)]
pub struct SizeClass {
    /// Object size in bytes, header included.
    pub size: usize,
    /// Pages per span of this class.
    pub npages: usize,
}

impl SizeClass {
    /// Objects per span of this class.
    pub fn nelems(&self) -> usize {
        self.npages * PAGE_SIZE / self.size
    }
}

struct Table {
    classes: Vec<SizeClass>,
    /// `small[(size + 15) / 16]` is the class for sizes up to 1024.
    small: Vec<u8>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut sizes = Vec::new();
        let mut s = 16;
        while s <= 128 {
            sizes.push(s);
            s += 16;
        }
        let mut s = 128usize;
        while s < MAX_SMALL_SIZE {
            s = (s + s / 8 + 15) & !15;
            sizes.push(s.min(MAX_SMALL_SIZE));
        }
        sizes.dedup();
        let classes: Vec<SizeClass> = sizes
            .into_iter()
            .map(|size| {
                let mut npages = 1;
                loop {
                    let bytes = npages * PAGE_SIZE;
                    let waste = bytes % size;
                    if bytes >= size && waste * 8 <= bytes {
                        break;
                    }
                    npages += 1;
                }
                SizeClass { size, npages }
            })
            .collect();
        let mut small = vec![0u8; 1024 / 16 + 1];
        for (i, slot) in small.iter_mut().enumerate() {
            let size = (i * 16).max(1);
            *slot = classes.iter().position(|c| c.size >= size).unwrap_or(0) as u8;
        }
        for c in &classes {
            assert!(c.nelems() <= MAX_OBJS_PER_SPAN && c.nelems() >= 1);
        }
        Table { classes, small }
    })
}

/// The class of each size up to 1024, indexed by `size.div_ceil(16)`.
pub(crate) fn small_table() -> &'static [u8] {
    &table().small
}

/// Number of size classes.
pub fn num_classes() -> usize {
    table().classes.len()
}

/// The class for an object of `size` bytes (header included), or `None` if the
/// object is large.
#[inline]
pub fn class_of(size: usize) -> Option<usize> {
    let t = table();
    if size <= 1024 {
        Some(t.small[size.div_ceil(16)] as usize)
    } else if size <= MAX_SMALL_SIZE {
        Some(t.classes.partition_point(|c| c.size < size))
    } else {
        None
    }
}

/// The description of class `c`.
#[inline]
pub fn class(c: usize) -> SizeClass {
    table().classes[c]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_fits_its_class() {
        for size in 1..=MAX_SMALL_SIZE {
            let c = class_of(size).expect("small");
            assert!(class(c).size >= size, "size {size}");
            if c > 0 {
                assert!(
                    class(c - 1).size < size,
                    "size {size} not in smallest class"
                );
            }
        }
        assert!(class_of(MAX_SMALL_SIZE + 1).is_none());
        assert!(
            num_classes() > 40 && num_classes() < 80,
            "{}",
            num_classes()
        );
    }
}
