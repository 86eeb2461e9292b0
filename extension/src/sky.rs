//! Spherical geometry in SQL, degrees in and out.

use pgrx::prelude::*;
use skytrap_core::sky;

/// Angular distance between two sky positions (Vincenty's formula, exact at all separations).
#[pg_extern(immutable, strict, parallel_safe, cost = 50)]
pub fn distance(ra1: f64, dec1: f64, ra2: f64, dec2: f64) -> f64 {
    sky::distance(ra1, dec1, ra2, dec2)
}

/// Position angle of the second position seen from the first, degrees east of north.
#[pg_extern(immutable, strict, parallel_safe)]
pub fn position_angle(ra1: f64, dec1: f64, ra2: f64, dec2: f64) -> f64 {
    sky::position_angle(ra1, dec1, ra2, dec2)
}

/// TraP's RA inflation: the RA half-width of a cone of radius `theta` at declination `dec`.
#[pg_extern(immutable, strict, parallel_safe)]
pub fn alpha(theta: f64, dec: f64) -> f64 {
    sky::alpha(theta, dec)
}
