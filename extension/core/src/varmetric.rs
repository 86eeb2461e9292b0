//! A lightcurve's running state in one band and Stokes parameter (`runningcatalog_flux`),
//! which association brings up to date in constant work per point, and the band its
//! variability summary (the `varmetric` view) describes.

use crate::lightcurve::{self, BandPoint, Point};
use crate::variability::FluxSums;

/// The latest point of a lightcurve in one band and Stokes parameter: the last in time,
/// ties by measurement id, as `lightcurve::in_time_order` sorts them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LastPoint {
    /// Seconds since 1970.
    pub epoch: f64,
    pub xtrsrc: i64,
    /// Its previous point (`assocxtrsource.prev_xtrsrc`).
    pub previous: Option<i64>,
    pub f_int: f64,
}

/// A lightcurve's running state in one band and Stokes parameter (`runningcatalog_flux`):
/// the flux sums, peak and integrated, the time of the first point, the largest
/// integrated flux, and the latest point. Each new point changes it in O(1), and it tells
/// which point a new one follows unless the new one is older than the latest.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BandState {
    pub peak: FluxSums,
    pub int: FluxSums,
    /// Seconds since 1970; meaningless while there are no points.
    pub first: f64,
    /// Meaningless while there are no points.
    pub max_f_int: f64,
    pub last: Option<LastPoint>,
}

impl BandState {
    /// The previous point of a new point taken at `epoch` (`lightcurve::previous_points`):
    /// after the latest point, the latest; at its time, the one the latest follows; none
    /// for the first point. None when it is older than the latest: then it falls among the
    /// stored points, and only they can tell (an image associated late).
    pub fn previous_of(&self, epoch: f64) -> Option<Option<i64>> {
        match self.last {
            None => Some(None),
            Some(last) if epoch > last.epoch => Some(Some(last.xtrsrc)),
            Some(last) if epoch == last.epoch => Some(last.previous),
            Some(_) => None,
        }
    }

    /// The state after `point` (of the image being associated) joins it, following
    /// `previous`: its fluxes join the sums and extremes, and it is the latest point if it
    /// is later than the latest.
    pub fn with_point(self, point: &Point, previous: Option<i64>) -> BandState {
        let first_point = self.int.n == 0;
        let is_latest = self
            .last
            .is_none_or(|l| (point.epoch, point.xtrsrc) > (l.epoch, l.xtrsrc));
        BandState {
            peak: self.peak.with(point.peak.0, point.peak.1),
            int: self.int.with(point.int.0, point.int.1),
            first: if first_point {
                point.epoch
            } else {
                self.first.min(point.epoch)
            },
            max_f_int: if first_point {
                point.int.0
            } else {
                self.max_f_int.max(point.int.0)
            },
            last: if is_latest {
                Some(LastPoint {
                    epoch: point.epoch,
                    xtrsrc: point.xtrsrc,
                    previous,
                    f_int: point.int.0,
                })
            } else {
                self.last
            },
        }
    }

    /// The state after the stored point `xtrsrc` came to follow `previous` (a point of an
    /// image associated late fell just before it).
    pub fn with_previous_changed(mut self, xtrsrc: i64, previous: Option<i64>) -> BandState {
        if let Some(last) = self.last.as_mut().filter(|l| l.xtrsrc == xtrsrc) {
            last.previous = previous;
        }
        self
    }
}

/// The band a lightcurve's variability summary describes, given its Stokes I states as
/// (band, state): TraP's rule (`lightcurve::summary_band`) over each band's latest point.
/// None when it has no Stokes I point.
pub fn summary_band<'a>(stokes_i: impl IntoIterator<Item = (i32, &'a BandState)>) -> Option<i32> {
    lightcurve::summary_band(stokes_i.into_iter().filter_map(|(band, state)| {
        state.last.map(|l| BandPoint {
            band,
            epoch: l.epoch,
            id: l.xtrsrc,
            f_int: l.f_int,
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::stokes;

    /// A point of the image being associated, Stokes I, band 1, with integrated and peak
    /// flux (flux, error).
    fn current(xtrsrc: i64, epoch: f64, int: (f64, f64), peak: (f64, f64)) -> Point {
        Point {
            xtrsrc,
            band: 1,
            stokes: stokes::I,
            previous: None,
            int,
            peak,
            epoch,
            current: true,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    fn sums_close(s: &FluxSums, n: i32, [f, f_sq, w, wf, wf_sq]: [f64; 5]) -> bool {
        s.n == n
            && close(s.sum_f, f)
            && close(s.sum_f_sq, f_sq)
            && close(s.sum_w, w)
            && close(s.sum_wf, wf)
            && close(s.sum_wf_sq, wf_sq)
    }

    #[test]
    fn a_point_joins_the_sums_the_extremes_and_becomes_the_latest() {
        // Integrated 1 ± 0.1 (w = 100), peak 2 ± 0.2 (w = 25) at t 10; then integrated
        // 3 ± 0.1, peak 2 ± 0.2 at t 40.
        let one = BandState::default().with_point(&current(7, 10.0, (1.0, 0.1), (2.0, 0.2)), None);
        assert_eq!(one.previous_of(40.0), Some(Some(7)));
        let two = one.with_point(&current(9, 40.0, (3.0, 0.1), (2.0, 0.2)), Some(7));
        // Integrated: n 2, Σf 1 + 3, Σf² 1 + 9, Σw 100 + 100, Σwf 100 + 300, Σwf² 100 + 900.
        assert!(sums_close(&two.int, 2, [4.0, 10.0, 200.0, 400.0, 1000.0]));
        // Peak: n 2, Σf 2 + 2, Σf² 4 + 4, Σw 25 + 25, Σwf 50 + 50, Σwf² 100 + 100.
        assert!(sums_close(&two.peak, 2, [4.0, 8.0, 50.0, 100.0, 200.0]));
        assert_eq!((two.first, two.max_f_int), (10.0, 3.0));
        assert_eq!(
            two.last,
            Some(LastPoint {
                epoch: 40.0,
                xtrsrc: 9,
                previous: Some(7),
                f_int: 3.0
            })
        );
    }

    #[test]
    fn the_previous_point_follows_from_the_latest_unless_the_point_is_older() {
        assert_eq!(BandState::default().previous_of(5.0), Some(None));
        let state = BandState::default()
            .with_point(&current(1, 10.0, (1.0, 0.1), (1.0, 0.1)), None)
            .with_point(&current(2, 20.0, (1.0, 0.1), (1.0, 0.1)), Some(1));
        // Later: follows 2. At 20 (another field at the same time): shares 2's previous.
        assert_eq!(state.previous_of(30.0), Some(Some(2)));
        assert_eq!(state.previous_of(20.0), Some(Some(1)));
        // At 15, between stored points: only the stored points can tell.
        assert_eq!(state.previous_of(15.0), None);
    }

    #[test]
    fn an_older_point_joins_the_sums_but_not_the_latest() {
        let state = BandState::default()
            .with_point(&current(5, 20.0, (2.0, 0.1), (2.0, 0.1)), None)
            .with_point(&current(8, 10.0, (4.0, 0.1), (4.0, 0.1)), None);
        assert_eq!((state.int.n, state.first, state.max_f_int), (2, 10.0, 4.0));
        let last = state.last.unwrap();
        assert_eq!((last.xtrsrc, last.previous), (5, None));
        // The late point falls before 5, which now follows it.
        let moved = state.with_previous_changed(5, Some(8));
        assert_eq!(moved.last.unwrap().previous, Some(8));
        assert_eq!(moved.with_previous_changed(6, None), moved);
        // At one time the higher measurement id is the latest.
        let tie = state.with_point(&current(9, 20.0, (1.0, 0.1), (1.0, 0.1)), None);
        assert_eq!(tie.last.unwrap().xtrsrc, 9);
        let lower = state.with_point(&current(3, 20.0, (1.0, 0.1), (1.0, 0.1)), None);
        assert_eq!(lower.last.unwrap().xtrsrc, 5);
    }

    #[test]
    fn the_summary_describes_the_band_brightest_at_its_latest_point() {
        // Band 1 ends at 2 Jy (t 30), band 2 at 0.5 Jy (t 5): band 1.
        let band1 = BandState::default()
            .with_point(&current(1, 10.0, (9.0, 0.1), (9.0, 0.1)), None)
            .with_point(&current(3, 30.0, (2.0, 0.1), (2.0, 0.1)), Some(1));
        let band2 = BandState::default().with_point(&current(2, 5.0, (0.5, 0.1), (0.5, 0.1)), None);
        assert_eq!(summary_band([(2, &band2), (1, &band1)]), Some(1));
        // Equal latest fluxes: the lower band.
        let band3 = BandState::default().with_point(&current(4, 1.0, (2.0, 0.1), (2.0, 0.1)), None);
        assert_eq!(summary_band([(3, &band3), (1, &band1)]), Some(1));
        assert_eq!(summary_band([(4, &BandState::default())]), None);
        assert_eq!(summary_band([]), None);
    }
}
