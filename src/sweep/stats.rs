//! Per-point statistics of a metric over replicates: mean, a 95% confidence interval
//! of the mean (Student's t), min and max.

/// Two-sided 95% quantiles of Student's t for 1 to 30 degrees of freedom.
const T95: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The 97.5% quantile of Student's t with `df` degrees of freedom: the table up to 30,
/// then the Cornish-Fisher expansion around the normal quantile (Abramowitz and Stegun
/// 26.7.5), within 1e-5 of the exact value from 31 degrees of freedom on.
pub fn t95(df: usize) -> f64 {
    match df {
        0 => f64::NAN,
        1..=30 => T95[df - 1],
        _ => {
            let (z, n) = (Z975, df as f64);
            let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
            z + (z3 + z) / (4.0 * n)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n * n * n)
                + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z)
                    / (92160.0 * n * n * n * n)
        }
    }
}

/// The 97.5% quantile of the standard normal distribution.
const Z975: f64 = 1.959_963_984_540_054;

/// What the replicates of one point say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointStats {
    /// Replicates.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Half-width of the 95% confidence interval of the mean (0 for one replicate).
    pub ci95: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl PointStats {
    /// The statistics of `values` (at least one).
    pub fn of(values: &[f64]) -> PointStats {
        assert!(!values.is_empty(), "statistics of no values");
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let ci95 = if n < 2 {
            0.0
        } else {
            let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
            t95(n - 1) * libm::sqrt(var / n as f64)
        };
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        PointStats { n, mean, ci95, min, max }
    }

    /// The interval's lower end: at 0 at most when no replicate was below 0 (a count or
    /// a share cannot be negative, and Student's interval around a skewed few can reach
    /// below it).
    pub fn ci_low(&self) -> f64 {
        let low = self.mean - self.ci95;
        if self.min >= 0.0 { low.max(0.0) } else { low }
    }

    /// The interval's upper end.
    pub fn ci_high(&self) -> f64 {
        self.mean + self.ci95
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_s_interval_stops_at_zero() {
        let skewed = PointStats::of(&[0.0, 0.0, 0.0, 0.0, 1860.0]);
        assert!(skewed.mean - skewed.ci95 < 0.0);
        assert_eq!(skewed.ci_low(), 0.0);
        let signed = PointStats::of(&[-1.0, 0.0, 0.0, 0.0, 1860.0]);
        assert_eq!(signed.ci_low(), signed.mean - signed.ci95);
    }

    #[test]
    fn the_interval_is_t_times_the_standard_error() {
        // Mean 5, sample variance 10/3 ... of [2, 4, 6, 8]: sd = sqrt(20/3), se = sd / 2.
        let s = PointStats::of(&[2.0, 4.0, 6.0, 8.0]);
        assert_eq!((s.n, s.mean, s.min, s.max), (4, 5.0, 2.0, 8.0));
        let se = (20.0f64 / 3.0).sqrt() / 2.0;
        assert!((s.ci95 - 3.182 * se).abs() < 1e-12, "{}", s.ci95);
        assert_eq!(PointStats::of(&[3.0]).ci95, 0.0);
    }

    #[test]
    fn beyond_the_table_t_shrinks_smoothly_towards_the_normal_quantile() {
        // Exact 97.5% quantiles (R's qt(0.975, df)).
        for (df, exact) in [(31, 2.039513), (40, 2.021075), (60, 2.000298), (120, 1.979930)] {
            assert!((t95(df) - exact).abs() < 1e-5, "t95({df}) = {}", t95(df));
        }
        assert!((t95(1_000_000) - Z975).abs() < 1e-5);
        // No jump where the table ends (it used to fall from 2.042 to 1.96).
        assert!(t95(30) > t95(31) && t95(30) - t95(31) < 0.003);
    }
}
