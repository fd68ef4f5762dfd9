"""Backups and restores through the local executor, on the real services of `make test`: the
stand-in bench on Podman, Docker and a remote (mTLS) Docker, the platform MariaDB, and Garage
as the platform's store. Each job is Press's request, checked as Press's callbacks read it
(Site Backup and Remote File from `data`, the restored apps from `output`)."""

import json
from datetime import timedelta

import pytest
from test_executor import ADMIN_PASSWORD, new_site_request, running_bench, steps, world  # noqa: F401 (fixtures)

from press_selfhosted.executor import bench as benches
from press_selfhosted.executor import database
from press_selfhosted.executor.backup import backups_dir
from press_selfhosted.executor.jobs import FAILURE, SUCCESS
from press_selfhosted.executor.routes import declared

STEPS = declared()
from press_selfhosted.storage import Store

SITES = "/home/frappe/frappe-bench/sites"
DAY = "2026-12-02"


def offsite(w, site: str, **auth) -> dict:
	"""Press's offsite block (agent.py `_get_offsite_backup_config`)."""
	return {"bucket": w.bucket, "path": f"{site}/{DAY}", "auth": {"ACCESS_KEY": w.credentials["access_key"],
		"SECRET_KEY": w.credentials["secret_key"], "REGION": w.credentials["region"], "PROVIDER": "AWS",
		"ENDPOINT_URL": w.s3, **auth}}


def in_bench(w, *argv: str) -> str:
	result = w.engine.exec(benches.container_name(w.platform, w.bench), list(argv), user="frappe")
	assert result.exit_code == 0, result.stderr
	return result.stdout


def make_site(w, name: str, apps=("frappe",)) -> str:
	site = f"{name}.{w.zone}"
	job = w.job("POST", f"benches/{w.bench}/sites", new_site_request(w, site, apps))
	assert job.status == SUCCESS, job.to_agent()
	return site


def restore_request(w, data: dict, apps) -> dict:
	"""Press sends each Remote File's download link: a presigned GET of the store."""
	links = {kind: w.store_for(w.bucket).presign_get(key) for kind, key in data.items()}
	return {"apps": list(apps), "mariadb_root_password": w.root_password, "admin_password": ADMIN_PASSWORD,
		"skip_failing_patches": False, "sanitized_config_content": None, **links}


@pytest.fixture(scope="module")
def backed_up(world, running_bench):
	"""A site with an app, a public and a private file, backed up with files to the store."""
	w = world
	site = make_site(w, "origin", apps=("frappe", "standin_app"))
	in_bench(w, "sh", "-c", f"echo public-{w.tag} > {SITES}/{site}/public/files/logo.txt")
	in_bench(w, "sh", "-c", f"echo private-{w.tag} > {SITES}/{site}/private/files/contract.txt")
	job = w.job("POST", f"benches/{w.bench}/sites/{site}/backup",
		{"with_files": True, "offsite": offsite(w, site), "keep_files_locally_after_offsite_backup": False})
	assert job.status == SUCCESS, job.to_agent()
	return site, job


def test_a_backup_goes_to_the_store_in_the_shape_press_reads(world, backed_up):
	w, (site, job) = world, backed_up
	assert steps(job) == [(n, "Success") for n in STEPS["Backup Site"].steps]
	data = job.to_agent()["data"]
	assert set(data["backups"]) == {"database", "site_config", "public", "private"}
	store = w.store_for(w.bucket)
	for kind, backup in data["backups"].items():
		key = data["offsite"][backup["file"]]
		assert key == f"{site}/{DAY}/{backup['file']}"
		head = store.head(key)
		# Whole objects, of the size Press records, with the checksum the uploader recorded.
		assert head["size"] == backup["size"] > 0 and len(head["sha256"]) == 64
		assert backup["url"] == f"https://{site}/backups/{backup['file']}"
		assert backup["path"] == f"{backups_dir(site)}/{backup['file']}"
	assert data["backups"]["database"]["file"].endswith("-database.sql.gz")
	assert data["backups"]["private"]["file"].endswith("-private-files.tar")
	assert store.pending_uploads(f"{site}/") == []
	# The local copies are gone (the setting says not to keep them), and no secret is shown.
	assert in_bench(w, "ls", "-A", backups_dir(site)) == ""
	assert w.credentials["secret_key"] not in json.dumps(job.to_agent())
	upload_step = job.to_agent()["steps"][1]
	assert upload_step["data"]["progress"]["database"]["done"] == data["backups"]["database"]["size"]


def test_a_backup_restores_into_another_site_with_checksums_checked(world, backed_up):
	w, (origin, job) = world, backed_up
	data = job.to_agent()["data"]
	target = make_site(w, "target")
	keys = {kind: data["offsite"][b["file"]] for kind, b in data["backups"].items() if kind != "site_config"}
	restored = w.job("POST", f"benches/{w.bench}/sites/{target}/restore", restore_request(w, keys, ["frappe", "standin_app"]))
	assert restored.status == SUCCESS, restored.to_agent()
	# Press's steps, by name; the checksums are checked before anything is restored.
	assert steps(restored) == [(n, "Success") for n in ("Download Backup Files", "Checksum of Downloaded Backup Files",
		"Restore Site", "Delete Downloaded Backup Files", "Uninstall Unavailable Apps", "Migrate Site",
		"Set Administrator Password", "Enable Scheduler", "Bench Setup NGINX", "Reload NGINX")]
	assert {n for n, _ in steps(restored)} < set(STEPS["Restore Site"].steps)
	agent = restored.to_agent()
	# Press's process_restore_job_update reads the apps from the output's first words.
	assert [line.split()[0] for line in agent["data"]["output"].splitlines()] == ["frappe", "standin_app"]
	download = agent["steps"][0]["data"]["output"]
	assert download.count("verified") == 3
	assert in_bench(w, "cat", f"{SITES}/{target}/public/files/logo.txt").strip() == f"public-{w.tag}"
	assert in_bench(w, "cat", f"{SITES}/{target}/private/files/contract.txt").strip() == f"private-{w.tag}"
	assert in_bench(w, "ls", f"{SITES}/{target}/private") .split() == ["backups", "files"]  # no restore folder left
	assert database.temporary_users(w.platform.database, w.root_password) == []
	assert ADMIN_PASSWORD not in json.dumps(agent) and w.root_password not in json.dumps(agent)


def test_a_damaged_backup_is_refused_before_anything_is_restored(world, backed_up):
	w = world
	target = make_site(w, "intact", apps=("frappe", "standin_app"))
	store = w.store_for(w.bucket)
	store.put_bytes(f"{target}/{DAY}/broken-database.sql.gz", b"\x1f\x8b\x08\x00 not really gzip")
	job = w.job("POST", f"benches/{w.bench}/sites/{target}/restore",
		restore_request(w, {"database": f"{target}/{DAY}/broken-database.sql.gz"}, ["frappe"]))
	assert job.status == FAILURE
	assert steps(job)[-1] == ("Checksum of Downloaded Backup Files", "Failure")
	assert "not a whole gzip file" in job.to_agent()["data"]["output"]
	apps = json.loads(in_bench(w, "bench", "--site", target, "execute", "frappe.get_installed_apps"))
	assert apps == ["frappe", "standin_app"]  # the site is as it was


def test_a_new_site_from_a_backup_keeps_only_the_apps_the_bench_has(world, backed_up):
	w, (origin, job) = world, backed_up
	data = job.to_agent()["data"]
	site = f"copy.{w.zone}"
	keys = {kind: data["offsite"][b["file"]] for kind, b in data["backups"].items() if kind != "site_config"}
	request = {**restore_request(w, keys, ["frappe"]), "name": site, "config": {"host_name": f"https://{site}"},
		"site_config": json.dumps({"x_restored": 1}), "managed_database_config": {}}
	made = w.job("POST", f"benches/{w.bench}/sites/restore", request)
	assert made.status == SUCCESS, made.to_agent()
	assert steps(made) == [(n, "Success") for n in STEPS["New Site from Backup"].steps]
	assert made.to_agent()["data"]["output"].split()[0::2] == ["frappe"]  # standin_app was removed
	config = json.loads(in_bench(w, "cat", f"{SITES}/{site}/site_config.json"))
	assert config["x_restored"] == 1 and config["host_name"] == f"https://{site}"
	assert in_bench(w, "cat", f"{SITES}/{site}/public/files/logo.txt").strip() == f"public-{w.tag}"

	# A link that gives nothing: the job fails and no site is left half-made.
	broken = {**request, "name": f"nothing.{w.zone}", "database": w.store_for(w.bucket).presign_get("no/such/key.sql.gz")}
	failed = w.job("POST", f"benches/{w.bench}/sites/restore", broken)
	assert failed.status == FAILURE and steps(failed) == [("Download Backup Files", "Failure")]
	assert f"nothing.{w.zone}" not in benches.site_names(w.platform, w.bench)
	assert database.site_database_exists(w.platform.database, w.root_password,
		database.database_name(f"nothing.{w.zone}")) == (False, False)


def test_uninstall_and_archive_take_their_backup_first(world, running_bench):
	w = world
	site = make_site(w, "leaving", apps=("frappe", "standin_app"))
	job = w.job("DELETE", f"benches/{w.bench}/sites/{site}/apps/standin_app", {"offsite": offsite(w, site)})
	assert job.status == SUCCESS, job.to_agent()
	assert steps(job) == [(n, "Success") for n in STEPS["Uninstall App from Site"].steps]
	assert set(job.data["backups"]) == {"database", "site_config", "public", "private"}
	assert json.loads(in_bench(w, "bench", "--site", site, "execute", "frappe.get_installed_apps")) == ["frappe"]

	# The final backup under a folder of its own: `bench backup` names files to the second, so
	# two backups in the same second (a fast engine) would share their keys.
	final_offsite = {**offsite(w, site), "path": f"{site}/final"}
	job = w.job("POST", f"benches/{w.bench}/sites/{site}/archive",
		{"mariadb_root_password": w.root_password, "force": False, "offsite": final_offsite})
	assert job.status == SUCCESS, job.to_agent()
	assert steps(job) == [(n, "Success") for n in STEPS["Archive Site"].steps]
	final = {key for key, _ in w.store_for(w.bucket).list(f"{site}/final/")}
	assert len(final) == 4 and any(key.endswith("-database.sql.gz") for key in final)
	assert site not in benches.site_names(w.platform, w.bench)


def test_reinstall_gives_the_site_a_fresh_database(world, running_bench):
	w = world
	site = make_site(w, "fresh", apps=("frappe", "standin_app"))
	job = w.job("POST", f"benches/{w.bench}/sites/{site}/reinstall",
		{"mariadb_root_password": w.root_password, "admin_password": ADMIN_PASSWORD, "managed_database_config": {}})
	assert job.status == SUCCESS, job.to_agent()
	assert steps(job) == [(n, "Success") for n in STEPS["Reinstall Site"].steps]
	assert json.loads(in_bench(w, "bench", "--site", site, "execute", "frappe.get_installed_apps")) == ["frappe"]
	assert database.temporary_users(w.platform.database, w.root_password) == []


def test_a_full_quota_refuses_backups_and_sites_and_makes_nothing(world, running_bench, monkeypatch):
	w = world
	site = make_site(w, "quota")
	store = w.store_for(w.bucket)
	store.put_bytes(f"{site}/files/big.bin", b"x" * 4096)
	monkeypatch.setattr(w.platform, "quota", lambda s: (store, f"{s}/", 4096) if s == site else None)
	before = store.list(f"{site}/")
	job = w.job("POST", f"benches/{w.bench}/sites/{site}/backup", {"with_files": True, "offsite": offsite(w, site)})
	assert job.status == FAILURE and steps(job) == [("Backup Site", "Failure")]
	output = job.to_agent()["data"]["output"]
	assert "4096 bytes of its 4096 bytes" in output and f"under {site}/" in output
	assert store.list(f"{site}/") == before and in_bench(w, "ls", "-A", backups_dir(site)) == ""
	# A new site whose Tenant Storage is already full (a name used before) is refused too.
	again = f"quota-again.{w.zone}"
	store.put_bytes(f"{again}/files/big.bin", b"x" * 4096)
	monkeypatch.setattr(w.platform, "quota", lambda s: (store, f"{s}/", 4096) if s in (site, again) else None)
	job = w.job("POST", f"benches/{w.bench}/sites", new_site_request(w, again))
	assert job.status == FAILURE and job.steps == [] and "4096 bytes of its 4096 bytes" in job.to_agent()["data"]["output"]
	assert again not in benches.site_names(w.platform, w.bench)
	assert database.site_database_exists(w.platform.database, w.root_password, database.database_name(again)) == (False, False)

	# Room for the backup's first files but not for all: refused before any upload.
	monkeypatch.setattr(w.platform, "quota", lambda s: (store, f"{s}/", 4096 + 10) if s == site else None)
	job = w.job("POST", f"benches/{w.bench}/sites/{site}/backup", {"with_files": True, "offsite": offsite(w, site)})
	assert job.status == FAILURE and steps(job)[-1] == ("Upload Site Backup to S3", "Failure")
	assert "would pass the quota" in job.to_agent()["data"]["output"]
	assert store.list(f"{site}/") == before and in_bench(w, "ls", "-A", backups_dir(site)) == ""


def test_a_backup_to_a_store_that_is_down_fails_clearly_and_the_next_one_succeeds(world, running_bench, monkeypatch):
	w = world
	site = make_site(w, "outage")
	dead = f"http://127.0.0.1:{_closed_port()}"
	real = w.platform.store
	w.platform.store, w.platform.store_patience = (lambda bucket: Store(dead, bucket, **w.credentials)), 3.0
	try:
		job = w.job("POST", f"benches/{w.bench}/sites/{site}/backup", {"with_files": True, "offsite": offsite(w, site)})
	finally:
		w.platform.store, w.platform.store_patience = real, 120.0
	assert job.status == FAILURE and steps(job)[-1] == ("Upload Site Backup to S3", "Failure")
	assert "the store did not answer for 3 s" in job.to_agent()["data"]["output"]
	assert in_bench(w, "ls", "-A", backups_dir(site)) == ""
	assert w.store_for(w.bucket).list(f"{site}/") == [] and w.store_for(w.bucket).pending_uploads(f"{site}/") == []
	# An open upload of the site's: a young one may be another backup still running and stays;
	# an old one is what an outage left, and the next backup aborts it.
	store = w.store_for(w.bucket)
	running = store.begin_multipart(f"{site}/other/running.tar")
	job = w.job("POST", f"benches/{w.bench}/sites/{site}/backup", {"with_files": True, "offsite": offsite(w, site)})
	assert job.status == SUCCESS, job.to_agent()
	assert len(store.list(f"{site}/")) == 4
	assert [u[1] for u in store.pending_uploads(f"{site}/")] == [running]
	monkeypatch.setattr("press_selfhosted.executor.backup.LEFTOVER_AGE", timedelta(0))
	job = w.job("POST", f"benches/{w.bench}/sites/{site}/backup", {"with_files": True, "offsite": offsite(w, site)})
	assert job.status == SUCCESS and store.pending_uploads(f"{site}/") == []
	assert "aborted an unfinished upload" in job.to_agent()["steps"][1]["data"]["output"]


def _closed_port() -> int:
	import socket

	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def test_bad_backup_requests_are_refused_before_anything_runs(world):
	from press_selfhosted.exceptions import ValidationError
	from press_selfhosted.executor import routes

	w = world
	site = f"any.{w.zone}"
	for method, path, data, match in (
		("POST", f"benches/{w.bench}/sites/{site}/backup", {"offsite": {"bucket": "b", "path": "../../etc"}}, "\\.\\."),
		("POST", f"benches/{w.bench}/sites/{site}/backup", {"offsite": {"path": "x/y"}}, "bucket"),
		("DELETE", f"benches/{w.bench}/sites/{site}/apps/x;rm", {}, "app name"),
		("POST", f"benches/{w.bench}/sites/restore", {"name": "bad name"}, "characters other than"),
		("POST", f"benches/{w.bench}/sites/{site}/restore", {"mariadb_root_password": "x", "admin_password": "y",
			"database": "file:///etc/passwd"}, "http\\(s\\) link"),
	):
		with pytest.raises(ValidationError, match=match):
			routes.job(method, path, data)
