"""One scrape of every container's usage, N running containers, on Podman and on Docker:

- press_selfhosted: the container exporter's `container_metrics` (list, then inspect and a
  one-shot stats call per container, 16 at a time, and the Prometheus text);
- docker-py: what a client does today, `container.stats(stream=False)` for each container of
  `containers.list()`, one by one; Docker then waits for a second CPU sample per container;
- docker-py-one-shot: the same loop with `one_shot=True` (Docker answers at once).

The containers are the test image's `sleep` under an init process, created before the timed
runs and removed after. Each figure is the median of `--repeat` runs, each in its own process;
peak RSS is that process's. docker-py at 200 containers on Docker takes minutes: `--slow-max`
caps the counts it runs at (it is then left out, and said so).
Needs the engines' sockets and the busybox rootfs (see tools/bench.sh):

	python benches/metrics.py --counts 50,200
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -I leaves the script's folder off the path
from common import IMAGE, WorkerFailed, engines, report, run_worker  # noqa: E402

LABEL = "io.press-selfhosted.kind"
CONTENDERS = ("press_selfhosted", "docker-py-one-shot", "docker-py")


def worker(contender: str, url: str, count: int) -> None:
	started = time.perf_counter()
	if contender == "press_selfhosted":
		from press_selfhosted._native import container_metrics

		text = container_metrics([("bench", url, None)])
		seen = text.count("container_cpu_usage_seconds_total{")
	else:
		import docker

		client = docker.DockerClient(base_url=url, version="auto")
		one_shot = contender == "docker-py-one-shot"
		seen = sum(1 for c in client.containers.list() if c.stats(stream=False, **({"one_shot": True} if one_shot else {})))
	elapsed = time.perf_counter() - started
	if seen != count:
		raise SystemExit(f"{contender} saw {seen} running containers, expected {count}")
	report(seconds=elapsed)


def fill(url: str, count: int) -> None:
	"""Exactly `count` benchmark containers running on the engine."""
	from press_selfhosted.engine import Engine

	engine = Engine.connect(url)
	have = [c.name for c in engine.list([f"{LABEL}=benchmark-metrics"])]
	with ThreadPoolExecutor(8) as pool:
		list(pool.map(lambda name: engine.remove(name, force=True), have[count:]))
		missing = [f"erp-saas-cloud-c16-benchmark-metrics-{i}" for i in range(len(have), count)]
		list(pool.map(lambda name: engine.run(name, IMAGE, ["sleep", "3600"], labels={LABEL: "benchmark-metrics"},
			init=True), missing))


def main() -> int:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--counts", default="50,200")
	parser.add_argument("--repeat", type=int, default=3)
	parser.add_argument("--slow-max", type=int, default=200, help="the largest count docker-py (no one-shot) runs at")
	parser.add_argument("--worker", choices=CONTENDERS)
	parser.add_argument("--url")
	parser.add_argument("--count", type=int)
	args = parser.parse_args()
	if args.worker:
		worker(args.worker, args.url, args.count)
		return 0

	counts = [int(c) for c in args.counts.split(",")]
	print(f"One scrape of N running containers' usage, median of {args.repeat} runs, {os.cpu_count()} cores")
	print()
	print("| engine | containers | contender | scrape (s) | press_selfhosted is × faster | peak RSS (MiB) |")
	print("|---|---:|---|---:|---:|---:|")
	for kind, url, _ in engines():
		try:
			for count in counts:
				fill(url, count)
				results = {}
				for contender in CONTENDERS:
					if contender == "docker-py" and count > args.slow_max:
						continue
					runs = [run_worker(__file__, contender, "--url", url, "--count", str(count)) for _ in range(args.repeat)]
					results[contender] = {"seconds": statistics.median(r["seconds"] for r in runs),
						"peak_kib": max(r["peak_kib"] for r in runs)}
				best = results["press_selfhosted"]["seconds"]
				for contender, r in results.items():
					print(f"| {kind} | {count} | {contender} | {r['seconds']:.2f} | {r['seconds'] / best:.1f} | "
						f"{r['peak_kib'] / 1024:.1f} |", flush=True)
				if "docker-py" not in results:
					print(f"| {kind} | {count} | docker-py | not run (--slow-max {args.slow_max}) | | |", flush=True)
		finally:
			fill(url, 0)
	return 0


if __name__ == "__main__":
	try:
		sys.exit(main())
	except WorkerFailed as failed:
		sys.exit(str(failed))
