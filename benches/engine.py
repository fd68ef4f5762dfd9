"""Container life cycle, N containers (create, start, inspect, stop, remove), on Podman and
on Docker, in one run:

- press_selfhosted: `Engine.run/inspect/stop/remove` with bounded concurrency (threads; the
  GIL is released during every call), and the same API sequentially;
- docker-py: what the Press agent uses, sequentially as the agent does, and with the same
  thread pool as ours;
- CLI: one `podman`/`docker` process per step.

Containers are the test image's `sleep` under an init process, so `stop` returns promptly,
except when SIGTERM lands before the init has set up its handlers: then the stop waits its
timeout (2 s here, for every contender). Each figure is the median of `--repeat` runs, each
in its own process; peak RSS is that process's (with its children's).
Needs the engines' sockets and the busybox rootfs (see tools/bench.sh):

	make bench                          # all benchmarks; N = 50
	python benches/engine.py --count 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -I leaves the script's folder off the path
from common import IMAGE, WorkerFailed, engines, report, run_worker  # noqa: E402

LABEL = "io.press-selfhosted.kind"
CONTENDERS = ("press_selfhosted", "press_selfhosted-sequential", "docker-py", "docker-py-threads", "cli")
CONCURRENCY = 8
STOP_TIMEOUT = 2


def names(kind: str, contender: str, count: int) -> list[str]:
	return [f"erp-saas-cloud-c16-benchmark-{contender}-{kind}-{i}" for i in range(count)]


def ours(url: str, containers: list[str], concurrency: int) -> None:
	from press_selfhosted.engine import Engine

	engine = Engine.connect(url)

	def life(name: str) -> None:
		engine.run(name, IMAGE, ["sleep", "300"], labels={LABEL: "benchmark"}, init=True)
		assert engine.inspect(name).running
		engine.stop(name, timeout=STOP_TIMEOUT)
		engine.remove(name)

	with ThreadPoolExecutor(concurrency) as pool:
		list(pool.map(life, containers))


def docker_py(url: str, containers: list[str], concurrency: int) -> None:
	import docker

	client = docker.DockerClient(base_url=url, version="auto")

	def life(name: str) -> None:
		c = client.containers.create(IMAGE, ["sleep", "300"], name=name, labels={LABEL: "benchmark"}, init=True)
		c.start()
		c.reload()
		assert c.status == "running"
		c.stop(timeout=STOP_TIMEOUT)
		c.remove()

	with ThreadPoolExecutor(concurrency) as pool:
		list(pool.map(life, containers))


def cli(url: str, kind: str, containers: list[str]) -> None:
	base = ["podman", "--remote", "--url", url] if kind == "podman" else ["docker", "-H", url]
	run = lambda *argv: subprocess.run([*base, *argv], check=True, capture_output=True, text=True)  # noqa: E731
	for name in containers:
		run("create", "--init", "--name", name, "--label", f"{LABEL}=benchmark", IMAGE, "sleep", "300")
		run("start", name)
		assert run("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true"
		run("stop", "-t", str(STOP_TIMEOUT), name)
		run("rm", name)


def worker(contender: str, kind: str, url: str, count: int) -> None:
	containers = names(kind, contender, count)
	started = time.perf_counter()
	if contender == "press_selfhosted":
		ours(url, containers, CONCURRENCY)
	elif contender == "press_selfhosted-sequential":
		ours(url, containers, 1)
	elif contender == "docker-py":
		docker_py(url, containers, 1)
	elif contender == "docker-py-threads":
		docker_py(url, containers, CONCURRENCY)
	else:
		cli(url, kind, containers)
	elapsed = time.perf_counter() - started
	report(seconds=elapsed)


def main() -> int:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--count", type=int, default=50)
	parser.add_argument("--repeat", type=int, default=3)
	parser.add_argument("--worker", choices=CONTENDERS)
	parser.add_argument("--kind")
	parser.add_argument("--url")
	args = parser.parse_args()
	if args.worker:
		worker(args.worker, args.kind, args.url, args.count)
		return 0

	print(f"Container life cycle (create, start, inspect, stop, remove) x {args.count}, concurrency {CONCURRENCY} "
		f"where threaded, median of {args.repeat} runs, {os.cpu_count()} cores")
	print()
	print("| engine | contender | total (s) | containers/s | press_selfhosted is × faster | peak RSS (MiB) |")
	print("|---|---|---:|---:|---:|---:|")
	for kind, url, engine in engines():
		results = {}
		for contender in CONTENDERS:
			runs = []
			for _ in range(args.repeat):
				runs.append(run_worker(__file__, contender, "--kind", kind, "--url", url, "--count", str(args.count)))
				leftovers = engine.list([f"{LABEL}=benchmark"])
				assert not leftovers, f"{contender} left containers behind: {[c.name for c in leftovers]}"
			results[contender] = {"seconds": statistics.median(r["seconds"] for r in runs), "peak_kib": max(r["peak_kib"] for r in runs)}
		best = results["press_selfhosted"]["seconds"]
		for contender, r in results.items():
			print(f"| {kind} | {contender} | {r['seconds']:.2f} | {args.count / r['seconds']:.1f} | "
				f"{r['seconds'] / best:.1f} | {r['peak_kib'] / 1024:.1f} |")
	return 0


if __name__ == "__main__":
	try:
		sys.exit(main())
	except WorkerFailed as failed:
		sys.exit(str(failed))
