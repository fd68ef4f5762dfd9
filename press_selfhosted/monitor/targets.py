"""Prometheus's scrape targets from Press's own `targets` answer (press/api/monitoring.py):
its clusters' servers with the jobs Press expects on each, its benches' active sites and its
sites' domains, as file service discovery files.

The labels are the ones Press's charts select on: `instance` is the Server, Database Server
or site name (`node_cpu_seconds_total{instance=<server>, job="node"}`, `probe_success{job=
"site", instance=<site>}`), whatever address the exporter answers at."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from press_selfhosted.exceptions import ValidationError
from press_selfhosted.monitor import Monitor, replace_file
from press_selfhosted.names import check_site

# The jobs Press asks of its servers that this platform has an exporter for, and the port each
# listens on, on every host. Press's others (nginx, docker, gunicorn, rq, proxysql,
# mariadb_proxy) have no exporter here; their charts stay empty (README).
JOB_PORTS = {"cadvisor": 32372, "node": 32373, "mariadb": 32374}
FILES = ("servers.json", "sites.json", "domains.json")


def file_sd(targets: Mapping, address: Callable[[str], str | None], ports: Mapping[str, int] = JOB_PORTS) -> dict[str, list[dict]]:
	"""Each file's target groups. `address(server)` is the host a server's exporters listen
	on, None for a server that is not watched from here; `ports` the port of each job's."""
	if not isinstance(targets, Mapping):
		raise ValidationError("Press's targets are a mapping of benches, clusters and domains")
	servers = []
	for cluster in targets.get("clusters") or []:
		for job, names in sorted((cluster.get("jobs") or {}).items()):
			if job not in ports:
				continue
			for name in names:
				server = str(name).rpartition(":8443")[0] or str(name)  # Press's alternative port
				host = address(server)
				if host:
					servers.append({"targets": [_target(host, ports[job])],
						"labels": {"job": job, "instance": server, "cluster": str(cluster.get("name") or "")}})
	sites = []
	for bench in targets.get("benches") or []:
		labels = {k: str(bench.get(k) or "") for k in ("cluster", "server", "group")}
		for site in map(check_site, bench.get("sites") or []):
			sites.append({"targets": [ping(site)], "labels": {**labels, "bench": str(bench.get("name")), "instance": site}})
	domains = []
	for domain in targets.get("domains") or []:
		name = check_site(domain.get("name"))
		if name == domain.get("site"):
			continue  # a site's own name is probed with its bench's labels, above
		domains.append({"targets": [ping(name)], "labels": {"instance": name, "site": str(domain.get("site") or "")}})
	return {"servers.json": servers, "sites.json": sites, "domains.json": domains}


def write(monitor: Monitor, groups: Mapping[str, list[dict]]) -> list[str]:
	"""Puts each file in place in one rename; the names of the files that changed."""
	return [name for name in FILES if replace_file(monitor.file_sd / name, json.dumps(groups[name], indent=1, sort_keys=True) + "\n")]


def ping(host: str) -> str:
	"""The URL the blackbox exporter probes for a site or domain, a checked name (Press's
	uptime is the probe's success)."""
	return f"https://{host}/api/method/ping"


def _target(host: str, port: int) -> str:
	return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
