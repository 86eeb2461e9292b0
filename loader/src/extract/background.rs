//! Background and noise maps as PySE computes them: κσ-clipped statistics in a grid of
//! boxes, with the clipping bias corrected and a SExtractor-style mode for the background,
//! interpolated back to full resolution.

use anyhow::{bail, Result};
use ndarray::Array2;
use rayon::prelude::*;
use skytrap_core::variability::median;

/// Full-resolution background and noise (Jy/beam).
pub struct Maps {
    pub background: Array2<f32>,
    pub rms: Array2<f32>,
    /// The median noise of the grid's nodes (boxes that gave a value), Jy/beam.
    pub node_rms_median: f64,
}

/// Computes the maps from the unmasked pixels (`mask` true = excluded) in boxes of
/// `box_size` (x, y) pixels, laid out as PySE lays them (`ImageData.__grids`): over the
/// bounding box of the unmasked pixels, trimmed symmetrically to a whole number of boxes;
/// only boxes with no masked pixel make a node, the others take the nearest node's
/// values; nodes are interpolated linearly back to full resolution as PySE's
/// `two_step_interp` does. Beyond the trimmed box the outer nodes' values are held (PySE
/// leaves the background 0 and the noise at the lowest node there).
pub fn estimate(data: &Array2<f32>, mask: &Array2<bool>, box_size: (usize, usize)) -> Result<Maps> {
    let (ny, nx) = data.dim();
    // The bounding box of the unmasked pixels.
    let (mut x0, mut x1, mut y0, mut y1) = (usize::MAX, 0, usize::MAX, 0);
    for ((y, x), &m) in mask.indexed_iter() {
        if !m {
            x0 = x0.min(x);
            x1 = x1.max(x + 1);
            y0 = y0.min(y);
            y1 = y1.max(y + 1);
        }
    }
    if x0 == usize::MAX {
        bail!("no unmasked pixels to estimate the noise from");
    }
    let (bx, by) = (box_size.0.clamp(1, x1 - x0), box_size.1.clamp(1, y1 - y0));
    let (gx, gy) = ((x1 - x0) / bx, (y1 - y0) / by);
    // PySE's trim: the remainder split in two, the odd pixel taken off the far end.
    let (ox, oy) = (x0 + (x1 - x0) % bx / 2, y0 + (y1 - y0) % by / 2);

    let node_boxes = |needed: usize| -> Vec<(bool, Option<(f64, f64)>)> {
        (0..gx * gy)
            .into_par_iter()
            .map(|k| {
                let (i, j) = (k % gx, k / gx);
                let mut values = Vec::with_capacity(bx * by);
                for y in oy + j * by..oy + (j + 1) * by {
                    for x in ox + i * bx..ox + (i + 1) * bx {
                        let v = data[[y, x]];
                        if !mask[[y, x]] && v.is_finite() {
                            values.push(f64::from(v));
                        }
                    }
                }
                if values.len() < needed || values.len() < 3 {
                    (false, None)
                } else {
                    (true, clipped_statistics(&mut values))
                }
            })
            .collect()
    };
    // Like PySE, only a box with no masked pixel makes a node (it is centred on its
    // node). Where no box is whole (blanked pixels scattered over the image, where PySE
    // finds nothing) boxes at least half unmasked do.
    let mut boxes = node_boxes(bx * by);
    if boxes.iter().all(|b| !b.0) {
        boxes = node_boxes(bx * by / 2);
    }
    let nodes: Vec<Option<(f64, f64)>> = boxes.iter().map(|b| b.1).collect();
    if nodes.iter().all(Option::is_none) {
        if boxes.iter().any(|b| b.0) {
            bail!(
                "the noise is zero: every background box of {bx}x{by} pixels is one value \
                 after clipping (a model image without noise?)"
            );
        }
        bail!(
            "no background box of {bx}x{by} pixels has enough unmasked pixels to estimate \
             the noise (at least half the box and 3 pixels)"
        );
    }
    let mut node_rms: Vec<f64> = nodes.iter().flatten().map(|n| n.1).collect();
    let node_rms_median = median(&mut node_rms);
    let filled = fill_masked_nodes(&nodes, gx);
    let (span_x, span_y) = (gx * bx, gy * by);
    // Every row brackets its pixels by the same columns of nodes: work them out once.
    let columns: Vec<(usize, usize, f64)> = (0..nx).map(|x| bracket(x, ox, span_x, gx)).collect();
    let interpolate = |pick: fn(&(f64, f64)) -> f64| {
        let values: Vec<f64> = filled.iter().map(pick).collect();
        let mut out = Array2::<f32>::zeros((ny, nx));
        out.axis_iter_mut(ndarray::Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(y, mut row)| {
                let (j0, j1, fy) = bracket(y, oy, span_y, gy);
                let (upper, lower) = (&values[j0 * gx..][..gx], &values[j1 * gx..][..gx]);
                for (out, &(i0, i1, fx)) in row.iter_mut().zip(&columns) {
                    let top = upper[i0] * (1.0 - fx) + upper[i1] * fx;
                    let bottom = lower[i0] * (1.0 - fx) + lower[i1] * fx;
                    *out = (top * (1.0 - fy) + bottom * fy) as f32;
                }
            });
        out
    };
    Ok(Maps {
        background: interpolate(|n| n.0),
        rms: interpolate(|n| n.1),
        node_rms_median,
    })
}

/// Masked nodes take the value of the nearest good node (the first in row order among
/// equals). Exhaustive search where that is cheap; otherwise, when a small --back-size or
/// a mostly blank image makes many masked nodes, a breadth-first propagation of nearest
/// good nodes (exact but for rare ties), linear in the number of nodes instead of
/// quadratic, so that no setting can make this step hang.
fn fill_masked_nodes(nodes: &[Option<(f64, f64)>], gx: usize) -> Vec<(f64, f64)> {
    let good: Vec<usize> = (0..nodes.len()).filter(|&m| nodes[m].is_some()).collect();
    let masked = nodes.len() - good.len();
    let at = |k: usize| ((k % gx) as i64, (k / gx) as i64);
    let d2 = |a: usize, b: usize| {
        let ((ax, ay), (bx, by)) = (at(a), at(b));
        (ax - bx).pow(2) + (ay - by).pow(2)
    };
    if (masked as u64) * (good.len() as u64) <= 20_000_000 {
        return (0..nodes.len())
            .map(|k| {
                nodes[k].unwrap_or_else(|| {
                    good.iter()
                        .min_by_key(|&&m| d2(k, m))
                        .and_then(|&m| nodes[m])
                        .unwrap_or_default()
                })
            })
            .collect();
    }
    let gy = nodes.len() / gx;
    let mut nearest: Vec<Option<usize>> = nodes
        .iter()
        .enumerate()
        .map(|(k, n)| n.map(|_| k))
        .collect();
    let mut queue: std::collections::VecDeque<usize> = good.iter().copied().collect();
    while let Some(k) = queue.pop_front() {
        let Some(seed) = nearest[k] else { continue };
        let (x, y) = at(k);
        for (dx, dy) in crate::extract::islands::EIGHT_NEIGHBOURS {
            let (xn, yn) = (x + dx, y + dy);
            if xn < 0 || yn < 0 || xn >= gx as i64 || yn >= gy as i64 {
                continue;
            }
            let n = yn as usize * gx + xn as usize;
            let better = match nearest[n] {
                None => true,
                Some(current) => {
                    nodes[n].is_none() && (d2(n, seed), seed) < (d2(n, current), current)
                }
            };
            if better {
                nearest[n] = Some(seed);
                queue.push_back(n);
            }
        }
    }
    (0..nodes.len())
        .map(|k| nearest[k].and_then(|m| nodes[m]).unwrap_or_default())
        .collect()
}

/// The two nodes around pixel `p` along one axis and the weight of the second. As in
/// PySE's `two_step_interp`, the `span` pixels from `offset` map linearly onto node
/// coordinates −0.5 … n − 0.5 (first pixel to last), nodes sit at integer coordinates,
/// and values beyond the outer nodes are held constant.
fn bracket(p: usize, offset: usize, span: usize, nodes: usize) -> (usize, usize, f64) {
    let g = if span > 1 {
        -0.5 + (p as f64 - offset as f64) * nodes as f64 / (span - 1) as f64
    } else {
        0.0
    };
    let g = g.clamp(0.0, (nodes - 1) as f64);
    let i0 = g.floor() as usize;
    let i1 = (i0 + 1).min(nodes - 1);
    (i0, i1, g - i0 as f64)
}

/// Background (mode estimate) and noise of one box: clip at ±2σ about the median until
/// nothing changes, correcting σ each pass for the variance the clip removed.
pub fn clipped_statistics(values: &mut Vec<f64>) -> Option<(f64, f64)> {
    if values.len() < 3 {
        return None;
    }
    let mut clip: Option<f64> = None;
    loop {
        let median = median(values);
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        let sigma = match clip {
            Some(c) => unclipped_sigma(std, c),
            None => std,
        };
        if sigma == 0.0 {
            return None;
        }
        let c = 2.0 * sigma;
        let before = values.len();
        values.retain(|v| (v - median).abs() < c);
        if values.len() == before || values.len() < 3 {
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let background = if ((mean - median) / sigma).abs() < 0.3 {
                2.5 * median - 1.5 * mean
            } else {
                median
            };
            return Some((background, sigma));
        }
        clip = Some(c);
    }
}

/// σ of a normal distribution whose values within ±c have standard deviation `s`:
/// solves s² = σ²·(1 − 2t·φ(t)/erf(t/√2)) with t = c/σ (PySE's bias correction).
pub fn unclipped_sigma(s: f64, c: f64) -> f64 {
    let truncated_var = |sigma: f64| {
        let t = c / sigma;
        let phi = (-t * t / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        sigma * sigma * (1.0 - 2.0 * t * phi / libm::erf(t / std::f64::consts::SQRT_2))
    };
    // The truncated variance grows with σ towards c²/3; no root means no correction.
    if s <= 0.0 || s * s >= c * c / 3.0 {
        return s;
    }
    let (mut lo, mut hi) = (s, s);
    while truncated_var(hi) < s * s {
        hi *= 2.0;
        if hi > 1e6 * s {
            return s;
        }
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if mid == lo || mid == hi {
            // lo and hi are adjacent numbers: no further step changes them.
            break;
        }
        if truncated_var(mid) < s * s {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic standard normal sample (Box–Muller on a fixed LCG).
    fn normal_sample(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = crate::simulate::Rng::new(seed);
        (0..n).map(|_| rng.normal()).collect()
    }

    #[test]
    fn clipping_correction_recovers_sigma_of_truncated_normal() {
        // Within ±2σ a unit normal has variance 1 − 2·2·φ(2)/erf(√2) = 0.7737 (tables).
        let s = 0.7737413f64.sqrt();
        assert!((unclipped_sigma(s, 2.0) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn noise_and_background_of_pure_noise() {
        let mut v: Vec<f64> = normal_sample(200_000, 7)
            .into_iter()
            .map(|x| 5.0 + 0.01 * x)
            .collect();
        let (bg, rms) = clipped_statistics(&mut v).unwrap();
        assert!((rms - 0.01).abs() < 0.0002, "rms {rms}");
        assert!((bg - 5.0).abs() < 0.0002, "bg {bg}");
    }

    #[test]
    fn bright_sources_do_not_raise_the_noise() {
        let mut v: Vec<f64> = normal_sample(10_000, 3);
        for x in v.iter_mut().take(300) {
            *x += 50.0;
        }
        let (_, rms) = clipped_statistics(&mut v).unwrap();
        assert!((rms - 1.0).abs() < 0.05, "rms {rms}");
    }

    #[test]
    fn maps_are_flat_for_flat_noise() {
        let noise = normal_sample(200 * 300, 11);
        let data = Array2::from_shape_fn((200, 300), |(y, x)| noise[y * 300 + x] as f32);
        let mask = Array2::from_elem((200, 300), false);
        let maps = estimate(&data, &mask, (50, 50)).unwrap();
        for &r in maps.rms.iter() {
            assert!((r - 1.0).abs() < 0.1, "rms {r}");
        }
    }

    #[test]
    fn masked_nodes_take_the_nearest_good_node_fast_or_exhaustive() {
        // A 400 x 400 grid with one good node in a corner and one in the middle: the
        // propagation (used for many masked nodes) must give what the search gives.
        let (gx, gy) = (400, 400);
        let mut nodes = vec![None; gx * gy];
        nodes[0] = Some((1.0, 1.0));
        nodes[200 * gx + 200] = Some((2.0, 2.0));
        let started = std::time::Instant::now();
        let filled = fill_masked_nodes(&nodes, gx);
        assert!(started.elapsed().as_secs_f64() < 5.0);
        for (k, v) in filled.iter().enumerate() {
            let (x, y) = ((k % gx) as i64, (k / gx) as i64);
            let to_corner = x * x + y * y;
            let to_middle = (x - 200).pow(2) + (y - 200).pow(2);
            if to_corner != to_middle {
                let expect = if to_corner < to_middle { 1.0 } else { 2.0 };
                assert_eq!(v.0, expect, "node ({x}, {y})");
            }
        }
        let _ = gy;
    }

    #[test]
    fn zero_noise_and_tiny_boxes_are_named() {
        let mut data = Array2::from_elem((100, 100), 0.0f32);
        data[[50, 50]] = 1.0;
        let mask = Array2::from_elem((100, 100), false);
        let e = estimate(&data, &mask, (50, 50)).err().unwrap().to_string();
        assert!(e.contains("the noise is zero"), "{e}");
        let e = estimate(&data, &mask, (1, 1)).err().unwrap().to_string();
        assert!(e.contains("enough unmasked pixels"), "{e}");
    }

    #[test]
    fn all_masked_image_is_an_error() {
        let data = Array2::from_elem((100, 100), 1.0f32);
        let mask = Array2::from_elem((100, 100), true);
        assert!(estimate(&data, &mask, (50, 50)).is_err());
    }
}
