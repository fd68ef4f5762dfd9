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

	@frappe.whitelist()
	def refresh_usage(self):
		from press_selfhosted.integrations.storage import store

		self.used_bytes, self.object_count = store(self.bucket).usage(self.prefix + "/")
		self.over_quota = bool(self.quota_gb) and self.used_bytes > self.quota_gb * 1e9
		self.usage_checked_at = now_datetime()
		self.save(ignore_permissions=True)

	@frappe.whitelist()
	def configure_files(self):
		"""Gives the site its DFP External Storage (needs dfp_external_storage on the site)."""
		from press_selfhosted.integrations.storage_integration import configure_files

		self.check_permission("write")
		return configure_files(self)
