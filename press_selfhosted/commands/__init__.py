"""`bench selfhosted …`: found by Frappe through this module's `commands` list
(frappe/utils/bench_helper.py `get_app_commands`)."""

from urllib.parse import urlsplit

import click
from frappe.commands import get_site, pass_context


@click.group("selfhosted")
def selfhosted():
	"""The self-hosted platform: checks and setup."""


@selfhosted.command("doctor")
@pass_context
def doctor(context):
	"""Checks every service the platform depends on and prints a pass/fail table."""
	import frappe

	from press_selfhosted.doctor import check_mariadb, check_redis, checks_from_settings, format_table, run_checks
	from press_selfhosted.press_selfhosted.doctype.selfhosted_settings.selfhosted_settings import settings_dict

	frappe.init(site=get_site(context))
	frappe.connect()
	try:
		checks = checks_from_settings(settings_dict())
		conf = frappe.conf
		checks["mariadb"] = lambda: check_mariadb(conf.db_host or "127.0.0.1", int(conf.db_port or 3306))
		for name in ("redis_cache", "redis_queue"):
			url = urlsplit(conf.get(name) or "redis://127.0.0.1:6379")
			checks[name] = lambda url=url: check_redis(url.hostname or "127.0.0.1", url.port or 6379, url.password)
		checks["workers"] = _workers
		results = run_checks(checks)
	finally:
		frappe.destroy()
	click.echo(format_table(results))
	if not all(r.ok for r in results):
		raise SystemExit(1)


def _workers() -> str:
	"""RQ workers registered in the queue Redis, by queue (a worker that died is unregistered)."""
	from frappe.utils.background_jobs import get_workers

	from press_selfhosted.doctor import CheckFailed

	workers = get_workers()
	if not workers:
		raise CheckFailed("no background workers: start them (bench start, or supervisor)")
	queues = sorted({q for w in workers for q in w.queue_names()})
	return f"{len(workers)} workers on {', '.join(queues)}"


commands = [selfhosted]
