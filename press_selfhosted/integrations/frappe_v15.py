"""Frappe v15 as Press expects it: Press is written against Frappe's develop branch (v16),
whose `frappe.utils.add_to_date` takes its date as optional (now when none is given). On v15
the date is required, and Press's own calls without one raise TypeError: every sign-up on the
dashboard failed so, in Account Request's `before_insert` (`add_to_date(hours=24)`). The
patch gives v15 develop's default, and leaves every call that names a date as it is; on v16
it changes nothing.
"""

from __future__ import annotations

import inspect

from press_selfhosted.integrations import active


def optional_date(original):
	if inspect.signature(original).parameters["date"].default is not inspect.Parameter.empty:
		return original  # develop (v16): the date is optional already

	def add_to_date(date=None, *args, **kwargs):
		if date is None and active():
			from frappe.utils import now_datetime

			date = now_datetime()
		return original(date, *args, **kwargs)

	add_to_date.__doc__ = original.__doc__
	return add_to_date


PATCHES = [("frappe.utils", "add_to_date", optional_date)]
