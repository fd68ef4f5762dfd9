"""The local executor's runners against the real services `make test` starts: Podman and
Docker run the STAND-IN bench image (tools/bench-image.sh: Debian, supervisord, Redis, a
MariaDB client and a stand-in for Frappe), the platform's MariaDB runs beside it on the
platform network, Traefik routes, PowerDNS resolves, the platform CA certifies. Each job goes
through `routes.job` as Press's request would, and is checked as Press reads it."""

import asyncio
import dataclasses
import json
import os
import secrets
import shutil
import socket

from pathlib import Path

import pymysql
import pytest
from conftest import service_env

from press_selfhosted import exceptions as exc
from press_selfhosted.demo import https_get as demo_https_get
from press_selfhosted.dns import DnsChecker, PlatformDns, PowerDns
from press_selfhosted.engine import LABEL_BENCH, LABEL_KIND, LABEL_OWNER, Engine, object_name
from press_selfhosted.executor import bench as benches
from press_selfhosted.executor import database, execute, routes
from press_selfhosted.executor.jobs import FAILURE, SUCCESS, Job
from press_selfhosted.executor.local import remove_database, run_database
from press_selfhosted.executor.platform import Platform
from press_selfhosted.executor.routes import declared

STEPS = declared()
from press_selfhosted.proxy import Proxy
from press_selfhosted.storage import Store

ENGINES = {"podman": "PRESS_SELFHOSTED_TEST_PODMAN", "docker": "PRESS_SELFHOSTED_TEST_DOCKER",
	# The same dockerd over TCP with mutual TLS (a client certificate from the platform CA), as a
	# remote engine is reached: every file of a bench goes through the engine's API.
	"remote": "PRESS_SELFHOSTED_TEST_DOCKER_TLS"}
IMAGE = "erp-saas-cloud-c16-test/bench-standin:1"
# The name Press gives a bench's image: on its registry (here one that never answers, on loopback).
REGISTRY_IMAGE = "127.0.0.1:1/press/bench-standin:1"
ADMIN_PASSWORD = "admin-" + secrets.token_hex(8)


class World:
	"""One engine's platform: a network, the platform MariaDB, a bench, a DNS zone."""

	def __init__(self, engine: Engine, ca, tag: str):
		self.engine, self.ca, self.tag = engine, ca, tag
		self.zone = f"exec-{tag}.test"
		self.bench = f"b-{tag}"
		self.root_password = secrets.token_urlsafe(18)
		self.next_id = 0
		self.sites: dict[str, str] = {}

	def job(self, method: str, path: str, data: dict | list | None = None) -> Job:
		route = routes.job(method, path, data)
		self.next_id += 1
		seen = []
		job = execute(self.platform, Job(self.next_id, route.name), route, on_change=lambda j: seen.append(j.status))
		assert seen[0] == "Running" and seen[-1] == job.status
		return job

	def sql(self, query: str, *args) -> list:
		conn = pymysql.connect(host="127.0.0.1", port=self.db_port, user="root", password=self.root_password)
		try:
			with conn.cursor() as cur:
				cur.execute(query, args or None)
				return list(cur.fetchall())
		finally:
			conn.close()


@pytest.fixture(params=sorted(ENGINES), scope="module")
def world(request, tmp_path_factory, credentials):
	from press_selfhosted.pki import CertificateAuthority

	url = os.environ.get(ENGINES[request.param])
	if not url:
		pytest.fail(f"{ENGINES[request.param]} is not set: run the tests through `make test`")
	tls = None
	if request.param == "remote":
		folder = service_env("PRESS_SELFHOSTED_TEST_DOCKER_TLS_DIR")
		tls = (f"{folder}/ca.crt", f"{folder}/client.fullchain.crt", f"{folder}/client.key")
	engine = Engine.connect(url, tls=tls)
	try:
		engine.image_id(IMAGE)
	except exc.ImageMissing:
		engine.import_rootfs(service_env("PRESS_SELFHOSTED_TEST_BENCH_IMAGE"), IMAGE)
	engine.tag(IMAGE, REGISTRY_IMAGE)
	ca = CertificateAuthority.create(tmp_path_factory.mktemp("ca") / "ca")
	w = World(engine, ca, f"{request.param[:3]}{os.getpid()}")
	w.remote = request.param == "remote"
	w.endpoint, w.tls = url, tls
	network = object_name("net", w.tag)
	engine.ensure_network(network, labels={LABEL_KIND: "network"})
	db_name = object_name("db", w.tag)
	w.db_port = free_port()
	database = run_database(engine, IMAGE, name=db_name, network=network, password=w.root_password, port=w.db_port)
	database = dataclasses.replace(database, root_password=w.root_password)
	with open(service_env("PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE")) as f:
		pdns = PowerDns(service_env("PRESS_SELFHOSTED_TEST_PDNS_API"), api_key=f.read().strip())
	pdns.ensure_zone(w.zone, nameservers=[f"ns1.{w.zone}"])
	https = service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_HTTPS")
	w.https_port = int(https.rsplit(":", 1)[1])

	def certificate(site):
		issued = ca.issue([site])
		return issued.full_chain_pem, issued.private_key_pem()

	# The platform's store: the real Garage of `make test`, a bucket of this world's own.
	s3 = service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT")
	w.bucket = f"backups-{w.tag}"
	w.store_for = lambda bucket: Store(s3, bucket, **credentials)
	w.store_for(w.bucket).ensure_bucket()
	w.credentials, w.s3 = credentials, s3
	w.platform = Platform(
		engine=engine,
		database=database,
		proxy=Proxy(service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_DIR"), service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_API")),
		dns=PlatformDns(pdns, DnsChecker([service_env("PRESS_SELFHOSTED_TEST_PDNS_DNS")]), ttl=60),
		address="127.0.0.1",
		network=network,
		site_certificate=certificate,
		timeout=90,
		alert=lambda message: w.alerts.append(message),
		owner=w.tag,
		store=w.store_for,
		store_endpoint=s3,
		bench_of=lambda site: w.sites.get(site, w.bench),
	)
	w.alerts = []
	w.pdns = pdns
	yield w
	for site in w.platform.proxy.sites():
		if site.endswith(f".{w.zone}"):
			w.platform.proxy.remove_site(site)  # what a failed test left routed
	for container in engine.list([f"{LABEL_BENCH}={w.bench}"]):
		engine.remove(container.name, force=True)
	for volume in engine.list_volumes([f"{LABEL_BENCH}={w.bench}"]):
		engine.remove_volume(volume, force=True)
	remove_database(engine, db_name)
	engine.remove_network(network)
	w.store_for(w.bucket).delete_prefix("")
	pdns.delete_zone(w.zone)


def free_port() -> int:
	"""A loopback port nothing binds now. The engine's own allocation cannot see this host's
	binds when the engine is reached over TCP, as a remote one is."""
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def new_bench_request(w: World, **config) -> dict:
	return {
		"name": w.bench,
		"bench_config": {"docker_image": REGISTRY_IMAGE, "background_workers": 1, "gunicorn_workers": 1, **config},
		"common_site_config": {"monitor": 1, "db_host": "10.0.0.1"},
		"registry": {"url": "127.0.0.1:1", "username": "press", "password": "registry-secret-1"},
	}


def new_site_request(w: World, site: str, apps=("frappe",)) -> dict:
	return {
		"name": site, "apps": list(apps), "config": {"host_name": f"https://{site}"},
		"mariadb_root_password": w.root_password, "admin_password": ADMIN_PASSWORD,
		"managed_database_config": {},
	}


def https_get(w: World, site: str, path: str = "/", *, port: int | None = None) -> tuple[int, str]:
	"""GET over HTTPS through Traefik, trusting only the platform root, with SNI for the site
	(the demo's client): (status, body)."""
	status, body, _ = demo_https_get("127.0.0.1", port or w.https_port, site, w.ca.root_pem, path=path, timeout=30)
	return status, body


def maintenance_page() -> int:
	"""A loopback server answering 503 to everything; its port."""
	import http.server
	import threading

	class Page(http.server.BaseHTTPRequestHandler):
		def do_GET(self):
			self.send_response(503)
			self.send_header("Content-Length", "20")
			self.end_headers()
			self.wfile.write(b"down for maintenance")

		def log_message(self, *args):
			pass

	server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
	threading.Thread(target=server.serve_forever, daemon=True).start()
	return server.server_address[1]


def steps(job: Job) -> list[tuple[str, str]]:
	return [(s["name"], s["status"]) for s in job.to_agent()["steps"]]


@pytest.fixture(scope="module")
def running_bench(world):
	job = world.job("POST", "benches", new_bench_request(world))
	assert job.status == SUCCESS, job.to_agent()
	return job


def test_new_bench_runs_one_container_as_press_images_expect(world, running_bench):
	w, job = world, running_bench
	assert steps(job) == [(name, "Success") for name in STEPS["New Bench"].steps]
	state = w.engine.inspect(benches.container_name(w.platform, w.bench))
	assert state.running and state.labels[LABEL_BENCH] == w.bench and state.labels[LABEL_KIND] == "bench"
	ports = benches.ports(state)
	assert 32300 <= ports.web <= 32500 and 32300 <= ports.socketio <= 32500 and ports.web != ports.socketio
	assert job.data == {"container": state.name, "web_port": ports.web, "socketio_port": ports.socketio}
	# The registry at 127.0.0.1:1 cannot answer: the image already here is used, and said so.
	assert any(REGISTRY_IMAGE in alert and "already on the engine" in alert for alert in w.alerts)
	status = w.engine.exec(state.name, benches.SUPERVISORCTL + ["status"], user="frappe")
	for program in ("web", "socketio", "schedule", "redis-cache", "redis-queue", "worker-short", "worker-long"):
		assert any(line.startswith(program) and "RUNNING" in line for line in status.stdout.splitlines()), status.stdout
	common = json.loads(w.engine.exec(state.name, ["cat", "sites/common_site_config.json"], user="frappe",
		workdir="/home/frappe/frappe-bench").stdout)
	# The Database Server as the bench reaches it, not Press's private IP; Redis is the bench's own.
	assert (common["db_host"], common["db_port"], common["monitor"]) == (w.platform.database.bench_host, 3306, 1)
	assert common["redis_queue"] == "redis://127.0.0.1:11000"
	agent = json.dumps(job.to_agent())
	assert "registry-secret-1" not in agent
	# Running New Bench again changes nothing and keeps the ports.
	again = w.job("POST", "benches", new_bench_request(w))
	assert again.status == SUCCESS and again.data == job.data


def test_a_new_site_has_its_own_database_and_is_served_over_https(world, running_bench):
	w = world
	site = f"one.{w.zone}"
	job = w.job("POST", f"benches/{w.bench}/sites", new_site_request(w, site))
	assert job.status == SUCCESS, job.to_agent()
	assert steps(job) == [(name, "Success") for name in STEPS["New Site"].steps]
	db = database.database_name(site)
	assert w.sql("SELECT schema_name FROM information_schema.schemata WHERE schema_name = %s", db) == [(db,)]
	assert w.sql("SELECT host FROM mysql.user WHERE user = %s", db) == [("%",)]
	assert database.temporary_users(w.platform.database, w.root_password) == []
	# The site's own user made its tables: the database is the site's.
	assert w.sql(f"SELECT app FROM `{db}`.standin_apps") == [("frappe",)]
	agent = job.to_agent()
	text = json.dumps(agent)
	assert ADMIN_PASSWORD not in text and w.root_password not in text and "********" in text
	new_site_step = agent["steps"][0]
	assert "bench new-site" in new_site_step["commands"][0]["command"]
	assert agent["data"] == {} and agent["duration"].count(":") == 2

	upstream = w.job("POST", "proxy/upstreams/10.0.0.5/sites", {"name": site})
	assert upstream.status == SUCCESS, upstream.to_agent()
	assert steps(upstream) == [(name, "Success") for name in STEPS["Add Site to Upstream"].steps]
	assert DnsChecker([service_env("PRESS_SELFHOSTED_TEST_PDNS_DNS")]).lookup(site, "A") == ["127.0.0.1"]
	status, body = https_get(w, site, "/login")
	assert status == 200 and f"Login to {site}" in body
	assert https_get(w, site, "/assets/frappe/standin.css")[0] == 200
	status, body = https_get(w, site, "/socket.io/?EIO=4&transport=polling")
	assert status == 200 and "stand-in" in body
	assert "frappe" in routes.answer(w.platform, "GET", f"benches/{w.bench}/sites/{site}/apps", None)["data"]
	info = routes.answer(w.platform, "GET", f"benches/{w.bench}/sites/{site}/info", None)["data"]
	assert set(info["usage"]) == {"database", "public", "private", "backups"} and info["usage"]["database"] > 0
	status = routes.answer(w.platform, "GET", f"benches/{w.bench}/sites/{site}/status", None)["data"]
	assert status == {"web": True, "scheduler": True, "maintenance_mode": False}
	assert "db_password" not in info["config"] and info["config"]["host_name"] == f"https://{site}"
	assert site in routes.answer(w.platform, "GET", f"benches/{w.bench}/status", None)["sites"]


def test_press_gets_the_size_of_a_build_s_image_before_a_deploy(world):
	"""`server/image-size/<tag>`: Press's room check before a deploy, in GiB, None when absent."""
	w = world
	tag = f"size{w.tag}"
	w.engine.tag(IMAGE, f"127.0.0.1:1/press/bench-0001:{tag}")  # a registry with a port, as Press names builds
	try:
		size = next(s for i, _, s in w.engine.list_images() if i == w.engine.image_id(IMAGE))
		assert routes.answer(w.platform, "GET", f"server/image-size/{tag}", None) == {"size": size / 1024**3}
		assert size > 0
	finally:
		w.engine.remove_image(f"127.0.0.1:1/press/bench-0001:{tag}")
	assert routes.answer(w.platform, "GET", f"server/image-size/{tag}", None) == {"size": None}
	with pytest.raises(exc.ValidationError):
		routes.answer(w.platform, "GET", "server/image-size/-bad", None)


def test_cleanup_unused_files_removes_only_what_nothing_uses(world, running_bench, tmp_path):
	"""Press's daily Cleanup Unused Files: a dead job's folder and an old build go; the running
	bench's image, other images, a fresh folder and volumes are kept."""
	import tempfile
	import time

	from press_selfhosted.executor import backup, builder

	w = world
	old, fresh = (Path(tempfile.mkdtemp(prefix=f"{builder.WORK_PREFIX}{kind}-")) for kind in ("old", "fresh"))
	dead_backup = Path(tempfile.mkdtemp(prefix=backup.WORK_PREFIX))
	os.utime(dead_backup, (time.time() - 4 * 3600,) * 2)
	(old / "context").mkdir()
	(old / "context" / "Dockerfile").write_text("FROM scratch\n")
	os.utime(old, (time.time() - 4 * 3600,) * 2)
	other = Path(tempfile.mkdtemp(prefix="someone-elses-"))
	os.utime(other, (time.time() - 4 * 3600,) * 2)
	registry = "127.0.0.1:2"  # Press's registry: a build there that no container uses is old
	build = f"{registry}/press/bench-0099:old{w.tag}"
	context = tmp_path / "context"
	context.mkdir()
	(context / "Dockerfile").write_text(f"FROM {IMAGE}\nLABEL io.press-selfhosted.test=old-build-{w.tag}\n")
	built = w.engine.build(context, build)
	also = f"{registry}/press/bench-standin:also{w.tag}"  # the bench's image, also named under the registry
	w.engine.tag(IMAGE, also)
	# A volume of this platform's bench that has no container (yet): named, never removed.
	orphan = benches.volume_name(w.platform, "bench-0099", "sites")
	w.engine.ensure_volume(orphan, labels={LABEL_KIND: "bench", LABEL_BENCH: "bench-0099", LABEL_OWNER: w.platform.owner})
	kept, w.platform = w.platform, dataclasses.replace(w.platform, registry=registry)
	try:
		job = w.job("POST", "server/cleanup", {"force": False})
		assert job.status == SUCCESS, job.to_agent()
		assert steps(job) == [(name, "Success") for name in STEPS["Cleanup Unused Files"].steps]
		data = job.to_agent()["data"]
		assert {"file": old.name, "size": 13} in data["files"] and not old.exists()
		assert {"file": dead_backup.name, "size": 0} in data["files"] and not dead_backup.exists()
		assert fresh.exists() and other.exists()
		assert orphan in w.engine.list_volumes() and orphan in job.to_agent()["steps"][0]["data"]["output"]
		# The old build went; the bench's image stays whatever names it has.
		assert built in {i["image"] for i in data["images"]}
		assert built not in {i for i, _, _ in w.engine.list_images()}
		assert also in {t for _, tags, _ in w.engine.list_images() for t in tags}
		assert w.engine.image_id(REGISTRY_IMAGE) == w.engine.image_id(IMAGE)
		assert w.engine.inspect(benches.container_name(w.platform, w.bench)).running
		assert len(w.engine.list_volumes([f"{LABEL_BENCH}={w.bench}"])) == 3
	finally:
		w.platform = kept
		w.engine.remove_volume(orphan, force=True)
		for folder in (old, fresh, other, dead_backup):
			shutil.rmtree(folder, ignore_errors=True)
		for reference in (build, also):
			try:
				w.engine.remove_image(reference)
			except exc.EngineError:
				pass
	with pytest.raises(exc.ValidationError):
		w.job("POST", "server/cleanup", {"force": "yes"})


def test_a_new_site_whose_worker_died_is_undone_by_its_declared_undo(world, running_bench, tmp_path):
	"""The worker is killed the moment `bench new-site` has made the site, its temporary
	database user still there: the runner's own cleanup never runs. What the job declares as
	its undo, run from another process with the job's last state, leaves nothing."""
	import subprocess
	import sys

	w = world
	site = f"killed.{w.zone}"
	path, body = f"benches/{w.bench}/sites", new_site_request(w, site)
	db = w.platform.database
	config = tmp_path / "config.json"
	config.write_text(json.dumps({"engine": w.endpoint, "tls": w.tls, "network": w.platform.network, "owner": w.tag,
		"database": {"host": db.host, "port": db.port, "bench_host": db.bench_host, "bench_port": db.bench_port},
		"traefik_dir": str(w.platform.proxy.config_dir), "traefik_api": service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_API"),
		"method": "POST", "path": path, "body": body, "job": 4242, "state": str(tmp_path / "state.json"), "die_in": "New Site"}))
	config.chmod(0o600)
	died = subprocess.run([sys.executable, str(Path(__file__).parent / "dying_runner.py"), str(config)], capture_output=True,
		text=True, timeout=300)
	assert died.returncode == -9, died.stderr
	job = Job.from_dict(json.loads((tmp_path / "state.json").read_text()))
	assert job.status == "Running" and [s.name for s in job.steps] == ["New Site"]
	prefix = database.temporary_prefix(w.tag, 4242)
	# Half-made: the site's database, its user, its directory, and the job's temporary user; and
	# Press's Add Site to Upstream, which may succeed before or after, routed and named it.
	assert database.site_database_exists(db, w.root_password, database.database_name(site)) == (True, True)
	assert site in benches.site_names(w.platform, w.bench)
	assert len(database.temporary_users(db, w.root_password, prefix)) == 1
	assert w.job("POST", "proxy/upstreams/127.0.0.1/sites", {"name": site}).status == SUCCESS
	checker = DnsChecker([service_env("PRESS_SELFHOSTED_TEST_PDNS_DNS")])
	assert site in w.platform.proxy.sites() and checker.lookup(site, "A") == ["127.0.0.1"]

	removed = routes.job("POST", path, body).undo(w.platform, job)
	assert removed[0].startswith(f"temporary user {prefix}") and removed[-3:] == [f"directory sites/{site}", f"route {site}",
		f"name {site} on PowerDNS"], removed
	assert database.site_database_exists(db, w.root_password, database.database_name(site)) == (False, False)
	assert site not in benches.site_names(w.platform, w.bench)
	assert database.temporary_users(db, w.root_password) == []
	assert site not in w.platform.proxy.sites() and checker.lookup(site, "A") == []
	# Press leaves the site Broken; archiving it then succeeds, with nothing left to back up.
	archived = w.job("POST", f"benches/{w.bench}/sites/{site}/archive", {"mariadb_root_password": w.root_password,
		"offsite": {"bucket": w.bucket, "path": f"{site}/2026-12-07"}})
	assert archived.status == SUCCESS, archived.to_agent()
	assert f"{site} is not on bench {w.bench}: nothing to back up" in archived.to_agent()["steps"][0]["data"]["output"]
	assert routes.job("POST", path, body).undo(w.platform, job) == []  # twice is harmless

	# A job cut short before it began making the site undoes nothing of it (the site may be
	# another's, which the job would have refused).
	other = make_site_by_job(w, f"kept.{w.zone}")
	before_making = Job(4243, "New Site")
	assert routes.job("POST", path, new_site_request(w, other)).undo(w.platform, before_making) == []
	assert other in benches.site_names(w.platform, w.bench)


def make_site_by_job(w: World, site: str) -> str:
	job = w.job("POST", f"benches/{w.bench}/sites", new_site_request(w, site))
	assert job.status == SUCCESS, job.to_agent()
	return site


def test_a_failed_new_site_leaves_nothing_behind(world, running_bench):
	w = world
	site = f"broken.{w.zone}"
	job = w.job("POST", f"benches/{w.bench}/sites", new_site_request(w, site, apps=("frappe", "notinstalled")))
	assert job.status == FAILURE
	assert steps(job) == [("New Site", "Success"), ("Install Apps", "Failure")]
	agent = job.to_agent()
	assert "notinstalled" in agent["data"]["output"] and agent["data"]["traceback"]
	assert ADMIN_PASSWORD not in json.dumps(agent)
	db = database.database_name(site)
	assert database.site_database_exists(w.platform.database, w.root_password, db) == (False, False)
	assert site not in benches.site_names(w.platform, w.bench)
	assert w.engine.exec(benches.container_name(w.platform, w.bench), ["test", "-e", f"/home/frappe/frappe-bench/sites/{site}"]).exit_code == 1
	assert database.temporary_users(w.platform.database, w.root_password) == []
	assert site not in w.platform.proxy.sites()

	# A site named outside the platform's zones is refused before anything is made.
	outside = f"shop.outside-{w.tag}.example"
	for path, data in ((f"benches/{w.bench}/sites", new_site_request(w, outside)), ("proxy/upstreams/10.0.0.5/sites", {"name": outside})):
		job = w.job("POST", path, data)
		assert job.status == FAILURE and job.steps == [] and "in no zone on PowerDNS" in job.to_agent()["data"]["output"]
	assert database.site_database_exists(w.platform.database, w.root_password, database.database_name(outside)) == (False, False)
	assert outside not in benches.site_names(w.platform, w.bench) and outside not in w.platform.proxy.sites()


@pytest.mark.parametrize(("path", "data", "match"), [
	("benches", {"name": "../etc", "bench_config": {"docker_image": IMAGE}}, "bench name"),
	("benches", {"name": "ok", "bench_config": {"docker_image": "img; rm -rf /"}}, "docker_image"),
	("benches", {"name": "ok", "bench_config": {"docker_image": IMAGE, "memory_max": 1 << 40}}, "out of range"),
	("benches/ok/sites", {"name": "a b.test", "mariadb_root_password": "x", "admin_password": "y"}, "characters other than"),
	("benches/ok/sites", {"name": "a.test", "apps": ["frappe", "x;rm"], "mariadb_root_password": "x",
		"admin_password": "y"}, "app name"),
	("benches/../sites", {}, "not an agent path"),
])
def test_bad_input_is_refused_before_anything_runs(world, path, data, match):
	def state():
		return sorted(c.name for c in world.engine.list([LABEL_KIND])), world.platform.proxy.sites()

	before = state()
	with pytest.raises((exc.ValidationError, exc.NotSupported), match=match):
		routes.job("POST", path, data)
	assert state() == before


def test_site_operations_from_the_desk(world, running_bench):
	"""Press's Install App on Site, Migrate Site, Clear Cache, Deactivate / Activate Site and
	Create User, each with its fixture's steps."""
	w = world
	site = f"ops.{w.zone}"
	assert w.job("POST", f"benches/{w.bench}/sites", new_site_request(w, site)).status == SUCCESS
	config = f"/home/frappe/frappe-bench/sites/{site}/site_config.json"
	cases = [
		("POST", "apps", {"name": "standin_app"}, "Install App on Site"),
		("POST", "migrate", {"skip_failing_patches": False, "activate": True}, "Migrate Site"),
		("DELETE", "cache", None, "Clear Cache"),
		("POST", "deactivate", {}, "Deactivate Site"),
		("POST", "activate", {}, "Activate Site"),
		("POST", "create-user", {"email": "ops@example.com", "first_name": "Op", "last_name": "S", "password": "-s3cret-pw"},
			"Create User"),
	]
	for method, action, data, job_type in cases:
		job = w.job(method, f"benches/{w.bench}/sites/{site}/{action}", data)
		assert (job.name, job.status) == (job_type, SUCCESS), job.to_agent()
		assert steps(job) == [(n, "Success") for n in STEPS[job_type].steps]
		if action == "deactivate":
			assert json.loads(w.engine.exec(benches.container_name(w.platform, w.bench), ["cat", config]).stdout)["maintenance_mode"] == 1
		if action == "create-user":
			shown = json.dumps(job.to_agent())
			assert "-s3cret-pw" not in shown and "--password=********" in shown
	assert json.loads(w.engine.exec(benches.container_name(w.platform, w.bench), ["cat", config]).stdout)["maintenance_mode"] == 0
	apps = routes.answer(w.platform, "GET", f"benches/{w.bench}/sites/{site}/apps", None)["data"]
	assert json.loads(apps) == ["frappe", "standin_app"]
	with pytest.raises(exc.ValidationError, match="app name"):
		routes.job("POST", f"benches/{w.bench}/sites/{site}/apps", {"name": "x;rm -rf /"})
	assert w.job("POST", f"benches/{w.bench}/sites/{site}/archive", {"mariadb_root_password": w.root_password}).status == SUCCESS


def test_site_config_status_rename_and_archive(world, running_bench):
	w = world
	site, renamed = f"two.{w.zone}", f"three.{w.zone}"
	assert w.job("POST", f"benches/{w.bench}/sites", new_site_request(w, site)).status == SUCCESS
	assert w.job("POST", "proxy/upstreams/10.0.0.5/sites", {"name": site}).status == SUCCESS

	job = w.job("POST", f"benches/{w.bench}/sites/{site}/config", {"config": {"x_key": 7}, "remove": ["host_name"]})
	assert job.status == SUCCESS
	info = routes.answer(w.platform, "GET", f"benches/{w.bench}/sites/{site}/info", None)["data"]["config"]
	assert info["x_key"] == 7 and "host_name" not in info

	# Suspended as Press does it (the site's maintenance mode, then its status on the proxy) on a
	# platform with no maintenance page: the site stays on its bench, which answers 503 itself.
	w.platform.proxy.write_platform()
	assert w.job("POST", f"benches/{w.bench}/sites/{site}/config", {"config": {"maintenance_mode": 1}}).status == SUCCESS
	job = w.job("POST", f"proxy/upstreams/10.0.0.5/sites/{site}/status", {"status": "suspended", "extra_domains": []})
	assert job.status == SUCCESS, job.to_agent()
	assert "no maintenance page is set" in json.dumps(job.to_agent())
	status, body = https_get(w, site, "/login")
	assert (status, "The system is being updated" in body) == (503, True)
	# The platform's maintenance page (Selfhosted Settings' maintenance URL) serves suspended sites.
	w.platform.proxy.write_platform(maintenance_url=f"http://127.0.0.1:{maintenance_page()}")
	job = w.job("POST", f"proxy/upstreams/10.0.0.5/sites/{site}/status", {"status": "suspended", "extra_domains": []})
	assert job.status == SUCCESS, job.to_agent()
	assert steps(job) == [(n, "Success") for n in STEPS["Update Site Status"].steps]
	assert https_get(w, site, "/login") == (503, "down for maintenance")
	assert w.job("POST", f"benches/{w.bench}/sites/{site}/config", {"config": {"maintenance_mode": 0}}).status == SUCCESS
	assert w.job("POST", f"proxy/upstreams/10.0.0.5/sites/{site}/status", {"status": "activated"}).status == SUCCESS
	assert https_get(w, site, "/login")[0] == 200

	job = w.job("POST", f"benches/{w.bench}/sites/{site}/rename", {"new_name": renamed})
	assert job.status == SUCCESS, job.to_agent()
	assert steps(job) == [(n, "Success") for n in STEPS["Rename Site"].steps]
	job = w.job("POST", f"proxy/upstreams/10.0.0.5/sites/{site}/rename", {"new_name": renamed, "domains": []})
	assert job.status == SUCCESS, job.to_agent()
	assert f"Login to {renamed}" in https_get(w, renamed, "/login")[1]
	assert site not in w.platform.proxy.sites()
	checker = DnsChecker([service_env("PRESS_SELFHOSTED_TEST_PDNS_DNS")])
	assert checker.lookup(site, "A") == [] and checker.lookup(renamed, "A") == ["127.0.0.1"]

	# A custom domain with its own certificate (Press's Add Host to Proxy), then removed.
	custom = f"www.custom-{w.tag}.test"
	issued = w.ca.issue([custom])
	job = w.job("POST", "proxy/hosts", {"name": custom, "target": renamed, "certificate": {
		"privkey.pem": issued.private_key_pem(), "fullchain.pem": issued.full_chain_pem, "chain.pem": issued.chain_pem}})
	assert job.status == SUCCESS, job.to_agent()
	assert issued.private_key_pem() not in json.dumps(job.to_agent())
	# The bench is told which site the domain is (X-Frappe-Site-Name, as Press's nginx does).
	assert https_get(w, custom, "/login") == (200, https_get(w, renamed, "/login")[1])
	# ...and the site's own record of it (Press's Add Domain: the `domains` of its site config).
	def config():
		return routes.answer(w.platform, "GET", f"benches/{w.bench}/sites/{renamed}/info", None)["data"]["config"]
	job = w.job("POST", f"benches/{w.bench}/sites/{renamed}/domains", {"domain": custom})
	assert job.status == SUCCESS and steps(job) == [(n, "Success") for n in STEPS["Add Domain"].steps]
	assert w.job("POST", f"benches/{w.bench}/sites/{renamed}/domains", {"domain": custom}).status == SUCCESS  # once
	assert config()["domains"] == [custom]
	assert w.job("DELETE", f"benches/{w.bench}/sites/{renamed}/domains/{custom}").status == SUCCESS
	assert config()["domains"] == []
	assert w.job("DELETE", f"proxy/hosts/{custom}").status == SUCCESS and custom not in w.platform.proxy.sites()
	for path in ("proxy/wildcards", "proxy/reload"):
		job = w.job("POST", path, [] if path.endswith("wildcards") else {})
		assert job.status == SUCCESS and "reloads by itself" in job.to_agent()["steps"][-1]["data"]["output"]

	# Press archives a site with two jobs: the bench's and the proxy's.
	job = w.job("POST", f"benches/{w.bench}/sites/{renamed}/archive",
		{"mariadb_root_password": w.root_password, "force": False})
	assert job.status == SUCCESS, job.to_agent()
	assert steps(job) == [(n, "Success") for n in STEPS["Archive Site"].steps]
	job = w.job("DELETE", f"proxy/upstreams/10.0.0.5/sites/{renamed}", {"extra_domains": []})
	assert job.status == SUCCESS
	db = database.database_name(site)  # the database keeps the name it was made with
	assert database.site_database_exists(w.platform.database, w.root_password, db) == (False, False)
	assert renamed not in benches.site_names(w.platform, w.bench) and renamed not in w.platform.proxy.sites()
	assert checker.lookup(renamed, "A") == []


def test_traefik_in_a_container_reaches_benches_by_their_name_on_the_network(world, running_bench, tmp_path):
	"""Where the stack runs Traefik: in a container on the platform network, reaching each bench
	by its container name (`upstream="network"`), not by published ports."""
	import shutil
	import sys
	import time

	w = world
	site = f"net.{w.zone}"
	assert w.job("POST", f"benches/{w.bench}/sites", new_site_request(w, site)).status == SUCCESS
	dynamic = tmp_path / "dynamic"
	dynamic.mkdir()
	dynamic.chmod(0o777)
	# The routes name their certificate files by absolute path: the directory is mounted at the
	# same path inside Traefik's container.
	(tmp_path / "traefik.yml").write_text(f"""global: {{checkNewVersion: false, sendAnonymousUsage: false}}
entryPoints:
  websecure: {{address: ":8443"}}
  traefik: {{address: ":8080"}}
api: {{insecure: true, dashboard: false}}
providers:
  file: {{directory: "{dynamic}", watch: true}}
""")
	binary = shutil.which("traefik", path=str(os.path.dirname(sys.executable)))
	https, api = free_port(), free_port()
	name = object_name("proxy", w.tag)
	w.engine.run(name, IMAGE, ["/usr/local/bin/traefik", "--configFile=/etc/traefik/traefik.yml"],
		labels={LABEL_KIND: "proxy"}, ports={8443: https, 8080: api}, network=w.platform.network, init=True,
		mounts=[(binary, "/usr/local/bin/traefik", True), (str(tmp_path / "traefik.yml"), "/etc/traefik/traefik.yml", True),
			(str(dynamic), str(dynamic), True)])
	try:
		proxy = Proxy(dynamic, f"http://127.0.0.1:{api}", http_entry_point=None)
		# Until the container's Traefik answers: refused while it starts, then 404 until its
		# configuration (with the API's own router) is loaded.
		for _ in range(100):
			try:
				proxy.routers()
				break
			except exc.ProxyError:
				time.sleep(0.2)
		proxy.routers()
		in_network = dataclasses.replace(w.platform, proxy=proxy, upstream="network", dns=None)
		route = routes.job("POST", "proxy/upstreams/10.0.0.5/sites", {"name": site})
		job = execute(in_network, Job(999, route.name), route)
		assert job.status == SUCCESS, job.to_agent()
		bench_name = benches.container_name(w.platform, w.bench)
		assert f"http://{bench_name}:8000" in job.steps[0].output[0]
		status, body = https_get(w, site, "/login", port=https)
		assert status == 200 and f"Login to {site}" in body
		assert https_get(w, site, "/socket.io/?EIO=4", port=https)[0] == 200
	finally:
		w.engine.remove(name, force=True)
		w.job("POST", f"benches/{w.bench}/sites/{site}/archive", {"mariadb_root_password": w.root_password})


def test_the_logs_tab_lists_and_shows_the_log_files_of_the_bench_and_its_sites(world, running_bench):
	"""Press's Logs tab: `benches/<b>/logs[/<name>]` and `…/sites/<s>/logs[/<name>]`."""
	w = world
	site = f"logs.{w.zone}"
	job = w.job("POST", f"benches/{w.bench}/sites", new_site_request(w, site))
	assert job.status == SUCCESS, job.to_agent()["data"]
	name = benches.container_name(w.platform, w.bench)
	w.engine.exec(name, ["sh", "-c", f"echo 'site says {w.tag}' > sites/{site}/logs/frappe.log"], user="frappe",
		workdir="/home/frappe/frappe-bench", check=True)
	listed = routes.answer(w.platform, "GET", f"benches/{w.bench}/logs", None)
	assert {"web.log", "supervisord.log"} <= {f["name"] for f in listed}
	entry = next(f for f in listed if f["name"] == "supervisord.log")
	assert entry["size"] > 0 and entry["modified"][:2] == "20" and set(entry) == {"name", "size", "created", "modified"}
	shown = routes.answer(w.platform, "GET", f"benches/{w.bench}/logs/supervisord.log", None)
	assert "supervisord" in shown["supervisord.log"] or "spawned" in shown["supervisord.log"]
	site_logs = routes.answer(w.platform, "GET", f"benches/{w.bench}/sites/{site}/logs", None)
	assert [f["name"] for f in site_logs] == ["frappe.log"]
	assert routes.answer(w.platform, "GET", f"benches/{w.bench}/sites/{site}/logs/frappe.log", None) == {
		"frappe.log": f"site says {w.tag}\n"}
	# A name that is no log of the site gives nothing; a path is refused.
	assert routes.answer(w.platform, "GET", f"benches/{w.bench}/sites/{site}/logs/web.log", None) == {"web.log": ""}
	with pytest.raises(exc.ValidationError):
		routes.answer(w.platform, "GET", f"benches/{w.bench}/logs/.hidden", None)
	from press_selfhosted.executor.logs import engine_output

	# The container's own output: supervisord starting the bench's programs.
	assert "spawned: 'web'" in engine_output(w.platform, w.bench, 500)


def test_the_containers_new_output_is_followed_in_batches_until_the_time_is_up_or_it_is_stopped(world, running_bench):
	"""The desk's Follow: new lines of the bench container's output, in batches, for a while."""
	from press_selfhosted.executor.logs import follow_output

	w = world
	name = benches.container_name(w.platform, w.bench)
	prefix = f"follow-{w.tag}-"
	said = [f"{prefix}{i}" for i in range(4)]

	def ours(batches):
		return [line for batch in batches for line in batch if line.startswith(prefix)]

	async def say(groups):
		for group in groups:
			await asyncio.sleep(0.3)
			# Written to the container's own stdout, as supervisord's lines are (its user may).
			script = "; ".join(f"echo {line} > /proc/1/fd/1" for line in group)
			await w.engine.exec_async(name, ["sh", "-c", script], user="frappe", check=True)

	async def follow(groups, batches, **kwargs):
		speaking = asyncio.ensure_future(say(groups))
		count = await follow_output(w.platform, w.bench, batches.append, **kwargs)
		await speaking
		return count

	# Four lines at once come as one batch; only lines printed after the follow began.
	batches = []
	count = asyncio.run(follow([said], batches, seconds=3, flush_every=1.0))
	assert ours(batches) == said and any(ours([batch]) == said for batch in batches)
	assert count == sum(len(batch) for batch in batches) and all(batches)

	# A line at a time, stopped once the first came: the later ones are not published.
	batches = []
	count = asyncio.run(follow([[line] for line in said], batches, seconds=30, flush_every=0.05,
		stopped=lambda: bool(ours(batches))))
	assert ours(batches) == said[:1] and count == sum(len(batch) for batch in batches)

	for seconds in (0, 601, True, "5", None):
		with pytest.raises(exc.ValidationError):
			asyncio.run(follow_output(w.platform, w.bench, batches.append, seconds=seconds))
	with pytest.raises(exc.ContainerNotFound):
		asyncio.run(follow_output(w.platform, "bench-none-0001", batches.append, seconds=2))


def test_login_as_administrator_gets_a_session_that_opens_the_desk(world, running_bench):
	"""Press's Login as Administrator falls back to the agent's `sid`: a session the site accepts."""
	w = world
	site = f"sid.{w.zone}"
	assert w.job("POST", f"benches/{w.bench}/sites", new_site_request(w, site)).status == SUCCESS
	assert w.job("POST", "proxy/upstreams/10.0.0.5/sites", {"name": site}).status == SUCCESS
	sid = routes.answer(w.platform, "GET", f"benches/{w.bench}/sites/{site}/sid", None)["sid"]
	assert sid and len(sid) >= 16
	status, body = https_get(w, site, f"/app?sid={sid}")
	assert status == 200 and f"Desk of {site}" in body
	assert https_get(w, site, "/app?sid=0000")[0] == 403
	# The dashboard's download of a backup kept on the server: the site's own /backups/<file>,
	# for a session on the site only (Frappe's download_backup).
	job = w.job("POST", f"benches/{w.bench}/sites/{site}/backup", {"with_files": False})
	assert job.status == SUCCESS, job.to_agent()
	url = job.to_agent()["data"]["backups"]["database"]["url"]
	assert url.startswith(f"https://{site}/backups/") and url.endswith("-database.sql.gz")
	path = url.removeprefix(f"https://{site}")
	assert https_get(w, site, f"{path}?sid={sid}")[0] == 200
	assert https_get(w, site, path)[0] == 403
	assert https_get(w, site, f"/backups/..%2Fsite_config.json?sid={sid}")[0] == 404
	other = routes.answer(w.platform, "POST", f"benches/{w.bench}/sites/{site}/sid", {"user": "Administrator"})["sid"]
	assert other and other != sid
	with pytest.raises(exc.ValidationError):
		routes.answer(w.platform, "POST", f"benches/{w.bench}/sites/{site}/sid", {"user": "a b"})


def test_a_commands_output_shows_in_its_step_while_it_runs(world, running_bench):
	"""What Press shows live (realtime job updates read a running step's commands)."""
	from press_selfhosted.executor import container
	from press_selfhosted.executor.jobs import Recorder

	w = world
	seen = []
	job = Job(999, "Migrate Site")
	rec = Recorder(job, on_change=lambda j: seen.append(json.loads(json.dumps(j.to_agent()))), secrets=["hush-7"])
	rec.start()
	with rec.step("Migrate Site") as step:
		container.run(w.engine, benches.container_name(w.platform, w.bench),
			["sh", "-c", "sleep 1.2; echo first hush-7; sleep 1.5; echo second"], step)  # past the 1 s throttle
	running = [s["steps"][0]["commands"][0] for s in seen if s["steps"] and s["steps"][0]["commands"]]
	assert {"output": "first ********\n", "returncode": None} in [{k: c[k] for k in ("output", "returncode")} for c in running]
	assert running[-1]["output"] == "first ********\nsecond\n" and running[-1]["returncode"] == 0
	assert "hush-7" not in json.dumps(seen)


def test_a_new_bench_publishes_its_ports_from_the_platform_s_range(world):
	"""Selfhosted Settings' First and Last host port reach the platform: New Bench publishes
	inside them, not from the lowest free port of 32300-32500."""
	w = world
	low = w.engine.allocate_ports(1, start=32450, end=32500)[0]
	platform = dataclasses.replace(w.platform, ports=(low, 32500))
	bench = f"{w.bench}-p"
	route = routes.job("POST", "benches", {**new_bench_request(w), "name": bench})
	job = execute(platform, Job(7001, route.name), route)
	try:
		assert job.status == SUCCESS, job.to_agent()
		assert low <= job.data["web_port"] <= 32500 and low <= job.data["socketio_port"] <= 32500, job.data
	finally:
		route = routes.job("POST", f"benches/{bench}/archive", {})
		assert execute(platform, Job(7002, route.name), route).status == SUCCESS
	for start, end in ((32500, 32300), (32200, 32400), (32300, 10**400), ("32300", 32500)):
		with pytest.raises(exc.ValidationError, match="port range"):
			dataclasses.replace(w.platform, ports=(start, end))


def test_restart_update_configuration_and_archive_bench(world, running_bench):
	w = world
	name = benches.container_name(w.platform, w.bench)
	started = w.engine.inspect(name).started_at
	assert w.job("POST", f"benches/{w.bench}/restart", {"web_only": True}).status == SUCCESS
	assert w.engine.inspect(name).started_at == started, "a web-only restart keeps the container"
	assert w.job("POST", f"benches/{w.bench}/restart", {"web_only": False}).status == SUCCESS
	assert w.engine.inspect(name).started_at != started

	request = {"bench_config": {"docker_image": IMAGE, "memory_max": 768, "gunicorn_workers": 3},
		"common_site_config": {"monitor": 0}}
	job = w.job("POST", f"benches/{w.bench}/config", request)
	assert job.status == SUCCESS, job.to_agent()
	assert steps(job) == [(n, "Success") for n in STEPS["Update Bench Configuration"].steps]
	assert job.data["web_port"] == running_bench.data["web_port"], "the bench keeps its ports"
	assert w.engine.stats(name)["memory_limit_bytes"] == 768 << 20
	conf = w.engine.exec(name, ["cat", benches.SUPERVISOR_CONF], user="frappe").stdout
	assert "--workers 3" in conf

	site = f"stays.{w.zone}"
	assert w.job("POST", f"benches/{w.bench}/sites", new_site_request(w, site)).status == SUCCESS
	job = w.job("POST", f"benches/{w.bench}/archive")
	assert job.status == FAILURE and "Bench has sites" in job.to_agent()["data"]["traceback"]
	assert w.engine.inspect(name).running
	archived = {"mariadb_root_password": w.root_password}
	for remaining in benches.site_names(w.platform, w.bench):
		assert w.job("POST", f"benches/{w.bench}/sites/{remaining}/archive", archived).status == SUCCESS
	job = w.job("POST", f"benches/{w.bench}/archive")
	assert job.status == SUCCESS, job.to_agent()
	with pytest.raises(exc.ContainerNotFound):
		w.engine.inspect(name)
	assert w.engine.list_volumes([f"{LABEL_BENCH}={w.bench}"]) == []
