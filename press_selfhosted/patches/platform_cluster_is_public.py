"""Setup made the platform's cluster without Press's `public` ("show in New Site"), and Press
keeps a product trial's standby sites only in public clusters: a trial made no site. Once, the
Generic clusters are made public; an operator may make one private again afterwards."""

import frappe


def execute():
	for name in frappe.get_all("Cluster", filters={"cloud_provider": "Generic", "public": 0}, pluck="name"):
		frappe.db.set_value("Cluster", name, "public", 1, update_modified=False)
