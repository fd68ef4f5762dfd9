"""The platform's SMTP relay for the dashboard journey: every message it takes is written to
DIR/<nanoseconds>.eml (the recipients first, as an X-To header), which journey.mjs reads for
the verification code. Run: python mail_catcher.py PORT DIR (needs aiosmtpd)."""

import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class Folder:
	def __init__(self, folder: Path):
		self.folder = folder

	async def handle_DATA(self, server, session, envelope):
		recipients = ",".join(envelope.rcpt_tos).encode()
		(self.folder / f"{time.time_ns()}.eml").write_bytes(b"X-To: " + recipients + b"\r\n" + envelope.content)
		return "250 OK"


if __name__ == "__main__":
	port, folder = int(sys.argv[1]), Path(sys.argv[2])
	folder.mkdir(parents=True, exist_ok=True)
	Controller(Folder(folder), hostname="127.0.0.1", port=port).start()
	print(f"relay on 127.0.0.1:{port}, messages in {folder}", flush=True)
	while True:
		time.sleep(3600)
