//! Read-back through Traefik's API: a file on disk proves nothing until Traefik has loaded
//! it, and a router it loaded may still be disabled (a missing service, a bad rule).

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::route::Route;
use super::Error;
use crate::names::ValidationError;

/// A router as Traefik reports it (`GET /api/http/routers`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RouterStatus {
    pub name: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub service: String,
    /// `enabled`, `warning` or `disabled`.
    pub status: String,
    #[serde(default, rename = "error")]
    pub errors: Vec<String>,
}

const POLL: Duration = Duration::from_millis(200);

pub struct TraefikApi {
    base: reqwest::Url,
    client: reqwest::Client,
}

impl TraefikApi {
    pub fn new(url: &str) -> Result<Self, Error> {
        let base = reqwest::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| ValidationError::new(format!("invalid Traefik API URL {url:?}")))?;
        crate::tls::use_ring();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Unreachable(e.to_string()))?;
        Ok(Self { base, client })
    }

    /// Every HTTP router Traefik serves, all pages of them.
    pub async fn routers(&self) -> Result<Vec<RouterStatus>, Error> {
        let mut routers = Vec::new();
        let mut page = 1u32;
        loop {
            let mut url = self.base.join("api/http/routers").map_err(|e| Error::Unreachable(e.to_string()))?;
            url.query_pairs_mut().append_pair("per_page", "500").append_pair("page", &page.to_string());
            let response =
                self.client.get(url).send().await.map_err(|e| Error::Unreachable(e.without_url().to_string()))?;
            let status = response.status();
            // Traefik names the next page, or repeats 1 after the last one.
            let next =
                response.headers().get("X-Next-Page").and_then(|v| v.to_str().ok()?.parse::<u32>().ok()).unwrap_or(1);
            let body = response.bytes().await.map_err(|e| Error::Unreachable(e.without_url().to_string()))?;
            if !status.is_success() {
                let message = String::from_utf8_lossy(&body).trim().chars().take(300).collect();
                return Err(Error::Api { status: status.as_u16(), message });
            }
            let batch: Vec<RouterStatus> = serde_json::from_slice(&body)
                .map_err(|e| Error::Api { status: status.as_u16(), message: format!("unexpected answer: {e}") })?;
            routers.extend(batch);
            if next <= page {
                return Ok(routers);
            }
            page = next;
        }
    }

    /// Waits until Traefik serves every route as written (same rule and service) and
    /// enabled. A route still missing, or loaded but not enabled, when `timeout` runs out is
    /// an error naming it and, for a disabled one, Traefik's own error text.
    pub async fn wait_loaded(&self, routes: &[Route], timeout: Duration) -> Result<Vec<RouterStatus>, Error> {
        let started = Instant::now();
        loop {
            let routers = self.routers().await?;
            let mut found = Vec::with_capacity(routes.len());
            let mut pending = None;
            for route in routes {
                let loaded = routers
                    .iter()
                    .find(|r| r.name == route.router && r.rule == route.rule && r.service == route.service);
                match loaded {
                    Some(router) if router.status == "enabled" => found.push(router.clone()),
                    other => {
                        pending.get_or_insert((route, other.cloned()));
                    }
                }
            }
            let Some((route, seen)) = pending else {
                return Ok(found);
            };
            if started.elapsed() >= timeout {
                let seconds = started.elapsed().as_secs_f64();
                return Err(match seen {
                    Some(router) => {
                        Error::RouteDisabled { router: router.name, status: router.status, errors: router.errors }
                    }
                    None => Error::NotLoaded { router: route.router.clone(), seconds },
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until Traefik no longer serves any of `routers` (full names, `<name>@file`).
    pub async fn wait_gone(&self, routers: &[String], timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        loop {
            let served = self.routers().await?;
            let Some(left) = routers.iter().find(|name| served.iter().any(|r| &r.name == *name)) else {
                return Ok(());
            };
            if started.elapsed() >= timeout {
                return Err(Error::StillPresent { router: left.clone(), seconds: started.elapsed().as_secs_f64() });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
