"""Bench tests of the local executor inside a real Press: the local servers made by setup, a
Release Group deployed from an image that is already built, a Site inserted as the desk does,
driven through Press's own code (its New Bench Queue, Agent Job delivery, poller and
callbacks) to Active and served over HTTPS through Traefik, then archived.

The steps Press's workers and scheduler would take are called here in their order (`drive`),
so the test needs no running worker. Needs, besides platform_services.py's variables:
PRESS_SELFHOSTED_TEST_PODMAN (the engine), PRESS_SELFHOSTED_TEST_PLATFORM_MARIADB (host:port
from Press), PRESS_SELFHOSTED_TEST_PLATFORM_MARIADB_BENCH (host:port from benches),
PRESS_SELFHOSTED_TEST_PLATFORM_MARIADB_PASSWORD_FILE, PRESS_SELFHOSTED_TEST_BENCH_NETWORK and
PRESS_SELFHOSTED_TEST_BENCH_IMAGE_REF (a bench image on that engine: the stand-in, or a real
Frappe bench image).

Run: bench --site <press-site> run-tests --app press_selfhosted --module press_selfhosted.tests.test_local_executor
"""

import json
import threading
from pathlib import Path
from unittest import mock

import frappe
from frappe.tests.utils import FrappeTestCase

from press_selfhosted.commands.setup import run as setup
from press_selfhosted.integrations import agent, services
from press_selfhosted.tests.platform_services import (drive, drop_local_platform, env, fixture_steps, https_get,
	local_platform, release_group, steps)


class TestLocalExecutor(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.domain = f"exec{frappe.generate_hash(length=6).lower()}.test"
		cls.first_run = local_platform(cls.domain)
		cls.server = f"f1.{cls.domain}"
		cls.image = env("BENCH_IMAGE_REF")

	@classmethod
	def tearDownClass(cls):
		try:
			drop_local_platform(cls.domain)
		finally:
			super().tearDownClass()

	def test_setup_makes_the_local_servers_active_and_marked_once(self):
		for doctype, host in (("Proxy Server", "n1"), ("Database Server", "m1"), ("Server", "f1")):
			name = f"{host}.{self.domain}"
			self.assertEqual(frappe.db.get_value(doctype, name, "status"), "Active", name)
			self.assertTrue(agent.is_marked(doctype, name), name)
			self.assertIn(f"{doctype} {name}: created, Active", self.first_run)
		self.assertEqual(frappe.db.get_value("Server", self.server, "proxy_server"), f"n1.{self.domain}")
		self.assertFalse([line for line in setup() if "Server" in line], "a second run changes no server")

	def test_setup_gives_a_database_server_made_earlier_what_the_settings_now_name(self):
		"""The platform MariaDB's password or address changed in Selfhosted Settings after the
		servers were made: Press kept sending the old password with every job."""
		from frappe.utils.password import get_decrypted_password, set_encrypted_password

		name = f"m1.{self.domain}"
		right = get_decrypted_password("Database Server", name, "mariadb_root_password")
		address = frappe.db.get_value("Selfhosted Server", name, "mariadb_address")
		set_encrypted_password("Database Server", name, "stale-password", "mariadb_root_password")
		frappe.db.set_value("Selfhosted Server", name, "mariadb_address", "127.0.0.1:1")
		said = setup()
		self.assertIn(f"Database Server {name}: MariaDB root password from Selfhosted Settings", said)
		self.assertIn(f"Database Server {name}: mariadb_address {address} from Selfhosted Settings", said)
		self.assertNotIn("stale-password", "\n".join(said))
		self.assertEqual(get_decrypted_password("Database Server", name, "mariadb_root_password"), right)
		self.assertEqual(frappe.db.get_value("Selfhosted Server", name, "mariadb_address"), address)
		self.assertFalse([line for line in setup() if "Server" in line], "a second run changes no server")

	def test_press_setup_server_is_answered_without_ansible(self):
		server = frappe.get_doc("Server", self.server)
		frappe.db.set_value("Server", self.server, "status", "Broken")
		server.reload()
		with mock.patch("press.press.doctype.server.server.Ansible", side_effect=AssertionError("Ansible ran")):
			server.setup_server()
		self.assertEqual(frappe.db.get_value("Server", self.server, "status"), "Active")

	def test_a_site_created_in_press_goes_active_is_served_and_archived(self):
		group = release_group(self.server)
		from press_selfhosted.integrations.images import deploy_image

		deploy_image(group, self.image)
		drive()
		bench = frappe.get_value("Bench", {"group": group, "status": ("!=", "Archived")}, ["name", "status"], as_dict=True)
		self.assertEqual(bench.status, "Active", bench)
		new_bench = frappe.get_last_doc("Agent Job", {"bench": bench.name, "job_type": "New Bench"})
		self.assertEqual(new_bench.status, "Success")
		self.assertEqual(steps(new_bench.name), [(s, "Success") for s in fixture_steps("New Bench")])

		team = frappe.db.get_value("Team", {"user": "Administrator"}, "name")
		site = frappe.get_doc({"doctype": "Site", "subdomain": f"s{frappe.generate_hash(length=6).lower()}",
			"domain": self.domain, "bench": bench.name, "team": team, "apps": [{"app": "frappe"}]}).insert()
		frappe.db.commit()
		drive()
		site.reload()
		self.assertEqual(site.status, "Active")
		for job_type in ("New Site", "Add Site to Upstream"):
			job = frappe.get_last_doc("Agent Job", {"site": site.name, "job_type": job_type})
			self.assertEqual((job.status, steps(job.name)), ("Success", [(s, "Success") for s in fixture_steps(job_type)]))
			# Press keeps its own request (request_data) as with a real agent; what the job shows is masked.
			shown = json.dumps([job.output, job.traceback, job.data, frappe.get_all("Agent Job Step",
				filters={"agent_job": job.name}, fields=["output", "traceback", "data"])], default=str)
			self.assertNotIn(site.get_password("admin_password"), shown)
		status, body = https_get(site.name, "/login")
		self.assertEqual(status, 200)
		self.assertIn("Login", body)
		self.assertEqual(services().dns.checker.lookup(site.name, "CNAME"), [f"n1.{self.domain}."])
		for marked in (self.server, f"n1.{self.domain}", f"m1.{self.domain}"):
			self.assertFalse(frappe.db.exists("Agent Request Failure", {"server": marked}))
		self.check_container_view(site.name, bench.name)

		site.archive()
		frappe.db.commit()
		drive()
		self.assertEqual(frappe.db.get_value("Site", f"{site.name}.archived", "status"), "Archived")
		self.assertNotIn(site.name, services().proxy.sites())
		self.assertEqual(services().dns.checker.lookup(site.name, "CNAME"), [])

		frappe.get_doc("Bench", bench.name).archive()
		frappe.db.commit()
		drive()
		self.assertEqual(frappe.db.get_value("Bench", bench.name, "status"), "Archived")
		from press_selfhosted.engine import Engine
		from press_selfhosted.exceptions import ContainerNotFound
		from press_selfhosted.executor.bench import container_name

		with self.assertRaises(ContainerNotFound):
			Engine.connect(env("PODMAN")).inspect(container_name(agent.platform_for("Server", self.server), bench.name))

	def check_container_view(self, site: str, bench: str):
		"""The desk's Container Logs of a Site: state, CPU and memory, output; Follow's job sends
		the container's new lines to the user over realtime, then says it is done."""
		from press_selfhosted.engine import Engine
		from press_selfhosted.executor.bench import container_name
		from press_selfhosted.integrations import container_view as view

		shown = view.container_view("Site", site)
		self.assertTrue(shown["marked"])
		self.assertEqual((shown["container"], shown["status"]), (container_name(agent.platform_for("Server", self.server), bench), "running"))
		self.assertGreater(shown["memory_bytes"], 0)
		with mock.patch("frappe.enqueue") as enqueue:
			token = view.follow("Site", site, seconds=3)
		self.assertEqual(enqueue.call_args.kwargs["token"], token)
		self.assertEqual(enqueue.call_args.kwargs["queue"], "default")  # not where the executor's jobs run
		marker = f"followed-{token}"
		engine = Engine.connect(env("PODMAN"))
		sent = []
		# A line printed once the follow has begun, from beside it (written to the container's stdout).
		speaker = threading.Timer(1.0, lambda: engine.exec(shown["container"], ["sh", "-c", f"echo {marker} > /proc/1/fd/1"],
			user="frappe", check=True))
		with mock.patch("frappe.publish_realtime", side_effect=lambda event, message, user=None: sent.append((event, message, user))):
			speaker.start()
			view.run_follow(self.server, bench, "Administrator", token, 3)
			speaker.join()
		lines = [line for _, message, _ in sent for line in message["lines"]]
		self.assertIn(marker, lines)
		self.assertEqual({(event, user) for event, _, user in sent}, {(view.EVENT, "Administrator")})
		self.assertTrue(sent[-1][1].get("done"))
		# Stopped (as the dialog's Stop and its closing do) once the first line came: a line
		# printed after is not sent.
		with mock.patch("frappe.enqueue"):
			token = view.follow("Site", site, seconds=30)
		say = lambda line: engine.exec(shown["container"], ["sh", "-c", f"echo {line} > /proc/1/fd/1"], user="frappe", check=True)
		speakers = [threading.Timer(1.0, say, [f"first-{token}"]), threading.Timer(3.0, say, [f"second-{token}"])]
		sent.clear()

		def publish(event, message, user=None):
			sent.append((event, message, user))
			if f"first-{token}" in message["lines"]:
				view.stop_following(token)

		with mock.patch("frappe.publish_realtime", side_effect=publish):
			for speaker in speakers:
				speaker.start()
			view.run_follow(self.server, bench, "Administrator", token, 30)
			for speaker in speakers:
				speaker.join()
		lines = [line for _, message, _ in sent for line in message["lines"]]
		self.assertIn(f"first-{token}", lines)
		self.assertNotIn(f"second-{token}", lines)
		self.assertTrue(sent[-1][1].get("done"))
		with self.assertRaises(frappe.ValidationError):
			view.follow("Site", site, seconds=601)
		with self.assertRaises(frappe.ValidationError):
			view.stop_following("../not-a-token")

	def test_a_request_the_executor_refuses_fails_its_job_with_the_reason(self):
		from press.agent import Agent

		job = Agent(self.server).create_agent_job("Bench Restart", "benches/../restart", {"web_only": True})
		frappe.db.commit()
		frappe.get_doc("Agent Job", job.name).create_http_request()
		job.reload()
		self.assertEqual(job.status, "Failure")
		self.assertIn("local executor refused the request: not an agent path", job.output)
		self.assertFalse(frappe.db.exists("Agent Request Failure", {"server": self.server}))

	def test_every_declared_job_s_steps_and_path_are_press_s_own(self):
		"""Read from the installed Press's Agent Job Type fixture, not from a copy."""
		from press_selfhosted.executor.routes import declared

		for name, job_type in declared().items():
			self.assertTrue(frappe.db.exists("Agent Job Type", name), name)
			self.assertEqual(list(job_type.steps), fixture_steps(name), name)
			method, path = frappe.db.get_value("Agent Job Type", name, ["request_method", "request_path"])
			if path:  # Press names the parameters its own way ({site.bench}); the shape must agree
				press = [p if not p.startswith("{") else "{}" for p in path.strip("/").split("/")]
				ours = [p if not p.startswith("{") else "{}" for p in job_type.path.split("/")]
				self.assertEqual((method, ours[:len(press)]), (job_type.method, press), name)

	def test_a_bad_request_is_refused_at_delivery_and_nothing_is_stored_or_enqueued(self):
		from press.agent import Agent

		before = frappe.db.count("Local Agent Job")
		# Jobs whose failure Press's callbacks take without a Site or Bench of theirs.
		for job_type, path, data in (
				("Update Site Configuration", "benches/no-such-bench/sites/a.example.com/config", {"config": "not an object"}),
				("Update Bench Configuration", "benches/no-such-bench/config", {"bench_config": {"background_workers": 10**400}}),
				("Bench Restart", "benches/no-such-bench/restart", {"web_only": "yes"}),
				("Update Site Status", "proxy/upstreams/10.0.0.5/sites/a;b/status", {"status": "active"}),
				("Add Wildcard Hosts to Proxy", "proxy/wildcards", {"not": "a list"})):
			job = Agent(self.server).create_agent_job(job_type, path, data)
			frappe.db.commit()
			frappe.get_doc("Agent Job", job.name).create_http_request()
			job.reload()
			self.assertEqual(job.status, "Failure", job_type)
			self.assertIn("local executor refused the request", job.output)
		self.assertEqual(frappe.db.count("Local Agent Job"), before)

	def test_a_job_delivered_twice_is_stored_and_run_once(self):
		"""Press delivers a job again when it thinks the first delivery lost (or two workers take
		it): the second New Site of one job failed with "site already exists"."""
		from press.agent import Agent

		job = Agent(self.server).create_agent_job("Bench Restart", "benches/no-such-bench/restart", {"web_only": True})
		frappe.db.commit()
		frappe.get_doc("Agent Job", job.name).create_http_request()
		first = frappe.db.get_value("Agent Job", job.name, "job_id")
		frappe.db.set_value("Agent Job", job.name, {"status": "Undelivered", "job_id": 0})
		frappe.get_doc("Agent Job", job.name).create_http_request()
		self.assertEqual(frappe.db.get_value("Agent Job", job.name, "job_id"), first)
		self.assertEqual(frappe.get_all("Local Agent Job", filters={"agent_job": job.name}, pluck="name"), [first])

	def test_the_stored_request_hides_every_secret_its_job_declares(self):
		from press.agent import Agent

		marker = "pw-" + frappe.generate_hash(length=16)
		job = Agent(self.server).create_agent_job("Create User", "benches/no-such-bench/sites/a.example.com/create-user",
			{"email": "owner@a.example.com", "first_name": "A", "last_name": "B", "password": marker})
		frappe.db.commit()
		frappe.get_doc("Agent Job", job.name).create_http_request()
		job.reload()
		local = frappe.get_doc("Local Agent Job", job.job_id)
		self.assertNotIn(marker, local.request)
		self.assertEqual(json.loads(local.request)["password"], "********")
		self.assertEqual(json.loads(local.get_password("secrets")), [[["password"], marker]])
		agent.run(local.name)  # fails: there is no such bench
		local.reload()
		self.assertEqual(local.status, "Failure")
		self.assertNotIn(marker, local.state)
		self.assertNotIn(marker, json.dumps(frappe.get_all("Error Log", fields=["error"], limit=20)))

	def test_a_job_whose_worker_died_ends_as_failure_and_one_whose_worker_lives_runs_on(self):
		from press.agent import Agent
		from frappe.utils.background_jobs import get_redis_conn
		from rq import Queue, Worker

		from press_selfhosted.executor.jobs import Job

		job = Agent(self.server).create_agent_job("Bench Restart", "benches/no-such-bench/restart", {"web_only": True})
		frappe.db.commit()
		frappe.get_doc("Agent Job", job.name).create_http_request()
		job.reload()
		local = frappe.get_doc("Local Agent Job", job.job_id)
		# A worker alive as RQ records one (registered, its heartbeat fresh), running the job.
		connection = get_redis_conn()
		queue = Queue(f"press-selfhosted-test-{local.name}", connection=connection)
		rq_job = queue.enqueue("frappe.ping")
		worker = Worker([queue], connection=connection, name=f"press-selfhosted-test-{local.name}")
		worker.register_birth()
		try:
			rq_job.set_status("started")
			rq_job.worker_name = worker.name
			rq_job.save()
			worker.set_current_job_id(rq_job.id)
			running = Job.from_dict(json.loads(local.state))
			running.status = "Running"  # as the runner records it once it has claimed the job
			local.db_set({"status": "Running", "runner": rq_job.id, "state": json.dumps(running.to_dict())})
			self.assertEqual(Agent(self.server).get_job_status(job.job_id)["status"], "Running")
			# The worker shut down without finishing it (its work horse killed): Failure, saying so.
			worker.register_death()
			polled = Agent(self.server).get_job_status(job.job_id)
			self.assertEqual(polled["status"], "Failure")
			self.assertIn(f"stopped before it finished (its worker {worker.name} shut down)", polled["data"]["output"])
			self.assertEqual(frappe.db.get_value("Local Agent Job", local.name, "status"), "Failure")
		finally:
			worker.register_death()
			rq_job.delete()

	def test_what_a_job_whose_worker_died_left_is_undone_in_a_worker_of_its_own(self):
		from frappe.utils.background_jobs import is_job_enqueued

		from press_selfhosted.executor import database, routes
		from press_selfhosted.executor.jobs import Job

		root = Path(env("PLATFORM_MARIADB_PASSWORD_FILE")).read_text().strip()
		path, data = "benches/no-such-bench/sites/a.example.com/reinstall", {"mariadb_root_password": root, "admin_password": "x"}
		name = agent.enqueue("Server", self.server, "POST", path, data, None, routes.job("POST", path, data).job_type)
		platform = agent.platform_for("Server", self.server)
		prefix = database.temporary_prefix(platform.owner, name)
		# What the dead worker left: its temporary database user (dropped only at the end of its command).
		with database.connection(platform.database, root) as conn, conn.cursor() as cur:
			cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (f"{prefix}deadbeef", frappe.generate_hash()))
		running = Job.from_dict(json.loads(frappe.db.get_value("Local Agent Job", name, "state")))
		running.status = "Running"
		frappe.db.set_value("Local Agent Job", name, {"status": "Running", "runner": f"an-rq-job-long-gone-{name}",
			"state": json.dumps(running.to_dict())})
		frappe.db.commit()
		polled = agent.polled_jobs(str(name))
		frappe.db.commit()
		self.assertEqual(polled["status"], "Failure")
		self.assertIn("RQ has no record of its job", polled["data"]["output"])
		self.assertIn("what it half-made is undone in the background, run the operation again", polled["data"]["output"])
		self.assertTrue(is_job_enqueued(f"undo-local-agent-job-{name}"))
		self.assertEqual(agent.undo(name), [f"temporary user {prefix}deadbeef"])  # as the enqueued job runs it
		self.assertEqual(database.temporary_users(platform.database, root, prefix), [])
		state = frappe.db.get_value("Local Agent Job", name, "state")
		self.assertIn(f"undone after its worker died: temporary user {prefix}deadbeef", state)
		self.assertNotIn(root, state)

	def test_servers_not_marked_go_to_press_s_own_agent(self):
		from press.agent import Agent

		class Reply:
			status_code = 200

			def json(self):
				return {"message": "pong from a real agent"}

			def raise_for_status(self):
				pass

		other = Agent("not-marked.example.com", "Proxy Server")
		with mock.patch("press.agent.requests.request", return_value=Reply()) as sent, \
				mock.patch("press.agent.get_decrypted_password", return_value="x"):
			self.assertEqual(other.ping(), "pong from a real agent")
		self.assertEqual(sent.call_args.args[1], "https://not-marked.example.com:443/agent/ping")
		self.assertEqual(Agent(self.server).ping(), "pong")
