//! Review, the top library layer: what analysts read and decide from a
//! scored file: the report ([`report`]), the case summaries
//! ([`case_summary`]), the review database ([`review`]) and the local
//! review desk ([`desk`]).

pub mod case_summary;
pub mod desk;
pub mod report;
pub mod review;
