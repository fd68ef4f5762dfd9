"""Bench tests of a customer's journey through the APIs Press's dashboard calls, as the customer
(not Administrator): sign up, the code from the verification mail, the account's set-up with no
payment gateway, the new-site options (the platform's cluster, its public Release Group, the
site plans), a site on a plan placed on the local executor's servers and its job steps as the
customer sees them (and may follow live), until Active, then the dashboard's login to the site;
a product trial's sign-up, which hands the customer a standby site kept ready on the local
servers; the customer's own domain; and a plan's limit, which suspends a site over it.

Needs what test_local_executor needs (platform_services.local_platform). The steps Press's
workers and scheduler would take are called in their order (`drive`).

Run: bench --site <press-site> run-tests --app press_selfhosted --module press_selfhosted.tests.test_customer_journey
"""

import json
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import frappe
from aiosmtpd.controller import Controller
from frappe.tests.utils import FrappeTestCase

from press_selfhosted.commands.setup import email_account
from press_selfhosted.integrations import install, services
from press_selfhosted.integrations.images import deploy_image
from press_selfhosted.tests.platform_services import (Inbox, drive, drop_local_platform, env, fixture_steps, free_port,
	https_get, local_platform, release_group, steps)

def signup_code(inbox: Inbox, email: str) -> str:
	"""The code of the verification mail the platform's relay took for the address (Press puts it
	in the subject)."""
	deadline = time.monotonic() + 10
	while time.monotonic() < deadline:
		for _, recipients, content in reversed(inbox.messages):
			found = re.search(rb"^Subject: (\d{6}) - ", content, re.M)
			if email in recipients and found:
				return found.group(1).decode()
		time.sleep(0.1)
	raise AssertionError(f"no verification mail reached the relay for {email}")


def run_whitelisted(method: str, **kwargs):
	"""A method as `/api/method/<method>` runs it (socket.io asks Frappe this way too): the last
	override in the apps' hooks, then Frappe's whitelist check."""
	from frappe.handler import is_whitelisted

	function = frappe.get_attr((frappe.get_hooks("override_whitelisted_methods", {}).get(method) or [method])[-1])
	is_whitelisted(function)
	return frappe.call(function, **kwargs)


@contextmanager
def billing_mode(mode: str):
	"""Selfhosted Settings' New Teams for the sign-ups inside, as before afterwards."""
	settings = frappe.get_single("Selfhosted Settings")
	before, settings.billing_mode = settings.billing_mode, mode
	settings.save()
	try:
		yield
	finally:
		settings.billing_mode = before
		settings.save()


@contextmanager
def as_customer(email: str):
	"""A dashboard request as the customer: their session, and Press's own before_request, which
	gives the request its team (the customer's own, with no X-Press-Team header)."""
	from press.overrides import before_request

	frappe.set_user(email)
	frappe.session.data = frappe._dict(user_type=frappe.db.get_value("User", email, "user_type"))
	before_request()
	try:
		yield
	finally:
		frappe.set_user("Administrator")


class TestCustomerJourney(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.domain = f"shop{frappe.generate_hash(length=6).lower()}.test"
		local_platform(cls.domain)
		# The platform's SMTP relay: without an outgoing account Press drops the mail silently.
		cls.inbox, port = Inbox(), free_port()
		cls.relay = Controller(cls.inbox, hostname="127.0.0.1", port=port)
		cls.relay.start()
		frappe.db.delete("Email Account", {"name": "Platform SMTP"})
		settings = frappe.get_single("Selfhosted Settings")
		settings.update({"smtp_server": "127.0.0.1", "smtp_port": port, "smtp_use_tls": 0, "smtp_username": None})
		settings.save()
		email_account()
		cls.server = f"f1.{cls.domain}"
		cls.group = release_group(cls.server, public=True)
		frappe.db.set_value("Frappe Version", "Version 15", "public", 1)
		deploy_image(cls.group, env("BENCH_IMAGE_REF"))
		drive()
		cls.plan = frappe.get_doc({"doctype": "Site Plan", "name": f"Shop {frappe.generate_hash(length=5)}",
			"plan_title": "Shop", "document_type": "Site", "price_usd": 10, "price_inr": 800, "enabled": 1,
			"max_database_usage": 500, "max_storage_usage": 1000, "cpu_time_per_day": 1,
			"roles": [{"role": "Press User"}]}).insert()
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		try:
			frappe.set_user("Administrator")
			cls.relay.stop()
			frappe.db.delete("Email Account", {"name": "Platform SMTP"})
			frappe.db.set_value("Site Plan", cls.plan.name, "enabled", 0)  # its sites keep it; new customers do not see it
			drop_local_platform(cls.domain)
		finally:
			super().tearDownClass()

	def sign_up(self, product: str | None = None) -> tuple[str, str]:
		"""As the dashboard's sign-up and set-up pages do (a product trial's sign-up with
		`product`): (email, team)."""
		from press.api.account import setup_account, signup, validate_request_key, verify_otp

		email = f"owner-{frappe.generate_hash(length=8)}@example.com"
		frappe.set_user("Guest")
		frappe.local.request_ip = "127.0.0.1"
		frappe.flags.in_test = False  # Press skips its country and disposable-mail checks in tests
		frappe.flags.testing_email = True  # Frappe skips the SMTP session in tests without it
		frappe.local.outgoing_email_account = {}
		try:
			request = signup(email, product=product)
			frappe.db.commit()  # Frappe 16 sends a now=True mail once the transaction commits
			key = verify_otp(request, signup_code(self.inbox, email))
			shown = validate_request_key(key)
			self.assertEqual((shown["email"], shown["is_invitation"]), (email, None))
			self.assertEqual((shown["product_trial"] or {}).get("name"), product)
			self.assertIn("United States", [c["name"] for c in shown["countries"]])
			# Press forgives a missing frappe.io (where it books a team's billing name) when CI is
			# set, as the test runner sets it; the dashboard's server never has it.
			ci = {k: v for k, v in os.environ.items() if k != "CI"}
			with mock.patch.object(frappe.local, "login_manager", mock.Mock(), create=True) as login, \
					mock.patch.dict(os.environ, ci, clear=True):
				setup_account(key, first_name="Olive", last_name="Owner", country="United States")  # no password: the page asks none
			login.login_as.assert_called_once_with(email)
		finally:
			frappe.flags.in_test = True
			frappe.flags.testing_email = False
			frappe.local.request_ip = None
			frappe.set_user("Administrator")
		return email, frappe.db.get_value("Team", {"user": email}, "name")

	def site_config(self, site: str) -> dict:
		from press_selfhosted.executor import container
		from press_selfhosted.executor.bench import container_name
		from press_selfhosted.executor.container import BENCH_DIR
		from press_selfhosted.integrations import agent

		platform = agent.platform_for("Server", self.server)
		bench = frappe.db.get_value("Site", site, "bench")
		return container.read_json(platform.engine, container_name(platform, bench), f"{BENCH_DIR}/sites/{site}/site_config.json")

	def calls_on_site(self, site: str) -> list[dict]:
		"""What Press called on the site's own API (the STAND-IN bench writes each call down)."""
		from press_selfhosted.executor import container
		from press_selfhosted.executor.bench import container_name
		from press_selfhosted.executor.container import BENCH_DIR
		from press_selfhosted.integrations import agent

		platform = agent.platform_for("Server", self.server)
		bench = frappe.db.get_value("Site", site, "bench")
		done = platform.engine.exec(container_name(platform, bench), ["cat", f"{BENCH_DIR}/sites/{site}/standin_calls.jsonl"],
			user=container.USER, timeout=60)
		return [json.loads(line) for line in done.stdout.splitlines()] if done.exit_code == 0 else []

	def test_a_new_team_is_made_without_a_gateway_and_is_sent_to_its_sites(self):
		email, name = self.sign_up()
		team = frappe.get_doc("Team", name)
		self.assertEqual((team.free_account, team.skip_onboarding, team.stripe_customer_id), (1, 1, None))
		self.assertEqual(team.get_route_on_login(), "/sites")  # not /welcome, where a card is asked for
		self.assertTrue(team.get_onboarding().complete)
		self.assertEqual(team.can_create_site(), (True, ""))
		self.assertIn("Press User", frappe.get_roles(email))
		self.assertIsNone(frappe.db.get_value("Account Request", team.account_request, "request_key"))  # used once

	def test_prepaid_teams_wait_for_the_operator_s_credit(self):
		with billing_mode("Prepaid Credits"):
			_, name = self.sign_up()
		team = frappe.get_doc("Team", name)
		self.assertEqual((team.free_account, team.skip_onboarding), (0, 1))
		allowed, why = team.can_create_site()
		self.assertFalse(allowed)
		self.assertIn("payment method", why)

	def test_a_customer_creates_a_site_on_a_plan_from_the_dashboard_and_logs_in(self):
		from press.api.client import get as get_doc_as_dashboard
		from press.api.client import get_list
		from press.api.site import get_site_plans, new, options_for_new

		email, team = self.sign_up()
		with as_customer(email):
			options = options_for_new()
			offered = {v.group.name: v for v in options["versions"]}
			self.assertIn(self.group, offered)
			cluster = frappe.db.get_value("Server", self.server, "cluster")
			self.assertEqual([c.name for c in offered[self.group].group.clusters], [cluster])
			# A region's card shows its title and image alone: both set.
			self.assertTrue(all(c.title and c.image for c in offered[self.group].group.clusters))
			self.assertEqual(options["domain"], self.domain)
			self.assertIsNone(options["closest_cluster"])  # no visitor lookup on the internet
			# The page shows a cluster only under a provider it knows (Cloud Provider): else the
			# customer could pick a version and nothing else.
			self.assertEqual([(p["name"], p["title"]) for p in options["providers"]], [("Generic", "Self-hosted")])
			plans = {p.name: p for p in get_site_plans()}
			self.assertEqual((plans[self.plan.name].max_database_usage, plans[self.plan.name].max_storage_usage), (500, 1000))

			subdomain = f"olive{frappe.generate_hash(length=5).lower()}"
			made = new({"name": subdomain, "apps": ["frappe"], "version": "Version 15", "group": self.group,
				"cluster": cluster, "plan": self.plan.name, "domain": self.domain, "share_details_consent": 0})
		site = f"{subdomain}.{self.domain}"
		self.assertEqual(made["site"], site)
		self.assertEqual(frappe.db.get_value("Site", site, ["team", "server", "plan"]), (team, self.server, self.plan.name))
		frappe.db.commit()
		drive()
		self.assertEqual(frappe.db.get_value("Site", site, "status"), "Active")
		self.assertEqual(steps(made["job"]), [(s, "Success") for s in fixture_steps("New Site")])
		# The plan's CPU time reaches the site as Frappe's own request limiter (rate_limit, seconds
		# of request time a day), its storage limits as plan_limit: what Press's agent writes.
		self.assertEqual(self.site_config(site)["rate_limit"], {"limit": 3600, "window": 86400})
		self.assertEqual(self.site_config(site)["plan_limit"], {"max_database_usage": 500, "max_storage_usage": 1000})

		with as_customer(email):
			# The site's Jobs tab: its jobs, as the customer may list them.
			listed = get_list("Agent Job", fields=["name", "job_type", "status"], filters={"site": site})
			self.assertIn({"name": made["job"], "job_type": "New Site", "status": "Success"}, [dict(j) for j in listed])
			# ...and each opens (the Job page the dashboard shows while the site comes up), though
			# the bench is the operator's.
			self.assertEqual(get_doc_as_dashboard("Agent Job", made["job"])["name"], made["job"])
			# ...and follows it live: socket.io asks Frappe before it joins the job's room.
			self.assertTrue(run_whitelisted("frappe.realtime.can_subscribe_doc", doctype="Agent Job", docname=made["job"]))
			# "Setup Site" on the dashboard: a login link to the site, with a session of its own.
			url = frappe.get_doc("Site", site).login_as_admin(reason="")
		self.assertTrue(url.startswith(f"https://{site}/app?sid="), url)
		self.assertNotEqual(url.rsplit("=", 1)[1], "Guest")
		status, _ = https_get(site, "/login")
		self.assertEqual(status, 200)

	def test_a_customer_cannot_see_another_team_s_site(self):
		from press.api.client import get as get_doc_as_dashboard
		from press.api.site import new

		first, _ = self.sign_up()
		second, _ = self.sign_up()
		subdomain = f"other{frappe.generate_hash(length=5).lower()}"
		cluster = frappe.db.get_value("Server", self.server, "cluster")
		with as_customer(first):
			made = new({"name": subdomain, "apps": ["frappe"], "version": "Version 15", "group": self.group,
				"cluster": cluster, "plan": self.plan.name, "domain": self.domain})
			site = made["site"]
			self.assertEqual(get_doc_as_dashboard("Site", site)["name"], site)
		frappe.db.commit()
		with as_customer(second):
			with self.assertRaises(frappe.PermissionError):
				get_doc_as_dashboard("Site", site)
			with self.assertRaises(frappe.PermissionError):  # nor its jobs
				get_doc_as_dashboard("Agent Job", made["job"])
			with self.assertRaises(frappe.PermissionError):  # nor follow them
				run_whitelisted("frappe.realtime.can_subscribe_doc", doctype="Agent Job", docname=made["job"])

	def test_a_product_trial_hands_a_new_customer_a_ready_standby_site(self):
		"""The operator's trial keeps a standby site ready on the local servers; a customer who
		signs up for it gets that site under the name they chose, logged in, in seconds."""
		from press.api.product_trial import get_request
		from press.press.doctype.site.site import create_subscription_for_trial_sites

		suffix = frappe.generate_hash(length=5).lower()
		plan = frappe.get_doc({"doctype": "Site Plan", "name": f"Trial {suffix}", "plan_title": "Trial",
			"document_type": "Site", "price_usd": 0, "price_inr": 0, "enabled": 1, "is_trial_plan": 1,
			"max_database_usage": 200, "max_storage_usage": 500, "cpu_time_per_day": 1,
			"roles": [{"role": "Press User"}]}).insert()
		product = frappe.get_doc({"doctype": "Product Trial", "name": f"shop{suffix}", "title": "Shop", "published": 1,
			"apps": [{"app": "frappe"}], "domain": self.domain, "release_group": self.group, "trial_plan": plan.name,
			"enable_pooling": 1, "standby_pool_size": 1, "standby_queue_size": 1, "trial_days": 14,
			"email_subject": "{otp} - Verify your email for Shop", "redirect_to_after_login": "/app"}).insert()
		frappe.db.commit()
		try:
			# Press's scheduler (replenish_standby_sites, every 5 minutes) keeps each trial's pool
			# full, on the platform's cluster: this trial's, as it does it.
			product.create_standby_sites_in_each_cluster()
			frappe.db.commit()
			drive()
			standby = frappe.get_all("Site", filters={"standby_for_product": product.name, "is_standby": 1},
				fields=["name", "status", "server"])
			self.assertEqual([(s.status, s.server) for s in standby], [("Active", self.server)])

			started = time.monotonic()
			email, team = self.sign_up(product=product.name)
			account_request = frappe.db.get_value("Team", team, "account_request")
			subdomain = f"acme{frappe.generate_hash(length=5).lower()}"
			with as_customer(email):
				# The set-up page: the customer's trial request, then Create site with their name.
				asked = get_request(product.name, account_request)
				self.assertEqual((asked["status"], asked["domain"]), ("Pending", self.domain))
				frappe.get_doc("Product Trial Request", asked["name"]).create_site(subdomain, asked["domain"])
			frappe.db.commit()
			drive()
			request = frappe.get_doc("Product Trial Request", asked["name"])
			self.assertEqual((request.status, request.is_standby_site, request.site), ("Site Created", 1, standby[0].name))
			with as_customer(email):
				self.assertEqual(request.get_progress()["progress"], 100)
				url = request.get_login_sid()  # the login-to-site page opens this
			took = time.monotonic() - started
			print(f"product trial: sign-up to the login link in {took:.1f} s (standby site {standby[0].name})")

			# Press's scheduler then puts the site on the trial's plan (a job setup leaves running).
			self.assertFalse(frappe.db.get_value("Scheduled Job Type",
				{"method": "press.press.doctype.site.site.create_subscription_for_trial_sites"}, "stopped"))
			create_subscription_for_trial_sites()
			site = frappe.get_doc("Site", standby[0].name)
			self.assertEqual((site.team, site.is_standby, site.plan), (team, 0, plan.name))
			chosen = f"{subdomain}.{self.domain}"
			self.assertEqual(site.host_name, chosen)
			self.assertTrue(url.startswith(f"https://{chosen}/app?sid="), url)
			# The chosen name reaches the site (Traefik's route, PowerDNS's record) and the site
			# knows it (Add Domain: the domains of its config).
			self.assertEqual(https_get(chosen, "/login")[0], 200)
			self.assertIn(chosen, self.site_config(site.name)["domains"])
			# Both Add Domain jobs of the name (the trial's, and the one Press's callback of Add
			# Domain to Upstream makes) are done, in whichever order they finished: Press stores a
			# job's Success with its callback's work, and rolls both back when the callback fails.
			added = frappe.get_all("Agent Job", filters={"site": site.name, "job_type": "Add Domain"}, pluck="status")
			self.assertEqual(added, ["Success"] * 2)
			self.assertEqual(frappe.db.get_value("Site Domain", site.name, "redirect_to_primary"), 1)
			# Press logged in on the site as its Administrator (over HTTPS, through the platform's
			# names) and filled the setup wizard with the customer's details.
			prefill = [c for c in self.calls_on_site(site.name) if c.get("method", "").endswith(".initialize_system_settings_and_user")]
			self.assertEqual([(c["user_data"]["email"], c["user_data"]["first_name"], c["system_settings_data"]["country"])
				for c in prefill], [(email, "Olive", "United States")])
			self.assertEqual(frappe.db.get_value("Site", site.name, "additional_system_user_created"), 1)
			# Its users are reported to this Press (Press's webhooks name frappecloud.com).
			hooks = [c["doc"] for c in self.calls_on_site(site.name) if c.get("insert") == "Webhook"]
			self.assertEqual(len(hooks), 3)
			self.assertEqual({h["request_url"] for h in hooks},
				{f"{frappe.utils.get_url()}/api/method/press.api.site_login.sync_product_site_user"})

			# The next sign-up finds the pool full again.
			product.reload()
			product.create_standby_sites_in_each_cluster()
			frappe.db.commit()
			drive()
			self.assertEqual(frappe.db.count("Site", {"standby_for_product": product.name, "is_standby": 1,
				"status": "Active"}), 1)
		finally:
			frappe.db.set_value("Product Trial", product.name, {"enable_pooling": 0, "published": 0})
			frappe.db.set_value("Site Plan", plan.name, "enabled", 0)
			frappe.db.commit()

	def test_a_customer_adds_their_own_domain_verified_through_its_cname(self):
		"""The Domains tab: the customer's own domain, a CNAME to their site on their DNS (here
		a zone of its own on PowerDNS, asked as the resolver for other names), is verified by
		Press's check (which also connects to it), added, given a certificate, and serves the site."""
		from press.api.site import add_domain, check_dns, new

		email, _ = self.sign_up()
		cluster = frappe.db.get_value("Server", self.server, "cluster")
		with as_customer(email):
			made = new({"name": f"dom{frappe.generate_hash(length=5).lower()}", "apps": ["frappe"], "version": "Version 15",
				"group": self.group, "cluster": cluster, "plan": self.plan.name, "domain": self.domain})
		frappe.db.commit()
		drive()
		site = made["site"]
		customer = f"own{frappe.generate_hash(length=6).lower()}.example"
		domain = f"www.{customer}"
		pdns = services().powerdns
		pdns.ensure_zone(customer, nameservers=[f"ns1.{customer}"])
		settings = frappe.get_single("Selfhosted Settings")
		kept = settings.dns_resolver, settings.site_http_address
		try:
			pdns.upsert(customer, [(f"{domain}.", "CNAME", 60, [f"{site}."])])
			settings.update({"dns_resolver": settings.dns_server, "site_http_address": env("TRAEFIK_HTTP")})
			settings.save()
			install()
			with as_customer(email):
				checked = check_dns(site, domain)
				self.assertTrue(checked["valid"], checked)
				self.assertTrue(checked["CNAME"]["matched"])
				add_domain(site, domain)
			frappe.db.commit()
			# Press's worker obtains the domain's certificate (the platform CA here), then its
			# callback asks the proxy for the host (Add Host to Proxy).
			certificate = frappe.db.get_value("Site Domain", domain, "tls_certificate")
			frappe.get_doc("TLS Certificate", certificate)._obtain_certificate()
			frappe.db.commit()
			drive()
			self.assertEqual(frappe.db.get_value("TLS Certificate", certificate, "status"), "Active")
			self.assertEqual(frappe.db.get_value("Site Domain", domain, "status"), "Active")
			status, body = https_get(domain, "/login")  # the certificate Press had made for it, via Traefik
			self.assertEqual(status, 200)
			self.assertIn(f"Login to {site}", body)
			# Without the resolver for other names, Press's check asks the public resolvers it
			# names (none reachable here), not the platform's authoritative server.
			settings.dns_resolver = None
			settings.save()
			import press.utils.dns as press_dns

			resolver = press_dns.Resolver(configure=False)
			resolver.nameservers = press_dns.NAMESERVERS
			resolver.lifetime = 1
			with self.assertRaises(Exception):
				resolver.query(domain, "CNAME")
			self.assertEqual(resolver.nameservers, press_dns.NAMESERVERS)
		finally:
			settings.reload()
			settings.update({"dns_resolver": kept[0], "site_http_address": kept[1]})
			settings.save()
			pdns.delete_zone(customer)
			frappe.db.commit()

	def test_a_paying_team_s_site_over_its_plan_is_suspended_until_it_fits_again(self):
		"""A plan's database limit holds: Press reads the site's usage (site info), flags a site over
		its plan, suspends it after 14 days (Press Settings' Enforce Storage Limits), and lifts the
		suspension once the site fits again. Press spares free teams' sites, so this team is prepaid."""
		import pymysql
		from press.api.site import new
		from press.press.doctype.site.site import suspend_sites_exceeding_disk_usage_for_last_14_days
		from press.press.doctype.site.site_usages import update_disk_usages

		plan = frappe.get_doc({"doctype": "Site Plan", "name": f"Tiny {frappe.generate_hash(length=5)}",
			"plan_title": "Tiny", "document_type": "Site", "price_usd": 1, "price_inr": 80, "enabled": 1,
			"max_database_usage": 1, "max_storage_usage": 100, "cpu_time_per_day": 1,
			"roles": [{"role": "Press User"}]}).insert()
		with billing_mode("Prepaid Credits"):
			email, team = self.sign_up()
		# The operator's credit (Press's Balance Transaction), which lets a prepaid team create sites.
		frappe.get_doc("Team", team).allocate_credit_amount(20, source="Free Credits", remark="the operator's credit")
		cluster = frappe.db.get_value("Server", self.server, "cluster")
		with as_customer(email):
			made = new({"name": f"full{frappe.generate_hash(length=5).lower()}", "apps": ["frappe"],
				"version": "Version 15", "group": self.group, "cluster": cluster, "plan": plan.name, "domain": self.domain})
		site = made["site"]
		self.assertEqual(frappe.db.get_value("Site", site, "free"), 0)  # a free team's sites are free for good
		enforced = frappe.db.get_single_value("Press Settings", "enforce_storage_limits")
		frappe.db.set_single_value("Press Settings", "enforce_storage_limits", 1)
		frappe.db.commit()
		database = None
		try:
			drive()
			self.assertEqual(frappe.db.get_value("Site", site, "status"), "Active")
			host, port = env("PLATFORM_MARIADB").rsplit(":", 1)
			database = pymysql.connect(host=host, port=int(port), user="root", autocommit=True,
				password=Path(env("PLATFORM_MARIADB_PASSWORD_FILE")).read_text().strip(), database=self.site_config(site)["db_name"])
			with database.cursor() as cursor:  # 3 MB of the customer's data, on a 1 MB plan
				cursor.execute("CREATE TABLE filler (id INT AUTO_INCREMENT PRIMARY KEY, data VARCHAR(1000))")
				cursor.executemany("INSERT INTO filler (data) VALUES (%s)", [("x" * 1000,)] * 3000)
				cursor.execute("ANALYZE TABLE filler")  # InnoDB's sizes as information_schema reports them

			# Press's scheduler: the site's info (usage in MB from the local executor), then the
			# usage against the plan, in per cent.
			frappe.get_doc("Site", site).sync_info()
			update_disk_usages()
			flagged = frappe.db.get_value("Site", site, ["site_usage_exceeded", "current_database_usage"], as_dict=True)
			self.assertEqual(flagged.site_usage_exceeded, 1)
			self.assertGreater(flagged.current_database_usage, 120)
			# Fourteen days on (Press's grace), the daily suspension finds it.
			frappe.db.set_value("Site", site, "site_usage_exceeded_on", frappe.utils.add_days(frappe.utils.now_datetime(), -15))
			suspend_sites_exceeding_disk_usage_for_last_14_days()
			frappe.db.commit()
			drive()
			self.assertEqual(frappe.db.get_value("Site", site, "status"), "Suspended")
			self.assertEqual(self.site_config(site)["maintenance_mode"], 1)
			status, body = https_get(site, "/login")  # the maintenance page, or the site's own 503 without one
			self.assertEqual(status, 503, body)

			with database.cursor() as cursor:
				cursor.execute("DROP TABLE filler")
			frappe.get_doc("Site", site).sync_info()
			update_disk_usages()
			frappe.db.commit()
			drive()
			self.assertEqual(frappe.db.get_value("Site", site, ["status", "site_usage_exceeded"]), ("Active", 0))
			self.assertEqual(self.site_config(site).get("maintenance_mode"), 0)
			self.assertEqual(https_get(site, "/login")[0], 200)
		finally:
			if database:
				database.close()
			frappe.db.set_single_value("Press Settings", "enforce_storage_limits", enforced)
			frappe.db.set_value("Site Plan", plan.name, "enabled", 0)
			frappe.db.commit()
