"""A customer's own site's jobs, opened as they are listed.

Press lists a site's jobs to the team that owns the site (Agent Job's `get_list_query`) but
opens one (`press.api.client.get`: the Job page the dashboard shows while a new site comes up)
only to the team that owns its bench (`press.access.ownership`: Agent Job → Bench.team).
Customers' sites live on the operator's public benches, so a customer's Job page stayed blank
("Not permitted") for every job of their own site. Here a job of a site is opened to the
site's team as well; jobs of no site, and sites of other teams, are refused as before.

`has_document_access` calls `has_linked_access` through its module, so that name is replaced.
"""

from __future__ import annotations

import frappe

from press_selfhosted.integrations import active

OWNERSHIP = "press.access.ownership"


def site_team_too(original):
	def has_linked_access(doctype: str, name: str) -> bool:
		if original(doctype, name):
			return True
		if doctype != "Agent Job" or not active():
			return False
		from press.access import ownership

		site = frappe.db.get_value("Agent Job", name, "site")
		return bool(site) and ownership.has_document_access("Site", site)

	return has_linked_access


PATCHES = [(OWNERSHIP, "has_linked_access", site_team_too)]
