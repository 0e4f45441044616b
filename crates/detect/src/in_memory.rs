//! A whole batch held in memory against a model (`evaluate`, `report`,
//! tests): its histories, starting from the model's profiles, and its
//! drift, as a streamed `score` run computes them.

use crate::drift::Drift;
use crate::features;
use crate::model::Model;
use sentinel_manifest::batch::Batch;
use sentinel_manifest::tables::Tables;
use sentinel_parties::history::{self, HistFeatures};
use sentinel_parties::keys::RowKeys;

/// The run's histories for an in-memory batch, starting from the model's profiles.
pub fn histories(model: &Model, b: &Batch) -> HistFeatures {
    let d = features::declared(b, &model.parts.text);
    let anomaly = features::anomaly(&d, &model.parts.stats);
    let keys = RowKeys::from_batch(b, &d.category, &d.hs6, &anomaly);
    history::features(&model.profiles, keys, Tables::get().n_categories())
}

/// The drift of a batch held in memory (`report`, tests): its evidence as
/// `score` computes it, counted against the model's reference.
pub fn drift(model: &Model, b: &Batch) -> Drift {
    let hist = histories(model, b);
    let ev = crate::pipeline::evidence(&model.parts, b, &hist);
    model
        .parts
        .drift
        .count(b, &ev.declared, &ev.frame)
        .drift(&model.parts.drift)
}
