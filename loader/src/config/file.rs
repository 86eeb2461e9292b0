//! Reading a settings file into entries that know their line, and the messages for what
//! is wrong in one: the line (and column for TOML syntax), and the nearest valid name for
//! a mistyped one.

use super::{settings, Preset};
use std::path::Path;

/// One `key = value` of a file's section.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub section: String,
    pub key: String,
    pub value: toml::Value,
    /// 1-based; None where it could not be found (a key written as an inline table, say).
    pub line: Option<usize>,
}

/// What is wrong with a file, and where.
#[derive(Debug, PartialEq)]
pub struct Located {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl Located {
    /// "FILE:LINE:COLUMN: message", as compilers and grep write it ("line N: message"
    /// without a file name).
    pub fn at(&self, file: &str) -> String {
        match (file.is_empty(), self.line, self.column) {
            (false, Some(l), Some(c)) => format!("{file}:{l}:{c}: {}", self.message),
            (false, Some(l), None) => format!("{file}:{l}: {}", self.message),
            (false, None, _) => format!("{file}: {}", self.message),
            (true, Some(l), Some(c)) => format!("line {l}, column {c}: {}", self.message),
            (true, Some(l), None) => format!("line {l}: {}", self.message),
            (true, None, _) => self.message.clone(),
        }
    }
}

/// TraP's job_params.cfg and other INI files, by their name.
pub fn is_trap_ini(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("cfg" | "ini")
    )
}

/// A TOML settings file: the preset it names, and its entries in file order.
pub fn read_toml(text: &str) -> Result<(Option<Preset>, Vec<Entry>), Located> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = line_and_column(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        Located {
            line,
            column,
            message: format!("not valid TOML: {}", e.message().trim_end()),
        }
    })?;
    let mut preset = None;
    let mut entries = Vec::new();
    for (name, value) in &table {
        let line = line_of(text, "", name);
        match value {
            toml::Value::Table(keys) => {
                for (key, value) in keys {
                    entries.push(Entry {
                        section: name.clone(),
                        key: key.clone(),
                        value: value.clone(),
                        line: line_of(text, name, key),
                    });
                }
            }
            _ if name == "preset" => {
                preset = Some(value.as_str().and_then(Preset::parse).ok_or(Located {
                    line,
                    column: None,
                    message: format!("preset must be \"trap\" or \"pyse\", not {value}"),
                })?);
            }
            _ => {
                return Err(Located {
                    line,
                    column: None,
                    message: format!(
                        "'{name}' is neither a section nor 'preset'{}",
                        suggestion(name, &sections())
                    ),
                })
            }
        }
    }
    entries.sort_by_key(|e| e.line);
    Ok((preset, entries))
}

/// 1-based line and column of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// The line of `key` in `[section]` ("" for the top level), or of `section.key` at the
/// top: enough for the files people write by hand.
fn line_of(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            current = header
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"')
                .to_string();
            continue;
        }
        let Some((name, _)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim().trim_matches('"');
        if (current == section && name == key)
            || (current.is_empty() && name == format!("{section}.{key}"))
        {
            return Some(n + 1);
        }
    }
    None
}

/// The sections that hold settings, in the order of the settings.
pub fn sections() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for s in settings() {
        if !out.contains(&s.section) {
            out.push(s.section);
        }
    }
    out
}

/// Why `[section] key` is not a setting, with the nearest one it may have meant.
pub fn unknown(section: &str, key: &str) -> String {
    if let Some(s) = settings().iter().find(|s| s.key == key) {
        return format!(
            "unknown setting [{section}] {key}: it belongs in [{}]",
            s.section
        );
    }
    if !sections().contains(&section) {
        return format!(
            "unknown section [{section}]{}",
            suggestion(section, &sections())
        );
    }
    let keys: Vec<&str> = settings().iter().map(|s| s.key).collect();
    let hint = match nearest(key, &keys).and_then(|k| settings().iter().find(|s| s.key == k)) {
        Some(s) if s.section != section => format!("; did you mean [{}] {}?", s.section, s.key),
        Some(s) => format!("; did you mean `{}`?", s.key),
        None => LIST.to_string(),
    };
    format!("unknown setting [{section}] {key}{hint}")
}

const LIST: &str = "; `skytrap config show` lists every setting";

/// The candidate nearest `name` if one is near enough to be a typo of it (as clap
/// suggests flags).
fn nearest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// "; did you mean `x`?" for the nearest candidate, else a pointer to the list.
fn suggestion(name: &str, candidates: &[&str]) -> String {
    nearest(name, candidates).map_or(LIST.to_string(), |c| format!("; did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_know_their_lines() {
        let text = "# job\npreset = \"trap\"\n\n[source_extraction]\n  margin = 5\n\
                    [association]\nderuiter_radius = 4\nquality.elliptical_x = 3\n";
        let (preset, entries) = read_toml(text).unwrap();
        assert_eq!(preset, Some(Preset::Trap));
        let found: Vec<(&str, &str, Option<usize>)> = entries
            .iter()
            .map(|e| (e.section.as_str(), e.key.as_str(), e.line))
            .collect();
        // A dotted key under [association] is the table association.quality: not a
        // setting, but found where it is written.
        assert!(found.contains(&("source_extraction", "margin", Some(5))));
        assert!(found.contains(&("association", "deruiter_radius", Some(7))));
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let e = read_toml("[source_extraction]\nmargin = = 5\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(10)), "{e:?}");
        assert!(e
            .at("job.toml")
            .starts_with("job.toml:2:10: not valid TOML"));
    }

    #[test]
    fn a_mistyped_name_gets_the_nearest_one() {
        assert_eq!(
            unknown("association", "beamwidth_limit"),
            "unknown setting [association] beamwidth_limit; did you mean `beamwidths_limit`?"
        );
        assert_eq!(
            unknown("quality", "deruiter_radius"),
            "unknown setting [quality] deruiter_radius: it belongs in [association]"
        );
        assert_eq!(
            unknown("source_extraction", "deruiter_radus"),
            "unknown setting [source_extraction] deruiter_radus; did you mean [association] deruiter_radius?"
        );
        assert_eq!(
            unknown("asociation", "x"),
            "unknown section [asociation]; did you mean `association`?"
        );
        assert!(unknown("quality", "colour").ends_with("`skytrap config show` lists every setting"));
    }
}
