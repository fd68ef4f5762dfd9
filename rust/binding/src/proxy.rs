//! Python classes of routing: `Proxy` writes Traefik's file-provider configuration and reads
//! it back through Traefik's API. Certificates cross as `(full_chain_pem, private_key_pem)`.

use std::path::PathBuf;
use std::sync::Arc;

use press_selfhosted_core::proxy::{self, Certificate, MonitorRoute, Platform, ProxyConfig, SiteRoute, TraefikApi};
use pyo3::prelude::*;

use crate::errors::{run, Failure};
use crate::numbers::Number;
use crate::runtime::{awaitable, block_on, failed};

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Proxy>()?;
    module.add_class::<Route>()?;
    module.add_class::<RouterStatus>()?;
    module.add_function(wrap_pyfunction!(upstream_url, module)?)?;
    Ok(())
}

/// An upstream as the proxy writes it (`scheme://host:port`), or ValidationError: what a
/// setting naming one (a maintenance page) is checked with before it is saved.
#[pyfunction]
fn upstream_url(url: &str) -> PyResult<String> {
    Ok(proxy::upstream(url).map_err(Failure::from)?)
}

/// A router as written: what the read-back expects Traefik to load.
#[pyclass(frozen, get_all, module = "press_selfhosted._native")]
pub struct Route {
    router: String,
    rule: String,
    service: String,
    changed: bool,
}

#[pymethods]
impl Route {
    fn __repr__(&self) -> String {
        format!(
            "Route(router={:?}, rule={:?}, service={:?}, changed={})",
            self.router, self.rule, self.service, self.changed
        )
    }
}

impl From<proxy::Route> for Route {
    fn from(r: proxy::Route) -> Self {
        Self { router: r.router, rule: r.rule, service: r.service, changed: r.changed }
    }
}

impl From<&Route> for proxy::Route {
    fn from(r: &Route) -> Self {
        Self { router: r.router.clone(), rule: r.rule.clone(), service: r.service.clone(), changed: r.changed }
    }
}

/// A router as Traefik serves it.
#[pyclass(frozen, get_all, module = "press_selfhosted._native")]
pub struct RouterStatus {
    name: String,
    rule: String,
    service: String,
    status: String,
    errors: Vec<String>,
}

#[pymethods]
impl RouterStatus {
    fn __repr__(&self) -> String {
        format!("RouterStatus(name={:?}, status={:?}, errors={:?})", self.name, self.status, self.errors)
    }
}

impl From<proxy::RouterStatus> for RouterStatus {
    fn from(r: proxy::RouterStatus) -> Self {
        Self { name: r.name, rule: r.rule, service: r.service, status: r.status, errors: r.errors }
    }
}

fn certificate(pair: Option<(String, String)>) -> Option<Certificate> {
    pair.map(|(chain_pem, key_pem)| Certificate { chain_pem, key_pem })
}

/// Traefik's dynamic configuration directory and its API.
#[pyclass(frozen, module = "press_selfhosted._native")]
pub struct Proxy {
    config: ProxyConfig,
    api: Arc<TraefikApi>,
    api_url: String,
}

#[pymethods]
impl Proxy {
    #[new]
    #[pyo3(signature = (config_dir, api_url, *, entry_point = "websecure", http_entry_point = Some("web")))]
    fn new(config_dir: PathBuf, api_url: &str, entry_point: &str, http_entry_point: Option<&str>) -> PyResult<Self> {
        let config = ProxyConfig::new(&config_dir, entry_point, http_entry_point).map_err(Failure::from)?;
        let api = Arc::new(TraefikApi::new(api_url).map_err(Failure::from)?);
        Ok(Self { config, api, api_url: api_url.to_string() })
    }

    fn __repr__(&self) -> String {
        format!("Proxy(config_dir={:?}, api_url={:?})", self.config.dir(), self.api_url)
    }

    #[getter]
    fn config_dir(&self) -> PathBuf {
        self.config.dir().to_path_buf()
    }

    #[pyo3(signature = (site, upstreams, *, hosts = Vec::new(), socketio = Vec::new(), frappe_site = None, certificate = None, maintenance = false))]
    #[allow(clippy::too_many_arguments)]
    fn write_site(
        &self,
        py: Python<'_>,
        site: String,
        upstreams: Vec<String>,
        hosts: Vec<String>,
        socketio: Vec<String>,
        frappe_site: Option<String>,
        certificate: Option<(String, String)>,
        maintenance: bool,
    ) -> PyResult<Vec<Route>> {
        let route = SiteRoute {
            site,
            extra_hosts: hosts,
            upstreams,
            socketio,
            frappe_site,
            certificate: self::certificate(certificate),
            maintenance,
        };
        run(py, || Ok(self.config.write_site(&route)?.into_iter().map(Route::from).collect()))
    }

    #[pyo3(signature = (*, wildcard = None, maintenance_url = None, default_url = None))]
    fn write_platform(
        &self,
        py: Python<'_>,
        wildcard: Option<(String, String)>,
        maintenance_url: Option<String>,
        default_url: Option<String>,
    ) -> PyResult<Vec<Route>> {
        let platform = Platform { wildcard: certificate(wildcard), maintenance_url, default_url };
        run(py, || Ok(self.config.write_platform(&platform)?.into_iter().map(Route::from).collect()))
    }

    /// The monitor server's `/prometheus` and `/alertmanager` routes, behind basic auth.
    #[pyo3(signature = (host, *, prometheus_url, alertmanager_url, users))]
    fn write_monitor(
        &self,
        py: Python<'_>,
        host: String,
        prometheus_url: String,
        alertmanager_url: String,
        users: Vec<String>,
    ) -> PyResult<Vec<Route>> {
        let monitor = MonitorRoute { host, prometheus_url, alertmanager_url, users };
        run(py, || Ok(self.config.write_monitor(&monitor)?.into_iter().map(Route::from).collect()))
    }

    fn remove_monitor(&self, py: Python<'_>) -> PyResult<bool> {
        run(py, || Ok(self.config.remove_monitor()?))
    }

    fn remove_site(&self, py: Python<'_>, site: &str) -> PyResult<bool> {
        run(py, || Ok(self.config.remove_site(site)?))
    }

    fn has_maintenance_page(&self, py: Python<'_>) -> PyResult<bool> {
        run(py, || Ok(self.config.has_maintenance_page()?))
    }

    fn sites(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        run(py, || Ok(self.config.sites()?))
    }

    fn routers(&self, py: Python<'_>) -> PyResult<Vec<RouterStatus>> {
        run(py, || block_on(self.api.routers()).map(|all| all.into_iter().map(RouterStatus::from).collect()))
    }

    #[pyo3(signature = (routes, *, timeout = Number(15.0)))]
    fn wait_loaded(
        &self,
        py: Python<'_>,
        routes: Vec<Bound<'_, Route>>,
        timeout: Number<f64>,
    ) -> PyResult<Vec<RouterStatus>> {
        let routes: Vec<proxy::Route> = routes.iter().map(|r| r.get().into()).collect();
        let timeout = timeout.seconds()?;
        run(py, || {
            block_on(self.api.wait_loaded(&routes, timeout))
                .map(|all| all.into_iter().map(RouterStatus::from).collect())
        })
    }

    /// The awaitable form of `wait_loaded` (same arguments).
    #[pyo3(signature = (routes, *, timeout = Number(15.0)))]
    fn wait_loaded_async<'py>(
        &self,
        py: Python<'py>,
        routes: Vec<Bound<'py, Route>>,
        timeout: Number<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let routes: Vec<proxy::Route> = routes.iter().map(|r| r.get().into()).collect();
        let timeout = timeout.seconds()?;
        let api = self.api.clone();
        awaitable(py, async move {
            let all = api.wait_loaded(&routes, timeout).await.map_err(failed)?;
            Ok(all.into_iter().map(RouterStatus::from).collect::<Vec<_>>())
        })
    }

    #[pyo3(signature = (routers, *, timeout = Number(15.0)))]
    fn wait_gone(&self, py: Python<'_>, routers: Vec<String>, timeout: Number<f64>) -> PyResult<()> {
        let timeout = timeout.seconds()?;
        run(py, || block_on(self.api.wait_gone(&routers, timeout)))
    }
}
