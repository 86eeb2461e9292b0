//! `skytrap status`: what the database holds, per dataset (images, rejections and why,
//! bands, lightcurves, new sources, alerts), and how far behind each alert consumer is.

use anyhow::Result;
use serde_json::Value;

/// The status as one JSON document: `{"datasets": [...], "consumers": [...]}`.
const STATUS: &str = "
WITH d AS (
    SELECT d.id, d.description FROM skytrap.dataset d
    WHERE $1::text IS NULL OR d.description = $1)
SELECT jsonb_build_object(
    'datasets', coalesce((
        SELECT jsonb_agg(jsonb_build_object(
            'name', d.description,
            'images', (SELECT count(*) FROM skytrap.image i WHERE i.dataset = d.id),
            'rejected', (SELECT count(*) FROM skytrap.rejection r
                         JOIN skytrap.image i ON i.id = r.image WHERE i.dataset = d.id),
            'first', (SELECT to_char(min(i.taustart_ts), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
                      FROM skytrap.image i WHERE i.dataset = d.id),
            'last', (SELECT to_char(max(i.taustart_ts), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
                     FROM skytrap.image i WHERE i.dataset = d.id),
            'bands', (SELECT count(*) FROM skytrap.frequencyband b WHERE b.dataset = d.id),
            'lightcurves', (SELECT count(*) FROM skytrap.runningcatalog r WHERE r.dataset = d.id),
            'new_sources', (SELECT count(*) FROM skytrap.newsource n
                            JOIN skytrap.runningcatalog r ON r.id = n.runcat
                            WHERE r.dataset = d.id),
            'alerts', (SELECT count(*) FROM skytrap.alert a WHERE a.dataset = d.id),
            'rejections', coalesce((
                SELECT jsonb_agg(jsonb_build_object('reason', x.reason, 'images', x.n,
                                                    'example', x.example) ORDER BY x.n DESC)
                FROM (SELECT rr.description AS reason, count(*) AS n, min(r.comment) AS example
                      FROM skytrap.rejection r JOIN skytrap.image i ON i.id = r.image
                      JOIN skytrap.rejectreason rr ON rr.id = r.rejectreason
                      WHERE i.dataset = d.id GROUP BY rr.description) x), '[]'))
            ORDER BY d.id)
        FROM d), '[]'),
    'consumers', coalesce((
        SELECT jsonb_agg(jsonb_build_object(
            'name', c.name,
            'after', c.last_alert_id,
            'behind', (SELECT count(*) FROM skytrap.alert a WHERE a.alert_id > c.last_alert_id),
            'parked', (SELECT count(*) FROM skytrap.alert_parked p WHERE p.consumer = c.name),
            'updated_at', to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))
            ORDER BY c.name)
        FROM skytrap.alert_consumer c), '[]'))::text";

/// Prints the status of the datasets (or of one) and the consumers: as text, or as one
/// JSON document.
pub async fn status(url: &str, dataset: Option<&str>, json: bool) -> Result<()> {
    let client = super::connect(url).await?;
    super::require_extension(&client, url).await?;
    let status: Value = serde_json::from_str(client.query_one(STATUS, &[&dataset]).await?.get(0))?;
    if let (Some(name), Some(0)) = (dataset, status["datasets"].as_array().map(Vec::len)) {
        anyhow::bail!("there is no dataset '{name}'");
    }
    if json {
        println!("{status}");
    } else {
        print!("{}", text(&status));
    }
    Ok(())
}

/// The status as lines a person reads.
fn text(status: &Value) -> String {
    let mut out = String::new();
    let n = |v: &Value| v.as_i64().unwrap_or(0);
    let plural = |count: i64, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    for d in status["datasets"].as_array().into_iter().flatten() {
        let span = match (d["first"].as_str(), d["last"].as_str()) {
            (Some(first), Some(last)) => format!(", {first} to {last}"),
            _ => String::new(),
        };
        out += &format!(
            "dataset '{}': {} ({} rejected){span}, {}; {}, {}, {}\n",
            d["name"].as_str().unwrap_or(""),
            plural(n(&d["images"]), "image", "images"),
            n(&d["rejected"]),
            plural(n(&d["bands"]), "band", "bands"),
            plural(n(&d["lightcurves"]), "lightcurve", "lightcurves"),
            plural(n(&d["new_sources"]), "new source", "new sources"),
            plural(n(&d["alerts"]), "alert", "alerts"),
        );
        for r in d["rejections"].as_array().into_iter().flatten() {
            out += &format!(
                "  rejected, {}: {} (\"{}\")\n",
                r["reason"].as_str().unwrap_or(""),
                plural(n(&r["images"]), "image", "images"),
                r["example"].as_str().unwrap_or("")
            );
        }
    }
    for c in status["consumers"].as_array().into_iter().flatten() {
        out += &format!(
            "consumer '{}': after alert {}, {} behind, {} parked, last moved {}\n",
            c["name"].as_str().unwrap_or(""),
            n(&c["after"]),
            n(&c["behind"]),
            n(&c["parked"]),
            c["updated_at"].as_str().unwrap_or("")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_says_it_in_words() {
        let status = serde_json::json!({
            "datasets": [{"name": "grb", "images": 2, "rejected": 1, "first": "2013-04-29T18:45:42Z",
                          "last": "2013-05-04T18:59:20Z", "bands": 1, "lightcurves": 1,
                          "new_sources": 0, "alerts": 1,
                          "rejections": [{"reason": "beam invalid", "images": 1,
                                          "example": "too elliptical"}]}],
            "consumers": [{"name": "me", "after": 12, "behind": 3, "parked": 0,
                           "updated_at": "2026-12-07T12:00:00Z"}]
        });
        assert_eq!(
            text(&status),
            "dataset 'grb': 2 images (1 rejected), 2013-04-29T18:45:42Z to 2013-05-04T18:59:20Z, \
             1 band; 1 lightcurve, 0 new sources, 1 alert\n  \
             rejected, beam invalid: 1 image (\"too elliptical\")\n\
             consumer 'me': after alert 12, 3 behind, 0 parked, last moved 2026-12-07T12:00:00Z\n"
        );
    }
}
