"""One dependency of the platform and its last health check (refreshed by the scheduler)."""

from frappe.model.document import Document


class PlatformService(Document):
	pass
