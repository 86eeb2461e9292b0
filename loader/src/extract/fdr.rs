//! The False Detection Rate threshold (Hopkins et al. 2002, AJ 123, 1086) as PySE's
//! `fd_extract` computes it: the threshold, in sigma, below which at most a fraction
//! `alpha` of the pixels above it are expected to be noise, with PySE's correction for
//! noise correlated over a beam.

use crate::extract::measure::Beam;
use std::f64::consts::PI;

/// PySE's correlation correction C_n = Σ_{k=1}^{K} 1/k, K = round(π/4·θ_B·θ_b + 1) − 1, with
/// the correlation lengths θ_B, θ_b the beam's full widths in pixels.
pub fn correlation_correction(beam: &Beam) -> f64 {
    let (long, short) = (2.0 * beam.smaj, 2.0 * beam.smin);
    let k = (0.25 * PI * long * short + 1.0).round() as usize;
    (1..k.max(2)).map(|i| 1.0 / i as f64).sum()
}

/// The FDR threshold in sigma for the signal-to-noise values `z` of the usable pixels, or
/// None if no pixel passes (nothing is detected). With p = exp(−z²/2)/√(2π) sorted
/// ascending over the N pixels, the last i (1-based) with p_(i) < (α/C_n)·i/N gives the
/// threshold sqrt(−2 ln(√(2π)·p_(i))).
pub fn threshold(z: impl Iterator<Item = f64>, beam: &Beam, alpha: f64) -> Option<f64> {
    let norm = (2.0 * PI).sqrt();
    // The density is monotonic in |z|: sort by |z| descending instead, and keep the
    // density's own value only for the comparison.
    let mut p: Vec<f64> = z
        .filter(|v| v.is_finite())
        .map(|v| (-0.5 * v * v).exp() / norm)
        .collect();
    p.sort_by(f64::total_cmp);
    let n = p.len() as f64;
    let slope = alpha / correlation_correction(beam) / n;
    let last = p
        .iter()
        .enumerate()
        .rev()
        .find(|&(i, &pi)| pi < slope * (i + 1) as f64)?;
    Some((-2.0 * (norm * last.1).ln()).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beam(s: f64) -> Beam {
        Beam {
            smaj: s,
            smin: s,
            theta: 0.0,
        }
    }

    #[test]
    fn correlation_correction_by_hand() {
        // Full width 1 px: π/4 + 1 = 1.79 rounds to 2: K = 1, C = 1.
        assert_eq!(correlation_correction(&beam(0.5)), 1.0);
        // Full width 2 px: π + 1 = 4.14 rounds to 4: K = 3, C = 1 + 1/2 + 1/3.
        assert!((correlation_correction(&beam(1.0)) - 11.0 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn threshold_worked_by_hand() {
        // 100 pixels: 97 at z = 0 and one each at 5, 4 and 1. Densities sorted: 1.487e-6
        // (z 5), 1.338e-4 (z 4), 0.242 (z 1), 0.399 x 97. With α = 0.01, C = 1 the line
        // is 1e-4·i: 1.487e-6 < 1e-4 and 1.338e-4 < 2e-4 but 0.242 > 3e-4, so the last
        // undercrossing is z = 4, and the threshold is 4.
        let z = || std::iter::repeat_n(0.0, 97).chain([5.0, 4.0, 1.0]);
        let t = threshold(z(), &beam(0.5), 0.01).unwrap();
        assert!((t - 4.0).abs() < 1e-12, "{t}");
        // With C = 11/6 the line at i = 2 is 2e-4/1.833 = 1.09e-4 < 1.338e-4: only z = 5
        // passes.
        let t = threshold(z(), &beam(1.0), 0.01).unwrap();
        assert!((t - 5.0).abs() < 1e-12, "{t}");
        // Nothing significant: no threshold, no detections.
        assert!(threshold(std::iter::repeat_n(0.5, 100), &beam(0.5), 0.01).is_none());
        // Negative excursions count as well as positive ones (the density is even).
        let t = threshold(
            std::iter::repeat_n(0.0, 97).chain([-5.0, 4.0, 1.0]),
            &beam(0.5),
            0.01,
        );
        assert!((t.unwrap() - 4.0).abs() < 1e-12);
    }
}
