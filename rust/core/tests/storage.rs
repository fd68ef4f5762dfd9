//! The storage module against a real Garage (started by `make test`, which sets
//! PRESS_SELFHOSTED_TEST_S3_ENDPOINT / _REGION / _DIR; the key is in files in that dir).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use press_selfhosted_core::storage::{Error, Store, StoreConfig, TenantPrefix, UploadOptions};
use sha2::{Digest, Sha256};

fn config() -> StoreConfig {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run through `make test`"));
    let dir = std::path::PathBuf::from(var("PRESS_SELFHOSTED_TEST_S3_DIR"));
    StoreConfig {
        endpoint: var("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"),
        region: var("PRESS_SELFHOSTED_TEST_S3_REGION"),
        access_key: std::fs::read_to_string(dir.join("access_key")).unwrap(),
        secret_key: std::fs::read_to_string(dir.join("secret_key")).unwrap(),
        path_style: true,
        ..StoreConfig::default()
    }
}

async fn store(name: &str) -> Store {
    let store = Store::new(&config(), &format!("{name}-{}", std::process::id())).unwrap();
    store.ensure_bucket().await.unwrap();
    store.ensure_bucket().await.unwrap(); // idempotent
    store
}

fn file_of(dir: &std::path::Path, mib: usize) -> (std::path::PathBuf, String) {
    let path = dir.join("data.bin");
    let mut file = std::fs::File::create(&path).unwrap();
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1024 * 1024];
    for i in 0..mib {
        for (j, b) in block.iter_mut().enumerate() {
            *b = (i * 31 + j * 7 % 251) as u8;
        }
        hasher.update(&block);
        file.write_all(&block).unwrap();
    }
    (path, hex::encode(hasher.finalize()))
}

/// A plain HTTP/1.1 request to a presigned URL; returns (status, body).
fn http(method: &str, url: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = TcpStream::connect(host).unwrap();
    write!(
        s,
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    let head_end = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = std::str::from_utf8(&reply[9..12]).unwrap().parse().unwrap();
    (status, reply[head_end + 4..].to_vec())
}

#[tokio::test]
async fn a_200_mib_file_round_trips_in_parts_bit_identical() {
    let store = store("multipart").await;
    let tmp = tempfile::tempdir().unwrap();
    let (path, sha) = file_of(tmp.path(), 200);
    let tenant = TenantPrefix::new("tenants/acme").unwrap();
    let key = tenant.key("backups/db.sql.gz").unwrap();

    let mut seen = Vec::new();
    let info = store
        .upload_file(&path, &key, &UploadOptions::default(), |done, total| seen.push((done, total)))
        .await
        .unwrap();
    assert_eq!((info.size, info.sha256.as_deref()), (200 * 1024 * 1024, Some(sha.as_str())));
    assert_eq!(seen.first(), Some(&(0, 200 * 1024 * 1024)));
    assert_eq!(seen.last(), Some(&(200 * 1024 * 1024, 200 * 1024 * 1024)));
    assert!(seen.len() > 25, "progress after every part: {}", seen.len());
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));

    let head = store.head(&key).await.unwrap();
    assert_eq!(head.sha256.as_deref(), Some(sha.as_str()), "the checksum is stored as metadata");
    let back = tmp.path().join("back.bin");
    let mut seen = Vec::new();
    store
        .download_file(&key, &back, true, &AtomicBool::new(false), |done, total| seen.push((done, total)))
        .await
        .unwrap();
    assert_eq!(seen.first(), Some(&(0, 200 << 20)));
    assert_eq!(seen.last(), Some(&(200 << 20, 200 << 20)));
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "progress only grows");
    assert_eq!(hex::encode(Sha256::digest(std::fs::read(&back).unwrap())), sha);
    assert!(store.pending_uploads("").await.unwrap().is_empty(), "no multipart upload is left open");
    assert_eq!(store.usage("tenants/acme/").await.unwrap(), (200 * 1024 * 1024, 1));
}

#[tokio::test]
async fn a_cancelled_upload_leaves_nothing_behind() {
    let store = store("cancel").await;
    let tmp = tempfile::tempdir().unwrap();
    let (path, _) = file_of(tmp.path(), 40);
    let cancel = Arc::new(AtomicBool::new(false));
    let options = UploadOptions { concurrency: 1, cancel: cancel.clone(), ..Default::default() };
    let result = store
        .upload_file(&path, "t/cancelled.bin", &options, |done, _| {
            if done > 0 {
                cancel.store(true, Ordering::Relaxed);
            }
        })
        .await;
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(store.pending_uploads("").await.unwrap().is_empty());
    assert!(matches!(store.head("t/cancelled.bin").await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn presigned_urls_work_with_plain_http_and_refuse_tampering() {
    let store = store("presign").await;
    store.put_bytes("t/report.txt", b"quarterly numbers").await.unwrap();
    let url = store.presign_get("t/report.txt", 300).await.unwrap();
    assert_eq!(http("GET", &url, b""), (200, b"quarterly numbers".to_vec()));
    let tampered = url.replace("report.txt", "other.txt");
    assert_eq!(http("GET", &tampered, b"").0, 403);
    let forged = format!("{}0", url.trim_end_matches(|c: char| c.is_ascii_hexdigit()));
    assert_eq!(http("GET", &forged, b"").0, 403);

    let put = store.presign_put("t/upload.bin", 300).await.unwrap();
    assert_eq!(http("PUT", &put, b"from a browser").0, 200);
    assert_eq!(store.get_bytes("t/upload.bin").await.unwrap(), b"from a browser");
}

#[tokio::test]
async fn listing_pages_usage_and_deleting_a_prefix() {
    let store = store("listing").await;
    for i in 0..1005 {
        store.put_bytes(&format!("site-a/f{i:04}"), b"x").await.unwrap();
    }
    store.put_bytes("site-b/keep", b"yy").await.unwrap();
    assert_eq!(store.list("site-a/").await.unwrap().len(), 1005, "more than one page of 1,000");
    assert_eq!(store.usage("site-a/").await.unwrap(), (1005, 1005));
    assert_eq!(store.delete_prefix("site-a/").await.unwrap(), 1005);
    assert!(store.list("site-a/").await.unwrap().is_empty());
    assert_eq!(store.usage("").await.unwrap(), (2, 1), "other prefixes are untouched");
}

#[tokio::test]
async fn wrong_credentials_are_denied() {
    let bad = StoreConfig { secret_key: "0".repeat(64), ..config() };
    let store = Store::new(&bad, &format!("multipart-{}", std::process::id())).unwrap();
    let err = store.put_bytes("t/x", b"x").await.unwrap_err();
    assert!(matches!(err, Error::Denied(_)), "{err:?}");
    assert!(!err.to_string().contains(&"0".repeat(64)));
}

#[tokio::test]
async fn a_quota_refuses_an_upload_before_it_starts() {
    let store = store("quota").await;
    store.put_bytes("tenant-q/existing", &[7u8; 1000]).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (path, _) = file_of(tmp.path(), 6);
    let options = UploadOptions { quota: Some(("tenant-q/".into(), 6 * 1024 * 1024)), ..Default::default() };
    let err = store.upload_file(&path, "tenant-q/big.bin", &options, |_, _| {}).await.unwrap_err();
    assert!(matches!(err, Error::QuotaExceeded { used: 1000, .. }), "{err:?}");
    assert!(store.pending_uploads("").await.unwrap().is_empty());
    assert!(matches!(store.head("tenant-q/big.bin").await, Err(Error::NotFound(_))));
    assert_eq!(store.check_quota("tenant-q/", 10 * 1024 * 1024, 6 * 1024 * 1024).await.unwrap(), 1000);
    let roomy = UploadOptions { quota: Some(("tenant-q/".into(), 7 * 1024 * 1024)), ..Default::default() };
    store.upload_file(&path, "tenant-q/big.bin", &roomy, |_, _| {}).await.unwrap();
}
