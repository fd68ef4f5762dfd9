"""Press's agent paths (press/agent.py) mapped to the executor's runners: a job path gives the
job's type and a runner `(platform, recorder) -> data`; a synchronous path gives its answer.
Names in a path are checked before anything runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from press_selfhosted import __version__
from press_selfhosted.exceptions import NotSupported
from press_selfhosted.executor import backup, bench, builder, cleanup, logs, proxy, site
from press_selfhosted.executor.jobs import Recorder
from press_selfhosted.executor.platform import Platform, check_app, check_bench
from press_selfhosted.names import check_site

Runner = Callable[[Platform, Recorder], dict]
# The bench a site (or one of its domains) lives on (the Frappe side reads it from Press's Site).
BenchOf = Callable[[str], str]
# The site a domain belongs to (Press's Site Domain); a site's own name is its own.
SiteOf = Callable[[str], str]


@dataclass(frozen=True)
class JobRoute:
	job_type: str
	runner: Runner
	# Values of the request to mask in everything the job shows.
	secrets: tuple[str, ...] = ()


def job(method: str, path: str, data: dict | list | None, bench_of: BenchOf, site_of: SiteOf = lambda host: host) -> JobRoute:
	parts = _parts(path)
	data = data if data is not None else {}
	d = data if isinstance(data, dict) else {}
	secrets = tuple(str(d[k]) for k in ("mariadb_root_password", "admin_password") if d.get(k))
	registry = d.get("registry") or {}
	if isinstance(registry, dict) and registry.get("password"):
		secrets += (str(registry["password"]),)
	offsite = d.get("offsite") or {}
	auth = offsite.get("auth") if isinstance(offsite, dict) else None
	if isinstance(auth, dict) and auth.get("SECRET_KEY"):
		secrets += (str(auth["SECRET_KEY"]),)
	match method, parts:
		case "POST", ["benches"]:
			bench.check_new_bench(d)
			return JobRoute("New Bench", lambda p, r: bench.new_bench(p, r, d), secrets)
		case "POST", ["benches", b, "archive"]:
			return JobRoute("Archive Bench", lambda p, r: bench.archive_bench(p, r, check_bench(b)))
		case "POST", ["benches", b, "restart"]:
			return JobRoute("Bench Restart", lambda p, r: bench.restart_bench(p, r, check_bench(b), d))
		case "POST", ["benches", b, "config"]:
			return JobRoute("Update Bench Configuration", lambda p, r: bench.update_bench(p, r, check_bench(b), d))
		case "POST", ["benches", b, "sites"]:
			site.check_new_site(b, d)
			return JobRoute("New Site", lambda p, r: site.new_site(p, r, check_bench(b), d), secrets)
		case "POST", ["benches", b, "sites", s, "config"]:
			return JobRoute("Update Site Configuration",
				lambda p, r: site.update_site_configuration(p, r, check_bench(b), check_site(s), d))
		case "POST", ["benches", b, "sites", "restore"]:
			b = check_bench(b)
			check_site(d.get("name"))
			return JobRoute("New Site from Backup", lambda p, r: backup.new_site_from_backup(p, r, b, d), secrets)
		case "POST", ["benches", b, "sites", s, "archive"]:
			b, s = check_bench(b), check_site(s)
			backup.Offsite.of(d)
			return JobRoute("Archive Site", lambda p, r: backup.archive_site(p, r, b, s, d), secrets)
		case "POST", ["benches", b, "sites", s, "backup"]:
			b, s = check_bench(b), check_site(s)
			backup.Offsite.of(d)
			return JobRoute("Backup Site", lambda p, r: backup.backup_site(p, r, b, s, d), secrets)
		case "POST", ["benches", b, "sites", s, "restore"]:
			b, s = check_bench(b), check_site(s)
			return JobRoute("Restore Site", lambda p, r: backup.restore_site(p, r, b, s, d), secrets)
		case "POST", ["benches", b, "sites", s, "reinstall"]:
			b, s = check_bench(b), check_site(s)
			return JobRoute("Reinstall Site", lambda p, r: site.reinstall(p, r, b, s, d), secrets)
		case "DELETE", ["benches", b, "sites", s, "apps", app]:
			b, s, app = check_bench(b), check_site(s), check_app(app)
			backup.Offsite.of(d)
			return JobRoute("Uninstall App from Site", lambda p, r: backup.uninstall_app(p, r, b, s, app, d), secrets)
		case "POST", ["benches", b, "sites", s, "rename"]:
			return JobRoute("Rename Site", lambda p, r: site.rename_site(p, r, check_bench(b), check_site(s), d))
		case "POST", ["benches", b, "sites", s, "migrate"]:
			b, s = check_bench(b), check_site(s)
			return JobRoute("Migrate Site", lambda p, r: site.migrate(p, r, b, s, d))
		case "POST", ["benches", b, "sites", s, "apps"]:
			b, s = check_bench(b), check_site(s)
			check_app(d.get("name"))
			return JobRoute("Install App on Site", lambda p, r: site.install_app(p, r, b, s, d))
		case "DELETE", ["benches", b, "sites", s, "cache"]:
			b, s = check_bench(b), check_site(s)
			return JobRoute("Clear Cache", lambda p, r: site.clear_cache(p, r, b, s))
		case "POST", ["benches", b, "sites", s, "activate"]:
			b, s = check_bench(b), check_site(s)
			return JobRoute("Activate Site", lambda p, r: site.set_active(p, r, b, s, active=True))
		case "POST", ["benches", b, "sites", s, "deactivate"]:
			b, s = check_bench(b), check_site(s)
			return JobRoute("Deactivate Site", lambda p, r: site.set_active(p, r, b, s, active=False))
		case "POST", ["benches", b, "sites", s, "create-user"]:
			b, s = check_bench(b), check_site(s)
			password = (str(d["password"]),) if d.get("password") else ()
			return JobRoute("Create User", lambda p, r: site.create_user(p, r, b, s, d), password)
		case "POST", ["builder", "build"]:
			request = builder.check_build(d)
			secrets += tuple(t for c in request.clones if (t := builder.url_secret(c.url)))
			secrets += tuple(str(v) for v in (d.get("build_token"), ((d.get("ssh_keys") or {}).get("host") or {}).get("private_key")) if v)
			return JobRoute("Run Remote Builder", lambda p, r: builder.run_build(p, r, request), secrets)
		case "POST", ["server", "cleanup"]:
			cleanup.check(d)
			return JobRoute("Cleanup Unused Files", lambda p, r: cleanup.cleanup_unused_files(p, r, d))
		case "POST", ["proxy", "upstreams"]:
			return JobRoute("Add Upstream to Proxy", lambda p, r: proxy.add_upstream(p, r, d))
		case "POST", ["proxy", "upstreams", _, "sites"]:
			s = check_site(d.get("name"))
			return JobRoute("Add Site to Upstream", lambda p, r: proxy.add_site(p, r, s, bench_of(s)))
		case "POST", ["proxy", "upstreams", _, "domains"]:
			host = check_site(d.get("domain"))
			return JobRoute("Add Domain to Upstream",
				lambda p, r: proxy.add_site(p, r, host, bench_of(host), frappe_site=site_of(host), require_zone=False))
		case "DELETE", ["proxy", "upstreams", _, "sites", s]:
			return JobRoute("Remove Site from Upstream", lambda p, r: proxy.remove_site(p, r, check_site(s), d))
		case "POST", ["proxy", "upstreams", _, "sites", s, "status"]:
			s = check_site(s)
			return JobRoute("Update Site Status", lambda p, r: proxy.update_status(p, r, s, bench_of(s), d))
		case "POST", ["proxy", "upstreams", _, "sites", s, "rename"]:
			s = check_site(s)
			return JobRoute("Rename Site on Upstream", lambda p, r: proxy.rename_site(p, r, s, bench_of(s), d))
		case "POST", ["proxy", "hosts"]:
			target = check_site(d.get("target"))
			key = (d.get("certificate") or {}).get("privkey.pem")
			return JobRoute("Add Host to Proxy", lambda p, r: proxy.add_host(p, r, d, bench_of(target)),
				(key,) if key else ())
		case "DELETE", ["proxy", "hosts", h]:
			return JobRoute("Remove Host from Proxy", lambda p, r: proxy.remove_host(p, r, h))
		case "POST", ["proxy", "wildcards"]:
			return JobRoute("Add Wildcard Hosts to Proxy", lambda p, r: proxy.add_wildcards(p, r, data))
		case "POST", ["proxy", "reload"]:
			return JobRoute("Reload NGINX Job", lambda p, r: proxy.reload(p, r))
		case "POST", ["ssh", "users"]:
			return JobRoute("Add User to Proxy", lambda p, r: proxy.ssh_user(p, r, adding=True))
		case "DELETE", ["ssh", "users", _]:
			return JobRoute("Remove User from Proxy", lambda p, r: proxy.ssh_user(p, r, adding=False))
	raise NotSupported(f"the local executor does not run {method} {path} yet")


def answer(platform: Platform, method: str, path: str, data: dict | None) -> object:
	"""The answer to a synchronous call, as the agent gives it."""
	parts = _parts(path)
	match method, parts:
		case "GET", ["ping"]:
			return {"message": "pong"}
		case "GET", ["version"]:
			return {"commit": f"press_selfhosted-{__version__}", "status": "local executor", "python": None}
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


def _parts(path: str) -> list[str]:
	"""The path's segments; Press sometimes writes a leading slash. `..` and empty segments
	are refused: a name never escapes its place."""
	parts = path.strip().strip("/").split("/")
	if any(p in ("", ".", "..") or re.search(r"[\s\\]", p) for p in parts):
		raise NotSupported(f"not an agent path: {path!r}")
	return parts
