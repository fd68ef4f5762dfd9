"""`POST monitor/rules`: Press's alert rules and Alertmanager routes, as its Prometheus Alert
Rule doctype sends them (`{"rules": <yaml>, "routes": <yaml>}`, the whole of each file).

Both files are checked by the tools their servers ship (promtool, amtool) before either is
put in place: a rule Prometheus would refuse is refused here with promtool's words, and
neither file changes. Then both servers reload."""

from __future__ import annotations

import os
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from press_selfhosted.exceptions import MonitorError, ValidationError
from press_selfhosted.monitor import Monitor, replace_file

TOOL_TIMEOUT = 60


def update(monitor: Monitor, request: object) -> None:
	if not isinstance(request, dict) or not isinstance(request.get("rules"), str) or not isinstance(request.get("routes"), str):
		raise ValidationError('monitor/rules takes {"rules": <YAML text>, "routes": <YAML text>}')
	rules, routes = request["rules"], _mapping(request["routes"], "routes", "route")
	_mapping(rules, "rules", "groups")
	secrets = _webhook_secrets(routes)
	if monitor.ca_pem:
		replace_file(monitor.ca_file, monitor.ca_pem)
		_trust(routes, monitor.ca_file.name)
	alertmanager = yaml.safe_dump(routes, sort_keys=False)
	staged: list[tuple[Path, Path]] = []
	try:
		for text, final in ((rules, monitor.rules_file), (alertmanager, monitor.alertmanager_file)):
			staged.append((_stage(final, text), final))
		_check([monitor.promtool, "check", "rules", str(staged[0][0])], staged, secrets)
		_check([monitor.amtool, "check-config", str(staged[1][0])], staged, secrets)
	finally:
		for temporary, _ in staged:
			temporary.unlink(missing_ok=True)
	replace_file(monitor.rules_file, rules)
	replace_file(monitor.alertmanager_file, alertmanager)
	reload(monitor.prometheus_url, "Prometheus")
	reload(monitor.alertmanager_url, "Alertmanager")


def reload(url: str, what: str) -> None:
	"""Asks a server to read its files again (Prometheus needs --web.enable-lifecycle)."""
	try:
		with urllib.request.urlopen(urllib.request.Request(f"{url.rstrip('/')}/-/reload", method="POST"), timeout=30):
			pass
	except urllib.error.HTTPError as e:
		raise MonitorError(f"{what} did not reload its configuration: {e.code} {e.read().decode(errors='replace').strip()}") from None
	except OSError as e:
		raise MonitorError(f"{what} at {url} does not answer: {e}") from None


def _mapping(text: str, what: str, key: str) -> dict:
	try:
		parsed = yaml.safe_load(text)
	except yaml.YAMLError as e:
		raise ValidationError(f"the {what} are not YAML: {e}") from None
	if not isinstance(parsed, dict) or key not in parsed:
		raise ValidationError(f"the {what} are a YAML mapping with {key!r}")
	return parsed


def _webhooks(routes: dict) -> list[dict]:
	"""Every webhook receiver config of the routes; entries of any other shape are left for
	amtool to refuse with its own words."""
	receivers = routes.get("receivers")
	return [hook for receiver in (receivers if isinstance(receivers, list) else []) if isinstance(receiver, dict)
		for hook in (receiver.get("webhook_configs") if isinstance(receiver.get("webhook_configs"), list) else [])
		if isinstance(hook, dict)]


def _webhook_secrets(routes: dict) -> list[str]:
	"""The query values of every webhook URL (Press's webhook_token), kept out of messages."""
	return [v for hook in _webhooks(routes) for _, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(str(hook.get("url", ""))).query)
		if v]


def _trust(routes: dict, ca_file: str) -> None:
	"""Press's webhook is https on the platform's own certificate: Alertmanager is told the CA
	(a path relative to its configuration) unless the receiver says how it connects already."""
	for hook in _webhooks(routes):
		if str(hook.get("url", "")).startswith("https://") and "http_config" not in hook:
			hook["http_config"] = {"tls_config": {"ca_file": ca_file}}


def _stage(path: Path, text: str) -> Path:
	"""A copy beside the file for the checker (so relative paths in it resolve as in the file);
	its name ends in .new, which no glob loads, and is its own, as two saves may check at once."""
	path.parent.mkdir(parents=True, exist_ok=True)
	handle, staged = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".check.new", dir=path.parent)
	with os.fdopen(handle, "w") as f:
		f.write(text)
	return Path(staged)


def _check(argv: list[str], staged: list[tuple[Path, Path]], secrets: list[str]) -> None:
	try:
		done = subprocess.run(argv, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
	except FileNotFoundError:
		raise MonitorError(f"{argv[0]} is not installed (Debian: prometheus, prometheus-alertmanager)") from None
	except subprocess.TimeoutExpired:
		raise MonitorError(f"{argv[0]} did not finish in {TOOL_TIMEOUT} s") from None
	if done.returncode == 0:
		return
	said = (done.stdout + done.stderr).strip()
	for temporary, final in staged:
		said = said.replace(str(temporary), final.name)
	for secret in secrets:
		said = said.replace(secret, "***")
	raise ValidationError(f"{Path(argv[0]).name} refused it: {said}")
