//! Logs and one-shot resource statistics of a container: what monitoring builds on.

use bollard::container::LogOutput;
use bollard::query_parameters::{LogsOptionsBuilder, StatsOptionsBuilder};
use futures_util::StreamExt;

use super::exec::Stream;
use super::{Engine, Error};
use crate::names::ValidationError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub stream: Stream,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub cpu_percent: f64,
    pub memory_bytes: u64,
    pub memory_limit_bytes: u64,
    pub network_rx_bytes: u64,
    pub network_tx_bytes: u64,
    pub block_read_bytes: u64,
    pub block_write_bytes: u64,
}

impl Engine {
    /// The last `tail` lines (all when `None`), from `since` (Unix seconds) on. With `follow`,
    /// keeps reading new lines until `on_line` returns false or the container stops.
    pub async fn logs(
        &self,
        container: &str,
        tail: Option<u64>,
        since: Option<i64>,
        follow: bool,
        mut on_line: impl FnMut(&LogLine) -> bool,
    ) -> Result<(), Error> {
        let tail = tail.map_or_else(|| "all".to_string(), |n| n.to_string());
        // The engine API takes an i32; a later time must be refused, not wrapped.
        let since = i32::try_from(since.unwrap_or(0))
            .map_err(|_| ValidationError::new(format!("since must be Unix seconds before 2038, got {since:?}")))?;
        let options =
            LogsOptionsBuilder::default().stdout(true).stderr(true).follow(follow).tail(&tail).since(since).build();
        let mut stream = self.client.logs(container, Some(options));
        let mut pending: [Vec<u8>; 2] = Default::default();
        while let Some(chunk) = stream.next().await {
            let (which, message) = match chunk.map_err(|e| Error::from_engine(e, container))? {
                LogOutput::StdErr { message } => (Stream::Stderr, message),
                LogOutput::StdOut { message } | LogOutput::Console { message } => (Stream::Stdout, message),
                LogOutput::StdIn { .. } => continue,
            };
            let buffer = &mut pending[which as usize];
            buffer.extend_from_slice(&message);
            while let Some(pos) = buffer.iter().position(|b| *b == b'\n') {
                let raw: Vec<u8> = buffer.drain(..=pos).collect();
                let text = String::from_utf8_lossy(&raw[..raw.len() - 1]).trim_end_matches('\r').to_string();
                if !on_line(&LogLine { stream: which, text }) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// One sample of resource use. CPU is measured over the engine's own sampling interval
    /// (about a second), as `docker stats --no-stream` does; Podman sends no previous sample
    /// with a one-shot reading, so then a second reading a second later serves as the pair.
    pub async fn stats(&self, container: &str) -> Result<Stats, Error> {
        let first = self.stats_sample(container, false).await?;
        let mut pre = first.precpu_stats.clone().unwrap_or_default();
        let mut sample = first;
        if pre.system_cpu_usage.unwrap_or(0) == 0 {
            pre = sample.cpu_stats.clone().unwrap_or_default();
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            sample = self.stats_sample(container, false).await?;
        }
        let cpu = sample.cpu_stats.clone().unwrap_or_default();
        let total =
            |c: &bollard::models::ContainerCpuStats| c.cpu_usage.as_ref().and_then(|u| u.total_usage).unwrap_or(0);
        let cpu_delta = total(&cpu).saturating_sub(total(&pre)) as f64;
        let system_delta = cpu.system_cpu_usage.unwrap_or(0).saturating_sub(pre.system_cpu_usage.unwrap_or(0)) as f64;
        let cpus = f64::from(cpu.online_cpus.unwrap_or(1).max(1));
        let totals = super::usage::totals(sample);
        Ok(Stats {
            cpu_percent: if system_delta > 0.0 { cpu_delta / system_delta * cpus * 100.0 } else { 0.0 },
            memory_bytes: totals.memory_bytes,
            memory_limit_bytes: totals.memory_limit_bytes,
            network_rx_bytes: totals.network_rx_bytes,
            network_tx_bytes: totals.network_tx_bytes,
            block_read_bytes: totals.fs_read_bytes,
            block_write_bytes: totals.fs_write_bytes,
        })
    }

    /// One statistics sample. `one_shot`: Docker answers at once, without the previous CPU
    /// sample it otherwise waits a second for (Podman always answers at once).
    pub(super) async fn stats_sample(
        &self,
        container: &str,
        one_shot: bool,
    ) -> Result<bollard::models::ContainerStatsResponse, Error> {
        let options = StatsOptionsBuilder::default().stream(false).one_shot(one_shot).build();
        self.client
            .stats(container, Some(options))
            .next()
            .await
            .ok_or_else(|| Error::NotFound(format!("{container}: no statistics")))?
            .map_err(|e| Error::from_engine(e, container))
    }
}
