//! Spherical geometry on the celestial sphere, in degrees.

/// RA folded into [0, 360). `rem_euclid` alone can return 360.0 for tiny negative inputs.
pub fn normalise_ra(ra: f64) -> f64 {
    let r = ra.rem_euclid(360.0);
    if r >= 360.0 {
        0.0
    } else {
        // −0 (from −360, say) becomes +0: the two hash to different pixels at the poles.
        r + 0.0
    }
}

/// Difference `ra1 - ra2` wrapped into (-180, 180].
pub fn ra_difference(ra1: f64, ra2: f64) -> f64 {
    let d = (ra1 - ra2).rem_euclid(360.0);
    if d > 180.0 {
        d - 360.0
    } else {
        d
    }
}

/// Unit vector (x, y, z) of a sky position, TraP's cartesian columns.
pub fn unit_vector(ra: f64, dec: f64) -> [f64; 3] {
    let (sa, ca) = ra.to_radians().sin_cos();
    let (sd, cd) = dec.to_radians().sin_cos();
    [cd * ca, cd * sa, sd]
}

/// Is `dec` a declination: a number in [-90, 90]? (False for NaN.)
pub fn is_declination(dec: f64) -> bool {
    (-90.0..=90.0).contains(&dec)
}

/// Angular distance in degrees by Vincenty's formula: accurate at every separation,
/// unlike the law of cosines (small angles) or haversine (near antipodes). NaN when a
/// declination is outside [-90, 90] or any coordinate is NaN or infinite; any finite RA is
/// taken modulo 360.
pub fn distance(ra1: f64, dec1: f64, ra2: f64, dec2: f64) -> f64 {
    if !is_declination(dec1) || !is_declination(dec2) {
        return f64::NAN;
    }
    // Wrapped first, so RAs 360 apart are exactly the same meridian.
    let dra = ra_difference(ra2, ra1).to_radians();
    let (sd1, cd1) = dec1.to_radians().sin_cos();
    let (sd2, cd2) = dec2.to_radians().sin_cos();
    let (sdra, cdra) = dra.sin_cos();
    let a = cd2 * sdra;
    let b = cd1 * sd2 - sd1 * cd2 * cdra;
    let num = a.hypot(b);
    let den = sd1 * sd2 + cd1 * cd2 * cdra;
    num.atan2(den).to_degrees()
}

/// Position angle of point 2 seen from point 1, degrees east of north in [0, 360); 0 for
/// two identical positions. NaN when a declination is outside [-90, 90] or any coordinate
/// is NaN or infinite.
pub fn position_angle(ra1: f64, dec1: f64, ra2: f64, dec2: f64) -> f64 {
    if !is_declination(dec1) || !is_declination(dec2) {
        return f64::NAN;
    }
    let dra = ra_difference(ra2, ra1).to_radians();
    let (sd1, cd1) = dec1.to_radians().sin_cos();
    let (sd2, cd2) = dec2.to_radians().sin_cos();
    let y = dra.sin() * cd2;
    let x = cd1 * sd2 - sd1 * cd2 * dra.cos();
    if y == 0.0 && x == 0.0 {
        return 0.0;
    }
    let pa = y.atan2(x).to_degrees().rem_euclid(360.0);
    if pa >= 360.0 {
        0.0
    } else {
        pa
    }
}

/// TraP's RA inflation: the half-width in RA of a cone of radius `theta` at declination
/// `dec` (Gray, Szalay et al., MSR-TR-2006-52). Saturates at 180 near the poles (when
/// |dec| + theta > 89.9, as in TraP), an infinite radius included. NaN for a radius that is
/// NaN or negative (no cone) and for a declination that is NaN or outside [-90, 90].
pub fn alpha(theta: f64, dec: f64) -> f64 {
    if theta.is_nan() || theta < 0.0 || !is_declination(dec) {
        return f64::NAN;
    }
    if dec.abs() + theta > 89.9 {
        return 180.0;
    }
    let t = theta.to_radians();
    let d = dec.to_radians();
    let denom = ((d - t).cos() * (d + t).cos()).abs().sqrt();
    (t.sin() / denom).atan().abs().to_degrees()
}

/// A sky position with TraP's on-sky 1-sigma uncertainties east-west and north-south
/// (degrees; the east-west one is an arc on the sky, not an RA difference).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    pub ra: f64,
    pub dec: f64,
    pub unc_ew: f64,
    pub unc_ns: f64,
}

/// Offsets (east, north) of (ra, dec) from (ra0, dec0) in the plane tangent to the sky at
/// (ra0, dec0), degrees (the gnomonic projection): RA differences wrap across 0/360, and
/// two points on either side of a pole are as far apart as they are on the sky. At a pole,
/// north points away from the meridian ra0. NaN for a point 90° or more away.
pub fn tangent_offsets(ra0: f64, dec0: f64, ra: f64, dec: f64) -> (f64, f64) {
    let (sd0, cd0) = dec0.to_radians().sin_cos();
    let (sd, cd) = dec.to_radians().sin_cos();
    let (sda, cda) = ra_difference(ra, ra0).to_radians().sin_cos();
    let cos_c = sd0 * sd + cd0 * cd * cda;
    if cos_c.is_nan() || cos_c <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    (
        (cd * sda / cos_c).to_degrees(),
        ((cd0 * sd - sd0 * cd * cda) / cos_c).to_degrees(),
    )
}

/// The sky position at tangent-plane offsets (east, north), degrees, from (ra0, dec0):
/// the inverse of `tangent_offsets`. RA in [0, 360).
pub fn from_tangent(ra0: f64, dec0: f64, east: f64, north: f64) -> (f64, f64) {
    let (xi, eta) = (east.to_radians(), north.to_radians());
    let rho = xi.hypot(eta);
    if rho == 0.0 {
        return (normalise_ra(ra0), dec0);
    }
    let (sd0, cd0) = dec0.to_radians().sin_cos();
    let (sc, cc) = rho.atan().sin_cos();
    let dec = (cc * sd0 + eta * sc * cd0 / rho).clamp(-1.0, 1.0).asin();
    let dra = (xi * sc).atan2(rho * cd0 * cc - eta * sd0 * sc);
    (normalise_ra(ra0 + dra.to_degrees()), dec.to_degrees())
}

/// The dimensionless De Ruiter radius between two uncertain positions (de Ruiter, Willis &
/// Arp 1977), from b's offsets east and north of a in the plane tangent at a (TraP takes
/// the RA difference times the cosine of the mean declination, which is about π/2 times
/// the separation for two points on either side of a pole). NaN for a declination outside
/// [-90, 90], a negative or NaN uncertainty, a NaN or infinite coordinate, or points 90°
/// or more apart. An infinite uncertainty makes its axis count 0; a combined uncertainty
/// of 0 on an axis makes the radius infinite where the positions differ on that axis, and
/// NaN (0/0) where they agree on it (so that association never averages a position with an
/// infinite weight).
pub fn de_ruiter(a: &Position, b: &Position) -> f64 {
    let bad_unc = |u: f64| u.is_nan() || u < 0.0;
    if !is_declination(a.dec)
        || !is_declination(b.dec)
        || [a.unc_ew, a.unc_ns, b.unc_ew, b.unc_ns]
            .into_iter()
            .any(bad_unc)
    {
        return f64::NAN;
    }
    let (dra, ddec) = tangent_offsets(a.ra, a.dec, b.ra, b.dec);
    let ew2 = a.unc_ew * a.unc_ew + b.unc_ew * b.unc_ew;
    let ns2 = a.unc_ns * a.unc_ns + b.unc_ns * b.unc_ns;
    (dra * dra / ew2 + ddec * ddec / ns2).sqrt()
}

/// Whether (ra, dec) lies in the ellipse centred on (ra0, dec0) with semi-axes `smaj` ≥
/// `smin` (degrees) and the major axis at position angle `pa` (degrees east of north): the
/// point at distance d and position angle φ is inside when
/// (d·cos(φ − pa)/smaj)² + (d·sin(φ − pa)/smin)² ≤ 1. `smaj` is the semi-axis along `pa`,
/// whichever is longer. No point is inside an ellipse with a NaN or negative semi-axis or
/// a NaN or infinite position angle; a zero semi-axis leaves only the centre.
pub fn in_ellipse(ra: f64, dec: f64, ra0: f64, dec0: f64, smaj: f64, smin: f64, pa: f64) -> bool {
    let bad_axis = |a: f64| a.is_nan() || a < 0.0;
    if bad_axis(smaj) || bad_axis(smin) || !pa.is_finite() {
        return false;
    }
    let d = distance(ra0, dec0, ra, dec);
    // NaN distances (bad coordinates) fail this test too.
    if d.is_nan() || d > smaj.max(smin) {
        return false;
    }
    if d == 0.0 {
        return true;
    }
    let t = (position_angle(ra0, dec0, ra, dec) - pa).to_radians();
    (d * t.cos() / smaj).powi(2) + (d * t.sin() / smin).powi(2) <= 1.0
}

/// Centre and radius (degrees) of a cone holding a spherical polygon given as
/// (ra, dec) vertices joined by great circles; None if it has fewer than 3 vertices, a bad
/// coordinate, or does not fit in a hemisphere.
pub fn polygon_cone(vertices: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    if vertices.len() < 3
        || vertices
            .iter()
            .any(|&(ra, dec)| !ra.is_finite() || dec.is_nan() || dec.abs() > 90.0)
    {
        return None;
    }
    let sum = vertices.iter().fold([0.0; 3], |s, &(ra, dec)| {
        let v = unit_vector(ra, dec);
        [s[0] + v[0], s[1] + v[1], s[2] + v[2]]
    });
    let norm = (sum[0] * sum[0] + sum[1] * sum[1] + sum[2] * sum[2]).sqrt();
    if norm < 1e-12 {
        return None;
    }
    let dec0 = (sum[2] / norm).clamp(-1.0, 1.0).asin().to_degrees();
    let ra0 = normalise_ra(sum[1].atan2(sum[0]).to_degrees());
    // A cap smaller than a hemisphere holds the great-circle arcs between its points.
    let radius = vertices
        .iter()
        .map(|&(ra, dec)| distance(ra0, dec0, ra, dec))
        .fold(0.0, f64::max);
    (radius < 90.0).then_some((ra0, dec0, radius))
}

/// Whether (ra, dec) lies inside the spherical polygon: the gnomonic projection about the
/// polygon's centre maps its great-circle edges to straight lines, where an even-odd
/// crossing test decides.
pub fn in_polygon(ra: f64, dec: f64, vertices: &[(f64, f64)]) -> bool {
    let Some((ra0, dec0, radius)) = polygon_cone(vertices) else {
        return false;
    };
    let d = distance(ra0, dec0, ra, dec);
    if d.is_nan() || d > radius {
        return false;
    }
    let project = |ra: f64, dec: f64| {
        let (sd0, cd0) = dec0.to_radians().sin_cos();
        let (sd, cd) = dec.to_radians().sin_cos();
        let (sda, cda) = (ra - ra0).to_radians().sin_cos();
        let cos_c = sd0 * sd + cd0 * cd * cda;
        (cd * sda / cos_c, (cd0 * sd - sd0 * cd * cda) / cos_c)
    };
    let (x, y) = project(ra, dec);
    let corners: Vec<(f64, f64)> = vertices.iter().map(|&(r, d)| project(r, d)).collect();
    let mut inside = false;
    for (i, &(xi, yi)) in corners.iter().enumerate() {
        let (xj, yj) = corners[(i + corners.len() - 1) % corners.len()];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipse_membership() {
        // 1 × 0.5 degree ellipse along PA 90 (east-west) at the equator.
        let e = |ra, dec| in_ellipse(ra, dec, 100.0, 0.0, 1.0, 0.5, 90.0);
        assert!(e(100.9, 0.0) && !e(101.1, 0.0));
        assert!(e(100.0, 0.45) && !e(100.0, 0.55));
        assert!(e(100.0, 0.0));
        // Rotated to PA 0 the long axis runs north-south.
        assert!(in_ellipse(100.0, 0.9, 100.0, 0.0, 1.0, 0.5, 0.0));
        assert!(!in_ellipse(100.6, 0.0, 100.0, 0.0, 1.0, 0.5, 0.0));
    }

    #[test]
    fn polygon_membership_across_ra_zero_and_at_the_pole() {
        let square = [(359.0, -1.0), (1.0, -1.0), (1.0, 1.0), (359.0, 1.0)];
        assert!(in_polygon(0.0, 0.0, &square));
        assert!(in_polygon(359.5, 0.5, &square));
        assert!(!in_polygon(2.0, 0.0, &square));
        assert!(!in_polygon(180.0, 0.0, &square));
        // A triangle around the north pole holds the pole.
        let cap = [(0.0, 80.0), (120.0, 80.0), (240.0, 80.0)];
        assert!(in_polygon(45.0, 89.0, &cap));
        assert!(!in_polygon(45.0, 70.0, &cap));
        assert!(polygon_cone(&square[..2]).is_none());
    }

    #[test]
    fn distance_refuses_impossible_declinations() {
        assert!(distance(0.0, 91.0, 0.0, 0.0).is_nan());
        assert_eq!(distance(-10.0, 0.0, 350.0, 0.0), 0.0);
        assert_eq!(position_angle(-10.0, 20.0, 350.0, 20.0), 0.0);
    }

    #[test]
    fn positions_off_the_sphere_give_nan() {
        for (ra, dec) in [
            (0.0, 90.5),
            (0.0, -91.0),
            (f64::NAN, 0.0),
            (0.0, f64::NAN),
            (f64::INFINITY, 0.0),
            (0.0, f64::NEG_INFINITY),
        ] {
            assert!(distance(ra, dec, 0.0, 0.0).is_nan(), "{ra} {dec}");
            assert!(position_angle(0.0, 0.0, ra, dec).is_nan(), "{ra} {dec}");
            let p = Position {
                ra,
                dec,
                unc_ew: 1.0,
                unc_ns: 1.0,
            };
            assert!(de_ruiter(&p, &Position { dec: 0.0, ..p }).is_nan() || !ra.is_finite());
            assert!(!in_ellipse(ra, dec, 0.0, 0.0, 180.0, 180.0, 0.0));
        }
    }

    #[test]
    fn alpha_refuses_what_is_not_a_cone() {
        assert!(alpha(-0.01, 0.0).is_nan());
        assert!(alpha(f64::NAN, 0.0).is_nan());
        assert!(alpha(0.01, 90.5).is_nan());
        assert!(alpha(0.01, f64::NAN).is_nan());
        assert_eq!(alpha(f64::INFINITY, 0.0), 180.0);
        assert_eq!(alpha(0.0, 90.0), 180.0);
        assert_eq!(alpha(0.0, 0.0), 0.0);
    }

    #[test]
    fn de_ruiter_edge_uncertainties() {
        let at = |dec, unc| Position {
            ra: 10.0,
            dec,
            unc_ew: unc,
            unc_ns: unc,
        };
        assert!(de_ruiter(&at(0.0, -1.0), &at(0.0, 1.0)).is_nan());
        assert!(de_ruiter(&at(0.0, f64::NAN), &at(0.0, 1.0)).is_nan());
        // Infinite uncertainty: nothing is significant.
        assert_eq!(de_ruiter(&at(0.0, f64::INFINITY), &at(1.0, 1.0)), 0.0);
        // Zero uncertainty: any offset is infinitely significant; no offset on an axis of
        // zero uncertainty is 0/0.
        let moved = Position {
            ra: 11.0,
            ..at(1.0, 0.0)
        };
        assert_eq!(de_ruiter(&at(0.0, 0.0), &moved), f64::INFINITY);
        assert!(de_ruiter(&at(0.0, 0.0), &at(1.0, 0.0)).is_nan());
    }

    #[test]
    fn ellipse_edge_axes() {
        // The axis along pa may be the shorter one: 0.5 along PA 90, 1 across it.
        assert!(in_ellipse(100.0, 0.9, 100.0, 0.0, 0.5, 1.0, 90.0));
        assert!(!in_ellipse(100.6, 0.0, 100.0, 0.0, 0.5, 1.0, 90.0));
        // Bad axes or angles hold nothing, not even the centre; a zero axis the centre.
        for (smaj, smin, pa) in [
            (f64::NAN, 1.0, 0.0),
            (1.0, f64::NAN, 0.0),
            (-1.0, 1.0, 0.0),
            (1.0, -0.5, 0.0),
            (1.0, 0.5, f64::NAN),
            (1.0, 0.5, f64::INFINITY),
        ] {
            assert!(!in_ellipse(100.0, 0.0, 100.0, 0.0, smaj, smin, pa));
        }
        assert!(in_ellipse(100.0, 0.0, 100.0, 0.0, 0.0, 0.0, 0.0));
        assert!(!in_ellipse(100.0, 0.1, 100.0, 0.0, 0.0, 0.0, 0.0));
    }

    #[test]
    fn normalise_ra_folds_and_never_returns_360() {
        assert_eq!(normalise_ra(-90.0), 270.0);
        assert_eq!(normalise_ra(720.5), 0.5);
        assert_eq!(normalise_ra(-1e-17), 0.0);
    }

    #[test]
    fn distance_matches_hand_worked_values() {
        // Same RA: separation is the difference in declination.
        assert!((distance(10.0, 20.0, 10.0, 25.0) - 5.0).abs() < 1e-12);
        // On the equator: separation is the difference in RA, across the wrap too.
        assert!((distance(359.5, 0.0, 0.5, 0.0) - 1.0).abs() < 1e-12);
        // Pole to equator is 90 degrees whatever the RA.
        assert!((distance(123.0, 90.0, 7.0, 0.0) - 90.0).abs() < 1e-12);
        // Antipodes.
        assert!((distance(10.0, 30.0, 190.0, -30.0) - 180.0).abs() < 1e-9);
        // 1 milliarcsecond apart: the law of cosines loses this entirely in f64.
        let mas = 1.0 / 3.6e6;
        assert!((distance(0.0, 0.0, 0.0, mas) - mas).abs() < 1e-18);
        // build-notes §5: the toy extension (and astropy) gave 0.6856009128631435.
        assert!((distance(10.0, 20.0, 10.5, 20.5) - 0.6856009128631435).abs() < 1e-13);
    }

    #[test]
    fn position_angle_cardinal_directions() {
        assert!((position_angle(10.0, 0.0, 10.0, 1.0) - 0.0).abs() < 1e-12); // north
        assert!((position_angle(10.0, 0.0, 11.0, 0.0) - 90.0).abs() < 1e-12); // east
        assert!((position_angle(10.0, 0.0, 10.0, -1.0) - 180.0).abs() < 1e-12); // south
        assert!((position_angle(10.0, 0.0, 9.0, 0.0) - 270.0).abs() < 1e-12); // west
        assert!((position_angle(359.9, 0.0, 0.1, 0.0) - 90.0).abs() < 1e-9); // east across 0
    }

    #[test]
    fn alpha_inflates_with_declination() {
        // At the equator the RA half-width equals the radius (to first order).
        assert!((alpha(0.01, 0.0) - 0.01).abs() < 1e-9);
        // At dec 60 a small cone is twice as wide in RA: 1/cos(60) = 2.
        assert!((alpha(0.01, 60.0) - 0.02).abs() < 1e-6);
        assert_eq!(alpha(0.2, 89.8), 180.0);
    }

    #[test]
    fn de_ruiter_is_offset_over_combined_error() {
        // 3 arcsec north with 1 arcsec errors on each side: r = 3 / sqrt(2).
        let e = 1.0 / 3600.0;
        let at = |ra, dec| Position {
            ra,
            dec,
            unc_ew: e,
            unc_ns: e,
        };
        let r = de_ruiter(&at(50.0, 10.0), &at(50.0, 10.0 + 3.0 * e));
        assert!((r - 3.0 / 2f64.sqrt()).abs() < 1e-9);
        // The RA term is shrunk by cos(dec) and wraps across 0/360.
        let r = de_ruiter(&at(359.999, 60.0), &at(0.001, 60.0));
        let expect = (0.002 * 60f64.to_radians().cos()) / (2f64.sqrt() * e);
        assert!((r - expect).abs() < 1e-6);
    }
}
