"""AWS S3 → the operator's S3-compatible store (Selfhosted Settings: endpoint, keys, bucket).

Press talks to S3 through boto3 with AWS defaults:
- `RemoteFile.s3_client` (press/press/doctype/remote_file/remote_file.py) for download links,
  existence checks, deletes and content; replaced by a boto3-shaped client over our Store.
- `remote_file.resource` in `poll_file_statuses_from_bucket` (no endpoint: AWS) and
  `remote_file.delete_s3_files`; replaced by the same Store.
- `press.api.site.get_upload_link` / `multipart_exit` (region hard-coded to ap-south-1):
  answered here through `override_whitelisted_methods`, same arguments and response shape.

Each tenant site gets a `Tenant Storage` record: its prefix (`<site>`), optional own keys, usage, quota.
"""

from __future__ import annotations

import json
import pprint
from types import SimpleNamespace

import frappe

from press_selfhosted.integrations import active, patched_property, services
from press_selfhosted.storage import BotoShapedClient, Store, presigned_post

REMOTE_FILE = "press.press.doctype.remote_file.remote_file"


def store(bucket: str | None = None) -> Store:
	"""The platform's store for `bucket` (default: the configured bucket)."""
	return services().store_for(bucket) if bucket else services().store


def client() -> BotoShapedClient:
	return BotoShapedClient(store)


def remote_file_client(original: property) -> property:
	def s3_client(self):
		if not active():
			return original.fget(self)
		return client() if self.bucket else None

	return patched_property(s3_client)


def bucket_resource(original):
	"""`boto3.resource` as `poll_file_statuses_from_bucket` uses it: Bucket(name).objects.all()."""

	def resource(service_name, *args, **kwargs):
		if not active():
			return original(service_name, *args, **kwargs)
		return SimpleNamespace(Bucket=_bucket)

	def _bucket(name):
		listing = SimpleNamespace(all=lambda: [SimpleNamespace(key=key, size=size) for key, size in store(name).list()])
		return SimpleNamespace(name=name, objects=listing)

	return resource


def delete_files(original):
	def delete_s3_files(buckets):
		if not active():
			return original(buckets)
		for bucket, keys in buckets.items():
			deleted = store(bucket).delete_keys(keys) if keys else 0
			frappe.get_doc(doctype="Remote Operation Log", operation_type="Delete Files",
				response=pprint.pformat({"bucket": bucket, "deleted": deleted, "keys": keys})).insert()

	return delete_s3_files


@frappe.whitelist()
def get_upload_link(file, parts=1):
	"""press.api.site.get_upload_link: a presigned form upload, or a multipart upload with one
	presigned URL per part, for a key Press chose (`get_remote_key`)."""
	from press.press.doctype.remote_file.remote_file import get_remote_key

	bucket, expires = _uploads()
	key = get_remote_key(file)
	parts = int(parts)
	if parts > 1:
		upload = client().create_multipart_upload(Bucket=bucket, Key=key)
		upload["signed_urls"] = [
			client().generate_presigned_url("upload_part", Params={"Bucket": bucket, "Key": key, "UploadId": upload["UploadId"],
				"PartNumber": number}, ExpiresIn=expires)
			for number in range(1, parts + 1)
		]
		return upload
	settings = services().settings
	return presigned_post(settings["s3_endpoint"], bucket, key, access_key=settings["s3_access_key"],
		secret_key=settings["s3_secret_key"], region=settings.get("s3_region") or "us-east-1", expires=expires)


@frappe.whitelist()
def multipart_exit(file, id, action, parts=None):
	"""press.api.site.multipart_exit: completes or aborts an upload get_upload_link began."""
	bucket, _ = _uploads()
	if action == "abort":
		return client().abort_multipart_upload(Bucket=bucket, Key=file, UploadId=id)
	if action == "complete":
		return client().complete_multipart_upload(Bucket=bucket, Key=file, UploadId=id,
			MultipartUpload={"Parts": json.loads(parts) if isinstance(parts, str) else parts})
	frappe.throw(f"action is abort or complete, not {action!r}")


def _uploads() -> tuple[str, int]:
	bucket = frappe.db.get_single_value("Press Settings", "remote_uploads_bucket") or services().settings.get("s3_bucket")
	if not bucket:
		frappe.throw("No uploads bucket: run `bench selfhosted setup` or set Press Settings › Remote Uploads Bucket")
	return bucket, frappe.db.get_single_value("Press Settings", "remote_link_expiry") or 3600


def create_tenant_storage(doc, method=None):
	"""Site after_insert: the site's space, `<site>/`, where Press puts its offsite backups
	(press/agent.py `backup_site`) and dfp_external_storage its files. With Garage's admin API
	configured, in a bucket with a key of its own; otherwise in the platform bucket."""
	if frappe.db.exists("Tenant Storage", doc.name):
		return
	tenant = frappe.get_doc({"doctype": "Tenant Storage", "site": doc.name, "bucket": services().settings.get("s3_bucket"),
		"prefix": doc.name}).insert(ignore_permissions=True)
	if services().garage:
		try:
			tenant.grant_own_key()
		except Exception:
			# The site is created all the same; "Grant own key" on the Tenant Storage retries.
			frappe.log_error(f"Tenant Storage: own key of {doc.name}")


def refresh_tenant_usage():
	"""Daily: usage of every tenant prefix."""
	for name in frappe.get_all("Tenant Storage", pluck="name"):
		try:
			frappe.get_doc("Tenant Storage", name).refresh_usage()
		except Exception:
			frappe.log_error(f"Tenant Storage: usage of {name}")


PATCHES = [
	(REMOTE_FILE, "RemoteFile.s3_client", remote_file_client),
	(REMOTE_FILE, "resource", bucket_resource),
	(REMOTE_FILE, "delete_s3_files", delete_files),
]
