"""Prometheus's configuration for a monitor server: its rules from the rule file Press
writes, alerts to Alertmanager, and two scrape jobs fed by file service discovery
(press_selfhosted.monitor.targets) — the servers' exporters, whose groups carry Press's job
names, and the sites, probed through the blackbox exporter as Press's uptime reads them."""

from __future__ import annotations

from pathlib import Path

# The blackbox exporter's module for a site: GET …/api/method/ping, 200 only, the platform CA
# trusted (blackbox_config).
SITE_MODULE = "press_site"


def blackbox_config(ca_file: str) -> dict:
	"""The blackbox exporter's configuration: `ca_file` is the platform CA's root as the
	exporter sees it (the monitor folder's ca.crt)."""
	return {"modules": {SITE_MODULE: {"prober": "http", "timeout": "10s", "http": {"method": "GET",
		"valid_status_codes": [200], "preferred_ip_protocol": "ip4", "tls_config": {"ca_file": ca_file}}}}}


PRESS_METRICS = "/metrics/press-selfhosted"  # integrations/monitoring.py MetricsPage
# A change is seen at once through the folder's watch (monitor.prepare makes the folder first);
# the reread is the fallback.
REFRESH = "30s"


def prometheus_config(directory: str | Path, *, blackbox: str, alertmanager: str, interval: str = "30s",
		own: list[dict] | None = None, press: str | None = None) -> dict:
	"""The whole prometheus.yml; `directory` as Prometheus sees the monitor's folder, `own` the
	platform's scrape jobs of its own services (Prometheus itself, Traefik), `press` the Press
	site's URL (https://host[:port]) for its own series, asked as the monitor's user with the
	API key and secret kept in the folder as `press.token` (Frappe's `token key:secret`)."""
	sd = Path(directory) / "file_sd"
	if press:
		scheme, _, address = press.partition("://")
		own = [*(own or []), {"job_name": "press", "scheme": scheme, "metrics_path": PRESS_METRICS,
			# Its series name their own instance (a site, a server): kept, not renamed.
			"honor_labels": True, "authorization": {"type": "token", "credentials_file": str(Path(directory) / "press.token")},
			**({"tls_config": {"ca_file": str(Path(directory) / "ca.crt")}} if scheme == "https" else {}),
			"static_configs": [{"targets": [address]}]}]
	return {
		"global": {"scrape_interval": interval, "evaluation_interval": interval},
		"rule_files": [str(Path(directory) / "rules" / "*.yml")],
		"alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
		"scrape_configs": [*(own or []),
			{"job_name": "servers", "file_sd_configs": [{"files": [str(sd / "servers.json")], "refresh_interval": REFRESH}]},
			{"job_name": "site", "metrics_path": "/probe", "params": {"module": [SITE_MODULE]},
				"file_sd_configs": [{"files": [str(sd / "sites.json"), str(sd / "domains.json")], "refresh_interval": REFRESH}],
				"relabel_configs": [
					{"source_labels": ["__address__"], "target_label": "__param_target"},
					{"target_label": "__address__", "replacement": blackbox}]},
		],
	}
