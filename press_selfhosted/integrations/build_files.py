"""The files Press's Dockerfile copies into a bench image besides the apps, taken from Press's
own press/docker folder (what its agent ships as build configs): supervisord.conf,
common_site_config.json, the Redis modules, and config/ rendered for the Deploy Candidate's
parameters (Redis sizes, worker layout) with the Jinja templates Press keeps there."""

from __future__ import annotations

from pathlib import Path

import frappe

STATIC = ("supervisord.conf", "common_site_config.json")
TEMPLATES = ("config/redis-cache.conf", "config/redis-queue.conf", "config/supervisor.conf")


def press_build_files(params: dict, platform: str) -> dict[str, bytes]:
	docker = Path(frappe.get_app_path("press", "docker"))
	files = {name: (docker / name).read_bytes() for name in STATIC if (docker / name).is_file()}
	for name in TEMPLATES:
		if (docker / name).is_file():
			rendered = frappe.render_template((docker / name).read_text(), {"doc": frappe._dict(params), "platform": platform})
			files[name] = rendered.encode()
	for module in sorted((docker / "redis").rglob("*")) if (docker / "redis").is_dir() else ():
		if module.is_file():
			files[str(module.relative_to(docker))] = module.read_bytes()
	# Press's Dockerfile copies an editor configuration its folder does not carry: none.
	files.setdefault(".vimrc", b"")
	return files
