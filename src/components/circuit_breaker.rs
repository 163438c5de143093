//! A client's circuit breaker, as state: closed, it judges the latest `window` tries and
//! opens when at least `threshold` of them failed; open, it refuses every try until
//! `open_for` has passed; then it lets one try through (half-open), which closes it on
//! success and opens it again on failure.

use crate::engine::SimTime;
use crate::model::BreakerSpec;

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Closed,
    Open,
    HalfOpen,
}

/// One client's breaker.
#[derive(Debug, Clone, Copy, Default)]
pub struct Breaker {
    state: State,
    /// The latest tries, newest in bit 0: 1 for a failure.
    failures: u32,
    /// How many tries `failures` holds (up to the window).
    seen: u8,
    open_until: SimTime,
}

impl Breaker {
    /// A closed breaker that has judged no try yet.
    pub const CLOSED: Breaker =
        Breaker { state: State::Closed, failures: 0, seen: 0, open_until: SimTime::ZERO };

    /// Whether a try may go out now (an open breaker past its span lets one through).
    pub fn allows(&mut self, spec: &BreakerSpec, now: SimTime) -> bool {
        let _ = spec;
        match self.state {
            State::Closed | State::HalfOpen => true,
            State::Open if now >= self.open_until => {
                self.state = State::HalfOpen;
                true
            }
            State::Open => false,
        }
    }

    /// A try that went out ended, `failed` or not; true when this opened the breaker.
    pub fn record(&mut self, spec: &BreakerSpec, failed: bool, now: SimTime) -> bool {
        match self.state {
            State::HalfOpen if failed => self.open(spec, now),
            State::HalfOpen => {
                *self = Breaker::default();
                false
            }
            State::Open => false, // A try sent before it opened.
            State::Closed => {
                let mask = if spec.window >= 32 { u32::MAX } else { (1 << spec.window) - 1 };
                self.failures = (self.failures << 1 | u32::from(failed)) & mask;
                self.seen = (self.seen + 1).min(spec.window as u8);
                let needed = libm::ceil(spec.threshold * f64::from(spec.window)) as u32;
                if u32::from(self.seen) == spec.window && self.failures.count_ones() >= needed {
                    return self.open(spec, now);
                }
                false
            }
        }
    }

    fn open(&mut self, spec: &BreakerSpec, now: SimTime) -> bool {
        *self = Breaker {
            state: State::Open,
            open_until: now.after(spec.open_for),
            ..Breaker::default()
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;

    #[test]
    fn it_opens_on_the_share_of_failures_then_lets_one_try_through_after_its_span() {
        let spec =
            BreakerSpec { threshold: 0.5, window: 4, open_for: SimDuration::from_millis(100) };
        let at = |ms| SimTime::ZERO.after(SimDuration::from_millis(ms));
        let mut b = Breaker::default();
        // Two failures in four tries: half, which opens it on the fourth.
        assert!(!b.record(&spec, true, at(0)));
        assert!(!b.record(&spec, false, at(1)));
        assert!(!b.record(&spec, false, at(2)));
        assert!(b.record(&spec, true, at(3)), "2 of the last 4 failed");
        assert!(!b.allows(&spec, at(50)), "open");
        assert!(b.allows(&spec, at(103)), "half-open after 100 ms");
        assert!(b.record(&spec, true, at(110)), "the probe failed: open again");
        assert!(!b.allows(&spec, at(150)));
        assert!(b.allows(&spec, at(210)));
        assert!(!b.record(&spec, false, at(220)), "the probe succeeded: closed");
        // Closed with an empty window: three failures of four do not open it until the
        // window is full.
        for t in 0..3 {
            assert!(!b.record(&spec, true, at(300 + t)));
        }
        assert!(b.record(&spec, false, at(303)));
    }
}
