"""No secret a job's request carries reaches anything stored or shown, for every job the
executor runs (the list comes from the declarations, so a new job cannot be forgotten): each
route gets a request with a unique marker in every secret field it declares, the job runs on
the real platform (Podman, the platform MariaDB, Traefik, PowerDNS, Garage; the STAND-IN bench
image), and no marker appears in the stored request, the job's output, its commands, its
traceback, its data, or anything printed or logged meanwhile. Where a secret must work for
the job to do its work (the root password, the certificate's key), the marker is the real
secret, and the job must succeed."""

import json
import logging
import secrets

import pytest
from press_requests import REQUESTS, request_for, secret_keys
from test_executor import REGISTRY_IMAGE, world  # noqa: F401 (fixtures)

from press_selfhosted.executor import job_types, routes
from press_selfhosted.executor.jobs import SUCCESS

DECLARED = routes.declared()
# Press's order: a bench, its site and routes, the site's operations, then everything removed.
ORDER = [
	"Add Upstream to Proxy", "New Bench", "Update Bench Configuration", "Bench Restart", "New Site", "Add Site to Upstream",
	"Add Domain to Upstream", "Add Host to Proxy", "Add Wildcard Hosts to Proxy", "Create User", "Update Site Configuration",
	"Add Domain", "Remove Domain", "Migrate Site", "Install App on Site", "Clear Cache", "Deactivate Site", "Activate Site", "Update Site Status",
	"Backup Site", "Restore Site", "New Site from Backup", "Reinstall Site", "Uninstall App from Site",
	"Run Remote Builder", "Cleanup Unused Files", "Reload NGINX Job", "Add User to Proxy", "Remove User from Proxy",
	"Rename Site", "Rename Site on Upstream", "Remove Host from Proxy", "Remove Site from Upstream", "Archive Site",
	"Archive Bench",
]
# Jobs whose secrets are used for real (the root password, the admin's, the new user's, the
# certificate's key): they must succeed, or the test would prove nothing of them.
MUST_SUCCEED = {"New Bench", "New Site", "Add Host to Proxy", "Create User", "Backup Site", "Reinstall Site", "Archive Site"}


def test_every_job_is_in_this_test():
	assert sorted(ORDER) == sorted(DECLARED)


@pytest.mark.parametrize("world", ["podman"], indirect=True)  # one engine is enough here
def test_no_secret_reaches_what_a_job_stores_or_shows(world, capfd, caplog):
	w = world
	caplog.set_level(logging.DEBUG)
	site, renamed, host = f"sec.{w.zone}", f"sec2.{w.zone}", f"shop.{w.zone}"
	issued = w.ca.issue([host])
	names = {"bench": w.bench, "site": site, "new_site": site, "host": host, "zone": w.zone, "bucket": w.bucket,
		"upstream": "127.0.0.1", "fullchain": issued.full_chain_pem, "image": REGISTRY_IMAGE}
	results, shown_secrets = {}, {w.root_password, issued.private_key_pem()}
	for name in ORDER:
		declared = DECLARED[name]
		keys = secret_keys(REQUESTS[name])
		markers = {key: f"m{secrets.token_hex(6)}{key}" for key in keys}
		markers["root_password"] = w.root_password  # unique, and the platform MariaDB's own
		markers["private_key"] = issued.private_key_pem()
		markers = {key: markers[key] for key in keys}
		shown_secrets |= set(markers.values())
		if name == "Rename Site":
			names["new_site"] = renamed
		path, body = request_for(declared, names, markers)
		w.sites[site] = w.sites[renamed] = w.bench
		job = w.job(declared.method, path, body)
		if name == "Rename Site on Upstream":  # from here on, the site is known by its new name
			names["site"] = renamed
		results[name] = job.status
		shown, _ = job_types.hide(declared.secrets, body)
		seen = {"stored request": json.dumps(shown), "job": json.dumps(job.to_agent()), "store": json.dumps(job.to_dict())}
		for key, marker in markers.items():
			for where, text in seen.items():
				assert marker not in text, f"{name}: {key} appears in the {where}"
		if name in MUST_SUCCEED:
			assert job.status == SUCCESS, (name, job.to_agent()["data"])
	printed = capfd.readouterr()
	logged = "\n".join(record.getMessage() for record in caplog.records)
	for text in (printed.out, printed.err, logged):
		assert not [marker for marker in shown_secrets if marker in text]
	# Every job ran, whatever its end; a secret was exercised by each job that declares one.
	assert set(results) == set(DECLARED)
