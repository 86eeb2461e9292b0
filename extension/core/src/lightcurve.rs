//! Order within a lightcurve: which measurement each one follows, and where an image's
//! points fall among those stored.

use std::collections::HashMap;

/// For the times of a lightcurve's points in one band, sorted (ties in any fixed order),
/// the index of each point's previous point: the last point of the latest strictly earlier
/// time. Points taken at the same time (two overlapping fields observed together) are not
/// one another's previous point; they share the one before them.
pub fn previous_points(times: &[f64]) -> Vec<Option<usize>> {
    let mut previous = Vec::with_capacity(times.len());
    let mut same_time_from = 0;
    for (i, t) in times.iter().enumerate() {
        if i > 0 && *t != times[i - 1] {
            same_time_from = i;
        }
        previous.push(same_time_from.checked_sub(1));
    }
    previous
}

/// One measurement of a lightcurve in Stokes I, as TraP's `varmetric` rule sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandPoint {
    pub band: i32,
    /// Seconds since 1970.
    pub epoch: f64,
    /// Breaks ties in time: the later-stored measurement counts as the later one.
    pub id: i64,
    pub f_int: f64,
}

/// The band a lightcurve's variability summary describes, by TraP's rule: per band the
/// latest point, and of those the band whose point has the largest integrated flux (ties:
/// the lower band id, where TraP writes both and fails on a unique key, its issue #566).
/// None for no points.
pub fn summary_band(points: impl IntoIterator<Item = BandPoint>) -> Option<i32> {
    let mut latest: Vec<BandPoint> = Vec::new();
    for p in points {
        match latest.iter_mut().find(|l| l.band == p.band) {
            Some(l) if (p.epoch, p.id) > (l.epoch, l.id) => *l = p,
            Some(_) => {}
            None => latest.push(p),
        }
    }
    latest
        .into_iter()
        .max_by(|a, b| a.f_int.total_cmp(&b.f_int).then(b.band.cmp(&a.band)))
        .map(|p| p.band)
}

/// A measurement on a lightcurve, as association reads it: stored, or the image's being
/// associated (`current`, not stored yet).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub xtrsrc: i64,
    pub band: i32,
    pub stokes: i16,
    /// The previous point as stored (None for the current image's points).
    pub previous: Option<i64>,
    /// (flux, error)
    pub int: (f64, f64),
    pub peak: (f64, f64),
    /// Seconds since 1970.
    pub epoch: f64,
    /// Whether it is the current image's.
    pub current: bool,
}

/// The points of each lightcurve an image touches, by running-catalogue id: the stored
/// ones and the image's, each lightcurve sorted by `in_time_order`.
pub type Lightcurves = HashMap<i64, Vec<Point>>;

/// Sorts a lightcurve's points by time, ties by measurement id, so that the previous points
/// and the sums over them come out the same (to the bit) whatever order the rows were read
/// in.
pub fn in_time_order(lightcurve: &mut [Point]) {
    lightcurve.sort_by(|a, b| a.epoch.total_cmp(&b.epoch).then(a.xtrsrc.cmp(&b.xtrsrc)));
}

/// The points of a lightcurve in one band and Stokes parameter.
pub fn in_band(
    lightcurve: &[Point],
    band: i32,
    stokes: i16,
) -> impl Iterator<Item = &Point> + Clone {
    lightcurve
        .iter()
        .filter(move |p| p.band == band && p.stokes == stokes)
}

/// Where an image's points fall in their lightcurves (in its band and Stokes parameter):
/// each new point's previous point, and the stored points whose previous point is now one
/// of the image's (an image associated after a later one; none when images come in time
/// order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PointOrder {
    /// Of each new point, in the order they were given.
    pub previous: Vec<Option<i64>>,
    /// Stored points whose previous point changed, as (runcat, xtrsrc, new previous point),
    /// sorted.
    pub later: Vec<(i64, i64, Option<i64>)>,
}

impl PointOrder {
    /// The order of the image's points `new`, given as (runcat, xtrsrc), in `lightcurves`
    /// (which hold them, marked `current`) in `band` and `stokes`.
    pub fn of(
        new: impl IntoIterator<Item = (i64, i64)>,
        lightcurves: &Lightcurves,
        band: i32,
        stokes: i16,
    ) -> PointOrder {
        let mut previous_of_new = HashMap::new();
        let mut later = Vec::new();
        for (&rc, lc) in lightcurves {
            let lc: Vec<&Point> = in_band(lc, band, stokes).collect();
            let times: Vec<f64> = lc.iter().map(|p| p.epoch).collect();
            for (p, before) in lc.iter().zip(previous_points(&times)) {
                let before = before.map(|j| lc[j].xtrsrc);
                if p.current {
                    previous_of_new.insert((rc, p.xtrsrc), before);
                } else if p.previous != before {
                    later.push((rc, p.xtrsrc, before));
                }
            }
        }
        later.sort_unstable();
        let previous = new
            .into_iter()
            .map(|key| previous_of_new.get(&key).copied().flatten())
            .collect();
        PointOrder { previous, later }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(band: i32, epoch: f64, id: i64, f_int: f64) -> BandPoint {
        BandPoint {
            band,
            epoch,
            id,
            f_int,
        }
    }

    #[test]
    fn the_summary_describes_the_brightest_band_at_its_latest_point() {
        // Band 1 was brighter once, but its latest point (1.0) is fainter than band 2's
        // latest (1.5), though band 2's latest is older than band 1's.
        let points = [
            point(1, 0.0, 1, 3.0),
            point(2, 0.0, 2, 1.5),
            point(1, 10.0, 3, 1.0),
        ];
        assert_eq!(summary_band(points), Some(2));
        // A later point of band 1 at 2.0 takes it back.
        let more = [points[0], points[1], points[2], point(1, 20.0, 4, 2.0)];
        assert_eq!(summary_band(more), Some(1));
        // At one time the later-stored point is the latest; equal fluxes go to the lower band.
        assert_eq!(
            summary_band([
                point(3, 5.0, 7, 1.0),
                point(3, 5.0, 6, 9.0),
                point(2, 1.0, 1, 1.0)
            ]),
            Some(2)
        );
        assert_eq!(summary_band([]), None);
    }

    #[test]
    fn each_point_follows_the_one_before_it() {
        assert_eq!(
            previous_points(&[10.0, 20.0, 35.0]),
            [None, Some(0), Some(1)]
        );
    }

    #[test]
    fn points_at_one_time_share_the_previous_point() {
        // Times 1, 2, 2, 3: both points at 2 follow the point at 1, and the point at 3
        // follows the last of the two (the later in the tie order).
        assert_eq!(
            previous_points(&[1.0, 2.0, 2.0, 3.0]),
            [None, Some(0), Some(0), Some(2)]
        );
        assert_eq!(previous_points(&[5.0, 5.0]), [None, None]);
    }

    #[test]
    fn no_points_no_previous() {
        assert!(previous_points(&[]).is_empty());
    }

    /// A stored point of band 1, Stokes I.
    fn stored(xtrsrc: i64, epoch: f64, previous: Option<i64>) -> Point {
        Point {
            xtrsrc,
            band: 1,
            stokes: 1,
            previous,
            int: (1.0, 0.1),
            peak: (1.0, 0.1),
            epoch,
            current: false,
        }
    }

    /// A point of the image being associated, band 1, Stokes I.
    fn current(xtrsrc: i64, epoch: f64) -> Point {
        Point {
            current: true,
            ..stored(xtrsrc, epoch, None)
        }
    }

    /// `lightcurves` with each sorted as association sorts them.
    fn sorted(lightcurves: impl IntoIterator<Item = (i64, Vec<Point>)>) -> Lightcurves {
        let mut lightcurves: Lightcurves = lightcurves.into_iter().collect();
        lightcurves.values_mut().for_each(|lc| in_time_order(lc));
        lightcurves
    }

    #[test]
    fn points_are_in_time_order_ties_by_measurement() {
        let mut lc = [
            stored(4, 20.0, None),
            stored(1, 10.0, None),
            stored(2, 20.0, None),
        ];
        in_time_order(&mut lc);
        let order: Vec<i64> = lc.iter().map(|p| p.xtrsrc).collect();
        assert_eq!(order, [1, 2, 4]);
    }

    #[test]
    fn an_image_in_time_order_follows_the_last_point_and_moves_none() {
        // Stored 1 (t 10) and 2 (t 20, after 1); the image's point 3 at t 30 follows 2.
        let lightcurves = sorted([(
            7,
            vec![
                stored(1, 10.0, None),
                stored(2, 20.0, Some(1)),
                current(3, 30.0),
            ],
        )]);
        let order = PointOrder::of([(7, 3)], &lightcurves, 1, 1);
        assert_eq!(order.previous, [Some(2)]);
        assert!(order.later.is_empty());
    }

    #[test]
    fn a_late_image_comes_between_stored_points() {
        // Lightcurve 7 holds 1 (t 10) and 3 (t 30, after 1); the image's point 2 at t 20
        // follows 1, and 3 now follows 2. Lightcurve 5 holds 8 (t 20, the first); the
        // image's point 9 at t 10 is now the first, and 8 follows it.
        let lightcurves = sorted([
            (
                7,
                vec![
                    stored(3, 30.0, Some(1)),
                    current(2, 20.0),
                    stored(1, 10.0, None),
                ],
            ),
            (5, vec![stored(8, 20.0, None), current(9, 10.0)]),
        ]);
        let order = PointOrder::of([(7, 2), (5, 9)], &lightcurves, 1, 1);
        assert_eq!(order.previous, [Some(1), None]);
        assert_eq!(order.later, [(5, 8, Some(9)), (7, 3, Some(2))]);
    }

    #[test]
    fn other_bands_and_stokes_parameters_keep_their_own_order() {
        // Point 4 (band 2, t 20) and point 6 (Stokes V, t 25) lie between 1 and the
        // image's point 5 at t 30 in time, but not in band 1, Stokes I: 5 follows 1, and
        // neither 4 nor 6 changes.
        let lightcurves = sorted([(
            7,
            vec![
                stored(1, 10.0, None),
                Point {
                    band: 2,
                    ..stored(4, 20.0, None)
                },
                Point {
                    stokes: 4,
                    ..stored(6, 25.0, None)
                },
                current(5, 30.0),
            ],
        )]);
        let order = PointOrder::of([(7, 5)], &lightcurves, 1, 1);
        assert_eq!(order.previous, [Some(1)]);
        assert!(order.later.is_empty());
    }

    #[test]
    fn a_point_at_the_time_of_a_stored_one_shares_its_previous_point() {
        // Stored 1 (t 10), 2 (t 20, after 1), 3 (t 30, after 2); the image's point 4 at
        // t 20 (an overlapping field observed at once) follows 1, as 2 does, and 3 now
        // follows 4, the later of the two at t 20 in measurement order.
        let lightcurves = sorted([(
            7,
            vec![
                stored(1, 10.0, None),
                stored(2, 20.0, Some(1)),
                stored(3, 30.0, Some(2)),
                current(4, 20.0),
            ],
        )]);
        let order = PointOrder::of([(7, 4)], &lightcurves, 1, 1);
        assert_eq!(order.previous, [Some(1)]);
        assert_eq!(order.later, [(7, 3, Some(4))]);
    }
}
