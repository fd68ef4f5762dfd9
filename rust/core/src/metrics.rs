//! The platform's container exporter: every container of every engine as Prometheus text, with
//! cAdvisor's metric names and the labels Press's charts select on. Press asks for
//! `container_cpu_usage_seconds_total{job="cadvisor", name=~"<bench>|…"}`: `name` is the Press
//! Bench a container serves (its bench label), a compose service's name for the stack's own
//! containers, otherwise the container's name. cAdvisor is not used because it watches neither
//! Podman nor a remote engine.

use std::fmt::Write;
use std::time::{Duration, Instant};

use crate::engine::naming::{LABEL_BENCH, LABEL_KIND};
use crate::engine::{check_concurrency, ContainerUsage, Endpoint, Engine, Error};
use crate::names::ValidationError;

const COMPOSE_SERVICE: &str = "com.docker.compose.service";

/// One engine's answer to a scrape.
#[derive(Debug)]
pub struct EngineScrape {
    /// The engine's name to the platform (its Press Server), the `engine` label.
    pub engine: String,
    pub containers: Result<Vec<ContainerUsage>, Error>,
    pub seconds: f64,
}

/// Scrapes every engine at once, each connected afresh (an engine restarted since the last
/// scrape is simply there again) and given at most `timeout`: an unreachable one is reported
/// down and delays no other. At most `concurrency` (1–256) containers of an engine are asked
/// about at a time.
pub async fn scrape(
    engines: &[(String, Endpoint)],
    concurrency: usize,
    timeout: Duration,
) -> Result<Vec<EngineScrape>, ValidationError> {
    check_concurrency(concurrency)?;
    let mut names = std::collections::HashSet::new();
    if let Some((name, _)) = engines.iter().find(|(name, _)| name.trim().is_empty() || !names.insert(name)) {
        return Err(ValidationError::new(format!("engine names must be given, once each: {name:?}")));
    }
    let scrapes = engines.iter().map(|(name, endpoint)| async move {
        let started = Instant::now();
        let answer =
            tokio::time::timeout(timeout, async { Engine::connect(endpoint).await?.usage_of_all(concurrency).await })
                .await;
        let containers = answer.unwrap_or_else(|_| {
            Err(Error::Unreachable {
                endpoint: endpoint.display(),
                message: format!("no answer within {:.1} s", timeout.as_secs_f64()),
            })
        });
        EngineScrape { engine: name.clone(), containers, seconds: started.elapsed().as_secs_f64() }
    });
    Ok(futures_util::future::join_all(scrapes).await)
}

/// Prometheus' text exposition format (version 0.0.4).
pub fn exposition(scrapes: &[EngineScrape]) -> String {
    let mut families: Vec<Family> =
        FAMILIES.iter().map(|(name, kind, help, _)| Family::new(name, kind, help)).collect();
    let mut engine_up = Family::new("press_engine_up", "gauge", "Whether the engine answered this scrape.");
    let mut engine_seconds =
        Family::new("press_engine_scrape_duration_seconds", "gauge", "How long the engine took to answer this scrape.");
    let mut engine_errors = Vec::new();
    for scrape in scrapes {
        let engine = [("engine", scrape.engine.as_str())];
        engine_up.sample(&engine, f64::from(u8::from(scrape.containers.is_ok())));
        engine_seconds.sample(&engine, scrape.seconds);
        let containers = match &scrape.containers {
            Ok(containers) => containers,
            Err(e) => {
                engine_errors.push(format!("# engine {}: {}", scrape.engine, one_line(&e.to_string())));
                continue;
            }
        };
        for container in containers {
            let state = &container.state;
            let kind = state.labels.get(LABEL_KIND).map(String::as_str).unwrap_or_else(|| {
                if state.labels.contains_key(COMPOSE_SERVICE) {
                    "service"
                } else {
                    ""
                }
            });
            let labels = [
                ("name", press_name(container)),
                ("container", state.name.as_str()),
                ("engine", scrape.engine.as_str()),
                ("kind", kind),
                ("image", state.image.as_str()),
            ];
            for (family, (_, _, _, value)) in families.iter_mut().zip(FAMILIES) {
                if let Some(v) = value(container) {
                    family.sample(&labels, v);
                }
            }
        }
    }
    let mut out = String::new();
    for line in engine_errors {
        out.push_str(&line);
        out.push('\n');
    }
    for family in families.iter().chain([&engine_up, &engine_seconds]) {
        family.write(&mut out);
    }
    out
}

/// The `name` label: what Press calls the thing the container runs.
fn press_name(container: &ContainerUsage) -> &str {
    let labels = &container.state.labels;
    labels
        .get(LABEL_BENCH)
        .or_else(|| labels.get(COMPOSE_SERVICE))
        .map_or(container.state.name.as_str(), String::as_str)
}

type Value = fn(&ContainerUsage) -> Option<f64>;

/// (name, type, help, value): cAdvisor's names where cAdvisor has the metric.
const FAMILIES: &[(&str, &str, &str, Value)] = &[
    ("container_cpu_usage_seconds_total", "counter", "Cumulative CPU time consumed in seconds.", |c| {
        c.usage.as_ref().map(|u| u.cpu_seconds)
    }),
    ("container_memory_usage_bytes", "gauge", "Current memory usage in bytes, including the page cache.", |c| {
        c.usage.as_ref().map(|u| u.memory_bytes as f64)
    }),
    (
        "container_spec_memory_limit_bytes",
        "gauge",
        "Memory limit the engine applies (the host's memory when the container has none; 0 when unreported).",
        |c| c.usage.as_ref().map(|u| u.memory_limit_bytes as f64),
    ),
    ("container_network_receive_bytes_total", "counter", "Cumulative count of bytes received.", |c| {
        c.usage.as_ref().map(|u| u.network_rx_bytes as f64)
    }),
    ("container_network_transmit_bytes_total", "counter", "Cumulative count of bytes transmitted.", |c| {
        c.usage.as_ref().map(|u| u.network_tx_bytes as f64)
    }),
    ("container_fs_reads_bytes_total", "counter", "Cumulative count of bytes read from block devices.", |c| {
        c.usage.as_ref().map(|u| u.fs_read_bytes as f64)
    }),
    ("container_fs_writes_bytes_total", "counter", "Cumulative count of bytes written to block devices.", |c| {
        c.usage.as_ref().map(|u| u.fs_write_bytes as f64)
    }),
    ("container_start_time_seconds", "gauge", "Start time of the container since the Unix epoch in seconds.", |c| {
        c.state.started_at.as_deref().and_then(unix_seconds)
    }),
    ("press_container_up", "gauge", "Whether the container is running.", |c| {
        Some(f64::from(u8::from(c.state.running)))
    }),
    (
        "press_container_restarts_total",
        "counter",
        "Times the engine restarted the container by its restart policy.",
        |c| Some(c.state.restart_count.max(0) as f64),
    ),
    (
        "press_container_healthy",
        "gauge",
        "The engine's healthcheck verdict: 1 healthy, 0 unhealthy (no series without a healthcheck or while starting).",
        |c| match c.state.health.as_deref() {
            Some("healthy") => Some(1.0),
            Some("unhealthy") => Some(0.0),
            _ => None,
        },
    ),
];

struct Family {
    head: String,
    name: &'static str,
    lines: String,
}

impl Family {
    fn new(name: &'static str, kind: &str, help: &str) -> Self {
        Self { head: format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"), name, lines: String::new() }
    }

    fn sample(&mut self, labels: &[(&str, &str)], value: f64) {
        self.lines.push_str(self.name);
        self.lines.push('{');
        for (i, (key, text)) in labels.iter().enumerate() {
            if i > 0 {
                self.lines.push(',');
            }
            let _ = write!(self.lines, "{key}=\"{}\"", escape(text));
        }
        let _ = writeln!(self.lines, "}} {}", number(value));
    }

    fn write(&self, out: &mut String) {
        if !self.lines.is_empty() {
            out.push_str(&self.head);
            out.push_str(&self.lines);
        }
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{value}")
    }
}

/// RFC 3339 from the engine (`2026-12-07T18:00:00.123456789Z`, or with an offset); None for
/// Docker's "never started" (`0001-01-01T00:00:00Z`) and anything unreadable.
fn unix_seconds(text: &str) -> Option<f64> {
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    let seconds = parsed.unix_timestamp_nanos() as f64 / 1e9;
    (seconds > 0.0).then_some(seconds)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::engine::{ContainerState, Usage};

    fn container(name: &str, labels: &[(&str, &str)], usage: Option<Usage>) -> ContainerUsage {
        ContainerUsage {
            state: ContainerState {
                id: format!("id-{name}"),
                name: name.into(),
                image: "img:1".into(),
                status: if usage.is_some() { "running" } else { "exited" }.into(),
                running: usage.is_some(),
                exit_code: None,
                health: Some("healthy".into()),
                restart_count: 2,
                started_at: Some("2026-12-07T18:00:00.5Z".into()),
                labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
                ports: vec![],
                networks: BTreeMap::new(),
                pid: 0,
                healthcheck: None,
            },
            usage,
        }
    }

    #[test]
    fn the_name_label_is_presss_and_values_are_escaped() {
        let usage = Usage { cpu_seconds: 1.5, memory_bytes: 1024, ..Default::default() };
        let scrapes = [EngineScrape {
            engine: "f1.cloud".into(),
            containers: Ok(vec![
                container(
                    "erp-saas-cloud-c16-bench-b1",
                    &[(LABEL_BENCH, "bench-0001"), (LABEL_KIND, "bench")],
                    Some(usage),
                ),
                container("stack-redis-1", &[(COMPOSE_SERVICE, "redis-cache")], None),
                container("odd\"one\\", &[], None),
            ]),
            seconds: 0.25,
        }];
        let text = exposition(&scrapes);
        assert!(text.contains(
            "container_cpu_usage_seconds_total{name=\"bench-0001\",container=\"erp-saas-cloud-c16-bench-b1\",engine=\"f1.cloud\",kind=\"bench\",image=\"img:1\"} 1.5\n"
        ), "{text}");
        assert!(text.contains("press_container_up{name=\"redis-cache\",container=\"stack-redis-1\",engine=\"f1.cloud\",kind=\"service\",image=\"img:1\"} 0\n"));
        assert!(text.contains("name=\"odd\\\"one\\\\\""), "{text}");
        // A stopped container has no usage series, only its state.
        assert_eq!(text.matches("container_cpu_usage_seconds_total{").count(), 1);
        assert!(text.contains("container_start_time_seconds{name=\"bench-0001\""));
        assert!(text.contains("} 1796666400.5\n"));
        assert!(text.contains("press_engine_up{engine=\"f1.cloud\"} 1\n"));
        assert_eq!(text.matches("# TYPE container_cpu_usage_seconds_total counter\n").count(), 1);
    }

    #[test]
    fn an_unreachable_engine_is_down_and_others_still_answer() {
        let scrapes = [
            EngineScrape {
                engine: "f2".into(),
                containers: Err(Error::Unreachable {
                    endpoint: "tcp://10.0.0.2:2376".into(),
                    message: "refused\nat once".into(),
                }),
                seconds: 3.0,
            },
            EngineScrape { engine: "f1".into(), containers: Ok(vec![container("c", &[], None)]), seconds: 0.1 },
        ];
        let text = exposition(&scrapes);
        assert!(text.contains("press_engine_up{engine=\"f2\"} 0\n"));
        assert!(text.contains("press_engine_up{engine=\"f1\"} 1\n"));
        assert!(text.contains("# engine f2: engine unreachable at tcp://10.0.0.2:2376: refused at once\n"));
        assert!(text.contains("press_container_up{name=\"c\""));
    }

    #[test]
    fn start_times_and_numbers_read_as_prometheus_does() {
        assert_eq!(unix_seconds("0001-01-01T00:00:00Z"), None);
        assert_eq!(unix_seconds("garbage"), None);
        assert_eq!(unix_seconds("1970-01-01T00:00:10+00:00"), Some(10.0));
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(1e21), "1000000000000000000000");
    }
}
