"""`bench --site <press-site> selfhosted setup`: wires a fresh Press for self-hosted use.

Each step looks before it changes anything and says what it changed, so running setup again
changes nothing and prints so. What Selfhosted Settings leaves empty gets a sensible default
(the engine socket found on this machine, a CA in the site's private folder).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import frappe
from frappe.utils import now_datetime

from press_selfhosted.exceptions import SetupFailed
from press_selfhosted.integrations.billing import BILLING_JOBS
from press_selfhosted.reach import split_address

SETTINGS = "Selfhosted Settings"
# The file of Traefik's configuration directory that holds the platform's routes and wildcard.
PLATFORM_ROUTES = "_platform.yaml"
CLUSTER = "Default"
# Scheduler jobs that only make sense on a cloud provider (press/hooks.py scheduler_events):
# EC2/OCI/Hetzner/Frappe Compute machines and snapshots, AWS reports, Route53 clean-up, and the
# S3 jobs that use AWS-only clients. The Remote File jobs stay on: they run against our store.
CLOUD_JOBS = (
	"press.press.doctype.database_server.database_server.remove_uploaded_binlogs_from_s3",
	"press.press.doctype.database_server.database_server.upload_audit_logs_to_s3",
	"press.press.doctype.root_domain.root_domain.cleanup_cname_records",
	"press.press.audit.check_offsite_backups",
	"press.press.doctype.cloud_usage_anomaly.cloud_usage_anomaly.run_daily_pipeline",
	"press.press.doctype.server_snapshot_recovery.server_snapshot_recovery.expire_backups",
	"press.press.doctype.server_snapshot_recovery.server_snapshot_recovery.resume_warmed_up_restorations",
	"press.press.doctype.server_snapshot.server_snapshot.expire_snapshots",
	"press.press.doctype.server_snapshot.server_snapshot.delete_dedicated_snapshots_with_failure_status",
	"press.press.doctype.server_snapshot.server_snapshot.move_pending_snapshots_to_processing",
	"press.press.doctype.server_snapshot.server_snapshot.sync_ongoing_server_snapshots",
	"press.press.doctype.virtual_machine.virtual_machine.snapshot_oci_virtual_machines",
	"press.press.doctype.virtual_machine.virtual_machine.snapshot_hetzner_virtual_machines",
	"press.press.doctype.virtual_machine.virtual_machine.snapshot_aws_internal_virtual_machines",
	"press.press.doctype.virtual_machine.virtual_machine.snapshot_frappe_compute_virtual_machines",
	"press.press.doctype.virtual_machine.virtual_machine.sync_virtual_machines",
	"press.press.doctype.virtual_machine.virtual_machine.rolling_snapshot_database_server_virtual_machines",
	"press.press.doctype.virtual_machine.virtual_machine.snapshot_aws_servers",
	"press.press.doctype.virtual_disk_snapshot.virtual_disk_snapshot.delete_old_snapshots",
	"press.press.doctype.virtual_disk_snapshot.virtual_disk_snapshot.delete_expired_snapshots",
	"press.press.doctype.virtual_disk_snapshot.virtual_disk_snapshot.sync_all_snapshots_from_aws",
	"press.press.doctype.virtual_disk_snapshot.virtual_disk_snapshot.sync_snapshots",
	"press.press.doctype.virtual_disk_snapshot.virtual_disk_snapshot.sync_physical_backup_snapshots",
	"press.press.doctype.virtual_disk_snapshot.virtual_disk_snapshot.sync_rolling_snapshots",
	"press.press.doctype.site.backups.expire_physical",
	"press.infrastructure.doctype.virtual_disk_resize.virtual_disk_resize.run_scheduled_resizes",
	"press.press.doctype.server_plan.server_plan.sync_machine_availability_status_of_plans",
	"press.press.doctype.aws_savings_plan_recommendation.aws_savings_plan_recommendation.create",
	"press.press.doctype.aws_savings_plan_recommendation.aws_savings_plan_recommendation.refresh",
)


def run() -> list[str]:
	"""Every step, in order; the changes made, as lines for the operator."""
	from press_selfhosted.integrations import install

	install()  # Press's certbot, Route53 and S3 entry points, replaced in this process too
	changes: list[str] = []
	for step in (defaults, certificate_authority, cluster, cloud_provider, root_domain, press_settings, local_servers, monitor_server,
			alert_rules, backup_bucket, email_account, scheduler):
		changes += step()
	frappe.db.commit()
	return changes


def defaults() -> list[str]:
	from press_selfhosted.engine import detect_engine

	settings = frappe.get_single(SETTINGS)
	changes = []
	if not settings.engine_endpoints:
		engine = detect_engine()
		if engine:
			settings.engine_endpoints = engine.endpoint
			changes.append(f"engine: found {engine.kind} {engine.version} at {engine.endpoint}")
	if not settings.ca_directory:
		settings.ca_directory = str(Path(frappe.get_site_path("private", "selfhosted-ca")).resolve())
		changes.append(f"CA directory: {settings.ca_directory}")
	if changes:
		settings.save(ignore_permissions=True)
	return changes


def certificate_authority() -> list[str]:
	from press_selfhosted.pki import CertificateAuthority

	settings = frappe.get_single(SETTINGS)
	directory = Path(settings.ca_directory)
	if (directory / "intermediate.crt").exists():
		return []
	passphrase = settings.get_password("ca_passphrase", raise_exception=False) if settings.ca_passphrase else None
	if not passphrase:
		passphrase = secrets.token_urlsafe(32)
		settings.ca_passphrase = passphrase  # a Password field: stored encrypted
		settings.save(ignore_permissions=True)
	CertificateAuthority.create(directory, name=f"{settings.root_domain or 'Press'} Self-Hosted", passphrase=passphrase)
	return [f"CA: created in {directory} (keys encrypted with the passphrase in Selfhosted Settings)"]


# What the dashboard's New Site page shows for the platform's clusters (Generic).
PROVIDER_TITLE = "Self-hosted"
PROVIDER_IMAGE = "/assets/press_selfhosted/images/self-hosted.svg"
REGION_IMAGE = "/assets/press_selfhosted/images/region.svg"


def cluster() -> list[str]:
	"""The platform's cluster, and a title and an image for each Generic one that lacks them:
	the dashboard's New Site page shows a region by those alone (a blank card otherwise). It is
	made public ("show in New Site"): Press keeps a product trial's standby sites only in public
	clusters, and offers a trial's sign-up only there."""
	changes = []
	if not frappe.db.count("Cluster"):
		frappe.get_doc({"doctype": "Cluster", "name": CLUSTER, "cloud_provider": "Generic", "title": CLUSTER,
			"public": 1}).insert(ignore_permissions=True)
		changes.append(f"Cluster {CLUSTER}: created, public (Generic: servers are container engines, no cloud provider)")
	for name, title, image in frappe.get_all("Cluster", filters={"cloud_provider": "Generic"}, fields=["name", "title", "image"],
			as_list=True):
		missing = {"title": name} if not title else {}
		if not image:
			missing["image"] = REGION_IMAGE
		if missing:
			frappe.db.set_value("Cluster", name, missing)
			changes.append(f"Cluster {name}: {' and '.join(missing)} set, as the dashboard shows it")
	return changes


def cloud_provider() -> list[str]:
	"""The Cloud Provider of the platform's clusters (Generic): the dashboard's New Site page
	offers only clusters whose provider has one, and with none a customer could pick a version
	and nothing else. Made when missing; the operator may retitle it."""
	if not frappe.db.exists("DocType", "Cloud Provider"):  # Press before 2026 offers every cluster
		return []
	if frappe.db.exists("Cloud Provider", "Generic") or not frappe.db.exists("Cluster", {"cloud_provider": "Generic"}):
		return []
	frappe.get_doc({"doctype": "Cloud Provider", "name": "Generic", "title": PROVIDER_TITLE, "image": PROVIDER_IMAGE}).insert(
		ignore_permissions=True)
	return [f"Cloud Provider Generic: created, shown on the dashboard's New Site page as {PROVIDER_TITLE}"]


def root_domain() -> list[str]:
	"""The Root Domain on Generic, its zone on PowerDNS and its wildcard certificate. The Root
	Domain's doc_events make the last two on insert; each is checked here all the same, made if
	missing, and reported only once it is really there."""
	domain = frappe.db.get_single_value(SETTINGS, "root_domain")
	if not domain:
		return ["Root Domain: skipped, set root_domain in Selfhosted Settings"]
	from press_selfhosted.integrations import dns, services, tls

	zones = services().dns
	had_zone = zones.zone_for(domain) == f"{domain}."
	had_wildcard = _wildcard(domain)
	changes = []
	if not frappe.db.exists("Root Domain", domain):
		default_cluster = frappe.db.get_value("Cluster", {}, "name", order_by="creation asc")
		frappe.get_doc({"doctype": "Root Domain", "name": domain, "dns_provider": "Generic", "default_cluster": default_cluster}).insert(
			ignore_permissions=True)
		changes.append(f"Root Domain {domain}: created on Generic")
	elif frappe.db.get_value("Root Domain", domain, "dns_provider") != "Generic":
		frappe.db.set_value("Root Domain", domain, "dns_provider", "Generic")
		changes.append(f"Root Domain {domain}: DNS provider Generic (records go to PowerDNS)")
	doc = frappe.get_doc("Root Domain", domain)

	if zones.zone_for(domain) != f"{domain}.":
		dns.create_zone(doc)
		if zones.zone_for(domain) != f"{domain}.":
			raise SetupFailed(f"Root Domain {domain}: PowerDNS still has no zone {domain} after creating it")
	if not had_zone:
		changes.append(f"Root Domain {domain}: zone created on PowerDNS")

	if not _wildcard(domain):
		tls.request_wildcard(doc)
	certificate = frappe.get_doc("TLS Certificate", _wildcard(domain) or _wildcard(domain, active=False))
	if certificate.status != "Active":
		# Press obtains it in a background job; setup does it now, so that it can say so truly.
		certificate._obtain_certificate()
		certificate.reload()
		if certificate.status != "Active":
			raise SetupFailed(f"Root Domain {domain}: the wildcard certificate {certificate.name} is {certificate.status}: {certificate.error}")
	if not had_wildcard:
		changes.append(f"Root Domain {domain}: wildcard certificate {certificate.name} issued by the platform CA, expires {certificate.expires_on}")
	# Traefik serves the wildcard as its default certificate from the platform's file (the
	# core's `_platform.yaml`); a Traefik whose configuration was lost, or that serves another
	# domain's wildcard (the root domain changed), gets this one here, or every site would
	# answer with a certificate not valid for it.
	traefik = services().settings.get("traefik_config_dir")
	if traefik and _default_certificate(Path(traefik)) != certificate.full_chain.strip():
		certificate.trigger_server_tls_setup_callback()
		if had_wildcard:
			changes.append(f"Traefik: wildcard certificate {certificate.name} installed as its default certificate")
	return changes


def _default_certificate(traefik: Path) -> str | None:
	"""The PEM Traefik's platform file names as its default certificate (None without one)."""
	try:
		routes = (traefik / PLATFORM_ROUTES).read_text()
	except FileNotFoundError:
		return None
	named = re.search(r'defaultCertificate:\s*certFile:\s*"([^"]+)"', routes)
	try:
		return Path(named.group(1)).read_text().strip() if named else None
	except FileNotFoundError:
		return None


def _wildcard(domain: str, active: bool = True) -> str | None:
	"""The wildcard TLS Certificate of the domain (only an Active one, by default)."""
	filters = {"wildcard": 1, "domain": domain}
	if active:
		filters["status"] = "Active"
	return frappe.db.get_value("TLS Certificate", filters, "name")


def press_settings() -> list[str]:
	"""Press's own fields for offsite backups and uploads, pointed at the platform's bucket, and
	its image registry, the platform's."""
	s = frappe.get_single(SETTINGS)
	wanted = {"domain": s.root_domain}
	if s.s3_bucket:
		wanted |= {"offsite_backups_provider": "AWS S3", "aws_s3_bucket": s.s3_bucket, "backup_region": s.s3_region,
			"offsite_backups_access_key_id": s.s3_access_key, "remote_uploads_bucket": s.s3_bucket,
			"remote_access_key_id": s.s3_access_key}
	press = frappe.get_single("Press Settings")
	# Mandatory in Press Settings though certbot never runs here: fill them only when empty.
	if not press.certbot_directory:
		wanted["certbot_directory"] = str(Path(frappe.get_site_path("private", "certbot")).resolve())
	if not press.eff_registration_email:
		wanted["eff_registration_email"] = f"admin@{s.root_domain or 'localhost'}"
	# frappe.io is Frappe's own ERP, where Press books its customers: a team's billing name set
	# at account set-up was sent there, and with no frappe.io the dashboard's sign-up failed
	# ("Frappe.io URL not set up"). Off unless the operator names a frappe.io of their own.
	if not press.frappe_url:
		wanted["disable_frappe_auth"] = 1
	# App Release refuses to save without it (it names where releases would be cloned).
	if not press.clone_directory:
		wanted["clone_directory"] = str(Path(frappe.get_site_path("private", "clones")).resolve())
	# Builds push to Press's registry and benches pull from it: the platform's own registry
	# unless the operator has put another one in Press Settings.
	registry = s.registry_url and press.docker_registry_url in (None, "", s.registry_url)
	if registry:
		wanted |= {"docker_registry_url": s.registry_url, "docker_registry_username": s.registry_username}
	changes = [f"Press Settings {field}: {value}" for field, value in wanted.items() if value and press.get(field) != value]
	for field, value in wanted.items():
		if value:
			press.set(field, value)
	secret = s.get_password("s3_secret_key", raise_exception=False) if s.s3_secret_key else None
	for field in ("offsite_backups_secret_access_key", "remote_secret_access_key"):
		if secret and (not press.get(field) or press.get_password(field, raise_exception=False) != secret):
			press.set(field, secret)
			changes.append(f"Press Settings {field}: set (Password field)")
	# Press keeps this one in a Data field of its own and reads it as is.
	password = s.get_password("registry_password", raise_exception=False) if registry and s.registry_password else None
	if password and press.docker_registry_password != password:
		press.docker_registry_password = password
		changes.append("Press Settings docker_registry_password: set")
	if changes:
		press.save(ignore_permissions=True)
	return changes


# The local trio's host names, as Press names its own (n for proxies, m for databases, f for apps).
LOCAL_SERVERS = (("Proxy Server", "n1"), ("Database Server", "m1"), ("Server", "f1"))


def local_servers() -> list[str]:
	"""A Proxy Server, a Database Server and an App Server, Active and marked for the local
	executor (Selfhosted Server), bound to Traefik, the platform MariaDB and the engine. Made
	only when missing; a marked server that is not Active is checked and made Active."""
	from press_selfhosted.integrations.agent import MARKS, check_server

	s = frappe.get_single(SETTINGS)
	missing = [label for field, label in (("root_domain", "root_domain"), ("mariadb_address", "mariadb_address"),
		("mariadb_bench_address", "mariadb_bench_address"), ("mariadb_root_password", "mariadb_root_password"),
		("traefik_config_dir", "traefik_config_dir"), ("traefik_api_url", "traefik_api_url")) if not s.get(field)]
	if missing:
		return []  # not asked for yet: `selfhosted doctor` names what is missing
	domain = s.root_domain
	cluster = frappe.db.get_value("Root Domain", domain, "default_cluster")
	names = {doctype: f"{host}.{domain}" for doctype, host in LOCAL_SERVERS}
	address = "127.0.0.1"
	common = {"domain": domain, "cluster": cluster, "status": "Active", "private_ip": address}
	records = {
		"Proxy Server": {**common, "hostname": "n1", "ip": s.public_address or address, "domains": [{"domain": domain}]},
		"Database Server": {**common, "hostname": "m1", "mariadb_root_password": s.get_password("mariadb_root_password"),
			"db_port": split_address(s.mariadb_address)[1], "enable_schema_size_parser": 0},
		"Server": {**common, "hostname": "f1", "proxy_server": names["Proxy Server"],
			"database_server": names["Database Server"], "public": 1, "use_for_new_benches": 1, "use_for_new_sites": 1},
	}
	bindings = {
		"Proxy Server": {"description": f"Traefik: {s.traefik_api_url}, routes in {s.traefik_config_dir}"},
		"Database Server": {"mariadb_address": s.mariadb_address, "mariadb_bench_address": s.mariadb_bench_address,
			"description": f"the platform MariaDB at {s.mariadb_address} (from benches: {s.mariadb_bench_address})"},
		"Server": {"description": "benches run as containers on the engine of Selfhosted Settings"},
	}
	changes = []
	for doctype, _host in LOCAL_SERVERS:
		name = names[doctype]
		if not frappe.db.exists(doctype, name):
			frappe.get_doc({"doctype": doctype, **records[doctype]}).insert(ignore_permissions=True)
			changes.append(f"{doctype} {name}: created, Active")
		if not frappe.db.exists(MARKS, name):
			frappe.get_doc({"doctype": MARKS, "server_type": doctype, "server": name, **bindings[doctype]}).insert(
				ignore_permissions=True)
			changes.append(f"{doctype} {name}: marked for the local executor")
		changes += _follow_settings(doctype, name, records[doctype], bindings[doctype])
		try:
			answered = check_server(doctype, name)
		except Exception as e:
			raise SetupFailed(f"{doctype} {name} does not answer: {e}") from e
		if frappe.db.get_value(doctype, name, "status") != "Active":
			frappe.db.set_value(doctype, name, "status", "Active")
			changes.append(f"{doctype} {name}: Active ({answered})")
	return changes


def _follow_settings(doctype: str, name: str, record: dict, binding: dict) -> list[str]:
	"""A server made earlier follows Selfhosted Settings when the platform MariaDB's address or
	root password changed there: Press sends the Database Server's password with every job,
	so a stale one failed each new site ("Access denied")."""
	from frappe.utils.password import get_decrypted_password, set_encrypted_password

	from press_selfhosted.integrations.agent import MARKS

	changes = []
	if doctype == "Database Server":
		wanted = record["mariadb_root_password"]
		if get_decrypted_password(doctype, name, "mariadb_root_password", raise_exception=False) != wanted:
			set_encrypted_password(doctype, name, wanted, "mariadb_root_password")
			changes.append(f"{doctype} {name}: MariaDB root password from Selfhosted Settings")
	mark = frappe.db.get_value(MARKS, name, list(binding), as_dict=True) or {}
	moved = {field: value for field, value in binding.items() if field != "description" and mark.get(field) != value}
	if moved:
		frappe.db.set_value(MARKS, name, {**moved, "description": binding["description"]})
		changes.append(f"{doctype} {name}: {', '.join(f'{k} {v}' for k, v in moved.items())} from Selfhosted Settings")
	return changes


MONITOR_HOST = "monitor"


def monitor_server() -> list[str]:
	"""Press's Monitor Server, answered by the executor (its `monitor/rules`) and named in Press
	Settings, when Selfhosted Settings says where Prometheus and Alertmanager are. Press asks
	`https://<it>/prometheus` for its charts with basic auth `frappe` / its Grafana password."""
	from press_selfhosted.integrations.agent import MARKS, check_server

	s = frappe.get_single(SETTINGS)
	if not (s.monitor_directory and s.prometheus_url and s.alertmanager_url and s.root_domain):
		return []  # not asked for: `selfhosted doctor` says monitoring is not set up
	name = f"{MONITOR_HOST}.{s.root_domain}"
	changes = []
	if not frappe.db.exists("Monitor Server", name):
		frappe.get_doc({"doctype": "Monitor Server", "hostname": MONITOR_HOST, "domain": s.root_domain, "status": "Active",
			"cluster": frappe.db.get_value("Root Domain", s.root_domain, "default_cluster"), "ip": s.public_address or "127.0.0.1",
			"private_ip": "127.0.0.1", "prometheus_username": "frappe"}).insert(ignore_permissions=True)
		changes.append(f"Monitor Server {name}: created, Active")
	if not frappe.db.exists(MARKS, name):
		frappe.get_doc({"doctype": MARKS, "server_type": "Monitor Server", "server": name,
			"description": f"Prometheus at {s.prometheus_url}, Alertmanager at {s.alertmanager_url}"}).insert(ignore_permissions=True)
		changes.append(f"Monitor Server {name}: marked for the local executor")
	try:
		answered = check_server("Monitor Server", name)
	except Exception as e:
		raise SetupFailed(f"Monitor Server {name} does not answer: {e}") from e
	if frappe.db.get_single_value("Press Settings", "monitor_server") != name:
		frappe.db.set_single_value("Press Settings", "monitor_server", name)
		changes.append(f"Press Settings monitor_server: {name} ({answered})")
	return changes + _monitor_files(name) + _monitor_routes(name, s)


def _monitor_files(name: str) -> list[str]:
	"""The monitor folder's layout, and what Prometheus reads beside the rules: the sign-in of
	the monitor's user for Press's own metrics (0600) and the platform CA's root."""
	from press_selfhosted.integrations import services
	from press_selfhosted.monitor import prepare, replace_file

	monitor = services().monitor
	changed = bool(prepare(monitor))
	changed |= replace_file(monitor.press_token, _monitor_user(name), 0o600)
	if monitor.ca_pem:
		changed |= replace_file(monitor.ca_file, monitor.ca_pem)
	return [f"monitor: {monitor.press_token.name} and {monitor.ca_file.name} in {monitor.directory}"] if changed else []


def _monitor_user(name: str) -> str:
	"""`key:secret` of the user Prometheus signs in as (integrations/monitoring.py ROLE), made
	with its role where missing; a desk role, so that Press lets it reach its page."""
	from press_selfhosted.integrations.monitoring import ROLE

	if not frappe.db.exists("Role", ROLE):
		frappe.get_doc({"doctype": "Role", "role_name": ROLE, "desk_access": 1}).insert(ignore_permissions=True)
	email = f"prometheus@{name}"
	if not frappe.db.exists("User", email):
		frappe.get_doc({"doctype": "User", "email": email, "first_name": "Prometheus", "send_welcome_email": 0,
			"roles": [{"role": ROLE}]}).insert(ignore_permissions=True)
	user = frappe.get_doc("User", email)
	if not user.api_key:
		user.api_key = frappe.generate_hash(length=15)
		user.api_secret = frappe.generate_hash(length=32)
		user.save(ignore_permissions=True)
	return f"{user.api_key}:{user.get_password('api_secret')}"


def _monitor_routes(name: str, s) -> list[str]:
	"""Traefik serves `https://<monitor>/prometheus` and `/alertmanager` with basic auth
	`frappe` / the Monitor Server's Grafana password, as Press asks them."""
	from press_selfhosted.integrations import services
	from press_selfhosted.monitor import htpasswd_line

	if not (s.traefik_config_dir and s.traefik_api_url):
		return []
	password = frappe.get_doc("Monitor Server", name).get_password("grafana_password")
	proxy = services().proxy
	routes = proxy.write_monitor(name, prometheus_url=s.prometheus_url, alertmanager_url=s.alertmanager_url,
		users=[htpasswd_line("frappe", password)])
	try:
		proxy.wait_loaded(routes)
	except Exception as e:
		raise SetupFailed(f"Traefik does not serve the monitor's routes: {e}") from e
	return [f"Traefik: https://{name}/prometheus and /alertmanager, basic auth frappe"] if routes[0].changed else []


def alert_rules() -> list[str]:
	"""The platform's alert rules as Press's Prometheus Alert Rule records, each pushed to the
	monitor by Press as it is saved; made only when missing, so an administrator's edits stay."""
	from press_selfhosted.integrations.agent import MARKS
	from press_selfhosted.integrations.monitoring import configured
	from press_selfhosted.monitor.alert_rules import RULES

	# Only for the platform's own monitor: Press Settings may still name one of before.
	server = frappe.db.get_single_value("Press Settings", "monitor_server")
	if not (configured() and server and frappe.db.exists(MARKS, server)):
		return []
	changes = []
	for rule in RULES:
		if not frappe.db.exists("Prometheus Alert Rule", rule.name):
			frappe.get_doc(rule.record()).insert(ignore_permissions=True)
			changes.append(f"Prometheus Alert Rule {rule.name}: created")
	# Rules made before this monitor (another folder, another Monitor Server) reach it too, as
	# Press sends them: the whole rule file and routes, from every enabled record.
	from press_selfhosted.integrations import services

	monitor = services().monitor
	before = monitor.rules_file.read_text() if monitor.rules_file.exists() else None
	name = frappe.db.get_value("Prometheus Alert Rule", {"enabled": 1}, "name")
	if name:
		frappe.get_doc("Prometheus Alert Rule", name).on_update()
	if not changes and monitor.rules_file.exists() and monitor.rules_file.read_text() != before:
		changes.append(f"Prometheus Alert Rules: sent to {server}")
	return changes


def backup_bucket() -> list[str]:
	s = frappe.get_single(SETTINGS)
	if not s.s3_bucket:
		return ["Backup Bucket: skipped, set the S3 fields in Selfhosted Settings"]
	wanted = {"endpoint_url": s.s3_endpoint, "region": s.s3_region,
		"cluster": frappe.db.get_value("Cluster", {}, "name", order_by="creation asc")}
	if not frappe.db.exists("Backup Bucket", s.s3_bucket):
		frappe.get_doc({"doctype": "Backup Bucket", "bucket_name": s.s3_bucket, **wanted}).insert(ignore_permissions=True)
		return [f"Backup Bucket {s.s3_bucket}: created at {s.s3_endpoint}"]
	bucket = frappe.get_doc("Backup Bucket", s.s3_bucket)
	changed = [field for field, value in wanted.items() if bucket.get(field) != value]
	if changed:
		bucket.update(wanted)
		bucket.save(ignore_permissions=True)
	return [f"Backup Bucket {s.s3_bucket}: {', '.join(changed)} updated"] if changed else []


def email_account() -> list[str]:
	"""Press's own mail (frappe.sendmail) through the platform's SMTP relay."""
	s = frappe.get_single(SETTINGS)
	if not s.smtp_server:
		return []
	name = "Platform SMTP"
	if frappe.db.exists("Email Account", name):
		return []
	frappe.get_doc({"doctype": "Email Account", "email_account_name": name, "email_id": s.smtp_username or f"press@{s.root_domain}",
		"service": "", "smtp_server": s.smtp_server, "smtp_port": s.smtp_port, "use_tls": s.smtp_use_tls,
		"login_id": s.smtp_username, "password": s.get_password("smtp_password", raise_exception=False) if s.smtp_password else None,
		"no_smtp_authentication": 0 if s.smtp_username else 1, "enable_outgoing": 1, "default_outgoing": 1}).insert(ignore_permissions=True)
	return [f"Email Account {name}: outgoing through {s.smtp_server}:{s.smtp_port}"]


def scheduler() -> list[str]:
	jobs = frappe.get_all("Scheduled Job Type", filters={"method": ("in", BILLING_JOBS + CLOUD_JOBS), "stopped": 0}, pluck="name")
	for name in jobs:
		frappe.db.set_value("Scheduled Job Type", name, "stopped", 1)
	changes = [f"scheduler: stopped {len(jobs)} billing and cloud-provider jobs"] if jobs else []
	# A site's jobs are made by `bench new-site` and `install-app` before the setup wizard gives it
	# its time zone, stamped in Frappe's fallback zone (Asia/Kolkata); a job that never ran is
	# due from its creation, so in a zone west of it none runs for hours (5.5 for UTC). They
	# are due from now instead.
	now = now_datetime()
	future = frappe.get_all("Scheduled Job Type", filters={"creation": (">", now), "last_execution": ("is", "not set")},
		pluck="name")
	if future:
		job = frappe.qb.DocType("Scheduled Job Type")
		frappe.qb.update(job).set(job.creation, now).where(job.name.isin(future)).run()
		changes.append(f"scheduler: {len(future)} jobs made before the site had its time zone are due from now")
	return changes
