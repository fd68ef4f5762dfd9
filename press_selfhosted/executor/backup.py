"""A site's backups and restores: Press's Backup Site (and the backup Archive Site and Uninstall
App from Site take first), Restore Site and New Site from Backup.

A backup is `bench backup` in the bench's container; each file then leaves the container
through the engine (a remote engine's volumes are not on this host) into a private folder
here, and goes up through the core's multipart uploader to `<path>/<file>` on the store, as the
agent puts it. The job's data is what Press's callback reads into Site Backup and Remote File:
`{"backups": {kind: {file, path, size, url}}, "offsite": {file: key}}`. A restore takes the
download links Press sends (presigned URLs of the same store), fetches each through the core's
downloader, which checks the SHA-256 recorded at upload, and only then restores.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from press_selfhosted.exceptions import StepFailed, StorageError, StorageUnreachable, ValidationError
from press_selfhosted.executor import container, quota, site as sites
from press_selfhosted.executor.bench import container_name, site_names
from press_selfhosted.executor.container import BENCH_DIR
from press_selfhosted.executor.job_types import body, check_site, flag, job_type, nothing_to_do, obj, text
from press_selfhosted.executor.jobs import Recorder, StepLog
from press_selfhosted.executor.platform import Platform
from press_selfhosted.storage import Store, TenantPrefix

# Each kind of backup file and the endings Frappe gives it (encrypted ones too). Private files
# come before public: "-private-files.tar" also ends in "files.tar".
KINDS = (
	("database", ("database.sql.gz", "database-enc.sql.gz")),
	("site_config", ("site_config_backup.json", "site_config_backup-enc.json")),
	("private", ("private-files.tar", "private-files-enc.tar")),
	("public", ("files.tar", "files-enc.tar")),
)
# Each part's tries in the uploader (its backoff reaches 10 s a try).
UPLOAD_ATTEMPTS = 8
# An open multipart upload of a site's backups this old is a leftover, not a running backup.
LEFTOVER_AGE = timedelta(hours=6)
# The bench's user in Press's images: restored files must be theirs.
BENCH_UID = 1000
# A bucket's name, as S3 stores allow them.
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}$")
# The steps of a backup, and what of a request that asks for one is secret.
BACKUP_STEPS = ("Backup Site", "Upload Site Backup to S3")
OFFSITE_SECRETS = ("offsite/auth/SECRET_KEY",)
# The folder each backup job stages its files in (Cleanup Unused Files finds dead jobs' by it).
WORK_PREFIX = "press-selfhosted-backup-"


def backups_dir(site: str) -> str:
	return f"{BENCH_DIR}/sites/{site}/private/backups"


@dataclass(frozen=True)
class Offsite:
	"""Where Press asks a backup to go: the bucket, the key prefix (`<site>/<date>`) and, for a
	store other than the platform's, how to reach it."""

	bucket: str
	path: str
	endpoint: str | None
	access_key: str | None
	secret_key: str | None = field(repr=False)
	region: str | None = None

	@classmethod
	def of(cls, request: dict) -> Offsite | None:
		offsite = request.get("offsite")
		if not offsite:
			return None
		if not isinstance(offsite, dict) or not isinstance(offsite.get("bucket"), str) or not BUCKET.match(offsite["bucket"]):
			raise ValidationError("offsite must name a bucket")
		path = offsite.get("path")
		if not isinstance(path, str):
			raise ValidationError("offsite.path must be the backup's key prefix, <site>/<date>")
		TenantPrefix(path)  # no "..", no leading "/"
		auth = obj(offsite, "auth")
		values = {key: text(auth, key) for key in ("ENDPOINT_URL", "ACCESS_KEY", "SECRET_KEY", "REGION")}
		if values["ENDPOINT_URL"]:
			check_link("offsite.auth.ENDPOINT_URL", values["ENDPOINT_URL"])
		return cls(offsite["bucket"], path.strip("/"), *values.values())

	def store(self, platform: Platform) -> Store:
		"""The platform's store (Selfhosted Settings) for the bucket, else the one the request
		names."""
		if platform.store:
			return platform.store(self.bucket)
		if not (self.endpoint and self.access_key and self.secret_key):
			raise ValidationError("offsite.auth needs ENDPOINT_URL, ACCESS_KEY and SECRET_KEY: no platform store is set")
		return Store(self.endpoint, self.bucket, access_key=self.access_key, secret_key=self.secret_key,
			region=self.region or "us-east-1")


def check_backup(request: object, bench: str, site: str) -> dict:
	request = body(request)
	offsite = Offsite.of(request)
	keep = flag(request, "keep_files_locally_after_offsite_backup")
	return {"bench": bench, "site": site, "offsite": offsite, "with_files": flag(request, "with_files"),
		"keep": keep or offsite is None}


@job_type("Backup Site", "POST", "benches/{bench}/sites/{site}/backup", check=check_backup, secrets=OFFSITE_SECRETS,
	steps=BACKUP_STEPS)
def backup_site(platform: Platform, rec: Recorder, *, bench: str, site: str, offsite: Offsite | None, with_files: bool,
		keep: bool) -> dict:
	return take_and_upload(platform, rec, bench, site, offsite, with_files=with_files, keep=keep)


def take_and_upload(platform: Platform, rec: Recorder, bench: str, site: str, offsite: Offsite | None, *,
		with_files: bool, keep: bool, enforce_quota: bool = True) -> dict:
	"""The steps "Backup Site" and "Upload Site Backup to S3"; Press's `data` of a backup.
	Without `enforce_quota` the site's quota is not enforced (an archive's final backup)."""
	with rec.step("Backup Site") as step:
		if enforce_quota:
			quota.check(platform, site, 0)
		files = take(platform, bench, site, with_files, step)
	with rec.step("Upload Site Backup to S3") as step:
		uploaded = upload(platform, bench, site, files, offsite, keep, step, enforce_quota=enforce_quota) if offsite else {}
		if not offsite:
			step.say("no offsite backup asked for: the files stay in the site's private/backups")
	return {"backups": files, "offsite": uploaded}


def take(platform: Platform, bench: str, site: str, with_files: bool, step: StepLog) -> dict:
	"""`bench backup` in the container; the newest file of each kind, as the agent lists them."""
	name = container_name(platform, bench)
	argv = ["bench", "--site", site, "backup", "--verbose"]
	if with_files:
		argv.insert(4, "--with-files")
	with step.timed("bench backup"):
		container.run(platform.engine, name, argv, step, timeout=7200)
	listing = container.run(platform.engine, name, ["find", backups_dir(site), "-maxdepth", "1", "-type", "f",
		"-printf", r"%T@ %s %f\n"], None)
	newest: dict[str, tuple[float, int, str]] = {}
	for line in listing.splitlines():
		moment, size, file = line.split(" ", 2)
		kind = kind_of(file)
		if kind and (kind not in newest or float(moment) > newest[kind][0]):
			newest[kind] = (float(moment), int(size), file)
	wanted = [kind for kind, _ in KINDS if with_files or kind in ("database", "site_config")]
	missing = [kind for kind in wanted if kind not in newest]
	if missing:
		raise StepFailed(f"bench backup left no {', '.join(missing)} file in {backups_dir(site)}")
	return {kind: {"file": newest[kind][2], "path": f"{backups_dir(site)}/{newest[kind][2]}", "size": newest[kind][1],
		"url": f"https://{site}/backups/{newest[kind][2]}"} for kind in wanted}


def kind_of(file: str) -> str | None:
	for kind, endings in KINDS:
		if file.endswith(endings):
			return kind
	return None


def upload(platform: Platform, bench: str, site: str, files: dict, offsite: Offsite, keep: bool, step: StepLog, *,
		enforce_quota: bool = True) -> dict:
	"""Each file to `<path>/<file>`: {file: key}. All of them or none: a failure deletes what
	this backup uploaded, and the uploader aborts its own multipart upload, so no half object
	or open upload stays on the store. The local copies go unless `keep`."""
	store = offsite.store(platform)
	name = container_name(platform, bench)
	patient = Patience(platform.store_patience, step)
	try:
		patient(f"looking for unfinished uploads of {site}", lambda: _abort_leftovers(store, site, step))
		if enforce_quota:
			quota.check(platform, site, sum(f["size"] for f in files.values()))
		uploaded: dict[str, str] = {}
		with _private_dir() as here:
			try:
				for kind, f in files.items():
					key = f"{offsite.path}/{f['file']}"
					local = os.path.join(here, f["file"])
					with step.timed(f"{kind}: out of the container"):
						_, sha = platform.engine.copy_from(name, f["path"], local)  # hashed on the way
					with step.timed(f"{kind}: upload"):
						info = patient(key, lambda: store.upload_file(local, key, attempts=UPLOAD_ATTEMPTS, sha256=sha,
							progress=lambda done, total, kind=kind: step.progress(kind, done, total)))
					os.remove(local)
					uploaded[f["file"]] = key
					step.say(f"{f['file']}: {f['size']} bytes to {store.bucket}/{key} (sha256 {info['sha256']})")
			except BaseException:
				# The store may be back by now: what this backup uploaded goes, patiently.
				Patience(platform.store_patience, step)(f"deleting {len(uploaded)} objects",
					lambda: _delete(store, list(uploaded.values()), step))
				raise
		return uploaded
	finally:
		if not keep:
			container.run(platform.engine, name, ["rm", "-f", "--", *(f["path"] for f in files.values())], None)


def _abort_leftovers(store: Store, site: str, step: StepLog) -> None:
	"""Multipart uploads of this site's backups that a store outage kept from being aborted.
	Only old ones: a younger one may be another backup of the site, still running."""
	now = datetime.now(timezone.utc)
	for key, upload_id, initiated in store.pending_uploads(f"{site}/"):
		try:
			age = now - datetime.fromisoformat(initiated.replace("Z", "+00:00"))
		except ValueError:
			continue
		if age > LEFTOVER_AGE:
			store.abort_upload(key, upload_id)
			step.say(f"aborted an unfinished upload of {key} left by an earlier backup")


def _delete(store: Store, keys: list[str], step: StepLog) -> None:
	if keys:
		store.delete_keys(keys)
		step.say(f"deleted what this backup had uploaded: {', '.join(keys)}")


class Patience:
	"""Calls again what failed because the store did not answer (an outage, a restart), until
	`seconds` have passed since the first failure; then raises StorageUnreachable saying so.
	The uploader's own retries ride out a few seconds; this rides out a store's restart."""

	def __init__(self, seconds: float, step: StepLog):
		self.seconds, self.step, self.since = seconds, step, None

	def __call__(self, what: str, call):
		while True:
			try:
				return call()
			except StorageError as e:
				if type(e) not in (StorageUnreachable, StorageError):
					raise  # refused, missing, over quota: waiting changes nothing
				self.since = self.since or time.monotonic()
				if time.monotonic() - self.since > self.seconds:
					raise StorageUnreachable(f"the store did not answer for {self.seconds:.0f} s ({what}): {e}") from None
				self.step.say(f"{what}: the store did not answer ({e}); trying again")
				time.sleep(2.0)


@contextmanager
def _private_dir() -> Iterator[str]:
	here = tempfile.mkdtemp(prefix=WORK_PREFIX)  # mode 0700
	try:
		yield here
	finally:
		shutil.rmtree(here, ignore_errors=True)


def check_archive(request: object, bench: str, site: str) -> dict:
	request = body(request)
	return {"bench": bench, "site": site, "root_password": sites.required_secret(request, "mariadb_root_password"),
		"offsite": Offsite.of(request)}


@job_type("Archive Site", "POST", "benches/{bench}/sites/{site}/archive", check=check_archive,
	secrets=("mariadb_root_password", *OFFSITE_SECRETS),
	steps=(*BACKUP_STEPS, "Archive Site", "Bench Setup NGINX", "Reload NGINX"))
def archive_site(platform: Platform, rec: Recorder, *, bench: str, site: str, root_password: str,
		offsite: Offsite | None) -> dict:
	present = site in site_names(platform, bench)
	if offsite and present:
		# Press asks for a final backup: the site is removed only once it is on the store. A
		# full quota does not keep a site from being archived.
		take_and_upload(platform, rec, bench, site, offsite, with_files=True, keep=False, enforce_quota=False)
	else:
		# A site that is not on the bench (one Press left Broken, whose making was undone) has
		# nothing to back up; what may be left of it elsewhere still goes below.
		with rec.step("Backup Site") as step:
			step.say("no final backup asked for (Press sends offsite when it wants one)" if present
				else f"{site} is not on bench {bench}: nothing to back up")
		with rec.step("Upload Site Backup to S3") as step:
			step.say("nothing to upload")
	with rec.step("Archive Site") as step:
		for removed in sites.remove(platform, bench, site, root_password):
			step.say(f"removed {removed}")
	nothing_to_do(rec, "Bench Setup NGINX", "Reload NGINX")
	return {}


@job_type("Uninstall App from Site", "DELETE", "benches/{bench}/sites/{site}/apps/{app}", secrets=OFFSITE_SECRETS,
	check=lambda request, bench, site, app: {"bench": bench, "site": site, "app": app, "offsite": Offsite.of(body(request))},
	steps=(*BACKUP_STEPS, "Uninstall App from Site"))
def uninstall_app(platform: Platform, rec: Recorder, *, bench: str, site: str, app: str, offsite: Offsite | None) -> dict:
	"""Uninstall App from Site: a backup to the store first when Press asks for one."""
	data = take_and_upload(platform, rec, bench, site, offsite, with_files=True, keep=False) if offsite else {}
	sites.uninstall_app(platform, rec, bench, site, app)
	return data


# Restores

RESTORE_KINDS = ("database", "public", "private")
# The steps both restores end with.
AFTER_RESTORE = ("Uninstall Unavailable Apps", "Migrate Site", "Set Administrator Password", "Enable Scheduler",
	"Bench Setup NGINX", "Reload NGINX")


def check_restore(request: object, bench: str, site: str) -> dict:
	request = body(request)
	config = request.get("sanitized_config_content")
	if config is not None and not isinstance(config, dict):
		raise ValidationError("sanitized_config_content must be an object")
	return {**sites.check_database_secrets(request, bench, site), "links": _links(request), "apps": sites.check_apps(request),
		"config": config, "skip_failing_patches": flag(request, "skip_failing_patches")}


# A restore cut short keeps the site as far as it got (the agent's does too): only the job's
# temporary users go.
@job_type("Restore Site", "POST", "benches/{bench}/sites/{site}/restore", check=check_restore,
	undo=sites.undo_temporary_users,
	secrets=sites.DATABASE_SECRETS,
	steps=("Download Backup Files", "Restore Site", "Restore Files", "Checksum of Downloaded Backup Files",
		"Delete Downloaded Backup Files", *AFTER_RESTORE))
def restore_site(platform: Platform, rec: Recorder, *, bench: str, site: str, root_password: str, admin_password: str,
		links: dict[str, str], apps: list[str], config: dict | None, skip_failing_patches: bool) -> dict:
	name = container_name(platform, bench)
	quota.check(platform, site, 0)
	with _private_dir() as here:
		with rec.step("Download Backup Files") as step:
			local = download(platform, links, here, step)
		with rec.step("Checksum of Downloaded Backup Files") as step:
			checksum(local, step)
		try:
			if "database" in local:
				with rec.step("Restore Site") as step:
					if config is not None:  # the backup's own config, as Press sanitized it
						sites.update_config(platform, bench, site, config, [], step)
					inside = _into_container(platform, name, site, local, step)
					restore_database(platform, rec, step, bench, site, root_password, admin_password, inside)
			else:
				with rec.step("Restore Files") as step:
					restore_files(platform, name, site, _into_container(platform, name, site, local, step), step)
		finally:
			with rec.step("Delete Downloaded Backup Files") as step:
				_remove_from_container(platform, name, site, step)
	if "database" in local:
		_after_restore(platform, rec, name, site, apps, admin_password, skip_failing_patches)
	return {"output": container.run(platform.engine, name, ["bench", "--site", site, "list-apps"], None)}


def check_new_site_from_backup(request: object, bench: str) -> dict:
	request = body(request)
	site = check_site(request.get("name"))
	links = _links(request)
	if "database" not in links:
		raise ValidationError("New Site from Backup needs the database backup's link")
	restored = request.get("site_config") or "{}"
	restored = _json(restored) if isinstance(restored, str) else restored
	if not isinstance(restored, dict):
		raise ValidationError("site_config must be an object, or one as JSON")
	return {**sites.check_database_secrets(request, bench, site), "links": links, "apps": sites.check_apps(request),
		"config": {**restored, **obj(request, "config")}, "skip_failing_patches": flag(request, "skip_failing_patches")}


@job_type("New Site from Backup", "POST", "benches/{bench}/sites/restore", check=check_new_site_from_backup,
	undo=sites.undo_new_site,
	secrets=sites.DATABASE_SECRETS,
	steps=("Download Backup Files", "New Site", "Update Site Configuration", "Restore Site", "Delete Downloaded Backup Files",
		*AFTER_RESTORE))
def new_site_from_backup(platform: Platform, rec: Recorder, *, bench: str, site: str, root_password: str,
		admin_password: str, links: dict[str, str], apps: list[str], config: dict, skip_failing_patches: bool) -> dict:
	platform.check_in_zone(site)
	name = container_name(platform, bench)
	if site in site_names(platform, bench):
		raise ValidationError(f"site {site} already exists on bench {bench}")
	quota.check(platform, site, 0)
	made = False
	try:
		with _private_dir() as here:
			with rec.step("Download Backup Files") as step:
				local = download(platform, links, here, step)
				checksum(local, step)
			with rec.step("New Site") as step:
				made = True
				sites.make_site(platform, rec, step, bench, site, root_password, admin_password)
			with rec.step("Update Site Configuration") as step:
				sites.update_config(platform, bench, site, config, [], step)
			try:
				with rec.step("Restore Site") as step:
					inside = _into_container(platform, name, site, local, step)
					restore_database(platform, rec, step, bench, site, root_password, admin_password, inside)
			finally:
				with rec.step("Delete Downloaded Backup Files") as step:
					_remove_from_container(platform, name, site, step)
		_after_restore(platform, rec, name, site, apps, admin_password, skip_failing_patches)
	except BaseException:
		if made:  # nothing half-made: the new site's database, user and directory go
			sites.remove(platform, bench, site, root_password)
		raise
	return {"output": container.run(platform.engine, name, ["bench", "--site", site, "list-apps"], None)}


def _links(request: dict) -> dict[str, str]:
	links = {}
	for kind in RESTORE_KINDS:
		link = request.get(kind)
		if link:
			links[kind] = check_link(kind, link)
	if not links:
		raise ValidationError("a restore needs at least one backup file's link (database, public or private)")
	return links


def check_link(what: str, link: object) -> str:
	"""An http(s) URL, whole (no space or NUL in it)."""
	if (not isinstance(link, str) or len(link) > 8192 or any(c.isspace() or c == "\x00" for c in link)
			or urllib.parse.urlsplit(link).scheme not in ("http", "https") or not urllib.parse.urlsplit(link).netloc):
		raise ValidationError(f"{what} must be an http(s) link, got {str(link)[:80]!r}")
	return link


def download(platform: Platform, links: dict[str, str], here: str, step: StepLog) -> dict[str, str]:
	"""Each link to a file in `here`: {kind: local path}. A link to the platform's store is
	fetched by key through the core's downloader, which checks the SHA-256 the uploader
	recorded; another store's link is fetched as it is."""
	local = {}
	for kind, link in links.items():
		bucket, key = _on_platform_store(platform, link)
		file = os.path.basename(key or urllib.parse.urlsplit(link).path) or kind
		path = os.path.join(here, f"{kind}-{file}")
		with step.timed(f"{kind}: download"):
			if key:
				info = platform.store(bucket).download_file(key, path, verify=True,
					progress=lambda done, total, kind=kind: step.progress(kind, done, total))
				checked = f"sha256 {info['sha256']} verified" if info.get("sha256") else "no checksum was recorded"
				step.say(f"{kind}: {bucket}/{key}, {info['size']} bytes, {checked}")
			else:
				_fetch(link, path)
				step.say(f"{kind}: {urllib.parse.urlsplit(link).netloc}, {os.path.getsize(path)} bytes")
		local[kind] = path
	return local


def _on_platform_store(platform: Platform, link: str) -> tuple[str, str | None]:
	"""(bucket, key) of a path-style link to the platform's store, or ("", None)."""
	if not (platform.store and platform.store_endpoint):
		return "", None
	url, base = urllib.parse.urlsplit(link), urllib.parse.urlsplit(platform.store_endpoint)
	if (url.scheme, url.netloc) != (base.scheme, base.netloc):
		return "", None
	bucket, _, key = urllib.parse.unquote(url.path[len(base.path.rstrip("/")):]).lstrip("/").partition("/")
	return (bucket, key) if bucket and key else ("", None)


def _fetch(link: str, path: str) -> None:
	partial = f"{path}.partial"
	try:
		with urllib.request.urlopen(link, timeout=60) as answer, open(partial, "wb") as out:
			shutil.copyfileobj(answer, out, 1 << 20)
		os.replace(partial, path)
	except OSError as e:
		if os.path.exists(partial):
			os.remove(partial)
		raise StepFailed(f"could not download {urllib.parse.urlsplit(link).netloc}{urllib.parse.urlsplit(link).path}: {e}") from None


def checksum(local: dict[str, str], step: StepLog) -> None:
	"""Each file's SHA-256, and that the database dump is whole gzip, before anything restores."""
	for kind, path in local.items():
		digest = hashlib.sha256()
		with open(path, "rb") as f:
			for chunk in iter(lambda: f.read(1 << 20), b""):
				digest.update(chunk)
		step.say(f"{kind}: {os.path.basename(path)} sha256 {digest.hexdigest()}")
		if kind == "database" and path.endswith(".gz"):
			try:
				with gzip.open(path, "rb") as f:
					while f.read(1 << 20):
						pass
			except (OSError, EOFError, zlib.error) as e:
				raise StepFailed(f"the database backup is not a whole gzip file ({e}): nothing was restored") from None


def _restore_dir(site: str) -> str:
	return f"{BENCH_DIR}/sites/{site}/private/restore"


def _into_container(platform: Platform, name: str, site: str, local: dict[str, str], step: StepLog) -> dict[str, str]:
	"""The downloaded files in the site's private/restore, as the bench's user: {kind: path there}."""
	folder = _restore_dir(site)
	container.run(platform.engine, name, ["mkdir", "-p", folder], None)
	inside = {}
	for kind, path in local.items():
		inside[kind] = f"{folder}/{os.path.basename(path)}"
		with step.timed(f"{kind}: into the container"):
			platform.engine.copy_to(name, path, inside[kind], uid=BENCH_UID, gid=BENCH_UID)
	return inside


def _remove_from_container(platform: Platform, name: str, site: str, step: StepLog) -> None:
	container.run(platform.engine, name, ["rm", "-rf", "--", _restore_dir(site)], None)
	step.say(f"removed {_restore_dir(site)}")


def restore_database(platform: Platform, rec: Recorder, step: StepLog, bench: str, site: str, root_password: str,
		admin_password: str, inside: dict[str, str]) -> None:
	name = container_name(platform, bench)
	with sites.temporary_user(platform, rec, root_password) as (user, password), step.timed("bench restore"):
		rec.add_secret(password)
		argv = ["bench", "--site", site, "--force", "restore", f"--mariadb-root-username={user}",
			f"--mariadb-root-password={password}", f"--admin-password={admin_password}"]
		if "public" in inside:
			argv.append(f"--with-public-files={inside['public']}")
		if "private" in inside:
			argv.append(f"--with-private-files={inside['private']}")
		container.run(platform.engine, name, [*argv, inside["database"]], step, timeout=7200)


def restore_files(platform: Platform, name: str, site: str, inside: dict[str, str], step: StepLog) -> None:
	"""Files only: each tarball replaces the site's files folder. Frappe's tarballs hold
	./<site>/<public|private>/files/…; GNU tar refuses absolute names and `..` in them."""
	for kind in ("public", "private"):
		if kind in inside:
			files = f"{BENCH_DIR}/sites/{site}/{kind}/files"
			container.run(platform.engine, name, ["rm", "-rf", "--", files], step)
			container.run(platform.engine, name, ["mkdir", "-p", files], step)
			container.run(platform.engine, name, ["tar", "-xf", inside[kind], "--no-same-owner", "--strip-components=2",
				"-C", f"{BENCH_DIR}/sites/{site}"], step, timeout=7200)


def _after_restore(platform: Platform, rec: Recorder, name: str, site: str, apps: list[str], admin_password: str,
		skip_failing_patches: bool) -> None:
	with rec.step("Uninstall Unavailable Apps") as step:
		installed = container.run(platform.engine, name, ["bench", "--site", site, "execute", "frappe.get_installed_apps"], step)
		for app in _json(installed.strip().splitlines()[-1] if installed.strip() else "[]"):
			if app not in apps:
				container.run(platform.engine, name, ["bench", "--site", site, "remove-from-installed-apps", app], step)
				container.run(platform.engine, name, ["bench", "--site", site, "clear-cache"], step)
	with rec.step("Migrate Site") as step:
		argv = ["bench", "--site", site, "migrate"] + (["--skip-failing"] if skip_failing_patches else [])
		container.run(platform.engine, name, argv, step, timeout=7200)
	with rec.step("Set Administrator Password") as step:
		container.run(platform.engine, name, ["bench", "--site", site, "set-admin-password", admin_password], step)
	with rec.step("Enable Scheduler") as step:
		container.run(platform.engine, name, ["bench", "--site", site, "scheduler", "enable"], step)
	nothing_to_do(rec, "Bench Setup NGINX", "Reload NGINX")


def _json(text: str):
	try:
		return json.loads(text)
	except ValueError:
		raise ValidationError(f"expected JSON, got {text[:80]!r}") from None
