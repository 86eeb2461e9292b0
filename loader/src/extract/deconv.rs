//! The intrinsic shape of a source: its fitted Gaussian with the restoring beam
//! deconvolved, by AIPS's DECONV algorithm as PySE runs it (`sourcefinder/deconv.py`).

/// A deconvolved shape: semi-axes in the units given, position angle in degrees in the
/// frame of the angles given, and how many of the two axes could not be deconvolved (the
/// source is no larger than the beam along them; such an axis is 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Deconvolved {
    pub smaj: f64,
    pub smin: f64,
    pub pa: f64,
    pub impossible: u8,
}

/// Deconvolves the beam (`bmaj`, `bmin`, `bpa`) from the fitted shape (`fmaj`, `fmin`,
/// `fpa`): axes in any one unit, angles in degrees. The covariance of the source is that
/// of the fit less that of the beam; DECONV writes that difference in closed form.
pub fn deconvolve(fmaj: f64, fmin: f64, fpa: f64, bmaj: f64, bmin: f64, bpa: f64) -> Deconvolved {
    let (f_sum, f_diff) = (fmaj * fmaj + fmin * fmin, fmaj * fmaj - fmin * fmin);
    let (b_sum, b_diff) = (bmaj * bmaj + bmin * bmin, bmaj * bmaj - bmin * bmin);
    // Twice the angle between the fit and the beam, radians.
    let two_theta = 2.0 * (fpa - bpa).to_radians();
    let half_trace = (f_sum - b_sum) / 2.0;
    let rhoc = f_diff * two_theta.cos() - b_diff;
    let (mut sigic2, mut rhoa) = (0.0, 0.0);
    if rhoc.abs() > 0.0 {
        sigic2 = (f_diff * two_theta.sin() / rhoc).atan();
        rhoa = (b_diff - f_diff * two_theta.cos()) / (2.0 * sigic2.cos());
    }
    let mut pa = sigic2.to_degrees() / 2.0 + bpa;
    let (mut maj2, mut min2) = (half_trace - rhoa, half_trace + rhoa);
    let mut impossible = 0;
    if maj2 < 0.0 {
        impossible += 1;
        maj2 = 0.0;
    }
    if min2 < 0.0 {
        impossible += 1;
        min2 = 0.0;
    }
    let (mut smaj, mut smin) = (maj2.sqrt(), min2.sqrt());
    if smaj < smin {
        std::mem::swap(&mut smaj, &mut smin);
        pa += 90.0;
    }
    pa = (pa + 900.0).rem_euclid(180.0);
    if smaj == 0.0 {
        pa = 0.0;
    } else if smin == 0.0 && (pa - fpa).abs() > 45.0 && (pa - fpa).abs() < 135.0 {
        pa = (pa + 450.0).rem_euclid(180.0);
    }
    Deconvolved {
        smaj,
        smin,
        pa,
        impossible,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The source covariance by matrix arithmetic, independently of DECONV's closed form:
    /// Σ(a, b, φ) = R diag(a², b²) Rᵀ with φ measured as the position angle; the
    /// deconvolved shape is the eigen-decomposition of Σ_fit − Σ_beam.
    fn by_matrices(f: (f64, f64, f64), b: (f64, f64, f64)) -> (f64, f64, f64) {
        let cov = |(a, bb, phi): (f64, f64, f64)| {
            let (s, c) = phi.to_radians().sin_cos();
            // Major axis along (−sin φ, cos φ) (θ from +y towards −x), minor along (c, s).
            let (mx, my, nx, ny) = (-s, c, c, s);
            [
                a * a * mx * mx + bb * bb * nx * nx,
                a * a * mx * my + bb * bb * nx * ny,
                a * a * my * my + bb * bb * ny * ny,
            ]
        };
        let (fc, bc) = (cov(f), cov(b));
        let (xx, xy, yy) = (fc[0] - bc[0], fc[1] - bc[1], fc[2] - bc[2]);
        let mean = (xx + yy) / 2.0;
        let d = (((xx - yy) / 2.0).powi(2) + xy * xy).sqrt();
        let (l1, l2) = (mean + d, mean - d);
        // Eigenvector of l1: (xy, l1 − xx); its angle from +y towards −x.
        let (vx, vy) = (xy, l1 - xx);
        let pa = (-vx).atan2(vy).to_degrees().rem_euclid(180.0);
        (l1.sqrt(), l2.max(0.0).sqrt(), pa)
    }

    #[test]
    fn worked_cases() {
        // Circular: sqrt(2.5^2 - 2^2) = 1.5 along both axes.
        let d = deconvolve(2.5, 2.5, 0.0, 2.0, 2.0, 0.0);
        assert!(
            (d.smaj - 1.5).abs() < 1e-12 && (d.smin - 1.5).abs() < 1e-12,
            "{d:?}"
        );
        assert_eq!(d.impossible, 0);
        // Aligned ellipses: sqrt(25 - 9) = 4, sqrt(9 - 4) = sqrt(5), PA kept.
        let d = deconvolve(5.0, 3.0, 30.0, 3.0, 2.0, 30.0);
        assert!((d.smaj - 4.0).abs() < 1e-12 && (d.smin - 5f64.sqrt()).abs() < 1e-12);
        assert!((d.pa - 30.0).abs() < 1e-9, "{d:?}");
        // A point source (the beam's own shape): exactly nothing left, which is not
        // "impossible" (nothing negative).
        let d = deconvolve(3.0, 2.0, 30.0, 3.0, 2.0, 30.0);
        assert_eq!((d.smaj, d.smin, d.pa, d.impossible), (0.0, 0.0, 0.0, 0));
        // Smaller than the beam: both impossible.
        let d = deconvolve(1.5, 1.0, 10.0, 3.0, 2.0, 30.0);
        assert_eq!((d.smaj, d.smin, d.pa, d.impossible), (0.0, 0.0, 0.0, 2));
        // Narrower than the beam across, longer along: one impossible, minor axis 0.
        let d = deconvolve(5.0, 1.5, 0.0, 2.0, 2.0, 0.0);
        assert_eq!(d.impossible, 1);
        assert!((d.smaj - 21f64.sqrt()).abs() < 1e-12 && d.smin == 0.0 && d.pa.abs() < 1e-9);
    }

    #[test]
    fn rotated_cases_agree_with_matrix_arithmetic() {
        for &(f, b) in &[
            ((5.0, 3.0, 70.0), (3.0, 2.0, 20.0)),
            ((6.0, 4.5, -40.0), (3.0, 2.5, 110.0)),
            ((4.0, 3.9, 5.0), (2.0, 1.0, 95.0)),
            ((8.0, 2.5, 160.0), (2.2, 2.0, 10.0)),
        ] {
            let d = deconvolve(f.0, f.1, f.2, b.0, b.1, b.2);
            let (smaj, smin, pa) = by_matrices(f, b);
            assert_eq!(d.impossible, 0, "{f:?} {b:?}");
            assert!((d.smaj - smaj).abs() < 1e-9, "{f:?} {b:?}: {d:?} vs {smaj}");
            assert!((d.smin - smin).abs() < 1e-9, "{f:?} {b:?}: {d:?} vs {smin}");
            let dpa = (d.pa - pa).rem_euclid(180.0);
            assert!(dpa.min(180.0 - dpa) < 1e-7, "{f:?} {b:?}: {d:?} vs {pa}");
        }
    }
}
