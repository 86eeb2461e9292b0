//! `CREATE EXTENSION skytrap`: TraP's transient database with association, lightcurves and
//! alerts in the backend. This crate only wires SQL to `skytrap-core`; hand-written SQL
//! lives in `../sql`.

use pgrx::prelude::*;

::pgrx::pg_module_magic!(name, version);

mod associate;
mod integrity;
#[cfg(any(test, feature = "pg_test"))]
mod scenarios;
mod sky;
mod variability;
mod xmatch;

extension_sql_file!(
    "../../sql/schema.sql",
    name = "schema",
    requires = [sky::alpha]
);
extension_sql_file!(
    "../../sql/images.sql",
    name = "images",
    requires = ["schema", sky::distance, xmatch::in_polygon_exact]
);
extension_sql_file!(
    "../../sql/alerts.sql",
    name = "alerts",
    requires = ["schema", "views"]
);
extension_sql_file!(
    "../../sql/views.sql",
    name = "views",
    requires = [
        "schema",
        "codes",
        variability::lightcurve_stats_v,
        variability::lightcurve_stats_eta,
        variability::flux_median,
        variability::significant_pair
    ]
);
extension_sql_file!("../../sql/forks.sql", name = "forks", requires = ["schema"]);
extension_sql_file!(
    "../../sql/integrity.sql",
    name = "integrity",
    requires = ["schema", integrity::lightcurve_violations]
);
extension_sql_file!(
    "../../sql/lightcurves.sql",
    name = "lightcurves",
    requires = [
        "schema",
        variability::lightcurve_stats_add,
        variability::lightcurve_stats_combine,
        variability::lightcurve_stats_v,
        variability::lightcurve_stats_eta
    ]
);
extension_sql_file!(
    "../../sql/xmatch.sql",
    name = "xmatch",
    requires = [
        "schema",
        sky::distance,
        xmatch::xmatch_keys_support,
        xmatch::de_ruiter,
        xmatch::in_ellipse_exact,
        xmatch::in_polygon_exact,
        xmatch::polygon_cone
    ]
);
// Lookup tables of the codes TraP's tables hold as integers, for analysts to join.
extension_sql_file!("../../sql/codes.sql", name = "codes", requires = ["schema"]);
// A comment on every object, so that psql's \d+ is the reference.
extension_sql_file!(
    "../../sql/comments.sql",
    name = "comments",
    requires = [
        "schema",
        "images",
        "alerts",
        "views",
        "forks",
        "integrity",
        "lightcurves",
        "xmatch",
        sky::distance,
        sky::position_angle,
        sky::alpha,
        variability::two_epoch_vs,
        variability::two_epoch_m,
        variability::lightcurve_stats_add,
        variability::lightcurve_stats_combine,
        variability::lightcurve_stats_v,
        variability::lightcurve_stats_eta,
        variability::flux_median,
        variability::significant_pair,
        xmatch::xmatch_keys_support,
        xmatch::de_ruiter,
        xmatch::in_ellipse_exact,
        xmatch::in_polygon_exact,
        xmatch::polygon_cone,
        associate::associate_image,
        integrity::lightcurve_violations
    ]
);
// The roles and their grants: last, since they grant on every object above.
extension_sql_file!("../../sql/roles.sql", name = "roles", finalize);

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    fn one_f64(sql: &str) -> f64 {
        Spi::get_one::<f64>(sql).unwrap().unwrap()
    }

    fn one_i64(sql: &str) -> i64 {
        Spi::get_one::<i64>(sql).unwrap().unwrap()
    }

    #[pg_test]
    fn distance_is_callable_from_sql() {
        let d = one_f64("SELECT skytrap.distance(10, 20, 10.5, 20.5)");
        assert!((d - 0.6856009128631435).abs() < 1e-13);
    }

    /// A dataset and one image of it per epoch; returns the dataset id. Ids come from
    /// sequences that other (rolled back) tests advance, so nothing assumes they start at 1.
    fn dataset_with_images(epochs: usize) -> (i32, Vec<i32>) {
        let dataset = Spi::get_one::<i32>(
            "INSERT INTO skytrap.dataset (description) VALUES ('t') RETURNING id",
        )
        .unwrap()
        .unwrap();
        let images = (1..=epochs)
            .map(|epoch| {
                Spi::get_one::<i32>(&format!(
                    "INSERT INTO skytrap.image (dataset, band, skyrgn, freq_eff, freq_bw,
                         taustart_ts, rb_smaj, rb_smin, rb_pa, deltax, deltay, url, rms_min,
                         rms_max, detection_thresh)
                     VALUES ({dataset}, skytrap.frequencyband_for({dataset}, 150e6, 1e6),
                         skytrap.skyregion_for({dataset}, 10, 0, 1), 150e6, 1e6,
                         '2020-01-0{epoch}', 0.01, 0.01, 0, -0.001, 0.001, 'e{epoch}.fits',
                         0.01, 0.01, 8)
                     RETURNING id"
                ))
                .unwrap()
                .unwrap()
            })
            .collect();
        (dataset, images)
    }

    fn add_source(image: i32, flux: f64) {
        Spi::run(&format!(
            "INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err,
                 ew_sys_err, ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err, f_int,
                 f_int_err)
             VALUES ({image}, 10, 0, 0.0003, 0.0004, 10, 10, 5, 20, {flux}, 0.1, {flux}, 0.1)"
        ))
        .unwrap();
    }

    #[pg_test]
    fn derived_error_columns_follow_trap() {
        let (_, images) = dataset_with_images(1);
        add_source(images[0], 1.0);
        // TraP: uncertainty_ew = sqrt(ew_sys² + error_radius²)/3600 = sqrt(125)/3600.
        let ew = one_f64("SELECT uncertainty_ew FROM skytrap.extractedsource");
        assert!((ew - 125f64.sqrt() / 3600.0).abs() < 1e-15);
        // At the equator alpha(θ, 0) ≈ θ, so ra_err = sqrt(0.0003² + (10/3600)²).
        let ra_err = one_f64("SELECT ra_err FROM skytrap.extractedsource");
        assert!((ra_err - (0.0003f64.powi(2) + (10.0f64 / 3600.0).powi(2)).sqrt()).abs() < 1e-9);
    }

    #[pg_test]
    fn epochs_extend_one_lightcurve() {
        let (_, images) = dataset_with_images(3);
        for (image, flux) in images.iter().zip([1.0, 2.0, 3.0]) {
            add_source(*image, flux);
            Spi::run(&format!("SELECT * FROM skytrap.associate_image({image})")).unwrap();
        }
        assert_eq!(one_i64("SELECT count(*) FROM skytrap.runningcatalog"), 1);
        assert_eq!(one_i64("SELECT count(*) FROM skytrap.assocxtrsource"), 3);
        // Fluxes 1, 2, 3 with errors 0.1: V = 1/2, η = Σ(I − 2)²/0.01/2 = 100.
        let v = one_f64("SELECT v_int FROM skytrap.varmetric");
        let eta = one_f64("SELECT eta_int FROM skytrap.varmetric");
        assert!((v - 0.5).abs() < 1e-12, "V = {v}");
        assert!((eta - 100.0).abs() < 1e-9, "eta = {eta}");
        assert_eq!(one_i64("SELECT count(*) FROM skytrap.newsource"), 0);
    }

    #[pg_test]
    fn a_source_missing_from_a_deep_earlier_image_is_new_and_alerts() {
        let (_, images) = dataset_with_images(2);
        // Epoch 1 sees nothing; its limit is 0.01·(8 + 1) = 0.09 Jy, so 1 Jy is new and,
        // above rms_max·9 as well, likely transient.
        Spi::run(&format!(
            "SELECT * FROM skytrap.associate_image({})",
            images[0]
        ))
        .unwrap();
        add_source(images[1], 1.0);
        Spi::run(&format!(
            "SELECT * FROM skytrap.associate_image({})",
            images[1]
        ))
        .unwrap();
        assert_eq!(
            one_i64("SELECT newsource_type::bigint FROM skytrap.newsource"),
            1
        );
        assert_eq!(
            one_i64("SELECT previous_limits_image::bigint FROM skytrap.newsource"),
            i64::from(images[0])
        );
        assert_eq!(
            one_i64("SELECT (body->'source'->>'f_peak')::float8::bigint FROM skytrap.alert"),
            1
        );
    }

    #[pg_test(error = "skytrap.associate_image: image 2147483647 does not exist")]
    fn associating_a_missing_image_says_so() {
        Spi::run("SELECT * FROM skytrap.associate_image(2147483647)").unwrap();
    }
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
