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
	from press_selfhosted.press_selfhosted.doctype.platform_service.health import checks

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
	from press_selfhosted.commands.setup import run

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


@selfhosted.command("configure")
@click.option("--press-upstream", help="Also route this Press site's own name through Traefik to this URL (its frontend).")
@pass_context
def configure(context, press_upstream):
	"""Sets Selfhosted Settings from one JSON object read on standard input (secrets included:
	they never go on a command line); an unknown field or a wrong type changes nothing."""
	import sys

	import frappe

	from press_selfhosted.exceptions import SelfHostedError
	from press_selfhosted.settings_input import parse

	frappe.init(site=get_site(context))
	frappe.connect()
	try:
		meta = frappe.get_meta("Selfhosted Settings")
		values = parse(sys.stdin.read(), {f.fieldname: f.as_dict() for f in meta.fields})
		settings = frappe.get_single("Selfhosted Settings")

		def current(name):
			value = settings.get_password(name, raise_exception=False) if meta.get_field(name).fieldtype == "Password" else settings.get(name)
			return "" if value is None else value  # an empty field reads as None, and is set as ""

		changed = sorted(name for name, value in values.items() if current(name) != value)
		if changed:
			settings.update({name: values[name] for name in changed})
			settings.save(ignore_permissions=True)
			frappe.db.commit()
		routed = None
		if press_upstream:
			from press_selfhosted.integrations import services

			routes = services().proxy.write_site(frappe.local.site, [press_upstream])
			routed = f"route {frappe.local.site} → {press_upstream}" + ("" if any(r.changed for r in routes) else " (unchanged)")
	except (SelfHostedError, frappe.ValidationError) as e:  # ours, or the doctype's validate (frappe.throw)
		frappe.db.rollback()
		click.echo(f"configure failed: {e}", err=True)
		raise SystemExit(1) from None
	finally:
		frappe.destroy()
	click.echo(f"Selfhosted Settings: {', '.join(changed)} set" if changed else "Selfhosted Settings: nothing changed")
	if routed:
		click.echo(routed)


@selfhosted.command("deploy-image")
@click.argument("group")
@click.argument("image")
@pass_context
def deploy_image(context, group, image):
	"""Deploys an image that is already built to the Release Group's servers (no build server)."""
	import frappe

	from press_selfhosted.exceptions import SelfHostedError
	from press_selfhosted.integrations.images import deploy_image

	frappe.init(site=get_site(context))
	frappe.connect()
	frappe.set_user("Administrator")
	try:
		deploy = deploy_image(group, image)
		frappe.db.commit()
	except SelfHostedError as e:
		click.echo(f"deploy-image failed: {e}", err=True)
		raise SystemExit(1) from None
	finally:
		frappe.destroy()
	click.echo(f"Deploy {deploy}: {image} queued for the servers of {group}; Press inserts the benches within seconds")


commands = [selfhosted]
