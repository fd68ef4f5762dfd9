//! One rustls crypto provider for the process. Crates below us enable two (ring through
//! bollard, aws-lc-rs through rust-s3's credential loader), and rustls then refuses to pick
//! one and panics at the first TLS connection. The platform uses ring, as its CA does.

use std::sync::Once;

pub(crate) fn use_ring() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An error means a provider is installed already (by the embedding program): keep it.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
