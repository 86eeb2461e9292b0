//! The table of every setting: its section and key, flag, help, stage and the one check
//! every value goes through, wherever it came from (a preset, a file, a flag).

use super::{Kind, Setting, Stage, Value};

fn float(v: Value) -> f64 {
    match v {
        Value::Float(f) => f,
        Value::Int(i) => i as f64,
        Value::Bool(_) | Value::Text(_) => f64::NAN,
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

/// "3C196=123.4,48.2; 3C48=24.42,33.16": names and positions (degrees).
fn bright_sources(v: Value) -> Result<Vec<(String, f64, f64)>, String> {
    let Value::Text(text) = v else {
        return Err("expected text".into());
    };
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let parsed = s.split_once('=').and_then(|(name, position)| {
                let (ra, dec) = position.split_once(',')?;
                Some((
                    name.trim().to_string(),
                    ra.trim().parse::<f64>().ok()?,
                    dec.trim().parse::<f64>().ok()?,
                ))
            });
            match parsed {
                Some((name, ra, dec))
                    if !name.is_empty() && ra.is_finite() && (-90.0..=90.0).contains(&dec) =>
                {
                    Ok((name, skytrap_core::sky::normalise_ra(ra), dec))
                }
                _ => Err(format!(
                    "'{s}' is not NAME=RA,DEC (degrees, DEC in [-90, 90])"
                )),
            }
        })
        .collect()
}

macro_rules! setting {
    ($stage:ident, $section:literal, $key:literal, $flag:literal, $value_name:literal, $help:literal, $kind:ident,
     |$c:ident| $get:expr, |$m:ident, $v:ident| $set:expr) => {
        Setting {
            stage: Stage::$stage,
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
pub(super) static SETTINGS: &[Setting] = &[
    setting!(
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Extraction,
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
        Quality,
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
        Quality,
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
        Quality,
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
        Quality,
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
        Quality,
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
        Quality,
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
        Quality,
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
        Quality,
        "quality_lofar",
        "min_separation",
        "min-separation",
        "DEGREES",
        "Reject an image pointed within this many degrees of Cas A, Cyg A, Tau A, Her A, Vir A, the Sun or Jupiter (0: off) [trap: 10, skytrap: 0]",
        Float,
        |c| Value::Float(c.quality.min_separation),
        |c, v| c.quality.min_separation = {
            let x = non_negative(v)?;
            if x > 180.0 {
                return Err("must be from 0 to 180 degrees".into());
            }
            x
        }
    ),
    setting!(
        Quality,
        "quality_lofar",
        "bright_sources",
        "bright-sources",
        "LIST",
        "Bright sources of your own for the bright-source check: NAME=RA,DEC (degrees), separated by ';' [none]",
        Text,
        |c| Value::Text(
            c.quality
                .bright_sources
                .iter()
                .map(|(name, ra, dec)| format!("{name}={ra:?},{dec:?}"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        |c, v| c.quality.bright_sources = bright_sources(v)?
    ),
    setting!(
        Quality,
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
    setting!(
        Association,
        "source_extraction",
        "expiration",
        "expiration",
        "N",
        "Forced fits at a lightcurve's position after its last blind detection before they stop [10]",
        Int,
        |c| Value::Int(c.association.expiration.into()),
        |c, v| c.association.expiration = count(v, 0, 1_000_000)? as i32
    ),
    setting!(
        Association,
        "association",
        "deruiter_radius",
        "deruiter-radius",
        "R",
        "Largest De Ruiter radius (dimensionless) of an association [5.68]",
        Float,
        |c| Value::Float(c.association.deruiter_radius),
        |c, v| c.association.deruiter_radius = positive(v)?
    ),
    setting!(
        Association,
        "association",
        "beamwidths_limit",
        "beamwidths-limit",
        "BEAMS",
        "Search radius around each source, in units of the restoring beam's semi-major axis [3]",
        Float,
        |c| Value::Float(c.association.beamwidths_limit),
        |c, v| c.association.beamwidths_limit = positive(v)?
    ),
    setting!(
        Association,
        "transient_search",
        "new_source_sigma_margin",
        "new-source-sigma-margin",
        "SIGMA",
        "Sigma above the earlier images' detection limits before a first detection is new [1]",
        Float,
        |c| Value::Float(c.association.new_source_sigma_margin),
        |c, v| c.association.new_source_sigma_margin = non_negative(v)?
    ),
    setting!(
        Association,
        "transient_search",
        "pair_metrics_min_abs_vs",
        "pair-metrics-min-abs-vs",
        "VS",
        "|Vs| from which a pair of measurements counts in the two-epoch metrics (VAST's) [4.3]",
        Float,
        |c| Value::Float(c.association.pair_metrics_min_abs_vs),
        |c, v| c.association.pair_metrics_min_abs_vs = non_negative(v)?
    ),
    setting!(
        Association,
        "alerts",
        "history_days",
        "alert-history-days",
        "DAYS",
        "An alert packet carries the lightcurve's points and upper limits of this many days before it [30]",
        Float,
        |c| Value::Float(c.association.alert_history_days),
        |c, v| c.association.alert_history_days = non_negative(v)?
    ),
    setting!(
        Association,
        "alerts",
        "history_points",
        "alert-history-points",
        "N",
        "At most this many points (and upper limits) in an alert packet, the newest [100]",
        Int,
        |c| Value::Int(c.association.alert_history_points.into()),
        |c, v| c.association.alert_history_points = count(v, 0, 1_000_000)? as i32
    ),
];
