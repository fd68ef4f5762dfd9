"""Sites on a bench: Press's New Site, Update Site Configuration, Archive Site and Rename
Site, and the site's answers Press asks for synchronously (apps, info). Every command runs in
the bench's container as argv; passwords are masked wherever a step shows a command."""

from __future__ import annotations

import json
import re

from press_selfhosted.exceptions import ValidationError
from press_selfhosted.executor import container, database, quota
from press_selfhosted.executor.bench import container_name, site_names
from press_selfhosted.executor.container import BENCH_DIR
from press_selfhosted.executor.jobs import Recorder
from press_selfhosted.executor.platform import TRAEFIK_RELOADS, Platform, check_app, check_bench
from press_selfhosted.names import check_site

NOTE_NGINX = "no nginx: the site's route is Traefik's, written by the proxy's job"


def check_new_site(bench: str, request: dict) -> tuple[str, str, list[str], dict]:
	"""(bench, site, apps, config) of a New Site request, or ValidationError."""
	bench, site = check_bench(bench), check_site(request.get("name"))
	apps = request.get("apps") or ["frappe"]
	if not isinstance(apps, list):
		raise ValidationError(f"apps must be a list, got {type(apps).__name__}")
	apps = [check_app(app) for app in apps]
	required_secret(request, "mariadb_root_password")
	required_secret(request, "admin_password")
	return bench, site, apps, config_of(request.get("config"))


def new_site(platform: Platform, rec: Recorder, bench: str, request: dict) -> dict:
	bench, site, apps, config = check_new_site(bench, request)
	platform.check_in_zone(site)
	root_password = required_secret(request, "mariadb_root_password")
	admin_password = required_secret(request, "admin_password")
	name = container_name(platform, bench)
	if site in site_names(platform, bench):
		raise ValidationError(f"site {site} already exists on bench {bench}")
	quota.check(platform, site, 0)
	try:
		with rec.step("New Site") as step:
			make_site(platform, rec, step, bench, site, root_password, admin_password)
		with rec.step("Install Apps") as step:
			for app in apps:
				if app != "frappe":
					container.run(platform.engine, name, ["bench", "--site", site, "install-app", app], step, timeout=1800)
			step.say(f"installed: {', '.join(apps)}")
		with rec.step("Update Site Configuration") as step:
			update_config(platform, bench, site, config, [], step)
		with rec.step("Enable Scheduler") as step:
			container.run(platform.engine, name, ["bench", "--site", site, "scheduler", "enable"], step)
		with rec.step("Create User") as step:
			_create_user(platform, name, site, request.get("create_user"), step)
		with rec.step("Bench Setup NGINX") as step:
			step.say(NOTE_NGINX)
		with rec.step("Reload NGINX") as step:
			step.say(TRAEFIK_RELOADS)
	except BaseException:
		# Nothing half-made: the site's database, its user and its directory go.
		remove(platform, bench, site, root_password)
		raise
	return {}


def make_site(platform: Platform, rec: Recorder, step, bench: str, site: str, root_password: str, admin_password: str) -> None:
	"""`bench new-site` on the bench, as a temporary root-like user that is dropped after."""
	name, db = container_name(platform, bench), database.database_name(site)
	with database.temporary_user(platform.database, root_password) as (user, password), step.timed("bench new-site"):
		rec.add_secret(password)
		container.run(platform.engine, name, [
			# --option=value: a generated password may begin with "-".
			"bench", "new-site", site, f"--db-name={db}", f"--mariadb-root-username={user}",
			f"--mariadb-root-password={password}", "--mariadb-user-host-login-scope=%",
			f"--admin-password={admin_password}",
		], step, timeout=1800)


def reinstall(platform: Platform, rec: Recorder, bench: str, site: str, request: dict) -> dict:
	"""Reinstall Site: the site's database made anew, as the agent does (`bench reinstall`)."""
	bench, site = check_bench(bench), check_site(site)
	root_password, admin_password = required_secret(request, "mariadb_root_password"), required_secret(request, "admin_password")
	name = container_name(platform, bench)
	with rec.step("Reinstall Site") as step, database.temporary_user(platform.database, root_password) as (user, password):
		rec.add_secret(password)
		container.run(platform.engine, name, ["bench", "--site", site, "reinstall", "--yes",
			f"--mariadb-root-username={user}", f"--mariadb-root-password={password}",
			f"--admin-password={admin_password}"], step, timeout=3600)
	return {}


def uninstall_app(platform: Platform, rec: Recorder, bench: str, site: str, app: str) -> None:
	with rec.step("Uninstall App from Site") as step:
		container.run(platform.engine, container_name(platform, check_bench(bench)),
			["bench", "--site", check_site(site), "uninstall-app", check_app(app), "--no-backup", "--yes", "--force"],
			step, timeout=3600)


def update_config(platform: Platform, bench: str, site: str, config: dict, remove: list, step) -> dict:
	name = container_name(platform, check_bench(bench))
	path = f"{BENCH_DIR}/sites/{check_site(site)}/site_config.json"
	current = container.read_json(platform.engine, name, path)
	if not current:
		raise ValidationError(f"site {site} has no site_config.json on bench {bench}")
	merged = {k: v for k, v in {**current, **config_of(config)}.items() if k not in set(remove or [])}
	container.write_files(platform.engine, name, {path: json.dumps(merged, indent=1, sort_keys=True) + "\n"}, step)
	return merged


def update_site_configuration(platform: Platform, rec: Recorder, bench: str, site: str, request: dict) -> dict:
	with rec.step("Update Site Configuration") as step:
		update_config(platform, bench, site, request.get("config") or {}, request.get("remove") or [], step)
	return {}


def rename_site(platform: Platform, rec: Recorder, bench: str, site: str, request: dict) -> dict:
	bench, site, new = check_bench(bench), check_site(site), check_site(request.get("new_name"))
	name = container_name(platform, bench)
	if new in site_names(platform, bench):
		raise ValidationError(f"site {new} already exists on bench {bench}")
	with rec.step("Enable Maintenance Mode") as step:
		update_config(platform, bench, site, {"maintenance_mode": 1}, [], step)
	with rec.step("Wait for Enqueued Jobs") as step:
		step.say("the site's queue is the bench's own; renaming moves the site directory only")
	with rec.step("Update Site Configuration") as step:
		update_config(platform, bench, site, request.get("config") or {}, [], step)
	with rec.step("Rename Site") as step:
		container.run(platform.engine, name, ["mv", f"{BENCH_DIR}/sites/{site}", f"{BENCH_DIR}/sites/{new}"], step)
	with rec.step("Bench Setup NGINX") as step:
		step.say(NOTE_NGINX)
	with rec.step("Reload NGINX") as step:
		step.say(TRAEFIK_RELOADS)
	with rec.step("Disable Maintenance Mode") as step:
		update_config(platform, bench, new, {}, ["maintenance_mode"], step)
	with rec.step("Enable Scheduler") as step:
		container.run(platform.engine, name, ["bench", "--site", new, "scheduler", "enable"], step)
	with rec.step("Create User") as step:
		_create_user(platform, name, new, request.get("create_user"), step)
	return {}


def migrate(platform: Platform, rec: Recorder, bench: str, site: str, request: dict) -> dict:
	name = container_name(platform, check_bench(bench))
	site = check_site(site)
	with rec.step("Migrate Site") as step:
		argv = ["bench", "--site", site, "migrate"]
		if request.get("skip_failing_patches"):
			argv.append("--skip-failing")
		container.run(platform.engine, name, argv, step, timeout=3600)
	return {}


def install_app(platform: Platform, rec: Recorder, bench: str, site: str, request: dict) -> dict:
	name, site, app = container_name(platform, check_bench(bench)), check_site(site), check_app(request.get("name"))
	with rec.step("Install App on Site") as step:
		container.run(platform.engine, name, ["bench", "--site", site, "install-app", app], step, timeout=3600)
	return {}


def clear_cache(platform: Platform, rec: Recorder, bench: str, site: str) -> dict:
	name, site = container_name(platform, check_bench(bench)), check_site(site)
	with rec.step("Clear Cache") as step:
		container.run(platform.engine, name, ["bench", "--site", site, "clear-cache"], step)
	with rec.step("Clear Website Cache") as step:
		container.run(platform.engine, name, ["bench", "--site", site, "clear-website-cache"], step)
	return {}


def set_active(platform: Platform, rec: Recorder, bench: str, site: str, active: bool) -> dict:
	"""Activate Site / Deactivate Site: the site's own maintenance mode (Traefik's maintenance
	page is the proxy's Update Site Status)."""
	bench, site = check_bench(bench), check_site(site)
	if active:
		with rec.step("Disable Maintenance Mode") as step:
			update_config(platform, bench, site, {"maintenance_mode": 0}, [], step)
		return {}
	with rec.step("Enable Maintenance Mode") as step:
		update_config(platform, bench, site, {"maintenance_mode": 1}, [], step)
	with rec.step("Wait for Enqueued Jobs") as step:
		step.say("the site's queue is the bench's own; new requests get the maintenance page from now on")
	return {}


def create_user(platform: Platform, rec: Recorder, bench: str, site: str, request: dict) -> dict:
	name, site = container_name(platform, check_bench(bench)), check_site(site)
	with rec.step("Create User") as step:
		_create_user(platform, name, site, request, step)
	return {}


def installed_apps(platform: Platform, bench: str, site: str) -> str:
	"""`GET …/sites/<s>/apps`: the stdout of get_installed_apps (Press finds the list in it)."""
	return container.run(platform.engine, container_name(platform, check_bench(bench)),
		["bench", "--site", check_site(site), "execute", "frappe.get_installed_apps"], None)


def sid(platform: Platform, bench: str, site: str, user: str | None) -> dict:
	"""`GET|POST …/sites/<s>/sid`: a session of `user` (Administrator by default) on the site,
	for Press's Login as Administrator, made by Frappe's own `bench browse --user`."""
	user = user or "Administrator"
	if not isinstance(user, str) or not re.fullmatch(r"[^\s/\\]{1,140}", user):
		raise ValidationError(f"not a user: {user!r}")
	out = container.run(platform.engine, container_name(platform, check_bench(bench)),
		["bench", "--site", check_site(site), "browse", f"--user={user}"], None, timeout=120)
	found = re.search(r"[?&]sid=([A-Za-z0-9]+)", out)
	return {"sid": found.group(1) if found else None}


def site_info(platform: Platform, bench: str, site: str) -> dict:
	"""`GET …/sites/<s>/info`: the site's config (secrets left out) and its sizes in MB."""
	bench, site = check_bench(bench), check_site(site)
	name = container_name(platform, bench)
	config = container.read_json(platform.engine, name, f"{BENCH_DIR}/sites/{site}/site_config.json")
	sizes = {}
	for key, sub in (("public", "public"), ("private", "private"), ("backups", "private/backups")):
		out = container.run(platform.engine, name, ["du", "-sm", f"{BENCH_DIR}/sites/{site}/{sub}"], None)
		sizes[key] = int(out.split()[0]) if out.strip() else 0
	sizes["database"] = database.size_mb(platform.database, config["db_name"]) if config.get("db_name") else 0
	return {"config": {k: v for k, v in config.items() if "password" not in k}, "timezone": config.get("time_zone"),
		"usage": sizes}


def site_status(platform: Platform, bench: str, site: str) -> dict:
	"""`GET …/sites/<s>/status`: whether the bench's web answers and the scheduler is on."""
	bench, site = check_bench(bench), check_site(site)
	name = container_name(platform, bench)
	config = container.read_json(platform.engine, name, f"{BENCH_DIR}/sites/{site}/site_config.json")
	if not config:
		raise ValidationError(f"site {site} is not on bench {bench}")
	return {"web": platform.engine.inspect(name).running, "scheduler": not config.get("pause_scheduler"),
		"maintenance_mode": bool(config.get("maintenance_mode"))}


def remove(platform: Platform, bench: str, site: str, root_password: str) -> list[str]:
	"""Removes the site's database, its user and its directory. The database is the one its
	config names (a renamed site keeps the one it was made with)."""
	name = container_name(platform, bench)
	config = container.read_json(platform.engine, name, f"{BENCH_DIR}/sites/{site}/site_config.json")
	db = config.get("db_name") or database.database_name(site)
	removed = database.remove_site_database(platform.database, root_password, db)
	if site in site_names(platform, bench) or _exists(platform, name, site):
		container.run(platform.engine, name, ["rm", "-rf", "--", f"{BENCH_DIR}/sites/{site}"], None)
		removed.append(f"directory sites/{site}")
	return removed


def _exists(platform: Platform, name: str, site: str) -> bool:
	return platform.engine.exec(name, ["test", "-e", f"{BENCH_DIR}/sites/{site}"], user="frappe").exit_code == 0


def _create_user(platform: Platform, name: str, site: str, user: dict | None, step) -> None:
	if not user:
		step.say("no user requested")
		return
	email = user.get("email") if isinstance(user, dict) else None
	if not isinstance(email, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
		raise ValidationError(f"create_user.email is not an address: {email!r}")
	argv = ["bench", "--site", site, "add-system-manager", email]
	for key, flag in (("first_name", "--first-name"), ("last_name", "--last-name"), ("password", "--password")):
		if user.get(key):
			argv.append(f"{flag}={user[key]}")  # --option=value: a value may begin with "-"
	container.run(platform.engine, name, argv, step)


def config_of(value: object) -> dict:
	if value is None:
		return {}
	if not isinstance(value, dict):
		raise ValidationError(f"a site's config must be an object, got {type(value).__name__}")
	return value


def required_secret(request: dict, key: str) -> str:
	value = request.get(key)
	if not isinstance(value, str) or not value:
		raise ValidationError(f"{key} is required")
	return value
