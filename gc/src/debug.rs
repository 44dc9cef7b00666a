//! `WEFTDEBUG` (comma-separated `key=value`, like GODEBUG) and the fatal-error
//! path. Parsed once when a heap is configured; never re-read.

/// Verification and tracing switches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DebugFlags {
    /// `gctrace=1`: one line per cycle on stderr.
    pub gctrace: bool,
    /// `gccheckmark=1`: stop-the-world remark after each mark; missed objects
    /// are fatal.
    pub checkmark: bool,
    /// `gcverify=1`: after each mark, verify that no marked object points to
    /// an unmarked one (the tri-colour invariant); violations are fatal.
    pub gcverify: bool,
    /// `gcstress=N`: a cycle every N allocations (0 = off).
    pub gcstress: u64,
    /// `gcpoison=1`: fill freed small objects with a pattern, check on reuse.
    pub poison: bool,
    /// `wbbuf=N`: write-barrier buffer entries (0 = default).
    pub wbbuf: usize,
    /// `wbcheck=1`: P-ownership and barrier-free-store checks (always on in
    /// debug builds).
    pub wbcheck: bool,
}

impl DebugFlags {
    /// Parses a `WEFTDEBUG` string; unknown keys are ignored, as GODEBUG does.
    pub fn parse(s: &str) -> DebugFlags {
        let mut f = DebugFlags::default();
        for (k, n) in weftdebug_pairs(s) {
            match k {
                "gctrace" => f.gctrace = n != 0,
                "gccheckmark" => f.checkmark = n != 0,
                "gcstress" => f.gcstress = n,
                "gcverify" => f.gcverify = n != 0,
                "gcpoison" => f.poison = n != 0,
                "wbbuf" => f.wbbuf = n as usize,
                "wbcheck" => f.wbcheck = n != 0,
                _ => {}
            }
        }
        f
    }

    /// Flags from the `WEFTDEBUG` environment variable.
    pub fn from_env() -> DebugFlags {
        std::env::var("WEFTDEBUG")
            .map(|s| DebugFlags::parse(&s))
            .unwrap_or_default()
    }
}

/// The `key=value` pairs of a `WEFTDEBUG` string, values as numbers (a bare
/// `key` is `key=1`, a value that is not a number 0), for every layer that
/// reads its own keys from it (this crate's [`DebugFlags`], the VM's
/// scheduler switches).
pub fn weftdebug_pairs(s: &str) -> impl Iterator<Item = (&str, u64)> {
    s.split(',').map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, "1"));
        (k.trim(), v.trim().parse().unwrap_or(0))
    })
}

/// A fatal runtime error: misuse the collector cannot survive. It panics with
/// a message starting `weft-gc fatal error:` (the VM aborts on it; tests can
/// observe it).
#[cold]
#[track_caller]
pub fn fatal(msg: std::fmt::Arguments<'_>) -> ! {
    panic!("weft-gc fatal error: {msg}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_weftdebug() {
        let f = DebugFlags::parse("gctrace=1,gcstress=100,wbbuf=2,bogus=3,gccheckmark=1");
        assert!(f.gctrace && f.checkmark && !f.poison);
        assert_eq!((f.gcstress, f.wbbuf), (100, 2));
    }
}
