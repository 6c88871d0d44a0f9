//! Item selectors: choose the next item of an adaptive test.
//!
//! The host does content balancing (which domain, which items are
//! admissible) and the stopping rule; a selector only ranks the admissible
//! items. It receives the item bank once, when the instance is created, so
//! that each decision carries only the test's state.

use crate::proto::{PluginError, SelectRequest, SelectorConfig};

/// A selector plugin (e.g. maximum Fisher information).
///
/// One instance serves one item bank: [`SelectorPlugin::new`] receives the
/// bank's items with their IRT parameters and the test's settings, checks
/// them once, and then answers any number of [`SelectorPlugin::select`]
/// calls, possibly from several threads at once.
pub trait SelectorPlugin: Send + Sync + Sized + 'static {
    /// The selector name instruments and `--selector-plugin` refer to.
    const NAME: &'static str;
    /// One line describing the selection rule.
    const DESCRIPTION: &'static str;

    /// Prepares the selector for one bank; report bad items or settings with
    /// the field at fault.
    fn new(config: &SelectorConfig) -> Result<Self, PluginError>;

    /// The bank index of the next item: one of `request.candidates`. The
    /// host checks the reply; draw any randomness from `request.seed` so the
    /// same seed gives the same decision.
    fn select(&self, request: &SelectRequest) -> Result<u32, PluginError>;
}

impl SelectorConfig {
    /// The settings (`settings_json`) read as `T`; empty text reads as `{}`.
    /// A problem is reported under the field `settings`.
    pub fn settings<T: serde::de::DeserializeOwned>(&self) -> Result<T, PluginError> {
        let text = if self.settings_json.trim().is_empty() {
            "{}"
        } else {
            &self.settings_json
        };
        serde_json::from_str(text).map_err(|e| {
            PluginError::invalid(
                "invalid selector settings",
                vec![crate::Violation {
                    item: String::new(),
                    field: "settings".into(),
                    message: e.to_string(),
                    respondent: -1,
                }],
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Knobs {
        #[serde(default)]
        randomesque: usize,
    }

    #[test]
    fn settings_default_to_an_empty_object_and_name_the_field_when_wrong() {
        let config = |json: &str| SelectorConfig {
            items: Vec::new(),
            settings_json: json.into(),
        };
        let knobs: Knobs = config("").settings().expect("empty is {}");
        assert_eq!(knobs, Knobs { randomesque: 0 });
        let knobs: Knobs = config(r#"{"randomesque": 3}"#).settings().expect("valid");
        assert_eq!(knobs.randomesque, 3);
        let err = config("[").settings::<Knobs>().expect_err("not JSON");
        assert_eq!(err.violations[0].field, "settings");
    }
    /// The last candidate; panics when θ is NaN.
    struct Last;

    impl SelectorPlugin for Last {
        const NAME: &'static str = "last";
        const DESCRIPTION: &'static str = "the last candidate";
        fn new(_config: &SelectorConfig) -> Result<Self, PluginError> {
            Ok(Last)
        }
        fn select(&self, request: &SelectRequest) -> Result<u32, PluginError> {
            assert!(!request.theta.is_nan(), "θ is NaN");
            request
                .candidates
                .last()
                .copied()
                .ok_or_else(|| PluginError::msg("no candidates"))
        }
    }

    /// Calls `method` of a fresh instance through the exported vtable: (status, response bytes).
    fn call(method: u32, request: &[u8]) -> (i32, Vec<u8>) {
        use crate::abi::{ByteView, OwnedBuf};
        use prost::Message;
        let table = crate::export::selector_vtable::<Last>("0.1.0");
        let config = SelectorConfig::default().encode_to_vec();
        let (mut instance, mut out) = (std::ptr::null_mut(), OwnedBuf::EMPTY);
        let free = |buf: OwnedBuf| unsafe { table.free_buf.unwrap()(buf) };
        // SAFETY: the vtable's own functions, with valid pointers and views.
        unsafe {
            let create = table.create.unwrap();
            let status = create(
                std::ptr::null(),
                ByteView::new(&config),
                &mut instance,
                &mut out,
            );
            assert_eq!(status, crate::abi::status::OK);
            free(std::mem::replace(&mut out, OwnedBuf::EMPTY));
            let status = table.invoke.unwrap()(instance, method, ByteView::new(request), &mut out);
            let bytes = std::slice::from_raw_parts(out.ptr, out.len).to_vec();
            free(out);
            table.destroy.unwrap()(instance);
            (status, bytes)
        }
    }

    #[test]
    fn the_exported_selector_answers_and_contains_panics_and_bad_requests() {
        use crate::abi::{method, status};
        use crate::proto::SelectResponse;
        use prost::Message;
        let request = |theta: f64| {
            SelectRequest {
                candidates: vec![2, 5, 9],
                theta,
                ..Default::default()
            }
            .encode_to_vec()
        };
        let (code, bytes) = call(method::SELECTOR_SELECT, &request(0.3));
        assert_eq!(code, status::OK);
        assert_eq!(SelectResponse::decode(&bytes[..]).unwrap().item, 9);

        let (code, bytes) = call(method::SELECTOR_SELECT, &request(f64::NAN));
        assert_eq!(code, status::PANIC);
        assert!(
            PluginError::decode(&bytes[..])
                .unwrap()
                .message
                .contains("θ is NaN")
        );

        let (code, _) = call(method::SELECTOR_SELECT, &[0xff, 0xff]);
        assert_eq!(code, status::BAD_REQUEST);
        let (code, _) = call(method::MODEL_SCORE, &request(0.3));
        assert_eq!(code, status::UNKNOWN_METHOD);
    }
}
