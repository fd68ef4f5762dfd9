//! A panic must never unwind into, or abort, the Python worker that called the core: the
//! binding runs every call through `catch_panic` and reports a panic as an ordinary error.

use std::panic::{catch_unwind, UnwindSafe};

/// A panic caught at the boundary, with its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("internal error in press_selfhosted's core: {0}")]
pub struct Panicked(pub String);

pub fn catch_panic<T>(f: impl FnOnce() -> T + UnwindSafe) -> Result<T, Panicked> {
    catch_unwind(f).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic with a non-text payload".into());
        Panicked(message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        let err = catch_panic(|| -> u32 { panic!("index {} out of range", 7) }).unwrap_err();
        assert_eq!(err.0, "index 7 out of range");
        assert!(err.to_string().starts_with("internal error"));
        assert_eq!(catch_panic(|| 42).unwrap(), 42);
    }
}
