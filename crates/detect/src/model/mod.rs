//! Models and their artifact: a directory holding everything needed to score
//! on its own (models, feature list and version, the reference tables used,
//! party profiles, training metrics, a fingerprint of the training data, the
//! tool version and command line), with checksums checked on load.

pub mod embedded;
pub mod gbm;
pub mod iforest;
pub mod labelfree;
pub mod likely;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use bincode::Options;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catstats::CatStats;
use crate::features::{
    ExtraEncoders, FeatureDef, FEATURES, FEATURE_SET_VERSION, LIKELY_FEATURES, OUTCOME_FEATURES,
};
use crate::outcome::OutcomeRates;
use sentinel_manifest::mapping::Mapping;
use sentinel_manifest::tables;
use sentinel_parties::history::Profiles;

/// Version of the artifact layout; another version is refused with a message.
pub const FORMAT_VERSION: u32 = 5;
/// Largest model file read (a corrupt length never allocates more).
const MAX_FILE: u64 = 512 << 20;

/// The models and learned tables, stored in `model.bin`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Parts {
    /// What descriptions point to.
    pub text: crate::describe::TextModel,
    pub likely: likely::LikelyModel,
    /// The supervised risk model, when the training data had labels.
    pub risk: Option<gbm::Forest>,
    pub labelfree: labelfree::LabelFree,
    pub stats: CatStats,
    pub extras: ExtraEncoders,
    /// Outcome tallies, when the risk model was trained with labels.
    pub outcomes: Option<OutcomeRates>,
    /// Names of the risk model's input columns, in order.
    pub risk_inputs: Vec<String>,
    /// The column mapping the model was trained with, if any.
    pub mapping: Option<Mapping>,
    /// What the training data looked like, for the drift guard.
    pub drift: crate::drift::Reference,
}

/// A feature as listed in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeatureInfo {
    pub name: String,
    pub meaning: String,
}

/// What loading or saving a model refuses: exit 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// No model where one was named.
    #[error("{0}")]
    Missing(String),
    /// A model file that cannot be read.
    #[error("{0}")]
    Unreadable(String),
    /// A model of another format or feature set, damaged, or made with other
    /// tables.
    #[error("{0}")]
    Corrupt(String),
    /// A model would be written over another without --force.
    #[error("{0}")]
    Exists(String),
}

impl ModelError {
    pub fn exit_code(&self) -> u8 {
        sentinel_manifest::error::EXIT_INPUT
    }
}

/// One training input.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainingFile {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
}

impl TrainingFile {
    /// The file at `path`, read through once for its digest and size.
    pub fn digest(path: &str) -> Result<TrainingFile> {
        use std::io::Read;
        let mut f = std::fs::File::open(path).with_context(|| format!("cannot open {path}"))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut bytes = 0u64;
        loop {
            let k = f.read(&mut buf)?;
            if k == 0 {
                break;
            }
            bytes += k as u64;
            h.update(&buf[..k]);
        }
        let sha256 = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(TrainingFile {
            name: path.to_string(),
            sha256,
            bytes,
        })
    }
}

/// `manifest.json`: what the model is and how it was made.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format_version: u32,
    pub feature_set_version: u32,
    pub model_id: String,
    pub tool_version: String,
    pub created_unix: u64,
    pub command_line: Vec<String>,
    /// `supervised` (risk = gradient boosting) or `label-free`.
    pub mode: String,
    pub seed: u64,
    pub training_rows: u64,
    pub training_positives: u64,
    pub reviewed_rows: u64,
    pub training_files: Vec<TrainingFile>,
    /// sha256 over the training files' digests and row count.
    pub training_fingerprint: String,
    pub features: Vec<FeatureInfo>,
    pub metrics: serde_json::Value,
    /// sha256 of every other file of the artifact.
    pub files: BTreeMap<String, String>,
    /// How the training rows were sampled (absent in models made before
    /// `train --negatives`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<crate::sampling::Sampling>,
}

/// A loaded model.
#[derive(Debug, Clone)]
pub struct Model {
    pub manifest: Manifest,
    pub parts: Parts,
    pub profiles: Profiles,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn codec() -> impl Options {
    bincode::DefaultOptions::new().with_limit(MAX_FILE)
}

/// Every feature the artifact documents (base, likely, extras).
pub fn feature_infos(parts: &Parts) -> Vec<FeatureInfo> {
    let defs: Vec<&FeatureDef> = FEATURES
        .iter()
        .chain(LIKELY_FEATURES)
        .chain(OUTCOME_FEATURES)
        .collect();
    parts
        .risk_inputs
        .iter()
        .map(|n| FeatureInfo {
            name: n.clone(),
            meaning: defs
                .iter()
                .find(|d| d.name == n)
                .map(|d| d.meaning.to_string())
                .unwrap_or_else(|| extra_meaning(n)),
        })
        .collect()
}

/// What a feature made from a column of the mapping's `[features]` means.
fn extra_meaning(name: &str) -> String {
    if name.ends_with("_outcome_rate") {
        "share of inspected training lines with this value of the mapping's column found fraudulent, smoothed toward the base rate".into()
    } else if name.ends_with("_share") {
        "share of the training rows with this value of the mapping's column".into()
    } else if name.contains('=') {
        "1 when the mapping's column has this value (one of its common values)".into()
    } else {
        "a numeric column of the mapping's [features], used as it is".into()
    }
}

impl Model {
    /// Writes the artifact into `dir` (created; must be empty unless `force`).
    pub fn save(&mut self, dir: &Path, force: bool) -> Result<()> {
        if dir.exists() {
            let non_empty = std::fs::read_dir(dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true);
            if non_empty && !force {
                return Err(ModelError::Exists(format!(
                    "{}: exists and is not empty; pass --force to replace the model in it",
                    dir.display()
                ))
                .into());
            }
        }
        std::fs::create_dir_all(dir.join("tables"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut files = BTreeMap::new();
        let mut write = |name: &str, bytes: &[u8]| -> Result<()> {
            std::fs::write(dir.join(name), bytes)
                .with_context(|| format!("cannot write {}", dir.join(name).display()))?;
            files.insert(name.to_string(), sha256_hex(bytes));
            Ok(())
        };
        let model_bin = codec().serialize(&self.parts)?;
        write("model.bin", &model_bin)?;
        write("profiles.bin", &codec().serialize(&self.profiles)?)?;
        for (name, text) in tables::EMBEDDED {
            write(&format!("tables/{name}"), text.as_bytes())?;
        }
        self.manifest.model_id = format!("sentinel-{}", &sha256_hex(&model_bin)[..12]);
        self.manifest.files = files;
        let json = serde_json::to_string_pretty(&self.manifest)?;
        std::fs::write(dir.join("manifest.json"), json)
            .with_context(|| format!("cannot write {}", dir.join("manifest.json").display()))?;
        Ok(())
    }

    /// Loads and checks an artifact directory.
    pub fn load(dir: &Path) -> Result<Model> {
        let shown = dir.display().to_string();
        if !dir.is_dir() {
            return Err(ModelError::Missing(format!("{shown}: no such model directory")).into());
        }
        let read = |name: &str| -> Result<Vec<u8>, ModelError> {
            let p = dir.join(name);
            let meta = std::fs::metadata(&p).map_err(|e| {
                ModelError::Unreadable(format!("{shown}: model file {name} cannot be read: {e}"))
            })?;
            if meta.len() > MAX_FILE {
                return Err(ModelError::Corrupt(format!(
                    "{shown}: model file {name} is {} bytes, more than any model holds",
                    meta.len()
                )));
            }
            std::fs::read(&p).map_err(|e| {
                ModelError::Unreadable(format!("{shown}: model file {name} cannot be read: {e}"))
            })
        };
        let manifest_bytes = read("manifest.json")?;
        Model::from_files(&shown, &manifest_bytes, &mut |name| read(name))
    }

    /// Builds a model from its files, checking versions and checksums.
    pub fn from_files(
        shown: &str,
        manifest_bytes: &[u8],
        read: &mut dyn FnMut(&str) -> Result<Vec<u8>, ModelError>,
    ) -> Result<Model> {
        let bad = |m: String| -> anyhow::Error { ModelError::Corrupt(format!("{shown}: {m}")).into() };
        let value: serde_json::Value = serde_json::from_slice(manifest_bytes).map_err(|e| {
            bad(format!(
                "manifest.json is not valid JSON ({e}); the model is corrupt"
            ))
        })?;
        let format = value.get("format_version").and_then(|v| v.as_u64());
        match format {
            Some(v) if v == FORMAT_VERSION as u64 => {}
            Some(v) if v > FORMAT_VERSION as u64 => return Err(bad(format!("the model has artifact format {v}, newer than the format {FORMAT_VERSION} this sentinel reads; use a newer sentinel or retrain"))),
            Some(v) => return Err(bad(format!("the model has artifact format {v}, older than the format {FORMAT_VERSION} this sentinel reads; retrain it"))),
            None => return Err(bad("manifest.json has no format_version; not a sentinel model".into())),
        }
        let manifest: Manifest = serde_json::from_value(value)
            .map_err(|e| bad(format!("manifest.json does not describe a model ({e})")))?;
        if manifest.feature_set_version != FEATURE_SET_VERSION {
            return Err(bad(format!(
                "the model was trained on feature set {}, this sentinel computes feature set {FEATURE_SET_VERSION}; retrain it",
                manifest.feature_set_version
            )));
        }
        for required in ["model.bin", "profiles.bin"] {
            if !manifest.files.contains_key(required) {
                return Err(bad(format!("manifest.json lists no {required}")));
            }
        }
        let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (name, sum) in &manifest.files {
            let bytes = read(name)?;
            let got = sha256_hex(&bytes);
            if &got != sum {
                return Err(bad(format!(
                    "{name} has checksum {got}, the manifest says {sum}: the file was changed or damaged"
                )));
            }
            contents.insert(name.clone(), bytes);
        }
        let parts: Parts = codec()
            .deserialize(&contents["model.bin"])
            .map_err(|e| bad(format!("model.bin cannot be decoded ({e})")))?;
        let profiles: Profiles = codec()
            .deserialize(&contents["profiles.bin"])
            .map_err(|e| bad(format!("profiles.bin cannot be decoded ({e})")))?;
        for (name, text) in tables::EMBEDDED {
            if let Some(stored) = contents.get(&format!("tables/{name}")) {
                if stored.as_slice() != text.as_bytes() {
                    return Err(bad(format!("the model was trained with another datasets/{name} than this sentinel embeds; retrain it")));
                }
            }
        }
        if let Some(forest) = &parts.risk {
            if forest.n_features != parts.risk_inputs.len() {
                return Err(bad(format!(
                    "model.bin: the risk model reads {} inputs but names {}",
                    forest.n_features,
                    parts.risk_inputs.len()
                )));
            }
            forest.check().map_err(|m| bad(format!("model.bin: {m}")))?;
        }
        let n_cat = tables::Tables::get().n_categories();
        if parts.likely.n_categories != n_cat {
            return Err(bad(format!(
                "the model knows {} categories, this sentinel {n_cat}",
                parts.likely.n_categories
            )));
        }
        Ok(Model {
            manifest,
            parts,
            profiles,
        })
    }

    pub fn id(&self) -> &str {
        &self.manifest.model_id
    }

    pub fn supervised(&self) -> bool {
        self.parts.risk.is_some()
    }
}
