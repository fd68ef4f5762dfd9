"""The `DFP External Storage` settings a tenant site gets: checked against the real Garage
with the minio client dfp_external_storage itself uses, and against the tenant's prefix."""

import io
import os

import pytest
from conftest import service_env
from minio import Minio

from press_selfhosted.exceptions import ValidationError
from press_selfhosted.storage import Store
from press_selfhosted.tenant_files import DOCTYPE, DfpStorage

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


def test_dfp_client_from_these_settings_writes_into_the_tenant_prefix(credentials):
	"""What dfp_external_storage does with the document: a minio client from its fields, then
	`put_object(bucket, "<site>/<file>-<id>.<ext>")`. The object must land where the tenant's
	usage is counted."""
	endpoint = service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT")
	bucket = f"py-dfp-{os.getpid()}"
	store = Store(endpoint, bucket, **credentials)
	store.ensure_bucket()
	storage = DfpStorage.for_site("acme.example.com", endpoint, bucket, region=credentials["region"],
		access_key=credentials["access_key"], secret_key=credentials["secret_key"])
	doc = storage.document()
	client = Minio(endpoint=doc["endpoint"], access_key=doc["access_key"], secret_key=doc["secret_key"], region=doc["region"],
		secure=bool(doc["secure"]))
	assert client.bucket_exists(doc["bucket_name"])  # dfp's validate_bucket
	client.put_object(doc["bucket_name"], f"{storage.prefix}invoice-8f3a2c.pdf", io.BytesIO(b"%PDF-1.7"), length=8)
	assert store.get_bytes("acme.example.com/invoice-8f3a2c.pdf") == b"%PDF-1.7"
	assert store.usage(storage.prefix) == (8, 1)
	assert store.usage("globex.example.com/") == (0, 0)
