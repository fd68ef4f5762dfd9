"""Points Selfhosted Settings at the real services `tools/services.py` started (the same
PRESS_SELFHOSTED_TEST_* variables the CI tests read), for the bench tests."""

import os
import socket
import tempfile
from pathlib import Path

import frappe

from press_selfhosted.demo import https_get as demo_https_get
from press_selfhosted.integrations import agent, services

NEEDED = ("S3_ENDPOINT", "S3_REGION", "S3_DIR", "PDNS_API", "PDNS_DNS", "PDNS_KEY_FILE", "TRAEFIK_DIR", "TRAEFIK_API", "TRAEFIK_HTTPS")


def env(name: str) -> str:
	value = os.environ.get(f"PRESS_SELFHOSTED_TEST_{name}")
	if not value:
		raise RuntimeError(f"PRESS_SELFHOSTED_TEST_{name} is not set: start the services with "
			"`tools/services.py start … garage pdns traefik` and export `tools/services.py env`")
	return value


class Inbox:
	"""The platform's SMTP relay in a test (an aiosmtpd handler): every message it took."""

	def __init__(self):
		self.messages: list[tuple[str, list[str], bytes]] = []

	async def handle_DATA(self, server, session, envelope):
		self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
		return "250 OK"


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def configure(root_domain: str) -> dict:
	"""Selfhosted Settings for the real services, with a fresh CA directory; returns the values."""
	for name in NEEDED:
		env(name)
	s3 = Path(env("S3_DIR"))
	values = {
		"s3_endpoint": env("S3_ENDPOINT"), "s3_region": env("S3_REGION"), "s3_bucket": f"press-bench-{frappe.generate_hash(length=6).lower()}",
		"s3_access_key": (s3 / "access_key").read_text().strip(), "s3_secret_key": (s3 / "secret_key").read_text().strip(),
		"pdns_api_url": env("PDNS_API"), "pdns_api_key": Path(env("PDNS_KEY_FILE")).read_text().strip(), "pdns_server_id": "localhost",
		"dns_server": env("PDNS_DNS"), "root_domain": root_domain, "public_address": "127.0.0.1",
		"traefik_config_dir": env("TRAEFIK_DIR"), "traefik_api_url": env("TRAEFIK_API"),
		# Press's own client (Login as Administrator, ping) reaches https://<site> at the
		# test Traefik's HTTPS port, as an operator without Traefik on 443 sets it.
		"site_https_address": env("TRAEFIK_HTTPS"),
		"ca_directory": str(Path(tempfile.mkdtemp(prefix="press-bench-ca-")) / "ca"), "ca_passphrase": None,
		"s3_admin_url": os.environ.get("PRESS_SELFHOSTED_TEST_S3_ADMIN"),
		"s3_admin_token": (s3 / "admin_token").read_text().strip() if (s3 / "admin_token").exists() else None,
		"engine_endpoints": os.environ.get("PRESS_SELFHOSTED_TEST_PODMAN") or "", "smtp_server": None,
		# No local servers unless a test asks for them (test_local_executor sets these).
		"mariadb_address": None, "mariadb_bench_address": None, "mariadb_root_password": None,
	}
	settings = frappe.get_single("Selfhosted Settings")
	settings.update(values)
	settings.save()
	services().store.ensure_bucket()
	frappe.db.commit()
	return values


def local_platform(domain: str) -> list[str]:
	"""The platform of configure() plus the local executor's servers on the real engine and
	platform MariaDB (PRESS_SELFHOSTED_TEST_PODMAN, …_PLATFORM_MARIADB, …_PLATFORM_MARIADB_BENCH,
	…_PLATFORM_MARIADB_PASSWORD_FILE, …_BENCH_NETWORK); returns what setup said."""
	from press_selfhosted.commands.setup import run as setup
	from press_selfhosted.integrations import install

	configure(domain)
	settings = frappe.get_single("Selfhosted Settings")
	settings.update({
		"engine_endpoints": env("PODMAN"),
		"mariadb_address": env("PLATFORM_MARIADB"),
		"mariadb_bench_address": env("PLATFORM_MARIADB_BENCH"),
		"mariadb_root_password": Path(env("PLATFORM_MARIADB_PASSWORD_FILE")).read_text().strip(),
		"bench_network": env("BENCH_NETWORK"),
		"bench_upstream": "loopback",
	})
	settings.save()
	install()
	said = setup()
	install()  # as the next request does: Press now trusts the CA that setup made
	frappe.db.commit()
	return said


def drop_local_platform(domain: str) -> None:
	"""The zone goes; the platform MariaDB is forgotten, so other modules' setup makes no servers."""
	services().powerdns.delete_zone(domain)
	settings = frappe.get_single("Selfhosted Settings")
	settings.update({"mariadb_address": None, "mariadb_bench_address": None, "mariadb_root_password": None})
	settings.save()
	frappe.db.commit()


def fixture_steps(job_type: str) -> list[str]:
	return [row.step_name for row in frappe.get_doc("Agent Job Type", job_type).steps]


def drive(rounds: int = 60) -> None:
	"""Press's workers and scheduler, in order, until no job is left to deliver, run or poll."""
	from press.press.doctype.agent_job.agent_job import poll_pending_jobs_server
	from press.press.doctype.bench.bench import process_bench_queue

	for _ in range(rounds):
		process_bench_queue()
		busy = False
		for name in frappe.get_all("Agent Job", filters={"status": "Undelivered", "job_id": 0}, pluck="name"):
			frappe.get_doc("Agent Job", name).create_http_request()
			busy = True
		for name in frappe.get_all("Local Agent Job", filters={"status": "Pending"}, pluck="name"):
			agent.run(name)
			busy = True
		servers = frappe.get_all("Agent Job", filters={"status": ("in", ("Pending", "Running"))},
			fields=["server", "server_type"], distinct=True)
		for server in servers:
			poll_pending_jobs_server(frappe._dict(server))
			busy = True
		frappe.db.commit()
		if not busy:
			return
	raise AssertionError("Press's jobs did not settle")


def https_get(site: str, path: str) -> tuple[int, str]:
	"""Through Traefik, trusting only the platform root (the demo's client): (status, body)."""
	host, port = env("TRAEFIK_HTTPS").rsplit(":", 1)
	status, body, _ = demo_https_get(host, int(port), site, services().ca.root_pem, path=path, timeout=30)
	return status, body




def steps(agent_job: str) -> list[tuple[str, str]]:
	return [(s.step_name, s.status) for s in frappe.get_all("Agent Job Step", filters={"agent_job": agent_job},
		fields=["step_name", "status"], order_by="creation asc, idx asc")]


def release_group(server: str, public: bool = False) -> str:
	"""A Release Group with frappe only, its source off GitHub polling and a release by hand, as
	an offline platform registers an app (README); public: one customers may create sites on."""
	team = frappe.db.get_value("Team", {"user": "Administrator"}, "name")
	if not frappe.db.exists("App", "frappe"):
		frappe.get_doc({"doctype": "App", "name": "frappe", "title": "Frappe Framework"}).insert()
	source = frappe.db.get_value("App Source", {"app": "frappe", "branch": "version-15"}, "name") or frappe.get_doc({
		"doctype": "App Source", "app": "frappe", "repository_url": "https://github.com/frappe/frappe", "branch": "version-15",
		"team": team, "public": 1, "versions": [{"version": "Version 15"}], "last_github_poll_failed": 1}).insert().name
	if not frappe.db.exists("App Release", {"source": source}):
		frappe.get_doc({"doctype": "App Release", "app": "frappe", "source": source, "status": "Approved",
			"hash": "2115b6410c54bdd3689302327fb1bcefeab7000b", "message": "v15.55.1"}).insert()
	group = frappe.get_doc({"doctype": "Release Group", "title": f"Local {frappe.generate_hash(length=5)}", "version": "Version 15",
		"team": team, "apps": [{"source": source, "app": "frappe"}], "servers": [{"server": server}], "public": int(public)}).insert()
	frappe.db.commit()
	return group.name
