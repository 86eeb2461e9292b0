//! skytrap's cone search and cross-match against Q3C and pgSphere on seeded random
//! catalogues: the same pairs, the same distances.

use skytrap_loader::simulate::Rng;
use skytrap_tests::{load_q3c_and_pgsphere, scratch_database};
use std::collections::BTreeMap;
use tokio_postgres::Client;

/// `n` positions uniform on the sphere, or uniform in a cap of `cap` degrees around the
/// south pole; every tenth is paired with a near neighbour, and some pairs straddle RA 0/360.
fn catalogue(seed: u64, n: usize, cap: Option<f64>) -> Vec<(f64, f64)> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let ra = 360.0 * rng.uniform();
        let dec = match cap {
            None => (2.0 * rng.uniform() - 1.0).asin().to_degrees(),
            Some(c) => {
                let z = 1.0 - rng.uniform() * (1.0 - c.to_radians().cos());
                -z.acos().to_degrees().mul_add(-1.0, 90.0)
            }
        };
        out.push((ra, dec));
        if out.len() % 10 == 0 {
            // A neighbour a few arcsec away, and one across RA 0/360.
            out.push(((ra + 3e-3 * rng.uniform()) % 360.0, dec));
            out.push((359.9995 + 4e-4 * rng.uniform(), dec * 0.5));
            out.push((3e-4 * rng.uniform(), dec * 0.5));
        }
    }
    out.truncate(n);
    out
}

async fn table(client: &Client, name: &str, rows: &[(f64, f64)]) {
    let (ra, dec): (Vec<f64>, Vec<f64>) = rows.iter().copied().unzip();
    client
        .batch_execute(&format!(
            "CREATE TABLE {name} (id int, ra float8, decl float8)"
        ))
        .await
        .unwrap();
    client
        .execute(
            &format!(
                "INSERT INTO {name} SELECT n::int, r, d FROM unnest($1::float8[], $2::float8[])
                 WITH ORDINALITY AS u(r, d, n)"
            ),
            &[&ra, &dec],
        )
        .await
        .unwrap();
    client
        .batch_execute(&format!(
            "CREATE INDEX ON {name} (skytrap.pixel(ra, decl) skytrap.pixel_ops);
             CREATE INDEX ON {name} (q3c_ang2ipix(ra, decl));
             CREATE INDEX ON {name} USING gist (spoint(radians(ra), radians(decl)));
             ANALYZE {name};"
        ))
        .await
        .unwrap();
}

/// Pairs (a.id, b.id) → distance in degrees, as one method finds them.
async fn pairs(client: &Client, sql: &str) -> BTreeMap<(i32, i32), f64> {
    client
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect()
}

async fn compare(client: &Client, a: &str, b: &str, radius: f64) -> usize {
    let skytrap = pairs(
        client,
        &format!(
            "SELECT a.id, b.id, skytrap.distance(a.ra, a.decl, b.ra, b.decl) FROM {a} a JOIN {b} b
             ON skytrap.xmatch(a.ra, a.decl, b.ra, b.decl, {radius})"
        ),
    )
    .await;
    let swapped = pairs(
        client,
        &format!(
            "SELECT a.id, b.id, skytrap.distance(a.ra, a.decl, b.ra, b.decl) FROM {a} a JOIN {b} b
             ON skytrap.xmatch(b.ra, b.decl, a.ra, a.decl, {radius})"
        ),
    )
    .await;
    let q3c = pairs(
        client,
        &format!(
            "SELECT a.id, b.id, q3c_dist(a.ra, a.decl, b.ra, b.decl) FROM {a} a JOIN {b} b
             ON q3c_join(a.ra, a.decl, b.ra, b.decl, {radius})"
        ),
    )
    .await;
    let pgsphere = pairs(
        client,
        &format!(
            "SELECT a.id, b.id, degrees(spoint(radians(a.ra), radians(a.decl)) <-> spoint(radians(b.ra), radians(b.decl)))
             FROM {a} a JOIN {b} b
             ON spoint(radians(b.ra), radians(b.decl)) @ scircle(spoint(radians(a.ra), radians(a.decl)), radians({radius}))"
        ),
    )
    .await;
    assert!(
        !skytrap.is_empty(),
        "{a} × {b} at {radius}: no pairs at all"
    );
    for (name, oracle) in [
        ("argument order swapped", &swapped),
        ("Q3C", &q3c),
        ("pgSphere", &pgsphere),
    ] {
        let only_ours: Vec<_> = skytrap
            .iter()
            .filter(|(k, _)| !oracle.contains_key(k))
            .collect();
        // pgSphere compares with a tolerance of 1e-9 radians (its EPSILON), so it may also
        // return pairs up to that much beyond the radius, and its `<->` is only that accurate
        // (1.1e-9 deg off where skytrap, Q3C and a haversine agree to 1e-15); nothing else
        // may differ.
        let tolerance = if name == "pgSphere" {
            1e-9f64.to_degrees()
        } else {
            0.0
        };
        let only_theirs: Vec<_> = oracle
            .iter()
            .filter(|(k, d)| !skytrap.contains_key(k) && **d <= radius)
            .collect();
        assert!(oracle
            .iter()
            .all(|(k, d)| skytrap.contains_key(k) || *d <= radius + tolerance));
        assert!(
            only_ours.is_empty() && only_theirs.is_empty(),
            "{a} × {b} at {radius} deg against {name}: {} pairs only ours {:?}, {} only theirs {:?}",
            only_ours.len(),
            &only_ours[..only_ours.len().min(5)],
            only_theirs.len(),
            &only_theirs[..only_theirs.len().min(5)]
        );
        for (pair, d) in &skytrap {
            assert!(
                (d - oracle[pair]).abs() < 1e-9f64.max(tolerance),
                "{pair:?}: {d} vs {name} {}",
                oracle[pair]
            );
        }
    }
    skytrap.len()
}

#[tokio::test(flavor = "current_thread")]
async fn joins_and_cones_equal_q3c_and_pgsphere() {
    let (_, client) = scratch_database("oracle").await;
    load_q3c_and_pgsphere(&client).await;
    // Full sky: 200 000 catalogue positions against 20 000 image positions.
    table(&client, "sky", &catalogue(1, 200_000, None)).await;
    table(&client, "sky_image", &catalogue(2, 20_000, None)).await;
    // Around the south pole, within 3 degrees.
    table(&client, "pole", &catalogue(3, 50_000, Some(3.0))).await;
    table(&client, "pole_image", &catalogue(4, 5_000, Some(3.0))).await;
    for radius in [10.0 / 3600.0, 60.0 / 3600.0] {
        let n = compare(&client, "sky_image", "sky", radius).await;
        let m = compare(&client, "pole_image", "pole", radius).await;
        eprintln!(
            "radius {radius:.5} deg: {n} full-sky pairs, {m} polar pairs, equal in all three"
        );
    }
    // Cones at the pole, across RA 0/360 and at large radii.
    for (ra, dec, radius) in [
        (0.0, -90.0, 1.0),
        (359.9999, 0.0, 0.5),
        (180.0, -89.5, 2.0),
        (10.0, 45.0, 30.0),
    ] {
        for table in ["sky", "pole"] {
            let count = |sql: String| {
                let client = &client;
                async move { client.query_one(&sql, &[]).await.unwrap().get::<_, i64>(0) }
            };
            let ours = count(format!(
                "SELECT count(*) FROM {table} WHERE skytrap.in_cone(ra, decl, {ra}, {dec}, {radius})"
            ))
            .await;
            let q3c = count(format!(
                "SELECT count(*) FROM {table} WHERE q3c_radial_query(ra, decl, {ra}, {dec}, {radius})"
            ))
            .await;
            let sphere = count(format!(
                "SELECT count(*) FROM {table} WHERE spoint(radians(ra), radians(decl)) @ scircle(spoint(radians({ra}), radians({dec})), radians({radius}))"
            ))
            .await;
            assert_eq!(
                (ours, ours),
                (q3c, sphere),
                "cone ({ra}, {dec}, {radius}) on {table}"
            );
        }
    }
}
