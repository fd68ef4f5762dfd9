"""A product trial's site: its users reported to this platform, and its name set once.

**Webhooks.** When a trial's site is handed out, Press makes three Webhooks on it (a User
inserted, enabled or disabled, deleted) so that the site's users can later log in from the
dashboard; their address is Frappe Cloud's own (`https://frappecloud.com/api/method/…`),
written into Press. On a self-hosted platform that would send every customer's user list to a
third party, and keep the dashboard's copy empty. Here each Webhook keeps Press's path and goes to this Press instead
(Frappe's `get_url()`: the site's `host_name`, as in Press's own mails).

**The chosen name.** Handing out a standby site makes two Add Domain jobs for the name the
customer chose: the trial's own, and one Press's callback of Add Domain to Upstream makes.
Press's callback of each makes the name the site's primary and redirects the old one to it;
when the untracked job finishes first, the trial's own then asks to redirect the primary to
itself, which Press refuses — the callback fails on every poll, rolled back, and the customer
waits on "Adding Domain" for good. With the local executor's jobs done in seconds, that order
is common. Here a job whose name is already the site's primary only moves the trial request on.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit, urlunsplit

import frappe

from press_selfhosted.integrations import active

SITE = "press.press.doctype.site.site"


def on_this_platform(url: str, platform_url: str) -> str:
	"""The URL with the platform's scheme and host, and its own path and query."""
	here, there = urlsplit(platform_url), urlsplit(url or "")
	return urlunsplit((here.scheme, here.netloc, there.path, there.query, ""))


def webhooks_to_this_platform(original):
	def create_sync_user_webhook(self):
		if not active():
			return original(self)
		connect = self.get_connection_as_admin

		def connection():
			client = connect()
			insert = client.insert
			client.insert = lambda doc: insert(
				{**doc, "request_url": on_this_platform(doc.get("request_url"), frappe.utils.get_url())}
				if doc.get("doctype") == "Webhook" else doc)
			return client

		self.get_connection_as_admin = connection  # this document only, for this call
		try:
			return original(self)
		finally:
			del self.get_connection_as_admin

	return create_sync_user_webhook


def primary_once(original):
	def process_add_domain_job_update(job):
		if not active() or job.status != "Success":
			return original(job)
		domain = json.loads(job.request_data or "{}").get("domain")
		if not domain or frappe.db.get_value("Site", job.site, "host_name") != domain:
			return original(job)
		for name in frappe.get_all("Product Trial Request", filters={"site": job.site, "status": ("!=", "Site Created")},
				pluck="name"):
			frappe.get_doc("Product Trial Request", name, for_update=True).update_status_from_agent_jobs()
		return None

	return process_add_domain_job_update


PATCHES = [(SITE, "Site.create_sync_user_webhook", webhooks_to_this_platform),
	(SITE, "process_add_domain_job_update", primary_once)]
