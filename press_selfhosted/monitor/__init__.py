"""The platform's monitor server, as Press's agent runs one on a Monitor Server: Prometheus's
rule file and scrape targets, Alertmanager's configuration, both reloaded after a change.

Plain data in and out: the Frappe side (press_selfhosted/integrations/monitoring.py) reads
Press's records and Selfhosted Settings and calls in here.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from press_selfhosted.exceptions import MonitorError


@dataclass(frozen=True)
class Monitor:
	"""Where the monitor server's files live and where its two servers answer.

	`directory` holds `rules/press.yml` (Press's alert rules), `alertmanager.yml` and
	`file_sd/*.json` (the scrape targets); Prometheus and Alertmanager read them from there.
	`ca_pem` is the platform CA's root, which Alertmanager needs to post to Press over HTTPS:
	it is written beside alertmanager.yml as `ca.crt`, and named relative to it (Alertmanager
	resolves a relative path from its configuration file), so the folder may be mounted
	anywhere in Alertmanager's container."""

	directory: Path
	prometheus_url: str
	alertmanager_url: str
	ca_pem: str | None = None
	promtool: str = "promtool"
	amtool: str = "amtool"

	@property
	def rules_file(self) -> Path:
		return self.directory / "rules" / "press.yml"

	@property
	def alertmanager_file(self) -> Path:
		return self.directory / "alertmanager.yml"

	@property
	def ca_file(self) -> Path:
		return self.directory / "ca.crt"

	@property
	def press_token(self) -> Path:
		"""The monitor user's `key:secret` Prometheus signs in to Press's metrics with."""
		return self.directory / "press.token"

	@property
	def file_sd(self) -> Path:
		return self.directory / "file_sd"


# Alertmanager's configuration until Press sends its routes: alerts are kept, sent nowhere.
QUIET = "route: {receiver: none}\nreceivers: [{name: none}]\n"


def prepare(monitor: Monitor) -> list[str]:
	"""The folder's layout, made where missing, before Prometheus and Alertmanager start on it:
	Prometheus watches the folders of its target files only if they exist when it reads its
	configuration (otherwise it rereads them every refresh_interval). What it made."""
	made = []
	for folder in (monitor.rules_file.parent, monitor.file_sd):
		if not folder.is_dir():
			folder.mkdir(parents=True)
			made.append(f"{folder}/")
	from press_selfhosted.monitor.targets import FILES

	for path, text in [(monitor.file_sd / name, "[]\n") for name in FILES] + [(monitor.alertmanager_file, QUIET)]:
		if not path.exists():
			replace_file(path, text)
			made.append(str(path))
	return made


def answering(monitor: Monitor) -> str:
	"""That Prometheus and Alertmanager both say they are ready; what answered."""
	for url, what in ((monitor.prometheus_url, "Prometheus"), (monitor.alertmanager_url, "Alertmanager")):
		try:
			with urllib.request.urlopen(f"{url.rstrip('/')}/-/ready", timeout=10):
				pass
		except OSError as e:
			raise MonitorError(f"{what} at {url} is not ready: {e}") from None
	return f"Prometheus at {monitor.prometheus_url}, Alertmanager at {monitor.alertmanager_url}"


def htpasswd_line(user: str, password: str) -> str:
	"""A basic-auth user as Traefik takes it. {SHA} (unsalted SHA-1) because it is the same for
	the same password, so an unchanged Monitor Server leaves Traefik's file unchanged; the
	password is Press's own 32-character random one (Monitor Server's grafana_password), which
	no dictionary holds."""
	digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
	return f"{user}:{{SHA}}{digest}"


def replace_file(path: Path, text: str, mode: int = 0o644) -> bool:
	"""Writes `text` to `path` in one rename, so a reader never sees half a file; False when
	the file already says it (Prometheus re-reads a file on every change of it). 0644 unless
	told: Prometheus and Alertmanager may run as users of their own."""
	try:
		if path.read_text() == text:
			return False
	except FileNotFoundError:
		pass
	path.parent.mkdir(parents=True, exist_ok=True)
	# The temporary name does not end in .yml or .json: Prometheus's globs never load it.
	handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
	try:
		with os.fdopen(handle, "w") as f:
			f.write(text)
		os.chmod(temporary, mode)
		os.replace(temporary, path)
	except BaseException:
		Path(temporary).unlink(missing_ok=True)
		raise
	return True
