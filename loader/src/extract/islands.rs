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

/// The offsets of a cell's eight neighbours on a grid.
pub const EIGHT_NEIGHBOURS: [(i64, i64); 8] = [
    (-1, -1),
    (0, -1),
    (1, -1),
    (-1, 0),
    (1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

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
    // Pixels above the analysis threshold that no island has taken yet, row-major: one
    // pass over the maps, then the scan and the growth read only this.
    let mut open = vec![false; ny * nx];
    ndarray::Zip::from(ndarray::ArrayViewMut2::from_shape((ny, nx), &mut open[..]).unwrap())
        .and(signal)
        .and(rms)
        .and(mask)
        .for_each(|open, &v, &r, &m| {
            *open = !m && r > 0.0 && f64::from(v) > analysis * f64::from(r);
        });
    let mut islands = Vec::new();
    let mut stack = Vec::new();
    let neighbours: &[(i64, i64)] = if eight_connected {
        &EIGHT_NEIGHBOURS
    } else {
        &[(0, -1), (-1, 0), (1, 0), (0, 1)]
    };
    let mut from = 0;
    while let Some(offset) = open[from..].iter().position(|&o| o) {
        let start = from + offset;
        from = start + 1;
        open[start] = false;
        stack.push((start % nx, start / nx));
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
                if open[yn * nx + xn] {
                    open[yn * nx + xn] = false;
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

    #[test]
    fn an_island_is_kept_where_any_pixel_reaches_the_detection_threshold() {
        // The noise rises across a two-pixel island: its brightest pixel, 9 over a noise
        // of 1.5, is 6σ, and its other pixel, 8.5 over 1, is 8.5σ. PySE tests only the
        // brightest pixel (against threshold × the noise there) and drops the island at
        // 8σ; skytrap keeps an island where any pixel is significant (as SExtractor and
        // Aegean seed islands), and reports that pixel's 8.5σ.
        let mut signal = Array2::<f32>::zeros((5, 6));
        signal[[2, 2]] = 8.5;
        signal[[2, 3]] = 9.0;
        let mut rms = Array2::from_elem((5, 6), 1.0f32);
        rms[[2, 3]] = 1.5;
        let mask = Array2::from_elem((5, 6), false);
        let found = find(&signal, &rms, &mask, 8.0, 3.0, true);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].max_snr, 8.5);
        // The noise at the brightest pixel is the island's, for its measurement.
        assert_eq!(found[0].rms, 1.5);
        assert!(find(&signal, &rms, &mask, 8.6, 3.0, true).is_empty());
    }
}
