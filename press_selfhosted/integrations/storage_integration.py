"""Press's storage add-on for tenant files → dfp_external_storage on the tenant site.

Press's add-on (`Storage Integration Subscription`, press/press/doctype/
storage_integration_subscription) asks a proxy's agent for a MinIO user limited to
`<bucket>/<site>/*` and leaves the rest to the unmaintained storage_integration app. Here a
site that has dfp_external_storage gets its `DFP External Storage` document as soon as it is
Active: the S3 endpoint tenants reach, the bucket and the key of its `Tenant Storage`, written
over the site's own API as its Administrator, the way Press talks to a site in
`Site.get_connection_as_admin` (press/press/doctype/site/site.py).
"""

from __future__ import annotations

import functools

import frappe
from frappe.frappeclient import FrappeClient
from frappe.utils import now_datetime
from frappe.utils.password import get_decrypted_password

from press_selfhosted.integrations import active, services
from press_selfhosted.tenant_files import APP, DfpStorage, configure

TIMEOUT = 30


def site_changed(doc, method=None):
	"""Site on_update: once Active, a site with dfp_external_storage gets its storage; once
	Archived, its own key is revoked (its objects stay, like Press keeps an archived site's backups)."""
	if not active() or not doc.has_value_changed("status") or not frappe.db.exists("Tenant Storage", doc.name):
		return
	if doc.status == "Archived":
		try:
			revoke_own_key(frappe.get_doc("Tenant Storage", doc.name))
		except Exception:  # the site is archived all the same; the key stays until revoked by hand
			frappe.log_error(f"Tenant Storage: revoking the key of {doc.name}")
	elif doc.status == "Active" and APP in {row.app for row in doc.apps}:
		frappe.enqueue("press_selfhosted.integrations.storage_integration.configure_site", site=doc.name,
			enqueue_after_commit=True)


def site_renamed(doc, method=None, old=None, new=None, merge=False):
	"""Site after_rename: its Tenant Storage follows. Press's backups and dfp's files go under
	`<new>/` from now on; what is under `<old>/` stays there."""
	if not active() or not frappe.db.exists("Tenant Storage", old) or frappe.db.exists("Tenant Storage", new):
		return
	frappe.rename_doc("Tenant Storage", old, new, force=True, show_alert=False)
	tenant = frappe.get_doc("Tenant Storage", new)
	if tenant.prefix == old:
		tenant.update({"prefix": new, "files_status": f"renamed from {old}: what was written before stays under {old}/"})
		tenant.save(ignore_permissions=True)


def revoke_own_key(tenant) -> None:
	if not tenant.access_key or not services().garage or not services().garage.revoke(tenant.access_key):
		return
	tenant.update({"access_key": None, "secret_key": None, "files_status": "own key revoked: the site is archived"})
	tenant.save(ignore_permissions=True)


def configure_site(site: str) -> None:
	"""Background job: a failure is recorded on the Tenant Storage and in the Error Log."""
	try:
		configure_files(frappe.get_doc("Tenant Storage", site))
	except Exception:
		frappe.log_error(f"Tenant Storage: files of {site} on the site")


def configure_files(tenant, url: str | None = None) -> str:
	"""Writes the tenant's storage on its site (`url`: where the site answers, default
	https://<host name>) and records the outcome on the Tenant Storage."""
	try:
		outcome = push(tenant, dfp_storage(tenant), url)
	except Exception as e:
		tenant.db_set("files_status", f"failed: {str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__}")
		raise
	tenant.db_set({"files_status": f"{outcome} on the site", "files_configured_at": now_datetime()})
	return outcome


def dfp_storage(tenant) -> DfpStorage:
	"""The settings a Tenant Storage gives its site; its prefix must be where dfp writes."""
	s = services().settings
	if tenant.prefix.rstrip("/") != tenant.site:
		frappe.throw(f"dfp_external_storage writes under {tenant.site}/, but this tenant's prefix is {tenant.prefix}/",
			frappe.ValidationError)
	endpoint = s.get("s3_tenant_endpoint") or s.get("s3_endpoint")
	return DfpStorage.for_site(tenant.site, endpoint or "", tenant.bucket, region=s.get("s3_region") or "",
		access_key=tenant.access_key or "", secret_key=tenant.get_password("secret_key", raise_exception=False) or "")


def push(tenant, storage: DfpStorage, url: str | None = None) -> str:
	"""Writes the settings on the site (`url`, default https://<host name>); says what changed."""
	site = frappe.get_doc("Site", tenant.site)
	url = url or f"https://{site.host_name or site.name}"
	ca = services().settings.get("ca_directory")
	api = FrappeClient(url, verify=f"{ca}/root.crt" if ca and url.startswith("https://") else True)
	# FrappeClient sets no timeout: a site that stops answering must not hold the worker forever.
	api.session.request = functools.partial(api.session.request, timeout=TIMEOUT)
	# A form post: FrappeClient's own login puts the password in the URL, hence in access logs.
	login = api.session.post(f"{url}/api/method/login", verify=api.verify,
		data={"usr": "Administrator", "pwd": get_decrypted_password("Site", site.name, "admin_password")})
	if login.status_code != 200:
		frappe.throw(f"{url} refused the Administrator's login (HTTP {login.status_code})")
	return configure(api, storage)
