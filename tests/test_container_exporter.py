"""The container exporter against the real Podman and Docker that `make test` starts, and a real
Prometheus (Debian's) scraping it the way the platform's does, asked Press's own chart query."""

import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import pytest
from conftest import ENGINES, TEST_IMAGE, engine_url, free_port

from press_selfhosted import exceptions as exc
from press_selfhosted._native import container_metrics
from press_selfhosted.container_exporter import EngineTarget, Exporter, engine_targets, main, server
from press_selfhosted.engine import LABEL_BENCH, LABEL_KIND, Engine, object_name

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
	"""Every sample line of an exposition as (metric, labels, value)."""
	found = []
	for line in text.splitlines():
		if line.startswith("#") or not line:
			continue
		match = SAMPLE.match(line)
		assert match, f"not a sample line: {line!r}"
		labels = {k: v.replace('\\"', '"').replace("\\\\", "\\") for k, v in LABEL.findall(match[2])}
		found.append((match[1], labels, float(match[3])))
	return found


def value(text: str, metric: str, **labels: str) -> float | None:
	matching = [v for m, l, v in samples(text) if m == metric and all(l.get(k) == want for k, want in labels.items())]
	assert len(matching) <= 1, f"{metric} {labels}: {len(matching)} series"
	return matching[0] if matching else None


@pytest.fixture
def started(engine):
	"""Runs containers for the test (as engine.run takes them) and removes them afterwards."""
	names = []

	def run(slug: str, argv: list[str], **options) -> str:
		name = object_name("bench", f"{slug}-{engine.kind}-{os.getpid()}")
		engine.run(name, TEST_IMAGE, argv, init=True, **options)
		names.append(name)
		return name

	yield run
	for name in names:
		engine.remove(name, force=True)


def test_a_bench_container_is_named_as_press_names_it_and_its_cpu_counts_up(engine, started):
	bench = f"bench-{engine.kind}-{os.getpid()}-0001"
	busy = started("busy", ["sha256sum", "/dev/zero"], labels={LABEL_KIND: "bench", LABEL_BENCH: bench},
		memory_bytes=96 << 20)
	targets = [("f1", engine.endpoint, None)]
	first = value(container_metrics(targets), "container_cpu_usage_seconds_total", name=bench)
	time.sleep(1.5)
	text = container_metrics(targets)
	second = value(text, "container_cpu_usage_seconds_total", name=bench, container=busy, engine="f1", kind="bench")
	assert first is not None and second is not None
	assert second - first > 0.3, "a container spinning a core used CPU time meanwhile"
	assert value(text, "container_spec_memory_limit_bytes", name=bench) == 96 << 20
	assert value(text, "container_memory_usage_bytes", name=bench) > 0
	assert value(text, "press_container_up", name=bench) == 1
	assert value(text, "press_engine_up", engine="f1") == 1
	assert value(text, "container_start_time_seconds", name=bench) > time.time() - 600
	image = next(labels["image"] for metric, labels, _ in samples(text) if labels.get("name") == bench)
	assert "busybox" in image


def test_a_stopped_container_is_down_with_no_usage_and_a_service_goes_by_its_name(engine, started):
	stopped = started("stopped", ["sleep", "300"], labels={LABEL_KIND: "bench"})
	engine.stop(stopped, timeout=1)
	service = started("service", ["sleep", "300"], labels={LABEL_KIND: "service", "com.docker.compose.service": "redis-cache"})
	text = container_metrics([("f1", engine.endpoint, None)])
	assert value(text, "press_container_up", container=stopped) == 0
	assert value(text, "container_cpu_usage_seconds_total", container=stopped) is None
	assert value(text, "container_memory_usage_bytes", container=stopped) is None
	# Without a bench label the container's own name is the name.
	assert value(text, "press_container_restarts_total", container=stopped, name=stopped) == 0
	assert value(text, "press_container_up", container=service, name="redis-cache", kind="service") == 1


def test_an_engine_that_is_gone_or_silent_is_down_and_the_others_still_answer(engine, started, tmp_path):
	running = started("alive", ["sleep", "300"], labels={LABEL_KIND: "bench"})
	tls = os.environ["PRESS_SELFHOSTED_TEST_DOCKER_TLS_DIR"]
	files = (f"{tls}/ca.crt", f"{tls}/client.fullchain.crt", f"{tls}/client.key")
	with socket.socket() as silent:
		# Listens, never answers: the TLS handshake waits until the scrape's timeout.
		silent.bind(("127.0.0.1", 0))
		silent.listen()
		targets = [("gone", f"unix://{tmp_path}/absent.sock", None),
			("silent", f"tcp://127.0.0.1:{silent.getsockname()[1]}", files), ("f1", engine.endpoint, None)]
		started_at = time.monotonic()
		text = container_metrics(targets, timeout=1.5)
		elapsed = time.monotonic() - started_at
	assert value(text, "press_engine_up", engine="gone") == 0
	assert value(text, "press_engine_up", engine="silent") == 0
	assert value(text, "press_engine_up", engine="f1") == 1
	assert value(text, "press_container_up", container=running, engine="f1") == 1
	assert "# engine silent: engine unreachable at tcp://127.0.0.1" in text and "no answer within 1.5 s" in text
	assert "# engine gone: " in text
	assert elapsed < 30, "the silent engine was given its timeout, not the engine client's own"


def test_a_remote_engine_over_mutual_tls_is_scraped():
	tls = os.environ["PRESS_SELFHOSTED_TEST_DOCKER_TLS_DIR"]
	files = (f"{tls}/ca.crt", f"{tls}/client.fullchain.crt", f"{tls}/client.key")
	text = container_metrics([("f2", os.environ["PRESS_SELFHOSTED_TEST_DOCKER_TLS"], files)])
	assert value(text, "press_engine_up", engine="f2") == 1


def test_bad_input_is_refused_before_any_engine_is_asked():
	good = ("f1", engine_url("podman"), None)
	for engines, options in [
		([("f1", "http://example.com", None)], {}),
		([("f1", "tcp://10.0.0.1:2376", None)], {}),  # a TCP engine is never reached in the clear
		([good, good], {}),
		([("", good[1], None)], {}),
		([good], {"concurrency": 0}),
		([good], {"concurrency": 257}),
		([good], {"concurrency": 2**70}),
		([good], {"concurrency": -1}),
		([good], {"timeout": 0}),
		([good], {"timeout": float("nan")}),
	]:
		with pytest.raises(exc.ValidationError):
			container_metrics(engines, **options)
	for engines, tls in [(["f1"], []), (["=unix:///x"], []), (["f1=/x", "f1=/y"], []), (["f1=/x"], ["f2=a,b,c"]),
		(["f1=/x"], ["f1=a,b"])]:
		with pytest.raises(exc.ValidationError):
			engine_targets(engines, tls)


def test_the_command_refuses_a_bad_engine_or_address_with_a_usage_message(capsys):
	for argv, said in [(["--engine", "f1=ftp://nowhere"], "unsupported engine endpoint"),
			(["--engine", f"f1={engine_url('docker')}", "--listen", "127.0.0.1:65536"], "expected host:port")]:
		with pytest.raises(SystemExit) as exited:
			main(argv)
		assert exited.value.code == 2
		assert said in capsys.readouterr().err


def test_metrics_are_served_over_http_and_nothing_else_is():
	exporter = Exporter((EngineTarget("f1", engine_url("docker")),))
	http = server(exporter, ("127.0.0.1", 0))
	threading.Thread(target=http.serve_forever, daemon=True).start()
	try:
		base = f"http://127.0.0.1:{http.server_address[1]}"
		with urllib.request.urlopen(f"{base}/metrics", timeout=30) as answer:
			assert answer.status == 200
			assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
			assert value(answer.read().decode(), "press_engine_up", engine="f1") == 1
		with pytest.raises(urllib.error.HTTPError) as missing:
			urllib.request.urlopen(f"{base}/other", timeout=30)
		assert missing.value.code == 404
	finally:
		http.shutdown()
		http.server_close()


@pytest.fixture
def prometheus(tmp_path):
	"""Debian's Prometheus, scraping an exporter of both engines every 3 s as job "cadvisor"
	(Podman takes most of a second to say what it is, at each scrape's connect)."""
	exporter = Exporter((EngineTarget("podman-host", engine_url("podman")), EngineTarget("docker-host", engine_url("docker"))))
	http = server(exporter, ("127.0.0.1", 0))
	threading.Thread(target=http.serve_forever, daemon=True).start()
	port = free_port()
	config = tmp_path / "prometheus.yml"
	config.write_text(json.dumps({  # YAML is a superset of JSON
		"global": {"scrape_interval": "3s", "scrape_timeout": "3s"},
		"scrape_configs": [{"job_name": "cadvisor", "static_configs": [{"targets": [f"127.0.0.1:{http.server_address[1]}"]}]}],
	}))
	log = (tmp_path / "prometheus.log").open("w")
	process = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
		f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
	try:
		yield f"http://127.0.0.1:{port}"
	finally:
		process.terminate()
		process.wait(timeout=30)
		http.shutdown()
		http.server_close()
		log.close()


def query(prometheus: str, promql: str) -> list[dict]:
	try:
		with urllib.request.urlopen(f"{prometheus}/api/v1/query?{urllib.parse.urlencode({'query': promql})}", timeout=10) as a:
			return json.load(a)["data"]["result"]
	except OSError:
		return []  # not listening yet


def test_prometheus_answers_press_s_bench_cpu_query_from_the_exporter(prometheus):
	"""The query Press's bench charts send (press/api/analytics.py, get_cpu_usage), verbatim
	but for the bench names: its job label, its `name` selector, its `by (name)`."""
	benches = {}
	for kind in sorted(ENGINES):
		engine = Engine.connect(engine_url(kind))
		bench = f"bench-{kind}-{os.getpid()}-0002"
		name = object_name("bench", f"prom-{kind}-{os.getpid()}")
		engine.run(name, TEST_IMAGE, ["sha256sum", "/dev/zero"], labels={LABEL_KIND: "bench", LABEL_BENCH: bench}, init=True)
		benches[bench] = (engine, name)
	try:
		selector = "|".join(benches)
		promql = f'sum by (name) (rate(container_cpu_usage_seconds_total{{job="cadvisor", name=~"{selector}"}}[5m]))'
		rates = {}
		deadline = time.monotonic() + 60
		while time.monotonic() < deadline and len(rates) < len(benches):
			rates = {r["metric"]["name"]: float(r["value"][1]) for r in query(prometheus, promql)}
			time.sleep(1)
		assert set(rates) == set(benches), f"Prometheus has no CPU rate for {set(benches) - set(rates)}"
		# Over 5 minutes a few seconds of samples are a small rate; over the last samples,
		# a spinning container uses most of a core.
		assert all(rate > 0 for rate in rates.values()), rates
		recent = {}
		while time.monotonic() < deadline and not (set(recent) == set(benches) and min(recent.values()) > 0.3):
			recent = {r["metric"]["name"]: float(r["value"][1]) for r in query(prometheus,
				f'sum by (name) (irate(container_cpu_usage_seconds_total{{job="cadvisor", name=~"{selector}"}}[10s]))')}
			time.sleep(1)
		assert set(recent) == set(benches) and min(recent.values()) > 0.3, recent
		up = query(prometheus, 'press_engine_up{job="cadvisor"}')
		assert {r["metric"]["engine"]: r["value"][1] for r in up} == {"podman-host": "1", "docker-host": "1"}
		memory = query(prometheus, f'avg_over_time(container_memory_usage_bytes{{job="cadvisor", name=~"{selector}"}}[5m]) / 1024 / 1024 / 1024')
		assert {r["metric"]["name"] for r in memory} == set(benches)
	finally:
		for engine, name in benches.values():
			engine.remove(name, force=True)
