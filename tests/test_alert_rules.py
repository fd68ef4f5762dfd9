"""The shipped alert rules (press_selfhosted.monitor.alert_rules) under `promtool test rules`,
Prometheus's own rule evaluator: each fires on the series it watches, with the labels Press's
webhook reads (`instance` naming a Press document, `severity`), and stays quiet when all is well."""

import json
import subprocess

from press_selfhosted.monitor.alert_rules import RULES, press_rule_file

SITE = {"job": "site", "instance": "shop.example.com", "server": "f1-local.example.com", "bench": "bench-0001-000001",
	"cluster": "Local", "group": "g1"}
BENCH = {"job": "cadvisor", "instance": "f1-local.example.com", "kind": "bench", "name": "bench-0001-000001",
	"container": "press-bench-0001", "engine": "f1", "image": "bench:1"}
NODE = {"job": "node", "instance": "f1-local.example.com", "cluster": "Local"}
DISK = {**NODE, "device": "/dev/vda1", "fstype": "ext4", "mountpoint": "/"}
JOB = {"job": "press", "instance": "f1-local.example.com", "agent_job": "a1b2c3", "job_type": "New Site"}
GIB = 1024 ** 3


def series(name: str, labels: dict, values: str) -> dict:
	return {"series": name + "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}", "values": values}


def alert(labels: dict, rule: str) -> dict:
	description = next(r.description for r in RULES if r.name == rule)
	severity = next(r.severity for r in RULES if r.name == rule).lower()
	return {"exp_labels": {**labels, "severity": severity}, "exp_annotations": {"description": description}}


# (rule, input series, minute of evaluation, the alerts expected then)
CASES = [
	("Sites Down", [series("probe_success", SITE, "1 0x10"), series("probe_success", {**SITE, "instance": "up.example.com"}, "1x10")],
		5, [alert(SITE, "Sites Down")]),
	("Sites Down", [series("probe_success", SITE, "1 1 1 0 0 0")], 5, []),  # down for 2 minutes: not yet 3
	("Bench Container Down", [series("press_container_up", BENCH, "1 0x10")], 5,
		[alert({**BENCH, "instance": BENCH["name"]}, "Bench Container Down")]),
	("Bench Container Down", [series("press_container_up", BENCH, "1x10")], 5, []),
	("Bench Container Restarting", [series("press_container_restarts_total", BENCH, "0 1 2 3 4 4")], 5,
		[alert({**BENCH, "instance": BENCH["name"]}, "Bench Container Restarting")]),
	("Bench Container Restarting", [series("press_container_restarts_total", BENCH, "0 0 0 1 1 1")], 5, []),
	("Container Engine Unreachable", [series("press_engine_up", {"job": "cadvisor", "instance": "f1-local.example.com",
		"engine": "f1"}, "1 0x10")], 5, [alert({"job": "cadvisor", "instance": "f1-local.example.com", "engine": "f1"},
		"Container Engine Unreachable")]),
	("Disk Almost Full", [series("node_filesystem_avail_bytes", DISK, f"{10 * GIB}x20"),
		series("node_filesystem_size_bytes", DISK, f"{100 * GIB}x20"),
		series("node_filesystem_avail_bytes", {**DISK, "fstype": "tmpfs", "mountpoint": "/run"}, "0x20"),
		series("node_filesystem_size_bytes", {**DISK, "fstype": "tmpfs", "mountpoint": "/run"}, f"{GIB}x20")],
		15, [alert(DISK, "Disk Almost Full")]),
	("Disk Almost Full", [series("node_filesystem_avail_bytes", DISK, f"{20 * GIB}x20"),
		series("node_filesystem_size_bytes", DISK, f"{100 * GIB}x20")], 15, []),
	("Memory Pressure", [series("node_memory_MemAvailable_bytes", NODE, f"{GIB // 2}x20"),
		series("node_memory_MemTotal_bytes", NODE, f"{8 * GIB}x20")], 15, [alert(NODE, "Memory Pressure")]),
	("Memory Pressure", [series("node_memory_MemAvailable_bytes", NODE, f"{2 * GIB}x20"),
		series("node_memory_MemTotal_bytes", NODE, f"{8 * GIB}x20")], 15, []),
	("Backup Failed or Late", [series("press_site_backup_age_seconds", {"job": "press", "instance": "late.example.com"},
		f"{27 * 3600}x10"), series("press_site_backup_last_failed", {"job": "press", "instance": "late.example.com"}, "0x10"),
		series("press_site_backup_age_seconds", {"job": "press", "instance": "failed.example.com"}, "3600x10"),
		series("press_site_backup_last_failed", {"job": "press", "instance": "failed.example.com"}, "1x10"),
		series("press_site_backup_age_seconds", {"job": "press", "instance": "fine.example.com"}, "3600x10"),
		series("press_site_backup_last_failed", {"job": "press", "instance": "fine.example.com"}, "0x10")], 8,
		[alert({"job": "press", "instance": "failed.example.com"}, "Backup Failed or Late"),
		alert({"job": "press", "instance": "late.example.com"}, "Backup Failed or Late")]),
	("Backup Failed or Late", [series("press_site_backup_age_seconds", {"job": "press", "instance": "fine.example.com"},
		"3600x10"), series("press_site_backup_last_failed", {"job": "press", "instance": "fine.example.com"}, "0x10")], 8, []),
	("Agent Job Running Long", [series("press_agent_job_running_seconds", JOB, "3000 3060 3120 3180 3240 3300 3360 3420 3480 3540 3600 3660")],
		11, [alert(JOB, "Agent Job Running Long")]),
	("Agent Job Running Long", [series("press_agent_job_running_seconds", JOB, "60 120 180")], 2, []),
	("Object Store Unreachable", [series("press_platform_service_up", {"job": "press", "instance": "storage"}, "1 0x10"),
		series("press_platform_service_up", {"job": "press", "instance": "powerdns"}, "0x10")], 8,
		[alert({"job": "press", "instance": "storage"}, "Object Store Unreachable")]),
	("Object Store Unreachable", [series("press_platform_service_up", {"job": "press", "instance": "storage"}, "1x10")], 8, []),
	# promtool's clock starts at 0: an expiry 20 days on is 20 * 86400, 40 days on does not fire.
	("Certificate Expiring", [series("probe_ssl_earliest_cert_expiry", SITE, f"{20 * 86400}x20"),
		series("probe_ssl_earliest_cert_expiry", {**SITE, "instance": "later.example.com"}, f"{40 * 86400}x20")],
		15, [alert(SITE, "Certificate Expiring")]),
]


def test_every_shipped_rule_is_tested():
	assert {rule.name for rule in RULES} == {case[0] for case in CASES}
	for rule in RULES:
		assert any(expected for name, _, _, expected in CASES if name == rule.name), f"{rule.name} is never seen firing"
		assert any(not expected for name, _, _, expected in CASES if name == rule.name) or rule.name in (
			"Container Engine Unreachable", "Certificate Expiring"), f"{rule.name} is never seen quiet"


def test_promtool_checks_and_unit_tests_every_shipped_rule(tmp_path):
	rules = tmp_path / "press.yml"
	rules.write_text(json.dumps(press_rule_file()))  # YAML is a superset of JSON
	checked = subprocess.run(["promtool", "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
	assert checked.returncode == 0, checked.stdout + checked.stderr
	assert f"SUCCESS: {len(RULES)} rules found" in checked.stdout
	tests = {"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": [
		{"interval": "1m", "input_series": inputs, "alert_rule_test": [{"eval_time": f"{minute}m", "alertname": rule, "exp_alerts": expected}]}
		for rule, inputs, minute, expected in CASES]}
	unit = tmp_path / "tests.yml"
	unit.write_text(json.dumps(tests))
	done = subprocess.run(["promtool", "test", "rules", str(unit)], capture_output=True, text=True, timeout=120)
	assert done.returncode == 0, done.stdout + done.stderr
	assert "SUCCESS" in done.stdout


def test_a_rule_that_fires_wrongly_fails_its_unit_test(tmp_path):
	"""The unit test above can fail: the same harness, one expectation reversed, is refused."""
	rules = tmp_path / "press.yml"
	rules.write_text(json.dumps(press_rule_file()))
	rule, inputs, minute, _ = CASES[1]  # a blip that must not fire
	unit = tmp_path / "tests.yml"
	unit.write_text(json.dumps({"rule_files": [str(rules)], "tests": [{"interval": "1m", "input_series": inputs,
		"alert_rule_test": [{"eval_time": f"{minute}m", "alertname": rule, "exp_alerts": [alert(SITE, rule)]}]}]}))
	done = subprocess.run(["promtool", "test", "rules", str(unit)], capture_output=True, text=True, timeout=120)
	assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr


def test_press_s_own_metrics_are_valid_prometheus_text(tmp_path):
	from press_selfhosted.monitor.press_metrics import RunningJob, SiteBackups, exposition

	now = 1_800_000_000.0
	text = exposition([SiteBackups("b.example.com", now - 90_000, None, False), SiteBackups('a"b.example.com', now - 10**6,
		now - 3600, True)], [RunningJob("j1", "New Site", "f1.example.com", now - 4000)], {"storage": False, "traefik": True}, now=now)
	checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
	assert checked.returncode == 0, checked.stdout + checked.stderr
	assert 'press_site_backup_age_seconds{instance="b.example.com"} 90000' in text  # never backed up: its age
	assert 'press_site_backup_age_seconds{instance="a\\"b.example.com"} 3600' in text
	assert 'press_site_backup_last_failed{instance="a\\"b.example.com"} 1' in text
	assert 'press_agent_job_running_seconds{instance="f1.example.com", agent_job="j1", job_type="New Site"} 4000' in text
	assert 'press_platform_service_up{instance="storage"} 0' in text and 'press_platform_service_up{instance="traefik"} 1' in text
