"""GitHub → an offline platform.

Press reads each App Source's `hooks.py` from raw.githubusercontent.com when it is saved
(`AppSource.validate_dependent_apps`, for the apps it requires) and polls api.github.com for
new releases. On a platform that cannot reach GitHub, or for an app on a local or private git
server, the first fails on Frappe v15 (its error title is longer than an Error Log title may
be) and stops the App Source from being saved. Here, for sources that are not on github.com
the check is skipped (the administrator names required apps by hand), and a failed check of a
GitHub source is logged briefly and does not stop the save. Polling stops when the source is
saved with `last_github_poll_failed` set; releases are then added as App Release records.

Press's sign-up also refuses disposable email providers from a list it downloads from
raw.githubusercontent.com, with no timeout (Press Settings' "disallow disposable emails"): on a
platform that cannot reach it every sign-up failed, or waited on the connection. The list is
asked for with a timeout here, and a platform that cannot have it refuses no provider (the
operator may list domains to refuse in Press's own settings).
"""

from __future__ import annotations

import frappe

from press_selfhosted.integrations import active

APP_SOURCE = "press.press.doctype.app_source.app_source"
DISPOSABLE = "press.utils.disposable_emails"
DISPOSABLE_LIST = "https://raw.githubusercontent.com/disposable/disposable-email-domains/master/domains.txt"
# How long a sign-up waits for the list before it goes on without it.
LIST_TIMEOUT = 5


def validate_dependent_apps(original):
	def validate_dependent_apps(self):
		if not active():
			return original(self)
		if not (self.repository_url or "").startswith("https://github.com/"):
			return None
		try:
			return original(self)
		except Exception as e:
			frappe.log_error(title="App Source: hooks.py not read", message=f"{self.repository_url}: {e}")
			return None

	return validate_dependent_apps


def disposable_domains(original):
	from frappe.utils.caching import redis_cache

	@redis_cache(ttl=3600)  # as Press's own: asked once an hour, not at every sign-up
	def fetched() -> list[str]:
		import requests

		try:
			answer = requests.get(DISPOSABLE_LIST, timeout=LIST_TIMEOUT)
			answer.raise_for_status()
			return answer.content.decode("utf-8").splitlines()
		except requests.RequestException as e:
			frappe.log_error(title="Sign-up: disposable email list not read", message=f"{DISPOSABLE_LIST}: {e}")
			return []

	def domains() -> list[str]:
		if not active() or frappe.flags.in_test:
			return original()
		return fetched()

	domains.fetched = fetched
	return domains


PATCHES = [
	(APP_SOURCE, "AppSource.validate_dependent_apps", validate_dependent_apps),
	(DISPOSABLE, "domains", disposable_domains),
]
