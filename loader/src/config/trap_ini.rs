//! TraP's job file, job_params.cfg: an INI file read by Python's configparser (`;` and `#`
//! comments, on their own line or after a value), values as Python literals (`True`,
//! `False`, numbers, quoted strings). Its keys map onto skytrap's settings by name, from
//! whichever section a TraP version kept them in (`rms_est_*` moved from `[persistence]`
//! to `[quality]`, `elliptical_x` from `[quality_lofar]` to `[quality]`); the square
//! background box is `back_size_x` and `back_size_y`. Keys skytrap has no use for are
//! listed with the reason.

use super::file::{Entry, Located};
use super::settings;

/// A job file as skytrap's settings, and what in it has no counterpart.
#[derive(Debug, PartialEq)]
pub struct Job {
    pub entries: Vec<Entry>,
    /// "[section] key = value: why", in file order.
    pub unused: Vec<String>,
}

/// Why a TraP setting has no counterpart in skytrap.
fn why_unused(key: &str) -> &'static str {
    match key {
        "description" | "dataset_id" => "the dataset is named by `skytrap load --dataset`",
        "bandwidth_max" => "bands are formed from each image's own bandwidth",
        "low_bound" | "high_bound" => "skytrap has no LOFAR theoretical-noise check",
        "mode" | "hosts" | "ports" => "`skytrap load` takes files, not a stream",
        _ => "not a TraP setting skytrap knows",
    }
}

/// Reads a job file; a line that is not a section, a `key = value` or a comment is an
/// error naming the line.
pub fn read(text: &str) -> Result<Job, Located> {
    let mut section = String::new();
    let mut found: Vec<(String, String, toml::Value, usize)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        let error = |message: String| Located {
            line: Some(n + 1),
            column: None,
            message,
        };
        if let Some(header) = line.strip_prefix('[') {
            section = header
                .strip_suffix(']')
                .ok_or_else(|| error(format!("'{line}' is not a section header")))?
                .trim()
                .to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(':')) else {
            return Err(error(format!(
                "'{line}' is neither a section nor key = value"
            )));
        };
        if section.is_empty() {
            return Err(error(format!("'{line}' comes before any [section]")));
        }
        found.push((
            section.clone(),
            key.trim().to_lowercase(),
            python_literal(value.trim()),
            n + 1,
        ));
    }
    let mut job = Job {
        entries: Vec::new(),
        unused: Vec::new(),
    };
    for (section, key, value, line) in &found {
        let entry = |key: &str| {
            let setting = settings().iter().find(|s| s.key == key)?;
            Some(Entry {
                section: setting.section.to_string(),
                key: setting.key.to_string(),
                value: value.clone(),
                line: Some(*line),
            })
        };
        match key.as_str() {
            // skytrap's boxes are square: the x size, and a word if y differs.
            "back_size_x" => job.entries.extend(entry("back_size")),
            "back_size_y" => {
                let x = found.iter().find(|f| f.1 == "back_size_x").map(|f| &f.2);
                if x != Some(value) {
                    job.unused.push(format!(
                        "[{section}] back_size_y = {value}: skytrap's background boxes are \
                         square, of back_size_x{}",
                        x.map(|x| format!(" ({x})")).unwrap_or_default()
                    ));
                    if x.is_none() {
                        job.entries.extend(entry("back_size"));
                    }
                }
            }
            _ => match entry(key) {
                Some(e) => job.entries.push(e),
                None => job
                    .unused
                    .push(format!("[{section}] {key} = {value}: {}", why_unused(key))),
            },
        }
    }
    Ok(job)
}

/// The line without a comment: `;` or `#` starting the line or after whitespace (Python's
/// configparser with inline comments, as TraP reads its files). Inside quotes they stay.
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, ';' | '#') if previous.is_whitespace() => return &line[..i],
            _ => {}
        }
        previous = c;
    }
    line
}

/// A Python literal as TOML has it: True/False, integers, floats, quoted strings; any
/// other text as a string.
fn python_literal(text: &str) -> toml::Value {
    match text {
        "True" => return toml::Value::Boolean(true),
        "False" => return toml::Value::Boolean(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = text.parse::<f64>() {
        return toml::Value::Float(f);
    }
    let unquoted = ['\'', '"']
        .iter()
        .find_map(|q| text.strip_prefix(*q)?.strip_suffix(*q))
        .unwrap_or(text);
    toml::Value::String(unquoted.to_string())
}

/// The job as a skytrap TOML file: the `trap` preset (what TraP assumes for a key the
/// file leaves out), the file's settings under skytrap's sections, and what had no
/// counterpart as comments.
pub fn to_toml(job: &Job, source: &str) -> String {
    let mut out = format!("# skytrap settings from TraP's job file {source}\npreset = \"trap\"\n");
    for section in super::file::sections() {
        let entries: Vec<&Entry> = job
            .entries
            .iter()
            .filter(|e| e.section == section)
            .collect();
        if entries.is_empty() {
            continue;
        }
        out.push_str(&format!("\n[{section}]\n"));
        for e in entries {
            out.push_str(&format!("{} = {}\n", e.key, e.value));
        }
    }
    if !job.unused.is_empty() {
        out.push_str("\n# Not imported, with no counterpart in skytrap:\n");
        for u in &job.unused {
            out.push_str(&format!("#   {u}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{Config, Preset};
    use super::*;

    /// TraP's job_params.cfg template as tkp ships it (tkp/config/job_template), with the
    /// layout of a later TraP (a [quality] section) and a different y box.
    const TEMPLATE: &str = "[persistence]
description = \"TRAP dataset\"
dataset_id = -1
rms_est_sigma = 4            ; Sigma value used for iterative clipping in RMS estimation
rms_est_fraction = 8         ; Determines size of image subsection used for RMS estimation
rms_est_history = 100        ; how many images used for calculating rms histogram
rms_est_max = 100            ; global maximum acceptable rms
rms_est_min = 0.0            ; global minimum acceptable rms
rms_rej_sigma = 3\t     ; threshold for rejecting images using rms histogram
bandwidth_max = 0.0          ; if non zero override bandwidth of image

[quality_lofar]
low_bound = 1                ; multiplied with noise to define lower threshold
high_bound = 80              ; multiplied with noise to define upper threshold
oversampled_x = 30           ; threshold for oversampled check
elliptical_x = 2.5           ; threshold for elliptical check
min_separation = 10          ; minimum distance to a bright source (in degrees)

# TraP reads '#' comments too
[source_extraction]
detection_threshold = 7      ; extraction threshold (S/N)
analysis_threshold = 3
back_size_x = 64
back_size_y = 64
margin = 10
deblend_nthresh = 0          ; Number of subthresholds for deblending; 0 disables
extraction_radius_pix = 250
force_beam = False
box_in_beampix = 10
ew_sys_err = 10              ; Systematic errors on ra & decl (units in arcsec)
ns_sys_err = 10
expiration = 12              ; number of forced fits performed after a blind fit

[association]
deruiter_radius = 3.717
beamwidths_limit =  1.0

[transient_search]
new_source_sigma_margin = 3

[pipeline]
mode = 'batch'                            ; batch or stream
hosts = ',,,,,'                           ; if stream, the stream server
ports = '6666,6667,6668,6669,6670,6671'   ; the port of the stream
";

    #[test]
    fn trap_template_maps_onto_skytrap_settings() {
        let job = read(TEMPLATE).unwrap();
        let c = Config::apply(Some(Preset::Trap), &job.entries).unwrap();
        assert_eq!(c.extraction.detection, 7.0);
        assert_eq!(c.extraction.back_size, 64);
        assert!(!c.extraction.force_beam, "Python's False");
        assert_eq!(c.extraction.radius, 250.0);
        assert_eq!(c.quality.elliptical_x, 2.5, "from [quality_lofar]");
        assert_eq!(c.quality.rms_est_sigma, 4.0, "from [persistence]");
        assert_eq!(c.association.expiration, 12);
        assert_eq!(c.association.deruiter_radius, 3.717);
        assert_eq!(c.association.beamwidths_limit, 1.0);
        assert_eq!(c.association.new_source_sigma_margin, 3.0);
        let unused: Vec<&str> = job
            .unused
            .iter()
            .map(|u| u.split(' ').nth(1).unwrap())
            .collect();
        assert_eq!(
            unused,
            [
                "description",
                "dataset_id",
                "bandwidth_max",
                "low_bound",
                "high_bound",
                "mode",
                "hosts",
                "ports"
            ]
        );
        assert!(job.unused[0].ends_with("named by `skytrap load --dataset`"));
        // The TOML it becomes reads back to the same settings.
        let toml = to_toml(&job, "job_params.cfg");
        assert_eq!(Config::from_toml(None, &toml).unwrap(), c, "{toml}");
        assert!(toml.contains("#   [pipeline] mode = \"batch\": `skytrap load` takes files"));
    }

    #[test]
    fn boxes_that_are_not_square_are_named() {
        let job = read("[source_extraction]\nback_size_x = 50\nback_size_y = 40\n").unwrap();
        assert_eq!(job.entries.len(), 1);
        assert_eq!(
            job.unused,
            ["[source_extraction] back_size_y = 40: skytrap's background boxes are square, of back_size_x (50)"]
        );
    }

    #[test]
    fn bad_lines_and_values_name_their_line() {
        let e = read("[source_extraction]\nmargin 10\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        let job = read("[source_extraction]\n\nmargin = ten\n").unwrap();
        let e = Config::apply(None, &job.entries).unwrap_err();
        assert_eq!(
            e.at("job.cfg"),
            "job.cfg:3: [source_extraction] margin = \"ten\": expected a whole number"
        );
        assert_eq!(strip_comment("hosts = ';,;' ; the hosts"), "hosts = ';,;' ");
    }
}
