"""Mailgun → the operator's SMTP relay.

Press relays tenant sites' mail in `press.api.email.send_mime_mail`, which posts the MIME
message to api.mailgun.net. `override_whitelisted_methods` routes that endpoint here: the same
checks (press/api/email.py `validate_plan`, `check_spam`, `check_recipients`), then the message
goes through the SMTP relay of Selfhosted Settings. Press's own mail already goes through
Frappe's Email Account, which `bench selfhosted setup` points at the same relay.
"""

from __future__ import annotations

import json

import frappe

from press_selfhosted.integrations import services
from press_selfhosted.mail import send_mime


@frappe.whitelist(allow_guest=True)
def send_mime_mail(data: str):
	from press.api.email import check_recipients, check_spam, validate_plan

	data_dict = json.loads(data)
	validate_plan(data_dict["sk_mail"])
	message: bytes = frappe.request.files["mime"].read()
	check_spam(message)
	check_recipients(data_dict["recipients"])
	relay(message, data_dict["recipients"])
	return "Sending"


def relay(message: bytes, recipients) -> str:
	s = services()
	s.need("smtp_server")
	settings = s.settings
	return send_mime(message, recipients, host=settings["smtp_server"], port=int(settings.get("smtp_port") or 587),
		starttls=bool(settings.get("smtp_use_tls")), username=settings.get("smtp_username") or None,
		password=settings.get("smtp_password"))
