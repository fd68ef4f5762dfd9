"""Press's monitoring → the platform's monitor server. Press's agent on a Monitor Server
fetches Press's `targets` answer (press/api/monitoring.py) on a timer; here the same answer is
read in-process whenever a server, bench, site or domain changes, and Prometheus's file
service discovery is rewritten from it (press_selfhosted.monitor.targets), so a new bench is
scraped from its next scrape on and an archived one leaves.

Press's alert rules reach the monitor through its own `monitor/rules` call, answered by the
executor for a Monitor Server marked as a Selfhosted Server (integrations/agent.py)."""

from __future__ import annotations

import frappe

from press_selfhosted.integrations import SETTINGS, active, services
from press_selfhosted.integrations.agent import MARKS

JOB = "press_selfhosted-monitor-targets"


def configured() -> bool:
	"""Whether Selfhosted Settings says where the monitor's folder and servers are."""
	return all(frappe.db.get_single_value(SETTINGS, f) for f in ("monitor_directory", "prometheus_url", "alertmanager_url"))


def targets_changed(doc=None, method=None) -> None:
	"""doc_events: a change that may add or remove a target, seen after its commit."""
	if active() and configured():
		frappe.enqueue("press_selfhosted.integrations.monitoring.refresh_targets", queue="short", job_id=JOB,
			deduplicate=True, enqueue_after_commit=True)


def refresh_targets() -> list[str]:
	"""Rewrites the scrape targets from Press's state; the files that changed. Also run every
	five minutes (hooks), so a change made while a refresh was running is not missed."""
	if not (active() and configured()):
		return []
	from press.api.monitoring import get_benches, get_clusters, get_domains

	from press_selfhosted.monitor import targets

	answer = {"benches": get_benches(), "clusters": get_clusters(), "domains": get_domains()}
	default = frappe.db.get_single_value(SETTINGS, "metrics_host") or "127.0.0.1"
	marked = dict(frappe.get_all(MARKS, fields=["name", "metrics_host"], as_list=True))
	return targets.write(services().monitor, targets.file_sd(answer, lambda s: (marked[s] or default) if s in marked else None))


# The role of the user Prometheus signs in as (its API key and secret: `Authorization: token
# key:secret`, Frappe's own; Press refuses guests every /api/ path but its own, and Frappe
# takes any Authorization header as a sign-in). Its only use is this page.
ROLE = "Selfhosted Monitor"


class MetricsPage:
	"""`GET /metrics/press-selfhosted` (a page renderer, as Press serves its own /metrics):
	Press's own series for the monitor's `press` job (monitor/press_metrics.py), for the
	monitor's user only."""

	PATH = "metrics/press-selfhosted"

	def __init__(self, path, status_code=None):
		self.path = path

	def can_render(self) -> bool:
		return self.path == self.PATH

	def render(self):
		from werkzeug.wrappers import Response

		if not (active() and ROLE in frappe.get_roles()):
			return Response(f"sign in as the monitor's user (role {ROLE})\n", status=401, mimetype="text/plain")
		return Response(_metrics(), mimetype="text/plain; version=0.0.4")


def _metrics() -> str:
	from press_selfhosted.monitor.press_metrics import RunningJob, SiteBackups, exposition

	sites = frappe.get_all("Site", filters={"status": "Active"}, fields=["name", "creation"])
	backups = frappe.db.sql("""SELECT site, MAX(IF(status = 'Success', creation, NULL)) AS success,
			SUBSTRING_INDEX(GROUP_CONCAT(status ORDER BY creation DESC), ',', 1) AS newest
		FROM `tabSite Backup` WHERE status IN ('Success', 'Failure') AND site IN %(sites)s GROUP BY site""",
		{"sites": [s.name for s in sites] or [""]}, as_dict=True)
	by_site = {b.site: b for b in backups}
	# Frappe's datetimes are naive in the system's zone: only their differences are used.
	site_backups = [SiteBackups(s.name, s.creation.timestamp(), by_site[s.name].success.timestamp() if s.name in by_site and
		by_site[s.name].success else None, s.name in by_site and by_site[s.name].newest == "Failure") for s in sites]
	jobs = [RunningJob(j.name, j.job_type or "", j.server or "", (j.start or j.creation).timestamp())
		for j in frappe.get_all("Agent Job", filters={"status": "Running"}, fields=["name", "job_type", "server", "start", "creation"])]
	health = dict(frappe.get_all("Platform Service", fields=["service", "status"], as_list=True))
	return exposition(site_backups, jobs, {name: status == "Healthy" for name, status in health.items()},
		frappe.utils.now_datetime().timestamp())
