"""Object storage's Python API against the real Garage that `make test` starts."""

import hashlib
import os
import threading
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta, timezone

import pytest
from conftest import service_env

from press_selfhosted import exceptions as exc
from press_selfhosted.storage import CancelToken, Store, TenantPrefix, expired_backups, tenant_space

@pytest.fixture
def store(credentials, request):
	name = f"py-{request.node.name[5:30].replace('_', '-').strip('-')}-{os.getpid()}"
	store = Store(service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"), name, **credentials)
	store.ensure_bucket()
	return store


def _file(path, mib):
	data = os.urandom(mib * 1024 * 1024)
	path.write_bytes(data)
	return hashlib.sha256(data).hexdigest()


def test_upload_download_round_trip_with_progress(store, tmp_path):
	sha = _file(tmp_path / "db.sql.gz", 20)
	seen = []
	info = store.upload_file(tmp_path / "db.sql.gz", "acme/db.sql.gz", progress=lambda d, t: seen.append((d, t)))
	assert info == {"key": "acme/db.sql.gz", "size": 20 << 20, "sha256": sha}
	assert seen[0] == (0, 20 << 20) and seen[-1] == (20 << 20, 20 << 20) and len(seen) >= 4
	assert store.head("acme/db.sql.gz")["sha256"] == sha
	store.download_file("acme/db.sql.gz", tmp_path / "back")
	assert hashlib.sha256((tmp_path / "back").read_bytes()).hexdigest() == sha
	assert store.pending_uploads() == []


def test_a_raising_progress_callback_cancels_and_leaves_nothing(store, tmp_path):
	_file(tmp_path / "f", 24)

	def progress(done, total):
		if done:
			raise KeyboardInterrupt("operator pressed ^C")

	with pytest.raises(KeyboardInterrupt):
		store.upload_file(tmp_path / "f", "acme/f", concurrency=1, progress=progress)
	assert store.pending_uploads() == []
	with pytest.raises(exc.ObjectNotFound):
		store.head("acme/f")


def test_cancel_from_another_thread(store, tmp_path):
	_file(tmp_path / "f", 32)
	token = CancelToken()
	first_part, cancelled = threading.Event(), threading.Event()
	errors = []

	def progress(done, total):
		if done:  # a part is up: hold the upload here until the other thread has cancelled
			first_part.set()
			cancelled.wait(10)

	def upload():
		try:
			store.upload_file(tmp_path / "f", "acme/f", concurrency=1, cancel=token, progress=progress)
		except exc.TransferCancelled as e:
			errors.append(e)

	worker = threading.Thread(target=upload)
	worker.start()
	assert first_part.wait(30)
	token.cancel()
	cancelled.set()
	worker.join(60)
	assert token.cancelled and len(errors) == 1
	assert store.pending_uploads() == []
	with pytest.raises(exc.ObjectNotFound):
		store.head("acme/f")


def test_small_and_empty_files_go_up_in_one_request(store, tmp_path):
	for size in (0, 1000):
		data = os.urandom(size)
		(tmp_path / "f").write_bytes(data)
		seen = []
		info = store.upload_file(tmp_path / "f", f"small/{size}", progress=lambda d, t: seen.append((d, t)))
		assert info["size"] == size and info["sha256"] == hashlib.sha256(data).hexdigest()
		assert seen == [(0, size), (size, size)]
		store.download_file(f"small/{size}", tmp_path / "back")
		assert (tmp_path / "back").read_bytes() == data
	with pytest.raises(exc.QuotaExceeded):
		store.upload_file(tmp_path / "f", "small/over", quota=("small/", 1500))


def test_presigned_urls_through_plain_http(store):
	store.put_bytes("acme/invoice.pdf", b"%PDF-1.7 ...")
	url = store.presign_get("acme/invoice.pdf", expires=60)
	assert urllib.request.urlopen(url, timeout=5).read() == b"%PDF-1.7 ..."
	with pytest.raises(urllib.error.HTTPError) as refused:
		urllib.request.urlopen(url.replace("invoice.pdf", "payroll.pdf"), timeout=5)
	assert refused.value.code == 403
	put = store.presign_put("acme/upload.bin", expires=60)
	urllib.request.urlopen(urllib.request.Request(put, data=b"browser bytes", method="PUT"), timeout=5)
	assert store.get_bytes("acme/upload.bin") == b"browser bytes"


def test_tenant_keys_cannot_escape(store):
	tenant = TenantPrefix("tenants/acme")
	assert tenant.key("backups/x") == "tenants/acme/backups/x" and tenant.prefix == "tenants/acme/"
	for bad in ["../globex/x", "/etc/passwd", "a/../../b", "a\x00b", ""]:
		with pytest.raises(exc.ValidationError):
			tenant.key(bad)
	with pytest.raises(exc.ValidationError):
		TenantPrefix("Tenants")


def test_quota_and_usage(store, tmp_path):
	store.put_bytes("q/a", b"x" * 1000)
	assert store.usage("q/") == (1000, 1)
	_file(tmp_path / "f", 6)
	with pytest.raises(exc.QuotaExceeded, match="1000 bytes used"):
		store.upload_file(tmp_path / "f", "q/big", quota=("q/", 6 << 20))
	assert store.list("q/") == [("q/a", 1000)]
	assert store.check_quota("q/", 1 << 30, 6 << 20) == 1000


def test_errors_are_typed_and_keep_the_secret_out(credentials, store):
	with pytest.raises(exc.ObjectNotFound):
		store.get_bytes("missing/key")
	wrong = Store(os.environ["PRESS_SELFHOSTED_TEST_S3_ENDPOINT"], store.bucket,
		access_key=credentials["access_key"], secret_key="f" * 64, region=credentials["region"])
	with pytest.raises(exc.AccessDenied) as denied:
		wrong.put_bytes("x", b"x")
	assert credentials["secret_key"] not in repr(store) and "f" * 64 not in str(denied.value)
	with pytest.raises(exc.StorageUnreachable):
		Store("http://127.0.0.1:9", "unreachable", **credentials).put_bytes("x", b"x")
	with pytest.raises(exc.ValidationError):
		Store("http://127.0.0.1:9", "Bad_Bucket", **credentials)


def test_rotation_decides_like_press():
	today = date(2026, 11, 25)
	backups = [("a.test", f"a/{i}", datetime(2026, 11, 25, 3, tzinfo=timezone.utc) - timedelta(days=i)) for i in range(40)]
	fifo = expired_backups(backups, scheme="fifo", keep=30, today=today)
	assert fifo == [f"a/{i}" for i in range(30, 40)]
	gfs = set(expired_backups(backups, today=today))
	kept = {key for _, key, _ in backups} - gfs
	# Dailies 11-18..11-25 (days 0-7); Sundays within 4 weeks: 11-15, 11-08, and 11-01, also a
	# first of the month (days 10, 17, 24); the Sunday 10-25 (day 31) is past the 4 weeks.
	assert kept == {f"a/{i}" for i in (*range(8), 10, 17, 24)}
	with pytest.raises(exc.ValidationError):
		expired_backups(backups, scheme="lifo")


def test_ranged_reads(store):
	store.put_bytes("r/blob", bytes(range(256)) * 4)
	assert store.get_range("r/blob", 10, 19) == bytes(range(10, 20))
	assert store.get_range("r/blob", 1020) == bytes(range(252, 256))
	with pytest.raises(exc.ValidationError, match="before its start"):
		store.get_range("r/blob", 5, 4)


def test_presigned_multipart_as_a_browser_sends_it(store):
	"""begin, PUT each part to its presigned URL, complete with the ETags: no credentials
	ever reach the client."""
	parts_data = [os.urandom(5 << 20), os.urandom(1 << 20)]
	upload_id = store.begin_multipart("acme/site-backup.tar.gz")
	parts = []
	for number, data in enumerate(parts_data, start=1):
		url = store.presign_part("acme/site-backup.tar.gz", upload_id, number, expires=300)
		with urllib.request.urlopen(urllib.request.Request(url, data=data, method="PUT"), timeout=30) as reply:
			parts.append((number, reply.headers["ETag"]))
	store.complete_multipart("acme/site-backup.tar.gz", upload_id, parts)
	assert store.get_bytes("acme/site-backup.tar.gz") == b"".join(parts_data)
	assert store.pending_uploads() == []

	aborted = store.begin_multipart("acme/abandoned")
	assert [u[1] for u in store.pending_uploads("acme/")] == [aborted]
	store.abort_upload("acme/abandoned", aborted)
	assert store.pending_uploads() == []
	with pytest.raises(exc.ValidationError):
		store.presign_part("acme/x", upload_id, 0)


def test_rotation_deletes_exactly_the_expired_backups(store):
	today = date(2026, 11, 25)
	backups = []
	for site in ("a.test", "b.test"):
		for i in range(12):
			key = f"backups/{site}/{i:02d}.sql.gz"
			store.put_bytes(key, b"dump")
			backups.append((site, key, datetime(2026, 11, 25, 2, tzinfo=timezone.utc) - timedelta(days=i)))
	expired = expired_backups(backups, scheme="fifo", keep=5, today=today)
	assert store.delete_keys(expired) == 14
	remaining = {key for key, _ in store.list("backups/")}
	assert remaining == {f"backups/{site}/{i:02d}.sql.gz" for site in ("a.test", "b.test") for i in range(5)}


@pytest.mark.parametrize("isolation", ["prefix", "bucket"])
def test_tenants_are_isolated_by_prefix_or_by_bucket(credentials, isolation):
	endpoint, base = service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"), f"iso-{isolation}-{os.getpid()}"
	acme, globex = (tenant_space(endpoint, base, t, isolation=isolation, **credentials) for t in ("acme", "globex"))
	for space in (acme, globex):
		space.store.ensure_bucket()
		space.store.put_bytes(space.prefix.key("db.sql.gz"), space.prefix.prefix.encode())
	assert acme.prefix.prefix == "tenants/acme/"
	if isolation == "prefix":
		assert acme.store.bucket == globex.store.bucket == base
	else:
		assert (acme.store.bucket, globex.store.bucket) == (f"{base}-acme", f"{base}-globex")
		assert globex.store.list("tenants/acme/") == []  # not in globex's bucket at all
	assert [key for key, _ in acme.store.list(acme.prefix.prefix)] == ["tenants/acme/db.sql.gz"]
	assert globex.store.get_bytes(globex.prefix.key("db.sql.gz")) == b"tenants/globex/"
	with pytest.raises(exc.ValidationError):
		acme.prefix.key("../globex/db.sql.gz")


def test_a_bad_tenant_or_isolation_is_refused(credentials):
	endpoint = service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT")
	for tenant, isolation in [("a/b", "prefix"), ("", "prefix"), ("Acme", "prefix"), ("a_b", "bucket"), ("x" * 60, "bucket"), ("acme", "site")]:
		with pytest.raises(exc.ValidationError):
			tenant_space(endpoint, "backups", tenant, isolation=isolation, **credentials)


def _no_download_left(folder):
	return [p.name for p in folder.iterdir() if p.name.startswith("back")] == []


def test_a_download_not_matching_its_checksum_leaves_no_file(credentials, store, tmp_path):
	import boto3

	client = boto3.client("s3", endpoint_url=service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"), region_name=credentials["region"],
		aws_access_key_id=credentials["access_key"], aws_secret_access_key=credentials["secret_key"])
	data = os.urandom(20 << 20)
	client.put_object(Bucket=store.bucket, Key="t/forged", Body=data, Metadata={"sha256": "0" * 64})
	(tmp_path / "out").mkdir()
	with pytest.raises(exc.ChecksumMismatch, match="0{64}"):
		store.download_file("t/forged", tmp_path / "out" / "back")
	assert _no_download_left(tmp_path / "out")
	store.download_file("t/forged", tmp_path / "out" / "back", verify=False)
	assert (tmp_path / "out" / "back").read_bytes() == data


def test_a_download_is_cancelled_by_token_or_by_a_raising_callback(store, tmp_path):
	_file(tmp_path / "f", 96)  # 12 ranges: more than are in flight at once
	store.upload_file(tmp_path / "f", "t/big")
	(tmp_path / "out").mkdir()
	token = CancelToken()
	seen = []

	def cancel_after_first(done, total):
		seen.append(done)
		if done:
			token.cancel()

	with pytest.raises(exc.TransferCancelled):
		store.download_file("t/big", tmp_path / "out" / "back", progress=cancel_after_first, cancel=token)
	assert seen[0] == 0 and seen[-1] < 96 << 20
	assert _no_download_left(tmp_path / "out")

	def boom(done, total):
		if done:
			raise RuntimeError("stop here")

	with pytest.raises(RuntimeError, match="stop here"):
		store.download_file("t/big", tmp_path / "out" / "back", progress=boom)
	assert _no_download_left(tmp_path / "out")


def test_another_key_never_sees_a_bucket_of_the_same_name(credentials, store):
	"""Garage aliases a bucket made through S3 for its creating key only: another key asking
	for the same name gets a bucket of its own, which neither shows nor serves ours."""
	import secrets
	import subprocess
	from pathlib import Path

	garage = [os.environ.get("PRESS_SELFHOSTED_GARAGE", "garage"), "-c",
		str(Path(service_env("PRESS_SELFHOSTED_TEST_S3_DIR")) / "garage.toml")]
	key_id, secret = "GK" + secrets.token_hex(12), secrets.token_hex(32)
	for args in (["key", "import", "--yes", "-n", "other-tenant", key_id, secret], ["key", "allow", "--create-bucket", key_id]):
		subprocess.run([*garage, *args], check=True, capture_output=True)
	other = Store(service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"), store.bucket, access_key=key_id,
		secret_key=secret, region=credentials["region"])
	store.put_bytes("mine.txt", b"private")
	other.ensure_bucket()
	assert other.list() == []
	with pytest.raises(exc.ObjectNotFound):
		other.get_bytes("mine.txt")
	assert store.get_bytes("mine.txt") == b"private"


def test_a_checksum_given_by_the_caller_is_recorded_and_a_bad_one_refused(store, tmp_path):
	digest = _file(tmp_path / "f", 9)
	info = store.upload_file(tmp_path / "f", "given", sha256=digest)
	assert info["sha256"] == digest == store.head("given")["sha256"]
	assert store.download_file("given", tmp_path / "back")["sha256"] == digest
	with pytest.raises(exc.ValidationError, match="64 lower-case hex"):
		store.upload_file(tmp_path / "f", "bad", sha256="XYZ")
	assert store.pending_uploads("bad") == [] and [k for k, _ in store.list("bad")] == []
	# A wrong one is what a verified download then refuses.
	store.upload_file(tmp_path / "f", "wrong", sha256="0" * 64)
	with pytest.raises(exc.ChecksumMismatch):
		store.download_file("wrong", tmp_path / "wrong")
