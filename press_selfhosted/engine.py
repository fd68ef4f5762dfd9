"""Container engines (Docker and Podman) for `bench console` and the Press integration.

	from press_selfhosted.engine import Engine, object_name, LABEL_KIND
	engine = Engine.connect()            # or Engine.connect("unix:///run/podman/podman.sock")
	port, = engine.allocate_ports()
	engine.run(object_name("bench", "b1"), "frappe/bench:v15", labels={LABEL_KIND: "bench"},
		ports={8000: port}, restart="always", init=True)
	engine.exec(object_name("bench", "b1"), ["bench", "--version"], on_line=print, check=True)
"""

from press_selfhosted._native import ContainerState, Engine, ExecResult, object_name

# Labels every platform object carries, so state can be rebuilt from the engine alone.
LABEL_KIND = "io.press-selfhosted.kind"
LABEL_SITE = "io.press-selfhosted.site"
LABEL_BENCH = "io.press-selfhosted.bench"

__all__ = ["LABEL_BENCH", "LABEL_KIND", "LABEL_SITE", "ContainerState", "Engine", "ExecResult", "object_name"]
