//! Asking the platform's own authoritative servers what a name answers, with no cache, so a
//! check sees a change as soon as PowerDNS serves it; Press asks public resolvers instead
//! (`press/utils/dns.py` `NAMESERVERS`), which cannot see a private zone.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;

use super::records::{canonical, Kind, RecordSet};
use super::Error;
use crate::names::ValidationError;

/// How often `wait_for` asks again.
const POLL: Duration = Duration::from_millis(100);

pub struct Checker {
    resolver: TokioResolver,
}

impl Checker {
    /// A resolver that asks only `servers` (UDP, then TCP), without recursion or cache.
    pub fn new(servers: &[SocketAddr]) -> Result<Self, Error> {
        if servers.is_empty() {
            return Err(ValidationError::new("a DNS check needs at least one server").into());
        }
        let name_servers = servers
            .iter()
            .map(|server| {
                let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
                    .into_iter()
                    .map(|mut c| {
                        c.port = server.port();
                        c
                    })
                    .collect();
                NameServerConfig::new(server.ip(), true, connections)
            })
            .collect();
        let mut options = ResolverOpts::default();
        options.cache_size = 0;
        options.timeout = Duration::from_secs(2);
        options.attempts = 1;
        options.recursion_desired = false;
        options.use_hosts_file = ResolveHosts::Never;
        options.ndots = 0;
        let resolver = TokioResolver::builder_with_config(
            ResolverConfig::from_parts(None, vec![], name_servers),
            TokioRuntimeProvider::default(),
        )
        .with_options(options)
        .build()
        .map_err(|e| Error::Lookup { name: "(resolver)".into(), message: e.to_string() })?;
        Ok(Self { resolver })
    }

    /// What `name` answers for `kind`, in the form `RecordSet` keeps (empty when the name or
    /// the type does not exist).
    pub async fn lookup(&self, name: &str, kind: Kind) -> Result<Vec<String>, Error> {
        let name = canonical(name)?;
        match self.resolver.lookup(name.as_str(), record_type(kind)).await {
            Ok(answer) => {
                let mut found: Vec<String> =
                    answer.answers().iter().filter_map(|r| presentation(&r.data, kind)).collect();
                found.sort();
                Ok(found)
            }
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
            Err(e) => Err(Error::Lookup { name, message: e.to_string() }),
        }
    }

    /// Waits until `set.name` answers exactly `set.contents` for its type (an empty set:
    /// until it answers nothing), or `timeout` passes; returns how long it took.
    pub async fn wait_for(&self, set: &RecordSet, timeout: Duration) -> Result<Duration, Error> {
        let started = Instant::now();
        let mut expected = set.contents.clone();
        expected.sort();
        loop {
            let seen = self.lookup(&set.name, set.kind).await;
            match seen {
                Ok(seen) if seen == expected => return Ok(started.elapsed()),
                Ok(seen) if started.elapsed() >= timeout => {
                    return Err(Error::NotPropagated {
                        name: set.name.clone(),
                        kind: set.kind.to_string(),
                        expected,
                        seen,
                        seconds: timeout.as_secs_f64(),
                    })
                }
                Err(e) if started.elapsed() >= timeout => return Err(e),
                _ => tokio::time::sleep(POLL).await,
            }
        }
    }
}

fn record_type(kind: Kind) -> RecordType {
    match kind {
        Kind::A => RecordType::A,
        Kind::Aaaa => RecordType::AAAA,
        Kind::Cname => RecordType::CNAME,
        Kind::Txt => RecordType::TXT,
        Kind::Caa => RecordType::CAA,
        Kind::Ns => RecordType::NS,
    }
}

/// An answer in the presentation form that `RecordSet` stores, so the two compare equal.
fn presentation(data: &RData, kind: Kind) -> Option<String> {
    let text = match (data, kind) {
        (RData::A(ip), Kind::A) => ip.to_string(),
        (RData::AAAA(ip), Kind::Aaaa) => ip.to_string(),
        (RData::CNAME(name), Kind::Cname) => name.to_ascii().to_lowercase(),
        (RData::NS(name), Kind::Ns) => name.to_ascii().to_lowercase(),
        (RData::TXT(txt), Kind::Txt) => {
            RecordSet::new("x.invalid", Kind::Txt, 60, &[txt_text(txt)?]).ok()?.contents.remove(0)
        }
        (RData::CAA(_), Kind::Caa) => data.to_string(),
        _ => return None,
    };
    Some(text)
}

fn txt_text(txt: &hickory_resolver::proto::rr::rdata::TXT) -> Option<String> {
    let bytes: Vec<u8> = txt.txt_data.iter().flat_map(|s| s.iter().copied()).collect();
    String::from_utf8(bytes).ok()
}
