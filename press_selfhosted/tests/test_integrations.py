"""Bench tests: a Press site with press_selfhosted installed, against real PowerDNS, Garage,
Traefik and the platform CA (see platform_services.py for how they are found).

Run: bench --site <press-site> run-tests --app press_selfhosted --module press_selfhosted.tests.test_integrations
"""

import os
from datetime import timedelta
from pathlib import Path

import frappe
import requests
from frappe.tests.utils import FrappeTestCase
from frappe.utils import now_datetime

from press_selfhosted.integrations import SETTINGS, SERVICES, install, original, services
from press_selfhosted.pki import CertificateAuthority, inspect_certificate
from press_selfhosted.commands.setup import run as setup
from press_selfhosted.tests.platform_services import configure


def _zone_records(zone: str) -> dict:
	return {(name.rstrip("."), kind): contents for name, kind, _, contents in services().powerdns.records(zone)}


class TestSelfHostedPress(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.domain = f"bench{frappe.generate_hash(length=6).lower()}.test"
		cls.values = configure(cls.domain)
		install()
		cls.first_run = setup()

	@classmethod
	def tearDownClass(cls):
		try:
			services().powerdns.delete_zone(cls.domain)
		finally:
			super().tearDownClass()

	def test_app_is_installed_on_press(self):
		self.assertIn("press", frappe.get_installed_apps())
		self.assertIn("press_selfhosted", frappe.get_installed_apps())
		for doctype in ("Selfhosted Settings", "Platform Service", "DNS Record", "Tenant Storage"):
			self.assertTrue(frappe.db.exists("DocType", doctype), doctype)
		self.assertTrue(frappe.db.exists("Workspace", "Self-Hosted Platform"))

	def test_a_job_started_while_the_app_is_uninstalled_goes_on_without_its_settings(self):
		# Uninstalling drops the app's DocTypes before installed_apps forgets the app: a job
		# started meanwhile runs install() (before_job) where Selfhosted Settings is gone.
		self.addCleanup(forget_settings)
		frappe.db.savepoint("uninstalling")
		self.addCleanup(frappe.db.rollback, save_point="uninstalling")
		frappe.db.delete("DocType", SETTINGS)
		forget_settings()
		install()
		self.assertFalse(frappe.db.exists("DocType", SETTINGS))

	def test_press_trusts_the_platform_root_once_setup_has_made_it(self):
		# setUpClass ran install() (as the first request does) before setup() made the CA:
		# the next request must trust the new root, though no setting changed.
		install()
		ca = Path(self.values["ca_directory"])
		self.assertEqual(os.environ.get("REQUESTS_CA_BUNDLE"), str(ca / "press-trust.pem"))
		self.assertIn((ca / "root.crt").read_text().strip(), Path(os.environ["REQUESTS_CA_BUNDLE"]).read_text())

	def test_setup_creates_the_zone_of_a_root_domain_made_before_install(self):
		zone = f"{self.domain}."
		services().powerdns.delete_zone(self.domain)
		try:
			self.assertEqual(setup(), [f"Root Domain {self.domain}: zone created on PowerDNS"])
		finally:
			self.assertIn(zone, services().powerdns.zones())

	def test_setup_reports_a_zone_only_once_powerdns_has_it(self):
		from unittest import mock

		from press_selfhosted.exceptions import SetupFailed

		services().powerdns.delete_zone(self.domain)
		try:
			with mock.patch("press_selfhosted.integrations.dns.create_zone"), self.assertRaises(SetupFailed) as failed:
				setup()  # the zone is "created", but PowerDNS does not have it
			self.assertIn(f"PowerDNS still has no zone {self.domain}", str(failed.exception))
		finally:
			self.assertEqual(setup(), [f"Root Domain {self.domain}: zone created on PowerDNS"])

	def test_a_dns_server_without_a_port_is_refused(self):
		settings = frappe.get_single("Selfhosted Settings")
		settings.dns_server = "10.0.0.2"
		self.assertRaises(frappe.ValidationError, settings.save)
		self.assertEqual(frappe.db.get_single_value("Selfhosted Settings", "dns_server"), self.values["dns_server"])

	def test_setup_wires_press_and_runs_again_without_changes(self):
		changes = "\n".join(self.first_run)
		self.assertIn(f"Root Domain {self.domain}: created on Generic", changes)
		# What setup says it made is there: the zone, and an Active wildcard from the platform CA.
		self.assertIn(f"Root Domain {self.domain}: zone created on PowerDNS", changes)
		self.assertIn(f"{self.domain}.", services().powerdns.zones())
		wildcard = frappe.get_doc("TLS Certificate", {"wildcard": 1, "domain": self.domain})
		self.assertIn(f"wildcard certificate {wildcard.name} issued by the platform CA", changes)
		self.assertEqual(wildcard.status, "Active")
		self.assertIn(f"*.{self.domain}", inspect_certificate(wildcard.full_chain).names)
		self.assertIn(f"Backup Bucket {self.values['s3_bucket']}: created", changes)
		self.assertIn("CA: created", changes)
		self.assertEqual(setup(), [])
		self.assertEqual(frappe.db.get_value("Root Domain", self.domain, "dns_provider"), "Generic")
		self.assertEqual(frappe.db.get_value("Backup Bucket", self.values["s3_bucket"], "endpoint_url"), self.values["s3_endpoint"])
		press = frappe.get_single("Press Settings")
		self.assertEqual((press.aws_s3_bucket, press.remote_uploads_bucket, press.domain), (self.values["s3_bucket"],) * 2 + (self.domain,))
		self.assertEqual(press.get_password("offsite_backups_secret_access_key"), self.values["s3_secret_key"])
		self.assertEqual((press.disable_frappe_auth, press.frappe_url), (1, None))  # no frappe.io to book teams on
		stopped = frappe.db.get_value("Scheduled Job Type", {"method": "press.press.doctype.invoice.invoice.finalize_draft_invoices"}, "stopped")
		self.assertEqual(stopped, 1)
		self.assertIsNotNone(CertificateAuthority.load(self.values["ca_directory"],
			passphrase=frappe.get_single("Selfhosted Settings").get_password("ca_passphrase")))

	def test_setup_makes_jobs_stamped_before_the_site_had_its_time_zone_due_now(self):
		from frappe.utils import add_to_date, now_datetime

		never_ran, ran = frappe.get_all("Scheduled Job Type", filters={"stopped": 0, "frequency": ("in", ("All", "Hourly"))},
			pluck="name", limit=2)
		later = add_to_date(now_datetime(), hours=5, minutes=30)  # Asia/Kolkata's stamp, read in UTC
		frappe.db.set_value("Scheduled Job Type", never_ran, {"creation": later, "last_execution": None}, update_modified=False)
		frappe.db.set_value("Scheduled Job Type", ran, {"creation": later, "last_execution": now_datetime()}, update_modified=False)
		late = frappe.get_doc("Scheduled Job Type", never_ran).get_next_execution()  # hours away for an hourly job
		self.assertIn("scheduler: 1 jobs made before the site had its time zone are due from now", setup())
		self.assertLessEqual(frappe.db.get_value("Scheduled Job Type", never_ran, "creation"), now_datetime())
		self.assertLess(frappe.get_doc("Scheduled Job Type", never_ran).get_next_execution(), late)
		self.assertEqual(frappe.db.get_value("Scheduled Job Type", ran, "creation"), later)  # its last run says when it is due
		frappe.db.set_value("Scheduled Job Type", ran, "creation", now_datetime(), update_modified=False)
		self.assertEqual(setup(), [])

	def test_a_customer_signs_up_on_frappe_v15_and_gets_the_verification_mail(self):
		"""The dashboard's sign-up (press.api.account.signup): on v15 it raised TypeError in
		Account Request's before_insert (add_to_date without a date), and then failed on the
		visitor's address looked up on pro.ip-api.com, and on the list of disposable providers
		downloaded from GitHub."""
		from frappe.utils import add_to_date, now_datetime
		from press.api.account import signup

		email = f"customer-{frappe.generate_hash(length=8)}@example.com"
		frappe.local.request_ip = "127.0.0.1"  # as from the dashboard: Press looks the address up
		frappe.flags.in_test = False  # (which Press's tests never do)
		try:
			request = frappe.get_doc("Account Request", signup(email))
		finally:
			frappe.flags.in_test = True
			frappe.local.request_ip = None
		self.assertEqual((request.ip_address, request.country), ("127.0.0.1", None))
		self.assertEqual(request.email, email)
		expires = request.request_key_expiration_time
		self.assertLess(abs((frappe.utils.get_datetime(expires) - add_to_date(now_datetime(), hours=24)).total_seconds()), 120)
		# The mail itself, through the platform's relay: test_customer_journey (it needs an
		# outgoing Email Account, which this module does not make).
		# Every call that names its date is as it was.
		self.assertEqual(add_to_date("2026-01-31", days=1), "2026-02-01")

	def test_sign_up_refuses_no_provider_when_the_disposable_list_cannot_be_had(self):
		"""Press downloads the list from GitHub without a timeout; offline, sign-up goes on."""
		import time

		from press.utils import disposable_emails

		disposable_emails.domains.fetched.clear_cache()
		logged = {"method": "Sign-up: disposable email list not read"}
		before = frappe.db.count("Error Log", logged)
		frappe.flags.in_test = False  # Press answers a made-up list in tests
		try:
			started = time.monotonic()
			self.assertEqual(disposable_emails.domains(), [])  # GitHub cannot be reached from here
			self.assertLess(time.monotonic() - started, 30)
			self.assertEqual(disposable_emails.domains(), [])
			self.assertEqual(frappe.db.count("Error Log", logged), before + 1)  # asked once an hour, not per sign-up
		finally:
			frappe.flags.in_test = True
			disposable_emails.domains.fetched.clear_cache()

	def test_setup_gives_a_traefik_that_lost_its_configuration_the_wildcard_again(self):
		from press_selfhosted.commands.setup import PLATFORM_ROUTES

		platform = Path(services().proxy.config_dir) / PLATFORM_ROUTES
		self.assertTrue(platform.exists())
		platform.unlink()
		wildcard = frappe.db.get_value("TLS Certificate", {"wildcard": 1, "domain": self.domain, "status": "Active"}, "name")
		self.assertEqual(setup(), [f"Traefik: wildcard certificate {wildcard} installed as its default certificate"])
		self.assertTrue(platform.exists())
		self.assertEqual(setup(), [])

	def test_a_maintenance_page_reaches_traefik_when_the_settings_are_saved(self):
		settings = frappe.get_single("Selfhosted Settings")
		kept = settings.maintenance_url
		try:
			settings.maintenance_url = None
			settings.save()
			self.assertFalse(services().proxy.has_maintenance_page())
			settings.maintenance_url = "http://127.0.0.1:32399"
			settings.save()
			self.assertTrue(services().proxy.has_maintenance_page())  # not only at the wildcard's renewal
			settings.maintenance_url = "file:///etc/passwd"
			with self.assertRaisesRegex(frappe.ValidationError, "Maintenance Page URL"):
				settings.save()
			self.assertTrue(services().proxy.has_maintenance_page())
		finally:
			settings.reload()
			settings.maintenance_url = kept
			settings.save()

	def test_setup_gives_traefik_the_root_domain_s_wildcard_when_it_serves_another(self):
		"""One Traefik, the root domain changed (or another platform's setup wrote its file):
		every site of this one answered with a wildcard of another domain."""
		from press_selfhosted.commands.setup import _default_certificate

		other = CertificateAuthority.create(Path(self.values["ca_directory"]).parent / "other-ca").issue(["*.elsewhere.test"])
		proxy = services().proxy
		proxy.write_platform(wildcard=(other.full_chain_pem, other.private_key_pem()))
		self.assertEqual(_default_certificate(Path(proxy.config_dir)), other.full_chain_pem.strip())
		wildcard = frappe.get_doc("TLS Certificate", {"wildcard": 1, "domain": self.domain, "status": "Active"})
		self.assertEqual(setup(), [f"Traefik: wildcard certificate {wildcard.name} installed as its default certificate"])
		self.assertEqual(_default_certificate(Path(proxy.config_dir)), wildcard.full_chain.strip())
		self.assertEqual(setup(), [])

	def test_setup_gives_press_the_platforms_registry_unless_it_has_its_own(self):
		settings, press = frappe.get_single("Selfhosted Settings"), frappe.get_single("Press Settings")
		kept = (press.docker_registry_url, press.docker_registry_username, press.docker_registry_password)
		secret = frappe.generate_hash(length=20)
		try:
			press.docker_registry_url = ""
			press.save(ignore_permissions=True)
			settings.update({"registry_url": "registry.platform.test:32450", "registry_username": "press",
				"registry_password": secret})
			settings.save(ignore_permissions=True)
			changes = setup()
			self.assertIn("Press Settings docker_registry_url: registry.platform.test:32450", changes)
			self.assertIn("Press Settings docker_registry_password: set", changes)
			self.assertNotIn(secret, "\n".join(changes))
			press.reload()
			self.assertEqual((press.docker_registry_url, press.docker_registry_username, press.docker_registry_password),
				("registry.platform.test:32450", "press", secret))
			self.assertEqual(setup(), [])
			# An operator's own registry in Press Settings is left alone.
			press.docker_registry_url = "registry.example.com"
			press.save(ignore_permissions=True)
			self.assertEqual(setup(), [])
			self.assertEqual(frappe.db.get_single_value("Press Settings", "docker_registry_url"), "registry.example.com")
		finally:
			settings.update({"registry_url": "", "registry_username": "", "registry_password": ""})
			settings.save(ignore_permissions=True)
			press.reload()
			press.docker_registry_url, press.docker_registry_username, press.docker_registry_password = kept
			press.save(ignore_permissions=True)

	def test_root_domain_server_and_site_write_their_records(self):
		zone = f"{self.domain}."
		self.assertIn(zone, services().powerdns.zones())
		self.assertEqual(_zone_records(zone)[(f"ns1.{self.domain}", "A")], ["127.0.0.1"])
		cluster = frappe.db.get_value("Cluster", {}, "name", order_by="creation asc")
		proxy = frappe.get_doc({"doctype": "Proxy Server", "hostname": "n1", "domain": self.domain, "cluster": cluster,
			"ip": "10.7.0.2", "private_ip": "10.7.0.2", "status": "Active"}).insert()
		server = frappe.get_doc({"doctype": "Server", "hostname": "f1", "domain": self.domain, "cluster": cluster,
			"ip": "10.7.0.3", "private_ip": "10.7.0.3", "status": "Active", "proxy_server": proxy.name}).insert()
		records = _zone_records(zone)
		self.assertEqual(records[(proxy.name, "A")], ["10.7.0.2"])
		self.assertEqual(records[(server.name, "A")], ["10.7.0.3"])
		self.assertEqual(services().checker.lookup(server.name, "A"), ["10.7.0.3"])

		from press_selfhosted.integrations import dns

		site = frappe.get_doc({"doctype": "Site", "name": f"acme.{self.domain}", "server": server.name})
		dns.site_created(site)  # the Site after_insert hook, as Press's insert runs it
		self.assertEqual(services().checker.lookup(site.name, "CNAME"), [f"{proxy.name}."])
		dns.site_renamed(site, old=site.name, new=f"acme2.{self.domain}")
		self.assertEqual(services().checker.lookup(f"acme.{self.domain}", "CNAME"), [])
		self.assertEqual(services().checker.lookup(f"acme2.{self.domain}", "CNAME"), [f"{proxy.name}."])
		frappe.delete_doc("Server", server.name, force=True)  # force: Press linked a Server Firewall to it
		self.assertNotIn((server.name, "A"), _zone_records(zone))

	def test_press_dns_checks_ask_the_platform_resolver(self):
		import press.utils.dns as press_dns

		services().dns.point(f"shop.{self.domain}", "10.7.0.9")
		resolver = press_dns.Resolver(configure=False)
		resolver.nameservers = press_dns.NAMESERVERS  # what Press does: 1.1.1.1, 8.8.8.8 …
		answer = resolver.query(f"shop.{self.domain}", "A")
		self.assertEqual([r.to_text() for r in answer], ["10.7.0.9"])

	def test_dns_record_doctype_edits_powerdns_directly(self):
		name = f"txt.{self.domain}"
		record = frappe.get_doc({"doctype": "DNS Record", "record_name": name, "record_type": "TXT", "ttl": 60, "content": "hello"}).insert()
		self.assertEqual(record.name, f"{name} TXT")
		self.assertEqual(services().checker.lookup(name, "TXT"), ['"hello"'])
		listed = frappe.get_list("DNS Record", filters={"zone": self.domain}, fields=["name", "content"])
		self.assertIn(f"{name} TXT", [r.name for r in listed])
		record = frappe.get_doc("DNS Record", f"{name} TXT")
		record.content = "hello\nworld"
		record.save()
		self.assertEqual(services().checker.lookup(name, "TXT"), ['"hello"', '"world"'])
		frappe.delete_doc("DNS Record", f"{name} TXT")
		self.assertEqual(services().checker.lookup(name, "TXT"), [])
		bad = frappe.get_doc({"doctype": "DNS Record", "record_name": f"x.{self.domain}", "record_type": "A", "content": "not-an-ip"})
		self.assertRaises(frappe.ValidationError, bad.insert)
		self.assertNotIn((f"x.{self.domain}", "A"), _zone_records(self.domain))

	def test_wildcard_certificate_comes_from_the_platform_ca_and_renews(self):
		name = f"*.{self.domain}"
		self.assertTrue(frappe.db.exists("TLS Certificate", name))  # requested when the Root Domain was created
		certificate = frappe.get_doc("TLS Certificate", name)
		certificate._obtain_certificate()
		certificate.reload()
		self.assertEqual(certificate.status, "Active", certificate.error)
		info = inspect_certificate(certificate.certificate)
		ca = CertificateAuthority.load(self.values["ca_directory"], passphrase=frappe.get_single("Selfhosted Settings").get_password("ca_passphrase"))
		self.assertEqual(info.issuer, inspect_certificate(ca.intermediate_pem).subject)
		self.assertEqual(info.names, [name, self.domain])
		self.assertEqual(certificate.intermediate_chain, ca.intermediate_pem)
		self.assertTrue(services().proxy.config_dir.joinpath("_platform.yaml").exists())  # the wildcard went to Traefik

		from press.press.doctype.tls_certificate.tls_certificate import renew_tls_certificates

		from press_selfhosted.integrations.tls import alert_expiring_certificates

		self.assertNotIn(name, [c.name for c in alert_expiring_certificates()])  # 90 days left: no alert
		frappe.db.set_value("TLS Certificate", name, "expires_on", now_datetime() + timedelta(days=10))
		frappe.db.commit()
		self.assertIn(name, [c.name for c in alert_expiring_certificates()])
		self.assertTrue(frappe.db.exists("Notification Log", {"subject": ("like", "% TLS certificates expire within 30 days")}))
		renew_tls_certificates()  # Press's hourly job, which builds TLSCertificate(...) itself
		renewed = frappe.get_doc("TLS Certificate", name)
		self.assertEqual(renewed.status, "Active", renewed.error)
		self.assertNotEqual(inspect_certificate(renewed.certificate).serial, info.serial)
		self.assertGreater(renewed.expires_on, now_datetime() + timedelta(days=80))

	def test_a_failing_ca_falls_back_to_self_signed_with_an_alert(self):
		settings = frappe.get_single("Selfhosted Settings")
		directory = settings.ca_directory
		# Written as another process would: services() sees the settings' new `modified`.
		frappe.db.set_single_value("Selfhosted Settings", "ca_directory", directory + "-missing")
		try:
			certificate = frappe.get_doc({"doctype": "TLS Certificate", "domain": f"custom.{self.domain}", "wildcard": 0,
				"provider": "Let's Encrypt", "status": "Pending", "rsa_key_size": "2048"})
			certificate.flags.in_insert = True
			certificate.db_insert()
			certificate._obtain_certificate()
			certificate.reload()
			self.assertEqual(certificate.status, "Active")
			info = inspect_certificate(certificate.certificate)
			self.assertEqual(info.issuer, info.subject)
			self.assertTrue(frappe.db.exists("Notification Log", {"subject": f"Self-signed certificate for custom.{self.domain}"}))
		finally:
			frappe.db.set_single_value("Selfhosted Settings", "ca_directory", directory)

	def test_remote_file_links_and_checks_use_the_s3_endpoint(self):
		key = f"backups/{self.domain}/db.sql.gz"
		services().store.put_bytes(key, b"dump")
		remote = frappe.get_doc({"doctype": "Remote File", "file_name": "db.sql.gz", "file_path": key,
			"bucket": self.values["s3_bucket"], "status": "Available"}).insert(ignore_permissions=True)
		link = remote.get_download_link()
		self.assertTrue(link.startswith(f"{self.values['s3_endpoint']}/{self.values['s3_bucket']}/"), link)
		self.assertEqual(requests.get(link, timeout=10).content, b"dump")
		self.assertTrue(remote.exists())
		remote.delete_remote_object()
		self.assertFalse(remote.exists())
		self.assertEqual(frappe.db.get_value("Remote File", remote.name, "status"), "Unavailable")

	def test_presigned_backup_upload_without_aws(self):
		from press_selfhosted.integrations.storage import get_upload_link, multipart_exit

		form = get_upload_link("site.sql.gz")
		self.assertTrue(form["url"].startswith(self.values["s3_endpoint"]))
		self.assertIn(requests.post(form["url"], data=form["fields"], files={"file": b"upload"}, timeout=10).status_code, (200, 204))
		self.assertEqual(services().store.get_bytes(form["fields"]["key"]), b"upload")
		multi = get_upload_link("big.tar", parts=2)
		parts = []
		for number, (url, body) in enumerate(zip(multi["signed_urls"], (b"a" * (5 << 20), b"b")), start=1):
			parts.append({"ETag": requests.put(url, data=body, timeout=30).headers["ETag"], "PartNumber": number})
		multipart_exit(multi["Key"], multi["UploadId"], "complete", frappe.as_json(parts))
		self.assertEqual(services().store.head(multi["Key"])["size"], (5 << 20) + 1)

	def test_a_team_is_created_and_may_create_sites_without_stripe(self):
		self.assertFalse(frappe.get_single("Press Settings").stripe_secret_key)
		email = f"owner-{frappe.generate_hash(length=6).lower()}@{self.domain}"
		frappe.get_doc({"doctype": "User", "email": email, "first_name": "Owner"}).insert(ignore_permissions=True)
		team = frappe.get_doc({"doctype": "Team", "user": email, "enabled": 1, "country": "India"}).insert(ignore_permissions=True)
		team.create_stripe_customer()  # what Team.create_new calls unconditionally
		self.assertFalse(team.stripe_customer_id)
		self.assertTrue(team.free_account)
		allowed, why = team.can_create_site()
		self.assertTrue(allowed, why)
		stock = original("press.press.doctype.team.team", "Team.create_stripe_customer")
		self.assertRaises(frappe.ValidationError, stock, team)  # Press alone would stop here: no Stripe key

	def test_health_refresh_records_each_service(self):
		from press_selfhosted.press_selfhosted.doctype.platform_service.health import refresh

		refresh()
		for service in ("storage", "powerdns", "traefik", "ca"):
			self.assertEqual(frappe.db.get_value("Platform Service", service, "status"), "Healthy",
				frappe.db.get_value("Platform Service", service, "detail"))


def forget_settings():
	"""What this process remembers of Selfhosted Settings: its controller, meta and the values read."""
	from press_selfhosted.integrations import reach

	frappe.controllers.get(frappe.local.site, {}).pop(SETTINGS, None)
	frappe.clear_cache(doctype=SETTINGS)
	reach._installed_for = None
	if hasattr(frappe.local, SERVICES):
		delattr(frappe.local, SERVICES)
