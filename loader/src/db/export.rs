//! `skytrap export`: a dataset's catalogue, lightcurves, candidates, alerts or images as a
//! file other tools read: CSV (RFC 4180, a header line), VOTable 1.4 (astropy, TOPCAT) or
//! Parquet (pandas, pyarrow), from the analysts' views. VOTable fields carry each
//! column's description from its comment in the database; times are ISO 8601 UTC ending
//! in Z as text, and UTC timestamps (microseconds) in Parquet.

use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::io::Write;
use tokio_postgres::types::Type;

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Table {
    /// One row per lightcurve: weighted position, points, eta and V, time span
    Catalogue,
    /// Every lightcurve point, blind and forced
    Lightcurves,
    /// New sources with their first detection and significance
    Candidates,
    /// The alerts raised, each with its JSON packet
    Alerts,
    /// The images, with rejections and why
    Images,
}

/// The file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Votable,
    Parquet,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Catalogue => "catalogue",
            Table::Lightcurves => "lightcurves",
            Table::Candidates => "candidates",
            Table::Alerts => "alerts",
            Table::Images => "images",
        }
    }

    /// The query, with `$1` the dataset's name; the view its columns' comments come from.
    fn query(self) -> (&'static str, &'static str) {
        match self {
            Table::Catalogue => (
                "SELECT r.id AS runcat, r.wm_ra, r.wm_decl, r.wm_uncertainty_ew,
                        r.wm_uncertainty_ns, r.datapoints, v.eta_int, v.v_int, v.first_seen,
                        v.last_seen, v.new_source
                 FROM skytrap.runningcatalog r JOIN skytrap.dataset d ON d.id = r.dataset
                 LEFT JOIN skytrap.variability v ON v.runcat = r.id
                 WHERE d.description = $1 ORDER BY r.id",
                "variability",
            ),
            Table::Lightcurves => (
                "SELECT * FROM skytrap.lightcurves WHERE dataset_name = $1
                 ORDER BY runcat, observed_at, xtrsrc",
                "lightcurves",
            ),
            Table::Candidates => (
                "SELECT * FROM skytrap.candidates WHERE dataset_name = $1
                 ORDER BY observed_at, runcat",
                "candidates",
            ),
            Table::Alerts => (
                "SELECT a.alert_id, a.created_at, a.kind, a.runcat, a.xtrsrc, a.image,
                        a.body::text AS body
                 FROM skytrap.alert a JOIN skytrap.dataset d ON d.id = a.dataset
                 WHERE d.description = $1 ORDER BY a.alert_id",
                "alert",
            ),
            Table::Images => (
                "SELECT * FROM skytrap.images WHERE dataset_name = $1
                 ORDER BY observed_at, image",
                "images",
            ),
        }
    }
}

/// A column's kind of value, as both formats write it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Int,
    Float,
    Bool,
    Text,
    /// Text holding an ISO 8601 UTC time.
    Time,
}

struct Column {
    name: String,
    kind: Kind,
    /// A time with its zone (timestamptz); else a timestamp that holds UTC, as TraP's do.
    zoned: bool,
    description: Option<String>,
}

/// One value as fetched; None is SQL's NULL.
enum Value {
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
}

/// Writes the dataset's table to `out` (stdout when None), written whole: to a temporary
/// file beside it, renamed when complete.
pub async fn export(
    url: &str,
    dataset: &str,
    table: Table,
    format: Format,
    out: Option<&std::path::Path>,
) -> Result<usize> {
    let client = super::connect(url).await?;
    super::require_extension(&client, url).await?;
    let exists = client
        .query_opt(
            "SELECT 1 FROM skytrap.dataset WHERE description = $1",
            &[&dataset],
        )
        .await?
        .is_some();
    if !exists {
        bail!("there is no dataset '{dataset}'");
    }
    if format == Format::Parquet && out.is_none() {
        bail!("Parquet is a binary file: give --output FILE");
    }
    let (query, view) = table.query();
    let columns = columns(&client, query, view).await?;
    // Each column cast to what its kind is fetched as; times as ISO text in UTC.
    let select: Vec<String> = columns
        .iter()
        .map(|c| {
            let name = format!("q.\"{}\"", c.name.replace('"', "\"\""));
            match c.kind {
                Kind::Int => format!("{name}::int8"),
                Kind::Float => format!("{name}::float8"),
                Kind::Bool => name,
                Kind::Text => format!("{name}::text"),
                // Parquet: microseconds since 1970 UTC; else ISO text.
                Kind::Time if format == Format::Parquet => {
                    let utc = if c.zoned {
                        name
                    } else {
                        format!("({name} AT TIME ZONE 'UTC')")
                    };
                    format!("(extract(epoch FROM {utc}) * 1e6)::int8")
                }
                Kind::Time if c.zoned => {
                    format!("(to_jsonb({name} AT TIME ZONE 'UTC') #>> '{{}}') || 'Z'")
                }
                Kind::Time => format!("(to_jsonb({name}) #>> '{{}}') || 'Z'"),
            }
        })
        .collect();
    let rows = client
        .query(
            &format!("SELECT {} FROM ({query}) q", select.join(", ")),
            &[&dataset],
        )
        .await?;
    let values: Vec<Vec<Value>> = rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .enumerate()
                .map(|(i, c)| match c.kind {
                    Kind::Int => Value::Int(row.get(i)),
                    Kind::Float => Value::Float(row.get(i)),
                    Kind::Bool => Value::Bool(row.get(i)),
                    Kind::Time if format == Format::Parquet => Value::Int(row.get(i)),
                    Kind::Text | Kind::Time => Value::Text(row.get(i)),
                })
                .collect()
        })
        .collect();
    let bytes = match format {
        Format::Csv => csv(&columns, &values).into_bytes(),
        Format::Votable => votable(&columns, &values, table.name(), dataset).into_bytes(),
        Format::Parquet => parquet(&columns, &values)?,
    };
    match out {
        None => std::io::stdout().lock().write_all(&bytes)?,
        Some(path) => {
            let partial = path.with_extension("partial");
            std::fs::write(&partial, bytes)
                .with_context(|| format!("{}: cannot write", partial.display()))?;
            std::fs::rename(&partial, path)
                .with_context(|| format!("{}: cannot write", path.display()))?;
        }
    }
    Ok(values.len())
}

/// The query's columns, their kinds from PostgreSQL's types, and their descriptions from
/// the comments on the view (or table) they come from.
async fn columns(client: &tokio_postgres::Client, query: &str, view: &str) -> Result<Vec<Column>> {
    let statement = client.prepare(query).await?;
    let comments: Vec<(String, Option<String>)> = client
        .query(
            "SELECT a.attname::text, col_description(a.attrelid, a.attnum)
             FROM pg_attribute a
             WHERE a.attrelid = ('skytrap.' || $1)::regclass AND a.attnum > 0",
            &[&view],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Ok(statement
        .columns()
        .iter()
        .map(|c| {
            let kind = match *c.type_() {
                Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => Kind::Int,
                Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC => Kind::Float,
                Type::BOOL => Kind::Bool,
                Type::TIMESTAMP | Type::TIMESTAMPTZ => Kind::Time,
                _ => Kind::Text,
            };
            let description = comments
                .iter()
                .find(|(name, _)| name == c.name())
                .and_then(|(_, d)| d.clone());
            Column {
                name: c.name().to_string(),
                kind,
                zoned: *c.type_() == Type::TIMESTAMPTZ,
                description,
            }
        })
        .collect())
}

/// RFC 4180: a header line, fields quoted where they hold a comma, quote or line break;
/// NULL as an empty field.
fn csv(columns: &[Column], rows: &[Vec<Value>]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    let header: Vec<String> = columns.iter().map(|c| field(&c.name)).collect();
    out += &header.join(",");
    out += "\n";
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|v| match v {
                Value::Int(Some(i)) => i.to_string(),
                Value::Float(Some(x)) => float(*x),
                Value::Bool(Some(b)) => b.to_string(),
                Value::Text(Some(s)) => field(s),
                _ => String::new(),
            })
            .collect();
        out += &cells.join(",");
        out += "\n";
    }
    out
}

/// A float as it reads back exactly; NaN and infinities as numpy and astropy spell them.
fn float(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r') || c >= ' ')
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The unit of a column, by its name, as the views and tables keep them.
fn unit(name: &str) -> Option<&'static str> {
    Some(match name {
        "ra" | "decl" | "wm_ra" | "wm_decl" | "beam_pa" => "deg",
        "wm_uncertainty_ew" | "wm_uncertainty_ns" | "beam_major_arcsec" | "beam_minor_arcsec" => {
            "arcsec"
        }
        "f_peak" | "f_peak_err" | "rms_qc" | "rms_min" | "rms_max" => "Jy/beam",
        "f_int" | "f_int_err" | "lightcurve_max" | "lightcurve_avg" | "lightcurve_median" => "Jy",
        "freq_mhz" => "MHz",
        _ => return None,
    })
}

/// VOTable 1.4 with the table inline (TABLEDATA): each FIELD with its datatype, unit and
/// description; integer NULLs as the FIELD's declared null value, others as empty cells.
fn votable(columns: &[Column], rows: &[Vec<Value>], table: &str, dataset: &str) -> String {
    const NULL: i64 = i64::MIN;
    let mut out = String::new();
    out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += "<VOTABLE version=\"1.4\" xmlns=\"http://www.ivoa.net/xml/VOTable/v1.3\" \
            xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n";
    out += "  <RESOURCE type=\"results\">\n";
    let _ = writeln!(
        out,
        "    <TABLE name=\"{}\">\n      <DESCRIPTION>skytrap {} of dataset '{}'</DESCRIPTION>",
        xml(table),
        xml(table),
        xml(dataset)
    );
    for c in columns {
        let datatype = match c.kind {
            Kind::Int => "long",
            Kind::Float => "double",
            Kind::Bool => "boolean",
            Kind::Text | Kind::Time => "char",
        };
        let mut attributes = format!("name=\"{}\" datatype=\"{datatype}\"", xml(&c.name));
        if matches!(c.kind, Kind::Text | Kind::Time) {
            attributes += " arraysize=\"*\"";
        }
        if c.kind == Kind::Time {
            attributes += " xtype=\"timestamp\"";
        }
        if let Some(u) = unit(&c.name) {
            let _ = write!(attributes, " unit=\"{u}\"");
        }
        let _ = write!(out, "      <FIELD {attributes}>");
        if let Some(d) = &c.description {
            let _ = write!(out, "<DESCRIPTION>{}</DESCRIPTION>", xml(d));
        }
        if c.kind == Kind::Int {
            let _ = write!(out, "<VALUES null=\"{NULL}\"/>");
        }
        out += "</FIELD>\n";
    }
    out += "      <DATA>\n        <TABLEDATA>\n";
    for row in rows {
        out += "          <TR>";
        for v in row {
            let cell = match v {
                Value::Int(i) => i.unwrap_or(NULL).to_string(),
                Value::Float(Some(x)) => float(*x),
                Value::Bool(Some(b)) => if *b { "T" } else { "F" }.to_string(),
                Value::Text(Some(s)) => xml(s),
                _ => String::new(),
            };
            let _ = write!(out, "<TD>{cell}</TD>");
        }
        out += "</TR>\n";
    }
    out += "        </TABLEDATA>\n      </DATA>\n    </TABLE>\n  </RESOURCE>\n</VOTABLE>\n";
    out
}

/// Parquet, one row group, every column OPTIONAL (NULLs as undefined values): integers
/// INT64, floats DOUBLE, booleans BOOLEAN, text UTF-8, times INT64 TIMESTAMP(MICROS, UTC).
fn parquet(columns: &[Column], rows: &[Vec<Value>]) -> Result<Vec<u8>> {
    use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use std::sync::Arc;
    let fields: Vec<String> = columns
        .iter()
        .map(|c| {
            if !c
                .name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            {
                bail!("column {}: not a name Parquet's schema takes", c.name);
            }
            Ok(match c.kind {
                Kind::Int => format!("OPTIONAL INT64 {};", c.name),
                Kind::Float => format!("OPTIONAL DOUBLE {};", c.name),
                Kind::Bool => format!("OPTIONAL BOOLEAN {};", c.name),
                Kind::Text => format!("OPTIONAL BYTE_ARRAY {} (UTF8);", c.name),
                Kind::Time => format!("OPTIONAL INT64 {} (TIMESTAMP(MICROS,true));", c.name),
            })
        })
        .collect::<Result<_>>()?;
    let schema = parquet::schema::parser::parse_message_type(&format!(
        "message skytrap {{ {} }}",
        fields.join(" ")
    ))?;
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(
        &mut out,
        Arc::new(schema),
        Arc::new(WriterProperties::builder().build()),
    )?;
    let mut group = writer.next_row_group()?;
    let mut i = 0;
    while let Some(mut column) = group.next_column()? {
        let cells = rows.iter().map(|r| &r[i]);
        let defined: Vec<i16> = cells
            .clone()
            .map(|v| {
                i16::from(matches!(
                    v,
                    Value::Int(Some(_))
                        | Value::Float(Some(_))
                        | Value::Bool(Some(_))
                        | Value::Text(Some(_))
                ))
            })
            .collect();
        match columns[i].kind {
            Kind::Int | Kind::Time => {
                let v: Vec<i64> = cells
                    .filter_map(|v| match v {
                        Value::Int(x) => *x,
                        _ => None,
                    })
                    .collect();
                column
                    .typed::<Int64Type>()
                    .write_batch(&v, Some(&defined), None)?;
            }
            Kind::Float => {
                let v: Vec<f64> = cells
                    .filter_map(|v| match v {
                        Value::Float(x) => *x,
                        _ => None,
                    })
                    .collect();
                column
                    .typed::<DoubleType>()
                    .write_batch(&v, Some(&defined), None)?;
            }
            Kind::Bool => {
                let v: Vec<bool> = cells
                    .filter_map(|v| match v {
                        Value::Bool(x) => *x,
                        _ => None,
                    })
                    .collect();
                column
                    .typed::<BoolType>()
                    .write_batch(&v, Some(&defined), None)?;
            }
            Kind::Text => {
                let v: Vec<ByteArray> = cells
                    .filter_map(|v| match v {
                        Value::Text(Some(s)) => Some(ByteArray::from(s.as_str())),
                        _ => None,
                    })
                    .collect();
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&v, Some(&defined), None)?;
            }
        }
        column.close()?;
        i += 1;
    }
    group.close()?;
    writer.close()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<Column> {
        vec![
            Column {
                name: "runcat".into(),
                kind: Kind::Int,
                zoned: false,
                description: Some("The lightcurve & its <id>".into()),
            },
            Column {
                name: "wm_ra".into(),
                kind: Kind::Float,
                zoned: false,
                description: None,
            },
            Column {
                name: "url".into(),
                kind: Kind::Text,
                zoned: false,
                description: None,
            },
        ]
    }

    fn rows() -> Vec<Vec<Value>> {
        vec![
            vec![
                Value::Int(Some(1)),
                Value::Float(Some(0.1 + 0.2)),
                Value::Text(Some("a,\"b\"".into())),
            ],
            vec![Value::Int(None), Value::Float(None), Value::Text(None)],
        ]
    }

    #[test]
    fn csv_quotes_what_needs_it_and_keeps_every_digit() {
        assert_eq!(
            csv(&columns(), &rows()),
            "runcat,wm_ra,url\n1,0.30000000000000004,\"a,\"\"b\"\"\"\n,,\n"
        );
    }

    #[test]
    fn votable_declares_types_units_and_nulls() {
        let v = votable(&columns(), &rows(), "catalogue", "s<1>");
        assert!(v.contains("<DESCRIPTION>skytrap catalogue of dataset 's&lt;1&gt;'</DESCRIPTION>"));
        assert!(v.contains(
            "<FIELD name=\"runcat\" datatype=\"long\"><DESCRIPTION>The lightcurve &amp; its &lt;id&gt;</DESCRIPTION><VALUES null=\"-9223372036854775808\"/></FIELD>"
        ));
        assert!(v.contains("<FIELD name=\"wm_ra\" datatype=\"double\" unit=\"deg\"></FIELD>"));
        assert!(
            v.contains("<TR><TD>1</TD><TD>0.30000000000000004</TD><TD>a,&quot;b&quot;</TD></TR>")
        );
        assert!(v.contains("<TR><TD>-9223372036854775808</TD><TD></TD><TD></TD></TR>"));
    }
}
