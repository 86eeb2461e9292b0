//! The pixel key and exact region tests behind skytrap's cone, cross-match, ellipse and
//! polygon predicates (the indexable predicates themselves are SQL, in sql/xmatch.sql).

use pgrx::prelude::*;
use skytrap_core::pixel;
use skytrap_core::sky::{self, Position};
use std::cell::Cell;

/// The indexable pixel key of a position (HEALPix nested, depth 29); NULL for a NaN or a
/// declination outside [-90, 90]. Costs are declared honestly (a HEALPix hash is not free),
/// so the planner prefers probing the index to evaluating the key for every pair.
#[pg_extern(immutable, strict, parallel_safe, cost = 100)]
fn pixel(ra: f64, decl: f64) -> Option<i64> {
    pixel::key(ra, decl)
}

/// A cone (the bits of ra, decl, radius) and the key ranges that cover it.
type CachedCone = ([u64; 3], [(i64, i64); pixel::RANGES]);

thread_local! {
    /// The last cone's ranges: the SQL predicates ask for the nine ranges one at a time,
    /// with the same cone, for each row of a join.
    static LAST_CONE: Cell<Option<CachedCone>> = const { Cell::new(None) };
}

fn cone_range(ra: f64, decl: f64, radius: f64, n: i32) -> (i64, i64) {
    let key = [ra.to_bits(), decl.to_bits(), radius.to_bits()];
    let ranges = LAST_CONE.with(|last| match last.get() {
        Some((k, r)) if k == key => r,
        _ => {
            let r = pixel::cone_ranges(ra, decl, radius);
            last.set(Some((key, r)));
            r
        }
    });
    ranges[(n.clamp(1, pixel::RANGES as i32) - 1) as usize]
}

/// Lower key of the n-th (1..9) pixel-key range covering a cone.
#[pg_extern(immutable, strict, parallel_safe, cost = 100)]
fn pixel_range_lo(ra: f64, decl: f64, radius: f64, n: i32) -> i64 {
    cone_range(ra, decl, radius, n).0
}

/// Upper key of the n-th (1..9) pixel-key range covering a cone.
#[pg_extern(immutable, strict, parallel_safe, cost = 100)]
fn pixel_range_hi(ra: f64, decl: f64, radius: f64, n: i32) -> i64 {
    cone_range(ra, decl, radius, n).1
}

/// The De Ruiter radius between two positions with on-sky uncertainties (degrees).
#[pg_extern(immutable, strict, parallel_safe)]
#[allow(clippy::too_many_arguments)]
fn de_ruiter(
    ra1: f64,
    decl1: f64,
    unc_ew1: f64,
    unc_ns1: f64,
    ra2: f64,
    decl2: f64,
    unc_ew2: f64,
    unc_ns2: f64,
) -> f64 {
    let a = Position {
        ra: ra1,
        dec: decl1,
        unc_ew: unc_ew1,
        unc_ns: unc_ns1,
    };
    let b = Position {
        ra: ra2,
        dec: decl2,
        unc_ew: unc_ew2,
        unc_ns: unc_ns2,
    };
    sky::de_ruiter(&a, &b)
}

/// Exact test: (ra, decl) inside the ellipse (semi-axes and position angle in degrees).
#[pg_extern(immutable, strict, parallel_safe)]
fn in_ellipse_exact(
    ra: f64,
    decl: f64,
    ra0: f64,
    decl0: f64,
    smaj: f64,
    smin: f64,
    pa: f64,
) -> bool {
    sky::in_ellipse(ra, decl, ra0, decl0, smaj, smin, pa)
}

fn vertices(polygon: &[f64]) -> Vec<(f64, f64)> {
    polygon.chunks_exact(2).map(|v| (v[0], v[1])).collect()
}

/// Exact test: (ra, decl) inside the polygon {ra1, dec1, ra2, dec2, ...} (great-circle edges).
#[pg_extern(immutable, strict, parallel_safe)]
fn in_polygon_exact(ra: f64, decl: f64, polygon: Vec<f64>) -> bool {
    polygon.len().is_multiple_of(2) && sky::in_polygon(ra, decl, &vertices(&polygon))
}

/// The cone {ra, dec, radius} that holds a polygon; NULL for a polygon that is not one
/// (odd length, fewer than 3 vertices, bad coordinates, larger than a hemisphere).
#[pg_extern(immutable, strict, parallel_safe)]
fn polygon_cone(polygon: Vec<f64>) -> Option<Vec<f64>> {
    if !polygon.len().is_multiple_of(2) {
        return None;
    }
    sky::polygon_cone(&vertices(&polygon)).map(|(ra, dec, r)| vec![ra, dec, r])
}
