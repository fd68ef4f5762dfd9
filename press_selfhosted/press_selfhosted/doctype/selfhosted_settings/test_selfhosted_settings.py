"""Bench tests of Selfhosted Settings: secrets are stored encrypted and reach the services
decrypted; the doctor runs on what is configured.

Run: bench --site <press-site> run-tests --app press_selfhosted
"""

import frappe
from frappe.tests.utils import FrappeTestCase

from press_selfhosted.doctor import checks_from_settings, run_checks
from press_selfhosted.press_selfhosted.doctype.selfhosted_settings.selfhosted_settings import PASSWORDS, settings_dict


class TestSelfhostedSettings(FrappeTestCase):
	def test_secrets_are_stored_encrypted_and_given_to_services_decrypted(self):
		settings = frappe.get_single("Selfhosted Settings")
		secrets = {field: frappe.generate_hash(length=32) for field in PASSWORDS}
		settings.update({"s3_endpoint": "http://127.0.0.1:3900", "s3_bucket": "backups", **secrets})
		settings.save()
		for field, secret in secrets.items():
			stored = frappe.db.get_single_value("Selfhosted Settings", field)
			self.assertNotEqual(stored, secret, field)  # the document keeps a mask, the secret is in __Auth
		data = settings_dict()
		for field, secret in secrets.items():
			self.assertEqual(data[field], secret, field)
		self.assertEqual((data["s3_endpoint"], data["s3_bucket"]), ("http://127.0.0.1:3900", "backups"))

	def test_an_inverted_port_range_is_refused(self):
		settings = frappe.get_single("Selfhosted Settings")
		settings.port_range_start, settings.port_range_end = 32500, 32300
		self.assertRaises(frappe.ValidationError, settings.save)

	def test_the_doctor_names_what_is_not_configured(self):
		frappe.get_single("Selfhosted Settings").update({"pdns_api_url": None, "pdns_api_key": None}).save()
		results = {r.name: r for r in run_checks(checks_from_settings(settings_dict()))}
		self.assertFalse(results["powerdns"].ok)
		self.assertIn("set pdns_api_url, pdns_api_key in Selfhosted Settings", results["powerdns"].detail)
