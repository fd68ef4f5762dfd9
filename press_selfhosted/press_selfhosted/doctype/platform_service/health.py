"""The platform's health as Frappe sees it: the doctor's checks for Selfhosted Settings plus
this site's MariaDB, Redis instances and RQ workers, and each server marked for the local
executor; kept in `Platform Service` records for the "Self-Hosted Platform" workspace by a
scheduler job."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import frappe
from frappe.utils import now_datetime

from press_selfhosted.doctor import CheckFailed, CheckResult, check_mariadb, check_redis, checks_from_settings, run_checks


def checks() -> dict[str, Callable[[], str]]:
	from press_selfhosted.press_selfhosted.doctype.selfhosted_settings.selfhosted_settings import settings_dict

	found = checks_from_settings(settings_dict())
	conf = frappe.conf
	found["mariadb"] = lambda: check_mariadb(conf.db_host or "127.0.0.1", int(conf.db_port or 3306))
	for name in ("redis_cache", "redis_queue"):
		url = urlsplit(conf.get(name) or "redis://127.0.0.1:6379")
		found[name] = lambda url=url: check_redis(url.hostname or "127.0.0.1", url.port or 6379, url.password)
	found["workers"] = check_workers
	from press_selfhosted.integrations import reach

	found["sites over https"] = reach.check
	# Each server the local executor answers for: its engine, its MariaDB, or Traefik.
	from press_selfhosted.integrations.agent import MARKS, check_server

	marks = frappe.get_all(MARKS, fields=["server_type", "server"], order_by="server_type, server")
	for mark in marks:
		found[f"{mark.server_type.lower()} {mark.server}"] = lambda m=mark: check_server(m.server_type, m.server)
	if not marks:
		found["local executor"] = check_local_executor
	return found


def check_local_executor() -> str:
	"""Fails, naming the settings to fill in, while no server is marked for the executor."""
	settings = frappe.get_single("Selfhosted Settings")
	missing = [f for f in ("mariadb_address", "mariadb_bench_address", "mariadb_root_password") if not settings.get(f)]
	if missing:
		raise CheckFailed(f"no local servers: set {', '.join(missing)} in Selfhosted Settings, then run selfhosted setup")
	raise CheckFailed("no local servers: run selfhosted setup")


def check_workers() -> str:
	"""RQ workers registered in the queue Redis, by queue (a worker that died is unregistered)."""
	from frappe.utils.background_jobs import get_workers

	workers = get_workers()
	if not workers:
		raise CheckFailed("no background workers: start them (bench start, or supervisor)")
	queues = sorted({q for w in workers for q in w.queue_names()})
	return f"{len(workers)} workers on {', '.join(queues)}"


def refresh() -> list[CheckResult]:
	"""Scheduler job: runs every check and records each result in its Platform Service."""
	results = run_checks(checks())
	for result in results:
		doc = (frappe.get_doc("Platform Service", result.name) if frappe.db.exists("Platform Service", result.name)
			else frappe.new_doc("Platform Service"))
		doc.update({"service": result.name, "status": "Healthy" if result.ok else "Failing", "detail": result.detail[:1000],
			"checked_at": now_datetime(), "response_ms": round(result.seconds * 1000)})
		doc.save(ignore_permissions=True)
	frappe.db.commit()
	return results


@frappe.whitelist()
def refresh_now() -> None:
	frappe.only_for("System Manager")
	refresh()
