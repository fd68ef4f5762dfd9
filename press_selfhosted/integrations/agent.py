"""Press's remote agent → the local executor, for servers marked as Selfhosted Servers.

Press sends every bench, site and proxy operation through `Agent.request` (a job when it
passes `agent_job`, a synchronous call otherwise) and pings with `Agent.raw_request`
(press/agent.py). For a marked server both are answered here, in-process: a job request
becomes a Local Agent Job (integer id, stored, run on the `long` queue) and Press gets
`{"job": id}` as from an agent; Press's poller then reads `jobs/<ids>` and `agent-jobs/<names>`
from the same store, so its Agent Job and Agent Job Step records, its callbacks and the desk's
job view work unchanged. Servers not marked go to Press's own code: real agents keep working.

Press's "Setup Server" (an Ansible play over SSH) is replaced for marked servers by a check
that their engine, database or proxy answers, ending Active. No Agent Request Failure is
ever recorded for them: a request to a marked server never goes over the network.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import frappe

from press_selfhosted.exceptions import NotSupported, SelfHostedError, ValidationError
from press_selfhosted.integrations import active, services
from press_selfhosted.reach import split_address

AGENT = "press.agent"
SERVER = "press.press.doctype.server.server"
STORE = "Local Agent Job"
MARKS = "Selfhosted Server"
QUEUE = "long"


def is_marked(server_type: str, server: str) -> bool:
	return bool(server) and frappe.db.exists(MARKS, {"server": server, "server_type": server_type}) is not None


def request(original):
	def request(self, method, path, data=None, files=None, agent_job=None, raises=True):
		if not active() or not is_marked(self.server_type, self.server):
			return original(self, method, path, data, files, agent_job, raises)
		try:
			return answer(self.server_type, self.server, method, path, data, agent_job)
		except SelfHostedError as e:
			if not agent_job:
				raise
			# What Press does with an agent's 4xx: the job fails at once with the message.
			agent_job.traceback = agent_job.output = f"local executor refused the request: {e}"
			agent_job.flags.status_code = 400
			return None

	return request


def raw_request(original):
	def raw_request(self, method, path, data=None, raises=True, timeout=None):
		if not active() or not is_marked(self.server_type, self.server):
			return original(self, method, path, data, raises, timeout)
		return answer(self.server_type, self.server, method, path, data, None)

	return raw_request


def setup_server(original):
	def setup_server(self):
		if not active() or not is_marked(self.doctype, self.name):
			return original(self)
		check_server(self.doctype, self.name)
		self.status = "Active"
		if self.meta.has_field("is_server_setup"):
			self.is_server_setup = 1
		self.save()

	return setup_server


PATCHES = [
	(AGENT, "Agent.request", request),
	(AGENT, "Agent.raw_request", raw_request),
	(SERVER, "BaseServer.setup_server", setup_server),
]


def answer(server_type: str, server: str, method: str, path: str, data, agent_job) -> object:
	from press_selfhosted.executor import routes

	method = method.upper()
	parts = path.strip().strip("/").split("/")
	if parts[0] == "jobs" and len(parts) == 2 and method == "GET":
		return polled_jobs(parts[1])
	if parts[0] == "agent-jobs" and len(parts) == 2 and method == "GET":
		return [{"id": int(name), "agent_job_id": agent} for name, agent in frappe.get_all(
			STORE, filters={"agent_job": ("in", parts[1].split(","))}, fields=["name", "agent_job"], as_list=True)]
	if server_type == "Monitor Server":
		if agent_job is not None:
			raise NotSupported(f"the local executor runs no jobs for a Monitor Server ({method} {path})")
		try:
			return routes.monitor_answer(services().monitor, method, path, data)
		except ValidationError as e:
			# Shown in the desk as the reason the Prometheus Alert Rule was not saved.
			frappe.throw(str(e), title="Refused by the monitor server")
	if agent_job is None:
		return routes.answer(platform_for(server_type, server), method, path, data)
	route = routes.job(method, path, data)  # refused here, before anything is stored
	return {"job": enqueue(server_type, server, method, path, data, agent_job.name, route.job_type)}


def enqueue(server_type: str, server: str, method: str, path: str, data, agent_job: str | None, job_type) -> int:
	"""Stores the job, its request with every secret its type declares hidden (the secrets in
	a Password field), and enqueues its run; the id of the stored job."""
	from press_selfhosted.executor.job_types import hide
	from press_selfhosted.executor.jobs import Job

	if agent_job:
		# One Press job is run once however often it is delivered (Press retrying an undelivered
		# job while its first delivery is under way; two workers): the Agent Job's row lock
		# orders the deliveries, and a later one is given the first one's id.
		frappe.db.get_value("Agent Job", agent_job, "name", for_update=True)
		delivered = frappe.db.get_value(STORE, {"agent_job": agent_job}, "name")
		if delivered:
			return int(delivered)
	shown, hidden = hide(job_type.secrets, data)
	doc = frappe.get_doc({"doctype": STORE, "job_type": job_type.name, "server_type": server_type, "server": server,
		"agent_job": agent_job, "method": method, "path": path, "request": json.dumps(shown, indent=1, sort_keys=True),
		"secrets": json.dumps(hidden) if hidden else None, "status": "Pending"}).insert(ignore_permissions=True)
	job = Job(int(doc.name), job_type.name, agent_job_id=agent_job)
	doc.db_set("state", json.dumps(job.to_dict()))
	frappe.enqueue("press_selfhosted.integrations.agent.run", queue=QUEUE, timeout=7200, job_id=f"local-agent-job-{doc.name}",
		deduplicate=True, enqueue_after_commit=True, local_job=int(doc.name))
	return int(doc.name)


def run(local_job: int) -> None:
	"""Runs one stored job to its end (the `long` queue)."""
	from press_selfhosted.executor import execute, routes
	from press_selfhosted.executor.jobs import Job
	from press_selfhosted.workers import current_job_id

	# Claimed in one statement: a job enqueued twice (a retried delivery) runs once. The runner
	# is the RQ job, whose worker any poll can look up (polled_jobs).
	frappe.db.sql(f"UPDATE `tab{STORE}` SET status = 'Running', runner = %s WHERE name = %s AND status = 'Pending'",
		(current_job_id(), local_job))
	claimed = frappe.db._cursor.rowcount == 1
	frappe.db.commit()
	if not claimed:
		return
	doc = frappe.get_doc(STORE, local_job)
	data = stored_request(doc)
	job = Job.from_dict(json.loads(doc.state))

	def save(job: Job) -> None:
		frappe.db.set_value(STORE, doc.name, {"status": job.status, "state": json.dumps(job.to_dict())})
		frappe.db.commit()

	try:
		route = routes.job(doc.method, doc.path, data)
		platform = platform_for(doc.server_type, doc.server, site=_site_of(doc.path, data))
	except Exception as e:
		from press_selfhosted.executor.job_types import secret_values
		from press_selfhosted.executor.jobs import Recorder

		secrets = secret_values(routes.declared()[doc.job_type].secrets, data) if doc.job_type in routes.declared() else ()
		Recorder(job, save, secrets).fail(e)
	else:
		execute(platform, job, route, save)
	# What an agent's callback does: Press polls the server now instead of at its next tick.
	frappe.enqueue("press.press.doctype.agent_job.agent_job.poll_pending_jobs_server", queue="short",
		server=frappe._dict(server=doc.server, server_type=doc.server_type), job_id=f"poll_pending_jobs:{doc.server}",
		deduplicate=True)


def stored_request(doc) -> object:
	"""The request as Press sent it, from the stored one and its secrets."""
	from press_selfhosted.executor.job_types import reveal

	data = json.loads(doc.request or "null")
	if not doc.secrets:
		return data
	hidden = json.loads(doc.get_password("secrets"))
	if isinstance(hidden, dict):  # stored before the secrets were named by path: {key: value}
		return {**data, **hidden}
	return reveal(data, hidden)


def polled_jobs(ids: str) -> dict | list:
	"""`GET jobs/<id>` (a dict) or `jobs/<id,id,…>` (a list), as the agent answers."""
	from press_selfhosted.executor.jobs import Job

	wanted = [int(i) for i in ids.split(",") if i.strip().isdigit()]
	docs = frappe.get_all(STORE, filters={"name": ("in", wanted)}, fields=["name", "status", "state", "runner"])
	jobs = []
	for doc in docs:
		job = Job.from_dict(json.loads(doc.state))
		if doc.status == "Running" and doc.runner:
			job = _abandon_if_gone(doc.name, job, doc.runner)
		jobs.append(job.to_agent())
	jobs.sort(key=lambda j: wanted.index(j["id"]))
	return jobs[0] if len(wanted) == 1 and jobs else jobs


def _abandon_if_gone(name: str, job, runner: str):
	"""A job whose worker died is never left Running: it ends as Failure, saying why. RQ's
	records tell, from whichever container or host polls (press_selfhosted.workers)."""
	from frappe.utils.background_jobs import get_redis_conn

	from press_selfhosted.executor.jobs import FAILURE, Job
	from press_selfhosted.workers import gone

	why = gone(get_redis_conn(), runner)
	if not why:
		return job
	declared = _declared(name)
	undone = "what it half-made is undone in the background" if declared and declared.undo else "what the finished steps made is kept"
	message = f"the worker running this job stopped before it finished ({why}); {undone}, run the operation again"
	for step in job.steps:
		if step.status == "Running":
			step.status, step.end = FAILURE, datetime.now(timezone.utc)
			step.output.append(message)
	job.status, job.end, job.output, job.traceback = FAILURE, datetime.now(timezone.utc), message, message
	# Only a job still Running: its runner may have ended it meanwhile, and its own end stands.
	frappe.db.sql(f"UPDATE `tab{STORE}` SET status = %s, state = %s WHERE name = %s AND status = 'Running'",
		(FAILURE, json.dumps(job.to_dict()), name))
	if frappe.db._cursor.rowcount != 1:
		return Job.from_dict(json.loads(frappe.db.get_value(STORE, name, "state")))
	# What the dead runner left half-made is undone in a worker of its own (the poll answers now).
	frappe.enqueue("press_selfhosted.integrations.agent.undo", queue=QUEUE, timeout=1800, job_id=f"undo-local-agent-job-{name}",
		deduplicate=True, enqueue_after_commit=True, local_job=int(name))
	return job


def undo(local_job: int) -> list[str]:
	"""Runs the undo its job type declares (job_types) for a job whose worker died, and adds
	what it removed, or why it could not, to the job's output."""
	from press_selfhosted.executor import routes
	from press_selfhosted.executor.jobs import Job, Recorder

	doc = frappe.get_doc(STORE, local_job)
	data = stored_request(doc)
	route = routes.job(doc.method, doc.path, data)
	job = Job.from_dict(json.loads(doc.state))
	try:
		removed = route.undo(platform_for(doc.server_type, doc.server, site=_site_of(doc.path, data)), job)
		said = f"undone after its worker died: {', '.join(removed)}" if removed else "nothing of it was left to undo"
	except Exception as e:
		removed = []
		said = Recorder(job, secrets=route.secrets).mask(f"what it left could not be undone: {e}")
		frappe.log_error(title="Local executor", message=f"Local Agent Job {local_job} ({doc.job_type}): {said}")
	job.output = f"{job.output}\n{said}"
	doc.db_set("state", json.dumps(job.to_dict()))
	if doc.agent_job:  # Press read the job's end already: the desk's Agent Job shows the undo too
		output = frappe.db.get_value("Agent Job", doc.agent_job, "output") or ""
		frappe.db.set_value("Agent Job", doc.agent_job, "output", f"{output}\n{said}".strip(), update_modified=False)
	frappe.db.commit()
	return removed


def _declared(local_job: int):
	"""The job type a stored job was declared as (None for one no longer run here)."""
	from press_selfhosted.executor import routes

	return routes.declared().get(frappe.db.get_value(STORE, local_job, "job_type"))


def bench_of(site: str) -> str:
	bench = frappe.db.get_value("Site", site, "bench") or frappe.db.get_value("Site", {"host_name": f"https://{site}"}, "bench")
	if not bench:
		domain = frappe.db.get_value("Site Domain", site, "site")
		bench = frappe.db.get_value("Site", domain, "bench") if domain else None
	if not bench:
		raise ValidationError(f"no bench serves {site}")
	return bench


def site_of(host: str) -> str:
	"""The site a domain belongs to (Press's Site Domain), or the host itself."""
	return frappe.db.get_value("Site Domain", host, "site") or host


def platform_for(server_type: str, server: str, site: str | None = None):
	"""The executor's platform for a marked server: its engine, the Database Server it uses,
	Traefik and PowerDNS from Selfhosted Settings."""
	from press_selfhosted.engine import Engine
	from press_selfhosted.executor.platform import PORTS, Database, Platform
	from press_selfhosted.integrations.build_files import press_build_files

	s = services()
	settings = s.settings
	app_server = _app_server(server_type, server, site)
	mark = frappe.get_doc(MARKS, app_server)
	endpoints = (settings.get("engine_endpoints") or "").split()
	endpoint = mark.engine_endpoint or (endpoints[0] if endpoints else None)
	tls = None
	if mark.engine_tls_directory:
		folder = mark.engine_tls_directory
		tls = (f"{folder}/ca.pem", f"{folder}/cert.pem", f"{folder}/key.pem")
	engine = Engine.connect(endpoint, tls=tls)
	database_server = frappe.db.get_value("Server", app_server, "database_server")
	db = frappe.get_doc(MARKS, database_server) if database_server and frappe.db.exists(MARKS, database_server) else None
	host, port = split_address((db and db.mariadb_address) or settings.get("mariadb_address") or "")
	bench_host, bench_port = split_address((db and db.mariadb_bench_address) or settings.get("mariadb_bench_address") or "")
	proxy_server = frappe.db.get_value("Server", app_server, "proxy_server")
	network = settings.get("bench_network") or None
	if network:
		from press_selfhosted.engine import LABEL_KIND

		engine.ensure_network(network, labels={LABEL_KIND: "network"})
	root_password = frappe.get_doc("Database Server", database_server).get_password(
		"mariadb_root_password", raise_exception=False) if database_server else None
	return Platform(
		bench_of=bench_of,
		site_of=site_of,
		ports=(settings.get("port_range_start") or PORTS[0], settings.get("port_range_end") or PORTS[1]),
		engine=engine,
		database=Database(host, port, bench_host, bench_port, root_password=root_password),
		proxy=s.proxy,
		dns=s.dns,
		# Sites point at their proxy server, as press_selfhosted's DNS integration writes them.
		address=proxy_server or settings.get("public_address"),
		network=network,
		upstream=settings.get("bench_upstream") or "loopback",
		alert=lambda message: frappe.log_error(title="Local executor", message=message),
		owner=platform_id(settings),
		store=s.store_for if settings.get("s3_endpoint") else None,
		store_endpoint=settings.get("s3_endpoint") or None,
		quota=tenant_quota,
		build_files=press_build_files,
		registry=frappe.db.get_single_value("Press Settings", "docker_registry_url") or None,
	)


def tenant_quota(site: str):
	"""(store, prefix, bytes) of the site's Tenant Storage when it has a quota."""
	if not frappe.db.exists("Tenant Storage", site):
		return None
	tenant = frappe.get_doc("Tenant Storage", site)
	if not tenant.quota_gb:
		return None
	return tenant.store(), f"{tenant.prefix}/", int(tenant.quota_gb * 1_000_000_000)


def platform_id(settings: dict) -> str:
	"""This Press's id on shared engines: Selfhosted Settings' Platform ID, made on first use
	from the site's name and database (two benches may each hold a Press site of the same
	name) and kept there, so the names of what runs on the engines never change."""
	if settings.get("platform_id"):
		return settings["platform_id"]
	made = hashlib.sha256(f"{frappe.local.site}:{frappe.conf.db_name}".encode()).hexdigest()[:8]
	frappe.db.set_single_value("Selfhosted Settings", "platform_id", made)
	settings["platform_id"] = made
	return made


def _app_server(server_type: str, server: str, site: str | None) -> str:
	if server_type == "Server":
		return server
	if server_type == "Proxy Server" and site:
		try:
			app = frappe.db.get_value("Bench", bench_of(site), "server")
		except ValidationError:
			app = None
		if app:
			return app
	field = "proxy_server" if server_type == "Proxy Server" else "database_server"
	candidates = frappe.get_all("Server", filters={field: server}, pluck="name")
	marked = [c for c in candidates if is_marked("Server", c)]
	if not marked:
		raise ValidationError(f"no app server marked for the local executor uses {server_type} {server}")
	return marked[0]


def _site_of(path: str, data) -> str | None:
	parts = path.strip("/").split("/")
	if parts[:2] == ["proxy", "upstreams"]:
		if len(parts) >= 5:
			return parts[4]
		if isinstance(data, dict):
			return data.get("name") or data.get("domain")
	if parts[:2] == ["proxy", "hosts"] and isinstance(data, dict):
		return data.get("target")
	return None


def check_server(server_type: str, server: str) -> str:
	"""That the marked server's engine, database, proxy or monitor answers; what answered."""
	mark = frappe.get_doc(MARKS, server)
	if server_type == "Server":
		platform = platform_for(server_type, server)
		return f"{platform.engine.kind} {platform.engine.version} at {platform.engine.endpoint}"
	if server_type == "Database Server":
		import pymysql

		host, port = split_address(mark.mariadb_address or services().settings.get("mariadb_address") or "")
		password = frappe.get_doc("Database Server", server).get_password("mariadb_root_password")
		try:
			pymysql.connect(host=host, port=port, user="root", password=password, connect_timeout=5).close()
		except pymysql.MySQLError as e:
			raise ValidationError(f"MariaDB at {host}:{port} refused: {e.args[-1]}") from None
		return f"MariaDB at {host}:{port}"
	if server_type == "Monitor Server":
		from press_selfhosted.monitor import answering

		return answering(services().monitor)
	routers = services().proxy.routers()
	return f"Traefik with {len(routers)} routers"
