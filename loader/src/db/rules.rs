//! `skytrap rules`: show and change a dataset's alert rules (table skytrap.alert_rule).

use crate::db;
use anyhow::{bail, Result};

/// New values for one rule; None leaves a setting as it is.
#[derive(Default)]
pub struct Changes {
    pub enabled: Option<bool>,
    pub min_newsource_type: Option<i16>,
    pub min_det_sigma: Option<f64>,
    pub eta_min: Option<f64>,
    pub v_min: Option<f64>,
    pub band: Option<i32>,
    pub vs_min: Option<f64>,
    pub m_min: Option<f64>,
    pub radius_arcsec: Option<f64>,
}

/// Prints the rules of a dataset, one per line.
pub async fn show(url: &str, dataset: &str) -> Result<()> {
    let client = db::connect(url).await?;
    let rows = client
        .query(
            "SELECT r.kind, r.enabled,
                    CASE r.kind
                      WHEN 'new_source' THEN format('min_newsource_type=%s min_det_sigma=%s', r.min_newsource_type, r.min_det_sigma)
                      WHEN 'variable' THEN format('eta_min=%s v_min=%s band=%s', r.eta_min, r.v_min, coalesce(r.band::text, 'any'))
                      WHEN 'flux_jump' THEN format('vs_min=%s m_min=%s', r.vs_min, r.m_min)
                      ELSE format('radius_arcsec=%s', r.radius_arcsec)
                    END
             FROM skytrap.alert_rule r JOIN skytrap.dataset d ON d.id = r.dataset
             WHERE d.description = $1 ORDER BY r.kind",
            &[&dataset],
        )
        .await?;
    if rows.is_empty() {
        bail!("no dataset named '{dataset}'");
    }
    for row in rows {
        let (kind, enabled, settings): (String, bool, String) =
            (row.get(0), row.get(1), row.get(2));
        println!(
            "{kind:<18} {:<8} {settings}",
            if enabled { "enabled" } else { "disabled" }
        );
    }
    Ok(())
}

/// Changes one rule of a dataset.
pub async fn set(url: &str, dataset: &str, kind: &str, c: &Changes) -> Result<()> {
    let client = db::connect(url).await?;
    let updated = client
        .execute(
            "UPDATE skytrap.alert_rule r SET
                 enabled = coalesce($3, r.enabled),
                 min_newsource_type = coalesce($4, r.min_newsource_type),
                 min_det_sigma = coalesce($5, r.min_det_sigma),
                 eta_min = coalesce($6, r.eta_min),
                 v_min = coalesce($7, r.v_min),
                 band = coalesce($8, r.band),
                 vs_min = coalesce($9, r.vs_min),
                 m_min = coalesce($10, r.m_min),
                 radius_arcsec = coalesce($11, r.radius_arcsec)
             FROM skytrap.dataset d
             WHERE d.id = r.dataset AND d.description = $1 AND r.kind = $2",
            &[
                &dataset,
                &kind,
                &c.enabled,
                &c.min_newsource_type,
                &c.min_det_sigma,
                &c.eta_min,
                &c.v_min,
                &c.band,
                &c.vs_min,
                &c.m_min,
                &c.radius_arcsec,
            ],
        )
        .await?;
    if updated == 0 {
        bail!("no dataset named '{dataset}'");
    }
    Ok(())
}
