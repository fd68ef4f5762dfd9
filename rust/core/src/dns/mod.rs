//! DNS on the operator's PowerDNS: zones and record sets through its HTTP API, and checks
//! that ask the platform's authoritative servers (never public resolvers) with hickory.

mod check;
mod powerdns;
mod records;

pub use check::Checker;
pub use powerdns::{PowerDns, Soa};
pub use records::{canonical, Kind, RecordSet};

use crate::names::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("PowerDNS unreachable: {0}")]
    Unreachable(String),
    #[error("PowerDNS refused the API key: {0}")]
    Denied(String),
    #[error("zone {0} does not exist")]
    ZoneMissing(String),
    #[error("PowerDNS rejected the change ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("{name} {kind} did not answer {expected:?} within {seconds:.1} s (last answer: {seen:?})")]
    NotPropagated { name: String, kind: String, expected: Vec<String>, seen: Vec<String>, seconds: f64 },
    #[error("DNS lookup of {name} failed: {message}")]
    Lookup { name: String, message: String },
}
