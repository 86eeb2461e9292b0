//! Order within a lightcurve: which measurement each one follows.

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
}
