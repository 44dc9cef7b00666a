//! The pacer (Go's gcControllerState): when the next cycle starts, how much
//! scan work an allocated byte owes during mark, and the soft memory limit.
//!
//! Inputs come from `WEFTGC` (percent, or `off`) and `WEFTMEMLIMIT` (bytes,
//! with optional KiB/MiB/GiB suffix). The trigger is written by the
//! coordinator at the end of mark termination (world stopped) and read Relaxed
//! by allocation slow paths.

/// Smallest heap goal, so tiny heaps do not collect constantly.
pub const MIN_HEAP_GOAL: usize = 4 << 20;

/// Pacer settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacerConfig {
    /// GOGC percent; `None` = off (only the memory limit or forced cycles).
    pub gogc: Option<u32>,
    /// Soft memory limit in bytes, also the hard allocation limit once a
    /// forced collection cannot get below it.
    pub mem_limit: Option<usize>,
}

impl Default for PacerConfig {
    fn default() -> PacerConfig {
        PacerConfig {
            gogc: Some(100),
            mem_limit: None,
        }
    }
}

/// The most of a memory limit `l` the heap aims to use (95%).
fn limit_cap(l: usize) -> usize {
    l - l / 20
}

impl PacerConfig {
    /// Reads `WEFTGC` and `WEFTMEMLIMIT`.
    pub fn from_env() -> PacerConfig {
        let mut c = PacerConfig::default();
        if let Ok(v) = std::env::var("WEFTGC") {
            c.gogc = parse_gogc(&v);
        }
        if let Ok(v) = std::env::var("WEFTMEMLIMIT") {
            c.mem_limit = parse_bytes(&v);
        }
        c
    }

    /// Heap goal after a cycle that marked `marked` bytes, with `roots`
    /// bytes of roots outside the heap to scan each cycle (goroutine
    /// stacks): Go 1.18's goal, marked + (marked + roots) x GOGC/100, so a
    /// program with many goroutines and a small heap does not collect (and
    /// scan every stack) over and over.
    pub fn goal(&self, marked: usize, roots: usize) -> usize {
        let by_gogc = match self.gogc {
            Some(p) => (marked + (marked + roots) / 100 * p as usize).max(MIN_HEAP_GOAL),
            None => usize::MAX,
        };
        match self.mem_limit {
            Some(l) => by_gogc.min(limit_cap(l)),
            None => by_gogc,
        }
    }

    /// The memory the scavenger keeps (pages in use plus free pages not yet
    /// returned to the OS): the heap goal + 10%, as Go's scavenger, or the
    /// most the heap used during the last cycle (`peak`) if that is more,
    /// and never more than the memory limit's cap.
    ///
    /// The peak: allocation during the mark takes the heap past its goal
    /// (gcpause: goal 64 MB, 73.6 MB in use at mark termination), so the
    /// goal + 10% gave back some 3 MB a cycle that the next cycle faulted
    /// in again. A fault on such a page is where the OS zeroes it, on a
    /// thread holding a P: with transparent huge pages one fault zeroes 2
    /// MB, and on this VM took 5 ms, a stop-the-world held up for all of
    /// it. A one-off peak is given back a cycle later.
    pub fn retained(&self, marked: usize, roots: usize, peak: usize) -> usize {
        let goal = self.goal(marked, roots);
        let retain = goal.saturating_add(goal / 10).max(peak);
        match self.mem_limit {
            Some(l) => retain.min(limit_cap(l)),
            None => retain,
        }
    }

    /// Heap size at which the next cycle starts: 70% of the way from the
    /// marked heap to the goal, leaving 30% runway for allocation during mark.
    pub fn trigger(&self, marked: usize, roots: usize) -> usize {
        let goal = self.goal(marked, roots);
        if goal == usize::MAX {
            return usize::MAX;
        }
        if goal <= marked {
            return marked;
        }
        marked + (goal - marked) / 10 * 7
    }

    /// Scan bytes each allocated byte owes during mark, given the expected
    /// scan work left and the heap runway left.
    pub fn assist_ratio(scan_remaining: u64, heap_remaining: u64) -> f64 {
        (scan_remaining.max(1 << 16) as f64 / heap_remaining.max(1 << 16) as f64).clamp(0.05, 64.0)
    }
}

/// Parses `WEFTGC`: a percent, or `off`.
pub fn parse_gogc(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("off") {
        return None;
    }
    Some(s.parse().unwrap_or(100))
}

/// Parses a byte count with optional suffix (B, KiB, MiB, GiB).
pub fn parse_bytes(s: &str) -> Option<usize> {
    let s = s.trim();
    let (num, mul) = [
        ("GiB", 1usize << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("B", 1),
    ]
    .iter()
    .find_map(|(suf, m)| s.strip_suffix(suf).map(|n| (n, *m)))
    .unwrap_or((s, 1));
    num.trim().parse::<usize>().ok().map(|n| n * mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_leaves_runway_below_goal() {
        let c = PacerConfig {
            gogc: Some(100),
            mem_limit: None,
        };
        let marked = 100 << 20;
        assert_eq!(c.goal(marked, 0), 200 << 20);
        assert_eq!(c.goal(marked, 50 << 20), 250 << 20);
        let t = c.trigger(marked, 0);
        assert!(t > marked && t < 200 << 20);
        let off = PacerConfig {
            gogc: None,
            mem_limit: None,
        };
        assert_eq!(off.trigger(marked, 0), usize::MAX);
        let limited = PacerConfig {
            gogc: Some(100),
            mem_limit: Some(120 << 20),
        };
        assert!(limited.goal(marked, 1 << 30) < 120 << 20);
    }

    #[test]
    fn the_scavenger_keeps_the_goal_and_a_tenth_or_the_peak_within_the_limit() {
        let marked = 100 << 20;
        let c = PacerConfig {
            gogc: Some(100),
            mem_limit: None,
        };
        assert_eq!(c.retained(marked, 0, 0), 220 << 20);
        assert_eq!(c.retained(marked, 0, 250 << 20), 250 << 20);
        let off = PacerConfig {
            gogc: None,
            mem_limit: None,
        };
        assert_eq!(off.retained(marked, 0, 0), usize::MAX);
        let limited = PacerConfig {
            gogc: Some(100),
            mem_limit: Some(200 << 20),
        };
        assert_eq!(limited.retained(marked, 0, 0), 190 << 20);
        assert_eq!(limited.retained(marked, 0, 195 << 20), 190 << 20);
    }

    #[test]
    fn parses_env_values() {
        assert_eq!(parse_gogc("off"), None);
        assert_eq!(parse_gogc("50"), Some(50));
        assert_eq!(parse_bytes("64MiB"), Some(64 << 20));
        assert_eq!(parse_bytes("1000"), Some(1000));
    }
}
