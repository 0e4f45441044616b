//! Parties, above the manifest layer: names and addresses normalised
//! ([`normalize`]), each row's party keys ([`keys`]), spellings resolved to
//! companies by spelling for cases ([`resolve`]) and point in time for
//! histories ([`entities`]), what each party filed before a row
//! ([`history`]) and, for a large run, on disk ([`spilled`]), and the
//! histories kept between runs ([`store`]).

pub mod entities;
pub mod history;
pub mod keys;
pub mod normalize;
pub mod resolve;
pub mod screen;
pub mod spilled;
pub mod store;
