//! The languages results and reports are shown in.
//!
//! Invariant: every text an instrument or a plugin gives (names, options,
//! feedback) carries exactly Bahasa Indonesia and English ([`Text`]), and
//! this enum is the only place a language code is read. A third language
//! means a new variant here and a new field in `Text` and in the plugin
//! contract's `Text`, which is why the set is closed rather than keyed by
//! any string.
//!
//! [`Text`]: crate::instrument::Text

use crate::quote::quote;

/// A language of the platform's texts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Lang {
    /// Bahasa Indonesia, the default: every text has it.
    #[default]
    Id,
    /// English; a text without it falls back to Bahasa Indonesia.
    En,
}

impl Lang {
    /// Both languages, the default first.
    pub const ALL: [Lang; 2] = [Lang::Id, Lang::En];

    /// The ISO 639-1 code (`id`, `en`), as in `<html lang>` and the API.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// The text in this language of one given in both, falling back to
    /// Bahasa Indonesia when the English is empty.
    pub fn pick<'a>(self, id: &'a str, en: &'a str) -> &'a str {
        if self == Lang::En && !en.is_empty() {
            en
        } else {
            id
        }
    }

    /// The language an API request asks for: empty means the default.
    pub fn requested(code: &str) -> Result<Lang, UnknownLang> {
        if code.is_empty() {
            Ok(Lang::default())
        } else {
            code.parse()
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A language code that is neither `id` nor `en`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("language {}: use 'id' or 'en'", quote(.0))]
pub struct UnknownLang(pub String);

impl std::str::FromStr for Lang {
    type Err = UnknownLang;
    fn from_str(s: &str) -> Result<Lang, UnknownLang> {
        match s {
            "id" => Ok(Lang::Id),
            "en" => Ok(Lang::En),
            other => Err(UnknownLang(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_anything_else_is_named_in_the_error() {
        for lang in Lang::ALL {
            assert_eq!(lang.code().parse::<Lang>(), Ok(lang));
        }
        assert_eq!(Lang::requested(""), Ok(Lang::Id));
        let err = "EN".parse::<Lang>().unwrap_err();
        assert_eq!(err.to_string(), "language 'EN': use 'id' or 'en'");
        assert!(Lang::requested("fr").is_err());
    }
}
