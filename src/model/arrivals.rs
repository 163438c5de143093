//! Open arrivals: a population whose users arrive at a rate, whatever the system does,
//! rather than thinking between rounds. The rate may follow a schedule: steps, a ramp,
//! a daily sine, bursts.

use crate::engine::SimDuration;

/// Arrivals per second over simulated time.
#[derive(Debug, Clone, PartialEq)]
pub enum RateSchedule {
    /// Always this many a second.
    Constant(f64),
    /// From each time on, its rate (the first from 0).
    Steps(Vec<(SimDuration, f64)>),
    /// From `from` to `to` linearly over `over`, then `to`.
    Ramp {
        /// Rate at 0.
        from: f64,
        /// Rate from `over` on.
        to: f64,
        /// How long the ramp lasts.
        over: SimDuration,
    },
    /// `mean + amplitude · sin(2π t / period)`.
    Sine {
        /// Mean rate.
        mean: f64,
        /// Swing either side of it (at most `mean`).
        amplitude: f64,
        /// One cycle.
        period: SimDuration,
    },
    /// `base`, except `peak` for `lasting` at the start of every `every`.
    Bursts {
        /// Rate between bursts.
        base: f64,
        /// Rate within a burst.
        peak: f64,
        /// From one burst's start to the next.
        every: SimDuration,
        /// How long a burst lasts.
        lasting: SimDuration,
    },
}

impl RateSchedule {
    /// The rate at `t_ns`, per second.
    pub fn at(&self, t_ns: u64) -> f64 {
        match self {
            RateSchedule::Constant(r) => *r,
            RateSchedule::Steps(steps) => {
                let after = steps.partition_point(|(from, _)| from.as_nanos() <= t_ns);
                steps[after.saturating_sub(1)].1
            }
            RateSchedule::Ramp { from, to, over } => {
                let share = (t_ns as f64 / over.as_nanos().max(1) as f64).min(1.0);
                from + (to - from) * share
            }
            RateSchedule::Sine { mean, amplitude, period } => {
                let phase =
                    (t_ns % period.as_nanos().max(1)) as f64 / period.as_nanos().max(1) as f64;
                mean + amplitude * libm::sin(2.0 * std::f64::consts::PI * phase)
            }
            RateSchedule::Bursts { base, peak, every, lasting } => {
                let into = t_ns % every.as_nanos().max(1);
                if into < lasting.as_nanos() { *peak } else { *base }
            }
        }
    }

    /// The highest rate it reaches, per second (what arrivals are drawn at, then
    /// thinned to the rate of the moment).
    pub fn max(&self) -> f64 {
        match self {
            RateSchedule::Constant(r) => *r,
            RateSchedule::Steps(steps) => steps.iter().map(|s| s.1).fold(0.0, f64::max),
            RateSchedule::Ramp { from, to, .. } => from.max(*to),
            RateSchedule::Sine { mean, amplitude, .. } => mean + amplitude,
            RateSchedule::Bursts { base, peak, .. } => base.max(*peak),
        }
    }

    /// The mean number of arrivals in `[0, end_ns)`, for tests and reports.
    pub fn expected(&self, end_ns: u64) -> f64 {
        const STEPS: u64 = 100_000;
        let dt = end_ns as f64 / STEPS as f64;
        (0..STEPS).map(|i| self.at(((i as f64 + 0.5) * dt) as u64) * dt / 1e9).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn each_schedule_gives_its_rate_at_each_moment() {
        let steps =
            RateSchedule::Steps(vec![(SimDuration::ZERO, 10.0), (SimDuration(5 * S), 50.0)]);
        assert_eq!(
            (steps.at(0), steps.at(5 * S - 1), steps.at(5 * S), steps.max()),
            (10.0, 10.0, 50.0, 50.0)
        );
        let ramp = RateSchedule::Ramp { from: 0.0, to: 100.0, over: SimDuration(10 * S) };
        assert_eq!((ramp.at(5 * S), ramp.at(20 * S)), (50.0, 100.0));
        let sine = RateSchedule::Sine { mean: 100.0, amplitude: 50.0, period: SimDuration(4 * S) };
        assert!((sine.at(S) - 150.0).abs() < 1e-9 && (sine.at(3 * S) - 50.0).abs() < 1e-9);
        let bursts = RateSchedule::Bursts {
            base: 10.0,
            peak: 1000.0,
            every: SimDuration(60 * S),
            lasting: SimDuration(5 * S),
        };
        assert_eq!((bursts.at(S), bursts.at(10 * S), bursts.at(61 * S)), (1000.0, 10.0, 1000.0));
        assert!((bursts.expected(60 * S) - (5.0 * 1000.0 + 55.0 * 10.0)).abs() < 1.0);
    }
}
