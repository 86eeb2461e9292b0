//! `--force-beam`: the Gaussian's shape fixed to the restoring beam, only the peak and the
//! position fitted (PySE's `force_beam`, TraP's job_params default). Used for surveys of
//! point sources, where a free shape only adds noise to the peak.

use crate::extract::measure::{
    condon_errors, goodness_of_fit, max_pixel_estimate, moments_errors, too_thin, Beam, Gaussian,
    Measurement,
};
use std::f64::consts::LN_2;

/// Measures an island of (x, y, value) pixels with the beam's shape: peak and position by
/// least squares (Levenberg–Marquardt) from PySE's estimate (the brightest pixel ×
/// `fudge_max_pix` at the barycentre), with Condon's errors. As in PySE, an island at most
/// two pixels wide is not fitted, and it or a failed fit keeps that estimate with the
/// moments' errors. The axes and angle are the beam's and carry no error.
pub fn measure(
    pixels: &[(usize, usize, f32)],
    rms: f64,
    threshold: f64,
    beam: &Beam,
) -> Measurement {
    let estimate = max_pixel_estimate(pixels, beam);
    let fitted = if too_thin(pixels) {
        None
    } else {
        fit(pixels, [estimate.peak, estimate.x, estimate.y], beam)
    };
    let mut m = match fitted {
        Some([peak, x, y]) => {
            let g = Gaussian {
                peak,
                x,
                y,
                ..estimate
            };
            let mut m = condon_errors(g, rms, beam);
            (m.chisq, m.reduced_chisq) = goodness_of_fit(pixels, &g, rms, beam);
            m
        }
        None => moments_errors(pixels, estimate, rms, threshold, beam),
    };
    m.smaj_err = 0.0;
    m.smin_err = 0.0;
    m.theta_err = 0.0;
    m
}

/// The model's value and its derivatives by (peak, x, y) at a pixel.
fn model(p: [f64; 3], beam: &Beam, px: f64, py: f64) -> (f64, [f64; 3]) {
    let (s, c) = beam.theta.sin_cos();
    let (dx, dy) = (px - p[1], py - p[2]);
    let u = c * dx + s * dy;
    let v = c * dy - s * dx;
    let (a2, b2) = (beam.smaj * beam.smaj, beam.smin * beam.smin);
    let e = (-LN_2 * (u * u / b2 + v * v / a2)).exp();
    let g = p[0] * e;
    // d(q)/d(x0) = −2u·c/b² + 2v·s/a²; d(q)/d(y0) = −2u·s/b² − 2v·c/a².
    let k = -LN_2 * g;
    (
        g,
        [
            e,
            k * (-2.0 * u * c / b2 + 2.0 * v * s / a2),
            k * (-2.0 * u * s / b2 - 2.0 * v * c / a2),
        ],
    )
}

fn fit(pixels: &[(usize, usize, f32)], guess: [f64; 3], beam: &Beam) -> Option<[f64; 3]> {
    if pixels.len() < 3 {
        return None;
    }
    let chisq = |p: [f64; 3]| -> f64 {
        pixels
            .iter()
            .map(|&(x, y, v)| (f64::from(v) - model(p, beam, x as f64, y as f64).0).powi(2))
            .sum()
    };
    let (mut p, mut current, mut lambda) = (guess, chisq(guess), 1e-3);
    for _ in 0..200 {
        let mut jtj = [[0.0; 3]; 3];
        let mut jtr = [0.0; 3];
        for &(x, y, v) in pixels {
            let (g, grad) = model(p, beam, x as f64, y as f64);
            let r = f64::from(v) - g;
            for i in 0..3 {
                jtr[i] += grad[i] * r;
                for j in 0..3 {
                    jtj[i][j] += grad[i] * grad[j];
                }
            }
        }
        let mut improved = false;
        while lambda < 1e12 {
            let mut a = jtj;
            for (i, row) in a.iter_mut().enumerate() {
                row[i] += lambda * jtj[i][i].max(1e-300);
            }
            let Some(step) = solve3(a, jtr) else {
                lambda *= 10.0;
                continue;
            };
            let candidate = [p[0] + step[0], p[1] + step[1], p[2] + step[2]];
            let next = chisq(candidate);
            if next.is_finite() && next <= current {
                let converged = current - next <= 1e-12 * current.max(1e-300);
                p = candidate;
                current = next;
                lambda = (lambda / 10.0).max(1e-12);
                improved = true;
                if converged {
                    return Some(p);
                }
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    Some(p).filter(|p| p.iter().all(|v| v.is_finite()))
}

/// Cramer's rule for a 3×3 system.
fn solve3(a: [[f64; 3]; 3], b: [f64; 3]) -> Option<[f64; 3]> {
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(a);
    if !(d.abs() > 1e-300 && d.is_finite()) {
        return None;
    }
    let mut x = [0.0; 3];
    for (k, xk) in x.iter_mut().enumerate() {
        let mut m = a;
        for (row, bi) in m.iter_mut().zip(b) {
            row[k] = bi;
        }
        *xk = det(m) / d;
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::measure::tests::{island, BEAM};

    #[test]
    fn a_point_source_is_recovered_exactly() {
        let truth = Gaussian {
            peak: 0.8,
            x: 31.3,
            y: 30.7,
            smaj: BEAM.smaj,
            smin: BEAM.smin,
            theta: BEAM.theta,
        };
        let m = measure(&island(&truth, 0.03), 0.01, 0.03, &BEAM);
        assert!(m.fitted);
        let g = m.gaussian;
        assert!((g.peak - 0.8).abs() < 1e-6, "{g:?}");
        assert!(
            (g.x - 31.3).abs() < 1e-5 && (g.y - 30.7).abs() < 1e-5,
            "{g:?}"
        );
        // The shape is the beam's, and the integrated flux the peak.
        assert_eq!(
            (g.smaj, g.smin, g.theta),
            (BEAM.smaj, BEAM.smin, BEAM.theta)
        );
        assert!((m.flux - 0.8).abs() < 1e-6);
        // Condon's peak error for the beam's shape is the noise (measure.rs's worked case).
        assert!((m.peak_err - 0.01).abs() < 1e-9);
        assert_eq!((m.smaj_err, m.smin_err, m.theta_err), (0.0, 0.0, 0.0));
    }

    #[test]
    fn an_extended_source_keeps_the_beams_shape() {
        // Twice the beam's size along both axes: a free fit would give 6 x 4; with the
        // shape forced, the position stays exact (symmetry) and the peak, fitted over the
        // island, rises above the true 1.0 towards the summed-up flux.
        let truth = Gaussian {
            peak: 1.0,
            x: 30.0,
            y: 32.0,
            smaj: 6.0,
            smin: 4.0,
            theta: BEAM.theta,
        };
        let m = measure(&island(&truth, 0.05), 0.01, 0.05, &BEAM);
        let g = m.gaussian;
        assert_eq!((g.smaj, g.smin), (BEAM.smaj, BEAM.smin));
        assert!(
            (g.x - 30.0).abs() < 1e-6 && (g.y - 32.0).abs() < 1e-6,
            "{g:?}"
        );
        assert!(g.peak > 1.0, "{g:?}");
        assert!((m.flux - g.peak).abs() < 1e-12 * g.peak);
    }
}
