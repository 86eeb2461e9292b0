//! A lightcurve's variability summary (its `varmetric` row) and the running state in one
//! band it is made from (`runningcatalog_flux`), as association brings them up to date
//! point by point.

use crate::codes::stokes;
use crate::lightcurve::{self, in_band, BandPoint, Point};
use crate::variability::{median, FluxSums, SignificantPair};

/// A lightcurve's running state in one band and Stokes parameter (`runningcatalog_flux`):
/// the flux sums and VAST's pair summaries, peak and integrated.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BandState {
    pub peak: FluxSums,
    pub int: FluxSums,
    pub pair_peak: SignificantPair,
    pub pair_int: SignificantPair,
}

impl BandState {
    /// The state after `point`, a point of the image being associated, joins `lightcurve`
    /// (which holds it) in its band and Stokes parameter: its fluxes join the sums, and the
    /// pair summaries pair it with the lightcurve's stored points there. Every pair is
    /// then summarised once, when the later-associated of its two points comes in.
    pub fn with_point(self, point: &Point, lightcurve: &[Point], min_abs_vs: f64) -> BandState {
        let stored = in_band(lightcurve, point.band, point.stokes).filter(|q| !q.current);
        BandState {
            peak: self.peak.with(point.peak.0, point.peak.1),
            int: self.int.with(point.int.0, point.int.1),
            pair_peak: self.pair_peak.with_pairs(
                point.peak,
                stored.clone().map(|q| q.peak),
                min_abs_vs,
            ),
            pair_int: self
                .pair_int
                .with_pairs(point.int, stored.map(|q| q.int), min_abs_vs),
        }
    }
}

/// A lightcurve's variability summary: its `varmetric` row but for the columns taken from
/// its new-source record. It describes one band, in Stokes I: images in Stokes Q, U or V
/// leave it alone (a Stokes V mean near 0 would make V huge).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub band: i32,
    pub v_int: f64,
    pub eta_int: f64,
    pub v_peak: f64,
    pub eta_peak: f64,
    /// The largest, mean and median integrated flux of the band's points.
    pub max: f64,
    pub avg: f64,
    pub median: f64,
    pub pair_int: SignificantPair,
    pub pair_peak: SignificantPair,
    /// How many points the band has.
    pub n: i32,
    /// The first and last point's time, seconds since 1970.
    pub first: f64,
    pub last: f64,
}

impl Summary {
    /// The band a lightcurve's summary describes: TraP's rule (`lightcurve::summary_band`)
    /// over its Stokes I points; None for a lightcurve with none.
    pub fn band_of(lightcurve: &[Point]) -> Option<i32> {
        lightcurve::summary_band(
            lightcurve
                .iter()
                .filter(|p| p.stokes == stokes::I)
                .map(|p| BandPoint {
                    band: p.band,
                    epoch: p.epoch,
                    id: p.xtrsrc,
                    f_int: p.int.0,
                }),
        )
    }

    /// The summary of `lightcurve` in `band`, whose Stokes I state there is `state`: V and
    /// η from its sums, VAST's pair metrics from its pair summaries, and the max, mean and
    /// median integrated flux, count and times of its points in the band.
    pub fn of(lightcurve: &[Point], band: i32, state: &BandState) -> Summary {
        let points: Vec<&Point> = in_band(lightcurve, band, stokes::I).collect();
        let mut fluxes: Vec<f64> = points.iter().map(|q| q.int.0).collect();
        let times = points.iter().map(|q| q.epoch);
        Summary {
            band,
            v_int: state.int.v(),
            eta_int: state.int.eta(),
            v_peak: state.peak.v(),
            eta_peak: state.peak.eta(),
            max: fluxes.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            // In time order, before `median` reorders them.
            avg: fluxes.iter().sum::<f64>() / fluxes.len() as f64,
            median: median(&mut fluxes),
            pair_int: state.pair_int,
            pair_peak: state.pair_peak,
            n: points.len() as i32,
            first: times.clone().fold(f64::INFINITY, f64::min),
            last: times.fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STOKES_V: i16 = 4;

    /// A stored Stokes I point with integrated and peak flux (flux, error).
    fn stored(xtrsrc: i64, band: i32, epoch: f64, int: (f64, f64), peak: (f64, f64)) -> Point {
        Point {
            xtrsrc,
            band,
            stokes: stokes::I,
            previous: None,
            int,
            peak,
            epoch,
            current: false,
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
    fn a_point_joins_the_sums_and_pairs_with_the_stored_points_of_its_band() {
        // Band 1 holds one point: integrated 1 ± 0.1 (w = 100), peak 2 ± 0.2 (w = 25). The
        // image adds integrated 3 ± 0.1 and peak 2 ± 0.2.
        let a = stored(1, 1, 10.0, (1.0, 0.1), (2.0, 0.2));
        let state = BandState {
            int: FluxSums {
                n: 1,
                sum_f: 1.0,
                sum_f_sq: 1.0,
                sum_w: 100.0,
                sum_wf: 100.0,
                sum_wf_sq: 100.0,
            },
            peak: FluxSums {
                n: 1,
                sum_f: 2.0,
                sum_f_sq: 4.0,
                sum_w: 25.0,
                sum_wf: 50.0,
                sum_wf_sq: 100.0,
            },
            ..BandState::default()
        };
        let new = Point {
            current: true,
            ..stored(4, 1, 40.0, (3.0, 0.1), (2.0, 0.2))
        };
        // 30 Jy in band 2 and in Stokes V would pair with 3 Jy at |m| = 54/33 > 1: other
        // bands and Stokes parameters are not paired.
        let lightcurve = [
            a,
            stored(2, 2, 20.0, (30.0, 0.1), (30.0, 0.1)),
            Point {
                stokes: STOKES_V,
                ..stored(3, 1, 30.0, (30.0, 0.1), (30.0, 0.1))
            },
            new,
        ];
        let after = state.with_point(&new, &lightcurve, 4.3);
        // Integrated: n 2, Σf 1 + 3, Σf² 1 + 9, Σw 100 + 100, Σwf 100 + 300, Σwf² 100 + 900.
        assert!(sums_close(&after.int, 2, [4.0, 10.0, 200.0, 400.0, 1000.0]));
        // Peak: n 2, Σf 2 + 2, Σf² 4 + 4, Σw 25 + 25, Σwf 50 + 50, Σwf² 100 + 100.
        assert!(sums_close(&after.peak, 2, [4.0, 8.0, 50.0, 100.0, 200.0]));
        // 3 ± 0.1 against 1 ± 0.1: |Vs| = 2/√0.02 = √200 ≥ 4.3, |m| = 2·2/4 = 1.
        assert!(close(after.pair_int.vs_abs, 200f64.sqrt()) && close(after.pair_int.m_abs, 1.0));
        // Equal peaks: |Vs| = 0, not significant, so no pair.
        assert_eq!(after.pair_peak, SignificantPair::default());
    }

    /// A lightcurve in bands 1 and 2 with a bright Stokes V point in band 3.
    fn two_bands() -> [Point; 5] {
        [
            stored(2, 2, 5.0, (0.5, 0.1), (0.5, 0.1)),
            stored(1, 1, 10.0, (1.0, 0.1), (2.0, 0.2)),
            stored(3, 1, 20.0, (3.0, 0.1), (2.0, 0.2)),
            stored(4, 1, 30.0, (2.0, 0.1), (2.0, 0.2)),
            Point {
                stokes: STOKES_V,
                ..stored(5, 1, 40.0, (100.0, 0.1), (100.0, 0.1))
            },
        ]
    }

    #[test]
    fn the_summary_describes_the_brightest_band_in_stokes_i() {
        // Latest Stokes I points: band 1 at t 30 with 2 Jy, band 2 at t 5 with 0.5 Jy. In
        // band 3 the 100 Jy point would be the brightest, were it not Stokes V.
        let mut lightcurve = two_bands();
        lightcurve[4].band = 3;
        assert_eq!(Summary::band_of(&lightcurve), Some(1));
        assert_eq!(Summary::band_of(&lightcurve[4..]), None);
    }

    #[test]
    fn the_summary_counts_the_stokes_i_points_of_its_band() {
        // Band 1, Stokes I: 1, 3, 2 Jy at t 10, 20, 30, all ± 0.1; peaks 2 ± 0.2.
        let lightcurve = two_bands();
        let int = [1.0, 3.0, 2.0]
            .into_iter()
            .fold(FluxSums::default(), |s, f| s.with(f, 0.1));
        let peak = (0..3).fold(FluxSums::default(), |s, _| s.with(2.0, 0.2));
        let pair = SignificantPair {
            vs_abs: 200f64.sqrt(),
            m_abs: 1.0,
        };
        let state = BandState {
            int,
            peak,
            pair_int: pair,
            pair_peak: SignificantPair::default(),
        };
        let s = Summary::of(&lightcurve, 1, &state);
        assert_eq!(s.band, 1);
        // Mean 2, sample sd 1: V = 0.5. Weights 100 each, ξ = 2:
        // η = 100·(1 + 1 + 0)/(3 − 1) = 100.
        assert!(close(s.v_int, 0.5) && close(s.eta_int, 100.0));
        // Steady peaks: V = η = 0.
        assert!(close(s.v_peak, 0.0) && close(s.eta_peak, 0.0));
        // Neither band 2's 0.5 Jy at t 5 nor Stokes V's 100 Jy at t 40 counts.
        assert_eq!((s.max, s.avg, s.median), (3.0, 2.0, 2.0));
        assert_eq!((s.n, s.first, s.last), (3, 10.0, 30.0));
        assert_eq!(
            (s.pair_int, s.pair_peak),
            (pair, SignificantPair::default())
        );
    }
}
