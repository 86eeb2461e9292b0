//! Variability statistics in SQL.

use pgrx::prelude::*;
use skytrap_core::variability::{self, LightcurveStats, SignificantPair};

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

/// The median of `fluxes` (the mean of the two middle ones for an even count); NULL for
/// none. NULL elements are not fluxes and are left out.
#[pg_extern(immutable, strict, parallel_safe)]
pub fn flux_median(fluxes: Vec<Option<f64>>) -> Option<f64> {
    let mut fluxes: Vec<f64> = fluxes.into_iter().flatten().collect();
    (!fluxes.is_empty()).then(|| variability::median(&mut fluxes))
}

/// VAST's two-epoch metrics of a lightcurve's points, given in time order as fluxes and
/// their errors: of the pairs with |Vs| ≥ `min_abs_vs`, the one with the largest |m|, as
/// {|Vs|, |m|}; {0, 0} when none is. Every pair is compared: O(n²) in the points.
#[pg_extern(immutable, strict, parallel_safe)]
pub fn significant_pair(flux: Vec<f64>, flux_err: Vec<f64>, min_abs_vs: f64) -> Vec<f64> {
    if flux.len() != flux_err.len() {
        error!(
            "skytrap.significant_pair: {} fluxes and {} errors",
            flux.len(),
            flux_err.len()
        );
    }
    let points: Vec<(f64, f64)> = flux.into_iter().zip(flux_err).collect();
    let best = SignificantPair::of(&points, min_abs_vs);
    vec![best.vs_abs, best.m_abs]
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
