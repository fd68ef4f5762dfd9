//! What every container on an engine has used so far, as monitoring scrapes it: cumulative
//! counters (CPU seconds, bytes), the form cAdvisor exports and Prometheus' `rate()` reads.
//! A counter needs no second sample, so each container costs one inspect and one one-shot
//! statistics call, made for many containers at once.

use bollard::models::ContainerStatsResponse;
use bollard::query_parameters::ListContainersOptionsBuilder;
use futures_util::{stream, StreamExt};

use super::{ContainerState, Engine, Error};
use crate::names::ValidationError;

/// Totals since the container started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub cpu_seconds: f64,
    pub memory_bytes: u64,
    /// The limit the engine applies: the container's own, or the host's memory when it has
    /// none (Docker); 0 when the engine reports none at all (Podman on cgroup v2).
    pub memory_limit_bytes: u64,
    pub network_rx_bytes: u64,
    pub network_tx_bytes: u64,
    pub fs_read_bytes: u64,
    pub fs_write_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct ContainerUsage {
    pub state: ContainerState,
    /// None for a container that is not running (or stopped between inspect and statistics).
    pub usage: Option<Usage>,
}

/// How many containers may be asked about at once: 1 to 256.
pub fn check_concurrency(concurrency: usize) -> Result<(), ValidationError> {
    if (1..=256).contains(&concurrency) {
        Ok(())
    } else {
        Err(ValidationError::new(format!("concurrency must be 1 to 256, got {concurrency}")))
    }
}

/// Podman reports "no limit" as about u64::MAX.
const NO_LIMIT: u64 = 1 << 62;

impl Engine {
    /// Every container on the engine, running or not, with the usage of those running;
    /// at most `concurrency` (1–256) containers are asked about at a time. A container
    /// removed meanwhile is left out.
    pub async fn usage_of_all(&self, concurrency: usize) -> Result<Vec<ContainerUsage>, Error> {
        check_concurrency(concurrency)?;
        let options = ListContainersOptionsBuilder::default().all(true).build();
        let ids: Vec<String> = self
            .client
            .list_containers(Some(options))
            .await
            .map_err(|e| Error::from_engine(e, "containers"))?
            .into_iter()
            .filter_map(|s| s.id)
            .collect();
        let answers: Vec<Result<Option<ContainerUsage>, Error>> = stream::iter(ids)
            .map(|id| async move { self.usage_of(&id).await })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let mut all = Vec::with_capacity(answers.len());
        for answer in answers {
            if let Some(found) = answer? {
                all.push(found);
            }
        }
        all.sort_by(|a, b| a.state.name.cmp(&b.state.name));
        Ok(all)
    }

    async fn usage_of(&self, id: &str) -> Result<Option<ContainerUsage>, Error> {
        let state = match self.inspect(id).await {
            Ok(state) => state,
            Err(Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let usage = if state.running {
            match self.counters(id).await {
                Ok(usage) => Some(usage),
                // Stopped or removed since it was inspected: seen as not running.
                Err(Error::NotFound(_) | Error::Engine { .. }) => None,
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        Ok(Some(ContainerUsage { state, usage }))
    }

    async fn counters(&self, id: &str) -> Result<Usage, Error> {
        // A counter needs no previous CPU sample: one-shot.
        Ok(totals(self.stats_sample(id, true).await?))
    }
}

/// The totals in one statistics sample, as both engines and both cgroup versions report them.
pub(super) fn totals(sample: ContainerStatsResponse) -> Usage {
    let cpu = sample.cpu_stats.unwrap_or_default();
    let memory = sample.memory_stats.unwrap_or_default();
    let networks = sample.networks.unwrap_or_default();
    let blkio = sample.blkio_stats.and_then(|b| b.io_service_bytes_recursive).unwrap_or_default();
    let block = |op: &str| -> u64 {
        blkio
            .iter()
            .filter(|e| e.op.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(op)))
            .filter_map(|e| e.value)
            .sum()
    };
    let limit = memory.limit.unwrap_or(0);
    Usage {
        // Nanoseconds.
        cpu_seconds: cpu.cpu_usage.and_then(|u| u.total_usage).unwrap_or(0) as f64 / 1e9,
        memory_bytes: memory.usage.unwrap_or(0),
        memory_limit_bytes: if limit >= NO_LIMIT { 0 } else { limit },
        network_rx_bytes: networks.values().filter_map(|n| n.rx_bytes).sum(),
        network_tx_bytes: networks.values().filter_map(|n| n.tx_bytes).sum(),
        fs_read_bytes: block("read"),
        fs_write_bytes: block("write"),
    }
}
