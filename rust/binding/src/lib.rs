//! press_selfhosted._native: a thin PyO3 layer over the core. Plain data in, typed results or
//! exceptions from `press_selfhosted.exceptions` out; the GIL is released while the core works.

mod dns;
mod engine;
mod errors;
mod metrics;
mod numbers;
mod pki;
mod proxy;
mod runtime;
mod storage;

use pyo3::prelude::*;

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    pki::register(module)?;
    dns::register(module)?;
    proxy::register(module)?;
    engine::register(module)?;
    metrics::register(module)?;
    storage::register(module)
}
