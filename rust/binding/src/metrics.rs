//! `container_metrics`: the one call of the platform's container exporter (core `metrics`).

use std::path::PathBuf;

use press_selfhosted_core::engine::{Endpoint, TlsFiles};
use press_selfhosted_core::metrics;
use pyo3::prelude::*;

use crate::errors::run;
use crate::numbers::Number;
use crate::runtime::block_on;

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(container_metrics, module)?)
}

type EngineArgument = (String, String, Option<(PathBuf, PathBuf, PathBuf)>);

/// Every container of every engine, (name, endpoint, tls files or None), as Prometheus text.
#[pyfunction]
#[pyo3(signature = (engines, *, concurrency = Number(16), timeout = Number(10.0)))]
fn container_metrics(
    py: Python<'_>,
    engines: Vec<EngineArgument>,
    concurrency: Number<usize>,
    timeout: Number<f64>,
) -> PyResult<String> {
    run(py, move || {
        let timeout = timeout.seconds()?;
        let endpoints = engines
            .into_iter()
            .map(|(name, url, tls)| {
                let tls = tls.map(|(ca, certificate, key)| TlsFiles { ca, certificate, key });
                Ok((name, Endpoint::parse(&url, tls)?))
            })
            .collect::<Result<Vec<_>, press_selfhosted_core::names::ValidationError>>()?;
        Ok(metrics::exposition(&block_on(metrics::scrape(&endpoints, concurrency.get(), timeout))?))
    })
}
