//! Measuring one island: moments for a first guess, then an elliptical Gaussian fitted by
//! Levenberg–Marquardt, with Condon (1997) errors as PySE computes them.
//!
//! Pixel-frame conventions follow PySE: axes are half widths at half maximum (HWHM) in
//! pixels and θ is measured from +y towards −x, so with north up and east left θ is the
//! position angle east of north.

use std::f64::consts::{LN_2, PI};

/// The restoring beam in the pixel frame: HWHM semi-axes (pixels) and θ (radians).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Beam {
    pub smaj: f64,
    pub smin: f64,
    pub theta: f64,
}

/// An elliptical Gaussian in the pixel frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gaussian {
    pub peak: f64,
    pub x: f64,
    pub y: f64,
    pub smaj: f64,
    pub smin: f64,
    pub theta: f64,
}

impl Gaussian {
    fn as_array(&self) -> [f64; 6] {
        [self.peak, self.x, self.y, self.smaj, self.smin, self.theta]
    }

    fn from_array(p: [f64; 6]) -> Gaussian {
        Gaussian {
            peak: p[0],
            x: p[1],
            y: p[2],
            smaj: p[3],
            smin: p[4],
            theta: p[5],
        }
    }

    /// Value at a pixel and its derivatives by (peak, x, y, smaj, smin, θ).
    fn value_and_gradient(&self, px: f64, py: f64) -> (f64, [f64; 6]) {
        let (s, c) = self.theta.sin_cos();
        let (dx, dy) = (px - self.x, py - self.y);
        let u = c * dx + s * dy; // along the minor axis
        let v = c * dy - s * dx; // along the major axis
        let (a2, b2) = (self.smaj * self.smaj, self.smin * self.smin);
        let q = u * u / b2 + v * v / a2;
        let g = self.peak * (-LN_2 * q).exp();
        let k = -LN_2 * g;
        let grad = [
            g / self.peak,
            k * (-2.0 * u * c / b2 + 2.0 * v * s / a2),
            k * (-2.0 * u * s / b2 - 2.0 * v * c / a2),
            k * (-2.0 * v * v / (a2 * self.smaj)),
            k * (-2.0 * u * u / (b2 * self.smin)),
            k * (2.0 * u * v * (1.0 / b2 - 1.0 / a2)),
        ];
        (g, grad)
    }

    pub fn value(&self, px: f64, py: f64) -> f64 {
        self.value_and_gradient(px, py).0
    }

    /// Integrated flux in units of the beam: peak × (source area / beam area).
    pub fn flux(&self, beam: &Beam) -> f64 {
        self.peak * self.smaj * self.smin / (beam.smaj * beam.smin)
    }

    /// Puts the larger axis first with θ in (−π/2, π/2].
    fn canonical(mut self) -> Gaussian {
        self.smaj = self.smaj.abs();
        self.smin = self.smin.abs();
        if self.smin > self.smaj {
            std::mem::swap(&mut self.smaj, &mut self.smin);
            self.theta += PI / 2.0;
        }
        self.theta = (self.theta + PI / 2.0).rem_euclid(PI) - PI / 2.0;
        self
    }
}

/// A measured source with 1-sigma errors, all in the pixel frame.
#[derive(Clone, Copy, Debug)]
pub struct Measurement {
    pub gaussian: Gaussian,
    pub peak_err: f64,
    /// The position's 1-sigma errors along the major and minor axes (pixels).
    pub position_err: (f64, f64),
    pub smaj_err: f64,
    pub smin_err: f64,
    pub theta_err: f64,
    pub flux: f64,
    pub flux_err: f64,
    pub chisq: f64,
    pub reduced_chisq: f64,
    /// true: Gaussian fit; false: moments only.
    pub fitted: bool,
}

/// Measures an island of (x, y, value) pixels with noise `rms` at its peak; `threshold`
/// is the analysis threshold in Jy/beam that cut the island out.
pub fn measure(
    pixels: &[(usize, usize, f32)],
    rms: f64,
    threshold: f64,
    beam: &Beam,
) -> Measurement {
    // PySE neither fits nor takes the moments of an island at most two pixels wide.
    if too_thin(pixels) {
        return moments_errors(
            pixels,
            max_pixel_estimate(pixels, beam),
            rms,
            threshold,
            beam,
        );
    }
    let moments = moments(pixels, threshold, beam);
    // PySE bounds the fit by the moments (`ParamSet.compute_bounds`): peak and axes within
    // 0.5–1.5 times the moments' values, the position inside the island's bounding box,
    // so that a source that is not a Gaussian (extended emission) cannot run away.
    let (xs, ys) = bounds(pixels);
    let limits = [
        (0.5 * moments.peak, 1.5 * moments.peak),
        (xs.0, xs.1 + 1.0),
        (ys.0, ys.1 + 1.0),
        (0.5 * moments.smaj, 1.5 * moments.smaj),
        (0.5 * moments.smin, 1.5 * moments.smin),
        (f64::NEG_INFINITY, f64::INFINITY),
    ];
    let fit = fit_within(pixels, moments, &limits).filter(|g| {
        // A fit that ran off the island or collapsed is worse than the moments.
        g.peak > 0.0
            && g.x >= xs.0 - 1.0
            && g.x <= xs.1 + 1.0
            && g.y >= ys.0 - 1.0
            && g.y <= ys.1 + 1.0
            && g.smin > 0.1
            && g.smaj < 10.0 * (xs.1 - xs.0 + ys.1 - ys.0 + 2.0)
    });
    // A failed fit keeps the moments, with the moments' errors (as PySE does).
    let Some(gaussian) = fit else {
        return moments_errors(pixels, moments, rms, threshold, beam);
    };
    let mut m = condon_errors(gaussian, rms, beam);
    (m.chisq, m.reduced_chisq) = goodness_of_fit(pixels, &gaussian, rms, beam);
    m.fitted = true;
    m
}

/// PySE's rule for an island too thin to measure a shape from: its minimum width (the
/// most pixels it has in one row, or in one column, whichever is fewer) is at most 2.
pub(crate) fn too_thin(pixels: &[(usize, usize, f32)]) -> bool {
    let widest = |key: fn(&(usize, usize, f32)) -> usize| {
        let mut counts = std::collections::HashMap::new();
        for p in pixels {
            *counts.entry(key(p)).or_insert(0usize) += 1;
        }
        counts.into_values().max().unwrap_or(0)
    };
    widest(|p| p.1).min(widest(|p| p.0)) <= 2
}

/// PySE's estimate where it measures no shape: the beam's shape at the island's
/// intensity-weighted barycentre, and the brightest pixel (the faintest, if none is
/// positive) times `fudge_max_pix`, since the true peak lies somewhere inside that pixel.
pub(crate) fn max_pixel_estimate(pixels: &[(usize, usize, f32)], beam: &Beam) -> Gaussian {
    let values = pixels.iter().map(|p| f64::from(p.2));
    let max = values.clone().fold(f64::MIN, f64::max);
    let extreme = if max > 0.0 {
        max
    } else {
        values.fold(f64::MAX, f64::min)
    };
    let total: f64 = pixels.iter().map(|p| f64::from(p.2)).sum();
    let mean = |f: fn(&(usize, usize, f32)) -> usize| {
        pixels
            .iter()
            .map(|p| f(p) as f64 * f64::from(p.2))
            .sum::<f64>()
            / total
    };
    Gaussian {
        peak: extreme * fudge_max_pix(beam),
        x: mean(|p| p.0),
        y: mean(|p| p.1),
        smaj: beam.smaj,
        smin: beam.smin,
        theta: beam.theta,
    }
}

/// PySE's `fudge_max_pix`: the mean, over a true peak anywhere in the brightest pixel, of
/// the peak over that pixel's value, ∫∫ exp(ln 2·Q(u, v)) du dv over [−½, ½]², Q the
/// beam's quadratic form in HWHM units. By the midpoint rule on a 64 × 64 grid.
pub fn fudge_max_pix(beam: &Beam) -> f64 {
    const N: usize = 64;
    let (s, c) = beam.theta.sin_cos();
    let mut sum = 0.0;
    for i in 0..N {
        for j in 0..N {
            let u = (i as f64 + 0.5) / N as f64 - 0.5;
            let v = (j as f64 + 0.5) / N as f64 - 0.5;
            let along_min = (c * u + s * v) / beam.smin;
            let along_maj = (c * v - s * u) / beam.smaj;
            sum += (LN_2 * (along_min * along_min + along_maj * along_maj)).exp();
        }
    }
    sum / (N * N) as f64
}

/// χ² of a model over an island's pixels, and PySE's reduced χ², which is per
/// independent beam rather than per degree of freedom.
pub fn goodness_of_fit(
    pixels: &[(usize, usize, f32)],
    g: &Gaussian,
    rms: f64,
    beam: &Beam,
) -> (f64, f64) {
    let chisq: f64 = pixels
        .iter()
        .map(|&(x, y, v)| ((f64::from(v) - g.value(x as f64, y as f64)) / rms).powi(2))
        .sum();
    let beams = pixels.len() as f64 / (PI * beam.smaj * beam.smin);
    (chisq, chisq / beams.max(1e-9))
}

/// Measures an island by its moments alone, with the moments' errors (PySE's vectorised
/// mode, Spreeuw 2010 eq. 2.81): no least-squares fit.
pub fn measure_moments(
    pixels: &[(usize, usize, f32)],
    rms: f64,
    threshold: f64,
    beam: &Beam,
) -> Measurement {
    let g = if too_thin(pixels) {
        max_pixel_estimate(pixels, beam)
    } else {
        moments(pixels, threshold, beam)
    };
    moments_errors(pixels, g, rms, threshold, beam)
}

/// Measures an island by its moments with the shape held at the beam (PySE's vectorised
/// mode with `force_beam`): the barycentre, and the peak of the beam-shaped Gaussian there
/// that reaches the value of the pixel nearest it (Spreeuw 2010 eq. 2.66), or the
/// brightest pixel × `fudge_max_pix` where that pixel is not in the island.
pub fn measure_moments_beam(
    pixels: &[(usize, usize, f32)],
    rms: f64,
    threshold: f64,
    beam: &Beam,
) -> Measurement {
    let mut g = max_pixel_estimate(pixels, beam);
    let (rx, ry) = (g.x.round(), g.y.round());
    if too_thin(pixels) {
        return moments_errors(pixels, g, rms, threshold, beam);
    }
    if let Some(base) = pixels.iter().find(|p| p.0 as f64 == rx && p.1 as f64 == ry) {
        let at_base = Gaussian { peak: 1.0, ..g }.value(rx, ry);
        g.peak = f64::from(base.2) / at_base;
    }
    moments_errors(pixels, g, rms, threshold, beam)
}

/// A measurement by moments (or PySE's estimate for a thin island) with the moments'
/// errors (Spreeuw 2010 eq. 2.81).
pub(crate) fn moments_errors(
    pixels: &[(usize, usize, f32)],
    g: Gaussian,
    rms: f64,
    threshold: f64,
    beam: &Beam,
) -> Measurement {
    // One ρ for every parameter, from the moments' sampling of the island between the
    // threshold T and the peak A.
    // (A − T)/(ln A − ln T) is the logarithmic mean of A and T: defined for any positive
    // pair, A itself where A = T (a deblended part's peak can sit at or below its level).
    let (a, t) = (g.peak, threshold);
    let log_mean = if (a - t).abs() <= 1e-12 * a.abs() {
        a
    } else {
        (a - t) / (a.ln() - t.ln())
    };
    let rho = (16.0 * g.smaj * g.smin / (LN_2 * 4.0 * beam.smaj * beam.smin * rms * rms)).sqrt()
        * log_mean;
    // The peak is one pixel's worth of information: its error is the noise.
    let mut m = errors_from_rho(g, beam, rho, rho, rms);
    (m.chisq, m.reduced_chisq) = goodness_of_fit(pixels, &g, rms, beam);
    m.fitted = false;
    m
}

/// PySE's CLEAN bias and calibration errors (reference §7.7): the peak becomes
/// A′ = A + `clean_bias` and the flux is scaled with it; σ_A′² = (f_cal·A′)² + σ_cb² +
/// (σ_A·A′/A)², and the flux error keeps its shape terms. Unchanged when all are 0.
pub fn calibrated(mut m: Measurement, clean_bias: f64, bias_err: f64, f_cal: f64) -> Measurement {
    if clean_bias == 0.0 && bias_err == 0.0 && f_cal == 0.0 {
        return m;
    }
    let a = m.gaussian.peak;
    let a2 = a + clean_bias;
    let shape = ((m.flux_err / m.flux).powi(2) - (m.peak_err / a).powi(2)).max(0.0);
    m.peak_err = ((f_cal * a2).powi(2) + bias_err.powi(2) + (m.peak_err * a2 / a).powi(2)).sqrt();
    m.gaussian.peak = a2;
    m.flux *= a2 / a;
    m.flux_err = m.flux.abs() * ((m.peak_err / a2).powi(2) + shape).sqrt();
    m
}

fn bounds(pixels: &[(usize, usize, f32)]) -> ((f64, f64), (f64, f64)) {
    let mut b = ((f64::MAX, f64::MIN), (f64::MAX, f64::MIN));
    for &(x, y, _) in pixels {
        b.0 = (b.0 .0.min(x as f64), b.0 .1.max(x as f64));
        b.1 = (b.1 .0.min(y as f64), b.1 .1.max(y as f64));
    }
    b
}

/// Second moments of the island (PySE's `moments`), corrected for the truncation at the
/// threshold; the beam's shape where the island is too thin for moments.
pub fn moments(pixels: &[(usize, usize, f32)], threshold: f64, beam: &Beam) -> Gaussian {
    let total: f64 = pixels.iter().map(|p| f64::from(p.2)).sum();
    let peak = pixels
        .iter()
        .map(|p| f64::from(p.2))
        .fold(f64::MIN, f64::max);
    let mean = |f: &dyn Fn(f64, f64) -> f64| {
        pixels
            .iter()
            .map(|&(x, y, v)| f(x as f64, y as f64) * f64::from(v))
            .sum::<f64>()
            / total
    };
    let (xm, ym) = (mean(&|x, _| x), mean(&|_, y| y));
    let sxx = mean(&|x, _| (x - xm) * (x - xm));
    let syy = mean(&|_, y| (y - ym) * (y - ym));
    let sxy = mean(&|x, y| (x - xm) * (y - ym));
    let w1 = (sxx + syy) / 2.0;
    let w2 = (((sxx - syy) / 2.0).powi(2) + sxy * sxy).sqrt();
    let (mut a2, mut b2) = (2.0 * LN_2 * (w1 + w2), 2.0 * LN_2 * (w1 - w2));
    // PySE's peak wherever it cannot extrapolate: the brightest pixel × fudge_max_pix.
    // (A closure: fudge_max_pix integrates over the pixel, too dear for every island.)
    let max_pixel_peak = || peak * fudge_max_pix(beam);
    if b2.is_nan() || b2 <= 0.0 || pixels.len() < 5 {
        return Gaussian {
            peak: max_pixel_peak(),
            x: xm,
            y: ym,
            smaj: beam.smaj,
            smin: beam.smin,
            theta: beam.theta,
        };
    }
    // Orientation of the major axis, measured from +y towards −x.
    let theta = if (a2 - b2).abs() < 0.01 {
        0.0
    } else {
        0.5 * (-2.0 * sxy).atan2(syy - sxx)
    };
    // PySE's "tweaked moments" peak (Spreeuw 2010 eq. 2.67): from the pixel nearest the
    // barycentre (value B, offset Δ), solve ln(A/B) = (ε/b²)(1 + ln(T/A)/(A/T − 1)).
    let peak =
        tweaked_peak(pixels, (xm, ym), theta, a2, b2, threshold).unwrap_or_else(max_pixel_peak);
    // Pixels below the threshold are missing from the island, which shrinks the
    // moments; with ρ = T/A the true variance is larger by 1/(1 + ρ ln ρ/(1 − ρ)).
    let rho = threshold / peak;
    if rho > 0.0 && rho < 1.0 {
        let k = 1.0 + rho * rho.ln() / (1.0 - rho);
        if k > 0.0 {
            a2 /= k;
            b2 /= k;
        }
    }
    Gaussian {
        peak,
        x: xm,
        y: ym,
        smaj: a2.sqrt(),
        smin: b2.sqrt(),
        theta,
    }
    .canonical()
}

/// The peak of a Gaussian with these moments that reaches value B at the island pixel
/// nearest the barycentre (the brightest pixel where that one is not in the island), as
/// PySE finds it: Newton–Raphson on Spreeuw (2010) eq. 2.67 from B, kept within [B/2, 2B]
/// (PySE 0.7.1's vectorised bound; its fit mode's 3B/2 can cut a true peak short, and PySE
/// has since used 2B in both).
fn tweaked_peak(
    pixels: &[(usize, usize, f32)],
    (xm, ym): (f64, f64),
    theta: f64,
    a2: f64,
    b2: f64,
    threshold: f64,
) -> Option<f64> {
    let (rx, ry) = (xm.round(), ym.round());
    let base = pixels
        .iter()
        .find(|p| p.0 as f64 == rx && p.1 as f64 == ry)
        .or_else(|| pixels.iter().max_by(|a, b| a.2.total_cmp(&b.2)))?;
    let b = f64::from(base.2);
    if !(threshold > 0.0 && b > 0.0) {
        return None;
    }
    let (dx, dy) = (xm - base.0 as f64, ym - base.1 as f64);
    let (s, c) = theta.sin_cos();
    let eps = LN_2 * ((c * dx + s * dy).powi(2) + (c * dy - s * dx).powi(2) * b2 / a2);
    let f =
        |a: f64| (a / b).ln() - (eps / b2) * (1.0 + (threshold / a).ln() / (a / threshold - 1.0));
    let mut a = b;
    for _ in 0..100 {
        let fa = f(a);
        let h = 1e-8 * a;
        let deriv = (f(a + h) - fa) / h;
        if !deriv.is_finite() || deriv.abs() < 1e-8 {
            break;
        }
        let step = -fa / deriv;
        a = (a + step).clamp(0.5 * b, 2.0 * b);
        if step.abs() < 1e-8 {
            break;
        }
    }
    Some(a).filter(|a| a.is_finite())
}

/// Least-squares elliptical Gaussian by Levenberg–Marquardt from a first guess.
pub fn fit(pixels: &[(usize, usize, f32)], guess: Gaussian) -> Option<Gaussian> {
    let free = [(f64::NEG_INFINITY, f64::INFINITY); 6];
    fit_within(pixels, guess, &free)
}

/// Least-squares elliptical Gaussian by Levenberg–Marquardt from a first guess, each of
/// (peak, x, y, smaj, smin, θ) kept within its (lower, upper) limits: steps are clipped
/// to the box, and a parameter on a limit that the gradient pushes outwards is held
/// there for the step (an active set, as PySE's bounded "dogbox" least squares does).
pub fn fit_within(
    pixels: &[(usize, usize, f32)],
    guess: Gaussian,
    limits: &[(f64, f64); 6],
) -> Option<Gaussian> {
    if pixels.len() < 7 {
        return None;
    }
    let chisq = |g: &Gaussian| -> f64 {
        pixels
            .iter()
            .map(|&(x, y, v)| (f64::from(v) - g.value(x as f64, y as f64)).powi(2))
            .sum()
    };
    let clip = |q: [f64; 6]| -> [f64; 6] {
        let mut q = q;
        for (v, &(lo, hi)) in q.iter_mut().zip(limits) {
            if lo <= hi {
                *v = v.clamp(lo, hi);
            }
        }
        q
    };
    let mut p = Gaussian::from_array(clip(guess.as_array()));
    let mut current = chisq(&p);
    let mut lambda = 1e-3;
    for _ in 0..200 {
        let mut jtj = [[0.0; 6]; 6];
        let mut jtr = [0.0; 6];
        for &(x, y, v) in pixels {
            let (g, grad) = p.value_and_gradient(x as f64, y as f64);
            let r = f64::from(v) - g;
            for ((row, jtr_i), gi) in jtj.iter_mut().zip(jtr.iter_mut()).zip(grad) {
                *jtr_i += gi * r;
                for (cell, gj) in row.iter_mut().zip(grad) {
                    *cell += gi * gj;
                }
            }
        }
        // Parameters held on a limit the descent direction points beyond.
        let pa = p.as_array();
        let held: Vec<bool> = (0..6)
            .map(|i| {
                let (lo, hi) = limits[i];
                (pa[i] <= lo && jtr[i] < 0.0) || (pa[i] >= hi && jtr[i] > 0.0)
            })
            .collect();
        let mut improved = false;
        while lambda < 1e12 {
            let mut a = jtj;
            let mut b = jtr;
            for (i, row) in a.iter_mut().enumerate() {
                row[i] += lambda * jtj[i][i].max(1e-300);
                if held[i] {
                    row.iter_mut().for_each(|v| *v = 0.0);
                    row[i] = 1.0;
                    b[i] = 0.0;
                }
            }
            for (i, &h) in held.iter().enumerate() {
                if h {
                    for (k, row) in a.iter_mut().enumerate() {
                        if k != i {
                            row[i] = 0.0;
                        }
                    }
                }
            }
            let Some(step) = solve6(a, b) else {
                lambda *= 10.0;
                continue;
            };
            let mut q = p.as_array();
            for (qi, si) in q.iter_mut().zip(step) {
                *qi += si;
            }
            let candidate = Gaussian::from_array(clip(q));
            let next = chisq(&candidate);
            if candidate.smaj > 0.0 && candidate.smin > 0.0 && next.is_finite() && next <= current {
                let converged = (current - next) <= 1e-10 * current.max(1e-300);
                p = candidate;
                current = next;
                lambda = (lambda / 10.0).max(1e-12);
                improved = true;
                if converged {
                    return Some(p.canonical());
                }
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            // No step lowers χ² any more: we are at the minimum.
            return Some(p.canonical()).filter(|g| g.as_array().iter().all(|v| v.is_finite()));
        }
    }
    Some(p.canonical())
}

/// Solves a 6×6 system by Gaussian elimination with partial pivoting.
fn solve6(mut a: [[f64; 6]; 6], mut b: [f64; 6]) -> Option<[f64; 6]> {
    for col in 0..6 {
        let pivot = (col..6).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 || !a[pivot][col].is_finite() {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..6 {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (x, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 6];
    for row in (0..6).rev() {
        let s: f64 = (row + 1..6).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// Condon (1997) errors with the NVSS exponents, as PySE applies them (reference §7.7).
pub fn condon_errors(g: Gaussian, rms: f64, beam: &Beam) -> Measurement {
    let (big_theta_maj, big_theta_min) = (2.0 * beam.smaj, 2.0 * beam.smin); // beam FWHM
    let snr = g.peak / rms;
    let rho_sq = |a: f64, b: f64| {
        (g.smaj * g.smin / (big_theta_maj * big_theta_min))
            * (1.0 + (big_theta_maj / (2.0 * g.smaj)).powi(2)).powf(a)
            * (1.0 + (big_theta_min / (2.0 * g.smin)).powf(2.0)).powf(b)
            * snr
            * snr
    };
    let rho1 = rho_sq(2.5, 0.5).sqrt();
    let rho2 = rho_sq(0.5, 2.5).sqrt();
    let rho3 = rho_sq(1.5, 1.5).sqrt();
    errors_from_rho(g, beam, rho1, rho2, 2f64.sqrt() * g.peak.abs() / rho3)
}

/// The errors of a Gaussian's position, axes and angle from the signal-to-noise ratios ρ
/// that govern its major and minor axes (NVSS: variances doubled relative to Condon
/// 1997), and its flux error from those and the peak's.
fn errors_from_rho(
    g: Gaussian,
    beam: &Beam,
    rho_maj: f64,
    rho_min: f64,
    peak_err: f64,
) -> Measurement {
    let err_par_maj = 2.0 * g.smaj / ((2.0 * LN_2).sqrt() * rho_maj);
    let err_par_min = 2.0 * g.smin / ((2.0 * LN_2).sqrt() * rho_min);
    let smaj_err = 2f64.sqrt() * g.smaj / rho_maj;
    let smin_err = 2f64.sqrt() * g.smin / rho_min;
    let theta_err = if g.smaj > g.smin {
        (2.0 * g.smaj * g.smin / ((g.smaj * g.smaj - g.smin * g.smin) * rho_min)).min(PI / 2.0)
    } else {
        PI / 2.0
    };
    let (big_theta_maj, big_theta_min) = (2.0 * beam.smaj, 2.0 * beam.smin); // beam FWHM
    let flux = g.flux(beam);
    let flux_err = flux.abs()
        * ((peak_err / g.peak).powi(2)
            + (big_theta_maj * big_theta_min / (4.0 * g.smaj * g.smin))
                * ((smaj_err / g.smaj).powi(2) + (smin_err / g.smin).powi(2)))
        .sqrt();
    Measurement {
        gaussian: g,
        peak_err,
        position_err: (err_par_maj, err_par_min),
        smaj_err,
        smin_err,
        theta_err,
        flux,
        flux_err,
        chisq: 0.0,
        reduced_chisq: 0.0,
        fitted: true,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The pixels of a noiseless Gaussian above a threshold, on a 64 × 64 grid.
    pub(crate) fn island(g: &Gaussian, threshold: f64) -> Vec<(usize, usize, f32)> {
        let mut pixels = Vec::new();
        for y in 0..64 {
            for x in 0..64 {
                let v = g.value(x as f64, y as f64);
                if v > threshold {
                    pixels.push((x, y, v as f32));
                }
            }
        }
        pixels
    }

    pub(crate) const BEAM: Beam = Beam {
        smaj: 3.0,
        smin: 2.0,
        theta: 0.5,
    };

    #[test]
    fn fit_recovers_a_noiseless_gaussian() {
        let truth = Gaussian {
            peak: 1.0,
            x: 31.3,
            y: 30.7,
            smaj: 3.0,
            smin: 2.0,
            theta: 0.5,
        };
        let m = measure(&island(&truth, 0.03), 0.01, 0.03, &BEAM);
        assert!(m.fitted);
        let g = m.gaussian;
        assert!((g.peak - 1.0).abs() < 1e-6, "{g:?}");
        assert!((g.x - 31.3).abs() < 1e-6 && (g.y - 30.7).abs() < 1e-6);
        assert!((g.smaj - 3.0).abs() < 1e-6 && (g.smin - 2.0).abs() < 1e-6);
        assert!((g.theta - 0.5).abs() < 1e-6);
        // A point source: integrated flux equals peak.
        assert!((m.flux - 1.0).abs() < 1e-6);
    }

    #[test]
    fn moments_see_orientation_and_size() {
        let truth = Gaussian {
            peak: 1.0,
            x: 30.0,
            y: 30.0,
            smaj: 4.0,
            smin: 2.0,
            theta: -0.7,
        };
        let g = moments(&island(&truth, 0.01), 0.01, &BEAM);
        assert!((g.theta + 0.7).abs() < 0.02, "{g:?}");
        assert!(
            (g.smaj - 4.0).abs() < 0.2 && (g.smin - 2.0).abs() < 0.2,
            "{g:?}"
        );
    }

    #[test]
    fn clean_bias_and_calibration_errors_as_pyse_applies_them() {
        let g = Gaussian {
            peak: 0.5,
            x: 30.0,
            y: 30.0,
            smaj: 3.0,
            smin: 2.0,
            theta: 0.0,
        };
        let m = condon_errors(g, 0.01, &BEAM);
        let same = calibrated(m, 0.0, 0.0, 0.0);
        assert_eq!(same.peak_err.to_bits(), m.peak_err.to_bits());
        // By hand: A′ = 0.5 + 0.02 = 0.52; the point source's Condon peak error is the
        // noise, 0.01, scaled to 0.0104; σ_A′² = (0.1·0.52)² + 0.005² + 0.0104²
        // = 0.002704 + 0.000025 + 0.00010816 = 0.00283716.
        let c = calibrated(m, 0.02, 0.005, 0.1);
        assert!((c.gaussian.peak - 0.52).abs() < 1e-15);
        assert!(
            (c.peak_err - 0.00283716f64.sqrt()).abs() < 1e-12,
            "{}",
            c.peak_err
        );
        // The flux scales with the peak; its relative error is the new peak's, plus the
        // shape terms as they were.
        assert!((c.flux - m.flux * 0.52 / 0.5).abs() < 1e-12);
        let shape = (m.flux_err / m.flux).powi(2) - (m.peak_err / 0.5).powi(2);
        let want = c.flux * ((c.peak_err / 0.52).powi(2) + shape).sqrt();
        assert!((c.flux_err - want).abs() < 1e-12);
        assert!(c.flux_err > m.flux_err);
    }

    #[test]
    fn an_island_two_pixels_wide_is_its_brightest_pixel_times_fudge_max_pix() {
        // In every mode, `--force-beam` included (PySE fits no island that thin, with the
        // shape forced or not). A noiseless round source of peak 6 (σ = 1) with a HWHM of 1.5 pixels at
        // (10.5, 10.5): above the 3σ analysis threshold are the four pixels around it, each
        // 6·exp(−ln2·0.5/2.25) = 4.8056, a 2 × 2 island. PySE fits nothing there: the peak
        // is that pixel times fudge_max_pix = (∫ exp(ln2·u²/2.25) du over [−½, ½])², whose
        // series 1 + x/12 + x²/160 + x³/2688 (x = ln2/2.25) gives 1.0259², the flux the
        // same (beam-shaped), and the shape the beam's.
        let beam = Beam {
            smaj: 1.5,
            smin: 1.5,
            theta: 0.0,
        };
        let source = Gaussian {
            peak: 6.0,
            x: 10.5,
            y: 10.5,
            smaj: 1.5,
            smin: 1.5,
            theta: 0.0,
        };
        let pixels = island(&source, 3.0);
        assert_eq!(pixels.len(), 4);
        let x = LN_2 / 2.25;
        let fudge = (1.0 + x / 12.0 + x * x / 160.0 + x.powi(3) / 2688.0).powi(2);
        assert!(
            (fudge_max_pix(&beam) - fudge).abs() < 1e-4,
            "{}",
            fudge_max_pix(&beam)
        );
        let pixel = 6.0 * (-LN_2 * 0.5 / 2.25).exp();
        // Every mode alike; with the beam forced the shape also carries no error.
        let forced = crate::extract::forcebeam::measure(&pixels, 1.0, 3.0, &beam);
        assert_eq!(
            (forced.smaj_err, forced.smin_err, forced.theta_err),
            (0.0, 0.0, 0.0)
        );
        for m in [
            measure(&pixels, 1.0, 3.0, &beam),
            measure_moments(&pixels, 1.0, 3.0, &beam),
            measure_moments_beam(&pixels, 1.0, 3.0, &beam),
            forced,
        ] {
            assert!(!m.fitted);
            let g = m.gaussian;
            assert!((g.peak - pixel * fudge).abs() < 1e-3, "peak {}", g.peak);
            assert!((m.flux - g.peak).abs() < 1e-12);
            assert!((g.x - 10.5).abs() < 1e-6 && (g.y - 10.5).abs() < 1e-6);
            assert_eq!((g.smaj, g.smin), (1.5, 1.5));
            assert!(m.peak_err.is_finite() && m.flux_err.is_finite() && m.flux_err > 0.0);
        }
    }

    #[test]
    fn moments_with_the_beam_forced_extrapolate_from_the_barycentre_pixel() {
        // A noiseless beam-shaped source of peak 1 at (30.3, 29.8): PySE's vectorised
        // mode with force_beam keeps the beam's shape and takes the barycentre as the
        // position. The pixel nearest it, (30, 30), holds exp(−ln2·Q(−0.3, 0.2)); eq. 2.66
        // divides it by that same factor, which gives back the true peak, 1. The island
        // is symmetric about the source, so its barycentre is the source's position.
        let truth = Gaussian {
            peak: 1.0,
            x: 30.3,
            y: 29.8,
            smaj: BEAM.smaj,
            smin: BEAM.smin,
            theta: BEAM.theta,
        };
        let pixels = island(&truth, 0.05);
        let m = measure_moments_beam(&pixels, 0.01, 0.05, &BEAM);
        assert!(!m.fitted);
        let g = m.gaussian;
        assert_eq!(
            (g.smaj, g.smin, g.theta),
            (BEAM.smaj, BEAM.smin, BEAM.theta)
        );
        assert!(
            (g.x - 30.3).abs() < 0.02 && (g.y - 29.8).abs() < 0.02,
            "{g:?}"
        );
        assert!((g.peak - 1.0).abs() < 2e-3, "{}", g.peak);
        assert!((m.flux - g.peak).abs() < 1e-12);
        // The moments' errors, not Condon's: ρ = √(16·ab/(ln2·4AB·σ²))·(A − T)/ln(A/T).
        let rho = (16.0 / (LN_2 * 4.0 * 1e-4)).sqrt() * (g.peak - 0.05) / (g.peak / 0.05).ln();
        assert!((m.smaj_err - 2f64.sqrt() * BEAM.smaj / rho).abs() < 1e-12);
        assert_eq!(m.peak_err, 0.01);
    }

    #[test]
    fn tweaked_moments_reach_twice_the_base_pixel() {
        // A narrow source (HWHM 0.8 pixel) centred at the corner of four pixels is 1.8×
        // brighter than each of them: exp(ln2·0.5/0.64) = 1.7187, and the tweak must
        // extrapolate that far. Under a bound of 1.5 × the base pixel the moments peak
        // stayed 13 % low. Solved with the island's own moments, eq. 2.67 gives the peak
        // whatever the bound, so the moments' peak must lie above 1.5 × the pixel.
        let beam = Beam {
            smaj: 0.8,
            smin: 0.8,
            theta: 0.0,
        };
        let source = Gaussian {
            peak: 10.0,
            x: 20.5,
            y: 20.5,
            smaj: 0.8,
            smin: 0.8,
            theta: 0.0,
        };
        let pixels = island(&source, 0.1);
        let base = 10.0 * (-LN_2 * 0.5 / 0.64).exp();
        let g = moments(&pixels, 0.1, &beam);
        assert!(
            g.peak > 1.5 * base * 1.01,
            "{} against a base of {base}",
            g.peak
        );
        assert!((g.peak - 10.0).abs() < 1.0, "{}", g.peak);
    }

    #[test]
    fn moments_errors_are_finite_when_the_peak_is_at_the_threshold() {
        // A deblended part can be measured at a peak that is at or below its own level.
        // The moments' ρ holds (A − T)/ln(A/T), the logarithmic mean of A and T, which is
        // A where A = T and defined on either side; PySE's formula gives the same there.
        let g = Gaussian {
            peak: 0.05,
            x: 30.0,
            y: 30.0,
            smaj: BEAM.smaj,
            smin: BEAM.smin,
            theta: BEAM.theta,
        };
        let pixels = island(&Gaussian { peak: 1.0, ..g }, 0.05);
        let at = moments_errors(&pixels, g, 0.01, 0.05, &BEAM);
        let rho = (16.0 / (LN_2 * 4.0 * 1e-4)).sqrt() * 0.05;
        assert!((at.smaj_err - 2f64.sqrt() * BEAM.smaj / rho).abs() < 1e-9);
        let below = moments_errors(&pixels, Gaussian { peak: 0.04, ..g }, 0.01, 0.05, &BEAM);
        let log_mean = 0.01 / (0.05f64 / 0.04).ln();
        let rho = (16.0 / (LN_2 * 4.0 * 1e-4)).sqrt() * log_mean;
        assert!((below.smaj_err - 2f64.sqrt() * BEAM.smaj / rho).abs() < 1e-9);
        assert!(below.flux_err.is_finite() && below.flux_err > 0.0);
    }

    #[test]
    fn condon_errors_of_a_point_source() {
        // For a source the shape of the beam, ρ₃² = (1/4)·2^1.5·2^1.5·SNR² = 2·SNR², so
        // σ_peak = √2·A/ρ₃ = σ_rms: the peak error of a point source is the noise.
        let g = Gaussian {
            peak: 0.5,
            x: 0.0,
            y: 0.0,
            smaj: BEAM.smaj,
            smin: BEAM.smin,
            theta: BEAM.theta,
        };
        let m = condon_errors(g, 0.01, &BEAM);
        assert!((m.peak_err - 0.01).abs() < 1e-12, "{}", m.peak_err);
        // ρ₁² = (1/4)·2^2.5·2^0.5·SNR² = 2·SNR²: σ_∥maj = 2·3/(√(2 ln 2)·√2·50).
        let expect = 6.0 / ((2.0 * LN_2).sqrt() * 2f64.sqrt() * 50.0);
        let par_min = 4.0 / ((2.0 * LN_2).sqrt() * 2f64.sqrt() * 50.0);
        assert!((m.position_err.0 - expect).abs() < 1e-12);
        assert!((m.position_err.1 - par_min).abs() < 1e-12);
    }
}
