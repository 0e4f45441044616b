//! manifest-sentinel: ranks export filings by how likely they are relabelled
//! controlled GPUs. The layers are crates (README, "Layers"), each depending
//! only on those below it, so data flows one way: manifest (reading) ->
//! parties -> detect (features, models) -> scoring -> review (reports, the
//! desk); `generate` stands on the manifest layer alone. This crate is the
//! command line: [`cmd`] holds one thin module per subcommand. The layers'
//! modules are re-exported under their names for tests and examples.

pub mod cmd;

pub use sentinel_detect::{
    catstats, describe, drift, evaluation, features, in_memory, metrics, model, outcome, pipeline, reasons,
    run_sample, sampling, training,
};
pub use sentinel_generate as generate;
pub use sentinel_manifest::{
    atomic, batch, domain, error, hash, mapping, par, progress, reader, safe_text, schema, strcol, tables,
    teardown,
};
pub use sentinel_parties::{entities, history, keys, normalize, resolve, store};
pub use sentinel_review::{case_summary, desk, report, review};
pub use sentinel_scoring::{self as scoring, cases, scored};
