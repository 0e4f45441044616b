//! Errors and exit codes. Input and usage problems (a refused file, a bad
//! flag value, a missing or corrupt model) exit 2; anything else exits 1;
//! a run that succeeded but rejected rows exits 3.

use std::fmt;

/// Exit code of a successful run.
pub const EXIT_OK: u8 = 0;
/// Exit code of any failure that is not the user's input.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a usage error or unreadable/refused input.
pub const EXIT_INPUT: u8 = 2;
/// Exit code of a successful run that rejected some rows.
pub const EXIT_REJECTS: u8 = 3;

/// The user's input or invocation cannot be used: exit 2.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub message: String,
}

impl InputError {
    pub fn new(message: impl Into<String>) -> InputError {
        InputError {
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

/// Exit code for an error that ended a run.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.chain().any(|e| e.downcast_ref::<InputError>().is_some()) {
        EXIT_INPUT
    } else {
        EXIT_FAILURE
    }
}
