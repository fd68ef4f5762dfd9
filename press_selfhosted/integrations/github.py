"""GitHub → an offline platform.

Press reads each App Source's `hooks.py` from raw.githubusercontent.com when it is saved
(`AppSource.validate_dependent_apps`, for the apps it requires) and polls api.github.com for
new releases. On a platform that cannot reach GitHub, or for an app on a local or private git
server, the first fails on Frappe v15 (its error title is longer than an Error Log title may
be) and stops the App Source from being saved. Here, for sources that are not on github.com
the check is skipped (the administrator names required apps by hand), and a failed check of a
GitHub source is logged briefly and does not stop the save. Polling stops when the source is
saved with `last_github_poll_failed` set; releases are then added as App Release records.
"""

from __future__ import annotations

import frappe

from press_selfhosted.integrations import active

APP_SOURCE = "press.press.doctype.app_source.app_source"


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


PATCHES = [(APP_SOURCE, "AppSource.validate_dependent_apps", validate_dependent_apps)]
