"""Files and commands inside a bench container, through the engine only: the same calls work
on a local socket and on a remote engine, where the bench's volumes are not on this host."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence

from press_selfhosted.engine import Engine
from press_selfhosted.exceptions import ExecFailed, StepFailed
from press_selfhosted.executor.jobs import StepLog

BENCH_DIR = "/home/frappe/frappe-bench"
USER = "frappe"
# The bench user's PATH: Press's images install `bench` under ~/.local/bin.
ENV = {"PATH": "/home/frappe/.local/bin:/home/frappe/frappe-bench/env/bin:/usr/local/bin:/usr/bin:/bin"}

# Writes each file the PRESS_FILES variable names, atomically (rename), as the bench's user.
# The content travels in the environment, so it never shows in a command line.
_WRITER = (
	"import json, os\n"
	"for path, text in json.loads(os.environ['PRESS_FILES']).items():\n"
	"    os.makedirs(os.path.dirname(path), exist_ok=True)\n"
	"    tmp = path + '.tmp'\n"
	"    with open(tmp, 'w') as f:\n"
	"        f.write(text)\n"
	"    os.replace(tmp, path)\n"
)


# Prints the file, or exits 3 when there is none (any other failure is its own).
_READER = (
	"import sys\n"
	"try:\n"
	"    sys.stdout.write(open(sys.argv[1]).read())\n"
	"except FileNotFoundError:\n"
	"    sys.exit(3)\n"
)


def run(engine: Engine, container: str, argv: Sequence[str], log: StepLog | None, *, timeout: float = 600.0,
		workdir: str = BENCH_DIR) -> str:
	"""Runs argv in the container as the bench's user; a non-zero exit raises ExecFailed with
	the command's output. The command and its output go to the step (masked)."""
	command = log.command(argv) if log else None
	result = engine.exec(container, list(argv), user=USER, workdir=workdir, env=ENV, timeout=timeout,
		on_line=command.line if command else None)
	output = result.stdout + (result.stderr if result.stderr else "")
	if command:
		command.finish(output, result.exit_code)
	if result.exit_code:
		# Without a step to mask them, only the command's first words are shown.
		shown = log.mask(shlex.join(argv)) if log else shlex.join(argv[:2])
		tail = "\n".join(output.strip().splitlines()[-20:])
		if log:
			tail = log.mask(tail)
		raise ExecFailed(f"`{shown}` exited with {result.exit_code}: {tail}")
	return result.stdout


def write_files(engine: Engine, container: str, files: dict[str, str], log: StepLog | None) -> None:
	"""Writes {absolute path: text} in the container."""
	engine.exec(container, ["python3", "-c", _WRITER], user=USER, env={**ENV, "PRESS_FILES": json.dumps(files)},
		check=True, timeout=60)
	if log:
		log.say("wrote " + ", ".join(sorted(files)))


def read_json(engine: Engine, container: str, path: str) -> dict | None:
	"""The JSON object in the container's file, None when there is no such file. Anything else
	(an engine that fails, a file that cannot be read or is not a JSON object) raises."""
	result = engine.exec(container, ["python3", "-c", _READER, path], user=USER, env=ENV, timeout=60)
	if result.exit_code == 3:
		return None
	if result.exit_code:
		raise ExecFailed(f"could not read {path} in {container}: {result.stderr.strip()[-500:]}", result.exit_code)
	try:
		value = json.loads(result.stdout)
	except ValueError as e:
		raise StepFailed(f"{path} in {container} is not JSON: {e}") from None
	if not isinstance(value, dict):
		raise StepFailed(f"{path} in {container} is not a JSON object")
	return value
