//! Statistics over seeds: means with Student-t 95% confidence intervals, and paired
//! differences on common random numbers (the same seeds for every variant), which cancel
//! most of the noise two variants share and so need far fewer seeds than comparing two
//! independent means.

/// A mean and its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Samples.
    pub n: usize,
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation (0 with one sample).
    pub std: f64,
    /// Half-width of the 95% interval (infinite with one sample: no spread is known).
    pub half_width: f64,
}

impl Interval {
    /// Lower end.
    pub fn low(&self) -> f64 {
        self.mean - self.half_width
    }

    /// Upper end.
    pub fn high(&self) -> f64 {
        self.mean + self.half_width
    }

    /// Whether the interval excludes 0 (for a difference: a real effect at 95%).
    pub fn excludes_zero(&self) -> bool {
        self.half_width.is_finite() && (self.low() > 0.0 || self.high() < 0.0)
    }
}

/// Two-sided 97.5% quantiles of Student's t for 1..=30 degrees of freedom.
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The 97.5% quantile of Student's t with `df` degrees of freedom (the table to 30, then
/// the Cornish-Fisher expansion around the normal's 1.95996, within 0.001).
pub fn t975(df: usize) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T975[df - 1],
        _ => {
            let z: f64 = 1.959_964;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

/// Mean and 95% interval of `xs` (summed in order: the same bits for any thread count).
pub fn interval(xs: &[f64]) -> Interval {
    let n = xs.len();
    if n == 0 {
        return Interval {
            n,
            mean: f64::NAN,
            std: f64::NAN,
            half_width: f64::INFINITY,
        };
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Interval {
            n,
            mean,
            std: 0.0,
            half_width: f64::INFINITY,
        };
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    let std = var.sqrt();
    Interval {
        n,
        mean,
        std,
        half_width: t975(n - 1) * std / (n as f64).sqrt(),
    }
}

/// The paired difference `b − a`, seed by seed (pairs where either is missing are left
/// out).
pub fn paired_difference(a: &[Option<f64>], b: &[Option<f64>]) -> Interval {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some((*y)? - (*x)?))
        .collect();
    interval(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_of_a_known_sample() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample sd sqrt(32/7), t(7) = 2.365.
        let i = interval(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(i.mean, 5.0);
        assert!((i.std - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        let hw = 2.365 * (32.0f64 / 7.0).sqrt() / 8f64.sqrt();
        assert!((i.half_width - hw).abs() < 1e-12);
        assert!(i.excludes_zero());
        assert!(!interval(&[-1.0, 1.0, -2.0, 2.0]).excludes_zero());
    }

    #[test]
    fn one_sample_has_no_interval() {
        let i = interval(&[3.0]);
        assert_eq!(i.mean, 3.0);
        assert!(i.half_width.is_infinite());
        assert!(!i.excludes_zero());
    }

    #[test]
    fn t_quantiles_approach_the_normal() {
        assert_eq!(t975(1), 12.706);
        assert_eq!(t975(30), 2.042);
        // Tabulated: t(40) = 2.021, t(60) = 2.000, t(120) = 1.980.
        assert!((t975(40) - 2.021).abs() < 1e-3, "{}", t975(40));
        assert!((t975(60) - 2.000).abs() < 1e-3, "{}", t975(60));
        assert!((t975(120) - 1.980).abs() < 1e-3, "{}", t975(120));
    }

    #[test]
    fn pairing_cancels_shared_noise() {
        // Seeds share a large common noise; b is 1 higher on every seed.
        let a: Vec<Option<f64>> = [10.0, 30.0, 20.0, 50.0].iter().map(|&x| Some(x)).collect();
        let b: Vec<Option<f64>> = a.iter().map(|x| x.map(|v| v + 1.0)).collect();
        let d = paired_difference(&a, &b);
        assert_eq!(d.mean, 1.0);
        assert_eq!(d.half_width, 0.0);
        // Unpaired, the intervals overlap completely.
        let ia = interval(&a.iter().flatten().copied().collect::<Vec<_>>());
        assert!(ia.half_width > 10.0);
        // A missing value drops its pair.
        let d = paired_difference(&[Some(1.0), None], &[Some(2.0), Some(9.0)]);
        assert_eq!((d.n, d.mean), (1, 1.0));
    }
}
