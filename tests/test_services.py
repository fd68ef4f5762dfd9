"""The launcher that `make test` uses to run real services: start, wait until ready, record
the PID, stop exactly that process."""

import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from services import Launcher, Recipe, ServiceFailed, _start_time, tcp_ready  # noqa: E402

HTTP = Recipe(
	name="http",
	ports=("http",),
	command=lambda workdir, ports: [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(ports["http"])],
	ready=lambda workdir, ports: tcp_ready(ports["http"]),
	env=lambda workdir, ports: {"TEST_HTTP_URL": f"http://127.0.0.1:{ports['http']}/"},
)
CRASHES = Recipe(
	name="crashes",
	command=lambda workdir, ports: [sys.executable, "-c", "import sys; print('bad config'); sys.exit(3)"],
	ready=lambda workdir, ports: False,
	env=lambda workdir, ports: {},
)
RECIPES = {r.name: r for r in (HTTP, CRASHES)}


def _alive(pid: int) -> bool:
	return _start_time(pid) is not None


def test_start_waits_until_ready_and_stop_ends_exactly_it(tmp_path):
	launcher = Launcher(tmp_path, RECIPES)
	launcher.start(["http"])
	url = launcher.env()["TEST_HTTP_URL"]
	assert urllib.request.urlopen(url, timeout=5).status == 200
	pid = launcher._records()[0]["pid"]
	assert _alive(pid)
	assert launcher.stop() == ["http"]
	assert not _alive(pid)
	assert not (tmp_path / "services.json").exists()
	with pytest.raises(OSError):
		urllib.request.urlopen(url, timeout=2)


def test_a_failing_service_stops_what_the_call_started_and_shows_its_log(tmp_path):
	launcher = Launcher(tmp_path, RECIPES)
	with pytest.raises(ServiceFailed, match="crashes exited with code 3") as failure:
		launcher.start(["http", "crashes"])
	assert "bad config" in str(failure.value)
	assert launcher._records() == []
	port = int(launcher.env().get("TEST_HTTP_URL", "http://127.0.0.1:1/").rsplit(":", 1)[1].strip("/"))
	assert not tcp_ready(port)


def test_unknown_services_start_nothing(tmp_path):
	with pytest.raises(ServiceFailed, match="unknown service"):
		Launcher(tmp_path, RECIPES).start(["http", "nope"])
	assert not (tmp_path / "services.json").exists()


def test_a_reused_pid_is_never_signalled(tmp_path):
	bystander = subprocess.Popen(["sleep", "30"], start_new_session=True)
	try:
		launcher = Launcher(tmp_path, RECIPES)
		# A record whose PID now belongs to another process (different start time).
		launcher._save([{"name": "old", "pid": bystander.pid, "start_time": 1, "log": "", "env": {}}])
		assert launcher.stop() == []
		time.sleep(0.2)
		assert bystander.poll() is None
	finally:
		bystander.kill()
		bystander.wait()


def test_the_command_line_round_trip(tmp_path):
	cli = [sys.executable, str(ROOT / "tools" / "services.py")]
	empty = subprocess.run([*cli, "start", "--state", str(tmp_path)], capture_output=True, text=True)
	assert empty.returncode == 0
	unknown = subprocess.run([*cli, "start", "--state", str(tmp_path), "nope"], capture_output=True, text=True)
	assert unknown.returncode == 1 and "unknown service" in unknown.stderr
	assert subprocess.run([*cli, "stop", "--state", str(tmp_path)]).returncode == 0
