"""Container engines (Docker and Podman) for `bench console` and the Press integration.

	from press_selfhosted.engine import Engine, object_name, LABEL_KIND
	engine = Engine.connect()            # or Engine.connect("unix:///run/podman/podman.sock")
	port, = engine.allocate_ports()
	engine.run(object_name("bench", "b1"), "frappe/bench:v15", labels={LABEL_KIND: "bench"},
		ports={8000: port}, restart="always", init=True)
	engine.exec(object_name("bench", "b1"), ["bench", "--version"], on_line=print, check=True)
"""

import os

from press_selfhosted._native import ContainerState, Engine, ExecResult, object_name
from press_selfhosted.exceptions import EngineError

# Labels every platform object carries, so state can be rebuilt from the engine alone.
LABEL_KIND = "io.press-selfhosted.kind"
LABEL_SITE = "io.press-selfhosted.site"
LABEL_BENCH = "io.press-selfhosted.bench"
# Which platform (which Press) made it: engines may be shared.
LABEL_OWNER = "io.press-selfhosted.owner"

__all__ = ["LABEL_BENCH", "LABEL_KIND", "LABEL_OWNER", "LABEL_SITE", "ContainerState", "Engine", "ExecResult", "object_name"]


def engine_sockets() -> list[str]:
	"""Where Docker and Podman listen by default: rootful sockets, then the rootless ones."""
	runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
	return ["/var/run/docker.sock", "/run/podman/podman.sock", f"{runtime}/podman/podman.sock", f"{runtime}/docker.sock"]


def detect_engine(candidates: list[str] | None = None) -> Engine | None:
	"""The first socket among `candidates` (default: engine_sockets()) whose engine answers."""
	for path in candidates if candidates is not None else engine_sockets():
		if not os.path.exists(path):
			continue
		try:
			engine = Engine.connect(f"unix://{path}")
			engine.version  # noqa: B018 — connecting alone does not prove the daemon answers
			return engine
		except EngineError:
			continue  # a stale socket: its daemon is gone
	return None
