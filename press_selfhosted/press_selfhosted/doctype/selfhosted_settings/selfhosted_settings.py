"""Where the self-hosted platform's services are, and their secrets (Password fields only)."""

import frappe
from frappe.model.document import Document

PASSWORDS = ("s3_secret_key", "s3_admin_token", "pdns_api_key", "ca_passphrase", "registry_password", "smtp_password",
	"mariadb_root_password")


class SelfhostedSettings(Document):
	def validate(self):
		from press_selfhosted.exceptions import ValidationError
		from press_selfhosted.executor.platform import PORTS, check_ports

		try:
			check_ports(self.port_range_start or PORTS[0], self.port_range_end or PORTS[1])
		except ValidationError as e:
			frappe.throw(f"Host ports: {e}")
		from press_selfhosted.dns import DnsChecker
		from press_selfhosted.reach import server_address, split_address

		for field, label in (("dns_server", "DNS server"), ("dns_resolver", "Resolver for other names")):
			if self.get(field):
				try:
					# "ip:port", or "host:port" for a name that resolves here (the compose stack's PowerDNS)
					DnsChecker([server_address(self.get(field))])
				except ValidationError as e:
					frappe.throw(f"{label}: {e}")
		from press_selfhosted.proxy import upstream_url

		for field, label in (("maintenance_url", "Maintenance Page URL"), ("default_url", "Unknown Host Page URL"),
				("prometheus_url", "Prometheus URL"), ("alertmanager_url", "Alertmanager URL")):
			if self.get(field):
				try:
					upstream_url(self.get(field))
				except ValidationError as e:
					frappe.throw(f"{label}: {e}")
		if self.monitor_directory and not self.monitor_directory.startswith("/"):
			frappe.throw(f"Monitor directory: an absolute path, got {self.monitor_directory!r}")
		for field, label in (("site_https_address", "Press reaches sites at"), ("site_http_address", "Press reaches sites over HTTP at")):
			if self.get(field):
				try:
					split_address(self.get(field))
				except ValidationError as e:
					frappe.throw(f"{label}: {e}")

	def on_update(self):
		if self.has_value_changed("maintenance_url") or self.has_value_changed("default_url"):
			from press_selfhosted.integrations.tls import pages_changed

			pages_changed(self)


def settings_dict() -> dict:
	"""The settings as plain data for press_selfhosted's services, passwords decrypted."""
	doc = frappe.get_single("Selfhosted Settings")
	data = {field.fieldname: doc.get(field.fieldname) for field in doc.meta.fields if field.fieldtype not in ("Section Break", "Column Break")}
	for field in PASSWORDS:
		data[field] = doc.get_password(field, raise_exception=False) if doc.get(field) else None
	return data
