//! `skytrap.lightcurve_violations()`: every lightcurve's stored state checked against its
//! points (`skytrap_core::integrity`), for `skytrap.check_integrity()` (sql/integrity.sql).

use pgrx::prelude::*;
use pgrx::spi::{self, SpiHeapTupleData};
use skytrap_core::integrity::{violations, StoredBand, Violation};
use skytrap_core::lightcurve::Point;
use skytrap_core::variability::FluxSums;
use skytrap_core::varmetric::{BandState, LastPoint};

/// One row per lightcurve: its points as arrays, and its flux rows as arrays (the 15
/// numbers of each row one after another, in the order `band_state` reads them; the last
/// point's ids and the summary flag beside them).
const LIGHTCURVES: &str = "
    SELECT r.id,
           p.xtrsrc, p.previous, p.band, p.stokes, p.epoch, p.f_int, p.f_int_err, p.f_peak,
           p.f_peak_err,
           f.band, f.stokes, f.numbers, f.last_xtrsrc, f.last_prev_xtrsrc, f.varmetric_band
    FROM skytrap.runningcatalog r
    CROSS JOIN LATERAL (
        SELECT array_agg(x.id) AS xtrsrc, array_agg(a.prev_xtrsrc) AS previous,
               array_agg(i.band) AS band, array_agg(i.stokes) AS stokes,
               array_agg(extract(epoch FROM i.taustart_ts)::float8) AS epoch,
               array_agg(x.f_int) AS f_int, array_agg(x.f_int_err) AS f_int_err,
               array_agg(x.f_peak) AS f_peak, array_agg(x.f_peak_err) AS f_peak_err
        FROM skytrap.assocxtrsource a
        JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
        JOIN skytrap.image i ON i.id = x.image
        WHERE a.runcat = r.id) p
    CROSS JOIN LATERAL (
        SELECT array_agg(f.band ORDER BY f.id) FILTER (WHERE u.k = 1) AS band,
               array_agg(f.stokes ORDER BY f.id) FILTER (WHERE u.k = 1) AS stokes,
               array_agg(f.last_xtrsrc ORDER BY f.id) FILTER (WHERE u.k = 1) AS last_xtrsrc,
               array_agg(f.last_prev_xtrsrc ORDER BY f.id)
                   FILTER (WHERE u.k = 1) AS last_prev_xtrsrc,
               array_agg(f.varmetric_band ORDER BY f.id)
                   FILTER (WHERE u.k = 1) AS varmetric_band,
               array_agg(u.number ORDER BY f.id, u.k) AS numbers
        FROM skytrap.runningcatalog_flux f
        CROSS JOIN LATERAL unnest(ARRAY[
            f.f_datapoints, f.sum_f_peak, f.sum_f_peak_sq, f.sum_f_peak_weight,
            f.sum_weighted_f_peak, f.sum_weighted_f_peak_sq, f.sum_f_int, f.sum_f_int_sq,
            f.sum_f_int_weight, f.sum_weighted_f_int, f.sum_weighted_f_int_sq,
            extract(epoch FROM f.first_ts)::float8, extract(epoch FROM f.last_ts)::float8,
            f.last_f_int, f.max_f_int]::float8[])
            WITH ORDINALITY AS u(number, k)
        WHERE f.runcat = r.id) f
    ORDER BY r.id";

/// How many lightcurves are read at a time.
const BATCH: i64 = 1000;

/// The invariants each lightcurve's stored state breaks, as (invariant, runcat, detail):
/// flux sums, extremes and last points that are not those of its points, previous points
/// that are not the one before in time, a variability summary showing another band than
/// TraP's rule picks.
#[allow(clippy::type_complexity)]
#[pg_extern(stable)]
#[search_path(@extschema@, pg_temp)]
fn lightcurve_violations() -> Result<
    TableIterator<
        'static,
        (
            name!(invariant, String),
            name!(runcat, i64),
            name!(detail, String),
        ),
    >,
    spi::Error,
> {
    let found = Spi::connect(|client| {
        let mut found = Vec::new();
        let mut cursor = client.open_cursor(LIGHTCURVES, &[]);
        loop {
            let rows = cursor.fetch(BATCH)?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                let runcat: i64 = row.get(1)?.unwrap_or_default();
                for v in lightcurve_of(&row)? {
                    found.push((v.invariant.to_string(), runcat, v.detail));
                }
            }
        }
        Ok::<_, spi::Error>(found)
    })?;
    Ok(TableIterator::new(found))
}

/// The violations of the lightcurve in one row of `LIGHTCURVES`.
fn lightcurve_of(row: &SpiHeapTupleData<'_>) -> Result<Vec<Violation>, spi::Error> {
    let ids: Vec<Option<i64>> = row.get(2)?.unwrap_or_default();
    let previous: Vec<Option<i64>> = row.get(3)?.unwrap_or_default();
    let band: Vec<Option<i32>> = row.get(4)?.unwrap_or_default();
    let stokes: Vec<Option<i16>> = row.get(5)?.unwrap_or_default();
    let floats = |i| -> Result<Vec<f64>, spi::Error> {
        let values: Vec<Option<f64>> = row.get(i)?.unwrap_or_default();
        Ok(values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let (epoch, f_int, f_int_err, f_peak, f_peak_err) =
        (floats(6)?, floats(7)?, floats(8)?, floats(9)?, floats(10)?);
    let mut points: Vec<Point> = (0..ids.len())
        .map(|i| Point {
            xtrsrc: ids[i].unwrap_or_default(),
            band: band[i].unwrap_or_default(),
            stokes: stokes[i].unwrap_or_default(),
            previous: previous[i],
            int: (f_int[i], f_int_err[i]),
            peak: (f_peak[i], f_peak_err[i]),
            epoch: epoch[i],
            current: false,
        })
        .collect();

    let flux_band: Vec<Option<i32>> = row.get(11)?.unwrap_or_default();
    let flux_stokes: Vec<Option<i16>> = row.get(12)?.unwrap_or_default();
    let numbers = floats(13)?;
    let last_xtrsrc: Vec<Option<i64>> = row.get(14)?.unwrap_or_default();
    let last_previous: Vec<Option<i64>> = row.get(15)?.unwrap_or_default();
    let shown: Vec<Option<bool>> = row.get(16)?.unwrap_or_default();
    let stored: Vec<StoredBand> = numbers
        .chunks_exact(15)
        .enumerate()
        .map(|(i, n)| StoredBand {
            band: flux_band[i].unwrap_or_default(),
            stokes: flux_stokes[i].unwrap_or_default(),
            state: band_state(n, last_xtrsrc[i].unwrap_or_default(), last_previous[i]),
            varmetric_band: shown[i].unwrap_or_default(),
        })
        .collect();
    Ok(violations(&mut points, &stored))
}

/// A flux row's 15 numbers (the count, the peak and integrated sums, the first and last
/// time, the last and largest integrated flux) with its last point's ids.
fn band_state(n: &[f64], last_xtrsrc: i64, last_previous: Option<i64>) -> BandState {
    let sums = |at: usize| FluxSums {
        n: n[0] as i32,
        sum_f: n[at],
        sum_f_sq: n[at + 1],
        sum_w: n[at + 2],
        sum_wf: n[at + 3],
        sum_wf_sq: n[at + 4],
    };
    BandState {
        peak: sums(1),
        int: sums(6),
        first: n[11],
        max_f_int: n[14],
        last: Some(LastPoint {
            epoch: n[12],
            xtrsrc: last_xtrsrc,
            previous: last_previous,
            f_int: n[13],
        }),
    }
}
