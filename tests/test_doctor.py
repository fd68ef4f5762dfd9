"""`selfhosted doctor`'s checks against the real services `make test` starts: each passes
when its service is there and configured, and fails with the reason otherwise."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import service_env

from press_selfhosted.doctor import CheckFailed, check_mariadb, check_redis, checks_from_settings, format_table, run_checks
from press_selfhosted.pki import CertificateAuthority


@pytest.fixture
def settings(tmp_path, credentials) -> dict:
	CertificateAuthority.create(tmp_path / "ca", passphrase="doctor-passphrase")
	return {
		"engine_endpoints": service_env("PRESS_SELFHOSTED_TEST_PODMAN") + "\n" + service_env("PRESS_SELFHOSTED_TEST_DOCKER"),
		"s3_endpoint": service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"),
		"s3_bucket": f"doctor-{os.getpid()}",
		"s3_region": credentials["region"],
		"s3_access_key": credentials["access_key"],
		"s3_secret_key": credentials["secret_key"],
		"pdns_api_url": service_env("PRESS_SELFHOSTED_TEST_PDNS_API"),
		"pdns_api_key": Path(service_env("PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE")).read_text().strip(),
		"traefik_api_url": service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_API"),
		"traefik_config_dir": service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_DIR"),
		"ca_directory": str(tmp_path / "ca"),
		"ca_passphrase": "doctor-passphrase",
		"s3_admin_url": service_env("PRESS_SELFHOSTED_TEST_S3_ADMIN"),
		"s3_admin_token": (Path(service_env("PRESS_SELFHOSTED_TEST_S3_DIR")) / "admin_token").read_text(),
	}


def by_name(results) -> dict:
	return {r.name: r for r in results}


def test_every_configured_service_passes(settings):
	results = by_name(run_checks(checks_from_settings(settings)))
	assert {name: r.ok for name, r in results.items()} == dict.fromkeys(["engine", "ports", "storage", "powerdns", "traefik", "ca",
		"tenant_keys"], True), results
	assert "podman" in results["engine"].detail and "docker" in results["engine"].detail
	assert results["ports"].detail.count("pairs of host ports free in 32300-32500") == 2, results["ports"].detail
	assert "write, read and delete work" in results["storage"].detail
	assert "intermediate valid" in results["ca"].detail
	assert results["tenant_keys"].detail.endswith(" keys") and "Garage admin API" in results["tenant_keys"].detail


def test_tenant_keys_are_checked_only_when_configured(settings):
	settings["s3_admin_url"] = None
	assert "tenant_keys" not in checks_from_settings(settings)


def test_each_failure_is_reported_with_its_reason_and_the_others_still_run(settings, tmp_path):
	settings.update(
		pdns_api_key="wrong-key",
		s3_secret_key="0" * 64,
		traefik_api_url="http://127.0.0.1:9",
		ca_passphrase="wrong passphrase",
		engine_endpoints="unix:///nonexistent/engine.sock",
		s3_admin_token="wrong-admin-token",
	)
	results = by_name(run_checks(checks_from_settings(settings)))
	assert not any(r.ok for r in results.values()), results
	assert results["powerdns"].detail.startswith("DnsAccessDenied")
	assert results["storage"].detail.startswith("AccessDenied")
	assert results["traefik"].detail.startswith("ProxyUnreachable")
	assert results["ca"].detail.startswith("CertificateError")
	assert results["engine"].detail.startswith("EngineUnreachable")
	assert results["ports"].detail.startswith("EngineUnreachable")
	assert results["tenant_keys"].detail.startswith("AccessDenied") and "wrong-admin-token" not in results["tenant_keys"].detail
	table = format_table(list(results.values()))
	assert table.count("FAIL") == 7 and "wrong-key" not in table and "0" * 64 not in table, table


def test_a_traefik_directory_that_does_not_exist_fails_and_is_not_created(settings, tmp_path):
	settings["traefik_config_dir"] = str(tmp_path / "typo")
	result = by_name(run_checks(checks_from_settings(settings)))["traefik"]
	assert not result.ok and "is not a directory" in result.detail
	assert not (tmp_path / "typo").exists()


def test_unconfigured_services_say_which_fields_to_fill_in():
	results = by_name(run_checks(checks_from_settings({})))
	assert results["storage"].detail == (
		"CheckFailed: not configured: set s3_endpoint, s3_bucket, s3_access_key, s3_secret_key in Selfhosted Settings")
	assert not results["powerdns"].ok and not results["traefik"].ok and not results["ca"].ok


def test_a_ca_about_to_expire_fails(tmp_path):
	CertificateAuthority.create(tmp_path / "ca", intermediate_validity_days=30)
	result = by_name(run_checks(checks_from_settings({"ca_directory": str(tmp_path / "ca")})))["ca"]
	assert not result.ok and "expires in 29 days" in result.detail


def test_mariadb_and_redis_answer_and_refusals_are_explained():
	host, port = service_env("PRESS_SELFHOSTED_TEST_MARIADB").rsplit(":", 1)
	assert check_mariadb(host, int(port)).startswith(f"{host}:{port}: server 10.")
	host, port = service_env("PRESS_SELFHOSTED_TEST_REDIS").rsplit(":", 1)
	assert check_redis(host, int(port)) == f"{host}:{port}: PONG"
	with pytest.raises(CheckFailed, match="refused the password"):
		check_redis(host, int(port), password="not-set-on-this-server")
	with pytest.raises(OSError):
		check_mariadb("127.0.0.1", 9)


@pytest.mark.parametrize("argument, stdin, message", [
	("/nonexistent/settings.json", "", "cannot read the settings"),
	("-", "not json", "the settings are not JSON"),
	("-", "[1, 2]", "the settings must be one JSON object"),
])
def test_the_doctor_command_refuses_bad_settings_with_a_usage_error(argument, stdin, message):
	result = subprocess.run([sys.executable, "-I", "-m", "press_selfhosted.doctor", argument], input=stdin,
		capture_output=True, text=True, timeout=60)
	assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_the_doctor_command_fails_naming_what_is_not_configured():
	result = subprocess.run([sys.executable, "-I", "-m", "press_selfhosted.doctor", "-"], input="{}", capture_output=True,
		text=True, timeout=60)
	assert result.returncode == 1
	assert "not configured: set s3_endpoint, s3_bucket, s3_access_key, s3_secret_key" in result.stdout
	assert "not configured: set pdns_api_url, pdns_api_key" in result.stdout


def test_the_ports_check_counts_the_pairs_free_in_the_settings_range(settings):
	import socket

	from press_selfhosted.doctor import check_ports

	endpoint = settings["engine_endpoints"].split()[0]
	# Three free ports side by side in the platform's range; the first then taken here.
	for first in range(32450, 32497):
		probes = [socket.socket() for _ in range(3)]
		try:
			for port, probe in zip(range(first, first + 3), probes):
				probe.bind(("0.0.0.0", port))
		except OSError:
			continue
		finally:
			for probe in probes:
				probe.close()
		break
	with socket.socket() as taken:
		taken.bind(("0.0.0.0", first))
		with pytest.raises(CheckFailed, match=f"no two host ports are free in {first}-{first + 1}"):
			check_ports(endpoint, first, first + 1)
		assert check_ports(endpoint, first, first + 2).startswith(f"1 pairs of host ports free in {first}-{first + 2}")
	settings.update(port_range_start=32400, port_range_end=32300)
	assert "start before end" in by_name(run_checks(checks_from_settings(settings)))["ports"].detail
