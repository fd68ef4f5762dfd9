"""What only Press knows, as Prometheus text for the monitor's `press` job: each site's
backups, the agent jobs still running, and the platform's services as their health checks
last found them (Platform Service records: storage, powerdns, traefik, …). The Frappe side
(integrations/monitoring.py `metrics`) reads them from Press's records; the shipped rules
Backup Failed or Late, Agent Job Running Long and Object Store Unreachable watch them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SiteBackups:
	site: str
	created: float  # Unix seconds: a site younger than the backup interval is not late
	last_success: float | None
	last_failed: bool  # the newest backup attempt failed


@dataclass(frozen=True)
class RunningJob:
	name: str  # the Agent Job
	job_type: str
	server: str
	started: float


def exposition(backups: Iterable[SiteBackups], jobs: Iterable[RunningJob], services: dict[str, bool], now: float) -> str:
	lines = [
		"# HELP press_site_backup_age_seconds Seconds since the site's last successful backup (since its creation if none).",
		"# TYPE press_site_backup_age_seconds gauge",
	]
	backups = sorted(backups, key=lambda b: b.site)
	lines += [f'press_site_backup_age_seconds{{instance="{_label(b.site)}"}} {now - (b.last_success or b.created):.0f}'
		for b in backups]
	lines += ["# HELP press_site_backup_last_failed 1 when the site's newest backup attempt failed.",
		"# TYPE press_site_backup_last_failed gauge"]
	lines += [f'press_site_backup_last_failed{{instance="{_label(b.site)}"}} {int(b.last_failed)}' for b in backups]
	lines += ["# HELP press_agent_job_running_seconds Seconds an agent job has been running.",
		"# TYPE press_agent_job_running_seconds gauge"]
	lines += [f'press_agent_job_running_seconds{{instance="{_label(j.server)}", agent_job="{_label(j.name)}", '
		f'job_type="{_label(j.job_type)}"}} {now - j.started:.0f}' for j in sorted(jobs, key=lambda j: j.name)]
	lines += ["# HELP press_platform_service_up 1 when the service's last health check passed.",
		"# TYPE press_platform_service_up gauge"]
	lines += [f'press_platform_service_up{{instance="{_label(name)}"}} {int(up)}' for name, up in sorted(services.items())]
	return "\n".join(lines) + "\n"


def _label(value: str) -> str:
	return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
