"""The monitor server against Debian's real Prometheus, Alertmanager and node exporter, the
container exporter on the real Podman `make test` starts, and a receiver standing in for
Press's webhook (press.api.monitoring.alert; Frappe does not run in CI) that checks each post
has the fields Press's Alertmanager Webhook Log reads."""

import base64
import dataclasses
import json
import os
import secrets
import socket
import ssl
import stat
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from conftest import TEST_IMAGE, free_port, service_env, test_engine

from press_selfhosted import exceptions as exc
from press_selfhosted.container_exporter import EngineTarget, Exporter, server
from press_selfhosted.engine import LABEL_BENCH, LABEL_KIND, object_name
from press_selfhosted.monitor import Monitor, htpasswd_line, prepare, rules, targets
from press_selfhosted.proxy import Proxy
from press_selfhosted.monitor.alert_rules import RULES, press_rule_file
from press_selfhosted.monitor.scrape import PRESS_METRICS, blackbox_config, prometheus_config

SERVER = "f1-local.example.com"
TOKEN = "webhook-token-that-never-shows"


class PressWebhookStandIn(BaseHTTPRequestHandler):
	"""Records each Alertmanager post that Press's webhook would take: the token in its query,
	and the payload fields AlertmanagerWebhookLog.validate and after_insert read."""
	received: list = []

	def do_POST(self):
		query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
		payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
		ok = (self.path.startswith("/api/method/press.api.monitoring.alert") and query.get("webhook_token") == [TOKEN]
			and payload["groupLabels"].get("alertname") and payload["status"] in ("firing", "resolved")
			and payload["commonLabels"]["severity"] and "groupKey" in payload and "externalURL" in payload
			and "truncatedAlerts" in payload and all("instance" in a["labels"] for a in payload["alerts"]))
		self.received.append((ok, payload))
		self.send_response(200 if ok else 400)
		self.end_headers()

	def log_message(self, *args):
		pass


class PressMetricsStandIn(BaseHTTPRequestHandler):
	"""Press's /metrics/press-selfhosted (integrations/monitoring.py; Frappe does not run in CI):
	the same exposition, for the same sign-in (Frappe's `token key:secret`)."""
	token = ""

	def do_GET(self):
		from press_selfhosted.monitor.press_metrics import RunningJob, SiteBackups, exposition

		if self.headers.get("Authorization") != f"token {self.token}" or self.path != PRESS_METRICS:
			self.send_response(401)
			self.end_headers()
			return
		now = time.time()
		body = exposition([SiteBackups("shop.example.com", now - 10**6, now - 30 * 3600, False)],
			[RunningJob("j1", "New Site", SERVER, now - 60)], {"storage": True}, now).encode()
		self.send_response(200)
		self.send_header("Content-Type", "text/plain; version=0.0.4")
		self.send_header("Content-Length", str(len(body)))
		self.end_headers()
		self.wfile.write(body)

	def log_message(self, *args):
		pass


def started(argv: list[str], log: Path) -> subprocess.Popen:
	return subprocess.Popen(argv, stdout=log.open("w"), stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
	process.terminate()
	try:
		process.wait(timeout=30)
	except subprocess.TimeoutExpired:
		process.kill()
		process.wait()


def get(url: str):
	try:
		with urllib.request.urlopen(url, timeout=10) as answer:
			return json.load(answer)
	except OSError:
		return None  # not listening yet


def until(what, timeout: float = 60, every: float = 0.5):
	deadline = time.monotonic() + timeout
	while True:
		got = what()
		if got or time.monotonic() > deadline:
			return got
		time.sleep(every)


@pytest.fixture
def platform(tmp_path):
	"""A monitor folder, Alertmanager, the container exporter of the test Podman, a node
	exporter and a Prometheus configured as the platform's is (scrape.prometheus_config)."""
	processes, servers = [], []
	folder = tmp_path / "monitor"
	am_port, prom_port, node_port, hook_port = free_port(), free_port(), free_port(), free_port()
	PressWebhookStandIn.received = []
	PressMetricsStandIn.token = f"{secrets.token_hex(8)}:{secrets.token_hex(16)}"
	hook = ThreadingHTTPServer(("127.0.0.1", hook_port), PressWebhookStandIn)
	press = ThreadingHTTPServer(("127.0.0.1", 0), PressMetricsStandIn)
	exporter = server(Exporter((EngineTarget("f1", test_engine("podman").endpoint),)), ("127.0.0.1", 0))
	for http in (hook, press, exporter):
		threading.Thread(target=http.serve_forever, daemon=True).start()
		servers.append(http)
	monitor = Monitor(folder, f"http://127.0.0.1:{prom_port}", f"http://127.0.0.1:{am_port}")
	assert len(prepare(monitor)) == 6 and prepare(monitor) == []
	monitor.press_token.write_text(PressMetricsStandIn.token)
	config = prometheus_config(folder, blackbox="127.0.0.1:9", alertmanager=f"127.0.0.1:{am_port}", interval="2s",
		press=f"http://127.0.0.1:{press.server_address[1]}")
	(tmp_path / "prometheus.yml").write_text(json.dumps(config))
	try:
		processes.append(started(["prometheus-alertmanager", f"--config.file={monitor.alertmanager_file}",
			f"--storage.path={tmp_path / 'am'}", f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
			tmp_path / "alertmanager.log"))
		processes.append(started(["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{node_port}"],
			tmp_path / "node.log"))
		processes.append(started(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}", "--web.enable-lifecycle",
			f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{prom_port}"], tmp_path / "prometheus.log"))
		for url in (monitor.prometheus_url, monitor.alertmanager_url):
			assert until(lambda: get(f"{url}/api/v1/status/config") or get(f"{url}/api/v2/status")), f"{url} never answered"
		ports = {"cadvisor": exporter.server_address[1], "node": node_port}
		yield monitor, ports, f"http://127.0.0.1:{hook_port}"
	finally:
		for process in processes:
			stop(process)
		for http in servers:
			http.shutdown()
			http.server_close()


def press_targets(*servers: str) -> dict:
	"""Press's `targets` answer for one cluster whose app servers are `servers`."""
	return {"clusters": [{"name": "Local", "jobs": {"node": list(servers), "cadvisor": list(servers), "nginx": list(servers)},
		"proxied_jobs": {}}], "benches": [], "domains": [], "tls": []}


def press_routes(hook: str, *alerts: str, wait: str = "1s") -> str:
	"""The routes Press's PrometheusAlertRule.get_routes writes, with short waits."""
	return yaml.safe_dump({"route": {"receiver": "web.hook", "routes": [{"group_by": ["alertname"], "group_wait": wait,
		"group_interval": wait, "repeat_interval": "1h", "matchers": [f'alertname="{a}"']} for a in alerts]},
		"receivers": [{"name": "web.hook", "webhook_configs": [
			{"url": f"{hook}/api/method/press.api.monitoring.alert?webhook_token={TOKEN}"}]}]})


def query(monitor: Monitor, promql: str) -> list:
	answer = get(f"{monitor.prometheus_url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")
	return answer["data"]["result"] if answer else []


def active_targets(monitor: Monitor) -> list[dict]:
	answer = get(f"{monitor.prometheus_url}/api/v1/targets?state=active")
	return answer["data"]["activeTargets"] if answer else []


def test_targets_follow_press_s_servers_with_press_s_labels(platform):
	monitor, ports, _ = platform
	address = {SERVER: "127.0.0.1", "f2-local.example.com": "127.0.0.1"}.get
	changed = targets.write(monitor, targets.file_sd(press_targets(SERVER, "f2-local.example.com", "elsewhere.example.com"),
		address, ports=ports))
	assert changed == ["servers.json"]  # sites and domains: none, as prepare() left them
	# Press's server chart query (press/api/server.py, analytics "cpu"), its labels verbatim.
	cpu = f'sum by (mode)(rate(node_cpu_seconds_total{{instance="{SERVER}", job="node"}}[10s])) * 100'
	assert until(lambda: {r["metric"].get("mode") for r in query(monitor, cpu)} >= {"idle", "user"}, timeout=60), active_targets(monitor)
	up = until(lambda: len(query(monitor, 'up{job=~"node|cadvisor"} == 1')) == 4 and query(monitor, 'up{job=~"node|cadvisor"} == 1'))
	assert sorted((r["metric"]["job"], r["metric"]["instance"], r["metric"]["cluster"]) for r in up) == sorted([
		("cadvisor", "f2-local.example.com", "Local"), ("cadvisor", SERVER, "Local"),
		("node", "f2-local.example.com", "Local"), ("node", SERVER, "Local")])
	# The same state again writes nothing; a server archived in Press leaves Prometheus.
	assert targets.write(monitor, targets.file_sd(press_targets(SERVER, "f2-local.example.com"), address, ports=ports)) == []
	assert targets.write(monitor, targets.file_sd(press_targets(SERVER), address, ports=ports)) == ["servers.json"]
	gone = until(lambda: {t["labels"]["instance"] for t in active_targets(monitor) if t["labels"]["job"] in ("node", "cadvisor")}
		== {SERVER})
	assert gone, active_targets(monitor)


def test_a_stopped_bench_container_fires_press_s_alert_and_resolves_when_it_runs_again(platform):
	monitor, ports, hook = platform
	targets.write(monitor, targets.file_sd(press_targets(SERVER), {SERVER: "127.0.0.1"}.get, ports=ports))
	# The shipped rule as Press writes it, waiting 2 s instead of 2 min.
	down = dataclasses.replace(next(r for r in RULES if r.name == "Bench Container Down"), for_="2s")
	rules.update(monitor, {"rules": yaml.safe_dump(press_rule_file([down])), "routes": press_routes(hook, down.name)})
	loaded = get(f"{monitor.prometheus_url}/api/v1/rules")["data"]["groups"]
	assert [r["name"] for g in loaded for r in g["rules"]] == [down.name]
	engine = test_engine("podman")
	bench = f"bench-monitor-{time.monotonic_ns() % 10**6:06d}"
	name = object_name("bench", bench)
	engine.run(name, TEST_IMAGE, ["sleep", "600"], labels={LABEL_KIND: "bench", LABEL_BENCH: bench}, init=True)
	try:
		assert until(lambda: query(monitor, f'press_container_up{{job="cadvisor", name="{bench}"}} == 1')), "never scraped"
		engine.stop(name, timeout=1)

		def posted(status: str):
			return [p for ok, p in PressWebhookStandIn.received if p["status"] == status
				and any(a["labels"]["instance"] == bench for a in p["alerts"])]

		firing = until(lambda: posted("firing"), timeout=90)
		assert firing, PressWebhookStandIn.received
		assert all(ok for ok, _ in PressWebhookStandIn.received), PressWebhookStandIn.received
		payload = firing[0]
		assert payload["groupLabels"] == {"alertname": down.name} and payload["commonLabels"]["severity"] == "critical"
		assert payload["alerts"][0]["labels"]["instance"] == bench and payload["alerts"][0]["labels"]["cluster"] == "Local"
		assert payload["commonAnnotations"]["description"] == down.description
		engine.start(name)
		assert until(lambda: posted("resolved"), timeout=90), PressWebhookStandIn.received
	finally:
		engine.remove(name, force=True)


def test_a_rule_promtool_refuses_is_refused_with_its_words_and_nothing_changes(platform):
	monitor, _, hook = platform
	good = yaml.safe_dump(press_rule_file(RULES))
	rules.update(monitor, {"rules": good, "routes": press_routes(hook, *(r.name for r in RULES))})
	before = (monitor.rules_file.read_text(), monitor.alertmanager_file.read_text())
	broken = dataclasses.replace(RULES[0], expression="probe_success{job=\"site\" == 0")
	with pytest.raises(exc.ValidationError, match=r"(?s)promtool refused it: .*press\.yml.*(parse error|unexpected)") as refused:
		rules.update(monitor, {"rules": yaml.safe_dump(press_rule_file([broken])), "routes": press_routes(hook, broken.name)})
	assert ".new" not in str(refused.value)
	# Routes naming a receiver that is not there: amtool's words, never the webhook's token.
	routes = yaml.safe_load(press_routes(hook, "Sites Down"))
	routes["route"]["routes"][0]["receiver"] = "nowhere"
	with pytest.raises(exc.ValidationError, match="(?s)amtool refused it: .*nowhere") as refused:
		rules.update(monitor, {"rules": good, "routes": yaml.safe_dump(routes)})
	assert TOKEN not in str(refused.value)
	for bad in (None, {"rules": good}, {"rules": "groups: [", "routes": press_routes(hook)},
			{"rules": "- a list", "routes": press_routes(hook)}, {"rules": good, "routes": 7},
			# receivers of the wrong shape: amtool's refusal, not a crash of ours
			{"rules": good, "routes": "route: {receiver: a}\nreceivers: [a, {name: b, webhook_configs: [x]}]\n"},
			{"rules": good, "routes": "route: {receiver: a}\nreceivers: {a: 1}\n"}):
		with pytest.raises(exc.ValidationError):
			rules.update(monitor, bad)
	assert (monitor.rules_file.read_text(), monitor.alertmanager_file.read_text()) == before
	assert sorted(p.name for p in monitor.directory.rglob("*") if p.is_file()) == ["alertmanager.yml", "domains.json",
		"press.token", "press.yml", "servers.json", "sites.json"]  # nothing staged is left
	served = get(f"{monitor.prometheus_url}/api/v1/rules")["data"]["groups"]
	assert {r["name"] for g in served for r in g["rules"]} == {r.name for r in RULES}


def test_press_s_https_webhook_is_told_the_platform_ca(platform, ca):
	monitor, _, _ = platform
	monitor = dataclasses.replace(monitor, ca_pem=ca.root_pem)
	rules.update(monitor, {"rules": yaml.safe_dump(press_rule_file(RULES)),
		"routes": press_routes("https://press.example.com", "Sites Down")})
	written = yaml.safe_load(monitor.alertmanager_file.read_text())
	assert written["receivers"][0]["webhook_configs"][0]["http_config"] == {"tls_config": {"ca_file": "ca.crt"}}
	assert monitor.ca_file.read_text() == ca.root_pem
	# Alertmanager reloaded it, and found the CA beside its configuration (it says the path it read).
	status = get(f"{monitor.alertmanager_url}/api/v2/status")
	assert "ca.crt" in status["config"]["original"]


def test_reload_of_a_server_that_is_not_there_is_a_monitor_error(tmp_path):
	with pytest.raises(exc.MonitorError, match="does not answer"):
		rules.reload(f"http://127.0.0.1:{free_port()}", "Prometheus")


def test_press_s_sites_and_domains_are_probed_under_their_own_names():
	answer = {"benches": [{"name": "bench-0001", "cluster": "Local", "server": SERVER, "group": "g1",
		"sites": ["Shop.Example.com"]}], "domains": [{"name": "shop.customer.org", "site": "shop.example.com"},
		{"name": "shop.example.com", "site": "shop.example.com"}], "clusters": []}
	groups = targets.file_sd(answer, lambda s: None)
	assert groups["sites.json"] == [{"targets": ["https://shop.example.com/api/method/ping"], "labels": {
		"cluster": "Local", "server": SERVER, "group": "g1", "bench": "bench-0001", "instance": "shop.example.com"}}]
	assert groups["domains.json"] == [{"targets": ["https://shop.customer.org/api/method/ping"],
		"labels": {"instance": "shop.customer.org", "site": "shop.example.com"}}]
	assert groups["servers.json"] == []
	for bad in ([], {"benches": [{"name": "b", "sites": ["not a name/.."]}]}, {"domains": [{"name": None}]}):
		with pytest.raises(exc.ValidationError):
			targets.file_sd(bad, lambda s: None)


def through_traefik(host: str, path: str, auth: tuple[str, str] | None = None) -> tuple[int, str]:
	"""GET https://<host><path> at the test Traefik's HTTPS port, as Press's client sends it.
	The certificate is not checked: it is the platform wildcard's (tested with the proxy); the
	routing and the basic auth are what is under test here."""
	address, port = service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_HTTPS").rsplit(":", 1)
	context = ssl.create_default_context()
	context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
	header = f"Authorization: Basic {base64.b64encode(':'.join(auth).encode()).decode()}\r\n" if auth else ""
	with socket.create_connection((address, int(port)), timeout=10) as raw, context.wrap_socket(raw, server_hostname=host) as tls:
		# HTTP/1.0: the answer comes whole, never in chunks.
		tls.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n{header}\r\n".encode())
		reply = b"".join(iter(lambda: tls.recv(65536), b"")).decode(errors="replace")
	head, _, body = reply.partition("\r\n\r\n")
	return int(head.split(" ", 2)[1]), body


def test_press_asks_prometheus_and_alertmanager_through_traefik_with_the_monitor_s_password(platform):
	monitor, _, _ = platform
	proxy = Proxy(service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_DIR"), service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_API"))
	host = f"monitor-{os.getpid()}.example.com"
	password = secrets.token_hex(16)  # as Press makes a Monitor Server's grafana_password
	users = [htpasswd_line("frappe", password)]
	routes = proxy.write_monitor(host, prometheus_url=monitor.prometheus_url, alertmanager_url=monitor.alertmanager_url,
		users=users)
	try:
		proxy.wait_loaded(routes)
		# Press's own request (press/api/analytics.py _query_prometheus): the prefix goes, the auth holds.
		status, body = through_traefik(host, "/prometheus/api/v1/query?query=up", ("frappe", password))
		assert status == 200 and json.loads(body)["status"] == "success", body
		assert through_traefik(host, "/alertmanager/api/v2/status", ("frappe", password))[0] == 200
		assert through_traefik(host, "/prometheus/api/v1/query?query=up")[0] == 401
		assert through_traefik(host, "/prometheus/api/v1/query?query=up", ("frappe", "wrong"))[0] == 401
		written = Path(proxy.config_dir) / "_monitor.yaml"
		assert stat.S_IMODE(written.stat().st_mode) == 0o600 and password not in written.read_text()
		again = proxy.write_monitor(host, prometheus_url=monitor.prometheus_url, alertmanager_url=monitor.alertmanager_url,
			users=users)
		assert [r.changed for r in again] == [False, False]
		for bad in ({"users": []}, {"users": [f"frappe:{password}"]}, {"prometheus_url": "http://127.0.0.1:9090/prometheus"}):
			with pytest.raises(exc.ValidationError):
				proxy.write_monitor(host, **{"prometheus_url": monitor.prometheus_url, "alertmanager_url": monitor.alertmanager_url,
					"users": users, **bad})
		assert not any(r.changed for r in proxy.write_monitor(host, prometheus_url=monitor.prometheus_url,
			alertmanager_url=monitor.alertmanager_url, users=users))
	finally:
		assert proxy.remove_monitor()
		proxy.wait_gone([r.router for r in routes])
	assert not proxy.remove_monitor()


def test_press_s_own_series_are_scraped_with_the_monitor_s_token_under_their_own_names(platform):
	monitor, _, _ = platform
	late = until(lambda: query(monitor, 'press_site_backup_age_seconds{job="press"} > 26 * 3600'))
	assert [r["metric"]["instance"] for r in late] == ["shop.example.com"], late
	jobs = query(monitor, 'press_agent_job_running_seconds{job="press"}')
	assert [(r["metric"]["instance"], r["metric"]["agent_job"]) for r in jobs] == [(SERVER, "j1")]
	assert [r["value"][1] for r in query(monitor, 'press_platform_service_up{job="press", instance="storage"}')] == ["1"]


class PingStandIn(BaseHTTPRequestHandler):
	"""A site's /api/method/ping as Frappe answers it."""

	def do_GET(self):
		body = b'{"message":"pong"}' if self.path == "/api/method/ping" else b"{}"
		self.send_response(200 if self.path == "/api/method/ping" else 404)
		self.send_header("Content-Length", str(len(body)))
		self.end_headers()
		self.wfile.write(body)

	def log_message(self, *args):
		pass


def test_a_site_is_probed_by_the_blackbox_exporter_and_its_certificate_20_days_from_expiry_fires(platform, ca, tmp_path):
	"""Debian's blackbox exporter with the platform's module probes a site served with a
	certificate from the platform CA that expires in 20 days: Press's uptime query answers 1,
	and the shipped Certificate Expiring rule fires through Alertmanager to Press's webhook."""
	monitor, _, hook = platform
	cert = ca.issue(["localhost"], validity_days=20)
	(tmp_path / "site.crt").write_text(cert.full_chain_pem)
	(tmp_path / "site.key").write_text(cert.private_key_pem())
	context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	context.load_cert_chain(tmp_path / "site.crt", tmp_path / "site.key")
	site = ThreadingHTTPServer(("127.0.0.1", 0), PingStandIn)
	site.socket = context.wrap_socket(site.socket, server_side=True)
	threading.Thread(target=site.serve_forever, daemon=True).start()
	(tmp_path / "ca.crt").write_text(ca.root_pem)
	(tmp_path / "blackbox.yml").write_text(json.dumps(blackbox_config(str(tmp_path / "ca.crt"))))
	port = free_port()
	blackbox = started(["prometheus-blackbox-exporter", f"--config.file={tmp_path / 'blackbox.yml'}",
		f"--web.listen-address=127.0.0.1:{port}"], tmp_path / "blackbox.log")
	# The platform's Prometheus configuration, pointed at this blackbox exporter.
	config = prometheus_config(monitor.directory, blackbox=f"127.0.0.1:{port}", alertmanager=monitor.alertmanager_url[7:],
		interval="2s")
	(tmp_path / "prometheus.yml").write_text(json.dumps(config))
	prom_port = free_port()
	prometheus = started(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}", "--web.enable-lifecycle",
		f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{prom_port}"], tmp_path / "p.log")
	try:
		name = f"localhost:{site.server_address[1]}"
		# A site group as targets.file_sd writes it, at the stand-in's port ("localhost" is the one
		# name this machine resolves without the platform's DNS).
		targets.write(monitor, {"servers.json": [], "domains.json": [], "sites.json": [{"targets": [f"https://{name}/api/method/ping"],
			"labels": {"cluster": "Local", "server": SERVER, "group": "g1", "bench": "bench-0001", "instance": "localhost"}}]})
		expiring = dataclasses.replace(next(r for r in RULES if r.name == "Certificate Expiring"), for_="2s")
		rules.update(monitor, {"rules": yaml.safe_dump(press_rule_file([expiring])), "routes": press_routes(hook, expiring.name)})
		mine = dataclasses.replace(monitor, prometheus_url=f"http://127.0.0.1:{prom_port}")
		assert until(lambda: get(f"{mine.prometheus_url}/api/v1/status/config")), "Prometheus never answered"
		rules.reload(mine.prometheus_url, "Prometheus")  # this Prometheus reads the same rule file
		# Press's uptime query (press/api/analytics.py get_uptime), verbatim but for the site.
		uptime = 'avg_over_time(probe_success{job="site", instance="localhost"}[10s]) or on() vector(0)'
		assert until(lambda: [r["value"][1] for r in query(mine, uptime)] == ["1"], timeout=60), query(mine, uptime)
		left = query(mine, 'probe_ssl_earliest_cert_expiry{job="site", instance="localhost"} - time()')
		assert 19 * 86400 < float(left[0]["value"][1]) <= 20 * 86400, left
		firing = until(lambda: [p for ok, p in PressWebhookStandIn.received if p["status"] == "firing"
			and p["groupLabels"]["alertname"] == expiring.name], timeout=90)
		assert firing and firing[0]["alerts"][0]["labels"]["instance"] == "localhost", PressWebhookStandIn.received
		assert firing[0]["alerts"][0]["labels"]["bench"] == "bench-0001"
	finally:
		stop(prometheus)
		stop(blackbox)
		site.shutdown()
		site.server_close()
