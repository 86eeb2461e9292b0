//! Variability statistics in SQL.

use pgrx::prelude::*;
use skytrap_core::variability;

/// Two-epoch t-statistic Vs = (f_a − f_b)/√(err_a² + err_b²) (Mooley et al. 2016).
#[pg_extern(immutable, strict, parallel_safe)]
pub fn two_epoch_vs(f_a: f64, err_a: f64, f_b: f64, err_b: f64) -> f64 {
    variability::two_epoch_vs(f_a, err_a, f_b, err_b)
}

/// Two-epoch modulation index m = 2(f_a − f_b)/(f_a + f_b) (Mooley et al. 2016).
#[pg_extern(immutable, strict, parallel_safe)]
pub fn two_epoch_m(f_a: f64, f_b: f64) -> f64 {
    variability::two_epoch_m(f_a, f_b)
}
