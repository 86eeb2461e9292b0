//! FITS header cards parsed into values, with no I/O: the part of reading a FITS file
//! that hostile input reaches first, kept pure so it can be tested and fuzzed alone.

use std::collections::HashMap;

/// A header keyword's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Logical(bool),
}

/// The keyword → value map of one header, plus its HISTORY lines.
#[derive(Clone, Debug, Default)]
pub struct Header {
    values: HashMap<String, Value>,
    pub history: Vec<String>,
}

impl Header {
    /// Parses 80-column cards. Cards without a value indicator, COMMENT cards and
    /// unparseable values are skipped; HISTORY text is kept.
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

    pub fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }
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
        return None;
    }
    let token = field.split('/').next().unwrap_or("").trim();
    match token {
        "T" => Some(Value::Logical(true)),
        "F" => Some(Value::Logical(false)),
        "" => None,
        _ => token
            .replace(['D', 'd'], "E")
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Value::Number),
    }
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
        assert!(!h.contains("BADNUM"));
        assert!(h.contains("SIMPLE"));
    }

    #[test]
    fn short_and_garbage_cards_do_not_panic() {
        let h = Header::from_cards(&["", "X", "KEY     =", "KEY     = '", "\u{e9}\u{e9}\u{e9}"]);
        assert!(!h.contains("KEY"));
    }
}
