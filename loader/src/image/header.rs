//! FITS header cards parsed into values, with no I/O: the part of reading a FITS file
//! that hostile input reaches first, kept pure so it can be tested and fuzzed alone.

use anyhow::{bail, Result};
use std::collections::HashMap;

/// A header keyword's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Logical(bool),
    /// A value that is none of the above (`12.3.4`, `NaN`, an unterminated string), kept
    /// as written so that errors can quote it.
    Invalid(String),
}

/// The keyword → value map of one header, plus its HISTORY lines.
#[derive(Clone, Debug, Default)]
pub struct Header {
    values: HashMap<String, Value>,
    pub history: Vec<String>,
}

impl Header {
    /// Parses 80-column cards. Cards without a value indicator and COMMENT cards are
    /// skipped; HISTORY text is kept; unparseable values are kept as `Value::Invalid`.
    /// A keyword that appears twice keeps its last value.
    pub fn from_cards<S: AsRef<str>>(cards: &[S]) -> Header {
        let mut header = Header::default();
        for card in cards {
            let card = card.as_ref();
            let key = card.get(..8.min(card.len())).unwrap_or("").trim_end();
            if key == "HISTORY" {
                header
                    .history
                    .push(card.get(8..).unwrap_or("").trim().to_string());
                continue;
            }
            if key.is_empty() || card.get(8..10) != Some("= ") {
                continue;
            }
            if let Some(value) = parse_value(card.get(10..).unwrap_or("")) {
                header.values.insert(key.to_ascii_uppercase(), value);
            }
        }
        header
    }

    /// Builds a header from (keyword, value) pairs, as tests and the simulator do.
    pub fn from_pairs<I: IntoIterator<Item = (String, Value)>>(pairs: I) -> Header {
        Header {
            values: pairs.into_iter().collect(),
            history: Vec::new(),
        }
    }

    /// A numeric keyword: `Ok(None)` when it is absent, an error naming the keyword and
    /// quoting its value when it is present but not a finite number.
    pub fn real(&self, key: &str) -> Result<Option<f64>> {
        match self.values.get(key) {
            None => Ok(None),
            Some(Value::Number(x)) => Ok(Some(*x)),
            Some(Value::Text(s)) => bail!("{key} = '{s}' is a string, not a number"),
            Some(Value::Logical(b)) => {
                bail!(
                    "{key} = {} is a logical, not a number",
                    if *b { 'T' } else { 'F' }
                )
            }
            Some(Value::Invalid(s)) => bail!("{key} = {s} is not a number"),
        }
    }

    /// A numeric keyword that must be there.
    pub fn required(&self, key: &str) -> Result<f64> {
        match self.real(key)? {
            Some(x) => Ok(x),
            None => bail!("{key} is missing"),
        }
    }

    /// A number, or None if the keyword is absent or not a finite number.
    pub fn number(&self, key: &str) -> Option<f64> {
        match self.values.get(key)? {
            Value::Number(x) => Some(*x),
            _ => None,
        }
    }

    pub fn text(&self, key: &str) -> Option<&str> {
        match self.values.get(key)? {
            Value::Text(s) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// The axis numbers (1-based) whose CTYPE is RA and DEC, if there are exactly one of each.
    pub fn celestial_axes(&self) -> Option<(usize, usize)> {
        let naxis = self.number("NAXIS")?;
        let find = |prefix: &str| {
            let axes: Vec<usize> = (1..=naxis.clamp(0.0, 999.0) as usize)
                .filter(|n| {
                    self.text(&format!("CTYPE{n}"))
                        .is_some_and(|t| t.starts_with(prefix))
                })
                .collect();
            (axes.len() == 1).then(|| axes[0])
        };
        Some((find("RA--")?, find("DEC-")?))
    }

    /// The header with its axes renumbered so that `order[0]` becomes axis 1, `order[1]`
    /// axis 2 and so on: every axis-indexed keyword (NAXISn, CTYPEn, CRVALn, CRPIXn, CDELTn,
    /// CUNITn, CROTAn, PCi_j, PC00i00j, CDi_j, PVi_m) follows its axis.
    pub fn with_axes_in_order(&self, order: &[usize]) -> Header {
        let new_index = |old: usize| order.iter().position(|&a| a == old).map_or(old, |p| p + 1);
        let values = self
            .values
            .iter()
            .map(|(key, value)| (renumbered(key, &new_index), value.clone()))
            .collect();
        Header {
            values,
            history: self.history.clone(),
        }
    }
}

/// An axis-indexed WCS keyword with its axis numbers mapped; other keywords unchanged.
fn renumbered(key: &str, new_index: &dyn Fn(usize) -> usize) -> String {
    let number = |s: &str| -> Option<usize> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    for prefix in [
        "NAXIS", "CTYPE", "CRVAL", "CRPIX", "CDELT", "CUNIT", "CROTA",
    ] {
        if let Some(n) = key.strip_prefix(prefix).and_then(number) {
            return format!("{prefix}{}", new_index(n));
        }
    }
    for prefix in ["PC", "CD", "PV"] {
        let Some(rest) = key.strip_prefix(prefix) else {
            continue;
        };
        if let Some((i, j)) = rest.split_once('_') {
            if let (Some(i), Some(j)) = (number(i), number(j)) {
                // PVi_m: m numbers a parameter, not an axis.
                let j = if prefix == "PV" { j } else { new_index(j) };
                return format!("{prefix}{}_{j}", new_index(i));
            }
        } else if prefix == "PC" && rest.len() == 6 {
            if let (Some(i), Some(j)) = (number(&rest[..3]), number(&rest[3..])) {
                return format!("PC{:03}{:03}", new_index(i), new_index(j));
            }
        }
    }
    key.to_string()
}

fn parse_value(field: &str) -> Option<Value> {
    let field = field.trim_start();
    if let Some(rest) = field.strip_prefix('\'') {
        // A string: '' is an escaped quote; trailing blanks are not significant.
        let mut out = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Some(Value::Text(out.trim_end().to_string()));
                }
            } else {
                out.push(c);
            }
        }
        return Some(Value::Invalid(quoted(&format!("'{rest}"))));
    }
    let token = field.split('/').next().unwrap_or("").trim();
    match token {
        "T" => Some(Value::Logical(true)),
        "F" => Some(Value::Logical(false)),
        "" => None,
        _ => Some(
            token
                .replace(['D', 'd'], "E")
                .parse::<f64>()
                .ok()
                // Rust parses "inf" and "NaN"; FITS has neither.
                .filter(|x| x.is_finite())
                .map(Value::Number)
                .unwrap_or_else(|| Value::Invalid(quoted(token))),
        ),
    }
}

/// A number for a message: plain where that is short, else in exponent form.
pub fn show(x: f64) -> String {
    if x == 0.0 || (1e-6..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// A value as written, for an error message: printable ASCII, at most 30 characters.
fn quoted(raw: &str) -> String {
    let mut out: String = raw
        .trim()
        .chars()
        .take(30)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if raw.trim().chars().count() > 30 {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(s: &str) -> String {
        format!("{s:<80}")
    }

    #[test]
    fn parses_numbers_strings_and_logicals() {
        let h = Header::from_cards(&[
            card("SIMPLE  =                    T / conforms"),
            card("CRVAL1  =   2.128360000000E+02 / deg"),
            card("CDELT2  =  1.1111111111111D-02"),
            card("CTYPE1  = 'RA---SIN'           / projection"),
            card("OBJECT  = 'it''s here  '"),
            card("HISTORY AIPS   CLEAN BMAJ=  1.0000E-02"),
            card("COMMENT   nothing to see"),
            card("BADNUM  = 1.2.3"),
        ]);
        assert_eq!(h.number("CRVAL1"), Some(212.836));
        assert_eq!(h.number("CDELT2"), Some(1.1111111111111e-2));
        assert_eq!(h.text("CTYPE1"), Some("RA---SIN"));
        assert_eq!(h.text("OBJECT"), Some("it's here"));
        assert_eq!(h.history, vec!["AIPS   CLEAN BMAJ=  1.0000E-02"]);
        assert_eq!(h.number("BADNUM"), None);
        let err = h.real("BADNUM").unwrap_err().to_string();
        assert_eq!(err, "BADNUM = 1.2.3 is not a number");
        assert!(h.contains("SIMPLE"));
        assert_eq!(h.real("CRVAL1").unwrap(), Some(212.836));
        assert_eq!(h.real("NOSUCH").unwrap(), None);
        assert!(h
            .required("NOSUCH")
            .unwrap_err()
            .to_string()
            .contains("NOSUCH is missing"));
        assert!(h.real("CTYPE1").unwrap_err().to_string().contains("string"));
    }

    #[test]
    fn short_and_garbage_cards_do_not_panic() {
        let h = Header::from_cards(&["", "X", "KEY     =", "\u{e9}\u{e9}\u{e9}"]);
        assert!(!h.contains("KEY"));
        let h = Header::from_cards(&["KEY     = 'abc", "NAN     = NaN", "INF     = inf"]);
        assert!(h.real("KEY").unwrap_err().to_string().contains("'abc"));
        assert!(h.real("NAN").unwrap_err().to_string().contains("NAN = NaN"));
        assert!(h.real("INF").is_err());
    }
}
