//! The one place where core errors become Python exceptions. The exception classes are
//! defined in Python (`press_selfhosted/exceptions.py`) so that Frappe code can import and
//! catch them without loading the native module.

use std::panic::AssertUnwindSafe;

use press_selfhosted_core::guard::{catch_panic, Panicked};
use press_selfhosted_core::names::ValidationError;
use press_selfhosted_core::pki;
use pyo3::prelude::*;

pub enum Failure {
    Invalid(ValidationError),
    Certificate(String),
    Internal(Panicked),
}

impl From<ValidationError> for Failure {
    fn from(e: ValidationError) -> Self {
        Failure::Invalid(e)
    }
}

impl From<pki::Error> for Failure {
    fn from(e: pki::Error) -> Self {
        match e {
            pki::Error::Invalid(e) => Failure::Invalid(e),
            other => Failure::Certificate(other.to_string()),
        }
    }
}

impl From<Failure> for PyErr {
    fn from(failure: Failure) -> PyErr {
        let (class, message) = match failure {
            Failure::Invalid(e) => ("ValidationError", e.to_string()),
            Failure::Certificate(message) => ("CertificateError", message),
            Failure::Internal(e) => ("InternalError", e.to_string()),
        };
        Python::attach(|py| {
            match py.import("press_selfhosted.exceptions").and_then(|m| m.getattr(class)) {
                Ok(class) => match class.call1((message,)) {
                    Ok(instance) => PyErr::from_value(instance),
                    Err(e) => e,
                },
                Err(e) => e,
            }
        })
    }
}

/// Runs `f` with the GIL released and any panic caught, mapping failures to exceptions.
pub fn run<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T, Failure> + Send) -> PyResult<T> {
    // Unwind safety: a panicking call's partial results are dropped, and the state it shares
    // (a loaded CA) is never mutated.
    let outcome = py.detach(|| catch_panic(AssertUnwindSafe(f)));
    outcome.map_err(Failure::Internal)?.map_err(PyErr::from)
}
