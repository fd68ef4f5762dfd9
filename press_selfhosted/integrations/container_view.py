"""The desk's view of a bench's container on the Bench and Site forms (public/js/
container_view.js): its recent output and its CPU and memory, read from the engine, and its
new output followed live (a background job follows the engine's log stream and sends the lines
to the user over Frappe's realtime), so an administrator needs no SSH. Only for benches on
servers marked for the local executor."""

from __future__ import annotations

import asyncio
import re

import frappe

from press_selfhosted.integrations import agent

TAIL = 300
# What Follow does by default, and the realtime event its lines arrive as.
FOLLOW_SECONDS = 120
EVENT = "press_selfhosted_container_output"
TOKEN = re.compile(r"^[0-9a-f]{16}$")


def _bench(doctype: str, name: str) -> tuple[str | None, str | None]:
	"""(server, bench) of a Bench or Site; server None when it is not marked."""
	if doctype not in ("Bench", "Site"):
		frappe.throw(f"no container view for {doctype}")
	bench = frappe.db.get_value(doctype, name, "name" if doctype == "Bench" else "bench")
	server = frappe.db.get_value("Bench", bench, "server") if bench else None
	return (server if server and agent.is_marked("Server", server) else None), bench


@frappe.whitelist()
def container_view(doctype: str, name: str, tail: int = TAIL) -> dict:
	frappe.only_for("System Manager")
	server, bench = _bench(doctype, name)
	if not server:
		return {"marked": False}
	from press_selfhosted.executor import logs
	from press_selfhosted.executor.bench import container_name

	tail = int(tail)
	if not 1 <= tail <= 10_000:
		frappe.throw(f"tail is 1 to 10000 lines, got {tail}", frappe.ValidationError)
	platform = agent.platform_for("Server", server)
	container = container_name(platform, bench)
	state = platform.engine.inspect(container)
	stats = platform.engine.stats(container) if state.running else {}
	return {"marked": True, "container": container, "status": state.status, "started_at": state.started_at,
		"restart_count": state.restart_count, "cpu_percent": stats.get("cpu_percent"),
		"memory_bytes": stats.get("memory_bytes"), "memory_limit_bytes": stats.get("memory_limit_bytes"),
		"output": logs.engine_output(platform, bench, tail)}


@frappe.whitelist()
def follow(doctype: str, name: str, seconds: int = FOLLOW_SECONDS) -> str:
	"""Starts following the container's new output for `seconds`; its lines come to this user
	as EVENT messages {token, lines}, then {token, done}. Returns the token."""
	from press_selfhosted.executor.logs import check_follow_seconds

	frappe.only_for("System Manager")
	server, bench = _bench(doctype, name)
	if not server:
		frappe.throw(f"{doctype} {name} is not on a server marked for the local executor")
	try:
		seconds = check_follow_seconds(int(seconds))
	except ValueError as e:
		frappe.throw(str(e), frappe.ValidationError)
	token = frappe.generate_hash(length=16)
	# A follow holds its worker while it lasts: not on `long`, where the executor's jobs run, nor
	# on `short`, where Press polls them.
	frappe.enqueue("press_selfhosted.integrations.container_view.run_follow", queue="default", timeout=int(seconds) + 60,
		server=server, bench=bench, user=frappe.session.user, token=token, seconds=seconds)
	return token


@frappe.whitelist()
def stop_following(token: str) -> None:
	from press_selfhosted.executor.logs import FOLLOW_SECONDS_MAX

	frappe.only_for("System Manager")
	if not isinstance(token, str) or not TOKEN.match(token):
		frappe.throw("not a follow token", frappe.ValidationError)
	frappe.cache.set_value(_stop_key(token), 1, expires_in_sec=FOLLOW_SECONDS_MAX + 120)


def run_follow(server: str, bench: str, user: str, token: str, seconds: float) -> None:
	from press_selfhosted.executor import logs

	platform = agent.platform_for("Server", server)

	def publish(lines: list[str]) -> None:
		frappe.publish_realtime(EVENT, {"token": token, "lines": lines}, user=user)

	try:
		asyncio.run(logs.follow_output(platform, bench, publish, seconds=seconds,
			# expires=True: read from Redis each time, not from this job's local copy of the first answer.
			stopped=lambda: bool(frappe.cache.get_value(_stop_key(token), expires=True))))
	finally:
		frappe.publish_realtime(EVENT, {"token": token, "lines": [], "done": True}, user=user)
		frappe.cache.delete_value(_stop_key(token))


def _stop_key(token: str) -> str:
	return f"press_selfhosted:follow-stop:{token}"
