//! No query can take the server down: the cross-match's C entry points (the pixel key,
//! the cone's key ranges, the `#~` and `#=` operators and the btree comparisons) answer
//! every float, however degenerate, with a correct result or an ERROR, never a panic that
//! would abort the backend and restart the cluster. A bystander session must survive each
//! query (a crashed backend makes the postmaster end every session).
//!
//! About 2 s: 40 hand-picked floats in every combination (64 000 cones) and 3000 cones of
//! random bit patterns, on the extension `make install` builds (debug: cdshealpix's own
//! assertions are on).

use skytrap_tests::{connect, scratch_database};
use tokio_postgres::Client;

/// Zeros, subnormals (the review's crash: a radius of 4.9e-324), the smallest normals,
/// the poles and just past them, base-pixel corners, huge and non-finite values.
fn hostile() -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        4.9e-324,
        -4.9e-324,
        f64::MIN_POSITIVE,
        1e-300,
        1e-200,
        1e-12,
        90.0,
        -90.0,
        90.0 - 1e-12,
        f64::from_bits(90f64.to_bits() + 1),
        41.810_314_895_778_6,
        -41.810_314_895_778_6,
        180.0,
        360.0,
        -360.0,
        1e300,
        f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    v.extend((0..8).map(|k| 45.0 * f64::from(k)));
    v.extend((1..=10).map(|k| 1e-3 * f64::from(k).powi(3)));
    v
}

/// Random bit patterns: every kind of float, NaN payloads and subnormals included.
fn random_floats(n: usize) -> Vec<f64> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            f64::from_bits(state)
        })
        .collect()
}

/// Runs a query that may end in an ERROR but must leave both sessions alive.
async fn survives(attacker: &Client, bystander: &Client, what: &str, sql: &str, floats: &[f64]) {
    if let Err(e) = attacker.query(sql, &[&floats]).await {
        assert!(
            e.as_db_error().is_some(),
            "{what}: the backend went away: {e}"
        );
    }
    let alive = bystander.query_one("SELECT 1", &[]).await;
    assert!(alive.is_ok(), "{what}: the other session died: {alive:?}");
}

#[tokio::test]
async fn no_float_crashes_the_backend() {
    let (url, bystander) = scratch_database("hostile_sql").await;
    let attacker = connect(&url).await;
    let floats = hostile();

    // The review's reproductions.
    survives(
        &attacker,
        &bystander,
        "a subnormal radius at the pole",
        "SELECT skytrap.pixel(0, 90) OPERATOR(skytrap.#~) circle(point(0, 90), '4.9e-324'::float8) \
         FROM unnest($1::float8[]) LIMIT 1",
        &floats,
    )
    .await;
    survives(
        &attacker,
        &bystander,
        "a subnormal declination at a base-pixel corner",
        "SELECT skytrap.pixel(ra, '4.9e-324'::float8), skytrap.cone_pixels(ra, '4.9e-324'::float8, 1) \
         FROM unnest($1::float8[]) ra",
        &floats,
    )
    .await;
    // Every combination of hostile floats through every entry point.
    for (what, sql) in [
        (
            "pixel",
            "SELECT skytrap.pixel(a, b) FROM unnest($1::float8[]) a, unnest($1::float8[]) b",
        ),
        (
            "cone_pixels",
            "SELECT skytrap.cone_pixels(a, b, c) \
             FROM unnest($1::float8[]) a, unnest($1::float8[]) b, unnest($1::float8[]) c",
        ),
        (
            "#~",
            "SELECT skytrap.pixel(a, b) OPERATOR(skytrap.#~) circle(point(a, b), abs(c)) \
             FROM unnest($1::float8[]) a, unnest($1::float8[]) b, unnest($1::float8[]) c \
             WHERE skytrap.pixel(a, b) IS NOT NULL AND c::text <> 'NaN'",
        ),
        (
            "xmatch_keys",
            "SELECT skytrap.xmatch(a, b, b, a, c) \
             FROM unnest($1::float8[]) a, unnest($1::float8[]) b, unnest($1::float8[]) c",
        ),
    ] {
        survives(&attacker, &bystander, what, sql, &floats).await;
    }
    // Random floats: 3000 cones, each with its own centre's key tested against it.
    let random = random_floats(9000);
    survives(
        &attacker,
        &bystander,
        "random cones",
        "WITH f AS (SELECT v, row_number() OVER () AS i FROM unnest($1::float8[]) v),
              c AS (SELECT a.v AS ra, b.v AS decl, r.v AS radius
                      FROM f a JOIN f b ON b.i = a.i + 1 JOIN f r ON r.i = a.i + 2
                     WHERE a.i % 3 = 1)
         SELECT skytrap.cone_pixels(ra, decl, radius),
                skytrap.pixel(ra, decl) OPERATOR(skytrap.#~) circle(point(ra, decl), abs(radius))
           FROM c WHERE radius::text <> 'NaN'",
        &random,
    )
    .await;

    // Correct where defined: a cone of any radius around a position on the sky holds that
    // position's key, both in its key ranges and by `#~`.
    let wrong: i64 = attacker
        .query_one(
            "SELECT count(*) FROM unnest($1::float8[]) a, unnest($1::float8[]) b,
                    unnest($1::float8[]) c
              WHERE skytrap.pixel(a, b) IS NOT NULL AND c >= 0 AND c < 'Infinity'
                AND NOT (skytrap.pixel(a, b) OPERATOR(skytrap.#=) ANY(skytrap.cone_pixels(a, b, c))
                         AND skytrap.pixel(a, b) OPERATOR(skytrap.#~) circle(point(a, b), c))",
            &[&floats],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(wrong, 0, "cones that miss their own centre");

    // Ranges read from a table (packed 1-byte headers) and built in a query agree with
    // PostgreSQL's own containment, empty and unbounded ranges included.
    let disagree: i64 = attacker
        .query_one(
            "WITH r(r) AS (VALUES (int8range(1, 10)), (int8range(5, 5)), (int8range(NULL, 3)),
                                  (int8range(7, NULL)), ('empty'::int8range), (int8range(-3, 2, '[]')))
             SELECT count(*) FROM r, generate_series(-5, 12) k
              WHERE (k::bigint OPERATOR(skytrap.#=) r) IS DISTINCT FROM (k::bigint <@ r)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(disagree, 0);
    attacker
        .batch_execute(
            "CREATE TABLE ranges AS SELECT int8range(k, k + 3) AS r FROM generate_series(1, 50) k",
        )
        .await
        .unwrap();
    let disagree: i64 = attacker
        .query_one(
            "SELECT count(*) FROM ranges, generate_series(0, 60) k
              WHERE (k::bigint OPERATOR(skytrap.#=) r) IS DISTINCT FROM (k::bigint <@ r)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(disagree, 0);

    // A polygon too large to copy is an ERROR, not a backend the kernel kills.
    let err = attacker
        .query_one(
            "SELECT skytrap.in_polygon(0, 0, array_fill(1::float8, ARRAY[2000002]))",
            &[],
        )
        .await
        .unwrap_err();
    let message = err.as_db_error().map(|e| e.message().to_string());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("at most 100000")),
        "{err}"
    );
    bystander.query_one("SELECT 1", &[]).await.unwrap();
}
