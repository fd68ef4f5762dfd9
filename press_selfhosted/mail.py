"""Tenant mail through the operator's SMTP relay, in place of Mailgun's HTTP API.

	send_mime(message_bytes, ["a@example.com"], host="127.0.0.1", port=587, username=…, password=…)
"""

from __future__ import annotations

import smtplib
import ssl
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr

from press_selfhosted.exceptions import MailError, ValidationError


def send_mime(message: bytes, recipients: list[str] | str, *, host: str, port: int = 587, starttls: bool = True,
		username: str | None = None, password: str | None = None, ca_bundle: str | None = None, timeout: float = 30) -> str:
	"""Relays a complete MIME message to `recipients` (the envelope; headers are not rewritten).
	The envelope sender is the message's From. Returns the sender."""
	recipients = _addresses(recipients)
	sender = parseaddr(BytesHeaderParser().parsebytes(message).get("From", ""))[1]
	if "@" not in sender:
		raise ValidationError("the message has no From address")
	try:
		with smtplib.SMTP(host, port, timeout=timeout) as smtp:
			if starttls:
				smtp.starttls(context=ssl.create_default_context(cafile=ca_bundle))
			if username:
				smtp.login(username, password or "")
			refused = smtp.sendmail(sender, recipients, message)
	except smtplib.SMTPException as e:
		raise MailError(f"{host}:{port} refused the message: {_reply(e)}") from None
	except OSError as e:
		raise MailError(f"{host}:{port} unreachable: {e.strerror or e}") from None
	if refused:
		raise MailError(f"{host}:{port} refused {', '.join(sorted(refused))}")
	return sender


def _addresses(recipients: list[str] | str) -> list[str]:
	if isinstance(recipients, str):
		recipients = [recipients]
	if any("\r" in r or "\n" in r for r in recipients):
		raise ValidationError("a recipient contains a line break")
	addresses = [address for _, address in getaddresses(recipients)]
	bad = [a for a in addresses if "@" not in a or any(c in a for c in "\r\n<>,; ")]
	if not addresses or bad:
		raise ValidationError(f"bad recipients: {bad or 'none given'}")
	return addresses


def _reply(error: smtplib.SMTPException) -> str:
	"""The server's code and text; smtplib's own messages carry no credentials."""
	code, text = getattr(error, "smtp_code", None), getattr(error, "smtp_error", None)
	if code and text:
		return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
	return str(error)
