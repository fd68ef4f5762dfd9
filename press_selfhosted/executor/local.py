"""The executor's flow without Press: the platform's MariaDB as a container, a bench, and
sites made and removed through the very runners Press's jobs reach (`routes.job` with the
request Press would send). `make demo`, the benchmark and the tests use it, so there is one
way to make a tenant.

	db = run_database(engine, image, name=object_name("db", "demo"), network=net, password=pw, port=32310)
	platform = Platform(engine, db, proxy, dns, address="127.0.0.1", network=net)
	flow = Flow(platform, root_password=pw)
	flow.bench("b1", image)
	flow.site("b1", "acme.demo.test")      # New Site, then Add Site to Upstream
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
import time
from collections.abc import Callable

import pymysql

from press_selfhosted.engine import LABEL_KIND, Engine
from press_selfhosted.exceptions import ContainerNotFound, ExecutorError
from press_selfhosted.executor import execute, routes
from press_selfhosted.executor.jobs import SUCCESS, Job
from press_selfhosted.executor.platform import Database, Platform

MARIADB_PORT = 3306


class FlowFailed(ExecutorError):
	"""A job of the flow ended as Failure; the message is its output."""

	def __init__(self, job: Job):
		agent = job.to_agent()
		super().__init__(f"{job.name} failed: {agent['data'].get('output', '')}")
		self.job = job


def run_database(engine: Engine, image: str, *, name: str, network: str, password: str, port: int,
		timeout: float = 90.0) -> Database:
	"""The platform's MariaDB as a container of `image` (the bench base has MariaDB), on
	`network` under its name and published on 127.0.0.1:`port`; waits until root answers."""
	engine.ensure_network(network, labels={LABEL_KIND: "network"})
	volume = f"{name}-data"
	engine.ensure_volume(volume, labels={LABEL_KIND: "database"})
	try:
		state = engine.inspect(name)
		# Running as asked, or else made anew (its data stays on the volume).
		running = state.running and state.ports.get(MARIADB_PORT) == port
	except ContainerNotFound:
		running = None
	if not running:
		if running is False:
			engine.remove(name, force=True)
		engine.run(name, image, ["platform-mariadb"], env={"MARIADB_ROOT_PASSWORD": password},
			labels={LABEL_KIND: "database"}, ports={MARIADB_PORT: port}, mounts=[(volume, "/var/lib/mysql", False)],
			init=True, restart="always", network=network, aliases=[name])
	database = Database("127.0.0.1", port, name, MARIADB_PORT)
	deadline = time.monotonic() + timeout
	while True:
		try:
			pymysql.connect(host=database.host, port=port, user="root", password=password, connect_timeout=3).close()
			return database
		except pymysql.MySQLError:
			if time.monotonic() > deadline:
				raise
			time.sleep(0.5)


def remove_database(engine: Engine, name: str) -> None:
	try:
		engine.remove(name, force=True)
	except ContainerNotFound:
		pass
	engine.remove_volume(f"{name}-data", force=True)


class Flow:
	"""Press's requests, sent to the runners in Press's order. Every job must succeed."""

	def __init__(self, platform: Platform, *, root_password: str, bench_of: Callable[[str], str] | None = None,
			on_job: Callable[[Job], object] = lambda job: None):
		self.sites: dict[str, str] = {}
		self.platform = dataclasses.replace(platform, bench_of=bench_of or (lambda site: self.sites[site]))
		self.root_password = root_password
		self.on_job = on_job
		self._ids = itertools.count(1)

	def job(self, method: str, path: str, data: dict | list | None = None, *, check: bool = True) -> Job:
		route = routes.job(method, path, data)
		job = execute(self.platform, Job(next(self._ids), route.name), route)
		self.on_job(job)
		if check and job.status != SUCCESS:
			raise FlowFailed(job)
		return job

	def bench(self, bench: str, image: str, **config) -> Job:
		return self.job("POST", "benches", {"name": bench, "bench_config": {"docker_image": image, **config},
			"common_site_config": {}, "registry": {}})

	def site(self, bench: str, site: str, *, apps: tuple[str, ...] = ("frappe",), admin_password: str | None = None) -> tuple[Job, Job]:
		"""New Site, then Add Site to Upstream: what Site.after_insert sends."""
		self.sites[site] = bench
		made = self.job("POST", f"benches/{bench}/sites", {"name": site, "apps": list(apps),
			"config": {"host_name": f"https://{site}"}, "mariadb_root_password": self.root_password,
			"admin_password": admin_password or secrets.token_urlsafe(12), "managed_database_config": {}})
		routed = self.job("POST", "proxy/upstreams/127.0.0.1/sites", {"name": site})
		return made, routed

	def remove_site(self, bench: str, site: str) -> tuple[Job, Job]:
		"""Archive Site, then Remove Site from Upstream: what Site.archive sends."""
		self.sites.setdefault(site, bench)
		archived = self.job("POST", f"benches/{bench}/sites/{site}/archive",
			{"mariadb_root_password": self.root_password, "force": False})
		unrouted = self.job("DELETE", f"proxy/upstreams/127.0.0.1/sites/{site}", {"extra_domains": []})
		return archived, unrouted

	def remove_bench(self, bench: str) -> Job:
		return self.job("POST", f"benches/{bench}/archive")
