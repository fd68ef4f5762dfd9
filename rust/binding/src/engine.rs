//! Python classes of the container engine: `Engine`, `ContainerState`, `ExecResult`, and
//! `object_name`. Calls block the calling thread (not the GIL) on one shared Tokio runtime;
//! line callbacks take the GIL back for each line.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use press_selfhosted_core::engine::{
    self, naming, ContainerSpec, Endpoint, ExecSpec, Mount, PortRange, PublishedPort, RestartPolicy, TlsFiles,
};
use press_selfhosted_core::names::ValidationError;
use pyo3::prelude::*;

use crate::errors::{run, Failure};
use crate::numbers::Number;
use crate::runtime::{awaitable, block_on, failed};

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Engine>()?;
    module.add_class::<ContainerState>()?;
    module.add_class::<ExecResult>()?;
    module.add_function(wrap_pyfunction!(object_name, module)?)?;
    Ok(())
}

/// `erp-saas-cloud-c16-<kind>-<slug>`, validated.
#[pyfunction]
fn object_name(kind: &str, slug: &str) -> PyResult<String> {
    naming::object_name(kind, slug).map_err(|e| Failure::Invalid(e).into())
}

/// Calls a Python line callback; the first exception it raises is kept (and later lines
/// are not delivered) so the call can re-raise it once the engine side is done.
struct LineSink<'a> {
    callback: Option<&'a Py<PyAny>>,
    error: Option<PyErr>,
}

impl LineSink<'_> {
    fn deliver(&mut self, stream: &str, line: &str) -> bool {
        let (Some(callback), None) = (self.callback, &self.error) else {
            return self.error.is_none();
        };
        Python::attach(|py| match callback.call1(py, (stream, line)) {
            Ok(answer) => !answer.bind(py).is(pyo3::types::PyBool::new(py, false)),
            Err(e) => {
                self.error = Some(e);
                false
            }
        })
    }
}

/// The exec's result, or ExecFailed for a non-zero exit when `check` asks for it.
fn checked(spec: &ExecSpec, result: engine::ExecResult, check: bool) -> Result<ExecResult, Failure> {
    if check && result.exit_code != 0 {
        return Err(Failure::from(engine::Error::ExecFailed {
            argv: spec.argv.clone(),
            exit_code: result.exit_code,
            output: format!("{}{}", result.stdout, result.stderr),
        }));
    }
    Ok(ExecResult { exit_code: result.exit_code, stdout: result.stdout, stderr: result.stderr })
}

#[pyclass(frozen, module = "press_selfhosted._native")]
pub struct Engine(Arc<engine::Engine>);

#[pymethods]
impl Engine {
    /// Connects to `endpoint` (`unix://…`, a socket path, or `tcp://host:port` with `tls`
    /// = (ca, certificate, key) paths), or to the first engine found when `None`.
    #[staticmethod]
    #[pyo3(signature = (endpoint = None, *, tls = None))]
    fn connect(py: Python<'_>, endpoint: Option<String>, tls: Option<(PathBuf, PathBuf, PathBuf)>) -> PyResult<Self> {
        let tls = tls.map(|(ca, certificate, key)| TlsFiles { ca, certificate, key });
        run(py, || {
            let endpoint = match endpoint {
                Some(url) => Endpoint::parse(&url, tls)?,
                None => Endpoint::detect()?,
            };
            Ok(Self(Arc::new(block_on(engine::Engine::connect(&endpoint))?)))
        })
    }

    #[getter]
    fn kind(&self) -> &'static str {
        self.0.info().kind.as_str()
    }

    #[getter]
    fn version(&self) -> &str {
        &self.0.info().version
    }

    #[getter]
    fn api_version(&self) -> &str {
        &self.0.info().api_version
    }

    #[getter]
    fn endpoint(&self) -> String {
        self.0.endpoint().display()
    }

    fn __repr__(&self) -> String {
        format!("<Engine {} {} at {}>", self.kind(), self.version(), self.endpoint())
    }

    /// Imports a rootfs tarball as image `reference` (`name:tag`); returns the image id.
    fn import_rootfs(&self, py: Python<'_>, tarball: PathBuf, reference: String) -> PyResult<String> {
        run(py, || block_on(self.0.import_rootfs(&tarball, &reference)))
    }

    #[pyo3(signature = (reference, *, username = None, password = None))]
    fn pull(
        &self,
        py: Python<'_>,
        reference: String,
        username: Option<String>,
        password: Option<String>,
    ) -> PyResult<String> {
        run(py, || block_on(self.0.pull(&reference, credentials(&username, &password)?)))
    }

    /// Gives image `source` the further name `target`.
    fn tag(&self, py: Python<'_>, source: String, target: String) -> PyResult<()> {
        run(py, || block_on(self.0.tag(&source, &target)))
    }

    /// Pushes `reference`; `on_line("push", status)` gets each status the engine reports.
    #[pyo3(signature = (reference, *, username = None, password = None, on_line = None))]
    fn push(
        &self,
        py: Python<'_>,
        reference: String,
        username: Option<String>,
        password: Option<String>,
        on_line: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let mut sink = LineSink { callback: on_line.as_ref(), error: None };
        let result = run(py, || {
            block_on(self.0.push(&reference, credentials(&username, &password)?, |status| {
                sink.deliver("push", status);
            }))
        });
        sink.error.map_or(result, Err)
    }

    /// Builds the directory `context` into image `tag` through the engine's build API;
    /// `on_line("build", line)` gets each line the builder prints. Returns the image id;
    /// a failing instruction raises BuildFailed with the builder's message.
    #[pyo3(signature = (context, tag, *, dockerfile = "Dockerfile".to_string(), no_cache = false,
                        platform = String::new(), on_line = None))]
    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        py: Python<'_>,
        context: PathBuf,
        tag: String,
        dockerfile: String,
        no_cache: bool,
        platform: String,
        on_line: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        let spec = engine::BuildSpec { context, dockerfile, tag, no_cache, platform };
        let mut sink = LineSink { callback: on_line.as_ref(), error: None };
        let result = run(py, || {
            block_on(self.0.build(&spec, |line| {
                sink.deliver("build", line);
            }))
        });
        sink.error.map_or(result, Err)
    }

    fn image_id(&self, py: Python<'_>, reference: String) -> PyResult<String> {
        run(py, || block_on(self.0.image_id(&reference)))
    }

    /// `[(id, tags, size)]`
    fn list_images(&self, py: Python<'_>) -> PyResult<Vec<(String, Vec<String>, i64)>> {
        run(py, || Ok(block_on(self.0.list_images())?.into_iter().map(|i| (i.id, i.tags, i.size)).collect()))
    }

    #[pyo3(signature = (reference, *, force = false))]
    fn remove_image(&self, py: Python<'_>, reference: String, force: bool) -> PyResult<()> {
        run(py, || block_on(self.0.remove_image(&reference, force)))
    }

    /// Copies the regular file `path` of the container to `destination` on this host (mode
    /// 0600, written whole or not at all); returns its size in bytes and its SHA-256.
    fn copy_from(
        &self,
        py: Python<'_>,
        container: String,
        path: String,
        destination: PathBuf,
    ) -> PyResult<(u64, String)> {
        run(py, || block_on(self.0.copy_from(&container, &path, &destination)))
    }

    /// Puts the host file `source` into the container as `path` (its directory must exist),
    /// mode 0600, owned by `uid:gid`.
    #[pyo3(signature = (container, source, path, *, uid = None, gid = None))]
    fn copy_to(
        &self,
        py: Python<'_>,
        container: String,
        source: PathBuf,
        path: String,
        uid: Option<Number<u32>>,
        gid: Option<Number<u32>>,
    ) -> PyResult<()> {
        let id = |n: Option<Number<u32>>| u64::from(n.map_or(0, Number::get));
        let (uid, gid) = (id(uid), id(gid));
        run(py, || block_on(self.0.copy_to(&container, &source, &path, uid, gid)))
    }

    #[pyo3(signature = (name, *, labels = None))]
    fn ensure_network(
        &self,
        py: Python<'_>,
        name: String,
        labels: Option<BTreeMap<String, String>>,
    ) -> PyResult<String> {
        run(py, || block_on(self.0.ensure_network(&name, &labels.unwrap_or_default())))
    }

    #[pyo3(signature = (network, container, *, aliases = None))]
    fn connect_network(
        &self,
        py: Python<'_>,
        network: String,
        container: String,
        aliases: Option<Vec<String>>,
    ) -> PyResult<()> {
        run(py, || block_on(self.0.connect_network(&network, &container, &aliases.unwrap_or_default())))
    }

    fn remove_network(&self, py: Python<'_>, name: String) -> PyResult<()> {
        run(py, || block_on(self.0.remove_network(&name)))
    }

    #[pyo3(signature = (name, *, labels = None))]
    fn ensure_volume(&self, py: Python<'_>, name: String, labels: Option<BTreeMap<String, String>>) -> PyResult<bool> {
        run(py, || block_on(self.0.ensure_volume(&name, &labels.unwrap_or_default())))
    }

    #[pyo3(signature = (name, *, force = false))]
    fn remove_volume(&self, py: Python<'_>, name: String, force: bool) -> PyResult<bool> {
        run(py, || block_on(self.0.remove_volume(&name, force)))
    }

    #[pyo3(signature = (labels = None))]
    fn list_volumes(&self, py: Python<'_>, labels: Option<Vec<String>>) -> PyResult<Vec<String>> {
        run(py, || block_on(self.0.list_volumes(&labels.unwrap_or_default())))
    }

    /// Creates and starts a container; returns its id. `ports` maps container ports to host
    /// ports on 127.0.0.1 (`{8000: 32301}`); `mounts` are `(source, target, read_only)` with a
    /// volume name or an absolute host path as source; `restart` is "no", "always",
    /// "unless-stopped" or "on-failure:N".
    #[pyo3(signature = (name, image, argv = None, *, env = None, labels = None, mounts = None, ports = None,
                        memory_bytes = None, cpus = None, restart = "no", healthcheck = None,
                        healthcheck_interval = None, user = None, workdir = None, init = false,
                        network = None, aliases = None))]
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        py: Python<'_>,
        name: String,
        image: String,
        argv: Option<Vec<String>>,
        env: Option<BTreeMap<String, String>>,
        labels: Option<BTreeMap<String, String>>,
        mounts: Option<Vec<(String, String, bool)>>,
        ports: Option<BTreeMap<Number<u16>, Number<u16>>>,
        memory_bytes: Option<Number<i64>>,
        cpus: Option<Number<f64>>,
        restart: &str,
        healthcheck: Option<Vec<String>>,
        healthcheck_interval: Option<Number<u32>>,
        user: Option<String>,
        workdir: Option<String>,
        init: bool,
        network: Option<String>,
        aliases: Option<Vec<String>>,
    ) -> PyResult<String> {
        let spec = ContainerSpec {
            name,
            image,
            argv: argv.unwrap_or_default(),
            env: env.unwrap_or_default(),
            labels: labels.unwrap_or_default(),
            mounts: mounts
                .unwrap_or_default()
                .into_iter()
                .map(|(source, target, read_only)| Mount { source, target, read_only })
                .collect(),
            ports: ports
                .unwrap_or_default()
                .into_iter()
                .map(|(inner, host)| PublishedPort::loopback(inner.get(), host.get()))
                .collect(),
            memory_bytes: memory_bytes.map(Number::get),
            cpus: cpus.map(Number::get),
            restart: restart_policy(restart)?,
            healthcheck,
            healthcheck_interval_seconds: healthcheck_interval.map(Number::get),
            user,
            workdir,
            init,
            network: network.map(|n| (n, aliases.unwrap_or_default())),
        };
        run(py, || block_on(self.0.run(&spec)))
    }

    fn start(&self, py: Python<'_>, container: String) -> PyResult<()> {
        run(py, || block_on(self.0.start(&container)))
    }

    #[pyo3(signature = (container, *, timeout = Number(10)))]
    fn stop(&self, py: Python<'_>, container: String, timeout: Number<i32>) -> PyResult<()> {
        run(py, || block_on(self.0.stop(&container, timeout.get())))
    }

    #[pyo3(signature = (container, *, timeout = Number(10)))]
    fn restart(&self, py: Python<'_>, container: String, timeout: Number<i32>) -> PyResult<()> {
        run(py, || block_on(self.0.restart(&container, timeout.get())))
    }

    #[pyo3(signature = (container, *, force = false))]
    fn remove(&self, py: Python<'_>, container: String, force: bool) -> PyResult<()> {
        run(py, || block_on(self.0.remove(&container, force)))
    }

    fn inspect(&self, py: Python<'_>, container: String) -> PyResult<ContainerState> {
        run(py, || Ok(ContainerState::from(block_on(self.0.inspect(&container))?)))
    }

    /// Containers carrying every label given (`"key"` or `"key=value"`), running or not.
    #[pyo3(signature = (labels = None))]
    fn list(&self, py: Python<'_>, labels: Option<Vec<String>>) -> PyResult<Vec<ContainerState>> {
        run(py, || {
            Ok(block_on(self.0.list(&labels.unwrap_or_default()))?.into_iter().map(ContainerState::from).collect())
        })
    }

    #[pyo3(signature = (count = Number(1), *, start = Number(32300), end = Number(32500)))]
    fn allocate_ports(
        &self,
        py: Python<'_>,
        count: Number<usize>,
        start: Number<u16>,
        end: Number<u16>,
    ) -> PyResult<Vec<u16>> {
        let range = PortRange::new(start.get(), end.get()).map_err(Failure::from)?;
        run(py, || block_on(self.0.allocate_ports(range, count.get())))
    }

    /// Runs `argv` in `container` (no shell). `on_line(stream, line)` is called for each
    /// line as it arrives ("stdout"/"stderr"). With `check`, a non-zero exit raises
    /// ExecFailed; a `timeout` (seconds) kills the command and raises EngineTimeout.
    #[pyo3(signature = (container, argv, *, env = None, user = None, workdir = None, timeout = None,
                        on_line = None, check = false))]
    #[allow(clippy::too_many_arguments)]
    fn exec(
        &self,
        py: Python<'_>,
        container: String,
        argv: Vec<String>,
        env: Option<BTreeMap<String, String>>,
        user: Option<String>,
        workdir: Option<String>,
        timeout: Option<Number<f64>>,
        on_line: Option<Py<PyAny>>,
        check: bool,
    ) -> PyResult<ExecResult> {
        let timeout = timeout.map(Number::seconds).transpose()?;
        let spec = ExecSpec { argv, env: env.unwrap_or_default(), user, workdir, timeout };
        let mut sink = LineSink { callback: on_line.as_ref(), error: None };
        let result = run(py, || {
            let result = block_on(self.0.exec(&container, &spec, |stream, line| {
                sink.deliver(stream.as_str(), line);
            }))?;
            checked(&spec, result, check)
        });
        if let Some(error) = sink.error {
            return Err(error);
        }
        result
    }

    /// Log lines as `(stream, text)`: the last `tail` (all when None), since `since` (Unix
    /// seconds). With `follow`, `on_line(stream, text)` gets each new line until it returns
    /// False or the container stops; without, the lines are returned.
    #[pyo3(signature = (container, *, tail = None, since = None, follow = false, on_line = None))]
    fn logs(
        &self,
        py: Python<'_>,
        container: String,
        tail: Option<Number<u64>>,
        since: Option<Number<i64>>,
        follow: bool,
        on_line: Option<Py<PyAny>>,
    ) -> PyResult<Vec<(&'static str, String)>> {
        let mut sink = LineSink { callback: on_line.as_ref(), error: None };
        let (tail, since) = (tail.map(Number::get), since.map(Number::get));
        let mut lines = Vec::new();
        let result = run(py, || {
            block_on(self.0.logs(&container, tail, since, follow, |line| {
                if !follow {
                    lines.push((line.stream.as_str(), line.text.clone()));
                }
                sink.deliver(line.stream.as_str(), &line.text)
            }))
        });
        if let Some(error) = sink.error {
            return Err(error);
        }
        result.map(|()| lines)
    }

    /// The awaitable form of `exec` (same arguments): `await engine.exec_async(...)`;
    /// `on_line(stream, text)` gets each line as it arrives.
    #[pyo3(signature = (container, argv, *, env = None, user = None, workdir = None, timeout = None,
                        on_line = None, check = false))]
    #[allow(clippy::too_many_arguments)]
    fn exec_async<'py>(
        &self,
        py: Python<'py>,
        container: String,
        argv: Vec<String>,
        env: Option<BTreeMap<String, String>>,
        user: Option<String>,
        workdir: Option<String>,
        timeout: Option<Number<f64>>,
        on_line: Option<Py<PyAny>>,
        check: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let timeout = timeout.map(Number::seconds).transpose()?;
        let spec = ExecSpec { argv, env: env.unwrap_or_default(), user, workdir, timeout };
        let engine = self.0.clone();
        awaitable(py, async move {
            let mut sink = LineSink { callback: on_line.as_ref(), error: None };
            let result = engine
                .exec(&container, &spec, |stream, line| {
                    sink.deliver(stream.as_str(), line);
                })
                .await
                .map_err(failed)?;
            if let Some(error) = sink.error {
                return Err(error);
            }
            checked(&spec, result, check).map_err(failed)
        })
    }

    /// Follows the container's output, awaitably: `on_line(stream, text)` gets the last `tail`
    /// lines and then each new one, until it returns False or the container stops.
    #[pyo3(signature = (container, on_line, *, tail = None, since = None))]
    fn follow_logs_async<'py>(
        &self,
        py: Python<'py>,
        container: String,
        on_line: Py<PyAny>,
        tail: Option<Number<u64>>,
        since: Option<Number<i64>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (tail, since) = (tail.map(Number::get), since.map(Number::get));
        let engine = self.0.clone();
        awaitable(py, async move {
            let mut sink = LineSink { callback: Some(&on_line), error: None };
            engine
                .logs(&container, tail, since, true, |line| sink.deliver(line.stream.as_str(), &line.text))
                .await
                .map_err(failed)?;
            sink.error.map_or(Ok(()), Err)
        })
    }

    /// Runs the container's healthcheck once (through exec) and says whether it passed; a
    /// check that runs past `timeout` seconds fails.
    #[pyo3(signature = (container, *, timeout = Number(30.0)))]
    fn run_healthcheck(&self, py: Python<'_>, container: String, timeout: Number<f64>) -> PyResult<bool> {
        let timeout = timeout.seconds()?;
        run(py, || block_on(self.0.run_healthcheck(&container, timeout)))
    }

    /// One sample: cpu_percent, memory_bytes, memory_limit_bytes, network_rx_bytes,
    /// network_tx_bytes, block_read_bytes, block_write_bytes.
    fn stats(&self, py: Python<'_>, container: String) -> PyResult<HashMap<&'static str, f64>> {
        run(py, || {
            let s = block_on(self.0.stats(&container))?;
            Ok(HashMap::from([
                ("cpu_percent", s.cpu_percent),
                ("memory_bytes", s.memory_bytes as f64),
                ("memory_limit_bytes", s.memory_limit_bytes as f64),
                ("network_rx_bytes", s.network_rx_bytes as f64),
                ("network_tx_bytes", s.network_tx_bytes as f64),
                ("block_read_bytes", s.block_read_bytes as f64),
                ("block_write_bytes", s.block_write_bytes as f64),
            ]))
        })
    }
}

fn credentials<'a>(
    username: &'a Option<String>,
    password: &'a Option<String>,
) -> Result<Option<(&'a str, &'a str)>, Failure> {
    match (username, password) {
        (Some(u), Some(p)) => Ok(Some((u.as_str(), p.as_str()))),
        (None, None) => Ok(None),
        _ => Err(ValidationError::new("give both username and password, or neither").into()),
    }
}

fn restart_policy(text: &str) -> PyResult<RestartPolicy> {
    let policy = match text {
        "no" => RestartPolicy::No,
        "always" => RestartPolicy::Always,
        "unless-stopped" => RestartPolicy::UnlessStopped,
        other => match other.strip_prefix("on-failure:").and_then(|n| n.parse().ok()) {
            Some(n) => RestartPolicy::OnFailure(n),
            None => {
                return Err(Failure::Invalid(ValidationError::new(format!(
                    "restart must be no, always, unless-stopped or on-failure:N, got {other:?}"
                )))
                .into())
            }
        },
    };
    Ok(policy)
}

#[pyclass(frozen, get_all, module = "press_selfhosted._native")]
pub struct ContainerState {
    id: String,
    name: String,
    image: String,
    status: String,
    running: bool,
    exit_code: Option<i64>,
    health: Option<String>,
    restart_count: i64,
    started_at: Option<String>,
    labels: BTreeMap<String, String>,
    /// `{container_port: host_port}` as configured.
    ports: BTreeMap<u16, Option<u16>>,
    networks: BTreeMap<String, String>,
    pid: i64,
}

impl From<engine::ContainerState> for ContainerState {
    fn from(s: engine::ContainerState) -> Self {
        Self {
            id: s.id,
            name: s.name,
            image: s.image,
            status: s.status,
            running: s.running,
            exit_code: s.exit_code,
            health: s.health,
            restart_count: s.restart_count,
            started_at: s.started_at,
            labels: s.labels,
            ports: s.ports.into_iter().map(|p| (p.container_port, p.host_port)).collect(),
            networks: s.networks,
            pid: s.pid,
        }
    }
}

#[pymethods]
impl ContainerState {
    fn __repr__(&self) -> String {
        format!("<ContainerState {} {}>", self.name, self.status)
    }
}

#[pyclass(frozen, get_all, module = "press_selfhosted._native")]
pub struct ExecResult {
    exit_code: i64,
    stdout: String,
    stderr: String,
}

#[pymethods]
impl ExecResult {
    fn __repr__(&self) -> String {
        format!("<ExecResult exit_code={}>", self.exit_code)
    }
}
