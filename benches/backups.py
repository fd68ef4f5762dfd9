"""Backups of sites through the local executor's Backup Site and Restore Site jobs, on the real
services tools/bench.sh starts (Podman, the stand-in bench, the platform MariaDB, Garage).

	python benches/backups.py faults [--backups 200]     # the store killed and restarted at random
	python benches/backups.py size --mib 1024            # one site with that many MiB of files:
	                                                     # ours against the agent's way (boto3)
	python benches/backups.py parallel --sites 10        # that many sites backed up at once:
	                                                     # ours against boto3 uploading theirs at once

`faults` runs backups one after another, as Press's scheduler sends them, while a second
thread SIGKILLs a private Garage at random moments and restarts it (same ports and data) after
a random outage. Every backup either succeeds or fails with a clear error; at the end every
object a successful backup recorded is downloaded and checked against its SHA-256, and no
multipart upload may be left open. Figures are printed as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # -I leaves the script's folder off the path
from common import report, run_worker  # noqa: E402

STANDIN = "erp-saas-cloud-c16-bench/bench-standin:1"
SITES = "/home/frappe/frappe-bench/sites"


class Rig:
	"""Podman, the platform MariaDB and one stand-in bench, and a store."""

	def __init__(self, store_for, endpoint: str, patience: float = 120.0):
		from press_selfhosted.engine import Engine, object_name
		from press_selfhosted.exceptions import ImageMissing
		from press_selfhosted.executor.local import Flow, run_database
		from press_selfhosted.executor.platform import Platform
		from press_selfhosted.proxy import Proxy

		env = os.environ
		self.engine = Engine.connect(env["PRESS_SELFHOSTED_TEST_PODMAN"])
		try:
			self.engine.image_id(STANDIN)
		except ImageMissing:
			self.engine.import_rootfs(env["PRESS_SELFHOSTED_TEST_BENCH_IMAGE"], STANDIN)
		self.tag = f"bk{os.getpid()}"
		self.network, self.db = object_name("net", self.tag), object_name("db", self.tag)
		self.password = secrets.token_urlsafe(18)
		database = run_database(self.engine, STANDIN, name=self.db, network=self.network, password=self.password,
			port=self.engine.allocate_ports(1)[0])
		self.scratch = tempfile.mkdtemp()
		self.platform = Platform(engine=self.engine, database=database, proxy=Proxy(Path(self.scratch) / "routes", "http://127.0.0.1:9"),
			dns=None, address="127.0.0.1", network=self.network, timeout=300, owner=self.tag, store=store_for,
			store_endpoint=endpoint, store_patience=patience)
		self.flow = Flow(self.platform, root_password=self.password, bench_of=lambda site: self.tag)
		self.flow.bench(self.tag, STANDIN, gunicorn_workers=1, background_workers=1)
		self.container = f"erp-saas-cloud-c16-bench-{self.tag}-{self.tag}"

	def site(self, name: str, mib: int) -> str:
		"""A site with `mib` MiB of public files (random: nothing compresses them away)."""
		site = f"{name}.{self.tag}.test"
		self.flow.job("POST", f"benches/{self.tag}/sites", {"name": site, "apps": ["frappe"],
			"mariadb_root_password": self.password, "admin_password": "admin", "managed_database_config": {}})
		if mib:
			self.engine.exec(self.container, ["sh", "-c", f"head -c {mib << 20} /dev/urandom > {SITES}/{site}/public/files/blob.bin"],
				user="frappe", check=True, timeout=3600)
		return site

	def backup(self, site: str, bucket: str, path: str):
		return self.flow.job("POST", f"benches/{self.tag}/sites/{site}/backup", {"with_files": True,
			"offsite": {"bucket": bucket, "path": path}, "keep_files_locally_after_offsite_backup": False}, check=False)

	def close(self) -> None:
		from press_selfhosted.executor.local import remove_database

		for container in self.engine.list([f"io.press-selfhosted.bench={self.tag}"]):
			self.engine.remove(container.name, force=True)
		for volume in self.engine.list_volumes([f"io.press-selfhosted.bench={self.tag}"]):
			self.engine.remove_volume(volume, force=True)
		remove_database(self.engine, self.db)
		self.engine.remove_network(self.network)


def faults(count: int, mib: int, interval: float, patience: float, kill_every: float) -> dict:
	from services import GARAGE, RECIPES, Launcher, tcp_ready

	from press_selfhosted.storage import Store

	work = Path(tempfile.mkdtemp())
	launcher = Launcher(work / "services", {"garage": RECIPES["garage"]})
	launcher.start(["garage"])
	env, folder = launcher.env(), work / "services" / "garage"
	endpoint = env["PRESS_SELFHOSTED_TEST_S3_ENDPOINT"]
	port = int(endpoint.rsplit(":", 1)[1])
	keys = {"access_key": (folder / "access_key").read_text(), "secret_key": (folder / "secret_key").read_text(), "region": "garage"}

	def store_for(bucket):
		return Store(endpoint, bucket, **keys)

	store_for("backups").ensure_bucket()
	rig = Rig(store_for, endpoint, patience)
	pid = [launcher._records()[0]["pid"]]
	stop, kills, outages, down = threading.Event(), [0], [], threading.Event()

	def killer():
		rng = random.Random(7)
		while not stop.wait(rng.expovariate(1 / kill_every)):
			os.kill(pid[0], signal.SIGKILL)
			down.set()
			kills[0] += 1
			outage = rng.choice([rng.uniform(0.2, 2.0), rng.uniform(2.0, 8.0), rng.uniform(8.0, 30.0)])
			outages.append(outage)
			stop.wait(outage)
			proc = subprocess.Popen([GARAGE, "-c", str(folder / "garage.toml"), "server"], stdout=subprocess.DEVNULL,
				stderr=subprocess.DEVNULL, start_new_session=True)
			pid[0] = proc.pid
			deadline = time.monotonic() + 30
			while not tcp_ready(port) and time.monotonic() < deadline:
				time.sleep(0.05)
			down.clear()

	try:
		site = rig.site("faults", mib)
		thread = threading.Thread(target=killer, daemon=True)
		thread.start()
		results, started = [], time.monotonic()
		for i in range(count):
			t0 = time.monotonic()
			job = rig.backup(site, "backups", f"{site}/{i:04d}")
			agent = job.to_agent()
			results.append({"i": i, "status": job.status, "seconds": round(time.monotonic() - t0, 2),
				"error": (agent["data"].get("output") or "").splitlines()[-1:] if job.status != "Success" else None,
				"offsite": agent["data"].get("offsite") if job.status == "Success" else None,
				"sizes": {b["file"]: b["size"] for b in agent["data"].get("backups", {}).values()} if job.status == "Success" else None,
				"during_outage": down.is_set()})
			time.sleep(interval)
		stop.set()
		thread.join()
		while not tcp_ready(port):
			time.sleep(0.1)
		# Every object a successful backup recorded, fetched and checked against its SHA-256.
		store, corrupt, checked = store_for("backups"), [], 0
		with tempfile.TemporaryDirectory() as here:
			for r in results:
				for file, key in (r["offsite"] or {}).items():
					got = store.download_file(key, Path(here) / "x", verify=True)
					if got["size"] != r["sizes"][file] or not got.get("sha256"):
						corrupt.append(key)
					checked += 1
					os.remove(Path(here) / "x")
		failed_keys = [k for k, _ in store.list(f"{site}/") if not any(k in (r["offsite"] or {}).values() for r in results)]
		# A failure followed by a success with the store back: "the next scheduled backup succeeds".
		recovered = sum(1 for a, b in zip(results, results[1:]) if a["status"] != "Success" and b["status"] == "Success")
		failures = [r for r in results if r["status"] != "Success"]
		errors: dict[str, int] = {}
		for r in failures:
			text = (r["error"] or ["(no message)"])[0]
			errors[text[:140]] = errors.get(text[:140], 0) + 1
		return {"backups": count, "kill_every_seconds": kill_every, "patience_seconds": patience, "interval_seconds": interval, "site_mib": mib, "succeeded": count - len(failures), "failed": len(failures),
			"failed_with_message": sum(1 for r in failures if r["error"] and r["error"][0].strip()),
			"kills": kills[0], "outage_seconds_total": round(sum(outages), 1), "objects_checked": checked,
			"corrupt_objects": len(corrupt), "objects_left_by_failed_backups": len(failed_keys),
			"open_multipart_uploads": len(store.pending_uploads("")), "failures_followed_by_success": recovered,
			"seconds": round(time.monotonic() - started, 1), "errors": errors,
			"median_backup_seconds": sorted(r["seconds"] for r in results)[count // 2]}
	finally:
		stop.set()
		rig.close()
		try:
			os.kill(pid[0], signal.SIGKILL)
		except ProcessLookupError:
			pass
		launcher.stop()


def shared_store() -> tuple[str, dict]:
	"""The Garage tools/bench.sh starts: (endpoint, Store's keyword arguments)."""
	folder = Path(os.environ["PRESS_SELFHOSTED_TEST_S3_DIR"])
	return os.environ["PRESS_SELFHOSTED_TEST_S3_ENDPOINT"], {"access_key": (folder / "access_key").read_text(),
		"secret_key": (folder / "secret_key").read_text(), "region": os.environ["PRESS_SELFHOSTED_TEST_S3_REGION"]}


def seconds_of(job) -> dict:
	"""Each step's parts (`step.timed`) and its whole duration."""
	parts = {}
	for step in job.steps:
		parts[step.name] = round((step.end - step.start).total_seconds(), 2)
		for part, took in step.data.get("seconds", {}).items():
			parts[f"{step.name}: {part}"] = took
	return parts


def ours_worker(mib: int, handoff: str) -> None:
	"""Backup Site of a site with `mib` MiB of files, then Restore Site of it into a new site,
	through the executor; leaves the backup's files in `handoff` for the boto3 worker."""
	from press_selfhosted.storage import Store

	endpoint, keys = shared_store()
	Store(endpoint, "backups", **keys).ensure_bucket()
	rig = Rig(lambda bucket: Store(endpoint, bucket, **keys), endpoint)
	try:
		site = rig.site("big", mib)
		started = time.perf_counter()
		job = rig.backup(site, "backups", f"{site}/ours")
		backup_seconds = time.perf_counter() - started
		assert job.status == "Success", job.to_agent()["data"]
		data = job.to_agent()["data"]
		target = rig.site("copy", 0)
		links = {kind: Store(endpoint, "backups", **keys).presign_get(data["offsite"][b["file"]])
			for kind, b in data["backups"].items() if kind != "site_config"}
		started = time.perf_counter()
		restored = rig.flow.job("POST", f"benches/{rig.tag}/sites/{target}/restore", {"apps": ["frappe"],
			"mariadb_root_password": rig.password, "admin_password": "admin", **links}, check=False)
		restore_seconds = time.perf_counter() - started
		assert restored.status == "Success", restored.to_agent()["data"]
		files = {}
		for kind, b in data["backups"].items():
			files[kind] = str(Path(handoff) / b["file"])
			Store(endpoint, "backups", **keys).download_file(data["offsite"][b["file"]], files[kind])
		(Path(handoff) / "files.json").write_text(json.dumps(files))
		total = sum(b["size"] for b in data["backups"].values())
		report(backup_seconds=backup_seconds, restore_seconds=restore_seconds, bytes=total,
			backup_parts=seconds_of(job), restore_parts=seconds_of(restored))
	finally:
		rig.close()


def boto3_worker(handoff: str) -> None:
	"""The agent's way, from the files on the host (the agent's bench directory is there):
	boto3's upload_fileobj of each file, then download_file of each, as the agent restores."""
	import boto3

	endpoint, keys = shared_store()
	s3 = boto3.client("s3", endpoint_url=endpoint, region_name=keys["region"], aws_access_key_id=keys["access_key"],
		aws_secret_access_key=keys["secret_key"])
	files = json.loads((Path(handoff) / "files.json").read_text())
	started = time.perf_counter()
	for path in files.values():
		with open(path, "rb") as f:
			s3.upload_fileobj(f, "backups", f"boto3/{os.path.basename(path)}")
	uploaded = time.perf_counter()
	for path in files.values():
		s3.download_file("backups", f"boto3/{os.path.basename(path)}", path + ".back")
		os.remove(path + ".back")
	report(upload_seconds=uploaded - started, download_seconds=time.perf_counter() - uploaded)


def size(mib: int) -> dict:
	with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as handoff:
		ours = run_worker(__file__, "ours", str(mib), handoff)
		agent = run_worker(__file__, "boto3", handoff)
	return {"files_mib": mib, "ours": ours, "agent_way_boto3": agent}


def parallel_worker(sites: int, mib: int, handoff: str) -> None:
	"""`sites` sites on one bench, each with `mib` MiB of files, backed up at once (a thread
	each, as several workers of Press's long queue would run them); leaves each backup's files
	in `handoff` for the boto3 worker."""
	from concurrent.futures import ThreadPoolExecutor

	from press_selfhosted.storage import Store

	endpoint, keys = shared_store()
	store = Store(endpoint, "backups", **keys)
	store.ensure_bucket()
	rig = Rig(lambda bucket: Store(endpoint, bucket, **keys), endpoint)
	try:
		names = [rig.site(f"p{i:02d}", mib) for i in range(sites)]

		def one(site):
			t0 = time.perf_counter()
			job = rig.backup(site, "backups", f"{site}/parallel")
			return job, time.perf_counter() - t0

		started = time.perf_counter()
		with ThreadPoolExecutor(sites) as pool:
			outcomes = list(pool.map(one, names))
		wall = time.perf_counter() - started
		alone = one(names[0])[1]
		# Per site: bench backup, the copy out of the container, and the upload itself.
		parts = [seconds_of(job) for job, _ in outcomes]

		def median(of) -> float:
			return round(sorted(sum(t for name, t in p.items() if of(name)) for p in parts)[sites // 2], 2)
		files: dict[str, list[str]] = {}  # each site's files, for a boto3 worker of its own
		total = 0
		for site, (job, _) in zip(names, outcomes):
			data = job.to_agent()["data"]
			for b in data.get("backups", {}).values():
				local = Path(handoff) / b["file"]
				store.download_file(data["offsite"][b["file"]], local)
				files.setdefault(site, []).append(str(local))
				total += b["size"]
		(Path(handoff) / "files.json").write_text(json.dumps(files))
		report(sites=sites, succeeded=sum(1 for job, _ in outcomes if job.status == "Success"), wall_seconds=wall,
			median_seconds=sorted(t for _, t in outcomes)[sites // 2], one_alone_seconds=alone,
			bench_backup_median_seconds=median(lambda n: n == "Backup Site"),
			copy_out_median_seconds=median(lambda n: n.endswith(": out of the container")),
			upload_median_seconds=median(lambda n: n.startswith("Upload Site Backup to S3: ") and n.endswith(": upload")),
			bytes=total)
	finally:
		rig.close()


def boto3_parallel_worker(handoff: str) -> None:
	"""The agent's way for the same backups: each site's files uploaded with boto3's
	upload_fileobj by a worker of its own (a thread and a client each), all at once."""
	from concurrent.futures import ThreadPoolExecutor

	import boto3

	endpoint, keys = shared_store()
	per_site = list(json.loads((Path(handoff) / "files.json").read_text()).values())

	def one(batch):
		s3 = boto3.client("s3", endpoint_url=endpoint, region_name=keys["region"], aws_access_key_id=keys["access_key"],
			aws_secret_access_key=keys["secret_key"])
		t0 = time.perf_counter()
		for path in batch:
			with open(path, "rb") as f:
				s3.upload_fileobj(f, "backups", f"boto3-parallel/{os.path.basename(path)}")
		return time.perf_counter() - t0

	started = time.perf_counter()
	with ThreadPoolExecutor(len(per_site)) as pool:
		took = list(pool.map(one, per_site))
	report(wall_seconds=time.perf_counter() - started, median_seconds=sorted(took)[len(took) // 2])


def parallel(sites: int, mib: int) -> dict:
	with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as handoff:
		ours = run_worker(__file__, "parallel", str(sites), str(mib), handoff)
		agent = run_worker(__file__, "boto3-parallel", handoff)
	return {"sites": sites, "files_mib_per_site": mib, "ours": ours, "agent_way_boto3_uploads": agent}


def main() -> None:
	if sys.argv[1:2] == ["--worker"]:
		kind, *rest = sys.argv[2:]
		if kind == "ours":
			return ours_worker(int(rest[0]), rest[1])
		if kind == "boto3":
			return boto3_worker(rest[0])
		if kind == "boto3-parallel":
			return boto3_parallel_worker(rest[0])
		return parallel_worker(int(rest[0]), int(rest[1]), rest[2])
	parser = argparse.ArgumentParser()
	parser.add_argument("what", choices=["faults", "size", "parallel"])
	parser.add_argument("--sites", type=int, default=10)
	parser.add_argument("--backups", type=int, default=200)
	parser.add_argument("--mib", type=int, default=16, help="MiB of public files on the site")
	parser.add_argument("--interval", type=float, default=1.0, help="seconds between two scheduled backups")
	parser.add_argument("--patience", type=float, default=15.0,
		help="how long a backup waits for the store (the platform's default is 120 s; less makes long outages fail backups)")
	parser.add_argument("--kill-every", type=float, default=15.0, help="mean seconds between two kills of the store")
	args = parser.parse_args()
	if args.what == "faults":
		print(json.dumps(faults(args.backups, args.mib, args.interval, args.patience, args.kill_every), indent=1))
	elif args.what == "size":
		print(json.dumps(size(args.mib), indent=1))
	else:
		print(json.dumps(parallel(args.sites, args.mib), indent=1))


if __name__ == "__main__":
	main()
