//! The lowest layer: the manifest contract (`datasets/manifest-spec.md`) and
//! everything that reads it into validated [`batch::Batch`]es, with the
//! reference tables, domain values, errors and small shared utilities every
//! layer above uses. Nothing here knows of parties, models or scores.

pub mod atomic;
pub mod batch;
pub mod domain;
pub mod error;
pub mod hash;
pub mod mapping;
pub mod par;
pub mod progress;
pub mod reader;
pub mod safe_text;
pub mod schema;
pub mod strcol;
pub mod tables;
pub mod teardown;
