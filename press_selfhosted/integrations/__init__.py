"""Press behaviour replaced in place, one file per thing replaced.

Most replacements are hooks (doc_events, override_whitelisted_methods, override_doctype_class).
What Press reaches without a hook — a module attribute it looks up at call time — is patched
by `install()`, which runs from `before_request` and `before_job` because hooks are cached and
an import side effect alone is not reliable. Each patch is idempotent and checks at call time
that press_selfhosted is installed on the current site; otherwise Press's own code runs, so a
site without the app (or after uninstall) behaves as stock Press.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import frappe

APP = "press_selfhosted"
SETTINGS = "Selfhosted Settings"
MARK = "__press_selfhosted_original__"

# (module, attribute, factory): the factory takes Press's original and returns its replacement;
# the attribute may be dotted ("Class.method").
Patch = tuple[str, str, Callable[[object], object]]


class patched_property(property):
	"""A property that can carry the mark of its patch (plain properties take no attributes)."""


def active() -> bool:
	"""Whether the current site runs press_selfhosted (cached per request by Frappe)."""
	return APP in frappe.get_installed_apps()


def patches() -> list[Patch]:
	from press_selfhosted.integrations import (agent, billing, dns, frappe_v15, geolocation, github, product_sites,
		site_jobs, storage, tls)

	return [*agent.PATCHES, *billing.PATCHES, *dns.PATCHES, *frappe_v15.PATCHES, *geolocation.PATCHES, *github.PATCHES,
		*product_sites.PATCHES, *site_jobs.PATCHES, *storage.PATCHES, *tls.PATCHES]


def install(*args, **kwargs) -> None:
	"""Applies every patch not yet applied in this process (hook signature: ignores its arguments),
	and lets it reach the platform's sites (integrations/reach.py)."""
	# Not while apps are installed, migrated or removed: their documents are saved before (or
	# after) Selfhosted Settings' own DocType is there to read.
	if active() and not (frappe.flags.in_migrate or frappe.flags.in_install or frappe.flags.in_uninstall):
		from press_selfhosted.integrations import reach

		try:
			reach.install()
		except (frappe.DoesNotExistError, ImportError):
			# Another process is uninstalling the app: its DocTypes go before installed_apps
			# forgets it, so a job started meanwhile finds no Selfhosted Settings to load (Frappe
			# raises ImportError for its controller, or DoesNotExistError for its meta).
			if frappe.db.exists("DocType", SETTINGS):
				raise
	for module, attribute, factory in patches():
		owner, name = _owner(module, attribute)
		original = getattr(owner, name)
		if hasattr(original, MARK):
			continue
		replacement = factory(original)
		setattr(replacement, MARK, original)
		setattr(owner, name, replacement)


def original(module: str, attribute: str):
	"""Press's own object behind a patch (itself when unpatched)."""
	owner, name = _owner(module, attribute)
	current = getattr(owner, name)
	return getattr(current, MARK, current)


def _owner(module: str, attribute: str) -> tuple[object, str]:
	owner = importlib.import_module(module)
	*path, name = attribute.split(".")
	for part in path:
		owner = getattr(owner, part)
	return owner, name


# Where services() keeps its answer: frappe.local lives for one request or one background job.
SERVICES = "press_selfhosted_services"


def services():
	"""The platform's services from Selfhosted Settings, read (and their passwords decrypted)
	once per request or job, and again only when the settings have changed since (their
	`modified`, one indexed read: a change made elsewhere, or by db_set, is seen too)."""
	modified = frappe.db.sql("SELECT value FROM `tabSingles` WHERE doctype = 'Selfhosted Settings' AND field = 'modified'")
	cached = getattr(frappe.local, SERVICES, None)
	if cached is None or cached[0] != modified:
		from press_selfhosted.press_selfhosted.doctype.selfhosted_settings.selfhosted_settings import settings_dict
		from press_selfhosted.services import Services

		cached = (modified, Services(settings_dict()))
		setattr(frappe.local, SERVICES, cached)
	return cached[1]
