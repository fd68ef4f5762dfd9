"""Tenant Storage prefixes were `tenants/<site>`, where neither Press's backups nor
dfp_external_storage's files go: they become `<site>`."""

import frappe


def execute():
	for name, site, prefix in frappe.get_all("Tenant Storage", fields=["name", "site", "prefix"], as_list=True):
		if prefix == f"tenants/{site}":
			frappe.db.set_value("Tenant Storage", name, "prefix", site, update_modified=False)
