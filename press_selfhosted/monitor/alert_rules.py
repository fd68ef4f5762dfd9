"""The alert rules a self-hosted platform starts with, as Press's Prometheus Alert Rule records
(`selfhosted setup` makes them; the administrator edits, silences or disables them in the
desk). Every alert carries an `instance` label naming a Press document — Press's webhook
reads `alerts[].labels.instance` and finds the Site, Bench or Server it names — and a
`severity`, which Press adds from the record.

`press_rule_file` is the rule file Press writes from the records (PrometheusAlertRule.
get_rules), so `promtool test rules` tests what Prometheus will be given."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AlertRule:
	name: str
	description: str
	expression: str
	for_: str
	severity: str = "Critical"
	group_by: tuple[str, ...] = ("alertname",)
	group_wait: str = "1m"
	group_interval: str = "5m"
	repeat_interval: str = "1h"  # Press reads it in hours (AlertmanagerWebhookLog)
	annotations: dict = field(default_factory=dict)

	def record(self) -> dict:
		"""The Prometheus Alert Rule document's fields."""
		return {"doctype": "Prometheus Alert Rule", "name": self.name, "description": self.description,
			"expression": self.expression, "for": self.for_, "severity": self.severity, "enabled": 1,
			"labels": "{}", "annotations": json.dumps(self.annotations), "group_by": json.dumps(list(self.group_by)),
			"group_wait": self.group_wait, "group_interval": self.group_interval, "repeat_interval": self.repeat_interval}


def _as_instance(expression: str, label: str) -> str:
	"""The alert's `instance` is the Press document that `label` names (a bench container's
	series are scraped from its server, whose name is their own `instance`)."""
	return f'label_replace({expression}, "instance", "$1", "{label}", "(.+)")'


FILESYSTEMS = 'job="node", fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.*"'

RULES = (
	# Press's incident detection reads this rule by its name, grouped by server.
	AlertRule("Sites Down", "The site does not answer /api/method/ping with 200", 'probe_success{job="site"} == 0', "3m",
		group_by=("alertname", "server")),
	AlertRule("Bench Container Down", "A bench's container is not running",
		_as_instance('press_container_up{job="cadvisor", kind="bench"} == 0', "name"), "2m"),
	AlertRule("Bench Container Restarting", "A bench's container restarted more than twice in 15 minutes",
		_as_instance('increase(press_container_restarts_total{job="cadvisor", kind="bench"}[15m]) > 2', "name"), "0m"),
	AlertRule("Container Engine Unreachable", "The server's container engine does not answer the exporter",
		'press_engine_up{job="cadvisor"} == 0', "2m"),
	AlertRule("Disk Almost Full", "A filesystem of the server is over 85 % full",
		f"100 * (1 - node_filesystem_avail_bytes{{{FILESYSTEMS}}} / node_filesystem_size_bytes{{{FILESYSTEMS}}}) > 85", "10m",
		severity="Warning"),
	AlertRule("Memory Pressure", "Less than 10 % of the server's memory is available",
		'node_memory_MemAvailable_bytes{job="node"} / node_memory_MemTotal_bytes{job="node"} < 0.10', "10m",
		severity="Warning"),
	AlertRule("Backup Failed or Late", "The site's last backup failed, or its last good one is over 26 hours old",
		"press_site_backup_last_failed == 1 or press_site_backup_age_seconds > 26 * 3600", "5m", severity="Warning",
		repeat_interval="6h"),
	AlertRule("Agent Job Running Long", "An agent job has been running for over an hour",
		"press_agent_job_running_seconds > 3600", "0m", severity="Warning", group_by=("alertname", "instance")),
	AlertRule("Object Store Unreachable", "The platform's object store (backups, uploads) does not answer",
		'press_platform_service_up{instance="storage"} == 0', "5m"),
	AlertRule("Certificate Expiring", "The certificate a site is served with expires within 30 days",
		'probe_ssl_earliest_cert_expiry{job="site"} - time() < 30 * 86400', "10m", severity="Warning",
		repeat_interval="24h"),
)


def press_rule(rule: AlertRule) -> dict:
	"""One rule as Press's PrometheusAlertRule.get_rule writes it."""
	return {"alert": rule.name, "expr": rule.expression, "for": rule.for_, "labels": {"severity": rule.severity.lower()},
		"annotations": {**rule.annotations, "description": rule.description}}


def press_rule_file(rules=RULES) -> dict:
	return {"groups": [{"name": "All", "rules": [press_rule(r) for r in rules]}]}
