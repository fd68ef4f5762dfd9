"""The compose stack (deploy/): the rules its file keeps, its parse by docker compose,
docker-compose and podman-compose, and the stack minus Press on the images `make images`
builds from Debian's packages, brought up by `deploy/platform.sh` with podman-compose on
Podman and with docker compose on Docker: every healthcheck turns healthy, the doctor passes
against the stack's endpoints, a tenant route answers over HTTPS through the stack's Traefik,
mail reaches the catcher, an image goes into the registry, a second `up` changes nothing, and
`down` leaves no container while the volumes stay. Press itself is not in CI (its image is
built from fetched sources, by hand)."""

from __future__ import annotations

import json
import os
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, service_env
from press_selfhosted.demo import https_get
from press_selfhosted.dns import PowerDns
from press_selfhosted.doctor import CheckFailed, check_mariadb, check_redis
from press_selfhosted.pki import CertificateAuthority
from press_selfhosted.proxy import Proxy

DEPLOY = ROOT / "deploy"
PREFIX = "erp-saas-cloud-c16"
INFRA = ["traefik", "mariadb", "redis-cache", "redis-queue", "garage", "powerdns", "registry", "smtp", "alertmanager", "prometheus"]
EXECUTORS = {"backend", "queue-short", "queue-long"}
PORTS = range(32300, 32501)
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def resolved(value: str) -> str:
	"""A compose value with every variable at its default (a required one as 'REQUIRED')."""
	return VARIABLE.sub(lambda m: "REQUIRED" if m.group(2) in (":?", "?") else (m.group(3) or ""), value)


@pytest.fixture(scope="module")
def compose() -> dict:
	return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


# --- the rules ---------------------------------------------------------------------------


def test_every_service_is_named_restarts_runs_an_init_and_has_a_healthcheck(compose):
	for name, service in compose["services"].items():
		assert service.get("container_name") == f"{PREFIX}-{name}", name
		assert service.get("restart") == "unless-stopped", name
		assert service.get("init") is True, f"{name} runs without an init: its PID 1 would ignore SIGTERM"
		test = (service.get("healthcheck") or {}).get("test")
		assert test and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name} has no healthcheck"


def test_only_traefik_is_public_and_every_port_is_in_the_range(compose):
	published = {}
	for name, service in compose["services"].items():
		for port in service.get("ports", []):
			address, host, inner = resolved(port).rsplit(":", 2)
			proto = inner.partition("/")[2] or "tcp"
			assert int(host) in PORTS, f"{name} publishes {host}, outside {PORTS.start}-{PORTS.stop - 1}"
			assert (host, proto) not in published, f"{name} and {published.get((host, proto))} both publish {host}/{proto}"
			published[host, proto] = name
			if address != "127.0.0.1":
				assert name == "traefik", f"{name} publishes {port} beyond loopback"
	assert set(published.values()) >= set(INFRA), "every service's console or API is reachable from the host"


def test_no_secret_is_written_in_the_file(compose):
	secretish = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$")
	for name, service in compose["services"].items():
		for key, value in (service.get("environment") or {}).items():
			if secretish.search(key):
				match = VARIABLE.fullmatch(str(value))
				assert match and match.group(2) in (None, ":?", "?"), f"{name}: {key} must come from .env, not the file"
	# nor in the services' configuration files, nor baked into an image: what is assigned to a
	# secret's name is always a variable
	literal = re.compile(r"(?i)(password|secret|token|api.key)\w*\s*[=:]\s*(?![\"']?\$)[\"']?\w")
	for path in [*(DEPLOY / "images").rglob("*"), *(DEPLOY / "services").rglob("*")]:
		if path.is_file():
			assert not literal.search(path.read_text()), path


def test_state_lives_in_declared_named_volumes(compose):
	declared = set(compose["volumes"])
	used = set()
	for name, service in compose["services"].items():
		for volume in service.get("volumes", []):
			source = resolved(volume).split(":")[0]
			if not source.startswith(("/", ".")):
				assert source in declared, f"{name} mounts an undeclared volume {source}"
				used.add(source)
	assert used == declared, f"declared but unused: {declared - used}"
	for stateful in ("mariadb", "redis-queue", "garage", "powerdns", "registry", "prometheus"):
		assert any(not resolved(v).startswith(("/", ".")) for v in compose["services"][stateful]["volumes"]), stateful


def test_start_order_waits_on_healthchecks(compose):
	for name, service in compose["services"].items():
		for dependency, spec in (service.get("depends_on") or {}).items():
			assert spec == {"condition": "service_healthy"}, f"{name} → {dependency}"
			assert "healthcheck" in compose["services"][dependency]


def test_only_the_executors_get_the_engine_socket(compose):
	with_socket = {name for name, s in compose["services"].items() if any("/run/engine.sock" in v for v in s.get("volumes", []))}
	assert with_socket == EXECUTORS


def test_env_example_documents_every_setting():
	documented = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", (DEPLOY / ".env.example").read_text(), re.M))
	used = set(VARIABLE.findall((DEPLOY / "compose.yaml").read_text()))
	used = {m[0] for m in used}
	# platform.sh's own settings: e("NAME") in its settings, ${NAME:-…} in its shell
	script = (DEPLOY / "platform.sh").read_text()
	used |= set(re.findall(r'e\("([A-Z0-9_]+)"\)', script))
	internal = {"COMPOSE", "PLATFORM_ENV", "PLATFORM_IMAGES_ENV", "PLATFORM_TIMEOUT"}
	used |= {m for m in re.findall(r"\$\{([A-Z][A-Z0-9_]+):-", script)} - internal
	assert used <= documented, f"not in .env.example: {sorted(used - documented)}"


# --- the engines and tools of the test run -----------------------------------------------


def podman_cli(tmp: Path) -> Path:
	"""A `podman` that talks to the test run's Podman (its storage and networks), first on PATH."""
	workdir = Path(service_env("PRESS_SELFHOSTED_TEST_PODMAN").removeprefix("unix://")).parent
	bin_dir = tmp / "bin"
	bin_dir.mkdir(exist_ok=True)
	wrapper = bin_dir / "podman"
	wrapper.write_text(f"#!/bin/sh\nexec {shutil.which('podman')} --root {workdir / 'storage'} --runroot {workdir / 'run'} "
		f"--network-config-dir {workdir / 'networks'} --tmpdir {workdir / 'tmp'} \"$@\"\n")
	wrapper.chmod(0o755)
	return workdir


def engine_env(kind: str, tmp: Path) -> dict:
	env = dict(os.environ)
	env["PATH"] = f"{tmp / 'bin'}:{Path(sys.executable).parent}:{env['PATH']}"
	if kind == "podman":
		workdir = podman_cli(tmp)
		env |= {"CONTAINERS_CONF": str(workdir / "containers.conf"), "CONTAINERS_REGISTRIES_CONF": str(workdir / "registries.conf"),
			"COMPOSE": "podman-compose", "ENGINE_SOCKET": str(workdir / "podman.sock")}
	else:
		socket_path = service_env("PRESS_SELFHOSTED_TEST_DOCKER").removeprefix("unix://")
		env |= {"DOCKER_HOST": f"unix://{socket_path}", "COMPOSE": "docker compose", "ENGINE_SOCKET": socket_path}
	return env


def run(args: list[str], env: dict, timeout: float = 900, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
	result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, **kwargs)
	if check and result.returncode:
		pytest.fail(f"{' '.join(args[:4])} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
	return result


def fake_secrets() -> dict:
	return {"MARIADB_ROOT_PASSWORD": "p", "REDIS_PASSWORD": "r", "GARAGE_RPC_SECRET": "0" * 64, "GARAGE_ADMIN_TOKEN": "t", "PDNS_API_KEY": "k"}


@pytest.mark.parametrize("tool", ["docker compose", "docker-compose"])
def test_docker_tools_parse_the_file(tool, tmp_path):
	env = dict(os.environ) | fake_secrets()
	result = run([*tool.split(), "-p", PREFIX, "-f", "compose.yaml", "config"], env, timeout=60, cwd=DEPLOY)
	for name in INFRA + sorted(EXECUTORS):
		assert f"container_name: {PREFIX}-{name}" in result.stdout
	# a required secret left out is refused, naming it
	del env["PDNS_API_KEY"]
	refused = run([*tool.split(), "-p", PREFIX, "-f", "compose.yaml", "config"], env, timeout=60, check=False, cwd=DEPLOY)
	assert refused.returncode != 0 and "PDNS_API_KEY" in refused.stdout + refused.stderr


def test_podman_compose_parses_the_file(tmp_path):
	"""podman-compose 1.0 has no `config`: its dry run prints the podman commands it would run."""
	# its dry run still makes the folders of missing bind mounts: none in the checkout
	env = engine_env("podman", tmp_path) | fake_secrets() | {"REGISTRY_HTPASSWD": str(tmp_path / "htpasswd")}
	result = run(["podman-compose", "--dry-run", "-p", PREFIX, "-f", "compose.yaml", "up", "-d"], env, timeout=120, cwd=DEPLOY)
	runs = {}
	for line in result.stdout.splitlines():
		if match := re.match(rf"podman run --name={PREFIX}-([a-z-]+) ", line):
			runs[match.group(1)] = line
	assert set(runs) >= set(INFRA) | EXECUTORS
	assert "-p 127.0.0.1:32306:3306" in runs["mariadb"] and "--restart unless-stopped" in runs["mariadb"]
	assert "--healthcheck-command" in runs["garage"]


# --- the stack minus Press, up for real --------------------------------------------------


def free_ports(count: int) -> list[int]:
	sockets = [socket.socket() for _ in range(count)]
	for s in sockets:
		s.bind(("127.0.0.1", 0))
	ports = [s.getsockname()[1] for s in sockets]
	for s in sockets:
		s.close()
	return ports


def read_env(path: Path) -> dict:
	return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def containers(env: dict, kind: str) -> dict[str, str]:
	"""name → id of the stack's containers on the engine."""
	out = run([kind, "ps", "-a", "--format", "{{.Names}} {{.ID}}"], env).stdout
	return {n: i for n, i in (line.split() for line in out.splitlines() if line.strip()) if n.startswith(f"{PREFIX}-")}


@pytest.mark.parametrize("kind", ["podman", "docker"])
def test_stack_without_press_comes_up_serves_and_goes_down(kind, tmp_path):
	env = engine_env(kind, tmp_path)
	images_env = tmp_path / "images.env"
	env["PLATFORM_IMAGES_ENV"] = str(images_env)
	run(["bash", str(ROOT / "tools/images.sh"), kind], env, timeout=1800)
	images = read_env(images_env)
	assert set(images) == {f"{s.upper()}_IMAGE" for s in ("alertmanager", "garage", "mariadb", "powerdns", "prometheus", "redis",
		"registry", "smtp", "traefik")}

	names = ["HTTP_PORT", "HTTPS_PORT", "TRAEFIK_API_PORT", "MARIADB_PORT", "REDIS_CACHE_PORT", "REDIS_QUEUE_PORT", "SMTP_PORT",
		"REGISTRY_PORT", "PDNS_API_PORT", "S3_PORT", "S3_ADMIN_PORT", "PROMETHEUS_PORT", "ALERTMANAGER_PORT", "DNS_PORT"]
	ports = dict(zip(names, free_ports(len(names))))
	dynamic = tmp_path / "dynamic"
	dynamic.mkdir()
	env_file = tmp_path / "stack.env"
	env_file.write_text("".join(f"{k}={v}\n" for k, v in ports.items()) + f"TRAEFIK_DYNAMIC_SOURCE={dynamic}\n"
		f"TRAEFIK_DYNAMIC_DIR={dynamic}\nREGISTRY_HTPASSWD={tmp_path / 'htpasswd'}\n")
	env |= {"PLATFORM_ENV": str(env_file), "PLATFORM_TIMEOUT": "300"}
	platform = ["bash", str(DEPLOY / "platform.sh")]
	tenant = f"{PREFIX}-test-tenant"
	try:
		first = run([*platform, "up", *INFRA], env)
		# secrets generated, kept private, never printed
		assert env_file.stat().st_mode & 0o777 == 0o600
		settings = read_env(env_file)
		for secret in ("MARIADB_ROOT_PASSWORD", "ADMIN_PASSWORD", "REDIS_PASSWORD", "GARAGE_RPC_SECRET", "GARAGE_SECRET_KEY", "PDNS_API_KEY", "REGISTRY_PASSWORD"):
			assert len(settings[secret]) >= 24 and settings[secret] not in first.stdout + first.stderr, secret
		said = first.stdout + first.stderr
		assert re.search(r"^garage: key GK\w+: imported", said, re.M) and "\ngarage: bucket platform: created" in said, said

		status = run([*platform, "status"], env).stdout
		for service in INFRA:
			assert re.search(rf"^{service}\s+running\s+healthy$", status, re.M), status

		# the doctor, from this environment, against the stack's endpoints
		zone = "stack.test"
		PowerDns(f"http://127.0.0.1:{ports['PDNS_API_PORT']}", api_key=settings["PDNS_API_KEY"]).ensure_zone(
			zone, nameservers=[f"ns1.{zone}"])
		ca_dir = tmp_path / "ca"
		ca = CertificateAuthority.create(ca_dir, passphrase="stack-test-passphrase")
		doctor_settings = {
			"engine_endpoints": f"unix://{env['ENGINE_SOCKET']}",
			"s3_endpoint": f"http://127.0.0.1:{ports['S3_PORT']}", "s3_region": "garage", "s3_bucket": "platform",
			"s3_access_key": settings["GARAGE_ACCESS_KEY"], "s3_secret_key": settings["GARAGE_SECRET_KEY"],
			"s3_admin_url": f"http://127.0.0.1:{ports['S3_ADMIN_PORT']}", "s3_admin_token": settings["GARAGE_ADMIN_TOKEN"],
			"pdns_api_url": f"http://127.0.0.1:{ports['PDNS_API_PORT']}", "pdns_api_key": settings["PDNS_API_KEY"],
			"root_domain": zone, "dns_server": f"127.0.0.1:{ports['DNS_PORT']}",
			"traefik_api_url": f"http://127.0.0.1:{ports['TRAEFIK_API_PORT']}", "traefik_config_dir": str(dynamic),
			"ca_directory": str(ca_dir), "ca_passphrase": "stack-test-passphrase",
		}
		doctor = run([sys.executable, "-I", "-m", "press_selfhosted.doctor", "-"], env, input=json.dumps(doctor_settings), check=False)
		assert doctor.returncode == 0, doctor.stdout + doctor.stderr
		for check in ("engine", "storage", "powerdns", "traefik", "ca", "tenant_keys"):
			assert re.search(rf"^{check}\s+pass", doctor.stdout, re.M), doctor.stdout
		assert settings["GARAGE_SECRET_KEY"] not in doctor.stdout
		assert "server 10.11" in check_mariadb("127.0.0.1", ports["MARIADB_PORT"])
		for port in ("REDIS_CACHE_PORT", "REDIS_QUEUE_PORT"):
			assert check_redis("127.0.0.1", ports[port], settings["REDIS_PASSWORD"]).endswith("PONG")
			with pytest.raises(CheckFailed, match="NOAUTH"):  # tenant benches share the network: no password, no Redis
				check_redis("127.0.0.1", ports[port])

		# a tenant's bench on the platform network, routed by name through the stack's Traefik
		run([kind, "import", service_env("PRESS_SELFHOSTED_TEST_ROOTFS"), f"{PREFIX}-test/busybox:1"], env)
		run([kind, "run", "-d", "--name", tenant, "--network", f"{PREFIX}-net-platform", f"{PREFIX}-test/busybox:1",
			"httpd", "-f", "-p", "8000", "-h", "/www"], env)
		site = f"acme.{zone}"
		certificate = ca.issue([site])
		proxy = Proxy(str(dynamic), f"http://127.0.0.1:{ports['TRAEFIK_API_PORT']}")
		proxy.wait_loaded(proxy.write_site(site, [f"http://{tenant}:8000"],
			certificate=(certificate.full_chain_pem, certificate.private_key_pem())), timeout=30)
		deadline = time.monotonic() + 30
		while (answer := https_get("127.0.0.1", ports["HTTPS_PORT"], site, ca.root_pem))[0] != 200 and time.monotonic() < deadline:
			time.sleep(1)
		assert answer[:2] == (200, "hello from the test image"), answer
		# a name nobody routed gets no tenant's page
		assert https_get("127.0.0.1", ports["HTTPS_PORT"], f"other.{zone}", ca.root_pem)[0] != 200

		# mail reaches the catcher
		with smtplib.SMTP("127.0.0.1", ports["SMTP_PORT"], timeout=10) as smtp:
			smtp.sendmail("press@stack.test", ["ops@stack.test"], "Subject: stack test\r\n\r\nhello")
		logs = run([kind, "logs", f"{PREFIX}-smtp"], env)
		assert "from <press@stack.test> to <ops@stack.test>" in logs.stdout + logs.stderr

		# the registry takes a pushed image with its password, and refuses a wrong one
		registry = f"127.0.0.1:{ports['REGISTRY_PORT']}"
		tls = ["--tls-verify=false"] if kind == "podman" else []
		assert run([kind, "login", *tls, "-u", "platform", "--password-stdin", registry], env, input="wrong", check=False).returncode
		run([kind, "login", *tls, "-u", "platform", "--password-stdin", registry], env, input=settings["REGISTRY_PASSWORD"])
		run([kind, "tag", f"{PREFIX}-test/busybox:1", f"{registry}/test/busybox:1"], env)
		run([kind, "push", *tls, f"{registry}/test/busybox:1"], env)

		# again: nothing is recreated, Garage is not set up twice
		before = containers(env, kind)
		again = run([*platform, "up", *INFRA], env)
		assert not re.search(r"^garage: ", again.stdout + again.stderr, re.M), again.stdout
		assert containers(env, kind) == before
	finally:
		run([kind, "rm", "-f", tenant], env, check=False)
		down = run([*platform, "down"], env, check=False)
		left = containers(env, kind)
		volumes = run([kind, "volume", "ls", "--format", "{{.Name}}"], env, check=False).stdout.split()
		ours = [v for v in volumes if v.startswith(f"{PREFIX}_")]
		for volume in ours:
			run([kind, "volume", "rm", "-f", volume], env, check=False)
		run([kind, "network", "rm", f"{PREFIX}-net-platform"], env, check=False)
	assert down.returncode == 0, down.stdout + down.stderr
	assert left == {}, f"left after down: {left}"
	assert f"{PREFIX}_mariadb" in ours and f"{PREFIX}_garage" in ours, f"down removed the volumes: {ours}"
