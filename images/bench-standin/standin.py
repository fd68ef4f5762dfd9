"""STAND-IN for a Frappe bench, for tests where Frappe itself cannot be installed. It answers
the commands the local executor runs in a bench container (`bench new-site`, `install-app`,
`uninstall-app`, `list-apps`, `backup`, `restore`, `reinstall`, `drop-site`, `scheduler`,
`worker`, `schedule`), and stands in for gunicorn (the
web process, port 8000) and for Frappe's socketio (port 9000), so a site made on it is real
where the platform is concerned: its own MariaDB database and user, its directory and config,
and pages served for its name. It is not Frappe: it renders one login page, logs the
Administrator in with the site's password (Frappe's `login`) or a session Press made (`?sid=`),
gives that session the site's backups (`/backups/<file>`), and takes the two calls Press
makes on a product trial's site (the setup wizard's prefill, a document insert), writing each
to the site's `standin_calls.jsonl` so that a test sees what reached the site; in maintenance
mode it answers 503 to everything, as Frappe does; nothing else.

	standin.py bench ARGS...      (installed as `bench`)
	standin.py web ARGS...        (installed as the bench's env/bin/gunicorn)
	standin.py socketio           (installed as `node`, for apps/frappe/socketio.js)
"""

import argparse
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

BENCH = Path("/home/frappe/frappe-bench")
SITES = BENCH / "sites"
VERSION = "15.0.0-standin"


def common_config() -> dict:
	path = SITES / "common_site_config.json"
	return json.loads(path.read_text()) if path.exists() else {}


def site_config(site: str) -> dict:
	return json.loads((SITES / site / "site_config.json").read_text())


def write_json(path: Path, data: dict) -> None:
	tmp = path.with_name(f".{path.name}.tmp")
	tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
	tmp.replace(path)


def set_admin_password(site: str, password: str | None) -> None:
	"""Kept as its hash only, as Frappe keeps it (readable by the bench's user alone)."""
	if password:
		path = SITES / site / "standin_admin_password"
		path.write_text(hashlib.sha256(password.encode()).hexdigest())
		path.chmod(0o600)


def new_session(site: str) -> str:
	sid = os.urandom(16).hex()
	with open(SITES / site / "standin_sessions", "a") as f:
		f.write(sid + "\n")
	return sid


def sql(statements: str, user: str, password: str, database: str | None = None) -> str:
	"""Runs SQL through the MariaDB client; the password goes by environment, the SQL by stdin."""
	conf = common_config()
	argv = ["mariadb", "--batch", "--skip-column-names", "-h", str(conf.get("db_host", "127.0.0.1")),
		"-P", str(conf.get("db_port", 3306)), "-u", user]
	if database:
		argv.append(database)
	done = subprocess.run(argv, input=statements, capture_output=True, text=True, env={**os.environ, "MYSQL_PWD": password})
	if done.returncode:
		sys.exit(f"mariadb: {done.stderr.strip()}")
	return done.stdout


def installed_apps(site: str) -> list[str]:
	conf = site_config(site)
	rows = sql("SELECT app FROM standin_apps ORDER BY id;", conf["db_name"], conf["db_password"], conf["db_name"])
	return rows.split()


def new_site(args) -> None:
	if (SITES / args.site).exists() and not args.force:
		sys.exit(f"Site {args.site} already exists")
	db, password = args.db_name, os.urandom(8).hex()
	scope = args.mariadb_user_host_login_scope or "%"
	sql(f"CREATE DATABASE `{db}`; CREATE USER '{db}'@'{scope}' IDENTIFIED BY '{password}';"
		f" GRANT ALL PRIVILEGES ON `{db}`.* TO '{db}'@'{scope}'; FLUSH PRIVILEGES;",
		args.mariadb_root_username, args.mariadb_root_password)
	# The site's own user makes its tables: proof the database is the site's.
	sql("CREATE TABLE standin_apps (id INT AUTO_INCREMENT PRIMARY KEY, app VARCHAR(140) UNIQUE);"
		" INSERT INTO standin_apps (app) VALUES ('frappe');", db, password, db)
	for sub in ("public/files", "private/files", "private/backups", "logs"):
		(SITES / args.site / sub).mkdir(parents=True, exist_ok=True)
	write_json(SITES / args.site / "site_config.json", {"db_name": db, "db_password": password, "db_type": "mariadb"})
	set_admin_password(args.site, args.admin_password)
	print(f"*** Site {args.site} created (stand-in) ***")


def drop_site(args) -> None:
	conf = site_config(args.site)
	db = conf["db_name"]
	sql(f"DROP DATABASE IF EXISTS `{db}`; DROP USER IF EXISTS '{db}'@'%'; FLUSH PRIVILEGES;",
		args.root_login, args.root_password)
	archived = BENCH / "archived" / "sites"
	archived.mkdir(parents=True, exist_ok=True)
	shutil.move(str(SITES / args.site), str(archived / f"{args.site}-{int(time.time())}"))
	print(f"Dropped {args.site}")


def dump_command(conf: dict) -> list[str]:
	common = common_config()
	return ["mariadb-dump", "--single-transaction", "-h", str(common.get("db_host", "127.0.0.1")),
		"-P", str(common.get("db_port", 3306)), "-u", conf["db_name"], conf["db_name"]]


def backup(site: str, args: list[str]) -> None:
	"""Frappe's file names and kinds: <stamp>-<site_slug>-database.sql.gz, -site_config_backup.json
	and, with --with-files, -files.tar and -private-files.tar (each files/ folder, tarred)."""
	conf = site_config(site)
	folder = SITES / site / "private" / "backups"
	folder.mkdir(parents=True, exist_ok=True)
	prefix = folder / f"{time.strftime('%Y%m%d_%H%M%S')}-{site.replace('.', '_')}"
	with open(f"{prefix}-database.sql.gz", "wb") as out:
		dump = subprocess.Popen(dump_command(conf), stdout=subprocess.PIPE, env={**os.environ, "MYSQL_PWD": conf["db_password"]})
		gzip = subprocess.run(["gzip", "-c"], stdin=dump.stdout, stdout=out)
		if dump.wait() or gzip.returncode:
			sys.exit("mariadb-dump failed")
	shutil.copyfile(SITES / site / "site_config.json", f"{prefix}-site_config_backup.json")
	if "--with-files" in args:
		# As Frappe lays them out: ./<site>/<public|private>/files/…
		for kind, name in (("public", "files"), ("private", "private-files")):
			subprocess.run(["tar", "-cf", f"{prefix}-{name}.tar", "-C", str(SITES), f"./{site}/{kind}/files"], check=True)
	print(f"Backup for site {site} taken (stand-in): {prefix.name}")


def restore(site: str, args: list[str]) -> None:
	p = argparse.ArgumentParser(prog="bench restore")
	p.add_argument("database")
	p.add_argument("--mariadb-root-username", default="root")
	p.add_argument("--mariadb-root-password", required=True)
	p.add_argument("--admin-password")
	p.add_argument("--with-public-files")
	p.add_argument("--with-private-files")
	a = p.parse_args(args)
	conf = site_config(site)
	db = conf["db_name"]
	# The site's database made anew from the dump, as the root-like user Press's agent passes.
	sql(f"DROP DATABASE IF EXISTS `{db}`; CREATE DATABASE `{db}`;", a.mariadb_root_username, a.mariadb_root_password)
	# Frappe tells a gzipped dump from plain SQL with `file`, so the image must have it (a restore
	# on an image without it fails here, as it would in Frappe).
	kind = subprocess.run(["file", "--brief", "--mime-type", a.database], capture_output=True, text=True, check=True)
	with open(a.database, "rb") as dump:
		raw = dump.read()
	if kind.stdout.strip() in ("application/gzip", "application/x-gzip"):
		raw = subprocess.run(["gzip", "-dc"], input=raw, capture_output=True, check=True).stdout
	sql(raw.decode(), a.mariadb_root_username, a.mariadb_root_password, db)
	for kind, tarball in (("public", a.with_public_files), ("private", a.with_private_files)):
		if tarball:
			shutil.rmtree(SITES / site / kind / "files", ignore_errors=True)
			subprocess.run(["tar", "-xf", tarball, "--no-same-owner", "--strip-components=2", "-C", str(SITES / site)],
				check=True)
	print(f"Site {site} has been restored (stand-in)")


def reinstall(site: str, args: list[str]) -> None:
	p = argparse.ArgumentParser(prog="bench reinstall")
	p.add_argument("--yes", action="store_true")
	p.add_argument("--mariadb-root-username", default="root")
	p.add_argument("--mariadb-root-password", required=True)
	p.add_argument("--admin-password")
	a = p.parse_args(args)
	db = site_config(site)["db_name"]
	sql(f"DROP DATABASE IF EXISTS `{db}`; CREATE DATABASE `{db}`;", a.mariadb_root_username, a.mariadb_root_password)
	sql("CREATE TABLE standin_apps (id INT AUTO_INCREMENT PRIMARY KEY, app VARCHAR(140) UNIQUE);"
		" INSERT INTO standin_apps (app) VALUES ('frappe');", a.mariadb_root_username, a.mariadb_root_password, db)
	set_admin_password(site, a.admin_password)
	print(f"Site {site} reinstalled (stand-in)")


def remove_app(site: str, app: str) -> None:
	if app == "frappe":
		sys.exit("frappe cannot be removed")
	conf = site_config(site)
	sql(f"DELETE FROM standin_apps WHERE app = '{app}';", conf["db_name"], conf["db_password"], conf["db_name"])
	print(f"{app} removed from {site} (stand-in)")


def on_site(site: str, rest: list[str]) -> None:
	if not (SITES / site / "site_config.json").exists():
		sys.exit(f"Site {site} does not exist")
	if rest[:1] == ["--force"]:  # bench's global option, before the command
		rest = rest[1:]
	command, *args = rest
	if command == "backup":
		backup(site, args)
	elif command == "restore":
		restore(site, args)
	elif command == "reinstall":
		reinstall(site, args)
	elif command in ("uninstall-app", "remove-from-installed-apps"):
		remove_app(site, args[0])
	elif command == "browse":
		# As Frappe's `browse --user Administrator`: a session, printed as a login URL.
		print(f"Login URL: http://{site}/app?sid={new_session(site)}")
	elif command == "set-admin-password":
		set_admin_password(site, args[0])
		print(f"Administrator password of {site} set (stand-in)")
	elif command == "install-app":
		app = args[0]
		if app not in (SITES / "apps.txt").read_text().split():
			sys.exit(f"App {app} not in apps.txt")
		conf = site_config(site)
		sql(f"INSERT IGNORE INTO standin_apps (app) VALUES ('{app}');", conf["db_name"], conf["db_password"], conf["db_name"])
		print(f"Installing {app}... done")
	elif command == "list-apps":
		for app in installed_apps(site):
			print(f"{app} {VERSION}")
	elif command == "execute" and args == ["frappe.get_installed_apps"]:
		print(json.dumps(installed_apps(site)))
	elif command == "scheduler" and args[:1] in (["enable"], ["disable"]):
		conf = site_config(site)
		conf["pause_scheduler"] = int(args[0] == "disable")
		write_json(SITES / site / "site_config.json", conf)
		print(f"Scheduler {args[0]}d for site {site}")
	elif command in ("migrate", "clear-cache", "clear-website-cache"):
		print(f"{command}: nothing to do (stand-in)")
	elif command == "add-system-manager":
		print(f"System Manager {args[0]} added (stand-in)")
	else:
		sys.exit(f"bench (stand-in): unsupported command {rest}")


def bench(argv: list[str]) -> None:
	if argv[:1] == ["--site"]:
		return on_site(argv[1], argv[2:])
	command, *rest = argv or ["help"]
	if command == "new-site":
		p = argparse.ArgumentParser(prog="bench new-site")
		p.add_argument("site")
		p.add_argument("--db-name", required=True)
		p.add_argument("--mariadb-root-username", default="root")
		p.add_argument("--mariadb-root-password", required=True)
		p.add_argument("--admin-password")
		p.add_argument("--mariadb-user-host-login-scope")
		p.add_argument("--force", action="store_true")
		return new_site(p.parse_args(rest))
	if command == "drop-site":
		p = argparse.ArgumentParser(prog="bench drop-site")
		p.add_argument("site")
		p.add_argument("--root-login", default="root")
		p.add_argument("--root-password", required=True)
		p.add_argument("--no-backup", action="store_true")
		p.add_argument("--force", action="store_true")
		return drop_site(p.parse_args(rest))
	if command == "version":
		return print(f"frappe {VERSION}")
	if command in ("worker", "schedule"):
		while True:  # a long-running process, as supervisord expects of these
			time.sleep(3600)
	sys.exit(f"bench (stand-in): unsupported command {argv}")


# What Press calls on a product trial's site, as Administrator: the setup wizard's prefill
# (Site.prefill_setup_wizard) and inserts through Frappe's REST API (its user-sync webhooks).
PREFILL = "/api/method/frappe.desk.page.setup_wizard.setup_wizard.initialize_system_settings_and_user"


class Site(http.server.BaseHTTPRequestHandler):
	def site(self) -> str | None:
		site = (self.headers.get("X-Frappe-Site-Name") or self.headers.get("Host", "")).split(":")[0]
		if not site or "/" in site or not (SITES / site / "site_config.json").exists():
			return None
		return site

	def do_POST(self) -> None:
		site = self.site()
		if not site:
			return self.reply(404, b"no such site", "text/plain")
		if site_config(site).get("maintenance_mode"):
			return self.updating()
		url = urlsplit(self.path)
		length = int(self.headers.get("Content-Length") or 0)
		form = {**parse_qs(url.query), **parse_qs(self.rfile.read(length).decode() if length else "")}
		form = {key: values[0] for key, values in form.items()}
		if url.path == "/api/method/login" or form.get("cmd") == "login":
			# Frappe's login: the Administrator, with the site's password.
			kept = SITES / site / "standin_admin_password"
			given = hashlib.sha256(form.get("pwd", "").encode()).hexdigest()
			if form.get("usr") != "Administrator" or not kept.exists() or kept.read_text() != given:
				return self.reply(401, b'{"message":"Invalid Login. Try again.","exc_type":"AuthenticationError"}',
					"application/json")
			return self.reply(200, b'{"message":"Logged In"}', "application/json",
				cookie=f"sid={new_session(site)}; Path=/; HttpOnly; Secure")
		if not self.logged_in(site):
			return self.reply(403, b'{"exc_type":"PermissionError"}', "application/json")
		if url.path == PREFILL:
			call = {"method": url.path.rsplit("/", 1)[1], "system_settings_data": json.loads(form["system_settings_data"]),
				"user_data": json.loads(form["user_data"])}
		elif url.path.startswith("/api/resource/") and "data" in form:
			call = {"insert": url.path.rsplit("/", 1)[1], "doc": json.loads(form["data"])}
			if self.inserted(site, call):  # as Frappe refuses a second document of the same name
				error = f"frappe.exceptions.DuplicateEntryError: {call['insert']} {call['doc'].get('name')}"
				return self.reply(409, json.dumps({"exc_type": "DuplicateEntryError", "exc": json.dumps([error])}).encode(),
					"application/json")
		else:
			return self.reply(404, b'{"exc_type":"DoesNotExistError"}', "application/json")
		with open(SITES / site / "standin_calls.jsonl", "a") as f:
			f.write(json.dumps(call) + "\n")
		answer = {"data": call["doc"]} if "doc" in call else {"message": None}  # as Frappe's REST API and its methods answer
		return self.reply(200, json.dumps(answer).encode(), "application/json")

	def inserted(self, site: str, call: dict) -> bool:
		calls = SITES / site / "standin_calls.jsonl"
		named = (call["insert"], call["doc"].get("name"))
		return calls.exists() and any((c.get("insert"), c.get("doc", {}).get("name")) == named
			for c in map(json.loads, calls.read_text().splitlines()))

	def logged_in(self, site: str) -> bool:
		cookie = self.headers.get("Cookie", "")
		sid = next((part.split("=", 1)[1] for part in cookie.split("; ") if part.startswith("sid=")), "")
		sid = sid or self.path.partition("sid=")[2].split("&")[0]
		sessions = SITES / site / "standin_sessions"
		return bool(sid) and sessions.exists() and sid in sessions.read_text().split()

	def do_GET(self) -> None:
		path = self.path.split("?", 1)[0]
		if path.startswith("/assets/"):
			file = (SITES / path.lstrip("/")).resolve()
			if file.is_file() and str(file).startswith(str(SITES / "assets")):
				return self.reply(200, file.read_bytes(), "text/css" if file.suffix == ".css" else "application/octet-stream")
			return self.reply(404, b"not found", "text/plain")
		site = self.site()
		if not site:
			return self.reply(404, b"no such site", "text/plain")
		if site_config(site).get("maintenance_mode"):
			return self.updating()
		if path == "/api/method/ping":
			return self.reply(200, b'{"message":"pong"}', "application/json")
		if path == "/app":
			if self.logged_in(site):
				# A session given in the query (Press's login links) becomes the cookie, as in Frappe.
				sid = parse_qs(urlsplit(self.path).query).get("sid", [""])[0]
				return self.reply(200, f"<h1>Desk of {site}</h1><p>Administrator</p>".encode(), "text/html",
					cookie=f"sid={sid}; Path=/; HttpOnly; Secure" if sid else None)
			return self.reply(403, b"not logged in", "text/plain")
		if path.startswith("/backups/"):
			# Frappe's download_backup: the site's backups, to its System Managers only.
			if not self.logged_in(site):
				return self.reply(403, b"You need to be logged in and have System Manager Role to be able to access backups.",
					"text/plain")
			file = SITES / site / "private" / "backups" / path.removeprefix("/backups/")
			if "/" in path.removeprefix("/backups/") or not file.is_file():
				return self.reply(404, b"not found", "text/plain")
			return self.reply(200, file.read_bytes(), "application/octet-stream",
				headers={"Content-Disposition": f'attachment; filename="{file.name}"'})
		page = (f"<!DOCTYPE html><html><head><title>Login</title><link rel=stylesheet href=/assets/frappe/standin.css>"
			f"</head><body><h1>Login to {site}</h1><p>bench stand-in {VERSION}</p></body></html>")
		return self.reply(200, page.encode(), "text/html")

	def updating(self) -> None:
		"""What Frappe answers to every request while the site is in maintenance mode."""
		self.reply(503, b"<!DOCTYPE html><html><head><title>Updating</title></head><body><h1>Updating</h1>"
			b"<p>The system is being updated. Please refresh again after a few moments.</p></body></html>", "text/html")

	def reply(self, status: int, body: bytes, kind: str, cookie: str | None = None, headers: dict | None = None) -> None:
		self.send_response(status)
		self.send_header("Content-Type", kind)
		if cookie:
			self.send_header("Set-Cookie", cookie)
		for key, value in (headers or {}).items():
			self.send_header(key, value)
		self.send_header("Content-Length", str(len(body)))
		self.end_headers()
		self.wfile.write(body)

	def log_message(self, *args) -> None:
		pass


class SocketIo(Site):
	def do_GET(self) -> None:
		if self.path.startswith("/socket.io/"):
			return self.reply(200, b'{"socketio":"stand-in"}', "application/json")
		return self.reply(404, b"not found", "text/plain")


def serve(handler, port: int) -> None:
	http.server.ThreadingHTTPServer(("0.0.0.0", port), handler).serve_forever()


def main() -> None:
	role, argv = sys.argv[1], sys.argv[2:]
	if role == "bench":
		bench(argv)
	elif role == "web":
		p = argparse.ArgumentParser(prog="gunicorn")
		p.add_argument("-b", "--bind", default="0.0.0.0:8000")
		p.add_argument("--chdir")
		p.add_argument("-w", "--workers")
		p.add_argument("-t", "--timeout")
		p.add_argument("--preload", action="store_true")
		p.add_argument("app", nargs="?")
		serve(Site, int(p.parse_known_args(argv)[0].bind.rsplit(":", 1)[1]))
	elif role == "socketio":
		serve(SocketIo, 9000)
	else:
		sys.exit(f"unknown role {role}")


if __name__ == "__main__":
	main()
