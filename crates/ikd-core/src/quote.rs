//! User input quoted in error messages, cut short. A value echoed whole lets
//! a megabyte cell, header or request field become a megabyte error (on
//! stderr, in logs, in a gRPC trailer that clients refuse), and a control
//! character in it can rewrite a terminal line. Every message that repeats
//! what a user gave goes through [`quote`] (or [`cut`] for fixed-size fields).

use std::fmt;

/// Characters of a value shown before it is cut.
pub const QUOTED_CHARS: usize = 80;

/// `value` in single quotes, control characters escaped, cut after
/// [`QUOTED_CHARS`] characters with its full size: `'abc…' (2097152 bytes)`.
pub fn quote(value: &str) -> Quoted<'_> {
    Quoted {
        value,
        max_chars: QUOTED_CHARS,
    }
}

/// A value as [`quote`] shows it, written only when formatted.
#[derive(Clone, Copy, Debug)]
pub struct Quoted<'a> {
    value: &'a str,
    max_chars: usize,
}

impl Quoted<'_> {
    /// The same value cut after `max_chars` characters instead.
    pub fn max_chars(self, max_chars: usize) -> Self {
        Quoted { max_chars, ..self }
    }
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("'")?;
        let mut chars = self.value.chars();
        for c in chars.by_ref().take(self.max_chars) {
            write_escaped(f, c)?;
        }
        if chars.next().is_some() {
            write!(f, "…' ({} bytes)", self.value.len())
        } else {
            f.write_str("'")
        }
    }
}

/// A control character as `\0`, `\n` or `\u{1b}`; anything else as itself.
fn write_escaped(f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
    match c {
        '\0' => f.write_str("\\0"),
        c if c.is_control() => write!(f, "{}", c.escape_default()),
        c => write!(f, "{c}"),
    }
}

/// The first control character of `value`, if any, as [`quote`] shows it
/// (e.g. `\0`), for messages that refuse it.
pub fn first_control(value: &str) -> Option<String> {
    value
        .chars()
        .find(|c| c.is_control())
        .map(|c| Escaped(c).to_string())
}

struct Escaped(char);

impl fmt::Display for Escaped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0)
    }
}

/// `text` cut to at most `max_bytes` bytes on a character boundary, with
/// `…` (counted in the bytes) when it was cut: for fields that go out
/// whole, such as a gRPC violation's field and description.
pub fn cut(text: &str, max_bytes: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max_bytes {
        return text.into();
    }
    let mut end = max_bytes.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end]).into()
}

/// `n` with thousands separators (`99,980`), for messages that count what
/// they leave out.
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, d) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(quote("r1").to_string(), "'r1'");
        assert_eq!(quote("").to_string(), "''");
        assert_eq!(
            quote(&"x".repeat(80)).to_string(),
            format!("'{}'", "x".repeat(80))
        );
    }

    #[test]
    fn long_values_are_cut_with_their_size() {
        let shown = quote(&"é".repeat(1_000_000)).to_string();
        assert_eq!(shown, format!("'{}…' (2000000 bytes)", "é".repeat(80)));
        assert_eq!(quote("abcdef").max_chars(3).to_string(), "'abc…' (6 bytes)");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            quote("a\0b\u{1b}[31m\n").to_string(),
            "'a\\0b\\u{1b}[31m\\n'"
        );
        assert_eq!(first_control("r\u{1b}2").as_deref(), Some("\\u{1b}"));
        assert_eq!(first_control("r\u{0}2").as_deref(), Some("\\0"));
        assert_eq!(first_control("plain"), None);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(99_980), "99,980");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }

    #[test]
    fn cut_keeps_within_the_byte_limit_on_a_character_boundary() {
        assert_eq!(cut("short", 10), "short");
        let long = "é".repeat(100);
        let c = cut(&long, 11);
        assert!(c.len() <= 11 && c.ends_with('…'), "{c}");
        assert_eq!(c, "éééé…");
    }
}
