//! The one place where core errors become Python exceptions. The exception classes are
//! defined in Python (`press_selfhosted/exceptions.py`) so that Frappe code can import and
//! catch them without loading the native module.

use std::panic::AssertUnwindSafe;

use press_selfhosted_core::guard::{catch_panic, Panicked};
use press_selfhosted_core::names::ValidationError;
use press_selfhosted_core::{dns, engine, pki, proxy, storage};
use pyo3::prelude::*;

pub enum Failure {
    Invalid(ValidationError),
    Certificate(String),
    Engine(engine::Error),
    Storage(storage::Error),
    Dns(dns::Error),
    Proxy(proxy::Error),
    Internal(Panicked),
}

impl From<dns::Error> for Failure {
    fn from(e: dns::Error) -> Self {
        match e {
            dns::Error::Invalid(e) => Failure::Invalid(e),
            other => Failure::Dns(other),
        }
    }
}

impl From<proxy::Error> for Failure {
    fn from(e: proxy::Error) -> Self {
        match e {
            proxy::Error::Invalid(e) => Failure::Invalid(e),
            other => Failure::Proxy(other),
        }
    }
}

impl From<storage::Error> for Failure {
    fn from(e: storage::Error) -> Self {
        match e {
            storage::Error::Invalid(e) => Failure::Invalid(e),
            other => Failure::Storage(other),
        }
    }
}

impl From<engine::Error> for Failure {
    fn from(e: engine::Error) -> Self {
        match e {
            engine::Error::Invalid(e) => Failure::Invalid(e),
            other => Failure::Engine(other),
        }
    }
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
        Python::attach(|py| {
            let (class, args) = match failure {
                Failure::Invalid(e) => ("ValidationError", (e.to_string(),).into_pyobject(py)),
                Failure::Certificate(message) => ("CertificateError", (message,).into_pyobject(py)),
                Failure::Internal(e) => ("InternalError", (e.to_string(),).into_pyobject(py)),
                Failure::Storage(e) => {
                    let class = match &e {
                        storage::Error::Unreachable(_) => "StorageUnreachable",
                        storage::Error::Denied(_) => "AccessDenied",
                        storage::Error::NotFound(_) => "ObjectNotFound",
                        storage::Error::ChecksumMismatch { .. } => "ChecksumMismatch",
                        storage::Error::QuotaExceeded { .. } => "QuotaExceeded",
                        storage::Error::Cancelled => "TransferCancelled",
                        storage::Error::Invalid(_)
                        | storage::Error::Io(_)
                        | storage::Error::S3 { .. }
                        | storage::Error::AbortFailed { .. } => "StorageError",
                    };
                    (class, (e.to_string(),).into_pyobject(py))
                }
                Failure::Dns(e) => {
                    let class = match &e {
                        dns::Error::Unreachable(_) => "DnsUnreachable",
                        dns::Error::Denied(_) => "DnsAccessDenied",
                        dns::Error::ZoneMissing(_) => "ZoneMissing",
                        dns::Error::NotPropagated { .. } => "DnsNotPropagated",
                        dns::Error::Invalid(_) | dns::Error::Rejected { .. } | dns::Error::Lookup { .. } => "DnsError",
                    };
                    (class, (e.to_string(),).into_pyobject(py))
                }
                Failure::Proxy(e) => {
                    let class = match &e {
                        proxy::Error::Unreachable(_) => "ProxyUnreachable",
                        proxy::Error::RouteDisabled { .. } => "RouteDisabled",
                        proxy::Error::NotLoaded { .. } => "RouteNotLoaded",
                        proxy::Error::Invalid(_)
                        | proxy::Error::Io { .. }
                        | proxy::Error::Api { .. }
                        | proxy::Error::StillPresent { .. } => "ProxyError",
                    };
                    (class, (e.to_string(),).into_pyobject(py))
                }
                Failure::Engine(e) => {
                    let message = e.to_string();
                    let class = match &e {
                        engine::Error::Unreachable { .. } => "EngineUnreachable",
                        engine::Error::ImageMissing(_) => "ImageMissing",
                        engine::Error::NameConflict(_) => "NameConflict",
                        engine::Error::NotFound(_) => "ContainerNotFound",
                        engine::Error::PortsExhausted { .. } => "PortsExhausted",
                        engine::Error::Timeout { .. } => "EngineTimeout",
                        engine::Error::ExecFailed { .. } => "ExecFailed",
                        engine::Error::BuildFailed { .. } => "BuildFailed",
                        engine::Error::Invalid(_) | engine::Error::Engine { .. } => "EngineError",
                    };
                    let args = match e {
                        engine::Error::ExecFailed { exit_code, output, .. } => {
                            (message, exit_code, output).into_pyobject(py)
                        }
                        _ => (message,).into_pyobject(py),
                    };
                    (class, args)
                }
            };
            let exception = py
                .import("press_selfhosted.exceptions")
                .and_then(|m| m.getattr(class))
                .and_then(|cls| cls.call1(args?));
            match exception {
                Ok(instance) => PyErr::from_value(instance),
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
