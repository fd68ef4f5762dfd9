"""A customer's own site's jobs, opened as they are listed.

Press lists a site's jobs to the team that owns the site (Agent Job's `get_list_query`) but
opens one (`press.api.client.get`: the Job page the dashboard shows while a new site comes up)
only to the team that owns its bench (`press.access.ownership`: Agent Job → Bench.team).
Customers' sites live on the operator's public benches, so a customer's Job page stayed blank
("Not permitted") for every job of their own site. Here a job of a site is opened to the
site's team as well; jobs of no site, and sites of other teams, are refused as before.

`has_document_access` calls `has_linked_access` through its module, so that name is replaced.

The same page follows its job live over Frappe's socket.io, which asks
`frappe.realtime.can_subscribe_doc` before it joins the job's room: a read permission on Agent
Job, which a Press User does not have, so every customer's Job page stood still until reloaded.
`can_subscribe_doc` below answers it for a job of a site or bench of any team the user is in
(socket.io sends no X-Press-Team, so the dashboard's chosen team is not known there).
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


@frappe.whitelist(allow_guest=True)
def can_subscribe_doc(doctype: str, docname: str) -> bool:
	"""Frappe's realtime check (hooks.py overrides it), widened to a team's own site jobs."""
	if doctype == "Agent Job" and active() and frappe.session.user != "Guest" and _in_owning_team(docname):
		return True
	from frappe import realtime

	return realtime.can_subscribe_doc(doctype, docname)


def _in_owning_team(job: str) -> bool:
	from press.utils import is_user_part_of_team

	site, bench = frappe.db.get_value("Agent Job", job, ["site", "bench"]) or (None, None)
	teams = {frappe.db.get_value("Site", site, "team") if site else None,
		frappe.db.get_value("Bench", bench, "team") if bench else None}
	return any(is_user_part_of_team(frappe.session.user, team) for team in teams if team)


PATCHES = [(OWNERSHIP, "has_linked_access", site_team_too)]
