//! Every setting of a job in one place: source extraction, image quality control and
//! association, with skytrap's defaults, presets (`trap`, TraP's job_params; `pyse`, PySE's
//! command-line defaults), a file that overrides the preset, and command-line flags that
//! override the file. `load` stores the effective settings with the dataset in
//! `skytrap.config`, one (section, key, value, type) row per setting, under TraP's
//! job_params section and key names where TraP has the setting.
//!
//! The file is TOML with the sections of TraP's job_params.cfg:
//!
//! ```toml
//! preset = "trap"            # optional: the preset the file starts from
//! [source_extraction]
//! detection_threshold = 8.0
//! deblend_nthresh = 32
//! [quality]
//! rms_est_max = 0.05
//! [association]
//! deruiter_radius = 5.68
//! ```
//!
//! or TraP's job_params.cfg itself (`.cfg` or `.ini`, read by `trap_ini`).

mod file;
mod settings;
pub mod trap_ini;

use crate::extract::qc::Quality;
use crate::extract::Params;
use anyhow::{Context, Result};
use std::path::Path;

/// A named set of defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// TraP's job_params.cfg defaults: skytrap's defaults with the shape fixed to the
    /// restoring beam (`force_beam = True`) and a 250-pixel extraction radius.
    Trap,
    /// PySE's command-line defaults (`pyse` with no options).
    Pyse,
}

impl Preset {
    pub fn parse(name: &str) -> Option<Preset> {
        match name {
            "trap" => Some(Preset::Trap),
            "pyse" => Some(Preset::Pyse),
            _ => None,
        }
    }
}

/// The effective settings of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub extraction: Params,
    pub quality: Quality,
    pub association: Association,
}

/// How `skytrap.associate_image` associates a dataset's images, kept on its
/// `skytrap.dataset` row (TraP's columns and defaults; reference §2.1).
#[derive(Clone, Debug, PartialEq)]
pub struct Association {
    /// Largest De Ruiter radius of an association (`dataset.assoc_radius`).
    pub deruiter_radius: f64,
    /// Hard search radius, in units of the restoring beam's semi-major axis.
    pub beamwidths_limit: f64,
    /// Sigma above the earlier images' detection limits before a first detection is new.
    pub new_source_sigma_margin: f64,
    /// Forced fits after a lightcurve's last blind detection before they stop.
    pub expiration: i32,
    /// |Vs| from which a pair of measurements counts in the two-epoch metrics (VAST's 4.3).
    pub pair_metrics_min_abs_vs: f64,
    /// An alert packet's history and upper limits: those of this many days before the
    /// alert (ZTF's 30), at most this many points, the newest.
    pub alert_history_days: f64,
    pub alert_history_points: i32,
}

impl Default for Association {
    fn default() -> Self {
        Association {
            deruiter_radius: 5.68,
            beamwidths_limit: 3.0,
            new_source_sigma_margin: 1.0,
            expiration: 10,
            pair_metrics_min_abs_vs: 4.3,
            alert_history_days: 30.0,
            alert_history_points: 100,
        }
    }
}

/// Which part of the pipeline a setting steers: `extract` takes only the extraction
/// settings; `load` takes them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Extraction,
    Quality,
    Association,
}

impl Config {
    /// The settings of a preset; None: skytrap's defaults, which are TraP's job_params
    /// but for fitting each source's shape and searching the whole image.
    pub fn preset(preset: Option<Preset>) -> Config {
        let extraction = match preset {
            None => Params::default(),
            Some(Preset::Trap) => Params {
                force_beam: true,
                radius: 250.0,
                ..Params::default()
            },
            // PySE's ImgConf: --detection-thr 10, --analysis-thr 3, --grid 64, --margin 0,
            // --radius 0, 8-connected, --deblend-mincont 0.005, --ffbox 3, no systematic
            // errors, vectorized = True (moments, no fit). Every field is spelled out so a
            // new setting has to be decided for PySE too.
            Some(Preset::Pyse) => Params {
                detection: 10.0,
                analysis: 3.0,
                back_size: 64,
                margin: 0,
                radius: 0.0,
                eight_connected: true,
                ew_sys_err: 0.0,
                ns_sys_err: 0.0,
                fdr_alpha: None,
                deblend_nthresh: 0,
                deblend_mincont: 0.005,
                force_beam: false,
                moments_only: true,
                clean_bias: 0.0,
                clean_bias_error: 0.0,
                frac_flux_cal_error: 0.0,
                box_in_beampix: 3.0,
            },
        };
        // PySE has no quality control or association: either preset keeps TraP's, and the
        // trap preset adds TraP's bright-source check.
        let quality = match preset {
            Some(Preset::Trap) => Quality {
                min_separation: 10.0,
                ..Quality::default()
            },
            _ => Quality::default(),
        };
        Config {
            extraction,
            quality,
            association: Association::default(),
        }
    }

    /// The preset, then the file over it: TOML, or TraP's job_params.cfg for a `.cfg` or
    /// `.ini` file (which starts from the `trap` preset). A TOML file may name its own
    /// preset, which `preset` given on the command line overrides. Errors name the file
    /// and, where there is one, the line. With the settings, how many of a TraP job
    /// file's have no counterpart (`trap_ini::Job::unused`).
    pub fn from_file(preset: Option<Preset>, file: Option<&Path>) -> Result<(Config, usize)> {
        let Some(path) = file else {
            return Ok((Config::preset(preset), 0));
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the configuration", path.display()))?;
        let at = |e: file::Located| anyhow::anyhow!("{}", e.at(&path.display().to_string()));
        if file::is_trap_ini(path) {
            let job = trap_ini::read(&text).map_err(at)?;
            let config = Config::apply(preset.or(Some(Preset::Trap)), &job.entries).map_err(at)?;
            Ok((config, job.unused.len()))
        } else {
            let (file_preset, entries) = file::read_toml(&text).map_err(at)?;
            Ok((
                Config::apply(preset.or(file_preset), &entries).map_err(at)?,
                0,
            ))
        }
    }

    /// `from_file` on the text of a TOML file; errors name the line.
    pub fn from_toml(preset: Option<Preset>, text: &str) -> Result<Config> {
        let (file_preset, entries) =
            file::read_toml(text).map_err(|e| anyhow::anyhow!("{}", e.at("")))?;
        Config::apply(preset.or(file_preset), &entries).map_err(|e| anyhow::anyhow!("{}", e.at("")))
    }

    /// The preset's settings with a file's entries over them, each through its setting's
    /// check; an unknown section or key is named with the nearest valid one.
    fn apply(preset: Option<Preset>, entries: &[file::Entry]) -> Result<Config, file::Located> {
        let mut config = Config::preset(preset);
        for e in entries {
            let located = |message: String| file::Located {
                line: e.line,
                column: None,
                message,
            };
            let setting = setting(&e.section, &e.key)
                .ok_or_else(|| located(file::unknown(&e.section, &e.key)))?;
            let v = match (setting.kind, &e.value) {
                (Kind::Float, toml::Value::Float(f)) => Value::Float(*f),
                (Kind::Float, toml::Value::Integer(i)) => Value::Float(*i as f64),
                (Kind::Int, toml::Value::Integer(i)) => Value::Int(*i),
                (Kind::Bool, toml::Value::Boolean(b)) => Value::Bool(*b),
                (Kind::Text, toml::Value::String(s)) => Value::Text(s.clone()),
                (kind, value) => {
                    return Err(located(format!(
                        "[{}] {} = {value}: expected {}",
                        e.section,
                        e.key,
                        kind.describe()
                    )))
                }
            };
            (setting.set)(&mut config, v).map_err(|why| {
                located(format!("[{}] {} = {}: {why}", e.section, e.key, e.value))
            })?;
        }
        Ok(config)
    }

    /// Every setting as a TOML file that reads back to these settings, each with its help.
    pub fn to_toml(&self) -> String {
        let mut sections: Vec<&str> = settings().iter().map(|s| s.section).collect();
        sections.dedup();
        let mut seen = Vec::new();
        sections.retain(|s| {
            !seen.contains(s) && {
                seen.push(*s);
                true
            }
        });
        let mut out = String::new();
        for section in sections {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("[{section}]\n"));
            for s in settings().iter().filter(|s| s.section == section) {
                out.push_str(&format!("{} = {}  # {}\n", s.key, (s.get)(self), s.help));
            }
        }
        out
    }

    /// Sets a setting from the text of a flag, through the same check as a file's value.
    pub fn set_text(&mut self, setting: &Setting, text: &str) -> Result<(), String> {
        let value = match setting.kind {
            Kind::Float => text.trim().parse().map(Value::Float).ok(),
            Kind::Int => text.trim().parse().map(Value::Int).ok(),
            Kind::Bool => text.trim().parse().map(Value::Bool).ok(),
            Kind::Text => Some(Value::Text(text.to_string())),
        }
        .ok_or_else(|| format!("expected {}", setting.kind.describe()))?;
        (setting.set)(self, value)
    }

    /// Every setting as `{"section": {"key": value}}`, as `skytrap.job_settings` keeps
    /// the settings each image was processed with.
    pub fn to_json(&self) -> serde_json::Value {
        let mut sections = serde_json::Map::new();
        for s in settings() {
            let value = match (s.get)(self) {
                Value::Float(x) => serde_json::json!(x),
                Value::Int(i) => serde_json::json!(i),
                Value::Bool(b) => serde_json::json!(b),
                Value::Text(t) => serde_json::json!(t),
            };
            sections
                .entry(s.section)
                .or_insert_with(|| serde_json::json!({}))
                .as_object_mut()
                .expect("a section is an object")
                .insert(s.key.to_string(), value);
        }
        serde_json::Value::Object(sections)
    }

    /// One (section, key, value, type) row per setting, as `load` stores them; the value
    /// is written so that it reads back to the same number.
    pub fn rows(&self) -> Vec<Row> {
        settings()
            .iter()
            .map(|s| {
                let (value, kind) = match (s.get)(self) {
                    Value::Float(f) => (format!("{f:?}"), "float"),
                    Value::Int(i) => (i.to_string(), "int"),
                    Value::Bool(b) => (if b { "True" } else { "False" }.to_string(), "bool"),
                    Value::Text(t) => (t, "str"),
                };
                Row {
                    section: s.section.to_string(),
                    key: s.key.to_string(),
                    value,
                    kind: kind.to_string(),
                }
            })
            .collect()
    }
}

/// TraP's job file as skytrap's TOML (each value checked), with how many settings it
/// imported and how many have no counterpart.
pub fn import_trap_job(path: &Path) -> Result<(String, usize, usize)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the job file", path.display()))?;
    let at = |e: file::Located| anyhow::anyhow!("{}", e.at(&path.display().to_string()));
    let job = trap_ini::read(&text).map_err(at)?;
    Config::apply(Some(Preset::Trap), &job.entries).map_err(at)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    Ok((
        trap_ini::to_toml(&job, &name),
        job.entries.len(),
        job.unused.len(),
    ))
}

/// A setting as `skytrap.config` stores it; `kind` is TraP's type name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub section: String,
    pub key: String,
    pub value: String,
    pub kind: String,
}

/// What differs between stored rows and these, one "section.key (stored: a, now: b)" per
/// setting, in the order of the settings.
pub fn differences(stored: &[Row], now: &[Row]) -> Vec<String> {
    let mut out = Vec::new();
    let value = |rows: &[Row], r: &Row| {
        rows.iter()
            .find(|s| s.section == r.section && s.key == r.key)
            .map(|s| s.value.clone())
    };
    // The same number written differently ("3" by PostgreSQL, "3.0" by skytrap) is the same.
    let same = |a: &str, b: &str| {
        a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
    };
    for r in now {
        match value(stored, r) {
            Some(v) if same(&v, &r.value) => {}
            Some(v) => out.push(format!(
                "{}.{} (stored {v}, now {})",
                r.section, r.key, r.value
            )),
            // A setting skytrap did not have when the dataset was made: stored now.
            None => {}
        }
    }
    for r in stored {
        if value(now, r).is_none() {
            out.push(format!(
                "{}.{} (stored {}, unknown now)",
                r.section, r.key, r.value
            ));
        }
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Float,
    Int,
    Bool,
    Text,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Float => "a number",
            Kind::Int => "a whole number",
            Kind::Bool => "true or false",
            Kind::Text => "text",
        }
    }
}

#[derive(Clone, Debug)]
enum Value {
    Float(f64),
    Int(i64),
    Bool(bool),
    Text(String),
}

/// As TOML writes it, reading back to the same value.
impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Text(t) => write!(f, "{}", toml::Value::String(t.clone())),
        }
    }
}

/// One setting: where it lives in the TOML file and in `skytrap.config` (TraP's section
/// and key), its command-line flag and help, how to read it from a `Config`, and how to
/// check and store a value, the one validation every source of a value goes through.
pub struct Setting {
    pub stage: Stage,
    pub section: &'static str,
    pub key: &'static str,
    /// The long flag, without its dashes.
    pub flag: &'static str,
    pub value_name: &'static str,
    pub help: &'static str,
    kind: Kind,
    get: fn(&Config) -> Value,
    set: fn(&mut Config, Value) -> Result<(), String>,
}

impl Setting {
    /// A switch: `--flag` alone means true, `--flag=false` false.
    pub fn is_switch(&self) -> bool {
        matches!(self.kind, Kind::Bool)
    }
}

/// Every setting, in the order `load` stores them.
pub fn settings() -> &'static [Setting] {
    settings::SETTINGS
}

/// The setting of a section and key.
pub fn setting(section: &str, key: &str) -> Option<&'static Setting> {
    settings()
        .iter()
        .find(|s| s.section == section && s.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_and_a_file_go_through_one_check() {
        // The command line used to refuse what a file accepted (`--deblend-mincont 0`,
        // `--fdr 0` for "off") and accept what a file refused (`--elliptical-x 0.5`): now
        // both reach the same setting's check and give its message.
        let setting = |key: &str| settings().iter().find(|s| s.key == key).unwrap();
        let mut from_flags = Config::preset(None);
        from_flags
            .set_text(setting("deblend_mincont"), "0")
            .unwrap();
        from_flags.set_text(setting("fdr_alpha"), "0").unwrap();
        let from_file = Config::from_toml(
            None,
            "[source_extraction]\ndeblend_mincont = 0\nfdr_alpha = 0",
        )
        .unwrap();
        assert_eq!(from_flags, from_file);
        assert_eq!(from_flags.extraction.fdr_alpha, None);
        let flag = Config::preset(None)
            .set_text(setting("elliptical_x"), "0.5")
            .unwrap_err();
        let file = Config::from_toml(None, "[quality]\nelliptical_x = 0.5").unwrap_err();
        assert!(format!("{file:#}").ends_with(&flag), "{file:#} / {flag}");
        // Every setting has a flag of its own, and a switch only for true/false ones.
        let mut flags: Vec<&str> = settings().iter().map(|s| s.flag).collect();
        flags.sort_unstable();
        flags.dedup();
        assert_eq!(flags.len(), settings().len());
        assert!(settings()
            .iter()
            .all(|s| s.is_switch() == (s.value_name == "BOOL")));
    }

    #[test]
    fn presets_are_trap_job_params_and_pyse_cli_defaults() {
        // TraP's job_params.cfg template (reference §2.1) and PySE's ImgConf (§7.11).
        let trap = Config::preset(Some(Preset::Trap));
        let e = &trap.extraction;
        assert_eq!((e.detection, e.analysis), (8.0, 3.0));
        assert_eq!((e.back_size, e.margin, e.radius), (50, 10, 250.0));
        assert_eq!((e.ew_sys_err, e.ns_sys_err), (10.0, 10.0));
        assert_eq!((e.deblend_nthresh, e.box_in_beampix), (0, 10.0));
        assert!(e.eight_connected && e.force_beam && e.fdr_alpha.is_none());
        // skytrap's defaults differ from TraP's in exactly these two.
        let own = Config::preset(None);
        assert_eq!(
            own.extraction,
            Params {
                force_beam: false,
                radius: 0.0,
                ..e.clone()
            }
        );
        assert_eq!(
            own.quality,
            Quality {
                min_separation: 0.0,
                ..trap.quality.clone()
            },
            "and the bright-source check, which TraP made for LOFAR"
        );
        assert_eq!(trap.quality.min_separation, 10.0);
        let q = &trap.quality;
        assert_eq!((q.rms_est_sigma, q.rms_est_fraction), (4.0, 8));
        assert_eq!(
            (q.rms_est_history, q.rms_est_max, q.rms_est_min),
            (100, 100.0, 0.0)
        );
        assert_eq!(
            (q.rms_rej_sigma, q.oversampled_x, q.elliptical_x),
            (3.0, 30.0, 2.0)
        );

        let pyse = Config::preset(Some(Preset::Pyse)).extraction;
        assert_eq!((pyse.detection, pyse.analysis), (10.0, 3.0));
        assert_eq!((pyse.back_size, pyse.margin, pyse.radius), (64, 0, 0.0));
        assert_eq!((pyse.ew_sys_err, pyse.ns_sys_err), (0.0, 0.0));
        assert_eq!((pyse.deblend_mincont, pyse.box_in_beampix), (0.005, 3.0));
        assert!(pyse.moments_only, "PySE's ImgConf has vectorized = True");
    }

    #[test]
    fn the_file_overrides_its_preset_and_the_command_line_preset_overrides_the_files() {
        let text = "preset = \"pyse\"\n[source_extraction]\ndetection_threshold = 12\n\
                    connectivity = 4\nforce_beam = true\nfdr_alpha = 0.05\n\
                    [quality]\nelliptical_x = 3.5\n";
        let c = Config::from_toml(None, text).unwrap();
        assert_eq!(c.extraction.detection, 12.0); // the file
        assert_eq!(c.extraction.back_size, 64); // its preset
        assert!(!c.extraction.eight_connected && c.extraction.force_beam);
        assert_eq!(c.extraction.fdr_alpha, Some(0.05));
        assert_eq!(c.quality.elliptical_x, 3.5);
        let c = Config::from_toml(Some(Preset::Trap), text).unwrap();
        assert_eq!(c.extraction.detection, 12.0);
        assert_eq!(c.extraction.back_size, 50);
    }

    #[test]
    fn bad_files_say_which_setting_and_why() {
        let err = |text: &str| format!("{:#}", Config::from_toml(None, text).unwrap_err());
        assert!(err("[source_extraction]\ndetection_treshold = 8")
            .contains("unknown setting [source_extraction] detection_treshold"));
        assert!(err("[source_extraction]\nmargin = 2.5").contains("expected a whole number"));
        assert!(err("[source_extraction]\nconnectivity = 6").contains("must be 4 or 8"));
        assert!(err("[quality]\nelliptical_x = 0.5").contains("[quality] elliptical_x = 0.5"));
        assert!(err("preset = \"sextractor\"").contains("preset must be"));
        assert!(err("[source_extraction\n").contains("not valid TOML"));
        let missing = Config::from_file(None, Some(Path::new("/nonexistent/skytrap.toml")));
        assert!(
            err("[association]\nbeamwidth_limit = 2").contains("did you mean `beamwidths_limit`?")
        );
        assert!(err("[source_extraction]\n\nmargin = = 5")
            .starts_with("line 3, column 10: not valid TOML"));
        assert!(format!("{:#}", missing.unwrap_err())
            .starts_with("/nonexistent/skytrap.toml: cannot read"));
    }

    #[test]
    fn bright_sources_of_ones_own() {
        let setting = setting("quality_lofar", "bright_sources").unwrap();
        let mut c = Config::preset(None);
        c.set_text(setting, "3C196=123.4,48.2; 3C48 = -335.58 , 33.16 ;")
            .unwrap();
        assert_eq!(
            c.quality.bright_sources,
            [
                ("3C196".to_string(), 123.4, 48.2),
                ("3C48".to_string(), 24.420000000000016, 33.16)
            ]
        );
        let row = c
            .rows()
            .into_iter()
            .find(|r| r.key == "bright_sources")
            .unwrap();
        assert_eq!(row.value, "3C196=123.4,48.2; 3C48=24.420000000000016,33.16");
        assert_eq!(
            Config::preset(None)
                .set_text(setting, "3C196=123.4")
                .unwrap_err(),
            "'3C196=123.4' is not NAME=RA,DEC (degrees, DEC in [-90, 90])"
        );
    }

    #[test]
    fn the_settings_as_toml_read_back() {
        let mut c = Config::preset(Some(Preset::Pyse));
        c.association.deruiter_radius = 4.5;
        c.association.expiration = 3;
        c.extraction.fdr_alpha = Some(0.01);
        c.quality.bright_sources = vec![("3C196".into(), 123.4, 48.2)];
        let text = c.to_toml();
        assert_eq!(Config::from_toml(None, &text).unwrap(), c, "{text}");
        assert!(text.contains("[association]\nderuiter_radius = 4.5  # Largest De Ruiter"));
    }

    #[test]
    fn rows_read_back_and_differences_name_the_keys() {
        let mut c = Config::preset(None);
        c.extraction.detection = 0.1 + 0.2; // not a short decimal
        let rows = c.rows();
        assert_eq!(rows.len(), settings().len());
        let det = &rows[0];
        assert_eq!(
            (det.section.as_str(), det.key.as_str(), det.kind.as_str()),
            ("source_extraction", "detection_threshold", "float")
        );
        assert_eq!(det.value.parse::<f64>().unwrap(), 0.1 + 0.2);
        let fb = rows.iter().find(|r| r.key == "force_beam").unwrap();
        assert_eq!((fb.value.as_str(), fb.kind.as_str()), ("False", "bool"));
        assert!(differences(&rows, &c.rows()).is_empty());

        let mut other = c.clone();
        other.extraction.detection = 10.0;
        other.quality.oversampled_x = 12.0;
        let d = differences(&rows, &other.rows());
        assert_eq!(
            d,
            [
                "source_extraction.detection_threshold (stored 0.30000000000000004, now 10.0)",
                "quality.oversampled_x (stored 30.0, now 12.0)"
            ]
        );
        assert!(
            differences(&rows[1..], &rows).is_empty(),
            "a new setting is stored now"
        );
        assert_eq!(
            differences(&rows, &rows[1..]).len(),
            1,
            "a setting no longer known"
        );
    }
}
