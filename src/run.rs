//! Helpers shared by the commands that read a whole run: histories of a
//! batch that starts from a model's profiles.

use crate::batch::Batch;
use crate::features;
use crate::history::{self, HistFeatures, RowKeys};
use crate::model::Model;
use crate::tables::Tables;

/// The run's histories for an in-memory batch, starting from the model's profiles.
pub fn histories(model: &Model, b: &Batch) -> HistFeatures {
    let d = features::declared(b, &model.parts.text);
    let anomaly = features::anomaly(&d, &model.parts.stats);
    let keys = RowKeys::from_batch(b, &d, &anomaly);
    history::features(&model.profiles, keys, Tables::get().n_categories())
}
