//! press_selfhosted's core: everything the platform does to the world outside Frappe, with
//! no Python in it. One module per concern; each has its own error type.

pub mod dns;
pub mod engine;
pub mod files;
pub mod guard;
pub mod metrics;
pub mod names;
pub mod pki;
pub mod proxy;
pub mod storage;
mod tls;
