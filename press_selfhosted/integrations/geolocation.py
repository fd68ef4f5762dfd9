"""pro.ip-api.com → the visitor's own word.

Press asks pro.ip-api.com (with Frappe Cloud's key, `ip-api-key` in its site config) for the
country and region of every visitor who signs up (Account Request's `before_insert`) or opens
the sign-up settings, with no timeout; the request's failure is not caught. On a platform that
cannot reach it, or has no key, every sign-up from the dashboard failed. Here no address is
looked up: the answer is "unknown" ({}), as Press's own tests have it, and the customer names
their country in the account's set-up, as Press asks anyway. A platform with a key and the
internet keeps Press's lookup by setting `ip-api-key`.

`get_country_info` is imported by name where it is used, so each of those names is replaced.
"""

from __future__ import annotations

import frappe

from press_selfhosted.integrations import active


def no_lookup(original):
	def get_country_info() -> dict:
		if active() and not frappe.conf.get("ip-api-key"):
			return {}
		return original()

	return get_country_info


PATCHES = [
	(module, "get_country_info", no_lookup)
	for module in ("press.utils", "press.api.account", "press.press.doctype.account_request.account_request",
		"press.saas.doctype.saas_signup_generator.saas_signup_generator")
]
