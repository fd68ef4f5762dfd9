"""How a store is reached: over TLS with a certificate from the platform CA (behind a real TLS
terminator, socat, in front of the real Garage), by a host name DNS does not know, and by
virtual-host addressing (Garage's root_domain is `.s3.garage.localhost`)."""

import hashlib
import os
import socket
import subprocess
import time
from urllib.parse import urlsplit

import pytest
from conftest import service_env

from press_selfhosted import exceptions as exc
from press_selfhosted.pki import CertificateAuthority
from press_selfhosted.storage import Store

STORE_HOST = "s3.store.test"  # in no DNS: reached through connect_address


def _free_port():
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


@pytest.fixture(scope="module")
def tls_front(tmp_path_factory):
	"""socat terminating TLS with a certificate for STORE_HOST from a fresh platform CA, and
	passing the bytes on to Garage: (port, CA)."""
	folder = tmp_path_factory.mktemp("tls-front")
	ca = CertificateAuthority.create(folder / "ca")
	files = ca.issue([STORE_HOST]).write_files(folder, "store")
	(folder / "root.crt").write_text(ca.root_pem)
	garage = urlsplit(service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"))
	port = _free_port()
	front = subprocess.Popen(
		["socat", f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,verify=0,"
			f"cert={files['full_chain']},key={files['private_key']}", f"TCP:{garage.hostname}:{garage.port}"],
		stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
	)
	deadline = time.monotonic() + 10
	while True:
		try:
			socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
			break
		except OSError:
			if time.monotonic() > deadline or front.poll() is not None:
				front.kill()
				pytest.fail("socat did not start")
			time.sleep(0.05)
	yield port, folder
	front.terminate()
	front.wait(10)


def _tls_store(credentials, port, name, **extra):
	return Store(f"https://{STORE_HOST}:{port}", f"{name}-{os.getpid()}", connect_address=f"127.0.0.1:{port}",
		**credentials, **extra)


def test_a_store_behind_the_platform_ca_works_with_its_bundle(credentials, tls_front, tmp_path):
	port, folder = tls_front
	store = _tls_store(credentials, port, "tls", ca_bundle=folder / "root.crt")
	store.ensure_bucket()
	store.put_bytes("acme/a.txt", b"over tls")
	assert store.get_bytes("acme/a.txt") == b"over tls"
	data = os.urandom(20 << 20)
	(tmp_path / "f").write_bytes(data)
	info = store.upload_file(tmp_path / "f", "acme/f")  # parts streamed to presigned URLs, over TLS
	assert info["sha256"] == hashlib.sha256(data).hexdigest()
	store.download_file("acme/f", tmp_path / "back")
	assert (tmp_path / "back").read_bytes() == data
	assert sorted(key for key, _ in store.list("acme/")) == ["acme/a.txt", "acme/f"]
	assert store.pending_uploads() == []
	assert store.delete_prefix("acme/") == 2


def test_without_the_bundle_or_with_another_ca_the_certificate_is_refused(credentials, tls_front, tmp_path):
	port, _ = tls_front
	foreign = CertificateAuthority.create(tmp_path / "foreign")
	(tmp_path / "foreign.crt").write_text(foreign.root_pem)
	for extra in ({}, {"ca_bundle": tmp_path / "foreign.crt"}):
		store = _tls_store(credentials, port, "tls-refused", **extra)
		with pytest.raises(exc.StorageUnreachable, match="(?i)certificate|UnknownIssuer"):
			store.ensure_bucket()


def test_a_bad_bundle_or_address_is_refused_before_any_request(credentials, tmp_path):
	(tmp_path / "junk.pem").write_text("not a certificate")
	cases = [
		{"ca_bundle": tmp_path / "missing.pem"},
		{"ca_bundle": tmp_path / "junk.pem"},
		{"connect_address": "localhost"},
		{"connect_address": "127.0.0.1:99999"},
	]
	for extra in cases:
		with pytest.raises(exc.ValidationError):
			Store("https://s3.example.test", "backups", **credentials, **extra)


def test_virtual_host_addressing(credentials, tmp_path):
	port = urlsplit(service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT")).port
	store = Store(f"http://s3.garage.localhost:{port}", f"vhost-{os.getpid()}", path_style=False,
		connect_address=f"127.0.0.1:{port}", **credentials)
	store.ensure_bucket()
	store.put_bytes("t/one", b"1")
	data = os.urandom(9 << 20)
	(tmp_path / "f").write_bytes(data)
	store.upload_file(tmp_path / "f", "t/two")
	assert store.get_bytes("t/one") == b"1"
	assert store.get_range("t/two", 0, 15) == data[:16]
	url = urlsplit(store.presign_get("t/one", expires=60))
	assert url.hostname == f"vhost-{os.getpid()}.s3.garage.localhost"
	# The same bucket, path-style: the two addressings see the same objects.
	path_style = Store(service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"), store.bucket, **credentials)
	assert sorted(key for key, _ in path_style.list("t/")) == ["t/one", "t/two"]
	assert store.delete_prefix("t/") == 2
