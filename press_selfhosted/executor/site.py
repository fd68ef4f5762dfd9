"""Sites on a bench: Press's New Site, Reinstall Site, Update Site Configuration, Rename Site,
Migrate Site, Install App on Site, Clear Cache, Activate and Deactivate Site and Create User
(backups, restores and Archive Site are backup.py's), and the site's answers Press asks for
synchronously (apps, info, status, sid). Every command runs in the bench's container as argv;
passwords are masked wherever a step shows a command."""

from __future__ import annotations

import json
import re

from press_selfhosted.exceptions import StepFailed, ValidationError
from press_selfhosted.executor import container, database, quota
from press_selfhosted.executor.bench import container_name, site_names
from press_selfhosted.executor.container import BENCH_DIR
from press_selfhosted.executor.job_types import (
	body, check_app, check_bench, check_site, flag, job_type, names, nothing_to_do, obj, text,
)
from press_selfhosted.executor.jobs import Recorder
from press_selfhosted.executor.platform import Platform

# What a job that makes a site with its database takes from Press as secrets.
DATABASE_SECRETS = ("mariadb_root_password", "admin_password")
CONFIG_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,139}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def check_apps(request: dict) -> list[str]:
	return names(request, "apps", check_app) or ["frappe"]


def check_create_user(user: object) -> dict | None:
	"""Press's create_user: the site's first System Manager, or None."""
	if not user:
		return None
	if not isinstance(user, dict):
		raise ValidationError("create_user must be an object")
	email = user.get("email")
	if not isinstance(email, str) or len(email) > 254 or not EMAIL.match(email):
		raise ValidationError(f"create_user.email is not an address: {email!r}")
	return {"email": email, **{key: text(user, key, limit=140) for key in ("first_name", "last_name", "password")}}


def check_new_site(request: object, bench: str) -> dict:
	request = body(request)
	return {"bench": bench, "site": check_site(request.get("name")), "apps": check_apps(request),
		"config": obj(request, "config"), "user": check_create_user(request.get("create_user")),
		"root_password": required_secret(request, "mariadb_root_password"),
		"admin_password": required_secret(request, "admin_password")}


def temporary_user(platform: Platform, rec: Recorder, root_password: str):
	"""A temporary root-like user for one command of the job, named after the job."""
	return database.temporary_user(platform.database, root_password, database.temporary_prefix(platform.owner, rec.job.id))


def undo_temporary_users(platform: Platform, job, *, root_password: str, **_) -> list[str]:
	"""What a job whose worker died mid-command leaves of its own: its temporary users."""
	return database.drop_temporary_users(platform.database, root_password, database.temporary_prefix(platform.owner, job.id))


def undo_new_site(platform: Platform, job, *, bench: str, site: str, root_password: str, **_) -> list[str]:
	"""A site whose making was cut short goes: its database, user and directory, and the route
	and name Press's Add Site to Upstream may have given it meanwhile (a site Press leaves
	Broken), once the job had begun making it (not before: the site may be another's, which the
	job would have refused)."""
	removed = undo_temporary_users(platform, job, root_password=root_password)
	if any(step.name == "New Site" for step in job.steps):
		removed += remove(platform, bench, site, root_password)
		if platform.proxy.remove_site(site):
			removed.append(f"route {site}")
		if platform.dns and platform.dns.remove(site):
			removed.append(f"name {site} on PowerDNS")
	return removed


@job_type("New Site", "POST", "benches/{bench}/sites", check=check_new_site, undo=undo_new_site,
	secrets=(*DATABASE_SECRETS, "create_user/password"),
	steps=("New Site", "Install Apps", "Update Site Configuration", "Enable Scheduler", "Create User",
		"Bench Setup NGINX", "Reload NGINX"))
def new_site(platform: Platform, rec: Recorder, *, bench: str, site: str, apps: list[str], config: dict,
		user: dict | None, root_password: str, admin_password: str) -> dict:
	platform.check_in_zone(site)
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
			_create_user(platform, name, site, user, step)
		nothing_to_do(rec, "Bench Setup NGINX", "Reload NGINX")
	except BaseException:
		# Nothing half-made: the site's database, its user and its directory go.
		remove(platform, bench, site, root_password)
		raise
	return {}


def make_site(platform: Platform, rec: Recorder, step, bench: str, site: str, root_password: str, admin_password: str) -> None:
	"""`bench new-site` on the bench, as a temporary root-like user that is dropped after."""
	name, db = container_name(platform, bench), database.database_name(site)
	with temporary_user(platform, rec, root_password) as (user, password), step.timed("bench new-site"):
		rec.add_secret(password)
		container.run(platform.engine, name, [
			# --option=value: a generated password may begin with "-".
			"bench", "new-site", site, f"--db-name={db}", f"--mariadb-root-username={user}",
			f"--mariadb-root-password={password}", "--mariadb-user-host-login-scope=%",
			f"--admin-password={admin_password}",
		], step, timeout=1800)


def check_database_secrets(request: object, bench: str, site: str) -> dict:
	request = body(request)
	return {"bench": bench, "site": site, "root_password": required_secret(request, "mariadb_root_password"),
		"admin_password": required_secret(request, "admin_password")}


@job_type("Reinstall Site", "POST", "benches/{bench}/sites/{site}/reinstall", check=check_database_secrets,
	undo=undo_temporary_users,
	secrets=DATABASE_SECRETS, steps=("Reinstall Site",))
def reinstall(platform: Platform, rec: Recorder, *, bench: str, site: str, root_password: str, admin_password: str) -> dict:
	"""Reinstall Site: the site's database made anew, as the agent does (`bench reinstall`)."""
	name = container_name(platform, bench)
	with rec.step("Reinstall Site") as step, temporary_user(platform, rec, root_password) as (user, password):
		rec.add_secret(password)
		container.run(platform.engine, name, ["bench", "--site", site, "reinstall", "--yes",
			f"--mariadb-root-username={user}", f"--mariadb-root-password={password}",
			f"--admin-password={admin_password}"], step, timeout=3600)
	return {}


def uninstall_app(platform: Platform, rec: Recorder, bench: str, site: str, app: str) -> None:
	with rec.step("Uninstall App from Site") as step:
		container.run(platform.engine, container_name(platform, bench),
			["bench", "--site", site, "uninstall-app", app, "--no-backup", "--yes", "--force"], step, timeout=3600)


def update_config(platform: Platform, bench: str, site: str, config: dict, remove: list, step) -> dict:
	name = container_name(platform, bench)
	path = f"{BENCH_DIR}/sites/{site}/site_config.json"
	current = container.read_json(platform.engine, name, path)
	if not current:
		raise StepFailed(f"site {site} has no site_config.json on bench {bench}")
	merged = {k: v for k, v in {**current, **config}.items() if k not in set(remove)}
	container.write_files(platform.engine, name, {path: json.dumps(merged, indent=1, sort_keys=True) + "\n"}, step)
	return merged


def check_config_keys(key: object) -> str:
	if not isinstance(key, str) or not CONFIG_KEY.match(key):
		raise ValidationError(f"a site config key is a name, got {key!r}")
	return key


@job_type("Update Site Configuration", "POST", "benches/{bench}/sites/{site}/config", steps=("Update Site Configuration",),
	check=lambda request, bench, site: {"bench": bench, "site": site, "config": obj(body(request), "config"),
		"remove": names(request, "remove", check_config_keys)})
def update_site_configuration(platform: Platform, rec: Recorder, *, bench: str, site: str, config: dict,
		remove: list[str]) -> dict:
	with rec.step("Update Site Configuration") as step:
		update_config(platform, bench, site, config, remove, step)
	return {}


# A site's custom domains, as Press's agent keeps them: the `domains` list of its site config.
# Reaching the site by the domain is the proxy's job (Add Domain to Upstream, Add Host to Proxy:
# Traefik routes the name with the site's name for Frappe), so nginx has nothing to set up here.
DOMAIN_STEPS = ("Update Site Configuration", "Bench Setup NGINX", "Reload NGINX")


@job_type("Add Domain", "POST", "benches/{bench}/sites/{site}/domains", steps=DOMAIN_STEPS,
	check=lambda request, bench, site: {"bench": bench, "site": site, "domain": check_site(body(request).get("domain"))})
def add_domain(platform: Platform, rec: Recorder, *, bench: str, site: str, domain: str) -> dict:
	return _change_domains(platform, rec, bench, site, add=domain)


@job_type("Remove Domain", "DELETE", "benches/{bench}/sites/{site}/domains/{domain}", steps=DOMAIN_STEPS)
def remove_domain(platform: Platform, rec: Recorder, *, bench: str, site: str, domain: str) -> dict:
	return _change_domains(platform, rec, bench, site, remove=domain)


def _change_domains(platform: Platform, rec: Recorder, bench: str, site: str, *, add: str | None = None,
		remove: str | None = None) -> dict:
	with rec.step("Update Site Configuration") as step:
		domains = _site_config(platform, container_name(platform, bench), bench, site).get("domains") or []
		changed = [d for d in domains if d != remove] + ([add] if add and add not in domains else [])
		update_config(platform, bench, site, {"domains": changed}, [], step)
		step.say(f"domains of {site}: {', '.join(changed) or 'none'}")
	nothing_to_do(rec, "Bench Setup NGINX", "Reload NGINX")
	return {}


def check_rename(request: object, bench: str, site: str) -> dict:
	request = body(request)
	return {"bench": bench, "site": site, "new": check_site(request.get("new_name")), "config": obj(request, "config"),
		"user": check_create_user(request.get("create_user"))}


@job_type("Rename Site", "POST", "benches/{bench}/sites/{site}/rename", check=check_rename,
	secrets=("create_user/password",),
	steps=("Enable Maintenance Mode", "Wait for Enqueued Jobs", "Update Site Configuration", "Rename Site",
		"Bench Setup NGINX", "Reload NGINX", "Disable Maintenance Mode", "Enable Scheduler", "Create User"))
def rename_site(platform: Platform, rec: Recorder, *, bench: str, site: str, new: str, config: dict,
		user: dict | None) -> dict:
	name = container_name(platform, bench)
	if new in site_names(platform, bench):
		raise ValidationError(f"site {new} already exists on bench {bench}")
	with rec.step("Enable Maintenance Mode") as step:
		update_config(platform, bench, site, {"maintenance_mode": 1}, [], step)
	nothing_to_do(rec, "Wait for Enqueued Jobs")
	with rec.step("Update Site Configuration") as step:
		update_config(platform, bench, site, config, [], step)
	with rec.step("Rename Site") as step:
		container.run(platform.engine, name, ["mv", f"{BENCH_DIR}/sites/{site}", f"{BENCH_DIR}/sites/{new}"], step)
	nothing_to_do(rec, "Bench Setup NGINX", "Reload NGINX")
	with rec.step("Disable Maintenance Mode") as step:
		update_config(platform, bench, new, {}, ["maintenance_mode"], step)
	with rec.step("Enable Scheduler") as step:
		container.run(platform.engine, name, ["bench", "--site", new, "scheduler", "enable"], step)
	with rec.step("Create User") as step:
		_create_user(platform, name, new, user, step)
	return {}


@job_type("Migrate Site", "POST", "benches/{bench}/sites/{site}/migrate", steps=("Migrate Site",),
	check=lambda request, bench, site: {"bench": bench, "site": site,
		"skip_failing_patches": flag(body(request), "skip_failing_patches")})
def migrate(platform: Platform, rec: Recorder, *, bench: str, site: str, skip_failing_patches: bool) -> dict:
	name = container_name(platform, bench)
	with rec.step("Migrate Site") as step:
		argv = ["bench", "--site", site, "migrate"]
		if skip_failing_patches:
			argv.append("--skip-failing")
		container.run(platform.engine, name, argv, step, timeout=3600)
	return {}


@job_type("Install App on Site", "POST", "benches/{bench}/sites/{site}/apps", steps=("Install App on Site",),
	check=lambda request, bench, site: {"bench": bench, "site": site, "app": check_app(body(request).get("name"))})
def install_app(platform: Platform, rec: Recorder, *, bench: str, site: str, app: str) -> dict:
	name = container_name(platform, bench)
	with rec.step("Install App on Site") as step:
		container.run(platform.engine, name, ["bench", "--site", site, "install-app", app], step, timeout=3600)
	return {}


@job_type("Clear Cache", "DELETE", "benches/{bench}/sites/{site}/cache", steps=("Clear Cache", "Clear Website Cache"))
def clear_cache(platform: Platform, rec: Recorder, *, bench: str, site: str) -> dict:
	name = container_name(platform, bench)
	with rec.step("Clear Cache") as step:
		container.run(platform.engine, name, ["bench", "--site", site, "clear-cache"], step)
	with rec.step("Clear Website Cache") as step:
		container.run(platform.engine, name, ["bench", "--site", site, "clear-website-cache"], step)
	return {}


# Activate Site and Deactivate Site: the site's own maintenance mode (Traefik's maintenance
# page is the proxy's Update Site Status).
@job_type("Activate Site", "POST", "benches/{bench}/sites/{site}/activate", steps=("Disable Maintenance Mode",))
def activate(platform: Platform, rec: Recorder, *, bench: str, site: str) -> dict:
	with rec.step("Disable Maintenance Mode") as step:
		update_config(platform, bench, site, {"maintenance_mode": 0}, [], step)
	return {}


@job_type("Deactivate Site", "POST", "benches/{bench}/sites/{site}/deactivate",
	steps=("Enable Maintenance Mode", "Wait for Enqueued Jobs"))
def deactivate(platform: Platform, rec: Recorder, *, bench: str, site: str) -> dict:
	with rec.step("Enable Maintenance Mode") as step:
		update_config(platform, bench, site, {"maintenance_mode": 1}, [], step)
	nothing_to_do(rec, "Wait for Enqueued Jobs")
	return {}


@job_type("Create User", "POST", "benches/{bench}/sites/{site}/create-user", secrets=("password",), steps=("Create User",),
	check=lambda request, bench, site: {"bench": bench, "site": site, "user": check_create_user(body(request))})
def create_user(platform: Platform, rec: Recorder, *, bench: str, site: str, user: dict | None) -> dict:
	with rec.step("Create User") as step:
		_create_user(platform, container_name(platform, bench), site, user, step)
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
	config = _site_config(platform, name, bench, site)
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
	config = _site_config(platform, name, bench, site)
	return {"web": platform.engine.inspect(name).running, "scheduler": not config.get("pause_scheduler"),
		"maintenance_mode": bool(config.get("maintenance_mode"))}


def remove(platform: Platform, bench: str, site: str, root_password: str) -> list[str]:
	"""Removes the site's database, its user and its directory. The database is the one its
	config names (a renamed site keeps the one it was made with)."""
	name = container_name(platform, bench)
	# No config: the site's `bench new-site` failed early, with the database name given it here.
	config = container.read_json(platform.engine, name, f"{BENCH_DIR}/sites/{site}/site_config.json") or {}
	db = config.get("db_name") or database.database_name(site)
	removed = database.remove_site_database(platform.database, root_password, db)
	if site in site_names(platform, bench) or _exists(platform, name, site):
		container.run(platform.engine, name, ["rm", "-rf", "--", f"{BENCH_DIR}/sites/{site}"], None)
		removed.append(f"directory sites/{site}")
	return removed


def _site_config(platform: Platform, name: str, bench: str, site: str) -> dict:
	config = container.read_json(platform.engine, name, f"{BENCH_DIR}/sites/{site}/site_config.json")
	if config is None:
		raise ValidationError(f"site {site} is not on bench {bench}")
	return config


def _exists(platform: Platform, name: str, site: str) -> bool:
	return platform.engine.exec(name, ["test", "-e", f"{BENCH_DIR}/sites/{site}"], user="frappe").exit_code == 0


def _create_user(platform: Platform, name: str, site: str, user: dict | None, step) -> None:
	if not user:
		step.say("no user requested")
		return
	argv = ["bench", "--site", site, "add-system-manager", user["email"]]
	for key, option in (("first_name", "--first-name"), ("last_name", "--last-name"), ("password", "--password")):
		if user.get(key):
			argv.append(f"{option}={user[key]}")  # --option=value: a value may begin with "-"
	container.run(platform.engine, name, argv, step)


def required_secret(request: dict, key: str) -> str:
	return text(request, key, required=True)
