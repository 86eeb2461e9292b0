//! Running sums of a lightcurve and TraP's variability indices computed from them.
//!
//! skytrap stores sums, not TraP's running averages: an update is then exact and O(1), and
//! TraP's `avg_*` columns are the sums divided by the count.

/// Running sums of one flux quantity (peak or integrated) of one lightcurve in one band.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FluxSums {
    /// Number of measurements, N.
    pub n: i32,
    /// Sum of fluxes, Σ I.
    pub sum_f: f64,
    /// Sum of squared fluxes, Σ I².
    pub sum_f_sq: f64,
    /// Sum of weights, Σ w with w = 1/σ².
    pub sum_w: f64,
    /// Sum of weighted fluxes, Σ w I.
    pub sum_wf: f64,
    /// Sum of weighted squared fluxes, Σ w I².
    pub sum_wf_sq: f64,
}

impl FluxSums {
    /// The sums with one more measurement of flux `f` and 1-sigma error `err`.
    pub fn with(self, f: f64, err: f64) -> FluxSums {
        let w = 1.0 / (err * err);
        FluxSums {
            n: self.n + 1,
            sum_f: self.sum_f + f,
            sum_f_sq: self.sum_f_sq + f * f,
            sum_w: self.sum_w + w,
            sum_wf: self.sum_wf + w * f,
            sum_wf_sq: self.sum_wf_sq + w * f * f,
        }
    }

    /// Mean flux Ī.
    pub fn mean(&self) -> f64 {
        self.sum_f / f64::from(self.n)
    }

    /// TraP's V, the coefficient of variation s/Ī (sample standard deviation).
    /// Guards as in TraP: 0 for one point, a numerator of 0 when the variance is
    /// round-off (< 8e-14), and Ī = 0 replaced by 1e-6.
    pub fn v(&self) -> f64 {
        if self.n <= 1 {
            return 0.0;
        }
        let n = f64::from(self.n);
        let mean = self.sum_f / n;
        let var = self.sum_f_sq / n - mean * mean;
        let numerator = if var.abs() < 8e-14 {
            0.0
        } else {
            (n / (n - 1.0) * var).max(0.0).sqrt()
        };
        let denominator = if mean == 0.0 { 1e-6 } else { mean };
        numerator / denominator
    }

    /// TraP's η, the reduced χ² of the fluxes about their weighted mean:
    /// Σ (I − ξ)²/σ² / (N − 1) = (Σ w I² − (Σ w I)²/Σ w) / (N − 1). 0 for one point;
    /// negative round-off is clamped to 0.
    pub fn eta(&self) -> f64 {
        if self.n <= 1 {
            return 0.0;
        }
        let n = f64::from(self.n);
        ((self.sum_wf_sq - self.sum_wf * self.sum_wf / self.sum_w) / (n - 1.0)).max(0.0)
    }
}

/// Two-epoch variability t-statistic (Mooley et al. 2016): Vs = (S_a − S_b)/√(σ_a² + σ_b²).
pub fn two_epoch_vs(f_a: f64, err_a: f64, f_b: f64, err_b: f64) -> f64 {
    (f_a - f_b) / (err_a * err_a + err_b * err_b).sqrt()
}

/// Two-epoch modulation index (Mooley et al. 2016): m = 2(S_a − S_b)/(S_a + S_b).
pub fn two_epoch_m(f_a: f64, f_b: f64) -> f64 {
    2.0 * (f_a - f_b) / (f_a + f_b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_epoch_metrics_match_hand_values() {
        // 10 ± 0.3 then 13 ± 0.4: Vs = −3/0.5 = −6, m = −6/23.
        assert!((two_epoch_vs(10.0, 0.3, 13.0, 0.4) + 6.0).abs() < 1e-12);
        assert!((two_epoch_m(10.0, 13.0) + 6.0 / 23.0).abs() < 1e-15);
    }

    fn sums(points: &[(f64, f64)]) -> FluxSums {
        points
            .iter()
            .fold(FluxSums::default(), |s, &(f, e)| s.with(f, e))
    }

    #[test]
    fn one_point_has_no_variability() {
        let s = sums(&[(1.0, 0.1)]);
        assert_eq!((s.v(), s.eta()), (0.0, 0.0));
    }

    #[test]
    fn v_and_eta_match_hand_worked_lightcurve() {
        // Fluxes 1, 2, 3 with errors 0.1, 0.1, 0.2.
        // Mean 2, sample sd 1 → V = 0.5.
        // Weights 100, 100, 25: ξ = (100 + 200 + 75)/225 = 5/3;
        // Σ w (I − ξ)² = 100·(4/9) + 100·(1/9) + 25·(16/9) = 900/9 = 100; η = 100/2 = 50.
        let s = sums(&[(1.0, 0.1), (2.0, 0.1), (3.0, 0.2)]);
        assert!((s.v() - 0.5).abs() < 1e-12);
        assert!((s.eta() - 50.0).abs() < 1e-9);
        assert!((s.mean() - 2.0).abs() < 1e-15);
    }

    #[test]
    fn constant_lightcurve_is_not_variable() {
        let s = sums(&[(0.3, 0.01); 40]);
        assert_eq!(s.v(), 0.0);
        assert!(s.eta() < 1e-9);
    }

    #[test]
    fn zero_mean_uses_trap_guard() {
        // Mean 0, sample sd sqrt(2): V = sqrt(2)/1e-6.
        let s = sums(&[(-1.0, 1.0), (1.0, 1.0)]);
        assert!((s.v() - 2f64.sqrt() / 1e-6).abs() < 1e-3);
    }
}
