//! What `skytrap.check_integrity()` proves of one lightcurve: that the state association
//! keeps for it, point by point, is what its points give when worked out afresh. Each
//! stored value is compared with a recomputation by another route: the flux sums by
//! folding the points in time order, the first, largest and latest point by sorting, the
//! previous points by sorting, the band the variability summary describes by TraP's rule
//! over every Stokes I point.

use crate::codes::stokes;
use crate::lightcurve::{in_band, in_time_order, previous_points, summary_band, BandPoint, Point};
use crate::variability::FluxSums;
use crate::varmetric::{BandState, LastPoint};

/// A stored flux row: the state of the lightcurve in one band and Stokes parameter, and
/// whether the `varmetric` view shows it (`varmetric_band`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StoredBand {
    pub band: i32,
    pub stokes: i16,
    pub state: BandState,
    pub varmetric_band: bool,
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

/// Times are stored to the microsecond.
const TIME_TOLERANCE: f64 = 1e-6;

/// The violations of `lightcurve`'s stored state: its points (in any order, each with the
/// previous point it stores) and its flux rows. None for a lightcurve whose state is its
/// points'.
pub fn violations(lightcurve: &mut [Point], stored: &[StoredBand]) -> Vec<Violation> {
    in_time_order(lightcurve);
    let mut found = Vec::new();
    let mut keys: Vec<(i32, i16)> = lightcurve.iter().map(|p| (p.band, p.stokes)).collect();
    keys.sort_unstable();
    keys.dedup();

    for &(band, stokes) in &keys {
        let points: Vec<&Point> = in_band(lightcurve, band, stokes).collect();
        let times: Vec<f64> = points.iter().map(|p| p.epoch).collect();
        let expected_previous: Vec<Option<i64>> = previous_points(&times)
            .into_iter()
            .map(|before| before.map(|j| points[j].xtrsrc))
            .collect();
        for (p, expected) in points.iter().zip(&expected_previous) {
            if p.previous != *expected {
                found.push(Violation {
                    invariant: "previous point",
                    detail: format!(
                        "measurement {} names {} as its previous point; the points' times give {}",
                        p.xtrsrc,
                        shown(p.previous),
                        shown(*expected)
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
        let (recomputed, sizes) = band_state(&points, &expected_previous);
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
    compare_summary_band(lightcurve, stored, &mut found);
    found
}

fn shown(id: Option<i64>) -> String {
    id.map_or_else(|| "none".to_string(), |id| id.to_string())
}

/// The state of one band's points, in time order, worked out afresh: the sums, the first
/// time, the largest integrated flux and the last point (with the previous point the
/// points' times give it); with the sums of the sizes of the sums' terms.
fn band_state(points: &[&Point], previous: &[Option<i64>]) -> (BandState, [FluxSums; 2]) {
    let mut state = BandState::default();
    let mut sizes = [FluxSums::default(); 2];
    for p in points {
        state.peak = state.peak.with(p.peak.0, p.peak.1);
        state.int = state.int.with(p.int.0, p.int.1);
        sizes[0] = sizes[0].with(p.peak.0.abs(), p.peak.1);
        sizes[1] = sizes[1].with(p.int.0.abs(), p.int.1);
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        state.first = first.epoch;
        state.max_f_int = points
            .iter()
            .map(|p| p.int.0)
            .fold(f64::NEG_INFINITY, f64::max);
        state.last = Some(LastPoint {
            epoch: last.epoch,
            xtrsrc: last.xtrsrc,
            previous: previous.last().copied().flatten(),
            f_int: last.int.0,
        });
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
    if !same(stored.first, recomputed.first, TIME_TOLERANCE) {
        differ.push(format!(
            "first_ts {} (points: {})",
            stored.first, recomputed.first
        ));
    }
    // The largest of the same numbers, and the last point's own flux: exact.
    if !same(stored.max_f_int, recomputed.max_f_int, 0.0) {
        differ.push(format!(
            "max_f_int {} (points: {})",
            stored.max_f_int, recomputed.max_f_int
        ));
    }
    match (stored.last, recomputed.last) {
        (Some(s), Some(r))
            if same(s.epoch, r.epoch, TIME_TOLERANCE)
                && (s.xtrsrc, s.previous) == (r.xtrsrc, r.previous)
                && same(s.f_int, r.f_int, 0.0) => {}
        (s, r) => differ.push(format!(
            "last point {} (points: {})",
            shown_last(s),
            shown_last(r)
        )),
    }
    if !differ.is_empty() {
        found.push(Violation {
            invariant: "flux sums",
            detail: format!("band {band}, Stokes {stokes}: {}", differ.join(", ")),
        });
    }
}

fn shown_last(last: Option<LastPoint>) -> String {
    last.map_or_else(
        || "none".to_string(),
        |l| {
            format!(
                "measurement {} at {} with {} Jy after {}",
                l.xtrsrc,
                l.epoch,
                l.f_int,
                shown(l.previous)
            )
        },
    )
}

/// Exactly one flux row is shown as the lightcurve's variability summary: the Stokes I
/// row of the band TraP's rule picks from its points; none when it has no Stokes I point.
fn compare_summary_band(lightcurve: &[Point], stored: &[StoredBand], found: &mut Vec<Violation>) {
    let expected = summary_band(
        lightcurve
            .iter()
            .filter(|p| p.stokes == stokes::I)
            .map(|p| BandPoint {
                band: p.band,
                epoch: p.epoch,
                id: p.xtrsrc,
                f_int: p.int.0,
            }),
    );
    let mut flagged: Vec<(i32, i16)> = stored
        .iter()
        .filter(|s| s.varmetric_band)
        .map(|s| (s.band, s.stokes))
        .collect();
    flagged.sort_unstable();
    let wanted: Vec<(i32, i16)> = expected.map(|b| (b, stokes::I)).into_iter().collect();
    if flagged != wanted {
        let rows = |rows: &[(i32, i16)]| {
            if rows.is_empty() {
                "none".to_string()
            } else {
                rows.iter()
                    .map(|(b, s)| format!("band {b} Stokes {s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        found.push(Violation {
            invariant: "variability summary",
            detail: format!(
                "varmetric shows {} (points: {})",
                rows(&flagged),
                rows(&wanted)
            ),
        });
    }
}

/// Equal within `tolerance`, NaN equal to NaN and an infinity to itself.
fn same(a: f64, b: f64, tolerance: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= tolerance
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
    /// keeps it (the sums worked by hand).
    fn flaring() -> (Vec<Point>, Vec<StoredBand>) {
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
        let state = BandState {
            peak: sums,
            int: sums,
            first: 1.0,
            max_f_int: 3.0,
            last: Some(LastPoint {
                epoch: 3.0,
                xtrsrc: 12,
                previous: Some(11),
                f_int: 2.0,
            }),
        };
        let stored = vec![StoredBand {
            band: 1,
            stokes: stokes::I,
            state,
            varmetric_band: true,
        }];
        (points, stored)
    }

    fn invariants(found: &[Violation]) -> Vec<&'static str> {
        found.iter().map(|v| v.invariant).collect()
    }

    #[test]
    fn a_lightcurve_kept_right_has_no_violations() {
        let (mut points, stored) = flaring();
        assert_eq!(violations(&mut points, &stored), []);
    }

    #[test]
    fn a_sum_that_is_not_its_points_is_found() {
        let (mut points, mut stored) = flaring();
        // As if the 2 Jy point had been added twice to the integrated sum.
        stored[0].state.int.sum_f += 2.0;
        let found = violations(&mut points, &stored);
        assert_eq!(invariants(&found), ["flux sums"]);
        assert!(
            found[0].detail.contains("sum_f_int 8 (points: 6)"),
            "{found:?}"
        );
    }

    #[test]
    fn a_lost_point_is_found_in_the_count_and_the_last_point() {
        let (mut points, stored) = flaring();
        // Day 3's 2 Jy point.
        points.remove(0);
        let found = violations(&mut points, &stored);
        assert_eq!(invariants(&found), ["flux sums"], "{found:?}");
        assert!(
            found[0].detail.contains("f_datapoints 3 (points: 2)")
                && found[0].detail.contains(
                    "last point measurement 12 at 3 with 2 Jy after 11 \
                     (points: measurement 11 at 2 with 3 Jy after 10)"
                ),
            "{found:?}"
        );
    }

    #[test]
    fn a_wrong_previous_point_is_found_on_the_link_and_the_flux_row() {
        let (mut points, mut stored) = flaring();
        points[0].previous = Some(10);
        let found = violations(&mut points, &stored);
        assert_eq!(invariants(&found), ["previous point"]);
        assert!(found[0].detail.contains("measurement 12 names 10"));
        // `violations` sorted them: measurement 12 is now the last.
        points[2].previous = Some(11);
        stored[0].state.last.as_mut().unwrap().previous = Some(10);
        assert_eq!(invariants(&violations(&mut points, &stored)), ["flux sums"]);
    }

    #[test]
    fn a_wrong_first_time_or_largest_flux_is_found() {
        let (mut points, mut stored) = flaring();
        stored[0].state.first = 2.0;
        stored[0].state.max_f_int = 2.0;
        let found = violations(&mut points, &stored);
        assert_eq!(invariants(&found), ["flux sums"]);
        assert!(
            found[0].detail.contains("first_ts 2 (points: 1)")
                && found[0].detail.contains("max_f_int 2 (points: 3)"),
            "{found:?}"
        );
    }

    #[test]
    fn the_summary_must_show_the_band_of_the_rule_and_only_it() {
        // A band 2 point at day 2 with 5 Jy: band 2's latest (5 Jy) outshines band 1's
        // latest (2 Jy at day 3), so band 2's row is the summary.
        let (mut points, mut stored) = flaring();
        points.push(Point {
            band: 2,
            previous: None,
            ..point(13, 2.0, 5.0, None)
        });
        let band2 = BandState::default().with_point(&points[3], None);
        stored.push(StoredBand {
            band: 2,
            stokes: stokes::I,
            state: band2,
            varmetric_band: false,
        });
        let found = violations(&mut points, &stored);
        assert_eq!(invariants(&found), ["variability summary"]);
        assert!(
            found[0]
                .detail
                .contains("varmetric shows band 1 Stokes 1 (points: band 2 Stokes 1)"),
            "{found:?}"
        );
        stored[0].varmetric_band = false;
        stored[1].varmetric_band = true;
        assert_eq!(violations(&mut points, &stored), []);
        // Two rows shown, or none, is as wrong.
        stored[0].varmetric_band = true;
        assert_eq!(
            invariants(&violations(&mut points, &stored)),
            ["variability summary"]
        );
        stored[0].varmetric_band = false;
        stored[1].varmetric_band = false;
        assert_eq!(
            invariants(&violations(&mut points, &stored)),
            ["variability summary"]
        );
    }

    #[test]
    fn a_lightcurve_without_stokes_i_shows_no_summary() {
        let (mut points, mut stored) = flaring();
        for p in &mut points {
            p.stokes = 4;
        }
        stored[0].stokes = 4;
        let found = violations(&mut points, &stored);
        assert_eq!(invariants(&found), ["variability summary"]);
        stored[0].varmetric_band = false;
        assert_eq!(violations(&mut points, &stored), []);
    }

    #[test]
    fn rows_without_points_are_found() {
        let (mut points, mut stored) = flaring();
        stored.push(StoredBand {
            band: 2,
            varmetric_band: false,
            ..stored[0]
        });
        let found = violations(&mut points, &stored);
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
                first: 1.0,
                max_f_int: 0.3,
                last: Some(LastPoint {
                    epoch: 3.0,
                    xtrsrc: 3,
                    previous: Some(2),
                    f_int: 0.3,
                }),
            },
            varmetric_band: true,
        }];
        assert_eq!(violations(&mut points, &stored), []);
    }
}
