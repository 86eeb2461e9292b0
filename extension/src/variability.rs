//! Variability statistics in SQL.

use pgrx::prelude::*;
use skytrap_core::variability::{self, LightcurveStats};

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

// The `skytrap.lightcurve_stats(flux, flux_err)` aggregate (declared in
// sql/lightcurves.sql) keeps its state as a float8[]: see `LightcurveStats::to_array`.

/// An aggregate state as the functions below receive it: anything but eight non-NULL
/// numbers (NULL, a NULL element, another length) is the empty state.
fn state_of(state: Option<Vec<Option<f64>>>) -> LightcurveStats {
    state
        .and_then(|s| s.into_iter().collect::<Option<Vec<f64>>>())
        .map(|s| LightcurveStats::from_array(&s))
        .unwrap_or_default()
}

/// Aggregate step: the state with one more measurement. A NULL or non-finite flux or a
/// NULL, non-finite or non-positive error is not a measurement and is skipped.
#[pg_extern(immutable, parallel_safe)]
pub fn lightcurve_stats_add(
    state: Option<Vec<Option<f64>>>,
    flux: Option<f64>,
    flux_err: Option<f64>,
) -> Vec<f64> {
    let stats = state_of(state);
    match (flux, flux_err) {
        (Some(f), Some(e)) if f.is_finite() && e.is_finite() && e > 0.0 => {
            stats.with(f, e).to_array().to_vec()
        }
        _ => stats.to_array().to_vec(),
    }
}

/// Aggregate combine: two partial states, for parallel aggregation.
#[pg_extern(immutable, strict, parallel_safe)]
pub fn lightcurve_stats_combine(a: Vec<Option<f64>>, b: Vec<Option<f64>>) -> Vec<f64> {
    state_of(Some(a))
        .combine(state_of(Some(b)))
        .to_array()
        .to_vec()
}

/// TraP's V of an aggregate state (0 for fewer than two measurements).
#[pg_extern(immutable, strict, parallel_safe)]
pub fn lightcurve_stats_v(state: Vec<Option<f64>>) -> f64 {
    state_of(Some(state)).sums.v()
}

/// TraP's η of an aggregate state (0 for fewer than two measurements).
#[pg_extern(immutable, strict, parallel_safe)]
pub fn lightcurve_stats_eta(state: Vec<Option<f64>>) -> f64 {
    state_of(Some(state)).sums.eta()
}
