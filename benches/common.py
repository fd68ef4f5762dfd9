"""What every benchmark does alike: run each contender as a worker in its own process (so its
peak memory is its own) and read back the one JSON line it prints."""

from __future__ import annotations

import json
import resource
import subprocess
import sys


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
