"""What every benchmark does alike: run each contender as a worker in its own process (so its
peak memory is its own) and read back the one JSON line it prints; and the engines of
`make bench`, with the test image in each."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator

# The busybox image `make bench` imports from a root filesystem (no registry to pull from).
IMAGE = "erp-saas-cloud-c16-test/busybox:1"


def report(**figures: float) -> None:
	"""Prints a worker's figures with its peak RSS (itself and its children), in KiB."""
	peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
	print(json.dumps({**figures, "peak_kib": peak}))


class WorkerFailed(RuntimeError):
	pass


def run_worker(script: str, *args: str) -> dict:
	"""Runs `script --worker …` isolated (-I: the installed package, not the source tree) and
	returns the figures it reported."""
	proc = subprocess.run([sys.executable, "-I", script, "--worker", *args], capture_output=True, text=True)
	if proc.returncode != 0:
		raise WorkerFailed(f"{' '.join(args)} failed:\n{proc.stderr[-2000:]}")
	return json.loads(proc.stdout.strip().splitlines()[-1])


def engines() -> Iterator[tuple[str, str, object]]:
	"""(kind, url, Engine) of the Podman and the Docker `make bench` started, each holding IMAGE."""
	from press_selfhosted.engine import Engine
	from press_selfhosted.exceptions import ImageMissing

	for kind in ("podman", "docker"):
		url = os.environ[f"PRESS_SELFHOSTED_TEST_{kind.upper()}"]
		engine = Engine.connect(url)
		try:
			engine.image_id(IMAGE)
		except ImageMissing:
			engine.import_rootfs(os.environ["PRESS_SELFHOSTED_TEST_ROOTFS"], IMAGE)
		yield kind, url, engine
