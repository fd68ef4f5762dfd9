"""Benches: one container per bench, as Press's images expect (supervisord running gunicorn,
socketio, the workers, the scheduler and the bench's own Redis), its sites, logs and config on
named volumes that outlive the container. Press's jobs New Bench, Archive Bench, Bench Restart
and Update Bench Configuration; each takes the job's request as Press sends it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from press_selfhosted.engine import LABEL_BENCH, LABEL_KIND, LABEL_OWNER, ContainerState, object_name
from press_selfhosted.exceptions import ContainerNotFound, EngineError, ImageMissing, StepFailed, ValidationError
from press_selfhosted.executor import container
from press_selfhosted.executor.container import BENCH_DIR
from press_selfhosted.executor.job_types import (
	body, check_bench, check_image, check_tag, flag, job_type, nothing_to_do, obj, text,
)
from press_selfhosted.executor.jobs import Recorder
from press_selfhosted.executor.platform import Platform

WEB_PORT, SOCKETIO_PORT = 8000, 9000
REDIS_CACHE_PORT, REDIS_QUEUE_PORT = 13000, 11000
VOLUMES = ("sites", "logs", "config")
SUPERVISOR_CONF = f"{BENCH_DIR}/config/supervisord.conf"
SUPERVISORCTL = ["supervisorctl", "-c", SUPERVISOR_CONF]
# How many times a taken pair of host ports is skipped (a host running other platforms in the
# same range may hold many of them).
PORT_ATTEMPTS = 20


@dataclass(frozen=True)
class BenchPorts:
	web: int
	socketio: int


def container_name(platform: Platform, bench: str) -> str:
	"""The bench's container: the platform's owner id first, as Press numbers its benches
	from bench-0001 on every Press, and two Press sites may share an engine."""
	return object_name("bench", f"{platform.owner}-{check_bench(bench)}")


def volume_name(platform: Platform, bench: str, kind: str) -> str:
	return object_name("bench", f"{platform.owner}-{check_bench(bench)}-{kind}")


def ports(state: ContainerState) -> BenchPorts:
	return BenchPorts(state.ports.get(WEB_PORT) or 0, state.ports.get(SOCKETIO_PORT) or 0)


def upstreams(platform: Platform, bench: str) -> tuple[str, str]:
	"""Where Traefik reaches the bench's web and socketio processes."""
	name = container_name(platform, bench)
	if platform.upstream == "network":
		return f"http://{name}:{WEB_PORT}", f"http://{name}:{SOCKETIO_PORT}"
	bound = ports(platform.engine.inspect(name))
	return f"http://127.0.0.1:{bound.web}", f"http://127.0.0.1:{bound.socketio}"


def supervisor_conf(bench_config: dict) -> str:
	"""supervisord's whole configuration: every process of the bench, logs under logs/."""
	workers = _int(bench_config, "background_workers", 1, 1, 32)
	gunicorn = _int(bench_config, "gunicorn_workers", 2, 1, 64)
	timeout = _int(bench_config, "http_timeout", 120, 10, 3600)
	logs = f"{BENCH_DIR}/logs"
	programs = {
		"web": f"{BENCH_DIR}/env/bin/gunicorn --chdir {BENCH_DIR}/sites --bind 0.0.0.0:{WEB_PORT} --workers {gunicorn}"
		f" --timeout {timeout} --preload 'frappe.app:application_with_statics()'",
		"socketio": f"node {BENCH_DIR}/apps/frappe/socketio.js",
		"schedule": "bench schedule",
		"worker-short": "bench worker --queue short,default",
		"worker-long": "bench worker --queue long,default,short",
		"redis-cache": f"redis-server --port {REDIS_CACHE_PORT} --bind 127.0.0.1 --save '' --appendonly no"
		f" --maxmemory {_int(bench_config, 'redis_cache_size', 512, 16, 65536)}mb --maxmemory-policy allkeys-lru",
		"redis-queue": f"redis-server --port {REDIS_QUEUE_PORT} --bind 127.0.0.1 --save '' --appendonly no",
	}
	lines = [
		"; Written by press_selfhosted's local executor: the bench's processes.",
		"[supervisord]", "nodaemon=true", f"logfile={logs}/supervisord.log", f"pidfile={logs}/supervisord.pid",
		"[unix_http_server]", f"file={logs}/supervisor.sock", "chmod=0700",
		"[supervisorctl]", f"serverurl=unix://{logs}/supervisor.sock",
		"[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
	]
	for name, command in programs.items():
		copies = workers if name.startswith("worker") else 1
		lines += [
			f"[program:{name}]", f"command={command}", f"directory={BENCH_DIR}/sites" if name == "web" else f"directory={BENCH_DIR}",
			"autorestart=true", "stopasgroup=true", "killasgroup=true", f"stdout_logfile={logs}/{name}.log",
			f"stderr_logfile={logs}/{name}.error.log",
			f"priority={1 if name.startswith('redis') else 10}",
		]
		if copies > 1:
			lines += [f"numprocs={copies}", "process_name=%(program_name)s-%(process_num)d"]
	return "\n".join(lines) + "\n"


def common_site_config(platform: Platform, requested: dict, current: dict) -> dict:
	"""Press's common_site_config with what the container needs: the Database Server as the
	bench reaches it, and the bench's own Redis."""
	return {
		**current,
		**requested,
		"db_host": platform.database.bench_host,
		"db_port": platform.database.bench_port,
		"redis_cache": f"redis://127.0.0.1:{REDIS_CACHE_PORT}",
		"redis_queue": f"redis://127.0.0.1:{REDIS_QUEUE_PORT}",
		"redis_socketio": f"redis://127.0.0.1:{REDIS_QUEUE_PORT}",
		"webserver_port": WEB_PORT,
		"socketio_port": SOCKETIO_PORT,
	}


def check_bench_config(config: dict) -> dict:
	"""Press's bench_config, every value the executor uses checked (limits, process counts)."""
	if config.get("docker_image") is not None:
		check_image(config["docker_image"], "bench_config.docker_image")
	_limits(config)
	supervisor_conf(config)
	return config


def check_registry(request: dict) -> dict:
	"""Press's registry: {url, username, password}, each text or absent."""
	registry = obj(request, "registry")
	return {key: text(registry, key) for key in ("url", "username", "password")}


def check_new_bench(request: object) -> dict:
	request = body(request)
	config = check_bench_config(obj(request, "bench_config"))
	return {"bench": check_bench(request.get("name")), "image": check_image(config.get("docker_image"), "bench_config.docker_image"), "config": config,
		"common_site_config": obj(request, "common_site_config"), "registry": check_registry(request)}


@job_type("New Bench", "POST", "benches", check=check_new_bench, secrets=("registry/password",),
	steps=("Initialize Bench", "Update Bench Configuration", "Deploy Bench", "Bench Setup NGINX"))
def new_bench(platform: Platform, rec: Recorder, *, bench: str, image: str, config: dict, common_site_config: dict,
		registry: dict) -> dict:
	name = container_name(platform, bench)
	with rec.step("Initialize Bench") as step:
		_ensure_image(platform, image, registry, step)
		for kind in VOLUMES:
			if platform.engine.ensure_volume(volume_name(platform, bench, kind), labels=_labels(platform, bench)):
				step.say(f"volume {volume_name(platform, bench, kind)} created")
	with rec.step("Update Bench Configuration") as step:
		_configure(platform, bench, image, config, common_site_config, step)
	with rec.step("Deploy Bench") as step:
		bound = _deploy(platform, bench, image, config, step)
	nothing_to_do(rec, "Bench Setup NGINX")
	return {"container": name, "web_port": bound.web, "socketio_port": bound.socketio}


@job_type("Archive Bench", "POST", "benches/{bench}/archive",
	steps=("Bench Disable Production", "Move Bench to Archived Directory"))
def archive_bench(platform: Platform, rec: Recorder, *, bench: str) -> dict:
	name = container_name(platform, bench)
	with rec.step("Bench Disable Production") as step:
		try:
			state = _owned(platform, platform.engine.inspect(name))
		except ContainerNotFound:
			state = None
		if state is not None and state.running:
			sites = site_names(platform, bench)
			if sites:
				# Press keeps the bench Active when its traceback says so.
				raise StepFailed(f"Bench has sites: {', '.join(sites)}")
		if state is not None:
			platform.engine.remove(name, force=True)
			step.say(f"container {name} removed")
	with rec.step("Move Bench to Archived Directory") as step:
		for kind in VOLUMES:
			if platform.engine.remove_volume(volume_name(platform, bench, kind)):
				step.say(f"volume {volume_name(platform, bench, kind)} removed")
	return {}


def image_size_gib(platform: Platform, tag: str) -> float | None:
	"""The size in GiB of the engine's image tagged `tag` (any repository), None when there is
	none: Press asks it of the last deployed build before a deploy, to check the server's room."""
	check_tag(tag)
	for _, references, size in platform.engine.list_images():
		if tag in (_tag_of(r) for r in references):
			return size / 1024**3
	return None


def _tag_of(reference: str) -> str:
	"""The tag of `registry:port/path/name:tag` (the colon of a port is not one)."""
	name = reference.rsplit("/", 1)[-1]
	return name.split(":", 1)[1] if ":" in name else "latest"


@job_type("Bench Restart", "POST", "benches/{bench}/restart", steps=("Bench Restart",),
	check=lambda request, bench: {"bench": bench, "web_only": flag(body(request), "web_only")})
def restart_bench(platform: Platform, rec: Recorder, *, bench: str, web_only: bool) -> dict:
	name = container_name(platform, bench)
	with rec.step("Bench Restart") as step:
		if web_only:
			container.run(platform.engine, name, [*SUPERVISORCTL, "restart", "web"], step)
		else:
			platform.engine.restart(name)
			step.say(f"container {name} restarted")
		_wait_web(platform, name)
	return {}


def check_update_bench(request: object, bench: str) -> dict:
	request = body(request)
	return {"bench": bench, "config": check_bench_config(obj(request, "bench_config")),
		"common_site_config": obj(request, "common_site_config")}


@job_type("Update Bench Configuration", "POST", "benches/{bench}/config", check=check_update_bench,
	steps=("Update Bench Configuration", "Bench Setup NGINX", "Generate Docker Compose File", "Update Bench Memory Limits",
		"Deploy Bench"))
def update_bench(platform: Platform, rec: Recorder, *, bench: str, config: dict, common_site_config: dict) -> dict:
	name = container_name(platform, bench)
	state = platform.engine.inspect(name)
	image = config.get("docker_image") or state.image
	with rec.step("Update Bench Configuration") as step:
		_configure(platform, bench, image, config, common_site_config, step)
	nothing_to_do(rec, "Bench Setup NGINX", "Generate Docker Compose File")
	with rec.step("Update Bench Memory Limits") as step:
		memory, cpus = _limits(config)
		step.say(f"memory limit {memory >> 20 if memory else 'none'} MiB, CPUs {cpus or 'no limit'}")
	with rec.step("Deploy Bench") as step:
		previous = ports(state)
		platform.engine.remove(name, force=True)
		bound = _deploy(platform, bench, image, config, step, keep=previous)
	return {"container": name, "web_port": bound.web, "socketio_port": bound.socketio}


def site_names(platform: Platform, bench: str) -> list[str]:
	"""The bench's sites: directories of sites/ with a site_config.json."""
	found = container.run(platform.engine, container_name(platform, bench),
		["find", f"{BENCH_DIR}/sites", "-mindepth", "2", "-maxdepth", "2", "-name", "site_config.json"], None)
	return sorted(line.split("/")[-2] for line in found.split())


def _ensure_image(platform: Platform, image: str, registry: dict, step) -> None:
	"""Pulls the bench's image from the registry Press names; with no registry named, an image
	already on the engine is used as it is (nothing is asked of a public registry). When the
	registry cannot give it and the image is here, the local one is used and the
	administrator told."""
	local = _has_image(platform, image)
	if not registry.get("url"):
		if local:
			step.say(f"{image} is on the engine (no registry named: not pulled)")
			return
	credentials = {"username": registry.get("username") or None, "password": registry.get("password") or None}
	try:
		platform.engine.pull(image, **credentials)
		step.say(f"pulled {image}")
	except EngineError as pull_error:
		if not local:
			raise
		message = f"the registry did not give {image} ({pull_error}); the image already on the engine is used"
		step.say(message)
		platform.alert(message)


def _has_image(platform: Platform, image: str) -> bool:
	"""Whether the engine has the image; an engine that does not answer raises."""
	try:
		platform.engine.image_id(image)
		return True
	except ImageMissing:
		return False


def _configure(platform: Platform, bench: str, image: str, config: dict, requested: dict, step) -> None:
	"""Writes the bench's configuration into its volumes. Before the first deploy the volumes
	are mounted in a short-lived container (which fills them from the image)."""
	name = container_name(platform, bench)
	try:
		running = _owned(platform, platform.engine.inspect(name)).running
	except ContainerNotFound:
		running = False
	target = name
	if not running:
		target = object_name("bench", f"{platform.owner}-{bench}-setup")
		try:
			platform.engine.remove(target, force=True)
		except ContainerNotFound:
			pass
		platform.engine.run(target, image, ["sleep", "3600"], labels=_labels(platform, bench), mounts=_mounts(platform, bench),
			user="frappe", init=True)
	try:
		current = container.read_json(platform.engine, target, f"{BENCH_DIR}/sites/common_site_config.json") or {}
		files = {
			SUPERVISOR_CONF: supervisor_conf(config),
			f"{BENCH_DIR}/sites/common_site_config.json": _json(common_site_config(platform, requested, current)),
			f"{BENCH_DIR}/config/bench_config.json": _json(config),
		}
		container.write_files(platform.engine, target, files, step)
	finally:
		if target != name:
			platform.engine.remove(target, force=True)


def _deploy(platform: Platform, bench: str, image: str, config: dict, step, keep: BenchPorts | None = None) -> BenchPorts:
	name = container_name(platform, bench)
	try:
		state = _owned(platform, platform.engine.inspect(name))
		if state.running:
			step.say(f"container {name} already runs")
			bound = ports(state)
			_wait_web(platform, name)
			step.say(_wait_running(platform, name))
			return bound
		platform.engine.remove(name, force=True)
	except ContainerNotFound:
		pass
	memory, cpus = _limits(config)
	with _PORTS:
		start, end = platform.ports
		for attempt in range(PORT_ATTEMPTS):
			web, socketio = (keep.web, keep.socketio) if keep and keep.web else platform.engine.allocate_ports(
				2, start=start, end=end)
			try:
				platform.engine.run(
					name, image, ["supervisord", "-n", "-c", SUPERVISOR_CONF],
					labels=_labels(platform, bench), mounts=_mounts(platform, bench),
					ports={WEB_PORT: web, SOCKETIO_PORT: socketio}, memory_bytes=memory, cpus=cpus, restart="always",
					user="frappe", workdir=BENCH_DIR, init=True, network=platform.network,
					aliases=[name] if platform.network else None,
				)
				break
			except EngineError as e:
				# A port bound on the engine's host by something the engine does not know (a
				# remote engine's host cannot be checked from here): the next ones are tried.
				if "address already in use" not in str(e) or (keep and keep.web) or attempt == PORT_ATTEMPTS - 1:
					raise
				try:
					platform.engine.remove(name, force=True)  # created, not started (Podman keeps it)
				except ContainerNotFound:
					pass
				step.say(f"ports {web} and {socketio} are taken on the engine's host; trying others")
				start = max(web, socketio) + 1
	step.say(f"container {name} runs {image}: web on 127.0.0.1:{web}, socketio on 127.0.0.1:{socketio}")
	_wait_web(platform, name)
	step.say(_wait_running(platform, name))
	return BenchPorts(web, socketio)


def _wait_running(platform: Platform, name: str) -> str:
	"""Until supervisord reports every process RUNNING; its status table, or StepFailed with it."""
	deadline, table = time.monotonic() + platform.timeout, ""
	while time.monotonic() < deadline:
		result = platform.engine.exec(name, [*SUPERVISORCTL, "status"], user="frappe", timeout=30)
		table = result.stdout.strip()
		states = [line.split()[1] for line in table.splitlines() if len(line.split()) > 1]
		if states and all(state == "RUNNING" for state in states):
			return table
		time.sleep(0.5)
	raise StepFailed(f"the bench's processes did not all start within {platform.timeout:.0f} s:\n{table}")


# Any HTTP answer from the web process on its port, asked from inside the container: the
# check works for a remote engine, whose published ports are on another host.
_ASK_WEB = (
	"import http.client\n"
	f"c = http.client.HTTPConnection('127.0.0.1', {WEB_PORT}, timeout=5)\n"
	"c.request('GET', '/', headers={'Host': 'localhost'})\n"
	"c.getresponse()\n"
)


def _wait_web(platform: Platform, name: str) -> None:
	"""Until the bench's web process answers HTTP (any status: no site is needed)."""
	deadline, last = time.monotonic() + platform.timeout, "no answer"
	while time.monotonic() < deadline:
		result = platform.engine.exec(name, ["python3", "-c", _ASK_WEB], user="frappe", timeout=30)
		if result.exit_code == 0:
			return
		last = (result.stderr.strip().splitlines() or ["no answer"])[-1]
		time.sleep(0.5)
	raise StepFailed(f"the bench's web process did not answer within {platform.timeout:.0f} s ({last})")


def _limits(config: dict) -> tuple[int | None, float | None]:
	"""Press's bench_config: memory_max in MB, vcpu a count; 0 or none is no limit, as Press
	sends them for a bench without limits."""
	memory, cpus = config.get("memory_max"), config.get("vcpu")
	memory_bytes = _int(config, "memory_max", 0, 64, 1 << 20) << 20 if memory not in (None, 0) else None
	if cpus in (None, 0):
		return memory_bytes, None
	if not isinstance(cpus, int | float) or isinstance(cpus, bool) or not 0 < cpus <= 256:
		raise ValidationError(f"bench_config.vcpu is out of range: expected 0 < vcpu <= 256, got {cpus!r:.40}")
	return memory_bytes, float(cpus)


def _int(config: dict, key: str, default: int, low: int, high: int) -> int:
	value = config.get(key, default)
	if value is None:
		return default
	if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
		raise ValidationError(f"bench_config.{key} is out of range: expected an integer {low}..{high}, got {value!r:.40}")
	return value


def _labels(platform: Platform, bench: str) -> dict[str, str]:
	return {LABEL_KIND: "bench", LABEL_BENCH: bench, LABEL_OWNER: platform.owner}


def _owned(platform: Platform, state: ContainerState) -> ContainerState:
	"""A container of another platform (another Press on the same engine) is never taken over."""
	owner = state.labels.get(LABEL_OWNER)
	if owner != platform.owner:
		raise StepFailed(f"container {state.name} belongs to another platform (owner {owner!r}, this one {platform.owner!r})")
	return state


def _mounts(platform: Platform, bench: str) -> list[tuple[str, str, bool]]:
	return [(volume_name(platform, bench, kind), f"{BENCH_DIR}/{kind}", False) for kind in VOLUMES]


def _json(data: dict) -> str:
	return json.dumps(data, indent=1, sort_keys=True) + "\n"


# Allocating ports and publishing them are one step, so two benches never get the same.
_PORTS = threading.Lock()
