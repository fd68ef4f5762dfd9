//! The one Tokio runtime every blocking call of the binding runs its I/O on.

use std::sync::OnceLock;

use tokio::runtime::Runtime;

use crate::errors::Failure;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("press-selfhosted-io")
            .enable_all()
            .build()
            .expect("the I/O runtime starts")
    })
}

/// Runs `future` to completion on the calling thread (which has released the GIL).
pub fn block_on<T, E: Into<Failure>>(future: impl std::future::Future<Output = Result<T, E>>) -> Result<T, Failure> {
    runtime().block_on(future).map_err(Into::into)
}

/// An awaitable of `future` for asyncio, run on the same runtime (map core errors with
/// `failed`, so they become the typed exceptions of the blocking forms).
pub fn awaitable<'py, T>(
    py: pyo3::Python<'py>,
    future: impl std::future::Future<Output = pyo3::PyResult<T>> + Send + 'static,
) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>>
where
    T: for<'a> pyo3::IntoPyObject<'a> + Send + 'static,
{
    static SHARED: OnceLock<()> = OnceLock::new();
    SHARED.get_or_init(|| {
        // Only this binding initialises pyo3-async-runtimes, once: it cannot fail here.
        let _ = pyo3_async_runtimes::tokio::init_with_runtime(runtime());
    });
    pyo3_async_runtimes::tokio::future_into_py(py, future)
}

/// A core error as the typed Python exception.
pub fn failed(e: impl Into<Failure>) -> pyo3::PyErr {
    pyo3::PyErr::from(e.into())
}
