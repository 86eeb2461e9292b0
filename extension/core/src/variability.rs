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

    /// TraP's V, the coefficient of variation s/|Ī| (sample standard deviation): 0 for one
    /// point, and Ī = 0 replaced by 1e-6, as in TraP. Two guards differ from TraP's: the
    /// variance counts as round-off (V = 0) below 1e-9 of the mean square, not below
    /// 8e-14 Jy², which zeroed V for every source fainter than about a mJy (30 µJy at S/N
    /// 100: 0 instead of 0.008); and the mean is taken by size, so that a lightcurve of
    /// negative mean flux (forced fits on noise) is not less variable than a steady one.
    pub fn v(&self) -> f64 {
        if self.n <= 1 {
            return 0.0;
        }
        let n = f64::from(self.n);
        let mean = self.sum_f / n;
        let mean_sq = self.sum_f_sq / n;
        let var = mean_sq - mean * mean;
        let numerator = if var.abs() <= 1e-9 * mean_sq {
            0.0
        } else {
            (n / (n - 1.0) * var).max(0.0).sqrt()
        };
        let denominator = if mean == 0.0 { 1e-6 } else { mean.abs() };
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

impl FluxSums {
    /// The sums of two disjoint sets of measurements together.
    pub fn combine(self, other: FluxSums) -> FluxSums {
        FluxSums {
            n: self.n + other.n,
            sum_f: self.sum_f + other.sum_f,
            sum_f_sq: self.sum_f_sq + other.sum_f_sq,
            sum_w: self.sum_w + other.sum_w,
            sum_wf: self.sum_wf + other.sum_wf,
            sum_wf_sq: self.sum_wf_sq + other.sum_wf_sq,
        }
    }

    /// The inverse-variance weighted mean flux ξ = Σ w I / Σ w.
    pub fn weighted_mean(&self) -> f64 {
        self.sum_wf / self.sum_w
    }
}

/// Statistics of any set of (flux, error) measurements that can be computed in parts
/// and combined: the state of the `skytrap.lightcurve_stats` aggregate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LightcurveStats {
    pub sums: FluxSums,
    pub max: f64,
    pub min: f64,
}

impl Default for LightcurveStats {
    fn default() -> Self {
        LightcurveStats {
            sums: FluxSums::default(),
            max: f64::NEG_INFINITY,
            min: f64::INFINITY,
        }
    }
}

impl LightcurveStats {
    /// Length of the flat form, [n, Σf, Σf², Σw, Σwf, Σwf², max, min].
    pub const LEN: usize = 8;

    pub fn with(self, f: f64, err: f64) -> LightcurveStats {
        LightcurveStats {
            sums: self.sums.with(f, err),
            max: self.max.max(f),
            min: self.min.min(f),
        }
    }

    pub fn combine(self, other: LightcurveStats) -> LightcurveStats {
        LightcurveStats {
            sums: self.sums.combine(other.sums),
            max: self.max.max(other.max),
            min: self.min.min(other.min),
        }
    }

    /// The flat form PostgreSQL keeps between rows (a float8[]).
    pub fn to_array(&self) -> [f64; Self::LEN] {
        let s = &self.sums;
        [
            f64::from(s.n),
            s.sum_f,
            s.sum_f_sq,
            s.sum_w,
            s.sum_wf,
            s.sum_wf_sq,
            self.max,
            self.min,
        ]
    }

    /// Reads the flat form; anything of the wrong length is the empty state.
    pub fn from_array(a: &[f64]) -> LightcurveStats {
        let [n, sum_f, sum_f_sq, sum_w, sum_wf, sum_wf_sq, max, min] = a else {
            return LightcurveStats::default();
        };
        LightcurveStats {
            sums: FluxSums {
                n: *n as i32,
                sum_f: *sum_f,
                sum_f_sq: *sum_f_sq,
                sum_w: *sum_w,
                sum_wf: *sum_wf,
                sum_wf_sq: *sum_wf_sq,
            },
            max: *max,
            min: *min,
        }
    }
}

/// The median, averaging the two middle values of an even count (TraP's median
/// aggregate, and the statistic of the background boxes and image QC); NaN for no values.
/// Reorders `values`, in linear time (no full sort: a background box holds thousands).
pub fn median(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let (below, &mut upper, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        upper
    } else {
        let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

/// VAST's summary of a lightcurve's two-epoch metrics: of the pairs of measurements with
/// |Vs| at or above a threshold, the one with the largest |m|, as (|Vs|, |m|); both 0 when
/// no pair is significant.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SignificantPair {
    pub vs_abs: f64,
    pub m_abs: f64,
}

impl SignificantPair {
    /// The summary after pairing the measurement (f, err) with each of `others`. Adding
    /// every new point this way keeps the summary of all pairs without revisiting them.
    pub fn with_pairs(
        self,
        (f, err): (f64, f64),
        others: impl IntoIterator<Item = (f64, f64)>,
        min_abs_vs: f64,
    ) -> SignificantPair {
        let mut best = self;
        for (g, g_err) in others {
            let vs_abs = two_epoch_vs(f, err, g, g_err).abs();
            let m_abs = two_epoch_m(f, g).abs();
            if vs_abs >= min_abs_vs && m_abs > best.m_abs {
                best = SignificantPair { vs_abs, m_abs };
            }
        }
        best
    }

    /// The summary of every pair of `points`, given as (flux, error): each point paired
    /// with those before it. What association once kept point by point (each new point
    /// paired with every stored one, O(n) per point) is worked out on read (O(n²) per
    /// lightcurve) by the `varmetric` view.
    pub fn of(points: &[(f64, f64)], min_abs_vs: f64) -> SignificantPair {
        points
            .iter()
            .enumerate()
            .fold(SignificantPair::default(), |best, (i, &p)| {
                best.with_pairs(p, points[..i].iter().copied(), min_abs_vs)
            })
    }
}

/// Two-epoch variability t-statistic (Mooley et al. 2016): Vs = (S_a − S_b)/√(σ_a² + σ_b²).
/// NaN unless both fluxes are finite and both errors finite and not negative (as for
/// `lightcurve_stats`, anything else is not a measurement); 0 for equal fluxes, ±infinite
/// for different fluxes with both errors 0.
pub fn two_epoch_vs(f_a: f64, err_a: f64, f_b: f64, err_b: f64) -> f64 {
    let error = |e: f64| e.is_finite() && e >= 0.0;
    if !(f_a.is_finite() && f_b.is_finite() && error(err_a) && error(err_b)) {
        return f64::NAN;
    }
    if f_a == f_b {
        return 0.0;
    }
    (f_a - f_b) / (err_a * err_a + err_b * err_b).sqrt()
}

/// Two-epoch modulation index (Mooley et al. 2016): m = 2(S_a − S_b)/(S_a + S_b).
/// NaN unless both fluxes are finite; 0 for equal fluxes (0 and 0 included), ±infinite for
/// S_a = −S_b ≠ 0.
pub fn two_epoch_m(f_a: f64, f_b: f64) -> f64 {
    if !(f_a.is_finite() && f_b.is_finite()) {
        return f64::NAN;
    }
    if f_a == f_b {
        return 0.0;
    }
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

    #[test]
    fn two_epoch_metrics_edge_cases() {
        assert_eq!(two_epoch_vs(1.0, 0.0, 1.0, 0.0), 0.0);
        assert_eq!(two_epoch_vs(2.0, 0.0, 1.0, 0.0), f64::INFINITY);
        assert!(two_epoch_vs(2.0, -0.1, 1.0, 0.1).is_nan());
        assert!(two_epoch_vs(f64::NAN, 0.1, 1.0, 0.1).is_nan());
        assert!(two_epoch_vs(f64::INFINITY, 0.1, 1.0, 0.1).is_nan());
        assert!(two_epoch_vs(2.0, f64::INFINITY, 1.0, 0.1).is_nan());
        assert!(two_epoch_m(f64::INFINITY, 1.0).is_nan());
        assert_eq!(two_epoch_m(0.0, 0.0), 0.0);
        assert_eq!(two_epoch_m(1.0, -1.0), f64::INFINITY);
        assert!(two_epoch_m(f64::NAN, 1.0).is_nan());
    }

    fn sums(points: &[(f64, f64)]) -> FluxSums {
        points
            .iter()
            .fold(FluxSums::default(), |s, &(f, e)| s.with(f, e))
    }

    #[test]
    fn stats_combine_like_one_pass() {
        let points = [(1.0, 0.1), (2.0, 0.1), (3.0, 0.2), (0.5, 0.3)];
        let all = points
            .iter()
            .fold(LightcurveStats::default(), |s, &(f, e)| s.with(f, e));
        let (a, b) = points.split_at(1);
        let part = |p: &[(f64, f64)]| {
            p.iter()
                .fold(LightcurveStats::default(), |s, &(f, e)| s.with(f, e))
        };
        let combined = part(a).combine(part(b));
        assert_eq!(combined.sums.n, 4);
        assert_eq!((combined.max, combined.min), (3.0, 0.5));
        assert!((combined.sums.eta() - all.sums.eta()).abs() < 1e-9);
        assert_eq!(LightcurveStats::from_array(&all.to_array()), all);
        // ξ = (100 + 200 + 75 + 0.5/0.09) / (225 + 1/0.09), worked by hand.
        let xi = (375.0 + 0.5 / 0.09) / (225.0 + 1.0 / 0.09);
        assert!((all.sums.weighted_mean() - xi).abs() < 1e-12);
    }

    #[test]
    fn median_averages_the_middle_pair() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn significant_pair_keeps_the_largest_modulation() {
        // Against 10 ± 0.3: 13 ± 0.4 gives |Vs| = 6, |m| = 6/23; 10.5 ± 0.4 gives
        // |Vs| = 1 (not significant at 4.3) although |m| = 1/20.5.
        let p = SignificantPair::default().with_pairs((10.0, 0.3), [(10.5, 0.4)], 4.3);
        assert_eq!(p, SignificantPair::default());
        let p = p.with_pairs((10.0, 0.3), [(13.0, 0.4), (10.5, 0.4)], 4.3);
        assert!((p.vs_abs - 6.0).abs() < 1e-12 && (p.m_abs - 6.0 / 23.0).abs() < 1e-15);
        // 30 ± 0.4 against 10 ± 0.3: |m| = 1 is larger, and replaces it.
        let p = p.with_pairs((30.0, 0.4), [(10.0, 0.3)], 4.3);
        assert!((p.m_abs - 1.0).abs() < 1e-15 && (p.vs_abs - 40.0).abs() < 1e-12);
    }

    #[test]
    fn every_pair_of_a_lightcurve_is_summarised() {
        // 1, 3, 2 ± 0.1: pairs 1–3 (|Vs| √200, |m| 1), 1–2 (√50, 2/3), 3–2 (√50, 2/5);
        // at 4.3 all are significant and 1–3 has the largest |m|; at 10 only 1–3 is.
        let points = [(1.0, 0.1), (3.0, 0.1), (2.0, 0.1)];
        for min_abs_vs in [4.3, 10.0] {
            let p = SignificantPair::of(&points, min_abs_vs);
            assert!((p.vs_abs - 200f64.sqrt()).abs() < 1e-12 && (p.m_abs - 1.0).abs() < 1e-15);
        }
        // Above every pair's |Vs|: none.
        assert_eq!(
            SignificantPair::of(&points, 20.0),
            SignificantPair::default()
        );
        assert_eq!(SignificantPair::of(&[], 4.3), SignificantPair::default());
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
    fn faint_sources_keep_their_variability() {
        // 30 µJy ± 0.3 µJy (S/N 100), alternating 29.76 and 30.24 µJy: mean 30 µJy, sample
        // sd 0.24·√(4/3) µJy, V = 0.008·√(4/3) = 0.00924 (TraP's 8e-14 Jy² guard gives 0).
        let s = sums(&[
            (29.76e-6, 0.3e-6),
            (30.24e-6, 0.3e-6),
            (29.76e-6, 0.3e-6),
            (30.24e-6, 0.3e-6),
        ]);
        assert!(
            (s.v() - 0.008 * (4.0f64 / 3.0).sqrt()).abs() < 1e-9,
            "{}",
            s.v()
        );
        // The same lightcurve in Jy·1e6 (µJy): V does not depend on the unit.
        let t = sums(&[(29.76, 0.3), (30.24, 0.3), (29.76, 0.3), (30.24, 0.3)]);
        assert!((s.v() - t.v()).abs() < 1e-9);
    }

    #[test]
    fn a_negative_mean_gives_a_positive_v() {
        // Forced fits on noise: fluxes −1, −3 mean −2, sample sd √2, V = √2/2.
        let s = sums(&[(-1.0, 1.0), (-3.0, 1.0)]);
        assert!((s.v() - 2f64.sqrt() / 2.0).abs() < 1e-12, "{}", s.v());
    }

    #[test]
    fn zero_mean_uses_trap_guard() {
        // Mean 0, sample sd sqrt(2): V = sqrt(2)/1e-6.
        let s = sums(&[(-1.0, 1.0), (1.0, 1.0)]);
        assert!((s.v() - 2f64.sqrt() / 1e-6).abs() < 1e-3);
    }
}
