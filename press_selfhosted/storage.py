"""S3-compatible object storage for backups and tenant files, for `bench console` and the
Press integration.

	from press_selfhosted.storage import Store, TenantPrefix, tenant_space
	store = Store("http://127.0.0.1:3900", "backups", access_key="GK…", secret_key="…", region="garage")
	tenant = TenantPrefix("tenants/acme")
	store.upload_file("/home/frappe/backups/db.sql.gz", tenant.key("2026-11-25/db.sql.gz"),
		progress=lambda done, total: print(done, total), quota=(tenant.prefix, 10 << 30))

	# The same, with the isolation an operator chose (a shared bucket, or one per tenant):
	space = tenant_space("http://127.0.0.1:3900", "backups", "acme", isolation="bucket", access_key=…, …)
	space.store.ensure_bucket()
	space.store.put_bytes(space.prefix.key("notes.txt"), b"…")
"""

import base64
import hashlib
import hmac
import io
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Literal, NamedTuple

from press_selfhosted._native import CancelToken, GarageAdmin, GrantedKey, Store, TenantPrefix, expired_backups
from press_selfhosted.exceptions import ValidationError

__all__ = ["BotoShapedClient", "CancelToken", "GarageAdmin", "GrantedKey", "Isolation", "Store", "TenantPrefix", "TenantSpace", "expired_backups", "presigned_post",
	"tenant_space"]

Isolation = Literal["prefix", "bucket"]
TENANTS = "tenants"


class TenantSpace(NamedTuple):
	"""Where one tenant's objects live: a bucket, and the prefix its keys are confined to."""

	store: Store
	prefix: TenantPrefix


def tenant_space(endpoint: str, bucket: str, tenant: str, *, isolation: Isolation = "prefix", **connection) -> TenantSpace:
	"""A tenant's space on the store. "prefix": every tenant shares `bucket`, each under
	`tenants/<tenant>/`. "bucket": each tenant has its own bucket, `<bucket>-<tenant>`; its keys
	keep the same prefix, so a tenant moves from one scheme to the other without renaming.
	`connection` is what `Store` takes besides endpoint and bucket (keys, region, ca_bundle…)."""
	if isolation not in ("prefix", "bucket"):
		raise ValidationError(f"isolation must be 'prefix' or 'bucket', got {isolation!r}")
	if not tenant or "/" in tenant:
		raise ValidationError(f"a tenant is one name, got {tenant!r}")
	prefix = TenantPrefix(f"{TENANTS}/{tenant}")
	name = bucket if isolation == "prefix" else f"{bucket}-{tenant}"
	return TenantSpace(Store(endpoint, name, **connection), prefix)


class BotoShapedClient:
	"""The calls Press makes on a boto3 S3 client (Remote File, backup uploads), answered by a
	Store per bucket, so Press's code runs unchanged against any S3-compatible endpoint."""

	def __init__(self, store_for: Callable[[str], Store]):
		self.store_for = store_for

	def generate_presigned_url(self, ClientMethod: str, Params: dict, ExpiresIn: int = 3600) -> str:
		store, key = self.store_for(Params["Bucket"]), Params["Key"]
		if ClientMethod == "get_object":
			return store.presign_get(key, expires=int(ExpiresIn))
		if ClientMethod == "put_object":
			return store.presign_put(key, expires=int(ExpiresIn))
		if ClientMethod == "upload_part":
			return store.presign_part(key, Params["UploadId"], int(Params["PartNumber"]), expires=int(ExpiresIn))
		raise ValidationError(f"presigning {ClientMethod} is not supported")

	def head_object(self, Bucket: str, Key: str) -> dict:
		return {"ContentLength": self.store_for(Bucket).head(Key)["size"]}

	def get_object(self, Bucket: str, Key: str) -> dict:
		return {"Body": io.BytesIO(self.store_for(Bucket).get_bytes(Key))}

	def delete_object(self, Bucket: str, Key: str) -> dict:
		self.store_for(Bucket).delete(Key)
		return {}

	def create_multipart_upload(self, Bucket: str, Key: str) -> dict:
		return {"Bucket": Bucket, "Key": Key, "UploadId": self.store_for(Bucket).begin_multipart(Key)}

	def complete_multipart_upload(self, Bucket: str, Key: str, UploadId: str, MultipartUpload: dict) -> dict:
		parts = [(int(p["PartNumber"]), p["ETag"]) for p in MultipartUpload["Parts"]]
		self.store_for(Bucket).complete_multipart(Key, UploadId, parts)
		return {"Bucket": Bucket, "Key": Key}

	def abort_multipart_upload(self, Bucket: str, Key: str, UploadId: str) -> dict:
		self.store_for(Bucket).abort_upload(Key, UploadId)
		return {}


def presigned_post(endpoint: str, bucket: str, key: str, *, access_key: str, secret_key: str, region: str = "us-east-1",
		expires: int = 3600, now: datetime | None = None) -> dict:
	"""A browser form upload of exactly `key` (S3 POST Object, signature V4), in the shape of
	boto3's generate_presigned_post: {"url", "fields"}. Path-style URL, as S3-compatible
	stores serve without wildcard DNS."""
	if not key or key.startswith("/") or ".." in key.split("/"):
		raise ValidationError(f"bad object key {key!r}")
	now = now or datetime.now(timezone.utc)
	day, stamp = now.strftime("%Y%m%d"), now.strftime("%Y%m%dT%H%M%SZ")
	credential = f"{access_key}/{day}/{region}/s3/aws4_request"
	fields = {"key": key, "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": credential, "x-amz-date": stamp}
	policy = {"expiration": (now + timedelta(seconds=expires)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
		"conditions": [{"bucket": bucket}, *({name: value} for name, value in fields.items())]}
	fields["policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
	signing_key = f"AWS4{secret_key}".encode()
	for part in (day, region, "s3", "aws4_request"):
		signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
	fields["x-amz-signature"] = hmac.new(signing_key, fields["policy"].encode(), hashlib.sha256).hexdigest()
	return {"url": f"{endpoint.rstrip('/')}/{bucket}", "fields": fields}
