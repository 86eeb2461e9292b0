//! What `skytrap.check_integrity()` proves of one lightcurve: that the state association
//! keeps for it, point by point, is what its points give when worked out afresh. Each
//! stored value is compared with a recomputation by another route: the flux sums and pair
//! metrics by folding the points in time order and pairing every two of them, the previous
//! points by sorting, the summary from the recomputed band.

use crate::codes::stokes;
use crate::lightcurve::{in_band, in_time_order, previous_points, Point};
use crate::variability::{FluxSums, SignificantPair};
use crate::varmetric::{BandState, Summary};

/// A stored flux row: the state of the lightcurve in one band and Stokes parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StoredBand {
    pub band: i32,
    pub stokes: i16,
    pub state: BandState,
}

/// A violated invariant: its name and what was found.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    pub invariant: &'static str,
    pub detail: String,
}

/// Flux sums are compared to this fraction of the sum of the sizes of their terms: the
/// round-off of adding the same numbers in another order (an image associated late adds
/// its point out of time order) is some 1e-16 of that per term, and a point lost, doubled
/// or altered changes a sum by far more.
const SUM_TOLERANCE: f64 = 1e-9;

/// The violations of `lightcurve`'s stored state: its points (in any order, each with the
/// previous point it stores), its flux rows and its variability summary, where the
/// dataset's pair threshold is `min_abs_vs`. None for a lightcurve whose state is its
/// points'.
pub fn violations(
    lightcurve: &mut [Point],
    stored: &[StoredBand],
    varmetric: Option<&Summary>,
    min_abs_vs: f64,
) -> Vec<Violation> {
    in_time_order(lightcurve);
    let mut found = Vec::new();
    let mut keys: Vec<(i32, i16)> = lightcurve.iter().map(|p| (p.band, p.stokes)).collect();
    keys.sort_unstable();
    keys.dedup();

    for &(band, stokes) in &keys {
        let points: Vec<&Point> = in_band(lightcurve, band, stokes).collect();
        let times: Vec<f64> = points.iter().map(|p| p.epoch).collect();
        for (p, before) in points.iter().zip(previous_points(&times)) {
            let expected = before.map(|j| points[j].xtrsrc);
            if p.previous != expected {
                found.push(Violation {
                    invariant: "previous point",
                    detail: format!(
                        "measurement {} names {} as its previous point; the points' times give {}",
                        p.xtrsrc,
                        shown(p.previous),
                        shown(expected)
                    ),
                });
            }
        }
        let Some(row) = stored.iter().find(|s| (s.band, s.stokes) == (band, stokes)) else {
            found.push(Violation {
                invariant: "flux sums",
                detail: format!(
                    "no flux row for band {band}, Stokes {stokes}, which has {} points",
                    points.len()
                ),
            });
            continue;
        };
        let (recomputed, sizes) = band_state(&points, min_abs_vs);
        compare_band(band, stokes, &row.state, &recomputed, &sizes, &mut found);
    }
    for s in stored {
        if !keys.contains(&(s.band, s.stokes)) {
            found.push(Violation {
                invariant: "flux sums",
                detail: format!(
                    "a flux row for band {}, Stokes {} counts {} points; there are none",
                    s.band, s.stokes, s.state.peak.n
                ),
            });
        }
    }
    compare_summary(lightcurve, stored, varmetric, &mut found);
    found
}

fn shown(id: Option<i64>) -> String {
    id.map_or_else(|| "none".to_string(), |id| id.to_string())
}

/// The state of one band's points, in time order, worked out afresh: the sums, and the
/// pair metrics over every pair; with the sums of the sizes of the sums' terms.
fn band_state(points: &[&Point], min_abs_vs: f64) -> (BandState, [FluxSums; 2]) {
    let mut state = BandState::default();
    let mut sizes = [FluxSums::default(); 2];
    for (i, p) in points.iter().enumerate() {
        state.peak = state.peak.with(p.peak.0, p.peak.1);
        state.int = state.int.with(p.int.0, p.int.1);
        sizes[0] = sizes[0].with(p.peak.0.abs(), p.peak.1);
        sizes[1] = sizes[1].with(p.int.0.abs(), p.int.1);
        let earlier = &points[..i];
        state.pair_peak =
            state
                .pair_peak
                .with_pairs(p.peak, earlier.iter().map(|q| q.peak), min_abs_vs);
        state.pair_int =
            state
                .pair_int
                .with_pairs(p.int, earlier.iter().map(|q| q.int), min_abs_vs);
    }
    (state, sizes)
}

fn compare_band(
    band: i32,
    stokes: i16,
    stored: &BandState,
    recomputed: &BandState,
    sizes: &[FluxSums; 2],
    found: &mut Vec<Violation>,
) {
    let mut differ = Vec::new();
    for (kind, s, r, size) in [
        ("peak", &stored.peak, &recomputed.peak, &sizes[0]),
        ("int", &stored.int, &recomputed.int, &sizes[1]),
    ] {
        if s.n != r.n {
            differ.push(format!("f_datapoints {} (points: {})", s.n, r.n));
        }
        for (name, a, b, size) in [
            ("sum_f", s.sum_f, r.sum_f, size.sum_f),
            ("sum_f_sq", s.sum_f_sq, r.sum_f_sq, size.sum_f_sq),
            ("sum_f_weight", s.sum_w, r.sum_w, size.sum_w),
            ("sum_weighted_f", s.sum_wf, r.sum_wf, size.sum_wf),
            (
                "sum_weighted_f_sq",
                s.sum_wf_sq,
                r.sum_wf_sq,
                size.sum_wf_sq,
            ),
        ] {
            if !same(a, b, SUM_TOLERANCE * size) {
                let column = name.replacen("_f", &format!("_f_{kind}"), 1);
                differ.push(format!("{column} {a} (points: {b})"));
            }
        }
    }
    for (kind, s, r) in [
        ("int", &stored.pair_int, &recomputed.pair_int),
        ("peak", &stored.pair_peak, &recomputed.pair_peak),
    ] {
        if !same_pair(s, r) {
            differ.push(format!(
                "pair metrics ({kind}) |Vs| {} |m| {} (points: {} {})",
                s.vs_abs, s.m_abs, r.vs_abs, r.m_abs
            ));
        }
    }
    if !differ.is_empty() {
        found.push(Violation {
            invariant: "flux sums",
            detail: format!("band {band}, Stokes {stokes}: {}", differ.join(", ")),
        });
    }
}

/// The summary must describe the band TraP's rule picks, with V and η of that band's
/// stored sums, and the count, extremes, mean, median and pair metrics of its points.
fn compare_summary(
    lightcurve: &[Point],
    stored: &[StoredBand],
    varmetric: Option<&Summary>,
    found: &mut Vec<Violation>,
) {
    let violation = |detail: String| Violation {
        invariant: "variability summary",
        detail,
    };
    let (band, varmetric) = match (Summary::band_of(lightcurve), varmetric) {
        (None, None) => return,
        (None, Some(_)) => {
            found.push(violation(
                "a varmetric row for a lightcurve with no Stokes I point".into(),
            ));
            return;
        }
        (Some(band), None) => {
            found.push(violation(format!("no varmetric row (band {band})")));
            return;
        }
        (Some(band), Some(v)) => (band, v),
    };
    let Some(state) = stored
        .iter()
        .find(|s| (s.band, s.stokes) == (band, stokes::I))
    else {
        // Already reported as a missing flux row.
        return;
    };
    let expected = Summary::of(lightcurve, band, &state.state);
    let mut differ = Vec::new();
    if varmetric.band != band {
        differ.push(format!("band {} (points: {band})", varmetric.band));
    }
    if varmetric.n != expected.n {
        differ.push(format!(
            "datapoints {} (points: {})",
            varmetric.n, expected.n
        ));
    }
    for (name, a, b) in [
        ("v_int", varmetric.v_int, expected.v_int),
        ("eta_int", varmetric.eta_int, expected.eta_int),
        ("v_peak", varmetric.v_peak, expected.v_peak),
        ("eta_peak", varmetric.eta_peak, expected.eta_peak),
        ("lightcurve_max", varmetric.max, expected.max),
        ("lightcurve_avg", varmetric.avg, expected.avg),
        ("lightcurve_median", varmetric.median, expected.median),
    ] {
        if !same(a, b, 1e-9 * a.abs().max(b.abs())) {
            differ.push(format!("{name} {a} (points: {b})"));
        }
    }
    // Times are stored to the microsecond.
    for (name, a, b) in [
        ("first_ts", varmetric.first, expected.first),
        ("last_ts", varmetric.last, expected.last),
    ] {
        if !same(a, b, 1e-6) {
            differ.push(format!("{name} {a} (points: {b})"));
        }
    }
    if !same_pair(&varmetric.pair_int, &expected.pair_int)
        || !same_pair(&varmetric.pair_peak, &expected.pair_peak)
    {
        differ.push("pair metrics differ from its band's flux row".into());
    }
    if !differ.is_empty() {
        found.push(violation(differ.join(", ")));
    }
}

/// Equal within `tolerance`, NaN equal to NaN and an infinity to itself.
fn same(a: f64, b: f64, tolerance: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= tolerance
}

/// Pair metrics are worked out from the same two points either way, so they agree to the
/// last bits; which of two pairs of equal |m| is kept may differ only in |Vs|.
fn same_pair(a: &SignificantPair, b: &SignificantPair) -> bool {
    let close = |x: f64, y: f64| same(x, y, 1e-12 * x.abs().max(y.abs()));
    close(a.m_abs, b.m_abs) && (close(a.vs_abs, b.vs_abs) || a.m_abs == b.m_abs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Stokes I point in band 1 with integrated and peak flux `f` ± 0.1.
    fn point(xtrsrc: i64, epoch: f64, f: f64, previous: Option<i64>) -> Point {
        Point {
            xtrsrc,
            band: 1,
            stokes: stokes::I,
            previous,
            int: (f, 0.1),
            peak: (f, 0.1),
            epoch,
            current: false,
        }
    }

    /// A flaring lightcurve, 1, 3, 2 Jy ± 0.1 on days 1 to 3, stored as association
    /// keeps it (the sums and pair metrics worked by hand).
    fn flaring() -> (Vec<Point>, Vec<StoredBand>, Summary) {
        let points = vec![
            point(12, 3.0, 2.0, Some(11)),
            point(10, 1.0, 1.0, None),
            point(11, 2.0, 3.0, Some(10)),
        ];
        // n 3, Σf 6, Σf² 14, Σw 300, Σwf 600, Σwf² 1400.
        let sums = FluxSums {
            n: 3,
            sum_f: 6.0,
            sum_f_sq: 14.0,
            sum_w: 300.0,
            sum_wf: 600.0,
            sum_wf_sq: 1400.0,
        };
        // 1 against 3: |Vs| = 2/√0.02, |m| = 1, the largest |m| of the three pairs.
        let pair = SignificantPair {
            vs_abs: 200f64.sqrt(),
            m_abs: 1.0,
        };
        let state = BandState {
            peak: sums,
            int: sums,
            pair_peak: pair,
            pair_int: pair,
        };
        let stored = vec![StoredBand {
            band: 1,
            stokes: stokes::I,
            state,
        }];
        // Mean 2, sample sd 1: V = 0.5; η = 100·(1 + 1 + 0)/2 = 100.
        let summary = Summary {
            band: 1,
            v_int: 0.5,
            eta_int: 100.0,
            v_peak: 0.5,
            eta_peak: 100.0,
            max: 3.0,
            avg: 2.0,
            median: 2.0,
            pair_int: pair,
            pair_peak: pair,
            n: 3,
            first: 1.0,
            last: 3.0,
        };
        (points, stored, summary)
    }

    fn invariants(found: &[Violation]) -> Vec<&'static str> {
        found.iter().map(|v| v.invariant).collect()
    }

    #[test]
    fn a_lightcurve_kept_right_has_no_violations() {
        let (mut points, stored, summary) = flaring();
        assert_eq!(violations(&mut points, &stored, Some(&summary), 4.3), []);
    }

    #[test]
    fn a_sum_that_is_not_its_points_is_found() {
        let (mut points, mut stored, summary) = flaring();
        // As if the 2 Jy point had been added twice to the integrated sum: V of the sums
        // is no longer the summary's either.
        stored[0].state.int.sum_f += 2.0;
        let found = violations(&mut points, &stored, Some(&summary), 4.3);
        assert_eq!(invariants(&found), ["flux sums", "variability summary"]);
        assert!(
            found[0].detail.contains("sum_f_int 8 (points: 6)"),
            "{found:?}"
        );
    }

    #[test]
    fn a_lost_point_is_found_in_the_count_and_the_summary() {
        let (mut points, stored, summary) = flaring();
        // Day 3's 2 Jy point.
        points.remove(0);
        let found = violations(&mut points, &stored, Some(&summary), 4.3);
        assert_eq!(
            invariants(&found),
            ["flux sums", "variability summary"],
            "{found:?}"
        );
    }

    #[test]
    fn a_wrong_previous_point_is_found() {
        let (mut points, stored, summary) = flaring();
        points[0].previous = Some(10);
        let found = violations(&mut points, &stored, Some(&summary), 4.3);
        assert_eq!(invariants(&found), ["previous point"]);
        assert!(found[0].detail.contains("measurement 12 names 10"));
    }

    #[test]
    fn pair_metrics_are_checked_against_every_pair() {
        let (mut points, mut stored, summary) = flaring();
        // As if the 1 Jy point had never been paired with the 3 Jy one: the best pair
        // left is 1 against 2, |m| = 2/3.
        stored[0].state.pair_int = SignificantPair {
            vs_abs: 50f64.sqrt(),
            m_abs: 2.0 / 3.0,
        };
        let found = violations(&mut points, &stored, Some(&summary), 4.3);
        assert_eq!(
            invariants(&found),
            ["flux sums", "variability summary"],
            "{found:?}"
        );
    }

    #[test]
    fn a_summary_of_the_wrong_band_or_median_is_found() {
        let (mut points, stored, mut summary) = flaring();
        summary.median = 1.0;
        let found = violations(&mut points, &stored, Some(&summary), 4.3);
        assert_eq!(invariants(&found), ["variability summary"]);
        assert!(found[0].detail.contains("lightcurve_median 1 (points: 2)"));
        assert_eq!(
            invariants(&violations(&mut points, &stored, None, 4.3)),
            ["variability summary"]
        );
    }

    #[test]
    fn rows_without_points_are_found() {
        let (mut points, mut stored, summary) = flaring();
        stored.push(StoredBand {
            band: 2,
            ..stored[0]
        });
        let found = violations(&mut points, &stored, Some(&summary), 4.3);
        assert_eq!(invariants(&found), ["flux sums"]);
        assert!(found[0]
            .detail
            .contains("band 2, Stokes 1 counts 3 points; there are none"));
    }

    #[test]
    fn sums_added_out_of_time_order_agree() {
        // Three points whose sum rounds differently by order: 0.2 + 0.3 + 0.1 (day 1's
        // image associated last) is 0.6, 0.1 + 0.2 + 0.3 is 0.6000000000000001.
        let mut points = vec![
            point(1, 1.0, 0.1, None),
            point(2, 2.0, 0.2, Some(1)),
            point(3, 3.0, 0.3, Some(2)),
        ];
        let late_first = [0.2, 0.3, 0.1]
            .into_iter()
            .fold(FluxSums::default(), |s, f| s.with(f, 0.1));
        let in_order = [0.1, 0.2, 0.3]
            .into_iter()
            .fold(FluxSums::default(), |s, f| s.with(f, 0.1));
        assert_ne!(late_first.sum_f, in_order.sum_f);
        let stored = [StoredBand {
            band: 1,
            stokes: stokes::I,
            state: BandState {
                peak: late_first,
                int: late_first,
                ..BandState::default()
            },
        }];
        let summary = Summary::of(&points, 1, &stored[0].state);
        assert_eq!(violations(&mut points, &stored, Some(&summary), 4.3), []);
    }
}
