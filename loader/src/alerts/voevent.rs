//! VOEvent 2.0 (IVOA Recommendation, 2011) documents for skytrap alerts.

use anyhow::Result;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::fmt::Write;

/// What a VOEvent says of an alert: the parts of the JSON that `skytrap listen` prints
/// (`skytrap.alert_bodies`, with the outbox's id and time) that it carries.
#[derive(Deserialize)]
pub struct Alert {
    pub alert_id: i64,
    pub kind: Kind,
    #[serde(default)]
    pub created_at: String,
    pub dataset: Dataset,
    pub source: Source,
    pub object: Object,
    /// Why it alerts: the rule's figures, by name.
    #[serde(default)]
    pub classification: serde_json::Map<String, Value>,
    /// Earlier alerts on the same lightcurve.
    #[serde(default)]
    pub citations: Vec<i64>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    NewSource,
    Variable,
    FluxJump,
    MonitorDetection,
}

#[derive(Deserialize)]
pub struct Dataset {
    pub description: String,
}

/// The measurement that raised the alert. Values are None where the JSON holds no number
/// (PostgreSQL writes a NaN or an infinity as a string).
#[derive(Deserialize)]
pub struct Source {
    pub id: i64,
    pub image: i64,
    pub taustart_ts: String,
    #[serde(deserialize_with = "number")]
    pub ra: Option<f64>,
    #[serde(deserialize_with = "number")]
    pub dec: Option<f64>,
    /// Arcseconds.
    #[serde(default, deserialize_with = "number")]
    pub error_radius: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    pub f_peak: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    pub f_peak_err: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    pub f_int: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    pub f_int_err: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    pub det_sigma: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    pub freq_eff: Option<f64>,
}

/// The lightcurve.
#[derive(Deserialize)]
pub struct Object {
    pub runcat: i64,
    #[serde(default, deserialize_with = "number")]
    pub v_int: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    pub eta_int: Option<f64>,
}

fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Value::deserialize(d)?.as_f64())
}

/// Renders one alert as a VOEvent 2.0 document. Its IVORN is `<ivorn_root>#<alert_id>`;
/// earlier alerts of the same source are cited as follow-ups.
pub fn render(alert: &Alert, ivorn_root: &str) -> Result<String> {
    let id = alert.alert_id;
    let (source, object) = (&alert.source, &alert.object);
    let number = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let mut xml = String::new();
    writeln!(xml, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        xml,
        r#"<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" version="2.0" role="observation" ivorn="{}#{id}">"#,
        escape(ivorn_root)
    )?;
    writeln!(
        xml,
        "  <Who>\n    <AuthorIVORN>{}</AuthorIVORN>\n    <Date>{}</Date>\n  </Who>",
        escape(ivorn_root),
        escape(&alert.created_at)
    )?;

    writeln!(xml, "  <What>")?;
    let mut param = |name: &str, value: String, unit: &str, ucd: &str, data_type: &str| {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(r#" unit="{unit}""#)
        };
        let ucd = if ucd.is_empty() {
            String::new()
        } else {
            format!(r#" ucd="{ucd}""#)
        };
        writeln!(
            xml,
            r#"    <Param name="{}" value="{}" dataType="{data_type}"{unit}{ucd}/>"#,
            escape(name),
            escape(&value)
        )
    };
    let (kind, concept) = match alert.kind {
        Kind::NewSource => ("new_source", "new radio source"),
        Kind::Variable => ("variable", "variable radio source"),
        Kind::FluxJump => ("flux_jump", "radio flux change between epochs"),
        Kind::MonitorDetection => ("monitor_detection", "radio source at a monitored position"),
    };
    param(
        "alert_kind",
        kind.to_string(),
        "",
        "meta.code.class",
        "string",
    )?;
    param("runcat", object.runcat.to_string(), "", "meta.id", "int")?;
    param("xtrsrc", source.id.to_string(), "", "meta.id", "int")?;
    param("image", source.image.to_string(), "", "meta.id", "int")?;
    param(
        "f_peak",
        number(source.f_peak),
        "Jy/beam",
        "phot.flux.density",
        "float",
    )?;
    param(
        "f_peak_err",
        number(source.f_peak_err),
        "Jy/beam",
        "stat.error",
        "float",
    )?;
    param(
        "f_int",
        number(source.f_int),
        "Jy",
        "phot.flux.density",
        "float",
    )?;
    param(
        "f_int_err",
        number(source.f_int_err),
        "Jy",
        "stat.error",
        "float",
    )?;
    param(
        "det_sigma",
        number(source.det_sigma),
        "",
        "stat.snr",
        "float",
    )?;
    param(
        "freq_eff",
        number(source.freq_eff),
        "Hz",
        "em.freq",
        "float",
    )?;
    for (key, value) in [("v_int", object.v_int), ("eta_int", object.eta_int)] {
        if value.is_some() {
            param(key, number(value), "", "stat.variance", "float")?;
        }
    }
    for (key, value) in &alert.classification {
        let (text, data_type) = match value {
            Value::Number(n) if n.is_i64() => (n.to_string(), "int"),
            Value::Number(n) => (n.to_string(), "float"),
            Value::String(s) => (s.clone(), "string"),
            Value::Null => continue,
            other => (other.to_string(), "string"),
        };
        param(key, text, "", "", data_type)?;
    }
    writeln!(xml, "  </What>")?;

    let error_arcsec = source.error_radius.unwrap_or(0.0);
    writeln!(
        xml,
        r#"  <WhereWhen>
    <ObsDataLocation>
      <ObservatoryLocation id="GEOLUN"/>
      <ObservationLocation>
        <AstroCoordSystem id="UTC-ICRS-TOPO"/>
        <AstroCoords coord_system_id="UTC-ICRS-TOPO">
          <Time unit="s">
            <TimeInstant>
              <ISOTime>{}</ISOTime>
            </TimeInstant>
          </Time>
          <Position2D unit="deg">
            <Name1>RA</Name1>
            <Name2>Dec</Name2>
            <Value2>
              <C1>{}</C1>
              <C2>{}</C2>
            </Value2>
            <Error2Radius>{}</Error2Radius>
          </Position2D>
        </AstroCoords>
      </ObservationLocation>
    </ObsDataLocation>
  </WhereWhen>"#,
        escape(&source.taustart_ts),
        number(source.ra),
        number(source.dec),
        error_arcsec / 3600.0
    )?;
    writeln!(
        xml,
        "  <How>\n    <Description>skytrap: blind source extraction and association in PostgreSQL (dataset {})</Description>\n  </How>",
        escape(&alert.dataset.description)
    )?;
    writeln!(
        xml,
        "  <Why>\n    <Inference>\n      <Concept>{concept}</Concept>\n    </Inference>\n  </Why>"
    )?;
    let cited: Vec<i64> = alert
        .citations
        .iter()
        .copied()
        .filter(|&c| c != id)
        .collect();
    if !cited.is_empty() {
        writeln!(xml, "  <Citations>")?;
        for c in cited {
            writeln!(
                xml,
                r#"    <EventIVORN cite="followup">{}#{c}</EventIVORN>"#,
                escape(ivorn_root)
            )?;
        }
        writeln!(
            xml,
            "    <Description>earlier alerts on the same source</Description>\n  </Citations>"
        )?;
    }
    writeln!(xml, "</voe:VOEvent>")?;
    Ok(xml)
}

/// Text for an XML attribute or element: markup escaped, and the characters XML 1.0 does
/// not allow at all (control characters but tab, newline and carriage return; U+FFFE,
/// U+FFFF) replaced by U+FFFD, so that the file stays well-formed whatever a dataset's
/// name or a rule's key holds.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_ivorn_position_params_and_citations() {
        let alert = serde_json::json!({
            "alert_id": 7, "kind": "flux_jump", "created_at": "2026-01-02T00:00:01+00:00",
            "dataset": {"id": 1, "description": "a <field> & more"},
            "source": {"id": 70, "ra": 123.5, "dec": 56.25, "error_radius": 3.6, "f_peak": 0.5,
                       "f_peak_err": 0.01, "f_int": 0.5, "f_int_err": 0.02, "det_sigma": 50.0,
                       "image": 3, "freq_eff": 1.5e8, "taustart_ts": "2026-01-02T00:00:00"},
            "object": {"runcat": 9, "v_int": 0.4, "eta_int": 12.0},
            "classification": {"vs": 6.5, "m": 0.3, "previous_xtrsrc": 60},
            "citations": [3, 5]
        });
        let xml = render(
            &serde_json::from_value(alert).unwrap(),
            "ivo://example.org/skytrap",
        )
        .unwrap();
        assert!(xml.contains(r#"ivorn="ivo://example.org/skytrap#7""#));
        assert!(xml.contains("<C1>123.5</C1>") && xml.contains("<C2>56.25</C2>"));
        assert!(xml.contains("<Error2Radius>0.001</Error2Radius>"));
        assert!(xml.contains(r#"<Param name="vs" value="6.5" dataType="float"/>"#));
        assert!(xml.contains(r#"<Param name="previous_xtrsrc" value="60" dataType="int"/>"#));
        assert!(
            xml.contains(r#"<EventIVORN cite="followup">ivo://example.org/skytrap#5</EventIVORN>"#)
        );
        assert!(xml.contains("a &lt;field&gt; &amp; more"));
    }

    #[test]
    fn hostile_names_and_keys_leave_a_valid_voevent() {
        // A dataset description, a rule's key and its value holding quotes, markup,
        // ampersands and a control character XML forbids (U+0001): the file must still
        // validate against the VOEvent 2.0 schema.
        let hostile = "say \"hi\" <b>&amp;</b> \u{1}";
        let mut classification = serde_json::Map::new();
        classification.insert(hostile.to_string(), Value::String(hostile.to_string()));
        let alert = serde_json::json!({
            "alert_id": 8, "kind": "new_source", "created_at": "2026-01-02T00:00:01+00:00",
            "dataset": {"id": 1, "description": hostile},
            "source": {"id": 70, "ra": 123.5, "dec": 56.25, "error_radius": 3.6, "f_peak": 0.5,
                       "f_peak_err": 0.01, "f_int": 0.5, "f_int_err": 0.02, "det_sigma": 50.0,
                       "image": 3, "freq_eff": 1.5e8, "taustart_ts": "2026-01-02T00:00:00"},
            "object": {"runcat": 9},
            "classification": classification,
            "citations": []
        });
        let xml = render(
            &serde_json::from_value(alert).unwrap(),
            "ivo://example.org/skytrap",
        )
        .unwrap();
        assert!(!xml.contains('\u{1}'));
        assert!(xml.contains("name=\"say &quot;hi&quot; &lt;b&gt;&amp;amp;&lt;/b&gt; \u{fffd}\""));
        let dir = std::env::temp_dir().join(format!("skytrap-voevent-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("8.xml");
        std::fs::write(&file, &xml).unwrap();
        let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/VOEvent-v2.0.xsd");
        let check = std::process::Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(&schema)
            .arg(&file)
            .output()
            .expect("xmllint (Debian: libxml2-utils)");
        std::fs::remove_dir_all(dir).unwrap();
        assert!(
            check.status.success(),
            "{}\n{xml}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}
