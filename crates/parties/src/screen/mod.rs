//! Restricted-party screening (issue #29): the parties of a batch against
//! lists in the Consolidated Screening List's published CSV layout
//! ([`list`]), by name tokens ([`tokens`]) blocked on rare tokens and a
//! phonetic key and scored per token ([`matcher`], with [`similarity`]);
//! the parties a filing names, each screened once a run ([`filed`]).

pub mod filed;
pub mod list;
pub mod matcher;
pub mod similarity;
pub mod tokens;
