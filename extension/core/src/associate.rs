//! Matching an image's sources to the running catalogue, and the running weighted-mean
//! position of a lightcurve.

use crate::sky::{self, Position};

/// The running position of one lightcurve: inverse-variance weighted means of RA and Dec
/// with the summed weights, as TraP keeps them, but updated on the unwrapped RA
/// difference so a source on RA 0/360 averages correctly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunningPosition {
    pub datapoints: i32,
    pub wm_ra: f64,
    pub wm_decl: f64,
    /// Σ 1/σ_ew² (degrees⁻²).
    pub sum_weight_ra: f64,
    /// Σ 1/σ_ns² (degrees⁻²).
    pub sum_weight_decl: f64,
}

impl RunningPosition {
    /// The position of a lightcurve whose first point is `p`.
    pub fn first(p: &Position) -> RunningPosition {
        RunningPosition {
            datapoints: 1,
            wm_ra: sky::normalise_ra(p.ra),
            wm_decl: p.dec,
            sum_weight_ra: 1.0 / (p.unc_ew * p.unc_ew),
            sum_weight_decl: 1.0 / (p.unc_ns * p.unc_ns),
        }
    }

    /// The position after one more detection at `p`.
    pub fn with(self, p: &Position) -> RunningPosition {
        let w_ra = 1.0 / (p.unc_ew * p.unc_ew);
        let w_decl = 1.0 / (p.unc_ns * p.unc_ns);
        let sum_weight_ra = self.sum_weight_ra + w_ra;
        let sum_weight_decl = self.sum_weight_decl + w_decl;
        RunningPosition {
            datapoints: self.datapoints + 1,
            wm_ra: sky::normalise_ra(
                self.wm_ra + w_ra * sky::ra_difference(p.ra, self.wm_ra) / sum_weight_ra,
            ),
            wm_decl: self.wm_decl + w_decl * (p.dec - self.wm_decl) / sum_weight_decl,
            sum_weight_ra,
            sum_weight_decl,
        }
    }

    /// The weighted position with its uncertainties, 1/sqrt(Σw).
    pub fn position(&self) -> Position {
        Position {
            ra: self.wm_ra,
            dec: self.wm_decl,
            unc_ew: self.sum_weight_ra.sqrt().recip(),
            unc_ns: self.sum_weight_decl.sqrt().recip(),
        }
    }
}

/// One accepted pair of (extracted source, running-catalogue entry).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Match {
    pub source: usize,
    pub candidate: usize,
    /// De Ruiter radius (dimensionless).
    pub r: f64,
    /// Angular distance, degrees.
    pub distance: f64,
}

/// Pairs each source with at most one catalogue entry and each entry with at most one
/// source: of all pairs closer than `radius` degrees with a De Ruiter radius below
/// `r_max`, the smallest r is taken first, then the next among those still free.
/// Returns, per source, its match if any.
pub fn match_one_to_one(
    sources: &[Position],
    catalogue: &[Position],
    radius: f64,
    r_max: f64,
) -> Vec<Option<Match>> {
    let mut by_dec: Vec<usize> = (0..catalogue.len()).collect();
    by_dec.sort_by(|&a, &b| catalogue[a].dec.total_cmp(&catalogue[b].dec));
    let decs: Vec<f64> = by_dec.iter().map(|&i| catalogue[i].dec).collect();

    let mut pairs = Vec::new();
    for (s, src) in sources.iter().enumerate() {
        let lo = decs.partition_point(|&d| d < src.dec - radius);
        let hi = decs.partition_point(|&d| d <= src.dec + radius);
        for &c in &by_dec[lo..hi] {
            let cand = &catalogue[c];
            let distance = sky::distance(src.ra, src.dec, cand.ra, cand.dec);
            if distance >= radius {
                continue;
            }
            let r = sky::de_ruiter(src, cand);
            if r < r_max {
                pairs.push(Match {
                    source: s,
                    candidate: c,
                    r,
                    distance,
                });
            }
        }
    }
    pairs.sort_by(|a, b| {
        a.r.total_cmp(&b.r)
            .then(a.source.cmp(&b.source))
            .then(a.candidate.cmp(&b.candidate))
    });

    let mut by_source = vec![None; sources.len()];
    let mut taken = vec![false; catalogue.len()];
    for m in pairs {
        if by_source[m.source].is_none() && !taken[m.candidate] {
            taken[m.candidate] = true;
            by_source[m.source] = Some(m);
        }
    }
    by_source
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARCSEC: f64 = 1.0 / 3600.0;

    fn at(ra: f64, dec: f64) -> Position {
        Position {
            ra,
            dec,
            unc_ew: ARCSEC,
            unc_ns: ARCSEC,
        }
    }

    #[test]
    fn weighted_mean_matches_hand_computation() {
        // Weights 1/1² and 1/2² (arcsec): mean dec = (0·1 + 3·0.25)/1.25 = 0.6 arcsec.
        let a = at(10.0, 0.0);
        let b = Position {
            unc_ew: 2.0 * ARCSEC,
            unc_ns: 2.0 * ARCSEC,
            ..at(10.0, 3.0 * ARCSEC)
        };
        let p = RunningPosition::first(&a).with(&b);
        assert_eq!(p.datapoints, 2);
        assert!((p.wm_decl - 0.6 * ARCSEC).abs() < 1e-15);
        assert!((p.position().unc_ns - (1.0 / 1.25f64).sqrt() * ARCSEC).abs() < 1e-15);
    }

    #[test]
    fn weighted_mean_across_ra_zero() {
        let p = RunningPosition::first(&at(359.9999, 0.0)).with(&at(0.0001, 0.0));
        assert!(p.wm_ra.abs() < 1e-9 || (p.wm_ra - 360.0).abs() < 1e-9);
        assert!(p.wm_ra < 360.0);
    }

    #[test]
    fn nearest_wins_and_matches_are_one_to_one() {
        let catalogue = [at(10.0, 10.0), at(10.0, 10.0 + 10.0 * ARCSEC)];
        // Two sources both nearest to the first entry: the closer takes it, the other
        // takes the second entry, which is within reach.
        let sources = [at(10.0, 10.0 + 4.0 * ARCSEC), at(10.0, 10.0 + 1.0 * ARCSEC)];
        let m = match_one_to_one(&sources, &catalogue, 30.0 * ARCSEC, 5.68);
        assert_eq!(m[1].unwrap().candidate, 0);
        assert_eq!(m[0].unwrap().candidate, 1);
        assert!((m[1].unwrap().distance - ARCSEC).abs() < 1e-12);
    }

    #[test]
    fn radius_and_de_ruiter_limits_are_strict() {
        let catalogue = [at(10.0, 10.0)];
        // 9 arcsec away with 1 arcsec errors: r = 9/sqrt(2) = 6.36 > 5.68.
        let far = [at(10.0, 10.0 + 9.0 * ARCSEC)];
        assert!(match_one_to_one(&far, &catalogue, 1.0, 5.68)[0].is_none());
        // Within r but outside the hard radius.
        let near = [at(10.0, 10.0 + 2.0 * ARCSEC)];
        assert!(match_one_to_one(&near, &catalogue, ARCSEC, 5.68)[0].is_none());
        assert!(match_one_to_one(&near, &catalogue, 3.0 * ARCSEC, 5.68)[0].is_some());
    }

    #[test]
    fn matches_across_ra_zero() {
        let catalogue = [at(359.9999, -45.0)];
        let sources = [at(0.0001, -45.0)];
        let m = match_one_to_one(&sources, &catalogue, 10.0 * ARCSEC, 5.68);
        assert!(m[0].is_some());
    }
}
