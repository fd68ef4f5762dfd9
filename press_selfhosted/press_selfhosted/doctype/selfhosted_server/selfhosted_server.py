"""Marks a Press server (App Server, Database Server, Proxy Server or Monitor Server) as served
by press_selfhosted's local executor, and binds it: to a container engine, to the platform's
MariaDB, to Traefik, or to the platform's Prometheus and Alertmanager (Selfhosted Settings).
Press's own server record stays stock."""

import frappe
from frappe.model.document import Document


class SelfhostedServer(Document):
	def validate(self):
		for field in ("mariadb_address", "mariadb_bench_address"):
			if self.get(field):
				from press_selfhosted.reach import split_address

				try:
					split_address(self.get(field))
				except ValueError as e:
					frappe.throw(f"{self.meta.get_label(field)}: {e}")
