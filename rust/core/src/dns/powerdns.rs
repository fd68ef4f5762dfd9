//! The PowerDNS Authoritative HTTP API (`/api/v1/servers/<id>/zones…`): zones with an
//! explicit SOA, and record sets changed many at a time in one PATCH.

use std::fmt;
use std::time::Duration;

use serde_json::{json, Value};

use super::records::{canonical, Kind, RecordSet};
use super::Error;
use crate::names::ValidationError;

/// A new zone's SOA. PowerDNS then keeps the serial (`soa_edit_api`).
#[derive(Clone, Debug)]
pub struct Soa {
    /// The primary name server, e.g. `ns1.example.com`.
    pub primary: String,
    /// The responsible mailbox as a name, e.g. `hostmaster.example.com`.
    pub hostmaster: String,
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    /// Negative-answer TTL: how long a resolver may remember that a name does not exist.
    pub minimum: u32,
}

impl Soa {
    pub fn new(primary: &str, hostmaster: &str) -> Self {
        Self {
            primary: primary.into(),
            hostmaster: hostmaster.into(),
            refresh: 10800,
            retry: 3600,
            expire: 604800,
            minimum: 60,
        }
    }
}

#[derive(Clone)]
pub struct PowerDns {
    http: reqwest::Client,
    /// `<url>/api/v1/servers/<server id>`
    base: String,
    api_key: String,
}

impl fmt::Debug for PowerDns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PowerDns").field("base", &self.base).field("api_key", &"***").finish()
    }
}

impl PowerDns {
    /// `url` is the API's root (`http://127.0.0.1:8081`); `server_id` is `localhost` unless
    /// the operator renamed it. No request is made until the first call.
    pub fn new(url: &str, server_id: &str, api_key: &str) -> Result<Self, Error> {
        crate::tls::use_ring();
        let parsed = reqwest::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
        if parsed.is_none() {
            return Err(ValidationError::new(format!("PowerDNS API URL must be http(s), got {url:?}")).into());
        }
        if server_id.is_empty() || !server_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(ValidationError::new(format!("invalid PowerDNS server id {server_id:?}")).into());
        }
        if api_key.is_empty() || !api_key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ValidationError::new("the PowerDNS API key must be non-empty printable ASCII").into());
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Unreachable(format!("HTTP client: {e}")))?;
        let base = format!("{}/api/v1/servers/{server_id}", url.trim_end_matches('/'));
        Ok(Self { http, base, api_key: api_key.to_string() })
    }

    /// The zones this server is authoritative for, canonical with the trailing dot.
    pub async fn zones(&self) -> Result<Vec<String>, Error> {
        let zones = self.call(reqwest::Method::GET, "/zones", None, "zones").await?;
        Ok(zones.as_array().into_iter().flatten().filter_map(|z| z["name"].as_str().map(str::to_string)).collect())
    }

    /// Creates `zone` (Native, with `soa` and NS records for `nameservers`) unless it exists;
    /// returns whether it was created. An existing zone is left as it is.
    pub async fn ensure_zone(&self, zone: &str, nameservers: &[String], soa: &Soa) -> Result<bool, Error> {
        let zone = canonical(zone)?;
        if nameservers.is_empty() {
            return Err(ValidationError::new("a zone needs at least one name server").into());
        }
        let nameservers = nameservers.iter().map(|n| canonical(n)).collect::<Result<Vec<_>, _>>()?;
        let primary = canonical(&soa.primary)?;
        let hostmaster = canonical(&soa.hostmaster)?;
        if self.zones().await?.contains(&zone) {
            return Ok(false);
        }
        let soa_content =
            format!("{primary} {hostmaster} 1 {} {} {} {}", soa.refresh, soa.retry, soa.expire, soa.minimum);
        let body = json!({
            "name": zone,
            "kind": "Native",
            "soa_edit_api": "DEFAULT",
            "nameservers": [],
            "rrsets": [
                {"name": zone, "type": "SOA", "ttl": 3600, "records": [{"content": soa_content, "disabled": false}]},
                {"name": zone, "type": "NS", "ttl": 3600,
                 "records": nameservers.iter().map(|n| json!({"content": n, "disabled": false})).collect::<Vec<_>>()},
            ],
        });
        match self.call(reqwest::Method::POST, "/zones", Some(body), &zone).await {
            Ok(_) => Ok(true),
            // Created meanwhile by another caller.
            Err(Error::Rejected { status: 409, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn delete_zone(&self, zone: &str) -> Result<(), Error> {
        let zone = canonical(zone)?;
        self.call(reqwest::Method::DELETE, &format!("/zones/{zone}"), None, &zone).await.map(|_| ())
    }

    /// Replaces each of `sets` in `zone` in one PATCH: all of them change, or none.
    /// Writing the same sets again changes nothing.
    pub async fn upsert(&self, zone: &str, sets: &[RecordSet]) -> Result<(), Error> {
        let zone = canonical(zone)?;
        let rrsets = sets
            .iter()
            .map(|set| {
                inside(&set.name, &zone)?;
                Ok(json!({
                    "name": set.name, "type": set.kind.as_str(), "ttl": set.ttl, "changetype": "REPLACE",
                    "records": set.contents.iter().map(|c| json!({"content": c, "disabled": false})).collect::<Vec<_>>(),
                }))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        self.patch(&zone, rrsets).await
    }

    /// Deletes the record sets `(name, kind)` from `zone` in one PATCH; absent ones are fine.
    pub async fn delete(&self, zone: &str, sets: &[(String, Kind)]) -> Result<(), Error> {
        let zone = canonical(zone)?;
        let rrsets = sets
            .iter()
            .map(|(name, kind)| {
                let name = canonical(name)?;
                inside(&name, &zone)?;
                Ok(json!({"name": name, "type": kind.as_str(), "changetype": "DELETE"}))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        self.patch(&zone, rrsets).await
    }

    /// The record sets of `zone` of the types the platform writes (SOA left out).
    pub async fn records(&self, zone: &str) -> Result<Vec<RecordSet>, Error> {
        let zone = canonical(zone)?;
        let body = self.call(reqwest::Method::GET, &format!("/zones/{zone}"), None, &zone).await?;
        let sets = body["rrsets"].as_array().into_iter().flatten().filter_map(|set| {
            Some(RecordSet {
                name: set["name"].as_str()?.to_string(),
                kind: Kind::parse(set["type"].as_str()?).ok()?,
                ttl: set["ttl"].as_u64()? as u32,
                contents: set["records"]
                    .as_array()?
                    .iter()
                    .filter(|r| r["disabled"] != json!(true))
                    .filter_map(|r| r["content"].as_str().map(str::to_string))
                    .collect(),
            })
        });
        Ok(sets.collect())
    }

    async fn patch(&self, zone: &str, rrsets: Vec<Value>) -> Result<(), Error> {
        if rrsets.is_empty() {
            return Ok(());
        }
        let body = json!({ "rrsets": rrsets });
        self.call(reqwest::Method::PATCH, &format!("/zones/{zone}"), Some(body), zone).await.map(|_| ())
    }

    /// Sends one API call. PowerDNS on sqlite fails writes that meet with a 500 (its log says
    /// "database is locked"); such a call changed nothing, and every call here is safe to
    /// repeat, so it is tried again after a short pause.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        subject: &str,
    ) -> Result<Value, Error> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self.call_once(method.clone(), path, body.as_ref(), subject).await {
                Err(Error::Rejected { status: 500, .. }) if attempt < 8 => {
                    tokio::time::sleep(Duration::from_millis(50 << attempt.min(5))).await;
                }
                other => return other,
            }
        }
    }

    async fn call_once(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        subject: &str,
    ) -> Result<Value, Error> {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).header("X-API-Key", &self.api_key);
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body.to_string());
        }
        let response =
            request.send().await.map_err(|e| Error::Unreachable(format!("{subject}: {}", e.without_url())))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| Error::Unreachable(format!("{subject}: {}", e.without_url())))?;
        let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(parsed);
        }
        // PowerDNS explains itself in {"error": …}; a proxy in front may answer plain text.
        let message = parsed["error"].as_str().map(str::to_string).unwrap_or_else(|| text.chars().take(200).collect());
        Err(match status {
            401 | 403 => Error::Denied(message),
            404 if path.starts_with("/zones/") => Error::ZoneMissing(subject.to_string()),
            _ => Error::Rejected { status, message },
        })
    }
}

/// A record outside its zone would be refused by PowerDNS; it is refused here first.
fn inside(name: &str, zone: &str) -> Result<(), ValidationError> {
    if name == zone || name.ends_with(&format!(".{zone}")) {
        Ok(())
    } else {
        Err(ValidationError::new(format!("{name} is not inside zone {zone}")))
    }
}
