"""Bench tests: Press's monitoring on a Press site with press_selfhosted, against a real
Prometheus and Alertmanager (Debian's, started here on loopback) beside the services of
platform_services.py. Press's own Prometheus Alert Rule pushes its rules through its Agent to
the Monitor Server, which the executor answers.

Run: bench --site <press-site> run-tests --app press_selfhosted --module press_selfhosted.tests.test_monitoring
"""

import json
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import frappe
from frappe.tests.utils import FrappeTestCase

from press_selfhosted.commands.setup import run as setup
from press_selfhosted.integrations import install, monitoring, services
from press_selfhosted.monitor import Monitor, prepare
from press_selfhosted.monitor.alert_rules import RULES
from press_selfhosted.monitor.scrape import prometheus_config
from press_selfhosted.tests.platform_services import configure, free_port


def _get(url: str):
	with urllib.request.urlopen(url, timeout=10) as answer:
		return json.load(answer)


def _served_rules(prometheus: str) -> dict[str, str]:
	groups = _get(f"{prometheus}/api/v1/rules")["data"]["groups"]
	return {r["name"]: r["query"] for g in groups for r in g["rules"]}


def _stop(process: subprocess.Popen) -> None:
	process.terminate()
	process.wait(timeout=30)


class TestMonitoring(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.folder = Path(tempfile.mkdtemp(prefix="press-bench-monitor-"))
		monitor = cls.folder / "monitor"
		am, prom = free_port(), free_port()
		prepare(Monitor(monitor, "", ""))  # as setup does, before Prometheus starts on the folder
		cls.prometheus, cls.alertmanager = f"http://127.0.0.1:{prom}", f"http://127.0.0.1:{am}"
		(cls.folder / "prometheus.yml").write_text(json.dumps(prometheus_config(monitor, blackbox="127.0.0.1:9",
			alertmanager=f"127.0.0.1:{am}", interval="2s")))
		log = (cls.folder / "log").open("w")
		cls.addClassCleanup(log.close)
		# Class cleanups run even when setUpClass fails later on: no server outlives the test.
		for argv in (["prometheus-alertmanager", f"--config.file={monitor / 'alertmanager.yml'}",
				f"--storage.path={cls.folder / 'am'}", f"--web.listen-address=127.0.0.1:{am}", "--cluster.listen-address="],
				["prometheus", f"--config.file={cls.folder / 'prometheus.yml'}", "--web.enable-lifecycle",
				f"--storage.tsdb.path={cls.folder / 'data'}", f"--web.listen-address=127.0.0.1:{prom}"]):
			process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
			cls.addClassCleanup(_stop, process)
		for url in (cls.prometheus, cls.alertmanager):
			for _ in range(120):
				try:
					urllib.request.urlopen(f"{url}/-/ready", timeout=2).close()
					break
				except OSError:
					time.sleep(0.5)
		cls.domain = f"mon{frappe.generate_hash(length=6).lower()}.test"
		configure(cls.domain)
		settings = frappe.get_single("Selfhosted Settings")
		settings.update({"monitor_directory": str(monitor), "prometheus_url": cls.prometheus, "alertmanager_url": cls.alertmanager,
			"metrics_host": "127.0.0.9"})
		settings.save()
		frappe.db.commit()
		install()
		cls.said = setup()

	@classmethod
	def tearDownClass(cls):
		try:
			settings = frappe.get_single("Selfhosted Settings")
			settings.update({"monitor_directory": None, "prometheus_url": None, "alertmanager_url": None, "metrics_host": None})
			settings.save()
			services().powerdns.delete_zone(cls.domain)
			frappe.db.commit()
		finally:
			super().tearDownClass()

	def test_setup_makes_the_monitor_server_and_press_pushes_the_rules_to_prometheus(self):
		name = f"monitor.{self.domain}"
		self.assertEqual(frappe.db.get_single_value("Press Settings", "monitor_server"), name)
		self.assertEqual(frappe.db.get_value("Monitor Server", name, "status"), "Active")
		self.assertTrue(frappe.db.exists("Selfhosted Server", name))
		self.assertIn(f"Press Settings monitor_server: {name} (Prometheus at {self.prometheus}, Alertmanager at {self.alertmanager})",
			self.said)
		for rule in RULES:
			self.assertTrue(frappe.db.exists("Prometheus Alert Rule", rule.name), rule.name)
		served = _served_rules(self.prometheus)
		self.assertEqual(set(served), {r.name for r in RULES})
		# Press's routes reached Alertmanager: its webhook, with the token, is in the loaded config.
		token = frappe.db.get_value("Monitor Server", name, "webhook_token")
		loaded = _get(f"{self.alertmanager}/api/v2/status")["config"]["original"]
		self.assertIn(f"press.api.monitoring.alert?webhook_token={token}", loaded)
		self.assertEqual(setup(), [], "setup again changes nothing")

	def test_a_rule_edited_in_the_desk_reaches_prometheus_and_a_bad_one_is_refused(self):
		rule = frappe.get_doc("Prometheus Alert Rule", "Memory Pressure")
		original = rule.expression
		self.addCleanup(lambda: frappe.get_doc("Prometheus Alert Rule", "Memory Pressure").update(
			{"expression": original}).save())
		rule.expression = original.replace("< 0.10", "< 0.05")
		rule.save()
		self.assertIn("< 0.05", _served_rules(self.prometheus)["Memory Pressure"])
		before = (Path(services().monitor.rules_file).read_text(), _served_rules(self.prometheus))
		rule.expression = 'node_memory_MemAvailable_bytes{job="node" < 0.05'
		with self.assertRaisesRegex(frappe.ValidationError, "promtool refused it"):
			rule.save()
		self.assertEqual((Path(services().monitor.rules_file).read_text(), _served_rules(self.prometheus)), before)

	def test_prometheus_targets_follow_press_s_servers(self):
		server = frappe.get_doc({"doctype": "Server", "hostname": f"f{frappe.generate_hash(length=4).lower()}", "domain": self.domain,
			"cluster": frappe.db.get_value("Root Domain", self.domain, "default_cluster"), "ip": "127.0.0.9",
			"private_ip": "127.0.0.9", "status": "Active"}).insert(ignore_permissions=True)
		self.addCleanup(frappe.delete_doc, "Server", server.name, force=True)
		frappe.get_doc({"doctype": "Selfhosted Server", "server_type": "Server", "server": server.name,
			"metrics_host": "127.0.0.10"}).insert(ignore_permissions=True)
		self.addCleanup(frappe.delete_doc, "Selfhosted Server", server.name, force=True)
		monitoring.refresh_targets()
		groups = json.loads((services().monitor.file_sd / "servers.json").read_text())
		mine = {(g["labels"]["job"], g["targets"][0]) for g in groups if g["labels"]["instance"] == server.name}
		self.assertEqual(mine, {("node", "127.0.0.10:32373"), ("cadvisor", "127.0.0.10:32372")})
		server.db_set("status", "Archived")
		self.assertEqual(monitoring.refresh_targets(), ["servers.json"])
		groups = json.loads((services().monitor.file_sd / "servers.json").read_text())
		self.assertNotIn(server.name, {g["labels"]["instance"] for g in groups})

	def test_press_s_own_series_are_for_the_monitor_s_user_only(self):
		from press_selfhosted.integrations.monitoring import MetricsPage

		name = frappe.db.get_single_value("Press Settings", "monitor_server")
		key, secret = (services().monitor.press_token.read_text()).split(":")
		user = frappe.db.get_value("User", {"api_key": key}, "name")
		self.assertEqual(user, f"prometheus@{name}")
		self.assertEqual(frappe.utils.password.get_decrypted_password("User", user, "api_secret"), secret)
		page = MetricsPage("metrics/press-selfhosted")
		self.assertTrue(page.can_render())
		self.assertFalse(MetricsPage("metrics").can_render())  # Press's own page stays Press's
		self.addCleanup(frappe.set_user, frappe.session.user)
		frappe.set_user("Guest")
		self.assertEqual(page.render().status_code, 401)
		frappe.set_user(user)
		answer = page.render()
		self.assertEqual(answer.status_code, 200)
		self.assertIn("# TYPE press_site_backup_age_seconds gauge", answer.get_data(as_text=True))
