//! `skytrap.lightcurve_violations()`: every lightcurve's stored state checked against its
//! points (`skytrap_core::integrity`), for `skytrap.check_integrity()` (sql/integrity.sql).

use pgrx::prelude::*;
use pgrx::spi::{self, SpiHeapTupleData};
use skytrap_core::integrity::{violations, StoredBand, Violation};
use skytrap_core::lightcurve::Point;
use skytrap_core::variability::{FluxSums, SignificantPair};
use skytrap_core::varmetric::{BandState, Summary};

/// One row per lightcurve: its dataset's pair threshold, its points as arrays, its flux
/// rows as arrays (the 15 numbers of each row one after another, in the order `band_state`
/// reads them) and its varmetric row.
const LIGHTCURVES: &str = "
    SELECT r.id, d.pair_metrics_min_abs_vs,
           p.xtrsrc, p.previous, p.band, p.stokes, p.epoch, p.f_int, p.f_int_err, p.f_peak,
           p.f_peak_err,
           f.band, f.stokes, f.numbers,
           v.band, v.v_int, v.eta_int, v.v_peak, v.eta_peak, v.lightcurve_max,
           v.lightcurve_avg, v.lightcurve_median, v.vs_abs_significant_max_int,
           v.m_abs_significant_max_int, v.vs_abs_significant_max_peak,
           v.m_abs_significant_max_peak, v.datapoints,
           extract(epoch FROM v.first_ts)::float8, extract(epoch FROM v.last_ts)::float8
    FROM skytrap.runningcatalog r
    JOIN skytrap.dataset d ON d.id = r.dataset
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
               array_agg(u.number ORDER BY f.id, u.k) AS numbers
        FROM skytrap.runningcatalog_flux f
        CROSS JOIN LATERAL unnest(ARRAY[
            f.f_datapoints, f.sum_f_peak, f.sum_f_peak_sq, f.sum_f_peak_weight,
            f.sum_weighted_f_peak, f.sum_weighted_f_peak_sq, f.sum_f_int, f.sum_f_int_sq,
            f.sum_f_int_weight, f.sum_weighted_f_int, f.sum_weighted_f_int_sq,
            f.vs_abs_significant_max_int, f.m_abs_significant_max_int,
            f.vs_abs_significant_max_peak, f.m_abs_significant_max_peak]::float8[])
            WITH ORDINALITY AS u(number, k)
        WHERE f.runcat = r.id) f
    LEFT JOIN skytrap.varmetric v ON v.runcat = r.id
    ORDER BY r.id";

/// How many lightcurves are read at a time.
const BATCH: i64 = 1000;

/// The invariants each lightcurve's stored state breaks, as (invariant, runcat, detail):
/// flux sums and pair metrics that are not those of its points, previous points that are
/// not the one before in time, variability summaries that are not its points'. Pair
/// metrics are recomputed with the dataset's pair_metrics_min_abs_vs as it is now: a
/// dataset loaded with another (`--allow-config-change`) shows the lightcurves it changes.
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
    let min_abs_vs: f64 = row.get(2)?.unwrap_or_default();
    let ids: Vec<Option<i64>> = row.get(3)?.unwrap_or_default();
    let previous: Vec<Option<i64>> = row.get(4)?.unwrap_or_default();
    let band: Vec<Option<i32>> = row.get(5)?.unwrap_or_default();
    let stokes: Vec<Option<i16>> = row.get(6)?.unwrap_or_default();
    let floats = |i| -> Result<Vec<f64>, spi::Error> {
        let values: Vec<Option<f64>> = row.get(i)?.unwrap_or_default();
        Ok(values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let (epoch, f_int, f_int_err, f_peak, f_peak_err) =
        (floats(7)?, floats(8)?, floats(9)?, floats(10)?, floats(11)?);
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

    let flux_band: Vec<Option<i32>> = row.get(12)?.unwrap_or_default();
    let flux_stokes: Vec<Option<i16>> = row.get(13)?.unwrap_or_default();
    let numbers = floats(14)?;
    let stored: Vec<StoredBand> = flux_band
        .iter()
        .zip(&flux_stokes)
        .zip(numbers.chunks_exact(15))
        .map(|((b, s), n)| StoredBand {
            band: b.unwrap_or_default(),
            stokes: s.unwrap_or_default(),
            state: band_state(n),
        })
        .collect();

    let varmetric = match row.get::<i32>(15)? {
        None => None,
        Some(band) => {
            let f = |i| row.get::<f64>(i).map(|v| v.unwrap_or(f64::NAN));
            Some(Summary {
                band,
                v_int: f(16)?,
                eta_int: f(17)?,
                v_peak: f(18)?,
                eta_peak: f(19)?,
                max: f(20)?,
                avg: f(21)?,
                median: f(22)?,
                pair_int: SignificantPair {
                    vs_abs: f(23)?,
                    m_abs: f(24)?,
                },
                pair_peak: SignificantPair {
                    vs_abs: f(25)?,
                    m_abs: f(26)?,
                },
                n: row.get(27)?.unwrap_or_default(),
                first: f(28)?,
                last: f(29)?,
            })
        }
    };
    Ok(violations(
        &mut points,
        &stored,
        varmetric.as_ref(),
        min_abs_vs,
    ))
}

/// A flux row's 15 numbers: the count, the peak and integrated sums, the pair metrics.
fn band_state(n: &[f64]) -> BandState {
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
        pair_int: SignificantPair {
            vs_abs: n[11],
            m_abs: n[12],
        },
        pair_peak: SignificantPair {
            vs_abs: n[13],
            m_abs: n[14],
        },
    }
}
