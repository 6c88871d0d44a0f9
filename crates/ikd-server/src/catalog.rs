//! The instruments a server scores, each bound to the loaded plugins once at
//! start-up; scorers for other models are made on first use and kept.

use crate::adaptive::Adaptive;
use crate::answers::ItemIndex;
use crate::errors::{Invalid, bad_request};
use ikd_core::host::{PluginHost, PluginKindName};
use ikd_core::instrument::{self, Instrument};
use ikd_core::pipeline::{Scorer, ScorerOptions, SettingsOrigin, SetupError};
use ikd_core::quote::quote;
use ikd_core::settings_files::OutsideFile;
use ikd_proto::v1::InstrumentRef;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tonic::Status;

/// One instrument version and its scorers.
pub struct Entry {
    pub instrument: Arc<Instrument>,
    /// The instrument's own model with its own settings.
    pub scorer: Arc<Scorer>,
    /// Item id → position, for answers arriving by item id.
    pub items: ItemIndex,
    /// The adaptive test and its selector, for `[delivery] mode = "adaptive"`.
    pub adaptive: Option<Arc<Adaptive>>,
    /// Other (model, settings JSON) pairs, made on demand.
    others: Mutex<HashMap<(String, String), Arc<Scorer>>>,
}

/// Every instrument the server knows.
pub struct Catalog {
    pub host: Arc<PluginHost>,
    entries: Vec<Arc<Entry>>,
}

/// Why the catalogue cannot be built; names the instrument file.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{path}: {message}")]
    Instrument { path: PathBuf, message: String },
    #[error("{0}: no instrument.toml here or in its subdirectories")]
    Empty(PathBuf),
    #[error("instrument '{id}' version {version} is configured twice ({first} and {second})")]
    Duplicate {
        id: String,
        version: String,
        first: PathBuf,
        second: PathBuf,
    },
}

impl Catalog {
    /// Loads every instrument in `sources` (files, or directories holding
    /// `<id>/instrument.toml`) and binds it to the plugins. An instrument that
    /// is invalid or lacks a plugin stops the start: a server must not come
    /// up serving less than it was told to.
    pub fn load(host: Arc<PluginHost>, sources: &[PathBuf]) -> Result<Self, CatalogError> {
        let mut entries: Vec<Arc<Entry>> = Vec::new();
        for path in sources.iter().flat_map(|s| instrument_files(s)) {
            let path = path?;
            let fail = |message: String| CatalogError::Instrument {
                path: path.clone(),
                message,
            };
            let instrument = Arc::new(instrument::load(&path).map_err(|e| fail(e.to_string()))?);
            if let Some(other) = entries.iter().find(|e| {
                e.instrument.id == instrument.id && e.instrument.version == instrument.version
            }) {
                return Err(CatalogError::Duplicate {
                    id: instrument.id.clone(),
                    version: instrument.version.to_string(),
                    first: other.instrument.source.clone(),
                    second: path.clone(),
                });
            }
            let scorer = Scorer::new(instrument.clone(), &host, &ScorerOptions::default())
                .map_err(|e| fail(e.to_string()))?;
            let adaptive = match instrument.delivery.adaptive() {
                Some(delivery) => Some(Arc::new(
                    Adaptive::bind(&instrument, delivery, &host).map_err(fail)?,
                )),
                None => None,
            };
            entries.push(Arc::new(Entry {
                items: ItemIndex::new(&instrument),
                adaptive,
                instrument,
                scorer: Arc::new(scorer),
                others: Mutex::new(HashMap::new()),
            }));
        }
        entries.sort_by(|a, b| {
            (&a.instrument.id, &a.instrument.version)
                .cmp(&(&b.instrument.id, &b.instrument.version))
        });
        Ok(Catalog { host, entries })
    }

    pub fn entries(&self) -> &[Arc<Entry>] {
        &self.entries
    }

    /// The instrument a request names: an exact version, or the newest one
    /// when the version is empty. `NOT_FOUND` names what was asked for.
    pub fn resolve(&self, reference: Option<&InstrumentRef>) -> Result<&Arc<Entry>, Status> {
        let reference = reference
            .filter(|r| !r.id.is_empty())
            .ok_or_else(|| Status::invalid_argument("instrument.id is required"))?;
        self.find(&reference.id, &reference.version)
    }

    /// Like [`resolve`](Self::resolve), by id and version strings.
    pub fn find(&self, id: &str, version: &str) -> Result<&Arc<Entry>, Status> {
        let mut candidates = self.entries.iter().filter(|e| e.instrument.id == id);
        let found = if version.is_empty() {
            candidates.next_back()
        } else {
            let wanted = semver::Version::parse(version).map_err(|e| {
                Status::invalid_argument(format!("instrument.version {}: {e}", quote(version)))
            })?;
            candidates.find(|e| e.instrument.version == wanted)
        };
        found.ok_or_else(|| {
            Status::not_found(if version.is_empty() {
                format!("no instrument {}", quote(id))
            } else {
                format!("no instrument {} version {}", quote(id), quote(version))
            })
        })
    }
}

/// Why no scorer can be made for a model and settings a request names. Each becomes a
/// status; the audit log records its [`category`](Self::category) instead of its text.
#[derive(Debug, thiserror::Error)]
pub enum ScorerError {
    /// The request's `settings_json` is not JSON.
    #[error("settings_json is not valid JSON: {0}")]
    SettingsNotJson(serde_json::Error),
    /// A setting names a file outside the instrument's directory: refused before any
    /// plugin sees the settings.
    #[error(transparent)]
    SettingOutside(OutsideFile),
    /// No loaded scoring model has that name: the request's mistake.
    #[error("no scoring model {} is loaded (loaded: {})", quote(.model), .loaded.join(", "))]
    UnknownModel { model: String, loaded: Vec<String> },
    /// The model cannot score the instrument with these settings (its own message,
    /// with server paths taken out).
    #[error("model {} cannot score instrument '{instrument}': {reason}", quote(.model))]
    Refused {
        model: String,
        instrument: String,
        reason: String,
    },
}

impl ScorerError {
    /// A stable code for the audit log.
    pub fn category(&self) -> &'static str {
        match self {
            ScorerError::SettingsNotJson(_) => "settings_not_json",
            ScorerError::SettingOutside(_) => "setting_outside_instrument_dir",
            ScorerError::UnknownModel { .. } => "unknown_model",
            ScorerError::Refused { .. } => "model_refused",
        }
    }

    /// The request field at fault, when there is one (`settings_json.params`).
    pub fn field(&self) -> Option<String> {
        match self {
            ScorerError::SettingsNotJson(_) => Some("settings_json".to_owned()),
            ScorerError::SettingOutside(e) => Some(settings_field(&e.setting)),
            ScorerError::UnknownModel { .. } => Some("model".to_owned()),
            ScorerError::Refused { .. } => None,
        }
    }
}

impl From<ScorerError> for Status {
    fn from(err: ScorerError) -> Status {
        match &err {
            ScorerError::SettingsNotJson(_) => Status::invalid_argument(err.to_string()),
            ScorerError::SettingOutside(outside) => bad_request(
                "invalid settings_json",
                &[Invalid {
                    field: settings_field(&outside.setting),
                    description: format!(
                        "{}; settings may only name files inside the instrument's \
                         directory, by a relative name",
                        outside.reason
                    ),
                }],
            ),
            ScorerError::UnknownModel { .. } => bad_request(
                "unknown scoring model",
                &[Invalid {
                    field: "model".to_owned(),
                    description: err.to_string(),
                }],
            ),
            ScorerError::Refused { .. } => Status::failed_precondition(err.to_string()),
        }
    }
}

/// The request field of a setting: `settings_json.params` (`settings_json` for the
/// settings as a whole).
fn settings_field(setting: &str) -> String {
    if setting.is_empty() || setting.starts_with('(') {
        "settings_json".to_owned()
    } else {
        format!("settings_json.{setting}")
    }
}

impl Entry {
    /// The scorer for `model` (empty: the instrument's own) with `settings`
    /// (JSON from a request; empty: the instrument's settings for its own model, none for
    /// another). Settings naming a file outside the instrument's directory are
    /// `INVALID_ARGUMENT`, and so is a model no plugin provides (naming `model`); a model
    /// that refuses the instrument is `FAILED_PRECONDITION`.
    pub fn scorer_for(
        &self,
        host: &PluginHost,
        model: &str,
        settings: &str,
    ) -> Result<Arc<Scorer>, ScorerError> {
        if (model.is_empty() || model == self.instrument.scoring.model) && settings.is_empty() {
            return Ok(self.scorer.clone());
        }
        let key = (model.to_owned(), settings.to_owned());
        let mut others = self.others.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(scorer) = others.get(&key) {
            return Ok(scorer.clone());
        }
        let model_settings = if settings.is_empty() {
            None
        } else {
            Some(serde_json::from_str(settings).map_err(ScorerError::SettingsNotJson)?)
        };
        let options = ScorerOptions {
            model: (!model.is_empty()).then(|| model.to_owned()),
            model_settings,
            // A client's settings: files only from the instrument's directory.
            settings_origin: SettingsOrigin::Request,
        };
        let loaded = scoring_models(host);
        if !model.is_empty() && !loaded.iter().any(|m| m == model) {
            return Err(ScorerError::UnknownModel {
                model: model.to_owned(),
                loaded,
            });
        }
        let scorer = Scorer::new(self.instrument.clone(), host, &options).map_err(|e| match e {
            SetupError::SettingOutside(outside) => ScorerError::SettingOutside(outside),
            other => {
                let instrument = format!("{} {}", self.instrument.id, self.instrument.version);
                tracing::warn!(%instrument, model, "a scoring model refused: {other}");
                ScorerError::Refused {
                    model: if model.is_empty() {
                        self.instrument.scoring.model.clone()
                    } else {
                        model.to_owned()
                    },
                    instrument,
                    reason: self.without_paths(&other),
                }
            }
        })?;
        let scorer = Arc::new(scorer);
        others.insert(key, scorer.clone());
        Ok(scorer)
    }
}

/// `path` itself when it is a file; otherwise every `instrument.toml` one or
/// two levels below it.
fn instrument_files(path: &Path) -> Vec<Result<PathBuf, CatalogError>> {
    if path.is_file() {
        return vec![Ok(path.to_owned())];
    }
    let mut found = Vec::new();
    if path.join("instrument.toml").is_file() {
        found.push(path.join("instrument.toml"));
    }
    if let Ok(dir) = std::fs::read_dir(path) {
        let mut subdirs: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
        subdirs.sort();
        found.extend(
            subdirs
                .into_iter()
                .map(|d| d.join("instrument.toml"))
                .filter(|f| f.is_file()),
        );
    }
    if found.is_empty() {
        return vec![Err(CatalogError::Empty(path.to_owned()))];
    }
    found.into_iter().map(Ok).collect()
}

impl Entry {
    /// What a client may read of why a model refused: the model's own message with the
    /// instrument's directory shown as `<instrument dir>`; for anything else, only that
    /// the server's log has the details (instrument errors name server files).
    fn without_paths(&self, err: &SetupError) -> String {
        let SetupError::Model { reason, .. } = err else {
            return "the model could not be set up (details in the server's log)".to_owned();
        };
        let mut reason = reason.clone();
        if let Some(dir) = self.instrument.source.parent() {
            let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
            for dir in [canonical.as_path(), dir] {
                let dir = dir.to_string_lossy();
                if !dir.is_empty() {
                    reason = reason.replace(&*dir, "<instrument dir>");
                }
            }
        }
        reason
    }
}

/// The names of the loaded scoring-model plugins.
fn scoring_models(host: &PluginHost) -> Vec<String> {
    host.loaded()
        .filter(|p| p.manifest.kind == PluginKindName::ScoringModel)
        .map(|p| p.name().to_owned())
        .collect()
}
