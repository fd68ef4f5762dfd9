"""tools/preflight.sh: a missing program is named in one line, with where it comes from, before
any test would fail deep inside an engine call."""

import os
import subprocess
from pathlib import Path

from conftest import ROOT

PREFLIGHT = ROOT / "tools" / "preflight.sh"


def preflight(path: str) -> subprocess.CompletedProcess:
	env = {"PATH": path, "HOME": os.environ["HOME"], "PRESS_SELFHOSTED_CACHE": os.environ.get("PRESS_SELFHOSTED_CACHE", "/var/cache/press-selfhosted")}
	return subprocess.run(["/bin/bash", str(PREFLIGHT), "--with-garage"], env=env, capture_output=True, text=True, timeout=60)


def test_everything_make_test_needs_is_here():
	done = preflight(os.environ["PATH"])
	assert (done.returncode, done.stderr) == (0, "")


def test_a_missing_program_is_named_in_one_line(tmp_path):
	# This machine's programs, all but Podman, on a PATH of their own.
	bin_dir = tmp_path / "bin"
	bin_dir.mkdir()
	for directory in os.environ["PATH"].split(":"):
		if not Path(directory).is_dir():
			continue
		for program in Path(directory).iterdir():
			link = bin_dir / program.name
			if program.name != "podman" and not link.exists() and os.access(program, os.X_OK):
				link.symlink_to(program)
	done = preflight(str(bin_dir))
	assert done.returncode == 1
	assert done.stderr.splitlines() == [
		"preflight: missing Podman: podman (Debian package podman)",
		"preflight: 1 prerequisite(s) missing",
	]
