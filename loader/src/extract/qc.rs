//! Image quality control as TraP does it (`tkp/quality`, reference §3.2): no bright source
//! near the pointing, the noise in the image centre (`rms_qc`) within a global range and
//! within the spread of the band's recent images, and a restoring beam neither
//! undersampled, oversampled nor too elliptical. `load` records a failing image as a
//! rejection with TraP's reason.

use crate::extract::measure::Beam;
use ndarray::Array2;
use skytrap_core::bright;
use skytrap_core::variability::median;

/// TraP's quality settings, named and defaulted as in its job_params.cfg.
#[derive(Clone, Debug, PartialEq)]
pub struct Quality {
    /// κ of the clipping that measures `rms_qc` (section persistence).
    pub rms_est_sigma: f64,
    /// `rms_qc` is measured over the central 2/f of each axis (section persistence).
    pub rms_est_fraction: usize,
    /// Images of the band the history test needs before it applies (0: no history test).
    pub rms_est_history: usize,
    /// Accepted `rms_qc` lies strictly between these, Jy/beam.
    pub rms_est_max: f64,
    pub rms_est_min: f64,
    /// Accepted `rms_qc` lies within this many σ of the mean of the band's history.
    pub rms_rej_sigma: f64,
    /// Largest beam semi-axis, pixels.
    pub oversampled_x: f64,
    /// Largest ratio of the beam's semi-axes.
    pub elliptical_x: f64,
    /// Least distance, degrees, from the pointing to a bright source (`skytrap_core::bright`:
    /// the A-team, the Sun, Jupiter; and `bright_sources`); 0: no check (section
    /// quality_lofar).
    pub min_separation: f64,
    /// The user's own bright sources: name, RA, Dec (degrees).
    pub bright_sources: Vec<(String, f64, f64)>,
}

impl Default for Quality {
    fn default() -> Self {
        Quality {
            rms_est_sigma: 4.0,
            rms_est_fraction: 8,
            rms_est_history: 100,
            rms_est_max: 100.0,
            rms_est_min: 0.0,
            rms_rej_sigma: 3.0,
            oversampled_x: 30.0,
            elliptical_x: 2.0,
            min_separation: 0.0,
            bright_sources: Vec::new(),
        }
    }
}

/// TraP's `rms_qc` (`tkp/quality/rms.py`): over the central subregion (rows
/// `[ny/2 − ny/f, ny/2 + ny/f)` and the same for columns, integer division), repeatedly
/// keep the values within κ population standard deviations of the median until none is
/// removed; the result is the root mean square deviation of those from their median.
/// Non-finite pixels are left out. NaN if nothing is left.
pub fn rms_qc(data: &Array2<f32>, sigma: f64, fraction: usize) -> f64 {
    let (ny, nx) = data.dim();
    let f = fraction.max(1);
    let rows = (ny / 2).saturating_sub(ny / f)..(ny / 2 + ny / f).min(ny);
    let cols = (nx / 2).saturating_sub(nx / f)..(nx / 2 + nx / f).min(nx);
    let mut values: Vec<f64> = rows
        .flat_map(|y| cols.clone().map(move |x| (y, x)))
        .map(|(y, x)| f64::from(data[[y, x]]))
        .filter(|v| v.is_finite())
        .collect();
    clipped_rms(&mut values, sigma)
}

/// The clipping and deviation of `rms_qc` on a list of values.
pub fn clipped_rms(values: &mut Vec<f64>, sigma: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    loop {
        let m = median(values);
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        let before = values.len();
        values.retain(|v| (v - m).abs() <= sigma * std);
        if values.len() == before || values.is_empty() {
            break;
        }
    }
    if values.is_empty() {
        return f64::NAN;
    }
    let m = median(values);
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

/// TraP's basic noise test: why `rms_qc` is unacceptable, if it is.
pub fn rms_out_of_range(rms_qc: f64, q: &Quality) -> Option<String> {
    if q.rms_est_min < rms_qc && rms_qc < q.rms_est_max {
        None
    } else {
        Some(format!(
            "RMS invalid: rms_qc {rms_qc:.6e} Jy/beam is not between rms_est_min {} and rms_est_max {}",
            q.rms_est_min, q.rms_est_max
        ))
    }
}

/// TraP's history test (`reject_historical_rms`): `history` holds `rms_qc` of the band's
/// newest images, this one included. With fewer than `rms_est_history` the test passes;
/// otherwise a normal distribution is fitted by maximum likelihood (mean, population
/// standard deviation) and `rms_qc` must lie strictly within `rms_rej_sigma` σ of the mean.
pub fn rms_off_history(rms_qc: f64, history: &[f64], q: &Quality) -> Option<String> {
    if q.rms_est_history == 0 || history.len() < q.rms_est_history {
        return None;
    }
    let n = history.len() as f64;
    let mu = history.iter().sum::<f64>() / n;
    let sd = (history.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / n).sqrt();
    let (low, high) = (mu - q.rms_rej_sigma * sd, mu + q.rms_rej_sigma * sd);
    if low < rms_qc && rms_qc < high {
        None
    } else {
        Some(format!(
            "RMS invalid: rms_qc {rms_qc:.6e} Jy/beam is not within {} sigma of the last {} images \
             of the band ({low:.6e} to {high:.6e})",
            q.rms_rej_sigma,
            history.len()
        ))
    }
}

/// TraP's bright-source test (`tkp/telescope/lofar/quality.py`): why the image, observed
/// at `time` (ISO, UTC) and centred on (ra, dec), is too near a bright source, if it is.
/// TraP applies it to LOFAR images only; skytrap to every image when `min_separation` is
/// above 0.
pub fn bright_source_near(centre: (f64, f64), time: &str, q: &Quality) -> Option<String> {
    if q.min_separation <= 0.0 {
        return None;
    }
    let jd = julian_date_of(time)?;
    let mut sources = bright::sources(jd);
    sources.extend(
        q.bright_sources
            .iter()
            .map(|(name, ra, dec)| bright::Bright {
                name: name.clone(),
                ra: *ra,
                dec: *dec,
            }),
    );
    let (source, distance) =
        bright::nearest_within(&sources, centre.0, centre.1, q.min_separation)?;
    Some(format!(
        "bright source near: {} is {distance:.1} degrees from the pointing (min_separation {})",
        source.name, q.min_separation
    ))
}

/// The Julian date of an ISO time "YYYY-MM-DDTHH:MM:SS[.sss]" (UTC).
fn julian_date_of(time: &str) -> Option<f64> {
    let (date, clock) = time.split_once(['T', ' ']).unwrap_or((time, "0:0:0"));
    let mut d = date.splitn(3, '-').map(|v| v.parse::<u32>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut c = clock.splitn(3, ':');
    let hour = c.next()?.parse().ok()?;
    let minute = c.next().unwrap_or("0").parse().ok()?;
    let second = c.next().unwrap_or("0").parse().ok()?;
    Some(bright::julian_date(y as i32, m, day, hour, minute, second))
}

/// TraP's beam test (`tkp/quality/restoringbeam.py`) on the semi-axes in pixels: why the
/// beam is unacceptable, if it is.
pub fn beam_invalid(beam: &Beam, q: &Quality) -> Option<String> {
    let (smaj, smin) = (beam.smaj, beam.smin);
    if !(smaj.is_finite() && smin.is_finite() && beam.theta.is_finite()) {
        return Some(format!(
            "beam invalid: semi-axes {smaj} and {smin} pixels, angle {}",
            beam.theta
        ));
    }
    if 2.0 * smaj <= 1.0 || 2.0 * smin <= 1.0 {
        return Some(format!(
            "beam invalid: undersampled, semi-axes {smaj:.3} and {smin:.3} pixels (the beam \
             must be more than one pixel across)"
        ));
    }
    if smaj > q.oversampled_x || smin > q.oversampled_x {
        return Some(format!(
            "beam invalid: oversampled, semi-axes {smaj:.3} and {smin:.3} pixels (oversampled_x {})",
            q.oversampled_x
        ));
    }
    if smaj / smin > q.elliptical_x {
        return Some(format!(
            "beam invalid: too elliptical, semi-axes {smaj:.3} and {smin:.3} pixels, ratio {:.3} \
             (elliptical_x {})",
            smaj / smin,
            q.elliptical_x
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_qc_takes_the_central_region_and_clips_by_hand() {
        // 16 x 16 with f = 8: rows and columns 8 - 2 .. 8 + 2, i.e. 6..10, 16 pixels.
        // Outside them huge values that must not count.
        let mut data = Array2::from_elem((16, 16), 1000f32);
        let inner = [
            1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, 50.0,
        ];
        for (i, v) in inner.iter().enumerate() {
            data[[6 + i / 4, 6 + i % 4]] = *v as f32;
        }
        // The centre holds eight 1, seven -1 and one 50. Pass 1: median (1 + 1)/2 = 1,
        // mean 51/16, population sd sqrt(2515/16 - (51/16)^2) = 12.125; 4 sd = 48.5 < 49,
        // so 50 goes. Pass 2: median 1 (the 8th of 15), sd 0.9978, |-1 - 1| = 2 <= 3.99:
        // nothing removed. rms about the median 1: sqrt((7 * 4 + 8 * 0)/15) = sqrt(28/15).
        let r = rms_qc(&data, 4.0, 8);
        assert!((r - (28.0f64 / 15.0).sqrt()).abs() < 1e-12, "{r}");
        // kappa 1: pass 2 removes the seven -1 (2 > 0.9978), leaving eight 1: rms 0.
        assert_eq!(rms_qc(&data, 1.0, 8), 0.0);
        // NaN pixels are left out; an all-NaN centre has no rms.
        let blank = Array2::from_elem((16, 16), f32::NAN);
        assert!(rms_qc(&blank, 4.0, 8).is_nan());
    }

    #[test]
    fn the_rms_range_is_strict() {
        let q = Quality {
            rms_est_min: 0.001,
            rms_est_max: 0.01,
            ..Quality::default()
        };
        assert!(rms_out_of_range(0.005, &q).is_none());
        assert!(rms_out_of_range(0.01, &q).is_some());
        assert!(rms_out_of_range(0.001, &q).is_some());
        assert!(rms_out_of_range(f64::NAN, &q).is_some());
        // TraP's default minimum 0 rejects an image with no noise.
        assert!(rms_out_of_range(0.0, &Quality::default()).is_some());
    }

    #[test]
    fn history_test_worked_by_hand() {
        let q = Quality {
            rms_est_history: 4,
            rms_rej_sigma: 1.5,
            ..Quality::default()
        };
        // Fewer than 4: passes whatever the value.
        assert!(rms_off_history(3.0, &[1.0, 1.02, 3.0], &q).is_none());
        // (1.02, 0.99, 1.01, 3.0): mean 1.505, population sd sqrt(2.9805/4) = 0.8632;
        // 3.0 is 1.732 sd above: outside 1.5 sd.
        assert!(rms_off_history(3.0, &[1.02, 0.99, 1.01, 3.0], &q).is_some());
        // (0.99, 1.01, 3.0, 1.0): mean 1.5, sd 0.866; 1.0 is 0.577 sd below: inside.
        assert!(rms_off_history(1.0, &[0.99, 1.01, 3.0, 1.0], &q).is_none());
        // All equal: sd 0 and the strict test fails, as in TraP.
        assert!(rms_off_history(1.0, &[1.0; 4], &q).is_some());
        // 0 turns the test off.
        let off = Quality {
            rms_est_history: 0,
            ..q
        };
        assert!(rms_off_history(3.0, &[1.0; 4], &off).is_none());
    }

    #[test]
    fn beam_shapes_worked_by_hand() {
        let q = Quality::default();
        let beam = |smaj, smin| Beam {
            smaj,
            smin,
            theta: 0.3,
        };
        assert!(beam_invalid(&beam(2.5, 2.0), &q).is_none());
        assert!(beam_invalid(&beam(30.0, 16.0), &q).is_none());
        assert!(beam_invalid(&beam(30.01, 16.0), &q)
            .unwrap()
            .contains("oversampled"));
        assert!(beam_invalid(&beam(4.0, 2.0), &q).is_none()); // ratio 2 is allowed
        assert!(beam_invalid(&beam(4.01, 2.0), &q)
            .unwrap()
            .contains("too elliptical"));
        assert!(beam_invalid(&beam(0.6, 0.5), &q)
            .unwrap()
            .contains("undersampled"));
        assert!(beam_invalid(&beam(f64::INFINITY, 2.0), &q).is_some());
    }
}
