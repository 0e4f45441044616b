//! Errors and exit codes. Input and usage problems (a refused file, a bad
//! flag value, a missing or corrupt model) exit 2; anything else exits 1;
//! a run that succeeded but rejected rows exits 3.
//!
//! Each layer names what it refuses in an enum of its own, with the exit
//! code: [`InputError`] here (files, headers, mappings, outputs, flags),
//! `StoreError` of the party store, `ModelError` of the models,
//! `ScoredError` of a scored file and `ReviewError` of the review database
//! and desk. Tests match on the kind; the message is the text people read.

/// Exit code of a successful run.
pub const EXIT_OK: u8 = 0;
/// Exit code of any failure that is not the user's input.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a usage error or unreadable/refused input.
pub const EXIT_INPUT: u8 = 2;
/// Exit code of a successful run that rejected some rows.
pub const EXIT_REJECTS: u8 = 3;

/// The user's input or invocation cannot be used: exit 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// An input file cannot be opened or read, or is not of its format.
    #[error("{0}")]
    Unreadable(String),
    /// A header the contract cannot use: an empty file, a column twice, a
    /// core column missing.
    #[error("{0}")]
    Layout(String),
    /// A mapping file that cannot be read or does not parse.
    #[error("{0}")]
    Mapping(String),
    /// An output that would overwrite an input, or whose folder is missing.
    #[error("{0}")]
    Output(String),
    /// A flag or argument value the command cannot use.
    #[error("{0}")]
    Usage(String),
}

impl InputError {
    pub fn exit_code(&self) -> u8 {
        EXIT_INPUT
    }
}
