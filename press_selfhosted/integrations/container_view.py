"""The desk's view of a bench's container on the Bench and Site forms (public/js/
container_view.js): its recent output and its CPU and memory, read from the engine, so an
administrator needs no SSH. Only for benches on servers marked for the local executor."""

from __future__ import annotations

import frappe

from press_selfhosted.integrations import agent

TAIL = 300


@frappe.whitelist()
def container_view(doctype: str, name: str, tail: int = TAIL) -> dict:
	frappe.only_for("System Manager")
	if doctype not in ("Bench", "Site"):
		frappe.throw(f"no container view for {doctype}")
	bench = frappe.db.get_value(doctype, name, "name" if doctype == "Bench" else "bench")
	server = frappe.db.get_value("Bench", bench, "server") if bench else None
	if not server or not agent.is_marked("Server", server):
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
