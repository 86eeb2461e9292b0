//! Deblending as PySE does it (`Island.deblend`): an island is cut at sub-thresholds
//! spaced logarithmically between its lowest and highest pixel; where it falls apart into
//! parts that each hold more than `mincont` of the island's flux above the cut and still
//! reach the detection threshold, the parts are sources of their own, deblended in turn.

/// A part of an island: its pixels (x, y, value) and the level that cut it out (None for
/// an island that did not split).
pub struct Part {
    pub pixels: Vec<(usize, usize, f32)>,
    pub level: Option<f64>,
}

/// PySE's sub-thresholds between an island's minimum `lo` and maximum `hi`:
/// t_i = exp(i·ln(hi − lo + 1)/(n + 1)) + lo − 1 for i = 1..n.
pub fn subthresholds(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let step = (hi - lo + 1.0).ln() / (n + 1) as f64;
    (1..=n)
        .map(|i| (i as f64 * step).exp() + lo - 1.0)
        .collect()
}

/// Splits an island. `detection(x, y)` is the detection threshold at a pixel (in the
/// island's units); `nthresh` the number of sub-thresholds (0: no deblending).
pub fn deblend(
    pixels: Vec<(usize, usize, f32)>,
    nthresh: usize,
    mincont: f64,
    eight_connected: bool,
    detection: &dyn Fn(usize, usize) -> f64,
) -> Vec<Part> {
    if nthresh == 0 || pixels.len() < 2 {
        return vec![Part {
            pixels,
            level: None,
        }];
    }
    let (lo, hi) = pixels.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(f64::from(p.2)), hi.max(f64::from(p.2)))
    });
    let levels = subthresholds(lo, hi, nthresh);
    let flux: f64 = pixels.iter().map(|p| f64::from(p.2)).sum();
    let ctx = Context {
        levels: &levels,
        mincont: mincont * flux,
        eight_connected,
        detection,
    };
    let mut out = Vec::new();
    ctx.split(pixels, None, 0, &mut out);
    out
}

struct Context<'a> {
    levels: &'a [f64],
    /// `mincont` × the flux of the original island.
    mincont: f64,
    eight_connected: bool,
    detection: &'a dyn Fn(usize, usize) -> f64,
}

impl Context<'_> {
    /// PySE's recursion: scan the levels from index `niter` up; at the first level where
    /// the island splits into more than one significant part, recurse into each part from
    /// `niter + 1` (while levels remain); one significant part: the same island again from
    /// `niter + 1`; none: the island as it is.
    fn split(
        &self,
        pixels: Vec<(usize, usize, f32)>,
        level: Option<f64>,
        niter: usize,
        out: &mut Vec<Part>,
    ) {
        let max = pixels
            .iter()
            .map(|p| f64::from(p.2))
            .fold(f64::MIN, f64::max);
        for &t in self.levels.iter().skip(niter) {
            if t > max {
                break;
            }
            let parts = components(&pixels, t, self.eight_connected);
            if parts.len() < 2 {
                continue;
            }
            let significant: Vec<Vec<(usize, usize, f32)>> = parts
                .into_iter()
                .filter(|part| {
                    part.iter().map(|p| f64::from(p.2) - t).sum::<f64>() > self.mincont
                        && part
                            .iter()
                            .any(|&(x, y, v)| f64::from(v) >= (self.detection)(x, y))
                })
                .collect();
            let more = niter + 1 < self.levels.len();
            match significant.len() {
                0 => break,
                1 if more => return self.split(pixels, level, niter + 1, out),
                1 => break,
                _ if more => {
                    for part in significant {
                        self.split(part, Some(t), niter + 1, out);
                    }
                    return;
                }
                _ => {
                    out.extend(significant.into_iter().map(|pixels| Part {
                        pixels,
                        level: Some(t),
                    }));
                    return;
                }
            }
        }
        out.push(Part { pixels, level });
    }
}

/// The connected parts of an island's pixels at or above `t`.
fn components(
    pixels: &[(usize, usize, f32)],
    t: f64,
    eight_connected: bool,
) -> Vec<Vec<(usize, usize, f32)>> {
    let above: Vec<(usize, usize, f32)> = pixels
        .iter()
        .copied()
        .filter(|p| f64::from(p.2) >= t)
        .collect();
    let index: std::collections::HashMap<(usize, usize), usize> = above
        .iter()
        .enumerate()
        .map(|(i, p)| ((p.0, p.1), i))
        .collect();
    let mut seen = vec![false; above.len()];
    let mut parts = Vec::new();
    for start in 0..above.len() {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut stack = vec![start];
        let mut part = Vec::new();
        while let Some(i) = stack.pop() {
            let (x, y, _) = above[i];
            part.push(above[i]);
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    if (dx == 0 && dy == 0) || (!eight_connected && dx != 0 && dy != 0) {
                        continue;
                    }
                    let (xn, yn) = (x as i64 + dx, y as i64 + dy);
                    if xn < 0 || yn < 0 {
                        continue;
                    }
                    if let Some(&j) = index.get(&(xn as usize, yn as usize)) {
                        if !seen[j] {
                            seen[j] = true;
                            stack.push(j);
                        }
                    }
                }
            }
        }
        parts.push(part);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subthresholds_by_hand() {
        // lo 0, hi 8, one level: exp(ln 9 / 2) − 1 = 3 − 1 = 2.
        let t = subthresholds(0.0, 8.0, 1);
        assert!(t.len() == 1 && (t[0] - 2.0).abs() < 1e-12, "{t:?}");
        // lo 2, hi 9, two levels: exp(ln 8 · i/3) + 1 = 2 + 1 and 4 + 1.
        let t = subthresholds(2.0, 9.0, 2);
        assert!(
            (t[0] - 3.0).abs() < 1e-12 && (t[1] - 5.0).abs() < 1e-12,
            "{t:?}"
        );
    }

    /// A row of pixels: two peaks joined by a saddle.
    fn ridge(values: &[f32]) -> Vec<(usize, usize, f32)> {
        values.iter().enumerate().map(|(x, &v)| (x, 0, v)).collect()
    }

    #[test]
    fn two_peaks_split_at_the_first_level_above_the_saddle() {
        // min 3, max 10, n = 3: levels exp(ln 8 · i/4) + 2 = 3.68, 4.83, 6.76. The saddle
        // (4) survives 3.68 and goes at 4.83: parts [5, 10, 6] and [9, 5], flux above the
        // cut 6.34 and 4.34 of the island's 45: both over 0.005 and both reach the
        // detection threshold 8.
        let island = ridge(&[3.0, 5.0, 10.0, 6.0, 4.0, 9.0, 5.0, 3.0]);
        let parts = deblend(island, 3, 0.005, true, &|_, _| 8.0);
        assert_eq!(parts.len(), 2);
        let xs: Vec<Vec<usize>> = parts
            .iter()
            .map(|p| {
                let mut x: Vec<usize> = p.pixels.iter().map(|q| q.0).collect();
                x.sort();
                x
            })
            .collect();
        assert!(
            xs.contains(&vec![1, 2, 3]) && xs.contains(&vec![5, 6]),
            "{xs:?}"
        );
        // Recursing from the next level keeps each part whole: each has one peak.
        assert!(parts
            .iter()
            .all(|p| (p.level.unwrap() - (8f64.ln() * 0.5).exp() - 2.0).abs() < 1e-12));
    }

    #[test]
    fn a_part_below_the_detection_threshold_or_the_contrast_is_not_a_source() {
        let island = ridge(&[3.0, 5.0, 10.0, 6.0, 4.0, 9.0, 5.0, 3.0]);
        // The second peak (9) is under a detection threshold of 9.5: one source.
        let parts = deblend(island.clone(), 3, 0.005, true, &|_, _| 9.5);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].pixels.len(), 8);
        assert!(parts[0].level.is_none());
        // Contrast: the smaller part holds 4.34/45 = 9.6 % of the flux above the cut.
        assert_eq!(deblend(island.clone(), 3, 0.1, true, &|_, _| 8.0).len(), 1);
        assert_eq!(deblend(island, 3, 0.09, true, &|_, _| 8.0).len(), 2);
    }

    #[test]
    fn connectivity_decides_whether_diagonal_pixels_touch() {
        // Two bright pixels touching only at a corner, over a faint base joining them.
        let island = vec![(0, 0, 10.0), (1, 1, 10.0), (1, 0, 2.0), (0, 1, 2.0)];
        assert_eq!(
            deblend(island.clone(), 2, 0.005, true, &|_, _| 8.0).len(),
            1
        );
        assert_eq!(deblend(island, 2, 0.005, false, &|_, _| 8.0).len(), 2);
    }
}
