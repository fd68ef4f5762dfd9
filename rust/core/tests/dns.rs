//! The dns module against a real PowerDNS (started by `make test`, which sets
//! PRESS_SELFHOSTED_TEST_PDNS_API / _DNS / _KEY_FILE): record life cycles checked through
//! hickory against the server itself.

use std::time::Duration;

use press_selfhosted_core::dns::{Checker, Error, Kind, PowerDns, RecordSet, Soa};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run through `make test`"))
}

fn api() -> PowerDns {
    let key = std::fs::read_to_string(var("PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE")).unwrap();
    PowerDns::new(&var("PRESS_SELFHOSTED_TEST_PDNS_API"), "localhost", key.trim()).unwrap()
}

fn checker() -> Checker {
    Checker::new(&[var("PRESS_SELFHOSTED_TEST_PDNS_DNS").parse().unwrap()]).unwrap()
}

/// A zone of this test's own, so tests running side by side do not meet.
async fn zone(label: &str) -> String {
    let zone = format!("{label}-{}.test", std::process::id());
    let soa = Soa::new(&format!("ns1.{zone}"), &format!("hostmaster.{zone}"));
    assert!(api().ensure_zone(&zone, &[format!("ns1.{zone}")], &soa).await.unwrap());
    assert!(!api().ensure_zone(&zone, &[format!("ns1.{zone}")], &soa).await.unwrap(), "idempotent");
    zone
}

fn set(name: &str, kind: Kind, contents: &[&str]) -> RecordSet {
    RecordSet::new(name, kind, 60, &contents.iter().map(|c| c.to_string()).collect::<Vec<_>>()).unwrap()
}

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_record_is_created_changed_and_deleted_as_the_server_answers() {
    let zone = zone("life").await;
    let (api, check) = (api(), checker());
    let site = format!("acme.{zone}");
    api.upsert(&zone, &[set(&site, Kind::A, &["10.0.0.1"])]).await.unwrap();
    check.wait_for(&set(&site, Kind::A, &["10.0.0.1"]), WAIT).await.unwrap();
    api.upsert(&zone, &[set(&site, Kind::A, &["10.0.0.2", "10.0.0.3"])]).await.unwrap();
    check.wait_for(&set(&site, Kind::A, &["10.0.0.3", "10.0.0.2"]), WAIT).await.unwrap();
    assert_eq!(check.lookup(&site, Kind::A).await.unwrap(), ["10.0.0.2", "10.0.0.3"]);
    api.delete(&zone, &[(site.clone(), Kind::A)]).await.unwrap();
    assert!(check.lookup(&site, Kind::A).await.unwrap().is_empty());
    api.delete(&zone, &[(site.clone(), Kind::A)]).await.unwrap(); // deleting nothing is fine
    api.delete_zone(&zone).await.unwrap();
}

#[tokio::test]
async fn every_type_in_one_batch_and_writing_it_again_changes_nothing() {
    let zone = zone("batch").await;
    let (api, check) = (api(), checker());
    let sets = vec![
        set(&format!("a.{zone}"), Kind::A, &["192.0.2.10"]),
        set(&format!("a.{zone}"), Kind::Aaaa, &["2001:db8::10"]),
        set(&format!("www.{zone}"), Kind::Cname, &[&format!("a.{zone}")]),
        set(&format!("_acme-challenge.{zone}"), Kind::Txt, &["token with \"quotes\"", &"x".repeat(300)]),
        set(&zone, Kind::Caa, &["0 issue \"ca.platform.test\""]),
        set(&zone, Kind::Ns, &[&format!("ns1.{zone}"), &format!("ns2.{zone}")]),
    ];
    api.upsert(&zone, &sets).await.unwrap();
    for expected in &sets {
        check.wait_for(expected, WAIT).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let before = api.records(&zone).await.unwrap();
    api.upsert(&zone, &sets).await.unwrap();
    assert_eq!(api.records(&zone).await.unwrap(), before);
    for expected in &sets {
        assert!(before.contains(expected), "PowerDNS keeps {expected:?} as written");
    }
    let wildcard = set(&format!("*.{zone}"), Kind::A, &["192.0.2.99"]);
    api.upsert(&zone, std::slice::from_ref(&wildcard)).await.unwrap();
    assert_eq!(check.lookup(&format!("anything.{zone}"), Kind::A).await.unwrap(), ["192.0.2.99"]);
    api.delete_zone(&zone).await.unwrap();
}

#[tokio::test]
async fn a_bad_batch_changes_nothing() {
    let zone = zone("atomic").await;
    let api = api();
    let good = set(&format!("good.{zone}"), Kind::A, &["192.0.2.1"]);
    // A CNAME beside other data at the same name is refused by PowerDNS: the whole PATCH fails.
    api.upsert(&zone, &[set(&format!("clash.{zone}"), Kind::A, &["192.0.2.2"])]).await.unwrap();
    let clash = set(&format!("clash.{zone}"), Kind::Cname, &[&format!("good.{zone}")]);
    let refused = api.upsert(&zone, &[good.clone(), clash]).await.unwrap_err();
    assert!(matches!(refused, Error::Rejected { status: 422, .. }), "{refused}");
    assert!(!api.records(&zone).await.unwrap().contains(&good));
    // Outside the zone, or not a name at all: refused before any request.
    let outside = api.upsert(&zone, &[set("acme.elsewhere.test", Kind::A, &["192.0.2.3"])]).await.unwrap_err();
    assert!(matches!(outside, Error::Invalid(_)), "{outside}");
    assert!(RecordSet::new("bad name", Kind::A, 60, &["192.0.2.3".into()]).is_err());
    api.delete_zone(&zone).await.unwrap();
}

#[tokio::test]
async fn errors_are_typed_and_carry_powerdns_message() {
    let api = api();
    let missing = api.upsert("nowhere.test", &[set("a.nowhere.test", Kind::A, &["192.0.2.1"])]).await.unwrap_err();
    assert!(matches!(missing, Error::ZoneMissing(ref z) if z == "nowhere.test."), "{missing}");
    let wrong = PowerDns::new(&var("PRESS_SELFHOSTED_TEST_PDNS_API"), "localhost", "wrong-key").unwrap();
    assert!(matches!(wrong.zones().await.unwrap_err(), Error::Denied(_)));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let down = PowerDns::new(&format!("http://{closed}"), "localhost", "k").unwrap();
    assert!(matches!(down.zones().await.unwrap_err(), Error::Unreachable(_)));
    assert!(!format!("{api:?}").contains(&std::fs::read_to_string(var("PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE")).unwrap()));
    for (url, server, key) in [("ftp://x", "localhost", "k"), ("http://x", "a/b", "k"), ("http://x", "localhost", "")] {
        assert!(PowerDns::new(url, server, key).is_err(), "{url} {server} {key:?}");
    }
}

#[tokio::test]
async fn waiting_for_an_answer_that_never_comes_times_out_with_what_was_seen() {
    let zone = zone("timeout").await;
    let (api, check) = (api(), checker());
    let name = format!("late.{zone}");
    api.upsert(&zone, &[set(&name, Kind::A, &["192.0.2.1"])]).await.unwrap();
    let never = set(&name, Kind::A, &["192.0.2.200"]);
    match check.wait_for(&never, Duration::from_millis(500)).await {
        Err(Error::NotPropagated { seen, .. }) => assert_eq!(seen, ["192.0.2.1"]),
        other => panic!("expected NotPropagated, got {other:?}"),
    }
    api.delete_zone(&zone).await.unwrap();
}
