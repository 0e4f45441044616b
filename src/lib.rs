//! manifest-sentinel: ranks export filings by how likely they are relabelled
//! controlled GPUs. Data flows one way: `reader` -> features -> models ->
//! scores -> reports; `cmd` holds one thin module per subcommand.

pub mod batch;
pub mod cases;
pub mod catstats;
pub mod cmd;
pub mod desk;
pub mod domain;
pub mod drift;
pub mod entities;
pub mod error;
pub mod evaluation;
pub mod features;
pub mod generate;
pub mod hash;
pub mod history;
pub mod mapping;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod outcome;
pub mod output;
pub mod par;
pub mod parties;
pub mod pipeline;
pub mod progress;
pub mod reader;
pub mod reasons;
pub mod report;
pub mod resolve;
pub mod review;
pub mod run;
pub mod sampling;
pub mod schema;
pub mod scoring;
pub mod strcol;
pub mod tables;
pub mod teardown;
pub mod text;
pub mod training;
