//! Integer text as Go's `strconv.FormatInt` / `FormatUint` / `Itoa`
//! (bases 2 to 36, lower-case digits).

const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Go's `strconv.FormatUint(u, base)`.
///
/// # Panics
/// If `base` is outside `2..=36` (Go panics too).
pub fn format_uint(mut u: u64, base: u32) -> String {
    assert!(
        (2..=36).contains(&base),
        "strconv: illegal AppendInt/FormatInt base"
    );
    let mut buf = Vec::with_capacity(64);
    loop {
        buf.push(DIGITS[(u % base as u64) as usize]);
        u /= base as u64;
        if u == 0 {
            break;
        }
    }
    buf.reverse();
    buf.into_iter().map(char::from).collect()
}

/// Go's `strconv.FormatInt(i, base)`.
///
/// # Panics
/// If `base` is outside `2..=36` (Go panics too).
pub fn format_int(i: i64, base: u32) -> String {
    if i < 0 {
        let mut s = String::from("-");
        s.push_str(&format_uint(i.unsigned_abs(), base));
        s
    } else {
        format_uint(i as u64, base)
    }
}

/// Go's `strconv.Itoa(i)`.
pub fn itoa(i: i64) -> String {
    format_int(i, 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conformance_stdlib_strconv() {
        assert_eq!(itoa(0), "0");
        assert_eq!(itoa(-45), "-45");
        assert_eq!(itoa(i64::MAX), "9223372036854775807");
        assert_eq!(format_int(255, 2), "11111111");
        assert_eq!(format_int(255, 16), "ff");
        assert_eq!(format_int(-255, 16), "-ff");
        assert_eq!(format_int(35, 36), "z");
        assert_eq!(format_int(123456789, 10), "123456789");
        assert_eq!(
            format_int(i64::MIN, 2),
            "-1000000000000000000000000000000000000000000000000000000000000000"
        );
        assert_eq!(format_uint(u64::MAX, 16), "ffffffffffffffff");
    }

    #[test]
    #[should_panic]
    fn bad_base() {
        format_int(1, 37);
    }
}
