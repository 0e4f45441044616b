//! The default model, embedded in the binary at build time from
//! `models/default/`, so `score` works from any directory without
//! `--model`. Retrain it with the command in `models/README.md` and rebuild.

use anyhow::Result;

use super::Model;
use super::ModelError;

macro_rules! files {
    ($($name:literal),* $(,)?) => {
        const FILES: &[(&str, &[u8])] = &[$(($name, include_bytes!(concat!("../../../../models/default/", $name))),)*];
    };
}

files!(
    "manifest.json",
    "model.bin",
    "profiles.bin",
    "tables/categories.csv",
    "tables/hs_codes.csv",
    "tables/lexicon.csv",
    "tables/brands.csv",
    "tables/countries.csv",
    "tables/catalogue.csv",
    "tables/world.toml",
    "tables/party_words.csv",
    "tables/hs_nomenclature.csv",
    "tables/variant_words.csv",
    "tables/variant_hs.csv",
    "tables/legal_forms.csv",
);

/// What the embedded model is called in messages and `--model` defaults.
pub const NAME: &str = "embedded default model";

/// Loads the embedded default model.
pub fn load() -> Result<Model> {
    let manifest = FILES
        .iter()
        .find(|f| f.0 == "manifest.json")
        .map(|f| f.1)
        .unwrap_or_default();
    Model::from_files(NAME, manifest, &mut |name| {
        FILES
            .iter()
            .find(|f| f.0 == name)
            .map(|f| f.1.to_vec())
            .ok_or_else(|| ModelError::Missing(format!("{NAME}: file {name} is not embedded")))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_model_loads() {
        let m = super::load().expect("embedded default model loads");
        assert!(m.supervised());
        assert!(m.id().starts_with("sentinel-"));
    }

    #[test]
    fn a_model_whose_risk_trees_are_broken_is_refused_even_with_good_checksums() {
        let mut m = super::load().unwrap();
        let forest = m.parts.risk.as_mut().unwrap();
        // A node that is its own child: a walk would never end.
        let k = forest.trees[3].iter().position(|n| !n.leaf).unwrap();
        forest.trees[3][k].right = k as u32;
        let dir = tempfile::tempdir().unwrap();
        m.save(dir.path(), true).unwrap();
        let err = crate::model::Model::load(dir.path()).unwrap_err();
        let kind = err.downcast_ref::<crate::model::ModelError>();
        assert!(
            matches!(kind, Some(crate::model::ModelError::Corrupt(_))),
            "{err:#}"
        );
        let err = format!("{err:#}");
        assert!(err.contains("model.bin: risk tree 3 node"), "{err}");
    }
}
