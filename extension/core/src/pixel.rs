//! The indexable pixel key: HEALPix nested indices at depth 29 (0.4 mas pixels), and the
//! key ranges that cover a cone. Neighbouring pixels have close keys, so a btree on the key
//! answers "everything near this position" with a few range scans.

use crate::sky;

/// Depth of the key.
pub const DEPTH: u8 = 29;
/// Largest key + 1.
const KEYS: i64 = 12 << (2 * DEPTH as i64);
/// A key's share of the sphere, in steradians.
const KEY_AREA: f64 = 4.0 * std::f64::consts::PI / KEYS as f64;

// How a cone is read. A btree descent costs about as much as reading fifty keys, and what a
// key costs depends on how many rows the index holds near the cone, which a scan learns as
// it reads (`Cone::observed_density`): the caller passes what it has seen so far, in keys
// per steradian (infinite when it knows nothing). The ranges always hold the whole cone; the
// density only decides how many descents and extra keys that takes.

/// Keys worth reading to save one descent.
const DESCENT_KEYS: f64 = 50.0;
/// At most this many keys expected in each of the (at most four) pixels read for a small
/// cone: reading them all, each tested against the cone, is then cheaper than computing the
/// cone's cover.
const NEAR_PIXEL_KEYS: f64 = 32.0;
/// With at least this many keys expected inside the cone, the cover is computed one level
/// finer (1 µs more, about half the keys read).
const FINE_COVER_KEYS: f64 = 2.0;
/// Ranges are merged only when they share an ancestor this many levels above the cover
/// (64 cover pixels), so even a cone that knows nothing of the density reads a bounded area.
const MERGE_LEVELS: u8 = 3;
/// After this many keys in one cone's cover have needed the exact test, the cone computes a
/// cover two levels finer (a few µs, covering about twice the cone's area) and drops the
/// keys outside it first: a dense scan then drops most keys with a range test.
const REFINE_AFTER: u32 = 16;
const REFINE_STEP: u8 = 2;
/// The HEALPix projection stretches no distance by more than this, anywhere: the largest
/// singular value of its Jacobian is below its Frobenius norm, at most
/// sqrt(1.342² + 2 · 0.962²) = 1.91 in the polar caps. A cone of radius r maps into the disk
/// of radius 2r around its centre's projection.
const PROJECTION_STRETCH: f64 = 2.0;
/// The same inside the equatorial belt (|sin dec| <= 2/3, where the projection is
/// cylindrical equal-area): 1 / cos dec along a parallel, at most 1 / cos 41.81° = 1.342.
const BELT_STRETCH: f64 = 1.35;
/// Declination of the belt's edge, in radians: asin(2/3).
const BELT_EDGE: f64 = 0.729_727_656_226_966_4;
/// Side of a base pixel in the projection plane (a square of diagonal pi / 2).
const BASE_SIDE: f64 = std::f64::consts::PI / (2.0 * std::f64::consts::SQRT_2);

/// Is (ra, dec) a position on the sky (finite, |dec| <= 90)?
fn on_sky(ra: f64, dec: f64) -> bool {
    ra.is_finite() && dec.is_finite() && dec.abs() <= 90.0
}

/// Zero for a magnitude below 1e-200: far below any pixel's size (a key pixel is 1e-7°
/// across), and it keeps subnormals, which break HEALPix's arithmetic, out of it.
fn tame(v: f64) -> f64 {
    if v.abs() < 1e-200 {
        0.0
    } else {
        v
    }
}

/// The pixel key of a position; None for a NaN or |dec| > 90. RA is taken modulo 360.
pub fn key(ra: f64, dec: f64) -> Option<i64> {
    let (ra, dec) = (tame(ra), tame(dec));
    if !on_sky(ra, dec) {
        return None;
    }
    let lon = sky::normalise_ra(ra).to_radians();
    Some(cdshealpix::nested::hash(DEPTH, lon, dec.to_radians()) as i64)
}

/// The cover of the cone of radius `r` around (lon, lat) (radians; a radius with a best
/// starting depth) by pixels `step` levels below the largest depth at which at most nine
/// pixels cover it, as key ranges, with that depth.
fn cover(lon: f64, lat: f64, r: f64, step: u8) -> (Vec<(i64, i64)>, u8) {
    let depth = (cdshealpix::best_starting_depth(r) + step).min(DEPTH);
    let shift = 2 * u32::from(DEPTH - depth);
    let ranges = cdshealpix::nested::cone_coverage_approx(depth, lon, lat, r)
        .to_ranges()
        .iter()
        .map(|c| ((c.start << shift) as i64, ((c.end << shift) - 1) as i64))
        .collect();
    (ranges, depth)
}

/// Sorted ranges, with neighbours that share a pixel at `depth` merged into one when the
/// keys expected between them (at `density` keys per steradian) cost less than a descent.
fn merged(ranges: &[(i64, i64)], depth: u8, density: f64) -> impl Iterator<Item = (i64, i64)> + '_ {
    let shift = 2 * u32::from(DEPTH - depth);
    let mut rest = ranges.iter().copied().peekable();
    std::iter::from_fn(move || {
        let (lo, mut hi) = rest.next()?;
        while let Some(&(next_lo, next_hi)) = rest.peek() {
            let cheap_gap =
                next_lo == hi + 1 || density * (next_lo - hi - 1) as f64 * KEY_AREA <= DESCENT_KEYS;
            if lo >> shift != next_hi >> shift || !cheap_gap {
                break;
            }
            hi = next_hi;
            rest.next();
        }
        Some((lo, hi))
    })
}

/// The pixels a small cone touches, as sorted key ranges with the depth of the pixels, when
/// a few float operations can tell: the cone's projection stays inside one base pixel, and
/// at the depth chosen a pixel is expected to hold at most `NEAR_PIXEL_KEYS` keys. They
/// are the pixel of the centre and those across the sides (and the corner) the projected
/// cone reaches, at most four, at the depth (of those at which it reaches at most a quarter
/// of a pixel's side) whose ranges cost least to read. No cover is computed (about 1 µs,
/// most of a probe's own cost in a sparse catalogue).
fn near_pixels(lon: f64, lat: f64, r: f64, density: f64) -> Option<NearPixels> {
    let stretch = if lat.abs() + r < BELT_EDGE {
        BELT_STRETCH
    } else {
        PROJECTION_STRETCH
    };
    // How far the projected cone reaches, in base-pixel sides, from the centre's projection
    // at (x, y) in its base pixel (x along the pixel's south-east side, y along the
    // south-west one). Inside a base pixel the projection is continuous and the pixels of
    // every depth are a square grid, so a path from the centre leaving a pixel crosses a side.
    // Two key pixels more cover a key's pixel centre and any rounding of a hash near a side.
    let reach = stretch * r / BASE_SIDE + 2.0 / f64::from(1u32 << DEPTH);
    let (base, x, y) = cdshealpix::nested::hash_with_dxdy(0, lon, lat);
    if x.min(1.0 - x).min(y).min(1.0 - y) <= reach {
        return None;
    }
    let finest = (0.25 / reach).log2().floor();
    if !(0.0..=f64::from(DEPTH)).contains(&finest) {
        return None;
    }
    let finest = finest as u8;
    let disk = Disk {
        base: base as i64,
        x,
        y,
        reach2: reach * reach,
    };
    // The coarsest depth whose pixels hold at most NEAR_PIXEL_KEYS keys (the fewest pixels
    // and ranges), or one level finer if that costs less to read; chosen without allocating,
    // for this runs once per probe of a join.
    let coarser_levels = ((NEAR_PIXEL_KEYS / (density * KEY_AREA)).log2() / 2.0).floor();
    let coarsest = (f64::from(DEPTH) - coarser_levels).max(f64::from(finest.saturating_sub(3)));
    // (At an unknown, infinite density no depth qualifies.)
    if coarsest > f64::from(finest) {
        return None;
    }
    let coarsest = coarsest as u8;
    // (cost, pixels, how many, depth)
    type Choice = (f64, [(i64, i64); 4], usize, u8);
    let mut best: Option<Choice> = None;
    for depth in coarsest..=(coarsest + 1).min(finest) {
        let side = f64::from(1u32 << depth);
        let margin = reach * side;
        let (gx, gy) = (x * side, y * side);
        let (i, j) = (gx.floor(), gy.floor());
        let (di, dj) = (steps(gx - i, margin), steps(gy - j, margin));
        let shift = 2 * u32::from(DEPTH - depth);
        let mut pixels = [(0, 0); 4];
        let mut n = 0;
        for &a in di {
            for &b in dj {
                let pixel = (base << (2 * u32::from(depth)))
                    | interleave((i as i64 + a) as u32, (j as i64 + b) as u32);
                pixels[n] = ((pixel << shift) as i64, (((pixel + 1) << shift) - 1) as i64);
                n += 1;
            }
        }
        pixels[..n].sort_unstable();
        let cost: f64 = merged(&pixels[..n], depth.saturating_sub(MERGE_LEVELS), density)
            .map(|(lo, hi)| DESCENT_KEYS + density * KEY_AREA * (hi - lo + 1) as f64)
            .sum();
        if best.is_none_or(|b| cost < b.0) {
            best = Some((cost, pixels, n, depth));
        }
    }
    best.map(|(_, pixels, n, depth)| NearPixels {
        scan: merged(&pixels[..n], depth.saturating_sub(MERGE_LEVELS), density).collect(),
        pixels: pixels[..n].to_vec(),
        disk,
    })
}

/// The grid steps along one axis that a cone reaching `margin` (in pixel sides) from a
/// centre at `offset` in its pixel (0 to 1) crosses: none, or the one to the near side.
fn steps(offset: f64, margin: f64) -> &'static [i64] {
    if offset < margin {
        &[0, -1]
    } else if offset > 1.0 - margin {
        &[0, 1]
    } else {
        &[0]
    }
}

/// What `near_pixels` found: the ranges to read, the pixels they were made of, and the
/// disk in the projection plane that holds the cone.
struct NearPixels {
    scan: Vec<(i64, i64)>,
    pixels: Vec<(i64, i64)>,
    disk: Disk,
}

/// A disk in one base pixel's projection plane (coordinates in base-pixel sides) that holds
/// the projection of a cone: the cheap first test of a key read for the cone.
#[derive(Clone, Debug, PartialEq)]
struct Disk {
    base: i64,
    x: f64,
    y: f64,
    /// The squared radius, with room for a key's pixel and for rounding.
    reach2: f64,
}

impl Disk {
    /// May the key's position be in the disk? Its pixel's centre is, within the room left.
    fn may_hold(&self, key: i64) -> bool {
        if key >> (2 * u32::from(DEPTH)) != self.base {
            return false;
        }
        let (i, j) = deinterleave(key as u64);
        let scale = 1.0 / f64::from(1u32 << DEPTH);
        let dx = (f64::from(i) + 0.5) * scale - self.x;
        let dy = (f64::from(j) + 0.5) * scale - self.y;
        dx * dx + dy * dy <= self.reach2
    }
}

/// The nested index of grid cell (i, j) inside its base pixel: i's bits at the even
/// positions, j's at the odd ones.
fn interleave(i: u32, j: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = u64::from(v);
        v = (v | (v << 16)) & 0x0000_ffff_0000_ffff;
        v = (v | (v << 8)) & 0x00ff_00ff_00ff_00ff;
        v = (v | (v << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    }
    spread(i) | (spread(j) << 1)
}

/// The grid cell (i, j) of a key inside its base pixel (the inverse of `interleave`).
fn deinterleave(key: u64) -> (u32, u32) {
    fn compact(v: u64) -> u32 {
        let mut v = v & 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0f0f_0f0f_0f0f_0f0f;
        v = (v | (v >> 4)) & 0x00ff_00ff_00ff_00ff;
        v = (v | (v >> 8)) & 0x0000_ffff_0000_ffff;
        ((v | (v >> 16)) & 0x0000_0000_ffff_ffff) as u32
    }
    let cell = key & ((1u64 << (2 * u32::from(DEPTH))) - 1);
    (compact(cell), compact(cell >> 1))
}

/// Is the key inside one of the sorted, disjoint ranges?
fn within(ranges: &[(i64, i64)], key: i64) -> bool {
    let after = ranges.partition_point(|&(lo, _)| lo <= key);
    after > 0 && key <= ranges[after - 1].1
}

/// A cone prepared for an index scan: the key ranges the index reads, and a test of the keys
/// read in them, which drops those whose position cannot be inside before any row is read.
#[derive(Clone, Debug, PartialEq)]
pub struct Cone {
    /// The ranges an index reads.
    scan: Vec<(i64, i64)>,
    /// The pixels the scan ranges were made of.
    cover: Vec<(i64, i64)>,
    /// The finer cover, once computed (see `REFINE_AFTER`); from the start when there is
    /// nothing finer worth computing.
    fine: Option<Vec<(i64, i64)>>,
    /// For a small cone inside one base pixel, the disk in the projection plane that holds
    /// it, which tests a key with a few multiplications (no finer cover needed).
    disk: Option<Disk>,
    /// Keys read in the scan ranges, and those of them in the cover that needed the exact
    /// test.
    read: u32,
    tested: u32,
    ra: f64,
    dec: f64,
    radius: f64,
    centre: [f64; 3],
    /// Largest squared chord from the centre to a key's pixel centre that may still be
    /// inside: the radius plus a pixel's half-diagonal, with room for rounding.
    max_chord2: f64,
}

/// More than the distance from a depth-29 pixel's centre to its farthest corner (about
/// 0.5 mas), in radians.
const KEY_SLACK: f64 = 5e-3 / 3600.0 * std::f64::consts::PI / 180.0;

impl Cone {
    /// The cone of `radius` degrees around (ra, dec), to be read from an index holding about
    /// `density` keys per steradian near it (infinite if unknown: the tightest ranges). A
    /// NaN or unusable centre or a NaN or negative radius gives a cone with no ranges.
    pub fn new(ra: f64, dec: f64, radius: f64, density: f64) -> Cone {
        // RA modulo 360 here already, so that the centre's vector is the key's position.
        let (ra, dec, radius) = (sky::normalise_ra(tame(ra)), tame(dec), tame(radius));
        let reach = radius.to_radians() + KEY_SLACK;
        let max_chord2 = if reach >= std::f64::consts::PI {
            f64::INFINITY
        } else {
            (2.0 * (reach / 2.0).sin()).powi(2)
        };
        let mut cone = Cone {
            scan: Vec::new(),
            cover: Vec::new(),
            fine: Some(Vec::new()),
            disk: None,
            read: 0,
            tested: 0,
            ra,
            dec,
            radius,
            centre: sky::unit_vector(ra, dec),
            max_chord2,
        };
        if !on_sky(ra, dec) || radius.is_nan() || radius < 0.0 {
            return cone;
        }
        let r = radius.to_radians();
        let (lon, lat) = (sky::normalise_ra(ra).to_radians(), dec.to_radians());
        if radius == 0.0 {
            cone.scan = key(ra, dec).map(|k| vec![(k, k)]).unwrap_or_default();
            cone.cover = cone.scan.clone();
            cone.fine = Some(cone.scan.clone());
        } else if !cdshealpix::has_best_starting_depth(r) {
            cone.scan = vec![(0, KEYS - 1)];
            cone.cover = cone.scan.clone();
            cone.fine = Some(cone.scan.clone());
        } else if let Some(near) = near_pixels(lon, lat, r, density) {
            cone.scan = near.scan;
            cone.cover = near.pixels;
            cone.fine = None;
            cone.disk = Some(near.disk);
        } else {
            let keys_inside = density * std::f64::consts::PI * r * r;
            let step = u8::from(keys_inside >= FINE_COVER_KEYS);
            let (cover, depth) = cover(lon, lat, r, step);
            cone.scan = merged(&cover, depth.saturating_sub(MERGE_LEVELS), density).collect();
            cone.cover = cover;
            cone.fine = None;
        }
        cone
    }

    /// The key ranges an index reads for the cone: sorted, disjoint, inclusive, holding every
    /// position inside.
    pub fn ranges(&self) -> &[(i64, i64)] {
        &self.scan
    }

    /// Keys per steradian in the ranges read so far, for the next cone's `density`.
    pub fn observed_density(&self) -> f64 {
        let keys: i64 = self.scan.iter().map(|(lo, hi)| hi - lo + 1).sum();
        if keys == 0 {
            0.0
        } else {
            f64::from(self.read) / (keys as f64 * KEY_AREA)
        }
    }

    /// False only for a key inside the ranges whose position is outside the cone. Keys
    /// outside the ranges pass: the range test, not this one, ends a btree's scan of a range.
    pub fn may_hold(&mut self, key: i64) -> bool {
        if !within(&self.scan, key) {
            return true;
        }
        self.read = self.read.saturating_add(1);
        if !within(&self.cover, key) {
            return false;
        }
        if let Some(disk) = &self.disk {
            if !disk.may_hold(key) {
                return false;
            }
        } else if self.fine.is_none() {
            self.tested += 1;
            if self.tested > REFINE_AFTER {
                let r = self.radius.to_radians();
                let (lon, lat) = (
                    sky::normalise_ra(self.ra).to_radians(),
                    self.dec.to_radians(),
                );
                self.fine = Some(cover(lon, lat, r, REFINE_STEP).0);
            }
        }
        if let Some(fine) = &self.fine {
            if !within(fine, key) {
                return false;
            }
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

    /// Keys per steradian of 1e7 sources over the whole sky and over 100 square degrees.
    const SPARSE: f64 = 1e7 / (4.0 * std::f64::consts::PI);
    const DENSE: f64 = 1e5 * (180.0 / std::f64::consts::PI) * (180.0 / std::f64::consts::PI);

    fn cone_ranges(ra: f64, dec: f64, radius: f64, density: f64) -> Vec<(i64, i64)> {
        Cone::new(ra, dec, radius, density).ranges().to_vec()
    }

    fn uniform_source() -> impl FnMut() -> f64 {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn cone_ranges_cover_every_point_in_the_cone() {
        // Points on circles just inside the radius, around centres at the equator, near
        // the poles and on RA 0/360, for radii from 1 mas to 40 degrees, whatever the density.
        for (ra0, dec0) in [
            (10.0, 0.0),
            (0.0001, 45.0),
            (359.9999, -30.0),
            (77.0, 89.99),
            (200.0, -89.999),
            (45.0, 41.8103), // where the polar caps meet the equatorial belt
        ] {
            for radius in [1.0 / 3.6e6, 1.0 / 3600.0, 0.01, 1.0, 10.0, 40.0] {
                for density in [0.0, SPARSE, DENSE, f64::INFINITY] {
                    let ranges = cone_ranges(ra0, dec0, radius, density);
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
    }

    #[test]
    fn grid_cells_are_healpix_pixels() {
        // The cell of a position found from its place in the base pixel is cdshealpix's.
        let mut uniform = uniform_source();
        for _ in 0..20_000 {
            let (lon, lat) = (
                std::f64::consts::TAU * uniform(),
                (2.0 * uniform() - 1.0).asin(),
            );
            let depth = (uniform() * 20.0) as u8;
            let (base, x, y) = cdshealpix::nested::hash_with_dxdy(0, lon, lat);
            let side = f64::from(1u32 << depth);
            let (i, j) = ((x * side).floor() as u32, (y * side).floor() as u32);
            assert_eq!(
                (base << (2 * u32::from(depth))) | interleave(i, j),
                cdshealpix::nested::hash(depth, lon, lat),
                "depth {depth}"
            );
        }
    }

    #[test]
    fn near_pixels_hold_the_whole_cone() {
        // Random cones all over the sky, the poles and the base pixels' edges included:
        // whenever near_pixels answers, every point on the cone's rim and inside it is in
        // its pixels, and the ranges read hold the pixels.
        let mut uniform = uniform_source();
        let (mut held, mut several) = (0, 0);
        for i in 0..20_000 {
            let (ra, dec) = (
                360.0 * uniform(),
                (2.0 * uniform() - 1.0).asin().to_degrees(),
            );
            let radius = 10f64.powf(-3.5 + 4.0 * uniform());
            let (lon, lat, r) = (ra.to_radians(), dec.to_radians(), radius.to_radians());
            let Some(near) = near_pixels(lon, lat, r, f64::from(i % 3) * SPARSE) else {
                continue;
            };
            held += 1;
            several += usize::from(near.pixels.len() > 1);
            for k in 0..90 {
                let d = if k % 2 == 0 {
                    radius
                } else {
                    radius * uniform()
                };
                let (ra, dec) = offset(ra, dec, d, f64::from(k) * 4.0);
                let k = key(ra, dec).unwrap();
                assert!(covered(k, &near.pixels), "({ra}, {dec}) r={radius}");
                assert!(covered(k, &near.scan), "({ra}, {dec}) r={radius}");
                assert!(near.disk.may_hold(k), "({ra}, {dec}) r={radius}");
            }
        }
        assert!(held > 10_000 && several > 1_000, "{held} {several}");
    }

    #[test]
    fn cone_ranges_are_few_where_sparse_and_tight_where_dense() {
        // Averaged over random cones. With less than a key expected inside, about one btree
        // descent each; with many, a small multiple of the cone's area (the nine pixels that
        // cover a cone at its starting depth alone cover about twenty times it).
        let mut uniform = uniform_source();
        for arcsec in [1.0, 10.0, 60.0, 600.0] {
            let r = (arcsec / 3600.0f64).to_radians();
            for density in [SPARSE, DENSE] {
                let keys_inside = density * std::f64::consts::PI * r * r;
                let (mut ranges, mut ratio) = (0, 0.0);
                let n = 2000;
                for _ in 0..n {
                    let ra = 360.0 * uniform();
                    let dec = (2.0 * uniform() - 1.0).asin().to_degrees();
                    let scan = cone_ranges(ra, dec, arcsec / 3600.0, density);
                    ranges += scan.len();
                    let area: f64 = scan
                        .iter()
                        .map(|(lo, hi)| (hi - lo + 1) as f64 * KEY_AREA)
                        .sum();
                    ratio += area / (std::f64::consts::PI * r * r);
                }
                let (ranges, ratio) = (ranges as f64 / n as f64, ratio / n as f64);
                let case = format!("{arcsec}\" with {keys_inside:.2} keys inside: {ranges:.2} ranges, {ratio:.1}x the area");
                assert!(keys_inside > 1.0 || ranges < 1.5, "{case}");
                assert!(keys_inside < 50.0 || ratio < 5.0, "{case}");
            }
        }
    }

    #[test]
    fn a_refined_cone_keeps_every_key_inside() {
        // Enough keys inside to make the cone compute its finer cover part way through.
        let mut cone = Cone::new(150.0, 20.0, 60.0 / 3600.0, DENSE);
        for k in 0..400 {
            let (d, pa) = (60.0 / 3600.0 * f64::from(k % 20) / 20.0, f64::from(k) * 7.3);
            let (ra, dec) = offset(150.0, 20.0, d, pa);
            assert!(cone.may_hold(key(ra, dec).unwrap()), "{ra} {dec}");
        }
        assert!(cone.fine.is_some());
        let (ra, dec) = offset(150.0, 20.0, 61.0 / 3600.0, 0.0);
        assert!(!cone.may_hold(key(ra, dec).unwrap()));
        assert!(cone.observed_density() > 0.0);
    }

    #[test]
    fn degenerate_cones() {
        assert!(cone_ranges(10.0, 10.0, -1.0, 0.0).is_empty());
        assert!(cone_ranges(10.0, f64::NAN, 1.0, 0.0).is_empty());
        let all = cone_ranges(10.0, 10.0, 180.0, 0.0);
        assert!(covered(key(190.0, -10.0).unwrap(), &all));
        // A zero radius still holds the centre itself.
        assert!(covered(
            key(10.0, 10.0).unwrap(),
            &cone_ranges(10.0, 10.0, 0.0, DENSE)
        ));
    }

    #[test]
    fn cone_keeps_every_key_inside_and_drops_keys_read_well_outside() {
        for (ra0, dec0) in [(10.0, 0.0), (359.9999, -30.0), (77.0, 89.99)] {
            for radius in [1.0 / 3.6e6, 10.0 / 3600.0, 1.0] {
                for density in [0.0, SPARSE, DENSE] {
                    let mut cone = Cone::new(ra0, dec0, radius, density);
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
        }
        assert!(Cone::new(10.0, 10.0, -1.0, 0.0).ranges().is_empty());
        assert!(Cone::new(10.0, f64::NAN, 1.0, 0.0).ranges().is_empty());
        let mut sky = Cone::new(10.0, 10.0, 180.0, 0.0);
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

#[cfg(test)]
mod hostile_inputs {
    use super::*;

    /// Floats a query can hand the key and the cone: zeros, subnormals, the smallest
    /// normals, values just off the poles and base-pixel corners, huge and non-finite.
    fn hostile() -> Vec<f64> {
        let mut v = vec![
            0.0,
            -0.0,
            f64::from_bits(1),
            -f64::from_bits(1),
            4.9e-324,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            1e-300,
            1e-200,
            1e-100,
            1e-12,
            90.0,
            -90.0,
            90.0 - 1e-12,
            -(90.0 - 1e-12),
            f64::from_bits(90f64.to_bits() - 1),
            f64::from_bits(90f64.to_bits() + 1),
            41.810_314_895_778_6, // asin(2/3): the edge of HEALPix's equatorial belt
            -41.810_314_895_778_6,
            45.0,
            90.0 + 1e-9,
            180.0,
            360.0,
            -360.0,
            1e300,
            -1e300,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        v.extend((0..8).map(|k| 45.0 * k as f64));
        v
    }

    /// Every key and every cone of hostile floats answers without a panic (in a debug
    /// build, where cdshealpix's own assertions are on), and a cone around a position holds
    /// that position's key.
    #[test]
    fn no_float_makes_the_key_or_the_cone_panic() {
        let values = hostile();
        for &ra in &values {
            for &dec in &values {
                let k = key(ra, dec);
                for &radius in &values {
                    let mut cone = Cone::new(ra, dec, radius, f64::INFINITY);
                    let ranges = cone.ranges().to_vec();
                    if let Some(k) = k {
                        if radius >= 0.0 {
                            assert!(
                                within(&ranges, k) && cone.may_hold(k),
                                "({ra}, {dec}) radius {radius}"
                            );
                        }
                    }
                    for &(lo, hi) in ranges.iter().take(3) {
                        cone.may_hold(lo);
                        cone.may_hold(hi);
                    }
                }
            }
        }
    }
}
