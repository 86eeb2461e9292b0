//! Every setting of source extraction and image quality control in one place: skytrap's
//! defaults, presets (`trap`, TraP's job_params; `pyse`, PySE's command-line defaults), a
//! TOML file that
//! overrides the preset, and command-line flags that override the file. `load` stores the
//! effective settings with the dataset in `skytrap.config`, one (section, key, value, type)
//! row per setting, under TraP's job_params section and key names where TraP has the
//! setting.
//!
//! The file has the sections of TraP's job_params.cfg:
//!
//! ```toml
//! preset = "trap"            # optional: the preset the file starts from
//! [source_extraction]
//! detection_threshold = 8.0
//! deblend_nthresh = 32
//! [quality]
//! rms_est_max = 0.05
//! [persistence]
//! rms_est_sigma = 4.0
//! ```

use crate::extract::qc::Quality;
use crate::extract::Params;
use anyhow::{bail, Context, Result};
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
        // PySE has no quality control: either preset keeps TraP's.
        Config {
            extraction,
            quality: Quality::default(),
        }
    }

    /// The preset, then the TOML file over it (the file may name its own preset, which
    /// `preset` given on the command line overrides).
    pub fn from_file(preset: Option<Preset>, file: Option<&Path>) -> Result<Config> {
        let Some(path) = file else {
            return Ok(Config::preset(preset));
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the configuration", path.display()))?;
        Config::from_toml(preset, &text).with_context(|| path.display().to_string())
    }

    /// `from_file` on the text of a file.
    pub fn from_toml(preset: Option<Preset>, text: &str) -> Result<Config> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| anyhow::anyhow!("not valid TOML: {}", e.message()))?;
        let mut file_preset = None;
        for (name, value) in &table {
            if name == "preset" {
                let Some(p) = value.as_str().and_then(Preset::parse) else {
                    bail!("preset must be \"trap\" or \"pyse\", not {value}");
                };
                file_preset = Some(p);
            } else if !value.is_table() {
                bail!("'{name}' is neither a section nor 'preset'");
            }
        }
        let mut config = Config::preset(preset.or(file_preset));
        for (section, value) in &table {
            let Some(entries) = value.as_table() else {
                continue;
            };
            for (key, value) in entries {
                let Some(setting) = SETTINGS
                    .iter()
                    .find(|s| s.section == section && s.key == key)
                else {
                    bail!(
                        "unknown setting [{section}] {key}; the settings are: {}",
                        SETTINGS
                            .iter()
                            .map(|s| format!("[{}] {}", s.section, s.key))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                };
                let v = match (setting.kind, value) {
                    (Kind::Float, toml::Value::Float(f)) => Value::Float(*f),
                    (Kind::Float, toml::Value::Integer(i)) => Value::Float(*i as f64),
                    (Kind::Int, toml::Value::Integer(i)) => Value::Int(*i),
                    (Kind::Bool, toml::Value::Boolean(b)) => Value::Bool(*b),
                    _ => bail!(
                        "[{section}] {key} = {value}: expected {}",
                        setting.kind.describe()
                    ),
                };
                (setting.set)(&mut config, v)
                    .map_err(|why| anyhow::anyhow!("[{section}] {key} = {value}: {why}"))?;
            }
        }
        Ok(config)
    }

    /// Sets a setting from the text of a flag, through the same check as a file's value.
    pub fn set_text(&mut self, setting: &Setting, text: &str) -> Result<(), String> {
        let value = match setting.kind {
            Kind::Float => text.trim().parse().map(Value::Float).ok(),
            Kind::Int => text.trim().parse().map(Value::Int).ok(),
            Kind::Bool => text.trim().parse().map(Value::Bool).ok(),
        }
        .ok_or_else(|| format!("expected {}", setting.kind.describe()))?;
        (setting.set)(self, value)
    }

    /// One (section, key, value, type) row per setting, as `load` stores them; the value
    /// is written so that it reads back to the same number.
    pub fn rows(&self) -> Vec<Row> {
        SETTINGS
            .iter()
            .map(|s| {
                let (value, kind) = match (s.get)(self) {
                    Value::Float(f) => (format!("{f:?}"), "float"),
                    Value::Int(i) => (i.to_string(), "int"),
                    Value::Bool(b) => (if b { "True" } else { "False" }.to_string(), "bool"),
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
    for r in now {
        match value(stored, r) {
            Some(v) if v == r.value => {}
            Some(v) => out.push(format!(
                "{}.{} (stored {v}, now {})",
                r.section, r.key, r.value
            )),
            None => out.push(format!(
                "{}.{} (not stored, now {})",
                r.section, r.key, r.value
            )),
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
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Float => "a number",
            Kind::Int => "a whole number",
            Kind::Bool => "true or false",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Value {
    Float(f64),
    Int(i64),
    Bool(bool),
}

/// One setting: where it lives in the TOML file and in `skytrap.config` (TraP's section
/// and key), its command-line flag and help, how to read it from a `Config`, and how to
/// check and store a value, the one validation every source of a value goes through.
pub struct Setting {
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

    /// Image quality control, which `load` applies and `extract` does not.
    pub fn is_quality(&self) -> bool {
        self.section != "source_extraction"
    }
}

/// Every setting, in the order `load` stores them.
pub fn settings() -> &'static [Setting] {
    SETTINGS
}

fn float(v: Value) -> f64 {
    match v {
        Value::Float(f) => f,
        Value::Int(i) => i as f64,
        Value::Bool(_) => f64::NAN,
    }
}

fn int(v: Value) -> i64 {
    match v {
        Value::Int(i) => i,
        _ => -1,
    }
}

fn positive(v: Value) -> Result<f64, String> {
    let x = float(v);
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err("must be a number above 0".into())
    }
}

fn non_negative(v: Value) -> Result<f64, String> {
    let x = float(v);
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err("must be a number >= 0".into())
    }
}

fn finite(v: Value) -> Result<f64, String> {
    let x = float(v);
    if x.is_finite() {
        Ok(x)
    } else {
        Err("must be a finite number".into())
    }
}

fn count(v: Value, lo: i64, hi: i64) -> Result<usize, String> {
    let i = int(v);
    if (lo..=hi).contains(&i) {
        Ok(i as usize)
    } else {
        Err(format!("must be a whole number from {lo} to {hi}"))
    }
}

macro_rules! setting {
    ($section:literal, $key:literal, $flag:literal, $value_name:literal, $help:literal, $kind:ident,
     |$c:ident| $get:expr, |$m:ident, $v:ident| $set:expr) => {
        Setting {
            section: $section,
            key: $key,
            flag: $flag,
            value_name: $value_name,
            help: $help,
            kind: Kind::$kind,
            get: |$c| $get,
            set: |$m, $v| {
                $set;
                Ok(())
            },
        }
    };
}

/// Every setting, in the order `load` stores them.
static SETTINGS: &[Setting] = &[
    setting!(
        "source_extraction",
        "detection_threshold",
        "detection-threshold",
        "SIGMA",
        "Detection threshold, in sigma of the local noise [trap: 8, pyse: 10]",
        Float,
        |c| Value::Float(c.extraction.detection),
        |c, v| c.extraction.detection = positive(v)?
    ),
    setting!(
        "source_extraction",
        "analysis_threshold",
        "analysis-threshold",
        "SIGMA",
        "Analysis threshold for growing islands, in sigma [3]",
        Float,
        |c| Value::Float(c.extraction.analysis),
        |c, v| c.extraction.analysis = positive(v)?
    ),
    setting!(
        "source_extraction",
        "back_size",
        "back-size",
        "PIXELS",
        "Background and noise box size, pixels [trap: 50, pyse: 64]",
        Int,
        |c| Value::Int(c.extraction.back_size as i64),
        |c, v| c.extraction.back_size = count(v, 3, 65536)?
    ),
    setting!(
        "source_extraction",
        "margin",
        "margin",
        "PIXELS",
        "Pixels ignored along the image border [trap: 10, pyse: 0]",
        Int,
        |c| Value::Int(c.extraction.margin as i64),
        |c, v| c.extraction.margin = count(v, 0, 65536)?
    ),
    setting!(
        "source_extraction",
        "extraction_radius_pix",
        "radius",
        "PIXELS",
        "Extraction radius around the image centre, pixels (0: whole image) [0]",
        Float,
        |c| Value::Float(c.extraction.radius),
        |c, v| c.extraction.radius = non_negative(v)?
    ),
    setting!(
        "source_extraction",
        "connectivity",
        "connectivity",
        "4|8",
        "Island connectivity [8]",
        Int,
        |c| Value::Int(if c.extraction.eight_connected { 8 } else { 4 }),
        |c, v| c.extraction.eight_connected = match int(v) {
            8 => true,
            4 => false,
            _ => return Err("must be 4 or 8".into()),
        }
    ),
    setting!(
        "source_extraction",
        "fdr_alpha",
        "fdr",
        "ALPHA",
        "False Detection Rate: detect at the threshold where at most this fraction of detected pixels is noise (Hopkins et al. 2002, as PySE) instead of a fixed one (0: off) [off]",
        Float,
        |c| Value::Float(c.extraction.fdr_alpha.unwrap_or(0.0)),
        |c, v| c.extraction.fdr_alpha = {
            let a = float(v);
            if a == 0.0 {
                None
            } else if a > 0.0 && a < 1.0 {
                Some(a)
            } else {
                return Err("must be between 0 and 1 (0: no FDR)".into());
            }
        }
    ),
    setting!(
        "source_extraction",
        "deblend_nthresh",
        "deblend",
        "N",
        "Deblend islands over N sub-thresholds (PySE's deblend_nthresh; 0: off) [0]",
        Int,
        |c| Value::Int(c.extraction.deblend_nthresh as i64),
        |c, v| c.extraction.deblend_nthresh = count(v, 0, 300)?
    ),
    setting!(
        "source_extraction",
        "deblend_mincont",
        "deblend-mincont",
        "FRACTION",
        "Least fraction of the island's flux a deblended part must hold [0.005]",
        Float,
        |c| Value::Float(c.extraction.deblend_mincont),
        |c, v| c.extraction.deblend_mincont = {
            let x = non_negative(v)?;
            if x > 1.0 {
                return Err("must be from 0 to 1".into());
            }
            x
        }
    ),
    setting!(
        "source_extraction",
        "force_beam",
        "force-beam",
        "BOOL",
        "Fit only peak and position, with the shape held at the restoring beam [false]",
        Bool,
        |c| Value::Bool(c.extraction.force_beam),
        |c, v| c.extraction.force_beam = matches!(v, Value::Bool(true))
    ),
    setting!(
        "source_extraction",
        "clean_bias",
        "clean-bias",
        "JY",
        "CLEAN bias added to every peak, Jy/beam (PySE's clean_bias) [0]",
        Float,
        |c| Value::Float(c.extraction.clean_bias),
        |c, v| c.extraction.clean_bias = finite(v)?
    ),
    setting!(
        "source_extraction",
        "clean_bias_error",
        "clean-bias-error",
        "JY",
        "Error of the CLEAN bias, Jy/beam [0]",
        Float,
        |c| Value::Float(c.extraction.clean_bias_error),
        |c, v| c.extraction.clean_bias_error = non_negative(v)?
    ),
    setting!(
        "source_extraction",
        "frac_flux_cal_error",
        "frac-flux-cal-error",
        "FRACTION",
        "Fractional flux-calibration error, added to every peak error [0]",
        Float,
        |c| Value::Float(c.extraction.frac_flux_cal_error),
        |c, v| c.extraction.frac_flux_cal_error = non_negative(v)?
    ),
    setting!(
        "source_extraction",
        "vectorized",
        "moments",
        "BOOL",
        "Measure sources by their moments, without a least-squares fit (PySE's vectorised mode) [false]",
        Bool,
        |c| Value::Bool(c.extraction.moments_only),
        |c, v| c.extraction.moments_only = matches!(v, Value::Bool(true))
    ),
    setting!(
        "source_extraction",
        "box_in_beampix",
        "box-in-beampix",
        "BEAMS",
        "Forced fits: box side in units of the larger beam semi-axis [trap: 10, pyse: 3]",
        Float,
        |c| Value::Float(c.extraction.box_in_beampix),
        |c, v| c.extraction.box_in_beampix = positive(v)?
    ),
    setting!(
        "source_extraction",
        "ew_sys_err",
        "ew-sys-err",
        "ARCSEC",
        "Systematic position error east-west, arcsec [trap: 10, pyse: 0]",
        Float,
        |c| Value::Float(c.extraction.ew_sys_err),
        |c, v| c.extraction.ew_sys_err = non_negative(v)?
    ),
    setting!(
        "source_extraction",
        "ns_sys_err",
        "ns-sys-err",
        "ARCSEC",
        "Systematic position error north-south, arcsec [trap: 10, pyse: 0]",
        Float,
        |c| Value::Float(c.extraction.ns_sys_err),
        |c, v| c.extraction.ns_sys_err = non_negative(v)?
    ),
    setting!(
        "persistence",
        "rms_est_sigma",
        "rms-est-sigma",
        "KAPPA",
        "Kappa of the clipping that measures rms_qc [4]",
        Float,
        |c| Value::Float(c.quality.rms_est_sigma),
        |c, v| c.quality.rms_est_sigma = positive(v)?
    ),
    setting!(
        "persistence",
        "rms_est_fraction",
        "rms-est-fraction",
        "F",
        "rms_qc is measured over the central 2/F of each axis [8]",
        Int,
        |c| Value::Int(c.quality.rms_est_fraction as i64),
        |c, v| c.quality.rms_est_fraction = count(v, 2, 65536)?
    ),
    setting!(
        "quality",
        "rms_est_history",
        "rms-est-history",
        "N",
        "Images of the band before the rms history test applies (0: off) [100]",
        Int,
        |c| Value::Int(c.quality.rms_est_history as i64),
        |c, v| c.quality.rms_est_history = count(v, 0, 1_000_000)?
    ),
    setting!(
        "quality",
        "rms_est_max",
        "rms-est-max",
        "JY",
        "Reject an image whose centre noise rms_qc (Jy/beam) is not below this [100]",
        Float,
        |c| Value::Float(c.quality.rms_est_max),
        |c, v| c.quality.rms_est_max = positive(v)?
    ),
    setting!(
        "quality",
        "rms_est_min",
        "rms-est-min",
        "JY",
        "... or not above this [0]",
        Float,
        |c| Value::Float(c.quality.rms_est_min),
        |c, v| c.quality.rms_est_min = non_negative(v)?
    ),
    setting!(
        "quality",
        "rms_rej_sigma",
        "rms-rej-sigma",
        "SIGMA",
        "... which rejects an rms_qc this many sigma off the history's mean [3]",
        Float,
        |c| Value::Float(c.quality.rms_rej_sigma),
        |c, v| c.quality.rms_rej_sigma = positive(v)?
    ),
    setting!(
        "quality",
        "oversampled_x",
        "oversampled-x",
        "PIXELS",
        "Reject a beam with a semi-axis of more pixels than this [30]",
        Float,
        |c| Value::Float(c.quality.oversampled_x),
        |c, v| c.quality.oversampled_x = positive(v)?
    ),
    setting!(
        "quality",
        "elliptical_x",
        "elliptical-x",
        "RATIO",
        "Reject a beam whose semi-axes' ratio exceeds this [2]",
        Float,
        |c| Value::Float(c.quality.elliptical_x),
        |c, v| c.quality.elliptical_x = {
            let x = positive(v)?;
            if x < 1.0 {
                return Err("must be 1 or more (a ratio of the larger to the smaller axis)".into());
            }
            x
        }
    ),
];

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
        assert_eq!(own.quality, trap.quality);
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
        assert!(format!("{:#}", missing.unwrap_err())
            .starts_with("/nonexistent/skytrap.toml: cannot read"));
    }

    #[test]
    fn rows_read_back_and_differences_name_the_keys() {
        let mut c = Config::preset(None);
        c.extraction.detection = 0.1 + 0.2; // not a short decimal
        let rows = c.rows();
        assert_eq!(rows.len(), SETTINGS.len());
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
        assert_eq!(differences(&rows[1..], &rows).len(), 1);
    }
}
