"""The awaitable forms of the long operations (pyo3-async-runtimes), with asyncio, against the
real Garage, Podman, PowerDNS and Traefik of `make test`: each runs while the event loop stays
free for other work, gives what the blocking form gives, and raises the same typed errors."""

import asyncio
import hashlib
import os
import time

import pytest
from conftest import service_env

from press_selfhosted import exceptions as exc
from press_selfhosted.dns import DnsChecker, PowerDns
from press_selfhosted.engine import LABEL_KIND, Engine, object_name
from press_selfhosted.proxy import Proxy
from press_selfhosted.storage import Store

IMAGE = "erp-saas-cloud-c16-test/busybox:1"


async def ticking(awaitable):
	"""(result, ticks): how often a 10 ms ticker ran while `awaitable` was awaited."""
	ticks = 0
	done = asyncio.Event()

	async def ticker():
		nonlocal ticks
		while not done.is_set():
			await asyncio.sleep(0.01)
			ticks += 1

	task = asyncio.create_task(ticker())
	try:
		return await awaitable, ticks
	finally:
		done.set()
		await task


@pytest.fixture
def store(credentials):
	store = Store(service_env("PRESS_SELFHOSTED_TEST_S3_ENDPOINT"), f"py-async-{os.getpid()}", **credentials)
	store.ensure_bucket()
	yield store
	store.delete_prefix("")


@pytest.fixture(scope="module")
def engine():
	engine = Engine.connect(service_env("PRESS_SELFHOSTED_TEST_PODMAN"))
	try:
		engine.image_id(IMAGE)
	except exc.ImageMissing:
		engine.import_rootfs(service_env("PRESS_SELFHOSTED_TEST_ROOTFS"), IMAGE)
	return engine


def test_uploads_and_downloads_run_side_by_side_on_one_event_loop(store, tmp_path):
	files = {}
	for name in ("a", "b", "c"):
		data = os.urandom(9 << 20)
		(tmp_path / name).write_bytes(data)
		files[name] = hashlib.sha256(data).hexdigest()
	seen = []

	async def main():
		uploads = asyncio.gather(*(store.upload_file_async(tmp_path / n, f"site/{n}", progress=lambda d, t: seen.append(d))
			for n in files))
		up, ticks = await ticking(uploads)
		down = await asyncio.gather(*(store.download_file_async(f"site/{n}", tmp_path / f"{n}.back") for n in files))
		return up, ticks, down

	up, ticks, down = asyncio.run(main())
	assert [(o["key"], o["size"], o["sha256"]) for o in up] == [(f"site/{n}", 9 << 20, files[n]) for n in files]
	assert ticks > 0 and seen  # the loop ran while the parts went up, and progress was told
	assert [o["sha256"] for o in down] == list(files.values())
	assert all(hashlib.sha256((tmp_path / f"{n}.back").read_bytes()).hexdigest() == files[n] for n in files)

	async def missing():
		await store.download_file_async("site/none", tmp_path / "none")

	with pytest.raises(exc.ObjectNotFound):
		asyncio.run(missing())
	assert not (tmp_path / "none").exists()


def test_exec_streams_its_lines_while_the_loop_runs(engine):
	name = object_name("bench", f"py-async-{os.getpid()}")
	engine.run(name, IMAGE, ["sleep", "300"], labels={LABEL_KIND: "bench"}, init=True)
	try:
		arrivals = []

		async def main():
			command = engine.exec_async(name, ["sh", "-c", "echo one; sleep 0.5; echo two >&2; sleep 0.5; echo three"],
				on_line=lambda stream, text: arrivals.append((stream, text, time.monotonic())))
			return await ticking(command)

		result, ticks = asyncio.run(main())
		assert result.exit_code == 0 and result.stdout == "one\nthree\n" and result.stderr == "two\n"
		assert [(s, t) for s, t, _ in arrivals] == [("stdout", "one"), ("stderr", "two"), ("stdout", "three")]
		assert arrivals[-1][2] - arrivals[0][2] > 0.8  # each line came when it was printed
		assert ticks >= 50

		async def failing():
			await engine.exec_async(name, ["sh", "-c", "exit 3"], check=True)

		with pytest.raises(exc.ExecFailed) as failed:
			asyncio.run(failing())
		assert failed.value.exit_code == 3

		async def follow():
			lines = []

			def on_line(stream, text):
				lines.append(text)
				return len(lines) < 3  # False: stop following

			await engine.follow_logs_async(logger, on_line)
			return lines

		logger = object_name("bench", f"py-async-log-{os.getpid()}")
		engine.run(logger, IMAGE, ["sh", "-c", "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done"],
			labels={LABEL_KIND: "bench"}, init=True)
		try:
			assert asyncio.run(asyncio.wait_for(follow(), 30)) == ["line 1", "line 2", "line 3"]
		finally:
			engine.remove(logger, force=True)
	finally:
		engine.remove(name, force=True)


def test_waiting_for_dns_and_routes_is_awaitable(ca, tmp_path):
	zone = f"async-{os.getpid()}.test"
	with open(service_env("PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE")) as f:
		pdns = PowerDns(service_env("PRESS_SELFHOSTED_TEST_PDNS_API"), api_key=f.read().strip())
	pdns.ensure_zone(zone, nameservers=[f"ns1.{zone}"])
	checker = DnsChecker([service_env("PRESS_SELFHOSTED_TEST_PDNS_DNS")])
	proxy = Proxy(service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_DIR"), service_env("PRESS_SELFHOSTED_TEST_TRAEFIK_API"))
	site = f"shop.{zone}"
	try:
		async def main():
			waiting = asyncio.ensure_future(checker.wait_for_async(site, "A", ["127.0.0.9"], timeout=20))
			await asyncio.sleep(0.3)
			pdns.upsert(zone, [(f"{site}.", "A", 60, ["127.0.0.9"])])
			seconds = await waiting
			issued = ca.issue([site])
			routes = proxy.write_site(site, ["http://127.0.0.1:9"], certificate=(issued.full_chain_pem, issued.private_key_pem()))
			loaded = await proxy.wait_loaded_async(routes)
			return seconds, loaded

		seconds, loaded = asyncio.run(main())
		assert 0.2 < seconds < 20
		assert [(s.name, s.status) for s in loaded] == [(f"{site}@file", "enabled")]

		async def never():
			await checker.wait_for_async(f"never.{zone}", "A", ["127.0.0.1"], timeout=0.5)

		with pytest.raises(exc.DnsNotPropagated):
			asyncio.run(never())
	finally:
		proxy.remove_site(site)
		pdns.delete_zone(zone)
