"""A tenant's own bucket and key (Garage's admin API) and the `DFP External Storage` settings
its site gets: checked against the real Garage with the minio client dfp_external_storage
itself uses."""

import io
import os
import re
from pathlib import Path

import pytest
from conftest import service_env
from minio import Minio
from minio.error import S3Error

from press_selfhosted import exceptions as exc
from press_selfhosted.exceptions import ValidationError
from press_selfhosted.services import Services
from press_selfhosted.storage import GarageAdmin, Store
from press_selfhosted.tenant_files import DOCTYPE, DfpStorage, tenant_bucket

KEYS = {"region": "garage", "access_key": "GK1", "secret_key": "s3cr3t-value"}


def test_endpoint_becomes_host_port_and_secure_flag():
	plain = DfpStorage.for_site("acme.example.com", "http://10.0.0.5:3900", "tenants", **KEYS)
	assert (plain.endpoint, plain.secure, plain.prefix) == ("10.0.0.5:3900", False, "acme.example.com/")
	tls = DfpStorage.for_site("acme.example.com", "https://s3.example.com/", "tenants", **KEYS)
	assert (tls.endpoint, tls.secure) == ("s3.example.com:443", True)
	assert DfpStorage.for_site("a.example.com", "http://[::1]:3900", "t", **KEYS).endpoint == "[::1]:3900"
	doc = tls.document()
	assert doc["doctype"] == DOCTYPE and doc["bucket_name"] == "tenants" and doc["folders"] == [{"folder": "Home"}]


@pytest.mark.parametrize("endpoint", ["s3.example.com:3900", "ftp://s3.example.com", "http://s3.example.com/bucket",
	"http://user:pw@s3.example.com", "http://"])
def test_bad_endpoint_refused(endpoint):
	with pytest.raises(ValidationError, match="http\\(s\\)://host"):
		DfpStorage.for_site("acme.example.com", endpoint, "tenants", **KEYS)


@pytest.mark.parametrize("site", ["", "../acme", "acme/x"])
def test_bad_site_refused(site):
	with pytest.raises(ValidationError):
		DfpStorage.for_site(site, "http://127.0.0.1:3900", "tenants", **KEYS)


def test_platform_keys_are_never_handed_out():
	with pytest.raises(ValidationError, match="no key of its own"):
		DfpStorage.for_site("acme.example.com", "http://127.0.0.1:3900", "tenants", region="garage", access_key="", secret_key="")


def test_secret_stays_out_of_repr():
	storage = DfpStorage.for_site("acme.example.com", "http://127.0.0.1:3900", "tenants", **KEYS)
	assert "s3cr3t-value" not in repr(storage) and "s3cr3t-value" not in str(storage)


@pytest.fixture(scope="module")
def garage() -> GarageAdmin:
	folder = Path(service_env("PRESS_SELFHOSTED_TEST_S3_DIR"))
	return GarageAdmin(service_env("PRESS_SELFHOSTED_TEST_S3_ADMIN"), (folder / "admin_token").read_text())


def _minio(doc: dict) -> Minio:
	"""The client dfp_external_storage builds from its document."""
	return Minio(endpoint=doc["endpoint"], access_key=doc["access_key"], secret_key=doc["secret_key"], region=doc["region"],
		secure=bool(doc["secure"]))


def test_tenant_buckets_are_valid_distinct_and_stable():
	names = [tenant_bucket(site) for site in ("a-b.example.com", "a.b-example.com", "Acme.Example.COM", "x" * 60 + ".example.com")]
	assert len(set(names)) == 4 and names[0].startswith("a-b-example-com-")
	assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", name) for name in names), names
	assert tenant_bucket("a-b.example.com") == names[0]
	with pytest.raises(ValidationError):
		tenant_bucket("...")


def test_each_tenant_gets_a_bucket_and_key_of_its_own(garage, credentials):
	endpoint = service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT")
	sites = [f"acme{os.getpid()}.example.com", f"globex{os.getpid()}.example.com"]
	acme, globex = (garage.grant(tenant_bucket(site), site) for site in sites)
	assert acme.created and acme.secret_key not in repr(acme) and acme.bucket == tenant_bucket(sites[0])
	again = garage.grant(tenant_bucket(sites[0]), sites[0])
	assert (again.access_key, again.secret_key, again.created) == (acme.access_key, acme.secret_key, False)
	try:
		# What dfp_external_storage does on the site: a minio client from its document, then
		# put_object(bucket, "<site>/<file>-<id>.<ext>"). It lands where the tenant's usage is counted.
		storage = DfpStorage.for_site(sites[0], endpoint, acme.bucket, region=credentials["region"],
			access_key=acme.access_key, secret_key=acme.secret_key)
		client = _minio(storage.document())
		assert client.bucket_exists(acme.bucket)  # dfp's validate_bucket
		client.put_object(acme.bucket, f"{storage.prefix}invoice-8f3a2c.pdf", io.BytesIO(b"%PDF-1.7"), length=8)
		own = Store(endpoint, acme.bucket, region=credentials["region"], access_key=acme.access_key, secret_key=acme.secret_key)
		assert own.get_bytes(f"{sites[0]}/invoice-8f3a2c.pdf") == b"%PDF-1.7"
		assert own.usage(storage.prefix) == (8, 1)
		# The neighbour's key opens nothing of this tenant's.
		neighbour = _minio(DfpStorage.for_site(sites[1], endpoint, acme.bucket, region=credentials["region"],
			access_key=globex.access_key, secret_key=globex.secret_key).document())
		with pytest.raises(S3Error, match="AccessDenied"):
			neighbour.get_object(acme.bucket, f"{sites[0]}/invoice-8f3a2c.pdf")
	finally:
		assert garage.revoke(acme.access_key) and garage.revoke(globex.access_key)
	assert not garage.revoke(acme.access_key)


def test_a_wrong_admin_token_is_a_typed_error_without_the_token():
	wrong = GarageAdmin(service_env("PRESS_SELFHOSTED_TEST_S3_ADMIN"), "not-the-admin-token")
	with pytest.raises(exc.AccessDenied) as refused:
		wrong.grant("py-never", "never.example.com")
	assert "not-the-admin-token" not in str(refused.value) and "not-the-admin-token" not in repr(wrong)
	with pytest.raises(exc.ValidationError):
		GarageAdmin("127.0.0.1:3903", "token")


def test_services_open_a_tenant_bucket_with_the_tenant_key_only(garage, credentials):
	endpoint, site = service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"), f"initech{os.getpid()}.example.com"
	services = Services({"s3_endpoint": endpoint, "s3_region": credentials["region"], "s3_access_key": credentials["access_key"],
		"s3_secret_key": credentials["secret_key"]})
	key = garage.grant(tenant_bucket(site), site)
	try:
		services.store_for(key.bucket, (key.access_key, key.secret_key)).put_bytes(f"{site}/a.txt", b"a")
		assert services.store_for(key.bucket, (key.access_key, key.secret_key)).usage(f"{site}/") == (1, 1)
		with pytest.raises((exc.AccessDenied, exc.ObjectNotFound)):  # the platform's key was granted nothing there
			services.store_for(key.bucket).get_bytes(f"{site}/a.txt")
	finally:
		garage.revoke(key.access_key)
