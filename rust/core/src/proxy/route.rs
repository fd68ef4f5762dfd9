//! What a site's route is made of, validated, and the Traefik configuration built from it.

use serde_json::{json, Map, Value};

use crate::names::{self, ValidationError};
use crate::pki;

/// Traefik names of the platform's own routers, services and middlewares. They start with
/// `_`, which no validated site name can, so they never collide with a site's.
pub const MAINTENANCE: &str = "_maintenance";
pub const DEFAULT: &str = "_default";
pub const REDIRECT: &str = "_redirect";

/// A certificate with its private key, both PEM. The key is a secret: it is never printed.
#[derive(Clone)]
pub struct Certificate {
    pub chain_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate").field("key_pem", &"<redacted>").finish_non_exhaustive()
    }
}

impl Certificate {
    /// Refuses a certificate that does not parse, a key that is not one, or a pair whose
    /// certificate does not cover every host: Traefik would otherwise serve its default
    /// certificate and browsers would refuse the site.
    pub fn check(&self, hosts: &[String]) -> Result<(), ValidationError> {
        let info = pki::inspect(&self.chain_pem)
            .map_err(|e| ValidationError::new(format!("the certificate does not parse: {e}")))?;
        let key = pem::parse(&self.key_pem).map_err(|_| ValidationError::new("the private key is not PEM"))?;
        if !key.tag().ends_with("PRIVATE KEY") {
            return Err(ValidationError::new(format!("expected a private key, found a PEM {:?} block", key.tag())));
        }
        // PKCS#8 keys (the platform CA's) are matched to the certificate; SEC1 and PKCS#1 keys
        // from elsewhere are passed to Traefik as they are.
        if key.tag() == "PRIVATE KEY" {
            let pair = rcgen::KeyPair::from_pem(&self.key_pem)
                .map_err(|_| ValidationError::new("the private key does not parse"))?;
            if pair.public_key_raw() != leaf_public_key(&self.chain_pem).as_deref().unwrap_or_default() {
                return Err(ValidationError::new("the private key does not belong to the certificate"));
            }
        }
        for host in hosts {
            if !info.names.iter().any(|name| covers(name, host)) {
                return Err(ValidationError::new(format!(
                    "the certificate (for {}) does not cover {host}",
                    info.names.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// The leaf's subject public key bits (the first certificate of the chain).
fn leaf_public_key(chain_pem: &str) -> Option<Vec<u8>> {
    use x509_parser::prelude::FromDer;
    let block = pem::parse_many(chain_pem).ok()?.into_iter().find(|b| b.tag() == "CERTIFICATE")?;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(block.contents()).ok()?;
    Some(cert.public_key().subject_public_key.data.to_vec())
}

fn covers(name: &str, host: &str) -> bool {
    match name.strip_prefix("*.") {
        Some(parent) => host.split_once('.').is_some_and(|(_, rest)| rest == parent),
        None => name == host,
    }
}

/// One site's route: its own name and extra domains (Press's Site Domain), the bench
/// container(s) serving it, and its certificate, or none to use the platform's wildcard.
#[derive(Debug, Clone)]
pub struct SiteRoute {
    pub site: String,
    pub extra_hosts: Vec<String>,
    pub upstreams: Vec<String>,
    /// Where `/socket.io` goes (a bench's socketio process); empty: with the rest.
    pub socketio: Vec<String>,
    /// The Frappe site the requests are for, sent as `X-Frappe-Site-Name` (as Press's nginx
    /// does): a custom domain's route names its site here.
    pub frappe_site: Option<String>,
    pub certificate: Option<Certificate>,
    /// Deactivated or suspended (Press's "Update Site Status"): served by the platform's
    /// maintenance page, or by its own upstreams where the platform has none.
    pub maintenance: bool,
}

/// A router as written, which the read-back compares with what Traefik loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Traefik's full name, with the provider: `<name>@file`.
    pub router: String,
    pub rule: String,
    pub service: String,
    /// False when the file already said exactly this.
    pub changed: bool,
}

/// A site's route with every part validated and canonical.
pub struct Checked {
    pub site: String,
    pub hosts: Vec<String>,
    pub upstreams: Vec<String>,
    pub socketio: Vec<String>,
    pub frappe_site: Option<String>,
}

impl SiteRoute {
    pub fn check(&self) -> Result<Checked, ValidationError> {
        let site = names::domain(&self.site, false)?;
        let mut hosts = vec![site.clone()];
        for host in &self.extra_hosts {
            let host = names::domain(host, false)?;
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
        if self.upstreams.is_empty() {
            return Err(ValidationError::new(format!("site {site} needs at least one upstream")));
        }
        let upstreams = self.upstreams.iter().map(|u| upstream(u)).collect::<Result<Vec<_>, _>>()?;
        let socketio = self.socketio.iter().map(|u| upstream(u)).collect::<Result<Vec<_>, _>>()?;
        if let Some(certificate) = &self.certificate {
            certificate.check(&hosts)?;
        }
        let frappe_site = self.frappe_site.as_deref().map(|s| names::domain(s, false)).transpose()?;
        Ok(Checked { site, hosts, upstreams, socketio, frappe_site })
    }
}

/// The platform's own routes: the wildcard certificate (Traefik's default certificate), the
/// maintenance page, a page for unknown hosts, and the redirect from HTTP to HTTPS.
#[derive(Debug, Clone, Default)]
pub struct Platform {
    pub wildcard: Option<Certificate>,
    pub maintenance_url: Option<String>,
    pub default_url: Option<String>,
}

/// An upstream is `http(s)://host:port` and nothing else: no credentials, path or query.
pub fn upstream(text: &str) -> Result<String, ValidationError> {
    let invalid = |why: &str| ValidationError::new(format!("upstream {text:?} {why}"));
    let url = reqwest::Url::parse(text).map_err(|_| invalid("is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must be http:// or https://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not carry credentials"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must be scheme://host:port only"));
    }
    let host = url.host_str().ok_or_else(|| invalid("has no host"))?;
    let port = url.port_or_known_default().ok_or_else(|| invalid("has no port"))?;
    Ok(format!("{}://{host}:{port}", url.scheme()))
}

pub fn host_rule(hosts: &[String]) -> String {
    hosts.iter().map(|h| format!("Host(`{h}`)")).collect::<Vec<_>>().join(" || ")
}

fn servers(urls: &[String]) -> Value {
    json!({"loadBalancer": {"servers": urls.iter().map(|u| json!({"url": u})).collect::<Vec<_>>()}})
}

fn tls_files(cert_file: &str, key_file: &str) -> Value {
    json!({"certFile": cert_file, "keyFile": key_file})
}

/// The name of a site's socketio router and service: `_` cannot occur in a validated site
/// name, so it never collides with another site's.
pub fn socketio_name(site: &str) -> String {
    format!("{site}_socketio")
}

/// The site's file: its router and service (and a second pair for `/socket.io` when the site
/// has socketio upstreams), and its certificate when it has its own. The routes are returned
/// main router first.
pub fn site_config(
    checked: &Checked,
    entry_point: &str,
    maintenance: bool,
    cert_files: Option<(&str, &str)>,
) -> (Value, Vec<Route>) {
    let rule = host_rule(&checked.hosts);
    let service = if maintenance { MAINTENANCE.to_string() } else { checked.site.clone() };
    let mut routers = Map::new();
    let mut services = Map::new();
    let mut middlewares = Map::new();
    let mut used: Vec<String> = vec![];
    if let Some(frappe_site) = &checked.frappe_site {
        let name = format!("{}_site", checked.site);
        middlewares
            .insert(name.clone(), json!({"headers": {"customRequestHeaders": {"X-Frappe-Site-Name": frappe_site}}}));
        used.push(name);
    }
    let router = |rule: &str, service: &str| {
        let mut r = json!({"rule": rule, "entryPoints": [entry_point], "service": service, "tls": {}});
        if !used.is_empty() {
            r["middlewares"] = json!(used);
        }
        r
    };
    routers.insert(checked.site.clone(), router(&rule, &service));
    // The service stays defined in maintenance, so the file still says where the site lives.
    services.insert(checked.site.clone(), servers(&checked.upstreams));
    let mut routes =
        vec![Route { router: format!("{}@file", checked.site), rule: rule.clone(), service, changed: false }];
    if !checked.socketio.is_empty() {
        let name = socketio_name(&checked.site);
        let rule = format!("({rule}) && PathPrefix(`/socket.io`)");
        let service = if maintenance { MAINTENANCE.to_string() } else { name.clone() };
        routers.insert(name.clone(), router(&rule, &service));
        services.insert(name.clone(), servers(&checked.socketio));
        routes.push(Route { router: format!("{name}@file"), rule, service, changed: false });
    }
    let mut http = Map::new();
    http.insert("routers".into(), Value::Object(routers));
    http.insert("services".into(), Value::Object(services));
    if !middlewares.is_empty() {
        http.insert("middlewares".into(), Value::Object(middlewares));
    }
    let mut config = Map::new();
    config.insert("http".into(), Value::Object(http));
    if let Some((cert, key)) = cert_files {
        config.insert("tls".into(), json!({"certificates": [tls_files(cert, key)]}));
    }
    (Value::Object(config), routes)
}

/// The platform's file. Only the parts asked for are written: Traefik refuses an empty
/// section, and that refusal would take every site down with it.
pub fn platform_config(
    maintenance_url: Option<&str>,
    default_url: Option<&str>,
    entry_point: &str,
    http_entry_point: Option<&str>,
    wildcard_files: Option<(&str, &str)>,
) -> (Value, Vec<Route>) {
    let (mut routers, mut services, mut middlewares, mut routes) = (Map::new(), Map::new(), Map::new(), Vec::new());
    if let Some(url) = maintenance_url {
        services.insert(MAINTENANCE.into(), servers(&[url.to_string()]));
    }
    if let Some(url) = default_url {
        let rule = "PathPrefix(`/`)".to_string();
        // Priority 1: any site's Host rule wins over the catch-all.
        routers.insert(
            DEFAULT.into(),
            json!({"rule": rule, "priority": 1, "entryPoints": [entry_point], "service": DEFAULT, "tls": {}}),
        );
        services.insert(DEFAULT.into(), servers(&[url.to_string()]));
        routes.push(Route { router: format!("{DEFAULT}@file"), rule, service: DEFAULT.into(), changed: false });
    }
    if let Some(http_entry_point) = http_entry_point {
        let rule = "PathPrefix(`/`)".to_string();
        routers.insert(
            REDIRECT.into(),
            json!({"rule": rule, "priority": 1, "entryPoints": [http_entry_point], "middlewares": [REDIRECT],
                   "service": "noop@internal"}),
        );
        middlewares.insert(REDIRECT.into(), json!({"redirectScheme": {"scheme": "https", "permanent": true}}));
        routes.push(Route {
            router: format!("{REDIRECT}@file"),
            rule,
            service: "noop@internal".into(),
            changed: false,
        });
    }
    let mut http = Map::new();
    for (section, map) in [("routers", routers), ("services", services), ("middlewares", middlewares)] {
        if !map.is_empty() {
            http.insert(section.into(), Value::Object(map));
        }
    }
    let mut config = Map::new();
    if !http.is_empty() {
        config.insert("http".into(), Value::Object(http));
    }
    if let Some((cert, key)) = wildcard_files {
        config.insert(
            "tls".into(),
            json!({"certificates": [tls_files(cert, key)],
                   "stores": {"default": {"defaultCertificate": tls_files(cert, key)}}}),
        );
    }
    (Value::Object(config), routes)
}

/// The monitor server's routes: `/prometheus` and `/alertmanager` of its name go to those
/// servers, the prefix stripped, behind basic auth (Press asks Prometheus there with the
/// Monitor Server's credentials, press/api/analytics.py).
#[derive(Debug, Clone)]
pub struct MonitorRoute {
    pub host: String,
    pub prometheus_url: String,
    pub alertmanager_url: String,
    /// htpasswd lines `user:hash` as Traefik's basicAuth takes them (bcrypt, apr1 or {SHA}).
    pub users: Vec<String>,
}

const MONITOR_AUTH: &str = "_monitor_auth";
const MONITOR_PARTS: [(&str, &str); 2] = [("_prometheus", "/prometheus"), ("_alertmanager", "/alertmanager")];

impl MonitorRoute {
    /// The host, the two upstreams and the users, validated and canonical.
    fn check(&self) -> Result<(String, [String; 2], Vec<String>), ValidationError> {
        let host = names::domain(&self.host, false)?;
        let upstreams = [upstream(&self.prometheus_url)?, upstream(&self.alertmanager_url)?];
        if self.users.is_empty() {
            return Err(ValidationError::new("the monitor's routes need at least one user"));
        }
        for line in &self.users {
            let (user, hash) = line.split_once(':').unwrap_or(("", ""));
            let known = ["$2y$", "$2a$", "$2b$", "$apr1$", "{SHA}"].iter().any(|p| hash.starts_with(p));
            let clean = line.bytes().all(|b| b.is_ascii_graphic());
            if user.is_empty() || !known || !clean {
                return Err(ValidationError::new(
                    "a monitor user is an htpasswd line, user:hash (bcrypt, apr1 or {SHA}), with no spaces",
                ));
            }
        }
        Ok((host, upstreams, self.users.clone()))
    }
}

/// The monitor server's file: a router, a prefix-stripping middleware and a service for each
/// of Prometheus and Alertmanager, and the basic auth both share.
pub fn monitor_config(monitor: &MonitorRoute, entry_point: &str) -> Result<(Value, Vec<Route>), ValidationError> {
    let (host, upstreams, users) = monitor.check()?;
    let (mut routers, mut services, mut middlewares, mut routes) = (Map::new(), Map::new(), Map::new(), Vec::new());
    middlewares.insert(MONITOR_AUTH.into(), json!({"basicAuth": {"users": users, "removeHeader": true}}));
    for ((name, prefix), url) in MONITOR_PARTS.iter().zip(upstreams) {
        let rule = format!("Host(`{host}`) && PathPrefix(`{prefix}`)");
        let strip = format!("{name}_path");
        routers.insert(
            (*name).into(),
            json!({"rule": rule, "entryPoints": [entry_point], "middlewares": [MONITOR_AUTH, strip], "service": name,
                   "tls": {}}),
        );
        middlewares.insert(strip, json!({"stripPrefix": {"prefixes": [prefix]}}));
        services.insert((*name).into(), servers(&[url]));
        routes.push(Route { router: format!("{name}@file"), rule, service: (*name).into(), changed: false });
    }
    let config = json!({"http": {"routers": routers, "services": services, "middlewares": middlewares}});
    Ok((config, routes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_are_host_and_port_only() {
        assert_eq!(upstream("http://127.0.0.1:8000").unwrap(), "http://127.0.0.1:8000");
        assert_eq!(upstream("http://bench-1").unwrap(), "http://bench-1:80");
        for bad in ["ftp://x:1", "http://u:p@x:1", "http://x:1/path", "http://x:1/?q", "x:1", ""] {
            assert!(upstream(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn wildcard_covers_one_label_only() {
        assert!(covers("*.example.com", "a.example.com"));
        assert!(!covers("*.example.com", "a.b.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(covers("a.example.com", "a.example.com"));
    }

    #[test]
    fn site_names_and_hosts_are_validated_and_canonical() {
        let route = SiteRoute {
            site: "Shop.Example.COM.".into(),
            extra_hosts: vec!["shop.example.com".into(), "www.shop.test".into()],
            upstreams: vec!["http://127.0.0.1:9000".into()],
            socketio: vec![],
            frappe_site: None,
            certificate: None,
            maintenance: false,
        };
        let checked = route.check().unwrap();
        assert_eq!(checked.hosts, ["shop.example.com", "www.shop.test"]);
        assert_eq!(host_rule(&checked.hosts), "Host(`shop.example.com`) || Host(`www.shop.test`)");
        for site in ["../x", "a`b.test", "*.example.com", "a b.test", ""] {
            let bad = SiteRoute { site: site.into(), ..route.clone() };
            assert!(bad.check().is_err(), "{site:?} accepted");
        }
        let no_upstream = SiteRoute { upstreams: vec![], ..route };
        assert!(no_upstream.check().is_err());
    }

    #[test]
    fn the_monitor_routes_check_their_users_and_upstreams() {
        let monitor = MonitorRoute {
            host: "Monitor.Example.com".into(),
            prometheus_url: "http://127.0.0.1:9090".into(),
            alertmanager_url: "http://127.0.0.1:9093".into(),
            users: vec!["frappe:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=".into()],
        };
        let (config, routes) = monitor_config(&monitor, "websecure").unwrap();
        assert_eq!(routes[0].rule, "Host(`monitor.example.com`) && PathPrefix(`/prometheus`)");
        assert_eq!(routes[1].service, "_alertmanager");
        assert_eq!(config["http"]["middlewares"]["_prometheus_path"]["stripPrefix"]["prefixes"][0], "/prometheus");
        for users in [vec![], vec!["frappe:plain".to_string()], vec![":{SHA}x".into()], vec!["a b:{SHA}x".into()]] {
            assert!(monitor_config(&MonitorRoute { users: users.clone(), ..monitor.clone() }, "websecure").is_err(), "{users:?}");
        }
        let bad_url = MonitorRoute { prometheus_url: "http://u:p@x:1".into(), ..monitor.clone() };
        assert!(monitor_config(&bad_url, "websecure").is_err());
    }
}
