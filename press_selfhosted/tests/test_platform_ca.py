"""Bench tests: the app inside a Press site, with the native core loaded by the worker.

Run: bench --site <press-site> run-tests --app press_selfhosted
"""

import tempfile
from pathlib import Path

import frappe
from frappe.tests.utils import FrappeTestCase

from press_selfhosted.exceptions import SelfHostedError, ValidationError
from press_selfhosted.pki import CertificateAuthority, inspect_certificate


class TestPlatformCA(FrappeTestCase):
	def test_installed_on_a_press_site(self):
		apps = frappe.get_installed_apps()
		self.assertIn("press", apps)
		self.assertIn("press_selfhosted", apps)
		self.assertLess(apps.index("press"), apps.index("press_selfhosted"))

	def test_issues_a_wildcard_for_a_root_domain(self):
		with tempfile.TemporaryDirectory() as tmp:
			ca = CertificateAuthority.create(Path(tmp) / "ca", passphrase=frappe.generate_hash(length=24))
			cert = ca.issue(["*.tenants.test", "tenants.test"])
			info = inspect_certificate(cert.full_chain_pem)
			self.assertEqual(info.names, ["*.tenants.test", "tenants.test"])
			self.assertEqual(info.issuer, inspect_certificate(ca.intermediate_pem).subject)
			self.assertFalse(info.needs_renewal())

	def test_bad_domains_raise_a_catchable_app_error(self):
		with tempfile.TemporaryDirectory() as tmp:
			ca = CertificateAuthority.create(Path(tmp) / "ca")
			with self.assertRaises(ValidationError):
				ca.issue(["a.*.tenants.test"])
			with self.assertRaises(SelfHostedError):
				CertificateAuthority.create(Path(tmp) / "ca")
