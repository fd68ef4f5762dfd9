"""Bench test: the README's install path on a fresh Press site makes press_selfhosted active at
once, and uninstalling makes it inactive, with no cache flush in between.

Press keeps `app_hooks` across install-app's cache clear (its persistent_cache_keys), so this
needs a site of its own: it creates one with Press (several minutes), primes the hooks cache
as any request would, installs and uninstalls the app through the bench CLI, and drops the site.
It needs the MariaDB root password in PRESS_SELFHOSTED_TEST_DB_ROOT_PASSWORD.
"""

import json
import os
import shutil
import subprocess
from unittest import skipIf, skipUnless

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import get_bench_path

ROOT_PASSWORD = os.environ.get("PRESS_SELFHOSTED_TEST_DB_ROOT_PASSWORD")
BENCH = shutil.which("bench")


def doc_event_fires() -> str:
	"""Run in a process of the fresh site: whether the site counts press_selfhosted as installed,
	whether its Root Domain before_validate doc_event fires (it keeps every Root Domain on
	Generic), whether its scheduled jobs exist, and whether Press's Default cluster is public, as
	JSON."""
	doc = frappe.new_doc("Root Domain")
	doc.dns_provider = "AWS Route 53"
	doc.run_method("before_validate")  # Frappe's own dispatch: the controller, then the doc_events hooks
	return json.dumps({
		"installed": "press_selfhosted" in frappe.get_installed_apps(),
		"provider": doc.dns_provider,
		"scheduled": bool(frappe.db.exists("Scheduled Job Type", {"method": "press_selfhosted.press_selfhosted.doctype.platform_service.health.refresh"})),
		"public": frappe.db.get_value("Cluster", "Default", "public"),
	})


@skipUnless(ROOT_PASSWORD, "PRESS_SELFHOSTED_TEST_DB_ROOT_PASSWORD is not set")
@skipUnless(BENCH, "the bench CLI is not on PATH")
@skipIf(frappe.conf.developer_mode, "developer_mode reads hooks without the cache this test is about")
class TestInstallOnAFreshSite(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.site = f"fresh{frappe.generate_hash(length=6).lower()}.test"
		cls.bench(["new-site", cls.site, "--db-root-password", ROOT_PASSWORD, "--admin-password", frappe.generate_hash(),
			"--install-app", "press"])

	@classmethod
	def tearDownClass(cls):
		try:
			cls.bench(["drop-site", cls.site, "--db-root-password", ROOT_PASSWORD, "--no-backup", "--force"])
		finally:
			super().tearDownClass()

	@staticmethod
	def bench(args: list[str]) -> str:
		done = subprocess.run([BENCH, *args], cwd=get_bench_path(), capture_output=True, text=True, timeout=1800)
		if done.returncode:
			raise AssertionError(f"bench {args[0]} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
		return done.stdout

	def fired(self) -> dict:
		"""doc_event_fires() in a new process connected to the fresh site, as a worker would be
		(`bench execute` refuses functions of apps the site does not have)."""
		code = (f"import frappe; frappe.init(site={self.site!r}, sites_path='.'); frappe.connect(); "
			"from press_selfhosted.tests.test_install import doc_event_fires; print(doc_event_fires())")
		python = os.path.join(get_bench_path(), "env", "bin", "python")
		done = subprocess.run([python, "-c", code], cwd=os.path.join(get_bench_path(), "sites"), capture_output=True, text=True, timeout=300)
		if done.returncode:
			raise AssertionError(f"doc_event_fires exited {done.returncode}:\n{done.stderr[-3000:]}")
		return json.loads(done.stdout.strip().splitlines()[-1])

	def test_install_activates_and_uninstall_deactivates_without_a_flush(self):
		# The hooks cached as every request and job of a Press site caches them.
		self.bench(["--site", self.site, "execute", "frappe.get_hooks"])
		self.assertEqual(self.fired(), {"installed": False, "provider": "AWS Route 53", "scheduled": False, "public": 0})

		self.bench(["--site", self.site, "install-app", "press_selfhosted"])
		self.assertEqual(self.fired(), {"installed": True, "provider": "Generic", "scheduled": True, "public": 1})

		self.bench(["--site", self.site, "uninstall-app", "press_selfhosted", "--yes", "--no-backup"])
		self.assertEqual(self.fired(), {"installed": False, "provider": "AWS Route 53", "scheduled": False, "public": 1})
