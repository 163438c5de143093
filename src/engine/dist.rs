//! Duration distributions, sampled with `libm` so every machine draws the same values.
//!
//! All parameters are nanoseconds held as `f64`; samples are rounded to whole
//! nanoseconds. Only IEEE-exact operations (`+ - * / sqrt`) and `libm` functions are used,
//! never the platform's `ln`/`exp`, whose last bit varies between machines.

use super::ln::ln;
use super::rng::Stream;

/// The 99th percentile of the standard normal distribution.
const Z_P99: f64 = 2.326_347_874_040_841;

/// Give up redrawing a truncated normal after this many tries and return 0.
const TRUNCATED_NORMAL_TRIES: u32 = 64;

/// A distribution of non-negative durations.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// Always the same value.
    Const { value_ns: f64 },
    /// Uniform on `[low, high]`.
    Uniform { low_ns: f64, high_ns: f64 },
    /// Exponential with the given mean.
    Exp { mean_ns: f64 },
    /// Normal, truncated at 0 by redrawing negative samples.
    Normal { mean_ns: f64, sd_ns: f64 },
    /// Log-normal with `ln X ~ N(mu, sigma)`; built from a median and a p99.
    LogNormal { mu: f64, sigma: f64 },
    /// Pareto (type I) with minimum `scale` and tail index `shape`.
    Pareto { scale_ns: f64, shape: f64 },
    /// Piecewise-linear inverse CDF through `(quantile in [0,1], value)` points.
    Empirical { points: Vec<(f64, f64)> },
    /// One of several distributions, chosen with the given weights (summing to 1): a
    /// measured latency's body and its tail.
    Mixture { parts: Vec<(f64, Dist)> },
    /// A fixed delay plus a draw of `rest`: a floor such as the speed of light between
    /// regions under a variable queueing delay.
    Plus { shift_ns: f64, rest: Box<Dist> },
    /// The sum of one draw of each part, in order: a link's own latency and the latency
    /// between the regions its ends sit in.
    Sum { parts: Vec<Dist> },
}

impl Dist {
    /// A constant duration in nanoseconds.
    pub fn constant(ns: u64) -> Dist {
        Dist::Const { value_ns: ns as f64 }
    }

    /// A log-normal whose median and 99th percentile are the given nanoseconds.
    pub fn lognormal_from_median_p99(median_ns: f64, p99_ns: f64) -> Dist {
        assert!(median_ns > 0.0, "lognormal median must be positive");
        assert!(p99_ns >= median_ns, "lognormal p99 must be at least the median");
        let mu = libm::log(median_ns);
        let sigma = (libm::log(p99_ns) - mu) / Z_P99;
        Dist::LogNormal { mu, sigma }
    }

    /// Draws one duration in whole nanoseconds.
    #[inline]
    pub fn sample(&self, rng: &mut Stream) -> u64 {
        let x = match self {
            Dist::Const { value_ns } => *value_ns,
            Dist::Uniform { low_ns, high_ns } => low_ns + rng.unit() * (high_ns - low_ns),
            // 1 - u is exact (u is a multiple of 2^-53 below 1).
            Dist::Exp { mean_ns } => -mean_ns * ln(1.0 - rng.unit()),
            Dist::Normal { mean_ns, sd_ns } => truncated_normal(rng, *mean_ns, *sd_ns),
            Dist::LogNormal { mu, sigma } => libm::exp(mu + sigma * standard_normal(rng)),
            Dist::Pareto { scale_ns, shape } => scale_ns * libm::exp(-ln(1.0 - rng.unit()) / shape),
            Dist::Empirical { points } => empirical(points, rng.unit()),
            Dist::Mixture { parts } => return pick(parts, rng.unit()).sample(rng),
            Dist::Plus { shift_ns, rest } => shift_ns + rest.sample(rng) as f64,
            Dist::Sum { parts } => {
                return parts.iter().fold(0u64, |sum, d| sum.saturating_add(d.sample(rng)));
            }
        };
        to_nanos(x)
    }

    /// The mean in nanoseconds (infinite for a Pareto with shape <= 1).
    pub fn mean_ns(&self) -> f64 {
        match self {
            Dist::Const { value_ns } => *value_ns,
            Dist::Uniform { low_ns, high_ns } => (low_ns + high_ns) / 2.0,
            Dist::Exp { mean_ns } => *mean_ns,
            // Ignores the truncation; exact when the mean is several sd above 0.
            Dist::Normal { mean_ns, .. } => *mean_ns,
            Dist::LogNormal { mu, sigma } => libm::exp(mu + sigma * sigma / 2.0),
            Dist::Pareto { scale_ns, shape } if *shape > 1.0 => scale_ns * shape / (shape - 1.0),
            Dist::Pareto { .. } => f64::INFINITY,
            Dist::Empirical { points } => {
                points.windows(2).map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0).sum()
            }
            Dist::Mixture { parts } => parts.iter().map(|(w, d)| w * d.mean_ns()).sum(),
            Dist::Plus { shift_ns, rest } => shift_ns + rest.mean_ns(),
            Dist::Sum { parts } => parts.iter().map(Dist::mean_ns).sum(),
        }
    }

    /// True when every sample is zero (a link with no delay, say).
    pub fn is_zero(&self) -> bool {
        match self {
            Dist::Const { value_ns } => *value_ns == 0.0,
            Dist::Uniform { high_ns, .. } => *high_ns == 0.0,
            Dist::Exp { mean_ns } => *mean_ns == 0.0,
            Dist::Normal { mean_ns, sd_ns } => *mean_ns <= 0.0 && *sd_ns == 0.0,
            Dist::LogNormal { .. } | Dist::Pareto { .. } => false,
            Dist::Empirical { points } => points.iter().all(|p| p.1 == 0.0),
            Dist::Mixture { parts } => parts.iter().all(|(_, d)| d.is_zero()),
            Dist::Plus { shift_ns, rest } => *shift_ns == 0.0 && rest.is_zero(),
            Dist::Sum { parts } => parts.iter().all(Dist::is_zero),
        }
    }

    /// A draw of `self` followed by a draw of `next` (`self` alone when `next` is
    /// always zero, so a zero term costs no draw).
    pub fn then(self, next: Dist) -> Dist {
        match (self, next) {
            (first, next) if next.is_zero() => first,
            (Dist::Sum { mut parts }, next) => {
                parts.push(next);
                Dist::Sum { parts }
            }
            (first, next) => Dist::Sum { parts: vec![first, next] },
        }
    }
}

/// The part of a mixture that the uniform draw `u` falls in (the last one when rounding
/// leaves the weights' sum a hair under 1).
fn pick(parts: &[(f64, Dist)], u: f64) -> &Dist {
    let mut below = 0.0;
    for (weight, dist) in parts {
        below += weight;
        if u < below {
            return dist;
        }
    }
    &parts.last().expect("a mixture has parts").1
}

fn to_nanos(x: f64) -> u64 {
    // Rounding, not truncation, keeps the sample mean unbiased; NaN maps to 0.
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= u64::MAX as f64 {
        u64::MAX
    } else {
        round_half_away(x)
    }
}

/// `libm::round(x) as u64` for `0 < x < 2^64`, without its bit manipulation: the
/// truncation is exact, and so is `x` minus it (below 2^53 both share `x`'s binade or
/// the fraction is exact; from 2^53 on `x` is whole and the fraction is 0).
#[inline]
fn round_half_away(x: f64) -> u64 {
    let whole = x as u64;
    if x - whole as f64 >= 0.5 { whole + 1 } else { whole }
}

/// Box–Muller with `libm`; one of the pair is discarded to keep the stream stateless.
fn standard_normal(rng: &mut Stream) -> f64 {
    let u1 = 1.0 - rng.unit(); // (0, 1], so the log is finite
    let u2 = rng.unit();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

fn truncated_normal(rng: &mut Stream, mean: f64, sd: f64) -> f64 {
    for _ in 0..TRUNCATED_NORMAL_TRIES {
        let x = mean + sd * standard_normal(rng);
        if x >= 0.0 {
            return x;
        }
    }
    0.0
}

fn empirical(points: &[(f64, f64)], u: f64) -> f64 {
    assert!(points.len() >= 2, "empirical table needs two points");
    let i = points.partition_point(|&(q, _)| q <= u).clamp(1, points.len() - 1);
    let ((q0, v0), (q1, v1)) = (points[i - 1], points[i]);
    if q1 <= q0 {
        return v1;
    }
    v0 + (u - q0) / (q1 - q0) * (v1 - v0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: usize = 200_000;

    fn samples(d: &Dist) -> Vec<f64> {
        let mut rng = Stream::new(42, "dist-test");
        let mut v: Vec<f64> = (0..N).map(|_| d.sample(&mut rng) as f64).collect();
        v.sort_by(f64::total_cmp);
        v
    }

    /// Checks the sample mean and one quantile against closed forms, within `tol` relative.
    fn check(d: Dist, mean: f64, quantile: (f64, f64), tol: f64) {
        let v = samples(&d);
        let m = v.iter().sum::<f64>() / N as f64;
        assert!((m - mean).abs() <= tol * mean, "{d:?}: mean {m} vs {mean}");
        let q = v[(quantile.0 * N as f64) as usize];
        assert!((q - quantile.1).abs() <= tol * quantile.1, "{d:?}: q{} {q}", quantile.0);
        assert!(v[0] >= 0.0);
    }

    #[test]
    fn rounding_matches_libm_round() {
        let mut xs = vec![0.5, 1.5, 2.5, 0.49999999999999994, 4503599627370495.5, 9.1e18];
        xs.extend((1..60).map(|p| libm::exp2(f64::from(p))));
        let mut rng = Stream::new(3, "round");
        for _ in 0..1_000_000 {
            let scale = libm::exp2(f64::from(rng.below(64) as u32));
            xs.push(rng.unit() * scale);
        }
        for x in xs.into_iter().filter(|&x| x > 0.0) {
            for x in [x, libm::nextafter(x, 0.0), libm::nextafter(x, f64::INFINITY)] {
                assert_eq!(round_half_away(x), libm::round(x) as u64, "{x:e}");
            }
        }
    }

    #[test]
    fn exp_matches_mean_and_median() {
        // Median of exp(mean m) is m ln 2.
        check(Dist::Exp { mean_ns: 2e9 }, 2e9, (0.5, 2e9 * std::f64::consts::LN_2), 0.01);
    }

    #[test]
    fn uniform_matches() {
        check(Dist::Uniform { low_ns: 0.0, high_ns: 5e9 }, 2.5e9, (0.9, 4.5e9), 0.01);
    }

    #[test]
    fn lognormal_hits_median_and_p99() {
        let d = Dist::lognormal_from_median_p99(10e6, 100e6);
        let mean = d.mean_ns();
        check(d.clone(), mean, (0.5, 10e6), 0.02);
        check(d, mean, (0.99, 100e6), 0.03);
    }

    #[test]
    fn normal_and_pareto_and_empirical() {
        check(Dist::Normal { mean_ns: 10e6, sd_ns: 1e6 }, 10e6, (0.5, 10e6), 0.01);
        // Pareto median = scale * 2^(1/shape).
        let median = 1e6 * libm::pow(2.0, 1.0 / 3.0);
        check(Dist::Pareto { scale_ns: 1e6, shape: 3.0 }, 1.5e6, (0.5, median), 0.02);
        let table = vec![(0.0, 1e6), (0.5, 5e6), (0.99, 50e6), (1.0, 200e6)];
        let e = Dist::Empirical { points: table };
        check(e.clone(), e.mean_ns(), (0.5, 5e6), 0.02);
    }

    #[test]
    fn a_mixture_draws_each_part_by_its_weight_and_a_shift_adds_its_floor() {
        // 90% exp(10 ms), 10% const(100 ms): mean 19 ms, and the 95th percentile is in
        // the constant tail.
        let body = Dist::Exp { mean_ns: 10e6 };
        let tail = Dist::Const { value_ns: 100e6 };
        let m = Dist::Mixture { parts: vec![(0.9, body), (0.1, tail)] };
        assert_eq!(m.mean_ns(), 0.9 * 10e6 + 0.1 * 100e6);
        check(m, 19e6, (0.95, 100e6), 0.01);
        let floor = Dist::Plus { shift_ns: 75e6, rest: Box::new(Dist::Exp { mean_ns: 5e6 }) };
        let v = samples(&floor);
        assert!(v[0] >= 75e6, "never below the floor: {}", v[0]);
        // Median of 75 ms + exp(5 ms) is 75 ms + 5 ms ln 2.
        check(floor, 80e6, (0.5, 75e6 + 5e6 * std::f64::consts::LN_2), 0.01);
    }

    #[test]
    fn a_sum_draws_each_part_in_turn() {
        let sum = Dist::Exp { mean_ns: 5e6 }.then(Dist::constant(40_000_000));
        check(sum, 45e6, (0.5, 40e6 + 5e6 * std::f64::consts::LN_2), 0.03);
        assert!(matches!(Dist::constant(7).then(Dist::constant(0)), Dist::Const { .. }));
    }

    #[test]
    fn truncated_normal_is_never_negative() {
        let v = samples(&Dist::Normal { mean_ns: 0.0, sd_ns: 1e6 });
        assert!(v[0] >= 0.0);
        // Half-normal mean is sd * sqrt(2/pi).
        let m = v.iter().sum::<f64>() / N as f64;
        assert!((m - 1e6 * (2.0 / std::f64::consts::PI).sqrt()).abs() < 0.01e6);
    }
}
