"""The boto3-shaped calls Press makes (Remote File, presigned backup uploads), answered by a
Store against the real Garage that `make test` starts."""

import os
import urllib.error
import urllib.request

import pytest
import requests
from conftest import service_env

from press_selfhosted import exceptions as exc
from press_selfhosted.storage import BotoShapedClient, Store, presigned_post


@pytest.fixture
def bucket(credentials, request):
	name = f"py-press-{request.node.name[5:22].replace('_', '-').strip('-')}-{os.getpid()}"
	Store(service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"), name, **credentials).ensure_bucket()
	return name


@pytest.fixture
def client(credentials):
	return BotoShapedClient(lambda bucket: Store(service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"), bucket, **credentials))


def test_remote_file_calls_download_head_and_delete(client, bucket):
	client.store_for(bucket).put_bytes("backups/acme/db.sql.gz", b"dump")
	url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "backups/acme/db.sql.gz"}, ExpiresIn=60)
	assert url.startswith(service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"))
	assert urllib.request.urlopen(url, timeout=10).read() == b"dump"
	assert client.head_object(Bucket=bucket, Key="backups/acme/db.sql.gz") == {"ContentLength": 4}
	assert client.get_object(Bucket=bucket, Key="backups/acme/db.sql.gz")["Body"].read() == b"dump"
	client.delete_object(Bucket=bucket, Key="backups/acme/db.sql.gz")
	with pytest.raises(exc.ObjectNotFound):  # Press's Remote File.exists turns this into Unavailable
		client.head_object(Bucket=bucket, Key="backups/acme/db.sql.gz")
	with pytest.raises(exc.ValidationError):
		client.generate_presigned_url("list_objects", Params={"Bucket": bucket, "Key": "x"})


def test_multipart_upload_through_presigned_parts(client, bucket):
	"""get_upload_link(parts=2) then multipart_exit(action="complete"), as Press's dashboard does."""
	upload = client.create_multipart_upload(Bucket=bucket, Key="uploads/site.tar")
	parts = []
	for number, body in ((1, os.urandom(5 << 20)), (2, b"tail")):
		url = client.generate_presigned_url("upload_part",
			Params={"Bucket": bucket, "Key": "uploads/site.tar", "UploadId": upload["UploadId"], "PartNumber": number})
		response = requests.put(url, data=body, timeout=30)
		assert response.status_code == 200
		parts.append({"ETag": response.headers["ETag"], "PartNumber": number})
	client.complete_multipart_upload(Bucket=bucket, Key="uploads/site.tar", UploadId=upload["UploadId"],
		MultipartUpload={"Parts": parts})
	assert client.head_object(Bucket=bucket, Key="uploads/site.tar")["ContentLength"] == (5 << 20) + 4
	aborted = client.create_multipart_upload(Bucket=bucket, Key="uploads/other.tar")
	client.abort_multipart_upload(Bucket=bucket, Key="uploads/other.tar", UploadId=aborted["UploadId"])
	assert client.store_for(bucket).pending_uploads() == []


def test_presigned_post_uploads_exactly_its_key(client, credentials, bucket):
	post = presigned_post(service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"), bucket, "uploads/db.sql.gz", expires=60, **credentials)
	assert credentials["secret_key"] not in str(post)
	response = requests.post(post["url"], data=post["fields"], files={"file": ("db.sql.gz", b"form upload")}, timeout=10)
	assert response.status_code in (200, 204), response.text
	assert client.get_object(Bucket=bucket, Key="uploads/db.sql.gz")["Body"].read() == b"form upload"
	elsewhere = dict(post["fields"], key="uploads/other.gz")  # the signed policy names one key
	response = requests.post(post["url"], data=elsewhere, files={"file": ("x", b"x")}, timeout=10)
	assert response.status_code in (400, 403)  # Garage: 400 for a policy mismatch
	with pytest.raises(exc.ObjectNotFound):
		client.head_object(Bucket=bucket, Key="uploads/other.gz")
	forged = presigned_post(service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"), bucket, "uploads/f.gz",
		access_key=credentials["access_key"], secret_key="wrong", region=credentials["region"])
	assert requests.post(forged["url"], data=forged["fields"], files={"file": ("x", b"x")}, timeout=10).status_code == 403
	with pytest.raises(exc.ObjectNotFound):
		client.head_object(Bucket=bucket, Key="uploads/f.gz")
	with pytest.raises(exc.ValidationError):
		presigned_post("http://s3", bucket, "../escape", **credentials)
