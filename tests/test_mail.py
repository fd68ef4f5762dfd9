"""Tenant mail relayed through a real SMTP server (aiosmtpd on a loopback port)."""

import socket
from email.message import EmailMessage

import pytest

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from press_selfhosted import exceptions as exc
from press_selfhosted.mail import send_mime

PASSWORD = "relay-pass-7f3a"


class Inbox:
	def __init__(self):
		self.messages = []

	async def handle_RCPT(self, server, session, envelope, address, options):
		if address.startswith("refused@"):
			return "550 5.1.1 mailbox unavailable"
		envelope.rcpt_tos.append(address)
		return "250 OK"

	async def handle_DATA(self, server, session, envelope):
		self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
		return "250 Message accepted"


def _free_port():
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


@pytest.fixture
def relay():
	inbox = Inbox()

	def authenticate(server, session, envelope, mechanism, data):
		ok = data.login == b"tenant-mail" and data.password == PASSWORD.encode()
		return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

	controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), authenticator=authenticate,
		auth_require_tls=False, auth_required=True, auth_exclude_mechanism=["LOGIN"])
	controller.start()
	yield controller.port, inbox
	controller.stop()


def _message(sender="site@acme.test"):
	message = EmailMessage()
	message["From"], message["To"], message["Subject"] = f"Acme <{sender}>", "a@example.test", "Invoice"
	message.set_content("Your invoice is attached.")
	return message.as_bytes()


def test_a_tenant_message_is_relayed_as_sent(relay):
	port, inbox = relay
	body = _message()
	sender = send_mime(body, ["a@example.test", "B <b@example.test>"], host="127.0.0.1", port=port, starttls=False,
		username="tenant-mail", password=PASSWORD)
	assert sender == "site@acme.test"
	[(mail_from, rcpt, content)] = inbox.messages
	assert mail_from == "site@acme.test" and rcpt == ["a@example.test", "b@example.test"]
	assert b"Your invoice is attached." in content and b"Subject: Invoice" in content


def test_refusals_are_typed_and_keep_the_password_out(relay):
	port, inbox = relay
	with pytest.raises(exc.MailError) as wrong:
		send_mime(_message(), "a@example.test", host="127.0.0.1", port=port, starttls=False, username="tenant-mail", password="nope")
	assert "535" in str(wrong.value) and "nope" not in str(wrong.value)
	with pytest.raises(exc.MailError, match="550"):
		send_mime(_message(), "refused@example.test", host="127.0.0.1", port=port, starttls=False,
			username="tenant-mail", password=PASSWORD)
	with pytest.raises(exc.MailError, match="unreachable"):
		send_mime(_message(), "a@example.test", host="127.0.0.1", port=_free_port(), starttls=False)
	for bad in ([], ["no-at-sign"], ["a@example.test\r\nRCPT TO:<x@evil.test>"]):
		with pytest.raises(exc.ValidationError):
			send_mime(_message(), bad, host="127.0.0.1", port=port, starttls=False)
	with pytest.raises(exc.ValidationError, match="From"):
		send_mime(_message(sender="nobody"), "a@example.test", host="127.0.0.1", port=port, starttls=False)
	assert inbox.messages == []
