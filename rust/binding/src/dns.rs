//! Python classes of DNS: `PowerDns` (zones and record sets) and `DnsChecker` (answers of the
//! platform's own authoritative servers). Record sets cross as `(name, type, ttl, contents)`.

use std::net::SocketAddr;
use std::sync::Arc;

use press_selfhosted_core::dns::{self, Kind, RecordSet};
use press_selfhosted_core::names::ValidationError;
use pyo3::prelude::*;

use crate::errors::{run, Failure};
use crate::numbers::Number;
use crate::runtime::{awaitable, block_on, failed};

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PowerDns>()?;
    module.add_class::<DnsChecker>()?;
    module.add_function(wrap_pyfunction!(domain_name, module)?)?;
    Ok(())
}

/// A host name checked as every part of the platform checks it (IDNA, label and name lengths,
/// no path or shell characters), in canonical form: lower case, no trailing dot.
#[pyfunction]
#[pyo3(signature = (name, *, allow_wildcard = false))]
fn domain_name(name: &str, allow_wildcard: bool) -> PyResult<String> {
    Ok(press_selfhosted_core::names::domain(name, allow_wildcard).map_err(Failure::from)?)
}

type RecordTuple = (String, String, u32, Vec<String>);
/// A record set as an argument: its TTL is range-checked like every other number.
type RecordArgument = (String, String, Number<u32>, Vec<String>);

fn record_set((name, kind, ttl, contents): &RecordArgument) -> Result<RecordSet, Failure> {
    Ok(RecordSet::new(name, Kind::parse(kind)?, ttl.get(), contents)?)
}

fn tuple(set: RecordSet) -> RecordTuple {
    (set.name, set.kind.to_string(), set.ttl, set.contents)
}

/// The operator's PowerDNS, through its HTTP API. The API key never appears in reprs.
#[pyclass(frozen, module = "press_selfhosted._native")]
pub struct PowerDns(dns::PowerDns);

#[pymethods]
impl PowerDns {
    #[new]
    #[pyo3(signature = (url, *, api_key, server_id = "localhost"))]
    fn new(url: &str, api_key: &str, server_id: &str) -> PyResult<Self> {
        Ok(Self(dns::PowerDns::new(url, server_id, api_key).map_err(Failure::from)?))
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.0)
    }

    fn zones(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        run(py, || block_on(self.0.zones()))
    }

    /// Creates the zone with an explicit SOA unless it exists; returns whether it was created.
    #[pyo3(signature = (zone, *, nameservers, hostmaster = None))]
    fn ensure_zone(
        &self,
        py: Python<'_>,
        zone: &str,
        nameservers: Vec<String>,
        hostmaster: Option<String>,
    ) -> PyResult<bool> {
        let primary = nameservers.first().cloned().unwrap_or_default();
        let hostmaster = hostmaster.unwrap_or_else(|| format!("hostmaster.{}", zone.trim_end_matches('.')));
        let soa = dns::Soa::new(&primary, &hostmaster);
        run(py, || block_on(self.0.ensure_zone(zone, &nameservers, &soa)))
    }

    fn delete_zone(&self, py: Python<'_>, zone: &str) -> PyResult<()> {
        run(py, || block_on(self.0.delete_zone(zone)))
    }

    /// Replaces every `(name, type, ttl, contents)` given, in one request: all or none.
    fn upsert(&self, py: Python<'_>, zone: &str, records: Vec<RecordArgument>) -> PyResult<()> {
        let sets = records.iter().map(record_set).collect::<Result<Vec<_>, _>>()?;
        run(py, || block_on(self.0.upsert(zone, &sets)))
    }

    /// Deletes every `(name, type)` given, in one request.
    fn delete(&self, py: Python<'_>, zone: &str, records: Vec<(String, String)>) -> PyResult<()> {
        let sets = records
            .into_iter()
            .map(|(name, kind)| Ok((name, Kind::parse(&kind)?)))
            .collect::<Result<Vec<_>, ValidationError>>()
            .map_err(Failure::from)?;
        run(py, || block_on(self.0.delete(zone, &sets)))
    }

    fn records(&self, py: Python<'_>, zone: &str) -> PyResult<Vec<RecordTuple>> {
        run(py, || block_on(self.0.records(zone)).map(|sets| sets.into_iter().map(tuple).collect()))
    }
}

/// The answer `wait_for` waits for. No contents: until the name answers nothing (a deletion
/// has reached the server).
fn awaited_set(name: &str, kind: &str, contents: Vec<String>) -> PyResult<RecordSet> {
    if contents.is_empty() {
        return Ok(RecordSet {
            name: dns::canonical(name).map_err(Failure::from)?,
            kind: Kind::parse(kind).map_err(Failure::from)?,
            ttl: 60,
            contents,
        });
    }
    Ok(record_set(&(name.to_string(), kind.to_string(), Number(60), contents))?)
}

/// Asks only the given authoritative servers ("ip:port"), without cache.
#[pyclass(frozen, module = "press_selfhosted._native")]
pub struct DnsChecker(Arc<dns::Checker>);

#[pymethods]
impl DnsChecker {
    #[new]
    fn new(servers: Vec<String>) -> PyResult<Self> {
        let servers = servers
            .iter()
            .map(|s| {
                s.parse::<SocketAddr>()
                    .map_err(|_| ValidationError::new(format!("DNS server must be ip:port, got {s:?}")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(Failure::from)?;
        // The resolver is built inside the runtime, which it belongs to.
        Ok(Self(Arc::new(block_on(async { dns::Checker::new(&servers) })?)))
    }

    fn lookup(&self, py: Python<'_>, name: &str, kind: &str) -> PyResult<Vec<String>> {
        let kind = Kind::parse(kind).map_err(Failure::from)?;
        run(py, || block_on(self.0.lookup(name, kind)))
    }

    /// Waits until the name answers exactly `contents` (in any order; none: until it answers
    /// nothing); returns the seconds it took. Raises DnsNotPropagated after `timeout` seconds.
    #[pyo3(signature = (name, kind, contents, *, timeout = Number(30.0)))]
    fn wait_for(
        &self,
        py: Python<'_>,
        name: &str,
        kind: &str,
        contents: Vec<String>,
        timeout: Number<f64>,
    ) -> PyResult<f64> {
        let set = awaited_set(name, kind, contents)?;
        let timeout = timeout.seconds()?;
        run(py, || block_on(self.0.wait_for(&set, timeout)).map(|d| d.as_secs_f64()))
    }

    /// The awaitable form of `wait_for` (same arguments).
    #[pyo3(signature = (name, kind, contents, *, timeout = Number(30.0)))]
    fn wait_for_async<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        kind: &str,
        contents: Vec<String>,
        timeout: Number<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let set = awaited_set(name, kind, contents)?;
        let timeout = timeout.seconds()?;
        let checker = self.0.clone();
        awaitable(py, async move { checker.wait_for(&set, timeout).await.map(|d| d.as_secs_f64()).map_err(failed) })
    }
}
