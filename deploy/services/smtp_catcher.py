"""The platform's SMTP catcher for development: accepts every message on port 1025, keeps it
as an .eml file in the folder given, and logs one line per message. Standard library only, so
that any image with Python 3 runs it. `--check` is the healthcheck: exits 0 when the catcher
greets on its port.

	python3 smtp_catcher.py /var/mail/caught
"""

import asyncio
import socket
import sys
import time
from pathlib import Path

PORT = 1025
MAX_BYTES = 50 * 1024 * 1024


async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, folder: Path) -> None:
	def reply(line: str) -> None:
		writer.write(f"{line}\r\n".encode())

	sender, recipients = "", []
	reply("220 erp-saas-cloud-c16 SMTP catcher")
	while line := await reader.readline():
		command = line.decode(errors="replace").strip()
		verb = command[:4].upper()
		if verb in ("HELO", "EHLO"):
			reply(f"250-catcher\r\n250 SIZE {MAX_BYTES}" if verb == "EHLO" else "250 catcher")
		elif verb == "MAIL":
			sender, recipients = (command[10:].split() or [""])[0], []
			reply("250 OK")
		elif verb == "RCPT":
			recipients.append((command[8:].split() or [""])[0])
			reply("250 OK")
		elif verb == "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			await writer.drain()
			body = bytearray()
			while (chunk := await reader.readline()) not in (b".\r\n", b".\n", b""):
				body += chunk[1:] if chunk.startswith(b"..") else chunk
				if len(body) > MAX_BYTES:
					reply("552 message too large")
					break
			else:
				path = folder / f"{time.time_ns()}.eml"
				path.write_bytes(bytes(body))
				print(f"caught {path.name}: from {sender} to {', '.join(recipients)}, {len(body)} bytes", flush=True)
				reply("250 OK: caught")
		elif verb == "QUIT":
			reply("221 bye")
			break
		elif verb in ("RSET", "NOOP"):
			reply("250 OK")
		else:
			reply("502 not implemented")
		await writer.drain()
	writer.close()


def check() -> int:
	with socket.create_connection(("127.0.0.1", PORT), timeout=5) as conn:
		return 0 if conn.recv(64).startswith(b"220") else 1


async def main(folder: Path) -> None:
	folder.mkdir(parents=True, exist_ok=True)
	server = await asyncio.start_server(lambda r, w: session(r, w, folder), "0.0.0.0", PORT)
	print(f"SMTP catcher on port {PORT}, messages kept in {folder}", flush=True)
	async with server:
		await server.serve_forever()


if __name__ == "__main__":
	if sys.argv[1:] == ["--check"]:
		sys.exit(check())
	asyncio.run(main(Path(sys.argv[1])))
