"""Bench test: `selfhosted setup` gives Press an outgoing Email Account on the platform's SMTP
relay, and Press's own mail (frappe.sendmail) goes through it to a real SMTP server
(aiosmtpd on loopback)."""

import time

import frappe
from aiosmtpd.controller import Controller
from frappe.tests.utils import FrappeTestCase

from press_selfhosted.commands.setup import email_account
from press_selfhosted.tests.platform_services import Inbox, free_port


class TestPlatformMail(FrappeTestCase):
	def test_press_mail_goes_through_the_platform_smtp_account(self):
		inbox, port = Inbox(), free_port()
		relay = Controller(inbox, hostname="127.0.0.1", port=port)
		relay.start()
		try:
			frappe.db.delete("Email Account", {"name": "Platform SMTP"})
			settings = frappe.get_single("Selfhosted Settings")
			settings.update({"smtp_server": "127.0.0.1", "smtp_port": port, "smtp_use_tls": 0, "smtp_username": None,
				"root_domain": settings.root_domain or "mail.test"})
			settings.save()

			self.assertEqual(email_account(), [f"Email Account Platform SMTP: outgoing through 127.0.0.1:{port}"])
			self.assertEqual(email_account(), [])  # a second setup changes nothing
			account = frappe.get_doc("Email Account", "Platform SMTP")
			self.assertEqual((account.enable_outgoing, account.default_outgoing, account.smtp_port), (1, 1, str(port)))

			# Frappe caches the outgoing account per request; a request after setup starts without it.
			frappe.local.outgoing_email_account = {}
			subject = f"Site ready {frappe.generate_hash(length=8)}"
			frappe.flags.testing_email = True  # Frappe skips the SMTP session in tests without it
			frappe.sendmail(recipients=["ops@example.com"], subject=subject, message="Your site is ready.", now=True)
			frappe.db.commit()  # Frappe 16 sends a now=True mail once the transaction commits; 15 at once
			deadline = time.monotonic() + 10
			while not inbox.messages and time.monotonic() < deadline:
				time.sleep(0.1)
			self.assertEqual(len(inbox.messages), 1)
			sender, recipients, content = inbox.messages[0]
			self.assertEqual((sender, recipients), (account.email_id, ["ops@example.com"]))
			self.assertIn(subject.encode(), content)
		finally:
			frappe.flags.testing_email = False
			relay.stop()
