//! The indexable pixel key: HEALPix nested indices at depth 29 (0.4 mas pixels), and the
//! key ranges that cover a cone. Neighbouring pixels have close keys, so a btree on the key
//! answers "everything near this position" with a few range scans.

use crate::sky;

/// Depth of the key.
pub const DEPTH: u8 = 29;
/// Largest key + 1.
const KEYS: i64 = 12 << (2 * DEPTH as i64);
/// How many levels below the cone's own size the cover is computed. One level deeper gives
/// pixels half the cone's size: three to six ranges (one btree descent each) covering about
/// three times the cone's area, in about 2 µs. Deeper levels cover less area, but an index
/// scan drops the keys outside the cone cheaply (`Cone::may_hold`), while each extra range
/// costs a descent and the cover itself takes twice as long per level.
const COVER_STEP: u8 = 1;

/// The pixel key of a position; None for a NaN or |dec| > 90. RA is taken modulo 360.
pub fn key(ra: f64, dec: f64) -> Option<i64> {
    if !ra.is_finite() || !dec.is_finite() || dec.abs() > 90.0 {
        return None;
    }
    let lon = sky::normalise_ra(ra).to_radians();
    Some(cdshealpix::nested::hash(DEPTH, lon, dec.to_radians()) as i64)
}

/// Key ranges [lo, hi] (inclusive, sorted, disjoint) that together hold every position
/// within `radius` degrees of (ra, dec). A NaN, negative or unusable centre or radius gives
/// no range; a radius of about 48 degrees or more gives the whole sky.
pub fn cone_ranges(ra: f64, dec: f64, radius: f64) -> Vec<(i64, i64)> {
    let Some(centre) = key(ra, dec) else {
        return Vec::new();
    };
    if radius.is_nan() || radius < 0.0 {
        return Vec::new();
    }
    if radius == 0.0 {
        return vec![(centre, centre)];
    }
    let r = radius.to_radians();
    if !cdshealpix::has_best_starting_depth(r) {
        return vec![(0, KEYS - 1)];
    }
    let depth = (cdshealpix::best_starting_depth(r) + COVER_STEP).min(DEPTH);
    let (lon, lat) = (sky::normalise_ra(ra).to_radians(), dec.to_radians());
    let shift = 2 * u32::from(DEPTH - depth);
    cdshealpix::nested::cone_coverage_approx(depth, lon, lat, r)
        .to_ranges()
        .iter()
        .map(|c| ((c.start << shift) as i64, ((c.end << shift) - 1) as i64))
        .collect()
}

/// A cone prepared for an index scan: the key ranges that cover it, and a test of the keys
/// read in them, which drops those whose position cannot be inside before any row is read.
#[derive(Clone, Debug, PartialEq)]
pub struct Cone {
    ranges: Vec<(i64, i64)>,
    centre: [f64; 3],
    /// Largest squared chord from the centre to a key's pixel centre that may still be
    /// inside: the radius plus a pixel's half-diagonal, with room for rounding.
    max_chord2: f64,
}

/// More than the distance from a depth-29 pixel's centre to its farthest corner (about
/// 0.5 mas), in radians.
const KEY_SLACK: f64 = 5e-3 / 3600.0 * std::f64::consts::PI / 180.0;

impl Cone {
    /// A NaN or unusable centre or a NaN or negative radius gives a cone with no ranges.
    pub fn new(ra: f64, dec: f64, radius: f64) -> Cone {
        let reach = radius.to_radians() + KEY_SLACK;
        let max_chord2 = if reach >= std::f64::consts::PI {
            f64::INFINITY
        } else {
            (2.0 * (reach / 2.0).sin()).powi(2)
        };
        Cone {
            ranges: cone_ranges(ra, dec, radius),
            centre: sky::unit_vector(ra, dec),
            max_chord2,
        }
    }

    /// The key ranges [lo, hi] that cover the cone (see `cone_ranges`).
    pub fn ranges(&self) -> &[(i64, i64)] {
        &self.ranges
    }

    /// False only for a key inside the ranges whose position is outside the cone. Keys
    /// outside the ranges pass: the range test, not this one, ends a btree's scan of a range.
    pub fn may_hold(&self, key: i64) -> bool {
        if !self.ranges.iter().any(|&(lo, hi)| lo <= key && key <= hi) {
            return true;
        }
        let (lon, lat) = cdshealpix::nested::center(DEPTH, key as u64);
        let (sin_lon, cos_lon) = lon.sin_cos();
        let (sin_lat, cos_lat) = lat.sin_cos();
        let p = [cos_lat * cos_lon, cos_lat * sin_lon, sin_lat];
        let chord2: f64 = (0..3).map(|i| (p[i] - self.centre[i]).powi(2)).sum();
        chord2 <= self.max_chord2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covered(k: i64, ranges: &[(i64, i64)]) -> bool {
        ranges.iter().any(|&(lo, hi)| lo <= k && k <= hi)
    }

    #[test]
    fn keys_match_healpix_reference_values() {
        // build-notes §9: astropy-healpix gives 30078754 at depth 12 for (123.4, 56.7);
        // at depth 29 that pixel's keys start at 30078754 << 34.
        let k = key(123.4, 56.7).unwrap();
        assert_eq!(k >> 34, 30078754);
        assert_eq!(key(123.4 + 360.0, 56.7), Some(k));
        assert_eq!(key(f64::NAN, 0.0), None);
        assert_eq!(key(0.0, 90.5), None);
    }

    #[test]
    fn cone_ranges_cover_every_point_in_the_cone() {
        // Points on circles just inside the radius, around centres at the equator, near
        // the poles and on RA 0/360, for radii from 1 mas to 40 degrees.
        for (ra0, dec0) in [
            (10.0, 0.0),
            (0.0001, 45.0),
            (359.9999, -30.0),
            (77.0, 89.99),
            (200.0, -89.999),
        ] {
            for radius in [1.0 / 3.6e6, 1.0 / 3600.0, 0.01, 1.0, 10.0, 40.0] {
                let ranges = cone_ranges(ra0, dec0, radius);
                for k in 0..72 {
                    let pa = f64::from(k) * 5.0;
                    let (ra, dec) = offset(ra0, dec0, radius * 0.999, pa);
                    assert!(
                        covered(key(ra, dec).unwrap(), &ranges),
                        "({ra0}, {dec0}) r={radius}: ({ra}, {dec}) outside the ranges"
                    );
                }
            }
        }
    }

    #[test]
    fn cone_ranges_are_tight() {
        // The ranges cover at most a few times the cone's own area, so a probe reads little
        // beyond the cone (the nine neighbours alone cover about 20 times it).
        let pixel_area = 4.0 * std::f64::consts::PI / (12.0 * 4f64.powi(DEPTH as i32));
        for (ra, dec) in [(10.0, 0.0), (150.3, 20.7), (300.0, -60.0), (0.0, 89.0)] {
            for arcsec in [1.0, 10.0, 60.0, 600.0] {
                let r = (arcsec / 3600.0f64).to_radians();
                let covered: f64 = cone_ranges(ra, dec, arcsec / 3600.0)
                    .iter()
                    .filter(|(lo, hi)| lo <= hi)
                    .map(|(lo, hi)| (hi - lo + 1) as f64 * pixel_area)
                    .sum();
                let ratio = covered / (std::f64::consts::PI * r * r);
                assert!(
                    ratio < 6.0,
                    "({ra}, {dec}) {arcsec}\": {ratio:.1}x the cone"
                );
            }
        }
    }

    #[test]
    fn degenerate_cones() {
        assert!(cone_ranges(10.0, 10.0, -1.0).is_empty());
        assert!(cone_ranges(10.0, f64::NAN, 1.0).is_empty());
        let all = cone_ranges(10.0, 10.0, 180.0);
        assert!(covered(key(190.0, -10.0).unwrap(), &all));
        // A zero radius still holds the centre itself.
        assert!(covered(
            key(10.0, 10.0).unwrap(),
            &cone_ranges(10.0, 10.0, 0.0)
        ));
    }

    #[test]
    fn cone_keeps_every_key_inside_and_drops_covered_keys_well_outside() {
        for (ra0, dec0) in [(10.0, 0.0), (359.9999, -30.0), (77.0, 89.99)] {
            for radius in [1.0 / 3.6e6, 10.0 / 3600.0, 1.0] {
                let cone = Cone::new(ra0, dec0, radius);
                let (mut dropped, mut outside) = (0, 0);
                for k in 0..72 {
                    let pa = f64::from(k) * 5.0;
                    let (ra, dec) = offset(ra0, dec0, radius * 0.999999, pa);
                    assert!(
                        cone.may_hold(key(ra, dec).unwrap()),
                        "{ra} {dec} r={radius}"
                    );
                    // 10 mas beyond the rim: dropped when the ranges hold it.
                    let (ra, dec) = offset(ra0, dec0, radius + 1e-2 / 3600.0, pa);
                    let k = key(ra, dec).unwrap();
                    if covered(k, cone.ranges()) {
                        outside += 1;
                        dropped += usize::from(!cone.may_hold(k));
                    } else {
                        assert!(cone.may_hold(k));
                    }
                }
                assert_eq!(dropped, outside, "r={radius}");
                // Cones larger than the key's pixels do cover points just outside them.
                assert!(radius < 1e-3 || outside > 0, "r={radius}");
            }
        }
        assert!(Cone::new(10.0, 10.0, -1.0).ranges().is_empty());
        assert!(Cone::new(10.0, f64::NAN, 1.0).ranges().is_empty());
        let sky = Cone::new(10.0, 10.0, 180.0);
        assert!(sky.may_hold(key(190.0, -10.0).unwrap()));
    }

    /// The position `d` degrees from (ra, dec) at position angle `pa`.
    fn offset(ra: f64, dec: f64, d: f64, pa: f64) -> (f64, f64) {
        let (d, pa, dec_r) = (d.to_radians(), pa.to_radians(), dec.to_radians());
        let sin_dec = dec_r.sin() * d.cos() + dec_r.cos() * d.sin() * pa.cos();
        let dec2 = sin_dec.asin();
        let dra = (pa.sin() * d.sin() * dec_r.cos()).atan2(d.cos() - dec_r.sin() * sin_dec);
        (sky::normalise_ra(ra + dra.to_degrees()), dec2.to_degrees())
    }
}
