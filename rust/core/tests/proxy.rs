//! The proxy module against the real Traefik that `make test` starts (it sets
//! PRESS_SELFHOSTED_TEST_TRAEFIK_DIR / _API / _HTTPS / _HTTP): files written, read back
//! through Traefik's API, and real HTTPS requests through it with a client that trusts only
//! the platform root.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use press_selfhosted_core::pki::{inspect, CaOptions, CertificateAuthority, LeafRequest};
use press_selfhosted_core::proxy::{Certificate, Error, Platform, ProxyConfig, SiteRoute, TraefikApi};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run through `make test`"))
}

fn config() -> ProxyConfig {
    ProxyConfig::new(Path::new(&var("PRESS_SELFHOSTED_TEST_TRAEFIK_DIR")), "websecure", Some("web")).unwrap()
}

fn api() -> TraefikApi {
    TraefikApi::new(&var("PRESS_SELFHOSTED_TEST_TRAEFIK_API")).unwrap()
}

const WAIT: Duration = Duration::from_secs(15);

/// A domain of this test's own, so tests running side by side never share a site.
fn domain(label: &str) -> String {
    format!("{label}-{}.proxy.test", std::process::id())
}

struct Ca {
    _dir: tempfile::TempDir,
    ca: CertificateAuthority,
}

impl Ca {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertificateAuthority::create(&dir.path().join("ca"), &CaOptions::default(), None).unwrap();
        Self { _dir: dir, ca }
    }

    fn certificate(&self, names: &[&str]) -> Certificate {
        let issued = self.ca.issue(&LeafRequest::server(names.iter().copied())).unwrap();
        Certificate { chain_pem: issued.full_chain_pem(), key_pem: issued.key.to_pem(None).unwrap() }
    }

    /// A client that trusts only this CA's root and sends every name to Traefik's port.
    fn client(&self, hosts: &[&str]) -> reqwest::Client {
        let https: SocketAddr = var("PRESS_SELFHOSTED_TEST_TRAEFIK_HTTPS").parse().unwrap();
        let root = reqwest::Certificate::from_pem(self.ca.root_pem().as_bytes()).unwrap();
        let mut builder = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(root)
            .redirect(reqwest::redirect::Policy::none())
            .tls_info(true)
            .no_proxy();
        for host in hosts {
            builder = builder.resolve(host, https);
        }
        builder.build().unwrap()
    }
}

/// An upstream answering every request with `status`, its own `tag` and the Host it was
/// asked for, so a test can tell who answered and for which site.
async fn upstream(tag: &'static str, status: u16) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = conn.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let host = request
                    .lines()
                    .find_map(|l| l.strip_prefix("Host: ").or_else(|| l.strip_prefix("host: ")))
                    .unwrap_or("")
                    .to_string();
                // The site Frappe is told to serve, when the route names one (as Press's nginx does).
                let site = request
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("x-frappe-site-name: ").map(str::to_string))
                    .map(|s| format!(" as {s}"))
                    .unwrap_or_default();
                let body = format!("{tag} for {host}{site}");
                let reply =
                    format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                let _ = conn.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{address}")
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String) {
    let response = client.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e:?}"));
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The serial of the certificate Traefik serves for `host` (on a new connection each time).
async fn served_serial(ca: &Ca, host: &str) -> String {
    let response = ca.client(&[host]).get(format!("https://{host}/")).send().await.unwrap();
    let info = response.extensions().get::<reqwest::tls::TlsInfo>().expect("TLS info");
    let der = info.peer_certificate().expect("a peer certificate");
    inspect(&pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()))).unwrap().serial
}

/// Waits until Traefik serves the certificate with `serial` for `host`: a renewal written to
/// the directory must reach the wire without anything else changing there.
async fn wait_served(ca: &Ca, host: &str, serial: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let served = served_serial(ca, host).await;
        if served == serial {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{host}: Traefik still serves {served}, not the renewed {serial}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn serial(certificate: &Certificate) -> String {
    inspect(&certificate.chain_pem).unwrap().serial
}

/// The certificate files under `certs/` whose name starts with `stem.`.
fn cert_files(config: &ProxyConfig, stem: &str) -> Vec<PathBuf> {
    listing(&config.dir().join("certs"))
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(&format!("{stem}.")))
        .collect()
}

fn site(name: &str, upstream: &str, certificate: Option<Certificate>) -> SiteRoute {
    SiteRoute {
        site: name.into(),
        extra_hosts: vec![],
        upstreams: vec![upstream.into()],
        socketio: vec![],
        frappe_site: None,
        certificate,
        maintenance: false,
    }
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = walk(dir);
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

#[tokio::test]
async fn a_site_is_served_over_https_with_its_own_certificate_then_removed() {
    let (ca, config, api) = (Ca::new(), config(), api());
    let name = domain("shop");
    let extra = format!("www.{name}");
    let up = upstream("shop", 200).await;
    let mut route = site(&name, &up, Some(ca.certificate(&[&name, &extra])));
    route.extra_hosts = vec![extra.clone()];
    let written = config.write_site(&route).unwrap().remove(0);
    assert!(written.changed);
    assert_eq!(written.router, format!("{name}@file"));
    let loaded = api.wait_loaded(std::slice::from_ref(&written), WAIT).await.unwrap();
    assert_eq!(loaded[0].status, "enabled");

    let client = ca.client(&[&name, &extra]);
    for host in [&name, &extra] {
        assert_eq!(get(&client, &format!("https://{host}/")).await, (200, format!("shop for {host}")));
    }
    let files = cert_files(&config, &name);
    assert_eq!(files.len(), 2, "{files:?}");
    let key = files.iter().find(|p| p.extension().unwrap() == "key").unwrap().clone();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!config.write_site(&route).unwrap().remove(0).changed, "writing the same route again changes nothing");
    assert!(config.sites().unwrap().contains(&name));

    assert!(config.remove_site(&name).unwrap());
    api.wait_gone(std::slice::from_ref(&written.router), WAIT).await.unwrap();
    assert!(!key.exists() && !config.dir().join(format!("{name}.yaml")).exists());
    assert!(!config.remove_site(&name).unwrap(), "removing it again finds nothing");
    let after = client.get(format!("https://{name}/")).send().await;
    assert!(after.is_err() || after.unwrap().status() == 404, "a removed site is no longer served");
}

#[tokio::test]
async fn a_renewed_site_certificate_is_served_and_the_old_one_removed() {
    let (ca, config, api) = (Ca::new(), config(), api());
    let name = domain("renewed");
    let up = upstream("renewed", 200).await;
    let first = ca.certificate(&[&name]);
    let route = config.write_site(&site(&name, &up, Some(first.clone()))).unwrap().remove(0);
    api.wait_loaded(&[route], WAIT).await.unwrap();
    wait_served(&ca, &name, &serial(&first)).await;
    let old_files = cert_files(&config, &name);

    let renewed = ca.certificate(&[&name]);
    assert_ne!(serial(&renewed), serial(&first));
    let route = config.write_site(&site(&name, &up, Some(renewed.clone()))).unwrap().remove(0);
    assert!(route.changed, "a renewed certificate changes the site's file");
    wait_served(&ca, &name, &serial(&renewed)).await;
    let new_files = cert_files(&config, &name);
    assert_eq!(new_files.len(), 2, "{new_files:?}");
    assert!(old_files.iter().all(|old| !old.exists()), "the old certificate's files are gone: {new_files:?}");
    assert!(!config.write_site(&site(&name, &up, Some(renewed))).unwrap().remove(0).changed);
    config.remove_site(&name).unwrap();
    assert!(cert_files(&config, &name).is_empty());
}

#[tokio::test]
async fn two_sites_never_see_each_others_traffic() {
    let (ca, config, api) = (Ca::new(), config(), api());
    let (a, b) = (domain("tenant-a"), domain("tenant-b"));
    let (up_a, up_b) = (upstream("A", 200).await, upstream("B", 200).await);
    let routes = vec![
        config.write_site(&site(&a, &up_a, Some(ca.certificate(&[&a])))).unwrap().remove(0),
        config.write_site(&site(&b, &up_b, Some(ca.certificate(&[&b])))).unwrap().remove(0),
    ];
    api.wait_loaded(&routes, WAIT).await.unwrap();
    let client = ca.client(&[&a, &b]);
    assert_eq!(get(&client, &format!("https://{a}/")).await, (200, format!("A for {a}")));
    assert_eq!(get(&client, &format!("https://{b}/")).await, (200, format!("B for {b}")));
    // Asking for b on a connection made for a: Traefik routes by Host, to b's upstream only.
    let crossed = client.get(format!("https://{a}/")).header("Host", &b).send().await.unwrap();
    assert_eq!((crossed.status().as_u16(), crossed.text().await.unwrap()), (200, format!("B for {b}")));
    for name in [&a, &b] {
        config.remove_site(name).unwrap();
    }
}

#[tokio::test]
async fn a_router_traefik_disables_is_reported_with_traefik_s_error() {
    let (ca, api) = (Ca::new(), api());
    // An entry point Traefik does not have: the file is valid, the router is not.
    let wrong = ProxyConfig::new(Path::new(&var("PRESS_SELFHOSTED_TEST_TRAEFIK_DIR")), "nosuch", None).unwrap();
    let name = domain("lost");
    let up = upstream("lost", 200).await;
    let route = wrong.write_site(&site(&name, &up, Some(ca.certificate(&[&name])))).unwrap().remove(0);
    let error = api.wait_loaded(&[route], Duration::from_secs(4)).await.unwrap_err();
    match &error {
        Error::RouteDisabled { router, errors, .. } => {
            assert_eq!(router, &format!("{name}@file"));
            assert!(errors.iter().any(|e| e.contains("nosuch")), "{errors:?}");
        }
        other => panic!("expected RouteDisabled, got {other:?}"),
    }
    wrong.remove_site(&name).unwrap();
}

#[tokio::test]
async fn invalid_input_is_refused_and_writes_nothing() {
    let (ca, config) = (Ca::new(), config());
    let name = domain("refused");
    let before = listing(config.dir());
    let good = site(&name, "http://127.0.0.1:9", None);
    let other_cert = ca.certificate(&["elsewhere.test"]);
    let mismatched_key = Certificate { key_pem: ca.certificate(&[&name]).key_pem, ..ca.certificate(&[&name]) };
    let cases = vec![
        SiteRoute { site: "../../etc/passwd".into(), ..good.clone() },
        SiteRoute { site: format!("a`) || Host(`x.{name}"), ..good.clone() },
        SiteRoute { extra_hosts: vec!["*.wild.test".into()], ..good.clone() },
        SiteRoute { upstreams: vec!["http://127.0.0.1:9/admin".into()], ..good.clone() },
        SiteRoute { upstreams: vec![], ..good.clone() },
        SiteRoute { frappe_site: Some("a b.test".into()), ..good.clone() },
        SiteRoute { certificate: Some(other_cert), ..good.clone() },
        SiteRoute { certificate: Some(mismatched_key), ..good.clone() },
        SiteRoute {
            certificate: Some(Certificate { chain_pem: "garbage".into(), key_pem: "garbage".into() }),
            ..good.clone()
        },
    ];
    for case in cases {
        let error = config.write_site(&case).unwrap_err();
        assert!(matches!(error, Error::Invalid(_)), "{case:?}: {error:?}");
    }
    let bad_platform = Platform { maintenance_url: Some("file:///etc/passwd".into()), ..Platform::default() };
    assert!(matches!(config.write_platform(&bad_platform), Err(Error::Invalid(_))));
    assert!(ProxyConfig::new(Path::new("relative/dir"), "websecure", None).is_err());
    assert!(ProxyConfig::new(config.dir(), "web secure", None).is_err());
    assert_eq!(listing(config.dir()), before, "nothing was written");
}

#[tokio::test]
async fn a_half_written_file_never_reaches_traefik() {
    let (ca, config, api) = (Ca::new(), config(), api());
    let name = domain("crash");
    // What a writer killed mid-write leaves: its temporary file, with broken YAML in it.
    let leftover = config.dir().join(format!(".{name}.yaml.999999.0.tmp"));
    std::fs::write(&leftover, "http:\n  routers: {broken: [\n").unwrap();
    let up = upstream("after-crash", 200).await;
    let route = config.write_site(&site(&name, &up, Some(ca.certificate(&[&name])))).unwrap().remove(0);
    // Were the leftover read, Traefik would drop the whole file provider and never load this.
    api.wait_loaded(&[route], WAIT).await.unwrap();
    assert_eq!(get(&ca.client(&[&name]), &format!("https://{name}/")).await.0, 200);
    std::fs::remove_file(leftover).unwrap();
    config.remove_site(&name).unwrap();
}

/// The only test that writes the platform's file (tests run side by side in one Traefik).
#[tokio::test]
async fn wildcard_maintenance_default_and_redirect_routes() {
    let (ca, config, api) = (Ca::new(), config(), api());
    let zone = domain("platform");
    let name = format!("site.{zone}");
    let (up, maintenance, default) =
        (upstream("site", 200).await, upstream("maintenance", 503).await, upstream("no such site", 404).await);
    let platform = Platform {
        wildcard: Some(ca.certificate(&[&format!("*.{zone}")])),
        maintenance_url: Some(maintenance),
        default_url: Some(default),
    };
    let mut routes = config.write_platform(&platform).unwrap();
    let mut route = site(&name, &up, None); // served with the wildcard
    routes.push(config.write_site(&route).unwrap().remove(0));
    api.wait_loaded(&routes, WAIT).await.unwrap();
    let unknown = format!("unknown.{zone}");
    let client = ca.client(&[&name, &unknown]);
    assert_eq!(get(&client, &format!("https://{name}/")).await, (200, format!("site for {name}")));
    assert_eq!(get(&client, &format!("https://{unknown}/")).await, (404, format!("no such site for {unknown}")));

    route.maintenance = true;
    let suspended = config.write_site(&route).unwrap().remove(0);
    assert!(suspended.changed);
    api.wait_loaded(&[suspended], WAIT).await.unwrap();
    assert_eq!(get(&client, &format!("https://{name}/")).await, (503, format!("maintenance for {name}")));
    route.maintenance = false;
    let active = config.write_site(&route).unwrap().remove(0);
    api.wait_loaded(&[active], WAIT).await.unwrap();
    assert_eq!(get(&client, &format!("https://{name}/")).await.0, 200);

    // A renewed wildcard (Traefik's default certificate) reaches the wire too.
    let renewed = Platform { wildcard: Some(ca.certificate(&[&format!("*.{zone}")])), ..platform.clone() };
    let served = serial(platform.wildcard.as_ref().unwrap());
    assert_eq!(served_serial(&ca, &name).await, served);
    assert!(config.write_platform(&renewed).unwrap().iter().all(|r| r.changed));
    let new_serial = serial(renewed.wildcard.as_ref().unwrap());
    wait_served(&ca, &name, &new_serial).await;
    wait_served(&ca, &unknown, &new_serial).await;
    assert_eq!(cert_files(&config, "_platform").len(), 2, "the old wildcard's files are gone");

    let http = var("PRESS_SELFHOSTED_TEST_TRAEFIK_HTTP");
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap();
    let redirect = plain.get(format!("http://{http}/path")).header("Host", &name).send().await.unwrap();
    assert_eq!(redirect.status().as_u16(), 301);
    assert_eq!(redirect.headers()["location"], format!("https://{name}/path"));

    config.remove_site(&name).unwrap();
    config.write_platform(&Platform::default()).unwrap();
    assert!(cert_files(&config, "_platform").is_empty());
}

#[tokio::test]
async fn socket_io_reaches_its_own_upstream_and_the_rest_the_web() {
    let (ca, config, api) = (Ca::new(), config(), api());
    let name = domain("live");
    let (web, socketio) = (upstream("web", 200).await, upstream("socketio", 200).await);
    let mut route = site(&name, &web, Some(ca.certificate(&[&name])));
    route.socketio = vec![socketio];
    route.frappe_site = Some(format!("home.{name}"));
    let written = config.write_site(&route).unwrap();
    assert_eq!(written.len(), 2);
    assert_eq!(written[1].router, format!("{name}_socketio@file"));
    api.wait_loaded(&written, WAIT).await.unwrap();
    let client = ca.client(&[&name]);
    assert_eq!(
        get(&client, &format!("https://{name}/socket.io/?EIO=4")).await,
        (200, format!("socketio for {name} as home.{name}"))
    );
    assert_eq!(get(&client, &format!("https://{name}/login")).await, (200, format!("web for {name} as home.{name}")));
    config.remove_site(&name).unwrap();
    api.wait_gone(&[written[0].router.clone(), written[1].router.clone()], WAIT).await.unwrap();
}

#[test]
fn a_site_in_maintenance_stays_on_its_upstream_until_the_platform_has_a_maintenance_page() {
    // A directory of its own: the shared one's platform file belongs to the test above.
    let dir = tempfile::tempdir().unwrap();
    let config = ProxyConfig::new(dir.path(), "websecure", None).unwrap();
    let name = domain("paused");
    let mut route = site(&name, "http://127.0.0.1:1", None);
    route.maintenance = true;
    assert!(!config.has_maintenance_page().unwrap());
    // Routed to a maintenance service that does not exist, Traefik would disable the router.
    assert_eq!(config.write_site(&route).unwrap()[0].service, name);

    let page = Platform { maintenance_url: Some("http://127.0.0.1:2".into()), ..Platform::default() };
    config.write_platform(&page).unwrap();
    assert!(config.has_maintenance_page().unwrap());
    assert_eq!(config.write_site(&route).unwrap()[0].service, "_maintenance");
    route.maintenance = false;
    assert_eq!(config.write_site(&route).unwrap()[0].service, name);

    // A default page alone (another service of the same file) is not a maintenance page.
    let default_only = Platform { default_url: Some("http://127.0.0.1:3".into()), ..Platform::default() };
    config.write_platform(&default_only).unwrap();
    assert!(!config.has_maintenance_page().unwrap());
}
