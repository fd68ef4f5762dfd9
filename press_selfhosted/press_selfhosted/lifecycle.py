"""What installing or uninstalling press_selfhosted on a site must do at once.

Press lists the site's hooks, defaults, module map and schema caches (`app_hooks`, `defaults`,
`installed_app_modules`, `db_tables`, `doctype_meta` …) among its `persistent_cache_keys`, so
the cache clears of `install-app` and `uninstall-app` keep them as they were: after an install
our doc_events, before_request and scheduler events stayed inactive, and after an uninstall
the site still listed the app as installed (its `installed_apps` default is cached under
`defaults`), until someone flushed Redis. Frappe runs an app's own after_install and
after_uninstall straight from its hooks.py, once the site's app list has changed: there, the
site's global caches are dropped by name, as `bench migrate` drops them, which persistence
does not stop.
"""

import frappe
from frappe.cache_manager import clear_defaults_cache, clear_global_cache


def refresh_caches() -> None:
	# The hooks this process loaded earlier are memoised for the request (Frappe's request_cache
	# on _load_app_hooks); left there, the next get_hooks would cache them again at once.
	request_cache = getattr(frappe.local, "request_cache", None)
	if request_cache is not None:
		request_cache.clear()
	clear_defaults_cache()
	clear_global_cache()
	# Frappe 16 keeps hooks in a per-process cache in front of Redis as well; deleting through
	# it invalidates every process's copy.
	client_cache = getattr(frappe, "client_cache", None)
	if client_cache is not None:
		client_cache.delete_value("app_hooks")


def after_install() -> None:
	refresh_caches()
	# Frappe marks an app's patches done on install without running them; this one matters on a
	# fresh site too: Press's install made its Default cluster private, where Press keeps no
	# product trial's standby sites.
	from press_selfhosted.patches import platform_cluster_is_public

	platform_cluster_is_public.execute()


def after_uninstall() -> None:
	# Frappe leaves an uninstalled app's scheduled jobs behind, failing every time they are due.
	frappe.db.delete("Scheduled Job Type", {"method": ("like", "press_selfhosted.%")})
	refresh_caches()
	# Frappe rewrote the site's list of apps (`list-apps`, the desk's About) from the stale cache.
	frappe.get_single("Installed Applications").update_versions()
	frappe.db.commit()  # uninstall-app has committed its own work before this hook, and does not after
