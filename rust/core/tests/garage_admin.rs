//! Tenant keys through Garage's admin API, against the real Garage `make test` starts
//! (PRESS_SELFHOSTED_TEST_S3_ADMIN; its token is in the admin_token file of _S3_DIR).

use press_selfhosted_core::storage::{Error, GarageAdmin, Store, StoreConfig};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run through `make test`"))
}

fn admin() -> GarageAdmin {
    let token = std::fs::read_to_string(std::path::Path::new(&var("PRESS_SELFHOSTED_TEST_S3_DIR")).join("admin_token"))
        .unwrap();
    GarageAdmin::new(&var("PRESS_SELFHOSTED_TEST_S3_ADMIN"), &token, None).unwrap()
}

fn store(bucket: &str, access_key: &str, secret_key: &str) -> Store {
    let config = StoreConfig {
        endpoint: var("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"),
        region: var("PRESS_SELFHOSTED_TEST_S3_REGION"),
        access_key: access_key.into(),
        secret_key: secret_key.into(),
        path_style: true,
        ..StoreConfig::default()
    };
    Store::new(&config, bucket).unwrap()
}

#[tokio::test]
async fn a_tenant_key_reads_and_writes_its_bucket_only() {
    let admin = admin();
    let pid = std::process::id();
    let (acme, globex) = (format!("rs-acme-{pid}"), format!("rs-globex-{pid}"));
    let first = admin.grant(&acme, &format!("{acme}.example.com")).await.unwrap();
    assert!(first.created && first.access_key.starts_with("GK"));
    assert!(!format!("{first:?}").contains(&first.secret_key));
    let again = admin.grant(&acme, &format!("{acme}.example.com")).await.unwrap();
    assert_eq!(
        (again.access_key.as_str(), again.secret_key.as_str(), again.created),
        (first.access_key.as_str(), first.secret_key.as_str(), false)
    );
    let other = admin.grant(&globex, &format!("{globex}.example.com")).await.unwrap();
    let names = admin.key_names().await.unwrap();
    assert!(names.contains(&format!("{acme}.example.com")) && names.contains(&format!("{globex}.example.com")));
    assert_ne!(other.access_key, first.access_key);

    let own = store(&acme, &first.access_key, &first.secret_key);
    own.put_bytes("acme.example.com/invoice.pdf", b"%PDF").await.unwrap();
    assert_eq!(own.get_bytes("acme.example.com/invoice.pdf").await.unwrap(), b"%PDF".to_vec());
    // The neighbour's key opens nothing in this bucket, and this key nothing in the neighbour's.
    let neighbour = store(&acme, &other.access_key, &other.secret_key);
    assert!(matches!(neighbour.get_bytes("acme.example.com/invoice.pdf").await, Err(Error::Denied(_))));
    assert!(matches!(
        store(&globex, &first.access_key, &first.secret_key).put_bytes("x", b"x").await,
        Err(Error::Denied(_))
    ));
    // Nor may it make buckets of its own.
    assert!(store(&format!("rs-extra-{pid}"), &first.access_key, &first.secret_key).ensure_bucket().await.is_err());

    assert!(admin.revoke(&first.access_key).await.unwrap());
    assert!(!admin.revoke(&first.access_key).await.unwrap());
    assert!(own.get_bytes("acme.example.com/invoice.pdf").await.is_err()); // the key is gone
    admin.revoke(&other.access_key).await.unwrap();
}

#[tokio::test]
async fn bad_input_and_a_wrong_token_are_refused() {
    let admin = admin();
    assert!(matches!(admin.grant("Bad_Bucket", "k").await, Err(Error::Invalid(_))));
    assert!(matches!(admin.grant("rs-fine", "").await, Err(Error::Invalid(_))));
    assert!(matches!(admin.grant("rs-fine", "a\nb").await, Err(Error::Invalid(_))));
    for id in ["acme.example.com", "GK", "GKzz", "gk1234"] {
        assert!(matches!(admin.revoke(id).await, Err(Error::Invalid(_))), "{id}");
    }
    assert!(matches!(GarageAdmin::new("127.0.0.1:3903", "t", None), Err(Error::Invalid(_))));
    assert!(matches!(GarageAdmin::new("http://127.0.0.1:3903/v2", "t", None), Err(Error::Invalid(_))));
    assert!(matches!(GarageAdmin::new("http://127.0.0.1:3903", "", None), Err(Error::Invalid(_))));
    let wrong = GarageAdmin::new(&var("PRESS_SELFHOSTED_TEST_S3_ADMIN"), "not-the-token", None).unwrap();
    let refused = wrong.grant("rs-never", "never.example.com").await.unwrap_err();
    assert!(matches!(refused, Error::Denied(_)));
    assert!(!refused.to_string().contains("not-the-token"));
    assert!(!format!("{wrong:?}").contains("not-the-token"));
}
