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
