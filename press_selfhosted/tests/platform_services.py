"""Points Selfhosted Settings at the real services `tools/services.py` started (the same
PRESS_SELFHOSTED_TEST_* variables the CI tests read), for the bench tests."""

import os
import tempfile
from pathlib import Path

import frappe

NEEDED = ("S3_ENDPOINT", "S3_REGION", "S3_DIR", "PDNS_API", "PDNS_DNS", "PDNS_KEY_FILE", "TRAEFIK_DIR", "TRAEFIK_API")


def env(name: str) -> str:
	value = os.environ.get(f"PRESS_SELFHOSTED_TEST_{name}")
	if not value:
		raise RuntimeError(f"PRESS_SELFHOSTED_TEST_{name} is not set: start the services with "
			"`tools/services.py start … garage pdns traefik` and export `tools/services.py env`")
	return value


def configure(root_domain: str) -> dict:
	"""Selfhosted Settings for the real services, with a fresh CA directory; returns the values."""
	for name in NEEDED:
		env(name)
	s3 = Path(env("S3_DIR"))
	values = {
		"s3_endpoint": env("S3_ENDPOINT"), "s3_region": env("S3_REGION"), "s3_bucket": f"press-bench-{frappe.generate_hash(length=6).lower()}",
		"s3_access_key": (s3 / "access_key").read_text().strip(), "s3_secret_key": (s3 / "secret_key").read_text().strip(),
		"pdns_api_url": env("PDNS_API"), "pdns_api_key": Path(env("PDNS_KEY_FILE")).read_text().strip(), "pdns_server_id": "localhost",
		"dns_server": env("PDNS_DNS"), "root_domain": root_domain, "public_address": "127.0.0.1",
		"traefik_config_dir": env("TRAEFIK_DIR"), "traefik_api_url": env("TRAEFIK_API"),
		"ca_directory": str(Path(tempfile.mkdtemp(prefix="press-bench-ca-")) / "ca"), "ca_passphrase": None,
		"s3_admin_url": os.environ.get("PRESS_SELFHOSTED_TEST_S3_ADMIN"),
		"s3_admin_token": (s3 / "admin_token").read_text().strip() if (s3 / "admin_token").exists() else None,
		"engine_endpoints": os.environ.get("PRESS_SELFHOSTED_TEST_PODMAN") or "", "smtp_server": None,
		# No local servers unless a test asks for them (test_local_executor sets these).
		"mariadb_address": None, "mariadb_bench_address": None, "mariadb_root_password": None,
	}
	settings = frappe.get_single("Selfhosted Settings")
	settings.update(values)
	settings.save()
	from press_selfhosted.integrations import services

	services().store.ensure_bucket()
	frappe.db.commit()
	return values
