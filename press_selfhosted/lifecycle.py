"""What installing or uninstalling press_selfhosted on a site must do at once.

Press lists `app_hooks` among its `persistent_cache_keys`, so the cache clear of `install-app`
(and of `bench clear-cache`) keeps the hooks as they were cached before: our doc_events,
before_request and scheduler events would stay inactive until someone flushed Redis, and
inactive again only then after an uninstall. Frappe runs an app's own after_install and
after_uninstall straight from its hooks.py, after the site's app list has changed; dropping
that one key there makes every process read all apps' hooks again.
"""

import frappe


def refresh_hooks() -> None:
	frappe.cache.delete_value("app_hooks")
	# Frappe 16 keeps hooks in a per-process cache in front of Redis as well; deleting through
	# it invalidates every process's copy.
	client_cache = getattr(frappe, "client_cache", None)
	if client_cache is not None:
		client_cache.delete_value("app_hooks")


def after_install() -> None:
	refresh_hooks()


def after_uninstall() -> None:
	refresh_hooks()
