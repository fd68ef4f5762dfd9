use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use press_selfhosted_core::pki::{
    self, inspect, CaOptions, CertificateAuthority, Error, KeyType, LeafRequest, INTERMEDIATE_KEY, ROOT_KEY,
};
use time::{Duration, OffsetDateTime};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

#[test]
fn create_writes_the_ca_with_private_modes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    let ca = CertificateAuthority::create(&dir, &CaOptions::default(), None).unwrap();
    assert_eq!(listing(&dir), ["intermediate.crt", "intermediate.key", "root.crt", "root.key"]);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(ROOT_KEY)), 0o600);
    assert_eq!(mode(&dir.join(INTERMEDIATE_KEY)), 0o600);
    assert_eq!(mode(&dir.join("root.crt")), 0o644);

    let root = inspect(ca.root_pem()).unwrap();
    let intermediate = inspect(ca.intermediate_pem()).unwrap();
    assert!(root.is_ca && intermediate.is_ca);
    assert_eq!(root.subject, root.issuer, "the root is self-signed");
    assert_eq!(intermediate.issuer, root.subject);
    assert!(root.subject.contains("Press Self-Hosted Root CA"));
    assert!(root.not_after > intermediate.not_after);
}

#[test]
fn issues_from_a_loaded_ca_without_its_root_key() {
    let tmp = tempfile::tempdir().unwrap();
    let created = CertificateAuthority::create(tmp.path(), &CaOptions::default(), None).unwrap();
    // The root key goes offline: issuing must not need it.
    fs::remove_file(tmp.path().join(ROOT_KEY)).unwrap();
    let ca = CertificateAuthority::load(tmp.path(), None).unwrap();
    assert_eq!(ca.root_pem(), created.root_pem());

    let issued = ca.issue(&LeafRequest::server(["*.Demo.test", "demo.test", "127.0.0.1"])).unwrap();
    let info = inspect(&issued.full_chain_pem()).unwrap();
    assert_eq!(info.names, ["*.demo.test", "demo.test", "127.0.0.1"]);
    assert_eq!(info.issuer, inspect(ca.intermediate_pem()).unwrap().subject);
    assert!(!info.is_ca);
    assert_eq!(info.days_left(OffsetDateTime::now_utc()), 89);
    assert_eq!(issued.chain_pem, ca.intermediate_pem());
    let other = ca.issue(&LeafRequest::server(["demo.test"])).unwrap();
    assert_ne!(inspect(&other.certificate_pem).unwrap().serial, info.serial);
}

#[test]
fn every_key_type_issues_and_explicit_windows_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    for key_type in KeyType::ALL {
        let dir = tmp.path().join(key_type.as_str());
        let ca = CertificateAuthority::create(&dir, &CaOptions { key_type, ..CaOptions::default() }, None).unwrap();
        let start = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - Duration::days(3);
        let request =
            LeafRequest { key_type, validity_days: 7, not_before: Some(start), ..LeafRequest::server(["a.test"]) };
        let issued = ca.issue(&request).unwrap();
        assert_eq!(issued.key.key_type(), key_type);
        let info = inspect(&issued.certificate_pem).unwrap();
        assert_eq!(info.not_before, start);
        assert_eq!(info.not_after, start + Duration::days(7));
    }
}

#[test]
fn encrypted_ca_needs_the_right_passphrase() {
    let tmp = tempfile::tempdir().unwrap();
    CertificateAuthority::create(tmp.path(), &CaOptions::default(), Some("operator passphrase")).unwrap();
    let key = fs::read_to_string(tmp.path().join(INTERMEDIATE_KEY)).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    assert!(matches!(CertificateAuthority::load(tmp.path(), None).unwrap_err(), Error::PassphraseRequired));
    let wrong = CertificateAuthority::load(tmp.path(), Some("nope")).unwrap_err();
    assert!(matches!(wrong, Error::WrongPassphrase));
    assert!(CertificateAuthority::load(tmp.path(), Some("operator passphrase")).is_ok());
}

#[test]
fn an_existing_ca_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let first = CertificateAuthority::create(tmp.path(), &CaOptions::default(), None).unwrap();
    let err = CertificateAuthority::create(tmp.path(), &CaOptions::default(), None).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(fs::read_to_string(tmp.path().join("root.crt")).unwrap(), first.root_pem());
}

#[test]
fn invalid_options_create_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    let cases = [
        CaOptions { name: "".into(), ..CaOptions::default() },
        CaOptions { name: "x".repeat(41), ..CaOptions::default() },
        CaOptions { root_validity_days: 0, ..CaOptions::default() },
        CaOptions { root_validity_days: 100, intermediate_validity_days: 101, ..CaOptions::default() },
    ];
    for options in cases {
        assert!(matches!(CertificateAuthority::create(&dir, &options, None), Err(Error::Invalid(_))), "{options:?}");
    }
    assert!(matches!(CertificateAuthority::create(&dir, &CaOptions::default(), Some("")), Err(Error::Invalid(_))));
    assert!(!dir.exists());
}

#[test]
fn a_mismatched_intermediate_key_is_refused_on_load() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    CertificateAuthority::create(&a, &CaOptions::default(), None).unwrap();
    CertificateAuthority::create(&b, &CaOptions::default(), None).unwrap();
    fs::copy(b.join(INTERMEDIATE_KEY), a.join(INTERMEDIATE_KEY)).unwrap();
    let err = CertificateAuthority::load(&a, None).unwrap_err();
    assert!(err.to_string().contains("does not belong"), "{err}");
    let missing = CertificateAuthority::load(&tmp.path().join("none"), None).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }));
}

#[test]
fn certificate_files_are_written_by_role() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::create(&tmp.path().join("ca"), &CaOptions::default(), None).unwrap();
    let issued = ca.issue(&LeafRequest::server(["site1.demo.test"])).unwrap();
    let out = tmp.path().join("certs");
    let files = issued.write_files(&out, "site1.demo.test", Some("pw")).unwrap();
    assert_eq!(mode(&files.private_key), 0o600);
    assert_eq!(mode(&files.full_chain), 0o644);
    assert_eq!(fs::read_to_string(&files.full_chain).unwrap(), issued.full_chain_pem());
    let key = pki::PrivateKey::from_pem(&fs::read_to_string(&files.private_key).unwrap(), Some("pw")).unwrap();
    assert_eq!(key.to_pem(None).unwrap(), issued.key.to_pem(None).unwrap());
    assert!(matches!(issued.write_files(&out, "../escape", None), Err(Error::Invalid(_))));
    assert_eq!(listing(&out).len(), 4);
}
