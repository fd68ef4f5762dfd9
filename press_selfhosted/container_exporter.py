"""The platform's container exporter: `GET /metrics` answers every container of the platform's
engines in Prometheus' text format, with cAdvisor's metric names and the labels Press's charts
select on (the core's `container_metrics`). Prometheus scrapes it as job "cadvisor", the job
Press's bench and site charts ask for; cAdvisor itself watches neither Podman nor a remote engine.

	python -m press_selfhosted.container_exporter --listen 127.0.0.1:32372 \\
		--engine f1.example.com=unix:///run/podman/podman.sock \\
		--engine f2.example.com=tcp://10.0.0.2:2376 --tls f2.example.com=ca.crt,client.crt,client.key

Each engine is named as its Press Server is (the `engine` label). Plain data: no Frappe here.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from press_selfhosted._native import container_metrics
from press_selfhosted.exceptions import ValidationError
from press_selfhosted.reach import split_address

DEFAULT_LISTEN = "127.0.0.1:32372"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class EngineTarget:
	name: str
	endpoint: str
	tls: tuple[str, str, str] | None = None

	def argument(self) -> tuple[str, str, tuple[str, str, str] | None]:
		return (self.name, self.endpoint, self.tls)


@dataclass(frozen=True)
class Exporter:
	engines: tuple[EngineTarget, ...]
	concurrency: int = 16
	timeout: float = 10.0

	def metrics(self) -> str:
		return container_metrics([e.argument() for e in self.engines], concurrency=self.concurrency, timeout=self.timeout)


def engine_targets(engines: list[str], tls: list[str]) -> tuple[EngineTarget, ...]:
	"""`NAME=ENDPOINT` pairs, and `NAME=CA,CERT,KEY` for the tcp:// ones; ValidationError
	for a pair without a name, a name given twice, or TLS files for an unnamed engine."""
	endpoints: dict[str, str] = {}
	for spec in engines:
		name, sep, endpoint = spec.partition("=")
		if not sep or not name.strip() or not endpoint:
			raise ValidationError(f"an engine is NAME=ENDPOINT, got {spec!r}")
		if name in endpoints:
			raise ValidationError(f"engine {name!r} is given twice")
		endpoints[name] = endpoint
	files: dict[str, tuple[str, str, str]] = {}
	for spec in tls:
		name, sep, paths = spec.partition("=")
		parts = tuple(paths.split(","))
		if not sep or len(parts) != 3 or not all(parts):
			raise ValidationError(f"TLS files are NAME=CA,CERTIFICATE,KEY, got {spec!r}")
		if name not in endpoints:
			raise ValidationError(f"TLS files for {name!r}, which is no --engine")
		files[name] = parts
	return tuple(EngineTarget(name, endpoint, files.get(name)) for name, endpoint in endpoints.items())


def server(exporter: Exporter, address: tuple[str, int]) -> ThreadingHTTPServer:
	"""An HTTP server (not yet serving) answering /metrics from `exporter`."""

	class Handler(BaseHTTPRequestHandler):
		def do_GET(self) -> None:
			if self.path.split("?", 1)[0] != "/metrics":
				self._answer(404, "text/plain; charset=utf-8", "only /metrics is served here\n")
				return
			try:
				body = exporter.metrics()
			except Exception as e:  # a bug in the core: Prometheus sees the scrape fail, the process goes on
				self._answer(500, "text/plain; charset=utf-8", f"{type(e).__name__}: {e}\n")
				return
			self._answer(200, CONTENT_TYPE, body)

		def _answer(self, status: int, content_type: str, text: str) -> None:
			body = text.encode()
			self.send_response(status)
			self.send_header("Content-Type", content_type)
			self.send_header("Content-Length", str(len(body)))
			self.end_headers()
			try:
				self.wfile.write(body)
			except (BrokenPipeError, ConnectionResetError):
				pass  # the scraper gave up (its scrape timeout): the next scrape is answered anew

		def log_message(self, format: str, *args) -> None:
			pass  # one line per scrape would only fill the log

	return ThreadingHTTPServer(address, Handler)


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(prog="python -m press_selfhosted.container_exporter", description=__doc__.splitlines()[0])
	parser.add_argument("--listen", default=DEFAULT_LISTEN, help=f"host:port to serve /metrics on (default {DEFAULT_LISTEN})")
	parser.add_argument("--engine", action="append", default=[], required=True, metavar="NAME=ENDPOINT")
	parser.add_argument("--tls", action="append", default=[], metavar="NAME=CA,CERT,KEY")
	parser.add_argument("--concurrency", type=int, default=16, help="containers asked about at once, per engine (1–256)")
	parser.add_argument("--timeout", type=float, default=10.0, help="seconds an engine may take to answer")
	args = parser.parse_args(argv)
	try:
		exporter = Exporter(engine_targets(args.engine, args.tls), args.concurrency, args.timeout)
		exporter.metrics()  # refuses bad endpoints and numbers now, not at the first scrape
		address = split_address(args.listen)
	except ValidationError as e:
		parser.error(str(e))
	with server(exporter, address) as http:
		print(f"container exporter on http://{args.listen}/metrics for {', '.join(e.name for e in exporter.engines)}", flush=True)
		try:
			http.serve_forever()
		except KeyboardInterrupt:
			pass
	return 0


if __name__ == "__main__":
	sys.exit(main())
