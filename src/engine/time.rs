//! Simulated time: integer nanoseconds owned by the engine.
//!
//! Nothing inside a run reads the wall clock; every instant is a `SimTime` and every
//! span a `SimDuration`, both plain `u64` nanoseconds so arithmetic is exact and
//! identical on every machine. Human strings ("150ms", "1.5s", "5m") are parsed with
//! integer arithmetic by `humantime`, so "1.5s" is exactly 1 500 000 000 ns.

use std::fmt;

/// An instant of simulated time, in nanoseconds since the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// Never: later than any event of a run.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start of the run.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// This instant moved forward by `d`, saturating at the end of representable time.
    pub fn after(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// The span from `earlier` to `self`; `earlier` must not be later than `self`.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        assert!(earlier <= self, "since: {earlier:?} is after {self:?}");
        SimDuration(self.0 - earlier.0)
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms * 1_000_000)
    }

    /// A span of `s` seconds.
    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * 1_000_000_000)
    }

    /// Nanoseconds in this span.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// This span in seconds, for reports only (never for simulation decisions).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// Parses a human duration such as `"150ms"`, `"2s"`, `"1.5s"` or `"5m"`.
    ///
    /// Exact: fractions are parsed with integer arithmetic. Negative values and numbers
    /// without a unit are rejected with a message saying what was expected.
    pub fn parse(text: &str) -> Result<SimDuration, String> {
        let trimmed = text.trim();
        if trimmed.starts_with('-') {
            return Err(format!("invalid duration {text:?}: durations cannot be negative"));
        }
        if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(format!(
                "invalid duration {text:?}: a unit is needed, e.g. \"{trimmed}ms\" or \"{trimmed}s\""
            ));
        }
        match humantime::parse_duration(trimmed) {
            Ok(d) => u64::try_from(d.as_nanos())
                .map(SimDuration)
                .map_err(|_| format!("invalid duration {text:?}: longer than 584 years")),
            Err(e) => Err(format!(
                "invalid duration {text:?}: {} (expected e.g. \"150ms\", \"2s\", \"1.5s\", \"5m\")",
                duration_problem(&e, trimmed)
            )),
        }
    }
}

/// What is wrong with a duration, in words rather than byte offsets.
fn duration_problem(e: &humantime::DurationError, text: &str) -> String {
    use humantime::DurationError as E;
    let at = |i: usize| text.get(i..).and_then(|s| s.chars().next()).unwrap_or(' ');
    match e {
        E::NumberExpected(0) => "it must start with a number".into(),
        E::NumberExpected(i) => {
            format!("a number is expected before `{}`", text.get(*i..).unwrap_or(text))
        }
        E::InvalidCharacter(i) => format!("`{}` cannot be in a duration", at(*i)),
        E::UnknownUnit { unit, .. } => format!("`{unit}` is not a unit (ns, us, ms, s, m, h, d)"),
        other => other.to_string(),
    }
}

/// Formats nanoseconds the way people read latencies: `850ns`, `12.3µs`, `4.56ms`, `2.10s`.
pub fn format_nanos(ns: u64) -> String {
    let v = ns as f64;
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        format!("{:.1}µs", v / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2}ms", v / 1e6)
    } else if ns < 120_000_000_000 {
        format!("{:.2}s", v / 1e9)
    } else {
        format!("{:.1}m", v / 60e9)
    }
}

/// A span exactly, as a file would say it: `7m`, `45s`, or `2643ms` (whole
/// milliseconds; below a millisecond, nanoseconds).
pub fn format_exact(ns: u64) -> String {
    if ns % 1_000_000_000 == 0 && ns > 0 {
        format_span(ns)
    } else if ns % 1_000_000 == 0 {
        format!("{}ms", ns / 1_000_000)
    } else {
        format!("{ns}ns")
    }
}

/// A span as people write it when it is a whole number of days, hours, minutes or
/// seconds (`7d`, `5h`, `30m`); otherwise as `format_nanos` shows it.
pub fn format_span(ns: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
    ];
    match UNITS.iter().find(|(unit, _)| ns >= *unit && ns % unit == 0) {
        Some((unit, name)) => format!("{}{name}", ns / unit),
        None => format_nanos(ns),
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_nanos(self.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", format_nanos(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_duration_says_what_is_wrong_in_words() {
        let err = |t: &str| SimDuration::parse(t).unwrap_err();
        assert!(err("fast").contains("it must start with a number"), "{}", err("fast"));
        assert!(err("1xs").contains("`xs` is not a unit"), "{}", err("1xs"));
        assert!(err("2 hours min").contains("a number is expected before `min`"));
        assert!(err("5m!").contains("`!` cannot be in a duration"), "{}", err("5m!"));
    }

    #[test]
    fn whole_spans_print_in_their_unit() {
        assert_eq!(format_span(7 * 86_400_000_000_000), "7d");
        assert_eq!(format_span(5 * 3_600_000_000_000), "5h");
        assert_eq!(format_span(90_000_000_000), "90s");
        assert_eq!(format_span(1_500_000_000), "1.50s");
    }

    fn check(input: &str, expected: Result<u64, &str>) {
        match (SimDuration::parse(input), expected) {
            (Ok(d), Ok(ns)) => assert_eq!(d.as_nanos(), ns, "{input}"),
            (Err(msg), Err(part)) => assert!(msg.contains(part), "{input}: {msg}"),
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn parses_human_durations_exactly() {
        check("150ms", Ok(150_000_000));
        check("2s", Ok(2_000_000_000));
        check("1.5s", Ok(1_500_000_000));
        check("5m", Ok(300_000_000_000));
        check("250us", Ok(250_000));
        check("0s", Ok(0));
    }

    #[test]
    fn rejects_negative_and_unitless() {
        check("-2s", Err("cannot be negative"));
        check("2", Err("a unit is needed"));
        check("1.5 parsecs", Err("invalid duration"));
        check("", Err("invalid duration"));
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(format_nanos(850), "850ns");
        assert_eq!(format_nanos(4_560_000), "4.56ms");
        assert_eq!(format_nanos(2_100_000_000), "2.10s");
    }
}
