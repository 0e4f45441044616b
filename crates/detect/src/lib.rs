//! Detection, above the manifest and party layers: what each line declares
//! and what its description points to ([`describe`]), the features
//! ([`features`], with the batch's own statistics in [`catstats`] and known
//! outcomes in [`outcome`]), the models ([`model`]), the one path from rows
//! to scores ([`pipeline`]), the reasons for a score ([`reasons`]), the
//! drift guard ([`drift`]), restricted-party evidence ([`listed`]), and training and evaluation ([`training`],
//! [`sampling`], [`evaluation`], [`metrics`]).

pub mod cached;
pub mod catstats;
pub mod codes;
pub mod describe;
pub mod drift;
pub mod evaluation;
pub mod features;
pub mod in_memory;
pub mod listed;
pub mod metrics;
pub mod model;
pub mod outcome;
pub mod pipeline;
pub mod reasons;
pub mod run_sample;
pub mod sampling;
pub mod training;

#[cfg(test)]
mod test_lines;
