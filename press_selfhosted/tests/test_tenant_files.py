"""Bench tests: a tenant site's files go to the platform's store through dfp_external_storage,
configured from Press over the site's own API.

The end-to-end test needs a second site of this bench with dfp_external_storage installed
(and neither Press nor press_selfhosted), named in PRESS_SELFHOSTED_TEST_TENANT_SITE:
	bench get-app <dfp_external_storage> && bench new-site tenant.test … && bench --site tenant.test install-app dfp_external_storage
It serves that site with `frappe serve` for the test's duration.
"""

import os
import subprocess
import sys
import time
from unittest import mock, skipUnless

import frappe
import requests
from frappe.tests.utils import FrappeTestCase
from frappe.utils import get_bench_path
from frappe.utils.password import set_encrypted_password

from press_selfhosted.exceptions import AccessDenied, ObjectNotFound
from press_selfhosted.integrations import install, services
from press_selfhosted.integrations.storage import create_tenant_storage
from press_selfhosted.integrations.storage_integration import configure_files, site_changed
from press_selfhosted.storage import Store
from press_selfhosted.tenant_files import tenant_bucket
from press_selfhosted.tests.platform_services import configure, free_port

TENANT = os.environ.get("PRESS_SELFHOSTED_TEST_TENANT_SITE")
ADMIN_PASSWORD = os.environ.get("PRESS_SELFHOSTED_TEST_TENANT_PASSWORD", "admin")


def _press_site(name: str, status: str = "Active", apps: tuple[str, ...] = ("frappe",)):
	"""A Site row for a site Press did not create (Press's own insert needs agents and plans)."""
	site = frappe.get_doc({"doctype": "Site", "name": name, "subdomain": name.split(".")[0], "status": status,
		"apps": [{"app": app} for app in apps]})
	site.db_insert()
	for row in site.apps:
		row.db_insert()
	set_encrypted_password("Site", name, ADMIN_PASSWORD, "admin_password")
	return site


class TestTenantFiles(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.values = configure(f"files{frappe.generate_hash(length=6).lower()}.test")
		install()

	def test_a_new_site_gets_a_bucket_and_key_of_its_own_until_archived(self):
		site = _press_site(f"acme-{frappe.generate_hash(length=6).lower()}.example.com")
		create_tenant_storage(site)  # the Site after_insert hook
		tenant = frappe.get_doc("Tenant Storage", site.name)
		self.assertEqual((tenant.bucket, tenant.prefix), (tenant_bucket(site.name), site.name))
		self.assertTrue(tenant.access_key.startswith("GK"))
		tenant.store().put_bytes(f"{site.name}/a.txt", b"abc")  # the key works on its bucket
		tenant.refresh_usage()
		self.assertEqual((tenant.used_bytes, tenant.object_count), (3, 1))
		with self.assertRaises((AccessDenied, ObjectNotFound)):  # and on nothing else (Garage hides what a key may not see)
			Store(self.values["s3_endpoint"], self.values["s3_bucket"], region=self.values["s3_region"],
				access_key=tenant.access_key, secret_key=tenant.get_password("secret_key")).put_bytes(f"{site.name}/b", b"x")

		site = frappe.get_doc("Site", site.name)
		site.load_doc_before_save()
		site.status = "Archived"
		site_changed(site)  # Site on_update
		revoked = tenant.access_key
		tenant.reload()
		self.assertFalse(tenant.access_key)
		self.assertFalse(services().garage.revoke(revoked))  # already gone
		reader = services().garage.grant(tenant.bucket, f"check {site.name}")  # the objects stay
		try:
			self.assertEqual(Store(self.values["s3_endpoint"], tenant.bucket, region=self.values["s3_region"],
				access_key=reader.access_key, secret_key=reader.secret_key).get_bytes(f"{site.name}/a.txt"), b"abc")
		finally:
			services().garage.revoke(reader.access_key)

	def test_a_renamed_site_keeps_its_storage_under_the_new_name(self):
		old = f"old-{frappe.generate_hash(length=6).lower()}.example.com"
		new = old.replace("old-", "new-")
		create_tenant_storage(_press_site(old))
		key = frappe.db.get_value("Tenant Storage", old, "access_key")
		frappe.rename_doc("Site", old, new, force=True)  # as Press does once the agent renamed the site
		self.assertFalse(frappe.db.exists("Tenant Storage", old))
		tenant = frappe.get_doc("Tenant Storage", new)
		self.assertEqual((tenant.site, tenant.prefix, tenant.access_key), (new, new, key))  # the key id is unchanged
		self.assertIn(f"stays under {old}/", tenant.files_status)
		bucket = tenant.bucket
		tenant.grant_own_key()  # a key under the new name, on the bucket that holds the files
		self.assertEqual(tenant.bucket, bucket)
		self.assertNotEqual(tenant.access_key, key)
		self.assertFalse(services().garage.revoke(key))  # the key of the old name is gone

	def test_without_garage_admin_sites_share_the_platform_bucket_and_get_no_files(self):
		admin_url = frappe.db.get_single_value("Selfhosted Settings", "s3_admin_url")
		frappe.db.set_single_value("Selfhosted Settings", "s3_admin_url", None)
		try:
			site = _press_site(f"shared-{frappe.generate_hash(length=6).lower()}.example.com")
			create_tenant_storage(site)
			tenant = frappe.get_doc("Tenant Storage", site.name)
			self.assertEqual((tenant.bucket, tenant.prefix, tenant.access_key), (self.values["s3_bucket"], site.name, None))
			with self.assertRaisesRegex(Exception, "no key of its own"):
				configure_files(tenant, url="http://127.0.0.1:9")  # refused before any call: nothing answers there
			self.assertIn("no key of its own", frappe.db.get_value("Tenant Storage", site.name, "files_status"))
		finally:
			frappe.db.set_single_value("Selfhosted Settings", "s3_admin_url", admin_url)

	def test_a_site_becoming_active_with_dfp_is_configured_in_the_background(self):
		site = _press_site(f"dfp-{frappe.generate_hash(length=6).lower()}.example.com", "Pending",
			("frappe", "dfp_external_storage"))
		create_tenant_storage(site)
		site = frappe.get_doc("Site", site.name)
		site.load_doc_before_save()
		with mock.patch("frappe.enqueue") as enqueue:
			site.status = "Active"
			site_changed(site)  # Site on_update, as Press's save runs it
			site.db_set("status", "Active")
			site.load_doc_before_save()
			site_changed(site)  # saved again while Active: no second job
		enqueue.assert_called_once()
		self.assertEqual(enqueue.call_args.kwargs["site"], site.name)

	def test_a_site_without_dfp_is_left_alone(self):
		site = _press_site(f"plain-{frappe.generate_hash(length=6).lower()}.example.com", "Pending")
		create_tenant_storage(site)
		site = frappe.get_doc("Site", site.name)
		site.load_doc_before_save()
		with mock.patch("frappe.enqueue") as enqueue:
			site.status = "Active"
			site_changed(site)
		enqueue.assert_not_called()

	@skipUnless(TENANT, "PRESS_SELFHOSTED_TEST_TENANT_SITE names no tenant site with dfp_external_storage")
	def test_tenant_site_uploads_land_in_its_prefix(self):
		port = free_port()
		serve = subprocess.Popen([sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", TENANT, "serve",
			"--port", str(port), "--noreload"], cwd=os.path.join(get_bench_path(), "sites"),
			stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
		try:
			url = f"http://127.0.0.1:{port}"
			self._wait_ping(url)
			if not frappe.db.exists("Site", TENANT):
				_press_site(TENANT, apps=("frappe", "dfp_external_storage"))
			if not frappe.db.exists("Tenant Storage", TENANT):
				create_tenant_storage(frappe.get_doc("Site", TENANT))
			tenant = frappe.get_doc("Tenant Storage", TENANT)
			tenant.grant_own_key()  # this Garage is new for each run

			self.assertIn(configure_files(tenant, url=url), ("created", "replaced", "updated"))  # as earlier runs left it
			self.assertEqual(configure_files(tenant, url=url), "updated")
			self.assertEqual(frappe.db.get_value("Tenant Storage", TENANT, "files_status"), "updated on the site")

			session = requests.Session()
			session.post(f"{url}/api/method/login", data={"usr": "Administrator", "pwd": ADMIN_PASSWORD}, timeout=30).raise_for_status()
			body = frappe.generate_hash().encode()
			upload = session.post(f"{url}/api/method/upload_file", files={"file": ("notes.txt", body, "text/plain")},
				data={"is_private": 1}, timeout=60)
			upload.raise_for_status()
			key = f"{TENANT}/notes-{upload.json()['message']['name']}.txt"  # dfp's key: <site>/<file>-<File name>.<ext>
			self.assertEqual(tenant.store().get_bytes(key), body)
			download = session.get(url + upload.json()["message"]["file_url"], timeout=30)  # read back through dfp
			self.assertEqual(download.content, body)
			tenant.reload()
			tenant.refresh_usage()
			self.assertGreaterEqual(tenant.used_bytes, len(body))
			session.delete(f"{url}/api/resource/File/{upload.json()['message']['name']}", timeout=30).raise_for_status()
			self.assertNotIn(key, [k for k, _ in tenant.store().list(f"{TENANT}/")])  # dfp removes the object with the File
		finally:
			serve.terminate()
			serve.wait(timeout=30)

	def test_a_prefix_dfp_cannot_write_to_is_refused_before_any_call(self):
		site = _press_site(f"moved-{frappe.generate_hash(length=6).lower()}.example.com")
		create_tenant_storage(site)
		tenant = frappe.get_doc("Tenant Storage", site.name)
		tenant.update({"prefix": f"archive/{site.name}", "access_key": "GKtenant", "secret_key": "tenant-secret"})
		tenant.save(ignore_permissions=True)
		with self.assertRaisesRegex(frappe.ValidationError, "dfp_external_storage writes under"):
			configure_files(tenant, url="http://127.0.0.1:9")
		self.assertNotIn("tenant-secret", frappe.db.get_value("Tenant Storage", site.name, "files_status"))

	@staticmethod
	def _wait_ping(url: str) -> None:
		deadline = time.monotonic() + 60
		while True:
			try:
				if requests.get(f"{url}/api/method/ping", timeout=2).ok:
					return
			except requests.ConnectionError:
				pass
			if time.monotonic() > deadline:
				raise TimeoutError(f"{url} did not answer")
			time.sleep(0.5)
