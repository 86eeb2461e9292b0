//! The bright radio sources that spoil a low-frequency image when they are near its
//! pointing: TraP's list (the "A-team" Cas A, Cyg A, Tau A, Her A, Vir A, the Sun and
//! Jupiter; reference §3.2), and where the Sun and Jupiter are at a given time.
//!
//! Positions need only be good to a fraction of a degree (the check is "within
//! `min_separation` degrees", 10 by default): the Sun from the Astronomical Almanac's
//! low-precision formulae (0.01°), Jupiter from JPL's approximate Keplerian elements
//! (Standish, "Approximate Positions of the Planets", table 1, 1800–2050: a few arcmin),
//! both in the mean equator and equinox of date, compared with J2000 image positions (the
//! precession between them is under 0.5° until 2050).

use crate::sky;

/// A bright source and where it is, degrees.
#[derive(Clone, Debug, PartialEq)]
pub struct Bright {
    pub name: String,
    pub ra: f64,
    pub dec: f64,
}

/// The A-team, J2000.
const A_TEAM: [(&str, f64, f64); 5] = [
    ("Cas A", 350.850, 58.815),
    ("Cyg A", 299.868, 40.734),
    ("Tau A", 83.633, 22.015),
    ("Her A", 252.784, 4.993),
    ("Vir A", 187.706, 12.391),
];

/// Julian date of a UTC calendar date and time (proleptic Gregorian; Meeus ch. 7).
pub fn julian_date(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: f64) -> f64 {
    let (y, m) = if month <= 2 {
        (year - 1, month + 12)
    } else {
        (year, month)
    };
    let a = (f64::from(y) / 100.0).floor();
    let b = 2.0 - a + (a / 4.0).floor();
    let day =
        f64::from(day) + (f64::from(hour) + (f64::from(minute) + second / 60.0) / 60.0) / 24.0;
    (365.25 * (f64::from(y) + 4716.0)).floor() + (30.6001 * f64::from(m + 1)).floor() + day + b
        - 1524.5
}

/// Days since J2000.0 (JD 2451545.0).
fn days_since_j2000(jd: f64) -> f64 {
    jd - 2_451_545.0
}

/// Mean obliquity of the ecliptic, degrees.
fn obliquity(jd: f64) -> f64 {
    23.439 - 0.000_000_4 * days_since_j2000(jd)
}

/// Equatorial (RA, Dec) of ecliptic (longitude, latitude), degrees, with obliquity `eps`.
fn equatorial(longitude: f64, latitude: f64, eps: f64) -> (f64, f64) {
    let (l, b, e) = (
        longitude.to_radians(),
        latitude.to_radians(),
        eps.to_radians(),
    );
    let ra = (l.sin() * e.cos() - b.tan() * e.sin()).atan2(l.cos());
    let dec = (b.sin() * e.cos() + b.cos() * e.sin() * l.sin()).asin();
    (sky::normalise_ra(ra.to_degrees()), dec.to_degrees())
}

/// The Sun's apparent position, degrees (the Astronomical Almanac's low-precision formula).
pub fn sun(jd: f64) -> (f64, f64) {
    let n = days_since_j2000(jd);
    let l = 280.460 + 0.985_647_4 * n;
    let g = (357.528 + 0.985_600_3 * n).to_radians();
    let lambda = l + 1.915 * g.sin() + 0.020 * (2.0 * g).sin();
    equatorial(lambda.rem_euclid(360.0), 0.0, obliquity(jd))
}

/// Heliocentric ecliptic position (AU) from JPL's elements at J2000 and their rates per
/// century: a, e, I, L, long. perihelion, long. node (degrees).
fn heliocentric(elements: [(f64, f64); 6], t: f64) -> [f64; 3] {
    let at = |k: usize| elements[k].0 + elements[k].1 * t;
    let (a, e, i) = (at(0), at(1), at(2).to_radians());
    let (l, perihelion, node) = (at(3), at(4), at(5));
    let omega = (perihelion - node).to_radians();
    let node = node.to_radians();
    let m = ((l - perihelion + 180.0).rem_euclid(360.0) - 180.0).to_radians();
    // Kepler's equation by Newton's method (e < 0.1: converges in a few steps).
    let mut big_e = m + e * m.sin();
    for _ in 0..10 {
        big_e -= (big_e - e * big_e.sin() - m) / (1.0 - e * big_e.cos());
    }
    let (x, y) = (
        a * (big_e.cos() - e),
        a * (1.0 - e * e).sqrt() * big_e.sin(),
    );
    let (co, so, cn, sn, ci, si) = (
        omega.cos(),
        omega.sin(),
        node.cos(),
        node.sin(),
        i.cos(),
        i.sin(),
    );
    [
        (co * cn - so * sn * ci) * x + (-so * cn - co * sn * ci) * y,
        (co * sn + so * cn * ci) * x + (-so * sn + co * cn * ci) * y,
        (so * si) * x + (co * si) * y,
    ]
}

/// Jupiter's geocentric position, degrees (JPL's approximate elements, geometric).
pub fn jupiter(jd: f64) -> (f64, f64) {
    let t = days_since_j2000(jd) / 36_525.0;
    let jupiter = heliocentric(
        [
            (5.202_887_00, -0.000_116_07),
            (0.048_386_24, -0.000_132_53),
            (1.304_396_95, -0.001_837_14),
            (34.396_440_51, 3_034.746_127_75),
            (14.728_479_83, 0.212_526_68),
            (100.473_909_09, 0.204_691_06),
        ],
        t,
    );
    let earth = heliocentric(
        [
            (1.000_002_61, 0.000_005_62),
            (0.016_711_23, -0.000_043_92),
            (-0.000_015_31, -0.012_946_68),
            (100.464_571_66, 35_999.372_449_81),
            (102.937_681_93, 0.323_273_64),
            (0.0, 0.0),
        ],
        t,
    );
    let [x, y, z] = [
        jupiter[0] - earth[0],
        jupiter[1] - earth[1],
        jupiter[2] - earth[2],
    ];
    let longitude = y.atan2(x).to_degrees();
    let latitude = z.atan2(x.hypot(y)).to_degrees();
    equatorial(longitude.rem_euclid(360.0), latitude, obliquity(jd))
}

/// TraP's bright sources at Julian date `jd`: the A-team, the Sun and Jupiter.
pub fn sources(jd: f64) -> Vec<Bright> {
    let mut out: Vec<Bright> = A_TEAM
        .iter()
        .map(|&(name, ra, dec)| Bright {
            name: name.to_string(),
            ra,
            dec,
        })
        .collect();
    let (ra, dec) = sun(jd);
    out.push(Bright {
        name: "the Sun".to_string(),
        ra,
        dec,
    });
    let (ra, dec) = jupiter(jd);
    out.push(Bright {
        name: "Jupiter".to_string(),
        ra,
        dec,
    });
    out
}

/// The nearest of `sources` within `limit` degrees of (ra, dec), with its distance.
pub fn nearest_within(sources: &[Bright], ra: f64, dec: f64, limit: f64) -> Option<(&Bright, f64)> {
    sources
        .iter()
        .map(|b| (b, sky::distance(ra, dec, b.ra, b.dec)))
        .filter(|(_, d)| *d < limit)
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn julian_dates_of_meeus_examples() {
        // Meeus, Astronomical Algorithms, examples 7.a and 7.b, and J2000.0 itself.
        assert_eq!(julian_date(1957, 10, 4, 19, 26, 24.0), 2_436_116.31);
        assert_eq!(julian_date(2000, 1, 1, 12, 0, 0.0), 2_451_545.0);
        assert_eq!(julian_date(1988, 1, 27, 0, 0, 0.0), 2_447_187.5);
    }

    #[test]
    fn the_sun_at_equinox_and_solstice() {
        // The March equinox of 2024 was 2024-03-20 03:06 UTC: RA 0, Dec 0; the June
        // solstice 2024-06-20 20:51 UTC: RA 90°, Dec +23.44° (the obliquity).
        let (ra, dec) = sun(julian_date(2024, 3, 20, 3, 6, 0.0));
        assert!(
            (ra.min(360.0 - ra)) < 0.02 && dec.abs() < 0.01,
            "{ra} {dec}"
        );
        let (ra, dec) = sun(julian_date(2024, 6, 20, 20, 51, 0.0));
        assert!(
            (ra - 90.0).abs() < 0.02 && (dec - 23.44).abs() < 0.01,
            "{ra} {dec}"
        );
        // Meeus example 25.a, 1992-10-13 0h TD: apparent RA 198.38083°, Dec −7.78507°.
        let (ra, dec) = sun(2_448_908.5);
        assert!(
            (ra - 198.380_83).abs() < 0.02 && (dec + 7.785_07).abs() < 0.01,
            "{ra} {dec}"
        );
    }

    #[test]
    fn jupiter_is_opposite_the_sun_at_its_oppositions() {
        // Jupiter's oppositions (published: 2022-09-26, 2023-11-03, 2024-12-07): the Sun
        // and Jupiter 180° apart in ecliptic longitude, within a degree or so on the sky
        // (Jupiter is up to 1.3° off the ecliptic).
        for (y, m, d) in [(2022, 9, 26), (2023, 11, 3), (2024, 12, 7)] {
            let jd = julian_date(y, m, d, 12, 0, 0.0);
            let (sra, sdec) = sun(jd);
            let (jra, jdec) = jupiter(jd);
            let apart = sky::distance(sra, sdec, jra, jdec);
            assert!(apart > 178.0, "{y}-{m}-{d}: {apart}°");
        }
        // ... and behind it at its conjunctions (2023-04-11, 2024-05-18).
        for (y, m, d) in [(2023, 4, 11), (2024, 5, 18)] {
            let jd = julian_date(y, m, d, 12, 0, 0.0);
            let (sra, sdec) = sun(jd);
            let (jra, jdec) = jupiter(jd);
            let apart = sky::distance(sra, sdec, jra, jdec);
            assert!(apart < 2.0, "{y}-{m}-{d}: {apart}°");
        }
    }

    #[test]
    fn the_nearest_bright_source_within_the_limit() {
        let jd = julian_date(2013, 4, 29, 18, 45, 0.0);
        let bright = sources(jd);
        assert_eq!(bright.len(), 7);
        // 3C 461 is Cas A: a pointing 2° away finds it; 3C 295 is far from everything.
        let (b, d) = nearest_within(&bright, 350.85, 60.815, 10.0).unwrap();
        assert_eq!(b.name, "Cas A");
        assert!((d - 2.0).abs() < 1e-9);
        assert!(nearest_within(&bright, 212.835, 52.203, 10.0).is_none());
        // The Sun on the day: a pointing at it is refused with the Sun named.
        let (sra, sdec) = sun(jd);
        assert_eq!(
            nearest_within(&bright, sra, sdec, 10.0).unwrap().0.name,
            "the Sun"
        );
        assert!(
            nearest_within(&bright, 350.85, 60.815, 0.0).is_none(),
            "0: off"
        );
    }
}
