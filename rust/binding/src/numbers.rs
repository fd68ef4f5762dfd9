//! Number arguments. PyO3 refuses a Python int that does not fit the Rust type (a negative
//! validity, a TTL past 2³²) with Python's own OverflowError: untyped, and unlike every other
//! refusal. An argument declared as `Number<T>` gets the ValidationError that any other bad
//! input gets instead, naming the range; a value that is no number stays a TypeError.

use std::time::Duration;

use press_selfhosted_core::names::ValidationError;
use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;

use crate::errors::Failure;

#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Number<T>(pub T);

impl<T: Eq> Eq for Number<T> {}

impl<T: Ord> Ord for Number<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl<T> Number<T> {
    pub fn get(self) -> T {
        self.0
    }
}

impl Number<f64> {
    /// A timeout: a positive, finite number of seconds.
    pub fn seconds(self) -> Result<Duration, Failure> {
        Duration::try_from_secs_f64(self.0).ok().filter(|d| !d.is_zero()).ok_or_else(|| {
            ValidationError::new(format!("timeout must be a positive number of seconds, got {}", self.0)).into()
        })
    }
}

macro_rules! number_argument {
    ($($t:ty => $range:expr),* $(,)?) => {$(
        impl<'a, 'py> FromPyObject<'a, 'py> for Number<$t> {
            type Error = PyErr;

            fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
                match obj.extract::<$t>() {
                    Ok(value) => Ok(Number(value)),
                    Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => Err(out_of_range(obj, &$range)),
                    Err(e) => Err(e),
                }
            }
        }
    )*};
}

number_argument! {
    u16 => format!("an integer from 0 to {}", u16::MAX),
    u32 => format!("an integer from 0 to {}", u32::MAX),
    u64 => format!("an integer from 0 to {}", u64::MAX),
    usize => format!("an integer from 0 to {}", usize::MAX),
    i32 => format!("an integer from {} to {}", i32::MIN, i32::MAX),
    i64 => format!("an integer from {} to {}", i64::MIN, i64::MAX),
    f64 => "a number a float can hold".to_string(),
}

fn out_of_range(obj: Borrowed<'_, '_, PyAny>, expected: &str) -> PyErr {
    // The value as Python prints it, cut short (an int can have a million digits) by
    // characters, not bytes: an int subclass may print anything.
    let mut value = obj.str().map(|s| s.to_string()).unwrap_or_else(|_| "the value".into());
    if value.chars().count() > 40 {
        let digits = value.chars().filter(char::is_ascii_digit).count();
        value = format!("{}… ({digits} digits)", value.chars().take(20).collect::<String>());
    }
    Failure::Invalid(ValidationError::new(format!("{value} is out of range: expected {expected}"))).into()
}
