"""The launcher that `make test` uses to run real services: start, wait until ready, record
the PID, stop exactly that process."""

import shlex
import signal
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


def _nat(*args: str, check: bool = True) -> subprocess.CompletedProcess:
	return subprocess.run(["iptables", "-w", "-t", "nat", *args], check=check, capture_output=True, text=True)


@pytest.mark.skipif(subprocess.run(["iptables", "-w", "-t", "nat", "-S"], capture_output=True).returncode != 0,
	reason="no iptables nat table here")
def test_a_dead_containers_port_forward_is_dropped_and_a_live_ones_kept(tmp_path):
	"""A CNI forward left by a killed engine hijacks a loopback port: a server bound to it
	answers nothing until the forward goes. One whose container's monitor runs stays."""
	from services import drop_stale_port_forwards, free_port

	port, dead_end = free_port(), free_port()
	dead_id, live_id = "d" * 64, "a" * 64
	# Stands for conmon, whose argv names its container.
	monitor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", live_id])
	server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
		stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
	made_chain = _nat("-N", "CNI-HOSTPORT-DNAT", check=False).returncode == 0
	jump = ["OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"]
	made_jump = _nat("-C", *jump, check=False).returncode != 0
	if made_jump:
		_nat("-A", *jump)
	# The dead container's forward takes the server's port; the live one's another port.
	chains = {dead_id: ("CNI-DN-" + "d" * 20, port), live_id: ("CNI-DN-" + "a" * 20, free_port())}
	try:
		for container, (chain, forwarded) in chains.items():
			_nat("-N", chain)
			_nat("-A", chain, "-d", "127.0.0.1/32", "-p", "tcp", "--dport", str(forwarded), "-j", "DNAT",
				"--to-destination", f"127.0.0.1:{dead_end}")
			_nat("-A", "CNI-HOSTPORT-DNAT", "-p", "tcp", "-m", "comment", "--comment",
				f'dnat name: "podman" id: "{container}"', "-m", "multiport", "--dports", str(forwarded), "-j", chain)
		assert not _wait(port, 1.0)  # hijacked: the bound server answers nothing

		assert drop_stale_port_forwards() == [dead_id]
		assert _wait(port)  # the server answers again
		rules = _nat("-S").stdout
		assert chains[dead_id][0] not in rules and chains[live_id][0] in rules and live_id in rules
	finally:
		server.kill()
		monitor.kill()
		for chain, _ in chains.values():
			for line in _nat("-S", "CNI-HOSTPORT-DNAT", check=False).stdout.splitlines():
				if line.endswith(f"-j {chain}"):
					_nat("-D", *shlex.split(line)[1:], check=False)
			_nat("-F", chain, check=False)
			_nat("-X", chain, check=False)
		if made_jump:
			_nat("-D", *jump, check=False)
		if made_chain:
			_nat("-X", "CNI-HOSTPORT-DNAT", check=False)


def _wait(port: int, seconds: float = 5.0) -> bool:
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		try:
			return urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).status == 200
		except OSError:
			time.sleep(0.1)
	return False


def test_the_registry_does_not_start_on_a_port_someone_else_serves(tmp_path):
	"""Its port is fixed (Podman's registries.conf names it): another registry there would
	pass as ready, so the start fails and records nothing."""
	import socket

	from services import REGISTRY_PORT, RECIPES as REAL

	with socket.socket() as taken:
		if not tcp_ready(REGISTRY_PORT):  # else this run's own registry holds it already
			taken.bind(("127.0.0.1", REGISTRY_PORT))
			taken.listen()
		launcher = Launcher(tmp_path, {"registry": REAL["registry"]})
		with pytest.raises(ServiceFailed, match=f"{REGISTRY_PORT} is already taken"):
			launcher.start(["registry"])
	assert launcher._records() == []


def test_a_dead_networks_name_server_is_dropped_and_a_live_ones_kept(tmp_path):
	"""dnsname keeps a network's dnsmasq.conf, naming the bridge it first had, while its
	directory stays: after an engine was killed, the next network of that name resolved none
	of its containers. A directory naming a container whose monitor runs is left alone."""
	from services import drop_stale_container_dns

	live_id = "b" * 12
	root = tmp_path / "dnsname"
	dead = root / "erp-net-dead"
	live = root / "erp-net-live"
	for network, container in ((dead, "c" * 12), (live, live_id)):
		network.mkdir(parents=True)
		(network / "addnhosts").write_text(f"10.89.0.4\tbench-0001\tbench-0001\t{container}\n")
		(network / "dnsmasq.conf").write_text("interface=cni-podman1\n")
	# Stand for the dead network's dnsmasq (a program of that name whose argv names the conf),
	# a bystander that only names the conf, and the live container's conmon.
	dnsmasq = tmp_path / "bin" / "dnsmasq"
	dnsmasq.parent.mkdir()
	dnsmasq.symlink_to(sys.executable)
	sleeper = ["-c", "import time; time.sleep(300)", f"--conf-file={dead / 'dnsmasq.conf'}"]
	name_server = subprocess.Popen([str(dnsmasq), *sleeper])
	bystander = subprocess.Popen([sys.executable, *sleeper])
	monitor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", live_id * 5])
	try:
		assert drop_stale_container_dns(root) == ["erp-net-dead"]
		assert name_server.wait(timeout=10) == -signal.SIGTERM
		assert bystander.poll() is None
		assert not dead.exists()
		assert (live / "dnsmasq.conf").read_text() == "interface=cni-podman1\n"
		assert monitor.poll() is None
		assert drop_stale_container_dns(tmp_path / "absent") == []
	finally:
		for process in (name_server, bystander, monitor):
			process.kill()


def test_powerdns_restarted_in_its_state_keeps_its_zones(tmp_path):
	"""A second `make demo` in the same state: the schema was loaded again into the kept
	database and PowerDNS never started ("table already exists")."""
	from press_selfhosted.dns import PowerDns
	from services import RECIPES as REAL

	launcher = Launcher(tmp_path, {"pdns": REAL["pdns"]})
	try:
		launcher.start(["pdns"])
		env = launcher.env()
		api = lambda: PowerDns(env["PRESS_SELFHOSTED_TEST_PDNS_API"],  # noqa: E731
			api_key=open(env["PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE"]).read().strip())
		api().ensure_zone("kept.test", nameservers=["ns1.kept.test"])
		assert launcher.stop() == ["pdns"]
		launcher.start(["pdns"])
		env = launcher.env()
		assert "kept.test." in api().zones()
	finally:
		launcher.stop()
