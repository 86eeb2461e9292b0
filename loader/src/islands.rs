//! Islands: connected pixels above the analysis threshold that reach the detection
//! threshold somewhere.

use ndarray::Array2;

/// One island, background subtracted.
pub struct Island {
    /// (x, y, value) of every pixel.
    pub pixels: Vec<(usize, usize, f32)>,
    /// Highest signal-to-noise ratio of any pixel.
    pub max_snr: f64,
    /// Noise at the brightest pixel.
    pub rms: f64,
}

/// Labels the islands of `signal` (background-subtracted) against `rms`.
pub fn find(
    signal: &Array2<f32>,
    rms: &Array2<f32>,
    mask: &Array2<bool>,
    detection: f64,
    analysis: f64,
    eight_connected: bool,
) -> Vec<Island> {
    let (ny, nx) = signal.dim();
    let above = |x: usize, y: usize| {
        !mask[[y, x]]
            && rms[[y, x]] > 0.0
            && f64::from(signal[[y, x]]) > analysis * f64::from(rms[[y, x]])
    };
    let mut seen = Array2::from_elem((ny, nx), false);
    let mut islands = Vec::new();
    let mut stack = Vec::new();
    let neighbours: &[(i64, i64)] = if eight_connected {
        &[
            (-1, -1),
            (0, -1),
            (1, -1),
            (-1, 0),
            (1, 0),
            (-1, 1),
            (0, 1),
            (1, 1),
        ]
    } else {
        &[(0, -1), (-1, 0), (1, 0), (0, 1)]
    };
    for y0 in 0..ny {
        for x0 in 0..nx {
            if seen[[y0, x0]] || !above(x0, y0) {
                continue;
            }
            seen[[y0, x0]] = true;
            stack.push((x0, y0));
            let mut pixels = Vec::new();
            let (mut max_snr, mut peak, mut peak_rms) = (f64::MIN, f32::MIN, 0.0);
            while let Some((x, y)) = stack.pop() {
                let v = signal[[y, x]];
                let r = f64::from(rms[[y, x]]);
                max_snr = max_snr.max(f64::from(v) / r);
                if v > peak {
                    peak = v;
                    peak_rms = r;
                }
                pixels.push((x, y, v));
                for &(dx, dy) in neighbours {
                    let (xn, yn) = (x as i64 + dx, y as i64 + dy);
                    if xn < 0 || yn < 0 || xn >= nx as i64 || yn >= ny as i64 {
                        continue;
                    }
                    let (xn, yn) = (xn as usize, yn as usize);
                    if !seen[[yn, xn]] && above(xn, yn) {
                        seen[[yn, xn]] = true;
                        stack.push((xn, yn));
                    }
                }
            }
            if max_snr > detection {
                islands.push(Island {
                    pixels,
                    max_snr,
                    rms: peak_rms,
                });
            }
        }
    }
    islands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_and_connectivity() {
        let mut signal = Array2::<f32>::zeros((10, 10));
        // A 10σ island of three pixels, a diagonal neighbour, and a 5σ island.
        signal[[2, 2]] = 10.0;
        signal[[2, 3]] = 4.0;
        signal[[3, 2]] = 4.0;
        signal[[4, 4]] = 4.0;
        signal[[7, 7]] = 5.0;
        let rms = Array2::from_elem((10, 10), 1.0f32);
        let mask = Array2::from_elem((10, 10), false);
        let eight = find(&signal, &rms, &mask, 8.0, 3.0, true);
        assert_eq!(eight.len(), 1);
        assert_eq!(eight[0].pixels.len(), 3);
        assert_eq!(eight[0].max_snr, 10.0);
        signal[[3, 3]] = 4.0;
        assert_eq!(
            find(&signal, &rms, &mask, 8.0, 3.0, true)[0].pixels.len(),
            5
        );
        assert_eq!(
            find(&signal, &rms, &mask, 8.0, 3.0, false)[0].pixels.len(),
            4
        );
        assert_eq!(find(&signal, &rms, &mask, 4.5, 3.0, true).len(), 2);
    }
}
