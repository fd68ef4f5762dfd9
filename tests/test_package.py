"""The package as bench and pip see it: the built wheel, the Frappe app files, the typed
surface of the native module, and `make demo`."""

import ast
import inspect
import os
import subprocess
import sys
import tomllib
import zipfile

import press_selfhosted
from conftest import ROOT
from press_selfhosted import _native, exceptions


def _wheel() -> zipfile.ZipFile:
	wheels = sorted((ROOT / "dist").glob("*.whl"))
	assert len(wheels) == 1, wheels
	return zipfile.ZipFile(wheels[0])


def test_the_wheel_is_abi3_for_python_310_and_carries_the_frappe_app():
	wheel = _wheel()
	assert "-cp310-abi3-" in wheel.filename
	names = set(wheel.namelist())
	for required in (
		"press_selfhosted/__init__.py",
		"press_selfhosted/hooks.py",
		"press_selfhosted/modules.txt",
		"press_selfhosted/patches.txt",
		"press_selfhosted/public/.gitkeep",
		"press_selfhosted/_native.pyi",
		"press_selfhosted/py.typed",
		"press_selfhosted/exceptions.py",
		"press_selfhosted/_native.abi3.so",
	):
		assert required in names, required


def test_the_installed_package_is_the_wheel_not_the_source_tree():
	assert "site-packages" in press_selfhosted.__file__, press_selfhosted.__file__


def test_app_metadata_agrees():
	project = tomllib.loads((ROOT / "pyproject.toml").read_text())
	assert project["project"]["version"] == press_selfhosted.__version__
	cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
	assert cargo["workspace"]["package"]["version"] == press_selfhosted.__version__
	assert project["tool"]["bench"]["frappe-dependencies"]["frappe"] == ">=15.0.0,<17.0.0"
	assert project["tool"]["maturin"]["module-name"] == "press_selfhosted._native"
	hooks = ast.parse((ROOT / "press_selfhosted" / "hooks.py").read_text())
	values = {t.id: ast.literal_eval(n.value) for n in hooks.body if isinstance(n, ast.Assign) for t in n.targets}
	assert values["app_name"] == "press_selfhosted"
	assert values["required_apps"] == ["frappe/press"]
	for path in _handlers(values):
		module, _, function = path.rpartition(".")
		source = ROOT / (module.replace(".", "/") + ".py")
		if not source.exists():
			source = ROOT / module.replace(".", "/") / "__init__.py"  # a package
		defined = {n.name for n in ast.parse(source.read_text()).body if isinstance(n, ast.FunctionDef)}
		assert function in defined, path
	assert (ROOT / "press_selfhosted" / "modules.txt").read_text().strip() == "Press Selfhosted"
	assert (ROOT / "press_selfhosted" / "press_selfhosted" / "__init__.py").exists()


def _handlers(hooks: dict) -> list[str]:
	"""Every dotted path of ours that the hooks name (doc_events, overrides, scheduler, before_*)."""
	found, pending = [], [hooks[k] for k in ("before_request", "before_job", "after_install", "after_uninstall", "doc_events",
		"override_whitelisted_methods", "scheduler_events")]
	while pending:
		value = pending.pop()
		if isinstance(value, dict):
			pending.extend(value.values())
		elif isinstance(value, list):
			pending.extend(value)
		elif value.startswith("press_selfhosted."):
			found.append(value)
	assert len(found) >= 20
	return found


def _stub() -> ast.Module:
	return ast.parse((ROOT / "press_selfhosted" / "_native.pyi").read_text())


def test_the_stub_declares_exactly_what_the_module_exports():
	stub = _stub()
	declared = {n.name for n in stub.body if isinstance(n, ast.ClassDef | ast.FunctionDef)}
	declared |= {n.target.id for n in stub.body if isinstance(n, ast.AnnAssign)}
	exported = {name for name in dir(_native) if not name.startswith("_")}
	assert declared == exported
	for cls in (n for n in stub.body if isinstance(n, ast.ClassDef)):
		members = {n.name for n in cls.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
		runtime = {name for name in dir(getattr(_native, cls.name)) if not name.startswith("_")}
		assert members == runtime, cls.name


def test_the_stub_signatures_match_the_runtime_ones():
	for fn in (n for n in _stub().body if isinstance(n, ast.FunctionDef)):
		stub_params = [a.arg for a in fn.args.args + fn.args.kwonlyargs]
		runtime_params = list(inspect.signature(getattr(_native, fn.name)).parameters)
		assert stub_params == runtime_params, fn.name


def test_native_errors_are_raised_as_the_python_classes():
	try:
		_native.inspect_certificate("not a certificate")
	except exceptions.CertificateError as e:
		assert type(e) is exceptions.CertificateError and "no PEM certificate" in str(e)
	else:
		raise AssertionError("no error raised")
	assert issubclass(exceptions.InternalError, exceptions.SelfHostedError)


def _demo(workdir, *args: str) -> str:
	env = os.environ
	demo = subprocess.run(
		[sys.executable, "-I", "-m", "press_selfhosted.demo", "--domain", "demo-cli.test", "--workdir", str(workdir),
			"--engine", env["PRESS_SELFHOSTED_TEST_PODMAN"], "--bench-image-tar", env["PRESS_SELFHOSTED_TEST_BENCH_IMAGE"],
			"--pdns-api", env["PRESS_SELFHOSTED_TEST_PDNS_API"],
			"--pdns-key-file", env["PRESS_SELFHOSTED_TEST_PDNS_KEY_FILE"], "--pdns-server", env["PRESS_SELFHOSTED_TEST_PDNS_DNS"],
			"--traefik-dir", env["PRESS_SELFHOSTED_TEST_TRAEFIK_DIR"], "--traefik-api", env["PRESS_SELFHOSTED_TEST_TRAEFIK_API"],
			"--https-port", env["PRESS_SELFHOSTED_TEST_TRAEFIK_HTTPS"].rsplit(":", 1)[1], *args],
		capture_output=True, text=True, timeout=600,
	)
	assert demo.returncode == 0, demo.stdout + demo.stderr
	return demo.stdout


def test_make_demo_proves_the_ca_and_serves_sites_made_by_the_executor_then_changes_nothing(tmp_path):
	first = _demo(tmp_path, "--sites", "2", "--keep")
	assert "PROOF OK" in first
	rows = [line.split()[:4] for line in first.splitlines()]
	for row in (
		["a.demo-cli.test", "wildcard", "accept", "accepted"],
		["evil.test", "wildcard", "refuse", "refused"],
		["a.demo-cli.test", "expired", "refuse", "refused"],
	):
		assert row in rows, first
	port = os.environ["PRESS_SELFHOSTED_TEST_TRAEFIK_HTTPS"].rsplit(":", 1)[1]
	for site in ("site01.demo-cli.test", "site02.demo-cli.test"):
		assert [site, f"https://{site}:{port}/login", "200", "OK"] in rows, first
	assert "2 made" in first and "SITES OK" in first
	assert "registry did not give" not in first, "no registry named: the image on the engine is used, not pulled"

	second = _demo(tmp_path, "--sites", "2", "--keep")
	assert "nothing changed: every site was already there" in second and "SITES OK" in second

	down = _demo(tmp_path, "--down")
	assert "torn down 2 sites and bench demo" in down and "routes left: 0, containers left: 0" in down


FRAPPE_SIDE = ("integrations", "commands", "patches", "press_selfhosted", "tests")


def _imports(path) -> set[str]:
	names = set()
	for node in ast.walk(ast.parse(path.read_text())):
		if isinstance(node, ast.Import):
			names |= {alias.name.split(".")[0] for alias in node.names}
		elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
			names.add(node.module.split(".")[0])
	return names


def test_plain_modules_never_import_frappe():
	"""The house rule of the package's docstring: only the Frappe side imports frappe."""
	package = ROOT / "press_selfhosted"
	plain = [p for p in package.rglob("*.py") if p.relative_to(package).parts[0] not in FRAPPE_SIDE]
	assert any(p.parent.name == "executor" for p in plain) and (package / "dns.py") in plain
	offenders = [str(p.relative_to(ROOT)) for p in plain if _imports(p) & {"frappe", "press"}]
	assert offenders == []
	# And the Frappe side really is the Frappe side: its glue imports frappe.
	assert "frappe" in _imports(package / "integrations" / "agent.py")


def _layout() -> dict[str, str]:
	"""README's Layout table: {path: what it says of it}."""
	import re

	readme = (ROOT / "README.md").read_text()
	section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
	rows = {}
	for line in section.splitlines():
		found = re.match(r"^\| `([^`]+)` \| (.*) \|$", line)
		if found:
			rows[found[1]] = found[2]
	return rows


def test_the_readme_layout_names_every_module_and_only_modules_that_exist():
	import re

	rows = _layout()
	assert {"press_selfhosted/", "press_selfhosted/executor/", "press_selfhosted/integrations/", "tools/"} <= set(rows)
	for path, what in rows.items():
		folder = ROOT / path
		assert folder.exists(), f"README's layout names {path}, which does not exist"
		named = set(re.findall(r"`([\w.-]+\.(?:py|pyi|sh|rs|yaml))`", what))
		for file in named:
			assert any(folder.rglob(file)), f"README's layout names {file} under {path}, which is not there"
		if path in ("press_selfhosted/", "press_selfhosted/executor/", "press_selfhosted/integrations/", "tools/"):
			present = {f.name for f in folder.iterdir() if f.suffix in (".py", ".sh") and f.name != "__init__.py"}
			assert present <= named, f"README's layout leaves out {sorted(present - named)} of {path}"
