"""Setup had stopped Press's `create_subscription_for_trial_sites` with the billing jobs, though it
calls no gateway: it puts a product trial's handed-out site on the trial's plan. Without it the
site kept no plan (the dashboard shows none, and Press's trial expiry looks for the trial plan).
Once, it runs again."""

import frappe

JOB = "press.press.doctype.site.site.create_subscription_for_trial_sites"


def execute():
	for name in frappe.get_all("Scheduled Job Type", filters={"method": JOB, "stopped": 1}, pluck="name"):
		frappe.db.set_value("Scheduled Job Type", name, "stopped", 0, update_modified=False)
