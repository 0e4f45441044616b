//! manifest-sentinel: ranks export filings by how likely they are relabelled
//! controlled GPUs. Data flows one way: `reader` -> features -> models ->
//! scores -> reports; `cmd` holds one thin module per subcommand.

pub mod cmd;
pub mod domain;
pub mod error;
pub mod generate;
pub mod mapping;
pub mod metrics;
pub mod normalize;
pub mod output;
pub mod progress;
pub mod reader;
pub mod schema;
pub mod strcol;
pub mod tables;
