"""Press's remote build server → an image that is already built.

Press makes a bench's image with a build server's agent ("Run Remote Builder") and only then
deploys it. On a self-hosted platform the administrator may name an image built elsewhere
(frappe_docker's custom image, Press on another platform, by hand): `deploy_image` records it
as a successful build of a new Deploy Candidate of the Release Group and deploys it, so
Press's own Deploy → New Bench Queue → Bench → "New Bench" flow goes ahead without a build
server. `bench --site <press> selfhosted deploy-image <group> <image>` calls it.
"""

from __future__ import annotations

import re

import frappe

from press_selfhosted.exceptions import ValidationError

# name[:port]/path:tag, no digest, no spaces or shell characters.
IMAGE = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9._-]+)*:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


@frappe.whitelist()
def deploy_image(group: str, image: str) -> str:
	"""Deploys `image` to every server of the Release Group; the Deploy's name."""
	frappe.only_for("System Manager")
	if not isinstance(image, str) or not IMAGE.match(image):
		raise ValidationError(f"not an image reference (registry/path:tag): {image!r}")
	rg = frappe.get_doc("Release Group", group)
	servers = [row.server for row in rg.servers]
	if not servers:
		raise ValidationError(f"Release Group {group} has no server to deploy to")
	candidate = rg.create_deploy_candidate(validate_pre_candidate_checks=False, ignore_permissions=True)
	if candidate is None:
		raise ValidationError(f"Release Group {group} is disabled")
	repository, tag = image.rsplit(":", 1)
	build = frappe.get_doc({
		"doctype": "Deploy Candidate Build", "deploy_candidate": candidate.name, "run_build": 0, "status": "Success",
		"platform": "x86_64", "docker_image": image, "docker_image_repository": repository, "docker_image_tag": tag,
	}).insert(ignore_permissions=True)
	build.update_deploy_candidate_with_build()
	return build._create_deploy(servers).name
