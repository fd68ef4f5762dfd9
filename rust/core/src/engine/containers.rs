//! Containers from a typed spec: create and start, stop, restart, remove, inspect, list by label.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, Mount as EngineMount, MountType, NetworkingConfig,
    PortBinding, RestartPolicy as EngineRestart, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    RestartContainerOptionsBuilder, StopContainerOptionsBuilder,
};

use super::naming::{check_platform_name, LABEL_KIND};
use super::{Engine, Error};
use crate::names::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartPolicy {
    #[default]
    No,
    Always,
    UnlessStopped,
    OnFailure(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// A volume name, or an absolute host path for a bind mount.
    pub source: String,
    /// Absolute path inside the container.
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedPort {
    pub container_port: u16,
    /// Host port, or `None` for one the engine picks.
    pub host_port: Option<u16>,
    pub host_ip: String,
}

impl PublishedPort {
    pub fn loopback(container_port: u16, host_port: u16) -> Self {
        Self { container_port, host_port: Some(host_port), host_ip: "127.0.0.1".into() }
    }
}

/// What a container is made from. `argv` and `healthcheck` are argument vectors, never shell
/// strings.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    /// `erp-saas-cloud-c16-<kind>-<slug>` (see `naming::object_name`).
    pub name: String,
    pub image: String,
    /// Command; empty keeps the image's.
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Must include `io.press-selfhosted.kind`.
    pub labels: BTreeMap<String, String>,
    pub mounts: Vec<Mount>,
    pub ports: Vec<PublishedPort>,
    pub memory_bytes: Option<i64>,
    /// CPUs as a fraction (1.5 = one and a half cores).
    pub cpus: Option<f64>,
    pub restart: RestartPolicy,
    pub healthcheck: Option<Vec<String>>,
    pub healthcheck_interval_seconds: Option<u32>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// Run an init process as PID 1 (reaps zombies, forwards signals).
    pub init: bool,
    /// A user network to attach to at creation, with aliases on it.
    pub network: Option<(String, Vec<String>)>,
}

impl ContainerSpec {
    pub(crate) fn validate(&self) -> Result<(), ValidationError> {
        check_platform_name(&self.name)?;
        if self.image.is_empty() || self.image.contains(char::is_whitespace) {
            return Err(ValidationError::new(format!("invalid image reference {:?}", self.image)));
        }
        if !self.labels.contains_key(LABEL_KIND) {
            return Err(ValidationError::new(format!("every platform container needs the {LABEL_KIND} label")));
        }
        for key in self.env.keys() {
            let ok = !key.is_empty()
                && !key.as_bytes()[0].is_ascii_digit()
                && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                return Err(ValidationError::new(format!("invalid environment variable name {key:?}")));
            }
        }
        let strings = self.argv.iter().chain(self.env.values()).chain(self.healthcheck.iter().flatten());
        if strings.clone().any(|s| s.contains('\0')) {
            return Err(ValidationError::new("arguments and environment values may not contain NUL"));
        }
        for mount in &self.mounts {
            if !mount.target.starts_with('/') || mount.target.split('/').any(|part| part == "..") {
                return Err(ValidationError::new(format!("mount target must be an absolute path: {:?}", mount.target)));
            }
            if mount.source.is_empty() || mount.source.split('/').any(|part| part == "..") {
                return Err(ValidationError::new(format!("invalid mount source {:?}", mount.source)));
            }
        }
        if let Some(cpus) = self.cpus {
            if !(cpus > 0.0 && cpus <= 1024.0) {
                return Err(ValidationError::new(format!("cpus must be above 0, got {cpus}")));
            }
        }
        if self.memory_bytes.is_some_and(|m| m < 6 * 1024 * 1024) {
            return Err(ValidationError::new("memory limit must be at least 6 MiB"));
        }
        Ok(())
    }

    fn body(&self) -> ContainerCreateBody {
        let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
        for port in &self.ports {
            port_bindings
                .entry(format!("{}/tcp", port.container_port))
                .or_insert_with(|| Some(vec![]))
                .get_or_insert_default()
                .push(PortBinding {
                    host_ip: Some(port.host_ip.clone()),
                    host_port: port.host_port.map(|p| p.to_string()),
                });
        }
        let restart = match self.restart {
            RestartPolicy::No => EngineRestart { name: Some(RestartPolicyNameEnum::NO), maximum_retry_count: None },
            RestartPolicy::Always => {
                EngineRestart { name: Some(RestartPolicyNameEnum::ALWAYS), maximum_retry_count: None }
            }
            RestartPolicy::UnlessStopped => {
                EngineRestart { name: Some(RestartPolicyNameEnum::UNLESS_STOPPED), maximum_retry_count: None }
            }
            RestartPolicy::OnFailure(n) => {
                EngineRestart { name: Some(RestartPolicyNameEnum::ON_FAILURE), maximum_retry_count: Some(n.into()) }
            }
        };
        let mounts = self
            .mounts
            .iter()
            .map(|m| EngineMount {
                target: Some(m.target.clone()),
                source: Some(m.source.clone()),
                typ: Some(if m.source.starts_with('/') { MountType::BIND } else { MountType::VOLUME }),
                read_only: Some(m.read_only),
                ..Default::default()
            })
            .collect();
        let healthcheck = self.healthcheck.as_ref().map(|argv| HealthConfig {
            test: Some(std::iter::once("CMD".to_string()).chain(argv.iter().cloned()).collect()),
            interval: self.healthcheck_interval_seconds.map(|s| i64::from(s) * 1_000_000_000),
            ..Default::default()
        });
        let networking_config = self.network.as_ref().map(|(network, aliases)| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                network.clone(),
                EndpointSettings { aliases: Some(aliases.clone()), ..Default::default() },
            )])),
        });
        ContainerCreateBody {
            image: Some(self.image.clone()),
            cmd: (!self.argv.is_empty()).then(|| self.argv.clone()),
            env: Some(self.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(self.labels.clone().into_iter().collect()),
            exposed_ports: Some(self.ports.iter().map(|p| format!("{}/tcp", p.container_port)).collect()),
            healthcheck,
            user: self.user.clone(),
            working_dir: self.workdir.clone(),
            host_config: Some(HostConfig {
                port_bindings: Some(port_bindings),
                restart_policy: Some(restart),
                mounts: Some(mounts),
                memory: self.memory_bytes,
                nano_cpus: self.cpus.map(|c| (c * 1e9) as i64),
                init: Some(self.init),
                network_mode: self.network.as_ref().map(|(n, _)| n.clone()),
                ..Default::default()
            }),
            networking_config,
            ..Default::default()
        }
    }
}

/// A container as the engine reports it.
#[derive(Debug, Clone)]
pub struct ContainerState {
    pub id: String,
    pub name: String,
    pub image: String,
    /// created, running, paused, restarting, exited, removing, dead
    pub status: String,
    pub running: bool,
    pub exit_code: Option<i64>,
    pub health: Option<String>,
    pub restart_count: i64,
    pub started_at: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Bindings as configured (kept while the container is stopped).
    pub ports: Vec<PublishedPort>,
    /// Network name → IP address.
    pub networks: BTreeMap<String, String>,
    /// Process id on the engine's host (0 when not running).
    pub pid: i64,
    /// The healthcheck command (argv), when one is configured in exec form.
    pub healthcheck: Option<Vec<String>>,
}

impl Engine {
    /// Creates the container from `spec` and starts it; returns its id. A name already in
    /// use is `NameConflict`; an image the engine lacks is `ImageMissing`.
    pub async fn run(&self, spec: &ContainerSpec) -> Result<String, Error> {
        spec.validate()?;
        let options = CreateContainerOptionsBuilder::default().name(&spec.name).build();
        let created = self
            .client
            .create_container(Some(options), spec.body())
            .await
            .map_err(|e| Error::from_engine(e, &format!("{} (image {})", spec.name, spec.image)))?;
        if let Err(e) = self.client.start_container(&created.id, None).await {
            // Leave nothing half-made behind.
            let _ = self.remove(&created.id, true).await;
            return Err(Error::from_engine(e, &spec.name));
        }
        Ok(created.id)
    }

    pub async fn start(&self, container: &str) -> Result<(), Error> {
        self.client.start_container(container, None).await.map_err(|e| Error::from_engine(e, container))
    }

    /// Stops with SIGTERM, then SIGKILL after `timeout_seconds`.
    pub async fn stop(&self, container: &str, timeout_seconds: i32) -> Result<(), Error> {
        let options = StopContainerOptionsBuilder::default().t(timeout_seconds).build();
        match self.client.stop_container(container, Some(options)).await {
            // 304: already stopped.
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 304, .. }) => Ok(()),
            other => other.map_err(|e| Error::from_engine(e, container)),
        }
    }

    pub async fn restart(&self, container: &str, timeout_seconds: i32) -> Result<(), Error> {
        let options = RestartContainerOptionsBuilder::default().t(timeout_seconds).build();
        self.client.restart_container(container, Some(options)).await.map_err(|e| Error::from_engine(e, container))
    }

    /// Removes the container and its anonymous volumes; `force` stops it first.
    pub async fn remove(&self, container: &str, force: bool) -> Result<(), Error> {
        let options = RemoveContainerOptionsBuilder::default().force(force).v(true).build();
        self.client.remove_container(container, Some(options)).await.map_err(|e| Error::from_engine(e, container))
    }

    pub async fn inspect(&self, container: &str) -> Result<ContainerState, Error> {
        let c = self.inspect_raw(container).await?;
        let state = c.state.unwrap_or_default();
        let config = c.config.unwrap_or_default();
        let healthcheck =
            config.healthcheck.as_ref().and_then(|h| h.test.as_ref()).and_then(|test| match test.split_first() {
                Some((form, argv)) if form == "CMD" && !argv.is_empty() => Some(argv.to_vec()),
                _ => None,
            });
        let mut ports = Vec::new();
        for (key, bindings) in c.host_config.and_then(|h| h.port_bindings).unwrap_or_default() {
            let Some(container_port) = key.split('/').next().and_then(|p| p.parse().ok()) else {
                continue;
            };
            for binding in bindings.unwrap_or_default() {
                ports.push(PublishedPort {
                    container_port,
                    host_port: binding.host_port.and_then(|p| p.parse().ok()),
                    host_ip: binding.host_ip.unwrap_or_default(),
                });
            }
        }
        ports.sort_by_key(|p| (p.container_port, p.host_port));
        let networks = c
            .network_settings
            .and_then(|n| n.networks)
            .unwrap_or_default()
            .into_iter()
            .map(|(name, endpoint)| (name, endpoint.ip_address.unwrap_or_default()))
            .collect();
        Ok(ContainerState {
            id: c.id.unwrap_or_default(),
            name: c.name.unwrap_or_default().trim_start_matches('/').to_string(),
            image: config.image.unwrap_or_default(),
            status: state.status.map(|s| s.to_string()).unwrap_or_default(),
            running: state.running.unwrap_or(false),
            exit_code: state.exit_code,
            health: state.health.and_then(|h| h.status).map(|s| s.to_string()),
            restart_count: c.restart_count.unwrap_or(0),
            started_at: state.started_at,
            labels: config.labels.unwrap_or_default().into_iter().collect(),
            ports,
            networks,
            pid: state.pid.unwrap_or(0),
            healthcheck,
        })
    }

    /// Runs the container's configured healthcheck once, through exec, and says whether it
    /// passed. Podman runs healthchecks from systemd timers, which not every host has; the
    /// platform's monitor calls this instead of waiting for the engine's own schedule.
    pub async fn run_healthcheck(&self, container: &str, timeout: std::time::Duration) -> Result<bool, Error> {
        let argv = self
            .inspect(container)
            .await?
            .healthcheck
            .ok_or_else(|| ValidationError::new(format!("{container} has no healthcheck in exec form (CMD)")))?;
        let spec = super::ExecSpec { argv, timeout: Some(timeout), ..Default::default() };
        match self.exec(container, &spec, |_, _| {}).await {
            Ok(result) => Ok(result.exit_code == 0),
            Err(Error::Timeout { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Podman 4 briefly reports a container that has exited but is not yet cleaned up as
    /// `stopped`, a status the Docker API (and so bollard) does not know; it settles to
    /// `exited` within moments, so the inspection is retried for up to five seconds.
    async fn inspect_raw(&self, container: &str) -> Result<bollard::models::ContainerInspectResponse, Error> {
        let mut attempts = 0;
        loop {
            match self.client.inspect_container(container, None).await {
                Err(bollard::errors::Error::JsonDataError { message, .. })
                    if message.contains("unknown variant `stopped`") && attempts < 50 =>
                {
                    attempts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                other => return other.map_err(|e| Error::from_engine(e, container)),
            }
        }
    }

    /// Containers (running or not) carrying every given label (`key` or `key=value`).
    pub async fn list(&self, labels: &[String]) -> Result<Vec<ContainerState>, Error> {
        let filters = HashMap::from([("label", labels.to_vec())]);
        let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        let summaries =
            self.client.list_containers(Some(options)).await.map_err(|e| Error::from_engine(e, "containers"))?;
        let mut states = Vec::with_capacity(summaries.len());
        for id in summaries.into_iter().filter_map(|s| s.id) {
            match self.inspect(&id).await {
                Ok(state) => states.push(state),
                Err(Error::NotFound(_)) => {} // removed meanwhile
                Err(e) => return Err(e),
            }
        }
        states.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(states)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ContainerSpec {
        ContainerSpec {
            name: "erp-saas-cloud-c16-test-a".into(),
            image: "busybox:1".into(),
            labels: BTreeMap::from([(LABEL_KIND.to_string(), "test".to_string())]),
            ..Default::default()
        }
    }

    #[test]
    fn specs_are_validated_before_any_call() {
        assert!(spec().validate().is_ok());
        let cases: Vec<(ContainerSpec, &str)> = vec![
            (ContainerSpec { name: "random".into(), ..spec() }, "invalid object name"),
            (ContainerSpec { image: "".into(), ..spec() }, "image"),
            (ContainerSpec { labels: BTreeMap::new(), ..spec() }, LABEL_KIND),
            (ContainerSpec { env: BTreeMap::from([("1X".into(), "v".into())]), ..spec() }, "environment"),
            (ContainerSpec { argv: vec!["a\0b".into()], ..spec() }, "NUL"),
            (
                ContainerSpec {
                    mounts: vec![Mount { source: "v".into(), target: "rel".into(), read_only: false }],
                    ..spec()
                },
                "absolute",
            ),
            (
                ContainerSpec {
                    mounts: vec![Mount { source: "/a/../etc".into(), target: "/x".into(), read_only: false }],
                    ..spec()
                },
                "mount source",
            ),
            (ContainerSpec { cpus: Some(0.0), ..spec() }, "cpus"),
            (ContainerSpec { memory_bytes: Some(1024), ..spec() }, "memory"),
        ];
        for (spec, reason) in cases {
            let err = spec.validate().unwrap_err().to_string();
            assert!(err.contains(reason), "{err}");
        }
    }
}
