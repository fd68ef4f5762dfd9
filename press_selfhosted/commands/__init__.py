"""`bench selfhosted …`: found by Frappe through this module's `commands` list
(frappe/utils/bench_helper.py `get_app_commands`)."""

import click
from frappe.commands import get_site, pass_context


@click.group("selfhosted")
def selfhosted():
	"""The self-hosted platform: checks and setup."""


@selfhosted.command("doctor")
@pass_context
def doctor(context):
	"""Checks every service the platform depends on and prints a pass/fail table."""
	import frappe

	from press_selfhosted.doctor import format_table, run_checks
	from press_selfhosted.health import checks

	frappe.init(site=get_site(context))
	frappe.connect()
	try:
		results = run_checks(checks())
	finally:
		frappe.destroy()
	click.echo(format_table(results))
	if not all(r.ok for r in results):
		raise SystemExit(1)


@selfhosted.command("setup")
@pass_context
def setup(context):
	"""Wires this Press site for self-hosting; idempotent, prints what it changed."""
	import frappe

	from press_selfhosted.exceptions import SetupFailed
	from press_selfhosted.setup import run

	frappe.init(site=get_site(context))
	frappe.connect()
	try:
		changes = run()
	except SetupFailed as e:
		click.echo(f"setup failed: {e}", err=True)
		raise SystemExit(1) from None
	finally:
		frappe.destroy()
	click.echo("\n".join(changes) if changes else "nothing changed: this Press is already set up")


commands = [selfhosted]
