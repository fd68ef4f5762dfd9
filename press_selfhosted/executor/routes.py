"""Press's agent paths (press/agent.py) answered by the executor: a job path gives its
declared job type (job_types) with the request checked; a synchronous path gives its answer.
Names in a path are checked before anything runs."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from press_selfhosted import __version__
from press_selfhosted.exceptions import NotSupported
# Each runner module declares its jobs when imported: together they are the route table.
from press_selfhosted.executor import backup, bench, builder, cleanup, logs, proxy, site  # noqa: F401
from press_selfhosted.executor.job_types import DECLARED, JobType, Route, check_bench, check_site, find
from press_selfhosted.executor.platform import Platform
from press_selfhosted.monitor import Monitor, rules


def job(method: str, path: str, data: dict | list | None) -> Route:
	"""The job Press asks for, checked: ValidationError for a bad name or request field,
	NotSupported for a path the executor does not run."""
	route = find(method, _parts(path), data)
	if route is None:
		raise NotSupported(f"the local executor does not run {method} {path} yet")
	return route


def declared() -> dict[str, JobType]:
	"""Every job type the executor runs, by Press's name."""
	return dict(DECLARED)


def answer(platform: Platform, method: str, path: str, data: dict | None) -> object:
	"""The answer to a synchronous call, as the agent gives it."""
	parts = _parts(path)
	if parts in (["ping"], ["version"]) and method == "GET":
		return _about(parts[0])
	match method, parts:
		case "GET", ["benches", b, "sites", s, "apps"]:
			return {"data": site.installed_apps(platform, check_bench(b), check_site(s))}
		case "GET", ["benches", b, "sites", s, "status"]:
			return {"data": site.site_status(platform, check_bench(b), check_site(s))}
		case "GET", ["benches", b, "sites", s, "info"]:
			return {"data": site.site_info(platform, check_bench(b), check_site(s))}
		case "POST", ["benches", b, "info"]:
			b = check_bench(b)
			return {s: site.site_info(platform, b, s) for s in bench.site_names(platform, b)}
		case "GET" | "POST", ["benches", b, "sites", s, "sid"]:
			return site.sid(platform, check_bench(b), check_site(s), (data or {}).get("user"))
		case "GET", ["benches", b, "logs"]:
			return logs.listing(platform, check_bench(b))
		case "GET", ["benches", b, "logs", name]:
			return logs.show(platform, check_bench(b), name)
		case "GET", ["benches", b, "sites", s, "logs"]:
			return logs.listing(platform, check_bench(b), check_site(s))
		case "GET", ["benches", b, "sites", s, "logs", name]:
			return logs.show(platform, check_bench(b), name, check_site(s))
		case "GET", ["server", "image-size", tag]:
			return {"size": bench.image_size_gib(platform, tag)}
		case "GET", ["benches", b, "status"]:
			b = check_bench(b)
			state = platform.engine.inspect(bench.container_name(platform, b))
			sites = {s: {"scheduler": True, "web": state.running} for s in bench.site_names(platform, b)}
			return {"sites": sites, "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")}
	raise NotSupported(f"the local executor does not answer {method} {path} yet")


def monitor_answer(monitor: Monitor, method: str, path: str, data: dict | None) -> object:
	"""The answer of a Monitor Server's agent: `monitor/rules` puts Press's alert rules and
	Alertmanager routes in place, checked first (press_selfhosted.monitor.rules)."""
	parts = _parts(path)
	match method, parts:
		case "GET", ["ping"] | ["version"]:
			return _about(parts[0])
		case "POST", ["monitor", "rules"]:
			rules.update(monitor, data)
			return {}
	raise NotSupported(f"the local executor does not answer {method} {path} for a Monitor Server")


def _about(what: str) -> dict:
	if what == "ping":
		return {"message": "pong"}
	return {"commit": f"press_selfhosted-{__version__}", "status": "local executor", "python": None}


def _parts(path: str) -> list[str]:
	"""The path's segments; Press sometimes writes a leading slash. `..` and empty segments
	are refused: a name never escapes its place."""
	parts = path.strip().strip("/").split("/")
	if any(p in ("", ".", "..") or re.search(r"[\s\\]", p) for p in parts):
		raise NotSupported(f"not an agent path: {path!r}")
	return parts
