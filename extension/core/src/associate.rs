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

    /// The position after one more detection at `p`: the weighted mean of the offsets
    /// east and north in the plane tangent at the current position, so that it holds at
    /// the poles and across RA 0/360 (TraP averages RA and declination as plane
    /// coordinates; away from the poles the two agree to second order in the offsets).
    pub fn with(self, p: &Position) -> RunningPosition {
        let w_ra = 1.0 / (p.unc_ew * p.unc_ew);
        let w_decl = 1.0 / (p.unc_ns * p.unc_ns);
        let sum_weight_ra = self.sum_weight_ra + w_ra;
        let sum_weight_decl = self.sum_weight_decl + w_decl;
        let (east, north) = sky::tangent_offsets(self.wm_ra, self.wm_decl, p.ra, p.dec);
        let (wm_ra, wm_decl) = sky::from_tangent(
            self.wm_ra,
            self.wm_decl,
            w_ra * east / sum_weight_ra,
            w_decl * north / sum_weight_decl,
        );
        RunningPosition {
            datapoints: self.datapoints + 1,
            wm_ra,
            wm_decl,
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

/// A candidate pair (extracted source, running-catalogue entry).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pair {
    pub source: usize,
    pub candidate: usize,
    /// De Ruiter radius (dimensionless).
    pub r: f64,
    /// Angular distance, degrees.
    pub distance: f64,
}

/// What one image does to the running catalogue, decided as TraP decides it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// One-to-one pairs, and each edge of a many-to-one (several catalogue entries
    /// extended by the same source): TraP's association type 3.
    pub extend: Vec<Pair>,
    /// One-to-many: a catalogue entry matched by several sources forks into one new
    /// lightcurve per source, each carrying the old history (types 2 and 6).
    pub forks: Vec<(usize, Vec<Pair>)>,
    /// Sources with no candidate at all: each starts a lightcurve (type 4).
    pub unmatched: Vec<usize>,
}

/// All pairs closer than `radius` degrees with a De Ruiter radius strictly below `r_max`.
pub fn candidate_pairs(
    sources: &[Position],
    catalogue: &[Position],
    radius: f64,
    r_max: f64,
) -> Vec<Pair> {
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
                pairs.push(Pair {
                    source: s,
                    candidate: c,
                    r,
                    distance,
                });
            }
        }
    }
    pairs.sort_by(|a, b| a.source.cmp(&b.source).then(a.candidate.cmp(&b.candidate)));
    pairs
}

/// TraP's association of one image (`tkp/db/associations.py`):
/// 1. many-to-many pruning: a source with several candidates, some of which are catalogue
///    entries with several candidates themselves ("shared"), keeps only its pair with the
///    smallest De Ruiter radius among the shared ones, and its unshared pairs that are no
///    worse. TraP keeps every pair that ties for the minimum and then fails on its unique
///    key when one source forks two entries (its issue #371); skytrap gives a tie to the
///    lower catalogue index, so a source is the base of at most one fork;
/// 2. a catalogue entry left with several sources forks, one lightcurve per source;
/// 3. every other surviving pair extends its lightcurve (one-to-one and many-to-one);
/// 4. a source in no candidate pair at all starts a lightcurve.
pub fn plan(n_sources: usize, n_catalogue: usize, pairs: &[Pair]) -> Plan {
    let mut per_source = vec![0usize; n_sources];
    let mut per_entry = vec![0usize; n_catalogue];
    for p in pairs {
        per_source[p.source] += 1;
        per_entry[p.candidate] += 1;
    }
    // Entries with several pairs that touch a source with several pairs.
    let mut shared = vec![false; n_catalogue];
    for p in pairs {
        if per_source[p.source] > 1 && per_entry[p.candidate] > 1 {
            shared[p.candidate] = true;
        }
    }
    // Per source, its best pair with a shared entry: smallest r, ties to the lower index.
    let mut best: Vec<Option<&Pair>> = vec![None; n_sources];
    for p in pairs {
        if per_source[p.source] > 1 && shared[p.candidate] {
            let b = &mut best[p.source];
            if b.is_none_or(|b| (p.r, p.candidate) < (b.r, b.candidate)) {
                *b = Some(p);
            }
        }
    }
    let active: Vec<Pair> = pairs
        .iter()
        .filter(|p| match best[p.source] {
            None => true,
            Some(b) if shared[p.candidate] => std::ptr::eq(*p, b),
            Some(b) => p.r <= b.r,
        })
        .copied()
        .collect();

    let mut by_entry: Vec<Vec<Pair>> = vec![Vec::new(); n_catalogue];
    for p in &active {
        by_entry[p.candidate].push(*p);
    }
    let mut plan = Plan::default();
    for p in &active {
        if by_entry[p.candidate].len() == 1 {
            plan.extend.push(*p);
        }
    }
    for (entry, group) in by_entry.into_iter().enumerate() {
        if group.len() > 1 {
            plan.forks.push((entry, group));
        }
    }
    plan.unmatched = (0..n_sources).filter(|&s| per_source[s] == 0).collect();
    plan
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
        // Averaged in the tangent plane: tan(3″) is 3″ to 1e-10 of itself.
        assert!((p.wm_decl - 0.6 * ARCSEC).abs() < 1e-13);
        assert!((p.position().unc_ns - (1.0 / 1.25f64).sqrt() * ARCSEC).abs() < 1e-15);
    }

    #[test]
    fn weighted_mean_across_ra_zero() {
        let p = RunningPosition::first(&at(359.9999, 0.0)).with(&at(0.0001, 0.0));
        assert!(p.wm_ra.abs() < 1e-9 || (p.wm_ra - 360.0).abs() < 1e-9);
        assert!(p.wm_ra < 360.0);
    }

    /// `n` detections of a source at (ra, dec) with 1″ Gaussian errors on each axis, made
    /// by moving its unit vector along the local east and north vectors (independent of the
    /// tangent-plane code under test); SplitMix64 and Box–Muller, so the same every run.
    fn scattered(ra: f64, dec: f64, n: usize, seed: u64) -> Vec<Position> {
        let mut state = seed;
        let mut uniform = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        let (sa, ca) = ra.to_radians().sin_cos();
        let (sd, cd) = dec.to_radians().sin_cos();
        let (t, e, m) = (
            [cd * ca, cd * sa, sd],
            [-sa, ca, 0.0],
            [-sd * ca, -sd * sa, cd],
        );
        (0..n)
            .map(|_| {
                let r = (-2.0 * (1.0 - uniform()).ln()).sqrt() * ARCSEC.to_radians();
                let (s, c) = (std::f64::consts::TAU * uniform()).sin_cos();
                let v: Vec<f64> = (0..3).map(|i| t[i] + r * c * e[i] + r * s * m[i]).collect();
                let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
                at(
                    sky::normalise_ra(v[1].atan2(v[0]).to_degrees()),
                    (v[2] / norm).asin().to_degrees(),
                )
            })
            .collect()
    }

    #[test]
    fn weighted_mean_holds_at_and_around_the_poles() {
        // 50 points with 1″ errors: the mean is off by σ/√50 = 0.14″ per axis, so by more
        // than 0.5″ (3.5σ of its Rayleigh distribution) one time in 500. Averaging RA as a
        // plane coordinate put the one at the pole 1.25″ off.
        for (ra, dec, seed) in [
            (0.0, 90.0, 1),
            (37.0, 90.0 - 1.5 * ARCSEC, 2),
            (200.0, -90.0 + 1.5 * ARCSEC, 3),
            (359.9999, 0.0, 4),
        ] {
            let points = scattered(ra, dec, 50, seed);
            let mean = points[1..]
                .iter()
                .fold(RunningPosition::first(&points[0]), |m, p| m.with(p));
            let off = sky::distance(ra, dec, mean.wm_ra, mean.wm_decl) / ARCSEC;
            assert!(off < 0.5, "({ra}, {dec}): the mean is {off}″ off");
        }
    }

    #[test]
    fn de_ruiter_across_a_pole_is_the_separation_over_the_errors() {
        // 1″ either side of the north pole: 2″ apart, r = 2/√2 (TraP's RA term gives π/√2).
        let r = sky::de_ruiter(&at(10.0, 90.0 - ARCSEC), &at(190.0, 90.0 - ARCSEC));
        assert!((r - 2f64.sqrt()).abs() < 1e-6, "{r}");
        let r = sky::de_ruiter(&at(10.0, -90.0 + ARCSEC), &at(100.0, -90.0 + ARCSEC));
        assert!((r - 1.0).abs() < 1e-6, "{r}");
    }

    /// Plans one image of `sources` against `catalogue` with a 30″ search radius.
    fn plan_for(sources: &[Position], catalogue: &[Position]) -> Plan {
        let pairs = candidate_pairs(sources, catalogue, 30.0 * ARCSEC, 5.68);
        plan(sources.len(), catalogue.len(), &pairs)
    }

    fn edges(pairs: &[Pair]) -> Vec<(usize, usize)> {
        pairs.iter().map(|p| (p.source, p.candidate)).collect()
    }

    #[test]
    fn one_to_one_extends_the_lightcurve() {
        let p = plan_for(&[at(10.0, 10.0 + ARCSEC)], &[at(10.0, 10.0)]);
        assert_eq!(edges(&p.extend), [(0, 0)]);
        assert!(p.forks.is_empty() && p.unmatched.is_empty());
        // 1″ apart with 1″ errors on each side: r = 1/√2.
        assert!((p.extend[0].r - 0.5f64.sqrt()).abs() < 1e-6);
        assert!((p.extend[0].distance - ARCSEC).abs() < 1e-12);
    }

    #[test]
    fn one_to_many_forks_the_lightcurve() {
        let sources = [at(10.0, 10.0 + 2.0 * ARCSEC), at(10.0, 10.0 - 2.0 * ARCSEC)];
        let p = plan_for(&sources, &[at(10.0, 10.0)]);
        assert!(p.extend.is_empty() && p.unmatched.is_empty());
        assert_eq!(p.forks.len(), 1);
        assert_eq!(p.forks[0].0, 0);
        assert_eq!(edges(&p.forks[0].1), [(0, 0), (1, 0)]);
    }

    #[test]
    fn many_to_one_extends_every_entry() {
        let catalogue = [at(10.0, 10.0 + 2.0 * ARCSEC), at(10.0, 10.0 - 2.0 * ARCSEC)];
        let p = plan_for(&[at(10.0, 10.0)], &catalogue);
        assert_eq!(edges(&p.extend), [(0, 0), (0, 1)]);
        assert!(p.forks.is_empty());
    }

    #[test]
    fn many_to_many_reduces_to_two_one_to_one() {
        // Every pair is within reach; each source is nearest to a different entry.
        let catalogue = [at(10.0, 10.0), at(10.0, 10.0 + 4.0 * ARCSEC)];
        let sources = [at(10.0, 10.0 + 0.5 * ARCSEC), at(10.0, 10.0 + 3.5 * ARCSEC)];
        let pairs = candidate_pairs(&sources, &catalogue, 30.0 * ARCSEC, 5.68);
        assert_eq!(pairs.len(), 4);
        let p = plan(2, 2, &pairs);
        assert_eq!(edges(&p.extend), [(0, 0), (1, 1)]);
        assert!(p.forks.is_empty());
    }

    #[test]
    fn many_to_many_reduces_to_one_to_many() {
        // Both sources are nearest to entry 0: it forks, and entry 1 gets nothing.
        let catalogue = [at(10.0, 10.0), at(10.0, 10.0 + 6.0 * ARCSEC)];
        let sources = [at(10.0, 10.0 + ARCSEC), at(10.0, 10.0 + 2.0 * ARCSEC)];
        let p = plan_for(&sources, &catalogue);
        assert!(p.extend.is_empty());
        assert_eq!(p.forks.len(), 1);
        assert_eq!(edges(&p.forks[0].1), [(0, 0), (1, 0)]);
    }

    #[test]
    fn equilateral_rhombus_ties_go_to_the_lower_entry() {
        // Entries north and south, sources east and west, all four pairs at exactly the
        // same De Ruiter radius (binary-exact offsets). Both sources take entry 0, which
        // forks; no source is the base of two forks.
        let e = 1.0 / 4096.0;
        let catalogue = [at(10.0, e), at(10.0, -e)];
        let sources = [at(10.0 + e, 0.0), at(10.0 - e, 0.0)];
        let pairs = candidate_pairs(&sources, &catalogue, 30.0 * ARCSEC, 5.68);
        assert_eq!(pairs.len(), 4);
        assert!(pairs.iter().all(|p| p.r == pairs[0].r));
        let p = plan(2, 2, &pairs);
        assert!(p.extend.is_empty());
        assert_eq!(p.forks.len(), 1);
        assert_eq!(edges(&p.forks[0].1), [(0, 0), (1, 0)]);
    }

    #[test]
    fn a_source_without_candidates_starts_a_lightcurve() {
        let p = plan_for(&[at(10.0, 11.0), at(10.0, 10.0)], &[at(10.0, 10.0)]);
        assert_eq!(p.unmatched, [0]);
        assert_eq!(edges(&p.extend), [(1, 0)]);
    }

    #[test]
    fn radius_and_de_ruiter_limits_are_strict() {
        let catalogue = [at(10.0, 10.0)];
        // 9″ away with 1″ errors: r = 9/√2 = 6.36 > 5.68.
        let far = [at(10.0, 10.0 + 9.0 * ARCSEC)];
        assert!(candidate_pairs(&far, &catalogue, 1.0, 5.68).is_empty());
        // Within r but outside the hard radius (the beamwidth limit).
        let near = [at(10.0, 10.0 + 2.0 * ARCSEC)];
        assert!(candidate_pairs(&near, &catalogue, ARCSEC, 5.68).is_empty());
        assert!(candidate_pairs(&near, &catalogue, 2.0 * ARCSEC, 5.68).is_empty());
        assert_eq!(
            candidate_pairs(&near, &catalogue, 3.0 * ARCSEC, 5.68).len(),
            1
        );
    }

    #[test]
    fn huge_errors_make_every_source_in_reach_a_candidate() {
        // Errors of a degree make r tiny: only the hard radius limits the search.
        let vague = |ra, dec| Position {
            unc_ew: 1.0,
            unc_ns: 1.0,
            ..at(ra, dec)
        };
        let pairs = candidate_pairs(
            &[vague(10.0, 10.0 + 20.0 * ARCSEC)],
            &[vague(10.0, 10.0)],
            30.0 * ARCSEC,
            5.68,
        );
        assert_eq!(pairs.len(), 1);
        assert!(pairs[0].r < 1e-2);
    }

    #[test]
    fn matches_across_ra_zero_and_over_the_pole() {
        let p = plan_for(&[at(0.0001, -45.0)], &[at(359.9999, -45.0)]);
        assert_eq!(edges(&p.extend), [(0, 0)]);
        // 1″ from the pole on opposite sides: 2″ apart although RA differs by 180°.
        let pole = 90.0 - ARCSEC;
        let p = plan_for(&[at(200.0, pole)], &[at(20.0, pole)]);
        assert_eq!(edges(&p.extend), [(0, 0)]);
        assert!((p.extend[0].distance - 2.0 * ARCSEC).abs() < 1e-9);
    }
}
