"""A tenant site's space on the S3-compatible store: its prefix, its own keys if it has them,
its usage and quota."""

import frappe
from frappe.model.document import Document
from frappe.utils import now_datetime

from press_selfhosted.storage import TenantPrefix


class TenantStorage(Document):
	def validate(self):
		self.prefix = TenantPrefix(self.prefix).prefix.rstrip("/")  # no "..", no leading "/"
		if (self.quota_gb or 0) < 0:
			frappe.throw("The quota cannot be negative")

	def store(self):
		"""The tenant's bucket, through its own key when it has one (a bucket of its own may
		grant the platform's key nothing)."""
		from press_selfhosted.integrations import services

		keys = (self.access_key, self.get_password("secret_key")) if self.access_key else None
		return services().store_for(self.bucket, keys)

	@frappe.whitelist()
	def refresh_usage(self):
		self.used_bytes, self.object_count = self.store().usage(self.prefix + "/")
		self.over_quota = bool(self.quota_gb) and self.used_bytes > self.quota_gb * 1e9
		self.usage_checked_at = now_datetime()
		self.save(ignore_permissions=True)

	@frappe.whitelist()
	def configure_files(self):
		"""Gives the site its DFP External Storage (needs dfp_external_storage on the site)."""
		from press_selfhosted.integrations.storage_integration import configure_files

		self.check_permission("write")
		return configure_files(self)

	@frappe.whitelist()
	def grant_own_key(self):
		"""A bucket and a key of the tenant's own on Garage; the same ones when granted again.
		A tenant that has a bucket of its own keeps it (a renamed site's files are there), and a
		key it held under another name (before a rename) is revoked."""
		from press_selfhosted.integrations import services
		from press_selfhosted.tenant_files import tenant_bucket

		self.check_permission("write")
		garage = services().garage
		if not garage:
			frappe.throw("Set Garage Admin API and Token in Selfhosted Settings first")
		own_bucket = self.bucket and self.bucket != services().settings.get("s3_bucket")
		key = garage.grant(self.bucket if own_bucket else tenant_bucket(self.site), self.site)
		if self.access_key and self.access_key != key.access_key:
			garage.revoke(self.access_key)
		self.update({"bucket": key.bucket, "access_key": key.access_key, "secret_key": key.secret_key})
		self.save(ignore_permissions=True)
		return {"bucket": key.bucket, "access_key": key.access_key, "created": key.created}
