//! TraP's association scenarios (`tests/test_database` of TraP: associations, null
//! detections, monitoring list, transients, fluxes), run in the backend. Positions carry
//! 1″ errors on both axes unless a test says otherwise, so a pair d arcsec apart has a
//! De Ruiter radius d/√2; images have a 10″ beam semi-major axis, so the hard search
//! radius is 3 × 10″ = 30″. Expected values are worked by hand in the comments.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    const ARCSEC: f64 = 1.0 / 3600.0;

    fn one_f64(sql: &str) -> f64 {
        Spi::get_one::<f64>(sql).unwrap().unwrap()
    }

    fn one_i64(sql: &str) -> i64 {
        Spi::get_one::<i64>(sql).unwrap().unwrap()
    }

    fn dataset() -> i32 {
        Spi::get_one::<i32>(
            "INSERT INTO skytrap.dataset (description)
             SELECT 's' || count(*) FROM skytrap.dataset RETURNING id",
        )
        .unwrap()
        .unwrap()
    }

    /// An image of `dataset` on day `day` at `freq_mhz`, centred on (ra, dec) with a 1°
    /// extraction radius, noise between `rms_min` and `rms_max` and an 8σ threshold.
    fn image_at(dataset: i32, day: u32, freq_mhz: f64, ra: f64, dec: f64, rms: (f64, f64)) -> i32 {
        Spi::get_one::<i32>(&format!(
            "INSERT INTO skytrap.image (dataset, band, skyrgn, freq_eff, freq_bw, taustart_ts,
                 rb_smaj, rb_smin, rb_pa, deltax, deltay, url, rms_min, rms_max, detection_thresh)
             VALUES ({dataset}, skytrap.frequencyband_for({dataset}, {freq_mhz}e6, 1e6),
                 skytrap.skyregion_for({dataset}, {ra}, {dec}, 1), {freq_mhz}e6, 1e6,
                 timestamp '2020-01-01' + interval '{day} days', {ARCSEC} * 10, {ARCSEC} * 8, 0,
                 -0.001, 0.001, 'd{day}-{freq_mhz}-{ra}.fits', {}, {}, 8)
             RETURNING id",
            rms.0, rms.1
        ))
        .unwrap()
        .unwrap()
    }

    fn image(dataset: i32, day: u32) -> i32 {
        image_at(dataset, day, 150.0, 10.0, 0.0, (0.01, 0.01))
    }

    /// A measurement with 1″ position errors (ew/ns systematic 1″, error radius 0).
    fn source(image: i32, ra: f64, dec: f64, flux: f64) -> i64 {
        measurement(image, ra, dec, flux, 0.1, 1.0, "NULL", "NULL")
    }

    #[allow(clippy::too_many_arguments)]
    fn measurement(
        image: i32,
        ra: f64,
        dec: f64,
        flux: f64,
        err: f64,
        sys_err_arcsec: f64,
        ff_runcat: &str,
        ff_monitor: &str,
    ) -> i64 {
        Spi::get_one::<i64>(&format!(
            "INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err,
                 ew_sys_err, ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err, f_int,
                 f_int_err, ff_runcat, ff_monitor,
                 extract_type)
             VALUES ({image}, {ra}, {dec}, 0, 0, {sys_err_arcsec}, {sys_err_arcsec}, 0, 20, {flux},
                 {err}, {flux}, {err}, {ff_runcat}, {ff_monitor},
                 CASE WHEN {ff_monitor} IS NOT NULL THEN 2 WHEN {ff_runcat} IS NOT NULL THEN 1 ELSE 0 END)
             RETURNING id"
        ))
        .unwrap()
        .unwrap()
    }

    /// (matched, new_runcat, new_sources, forks, forced) of one associate_image call,
    /// after which `skytrap.check_integrity()` must find nothing.
    fn associate(image: i32) -> (i32, i32, i32, i32, i32) {
        let counts = Spi::connect(|c| {
            let row = c
                .select(
                    &format!("SELECT * FROM skytrap.associate_image({image})"),
                    None,
                    &[],
                )?
                .first();
            Ok::<_, spi::Error>((
                row.get(1)?.unwrap(),
                row.get(2)?.unwrap(),
                row.get(3)?.unwrap(),
                row.get(4)?.unwrap(),
                row.get(5)?.unwrap(),
            ))
        })
        .unwrap();
        let violations = Spi::get_one::<String>(
            "SELECT string_agg(format('%s (lightcurve %s): %s', invariant, runcat, detail), E'\\n')
             FROM skytrap.check_integrity()",
        )
        .unwrap();
        assert_eq!(violations, None, "after associating image {image}");
        counts
    }

    /// Each lightcurve as "type:xtrsrc" links in xtrsrc order, lightcurves in id order.
    fn lightcurves() -> Vec<Vec<(i16, i64)>> {
        Spi::connect(|c| {
            let mut out: Vec<(i64, Vec<(i16, i64)>)> = Vec::new();
            for row in c.select(
                "SELECT runcat, type, xtrsrc FROM skytrap.assocxtrsource ORDER BY runcat, xtrsrc",
                None,
                &[],
            )? {
                let rc: i64 = row.get(1)?.unwrap();
                let link = (row.get::<i16>(2)?.unwrap(), row.get::<i64>(3)?.unwrap());
                match out.last_mut() {
                    Some((last, links)) if *last == rc => links.push(link),
                    _ => out.push((rc, vec![link])),
                }
            }
            Ok::<_, spi::Error>(out.into_iter().map(|(_, l)| l).collect())
        })
        .unwrap()
    }

    #[pg_test]
    fn one_to_one() {
        let d = dataset();
        let (i1, i2) = (image(d, 1), image(d, 2));
        let a = source(i1, 10.0, 0.0, 1.0);
        assert_eq!(associate(i1), (0, 1, 0, 0, 0));
        let b = source(i2, 10.0, 2.0 * ARCSEC, 1.0);
        assert_eq!(associate(i2), (1, 0, 0, 0, 0));
        assert_eq!(lightcurves(), [vec![(4, a), (3, b)]]);
        // Equal weights: the mean declination is 1″, its error 1″/√2.
        let wm_decl = one_f64("SELECT wm_decl FROM skytrap.runningcatalog");
        assert!((wm_decl - ARCSEC).abs() < 1e-12);
        let unc = one_f64("SELECT wm_uncertainty_ns FROM skytrap.runningcatalog");
        assert!((unc - ARCSEC / 2f64.sqrt()).abs() < 1e-15);
        // r = 2″/√2 and the distance is 2″.
        let r = one_f64("SELECT r FROM skytrap.assocxtrsource WHERE type = 3");
        assert!((r - 2f64.sqrt()).abs() < 1e-6);
        let dist = one_f64("SELECT distance_arcsec FROM skytrap.assocxtrsource WHERE type = 3");
        assert!((dist - 2.0).abs() < 1e-6);
    }

    /// The invariants `skytrap.check_integrity()` reports, with how many rows each, after
    /// `damage` is done to a sound database.
    fn violations_after(damage: &str) -> Vec<(String, i64)> {
        Spi::run(damage).unwrap();
        Spi::connect(|c| {
            let mut found = Vec::new();
            for row in c.select(
                "SELECT invariant, count(*) FROM skytrap.check_integrity()
                 GROUP BY invariant ORDER BY invariant",
                None,
                &[],
            )? {
                found.push((row.get(1)?.unwrap(), row.get(2)?.unwrap()));
            }
            Ok::<_, spi::Error>(found)
        })
        .unwrap()
    }

    #[pg_test]
    fn check_integrity_finds_each_kind_of_damage() {
        // Two lightcurves of three points each (1, 3, 2 Jy and a steady 1 Jy) and a new
        // source on day 2, sound: the associate helper checked after each image.
        let d = dataset();
        for day in 1..=3 {
            let i = image(d, day);
            source(i, 10.0, 0.0, [1.0, 3.0, 2.0][day as usize - 1]);
            source(i, 10.1, 0.0, 1.0);
            if day == 2 {
                source(i, 10.2, 0.0, 1.0);
            }
            associate(i);
        }
        let flaring =
            one_i64("SELECT runcat FROM skytrap.varmetric ORDER BY lightcurve_max DESC LIMIT 1");
        let one = |what: &str| vec![(what.to_string(), 1)];
        // A sum that is not its points.
        let shift = |by: i32| {
            format!(
                "UPDATE skytrap.runningcatalog_flux SET sum_f_int = sum_f_int + {by}
                 WHERE runcat = {flaring}"
            )
        };
        assert_eq!(violations_after(&shift(2)), one("flux sums"));
        Spi::run(&shift(-2)).unwrap();
        assert_eq!(violations_after("SELECT"), []);
        // A last point that is not the points' latest, then no summary shown at all.
        let last = format!(
            "UPDATE skytrap.runningcatalog_flux SET last_f_int = 9 WHERE runcat = {flaring}"
        );
        assert_eq!(violations_after(&last), one("flux sums"));
        Spi::run(&format!(
            "UPDATE skytrap.runningcatalog_flux SET last_f_int = 2 WHERE runcat = {flaring}"
        ))
        .unwrap();
        let gone = format!(
            "UPDATE skytrap.runningcatalog_flux SET varmetric_band = false WHERE runcat = {flaring}"
        );
        assert_eq!(violations_after(&gone), one("variability summary"));
        // A link that forgot its previous point (the flux row remembers it).
        let previous = "UPDATE skytrap.assocxtrsource SET prev_xtrsrc = NULL
                        WHERE id = (SELECT max(id) FROM skytrap.assocxtrsource)";
        assert_eq!(
            violations_after(previous),
            [
                ("previous point".into(), 1),
                ("variability summary".into(), 1)
            ]
        );
        // Foreign keys off (as on a layout without them): a measurement deleted from
        // under its link, a lightcurve from under its rows.
        Spi::run("SET LOCAL session_replication_role = replica").unwrap();
        let measurement = "DELETE FROM skytrap.extractedsource
                           WHERE id = (SELECT min(xtrsrc) FROM skytrap.assocxtrsource)";
        let found = violations_after(measurement);
        assert!(found.contains(&("dangling link".into(), 1)), "{found:?}");
        let lightcurve = format!("DELETE FROM skytrap.runningcatalog WHERE id <> {flaring}");
        let found = violations_after(&lightcurve);
        for what in ["dangling flux row", "dangling new source"] {
            assert!(found.iter().any(|(w, _)| w == what), "{what}: {found:?}");
        }
        // The 4 links of the two lightcurves deleted, and the one whose measurement went.
        assert!(found.contains(&("dangling link".into(), 5)), "{found:?}");
    }

    #[pg_test]
    fn deleting_lightcurves_or_measurements_deletes_their_links() {
        // The link table has no foreign keys; its triggers cascade as they did. Two
        // lightcurves of two points each.
        let d = dataset();
        let (i1, i2) = (image(d, 1), image(d, 2));
        for i in [i1, i2] {
            source(i, 10.0, 0.0, 1.0);
            source(i, 10.1, 0.0, 1.0);
            associate(i);
        }
        let links = || one_i64("SELECT count(*) FROM skytrap.assocxtrsource");
        assert_eq!(links(), 4);
        let dangling = || {
            one_i64(
                "SELECT count(*) FROM skytrap.check_integrity() WHERE invariant = 'dangling link'",
            )
        };
        Spi::run(
            "DELETE FROM skytrap.runningcatalog
             WHERE id = (SELECT min(id) FROM skytrap.runningcatalog)",
        )
        .unwrap();
        assert_eq!((links(), dangling()), (2, 0));
        // An image's measurements go with it (a row-level cascade, one statement each).
        Spi::run(&format!("DELETE FROM skytrap.image WHERE id = {i2}")).unwrap();
        assert_eq!((links(), dangling()), (1, 0));
    }

    #[pg_test]
    fn average_position_errors_are_the_mean_over_the_points() {
        let d = dataset();
        let (i1, i2, i3) = (image(d, 1), image(d, 2), image(d, 3));
        // At the equator with no fit error, ra_err = decl_err = the systematic error:
        // 1″, then 3″, then (a fork) 2″ and 5″.
        measurement(i1, 10.0, 0.0, 1.0, 0.1, 1.0, "NULL", "NULL");
        associate(i1);
        measurement(i2, 10.0, 0.5 * ARCSEC, 1.0, 0.1, 3.0, "NULL", "NULL");
        assert_eq!(associate(i2), (1, 0, 0, 0, 0));
        let avg =
            |col: &str| one_f64(&format!("SELECT {col} FROM skytrap.runningcatalog")) * 3600.0;
        assert!((avg("avg_ra_err") - 2.0).abs() < 1e-9);
        assert!((avg("avg_decl_err") - 2.0).abs() < 1e-9);
        measurement(i3, 10.0, 2.0 * ARCSEC, 1.0, 0.1, 2.0, "NULL", "NULL");
        measurement(i3, 10.0, -2.0 * ARCSEC, 1.0, 0.1, 5.0, "NULL", "NULL");
        assert_eq!(associate(i3), (0, 0, 0, 1, 0));
        // Each fork: (1 + 3 + 2) / 3 = 2″ and (1 + 3 + 5) / 3 = 3″.
        let forks: Vec<f64> = Spi::connect(|c| {
            c.select(
                "SELECT avg_ra_err * 3600 FROM skytrap.runningcatalog ORDER BY avg_ra_err",
                None,
                &[],
            )?
            .map(|row| Ok(row.get(1)?.unwrap()))
            .collect::<Result<_, spi::Error>>()
        })
        .unwrap();
        assert_eq!(forks.len(), 2);
        assert!(
            (forks[0] - 2.0).abs() < 1e-9 && (forks[1] - 3.0).abs() < 1e-9,
            "{forks:?}"
        );
    }

    #[pg_test]
    fn a_new_lightcurve_is_linked_to_every_sky_region_that_holds_it() {
        let d = dataset();
        // The image's own region, (10, 0) with radius 1°, and four more of the dataset, on
        // the equator, where a distance is the difference in RA.
        let i1 = image(d, 1);
        let region = |ra: f64, radius: f64| {
            Spi::get_one::<i32>(&format!(
                "SELECT skytrap.skyregion_for({d}, {ra}, 0, {radius})"
            ))
            .unwrap()
            .unwrap()
        };
        let own = one_i64(&format!(
            "SELECT skyrgn::bigint FROM skytrap.image WHERE id = {i1}"
        ));
        let overlapping = region(10.5, 1.0); // 0.3° from the source: holds it
        let beside = region(12.0, 1.0); // 1.8°: within the widest radius, not its own
        let across_zero = region(359.9, 11.0); // 10.3° across RA 0/360: holds it
        let far = region(190.0, 1.0);
        source(i1, 10.2, 0.0, 1.0);
        associate(i1);
        let linked: Vec<(i64, f64)> = Spi::connect(|c| {
            c.select(
                "SELECT skyrgn::bigint, distance_deg FROM skytrap.assocskyrgn ORDER BY skyrgn",
                None,
                &[],
            )?
            .map(|row| Ok((row.get(1)?.unwrap(), row.get(2)?.unwrap())))
            .collect::<Result<_, spi::Error>>()
        })
        .unwrap();
        let expected = [
            (own, 0.2),
            (overlapping as i64, 0.3),
            (across_zero as i64, 10.3),
        ];
        assert_eq!(linked.len(), expected.len(), "{linked:?}");
        for ((got, dist), (want, want_dist)) in linked.iter().zip(expected) {
            assert_eq!(*got, want);
            assert!((dist - want_dist).abs() < 1e-9, "{dist} vs {want_dist}");
        }
        assert!(![beside, far]
            .iter()
            .any(|r| linked.iter().any(|l| l.0 == *r as i64)));
    }

    /// A region made after lightcurves exist is linked to those of its dataset inside it,
    /// found by cone: across RA 0/360, around the pole, and not another dataset's.
    #[pg_test]
    fn a_new_sky_region_is_linked_to_the_lightcurves_already_inside_it() {
        let (d, other) = (dataset(), dataset());
        let i1 = image_at(d, 1, 150.0, 0.0, 0.0, (0.01, 0.01));
        let i2 = image_at(d, 1, 150.0, 180.0, 90.0, (0.01, 0.01));
        let j1 = image_at(other, 1, 150.0, 0.0, 0.0, (0.01, 0.01));
        let near_zero = source(i1, 359.8, 0.0, 1.0); // 0.2° from (0, 0) across RA 0/360
        let east = source(i1, 0.5, 0.0, 1.0); // 0.5° from (0, 0)
        let pole = source(i2, 120.0, 89.7, 1.0); // 0.3° from the pole
        let beyond_pole = source(i2, 300.0, 89.5, 1.0); // 0.5° from the pole, across it
        source(j1, 0.1, 0.0, 1.0); // inside the cone, but another dataset's
        for i in [i1, i2, j1] {
            associate(i);
        }
        let linked = |ra: f64, decl: f64, radius: f64| -> Vec<(i64, f64)> {
            let region = Spi::get_one::<i32>(&format!(
                "SELECT skytrap.skyregion_for({d}, {ra}, {decl}, {radius})"
            ))
            .unwrap()
            .unwrap();
            Spi::connect(|c| {
                c.select(
                    &format!(
                        "SELECT r.xtrsrc, s.distance_deg FROM skytrap.assocskyrgn s
                         JOIN skytrap.runningcatalog r ON r.id = s.runcat
                         WHERE s.skyrgn = {region} ORDER BY r.xtrsrc"
                    ),
                    None,
                    &[],
                )?
                .map(|row| Ok((row.get(1)?.unwrap(), row.get(2)?.unwrap())))
                .collect::<Result<_, spi::Error>>()
            })
            .unwrap()
        };
        let check = |got: Vec<(i64, f64)>, want: &[(i64, f64)]| {
            assert_eq!(got.len(), want.len(), "{got:?}");
            for ((x, dist), (wx, wdist)) in got.iter().zip(want) {
                assert_eq!(x, wx);
                assert!((dist - wdist).abs() < 1e-9, "{dist} vs {wdist}");
            }
        };
        // (0, 0) radius 0.4°: the source 0.2° across RA 0, not the one 0.5° east.
        check(linked(0.0, 0.0, 0.4), &[(near_zero, 0.2)]);
        // (10, 90) radius 0.6°: both sources around the pole, 0.3° and 0.5° from it.
        check(linked(10.0, 90.0, 0.6), &[(pole, 0.3), (beyond_pole, 0.5)]);
        // (0.25, 0) radius 0.3°: 0.45° and 0.25° away: only the eastern one.
        check(linked(0.25, 0.0, 0.3), &[(east, 0.25)]);
    }

    #[pg_test]
    fn one_to_many_forks_with_the_history() {
        let d = dataset();
        let (i1, i2) = (image(d, 1), image(d, 2));
        let a = source(i1, 10.0, 0.0, 1.0);
        associate(i1);
        let old = one_i64("SELECT id FROM skytrap.runningcatalog");
        let b = source(i2, 10.0, 2.0 * ARCSEC, 1.0);
        let c = source(i2, 10.0, -2.0 * ARCSEC, 1.0);
        assert_eq!(associate(i2), (0, 0, 0, 1, 0));
        // The old lightcurve is gone; each fork has the old point (type 6) and its own (2).
        assert_eq!(
            one_i64(&format!(
                "SELECT count(*) FROM skytrap.runningcatalog WHERE id = {old}"
            )),
            0
        );
        assert_eq!(lightcurves(), [vec![(6, a), (2, b)], vec![(6, a), (2, c)]]);
        assert_eq!((previous(b), previous(c)), (Some(a), Some(a)));
        assert_eq!(
            one_i64("SELECT count(*) FROM skytrap.runningcatalog WHERE datapoints = 2"),
            2
        );
        assert_eq!(
            one_i64("SELECT count(*) FROM skytrap.runningcatalog_flux WHERE f_datapoints = 2"),
            2
        );
        assert_eq!(one_i64("SELECT count(*) FROM skytrap.assocskyrgn"), 2);
        assert_eq!(one_i64("SELECT count(*) FROM skytrap.varmetric"), 2);
        // Each fork moved halfway towards its own source: ±1″.
        let decl = one_f64("SELECT max(wm_decl) FROM skytrap.runningcatalog");
        assert!((decl - ARCSEC).abs() < 1e-12);
    }

    /// Not TraP's: a database whose schema is older than this library (0.2.0 with this
    /// library installed, before ALTER EXTENSION skytrap UPDATE) is not associated in,
    /// and the error says what to do.
    #[pg_test(
        error = "skytrap.associate_image: the database has skytrap 0.2.0, this library is 0.3.0: update the extension (ALTER EXTENSION skytrap UPDATE)"
    )]
    fn an_older_schema_waits_for_the_update() {
        let d = dataset();
        let i = image(d, 1);
        source(i, 10.0, 0.0, 1.0);
        Spi::run(
            "UPDATE pg_catalog.pg_extension SET extversion = '0.2.0' WHERE extname = 'skytrap'",
        )
        .unwrap();
        associate(i);
    }

    /// The lookup tables analysts join (sql/codes.sql) say what skytrap-core's codes
    /// are, code for code.
    #[pg_test]
    fn the_lookup_tables_are_the_codes() {
        use skytrap_core::codes::{extract_type, link, stokes};
        let code = |table: &str, name: &str| {
            one_i64(&format!(
                "SELECT id::bigint FROM skytrap.{table} WHERE name = '{name}'"
            ))
        };
        for (name, value) in [
            ("blind", extract_type::BLIND),
            ("forced_at_lightcurve", extract_type::FORCED_AT_LIGHTCURVE),
            ("forced_at_monitor", extract_type::FORCED_AT_MONITOR),
        ] {
            assert_eq!(code("extract_type", name), i64::from(value), "{name}");
        }
        for (name, value) in [
            ("fork_base", link::FORK_BASE),
            ("one_to_one", link::ONE_TO_ONE),
            ("new_source", link::NEW_SOURCE),
            ("fork_copy", link::FORK_COPY),
            ("null_detection", link::NULL_DETECTION),
            ("first_monitor", link::FIRST_MONITOR),
            ("monitor", link::MONITOR),
        ] {
            assert_eq!(code("assoc_type", name), i64::from(value), "{name}");
        }
        assert_eq!(one_i64("SELECT count(*) FROM skytrap.assoc_type"), 7);
        assert_eq!(code("stokes", "I"), i64::from(stokes::I));
        assert_eq!(
            one_i64("SELECT count(*) FROM skytrap.extract_type"),
            3,
            "no code the core does not have"
        );
    }

    #[pg_test]
    fn many_to_one_extends_both_lightcurves() {
        let d = dataset();
        let (i1, i2) = (image(d, 1), image(d, 2));
        let a = source(i1, 10.0, 2.0 * ARCSEC, 1.0);
        let b = source(i1, 10.0, -2.0 * ARCSEC, 1.0);
        associate(i1);
        let c = source(i2, 10.0, 0.0, 1.0);
        assert_eq!(associate(i2), (2, 0, 0, 0, 0));
        assert_eq!(lightcurves(), [vec![(4, a), (3, c)], vec![(4, b), (3, c)]]);
    }

    #[pg_test]
    fn many_to_many_reduces_to_two_one_to_one() {
        let d = dataset();
        let (i1, i2) = (image(d, 1), image(d, 2));
        let a = source(i1, 10.0, 0.0, 1.0);
        let b = source(i1, 10.0, 4.0 * ARCSEC, 1.0);
        associate(i1);
        // All four pairs are within r = 5.68; each new source is nearest a different one.
        let c = source(i2, 10.0, 0.5 * ARCSEC, 1.0);
        let e = source(i2, 10.0, 3.5 * ARCSEC, 1.0);
        assert_eq!(associate(i2), (2, 0, 0, 0, 0));
        assert_eq!(lightcurves(), [vec![(4, a), (3, c)], vec![(4, b), (3, e)]]);
    }

    #[pg_test]
    fn many_to_many_reduces_to_one_to_many() {
        let d = dataset();
        let (i1, i2) = (image(d, 1), image(d, 2));
        let a = source(i1, 10.0, 0.0, 1.0);
        let b = source(i1, 10.0, 6.0 * ARCSEC, 1.0);
        associate(i1);
        // Both new sources are nearest to a: a forks, b is not extended.
        let c = source(i2, 10.0, ARCSEC, 1.0);
        let e = source(i2, 10.0, 2.0 * ARCSEC, 1.0);
        assert_eq!(associate(i2), (0, 0, 0, 1, 0));
        assert_eq!(
            lightcurves(),
            [vec![(4, b)], vec![(6, a), (2, c)], vec![(6, a), (2, e)]]
        );
    }

    #[pg_test]
    fn equilateral_rhombus_forks_one_lightcurve() {
        let d = dataset();
        let (i1, i2) = (image(d, 1), image(d, 2));
        let e = 1.0 / 4096.0; // binary-exact, so all four De Ruiter radii are equal
        let sys = 2.0; // 2″ errors keep r = (e·3600)/(2√2) ≈ 0.31 below the limit
        let a = measurement(i1, 10.0, e, 1.0, 0.1, sys, "NULL", "NULL");
        let b = measurement(i1, 10.0, -e, 1.0, 0.1, sys, "NULL", "NULL");
        associate(i1);
        let c = measurement(i2, 10.0 + e, 0.0, 1.0, 0.1, sys, "NULL", "NULL");
        let f = measurement(i2, 10.0 - e, 0.0, 1.0, 0.1, sys, "NULL", "NULL");
        // Ties go to the lower id: a forks into (a, c) and (a, f); b is left as it was.
        assert_eq!(associate(i2), (0, 0, 0, 1, 0));
        assert_eq!(
            lightcurves(),
            [vec![(4, b)], vec![(6, a), (2, c)], vec![(6, a), (2, f)]]
        );
    }

    #[pg_test]
    fn the_beamwidth_limit_is_a_hard_radius() {
        let d = dataset();
        let (i1, i2) = (image(d, 1), image(d, 2));
        // 100″ errors: De Ruiter accepts anything near, only the 30″ radius decides.
        measurement(i1, 10.0, 0.0, 1.0, 0.1, 100.0, "NULL", "NULL");
        measurement(i1, 10.0, 0.5, 1.0, 0.1, 100.0, "NULL", "NULL");
        associate(i1);
        measurement(i2, 10.0, 29.0 * ARCSEC, 1.0, 0.1, 100.0, "NULL", "NULL");
        measurement(
            i2,
            10.0,
            0.5 + 31.0 * ARCSEC,
            1.0,
            0.1,
            100.0,
            "NULL",
            "NULL",
        );
        // The source 31″ out starts its own lightcurve, and as day 1 (limit 9 × 0.01 Jy)
        // would have seen it at 1 Jy, it is also a new source.
        assert_eq!(associate(i2), (1, 1, 1, 0, 0));
    }

    #[pg_test]
    fn lightcurves_continue_across_ra_zero_and_over_the_pole() {
        let d = dataset();
        let (i1, i2) = (
            image_at(d, 1, 150.0, 0.0, 0.0, (0.01, 0.01)),
            image_at(d, 2, 150.0, 0.0, 0.0, (0.01, 0.01)),
        );
        source(i1, 359.9999, 0.0, 1.0);
        associate(i1);
        source(i2, 0.0001, 0.0, 1.0);
        assert_eq!(associate(i2), (1, 0, 0, 0, 0));
        // The mean of 359.9999 and 0.0001 is RA 0, stored in [0, 360).
        let ra = one_f64("SELECT wm_ra FROM skytrap.runningcatalog");
        assert!(!(1e-9..360.0 - 1e-9).contains(&ra) && ra < 360.0, "{ra}");

        let (p1, p2) = (
            image_at(d, 3, 150.0, 0.0, 89.5, (0.01, 0.01)),
            image_at(d, 4, 150.0, 0.0, 89.5, (0.01, 0.01)),
        );
        // 1″ from the pole on opposite meridians: 2″ apart.
        source(p1, 0.0, 90.0 - ARCSEC, 1.0);
        associate(p1);
        source(p2, 180.0, 90.0 - ARCSEC, 1.0);
        assert_eq!(associate(p2), (1, 0, 0, 0, 0));
    }

    /// The rows `skytrap.forced_fit_targets(image)` lists, as (runcat, monitor).
    fn targets(image: i32) -> Vec<(Option<i64>, Option<i32>)> {
        Spi::connect(|c| {
            c.select(
                &format!("SELECT runcat, monitor FROM skytrap.forced_fit_targets({image})"),
                None,
                &[],
            )?
            .map(|r| Ok((r.get(1)?, r.get(2)?)))
            .collect::<Result<Vec<_>, spi::Error>>()
        })
        .unwrap()
    }

    #[pg_test]
    fn null_detections_are_forced_fits_until_they_expire() {
        let d = dataset();
        Spi::run(&format!(
            "UPDATE skytrap.dataset SET expiration = 2 WHERE id = {d}"
        ))
        .unwrap();
        let images: Vec<i32> = (1..=5).map(|day| image(d, day)).collect();
        source(images[0], 10.0, 0.0, 1.0);
        associate(images[0]);
        let rc = one_i64("SELECT id FROM skytrap.runningcatalog");
        // Not a target in the image it was found in; a target in later ones.
        assert_eq!(targets(images[0]), []);
        for (k, &img) in images[1..3].iter().enumerate() {
            assert_eq!(targets(img), [(Some(rc), None)]);
            measurement(img, 10.0, 0.0, 0.05, 0.1, 1.0, &rc.to_string(), "NULL");
            assert_eq!(associate(img), (0, 0, 0, 0, 1));
            assert_eq!(
                one_i64("SELECT forcedfits_count::bigint FROM skytrap.runningcatalog"),
                k as i64 + 1
            );
        }
        // Two forced fits: expired.
        assert_eq!(targets(images[3]), []);
        // Position and datapoints stay; the flux sums count the forced points.
        assert_eq!(
            one_i64("SELECT datapoints::bigint FROM skytrap.runningcatalog"),
            1
        );
        assert_eq!(one_f64("SELECT wm_decl FROM skytrap.runningcatalog"), 0.0);
        assert_eq!(
            one_i64("SELECT f_datapoints::bigint FROM skytrap.runningcatalog_flux"),
            3
        );
        assert_eq!(
            lightcurves()[0].iter().map(|l| l.0).collect::<Vec<_>>(),
            [4, 7, 7]
        );
        // A blind detection brings it back and resets the count; a forced fit at the same
        // position in that image is redundant and is dropped.
        source(images[4], 10.0, 0.0, 1.0);
        let redundant = measurement(images[4], 10.0, 0.0, 1.0, 0.1, 1.0, &rc.to_string(), "NULL");
        assert_eq!(associate(images[4]), (1, 0, 0, 0, 0));
        assert_eq!(
            one_i64("SELECT forcedfits_count::bigint FROM skytrap.runningcatalog"),
            0
        );
        assert_eq!(
            one_i64(&format!(
                "SELECT count(*) FROM skytrap.extractedsource WHERE id = {redundant}"
            )),
            0
        );
    }

    #[pg_test]
    fn monitor_positions_get_their_own_lightcurve() {
        let d = dataset();
        let m = Spi::get_one::<i32>(&format!(
            "INSERT INTO skytrap.monitor (dataset, ra, decl, name) VALUES ({d}, 10, 0, 'M')
             RETURNING id"
        ))
        .unwrap()
        .unwrap();
        let (i1, i2) = (image(d, 1), image(d, 2));
        assert_eq!(targets(i1), [(None, Some(m))]);
        let f1 = measurement(i1, 10.0, 0.0, 0.5, 0.1, 1.0, "NULL", &m.to_string());
        // A blind detection at the same place starts a separate lightcurve: monitor
        // lightcurves are never matched blindly.
        let blind = source(i1, 10.0, 0.0, 0.5);
        assert_eq!(associate(i1), (0, 1, 0, 0, 1));
        let rc = one_i64(&format!(
            "SELECT runcat FROM skytrap.monitor WHERE id = {m}"
        ));
        assert_eq!(
            one_i64(&format!(
                "SELECT count(*) FROM skytrap.runningcatalog WHERE id = {rc} AND mon_src"
            )),
            1
        );
        assert_eq!(targets(i2).last(), Some(&(Some(rc), Some(m))));
        let f2 = measurement(i2, 10.0, 0.0, 0.7, 0.1, 1.0, "NULL", &m.to_string());
        assert_eq!(associate(i2), (0, 0, 0, 0, 1));
        let monitor_links: Vec<(i16, i64)> = lightcurves()
            .into_iter()
            .find(|l| l.iter().any(|&(_, x)| x == f1))
            .unwrap();
        assert_eq!(monitor_links, [(8, f1), (9, f2)]);
        assert_eq!(
            one_i64(&format!(
                "SELECT datapoints::bigint FROM skytrap.runningcatalog WHERE id = {rc}"
            )),
            2
        );
        assert!(lightcurves().iter().any(|l| l[0] == (4, blind)));
    }

    /// (xtrsrc, newsource_type, previous_limits_image) of every new source, by trigger.
    fn new_sources() -> Vec<(i64, i16, i32)> {
        Spi::connect(|c| {
            c.select(
                "SELECT trigger_xtrsrc, newsource_type, previous_limits_image
                 FROM skytrap.newsource ORDER BY trigger_xtrsrc",
                None,
                &[],
            )?
            .map(|r| Ok((r.get(1)?.unwrap(), r.get(2)?.unwrap(), r.get(3)?.unwrap())))
            .collect::<Result<Vec<_>, spi::Error>>()
        })
        .unwrap()
    }

    #[pg_test]
    fn new_sources_are_judged_against_the_deepest_earlier_image() {
        let d = dataset();
        // Limits with threshold 8 and margin 1 are 9 × rms:
        //   day 1: rms 0.01–0.02 → 0.09–0.18 Jy;  day 2: rms 0.005–0.05 → 0.045–0.45 Jy;
        //   day 3: rms 0.001–0.002 → 0.009–0.018 Jy, but rejected.
        let i1 = image_at(d, 1, 150.0, 10.0, 0.0, (0.01, 0.02));
        let i2 = image_at(d, 2, 150.0, 10.0, 0.0, (0.005, 0.05));
        let i3 = image_at(d, 3, 150.0, 10.0, 0.0, (0.001, 0.002));
        let i4 = image(d, 4);
        Spi::run(&format!(
            "INSERT INTO skytrap.rejection (image, rejectreason) VALUES ({i3}, 0)"
        ))
        .unwrap();
        let steady = source(i1, 10.0, 0.0, 1.0);
        associate(i1);
        // The first look at a field finds nothing new.
        assert_eq!(new_sources(), []);
        source(i2, 10.0, 0.0, 1.0);
        associate(i2);
        assert_eq!(lightcurves(), [vec![(4, steady), (3, steady + 1)]]);
        // Day 4 against day 2 (the deepest accepted, 0.045 Jy):
        let bright = source(i4, 10.1, 0.0, 0.5); // above 0.45 everywhere: likely transient
        let weak = source(i4, 10.2, 0.0, 0.1); // above 0.045, below 0.45: possible
        source(i4, 10.3, 0.0, 0.04); // below 0.045: could have been missed
        assert_eq!(associate(i4).2, 2);
        assert_eq!(new_sources(), [(bright, 1, i2), (weak, 0, i2)]);
    }

    #[pg_test]
    fn a_flare_and_fade_stays_a_new_source_with_null_detections() {
        let d = dataset();
        let days: Vec<i32> = (1..=4).map(|day| image(d, day)).collect();
        source(days[0], 10.0, 0.0, 1.0);
        associate(days[0]);
        let flare = source(days[1], 10.5, 0.0, 2.0);
        associate(days[1]);
        assert_eq!(new_sources(), [(flare, 1, days[0])]);
        let rc = one_i64(&format!(
            "SELECT id FROM skytrap.runningcatalog WHERE xtrsrc = {flare}"
        ));
        // It fades: the forced fit at its position is its next point.
        for &img in &days[2..] {
            assert!(targets(img).contains(&(Some(rc), None)));
            measurement(img, 10.5, 0.0, 0.01, 0.1, 1.0, &rc.to_string(), "NULL");
            associate(img);
        }
        assert_eq!(new_sources(), [(flare, 1, days[0])]);
        let links = lightcurves().into_iter().find(|l| l[0].1 == flare).unwrap();
        assert_eq!(links.iter().map(|l| l.0).collect::<Vec<_>>(), [4, 7, 7]);
        // The varmetric row knows it is a new source and how far above the limits it was:
        // f_int / rms_max and f_int / rms_min of day 1 = 2 / 0.01.
        let sigma = one_f64(&format!(
            "SELECT sigma_rms_max FROM skytrap.varmetric WHERE runcat = {rc} AND newsource IS NOT NULL"
        ));
        assert!((sigma - 200.0).abs() < 1e-9);
    }

    #[pg_test]
    fn variability_matches_the_lightcurve_recomputed_from_scratch() {
        let d = dataset();
        let fluxes = [(1.0, 0.1), (2.0, 0.1), (3.0, 0.2), (2.5, 0.2), (0.5, 0.1)];
        let mut xs = Vec::new();
        for (day, &(f, e)) in fluxes.iter().enumerate() {
            let img = image(d, day as u32 + 1);
            xs.push(measurement(img, 10.0, 0.0, f, e, 1.0, "NULL", "NULL"));
            associate(img);
        }
        // Independently of the running sums: sample V, η about the weighted mean, and the
        // largest |m| among pairs with |Vs| ≥ 4.3, all from the five points directly.
        let n = fluxes.len() as f64;
        let mean = fluxes.iter().map(|p| p.0).sum::<f64>() / n;
        let sd = (fluxes.iter().map(|p| (p.0 - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let w: f64 = fluxes.iter().map(|p| 1.0 / (p.1 * p.1)).sum();
        let xi = fluxes.iter().map(|p| p.0 / (p.1 * p.1)).sum::<f64>() / w;
        let eta = fluxes
            .iter()
            .map(|p| ((p.0 - xi) / p.1).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        let mut best = (0.0f64, 0.0f64);
        for (i, a) in fluxes.iter().enumerate() {
            for b in &fluxes[i + 1..] {
                let vs = ((a.0 - b.0) / (a.1 * a.1 + b.1 * b.1).sqrt()).abs();
                let m = (2.0 * (a.0 - b.0) / (a.0 + b.0)).abs();
                if vs >= 4.3 && m > best.1 {
                    best = (vs, m);
                }
            }
        }
        let row = |col: &str| one_f64(&format!("SELECT {col} FROM skytrap.varmetric"));
        assert!((row("v_int") - sd / mean).abs() < 1e-12);
        assert!((row("eta_int") - eta).abs() < 1e-9 * eta);
        assert!((row("v_peak") - sd / mean).abs() < 1e-12);
        assert!((row("vs_abs_significant_max_int") - best.0).abs() < 1e-9);
        assert!((row("m_abs_significant_max_int") - best.1).abs() < 1e-12);
        // 0.5 against 3.0 ± 0.2: |m| = 5/3.5, the largest of all pairs.
        assert!((best.1 - 5.0 / 3.5).abs() < 1e-12);
        assert_eq!(row("lightcurve_max"), 3.0);
        assert!((row("lightcurve_avg") - 1.8).abs() < 1e-12);
        assert_eq!(row("lightcurve_median"), 2.0);
        assert_eq!(
            one_i64("SELECT datapoints::bigint FROM skytrap.varmetric"),
            5
        );
        // Every link stores the indices as they stood after its point (TraP's history).
        let eta_2 = one_f64(&format!(
            "SELECT eta_int FROM skytrap.assocxtrsource WHERE xtrsrc = {}",
            xs[1]
        ));
        assert!((eta_2 - 50.0).abs() < 1e-9); // (1 − 1.5)²/0.01 + (2 − 1.5)²/0.01
                                              // The aggregate over the lightcurve view gives the same numbers.
        let agg = |field: &str| {
            one_f64(&format!(
                "SELECT (skytrap.lightcurve_stats(f_int, f_int_err)).{field} FROM skytrap.lightcurve"
            ))
        };
        assert!((agg("v") - sd / mean).abs() < 1e-12);
        assert!((agg("eta") - eta).abs() < 1e-9 * eta);
        assert!((agg("weighted_avg_flux") - xi).abs() < 1e-12);
        assert_eq!((agg("max_flux"), agg("min_flux")), (3.0, 0.5));
    }

    #[pg_test]
    fn lightcurve_stats_combines_partial_aggregates_in_parallel() {
        Spi::run(
            "CREATE TABLE points AS
             SELECT i % 10 AS source, 1 + (i % 7) * 0.1 AS flux, 0.05 + (i % 3) * 0.01 AS err
             FROM generate_series(1, 200000) i;
             ANALYZE points",
        )
        .unwrap();
        let serial = Spi::get_one::<String>(
            "SELECT string_agg(s::text, ';' ORDER BY source) FROM (
                 SELECT source, skytrap.lightcurve_stats(flux, err) AS s FROM points GROUP BY source) q",
        )
        .unwrap()
        .unwrap();
        Spi::run(
            "SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
             SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2",
        )
        .unwrap();
        let explain: Vec<String> = Spi::connect(|c| {
            c.select(
                "EXPLAIN SELECT source, skytrap.lightcurve_stats(flux, err) FROM points GROUP BY source",
                None,
                &[],
            )?
            .map(|r| Ok(r.get::<String>(1)?.unwrap_or_default()))
            .collect::<Result<Vec<_>, spi::Error>>()
        })
        .unwrap();
        assert!(explain.iter().any(|l| l.contains("Partial")), "{explain:?}");
        let parallel = Spi::get_one::<String>(
            "SELECT string_agg(s::text, ';' ORDER BY source) FROM (
                 SELECT source, skytrap.lightcurve_stats(flux, err) AS s FROM points GROUP BY source) q",
        )
        .unwrap()
        .unwrap();
        // Sums in another order differ in the last bits only; counts, max and min exactly.
        let fields = |s: &str| -> Vec<Vec<f64>> {
            s.split(';')
                .map(|r| {
                    r.trim_matches(|c| c == '(' || c == ')')
                        .split(',')
                        .map(|v| v.parse().unwrap())
                        .collect()
                })
                .collect()
        };
        let (a, b) = (fields(&serial), fields(&parallel));
        assert_eq!(a.len(), 10);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((x[0], x[3], x[4]), (y[0], y[3], y[4]));
            for k in [1, 2, 5, 6] {
                assert!(
                    (x[k] - y[k]).abs() <= 1e-9 * x[k].abs().max(1.0),
                    "{x:?} {y:?}"
                );
            }
        }
    }

    #[pg_test]
    fn bands_share_a_position_and_keep_their_own_fluxes() {
        let d = dataset();
        // Two bands observed at the same time, then again a day later.
        let low = [
            image_at(d, 1, 150.0, 10.0, 0.0, (0.01, 0.01)),
            image_at(d, 2, 150.0, 10.0, 0.0, (0.01, 0.01)),
        ];
        let high = [
            image_at(d, 1, 180.0, 10.0, 0.0, (0.01, 0.01)),
            image_at(d, 2, 180.0, 10.0, 0.0, (0.01, 0.01)),
        ];
        for k in 0..2 {
            source(low[k], 10.0, 0.0, 1.0 + k as f64);
            associate(low[k]);
            source(high[k], 10.0, ARCSEC, 0.5);
            associate(high[k]);
        }
        assert_eq!(one_i64("SELECT count(*) FROM skytrap.runningcatalog"), 1);
        assert_eq!(
            one_i64("SELECT datapoints::bigint FROM skytrap.runningcatalog"),
            4
        );
        assert_eq!(
            one_i64("SELECT count(*) FROM skytrap.runningcatalog_flux"),
            2
        );
        // 150 MHz: fluxes 1 and 2 (V = 0.707/1.5); 180 MHz: 0.5 twice (V = 0).
        let v = |freq: &str| {
            one_f64(&format!(
                "SELECT (skytrap.lightcurve_stats(f_int, f_int_err)).v FROM skytrap.lightcurve
                 WHERE freq_central = {freq}e6"
            ))
        };
        assert!((v("150") - 0.5f64.sqrt() / 1.5).abs() < 1e-12);
        assert_eq!(v("180"), 0.0);
        // Position: four 1″-error points at 0, 1″, 0, 1″ → 0.5″.
        let decl = one_f64("SELECT wm_decl FROM skytrap.runningcatalog");
        assert!((decl - 0.5 * ARCSEC).abs() < 1e-12);
    }

    /// The previous point the link of measurement `xtrsrc` names, as analysts see it (the
    /// lightcurve view).
    fn previous(xtrsrc: i64) -> Option<i64> {
        Spi::get_one::<i64>(&format!(
            "SELECT prev_xtrsrc FROM skytrap.lightcurve WHERE xtrsrc = {xtrsrc}"
        ))
        .unwrap()
    }

    #[pg_test]
    fn each_point_names_the_previous_one_in_its_band() {
        let d = dataset();
        let low = |day| image_at(d, day, 150.0, 10.0, 0.0, (0.01, 0.01));
        let (l1, l2, l3) = (low(1), low(2), low(3));
        let x1 = source(l1, 10.0, 0.0, 1.0);
        associate(l1);
        let x3 = source(l3, 10.0, 0.0, 1.0);
        associate(l3);
        assert_eq!((previous(x1), previous(x3)), (None, Some(x1)));
        // Day 2 comes in after day 3: it follows day 1, and day 3 now follows it.
        let x2 = source(l2, 10.0, 0.0, 1.0);
        associate(l2);
        assert_eq!((previous(x2), previous(x3)), (Some(x1), Some(x2)));
        // Another band starts its own sequence.
        let h2 = image_at(d, 2, 180.0, 10.0, 0.0, (0.01, 0.01));
        let y2 = source(h2, 10.0, 0.0, 0.5);
        associate(h2);
        assert_eq!(previous(y2), None);
        // Two overlapping fields on day 4 both follow day 3; day 5 follows the later of
        // the two by id.
        let (l4a, l4b) = (
            image_at(d, 4, 150.0, 10.0, 0.0, (0.01, 0.01)),
            image_at(d, 4, 150.0, 10.5, 0.0, (0.01, 0.01)),
        );
        let x4a = source(l4a, 10.0, 0.0, 1.0);
        associate(l4a);
        let x4b = source(l4b, 10.0, 0.0, 1.0);
        associate(l4b);
        let x5 = source(low(5), 10.0, 0.0, 1.0);
        associate(one_i64("SELECT max(id)::bigint FROM skytrap.image") as i32);
        assert_eq!(
            (previous(x4a), previous(x4b), previous(x5)),
            (Some(x3), Some(x3), Some(x4b.max(x4a)))
        );
        assert_eq!(one_i64("SELECT count(*) FROM skytrap.runningcatalog"), 1);
        // The alerts' flux_jump compares with that point: flux 1 against 1 is no jump, but
        // 3 (±0.1) against 1 is (Vs = 2/0.141 = 14, m = 2·2/4 = 1).
        let x6 = source(low(6), 10.0, 0.0, 3.0);
        associate(one_i64("SELECT max(id)::bigint FROM skytrap.image") as i32);
        assert_eq!(previous(x6), Some(x5));
        assert_eq!(
            one_i64("SELECT count(*) FROM skytrap.alert WHERE kind = 'flux_jump'"),
            1
        );
        assert_eq!(
            one_i64(&format!(
                "SELECT (body -> 'classification' ->> 'previous_xtrsrc')::bigint
                 FROM skytrap.alert WHERE kind = 'flux_jump' AND xtrsrc = {x6}"
            )),
            x5
        );
    }

    /// TraP's meridian cases (test_associations.py, TestMeridianOne2One): three images
    /// centred at RA 359.9, one source each at dec 10.5, TraP's expected mean RA.
    #[pg_test]
    fn trap_meridian_cases() {
        for (ras, expected) in [
            ([0.0001, 0.0003, 359.9999], 0.0001),
            ([359.9999, 359.999, 0.0001], 359.9996666666667),
            ([359.9983, 359.9986, 359.9989], 359.9986),
            ([0.0002, 0.0003, 0.0004], 0.0003),
        ] {
            let d = dataset();
            for (day, ra) in ras.iter().enumerate() {
                let img = image_at(d, day as u32 + 1, 150.0, 359.9, 10.0, (0.01, 0.01));
                source(img, *ra, 10.5, 1.0);
                associate(img);
            }
            let ra = one_f64(&format!(
                "SELECT wm_ra FROM skytrap.runningcatalog WHERE dataset = {d}"
            ));
            assert!((ra - expected).abs() < 1e-9, "{ras:?}: {ra}");
            assert_eq!(
                one_i64(&format!(
                    "SELECT datapoints::bigint FROM skytrap.runningcatalog WHERE dataset = {d}"
                )),
                3
            );
        }
    }

    /// TraP's NCP case: nine sources at dec 85, some only 31″ apart (within reach of each
    /// other with 22″ errors), in four images centred on the pole: nine lightcurves that
    /// keep their RAs, which only many-to-many pruning by De Ruiter radius achieves.
    #[pg_test]
    fn trap_sources_around_the_pole_stay_apart() {
        let d = dataset();
        let ras = [0.0, 0.1, 45.0, 90.0, 179.9, 180.0, 180.1, 270.0, 359.9];
        for day in 1..=4 {
            let img = image_at(d, day, 150.0, 0.0, 90.0, (0.01, 0.01));
            for ra in ras {
                measurement(img, ra, 85.0, 1.0, 0.1, 22.36, "NULL", "NULL");
            }
            associate(img);
        }
        let found = Spi::get_one::<Vec<f64>>(
            "SELECT array_agg(wm_ra ORDER BY wm_ra) FROM skytrap.runningcatalog",
        )
        .unwrap()
        .unwrap();
        assert_eq!(found.len(), 9);
        for (f, ra) in found.iter().zip(ras) {
            assert!((f - ra).abs() < 1e-9, "{found:?}");
        }
    }

    /// TraP's test_fluxes one2oneflux: fluxes 2.0, 2.5, 2.4 ± 5e-4 give (V, η) after each
    /// point of (0, 0), (0.157135, 5e5), (0.115033, 2.8e5).
    #[pg_test]
    fn trap_flux_indices_per_point() {
        let d = dataset();
        let mut xs = Vec::new();
        for (day, f) in [2.0, 2.5, 2.4].into_iter().enumerate() {
            let img = image(d, day as u32 + 1);
            xs.push(measurement(img, 10.0, 0.0, f, 5e-4, 1.0, "NULL", "NULL"));
            associate(img);
        }
        for (x, (v, eta)) in xs
            .iter()
            .zip([(0.0, 0.0), (0.157135, 5e5), (0.115033, 2.8e5)])
        {
            let got_v = one_f64(&format!(
                "SELECT v_int FROM skytrap.assocxtrsource WHERE xtrsrc = {x}"
            ));
            let got_eta = one_f64(&format!(
                "SELECT eta_int FROM skytrap.assocxtrsource WHERE xtrsrc = {x}"
            ));
            assert!((got_v - v).abs() < 1e-6, "V {got_v} vs {v}");
            assert!(
                (got_eta - eta).abs() < 1e-6 * eta.max(1.0),
                "η {got_eta} vs {eta}"
            );
        }
        let avg = one_f64("SELECT avg_f_int FROM skytrap.runningcatalog_flux");
        assert!((avg - 2.3).abs() < 1e-12);
    }

    /// TraP's test_infinite_errors: an infinite error radius counts as 360″ and the
    /// source associates like any other.
    #[pg_test]
    fn an_infinite_error_radius_counts_as_360_arcsec() {
        let d = dataset();
        let (i1, i2) = (image(d, 1), image(d, 2));
        for img in [i1, i2] {
            Spi::run(&format!(
                "INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err,
                     ew_sys_err, ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err, f_int,
                     f_int_err)
                 VALUES ({img}, 10, 0, 0, 0, 20, 20, 'Infinity', 15, 1, 0.1, 1, 0.1)"
            ))
            .unwrap();
            associate(img);
        }
        let unc = one_f64("SELECT max(uncertainty_ew) FROM skytrap.extractedsource");
        assert!((unc - (20f64.powi(2) + 360f64.powi(2)).sqrt() / 3600.0).abs() < 1e-15);
        assert_eq!(
            one_i64("SELECT datapoints::bigint FROM skytrap.runningcatalog"),
            2
        );
    }

    /// The rows every image rewrites stay on their pages and touch no index (HOT updates,
    /// counted by PostgreSQL's own statistics): the flux rows are stored with room for a
    /// second version on every page, and no index covers a column an image changes. An
    /// index on runningcatalog_flux (last_ts), say, fails this.
    #[pg_test]
    fn an_image_rewrites_flux_rows_in_place() {
        let d = dataset();
        let (i1, i2) = (image(d, 1), image(d, 2));
        // 60 sources 36″ apart, beyond the 30″ search radius of one another: 60 one-to-one
        // links the second time, each updating one flux row.
        for img in [i1, i2] {
            for k in 0..60 {
                source(
                    img,
                    9.7 + f64::from(k) * 36.0 * ARCSEC,
                    0.0,
                    1.0 + f64::from(img),
                );
            }
        }
        assert_eq!(associate(i1), (0, 60, 0, 0, 0));
        let updates = |table: &str| {
            Spi::connect(|c| {
                let row = c
                    .select(
                        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables
                         WHERE relid = $1::regclass",
                        None,
                        &[table.into()],
                    )?
                    .first();
                Ok::<_, spi::Error>((row.get::<i64>(1)?.unwrap(), row.get::<i64>(2)?.unwrap()))
            })
            .unwrap()
        };
        let (upd0, hot0) = updates("skytrap.runningcatalog_flux");
        assert_eq!(associate(i2), (60, 0, 0, 0, 0));
        let (upd, hot) = updates("skytrap.runningcatalog_flux");
        assert_eq!((upd - upd0, hot - hot0), (60, 60), "(updates, HOT)");
    }

    /// TraP's V and η of equal-error fluxes, from their definitions (reference §3.6):
    /// V = s/mean with the sample standard deviation, η = N/(N−1)·(⟨wf²⟩ − ⟨wf⟩²/⟨w⟩).
    fn trap_v_eta(fluxes: &[f64], err: f64) -> (f64, f64) {
        let n = fluxes.len() as f64;
        let mean = |g: &dyn Fn(f64) -> f64| fluxes.iter().map(|&f| g(f)).sum::<f64>() / n;
        let w = 1.0 / (err * err);
        let (avg, avg_sq) = (mean(&|f| f), mean(&|f| f * f));
        let v = (n / (n - 1.0) * (avg_sq - avg * avg)).sqrt() / avg;
        let eta = n / (n - 1.0) * (mean(&|f| w * f * f) - mean(&|f| w * f).powi(2) / w);
        (v, eta)
    }

    /// (band, V, η, max, mean, median, datapoints) of one lightcurve's summary.
    fn summary(runcat: i64) -> (i32, f64, f64, f64, f64, f64, i32) {
        Spi::connect(|c| {
            let row = c
                .select(
                    &format!(
                        "SELECT band, v_int, eta_int, lightcurve_max, lightcurve_avg,
                                lightcurve_median, datapoints
                         FROM skytrap.varmetric WHERE runcat = {runcat}"
                    ),
                    None,
                    &[],
                )?
                .first();
            Ok::<_, spi::Error>((
                row.get(1)?.unwrap(),
                row.get(2)?.unwrap(),
                row.get(3)?.unwrap(),
                row.get(4)?.unwrap(),
                row.get(5)?.unwrap(),
                row.get(6)?.unwrap(),
                row.get(7)?.unwrap(),
            ))
        })
        .unwrap()
    }

    /// Two bands per timestep: the summary describes the band whose latest point is the
    /// brightest (TraP's rule), with that band's V, η and statistics, whichever band's image
    /// came last; a Stokes V image leaves it as it was.
    #[pg_test]
    fn the_variability_summary_follows_traps_band_rule_and_ignores_stokes_v() {
        let d = dataset();
        let low = [2.0, 2.2, 1.8, 2.0];
        let high = [1.5, 1.4, 1.6, 1.5];
        let mut bands = (0, 0);
        for day in 0..4 {
            // 120 MHz first, 160 MHz last: the last image is not the summary's band.
            for (freq, flux) in [(120.0, low[day]), (160.0, high[day])] {
                let i = image_at(d, day as u32, freq, 10.0, 0.0, (0.01, 0.01));
                source(i, 10.0, 0.0, flux);
                associate(i);
                let band = one_i64(&format!(
                    "SELECT band::bigint FROM skytrap.image WHERE id = {i}"
                ));
                if freq == 120.0 {
                    bands.0 = band as i32
                } else {
                    bands.1 = band as i32
                }
            }
        }
        let rc = one_i64("SELECT max(id) FROM skytrap.runningcatalog");
        assert_eq!(one_i64("SELECT count(*) FROM skytrap.runningcatalog"), 1);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.abs().max(1.0);
        let (band, v, eta, max, avg, median, n) = summary(rc);
        let (v_low, eta_low) = trap_v_eta(&low, 0.1);
        assert_eq!((band, n), (bands.0, 4));
        assert!(
            close(v, v_low) && close(eta, eta_low),
            "{v} {eta} vs {v_low} {eta_low}"
        );
        assert!(close(max, 2.2) && close(avg, 2.0) && close(median, 2.0));

        // 120 MHz drops to 1.0 Jy, below 160 MHz's latest 1.5: the summary moves there.
        let i = image_at(d, 4, 120.0, 10.0, 0.0, (0.01, 0.01));
        source(i, 10.0, 0.0, 1.0);
        associate(i);
        let (band, v, eta, max, avg, median, n) = summary(rc);
        let (v_high, eta_high) = trap_v_eta(&high, 0.1);
        assert_eq!((band, n), (bands.1, 4));
        assert!(
            close(v, v_high) && close(eta, eta_high),
            "{v} {eta} vs {v_high} {eta_high}"
        );
        assert!(close(max, 1.6) && close(avg, 1.5) && close(median, 1.5));

        // A Stokes V image of the same band and field, a faint point: nothing changes.
        let before = Spi::get_one::<String>(&format!(
            "SELECT to_jsonb(v)::text FROM skytrap.varmetric v WHERE runcat = {rc}"
        ))
        .unwrap();
        let i = image_at(d, 5, 160.0, 10.0, 0.0, (0.01, 0.01));
        Spi::run(&format!(
            "UPDATE skytrap.image SET stokes = 4 WHERE id = {i}"
        ))
        .unwrap();
        source(i, 10.0, 0.0, 0.001);
        associate(i);
        assert_eq!(
            one_i64(&format!(
                "SELECT count(*) FROM skytrap.assocxtrsource WHERE runcat = {rc}"
            )),
            10,
            "the Stokes V point is on the lightcurve"
        );
        let after = Spi::get_one::<String>(&format!(
            "SELECT to_jsonb(v)::text FROM skytrap.varmetric v WHERE runcat = {rc}"
        ))
        .unwrap();
        assert_eq!(after, before);
    }
}
