"""The engine's Python API against the real Podman and Docker that `make test` starts."""

import os
import socket
import threading
import time
import urllib.request

import pytest
from conftest import TEST_IMAGE

from press_selfhosted import exceptions as exc
from press_selfhosted.engine import LABEL_KIND, LABEL_SITE, Engine, detect_engine, object_name



@pytest.fixture
def container(engine, request):
	"""A running busybox container named after the test, removed afterwards."""
	slug = f"py-{request.node.name.split('[')[0][5:30].replace('_', '-')}-{engine.kind}-{os.getpid()}"
	name = object_name("bench", slug)
	engine.run(name, TEST_IMAGE, ["sleep", "300"], labels={LABEL_KIND: "bench", LABEL_SITE: slug}, init=True)
	yield name
	engine.remove(name, force=True)


def test_autodetect_follows_docker_host(engine, monkeypatch):
	monkeypatch.setenv("DOCKER_HOST", engine.endpoint)
	detected = Engine.connect()
	assert (detected.kind, detected.endpoint) == (engine.kind, engine.endpoint)
	assert engine.api_version.startswith("1.") and engine.kind in repr(engine)


def test_setup_detects_the_first_socket_that_answers(engine, tmp_path):
	"""`bench selfhosted setup` skips absent paths and stale sockets (no daemon behind them)."""
	stale = tmp_path / "stale.sock"
	with socket.socket(socket.AF_UNIX) as s:
		s.bind(str(stale))  # bound, never listening: what a crashed daemon leaves behind
	path = engine.endpoint.removeprefix("unix://")
	found = detect_engine([str(tmp_path / "absent.sock"), str(stale), path])
	assert (found.kind, found.endpoint) == (engine.kind, engine.endpoint)
	assert detect_engine([str(stale)]) is None


def test_unreachable_and_unsafe_endpoints_are_typed_errors():
	with pytest.raises(exc.EngineUnreachable):
		Engine.connect("unix:///nonexistent/engine.sock")
	with pytest.raises(exc.ValidationError, match="mutual TLS"):
		Engine.connect("tcp://127.0.0.1:2376")


def bindable(port: int) -> bool:
	with socket.socket() as s:
		try:
			s.bind(("127.0.0.1", port))
			return True
		except OSError:
			return False


def test_a_served_container_through_the_python_api(engine):
	slug = f"py-web-{engine.kind}-{os.getpid()}"
	name = object_name("site", slug)
	port = engine.allocate_ports(1, start=32300, end=32399)[0]
	engine.run(name, TEST_IMAGE, ["httpd", "-f", "-p", "8080", "-h", "/www"], labels={LABEL_KIND: "site", LABEL_SITE: slug},
		ports={8080: port}, restart="unless-stopped", memory_bytes=64 * 1024 * 1024, cpus=0.5)
	try:
		body = None
		for _ in range(50):
			try:
				body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read().decode()
				break
			except OSError:
				threading.Event().wait(0.2)
		state = engine.inspect(name)
		assert body == "hello from the test image\n", (f"nothing answered on port {port}: {state.status}, exit {state.exit_code}, "
			f"restarts {state.restart_count}, ports {state.ports}, output {engine.logs(name, tail=20)}")
		assert state.running and state.ports == {8080: port} and state.labels[LABEL_SITE] == slug
		assert [c.name for c in engine.list([f"{LABEL_SITE}={slug}"])] == [name]
		# Every port of the range but the published one and those bound by others (Traefik's).
		free = {p for p in range(32300, 32400) if p != port and bindable(p)}
		assert set(engine.allocate_ports(len(free), start=32300, end=32399)) == free
		with pytest.raises(exc.PortsExhausted):
			engine.allocate_ports(len(free) + 1, start=32300, end=32399)
		engine.stop(name, timeout=2)
		assert not engine.inspect(name).running
	finally:
		engine.remove(name, force=True)
	with pytest.raises(exc.ContainerNotFound):
		engine.inspect(name)


def test_exec_streams_to_a_callback_and_reports_exit_codes(engine, container):
	seen = []
	result = engine.exec(container, ["seq", "1", "4"], on_line=lambda stream, line: seen.append((stream, line)))
	assert seen == [("stdout", "1"), ("stdout", "2"), ("stdout", "3"), ("stdout", "4")]
	assert (result.exit_code, result.stdout) == (0, "1\n2\n3\n4\n")

	failed = engine.exec(container, ["ls", "/missing"])
	assert failed.exit_code != 0 and "/missing" in failed.stderr
	with pytest.raises(exc.ExecFailed) as raised:
		engine.exec(container, ["ls", "/missing"], check=True)
	assert raised.value.exit_code == failed.exit_code and "/missing" in raised.value.output

	assert engine.exec(container, ["id", "-u"], user="nobody").stdout == "65534\n"
	assert "SITE=a.test" in engine.exec(container, ["env"], env={"SITE": "a.test"}).stdout.splitlines()
	missing = engine.exec(container, ["no-such-program"])
	assert missing.exit_code in (126, 127)
	with pytest.raises(exc.EngineTimeout):
		engine.exec(container, ["sleep", "60"], timeout=0.5)


def test_a_callback_exception_reaches_the_caller(engine, container):
	class Stop(Exception):
		pass

	def on_line(stream, line):
		raise Stop(line)

	with pytest.raises(Stop, match="^1$"):
		engine.exec(container, ["seq", "1", "3"], on_line=on_line)


def test_logs_tail_and_follow(engine):
	slug = f"py-logs-{engine.kind}-{os.getpid()}"
	name = object_name("bench", slug)
	engine.run(name, TEST_IMAGE, ["seq", "1", "5"], labels={LABEL_KIND: "bench"})
	try:
		for _ in range(100):
			if not engine.inspect(name).running:
				break
			threading.Event().wait(0.1)
		assert engine.logs(name, tail=2) == [("stdout", "4"), ("stdout", "5")]
		assert [line for _, line in engine.logs(name, since=1)] == ["1", "2", "3", "4", "5"]
		assert engine.logs(name, since=int(time.time()) + 3600) == []
		with pytest.raises(exc.ValidationError, match="2038"):
			engine.logs(name, since=2**31)
		followed = []
		engine.logs(name, follow=True, on_line=lambda s, line: followed.append(line) or len(followed) < 3)
		assert followed == ["1", "2", "3"]
	finally:
		engine.remove(name, force=True)


def test_conflicts_missing_images_and_bad_input(engine, container):
	with pytest.raises(exc.NameConflict):
		engine.run(container, TEST_IMAGE, ["true"], labels={LABEL_KIND: "bench"})
	with pytest.raises(exc.ImageMissing):
		engine.run(object_name("bench", f"noimg-{engine.kind}"), "erp-saas-cloud-c16-test/missing:1", labels={LABEL_KIND: "bench"})
	for kwargs, reason in [
		({"name": "not-ours"}, "invalid object name"),
		({"labels": {}}, LABEL_KIND),
		({"restart": "sometimes"}, "restart"),
		({"mounts": [("data", "relative", False)]}, "absolute"),
		({"env": {"BAD-NAME": "x"}}, "environment"),
	]:
		args = {"name": object_name("bench", f"bad-{engine.kind}"), "labels": {LABEL_KIND: "bench"}, **kwargs}
		with pytest.raises(exc.ValidationError, match=reason):
			engine.run(args.pop("name"), TEST_IMAGE, ["true"], **args)
	assert engine.list([f"{LABEL_KIND}=bench", f"{LABEL_SITE}=bad-{engine.kind}"]) == []
	with pytest.raises(exc.ValidationError):
		engine.exec(container, [])
	with pytest.raises(exc.ValidationError):
		object_name("Bench", "x")


def test_calls_from_threads_run_side_by_side(engine, container):
	results = []

	def work(i):
		results.append(engine.exec(container, ["echo", str(i)]).stdout)

	threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
	for t in threads:
		t.start()
	for t in threads:
		t.join()
	assert sorted(results) == sorted(f"{i}\n" for i in range(8))


def test_stats_sample(engine, container):
	idle = engine.stats(container)
	assert idle["memory_bytes"] > 0 and idle["cpu_percent"] < 50
	busy = object_name("bench", f"busy-{engine.kind}-{os.getpid()}")
	engine.run(busy, TEST_IMAGE, ["sha256sum", "/dev/zero"], labels={LABEL_KIND: "bench"}, init=True)
	try:
		assert engine.stats(busy)["cpu_percent"] > 20, "a container spinning a core shows it"
	finally:
		engine.remove(busy, force=True)
	assert set(idle) == {"cpu_percent", "memory_bytes", "memory_limit_bytes", "network_rx_bytes",
		"network_tx_bytes", "block_read_bytes", "block_write_bytes"}


def test_remote_engines_need_a_client_certificate_from_the_platform_ca(tmp_path):
	"""dockerd listens on TCP with --tlsverify, with certificates from press_selfhosted's CA."""
	from press_selfhosted.pki import CertificateAuthority

	url, tls = os.environ["PRESS_SELFHOSTED_TEST_DOCKER_TLS"], os.environ["PRESS_SELFHOSTED_TEST_DOCKER_TLS_DIR"]
	remote = Engine.connect(url, tls=(f"{tls}/ca.crt", f"{tls}/client.fullchain.crt", f"{tls}/client.key"))
	assert remote.kind == "docker" and remote.endpoint == url
	assert remote.image_id(TEST_IMAGE)

	stranger = CertificateAuthority.create(tmp_path / "other").issue(["press.test"], server=False, client=True)
	files = stranger.write_files(tmp_path / "certs", "client")
	with pytest.raises(exc.EngineUnreachable):
		Engine.connect(url, tls=(f"{tls}/ca.crt", str(files["full_chain"]), str(files["private_key"])))
	with pytest.raises(exc.EngineUnreachable):
		# The engine's certificate is not signed by this CA: the client refuses the server.
		Engine.connect(url, tls=(str(tmp_path / "other" / "root.crt"), f"{tls}/client.fullchain.crt", f"{tls}/client.key"))


def test_images_list_and_remove(engine):
	extra = f"erp-saas-cloud-c16-test/extra-{engine.kind}:1"
	engine.import_rootfs(os.environ["PRESS_SELFHOSTED_TEST_ROOTFS"], extra)
	assert any(extra in " ".join(tags) for _, tags, _ in engine.list_images())
	engine.remove_image(extra)
	assert not any(extra in " ".join(tags) for _, tags, _ in engine.list_images())
	with pytest.raises(exc.ImageMissing):
		engine.remove_image(extra)
	with pytest.raises(exc.ValidationError):
		engine.import_rootfs(os.environ["PRESS_SELFHOSTED_TEST_ROOTFS"], "Bad Reference")


def test_healthchecks_report_healthy(engine):
	if engine.kind == "podman":
		pytest.skip("Podman runs healthchecks from systemd timers, which this machine does not run")
	name = object_name("bench", f"health-{engine.kind}-{os.getpid()}")
	engine.run(name, TEST_IMAGE, ["sleep", "300"], labels={LABEL_KIND: "bench"}, init=True, healthcheck=["true"], healthcheck_interval=1)
	try:
		health = None
		for _ in range(50):
			health = engine.inspect(name).health
			if health == "healthy":
				break
			threading.Event().wait(0.2)
		assert health == "healthy"
	finally:
		engine.remove(name, force=True)


def test_mounts_and_memory_limit(engine, tmp_path):
	(tmp_path / "site_config.json").write_text('{"db_name": "x"}')
	slug = f"mounts-{engine.kind}-{os.getpid()}"
	name = object_name("bench", slug)
	volume = object_name("volume", slug)
	engine.run(name, TEST_IMAGE, ["sleep", "300"], labels={LABEL_KIND: "bench"}, init=True, memory_bytes=64 * 1024 * 1024,
		mounts=[(str(tmp_path), "/config", True), (volume, "/data", False)])
	try:
		assert engine.exec(name, ["cat", "/config/site_config.json"]).stdout == '{"db_name": "x"}'
		assert engine.exec(name, ["touch", "/config/new"]).exit_code != 0, "a read-only bind mount refuses writes"
		assert engine.exec(name, ["touch", "/data/written"]).exit_code == 0
		assert engine.stats(name)["memory_limit_bytes"] == 64 * 1024 * 1024
	finally:
		engine.remove(name, force=True)


def test_push_and_pull_through_a_registry_with_credentials(engine):
	"""A real registry (distribution) with htpasswd auth on loopback."""
	registry, user = os.environ["PRESS_SELFHOSTED_TEST_REGISTRY"], os.environ["PRESS_SELFHOSTED_TEST_REGISTRY_USER"]
	with open(os.environ["PRESS_SELFHOSTED_TEST_REGISTRY_PASSWORD_FILE"]) as f:
		password = f.read()
	remote = f"{registry}/bench/busybox-{engine.kind}:v1"
	engine.tag(TEST_IMAGE, remote)
	with pytest.raises(exc.EngineError) as refused:
		engine.push(remote, username=user, password="wrong-password")
	assert "wrong-password" not in str(refused.value)
	engine.push(remote, username=user, password=password)
	pushed = engine.image_id(remote)
	engine.remove_image(remote)

	with pytest.raises(exc.ImageMissing):
		engine.pull(remote)  # the registry wants credentials
	assert engine.pull(remote, username=user, password=password) == pushed
	with pytest.raises(exc.ImageMissing):
		engine.pull(f"{registry}/bench/never-pushed:v1", username=user, password=password)
	with pytest.raises(exc.ValidationError):
		engine.pull(remote, username=user)
	engine.remove_image(remote)


def test_the_platform_runs_healthchecks_itself_on_every_engine(engine, container):
	def with_check(check, slug):
		name = object_name("bench", f"{slug}-{engine.kind}-{os.getpid()}")
		engine.run(name, TEST_IMAGE, ["sleep", "300"], labels={LABEL_KIND: "bench"}, init=True, healthcheck=check)
		return name

	passing, failing, slow = with_check(["true"], "hc-pass"), with_check(["false"], "hc-fail"), with_check(["sleep", "30"], "hc-slow")
	try:
		assert engine.run_healthcheck(passing) is True
		assert engine.run_healthcheck(failing) is False
		assert engine.run_healthcheck(slow, timeout=0.5) is False
		with pytest.raises(exc.ValidationError, match="no healthcheck"):
			engine.run_healthcheck(container)
		with pytest.raises(exc.ValidationError, match="positive"):
			engine.run_healthcheck(passing, timeout=0)
	finally:
		for name in (passing, failing, slow):
			engine.remove(name, force=True)


def test_a_file_goes_into_a_container_and_back_with_its_size_and_checksum(engine, container, tmp_path):
	"""copy_to / copy_from through the archive API: the checksum copy_from returns is the
	file's own (backups give it to the uploader instead of reading the file twice)."""
	import hashlib

	source = tmp_path / "dump.sql.gz"
	source.write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # not a multiple of tar's 512-byte blocks
	engine.copy_to(container, source, "/tmp/dump.sql.gz", uid=1000, gid=1000)
	listed = engine.exec(container, ["stat", "-c", "%s %u %a", "/tmp/dump.sql.gz"], check=True).stdout.split()
	assert listed == [str(source.stat().st_size), "1000", "600"]
	back = tmp_path / "back" / "dump.sql.gz"
	back.parent.mkdir()
	size, sha = engine.copy_from(container, "/tmp/dump.sql.gz", back)
	assert (size, sha) == (source.stat().st_size, hashlib.sha256(source.read_bytes()).hexdigest())
	assert back.read_bytes() == source.read_bytes() and back.stat().st_mode & 0o777 == 0o600
	# A directory, a missing file or a relative path is refused, and nothing is left; a link
	# too on Docker (Podman's archive API resolves it, inside the container).
	engine.exec(container, ["ln", "-s", "/tmp/dump.sql.gz", "/tmp/link"], check=True)
	refused = ["/tmp", "/tmp/none", "tmp/dump.sql.gz", "/tmp/../etc/passwd"] + (["/tmp/link"] if engine.kind == "docker" else [])
	for path in refused:
		target = tmp_path / "refused"
		with pytest.raises((exc.EngineError, exc.ValidationError)):
			engine.copy_from(container, path, target)
		assert sorted(p.name for p in tmp_path.iterdir()) == ["back", "dump.sql.gz"]
	if engine.kind == "podman":
		assert engine.copy_from(container, "/tmp/link", tmp_path / "linked") == (size, sha)
